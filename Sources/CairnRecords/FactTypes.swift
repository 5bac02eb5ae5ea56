import CairnCrypto

/// What a lifecycle record (or a rewrite) is about: a checkpoint's address or its client-chosen id.
///
/// In JSON a subject is one string: `sha256:` and 64 lowercase hex digits is an address; anything else
/// is an id (which is why checkpoint ids may not start with `sha256:`).
public enum SubjectReference: Sendable, Hashable, CustomStringConvertible {
    /// The content address of the checkpoint entry.
    case digest(SHA256Digest)
    /// The checkpoint's `id`.
    case id(String)

    /// Reads a subject string; nil when it is empty, or starts with `sha256:` without being an address.
    public init?(_ text: String) {
        if hasExactPrefix(text, "sha256:") {
            guard TextFormats.isDigest(text), let digest = SHA256Digest(hex: text.dropFirst(7)) else { return nil }
            self = .digest(digest)
        } else {
            guard !text.isEmpty else { return nil }
            self = .id(text)
        }
    }

    /// The JSON string form: `sha256:…` or the id.
    public var description: String {
        switch self {
        case .digest(let digest): return digest.description
        case .id(let id): return id
        }
    }
}

/// A 1-based inclusive range of line numbers, `start ≤ end`.
public struct LineRange: Sendable, Hashable, CustomStringConvertible {
    /// The first line, ≥ 1.
    public let start: UInt32
    /// The last line, ≥ `start`.
    public let end: UInt32

    /// Creates a range; nil unless `1 ≤ start ≤ end`.
    public init?(start: UInt32, end: UInt32) {
        guard start >= 1, start <= end else { return nil }
        self.start = start
        self.end = end
    }

    /// True when `line` is in the range (both ends included).
    public func contains(_ line: UInt32) -> Bool {
        start <= line && line <= end
    }

    /// True when the two ranges share at least one line.
    public func overlaps(_ other: LineRange) -> Bool {
        start <= other.end && other.start <= end
    }

    /// The number of lines.
    public var lineCount: UInt32 { end - start + 1 }

    /// `[start,end]`, as in JSON.
    public var description: String { "[\(start),\(end)]" }
}

/// One element of a checkpoint's `outputs`: which lines of which file at which commit the change made.
public struct OutputFacts: Sendable, Hashable {
    /// The repository, as the client names it (a clone URL, `owner/name`, …).
    public let repo: String
    /// The git object id of the commit holding the change (40 or 64 lowercase hex digits).
    public let commit: String
    /// The repository-relative path of the file.
    public let path: String
    /// The lines produced, in the record's order.
    public let ranges: [LineRange]
    /// The SHA-256 of the file content the ranges refer to.
    public let contentHash: SHA256Digest
    /// `ai`, `human` or `mixed`.
    public let contributor: String

    /// Creates the facts of one output.
    public init(
        repo: String, commit: String, path: String, ranges: [LineRange], contentHash: SHA256Digest, contributor: String
    ) {
        self.repo = repo
        self.commit = commit
        self.path = path
        self.ranges = ranges
        self.contentHash = contentHash
        self.contributor = contributor
    }

    /// True when one of the ranges contains `line`.
    public func contains(line: UInt32) -> Bool {
        ranges.contains { $0.contains(line) }
    }
}

/// What a `rewrite` record says: `new` replaces `old` (in `repo`, when given).
public struct RewriteFacts: Sendable, Hashable {
    /// The commit id before the rewrite.
    public let old: String
    /// The commit id after it.
    public let new: String
    /// The repository, when the record names it.
    public let repo: String?
    /// `rebase`, `squash`, `amend`, `cherry_pick` or `other`.
    public let kind: String

    /// Creates the facts of a rewrite.
    public init(old: String, new: String, repo: String?, kind: String) {
        self.old = old
        self.new = new
        self.repo = repo
        self.kind = kind
    }
}
