import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few file operations a witness directory needs, with durable writes.
enum WitnessFiles {
    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Creates `path` (and its parents), or accepts it if it exists and is empty.
    static func createEmptyDirectory(_ path: String) throws(WitnessError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw WitnessError(.alreadyExists, "\(path) exists and is not a directory")
            }
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            guard contents.isEmpty else {
                throw WitnessError(.alreadyExists, "\(path) is not empty; a new witness needs a new or empty directory")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw WitnessError(.io, "cannot create directory \(path): \(error.localizedDescription)")
        }
    }

    /// Writes a new file (it must not exist) with `mode`, and syncs it to disk.
    static func writeNewFile(_ path: String, contents: [UInt8], mode: mode_t) throws(WitnessError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw WitnessError(.io, "cannot create \(path): \(errnoText())") }
        defer { close(fd) }
        // The umask may have removed bits; the mode is part of the contract (0600 for keys).
        guard fchmod(fd, mode) == 0 else { throw WitnessError(.io, "cannot set the mode of \(path): \(errnoText())") }
        var written = 0
        while written < contents.count {
            let n = contents.withUnsafeBytes { write(fd, $0.baseAddress! + written, contents.count - written) }
            guard n > 0 else { throw WitnessError(.io, "cannot write \(path): \(errnoText())") }
            written += n
        }
        guard fsync(fd) == 0 else { throw WitnessError(.io, "cannot sync \(path): \(errnoText())") }
    }

    static func readFile(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
