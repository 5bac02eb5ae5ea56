import CairnCrypto
import CairnMerkle

extension TileClient {
    /// Fetches the partial tiles of `tree` and authenticates them against its root (`TileTree.authenticateRightEdge`).
    /// Returns how many tiles were fetched. Throws `.tileMismatch` when they are not the checkpoint's tree.
    @discardableResult
    package func authenticateRightEdge(of tree: inout TileTree) async throws(MirrorError) -> Int {
        var partials: [TileCoordinate: [UInt8]] = [:]
        for tile in tree.rightEdge {
            partials[tile] = try await self.tile(tile, width: tree.width(of: tile)!)
        }
        do {
            try tree.authenticateRightEdge(partials)
        } catch {
            throw MirrorError(.tileMismatch, "\(source): \(error.message)")
        }
        return partials.count
    }

    /// Makes `tile` held by `tree`: fetched and authenticated with whichever of its ancestors are not held yet
    /// (topmost first). Returns how many tiles were fetched.
    @discardableResult
    package func ensure(_ tile: TileCoordinate, in tree: inout TileTree) async throws(MirrorError) -> Int {
        var fetched = 0
        for link in tree.authenticationChain(for: tile) {
            let width = tree.width(of: link) ?? MerkleTile.fullWidth
            let bytes = try await self.tile(link, width: width)
            fetched += 1
            do {
                try tree.authenticate(link, bytes: bytes, keep: true)
            } catch {
                throw MirrorError(.tileMismatch, "\(source): \(error.message)")
            }
        }
        return fetched
    }

    /// Checks that `tree` (authenticated) extends the tree of `oldSize` leaves whose root is `oldRoot`: the root of
    /// its first `oldSize` leaves, recomputed from its own tiles, must be `oldRoot`. Returns the consistency proof
    /// computed from the same tiles (RFC 9162 §2.1.4.1), checked with `MerkleVerifier`, and how many tiles were
    /// fetched.
    ///
    /// Throws `.inconsistent` when the roots differ (the log signed two trees that do not extend one another),
    /// `.tileMismatch` when a tile needed does not authenticate, `.unreachable` and the like when one cannot be had.
    package func checkConsistency(
        of tree: inout TileTree, oldSize: UInt64, oldRoot: SHA256Digest
    ) async throws(MirrorError) -> (proof: [SHA256Digest], fetched: Int) {
        guard oldSize <= tree.size else {
            throw MirrorError(
                .rollback, "tree size \(tree.size) is smaller than the earlier checkpoint's size \(oldSize)")
        }
        if oldSize == 0 {
            guard oldRoot == RFC6962.emptyRoot else {
                throw MirrorError(.inconsistent, "the earlier checkpoint has size 0 but not the empty tree's root")
            }
            return ([], 0)
        }
        if oldSize == tree.size {
            guard oldRoot == tree.root else {
                throw MirrorError(
                    .inconsistent,
                    "two checkpoints of size \(oldSize) have different roots, \(oldRoot.base64) and "
                        + "\(tree.root.base64): the log signed two different trees of the same size")
            }
            return ([], 0)
        }
        var fetched = 0
        do {
            var needed = try tree.tilesNeeded(forRootOf: oldSize)
            for tile in try tree.tilesNeeded(forConsistencyFrom: oldSize) where !needed.contains(tile) {
                needed.append(tile)
            }
            for tile in needed { fetched += try await ensure(tile, in: &tree) }
            let computed = try tree.rootHash(ofSize: oldSize)
            guard computed == oldRoot else {
                throw MirrorError(
                    .inconsistent,
                    "the log's tree of size \(tree.size) (root \(tree.root.base64), authenticated by its tiles) has "
                        + "root \(computed.base64) at size \(oldSize), not the earlier checkpoint's "
                        + "\(oldRoot.base64): the log signed two trees that do not extend one another")
            }
            let proof = try tree.consistencyProof(from: oldSize)
            do {
                try MerkleVerifier.verifyConsistency(
                    oldSize: oldSize, newSize: tree.size, oldRoot: oldRoot, newRoot: tree.root, proof: proof)
            } catch {
                throw MirrorError(.inconsistent, "the consistency proof from the tiles does not verify: \(error)")
            }
            return (proof, fetched)
        } catch let error as MirrorError {
            throw error
        } catch let error as TileTreeError {
            throw MirrorError(.tileMismatch, "\(source): \(error.message)")
        } catch {
            throw MirrorError(.tileMismatch, "\(source): \(error)")
        }
    }
}
