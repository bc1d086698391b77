#!/bin/sh
# End-to-end: staging retention.  A succeeded run's staging is kept while
# staging_retention = 0 and removed staging_retention seconds after the run
# ended; a failed run's goes after quarantine_retention; a run queued or
# running again keeps its staging whatever its age; and meshctl clear
# refuses to rerun a task without the upstream tasks whose output went
# with the staging, and says what to run instead.
. "$(dirname "$0")/e2e-lib.sh"
MESHD=${MESHD:-$top_builddir/meshd}
pids=""
MPID=""
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
S="$T/state/staging"

start_meshd() {
	"$MESHD" -c "$T/meshd.conf" >>"$T/meshd.log" 2>&1 &
	MPID=$!
	pids="$pids $MPID"
}
stop_meshd() { kill -TERM "$MPID" 2>/dev/null; wait "$MPID"; }
runstate() { sql "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' AND r.partition_key = '$2'"; }
# gone DIR: wait up to 10 s for the directory to go; true if it went.
gone() {
	i=0; while [ $i -lt 100 ] && [ -d "$1" ]; do sleep 0.1; i=$((i + 1)); done
	[ ! -d "$1" ]
}

cat >"$T/jobs/wap.conf" <<JOB
name = "wap"; domain = "test"; owner = "tests@example.org";
params = { sleep_ms = 0; };
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ];
    params = { fail_if = "$T/fail-{partition}"; }; }
);
JOB

# --- the key is read and checked like quarantine_retention
conf 'staging_retention = -1;'
run_ctl 1 "a negative staging_retention is refused" validate
has "$T/err" "meshd.conf:7: error: 'staging_retention' must be at least 0, not -1" "it says so, with file:line"

# --- staging_retention = 0 keeps a succeeded run's staging; so does
# quarantine_retention = 0 a failed one's
conf "shutdown_grace = 1;" "staging_retention = 0;" "quarantine_retention = 0;"
touch "$T/fail-f1"
start_meshd
for p in p1 p2 p3 f1; do
	run_ctl 0 "trigger wap $p" trigger wap --partition $p
done
waitsql "p1 succeeded" "success" "SELECT state FROM runs WHERE partition_key = 'p1'"
waitsql "p2 succeeded" "success" "SELECT state FROM runs WHERE partition_key = 'p2'"
waitsql "p3 succeeded" "success" "SELECT state FROM runs WHERE partition_key = 'p3'"
waitsql "f1 failed" "failed" "SELECT state FROM runs WHERE partition_key = 'f1'"
test -f "$S/wap/p1/ok.txt" && ok "a succeeded run's staging is there" || fail "a succeeded run's staging is there"
test -d "$S/wap/p1.attempts/extract.1" && ok "and its attempts' directories, beside it" || fail "and its attempts' directories, beside it"
test -d "$S/wap/f1" && ok "a failed run's staging is there" || fail "a failed run's staging is there"
sleep 3
test -f "$S/wap/p1/ok.txt" && ok "staging_retention = 0 keeps it" || fail "staging_retention = 0 keeps it"
test -d "$S/wap/f1" && ok "quarantine_retention = 0 keeps a failed run's" || fail "quarantine_retention = 0 keeps a failed run's"
hasnt "$T/meshd.log" "run removed" "nothing is removed"
stop_meshd

# --- a run queued and then running again keeps its staging, however old
# the run it replaces: p3 is triggered again (slowly) while meshd is down,
# so that meshd finds it queued before its first retention pass.  The
# marker stands for what an earlier attempt left there.
touch "$S/wap/p3/marker"
run_ctl 0 "trigger p3 again, slow, while meshd is down" trigger wap --partition p3 --param sleep_ms=4000 --rerun
conf "shutdown_grace = 1;" "staging_retention = 1;" "quarantine_retention = 0;"
start_meshd

# --- staging_retention = 1: a succeeded run's staging goes a second after
# the run ended, and the removal is logged
gone "$S/wap/p1" && ok "p1's staging is removed after staging_retention" || fail "p1's staging is removed after staging_retention"
gone "$S/wap/p2" && ok "p2's staging is removed after staging_retention" || fail "p2's staging is removed after staging_retention"
gone "$S/wap/p1.attempts" && ok "and its attempts' directories beside it" || fail "and its attempts' directories beside it"
has "$T/meshd.log" "job=wap partition=p1: staging $S/wap/p1 of the succeeded run removed 1s after it ended (staging_retention)" "the removal is logged with job= and partition="
test -d "$S/wap" && ok "the job's staging directory itself stays" || fail "the job's staging directory itself stays"
test -d "$S/wap/f1" && ok "a failed run's staging is not under staging_retention" || fail "a failed run's staging is not under staging_retention"
waitsql "p3 runs again" "running" "SELECT state FROM runs WHERE partition_key = 'p3'"
test -f "$S/wap/p3/marker" && ok "a run queued or running again keeps its staging" || fail "a run queued or running again keeps its staging"
test -d "$S/wap/p3.attempts/extract.1" && ok "and its earlier attempts' directories" || fail "and its earlier attempts' directories"
hasnt "$T/meshd.log" "partition=p3: staging" "nothing of p3 was removed while it was queued or running"
waitsql "p3 succeeded again" "success" "SELECT state FROM runs WHERE partition_key = 'p3'"
gone "$S/wap/p3" && ok "once it has ended, its staging goes too" || fail "once it has ended, its staging goes too"
eq "$(grep -c 'partition=p1: staging' "$T/meshd.log")" "1" "a staging is removed (and logged) once"
stop_meshd

# --- quarantine_retention applies to a failed run's staging (f1 failed
# in publish, after its checks passed: it is not quarantined)
conf "shutdown_grace = 1;" "staging_retention = 0;" "quarantine_retention = 1;"
start_meshd
gone "$S/wap/f1" && ok "a failed run's staging is removed after quarantine_retention" || fail "a failed run's staging is removed after quarantine_retention"
gone "$S/wap/f1.attempts" && ok "its attempts' directories too" || fail "its attempts' directories too"
has "$T/meshd.log" "job=wap partition=f1: staging $S/wap/f1 of the failed run removed 1s after it ended (quarantine_retention)" "that is logged too"
stop_meshd

# --- clear once the staging is gone (meshd is down: requests wait)
creq="SELECT count(*) FROM requests WHERE kind = 'clear'"
run_ctl 2 "clear --task check of p1 without its staging is refused" clear wap --partition p1 --task check
has "$T/err" "job wap partition p1: its staging $S/wap/p1 is gone (removed after its retention), and task check would run again without the output of task extract, which would not" "it says why"
has "$T/err" "clear the whole run (without --task), or from a root task with --task ROOT --downstream (roots: extract)" "and what to do instead"
run_ctl 2 "clear --task check --downstream is refused too" clear wap --partition p1 --task check --downstream
run_ctl 2 "a range with --task publish is refused" clear wap --from p1 --to p3 --task publish
has "$T/err" "task publish would run again without the output of task check" "it names the nearest kept task"
has "$T/err" "3 partitions are in that case: p1, p2, p3" "and every partition in that case"
run_ctl 2 "--failed-only on a failed run without staging is refused" clear wap --partition f1 --failed-only
has "$T/err" "task publish would run again without the output of task check" "publish would miss check's output"
has "$T/err" "(without --task and --failed-only)" "it says to leave out --failed-only"
eq "$(sql "$creq")" "0" "nothing refused was recorded"
run_ctl 0 "clear from the root task with --downstream" clear wap --partition p1 --task extract --downstream
run_ctl 0 "clear the whole run" clear wap --partition p2
run_ctl 0 "clear the whole failed run" clear wap --partition f1
mkdir -p "$S/wap/p3"
run_ctl 0 "clear --task check where the staging is there" clear wap --partition p3 --task check
eq "$(sql "$creq")" "4" "those are recorded"

# --- the cleared runs run from their root and succeed
rm -f "$T/fail-f1"
conf "shutdown_grace = 1;" "staging_retention = 0;" "quarantine_retention = 0;"
start_meshd
waitsql "the clears are carried out" "4" "SELECT count(*) FROM requests WHERE kind = 'clear' AND state = 'done'"
for p in p1 p2 p3 f1; do
	waitsql "cleared $p succeeds" "success" "SELECT state FROM runs WHERE partition_key = '$p'"
done
eq "$(sql "SELECT group_concat(x, ' ') FROM (SELECT ti.task_id || '=' || ti.try_number AS x FROM task_instances ti JOIN runs r ON r.id = ti.run_id WHERE r.partition_key = 'p1' ORDER BY ti.id)")" \
    "extract=2 check=2 publish=2" "p1 ran every task again, from extract"
test -f "$S/wap/p1/ok.txt" && ok "p1 has its staging again" || fail "p1 has its staging again"
stop_meshd
eq "$(runstate wap p1)" "success" "p1 is still a success after the stop"

finish
