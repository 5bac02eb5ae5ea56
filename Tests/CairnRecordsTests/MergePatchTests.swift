import CairnJSON
import CairnRecords
import Testing

/// RFC 7396 JSON Merge Patch.
@Suite struct MergePatchTests {
    /// RFC 7396 Appendix A: (original, patch, result), verbatim.
    static let appendixA: [(String, String, String)] = [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, #"null"#, #"null"#),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"e":null,"a":1}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ]

    @Test(arguments: appendixA.indices)
    func rfc7396AppendixAExamples(_ index: Int) {
        let (original, patch, result) = Self.appendixA[index]
        #expect(MergePatch.apply(json(patch), to: json(original)) == json(result))
    }

    @Test func rfc7396Section3Example() {
        let target = json(
            #"""
            {"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"},
             "tags": ["example", "sample"], "content": "This will be unchanged"}
            """#)
        let patch = json(
            #"""
            {"title": "Hello!", "phoneNumber": "+01-123-456-7890", "author": {"familyName": null},
             "tags": ["example"]}
            """#)
        let result = json(
            #"""
            {"title": "Hello!", "author": {"givenName": "John"}, "tags": ["example"],
             "content": "This will be unchanged", "phoneNumber": "+01-123-456-7890"}
            """#)
        #expect(MergePatch.apply(patch, to: target) == result)
    }

    @Test func membersKeepTheirOrderAndNewOnesFollowInPatchOrder() {
        let result = MergePatch.apply(json(#"{"z":1,"b":{"y":1}}"#), to: json(#"{"a":1,"b":{"x":1},"c":1}"#))
        #expect(result.objectValue?.keys == ["a", "b", "c", "z"])
        #expect(result["b"]?.objectValue?.keys == ["x", "y"])
    }

    @Test func theDocumentationExampleHolds() {
        let target: JSONValue = ["title": "Goodbye!", "author": ["givenName": "John", "familyName": "Doe"]]
        let patch: JSONValue = ["title": "Hello!", "author": ["familyName": nil]]
        #expect(MergePatch.apply(patch, to: target) == json(#"{"title":"Hello!","author":{"givenName":"John"}}"#))
    }

    @Test(arguments: appendixA.indices)
    func diffFindsAPatchForEveryAppendixAResult(_ index: Int) {
        let (original, _, result) = Self.appendixA[index]
        let patch = MergePatch.diff(from: json(original), to: json(result))
        #expect(patch.map { MergePatch.apply($0, to: json(original)) } == json(result))
    }

    @Test func diffLeavesOutUnchangedMembers() throws {
        let checkpoint = try example(.checkpoint)
        #expect(MergePatch.diff(from: checkpoint, to: checkpoint) == [:])
        let corrected = checkpoint.setting("$.work_item", to: "PAY-9").setting("$.risk.security", to: "high")
            .removing("$.agent_role")
        #expect(
            MergePatch.diff(from: checkpoint, to: corrected)
                == json(#"{"work_item":"PAY-9","risk":{"security":"high"},"agent_role":null}"#))
    }

    @Test func diffIsNilWhenTheTargetNeedsANullMember() {
        #expect(MergePatch.diff(from: json(#"{"a":1}"#), to: json(#"{"a":null}"#)) == nil)
        #expect(MergePatch.diff(from: json(#"{}"#), to: json(#"{"a":{"b":null}}"#)) == nil)
        #expect(MergePatch.diff(from: json(#"{"a":null}"#), to: json(#"{"a":null,"b":1}"#)) == json(#"{"b":1}"#))
        #expect(MergePatch.diff(from: json(#"{}"#), to: json(#"{"a":[null]}"#)) == json(#"{"a":[null]}"#))
    }
}
