"""Regenerates specs/record-schema.json (JSON Schema draft 2020-12)."""
import json, os
from collections import OrderedDict as O

END = r"$(?!\n)"
DATE = (r"(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
        r"|02-(?:0[1-9]|1[0-9]|2[0-8]))|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)")
TIME = r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?Z"
SEGMENT = r"(?!\.\.?(?:/|$))[^/\u0000-\u001f]+"
NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
QUOTED = r'"(?:[\t !#-\[\]-~]|\\[\t -~])*"'
MEDIA = "^" + NAME + "/" + NAME + r"(?:[ \t]*;[ \t]*" + TOKEN + "=(?:" + TOKEN + "|" + QUOTED + "))*" + END
WHITESPACE = r"\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

def ref(name): return O([("$ref", "#/$defs/" + name)])
def obj(required, properties, extra=None, open_=True):
    d = O([("type", "object"), ("required", required), ("properties", O(properties))])
    if extra: d.update(extra)
    d["additionalProperties"] = ref("extension") if open_ else False
    return d
def record(name, description, required, properties, extra=None):
    props = [("type", O([("const", name)])), ("schema", O([("const", 1)]))] + properties
    d = O([("description", description)])
    d.update(obj(["type", "schema"] + required, props, extra))
    return d
def enum(*values): return O([("enum", list(values))])
def array(items, min_items=None):
    d = O([("type", "array"), ("items", items)])
    if min_items: d["minItems"] = min_items
    return d
def any_of_required(*names): return {"anyOf": [O([("required", [n])]) for n in names]}

defs = O()
defs["checkpoint"] = record("checkpoint", "One AI-assisted change.", [
    "id", "timestamp", "requested_by", "tool_path", "model", "prompt", "outputs"], [
    ("id", ref("checkpointId")),
    ("timestamp", ref("timestamp")),
    ("requested_by", ref("nonEmptyString")),
    ("tool_path", enum("ide", "cli", "ci", "chat", "agent")),
    ("model", ref("model")),
    ("prompt", O([("anyOf", [ref("nonEmptyString"), ref("blobReference")])])),
    ("outputs", array(ref("output"), 1)),
    ("session_id", ref("nonEmptyString")),
    ("request_id", ref("nonEmptyString")),
    ("work_item", ref("nonEmptyString")),
    ("agent_role", ref("nonEmptyString")),
    ("turns", O([("anyOf", [array(ref("turn")), ref("blobReference")])])),
    ("raw_output", ref("textOrBlob")),
    ("constraints", ref("strings")),
    ("alternatives", array(ref("alternative"))),
    ("reasoning", array(ref("reasoningStep"))),
    ("cost", ref("cost")),
    ("context", ref("context")),
    ("risk", ref("risk")),
])
subject = ("subject", ref("subject"))
defs["review"] = record("review", "A review decision on a checkpoint.", ["subject", "reviewer", "decision", "at"], [
    subject, ("reviewer", ref("nonEmptyString")), ("decision", enum("approved", "changes_requested", "rejected")),
    ("at", ref("timestamp")), ("feedback", ref("strings"))])
defs["test"] = record("test", "Test results for a checkpoint.", ["subject", "result"], [
    subject, ("result", enum("passed", "failed", "partial")), ("unit", ref("testCounts")),
    ("integration", ref("testCounts")), ("coverage", O([("type", "number"), ("minimum", 0), ("maximum", 1)])),
    ("edge_cases", ref("strings")), ("at", ref("timestamp"))])
defs["deploy"] = record("deploy", "A deployment of a checkpoint's commit.",
    ["subject", "git_commit", "branch", "environment", "at"], [
    subject, ("git_commit", ref("gitCommit")), ("branch", ref("nonEmptyString")),
    ("environment", ref("nonEmptyString")), ("at", ref("timestamp"))])
defs["rollback"] = record("rollback", "A rollback of a checkpoint's deployment.",
    ["subject", "at", "environment", "reason"], [
    subject, ("at", ref("timestamp")), ("environment", ref("nonEmptyString")), ("reason", ref("nonBlankString"))])
defs["rewrite"] = record("rewrite", "A history rewrite: new_commit replaces old_commit.",
    ["old_commit", "new_commit", "kind", "at"], [
    ("old_commit", ref("gitCommit")), ("new_commit", ref("gitCommit")),
    ("kind", enum("rebase", "squash", "amend", "cherry_pick", "other")), ("at", ref("timestamp")),
    ("repo", ref("nonEmptyString")), subject])
defs["correction"] = record("correction", "An RFC 7396 merge patch correcting an earlier entry.",
    ["corrects", "author", "reason", "patch"], [
    ("corrects", ref("digest")), ("author", ref("nonEmptyString")), ("reason", ref("nonBlankString")),
    ("patch", ref("patch")), ("at", ref("timestamp"))])
defs["erasure"] = record("erasure", "A payload blob was erased.", ["blob", "reason", "at", "author"], [
    ("blob", ref("digest")), ("reason", ref("nonBlankString")), ("at", ref("timestamp")),
    ("author", ref("nonEmptyString"))])

defs["model"] = obj(["id", "provider"], [
    ("id", ref("nonEmptyString")), ("version", ref("nonEmptyString")), ("release_date", ref("date")),
    ("provider", ref("nonEmptyString"))], any_of_required("version", "release_date"))
defs["output"] = obj(["repo", "commit", "path", "ranges", "content_hash", "contributor"], [
    ("repo", ref("nonEmptyString")), ("commit", ref("gitCommit")), ("path", ref("repositoryPath")),
    ("ranges", array(ref("lineRange"), 1)), ("content_hash", ref("digest")),
    ("contributor", enum("ai", "human", "mixed"))])
defs["turn"] = obj(["role"], [("role", ref("nonEmptyString")), ("content", ref("textOrBlob")), ("at", ref("timestamp"))])
defs["alternative"] = obj(["approach", "rejected_because"], [
    ("approach", ref("nonEmptyString")), ("rejected_because", ref("nonEmptyString"))])
defs["reasoningStep"] = obj(["step", "action", "reasoning"], [
    ("step", ref("lineNumber")), ("action", ref("nonEmptyString")), ("reasoning", ref("nonEmptyString"))])
defs["cost"] = obj([], [("input_tokens", ref("count")), ("output_tokens", ref("count")),
    ("usd", O([("type", "number"), ("minimum", 0)]))], any_of_required("input_tokens", "output_tokens", "usd"))
defs["context"] = obj([], [("files", ref("strings")), ("urls", ref("strings")), ("dlp_scan", ref("dlpScan"))],
    any_of_required("files", "urls", "dlp_scan"))
defs["dlpScan"] = obj(["result", "tool"], [("result", enum("clean", "redacted", "blocked")),
    ("tool", ref("nonEmptyString")), ("at", ref("timestamp"))])
level = enum("low", "medium", "high", "critical")
defs["risk"] = obj([], [("security", level), ("operational", level), ("compliance", level)],
    any_of_required("security", "operational", "compliance"))
defs["testCounts"] = obj(["passed", "failed", "skipped"], [
    ("passed", ref("count")), ("failed", ref("count")), ("skipped", ref("count"))])

defs["blobReference"] = O([
    ("description", "A payload stored outside the log. Exactly these three members."),
    ("type", "object"), ("required", ["blob", "size", "media_type"]),
    ("properties", O([("blob", ref("digest")), ("size", ref("count")), ("media_type", ref("mediaType"))])),
    ("additionalProperties", False)])
defs["extension"] = O([
    ("description", "Members the schema does not define: free, except that an object whose members are exactly "
                    "blob, size and media_type is a blob reference and must be valid."),
    ("if", O([("type", "object"), ("required", ["blob", "size", "media_type"]), ("maxProperties", 3)])),
    ("then", ref("blobReference")),
    ("else", O([("items", ref("extension")), ("additionalProperties", ref("extension"))]))])
defs["patch"] = O([
    ("description", "An RFC 7396 merge patch; it may not name type, schema or corrects."),
    ("type", "object"), ("minProperties", 1),
    ("propertyNames", O([("not", enum("type", "schema", "corrects"))])),
    ("additionalProperties", ref("extension"))])
defs["textOrBlob"] = O([("anyOf", [O([("type", "string")]), ref("blobReference")])])
defs["subject"] = O([
    ("description", "A checkpoint's content address, or its id (a string not starting with sha256:)."),
    ("anyOf", [ref("digest"), ref("checkpointId")])])
defs["checkpointId"] = O([("type", "string"), ("minLength", 1), ("not", O([("pattern", "^sha256:")]))])
defs["strings"] = array(ref("nonEmptyString"))
defs["nonEmptyString"] = O([("type", "string"), ("minLength", 1)])
defs["nonBlankString"] = O([("type", "string"), ("pattern", "[^" + WHITESPACE + "]")])
defs["digest"] = O([("type", "string"), ("pattern", "^sha256:[0-9a-f]{64}" + END)])
defs["gitCommit"] = O([("type", "string"), ("pattern", "^(?:[0-9a-f]{40}|[0-9a-f]{64})" + END)])
defs["timestamp"] = O([("description", "RFC 3339, UTC (Z), 1 to 9 fractional digits, no leap second."),
    ("type", "string"), ("pattern", "^" + DATE + TIME + END)])
defs["date"] = O([("type", "string"), ("pattern", "^" + DATE + END)])
defs["repositoryPath"] = O([("description", "/-separated; no empty, . or .. segment; no control character."),
    ("type", "string"), ("pattern", "^" + SEGMENT + "(?:/" + SEGMENT + ")*" + END)])
defs["mediaType"] = O([("type", "string"), ("pattern", MEDIA)])
defs["count"] = O([("type", "integer"), ("minimum", 0), ("maximum", 9007199254740991)])
defs["lineNumber"] = O([("type", "integer"), ("minimum", 1), ("maximum", 4294967295)])
defs["lineRange"] = O([
    ("description", "[start, end], 1-based and inclusive. JSON Schema cannot say start <= end; Cairn checks it."),
    ("type", "array"), ("prefixItems", [ref("lineNumber"), ref("lineNumber")]), ("minItems", 2), ("maxItems", 2)])

types = ["checkpoint", "review", "test", "deploy", "rollback", "rewrite", "correction", "erasure"]
schema = O([
    ("$schema", "https://json-schema.org/draft/2020-12/schema"),
    ("$id", "urn:cairn:record-schema:1"),
    ("title", "Cairn record, schema 1"),
    ("description", "Normative text: specs/record-schema.md. Rules JSON Schema cannot state (checked by Cairn): "
                    "a line range's start <= end; correction rules that depend on the corrected record."),
    ("$comment", "Patterns end with $(?!\\n), not $, because Python's re lets $ match before a final newline."),
    ("type", "object"),
    ("required", ["type", "schema"]),
    ("properties", O([("type", enum(*types)), ("schema", O([("const", 1)]))])),
    ("oneOf", [ref(t) for t in types]),
    ("$defs", defs),
])
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "specs", "record-schema.json"), "w") as f:
    f.write(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
