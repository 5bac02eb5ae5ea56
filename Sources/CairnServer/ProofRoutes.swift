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
            return TileRoutes.checkpointResponse(try ledger.checkpoint())
        }
        routes.get(proofPrefix + "/inclusion", access: access) { request, _ in
            let parameters = try request.parameters(["entry", "size"])
            guard let reference = try parameters.entryReference("entry") else {
                throw APIError.parameter("entry", "is required (a leaf index or sha256:…)", code: "missingParameter")
            }
            let size = try issuedSize(try parameters.uint64("size"))
            let index = try ledger.resolve(reference)
            let proof = try ledger.inclusionProof(index: index, size: size)
            return .text(TlogProof(index: proof.index, hashes: proof.hashes, checkpoint: proof.checkpoint).serialized)
        }
        routes.get(proofPrefix + "/consistency", access: access) { request, _ in
            let parameters = try request.parameters(["old", "size"])
            guard let old = try parameters.uint64("old") else {
                throw APIError.parameter("old", "is required (the older tree size)", code: "missingParameter")
            }
            let proof = try ledger.consistencyProof(oldSize: old, size: try issuedSize(try parameters.uint64("size")))
            return .text(
                ConsistencyProofRequest(oldSize: proof.oldSize, hashes: proof.hashes, checkpoint: proof.checkpoint)
                    .serialized)
        }
    }

    /// A requested tree size must have a published checkpoint: over HTTP, nobody may make the
    /// log sign (and store) a checkpoint for an arbitrary size.
    private func issuedSize(_ size: UInt64?) throws -> UInt64? {
        // The current size and sizes beyond it are left to the ledger (which refuses the latter).
        guard let size, size < (try ledger.treeSize()) else { return size }
        guard try ledger.hasIssuedCheckpoint(size: size) else {
            throw APIError.parameter(
                "size",
                "has no published checkpoint: ask for a size the log has published (every append publishes one) "
                    + "or leave size out for the current one")
        }
        return size
    }
}
