#!/bin/sh
# End-to-end: hostile plugins under a real meshd.  One small plugin per
# behaviour (tests/plugins/hostile_*.c); for each, the attempt gets its
# precise reason, no process it started outlives the attempt (its children
# write pidfiles, checked once the attempt has ended), meshd keeps running
# another job's runs meanwhile, and the state database stays sound.
. "$(dirname "$0")/e2e-lib.sh"
MESHD=${MESHD:-$top_builddir/meshd}
conf "kill_grace = 1;" "heartbeat_timeout = 2;" "log_max_bytes = \"1M\";" \
    "task_max_bytes = \"1536K\";"
MPID=
trap '[ -n "$MPID" ] && kill -9 $MPID 2>/dev/null; for f in "$T"/pids/*/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$T/pids"

# job NAME PLUGIN [TASK-EXTRA] [JOB-EXTRA]: a one-task extract job whose
# plugin writes its pidfiles into $T/pids/NAME.
job() {
	mkdir -p "$T/pids/$1"
	cat >"$T/jobs/$1.conf" <<JOB
name = "$1";
domain = "test";
owner = "tests@example.org";
params = { piddir = "$T/pids/$1"; ${4:-} };
tasks = ( { id = "extract"; plugin = "$2"; stage = "extract"; ${3:-} } );
JOB
}
cat >"$T/jobs/healthy.conf" <<'JOB'
name = "healthy";
domain = "test";
owner = "tests@example.org";
params = { sleep_ms = 200; };
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ]; }
);
JOB
job setsid hostile_setsid
job fork hostile_fork
job forkcrash hostile_fork "" "crash = true;"
job flood hostile_flood
job closefds hostile_closefds
job segvloop hostile_segvloop "timeout = 1;"
job forge hostile_forge "" "mode = \"garbage\";"
job forgeresult hostile_forge "" "mode = \"result\";"
mkdir -p "$T/pids/sigterm"
cat >"$T/jobs/sigterm.conf" <<JOB
name = "sigterm";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "extract"; plugin = "hostile_sigterm"; stage = "extract"; },
  { id = "check"; plugin = "hostile_sigterm"; stage = "check";
    after = [ "extract" ]; timeout = 1; params = { hang = true; }; }
);
JOB

"$MESHD" -c "$T/meshd.conf" >"$T/meshd.log" 2>&1 &
MPID=$!

# last JOB COLUMN: of the job's latest attempt.
last() { sql "SELECT a.$2 FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' ORDER BY a.id DESC LIMIT 1"; }
runstate() { sql "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1'"; }
# done JOB: wait (60 s at most) for the job's run to end.
wait_done() {
	i=0
	while [ "$i" -lt 600 ]; do
		case "$(runstate "$1" 2>/dev/null)" in
		success|failed) return 0 ;;
		esac
		sleep 0.1; i=$((i + 1))
	done
	fail "$1: the run did not end"
	tail -n 15 "$T/meshd.log" | sed 's/^/    log: /'
}
# running PID: true if the process exists and is not a zombie.
running() {
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)
	[ "$st" != "Z" ] && [ "$st" != "X" ]
}
# none_left JOB WANT: WANT pidfiles were written, and none of their
# processes runs (a kill under way gets a second).
none_left() {
	n=0; left=0
	for f in "$T/pids/$1"/*.pid; do
		[ -f "$f" ] || continue
		n=$((n + 1))
	done
	eq "$n" "$2" "$1: $2 processes were started"
	i=0
	while [ "$i" -lt 10 ]; do
		left=0
		for f in "$T/pids/$1"/*.pid; do
			[ -f "$f" ] || continue
			running "$(cat "$f")" && left=$((left + 1))
		done
		[ "$left" -eq 0 ] && break
		sleep 0.1; i=$((i + 1))
	done
	eq "$left" "0" "$1: no process outlives the attempt"
}
# hostile JOB STATE REASON: trigger it (a healthy run alongside), wait, and
# check the outcome and the reason.
hostile() {
	run_ctl 0 "trigger $1" trigger "$1"
	run_ctl 0 "trigger healthy alongside $1" trigger healthy --rerun
	wait_done "$1"
	eq "$(runstate "$1")" "$2" "$1: run $2"
	eq "$(last "$1" reason)" "$3" "$1: the reason"
}
healthy_ok() {
	# The rerun's request first: until meshd takes it, the run still
	# shows the previous run's success.
	i=0
	while [ "$i" -lt 600 ] && [ "$(sql "SELECT count(*) FROM requests WHERE job = 'healthy' AND state = 'pending'")" != 0 ]; do
		sleep 0.1; i=$((i + 1))
	done
	wait_done healthy
	eq "$(runstate healthy)" "success" "healthy runs on beside $1"
}

hostile setsid success ""
none_left setsid 1
healthy_ok setsid

hostile fork success ""
none_left fork 4
has "$T/pids/fork/fds.txt" " 0 -> " "fork: a program the plugin ran listed its descriptors"
hasnt "$T/pids/fork/fds.txt" "socket:" "fork: a program the plugin ran holds no socket"
healthy_ok fork

hostile forkcrash failed "killed by signal 11 (SIGSEGV)"
none_left forkcrash 4
healthy_ok forkcrash

hostile flood success ""
log=$(last flood log_path)
size=$(stat -c %s "$log")
[ "$size" -gt 1048576 ] && [ "$size" -lt 1048776 ] && ok "flood: 2 GiB written, a log of $size bytes" || fail "flood: the log is $size bytes"
has "$log" "[meshd] log_max_bytes (1048576) reached: 2146435072 bytes of output dropped" "flood: one marker line with the count"
eq "$(grep -c '^\[meshd\] log_max_bytes' "$log")" "1" "flood: a single marker"
healthy_ok flood

hostile closefds failed "worker closed its connection"
healthy_ok closefds

hostile sigterm failed "timed out after 1s"
eq "$(last sigterm message)" "cancelled" "sigterm: SIGTERM reached the next task (it was not left blocked)"
eq "$(sql "SELECT passed FROM check_results WHERE name = 'signals_reset'")" "1" "sigterm: no handler or mask carried over"
healthy_ok sigterm

hostile segvloop failed "timed out after 1s"
healthy_ok segvloop

hostile forge failed "worker sent a malformed message"
healthy_ok forge
hostile forgeresult failed "worker sent a malformed message"
healthy_ok forgeresult

# --- oversized parameters.  The job files come last and by a reload:
# libconfig reads a string of MiBs slowly, and every meshctl reads them all.
# (A string parameter is at most 1 MiB: two make a task over the limit.)
big=$(head -c 1000000 /dev/zero | tr '\0' 'p')
job bigparam paramecho "" "extra = \"$big\";"
job hugeparam paramecho "" "extra = \"$big\"; label = \"$big\";"
unset big
kill -HUP "$MPID"
i=0
while [ "$i" -lt 300 ] && ! grep -q "INFO  reloaded: " "$T/meshd.log"; do
	sleep 0.1; i=$((i + 1))
done
has "$T/meshd.log" "INFO  reloaded: " "the big jobs are loaded"
hostile bigparam success ""
eq "$(sql "SELECT m.value FROM metrics m JOIN attempts a ON a.id = m.attempt_id JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'bigparam' AND m.name = 'has_extra'")" "1" "bigparam: a 1 MiB parameter reaches the plugin"
healthy_ok bigparam

run_ctl 0 "trigger hugeparam" trigger hugeparam
wait_done hugeparam
eq "$(runstate hugeparam)" "failed" "hugeparam: run failed"
case "$(last hugeparam reason)" in
"task message is "*" bytes, over task_max_bytes (1572864)") ok "hugeparam: the reason names the size and the limit" ;;
*) fail "hugeparam: reason '$(last hugeparam reason)'" ;;
esac

# --- meshd stopped for longer than heartbeat_timeout: a finished attempt
# is read, not judged silent.
run_ctl 0 "trigger healthy before a stop" trigger healthy --rerun
sleep 0.1
kill -STOP "$MPID"
sleep 5
kill -CONT "$MPID"
wait_done healthy
eq "$(runstate healthy)" "success" "a stall of meshd fails no attempt"
eq "$(sql "SELECT count(*) FROM attempts WHERE reason LIKE 'worker stopped answering%'")" "0" "nothing was judged silent"

kill -0 "$MPID" 2>/dev/null && ok "meshd still runs" || fail "meshd exited"
kill -TERM "$MPID"
wait "$MPID"
eq "$?" "0" "meshd stops cleanly"
MPID=
for j in setsid fork forkcrash; do
	for f in "$T/pids/$j"/*.pid; do
		running "$(cat "$f")" && fail "$j: $(cat "$f") outlived meshd"
	done
done
eq "$(sql 'PRAGMA integrity_check')" "ok" "integrity_check"
finish
