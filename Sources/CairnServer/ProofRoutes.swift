import CairnLedger
import CairnProofs
import Hummingbird

/// A log's checkpoint and proofs in the C2SP text formats (specs/proofs.md), byte for byte what
/// `cairn checkpoint` and `cairn prove` print. Registered twice: for the main log
/// (`/checkpoint`, `/v1/proof/…`) and for the access log (`/v1/access-log/…`).
struct ProofRoutes {
    let ledger: Ledger
    let checkpointPath: String
    /// `/v1/proof` or `/v1/access-log/proof`.
    let proofPrefix: String
    let access: RouteAccess

    func register(on routes: RouteBuilder) {
        routes.get(checkpointPath, access: access) { request, _ in
            _ = try request.parameters([])
            return TileRoutes.checkpointResponse(try await ledger.read { try $0.checkpoint() })
        }
        // One request, one snapshot: the proof and its checkpoint come from the same tree. Proofs
        // are given only for published checkpoints (reads never sign).
        routes.get(proofPrefix + "/inclusion", access: access) { request, _ in
            let parameters = try request.parameters(["entry", "size"])
            guard let reference = try parameters.entryReference("entry") else {
                throw APIError.parameter("entry", "is required (a leaf index or sha256:…)", code: "missingParameter")
            }
            let size = try parameters.uint64("size")
            return .text(
                try await ledger.read { snapshot in
                    let proof = try snapshot.inclusionProof(
                        index: try snapshot.resolve(reference), size: try Self.published(size, in: snapshot))
                    return TlogProof(index: proof.index, hashes: proof.hashes, checkpoint: proof.checkpoint).serialized
                })
        }
        routes.get(proofPrefix + "/consistency", access: access) { request, _ in
            let parameters = try request.parameters(["old", "size"])
            guard let old = try parameters.uint64("old") else {
                throw APIError.parameter("old", "is required (the older tree size)", code: "missingParameter")
            }
            let size = try parameters.uint64("size")
            return .text(
                try await ledger.read { snapshot in
                    let proof = try snapshot.consistencyProof(
                        oldSize: old, size: try Self.published(size, in: snapshot))
                    return ConsistencyProofRequest(
                        oldSize: proof.oldSize, hashes: proof.hashes, checkpoint: proof.checkpoint
                    ).serialized
                })
        }
    }

    /// A requested tree size must be one with a published checkpoint (a 400 naming `size`
    /// otherwise); sizes beyond the tree are left to the snapshot, which refuses them.
    private static func published(_ size: UInt64?, in snapshot: LedgerSnapshot) throws -> UInt64? {
        guard let size, size < snapshot.treeSize else { return size }
        guard try snapshot.hasCheckpoint(size: size) else {
            throw APIError.parameter(
                "size",
                "has no published checkpoint: ask for a size the log has published (every append publishes one) "
                    + "or leave size out for the current one")
        }
        return size
    }
}
