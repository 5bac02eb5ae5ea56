import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension LMDBEnvironment {
    private final class WeakEnvironment {
        weak var environment: LMDBEnvironment?
        init(_ environment: LMDBEnvironment) { self.environment = environment }
    }

    private static let registry = Mutex<[String: WeakEnvironment]>([:])

    /// Returns the environment already open in this process for `directory`, or opens it.
    ///
    /// LMDB forbids opening the same environment twice in one process (its POSIX locks would be
    /// released by the second close), so every component that opens a ledger goes through here.
    /// Thread-safe. `options` apply only when this call opens the environment.
    public static func shared(directory: String, options: Options = Options()) throws -> LMDBEnvironment {
        let key = canonicalPath(directory)
        return try registry.withLock { map in
            if let existing = map[key]?.environment {
                if !options.readOnly && existing.options.readOnly {
                    throw StorageError(
                        code: .lmdb, resultCode: .invalid,
                        message: "\(directory) is already open read-only in this process")
                }
                return existing
            }
            let env = try LMDBEnvironment(directory: directory, options: options)
            map[key] = WeakEnvironment(env)
            return env
        }
    }

    private static func canonicalPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
