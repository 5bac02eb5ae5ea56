import CairnJSON
import Foundation

/// The newest fire-drill report saved in a ledger directory (`cairn audit drill --save`; specs/drill.md).
public enum SavedDrill {
    /// The directory, inside a ledger directory, holding saved drill reports (`<UTC time>.json`).
    public static let directoryName = "drills"

    /// The newest saved report (the greatest file name: names are UTC times), parsed; nil when there is none.
    /// A report that cannot be read or parsed is reported as an error naming the file.
    public static func latest(ledgerDirectory: String) throws -> JSONValue? {
        let directory = ledgerDirectory + "/" + directoryName
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        guard let newest = names.filter({ $0.hasSuffix(".json") && !$0.hasPrefix(".") }).max() else { return nil }
        let path = directory + "/" + newest
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StatsError("cannot read the saved drill report \(path)")
        }
        do {
            return try JSONParser.parse(Array(data))
        } catch {
            throw StatsError("the saved drill report \(path) is not valid JSON: \(error)")
        }
    }
}
