/// An ordered JSON object: a `Sendable` value type, safe to share across threads (like `Array`).
///
/// String keys map to values; members keep the order in which they were added.
///
/// Keys are unique and compared **exactly**, by Unicode scalars: `"\u{E9}"` and `"e\u{301}"` are two
/// different keys (Swift's own `String ==` would call them equal; JSON and RFC 8785 do not).
/// Member order is kept for display (`JSONWriter`); it does not take part in equality, because JSON
/// objects are unordered (RFC 8259 §4), and it does not affect the canonical form (`JCS`).
///
/// ```swift
/// var object: JSONObject = ["kind": "build", "step": 1]
/// object["step"] = 2          // replaces in place
/// object["by"] = "ci"         // appends
/// object["kind"] = nil        // removes
/// object.keys                 // ["step", "by"]
/// ```
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// One member: a key and its value.
    public typealias Member = (key: String, value: JSONValue)
    /// Members are vended in stored order.
    public typealias Element = Member

    /// Objects with more members than this keep a hash index; smaller ones are searched linearly.
    static let indexThreshold = 12

    private var storage: [Member]
    private var index: [ExactKey: Int]?

    /// Creates an empty object.
    public init() {
        storage = []
        index = nil
    }

    /// Creates an object from members in order. A repeated key replaces the earlier value in place,
    /// exactly as assigning the members one by one through `subscript(_:)` would.
    public init(_ members: [(String, JSONValue)]) {
        self.init()
        storage.reserveCapacity(members.count)
        for (key, value) in members { self[key] = value }
    }

    /// Creates an object from a dictionary literal, in source order. Traps on a repeated key, like `Dictionary`.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init()
        storage.reserveCapacity(elements.count)
        for (key, value) in elements {
            precondition(insertNew(key, value), "JSONObject literal contains duplicate key \"\(key)\"")
        }
    }

    /// Creates an object from members whose keys the caller has already checked to be unique.
    init(uniqueMembers: [Member]) {
        storage = uniqueMembers
        index = nil
        if storage.count > Self.indexThreshold { rebuildIndex() }
    }

    /// The number of members.
    public var count: Int { storage.count }

    /// True when the object has no members.
    public var isEmpty: Bool { storage.isEmpty }

    /// The keys, in stored order.
    public var keys: [String] { storage.map(\.key) }

    /// The members, in stored order.
    public var members: [Member] { storage }

    /// The value for `key` (compared exactly), or `nil`. Setting a value replaces an existing member in
    /// place or appends a new one; setting `nil` removes the member, keeping the order of the rest.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let position = position(of: key) else { return nil }
            return storage[position].value
        }
        set {
            if let newValue {
                if let position = position(of: key) {
                    storage[position].value = newValue
                } else {
                    append(key, newValue)
                }
            } else {
                _ = removeValue(forKey: key)
            }
        }
    }

    /// Removes the member for `key` and returns its value, or returns `nil` when there is none.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let position = position(of: key) else { return nil }
        let removed = storage.remove(at: position)
        index = nil
        if storage.count > Self.indexThreshold { rebuildIndex() }
        return removed.value
    }

    /// Returns an iterator over the members in stored order.
    public func makeIterator() -> IndexingIterator<[Member]> {
        storage.makeIterator()
    }

    /// Compact JSON text of the object, members in stored order (see `JSONWriter.compact(_:)`).
    public var description: String { JSONWriter.compact(.object(self)) }

    /// True when both objects have the same keys (compared exactly) with equal values, in any order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (key, value) in lhs.storage {
            guard let other = rhs[key], other == value else { return false }
        }
        return true
    }

    /// Hashes the members independently of their order, consistently with `==`.
    public func hash(into hasher: inout Hasher) {
        var sum = 0
        for (key, value) in storage {
            var memberHasher = Hasher()
            hashUTF8(key, into: &memberHasher)
            memberHasher.combine(value)
            sum &+= memberHasher.finalize()
        }
        hasher.combine(storage.count)
        hasher.combine(sum)
    }

    // MARK: - Internals

    /// Appends `key` unless it is present; returns false (and changes nothing) when it is.
    mutating func insertNew(_ key: String, _ value: JSONValue) -> Bool {
        guard position(of: key) == nil else { return false }
        append(key, value)
        return true
    }

    private mutating func append(_ key: String, _ value: JSONValue) {
        storage.append((key, value))
        if index != nil {
            index![ExactKey(key)] = storage.count - 1
        } else if storage.count > Self.indexThreshold {
            rebuildIndex()
        }
    }

    private func position(of key: String) -> Int? {
        if let index { return index[ExactKey(key)] }
        return storage.firstIndex { utf8Equal($0.key, key) }
    }

    private mutating func rebuildIndex() {
        var built = [ExactKey: Int](minimumCapacity: storage.count)
        for (position, member) in storage.enumerated() { built[ExactKey(member.key)] = position }
        index = built
    }
}
