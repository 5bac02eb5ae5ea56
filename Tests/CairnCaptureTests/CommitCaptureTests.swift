import CairnJSON
import CairnProofs
import CairnRecords
import CairnTestSupport
import Foundation
import Testing

@testable import CairnCommitCapture

/// The commit-time half of capture, unit by unit: the line diff, line attribution, working-log events, the
/// checkpoint records `post-commit` plans, model names, rewrite records, cherry-pick messages, git blame's
/// porcelain output and line-bundle parsing.
@Suite struct CommitCaptureTests {
    // MARK: - Helpers

    static let commitA = String(repeating: "a", count: 40)
    static let commitB = String(repeating: "b", count: 40)
    static let origin = "https://example.com/team/app.git"

    static func substrings(_ lines: [String]) -> [Substring] { lines.map { Substring($0) } }

    /// The length of a longest common subsequence, by the textbook table.
    static func lcsLength(_ a: [String], _ b: [String]) -> Int {
        guard !a.isEmpty, !b.isEmpty else { return 0 }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        return table[0][0]
    }

    /// Whether the middle of `old` and `new` (after their common prefix and suffix) has a line occurring exactly
    /// once on each side: a patience anchor. Without one the diff must be an exact LCS.
    static func hasUniqueAnchor(_ old: [String], _ new: [String]) -> Bool {
        var (a, b) = (0, 0)
        var (aEnd, bEnd) = (old.count, new.count)
        while a < aEnd, b < bEnd, old[a] == new[b] {
            a += 1
            b += 1
        }
        while aEnd > a, bEnd > b, old[aEnd - 1] == new[bEnd - 1] {
            aEnd -= 1
            bEnd -= 1
        }
        guard a < aEnd, b < bEnd else { return false }
        var oldCounts: [String: Int] = [:]
        var newCounts: [String: Int] = [:]
        for line in old[a..<aEnd] { oldCounts[line, default: 0] += 1 }
        for line in new[b..<bEnd] { newCounts[line, default: 0] += 1 }
        return oldCounts.contains { $0.value == 1 && newCounts[$0.key] == 1 }
    }

    static func pairs(_ matches: [(old: Int, new: Int)]) -> [[Int]] { matches.map { [$0.old, $0.new] } }

    /// One working-log line as `WorkingLog` writes it (members in its order, absent ones left out).
    static func logLine(
        at: String, agent: String = "claude-code", event: String, hook: String? = nil, session: String?,
        model: String? = "claude-sonnet-4-5-20250929", prompt: String? = nil, message: String? = nil,
        edits: [[(String, String)]] = []
    ) -> [UInt8] {
        var members: [(String, JSONValue)] = [
            ("v", .number(1)), ("at", .string(at)), ("agent", .string(agent)), ("event", .string(event)),
            ("hook", .string(hook ?? (event == "prompt" ? "UserPromptSubmit" : "PostToolUse"))),
            ("grade", .string("hook")),
        ]
        if let session { members.append(("session", .string(session))) }
        if let model { members.append(("model", .string(model))) }
        if let prompt { members.append(("prompt", .string(prompt))) }
        if let message { members.append(("message", .string(message))) }
        if !edits.isEmpty {
            members.append(
                ("edits", .array(edits.map { .object(JSONObject($0.map { ($0.0, JSONValue.string($0.1)) })) })))
        }
        return JSONWriter.compactBytes(.object(JSONObject(members)))
    }

    /// The events of a working log, as the hooks read them (each at its line's position).
    static func events(_ lines: [[UInt8]]) -> [WorkingEvent] {
        lines.enumerated().compactMap { WorkingEvent(line: $1, position: $0) }
    }

    static func time(_ minute: Int) -> String { "2026-12-07T10:\(minute < 10 ? "0" : "")\(minute):00Z" }

    static func settings(_ extra: [String: String] = [:]) -> CommitRecorder.Settings {
        var config = ["user.email": "dev@example.com", "user.name": "Dev", "remote.origin.url": origin]
        for (key, value) in extra { config[key] = value }
        return CommitRecorder.Settings(config: config, root: "/src/app")
    }

    static func json(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    // MARK: - LineDiff

    @Test("LineDiff: identical inputs match line for line; both empty, or one side empty, match nothing")
    func diffIdenticalAndEmpty() {
        let lines = ["a", "b", "c", "b"]
        #expect(Self.pairs(LineDiff.matches(lines, lines)) == [[0, 0], [1, 1], [2, 2], [3, 3]])
        #expect(LineDiff.newToOld(lines, lines) == [0, 1, 2, 3])
        #expect(LineDiff.matches([String](), []).isEmpty)
        #expect(LineDiff.newToOld([String](), []).isEmpty)
        #expect(LineDiff.newToOld([], ["a", "b"]) == [nil, nil])
        #expect(LineDiff.matches(["a", "b"], []).isEmpty)
        #expect(LineDiff.newToOld(["a", "b"], []).isEmpty)
    }

    @Test("LineDiff: an insertion at the start, in the middle or at the end leaves only the new line unmatched")
    func diffInsertions() {
        let old = ["one", "two", "three"]
        #expect(LineDiff.newToOld(old, ["new", "one", "two", "three"]) == [nil, 0, 1, 2])
        #expect(LineDiff.newToOld(old, ["one", "new", "two", "three"]) == [0, nil, 1, 2])
        #expect(LineDiff.newToOld(old, ["one", "two", "three", "new"]) == [0, 1, 2, nil])
        #expect(LineDiff.newToOld(old, ["one", "x", "y", "two", "three", "z"]) == [0, nil, nil, 1, 2, nil])
    }

    @Test("LineDiff: deleted lines are skipped on the old side; a changed line is unmatched")
    func diffDeletions() {
        let old = ["a", "b", "c", "d", "e"]
        #expect(Self.pairs(LineDiff.matches(old, ["a", "c", "d"])) == [[0, 0], [2, 1], [3, 2]])
        #expect(LineDiff.newToOld(old, ["b", "c", "d", "e"]) == [1, 2, 3, 4])
        #expect(LineDiff.newToOld(old, ["a", "b", "C", "d", "e"]) == [0, 1, nil, 3, 4])
    }

    @Test("LineDiff: a moved block: the longest run of unique lines anchors, the moved lines are new")
    func diffMovedBlock() {
        // e, f moved to the front: a-d (four anchors) beat e, f (two); g is a common suffix.
        let old = ["a", "b", "c", "d", "e", "f", "g"]
        #expect(LineDiff.newToOld(old, ["e", "f", "a", "b", "c", "d", "g"]) == [nil, nil, 0, 1, 2, 3, 6])
        // Unique lines win over repeated ones: a plain LCS would match the three "}" lines instead of U1, U2.
        let patience = LineDiff.newToOld(["U1", "U2", "}", "}", "}"], ["}", "}", "}", "U1", "U2"])
        #expect(patience == [nil, nil, nil, 0, 1])
        // Anchors A and B split the rest into gaps diffed on their own: the "x" before A cannot match an "x" after
        // it (a plain LCS could match x, x, B, C just as well).
        let gaps = LineDiff.newToOld(["A", "x", "x", "B", "C"], ["x", "A", "x", "B", "x", "C"])
        #expect(gaps == [nil, 0, 1, 3, nil, 4])
    }

    @Test("LineDiff: repeated lines without unique anchors take the exact LCS")
    func diffRepeatedLines() {
        let old = ["x", "y", "x", "y", "x"]
        let new = ["y", "x", "y", "x", "y"]
        let matches = LineDiff.matches(old, new)
        #expect(matches.count == Self.lcsLength(old, new))
        #expect(matches.count == 4)
        for match in matches { #expect(old[match.old] == new[match.new]) }
        #expect(zip(matches, matches.dropFirst()).allSatisfy { $0.old < $1.old && $0.new < $1.new })
    }

    @Test("LineDiff: a gap over maxTableCells is left unmatched (prefix and suffix still match); at the limit, LCS")
    func diffTableLimit() {
        // 3000 × 3000 non-unique lines: 9,000,000 cells > maxTableCells.
        let old = ["head"] + [String](repeating: "", count: 1500).flatMap { _ in ["x", "y"] } + ["tail"]
        let new = ["head"] + [String](repeating: "", count: 1500).flatMap { _ in ["y", "x"] } + ["tail"]
        #expect(3000 * 3000 > LineDiff.maxTableCells)
        let matches = LineDiff.matches(old, new)
        #expect(Self.pairs(matches) == [[0, 0], [3001, 3001]])
        let map = LineDiff.newToOld(old, new)
        #expect(map.count == new.count && map.first == 0 && map.last == 3001)
        #expect(map.dropFirst().dropLast().allSatisfy { $0 == nil })

        // 2000 × 2000 = maxTableCells exactly: diffed. The LCS of xyxy… and yxyx… of length n is n - 1.
        let small = [String](repeating: "", count: 1000).flatMap { _ in ["x", "y"] }
        let smallNew = [String](repeating: "", count: 1000).flatMap { _ in ["y", "x"] }
        #expect(small.count * smallNew.count == LineDiff.maxTableCells)
        let diffed = LineDiff.matches(small, smallNew)
        #expect(diffed.count == 1999)
        #expect(diffed.allSatisfy { small[$0.old] == smallNew[$0.new] })
    }

    @Test(
        "LineDiff property: matches increase on both sides, pair equal lines, are maximal, and are an LCS without anchors"
    )
    func diffProperty() {
        var random = SeededGenerator(seed: 0xCA12_2026)
        let alphabet = ["a", "b", "c", "d"]
        var lcsCases = 0
        for _ in 0..<200 {
            let old = (0..<Int.random(in: 0...10, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            let new = (0..<Int.random(in: 0...10, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            let matches = LineDiff.matches(old, new)
            let label = "\(old) → \(new): \(Self.pairs(matches))"
            #expect(
                zip(matches, matches.dropFirst()).allSatisfy { $0.old < $1.old && $0.new < $1.new }, "\(label)")
            #expect(matches.allSatisfy { old[$0.old] == new[$0.new] }, "\(label)")
            // A patience diff is not an LCS in general (unique lines anchor first, e.g. [A, x, x, B] → [B, x, x, A]
            // matches one line, not two): at most the LCS, and exactly it when the middle has no anchor.
            let best = Self.lcsLength(old, new)
            #expect(matches.count <= best, "\(label)")
            // Maximal: no pair of equal unmatched lines could be added without crossing a match.
            let matchedOld = Set(matches.map(\.old))
            let matchedNew = Set(matches.map(\.new))
            for i in old.indices where !matchedOld.contains(i) {
                for j in new.indices where !matchedNew.contains(j) && old[i] == new[j] {
                    let before = matches.filter { $0.old < i }.count
                    #expect(before != matches.filter { $0.new < j }.count, "(\(i), \(j)) could be added: \(label)")
                }
            }
            if !Self.hasUniqueAnchor(old, new) {
                lcsCases += 1
                #expect(matches.count == best, "\(label)")
            }
            var map = [Int?](repeating: nil, count: new.count)
            for match in matches { map[match.new] = match.old }
            #expect(LineDiff.newToOld(old, new) == map, "\(label)")
        }
        #expect(lcsCases >= 50)
    }

    // MARK: - LineAttribution

    @Test("LineAttribution: parent lines nil, agent lines ai, an edited agent line mixed, other lines human")
    func attributeKinds() {
        let committed = Self.substrings([
            "import math",
            "def fact(n):",
            "    if n < 2:",
            "        return 1",
            "    return n * fact(n-1)  # recursion",
            "print('hello world')",
        ])
        let wrote = Self.substrings([
            "def fact(n):", "    if n < 2:", "        return 1", "    return n * fact(n - 1)",
        ])
        let result = LineAttribution.attribute(
            committed: committed, parent: Self.substrings(["import math"]), sessions: [wrote])
        #expect(
            result == [
                nil,
                .init(session: 0, contributor: .ai),
                .init(session: 0, contributor: .ai),
                .init(session: 0, contributor: .ai),
                .init(session: 0, contributor: .mixed),
                .init(session: nil, contributor: .human),
            ])
        // No session at all: every added line is a person's.
        #expect(
            LineAttribution.attribute(committed: committed, parent: [], sessions: [])
                == [LineAttribution.Line?](repeating: .init(session: nil, contributor: .human), count: 6))
        // Lines shorter than four characters are never "edited agent lines".
        #expect(
            LineAttribution.attribute(
                committed: Self.substrings(["ab"]), parent: [], sessions: [Self.substrings(["abc"])])
                == [.init(session: nil, contributor: .human)])
    }

    @Test("LineAttribution: trailing spaces, tabs and carriage returns are ignored, in the parent and in sessions")
    func attributeWhitespace() {
        let result = LineAttribution.attribute(
            committed: Self.substrings(["keep = 1", "value = compute()  \t\r", "other = 2\r"]),
            parent: Self.substrings(["keep = 1\r"]),
            sessions: [Self.substrings(["value = compute()", "other = 2   "])])
        #expect(result == [nil, .init(session: 0, contributor: .ai), .init(session: 0, contributor: .ai)])
        // Leading white space is not trailing: a re-indented agent line is the agent's, edited.
        let indented = LineAttribution.attribute(
            committed: Self.substrings(["        value = compute()"]), parent: [],
            sessions: [Self.substrings(["value = compute()"])])
        #expect(indented == [.init(session: 0, contributor: .mixed)])
    }

    @Test("LineAttribution: each session gets its own lines; a line two sessions wrote goes to the first")
    func attributeSessions() {
        let result = LineAttribution.attribute(
            committed: Self.substrings(["alpha_line = 1", "beta_line = 2", "shared_line = 3", "beta_line = 22"]),
            parent: [],
            sessions: [
                Self.substrings(["alpha_line = 1", "shared_line = 3"]),
                Self.substrings(["shared_line = 3", "beta_line = 2"]),
            ])
        #expect(
            result == [
                .init(session: 0, contributor: .ai),
                .init(session: 1, contributor: .ai),
                .init(session: 0, contributor: .ai),
                // Closest to session 1's "beta_line = 2".
                .init(session: 1, contributor: .mixed),
            ])
    }

    @Test("LineAttribution.ranges: consecutive line numbers as 1-based inclusive ranges, in order")
    func attributionRanges() {
        #expect(LineAttribution.ranges([1, 2, 3, 5, 7, 8]) == [[1, 3], [5, 5], [7, 8]])
        #expect(LineAttribution.ranges([8, 7, 1, 3, 2]) == [[1, 3], [7, 8]])
        #expect(LineAttribution.ranges([4]) == [[4, 4]])
        #expect(LineAttribution.ranges([]).isEmpty)
        #expect(LineAttribution.Contributor.ai < .mixed && LineAttribution.Contributor.mixed < .human)
    }

    // MARK: - WorkingEvent

    @Test("WorkingEvent: a version-1 line's members, edits without a file skipped, the session key")
    func workingEventParses() throws {
        let line = #"""
            {"v":1,"at":"2026-12-07T10:00:00.120Z","agent":"claude-code","event":"edit","hook":"PostToolUse",\#
            "grade":"hook","session":"s1","model":"claude-sonnet-4-5-20250929","tool":"Edit","prompt":"do it",\#
            "message":"done","edits":[{"file":"a.py","content":"x\n"},{"file":"b.py","old":"a","new":"b"},\#
            {"file":"","content":"no file"},{"content":"no file either"}]}
            """#
        let event = try #require(WorkingEvent(line: Array(line.utf8), position: 7))
        #expect(event.position == 7)
        #expect(event.at == "2026-12-07T10:00:00.120Z")
        #expect(event.agent == "claude-code" && event.event == "edit" && event.hook == "PostToolUse")
        #expect(event.session == "s1" && event.sessionKey == "s1")
        #expect(event.model == "claude-sonnet-4-5-20250929" && event.tool == "Edit")
        #expect(event.prompt == "do it" && event.message == "done")
        #expect(
            event.edits == [
                .init(file: "a.py", content: "x\n", old: nil, new: nil),
                .init(file: "b.py", content: nil, old: "a", new: "b"),
            ])

        // Optional members absent: the hook defaults to the event, the session to the agent's anonymous one.
        let bare = try #require(
            WorkingEvent(line: Array(#"{"v":1,"at":"t","agent":"codex","event":"stop"}"#.utf8), position: 0))
        #expect(bare.hook == "stop" && bare.session == nil && bare.sessionKey == "codex:no-session")
        #expect(bare.model == nil && bare.prompt == nil && bare.edits.isEmpty)
    }

    @Test("WorkingEvent: other versions, non-JSON and lines missing at, agent or event are skipped (nil)")
    func workingEventRejects() {
        let rejected = [
            #"{"v":2,"at":"t","agent":"a","event":"edit"}"#,
            #"{"v":"1","at":"t","agent":"a","event":"edit"}"#,
            #"{"at":"t","agent":"a","event":"edit"}"#,
            #"{"v":1,"agent":"a","event":"edit"}"#,
            #"{"v":1,"at":"t","event":"edit"}"#,
            #"{"v":1,"at":"t","agent":"a"}"#,
            #"{"v":1,"at":1,"agent":"a","event":"edit"}"#,
            #"[1,2,3]"#,
            #""v""#,
            "not json",
            #"{"v":1,"at":"t","agent":"a","event":"edit""#,
            "",
        ]
        for text in rejected {
            #expect(WorkingEvent(line: Array(text.utf8), position: 0) == nil, "\(text)")
        }
        #expect(WorkingEvent(line: [0xFF, 0xFE, 0x7B], position: 0) == nil)
    }

    @Test("Edit.writtenLines: a write's lines (final newline ends the last), an edit's new lines without kept context")
    func writtenLines() {
        typealias Edit = WorkingEvent.Edit
        #expect(Edit(file: "f", content: "a\nb\n", old: nil, new: nil).writtenLines == ["a", "b"])
        #expect(Edit(file: "f", content: "a\n\nb", old: nil, new: nil).writtenLines == ["a", "", "b"])
        #expect(Edit(file: "f", content: "", old: nil, new: nil).writtenLines == [])
        #expect(Edit(file: "f", content: nil, old: "a\nb", new: "a\nX\nb").writtenLines == ["X"])
        #expect(Edit(file: "f", content: nil, old: "a\nb\n", new: "a\nX\nb\nY\n").writtenLines == ["X", "Y"])
        // Context is a multiset: a line kept once is removed once.
        #expect(Edit(file: "f", content: nil, old: "x\nx", new: "x\nx\nx").writtenLines == ["x"])
        // Without old, an edit's new text is all new; a write ignores old.
        #expect(Edit(file: "f", content: nil, old: nil, new: "p\nq").writtenLines == ["p", "q"])
        #expect(Edit(file: "f", content: "a\nb", old: "a", new: nil).writtenLines == ["a", "b"])
    }

    // MARK: - CommitRecorder

    static let factWrite = "def fact(n):\n    if n < 2:\n        return 1\n"
    static let committedA =
        "import math\ndef fact(n):\n    if n < 2:\n        return 1\n"
        + "    return n * fact(n-1)  # recursion\nprint('hello world')\n"
    static let committedB = "def greet():\n    print('hi')\n"
    static let hashA = "sha256:ea8c731fdc54f151a0b4e96bc2190fadcf16a275e9ed107c29de8589ee41e7e2"
    static let hashB = "sha256:0ff3f2b60de356b6df30be116d36de18ced7b018f472529c90b4cb16c0e6e137"

    /// Two sessions: s1 (Claude Code) writes a.py and then appends to it, s2 (Codex) writes b.py. The commit has s1's
    /// lines (one of them edited by a person), a line of the parent and one of a person.
    static func twoSessions() -> [WorkingEvent] {
        events([
            logLine(at: time(0), event: "prompt", session: "s1", prompt: "write a factorial"),
            logLine(at: time(1), event: "edit", session: "s1", edits: [[("file", "a.py"), ("content", factWrite)]]),
            logLine(at: time(2), event: "stop", hook: "Stop", session: "s1", message: "I wrote fact."),
            logLine(
                at: time(3), agent: "codex", event: "prompt", session: "s2", model: "gpt-5-codex",
                prompt: "write greet"),
            logLine(
                at: time(4), agent: "codex", event: "edit", session: "s2", model: "gpt-5-codex",
                edits: [[("file", "b.py"), ("content", committedB)]]),
            logLine(at: time(5), event: "prompt", session: "s1", prompt: "add the recursive case"),
            logLine(
                at: time(6), event: "edit", session: "s1",
                edits: [
                    [
                        ("file", "a.py"), ("old", "        return 1\n"),
                        ("new", "        return 1\n    return n * fact(n - 1)\n"),
                    ]
                ]),
            // A new prompt after s1's last committed edit: the next turn, not this commit's.
            logLine(at: time(7), event: "prompt", session: "s1", prompt: "now memoize it"),
        ])
    }

    static func planTwoSessions(_ settings: CommitRecorder.Settings) -> CommitRecorder.Plan {
        var issued = 0
        return CommitRecorder.plan(
            events: twoSessions(), commit: commitA, changed: ["a.py", "b.py", "README.md"],
            files: [
                "a.py": .init(committed: Array(committedA.utf8), parent: Array("import math\n".utf8)),
                "b.py": .init(committed: Array(committedB.utf8), parent: nil),
            ],
            settings: settings, ids: ["s1": "ckpt-s1", "s9": "unused"],
            newID: {
                issued += 1
                return "new-\(issued)"
            })
    }

    @Test("CommitRecorder.plan: one checkpoint per session, outputs by contributor with ranges and hashes")
    func planRecords() throws {
        let plan = Self.planTwoSessions(Self.settings())
        #expect(plan.checkpoints.map { "\($0.id) \($0.session)" } == ["ckpt-s1 s1", "new-1 s2"])
        #expect(plan.keep == [7])  // s1's next prompt, after its last committed edit
        #expect(plan.records.count == 2)
        let output = { (path: String, ranges: String, hash: String, contributor: String) in
            #"{"repo":"\#(Self.origin)","commit":"\#(Self.commitA)","path":"\#(path)","ranges":\#(ranges),"#
                + #""content_hash":"\#(hash)","contributor":"\#(contributor)"}"#
        }
        let first = try Self.json(
            #"""
            {"type":"checkpoint","schema":1,"id":"ckpt-s1","timestamp":"2026-12-07T10:06:00Z",
             "requested_by":"dev@example.com","tool_path":"agent",
             "model":{"id":"claude-sonnet-4-5-20250929","version":"20250929","release_date":"2025-09-29",
                      "provider":"anthropic"},
             "prompt":"add the recursive case",
             "outputs":[\#(output("a.py", "[[2,4]]", Self.hashA, "ai")),
                        \#(output("a.py", "[[5,5]]", Self.hashA, "mixed")),
                        \#(output("a.py", "[[6,6]]", Self.hashA, "human"))],
             "session_id":"s1",
             "x_capture":{"grade":"hook","agent":"claude-code","tier":"light"}}
            """#)
        #expect(plan.records.first == first)
        let second = try Self.json(
            #"""
            {"type":"checkpoint","schema":1,"id":"new-1","timestamp":"2026-12-07T10:04:00Z",
             "requested_by":"dev@example.com","tool_path":"agent",
             "model":{"id":"gpt-5-codex","version":"gpt-5-codex","provider":"openai"},
             "prompt":"write greet",
             "outputs":[\#(output("b.py", "[[1,2]]", Self.hashB, "ai"))],
             "session_id":"s2",
             "x_capture":{"grade":"hook","agent":"codex","tier":"light"}}
            """#)
        #expect(plan.records.last == second)
        for record in plan.records {
            #expect(RecordValidator.issues(in: record).map(\.description) == [])
        }
    }

    @Test("CommitRecorder.plan: at fullRecordLines agent lines the record is full: turns and raw output")
    func planFullByLines() throws {
        // s1 has four agent lines (three ai, one mixed), s2 two: only s1 reaches 3.
        let plan = Self.planTwoSessions(Self.settings(["cairn.fullrecordlines": "3"]))
        let first = try #require(plan.records.first)
        let second = try #require(plan.records.last)
        #expect(first["x_capture"]?["tier"] == .string("full"))
        #expect(second["x_capture"]?["tier"] == .string("light"))
        #expect(second["turns"] == nil && second["raw_output"] == nil)
        #expect(
            first["turns"]
                == (try Self.json(
                    #"""
                    [{"role":"user","content":"write a factorial","at":"2026-12-07T10:00:00Z"},
                     {"role":"assistant","content":"I wrote fact.","at":"2026-12-07T10:02:00Z"},
                     {"role":"user","content":"add the recursive case","at":"2026-12-07T10:05:00Z"}]
                    """#)))
        let raw = try #require(first["raw_output"]?.stringValue)
        #expect(raw.hasPrefix("--- a.py (written)\n" + Self.factWrite))
        #expect(raw.contains("--- a.py (edited)\n-        return 1\n"))
        #expect(raw.contains("+        return 1\n+    return n * fact(n - 1)\n"))
        #expect(!raw.contains("b.py") && !raw.contains("greet"))
        #expect(RecordValidator.issues(in: first).map(\.description) == [])
    }

    /// One Claude Code session writing `content` to `path` (committed as written, a new file) after `prompt`.
    static func planOneSession(
        path: String = "src/db.py", prompt: String? = "write it", content: String = "host = 'db'\nport = 5432\n",
        settings: CommitRecorder.Settings = settings(), model: String? = "claude-sonnet-4-5-20250929",
        hook: String? = nil
    ) -> CommitRecorder.Plan {
        var lines: [[UInt8]] = []
        if let prompt {
            lines.append(logLine(at: time(0), event: "prompt", session: "s1", model: model, prompt: prompt))
        }
        lines.append(
            logLine(
                at: time(1), event: "edit", hook: hook, session: "s1", model: model,
                edits: [[("file", path), ("content", content)]]))
        return CommitRecorder.plan(
            events: events(lines), commit: commitA, changed: [path],
            files: [path: .init(committed: Array(content.utf8), parent: nil)], settings: settings, ids: [:],
            newID: { "id-1" })
    }

    @Test("CommitRecorder.plan: a light record truncates a long prompt and says so; a full one keeps it whole")
    func planPromptTruncation() throws {
        let long = String(repeating: "p", count: 2500)
        let light = try #require(Self.planOneSession(prompt: long).records.first)
        #expect(light["prompt"] == .string(String(repeating: "p", count: 2000) + "…"))
        #expect(light["x_capture"]?["prompt_truncated"] == .bool(true))
        #expect(light["x_capture"]?["tier"] == .string("light"))
        #expect(RecordValidator.issues(in: light).map(\.description) == [])

        let exact = try #require(Self.planOneSession(prompt: String(repeating: "p", count: 2000)).records.first)
        #expect(exact["prompt"] == .string(String(repeating: "p", count: 2000)))
        #expect(exact["x_capture"]?["prompt_truncated"] == nil)

        let full = try #require(
            Self.planOneSession(prompt: long, settings: Self.settings(["cairn.fullrecordlines": "1"])).records.first)
        #expect(full["prompt"] == .string(long))
        #expect(full["x_capture"]?["prompt_truncated"] == nil)
        #expect(full["x_capture"]?["tier"] == .string("full"))
        #expect(full["turns"]?[0]?["content"] == .string(long))
    }

    @Test("CommitRecorder.plan: a change to a sensitive path gets the full record")
    func planSensitive() throws {
        let settings = Self.settings(["cairn.sensitivepaths": "docs/*.md, secrets/*"])
        #expect(settings.sensitivePaths == ["docs/*.md", "secrets/*"])
        let sensitive = try #require(Self.planOneSession(path: "secrets/db.py", settings: settings).records.first)
        #expect(sensitive["x_capture"]?["tier"] == .string("full"))
        #expect(sensitive["raw_output"] == .string("--- secrets/db.py (written)\nhost = 'db'\nport = 5432\n\n"))
        #expect(sensitive["turns"]?[0]?["content"] == .string("write it"))
        let plain = try #require(Self.planOneSession(path: "src/db.py", settings: settings).records.first)
        #expect(plain["x_capture"]?["tier"] == .string("light"))
        #expect(plain["raw_output"] == nil && plain["turns"] == nil)
        // `*` crosses `/`.
        #expect(settings.isSensitive("docs/guide/intro.md") && !settings.isSensitive("src/docs/a.md"))
    }

    @Test("CommitRecorder.plan: no model, no prompt, an IDE hook; ids only for records")
    func planDefaults() throws {
        let record = try #require(
            Self.planOneSession(prompt: nil, model: nil, hook: "afterTabFileEdit").records.first)
        #expect(record["id"] == .string("id-1"))
        #expect(record["tool_path"] == .string("ide"))
        #expect(record["model"] == (try Self.json(#"{"id":"unknown","version":"unknown","provider":"anthropic"}"#)))
        #expect(record["x_capture"]?["model_unknown"] == .bool(true))
        #expect(record["prompt"] == .string("(no prompt was captured: the agent's hooks reported none)"))
        #expect(RecordValidator.issues(in: record).map(\.description) == [])
    }

    @Test("CommitRecorder.plan: keeps what this commit does not consume; a session without agent lines has no record")
    func planKeep() throws {
        let lines = [
            Self.logLine(at: Self.time(0), event: "prompt", session: "s1", prompt: "P1"),
            Self.logLine(
                at: Self.time(1), event: "edit", session: "s1", edits: [[("file", "a.py"), ("content", "alpha = 1\n")]]),
            // An edit of a file the commit does not change: kept, and with it s1's prompts.
            Self.logLine(
                at: Self.time(2), event: "edit", session: "s1", edits: [[("file", "notes.md"), ("content", "todo\n")]]),
            Self.logLine(
                at: Self.time(3), event: "edit", session: "s1",
                edits: [[("file", "a.py"), ("old", "alpha = 1\n"), ("new", "alpha = 1\nbeta = 2\n")]]),
            // s3 edits nothing committed: all kept.
            Self.logLine(at: Self.time(4), event: "prompt", session: "s3", prompt: "P3"),
            Self.logLine(
                at: Self.time(5), event: "edit", session: "s3", edits: [[("file", "other.txt"), ("content", "x\n")]]),
            // s2 edited a.py, but none of its lines were committed: consumed, no record.
            Self.logLine(at: Self.time(6), event: "prompt", session: "s2", prompt: "P2"),
            Self.logLine(
                at: Self.time(7), event: "edit", session: "s2",
                edits: [[("file", "a.py"), ("content", "gamma_discarded_entirely = 3\n")]]),
            // After s1's last committed edit: kept.
            Self.logLine(at: Self.time(8), event: "prompt", session: "s1", prompt: "P1b"),
        ]
        var issued = 0
        let plan = CommitRecorder.plan(
            events: Self.events(lines), commit: Self.commitB, changed: ["a.py", "unrelated.txt"],
            files: ["a.py": .init(committed: Array("alpha = 1\nbeta = 2\n".utf8), parent: nil)],
            settings: Self.settings(), ids: ["s1": "from-trailer"],
            newID: {
                issued += 1
                return "new-\(issued)"
            })
        #expect(plan.keep == [0, 2, 4, 5, 8])
        #expect(plan.checkpoints.map { "\($0.id) \($0.session)" } == ["from-trailer s1"])
        #expect(issued == 0)
        let record = try #require(plan.records.first)
        #expect(plan.records.count == 1)
        #expect(record["prompt"] == .string("P1"))
        #expect(record["timestamp"] == .string(Self.time(3)))
        #expect(
            record["outputs"]
                == (try Self.json(
                    #"""
                    [{"repo":"\#(Self.origin)","commit":"\#(Self.commitB)","path":"a.py","ranges":[[1,2]],
                      "content_hash":"sha256:0ac4c86b004e2fb7e7799999b7cfc0571dda1b27bea46a1abd8c518189f676ef",
                      "contributor":"ai"}]
                    """#)))
        #expect(RecordValidator.issues(in: record).map(\.description) == [])
    }

    @Test("CommitRecorder.plan: the stop closing the turn of the last committed edit joins the checkpoint")
    func planClosingStop() throws {
        func plan(_ tail: [[UInt8]]) -> CommitRecorder.Plan {
            let head = [
                Self.logLine(at: Self.time(0), event: "prompt", session: "s1", prompt: "P"),
                Self.logLine(
                    at: Self.time(1), event: "edit", session: "s1", edits: [[("file", "a.py"), ("content", "a = 1\n")]]),
            ]
            return CommitRecorder.plan(
                events: Self.events(head + tail), commit: Self.commitA, changed: ["a.py"],
                files: ["a.py": .init(committed: Array("a = 1\n".utf8), parent: nil)],
                settings: Self.settings(["cairn.fullrecordlines": "1"]), ids: [:], newID: { "id-1" })
        }
        let closed = plan([
            Self.logLine(at: Self.time(2), event: "tool", hook: "PostToolUse", session: "s1"),
            Self.logLine(at: Self.time(3), event: "stop", hook: "Stop", session: "s1", message: "Done."),
            Self.logLine(at: Self.time(4), event: "stop", hook: "Stop", session: "s1", message: "Again."),
            Self.logLine(at: Self.time(5), event: "prompt", session: "s2", prompt: "other session"),
        ])
        #expect(closed.keep == [4, 5])
        let turns = try #require(closed.records.first?["turns"]?.arrayValue)
        #expect(turns.map { $0["content"]?.stringValue ?? "" } == ["P", "Done."])
        // A new prompt first: the stop ends the next turn, not this one.
        let reopened = plan([
            Self.logLine(at: Self.time(2), event: "prompt", session: "s1", prompt: "next"),
            Self.logLine(at: Self.time(3), event: "stop", hook: "Stop", session: "s1", message: "Next done."),
        ])
        #expect(reopened.keep == [2, 3])
        #expect(reopened.records.first?["turns"]?.arrayValue?.count == 1)
    }

    @Test("CommitRecorder.plan: a deleted file and a commit no session touched give no record and keep everything")
    func planNothingCommitted() {
        let lines = [
            Self.logLine(at: Self.time(0), event: "prompt", session: "s1", prompt: "P1"),
            Self.logLine(
                at: Self.time(1), event: "edit", session: "s1", edits: [[("file", "a.py"), ("content", "a\n")]]),
        ]
        let untouched = CommitRecorder.plan(
            events: Self.events(lines), commit: Self.commitA, changed: ["b.py"], files: [:], settings: Self.settings(),
            ids: [:], newID: { "x" })
        #expect(untouched.records.isEmpty && untouched.checkpoints.isEmpty && untouched.keep == [0, 1])
        // a.py changed but is absent from files (deleted): its events are consumed without a record.
        let deleted = CommitRecorder.plan(
            events: Self.events(lines), commit: Self.commitA, changed: ["a.py"], files: [:], settings: Self.settings(),
            ids: [:], newID: { "x" })
        #expect(deleted.records.isEmpty && deleted.keep.isEmpty)
        #expect(CommitRecorder.sessions(editing: ["a.py"], in: Self.events(lines)) == ["s1"])
    }

    @Test("CommitRecorder.Settings: requester, repo and full-record threshold fall back as documented")
    func settingsDefaults() {
        let none = CommitRecorder.Settings(config: [:], root: "/src/app")
        #expect(none.repo == "/src/app" && none.requester == "unknown")
        #expect(none.sensitivePaths.isEmpty && none.fullRecordLines == 200)
        let named = CommitRecorder.Settings(
            config: ["user.email": "", "user.name": "Ada", "remote.origin.url": "", "cairn.fullrecordlines": "0"],
            root: "/r")
        #expect(named.requester == "Ada" && named.repo == "/r" && named.fullRecordLines == 1)
        let email = CommitRecorder.Settings(
            config: ["user.email": "ada@example.com", "user.name": "Ada", "cairn.fullrecordlines": "many"], root: "/r")
        #expect(email.requester == "ada@example.com" && email.fullRecordLines == 200)
        #expect(CommitRecorder.lines(Array("a\n\nb\n".utf8)) == ["a", "", "b"])
        #expect(CommitRecorder.lines(Array("a\nb".utf8)) == ["a", "b"])
        #expect(CommitRecorder.lines([]) == [])
    }

    @Test("CommitRecorder.plan: an empty captured prompt still gives a valid record")
    func planEmptyPrompt() throws {
        let record = try #require(Self.planOneSession(prompt: "").records.first)
        #expect(RecordValidator.issues(in: record).map(\.description) == [])
    }

    @Test("CommitRecorder.plan: an agent line a person edited is mixed, whatever order the agent wrote the file in")
    func planMixedAfterInsertAbove() throws {
        let lines = [
            Self.logLine(
                at: Self.time(0), event: "edit", session: "s1",
                edits: [[("file", "a.py"), ("content", "def fact(n):\n    return n * fact(n - 1)\n")]]),
            Self.logLine(
                at: Self.time(1), event: "edit", session: "s1",
                edits: [
                    [
                        ("file", "a.py"), ("old", "def fact(n):\n"),
                        ("new", "def fact(n):\n    if n < 2:\n        return 1\n"),
                    ]
                ]),
        ]
        let plan = CommitRecorder.plan(
            events: Self.events(lines), commit: Self.commitA, changed: ["a.py"],
            files: ["a.py": .init(committed: Array(Self.committedA.utf8), parent: Array("import math\n".utf8))],
            settings: Self.settings(), ids: [:], newID: { "id-1" })
        let outputs = try #require(plan.records.first?["outputs"]?.arrayValue)
        #expect(
            outputs.map { "\($0["contributor"]?.stringValue ?? "") \($0["ranges"].map(JSONWriter.compact) ?? "")" }
                == ["ai [[2,4]]", "mixed [[5,5]]", "human [[6,6]]"])
    }

    // MARK: - ModelNames

    @Test("ModelNames.model: a dated id gives version and release date; providers from the name, else the agent")
    func modelNames() throws {
        func model(_ id: String?, _ agent: String) -> JSONValue { ModelNames.model(id: id, agent: agent) }
        #expect(
            model("claude-sonnet-4-5-20250929", "claude-code")
                == (try Self.json(
                    #"{"id":"claude-sonnet-4-5-20250929","version":"20250929","release_date":"2025-09-29","provider":"anthropic"}"#
                )))
        #expect(
            model("gpt-5-codex", "codex")
                == (try Self.json(#"{"id":"gpt-5-codex","version":"gpt-5-codex","provider":"openai"}"#)))
        #expect(
            model(nil, "gemini-cli") == (try Self.json(#"{"id":"unknown","version":"unknown","provider":"google"}"#)))
        #expect(model("", "codex") == (try Self.json(#"{"id":"unknown","version":"unknown","provider":"openai"}"#)))
        #expect(
            model("copilot/gpt-4o", "github-copilot")
                == (try Self.json(#"{"id":"copilot/gpt-4o","version":"copilot/gpt-4o","provider":"openai"}"#)))
        #expect(model("anthropic/claude-opus-4-1-20250805", "cursor")["release_date"] == .string("2025-08-05"))
        #expect(model("anthropic/claude-opus-4-1-20250805", "cursor")["provider"] == .string("anthropic"))
        // Not a date: month 13, or not eight digits.
        #expect(model("claude-x-20251301", "claude-code")["release_date"] == nil)
        #expect(model("claude-x-20251301", "claude-code")["version"] == .string("claude-x-20251301"))
        #expect(model("claude-x-2025093", "claude-code")["release_date"] == nil)
        let providers = [
            ("gemini-2.5-pro", "cursor", "google"), ("grok-4", "cursor", "xai"), ("o3-mini", "cursor", "openai"),
            ("GPT-4.1", "cursor", "openai"), ("sonnet", "claude-code", "anthropic"), ("auto", "cursor", "cursor"),
            ("auto", "github-copilot", "github"), ("model", "aider", "aider"),
        ]
        for (id, agent, provider) in providers {
            #expect(model(id, agent)["provider"] == .string(provider), "\(id) / \(agent)")
        }
    }

    // MARK: - RewriteRecords

    static func hex(_ seed: Character, _ count: Int = 40) -> String { String(repeating: seed, count: count) }

    @Test("RewriteRecords.fromPostRewrite: amend; rebase with squashes; bad lines and unchanged ids skipped")
    func rewriteRecords() throws {
        let at = "2026-12-07T10:00:00Z"
        let amend = RewriteRecords.fromPostRewrite(
            how: "amend", input: Array("\(Self.hex("1")) \(Self.hex("2"))\n".utf8), at: at, repo: Self.origin)
        #expect(
            amend == [
                try Self.json(
                    #"""
                    {"type":"rewrite","schema":1,"old_commit":"\#(Self.hex("1"))","new_commit":"\#(Self.hex("2"))",
                     "kind":"amend","at":"\#(at)","repo":"\#(Self.origin)"}
                    """#)
            ])
        #expect(RecordValidator.issues(in: amend[0]).map(\.description) == [])

        let input = [
            "\(Self.hex("1")) \(Self.hex("a"))",
            "\(Self.hex("2")) \(Self.hex("a"))",
            "\(Self.hex("3")) \(Self.hex("b")) extra words",
            "not two ids",
            "\(Self.hex("4"))",
            "\(Self.hex("5")) \(Self.hex("5"))",
            "\(Self.hex("6", 39)) \(Self.hex("c"))",
            "\(Self.hex("7")) \(Self.hex("g"))",
            "\(Self.hex("8")) \(Self.hex("C"))",
            "\(Self.hex("9", 64)) \(Self.hex("d", 64))",
            "",
        ].joined(separator: "\n")
        let rebase = RewriteRecords.fromPostRewrite(how: "rebase", input: Array(input.utf8), at: at, repo: "r")
        let summary = rebase.map {
            [$0["old_commit"]?.stringValue ?? "", $0["new_commit"]?.stringValue ?? "", $0["kind"]?.stringValue ?? ""]
        }
        #expect(
            summary == [
                [Self.hex("1"), Self.hex("a"), "squash"],
                [Self.hex("2"), Self.hex("a"), "squash"],
                [Self.hex("3"), Self.hex("b"), "rebase"],
                [Self.hex("9", 64), Self.hex("d", 64), "rebase"],
            ])
        for record in rebase {
            #expect(record["type"] == .string("rewrite") && record["at"] == .string(at) && record["repo"] == "r")
            #expect(RecordValidator.issues(in: record).map(\.description) == [])
        }
        // `amend` stays amend even when two olds name one new.
        let amends = RewriteRecords.fromPostRewrite(
            how: "amend", input: Array(input.utf8), at: at, repo: "r")
        #expect(amends.map { $0["kind"] } == [JSONValue](repeating: .string("amend"), count: 4))
        #expect(RewriteRecords.fromPostRewrite(how: "rebase", input: [], at: at, repo: "r").isEmpty)
    }

    // MARK: - CommitHooks.cherryPickedFrom

    @Test("CommitHooks.cherryPickedFrom: the id of cherry-pick -x's line (the last one), else nil")
    func cherryPickedFrom() {
        let id = "0123456789abcdef0123456789abcdef01234567"
        #expect(CommitHooks.cherryPickedFrom("Fix the parser\n\n(cherry picked from commit \(id))\n") == id)
        #expect(CommitHooks.cherryPickedFrom("Fix\n\n  (cherry picked from commit \(id.uppercased()))\t") == id)
        #expect(CommitHooks.cherryPickedFrom("(cherry picked from commit \(Self.hex("e", 64)))") == Self.hex("e", 64))
        // Picked twice with -x: the latest line names the commit this one was picked from.
        #expect(
            CommitHooks.cherryPickedFrom(
                "Fix\n\n(cherry picked from commit \(Self.hex("1")))\n(cherry picked from commit \(Self.hex("2")))\n")
                == Self.hex("2"))
        #expect(CommitHooks.cherryPickedFrom("Fix the parser\n") == nil)
        #expect(CommitHooks.cherryPickedFrom("") == nil)
        #expect(CommitHooks.cherryPickedFrom("(cherry picked from commit \(Self.hex("1", 39)))") == nil)
        #expect(CommitHooks.cherryPickedFrom("(cherry picked from commit \(Self.hex("g")))") == nil)
        #expect(CommitHooks.cherryPickedFrom("(cherry picked from commit \(id)") == nil)
        #expect(CommitHooks.cherryPickedFrom("Mentions (cherry picked from commit \(id)) inline") == nil)
    }

    @Test("CommitHooks.cherryPickedFrom: only ASCII hex digits make an id")
    func cherryPickedFromFullwidth() {
        let fullwidth = String(repeating: "\u{FF11}", count: 40)  // FULLWIDTH DIGIT ONE
        #expect(CommitHooks.cherryPickedFrom("(cherry picked from commit \(fullwidth))") == nil)
    }

    // MARK: - Blame.parsePorcelain

    static func git(_ directory: String, _ arguments: [String]) throws -> ProcessRunner.Output {
        let output = try ProcessRunner.run(
            "/usr/bin/env",
            [
                "git", "-C", directory, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c",
                "commit.gpgsign=false",
            ]
                + arguments,
            environment: ["GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"])
        #expect(output.status == 0, "git \(arguments.joined(separator: " ")): \(output.output)")
        return output
    }

    static func commitAll(_ directory: String, _ message: String) throws -> String {
        _ = try git(directory, ["add", "-A"])
        _ = try git(directory, ["commit", "-q", "-m", message])
        return try git(directory, ["rev-parse", "HEAD"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("Blame.parsePorcelain: real git blame output: every line's number, commit, line and path there, text")
    func parsePorcelain() throws {
        let repo = try TemporaryDirectory.gitRepository("commit-capture-blame")
        try repo.write("file.txt", "one\n\ttabbed\nthree\n\n")
        let first = try Self.commitAll(repo.path, "first")
        _ = try Self.git(repo.path, ["mv", "file.txt", "renamed.txt"])
        _ = try Self.commitAll(repo.path, "rename")
        try repo.write("renamed.txt", "zero\none\n\ttabbed\nTHREE\n\nfive six  \n")
        let third = try Self.commitAll(repo.path, "third")

        let output = try Self.git(repo.path, ["blame", "--porcelain", "HEAD", "--", "renamed.txt"])
        let lines = Blame.parsePorcelain(output.stdout)
        let expected: [(Int, String, String, Int, String)] = [
            (1, "zero", third, 1, "renamed.txt"),
            (2, "one", first, 1, "file.txt"),
            (3, "\ttabbed", first, 2, "file.txt"),
            (4, "THREE", third, 4, "renamed.txt"),
            (5, "", first, 4, "file.txt"),
            (6, "five six  ", third, 6, "renamed.txt"),
        ]
        #expect(lines.count == expected.count)
        for (line, want) in zip(lines, expected) {
            #expect(line.number == want.0)
            #expect(line.text == want.1)
            #expect(line.commit == want.2)
            #expect(line.commitLine == want.3)
            #expect(line.commitPath == want.4)
            #expect(line.attribution == nil)
        }
        #expect(Blame.parsePorcelain([]).isEmpty)
        #expect(Blame.parsePorcelain(Array("\tno header\nnot a header line\n".utf8)).isEmpty)
    }

    // MARK: - LineBundle(parsing:)

    static let bundle = LineBundle(
        repo: origin, path: "src/a.py", commit: commitB, line: 3, outputCommit: commitA, outputLine: 2,
        contributor: "ai",
        entries: [
            (role: "checkpoint", entry: Array(#"{"type":"checkpoint"}"#.utf8), proof: "proof one\n"),
            (role: "rewrite", entry: Array(#"{"type":"rewrite"}"#.utf8), proof: "proof two\n"),
        ])

    /// The bundle's JSON with `change` applied to the top-level object.
    static func bundleBytes(_ change: (inout JSONObject) -> Void) -> [UInt8] {
        var object = bundle.json.objectValue ?? [:]
        change(&object)
        return JSONWriter.compactBytes(.object(object))
    }

    /// The bundle's JSON with `change` applied to its claim.
    static func claimBytes(_ change: @escaping (inout JSONObject) -> Void) -> [UInt8] {
        bundleBytes { object in
            var claim = object["claim"]?.objectValue ?? [:]
            change(&claim)
            object["claim"] = .object(claim)
        }
    }

    static func parseError(_ bytes: [UInt8]) -> ProofError? {
        do {
            _ = try LineBundle(parsing: bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test("LineBundle(parsing:): its own JSON parses back to the same bundle; repo is optional")
    func lineBundleRoundTrip() throws {
        let parsed = try LineBundle(parsing: JSONWriter.compactBytes(Self.bundle.json))
        #expect(parsed == Self.bundle)
        #expect(parsed.entries.map(\.role) == ["checkpoint", "rewrite"])
        #expect(
            parsed.entries.map(\.entry) == [Array(#"{"type":"checkpoint"}"#.utf8), Array(#"{"type":"rewrite"}"#.utf8)])
        #expect(parsed.line == 3 && parsed.outputLine == 2 && parsed.contributor == "ai")
        let noRepo = try LineBundle(parsing: Self.claimBytes { $0["repo"] = nil })
        #expect(noRepo.repo == nil && noRepo.path == "src/a.py")
    }

    @Test("LineBundle(parsing:): malformed bundles are refused, the message naming the member")
    func lineBundleRejects() {
        let notJSON = Self.parseError(Array("{not json".utf8))
        #expect(notJSON?.code == .malformed)
        #expect(notJSON?.message.hasPrefix("the bundle is not JSON") == true)

        var cases: [([UInt8], String)] = [
            (Self.bundleBytes { $0["format"] = "cairn-line-bundle/2" }, #"$.format: expected "cairn-line-bundle/1""#),
            (Self.bundleBytes { $0["format"] = nil }, #"$.format: expected "cairn-line-bundle/1""#),
            (Array("[]".utf8), #"$.format: expected "cairn-line-bundle/1""#),
            (Self.bundleBytes { $0["claim"] = nil }, "$.claim: missing or not an object"),
            (Self.bundleBytes { $0["claim"] = "src/a.py:3" }, "$.claim: missing or not an object"),
            (Self.bundleBytes { $0["entries"] = [] }, "$.entries: missing or empty"),
            (Self.bundleBytes { $0["entries"] = nil }, "$.entries: missing or empty"),
            (
                Self.bundleBytes { $0["entries"] = [["role": "checkpoint", "entry": "{}"]] },
                "$.entries[0]: needs role, entry and proof strings"
            ),
            (
                Self.bundleBytes {
                    $0["entries"] = [
                        ["role": "checkpoint", "entry": "{}", "proof": "p"], ["role": 1, "entry": "{}", "proof": "p"],
                    ]
                },
                "$.entries[1]: needs role, entry and proof strings"
            ),
        ]
        for key in ["path", "commit", "output_commit", "contributor"] {
            cases.append((Self.claimBytes { $0[key] = nil }, "$.claim.\(key): missing or not a string"))
            cases.append((Self.claimBytes { $0[key] = "" }, "$.claim.\(key): missing or not a string"))
            cases.append((Self.claimBytes { $0[key] = 7 }, "$.claim.\(key): missing or not a string"))
        }
        for key in ["line", "output_line"] {
            cases.append((Self.claimBytes { $0[key] = nil }, "$.claim.\(key): missing or not a line number"))
            cases.append((Self.claimBytes { $0[key] = 0 }, "$.claim.\(key): missing or not a line number"))
            cases.append((Self.claimBytes { $0[key] = "3" }, "$.claim.\(key): missing or not a line number"))
        }
        for (bytes, message) in cases {
            #expect(
                Self.parseError(bytes) == ProofError(.malformed, message), "\(String(decoding: bytes, as: UTF8.self))")
        }
    }
}
