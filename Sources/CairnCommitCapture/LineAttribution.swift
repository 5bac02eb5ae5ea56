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
    /// wrote to this file; the first session (in the order given) that wrote a line exactly gets it.
    ///
    /// - Returns: for each line of `committed`, nil when it was already in `parent`, else its attribution.
    package static func attribute(committed: [Substring], parent: [Substring], sessions: [[Substring]]) -> [Line?] {
        let oldIndex = LineDiff.newToOld(parent.map(normalize), committed.map(normalize))
        let exact: [Set<Substring>] = sessions.map { Set($0.map(normalize)) }
        var bigrams: [[(Int, Set<UInt32>)]] = []  // per session: (length, bigrams) of its non-trivial lines
        var budget = comparisonBudget
        var result: [Line?] = []
        result.reserveCapacity(committed.count)
        for (index, line) in committed.enumerated() {
            guard oldIndex[index] == nil else {
                result.append(nil)
                continue
            }
            let key = normalize(line)
            if let session = exact.firstIndex(where: { $0.contains(key) }) {
                result.append(Line(session: session, contributor: .ai))
                continue
            }
            if bigrams.isEmpty {
                bigrams = sessions.map { lines in
                    lines.map(normalize).filter { $0.count >= 4 }.map { ($0.utf8.count, Self.bigrams($0)) }
                }
            }
            var best: (session: Int, score: Double)?
            let mine = Self.bigrams(key)
            if key.count >= 4 {
                search: for (session, lines) in bigrams.enumerated() {
                    for (_, theirs) in lines {
                        budget -= 1
                        if budget < 0 { break search }
                        let score = dice(mine, theirs)
                        if score >= editedThreshold, score > (best?.score ?? 0) { best = (session, score) }
                    }
                }
            }
            result.append(
                best.map { Line(session: $0.session, contributor: .mixed) } ?? Line(session: nil, contributor: .human))
        }
        return result
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
