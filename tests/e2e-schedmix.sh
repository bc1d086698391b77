#!/bin/sh
# End-to-end: jobs whose intervals end at different times, under a test
# clock.  A fire looks only at the jobs that are due (daemon_schedule()
# keeps when each job's next interval ends), so each job must still fire
# at its own times, after a pause and an unpause, and after a reload.
. "$(dirname "$0")/e2e-lib.sh"
conf
CLOCK="$T/clock"
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
job() { # job NAME SCHEDULE START
	cat >"$T/jobs/$1.conf" <<JOB
name = "$1";
domain = "test";
owner = "tests@example.org";
schedule = "$2";
start = "$3";
catchup = "none";
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
}
nruns() { sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' AND r.state = 'success'"; }
runs_are() { [ "$(nruns "$1")" = "$2" ]; }
counts() { echo "$(nruns q) $(nruns h) $(nruns d)"; }
at() { echo "$1" >"$CLOCK"; }

job q "*/15 * * * *" 2001-01-01T00:00
job h "@hourly" 2001-01-01T00
job d "@daily" 2001-01-01
at 2001-01-01T00:30:00Z
start_meshd --clock "$CLOCK"
wait_for "meshd starts" 10 test -s "$T/state/state.db.health"
sleep 0.5
eq "$(counts)" "0 0 0" "catchup none: nothing at start"
at 2001-01-01T00:45:01Z
wait_for "the quarter-hourly job fires alone" 10 runs_are q 1
eq "$(counts)" "1 0 0" "only it"
at 2001-01-01T01:00:01Z
wait_for "then with the hourly one" 10 runs_are h 1
wait_for "the quarter-hourly job fires again" 10 runs_are q 2
at 2001-01-01T01:15:01Z
wait_for "the quarter-hourly job goes on" 10 runs_are q 3
eq "$(nruns h)$(nruns d)" "10" "the others wait for theirs"
run_ctl 0 "pause q" pause q
wait_for "the pause is carried out" 10 logged "job=q: paused"
at 2001-01-01T01:30:01Z
sleep 1
eq "$(nruns q)" "3" "a paused job does not fire"
run_ctl 0 "unpause q" unpause q
wait_for "the unpause is carried out" 10 logged "job=q: unpaused"
at 2001-01-01T01:45:01Z
wait_for "an unpaused job fires again" 10 runs_are q 4
at 2001-01-02T00:00:01Z
wait_for "the daily job fires at midnight" 10 runs_are d 1
wait_for "the hourly job has every hour since" 20 runs_are h 24
wait_for "the quarter-hourly job every quarter since" 20 runs_are q 93
# A reload: positions are new; every job is looked at again.
job w "*/30 * * * *" 2001-01-02T00:00
kill -HUP "$MPID"
wait_for "the reload adds a job" 10 logged "reloaded: 4 jobs"
at 2001-01-02T00:30:01Z
wait_for "the added job fires" 10 runs_are w 1
wait_for "and the old ones still do" 10 runs_are q 95
eq "$(sql "SELECT count(*) FROM runs GROUP BY job_id, partition_key HAVING count(*) > 1")" "" "no (job, partition) has two runs"
stop_meshd
eq "$STOPRC" "0" "meshd stops cleanly"
finish
