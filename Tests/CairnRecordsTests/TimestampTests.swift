import CairnRecords
import Foundation
import Testing

/// `Timestamp`: RFC 3339 in UTC, to and from milliseconds since 1970-01-01T00:00:00Z.
@Suite struct TimestampTests {
    @Test func wholeSecondsInUTCParse() {
        #expect(Timestamp.parse("2026-11-20T09:14:03Z") == 1_795_166_043_000)
        #expect(Timestamp.parse("1970-01-01T00:00:00Z") == 0)
        #expect(Timestamp.parse("1969-12-31T23:59:59Z") == -1000)
        #expect(Timestamp.parse("0000-01-01T00:00:00Z") == Timestamp.range.lowerBound)
    }

    @Test func fractionalSecondsAreTruncatedToMilliseconds() {
        #expect(Timestamp.parse("2026-11-20T09:14:03.123Z") == 1_795_166_043_123)
        #expect(Timestamp.parse("2026-11-20T09:14:03.1Z") == 1_795_166_043_100)
        #expect(Timestamp.parse("2026-11-20T09:14:03.12Z") == 1_795_166_043_120)
        #expect(Timestamp.parse("2026-11-20T09:14:03.123999999Z") == 1_795_166_043_123)
        #expect(Timestamp.parse("9999-12-31T23:59:59.999Z") == Timestamp.range.upperBound)
    }

    @Test func numericOffsetsAreRejectedEvenForUTC() {
        for text in ["2026-11-20T09:14:03+01:00", "2026-11-20T09:14:03+00:00", "2026-11-20T09:14:03-00:00"] {
            #expect(Timestamp.parse(text) == nil, "\(text)")
        }
    }

    @Test func lowercaseTAndZAreRejected() {
        // RFC 3339 §5.6 allows them; a ledger keeps one spelling per instant.
        #expect(Timestamp.parse("2026-11-20t09:14:03Z") == nil)
        #expect(Timestamp.parse("2026-11-20T09:14:03z") == nil)
    }

    @Test func datesThatDoNotExistAreRejected() {
        for text in [
            "2026-02-30T00:00:00Z", "2026-04-31T00:00:00Z", "2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z",
        ] {
            #expect(Timestamp.parse(text) == nil, "\(text)")
        }
        #expect(Timestamp.parse("2000-02-29T00:00:00Z") != nil)
        #expect(Timestamp.parse("2028-02-29T00:00:00Z") != nil)
        #expect(Timestamp.parse("0000-02-29T00:00:00Z") != nil)
    }

    @Test func leapSecondsAreRejected() {
        #expect(Timestamp.parse("2016-12-31T23:59:60Z") == nil)
    }

    @Test func timesOfDayMustExist() {
        for text in ["2026-11-20T24:00:00Z", "2026-11-20T23:60:00Z", "2026-11-20T23:59:61Z"] {
            #expect(Timestamp.parse(text) == nil, "\(text)")
        }
    }

    @Test func otherSpellingsAreRejected() {
        for text in [
            "2026-11-20 09:14:03Z", "2026-11-20T09:14Z", "2026-11-20", "2026-11-20T09:14:03", "2026-11-20T09:14:03.Z",
            "2026-11-20T09:14:03.1234567890Z", "2026-11-20T09:14:03Z\n", " 2026-11-20T09:14:03Z",
            "+2026-11-20T09:14:03Z",
            "12026-11-20T09:14:03Z", "2026-1-20T09:14:03Z", "2026-11-20T9:14:03Z", "２０２６-11-20T09:14:03Z", "",
        ] {
            #expect(Timestamp.parse(text) == nil, "\(text)")
        }
    }

    @Test func formatWritesMillisecondsOnlyWhenNeeded() {
        #expect(Timestamp.format(1_795_166_043_000) == "2026-11-20T09:14:03Z")
        #expect(Timestamp.format(1_795_166_043_120) == "2026-11-20T09:14:03.120Z")
        #expect(Timestamp.format(-1) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.format(0) == "1970-01-01T00:00:00Z")
    }

    @Test func formatClampsToYearsZeroToNineThousandNineHundredNinetyNine() {
        #expect(Timestamp.format(.max) == "9999-12-31T23:59:59.999Z")
        #expect(Timestamp.format(.min) == "0000-01-01T00:00:00Z")
    }

    @Test func parseInvertsFormatAcrossTheWholeRange() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let milliseconds = Int64.random(in: Timestamp.range, using: &generator)
            #expect(Timestamp.parse(Timestamp.format(milliseconds)) == milliseconds)
        }
    }

    @Test func formatAgreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            // 1900 to 2200: whole milliseconds, so that the Double conversion is exact enough.
            let milliseconds = Int64.random(in: -2_208_988_800_000...7_258_118_400_000, using: &generator)
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            var expected = formatter.string(from: date)
            if expected.hasSuffix(".000Z") { expected = String(expected.dropLast(5)) + "Z" }
            #expect(Timestamp.format(milliseconds) == expected)
        }
    }
}
