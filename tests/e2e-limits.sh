#!/bin/sh
# End-to-end: concurrency limits (pools, max_active_tasks), retry backoff,
# run timeouts, and the bad input the daemon's settings must refuse.
. "$(dirname "$0")/e2e-lib.sh"
conf "workers = 3;" "pools = { warehouse = 1; };" "kill_grace = 1;"
sed -i '/^workers = 2;$/d' "$T/meshd.conf"

# par NAME EXTRA-JOB-KEYS TASK-EXTRA: three independent 300 ms tasks.
par() {
	cat >"$T/jobs/$1.conf" <<JOB
name = "$1";
domain = "test";
owner = "tests@example.org";
$2
params = { sleep_ms = 300; };
tasks = (
  { id = "a"; plugin = "ok"; stage = "check"; $3 },
  { id = "b"; plugin = "ok"; stage = "check"; $3 },
  { id = "c"; plugin = "ok"; stage = "check"; $3 }
);
JOB
}
# overlaps JOB: how many pairs of its attempts ran at the same time.
overlaps() {
	sql "SELECT count(*) FROM attempts x JOIN attempts y ON x.id < y.id
	    JOIN task_instances tx ON tx.id = x.task_instance_id
	    JOIN task_instances ty ON ty.id = y.task_instance_id
	    JOIN runs r ON r.id = tx.run_id AND r.id = ty.run_id
	    JOIN jobs j ON j.id = r.job_id
	    WHERE j.name = '$1' AND x.started_us < y.ended_us AND y.started_us < x.ended_us"
}

par free "" ""
par pooled "" 'pool = "warehouse";'
par capped "max_active_tasks = 1;" ""
run_ctl 0 "three free tasks" run free
[ "$(overlaps free)" -gt 0 ] && ok "free tasks run at the same time" || fail "free tasks never overlapped"
run_ctl 0 "three tasks in a 1-slot pool" run pooled
eq "$(overlaps pooled)" "0" "a 1-slot pool runs its tasks one at a time"
run_ctl 0 "three tasks with max_active_tasks = 1" run capped
eq "$(overlaps capped)" "0" "max_active_tasks = 1 runs them one at a time"

# --- retries with exponential backoff: delays 0.3 s, 0.6 s, 1.2 s
cat >"$T/jobs/backoff.conf" <<'JOB'
name = "backoff";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "a"; plugin = "retry"; stage = "extract"; retries = 3;
  retry_delay = 0.3; retry_backoff = 2.0; retry_delay_max = 10;
  params = { fail_times = 3; }; } );
JOB
run_ctl 0 "retry with backoff succeeds on attempt 4" run backoff
gaps=$(sql "SELECT group_concat((b.started_us - a.ended_us) / 100000, ',') FROM attempts a JOIN attempts b ON b.task_instance_id = a.task_instance_id AND b.try_number = a.try_number + 1 ORDER BY a.try_number")
case "$gaps" in
3,6,12|3,6,13|3,7,12|3,7,13|4,6,12|4,7,12|4,7,13|3,6,14|4,6,13) ok "backoff gaps double (tenths of s: $gaps)" ;;
*) fail "backoff gaps are $gaps tenths of a second, wanted about 3,6,12" ;;
esac
eq "$(sql "SELECT group_concat(state, ',') FROM (SELECT state FROM attempts ORDER BY id DESC LIMIT 4)")" "success,retry,retry,retry" "each retry is its own attempt"

# --- a run timeout stops the run
cat >"$T/jobs/slowrun.conf" <<'JOB'
name = "slowrun";
domain = "test";
owner = "tests@example.org";
run_timeout = 1;
tasks = (
  { id = "a"; plugin = "hang"; stage = "extract"; params = { honour_cancel = true; }; },
  { id = "b"; plugin = "ok"; stage = "check"; after = [ "a" ]; }
);
JOB
run_ctl 1 "run_timeout fails the run" run slowrun
has "$T/out" "run timed out after" "the reason says the run timed out"
eq "$(sql "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slowrun'")" "failed" "the run is failed"
eq "$(sql "SELECT ti.state FROM task_instances ti JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slowrun' AND ti.task_id = 'b'")" "upstream_failed" "its successor never ran"

# --- bad settings are refused with file:line
mkdir "$T/bad"
sed -i "s|jobs_dir = \"jobs\";|jobs_dir = \"bad\";|" "$T/meshd.conf"
cat >"$T/bad/b.conf" <<'JOB'
name = "b";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "2001-02-01";
end = "2001-01-01";
catchup = "sometimes";
tasks = (
  { id = "a"; plugin = "ok"; stage = "check"; pool = "nosuch"; },
  { id = "c"; plugin = "ok"; stage = "check"; retries = 5000; },
  { id = "d"; plugin = "ok"; stage = "check"; timeout = -3; },
  { id = "e"; plugin = "ok"; stage = "check"; retry_backoff = 0.5; }
);
JOB
run_ctl 1 "bad settings are refused" validate
has "$T/err" "b.conf:6: error: end 2001-01-01 is not after start 2001-02-01" "end before start"
has "$T/err" "b.conf:7: error: catchup 'sometimes' is not valid" "bad catchup"
has "$T/err" "b.conf:9: error: task 'a': pool 'nosuch' does not exist" "unknown pool"
has "$T/err" "b.conf:10: error: 'retries' must be at most 1000, not 5000" "absurd retries"
has "$T/err" "b.conf:11: error: 'timeout' must be at least 0 seconds" "negative timeout"
has "$T/err" "b.conf:12: error: 'retry_backoff' must be between 1 and 100" "bad backoff"

finish
