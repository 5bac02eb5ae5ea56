// Writes RFC 8785 canonical bytes straight from parser events, without building a `JSONValue` tree.
//
// Members of an open object are written in input order, each as `"key":value`, separated by commas,
// while their start offsets and keys are recorded. When the object closes, and only if its keys were
// not already in UTF-16 order, its members are rewritten in sorted order over the same bytes (the
// length does not change). Nested objects are already final when their parent closes.

internal struct CanonicalWriter: JSONEventSink, ~Copyable {
    /// The state of a container; the innermost one is kept in `current`, the others in `enclosing`.
    private struct Container {
        var isObject = false
        /// Whether a value (array) or member (object) has been written, so the next needs a comma.
        var hasContent = false
        /// Index in `members` of this object's first member.
        var firstMember = 0
        /// Where this object's escaped keys start in `keyArena`.
        var arenaStart = 0
    }

    private struct Member {
        /// The unescaped key: in `keyArena` when it had escapes, else in `out` (written verbatim).
        let keyStart: Int
        let keyCount: Int
        let keyInArena: Bool
        /// Where the member's bytes, `"key":value`, start in `out`. They end one byte before the next
        /// member's start (at its comma), or, for the last member, where the closing brace goes.
        let start: Int
    }

    /// The canonical bytes written so far.
    var out: ByteWriter
    private var current = Container()
    private var depth = 0
    private var enclosing: [Container] = []
    private var members: [Member] = []
    private var keyArena: [UInt8] = []
    private var scratch: [UInt8] = []

    init(capacity: Int) {
        out = ByteWriter(capacity: capacity)
    }

    mutating func beginArray() {
        beforeValue()
        out.append(UInt8(ascii: "["))
        open(isObject: false)
    }

    mutating func endArray() {
        close()
        out.append(UInt8(ascii: "]"))
    }

    mutating func beginObject() {
        beforeValue()
        out.append(UInt8(ascii: "{"))
        open(isObject: true)
    }

    mutating func key(_ utf8: UnsafeRawBufferPointer, hadEscapes: Bool) {
        if current.hasContent { out.append(UInt8(ascii: ",")) }
        current.hasContent = true
        if hadEscapes {
            members.append(Member(keyStart: keyArena.count, keyCount: utf8.count, keyInArena: true, start: out.count))
            keyArena.appendBytes(utf8)
            appendQuotedString(utf8, to: &out)
        } else {
            members.append(Member(keyStart: out.count + 1, keyCount: utf8.count, keyInArena: false, start: out.count))
            appendVerbatimString(utf8)
        }
        out.append(UInt8(ascii: ":"))
    }

    mutating func endObject() {
        if members.count - current.firstMember > 1 { sortMembers(from: current.firstMember) }
        members.truncate(to: current.firstMember)
        keyArena.truncate(to: current.arenaStart)
        close()
        out.append(UInt8(ascii: "}"))
    }

    mutating func string(_ utf8: UnsafeRawBufferPointer, hadEscapes: Bool) {
        beforeValue()
        if hadEscapes {
            appendQuotedString(utf8, to: &out)
        } else {
            appendVerbatimString(utf8)
        }
    }

    mutating func number(_ value: Double, exactIntegerLiteral: UnsafeRawBufferPointer?) {
        beforeValue()
        if let exactIntegerLiteral {
            out.append(exactIntegerLiteral)
        } else {
            appendES6Number(value, to: &out)
        }
    }

    mutating func bool(_ value: Bool) {
        beforeValue()
        out.appendASCII(value ? "true" : "false")
    }

    mutating func null() {
        beforeValue()
        out.appendASCII("null")
    }

    private mutating func open(isObject: Bool) {
        if depth > 0 {
            enclosing.append(current)
        } else {
            enclosing.reserveCapacity(8)
            members.reserveCapacity(32)
        }
        depth += 1
        current = Container(
            isObject: isObject, hasContent: false, firstMember: members.count, arenaStart: keyArena.count)
    }

    private mutating func close() {
        depth -= 1
        if depth > 0 { current = enclosing.removeLast() }
    }

    /// Writes the comma before every array element but the first (object members get theirs in `key`).
    @inline(__always)
    private mutating func beforeValue() {
        guard depth > 0, !current.isObject else { return }
        if current.hasContent { out.append(UInt8(ascii: ",")) }
        current.hasContent = true
    }

    /// Writes a string copied verbatim from the input: it holds nothing that needs escaping.
    @inline(__always)
    private mutating func appendVerbatimString(_ utf8: UnsafeRawBufferPointer) {
        out.append(UInt8(ascii: "\""))
        out.append(utf8)
        out.append(UInt8(ascii: "\""))
    }

    /// Rewrites the members `members[first...]` (at least two, the object's last member complete) in
    /// UTF-16 key order, unless they already are in order.
    private mutating func sortMembers(from first: Int) {
        let count = members.count - first
        let regionStart = members[first].start
        let regionEnd = out.count
        withUnsafeTemporaryAllocation(of: SortEntry.self, capacity: count) { entries in
            let sorted: Bool = out.withWrittenBytes { output in
                keyArena.withUnsafeBytes { arena in
                    members.withUnsafeBufferPointer { list in
                        for n in 0..<count {
                            let m = list[first + n]
                            let source = m.keyInArena ? arena : UnsafeRawBufferPointer(output)
                            let key = UnsafeRawBufferPointer(rebasing: source[m.keyStart..<m.keyStart + m.keyCount])
                            entries.initializeElement(at: n, to: SortEntry(key: key, member: first + n))
                        }
                        return sortEntries(entries)
                    }
                }
            }
            if sorted { return }
            rewriteMembers(in: regionStart..<regionEnd, order: UnsafeBufferPointer(entries))
        }
    }

    /// Copies the members' bytes (`region` of `out`) back in `order`, separated by commas.
    private mutating func rewriteMembers(in region: Range<Int>, order: UnsafeBufferPointer<SortEntry>) {
        scratch.removeAll(keepingCapacity: true)
        scratch.reserveCapacity(max(region.count, 512))
        out.withWrittenBytes { output in scratch.appendBytes(UnsafeRawBufferPointer(rebasing: output[region])) }
        members.withUnsafeBufferPointer { list in
            scratch.withUnsafeBytes { original in
                out.withWrittenBytes { output in
                    var position = region.lowerBound
                    for (n, entry) in order.enumerated() {
                        if n > 0 {
                            output[position] = UInt8(ascii: ",")
                            position += 1
                        }
                        let index = entry.member
                        let start = list[index].start - region.lowerBound
                        let end =
                            (index + 1 < list.count ? list[index + 1].start - 1 : region.upperBound) - region.lowerBound
                        UnsafeMutableRawBufferPointer(rebasing: output[position..<position + end - start])
                            .copyMemory(from: UnsafeRawBufferPointer(rebasing: original[start..<end]))
                        position += end - start
                    }
                    assert(position == region.upperBound)
                }
            }
        }
    }
}

/// A member to sort: its key and a prefix of it that compares like `utf16Less` for a quick decision.
private struct SortEntry {
    let key: UnsafeRawBufferPointer
    let member: Int
    /// The first eight bytes of the key (mapped by `utf16OrderKey`, zero-padded), big-endian.
    let prefix: UInt64

    init(key: UnsafeRawBufferPointer, member: Int) {
        self.key = key
        self.member = member
        var prefix: UInt64 = 0
        for i in 0..<8 { prefix = prefix << 8 | UInt64(i < key.count ? utf16OrderKey(key[i]) : 0) }
        self.prefix = prefix
    }

    /// UTF-16 order of the keys. Distinct prefixes decide; equal ones fall back to the full comparison
    /// (zero padding cannot mislead it: a real 0x00 byte and the padding compare equal, then the
    /// full comparison orders the shorter key first, as `utf16Less` does).
    @inline(__always)
    static func < (a: SortEntry, b: SortEntry) -> Bool {
        a.prefix != b.prefix ? a.prefix < b.prefix : utf16Less(a.key, b.key)
    }
}

/// Sorts `entries`; returns true when they were already in order. Small objects (the usual case) use an
/// insertion sort; large ones the standard library's O(n log n) sort.
private func sortEntries(_ entries: UnsafeMutableBufferPointer<SortEntry>) -> Bool {
    if entries.count > 24 {
        for i in 1..<entries.count where !(entries[i - 1] < entries[i]) {
            var all = entries
            all.sort(by: <)
            return false
        }
        return true
    }
    var alreadySorted = true
    for i in 1..<entries.count {
        let current = entries[i]
        var j = i
        while j > 0, current < entries[j - 1] {
            entries[j] = entries[j - 1]
            j -= 1
        }
        if j != i {
            entries[j] = current
            alreadySorted = false
        }
    }
    return alreadySorted
}
