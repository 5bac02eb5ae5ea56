import CairnJSON
import CairnRecords
import Foundation

/// Reports saved in a ledger directory by the commands that read a repository, which the ledger itself cannot
/// see: fire drills (`cairn audit drill --save`, in `drills/`) and missing-commit audits (`cairn audit missing
/// --save`, in `audits/missing/`); specs/drill.md. The stats views show the newest of each (health, gaps). They live
/// here rather than in CairnAudit so that the server and `cairn stats` can read them.
public enum SavedReports {
    /// The directory, inside a ledger directory, holding saved drill reports.
    public static let drillDirectory = "drills"
    /// The directory, inside a ledger directory, holding saved `cairn audit missing` results.
    public static let missingAuditDirectory = "audits/missing"

    /// The name a report made at `at` (Unix ms) is saved under: the UTC time in the ISO 8601 basic format with
    /// milliseconds, `20261207T160622.123Z.json`, so that names sort as times do and need no character that some
    /// file systems refuse (`:`).
    public static func fileName(at: Int64) -> String {
        let text = Timestamp.format(at)  // 2026-12-07T16:06:22Z or 2026-12-07T16:06:22.123Z
        let digits = text.filter { $0 != "-" && $0 != ":" }.dropLast()  // 20261207T160622[.123]
        let whole = digits.contains(".") ? String(digits) : digits + ".000"
        return whole + "Z.json"
    }

    /// Whether `name` is a saved report's file name, `YYYYMMDDTHHMMSS.mmmZ.json` (UTC): so the newest is the
    /// greatest, and temporary files of a save in progress are not.
    public static func isSavedFileName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        let pattern = Array("00000000T000000.000Z.json".utf8)
        guard bytes.count == pattern.count else { return false }
        return zip(bytes, pattern).allSatisfy { byte, expected in
            expected == UInt8(ascii: "0") ? (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) : byte == expected
        }
    }

    /// The newest report saved in `subdirectory` of `ledgerDirectory`, parsed; nil when none was saved. Throws
    /// `StatsError` naming the directory or file when it cannot be listed or read, or the file is not JSON.
    public static func latest(ledgerDirectory: String, in subdirectory: String) throws(StatsError) -> JSONValue? {
        let directory = ledgerDirectory + "/" + subdirectory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else { return nil }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw StatsError("cannot list the saved reports in \(directory): \(error.localizedDescription)")
        }
        guard let newest = names.filter(isSavedFileName).max() else { return nil }
        let path = directory + "/" + newest
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StatsError("cannot read the saved report \(path)")
        }
        do {
            return try JSONParser.parse(Array(data))
        } catch {
            throw StatsError("the saved report \(path) is not JSON: \(error)")
        }
    }

    /// What the views show beyond the ledger, read from `ledgerDirectory`: the newest saved drill and missing-commit
    /// audit.
    public static func context(ledgerDirectory: String) throws(StatsError) -> (drill: JSONValue?, missing: JSONValue?) {
        (
            try latest(ledgerDirectory: ledgerDirectory, in: drillDirectory),
            try latest(ledgerDirectory: ledgerDirectory, in: missingAuditDirectory)
        )
    }
}
