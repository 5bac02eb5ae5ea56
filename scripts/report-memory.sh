#!/usr/bin/env bash
# Measures the memory of `cairn report` on a large ledger, to check that reports stream.
#
# Builds the release binary (unless CAIRN_BIN names one), creates a provenance ledger of N
# checkpoints with their reviews, tests and deploys (appended with `cairn append`, in batches),
# and runs `cairn report` (csv, then json) and `cairn report verify --ledger` under
# /usr/bin/time -v. It measures twice — at N/10 checkpoints and at N — so you can see whether
# memory grows with the ledger.
#
# Peak RSS as /usr/bin/time reports it includes the pages of the LMDB file that the scan has
# mapped in (file-backed, reclaimable, shared with the page cache). The script therefore also
# samples /proc/PID/status every 50 ms and reports the largest RssAnon (the process's own heap
# and stacks), which is what "bounded memory" is about.
#
# Usage: scripts/report-memory.sh [N] [WORKDIR]
#   N        checkpoints (default 1000000; 200000 takes a few minutes on 2 cores)
#   WORKDIR  where to build the ledger (default: a new temporary directory, removed at the end
#            unless KEEP=1)
# Needs: bash, awk, GNU time (/usr/bin/time; `apt-get install time`), Linux /proc.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-1000000}
work=${2:-}
if [ -z "$work" ]; then
    work=$(mktemp -d)
    [ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 69; }

cairn=${CAIRN_BIN:-}
if [ -z "$cairn" ]; then
    swift build -c release --product cairn >&2
    cairn="$(swift build -c release --show-bin-path)/cairn"
fi
export CAIRN_LEDGER="$work/ledger"
rm -rf "$CAIRN_LEDGER"
"$cairn" init --origin example.com/report-memory >/dev/null

# Appends checkpoints [from, to) with, for every other one, an approving review, for every
# fourth a passed test, and for every eighth a production deploy.
append_range() {
    awk -v from="$1" -v to="$2" 'BEGIN {
        hash = "sha256:"; for (i = 0; i < 32; i++) hash = hash "ab"
        for (i = from; i < to; i++) {
            day = sprintf("2026-%02d-%02dT%02d:%02d:%02dZ", 1 + int(i / 100000) % 12, 1 + int(i / 3600) % 28,
                int(i / 60) % 24, i % 60, i % 60)
            commit = sprintf("%040x", i)
            printf "{\"type\":\"checkpoint\",\"schema\":1,\"id\":\"cp-%d\",\"timestamp\":\"%s\",", i, day
            printf "\"requested_by\":\"dev%d@example.com\",\"tool_path\":\"ide\",", i % 97
            printf "\"model\":{\"id\":\"claude-sonnet-4-5\",\"version\":\"20250929\",\"provider\":\"anthropic\"},"
            printf "\"prompt\":\"Change number %d: add retry with exponential backoff\",", i
            printf "\"outputs\":[{\"repo\":\"payments\",\"commit\":\"%s\",\"path\":\"src/f%d.ts\",", commit, i % 500
            printf "\"ranges\":[[1,40]],\"content_hash\":\"%s\",\"contributor\":\"ai\"}]}\n", hash
            if (i % 2 == 0) printf "{\"type\":\"review\",\"schema\":1,\"subject\":\"cp-%d\",\"reviewer\":\"rev%d@example.com\",\"decision\":\"approved\",\"at\":\"%s\"}\n", i, i % 13, day
            if (i % 4 == 0) printf "{\"type\":\"test\",\"schema\":1,\"subject\":\"cp-%d\",\"result\":\"passed\",\"coverage\":0.8}\n", i
            if (i % 8 == 0) printf "{\"type\":\"deploy\",\"schema\":1,\"subject\":\"cp-%d\",\"git_commit\":\"%s\",\"branch\":\"main\",\"environment\":\"production\",\"at\":\"%s\"}\n", i, commit, day
        }
    }' | "$cairn" append --format jsonl >/dev/null
}

fill_to() {
    local target=$1 batch=20000
    while [ "$filled" -lt "$target" ]; do
        local next=$((filled + batch < target ? filled + batch : target))
        append_range "$filled" "$next"
        filled=$next
        printf '\r  %d / %d checkpoints' "$filled" "$n" >&2
    done
    printf '\n' >&2
}

# Runs a command under /usr/bin/time -v while sampling RssAnon; prints one result line.
measure() {
    local label=$1; shift
    local timing="$work/time.txt" samples="$work/rss.txt"
    : > "$samples"
    /usr/bin/time -v -o "$timing" "$@" >/dev/null &
    local timer=$!
    local child=""
    while kill -0 "$timer" 2>/dev/null; do
        [ -n "$child" ] || child=$(pgrep -P "$timer" | head -n 1 || true)
        if [ -n "$child" ] && [ -r "/proc/$child/status" ]; then
            awk '/^RssAnon:/ {print $2}' "/proc/$child/status" >> "$samples" 2>/dev/null || true
        fi
        sleep 0.05
    done
    wait "$timer"
    local peak wall anon
    peak=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$timing")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$timing")
    anon=$(sort -n "$samples" | tail -n 1)
    printf '%-40s peak RSS %7d KiB   max RssAnon %7s KiB   wall %s\n' "$label" "$peak" "${anon:-?}" "$wall"
}

filled=0
for target in $((n / 10)) "$n"; do
    echo "building the ledger to $target checkpoints in $work" >&2
    fill_to "$target"
    size=$("$cairn" checkpoint | sed -n 2p)
    du=$(du -sh "$CAIRN_LEDGER" | cut -f1)
    echo "== $target checkpoints, $size entries, ledger $du"
    measure "report --format csv ($target)" "$cairn" report --format csv --output "$work/report.csv"
    echo "   report.csv: $(wc -c < "$work/report.csv") bytes, $(($(wc -l < "$work/report.csv") - 1)) rows"
    measure "report --format json ($target)" "$cairn" report --format json --output "$work/report.json"
    measure "report verify --ledger ($target)" "$cairn" report verify "$work/report.csv" \
        --vkey "$CAIRN_LEDGER/ledger.vkey" --ledger "$CAIRN_LEDGER"
done
