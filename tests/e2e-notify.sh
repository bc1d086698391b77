#!/bin/sh
# End-to-end: meshd under systemd, with tests/notify-listen.py standing in
# for systemd's end of the sockets.  READY=1 comes only once meshd answers
# (meshctl status is up by then) and nothing comes before it; STATUS= lines
# say what runs, without flooding; WATCHDOG=1 comes every half of
# WATCHDOG_USEC, also while a shutdown drains, and never when WATCHDOG_PID
# names another process (then an idle meshd does not wake at all);
# RELOADING=1 then READY=1 around a HUP, STOPPING=1 on TERM; an abstract
# '@' socket works.  meshctl status exits 0 up, 3 down, 4 unknown.  When
# stderr is the journal (JOURNAL_STREAM), the lines carry their priority:
# as sd_journal_send() fields (MESHD_JOB=...) with libsystemd, as "<N>"
# prefixes without it or when the journal's socket is absent.
. "$(dirname "$0")/e2e-lib.sh"
PY=/usr/bin/python3
LISTEN="$top_srcdir/tests/notify-listen.py"
[ -x "$PY" ] || { echo "FAIL - $PY is missing"; exit 1; }
conf "shutdown_grace = 2;" "kill_grace = 1;"
cat >"$T/jobs/adhoc.conf" <<'JOB'
name = "adhoc";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
# Its attempt ignores TERM: the shutdown drains it for shutdown_grace,
# then kills it.
cat >"$T/jobs/slow.conf" <<'JOB'
name = "slow";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "h"; plugin = "hang"; stage = "extract"; } );
JOB
listeners=""
trap 'for p in $pids $listeners; do kill "$p" 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

# listen MODE SOCKET OUT: start the listener, wait until it is bound.
listen() {
	"$PY" "$LISTEN" "$1" "$2" "$3" 2>>"$T/listen.err" &
	listeners="$listeners $!"
	i=0
	while [ ! -e "$3.ready" ] && [ "$i" -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ ! -e "$3.ready" ]; then
		fail "the listener on $2 did not start"
		sed 's/^/    | /' "$T/listen.err"
		finish
		exit 1
	fi
}
# start_notified SOCKET WATCHDOG_USEC WATCHDOG_PID|self: meshd as systemd
# starts it.  WATCHDOG_PID must be meshd's own pid: the shell sets it to
# its $$ and execs meshd, which keeps that pid ($MPID).  JOURNAL_STREAM
# names no real stream: the log stays plain.
start_notified() {
	env NOTIFY_SOCKET="$1" WATCHDOG_USEC="$2" WDPID="$3" \
	    JOURNAL_STREAM=0:0 sh -c '
		if [ "$WDPID" = self ]; then WATCHDOG_PID=$$; else WATCHDOG_PID=$WDPID; fi
		export WATCHDOG_PID
		unset WDPID
		exec "$0" "$@"' "$MESHD" -c "$T/meshd.conf" >>"$T/meshd.log" 2>&1 &
	MPID=$!
	pids="$pids $MPID"
}
# got OUT TEXT: the listener received a message with the fixed string.
got() { grep -qF -- "$2" "$1"; }
# count OUT TEXT: how many messages have the fixed string.
count() { grep -cF -- "$2" "$1"; }
# gaps OUT TEXT: "N MIN MAX" of the messages with TEXT: how many, and
# the shortest and longest time between two of them.
gaps() {
	grep -F -- "$2" "$1" | awk '{ if (n > 0) { g = $1 - p;
	    if (n == 1 || g < lo) lo = g; if (g > hi) hi = g }
	    p = $1; n++ } END { printf "%d %.3f %.3f\n", n, lo, hi }'
}
wakeups() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$MPID/status"; }

# ------------------------------------------------ meshctl status when down
run_ctl 3 "status before meshd ever ran (no state): 3, not running" status

# ------------------------------------- an abstract socket, watchdog not ours
N2="$T/n2"
ABS="@meshd-e2e-notify-$$"
listen notify "$ABS" "$N2"
start_notified "$ABS" 1000000 1
wait_for "READY=1 through the abstract socket $ABS" 30 got "$N2" "READY=1"
sleep 2
w0=$(wakeups)
sleep 3
w1=$(wakeups)
eq "$(count "$N2" WATCHDOG=1)" "0" "no WATCHDOG=1 when WATCHDOG_PID is another process"
if [ $((w1 - w0)) -le 1 ]; then
	ok "without the watchdog an idle meshd does not wake ($((w1 - w0)) in 3 s)"
else
	fail "an idle meshd without a watchdog woke $((w1 - w0)) times in 3 s"
fi
stop_meshd
eq "$STOPRC" "0" "meshd stops cleanly"
got "$N2" "STOPPING=1" && ok "STOPPING=1 through the abstract socket" ||
    fail "no STOPPING=1 through $ABS"

# ------------------------------------------------ hostile environments
# A watchdog of 1 us: meshd pings as often as it sensibly can (every
# 10 ms), it does not spin with every wait at 0 ms.
N3="$T/n3"
listen notify "$T/n3.sock" "$N3"
start_notified "$T/n3.sock" 1 self
wait_for "READY=1 with WATCHDOG_USEC=1" 30 got "$N3" "READY=1"
c0=$(count "$N3" WATCHDOG=1)
sleep 1
c1=$(count "$N3" WATCHDOG=1)
if [ $((c1 - c0)) -ge 10 ] && [ $((c1 - c0)) -le 110 ]; then
	ok "WATCHDOG_USEC=1: $((c1 - c0)) pings in 1 s, no spinning"
else
	fail "WATCHDOG_USEC=1: $((c1 - c0)) pings in 1 s (wanted 10 to 110)"
fi
stop_meshd
eq "$STOPRC" "0" "and it stops cleanly"
# A socket that is not there, or not a socket path, and a watchdog
# interval that is not a number: meshd runs as if outside systemd.
for ns in "$T/nowhere/notify.sock" "relative.sock"; do
	start_notified "$ns" "abc" self
	wait_for "meshd runs with NOTIFY_SOCKET=$ns" 30 \
	    sh -c "'$MESHCTL' status | grep -q 'meshd:    up'"
	stop_meshd
	eq "$STOPRC" "0" "and stops cleanly"
done

# ------------------------------------------------ a path socket, watchdog on
N="$T/n1"
listen notify "$T/notify.sock" "$N"
start_notified "$T/notify.sock" 1000000 self
wait_for "READY=1 arrives" 30 got "$N" "READY=1"
# At once: by READY=1, meshd answers.
run_ctl 0 "meshctl status is up by READY=1" status
has "$T/out" "meshd:    up, pid $MPID" "status names the daemon"
has "$T/meshd.log" "started: pid $MPID" "start-up was over before READY=1"
eq "$(head -n 1 "$N" | cut -d' ' -f3-)" \
    "READY=1|STATUS=running 0 attempts, 0 queued, 2 jobs" \
    "the first message is READY=1, with the status line"
eq "$(grep -F 'READY=1' "$N" | head -n 1 | cut -d' ' -f2)" "$MPID" \
    "READY=1 comes from meshd's own pid (systemd's NotifyAccess=main)"
grep -q '^20[0-9][0-9]-' "$T/meshd.log" &&
    ok "a JOURNAL_STREAM that is not stderr leaves the log plain" ||
    fail "JOURNAL_STREAM=0:0 changed the log's lines"

# WATCHDOG=1 every 0.5 s (half of 1 s), from the idle loop.
sleep 3
set -- $(gaps "$N" "WATCHDOG=1")
if [ "$1" -ge 4 ] && [ "$1" -le 9 ]; then
	ok "WATCHDOG=1 $1 times in ~3 s idle (every 0.5 s asked)"
else
	fail "WATCHDOG=1 $1 times in ~3 s idle, wanted about 6"
fi
[ "$1" -ge 2 ] && awk "BEGIN { exit !($2 >= 0.45) }" &&
    ok "pings no closer than half the interval (shortest gap $2 s)" ||
    fail "WATCHDOG=1 floods: two pings $2 s apart"
[ "$1" -ge 2 ] && awk "BEGIN { exit !($3 < 1.0) }" &&
    ok "pings within the interval (longest gap $3 s)" ||
    fail "a WATCHDOG=1 gap of $3 s: systemd would have killed meshd"
run_ctl 0 "status while up: 0" status --json

# STATUS= follows what runs.
run_ctl 0 "trigger the job whose attempt hangs" trigger slow
wait_for "STATUS= says an attempt runs" 15 got "$N" "STATUS=running 1 attempt, 0 queued, 2 jobs"
# While an attempt runs the loop waits in the engine: the pings go on.
p0=$(count "$N" "WATCHDOG=1")
sleep 2
p1=$(count "$N" "WATCHDOG=1")
if [ $((p1 - p0)) -ge 3 ] && [ $((p1 - p0)) -le 5 ]; then
	ok "WATCHDOG=1 every 0.5 s while an attempt runs ($((p1 - p0)) in 2 s)"
else
	fail "WATCHDOG=1 $((p1 - p0)) times in 2 s while an attempt runs"
fi
set -- $(gaps "$N" " STATUS=")
awk "BEGIN { exit !($1 < 2 || $2 >= 0.9) }" &&
    ok "STATUS= lines at most one a second ($1 of them)" ||
    fail "STATUS= lines $2 s apart"
eq "$(grep -cE ' STATUS=.* STATUS=|STATUS=[^|]*\|STATUS=' "$N")" "0" \
    "one STATUS= per message"

# HUP: RELOADING=1, then READY=1 again.
kill -HUP "$MPID"
wait_for "RELOADING=1 on HUP" 10 got "$N" "RELOADING=1"
wait_for "READY=1 again after the reload" 10 sh -c "[ \$(grep -cF READY=1 '$N') -ge 2 ]"
rl=$(grep -nF "RELOADING=1" "$N" | head -n 1 | cut -d: -f1)
r2=$(grep -nF "READY=1" "$N" | sed -n 2p | cut -d: -f1)
[ -n "$rl" ] && [ -n "$r2" ] && [ "$rl" -lt "$r2" ] &&
    ok "RELOADING=1 comes before the second READY=1" ||
    fail "RELOADING=1 (line $rl) and READY=1 (line $r2) out of order"
got "$N" "RELOADING=1|MONOTONIC_USEC=" &&
    ok "RELOADING=1 carries MONOTONIC_USEC (Type=notify-reload)" ||
    fail "RELOADING=1 without MONOTONIC_USEC"
eq "$(count "$N" RELOADING=1)" "1" "one RELOADING=1 for one HUP"

# TERM: STOPPING=1, and the keep-alive goes on while the attempt drains.
kill -TERM "$MPID"
wait_for "STOPPING=1 on TERM" 10 got "$N" "STOPPING=1|STATUS=stopping: 1 attempt to finish"
wait "$MPID"
eq "$?" "0" "meshd stops cleanly"
sleep 0.2
after=$(sed -n '/STOPPING=1/,$p' "$N" | grep -cF "WATCHDOG=1")
if [ "$after" -ge 3 ]; then
	ok "WATCHDOG=1 goes on while the shutdown drains ($after pings)"
else
	fail "WATCHDOG=1 only $after times in a drain of ~3 s"
fi
eq "$(count "$N" STOPPING=1)" "1" "one STOPPING=1"
run_ctl 3 "status with meshd down: 3, not running" status
has "$T/out" "meshd:    down" "and still prints the report"
run_ctl 3 "status --json with meshd down: 3" status --json
eq "$(jq -r .up "$T/out")" "false" "the document says down"

# A state that exists but is not a database: up or down is unknown.
mkdir -p "$T/bad"
echo "state_db = \"$T/bad/state.db\";" >"$T/bad/meshd.conf"
echo "jobs_dir = \"$T/jobs\";" >>"$T/bad/meshd.conf"
echo "this is not sqlite" >"$T/bad/state.db"
MESHD_CONFIG="$T/bad/meshd.conf" run_ctl 4 "status on a state that cannot be read: 4, unknown" status
# A usage error stays 2.
run_ctl 2 "status with a bad option: 2" status --bogus

# ------------------------------------------------ the journal
# stderr is the journal when JOURNAL_STREAM names its device and inode.
# journald's socket is /run/systemd/journal/socket, fixed: a private
# mount namespace (root) gives meshd a /run with the test's socket in it,
# or none (sd_journal_send() then drops lines and says it sent them: meshd
# must see the socket is missing and use stderr).  jstart JOURNAL-SOCKET|"" LOG: meshd so, $MPID.
sdbuild=0
grep -q '^SYSTEMD_LIBS = .*-lsystemd' "$top_builddir/Makefile" && sdbuild=1
isolate=0
[ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null && isolate=1
jstart() {
	: >"$2"
	js=$(stat -c %d:%i "$2")
	if [ "$isolate" -eq 1 ]; then
		env JOURNAL_STREAM="$js" JSOCK="$1" unshare -m sh -c '
			mount -t tmpfs tmpfs /run || exit 1
			mkdir -p /run/systemd/journal
			[ -z "$JSOCK" ] || ln -s "$JSOCK" /run/systemd/journal/socket
			exec "$0" "$@"' "$MESHD" -c "$T/meshd.conf" >>"$2" 2>&1 &
	else
		JOURNAL_STREAM="$js" "$MESHD" -c "$T/meshd.conf" >>"$2" 2>&1 &
	fi
	MPID=$!
	pids="$pids $MPID"
}
adhoc_ok() { [ "$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'adhoc' AND r.state = 'success'")" = "$1" ]; }

if [ "$isolate" -eq 0 ] && [ -e /run/systemd/journal/socket ]; then
	echo "# a journald runs here and no mount namespace can hide it:" \
	    "the journal's lines are not checked"
else
	# No journal socket: "<N>" prefixes, no time stamps.
	jstart "" "$T/j1.log"
	wait_for "meshd on the journal stream starts" 30 grep -qF "started: pid" "$T/j1.log"
	run_ctl 0 "trigger adhoc" trigger adhoc
	wait_for "its run succeeds" 20 adhoc_ok 1
	stop_meshd
	has "$T/j1.log" "<6>INFO meshd " "INFO lines carry <6> (SyslogLevelPrefix)"
	has "$T/j1.log" "<6>INFO job=adhoc run=" "a job's lines too"
	grep -qE '^20[0-9][0-9]-' "$T/j1.log" &&
	    fail "a line on the journal stream has its own time stamp" ||
	    ok "no time stamps (the journal has its own)"
	grep -vE '^<[0-7]>' "$T/j1.log" | grep -qE '^(ERROR|WARN|INFO|DEBUG) ' &&
	    fail "a log line without its <N> prefix" ||
	    ok "every log line has its priority"
fi

if [ "$isolate" -eq 1 ] && [ "$sdbuild" -eq 1 ]; then
	J="$T/journal"
	listen journal "$T/journal.sock" "$J"
	jstart "$T/journal.sock" "$T/j2.log"
	wait_for "meshd sends to the journal" 30 grep -qF '"MESSAGE": "INFO meshd ' "$J"
	run_ctl 0 "trigger adhoc again" trigger adhoc --rerun
	wait_for "its attempt's line arrives" 20 grep -qF '"MESHD_TASK": "a"' "$J"
	kill -HUP "$MPID"
	wait_for "the reload's line arrives" 20 grep -qF '"MESSAGE": "INFO reloaded' "$J"
	stop_meshd
	jq -s -e 'map(select(.MESHD_JOB == "adhoc" and (.MESHD_RUN | test("^[0-9]+$")) and (.MESHD_PARTITION | length > 0) and (.MESHD_PARTITION | endswith(":") | not) and .PRIORITY == "6" and .SYSLOG_IDENTIFIER == "meshd")) | length > 0' "$J" >/dev/null &&
	    ok "a run's line: MESHD_JOB, MESHD_RUN, MESHD_PARTITION fields, PRIORITY 6" ||
	    { fail "no line with the run's fields"; head -n 20 "$J" | sed 's/^/    | /'; }
	jq -s -e 'map(select(.MESHD_TASK == "a" and .MESHD_JOB == "adhoc")) | length > 0' "$J" >/dev/null &&
	    ok "an attempt's line: MESHD_TASK" ||
	    fail "no line with MESHD_TASK=a"
	jq -s -e 'map(select(.MESSAGE | startswith("INFO reloading"))) | length == 1' "$J" >/dev/null &&
	    ok "lines without a job have no MESHD_ fields and go through too" ||
	    fail "the reload's line is missing"
	jq -s -e 'map(select(.MESSAGE | test("^INFO (reloading|meshd|containment)")) | keys | map(select(startswith("MESHD_"))) | length) | add == 0' "$J" >/dev/null &&
	    ok "no MESHD_ field from a line that names no job" ||
	    fail "a MESHD_ field on a line without job="
	grep -qE '^(<[0-7]>)?(ERROR|WARN|INFO|DEBUG) |^20[0-9][0-9]-.* INFO ' "$T/j2.log" &&
	    fail "log lines went to stderr while the journal took them" ||
	    ok "nothing doubled on stderr"
elif [ "$sdbuild" -eq 1 ]; then
	echo "# not root or no unshare: the journal's fields are not checked"
fi

finish
