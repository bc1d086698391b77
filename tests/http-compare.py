#!/usr/bin/python3
# http-compare.py URL MESHCTL VALUES_JSON: for every read question that
# GET URL/api/v1/openapi.json lists, ask it over HTTP and, where meshctl
# has a verb of the same name, ask `meshctl NAME ... --json` the same
# question; the two documents must be equal (parsed), and every document
# the server returns must validate against its schema in openapi.json
# (JSON Schema 2020-12).  VALUES_JSON gives values for required
# parameters: {"job": "ref", "partition": "current", ...}.  Prints
# "ok - ..." and "FAIL - ..." lines for tests/e2e-http.sh to count.
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from jsonschema import Draft202012Validator

url, meshctl, values = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])


def ok(msg):
    print("ok - " + msg, flush=True)


def fail(msg):
    print("FAIL - " + msg, flush=True)


def get(path):
    try:
        with urllib.request.urlopen(url + path, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


status, api = get("/api/v1/openapi.json")
if status != 200:
    fail("openapi.json: status %d" % status)
    sys.exit(0)
ok("openapi.json is JSON (%d paths)" % len(api["paths"]))
if api.get("openapi", "").startswith("3.1"):
    ok("openapi.json says OpenAPI 3.1")
else:
    fail("openapi.json says %r" % api.get("openapi"))
error_schema = api["components"]["schemas"]["Error"]
Draft202012Validator.check_schema(error_schema)


def validate(schema, doc, what):
    errs = sorted(Draft202012Validator(schema).iter_errors(doc),
                  key=lambda e: e.path)
    if errs:
        fail("%s does not match its schema: %s at %s" %
             (what, errs[0].message[:200], list(errs[0].path)))
        return False
    ok("%s matches its schema" % what)
    return True


def exit_code(status):
    return {400: 2, 404: 2, 409: 1}.get(status, 3)


# Fields of status that are about now and move between two asks (the
# loop's lag, the uptime), and the health record, which the HTTP child
# reads once a second: status is asked again until both agree.
VOLATILE = ("uptime", "age", "now", "lag")


def strip_volatile(doc):
    if isinstance(doc, dict):
        return {k: strip_volatile(v) for k, v in doc.items()
                if not any(w in k for w in VOLATILE)}
    if isinstance(doc, list):
        return [strip_volatile(v) for v in doc]
    return doc


compared = 0
for path, item in sorted(api["paths"].items()):
    # Not read questions: the document itself, and documents served by
    # name from a path parameter (the OpenLineage facet schemas).
    if "get" not in item or path == "/api/v1/openapi.json" or "{" in path:
        continue
    op = item["get"]
    name = path.rsplit("/", 1)[1]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    try:
        Draft202012Validator.check_schema(schema)
        ok("%s: its schema is valid JSON Schema 2020-12" % name)
    except Exception as e:  # noqa: BLE001
        fail("%s: bad schema: %s" % (name, str(e)[:200]))
        continue
    required = [p["name"] for p in op.get("parameters", [])
                if p.get("required")]
    missing = [p for p in required if p not in values]
    if missing:
        print("# %s: not compared (no test value for %s)" %
              (name, ", ".join(missing)))
        continue
    query = {p: values[p] for p in required}
    status, doc = get("/api/v1/%s?%s" % (name, urllib.parse.urlencode(query)))
    if status == 200:
        validate(schema, doc, "GET %s" % name)
    else:
        validate(error_schema, doc, "GET %s error %d" % (name, status))
    # meshctl: required parameters as operands, in order; if it refuses
    # that (usage), all but the first as --NAME options.
    tries = [[name] + [values[p] for p in required] + ["--json"]]
    if len(required) > 1:
        tries.append([name, values[required[0]]] +
                     sum([["--" + p, values[p]] for p in required[1:]], []) +
                     ["--json"])
    for argv in tries:
        for again in range(5 if name == "status" else 1):
            if again > 0:
                time.sleep(1)
                status, doc = get("/api/v1/%s?%s" % (
                    name, urllib.parse.urlencode(query)))
            p = subprocess.run([meshctl] + argv, capture_output=True,
                               text=True, timeout=60)
            try:
                if strip_volatile(json.loads(p.stdout)) == \
                        strip_volatile(doc):
                    break
            except ValueError:
                break
        if "unknown verb" in p.stderr:
            print("# %s: meshctl has no such verb" % name)
            break
        if p.returncode == 2 and status != 400 and status != 404:
            continue
        compared += 1
        if p.returncode != 0 or status != 200:
            if p.returncode == exit_code(status) and status != 200:
                ok("%s: the same error both ways (HTTP %d, exit %d)" %
                   (name, status, p.returncode))
            else:
                fail("%s: HTTP %d but meshctl %s exit %d: %s" %
                     (name, status, " ".join(argv), p.returncode,
                      p.stderr.strip()[:200]))
            break
        try:
            mine = json.loads(p.stdout)
        except ValueError:
            fail("%s: meshctl %s --json is not JSON" % (name, argv))
            break
        if isinstance(mine, list) and isinstance(doc, dict):
            # The verb still prints its own JSON: not the read layer's
            # document yet (its cmd-*.c is converted elsewhere).
            print("# %s: not compared: meshctl %s --json is not the read "
                  "layer's document yet" % (name, name))
            compared -= 1
            break
        if name == "status":
            mine, doc = strip_volatile(mine), strip_volatile(doc)
        if mine == doc:
            ok("%s: GET /api/v1/%s = meshctl %s" %
               (name, name, " ".join(argv)))
        else:
            fail("%s: GET /api/v1/%s != meshctl %s:\n  http:    %s\n"
                 "  meshctl: %s" % (name, name, " ".join(argv),
                                    json.dumps(doc, sort_keys=True)[:400],
                                    json.dumps(mine, sort_keys=True)[:400]))
        break
# Extra cases: [QUERY, MESHCTL ARGV], "{cursor}" standing for the
# next_cursor of the case before (pages walked both ways).
cursor = None
for query, argv in json.loads(sys.argv[4]) if len(sys.argv) > 4 else []:
    if "{cursor}" in query:
        if cursor is None:
            fail("%s: the page before had no next_cursor" % query)
            continue
        query = query.replace("{cursor}", urllib.parse.quote(cursor))
        argv = [a.replace("{cursor}", cursor) for a in argv]
    name = query.split("?")[0]
    if "/api/v1/" + name not in api["paths"]:
        print("# %s: not compared: no such question in this meshd" % query)
        continue
    status, doc = get("/api/v1/" + query)
    schema = api["paths"]["/api/v1/" + name]["get"]["responses"]["200"][
        "content"]["application/json"]["schema"]
    if status != 200:
        fail("GET %s: status %d: %s" % (query, status, doc))
        continue
    validate(schema, doc, "GET " + query)
    cursor = doc.get("next_cursor")
    p = subprocess.run([meshctl] + argv, capture_output=True, text=True,
                       timeout=60)
    compared += 1
    if p.returncode != 0:
        fail("meshctl %s: exit %d: %s" % (" ".join(argv), p.returncode,
                                          p.stderr.strip()[:200]))
    elif json.loads(p.stdout) == doc:
        ok("GET /api/v1/%s = meshctl %s" % (query, " ".join(argv)))
    else:
        fail("GET /api/v1/%s != meshctl %s:\n  http:    %s\n  meshctl: %s"
             % (query, " ".join(argv), json.dumps(doc, sort_keys=True)[:400],
                p.stdout[:400]))
if compared == 0:
    fail("no question was compared with meshctl")
