#!/bin/sh
# bench-http.sh BUILDDIR -- `make bench-http`: the HTTP child under load
# (issue 12).  Prints:
#   1. p50/p99 of the server's own time (its Server-Timing header) for
#      /api/v1/runs (first page and a page 50,000 runs deep), the job grid
#      page of the web UI and /metrics, on a state of 1,000,000 attempts
#      (100,000 runs x 10 tasks) written with SQL straight into the state;
#      targets: p99 under 50 ms for the pages, /metrics under 10 ms;
#   2. the scheduler's tasks/s on bench-dag's `layered` DAG (10,000
#      tasks), alone and while an HTTP child on the same state answers 200
#      requests a second; target: within 5%.
# Environment: BENCH_HTTP_RUNS (default 100000 runs, x 10 attempts),
# BENCH_HTTP_N (requests per figure, default 300), BENCH_HTTP_RATE (200),
# BENCH_DIR (work directory, kept), BENCH_HTTP_SKIP_DAG=1.
set -eu
B=$(cd "$1" && pwd)
S=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
RUNS=${BENCH_HTTP_RUNS:-100000}
N=${BENCH_HTTP_N:-300}
RATE=${BENCH_HTTP_RATE:-200}
if [ -n "${BENCH_DIR:-}" ]; then
	mkdir -p "$BENCH_DIR"
	W=$(cd "$BENCH_DIR" && pwd)
else
	W=$(mktemp -d /var/tmp/meshd-bench-http.XXXXXX)
	trap 'rm -rf "$W"' EXIT
fi
MPID=
cleanup() { [ -z "$MPID" ] || kill "$MPID" 2>/dev/null || :; }
trap 'cleanup; [ -n "${BENCH_DIR:-}" ] || rm -rf "$W"' EXIT

freeport() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
now_ns() { date +%s%N; }

# ---- 1. a big state
d=$W/big
rm -rf "$d"
mkdir -p "$d/jobs"
port=$(freeport)
cat >"$d/meshd.conf" <<CONF
state_db    = "state/state.db";
jobs_dir    = "jobs";
plugin_path = [ "$B/bench/.libs" ];
log_dir     = "state/logs";
staging_dir = "state/staging";
workers     = 2;
http        = { listen = "127.0.0.1:$port"; };
CONF
{
	echo 'name = "big"; domain = "bench"; owner = "bench@example.org";'
	echo 'tasks = ('
	for i in 0 1 2 3 4 5 6 7 8 9; do
		[ "$i" -eq 0 ] || echo ','
		printf '  { id = "t%d"; plugin = "noop"; stage = "extract"; }' "$i"
	done
	echo
	echo ');'
} >"$d/jobs/big.conf"
start() {
	"$B/meshd" -c "$d/meshd.conf" >>"$d/meshd.log" 2>&1 &
	MPID=$!
	i=0
	until curl -sf -o /dev/null "http://127.0.0.1:$port/api/v1/runs?job=big"; do
		i=$((i + 1))
		[ "$i" -lt 600 ] || { cat "$d/meshd.log"; exit 1; }
		sleep 0.1
	done
}
stop() { kill "$MPID"; wait "$MPID" || :; MPID=; }
start
stop
echo "writing $RUNS runs x 10 tasks = $((RUNS * 10)) attempts into $d/state/state.db..." >&2
t0=$(now_ns)
sqlite3 "$d/state/state.db" <<SQL
PRAGMA synchronous = OFF;
BEGIN;
INSERT OR IGNORE INTO jobs (name, domain, owner, created_us, updated_us)
    VALUES ('big', 'bench', 'bench@example.org', 0, 0);
CREATE TEMP TABLE j AS SELECT id FROM jobs WHERE name = 'big';
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $RUNS - 1)
INSERT INTO runs (job_id, partition_key, interval_start_us, interval_end_us,
    "trigger", state, created_us, started_us, ended_us)
SELECT (SELECT id FROM j), date('1800-01-01', '+' || i || ' days'),
    (unixepoch('1800-01-01') + i * 86400) * 1000000,
    (unixepoch('1800-01-01') + (i + 1) * 86400) * 1000000, 'backfill',
    CASE WHEN i % 97 = 0 THEN 'failed' ELSE 'success' END,
    1700000000000000 + i * 1000, 1700000000000000 + i * 1000 + 10,
    1700000000000000 + i * 1000 + 900
FROM n;
WITH t(k) AS (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9))
INSERT INTO task_instances (run_id, task_id, stage, state, try_number,
    max_tries, started_us, ended_us)
SELECT r.id, 't' || t.k, 'extract', CASE WHEN r.state = 'failed' AND
    t.k = 9 THEN 'failed' ELSE 'success' END, 1, 1, r.started_us + t.k * 80,
    r.started_us + t.k * 80 + 70
FROM runs r, t WHERE r.job_id = (SELECT id FROM j) ORDER BY r.id, t.k;
INSERT INTO attempts (task_instance_id, try_number, state, started_us,
    ended_us, worker_pid, reason)
SELECT ti.id, 1, CASE ti.state WHEN 'failed' THEN 'failed' ELSE 'success' END,
    ti.started_us, ti.ended_us, 1, CASE ti.state WHEN 'failed' THEN
    'exit 1' END
FROM task_instances ti JOIN runs r ON r.id = ti.run_id
WHERE r.job_id = (SELECT id FROM j);
COMMIT;
ANALYZE;
SQL
t1=$(now_ns)
att=$(sqlite3 "$d/state/state.db" "SELECT count(*) FROM attempts")
echo "state: $att attempts, $(du -h "$d/state/state.db" | cut -f1)B, written in $(( (t1 - t0) / 1000000000 )) s"
start
# A cursor half way down (50,000 runs deep with the default): five pages.
deep=$((RUNS / 2))
cur=""
for i in 1 2 3 4 5; do
	cur=$(curl -sf "http://127.0.0.1:$port/api/v1/runs?job=big&limit=$((deep / 5))${cur:+&cursor=$cur}" |
	    jq -r .next_cursor)
done
echo
printf '%-34s %s\n' "GET" "figures (ms; server = its Server-Timing)"
fig() {
	printf '%-34s ' "$1"
	$PY "$S/http-load.py" measure 127.0.0.1 "$port" "${3:-$N}" "$2"
}
fig "/api/v1/runs?job=big" "/api/v1/runs?job=big"
fig "/api/v1/runs, $deep runs deep" "/api/v1/runs?job=big&cursor=$cur"
fig "/api/v1/runs?limit=1000" "/api/v1/runs?job=big&limit=1000" 50
fig "/ui/job?job=big (job grid)" "/ui/job?job=big"
fig "/ (home)" "/"
fig "/metrics" "/metrics"
fig "/api/v1/openapi.json" "/api/v1/openapi.json" 100
echo "targets: p99 under 50 ms for runs and the grid, /metrics under 10 ms (a status other than 200 means that page is not built)"
stop

[ "${BENCH_HTTP_SKIP_DAG:-0}" = 1 ] && exit 0
# ---- 2. the scheduler, with and without the API hammered
g=$W/dag
rm -rf "$g"
mkdir -p "$g/jobs" "$g/markers"
cat >"$g/meshd.conf" <<CONF
state_db    = "state/state.db";
jobs_dir    = "jobs";
plugin_path = [ "$B/bench/.libs" ];
log_dir     = "state/logs";
staging_dir = "state/staging";
workers     = 2;
CONF
awk -v mdir="$g/markers" 'BEGIN {
	printf "name = \"layered\"; domain = \"bench\"; owner = \"bench@example.org\";\n"
	printf "params = { dir = \"%s\"; };\ntasks = (\n", mdir
	n = 0
	for (l = 0; l < 200; l++)
		for (i = 0; i < 50; i++) {
			s = "  { id = \"l" l "_" i "\"; plugin = \"noop\"; stage = \"extract\";"
			if (l > 0)
				s = s " after = [ \"l" (l - 1) "_" i "\", \"l" (l - 1) "_" ((i + 1) % 50) "\" ];"
			s = s " params = { marker = \"l" l "_" i "\"; }; }"
			printf "%s%s", (n++ > 0 ? ",\n" : ""), s
		}
	printf "\n);\n"
}' >"$g/jobs/layered.conf"
sed 's/^workers .*/&\nhttp = { listen = "127.0.0.1:'"$(freeport)"'"; };/' "$g/meshd.conf" >"$g/http.conf"
hport=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$g/http.conf")
dag() {
	rm -rf "$g/state" "$g/markers"
	mkdir -p "$g/markers"
	"$B/bench/bench-dag" "$g/meshd.conf" layered | sed -n 's/.*tasks_s=\([0-9]*\).*/\1/p'
}
loaded() {
	# No state yet: the child must not open the previous run's database,
	# which dag() deletes.
	rm -rf "$g/state" "$g/markers"
	mkdir -p "$g/state" "$g/markers"
	$PY "$S/http-load.py" hammer "$B/meshd" "$g/http.conf" "$g/state/state.db" \
	    127.0.0.1 "$hport" "$RATE" "/api/v1/runs?job=layered" "/metrics" \
	    "/api/v1/runs?job=layered&limit=10" "/" >"$g/hammer.out" &
	hp=$!
	sleep 1
	dag
	kill -TERM "$hp" 2>/dev/null || :
	wait "$hp" || :
}
# Alternated, best of each: the machine's other load only slows a run
# down, so the best is the least disturbed figure of each kind.
echo
echo "bench-dag layered (10,000 tasks), tasks/s, alone | API at $RATE req/s:"
best1=0 best2=0
for r in $(seq "${BENCH_HTTP_REPEAT:-3}"); do
	a=$(dag)
	b=$(loaded)
	echo "  $a | $b  ($(sed -n 's/^hammer: //p' "$g/hammer.out"))"
	[ "$a" -gt "$best1" ] && best1=$a
	[ "$b" -gt "$best2" ] && best2=$b
done
awk -v a="$best1" -v b="$best2" 'BEGIN {
	printf "  best: %d alone, %d with the API hammered: %+.1f%% (target: within 5%%)\n", a, b, (b - a) * 100 / a
}'
