import CairnCrypto
import Testing

@Suite("SHA-256 and byte encodings")
struct SHA256Tests {
    @Test("FIPS 180-2 examples: empty string, abc, and the two-block message")
    func fipsExamples() {
        #expect(SHA256.hash([]).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash(utf8: "abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hash(utf8: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").hex
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test("Incremental hashing equals one-shot hashing, however the input is split")
    func incremental() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        for split in [0, 1, 63, 64, 65, 999, 1000] {
            var h = SHA256Hasher()
            h.update(Array(data[..<split]))
            h.update(Array(data[split...]))
            #expect(h.finalize() == SHA256.hash(data))
        }
    }

    @Test("Prefixed and node hashes equal hashing the concatenation")
    func prefixedAndNode() {
        let data: [UInt8] = Array("L123456".utf8)
        let leaf = data.withUnsafeBytes { SHA256.hash(prefix: 0, $0) }
        #expect(leaf == SHA256.hash([0] + data))
        #expect(leaf.hex == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
        let l = SHA256.hash(utf8: "l")
        let r = SHA256.hash(utf8: "r")
        #expect(SHA256.hash(node: l, r) == SHA256.hash([1] + l.bytes + r.bytes))
    }

    @Test("Digest hex and base64 round-trip; wrong lengths are refused")
    func digestEncodings() {
        let d = SHA256.hash(utf8: "abc")
        #expect(SHA256Digest(hex: d.hex) == d)
        #expect(SHA256Digest(hex: d.hex.uppercased()) == d)
        #expect(SHA256Digest(base64: d.base64) == d)
        #expect(d.description == "sha256:" + d.hex)
        #expect(SHA256Digest(hex: String(d.hex.dropLast(2))) == nil)
        #expect(SHA256Digest(bytes: [UInt8](repeating: 0, count: 31)) == nil)
        #expect(SHA256Digest(hex: "zz" + String(d.hex.dropFirst(2))) == nil)
    }

    @Test("Base64 follows RFC 4648 test vectors and rejects non-canonical input")
    func base64() {
        let cases = [
            "": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=",
            "foobar": "Zm9vYmFy",
        ]
        for (plain, encoded) in cases {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
        }
        for bad in ["Zg", "Zg=", "Zh==", "Zm9=", "Zm9v\n", "Zm 9v", "Zm9v====", "=Zm9", "Z===", "Zm=v"] {
            #expect(Base64.decode(bad) == nil, "\(bad) should be rejected")
        }
    }
}
