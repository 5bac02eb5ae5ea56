import CairnJSON
import Testing

/// `JSONValue` and `JSONObject` semantics.
@Suite struct JSONValueTests {
    @Test func settingAKeyReplacesInPlaceOrAppends() {
        var object: JSONObject = ["a": 1, "b": 2]
        object["a"] = 10
        object["c"] = 3
        #expect(object.keys == ["a", "b", "c"])
        #expect(object["a"] == 10)
        #expect(object.count == 3)
    }

    @Test func settingNilRemovesAndKeepsTheOrderOfTheRest() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["b"] = nil
        #expect(object.keys == ["a", "c"])
        #expect(object.removeValue(forKey: "a") == 1)
        #expect(object.removeValue(forKey: "zz") == nil)
        #expect(object.members.map(\.key) == ["c"])
    }

    @Test func initializerWithRepeatedKeysKeepsTheLastValueAtTheFirstPosition() {
        let object = JSONObject([("a", 1), ("b", 2), ("a", 3)])
        #expect(object.keys == ["a", "b"])
        #expect(object["a"] == 3)
    }

    @Test func keysAreComparedExactlyNotByCanonicalEquivalence() {
        var object = JSONObject()
        object["\u{E9}"] = 1
        object["e\u{301}"] = 2
        #expect(object.count == 2)
        #expect(JSONValue.string("\u{E9}") != JSONValue.string("e\u{301}"))
    }

    @Test func largeObjectsStayConsistentThroughMutation() {
        var object = JSONObject()
        for n in 0..<100 { object["k\(n)"] = .number(Double(n)) }
        for n in stride(from: 0, to: 100, by: 3) { object["k\(n)"] = nil }
        object["k1"] = "one"
        for n in 0..<100 {
            let expected: JSONValue? = n == 1 ? "one" : (n % 3 == 0 ? nil : .number(Double(n)))
            #expect(object["k\(n)"] == expected)
        }
        #expect(object.count == 66)
        #expect(object.keys.first == "k1")
    }

    @Test func objectEqualityAndHashIgnoreMemberOrder() {
        let a: JSONValue = ["x": 1, "y": [true, nil]]
        let b: JSONValue = ["y": [true, nil], "x": 1]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(Set([a, b]).count == 1)
        #expect(a != ["x": 1, "y": [nil, true]])
        #expect(a != ["x": 1])
    }

    @Test func valuesOfDifferentKindsAreNeverEqual() {
        #expect(JSONValue.null != .bool(false))
        #expect(JSONValue.number(0) != .bool(false))
        #expect(JSONValue.string("1") != .number(1))
        #expect(JSONValue.array([]) != .object(JSONObject()))
    }

    @Test func accessorsReturnValuesOfTheirKindOnly() {
        let value: JSONValue = ["s": "x", "n": 2.5, "i": 42, "b": false, "a": [1], "o": ["k": nil], "z": nil]
        #expect(value["s"]?.stringValue == "x")
        #expect(value["n"]?.numberValue == 2.5)
        #expect(value["n"]?.intValue == nil)
        #expect(value["i"]?.intValue == 42)
        #expect(value["b"]?.boolValue == false)
        #expect(value["a"]?.arrayValue == [1])
        #expect(value["a"]?[0] == 1)
        #expect(value["a"]?[1] == nil)
        #expect(value["o"]?.objectValue?["k"]?.isNull == true)
        #expect(value["z"]?.isNull == true)
        #expect(value["s"]?.numberValue == nil)
        #expect(value["missing"] == nil)
        #expect(JSONValue.number(9_007_199_254_740_992).intValue == nil)
    }

    @Test func descriptionIsCompactJSON() {
        let value: JSONValue = ["b": [1, "x\n"], "a": nil]
        #expect(value.description == #"{"b":[1,"x\n"],"a":null}"#)
    }
}
