#!/bin/sh
# End-to-end: meshctl's read verbs read only the job files of the jobs
# they show (issue 14: one call must not parse every job file).  A job's
# zone still reaches its times; a name is never a path; a job file that
# would stall a full load (a FIFO nobody writes) does not stall them
# (status with meshd down, and jobs, read every file: not tested here).
. "$(dirname "$0")/e2e-lib.sh"
conf 'empty_check = "pass";'
cat >"$T/jobs/berlin.conf" <<'JOB'
name = "berlin";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
timezone = "Europe/Berlin";
start = "2001-01-01";
catchup = "none";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; }
);
JOB
cat >"$T/jobs/gone.conf" <<'JOB'
name = "gone";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
run_ctl 0 "run a Berlin partition" run berlin --partition 2001-01-05
run_ctl 0 "run the job that goes next" run gone
rm "$T/jobs/gone.conf"
# Another team's files: a broken one, one with another job's name, and a
# FIFO that a reader of every file would wait on for ever.
echo 'name = "broken"; this is not a job' >"$T/jobs/broken.conf"
cp "$T/jobs/berlin.conf" "$T/jobs/impostor.conf"
mkfifo "$T/jobs/zz.conf"

# t SECONDS DESC ARGS...: run_ctl 0 with a time limit (a hang fails).
t() {
	secs=$1; desc=$2; shift 2
	timeout "$secs" "$MESHCTL" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq 0 ]; then ok "$desc"; else
		fail "$desc: exit $rc"; sed 's/^/    err: /' "$T/err" | tail -n 5
	fi
}
t 20 "runs berlin beside a FIFO job file" runs berlin --json
jq -e '.runs[0].partition == "2001-01-05" and (.runs[0].created_local | test("CES?T$"))' "$T/out" >/dev/null &&
    ok "its times are in the job's zone" || fail "runs berlin: $(cat "$T/out")"
t 20 "tasks berlin 2001-01-05" tasks berlin 2001-01-05 --json
jq -e '[.tasks[].task] == ["extract", "check"]' "$T/out" >/dev/null &&
    ok "tasks shows the run's tasks" || fail "tasks berlin: $(cat "$T/out")"
t 20 "runs of a job whose file is gone" runs gone --json
jq -e '.runs | length == 1' "$T/out" >/dev/null && ok "its runs are still shown" ||
    fail "runs gone: $(cat "$T/out")"
t 20 "backfills beside a FIFO job file" backfills
t 20 "products beside a FIFO job file" products

# A name is a name: never a path to a file outside jobs_dir (or in it).
cp "$T/jobs/berlin.conf" "$T/berlin.conf"
run_ctl 2 "runs ../berlin" runs ../berlin
has "$T/err" "unknown job '../berlin'" "a path is an unknown job"
run_ctl 2 "runs jobs/berlin" runs jobs/berlin
run_ctl 2 "runs .hidden" runs .hidden
run_ctl 2 "runs broken (its file does not load)" runs broken
has "$T/err" "unknown job 'broken'" "a broken job that never ran is unknown"
run_ctl 2 "runs impostor (a file claiming another job's name)" runs impostor
rm -f "$T/jobs/zz.conf"

# Every read verb pays meshctl's start-up: it must not load libcurl and
# its dozens of libraries (meshd's lineage and alert delivery need them).
if ldd "$MESHCTL" | grep -q libcurl; then
	fail "meshctl does not link libcurl: it does ($(ldd "$MESHCTL" | wc -l) libraries)"
else
	ok "meshctl does not link libcurl"
fi
finish
