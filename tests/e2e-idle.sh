#!/bin/sh
# End-to-end: an idle meshd sleeps until its next fire, with no periodic
# wake-up (issue 14), and still sees at once everything that used to be
# caught by a 5 s poll: a request poked through the wake-up FIFO, one
# announced with SIGUSR1 (no FIFO), a dead HTTP child and a dead alert
# deliverer (SIGCHLD, then their restart deadline).
. "$(dirname "$0")/e2e-lib.sh"
PY=/usr/bin/python3
command -v curl >/dev/null || { echo "FAIL - curl is missing"; exit 1; }
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
conf "http = { listen = \"127.0.0.1:$PORT\"; };"
# Nothing due for decades.
cat >"$T/jobs/far.conf" <<'JOB'
name = "far";
domain = "test";
owner = "tests@example.org";
schedule = "0 0 1 1 *";
start = "2100-01-01";
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
cat >"$T/jobs/adhoc.conf" <<'JOB'
name = "adhoc";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

# child ARG: the pid of meshd's child started with ARG ("--http", ...).
child() {
	for c in $(cat "/proc/$MPID/task/$MPID/children" 2>/dev/null); do
		if tr '\0' '\n' <"/proc/$c/cmdline" 2>/dev/null | grep -qx -- "$1"; then
			echo "$c"
			return 0
		fi
	done
	return 1
}
wakeups() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$MPID/status"; }
serves() { curl -sf -o /dev/null "$URL/api/v1/status"; }
runs_ok() { [ "$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'adhoc' AND r.state = 'success'")" = "$1" ]; }
reqs_done() { [ "$(sql "SELECT count(*) FROM requests WHERE state = 'done'")" = "$1" ]; }
attempts() { [ "$(sql "SELECT count(*) FROM attempts WHERE state = 'success'")" = "$1" ]; }
not_pid() { p=$(child "$1") && [ "$p" != "$2" ]; }

start_meshd
wait_for "meshd starts and its HTTP child serves" 30 serves
wait_for "the alert deliverer runs" 10 child --alert-deliverer

# --- idle: no wake-up at all over 11 s (the old loop woke every 5 s);
# the health file is written within a second of the last change, so the
# count starts after that.
sleep 2
w0=$(wakeups)
sleep 11
w1=$(wakeups)
if [ $((w1 - w0)) -le 1 ]; then
	ok "an idle meshd does not wake ($((w1 - w0)) wake-ups in 11 s)"
else
	fail "an idle meshd woke $((w1 - w0)) times in 11 s (nothing was due)"
fi
run_ctl 0 "status answers while meshd sleeps" status

# --- a request through the FIFO (meshctl's way, and the HTTP child's)
run_ctl 0 "trigger while meshd sleeps" trigger adhoc
has "$T/out" "request" "meshctl says it recorded the request"
wait_for "the poked request is carried out without any poll" 30 runs_ok 1

# --- no FIFO: meshctl falls back to SIGUSR1
rm -f "$T/state/state.db.wake"
run_ctl 0 "trigger again with no wake-up FIFO" trigger adhoc --rerun
wait_for "a request announced by SIGUSR1 is carried out" 30 reqs_done 2
wait_for "the rerun ran: a second attempt" 30 attempts 2

# --- a dead HTTP child: SIGCHLD wakes meshd, which starts it again after
# its backoff (a deadline of the sleep, not a poll)
sleep 2
h=$(child --http)
kill -9 "$h"
wait_for "the killed HTTP child is started again" 30 not_pid --http "$h"
wait_for "and serves" 30 serves
logged "http: the HTTP child (pid $h) was killed by signal 9" && ok "meshd says the HTTP child died" || fail "no log line for the dead HTTP child"

# --- a dead alert deliverer (started again at most every 5 s)
a=$(child --alert-deliverer)
kill -9 "$a"
wait_for "the killed alert deliverer is started again" 30 not_pid --alert-deliverer "$a"

stop_meshd
eq "$STOPRC" "0" "meshd stops cleanly"
finish
