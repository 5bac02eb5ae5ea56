import CairnJSON
import CairnTestSupport
import Foundation
import Testing

/// The `Tests/Vectors/jcs` directory, found relative to this file.
let jcsVectorDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()
    .deletingLastPathComponent()
    .appendingPathComponent("Vectors/jcs")

func readVector(_ relativePath: String) throws -> [UInt8] {
    Array(try Data(contentsOf: jcsVectorDirectory.appendingPathComponent(relativePath)))
}

/// Canonical text of a JSON text, parsed with `options`.
func canonical(_ text: String, options: JSONParser.Options = .default) throws -> String {
    String(decoding: try JCS.canonicalize(json: Array(text.utf8), options: options), as: UTF8.self)
}

/// The error `JSONParser` throws for `bytes`, or nil when it accepts them.
func parseError(_ bytes: [UInt8], options: JSONParser.Options = .default) -> JSONParseError? {
    do {
        _ = try JSONParser.parse(bytes, options: options)
        return nil
    } catch {
        return error
    }
}

func parseError(_ text: String, options: JSONParser.Options = .default) -> JSONParseError? {
    parseError(Array(text.utf8), options: options)
}

/// Checks that parsing fails with `code` at `line`/`column` (and `offset`, when given).
func expectRejection(
    _ bytes: [UInt8],
    _ code: JSONParseError.Code,
    line: Int,
    column: Int,
    offset: Int? = nil,
    detailContains fragment: String? = nil,
    options: JSONParser.Options = .default,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let error = parseError(bytes, options: options) else {
        Issue.record("expected \(code) but the input was accepted", sourceLocation: sourceLocation)
        return
    }
    #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
    #expect(error.column == column, "\(error)", sourceLocation: sourceLocation)
    if let offset { #expect(error.offset == offset, "\(error)", sourceLocation: sourceLocation) }
    if let fragment { #expect(error.detail.contains(fragment), "\(error)", sourceLocation: sourceLocation) }
    #expect(!error.description.contains("\n") && !error.description.contains("\r"), sourceLocation: sourceLocation)
    #expect(error.description.hasPrefix("line \(line), column \(column): "), sourceLocation: sourceLocation)
}

func expectRejection(
    _ text: String,
    _ code: JSONParseError.Code,
    line: Int,
    column: Int,
    offset: Int? = nil,
    detailContains fragment: String? = nil,
    options: JSONParser.Options = .default,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    expectRejection(
        Array(text.utf8), code, line: line, column: column, offset: offset, detailContains: fragment,
        options: options, sourceLocation: sourceLocation
    )
}

/// Generates random JSON values, and messy but valid JSON texts for them.
struct CorpusGenerator {
    var rng: SeededGenerator
    /// Whether numbers may be integers in [2^53, 10^21), which the default parser options reject.
    var allowImpreciseIntegers: Bool

    init(seed: UInt64, allowImpreciseIntegers: Bool) {
        rng = SeededGenerator(seed: seed)
        self.allowImpreciseIntegers = allowImpreciseIntegers
    }

    /// Characters that stress escaping, UTF-16 ordering and normalization.
    static let nastyScalars: [Unicode.Scalar] = [
        "\u{0}", "\u{1}", "\u{8}", "\t", "\n", "\u{B}", "\u{C}", "\r", "\u{1F}", "\"", "\\", "/", "\u{7F}",
        "\u{80}", "\u{9F}", "\u{A0}", "\u{E9}", "e", "\u{301}", "\u{2028}", "\u{2029}", "\u{D7FF}", "\u{E000}",
        "\u{FB33}", "\u{FEFF}", "\u{FFFD}", "\u{FFFF}", "\u{10000}", "\u{1F600}", "\u{1F602}", "\u{10FFFF}",
        "\u{20AC}", "a", "Z", "0", " ", "<", "\u{F6}",
    ]

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

    mutating func scalar() -> Unicode.Scalar {
        switch int(0...9) {
        case 0...4:
            return Self.nastyScalars[int(0...(Self.nastyScalars.count - 1))]
        case 5...6:
            return Unicode.Scalar(UInt8(int(0x20...0x7E)))
        case 7:
            return Unicode.Scalar(UInt32(int(0x80...0xD7FF)))!
        case 8:
            return Unicode.Scalar(UInt32(int(0xE000...0xFFFF)))!
        default:
            return Unicode.Scalar(UInt32(int(0x10000...0x10FFFF)))!
        }
    }

    mutating func string(maxLength: Int = 12) -> String {
        var s = String.UnicodeScalarView()
        for _ in 0..<int(0...maxLength) { s.append(scalar()) }
        return String(s)
    }

    mutating func double() -> Double {
        while true {
            let d: Double
            switch int(0...9) {
            case 0: d = Double(int(-1000...1000))
            case 1: d = Double(Int64.random(in: -9_007_199_254_740_991...9_007_199_254_740_991, using: &rng))
            case 2: d = Double(int(-99999...99999)) / [10.0, 100, 1000, 1e6, 1e9][int(0...4)]
            case 3: d = Double(sign: chance(0.5) ? .minus : .plus, exponent: int(-1074...1023), significand: 1)
            case 4:
                d =
                    [0.0, -0.0, .leastNonzeroMagnitude, 1e21, 1e-6, 1e-7, 9_007_199_254_740_991, 1e20, 0.1, 1e23][
                        int(0...9)]
            case 5: d = Double(bitPattern: UInt64(int(1...0xFFFFF)))  // subnormal
            default: d = Double(bitPattern: rng.next())
            }
            guard d.isFinite else { continue }
            if !allowImpreciseIntegers, d.magnitude >= 9_007_199_254_740_992, d.magnitude < 1e21 { continue }
            return d
        }
    }

    mutating func value(depth: Int = 0) -> JSONValue {
        let leaf = depth >= 4 || chance(0.35)
        switch leaf ? int(0...5) : int(6...7) {
        case 0: return .null
        case 1: return .bool(chance(0.5))
        case 2, 3: return .number(double())
        case 4, 5: return .string(string())
        case 6: return .array((0..<int(0...6)).map { _ in value(depth: depth + 1) })
        default:
            // Mostly small objects; now and then a large one (more than 24 members sort differently).
            var object = JSONObject()
            let count = depth <= 1 && chance(0.05) ? int(25...60) : int(0...7)
            for _ in 0..<count { object[string(maxLength: 4)] = value(depth: depth + 1) }
            return .object(object)
        }
    }

    // MARK: - Messy texts

    /// A valid JSON text for `value`, with random whitespace, escapes and number spellings.
    /// Number spellings always denote exactly the same decimal value as the shortest form of the double.
    mutating func messyText(_ value: JSONValue) -> String {
        var out = ""
        writeMessy(value, to: &out)
        return whitespace() + out + whitespace()
    }

    mutating func whitespace() -> String {
        ["", "", " ", "\t", "\n", "\r\n", "  \n    "][int(0...6)]
    }

    private mutating func writeMessy(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let d): out += numberSpelling(d)
        case .string(let s): out += messyString(s)
        case .array(let elements):
            out += "[" + whitespace()
            for (n, element) in elements.enumerated() {
                if n > 0 { out += whitespace() + "," + whitespace() }
                writeMessy(element, to: &out)
            }
            out += whitespace() + "]"
        case .object(let object):
            out += "{" + whitespace()
            for (n, member) in object.enumerated() {
                if n > 0 { out += "," + whitespace() }
                out += messyString(member.key) + whitespace() + ":" + whitespace()
                writeMessy(member.value, to: &out)
            }
            out += whitespace() + "}"
        }
    }

    mutating func messyString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            let v = scalar.value
            let mustEscape = v < 0x20 || scalar == "\"" || scalar == "\\"
            if mustEscape || chance(0.15) {
                out += escaped(scalar)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private mutating func escaped(_ scalar: Unicode.Scalar) -> String {
        let short: [Unicode.Scalar: String] = [
            "\"": #"\""#, "\\": #"\\"#, "/": #"\/"#, "\u{8}": #"\b"#, "\u{C}": #"\f"#, "\n": #"\n"#, "\r": #"\r"#,
            "\t": #"\t"#,
        ]
        if let form = short[scalar], chance(0.7) { return form }
        let upper = chance(0.5)
        func hex(_ unit: UInt32) -> String {
            let digits = String(unit, radix: 16, uppercase: upper)
            return "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
        }
        if scalar.value < 0x10000 { return hex(scalar.value) }
        let offset = scalar.value - 0x10000
        return hex(0xD800 + (offset >> 10)) + hex(0xDC00 + (offset & 0x3FF))
    }

    /// A literal for `d`: an integer when exact, else a rearrangement of its shortest digits.
    mutating func numberSpelling(_ d: Double) -> String {
        if d == 0 { return ["0", "-0", "0.0", "0e0", "-0.000E+12"][int(0...4)] }
        if d.magnitude < 9_007_199_254_740_992, d.rounded() == d, chance(0.7) {
            return String(Int64(d))
        }
        let (negative, digits, n) = shortestDigits(d)  // d = ±0.digits × 10^n
        let sign = negative ? "-" : ""
        let e = chance(0.5) ? "e" : "E"
        switch int(0...4) {
        case 0:
            return d.description.replacingOccurrences(of: "e", with: e)
        case 1:  // 0.DIGITSe±n
            return sign + "0." + digits + e + String(n)
        case 2:  // DIGITSe(n - k)
            return sign + digits + e + (chance(0.5) && n - digits.count >= 0 ? "+" : "") + String(n - digits.count)
        case 3:  // D.IGITS000e(n - 1)
            let rest = String(digits.dropFirst()) + String(repeating: "0", count: int(0...3))
            return sign + String(digits.prefix(1)) + "." + (rest.isEmpty ? "0" : rest) + e + String(n - 1)
        default:  // plain decimal when the exponent is small
            guard n > -30, n < 30 else { return d.description }
            if n <= 0 { return sign + "0." + String(repeating: "0", count: -n) + digits }
            if n >= digits.count { return sign + digits + String(repeating: "0", count: n - digits.count) + ".0" }
            return sign + String(digits.prefix(n)) + "." + String(digits.dropFirst(n))
        }
    }

    /// A random long literal (up to 25 digits) whose magnitude stays well inside the double range.
    mutating func randomLiteral() -> String {
        var digits = String(int(1...9))
        for _ in 0..<int(0...24) { digits += String(int(0...9)) }
        let point = int(1...digits.count)
        let mantissa = String(digits.prefix(point)) + "." + String(digits.dropFirst(point)) + "0"
        return (chance(0.5) ? "-" : "") + mantissa + "e" + String(int(-280...280))
    }
}

/// The shortest round-trip digits of a finite non-zero double: d = ±0.digits × 10^n.
func shortestDigits(_ d: Double) -> (negative: Bool, digits: String, n: Int) {
    let text = d.magnitude.description
    let parts = text.split(separator: "e")
    let mantissa = parts[0]
    let exponent = parts.count > 1 ? Int(parts[1])! : 0
    let pieces = mantissa.split(separator: ".", omittingEmptySubsequences: false)
    let whole = String(pieces[0])
    let fraction = pieces.count > 1 ? String(pieces[1]) : ""
    var all = Array(whole + fraction)
    var n = whole.count + exponent
    while all.first == "0" {
        all.removeFirst()
        n -= 1
    }
    while all.last == "0" { all.removeLast() }
    return (d < 0, String(all), n)
}
