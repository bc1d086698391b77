#!/bin/sh
# End-to-end: the real meshctl runs jobs made of the test plugins, one per
# fault, and every fault becomes a failed task with its precise reason while
# meshctl itself exits normally with 1.
. "$(dirname "$0")/e2e-lib.sh"
conf "kill_grace = 1;" "heartbeat_timeout = 5;"

# job NAME PLUGIN [TASK-EXTRA]: a one-task extract job.
job() {
	cat >"$T/jobs/$1.conf" <<JOB
name = "$1";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "extract"; plugin = "$2"; stage = "extract"; ${3:-} } );
JOB
}

cat >"$T/jobs/okjob.conf" <<'JOB'
name = "okjob";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "2001-01-01";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ]; }
);
JOB
cat >"$T/jobs/gate.conf" <<'JOB'
name = "gate";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "extract"; plugin = "badcheck"; stage = "extract"; },
  { id = "check"; plugin = "badcheck"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "badcheck"; stage = "publish"; after = [ "check" ]; }
);
JOB
job segv segv
job abrt abort
job exit3 exit3
job hang hang "timeout = 1;"
job badabi badabi
job noentry noentry
job badinit badinit
job retry retry "retries = 2; retry_delay = 0;"
job fails fails "retries = 3; retry_delay = 0;"
job segv2 segv "retries = 1; retry_delay = 0;"
job stageless checkonly

# --- a good run, end to end
run_ctl 0 "ok job runs" run okjob --partition 2001-01-02
has "$T/out" "run 1: okjob 2001-01-02 [2001-01-02T00:00:00Z, 2001-01-03T00:00:00Z)" "run header names interval"
has "$T/out" "start  extract" "task start printed"
has "$T/out" "end    publish" "task end printed"
has "$T/out" "run 1: okjob 2001-01-02 success" "summary line"
eq "$(sql "SELECT state FROM runs WHERE partition_key = '2001-01-02'")" "success" "run row success"
eq "$(sql "SELECT group_concat(state, ',') FROM (SELECT state FROM task_instances ORDER BY id)")" "success,success,success" "three task instances succeeded"
eq "$(sql "SELECT count(*) FROM attempts WHERE state = 'success' AND worker_pid > 0 AND ended_us >= started_us")" "3" "attempts recorded with pid and times"
eq "$(sql "SELECT name || '=' || value FROM metrics")" "rows=1" "metric recorded"
eq "$(sql "SELECT name || ':' || passed FROM check_results")" "rows_min:1" "check result recorded"
eq "$(sql "SELECT p.name || ' ' || pp.state || ' v' || pp.version FROM product_partitions pp JOIN products p ON p.id = pp.product_id")" "test.ok published v1" "partition published"
run_ctl 0 "logs of extract" logs okjob 2001-01-02 extract
has "$T/out" "hello from ok plugin stdout" "plugin stdout is in the attempt log"
has "$T/out" "extracted 2001-01-02" "plugin log line is in the attempt log"
run_ctl 0 "logs --json" logs okjob 2001-01-02 extract --json
eq "$(jq -r '"\(.attempt) \(.state) " + (.log | contains("hello from ok plugin stdout") | tostring)' "$T/out")" "1 success true" "logs --json parses, with the log"
run_ctl 2 "logs --follow with --json" logs okjob 2001-01-02 extract --json --follow
run_ctl 0 "same partition again" run okjob --partition 2001-01-02 --rerun
eq "$(sql "SELECT count(*) || ' v' || max(version) FROM product_partitions")" "1 v2" "republish replaces, never duplicates"
eq "$(sql "SELECT count(*) FROM runs")" "1" "one run per (job, partition)"
eq "$(sql "SELECT try_number FROM task_instances WHERE task_id = 'extract'")" "2" "try numbers continue"
run_ctl 0 "runs --json" runs okjob --json
eq "$(jq -r '.runs[0].partition + " " + .runs[0].state' "$T/out")" "2001-01-02 success" "runs --json parses"
run_ctl 0 "tasks --json" tasks okjob 2001-01-02 --json
eq "$(jq -r '[.tasks[].state] | join(",")' "$T/out")" "success,success,success" "tasks --json parses"

# --- faults: each a failed task with the precise reason, meshctl exits 1
fault() {
	name=$1; reason=$2
	run_ctl 1 "$name fails the run" run "$name"
	has "$T/out" "$reason" "$name: reason printed"
	got=$(sql "SELECT a.reason FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = '$name' ORDER BY a.id DESC LIMIT 1")
	case "$got" in
	*"$reason"*) ok "$name: reason stored in attempts" ;;
	*) fail "$name: attempts.reason is '$got', wanted '$reason'" ;;
	esac
	eq "$(sql "SELECT r.state || '/' || ti.state FROM runs r JOIN jobs j ON j.id = r.job_id JOIN task_instances ti ON ti.run_id = r.id WHERE j.name = '$name'")" "failed/failed" "$name: run and task failed"
}
fault segv "killed by signal 11 (SIGSEGV)"
fault abrt "killed by signal 6 (SIGABRT)"
fault exit3 "plugin called exit(3)"
fault hang "timed out after 1s"
fault badabi "ABI major 99 is not supported (this meshd: 1)"
fault noentry "no entry function 'meshd_plugin_descriptor'"
fault badinit "init refused: missing credentials"
fault stageless "has no extract stage"
fault fails "deliberate failure: fails plugin"
eq "$(sql "SELECT ti.try_number FROM task_instances ti JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'fails'")" "1" "MESHD_FAILED is not retried"

run_ctl 1 "segv with one retry" run segv2
eq "$(sql "SELECT count(*) FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'segv2' AND a.reason LIKE 'killed by signal 11%'")" "2" "a crash is retried as a new attempt"

run_ctl 0 "retry plugin succeeds on attempt 2" run retry
eq "$(sql "SELECT group_concat(a.state, ',') FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'retry'")" "retry,success" "retry then success"

# --- the quality gate: publish never runs, the partition is quarantined
run_ctl 1 "failed check quarantines" run gate
has "$T/out" "quality check failed: rows_min (observed 5, expected >= 10)" "gate: reason names the check"
eq "$(sql "SELECT ti.state FROM task_instances ti JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'gate' AND ti.task_id = 'publish'")" "upstream_failed" "gate: publish did not run"
eq "$(sql "SELECT pp.state FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = 'test.badcheck'")" "quarantined" "gate: partition quarantined"
eq "$(sql "SELECT count(*) FROM check_results WHERE passed = 0 AND severity = 1")" "1" "gate: warning recorded"
run_ctl 0 "catalog" catalog
has "$T/out" "test.badcheck current: rows_min (observed 5, expected >= 10)" "catalog says why it is quarantined"
run_ctl 0 "tasks shows checks" tasks gate current
has "$T/out" "rows_min" "tasks lists the failed check"

# --- meshctl dag: text and Graphviz dot
run_ctl 0 "dag as text" dag okjob
has "$T/out" "okjob (test, @daily): 3 tasks" "dag text header"
eq "$(grep -c 'after' "$T/out")" "2" "dag text lists each dependency"
run_ctl 0 "dag as dot" dag okjob --format dot
has "$T/out" 'digraph "okjob" {' "dot digraph"
eq "$(grep -c -- '->' "$T/out")" "2" "dot has one edge per dependency"
has "$T/out" '"extract" -> "check";' "dot edge direction"
if command -v dot >/dev/null 2>&1; then
	dot -Tsvg "$T/out" >/dev/null && ok "dot renders with Graphviz" || fail "dot does not render"
else
	fail "Graphviz dot is missing (package graphviz, in contrib/install-deps): cannot check the dot output renders"
fi
run_ctl 0 "dag --json" dag okjob --json
eq "$(jq -r '[.tasks[] | .id + "<" + (.after | join(","))] | join(" ")' "$T/out")" "extract< check<extract publish<check" "dag --json parses, tasks in run order with their upstreams"
run_ctl 2 "dag with a bad format" dag okjob --format png

# --- plugin info: the descriptor, or why the plugin is refused
run_ctl 0 "plugin info of a good plugin" plugin info "$TP/ok.so"
has "$T/out" "name:        ok 1.0.0" "plugin info: name and version"
has "$T/out" "abi:         1.0" "plugin info: ABI"
has "$T/out" "product:     test.ok" "plugin info: product"
run_ctl 0 "plugin info --json" plugin info "$TP/ok.so" --json
eq "$(jq -r '.domain + " " + (.stages | join(","))' "$T/out")" "test extract,check,publish" "plugin info --json parses"
run_ctl 1 "plugin info of a wrong ABI" plugin info "$TP/badabi.so"
has "$T/err" "ABI major 99 is not supported (this meshd: 1)" "plugin info: wrong ABI with both versions"
run_ctl 1 "plugin info without entry" plugin info "$TP/noentry.so"
has "$T/err" "noentry.so: no entry function 'meshd_plugin_descriptor'" "plugin info: names file and symbol"
run_ctl 1 "plugin info of a crashing constructor" plugin info "$TP/ctorcrash.so"
has "$T/err" "killed by signal 11 (SIGSEGV) while loading" "plugin info: a crash while loading is named"
run_ctl 1 "plugin info of a missing file" plugin info "$T/nosuch.so"
has "$T/err" "No such file or directory" "plugin info: missing file"
mkdir -p "$T/ww" && cp "$TP/ok.so" "$T/ww/ok.so" && chmod 0666 "$T/ww/ok.so"
run_ctl 1 "plugin info of a world-writable file" plugin info "$T/ww/ok.so"
has "$T/err" "world-writable" "plugin info: world-writable refused"

finish
