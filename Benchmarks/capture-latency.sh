#!/usr/bin/env bash
# Latency of `cairn-capture claude-code` (and of `cairn capture claude-code`) as an agent's hook runs it: a new
# process per event, the payload on stdin, the working log appended and synced (docs/performance.md,
# "Capture"). Budget (issue 12): 20 ms p99. Baselines: `cairn --version`, and `/bin/true`.
#
# Usage: Benchmarks/capture-latency.sh [CAIRN_BINARY]     (default: .build/release/cairn; cairn-capture is
#        taken from the same directory)
set -euo pipefail
cairn="$(realpath "${1:-.build/release/cairn}")"
repo="$(mktemp -d "${TMPDIR:-/tmp}/cairn-capture-bench.XXXXXX")"
trap 'rm -rf "$repo"' EXIT
git init -q "$repo"
python3 - "$cairn" "$repo" <<'PY'
import json, os, subprocess, sys, time
cairn, repo = sys.argv[1], sys.argv[2]
tool = os.path.join(os.path.dirname(cairn), "cairn-capture")
def bench(name, payload, runs, command):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, input=payload, capture_output=True)
        times.append((time.perf_counter() - start) * 1000)
        if done.returncode != 0 or done.stderr:
            sys.exit(f"capture failed: {done.stderr.decode()}")
    times.sort()
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print(f"{name:<40} p50 {pick(0.5):5.1f} ms  p90 {pick(0.9):5.1f} ms  p99 {pick(0.99):5.1f} ms  ({runs} runs)")
def baseline(name, command, runs):
    start = time.perf_counter()
    for _ in range(runs):
        subprocess.run(command, capture_output=True)
    print(f"{'baseline: ' + name:<40} mean {(time.perf_counter() - start) * 1000 / runs:5.1f} ms")
baseline("/bin/true", ["/bin/true"], 100)
baseline("cairn --version", [cairn, "--version"], 50)
edit = {"hook_event_name": "PostToolUse", "session_id": "s", "cwd": repo, "tool_name": "Edit",
        "tool_input": {"file_path": repo + "/README.md", "old_string": "a" * 200, "new_string": "b" * 400}}
for label, command in [("cairn-capture", [tool, "claude-code"]), ("cairn capture", [cairn, "capture", "claude-code"])]:
    bench(f"{label}: Edit (600 B of text)", json.dumps(edit).encode(), 200, command)
prompt = {"hook_event_name": "UserPromptSubmit", "session_id": "s", "cwd": repo, "prompt": "word " * 40000}
bench("cairn-capture: 200 KB prompt", json.dumps(prompt).encode(), 50, [tool, "claude-code"])
PY
