#!/bin/sh
# bench-inputs.sh -- the data-mesh layer measured through the real meshctl
# and meshd (`make bench-inputs` runs it).
#
#   bench-inputs.sh BUILDDIR
#
# An upstream daily job `up` (extract -> check -> publish, no-op plugin
# bench/noop-product.so: bench/noop.c with products) publishes the product
# bench.up; a downstream job `down` (the same three tasks, publishing
# bench.down) reads it.  Each scenario has a fresh state and BENCH_N
# (default 1,000) daily partitions of up, backfilled 8 at a time on 2
# workers; down is:
#
#   up         absent: up alone;
#   plain      without inputs, backfilled beside up (8 at a time): the
#              same tasks as `same` without the inputs bookkeeping;
#   same       inputs = ({ product = "bench.up"; partitions = "same"; }),
#              backfilled 8 at a time, created before up's backfill;
#   same_all   the same, backfilled 1,000 at a time: every run is queued
#              and waits from the start;
#   on_inputs  schedule = "on_inputs": up's publications make its runs.
#
# It prints, per scenario, from the state database:
#   - partitions/s and tasks/s, from the first run started to the last
#     run ended;
#   - publication-to-start latency: for each partition, down's
#     runs.started_us minus bench.up's product_partitions.published_us
#     (p50, p99, max), and the same for the runs queued before the
#     publication only (the notification path);
#   - the OpenLineage outbox: events written, and how long after its
#     lineage_outbox.created_us each event appeared in the JSONL file
#     sink (p50, p99, max; the file's size is sampled every 0.5 ms by a
#     perl loop);
# and, once, the file sink's own rate: meshd restarted with a new lineage
# file, a new sink, which receives the whole outbox of the last scenario
# with nothing else running.  bench/README.md explains the figures.
# Environment: BENCH_DIR (default: a new directory under /var/tmp, on a
# real disk), BENCH_N, BENCH_ONLY (a subset of: up plain same same_all
# on_inputs).
set -eu
B=$(cd "${1:-.}" && pwd)
N=${BENCH_N:-1000}
ONLY=${BENCH_ONLY:-"up plain same same_all on_inputs"}
[ -f "$B/bench/.libs/noop-product.so" ] || { echo "bench-inputs.sh: $B/bench/.libs/noop-product.so: not built (make bench/noop-product.la builds it)" >&2; exit 2; }
for t in sqlite3 perl jq; do
	command -v $t >/dev/null 2>&1 || { echo "bench-inputs.sh: $t is needed" >&2; exit 2; }
done
pid= spid=
if [ -n "${BENCH_DIR:-}" ]; then
	mkdir -p "$BENCH_DIR"; W=$(cd "$BENCH_DIR" && pwd)
	trap 'stop_all' EXIT
else
	W=$(mktemp -d /var/tmp/meshd-bench-inputs.XXXXXX)
	trap 'stop_all; rm -rf "$W"' EXIT
fi
stop_all() {
	[ -z "$spid" ] || kill "$spid" 2>/dev/null || :
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || :
}
C="$B/meshctl"
FROM=2000-01-01
TO=$(date -u -d "$FROM + $((N - 1)) days" +%Y-%m-%d)
now() { date +%s%N; }

# setup DIR MODE [LINEAGE_FILE]: a state directory for one scenario.
setup() {
	mkdir -p "$1/jobs"
	cat >"$1/meshd.conf" <<EOF
state_db    = "state/state.db";
jobs_dir    = "jobs";
plugin_path = [ "$B/bench/.libs" ];
log_dir     = "state/logs";
staging_dir = "state/staging";
workers     = 2;
lineage     = { sink = "file"; path = "${3:-state/lineage.jsonl}"; };
# The no-op check stage records no check result.
empty_check = "pass";
EOF
	# Intervals long past, and catchup = "none": the backfill is all.
	tasks() {
		echo 'tasks = ('
		echo '  { id = "extract"; plugin = "noop-product"; stage = "extract"; params = { marker = ""; }; },'
		echo '  { id = "check"; plugin = "noop-product"; stage = "check"; after = [ "extract" ]; params = { marker = ""; }; },'
		echo "  { id = \"publish\"; plugin = \"noop-product\"; stage = \"publish\"; after = [ \"check\" ]; product = \"$1\"; params = { marker = \"\"; }; }"
		echo ');'
	}
	daily='schedule = "@daily"; start = "2000-01-01"; end = "2010-01-01"; catchup = "none";'
	{
		echo 'name = "up"; domain = "bench"; owner = "bench@example.org";'
		echo "$daily"
		tasks bench.up
	} >"$1/jobs/up.conf"
	case $2 in
	up)	return 0 ;;
	plain)	sched=$daily inputs= ;;
	same|same_all)
		sched=$daily
		inputs='inputs = ( { product = "bench.up"; partitions = "same"; } );' ;;
	on_inputs)
		sched='schedule = "on_inputs";'
		inputs='inputs = ( { product = "bench.up"; partitions = "same"; } );' ;;
	esac
	{
		echo 'name = "down"; domain = "bench"; owner = "bench@example.org";'
		echo "$sched"
		echo "$inputs"
		tasks bench.down
	} >"$1/jobs/down.conf"
}

q() { sqlite3 "$S/state/state.db" "$1"; }

# Percentiles of the numbers (µs) on stdin, as "p50 p99 max" in ms.
pcts() {
	sort -n | awk '{ v[NR] = $1 }
	    END {
		if (NR == 0) { print "- - -"; exit }
		i50 = int((NR - 1) * 0.50) + 1; i99 = int((NR - 1) * 0.99) + 1
		printf "%.2f %.2f %.2f\n", v[i50] / 1000, v[i99] / 1000, v[NR] / 1000
	    }'
}

# sampler FILE OUT: "µs size" whenever FILE's size changes, every 0.5 ms.
sampler() {
	perl -MTime::HiRes=time,usleep -e '
	    my ($f, $o) = @ARGV; my $last = -1;
	    open(my $fh, ">", $o) or die; select($fh); $| = 1;
	    for (;;) {
		my $s = -s $f; $s = 0 unless defined $s;
		if ($s != $last) { printf "%.0f %d\n", time * 1e6, $s; $last = $s; }
		usleep(500);
	    }' "$1" "$2" &
	spid=$!
}

# appeared JSONL SAMPLES: for each event in the file, "seq appeared_us".
appeared() {
	LC_ALL=C awk '{ o += length($0) + 1; print o }' "$1" >"$S/offsets"
	jq -r '.run.facets.meshd.seq' "$1" >"$S/seqs"
	paste -d ' ' "$S/seqs" "$S/offsets" | awk -v samples="$2" '
	    BEGIN { ok = (getline l < samples) > 0; split(l, s, " ") }
	    { while (ok && s[2] < $2) { ok = (getline l < samples) > 0; split(l, s, " ") }
	      if (ok) print $1, s[1] }'
}

wait_done() { # wait_done WANT: until WANT runs ended, or no progress for 120 s
	prev=-1 still=0
	while :; do
		n=$(q "SELECT count(*) FROM runs WHERE state IN ('success', 'failed', 'cancelled')" 2>/dev/null || echo 0)
		[ "$n" -ge "$1" ] && break
		if [ "$n" = "$prev" ]; then
			still=$((still + 1))
			if [ "$still" -ge 600 ]; then
				echo "bench-inputs.sh: stuck at $n of $1 runs ended for 120 s ($S)" >&2
				q "SELECT j.name, r.partition_key, r.state, r.waiting_for FROM runs r JOIN jobs j ON j.id = r.job_id WHERE r.state IN ('queued', 'running') LIMIT 5" >&2
				exit 1
			fi
		else
			still=0 prev=$n
		fi
		sleep 0.2
	done
}

wait_acked() { # wait_acked FILE: until its sink acknowledged the whole outbox
	while [ "$(q "SELECT (SELECT coalesce(max(seq), 0) FROM lineage_outbox) - coalesce((SELECT acked_seq FROM lineage_sinks WHERE name = 'file:$1'), 0)" 2>/dev/null || echo 1)" != 0 ]; do
		sleep 0.05
	done
}

# run_meshd: meshd on $S until $1 runs have ended and the lineage file
# $2 has every event, the file's size sampled meanwhile into $3.
run_meshd() {
	sampler "$2" "$3"
	"$B/meshd" -c "$S/meshd.conf" >>"$S/meshd.log" 2>&1 &
	pid=$!
	wait_done "$1"
	wait_acked "$2"
	kill "$pid"; wait "$pid" || :
	pid=
	kill "$spid"; wait "$spid" 2>/dev/null || :
	spid=
}

# Publication of bench.up to the start of down's run, per partition, in
# µs; with "waited", only the runs that were queued before it.
lat_sql() {
	q "SELECT r.started_us - pp.published_us FROM runs r
	    JOIN jobs j ON j.id = r.job_id AND j.name = 'down'
	    JOIN products p ON p.name = 'bench.up'
	    JOIN product_partitions pp ON pp.product_id = p.id AND
		pp.partition_key = r.partition_key
	    ${1:+WHERE r.created_us < pp.published_us}"
}

row() { printf '%-10s %6s %6s | %7s %7s | %8s %8s %8s | %5s %8s %8s %8s\n' "$@"; }
lrow() { printf '%-10s %7s %8s | %8s %8s %8s\n' "$@"; }
row "" "" "" "" "" "pub->" "pub->" "pub->" "" "queued" "queued" "queued"
row "" "" "" "" "" "start" "start" "start" "" "pub->" "pub->" "pub->"
row scenario parts tasks parts/s tasks/s "p50 ms" "p99 ms" "max ms" n "p50 ms" "p99 ms" "max ms"
: >"$W/raw" 
: >"$W/lineage"
for mode in $ONLY; do
	S="$W/$mode"
	rm -rf "$S"
	setup "$S" "$mode"
	export MESHD_CONFIG="$S/meshd.conf"
	want=$((2 * N))
	case $mode in
	up)	want=$N ;;
	plain|same)
		# down's runs first, so that they are queued before up's.
		"$C" backfill down --from $FROM --to "$TO" \
		    --max-active-runs 8 >/dev/null ;;
	same_all)
		"$C" backfill down --from $FROM --to "$TO" \
		    --max-active-runs "$N" >/dev/null ;;
	esac
	"$C" backfill up --from $FROM --to "$TO" --max-active-runs 8 >/dev/null
	run_meshd "$want" "$S/state/lineage.jsonl" "$S/samples"

	bad=$(q "SELECT count(*) FROM runs WHERE state <> 'success'")
	[ "$bad" = 0 ] || { echo "bench-inputs.sh: $mode: $bad runs did not succeed ($S)" >&2; exit 1; }
	span=$(q "SELECT max(ended_us) - min(started_us) FROM runs")
	ntasks=$(q "SELECT count(*) FROM attempts")
	[ "$ntasks" = $((3 * want)) ] || { echo "bench-inputs.sh: $mode: $ntasks attempts, not $((3 * want))" >&2; exit 1; }
	pps=$(awk -v n="$N" -v s="$span" 'BEGIN { printf "%.0f", n * 1e6 / s }')
	tps=$(awk -v n="$ntasks" -v s="$span" 'BEGIN { printf "%.0f", n * 1e6 / s }')
	lat="- - -" wlat="- - -" nw=-
	case $mode in
	same|same_all|on_inputs)
		[ "$(lat_sql | awk '$1 < 0' | wc -l)" = 0 ] || { echo "bench-inputs.sh: $mode: a run of down started before its input was published" >&2; exit 1; }
		lat=$(lat_sql | pcts)
		nw=$(lat_sql waited | wc -l)
		[ "$nw" = 0 ] || wlat=$(lat_sql waited | pcts) ;;
	esac
	set -- $lat $wlat
	row "$mode" "$N" "$ntasks" "$pps" "$tps" "$1" "$2" "$3" "$nw" "$4" "$5" "$6"
	echo "$mode n=$N tasks=$ntasks span_us=$span pub_start_ms=$1/$2/$3 queued_pub_start_n=$nw queued_pub_start_ms=$4/$5/$6" >>"$W/raw"

	# Lineage: every event in the file, and when it got there.
	nev=$(q "SELECT count(*) FROM lineage_outbox")
	nfile=$(wc -l <"$S/state/lineage.jsonl")
	[ "$nev" = "$nfile" ] || { echo "bench-inputs.sh: $mode: $nev events in the outbox, $nfile in the file" >&2; exit 1; }
	appeared "$S/state/lineage.jsonl" "$S/samples" >"$S/appeared"
	q "SELECT seq, created_us FROM lineage_outbox" >"$S/created"
	set -- $(awk -F '[ |]' 'NR == FNR { c[$1] = $2; next }
	    ($1 in c) { print $2 - c[$1] }' "$S/created" "$S/appeared" | pcts)
	lrow "$mode" "$nev" "$(awk -v n="$nev" -v s="$span" 'BEGIN { printf "%.0f", n * 1e6 / s }')" "$1" "$2" "$3" >>"$W/lineage"
	echo "$mode events=$nev enqueue_file_ms=$1/$2/$3" >>"$W/raw"
	last=$mode
done

# The sink's own rate: a new lineage file is a new sink, which receives
# the whole outbox of the last scenario, with nothing else running.
S="$W/$last"
setup "$S" "$last" state/drain.jsonl
nruns=$(q "SELECT count(*) FROM runs")
t0=$(now)
run_meshd "$nruns" "$S/state/drain.jsonl" "$S/drain-samples"
t1=$(now)
nev=$(wc -l <"$S/state/drain.jsonl")
[ "$nev" = "$(q "SELECT count(*) FROM lineage_outbox")" ] || { echo "bench-inputs.sh: drain: $nev events in the file" >&2; exit 1; }
[ "$nruns" = "$(q "SELECT count(*) FROM runs")" ] || { echo "bench-inputs.sh: drain: meshd made runs" >&2; exit 1; }
dspan=$(awk 'NR == 2 { f = $1 } { l = $1 } END { print l - f }' "$S/drain-samples")
drate=$(awk -v n="$nev" -v s="$dspan" 'BEGIN { printf "%.0f", (s > 0) ? n * 1e6 / s : 0 }')
echo "drain events=$nev first_to_last_us=$dspan meshd_start_to_acked_us=$(( (t1 - t0) / 1000 ))" >>"$W/raw"

echo
echo "OpenLineage events, lineage_outbox.created_us (enqueued) to the event in the JSONL file"
lrow scenario events "events/s" "p50 ms" "p99 ms" "max ms"
cat "$W/lineage"
echo "file sink on a backlog ($last's outbox, to a new file): $nev events in $(awk -v s="$dspan" 'BEGIN { printf "%.2f", s / 1e6 }') s, $drate events/s"
echo
echo "raw:"
sed 's/^/  /' "$W/raw"
