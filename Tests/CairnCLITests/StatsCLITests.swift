import CairnCrypto
import CairnJSON
import CairnRecords
import CairnTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `cairn stats` (issue 13, acceptance 1): on a generated 100k-entry ledger with corrections and erasures, every
/// figure equals an independent recomputation from `cairn query --jsonl` — code that reads the effective records the
/// query prints and shares nothing with the aggregates — and drill-downs list exactly what figures count.
@Suite(.serialized) struct StatsCLITests {
    static let repos = ["git@example.com:pay/client.git", "git@example.com:web/app.git", "ops/infra"]
    static let models = [("claude-sonnet-4-5", "20250929"), ("gpt-5", "2025-08-07"), ("gemini-2.5-pro", "001")]
    static let people = (0..<40).map { "dev\($0)@example.com" }
    static let paths = [
        "src/auth/session.ts", "src/ui/button.tsx", "infra/main.tf", "lib/payment/charge.go", "README.md",
    ]
    static let sensitiveGlobs = [
        "*auth*", "*security*", "*crypto*", "*secret*", "*password*", "*payment*", "*billing*", "*migrations/*",
        ".github/workflows/*", "*infra/*", "*terraform/*", "*.tf", "*Dockerfile*",
    ]

    /// Writes the ledger's records as JSON Lines: checkpoints, and about them reviews, tests, deploys, rollbacks,
    /// corrections (of checkpoints and of reviews) and erasures of payload blobs; `total` entries.
    static func generate(total: Int, blobs: [String], seed: UInt64) throws -> [UInt8] {
        var random = SeededGenerator(seed: seed)
        var out: [UInt8] = []
        var checkpoints: [(id: String, digest: SHA256Digest, record: JSONValue)] = []
        var reviews: [SHA256Digest] = []
        var erased = Set<String>()
        let start = Timestamp.parse("2026-06-01T00:00:00Z")!
        func emit(_ record: JSONValue) throws -> SHA256Digest {
            let canonical = try JCS.canonicalize(record)
            out += canonical
            out.append(UInt8(ascii: "\n"))
            return SHA256.hash(canonical)
        }
        var count = 0
        while count < total {
            let roll = Int.random(in: 0..<100, using: &random)
            let time = Timestamp.format(start + Int64.random(in: 0..<(180 * 86_400_000), using: &random))
            if roll < 70 || checkpoints.isEmpty {
                let id = "cp-\(count)"
                let (model, version) = models.randomElement(using: &random)!
                var outputs: [JSONValue] = []
                for _ in 0..<Int.random(in: 1...2, using: &random) {
                    let first = Int.random(in: 1...300, using: &random)
                    let hex = String(count, radix: 16)
                    outputs.append([
                        "repo": .string(repos.randomElement(using: &random)!),
                        "commit": .string(String(repeating: "0", count: 40 - hex.count) + hex),
                        "path": .string(paths.randomElement(using: &random)!),
                        "ranges": [[.int(first), .int(first + Int.random(in: 0...40, using: &random))]],
                        "content_hash": .string("sha256:" + String(repeating: "c", count: 64)),
                        "contributor": .string(["ai", "ai", "mixed", "human"].randomElement(using: &random)!),
                    ])
                }
                var record: JSONObject = [
                    "type": "checkpoint", "schema": 1, "id": .string(id), "timestamp": .string(time),
                    "requested_by": .string(people.randomElement(using: &random)!),
                    "tool_path": .string(["ide", "cli", "ci", "agent"].randomElement(using: &random)!),
                    "model": ["id": .string(model), "version": .string(version), "provider": "p"],
                    "prompt": .string("change \(count)"), "outputs": .array(outputs),
                ]
                if Bool.random(using: &random) {
                    record["work_item"] = .string("W-\(Int.random(in: 1...30, using: &random))")
                }
                if Int.random(in: 0..<3, using: &random) == 0 {
                    record["cost"] = [
                        "input_tokens": .int(Int.random(in: 0...9000, using: &random)),
                        "output_tokens": .int(Int.random(in: 0...900, using: &random)),
                        "usd": .number(Double(Int.random(in: 0...99_999, using: &random)) / 10_000),
                    ]
                }
                if Int.random(in: 0..<10, using: &random) == 0 { record["x_capture"] = ["grade": "attested"] }
                if let blob = blobs.filter({ !erased.contains($0) }).randomElement(using: &random),
                    Int.random(in: 0..<500, using: &random) == 0
                {
                    record["raw_output"] = try JSONParser.parse(blob)
                }
                let value = JSONValue.object(record)
                checkpoints.append((id, try emit(value), value))
            } else if roll < 82 {
                let subject = checkpoints.randomElement(using: &random)!
                reviews.append(
                    try emit([
                        "type": "review", "schema": 1, "subject": .string(subject.id),
                        "reviewer": .string(people.randomElement(using: &random)!),
                        "decision": .string(
                            ["approved", "approved", "changes_requested", "rejected"].randomElement(using: &random)!),
                        "at": .string(time),
                    ]))
            } else if roll < 90 {
                _ = try emit([
                    "type": "test", "schema": 1, "subject": .string(checkpoints.randomElement(using: &random)!.id),
                    "result": .string(["passed", "failed", "partial"].randomElement(using: &random)!),
                    "at": .string(time),
                ])
            } else if roll < 95 {
                _ = try emit([
                    "type": "deploy", "schema": 1, "subject": .string(checkpoints.randomElement(using: &random)!.id),
                    "git_commit": .string(String(repeating: "f", count: 40)), "branch": "main",
                    "environment": "production", "at": .string(time),
                ])
            } else if roll < 96 {
                _ = try emit([
                    "type": "rollback", "schema": 1, "subject": .string(checkpoints.randomElement(using: &random)!.id),
                    "environment": "production", "reason": "latency regression", "at": .string(time),
                ])
            } else if roll < 98 {
                // A checkpoint's model, requester or time corrected.
                let target = checkpoints.randomElement(using: &random)!
                let (model, version) = models.randomElement(using: &random)!
                let patch: JSONObject =
                    Bool.random(using: &random)
                    ? ["model": ["id": .string(model), "version": .string(version), "provider": "p"]]
                    : ["requested_by": .string(people.randomElement(using: &random)!), "timestamp": .string(time)]
                _ = try emit([
                    "type": "correction", "schema": 1, "corrects": .string(target.digest.description),
                    "author": "fixer@example.com", "reason": "the hook recorded the wrong value",
                    "patch": .object(patch),
                ])
            } else if roll < 99, let review = reviews.randomElement(using: &random) {
                _ = try emit([
                    "type": "correction", "schema": 1, "corrects": .string(review.description),
                    "author": "fixer@example.com", "reason": "the reviewer changed their mind",
                    "patch": ["decision": .string(["approved", "rejected"].randomElement(using: &random)!)],
                ])
            } else if let blob = blobs.first(where: { !erased.contains($0) }),
                Int.random(in: 0..<50, using: &random) == 0
            {
                erased.insert(blob)
                _ = try emit([
                    "type": "erasure", "schema": 1, "blob": .string(try JSONParser.parse(blob)["blob"]!.stringValue!),
                    "reason": "personal data in the output", "at": .string(time), "author": "dpo@example.com",
                ])
            } else {
                continue
            }
            count += 1
        }
        return out
    }

    struct Row {
        let index: Int
        let record: JSONValue
        let checkpoint: Int?
    }

    static func rows(_ output: CLI.Output) throws -> [Row] {
        try output.lines.map { line in
            let value = try JSONParser.parse(line)
            return Row(
                index: value["index"]!.intValue!, record: value["record"]!, checkpoint: value["checkpoint"]?.intValue)
        }
    }

    /// The figures of one checkpoint, recomputed from query rows.
    struct Recomputed {
        var checkpoints = 0
        var lines = 0
        var aiLines = 0
        var sensitive = 0
        var reviewed = 0
        var approved = 0
        var rejected = 0
        var revised = 0
        var tested = 0
        var deployed = 0
        var rolledBack = 0
        var testsFailed = 0
        var costMicro: Int64 = 0

        var unreviewed: Int { checkpoints - reviewed }
        var untested: Int { checkpoints - tested }
        var undeployed: Int { checkpoints - deployed }
    }

    static func lineCount(_ ranges: [JSONValue]) -> Int {
        var covered = Set<Int>()
        for range in ranges {
            for line in range[0]!.intValue!...range[1]!.intValue! { covered.insert(line) }
        }
        return covered.count
    }

    @Test func figuresEqualAnIndependentRecomputationFromQueryRows() throws {
        let dir = try TemporaryDirectory()
        let cli = CLI(ledger: dir.path + "/ledger")
        try cli.ok("init", "--origin", "example.com/stats")
        var blobs: [String] = []
        for n in 0..<4 {
            let file = dir.path + "/payload-\(n).txt"
            try Data("model output \(n) with a customer's name".utf8).write(to: URL(fileURLWithPath: file))
            blobs.append(
                try cli.ok("blob", "put", "--media-type", "text/plain; charset=utf-8", file).text
                    .trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let total = Int(ProcessInfo.processInfo.environment["CAIRN_STATS_TEST_ENTRIES"] ?? "") ?? 100_000
        let file = dir.path + "/records.jsonl"
        try Data(try Self.generate(total: total, blobs: blobs, seed: 2026)).write(to: URL(fileURLWithPath: file))
        let imported = try cli.run(["import", file])
        #expect(imported.status == 0, "\(imported.stderr)")

        // Independent: effective records as `cairn query` prints them.
        let checkpointRows = try Self.rows(try cli.ok("query", "--jsonl"))
        let reviewRows = try Self.rows(try cli.ok("query", "--type", "review", "--jsonl"))
        let testRows = try Self.rows(try cli.ok("query", "--type", "test", "--jsonl"))
        let deployRows = try Self.rows(try cli.ok("query", "--type", "deploy", "--jsonl"))
        let rollbackRows = try Self.rows(try cli.ok("query", "--type", "rollback", "--jsonl"))
        #expect(checkpointRows.count > total / 2)
        var latestReview: [Int: (index: Int, decision: String)] = [:]
        var everRevised = Set<Int>()
        for row in reviewRows {
            let decision = row.record["decision"]!.stringValue!
            if decision == "changes_requested" { everRevised.insert(row.checkpoint!) }
            if (latestReview[row.checkpoint!]?.index ?? -1) < row.index {
                latestReview[row.checkpoint!] = (row.index, decision)
            }
        }
        var latestTest: [Int: (index: Int, result: String)] = [:]
        for row in testRows where (latestTest[row.checkpoint!]?.index ?? -1) < row.index {
            latestTest[row.checkpoint!] = (row.index, row.record["result"]!.stringValue!)
        }
        let deployed = Set(deployRows.map { $0.checkpoint! })
        let rolledBack = Set(rollbackRows.map { $0.checkpoint! })

        var all = Recomputed()
        var byRepo: [String: Recomputed] = [:]
        var byModel: [String: Recomputed] = [:]
        var costByWorkItem: [String: Int64] = [:]
        func add(_ row: Row, into figures: inout Recomputed, repo: String?) {
            let record = row.record
            let outputs = record["outputs"]!.arrayValue!.filter { repo == nil || $0["repo"]!.stringValue! == repo! }
            figures.checkpoints += 1
            var sensitive = false
            for output in outputs {
                let lines = Self.lineCount(output["ranges"]!.arrayValue!)
                figures.lines += lines
                if output["contributor"]!.stringValue! != "human" { figures.aiLines += lines }
                if Self.sensitiveGlobs.contains(where: { fnmatch($0, output["path"]!.stringValue!, 0) == 0 }) {
                    sensitive = true
                }
            }
            if sensitive { figures.sensitive += 1 }
            if let review = latestReview[row.index] {
                figures.reviewed += 1
                if review.decision == "approved" { figures.approved += 1 }
                if review.decision == "rejected" { figures.rejected += 1 }
            }
            if everRevised.contains(row.index) { figures.revised += 1 }
            if let test = latestTest[row.index] {
                figures.tested += 1
                if test.result == "failed" { figures.testsFailed += 1 }
            }
            if deployed.contains(row.index) { figures.deployed += 1 }
            if rolledBack.contains(row.index) { figures.rolledBack += 1 }
            if let usd = record["cost"]?["usd"]?.numberValue { figures.costMicro += Int64((usd * 1e6).rounded()) }
        }
        for row in checkpointRows {
            add(row, into: &all, repo: nil)
            var repos: [String] = []
            for output in row.record["outputs"]!.arrayValue! where !repos.contains(output["repo"]!.stringValue!) {
                repos.append(output["repo"]!.stringValue!)
            }
            for repo in repos { add(row, into: &byRepo[repo, default: Recomputed()], repo: repo) }
            let model = row.record["model"]!
            add(
                row,
                into: &byModel[model["id"]!.stringValue! + " " + model["version"]!.stringValue!, default: Recomputed()],
                repo: nil)
            if let item = row.record["work_item"]?.stringValue, let usd = row.record["cost"]?["usd"]?.numberValue {
                costByWorkItem[item, default: 0] += Int64((usd * 1e6).rounded())
            }
        }

        func view(_ name: String) throws -> JSONValue { try JSONParser.parse(try cli.ok("stats", name, "--json").text) }
        func cell(_ document: JSONValue, _ section: String, _ row: String, _ column: String) -> JSONValue? {
            guard let section = document["sections"]?.arrayValue?.first(where: { $0["id"]?.stringValue == section }),
                let columns = section["columns"]?.arrayValue,
                let position = columns.firstIndex(where: { $0["id"]?.stringValue == column }),
                let found = section["rows"]?.arrayValue?.first(where: { $0["id"]?.stringValue == row })
            else { return nil }
            return found["cells"]?[position]
        }
        func value(_ document: JSONValue, _ section: String, _ row: String, _ column: String) -> Double? {
            cell(document, section, row, column)?["value"]?.numberValue
        }

        let overview = try view("overview")
        #expect(value(overview, "headline", "all", "checkpoints") == Double(all.checkpoints))
        #expect(value(overview, "headline", "all", "unreviewed") == Double(all.unreviewed))
        #expect(value(overview, "headline", "all", "untested") == Double(all.untested))
        #expect(value(overview, "headline", "all", "undeployed") == Double(all.undeployed))
        #expect(value(overview, "headline", "all", "sensitive") == Double(all.sensitive))
        #expect(value(overview, "headline", "all", "cost_usd") == Double(all.costMicro) / 1e6)
        let share = try #require(value(overview, "headline", "all", "ai_line_share"))
        #expect(abs(share - Double(all.aiLines) / Double(all.lines)) < 1e-12)

        let gaps = try view("gaps")
        for (repo, figures) in byRepo {
            #expect(value(gaps, "by-repo", repo, "checkpoints") == Double(figures.checkpoints), "\(repo)")
            #expect(value(gaps, "by-repo", repo, "unreviewed") == Double(figures.unreviewed), "\(repo)")
            #expect(value(gaps, "by-repo", repo, "untested") == Double(figures.untested), "\(repo)")
            #expect(value(gaps, "by-repo", repo, "undeployed") == Double(figures.undeployed), "\(repo)")
            #expect(value(gaps, "by-repo", repo, "tests_failed") == Double(figures.testsFailed), "\(repo)")
            #expect(value(gaps, "by-repo", repo, "rolled_back") == Double(figures.rolledBack), "\(repo)")
        }
        let aiShare = try view("ai-share")
        for (repo, figures) in byRepo {
            #expect(value(aiShare, "by-repo", repo, "lines") == Double(figures.lines), "\(repo)")
            #expect(value(aiShare, "by-repo", repo, "ai_lines") == Double(figures.aiLines), "\(repo)")
        }
        let models = try view("models")
        for (model, figures) in byModel {
            let id = model.replacingOccurrences(of: " ", with: "\u{1F}")
            #expect(value(models, "by-model", id, "checkpoints") == Double(figures.checkpoints), "\(model)")
            #expect(value(models, "by-model", id, "reviewed") == Double(figures.reviewed), "\(model)")
            #expect(value(models, "by-model", id, "approved") == Double(figures.approved), "\(model)")
            #expect(value(models, "by-model", id, "rejected") == Double(figures.rejected), "\(model)")
            #expect(value(models, "by-model", id, "revised") == Double(figures.revised), "\(model)")
        }
        // The 25 costliest work items, most expensive first.
        let cost = try view("cost")
        let costliest = costByWorkItem.sorted { $0.value > $1.value }.prefix(25)
        let listed = cost["sections"]?.arrayValue?.first { $0["id"]?.stringValue == "by-work-item" }?["rows"]?
            .arrayValue
        #expect(listed?.compactMap { $0["id"]?.stringValue } == costliest.map(\.key))
        for (item, micro) in costliest {
            #expect(value(cost, "by-work-item", item, "cost_usd") == Double(micro) / 1e6, "\(item)")
        }

        // Drill-downs list exactly what a figure counts (a few, each a `cairn query` with the same filters).
        let options = [
            "repo": "--repo", "since": "--since", "until": "--until", "model": "--model",
            "model_version": "--model-version", "tool_path": "--tool-path", "requested_by": "--requested-by",
            "work_item": "--work-item", "reviewer": "--reviewer", "state": "--state",
        ]
        let repo = Self.repos[0]
        var drilled = 0
        for (document, section, row, column) in [
            (gaps, "by-repo", repo, "unreviewed"), (gaps, "by-repo", repo, "rolled_back"),
            (models, "by-model", "gpt-5\u{1F}2025-08-07", "rejected"), (overview, "headline", "all", "sensitive"),
        ] {
            let target = try #require(cell(document, section, row, column))
            let drill = try #require(target["drill"]?.stringValue)
            var args = ["query", "--jsonl"]
            for pair in drill.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding! }
                args += [try #require(options[parts[0]]), parts[1]]
            }
            let listed = try cli.run(args)
            #expect(listed.status == 0, "\(listed.stderr)")
            #expect(Double(listed.lines.count) == target["value"]?.numberValue, "\(section)/\(row)/\(column): \(drill)")
            drilled += 1
        }
        #expect(drilled == 4)

        // The log holds what the aggregates were kept from: fsck recomputes them and agrees; a rebuild changes nothing.
        let fsck = try JSONParser.parse(try cli.ok("fsck", "--json").text)
        #expect(fsck["aggregates_checked"] == .bool(true))
        let rebuilt = try JSONParser.parse(try cli.ok("fsck", "--rebuild-aggregates", "--json").text)
        #expect(rebuilt["differed"] == .bool(false))
    }

    @Test func viewsWindowsAndErrors() throws {
        let dir = try TemporaryDirectory()
        let cli = CLI(ledger: dir.path + "/ledger")
        try cli.ok("init", "--origin", "example.com/stats")
        let file = dir.path + "/records.jsonl"
        try Data(try Self.generate(total: 300, blobs: [], seed: 7)).write(to: URL(fileURLWithPath: file))
        try cli.ok("import", file)
        for view in ["overview", "ai-share", "sensitive", "requesters", "models", "gaps", "cost", "health"] {
            let text = try cli.ok("stats", view)
            #expect(!text.text.isEmpty)
            let json = try JSONParser.parse(try cli.ok("stats", view, "--json").text)
            #expect(json["view"]?.stringValue == view)
        }
        // A window: only the checkpoints of its weeks.
        let july = try JSONParser.parse(
            try cli.ok("stats", "--since", "2026-07-06", "--until", "2026-07-13", "--json").text)
        let all = try JSONParser.parse(try cli.ok("stats", "--json").text)
        let inJuly = july["sections"]![0]!["rows"]![0]!["cells"]![0]!["value"]!.numberValue!
        let total = all["sections"]![0]!["rows"]![0]!["cells"]![0]!["value"]!.numberValue!
        #expect(inJuly > 0 && inJuly < total)
        let listed = try cli.ok("query", "--since", "2026-07-06", "--until", "2026-07-13", "--jsonl")
        #expect(Double(listed.lines.count) == inJuly)

        #expect(try cli.run("stats", "nonsense").status == 64)
        #expect(try cli.run("stats", "--since", "yesterday").status == 64)
        #expect(try cli.run("stats", "--since", "2026-07-13", "--until", "2026-07-06").status == 64)
        #expect(try CLI(ledger: dir.path + "/missing").run("stats").status == 66)
        // A ledger created without aggregates (what `bench --no-aggregates` measures) has no stats until rebuilt.
        try FileManager.default.createDirectory(atPath: dir.path + "/bench", withIntermediateDirectories: true)
        let bench = try cli.run([
            "bench", "ingest", "--records", "50", "--no-aggregates", "--keep", "--directory", dir.path + "/bench",
            "--json",
        ])
        #expect(bench.status == 0, "\(bench.stderr)")
        let benchLedger = try #require(
            try FileManager.default.contentsOfDirectory(atPath: dir.path + "/bench").first.map {
                dir.path + "/bench/" + $0
            })
        let without = try CLI(ledger: benchLedger).run("stats")
        #expect(without.status == 70 && without.stderr.contains("without stats aggregates"), "\(without.stderr)")
        try CLI(ledger: benchLedger).ok("fsck", "--rebuild-aggregates")
        let rebuilt = try JSONParser.parse(try CLI(ledger: benchLedger).ok("stats", "--json").text)
        #expect(rebuilt["sections"]?[0]?["rows"]?[0]?["cells"]?[0]?["value"]?.numberValue == 50)
        // A write failure is an error, not exit 0.
        #expect(try cli.run(["stats", "--json"], stdout: .file("/dev/full")).status == 74)
    }

    /// What the ledger cannot see, saved beside it: the last `audit missing --save` in the gaps view, the last
    /// `audit drill --save` in the health view.
    @Test func savedAuditsAppearInTheViews() throws {
        let dir = try TemporaryDirectory()
        let cli = CLI(ledger: dir.path + "/ledger")
        try cli.ok("init", "--origin", "example.com/stats")
        let repo = dir.path + "/repo"
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        func git(_ args: String...) throws -> String {
            let out = try CLI.exec(
                "/usr/bin/env", ["git", "-C", repo] + args,
                environment: ["GIT_AUTHOR_DATE": "2026-11-20T09:00:00Z", "GIT_COMMITTER_DATE": "2026-11-20T09:00:00Z"])
            #expect(out.status == 0, "git \(args): \(out.stderr)")
            return out.text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try git("init", "-q", "-b", "main")
        _ = try git("config", "user.name", "Dana")
        _ = try git("config", "user.email", "dana@example.com")
        for name in ["a", "b", "c"] {
            try Data("\(name)\n".utf8).write(to: URL(fileURLWithPath: repo + "/\(name).txt"))
            _ = try git("add", "\(name).txt")
            _ = try git("commit", "-q", "-m", "Add \(name)")
        }
        let head = try git("rev-parse", "HEAD")
        let record: JSONValue = [
            "type": "checkpoint", "schema": 1, "id": "cp-1", "timestamp": "2026-11-20T09:00:00Z",
            "requested_by": "dana@example.com", "tool_path": "ide",
            "model": ["id": "m", "version": "1", "provider": "p"], "prompt": "p",
            "outputs": [
                [
                    "repo": "r", "commit": .string(head), "path": "c.txt", "ranges": [[1, 1]],
                    "content_hash": .string("sha256:" + String(repeating: "c", count: 64)), "contributor": "ai",
                ]
            ],
        ]
        try cli.ok("append", stdin: JSONWriter.compact(record))
        // Before any saved audit: no such section.
        let before = try JSONParser.parse(try cli.ok("stats", "gaps", "--json").text)
        #expect(
            before["sections"]?.arrayValue?.contains { $0["id"]?.stringValue == "commits-without-provenance" } == false)

        let audit = try cli.run("audit", "missing", "--repo", repo, "--save")
        #expect(audit.status == 1, "\(audit.stderr)")  // two commits have no checkpoint
        let saved = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/ledger/audits/missing")
        #expect(saved.count == 1 && saved[0].hasSuffix("Z.json"), "\(saved)")
        let gaps = try JSONParser.parse(try cli.ok("stats", "gaps", "--json").text)
        let section = try #require(
            gaps["sections"]?.arrayValue?.first { $0["id"]?.stringValue == "commits-without-provenance" })
        let rows = try #require(section["rows"]?.arrayValue)
        #expect(rows.first { $0["id"]?.stringValue == "examined" }?["cells"]?[0]?["value"]?.numberValue == 3)
        #expect(
            rows.first { $0["id"]?.stringValue == "without_provenance" }?["cells"]?[0]?["value"]?.numberValue == 2)
        #expect(section["note"]?.stringValue?.contains(repo) == true)

        // A drill saved in the ledger directory shows on the health view.
        let drill = try cli.run("audit", "drill", "--repo", repo, "--count", "3", "--seed", "1", "--save")
        #expect(drill.status == 1, "\(drill.stderr)")  // gaps: two commits without provenance at least
        let health = try JSONParser.parse(try cli.ok("stats", "health", "--json").text)
        let last = try #require(health["sections"]?.arrayValue?.first { $0["id"]?.stringValue == "last-drill" })
        #expect(last["rows"]?[0]?["id"]?.stringValue == "commits_drilled")
        #expect(last["rows"]?[0]?["cells"]?[0]?["value"]?.numberValue == 3)
        // Saving a report never changes the ledger: fsck is clean and the tree is as before.
        let fsck = try JSONParser.parse(try cli.ok("fsck", "--json").text)
        #expect(fsck["leaves"]?.numberValue == 1)
    }
}
