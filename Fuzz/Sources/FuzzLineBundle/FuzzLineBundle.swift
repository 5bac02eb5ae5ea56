// FuzzLineBundle: the line bundles `cairn verify bundle` reads (CairnCommitCapture: `LineBundle(parsing:)` and
// `LineBundle.verify(key:)`, specs/capture.md, "Line bundles"). A bundle comes from anyone.
//
// The generated seeds are valid bundles: a checkpoint record and rewrite records in a small log, each with a
// tlog-proof to a checkpoint signed by the fuzzers' log key, so mutations of the claim keep valid proofs and reach
// the claim checks behind them. Oracles:
// - no trap, whatever the bytes;
// - a parsed bundle, re-serialized (`json`, canonical JSON), parses to an equal bundle, and that bundle serializes
//   to the same bytes;
// - soundness: a bundle that verifies with the log key has only entries the seeds' log holds (the fuzzer cannot
//   forge a signature), as many rewrites as entries after the first, and a checkpoint of the log's origin.
import CairnCommitCapture
import CairnCrypto
import CairnJSON
import CairnMerkle
import CairnNote
import CairnProofs
import FuzzKit

/// The seeds' log: its entries, the tree, and the signed checkpoint of its whole size.
private enum BundleLog {
    static let commits = [
        String(repeating: "a1", count: 20), String(repeating: "b2", count: 20), String(repeating: "c3", count: 20),
    ]
    static let checkpointRecord: [UInt8] = canonical(
        #"{"type":"checkpoint","schema":1,"id":"0b6f3a4e-2c1d-4e5f-8a9b-1c2d3e4f5a6b","timestamp":"2026-01-25T10:00:00Z","#
            + #""requested_by":"dev@example.com","tool_path":"agent","model":{"id":"claude-sonnet-4"},"#
            + #""session_id":"s-1","prompt":"write it","outputs":[{"repo":"https://example.com/r.git","path":"src/a.swift","#
            + #""commit":"\#(commits[0])","contributor":"ai","ranges":[[1,10],[20,25]]},{"path":"src/b.swift","#
            + #""commit":"\#(commits[0])","contributor":"human","ranges":[[3,3]]}],"x_capture":{"grade":"hook"}}"#)
    static let rewrites: [[UInt8]] = [
        canonical(#"{"type":"rewrite","old_commit":"\#(commits[0])","new_commit":"\#(commits[1])"}"#),
        canonical(#"{"type":"rewrite","old_commit":"\#(commits[1])","new_commit":"\#(commits[2])"}"#),
    ]
    static let entries: [[UInt8]] = [checkpointRecord] + rewrites + [Array("fuzz filler".utf8)]
    static let leafHashes = Set(entries.map { RFC6962.leafHash($0) })
    static let tree: InMemoryMerkleTree = {
        var tree = InMemoryMerkleTree()
        for entry in entries { tree.append(entry: entry) }
        return tree
    }()
    static let signed = FuzzKeys.signedCheckpoint(size: tree.treeSize, root: tree.root)

    static func proof(_ index: Int) -> String {
        TlogProof(
            index: UInt64(index),
            hashes: try! MerkleTree.inclusionProof(index: UInt64(index), treeSize: tree.treeSize, reader: tree),
            checkpoint: signed
        ).serialized
    }

    private static func canonical(_ text: String) -> [UInt8] {
        try! JCS.canonicalize(try! JSONParser.parse(Array(text.utf8)))
    }
}

private func serialized(_ bundle: LineBundle) -> [UInt8] {
    guard let bytes = try? JCS.canonicalize(bundle.json) else {
        oracle(false, "a parsed bundle's json cannot be canonicalized")
        return []
    }
    return bytes
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    guard let bundle = try? LineBundle(parsing: input) else { return 0 }
    let once = serialized(bundle)
    guard let again = try? LineBundle(parsing: once) else {
        oracle(false, "a re-serialized bundle does not parse: \(String(decoding: once, as: UTF8.self))")
        return 0
    }
    oracle(again == bundle, "a re-serialized bundle parses to another bundle")
    oracle(serialized(again) == once, "a re-serialized bundle serializes to other bytes")
    if let verified = try? bundle.verify(key: FuzzKeys.logKey) {
        for entry in bundle.entries {
            oracle(
                BundleLog.leafHashes.contains(RFC6962.leafHash(entry.entry)), "an entry the log does not hold verified")
        }
        oracle(
            verified.rewrites == bundle.entries.count - 1, "rewrites \(verified.rewrites) of \(bundle.entries.count)")
        oracle(verified.checkpoint.origin == FuzzKeys.logName, "verified to a checkpoint of another origin")
    }
    // Other keys never verify it.
    oracle((try? bundle.verify(key: FuzzKeys.witnessKeys[0])) == nil, "a bundle verified with a witness's key")
    return 0
}

private func bundle(
    path: String = "src/a.swift", commit: Int, line: Int, outputLine: Int, contributor: String = "ai",
    rewrites: Int, repo: String? = "https://example.com/r.git"
) -> [UInt8] {
    var entries: [(role: String, entry: [UInt8], proof: String)] = [
        ("checkpoint", BundleLog.checkpointRecord, BundleLog.proof(0))
    ]
    for i in 0..<rewrites { entries.append(("rewrite", BundleLog.rewrites[i], BundleLog.proof(1 + i))) }
    let bundle = LineBundle(
        repo: repo, path: path, commit: BundleLog.commits[commit], line: line, outputCommit: BundleLog.commits[0],
        outputLine: outputLine, contributor: contributor, entries: entries)
    return serialized(bundle)
}

/// Valid bundles (no rewrite, one, two; a human line), and near misses that verify the proofs but not the claim.
private func seeds() -> [[UInt8]] {
    [
        bundle(commit: 0, line: 5, outputLine: 5, rewrites: 0),
        bundle(commit: 1, line: 7, outputLine: 22, rewrites: 1, repo: nil),
        bundle(commit: 2, line: 1, outputLine: 10, rewrites: 2),
        bundle(path: "src/b.swift", commit: 0, line: 3, outputLine: 3, contributor: "human", rewrites: 0),
        bundle(commit: 0, line: 11, outputLine: 11, rewrites: 0),  // not covered
        bundle(commit: 2, line: 1, outputLine: 1, rewrites: 1),  // the chain stops short
    ]
}

@_cdecl("FuzzLineBundle_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
