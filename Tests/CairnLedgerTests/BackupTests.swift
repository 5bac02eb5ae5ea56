import CairnCrypto
import CairnMerkle
import CairnNote
import CairnStorage
import CairnTestSupport
import Foundation
import Synchronization
import Testing

@testable import CairnLedger

/// Backups (`LedgerBackup`): taken while another writer appends, restored into a ledger whose fsck is clean and that
/// keeps every acknowledged record and earlier proof; incremental blobs; every kind of damage found by `verify`;
/// faults injected while writing the backup.
@Suite("Backups: online copy, signed manifest, verify, restore")
struct BackupTests {
    /// A generic ledger with `count` records and `blobs` salted blobs.
    static func ledger(_ dir: TemporaryDirectory, count: Int, blobs: Int = 0) async throws -> Ledger {
        let ledger = try makeLedger(dir)
        if count > 0 { _ = try ledger.append(entries(0..<count, tag: "a")) }
        for i in 0..<blobs { _ = try await ledger.putBlob(Array("blob \(i)\n".utf8), mediaType: "text/plain") }
        return ledger
    }

    static func copyTree(_ from: String, _ to: String) throws {
        try FileManager.default.copyItem(atPath: from, toPath: to)
    }

    /// Flips one bit of the byte at `offset` (default: the middle) of the file at `path`.
    static func flipByte(_ path: String, at offset: Int? = nil) throws {
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let position = offset ?? bytes.count / 2
        bytes[position] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Runs `body`, which must throw a `BackupError` that `matches`.
    static func expectFailure(
        _ matches: (BackupError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
    ) {
        do {
            try body()
            Issue.record("no error", sourceLocation: sourceLocation)
        } catch let error as BackupError {
            #expect(matches(error), "\(error.code): \(error.message)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("not a BackupError: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("A backup taken while another writer appends restores to a clean ledger holding every acknowledged record")
    func backupDuringAppends() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try await Self.ledger(dir, count: 2_000, blobs: 20)
        // Acknowledged before the backup starts: their indexes, and proofs handed out for them.
        let acknowledged = try ledger.treeSize()
        let proofs = try stride(from: 0, to: acknowledged, by: 97).map { try ledger.inclusionProof(index: $0) }

        // Another writer (as another process would be: its own `Ledger`, its own writer state) appends throughout.
        let other = try Ledger.open(at: dir.path)
        let stop = Atomic<Bool>(false)
        let appended = Atomic<Int>(0)
        let writer = Thread {
            var next = 0
            while !stop.load(ordering: .relaxed) {
                _ = try? other.append(entries(next..<(next + 25), tag: "during"))
                next += 25
                appended.store(next, ordering: .relaxed)
            }
        }
        writer.start()
        while appended.load(ordering: .relaxed) < 200 { usleep(1_000) }
        let backupDir = try TemporaryDirectory()
        let dest = backupDir.file("backup")
        let report = try LedgerBackup.backup(ledger, to: dest)
        let duringBackup = appended.load(ordering: .relaxed)
        while appended.load(ordering: .relaxed) < duringBackup + 200 { usleep(1_000) }
        stop.store(true, ordering: .relaxed)
        while !writer.isFinished { usleep(1_000) }

        #expect(report.manifest.main.treeSize >= acknowledged + 200)
        #expect(report.blobsCopied == 20 && report.blobsKept == 0)
        let verified = try LedgerBackup.verify(backup: dest, key: ledger.verifierKey)
        #expect(verified.manifest == report.manifest)

        let restoredDir = backupDir.file("restored")
        _ = try LedgerBackup.restore(from: dest, to: restoredDir, key: ledger.verifierKey)
        let restored = try Ledger.open(at: restoredDir)
        let fsck = try restored.fsck()
        #expect(fsck.leaves == report.manifest.main.treeSize && fsck.blobs == 20)
        #expect(try restored.treeSize() >= acknowledged)
        for i in 0..<Int(acknowledged) {
            #expect(try restored.entry(at: UInt64(i)) == Array(#"{"a":\#(i)}"#.utf8), "entry \(i)")
        }
        // Every proof handed out before the backup verifies against the restored ledger.
        for proof in proofs {
            let size = proof.checkpoint.checkpoint.size
            let root = try restored.rootHash(size: size)
            try MerkleVerifier.verifyInclusion(
                leafHash: proof.leafHash, index: proof.index, treeSize: size, proof: proof.hashes, root: root)
            #expect(try restored.checkpoint(size: size).checkpoint == proof.checkpoint.checkpoint)
            #expect(try restored.inclusionProof(index: proof.index, size: size) == proof)
        }
        // The restored ledger has no signing key (none was included), and the live one is untouched.
        #expect(!FileManager.default.fileExists(atPath: restoredDir + "/signing-key.pem"))
        #expect(try ledger.fsck().leaves >= report.manifest.main.treeSize)
    }

    @Test("Blobs are incremental: only new ones are copied, damaged ones replaced, erased ones removed")
    func incrementalBlobs() async throws {
        let dir = try TemporaryDirectory()
        // A provenance ledger: erasure records erase blobs there.
        let ledger = try Ledger.create(at: dir.path, origin: "example.com/t")
        for i in 0..<3 { _ = try await ledger.putBlob(Array("blob \(i)\n".utf8), mediaType: "text/plain") }
        let dest = try TemporaryDirectory().file("b")
        let first = try LedgerBackup.backup(ledger, to: dest)
        #expect(first.blobsCopied == 3 && first.blobsKept == 0)

        let added = [
            try await ledger.putBlob(Array("new 1".utf8), mediaType: "text/plain"),
            try await ledger.putBlob(Array("new 2".utf8), mediaType: "text/plain"),
        ]
        let second = try LedgerBackup.backup(ledger, to: dest)
        #expect(second.blobsCopied == 2 && second.blobsKept == 3)
        #expect(second.bytesWritten < first.bytesWritten + 100)

        // A blob damaged in the backup is copied again; one erased in the ledger leaves the backup.
        let hex = added[0].digest.hex
        try Self.flipByte(dest + "/blobs/\(hex.prefix(2))/\(hex.dropFirst(2))")
        try await ledger.eraseBlob(added[1].digest, reason: "test", author: "t", at: "2026-12-01T00:00:00Z")
        let third = try LedgerBackup.backup(ledger, to: dest)
        #expect(third.blobsCopied == 1 && third.blobsKept == 3 && third.filesRemoved == 1)
        let erased = added[1].digest.hex
        #expect(!FileManager.default.fileExists(atPath: dest + "/blobs/\(erased.prefix(2))/\(erased.dropFirst(2))"))
        let verified = try LedgerBackup.verify(backup: dest)
        #expect(verified.fsck[0].blobs == 4 && verified.fsck[0].erasedBlobs == 1 && verified.keyFromBackup)
    }

    @Test("Signing keys only with includeSigningKeys, mode 0600; a later backup without them removes them")
    func signingKeys() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try await Self.ledger(dir, count: 3)
        let dest = try TemporaryDirectory().file("b")
        var options = BackupOptions()
        options.includeSigningKeys = true
        let report = try LedgerBackup.backup(ledger, to: dest, options: options)
        #expect(report.manifest.signingKeysIncluded)
        let key = dest + "/signing-key.pem"
        var status = stat()
        #expect(stat(key, &status) == 0 && status.st_mode & 0o777 == 0o600)
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: key))
                == Data(contentsOf: URL(fileURLWithPath: dir.file("signing-key.pem"))))
        // A restored ledger with its key appends.
        let restoredDir = try TemporaryDirectory().file("r")
        _ = try LedgerBackup.restore(from: dest, to: restoredDir)
        let restored = try Ledger.open(at: restoredDir)
        #expect(try restored.append(entries(3..<4, tag: "a")).treeSize == 4)
        #expect(try restored.fsck().leaves == 4)

        let without = try LedgerBackup.backup(ledger, to: dest)
        #expect(!without.manifest.signingKeysIncluded && without.filesRemoved == 1)
        #expect(!FileManager.default.fileExists(atPath: key))
        _ = try LedgerBackup.verify(backup: dest, key: ledger.verifierKey)
    }

    @Test("The access log (a sub-ledger), server.json and saved drills are backed up and restored")
    func subLedgerAndSavedFiles() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try await Self.ledger(dir, count: 5)
        var create = Ledger.CreateOptions()
        create.profile = .generic
        let access = try Ledger.create(at: dir.file("access-log"), origin: "example.com/t/access-log", options: create)
        _ = try access.append(entries(0..<7, tag: "read"))
        _ = try dir.write("server.json", #"{"listen":"127.0.0.1:9000"}"#)
        _ = try dir.write("drills/20261201T000000.000Z.json", "{}")
        _ = try dir.write("unrelated.txt", "not backed up")
        var options = BackupOptions()
        options.subLedgers = [BackupSubLedger(directory: "access-log", ledger: access)]
        let dest = try TemporaryDirectory().file("b")
        let report = try LedgerBackup.backup(ledger, to: dest, options: options)
        #expect(report.manifest.logs.map(\.directory) == [".", "access-log"])
        let accessRoot = try access.rootHash(size: 7)
        #expect(report.manifest.logs[1].treeSize == 7 && report.manifest.logs[1].rootHash == accessRoot)
        let paths = report.manifest.files.map(\.path)
        #expect(paths.contains("server.json") && paths.contains("drills/20261201T000000.000Z.json"))
        #expect(!paths.contains("unrelated.txt"))
        let restoredDir = try TemporaryDirectory().file("r")
        let restored = try LedgerBackup.restore(from: dest, to: restoredDir, key: ledger.verifierKey)
        #expect(restored.fsck.count == 2 && restored.fsck[1].leaves == 7)
        #expect(try String(contentsOfFile: restoredDir + "/server.json", encoding: .utf8).contains("9000"))

        // A file the ledger no longer has leaves the backup at the next one.
        try FileManager.default.removeItem(atPath: dir.file("drills/20261201T000000.000Z.json"))
        let again = try LedgerBackup.backup(ledger, to: dest, options: options)
        #expect(again.filesRemoved == 1 && !again.manifest.files.map(\.path).contains { $0.hasPrefix("drills/") })
        _ = try LedgerBackup.verify(backup: dest)
    }

    @Test("verify finds a flipped byte in every file, a missing file, an unlisted one, and a bad or foreign signature")
    func verifyFindsDamage() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try await Self.ledger(dir, count: 50, blobs: 2)
        let scratch = try TemporaryDirectory()
        let dest = scratch.file("b")
        let report = try LedgerBackup.backup(ledger, to: dest)
        func damaged(
            _ code: BackupError.Code, key: NoteVerifierKey? = nil, _ change: (String) throws -> Void,
            sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
            let copy = scratch.file("damaged-\(UUID().uuidString)")
            try Self.copyTree(dest, copy)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            try change(copy)
            Self.expectFailure({ $0.code == code }, sourceLocation: sourceLocation) {
                _ = try LedgerBackup.verify(backup: copy, key: key)
            }
        }
        for file in report.manifest.files {
            try damaged(.fileMismatch) { try Self.flipByte($0 + "/" + file.path) }
            try damaged(.fileMismatch) { try Self.flipByte($0 + "/" + file.path, at: 0) }
            try damaged(.fileMissing, key: ledger.verifierKey) {
                try FileManager.default.removeItem(atPath: $0 + "/" + file.path)
            }
        }
        try damaged(.unlistedFile) {
            _ = try "x".write(toFile: $0 + "/blobs/extra", atomically: false, encoding: .utf8)
        }
        try damaged(.manifestMissing) { try FileManager.default.removeItem(atPath: $0 + "/backup.manifest") }
        // The manifest edited after signing: any byte of its text.
        let manifestText = try String(contentsOfFile: dest + "/backup.manifest", encoding: .utf8)
        let textLength = manifestText.utf8.count - (manifestText.utf8.split(separator: 10).last?.count ?? 0) - 2
        for offset in stride(from: 0, to: textLength, by: 37) where Array(manifestText.utf8)[offset] != 10 {
            try damaged(.badSignature) { try Self.flipByte($0 + "/backup.manifest", at: offset) }
        }
        // Signed by another log's key, or checked against another key.
        let otherDir = try TemporaryDirectory()
        let other = try Ledger.create(at: otherDir.path, origin: "example.com/t")
        try damaged(.wrongKey, key: ledger.verifierKey) { copy in
            let note = try other.sign(noteText: report.manifest.text)
            try note.serialized.write(toFile: copy + "/backup.manifest", atomically: false, encoding: .utf8)
        }
        try damaged(.wrongKey, key: other.verifierKey) { _ in }
        // A copy whose data no longer matches the manifest's root, re-signed with the right key: fsck or the root
        // comparison finds it.
        try damaged(.rootMismatch, key: ledger.verifierKey) { copy in
            let log = report.manifest.main
            let forged = try BackupManifest(
                origin: report.manifest.origin, created: report.manifest.created, signingKeysIncluded: false,
                logs: [.init(directory: ".", treeSize: log.treeSize - 1, rootHash: log.rootHash)],
                files: report.manifest.files)
            let note = try ledger.sign(noteText: forged.text)
            try note.serialized.write(toFile: copy + "/backup.manifest", atomically: false, encoding: .utf8)
        }
    }

    @Test("Damaged manifests never trap: every prefix and many corruptions of one are refused with an error")
    func damagedManifestsAreErrors() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try await Self.ledger(dir, count: 5, blobs: 1)
        let dest = try TemporaryDirectory().file("b")
        _ = try LedgerBackup.backup(ledger, to: dest)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dest + "/backup.manifest")))
        let note = try SignedNote(parsing: bytes)
        #expect(try BackupManifest(parsing: note.text).text == note.text)
        var generator = SeededGenerator(seed: 14)
        var variants: [[UInt8]] = (0..<bytes.count).map { Array(bytes[0..<$0]) }
        for _ in 0..<300 {
            var variant = bytes
            variant[Int.random(in: 0..<variant.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            variants.append(variant)
        }
        for variant in variants where variant != bytes {
            try Data(variant).write(to: URL(fileURLWithPath: dest + "/backup.manifest"))
            #expect(throws: BackupError.self) { _ = try LedgerBackup.verify(backup: dest, key: ledger.verifierKey) }
            if let text = String(validating: variant, as: UTF8.self) {
                _ = try? BackupManifest(parsing: text)
            }
        }
    }

    @Test("Manifest texts: round trip, and the rules on paths, order and required files")
    func manifestRules() throws {
        let digest = SHA256.hash(utf8: "x")
        func file(_ path: String) -> BackupManifest.File { .init(path: path, size: 1, sha256: digest) }
        let logs = [BackupManifest.Log(directory: ".", treeSize: 3, rootHash: digest)]
        let valid = try BackupManifest(
            origin: "example.com/t", created: 1_796_000_000_123, signingKeysIncluded: false, logs: logs,
            files: [file("ledger.vkey"), file("data.mdb"), file("blobs/ab/cd")])
        #expect(valid.files.map(\.path) == ["blobs/ab/cd", "data.mdb", "ledger.vkey"])
        #expect(try BackupManifest(parsing: valid.text) == valid)
        for bad in ["../x", "/etc/passwd", ".hidden", "a//b", "a/./b", "a/../b", "a b", "a\\b", "", "é"] {
            #expect(!BackupManifest.isValidPath(bad), "\(bad)")
            #expect(throws: BackupError.self) {
                try BackupManifest(
                    origin: "example.com/t", created: 0, signingKeysIncluded: false, logs: logs,
                    files: [file("data.mdb"), file("ledger.vkey"), file(bad)])
            }
        }
        // No data.mdb; a repeated path; the main log not first; a sub-ledger path of two segments.
        let cases: [(logs: [BackupManifest.Log], files: [BackupManifest.File])] = [
            (logs, [file("ledger.vkey")]),
            (logs, [file("data.mdb"), file("data.mdb"), file("ledger.vkey")]),
            ([.init(directory: "x", treeSize: 1, rootHash: digest)], [file("x/data.mdb"), file("x/ledger.vkey")]),
            (logs + [.init(directory: "a/b", treeSize: 1, rootHash: digest)], [file("data.mdb"), file("ledger.vkey")]),
        ]
        for (logs, files) in cases {
            #expect(throws: BackupError.self) {
                try BackupManifest(
                    origin: "example.com/t", created: 0, signingKeysIncluded: false, logs: logs, files: files)
            }
        }
        // Non-canonical spellings are refused.
        for (from, to) in [
            ("ledger . 3 ", "ledger . 03 "), ("files 3", "files 4"), ("excluded", "no"),
            ("created 2026", "created 2026 "),
        ] {
            #expect(throws: BackupError.self) {
                try BackupManifest(parsing: valid.text.replacingOccurrences(of: from, with: to))
            }
        }
    }

    @Test("restore refuses a non-empty target, a file, and leaves nothing behind when a file does not match")
    func restoreRefuses() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try await Self.ledger(dir, count: 5, blobs: 1)
        let scratch = try TemporaryDirectory()
        let dest = scratch.file("b")
        let report = try LedgerBackup.backup(ledger, to: dest)
        _ = try scratch.write("full/something", "x")
        _ = try scratch.write("a-file", "x")
        for target in [scratch.file("full"), scratch.file("a-file")] {
            Self.expectFailure({ $0.code == .targetNotEmpty }) { _ = try LedgerBackup.restore(from: dest, to: target) }
        }
        #expect(try String(contentsOfFile: scratch.file("full/something"), encoding: .utf8) == "x")
        // The last file listed is damaged: the restore stops there and removes what it copied.
        try Self.flipByte(dest + "/" + report.manifest.files.last!.path)
        let target = scratch.file("new/ledger")
        #expect(throws: BackupError.self) { _ = try LedgerBackup.restore(from: dest, to: target) }
        #expect(!FileManager.default.fileExists(atPath: target))
        // And into an existing empty directory, which stays empty.
        try FileManager.default.createDirectory(atPath: scratch.file("empty"), withIntermediateDirectories: false)
        #expect(throws: BackupError.self) { _ = try LedgerBackup.restore(from: dest, to: scratch.file("empty")) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.file("empty")).isEmpty)
    }

    @Test(
        "ENOSPC and EIO while the backup is written: an error, no manifest that verifies; the next backup is whole",
        arguments: [
            (FileFaults.Operation.write, ENOSPC, 0), (.write, ENOSPC, 1), (.write, ENOSPC, 2), (.write, EIO, 1),
            (.fsync, EIO, 0), (.fsync, EIO, 2), (.fsync, EIO, 4), (.rename, ENOSPC, 0), (.rename, ENOSPC, 2),
            (.open, ENOSPC, 4),
        ])
    func faultsWhileWriting(operation: FileFaults.Operation, errno code: Int32, after: Int) async throws {
        let dir = try TemporaryDirectory()
        let ledger = try await Self.ledger(dir, count: 20, blobs: 4)
        let scratch = try TemporaryDirectory()
        let dest = scratch.file("b")
        // A complete backup first: the failed one must not leave its manifest valid either.
        _ = try LedgerBackup.backup(ledger, to: dest)
        _ = try await ledger.putBlob(Array("after".utf8), mediaType: "text/plain")
        _ = try ledger.append(entries(20..<30, tag: "a"))
        FileFaults.inject(.init(operation, pathContains: dest, after: after, errno: code))
        defer { FileFaults.remove(pathContains: dest) }
        Self.expectFailure({ $0.code == .io }) { _ = try LedgerBackup.backup(ledger, to: dest) }
        #expect(FileFaults.injected(pathContains: dest) > 0)
        FileFaults.remove(pathContains: dest)
        Self.expectFailure({ $0.isVerificationFailure }) { _ = try LedgerBackup.verify(backup: dest) }
        let retry = try LedgerBackup.backup(ledger, to: dest)
        #expect(retry.manifest.main.treeSize == 30)
        _ = try LedgerBackup.verify(backup: dest, key: ledger.verifierKey)
    }

    @Test("The destination: another log's backup, a non-empty directory and a file are refused")
    func destinations() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try await Self.ledger(dir, count: 2)
        let otherDir = try TemporaryDirectory()
        let other = try Ledger.create(at: otherDir.path, origin: "example.com/other")
        let scratch = try TemporaryDirectory()
        _ = try LedgerBackup.backup(other, to: scratch.file("other"))
        _ = try scratch.write("full/x", "x")
        _ = try scratch.write("file", "x")
        for dest in [scratch.file("other"), scratch.file("full"), scratch.file("file"), dir.path] {
            Self.expectFailure({ $0.code == .destinationUnusable }) { _ = try LedgerBackup.backup(ledger, to: dest) }
        }
        #expect(try ledger.fsck().leaves == 2)
    }
}
