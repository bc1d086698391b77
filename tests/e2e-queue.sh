#!/bin/sh
# End-to-end: meshd's run queue (core/meshd-queue.c).  Runs start in the
# order they were queued; a job at its max_active_runs holds back only its
# own runs, not those queued after them for other jobs; a queued run that
# is cancelled leaves the queue (so it may be triggered again, and goes to
# the back); a run queued twice is refused; hundreds of queued runs all
# run, in order; a kill -9 with runs queued loses none of them.
. "$(dirname "$0")/e2e-lib.sh"
conf
cat >"$T/jobs/q.conf" <<'JOB'
name = "q";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "2001-01-01";
end = "2002-01-01";
catchup = "none";
max_active_runs = 1;
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
cat >"$T/jobs/other.conf" <<'JOB'
name = "other";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
N=240
day() { date -u -d "2001-01-01 + $1 days" +%Y-%m-%d; }

# --- queued while meshd is down: one batch of requests, in this order.
# A permutation of 0..N-1 (7 is prime to 240), so that the queue order is
# not the partitions' order.
: >"$T/want"
i=0
while [ "$i" -lt "$N" ]; do
	k=$(day $(( (i * 7) % N )))
	"$MESHCTL" trigger q --partition "$k" >/dev/null 2>&1 ||
	    fail "trigger q $k"
	echo "$k" >>"$T/want"
	i=$((i + 1))
	# Another job's run queued behind the first few of q's.
	[ "$i" -eq 5 ] && run_ctl 0 "trigger other behind q's runs" trigger other
done
first=$(sed -n 1p "$T/want")
third=$(sed -n 3p "$T/want")
# The third is cancelled while queued, then triggered again: it must
# have left the queue (not "already queued") and goes to the back.
run_ctl 0 "cancel a queued run" cancel q "$third"
run_ctl 0 "trigger it again" trigger q --partition "$third"
# The first, queued twice: the second request is refused by meshd.
run_ctl 0 "trigger a queued partition again" trigger q --partition "$first"
grep -vx -- "$third" "$T/want" >"$T/want2"
echo "$third" >>"$T/want2"

start_meshd
waitsql "every request is carried out" "0" "SELECT count(*) FROM requests WHERE state = 'pending'"
eq "$(sql "SELECT result FROM requests WHERE kind = 'cancel'")" "q $third: cancelled before it started" "the cancel took the run out of the queue"
eq "$(sql "SELECT state || ' ' || result FROM requests ORDER BY id DESC LIMIT 1")" "done q $first is already running or queued" "a partition queued twice is refused"
eq "$(sql "SELECT state || ' ' || (result LIKE 'run % run again') FROM requests ORDER BY id DESC LIMIT 1 OFFSET 1")" "done 1" "the cancelled partition could be triggered again"
i=0
while [ "$i" -lt 600 ] && [ "$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'q' AND r.state = 'success'")" != "$N" ]; do
	sleep 0.1; i=$((i + 1))
done
eq "$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'q' AND r.state = 'success'")" "$N" "all $N queued runs of q succeeded"
sql "SELECT r.partition_key FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'q' ORDER BY r.started_us, r.id" >"$T/got"
if cmp -s "$T/got" "$T/want2"; then
	ok "q's runs started in the order they were queued (the re-triggered one last)"
else
	fail "q's runs started out of queue order"
	diff "$T/want2" "$T/got" | head -n 10 | sed 's/^/    /'
fi
before=$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'q' AND r.started_us < (SELECT r2.started_us FROM runs r2 JOIN jobs j2 ON j2.id = r2.job_id WHERE j2.name = 'other')")
if [ "$before" -le 5 ]; then
	ok "other's run was not held behind q's ($before of q's started before it)"
else
	fail "other's run waited behind $before of q's runs: q at its max_active_runs held back another job"
fi
eq "$(sql "SELECT count(*) FROM runs WHERE state NOT IN ('success')")" "0" "no run failed or was left behind"
stop_meshd

# --- kill -9 with runs queued: none is lost, each runs once.
: >"$T/want3"
i=0
while [ "$i" -lt 40 ]; do
	k=$(day $((N + i)))
	"$MESHCTL" trigger q --partition "$k" >/dev/null 2>&1 ||
	    fail "trigger q $k"
	echo "$k" >>"$T/want3"
	i=$((i + 1))
done
start_meshd
wait_for "meshd took the requests" 20 sh -c "[ \"\$(sqlite3 '$T/state/state.db' \"SELECT count(*) FROM requests WHERE state = 'pending'\")\" = 0 ]"
kill -KILL "$MPID"
wait "$MPID" 2>/dev/null
start_meshd
waitsql "after kill -9, every queued run ran" "$((N + 40))" "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'q' AND r.state = 'success'"
eq "$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'q'")" "$((N + 40))" "one run per partition, none twice"
stop_meshd
eq "$STOPRC" "0" "meshd stops cleanly"
finish
