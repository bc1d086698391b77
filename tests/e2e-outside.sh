#!/bin/sh
# End-to-end: faults from outside any plugin never stop meshd (issue 10).
#   - another process holds the state's write lock for longer than any
#     busy timeout: meshd waits, names the holder, loses nothing;
#   - the disk of the state, logs and staging fills up mid-backfill: meshd
#     pauses launching, holds its results, says why in the log and in
#     `meshctl status`, and resumes by itself once space is freed;
#   - free space below min_free_space pauses launching before the disk is
#     full, and launching resumes when there is room again;
#   - meshd stopped (SIGSTOP) for 30 s, longer than heartbeat_timeout:
#     attempts that finished meanwhile are recorded as they ended, not as
#     "worker stopped answering".
# Each ends with every partition published once and PRAGMA integrity_check
# ok.  The disk tests mount a small tmpfs, so they need root (CI is root);
# without it they fail rather than skip.
. "$(dirname "$0")/e2e-lib.sh"
MNT=""
cleanup() {
	for p in $pids; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	[ -n "$MNT" ] && { umount "$MNT/ro" 2>/dev/null; umount "$MNT" 2>/dev/null; }
	[ -n "${E2E_KEEP:-}" ] && { echo "kept $T"; return; }
	chmod -R u+w "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

alive() { kill -0 "$MPID" 2>/dev/null; }
DB() { echo "$T/state/state.db"; }
nsuccess() { sqlite3 "$(DB)" "SELECT count(*) FROM runs WHERE state = 'success'"; }
runs_done() { [ "$(nsuccess)" = "$1" ]; }
why_failed() { sqlite3 "$(DB)" "SELECT 'attempt ' || a.state || ': ' || coalesce(a.reason, '') FROM attempts a WHERE a.state <> 'success' LIMIT 5" | sed 's/^/    # /'; }
integrity() { why_failed; eq "$(sqlite3 "$(DB)" 'PRAGMA integrity_check')" "ok" "$1: PRAGMA integrity_check is ok"; }
status_has() { "$MESHCTL" status >"$T/status" 2>&1 && grep -qF -- "$1" "$T/status"; }

job() { # job NAME SLEEP_MS
	cat >"$T/jobs/$1.conf" <<JOB
name = "$1";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "2001-01-01";
catchup = "none";
params = { sleep_ms = $2; };
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; retries = 5; retry_delay = 1; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; retries = 5; retry_delay = 1; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ]; retries = 5; retry_delay = 1; }
);
JOB
}

# ------------------------------------------------------------ a foreign lock
conf "shutdown_grace = 2;" "kill_grace = 1;" "heartbeat_timeout = 3;"
job lockjob 300
start_meshd
wait_for "meshd is up" 10 test -S "$(DB).wake" -o -p "$(DB).wake"
run_ctl 0 "a backfill of 20 partitions is queued" backfill lockjob --from 2001-01-01 --to 2001-01-20 --max-active-runs 2
wait_for "some partitions are published" 20 sh -c "[ \$(sqlite3 '$(DB)' \"SELECT count(*) FROM runs WHERE state = 'success'\") -ge 2 ]"
# Hold the write lock for 9 s: longer than SQLite's usual 5 s busy timeout
# and than heartbeat_timeout, while attempts are running.
python3 - "$(DB)" "$T/locked" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(9)
c.execute("ROLLBACK")
PY
HOLDER=$!
wait_for "the foreign writer holds the lock" 10 test -e "$T/locked"
wait_for "meshd names the holder of the lock in an ERROR" 12 logged "held by another process for 5s (pid $HOLDER, python3)"
wait_for "meshctl status shows the lock" 5 status_has "lock"
if alive; then ok "meshd is still running while the lock is held"; else fail "meshd exited while the lock was held"; fi
wait "$HOLDER"
wait_for "every partition is published after the lock is released" 60 runs_done 20
eq "$(sqlite3 "$(DB)" "SELECT count(*) FROM attempts WHERE state = 'failed'")" "0" "no attempt failed because of the lock"
wait_for "meshd says the lock is free again" 5 logged "write lock is free again"
wait_for "meshctl status is healthy again" 5 status_has "health:   ok"
integrity "foreign lock"
stop_meshd
eq "$STOPRC" "0" "meshd stops cleanly"

# --------------------------------------------------------- a disk that fills
if [ "$(id -u)" -ne 0 ]; then
	fail "the disk tests mount a tmpfs and need root"
	finish
	exit 1
fi
rm -rf "$T/state" "$T/meshd.log"
MNT="$T/state"
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=12m tmpfs "$MNT"; then
	fail "cannot mount a tmpfs for the disk tests"
	MNT=""
	finish
	exit 1
fi
conf "shutdown_grace = 2;" "kill_grace = 1;" "min_free_space = 0;"
rm -f "$T/jobs/"*.conf
job fill 30
start_meshd
wait_for "meshd is up on the small file system" 10 test -p "$(DB).wake"
run_ctl 0 "a backfill of 150 partitions is queued" backfill fill --from 2001-01-01 --to 2001-05-30 --max-active-runs 3
wait_for "the backfill is under way" 30 sh -c "[ \$(sqlite3 '$(DB)' \"SELECT count(*) FROM runs WHERE state = 'success'\") -ge 5 ]"
# Fill the file system to the last block, as a runaway plugin would.
dd if=/dev/zero of="$MNT/fill" bs=64k 2>/dev/null
dd if=/dev/zero of="$MNT/fill2" bs=4k 2>/dev/null
wait_for "meshd logs that the state cannot be written" 30 logged "database or disk is full"
sleep 2
if alive; then ok "meshd is still running on a full disk"; else fail "meshd exited on a full disk"; tail -n 20 "$T/meshd.log"; fi
wait_for "meshctl status says launching is paused and why" 10 status_has "launching paused"
has "$T/status" "disk is full" "meshctl status names the full disk"
before=$(sqlite3 "$(DB)" "SELECT count(*) FROM runs WHERE state = 'success'")
sleep 3
if alive; then ok "meshd is still running after 3 s more"; else fail "meshd exited on a full disk"; fi
rm -f "$MNT/fill" "$MNT/fill2"
wait_for "meshd resumes by itself once space is freed" 30 logged "the state is written again"
wait_for "every partition is published in the end" 120 runs_done 150
eq "$(sqlite3 "$(DB)" "SELECT count(*) FROM runs WHERE state <> 'success'")" "0" "no run failed or is left behind"
eq "$(sqlite3 "$(DB)" "SELECT count(*) FROM attempts WHERE state = 'running'")" "0" "no attempt is left running"
eq "$(sqlite3 "$(DB)" "SELECT count(*) FROM product_partitions WHERE state = 'published'") $(sqlite3 "$(DB)" "SELECT count(*) FROM task_instances WHERE task_id = 'publish' AND state = 'success'")" "150 150" "every publish succeeded once per partition"
[ "$before" -lt 150 ] && ok "the disk filled before the backfill ended ($before of 150)" || fail "the disk filled too late to test anything ($before)"
integrity "full disk"
stop_meshd
eq "$STOPRC" "0" "meshd stops cleanly after a full disk"

# ------------------------------------------------------------ headroom
rm -f "$(DB)"* "$T/meshd.log"
rm -rf "$MNT/logs" "$MNT/staging"
conf "shutdown_grace = 2;" "kill_grace = 1;" "min_free_space = \"6M\";"
dd if=/dev/zero of="$MNT/fill" bs=1M count=8 2>/dev/null
start_meshd
wait_for "meshd pauses launching below min_free_space" 10 logged "below min_free_space"
run_ctl 0 "a backfill is queued while paused" backfill fill --from 2001-01-01 --to 2001-01-05
sleep 2
eq "$(sqlite3 "$(DB)" "SELECT count(*) FROM attempts")" "0" "nothing is launched while free space is below min_free_space"
wait_for "meshctl status shows the headroom" 5 status_has "min_free_space"
rm -f "$MNT/fill"
wait_for "launching resumes once there is room" 10 logged "launching again"
wait_for "the backfill then runs" 30 runs_done 5
integrity "headroom"
stop_meshd

# ------------------------------------- a log directory meshd cannot write
# A read-only file system (root may write anywhere else): every attempt
# would fail at full speed.  The attempts fail with the path, cost their
# task no try, and launching backs off until the directory works again.
rm -f "$(DB)"* "$T/meshd.log"
rm -rf "$MNT/logs" "$MNT/staging"
mkdir -p "$MNT/ro"
conf "shutdown_grace = 2;" "kill_grace = 1;" "min_free_space = 0;"
sed -i 's|^log_dir = .*|log_dir = "state/ro/logs";|' "$T/meshd.conf"
mount -t tmpfs -o ro,size=1m tmpfs "$MNT/ro" || fail "cannot mount a read-only tmpfs"
start_meshd
wait_for "meshd is up" 10 test -p "$(DB).wake"
run_ctl 0 "a backfill of 50 partitions is queued" backfill fill --from 2001-01-01 --to 2001-02-19 --max-active-runs 4
wait_for "an attempt fails naming the log directory" 10 sh -c "sqlite3 '$(DB)' \"SELECT reason FROM attempts\" | grep -q 'state/ro/logs'"
sleep 6
n=$(sqlite3 "$(DB)" "SELECT count(*) FROM attempts WHERE state = 'failed'")
[ "$n" -le 6 ] && ok "launching backs off: $n failed attempts in 6 s, not hundreds" || fail "launching did not back off: $n failed attempts in 6 s"
eq "$(sqlite3 "$(DB)" "SELECT count(*) FROM runs WHERE state = 'failed'")" "0" "no run fails because meshd cannot write its log directory"
wait_for "meshctl status shows the infrastructure fault" 5 status_has "infrastructure"
has "$T/meshd.log" "does not count against its retries" "meshd logs the fault at ERROR"
mount -o remount,rw "$MNT/ro"
wait_for "the backfill runs once the directory works again" 90 runs_done 50
eq "$(sqlite3 "$(DB)" "SELECT count(*) FROM runs WHERE state <> 'success'")" "0" "every run succeeded, whatever the failed attempts"
integrity "unwritable log directory"
stop_meshd
umount "$MNT/ro"
umount "$MNT" && MNT=""

# ------------------------------------------------ meshd stopped for 30 s
rm -rf "$T/state" "$T/meshd.log"
mkdir -p "$T/state"
conf "shutdown_grace = 2;" "kill_grace = 1;" "heartbeat_timeout = 5;"
rm -f "$T/jobs/"*.conf
job stopjob 2000
start_meshd
wait_for "meshd is up" 10 test -p "$(DB).wake"
run_ctl 0 "a backfill of 4 partitions is queued" backfill stopjob --from 2001-01-01 --to 2001-01-04 --max-active-runs 2
wait_for "two attempts are running" 20 sh -c "[ \$(sqlite3 '$(DB)' \"SELECT count(*) FROM attempts WHERE state = 'running'\") -ge 2 ]"
kill -STOP "$MPID"
sleep 30
kill -CONT "$MPID"
wait_for "every partition is published after the stall" 60 runs_done 4
eq "$(sqlite3 "$(DB)" "SELECT count(*) FROM attempts WHERE reason LIKE '%stopped answering%'")" "0" "no attempt that finished during the stall is judged silent"
eq "$(sqlite3 "$(DB)" "SELECT count(*) FROM attempts WHERE state <> 'success'")" "0" "every attempt succeeded once"
integrity "stall"
stop_meshd
finish
