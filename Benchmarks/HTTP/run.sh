#!/usr/bin/env bash
# HTTP append load test for `cairn serve` (docs/performance.md, "HTTP ingest").
#
# Starts a release `cairn serve` on a loopback port over a fresh ledger, drives POST /v1/entries
# with wrk (CLIENTS concurrent keep-alive connections, each sending its next request as soon as
# the previous one is answered, i.e. after the records are durable), then checks that the log
# grew by exactly the acknowledged records and that fsck passes. The baseline, measured in the
# same run: the same number of in-process producers appending through the same group-commit
# engine (`cairn bench ingest --producers CLIENTS`), so the ratio is the cost of HTTP.
#
# Usage: Benchmarks/HTTP/run.sh [--clients N] [--duration SECONDS] [--batch RECORDS]
#                               [--threads WRK_THREADS] [--profile generic|provenance] [--json]
# Environment: CAIRN (a cairn binary; default: build the release one), TMPDIR.
# Needs wrk (Debian package `wrk`; installed if missing and apt-get is usable).
set -euo pipefail

clients=64 duration=20 batch=1 threads=2 json=0 pad=160
while [[ $# -gt 0 ]]; do
    case "$1" in
        --clients) clients="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --batch) batch="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --json) json=1; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if ! command -v wrk >/dev/null; then
    echo "run.sh: installing wrk" >&2
    if [[ $(id -u) -eq 0 ]]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi
if [[ -z "${CAIRN:-}" ]]; then
    echo "run.sh: building the release cairn" >&2
    swift build -c release --package-path "$root" --product cairn >&2
    CAIRN="$(swift build -c release --package-path "$root" --show-bin-path)/cairn"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/cairn-http-bench.XXXXXX")"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# Baseline: the same concurrency in-process, same record size (the records below are ~230 bytes).
baseline_records=$((clients * 1500))
baseline="$("$CAIRN" bench ingest --kind raw --producers "$clients" --records "$baseline_records" \
    --record-size 230 --directory "$work" --json)"

ledger="$work/ledger"
"$CAIRN" init --ledger "$ledger" --origin bench.example/http --profile generic >/dev/null
token="$("$CAIRN" token create --ledger "$ledger" --role append --name load-test --json \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"

"$CAIRN" serve --ledger "$ledger" --listen 127.0.0.1:0 --rate-limit 0 --log-level warning \
    >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 1 200); do
    grep -q '^listening on ' "$work/serve.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
    sleep 0.05
done
url="$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$work/serve.out" | head -1)"
[[ -n "$url" ]] || { echo "run.sh: the server did not start" >&2; cat "$work/serve.err" >&2; exit 1; }

size() { "$CAIRN" checkpoint --ledger "$ledger" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])'; }
before="$(size)"
result="$(CAIRN_TOKEN="$token" CAIRN_BENCH_RUN="$(date +%s%N)" CAIRN_BENCH_BATCH="$batch" CAIRN_BENCH_PAD="$pad" \
    wrk --threads "$threads" --connections "$clients" --duration "${duration}s" --timeout 10s \
        --script "$here/append.lua" "$url" | tail -1)"
after="$(size)"
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
"$CAIRN" fsck --ledger "$ledger" >/dev/null

python3 - "$result" "$baseline" "$before" "$after" "$clients" "$batch" "$json" <<'PY'
import json, sys
result, baseline = json.loads(sys.argv[1]), json.loads(sys.argv[2])
before, after, clients, batch, as_json = (int(a) for a in sys.argv[3:8])
appended = after - before
acknowledged = result["ok"] * batch
seconds = result["duration_us"] / 1e6
rate = appended / seconds
base_rate = baseline["records_per_second"]
summary = {
    "clients": clients, "records_per_request": batch, "seconds": round(seconds, 2),
    "requests": result["requests"], "acknowledged_records": acknowledged, "appended_records": appended,
    "refused_requests": result["refused"], "failed_requests": result["failed"],
    "socket_errors": result["socket_errors"],
    "durable_appends_per_second": round(rate), "requests_per_second": round(result["requests"] / seconds),
    "latency_ms": {k: round(v / 1000, 2) for k, v in result["latency_us"].items()},
    "baseline_in_process_appends_per_second": round(base_rate),
    "ratio_to_baseline": round(rate / base_rate, 3),
}
if as_json:
    print(json.dumps(summary))
else:
    l = summary["latency_ms"]
    print(f"{clients} HTTP clients, {batch} record(s) per request, {seconds:.1f} s")
    print(f"  durable appends/s  {rate:,.0f}   ({summary['requests_per_second']:,} requests/s)")
    print(f"  latency per request  p50 {l['p50']} ms  p90 {l['p90']} ms  p99 {l['p99']} ms  max {l['max']} ms")
    print(f"  baseline: {clients} in-process producers  {base_rate:,.0f} appends/s;  HTTP / baseline = {rate / base_rate:.2f}")
    print(f"  acknowledged {acknowledged:,}, log grew by {appended:,}; refused {result['refused']}, "
          f"failed {result['failed']}, socket errors {result['socket_errors']}; fsck passed")
# A record acknowledged but not in the log would be a durability bug; more in the log than
# acknowledged is fine only for requests still in flight when wrk stopped.
if acknowledged > appended or result["failed"]:
    sys.exit("run.sh: acknowledged records missing from the log, or failed requests")
PY
