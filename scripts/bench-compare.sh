#!/usr/bin/env bash
# Compares `cairn bench` figures of two builds in one run (docs/performance.md, "Before and after").
#
# Usage: scripts/bench-compare.sh BASE_CAIRN NEW_CAIRN [ROUNDS]
#
# Runs each benchmark ROUNDS times (default 4) for each binary, alternating base and new (and which
# of them goes first) so that both see the same machine (other load, page cache, CPU frequency,
# the disk's write-back), and prints for each benchmark
# the median rate of each and their ratio, as a Markdown table. Every run also measures its own
# baseline (SHA-256 + LMDB limit), printed as the fraction of that limit.
set -euo pipefail
base=${1:?usage: bench-compare.sh BASE_CAIRN NEW_CAIRN [ROUNDS]}
new=${2:?usage: bench-compare.sh BASE_CAIRN NEW_CAIRN [ROUNDS]}
rounds=${3:-4}
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT

benchmarks=(
    "ingest-checkpoint-1k|bench ingest --records 200000"
    "ingest-raw-256|bench ingest --kind raw --record-size 256 --records 1000000"
    "ingest-raw-256-64-producers|bench ingest --kind raw --record-size 256 --producers 64 --records 50000"
    "proofs-1m|bench proofs --records 1000000 --samples 200000"
)

for round in $(seq 1 "$rounds"); do
    for entry in "${benchmarks[@]}"; do
        name=${entry%%|*}
        args=${entry#*|}
        # Alternate which binary runs first: the second of a pair runs on a disk still writing back
        # the first one's deleted ledger, which alone costs it ~10 % on this machine.
        order="base new"
        [ $((round % 2)) = 0 ] && order="new base"
        for which in $order; do
            binary=$base
            [ "$which" = new ] && binary=$new
            # shellcheck disable=SC2086
            "$binary" $args --directory "$work" --json >"$work/$name.$which.$round.json"
            echo "bench-compare: round $round $name $which: $(head -c 200 "$work/$name.$which.$round.json")" >&2
        done
    done
done

python3 - "$work" "$rounds" "${benchmarks[@]}" <<'PY'
import json, statistics, sys
work, rounds, entries = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def rates(name, which):
    out = []
    for r in range(1, rounds + 1):
        d = json.load(open(f"{work}/{name}.{which}.{r}.json"))
        if d.get("benchmark") == "proofs":
            out.append((d["inclusion_per_second"], d["consistency_per_second"], None))
        else:
            out.append((d["records_per_second"], None, d.get("fraction_of_limit")))
    return out
print("| benchmark | base (median) | new (median) | new / base | runs (base; new) |")
print("| --- | --- | --- | --- | --- |")
for entry in entries:
    name, args = entry.split("|", 1)
    b, n = rates(name, "base"), rates(name, "new")
    columns = [(0, "/s")] + ([(1, " consistency/s")] if b[0][1] is not None else [])
    for i, unit in columns:
        mb = statistics.median(x[i] for x in b)
        mn = statistics.median(x[i] for x in n)
        label = name + (" (inclusion)" if unit == "/s" and b[0][1] is not None else "") + \
            (" (consistency)" if i == 1 else "")
        runs = ", ".join(f"{x[i]:,.0f}" for x in b) + "; " + ", ".join(f"{x[i]:,.0f}" for x in n)
        print(f"| `cairn {args}` {label} | {mb:,.0f}/s | {mn:,.0f}/s | {mn / mb:.2f} | {runs} |")
PY
