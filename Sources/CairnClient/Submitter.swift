import Foundation

/// How the `Submitter` batches requests and retries them.
package struct SubmitPolicy: Sendable, Hashable {
    /// Records per request at most.
    package var maxRecordsPerRequest = 1000
    /// Request body bytes at most (beyond the first record); the server's default limit is 8 MiB.
    package var maxBytesPerRequest = 4 << 20
    /// How often one request is retried after a 429, a 503 or another 5xx, waiting `Retry-After`
    /// seconds (or 0.5 s, 1 s, 2 s… without one). Connection failures and timeouts are not retried
    /// within a run: the records are spooled at once.
    package var retries = 3
    /// The longest single wait; a server that asks for more is treated as unavailable.
    package var maxRetryWait: Double = 30

    package init() {}
}

/// What happened to one record, reported as it happens (for printing progress).
package enum SubmitEvent: Sendable {
    /// New record number `position` (of those given to `submit`) was appended, or was already there.
    case appended(position: Int, receipt: AppendReceipt)
    /// New record number `position` was refused by the server; it was not spooled.
    case rejected(position: Int, problems: [Problem], error: ClientError)
    /// New record number `position` was written to the spool (`alreadySpooled`: it was waiting there already).
    case spooled(position: Int, sequence: UInt64, alreadySpooled: Bool)
    /// A spooled record was appended (or was already there) and left the spool.
    case flushed(SpooledRecord, AppendReceipt)
    /// A spooled record was refused by the server and moved to the dead letters.
    case deadLettered(SpooledRecord, problems: [Problem], error: ClientError)
    /// The server asked to wait (429, 503…); the request is sent again after `seconds`.
    case retrying(seconds: Double, error: ClientError)
    /// Something odd that did not stop delivery.
    case warning(String)
}

/// The result of replaying a server's spooled records.
package struct FlushOutcome: Sendable {
    /// Spooled records the server acknowledged (appended now, or duplicates of entries it held).
    package var sent = 0
    /// Of `sent`, those the server already held.
    package var duplicates = 0
    /// Spooled records the server refused, now in the dead letters.
    package var deadLettered = 0
    /// Records still waiting for this server afterwards.
    package var remaining = 0
    /// What stopped the replay (`.transient`, `.unauthorized`, `.protocolViolation`); `nil` when
    /// every record was handled.
    package var failure: ClientError?

    package init() {}
}

/// The result of `Submitter.submit`.
package struct SubmitOutcome: Sendable {
    /// New records appended, duplicates included.
    package var appended = 0
    /// Of `appended`, those the server already held.
    package var duplicates = 0
    /// New records the server refused (not spooled).
    package var rejected = 0
    /// New records written to the spool.
    package var spooled = 0
    /// New records neither sent nor spooled (after a rejection, a protocol error, or with no spool).
    package var notSent = 0
    /// The replay of older spooled records that ran first, if any were waiting.
    package var flushed: FlushOutcome?
    /// What stopped delivery, if anything did.
    package var failure: ClientError?

    package init() {}
}

/// Sends records to one server, keeping them in a durable spool when the server cannot take them.
///
/// Not thread-safe: use one per task. The rules (specs/spool.md):
///
/// - `submit` first replays the records already spooled for this server (`flush`), so that per
///   server, records reach the ledger in the order they were submitted; then it sends the new ones
///   in batches. When the server is unavailable (connection failure, timeout, 5xx, 429 beyond the
///   retries) or refuses the token, the records not yet acknowledged are spooled, durably, before
///   `submit` returns.
/// - A record leaves the spool only after the server acknowledged it durable, or refused it
///   (then it moves to the dead letters). A crash between the two resends it: the server answers
///   `duplicate: true`, so nothing is appended twice and nothing is lost.
/// - Records the server refuses (400, 413, 422) are never spooled or retried.
package final class Submitter {
    package let client: HTTPLedgerClient
    package let policy: SubmitPolicy
    /// The spool directory; `nil`: no spool (failures leave the records with the caller).
    package let spoolDirectory: String?
    private let sleep: @Sendable (Double) async -> Void
    private var openedSpool: Spool?

    package init(
        client: HTTPLedgerClient, spoolDirectory: String?, policy: SubmitPolicy = SubmitPolicy(),
        sleep: @escaping @Sendable (Double) async -> Void = { seconds in
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        }
    ) {
        self.client = client
        self.spoolDirectory = spoolDirectory
        self.policy = policy
        self.sleep = sleep
    }

    package var server: ServerAddress { client.server }

    private func spool(create: Bool) throws -> Spool? {
        if let openedSpool { return openedSpool }
        guard let spoolDirectory else { return nil }
        openedSpool = try Spool.open(directory: spoolDirectory, create: create)
        return openedSpool
    }

    // MARK: - Submitting new records

    /// Appends `records` in order: replays this server's spooled records first, then sends these;
    /// spools what could not be delivered (see the type's rules). With `skipInvalid`, records the
    /// server refuses are reported and the others appended; without it, the first refusal stops
    /// delivery (nothing of that request was appended; later records are not sent).
    ///
    /// Throws only when the spool itself fails (`StorageError`, `SpoolError`): then records that
    /// were not acknowledged are neither delivered nor spooled.
    package func submit(
        _ records: [OutgoingRecord], skipInvalid: Bool = false, onEvent: (SubmitEvent) -> Void = { _ in }
    ) async throws -> SubmitOutcome {
        var outcome = SubmitOutcome()
        var pending = records.enumerated().map { (position: $0.offset, record: $0.element) }

        if let spool = try spool(create: false), try spool.count(for: server) > 0 {
            let flushed = try await flush(onEvent: onEvent)
            outcome.flushed = flushed
            outcome.failure = flushed.failure
        }
        if outcome.failure == nil {
            let (failure, remaining) = try await deliver(
                pending, record: \.record, mode: skipInvalid ? .skipInvalid : .stopAtInvalid,
                onEvent: onEvent,
                accepted: { items, receipts in
                    for (item, receipt) in zip(items, receipts) {
                        outcome.appended += 1
                        if receipt.duplicate { outcome.duplicates += 1 }
                        onEvent(.appended(position: item.position, receipt: receipt))
                    }
                },
                refused: { item, problems, error in
                    outcome.rejected += 1
                    onEvent(.rejected(position: item.position, problems: problems, error: error))
                })
            outcome.failure = failure
            pending = remaining
        }
        guard let failure = outcome.failure, !pending.isEmpty else { return outcome }
        if failure.kind == .transient || failure.kind == .unauthorized, let spool = try spool(create: true) {
            let placed = try spool.enqueue(pending.map(\.record), to: server, reason: failure.message)
            for (item, place) in zip(pending, placed) {
                outcome.spooled += 1
                onEvent(
                    .spooled(position: item.position, sequence: place.sequence, alreadySpooled: place.alreadySpooled))
            }
        } else {
            outcome.notSent = pending.count
        }
        return outcome
    }

    // MARK: - Replaying the spool

    /// Sends this server's spooled records, oldest first, removing each once the server
    /// acknowledged it durable and moving those it refuses to the dead letters. Stops at the
    /// first failure that is not about a record (unavailable, credentials, protocol), leaving
    /// the rest in the spool. Holds the spool's flush lock meanwhile.
    package func flush(onEvent: (SubmitEvent) -> Void = { _ in }) async throws -> FlushOutcome {
        guard let spool = try spool(create: false) else { return FlushOutcome() }
        return try await spool.withFlushLock {
            var outcome = FlushOutcome()
            var after: UInt64 = 0
            while true {
                let chunk = try spool.oldest(
                    for: server, after: after, limit: policy.maxRecordsPerRequest, maxBytes: policy.maxBytesPerRequest)
                guard let last = chunk.last else { break }
                let (failure, _) = try await deliver(
                    chunk, record: \.record, mode: .skipInvalid, onEvent: onEvent,
                    accepted: { items, receipts in
                        try spool.acknowledge(items)
                        for (item, receipt) in zip(items, receipts) {
                            outcome.sent += 1
                            if receipt.duplicate { outcome.duplicates += 1 }
                            onEvent(.flushed(item, receipt))
                        }
                    },
                    refused: { item, problems, error in
                        try spool.deadLetter(item, error: error, problems: problems)
                        outcome.deadLettered += 1
                        onEvent(.deadLettered(item, problems: problems, error: error))
                    })
                if let failure {
                    try spool.recordFailure(failure.message, server: server)
                    outcome.failure = failure
                    break
                }
                after = last.sequence
            }
            outcome.remaining = try spool.count(for: server)
            return outcome
        }
    }

    // MARK: - Delivery

    enum Mode {
        /// Refused records are reported (`refused`) and the others sent.
        case skipInvalid
        /// The first refusal stops delivery; it is returned as the failure.
        case stopAtInvalid
    }

    /// Sends `items` in order, in batches, calling `accepted` after each acknowledged request and
    /// `refused` for each record the server refused. Returns the failure that stopped delivery
    /// (if any) and the items not delivered, in order.
    func deliver<Item>(
        _ items: [Item], record: (Item) -> OutgoingRecord, mode: Mode, onEvent: (SubmitEvent) -> Void,
        accepted: ([Item], [AppendReceipt]) throws -> Void,
        refused: (Item, [Problem], ClientError) throws -> Void
    ) async throws -> (failure: ClientError?, remaining: [Item]) {
        var remaining = items[...]
        var recordLimit = policy.maxRecordsPerRequest
        var byteLimit = policy.maxBytesPerRequest
        while let first = remaining.first {
            // The next batch: consecutive records with the same `strict`, within the limits.
            let strict = record(first).strict
            var batch: [Item] = []
            var bytes = 0
            for item in remaining {
                let size = record(item).bytes.count + 1
                if batch.count >= recordLimit || record(item).strict != strict
                    || (!batch.isEmpty && bytes + size > byteLimit)
                {
                    break
                }
                batch.append(item)
                bytes += size
            }
            let result = await sendWithRetries(batch.map { record($0).bytes }, strict: strict, onEvent: onEvent)
            switch result {
            case .success(let receipts):
                for (item, receipt) in zip(batch, receipts) where receipt.digest != record(item).digest.description {
                    onEvent(
                        .warning(
                            "\(server) answered \(receipt.digest) for the record whose content address is "
                                + record(item).digest.description
                                + ": it stored another form (large payloads moved to blobs, for example)"))
                }
                try accepted(batch, receipts)
                remaining.removeFirst(batch.count)
                recordLimit = policy.maxRecordsPerRequest
            case .failure(let error) where error.kind == .rejected:
                // Which records? Problems carry the request line: record k is on line k + 1.
                var located: [Int: [Problem]] = [:]
                for problem in error.problems {
                    guard let line = problem.line else { continue }
                    let position = batch.count == 1 ? 0 : line - 1
                    if batch.indices.contains(position) { located[position, default: []].append(problem) }
                }
                if located.isEmpty {
                    if error.status == 413 && batch.count > 1 {
                        // The body was too large for the server: smaller requests.
                        byteLimit = max(1, bytes / 2)
                        recordLimit = max(1, batch.count / 2)
                        continue
                    }
                    if batch.count == 1 {
                        located[0] = error.problems
                    } else if mode == .skipInvalid {
                        // Refused as a whole without saying which record: bisect.
                        recordLimit = max(1, batch.count / 2)
                        continue
                    } else {
                        return (error, Array(remaining))
                    }
                }
                for position in located.keys.sorted() {
                    try refused(batch[position], located[position]!, error)
                }
                if mode == .stopAtInvalid { return (error, Array(remaining)) }
                // Nothing of the request was appended: send the others again.
                // (The batch is a prefix of `remaining`, so batch positions are offsets into it.)
                remaining = remaining.enumerated().filter { located[$0.offset] == nil }.map(\.element)[...]
            case .failure(let error):
                return (error, Array(remaining))
            }
        }
        return (nil, [])
    }

    typealias Attempt = Result<[AppendReceipt], ClientError>

    /// One request, retried after 429/5xx answers as the policy allows.
    private func sendWithRetries(_ records: [[UInt8]], strict: Bool, onEvent: (SubmitEvent) -> Void) async -> Attempt {
        var attempt = 0
        while true {
            let result: Attempt
            do {
                result = .success(try await client.append(records, strict: strict))
            } catch {
                result = .failure(error)
            }
            guard case .failure(let error) = result, error.kind == .transient, error.status != nil,
                attempt < policy.retries
            else { return result }
            let wait = error.retryAfter ?? 0.5 * Double(1 << attempt)
            guard wait <= policy.maxRetryWait else { return result }
            onEvent(.retrying(seconds: wait, error: error))
            await sleep(wait)
            attempt += 1
        }
    }
}
