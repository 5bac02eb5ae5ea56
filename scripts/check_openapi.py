#!/usr/bin/env python3
"""Check specs/openapi.yaml, and real responses of `cairn serve` against it.

    check_openapi.py SPEC                  validate the OpenAPI 3.1 document itself
    check_openapi.py SPEC RESPONSES.jsonl  also validate each recorded response

RESPONSES.jsonl holds one object per line: {"method", "uri", "status", "content_type",
"body_base64"}. Each response is matched to its operation (path template and method) and status;
its Content-Type must be one the operation declares for that status, and a JSON or text body must
match the declared schema. A response to a path no operation has must be the API's JSON error.

Needs PyYAML, openapi-spec-validator and openapi-schema-validator (pip install them). Exits 0
when everything matches, 1 otherwise, 2 on a usage or environment problem.
"""

import base64
import json
import re
import sys

try:
    import yaml
    from openapi_schema_validator import OAS31Validator
    from openapi_spec_validator import validate as validate_spec
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
except ImportError as error:  # pragma: no cover
    print(f"check_openapi.py: missing Python package: {error.name}", file=sys.stderr)
    sys.exit(2)

BASE = "urn:cairn:openapi"


def pointer_escape(part):
    return str(part).replace("~", "~0").replace("/", "~1")


def resolve(spec, node, pointer):
    """Follows a local $ref; returns (object, its JSON pointer)."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"unsupported $ref {ref}")
        pointer = ref[1:]
        node = spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, pointer


def template_regex(template):
    parts = []
    for segment in template.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            # The tile path parameter spans the rest of the path.
            parts.append(".+" if template.startswith("/tile/") else "[^/]+")
        else:
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "$")


def essence(content_type):
    return (content_type or "").split(";")[0].strip().lower()


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    validate_spec(spec)
    operations = len([m for p in spec["paths"].values() for m in p if m in ("get", "post", "put", "delete", "patch")])
    if len(argv) == 2:
        print(f"openapi: {argv[1]} is a valid OpenAPI {spec['openapi']} document ({operations} operations)")
        return 0

    registry = Registry().with_resource(BASE, Resource.from_contents(spec, default_specification=DRAFT202012))
    templates = [(template_regex(path), path) for path in spec["paths"]]
    failures = []
    checked = 0
    covered = set()

    def check_schema(pointer, instance, where):
        validator = OAS31Validator({"$ref": BASE + "#" + pointer}, registry=registry)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
        for error in errors[:3]:
            location = "/".join(str(p) for p in error.path)
            failures.append(f"{where}: {error.message} (at /{location})")

    with open(argv[2], encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    for item in lines:
        checked += 1
        method = item["method"].lower()
        path = item["uri"].split("?")[0]
        status = str(item["status"])
        body = base64.b64decode(item["body_base64"])
        media = essence(item.get("content_type"))
        where = f"{item['method']} {item['uri']} -> {status} {media}"
        matches = [t for (rx, t) in templates if rx.match(path) and method in spec["paths"][t]]
        if not matches:
            # No such operation: the router's 404/405, which must be the API's JSON error.
            if media != "application/json":
                failures.append(f"{where}: a response outside every operation must be a JSON error")
                continue
            check_schema("/components/schemas/Error", json.loads(body), where)
            continue
        # The most specific template: the fewest parameters, then the longest literal prefix
        # (/tile/entries/{path} before /tile/{path}).
        template = min(matches, key=lambda t: (t.count("{"), -len(t.split("{")[0])))
        covered.add((method, template))
        operation = spec["paths"][template][method]
        op_pointer = f"/paths/{pointer_escape(template)}/{method}"
        responses = operation["responses"]
        if status not in responses:
            failures.append(f"{where}: status {status} is not documented for {method.upper()} {template}")
            continue
        response, response_pointer = resolve(spec, responses[status], f"{op_pointer}/responses/{status}")
        content = response.get("content", {})
        if not content:
            continue
        key = media if media in content else ("*/*" if "*/*" in content else None)
        if key is None:
            failures.append(f"{where}: content type {media!r} not documented (have {sorted(content)})")
            continue
        schema_pointer = f"{response_pointer}/content/{pointer_escape(key)}/schema"
        if media == "application/json":
            try:
                instance = json.loads(body)
            except ValueError as error:
                failures.append(f"{where}: body is not JSON: {error}")
                continue
            check_schema(schema_pointer, instance, where)
        elif media.startswith("text/"):
            check_schema(schema_pointer, body.decode("utf-8"), where)

    for failure in failures:
        print("FAIL " + failure)
    print(
        f"openapi: {checked} responses checked, {len(covered)} of {operations} operations covered, "
        f"{len(failures)} problems"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
