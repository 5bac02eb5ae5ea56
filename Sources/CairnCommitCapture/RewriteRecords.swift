import CairnJSON

/// `rewrite` records (specs/record-schema.md): from git's `post-rewrite` input, from `cherry-pick -x`, and from
/// `cairn rewrite detect` (server-side squash and rebase merges).
package enum RewriteRecords {
    package static func record(old: String, new: String, kind: String, at: String, repo: String) -> JSONValue {
        .object(
            JSONObject([
                ("type", .string("rewrite")), ("schema", .number(1)), ("old_commit", .string(old)),
                ("new_commit", .string(new)), ("kind", .string(kind)), ("at", .string(at)), ("repo", .string(repo)),
            ]))
    }

    /// The records for `post-rewrite`'s standard input. Lines that are not two object ids are skipped.
    package static func fromPostRewrite(how: String, input: [UInt8], at: String, repo: String) -> [JSONValue] {
        var pairs: [(old: String, new: String)] = []
        for line in String(decoding: input, as: UTF8.self).split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 2, isObjectID(words[0]), isObjectID(words[1]), words[0] != words[1] else { continue }
            pairs.append((String(words[0]), String(words[1])))
        }
        var oldCount: [String: Int] = [:]
        for pair in pairs { oldCount[pair.new, default: 0] += 1 }
        return pairs.map { pair in
            let kind = how == "amend" ? "amend" : (oldCount[pair.new] ?? 0) > 1 ? "squash" : "rebase"
            return record(old: pair.old, new: pair.new, kind: kind, at: at, repo: repo)
        }
    }

    static func isObjectID(_ text: Substring) -> Bool {
        (text.count == 40 || text.count == 64)
            && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
