#!/bin/sh
# bench-backfill.sh -- what an operator waits for, measured through the real
# meshctl and meshd (`make bench-backfill` runs it).
#
#   bench-backfill.sh BUILDDIR
#
# With a no-op plugin (bench/noop.so) on an hourly job, it prints:
#   - how long `meshctl backfill` takes to check and create 100,000
#     partitions in one transaction, and `--dry-run` to list them;
#   - how long `meshctl backfills` takes to show progress with 100,000
#     partition rows in the state;
#   - how many partitions per second meshd runs (16 at a time, 2 workers),
#     over the first BENCH_RUNS (default 20,000) partitions;
#   - how long a request takes from `meshctl trigger` returning to meshd
#     having carried it out (median and worst of 20), with meshd busy on
#     the backfill: the promise is within 100 ms.
# Environment: BENCH_DIR (default: a new directory under /var/tmp, on a real
# disk), BENCH_RUNS, BENCH_MAX_ACTIVE (default 16; 100000 queues every
# partition at once: the queue's cost), BENCH_CONF (more meshd.conf lines, e.g.
# 'lineage = { sink = "none"; };' to see meshd without its deliverer).
set -eu
B=$(cd "${1:-.}" && pwd)
RUNS=${BENCH_RUNS:-20000}
MAXA=${BENCH_MAX_ACTIVE:-16}
[ -f "$B/bench/.libs/noop.so" ] || { echo "bench-backfill.sh: $B/bench/.libs/noop.so: not built (make check builds it)" >&2; exit 2; }
if [ -n "${BENCH_DIR:-}" ]; then
	mkdir -p "$BENCH_DIR"; W=$(cd "$BENCH_DIR" && pwd)
else
	W=$(mktemp -d /var/tmp/meshd-bench-backfill.XXXXXX)
	trap 'kill "$pid" 2>/dev/null || :; rm -rf "$W"' EXIT
fi
pid=
mkdir -p "$W/jobs"
cat >"$W/meshd.conf" <<EOF
state_db    = "state/state.db";
jobs_dir    = "jobs";
plugin_path = [ "$B/bench/.libs" ];
log_dir     = "state/logs";
staging_dir = "state/staging";
workers     = 2;
${BENCH_CONF:-}
EOF
cat >"$W/jobs/hourly.conf" <<'EOF'
name = "hourly";
domain = "bench";
owner = "bench@example.org";
schedule = "@hourly";
start = "2000-01-01T00";
end = "2011-05-29T16";
catchup = "none";
tasks = ( { id = "t"; plugin = "noop"; stage = "extract"; params = { marker = ""; }; } );
EOF
cat >"$W/jobs/adhoc.conf" <<'EOF'
name = "adhoc";
domain = "bench";
owner = "bench@example.org";
tasks = ( { id = "t"; plugin = "noop"; stage = "extract"; params = { marker = ""; }; } );
EOF
export MESHD_CONFIG="$W/meshd.conf"
C="$B/meshctl"
ms() { echo $(( ($2 - $1) / 1000000 )); }
now() { date +%s%N; }
q() { sqlite3 "$W/state/state.db" "$1"; }

# 2000-01-01T00 + 99,999 hours = 2011-05-29T15
FROM=2000-01-01T00 TO=2011-05-29T15
t0=$(now); "$C" backfill hourly --from $FROM --to $TO --dry-run >/dev/null; t1=$(now)
dry=$(ms "$t0" "$t1")
t0=$(now); "$C" backfill hourly --from $FROM --to $TO --max-active-runs "$MAXA" >/dev/null; t1=$(now)
create=$(ms "$t0" "$t1")
n=$(q "SELECT count(*) FROM backfill_partitions")
[ "$n" -eq 100000 ] || { echo "bench-backfill.sh: $n partitions, not 100000" >&2; exit 1; }
t0=$(now); "$C" backfills >/dev/null; t1=$(now)
list=$(ms "$t0" "$t1")

"$B/meshd" -c "$W/meshd.conf" >"$W/meshd.log" 2>&1 &
pid=$!
t0=$(now)
while [ "$(q "SELECT n_success + n_failed FROM backfills WHERE id = 1" 2>/dev/null || echo 0)" -lt "$RUNS" ]; do
	sleep 0.2
done
t1=$(now)
done_n=$(q "SELECT n_success + n_failed FROM backfills WHERE id = 1")
# A failing task is quick: a bench that measured failures measured nothing.
failed=$(q "SELECT n_failed FROM backfills WHERE id = 1")
[ "$failed" = 0 ] || { echo "bench-backfill.sh: $failed partitions failed ($W/meshd.log says why)" >&2; exit 1; }
rate=$(( done_n * 1000 / ($(ms "$t0" "$t1") + 1) ))

# Request latency while the backfill keeps meshd busy.  Not with every
# partition queued: the triggered run would start behind all of them
# (oldest first), after the backfill.
: >"$W/lat"
i=0
[ "$MAXA" -le 1000 ] || i=20
while [ "$i" -lt 20 ]; do
	"$C" trigger adhoc --rerun >"$W/out"
	t0=$(now)
	id=$(sed -n 's/^request \([0-9]*\):.*/\1/p' "$W/out")
	while [ "$(q "SELECT state FROM requests WHERE id = $id")" = pending ]; do :; done
	t1=$(now)
	echo $(( (t1 - t0) / 100000 )) >>"$W/lat"	# tenths of ms
	while [ "$(q "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'adhoc' AND r.state IN ('queued', 'running')")" != 0 ]; do sleep 0.01; done
	i=$((i + 1))
done
[ -s "$W/lat" ] || seq 20 | sed 's/.*/0/' >"$W/lat"
med=$(sort -n "$W/lat" | sed -n 10p)
worst=$(sort -n "$W/lat" | tail -n 1)
# The same requests by meshd's own clock: created (meshctl, before its
# commit) to done (meshd's commit), without the polling above.
q "SELECT (done_us - created_us) / 100 FROM requests WHERE kind = 'trigger'" | sort -n >"$W/lat2"
med2=$(sed -n 10p "$W/lat2"); med2=${med2:-0}
worst2=$(tail -n 1 "$W/lat2"); worst2=${worst2:-0}
"$C" backfill cancel 1 >/dev/null 2>&1 || :
kill "$pid"; wait "$pid" || :
pid=

fmt_tenths() { echo "$(( $1 / 10 )).$(( $1 % 10 ))"; }
echo "backfill of 100,000 hourly partitions (no-op task, 2 workers, max-active-runs $MAXA)"
printf '  %-44s %8s ms\n' "meshctl backfill --dry-run (100,000 listed)" "$dry"
printf '  %-44s %8s ms\n' "meshctl backfill (checked, created whole)" "$create"
printf '  %-44s %8s ms\n' "meshctl backfills (progress, 100,000 rows)" "$list"
printf '  %-44s %8s partitions/s (%s done)\n' "meshd runs them" "$rate" "$done_n"
[ "$MAXA" -gt 1000 ] && echo "  (request latency not measured: every partition is queued)" && exit 0
printf '  %-44s %8s ms median, %s ms worst of 20\n' "request to done (trigger, meshd busy)" "$(fmt_tenths "$med")" "$(fmt_tenths "$worst")"
printf '  %-44s %8s ms median, %s ms worst of 20\n' "  created_us to done_us (requests table)" "$(fmt_tenths "$med2")" "$(fmt_tenths "$worst2")"
