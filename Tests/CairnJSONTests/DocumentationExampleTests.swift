import CairnJSON
import Testing

/// The examples in the public doc comments, so that they stay true.
@Suite struct DocumentationExampleTests {
    @Test func jsonValueExample() {
        let record: JSONValue = ["id": "r1", "tags": ["a", "b"], "size": 1024, "ok": true, "parent": nil]
        #expect(record["tags"]?[0]?.stringValue == "a")
        #expect(record["size"]?.numberValue == 1024.0)
    }

    @Test func jsonObjectExample() {
        var object: JSONObject = ["kind": "build", "step": 1]
        object["step"] = 2
        object["by"] = "ci"
        object["kind"] = nil
        #expect(object.keys == ["step", "by"])
        #expect(object["step"] == 2)
    }

    @Test func jsonParserExample() throws {
        let value = try JSONParser.parse(#"{"id": "r1", "size": 1024}"#)
        #expect(value["size"]?.numberValue == 1024.0)
    }

    @Test func jsonParseErrorExample() {
        let error = parseError("{\"id\": 1,\n \"id\": 2}")
        #expect(error?.code == .duplicateKey)
        #expect(error?.description == #"line 2, column 2: duplicate key "id""#)
    }

    @Test func jcsExample() throws {
        let leaf = try JCS.canonicalize(json: Array(#"{"b": 1.50, "a": [true, null]}"#.utf8))
        #expect(String(decoding: leaf, as: UTF8.self) == #"{"a":[true,null],"b":1.5}"#)
    }

    @Test func jsonWriterExample() {
        #expect(JSONWriter.compact(["b": 1, "a": [true]]) == #"{"b":1,"a":[true]}"#)
        #expect(JSONWriter.pretty(["b": 1, "a": [true]]) == "{\n  \"b\": 1,\n  \"a\": [\n    true\n  ]\n}")
    }
}
