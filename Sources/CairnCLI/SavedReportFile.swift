import CairnInsight
import CairnJSON
import CairnRecords
import CairnStorage

/// Stores `json` as `<subdirectory>/<UTC time>.json` in the ledger directory (`SavedReports`; specs/drill.md),
/// atomically — a temporary file, synced, renamed, the directory synced — and returns its path. The ledger itself
/// is not touched. `what` names the report in messages ("drill").
func saveReport(
    _ json: JSONValue, at: Int64, in subdirectory: String, ledgerDirectory: String, what: String
) throws -> String {
    let directory = ledgerDirectory + "/" + subdirectory
    let path = directory + "/" + SavedReports.fileName(at: at)
    do {
        _ = try DurableFiles.createDirectories(directory)
        guard DurableFiles.kind(of: path, followingSymbolicLinks: false) == .missing else {
            throw CLIError(
                .cannotCreate,
                "cannot save the \(what): \(path) already exists (one of the same millisecond); run it again")
        }
        let text = DisplayText.escapeJSON(JSONWriter.pretty(json)) + "\n"
        try DurableFiles.replace(path, contents: Array(text.utf8), mode: 0o640)
    } catch let error as FileError {
        throw CLIError(outputFailure: error)
    }
    return path
}
