// FuzzBlobDisclosure: blob disclosures as `cairn verify disclosure` and `cairn verify inclusion --disclosure` read
// them (CairnRecords: `BlobDisclosure.init(json:)`, `verify()`, `BlobCommitment.address`; specs/record-schema.md,
// "Blob disclosures").
//
// Oracles:
// - no trap, whatever the bytes;
// - a disclosure that parses writes (`jsonBytes`) a document that parses to the same disclosure;
// - `verify()` accepts exactly when the content has the reference's size and SHA-256(salt ‖ content) is its
//   address; when it accepts, flipping any one bit of the content or the salt makes it reject;
// - an empty salt commits like a plain SHA-256.
import CairnCrypto
import CairnJSON
import CairnRecords
import FuzzKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    oracle(BlobCommitment.address(salt: [], bytes: input) == SHA256.hash(input), "an empty salt is not plain SHA-256")
    guard let disclosure = try? BlobDisclosure(json: input) else { return 0 }
    let again = try? BlobDisclosure(json: disclosure.jsonBytes)
    oracle(again == disclosure, "a disclosure does not survive its own JSON")
    let commits =
        disclosure.bytes.count == disclosure.reference.size
        && BlobCommitment.address(salt: disclosure.salt, bytes: disclosure.bytes) == disclosure.reference.digest
    let accepted = (try? disclosure.verify()) != nil
    oracle(accepted == commits, "verify() says \(accepted), the commitment says \(commits)")
    guard accepted else { return 0 }
    for bit in [0, 7] {
        if !disclosure.bytes.isEmpty {
            var content = disclosure.bytes
            content[content.count / 2] ^= UInt8(1 << bit)
            let mutated = BlobDisclosure(reference: disclosure.reference, salt: disclosure.salt, bytes: content)
            oracle((try? mutated.verify()) == nil, "a changed content still verifies")
        }
        if !disclosure.salt.isEmpty {
            var salt = disclosure.salt
            salt[salt.count / 2] ^= UInt8(1 << bit)
            let mutated = BlobDisclosure(reference: disclosure.reference, salt: salt, bytes: disclosure.bytes)
            oracle((try? mutated.verify()) == nil, "a changed salt still verifies")
        }
    }
    return 0
}

/// Disclosures that verify: salted and unsalted, empty and non-empty content.
private func seeds() -> [[UInt8]] {
    let contents = ["Rename the customer's account in staging.", "", "--- a\n+++ b\n"].map { Array($0.utf8) }
    var out: [[UInt8]] = []
    for content in contents {
        for salt in [[UInt8](repeating: 0x5a, count: BlobCommitment.saltByteCount), []] {
            let digest = BlobCommitment.address(salt: salt, bytes: content)
            guard let reference = BlobReference(digest: digest, size: content.count, mediaType: "text/plain") else {
                continue
            }
            out.append(BlobDisclosure(reference: reference, salt: salt, bytes: content).jsonBytes)
        }
    }
    return out
}

@_cdecl("FuzzBlobDisclosure_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
