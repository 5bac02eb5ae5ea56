import CairnCrypto
import CairnMerkle
import CairnNote

/// Fixed keys (from constant seeds, so runs are reproducible) that the fuzzers trust, and inputs built with
/// them. Mutations of correctly signed seeds keep verifying as long as the signed text is untouched, which
/// lets the fuzzer reach the code behind signature checks (Merkle proofs, quorums).
public enum FuzzKeys {
    /// The log: origin and key name.
    public static let logName = "fuzz.example/log"
    public static let logPrivateKey = try! Ed25519PrivateKey(seed: [UInt8](repeating: 1, count: 32))
    public static let logSigner = try! NoteSigner(name: logName, privateKey: logPrivateKey)
    public static let logKey = logSigner.verifierKey

    /// Two witnesses (cosignature/v1 keys).
    public static let witnessNames = ["fuzz.example/w1", "fuzz.example/w2"]
    public static let witnessPrivateKeys = [
        try! Ed25519PrivateKey(seed: [UInt8](repeating: 2, count: 32)),
        try! Ed25519PrivateKey(seed: [UInt8](repeating: 3, count: 32)),
    ]
    public static let witnessKeys = zip(witnessNames, witnessPrivateKeys).map { name, key in
        try! NoteVerifierKey(cosignatureName: name, ed25519: key.publicKey)
    }

    /// Published test keys from /work/shared/vectors/note (C2SP, golang/mod, transparency-dev/formats), so
    /// the vector notes verify too.
    public static let vectorKeys: [NoteVerifierKey] = [
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop",
        "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs",
        "Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH",
        "Known+fdd35892+BHAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH",
    ].map { try! NoteVerifierKey(parsing: $0) }

    /// Every key above.
    public static let allKeys = [logKey] + witnessKeys + vectorKeys

    /// The checkpoint of `tree` signed by the log and cosigned by the first `cosigners` witnesses.
    public static func signedCheckpoint(
        size: UInt64, root: SHA256Digest, extensionLines: [String] = [], cosigners: Int = 0
    ) -> SignedCheckpoint {
        let checkpoint = Checkpoint(origin: logName, size: size, rootHash: root, extensionLines: extensionLines)
        var signed = try! SignedCheckpoint.sign(checkpoint, with: logSigner)
        for i in 0..<cosigners {
            let line = try! CosignatureV1.sign(
                checkpoint: checkpoint, timestamp: 1_700_000_000 + UInt64(i), signer: witnessPrivateKeys[i],
                name: witnessNames[i])
            signed = try! signed.adding(line)
        }
        return signed
    }
}

/// A deterministic log: entry `i` is the bytes of "fuzz entry <i>".
public enum FuzzLog {
    /// The largest tree the fuzzers model.
    public static let maxSize: UInt64 = 600

    public static func entry(_ index: UInt64) -> [UInt8] { Array("fuzz entry \(index)".utf8) }

    /// The tree of all `maxSize` entries; proofs for smaller trees read its stored hashes.
    public static let tree: InMemoryMerkleTree = {
        var tree = InMemoryMerkleTree()
        for i in 0..<maxSize { tree.append(entry: entry(i)) }
        return tree
    }()

    /// The roots of the trees of 0...maxSize entries.
    public static let roots: [SHA256Digest] = (0...maxSize).map { try! MerkleTree.root(treeSize: $0, reader: tree) }

    public static func inclusionProof(index: UInt64, size: UInt64) -> [SHA256Digest] {
        try! MerkleTree.inclusionProof(index: index, treeSize: size, reader: tree)
    }

    public static func consistencyProof(oldSize: UInt64, newSize: UInt64) -> [SHA256Digest] {
        try! MerkleTree.consistencyProof(oldSize: oldSize, newSize: newSize, reader: tree)
    }
}
