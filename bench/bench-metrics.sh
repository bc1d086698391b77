#!/bin/sh
# bench-metrics.sh [ATTEMPTS] -- GET /metrics from meshd's HTTP child over a
# state with ATTEMPTS attempts (default 1,000,000: 20 jobs, three stages,
# one attempt in seven failed, a rows metric on every publish).  Prints the
# first scrape (the new child reads the history once) and p50/p99 of the
# next ones as curl sees them on loopback, with one new attempt written
# between scrapes, as a running meshd would.  `make bench-metrics`.
set -eu
: "${top_builddir:=$(pwd)}"
MESHD=${MESHD:-$top_builddir/meshd}
N=${1:-1000000}
SCRAPES=${SCRAPES:-200}
T=$(mktemp -d "${TMPDIR:-/tmp}/meshd-bench-metrics.XXXXXX")
MPID=
[ -n "${KEEP:-}" ] && echo "bench-metrics: keeping $T"
trap 'test -n "$MPID" && kill "$MPID" 2>/dev/null; wait 2>/dev/null; test -n "${KEEP:-}" || rm -rf "$T"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$port/metrics"
mkdir -p "$T/jobs"
cat >"$T/meshd.conf" <<CONF
state_db = "state/state.db";
jobs_dir = "jobs";
log_dir = "state/logs";
staging_dir = "state/staging";
workers = 1;
http = { listen = "127.0.0.1:$port"; };
CONF

up() {
	"$MESHD" -c "$T/meshd.conf" >>"$T/meshd.log" 2>&1 &
	MPID=$!
	i=0
	# Any answer says it listens; not /metrics, whose first scrape is
	# measured below.
	until curl -s -o /dev/null "http://127.0.0.1:$port/"; do
		i=$((i + 1))
		if [ "$i" -gt 600 ] || ! kill -0 "$MPID" 2>/dev/null; then
			echo "bench-metrics: meshd did not serve $URL" >&2
			tail -n 20 "$T/meshd.log" >&2
			exit 1
		fi
		sleep 0.1
	done
}
down() { kill "$MPID"; wait "$MPID" || true; MPID=; }

# meshd makes the state; the history is written behind its back.
up
down
R=$(( (N + 2) / 3 ))
start=$(date +%s)
sqlite3 "$T/state/state.db" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20)
INSERT INTO jobs (id, name, created_us, updated_us)
    SELECT x, 'job_' || x, 0, 0 FROM c;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $R)
INSERT INTO runs (id, job_id, partition_key, state, created_us, ended_us)
    SELECT x, 1 + x % 20, 'p' || x, CASE WHEN x % 10 = 0 THEN 'failed'
    ELSE 'success' END, x, 1000000000000 + x * 1000000 FROM c;
INSERT INTO task_instances (id, run_id, task_id, stage)
    SELECT 3 * id + s.k, id, s.t, s.g FROM runs, (SELECT 0 AS k,
    'extract' AS t, 'extract' AS g UNION ALL SELECT 1, 'check', 'check'
    UNION ALL SELECT 2, 'load', 'publish') s;
INSERT INTO attempts (id, task_instance_id, try_number, state, started_us,
    ended_us) SELECT id, id, 1, CASE WHEN id % 7 = 0 THEN 'failed' ELSE
    'success' END, 0, (id % 5000) * 1000 FROM task_instances;
INSERT INTO metrics (attempt_id, name, value) SELECT id, 'rows', id % 1000
    FROM attempts WHERE id % 3 = 2;
COMMIT;
SQL
echo "bench-metrics: $(sqlite3 "$T/state/state.db" "SELECT count(*) FROM attempts") attempts written in $(( $(date +%s) - start )) s"

up
first=$(curl -sf -o "$T/m" -w '%{time_total}' "$URL")
echo "bench-metrics: first scrape of a new child (reads the history): ${first} s, $(wc -c <"$T/m") bytes, $(grep -vc '^#' "$T/m") samples"
i=0
: >"$T/times"
while [ "$i" -lt "$SCRAPES" ]; do
	# A new ended attempt, as meshd would write it.
	sqlite3 "$T/state/state.db" "PRAGMA busy_timeout = 10000; INSERT INTO attempts (task_instance_id, try_number, state, started_us, ended_us) VALUES (3, 2, 'success', 0, 1000)" >/dev/null
	curl -sf -o "$T/m" -w '%{time_total}\n' "$URL" >>"$T/times"
	# The child's own time for the scrape before this one.
	[ "$i" -gt 0 ] && awk '$1 == "meshd_metrics_render_seconds" { print $2 }' "$T/m" >>"$T/server"
	i=$((i + 1))
done
pct() { # pct LABEL FILE
	sort -g "$2" | awk -v what="$1" '
	{ t[NR] = $1 }
	END {
		n = NR; p50 = t[int(n * 0.50 + 0.5)]; p99 = t[int(n * 0.99 + 0.5)]
		printf "bench-metrics: %s over %d scrapes: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", what, n, p50 * 1000, p99 * 1000, t[n] * 1000
	}'
}
echo "bench-metrics: one new attempt written before each scrape; target: under 10 ms"
pct "server (meshd_metrics_render_seconds)" "$T/server"
pct "curl on loopback" "$T/times"
down
