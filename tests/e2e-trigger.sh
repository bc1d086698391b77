#!/bin/sh
# End-to-end: meshctl trigger records a request that survives a daemon that
# is down, and that a running daemon carries out at once; --param values
# reach the plugins of that run only.
. "$(dirname "$0")/e2e-lib.sh"
MESHD=${MESHD:-$top_builddir/meshd}
conf
cat >"$T/jobs/ref.conf" <<'JOB'
name = "ref";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ]; }
);
JOB
cat >"$T/jobs/day.conf" <<'JOB'
name = "day";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "2001-01-01";
end = "2001-02-01";
catchup = "none";
tasks = ( { id = "a"; plugin = "ok"; stage = "check"; } );
JOB
cat >"$T/jobs/slow.conf" <<'JOB'
name = "slow";
domain = "test";
owner = "tests@example.org";
params = { sleep_ms = 20000; };
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ]; }
);
JOB
cat >"$T/jobs/echo.conf" <<'JOB'
name = "echo";
domain = "test";
owner = "tests@example.org";
params = { n = 1; label = "file"; };
tasks = ( { id = "a"; plugin = "paramecho"; stage = "extract"; } );
JOB
sed -i 's/^workers = 2;$/workers = 2;\nkill_grace = 1;/' "$T/meshd.conf"

# --- while meshd is down: the request is kept
run_ctl 0 "trigger with meshd down" trigger ref
has "$T/out" "meshd is not running and will run it when it starts" "says it will run later"
eq "$(sql "SELECT kind || ' ' || job || ' ' || partition_key || ' ' || state FROM requests")" "trigger ref current pending" "the request is a durable row"
run_ctl 0 "trigger a past day" trigger day --partition 2001-01-05 --json
eq "$(jq -r '.job + " " + .partition' "$T/out")" "day 2001-01-05" "trigger --json parses"

"$MESHD" -c "$T/meshd.conf" >"$T/meshd.log" 2>&1 &
pid=$!
waitsql "meshd runs the request made while it was down" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'ref'"
waitsql "the day is run too" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'day' AND r.partition_key = '2001-01-05'"
eq "$(sql "SELECT group_concat(state) FROM requests")" "done,done" "both requests are done"
eq "$(sql "SELECT \"trigger\" FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'ref'")" "trigger" "a triggered run says so (trigger, not manual)"

# --- while meshd is up: it is told and acts at once
run_ctl 2 "trigger a partition that already succeeded" trigger ref
has "$T/err" "partition current of job ref already succeeded (run 1, " "says so, with the run"
has "$T/err" "use --rerun to run it again" "names --rerun"
run_ctl 0 "trigger with meshd up" trigger ref --rerun
has "$T/out" "meshd (pid $pid) runs it now" "names the daemon"
waitsql "the partition runs again" "2" "SELECT max(try_number) FROM task_instances ti JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'ref'"
lat=$(sql "SELECT min(a.started_us) - (SELECT max(created_us) FROM requests) FROM attempts a WHERE a.try_number = 2")
[ "$lat" -ge 0 ] && [ "$lat" -lt 1000000 ] && ok "acted on within a second ($((lat / 1000)) ms)" || fail "request to attempt took $lat us"
eq "$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'ref'")" "1" "still one run for the partition"

# --- meshctl cancel: a running run stops, its attempts say why
run_ctl 0 "trigger a slow run" trigger slow
waitsql "the slow attempt runs" "running" "SELECT a.state FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slow'"
run_ctl 0 "cancel it" cancel slow current
waitsql "the run ends cancelled" "cancelled" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slow'"
eq "$(sql "SELECT ti.task_id || ':' || ti.state FROM task_instances ti JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slow' ORDER BY ti.id" | tr '\n' ' ')" "extract:cancelled check:cancelled publish:cancelled " "its tasks are cancelled"
case "$(sql "SELECT a.reason FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slow'")" in
"cancelled by operator (request "*) ok "the attempt says it was cancelled by the operator" ;;
*) fail "attempt reason does not say cancelled by operator" ;;
esac
run_ctl 0 "cancel it again" cancel slow current
waitsql "a second cancel fails: nothing to cancel" "failed" "SELECT state FROM requests ORDER BY id DESC LIMIT 1"
run_ctl 2 "cancel a bad partition" cancel day 2001-01-05T10

# --- meshctl status
run_ctl 0 "status with meshd up" status --json
eq "$(jq -r '"\(.up) \(.pid) \(.queued)"' "$T/out")" "true $pid 0" "status: up, its pid, nothing queued"
# meshd has been up for the seconds this test has run, not since boot.
eq "$(jq -r '.uptime_s >= 0 and .uptime_s < 120' "$T/out")" "true" "status: uptime is the daemon's"
run_ctl 0 "status text" status
has "$T/out" "meshd:    up, pid $pid" "status names the daemon"

# --- meshctl jobs: schedule, next fire, last run
run_ctl 0 "jobs --json" jobs --json
eq "$(jq -r '.jobs[] | select(.job == "ref") | .last_runs[0].state + " " + .last_runs[0].partition' "$T/out")" "success current" "jobs shows the last run"
eq "$(jq -r '.jobs[] | select(.job == "day") | .schedule + " " + (.next_fire_us // "none" | tostring)' "$T/out")" "@daily none" "a job past its end fires no more"
run_ctl 0 "jobs" jobs
has "$T/out" "NEXT FIRE" "jobs prints a table"

# --- bad input
run_ctl 2 "trigger an unknown job" trigger nosuch
has "$T/err" "unknown job 'nosuch'" "unknown job named"
run_ctl 2 "trigger a partition off the schedule" trigger day --partition 2001-01-05T10
has "$T/err" "nearest: 2001-01-05, 2001-01-06" "nearest keys shown"
run_ctl 2 "trigger a partition outside the job" trigger day --partition 2002-01-01
eq "$(sql "SELECT count(*) FROM requests")" "6" "refused requests record nothing"

# --- trigger --param: run parameters over the job file's params
echo_sql="FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'echo'"
last_metric() { # last_metric NAME: the metric of echo's latest attempt
	sql "SELECT m.value FROM metrics m WHERE m.name = '$1' AND m.attempt_id = (SELECT max(a.id) FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'echo')"
}
run_ctl 0 "trigger --param" trigger echo --param n=7 --param "label=from the cli" --param n=8
has "$T/out" "with n=8, label=from the cli: meshd (pid $pid) runs it now" "the text names the params"
echo_tries="SELECT max(ti.try_number) || ' ' || r.state FROM task_instances ti JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'echo'"
waitsql "the run with params succeeds" "1 success" "$echo_tries"
eq "$(sql "SELECT params $echo_sql")" '{"label":"from the cli","n":"8"}' "runs.params holds them, the last of a key winning"
eq "$(last_metric n)" "8" "the plugin reads the int param as overridden"
has "$T/state/logs/echo/current/a.1.log" "label=from the cli" "the plugin reads the string param as overridden"
run_ctl 0 "trigger --param --json" trigger echo --param extra=x --json --rerun
eq "$(jq -r '.params.extra' "$T/out")" "x" "trigger --json shows the params"
has "$T/err" "warning: --param extra: no task of job 'echo' has a param 'extra'" "an undeclared key is warned about"
waitsql "the second run is done" "2 success" "$echo_tries"
eq "$(last_metric has_extra)" "1" "an undeclared key reaches the plugin"
eq "$(last_metric n)" "1" "params of an earlier trigger do not stick"
run_ctl 0 "trigger without --param" trigger echo --rerun
waitsql "the third run is done" "3 success" "$echo_tries"
eq "$(sql "SELECT coalesce(params, 'NULL') $echo_sql")" "NULL" "no --param: runs.params is NULL"
eq "$(last_metric has_extra)" "0" "no --param: the job file's params alone"
nreq=$(sql "SELECT count(*) FROM requests")
run_ctl 2 "--param without =" trigger echo --param bad
has "$T/err" "--param bad: not KEY=VALUE" "names the argument"
run_ctl 2 "--param with a bad key" trigger echo --param 1x=5
has "$T/err" "'1x' is not a param name" "the key is refused"
run_ctl 2 "--param of the wrong type" trigger echo --param n=abc
has "$T/err" "task 'a' has 'n' as an int, and 'abc' is not one" "the type is checked against the job file"
eq "$(sql "SELECT count(*) FROM requests")" "$nreq" "refused --param requests record nothing"
# A value that does not read as its type by the time the run starts (the
# job file changed, or another writer) fails the task, saying why.
sql "INSERT INTO requests (kind, job, partition_key, args, created_us) VALUES ('trigger', 'echo', 'current', '{\"params\":{\"n\":\"abc\"},\"rerun\":true}', 1)"
kill -USR1 "$pid"	# the poke meshctl sends after a request
waitsql "a bad value at run time fails the task" "4 failed" "$echo_tries"
eq "$(sql "SELECT ti.reason FROM task_instances ti JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'echo'")" "run parameter n=abc: the job file makes 'n' an int, and 'abc' is not one" "the reason names the param, its type and the value"

kill -TERM "$pid"; wait "$pid"
eq "$?" "0" "meshd stops cleanly"
run_ctl 3 "status with meshd down (3: not running)" status --json
eq "$(jq -r '.up' "$T/out")" "false" "status: down"
finish
