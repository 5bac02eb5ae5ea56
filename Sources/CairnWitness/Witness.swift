import CairnCrypto
import CairnMerkle
import CairnNote
import CairnProofs
import Foundation
import Logging

/// A C2SP tlog-witness (c2sp.org/tlog-witness): it follows a configured set of logs, verifies
/// each checkpoint a log submits against the latest one it cosigned for that log, and cosigns
/// it with a timestamped Ed25519 cosignature (c2sp.org/tlog-cosignature, `cosignature/v1`).
///
/// The HTTP side is ``WitnessServer``; this type is the protocol logic and the state.
///
/// A witness directory holds:
/// - `witness-key.pem`: the Ed25519 private key, PKCS#8 PEM, mode 0600;
/// - `witness.vkey`: the cosignature verifier key (type 0x04), whose key name is the witness's name;
/// - `data.mdb`, `lock.mdb`: the latest cosigned checkpoint per log origin (see specs/witness.md).
public final class Witness: Sendable {
    /// The private key file in the witness directory.
    public static let keyFile = "witness-key.pem"
    /// The verifier key file in the witness directory.
    public static let verifierKeyFile = "witness.vkey"
    /// The largest add-checkpoint body accepted: a checkpoint with 100 signature lines and a
    /// 63-line proof is well under this.
    public static let maxBodyBytes = 64 * 1024

    /// The witness's name: the key name of its cosignatures.
    public let name: String
    /// The cosignature/v1 verifier key (type 0x04) that verifies this witness's cosignatures.
    public let verifierKey: NoteVerifierKey
    /// The witness directory.
    public let directory: String
    /// The log keys the witness trusts, by origin (the key name), in configuration order.
    public let logKeys: [NoteVerifierKey]

    let key: Ed25519PrivateKey
    let logsByOrigin: [[UInt8]: [NoteVerifierKey]]
    let state: WitnessStateStore
    let logger: Logger
    let clock: @Sendable () -> UInt64
    /// Tests only: runs inside the state transaction after the old size was checked, before the
    /// new checkpoint is stored (to widen the race window of concurrent submissions).
    let afterStateCheck: (@Sendable () -> Void)?

    /// The current time in POSIX seconds.
    @Sendable public static func unixTime() -> UInt64 {
        UInt64(max(0, Date().timeIntervalSince1970))
    }

    // MARK: - Create

    /// Creates a witness in `directory` (which must not exist, or be empty): writes the Ed25519
    /// key (generated unless `signingKey` is given) as PKCS#8 PEM with mode 0600 and the vkey
    /// file. Returns the witness's cosignature verifier key (type 0x04).
    @discardableResult
    public static func create(
        at directory: String, name: String, signingKey: Ed25519PrivateKey? = nil
    ) throws(WitnessError) -> NoteVerifierKey {
        let key: Ed25519PrivateKey
        let vkey: NoteVerifierKey
        do {
            key = try signingKey ?? Ed25519PrivateKey.generate()
            vkey = try NoteVerifierKey(cosignatureName: name, ed25519: key.publicKey)
        } catch let error as NoteError {
            throw WitnessError(.invalidConfiguration, "witness name: \(error.message)")
        } catch {
            throw WitnessError(.invalidKey, "cannot generate the witness key: \(error)")
        }
        try WitnessFiles.createEmptyDirectory(directory)
        try WitnessFiles.writeNewFile(
            WitnessFiles.join(directory, keyFile), contents: Array(key.pemRepresentation.utf8), mode: 0o600)
        try WitnessFiles.writeNewFile(
            WitnessFiles.join(directory, verifierKeyFile), contents: Array((vkey.description + "\n").utf8), mode: 0o644)
        _ = try WitnessStateStore(directory: directory)
        return vkey
    }

    // MARK: - Open

    /// Opens the witness in `directory`, following the logs whose keys are `logs` (type 0x01
    /// vkeys; the key name is the log's origin; several keys may share an origin).
    ///
    /// - Parameters:
    ///   - clock: the cosignature timestamp source, POSIX seconds (tests pin it).
    public convenience init(
        directory: String, logs: [NoteVerifierKey], logger: Logger = Logger(label: "cairn.witness"),
        clock: @escaping @Sendable () -> UInt64 = Witness.unixTime
    ) throws(WitnessError) {
        try self.init(directory: directory, logs: logs, logger: logger, clock: clock, afterStateCheck: nil)
    }

    init(
        directory: String, logs: [NoteVerifierKey], logger: Logger, clock: @escaping @Sendable () -> UInt64,
        afterStateCheck: (@Sendable () -> Void)?
    ) throws(WitnessError) {
        let vkeyPath = WitnessFiles.join(directory, Self.verifierKeyFile)
        let keyPath = WitnessFiles.join(directory, Self.keyFile)
        guard let vkeyBytes = WitnessFiles.readFile(vkeyPath), let pemBytes = WitnessFiles.readFile(keyPath) else {
            throw WitnessError(
                .notAWitness,
                "\(directory) is not a witness directory (no \(Self.verifierKeyFile) or \(Self.keyFile); "
                    + "create one with `cairn witness init`)")
        }
        let vkeyText = String(decoding: vkeyBytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            verifierKey = try NoteVerifierKey(parsing: vkeyText)
        } catch {
            throw WitnessError(.invalidKey, "\(vkeyPath): \(error.message)")
        }
        guard verifierKey.type == NoteVerifierKey.cosignatureV1Type else {
            throw WitnessError(.invalidKey, "\(vkeyPath): the witness vkey must have type 0x04 (cosignature/v1)")
        }
        do {
            key = try Ed25519PrivateKey(pemRepresentation: String(decoding: pemBytes, as: UTF8.self))
        } catch {
            throw WitnessError(.invalidKey, "\(keyPath): \(error.message)")
        }
        guard key.publicKey.rawRepresentation == verifierKey.publicKey else {
            throw WitnessError(.invalidKey, "\(keyPath) does not match the vkey in \(vkeyPath)")
        }

        guard !logs.isEmpty else {
            throw WitnessError(.invalidConfiguration, "a witness needs at least one log to follow")
        }
        var byOrigin: [[UInt8]: [NoteVerifierKey]] = [:]
        for log in logs {
            guard log.type == NoteVerifierKey.ed25519Type else {
                throw WitnessError(
                    .invalidConfiguration,
                    "log key \(log.nameAndID) has type 0x\(Hex.encode([log.type])); a log key has type 0x01 (Ed25519)")
            }
            let origin = Array(log.name.utf8)
            guard byOrigin[origin]?.contains(where: { $0.keyID == log.keyID }) != true else {
                throw WitnessError(.invalidConfiguration, "log key \(log.nameAndID) is configured twice")
            }
            byOrigin[origin, default: []].append(log)
        }

        self.name = verifierKey.name
        self.directory = directory
        self.logKeys = logs
        self.logsByOrigin = byOrigin
        self.logger = logger
        self.clock = clock
        self.afterStateCheck = afterStateCheck
        self.state = try WitnessStateStore(directory: directory)
    }

    // MARK: - add-checkpoint

    /// Processes an add-checkpoint request body and returns the cosignature line(s) to send back
    /// (status 200), or throws the refusal with its status:
    ///
    /// 1. 400 `malformed`: the body is not `old N`, proof lines, an empty line and a checkpoint;
    /// 2. 404 `unknownLog`: the witness does not follow the checkpoint's origin;
    /// 3. 403 `forbidden`: no signature by a trusted key for the origin, or one that fails;
    /// 4. 400 `oldSizeTooLarge`: old size > checkpoint size;
    /// 5. 422 `inconsistent`: a size-0 checkpoint without the empty tree's root, or a non-empty
    ///    proof from size 0;
    /// 6. then atomically with storing the new checkpoint: 409 `conflict` if the old size is not
    ///    the latest cosigned size (or 0 for a new log); 422 `inconsistent` if equal sizes have
    ///    different roots or the proof does not verify from the stored root.
    ///
    /// The new checkpoint is stored durably before this returns.
    public func addCheckpoint(_ body: [UInt8]) async throws(AddCheckpointError) -> [NoteSignature] {
        guard body.count <= Self.maxBodyBytes else {
            throw AddCheckpointError(.malformed, "the request body is larger than \(Self.maxBodyBytes) bytes")
        }
        let request: ConsistencyProofRequest
        do {
            request = try ConsistencyProofRequest(parsing: body)
        } catch {
            throw AddCheckpointError(.malformed, "malformed add-checkpoint body: \(error.message)")
        }
        let signed = request.checkpoint
        let checkpoint = signed.checkpoint
        let origin = checkpoint.origin
        guard let keys = logsByOrigin[Array(origin.utf8)] else {
            throw AddCheckpointError(.unknownLog, "this witness does not follow the log \"\(origin)\"")
        }
        let verified: [NoteVerifierKey]
        do {
            verified = try signed.note.verify(with: keys)
        } catch {
            throw AddCheckpointError(
                .forbidden, "the checkpoint of \"\(origin)\" is not validly signed: \(error.message)")
        }
        guard request.oldSize <= checkpoint.size else {
            throw AddCheckpointError(
                .oldSizeTooLarge, "old size \(request.oldSize) is larger than the checkpoint's size \(checkpoint.size)")
        }
        if checkpoint.size == 0 && checkpoint.rootHash != RFC6962.emptyRoot {
            throw inconsistent(
                request, "a checkpoint of size 0 must have the empty tree's root \(RFC6962.emptyRoot.base64)")
        }
        if request.oldSize == 0 && !request.hashes.isEmpty {
            throw inconsistent(
                request,
                "a consistency proof from size 0 must be empty (the empty tree is consistent with every "
                    + "tree); got \(request.hashes.count) hashes")
        }

        // The cosigned note served to monitors: the text, the log lines that verified, the cosignature.
        let logLines = signed.note.signatures.filter { line in
            verified.contains { line.names($0) }
        }
        let (name, key, clock, hook) = (self.name, self.key, self.clock, afterStateCheck)
        let originHash = SHA256.hash(Array(origin.utf8))
        let result = try await state.update(originHash: originHash) {
            (stored: SignedCheckpoint?) throws(AddCheckpointError) -> (SignedCheckpoint?, Cosigned) in
            let latest = stored?.checkpoint
            let latestSize = latest?.size ?? 0
            guard request.oldSize == latestSize else {
                throw AddCheckpointError(
                    .conflict,
                    "old size \(request.oldSize) is not the size of the latest checkpoint cosigned for \"\(origin)\", "
                        + "\(latestSize)",
                    latestSize: latestSize)
            }
            if let latest, request.oldSize > 0 {
                do throws(MerkleProofError) {
                    try MerkleVerifier.verifyConsistency(
                        oldSize: latest.size, newSize: checkpoint.size, oldRoot: latest.rootHash,
                        newRoot: checkpoint.rootHash, proof: request.hashes)
                } catch {
                    throw Self.inconsistent(request, error.message, logger: self.logger)
                }
            }
            hook?()
            let timestamp = clock()  // read at signing time: the cosignature says "as of now"
            guard timestamp > 0 else {
                throw AddCheckpointError(.internalError, "the witness clock reads 0; refusing to cosign without a time")
            }
            do throws(NoteError) {
                let line = try CosignatureV1.sign(checkpoint: checkpoint, timestamp: timestamp, signer: key, name: name)
                let note = try SignedCheckpoint(note: SignedNote(text: signed.note.text, signatures: logLines + [line]))
                return (note, Cosigned(line: line, timestamp: timestamp, first: stored == nil))
            } catch {
                throw AddCheckpointError(.internalError, "cannot cosign: \(error.message)")
            }
        }
        let metadata: Logger.Metadata = [
            "origin": .string(origin), "old_size": .stringConvertible(request.oldSize),
            "size": .stringConvertible(checkpoint.size), "timestamp": .stringConvertible(result.timestamp),
        ]
        if result.first {
            logger.info("cosigned the first checkpoint of a log", metadata: metadata)
        } else {
            logger.debug("cosigned checkpoint", metadata: metadata)
        }
        return [result.line]
    }

    /// What one successful state update produced.
    private struct Cosigned: Sendable {
        let line: NoteSignature
        let timestamp: UInt64
        let first: Bool
    }

    private func inconsistent(_ request: ConsistencyProofRequest, _ message: String) -> AddCheckpointError {
        Self.inconsistent(request, message, logger: logger)
    }

    /// A 422 refusal. The checkpoint is validly signed, so the request may be evidence of a
    /// misbehaving log (a fork): it is logged in full (tlog-witness allows this).
    private static func inconsistent(
        _ request: ConsistencyProofRequest, _ message: String, logger: Logger
    ) -> AddCheckpointError {
        logger.warning(
            "refused an inconsistent checkpoint (possible evidence of log misbehaviour)",
            metadata: [
                "origin": .string(request.checkpoint.checkpoint.origin), "reason": .string(message),
                "request": .string(request.serialized),
            ])
        return AddCheckpointError(.inconsistent, message)
    }

    // MARK: - Reading

    /// The latest checkpoint cosigned for `origin`, with the log signatures that verified and this
    /// witness's cosignature; nil if the witness never cosigned one.
    public func latestCheckpoint(origin: String) throws(WitnessError) -> SignedCheckpoint? {
        try state.latest(originHash: SHA256.hash(Array(origin.utf8)))
    }

    /// The latest cosigned checkpoint for the origin whose SHA-256 is `originHash` (the
    /// tlog-witness monitoring path `<origin hash>/checkpoint`).
    public func latestCheckpoint(originHash: SHA256Digest) throws(WitnessError) -> SignedCheckpoint? {
        try state.latest(originHash: originHash)
    }
}
