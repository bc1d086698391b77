#!/bin/sh
# End-to-end: backfills and clear, driven through the real meshctl and meshd.
# A backfill asked for while meshd is down runs when it starts; it keeps to
# its max_active_runs, never gives a partition a second run, shows progress
# as lines when not on a terminal and as a bar on one; clear --failed-only
# reruns just the failed tasks; bad input is refused whole.
. "$(dirname "$0")/e2e-lib.sh"
MESHD=${MESHD:-$top_builddir/meshd}
conf "kill_grace = 1;"
cat >"$T/jobs/day.conf" <<JOB
name = "day";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "2001-01-01";
end = "2001-02-01";
catchup = "none";
max_active_runs = 1;
params = { sleep_ms = 100; };
tasks = (
  { id = "a"; plugin = "ok"; stage = "extract"; },
  { id = "b"; plugin = "ok"; stage = "check"; after = [ "a" ];
    params = { fail_if = "$T/fail-{partition}"; }; },
  { id = "c"; plugin = "ok"; stage = "check"; after = [ "b" ]; }
);
JOB
cat >"$T/jobs/slow.conf" <<'JOB'
name = "slow";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "2001-01-01";
end = "2001-02-01";
catchup = "none";
params = { sleep_ms = 30000; };
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
cat >"$T/jobs/minute.conf" <<'JOB'
name = "minute";
domain = "test";
owner = "tests@example.org";
schedule = "* * * * *";
catchup = "none";
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
cat >"$T/jobs/adhoc.conf" <<'JOB'
name = "adhoc";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
run_of() { # run_of JOB KEY COLUMN
	sql "SELECT r.$3 FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' AND r.partition_key = '$2'"
}
tries() { # tries JOB KEY: "task:try" for each task
	sql "SELECT group_concat(t.task_id || ':' || t.try_number, ' ') FROM task_instances t JOIN runs r ON r.id = t.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' AND r.partition_key = '$2' ORDER BY t.task_id"
}

# --- bad input: each refused with its exit code, nothing written
run_ctl 2 "unknown job" backfill nosuch --from 2001-01-01 --to 2001-01-02
has "$T/err" "unknown job 'nosuch' (jobs: adhoc, day, minute, slow)" "names the jobs there are"
run_ctl 2 "range the wrong way round" backfill day --from 2001-01-05 --to 2001-01-01
has "$T/err" "the range is the wrong way round: --from 2001-01-05 is after --to 2001-01-01" "says which way"
run_ctl 2 "a key off the schedule" backfill day --from 2001-01-02T10:17 --to 2001-01-05
has "$T/err" "nearest: 2001-01-02, 2001-01-03" "shows the nearest valid keys"
run_ctl 2 "a job with no schedule" backfill adhoc --from a --to b
has "$T/err" "adhoc has no schedule" "says why"
run_ctl 2 "over 10 million partitions without --yes" backfill minute --from 2001-01-01T00:00 --to 2030-01-01T00:00
has "$T/err" "more than 10,000,000 partitions; add --yes" "asks for --yes"
run_ctl 2 "--reprocess takes missing, failed or all" backfill day --from 2001-01-01 --to 2001-01-02 --reprocess some
has "$T/err" "--reprocess: 'some' is not one of missing, failed, all" "lists the choices"
run_ctl 2 "--from without --to" backfill day --from 2001-01-01
run_ctl 2 "cancel a backfill that does not exist" backfill cancel 42
has "$T/err" "no backfill 42" "says so"
test -f "$T/state/state.db" && n=$(sql "SELECT count(*) FROM backfills") || n=0
eq "$n" "0" "no bad request left a backfill behind"

# --- dry run: what would happen to each partition; nothing written
run_ctl 0 "dry run" backfill day --from 2001-01-01 --to 2001-01-05 --dry-run
has "$T/out" "2001-01-03               run     no run yet" "lists each partition and its action"
has "$T/out" "dry run: 5 partitions: 5 run" "sums up"
run_ctl 0 "dry run --json" backfill day --from 2001-01-01 --to 2001-01-05 --dry-run --json --reverse
eq "$(jq -r '.partitions[0].partition + " " + .partitions[0].action' "$T/out")" "2001-01-05 run" "--json parses; --reverse puts the newest first"

# --- asked for while meshd is down: kept, and run when it starts
touch "$T/fail-2001-01-03"
run_ctl 0 "backfill with meshd down" backfill day --from 2001-01-01 --to 2001-01-05 --max-active-runs 2 --json
eq "$(jq -r '.total' "$T/out")" "5" "--json says how many partitions"
eq "$(sql "SELECT state || ' ' || total FROM backfills WHERE id = 1")" "pending 5" "the backfill is a durable row"
eq "$(sql "SELECT count(*) FROM backfill_partitions WHERE backfill_id = 1")" "5" "with every partition, created whole"
eq "$(sql "SELECT kind || ' ' || state FROM requests")" "backfill pending" "and its request"

"$MESHD" -c "$T/meshd.conf" >"$T/meshd.log" 2>&1 &
pid=$!
# Not a terminal: plain lines, no bar.
"$MESHCTL" backfills 1 --wait --interval 0 >"$T/wait" 2>&1
eq "$?" "1" "--wait exits 1: a partition failed"
has "$T/wait" "backfill 1: 5/5 done: 4 ok, 1 failed, 0 skipped, 0 cancelled; 0 running" "progress lines when not on a terminal"
has "$T/wait" "backfill 1 failed in" "and a last line"
if grep -q "$(printf '\r')" "$T/wait"; then fail "no carriage returns off a terminal"; else ok "no carriage returns off a terminal"; fi
eq "$(run_of day 2001-01-03 state)" "failed" "the partition told to fail failed"
eq "$(sql "SELECT group_concat(state, ',') FROM (SELECT state FROM backfill_partitions WHERE backfill_id = 1 ORDER BY seq)")" "success,success,failed,success,success" "each partition's outcome is kept"
# max_active_runs 2: never more than two of its runs at once.
over=$(sql "SELECT count(*) FROM runs a JOIN jobs j ON j.id = a.job_id WHERE j.name = 'day' AND (SELECT count(*) FROM runs b WHERE b.job_id = a.job_id AND b.started_us <= a.started_us AND b.ended_us > a.started_us) > 2")
eq "$over" "0" "at most --max-active-runs partitions ran at once"
both=$(sql "SELECT count(*) FROM runs a JOIN jobs j ON j.id = a.job_id WHERE j.name = 'day' AND (SELECT count(*) FROM runs b WHERE b.job_id = a.job_id AND b.started_us <= a.started_us AND b.ended_us > a.started_us) = 2")
[ "$both" -gt 0 ] && ok "two ran at once (beyond the job's max_active_runs of 1)" || fail "never two at once: the backfill did not use its places"
run_ctl 1 "backfills ID shows a failed backfill" backfills 1
has "$T/out" "failed:     2001-01-03" "and lists its failed partitions"
run_ctl 0 "backfills --json" backfills --json
eq "$(jq -r '.backfills[0] | "\(.id) \(.state) \(.done)/\(.total) \(.failed)"' "$T/out")" "1 failed 5/5 1" "--json parses with the counts"

# --- clear --failed-only: just the failed tasks run again
eq "$(tries day 2001-01-03)" "a:1 b:1 c:0" "before: a ran, b failed, c never ran"
rm -f "$T/fail-2001-01-03"
run_ctl 0 "clear --failed-only over the range" clear day --from 2001-01-01 --to 2001-01-05 --failed-only
has "$T/out" "(1 run, failed tasks only)" "one run has something to rerun"
waitsql "the failed run is run again and succeeds" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'day' AND r.partition_key = '2001-01-03'"
eq "$(tries day 2001-01-03)" "a:1 b:2 c:1" "a kept its success; b ran again; c ran"
eq "$(tries day 2001-01-02)" "a:1 b:1 c:1" "runs that succeeded were not touched"
run_ctl 1 "clear --failed-only with nothing failed" clear day --from 2001-01-01 --to 2001-01-05 --failed-only
has "$T/err" "nothing to clear" "says so"

# --- clear one task, and one task with what follows it
run_ctl 0 "clear --task b" clear day --partition 2001-01-02 --task b
waitsql "task b runs again, c is kept" "a:1 b:2 c:1" "SELECT group_concat(t.task_id || ':' || t.try_number, ' ') FROM task_instances t JOIN runs r ON r.id = t.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'day' AND r.partition_key = '2001-01-02' ORDER BY t.task_id"
run_ctl 0 "clear --task a --downstream" clear day --partition 2001-01-04 --task a --downstream
waitsql "a and everything after it run again" "a:2 b:2 c:2" "SELECT group_concat(t.task_id || ':' || t.try_number, ' ') FROM task_instances t JOIN runs r ON r.id = t.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'day' AND r.partition_key = '2001-01-04' ORDER BY t.task_id"
waitsql "and the run succeeds" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'day' AND r.partition_key = '2001-01-04'"
run_ctl 2 "clear an unknown task" clear day --partition 2001-01-02 --task zz
has "$T/err" "job day has no task 'zz' (tasks: a, b, c)" "names the tasks"
run_ctl 2 "clear a partition with no run" clear day --partition 2001-01-20
has "$T/err" "job 'day' has no run for partition '2001-01-20'" "says so"
run_ctl 2 "clear a partition off the schedule" clear day --partition 2001-01-20T10:17
has "$T/err" "nearest: 2001-01-20, 2001-01-21" "shows the nearest valid keys"
run_ctl 2 "clear a range the wrong way round" clear day --from 2001-01-05 --to 2001-01-01
run_ctl 2 "--downstream needs --task" clear day --partition 2001-01-02 --downstream

# --- reprocess: missing skips what has a run; failed reruns only failures
touch "$T/fail-2001-01-07"
run_ctl 1 "a second backfill, --wait" backfill day --from 2001-01-01 --to 2001-01-08 --wait --interval 0
has "$T/out" "8/8 done: 2 ok, 1 failed, 5 skipped" "missing: the five with runs are skipped"
rm -f "$T/fail-2001-01-07"
run_ctl 0 "--reprocess failed" backfill day --from 2001-01-01 --to 2001-01-08 --reprocess failed --wait --interval 0
has "$T/out" "8/8 done: 1 ok, 0 failed, 7 skipped" "failed: only the failed one runs again"
eq "$(tries day 2001-01-07)" "a:1 b:2 c:1" "and it resumes from its failure"
run_ctl 2 "cancel a finished backfill" backfill cancel 2
has "$T/err" "backfill 2 has already ended (failed" "says it has ended"

# --- a partition already running is waited for, never run twice
run_ctl 0 "trigger a slow partition" trigger slow --partition 2001-01-02
waitsql "it is running" "running" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slow' AND r.partition_key = '2001-01-02'"
run_ctl 0 "backfill over it" backfill slow --from 2001-01-01 --to 2001-01-04 --max-active-runs 4 --json
bf=$(jq -r .backfill_id "$T/out")
waitsql "the running partition is waited for" "waits" "SELECT CASE WHEN reason LIKE 'already queued or running%' THEN 'waits' ELSE reason END FROM backfill_partitions WHERE backfill_id = $bf AND partition_key = '2001-01-02'"
eq "$(sql "SELECT count(*) FROM attempts at JOIN task_instances t ON t.id = at.task_instance_id JOIN runs r ON r.id = t.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slow' AND r.partition_key = '2001-01-02'")" "1" "no second attempt of it started"
waitsql "the others run" "3" "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slow' AND r.partition_key <> '2001-01-02' AND r.state = 'running'"

# --- cancel: pending partitions never start; --now stops running ones
run_ctl 0 "cancel it now" backfill cancel "$bf" --now
waitsql "the backfill ends cancelled" "cancelled" "SELECT state FROM backfills WHERE id = $bf"
eq "$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slow' AND r.state = 'cancelled'")" "3" "its own running partitions were stopped"
eq "$(run_of slow 2001-01-02 state)" "running" "the run it only waited for goes on"
eq "$(sql "SELECT state FROM backfill_partitions WHERE backfill_id = $bf AND partition_key = '2001-01-02'")" "cancelled" "and the backfill lets go of it"
run_ctl 0 "cancel the slow trigger" cancel slow 2001-01-02

# --- on a terminal: a live bar with an ETA (script gives a pty)
if command -v script >/dev/null 2>&1; then
	script -qec "'$MESHCTL' backfill day --from 2001-01-09 --to 2001-01-12 --wait" /dev/null >"$T/tty" 2>&1
	has "$T/tty" "[##############################] 4/4" "a progress bar on a terminal"
	has "$T/tty" "ETA" "with an ETA"
	has "$T/tty" "$(printf '\r')[" "redrawn in place"
	# Colour: only on a terminal, never with NO_COLOR.
	esc=$(printf '\033[3')
	script -qec "'$MESHCTL' runs day" /dev/null >"$T/tty" 2>&1
	has "$T/tty" "${esc}2msuccess" "states are coloured on a terminal"
	script -qec "NO_COLOR=1 '$MESHCTL' runs day" /dev/null >"$T/tty" 2>&1
	hasnt "$T/tty" "$esc" "but not with NO_COLOR set"
	has "$T/tty" "success" "(the same listing)"
	"$MESHCTL" runs day >"$T/out" 2>&1
	hasnt "$T/out" "$esc" "and not when not on a terminal"
else
	fail "script(1) is missing (package bsdutils): cannot test the terminal bar"
fi

# --- meshd killed mid-backfill: the next start takes it up where it was
run_ctl 0 "a backfill to interrupt" backfill day --from 2001-01-13 --to 2001-01-24 --max-active-runs 2 --json
bf=$(jq -r .backfill_id "$T/out")
waitsql "it is under way" "1" "SELECT n_success > 0 FROM backfills WHERE id = $bf"
kill -9 "$pid"
wait "$pid" 2>/dev/null
"$MESHD" -c "$T/meshd.conf" >>"$T/meshd.log" 2>&1 &
pid=$!
run_ctl 0 "--wait after the restart" backfills "$bf" --wait --interval 0
has "$T/out" "backfill $bf: 12/12 done: 12 ok, 0 failed, 0 skipped, 0 cancelled; 0 running" "every partition ran once the daemon came back"
eq "$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'day' AND r.partition_key BETWEEN '2001-01-13' AND '2001-01-24' AND r.state = 'success'")" "12" "each has one successful run"
eq "$(sql "SELECT count(*) FROM backfill_partitions WHERE backfill_id = $bf AND state = 'success'")" "12" "and the partition rows agree with the counters"

# --- 100,000 partitions in one request
run_ctl 0 "100,000 hourly partitions in one request" backfill minute --from 2001-01-01T00:00 --to 2001-03-11T10:39 --max-active-runs 1 --json
eq "$(jq -r .total "$T/out")" "100000" "all of them"
bf=$(jq -r .backfill_id "$T/out")
eq "$(sql "SELECT count(*) FROM backfill_partitions WHERE backfill_id = $bf")" "100000" "created whole"
run_ctl 0 "cancel it" backfill cancel "$bf"
waitsql "it ends cancelled" "cancelled" "SELECT state FROM backfills WHERE id = $bf"

# --- a job meshd does not have (written after it started, no reload)
cat >"$T/jobs/late.conf" <<'JOB'
name = "late";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "2001-01-01";
end = "2001-02-01";
catchup = "none";
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
run_ctl 0 "backfill a job meshd has not loaded" backfill late --from 2001-01-01 --to 2001-01-03 --json
bf=$(jq -r .backfill_id "$T/out")
waitsql "it ends cancelled, not successful" "cancelled 3" "SELECT state || ' ' || n_cancelled FROM backfills WHERE id = $bf"
has "$T/meshd.log" "backfill $bf: job late is no longer configured" "and meshd says why"

kill "$pid"
wait "$pid"
eq "$?" "0" "meshd stops cleanly"
finish
