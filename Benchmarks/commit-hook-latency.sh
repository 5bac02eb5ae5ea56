#!/usr/bin/env bash
# What Cairn's git hooks add to `git commit` in a 10,000-file repository (docs/performance.md, "Capture"): each
# commit changes one file an agent wrote (its edit captured first), so post-commit makes a checkpoint record,
# attributes the file's lines and appends the record to a local ledger; prepare-commit-msg adds the trailer.
# Measured the same way, in the same run: the same commit with the hooks installed but Cairn disabled
# (CAIRN_HOOKS_DISABLE=1: the shims run, cairn does not) and with no hooks at all. Budget (issue 12): the hooks'
# overhead at most 50 ms p99 per commit.
#
# Usage: Benchmarks/commit-hook-latency.sh [CAIRN_BINARY] [COMMITS]   (default: .build/release/cairn, 100 commits
#        per variant; cairn-capture is taken from the same directory)
set -euo pipefail
cairn="$(realpath "${1:-.build/release/cairn}")"
commits="${2:-100}"
work="$(mktemp -d "${TMPDIR:-/tmp}/cairn-commit-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
repo="$work/repo"
git init -q -b main "$repo"
git -C "$repo" config user.email bench@example.com
git -C "$repo" config user.name Bench
python3 - "$repo" <<'PY'
import os, sys
repo = sys.argv[1]
for d in range(100):
    os.makedirs(f"{repo}/src/d{d:02}", exist_ok=True)
    for f in range(100):
        with open(f"{repo}/src/d{d:02}/f{f:02}.py", "w") as out:
            out.write("".join(f"def f{d}_{f}_{i}(x):\n    return x + {i}\n" for i in range(20)))
PY
git -C "$repo" add -A
git -C "$repo" commit -q -m "10,000 files"
"$cairn" init --ledger "$work/ledger" --origin bench.example.com/hooks > /dev/null
python3 - "$cairn" "$repo" "$work/ledger" "$commits" <<'PY'
import json, os, random, subprocess, sys, time
cairn, repo, ledger, commits = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tool = os.path.join(os.path.dirname(cairn), "cairn-capture")
random.seed(12)
def run(*args, env=None, stdin=None):
    done = subprocess.run(args, cwd=repo, env=env, input=stdin, capture_output=True)
    if done.returncode != 0:
        sys.exit(f"{args} failed: {done.stderr.decode()}")
    return done
def variant(name, env):
    times = []
    for n in range(commits):
        path = f"src/d{random.randrange(100):02}/f{random.randrange(100):02}.py"
        lines = open(f"{repo}/{path}").read().split("\n")
        new = f"def added_{name.split()[0]}_{n}(x):\n    return x * {n}\n"
        content = "\n".join(lines[:10]) + "\n" + new + "\n".join(lines[10:])
        edit = {"hook_event_name": "PostToolUse", "session_id": f"s-{n % 7}", "cwd": repo,
                "model": "claude-sonnet-4-5-20250929", "tool_name": "Write",
                "tool_input": {"file_path": f"{repo}/{path}", "content": content}}
        run(tool, "claude-code", stdin=json.dumps(edit).encode())
        with open(f"{repo}/{path}", "w") as out:
            out.write(content)
        run("git", "add", path)
        start = time.perf_counter()
        run("git", "commit", "-q", "-m", f"{name} {n}", env=env)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print(f"{name:<44} p50 {pick(0.5):6.1f} ms  p90 {pick(0.9):6.1f} ms  p99 {pick(0.99):6.1f} ms  ({commits} commits)")
    return pick(0.5), pick(0.99)
base = dict(os.environ)
plain = variant("no hooks", base)
run(cairn, "hooks", "install", "--ledger", ledger, "--agents", "none")
disabled = variant("hooks installed, CAIRN_HOOKS_DISABLE=1", {**base, "CAIRN_HOOKS_DISABLE": "1"})
hooked = variant("hooks installed (trailer + record + ledger)", base)
print(f"overhead of Cairn's hooks vs no hooks: p50 {hooked[0] - plain[0]:+.1f} ms, p99 {hooked[1] - plain[1]:+.1f} ms")
run(cairn, "hooks", "flush")  # the hooks deliver in the background: wait for the last delivery
size = run(cairn, "checkpoint", "--ledger", ledger).stdout.decode().split("\n")[1]
print(f"ledger entries after the run: {size} (one checkpoint per hooked commit)")
PY
