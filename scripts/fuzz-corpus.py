#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets (docs/reliability.md, "Fuzzing").

    scripts/fuzz-corpus.py <out-dir> [--vectors DIR] [--bin DIR] [--targets "FuzzJSON FuzzNote ..."]

For each target, <out-dir>/<target>/ receives:
  - the committed seeds of Fuzz/corpus/<target>/ (if any: minimized crash inputs and hand-made cases);
  - examples from the repository: specs/*.md fenced blocks (proof files, policies, JSON), examples/records;
  - the interop vectors of Tests/Vectors/capture (git-ai notes, Agent Trace records);
  - the published test vectors of --vectors (default /work/shared/vectors; skipped if absent);
  - the seeds each fuzzer generates itself (signed checkpoints, valid proofs, policies naming its keys), written
    by running `<bin>/<target>` with CAIRN_FUZZ_WRITE_SEEDS (when --bin is given).
Seeds larger than 64 KiB are skipped. Files are named by their SHA-256, so re-running adds nothing twice.
"""
import argparse
import base64
import glob
import hashlib
import json
import os
import re
import subprocess
import sys

TARGETS = ["FuzzJSON", "FuzzRecord", "FuzzNote", "FuzzProof", "FuzzTilePath", "FuzzPolicy", "FuzzNDJSON", "FuzzRedaction",
           "FuzzGitAINote", "FuzzAgentTrace", "FuzzLineBundle", "FuzzDSSE", "FuzzWorkingEvent", "FuzzProviderLog",
           "FuzzBlobDisclosure", "FuzzKeyHistory", "FuzzTileTree", "FuzzSuccession", "FuzzS3Error",
           "FuzzRetentionPolicy"]
MAX_SEED = 64 * 1024
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--vectors", default="/work/shared/vectors")
    parser.add_argument("--bin")
    parser.add_argument("--targets", help="space-separated subset of the targets")
    args = parser.parse_args()
    targets = args.targets.split() if args.targets else TARGETS
    seeds = {t: [] for t in TARGETS}

    def add(target, data):
        if isinstance(data, str):
            data = data.encode()
        if 0 < len(data) <= MAX_SEED:
            seeds[target].append(data)

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    # Committed seeds.
    for t in TARGETS:
        for path in sorted(glob.glob(os.path.join(ROOT, "Fuzz", "corpus", t, "*"))):
            add(t, read(path))

    # Repository examples.
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "records", "*.json"))):
        for t in ("FuzzJSON", "FuzzRecord", "FuzzNDJSON", "FuzzRedaction"):
            add(t, read(path))
    jsonl = os.path.join(ROOT, "examples", "records.jsonl")
    if os.path.exists(jsonl):
        add("FuzzNDJSON", read(jsonl))
        for line in read(jsonl).splitlines():
            add("FuzzRecord", line)
    for path in sorted(glob.glob(os.path.join(ROOT, "specs", "*.md"))):
        for block in re.findall(r"^```[a-z]*\n(.*?)^```", read(path).decode(), re.S | re.M):
            first = block.split("\n", 1)[0]
            if first.startswith("c2sp.org/tlog-proof@v1") or re.match(r"old \d+$", first):
                add("FuzzProof", block)
            if "\u2014 " in block:
                add("FuzzNote", block)
            if re.search(r"^quorum ", block, re.M):
                add("FuzzPolicy", block)
            if first.startswith("{") or first.startswith("["):
                for t in ("FuzzJSON", "FuzzRecord", "FuzzNDJSON"):
                    add(t, block)
            for path_match in re.findall(r"tile/(?:entries|\d+)/[x0-9/]+(?:\.p/\d+)?", block):
                add("FuzzTilePath", path_match)
    # The interop vectors: git-ai authorship notes and Agent Trace records (Tests/Vectors/capture).
    capture = os.path.join(ROOT, "Tests", "Vectors", "capture")
    for path in sorted(glob.glob(os.path.join(capture, "git-ai-authorship", "**", "*.note"), recursive=True)):
        add("FuzzGitAINote", read(path))
    for path in sorted(glob.glob(os.path.join(capture, "agent-trace", "*.json*"))):
        if not path.endswith(".schema.json"):
            add("FuzzAgentTrace", read(path))
    # Provider log lines: the examples of specs/interop-formats.md §5 (its unlabelled blocks of JSON lines).
    interop = os.path.join(ROOT, "specs", "interop-formats.md")
    if os.path.exists(interop):
        for block in re.findall(r"^```\n(\{.*?)^```", read(interop).decode(), re.S | re.M):
            add("FuzzProviderLog", block)
    # Blob disclosures: a salted and an unsalted one that verify, and one whose salt does not match.
    for salt, content in ((bytes(range(32)), b"Rename the customer's account in staging."), (b"", b"--- a\n+++ b\n")):
        disclosure = {"format": "cairn-blob-disclosure/1",
                      "blob": "sha256:" + hashlib.sha256(salt + content).hexdigest(), "size": len(content),
                      "media_type": "text/plain; charset=utf-8", "salt": salt.hex(),
                      "content": base64.b64encode(content).decode()}
        add("FuzzBlobDisclosure", json.dumps(disclosure, separators=(",", ":")))
        add("FuzzBlobDisclosure", json.dumps(dict(disclosure, salt="00" * 32)))
    # Retention policies: the example, and each rule of it alone.
    policy = os.path.join(ROOT, "examples", "retention.json")
    if os.path.exists(policy):
        add("FuzzRetentionPolicy", read(policy))
        for line in read(policy).decode().splitlines():
            if '"erase_after"' in line:
                add("FuzzRetentionPolicy", '{"format":"cairn-retention/1","rules":[' + line.strip().rstrip(",") + "]}")
    schema = os.path.join(ROOT, "specs", "record-schema.json")
    if os.path.exists(schema):
        add("FuzzJSON", read(schema))

    # Published vectors (see <vectors>/README.md).
    v = args.vectors
    if os.path.isdir(v):
        for path in sorted(glob.glob(os.path.join(v, "jcs", "input", "*.json"))
                           + glob.glob(os.path.join(v, "jcs", "output", "*.json"))):
            add("FuzzJSON", read(path))
        for path in sorted(glob.glob(os.path.join(v, "capture", "**", "*.json"), recursive=True)):
            add("FuzzJSON", read(path))
            add("FuzzRecord", read(path))
            add("FuzzRedaction", read(path))
        for path in sorted(glob.glob(os.path.join(v, "capture", "**", "*.jsonl"), recursive=True)):
            add("FuzzNDJSON", read(path))
        notes = os.path.join(v, "note", "signed_note_vectors.json")
        if os.path.exists(notes):
            d = json.load(open(notes))
            for case in d["signed_note_cases"]:
                add("FuzzNote", base64.b64decode(case["note_b64"]))
            for section in ("checkpoint_signature_cases", "cosignature_v1_cases"):
                for case in d[section]:
                    add("FuzzNote", case["note"])
            for case in d["parse_only_examples"]:
                add("FuzzNote", case.get("note", ""))
            for case in d["vkey_valid"] + d["vkey_invalid"][:20]:
                add("FuzzNote", case["vkey"])
        bodies = os.path.join(v, "note", "checkpoint_body_vectors.json")
        if os.path.exists(bodies):
            for case in json.load(open(bodies))["vectors"]:
                add("FuzzNote", case["body"])
        for path in sorted(glob.glob(os.path.join(v, "jcs", "es6_numbers_first10000.txt"))):
            # A few IEEE-754 bit patterns as 8 big-endian bytes: FuzzJSON reads the first 8 bytes as a double.
            for line in read(path).decode().splitlines()[:64]:
                bits = int(line.split(",")[0], 16)
                add("FuzzJSON", bits.to_bytes(8, "big") + b" " + line.split(",")[1].encode())

    os.makedirs(args.out, exist_ok=True)
    for t in targets:
        d = os.path.join(args.out, t)
        os.makedirs(d, exist_ok=True)
        for data in seeds[t]:
            name = os.path.join(d, "seed-" + hashlib.sha256(data).hexdigest()[:16])
            if not os.path.exists(name):
                with open(name, "wb") as f:
                    f.write(data)
        if args.bin:
            env = dict(os.environ, CAIRN_FUZZ_WRITE_SEEDS=d)
            subprocess.run([os.path.join(args.bin, t)], env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"{t}: {len(os.listdir(d))} seeds in {d}", file=sys.stderr)


if __name__ == "__main__":
    main()
