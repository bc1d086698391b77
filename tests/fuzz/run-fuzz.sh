#!/bin/sh
# run-fuzz.sh -- run libFuzzer targets one after the other, then print a
# table of what each did.  Used by `make fuzz` (see README.md):
#
#   run-fuzz.sh SECONDS SEED_DIR TARGET...
#
# from the build directory, where tests/fuzz/bin/fuzz-TARGET was built.
# Each target starts from its seed corpus SEED_DIR/TARGET (only read) and
# its scratch corpus tests/fuzz/work/TARGET (kept between runs, where new
# inputs go).  A crash, leak, timeout (10 s for one input) or excess memory
# (2 GB) stops that target and leaves the input that caused it in
# tests/fuzz/crashes/TARGET/, its log in tests/fuzz/log/TARGET.log.
# Exit status: 0 if no target failed, else 1.
set -u
if [ $# -lt 3 ]; then
	echo "usage: $0 SECONDS SEED_DIR TARGET..." >&2
	exit 2
fi
secs=$1
seeds=$2
shift 2
root=tests/fuzz
mkdir -p "$root/log"
summary=$root/log/summary.$$
: >"$summary"
failed=0
# Leaks count as crashes; UBSan stops at its first report (the build has
# -fno-sanitize-recover too).
# The job, config and tzif targets write each input to a file: on tmpfs
# they run six times as fast as on a disk.  A target that crashes leaves
# its files behind, so they go in a directory of this run, removed at the
# end.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	TMPDIR=/dev/shm
fi
TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/meshd-fuzz-run.XXXXXX") || exit 2
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
# Known leaks of libraries, not of meshd, are suppressed in fuzz.h.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
LSAN_OPTIONS=${LSAN_OPTIONS:-print_suppressions=0}
export LSAN_OPTIONS
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

for t in "$@"; do
	bin=$root/bin/fuzz-$t
	work=$root/work/$t
	crashes=$root/crashes/$t
	log=$root/log/$t.log
	if [ ! -x "$bin" ]; then
		echo "run-fuzz: $bin is not built (make fuzz-build)" >&2
		exit 2
	fi
	mkdir -p "$work" "$crashes"
	before=$(ls "$crashes" | wc -l)
	echo "fuzz-$t: ${secs}s ..."
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -detect_leaks=1 -print_final_stats=1 \
	    -artifact_prefix="$crashes/" "$work" "$seeds/$t" >"$log" 2>&1
	rc=$?
	after=$(ls "$crashes" | wc -l)
	# The last status line: "#N DONE cov: C ft: F corp: K/S exec/s: E".
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	execs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	[ -n "$eps" ] || eps=$(echo "$last" | sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p')
	crashed=$((after - before))
	status=ok
	if [ "$rc" -ne 0 ] || [ "$crashed" -ne 0 ]; then
		status=FAILED
		failed=1
	fi
	printf '%-12s %10s %8s %12s %7s  %s\n' "$t" "${execs:-?}" \
	    "${eps:-?}" "${corp:-?}" "$crashed" "$status" >>"$summary"
	if [ "$status" = FAILED ]; then
		echo "fuzz-$t: FAILED (exit $rc); its log, $log, ends:" >&2
		grep -v '^#[0-9]' "$log" | tail -n 40 >&2
		ls -t "$crashes" | head -n 3 | sed "s|^|  input: $crashes/|" >&2
	fi
done

echo
printf '%-12s %10s %8s %12s %7s  %s\n' target runs exec/s corpus crashes \
    status
cat "$summary"
rm -f "$summary"
exit $failed
