#!/usr/bin/env bash
# Issue 11's targets in one sitting (docs/performance.md, "Issue 11's targets, in one sitting"): every
# measurement of the table, one after the other, results as JSON and text files in OUTDIR.
#
# Usage: Benchmarks/issue-11-sitting.sh CAIRN_BINARY OUTDIR      (~6 min on the 2-vCPU machine; needs
# python3, wrk (Benchmarks/HTTP/run.sh installs it) and ~4 GB free in $TMPDIR for the 10M import)
set -uo pipefail
C="$(realpath "$1")"; out="$(realpath -m "$2")"; mkdir -p "$out"; cd "$(dirname "$0")/.."
w="${TMPDIR:-/tmp}/cairn-sitting.$$"; rm -rf "$w"; mkdir -p "$w"
log() { echo "$(date -u +%H:%M:%S) $*" | tee -a "$out/log.txt"; }
log "binary $C"
for i in 1 2; do
  log "raw $i"; $C bench ingest --kind raw --record-size 256 --records 1000000 --directory "$w" --json > "$out/raw-$i.json" 2>>"$out/err.txt"
done
for i in 1 2; do
  log "checkpoints $i"; $C bench ingest --records 200000 --directory "$w" --json > "$out/ckpt-$i.json" 2>>"$out/err.txt"
done
log "import 200k checkpoints"
# The records of a 200,000-checkpoint bench ledger, as JSON Lines.
$C bench ingest --records 200000 --directory "$w/src" --keep > /dev/null 2>&1
$C query --ledger "$(ls -d "$w"/src/cairn-bench-ingest-*)" --jsonl | python3 -c '
import json, sys
for line in sys.stdin:
    print(json.dumps(json.loads(line)["record"], separators=(",", ":")))
' > "$w/ckpt.jsonl"
rm -rf "$w/src"
$C init --ledger "$w/imp" --origin bench.local/import >/dev/null
/usr/bin/time -f "%e" -o "$out/import-ckpt.time" $C import "$w/ckpt.jsonl" --ledger "$w/imp" --json > "$out/import-ckpt.json" 2>>"$out/err.txt"
rm -rf "$w/imp"
for n in 1000000 10000000; do
  log "proofs $n"; $C bench proofs --records $n --samples 200000 --threads 1 --directory "$w/p" --json > "$out/proofs-$n.json" 2>>"$out/err.txt"; rm -rf "$w/p" "$w/p.per-key"
done
log "producers raw"; $C bench ingest --kind raw --record-size 256 --producers 256 --durable-per-record --records 200000 --directory "$w" --json > "$out/prod-raw.json" 2>>"$out/err.txt"
log "producers ckpt"; $C bench ingest --producers 256 --durable-per-record --records 50000 --directory "$w" --json > "$out/prod-ckpt.json" 2>>"$out/err.txt"
for b in 1 8; do
  log "http batch $b"; CAIRN=$C Benchmarks/HTTP/run.sh --clients 64 --batch $b --json > "$out/http-$b.json" 2>>"$out/err.txt"
done
log "queries: building 1M"
$C bench ingest --records 1000000 --directory "$w/q" --keep > "$out/q-build.txt" 2>&1
L=$(ls -d "$w"/q/cairn-bench-ingest-*)
mean() { # mean ms of 20 runs of a command
  python3 - "$@" <<'PY'
import subprocess, sys, time
cmd = sys.argv[1:]
subprocess.run(cmd, stdout=subprocess.DEVNULL)
ts = []
for _ in range(20):
    t = time.perf_counter(); r = subprocess.run(cmd, stdout=subprocess.PIPE); ts.append((time.perf_counter() - t) * 1000)
print(round(sum(ts) / len(ts), 2), len(r.stdout.splitlines()))
PY
}
{
  echo "checkpoint $(mean $C checkpoint --ledger $L)"
  echo "requested-by $(mean $C query --ledger $L --requested-by dev5@example.com --limit 100)"
  echo "repo $(mean $C query --ledger $L --repo git@example.com:team3/service.git --limit 100)"
  echo "model $(mean $C query --ledger $L --model claude-sonnet-4-5 --limit 100)"
  echo "work-item $(mean $C query --ledger $L --work-item PAY-17 --limit 100)"
  echo "path+line $(mean $C query --ledger $L --path src/module7/file7.ts --line 10)"
  echo "model+requested-by $(mean $C query --ledger $L --model claude-sonnet-4-5 --requested-by dev5@example.com --limit 100)"
  echo "repo+requested-by $(mean $C query --ledger $L --repo git@example.com:team3/service.git --requested-by dev5@example.com --limit 100)"
  echo "model+repo+requested-by $(mean $C query --ledger $L --model claude-sonnet-4-5 --repo git@example.com:team3/service.git --requested-by dev5@example.com --limit 100)"
  echo "tool-path+requested-by $(mean $C query --ledger $L --tool-path agent --requested-by dev5@example.com --limit 100)"
  echo "unreviewed+requested-by $(mean $C query --ledger $L --unreviewed --requested-by dev5@example.com --limit 100)"
} > "$out/queries.txt" 2>>"$out/err.txt"
log "jsonl"
/usr/bin/time -f "%e" -o "$out/jsonl.time" $C query --ledger $L --jsonl | wc -l > "$out/jsonl.rows"
rm -rf "$w/q"
log "10M import"
python3 -c 'for i in range(10_000_000): print("{\"n\":%d,\"p\":\"%s\"}" % (i, "x"*200))' > "$w/10m.jsonl"
$C init --profile generic --origin bench.local/import --ledger "$w/imp10" >/dev/null
start=$(date +%s.%N)
$C import "$w/10m.jsonl" --ledger "$w/imp10" --json > "$out/import-10m.json" 2> >(while IFS= read -r line; do echo "$(date +%s.%N) $line"; done > "$out/import-10m.progress") &
pid=$!
while kill -0 $pid 2>/dev/null; do
  echo "$(date +%s.%N) $(grep -E 'RssAnon' /proc/$pid/status 2>/dev/null | tr -s ' ')" >> "$out/import-10m.rss"; sleep 0.5
done
wait $pid
end=$(date +%s.%N); echo "$start $end" > "$out/import-10m.span"
rm -rf "$w"
log "done"
# Summaries: the import's rate at the start and the end, and its peak RssAnon.
python3 - "$out" <<'PY'
import sys
out = sys.argv[1]
points = []
for line in open(out + "/import-10m.progress"):
    parts = line.split()
    if len(parts) >= 4 and parts[1] == "progress:":
        points.append((float(parts[0]), int(parts[3])))
def rate(a, b): return (b[1] - a[1]) / (b[0] - a[0])
if len(points) >= 3:
    print("10M import: first interval %.0f/s, last intervals %.0f/s" % (rate(points[0], points[1]), rate(points[-3], points[-1])))
rss = [int(l.split()[2]) for l in open(out + "/import-10m.rss") if "RssAnon" in l]
print("10M import: peak RssAnon %.0f MiB" % (max(rss) / 1024))
PY
