import CairnCrypto
import Foundation
import Testing

/// Ed25519 keys: generation, seeds, PKCS#8 PEM, errors, and interop with openssl and pyca.
@Suite("Ed25519 keys")
struct Ed25519KeyTests {
    /// RFC 8032 TEST 1.
    static let seed1 = Support.hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    static let public1 = Support.hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")

    @Test("A generated key signs 64-byte signatures that its public key verifies, and only for that message")
    func generatedKeySigns() throws {
        let key = try Ed25519PrivateKey.generate()
        let message = Array("Cairn".utf8)
        let signature = try key.signature(for: message)
        #expect(signature.count == 64)
        #expect(key.publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature(signature, for: Array("cairn".utf8)))
        #expect(try key.signature(for: message) == signature, "Ed25519 is deterministic")
        #expect(try Ed25519PrivateKey(seed: key.seed).publicKey == key.publicKey)
        #expect(try Ed25519PrivateKey.generate().seed != key.seed)
    }

    @Test("Signatures that are not 64 bytes are invalid, never an error")
    func wrongLengthSignature() throws {
        let key = try Ed25519PrivateKey(seed: Self.seed1)
        let signature = try key.signature(for: [])
        #expect(key.publicKey.isValidSignature(signature, for: []))
        #expect(!key.publicKey.isValidSignature(Array(signature.dropLast()), for: []))
        #expect(!key.publicKey.isValidSignature(signature + [0], for: []))
        #expect(!key.publicKey.isValidSignature([], for: []))
    }

    @Test("A seed that is not 32 bytes is refused with invalidKeyLength")
    func seedLength() {
        #expect(throws: CryptoError(code: .invalidKeyLength, message: "an Ed25519 seed is 32 bytes, got 31")) {
            try Ed25519PrivateKey(seed: [UInt8](repeating: 1, count: 31))
        }
    }

    @Test("A public key that is not 32 bytes is refused with invalidKeyLength")
    func publicKeyLength() {
        #expect(throws: CryptoError(code: .invalidKeyLength, message: "an Ed25519 public key is 32 bytes, got 33")) {
            try Ed25519PublicKey(rawRepresentation: [UInt8](repeating: 1, count: 33))
        }
    }

    @Test("Public keys are equal and hash equal exactly when their 32 bytes are")
    func publicKeyEquality() throws {
        let a = try Ed25519PublicKey(rawRepresentation: Self.public1)
        let b = try Ed25519PrivateKey(seed: Self.seed1).publicKey
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        #expect(a != (try Ed25519PrivateKey.generate().publicKey))
    }

    @Test("PEM round trip: a key written as PKCS#8 PEM reads back with the same seed and public key")
    func pemRoundTrip() throws {
        let key = try Ed25519PrivateKey(seed: Self.seed1)
        let pem = key.pemRepresentation
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(pem.hasSuffix("-----END PRIVATE KEY-----\n"))
        let back = try Ed25519PrivateKey(pemRepresentation: pem)
        #expect(back.seed == Self.seed1)
        #expect(back.publicKey.rawRepresentation == Self.public1)
        #expect(back.pemRepresentation == pem)
    }

    @Test("The PEM of the all-0x01 seed is the fixed PKCS#8 encoding shown in specs/keys-and-notes.md")
    func pemIsPKCS8() throws {
        let key = try Ed25519PrivateKey(seed: [UInt8](repeating: 1, count: 32))
        #expect(
            key.pemRepresentation == """
                -----BEGIN PRIVATE KEY-----
                MC4CAQAwBQYDK2VwBCIEIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB
                -----END PRIVATE KEY-----

                """)
    }

    @Test("PEM text without a PEM block is refused with invalidKeyEncoding")
    func pemMissing() {
        #expect(
            throws: CryptoError(
                code: .invalidKeyEncoding,
                message: "no PEM block found; expected an Ed25519 key in '-----BEGIN PRIVATE KEY-----' (PKCS#8) form")
        ) {
            try Ed25519PrivateKey(pemRepresentation: "not a key")
        }
    }

    @Test("A PKCS#8 block whose content is not a key is refused with invalidKeyEncoding and OpenSSL's reason")
    func pemGarbage() {
        do {
            _ = try Ed25519PrivateKey(
                pemRepresentation: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
            Issue.record("garbage PEM was accepted")
        } catch {
            #expect(error.code == .invalidKeyEncoding)
            #expect(
                error.message.hasPrefix("the PEM block is not a readable PKCS#8 private key (OpenSSL: error:"),
                "\(error.message)")
        }
    }

    @Test("An encrypted PKCS#8 key is refused with invalidKeyEncoding and told how to decrypt it")
    func pemEncrypted() {
        let pem = """
            -----BEGIN ENCRYPTED PRIVATE KEY-----
            MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAiSKXSRHrc6fQICCAAw
            DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEENycte5y76po+JMOVLjkfbIEQGQF
            yJAXhW9hX6VNl9vjLfhh3ZmoKhB/qmnYvKxwJlSnQgl/EhOuZx6ChqHmeBjc3CuC
            x+hdduublZVUaSpKu4c=
            -----END ENCRYPTED PRIVATE KEY-----
            """
        #expect(
            throws: CryptoError(
                code: .invalidKeyEncoding,
                message: "the private key is encrypted; decrypt it first with `openssl pkey -in KEY.pem -out PLAIN.pem`"
            )
        ) {
            try Ed25519PrivateKey(pemRepresentation: pem)
        }
    }

    @Test("A PKCS#8 key of another algorithm (EC P-256) is refused with wrongKeyType naming it")
    func pemWrongAlgorithm() {
        let pem = """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQglOFzVgGJWPRpwwwr
            GxnTSrESSFZXHdObLvNv0Kn9oA+hRANCAASGN1684wydSfbUyIrla5LBAe16bwZL
            GFTccWH8y08W+8ZCnfnW/vxOLXaQ8xxeWfxQpdTv0GqdJLOuzf35JoGE
            -----END PRIVATE KEY-----
            """
        #expect(
            throws: CryptoError(
                code: .wrongKeyType,
                message:
                    "the PEM holds a key of type EC, not Ed25519; create one with `openssl genpkey -algorithm ed25519`")
        ) {
            try Ed25519PrivateKey(pemRepresentation: pem)
        }
    }

    @Test("A public-key PEM, or a legacy RSA/EC block, is refused with wrongKeyType")
    func pemPublicOrLegacy() {
        let publicPEM = """
            -----BEGIN PUBLIC KEY-----
            MCowBQYDK2VwAyEAh6O0avtypESe2t0f0ObAoCZHGeolJ9gp1gLA3NsGm2Q=
            -----END PUBLIC KEY-----
            """
        #expect(
            throws: CryptoError(
                code: .wrongKeyType,
                message: "the PEM holds a public key; signing needs the Ed25519 private key ('BEGIN PRIVATE KEY')")
        ) {
            try Ed25519PrivateKey(pemRepresentation: publicPEM)
        }
        #expect(
            throws: CryptoError(
                code: .wrongKeyType,
                message:
                    "found a 'RSA PRIVATE KEY' PEM block; expected an Ed25519 key in '-----BEGIN PRIVATE KEY-----' "
                    + "(PKCS#8) form, as made by `openssl genpkey -algorithm ed25519`")
        ) {
            try Ed25519PrivateKey(
                pemRepresentation: "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")
        }
    }

    @Test("CryptoError describes itself as '<code>: <message>'")
    func errorDescription() {
        let error = CryptoError(code: .invalidKeyLength, message: "an Ed25519 seed is 32 bytes, got 31")
        #expect(error.description == "invalidKeyLength: an Ed25519 seed is 32 bytes, got 31")
    }

    @Test("One key signs from many tasks at once, each signature correct")
    func concurrentSigning() async throws {
        let key = try Ed25519PrivateKey(seed: Self.seed1)
        let ok = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<64 {
                group.addTask {
                    let message = Array("message \(i)".utf8)
                    guard let signature = try? key.signature(for: message) else { return false }
                    return key.publicKey.isValidSignature(signature, for: message)
                }
            }
            return await group.reduce(true) { $0 && $1 }
        }
        #expect(ok)
    }

    // MARK: openssl command line

    @Test(
        "openssl pkey reads our PEM and prints the same public key",
        .enabled(if: Support.openssl != nil, "no openssl command on this machine"))
    func opensslReadsOurPEM() throws {
        let key = try Ed25519PrivateKey.generate()
        let dir = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("key.pem").path
        try key.pemRepresentation.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try Support.run(Support.openssl!, ["pkey", "-in", path, "-noout", "-text_pub"])
        #expect(result.status == 0, "\(result.stderr)")
        // "ED25519 Public-Key:\npub:\n    d7:5a:...:\n    ...\n"
        let hex = result.stdout.split(separator: "\n").dropFirst(2)
            .joined().filter { $0.isHexDigit }
        #expect(result.stdout.hasPrefix("ED25519 Public-Key:"))
        #expect(hex == Hex.encode(key.publicKey.rawRepresentation))
    }

    @Test(
        "A key made by openssl genpkey loads, signs, and openssl verifies the signature",
        .enabled(if: Support.openssl != nil, "no openssl command on this machine"))
    func opensslGeneratedKey() throws {
        let openssl = Support.openssl!
        let dir = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let keyPath = dir.appendingPathComponent("key.pem").path
        let pubPath = dir.appendingPathComponent("pub.pem").path
        let msgPath = dir.appendingPathComponent("msg").path
        let sigPath = dir.appendingPathComponent("sig").path
        #expect(try Support.run(openssl, ["genpkey", "-algorithm", "ed25519", "-out", keyPath]).status == 0)
        #expect(try Support.run(openssl, ["pkey", "-in", keyPath, "-pubout", "-out", pubPath]).status == 0)

        let key = try Ed25519PrivateKey(pemRepresentation: String(contentsOfFile: keyPath, encoding: .utf8))
        let message = Support.randomBytes(200)
        let signature = try key.signature(for: message)
        #expect(key.publicKey.isValidSignature(signature, for: message))
        try Data(message).write(to: URL(fileURLWithPath: msgPath))
        try Data(signature).write(to: URL(fileURLWithPath: sigPath))
        let verify = try Support.run(
            openssl,
            ["pkeyutl", "-verify", "-pubin", "-inkey", pubPath, "-rawin", "-in", msgPath, "-sigfile", sigPath])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(verify.stdout.contains("Signature Verified Successfully"))
    }

    // MARK: pyca/cryptography

    @Test(
        "pyca/cryptography verifies our signatures, and we verify its signatures",
        .enabled(
            if: Support.pythonWithCryptography != nil || Support.interopRequired,
            "python3 with the 'cryptography' package is not available"))
    func pythonCrossCheck() throws {
        let key = try Ed25519PrivateKey.generate()
        let messages = [0, 1, 31, 64, 255, 1000].map { Support.randomBytes($0) }
        let ours = try messages.map { m in
            [
                "pub": Hex.encode(key.publicKey.rawRepresentation), "msg": Hex.encode(m),
                "sig": Hex.encode(try key.signature(for: m)),
            ]
        }
        // Also one wrong signature, which Python must reject.
        var wrong = ours[0]
        wrong["msg"] = Hex.encode(messages[1])
        let request = try JSONSerialization.data(withJSONObject: [
            "ours": ours + [wrong], "messages": messages.map { Hex.encode($0) },
        ])
        let script = """
            import json, sys
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
            req = json.load(sys.stdin)
            verified = []
            for c in req["ours"]:
                try:
                    Ed25519PublicKey.from_public_bytes(bytes.fromhex(c["pub"])).verify(
                        bytes.fromhex(c["sig"]), bytes.fromhex(c["msg"]))
                    verified.append(True)
                except InvalidSignature:
                    verified.append(False)
            key = Ed25519PrivateKey.generate()
            pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            theirs = [key.sign(bytes.fromhex(m)).hex() for m in req["messages"]]
            json.dump({"verified": verified, "pub": pub.hex(), "theirs": theirs}, sys.stdout)
            """
        let result = try Support.run(
            try #require(Support.pythonWithCryptography, "python3 with cryptography is required"), ["-c", script],
            input: request)
        #expect(result.status == 0, "\(result.stderr)")
        struct Reply: Decodable {
            let verified: [Bool]
            let pub: String
            let theirs: [String]
        }
        let reply = try JSONDecoder().decode(Reply.self, from: Data(result.stdout.utf8))
        #expect(reply.verified == Array(repeating: true, count: messages.count) + [false])
        let theirKey = try Ed25519PublicKey(rawRepresentation: Support.hex(reply.pub))
        for (message, signature) in zip(messages, reply.theirs) {
            #expect(theirKey.isValidSignature(Support.hex(signature), for: message))
            #expect(!theirKey.isValidSignature(Support.hex(signature), for: message + [1]))
        }
    }
}
