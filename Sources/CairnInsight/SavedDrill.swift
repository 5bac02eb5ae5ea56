import CairnJSON
import Foundation

/// The fire-drill reports saved in a ledger directory (`cairn audit drill --save`; specs/drill.md), read by the
/// health view. Lives here rather than in CairnAudit so that the server and `cairn stats` can read it.
public enum SavedDrill {
    /// The directory, inside a ledger directory, holding saved drill reports.
    public static let directoryName = "drills"

    /// Whether `name` is a saved drill's file name, `YYYYMMDDTHHMMSS.mmmZ.json` (UTC): so the newest is the
    /// greatest, and temporary files of a save in progress are not.
    public static func isSavedFileName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        let pattern = Array("00000000T000000.000Z.json".utf8)
        guard bytes.count == pattern.count else { return false }
        return zip(bytes, pattern).allSatisfy { byte, expected in
            expected == UInt8(ascii: "0") ? (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) : byte == expected
        }
    }

    /// The newest saved report, parsed; nil when none was saved. Throws `StatsError` naming the directory or file
    /// when it cannot be listed or read, or the file is not JSON.
    public static func latest(ledgerDirectory: String) throws(StatsError) -> JSONValue? {
        let directory = ledgerDirectory + "/" + directoryName
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else { return nil }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw StatsError("cannot list the saved drills in \(directory): \(error.localizedDescription)")
        }
        guard let newest = names.filter(isSavedFileName).max() else { return nil }
        let path = directory + "/" + newest
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StatsError("cannot read the saved drill \(path)")
        }
        do {
            return try JSONParser.parse(Array(data))
        } catch {
            throw StatsError("the saved drill \(path) is not JSON: \(error)")
        }
    }
}
