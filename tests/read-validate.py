#!/usr/bin/python3
# read-validate.py SCHEMA_FILE DOC_FILE: validate a read-layer document
# against its question's JSON Schema (2020-12); exit 1 with every error.
import json
import sys

from jsonschema import Draft202012Validator

with open(sys.argv[1]) as f:
    schema = json.load(f)
Draft202012Validator.check_schema(schema)
with open(sys.argv[2]) as f:
    doc = json.load(f)
errors = sorted(Draft202012Validator(schema).iter_errors(doc), key=str)
for e in errors:
    print("%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(top)",
                      e.message))
sys.exit(1 if errors else 0)
