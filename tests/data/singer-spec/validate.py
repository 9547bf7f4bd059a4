#!/usr/bin/python3
"""Validate Singer messages, one JSON object a line on stdin, against the
message schemas in this directory (written from the Singer specification,
see tests/data/PROVENANCE.md).  A SCHEMA message's "schema" must itself be
a JSON Schema (draft 4, as Singer uses), and each of its key_properties
and bookmark_properties a top-level property of it, unless the schema
lists no properties at all.  Prints one line per bad message and exits 1
if there was one; prints the count of messages per type otherwise."""
import json
import os
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = {}
for name in ("record", "schema", "state", "activate_version"):
    with open(os.path.join(HERE, name + ".json"), encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    SCHEMAS[name.upper()] = jsonschema.Draft7Validator(schema)

bad = 0
counts = {}
for lineno, line in enumerate(sys.stdin, 1):
    if not line.strip():
        continue
    where = "stdin:%d" % lineno
    try:
        msg = json.loads(line)
    except ValueError as err:
        print("%s: not JSON: %s" % (where, err))
        bad += 1
        continue
    kind = msg.get("type") if isinstance(msg, dict) else None
    validator = SCHEMAS.get(kind.upper()) if isinstance(kind, str) else None
    if validator is None:
        print("%s: not a Singer message: %s" % (where, line.strip()[:120]))
        bad += 1
        continue
    errors = [e.message for e in validator.iter_errors(msg)]
    if kind.upper() == "SCHEMA" and not errors:
        try:
            jsonschema.Draft4Validator.check_schema(msg["schema"])
        except jsonschema.SchemaError as err:
            errors.append("schema: not a JSON Schema: %s" % err.message)
        props = msg["schema"].get("properties")
        if props:
            for member in ("key_properties", "bookmark_properties"):
                for name in msg.get(member, []):
                    if name not in props:
                        errors.append("%s: %s is not a property" % (member, name))
    for err in errors:
        print("%s: %s: %s" % (where, kind, err))
    bad += len(errors) > 0
    counts[kind.upper()] = counts.get(kind.upper(), 0) + 1
if bad:
    sys.exit(1)
print(" ".join("%s=%d" % (k, counts[k]) for k in sorted(counts)))
