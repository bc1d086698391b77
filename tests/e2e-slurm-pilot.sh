#!/bin/sh
# End-to-end: the Slurm executor in pilot mode (issue 13, item 4), through
# the real meshd and meshctl, against a real single-node Slurm started and
# stopped here.  A test that cannot start it fails; it never skips.
#
# What it attacks:
#   - a 300-partition backfill streams through at most `pilots` pilot jobs
#     (sbatch counted through a shim), each task run exactly once (the
#     plugin appends to a file on every run);
#   - a pilot killed with -9 fails only the attempt it was running, with
#     the reason; the other pilot's work succeeds;
#   - kill -9 of meshd in the middle of a backfill: the pilots finish what
#     they run, reconnect to the next meshd's agent, and their attempts are
#     adopted; nothing runs twice;
#   - a pilot with a wrong secret is refused and logged;
#   - a secret file others can read is refused.
. "$(dirname "$0")/e2e-lib.sh"
. "$(dirname "$0")/e2e-slurm-lib.sh"
PY=/usr/bin/python3
slurm_up 8
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"
chmod 600 "$T/secret"
conf "kill_grace = 2;" \
    "executors = { burst = { type = \"slurm\"; mode = \"pilot\"; pilots = 2;" \
    "  pilot_slots = 2; pilot_idle = 300; pilot_time = 600;" \
    "  listen = \"127.0.0.1:$PORT\"; secret_file = \"$T/secret\";" \
    "  poll_interval_ms = 300; worker = \"$top_builddir/meshd-worker\"; }; };"
cat >"$T/jobs/bf.conf" <<JOB
name = "bf";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "2001-01-01";
catchup = "none";
max_active_runs = 1000;
params = { count_file = "$T/runs"; sleep_ms = 20; };
tasks = ( { id = "a"; plugin = "pilotcount"; stage = "extract";
    executor = "burst"; } );
JOB
sed "s/name = \"bf\"/name = \"bf2\"/; s/sleep_ms = 20;/sleep_ms = 1500;/; s|$T/runs|$T/runs2|" \
    "$T/jobs/bf.conf" >"$T/jobs/bf2.conf"
cat >"$T/jobs/long.conf" <<JOB
name = "long";
domain = "test";
owner = "tests@example.org";
params = { count_file = "$T/long-runs"; sleep_ms = 600000; };
tasks = ( { id = "a"; plugin = "pilotcount"; stage = "extract";
    executor = "burst"; } );
JOB
done_parts() { sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'bf' AND r.state = 'success'"; }

# --- an open secret file stops nothing but the executor: refused loudly
chmod 644 "$T/secret"
start_meshd
"$MESHCTL" trigger long >/dev/null 2>&1
wait_for "a secret file others can read fails the executor's attempts, saying so" 30 failed_with long "chmod 600"
logged "lets group or others at it" && ok "and meshd's log says why" || fail "the log does not say why"
stop_meshd
chmod 600 "$T/secret"

# --- a backfill streams through two pilots
start_meshd
run_ctl 0 "a 300-partition backfill on the pilot executor" backfill bf --from 2001-01-01 --to 2001-10-27
i=0
while [ $i -lt 1200 ] && [ "$(done_parts)" -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
eq "$(done_parts)" "300" "every partition succeeded on the pilots"
n=$(grep -c -- '--job-name=meshd-pilot' "$T/sbatch.log")
[ "$n" -ge 1 ] && [ "$n" -le 2 ] && ok "$n pilot jobs ran 300 tasks (pilots = 2)" ||
    fail "$n pilot jobs for 300 tasks (pilots = 2)"
eq "$(sort "$T/runs" | uniq -d | wc -l | tr -d ' ')" "0" "no task ran twice"
eq "$(wc -l <"$T/runs" | tr -d ' ')" "300" "each task ran once"
run_ctl 0 "status counts the pilots" status
has "$T/out" "executor: burst (slurm, pilot mode)" "the executor line"
has "$T/out" "pilots" "with its pilots"

# --- a wrong secret is refused and logged
echo "not the secret" >"$T/wrong"
chmod 600 "$T/wrong"
"$top_builddir/meshd-worker" --pilot --connect "127.0.0.1:$PORT" --secret-file "$T/wrong" --slots 1 >"$T/rogue.out" 2>&1 &
rogue=$!
pids="$pids $rogue"
wait_for "a pilot with a wrong secret is refused and logged" 20 grep -q "refused: wrong secret" "$T/meshd.log"
i=0; while [ $i -lt 300 ] && kill -0 "$rogue" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -0 "$rogue" 2>/dev/null && fail "the rogue pilot is still running" || ok "the rogue pilot gave up"

# --- kill -9 of a pilot fails only its attempt
"$MESHCTL" trigger long >/dev/null 2>&1
wait_for "the long task runs on a pilot" 60 sh -c "test -s '$T/long-runs'"
long_pilot() { sql "SELECT ext_id FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'long' AND a.state = 'running'"; }
wait_for "meshd knows which pilot runs it" 20 sh -c "test -n \"\$(sqlite3 '$T/state/state.db' \"SELECT ext_id FROM attempts WHERE state = 'running' AND ext_id IS NOT NULL\")\""
jid=$(long_pilot)
# That pilot's own process (its Slurm job id in its environment), not one
# of the workers it forked.
pp=
for p in $(pgrep -f -- "--pilot --connect 127.0.0.1:$PORT"); do
	parent=$(ps -o comm= -p "$(ps -o ppid= -p "$p" | tr -d ' ')" 2>/dev/null)
	[ "$parent" = meshd-worker ] && continue
	tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "SLURM_JOB_ID=$jid" && pp=$p
done
[ -n "$pp" ] && ok "pilot $jid runs it (pid $pp)" || fail "no process of pilot '$jid'"
kill -9 "$pp" 2>/dev/null
wait_for "a killed pilot fails only its attempt, with the reason" 40 failed_with long "pilot"
has_reason=$(state_of long)
echo "$has_reason" | grep -q "lost\|ended\|died\|answering" && ok "the reason says what happened ($has_reason)" ||
    fail "the reason does not say the pilot died: $has_reason"

# --- kill -9 of meshd in the middle of a backfill: the pilots' tasks are adopted
done2() { sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'bf2' AND r.state = 'success'"; }
run_ctl 0 "a backfill of slower tasks" backfill bf2 --from 2002-01-01 --to 2002-01-20
wait_for "pilots run its tasks" 60 sh -c "test \$(wc -l <'$T/runs2') -ge 2"
kill -9 "$MPID"
wait "$MPID" 2>/dev/null
# The first reader after a kill -9 may have to wait for the WAL's
# recovery (or for the lineage deliverer, which outlives meshd a moment).
sql() { sqlite3 -cmd ".timeout 10000" "$T/state/state.db" "$1"; }
inflight=$(sql "SELECT count(*) FROM attempts WHERE state = 'running' AND executor = 'burst'")
[ "$inflight" -gt 0 ] && ok "kill -9 with $inflight attempts on pilots ($(done2) partitions done)" ||
    fail "nothing in flight on the pilots ($(done2) partitions done)"
start_meshd
i=0
while [ $i -lt 1200 ] && [ "$(done2)" -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
eq "$(done2)" "20" "all 20 partitions succeeded across the restart"
eq "$(sort "$T/runs2" | uniq -d | wc -l | tr -d ' ')" "0" "no task ran twice across the restart"
eq "$(wc -l <"$T/runs2" | tr -d ' ')" "20" "each task ran once across the restart"
eq "$(sql "SELECT count(*) FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'bf2' AND a.try_number > 1")" "0" "no partition needed a second attempt"
stop_meshd
eq "$STOPRC" "0" "meshd stops cleanly"
finish
