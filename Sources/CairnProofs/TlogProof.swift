import CairnCrypto
import CairnMerkle
import CairnNote

/// A C2SP `tlog-proof` (`c2sp.org/tlog-proof@v1`): an entry's index, its inclusion proof and
/// the signed checkpoint it leads to; verifiable offline with only the log's verifier key.
///
/// ```
/// c2sp.org/tlog-proof@v1
/// index 3
/// <base64 hash>            (zero or more, leaf's sibling first)
///
/// <signed checkpoint, verbatim>
/// ```
public struct TlogProof: Sendable, Hashable {
    /// The first line of every proof.
    public static let header = "c2sp.org/tlog-proof@v1"
    /// More hashes than this cannot be an inclusion proof in a tree of fewer than 2^63 leaves.
    public static let maxHashes = 63

    /// Opaque, unauthenticated extra data (`extra` line), if any.
    public var extra: [UInt8]?
    /// The zero-based index of the entry.
    public var index: UInt64
    /// The RFC 6962 inclusion proof, from the leaf's sibling up to the root's child.
    public var hashes: [SHA256Digest]
    /// The signed checkpoint, included verbatim.
    public var checkpoint: SignedCheckpoint

    public init(index: UInt64, hashes: [SHA256Digest], checkpoint: SignedCheckpoint, extra: [UInt8]? = nil) {
        self.index = index
        self.hashes = hashes
        self.checkpoint = checkpoint
        self.extra = extra
    }

    /// Parses the text of a proof; errors name the offending line.
    public init(parsing bytes: [UInt8]) throws(ProofError) {
        let text = try ProofLines(bytes, format: "tlog-proof")
        let lines = text.lines
        guard lines.first == Substring(Self.header) else {
            throw ProofError.malformed(
                line: 1, "expected \"\(Self.header)\", found \(ProofLines.quote(lines.first ?? ""))")
        }
        var next = 1
        if next < lines.count, lines[next].hasPrefix("extra ") {
            guard let extra = Base64.decode(lines[next].dropFirst(6)) else {
                throw ProofError.malformed(line: next + 1, "extra data is not valid base64")
            }
            self.extra = extra
            next += 1
        } else {
            self.extra = nil
        }
        guard next < lines.count else { throw ProofError.malformed(line: next + 1, "missing the index line") }
        index = try ProofLines.number(lines[next], keyword: "index", lineNumber: next + 1)
        let (hashes, blank) = try text.hashes(from: next + 1, max: Self.maxHashes)
        self.hashes = hashes
        checkpoint = try text.checkpoint(after: blank)
    }

    /// The proof text, ending in a newline.
    public var serialized: String {
        var out = Self.header + "\n"
        if let extra { out += "extra " + Base64.encode(extra) + "\n" }
        out += "index \(index)\n"
        for hash in hashes { out += hash.base64 + "\n" }
        return out + "\n" + checkpoint.serialized
    }

    /// Verifies that the entry whose RFC 6962 leaf hash is `leafHash` is in the log: the
    /// checkpoint is signed by `logKey` for its origin, and the proof leads from the leaf to the
    /// checkpoint's root. Returns the verified checkpoint. The origin must be `origin`, or the
    /// key's name when `origin` is nil.
    public func verify(
        leafHash: SHA256Digest, logKey: NoteVerifierKey, origin: String? = nil
    ) throws(ProofError) -> Checkpoint {
        let verified = try verifyCheckpoint(checkpoint, key: logKey, role: "checkpoint", origin: origin)
        do {
            try MerkleVerifier.verifyInclusion(
                leafHash: leafHash, index: index, treeSize: verified.size, proof: hashes, root: verified.rootHash)
        } catch {
            throw ProofError(error.proofCode, error.message)
        }
        return verified
    }

    /// Verifies the proof for the entry bytes `entry` (hashed as an RFC 6962 leaf).
    public func verify(entry: [UInt8], logKey: NoteVerifierKey, origin: String? = nil) throws(ProofError) -> Checkpoint
    {
        try verify(leafHash: RFC6962.leafHash(entry), logKey: logKey, origin: origin)
    }
}

extension MerkleProofError {
    var proofCode: ProofError.Code {
        switch code {
        case .indexOutOfRange: .indexOutOfRange
        case .wrongProofLength: .wrongProofLength
        case .rootMismatch: .rootMismatch
        case .invalidSizes: .sizeMismatch
        }
    }
}
