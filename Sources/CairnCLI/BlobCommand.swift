import ArgumentParser
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnRecords
import Foundation

struct BlobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blob",
        abstract: "Store, read and erase payload blobs (prompts, turn histories, raw outputs, diffs).",
        discussion: prose(
            """
            Large or sensitive payloads live outside the log as content-addressed blobs; records
            reference them as {"blob": "sha256:…", "size": N, "media_type": "…"}. A blob's bytes
            can be erased (a leaked secret, a legal deletion request): the erasure is itself an
            entry in the log, the records that reference the blob stay, and every proof still
            verifies.

            A blob's address is SHA-256(salt ‖ bytes), with a random 32-byte salt chosen when the
            content is first stored and erased with it, so that nobody can confirm a guess of an
            erased prompt against the address the log keeps. `cairn blob disclose` hands an auditor
            the bytes and the salt; `cairn verify disclosure` checks them.
            """),
        subcommands: [BlobPut.self, BlobGet.self, BlobInfo.self, BlobDisclose.self, BlobErase.self]
    )
}

func parseDigest(_ text: String) throws -> SHA256Digest {
    guard let digest = EntryReference.contentAddress(text) else {
        throw CLIError(.usage, "\(text.debugDescription) is not a content address (sha256:<64 lower-case hex digits>)")
    }
    return digest
}

func blobJSON(_ metadata: BlobMetadata) -> JSONValue {
    var object: JSONObject = [
        "blob": .string(metadata.digest.description), "size": .number(Double(metadata.size)),
        "media_type": .string(metadata.mediaType), "salted": .bool(metadata.salted),
    ]
    if let erasure = metadata.erasure {
        var e: JSONObject = [
            "entry": .uint(erasure.entry), "at": .string(erasure.at), "reason": .string(erasure.reason),
        ]
        if let author = erasure.author { e["author"] = .string(author) }
        object["erased"] = .object(e)
    }
    return .object(object)
}

struct BlobPut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Store a file as a blob and print the reference to put in a record.",
        discussion: prose(
            """
            Prints {"blob":"sha256:…","size":N,"media_type":"…"} — paste it into a record field
            that takes a payload (prompt, raw_output, turns…). The address is SHA-256(salt ‖ bytes)
            with a new random salt; storing the same bytes again (while they are kept) gives the
            same address. Content stored before salting and then erased cannot be stored again;
            erased salted content leaves nothing to recognise it by. With --unsalted the address
            is the plain SHA-256 of the bytes, which anyone can compute: only for content that is
            not secret (a public diff) and whose address a producer computes before storing it.

            EXAMPLE
              cairn blob put --media-type text/x-diff change.diff
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Flag(help: "Address the blob by the plain SHA-256 of its bytes, without a salt (for content that is not secret).")
    var unsalted = false

    @Argument(help: ArgumentHelp("The file to store (- for stdin).", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("The payload's media type.", valueName: "type/subtype"))
    var mediaType = "application/octet-stream"

    func run() async throws {
        try await runReportingErrors {
            let ledger = try location.open()
            let payload = BlobPayload(bytes: try readInput(file, what: "blob file"), mediaType: mediaType)
            guard BlobPayload.isValidMediaType(mediaType) else {
                throw CLIError(.usage, "--media-type \(mediaType.debugDescription) is not of the form type/subtype")
            }
            let stored = try await withEngine(ledger) { engine in
                try await engine.store([payload], salted: !unsalted, whenBusy: .wait)
            }
            printJSON(stored[0].reference)
        }
    }
}

struct BlobGet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print a blob's bytes, after checking them against their digest.",
        discussion: prose(
            """
            Writes the blob's exact bytes to stdout (or --output). The bytes are hashed first; a
            blob whose bytes do not match its address is reported as corrupted (exit 70). An erased
            blob is reported with when, why and by which entry it was erased (exit 66). --output
            creates a new file or overwrites a regular one; any other kind of path (a directory,
            FIFO, device) is refused (exit 73).
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Argument(help: ArgumentHelp("The blob's address.", valueName: "sha256:hex"))
    var digest: String

    @Option(
        name: [.short, .long],
        help: ArgumentHelp(
            "Write the bytes to this file: a new file, or a regular file, which is overwritten (others: exit 73).",
            valueName: "file"))
    var output: String?

    func run() throws {
        try runReportingErrors {
            let ledger = try location.open(readOnly: true)
            let parsed = try parseDigest(digest)
            let bytes = try ledger.read { try $0.blob(parsed).bytes }
            try emit(bytes, to: output)
        }
    }
}

struct BlobInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print a blob's size, media type, whether it is salted, and its erasure (if any) as JSON."
    )

    @OptionGroup var location: LedgerLocation

    @Argument(help: ArgumentHelp("The blob's address.", valueName: "sha256:hex"))
    var digest: String

    func run() throws {
        try runReportingErrors {
            let ledger = try location.open(readOnly: true)
            let parsed = try parseDigest(digest)
            guard let metadata = try ledger.read({ try $0.blobMetadata(parsed) }) else {
                throw CLIError(.notFound, "no blob \(digest) in this ledger")
            }
            printJSON(blobJSON(metadata))
        }
    }
}

struct BlobDisclose: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disclose",
        abstract: "Write a blob's bytes and salt as one JSON file an auditor can check offline.",
        discussion: prose(
            """
            Writes {"format":"cairn-blob-disclosure/1","blob":"sha256:…","size":N,"media_type":"…",
            "salt":"<hex>","content":"<base64>"} to stdout (or --output), after checking the bytes
            against the address. Whoever receives it runs `cairn verify disclosure FILE --entry
            RECORD` (or computes SHA-256(salt ‖ content) with any tool) to see that these are the
            bytes the record commits to; `cairn verify inclusion --disclosure FILE` uses it to
            recompute a record whose payload was moved to the blob. Handing out a disclosure hands
            out the content: it is as sensitive as the blob. An erased blob cannot be disclosed
            (exit 66): its bytes and salt are gone.

            EXAMPLE
              cairn blob disclose sha256:f9ad…cd37 -o prompt.disclosure.json
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Argument(help: ArgumentHelp("The blob's address.", valueName: "sha256:hex"))
    var digest: String

    @Option(
        name: [.short, .long],
        help: ArgumentHelp(
            "Write the disclosure to this file: a new file, or a regular file, which is overwritten (others: exit 73).",
            valueName: "file"))
    var output: String?

    func run() throws {
        try runReportingErrors {
            let ledger = try location.open(readOnly: true)
            let parsed = try parseDigest(digest)
            let (metadata, salt, bytes) = try ledger.read { try $0.blobContents(parsed) }
            guard let reference = BlobReference(digest: parsed, size: metadata.size, mediaType: metadata.mediaType)
            else {
                throw LedgerError(.corrupt, "blob \(parsed) has metadata no reference can carry (size or media type)")
            }
            var document = BlobDisclosure(reference: reference, salt: salt, bytes: bytes).jsonBytes
            document.append(UInt8(ascii: "\n"))
            try emit(document, to: output)
        }
    }
}

struct BlobErase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Delete a blob's bytes and record why, as an erasure entry.",
        discussion: prose(
            """
            Overwrites and deletes the blob's bytes, then appends
              {"type":"erasure","schema":1,"blob":"sha256:…","reason":…,"at":…,"author":…}
            to the log. Records that reference the blob are untouched, so their proofs still
            verify; `cairn blob get` afterwards says the blob was erased, when, why and by which
            entry; `cairn show --history` lists the erasure. If interrupted, run it again.

            EXAMPLE
              cairn blob erase sha256:f9ad…cd37 --reason "API key pasted into the prompt (INC-4411)"
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Argument(help: ArgumentHelp("The blob's address.", valueName: "sha256:hex"))
    var digest: String

    @Option(help: ArgumentHelp("Why the bytes are erased (kept in the log).", valueName: "text"))
    var reason: String

    @Option(help: ArgumentHelp("Who erases them (default: $USER).", valueName: "name"))
    var author: String?

    @Flag(help: "Print the erasure as a JSON object.")
    var json = false

    func validate() throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--reason must not be empty")
        }
    }

    func run() async throws {
        try await runReportingErrors {
            let ledger = try location.open()
            let who = author ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
            let blob = try parseDigest(digest)
            guard let known = try await ledger.read({ try $0.blobMetadata(blob) }) else {
                throw CLIError(.notFound, "no blob \(blob) in this ledger")
            }
            if let erasure = known.erasure {
                // Finish an erasure interrupted between its commit and the deletion of the bytes.
                let leftover = ledger.blobStore.hasBytes(of: blob)
                try ledger.blobStore.remove(blob)
                throw LedgerError(
                    .blobErased,
                    "blob \(blob) was already erased at \(erasure.at) by entry \(erasure.entry)"
                        + (leftover ? "; its leftover bytes have now been deleted" : ""))
            }
            let record = try ledger.erasureRecord(of: blob, reason: reason, author: who, at: Timestamps.now())
            // The engine deletes the bytes once the erasure is committed.
            let outcomes = try await withEngine(ledger) { engine in
                try await engine.append(contentsOf: [record], atomic: true, whenBusy: .wait)
            }
            // Who erased it is recorded, provably, like every local append.
            try await recordLocalAppend(ledger, outcomes, via: "cairn blob erase")
            guard let result = outcomes.first?.result else {
                throw CLIError(.software, "the erasure of \(blob) was neither appended nor refused")
            }
            guard let metadata = try await ledger.read({ try $0.blobMetadata(blob) }) else {
                throw LedgerError(.corrupt, "blob \(blob) metadata vanished during erasure")
            }
            if json {
                printJSON(
                    .object([
                        "index": .uint(result.index), "digest": .string(result.digest.description),
                        "blob": blobJSON(metadata),
                    ]))
            } else {
                Console.line("erased \(digest): entry \(result.index) (\(result.digest)) records it")
            }
        }
    }
}

/// RFC 3339 UTC timestamps for records the CLI writes itself.
enum Timestamps {
    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}
