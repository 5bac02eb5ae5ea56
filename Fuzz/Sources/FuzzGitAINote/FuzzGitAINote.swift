// FuzzGitAINote: git-ai authorship notes (`refs/notes/ai`, authorship/3.0.0) as `cairn import --format git-ai` reads
// them (CairnCommitCapture: `GitAINote.parse`, then `checkpoints(commit:timestamp:repository:requestedBy:)`,
// specs/interop-formats.md), converted against a fixed fake repository: every path has a 60-line file at the
// commit, except paths under `missing/`.
//
// Oracles:
// - no trap, whatever the bytes: a note that cannot be read is an `ImportProblem` naming a line of the note;
// - every parsed file has entries, every range is within 1...4294967295 with start <= end, and entry lines are
//   lines of the note;
// - every converted record is a JSON object of type `checkpoint` that canonicalizes (RFC 8785), and converting
//   the same note again gives the same records (ids are deterministic). The records are also run through
//   `RecordValidator` (the import checks them like any record; an invalid one is refused there, not a crash).
import CairnCommitCapture
import CairnJSON
import CairnRecords
import FuzzKit

private let commit = String(repeating: "7a", count: 20)
private let fileBytes: [UInt8] = Array((1...60).map { "line \($0)\n" }.joined().utf8)
private let repository = ImportRepository(
    name: "https://example.com/fuzz.git",
    commit: { revision in revision.count == 40 ? revision.lowercased() : nil },
    file: { _, path in path.hasPrefix("missing/") ? nil : fileBytes })

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    let text = String(decoding: input, as: UTF8.self)
    let lineCount = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).count
    let note: GitAINote
    do {
        note = try GitAINote.parse(text)
    } catch {
        oracle(error.line >= 1, "a problem at line \(error.line)")
        return 0
    }
    for file in note.files {
        oracle(!file.entries.isEmpty, "a file without entries: \(file.path)")
        oracle((1...lineCount).contains(file.line), "file line \(file.line) of \(lineCount)")
        for entry in file.entries {
            oracle((1...lineCount).contains(entry.line), "entry line \(entry.line) of \(lineCount)")
            oracle(!entry.ranges.isEmpty, "an entry without ranges")
            for range in entry.ranges {
                oracle(range.lowerBound >= 1 && range.upperBound <= 4_294_967_295, "range \(range)")
            }
        }
    }
    let conversion: ImportConversion
    do {
        conversion = try note.checkpoints(
            commit: commit, timestamp: "2026-01-25T10:00:00Z", repository: repository, requestedBy: "unknown")
    } catch {
        oracle(error.line >= 1, "a conversion problem at line \(error.line)")
        return 0
    }
    var canonical: [[UInt8]] = []
    for (_, record) in conversion.records {
        oracle(record["type"]?.stringValue == "checkpoint", "a record that is not a checkpoint")
        guard let bytes = try? JCS.canonicalize(record) else {
            oracle(false, "a converted record does not canonicalize")
            return 0
        }
        canonical.append(bytes)
        _ = try? RecordValidator.validate(record)
    }
    let again = try? note.checkpoints(
        commit: commit, timestamp: "2026-01-25T10:00:00Z", repository: repository, requestedBy: "unknown")
    oracle(
        again?.records.compactMap { try? JCS.canonicalize($0.record) } == canonical,
        "converting a note twice gives other records")
    return 0
}

/// Notes in the three formats git-ai writes (sessions, legacy prompts, mixed), with CRLF, quoted paths, spaces in
/// range lists, no divider, metadata only; and near misses (a missing file, ranges past the end).
private func seeds() -> [[UInt8]] {
    let sessions = """
        src/main.rs
          s_c9883b05a2487d::t_9f8e7d6c5b4a32 1-10,15-20
          s_c9883b05a2487d::t_0123456789abcd 30
          h_31dce776f88375 21-25
        "docs/read me.md"
          s_aaaabbbbccccdd::t_1111222233334444 1 - 3 , 5
        ---
        {"schema_version":"authorship/3.0.0","git_ai_version":"1.2.5","base_commit_sha":"\(commit)",
         "sessions":{"s_c9883b05a2487d":{"agent_id":{"tool":"claude","id":"conv-1","model":"claude-sonnet-4"},
           "human_author":"Dev <dev@example.com>","messages_url":"https://example.com/m/1",
           "custom_attributes":{"team":"a"}}},
         "humans":{"h_31dce776f88375":{"author":"Dev <dev@example.com>"}}}
        """
    let legacy = """
        src/lib.rs
          abcd1234abcd1234 1-50
          abc1234 51-60
        ---
        {"schema_version":"authorship/3.0.0","prompts":{"abcd1234abcd1234":{"agent_id":{"tool":"cursor","id":"old",
        "model":"gpt-4"},"human_author":"Developer <dev@example.com>","total_additions":50}}}
        """
    return [
        sessions, legacy,
        sessions.replacing("\n", with: "\r\n"),
        "src/a.txt\n\ts_0a0a0a0a0a0a0a 1-5\n",
        "{\"schema_version\":\"authorship/3.0.0\",\"sessions\":{}}",
        "missing/a.txt\n  s_0a0a0a0a0a0a0a 1-5\n---\n{}",
        "src/a.txt\n  s_0a0a0a0a0a0a0a 59-61\n---\n{}",
        "src/a.txt\n  h_0a0a0a0a0a0a0a 1-5\n---\n{\"humans\":{}}",
    ].map { Array($0.utf8) }
}

@_cdecl("FuzzGitAINote_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
