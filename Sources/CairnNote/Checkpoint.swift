import CairnCrypto

/// The text of a c2sp.org/tlog-checkpoint: origin, tree size, root hash, optional extension lines.
///
/// ```
/// example.com/cairn-demo
/// 0
/// 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
/// ```
///
/// Cairn's logs are RFC 6962 SHA-256 trees, so the root hash must be exactly 32 bytes.
public struct Checkpoint: Sendable, Hashable {
    /// The log's identity (line 1). Non-empty; by Cairn's convention also the log's key name.
    public let origin: String
    /// The number of leaves (line 2).
    public let size: UInt64
    /// The RFC 6962 root hash at `size` (line 3).
    public let rootHash: SHA256Digest
    /// Opaque non-empty lines after the root hash, without their newlines. Not recommended.
    public let extensionLines: [String]

    /// A checkpoint from its parts. Nothing is checked here; signing checks that the origin is
    /// non-empty and that the origin and extension lines are single non-empty lines without
    /// control characters.
    public init(origin: String, size: UInt64, rootHash: SHA256Digest, extensionLines: [String] = []) {
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
        self.extensionLines = extensionLines
    }

    /// Parses a checkpoint text (a note text: it ends in a newline). Strict:
    ///
    /// - line 1, the origin, is non-empty;
    /// - line 2 is the size in ASCII decimal, no sign, no leading zero unless it is `0`, at most
    ///   2^64 - 1;
    /// - line 3 is the canonical padded base64 of a 32-byte root hash;
    /// - any further lines are extension lines and must be non-empty;
    /// - no ASCII control characters other than the newlines.
    public init(parsing text: String) throws(NoteError) {
        guard text.utf8.last == NoteSyntax.newline else {
            throw NoteError(.malformedCheckpoint, "the checkpoint text must end with a newline")
        }
        var lines = text.linesSplitAtLF()
        lines.removeLast()  // the empty piece after the final newline
        for (index, line) in lines.enumerated() {
            if let bad = line.utf8.first(where: { $0 < 0x20 }) {
                throw NoteError(
                    .malformedCheckpoint,
                    "line \(index + 1): control character \(NoteSyntax.codePoint(Unicode.Scalar(bad))) is not allowed")
            }
        }
        guard lines.count >= 3 else {
            throw NoteError(
                .malformedCheckpoint,
                "the checkpoint has \(lines.count) line\(lines.count == 1 ? "" : "s"); it needs at least 3: "
                    + "origin, tree size, root hash")
        }
        guard !lines[0].isEmpty else {
            throw NoteError(.malformedCheckpoint, "line 1: the origin is empty")
        }
        let size: UInt64
        switch NoteSyntax.parseDecimal(lines[1]) {
        case .success(let value):
            size = value
        case .failure(let problem):
            let shown = NoteSyntax.escaped(lines[1].prefix(40))
            let why: String
            switch problem {
            case .empty: why = "the tree size is empty"
            case .notDigits: why = "the tree size \"\(shown)\" is not an unsigned decimal number"
            case .leadingZero: why = "the tree size \"\(shown)\" has a leading zero"
            case .tooLarge: why = "the tree size \"\(shown)\" does not fit in 64 bits"
            }
            throw NoteError(.malformedCheckpoint, "line 2: \(why)")
        }
        guard let root = Base64.decode(lines[2]) else {
            throw NoteError(.malformedCheckpoint, "line 3: the root hash is not canonical padded base64 (RFC 4648)")
        }
        guard let rootHash = SHA256Digest(bytes: root) else {
            throw NoteError(
                .malformedCheckpoint,
                "line 3: the root hash is \(root.count) bytes; a SHA-256 tree root is 32")
        }
        let extensions = lines.dropFirst(3)
        if let empty = extensions.firstIndex(where: \.isEmpty) {
            throw NoteError(.malformedCheckpoint, "line \(empty + 1): extension lines must not be empty")
        }
        self.init(
            origin: String(lines[0]), size: size, rootHash: rootHash,
            extensionLines: extensions.map(String.init))
    }

    /// The checkpoint text: `origin\nsize\nbase64(root)\n` followed by each extension line and a
    /// newline.
    public var text: String {
        origin + "\n" + String(size) + "\n" + rootHash.base64 + "\n" + extensionLines.map { $0 + "\n" }.joined()
    }

    /// ``text``, after checking that the parts make a valid checkpoint text: a non-empty origin
    /// and non-empty extension lines, none containing a control character (a newline would
    /// split it).
    func validatedText() throws(NoteError) -> String {
        guard !origin.isEmpty else {
            throw NoteError(.malformedCheckpoint, "cannot sign a checkpoint with an empty origin")
        }
        if let bad = origin.utf8.first(where: { $0 < 0x20 }) {
            throw NoteError(
                .malformedCheckpoint,
                "cannot sign a checkpoint whose origin contains control character "
                    + "\(NoteSyntax.codePoint(Unicode.Scalar(bad))); the origin must be one line")
        }
        for (index, line) in extensionLines.enumerated() {
            guard !line.isEmpty else {
                throw NoteError(
                    .malformedCheckpoint,
                    "cannot sign a checkpoint with an empty extension line (extension line \(index + 1))")
            }
            if let bad = line.utf8.first(where: { $0 < 0x20 }) {
                throw NoteError(
                    .malformedCheckpoint,
                    "cannot sign a checkpoint whose extension line \(index + 1) contains control character "
                        + "\(NoteSyntax.codePoint(Unicode.Scalar(bad))); each extension line must be one line")
            }
        }
        return text
    }
}

/// A checkpoint and the signed note that carries it.
public struct SignedCheckpoint: Sendable, Hashable {
    /// The parsed note text.
    public let checkpoint: Checkpoint
    /// The note, with all its signature lines (the log's, cosigners', unknown ones).
    public let note: SignedNote

    /// Parses a signed note whose text is a checkpoint. Signatures are not verified.
    public init(parsing bytes: [UInt8]) throws(NoteError) {
        try self.init(note: SignedNote(parsing: bytes))
    }

    /// Parses a signed note whose text is a checkpoint. Signatures are not verified.
    public init(parsing text: String) throws(NoteError) {
        try self.init(parsing: Array(text.utf8))
    }

    /// A signed checkpoint from a parsed note whose text is a checkpoint.
    public init(note: SignedNote) throws(NoteError) {
        self.checkpoint = try Checkpoint(parsing: note.text)
        self.note = note
    }

    /// Signs `checkpoint` with the log's signer. Cairn names the log key after the origin, but
    /// this is not enforced here (a key name cannot contain spaces; an origin may).
    public static func sign(_ checkpoint: Checkpoint, with signer: NoteSigner) throws(NoteError) -> SignedCheckpoint {
        let text = try checkpoint.validatedText()
        let note = try SignedNote(text: text, signatures: [signer.sign(text: text)])
        return SignedCheckpoint(checkpoint: checkpoint, note: note)
    }

    private init(checkpoint: Checkpoint, note: SignedNote) {
        self.checkpoint = checkpoint
        self.note = note
    }

    /// This checkpoint with one more signature line (for example a cosignature); an existing line
    /// with the same key name and key ID is replaced.
    public func adding(_ signature: NoteSignature) throws(NoteError) -> SignedCheckpoint {
        SignedCheckpoint(checkpoint: checkpoint, note: try note.adding(signature))
    }

    /// The signed note text.
    public var serialized: String { note.serialized }

    /// Verifies the log's signature and returns the checkpoint.
    ///
    /// - The origin line must equal `origin`, which defaults to `logKey.name` (Cairn's convention:
    ///   the log key is named after the origin). Pass the origin explicitly for logs that name
    ///   their key differently, such as `go.sum database tree` signed by `sum.golang.org`.
    /// - The note must carry a signature line from `logKey` (`unknownKey` otherwise), and every
    ///   such line must verify (`badSignature`). Other signature lines are ignored: verify
    ///   cosignatures with ``CosignatureV1`` or ``SignedNote/verify(with:)``.
    @discardableResult
    public func verify(logKey: NoteVerifierKey, origin: String? = nil) throws(NoteError) -> Checkpoint {
        let expected = origin ?? logKey.name
        guard checkpoint.origin.sameBytes(as: expected) else {
            throw NoteError(
                .originMismatch,
                "line 1: the checkpoint origin \"\(NoteSyntax.escaped(checkpoint.origin))\" is not the "
                    + "expected origin \"\(NoteSyntax.escaped(expected))\"; check that the log key belongs to this log")
        }
        guard note.signatures.contains(where: { $0.names(logKey) }) else {
            throw NoteError(
                .unknownKey,
                "the checkpoint has no signature from the log key \(logKey.nameAndID) (signed by: \(note.signerList))")
        }
        try note.verify(with: [logKey])
        return checkpoint
    }
}
