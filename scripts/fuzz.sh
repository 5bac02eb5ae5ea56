#!/usr/bin/env bash
# Runs the libFuzzer targets of Fuzz/ one after another (docs/reliability.md, "Fuzzing").
#
#   scripts/fuzz.sh --bin DIR [--runs N | --seconds S] [--targets "FuzzJSON FuzzNote ..."] [--work DIR]
#
# For each target: builds its seed corpus in <work>/corpus/<target> (scripts/fuzz-corpus.py: repository
# examples, /work/shared/vectors when present, and the fuzzer's generated seeds), runs the fuzzer for N
# executions (-runs) or S seconds (-max_total_time), and prints one line: executions, seconds, exec/s,
# coverage (cov, ft) and the result. Logs go to <work>/logs/<target>.log, crash inputs to
# <work>/artifacts/<target>-crash-*. Exits 1 if any target found a crash, a leak or a broken oracle.
#
# Environment: FUZZ_ARGS (extra libFuzzer flags), VECTORS (test vectors, default /work/shared/vectors).
set -u
cd "$(dirname "$0")/.."

BIN=""
RUNS=""
SECONDS_BUDGET=""
WORK=".build-fuzz/work"
TARGETS="FuzzJSON FuzzRecord FuzzNote FuzzProof FuzzTilePath FuzzPolicy FuzzNDJSON"
while [ $# -gt 0 ]; do
    case "$1" in
    --bin) BIN="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --seconds) SECONDS_BUDGET="$2"; shift 2 ;;
    --targets) TARGETS="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
[ -n "$BIN" ] || { echo "--bin DIR is required (the fuzzers' build directory)" >&2; exit 2; }

# The largest input each target tries: enough for the formats, small enough for a useful rate.
max_len() {
    case "$1" in
    FuzzTilePath) echo 256 ;;
    FuzzNote | FuzzPolicy | FuzzNDJSON) echo 2048 ;;
    *) echo 4096 ;;
    esac
}

# Swift's lazily initialized globals are reported as leaks at exit (Fuzz/lsan.supp); Swift's own crash
# handler must not run inside ASan's.
export LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export SWIFT_BACKTRACE="enable=no"

mkdir -p "$WORK/logs" "$WORK/artifacts"
scripts/fuzz-corpus.py "$WORK/corpus" --bin "$BIN" ${VECTORS:+--vectors "$VECTORS"} --targets "$TARGETS" 2>/dev/null \
    || { echo "cannot build the seed corpora" >&2; exit 2; }

failed=0
printf '%-13s %12s %8s %8s %7s %8s  %s\n' target executions seconds exec/s cov ft result
for target in $TARGETS; do
    log="$WORK/logs/$target.log"
    budget=()
    [ -n "$RUNS" ] && budget+=("-runs=$RUNS")
    [ -n "$SECONDS_BUDGET" ] && budget+=("-max_total_time=$SECONDS_BUDGET")
    start=$(date +%s)
    # shellcheck disable=SC2086
    "$BIN/$target" "$WORK/corpus/$target" "${budget[@]}" -max_len="$(max_len "$target")" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$WORK/artifacts/$target-" ${FUZZ_ARGS:-} \
        >"$log" 2>&1
    status=$?
    elapsed=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    if [ "$status" = 0 ]; then
        result=ok
    else
        failed=1
        result="FAILED (exit $status): $(grep -m1 -E 'ORACLE|ERROR|deadly|Fatal error|panic' "$log" | cut -c1-120)"
    fi
    printf '%-13s %12s %8s %8s %7s %8s  %s\n' "$target" "${execs:-?}" "$elapsed" "${rate:-?}" "${cov:-?}" \
        "${ft:-?}" "$result"
done
exit $failed
