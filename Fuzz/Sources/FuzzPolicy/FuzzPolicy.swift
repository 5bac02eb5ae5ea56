// FuzzPolicy: c2sp.org/tlog-policy files as `cairn verify --policy` and the witness coordinator read them
// (CairnProofs: `TlogPolicy`), and quorum verification of checkpoints under them.
//
// Oracles:
// - the byte and `String` parsers agree (same policy or same error) on UTF-8 input;
// - every accepted policy is checked against three checkpoints of the fuzzers' log, signed by the log key
//   and cosigned by none, the first, then both of the fuzzers' witnesses (the generated seeds are policies
//   naming those keys): quorums are monotone (more valid cosignatures never lose a quorum), a verified
//   checkpoint's log key is named after its origin, every cosignature counted comes from a policy witness,
//   and `quorum none` never fails for want of cosignatures.
import CairnCrypto
import CairnNote
import CairnProofs
import FuzzKit

private let checkpoints = (0...2).map { FuzzKeys.signedCheckpoint(size: 5, root: FuzzLog.roots[5], cosigners: $0) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    let parsed = Result { () throws(PolicyError) in try TlogPolicy(parsing: input) }
    if let text = String(validating: input, as: UTF8.self) {
        let again = Result { () throws(PolicyError) in try TlogPolicy(parsing: text) }
        switch (parsed, again) {
        case (.success(let a), .success(let b)): oracle(a == b, "the byte and String parsers give other policies")
        case (.failure(let a), .failure(let b)): oracle(a == b, "the byte and String parsers give other errors")
        default: oracle(false, "the byte and String parsers disagree on acceptance")
        }
    }
    guard case .success(let policy) = parsed else { return 0 }
    var previous = false
    for signed in checkpoints {
        let result = Result { () throws(ProofError) in try policy.verify(signed) }
        switch result {
        case .success(let verification):
            oracle(verification.logKey.name == signed.checkpoint.origin, "the log key is not named after the origin")
            for cosignature in verification.cosignatures {
                oracle(
                    policy.witnesses.contains { $0.name == cosignature.witness && $0.key == cosignature.key },
                    "cosignature from \(cosignature.witness), not a policy witness")
            }
            previous = true
        case .failure(let error):
            oracle(!previous, "a quorum was lost by adding a valid cosignature: \(error)")
            if policy.quorum == TlogPolicy.noneName {
                oracle(error.code != .quorumNotMet, "quorum none was not met")
            }
        }
    }
    return 0
}

private func seeds() -> [[UInt8]] {
    let log = "log \(FuzzKeys.logKey)"
    let w1 = "witness A \(FuzzKeys.witnessKeys[0])"
    let w2 = "witness B \(FuzzKeys.witnessKeys[1]) https://w2.fuzz.example/"
    let policies = [
        [log, w1, w2, "group g 2 A B", "quorum g"],
        [log, w1, w2, "group g any A B", "group h all g A", "quorum h"],
        ["# comment", log + " https://log.fuzz.example", "", w1, "quorum A"],
        [log, "quorum none"],
        [log, w1, w2, "group g 1 A B", "quorum g", ""],
    ]
    return policies.map { Array($0.joined(separator: "\n").utf8) }
}

@_cdecl("FuzzPolicy_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
