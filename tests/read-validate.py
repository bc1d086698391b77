#!/usr/bin/python3
# read-validate.py SCHEMA DOC: validate the JSON document DOC against the
# JSON Schema (2020-12) in SCHEMA, both files; the schema itself is
# checked first.  Strict JSON: a lone surrogate or a bad byte in DOC is
# an error.  Exit 0 if valid, 1 with the errors otherwise.
import json
import sys

from jsonschema import Draft202012Validator

with open(sys.argv[1], encoding="utf-8") as f:
    schema = json.load(f)
Draft202012Validator.check_schema(schema)
with open(sys.argv[2], "rb") as f:
    raw = f.read()
doc = json.loads(raw.decode("utf-8", errors="strict"))
errors = sorted(Draft202012Validator(schema).iter_errors(doc), key=str)
for e in errors:
    print("%s: %s" % ("/".join(map(str, e.absolute_path)), e.message))
sys.exit(1 if errors else 0)
