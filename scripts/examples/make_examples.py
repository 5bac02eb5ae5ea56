"""Regenerates examples/records/*.json (one full example per record type).

Run from anywhere: python3 scripts/examples/make_examples.py && python3 scripts/examples/make_spec.py
The payload blobs the checkpoint references are real files in examples/blobs/, so the examples can be
appended to a ledger after `cairn blob put` of those files (see specs/record-schema.md).
"""
import hashlib, json, os
from collections import OrderedDict as O

root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
out = os.path.join(root, "examples", "records")
def blob(name, media_type):
    data = open(os.path.join(root, "examples", "blobs", name), "rb").read()
    return O([("blob", "sha256:" + hashlib.sha256(data).hexdigest()), ("size", len(data)), ("media_type", media_type)])
def h(label): return "sha256:" + hashlib.sha256(label.encode()).hexdigest()
def jcs(v): return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

def fmt(v, indent=0):
    pad = "  " * indent
    if isinstance(v, dict):
        if not v: return "{}"
        items = [f'{pad}  {json.dumps(k, ensure_ascii=False)}: {fmt(x, indent + 1)}' for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(v, list):
        if all(not isinstance(x, (dict, list)) or (isinstance(x, list) and all(not isinstance(y, (dict, list)) for y in x)) for x in v):
            inline = "[" + ", ".join(fmt(x) for x in v) + "]"
            if len(pad) + len(inline) < 90: return inline
        if not v: return "[]"
        return "[\n" + ",\n".join(pad + "  " + fmt(x, indent + 1) for x in v) + "\n" + pad + "]"
    return json.dumps(v, ensure_ascii=False)

CID = "0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01"
OLD = "9fceb02d0ae598e95dc970b74767f19372d61af8"
NEW = "51ae1a0535e12a6729a9b09e71e4a2467dcdcb6d"
RAW_REF = blob("raw-output.diff", "text/x-diff; charset=utf-8")
RAW = RAW_REF["blob"]
repo = "git@example.com:payments/client.git"

checkpoint = O([
    ("type", "checkpoint"), ("schema", 1),
    ("id", CID),
    ("timestamp", "2026-11-20T09:14:03.120Z"),
    ("requested_by", "alice@example.com"),
    ("tool_path", "agent"),
    ("model", O([("id", "claude-sonnet-4-5-20250929"), ("version", "20250929"), ("release_date", "2025-09-29"),
                 ("provider", "anthropic")])),
    ("prompt", "Add retry with exponential backoff and jitter to the payment client."),
    ("outputs", [
        O([("repo", repo), ("commit", OLD), ("path", "src/retry.ts"), ("ranges", [[12, 58], [71, 74]]),
           ("content_hash", h("src/retry.ts@" + OLD)), ("contributor", "ai")]),
        O([("repo", repo), ("commit", OLD), ("path", "test/retry.test.ts"), ("ranges", [[1, 96]]),
           ("content_hash", h("test/retry.test.ts@" + OLD)), ("contributor", "mixed")]),
    ]),
    ("session_id", "sess_01JCX3K9Q2"),
    ("request_id", "req_011CVp3sR9mJ5"),
    ("work_item", "PAY-1423"),
    ("agent_role", "implementer"),
    ("turns", [
        O([("role", "user"), ("content", "Retry failed payment calls, with jitter."), ("at", "2026-11-20T09:12:40Z")]),
        O([("role", "assistant"), ("content", blob("assistant-turn-1.md", "text/markdown; charset=utf-8"))]),
    ]),
    ("raw_output", RAW_REF),
    ("constraints", ["no new dependencies", "keep the public API of PaymentClient unchanged"]),
    ("alternatives", [O([("approach", "use the axios-retry package"),
                         ("rejected_because", "adds a dependency, against the constraints")])]),
    ("reasoning", [
        O([("step", 1), ("action", "read src/client.ts"), ("reasoning", "find where requests are sent")]),
        O([("step", 2), ("action", "wrap send() in retry()"), ("reasoning", "one place covers every call")]),
    ]),
    ("cost", O([("input_tokens", 48213), ("output_tokens", 3904), ("usd", 0.2031)])),
    ("context", O([
        ("files", ["src/client.ts", "docs/retries.md"]),
        ("urls", ["https://wiki.example.com/payments/retry-policy"]),
        ("dlp_scan", O([("result", "clean"), ("tool", "gitleaks 8.21.2"), ("at", "2026-11-20T09:12:41Z")])),
    ])),
    ("risk", O([("security", "low"), ("operational", "medium"), ("compliance", "low")])),
])
address = "sha256:" + hashlib.sha256(jcs(checkpoint)).hexdigest()

records = {
    "checkpoint": checkpoint,
    "review": O([("type", "review"), ("schema", 1), ("subject", address), ("reviewer", "bob@example.com"),
                 ("decision", "approved"), ("at", "2026-11-20T10:02:41Z"),
                 ("feedback", ["Jitter is bounded as requested.", "Add a metric for retry exhaustion (PAY-1431)."])]),
    "test": O([("type", "test"), ("schema", 1), ("subject", CID), ("result", "passed"),
               ("unit", O([("passed", 42), ("failed", 0), ("skipped", 1)])),
               ("integration", O([("passed", 7), ("failed", 0), ("skipped", 0)])),
               ("coverage", 0.87),
               ("edge_cases", ["retry budget exhausted", "server sends Retry-After", "POST without idempotency key"]),
               ("at", "2026-11-20T10:20:00Z")]),
    "correction": O([("type", "correction"), ("schema", 1), ("corrects", address), ("author", "alice@example.com"),
                     ("reason", "Wrong work item, and the operational risk was underestimated."),
                     ("patch", O([("work_item", "PAY-1432"), ("risk", O([("operational", "high")]))])),
                     ("at", "2026-11-20T10:31:12Z")]),
    "rewrite": O([("type", "rewrite"), ("schema", 1), ("old_commit", OLD), ("new_commit", NEW), ("kind", "rebase"),
                  ("at", "2026-11-20T11:05:00Z"), ("repo", repo), ("subject", CID)]),
    "deploy": O([("type", "deploy"), ("schema", 1), ("subject", CID), ("git_commit", NEW), ("branch", "main"),
                 ("environment", "production"), ("at", "2026-11-21T18:00:00Z")]),
    "rollback": O([("type", "rollback"), ("schema", 1), ("subject", CID), ("at", "2026-11-21T18:42:10Z"),
                   ("environment", "production"), ("reason", "p99 latency regression on the checkout path")]),
    "erasure": O([("type", "erasure"), ("schema", 1), ("blob", RAW),
                  ("reason", "The raw output quoted a customer's card number (incident SEC-2291)."),
                  ("at", "2026-11-22T08:00:00Z"), ("author", "security@example.com")]),
}
os.makedirs(out, exist_ok=True)
for name, record in records.items():
    with open(os.path.join(out, name + ".json"), "w") as f:
        f.write(fmt(record) + "\n")
    print(name, len(jcs(record)), "canonical bytes")
print("checkpoint address", address)
