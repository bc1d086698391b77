#!/bin/sh
# End-to-end: the real meshd under a test clock: scheduling and catch-up,
# the single-writer lock, SIGHUP reloads (a broken one keeps the old jobs),
# SIGTERM with attempts running, and kill -9 at random points with every
# task ending exactly once in success.
. "$(dirname "$0")/e2e-lib.sh"
conf "shutdown_grace = 1;" "kill_grace = 1;"
CLOCK="$T/clock"
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

# meshd always runs on the test clock here; stop_meshd and wait_for are
# e2e-lib.sh's.
daemon_start() { start_meshd --clock "$CLOCK"; }
nruns() { sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' AND r.state = '${2:-success}'"; }
runs_are() { [ "$(nruns "$1" "${3:-success}")" = "$2" ]; }

job3() { # job3 NAME CATCHUP [SLEEP_MS] [START] [END]
	endline=""
	[ -n "${5:-}" ] && endline="end = \"$5\";"
	cat >"$T/jobs/$1.conf" <<JOB
name = "$1";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "${4:-2001-01-01}";
$endline
catchup = "$2";
params = { sleep_ms = ${3:-0}; };
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ]; }
);
JOB
}

# --- schedule and catch-up under the test clock
echo "2001-01-03T12:00:00Z" >"$CLOCK"
job3 all all
job3 latest latest
job3 none none
daemon_start
wait_for "catchup all: both ended intervals run" 10 runs_are all 2
wait_for "catchup latest: only the latest runs" 10 runs_are latest 1
eq "$(sql "SELECT partition_key FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'latest'")" "2001-01-02" "catchup latest picked 2001-01-02"
eq "$(nruns none success)$(nruns none queued)" "00" "catchup none: no missed interval runs"
eq "$(sql "SELECT group_concat(DISTINCT \"trigger\") FROM runs")" "schedule" "runs are triggered by the schedule"

"$MESHD" -c "$T/meshd.conf" --clock "$CLOCK" >"$T/second.log" 2>&1
eq "$?" "1" "second meshd exits 1"
has "$T/second.log" "is in use by pid $MPID" "second meshd names the holder"
run_ctl 3 "meshctl run while meshd runs is refused" run all --partition 2001-01-01
has "$T/err" "in use by pid $MPID" "meshctl run names the daemon"

echo "2001-01-04T00:00:01Z" >"$CLOCK"
wait_for "the next interval runs when it ends" 10 runs_are all 3
wait_for "catchup none: new intervals do run" 10 runs_are none 1
eq "$(sql "SELECT partition_key FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'none'")" "2001-01-03" "catchup none ran the interval that just ended"
eq "$(sql "SELECT count(*) FROM runs GROUP BY job_id, partition_key HAVING count(*) > 1")" "" "no (job, partition) has two runs"

# --- SIGHUP: a broken job file refuses only its job, the others keep going
printf 'name = "broken";\ndomain = "test";\nowner = ;\n' >"$T/jobs/broken.conf"
kill -HUP "$MPID"
wait_for "a broken job file refuses only its job" 10 logged "1 broken job refused"
has "$T/meshd.log" "broken.conf:3:" "the refusal names file:line"
hasnt "$T/meshd.log" "reload refused" "the reload itself is not refused"
echo "2001-01-05T00:00:01Z" >"$CLOCK"
wait_for "the other jobs keep running beside a broken one" 10 runs_are all 4
rm -f "$T/jobs/broken.conf"
job3 added all 0 2001-01-04
kill -HUP "$MPID"
wait_for "a good reload adds a job" 10 logged "reloaded: 4 jobs"
wait_for "the added job catches up" 10 runs_are added 1
stop_meshd
eq "$STOPRC" "0" "SIGTERM: meshd exits 0"
has "$T/meshd.log" "stopped" "meshd says it stopped"

# --- SIGTERM with attempts running: stopped, recorded, resumed later
rm -f "$T/jobs/"*.conf
job3 slow all 4000 2001-01-04 2001-01-05
daemon_start
wait_for "a slow attempt starts" 10 logged "job=slow run="
sleep 0.5
stop_meshd
eq "$STOPRC" "0" "SIGTERM with an attempt running: exit 0"
has "$T/meshd.log" "stopping 1 attempt" "grace over: the attempt is stopped"
eq "$(sql "SELECT a.reason FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id WHERE ti.task_id = 'extract' AND ti.run_id = (SELECT max(id) FROM runs)")" "daemon shutting down" "the stopped attempt says why"
eq "$(sql "SELECT state FROM runs WHERE id = (SELECT max(id) FROM runs)")" "running" "the run is left to resume"
job3 slow all 0 2001-01-04 2001-01-05
daemon_start
wait_for "the interrupted run resumes and succeeds" 15 runs_are slow 1
eq "$(sql "SELECT try_number FROM task_instances WHERE task_id = 'extract' AND run_id = (SELECT max(id) FROM runs)")" "2" "resumed as a new attempt"
stop_meshd

# --- jitter: a scheduled run waits up to its job's bound after its
# interval ends (a fixed offset per job)
rm -f "$T/jobs/"*.conf
job3 spread all 0 2001-01-10 2001-01-11
sed -i 's/^catchup = "all";$/catchup = "all"; jitter = 3600;/' "$T/jobs/spread.conf"
echo "2001-01-11T00:00:01Z" >"$CLOCK"
daemon_start
wait_for "the jittered run is created" 10 runs_are spread 1 queued
sleep 1
eq "$(nruns spread queued)" "1" "it does not start before its offset"
echo "2001-01-11T01:00:01Z" >"$CLOCK"
wait_for "it starts once the offset has passed" 10 runs_are spread 1
stop_meshd


# --- pause and unpause, requested while meshd is down and while it is up
rm -f "$T/jobs/"*.conf
job3 pall all 0 2001-02-01
job3 plate latest 0 2001-02-01
echo "2001-02-03T00:00:01Z" >"$CLOCK"
run_ctl 0 "pause while meshd is down" pause pall
run_ctl 0 "pause another" pause plate
daemon_start
wait_for "the pauses are applied" 10 logged "job=plate: paused"
sleep 0.5
eq "$(nruns pall)$(nruns plate)" "00" "a paused job's schedule does not fire"
run_ctl 0 "unpause with meshd up" unpause pall
has "$T/out" "meshd was told" "unpause pokes the daemon"
wait_for "unpause: catchup all runs both missed days" 10 runs_are pall 2
echo "2001-02-06T00:00:01Z" >"$CLOCK"
run_ctl 0 "unpause the latest-only job" unpause plate
wait_for "unpause: catchup latest runs only the latest" 10 runs_are plate 1
eq "$(sql "SELECT partition_key FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'plate'")" "2001-02-05" "it is the latest interval"
eq "$(sql "SELECT group_concat(DISTINCT state) FROM requests WHERE kind IN ('pause', 'unpause')")" "done" "the requests are done"
stop_meshd

# --- kill -9 at random points: every task ends exactly once in success
rm -f "$T/jobs/"*.conf
job3 crash all 15 2001-02-01 2001-05-11   # 99 partitions x 3 tasks
echo "2001-06-01T00:00:00Z" >"$CLOCK"
for i in 1 2 3 4 5 6; do
	daemon_start
	sleep "0.$(awk -v s="$i$$" 'BEGIN { srand(s); printf "%d", 2 + rand() * 7 }')"
	kill -9 "$MPID"
	wait "$MPID" 2>/dev/null
done
sleep 0.5
left=$(pgrep -f -- "-c $T/meshd.conf" | wc -l)
eq "$left" "0" "no worker outlives a killed daemon"
daemon_start
wait_for "after 6 kill -9s every run succeeds" 60 runs_are crash 99
eq "$(sql "SELECT count(*) FROM task_instances WHERE state != 'success'")" "0" "every task instance succeeded"
eq "$(sql "SELECT count(*) FROM (SELECT task_instance_id FROM attempts WHERE state = 'success' GROUP BY 1 HAVING count(*) > 1)")" "0" "no task succeeded twice"
eq "$(sql "SELECT count(*) FROM attempts WHERE state = 'running'")" "0" "nothing is shown running"
eq "$(sql "PRAGMA integrity_check")" "ok" "integrity_check is ok"
eq "$(sql "SELECT count(*) > 0 FROM attempts WHERE reason = 'daemon restarted'")" "1" "in-flight attempts were recorded as 'daemon restarted'"
# Their logs say so too, as every other attempt's log ends with its outcome.
n=0; nt=0
for lp in $(sql "SELECT log_path FROM attempts WHERE reason = 'daemon restarted' AND log_path IS NOT NULL"); do
	n=$((n + 1))
	tail -n 2 "$lp" 2>/dev/null | grep -qF "failed: daemon restarted (meshd stopped while the attempt ran" && nt=$((nt + 1))
done
[ "$n" -gt 0 ] && [ "$nt" -eq "$n" ] && ok "each lost attempt's log ends with why ($nt of $n)" || fail "lost attempts' logs end with why: $nt of $n"
stop_meshd
eq "$STOPRC" "0" "clean stop"

# --- a rerun records its own trigger, and meshd still knows where its
# schedule stopped: days a catch-up skipped stay skipped after a rerun of
# the day it ran and a restart
rm -f "$T/jobs/"*.conf
job3 wm latest 0 2001-03-01
echo "2001-03-05T00:00:01Z" >"$CLOCK"
daemon_start
wait_for "catchup latest: only the latest day runs" 10 runs_are wm 1
stop_meshd
run_ctl 0 "rerun that day by hand" run wm --partition 2001-03-04 --rerun
eq "$(sql "SELECT \"trigger\" FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'wm' AND partition_key = '2001-03-04'")" "manual" "the rerun records its own trigger"
sed -i 's/^catchup = "latest";$/catchup = "all";/' "$T/jobs/wm.conf"
echo "2001-03-06T00:00:01Z" >"$CLOCK"
daemon_start
wait_for "the next day runs after the restart" 10 sh -c "[ \"\$(sqlite3 '$T/state/state.db' \"SELECT state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'wm' AND partition_key = '2001-03-05'\")\" = success ]"
stop_meshd
eq "$(sql "SELECT group_concat(partition_key || ':' || scheduled, ' ') FROM (SELECT partition_key, scheduled FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'wm' ORDER BY partition_key)")" "2001-03-04:1 2001-03-05:1" "the skipped days stay skipped; runs.scheduled survives the rerun"

finish
