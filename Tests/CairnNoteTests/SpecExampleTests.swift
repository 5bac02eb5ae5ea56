import CairnCrypto
import CairnNote
import Testing

/// The worked examples in specs/keys-and-notes.md, reproduced byte for byte.
@Suite("specs/keys-and-notes.md worked examples")
struct SpecExampleTests {
    static let logSeed = [UInt8](repeating: 0x01, count: 32)
    static let witnessSeed = [UInt8](repeating: 0x02, count: 32)

    @Test("The demo log key: seed 32 × 0x01, name example.com/cairn-demo, gives the documented vkey")
    func demoVKey() throws {
        let key = try Ed25519PrivateKey(seed: Self.logSeed)
        #expect(
            Hex.encode(key.publicKey.rawRepresentation)
                == "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c")
        let signer = try NoteSigner(name: "example.com/cairn-demo", privateKey: key)
        #expect(signer.keyID == 0x2684b6a0)
        #expect(
            signer.verifierKey.description
                == "example.com/cairn-demo+2684b6a0+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c")
    }

    @Test("The demo checkpoint of the empty tree, signed with the demo key, is the documented signed note")
    func demoCheckpoint() throws {
        let signer = try NoteSigner(name: "example.com/cairn-demo", privateKey: Ed25519PrivateKey(seed: Self.logSeed))
        let checkpoint = Checkpoint(origin: "example.com/cairn-demo", size: 0, rootHash: SHA256.hash([]))
        let signed = try SignedCheckpoint.sign(checkpoint, with: signer)
        #expect(
            signed.serialized == """
                example.com/cairn-demo
                0
                47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=

                \u{2014} example.com/cairn-demo JoS2oC3LPe0l8E+TfLCxU6BuZ6e4nvQjFYKEC00nWtPK2hP/XqpydIq5PH2TjW7hJGSqh5qD6+f862UfB4vjfcoFrw4=

                """)
        let vkey = try NoteVerifierKey(
            parsing: "example.com/cairn-demo+2684b6a0+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c")
        #expect(try SignedCheckpoint(parsing: signed.serialized).verify(logKey: vkey) == checkpoint)
    }

    @Test("The demo cosignature: seed 32 × 0x02, witness.example/w1, timestamp 1700000000, gives the documented line")
    func demoCosignature() throws {
        let key = try Ed25519PrivateKey(seed: Self.witnessSeed)
        let vkey = try NoteVerifierKey(cosignatureName: "witness.example/w1", ed25519: key.publicKey)
        #expect(vkey.description == "witness.example/w1+df1c0a35+BIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU")
        let checkpoint = Checkpoint(origin: "example.com/cairn-demo", size: 0, rootHash: SHA256.hash([]))
        let line = try CosignatureV1.sign(
            checkpoint: checkpoint, timestamp: 1_700_000_000, signer: key,
            name: "witness.example/w1")
        #expect(
            line.line
                == "\u{2014} witness.example/w1 3xwKNQAAAABlU/EA0EOnW1mkVTC0iui+NC2HKrOTYuum+m1oC7UJBUByPft6J+QPZuuR3tHckXOwXg9s0sfKSBc6SFCw/km9VYKUAQ==\n"
        )
    }
}
