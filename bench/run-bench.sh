#!/bin/sh
# run-bench.sh -- the same DAGs through meshd's engine and through make -j2.
#
#   run-bench.sh BENCH_DAG PLUGIN_DIR        (`make bench-dag` runs it)
#
# BENCH_DAG is the built bench/bench-dag, PLUGIN_DIR the directory holding
# noop.so.  For each DAG the script writes a meshd job file and a Makefile
# of the same shape, runs bench-dag (engine, 2 workers, SQLite state on
# disk in WAL mode) and `make -j2`, checks that every task ran (and, for
# the -touch DAGs, left its marker), and prints one table.  See
# bench/README.md.
#
# Every task is a no-op on both sides: meshd's no-op plugin does nothing
# (marker = ""), make's recipe is `@true` on a phony target.  The -touch
# DAGs make each task create one file instead (the plugin touches a
# marker, make's recipe is `@touch $@`), for the filesystem's share.
#
# Environment: BENCH_DIR, a directory on a real disk for the work files
# (default: a new directory under /var/tmp, removed afterwards unless
# BENCH_KEEP=1); BENCH_ONLY, a space-separated subset of
# "chain fanout layered layered-full daily layered-touch daily-touch";
# MAKE_CMD (default: make).
set -eu

if [ $# -ne 2 ]; then
	echo "usage: run-bench.sh BENCH_DAG PLUGIN_DIR" >&2
	exit 2
fi
BENCH_DAG=$1
PLUGDIR=$2
MAKE_CMD=${MAKE_CMD:-make}
ONLY=${BENCH_ONLY:-chain layered layered-full daily fanout layered-touch}
[ -x "$BENCH_DAG" ] || { echo "run-bench.sh: $BENCH_DAG: not built" >&2; exit 2; }
[ -f "$PLUGDIR/noop.so" ] || { echo "run-bench.sh: $PLUGDIR/noop.so: not built" >&2; exit 2; }

if [ -n "${BENCH_DIR:-}" ]; then
	mkdir -p "$BENCH_DIR"
	W=$(cd "$BENCH_DIR" && pwd)
else
	W=$(mktemp -d /var/tmp/meshd-bench.XXXXXX)
fi
if [ "${BENCH_KEEP:-0}" != 1 ] && [ -z "${BENCH_DIR:-}" ]; then
	trap 'rm -rf "$W"' EXIT
fi
# The point is a durable state database: refuse to measure on tmpfs.
fstype=$(stat -f -c %T "$W")
case $fstype in
tmpfs|ramfs)
	echo "run-bench.sh: $W is on $fstype; set BENCH_DIR to a real disk" >&2
	exit 2;;
esac

now_ns() { date +%s%N; }

# mkjob DAG [touch]: DAG's meshd.conf, jobs/DAG.conf and Makefile under
# $W/DAG (or $W/DAG-touch, with markers).
mkjob() {
	work=${2:-noop}
	d=$W/$1
	[ "$work" = touch ] && d=$W/$1-touch
	rm -rf "$d"
	mkdir -p "$d/jobs" "$d/markers-meshd" "$d/markers-make"
	cat >"$d/meshd.conf" <<EOF
state_db    = "state/state.db";
jobs_dir    = "jobs";
plugin_path = [ "$PLUGDIR" ];
log_dir     = "state/logs";
staging_dir = "state/staging";
workers     = 2;
EOF
	# One awk program writes both forms from the same edge list.
	awk -v dag="$1" -v mdir="$d/markers-meshd" -v job="$d/jobs/$1.conf" \
	    -v mk="$d/Makefile" -v work="$work" '
	function task(id, deps, stage,   s, n, i, a) {
		n = split(deps, a, " ")
		s = "  { id = \"" id "\"; plugin = \"noop\"; stage = \"" stage "\";"
		if (n > 0) {
			s = s " after = ["
			for (i = 1; i <= n; i++)
				s = s (i > 1 ? ", " : " ") "\"" a[i] "\""
			s = s " ];"
		}
		s = s " params = { marker = \"" (work == "touch" ? id : "") \
		    "\"; }; }"
		printf "%s%s", (ntask++ > 0 ? ",\n" : ""), s > job
		# make: the target is the marker itself, or a phony name.
		if (work != "touch")
			printf ".PHONY: m/%s\n", id > mk
		printf "m/%s:", id > mk
		for (i = 1; i <= n; i++)
			printf " m/%s", a[i] > mk
		printf "\n\t@%s\n", work == "touch" ? "touch $@" : "true" > mk
		last = id
	}
	BEGIN {
		ntask = 0
		printf ".DEFAULT_GOAL := all\n" > mk
		printf "name = \"%s\"; domain = \"bench\"; " \
		    "owner = \"bench@example.org\";\n", dag > job
		printf "params = { dir = \"%s\"; };\ntasks = (\n", mdir > job
		if (dag == "chain") {
			for (i = 0; i < 1000; i++)
				task("t" i, i > 0 ? "t" (i - 1) : "", "extract")
			goal = "m/" last
		} else if (dag == "fanout") {
			task("src", "", "extract")
			deps = ""
			for (i = 0; i < 10000; i++) {
				task("f" i, "src", "extract")
				deps = deps " f" i
			}
			task("sink", deps, "extract")
			goal = "m/sink"
		} else if (dag == "layered") {
			# 200 layers of 50; task i of a layer runs after tasks
			# i and i+1 (mod 50) of the layer before.
			for (l = 0; l < 200; l++)
				for (i = 0; i < 50; i++)
					task("l" l "_" i, l == 0 ? "" : \
					    "l" (l - 1) "_" i " l" (l - 1) "_" \
					    ((i + 1) % 50), "extract")
			goal = ""
			for (i = 0; i < 50; i++)
				goal = goal " m/l199_" i
		}
		printf "all:%s\n", goal > mk
		printf "\n);\n" > job
	}'
}

# mkdaily: the daily job (3 stages, markers in each run's staging dir) and
# a Makefile with the same 3,650 x 3 targets.
mkdaily() {
	work=${1:-noop}
	d=$W/daily
	[ "$work" = touch ] && d=$W/daily-touch
	if [ "$work" = touch ]; then m1=extract m2=check m3=publish
	else m1= m2= m3=; fi
	rm -rf "$d"
	mkdir -p "$d/jobs" "$d/markers-make"
	cat >"$d/meshd.conf" <<EOF
state_db    = "state/state.db";
jobs_dir    = "jobs";
plugin_path = [ "$PLUGDIR" ];
log_dir     = "state/logs";
staging_dir = "state/staging";
workers     = 2;
EOF
	cat >"$d/jobs/daily.conf" <<EOF
name = "daily"; domain = "bench"; owner = "bench@example.org";
schedule = "@daily"; start = "2000-01-01"; max_active_runs = 64;
tasks = (
  { id = "extract"; plugin = "noop"; stage = "extract";
    params = { marker = "$m1"; }; },
  { id = "check"; plugin = "noop"; stage = "check"; after = [ "extract" ];
    params = { marker = "$m2"; }; },
  { id = "publish"; plugin = "noop"; stage = "publish"; after = [ "check" ];
    params = { marker = "$m3"; }; }
);
EOF
	# The same days as bench-dag -p: 2000-01-01 and on, in UTC.
	awk -v work="$work" 'BEGIN {
		r = work == "touch" ? "touch $@" : "true"
		printf ".DEFAULT_GOAL := all\nall:"
		for (i = 0; i < 3650; i++)
			printf " m/%d.publish", i
		printf "\n"
		for (i = 0; i < 3650; i++) {
			if (work != "touch")
				printf ".PHONY: m/%d.extract m/%d.check " \
				    "m/%d.publish\n", i, i, i
			printf "m/%d.extract:\n\t@%s\n", i, r
			printf "m/%d.check: m/%d.extract\n\t@%s\n", i, i, r
			printf "m/%d.publish: m/%d.check\n\t@%s\n", i, i, r
		}
	}' >"$d/Makefile"
}

# run_make DIR TASKS WORK: prints the microseconds make -j2 took; checks
# the markers (WORK = touch).
run_make() {
	d=$1
	rm -rf "$d/markers-make"
	mkdir -p "$d/markers-make"
	ln -sfn markers-make "$d/m"
	t0=$(now_ns)
	(cd "$d" && $MAKE_CMD -s -j2 -f Makefile) >/dev/null
	t1=$(now_ns)
	if [ "$3" = touch ]; then
		n=$(find "$d/markers-make" -type f | wc -l)
		[ "$n" -eq "$2" ] || { echo "run-bench.sh: make made $n markers, not $2" >&2; exit 1; }
	fi
	echo $(( (t1 - t0) / 1000 ))
}

# run_meshd DIR JOB EXPECTED WORK [bench-dag options]: the driver's line plus
# wall_us=, the whole process (load, fork, run, tear down).
run_meshd() {
	d=$1 job=$2 want=$3 work=$4
	shift 4
	rm -rf "$d/state"
	[ -d "$d/markers-meshd" ] && rm -rf "$d/markers-meshd" && mkdir "$d/markers-meshd"
	t0=$(now_ns)
	line=$("$BENCH_DAG" "$@" "$d/meshd.conf" "$job")
	t1=$(now_ns)
	case $line in
	*"tasks=$want "*) ;;
	*) echo "run-bench.sh: $job: expected $want tasks: $line" >&2; exit 1;;
	esac
	if [ "$work" = touch ]; then
		if [ "$job" = daily ]; then
			n=$(find "$d/state/staging" -type f | wc -l)
		else
			n=$(find "$d/markers-meshd" -type f | wc -l)
		fi
		[ "$n" -eq "$want" ] || { echo "run-bench.sh: meshd made $n markers, not $want" >&2; exit 1; }
	fi
	echo "$line wall_us=$(( (t1 - t0) / 1000 ))"
}

get() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "machine: ${cpu:-unknown CPU}, $(nproc) cores, $(uname -sr)," \
    "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "state:   $W ($fstype), WAL; sqlite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1)," \
    "$($MAKE_CMD --version | head -n 1)"
echo

rows=""
bench() {	# NAME DIR JOB TASKS WORK [bench-dag options]
	name=$1 d=$2 job=$3 want=$4 work=$5
	shift 5
	echo "running $name ($want tasks)..." >&2
	m=$(run_meshd "$d" "$job" "$want" "$work" "$@")
	# make has no synchronous setting: the -F row reuses its DAG's make
	# time from the same run rather than spending it twice.
	key=$(echo "${job}_$work" | tr -c 'a-z_\n' '_')
	eval "k=\${make_$key:-}"
	if [ -z "$k" ]; then
		k=$(run_make "$d" "$want" "$work")
		eval "make_$key=\$k"
	fi
	rows="$rows$name $want $m make_us=$k
"
}

for b in $ONLY; do
	case $b in
	chain)		mkjob chain; bench chain "$W/chain" chain 1000 noop;;
	fanout)		mkjob fanout; bench fanout "$W/fanout" fanout 10002 noop;;
	layered)	mkjob layered; bench layered "$W/layered" layered 10000 noop;;
	layered-full)	[ -d "$W/layered" ] || mkjob layered
			bench layered-full "$W/layered" layered 10000 noop -F;;
	daily)		mkdaily; bench daily "$W/daily" daily 10950 noop \
			    -p 3650 -a 64;;
	layered-touch)	mkjob layered touch
			bench layered-touch "$W/layered-touch" layered 10000 \
			    touch;;
	daily-touch)	mkdaily touch
			bench daily-touch "$W/daily-touch" daily 10950 touch \
			    -p 3650 -a 64;;
	*)		echo "run-bench.sh: unknown DAG $b" >&2; exit 2;;
	esac
done

# The table.  engine: tasks over the driver's engine time (first
# engine_add_run to last run closed); wall: the whole meshd process vs the
# whole make process; ratio = meshd wall / make wall.
printf '%s' "$rows" | awk '
function kv(k,   i, a) {
	for (i = 3; i <= NF; i++) {
		split($i, a, "=")
		if (a[1] == k)
			return a[2]
	}
	return ""
}
function ms(us) { return us < 0 ? "-" : sprintf("%.2f", us / 1000) }
BEGIN {
	printf "%-13s %6s | %8s %8s %8s | %8s %8s | %6s | %7s %7s | %7s %7s\n",
	    "DAG", "tasks", "engine", "meshd", "meshd", "make", "make",
	    "meshd/", "t->t", "t->t", "RSS", "workers"
	printf "%-13s %6s | %8s %8s %8s | %8s %8s | %6s | %7s %7s | %7s %7s\n",
	    "", "", "tasks/s", "wall s", "tasks/s", "wall s", "tasks/s",
	    "make", "p50 ms", "p99 ms", "MiB", "MiB"
}
{
	n = $2; wall = kv("wall_us") / 1e6; mk = kv("make_us") / 1e6
	printf "%-13s %6d | %8d %8.2f %8d | %8.2f %8d | %6.2f | %7s %7s | %7.1f %7.1f\n",
	    $1, n, kv("tasks_s"), wall, n / wall, mk, n / mk, wall / mk,
	    ms(kv("p50_us")), ms(kv("p99_us")), kv("rss_kb") / 1024,
	    kv("child_kb") / 1024
}'
echo
echo "raw:"
printf '%s' "$rows"
