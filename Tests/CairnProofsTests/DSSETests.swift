import CairnCrypto
import CairnProofs
import Foundation
import Testing

/// DSSE (secure-systems-lab/dsse v1.0.0): the pre-authentication encoding against the spec's test
/// vector, signing and verification with Ed25519, and DSSE's lenient base64.
@Suite("DSSE envelopes")
struct DSSETests {
    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Vectors/capture/in-toto-dsse")

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: vectors.appendingPathComponent(name))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static let key = try! Ed25519PrivateKey(seed: [UInt8](repeating: 9, count: 32))

    /// The code of the `ProofError` that `body` throws (nil when it succeeds).
    static func failure(_ body: () throws -> Void) -> ProofError.Code? {
        do {
            try body()
            return nil
        } catch {
            return (error as? ProofError)?.code
        }
    }

    @Test("PAE of the spec's test vector is exactly the bytes protocol.md shows")
    func protocolVector() throws {
        let envelope = try Self.json("dsse-envelope.protocol-test-vector.json")
        let derived = try Self.json("dsse-protocol-pae.derived.json")
        let payloadType = try #require(envelope["payloadType"] as? String)
        let encoded = try #require(envelope["payload"] as? String)
        let payload = try #require(DSSEEnvelope.decodeBase64(encoded))
        #expect(payloadType == derived["payload_type"] as? String)
        let payloadText = try #require(derived["payload_utf8"] as? String)
        #expect(payload == Array(payloadText.utf8))
        let pae = DSSEEnvelope.preAuthenticationEncoding(payloadType: payloadType, payload: payload)
        let paeText = try #require(derived["pae_utf8"] as? String)
        #expect(pae == Array(paeText.utf8))
        #expect(String(decoding: pae, as: UTF8.self) == "DSSEv1 29 http://example.com/HelloWorld 11 hello world")
        // The envelope's signature decodes to the 64-byte raw r || s the spec describes.
        let signatures = try #require(envelope["signatures"] as? [[String: Any]])
        let sig = try #require(signatures.first?["sig"] as? String)
        #expect(DSSEEnvelope.decodeBase64(sig)?.count == 64)
    }

    @Test("PAE counts bytes, not characters, and takes empty and binary bodies")
    func paeEdges() {
        #expect(
            DSSEEnvelope.preAuthenticationEncoding(payloadType: "", payload: [])
                == Array("DSSEv1 0  0 ".utf8))
        #expect(
            DSSEEnvelope.preAuthenticationEncoding(payloadType: "t/é", payload: [0, 0xff, 0x20])
                == Array("DSSEv1 4 t/é 3 ".utf8) + [0, 0xff, 0x20])
        let body = [UInt8](repeating: 0x61, count: 1000)
        #expect(
            DSSEEnvelope.preAuthenticationEncoding(payloadType: DSSEEnvelope.inTotoPayloadType, payload: body)
                == Array("DSSEv1 28 application/vnd.in-toto+json 1000 ".utf8) + body)
    }

    @Test("A signed envelope verifies; any change to payload, type or signature, or another key, does not")
    func signAndVerify() throws {
        let payload = Array(#"{"_type":"https://in-toto.io/Statement/v1"}"#.utf8)
        let envelope = try DSSEEnvelope.sign(
            payload: payload, payloadType: DSSEEnvelope.inTotoPayloadType, keyID: "k+00000000"
        ) { try Self.key.signature(for: $0) }
        #expect(envelope.signatures.count == 1 && envelope.signatures[0].keyID == "k+00000000")
        #expect(
            Self.key.publicKey.isValidSignature(
                envelope.signatures[0].signature,
                for: DSSEEnvelope.preAuthenticationEncoding(payloadType: envelope.payloadType, payload: payload)))
        #expect(
            try envelope.verify(
                key: Self.key.publicKey, keyID: "k+00000000", payloadType: DSSEEnvelope.inTotoPayloadType)
                == 0)

        for i in [0, payload.count / 2, payload.count - 1] {
            var flipped = envelope
            flipped.payload[i] ^= 0x01
            #expect(
                Self.failure { () throws(ProofError) in try flipped.verify(key: Self.key.publicKey) } == .badSignature)
        }
        var retyped = envelope
        retyped.payloadType = "application/json"
        #expect(Self.failure { () throws(ProofError) in try retyped.verify(key: Self.key.publicKey) } == .badSignature)
        var damaged = envelope
        damaged.signatures[0].signature[10] ^= 0x80
        #expect(Self.failure { () throws(ProofError) in try damaged.verify(key: Self.key.publicKey) } == .badSignature)
        let other = try Ed25519PrivateKey(seed: [UInt8](repeating: 10, count: 32))
        do {
            try envelope.verify(key: other.publicKey, keyID: "other+11111111")
            Issue.record("another key verified the envelope")
        } catch {
            #expect(error.code == .wrongKey && error.message.contains("k+00000000"), "\(error)")
        }
        // The keyid is a hint: a wrong or missing keyid does not stop a valid signature.
        var unnamed = envelope
        unnamed.signatures[0].keyID = nil
        #expect(try unnamed.verify(key: Self.key.publicKey, keyID: "k+00000000") == 0)
        // A second, bad signature before the good one: the good one is found.
        var two = envelope
        two.signatures.insert(.init(keyID: "k+00000000", signature: [UInt8](repeating: 0, count: 64)), at: 0)
        #expect(try two.verify(key: Self.key.publicKey) == 1)
        // A valid signature over another payload type than the one required.
        #expect(
            Self.failure { () throws(ProofError) in
                try envelope.verify(key: Self.key.publicKey, payloadType: "http://example.com/HelloWorld")
            }
                == .malformed)
        var empty = envelope
        empty.signatures = []
        #expect(Self.failure { () throws(ProofError) in try empty.verify(key: Self.key.publicKey) } == .malformed)
    }

    @Test("Base64: standard or URL-safe, padded or not; never mixed, never with stray characters")
    func base64() {
        let bytes: [UInt8] = [0xfb, 0xff, 0xbf, 0x01]
        #expect(DSSEEnvelope.decodeBase64("+/+/AQ==") == bytes)
        #expect(DSSEEnvelope.decodeBase64("+/+/AQ") == bytes)
        #expect(DSSEEnvelope.decodeBase64("-_-_AQ==") == bytes)
        #expect(DSSEEnvelope.decodeBase64("-_-_AQ") == bytes)
        #expect(DSSEEnvelope.decodeBase64("aGVsbG8gd29ybGQ=") == Array("hello world".utf8))
        #expect(DSSEEnvelope.decodeBase64("") == [])
        #expect(DSSEEnvelope.decodeBase64("+_+/AQ==") == nil)
        #expect(DSSEEnvelope.decodeBase64("AQ= =") == nil)
        #expect(DSSEEnvelope.decodeBase64(" AQ==") == nil)
        #expect(DSSEEnvelope.decodeBase64("A") == nil)
        #expect(DSSEEnvelope.decodeBase64("AR==") == nil)  // non-zero trailing bits
    }
}
