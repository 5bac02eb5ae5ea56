/// Who wrote each line a commit added to a file: the agent (`ai`), the agent and then a person (`mixed`), or a
/// person (`human`) — by comparing the committed lines with what each agent session wrote (specs/capture.md,
/// "Classifying lines").
package enum LineAttribution {
    package enum Contributor: String, Sendable, Equatable, Comparable {
        case ai, mixed, human

        package static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
        private var rank: Int {
            switch self {
            case .ai: 0
            case .mixed: 1
            case .human: 2
            }
        }
    }

    /// One added line's attribution: the session whose output it is (nil for a person's line) and how.
    package struct Line: Sendable, Equatable {
        package let session: Int?
        package let contributor: Contributor
    }

    /// The minimum similarity (Dice coefficient of character bigrams) for an added line to count as an agent's
    /// line edited by a person.
    package static let editedThreshold = 0.5
    /// At most this many line comparisons per file for `mixed` (a bound on the hook's time).
    package static let comparisonBudget = 400_000

    /// Attributes each line of `committed` that `parent` does not have. `sessions[i]` holds the lines session `i`
    /// wrote to this file; the first session (in the order given) that wrote a line exactly gets it as `ai`. A line
    /// no session wrote exactly is `mixed` when it stands where a session's output has lines the commit does not
    /// (diffing the session's output against the committed file) and one of those is similar to it; else `human`.
    ///
    /// - Returns: for each line of `committed`, nil when it was already in `parent`, else its attribution.
    package static func attribute(committed: [Substring], parent: [Substring], sessions: [[Substring]]) -> [Line?] {
        attribute(committed: committed, parent: parent, edits: sessions.map { [$0] })
    }

    /// As above, with each session's output given edit by edit (`edits[i][j]`: the lines of session `i`'s edit
    /// `j`): each edit is diffed against the committed file on its own, since edits land anywhere in a file.
    package static func attribute(
        committed: [Substring], parent: [Substring], edits sessions: [[[Substring]]]
    )
        -> [Line?]
    {
        let lines = committed.map(normalize)
        let oldIndex = LineDiff.newToOld(parent.map(normalize), lines)
        let outputs = sessions.map { edits in edits.map { $0.map(normalize) } }
        let exact: [Set<Substring>] = outputs.map { Set($0.joined()) }
        // For each session, the output lines the commit does not have around each committed line (its diff hunk),
        // from every edit.
        let hunks = outputs.map { edits in
            edits.reduce(into: [[Substring]](repeating: [], count: lines.count)) { union, edit in
                for (index, replaced) in replacedLines(output: edit, committed: lines).enumerated() {
                    union[index] += replaced
                }
            }
        }
        var budget = comparisonBudget
        var result: [Line?] = []
        result.reserveCapacity(committed.count)
        for (index, key) in lines.enumerated() {
            guard oldIndex[index] == nil else {
                result.append(nil)
                continue
            }
            if let session = exact.firstIndex(where: { $0.contains(key) }) {
                result.append(Line(session: session, contributor: .ai))
                continue
            }
            var best: (session: Int, score: Double)?
            if key.count >= 4 {
                let mine = bigrams(key)
                for (session, replaced) in hunks.enumerated() {
                    for candidate in replaced[index] where candidate.count >= 4 {
                        budget -= 1
                        guard budget >= 0 else { break }
                        let score = dice(mine, bigrams(candidate))
                        if score >= editedThreshold, score > (best?.score ?? 0) { best = (session, score) }
                    }
                }
            }
            result.append(
                best.map { Line(session: $0.session, contributor: .mixed) } ?? Line(session: nil, contributor: .human))
        }
        return result
    }

    /// For each committed line the output does not have, the output's lines in the same diff hunk (those the commit
    /// replaced); empty for a line the output has.
    static func replacedLines(output: [Substring], committed: [Substring]) -> [ArraySlice<Substring>] {
        var replaced = [ArraySlice<Substring>](repeating: [], count: committed.count)
        var previous = (output: -1, committed: -1)
        for pair in LineDiff.matches(output, committed) + [(old: output.count, new: committed.count)] {
            let gap = output[(previous.output + 1)..<pair.old]
            if !gap.isEmpty {
                for index in (previous.committed + 1)..<pair.new { replaced[index] = gap }
            }
            previous = (pair.old, pair.new)
        }
        return replaced
    }

    /// A line without trailing white space (a carriage return included), as lines are compared.
    static func normalize(_ line: Substring) -> Substring {
        var end = line.endIndex
        while end > line.startIndex {
            let previous = line.index(before: end)
            guard line[previous] == " " || line[previous] == "\t" || line[previous] == "\r" else { break }
            end = previous
        }
        return line[..<end]
    }

    static func bigrams(_ line: Substring) -> Set<UInt32> {
        var set = Set<UInt32>()
        var previous: UInt8?
        for byte in line.utf8 where byte != 0x20 && byte != 0x09 {
            if let previous { set.insert(UInt32(previous) << 8 | UInt32(byte)) }
            previous = byte
        }
        return set
    }

    static func dice(_ a: Set<UInt32>, _ b: Set<UInt32>) -> Double {
        guard !a.isEmpty || !b.isEmpty else { return 0 }
        return 2 * Double(a.intersection(b).count) / Double(a.count + b.count)
    }

    /// 1-based inclusive ranges of consecutive line numbers.
    package static func ranges(_ lines: [Int]) -> [[Int]] {
        var ranges: [[Int]] = []
        for line in lines.sorted() {
            if let last = ranges.last, last[1] + 1 == line {
                ranges[ranges.count - 1][1] = line
            } else {
                ranges.append([line, line])
            }
        }
        return ranges
    }
}
