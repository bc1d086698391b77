#!/bin/sh
# End-to-end: pilot mode of the Slurm executor (issue 13, item 4), without
# Slurm.  tests/pilot-drive runs a real pilot pool and forks real pilots
# (pilot_client_main, what `meshd-worker --pilot` runs) that run a real
# plugin, tests/plugins/pilotcount.so, which counts its runs in a file.
# Each scenario is one run of the driver in its own directory; the
# driver's own checks say FAIL and exit 1; here we check its exit code
# and what the pool logged.  The head of tests/pilot-drive.c says what
# each scenario attacks.
. "$(dirname "$0")/e2e-lib.sh"
DRIVE="$top_builddir/tests/pilot-drive"
PLUGIN="$TP/pilotcount.so"

[ -x "$DRIVE" ] || { fail "no $DRIVE (make check builds it)"; finish; exit 1; }
[ -f "$PLUGIN" ] || { fail "no $PLUGIN (make check builds it)"; finish; exit 1; }

# scenario NAME DESC: run the driver, its stderr in $T/NAME.log.
scenario() {
	mkdir -p "$T/$1"
	if timeout 90 "$DRIVE" "$PLUGIN" "$T/$1" "$1" >"$T/$1.out" \
	    2>"$T/$1.log"; then
		ok "$2: $(tail -n 1 "$T/$1.out")"
	else
		fail "$2 (exit $?)"
		sed 's/^/    out: /' "$T/$1.out" | tail -n 5
		grep -v ' INFO ' "$T/$1.log" | sed 's/^/    log: /' | tail -n 25
	fi
}

scenario run "200 tasks through 2 pilots, each run once, idle pilots released"
has "$T/run.log" "idle for 1s: released" "the pool logged the release"

scenario badsecret "a pilot with the wrong secret is refused"
# "pilot from 127.0.0.1:5544 refused: wrong secret"
if grep -Eq 'pilot from 127\.0\.0\.1:[0-9]+ refused: wrong secret' \
    "$T/badsecret.log"; then
	ok "the refusal is logged with the peer's address"
else
	fail "no 'pilot from 127.0.0.1:PORT refused: wrong secret' in the log"
	sed 's/^/    log: /' "$T/badsecret.log" | tail -n 20
fi
has "$T/badsecret.log" "wrong secret?" "the refused pilot says why it gives up"
has "$T/badsecret.log" "mode 0644 lets group or others at it" \
    "a pilot refuses an open secret file"

scenario kill9 "kill -9 of a pilot fails only its attempt"
scenario restart "a pool restart: its pilot's tasks are adopted, none run twice"
has "$T/restart.log" "1 running, 1 finished while away" \
    "the pilot named both attempts in its HELLO"
scenario sigstop "a pilot silent for 10s fails only its attempt, and comes back"
scenario sigterm "SIGTERM to a pilot ends its task with the reason"
scenario bench "pilot throughput"
grep 'tasks/s' "$T/bench.out" || true
finish
