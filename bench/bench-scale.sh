#!/bin/sh
# bench-scale.sh -- meshd at scale, measured through the real meshctl and
# meshd (`make bench-scale` runs it).
#
#   bench-scale.sh BUILDDIR [backfill] [reads] [idle]   (default: all three)
#
# backfill  A job of 3 tasks (extract -> check -> publish, the no-op plugin
#           bench/noop-product.so, publishing bench.up) every 5 minutes; `meshctl backfill` of
#           SCALE_PARTITIONS (default 1,000,000) partitions: the time to
#           create it (target: under 10 s).  Then meshd runs it for
#           SCALE_RUN_S seconds (default 45; the whole backfill would take
#           hours) while meshd's memory is read from /proc/PID/status every
#           second: the peak VmRSS and VmHWM of the meshd process (target:
#           under 256 MiB), and the partitions finished per second over the
#           window.
# reads     A state of SCALE_ATTEMPTS attempts (default 3,000,000: 20 jobs
#           of 3 tasks, a run per hourly partition, a product partition per
#           run, a backfill per job, one run in 50 failed; the job files
#           run the no-op plugin and publish nothing), written with SQL
#           in the way bench-metrics.sh does; then the wall time of each
#           read verb as the shell sees it (process start to exit), over
#           SCALE_REPS runs each (default 30): p50 and max (target: under
#           10 ms), beside `meshctl --version`, the cost of starting the
#           process at all.
# idle      SCALE_JOBS job files (default 10,000) with cron schedules none of
#           which fires for years; meshd started, left SCALE_SETTLE_S to
#           settle (default 10), then over SCALE_IDLE_S (default 30): CPU
#           ticks of meshd (utime + stime from /proc/PID/stat) and its
#           wake-ups (voluntary context switches: each return from a wait
#           is one), both also per minute, and the same for its workers.
#           Target: no measurable CPU, no wake-up with nothing due.
#           Then the same jobs under a test clock (meshd --clock) stepped
#           a minute at a time over 20 fires (about 7 jobs due at each):
#           meshd's CPU per fire.
#
# Environment: BENCH_DIR (default: a new directory under /var/tmp, on a
# real disk; removed at the end unless given), the SCALE_* above.
set -eu
B=$(cd "${1:-.}" && pwd)
[ $# -gt 0 ] && shift
PARTS=${*:-backfill reads idle}
NPART=${SCALE_PARTITIONS:-1000000}
RUN_S=${SCALE_RUN_S:-45}
NATT=${SCALE_ATTEMPTS:-3000000}
REPS=${SCALE_REPS:-30}
NJOBS=${SCALE_JOBS:-10000}
SETTLE_S=${SCALE_SETTLE_S:-10}
IDLE_S=${SCALE_IDLE_S:-30}
PY=/usr/bin/python3
C="$B/meshctl"
for so in noop noop-product; do
	[ -f "$B/bench/.libs/$so.so" ] || { echo "bench-scale.sh: $B/bench/.libs/$so.so: not built (make bench/$so.la)" >&2; exit 2; }
done
pid=
if [ -n "${BENCH_DIR:-}" ]; then
	mkdir -p "$BENCH_DIR"; W=$(cd "$BENCH_DIR" && pwd)
	trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || :' EXIT
else
	W=$(mktemp -d /var/tmp/meshd-bench-scale.XXXXXX)
	trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || :; rm -rf "$W"' EXIT
fi
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }

# setup DIR: a meshd.conf for DIR, the no-op plugin, 2 workers.
setup() {
	rm -rf "$1"
	mkdir -p "$1/jobs"
	cat >"$1/meshd.conf" <<EOF
state_db    = "state/state.db";
jobs_dir    = "jobs";
plugin_path = [ "$B/bench/.libs" ];
log_dir     = "state/logs";
staging_dir = "state/staging";
workers     = 2;
EOF
	export MESHD_CONFIG="$1/meshd.conf"
}
# up DIR: start meshd, wait for its health file (written once started).
up() {
	"$B/meshd" -c "$1/meshd.conf" >>"$1/meshd.log" 2>&1 &
	pid=$!
	i=0
	until [ -s "$1/state/state.db.health" ]; do
		i=$((i + 1))
		if [ "$i" -gt 3000 ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "bench-scale.sh: meshd did not start" >&2
			tail -n 20 "$1/meshd.log" >&2
			exit 1
		fi
		sleep 0.02
	done
}
down() { kill "$pid"; wait "$pid" || :; pid=; }
# kib PID FIELD: a VmXXX figure of /proc/PID/status in KiB.
kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
mib() { echo "$(( $1 / 1024 )).$(( $1 % 1024 * 10 / 1024 ))"; }

# ---- backfill: 1,000,000 partitions x 3 stages
bench_backfill() {
	d=$W/backfill
	setup "$d"
	# The no-op check records no check result: that passes here.
	echo 'empty_check = "pass";' >>"$d/meshd.conf"
	# The job ends with the backfill: its schedule adds nothing.
	end=$(date -u -d "2000-01-01 00:00 UTC + $(( NPART * 5 )) minutes" +%Y-%m-%dT%H:%M)
	cat >"$d/jobs/scale.conf" <<EOF
name = "scale";
domain = "bench";
owner = "bench@example.org";
schedule = "*/5 * * * *";
start = "2000-01-01T00:00";
end = "$end";
catchup = "none";
tasks = (
  { id = "extract"; plugin = "noop-product"; stage = "extract";
    params = { marker = ""; }; },
  { id = "check"; plugin = "noop-product"; stage = "check";
    after = [ "extract" ]; params = { marker = ""; }; },
  { id = "publish"; plugin = "noop-product"; stage = "publish";
    after = [ "check" ]; product = "bench.up"; params = { marker = ""; }; }
);
EOF
	from=2000-01-01T00:00
	to=$(date -u -d "2000-01-01 00:00 UTC + $(( (NPART - 1) * 5 )) minutes" +%Y-%m-%dT%H:%M)
	# The state exists before the clock starts: what is timed is the
	# backfill, not the schema.
	"$C" runs scale >/dev/null 2>&1 || :
	t0=$(now)
	"$C" backfill scale --from "$from" --to "$to" --max-active-runs 16 >"$d/out"
	t1=$(now)
	create=$(ms "$t0" "$t1")
	n=$(sqlite3 "$d/state/state.db" "SELECT total FROM backfills WHERE id = 1")
	[ "$n" -eq "$NPART" ] || { echo "bench-scale.sh: backfill of $n partitions, not $NPART" >&2; exit 1; }
	t0=$(now)
	up "$d"
	t1=$(now)
	startms=$(ms "$t0" "$t1")
	# Memory every second; partitions done counted from the first one
	# finished (what meshd does at start is the start-up figure).
	rss=0 hwm=0 s=0 n0= t0=
	while [ "$s" -lt "$RUN_S" ]; do
		sleep 1
		s=$((s + 1))
		r=$(kib "$pid" VmRSS); h=$(kib "$pid" VmHWM)
		[ "$r" -le "$rss" ] || rss=$r
		[ "$h" -le "$hwm" ] || hwm=$h
		if [ -z "$n0" ]; then
			n0=$(sqlite3 -cmd ".timeout 5000" "$d/state/state.db" "SELECT n_success + n_failed FROM backfills WHERE id = 1")
			t0=$(now)
			[ "$n0" -gt 0 ] || n0=
		fi
	done
	n1=$(sqlite3 -cmd ".timeout 5000" "$d/state/state.db" "SELECT n_success + n_failed FROM backfills WHERE id = 1")
	t1=$(now)
	nf=$(sqlite3 -cmd ".timeout 5000" "$d/state/state.db" "SELECT n_failed FROM backfills WHERE id = 1")
	down
	rate=0
	[ -z "$n0" ] || rate=$(( (n1 - n0) * 1000 / ($(ms "$t0" "$t1") + 1) ))
	echo "backfill of $NPART partitions x 3 stages (no-op plugin, 2 workers, max-active-runs 16)"
	printf '  %-46s %8s ms   (target < 10,000)\n' "meshctl backfill (checked, created whole)" "$create"
	printf '  %-46s %8s ms\n' "meshd start to health file" "$startms"
	printf '  %-46s %8s partitions/s (%s done, %s failed, in %s s)\n' "meshd runs them" "$rate" "$n1" "$nf" "$RUN_S"
	printf '  %-46s %8s MiB peak VmRSS, %s MiB VmHWM   (target < 256)\n' "meshd's memory while it runs" "$(mib "$rss")" "$(mib "$hwm")"
}

# ---- reads: 3,000,000 attempts
bench_reads() {
	d=$W/reads
	setup "$d"
	i=1
	while [ "$i" -le 20 ]; do
		cat >"$d/jobs/job_$i.conf" <<EOF
name = "job_$i"; domain = "bench"; owner = "bench@example.org";
schedule = "@hourly"; start = "2000-01-01T00"; end = "2000-01-01T01";
catchup = "none";
tasks = (
  { id = "extract"; plugin = "noop"; stage = "extract";
    params = { marker = ""; }; },
  { id = "check"; plugin = "noop"; stage = "check"; after = [ "extract" ];
    params = { marker = ""; }; },
  { id = "publish"; plugin = "noop"; stage = "extract"; after = [ "check" ];
    params = { marker = ""; }; }
);
EOF
		i=$((i + 1))
	done
	up "$d"
	down
	R=$(( (NATT + 2) / 3 ))
	PER=$(( (R + 19) / 20 ))
	t0=$(now)
	sqlite3 "$d/state/state.db" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
PRAGMA synchronous = OFF;
BEGIN;
INSERT OR IGNORE INTO jobs (name, domain, owner, schedule, created_us, updated_us)
    SELECT 'job_' || value, 'bench', 'bench@example.org', '@hourly', 0, 0
    FROM generate_series(1, 20);
CREATE TEMP TABLE j AS SELECT id, CAST(substr(name, 5) AS INTEGER) AS k FROM jobs;
INSERT INTO runs (id, job_id, partition_key, interval_start_us, interval_end_us,
    "trigger", state, created_us, started_us, ended_us, scheduled)
SELECT x, (SELECT id FROM j WHERE k = 1 + (x - 1) / $PER),
    strftime('%Y-%m-%dT%H', 946684800 + ((x - 1) % $PER) * 3600, 'unixepoch'),
    (946684800 + ((x - 1) % $PER) * 3600) * 1000000,
    (946684800 + ((x - 1) % $PER + 1) * 3600) * 1000000, 'backfill',
    CASE WHEN x % 50 = 0 THEN 'failed' ELSE 'success' END,
    1700000000000000 + x * 1000, 1700000000000000 + x * 1000 + 10,
    1700000000000000 + x * 1000 + 900, 0
FROM (SELECT value AS x FROM generate_series(1, $R));
INSERT INTO task_instances (id, run_id, task_id, stage, state, try_number,
    max_tries, started_us, ended_us)
SELECT 3 * r.id + s.k, r.id, s.t, s.t, CASE WHEN r.state = 'failed' AND
    s.k = 1 THEN 'failed' WHEN r.state = 'failed' AND s.k = 2 THEN
    'upstream_failed' ELSE 'success' END, 1, 1, r.started_us + s.k * 200,
    r.started_us + s.k * 200 + 150
FROM runs r, (SELECT 0 AS k, 'extract' AS t UNION ALL SELECT 1, 'check'
    UNION ALL SELECT 2, 'publish') s;
INSERT INTO attempts (id, task_instance_id, try_number, state, started_us,
    ended_us, worker_pid, reason)
SELECT id, id, 1, CASE state WHEN 'failed' THEN 'failed' WHEN
    'upstream_failed' THEN 'skipped' ELSE 'success' END, started_us,
    ended_us, 1, CASE state WHEN 'failed' THEN 'check failed' END
FROM task_instances;
INSERT INTO products (id, name, domain, owner, job_id)
    SELECT k, 'bench.p' || k, 'bench', 'bench@example.org', id FROM j;
INSERT INTO product_partitions (product_id, partition_key, state, run_id,
    attempt_id, published_us, updated_us, "rows", version)
SELECT (SELECT k FROM j WHERE j.id = r.job_id), r.partition_key,
    CASE r.state WHEN 'failed' THEN 'quarantined' ELSE 'published' END,
    r.id, 3 * r.id + 2, r.ended_us, r.ended_us, 100, 1 FROM runs r;
INSERT INTO backfills (id, job, from_key, to_key, reprocess, max_active_runs,
    state, total, n_success, n_failed, created_us, started_us, ended_us)
SELECT k, 'job_' || k, '2000-01-01T00', '2099-01-01T00', 'missing', 16,
    'failed', $PER, $PER - $PER / 50, $PER / 50, 1700000000000000,
    1700000000000000, 1800000000000000 FROM j;
INSERT INTO backfill_partitions (backfill_id, seq, partition_key,
    interval_start_us, interval_end_us, state, run_id)
SELECT (SELECT k FROM j WHERE j.id = r.job_id), (r.id - 1) % $PER,
    r.partition_key, r.interval_start_us, r.interval_end_us, r.state, r.id
FROM runs r;
COMMIT;
SQL
	t1=$(now)
	att=$(sqlite3 "$d/state/state.db" "SELECT count(*) FROM attempts")
	echo "reads over $att attempts ($(du -h "$d/state/state.db" | cut -f1)B state, written in $(( $(ms "$t0" "$t1") / 1000 )) s); $REPS runs each"
	key=$(sqlite3 "$d/state/state.db" "SELECT partition_key FROM runs WHERE id = $(( PER * 6 + PER / 2 ))")
	# Without meshd: meshctl alone, as an operator runs it.
	"$PY" - "$REPS" "$C" "$key" <<'PY'
import subprocess, sys, time
reps, c, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cases = [
    # The floor: process start-up alone (exec, 39 shared libraries).
    ("--version (start-up alone)", ["--version"]),
    ("runs job_7", ["runs", "job_7"]),
    ("runs job_7 --state failed", ["runs", "job_7", "--state", "failed"]),
    ("tasks job_7 " + key, ["tasks", "job_7", key]),
    ("backfills", ["backfills"]),
    ("backfills 7", ["backfills", "7"]),
    ("products", ["products"]),
    ("status", ["status"]),
    ("jobs", ["jobs"]),
    ("runs job_7 --json", ["runs", "job_7", "--json"]),
]
for name, argv in cases:
    t = []
    for i in range(reps + 1):
        s = time.perf_counter()
        p = subprocess.run([c] + argv, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        e = time.perf_counter() - s
        # 1: a failed backfill (backfills 7 is one) says so.
        if p.returncode not in (0, 1) or (p.returncode == 1 and
                argv[0] != "backfills"):
            sys.exit("bench-scale.sh: meshctl %s: exit %d: %s" %
                (name, p.returncode, p.stderr.decode()))
        if i > 0:	# the first warms the page cache
            t.append(e * 1000)
    t.sort()
    print("  meshctl %-40s p50 %6.2f ms  max %6.2f ms" %
        (name, t[len(t) // 2], t[-1]))
print("  (target: under 10 ms each)")
PY
}

# ---- idle: 10,000 jobs, nothing due
bench_idle() {
	d=$W/idle
	setup "$d"
	i=0
	while [ "$i" -lt "$NJOBS" ]; do
		# Fires once a year, from 2100 on: nothing is due for years.
		m=$((i % 60)) h=$((i / 60 % 24))
		printf 'name = "idle%d"; domain = "bench"; owner = "bench@example.org";\nschedule = "%d %d 1 1 *"; start = "2100-01-01T%02d:%02d";\ntasks = ( { id = "t"; plugin = "noop"; stage = "extract"; params = { marker = ""; }; } );\n' \
		    "$i" "$m" "$h" "$h" "$m" >"$d/jobs/idle$i.conf"
		i=$((i + 1))
	done
	t0=$(now)
	up "$d"
	t1=$(now)
	startms=$(ms "$t0" "$t1")
	sleep "$SETTLE_S"
	tck=$(getconf CLK_TCK)
	# cpu PID: utime + stime in ticks; sw PID: voluntary + involuntary
	# context switches; kids: meshd's children (workers, side services).
	cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
	sw() { awk '/ctxt_switches/ { n += $2 } END { print n }' "/proc/$1/status"; }
	kids=$(cat "/proc/$pid/task/$pid/children")
	c0=$(cpu "$pid"); w0=$(sw "$pid")
	kc0=0 kw0=0
	for k in $kids; do kc0=$((kc0 + $(cpu "$k"))); kw0=$((kw0 + $(sw "$k"))); done
	sleep "$IDLE_S"
	c1=$(cpu "$pid"); w1=$(sw "$pid")
	kc1=0 kw1=0
	for k in $kids; do kc1=$((kc1 + $(cpu "$k"))); kw1=$((kw1 + $(sw "$k"))); done
	rss=$(kib "$pid" VmRSS)
	down
	fmt_cpu() { # ticks -> seconds with 2 decimals
		echo "$(( $1 / tck )).$(printf '%02d' $(( $1 % tck * 100 / tck )))"
	}
	echo "idle meshd with $NJOBS jobs (cron, none due for years), over $IDLE_S s after $SETTLE_S s to settle"
	printf '  %-46s %8s ms\n' "meshd start (jobs loaded) to health file" "$startms"
	printf '  %-46s %8s s CPU, %s wake-ups (%s per minute)\n' "meshd" "$(fmt_cpu $((c1 - c0)))" $((w1 - w0)) $(( (w1 - w0) * 60 / IDLE_S ))
	printf '  %-46s %8s s CPU, %s wake-ups\n' "its children ($(echo $kids | wc -w))" "$(fmt_cpu $((kc1 - kc0)))" $((kw1 - kw0))
	printf '  %-46s %8s MiB VmRSS\n' "meshd's memory" "$(mib "$rss")"

	# The same jobs under a test clock stepped a minute at a time
	# through 2101-01-01T00:01..00:20: about 7 jobs' intervals end at
	# each step.  What one fire costs meshd with 10,000 jobs (it runs
	# those jobs' no-op task too).
	rm -rf "$d/state"
	echo 2101-01-01T00:00:30Z >"$d/clock"
	"$B/meshd" -c "$d/meshd.conf" --clock "$d/clock" >>"$d/meshd.log" 2>&1 &
	pid=$!
	until [ -s "$d/state/state.db.health" ]; do sleep 0.05; done
	sleep 3
	c0=$(cpu "$pid")
	i=1
	while [ "$i" -le 20 ]; do
		printf '2101-01-01T00:%02d:01Z\n' "$i" >"$d/clock"
		sleep 0.5
		i=$((i + 1))
	done
	sleep 2
	c1=$(cpu "$pid")
	n=$(sqlite3 -cmd ".timeout 5000" "$d/state/state.db" "SELECT count(*) FROM runs")
	down
	printf '  %-46s %8s s CPU (%s runs), %s ms a fire\n' "20 fires, test clock" "$(fmt_cpu $((c1 - c0)))" "$n" $(( (c1 - c0) * 1000 / tck / 20 ))
}

for p in $PARTS; do
	case $p in
	backfill|reads|idle) "bench_$p" ;;
	*) echo "bench-scale.sh: $p: not a part (backfill, reads, idle)" >&2; exit 2 ;;
	esac
done
