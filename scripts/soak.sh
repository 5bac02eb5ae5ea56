#!/usr/bin/env bash
# Soak test of `cairn serve` under SIGKILL (issue 10 §3; docs/reliability.md, "Soak").
#
# Usage: scripts/soak.sh [--cairn PATH] [--kills N] [--seconds-between S] [--smoke] [other options]
#        scripts/soak.sh --help        (every option; the work is done by scripts/soak.py)
#
# Builds nothing: it runs the cairn binary given with --cairn, else $CAIRN_BIN, else
# .build/release/cairn, else the one `swift build --show-bin-path` names (a debug build).
# `make soak` builds a release binary and runs the full soak (100 kills); `make soak-smoke` runs
# the short one CI runs (5 kills). Exit status: 0 all checks held, 1 a violation (named on stderr
# and in the summary), 2 the soak could not run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

command -v python3 >/dev/null || { echo "soak: python3 (3.11 or later) is required" >&2; exit 2; }
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "soak: python3 is $(python3 --version 2>&1); 3.11 or later is required" >&2; exit 2; }

cairn=${CAIRN_BIN:-}
for arg in "$@"; do
    case $arg in --cairn|--cairn=*) cairn=given ;; esac
done
if [ "$cairn" = given ]; then
    exec python3 "$here/soak.py" "$@"
fi
if [ -z "$cairn" ]; then
    if [ -x "$root/.build/release/cairn" ]; then
        cairn=$root/.build/release/cairn
    else
        cairn="$(cd "$root" && swift build --show-bin-path)/cairn"
    fi
fi
exec python3 "$here/soak.py" --cairn "$cairn" "$@"
