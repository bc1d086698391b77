# e2e-lib.sh -- shared helpers for the end-to-end tests (sourced).
# Each test gets a fresh temporary directory with its own meshd.conf, jobs
# directory and state; the real meshctl is driven and the database, the
# messages and the exit codes are asserted.
set -u
: "${top_builddir:=$(pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
MESHCTL=${MESHCTL:-$top_builddir/meshctl}
TP="$top_builddir/tests/plugins/.libs"
T=$(mktemp -d "${TMPDIR:-/tmp}/meshd-e2e.XXXXXX")
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$T/jobs"
export MESHD_CONFIG="$T/meshd.conf"
passes=0
fails=0

ok() { passes=$((passes + 1)); echo "ok - $*"; }
fail() { fails=$((fails + 1)); echo "FAIL - $*"; }

# conf [extra lines...]: write meshd.conf for the test plugins.
conf() {
	{
		echo "state_db = \"state/state.db\";"
		echo "jobs_dir = \"jobs\";"
		echo "plugin_path = [ \"$TP\" ];"
		echo "log_dir = \"state/logs\";"
		echo "staging_dir = \"state/staging\";"
		echo "workers = 2;"
		for l in "$@"; do echo "$l"; done
	} >"$T/meshd.conf"
}

# run_ctl WANT_RC DESC ARGS...: run meshctl, check its exit code; output is
# kept in $T/out and $T/err.
run_ctl() {
	want=$1; desc=$2; shift 2
	"$MESHCTL" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok "$desc (exit $rc)"
	else
		fail "$desc: exit $rc, wanted $want"
		sed 's/^/    out: /' "$T/out" | tail -n 20
		sed 's/^/    err: /' "$T/err" | tail -n 20
	fi
}

# has FILE TEXT DESC: the file contains the fixed string.
has() {
	if grep -qF -- "$2" "$1"; then
		ok "$3"
	else
		fail "$3: '$2' not in $(basename "$1")"
		sed 's/^/    | /' "$1" | tail -n 20
	fi
}

# hasnt FILE TEXT DESC
hasnt() {
	if grep -qF -- "$2" "$1"; then
		fail "$3: '$2' unexpectedly in $(basename "$1")"
	else
		ok "$3"
	fi
}

# A busy timeout: after a kill -9 the first reader may have to wait for
# WAL recovery, or for a child of meshd that outlives it a moment.
# Every sqlite3 a test runs in this shell gets the same timeout.
sqlite3() { command sqlite3 -cmd ".timeout 10000" "$@"; }
sql() { sqlite3 "$T/state/state.db" "$1"; }

# waitsql DESC WANT SQL: wait up to 20 s for the query to give WANT, then
# check it does (a daemon acts on its own time).
waitsql() {
	i=0
	while [ "$i" -lt 200 ] && [ "$(sql "$3" 2>/dev/null)" != "$2" ]; do
		sleep 0.1; i=$((i + 1))
	done
	eq "$(sql "$3")" "$2" "$1"
}

# eq GOT WANT DESC
eq() {
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		fail "$3: got '$1', wanted '$2'"
	fi
}

finish() {
	echo "$passes passed, $fails failed"
	[ "$fails" -eq 0 ]
}

# The daemon, for tests that drive a real meshd (e2e-outside and newer).
# start_meshd [ARGS...]: start it on $T/meshd.conf, logging to
# $T/meshd.log; $MPID is its pid, $pids every pid started (for the trap).
MESHD=${MESHD:-$top_builddir/meshd}
pids=""
start_meshd() {
	"$MESHD" -c "$T/meshd.conf" "$@" >>"$T/meshd.log" 2>&1 &
	MPID=$!
	pids="$pids $MPID"
}
# stop_meshd: SIGTERM and wait; its exit status is left in $STOPRC.
stop_meshd() {
	kill -TERM "$MPID" 2>/dev/null
	wait "$MPID"
	STOPRC=$?
}
# wait_for DESC SECONDS COMMAND...: poll until the command succeeds.
wait_for() {
	desc=$1; secs=$2; shift 2
	i=0
	while [ "$i" -lt $((secs * 10)) ]; do
		if "$@" >/dev/null 2>&1; then ok "$desc"; return 0; fi
		sleep 0.1
		i=$((i + 1))
	done
	fail "$desc (waited ${secs}s)"
	tail -n 15 "$T/meshd.log" 2>/dev/null | sed 's/^/    log: /'
	return 1
}
# logged TEXT: meshd's log has the fixed string.
logged() { grep -qF -- "$1" "$T/meshd.log"; }
