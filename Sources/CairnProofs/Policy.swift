import CairnCrypto
import CairnNote

/// A C2SP transparency log policy (c2sp.org/tlog-policy): the logs a verifier accepts, the
/// witnesses it knows, and the quorum of witness cosignatures a checkpoint needs.
///
/// ```
/// log example.com/ai-provenance+1a2b3c4d+AZ…
///
/// witness X1 x1.example/w+8a6ef1e1+BF…
/// witness X2 x2.example/w+08c0f38c+BA…
/// witness X3 x3.example/w+2a1b9a04+BC…
/// group X-witnesses 2 X1 X2 X3
/// quorum X-witnesses
/// ```
///
/// Parsing follows the specification exactly: lines of space- or tab-separated items, comment
/// lines starting with `#`, names defined before use, one quorum line, no duplicate keys or
/// names. Names are compared as octet strings (no Unicode normalization). Errors name the line.
///
/// Cairn verifies Ed25519 keys only: log keys of signature type 0x01 and witness keys of type
/// 0x04 (`cosignature/v1`, c2sp.org/tlog-cosignature).
public struct TlogPolicy: Sendable, Hashable {
    /// A `log <vkey> [<url>]` line.
    public struct Log: Sendable, Hashable {
        /// The log's verifier key; its name is the log's origin.
        public let key: NoteVerifierKey
        /// The optional URL (application-specific).
        public let url: String?
        /// The line that defines the log.
        public let line: Int
    }

    /// A `witness <name> <vkey> [<url>]` line.
    public struct Witness: Sendable, Hashable {
        /// The name the policy uses for the witness (not the key name).
        public let name: String
        /// The witness's cosignature/v1 verifier key (type 0x04).
        public let key: NoteVerifierKey
        /// The optional URL, by convention the witness's tlog-witness submission prefix.
        public let url: String?
        /// The line that defines the witness.
        public let line: Int
    }

    /// A `group <name> all|any|<k> <member>...` line.
    public struct Group: Sendable, Hashable {
        /// The group's name.
        public let name: String
        /// How many members must have witnessed a checkpoint for the group to witness it.
        public let threshold: Int
        /// The members (witnesses and earlier groups), in the order written.
        public let members: [String]
        /// The line that defines the group.
        public let line: Int

        let memberNodes: [Node]
    }

    /// The name a policy uses for "no cosignature required".
    public static let noneName = "none"

    /// The logs, in file order.
    public let logs: [Log]
    /// The witnesses, in file order.
    public let witnesses: [Witness]
    /// The groups, in file order.
    public let groups: [Group]
    /// The quorum: `none`, a witness name or a group name.
    public let quorum: String

    let quorumNode: Node

    /// What a name refers to.
    enum Node: Hashable, Sendable {
        case none
        case witness(Int)
        case group(Int)
    }

    /// Parses a policy file.
    public init(parsing text: String) throws(PolicyError) {
        try self.init(parsing: Array(text.utf8))
    }

    /// Parses a policy file (octets; bytes with the high bit set are opaque).
    ///
    /// A final line without a newline is accepted (**Cairn policy**, as the sigsum-go reference
    /// parser does); everything else follows c2sp.org/tlog-policy to the letter.
    public init(parsing bytes: [UInt8]) throws(PolicyError) {
        var builder = PolicyBuilder()
        var start = 0
        var number = 0
        while start < bytes.count {
            number += 1
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            try builder.parse(line: bytes[start..<end], number: number)
            start = end + 1
        }
        guard let quorum = builder.quorum else {
            throw PolicyError(
                .missingQuorum, line: nil,
                "the policy has no quorum line; add 'quorum <witness or group>' (or 'quorum none' to require no "
                    + "cosignature)")
        }
        logs = builder.logs
        witnesses = builder.witnesses
        groups = builder.groups
        self.quorum = quorum.name
        quorumNode = quorum.node
    }
}

// MARK: - Errors

/// Why a policy file was refused. `line` is the 1-based line number (nil for a missing quorum
/// line); `message` starts with `line N: `.
public struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong; the raw value is stable.
    public enum Code: String, Sendable, CaseIterable {
        /// A byte other than tab, newline, 0x20–0x7E or 0x80–0xFF.
        case invalidCharacter
        /// The first item of a line is not `log`, `witness`, `group` or `quorum`.
        case unknownKeyword
        /// A line has too few or too many items for its keyword.
        case malformedLine
        /// A vkey that does not parse (or is not UTF-8).
        case invalidKey
        /// A vkey of a signature type Cairn does not verify (e.g. 0x06, ML-DSA-44).
        case unsupportedKeyType
        /// A witness key on a log line (type 0x04) or a log key on a witness line (type 0x01).
        case wrongKeyType
        /// Two logs, or two witnesses, with the same public key.
        case duplicateKey
        /// A witness or group name that is already defined.
        case duplicateName
        /// A witness or group named `none`, or `none` listed as a group member.
        case reservedName
        /// A group member or the quorum names nothing defined on a preceding line.
        case undefinedName
        /// A group lists the same name twice.
        case duplicateMember
        /// A threshold that is not `all`, `any` or a decimal k with 1 ≤ k ≤ n.
        case invalidThreshold
        /// A second quorum line.
        case duplicateQuorum
        /// No quorum line.
        case missingQuorum
    }

    public let code: Code
    /// The offending line, counting from 1.
    public let line: Int?
    /// One line for people: `line N: …`.
    public let message: String

    init(_ code: Code, line: Int?, _ message: String) {
        self.code = code
        self.line = line
        self.message = line.map { "line \($0): " + message } ?? message
    }

    public var description: String { message }
}

// MARK: - Parsing

/// Accumulates definitions line by line.
private struct PolicyBuilder {
    var logs: [TlogPolicy.Log] = []
    var witnesses: [TlogPolicy.Witness] = []
    var groups: [TlogPolicy.Group] = []
    var quorum: (name: String, node: TlogPolicy.Node, line: Int)?
    /// Names (as octets) of witnesses and groups, with the line that defines each.
    var names: [[UInt8]: (node: TlogPolicy.Node, line: Int)] = [:]
    /// The public keys of the logs and witnesses so far, with the index of each, so duplicates are
    /// found in constant time (a policy with tens of thousands of lines parses in linear time).
    var logPublicKeys: [[UInt8]: Int] = [:]
    var witnessPublicKeys: [[UInt8]: Int] = [:]

    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let none = Array(TlogPolicy.noneName.utf8)

    mutating func parse(line: ArraySlice<UInt8>, number: Int) throws(PolicyError) {
        if let bad = line.first(where: { !($0 == Self.tab || (0x20...0x7E).contains($0) || $0 >= 0x80) }) {
            throw PolicyError(
                .invalidCharacter, line: number,
                "control character 0x\(Hex.encode([bad])) is not allowed; a policy may contain only tab and "
                    + "newline besides printable characters")
        }
        let items = line.split(whereSeparator: { $0 == Self.space || $0 == Self.tab })
        guard let keyword = items.first, keyword.first != UInt8(ascii: "#") else { return }  // blank or comment
        switch String(decoding: keyword, as: UTF8.self) {
        case "log": try parseLog(items, number)
        case "witness": try parseWitness(items, number)
        case "group": try parseGroup(items, number)
        case "quorum": try parseQuorum(items, number)
        default:
            throw PolicyError(
                .unknownKeyword, line: number,
                "unknown keyword \(Self.show(keyword)); a line is 'log', 'witness', 'group' or 'quorum', "
                    + "or a comment starting with '#'")
        }
    }

    mutating func parseLog(_ items: [ArraySlice<UInt8>], _ number: Int) throws(PolicyError) {
        guard items.count == 2 || items.count == 3 else {
            throw PolicyError(
                .malformedLine, line: number, "a log line is 'log <vkey> [<url>]', found \(items.count) items")
        }
        let key = try Self.key(items[1], number, role: "log")
        guard key.type == NoteVerifierKey.ed25519Type else {
            throw PolicyError(
                .wrongKeyType, line: number,
                "log key \(key.nameAndID) has signature type 0x\(Hex.encode([key.type])) (a witness cosignature "
                    + "key); a log key has type 0x01 (Ed25519 signed note)")
        }
        if let earlier = logPublicKeys[key.publicKey].map({ logs[$0] }) {
            throw PolicyError(
                .duplicateKey, line: number,
                "duplicate log: \(key.nameAndID) has the same public key as the log on line \(earlier.line)")
        }
        logPublicKeys[key.publicKey] = logs.count
        logs.append(TlogPolicy.Log(key: key, url: items.count == 3 ? Self.text(items[2]) : nil, line: number))
    }

    mutating func parseWitness(_ items: [ArraySlice<UInt8>], _ number: Int) throws(PolicyError) {
        guard items.count == 3 || items.count == 4 else {
            throw PolicyError(
                .malformedLine, line: number,
                "a witness line is 'witness <name> <vkey> [<url>]', found \(items.count) items")
        }
        let name = try defineName(items[1], number, kind: "witness")
        let key = try Self.key(items[2], number, role: "witness \(name)")
        guard key.type == NoteVerifierKey.cosignatureV1Type else {
            throw PolicyError(
                .wrongKeyType, line: number,
                "witness \(name): key \(key.nameAndID) has signature type 0x\(Hex.encode([key.type])) (a log "
                    + "key); a witness key has type 0x04 (Ed25519 cosignature/v1)")
        }
        if let earlier = witnessPublicKeys[key.publicKey].map({ witnesses[$0] }) {
            throw PolicyError(
                .duplicateKey, line: number,
                "duplicate witness: \(name) has the same public key as witness \(earlier.name) on line \(earlier.line)"
            )
        }
        names[Array(items[1])] = (.witness(witnesses.count), number)
        witnessPublicKeys[key.publicKey] = witnesses.count
        witnesses.append(
            TlogPolicy.Witness(name: name, key: key, url: items.count == 4 ? Self.text(items[3]) : nil, line: number))
    }

    mutating func parseGroup(_ items: [ArraySlice<UInt8>], _ number: Int) throws(PolicyError) {
        guard items.count >= 4 else {
            throw PolicyError(
                .malformedLine, line: number,
                "a group line is 'group <name> all|any|<k> <member>...' with at least one member, found "
                    + "\(items.count) items")
        }
        let name = try defineName(items[1], number, kind: "group")
        let memberItems = items[3...]
        var members: [String] = []
        var nodes: [TlogPolicy.Node] = []
        var seen = Set<[UInt8]>()
        for item in memberItems {
            let member = Self.text(item)
            guard Array(item) != Self.none else {
                throw PolicyError(
                    .reservedName, line: number, "group \(name): 'none' cannot be a group member")
            }
            guard let defined = names[Array(item)] else {
                throw PolicyError(
                    .undefinedName, line: number,
                    "group \(name): member \(Self.show(item)) is not a witness or group defined on a preceding line")
            }
            guard seen.insert(Array(item)).inserted else {
                throw PolicyError(
                    .duplicateMember, line: number, "group \(name): member \(Self.show(item)) is listed twice")
            }
            members.append(member)
            nodes.append(defined.node)
        }
        let threshold: Int
        switch String(decoding: items[2], as: UTF8.self) {
        case "all": threshold = members.count
        case "any": threshold = 1
        default:
            let digits = items[2]
            guard digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                let k = Int(String(decoding: digits, as: UTF8.self))
            else {
                throw PolicyError(
                    .invalidThreshold, line: number,
                    "group \(name): the threshold \(Self.show(digits)) is not 'all', 'any' or a decimal number")
            }
            guard k >= 1, k <= members.count else {
                throw PolicyError(
                    .invalidThreshold, line: number,
                    "group \(name): threshold \(k) is out of range; it must be 1 to the number of members "
                        + "(\(members.count))")
            }
            threshold = k
        }
        names[Array(items[1])] = (.group(groups.count), number)
        groups.append(
            TlogPolicy.Group(name: name, threshold: threshold, members: members, line: number, memberNodes: nodes))
    }

    mutating func parseQuorum(_ items: [ArraySlice<UInt8>], _ number: Int) throws(PolicyError) {
        guard items.count == 2 else {
            throw PolicyError(
                .malformedLine, line: number,
                "a quorum line is 'quorum <witness or group>' (or 'quorum none'), found \(items.count) items")
        }
        if let quorum {
            throw PolicyError(
                .duplicateQuorum, line: number,
                "a second quorum line; the quorum is already defined on line \(quorum.line)")
        }
        let node: TlogPolicy.Node
        if Array(items[1]) == Self.none {
            node = .none
        } else if let defined = names[Array(items[1])] {
            node = defined.node
        } else {
            throw PolicyError(
                .undefinedName, line: number,
                "quorum \(Self.show(items[1])) is not a witness or group defined on a preceding line")
        }
        quorum = (Self.text(items[1]), node, number)
    }

    /// Checks that `item` is a new, non-reserved name and returns it as text.
    func defineName(_ item: ArraySlice<UInt8>, _ number: Int, kind: String) throws(PolicyError) -> String {
        guard Array(item) != Self.none else {
            throw PolicyError(.reservedName, line: number, "'none' is predefined and cannot name a \(kind)")
        }
        if let earlier = names[Array(item)] {
            throw PolicyError(
                .duplicateName, line: number,
                "the name \(Self.show(item)) is already defined on line \(earlier.line) (witnesses and groups share "
                    + "one namespace)")
        }
        return Self.text(item)
    }

    static func key(_ item: ArraySlice<UInt8>, _ number: Int, role: String) throws(PolicyError) -> NoteVerifierKey {
        guard let text = String(validating: item, as: UTF8.self) else {
            throw PolicyError(.invalidKey, line: number, "\(role): the vkey is not valid UTF-8")
        }
        do {
            return try NoteVerifierKey(parsing: text)
        } catch {
            throw PolicyError(
                error.code == .unsupportedKeyType ? .unsupportedKeyType : .invalidKey, line: number,
                "\(role): \(error.message)")
        }
    }

    static func text(_ item: ArraySlice<UInt8>) -> String { String(decoding: item, as: UTF8.self) }

    /// A name or item quoted for a message (truncated when long).
    static func show(_ item: ArraySlice<UInt8>) -> String {
        let text = String(decoding: item.prefix(60), as: UTF8.self)
        return "\"" + text + (item.count > 60 ? "…" : "") + "\""
    }
}

// MARK: - Verification

/// A witness cosignature that verified under a policy.
public struct PolicyCosignature: Sendable, Hashable {
    /// The witness's name in the policy.
    public let witness: String
    /// The witness's key.
    public let key: NoteVerifierKey
    /// The cosignature's timestamp (POSIX seconds).
    public let timestamp: UInt64
}

/// The result of verifying a checkpoint against a policy.
public struct PolicyVerification: Sendable, Hashable {
    /// The verified checkpoint.
    public let checkpoint: Checkpoint
    /// The log key whose signature verified.
    public let logKey: NoteVerifierKey
    /// Every policy witness whose cosignature verified, in policy order (possibly more than the
    /// quorum needs).
    public let cosignatures: [PolicyCosignature]
}

extension TlogPolicy {
    /// Verifies `signed` under the policy: it is signed by one of the logs (or of `logKeys`,
    /// which replace the policy's log lines when given), and the valid cosignatures of the
    /// policy's witnesses satisfy the quorum.
    ///
    /// - The log key is chosen by origin: its name must be the checkpoint's origin
    ///   (`originMismatch` if no log has it), it must have signed (`wrongKey`), and every line of
    ///   that key must verify (`badSignature`). With `origin` (for a log whose origin is not its
    ///   key's name, such as sum.golang.org's `go.sum database tree`), the checkpoint's origin must
    ///   be `origin` instead, and any of the log keys may be the one that signed.
    /// - Names and origins are compared as bytes, as C2SP and Go compare them.
    /// - Cosignature lines from keys not in the policy are ignored. A line that names a policy
    ///   witness's key must verify, or the checkpoint is refused (`badSignature`): such a note
    ///   is malformed per c2sp.org/signed-note. Timestamps are checked as part of the signed
    ///   message and otherwise ignored.
    /// - An unmet quorum is `quorumNotMet`, with a message naming the unmet groups.
    public func verify(
        _ signed: SignedCheckpoint, logKeys: [NoteVerifierKey]? = nil, origin: String? = nil
    ) throws(ProofError) -> PolicyVerification {
        let logKey = try verifyLogSignature(signed, keys: logKeys ?? logs.map(\.key), origin: origin)
        let cosignatures = try verifyCosignatures(signed)
        return PolicyVerification(checkpoint: signed.checkpoint, logKey: logKey, cosignatures: cosignatures)
    }

    /// Verifies only the witness part of the policy — for a checkpoint whose log signature the
    /// caller has already verified. Returns the valid cosignatures of policy witnesses; throws
    /// `badSignature` for a policy witness's line that does not verify and `quorumNotMet` when
    /// the quorum is not satisfied.
    public func verifyCosignatures(_ signed: SignedCheckpoint) throws(ProofError) -> [PolicyCosignature] {
        var valid: [PolicyCosignature] = []
        var witnessed = Set<Int>()
        for (index, witness) in witnesses.enumerated() {
            let key = witness.key
            guard signed.note.signatures.contains(where: { $0.names(key) }) else {
                continue
            }
            do {
                let timestamp = try CosignatureV1.verify(signed, cosigner: key)
                valid.append(PolicyCosignature(witness: witness.name, key: key, timestamp: timestamp))
                witnessed.insert(index)
            } catch {
                throw ProofError(
                    .badSignature,
                    "the cosignature of witness \(witness.name) (\(key.nameAndID)) does not verify: the checkpoint "
                        + "was changed after cosigning or the cosignature is corrupt")
            }
        }
        let met = groupsWitnessed(witnessed)
        guard isWitnessed(quorumNode, witnessed, met) else {
            throw ProofError(.quorumNotMet, "quorum not met: " + explain(quorumNode, witnessed, met))
        }
        return valid
    }

    /// Whether each group is witnessed, in file order. A group's members are witnesses and groups
    /// defined on earlier lines, so one pass in file order decides every group: no recursion (a
    /// deep chain of nested groups cannot exhaust the stack) and linear time.
    func groupsWitnessed(_ witnessed: Set<Int>) -> [Bool] {
        var met = [Bool](repeating: false, count: groups.count)
        for (index, group) in groups.enumerated() {
            var count = 0
            for member in group.memberNodes where isWitnessed(member, witnessed, met) {
                count += 1
                if count >= group.threshold { break }
            }
            met[index] = count >= group.threshold
        }
        return met
    }

    func isWitnessed(_ node: Node, _ witnessed: Set<Int>, _ met: [Bool]) -> Bool {
        switch node {
        case .none: true
        case .witness(let index): witnessed.contains(index)
        case .group(let index): met[index]
        }
    }

    /// The most unmet groups a quorum message names.
    static let maxExplainedGroups = 20

    /// Why `node` (unmet) is unmet: the group's count, then each unmet member group's, depth first
    /// (with an explicit stack), naming at most ``maxExplainedGroups`` groups.
    func explain(_ node: Node, _ witnessed: Set<Int>, _ met: [Bool]) -> String {
        switch node {
        case .none: return "nothing is required"
        case .witness(let index):
            let witness = witnesses[index]
            return "no valid cosignature from witness \(witness.name) (\(witness.key.nameAndID))"
        case .group(let root):
            var parts: [String] = []
            var explained = Set<Int>()
            var stack = [root]
            var unexplained = 0
            while let index = stack.popLast() {
                guard explained.insert(index).inserted else { continue }
                guard parts.count < Self.maxExplainedGroups else {
                    unexplained += 1
                    continue
                }
                let group = groups[index]
                var names: [String] = []
                for (member, name) in zip(group.memberNodes, group.members) where isWitnessed(member, witnessed, met) {
                    names.append(name)
                }
                let onlyWitnesses = group.memberNodes.allSatisfy { if case .witness = $0 { true } else { false } }
                let need =
                    onlyWitnesses
                    ? "\(group.threshold) cosignature\(group.threshold == 1 ? "" : "s")"
                    : "\(group.threshold) of its members (\(group.members.joined(separator: ", "))) to have witnessed"
                parts.append(
                    "group \(group.name) needs \(need), has \(names.count)"
                        + (names.isEmpty ? "" : " (\(names.joined(separator: ", ")))"))
                for member in group.memberNodes.reversed() {
                    if case .group(let child) = member, !met[child] { stack.append(child) }
                }
            }
            if unexplained > 0 { parts.append("and at least \(unexplained) more unmet groups") }
            return parts.joined(separator: "; ")
        }
    }

    /// Finds the log key for the checkpoint's origin and verifies its signature.
    func verifyLogSignature(
        _ signed: SignedCheckpoint, keys: [NoteVerifierKey], origin expectedOrigin: String? = nil
    ) throws(ProofError) -> NoteVerifierKey {
        if let expectedOrigin, !signed.checkpoint.origin.sameBytes(as: expectedOrigin) {
            throw ProofError(
                .originMismatch,
                "checkpoint: origin \"\(signed.checkpoint.origin)\" is not the expected origin \"\(expectedOrigin)\" "
                    + "(--origin)")
        }
        let candidates =
            expectedOrigin == nil ? keys.filter { $0.name.sameBytes(as: signed.checkpoint.origin) } : keys
        guard !candidates.isEmpty else {
            let known = keys.isEmpty ? "none" : keys.map { "\"\($0.name)\"" }.joined(separator: ", ")
            throw ProofError(
                .originMismatch,
                "checkpoint: origin \"\(signed.checkpoint.origin)\" is not one of the policy's logs (logs: \(known))")
        }
        var verified: NoteVerifierKey?
        var lastError: ProofError?
        for key in candidates {
            do throws(ProofError) {
                _ = try verifyCheckpoint(signed, key: key, role: "checkpoint", origin: expectedOrigin)
                if verified == nil { verified = key }
            } catch {
                guard error.code == .wrongKey else { throw error }  // a bad signature by a log key
                lastError = error
            }
        }
        guard let verified else { throw lastError! }  // candidates is not empty
        return verified
    }
}

extension TlogProof {
    /// Verifies the proof for the entry bytes `entry` under `policy`: the checkpoint satisfies the
    /// policy (log signature and quorum, see ``TlogPolicy/verify(_:logKeys:)``) and the
    /// inclusion proof leads to its root.
    public func verify(
        entry: [UInt8], policy: TlogPolicy, logKeys: [NoteVerifierKey]? = nil, origin: String? = nil
    ) throws(ProofError) -> PolicyVerification {
        let verification = try policy.verify(checkpoint, logKeys: logKeys, origin: origin)
        _ = try verify(entry: entry, logKey: verification.logKey, origin: origin)
        return verification
    }
}

extension ConsistencyProofRequest {
    /// Verifies that the log grew consistently from `oldCheckpoint` to this request's checkpoint,
    /// which must satisfy `policy` (log signature and quorum). The old checkpoint must be signed
    /// by the same log key; it needs no cosignatures (it is the one you already trust).
    public func verify(
        oldCheckpoint: SignedCheckpoint, policy: TlogPolicy, logKeys: [NoteVerifierKey]? = nil, origin: String? = nil
    ) throws(ProofError) -> PolicyVerification {
        let verification = try policy.verify(checkpoint, logKeys: logKeys, origin: origin)
        _ = try verify(oldCheckpoint: oldCheckpoint, logKey: verification.logKey, origin: origin)
        return verification
    }
}
