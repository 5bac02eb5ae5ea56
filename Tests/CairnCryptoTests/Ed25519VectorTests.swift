import CairnCrypto
import Foundation
import Testing

/// Ed25519 against published vectors: RFC 8032 §7.1, Wycheproof, and C2SP CCTV.
@Suite("Ed25519 test vectors")
struct Ed25519VectorTests {
    struct RFC8032File: Decodable {
        struct Vector: Decodable {
            let name: String
            let secretKey: String
            let publicKey: String
            let message: String
            let signature: String
        }
        let vectors: [Vector]
    }

    struct WycheproofFile: Decodable {
        struct Group: Decodable {
            struct Key: Decodable { let pk: String }
            struct Test: Decodable {
                let tcId: Int
                let comment: String
                let msg: String
                let sig: String
                let result: String
            }
            let publicKey: Key
            let tests: [Test]
        }
        let numberOfTests: Int
        let testGroups: [Group]
    }

    struct CCTVVector: Decodable {
        let number: Int
        let key: String
        let sig: String
        let msg: String
        let flags: [String]?
    }

    static let rfc8032 = try! Support.decode(RFC8032File.self, from: "ed25519/rfc8032.json").vectors

    @Test("RFC 8032 §7.1: the public key is derived from the secret key", arguments: rfc8032)
    func publicKeyFromSeed(_ v: RFC8032File.Vector) throws {
        let key = try Ed25519PrivateKey(seed: Support.hex(v.secretKey))
        #expect(key.publicKey.rawRepresentation == Support.hex(v.publicKey), "\(v.name)")
        #expect(key.seed == Support.hex(v.secretKey))
    }

    @Test("RFC 8032 §7.1: signing is deterministic and gives the published signature", arguments: rfc8032)
    func exactSignature(_ v: RFC8032File.Vector) throws {
        let key = try Ed25519PrivateKey(seed: Support.hex(v.secretKey))
        #expect(try key.signature(for: Support.hex(v.message)) == Support.hex(v.signature), "\(v.name)")
    }

    @Test("RFC 8032 §7.1: the published signature verifies, and fails for any other message", arguments: rfc8032)
    func verifyPublished(_ v: RFC8032File.Vector) throws {
        let key = try Ed25519PublicKey(rawRepresentation: Support.hex(v.publicKey))
        let message = Support.hex(v.message)
        #expect(key.isValidSignature(Support.hex(v.signature), for: message), "\(v.name)")
        #expect(!key.isValidSignature(Support.hex(v.signature), for: message + [0]), "\(v.name)")
    }

    @Test("Wycheproof: every verify vector is valid or invalid exactly as published")
    func wycheproof() throws {
        let file = try Support.decode(WycheproofFile.self, from: "ed25519/wycheproof_ed25519_test.json")
        var checked = 0
        for group in file.testGroups {
            let key = try Ed25519PublicKey(rawRepresentation: Support.hex(group.publicKey.pk))
            for test in group.tests {
                let valid = key.isValidSignature(Support.hex(test.sig), for: Support.hex(test.msg))
                #expect(valid == (test.result == "valid"), "tcId \(test.tcId): \(test.comment)")
                checked += 1
            }
        }
        #expect(checked == file.numberOfTests)
        #expect(checked == 151)
    }

    @Test("CCTV: OpenSSL accepts exactly the 208 vectors without non_canonical_R or low_order_residue")
    func cctv() throws {
        let vectors = try Support.decode([CCTVVector].self, from: "ed25519/cctv_ed25519vectors.json")
        #expect(vectors.count == 914)
        var accepted = 0
        for v in vectors {
            let flags = Set(v.flags ?? [])
            let expected = !flags.contains("non_canonical_R") && !flags.contains("low_order_residue")
            let key = try Ed25519PublicKey(rawRepresentation: Support.hex(v.key))
            let valid = key.isValidSignature(Support.hex(v.sig), for: Array(v.msg.utf8))
            #expect(valid == expected, "vector \(v.number), flags \(flags.sorted())")
            if valid { accepted += 1 }
        }
        #expect(accepted == 208)
    }
}
