#!/bin/sh
# End-to-end: the Slurm executor (issue 13) against a real single-node
# Slurm on loopback, started here (tests/slurm-local.sh) and stopped here.
# A test that cannot start it fails; it never skips.
#
# What it attacks:
#   - the demo domains with executor = "hpc" publish the same partitions,
#     rows and states as on the local pool;
#   - a 1,000-partition backfill goes through job arrays: sbatch is
#     counted through a shim first in PATH, at most one call per launch
#     batch, never one per partition;
#   - kill -9 of meshd in the middle of that backfill: the next start
#     adopts the Slurm jobs by name, and Slurm's own record (jobcomp) shows
#     every attempt's job ran exactly once;
#   - an outside scancel fails the attempt "cancelled outside meshd";
#   - a job over its --time fails with TIMEOUT;
#   - a plugin that segfaults on the node fails with the signal;
#   - an unknown partition fails with sbatch's own message;
#   - sbatch missing from PATH gives a clear error;
#   - a forged result file (another attempt's) is refused.
. "$(dirname "$0")/e2e-lib.sh"
. "$(dirname "$0")/e2e-slurm-lib.sh"
# Fast enough for a test on two cores: 32 jobs per core.
slurm_up 32
jobcomp="$SL/log/jobcomp.txt"

# ---------------------------------------------------------------- faults
conf "kill_grace = 2;" \
    "executors = { hpc = { type = \"slurm\"; partition = \"debug\"; poll_interval_ms = 200; worker = \"$top_builddir/meshd-worker\"; };" \
    "  short = { type = \"slurm\"; time_limit = \"1\"; poll_interval_ms = 200; worker = \"$top_builddir/meshd-worker\"; };" \
    "  nopart = { type = \"slurm\"; partition = \"nosuch\"; worker = \"$top_builddir/meshd-worker\"; };" \
    "  bad = { type = \"slurm\"; worker = \"$top_builddir/meshd-worker\"; sbatch_args = [ \"--no-such-option\" ]; };" \
    "};"
job() { # NAME PLUGIN EXECUTOR [EXTRA]
	cat >"$T/jobs/$1.conf" <<JOB
name = "$1";
domain = "test";
owner = "tests@example.org";
${4:-}
tasks = ( { id = "a"; plugin = "$2"; stage = "extract"; executor = "$3"; } );
JOB
}
job crash segv hpc
job outside ok hpc 'params = { sleep_ms = 120000; };'
# No timeout of its own: Slurm's --time is the executor's time_limit.
cat >"$T/jobs/tmo.conf" <<'JOB'
name = "tmo";
domain = "test";
owner = "tests@example.org";
params = { sleep_ms = 600000; };
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; executor = "short";
    timeout = 0; } );
JOB
job nopart ok nopart
job badarg ok bad
job forge ok hpc 'params = { sleep_ms = 600000; };'
cat >"$T/jobs/bf.conf" <<'JOB'
name = "bf";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "2001-01-01";
catchup = "none";
max_active_runs = 1000;
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; executor = "hpc"; } );
JOB
run_ctl 0 "the fault jobs validate" validate
start_meshd
wait_for "meshd started its agents" 20 logged "Slurm agent started"
for j in crash outside tmo nopart badarg forge; do "$MESHCTL" trigger "$j" >/dev/null 2>&1; done
wait_for "a plugin crash on the node fails with the signal" 60 failed_with crash "killed by signal 11"
wait_for "an unknown partition fails with sbatch's message" 30 failed_with nopart "invalid partition"
wait_for "an unknown sbatch option fails with sbatch's message" 30 failed_with badarg "no-such-option"
# The outside job runs; cancel it behind meshd's back.
wait_for "the long job is running in Slurm" 60 sh -c "squeue -h -t R -o %j | grep -q meshd-"
jid=$(sql "SELECT a.ext_id FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'outside'")
[ -n "$jid" ] && ok "the attempt knows its Slurm job id ($jid)" || fail "no Slurm job id recorded"
run_ctl 0 "tasks shows the executor and Slurm job" tasks outside "$(sql "SELECT partition_key FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'outside'")"
has "$T/out" "hpc" "the executor column"
has "$T/out" "$jid" "the Slurm job id column"
run_ctl 0 "status shows the executors" status
has "$T/out" "executor: hpc (slurm, job mode)" "a line per executor"
scancel "$jid"
wait_for "an outside scancel fails the attempt" 30 failed_with outside "cancelled outside meshd"

# ---------------------------------------------------------------- arrays
: >"$T/sbatch.log"
run_ctl 0 "a 1,000-partition backfill is accepted" backfill bf --from 2001-01-01 --to 2003-09-27
nparts=1000
done_parts() { sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'bf' AND r.state = 'success'"; }
# Kill meshd -9 in the middle, with jobs in Slurm.
i=0
while [ $i -lt 600 ] && [ "$(done_parts)" -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
before=$(done_parts)
kill -9 "$MPID"
wait "$MPID" 2>/dev/null
inflight=$(sql "SELECT count(*) FROM attempts WHERE state = 'running' AND executor = 'hpc'")
[ "$inflight" -gt 0 ] && ok "kill -9 with $inflight attempts in flight in Slurm ($before partitions done)" ||
    fail "kill -9 found nothing in flight ($before done): nothing to adopt"
start_meshd
wait_for "the next start adopts the Slurm jobs" 30 logged "adopted on executor 'hpc'"
i=0
while [ $i -lt 1800 ] && [ "$(done_parts)" -lt $nparts ]; do sleep 0.1; i=$((i + 1)); done
eq "$(done_parts)" "$nparts" "all $nparts partitions succeeded"
eq "$(sql "SELECT count(*) FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'bf' AND a.try_number > 1")" "0" "no partition needed a second attempt"
n=$(nsbatch)
# One sbatch per launch batch: the engine names each batch's array, and
# the names recorded say how many batches there were.
nnames=$(sql "SELECT count(DISTINCT ext_name) FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'bf'")
[ "$n" -le "$nnames" ] && ok "$nparts partitions took $n sbatch calls for $nnames job names: at most one per batch" ||
    fail "$nparts partitions took $n sbatch calls for $nnames job names"
[ "$n" -le $((nparts / 4)) ] && ok "$nparts partitions took $n sbatch calls (job arrays, not one per partition)" ||
    fail "$nparts partitions took $n sbatch calls: not job arrays"
# Slurm's own record: every attempt's job (name, array index) ran once.
sql "SELECT ext_name || ' ' || coalesce(ext_index, 0) FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'bf'" | sort >"$T/want-jobs"
sed -n 's/.* Name=\(meshd-[0-9]*\) .*ArrayTaskId=\([0-9]*\).*/\1 \2/p; /ArrayTaskId=/!s/.* Name=\(meshd-[0-9]*\) .*/\1 0/p' "$jobcomp" | sort >"$T/ran-jobs"
dups=$(uniq -d "$T/ran-jobs" | wc -l | tr -d ' ')
eq "$dups" "0" "no Slurm job of an attempt ran twice (jobcomp)"
if [ "$dups" != 0 ]; then
	uniq -d "$T/ran-jobs" | head -n 5 | while read -r name idx; do
		echo "    twice: $name $idx"
		grep -F "Name=$name " "$jobcomp" | sed 's/^/      jobcomp: /' | head -n 4
		grep -F -- "--job-name=$name " "$T/sbatch.log" | sed 's/^/      sbatch: /' | head -n 4
	done
fi
missing=$(comm -23 "$T/want-jobs" "$T/ran-jobs" | wc -l | tr -d ' ')
eq "$missing" "0" "every attempt's Slurm job is in jobcomp"

# ---------------------------------------------------------------- TIMEOUT
wait_for "a job over its --time fails with TIMEOUT" 150 failed_with tmo "TIMEOUT"

# ---------------------------------------------------------------- forged
# A result written for another attempt is refused: the attempt fails
# with what is wrong, not with the other attempt's outcome.
adir() { # JOB: the attempt directory of its first attempt
	echo "$T/state/staging/$1/$(sql "SELECT partition_key FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1'").attempts/a.1"
}
if [ -f "$(adir crash)/result" ]; then
	cp "$(adir crash)/result" "$(adir forge)/result.tmp" &&
	    mv "$(adir forge)/result.tmp" "$(adir forge)/result"
	wait_for "a result forged from another attempt is refused" 30 failed_with forge "written for attempt"
	hasnt "$T/meshd.log" "forge.*killed by signal 11" "the forged outcome was not taken"
else
	fail "the crash attempt left no result file at $(adir crash)/result"
fi
stop_meshd
eq "$STOPRC" "0" "meshd stops cleanly"

# ---------------------------------------------------------------- no sbatch
conf "executors = { hpc = { type = \"slurm\"; worker = \"$top_builddir/meshd-worker\"; }; };"
job lonely ok hpc
rm -f "$T/jobs/bf.conf" "$T/jobs/tmo.conf"
env PATH=/nonexistent "$MESHD" -c "$T/meshd.conf" >>"$T/meshd.log" 2>&1 &
MPID=$!
pids="$pids $MPID"
"$MESHCTL" trigger lonely >/dev/null 2>&1
wait_for "sbatch missing from PATH is a clear error" 30 failed_with lonely "sbatch: not found in PATH"
stop_meshd
# ---------------------------------------------------------------- demo
# The three demo domains, once on the local pool and once on Slurm: the
# catalog (every partition, its rows and state) must be the same.
demo_conf() { # DIR EXECUTOR-LINE
	mkdir -p "$1/jobs"
	# The demo jobs find their data at ../contrib/data from their files.
	ln -s "$top_srcdir/contrib" "$1/contrib"
	for f in "$top_srcdir"/jobs/*.conf; do
		if [ -n "$2" ]; then
			sed 's/stage *= */executor = "hpc"; stage = /' "$f" >"$1/jobs/$(basename "$f")"
		else
			cp "$f" "$1/jobs/"
		fi
	done
	cat >"$1/meshd.conf" <<CONF
state_db = "state/state.db";
jobs_dir = "jobs";
plugin_path = [ "$top_builddir/plugins/.libs" ];
log_dir = "state/logs";
staging_dir = "state/staging";
workers = 2;
executors = { hpc = { type = "slurm"; partition = "debug";
    poll_interval_ms = 200; worker = "$top_builddir/meshd-worker"; }; };
CONF
}
dsql() { sqlite3 "$d/state/state.db" "$1" 2>/dev/null; }
# quiet: no run queued or running, and none for two seconds.
demo_quiet() {
	q=0; i=0
	while [ $i -lt 1800 ] && [ $q -lt 20 ]; do
		if [ "$(dsql "SELECT count(*) FROM runs WHERE state IN ('queued', 'running')")" = 0 ] &&
		    [ "$(dsql "SELECT count(*) FROM backfills WHERE state IN ('pending', 'running')")" = 0 ]; then
			q=$((q + 1))
		else
			q=0
		fi
		sleep 0.1; i=$((i + 1))
	done
}
demo_run() { # DIR: run the demo jobs on a few days, print the catalog
	d=$1
	# A clock before the jobs start: only what the test asks for runs.
	echo "2000-06-01T00:00:00Z" >"$d/clock"
	"$MESHD" -c "$d/meshd.conf" --clock "$d/clock" >"$d/meshd.log" 2>&1 &
	dp=$!
	pids="$pids $dp"
	MESHD_CONFIG="$d/meshd.conf" "$MESHCTL" trigger airports >/dev/null 2>&1
	i=0
	while [ $i -lt 600 ] && [ "$(dsql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'airports' AND r.state = 'success'")" != 1 ]; do
		sleep 0.1; i=$((i + 1))
	done
	MESHD_CONFIG="$d/meshd.conf" "$MESHCTL" backfill flights_daily --from 2001-01-01 --to 2001-01-06 >/dev/null 2>&1
	demo_quiet
	MESHD_CONFIG="$d/meshd.conf" "$MESHCTL" backfill analytics_daily --from 2001-01-01 --to 2001-01-06 >/dev/null 2>&1
	demo_quiet
	kill -TERM "$dp"; wait "$dp"
	dsql "SELECT p.name, pp.partition_key, pp.state, pp.rows FROM product_partitions pp JOIN products p ON p.id = pp.product_id ORDER BY 1, 2"
}
demo_conf "$T/local" ""
demo_conf "$T/hpc" hpc
demo_run "$T/local" >"$T/local.catalog"
demo_run "$T/hpc" >"$T/hpc.catalog"
n=$(wc -l <"$T/local.catalog" | tr -d ' ')
[ "$n" -ge 13 ] && ok "the demo published $n partitions locally" || fail "the demo published only $n partitions locally"
if cmp -s "$T/local.catalog" "$T/hpc.catalog"; then
	ok "on Slurm the demo published the same partitions, rows and states"
else
	fail "the catalogs differ (local < > hpc)"
	diff "$T/local.catalog" "$T/hpc.catalog" | sed 's/^/    /' | head -n 20
	tail -n 20 "$T/hpc/meshd.log" | sed 's/^/    log: /'
fi
eq "$(sqlite3 "$T/hpc/state/state.db" "SELECT count(*) FROM attempts WHERE executor IS NOT 'hpc'")" "0" "every attempt of the hpc demo ran on hpc"
eq "$(sqlite3 "$T/hpc/state/state.db" "SELECT count(*) FROM attempts WHERE ext_id IS NULL OR ext_name NOT LIKE 'meshd-%'")" "0" "every attempt has its Slurm job name and id recorded"

finish
