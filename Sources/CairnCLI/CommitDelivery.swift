import CairnCapture
import CairnClient
import CairnCommitCapture
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnRecords
import Foundation

/// Delivers a repository's outbox (`<git dir>/cairn/outbox.jsonl`, filled by the commit hooks) to its destination
/// (specs/capture.md, "Delivery"): straight into a local ledger (`cairn.ledger`), or into the client spool for a
/// server (`cairn.server`), whose sending happens in a detached `cairn spool flush` so that no commit waits on
/// the network. A record leaves the outbox only once the ledger or the spool holds it durably; records are
/// content-addressed, so one delivered twice (after a crash between the two) is stored once.
struct CommitDelivery {
    let repository: CaptureRepository
    let config: [String: String]

    var outboxPath: String { repository.cairnDirectory + "/" + CommitHooks.outboxFileName }
    var rejectedPath: String { repository.cairnDirectory + "/outbox-rejected.jsonl" }

    /// Where records go: `cairn.ledger` or `cairn.server` (git config), nil when neither is set.
    var destination: Destination? {
        if let ledger = config["cairn.ledger"], !ledger.isEmpty { return .ledger(ledger) }
        if let server = config["cairn.server"], !server.isEmpty { return .server(server) }
        return nil
    }

    enum Destination: Equatable {
        case ledger(String)
        case server(String)
    }

    struct Outcome {
        var delivered = 0
        var rejected = 0
        var waiting = 0
    }

    /// Delivers what the outbox holds. With `detachFlush`, a server destination's spool is flushed by a detached
    /// `cairn spool flush`; without, it stays in the spool for the next flush.
    func deliver(detachFlush: Bool) async throws -> Outcome {
        do {
            // One delivery at a time: two would each take out the lines they handled, and the second would take
            // lines appended after the first read.
            let lock = try POSIX.openLocked(repository.cairnDirectory + "/outbox.lock", flags: O_RDWR)
            defer { close(lock) }
            return try await deliverOutbox(detachFlush: detachFlush)
        } catch let error as CaptureError {
            throw CLIError(.ioError, error.message)
        }
    }

    private func deliverOutbox(detachFlush: Bool) async throws -> Outcome {
        let lines = LockedLines.read(outboxPath)
        var outcome = Outcome()
        guard !lines.isEmpty else { return outcome }
        guard let destination else {
            outcome.waiting = lines.count
            return outcome
        }
        var rejected: [(line: [UInt8], reason: String)] = []
        var prepared: [(line: [UInt8], entry: PreparedEntry)] = []
        switch destination {
        case .ledger(let directory):
            let ledger = try LedgerLocation.open(directory)
            let rules = ledger.recordRules()
            for line in lines {
                do {
                    let entry = try PreparedEntry.prepare(json: line, rules: rules)
                    prepared.append((line, entry))
                } catch {
                    rejected.append((line, error.description))
                }
            }
            let engine = IngestEngine(ledger: ledger)
            defer { engine.shutdown() }
            var outcomes: [AppendOutcome] = []
            // A record the ledger refuses (an id already used by another record, say) is set aside, not retried
            // for ever; the rest are appended in one transaction.
            while !prepared.isEmpty {
                do {
                    outcomes = try await engine.append(
                        contentsOf: prepared.map(\.entry), atomic: true, whenBusy: .wait)
                    break
                } catch let rejection as AppendRejection {
                    let refused = prepared.remove(at: rejection.position)
                    rejected.append((refused.line, rejection.problems.map(\.description).joined(separator: "; ")))
                }
            }
            try await recordLocalAppend(ledger, outcomes, via: "cairn hooks")
        case .server(let url):
            let server = try ServerOptions.address(url)
            for line in lines {
                do {
                    let entry = try PreparedEntry.prepare(json: line, maxEntryBytes: .max)
                    prepared.append((line, entry))
                } catch {
                    rejected.append((line, error.description))
                }
            }
            let directory = Self.spoolDirectory(config: config)
            guard let spool = try Spool.open(directory: directory, create: true) else {
                throw CLIError(.ioError, "cannot open the spool \(DisplayText.escape(directory))")
            }
            try spool.enqueue(prepared.map { OutgoingRecord(canonicalBytes: $0.entry.bytes) }, to: server)
            if detachFlush { Self.detachFlush(server: url, spool: directory) }
        }
        if !rejected.isEmpty {
            var bytes: [UInt8] = []
            for item in rejected {
                let note = JSONObject([
                    ("reason", .string(item.reason)), ("record", .string(String(decoding: item.line, as: UTF8.self))),
                ])
                bytes += JSONWriter.compactBytes(.object(note)) + [UInt8(ascii: "\n")]
            }
            try LockedLines.append(bytes, to: rejectedPath)
        }
        // Take out exactly the lines handled (hooks may have appended more meanwhile).
        let handled = lines.count
        try LockedLines.consume(outboxPath) { current in
            (Array(current.dropFirst(min(handled, current.count))), ())
        }
        outcome.delivered = prepared.count
        outcome.rejected = rejected.count
        return outcome
    }

    /// The spool a server destination's records go through: git config `cairn.spool`, else the user's default.
    static func spoolDirectory(config: [String: String]) -> String {
        config["cairn.spool"].flatMap { $0.isEmpty ? nil : $0 } ?? Spool.defaultDirectory()
    }

    /// Starts `cairn spool flush --server URL` in its own session, not waited for, its output discarded.
    static func detachFlush(server: String, spool: String) {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "cairn"
        Subprocess.detach([executable, "spool", "flush", "--server", server, "--spool", spool])
    }
}
