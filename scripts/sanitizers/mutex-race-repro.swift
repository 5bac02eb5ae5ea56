// Shows the ThreadSanitizer false positive that scripts/sanitizers/tsan.supp suppresses: every
// access below is inside Synchronization.Mutex.withLock, yet under contention TSan reports a
// "Swift access race" between the closures (the Mutex's contended path hands the lock over
// inside the kernel, a PI futex, so TSan never sees the release/acquire pair). It needs
// contention, so it may take a few runs.
//
//   swiftc -sanitize=thread -g scripts/sanitizers/mutex-race-repro.swift -o /tmp/mutex-repro && /tmp/mutex-repro
//   TSAN_OPTIONS=suppressions=scripts/sanitizers/tsan.supp /tmp/mutex-repro   # no report
import Foundation
import Synchronization

enum Rules {
    static let list = Mutex<[String]>([])
    static func add(_ name: String) { list.withLock { $0.append(name) } }
    static func has(_ name: String) -> Bool { list.withLock { $0.contains(name) } }
    static func remove(_ name: String) { list.withLock { $0.removeAll { $0 == name } } }
}

DispatchQueue.concurrentPerform(iterations: 8) { i in
    for n in 0..<500 {
        Rules.add("\(i)-\(n)")
        _ = Rules.has("\(i)-\(n)")
        Rules.remove("\(i)-\(n)")
    }
}
print("left: \(Rules.list.withLock { $0.count })")
