#!/bin/sh
# End-to-end: meshctl's read verbs against a running meshd: logs --follow
# on a task that is writing its log (and across a retry), runs --since in
# both forms, bad --state and --since, --json of runs/tasks/jobs/status,
# --limit notes, and times in the job's zone against -u.
. "$(dirname "$0")/e2e-lib.sh"
MESHD=${MESHD:-$top_builddir/meshd}
conf
job() { # job NAME PARAMS [EXTRA]
	cat >"$T/jobs/$1.conf" <<JOB
name = "$1";
domain = "test";
owner = "tests@example.org";
params = { $2 };
${3:-}
tasks = ( { id = "extract"; plugin = "slowlog"; stage = "extract"; } );
JOB
}
job slow 'lines = 8; interval_ms = 250;'
job bad 'lines = 3; interval_ms = 100; fail = true;'
job flaky 'lines = 3; interval_ms = 150; fail_times = 1;'
sed -i 's/stage = "extract"; }/stage = "extract"; retries = 1; retry_delay = 1; }/' "$T/jobs/flaky.conf"
job berlin 'lines = 1; interval_ms = 0;' 'schedule = "@daily"; timezone = "Europe/Berlin"; start = "2001-01-01"; catchup = "none";'
job ny 'lines = 1; interval_ms = 0;' 'schedule = "@daily"; timezone = "America/New_York"; start = "2001-01-01"; catchup = "none";'

# follow JOB [ARGS...]: meshctl logs JOB current extract --follow, in the
# background; its pid in $fpid, output in $T/f.out and $T/f.err.
follow() {
	j=$1; shift
	"$MESHCTL" logs "$j" current extract --follow "$@" >"$T/f.out" \
	    2>"$T/f.err" &
	fpid=$!
}
# wait_follow DESC WANT: the follower exits with WANT within 20 s.
wait_follow() {
	i=0
	while [ "$i" -lt 200 ] && kill -0 "$fpid" 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done
	if kill -0 "$fpid" 2>/dev/null; then
		fail "$1: still following after 20 s"
		kill "$fpid"
	fi
	wait "$fpid"
	eq "$?" "$2" "$1"
}
ti_state() { sql "SELECT ti.state FROM task_instances ti JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1'"; }

# --- bad input, before there is any daemon
run_ctl 2 "runs --state bad" runs slow --state bogus
has "$T/err" "unknown run state 'bogus' (queued, running, success, failed, cancelled)" "bad state lists the states"
for w in 2h30 yesterday 2026-02-30 2026-11-01T25:00 2026-11-01T10 "2026-11-01 10:00 CET" -2h 2h30mx 999999999w; do
	run_ctl 2 "runs --since '$w' is refused" runs slow --since "$w"
done
has "$T/err" "--since: '999999999w' is neither a duration" "a bad --since says what it takes"
run_ctl 2 "catalog --state bad" catalog test.slowlog --state bogus
has "$T/err" "unknown partition state 'bogus'" "bad partition state named"

# --- follow a task queued while meshd is down: it waits for the attempt
run_ctl 0 "trigger slow with meshd down" trigger slow
follow slow
sleep 0.5
kill -0 "$fpid" 2>/dev/null && ok "follow waits for a queued task" || fail "follow did not wait"
has "$T/f.err" "waiting for meshd to create the run (a request for slow is pending; meshd is not running)" "it says what it waits for"

"$MESHD" -c "$T/meshd.conf" >"$T/meshd.log" 2>&1 &
pid=$!
run_ctl 2 "runs of an unknown job" runs nosuch --since 2h
has "$T/err" "unknown job 'nosuch'" "unknown job named"
# While the attempt runs, the follower has printed part of the log and is
# still going: it follows, it did not wait for the end.
i=0
while [ "$i" -lt 100 ] && ! grep -q "line 2 of 8" "$T/f.out"; do
	sleep 0.1; i=$((i + 1))
done
has "$T/f.out" "slowlog attempt 1 line 2 of 8" "follow prints the log as it grows"
eq "$(ti_state slow)" "running" "the task is still running then"
kill -0 "$fpid" 2>/dev/null && ok "follow is still following" || fail "follow exited early"
hasnt "$T/f.out" "line 8 of 8" "the rest is not written yet"
wait_follow "follow exits 0 when the attempt succeeds" 0
has "$T/f.out" "slowlog attempt 1 line 8 of 8" "follow printed the whole log"
has "$T/f.out" "slowlog done" "including the last line, written just before the end"
has "$T/f.err" "== attempt 1 == started " "a header names the attempt"
run_ctl 0 "logs without --follow" logs slow current extract
cmp -s "$T/out" "$T/f.out" && ok "followed output is the log, byte for byte" || fail "followed output differs from the log"

# --- a failing attempt: follow exits 1
run_ctl 0 "trigger bad" trigger bad
follow bad
wait_follow "follow exits 1 when the attempt fails" 1
has "$T/f.out" "slowlog attempt 1 line 3 of 3" "the failed attempt's log was followed"
has "$T/f.err" "== attempt 1 failed ==" "the end is said"

# --- a retry: follow moves on to the new attempt
run_ctl 0 "trigger flaky" trigger flaky
follow flaky
wait_follow "follow across a retry exits 0 when the task succeeds" 0
has "$T/f.out" "slowlog attempt 1 line 3 of 3" "attempt 1 followed"
has "$T/f.out" "slowlog attempt 2 line 3 of 3" "attempt 2 followed"
has "$T/f.err" "== attempt 2 ==" "a separator for the new attempt"
follow flaky --attempt 1
wait_follow "follow --attempt 1 (asked to retry) exits 1" 1
hasnt "$T/f.out" "attempt 2" "follow --attempt 1 stays on attempt 1"
follow flaky --attempt 2
wait_follow "follow --attempt 2 exits 0" 0
follow flaky --attempt 3
wait_follow "follow of an attempt the done task never had" 2
has "$T/f.err" "has no attempt 3" "says so"

# --- interrupted: exits at once, by the signal
run_ctl 0 "trigger slow again" trigger slow --rerun
follow slow
waitsql "the new attempt runs" "2" "SELECT max(a.try_number) FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slow'"
sleep 0.3
kill -INT "$fpid"
i=0
while [ "$i" -lt 10 ] && kill -0 "$fpid" 2>/dev/null; do
	sleep 0.1; i=$((i + 1))
done
kill -0 "$fpid" 2>/dev/null && fail "SIGINT did not stop follow within 1 s" || ok "SIGINT stops follow at once"
wait "$fpid"
eq "$?" "130" "follow dies of SIGINT, as a shell expects"
waitsql "the interrupted follow left the run alone" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slow'"

# --- runs --since: durations and dates, in the job's zone
run_ctl 0 "runs --since 1h" runs slow --since 1h
has "$T/out" "current" "a run created a moment ago is since 1h"
run_ctl 0 "runs --since 0s" runs slow --since 0s
has "$T/out" "(no runs)" "but not since now"
run_ctl 0 "runs --since 2001-01-01" runs slow --since 2001-01-01
has "$T/out" "current" "since a past date"
run_ctl 0 "runs --since a future date" runs slow --since 2099-01-01
has "$T/out" "(no runs)" "none since a future date"
run_ctl 0 "trigger berlin 2001-01-05" trigger berlin --partition 2001-01-05
run_ctl 0 "trigger berlin 2001-01-06" trigger berlin --partition 2001-01-06
run_ctl 0 "trigger ny 2001-01-05" trigger ny --partition 2001-01-05
waitsql "the berlin runs end" "success success" "SELECT group_concat(r.state, ' ') FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'berlin'"
waitsql "the ny run ends" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'ny'"
# Half an hour ago on New York's wall clock: New York is 4 or 5 hours
# behind UTC, so read as UTC (with -u, or Z) it is hours before now, and
# read in the zone it is 30 minutes ago; the run is newer than both.  A
# Berlin wall time half an hour ago, read as UTC, is after now instead.
nyago=$(TZ=America/New_York date -d '-30 min' +%Y-%m-%dT%H:%M)
beago=$(TZ=Europe/Berlin date -d '-30 min' +%Y-%m-%dT%H:%M)
beahead=$(TZ=Europe/Berlin date -d '+30 min' +%Y-%m-%dT%H:%M)
run_ctl 0 "runs berlin --since (Berlin time 30 min ago)" runs berlin --since "$beago"
has "$T/out" "2001-01-05" "the zone's wall clock: the run is newer"
run_ctl 0 "runs berlin --since (Berlin time in 30 min)" runs berlin --since "$beahead"
has "$T/out" "(no runs)" "a Berlin time still to come: no runs"
run_ctl 0 "-u runs berlin --since (same, read as UTC)" -u runs berlin --since "$beago"
has "$T/out" "(no runs)" "with -u the same wall time is UTC, after now"
run_ctl 0 "runs berlin --since (same, with Z)" runs berlin --since "${beago}Z"
has "$T/out" "(no runs)" "a trailing Z means UTC"
run_ctl 0 "-u runs ny --since (NY time 30 min ago, as UTC)" -u runs ny --since "$nyago"
has "$T/out" "2001-01-05" "read as UTC it is hours ago"
run_ctl 0 "runs ny --since ${nyago}:00" runs ny --since "${nyago}:00"
has "$T/out" "2001-01-05" "seconds are taken too"

# --- --limit: a note when there is more
run_ctl 0 "runs --limit 1" runs berlin --limit 1
has "$T/out" "2001-01-06" "newest partition first"
hasnt "$T/out" "2001-01-05" "only one run"
has "$T/out" "(more runs: meshctl runs ... --cursor " "says there is more, and where the next page starts"
cur=$(sed -n 's/.*--cursor \([0-9a-f.]*\))$/\1/p' "$T/out")
run_ctl 0 "runs --limit 1 --cursor C" runs berlin --limit 1 --cursor "$cur"
has "$T/out" "2001-01-05" "the next page has the next partition"
hasnt "$T/out" "2001-01-06" "and not the first page's"
run_ctl 2 "a forged cursor" runs berlin --cursor "zz"
has "$T/err" "not a cursor" "is refused as a usage error"
run_ctl 0 "runs --limit 2" runs berlin --limit 2
hasnt "$T/out" "more runs" "no note when nothing is cut"
run_ctl 0 "runs --json --limit 2" runs berlin --json --limit 2
eq "$(jq -r '.next_cursor' "$T/out")" "null" "the last page has no cursor"
run_ctl 0 "runs --json --limit 1" runs berlin --json --limit 1
eq "$(jq -r '.runs | length' "$T/out")" "1" "runs --json --limit 1 parses, one run"
eq "$(jq -r '.next_cursor | type' "$T/out")" "string" "with the cursor of the next page"
has "$T/err" "more runs" "the note goes to stderr with --json"

# --- times in the job's zone, and in UTC with -u
zone_re='20[0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] CES*T'
utc_re='20[0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] UTC'
rx() { # rx FILE REGEX DESC
	if grep -q -- "$2" "$1"; then ok "$3"; else fail "$3: /$2/ not in $(basename "$1")"; sed 's/^/    | /' "$1"; fi
}
nrx() {
	if grep -q -- "$2" "$1"; then fail "$3: /$2/ in $(basename "$1")"; else ok "$3"; fi
}
run_ctl 0 "runs berlin" runs berlin
rx "$T/out" "$zone_re" "runs shows Berlin time"
cp "$T/out" "$T/local.out"
run_ctl 0 "-u runs berlin" -u runs berlin
rx "$T/out" "$utc_re" "runs -u shows UTC"
nrx "$T/out" "CES*T" "and no Berlin time"
cmp -s "$T/out" "$T/local.out" && fail "-u changed nothing" || ok "-u changes the times shown"
run_ctl 0 "tasks berlin" tasks berlin 2001-01-05
rx "$T/out" "$zone_re" "tasks shows Berlin time"
run_ctl 0 "-u tasks berlin" -u tasks berlin 2001-01-05
rx "$T/out" "$utc_re" "tasks -u shows UTC"
run_ctl 0 "logs berlin" logs berlin 2001-01-05 extract
rx "$T/err" "== attempt 1 == started $zone_re" "the logs header is in Berlin time"
run_ctl 0 "-u logs berlin" -u logs berlin 2001-01-05 extract
rx "$T/err" "== attempt 1 == started $utc_re" "and in UTC with -u"
run_ctl 0 "jobs" jobs
rx "$T/out" "^berlin .*$zone_re" "jobs: berlin's next fire in Berlin time"
rx "$T/out" "^ny .*EST\|^ny .*EDT" "jobs: ny's next fire in New York time"
run_ctl 0 "-u jobs" -u jobs
rx "$T/out" "^berlin .*$utc_re" "jobs -u: in UTC"

# --- --json parses, with UTC instants and local strings
run_ctl 0 "runs --json" runs berlin --json
eq "$(jq -r '[.runs[].partition] | join(" ")' "$T/out")" "2001-01-06 2001-01-05" "runs --json: newest partition first"
jq -e '.runs[0].created_us > 0 and (.runs[0].created_local | test("CES?T$"))' "$T/out" >/dev/null && ok "runs --json: UTC instant and local string" || fail "runs --json fields"
run_ctl 0 "tasks --json" tasks berlin 2001-01-05 --json
eq "$(jq -r '.tasks[0].task + " " + .tasks[0].state' "$T/out")" "extract success" "tasks --json parses"
run_ctl 0 "jobs --json" jobs --json
eq "$(jq -r '.[] | select(.job == "berlin") | "\(.timezone) \(.paused) \(.next_fire_utc | test("Z$")) \(.next_fire_local | test("CES?T$"))"' "$T/out")" "Europe/Berlin false true true" "jobs --json parses: zone, paused, UTC and local fire"
run_ctl 0 "status --json" status --json
eq "$(jq -r '"\(.up) \(.pid) \(.running | length)"' "$T/out")" "true $pid 0" "status --json parses"

# --- status while an attempt runs: it is listed, in its job's zone
run_ctl 0 "trigger slow once more" trigger slow --rerun
waitsql "a slow attempt runs" "running" "SELECT a.state FROM attempts a WHERE a.try_number = 3"
run_ctl 0 "status --json while running" status --json
eq "$(jq -r '.running[0].job + " " + .running[0].task + " " + (.running[0].attempt | tostring)' "$T/out")" "slow extract 3" "status lists the running attempt"
run_ctl 0 "status" status
rx "$T/out" "^slow .*$utc_re" "status: a job without a zone shows UTC"
follow slow
wait_follow "follow joins an attempt already running and exits 0" 0
has "$T/f.out" "slowlog attempt 3 line 8 of 8" "its whole log"

kill -TERM "$pid"; wait "$pid"
eq "$?" "0" "meshd stops cleanly"
finish
