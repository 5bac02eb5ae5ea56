/// Names and encodings of everything a ledger directory holds (normative: specs/storage.md).
public enum LedgerLayout {
    /// The storage format this code writes; stored in `meta/format`. Format 2 keeps the tree's hashes as
    /// stored tiles (`tiles`); format 1 kept one key per hash (`hashes`) and is read, verified and migrated
    /// (`Ledger.migrate`) but not appended to (specs/storage.md, "Formats and migration").
    public static let formatVersion = 2
    /// The previous storage format: one `hashes` key per stored tree hash.
    public static let perHashFormatVersion = 1

    /// The PKCS#8 PEM Ed25519 signing key (mode 0600).
    public static let signingKeyFile = "signing-key.pem"
    /// The verifier key (`name+id+key`) followed by a newline, for auditors.
    public static let verifierKeyFile = "ledger.vkey"
    /// The directory holding payload blobs, one file per blob (`blobs/ab/cdef…`).
    public static let blobDirectory = "blobs"

    enum TableName {
        /// Big-endian uint64 leaf index → entry bytes (the RFC 8785 canonical record).
        static let leaves = "leaves"
        /// Format 1 only: big-endian uint64 stored-hash index (specs/merkle.md) → 32-byte tree hash.
        /// Empty in format 2.
        static let hashes = "hashes"
        /// Format 2: big-endian uint64 tile level · 2^56 + tile index → the stored tile (`StoredTile`).
        static let tiles = "tiles"
        /// Big-endian uint64 tree size → signed checkpoint note (UTF-8).
        static let checkpoints = "checkpoints"
        /// UTF-8 name → value (see `MetaKey`).
        static let meta = "meta"
        /// Provenance profile: checkpoint `id` (UTF-8) → big-endian uint64 leaf index.
        static let ids = "ids"
        /// Provenance profile: target index ‖ source index (8 + 8 bytes) → record type of the
        /// source: every entry that refers to the target (corrections, lifecycle, erasures).
        static let refs = "refs"
        /// Provenance profile: leaf index → canonical JSON of the effective (corrected) record,
        /// only for entries that have been corrected.
        static let effective = "effective"
        /// Provenance profile: secondary index keys (specs/storage.md, "Query indexes") → value.
        static let index = "index"
        /// Blob digest (32 bytes) → blob metadata (specs/storage.md, "Blobs").
        static let blobs = "blobs"
        /// SHA-256 of an API token's secret (32 bytes) → the token's metadata (JSON; the server's
        /// `TokenStore`, specs/storage.md "Tokens").
        static let tokens = "tokens"
        /// Big-endian uint64 first leaf index of a run → the principal (JSON) that appended every
        /// entry from it up to the next run (specs/storage.md, "Appenders").
        static let appenders = "appenders"
        /// Big-endian uint64 row number → an access-log entry (canonical JSON) written in the same
        /// transaction as the records it names, until the access log holds it (specs/storage.md,
        /// "The access outbox").
        static let accessOutbox = "access_outbox"
    }

    enum MetaKey {
        /// Decimal storage format version.
        static let format = "format"
        /// The log origin (also the signing key's name).
        static let origin = "origin"
        /// The verifier key text.
        static let verifierKey = "vkey"
        /// Big-endian uint64 tree size: the number of leaves committed.
        static let treeSize = "tree_size"
        /// Decimal maximum canonical entry size in bytes.
        static let maxEntryBytes = "max_entry_bytes"
        /// The record profile (`LedgerProfile` raw value); absent means generic.
        static let profile = "profile"
        /// Big-endian uint64: while a format 1 ledger is being migrated, the number of leaves whose
        /// hashes are already in `tiles`.
        static let migratedTreeSize = "migrated_tree_size"
    }
}
