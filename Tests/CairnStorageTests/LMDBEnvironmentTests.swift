import CairnStorage
import CairnTestSupport
import Foundation
import Testing

struct Boom: Error {}

@Suite("LMDB environment, tables and transactions")
struct LMDBEnvironmentTests {
    @Test("A committed value is readable; a missing key reads as nil")
    func putGet() throws {
        let dir = try TemporaryDirectory()
        let env = try LMDBEnvironment(directory: dir.path)
        let t = try env.openTable("t")
        try env.write { txn in try txn.put(t, key: [1, 2], value: [9, 8, 7]) }
        #expect(try env.read { txn in try txn.value(t, key: [1, 2]) } == [9, 8, 7])
        #expect(try env.read { txn in try txn.value(t, key: [3]) } == nil)
    }

    @Test("A write transaction whose body throws stores nothing")
    func abortOnThrow() throws {
        let dir = try TemporaryDirectory()
        let env = try LMDBEnvironment(directory: dir.path)
        let t = try env.openTable("t")
        #expect(throws: Boom.self) {
            try env.write { txn in
                try txn.put(t, key: 1, value: [1])
                throw Boom()
            }
        }
        #expect(try env.read { txn in try txn.count(t) } == 0)
    }

    @Test("Append mode accepts increasing keys and refuses a key that is not the largest")
    func appendMode() throws {
        let dir = try TemporaryDirectory()
        let env = try LMDBEnvironment(directory: dir.path)
        let t = try env.openTable("t")
        try env.write { txn in
            for i: UInt64 in 0..<1000 { try txn.put(t, key: i, value: [UInt8(truncatingIfNeeded: i)], mode: .append) }
        }
        let error = #expect(throws: StorageError.self) {
            try env.write { txn in try txn.put(t, key: 5, value: [0], mode: .append) }
        }
        #expect(error?.resultCode == .keyExists)
        #expect(try env.read { txn in try txn.count(t) } == 1000)
    }

    @Test("No-overwrite mode reports an existing key and keeps the old value")
    func noOverwrite() throws {
        let dir = try TemporaryDirectory()
        let env = try LMDBEnvironment(directory: dir.path)
        let t = try env.openTable("t")
        try env.write { txn in try txn.put(t, key: [7], value: [1], mode: .noOverwrite) }
        let error = #expect(throws: StorageError.self) {
            try env.write { txn in try txn.put(t, key: [7], value: [2], mode: .noOverwrite) }
        }
        #expect(error?.resultCode == .keyExists)
        #expect(try env.read { txn in try txn.value(t, key: [7]) } == [1])
    }

    @Test("A map that cannot grow: a clear error, nothing committed lost, and the environment refuses later use")
    func mapCannotGrow() throws {
        let dir = try TemporaryDirectory()
        var options = LMDBEnvironment.Options()
        options.initialMapSize = 256 * 1024
        do {
            let env = try LMDBEnvironment(directory: dir.path, options: options)
            let t = try env.openTable("t")
            try env.write { txn in try txn.put(t, key: 0, value: [1]) }
            let before = env.mapSize
            env.resizeFault.withLock { $0 = ENOMEM }
            let error = #expect(throws: StorageError.self) {
                try env.write { txn in
                    for i: UInt64 in 1...2000 { try txn.put(t, key: i, value: [UInt8](repeating: 7, count: 1000)) }
                }
            }
            #expect(error?.resultCode == LMDBResultCode(rawValue: ENOMEM))
            #expect(
                error?.message
                    == "the LMDB map of \(dir.path) is full at \(before) bytes and cannot grow to \(2 * before) bytes: "
                    + "Cannot allocate memory; the transaction was not committed")
            // LMDB has no map after a real failure: every later transaction is refused, not run.
            let later = #expect(throws: StorageError.self) { try env.read { txn in try txn.count(t) } }
            #expect(later?.code == .unusable)
            #expect(later?.message.contains("is unusable since a map resize failed") == true)
            #expect(throws: StorageError.self) { try env.write { txn in try txn.put(t, key: 1, value: [1]) } }
            #expect(env.mapSize == before)
        }
        // Reopened (as by a restarted process), what was committed is there, and nothing else.
        let reopened = try LMDBEnvironment(directory: dir.path, options: options)
        let t = try reopened.openTable("t")
        #expect(try reopened.read { txn in try txn.value(t, key: 0) } == [1])
        #expect(try reopened.read { txn in try txn.count(t) } == 1)
    }

    @Test("A full map is grown and the transaction retried, without losing or duplicating writes")
    func mapGrowth() throws {
        let dir = try TemporaryDirectory()
        var options = LMDBEnvironment.Options()
        options.initialMapSize = 256 * 1024
        let env = try LMDBEnvironment(directory: dir.path, options: options)
        let t = try env.openTable("t")
        let value = [UInt8](repeating: 0xab, count: 1000)
        var runs = 0
        try env.write { txn in
            runs += 1
            for i: UInt64 in 0..<20_000 { try txn.put(t, key: i, value: value, mode: .append) }
        }
        #expect(runs > 1, "the body should have been retried after MDB_MAP_FULL")
        #expect(env.mapSize > options.initialMapSize)
        #expect(try env.read { txn in try txn.count(t) } == 20_000)
        #expect(try env.read { txn in try txn.value(t, key: 19_999) } == value)
    }

    @Test("A cursor walks keys in big-endian numeric order and can seek")
    func cursor() throws {
        let dir = try TemporaryDirectory()
        let env = try LMDBEnvironment(directory: dir.path)
        let t = try env.openTable("t")
        try env.write { txn in
            for i: UInt64 in [3, 1, 256, 2] { try txn.put(t, key: i, value: BigEndianKey.bytes(i * 10)) }
        }
        let keys: [UInt64] = try env.read { txn in
            try txn.withCursor(t) { c in
                var out: [UInt64] = []
                var e = try c.first()
                while let entry = e {
                    out.append(BigEndianKey.decode(entry.key)!)
                    e = try c.next()
                }
                return out
            }
        }
        #expect(keys == [1, 2, 3, 256])
        let seeked = try env.read { txn in
            try txn.withCursor(t) { c in try c.seek(atLeast: 4).map { BigEndianKey.decode($0.key) } }
        }
        #expect(seeked == 256)
        let last = try env.read { txn in try txn.withCursor(t) { c in try c.last().map { BigEndianKey.decode($0.key) } }
        }
        #expect(last == 256)
    }

    @Test("Data committed by one environment instance is visible after reopening (durability across opens)")
    func reopen() throws {
        let dir = try TemporaryDirectory()
        do {
            let env = try LMDBEnvironment(directory: dir.path)
            let t = try env.openTable("t")
            try env.write { txn in try txn.put(t, key: 42, value: [4, 2]) }
        }
        var options = LMDBEnvironment.Options()
        options.readOnly = true
        let env = try LMDBEnvironment(directory: dir.path, options: options)
        let t = try env.openTable("t")
        #expect(try env.read { txn in try txn.value(t, key: 42) } == [4, 2])
    }

    @Test("Opening a table that does not exist read-only names the table")
    func missingTable() throws {
        let dir = try TemporaryDirectory()
        _ = try LMDBEnvironment(directory: dir.path)
        var options = LMDBEnvironment.Options()
        options.readOnly = true
        let env = try LMDBEnvironment(directory: dir.path, options: options)
        let error = #expect(throws: StorageError.self) { try env.openTable("nope") }
        #expect(error?.message.contains("nope") == true)
    }

    @Test("Readers on other threads see consistent snapshots while a writer appends")
    func concurrentReaders() async throws {
        let dir = try TemporaryDirectory()
        let env = try LMDBEnvironment(directory: dir.path)
        let t = try env.openTable("t")
        let writer = Task.detached {
            for batch: UInt64 in 0..<50 {
                try env.write { txn in
                    for i in 0..<UInt64(100) {
                        try txn.put(t, key: batch * 100 + i, value: BigEndianKey.bytes(batch), mode: .append)
                    }
                }
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<200 {
                        // Every snapshot holds whole batches only.
                        let n = try env.read { txn in try txn.count(t) }
                        #expect(n % 100 == 0)
                    }
                }
            }
            try await group.waitForAll()
        }
        try await writer.value
        #expect(try env.read { txn in try txn.count(t) } == 5000)
    }
}

@Suite("Environment registry")
struct EnvironmentRegistryTests {
    @Test("Opening the same directory twice in one process yields the same environment")
    func sameInstance() throws {
        let dir = try TemporaryDirectory()
        let a = try LMDBEnvironment.shared(directory: dir.path)
        let b = try LMDBEnvironment.shared(directory: dir.path + "/.")
        #expect(a === b)
    }
}

@Suite("Insert if absent")
struct InsertIfAbsentTests {
    @Test("insertIfAbsent stores a new key and returns the existing value for a present one")
    func insertIfAbsent() throws {
        let dir = try TemporaryDirectory()
        let env = try LMDBEnvironment(directory: dir.path)
        let t = try env.openTable("t")
        let results: [[UInt8]?] = try env.write { txn in
            let key: [UInt8] = [1, 2, 3]
            return try key.withUnsafeBytes { k in
                let first = try [UInt8](arrayLiteral: 10).withUnsafeBytes {
                    try txn.insertIfAbsent(t, key: k, value: $0)
                }
                let second = try [UInt8](arrayLiteral: 20).withUnsafeBytes {
                    try txn.insertIfAbsent(t, key: k, value: $0)
                }
                return [first, second]
            }
        }
        #expect(results[0] == nil)
        #expect(results[1] == [10])
        #expect(try env.read { txn in try txn.value(t, key: [1, 2, 3]) } == [10])
    }
}

@Suite("Prefix iteration")
struct PrefixIterationTests {
    @Test("forEach visits exactly the keys with the prefix, in order, from an optional start, and can stop early")
    func prefix() throws {
        let dir = try TemporaryDirectory()
        let env = try LMDBEnvironment(directory: dir.path)
        let t = try env.openTable("t")
        try env.write { txn in
            for key in [[1, 0], [1, 1], [1, 2, 9], [2, 0], [0, 5]] as [[UInt8]] { try txn.put(t, key: key, value: key) }
        }
        func keys(_ prefix: [UInt8], from start: [UInt8]? = nil, limit: Int = .max) throws -> [[UInt8]] {
            try env.read { txn in
                var out: [[UInt8]] = []
                try txn.forEach(t, prefix: prefix, from: start) { key, _ in
                    out.append(Array(key))
                    return out.count < limit
                }
                return out
            }
        }
        #expect(try keys([1]) == [[1, 0], [1, 1], [1, 2, 9]])
        #expect(try keys([1], from: [1, 1]) == [[1, 1], [1, 2, 9]])
        #expect(try keys([1], limit: 1) == [[1, 0]])
        #expect(try keys([3]).isEmpty)
        #expect(try keys([]).count == 5)
    }
}
