import Benchmark
import CairnJSON
import CairnRedaction

// MARK: - Redaction (issue 12: capture redacts every prompt and output before storing it, within its budget)

func redaction() {
    let redactor = Redactor(key: Array("benchmark key".utf8))
    // A prompt-like paragraph with look-alikes (paths, a commit id, a URL, numbers under secret-ish names) and
    // no secret, repeated to 100 KB: the common case, where everything must be scanned and nothing replaced.
    let paragraph =
        "Please refactor src/payments/client.ts so that retries use exponential backoff; keep max_tokens=1024 "
        + "and call handleUserAuthenticationCallbackV2Handler() once. See https://github.com/org/repo/pull/1234 "
        + "and commit 9fceb02d0ae598e95dc970b74767f19372d61af8.\n"
    let prompt = String(repeating: paragraph, count: 100_000 / paragraph.utf8.count)
    Benchmark("Redact / 100 KB prompt without secrets", configuration: .init(scalingFactor: .one)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(redactor.redact(prompt)) }
    }

    // A Claude Code PostToolUse-sized payload (~1 KB of JSON) with one token in it.
    let payload = try! JSONParser.parse(
        #"{"session_id":"abc123","transcript_path":"/home/u/.claude/projects/p/abc123.jsonl","cwd":"/home/u/src/app","#
            + #""hook_event_name":"PostToolUse","tool_name":"Write","tool_input":{"file_path":"/home/u/src/app/deploy.sh","#
            + ##""content":"#!/bin/sh\nexport GITHUB_TOKEN=gh"## + "p_" + String(repeating: "a1B2c3", count: 6)
            + #"\ngit push origin main\n"},"tool_response":{"filePath":"/home/u/src/app/deploy.sh","success":true}}"#)
    Benchmark("Redact / 1 KB hook payload (JSON, one token)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(redactor.redact(json: payload)) }
    }
}
