#!/usr/bin/python3
# lineage-validate.py SCHEMA_DIR... -- EVENTS.jsonl...
#
# Validates OpenLineage events (one JSON document a line) offline against
# the JSON Schemas found under the SCHEMA_DIRs (every *.json, known by its
# $id): each event against the 2-0-2 spec's RunEvent, each facet of it
# against the schema its _schemaURL names (which must be one of them: a
# facet whose schema is unknown is an error, not a skip), and the facet's
# key against that schema's top-level properties.  Also: run ids and the
# parent's are UUIDv7 (RFC 9562), as the spec recommends.
#
# Prints each error as "FILE:LINE: where: what" and a summary of what was
# validated against which schema; exits 1 if any event is invalid.
# Needs /usr/bin/python3 with Debian's python3-jsonschema (4.x).
import glob
import json
import os
import re
import sys
import urllib.parse

import jsonschema

SPEC = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}"
                   r"-[0-9a-f]{12}$")

if "--" not in sys.argv:
    sys.exit("usage: lineage-validate.py SCHEMA_DIR... -- EVENTS.jsonl...")
cut = sys.argv.index("--")
dirs, files = sys.argv[1:cut], sys.argv[cut + 1:]

store = {}
for d in dirs:
    for p in sorted(glob.glob(os.path.join(d, "**", "*.json"),
                              recursive=True)):
        with open(p) as f:
            doc = json.load(f)
        if "$id" not in doc:
            sys.exit(f"{p}: a schema without $id")
        store[doc["$id"]] = doc
if SPEC not in store:
    sys.exit(f"no {SPEC} among the schemas of {' '.join(dirs)}")

V = jsonschema.Draft202012Validator
checker = jsonschema.FormatChecker()


def validator(url, fragment):
    """A validator for the subschema at `fragment` of the document `url`,
    resolving every $ref in the store only (no network)."""
    doc = store[url]
    resolver = jsonschema.RefResolver(url, doc, store=store)
    with resolver.resolving("#" + fragment) as sub:
        return V(sub, resolver=resolver, format_checker=checker)


cache = {}


def check(schema_url, inst):
    """Errors of `inst` against the schema at `schema_url`."""
    if schema_url not in cache:
        url, _, frag = schema_url.partition("#")
        if url not in store:
            return [f"_schemaURL {schema_url}: no such schema (not "
                    f"vendored, or not a JSON Schema)"]
        try:
            cache[schema_url] = validator(url, urllib.parse.unquote(frag))
        except jsonschema.exceptions.RefResolutionError as e:
            return [f"_schemaURL {schema_url}: {e}"]
    return [f"{'/'.join(str(x) for x in e.absolute_path) or '.'}: "
            f"{e.message}" for e in cache[schema_url].iter_errors(inst)]


def facets_of(ev):
    """(where, key, facet) of every facet of the event."""
    for k, f in (ev.get("run", {}).get("facets") or {}).items():
        yield "run.facets", k, f
    for k, f in (ev.get("job", {}).get("facets") or {}).items():
        yield "job.facets", k, f
    for side, extra in (("inputs", "inputFacets"),
                        ("outputs", "outputFacets")):
        for i, ds in enumerate(ev.get(side) or []):
            for group in ("facets", extra):
                for k, f in (ds.get(group) or {}).items():
                    yield f"{side}[{i}].{group}", k, f


counts = {}
nevents = bad = 0
for path in files:
    with open(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            nevents += 1
            errs = []
            try:
                ev = json.loads(line)
            except ValueError as e:
                errs.append(f"not JSON: {e}")
                ev = None
            if ev is not None:
                errs += [f"RunEvent: {e}" for e in
                         check(SPEC + "#/$defs/RunEvent", ev)]
                for where, rid in (("run.runId",
                                    ev.get("run", {}).get("runId")),
                                   ("run.facets.parent.run.runId",
                                    ev.get("run", {}).get("facets", {})
                                    .get("parent", {}).get("run", {})
                                    .get("runId"))):
                    if where.startswith("run.facets") and rid is None:
                        continue
                    if not isinstance(rid, str) or not UUID7.match(rid):
                        errs.append(f"{where}: {rid!r} is not a UUIDv7")
                for where, key, facet in facets_of(ev):
                    url = facet.get("_schemaURL") \
                        if isinstance(facet, dict) else None
                    if not isinstance(url, str):
                        errs.append(f"{where}.{key}: no _schemaURL")
                        continue
                    errs += [f"{where}.{key}: {e}" for e in
                             check(url, facet)]
                    doc = store.get(url.partition("#")[0], {})
                    if key not in doc.get("properties", {}):
                        errs.append(f"{where}.{key}: {url} does not "
                                    f"define a facet named {key!r}")
                    counts[url] = counts.get(url, 0) + 1
            if errs:
                bad += 1
                for e in errs:
                    print(f"{path}:{lineno}: {e}")

for url in sorted(counts):
    print(f"facets {counts[url]:6d}  {url}")
print(f"events {nevents}, invalid {bad}")
sys.exit(1 if bad or nevents == 0 else 0)
