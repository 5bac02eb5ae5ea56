// FuzzDSSE: DSSE envelopes as `cairn verify in-toto` reads them (specs/in-toto.md), and the library behind them
// (CairnProofs: `DSSEEnvelope.decodeBase64`, `preAuthenticationEncoding`, `verify(key:keyID:payloadType:)`).
//
// The standard JSON envelope is read by `DSSEEnvelope.init(json:)`, which lives in the `cairn` executable
// (Sources/CairnCLI/ExportInTotoCommand.swift) and is not reachable from a library module: this target maps the
// JSON to an envelope the way that initializer does (same members, same base64 rules through the library's
// `decodeBase64`) and fuzzes the library code from there. The CLI's own copy is not covered.
//
// The generated seeds are envelopes signed by the fuzzers' log key. Oracles:
// - no trap, whatever the bytes;
// - base64: text that decodes re-encodes (standard, padded) to text that decodes to the same bytes, and standard
//   padded text that decodes is exactly the encoding of what it decodes to (no malleability);
// - soundness: an envelope that verifies with the log key has a PAE one of the seeds signed (the fuzzer cannot
//   forge a signature), and the index returned names a signature that verifies; a witness's key never verifies it.
import CairnCrypto
import CairnJSON
import CairnProofs
import FuzzKit

private let keyID = FuzzKeys.logKey.nameAndID
private let payloads: [(type: String, payload: [UInt8])] = [
    (
        DSSEEnvelope.inTotoPayloadType,
        Array(
            #"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"src/a.swift","digest":{"sha256":"00"}}],"predicateType":"https://cairn.example/checkpoint/v1","predicate":{}}"#
                .utf8)
    ),
    ("http://example.com/HelloWorld", Array("hello world".utf8)),
    (DSSEEnvelope.inTotoPayloadType, []),
]
private let signedPAEs = Set(
    payloads.map { DSSEEnvelope.preAuthenticationEncoding(payloadType: $0.type, payload: $0.payload) })

/// `DSSEEnvelope.init(json:)` of the CLI, over the library's public API.
private func envelope(json bytes: [UInt8]) -> DSSEEnvelope? {
    guard let value = try? JSONParser.parse(bytes), value.objectValue != nil else { return nil }
    func base64(_ text: JSONValue?) -> [UInt8]? {
        guard let text else { return [] }
        guard let string = text.stringValue else { return nil }
        return DSSEEnvelope.decodeBase64(string)
    }
    guard let payloadType = value["payloadType"]?.stringValue, let list = value["signatures"]?.arrayValue else {
        return nil
    }
    var signatures: [DSSEEnvelope.Signature] = []
    for item in list {
        guard item.objectValue != nil else { return nil }
        let keyID = item["keyid"]
        guard keyID == nil || keyID == .null || keyID?.stringValue != nil, item["sig"] != nil,
            let sig = base64(item["sig"])
        else { return nil }
        signatures.append(DSSEEnvelope.Signature(keyID: keyID?.stringValue, signature: sig))
    }
    guard let payload = base64(value["payload"]) else { return nil }
    return DSSEEnvelope(payload: payload, payloadType: payloadType, signatures: signatures)
}

private func checkBase64(_ text: String) {
    guard let decoded = DSSEEnvelope.decodeBase64(text) else { return }
    let encoded = Base64.encode(decoded)
    oracle(DSSEEnvelope.decodeBase64(encoded) == decoded, "base64 does not round-trip: \(text.debugDescription)")
    let utf8 = Array(text.utf8)
    if utf8.count % 4 == 0, !utf8.contains(UInt8(ascii: "-")), !utf8.contains(UInt8(ascii: "_")) {
        oracle(encoded == text, "two base64 texts decode to the same bytes: \(text.debugDescription), \(encoded)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    checkBase64(String(decoding: input, as: UTF8.self))
    guard let envelope = envelope(json: input) else { return 0 }
    for signature in envelope.signatures { _ = signature.keyID?.isEmpty }
    for hint in [nil, keyID, "other"] {
        for type in [nil, DSSEEnvelope.inTotoPayloadType] {
            guard
                let index = try? envelope.verify(key: FuzzKeys.logPrivateKey.publicKey, keyID: hint, payloadType: type)
            else { continue }
            oracle(
                signedPAEs.contains(envelope.preAuthenticationEncoding), "an envelope the seeds did not sign verified")
            oracle(envelope.signatures.indices.contains(index), "verify returned index \(index)")
            oracle(
                FuzzKeys.logPrivateKey.publicKey.isValidSignature(
                    envelope.signatures[index].signature, for: envelope.preAuthenticationEncoding),
                "verify returned a signature that does not verify")
            if let type { oracle(envelope.payloadType == type, "verified with payload type \(envelope.payloadType)") }
        }
    }
    oracle(
        (try? envelope.verify(key: FuzzKeys.witnessPrivateKeys[0].publicKey)) == nil,
        "an envelope verified with a witness's key")
    return 0
}

private func json(_ envelope: DSSEEnvelope, urlSafe: Bool = false) -> [UInt8] {
    func b64(_ bytes: [UInt8]) -> String {
        let text = Base64.encode(bytes)
        guard urlSafe else { return text }
        return String(
            text.compactMap { $0 == "=" ? nil : $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }
    let value = JSONValue.object(
        JSONObject([
            ("payload", .string(b64(envelope.payload))),
            ("payloadType", .string(envelope.payloadType)),
            (
                "signatures",
                .array(
                    envelope.signatures.map { signature in
                        var members: [(String, JSONValue)] = []
                        if let id = signature.keyID { members.append(("keyid", .string(id))) }
                        members.append(("sig", .string(b64(signature.signature))))
                        return .object(JSONObject(members))
                    })
            ),
        ]))
    return try! JCS.canonicalize(value)
}

/// Envelopes signed by the log key (one signature; a bogus one first; no keyid; URL-safe unpadded), and base64.
private func seeds() -> [[UInt8]] {
    var out: [[UInt8]] = []
    for (type, payload) in payloads {
        let signed = try! DSSEEnvelope.sign(payload: payload, payloadType: type, keyID: keyID) {
            try FuzzKeys.logPrivateKey.signature(for: $0)
        }
        out.append(json(signed))
        out.append(json(signed, urlSafe: true))
        var two = signed
        two.signatures.insert(.init(keyID: "other", signature: [UInt8](repeating: 7, count: 64)), at: 0)
        two.signatures[1].keyID = nil
        out.append(json(two))
    }
    out += ["aGVsbG8gd29ybGQ=", "aGVsbG8gd29ybGQ", "-_-_", "+/+/", "YQ==", "YR=="].map { Array($0.utf8) }
    return out
}

@_cdecl("FuzzDSSE_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
