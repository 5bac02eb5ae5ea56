import CairnCrypto
import CairnNote
import CairnStorage
import Dispatch

/// The witness's only state: for each log origin, the latest checkpoint it cosigned, as the
/// signed note it would serve to monitors (the log's verified signatures and its cosignature).
///
/// One LMDB environment in the witness directory with one table, `latest`:
/// SHA-256(origin) (32 bytes) → the note (UTF-8). Updates run on one serial queue, each in one
/// durable LMDB write transaction (LMDB also serializes writers across processes), so the
/// check of the old size and the write of the new checkpoint are atomic and persisted before
/// the caller answers.
final class WitnessStateStore: Sendable {
    static let tableName = "latest"

    let env: LMDBEnvironment
    let table: Table
    private let queue = DispatchQueue(label: "cairn.witness.state")

    init(directory: String) throws(WitnessError) {
        var options = LMDBEnvironment.Options()
        options.initialMapSize = 16 << 20
        options.maxTables = 4
        options.fileMode = 0o600
        do {
            env = try LMDBEnvironment.shared(directory: directory, options: options)
            table = try env.openTable(Self.tableName)
        } catch {
            throw WitnessError(.storage, "cannot open the witness state in \(directory): \(error)")
        }
    }

    /// The latest cosigned checkpoint for the origin whose SHA-256 is `originHash`.
    func latest(originHash: SHA256Digest) throws(WitnessError) -> SignedCheckpoint? {
        let bytes: [UInt8]?
        do {
            bytes = try env.read { txn in try txn.value(table, key: originHash.bytes) }
        } catch {
            throw WitnessError(.storage, "cannot read the witness state: \(error)")
        }
        guard let bytes else { return nil }
        return try Self.parse(bytes)
    }

    /// Runs `update` with the stored checkpoint for `originHash` inside one write transaction on
    /// the store's queue, and stores the note it returns (if any) before committing. Errors thrown
    /// by `update` abort the transaction and are passed on unchanged.
    func update<R: Sendable>(
        originHash: SHA256Digest,
        _ update: @escaping @Sendable (SignedCheckpoint?) throws(AddCheckpointError) -> (SignedCheckpoint?, R)
    ) async throws(AddCheckpointError) -> R {
        let result: Result<R, AddCheckpointError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: self.updateNow(originHash: originHash, update))
            }
        }
        return try result.get()
    }

    private func updateNow<R>(
        originHash: SHA256Digest, _ update: (SignedCheckpoint?) throws(AddCheckpointError) -> (SignedCheckpoint?, R)
    ) -> Result<R, AddCheckpointError> {
        do {
            return .success(
                try env.write { txn in
                    let stored = try txn.value(table, key: originHash.bytes).map { bytes throws in
                        try Self.parse(bytes)
                    }
                    let (new, result) = try update(stored)
                    if let new { try txn.put(table, key: originHash.bytes, value: Array(new.serialized.utf8)) }
                    return result
                })
        } catch let error as AddCheckpointError {
            return .failure(error)
        } catch {
            return .failure(AddCheckpointError(.internalError, "cannot update the witness state: \(error)"))
        }
    }

    static func parse(_ bytes: [UInt8]) throws(WitnessError) -> SignedCheckpoint {
        do {
            return try SignedCheckpoint(parsing: bytes)
        } catch {
            throw WitnessError(.storage, "a stored checkpoint is malformed: \(error)")
        }
    }
}
