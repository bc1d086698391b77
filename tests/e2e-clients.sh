#!/bin/sh
# End-to-end: meshctl never waits on a busy state for longer than --timeout
# (a foreign writer holding the WAL write lock, stopped or not), says who
# holds the lock and exits 3 with nothing written; a `meshctl run` that
# fails on the state ends its run as failed instead of leaving it running;
# `meshctl logs` prints a bounded part of a huge log and says what it left
# out.
. "$(dirname "$0")/e2e-lib.sh"
wpid=
trap 'test -n "$wpid" && kill -CONT $wpid 2>/dev/null; test -n "$wpid" && kill $wpid 2>/dev/null; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
conf
cat >"$T/jobs/ref.conf" <<'JOB'
name = "ref";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "extract"; plugin = "ok"; stage = "extract"; } );
JOB
cat >"$T/jobs/two.conf" <<'JOB'
name = "two";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ]; }
);
JOB
cat >"$T/jobs/slow.conf" <<'JOB'
name = "slow";
domain = "test";
owner = "tests@example.org";
params = { sleep_ms = 1000; };
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ]; }
);
JOB

# writer SECONDS: a foreign process that takes the state's write lock
# (BEGIN IMMEDIATE) and holds it for SECONDS; $wpid is its pid, and the
# function returns once the lock is held.
writer() {
	rm -f "$T/locked"
	python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(float(sys.argv[3]))
c.execute("ROLLBACK")
' "$T/state/state.db" "$T/locked" "$1" &
	wpid=$!
	i=0
	while [ ! -e "$T/locked" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
# elapsed START: milliseconds since START (from now_ms)
now_ms() { date +%s%3N; }

run_ctl 0 "a trigger with nobody holding the lock" trigger ref
nreq=$(sql "SELECT count(*) FROM requests")

# --- a foreign writer holds the lock: the trigger gives up in time
writer 30
t0=$(now_ms)
run_ctl 3 "trigger --timeout 2 behind a foreign writer fails" trigger ref --timeout 2
el=$(( $(now_ms) - t0 ))
if [ "$el" -ge 1800 ] && [ "$el" -le 4500 ]; then ok "it gave up after ~2 s ($el ms)"; else fail "it gave up after $el ms, wanted ~2000"; fi
has "$T/err" "state.db: the state is busy: another process has held its write lock for 2." "the message says the state is busy and for how long"
has "$T/err" "(pid $wpid, python3)" "the message names the holder's pid and name"
eq "$(grep -c . "$T/err")" "1" "one line, not the verb's own error as well"

t0=$(now_ms)
run_ctl 3 "--timeout before the verb" --timeout 1 trigger ref
el=$(( $(now_ms) - t0 ))
if [ "$el" -le 3000 ]; then ok "--timeout 1 gave up after $el ms"; else fail "--timeout 1 took $el ms"; fi
t0=$(now_ms)
MESHCTL_TIMEOUT=1; export MESHCTL_TIMEOUT
run_ctl 3 "MESHCTL_TIMEOUT=1" trigger ref
unset MESHCTL_TIMEOUT
el=$(( $(now_ms) - t0 ))
if [ "$el" -le 3000 ]; then ok "MESHCTL_TIMEOUT=1 gave up after $el ms"; else fail "MESHCTL_TIMEOUT=1 took $el ms"; fi
run_ctl 3 "pause behind the writer" --timeout=1 pause ref
has "$T/err" "the state is busy" "pause says so too"
run_ctl 0 "reading is not blocked by a writer (WAL)" runs ref
run_ctl 2 "a bad --timeout" trigger ref --timeout soon
has "$T/err" "--timeout: 'soon' is not a number of seconds from 0 to 86400" "the bad value is quoted"
run_ctl 2 "--timeout without a value" trigger ref --timeout

# --- the same writer, stopped (as a meshd stopped inside a transaction)
kill -STOP $wpid
t0=$(now_ms)
run_ctl 3 "trigger behind a stopped writer fails" trigger ref --timeout 2
el=$(( $(now_ms) - t0 ))
if [ "$el" -le 4500 ]; then ok "it gave up after $el ms"; else fail "it took $el ms"; fi
has "$T/err" "(pid $wpid, python3)" "the stopped holder is named"
kill -CONT $wpid
kill $wpid 2>/dev/null; wait $wpid 2>/dev/null; wpid=
eq "$(sql "SELECT count(*) FROM requests")" "$nreq" "nothing was written by the commands that gave up"
run_ctl 0 "once the writer is gone the trigger works" trigger ref --timeout 2

# --- meshctl run fails on the state: the run is ended, not left running
sqlite3 "$T/state/state.db" "CREATE TRIGGER boom BEFORE UPDATE OF state ON attempts WHEN NEW.state = 'success' BEGIN SELECT RAISE(ABORT, 'injected fault'); END;"
run_ctl 3 "a run whose state write fails" run two
has "$T/err" "injected fault" "the state's error is shown"
has "$T/err" "recorded as failed" "it says the run was ended"
rid=$(sql "SELECT r.id FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'two'")
eq "$(sql "SELECT state FROM runs WHERE id = $rid")" "failed" "the run is failed, not running"
eq "$(sql "SELECT ended_us > 0 FROM runs WHERE id = $rid")" "1" "and it has an end"
eq "$(sql "SELECT group_concat(task_id || ':' || state, ' ') FROM (SELECT * FROM task_instances WHERE run_id = $rid ORDER BY task_id)")" "check:failed extract:failed publish:failed" "every task that had not ended is failed"
has_reason=$(sql "SELECT count(*) FROM task_instances WHERE run_id = $rid AND reason LIKE 'meshctl run failed on the state: %injected fault'")
eq "$has_reason" "3" "with the reason"
eq "$(sql "SELECT count(*) FROM attempts a JOIN task_instances t ON t.id = a.task_instance_id WHERE t.run_id = $rid AND a.state = 'running'")" "0" "no attempt is left running"
eq "$(sql "SELECT count(*) FROM product_partitions WHERE run_id = $rid AND state = 'building'")" "0" "no partition is left building"
sqlite3 "$T/state/state.db" "DROP TRIGGER boom"

# --- meshctl run, the state busy for longer than --timeout mid-run
"$MESHCTL" run slow --timeout 2 >"$T/out" 2>"$T/err" &
rpid=$!
i=0
while ! grep -q "start  extract" "$T/out" && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
writer 3.7	# the result comes at ~1 s, gives up at ~3 s; rollback waits to ~5 s
wait $rpid
rc=$?
eq "$rc" "3" "a run that stays blocked past --timeout exits 3"
has "$T/err" "the state is busy" "it says the state was busy"
has "$T/err" "recorded as failed" "and that the run was ended once the lock was free"
wait $wpid 2>/dev/null; wpid=
eq "$(sql "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slow'")" "failed" "the blocked run is failed, not running"
eq "$(sql "SELECT count(*) FROM attempts WHERE state = 'running'")" "0" "no attempt is left running"
eq "$(sql "PRAGMA integrity_check")" "ok" "the state is intact"

# --- meshctl logs: a 50 MiB log is not dumped whole
run_ctl 0 "a run for a log" run ref
lp=$(sql "SELECT a.log_path FROM attempts a JOIN task_instances t ON t.id = a.task_instance_id JOIN runs r ON r.id = t.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'ref' ORDER BY a.id DESC LIMIT 1")
first=$(head -n 1 "$lp")
# 50 MiB of numbered lines, then a last line to recognise
awk 'BEGIN { for (i = 0; i < 800000; i++) printf "flood line %07d xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", i }' >>"$lp"
echo "the last line" >>"$lp"
size=$(stat -c %s "$lp")
run_ctl 0 "logs of a big log" logs ref current extract
out=$(stat -c %s "$T/out")
if [ "$out" -le 1048576 ] && [ "$out" -gt 1000000 ]; then ok "at most 1 MiB is printed ($out of $size bytes)"; else fail "$out bytes printed of $size"; fi
eq "$(tail -n 1 "$T/out")" "the last line" "the end of the log is shown"
case "$(head -n 1 "$T/out")" in
flood\ line\ *xx) ok "it starts at the start of a line" ;;
*) fail "first line is '$(head -n 1 "$T/out")'" ;;
esac
has "$T/err" "bytes skipped: showing bytes" "stderr says what was skipped"
has "$T/err" "--all shows the whole log" "and how to see it"
run_ctl 0 "logs --tail 3" logs ref current extract --tail 3
eq "$(wc -l <"$T/out")" "3" "--tail 3 prints 3 lines"
eq "$(tail -n 1 "$T/out")" "the last line" "the last ones"
run_ctl 0 "logs --offset 0 --limit-bytes 4096" logs ref current extract --offset 0 --limit-bytes 4096
eq "$(stat -c %s "$T/out")" "4096" "--offset/--limit-bytes print exactly that part"
eq "$(head -n 1 "$T/out")" "$first" "from the first byte"
has "$T/err" "--offset 4096 for the next part" "stderr gives the next offset"
run_ctl 0 "logs --all" logs ref current extract --all
eq "$(stat -c %s "$T/out")" "$size" "--all prints the whole log"
run_ctl 0 "logs --json" logs ref current extract --json
eq "$(jq -r '[.size, .next_offset, .offset > 0, .eof, (.text | length <= 1048576)] | map(tostring) | join(" ")' "$T/out")" "$size $size true true true" "--json: size, offset, next_offset, eof, a bounded log"
run_ctl 0 "logs --follow of an ended attempt" logs ref current extract --follow
out=$(stat -c %s "$T/out")
if [ "$out" -le 1048576 ]; then ok "--follow starts from the same window ($out bytes)"; else fail "--follow printed $out bytes"; fi
run_ctl 2 "--tail with --offset" logs ref current extract --tail 1 --offset 0
# On a terminal (script(1) gives one) the log goes through $PAGER; not
# with --no-pager, and never when stdout is not a terminal (above).
if command -v script >/dev/null 2>&1; then
	PAGER='sed s/^/paged:/' script -q -c "'$MESHCTL' logs ref current extract --tail 2" /dev/null >"$T/tty" 2>&1
	eq "$(grep -c '^paged:' "$T/tty")" "2" "on a terminal the log goes through \$PAGER"
	PAGER='sed s/^/paged:/' script -q -c "'$MESHCTL' logs ref current extract --tail 2 --no-pager" /dev/null >"$T/tty" 2>&1
	eq "$(grep -c '^paged:' "$T/tty")" "0" "--no-pager prints it directly"
	PAGER='head -n 1' script -q -c "'$MESHCTL' logs ref current extract --all; echo rc=\$?" /dev/null >"$T/tty" 2>&1
	has "$T/tty" "rc=0" "a pager that quits early is no error"
else
	fail "script(1) (util-linux) is missing: cannot check the pager"
fi
PAGER='sed s/^/paged:/'; export PAGER
run_ctl 0 "logs into a file with \$PAGER set" logs ref current extract --tail 2
hasnt "$T/out" "paged:" "no pager when stdout is not a terminal"
unset PAGER

finish
