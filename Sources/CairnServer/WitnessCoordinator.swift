import CairnCrypto
import CairnLedger
import CairnNote
import CairnProofs
import CairnWitness
import Foundation
import Logging
import Synchronization

/// A witness the log submits its checkpoints to: the policy name, the witness's cosignature
/// verifier key (type 0x04) and its tlog-witness submission prefix (`POST <url>/add-checkpoint`).
package struct WitnessEndpoint: Sendable, Hashable {
    package let name: String
    package let vkey: NoteVerifierKey
    package let url: String

    package init(name: String, vkey: NoteVerifierKey, url: String) {
        self.name = name
        self.vkey = vkey
        self.url = url
    }

    /// An endpoint from configuration text, checked: the vkey parses and has type 0x04
    /// (`cosignature/v1`), and the URL is an absolute http(s) URL. Use it when loading a
    /// configuration, so that a mistake is reported at start-up rather than at the first submission.
    package static func validated(name: String, vkey: String, url: String) throws(WitnessError) -> WitnessEndpoint {
        let key: NoteVerifierKey
        do {
            key = try NoteVerifierKey(parsing: vkey)
        } catch {
            throw WitnessError(.invalidConfiguration, "witness \(name): \(error.message)")
        }
        guard key.type == NoteVerifierKey.cosignatureV1Type else {
            throw WitnessError(
                .invalidConfiguration,
                "witness \(name): the vkey \(key.nameAndID) has type 0x\(Hex.encode([key.type])); a witness's "
                    + "cosignature key has type 0x04")
        }
        guard WitnessHTTPClient.addCheckpointURL(prefix: url) != nil else {
            throw WitnessError(
                .invalidConfiguration, "witness \(name): the URL \"\(url)\" is not an absolute http(s) URL")
        }
        return WitnessEndpoint(name: name, vkey: key, url: url)
    }
}

/// The result of asking one witness to cosign one checkpoint.
package enum WitnessSubmissionOutcome: Sendable, Hashable {
    /// The witness cosigned the checkpoint of this size; the verified cosignature is stored.
    case cosigned(size: UInt64, timestamp: UInt64)
    /// The witness answered with an error status (409 only after repeated conflicts).
    case refused(status: Int, message: String)
    /// No usable answer: connection failure, timeout, an invalid response or cosignature, or a
    /// local failure (the message says which).
    case failed(String)
}

/// What the coordinator knows about one witness.
package struct WitnessStatus: Sendable, Hashable {
    package let endpoint: WitnessEndpoint
    /// The size of the latest checkpoint of this log the witness has cosigned, as far as the
    /// coordinator knows (from a 200, or the body of a 409); 0 until then.
    package internal(set) var witnessSize: UInt64 = 0
    /// The latest size whose cosignature by this witness was stored in the ledger, if any.
    package internal(set) var cosignedSize: UInt64?
    /// How many 409 responses the witness has sent (each is followed by a retry from its size).
    package internal(set) var conflicts = 0
    /// The outcome of the latest submission.
    package internal(set) var lastOutcome: WitnessSubmissionOutcome?
}

/// The log side of c2sp.org/tlog-witness: watches a ledger's tree size, submits each new
/// checkpoint with a consistency proof to every witness, verifies the cosignatures they return
/// with their vkeys, and stores them with the checkpoint through the ledger's ingest engine
/// (``IngestEngine/addCosignatures(_:size:)``), so every checkpoint and proof the ledger serves
/// afterwards carries them.
///
/// Each witness is followed by its own task, with requests to it strictly sequential. A
/// submission starts from old size 0; a 409 answer gives the witness's latest cosigned size,
/// which is adopted before retrying. Failures are logged and retried with exponential backoff.
/// Ledger reads go through the ledger's snapshot door (on its I/O pool) and the cosignature
/// writes through its engine, never holding the writer across network I/O.
///
/// ```swift
/// let coordinator = WitnessCoordinator(engine: engine, witnesses: endpoints, logger: logger)
/// let task = Task { await coordinator.run() }   // until cancelled
/// ```
package final class WitnessCoordinator: Sendable {
    /// Timing of the coordinator.
    package struct Options: Sendable {
        /// How often the ledger's tree size is read.
        package var pollInterval: Duration = .milliseconds(200)
        /// The timeout of one add-checkpoint request.
        package var requestTimeout: Duration = .seconds(10)
        /// The first wait after a failed submission; doubled after each further failure.
        package var initialBackoff: Duration = .seconds(1)
        /// The longest wait between retries.
        package var maxBackoff: Duration = .seconds(60)
        /// How many 409 answers one submission follows before giving up until the next round.
        package var maxConflictRetries = 3
        /// Called after a witness's cosignature of the checkpoint of `size` was stored (e.g. to
        /// refresh a cache of the latest checkpoint, or count cosignatures). Runs on the
        /// coordinator's task; keep it short.
        package var onCosigned: (@Sendable (_ witness: WitnessEndpoint, _ size: UInt64) -> Void)?

        package init() {}
    }

    /// The engine the cosignatures are written through; its ledger is the log.
    package let engine: IngestEngine
    package var ledger: Ledger { engine.ledger }
    package let witnesses: [WitnessEndpoint]
    let logger: Logger
    let options: Options
    let client: WitnessHTTPClient
    let states: Mutex<[WitnessStatus]>

    package convenience init(engine: IngestEngine, witnesses: [WitnessEndpoint], logger: Logger) {
        self.init(engine: engine, witnesses: witnesses, logger: logger, options: Options())
    }

    package init(engine: IngestEngine, witnesses: [WitnessEndpoint], logger: Logger, options: Options) {
        self.engine = engine
        self.witnesses = witnesses
        self.logger = logger
        self.options = options
        self.client = WitnessHTTPClient(timeout: options.requestTimeout)
        self.states = Mutex(witnesses.map { WitnessStatus(endpoint: $0) })
    }

    /// What the coordinator knows about each witness, in `witnesses` order.
    package var status: [WitnessStatus] { states.withLock { $0 } }

    /// Follows the ledger until the task is cancelled: whenever the tree size changes, every
    /// witness is asked to cosign the checkpoint of the new size.
    package func run() async {
        await withDiscardingTaskGroup { group in
            for index in witnesses.indices {
                group.addTask { await self.follow(index) }
            }
        }
    }

    /// Asks every witness, concurrently, to cosign the checkpoint of the ledger's current size
    /// (once, following 409s), and returns each outcome in `witnesses` order.
    package func cosignCurrentCheckpoint() async -> [WitnessSubmissionOutcome] {
        let size: UInt64
        do {
            size = try await ledger.read { $0.treeSize }
        } catch {
            return witnesses.map { _ in .failed("cannot read the ledger's tree size: \(error)") }
        }
        return await withTaskGroup(of: (Int, WitnessSubmissionOutcome).self) { group in
            for index in witnesses.indices {
                group.addTask { (index, await self.submit(index, size: size, logger: self.logger(for: index))) }
            }
            var outcomes = [WitnessSubmissionOutcome](repeating: .failed("not attempted"), count: witnesses.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes
        }
    }

    // MARK: - Following one witness

    private func follow(_ index: Int) async {
        let logger = logger(for: index)
        var backoff = options.initialBackoff
        var cosigned: UInt64?
        while !Task.isCancelled {
            var delay = options.pollInterval
            do {
                let size = try await ledger.read { $0.treeSize }
                if size != cosigned {
                    let outcome = await submit(index, size: size, logger: logger)
                    if case .cosigned = outcome {
                        cosigned = size
                        backoff = options.initialBackoff
                    } else if !Task.isCancelled {
                        delay = backoff
                        backoff = min(backoff * 2, options.maxBackoff)
                    }
                }
            } catch {
                logger.error("cannot read the ledger's tree size", metadata: ["error": "\(error)"])
                delay = backoff
                backoff = min(backoff * 2, options.maxBackoff)
            }
            do {
                try await Task.sleep(for: delay)
            } catch {
                return  // cancelled
            }
        }
    }

    private func logger(for index: Int) -> Logger {
        var logger = self.logger
        logger[metadataKey: "witness"] = .string(witnesses[index].name)
        return logger
    }

    /// One submission of the checkpoint of `size` to witness `index`, following 409 answers.
    func submit(_ index: Int, size: UInt64, logger: Logger) async -> WitnessSubmissionOutcome {
        let outcome = await attempt(index, size: size, logger: logger)
        states.withLock { $0[index].lastOutcome = outcome }
        switch outcome {
        case .cosigned(let size, let timestamp):
            logger.debug(
                "witness cosigned", metadata: ["size": "\(size)", "timestamp": "\(timestamp)"])
        case .refused(let status, let message) where [403, 404, 422].contains(status):
            logger.error(
                "witness refused the checkpoint",
                metadata: ["size": "\(size)", "status": "\(status)", "reason": "\(message)"])
        case .refused(let status, let message):
            logger.warning(
                "witness refused the checkpoint",
                metadata: ["size": "\(size)", "status": "\(status)", "reason": "\(message)"])
        case .failed(let message):
            logger.warning("witness submission failed", metadata: ["size": "\(size)", "reason": "\(message)"])
        }
        return outcome
    }

    private func attempt(_ index: Int, size: UInt64, logger: Logger) async -> WitnessSubmissionOutcome {
        let endpoint = witnesses[index]
        guard endpoint.vkey.type == NoteVerifierKey.cosignatureV1Type else {
            return .failed(
                "the vkey of witness \(endpoint.name) has type 0x\(Hex.encode([endpoint.vkey.type])); a witness key "
                    + "has type 0x04")
        }
        guard let url = WitnessHTTPClient.addCheckpointURL(prefix: endpoint.url) else {
            return .failed("the URL of witness \(endpoint.name) is not an absolute http(s) URL: \(endpoint.url)")
        }
        var conflicts = 0
        while true {
            let old = states.withLock { $0[index].witnessSize }
            guard old <= size else {
                // Forget the size so that the next round asks the witness again: its state may have been
                // reset, or this log may catch up.
                states.withLock { $0[index].witnessSize = 0 }
                return .failed(
                    "the witness has cosigned size \(old) of this log, beyond its current size \(size): it has seen "
                        + "another or a longer tree with this origin")
            }
            let proof: ConsistencyProof
            do {
                proof = try await ledger.read { try $0.consistencyProof(oldSize: old, size: size) }
            } catch {
                return .failed("cannot build the consistency proof from \(old) to \(size): \(error)")
            }
            let body = ConsistencyProofRequest(oldSize: old, hashes: proof.hashes, checkpoint: proof.checkpoint)
            let response: WitnessHTTPClient.Response
            do {
                response = try await client.post(url, body: Array(body.serialized.utf8))
            } catch {
                return .failed("POST \(url): \(error.message)")
            }
            switch response.status {
            case 200:
                return await store(response.body, index: index, checkpoint: proof.checkpoint, size: size)
            case 409:
                guard let latest = Self.parseSize(response.body) else {
                    return .failed("the witness answered 409 without a valid size body")
                }
                conflicts += 1
                states.withLock {
                    $0[index].witnessSize = latest
                    $0[index].conflicts += 1
                }
                logger.debug("witness has another latest size", metadata: ["old": "\(old)", "latest": "\(latest)"])
                guard conflicts <= options.maxConflictRetries else {
                    return .refused(status: 409, message: "the witness keeps answering 409 (latest size \(latest))")
                }
            default:
                let text = String(decoding: response.body.prefix(500), as: UTF8.self)
                let reason = text.split(separator: "\n").first.map(String.init) ?? ""
                return .refused(status: response.status, message: reason)
            }
        }
    }

    private func store(
        _ body: [UInt8], index: Int, checkpoint: SignedCheckpoint, size: UInt64
    ) async -> WitnessSubmissionOutcome {
        let signature: NoteSignature
        let timestamp: UInt64
        do {
            (signature, timestamp) = try Self.cosignature(
                fromResponse: body, for: checkpoint, witness: witnesses[index].vkey)
        } catch {
            return .failed("invalid cosignature response: \(error.message)")
        }
        do {
            try await engine.addCosignatures([signature], size: size)
        } catch {
            return .failed("cannot store the cosignature: \(error)")
        }
        states.withLock {
            $0[index].witnessSize = size
            $0[index].cosignedSize = size
        }
        options.onCosigned?(witnesses[index], size)
        return .cosigned(size: size, timestamp: timestamp)
    }

    // MARK: - Response validation

    /// Reads a witness's 200 response to add-checkpoint: one or more signature lines, each ending
    /// in a newline. Lines from other keys are ignored (tlog-witness: the client MUST ignore
    /// cosignatures from unknown keys); a line from `witness` must be a valid cosignature/v1 of
    /// `checkpoint` with a non-zero timestamp. Returns that line and its timestamp.
    package static func cosignature(
        fromResponse body: [UInt8], for checkpoint: SignedCheckpoint, witness: NoteVerifierKey
    ) throws(NoteError) -> (signature: NoteSignature, timestamp: UInt64) {
        guard let text = String(validating: body, as: UTF8.self), text.utf8.last == UInt8(ascii: "\n") else {
            throw NoteError(
                code: .malformedSignatureLine, message: "the response is not signature lines ending in a newline")
        }
        var ours: [NoteSignature] = []
        for line in text.linesSplitAtLF().dropLast() {
            let signature = try NoteSignature(parsingLine: String(line))
            if signature.name.utf8.elementsEqual(witness.name.utf8) && signature.keyID == witness.keyID {
                ours.append(signature)
            }
        }
        guard !ours.isEmpty else {
            throw NoteError(
                code: .unknownKey, message: "the response has no cosignature from \(witness.nameAndID)")
        }
        var result: (NoteSignature, UInt64)?
        for signature in ours {
            let timestamp = try CosignatureV1.verify(checkpoint.adding(signature), cosigner: witness)
            guard timestamp > 0 else {
                throw NoteError(
                    code: .invalidTimestamp,
                    message: "the cosignature by \(witness.nameAndID) has timestamp 0, which tlog-witness forbids")
            }
            if result == nil || timestamp >= result!.1 { result = (signature, timestamp) }
        }
        return result!
    }

    /// The body of a 409 answer: a decimal size and a newline.
    static func parseSize(_ body: [UInt8]) -> UInt64? {
        guard body.last == UInt8(ascii: "\n") else { return nil }
        let digits = body.dropLast()
        guard !digits.isEmpty, digits.allSatisfy({ (0x30...0x39).contains($0) }),
            digits.count == 1 || digits.first != 0x30
        else { return nil }
        return UInt64(String(decoding: digits, as: UTF8.self))
    }
}
