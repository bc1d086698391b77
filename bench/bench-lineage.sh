#!/bin/sh
# bench-lineage.sh -- how soon an OpenLineage event reaches its file sink
# while meshd is busy (`make bench-lineage` runs it).
#
#   bench-lineage.sh BUILDDIR
#
# meshd (2 workers, lineage.sink = "file") runs a backfill of BENCH_RUNS
# (default 5,000) hourly partitions of a one-task job with the no-op
# plugin (bench/noop.so), BENCH_ACTIVE (default 16) at a time: two events
# per attempt (START and COMPLETE), written in meshd's group commits while
# it is as busy as it gets.  A perl loop tails the JSONL file every 0.5 ms
# and stamps each new line with the wall clock as it appears (the clock
# meshd's attempts.ended_us is taken from).  It prints, over the end
# events (COMPLETE, FAIL, ABORT):
#   - the time from the attempt's end (attempts.ended_us) to its event's
#     line in the file: p50, p99, max in ms (the target is p99 < 50 ms);
#   - the same from START events to attempts.started_us;
#   - events/s into the file, first line to last, and the attempts/s
#     meshd ran meanwhile (the cost of delivery to the scheduler shows
#     there).
# The sampler's 0.5 ms period bounds the resolution.  State goes to a new
# directory under /var/tmp (a real disk, as the fsyncs matter), removed
# afterwards unless BENCH_DIR names one to keep.
# Environment: BENCH_DIR, BENCH_RUNS, BENCH_ACTIVE.
set -eu
B=$(cd "${1:-.}" && pwd)
RUNS=${BENCH_RUNS:-5000}
ACTIVE=${BENCH_ACTIVE:-16}
[ -f "$B/bench/.libs/noop.so" ] || { echo "bench-lineage.sh: $B/bench/.libs/noop.so: not built (make bench/noop.la builds it)" >&2; exit 2; }
for t in sqlite3 perl; do
	command -v $t >/dev/null 2>&1 || { echo "bench-lineage.sh: $t is needed" >&2; exit 2; }
done
pid= spid=
stop_all() {
	[ -z "$spid" ] || kill "$spid" 2>/dev/null || :
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || :
}
if [ -n "${BENCH_DIR:-}" ]; then
	mkdir -p "$BENCH_DIR"; W=$(cd "$BENCH_DIR" && pwd)
	rm -rf "$W/state" "$W/jobs"
	trap 'stop_all' EXIT
else
	W=$(mktemp -d /var/tmp/meshd-bench-lineage.XXXXXX)
	trap 'stop_all; rm -rf "$W"' EXIT
fi
mkdir -p "$W/jobs" "$W/state"
cat >"$W/meshd.conf" <<EOF
state_db    = "state/state.db";
jobs_dir    = "jobs";
plugin_path = [ "$B/bench/.libs" ];
log_dir     = "state/logs";
staging_dir = "state/staging";
workers     = 2;
lineage     = { sink = "file"; path = "state/lineage.jsonl"; };
EOF
# The job ends with the backfill, whose intervals all ended long ago:
# catchup = "none" drops them, so the backfill is all meshd runs.
TO=$(date -u -d "2000-01-01 00:00 UTC + $((RUNS - 1)) hours" +%Y-%m-%dT%H)
END=$(date -u -d "2000-01-01 00:00 UTC + $RUNS hours" +%Y-%m-%dT%H)
cat >"$W/jobs/hourly.conf" <<EOF
name = "hourly";
domain = "bench";
owner = "bench@example.org";
schedule = "@hourly";
start = "2000-01-01T00";
end = "$END";
catchup = "none";
tasks = ( { id = "t"; plugin = "noop"; stage = "extract";
            params = { marker = ""; }; } );
EOF
export MESHD_CONFIG="$W/meshd.conf"
C="$B/meshctl"
L="$W/state/lineage.jsonl"
q() { sqlite3 "$W/state/state.db" "$1"; }

# Percentiles of the numbers (µs) on stdin, as "p50 p99 max" in ms.
pcts() {
	sort -n | awk '{ v[NR] = $1 }
	    END {
		if (NR == 0) { print "- - -"; exit }
		i50 = int((NR - 1) * 0.50) + 1; i99 = int((NR - 1) * 0.99) + 1
		printf "%.2f %.2f %.2f\n", v[i50] / 1000, v[i99] / 1000, v[NR] / 1000
	    }'
}

"$C" backfill hourly --from 2000-01-01T00 --to "$TO" \
    --max-active-runs "$ACTIVE" >/dev/null

# The tail: "attempt type appeared_us" for each complete line, as it
# appears.  The file does not exist before the first event.
perl -MTime::HiRes=time,usleep -e '
    my ($f, $o) = @ARGV; my ($fh, $buf) = (undef, "");
    open(my $out, ">", $o) or die "$o: $!"; select($out); $| = 1;
    for (;;) {
	if (!defined $fh) {
		if (open(my $h, "<", $f)) { $fh = $h } else { usleep(500); next }
	}
	my $n = sysread($fh, my $chunk, 1 << 20);
	if (!$n) { usleep(500); next }
	my $t = time;
	$buf .= $chunk;
	while ((my $i = index($buf, "\n")) >= 0) {
		my $l = substr($buf, 0, $i + 1, "");
		my ($a) = $l =~ /"meshd":\{[^{}]*"attempt":(\d+)/;
		my ($e) = $l =~ /"eventType":"(\w+)"/;
		printf "%d %s %.0f\n", $a // 0, $e // "?", $t * 1e6;
	}
    }' "$L" "$W/appeared" &
spid=$!

"$B/meshd" -c "$W/meshd.conf" >"$W/meshd.log" 2>&1 &
pid=$!
t0=$(date +%s)
while [ "$(q "SELECT n_success + n_failed FROM backfills WHERE id = 1" 2>/dev/null || echo 0)" -lt "$RUNS" ]; do
	[ $(( $(date +%s) - t0 )) -lt 600 ] || { echo "bench-lineage.sh: the backfill did not end in 600 s ($W)" >&2; exit 1; }
	kill -0 "$pid" 2>/dev/null || { echo "bench-lineage.sh: meshd died ($W/meshd.log)" >&2; exit 1; }
	[ "$(q "SELECT state FROM backfills WHERE id = 1")" != cancelled ] || { echo "bench-lineage.sh: the backfill was cancelled ($W/meshd.log says why)" >&2; exit 1; }
	sleep 0.2
done
want=$(q "SELECT count(*) FROM lineage_outbox")
t0=$(date +%s)
while [ "$(wc -l <"$W/appeared")" -lt "$want" ]; do
	[ $(( $(date +%s) - t0 )) -lt 60 ] || { echo "bench-lineage.sh: $(wc -l <"$W/appeared") of $want events in the file after 60 s ($W)" >&2; exit 1; }
	sleep 0.1
done
kill "$pid"; wait "$pid" || :
pid=
kill "$spid"; wait "$spid" 2>/dev/null || :
spid=

nfile=$(wc -l <"$L")
[ "$nfile" = "$want" ] || { echo "bench-lineage.sh: $want events in the outbox, $nfile in the file" >&2; exit 1; }
dups=$(sort "$W/appeared" | awk '{ print $1, $2 }' | uniq -d | wc -l)
[ "$dups" = 0 ] || { echo "bench-lineage.sh: $dups events twice in the file" >&2; exit 1; }
q "SELECT id, started_us, ended_us FROM attempts" | tr '|' ' ' >"$W/attempts"
lat() { # lat START|END: appeared minus the attempt's start or end, µs
	awk -v which="$1" 'NR == FNR { s[$1] = $2; e[$1] = $3; next }
	    which == "START" && $2 == "START" && ($1 in s) { print $3 - s[$1] }
	    which == "END" && $2 != "START" && ($1 in e) { print $3 - e[$1] }' \
	    "$W/attempts" "$W/appeared"
}
set -- $(lat END | pcts) $(lat START | pcts)
nend=$(lat END | wc -l)
span=$(awk 'NR == 1 { f = $3 } { l = $3 } END { print l - f }' "$W/appeared")
eps=$(awk -v n="$want" -v s="$span" 'BEGIN { printf "%.0f", (s > 0) ? n * 1e6 / s : 0 }')
aspan=$(q "SELECT max(ended_us) - min(started_us) FROM attempts")
aps=$(awk -v n="$(wc -l <"$W/attempts")" -v s="$aspan" 'BEGIN { printf "%.0f", (s > 0) ? n * 1e6 / s : 0 }')

echo "lineage file sink, meshd busy: $RUNS one-task partitions (no-op, 2 workers, max-active-runs $ACTIVE)"
printf '  %-40s p50 %8s ms  p99 %8s ms  max %8s ms  (%s events)\n' \
    "attempt end -> its event in the file" "$1" "$2" "$3" "$nend"
printf '  %-40s p50 %8s ms  p99 %8s ms  max %8s ms\n' \
    "attempt start -> its event in the file" "$4" "$5" "$6"
printf '  %-40s %s events/s (%s events)\n' "into the file, first to last" "$eps" "$want"
printf '  %-40s %s attempts/s\n' "meshd meanwhile" "$aps"
echo "raw: runs=$RUNS active=$ACTIVE events=$want end_ms=$1/$2/$3 start_ms=$4/$5/$6 events_per_s=$eps attempts_per_s=$aps"
