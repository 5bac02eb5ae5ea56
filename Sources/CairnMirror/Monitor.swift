import CairnCrypto
import CairnJSON
import CairnMerkle
import CairnNote
import CairnProofs
import CairnStorage

/// What a monitor reports each round (specs/mirror.md §5).
package enum MonitorEventKind: String, Sendable, CaseIterable {
    /// The checkpoint is signed, extends every checkpoint seen before, and (with `--max-age`) is fresh.
    case ok
    /// The checkpoint does not extend the last one seen: the consistency proof (Cairn's API, or computed from the
    /// log's tiles) fails, the tiles do not match the checkpoint, or two checkpoints of one size have different
    /// roots and no witness cosigned either.
    case inconsistent
    /// The checkpoint is smaller than the last one seen.
    case rollback
    /// No witness cosignature newer than `--max-age`, or no good checkpoint for longer than `--max-age`.
    case stale
    /// The checkpoint is malformed, not signed by the log's key, or carries a witness cosignature that does not
    /// verify.
    case badSignature = "bad_signature"
    /// Two checkpoints of the same size with different roots, one of them cosigned by a `--witness-vkey` witness:
    /// the witnesses were shown another tree than this monitor.
    case splitView = "split_view"
    /// The checkpoint (or what consistency needs) cannot be fetched.
    case unreachable

    /// Whether the event is an alert (exit status 1 with `--once`).
    package var isAlert: Bool { self != .ok && self != .unreachable }
}

/// One event: one JSON line of `cairn monitor --json`.
package struct MonitorEvent: Sendable, Equatable {
    /// POSIX seconds.
    package let at: Int64
    package let kind: MonitorEventKind
    /// The size of the checkpoint the event is about, when one was read.
    package let size: UInt64?
    /// One line for people.
    package let detail: String
    /// Further members: `root`, `previous_size`, `witnesses`, and for alerts the notes `checkpoint` and `previous`.
    package var extra: JSONObject = [:]

    package init(at: Int64, kind: MonitorEventKind, size: UInt64?, detail: String, extra: JSONObject = [:]) {
        self.at = at
        self.kind = kind
        self.size = size
        self.detail = detail
        self.extra = extra
    }

    /// `{"at","event","size","detail",…}`.
    package var json: JSONObject {
        var object: JSONObject = [
            "at": .string(rfc3339(at)), "event": .string(kind.rawValue), "size": size.map { .uint($0) } ?? .null,
            "detail": .string(detail),
        ]
        for (key, value) in extra { object[key] = value }
        return object
    }
}

/// The monitor's memory between rounds, `--state FILE` (specs/mirror.md §5.2).
package struct MonitorState: Sendable, Equatable {
    package static let format = "cairn-monitor-state/v1"
    /// The most checkpoints remembered for split-view checks.
    package static let maxHistory = 512
    static let maxBytes = 4 << 20

    /// A checkpoint seen (signed by the log): its size, root, and the witnesses that cosigned it.
    package struct Seen: Sendable, Equatable {
        package var size: UInt64
        package var root: SHA256Digest
        package var witnesses: [String]
        package var firstSeen: Int64

        package init(size: UInt64, root: SHA256Digest, witnesses: [String], firstSeen: Int64) {
            self.size = size
            self.root = root
            self.witnesses = witnesses
            self.firstSeen = firstSeen
        }
    }

    package var url: String
    /// The pinned verifier key of the log.
    package var vkey: String
    package var origin: String
    /// The last checkpoint accepted (signed, consistent with the one before), as the log served it.
    package var last: String?
    /// When the monitor started following the log, and when it last accepted a checkpoint (POSIX seconds).
    package var startedAt: Int64
    package var lastSuccessAt: Int64?
    /// Every distinct (size, root) seen, oldest first, at most `maxHistory`.
    package var history: [Seen] = []
    /// Rounds and events so far, by event name (`rounds`, `ok`, `rollback`…).
    package var counters: [String: UInt64] = [:]

    package init(url: String, vkey: String, origin: String, startedAt: Int64) {
        self.url = url
        self.vkey = vkey
        self.origin = origin
        self.startedAt = startedAt
    }

    /// Reads a state file; nil when it does not exist. Throws `.invalidState` or `.storage`.
    package static func load(_ path: String) throws(MirrorError) -> MonitorState? {
        let bytes: [UInt8]?
        do {
            bytes = DurableFiles.kind(of: path) == .missing ? nil : try DurableFiles.read(path, limit: maxBytes + 1)
        } catch {
            throw MirrorError(.storage, "cannot read the state file: \(error)")
        }
        guard let bytes else { return nil }
        guard bytes.count <= maxBytes else { throw MirrorError(.invalidState, "\(path) is too large for a state file") }
        return try MonitorState(parsing: bytes, path: path)
    }

    /// Writes the state file durably (temporary file, `fsync`, rename, directory `fsync`).
    package func save(_ path: String) throws(MirrorError) {
        do {
            try DurableFiles.replace(path, contents: serialized, mode: 0o644)
        } catch {
            throw MirrorError(.storage, "cannot write the state file: \(error)")
        }
    }

    package init(parsing bytes: [UInt8], path: String) throws(MirrorError) {
        func invalid(_ why: String) -> MirrorError {
            MirrorError(.invalidState, "\(path) is not a monitor state file: \(why)")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw invalid("\(error)")
        }
        guard value["format"]?.stringValue == Self.format else {
            throw invalid("\"format\" is not \"\(Self.format)\"")
        }
        guard let url = value["url"]?.stringValue, let vkey = value["vkey"]?.stringValue,
            let origin = value["origin"]?.stringValue, let started = value["started_at"]?.intValue
        else { throw invalid("\"url\", \"vkey\", \"origin\" and \"started_at\" are required") }
        self.init(url: url, vkey: vkey, origin: origin, startedAt: Int64(started))
        last = value["last"]?.stringValue
        lastSuccessAt = value["last_success_at"]?.intValue.map(Int64.init)
        for item in value["history"]?.arrayValue ?? [] {
            guard let size = item["size"]?.nonNegativeIntValue, let text = item["root"]?.stringValue,
                let root = SHA256Digest(base64: text), let first = item["first_seen"]?.intValue
            else { throw invalid("a \"history\" item is not {\"size\", \"root\", \"witnesses\", \"first_seen\"}") }
            let witnesses = (item["witnesses"]?.arrayValue ?? []).compactMap(\.stringValue)
            history.append(Seen(size: UInt64(size), root: root, witnesses: witnesses, firstSeen: Int64(first)))
        }
        for (key, count) in value["counters"]?.objectValue ?? [:] {
            guard let count = count.nonNegativeIntValue else { throw invalid("counter \(key) is not a count") }
            counters[key] = UInt64(count)
        }
    }

    package var serialized: [UInt8] {
        let object: JSONObject = [
            "format": .string(Self.format),
            "url": .string(url),
            "vkey": .string(vkey),
            "origin": .string(origin),
            "started_at": .number(Double(startedAt)),
            "last": last.map { .string($0) } ?? .null,
            "last_success_at": lastSuccessAt.map { .number(Double($0)) } ?? .null,
            "counters": .object(JSONObject(counters.sorted { $0.key < $1.key }.map { ($0.key, .uint($0.value)) })),
            "history": .array(
                history.map {
                    .object([
                        "size": .uint($0.size), "root": .string($0.root.base64),
                        "witnesses": .array($0.witnesses.map { .string($0) }),
                        "first_seen": .number(Double($0.firstSeen)),
                    ])
                }),
        ]
        return JSONWriter.prettyBytes(.object(object)) + [0x0a]
    }
}

/// How a monitor judges a log.
package struct MonitorConfiguration: Sendable {
    /// The log's key.
    package var key: NoteVerifierKey
    /// The checkpoints' origin (the key's name unless given).
    package var origin: String
    /// Witnesses (cosignature/v1 keys) whose cosignatures count: for freshness and split views.
    package var witnesses: [NoteVerifierKey] = []
    /// Seconds after which a checkpoint without a newer witness cosignature (or no good checkpoint at all) is
    /// stale; nil: never.
    package var maxAge: Int64?
    /// Ask Cairn's `/v1/proof/consistency` first (a log that is not Cairn's answers 404, and the tiles are used).
    package var useProofAPI = true

    package init(key: NoteVerifierKey, origin: String? = nil) {
        self.key = key
        self.origin = origin ?? key.name
    }
}

/// Watches a log (specs/mirror.md §5): each round fetches its checkpoint, verifies it, checks it against what was
/// seen before, and reports events. Holds no tiles; consistency comes from a proof (Cairn's API, checked against
/// both signed roots) or from the log's tiles (`TileTree`).
///
/// Not thread-safe: one monitor, one task.
package final class Monitor {
    package let configuration: MonitorConfiguration
    package private(set) var state: MonitorState
    private let client: TileClient
    private let clock: @Sendable () -> Int64

    package init(
        source: any TileSource, configuration: MonitorConfiguration, state: MonitorState,
        clock: @escaping @Sendable () -> Int64 = currentTime
    ) {
        self.client = TileClient(source: source)
        self.configuration = configuration
        self.state = state
        self.clock = clock
    }

    /// One round: the events it found (at least one).
    package func round() async -> [MonitorEvent] {
        let now = clock()
        var events: [MonitorEvent] = []
        defer {
            state.counters["rounds", default: 0] += 1
            for event in events { state.counters[event.kind.rawValue, default: 0] += 1 }
        }
        func event(_ kind: MonitorEventKind, _ size: UInt64?, _ detail: String, _ extra: JSONObject = [:]) {
            events.append(MonitorEvent(at: now, kind: kind, size: size, detail: detail, extra: extra))
        }
        /// With --max-age: no good checkpoint for that long.
        func staleWithoutSuccess() {
            guard let maxAge = configuration.maxAge else { return }
            let since = state.lastSuccessAt ?? state.startedAt
            if now - since > maxAge {
                let what = state.lastSuccessAt == nil ? "since monitoring started" : "since \(rfc3339(since))"
                event(
                    .stale, nil,
                    "no signed, consistent checkpoint from \(client.location("checkpoint")) \(what) "
                        + "(\(now - since) s, more than --max-age \(maxAge) s)")
            }
        }

        // The checkpoint, verified with the log's key.
        let bytes: [UInt8]
        do {
            bytes = try await client.checkpoint()
        } catch {
            event(.unreachable, nil, error.message)
            staleWithoutSuccess()
            return events
        }
        let signed: SignedCheckpoint
        let new: Checkpoint
        do {
            signed = try SignedCheckpoint(parsing: bytes)
        } catch {
            event(.badSignature, nil, "\(client.location("checkpoint")) is not a signed checkpoint: \(error.message)")
            staleWithoutSuccess()
            return events
        }
        do {
            new = try signed.verify(logKey: configuration.key, origin: configuration.origin)
        } catch {
            event(
                .badSignature, signed.checkpoint.size,
                "the checkpoint is not signed by \(configuration.key.nameAndID): \(error.message)",
                ["checkpoint": .string(signed.serialized)])
            staleWithoutSuccess()
            return events
        }

        // Witness cosignatures: each present must verify; their times say how fresh the checkpoint is.
        var cosigned: [(name: String, time: UInt64)] = []
        for witness in configuration.witnesses where signed.note.signatures.contains(where: { $0.name == witness.name })
        {
            do {
                cosigned.append((witness.name, try CosignatureV1.verify(signed, cosigner: witness)))
            } catch  where error.code == .unknownKey {
                continue  // a line of that name but another key
            } catch {
                event(
                    .badSignature, new.size,
                    "witness \(witness.nameAndID)'s cosignature does not verify: \(error.message)",
                    ["checkpoint": .string(signed.serialized)])
            }
        }
        let witnessNames = cosigned.map(\.name)
        var extra: JSONObject = [
            "root": .string(new.rootHash.base64), "witnesses": .array(witnessNames.map { .string($0) }),
        ]

        // Against what was seen before.
        var consistencyNote = ""
        var accepted = events.isEmpty
        let last = state.last.flatMap { try? SignedCheckpoint(parsing: $0) }
        if let last {
            let old = last.checkpoint
            extra["previous_size"] = .uint(old.size)
            let evidence: JSONObject = [
                "checkpoint": .string(signed.serialized), "previous": .string(last.serialized),
            ]
            let lastWitnesses = seen(old)?.witnesses ?? []
            if new.size < old.size {
                event(
                    .rollback, new.size,
                    "the log's checkpoint has size \(new.size), smaller than size \(old.size) seen "
                        + "\(seen(old).map { "at " + rfc3339($0.firstSeen) } ?? "before")",
                    extra.merging(evidence))
                accepted = false
            } else if new.size == old.size {
                if new.rootHash != old.rootHash {
                    conflict(new, witnessNames, with: old, lastWitnesses, extra.merging(evidence), event)
                    accepted = false
                }
            } else {
                switch await consistency(from: old, to: signed) {
                case .consistent(let how):
                    consistencyNote = "; consistent with size \(old.size) (\(how))"
                case .inconsistent(let detail):
                    event(.inconsistent, new.size, detail, extra.merging(evidence))
                    accepted = false
                case .unavailable(let detail):
                    event(.unreachable, new.size, "cannot check consistency with size \(old.size): \(detail)", extra)
                    accepted = false
                }
            }
        }
        // Any other checkpoint of this size seen before must have the same root.
        for other in state.history
        where other.size == new.size && other.root != new.rootHash && other.root != last?.checkpoint.rootHash {
            let earlier = Checkpoint(origin: new.origin, size: other.size, rootHash: other.root)
            conflict(
                new, witnessNames, with: earlier, other.witnesses,
                extra.merging(["checkpoint": .string(signed.serialized)]), event)
            accepted = false
        }
        remember(new, witnesses: witnessNames, at: now)
        if accepted {
            state.last = signed.serialized
            state.lastSuccessAt = now
        }

        // Freshness.
        if let maxAge = configuration.maxAge {
            if !configuration.witnesses.isEmpty {
                if let newest = cosigned.max(by: { $0.time < $1.time }) {
                    let age = now - Int64(clamping: newest.time)
                    if age > maxAge {
                        event(
                            .stale, new.size,
                            "the newest witness cosignature (\(newest.name), \(rfc3339(Int64(clamping: newest.time)))) "
                                + "is \(age) s old, more than --max-age \(maxAge) s",
                            extra)
                    }
                } else {
                    event(
                        .stale, new.size,
                        "the checkpoint has no cosignature from "
                            + configuration.witnesses.map(\.nameAndID).joined(separator: ", "),
                        extra)
                }
            }
            if !accepted { staleWithoutSuccess() }
        }
        if events.isEmpty {
            var detail = "size \(new.size), root \(new.rootHash.base64)\(consistencyNote)"
            if !cosigned.isEmpty {
                detail +=
                    "; cosigned by "
                    + cosigned.map { "\($0.name) (\(max(0, now - Int64(clamping: $0.time))) s ago)" }.joined(
                        separator: ", ")
            }
            event(.ok, new.size, detail, extra)
        }
        return events
    }

    /// Two checkpoints of one size with different roots: a split view when a witness cosigned either.
    private func conflict(
        _ new: Checkpoint, _ newWitnesses: [String], with old: Checkpoint, _ oldWitnesses: [String],
        _ extra: JSONObject, _ event: (MonitorEventKind, UInt64?, String, JSONObject) -> Void
    ) {
        let roots = "\(new.rootHash.base64) now, \(old.rootHash.base64) before"
        if newWitnesses.isEmpty && oldWitnesses.isEmpty {
            event(
                .inconsistent, new.size,
                "two checkpoints of size \(new.size) signed by the log have different roots (\(roots)): a fork",
                extra)
        } else {
            var who: [String] = []
            if !newWitnesses.isEmpty { who.append("this one by \(newWitnesses.joined(separator: ", "))") }
            if !oldWitnesses.isEmpty { who.append("the earlier one by \(oldWitnesses.joined(separator: ", "))") }
            event(
                .splitView, new.size,
                "two checkpoints of size \(new.size) have different roots (\(roots)), cosigned "
                    + who.joined(separator: " and ") + ": the log showed its witnesses another tree than this monitor",
                extra)
        }
    }

    private func seen(_ checkpoint: Checkpoint) -> MonitorState.Seen? {
        state.history.first { $0.size == checkpoint.size && $0.root == checkpoint.rootHash }
    }

    private func remember(_ checkpoint: Checkpoint, witnesses: [String], at now: Int64) {
        if let index = state.history.firstIndex(where: {
            $0.size == checkpoint.size && $0.root == checkpoint.rootHash
        }) {
            for name in witnesses where !state.history[index].witnesses.contains(name) {
                state.history[index].witnesses.append(name)
            }
            return
        }
        state.history.append(
            MonitorState.Seen(size: checkpoint.size, root: checkpoint.rootHash, witnesses: witnesses, firstSeen: now))
        if state.history.count > MonitorState.maxHistory {
            state.history.removeFirst(state.history.count - MonitorState.maxHistory)
        }
    }

    enum Consistency {
        case consistent(String)
        case inconsistent(String)
        case unavailable(String)
    }

    /// Whether `new` extends `old`: from Cairn's proof API when the log has it, else from the log's tiles.
    func consistency(from old: Checkpoint, to new: SignedCheckpoint) async -> Consistency {
        if configuration.useProofAPI,
            let body = try? await client.consistencyProof(old: old.size, size: new.checkpoint.size),
            let proof = try? ConsistencyProofRequest(parsing: body),
            proof.oldSize == old.size, proof.checkpoint.checkpoint == new.checkpoint
        {
            do {
                try MerkleVerifier.verifyConsistency(
                    oldSize: old.size, newSize: new.checkpoint.size, oldRoot: old.rootHash,
                    newRoot: new.checkpoint.rootHash, proof: proof.hashes)
                return .consistent("proof from /v1/proof/consistency")
            } catch {
                return .inconsistent(
                    "the log's consistency proof from size \(old.size) to \(new.checkpoint.size) does not verify: "
                        + "\(error.message)")
            }
        }
        do {
            var tree = try TileTree(size: new.checkpoint.size, root: new.checkpoint.rootHash)
            try await client.authenticateRightEdge(of: &tree)
            _ = try await client.checkConsistency(of: &tree, oldSize: old.size, oldRoot: old.rootHash)
            return .consistent("proof computed from the log's tiles")
        } catch let error as MirrorError {
            switch error.code {
            case .inconsistent, .rollback: return .inconsistent(error.message)
            case .tileMismatch: return .inconsistent("the log's tiles do not match its checkpoint: \(error.message)")
            default: return .unavailable(error.message)
            }
        } catch {
            return .unavailable("\(error)")
        }
    }
}

extension JSONObject {
    /// This object with `other`'s members added (replacing any of the same key).
    func merging(_ other: JSONObject) -> JSONObject {
        var result = self
        for (key, value) in other { result[key] = value }
        return result
    }
}
