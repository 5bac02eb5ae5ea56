import CairnStorage
import CairnTestSupport
import Foundation
import Testing

/// An environment with enough data to span many pages: 300 values of 1000 bytes.
func populatedEnvironment(_ dir: TemporaryDirectory) throws {
    let env = try LMDBEnvironment(directory: dir.path)
    let t = try env.openTable("t")
    try env.write { txn in
        for i: UInt64 in 0..<300 { try txn.put(t, key: i, value: [UInt8](repeating: UInt8(i & 0xff), count: 1000)) }
    }
}

/// A new directory whose data.mdb is `bytes`.
func directoryWithDataFile(_ bytes: [UInt8]) throws -> TemporaryDirectory {
    let dir = try TemporaryDirectory()
    try Data(bytes).write(to: URL(fileURLWithPath: dir.path + "/data.mdb"))
    return dir
}

func dataFile(_ dir: TemporaryDirectory) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: dir.path + "/data.mdb")))
}

func readOnly() -> LMDBEnvironment.Options {
    var options = LMDBEnvironment.Options()
    options.readOnly = true
    return options
}

@Suite("data.mdb is checked against its meta pages before it is mapped")
struct LMDBDataFileTests {
    @Test("A whole file's meta pages are read: page size, last page, transaction, map size")
    func wholeFile() throws {
        let dir = try TemporaryDirectory()
        try populatedEnvironment(dir)
        let file = try #require(try LMDBDataFile.inspect(directory: dir.path))
        #expect(file.pageSize == UInt64(sysconf(Int32(_SC_PAGESIZE))))
        #expect(file.lastPage > 70)  // 300 KB of values
        #expect(file.transactionID >= 2)
        #expect(file.mapSize == 1 << 30)
        #expect(file.fileSize >= file.requiredSize)
        #expect(file.requiredSize == (file.lastPage + 1) * file.pageSize)
        // And it opens, read-only and read-write.
        _ = try LMDBEnvironment(directory: dir.path, options: readOnly())
        let empty = try TemporaryDirectory()
        #expect(try LMDBDataFile.inspect(directory: empty.path) == nil)
    }

    @Test(
        "A truncated copy (head -c 8192) is refused with the expected and the actual size, read-only or not",
        arguments: [false, true])
    func truncated(readOnlyOpen: Bool) throws {
        let source = try TemporaryDirectory()
        try populatedEnvironment(source)
        let whole = try #require(try LMDBDataFile.inspect(directory: source.path))
        let copy = try directoryWithDataFile(Array(try dataFile(source).prefix(8192)))
        let error = #expect(throws: StorageError.self) {
            _ = try LMDBEnvironment(directory: copy.path, options: readOnlyOpen ? readOnly() : .init())
        }
        #expect(error?.code == .truncatedDataFile)
        #expect(error?.path == copy.path + "/data.mdb")
        #expect(error?.sizes == .init(expected: whole.requiredSize, actual: 8192))
        #expect(error?.message.contains(copy.path + "/data.mdb is truncated") == true)
        #expect(error?.message.contains("at least \(whole.requiredSize) bytes, but it has 8192") == true)
        // Nothing was written to it.
        #expect(try dataFile(copy).count == 8192)
    }

    @Test("A file cut inside its first meta page is truncated; a short file of other bytes is not LMDB")
    func tooShort() throws {
        let source = try TemporaryDirectory()
        try populatedEnvironment(source)
        let start = try directoryWithDataFile(Array(try dataFile(source).prefix(100)))
        let error = #expect(throws: StorageError.self) { _ = try LMDBEnvironment(directory: start.path) }
        #expect(error?.code == .truncatedDataFile)
        #expect(error?.sizes?.actual == 100)
        let other = try directoryWithDataFile(Array("not a database\n".utf8))
        let invalid = #expect(throws: StorageError.self) { _ = try LMDBEnvironment(directory: other.path) }
        #expect(invalid?.code == .invalidDataFile)
        #expect(invalid?.message.contains("the file has 15 bytes") == true)
    }

    @Test("A zero-length data.mdb is refused, read-only or not, and is not initialized", arguments: [false, true])
    func empty(readOnlyOpen: Bool) throws {
        let dir = try directoryWithDataFile([])
        let error = #expect(throws: StorageError.self) {
            _ = try LMDBEnvironment(directory: dir.path, options: readOnlyOpen ? readOnly() : .init())
        }
        #expect(error?.code == .emptyDataFile)
        #expect(error?.sizes?.actual == 0)
        #expect(error?.message.contains(dir.path + "/data.mdb is empty (0 bytes)") == true)
        #expect(try dataFile(dir).isEmpty)
        // Creating an environment where there is no data.mdb at all still works.
        let fresh = try TemporaryDirectory()
        _ = try LMDBEnvironment(directory: fresh.path)
        #expect(try LMDBDataFile.inspect(directory: fresh.path) != nil)
    }

    @Test("Garbage, a wrong magic number, version or page size is refused as not an LMDB file")
    func garbage() throws {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<20000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let noise = try directoryWithDataFile(random)
        let error = #expect(throws: StorageError.self) { _ = try LMDBEnvironment(directory: noise.path) }
        #expect(error?.code == .invalidDataFile)
        #expect(error?.message.contains("the file has 20000 bytes") == true)
        #expect(try dataFile(noise) == random)

        let source = try TemporaryDirectory()
        try populatedEnvironment(source)
        let whole = try dataFile(source)
        // Meta page 1 starts at the page size; its version field is 20 bytes in.
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        var badVersion = whole
        badVersion[pageSize + 20] = 7
        let versionDirectory = try directoryWithDataFile(badVersion)
        let versionError = #expect(throws: StorageError.self) {
            _ = try LMDBEnvironment(directory: versionDirectory.path)
        }
        #expect(versionError?.code == .invalidDataFile)
        #expect(versionError?.message.contains("meta page 1 has data format version 7") == true)
        var badPageSize = whole
        badPageSize[40] = 3  // md_pad of the free DB of page 0: the page size
        let sizeDirectory = try directoryWithDataFile(badPageSize)
        let sizeError = #expect(throws: StorageError.self) {
            _ = try LMDBEnvironment(directory: sizeDirectory.path)
        }
        #expect(sizeError?.code == .invalidDataFile)
        #expect(sizeError?.message.contains("impossible page size") == true)
    }

    @Test("The newest meta page decides: an older one that fits does not hide a truncation")
    func newestMetaDecides() throws {
        let source = try TemporaryDirectory()
        try populatedEnvironment(source)
        let file = try #require(try LMDBDataFile.inspect(directory: source.path))
        // Cut the file one page short of what the newest meta page needs.
        let bytes = Array(try dataFile(source).prefix(Int(file.requiredSize - file.pageSize)))
        let copy = try directoryWithDataFile(bytes)
        let error = #expect(throws: StorageError.self) { _ = try LMDBEnvironment(directory: copy.path) }
        #expect(error?.code == .truncatedDataFile)
        #expect(error?.message.contains("transaction \(file.transactionID)") == true)
    }

    @Test("Pages allocated and freed in one transaction are never written: such a whole file is accepted")
    func unwrittenFreePages() throws {
        let dir = try TemporaryDirectory()
        let env = try LMDBEnvironment(directory: dir.path)
        let t = try env.openTable("t")
        try env.write { txn in try txn.put(t, key: 0, value: [UInt8](repeating: 1, count: 1000)) }
        let big = [UInt8](repeating: 2, count: 100_000)
        for _ in 0..<5 {
            try env.write { txn in
                for i: UInt64 in 100..<2000 { try txn.put(t, key: i, value: [UInt8](repeating: 3, count: 1000)) }
                for i: UInt64 in 100..<2000 { try txn.delete(t, key: BigEndianKey.bytes(i)) }
                try txn.put(t, key: 9999, value: big)
                try txn.delete(t, key: BigEndianKey.bytes(9999))
            }
        }
        let file = try #require(try LMDBDataFile.inspect(directory: dir.path))
        // The case exists: the file ends before the last allocated page.
        #expect(file.fileSize < (file.lastPage + 1) * file.pageSize)
        #expect(file.highestPageInUse < file.lastPage)
        #expect(file.fileSize >= file.requiredSize)
        _ = try LMDBEnvironment(directory: dir.path, options: readOnly())
        // One page less than the highest page in use is a truncation.
        let copy = try directoryWithDataFile(Array(try dataFile(dir).prefix(Int(file.requiredSize - file.pageSize))))
        let error = #expect(throws: StorageError.self) { _ = try LMDBEnvironment(directory: copy.path) }
        #expect(error?.code == .truncatedDataFile)
        #expect(error?.sizes == .init(expected: file.requiredSize, actual: file.requiredSize - file.pageSize))
    }

    @Test("Corrupted meta and free-list pages are refused or accepted, never a trap (random mutations)")
    func mutations() throws {
        let dir = try TemporaryDirectory()
        let env = try LMDBEnvironment(directory: dir.path)
        let t = try env.openTable("t")
        for round: UInt64 in 0..<3 {
            try env.write { txn in
                for i: UInt64 in 0..<800 {
                    try txn.put(t, key: round * 10_000 + i, value: [UInt8](repeating: 1, count: 300))
                }
                for i: UInt64 in 0..<500 { try txn.delete(t, key: BigEndianKey.bytes(round * 10_000 + i)) }
            }
        }
        let original = try dataFile(dir)
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let copy = try TemporaryDirectory()
        let path = copy.path + "/data.mdb"
        var generator = SystemRandomNumberGenerator()
        var outcomes: [StorageError.Code?: Int] = [:]
        try Data(original).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDWR)
        #expect(fd >= 0)
        defer { close(fd) }
        for _ in 0..<1500 {
            // Mutate a few bytes in place (and put them back afterwards): mostly the meta pages'
            // fields, otherwise anywhere, free-list pages included; sometimes also cut the file.
            var changed: [Int] = []
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let offset =
                    Bool.random(using: &generator)
                    ? Int.random(in: 0..<160, using: &generator) + (Bool.random(using: &generator) ? pageSize : 0)
                    : Int.random(in: 0..<original.count, using: &generator)
                var byte = UInt8.random(in: 0...255, using: &generator)
                #expect(pwrite(fd, &byte, 1, off_t(offset)) == 1)
                changed.append(offset)
            }
            let cut = Int.random(in: 0..<20, using: &generator) == 0
            if cut { #expect(ftruncate(fd, off_t(Int.random(in: 0..<original.count, using: &generator))) == 0) }
            do {
                _ = try LMDBDataFile.inspect(path: path)
                outcomes[nil, default: 0] += 1
            } catch {
                outcomes[error.code, default: 0] += 1
            }
            if cut {
                #expect(original.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) } == original.count)
            } else {
                for offset in changed {
                    var byte = original[offset]
                    #expect(pwrite(fd, &byte, 1, off_t(offset)) == 1)
                }
            }
        }
        #expect((outcomes[.invalidDataFile] ?? 0) > 0)
        #expect((outcomes[.truncatedDataFile] ?? 0) > 0)
        // An impossible last page (beyond what a file offset can address) is not a trap either.
        var huge = original
        for page in [0, pageSize] { for i in 136..<144 { huge[page + i] = 0x7f } }
        try Data(huge).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: StorageError.self) { _ = try LMDBDataFile.inspect(path: path) }
        #expect(error?.code == .invalidDataFile)
    }

    @Test("An empty data.mdb that another process is creating is waited for, not refused")
    func waitsForCreator() throws {
        guard let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: FileManager.default.fileExists)
        else {
            Issue.record("python3 is needed to hold LMDB's creation lock from another process")
            return
        }
        let template = try TemporaryDirectory()
        try populatedEnvironment(template)
        let dir = try directoryWithDataFile([])
        _ = FileManager.default.createFile(atPath: dir.path + "/lock.mdb", contents: nil)
        // Another process takes LMDB's creator lock (exclusive fcntl lock on byte 0 of
        // lock.mdb), then, when told to, writes data.mdb and releases the lock.
        let script = """
            import fcntl, os, shutil, sys
            lock = open(sys.argv[1] + "/lock.mdb", "r+b")
            fcntl.lockf(lock, fcntl.LOCK_EX, 1, 0)
            print("locked", flush=True)
            sys.stdin.readline()
            shutil.copyfile(sys.argv[2] + "/data.mdb", sys.argv[1] + "/data.mdb")
            fcntl.lockf(lock, fcntl.LOCK_UN, 1, 0)
            """
        let creator = Process()
        creator.executableURL = URL(fileURLWithPath: python)
        creator.arguments = ["-c", script, dir.path, template.path]
        let input = Pipe()
        let output = Pipe()
        creator.standardInput = input
        creator.standardOutput = output
        try creator.run()
        defer { creator.waitUntilExit() }
        let line = output.fileHandleForReading.availableData
        #expect(String(decoding: line, as: UTF8.self).hasPrefix("locked"))

        let opened = OpenResult()
        let path = dir.path
        let thread = Thread {
            opened.set(Result { try LMDBEnvironment(directory: path) })
        }
        thread.start()
        // Wait (polling /proc/locks, with a deadline) until our open blocks on the lock; then let
        // the creator finish.
        let inode = try #require(
            (try FileManager.default.attributesOfItem(atPath: dir.path + "/lock.mdb"))[.systemFileNumber] as? UInt64)
        // Each phase has its own deadline: under a loaded machine the first may run out (it only
        // synchronises), and the open must still get its full time once the creator is done.
        let blockDeadline = Date().addingTimeInterval(30)
        while !blockedOnLock(inode: inode) && Date() < blockDeadline && !opened.done {
            usleep(2000)
        }
        #expect(!opened.done, "the open finished before the creator released its lock")
        input.fileHandleForWriting.write(Data("go\n".utf8))
        let openDeadline = Date().addingTimeInterval(60)
        while !opened.done && Date() < openDeadline { usleep(2000) }
        let result = try #require(opened.value)
        let env = try result.get()
        let table = try env.openTable("t")
        #expect(try env.read { txn in try txn.count(table) } == 300)
    }

    /// Whether /proc/locks shows a process waiting ("->") for a lock on the inode.
    private func blockedOnLock(inode: UInt64) -> Bool {
        guard let text = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return false }
        return text.split(separator: "\n").contains { line in
            line.contains("->") && line.split(separator: " ").contains { $0.hasSuffix(":\(inode)") }
        }
    }
}

/// The result of an open on another thread.
final class OpenResult: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<LMDBEnvironment, any Error>?

    func set(_ value: Result<LMDBEnvironment, any Error>) { lock.withLock { result = value } }
    var value: Result<LMDBEnvironment, any Error>? { lock.withLock { result } }
    var done: Bool { value != nil }
}
