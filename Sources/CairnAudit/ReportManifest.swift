import CairnCrypto
import CairnNote
import CairnRecords

/// The signed statement that goes with a report: which query produced it, its SHA-256, and the
/// signed checkpoint of the tree size it was computed from. Specified byte for byte in
/// specs/report-manifest.md.
///
/// The manifest's text (what the ledger key signs) is:
///
/// ```
/// cairn-report-manifest/v3
/// format csv
/// since 2026-11-01T00:00:00Z
/// until -
/// rows 2
/// bytes 612
/// sha256 5d41402abc4b2a76b9719d911017c592…
///
/// example.com/ai-provenance
/// 7
/// qJ3b…=
///
/// — example.com/ai-provenance Az3g…
/// ```
public struct ReportManifest: Sendable, Hashable {
    /// The version of the report rules this cairn writes (specs/report-manifest.md §7).
    public static let currentVersion = 3
    /// The versions this cairn writes and verifies: 1 (cells as they are), 2 (control and
    /// bidirectional characters escaped in csv and md cells) and 3 (as 2, with the Evidence
    /// column after Model).
    public static let versions = 1...3

    /// The first line of a manifest of report `version`: `cairn-report-manifest/v3`. It also keeps
    /// a manifest from ever reading as a checkpoint.
    public static func formatLine(version: Int) -> String { "cairn-report-manifest/v\(version)" }

    public let query: ReportQuery
    /// The number of rows in the report.
    public let rows: UInt64
    /// The report's length in bytes.
    public let byteCount: UInt64
    /// SHA-256 of the report's bytes.
    public let sha256: SHA256Digest
    /// The signed checkpoint of the tree size the report was computed as of.
    public let checkpoint: SignedCheckpoint

    public init(query: ReportQuery, rows: UInt64, byteCount: UInt64, sha256: SHA256Digest, checkpoint: SignedCheckpoint)
    {
        self.query = query
        self.rows = rows
        self.byteCount = byteCount
        self.sha256 = sha256
        self.checkpoint = checkpoint
    }

    /// The tree size the report was computed as of.
    public var treeSize: UInt64 { checkpoint.checkpoint.size }

    /// The text the ledger key signs.
    public var text: String {
        Self.formatLine(version: query.version) + "\n"
            + "format \(query.format.rawValue)\n"
            + "since \(query.since.map(Timestamp.format) ?? "-")\n"
            + "until \(query.until.map(Timestamp.format) ?? "-")\n"
            + "rows \(rows)\n"
            + "bytes \(byteCount)\n"
            + "sha256 \(sha256.hex)\n"
            + "\n"
            + checkpoint.serialized
    }

    /// The fields, in order, that follow the format line.
    static let keys = ["format", "since", "until", "rows", "bytes", "sha256"]

    /// Parses a manifest text (the text of the signed note, not the whole note). Strict: the
    /// format line, the six `key value` lines in order, an empty line, and a signed checkpoint;
    /// every value in its one canonical spelling, so that a parsed manifest prints back exactly.
    /// Signatures are not verified here.
    public init(parsing text: String) throws(ManifestError) {
        var lines = text.linesSplitAtLF()
        guard let version = Self.versions.first(where: { lines.first == Substring(Self.formatLine(version: $0)) })
        else {
            let first = lines.first.map { String($0.prefix(60)) } ?? ""
            let known = Self.versions.map { Self.formatLine(version: $0).debugDescription }.joined(separator: " or ")
            throw ManifestError(
                "line 1: expected \(known), found \(first.debugDescription) "
                    + "(not a Cairn report manifest, or a newer version)")
        }
        guard lines.count >= 2 + Self.keys.count else {
            throw ManifestError(
                "the manifest ends after line \(lines.count); expected \(Self.keys.joined(separator: ", "))")
        }
        var values: [String] = []
        for (offset, key) in Self.keys.enumerated() {
            let line = lines[1 + offset]
            guard line.hasPrefix(key + " ") else {
                throw ManifestError(
                    "line \(2 + offset): expected \"\(key) <value>\", found \(String(line.prefix(60)).debugDescription)"
                )
            }
            values.append(String(line.dropFirst(key.count + 1)))
        }
        let blank = 1 + Self.keys.count
        guard lines[blank].isEmpty else {
            throw ManifestError("line \(blank + 1): expected an empty line before the signed checkpoint")
        }
        func fail(_ index: Int, _ message: String) -> ManifestError {
            ManifestError("line \(index + 2): \(Self.keys[index]) \(message)")
        }
        guard let format = ReportFormat(rawValue: values[0]) else {
            throw fail(0, "must be csv, json or md, found \(values[0].debugDescription)")
        }
        func time(_ index: Int) throws(ManifestError) -> Int64? {
            let value = values[index]
            if value == "-" { return nil }
            guard let ms = Timestamp.parse(value), Timestamp.format(ms) == value else {
                throw fail(
                    index, "must be - or an RFC 3339 UTC time as Cairn writes it, found \(value.debugDescription)")
            }
            return ms
        }
        func count(_ index: Int) throws(ManifestError) -> UInt64 {
            let value = values[index]
            guard let number = UInt64(value), String(number) == value else {
                throw fail(
                    index, "must be a decimal number without sign or leading zeros, found \(value.debugDescription)")
            }
            return number
        }
        let since = try time(1)
        let until = try time(2)
        let query: ReportQuery
        do {
            query = try ReportQuery(format: format, since: since, until: until, version: version)
        } catch {
            throw ManifestError("lines 3-4: \(error.message)")
        }
        rows = try count(3)
        byteCount = try count(4)
        guard values[5].utf8.count == 64, values[5].utf8.allSatisfy({ Self.isLowerHex($0) }),
            let digest = SHA256Digest(hex: values[5])
        else {
            throw fail(5, "must be 64 lowercase hex digits, found \(String(values[5].prefix(70)).debugDescription)")
        }
        sha256 = digest
        self.query = query

        lines.removeFirst(blank + 1)
        let rest = lines.joined(separator: "\n")
        do {
            checkpoint = try SignedCheckpoint(parsing: rest)
        } catch {
            throw ManifestError("the embedded checkpoint (from line \(blank + 2)) is malformed: \(error.message)")
        }
        guard checkpoint.serialized == rest else {
            throw ManifestError("the embedded checkpoint (from line \(blank + 2)) is not in canonical form")
        }
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}

/// Why a manifest text could not be parsed: one line, starting with the line number.
public struct ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
