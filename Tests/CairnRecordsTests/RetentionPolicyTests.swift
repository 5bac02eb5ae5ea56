import CairnJSON
import CairnRecords
import Foundation
import Testing

/// Retention policies (specs/retention.md §1): the parser, periods and the calendar arithmetic of due dates.
@Suite struct RetentionPolicyTests {
    static let spec = repositoryRoot.appendingPathComponent("specs/retention.md")

    /// The ```json blocks of specs/retention.md.
    static func jsonBlocks() throws -> [String] {
        let text = try String(contentsOf: spec, encoding: .utf8)
        return text.components(separatedBy: "```json\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
    }

    @Test func theSpecsPolicyParsesAndItsHoldValidates() throws {
        let blocks = try Self.jsonBlocks()
        #expect(blocks.count == 2)
        // The policy is examples/retention.json, verbatim.
        let example = try String(
            contentsOf: repositoryRoot.appendingPathComponent("examples/retention.json"), encoding: .utf8)
        #expect(blocks[0] == example)
        let policy = try RetentionPolicy(parsing: Array(blocks[0].utf8))
        #expect(
            policy.rules.map(\.name) == [
                "prompts-3y", "transcripts-18m", "raw-outputs-1y", "provider-prompts-90d", "provider-outputs-1y",
            ])
        #expect(policy.rules.map(\.line) == [4, 5, 6, 7, 8])
        #expect(policy.rule(for: .checkpoint, payload: "turns")?.eraseAfter == RetentionPeriod("P18M"))
        #expect(policy.rule(for: .modelCall, payload: "raw_output") == nil)
        // Every payload kind of the table is named once.
        #expect(policy.rules.count == RetentionPolicy.payloads.map(\.fields.count).reduce(0, +))
        #expect(found(try JSONParser.parse(blocks[1])) == [])
    }

    @Test func periodsAreParsedStrictly() {
        for good in ["P3Y", "P18M", "P90D", "P1Y6M", "P1Y2M3D", "P0D", "P10000Y"] {
            #expect(RetentionPeriod(good) != nil, "\(good)")
        }
        for bad in [
            "", "P", "3Y", "p3y", "P3y", "P03Y", "P1M1Y", "P1Y1Y", "P1W", "PT1H", "P1DT1H", "P-1Y", "P1.5Y", " P1Y",
            "P1Y ", "P10001Y", "P99999999D", "P١Y",
        ] {
            #expect(RetentionPeriod(bad) == nil, "\(bad)")
        }
        let period = RetentionPeriod("P1Y2M3D")
        #expect(period?.years == 1 && period?.months == 2 && period?.days == 3)
    }

    @Test func dueDatesFollowTheUTCCalendar() throws {
        func due(_ period: String, _ from: String) throws -> String? {
            let start = try #require(Timestamp.parse(from))
            return RetentionPeriod(period)!.end(from: start).map(Timestamp.format)
        }
        #expect(try due("P1Y", "2024-02-29T10:00:00.5Z") == "2025-02-28T10:00:00.500Z")
        #expect(try due("P4Y", "2024-02-29T10:00:00Z") == "2028-02-29T10:00:00Z")
        #expect(try due("P1M", "2026-01-31T23:59:59Z") == "2026-02-28T23:59:59Z")
        #expect(try due("P13M", "2026-12-15T00:00:00Z") == "2028-01-15T00:00:00Z")
        #expect(try due("P1M1D", "2026-01-31T00:00:00Z") == "2026-03-01T00:00:00Z")
        #expect(try due("P90D", "2026-11-20T09:14:03Z") == "2027-02-18T09:14:03Z")
        #expect(try due("P0D", "2026-11-20T09:14:03Z") == "2026-11-20T09:14:03Z")
        #expect(try due("P3Y", "9998-01-01T00:00:00Z") == nil)
        #expect(try due("P10000Y", "0000-01-01T00:00:00Z") == nil)
    }

    @Test func errorsNameTheLineAndTheMember() {
        func error(_ text: String) -> String? {
            do {
                _ = try RetentionPolicy(parsing: Array(text.utf8))
                return nil
            } catch {
                return error.description
            }
        }
        #expect(error(#"{"format":"cairn-retention/1","rules":[]}"#) == nil)
        #expect(
            error("{\n\"format\":\"cairn-retention/1\",\n\"rules\":5}")
                == "line 3: $.rules: expected an array of rules, found 5")
        #expect(
            error(
                "{\"format\":\"cairn-retention/1\",\"rules\":[\n{\"name\":\"x\\u0007\",\"record_type\":\"checkpoint\"}]}"
            )?
            .hasPrefix("line 2: $.rules[0].name: expected no control character") == true)
        #expect(
            error("{\"format\":\"cairn-retention/1\",\n\"x-note\":1,\"rules\":[]}")
                == "line 2: $[\"x-note\"]: unknown member (known: format, rules)")
        #expect(
            error(
                "{\"format\":\"cairn-retention/1\",\"rules\":[\n\n{\"name\":\"a\",\"record_type\":\"checkpoint\",\n\"payload\":\"prompt\",\"erase_after\":\"\"}]}"
            )
                == "line 4: $.rules[0].erase_after: expected a non-empty string, found \"\"")
        #expect(error("{\"format\":1}") == "line 1: $.format: expected \"cairn-retention/1\", found 1")
        // Lines end as JSONParser ends them: LF, CR LF or a lone CR.
        for end in ["\n", "\r\n", "\r"] {
            let text = ["{", "\"format\":\"cairn-retention/1\",", "\"rules\":", "7}"].joined(separator: end)
            #expect(error(text) == "line 4: $.rules: expected an array of rules, found 7", "\(end.debugDescription)")
        }
        #expect(error("\r.r.9\u{0}")?.hasPrefix("line 2: $: not JSON") == true)
        #expect(error("\n\n  nul")?.hasPrefix("line 3: $: not JSON: column 6: expected 'null'") == true)
    }

    @Test func anyJSONTextGivesAPolicyOrAnError() throws {
        // The line map never traps on what the parser accepts, escapes and deep nesting included.
        let texts = [
            #"{"format":"cairn-retention/1","rules":[{"name":"a\"b","record_type":"checkpoint","payload":"prompt","erase_after":"P1Y"}]}"#,
            #"{"format":"cairn-retention/1","rules":[[[[[[[[[[[[[]]]]]]]]]]]]]}"#,
            #"{"\u0066ormat":"cairn-retention/1","rules":[{"na\u006de":"a","record_type":"checkpoint","payload":"prompt","erase_after":"P1Y"}]}"#,
            "\"just a string\"", "[1,2,{\"a\":[true,false,null]}]", "  {}  ",
        ]
        for text in texts {
            _ = try? RetentionPolicy(parsing: Array(text.utf8))
        }
        let escaped = try RetentionPolicy(parsing: Array(texts[2].utf8))
        #expect(escaped.rules.first?.name == "a")
    }
}
