import CairnLedger
import CairnServer
import CairnStorage
import Foundation

/// The single-writer guard of `cairn serve` (specs/storage.md, "The serve lock"): an advisory lock on
/// `serve.lock` in the ledger directory, and in its access log's, held for the life of the process.
///
/// Two servers on one ledger would each sign checkpoints, send them to witnesses and publish tiles: witnesses
/// would see two writers racing on one log. So a second `cairn serve` is refused at start, naming the ledger and
/// the process that serves it. The access log is locked too, so that no server can run on it directly
/// (`--ledger …/access-log`) beside the server that writes it. The kernel drops the locks when the process ends,
/// however it ends. Other commands do not take the lock: appending beside a server is safe (each writer reloads
/// its state when another has committed), so `cairn append`, `cairn import` or `cairn token` run while it serves.
enum ServeLock {
    /// The lock file's name in a ledger directory.
    static let fileName = "serve.lock"

    /// Takes the locks of the ledger in `directory` and of its access log (when it exists yet); returns them, to
    /// be kept until the server stops.
    static func acquire(ledger directory: String) throws(CLIError) -> [LockFile] {
        var locks = [try lock(directory, what: "the ledger")]
        let accessLog = (directory.hasSuffix("/") ? directory : directory + "/") + AccessLog.directoryName
        if FileManager.default.fileExists(atPath: accessLog + "/data.mdb") {
            locks.append(try lock(accessLog, what: "its access log"))
        }
        return locks
    }

    private static func lock(_ directory: String, what: String) throws(CLIError) -> LockFile {
        let path = (directory.hasSuffix("/") ? directory : directory + "/") + fileName
        do {
            return try LockFile(path: path, mode: 0o644)
        } catch {
            switch error {
            case .held(_, let pid):
                throw CLIError(
                    .temporaryFailure,
                    "\(what) at \(directory) is already being served by another cairn serve ("
                        + (pid.map { "process \($0)" } ?? "a process") + " holds \(path)): two servers would both "
                        + "sign checkpoints and publish them to witnesses and tiles. Stop it first, or use it: "
                        + "`cairn append --server URL`")
            case .file(let failure):
                let status: ExitStatus = failure.code == .permission ? .noPermission : .ioError
                throw CLIError(status, "cannot take the serve lock of \(directory): \(failure.message)")
            }
        }
    }
}
