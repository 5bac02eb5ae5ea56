import ArgumentParser
import CairnCapture
import CairnCommitCapture
import CairnJSON
import CairnLedger
import CairnRecords
import CairnRedaction
import Foundation

extension ProviderLog.Format: ExpressibleByArgument {}

/// `cairn import --format provider-log FILE`: a model provider's request log (JSON Lines) into `model-call` records,
/// the model-side evidence that `cairn query --request-id` correlates with client-side checkpoints
/// (specs/interop-formats.md §5). The whole log is converted and checked before anything is appended, in one
/// transaction (nothing on an error; with --skip-invalid, the others), as the other foreign imports are.
///
/// A format of `cairn import` rather than a subcommand `cairn import provider-log`: ArgumentParser decodes a command's
/// own arguments before it looks for a subcommand, so `import`'s optional FILE would take the word `provider-log`.
struct ProviderLogImport {
    let options: InteropImportOptions
    let location: LedgerLocation
    let file: String
    let skipInvalid: Bool
    let json: Bool

    var provider: ProviderLog.Format { options.provider ?? .generic }

    func run() async throws {
        try await runReportingErrors {
            var options = ProviderLog.Options(
                format: provider, map: try self.options.mapping(), logName: self.options.log,
                includePayloads: self.options.includePayloads)
            if options.includePayloads { options.redact = try redactor() }
            let what = file == "-" ? "<stdin>" : file
            let lines = ProviderLog.lines(in: try readInput(file, what: "provider log"))
            guard !lines.isEmpty else {
                throw CLIError(.dataError, "\(what) holds no log entries; nothing was imported")
            }

            let ledger = try location.open()
            let preparer = RecordPreparer(rules: ledger.recordRules())
            var records: [InputRecord] = []
            var invalid: [String] = []
            for (number, bytes) in lines {
                do throws(ImportProblem) {
                    let record = try ProviderLog.record(line: bytes, number: number, options: options)
                    let prepared = preparer.prepare(
                        RecordText(line: number, bytes: JSONWriter.compactBytes(record)[...], isDocument: false),
                        source: what)
                    if prepared.errorLines.isEmpty { records.append(prepared) } else { invalid += prepared.errorLines }
                } catch {
                    invalid.append(DisplayText.escape("\(what):\(error.line): \(error.message)"))
                }
            }
            let (outcomes, skipped) = try await importAtomically(
                records, invalid: invalid, skipInvalid: skipInvalid, noun: "lines", into: ledger)
            let results = outcomes.compactMap(\.result)
            let appended = results.filter { !$0.duplicate }.count
            let treeSize = try await ledger.read { $0.treeSize }
            if json {
                printJSON(
                    .object(
                        JSONObject([
                            ("format", .string("provider-log")), ("provider", .string(provider.rawValue)),
                            ("sources", .number(Double(lines.count))),
                            ("records", .number(Double(results.count + skipped))),
                            ("appended", .number(Double(appended))),
                            ("duplicates", .number(Double(results.count - appended))),
                            ("skipped", .number(Double(skipped))), ("tree_size", .uint(treeSize)),
                        ])))
            } else {
                Console.error(
                    DisplayText.escape(
                        "imported \(what) (provider-log, \(provider.rawValue)): \(lines.count) "
                            + "line\(lines.count == 1 ? "" : "s"): \(appended) appended, \(results.count - appended) "
                            + "duplicate, \(skipped) skipped; tree size \(treeSize)"))
            }
            try failIfSkipped(skipped, noun: "line")
        }
    }

    /// The redaction of kept payloads: keyed by the repository's capture key, so that tags compare with captured ones.
    private func redactor() throws -> @Sendable (String) -> String {
        let directory = options.repo ?? FileManager.default.currentDirectoryPath
        guard let repository = CaptureRepository.containing(directory) else {
            throw CLIError(
                .notFound,
                "\(directory) is not inside a git repository: --include-payloads redacts prompts and outputs with the "
                    + "redaction key of a repository (<git dir>/cairn/redaction.key, the one capture uses); run it in "
                    + "one or pass --repo DIR")
        }
        let key: [UInt8]
        do {
            key = try WorkingLog(repository: repository).redactionKey()
        } catch {
            throw CLIError(.ioError, error.message)
        }
        let redactor = Redactor(key: key, options: RedactionSettings.options(for: repository))
        return { redactor.redact($0).text }
    }
}
