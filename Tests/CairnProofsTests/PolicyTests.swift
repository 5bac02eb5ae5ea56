import CairnCrypto
import CairnMerkle
import CairnNote
import CairnProofs
import Foundation
import Testing

/// Deterministic keys for policy tests.
enum PolicyKeys {
    static func key(_ seed: UInt8) -> Ed25519PrivateKey {
        try! Ed25519PrivateKey(seed: [UInt8](repeating: seed, count: 32))
    }

    /// A log vkey (type 0x01).
    static func log(_ name: String, seed: UInt8) -> NoteVerifierKey {
        try! NoteVerifierKey(name: name, ed25519: key(seed).publicKey)
    }

    /// A witness vkey (type 0x04).
    static func witness(_ name: String, seed: UInt8) -> NoteVerifierKey {
        try! NoteVerifierKey(cosignatureName: name, ed25519: key(seed).publicKey)
    }
}

/// Parses `text`, expecting a PolicyError with `code` on `line`.
func expectPolicyError(
    _ code: PolicyError.Code, line: Int?, _ fragment: String = "", _ text: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    expectPolicyError(code, line: line, fragment, bytes: Array(text.utf8), sourceLocation: sourceLocation)
}

/// Parses `bytes`, expecting a PolicyError with `code` on `line`.
func expectPolicyError(
    _ code: PolicyError.Code, line: Int?, _ fragment: String = "", bytes: [UInt8],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    do {
        let policy = try TlogPolicy(parsing: bytes)
        Issue.record("expected \(code), parsed \(policy)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
        if let line {
            #expect(error.message.hasPrefix("line \(line): "), "\(error)", sourceLocation: sourceLocation)
        }
        #expect(
            error.message.contains(fragment), "\(error.message) should contain \(fragment)",
            sourceLocation: sourceLocation)
    }
}

@Suite("tlog-policy: parsing")
struct PolicyParsingTests {
    static let log = PolicyKeys.log("example.com/log", seed: 1)
    static let w = (1...6).map { PolicyKeys.witness("w\($0).example", seed: UInt8(10 + $0)) }

    /// The example policy of c2sp.org/tlog-policy ("Example policy"), with real keys.
    static let specExample = """
        log \(log)

        witness X1 \(w[0])
        witness X2 \(w[1])
        witness X3 \(w[2])
        group X-witnesses 2 X1 X2 X3

        witness Y1 \(w[3])
        witness Y2 \(w[4])
        witness Y3 \(w[5])
        group Y-witnesses any Y1 Y2 Y3

        group X-and-Y all X-witnesses Y-witnesses
        quorum X-and-Y

        """

    @Test("The specification's example policy: one log, six witnesses, two levels of groups")
    func specExamplePolicy() throws {
        let policy = try TlogPolicy(parsing: Self.specExample)
        #expect(policy.logs.map(\.key) == [Self.log])
        #expect(policy.logs[0].url == nil)
        #expect(policy.witnesses.map(\.name) == ["X1", "X2", "X3", "Y1", "Y2", "Y3"])
        #expect(policy.witnesses.map(\.key) == Self.w)
        #expect(policy.witnesses.map(\.line) == [3, 4, 5, 8, 9, 10])
        #expect(policy.groups.map(\.name) == ["X-witnesses", "Y-witnesses", "X-and-Y"])
        #expect(policy.groups.map(\.threshold) == [2, 1, 2])  // 2, any = 1, all = n = 2
        #expect(policy.groups[2].members == ["X-witnesses", "Y-witnesses"])
        #expect(policy.quorum == "X-and-Y")
    }

    @Test("'quorum none' needs no witness; a log line may carry a URL")
    func quorumNone() throws {
        let policy = try TlogPolicy(parsing: "log \(Self.log) https://log.example/\nquorum none\n")
        #expect(policy.witnesses.isEmpty && policy.groups.isEmpty)
        #expect(policy.quorum == "none")
        #expect(policy.logs[0].url == "https://log.example/")
    }

    @Test("A policy with no log is valid (the log is known from context); the quorum may be one witness")
    func noLogSingleWitness() throws {
        let policy = try TlogPolicy(parsing: "witness W \(Self.w[0]) https://w.example/witness\nquorum W\n")
        #expect(policy.logs.isEmpty)
        #expect(policy.witnesses[0].url == "https://w.example/witness")
        #expect(policy.quorum == "W")
    }

    @Test("Whitespace is spaces and tabs only: leading, trailing and repeated; blank and comment lines are ignored")
    func whitespaceAndComments() throws {
        let text =
            "# a comment\n"
            + "   \t\n"
            + "\t  # an indented comment with é and \u{212A}\n"
            + "  witness \t W1   \(Self.w[0])\t \n"
            + "witness W2 \(Self.w[1])\n"
            + "\n"
            + "group\tG\tall\tW1\t W2   \n"
            + "quorum G"  // no final newline: accepted (Cairn policy, like sigsum-go)
        let policy = try TlogPolicy(parsing: text)
        #expect(policy.witnesses.map(\.name) == ["W1", "W2"])
        #expect(policy.witnesses.map(\.line) == [4, 5])
        #expect(policy.groups.map(\.members) == [["W1", "W2"]])
        #expect(policy.groups[0].line == 7)
        #expect(policy.quorum == "G")
        // '#' starts a comment only at the beginning of a line: elsewhere it is an item.
        expectPolicyError(
            .malformedLine, line: 1, "found 6 items", "witness W \(Self.w[0]) https://w.example # comment\nquorum W\n")
    }

    @Test("Only tab and newline are allowed among control characters (CR, NUL, DEL are not)")
    func characterSet() {
        expectPolicyError(.invalidCharacter, line: 2, "0x0d", "quorum none\n# x\r\n")
        expectPolicyError(.invalidCharacter, line: 1, "0x0d", "quorum none\r\n")
        expectPolicyError(.invalidCharacter, line: 3, "0x00", "# a\n\n# \u{0}\nquorum none\n")
        expectPolicyError(.invalidCharacter, line: 1, "0x7f", "quorum none\u{7F}\n")
        // Bytes with the high bit set are fine anywhere, even invalid UTF-8 in a comment.
        #expect(
            (try? TlogPolicy(parsing: Array("# \u{FF}".utf8) + [0xFF, 0xC0] + Array("\nquorum none\n".utf8))) != nil)
    }

    @Test("Names are octet strings: 'K' and the Kelvin sign U+212A are different names")
    func namesAreOpaqueOctets() throws {
        let policy = try TlogPolicy(
            parsing: "witness K \(Self.w[0])\nwitness \u{212A} \(Self.w[1])\ngroup G all K \u{212A}\nquorum \u{212A}\n")
        #expect(policy.witnesses.count == 2)
        #expect(policy.groups[0].threshold == 2)
        // The quorum names the Kelvin witness only: a cosignature from "K" (w[0]) does not meet it.
        #expect(policy.quorum.unicodeScalars.first == "\u{212A}")
    }

    @Test("Unknown keywords are refused with the line number")
    func unknownKeyword() {
        expectPolicyError(.unknownKeyword, line: 3, "\"witnes\"", "# c\n\nwitnes W \(Self.w[0])\nquorum W\n")
        expectPolicyError(.unknownKeyword, line: 1, "\"Log\"", "Log \(Self.log)\nquorum none\n")
        expectPolicyError(.unknownKeyword, line: 1, "\"quorum:\"", "quorum: none\n")
    }

    @Test("Lines with the wrong number of items are refused")
    func itemCounts() {
        expectPolicyError(.malformedLine, line: 1, "'log <vkey> [<url>]', found 1", "log\nquorum none\n")
        expectPolicyError(.malformedLine, line: 1, "found 4", "log \(Self.log) https://a b\nquorum none\n")
        expectPolicyError(
            .malformedLine, line: 1, "'witness <name> <vkey> [<url>]', found 2", "witness W\nquorum none\n")
        expectPolicyError(
            .malformedLine, line: 2, "at least one member, found 3", "witness W \(Self.w[0])\ngroup G any\nquorum G\n")
        expectPolicyError(.malformedLine, line: 1, "found 3", "quorum a b\n")
        expectPolicyError(.malformedLine, line: 1, "found 1", "quorum\n")
    }

    @Test("A group member or the quorum must be defined on a preceding line")
    func undefinedNames() {
        expectPolicyError(
            .undefinedName, line: 2, "member \"W2\"", "witness W1 \(Self.w[0])\ngroup G any W1 W2\nquorum G\n")
        // Defined later does not count (this also rules out cycles).
        expectPolicyError(
            .undefinedName, line: 1, "member \"W1\"", "group G any W1\nwitness W1 \(Self.w[0])\nquorum G\n")
        expectPolicyError(.undefinedName, line: 1, "quorum \"W1\"", "quorum W1\nwitness W1 \(Self.w[0])\n")
        expectPolicyError(.undefinedName, line: 2, "quorum \"X\"", "witness W1 \(Self.w[0])\nquorum X\n")
    }

    @Test("Thresholds: all, any or a decimal k with 1 <= k <= n")
    func thresholds() throws {
        let two = "witness A \(Self.w[0])\nwitness B \(Self.w[1])\n"
        #expect(try TlogPolicy(parsing: two + "group G 2 A B\nquorum G\n").groups[0].threshold == 2)
        #expect(try TlogPolicy(parsing: two + "group G 1 A B\nquorum G\n").groups[0].threshold == 1)
        #expect(try TlogPolicy(parsing: two + "group G all A B\nquorum G\n").groups[0].threshold == 2)
        #expect(try TlogPolicy(parsing: two + "group G any A B\nquorum G\n").groups[0].threshold == 1)
        expectPolicyError(.invalidThreshold, line: 3, "threshold 3 is out of range", two + "group G 3 A B\nquorum G\n")
        expectPolicyError(.invalidThreshold, line: 3, "threshold 0 is out of range", two + "group G 0 A B\nquorum G\n")
        expectPolicyError(.invalidThreshold, line: 3, "\"two\"", two + "group G two A B\nquorum G\n")
        expectPolicyError(.invalidThreshold, line: 3, "\"-1\"", two + "group G -1 A B\nquorum G\n")
        expectPolicyError(.invalidThreshold, line: 3, "\"ALL\"", two + "group G ALL A B\nquorum G\n")
    }

    @Test("Witnesses and groups share one namespace; 'none' is reserved; members are listed once")
    func duplicateAndReservedNames() {
        let w = Self.w
        expectPolicyError(
            .duplicateName, line: 2, "\"W\" is already defined on line 1", "witness W \(w[0])\nwitness W \(w[1])\n")
        expectPolicyError(
            .duplicateName, line: 3, "\"W\" is already defined on line 1",
            "witness W \(w[0])\nwitness V \(w[1])\ngroup W any V\nquorum W\n")
        expectPolicyError(
            .duplicateName, line: 3, "\"G\" is already defined on line 2",
            "witness W \(w[0])\ngroup G any W\ngroup G all W\nquorum G\n")
        expectPolicyError(.reservedName, line: 1, "'none' is predefined", "witness none \(w[0])\nquorum none\n")
        expectPolicyError(
            .reservedName, line: 2, "'none' is predefined", "witness W \(w[0])\ngroup none any W\nquorum W\n")
        expectPolicyError(
            .reservedName, line: 2, "'none' cannot be a group member",
            "witness W \(w[0])\ngroup G any W none\nquorum G\n")
        expectPolicyError(
            .duplicateMember, line: 3, "member \"W\" is listed twice",
            "witness W \(w[0])\nwitness V \(w[1])\ngroup G 2 W V W\nquorum G\n")
    }

    @Test("Duplicate keys: the same public key twice among logs or among witnesses, whatever the key name")
    func duplicateKeys() {
        let sameLogKey = PolicyKeys.log("other.example/log", seed: 1)  // Self.log's key under another name
        expectPolicyError(
            .duplicateKey, line: 3, "same public key as the log on line 1",
            "log \(Self.log)\n# the same key, renamed\nlog \(sameLogKey)\nquorum none\n")
        let sameWitnessKey = PolicyKeys.witness("renamed.example", seed: 11)  // w[0]'s key
        expectPolicyError(
            .duplicateKey, line: 2, "same public key as witness A on line 1",
            "witness A \(Self.w[0])\nwitness B \(sameWitnessKey)\nquorum A\n")
        // A log key and a witness key may share the underlying key (different roles and key IDs).
        let logAndWitness = PolicyKeys.witness("example.com/log", seed: 1)
        #expect((try? TlogPolicy(parsing: "log \(Self.log)\nwitness W \(logAndWitness)\nquorum W\n")) != nil)
    }

    @Test("Key types: logs need type 0x01, witnesses type 0x04; other types and bad vkeys are refused")
    func keyTypes() {
        expectPolicyError(.wrongKeyType, line: 1, "type 0x04", "log \(Self.w[0])\nquorum none\n")
        expectPolicyError(.wrongKeyType, line: 1, "witness W: key example.com/log", "witness W \(Self.log)\nquorum W\n")
        let mldsa = "w.example+00000000+" + Base64.encode([0x06] + [UInt8](repeating: 0, count: 32))
        expectPolicyError(.unsupportedKeyType, line: 1, "0x06", "witness W \(mldsa)\nquorum W\n")
        expectPolicyError(.invalidKey, line: 1, "log: verifier key", "log not-a-vkey\nquorum none\n")
        let renamed = Self.w[0].description.replacingOccurrences(of: "w1.example", with: "w9.example")
        expectPolicyError(
            .invalidKey, line: 2, "witness W: verifier key w9.example: key ID", "\nwitness W \(renamed)\n")
        expectPolicyError(
            .invalidKey, line: 1, "witness W: the vkey is not valid UTF-8",
            bytes: Array("witness W w+".utf8) + [0xFF] + Array("\nquorum W\n".utf8))
    }

    @Test("Exactly one quorum line")
    func quorumLines() {
        expectPolicyError(.missingQuorum, line: nil, "no quorum line", "log \(Self.log)\n")
        expectPolicyError(.missingQuorum, line: nil, "no quorum line", "")
        expectPolicyError(
            .duplicateQuorum, line: 3, "already defined on line 2", "witness W \(Self.w[0])\nquorum W\nquorum none\n")
    }
}

/// Checkpoints of `example.com/log` (seed 1) cosigned by witnesses `w<i>.example` (seed 10 + i).
enum Cosigning {
    static let origin = "example.com/log"
    static let logSigner = try! NoteSigner(name: origin, privateKey: PolicyKeys.key(1))

    static func checkpoint(size: UInt64 = 5, signer: NoteSigner = logSigner) -> SignedCheckpoint {
        try! SignedCheckpoint.sign(
            Checkpoint(origin: origin, size: size, rootHash: SHA256.hash(utf8: "root \(size)")), with: signer)
    }

    /// `signed` with cosignatures by witnesses `indexes` (1-based, as in `w1.example`).
    static func cosign(
        _ signed: SignedCheckpoint, by indexes: [Int], timestamp: UInt64 = 1_700_000_000
    )
        -> SignedCheckpoint
    {
        var result = signed
        for i in indexes {
            result = try! result.adding(
                CosignatureV1.sign(
                    checkpoint: signed.checkpoint, timestamp: timestamp, signer: PolicyKeys.key(UInt8(10 + i)),
                    name: "w\(i).example"))
        }
        return result
    }

    /// `signed` with the signature bytes of the line by `name` changed by `change`.
    static func tamper(_ signed: SignedCheckpoint, name: String, _ change: (inout [UInt8]) -> Void) -> SignedCheckpoint
    {
        let lines = signed.note.signatures.map { line -> NoteSignature in
            guard line.name == name else { return line }
            var bytes = line.signature
            change(&bytes)
            return try! NoteSignature(name: line.name, keyID: line.keyID, signature: bytes)
        }
        return try! SignedCheckpoint(note: SignedNote(text: signed.note.text, signatures: lines))
    }
}

@Suite("tlog-policy: verifying checkpoints")
struct PolicyVerificationTests {
    static let example = try! TlogPolicy(parsing: PolicyParsingTests.specExample)
    static let twoOfTwo = try! TlogPolicy(
        parsing: """
            log \(Cosigning.logSigner.verifierKey)
            witness A \(PolicyParsingTests.w[0])
            witness B \(PolicyParsingTests.w[1])
            group both 2 A B
            quorum both

            """)

    @Test("2 of 2 cosignatures pass; 1 of 2 fails with a reason naming the group, its need and who signed")
    func twoOfTwo() throws {
        let signed = Cosigning.checkpoint()
        let both = try Self.twoOfTwo.verify(Cosigning.cosign(signed, by: [1, 2]))
        #expect(both.checkpoint == signed.checkpoint)
        #expect(both.logKey == Cosigning.logSigner.verifierKey)
        #expect(both.cosignatures.map(\.witness) == ["A", "B"])
        #expect(both.cosignatures.map(\.timestamp) == [1_700_000_000, 1_700_000_000])
        expectProofError(.quorumNotMet, "") {
            _ = try Self.twoOfTwo.verify(Cosigning.cosign(signed, by: [1]))
        }
        do {
            _ = try Self.twoOfTwo.verify(Cosigning.cosign(signed, by: [2]))
        } catch {
            #expect(error.message == "quorum not met: group both needs 2 cosignatures, has 1 (B)")
        }
        do {
            _ = try Self.twoOfTwo.verify(signed)
        } catch {
            #expect(error.message == "quorum not met: group both needs 2 cosignatures, has 0")
        }
    }

    @Test("The specification's example: 2 of X and any of Y; unmet groups are explained depth first")
    func specExampleQuorum() throws {
        let signed = Cosigning.checkpoint()
        // X1 X2 Y3 (indexes 1, 2, 6) meet X-and-Y.
        let ok = try Self.example.verify(Cosigning.cosign(signed, by: [1, 2, 6]))
        #expect(ok.cosignatures.map(\.witness) == ["X1", "X2", "Y3"])
        // All of X and all of Y: more than needed is fine.
        #expect(try Self.example.verify(Cosigning.cosign(signed, by: [1, 2, 3, 4, 5, 6])).cosignatures.count == 6)
        func reason(_ indexes: [Int]) -> String? {
            do {
                _ = try Self.example.verify(Cosigning.cosign(signed, by: indexes))
                return nil
            } catch {
                #expect(error.code == .quorumNotMet)
                return error.message
            }
        }
        #expect(
            reason([1, 4])
                == "quorum not met: group X-and-Y needs 2 of its members (X-witnesses, Y-witnesses) to have "
                + "witnessed, has 1 (Y-witnesses); group X-witnesses needs 2 cosignatures, has 1 (X1)")
        #expect(
            reason([1, 2, 3])
                == "quorum not met: group X-and-Y needs 2 of its members (X-witnesses, Y-witnesses) to have "
                + "witnessed, has 1 (X-witnesses); group Y-witnesses needs 1 cosignature, has 0")
        #expect(
            reason([])
                == "quorum not met: group X-and-Y needs 2 of its members (X-witnesses, Y-witnesses) to have "
                + "witnessed, has 0; group X-witnesses needs 2 cosignatures, has 0; group Y-witnesses needs 1 "
                + "cosignature, has 0")
    }

    @Test("A single-witness quorum, and 'quorum none'")
    func singleWitnessAndNone() throws {
        let single = try TlogPolicy(
            parsing: "log \(Cosigning.logSigner.verifierKey)\nwitness W \(PolicyParsingTests.w[0])\nquorum W\n")
        let signed = Cosigning.checkpoint()
        #expect(try single.verify(Cosigning.cosign(signed, by: [1])).cosignatures.map(\.witness) == ["W"])
        expectProofError(.quorumNotMet, "quorum not met: no valid cosignature from witness W (w1.example+") {
            _ = try single.verify(Cosigning.cosign(signed, by: [2]))  // w2 is not in the policy: ignored
        }
        let none = try TlogPolicy(parsing: "log \(Cosigning.logSigner.verifierKey)\nquorum none\n")
        #expect(try none.verify(signed).cosignatures.isEmpty)
        // Cosignatures of keys outside the policy are ignored, even if they do not verify.
        let junk = Cosigning.tamper(Cosigning.cosign(signed, by: [2]), name: "w2.example") { $0[20] ^= 1 }
        #expect(try none.verify(junk).cosignatures.isEmpty)
    }

    @Test("The log: chosen by origin, must have signed, and its signature must verify; logKeys replace the log lines")
    func logSignature() throws {
        let signed = Cosigning.cosign(Cosigning.checkpoint(), by: [1, 2])
        let otherLog = try TlogPolicy(
            parsing: "log \(PolicyKeys.log("example.com/other", seed: 1))\nwitness A \(PolicyParsingTests.w[0])\n"
                + "quorum A\n")
        expectProofError(.originMismatch, "origin \"example.com/log\" is not one of the policy's logs") {
            _ = try otherLog.verify(signed)
        }
        // Same origin, another key (e.g. an impostor's): wrong key.
        let impostor = try NoteSigner(name: Cosigning.origin, privateKey: PolicyKeys.key(99))
        expectProofError(.wrongKey, "not signed by example.com/log") {
            _ = try Self.twoOfTwo.verify(Cosigning.cosign(Cosigning.checkpoint(signer: impostor), by: [1, 2]))
        }
        // Two keys for one origin (rotation): either may sign.
        let rotated = try TlogPolicy(
            parsing: "log \(Cosigning.logSigner.verifierKey)\nlog \(impostor.verifierKey)\nquorum none\n")
        #expect(try rotated.verify(Cosigning.checkpoint(signer: impostor)).logKey == impostor.verifierKey)
        // A log signature that does not verify.
        let forged = Cosigning.tamper(signed, name: Cosigning.origin) { $0[0] ^= 1 }
        expectProofError(.badSignature, "bad signature by example.com/log") { _ = try Self.twoOfTwo.verify(forged) }
        // No log lines: the log key comes from the caller.
        let witnessesOnly = try TlogPolicy(parsing: "witness A \(PolicyParsingTests.w[0])\nquorum A\n")
        expectProofError(.originMismatch, "(logs: none)") { _ = try witnessesOnly.verify(signed) }
        #expect(try witnessesOnly.verify(signed, logKeys: [Cosigning.logSigner.verifierKey]).cosignatures.count == 1)
        expectProofError(.wrongKey, "") { _ = try witnessesOnly.verify(signed, logKeys: [impostor.verifierKey]) }
    }

    @Test("A policy witness's cosignature must verify; timestamps are covered by the signature but otherwise ignored")
    func cosignatureValidity() throws {
        let signed = Cosigning.checkpoint()
        for timestamp: UInt64 in [1, 1_679_315_147, UInt64(Int64.max)] {
            let result = try Self.twoOfTwo.verify(Cosigning.cosign(signed, by: [1, 2], timestamp: timestamp))
            #expect(result.cosignatures.map(\.timestamp) == [timestamp, timestamp])
        }
        let cosigned = Cosigning.cosign(signed, by: [1, 2])
        let alteredTime = Cosigning.tamper(cosigned, name: "w1.example") { $0[7] ^= 1 }  // last timestamp byte
        expectProofError(.badSignature, "the cosignature of witness A (w1.example+") {
            _ = try Self.twoOfTwo.verify(alteredTime)
        }
        let alteredSignature = Cosigning.tamper(cosigned, name: "w2.example") { $0[40] ^= 0x80 }
        expectProofError(.badSignature, "witness B") { _ = try Self.twoOfTwo.verify(alteredSignature) }
        // A cosignature of another checkpoint, pasted onto this one.
        let other = Cosigning.cosign(Cosigning.checkpoint(size: 6), by: [1])
        let pasted = try signed.adding(other.note.signatures.last!)
        expectProofError(.badSignature, "witness A") { _ = try Self.twoOfTwo.verify(pasted) }
    }

    @Test(
        "cosignature_v1_cases (Tests/Vectors/note): the valid one counts with its timestamp, altered ones are refused")
    func cosignatureVectors() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Vectors/note/signed_note_vectors.json")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let cases = try #require(root["cosignature_v1_cases"] as? [[String: Any]])
        #expect(cases.count == 4)
        for v in cases {
            let id = v["id"] as! String
            let vkey = v["cosigner_vkey"] as! String
            let signed = try SignedCheckpoint(parsing: v["note"] as! String)
            let policyText = "witness Known \(vkey)\nquorum Known\n"
            switch id {
            case "cosig-v1-valid":
                let valid = try TlogPolicy(parsing: policyText).verifyCosignatures(signed)
                #expect(valid.map(\.witness) == ["Known"])
                #expect(valid.map(\.timestamp) == [UInt64(v["expected_timestamp"] as! Int)])
            case "cosig-v1-wrong-keytype":
                expectPolicyError(.wrongKeyType, line: 1, "witness Known", policyText)
            case "cosig-v1-timestamp-altered", "cosig-v1-body-altered":
                expectProofError(.badSignature, "witness Known") {
                    _ = try TlogPolicy(parsing: policyText).verifyCosignatures(signed)
                }
            default:
                Issue.record("unexpected vector \(id)")
            }
        }
    }

    @Test("Inclusion and consistency proofs under a policy: the proof's checkpoint must meet the quorum")
    func proofsUnderPolicy() throws {
        var log = try TestLog()
        log.append(9)
        let witness = PolicyKeys.witness("w1.example", seed: 11)
        let policy = try TlogPolicy(parsing: "log \(log.signer.verifierKey)\nwitness A \(witness)\nquorum A\n")
        func cosigned(_ signed: SignedCheckpoint) throws -> SignedCheckpoint {
            try signed.adding(
                CosignatureV1.sign(
                    checkpoint: signed.checkpoint, timestamp: 42, signer: PolicyKeys.key(11), name: "w1.example"))
        }
        var inclusion = try log.inclusion(3, size: 9)
        expectProofError(.quorumNotMet, "witness A") { _ = try inclusion.verify(entry: log.entry(3), policy: policy) }
        inclusion.checkpoint = try cosigned(inclusion.checkpoint)
        #expect(try inclusion.verify(entry: log.entry(3), policy: policy).cosignatures.map(\.timestamp) == [42])
        expectProofError(.rootMismatch, "") { _ = try inclusion.verify(entry: log.entry(4), policy: policy) }

        var consistency = try log.consistency(4, size: 9)
        let old = try log.checkpoint(size: 4)  // the old checkpoint needs no cosignature
        expectProofError(.quorumNotMet, "") { _ = try consistency.verify(oldCheckpoint: old, policy: policy) }
        consistency.checkpoint = try cosigned(consistency.checkpoint)
        #expect(try consistency.verify(oldCheckpoint: old, policy: policy).checkpoint.size == 9)
        expectProofError(.sizeMismatch, "") {
            _ = try consistency.verify(oldCheckpoint: try log.checkpoint(size: 5), policy: policy)
        }
    }
}

@Suite("tlog-policy: the worked example of specs/witness.md")
struct PolicyDocumentationTests {
    static func example() throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("specs/witness.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        let marker = try #require(text.range(of: "<!-- policy-example -->\n```\n"))
        let end = try #require(text.range(of: "```\n", range: marker.upperBound..<text.endIndex))
        return String(text[marker.upperBound..<end.lowerBound])
    }

    @Test("The example policy parses, and the quoted results are what verification gives")
    func workedExample() throws {
        let policy = try TlogPolicy(parsing: try Self.example())
        #expect(
            policy.logs.map(\.key.description) == [
                "example.com/cairn-demo+2684b6a0+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
            ])
        #expect(policy.witnesses.map(\.name) == ["W1", "W2", "W3", "Y1"])
        #expect(
            policy.witnesses.map(\.url) == [
                "https://w1.witness.example", "https://w2.witness.example", nil, "https://y1.witness.other",
            ])
        #expect(policy.quorum == "both-operators")
        // The documented keys are those of seeds 0x02…0x05 (and the log's of seed 0x01).
        for (witness, seed) in zip(policy.witnesses, [UInt8(2), 3, 4, 5]) {
            #expect(witness.key.publicKey == PolicyKeys.key(seed).publicKey.rawRepresentation)
        }
        let log = try NoteSigner(name: "example.com/cairn-demo", privateKey: PolicyKeys.key(1))
        let signed = try SignedCheckpoint.sign(
            Checkpoint(
                origin: "example.com/cairn-demo", size: 5,
                rootHash: try #require(SHA256Digest(base64: "WEkFK+Z3FmGlnwNyuNYIgtVuskAP7vTq/JZztzfYUXU="))),
            with: log)
        func cosigned(_ witnesses: [(String, UInt8)]) throws -> SignedCheckpoint {
            var result = signed
            for (name, seed) in witnesses {
                result = try result.adding(
                    CosignatureV1.sign(
                        checkpoint: signed.checkpoint, timestamp: 1_767_225_600, signer: PolicyKeys.key(seed),
                        name: name))
            }
            return result
        }
        let all = try cosigned([("witness.example/w1", 2), ("witness.example/w2", 3), ("witness.other/y1", 5)])
        #expect(try policy.verify(all).cosignatures.map(\.witness) == ["W1", "W2", "Y1"])
        expectProofError(
            .quorumNotMet,
            "quorum not met: group both-operators needs 2 of its members (example-witnesses, Y1) to have witnessed, "
                + "has 1 (Y1); group example-witnesses needs 2 cosignatures, has 1 (W1)"
        ) {
            _ = try policy.verify(try cosigned([("witness.example/w1", 2), ("witness.other/y1", 5)]))
        }
    }
}
