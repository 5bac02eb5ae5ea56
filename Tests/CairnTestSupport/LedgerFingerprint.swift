import CairnCrypto
import CairnLedger
import CairnNote
import Foundation

/// What a test compares before and after something that must leave a ledger alone (a refused
/// record, a bad argument, a failed read): the tree size, the root at that size, the latest signed
/// checkpoint, and the size of the access log next to it (a refused append or a malformed read
/// must not be recorded there either).
public struct LedgerFingerprint: Sendable, Hashable, CustomStringConvertible {
    public let size: UInt64
    public let root: String
    /// The latest checkpoint note, signatures included: a read that signed and stored a new
    /// checkpoint would change it without changing the size.
    public let checkpoint: String
    /// The access log's tree size; nil when the ledger has no access log (yet).
    public let accessLogSize: UInt64?

    public var description: String {
        "size \(size), root \(root), access log \(accessLogSize.map(String.init) ?? "absent")"
    }

    /// The state of the ledger in `directory`, opened read-only (with its access log, if any).
    public static func of(directory: String) throws -> LedgerFingerprint {
        var options = Ledger.OpenOptions()
        options.readOnly = true
        let ledger = try Ledger.open(at: directory, options: options)
        let accessLog = directory + "/access-log"
        let accessLogSize =
            FileManager.default.fileExists(atPath: accessLog + "/data.mdb")
            ? try Ledger.open(at: accessLog, options: options).treeSize() : nil
        return try ledger.fingerprint(accessLogSize: accessLogSize)
    }
}

extension Ledger {
    /// This ledger's `LedgerFingerprint`, from one snapshot; `accessLogSize` is given by the caller
    /// (a server's access log is a ledger of its own).
    public func fingerprint(accessLogSize: UInt64? = nil) throws -> LedgerFingerprint {
        try read { snapshot in
            let size = snapshot.treeSize
            return LedgerFingerprint(
                size: size, root: try snapshot.rootHash(size: size).hex,
                checkpoint: try snapshot.checkpoint().serialized, accessLogSize: accessLogSize)
        }
    }
}
