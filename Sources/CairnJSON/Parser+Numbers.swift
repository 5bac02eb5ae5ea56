// Number tokens: strict RFC 8259 grammar, correctly rounded conversion, and the range policies.

/// The largest integer such that it and all smaller ones are exactly representable: 2^53 − 1.
private let maxExactInteger: UInt64 = 9_007_199_254_740_991

/// A parsed number.
internal struct NumberToken {
    let value: Double
    /// True when the literal is an integer of at most 15 digits other than `-0`: its text is then
    /// exactly its ES6 (canonical) form.
    let isCanonicalLiteral: Bool
}

extension Parser where Sink: ~Copyable {
    /// Parses the number starting at `index` (a `-` or a digit); leaves `index` after it.
    mutating func parseNumber() throws(JSONParseError) -> NumberToken {
        let start = index
        let end = input.count
        var i = start
        let negative = input[i] == UInt8(ascii: "-")
        if negative { i += 1 }

        // Digits are accumulated into `significand` from the first non-zero digit on, up to 19 of them.
        var significand: UInt64 = 0
        var significantDigits = 0
        var droppedDigits = 0  // integer-part digits beyond the 19 kept
        var fractionDigits = 0  // fraction digits kept in `significand`
        var hasNonZeroDigit = false

        guard i < end else { throw fail(.unexpectedEnd, at: i, "expected a digit after '-', found end of input") }
        let first = input[i]
        guard isDigit(first) else {
            throw fail(.invalidNumber, at: i, "expected a digit after '-', found \(try describe(at: i))")
        }
        if first == UInt8(ascii: "0") {
            i += 1
            if i < end, isDigit(input[i]) {
                throw fail(.invalidNumber, at: start, "leading zeros are not allowed in numbers")
            }
        } else {
            while i < end, isDigit(input[i]) {
                if significantDigits < 19 {
                    significand = significand &* 10 &+ UInt64(input[i] &- UInt8(ascii: "0"))
                    significantDigits += 1
                } else {
                    droppedDigits += 1
                }
                i += 1
            }
            hasNonZeroDigit = true
        }
        let integerDigits = significantDigits + droppedDigits

        var isIntegerLiteral = true
        if i < end, input[i] == UInt8(ascii: ".") {
            isIntegerLiteral = false
            i += 1
            guard i < end else { throw fail(.unexpectedEnd, at: i, "expected a digit after '.', found end of input") }
            guard isDigit(input[i]) else {
                throw fail(.invalidNumber, at: i, "expected a digit after '.', found \(try describe(at: i))")
            }
            while i < end, isDigit(input[i]) {
                let digit = input[i] &- UInt8(ascii: "0")
                if digit != 0 { hasNonZeroDigit = true }
                if significantDigits < 19 {
                    if significantDigits > 0 || digit != 0 {
                        significand = significand &* 10 &+ UInt64(digit)
                        significantDigits += 1
                    }
                    fractionDigits += 1
                }
                i += 1
            }
        }

        var exponent = 0
        if i < end, input[i] | 0x20 == UInt8(ascii: "e") {
            isIntegerLiteral = false
            i += 1
            var exponentNegative = false
            if i < end, input[i] == UInt8(ascii: "+") || input[i] == UInt8(ascii: "-") {
                exponentNegative = input[i] == UInt8(ascii: "-")
                i += 1
            }
            guard i < end else {
                throw fail(.unexpectedEnd, at: i, "expected a digit in the exponent, found end of input")
            }
            guard isDigit(input[i]) else {
                throw fail(.invalidNumber, at: i, "expected a digit in the exponent, found \(try describe(at: i))")
            }
            while i < end, isDigit(input[i]) {
                exponent = min(exponent * 10 + Int(input[i] &- UInt8(ascii: "0")), 1_000_000)
                i += 1
            }
            if exponentNegative { exponent = -exponent }
        }
        index = i

        if isIntegerLiteral {
            let exact = integerDigits < 16 || (integerDigits == 16 && significand <= maxExactInteger)
            if exact {
                let magnitude = Double(significand)
                let isCanonical = integerDigits <= 15 && !(negative && significand == 0)
                return NumberToken(value: negative ? -magnitude : magnitude, isCanonicalLiteral: isCanonical)
            }
            if options.rejectImpreciseIntegers {
                throw fail(
                    .impreciseInteger, at: start,
                    "integer \(numberText(start..<i)) is outside ±9007199254740991 (2^53 − 1) and cannot be "
                        + "stored exactly (I-JSON, RFC 7493 §2.2); send it as a string"
                )
            }
        }

        // Exact fast path (Clinger): at most 15 significant digits and a power of ten that is itself exact.
        let value: Double
        let scale = exponent - fractionDigits + droppedDigits
        if significantDigits <= 15, droppedDigits == 0, scale >= -22, scale <= 22 {
            let magnitude =
                scale >= 0
                ? Double(significand) * powersOfTen[scale]
                : Double(significand) / powersOfTen[-scale]
            value = negative ? -magnitude : magnitude
        } else {
            value = try convertSlowly(start..<i, hasNonZeroDigit: hasNonZeroDigit)
        }

        // Every double in [2^53, 10^21) is an integer that RFC 8785 writes as a plain integer literal
        // (e.g. 1.5e17 becomes 150000000000000000); reject it here too, so that canonical output always
        // parses again under the same options.
        if options.rejectImpreciseIntegers, value.magnitude >= 9_007_199_254_740_992, value.magnitude < 1e21 {
            throw fail(
                .impreciseInteger, at: start,
                "number \(abbreviated(numberText(start..<i))) is an integer outside ±9007199254740991 "
                    + "(2^53 − 1) and would be canonicalized as an inexact integer literal "
                    + "(I-JSON, RFC 7493 §2.2); send it as a string"
            )
        }
        return NumberToken(value: value, isCanonicalLiteral: false)
    }

    /// Correctly rounded conversion through the standard library (strtod), with range checks.
    private func convertSlowly(_ range: Range<Int>, hasNonZeroDigit: Bool) throws(JSONParseError) -> Double {
        let text = numberText(range)
        guard let value = Double(text) else {
            throw fail(.invalidNumber, at: range.lowerBound, "number \(text) could not be converted")
        }
        if value.isInfinite {
            throw fail(
                .numberOutOfRange, at: range.lowerBound,
                "number \(abbreviated(text)) is too large for a double (largest is about 1.7976931348623157e+308)"
            )
        }
        if value == 0, hasNonZeroDigit {
            throw fail(
                .numberOutOfRange, at: range.lowerBound,
                "number \(abbreviated(text)) is too small for a double and would become zero "
                    + "(smallest is 5e-324)"
            )
        }
        return value
    }

    private func numberText(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: input[range]), as: UTF8.self)
    }
}

@inline(__always)
private func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

/// The text itself, or its first and last 20 characters when it is long.
private func abbreviated(_ text: String) -> String {
    guard text.utf8.count > 48 else { return text }
    return String(text.prefix(20)) + "…" + String(text.suffix(20))
}

/// 10^0 ... 10^22, all exactly representable as doubles.
private let powersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]
