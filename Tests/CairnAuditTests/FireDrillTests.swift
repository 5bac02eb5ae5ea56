import CairnAudit
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnNote
import CairnRecords
import CairnTestSupport
import Foundation
import Testing

@Suite("audit drill: random recent commits walked through the trail")
struct FireDrillTests {
    struct ProofFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// A proof check written from RFC 9162 §2.1.3.2 and the signed-note rules alone, independent of CairnProofs
    /// (which the CLI uses, and its tests exercise): the checkpoint must be signed by `key` for its origin, and
    /// the audit path must lead from SHA-256(0x00 ‖ entry) to the checkpoint's root.
    static let independentCheck: FireDrill.ProofCheck = { proof, entry, key in
        let checkpoint = try proof.checkpoint.verify(logKey: key)
        guard proof.index < checkpoint.size else { throw ProofFailure(description: "index out of range") }
        var fn = proof.index
        var sn = checkpoint.size - 1
        var r = SHA256.hash([0] + entry)
        for p in proof.hashes {
            guard sn != 0 else { throw ProofFailure(description: "proof too long") }
            if fn & 1 == 1 || fn == sn {
                r = SHA256.hash([1] + p.bytes + r.bytes)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                r = SHA256.hash([1] + r.bytes + p.bytes)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0, r == checkpoint.rootHash else { throw ProofFailure(description: "root mismatch") }
    }

    /// A repository and a ledger telling every story a drill can find: a fully documented change, a human commit,
    /// an AI commit nobody recorded, a checkpoint nobody reviewed, tested or deployed, a rejected change whose
    /// tests failed and whose (unrecorded) deploy was rolled back, a change recorded under a commit that was
    /// later rebased, and a merge (never drilled).
    struct Story {
        let repo: TestRepository
        let ledger: TestLedger
        let clean, human, undeclared, bare, rejected, rebased, merge: String
        let cleanCheckpoint, rebasedCheckpoint, rewrite: UInt64

        init() throws {
            repo = try TestRepository()
            ledger = try TestLedger()
            clean = try repo.commit("Add retry", file: "retry.ts", content: "retry\n", trailers: ["cp-clean"])
            human = try repo.commit("Fix typo in README", file: "README", content: "hello\n")
            try Data("cache\n".utf8).write(to: URL(fileURLWithPath: repo.path + "/cache.go"))
            try repo.git("add", "cache.go")
            try repo.git("commit", "-q", "-m", "Cache\n\nCo-authored-by: Claude <noreply@anthropic.com>")
            undeclared = try repo.git("rev-parse", "HEAD")
            bare = try repo.commit("Metrics", file: "metrics.go", content: "m\n", trailers: ["cp-bare"])
            rejected = try repo.commit("Queue", file: "queue.py", content: "q\n", trailers: ["cp-rejected"])
            // A side branch merged back: the merge commit is never a candidate.
            try repo.git("checkout", "-q", "-b", "side")
            let old = try repo.commit("Config", file: "config.go", content: "c\n", trailers: ["cp-rebased"])
            try repo.git("checkout", "-q", "main")
            try repo.git("merge", "-q", "--no-ff", "-m", "Merge side", "side")
            merge = try repo.git("rev-parse", "HEAD")
            // The side commit, replayed on main as a new commit (what a rebase does): the drill finds its checkpoint
            // through the rewrite record. (The old commit stays reachable through the merge, and is drilled too.)
            try repo.git("commit", "-q", "--allow-empty", "-m", "Config, rebased")
            rebased = try repo.git("rev-parse", "HEAD")

            let indexes = try ledger.append(
                Records.checkpoint("cp-clean", commit: clean),
                Records.review("cp-clean", "bob@example.com", "approved", at: "2026-11-20T10:00:00Z"),
                Records.test("cp-clean", "failed", at: "2026-11-20T10:10:00Z"),
                Records.test("cp-clean", "passed", at: "2026-11-20T10:30:00Z"),
                Records.deploy("cp-clean", at: "2026-11-20T11:00:00Z", commit: clean),
                Records.checkpoint("cp-bare", commit: bare),
                Records.checkpoint("cp-rejected", commit: rejected),
                Records.review("cp-rejected", "carol@example.com", "rejected", at: "2026-11-20T10:00:00Z"),
                Records.test("cp-rejected", "failed", at: "2026-11-20T10:05:00Z"),
                Records.rollback("cp-rejected", at: "2026-11-20T12:00:00Z"),
                Records.checkpoint("cp-rebased", commit: old),
                Records.review("cp-rebased", "bob@example.com", "approved", at: "2026-11-20T10:00:00Z"),
                Records.test("cp-rebased", "passed", at: "2026-11-20T10:00:00Z"),
                Records.deploy("cp-rebased", at: "2026-11-20T11:00:00Z", commit: rebased),
                Records.rewrite(old, rebased, kind: "rebase"))
            cleanCheckpoint = indexes[0]
            rebasedCheckpoint = indexes[10]
            rewrite = indexes[14]
        }

        /// Cosigns the ledger's latest checkpoint as witness `name`.
        func cosignLatest(_ name: String = "witness.example/w1") async throws {
            let latest = try ledger.ledger.checkpoint()
            let line = try CosignatureV1.sign(
                checkpoint: latest.checkpoint, timestamp: 1_795_166_043, signer: try Ed25519PrivateKey.generate(),
                name: name)
            try await ledger.ledger.addCosignatures([line], size: latest.checkpoint.size)
        }

        func drill(_ drill: FireDrill) throws -> DrillReport {
            try drill.run(repository: try GitRepository(path: repo.path), ledger: ledger.ledger, now: 1_796_000_000_000)
        }
    }

    static func byCommit(_ report: DrillReport) -> [String: DrilledCommit] {
        Dictionary(uniqueKeysWithValues: report.commits.map { ($0.commit.id, $0) })
    }

    static func statuses(_ checkpoint: DrilledCheckpoint) -> [DrillStep: DrillStatus] {
        Dictionary(uniqueKeysWithValues: checkpoint.steps.map { ($0.step, $0.status) })
    }

    static func gaps(_ commit: DrilledCommit) -> [DrillGap] {
        commit.allSteps.compactMap(\.gap)
    }

    @Test("Every gap kind is found, the clean path passes, and merges are never drilled")
    func everyGapKind() async throws {
        let story = try Story()
        try await story.cosignLatest()
        let report = try story.drill(FireDrill(count: 100, seed: 1, checkProof: Self.independentCheck))
        #expect(report.selection.candidates == 7)  // 8 commits, one of them a merge
        #expect(report.commits.count == 7)
        let commits = Self.byCommit(report)
        #expect(commits[story.merge] == nil)
        // Newest first, as git lists them.
        #expect(report.commits.first?.commit.id == story.rebased)

        let clean = try #require(commits[story.clean])
        #expect(Self.gaps(clean).isEmpty, "\(clean.allSteps.map(\.reason))")
        #expect(clean.checkpointStep.status == .ok)
        let cleanCheckpoint = try #require(clean.checkpoints.first)
        #expect(cleanCheckpoint.index == story.cleanCheckpoint && cleanCheckpoint.id == "cp-clean")
        #expect(Self.statuses(cleanCheckpoint).values.allSatisfy { $0 == .ok })
        let steps = Dictionary(uniqueKeysWithValues: cleanCheckpoint.steps.map { ($0.step, $0) })
        #expect(steps[.review]?.reason.hasPrefix("approved by bob@example.com at 2026-11-20T10:00:00Z") == true)
        #expect(steps[.test]?.reason.contains("2 results in all: failed, passed") == true)
        #expect(steps[.deploy]?.reason.hasPrefix("deployed to production at 2026-11-20T11:00:00Z") == true)
        // The checkpoint and the four entries about it, each proved against the latest checkpoint.
        #expect(steps[.proof]?.entries == [0, 1, 2, 3, 4])
        #expect(steps[.witness]?.reason.contains("witness.example/w1") == true)

        let human = try #require(commits[story.human])
        #expect(Self.gaps(human) == [.noProvenance] && human.checkpoints.isEmpty)
        #expect(human.checkpointStep.reason.contains("shows no sign of AI involvement"))
        let undeclared = try #require(commits[story.undeclared])
        #expect(Self.gaps(undeclared) == [.noProvenance])
        #expect(undeclared.aiMarkers.map(\.tool) == ["claude"])
        #expect(undeclared.checkpointStep.reason.contains("Co-authored-by: Claude <noreply@anthropic.com>"))

        let bare = try #require(commits[story.bare])
        #expect(Self.gaps(bare) == [.unreviewed, .untested, .undeployed])

        let rejected = try #require(commits[story.rejected])
        #expect(Self.gaps(rejected) == [.notApproved, .testsFailed, .undeployed])
        let rejectedSteps = try #require(rejected.checkpoints.first?.steps)
        #expect(rejectedSteps[0].reason.contains("rejected by carol@example.com"))
        #expect(rejectedSteps[2].reason.contains("rolled back in production"))

        let rebased = try #require(commits[story.rebased])
        #expect(Self.gaps(rebased).isEmpty, "\(rebased.allSteps.map(\.reason))")
        #expect(rebased.checkpoints.map(\.index) == [story.rebasedCheckpoint])
        #expect(rebased.checkpoints.first?.rewrites == [story.rewrite])
        // The rewrite record is part of the trail that is proved.
        #expect(rebased.checkpoints.first?.steps.first { $0.step == .proof }?.entries.contains(story.rewrite) == true)

        #expect(report.gapCount == 8)
        let byKind = report.gapsByKind
        #expect(byKind.count == DrillGap.allCases.count)
        #expect(byKind[.noProvenance] == 2 && byKind[.undeployed] == 2 && byKind[.unreviewed] == 1)
        #expect(byKind[.proofFailed] == 0 && byKind[.unwitnessed] == 0)
    }

    @Test("Without cosignatures the witness step is a gap; a cosigned older checkpoint covers only older entries")
    func witnesses() async throws {
        let story = try Story()
        let unwitnessed = try story.drill(FireDrill(count: 100, seed: 1, checkProof: Self.independentCheck))
        // One per drilled checkpoint: cp-clean, cp-bare, cp-rejected, and cp-rebased under its old and its new commit.
        #expect(unwitnessed.gapsByKind[.unwitnessed] == 5)

        // Cosign the checkpoint of the current size, then append a newer checkpoint for another commit.
        try await story.cosignLatest()
        let size = try story.ledger.ledger.treeSize()
        let later = try story.repo.commit("Later", file: "later.go", content: "l\n")
        try story.ledger.append(Records.checkpoint("cp-later", commit: later))
        let report = try story.drill(FireDrill(count: 100, seed: 1, checkProof: Self.independentCheck))
        let commits = Self.byCommit(report)
        let clean = try #require(commits[story.clean]?.checkpoints.first?.steps.first { $0.step == .witness })
        #expect(clean.status == .ok)
        #expect(clean.reason.contains("the checkpoint of size \(size), which covers entry 0"))
        let newest = try #require(commits[later]?.checkpoints.first?.steps.first { $0.step == .witness })
        #expect(newest.gap == .unwitnessed)
        #expect(newest.reason.contains("is signed by the log alone"))
    }

    @Test("A proof that does not verify with the key given is a proof_failed gap")
    func proofFailure() throws {
        let story = try Story()
        let other = try TestLedger(origin: "example.com/other-log")
        let report = try story.drill(
            FireDrill(
                count: 100, seed: 1, skip: [.witness], verifierKey: other.ledger.verifierKey,
                checkProof: Self.independentCheck))
        #expect(report.gapsByKind[.proofFailed] == 5)
        let step = try #require(
            Self.byCommit(report)[story.clean]?.checkpoints.first?.steps.first { $0.step == .proof })
        #expect(step.reason.hasPrefix("the inclusion proof of entry 0 against the checkpoint of size 15"))
        #expect(step.reason.contains("example.com/other-log"))
        // With the ledger's own key the same proofs verify.
        let own = try story.drill(FireDrill(count: 100, seed: 1, skip: [.witness], checkProof: Self.independentCheck))
        #expect(own.gapsByKind[.proofFailed] == 0)
    }

    @Test("Skipped steps are not applicable and never gaps; the checkpoint step cannot be skipped")
    func skipping() throws {
        let story = try Story()
        let report = try story.drill(
            FireDrill(
                count: 100, seed: 1, skip: [.checkpoint, .test, .deploy, .witness], checkProof: Self.independentCheck))
        #expect(report.selection.skipped == [.test, .deploy, .witness])
        let byKind = report.gapsByKind
        #expect(byKind[.untested] == 0 && byKind[.testsFailed] == 0 && byKind[.undeployed] == 0)
        #expect(byKind[.unwitnessed] == 0 && byKind[.noProvenance] == 2)
        let bare = try #require(Self.byCommit(report)[story.bare]?.checkpoints.first)
        #expect(
            Self.statuses(bare) == [
                .review: .gap, .test: .notApplicable, .deploy: .notApplicable, .proof: .ok, .witness: .notApplicable,
            ])
        #expect(bare.steps[1].reason == "not checked (--skip test)")
    }

    @Test("The choice is reproducible with a seed, the same on every platform, and covers the candidates")
    func reproducibleChoice() throws {
        // Pinned: SplitMix64 and the partial Fisher–Yates shuffle are part of the drill's contract (a seed
        // printed on one machine repeats the drill on another).
        #expect(FireDrill.choose(3, from: 10, seed: 42) == FireDrill.choose(3, from: 10, seed: 42))
        #expect(FireDrill.choose(3, from: 10, seed: 42) == [2, 3, 4])
        #expect(FireDrill.choose(5, from: 3, seed: 9) == [0, 1, 2])
        #expect(FireDrill.choose(1, from: 0, seed: 9) == [])
        var seen: Set<Int> = []
        for seed in UInt64(0)..<200 {
            let chosen = FireDrill.choose(2, from: 6, seed: seed)
            #expect(chosen.count == 2 && Set(chosen).count == 2 && chosen == chosen.sorted())
            seen.formUnion(chosen)
        }
        #expect(seen == Set(0..<6))

        let story = try Story()
        let first = try story.drill(FireDrill(count: 2, seed: 7, checkProof: Self.independentCheck))
        let again = try story.drill(FireDrill(count: 2, seed: 7, checkProof: Self.independentCheck))
        #expect(first.commits.map(\.commit.id) == again.commits.map(\.commit.id))
        #expect(first.selection.seed == 7 && first.commits.count == 2)
        let choices = try (UInt64(1)...8).map { seed in
            try story.drill(FireDrill(count: 2, seed: seed, checkProof: Self.independentCheck)).commits.map(
                \.commit.id)
        }
        #expect(Set(choices).count > 1)
        // Without a seed, one is chosen and reported.
        let random = try story.drill(FireDrill(count: 2, checkProof: Self.independentCheck))
        #expect(random.selection.seed <= FireDrill.maxSeed)
        let replay = try story.drill(
            FireDrill(count: 2, seed: random.selection.seed, checkProof: Self.independentCheck))
        #expect(replay.commits.map(\.commit.id) == random.commits.map(\.commit.id))
    }

    @Test("--last and --since choose the candidates among HEAD's newest non-merge commits")
    func candidates() throws {
        let repo = try TestRepository()
        let ledger = try TestLedger()
        var ids: [String] = []
        for (n, day) in ["2026-11-01", "2026-11-10", "2026-11-20", "2026-11-25"].enumerated() {
            try Data("\(n)\n".utf8).write(to: URL(fileURLWithPath: repo.path + "/f\(n)"))
            try repo.git("add", "f\(n)")
            try repo.git(
                "commit", "-q", "-m", n == 3 ? "change 3\n\nCairn-Checkpoint: cp-404" : "change \(n)",
                environment: ["GIT_COMMITTER_DATE": day + "T09:00:00Z", "GIT_AUTHOR_DATE": day + "T09:00:00Z"])
            ids.append(try repo.git("rev-parse", "HEAD"))
        }
        func drill(_ drill: FireDrill) throws -> DrillReport {
            try drill.run(repository: try GitRepository(path: repo.path), ledger: ledger.ledger, now: 0)
        }
        let last = try drill(FireDrill(count: 10, last: 2, checkProof: Self.independentCheck))
        #expect(last.commits.map(\.commit.id) == [ids[3], ids[2]] && last.selection.last == 2)
        let since = try drill(
            FireDrill(count: 10, since: Timestamp.parse("2026-11-15T00:00:00Z"), checkProof: Self.independentCheck))
        #expect(since.commits.map(\.commit.id) == [ids[3], ids[2]] && since.selection.last == nil)
        let both = try drill(
            FireDrill(
                count: 10, last: 1, since: Timestamp.parse("2026-11-05T00:00:00Z"), checkProof: Self.independentCheck))
        #expect(both.commits.map(\.commit.id) == [ids[3]])
        let all = try drill(FireDrill(count: 10, checkProof: Self.independentCheck))
        #expect(all.commits.count == 4 && all.selection.last == FireDrill.defaultLast)
        #expect(all.gapsByKind[.noProvenance] == 4 && all.head == ids[3] && all.branch == "main")
        // A commit whose trailer claims a checkpoint that covers nothing says so.
        let newest = try #require(all.commits.first)
        #expect(newest.commit.checkpointTrailers == ["cp-404"])
        #expect(
            newest.checkpointStep.reason.contains("it carries Cairn-Checkpoint: cp-404, yet no checkpoint covers it"))

        // A repository without commits has nothing to drill.
        let empty = try TestRepository()
        let none = try FireDrill(count: 3, checkProof: Self.independentCheck).run(
            repository: try GitRepository(path: empty.path), ledger: ledger.ledger, now: 0)
        #expect(none.commits.isEmpty && none.gapCount == 0 && none.head == nil)
    }

    @Test("Unusable arguments are errors that say what was expected, never traps")
    func badArguments() throws {
        let story = try Story()
        for drill in [
            FireDrill(count: 0, checkProof: Self.independentCheck),
            FireDrill(count: -3, checkProof: Self.independentCheck),
            FireDrill(last: 0, checkProof: Self.independentCheck),
            FireDrill(seed: FireDrill.maxSeed + 1, checkProof: Self.independentCheck),
        ] {
            #expect(throws: AuditError.self) { try story.drill(drill) }
        }
        #expect(FireDrill.choose(Int.max, from: 3, seed: UInt64.max) == [0, 1, 2])
        #expect(FireDrill.choose(-1, from: 3, seed: 0) == [])
    }

    @Test("The JSON form has the members specs/drill.md lists")
    func jsonForm() async throws {
        let story = try Story()
        try await story.cosignLatest()
        let report = try story.drill(FireDrill(count: 100, seed: 3, skip: [.deploy], checkProof: Self.independentCheck))
        let json = report.json
        #expect(json["format"]?.stringValue == "cairn-drill/v1")
        #expect(json["at"]?.stringValue == "2026-11-30T00:53:20Z")
        #expect(json["tree_size"] == .uint(15) && json["origin"]?.stringValue == "example.com/audit-test")
        #expect(json["commits_drilled"] == .number(7) && json["gaps"] == .number(Double(report.gapCount)))
        #expect(json["commits_with_gaps"] == .number(4))
        let byKind = try #require(json["gaps_by_kind"]?.objectValue)
        #expect(byKind.keys == DrillGap.allCases.map(\.rawValue))
        #expect(byKind["no_provenance"] == .number(2) && byKind["undeployed"] == .number(0))
        let selection = try #require(json["selection"])
        #expect(selection["seed"] == .number(3) && selection["last"] == .number(100) && selection["since"] == .null)
        #expect(selection["skipped"] == ["deploy"] && selection["candidates"] == .number(7))
        let commits = try #require(json["commits"]?.arrayValue)
        let clean = try #require(commits.first { $0["commit"]?.stringValue == story.clean })
        #expect(clean["subject"]?.stringValue == "Add retry" && clean["gaps"] == .number(0))
        #expect(clean["checkpoint_trailers"] == ["cp-clean"])
        #expect(clean["checkpoint"]?["status"]?.stringValue == "ok")
        let steps = try #require(clean["checkpoints"]?[0]?["steps"]?.arrayValue)
        #expect(steps.map { $0["step"]?.stringValue } == ["review", "test", "deploy", "proof", "witness"])
        #expect(steps[2]["status"]?.stringValue == "not_applicable" && steps[2]["gap"] == .null)
        let undeclared = try #require(commits.first { $0["commit"]?.stringValue == story.undeclared })
        #expect(undeclared["checkpoint"]?["gap"]?.stringValue == "no_provenance")
        #expect(undeclared["ai_markers"]?[0]?["tool"]?.stringValue == "claude")
        #expect(undeclared["checkpoints"] == [])
        // The JSON text parses back to the same value.
        #expect(try JSONParser.parse(JSONWriter.pretty(json)) == json)
    }

    @Test("latestSaved reads the newest saved drill and ignores everything else in drills/")
    func latestSaved() throws {
        let dir = try TemporaryDirectory()
        #expect(try FireDrill.latestSaved(ledgerDirectory: dir.path) == nil)
        try FileManager.default.createDirectory(atPath: dir.file("drills"), withIntermediateDirectories: true)
        #expect(try FireDrill.latestSaved(ledgerDirectory: dir.path) == nil)
        let older = FireDrill.savedFileName(at: 1_795_166_043_000)
        let newer = FireDrill.savedFileName(at: 1_795_166_043_123)
        #expect(older == "20261120T091403.000Z.json" && newer == "20261120T091403.123Z.json")
        #expect(FireDrill.isSavedFileName(newer) && !FireDrill.isSavedFileName(".\(newer).tmp-12-0"))
        #expect(!FireDrill.isSavedFileName("notes.json") && !FireDrill.isSavedFileName("2026112XT091403.123Z.json"))
        try dir.write("drills/" + older, #"{"format":"cairn-drill/v1","gaps":3}"#)
        try dir.write("drills/" + newer, #"{"format":"cairn-drill/v1","gaps":0}"#)
        try dir.write("drills/.\(newer).tmp-1-0", "partial")
        try dir.write("drills/zz-notes.json", "not a drill")
        let latest = try #require(try FireDrill.latestSaved(ledgerDirectory: dir.path))
        #expect(latest["gaps"] == .number(0))
        try dir.write("drills/20261120T091404.000Z.json", "{broken")
        #expect(throws: AuditError.self) { try FireDrill.latestSaved(ledgerDirectory: dir.path) }
    }
}
