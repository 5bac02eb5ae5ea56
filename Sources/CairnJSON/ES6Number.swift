// ECMAScript Number::toString (ECMA-262 §6.1.6.1.20, used by RFC 8785 §3.2.2.3) for finite doubles.
//
// The shortest digits that round-trip (and, among those, the closest to the exact value) come from the
// standard library's `Double.description` (SwiftDtoa); this file only moves the decimal point and
// writes the exponent the way ECMAScript does.

/// Appends the ES6 text of the finite double `value` to `out`.
internal func appendES6Number(_ value: Double, to out: inout ByteWriter) {
    precondition(value.isFinite, "ES6 number serialization requires a finite value")
    if value == 0 {  // both +0 and -0
        out.append(UInt8(ascii: "0"))
        return
    }
    let magnitude = value.magnitude
    if magnitude < 9_007_199_254_740_992, magnitude.rounded(.towardZero) == magnitude {
        // An integer below 2^53 is its own shortest round-trip form.
        if value < 0 { out.append(UInt8(ascii: "-")) }
        appendDecimal(UInt64(magnitude), to: &out)
        return
    }

    // Split the shortest round-trip form into digits d1...dk and n, where value = 0.d1...dk × 10^n.
    // `description` gives at most 17 significant digits, e.g. "1.2345e-07", "123.45", "1e+21".
    var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 32 bytes of digits
    var text = magnitude.description
    text.withUTF8 { utf8 in
        withUnsafeMutableBytes(of: &storage) { digits in
            var count = 0
            var pointPosition = -1  // digits before the decimal point
            var exponent = 0
            var exponentNegative = false
            var inExponent = false
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    if inExponent {
                        exponent = exponent * 10 + Int(byte - UInt8(ascii: "0"))
                    } else if count < digits.count {
                        digits[count] = byte
                        count += 1
                    }
                case UInt8(ascii: "."):
                    pointPosition = count
                case UInt8(ascii: "e"), UInt8(ascii: "E"):
                    if pointPosition < 0 { pointPosition = count }
                    inExponent = true
                case UInt8(ascii: "-"):
                    exponentNegative = true
                default:
                    break  // "+"
                }
            }
            if pointPosition < 0 { pointPosition = count }
            var first = 0
            while first < count - 1, digits[first] == UInt8(ascii: "0") { first += 1 }
            var last = count
            while last > first + 1, digits[last - 1] == UInt8(ascii: "0") { last -= 1 }
            let n = pointPosition + (exponentNegative ? -exponent : exponent) - first
            let significant = UnsafeRawBufferPointer(rebasing: digits[first..<last])
            if value < 0 { out.append(UInt8(ascii: "-")) }
            appendES6Layout(significant, n: n, to: &out)
        }
    }
}

/// Lays out the significant digits `digits` (d1...dk) of 0.d1...dk × 10^n as ECMAScript does.
private func appendES6Layout(_ digits: UnsafeRawBufferPointer, n: Int, to out: inout ByteWriter) {
    let k = digits.count
    if k <= n, n <= 21 {
        // Integer: the digits, then n − k zeros.
        out.append(digits)
        out.append(repeating: UInt8(ascii: "0"), count: n - k)
    } else if 0 < n, n <= 21 {
        // Decimal point inside the digits.
        out.append(UnsafeRawBufferPointer(rebasing: digits[..<n]))
        out.append(UInt8(ascii: "."))
        out.append(UnsafeRawBufferPointer(rebasing: digits[n...]))
    } else if -6 < n, n <= 0 {
        // "0.", −n zeros, then the digits.
        out.append(UInt8(ascii: "0"))
        out.append(UInt8(ascii: "."))
        out.append(repeating: UInt8(ascii: "0"), count: -n)
        out.append(digits)
    } else {
        // Exponential: d1[.d2...dk]e±(n − 1).
        out.append(digits[0])
        if k > 1 {
            out.append(UInt8(ascii: "."))
            out.append(UnsafeRawBufferPointer(rebasing: digits[1...]))
        }
        out.append(UInt8(ascii: "e"))
        out.append(n - 1 < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        appendDecimal(UInt64((n - 1).magnitude), to: &out)
    }
}

/// Appends the decimal digits of `value`.
internal func appendDecimal(_ value: UInt64, to out: inout ByteWriter) {
    if value < 10 {
        out.append(UInt8(ascii: "0") + UInt8(value))
        return
    }
    var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
    var remaining = value
    var count = 0
    withUnsafeMutableBytes(of: &buffer) { digits in
        var position = digits.count
        while remaining > 0 {
            position -= 1
            digits[position] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
            count += 1
        }
        out.append(UnsafeRawBufferPointer(rebasing: digits[position...]))
    }
}
