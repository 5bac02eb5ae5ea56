import CairnCrypto
import CairnJSON
import CairnRecords
import CairnTestSupport
import Foundation
import Testing

@testable import CairnLedger

/// The query planner (posting lists intersected in log order) against a model of the ledger kept by
/// the test itself: every random combination of filters returns exactly the checkpoints the model
/// says, in log order, with corrections, reviews, rewrites, line ranges, time bounds and limits.
@Suite("Query planner: random filter combinations against a model")
struct QueryPlanTests {
    struct Output: Hashable {
        let repo: String
        let commit: String
        let path: String
        let range: ClosedRange<UInt32>
    }

    /// What the test knows of one checkpoint (its effective fields).
    struct Model {
        var modelID: String
        let requester: String
        let tool: String
        let workItem: String?
        let outputs: [Output]
        let milliseconds: Int64
        var reviewers: Set<String> = []
    }

    static let models = ["m-0", "m-1", "m-2", "m-3"]
    static let requesters = ["r0@example.com", "r1@example.com", "r2@example.com"]
    static let tools = ["ide", "cli", "agent"]
    static let workItems: [String?] = ["W-0", "W-1", nil]
    static let repos = ["git@example.com:a.git", "git@example.com:b.git", "git@example.com:c.git"]
    static let commits = (0..<4).map { String(repeating: String($0), count: 40) }
    /// The commit a rewrite maps `commits[0]` onto.
    static let rewritten = String(repeating: "9", count: 40)
    static let paths = ["src/a.swift", "src/b.swift", "docs/c.md"]
    static let reviewers = ["v0@example.com", "v1@example.com", "v2@example.com"]

    @Test("400 random filter combinations over 300 checkpoints match the model exactly, in log order")
    func randomCombinations() throws {
        var rng = SeededGenerator(seed: 0x5EED_CA1B)
        let f = try ProvenanceFixture()
        let base = Timestamp.parse("2026-11-20T00:00:00Z")!
        var model: [Model] = []
        var records: [JSONValue] = []
        for i in 0..<300 {
            let outputs = (0..<Int.random(in: 1...2, using: &rng)).map { _ -> Output in
                let start = UInt32.random(in: 1...60, using: &rng)
                return Output(
                    repo: Self.repos.randomElement(using: &rng)!, commit: Self.commits.randomElement(using: &rng)!,
                    path: Self.paths.randomElement(using: &rng)!,
                    range: start...(start + UInt32.random(in: 0...9, using: &rng)))
            }
            let entry = Model(
                modelID: Self.models.randomElement(using: &rng)!,
                requester: Self.requesters.randomElement(using: &rng)!,
                tool: Self.tools.randomElement(using: &rng)!, workItem: Self.workItems.randomElement(using: &rng)!,
                outputs: outputs, milliseconds: base + Int64(i) * 60_000)
            model.append(entry)
            var object: JSONObject = [
                "type": "checkpoint", "schema": 1, "id": .string("c\(i)"),
                "timestamp": .string(Timestamp.format(entry.milliseconds)), "requested_by": .string(entry.requester),
                "tool_path": .string(entry.tool),
                "model": ["id": .string(entry.modelID), "version": "1", "provider": "example"], "prompt": "p",
                "outputs": .array(
                    outputs.map {
                        [
                            "repo": .string($0.repo), "commit": .string($0.commit), "path": .string($0.path),
                            "ranges": [[.number(Double($0.range.lowerBound)), .number(Double($0.range.upperBound))]],
                            "content_hash": .string("sha256:" + String(repeating: "c", count: 64)),
                            "contributor": "ai",
                        ]
                    }),
            ]
            if let item = entry.workItem { object["work_item"] = .string(item) }
            records.append(.object(object))
        }
        try f.ledger.append(try records.map(f.prepare))

        // Reviews of about 40 % of them, corrections of the model of about 10 %, and one rewrite.
        var later: [JSONValue] = []
        for i in 0..<model.count where Double.random(in: 0..<1, using: &rng) < 0.4 {
            let reviewer = Self.reviewers.randomElement(using: &rng)!
            model[i].reviewers.insert(reviewer)
            later.append(review("c\(i)", by: reviewer, at: Timestamp.format(base + 86_400_000)))
        }
        for i in 0..<model.count where Double.random(in: 0..<1, using: &rng) < 0.1 {
            let corrected = Self.models.randomElement(using: &rng)!
            model[i].modelID = corrected
            later.append(correction(of: try f.digest(UInt64(i)), patch: ["model": ["id": .string(corrected)]]))
        }
        later.append([
            "type": "rewrite", "schema": 1, "old_commit": .string(Self.commits[0]),
            "new_commit": .string(Self.rewritten),
            "kind": "rebase", "at": .string(Timestamp.format(base + 86_400_000)),
        ])
        try f.ledger.append(try later.map(f.prepare))

        var checked = 0
        var nonEmpty = 0
        for _ in 0..<400 {
            var query = RecordQuery()
            func maybe<T>(_ values: [T]) -> T? {
                Double.random(in: 0..<1, using: &rng) < 0.35 ? values.randomElement(using: &rng) : nil
            }
            query.model = maybe(Self.models + ["m-none"])
            query.requestedBy = maybe(Self.requesters)
            query.toolPath = maybe(Self.tools + ["chat"])
            query.workItem = maybe(["W-0", "W-1"])
            query.repo = maybe(Self.repos)
            query.commit = maybe(Self.commits + [Self.rewritten])
            query.reviewer = maybe(Self.reviewers)
            query.path = maybe(Self.paths)
            if query.path != nil, let start = maybe(Array(UInt32(1)...70)) {
                query.lines = start...(start + UInt32.random(in: 0...5, using: &rng))
            }
            query.unreviewed = Double.random(in: 0..<1, using: &rng) < 0.15
            if let minute = maybe(Array(0..<300)) { query.since = base + Int64(minute) * 60_000 }
            if let minutes = maybe(Array(1..<300)) { query.until = (query.since ?? base) + Int64(minutes) * 60_000 }
            query.limit = maybe([1, 3, 10])

            let expected = model.indices.filter { i in
                let m = model[i]
                if let v = query.model, m.modelID != v { return false }
                if let v = query.requestedBy, m.requester != v { return false }
                if let v = query.toolPath, m.tool != v { return false }
                if let v = query.workItem, m.workItem != v { return false }
                if let v = query.repo, !m.outputs.contains(where: { $0.repo == v }) { return false }
                if let v = query.commit {
                    let alias = v == Self.rewritten ? Self.commits[0] : v
                    if !m.outputs.contains(where: { $0.commit == v || $0.commit == alias }) { return false }
                }
                if let v = query.reviewer, !m.reviewers.contains(v) { return false }
                if query.unreviewed, !m.reviewers.isEmpty { return false }
                if let path = query.path {
                    let touched = m.outputs.contains { output in
                        output.path == path && (query.lines.map { output.range.overlaps($0) } ?? true)
                    }
                    if !touched { return false }
                }
                if let since = query.since, m.milliseconds < since { return false }
                if let until = query.until, m.milliseconds >= until { return false }
                return true
            }.map { UInt64($0) }.prefix(query.limit ?? .max)
            let found = try f.ledger.query(query).map(\.index)
            #expect(found == Array(expected), "query \(query)")
            // Streamed, a consumer that stops after two gets exactly the first two.
            var streamed: [UInt64] = []
            try f.ledger.read { snapshot in
                try snapshot.query(query) { match in
                    streamed.append(match.index)
                    return streamed.count < 2
                }
            }
            #expect(streamed == Array(expected.prefix(2)), "streamed query \(query)")
            checked += 1
            if !expected.isEmpty { nonEmpty += 1 }
        }
        // The combinations are not vacuous: many of them match something.
        #expect(checked == 400 && nonEmpty > 100, "\(nonEmpty) of \(checked) queries matched")
    }
}

@Suite("Query planner: the leapfrog intersection")
struct LeapfrogTests {
    /// A posting list in memory that counts its seeks; with a density, a long list (counted only up to the bound,
    /// with that density in its counted part).
    final class Sorted: PostingSource {
        let entries: [UInt64]
        let density: Double?
        var seeks = 0
        init(_ entries: [UInt64], density: Double? = nil) {
            self.entries = entries
            self.density = density
        }
        var estimate: Int { density == nil ? entries.count : PostingList.countedAtMost }
        func first(atLeast index: UInt64) throws -> UInt64? {
            seeks += 1
            return entries.first { $0 >= index }
        }
    }

    @Test("The intersection of 1 to 4 random lists is their set intersection, in order; limits stop it")
    func intersection() throws {
        var rng = SeededGenerator(seed: 0x1EAF_F0C5)
        for _ in 0..<300 {
            let lists = (0..<Int.random(in: 1...4, using: &rng)).map { _ in
                let density = Double.random(in: 0.05...0.9, using: &rng)
                return Sorted((0..<UInt64(200)).filter { _ in Double.random(in: 0..<1, using: &rng) < density })
            }
            let expected = lists.dropFirst().reduce(Set(lists[0].entries)) { $0.intersection($1.entries) }.sorted()
            var found: [UInt64] = []
            try QueryPlan(lists).intersect {
                found.append($0)
                return true
            }
            #expect(found == expected)
            let limit = Int.random(in: 1...5, using: &rng)
            var limited: [UInt64] = []
            try QueryPlan(lists).intersect {
                limited.append($0)
                return limited.count < limit
            }
            #expect(limited == Array(expected.prefix(limit)))
        }
    }

    @Test("Long lists rank by density, and a broad one is left out when a sparser one leads (a superset results)")
    func broadListsAreLeftOut() throws {
        let everything = Sorted(Array(0..<10_000), density: 1)
        let mostly = Sorted((0..<10_000).filter { $0 % 10 != 0 }, density: 0.9)
        let third = Sorted((0..<10_000).filter { $0 % 3 == 0 }, density: 1.0 / 3)
        let seventh = Sorted((0..<10_000).filter { $0 % 7 == 0 }, density: 1.0 / 7)
        let plan = QueryPlan([everything, third, mostly, seventh])
        #expect(plan.lists.map { ObjectIdentifier($0) } == [ObjectIdentifier(seventh), ObjectIdentifier(third)])
        var found: [UInt64] = []
        try plan.intersect {
            found.append($0)
            return true
        }
        // Multiples of 21, including those `mostly` lacks: the caller checks every filter on each entry.
        #expect(found == (0..<10_000).filter { $0 % 21 == 0 })
        #expect(everything.seeks == 0 && mostly.seeks == 0)
        // Alone, a broad list still leads: something must.
        #expect(QueryPlan([everything]).lists.count == 1)
    }

    @Test("The shortest list leads: a one-entry list against a long one costs a few seeks, not the long one's length")
    func shortestLeads() throws {
        let long = Sorted(Array(0..<100_000))
        let short = Sorted([77_777])
        var found: [UInt64] = []
        try QueryPlan([long, short]).intersect {
            found.append($0)
            return true
        }
        #expect(found == [77_777])
        #expect(long.seeks + short.seeks <= 4, "\(long.seeks) + \(short.seeks) seeks")
    }
}

@Suite("Query: entries about matching checkpoints, with a limit")
struct QueryTypeLimitTests {
    @Test("--type review --limit 1 gives the first review in log order, not the first checkpoint's review")
    func firstInLogOrder() throws {
        let f = try ProvenanceFixture()
        try f.append(
            checkpoint(id: "early", model: "m"), checkpoint(id: "late", model: "m"),
            review("late", by: "a@example.com"), review("early", by: "b@example.com"))
        var query = RecordQuery()
        query.type = .review
        query.model = "m"
        query.limit = 1
        #expect(try f.ledger.query(query).map(\.index) == [2])
        query.limit = nil
        #expect(try f.ledger.query(query).map(\.index) == [2, 3])
    }
}

@Suite("Query planner on long posting lists")
struct LongPostingListTests {
    @Test("Filters whose lists are longer than the counting bound, broad or not, give exactly the matching checkpoints")
    func broadAndSparseLongLists() throws {
        let f = try ProvenanceFixture()
        let count = PostingList.countedAtMost + 500
        let people = ["a@example.com", "b@example.com", "c@example.com"]
        var records: [JSONValue] = []
        for i in 0..<count {
            // Every checkpoint names model "m" (a broad list); people and repositories take turns (sparser lists),
            // and one in 50 uses another model, past the counted part of the model's list.
            records.append(
                checkpoint(
                    id: "c\(i)", by: people[i % 3], model: i > 4200 && i % 50 == 0 ? "other" : "m",
                    repo: "git@example.com:team\(i % 4)/svc.git"))
        }
        _ = try f.ledger.append(try records.map(f.prepare))
        func other(_ i: Int) -> Bool { i > 4200 && i % 50 == 0 }
        func expected(_ keep: (Int) -> Bool) -> [UInt64] { (0..<count).filter(keep).map(UInt64.init) }

        let mByB = try f.indexes { query in
            query.model = "m"
            query.requestedBy = people[1]
        }
        #expect(mByB == expected { $0 % 3 == 1 && !other($0) })
        let fourFilters = try f.indexes { query in
            query.model = "m"
            query.repo = "git@example.com:team2/svc.git"
            query.requestedBy = people[0]
            query.unreviewed = true
        }
        #expect(fourFilters == expected { $0 % 3 == 0 && $0 % 4 == 2 && !other($0) })
        let otherByC = try f.indexes { query in
            query.model = "other"
            query.requestedBy = people[2]
        }
        #expect(otherByC == expected { $0 % 3 == 2 && other($0) })
    }
}

@Suite("Query rows written from stored bytes")
struct QueryRowBytesTests {
    @Test("jsonBytes is JSONWriter.compactBytes(json), byte for byte: corrected, non-ASCII, reviewed, every type")
    func sameBytes() throws {
        let f = try ProvenanceFixture()
        try f.append(
            checkpoint(
                id: "c1", extra: ["prompt": "Añade reintentos \u{202E}txt.exe — 🚀 \"quoted\" \\ \n", "x_n": 1.5e-7]),
            checkpoint(id: "c2", model: "m2", extra: ["request_id": "req_1", "x_big": 9_007_199_254_740_991]),
            review("c1", by: "zoë@example.com"),
            lifecycle(
                "deploy", "c2", at: "2026-11-21T10:00:00.123Z",
                ["environment": "prod", "git_commit": .string(String(repeating: "a", count: 40)), "branch": "main"]))
        try f.append(correction(of: try f.digest(0), patch: ["work_item": "PAY-9", "x_n": .null]))
        var matches: [QueryMatch] = []
        for type in [RecordType.checkpoint, .review, .deploy, .correction] {
            var query = RecordQuery()
            query.type = type
            matches += try f.ledger.query(query)
        }
        #expect(matches.count == 5)
        #expect(matches.contains { $0.index == 0 && $0.record["work_item"]?.stringValue == "PAY-9" })
        for match in matches {
            #expect(match.jsonBytes == JSONWriter.compactBytes(match.json), "entry \(match.index)")
            #expect(match.digest == SHA256.hash(try f.ledger.entry(at: match.index)), "entry \(match.index)")
        }
    }
}
