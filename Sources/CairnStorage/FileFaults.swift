import Synchronization

/// In-process fault injection for the file layer, for tests of the layer itself.
///
/// Every system call `DurableFiles` and `OutputFile` make goes through `FileFaults.check`, which
/// fails it with a chosen `errno` when a rule matches: the operation, a path containing
/// `pathContains`, and the call's position among matching calls (`after` successful ones
/// first). Rules are process-wide; a test scopes its rules to a unique temporary directory, so
/// tests running in parallel never see each other's faults. Calls the layer does not make
/// itself (LMDB's own I/O) are out of reach here: the process-level shim in Tests/Faults covers
/// those. Package-visible only: production code cannot install faults.
///
/// ```swift
/// FileFaults.inject(.init(.sync, pathContains: dir, after: 0, errno: EIO))
/// defer { FileFaults.remove(pathContains: dir) }
/// #expect(throws: FileError.self) { try DurableFiles.replace(dir + "/f", contents: [1], mode: 0o600) }
/// ```
package enum FileFaults {
    /// The system calls a rule can fail.
    package enum Operation: String, Sendable, CaseIterable {
        /// `open` (including `O_CREAT`), `lstat`/`fstat` are not faulted.
        case open
        case read
        /// One `write`/`pwrite` call (a loop makes several for a large buffer).
        case write
        /// `fsync` of a file or a directory.
        case fsync
        /// `rename` (and `renameat2`).
        case rename
        case unlink
        case mkdir
        /// `fchmod`/`chmod`.
        case chmod
        case truncate
    }

    /// One fault: fail the matching calls after the first `after`, at most `times` of them,
    /// with `errno` — or, with `maxBytes`, let them transfer at most that many bytes (a short
    /// read or write). `EINTR` makes the layer retry, as a real interrupted call does.
    package struct Rule: Sendable {
        package var operation: Operation
        package var pathContains: String
        package var after: Int
        package var errno: Int32
        package var times: Int
        package var maxBytes: Int?

        package init(
            _ operation: Operation, pathContains: String, after: Int = 0, errno: Int32 = 0, times: Int = .max,
            maxBytes: Int? = nil
        ) {
            self.operation = operation
            self.pathContains = pathContains
            self.after = after
            self.errno = errno
            self.times = times
            self.maxBytes = maxBytes
        }
    }

    /// What to do with one call.
    enum Effect: Equatable {
        /// Fail it with this `errno`.
        case fail(Int32)
        /// Let it transfer at most this many bytes.
        case limit(Int)
    }

    private struct Installed {
        var rule: Rule
        var seen = 0
        var failed = 0
    }

    private static let rules = Mutex<[Installed]>([])
    private static let active = Atomic<Int>(0)

    /// Installs `rule`.
    package static func inject(_ rule: Rule) {
        rules.withLock { list in
            list.append(Installed(rule: rule))
            active.store(list.count, ordering: .releasing)
        }
    }

    /// Removes every rule whose `pathContains` is `pathContains`.
    package static func remove(pathContains: String) {
        rules.withLock { list in
            list.removeAll { $0.rule.pathContains == pathContains }
            active.store(list.count, ordering: .releasing)
        }
    }

    /// How many calls the rules for `pathContains` have failed so far (so a test can prove its
    /// fault was reached).
    package static func injected(pathContains: String) -> Int {
        rules.withLock { list in list.filter { $0.rule.pathContains == pathContains }.reduce(0) { $0 + $1.failed } }
    }

    /// What to do with this call: `nil` to let it run.
    static func check(_ operation: Operation, _ path: String) -> Effect? {
        guard active.load(ordering: .acquiring) > 0 else { return nil }
        return rules.withLock { list -> Effect? in
            for i in list.indices where list[i].rule.operation == operation && path.contains(list[i].rule.pathContains)
            {
                list[i].seen += 1
                if list[i].seen > list[i].rule.after && list[i].failed < list[i].rule.times {
                    list[i].failed += 1
                    return list[i].rule.maxBytes.map { .limit(max(1, $0)) } ?? .fail(list[i].rule.errno)
                }
            }
            return nil
        }
    }
}
