/// Names, origins and note texts are compared as bytes, as C2SP and Go's `golang.org/x/mod/sumdb/note`
/// compare them. Swift's `String ==` (and `String` hashing) treats canonically equivalent spellings
/// as equal — a KELVIN SIGN (U+212A) for `K`, a decomposed `é` for a precomposed one — so a
/// look-alike signature line would match a trusted key, and a look-alike origin would pass as the
/// log's. Everything in Cairn that decides trust by a name compares it with ``sameBytes(as:)``.
extension String {
    /// Whether the two strings have the same UTF-8 bytes (not merely canonically equivalent).
    package func sameBytes(as other: String) -> Bool {
        utf8.elementsEqual(other.utf8)
    }
}

/// Hashes the UTF-8 bytes of `string`, consistently with ``Swift/String/sameBytes(as:)``.
package func hashBytes(of string: String, into hasher: inout Hasher) {
    hasher.combine(string.utf8.count)
    for byte in string.utf8 { hasher.combine(byte) }
}

extension NoteVerifierKey {
    public static func == (a: NoteVerifierKey, b: NoteVerifierKey) -> Bool {
        a.name.sameBytes(as: b.name) && a.keyID == b.keyID && a.type == b.type && a.publicKey == b.publicKey
    }

    public func hash(into hasher: inout Hasher) {
        hashBytes(of: name, into: &hasher)
        hasher.combine(keyID)
        hasher.combine(type)
        hasher.combine(publicKey)
    }
}

extension NoteSignature {
    public static func == (a: NoteSignature, b: NoteSignature) -> Bool {
        a.name.sameBytes(as: b.name) && a.keyID == b.keyID && a.signature == b.signature
    }

    public func hash(into hasher: inout Hasher) {
        hashBytes(of: name, into: &hasher)
        hasher.combine(keyID)
        hasher.combine(signature)
    }

    /// Whether this line names `key` (same name bytes and key ID).
    public func names(_ key: NoteVerifierKey) -> Bool {
        name.sameBytes(as: key.name) && keyID == key.keyID
    }

    /// Whether this line and `other` name the same key (same name bytes and key ID).
    public func namesSameKey(as other: NoteSignature) -> Bool {
        name.sameBytes(as: other.name) && keyID == other.keyID
    }
}

extension SignedNote {
    public static func == (a: SignedNote, b: SignedNote) -> Bool {
        a.text.sameBytes(as: b.text) && a.signatures == b.signatures
    }

    public func hash(into hasher: inout Hasher) {
        hashBytes(of: text, into: &hasher)
        hasher.combine(signatures)
    }
}

extension Checkpoint {
    public static func == (a: Checkpoint, b: Checkpoint) -> Bool {
        a.origin.sameBytes(as: b.origin) && a.size == b.size && a.rootHash == b.rootHash
            && a.extensionLines.elementsEqual(b.extensionLines) { $0.sameBytes(as: $1) }
    }

    public func hash(into hasher: inout Hasher) {
        hashBytes(of: origin, into: &hasher)
        hasher.combine(size)
        hasher.combine(rootHash)
        hasher.combine(extensionLines.count)
        for line in extensionLines { hashBytes(of: line, into: &hasher) }
    }
}

extension KeyRef {
    static func == (a: KeyRef, b: KeyRef) -> Bool {
        a.name.sameBytes(as: b.name) && a.keyID == b.keyID
    }

    func hash(into hasher: inout Hasher) {
        hashBytes(of: name, into: &hasher)
        hasher.combine(keyID)
    }
}
