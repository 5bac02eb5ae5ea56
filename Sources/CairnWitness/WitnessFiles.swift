import CairnStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few file operations a witness directory needs, as thin wrappers over
/// `CairnStorage.DurableFiles`: new files get their exact mode and are synced together with the
/// directory entry that names them (the key file's entry was never synced before, so a crash
/// right after `cairn witness init` could lose the key while keeping the state database).
enum WitnessFiles {
    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Creates `path` (and its parents, syncing their entries), or accepts it if it exists and is
    /// empty.
    static func createEmptyDirectory(_ path: String) throws(WitnessError) {
        do {
            try DurableFiles.createEmptyDirectory(path, mode: 0o755)
        } catch {
            switch error.code {
            case .notEmpty:
                throw WitnessError(.alreadyExists, "\(path) is not empty; a new witness needs a new or empty directory")
            case .notDirectory where error.operation == .createDirectory:
                throw WitnessError(.alreadyExists, "\(path) exists and is not a directory")
            default:
                throw WitnessError(.io, error.message)
            }
        }
    }

    /// Writes a new file (it must not exist) with exactly `mode`, and syncs it and its directory.
    static func writeNewFile(_ path: String, contents: [UInt8], mode: mode_t) throws(WitnessError) {
        do {
            try DurableFiles.createNew(path, contents: contents, mode: mode)
        } catch {
            throw WitnessError(.io, error.message)
        }
    }

    /// The file's bytes, or `nil` if it cannot be read.
    static func readFile(_ path: String) -> [UInt8]? {
        try? DurableFiles.read(path)
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
