import CairnCrypto
import CairnMerkle
import CairnStorage
import Foundation

/// Ledgers in storage format 1 (one `hashes` key per stored tree hash), the format before hash tiles, for the
/// tests of `cairn migrate` and of reading old ledgers.
package enum FormatOneLedger {
    /// The directory of the committed fixture: a generic ledger of 600 records in 4 appends (checkpoints at 0,
    /// 100, 137, 337 and 600) written by cairn 7e2046a, the last format 1 code (Tests/Fixtures/README.md).
    package static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/format-1-ledger")

    /// Copies the fixture's files into `directory` (which must exist), the signing key with mode 0600.
    package static func copyFixture(into directory: String) throws {
        for name in ["data.mdb", "ledger.vkey", "signing-key.pem"] {
            let target = directory + "/" + name
            try FileManager.default.copyItem(atPath: fixture.appendingPathComponent(name).path, toPath: target)
            try FileManager.default.setAttributes(
                [.posixPermissions: name == "signing-key.pem" ? 0o600 : 0o640], ofItemAtPath: target)
        }
    }

    /// Rewrites the ledger in `directory` (format 2, not open in any `Ledger` that will be used again) into
    /// format 1 as the old code stored it: every stored hash under its stored-hash index in `hashes`, recomputed
    /// from the leaves; `tiles` emptied; `meta/format` "1".
    package static func downgrade(directory: String) throws {
        let env = try LMDBEnvironment.shared(directory: directory)
        let leaves = try env.openTable("leaves")
        let hashes = try env.openTable("hashes")
        let tiles = try env.openTable("tiles")
        let meta = try env.openTable("meta")
        var tree = InMemoryMerkleTree()
        try env.read { txn in
            try txn.withCursor(leaves) { cursor in
                var entry = try cursor.first()
                while let (_, value) = entry {
                    tree.append(leafHash: RFC6962.leafHash(value))
                    entry = try cursor.next()
                }
            }
        }
        try env.write { txn in
            try txn.removeAll(hashes)
            for (index, hash) in tree.storedHashes.enumerated() {
                try hash.withUnsafeBytes { try txn.put(hashes, key: UInt64(index), value: $0, mode: .append) }
            }
            try txn.removeAll(tiles)
            try txn.put(meta, key: Array("format".utf8), value: Array("1".utf8))
        }
    }
}
