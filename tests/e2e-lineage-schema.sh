#!/bin/sh
# End-to-end: meshd's OpenLineage events are valid OpenLineage.
#  - every event of the demo (contrib/demo.sh, run for real) validates
#    against the official 2-0-2 spec and each facet against the schema its
#    _schemaURL names: the official facet schemas vendored in
#    tests/data/openlineage/ (README there says which) and meshd's own in
#    doc/openlineage/, offline, with /usr/bin/python3's jsonschema
#    (tests/lineage-validate.py); run ids are UUIDv7;
#  - the ownership, documentation and outputStatistics facets say what
#    the state says (owner, descriptions, rows published);
#  - the validator rejects broken events, one defect at a time, so that a
#    pass above means something;
#  - the HTTP API serves meshd's facet schemas, byte for byte;
#  - the HTTP sink sends "Authorization: Bearer TOKEN" from
#    lineage.bearer_token_file to a real receiver, read per batch (a fixed
#    token is used without a reload), never on a command line; a token
#    file anyone can read, a missing one and an empty one are refused
#    with file:line.
. "$(dirname "$0")/e2e-lib.sh"
PY=/usr/bin/python3
VAL="$top_srcdir/tests/lineage-validate.py"
OLS="$top_srcdir/tests/data/openlineage"
OWN="$top_srcdir/doc/openlineage"
spid=
trap 'for p in $pids $spid; do kill -9 "$p" 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
validate() { "$PY" "$VAL" "$OLS" "$OWN" -- "$@"; }
freeport() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

if ! "$PY" -c 'import jsonschema' 2>"$T/err"; then
	fail "$PY has no jsonschema module (Debian: python3-jsonschema)"
	cat "$T/err"
	finish
	exit 1
fi

# --- the demo's events, every one
if sh "$top_srcdir/contrib/demo.sh" "$top_srcdir" "$top_builddir" \
    "$T/demo" >"$T/demo.out" 2>&1; then
	ok "contrib/demo.sh exits 0"
else
	fail "contrib/demo.sh failed"
	tail -n 30 "$T/demo.out" | sed 's/^/    | /'
fi
E="$T/demo/state/lineage.jsonl"
dsql() { sqlite3 "$T/demo/state/state.db" "$1"; }
[ -s "$E" ] && ok "the demo wrote its events to its file sink" || fail "no events in $E"
eq "$(wc -l <"$E" | tr -d ' ')" "$(dsql "SELECT 2 * count(*) FROM attempts")" \
    "the demo's file sink holds an event for each start and end of each attempt"
eq "$(dsql "SELECT max(seq) = (SELECT acked_seq FROM lineage_sinks) FROM lineage_outbox")" "1" \
    "every event in the outbox was delivered"
if validate "$E" >"$T/valid.out" 2>&1; then
	ok "every event of the demo validates ($(tail -n 1 "$T/valid.out"))"
else
	fail "the demo's events do not validate"
	head -n 30 "$T/valid.out" | sed 's/^/    | /'
fi
# Each facet meshd emits was among those validated (a facet left out by a
# change would otherwise pass unnoticed).
for f in 1-0-1/ParentRunFacet 1-0-1/NominalTimeRunFacet \
    1-0-1/ErrorMessageRunFacet 1-0-1/DataQualityAssertionsDatasetFacet \
    1-0-1/DatasetVersionDatasetFacet 1-0-1/OwnershipJobFacet \
    1-1-0/DocumentationJobFacet 1-1-0/DocumentationDatasetFacet \
    1-0-2/OutputStatisticsOutputDatasetFacet; do
	has "$T/valid.out" "https://openlineage.io/spec/facets/$f.json#" \
	    "validated: ${f#*/}"
done
for f in MeshdRunFacet MeshdPartitionDatasetFacet MeshdChecksInputDatasetFacet; do
	has "$T/valid.out" "https://example.org/meshd/spec/facets/1-0-0/$f.json#/\$defs/$f" \
	    "validated: $f, against doc/openlineage/$f.json"
done
hasnt "$E" "meshd.conf.5" "no _schemaURL points at a man page"
eq "$(jq -r '.producer' "$E" | sort -u)" \
    "https://example.org/meshd/releases/$(sed -n 's/^AC_INIT(\[meshd\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")" \
    "the producer is the project's URL with the release"

# What the standard facets say is what the state says.
eq "$(jq -r 'select(.job.name == "airports.extract") | .job.facets.ownership.owners | map(.name + "/" + .type) | join(" ")' "$E" | sort -u)" \
    "team:geo-data@example.org/MAINTAINER domain:geo/DOMAIN" \
    "ownership: the job's owner and domain"
eq "$(jq -r 'select(.job.name == "flights_daily.extract") | .job.facets.documentation.description' "$E" | sort -u)" \
    "$(dsql "SELECT description FROM jobs WHERE name = 'flights_daily'")" \
    "documentation: the job's description"
eq "$(jq -r '.outputs[] | select(.name == "geo.airports") | .facets.documentation.description' "$E" | sort -u)" \
    "$(dsql "SELECT description FROM products WHERE name = 'geo.airports'")" \
    "documentation: the product's description on its dataset"
# outputStatistics: only on the COMPLETE of the attempt that published,
# with the rows the publish recorded.
jq -r 'select(.eventType == "COMPLETE") | .run.facets.meshd.attempt as $a | .outputs[] | select(.outputFacets.outputStatistics) | "\(.name) \(.facets.meshd_partition.partition) \($a) \(.outputFacets.outputStatistics.rowCount)"' "$E" | sort >"$T/stats.got"
dsql "SELECT p.name || ' ' || pp.partition_key || ' ' || pp.attempt_id || ' ' || pp.\"rows\" FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE pp.state = 'published' AND pp.\"rows\" IS NOT NULL" | sort >"$T/stats.want"
if [ -s "$T/stats.want" ] && cmp -s "$T/stats.got" "$T/stats.want"; then
	ok "outputStatistics.rowCount: what each publish recorded ($(wc -l <"$T/stats.want" | tr -d ' ') partitions)"
else
	fail "outputStatistics differ from product_partitions.rows"
	diff "$T/stats.got" "$T/stats.want" | head -n 10 | sed 's/^/    | /'
fi
eq "$(jq -c 'select(.eventType != "COMPLETE") | .outputs[] | select(.outputFacets.outputStatistics)' "$E" | wc -l | tr -d ' ')" "0" \
    "no outputStatistics on a START or a FAIL"
# UUIDv7: the attempt's start as its time (so ids sort as attempts began),
# the same id on the START and the end.
a1=$(dsql "SELECT started_us / 1000 FROM attempts WHERE id = 1")
eq "$(jq -r 'select(.run.facets.meshd.attempt == 1) | .run.runId | gsub("-"; "") | .[0:12]' "$E" | sort -u)" \
    "$(printf '%012x' "$a1")" "runId: the attempt's start in its first 48 bits"
eq "$(jq -r '.run.runId' "$E" | sort -u | wc -l | tr -d ' ')" "$(dsql "SELECT count(*) FROM attempts")" \
    "one runId per attempt, the same on its START and its end"

# --- the validator rejects what is broken, each defect alone
line=$(jq -c 'select(.eventType == "COMPLETE" and .run.facets.meshd.stage == "publish" and (.outputs[0].outputFacets.outputStatistics != null))' "$E" | head -n 1)
echo "$line" >"$T/good.jsonl"
if validate "$T/good.jsonl" >"$T/v" 2>&1; then ok "the event broken below is valid as it is"; else fail "the sample event is invalid"; cat "$T/v"; fi
broken() {
	desc=$1; want=$2; prog=$3
	echo "$line" | jq -c "$prog" >"$T/bad.jsonl"
	if validate "$T/bad.jsonl" >"$T/v" 2>&1; then
		fail "rejected: $desc (it validated)"
	else
		has "$T/v" "$want" "rejected: $desc"
	fi
}
broken "an owner without a name (OwnershipJobFacet)" "'name' is a required property" \
    '.job.facets.ownership.owners[0] |= del(.name)'
broken "a custom facet whose _schemaURL is a man page" "no such schema" \
    '.run.facets.meshd._schemaURL = "https://example.org/meshd/tree/0.1.0/doc/meshd.conf.5#LINEAGE"'
broken "meshd's run facet without its seq (MeshdRunFacet)" "'seq' is a required property" \
    'del(.run.facets.meshd.seq)'
broken "a partition state meshd does not have" "'shipped' is not one of" \
    '.outputs[0].facets.meshd_partition.state = "shipped"'
broken "a rowCount that is not an integer" "is not of type 'integer'" \
    '.outputs[0].outputFacets.outputStatistics.rowCount = "12"'
broken "documentation without its description" "'description' is a required property" \
    'del(.job.facets.documentation.description)'
broken "a facet without _producer (the spec's base facet)" "'_producer' is a required property" \
    'del(.job.facets.documentation._producer)'
broken "a facet under a name its schema does not define" "does not define a facet named 'docs'" \
    '.job.facets.docs = .job.facets.documentation | del(.job.facets.documentation)'
broken "an event without its producer (RunEvent)" "'producer' is a required property" \
    'del(.producer)'
broken "a UUIDv8 runId (what meshd wrote before)" "is not a UUIDv7" \
    '.run.runId |= (.[0:14] + "8" + .[15:])'
broken "a runId that is no UUID at all" "is not a 'uuid'" \
    '.run.runId = "attempt-1"'

# --- the HTTP API serves meshd's facet schemas
conf "lineage = { sink = \"none\"; };" "http = { listen = \"127.0.0.1:$(freeport)\"; };"
hp=$(sed -n 's/.*listen = "127.0.0.1:\([0-9]*\)".*/\1/p' "$T/meshd.conf")
cat >"$T/jobs/lin.conf" <<'JOB'
name = "lin";
domain = "test";
owner = "tests@example.org";
description = "lineage schema test";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ]; }
);
JOB
start_meshd
api="http://127.0.0.1:$hp/api/v1"
wait_for "meshd serves its API" 10 curl -sf "$api/openapi.json"
for f in "$OWN"/*.json; do
	n=$(basename "$f" .json)
	if curl -sf -D "$T/hdr" -o "$T/got.json" "$api/openlineage/$n.json" &&
	    cmp -s "$T/got.json" "$f"; then
		ok "GET /api/v1/openlineage/$n.json is doc/openlineage/$n.json"
	else
		fail "GET /api/v1/openlineage/$n.json differs from the file"
	fi
	has "$T/hdr" "application/schema+json" "  served as application/schema+json"
done
eq "$(curl -s -o /dev/null -w '%{http_code}' "$api/openlineage/NoSuchFacet.json")" "404" "an unknown facet schema is 404"
eq "$(curl -s -o /dev/null -w '%{http_code}' "$api/openlineage/x/MeshdRunFacet.json")" "404" "nothing below openlineage/"
eq "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$api/openlineage/../openapi.json")" "400" "no way out of it"
curl -s "$api/openapi.json" >"$T/openapi.json"
eq "$(jq -r '.paths["/api/v1/openlineage/{facet}.json"].get.parameters[0].schema.enum | sort | join(" ")' "$T/openapi.json")" \
    "MeshdChecksInputDatasetFacet MeshdPartitionDatasetFacet MeshdRunFacet" \
    "openapi.json documents the route and its facets"
stop_meshd

# --- the HTTP sink's bearer token
rport=$(freeport)
printf 's3cret-lineage-A\n' >"$T/recv-token"
(umask 077 && printf 'wrong-token\n' >"$T/lineage-token")
"$PY" "$top_srcdir/tests/alert-receiver.py" "$rport" "$T/recv" "$T/recv-token" &
spid=$!
url="http://127.0.0.1:$rport/api/v1/lineage"
conf "lineage = { sink = \"http\"; url = \"$url\"; timeout = 2;" \
    "    bearer_token_file = \"lineage-token\"; };"
run_ctl 0 "validate accepts an owner-only token file" validate
run_ctl 0 "trigger lin" trigger lin
start_meshd
wait_for "a wrong token is refused by the receiver (401), recorded as the sink's failure" 20 \
    sh -c "sqlite3 '$T/state/state.db' \"SELECT last_error FROM lineage_sinks WHERE name = '$url'\" | grep -q 'HTTP status 401'"
eq "$(test -s "$T/recv" && echo got || echo none)" "none" "nothing taken with the wrong token"
# Fixed in place, without a reload: the file is read for each batch.
printf 's3cret-lineage-A\n' >"$T/lineage-token"
sql "UPDATE lineage_sinks SET next_try_us = 0"
waitsql "with the right token, every event is delivered" "$(sql "SELECT max(seq) FROM lineage_outbox")" \
    "SELECT acked_seq FROM lineage_sinks WHERE name = '$url'"
eq "$(wc -l <"$T/recv" | tr -d ' ')" "6" "the receiver took lin's six events"
if validate "$T/recv" >"$T/v" 2>&1; then ok "the events the receiver got validate"; else fail "the received events do not validate"; head "$T/v"; fi
eq "$(jq -r '.job.facets.documentation.description' "$T/recv" | sort -u)" "lineage schema test" "sent with the job's documentation"
# (the pattern does not match grep's own command line)
if ps -eo args | grep -q 's3cret-[l]ineage'; then fail "the token is on a command line"; else ok "the token is on no command line"; fi
hasnt "$T/meshd.log" "s3cret-lineage" "nor in meshd's log"
hasnt "$T/meshd.log" "wrong-token" "nor the wrong one"
stop_meshd
kill "$spid"; wait "$spid" 2>/dev/null; spid=

# Refused: readable by anyone, missing, empty, or with the file sink.
chmod 644 "$T/lineage-token"
run_ctl 1 "validate refuses a token file anyone can read" validate
has "$T/err" "meshd.conf:8: error: lineage.bearer_token_file: $T/lineage-token is readable by anyone (mode 0644)" \
    "  the error names the file and line, and the mode"
"$MESHD" -c "$T/meshd.conf" >"$T/meshd2.log" 2>&1 & p=$!; pids="$pids $p"
wait "$p"; rc=$?
[ "$rc" -ne 0 ] && ok "meshd refuses to start with it (exit $rc)" || fail "meshd started with a world-readable token file"
has "$T/meshd2.log" "readable by anyone" "  and says why"
rm -f "$T/lineage-token"
run_ctl 1 "validate refuses a missing token file" validate
has "$T/err" "meshd.conf:8: error: lineage.bearer_token_file: $T/lineage-token: No such file or directory" "  named, file:line"
(umask 077 && : >"$T/lineage-token")
run_ctl 0 "validate does not read the token (meshctl's users need not)" validate
"$MESHD" -c "$T/meshd.conf" >"$T/meshd3.log" 2>&1 & p=$!; pids="$pids $p"
wait "$p"; rc=$?
[ "$rc" -ne 0 ] && ok "meshd refuses an empty token file at start (exit $rc)" || fail "meshd started with an empty token file"
has "$T/meshd3.log" "meshd.conf:8: lineage.bearer_token_file: $T/lineage-token holds no token" "  file:line, and why"
conf "lineage = { sink = \"file\";" "    bearer_token_file = \"lineage-token\"; };"
run_ctl 1 "validate refuses a token file for the file sink" validate
has "$T/err" 'lineage.bearer_token_file is for sink = "http"' "  said so"
finish
