/// Which lines of two versions of a file are the same line: a patience diff (common prefix and suffix, then
/// lines unique to both sides as anchors, their longest increasing run, recursively), with an exact
/// longest-common-subsequence for small gaps without anchors. Bounded: a gap whose table would exceed
/// `maxTableCells` is left unmatched rather than diffed in quadratic time.
package enum LineDiff {
    package static let maxTableCells = 4_000_000

    /// Pairs `(old, new)` of matched line indices, both increasing.
    package static func matches<Line: Hashable>(_ old: [Line], _ new: [Line]) -> [(old: Int, new: Int)] {
        var out: [(old: Int, new: Int)] = []
        match(old, 0..<old.count, new, 0..<new.count, into: &out)
        return out
    }

    /// For each line of `new`, the index of the same line in `old`, or nil for a line `new` added or changed.
    package static func newToOld<Line: Hashable>(_ old: [Line], _ new: [Line]) -> [Int?] {
        var map = [Int?](repeating: nil, count: new.count)
        for pair in matches(old, new) { map[pair.new] = pair.old }
        return map
    }

    private static func match<Line: Hashable>(
        _ old: [Line], _ oldRange: Range<Int>, _ new: [Line], _ newRange: Range<Int>,
        into out: inout [(old: Int, new: Int)]
    ) {
        var (a, b) = (oldRange.lowerBound, newRange.lowerBound)
        var (aEnd, bEnd) = (oldRange.upperBound, newRange.upperBound)
        // Common prefix.
        while a < aEnd, b < bEnd, old[a] == new[b] {
            out.append((a, b))
            a += 1
            b += 1
        }
        // Common suffix, appended after the middle.
        var suffix: [(old: Int, new: Int)] = []
        while aEnd > a, bEnd > b, old[aEnd - 1] == new[bEnd - 1] {
            aEnd -= 1
            bEnd -= 1
            suffix.append((aEnd, bEnd))
        }
        if a < aEnd, b < bEnd {
            let anchors = uniqueAnchors(old, a..<aEnd, new, b..<bEnd)
            if anchors.isEmpty {
                lcs(old, a..<aEnd, new, b..<bEnd, into: &out)
            } else {
                var (previousOld, previousNew) = (a, b)
                for anchor in anchors {
                    match(old, previousOld..<anchor.old, new, previousNew..<anchor.new, into: &out)
                    out.append(anchor)
                    (previousOld, previousNew) = (anchor.old + 1, anchor.new + 1)
                }
                match(old, previousOld..<aEnd, new, previousNew..<bEnd, into: &out)
            }
        }
        out += suffix.reversed()
    }

    /// Lines occurring exactly once on each side, paired, reduced to their longest run increasing on both sides.
    private static func uniqueAnchors<Line: Hashable>(
        _ old: [Line], _ oldRange: Range<Int>, _ new: [Line], _ newRange: Range<Int>
    ) -> [(old: Int, new: Int)] {
        var counts: [Line: (old: Int, new: Int, oldIndex: Int)] = [:]
        for index in oldRange {
            counts[old[index], default: (0, 0, index)].old += 1
        }
        for index in newRange {
            counts[new[index]]?.new += 1
        }
        var pairs: [(old: Int, new: Int)] = []
        for index in newRange {
            if let count = counts[new[index]], count.old == 1, count.new == 1 { pairs.append((count.oldIndex, index)) }
        }
        // Longest increasing subsequence of the old indices (pairs are in new order): patience sorting.
        var tails: [Int] = []  // indices into pairs
        var previous = [Int](repeating: -1, count: pairs.count)
        for (position, pair) in pairs.enumerated() {
            var low = 0
            var high = tails.count
            while low < high {
                let middle = (low + high) / 2
                if pairs[tails[middle]].old < pair.old { low = middle + 1 } else { high = middle }
            }
            if low > 0 { previous[position] = tails[low - 1] }
            if low == tails.count { tails.append(position) } else { tails[low] = position }
        }
        var result: [(old: Int, new: Int)] = []
        var position = tails.last ?? -1
        while position >= 0 {
            result.append(pairs[position])
            position = previous[position]
        }
        return result.reversed()
    }

    /// The exact longest common subsequence of a small gap (dynamic programming), or nothing for a large one.
    private static func lcs<Line: Hashable>(
        _ old: [Line], _ oldRange: Range<Int>, _ new: [Line], _ newRange: Range<Int>,
        into out: inout [(old: Int, new: Int)]
    ) {
        let (n, m) = (oldRange.count, newRange.count)
        guard n * m <= maxTableCells else { return }
        let width = m + 1
        var table = [Int32](repeating: 0, count: (n + 1) * width)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                table[i * width + j] =
                    old[oldRange.lowerBound + i] == new[newRange.lowerBound + j]
                    ? table[(i + 1) * width + j + 1] + 1
                    : max(table[(i + 1) * width + j], table[i * width + j + 1])
            }
        }
        var (i, j) = (0, 0)
        while i < n, j < m {
            if old[oldRange.lowerBound + i] == new[newRange.lowerBound + j] {
                out.append((oldRange.lowerBound + i, newRange.lowerBound + j))
                i += 1
                j += 1
            } else if table[(i + 1) * width + j] >= table[i * width + j + 1] {
                i += 1
            } else {
                j += 1
            }
        }
    }
}
