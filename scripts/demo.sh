#!/usr/bin/env bash
# End-to-end demo: create a ledger, append sample provenance records, prove and verify
# inclusion and consistency offline, and check the ledger with fsck.
#
# Usage: scripts/demo.sh [path/to/cairn]   (make demo passes the freshly built binary)
set -euo pipefail
cd "$(dirname "$0")/.."

cairn=${1:-.build/debug/cairn}
dir=${DEMO_DIR:-demo-ledger}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }

rm -rf "$dir"
export CAIRN_LEDGER=$dir

step "Create a ledger (Ed25519 key, empty signed checkpoint)"
run "$cairn" init --origin example.com/cairn-demo

step "Append the first batch of provenance records (JSON Lines)"
head -n 3 examples/records.jsonl > "$work/first.jsonl"
run "$cairn" append "$work/first.jsonl"
run "$cairn" checkpoint | tee "$work/old.checkpoint"

step "Append the rest; appending the same records again adds nothing"
run "$cairn" append examples/records.jsonl

step "Look at a record by index and by content address"
run "$cairn" get 1
digest=$("$cairn" get 1 --json | sed -E 's/.*"digest":"([^"]+)".*/\1/')
run "$cairn" get "$digest" --raw > "$work/entry.json"
echo

step "Prove that record 1 is in the log, and verify offline with only the vkey"
run "$cairn" prove inclusion "$digest" -o "$work/proof.tlog-proof"
cat "$work/proof.tlog-proof"
run "$cairn" verify inclusion --vkey "$dir/ledger.vkey" --proof "$work/proof.tlog-proof" --entry "$work/entry.json"

step "Prove the log only grew since the first checkpoint, and verify"
run "$cairn" prove consistency --old 3 -o "$work/consistency.txt"
cat "$work/consistency.txt"
run "$cairn" verify consistency --vkey "$dir/ledger.vkey" --old "$work/old.checkpoint" --proof "$work/consistency.txt"

step "A tampered entry (approved -> rejected) is rejected"
sed 's/approved/rejected/' "$work/entry.json" > "$work/tampered.json"
if run "$cairn" verify inclusion --vkey "$dir/ledger.vkey" --proof "$work/proof.tlog-proof" --entry "$work/tampered.json"; then
    echo "demo: tampered entry was accepted!" >&2
    exit 1
fi

step "Check the whole ledger"
run "$cairn" fsck

printf '\nDemo ledger left in %s (vkey: %s)\n' "$dir" "$(cat "$dir/ledger.vkey")"
