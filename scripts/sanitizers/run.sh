#!/usr/bin/env bash
# Runs Cairn's test suite under a sanitizer: scripts/sanitizers/run.sh address|thread [swift test options]
#
#   scripts/sanitizers/run.sh address                      # the whole suite under ASan (+ LSan)
#   scripts/sanitizers/run.sh thread                       # the whole suite under TSan
#   scripts/sanitizers/run.sh address --filter IngestEngine  # extra options go to `swift test`
#
# Everything is built with the sanitizer in its own scratch directory (.build-address,
# .build-thread), the `cairn` binary the CLI tests spawn included. Every report, of the test
# process or of any child process, goes to a file in the log directory (log_path), not to the
# child's stderr, where a test reading that stderr could swallow it: the run fails if the test
# run fails or if the log directory holds any report afterwards. docs/reliability.md, "Sanitizers".
#
# Environment: SWIFT (default swift); SANITIZER_LOG_DIR (default <scratch>/sanitizer-logs, emptied
# first); SANITIZER_EXTRA_OPTIONS (appended to ASAN_OPTIONS or TSAN_OPTIONS).
set -uo pipefail

usage() { echo "usage: $0 address|thread [swift test options]" >&2; exit 64; }
[ $# -ge 1 ] || usage
sanitizer=$1
shift
case "$sanitizer" in address | thread) ;; *) usage ;; esac

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1
swift=${SWIFT:-swift}
scratch=".build-$sanitizer"
logs=${SANITIZER_LOG_DIR:-"$root/$scratch/sanitizer-logs"}
rm -rf "$logs"
mkdir -p "$logs"
output="$logs/../sanitizer-swift-test.log"

symbolizer=$(command -v llvm-symbolizer || true)
if [ -z "$symbolizer" ]; then
    swiftc_path=$(command -v swiftc || true)
    [ -n "$swiftc_path" ] && [ -x "$(dirname "$(readlink -f "$swiftc_path")")/llvm-symbolizer" ] &&
        symbolizer="$(dirname "$(readlink -f "$swiftc_path")")/llvm-symbolizer"
fi
[ -n "$symbolizer" ] || echo "warning: no llvm-symbolizer found: stacks will not be symbolized" >&2

common="log_path=$logs/${sanitizer}:log_exe_name=1:strip_path_prefix=$root/"
[ -n "$symbolizer" ] && common="$common:external_symbolizer_path=$symbolizer"
if [ "$sanitizer" = address ]; then
    # halt_on_error: the first error ends the process (exit status 1, no core dump), so a corrupted
    # heap is never run on; leaks are checked at every exit (LSan), suppressed only by lsan.supp.
    export ASAN_OPTIONS="$common:halt_on_error=1:abort_on_error=0:detect_leaks=1:suppressions=$here/asan.supp${SANITIZER_EXTRA_OPTIONS:+:$SANITIZER_EXTRA_OPTIONS}"
    export LSAN_OPTIONS="$common:suppressions=$here/lsan.supp:print_suppressions=0"
    export ASAN_SYMBOLIZER_PATH="$symbolizer"
    unset TSAN_OPTIONS
else
    # halt_on_error=0: report every race of the run (each in the log directory), not the first
    # only; a process that reported one exits with status 66 (TSan's default), so its test fails too.
    export TSAN_OPTIONS="$common:halt_on_error=0:second_deadlock_stack=1:history_size=4:suppressions=$here/tsan.supp${SANITIZER_EXTRA_OPTIONS:+:$SANITIZER_EXTRA_OPTIONS}"
    unset ASAN_OPTIONS LSAN_OPTIONS
fi

echo "sanitizer: $sanitizer; scratch path: $scratch; reports: $logs"
echo "${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS}${TSAN_OPTIONS:+TSAN_OPTIONS=$TSAN_OPTIONS}"
started=$(date +%s)
"$swift" test --sanitize="$sanitizer" --scratch-path "$scratch" "$@" 2>&1 | tee "$output"
status=${PIPESTATUS[0]}
elapsed=$(($(date +%s) - started))

echo
echo "== sanitizer run: $sanitizer, swift test exited $status after ${elapsed}s (output: $output)"
grep -E "^(Test run with|Executed [0-9]+ tests|✘ Test run|✔ Test run)" "$output" | tail -n 4

reports=$(find "$logs" -type f -size +0 | sort)
if [ -n "$reports" ]; then
    echo "== $(echo "$reports" | wc -l) sanitizer report file(s) in $logs:"
    for file in $reports; do
        echo "-- $file"
        grep -m 3 -E "SUMMARY:|ERROR:|WARNING: ThreadSanitizer" "$file" | sed 's/^/   /'
    done
    echo "FAIL: sanitizer reports (see the files above)"
    exit 1
fi
echo "== no sanitizer reports"
if [ "$status" -ne 0 ]; then
    echo "FAIL: the test run failed"
    exit "$status"
fi
echo "PASS"
