#!/bin/sh
# bench-slurm.sh BUILDDIR -- `make bench-slurm`: the Slurm executor (issue
# 13) on a real single-node Slurm on loopback, started and stopped here
# with SLURM_LOCAL_OVERSUBSCRIBE (default 32 jobs per core).  Prints, for
# no-op tasks through meshd (bench/noop.la), wall time from the backfill
# request to its last run's end:
#   1. job mode, single jobs: a chain of BENCH_SLURM_CHAIN (30) tasks, each
#      waiting for the one before (one sbatch per task);
#   2. job mode, arrays: a backfill of BENCH_SLURM_ARRAY (1000) one-task
#      partitions;
#   3. pilot mode: a backfill of BENCH_SLURM_PILOT (5000) one-task
#      partitions on 2 pilots x 4 slots;
# and for each the Slurm CLI calls (sbatch, squeue, scontrol, scancel,
# counted through shims first in PATH) per 1,000 tasks.
# Environment: BENCH_DIR (work directory, kept), the sizes above,
# SLURM_LOCAL_OVERSUBSCRIBE.
set -eu
B=$(cd "$1" && pwd)
S=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
CHAIN=${BENCH_SLURM_CHAIN:-30}
ARRAY=${BENCH_SLURM_ARRAY:-1000}
PILOT=${BENCH_SLURM_PILOT:-5000}
if [ -n "${BENCH_DIR:-}" ]; then
	mkdir -p "$BENCH_DIR"
	W=$(cd "$BENCH_DIR" && pwd)
else
	W=$(mktemp -d /var/tmp/meshd-bench-slurm.XXXXXX)
fi
chmod 755 "$W"
MPID=
cleanup() {
	[ -z "$MPID" ] || kill "$MPID" 2>/dev/null || :
	bash "$S/../tests/slurm-local.sh" down "$W/slurm" >/dev/null 2>&1 || :
	[ -n "${BENCH_DIR:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
export SLURM_LOCAL_OVERSUBSCRIBE=${SLURM_LOCAL_OVERSUBSCRIBE:-32}
bash "$S/../tests/slurm-local.sh" up "$W/slurm" >"$W/slurm.env" 2>"$W/slurm.log" || {
	echo "bench-slurm: cannot start Slurm:" >&2; tail -n 5 "$W/slurm.log" >&2; exit 1; }
. "$W/slurm.env"
export MESHD_INSECURE_PLUGIN_PATHS=1
mkdir -p "$W/bin"
for c in sbatch squeue scontrol scancel; do
	real=$(command -v "$c")
	printf '#!/bin/sh\necho %s >>"%s/calls"\nexec "%s" "$@"\n' "$c" "$W" "$real" >"$W/bin/$c"
	chmod +x "$W/bin/$c"
done
export PATH="$W/bin:$PATH"
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/secret"
chmod 600 "$W/secret"
now_ms() { date +%s%3N; }
ncalls() { grep -c "^$1\$" "$W/calls" 2>/dev/null || echo 0; }

# setup NAME EXECUTOR: a state and meshd.conf in $W/NAME
setup() {
	d=$W/$1
	rm -rf "$d"
	mkdir -p "$d/jobs"
	cat >"$d/meshd.conf" <<CONF
state_db = "state/state.db";
jobs_dir = "jobs";
plugin_path = [ "$B/bench/.libs" ];
log_dir = "state/logs";
staging_dir = "state/staging";
workers = 2;
executors = {
  hpc = { type = "slurm"; worker = "$B/meshd-worker"; };
  burst = { type = "slurm"; mode = "pilot"; pilots = 2; pilot_slots = 4;
    listen = "127.0.0.1:$PORT"; secret_file = "$W/secret";
    worker = "$B/meshd-worker"; };
};
CONF
}
start() {
	echo "2000-06-01T00:00:00Z" >"$d/clock"
	"$B/meshd" -c "$d/meshd.conf" --clock "$d/clock" >"$d/meshd.log" 2>&1 &
	MPID=$!
	sleep 1
}
stop() { kill "$MPID"; wait "$MPID" 2>/dev/null || :; MPID=; }
succeeded() { sqlite3 "$d/state/state.db" "SELECT count(*) FROM runs WHERE state = 'success'"; }
# measure T0 LABEL RUNS TASKS: wait for RUNS successful runs; print the
# figures for TASKS tasks
measure() {
	t0=$1; label=$2; n=$3; tasks=${4:-$3}
	while [ "$(succeeded)" -lt "$n" ]; do
		if [ "$(sqlite3 "$d/state/state.db" "SELECT count(*) FROM runs WHERE state = 'failed'")" -gt 0 ]; then
			echo "bench-slurm: $label: runs failed; see $d/meshd.log" >&2
			exit 1
		fi
		sleep 0.2
	done
	t1=$(now_ms)
	awk -v label="$label" -v n="$tasks" -v ms=$((t1 - t0)) \
	    -v calls="$(wc -l <"$W/calls")" -v sb="$(ncalls sbatch)" \
	    -v sq="$(ncalls squeue)" -v sc="$(ncalls scontrol)" \
	    -v sx="$(ncalls scancel)" 'BEGIN {
		printf "%-34s %6d tasks in %7.2f s: %8.1f tasks/s; Slurm CLI calls per 1,000 tasks: %5.0f (sbatch %d, squeue %d, scontrol %d, scancel %d)\n",
		    label, n, ms / 1000, n * 1000 / ms, calls * 1000 / n, sb, sq, sc, sx }'
}

echo "bench-slurm: $(nproc) CPUs, $(sinfo -h -o '%c CPUs, oversubscribe %h' 2>/dev/null), $(date -u +%FT%TZ)"

# 1. single jobs: a chain, each task a job of its own
setup chain
{
	echo 'name = "chain"; domain = "bench"; owner = "b@example.org";'
	echo 'params = { marker = "m"; };'
	echo 'tasks = ('
	i=1
	while [ $i -le "$CHAIN" ]; do
		sep=,; [ $i -eq "$CHAIN" ] && sep=
		after=; [ $i -gt 1 ] && after="after = [ \"t$((i - 1))\" ];"
		echo "  { id = \"t$i\"; plugin = \"noop\"; stage = \"extract\"; executor = \"hpc\"; $after }$sep"
		i=$((i + 1))
	done
	echo ');'
} >"$d/jobs/chain.conf"
start
: >"$W/calls"
t0=$(now_ms)
MESHD_CONFIG="$d/meshd.conf" "$B/meshctl" trigger chain >/dev/null
measure "$t0" "job mode, single jobs (a chain)" 1 "$CHAIN"
stop

# 2. arrays: a backfill of one-task partitions
setup array
cat >"$d/jobs/bf.conf" <<'JOB'
name = "bf"; domain = "bench"; owner = "b@example.org";
schedule = "@daily"; start = "2001-01-01"; catchup = "none";
max_active_runs = 1000;
params = { marker = "m"; };
tasks = ( { id = "a"; plugin = "noop"; stage = "extract"; executor = "hpc"; } );
JOB
start
: >"$W/calls"
to=$($PY -c "import datetime; print(datetime.date(2001, 1, 1) + datetime.timedelta(days=$ARRAY - 1))")
t0=$(now_ms)
MESHD_CONFIG="$d/meshd.conf" "$B/meshctl" backfill bf --from 2001-01-01 --to "$to" >/dev/null
measure "$t0" "job mode, job arrays (backfill)" "$ARRAY"
stop

# 3. pilot mode
setup pilot
sed 's/executor = "hpc"/executor = "burst"/; s/max_active_runs = 1000/max_active_runs = 2000/' \
    "$W/array/jobs/bf.conf" >"$d/jobs/bf.conf"
start
: >"$W/calls"
to=$($PY -c "import datetime; print(datetime.date(2001, 1, 1) + datetime.timedelta(days=$PILOT - 1))")
t0=$(now_ms)
MESHD_CONFIG="$d/meshd.conf" "$B/meshctl" backfill bf --from 2001-01-01 --to "$to" >/dev/null
measure "$t0" "pilot mode, 2 pilots x 4 slots" "$PILOT"
stop
