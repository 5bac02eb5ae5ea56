import CairnAudit
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnTestSupport
import Foundation
import Testing

@Suite("audit missing: commits of a real git repository against the ledger")
struct MissingCheckpointTests {
    /// A repository and a ledger telling one story: a human commit, an AI commit with its
    /// checkpoint, two AI commits squashed into one (recorded with `rewrite` records), and AI
    /// commits whose trailers are wrong in each possible way.
    struct Story {
        let repo: TestRepository
        let ledger: TestLedger
        let human, ai, squashed, unknown, wrong, notCheckpoint, numeric: String
        let cp1, review: UInt64
        let reviewDigest: SHA256Digest

        init(recordRewrites: Bool = true) throws {
            repo = try TestRepository()
            ledger = try TestLedger()
            human = try repo.commit("Fix typo in README", file: "README", content: "hello\n")
            ai = try repo.commit("Add retry", file: "retry.ts", content: "retry\n", trailers: ["cp-1"])
            let step1 = try repo.commit("Queue client", file: "queue.py", content: "q\n", trailers: ["cp-2"])
            let step2 = try repo.commit("Queue tests", file: "queue_test.py", content: "t\n", trailers: ["cp-3"])
            let indexes = try ledger.append(
                Records.checkpoint("cp-1", commit: ai), Records.checkpoint("cp-2", commit: step1),
                Records.checkpoint("cp-3", commit: step2),
                Records.review("cp-1", "bob@example.com", "approved", at: "2026-11-20T10:00:00Z"))
            cp1 = indexes[0]
            review = indexes[3]
            reviewDigest = try ledger.digest(review)

            // Squash the two steps into one commit carrying both trailers, as `git rebase -i` would.
            try repo.git("reset", "--soft", "HEAD~2")
            try repo.git("commit", "-q", "-m", "Queue migration\n\nCairn-Checkpoint: cp-2\nCairn-Checkpoint: cp-3")
            squashed = try repo.git("rev-parse", "HEAD")
            if recordRewrites {
                try ledger.append(
                    Records.rewrite(step1, squashed, kind: "squash"), Records.rewrite(step2, squashed, kind: "squash"))
            }

            unknown = try repo.commit("Cache", file: "cache.go", content: "c\n", trailers: ["cp-404"])
            wrong = try repo.commit("Metrics", file: "metrics.go", content: "m\n", trailers: ["cp-1"])
            notCheckpoint = try repo.commit(
                "Logging", file: "log.go", content: "l\n", trailers: [reviewDigest.description])
            numeric = try repo.commit("Config", file: "config.go", content: "g\n", trailers: ["0"])
        }
    }

    @Test("By default every commit without a covering checkpoint is listed, with its trailers' problems")
    func defaultMode() throws {
        let story = try Story()
        let result = try MissingCheckpointAudit().run(
            repository: try GitRepository(path: story.repo.path), ledger: story.ledger.ledger)
        #expect(result.commitsExamined == 7)
        #expect(result.commitsWithTrailers == 6)
        #expect(result.treeSize == 6)
        // Newest first, as git lists them; the AI commit and the squashed commit are covered.
        #expect(
            result.listed.map(\.commit.id) == [
                story.numeric, story.notCheckpoint, story.wrong, story.unknown, story.human,
            ])
        let problems = Dictionary(uniqueKeysWithValues: result.listed.map { ($0.commit.id, $0.problems) })
        #expect(problems[story.human] == [.noCheckpoint])
        #expect(problems[story.unknown] == [.noCheckpoint, .unknownRecord(trailer: "cp-404")])
        #expect(
            problems[story.wrong] == [.noCheckpoint, .notCovering(trailer: "cp-1", index: story.cp1, coveredBy: [])])
        #expect(
            problems[story.notCheckpoint] == [
                .noCheckpoint,
                .notACheckpoint(trailer: story.reviewDigest.description, index: story.review, type: "review"),
            ])
        // "0" is no checkpoint's id; it must not be read as leaf index 0 (which is checkpoint cp-1).
        #expect(problems[story.numeric] == [.noCheckpoint, .unknownRecord(trailer: "0")])
        let listedHuman = try #require(result.listed.last)
        #expect(listedHuman.commit.subject == "Fix typo in README")
        #expect(listedHuman.commit.author == "Test Author")
        #expect(listedHuman.commit.authorDate == "2026-11-20T09:00:00Z")
        #expect(listedHuman.commit.checkpointTrailers.isEmpty)
    }

    @Test("--ai-only examines only commits with the trailer and lists each kind of wrong trailer")
    func aiOnlyMode() throws {
        let story = try Story()
        let result = try MissingCheckpointAudit(aiOnly: true).run(
            repository: try GitRepository(path: story.repo.path), ledger: story.ledger.ledger)
        #expect(result.listed.map(\.commit.id) == [story.numeric, story.notCheckpoint, story.wrong, story.unknown])
        #expect(
            result.listed.map { $0.problems.map(\.kind) } == [
                ["unknown_record"], ["not_a_checkpoint"], ["not_covering"], ["unknown_record"],
            ])
        let squashed = try GitRepository(path: story.repo.path).commits().first { $0.id == story.squashed }
        #expect(squashed?.checkpointTrailers == ["cp-2", "cp-3"])
    }

    @Test("A squash is covered only once its rewrite records are in the ledger")
    func rewritesCoverTheNewCommit() throws {
        let story = try Story(recordRewrites: false)
        let repository = try GitRepository(path: story.repo.path)
        let before = try MissingCheckpointAudit().run(repository: repository, ledger: story.ledger.ledger)
        #expect(before.listed.map(\.commit.id).contains(story.squashed))
        let aiOnly = try MissingCheckpointAudit(aiOnly: true).run(repository: repository, ledger: story.ledger.ledger)
        let squashed = try #require(aiOnly.listed.first { $0.commit.id == story.squashed })
        #expect(squashed.problems.map(\.kind) == ["not_covering", "not_covering"])

        // The squashed commit's parent is the AI commit: find the two pre-squash ids in the ledger.
        var query = RecordQuery()
        query.model = "claude-sonnet-4-5"
        let steps = try story.ledger.ledger.query(query).filter { $0.facts.id != "cp-1" }
        #expect(steps.count == 2)
        for step in steps {
            try story.ledger.append(Records.rewrite(step.facts.outputs[0].commit, story.squashed, kind: "squash"))
        }
        let after = try MissingCheckpointAudit().run(repository: repository, ledger: story.ledger.ledger)
        #expect(!after.listed.map(\.commit.id).contains(story.squashed))
        let aiAfter = try MissingCheckpointAudit(aiOnly: true).run(repository: repository, ledger: story.ledger.ledger)
        #expect(!aiAfter.listed.map(\.commit.id).contains(story.squashed))
    }

    @Test("An amended commit whose trailer is the checkpoint's sha256 address is covered through the rewrite")
    func amendWithAddressTrailer() throws {
        let repo = try TestRepository()
        let ledger = try TestLedger()
        let original = try repo.commit("Add retry", file: "retry.ts", content: "r\n", trailers: ["cp-9"])
        let index = try ledger.append(Records.checkpoint("cp-9", commit: original))[0]
        let address = try ledger.digest(index).description
        try repo.git("commit", "-q", "--amend", "-m", "Add retry\n\nCairn-Checkpoint: \(address)")
        let amended = try repo.git("rev-parse", "HEAD")
        let repository = try GitRepository(path: repo.path)

        let before = try MissingCheckpointAudit(aiOnly: true).run(repository: repository, ledger: ledger.ledger)
        #expect(before.listed.first?.problems == [.notCovering(trailer: address, index: index, coveredBy: [])])
        try ledger.append(Records.rewrite(original, amended, kind: "amend"))
        let after = try MissingCheckpointAudit(aiOnly: true).run(repository: repository, ledger: ledger.ledger)
        #expect(after.listed.isEmpty)
        #expect(after.commitsWithTrailers == 1)
        #expect(try MissingCheckpointAudit().run(repository: repository, ledger: ledger.ledger).listed.isEmpty)
    }

    @Test("A range limits the commits examined; merges can be skipped")
    func rangesAndMerges() throws {
        let story = try Story()
        let repository = try GitRepository(path: story.repo.path)
        let ranged = try MissingCheckpointAudit(range: "\(story.ai)..HEAD").run(
            repository: repository, ledger: story.ledger.ledger)
        #expect(ranged.commitsExamined == 5)
        #expect(!ranged.listed.map(\.commit.id).contains(story.human))

        try story.repo.git("checkout", "-q", "-b", "side", story.human)
        let side = try story.repo.commit("Side work", file: "side.txt", content: "s\n")
        try story.repo.git("checkout", "-q", "main")
        try story.repo.git("merge", "-q", "--no-ff", "-m", "Merge side", side)
        let merge = try story.repo.git("rev-parse", "HEAD")
        let withMerges = try MissingCheckpointAudit().run(repository: repository, ledger: story.ledger.ledger)
        #expect(withMerges.listed.map(\.commit.id).contains(merge))
        #expect(withMerges.listed.first { $0.commit.id == merge }?.commit.isMerge == true)
        let noMerges = try MissingCheckpointAudit(includeMerges: false).run(
            repository: repository, ledger: story.ledger.ledger)
        #expect(!noMerges.listed.map(\.commit.id).contains(merge))
        #expect(noMerges.listed.map(\.commit.id).contains(side))
    }

    @Test("Bad repositories and ranges fail with actionable errors; an empty repository has no commits")
    func errors() throws {
        let dir = try TemporaryDirectory()
        #expect(throws: AuditError.self) { try GitRepository(path: dir.file("nope")) }
        do {
            _ = try GitRepository(path: dir.path)
            Issue.record("a plain directory was accepted as a repository")
        } catch {
            #expect(error.code == .notARepository)
            #expect(error.message.contains("is not a git repository"))
        }
        let repo = try TestRepository()
        let empty = try GitRepository(path: repo.path)
        #expect(try empty.commits().isEmpty)
        try repo.commit("First", file: "a", content: "a\n")
        for range in ["no-such-branch..HEAD", "--all", ""] {
            do {
                _ = try empty.commits(range: range)
                Issue.record("range \(range) was accepted")
            } catch {
                #expect(error.code == .invalidRange, "\(range): \(error.message)")
                #expect(!error.message.contains("\n"))
            }
        }
    }
}
