#!/bin/sh
# End-to-end: OpenLineage events.  Every task attempt gets START then one of
# COMPLETE / FAIL / ABORT, with the parent run, the datasets and the check
# results; events go through lineage_outbox to a JSONL file, once each and
# in order, across a kill -9 and a crash between append and ack; an HTTP
# sink that is down keeps them waiting, and gets them in order once it is
# back.
#
# The required fields are checked with jq below, quickly, for the events
# of these runs; e2e-lineage-schema.sh validates every event of the demo
# against the official schemas (tests/data/openlineage/).
. "$(dirname "$0")/e2e-lib.sh"
MESHD=${MESHD:-$top_builddir/meshd}
L="$T/state/lineage.jsonl"
conf "kill_grace = 1;"
cat >"$T/jobs/lin.conf" <<'JOB'
name = "lin";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ]; }
);
JOB
cat >"$T/jobs/bad.conf" <<'JOB'
name = "bad";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "boom"; plugin = "fails"; stage = "extract"; } );
JOB
cat >"$T/jobs/flaky.conf" <<'JOB'
name = "flaky";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "x"; plugin = "retry"; stage = "extract"; retries = 1;
            retry_delay = 0; } );
JOB
cat >"$T/jobs/slow.conf" <<'JOB'
name = "slow";
domain = "test";
owner = "tests@example.org";
params = { sleep_ms = 400; };
tasks = (
  { id = "t1"; plugin = "ok"; stage = "extract"; },
  { id = "t2"; plugin = "ok"; stage = "check"; after = [ "t1" ]; },
  { id = "t3"; plugin = "ok"; stage = "extract"; after = [ "t2" ]; },
  { id = "t4"; plugin = "ok"; stage = "check"; after = [ "t3" ]; },
  { id = "t5"; plugin = "ok"; stage = "publish"; after = [ "t4" ]; }
);
JOB

pid=
start() { "$MESHD" -c "$T/meshd.conf" >>"$T/meshd.log" 2>&1 & pid=$!; }
stop() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=; }
trap 'test -n "$pid" && kill -9 $pid 2>/dev/null; test -n "${spid:-}" && kill $spid 2>/dev/null; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
runstate() { sql "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1'"; }
# Each attempt in the state: how many events of each kind the file has.
nattempts() { sql "SELECT count(*) FROM attempts"; }
acked() { sql "SELECT acked_seq FROM lineage_sinks"; }
maxseq() { sql "SELECT coalesce(max(seq), 0) FROM lineage_outbox"; }
jobattempts() { sql "SELECT count(*) FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' AND a.state <> 'running'"; }
# rerun JOB NTASKS DESC: trigger the job's run again and wait for its new
# attempts to end and the run to succeed.
rerun() {
	n0=$(jobattempts "$1")
	run_ctl 0 "trigger $1" trigger "$1" --rerun
	waitsql "$3" "$((n0 + $2)) success" "SELECT (SELECT count(*) FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' AND a.state <> 'running') || ' ' || (SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1')"
}

# --- one run that succeeds with a check, one whose task fails twice
run_ctl 0 "trigger lin" trigger lin --rerun
run_ctl 0 "trigger bad" trigger bad
run_ctl 0 "trigger flaky" trigger flaky
start
waitsql "lin succeeds" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'lin'"
waitsql "bad fails" "failed" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'bad'"
waitsql "flaky succeeds on its second attempt" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'flaky'"
waitsql "the file sink acknowledges every event" "$(maxseq)" "SELECT acked_seq FROM lineage_sinks"
eq "$(maxseq)" "$(( 2 * $(nattempts) ))" "two events per attempt in the outbox"
eq "$(wc -l <"$L")" "$(maxseq)" "the file has every event"

# Required fields of every event (by hand: no packaged schema).
bad=$(jq -c 'select(
    (.eventType | IN("START","COMPLETE","FAIL","ABORT") | not) or
    (.eventTime | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$") | not) or
    (.producer | test("^https?://") | not) or
    (.schemaURL != "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent") or
    (.run.runId | test("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$") | not) or
    (.job.namespace != "meshd") or (.job.name | type != "string") or
    (.run.facets.parent.run.runId | test("^[0-9a-f-]{36}$") | not) or
    (.run.facets.parent.job.namespace != "meshd") or
    ((.run.facets.parent.job.name + ".") as $p | .job.name | startswith($p) | not) or
    ([.run.facets[], (.inputs[], .outputs[] | .facets[]?), (.inputs[] | .inputFacets[]?)]
        | map(select((._producer | type) != "string" or (._schemaURL | type) != "string")) | length > 0) or
    ([.inputs[], .outputs[]] | map(select((.namespace | type) != "string" or (.name | type) != "string")) | length > 0)
  )' "$L")
eq "$bad" "" "every event has the spec's required fields"

# START first, then exactly one end, per attempt (runId).
eq "$(jq -s -c 'group_by(.run.runId) | map(map(.eventType)) | map(select(length != 2 or .[0] != "START" or (.[1] | IN("COMPLETE","FAIL","ABORT") | not))) | length' "$L")" "0" "each attempt: START, then COMPLETE, FAIL or ABORT"
eq "$(jq -s 'group_by(.run.runId) | length' "$L")" "$(nattempts)" "one runId per attempt"
eq "$(jq -r 'select(.job.name | startswith("lin.")) | .run.facets.parent.run.runId' "$L" | sort -u | wc -l)" "1" "lin's attempts share one parent run"
eq "$(jq -r '.run.facets.parent.run.runId' "$L" | sort -u | wc -l)" "3" "three meshd runs, three parents"
eq "$(jq -r 'select(.job.name == "bad.boom") | .eventType' "$L" | tr '\n' ' ')" "START FAIL " "a failure: START, FAIL"
eq "$(jq -r 'select(.job.name == "flaky.x") | .eventType' "$L" | tr '\n' ' ')" "START FAIL START COMPLETE " "a retry: each attempt its own START and end"
has "$L" '"errorMessage"' "a FAIL carries the error message facet"
eq "$(jq -r 'select(.job.name == "lin.check" and .eventType == "COMPLETE") | .inputs[] | select(.inputFacets.dataQualityAssertions != null) | .name + " " + (.inputFacets.dataQualityAssertions.assertions[0] | .assertion + " " + (.success | tostring))' "$L")" "test.ok rows_min true" "the check's results: dataQualityAssertions on the product checked"
eq "$(jq -r 'select(.job.name == "lin.publish" and .eventType == "COMPLETE") | .outputs[0] | .name + " " + .facets.version.datasetVersion + " " + .facets.meshd_partition.state' "$L")" "test.ok current@1 published" "a publish: the output product with its partition and version"
eq "$(jq -r 'select(.job.name == "lin.extract" and .eventType == "START") | .outputs[0].name' "$L")" "test.ok" "outputs name the product the task builds"
eq "$(jq -r '.run.facets.meshd.seq' "$L" | tr '\n' ' ')" "$(seq 1 "$(maxseq)" | tr '\n' ' ')" "in order, each once"

# --- inputs: the datasets of run_inputs (a resumed run with two inputs)
stop
now=$(date +%s)000000
sql "INSERT OR IGNORE INTO jobs (name, created_us, updated_us) VALUES ('slow', $now, $now);
INSERT INTO products (name, domain) VALUES ('up.a', 'up'), ('up.b', 'up');
INSERT INTO runs (job_id, partition_key, state, created_us) SELECT id, 'current', 'queued', $now FROM jobs WHERE name = 'slow';
INSERT INTO run_inputs SELECT r.id, p.id, '2024-01-0' || p.id, 3, $now FROM runs r JOIN jobs j ON j.id = r.job_id, products p WHERE j.name = 'slow' AND p.name LIKE 'up.%';"
start
waitsql "the resumed run with inputs succeeds" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slow'"
waitsql "delivered" "$(maxseq)" "SELECT acked_seq FROM lineage_sinks"
eq "$(jq -r 'select(.job.name == "slow.t1" and .eventType == "START") | [.inputs[] | .name + "@" + .facets.version.datasetVersion] | join(" ")' "$L")" "up.a@2024-01-0$(sql "SELECT id FROM products WHERE name = 'up.a'")@3 up.b@2024-01-0$(sql "SELECT id FROM products WHERE name = 'up.b'")@3" "inputs: the consumed partitions with their versions"

# --- kill -9 mid-run: every event once, in order, after the restart
run_ctl 0 "trigger slow" trigger slow --rerun
waitsql "slow's third task is running" "1" "SELECT count(*) FROM task_instances ti JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slow' AND ti.task_id = 't3' AND ti.state = 'running'"
kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
sleep 0.3
running=$(sql "SELECT count(*) FROM attempts WHERE state = 'running'")
eq "$running" "1" "kill -9 left an attempt running"
start
waitsql "slow finishes after the restart" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slow' AND r.ended_us > $now"
waitsql "delivered after the restart" "$(maxseq)" "SELECT acked_seq FROM lineage_sinks"
eq "$(jq -r '.run.facets.meshd.seq' "$L" | tr '\n' ' ')" "$(sql "SELECT seq FROM lineage_outbox ORDER BY seq" | tr '\n' ' ')" "after kill -9: the file has every event of the outbox, once, in order"
eq "$(jq -s -c 'group_by(.run.runId) | map(map(.eventType)) | map(select(length != 2 or .[0] != "START")) | length' "$L")" "0" "after kill -9: each attempt still START then one end"
has "$L" '"message":"daemon restarted"' "the attempt killed with the daemon ends in FAIL (daemon restarted)"

# --- a crash between append and ack: nothing twice, a torn line dropped
stop
n=$(wc -l <"$L")
sql "UPDATE lineage_sinks SET acked_seq = acked_seq - 3"
printf '{"eventType":"STA' >>"$L"
start
rerun lin 3 "lin runs again"
waitsql "delivered after the torn write" "$(maxseq)" "SELECT acked_seq FROM lineage_sinks"
hasnt "$L" '{"eventType":"STA{' "the torn last line is gone"
eq "$(jq -r '.run.facets.meshd.seq' "$L" | tr '\n' ' ')" "$(sql "SELECT seq FROM lineage_outbox ORDER BY seq" | tr '\n' ' ')" "acked_seq behind the file: no event twice"
eq "$(wc -l <"$L")" "$((n + 6))" "six new events, nothing else"
stop

# --- HTTP sink: down, then 503, then up
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i '/^lineage/d' "$T/meshd.conf"
echo "lineage = { sink = \"http\"; url = \"http://127.0.0.1:$port/api/v1/lineage\"; timeout = 2; };" >>"$T/meshd.conf"
run_ctl 0 "validate accepts the http sink" validate
base=$(maxseq)
start
rerun lin 3 "lin runs with the sink down"
url="http://127.0.0.1:$port/api/v1/lineage"
waitsql "the sink's failure is recorded, with a later retry" "1" "SELECT failures > 0 AND last_error IS NOT NULL AND next_try_us > 0 FROM lineage_sinks WHERE name = '$url'"
eq "$(sql "SELECT count(*) FROM lineage_outbox WHERE seq > $base")" "6" "the events wait in the outbox"
eq "$(sql "SELECT acked_seq FROM lineage_sinks WHERE name = '$url'")" "0" "nothing acknowledged by the http sink"
touch "$T/down"
python3 - "$port" "$T/recv" "$T/down" <<'PY' &
import http.server, os, sys
port, out, down = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if os.path.exists(down):
            self.send_response(503)
        else:
            with open(out, "ab") as f:
                f.write(body + b"\n")
            self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
spid=$!
# The backoff grows to a minute; do not wait for it (it was seen above).
sql "UPDATE lineage_sinks SET next_try_us = 0"
waitsql "a sink answering 503 is a failure" "1" "SELECT last_error LIKE '%503%' FROM lineage_sinks WHERE name = '$url'"
eq "$(sql "SELECT acked_seq FROM lineage_sinks WHERE name = '$url'")" "0" "still nothing acknowledged"
rm -f "$T/down"
sql "UPDATE lineage_sinks SET next_try_us = 0"
waitsql "when the sink is back, everything is delivered" "$(maxseq)" "SELECT acked_seq FROM lineage_sinks WHERE name = '$url'"
eq "$(jq -r '.run.facets.meshd.seq' "$T/recv" | tr '\n' ' ')" "$(sql "SELECT seq FROM lineage_outbox ORDER BY seq" | tr '\n' ' ')" "the sink got every event of the outbox in order, each once"
eq "$(sql "SELECT failures || ' ' || coalesce(last_error, '-') FROM lineage_sinks WHERE name = '$url'")" "0 -" "the failure is cleared"
stop
kill "$spid"; wait "$spid" 2>/dev/null; spid=

# --- the outbox holds what the deliverer renders events from, not the
# events; a forged or orphaned record is delivered as a bare OTHER event,
# said in the log, and stops nothing behind it
sed -i '/^lineage/d' "$T/meshd.conf"
eq "$(sql "SELECT count(*) FROM lineage_outbox WHERE event NOT LIKE '@1' || char(9) || '%'")" "0" "the outbox holds compact records"
eq "$(sql "SELECT max(length(event)) < 200 FROM lineage_outbox")" "1" "a few dozen bytes each, not a kilobyte of JSON"
n=$(wc -l <"$L")
sql "INSERT INTO lineage_outbox (event, created_us) VALUES ('@1' || char(9) || 'cut short', 1)"
sql "INSERT INTO lineage_outbox (event, created_us) VALUES ('@1' || char(9) || '2' || char(9) || '999999' || char(9) || '0' || char(9) || char(9) || char(9) || '-1' || char(9) || char(9), 1)"
forged=$(maxseq)
start
rerun lin 3 "lin runs after two bad records"
waitsql "everything after them is delivered" "$(maxseq)" "SELECT max(acked_seq) FROM lineage_sinks"
stop
eq "$(tail -n +$((n + 1)) "$L" | jq -r "select(.run.facets.meshd.seq >= $((forged - 1))) | .eventType" | tr '\n' ' ')" "OTHER OTHER START COMPLETE START COMPLETE START COMPLETE " "the bad ones as OTHER, then lin's six"
eq "$(tail -n +$((n + 1)) "$L" | jq -r 'select(.eventType == "OTHER") | .run.facets.meshd.seq' | tr '\n' ' ')" "$((forged - 1)) $forged " "each with its seq"
has "$T/meshd.log" "not an event meshd wrote" "the cut record is named in the log"
has "$T/meshd.log" "no attempt 999999" "and the orphaned one"

# --- retention, and bad configuration
sed -i '/^lineage/d' "$T/meshd.conf"
echo 'lineage = { keep = 0; };' >>"$T/meshd.conf"
start
waitsql "keep = 0: acknowledged events leave the outbox" "0" "SELECT count(*) FROM lineage_outbox"
stop
sed -i '/^lineage/d' "$T/meshd.conf"
echo 'lineage = { sink = "kafka"; url = "x"; };' >>"$T/meshd.conf"
run_ctl 1 "validate refuses a bad lineage group" validate
has "$T/err" 'meshd.conf:' "the error names the file and line"
has "$T/err" 'lineage.sink must be "file", "http" or "none", not "kafka"' "an unknown sink is named"
has "$T/err" 'lineage.url must start with http://' "a url that is not http is refused"
sed -i '/^lineage/d' "$T/meshd.conf"
echo 'lineage = { sink = "http"; };' >>"$T/meshd.conf"
run_ctl 1 "validate refuses an http sink without a url" validate
has "$T/err" 'lineage.sink = "http" needs a url' "the missing url is named"
sed -i '/^lineage/d' "$T/meshd.conf"
echo 'lineage = { sink = "none"; };' >>"$T/meshd.conf"
before=$(sql "SELECT count(*) FROM lineage_outbox")
start
rerun lin 3 "lin runs with sink none"
eq "$(sql "SELECT count(*) FROM lineage_outbox")" "$before" "sink = none: no events recorded"
stop
finish
