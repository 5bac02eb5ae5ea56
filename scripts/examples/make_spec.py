"""Regenerates specs/record-schema.md from spec_template.md and examples/records/*.json."""
import json, hashlib, os
root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
src = open(os.path.join(root, "scripts", "examples", "spec_template.md")).read()
def jcs(v): return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
for t in ["checkpoint", "review", "test", "deploy", "rollback", "rewrite", "correction", "erasure"]:
    text = open(os.path.join(root, "examples", "records", t + ".json")).read()
    src = src.replace("```json\n" + t.upper() + "```", "```json\n" + text + "```")
    if t in ("checkpoint", "correction"):
        addr = hashlib.sha256(jcs(json.loads(text))).hexdigest()
        src = src.replace("sha256:" + t.upper() + "_ADDRESS", "sha256:" + addr)
open(os.path.join(root, "specs", "record-schema.md"), "w").write(src)
