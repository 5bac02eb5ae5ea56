import CairnJSON
import Foundation
import Testing

/// The published RFC 8785 test data (cyberphone/json-canonicalization) and the RFC's own examples.
@Suite struct JCSVectorTests {
    static let names = ["arrays", "french", "structures", "unicode", "values", "weird"]

    @Test(arguments: names)
    func inputCanonicalizesToExpectedOutputBytes(name: String) throws {
        let input = try readVector("input/\(name).json")
        let expected = try readVector("output/\(name).json")
        let hex = try String(decoding: readVector("outhex/\(name).txt"), as: UTF8.self)
        let hexBytes = hex.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" }).map {
            UInt8($0, radix: 16)!
        }

        #expect(hexBytes == expected, "outhex and output disagree for \(name)")
        let actual = try JCS.canonicalize(json: input)
        #expect(actual == expected, "\(String(decoding: actual, as: UTF8.self))")
        let (value, teed) = try input.withUnsafeBytes { try JCS.parseAndCanonicalize(json: $0) }
        let fromValue = try JCS.canonicalize(value)
        #expect(teed == expected && fromValue == expected, "parseAndCanonicalize: \(name)")
        #expect(JCS.isCanonical(json: expected))
    }

    @Test func es6NumberSerializationMatchesAllTenThousandVectorLines() throws {
        let text = String(decoding: try readVector("es6_numbers_first10000.txt"), as: UTF8.self)
        var checked = 0
        var failures: [String] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ",", maxSplits: 1)
            let bits = UInt64(fields[0], radix: 16)!
            let expected = String(fields[1])
            let actual = JCS.serialize(number: Double(bitPattern: bits))
            if actual != expected { failures.append("\(fields[0]): expected \(expected), got \(actual)") }
            checked += 1
        }
        #expect(checked == 10_000)
        #expect(failures.isEmpty, "\(failures.prefix(10))")
    }

    /// RFC 8785 Appendix B, "Number Serialization Samples".
    @Test(
        arguments: [
            (0x0000_0000_0000_0000, "0"),
            (0x8000_0000_0000_0000, "0"),
            (0x0000_0000_0000_0001, "5e-324"),
            (0x8000_0000_0000_0001, "-5e-324"),
            (0x7FEF_FFFF_FFFF_FFFF, "1.7976931348623157e+308"),
            (0xFFEF_FFFF_FFFF_FFFF, "-1.7976931348623157e+308"),
            (0x4340_0000_0000_0000, "9007199254740992"),
            (0xC340_0000_0000_0000, "-9007199254740992"),
            (0x4430_0000_0000_0000, "295147905179352830000"),
            (0x44B5_2D02_C7E1_4AF5, "9.999999999999997e+22"),
            (0x44B5_2D02_C7E1_4AF6, "1e+23"),
            (0x44B5_2D02_C7E1_4AF7, "1.0000000000000001e+23"),
            (0x444B_1AE4_D6E2_EF4E, "999999999999999700000"),
            (0x444B_1AE4_D6E2_EF4F, "999999999999999900000"),
            (0x444B_1AE4_D6E2_EF50, "1e+21"),
            (0x3EB0_C6F7_A0B5_ED8C, "9.999999999999997e-7"),
            (0x3EB0_C6F7_A0B5_ED8D, "0.000001"),
            (0x41B3_DE43_5555_5553, "333333333.3333332"),
            (0x41B3_DE43_5555_5554, "333333333.33333325"),
            (0x41B3_DE43_5555_5555, "333333333.3333333"),
            (0x41B3_DE43_5555_5556, "333333333.3333334"),
            (0x41B3_DE43_5555_5557, "333333333.33333343"),
            (0xBECB_F647_612F_3696, "-0.0000033333333333333333"),
            (0x4314_3FF3_C1CB_0959, "1424953923781206.2"),
        ] as [(UInt64, String)])
    func rfc8785AppendixBNumberSamples(bits: UInt64, expected: String) {
        #expect(JCS.serialize(number: Double(bitPattern: bits)) == expected)
    }

    /// RFC 8785 Appendix B: NaN and Infinity have no JSON form and are errors.
    @Test(arguments: [0x7FFF_FFFF_FFFF_FFFF, 0x7FF0_0000_0000_0000, 0xFFF0_0000_0000_0000] as [UInt64])
    func rfc8785AppendixBNonFiniteSamplesAreErrors(bits: UInt64) {
        #expect(throws: JCSError.self) { try JCS.canonicalize(.number(Double(bitPattern: bits))) }
    }

    /// RFC 8785 §3.2.3, the sorting example.
    @Test func rfc8785SortingExample() throws {
        let input = #"""
            {
               "\u20ac": "Euro Sign",
               "\r": "Carriage Return",
               "\ufb33": "Hebrew Letter Dalet With Dagesh",
               "1": "One",
               "\ud83d\ude00": "Emoji: Grinning Face",
               "\u0080": "Control",
               "\u00f6": "Latin Small Letter O With Diaeresis"
            }
            """#
        let expected =
            #"{"\r":"Carriage Return","1":"One","\#u{80}":"Control","ö":"Latin Small Letter O With Diaeresis","#
            + #""€":"Euro Sign","😀":"Emoji: Grinning Face","דּ":"Hebrew Letter Dalet With Dagesh"}"#
        #expect(try canonical(input) == expected)
    }

    /// RFC 8785 §3.2.4, the UTF-8 generation example (also the `values` vector), checked byte by byte.
    @Test func rfc8785Utf8GenerationExample() throws {
        let input =
            #"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"#
            + #""string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}"#
        let hex = """
            7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72 75 65 2c 66 61 6c 73 65 5d 2c 22 6e
            75 6d 62 65 72 73 22 3a 5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31 65 2b 33 30
            2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37 5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24
            5c 75 30 30 30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d
            """
        let expected = hex.split(whereSeparator: \.isWhitespace).map { UInt8($0, radix: 16)! }
        #expect(try JCS.canonicalize(json: Array(input.utf8)) == expected)
    }
}
