// Builds a `JSONValue` tree from parser events.
//
// Finished values wait on one flat stack (`values`, with `keys` for object members) until their
// container closes; closing moves that slice into one exactly-sized array, so element arrays are
// allocated once rather than grown.

internal struct ValueBuilder: JSONEventSink {
    private struct Frame {
        let valueStart: Int
        let keyStart: Int
    }

    /// The finished top-level value.
    private(set) var result: JSONValue = .null
    private var values: [JSONValue] = []
    private var keys: [String] = []
    private var frames: [Frame] = []

    mutating func beginArray() {
        if frames.isEmpty { values.reserveCapacity(16) }
        frames.append(Frame(valueStart: values.count, keyStart: keys.count))
    }

    mutating func endArray() {
        let frame = frames.removeLast()
        attach(.array(takeValues(from: frame.valueStart)))
    }

    mutating func beginObject() {
        if frames.isEmpty {
            values.reserveCapacity(16)
            keys.reserveCapacity(16)
        }
        frames.append(Frame(valueStart: values.count, keyStart: keys.count))
    }

    mutating func key(_ utf8: UnsafeRawBufferPointer, hadEscapes: Bool) {
        keys.append(String(decoding: utf8, as: UTF8.self))
    }

    mutating func endObject() {
        let frame = frames.removeLast()
        let count = values.count - frame.valueStart
        guard count > 0 else { return attach(.object(JSONObject())) }
        // Moves keys and values into the members, refilling the moved-from slots with trivial values.
        let members = [JSONObject.Member](unsafeUninitializedCapacity: count) { buffer, initialized in
            keys.withUnsafeMutableBufferPointer { keyStack in
                values.withUnsafeMutableBufferPointer { valueStack in
                    let firstKey = keyStack.baseAddress! + frame.keyStart
                    let firstValue = valueStack.baseAddress! + frame.valueStart
                    for offset in 0..<count {
                        (buffer.baseAddress! + offset).initialize(
                            to: ((firstKey + offset).move(), (firstValue + offset).move()))
                    }
                    firstKey.initialize(repeating: "", count: count)
                    firstValue.initialize(repeating: .null, count: count)
                }
            }
            initialized = count
        }
        keys.truncate(to: frame.keyStart)
        values.truncate(to: frame.valueStart)
        attach(.object(JSONObject(uniqueMembers: members)))
    }

    mutating func string(_ utf8: UnsafeRawBufferPointer, hadEscapes: Bool) {
        attach(.string(utf8.isEmpty ? "" : String(decoding: utf8, as: UTF8.self)))
    }

    mutating func number(_ value: Double, exactIntegerLiteral: UnsafeRawBufferPointer?) { attach(.number(value)) }

    mutating func bool(_ value: Bool) { attach(.bool(value)) }

    mutating func null() { attach(.null) }

    private mutating func attach(_ value: JSONValue) {
        if frames.isEmpty {
            result = value
        } else {
            values.append(value)
        }
    }

    /// Moves `values[start...]` into a new array and shortens `values`, without retaining and releasing
    /// each element: the moved-from slots are refilled with `.null`, which needs no release.
    private mutating func takeValues(from start: Int) -> [JSONValue] {
        let count = values.count - start
        guard count > 0 else { return [] }
        let taken = [JSONValue](unsafeUninitializedCapacity: count) { buffer, initialized in
            values.withUnsafeMutableBufferPointer { source in
                let first = source.baseAddress! + start
                buffer.baseAddress!.moveInitialize(from: first, count: count)
                first.initialize(repeating: .null, count: count)
            }
            initialized = count
        }
        values.truncate(to: start)
        return taken
    }
}
