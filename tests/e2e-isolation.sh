#!/bin/sh
# End-to-end: per-job isolation (issue 11).  A broken job file stops only
# its own job: the real meshd starts beside it and keeps the other jobs on
# schedule; meshctl jobs lists it as broken with its first error (--json:
# all of them), status counts it, validate exits 1 naming file:line.  On
# reload a job whose file breaks keeps running its last valid version until
# the file is fixed.  Errors between jobs (a product built by two jobs, an
# input nobody builds, a cycle through products) refuse only the jobs
# involved, each told why.  A meshd whose jobs are all broken still starts
# and says so; an error in meshd.conf still stops the start and refuses a
# reload whole.
. "$(dirname "$0")/e2e-lib.sh"
conf "shutdown_grace = 1;" "kill_grace = 1;"
CLOCK="$T/clock"
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

nruns() { sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' AND r.state = 'success'"; }
runs_are() { [ "$(nruns "$1")" = "$2" ]; }
alive() { kill -0 "$MPID" 2>/dev/null; }
nreloads() { grep -c "INFO  reloaded: " "$T/meshd.log"; }
# hup: SIGHUP, and wait for the reload (or its refusal) to be logged.
hup() {
	before=$(nreloads)
	refused=$(grep -c "reload refused" "$T/meshd.log")
	kill -HUP "$MPID"
	i=0
	while [ "$i" -lt 100 ] && [ "$(nreloads)" = "$before" ] &&
	    [ "$(grep -c "reload refused" "$T/meshd.log")" = "$refused" ]; do
		sleep 0.1; i=$((i + 1))
	done
}
# job NAME CHECK_ID PRODUCT [EXTRA...]: a daily job from 2001-01-01 whose
# check task is called CHECK_ID (a new version renames it: observable).
job() {
	name=$1 chk=$2 prod=$3
	shift 3
	{
		echo "name = \"$name\"; domain = \"test\"; owner = \"t@example.org\";"
		echo 'schedule = "@daily"; start = "2001-01-01"; catchup = "all";'
		for l in "$@"; do echo "$l"; done
		echo 'tasks = ('
		echo '  { id = "extract"; plugin = "ok"; stage = "extract"; },'
		echo "  { id = \"$chk\"; plugin = \"ok\"; stage = \"check\"; after = [ \"extract\" ]; },"
		echo "  { id = \"publish\"; plugin = \"ok\"; stage = \"publish\"; after = [ \"$chk\" ]; product = \"$prod\"; }"
		echo ');'
	} >"$T/jobs/$name.conf"
}
# A job file with three errors: no owner (line 1), a bad schedule (3), a
# plugin nobody has (4).
broken_file() {
	cat >"$T/jobs/$1.conf" <<JOB
name = "$1";
domain = "test";
schedule = "@fortnightly";
tasks = ( { id = "extract"; plugin = "nosuchplugin"; stage = "extract"; } );
JOB
}
# fresh_start: meshd on the test clock, with a log of its own (what an
# earlier meshd logged must not satisfy a wait).
fresh_start() {
	: >"$T/meshd.log"
	start_meshd --clock "$CLOCK"
}
# tasks_of JOB KEY: the task ids of that run, sorted.
tasks_of() { sql "SELECT group_concat(task_id, ',') FROM (SELECT ti.task_id FROM task_instances ti JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' AND r.partition_key = '$2' ORDER BY ti.task_id)"; }

# --- isolation at start
echo "2001-01-03T12:00:00Z" >"$CLOCK"
job alpha check test.ok
job beta check test.a 'inputs = ( { product = "test.ok"; partitions = "latest"; } );'
broken_file broken
fresh_start
wait_for "meshd starts beside a broken job file" 10 logged "1 broken job refused"
wait_for "the other jobs run on schedule" 15 runs_are alpha 2
wait_for "every other job" 15 runs_are beta 2
alive && ok "meshd keeps running" || fail "meshd died"
has "$T/meshd.log" "ERROR $T/jobs/broken.conf:3: " "the broken file is logged as ERROR with file:line"
has "$T/meshd.log" "broken.conf:4: " "every error of it"
hasnt "$T/meshd.log" "refusing to start" "no refusal to start"
eq "$(sql "SELECT count(*) FROM jobs WHERE name = 'broken'")" "0" "the broken job never ran"
echo "2001-01-04T00:00:01Z" >"$CLOCK"
wait_for "the next interval runs when it ends" 15 runs_are alpha 3
waitsql "and publishes" "published" "SELECT pp.state FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = 'test.ok' AND pp.partition_key = '2001-01-03'"

run_ctl 0 "meshctl jobs lists a broken job" jobs
has "$T/out" "broken               broken: $T/jobs/broken.conf:" "it is broken, with its first error, file:line"
hasnt "$T/out" "previous version" "a file that was never valid is just broken"
grep -E '^alpha +test +@daily' "$T/out" >/dev/null && ok "the working jobs are listed as usual" || fail "alpha is not listed as usual"
has "$T/err" "1 broken job refused, the other 2 run" "stderr counts it"
run_ctl 0 "meshctl jobs --json" jobs --json
eq "$(jq -r '.jobs[] | select(.job == "broken") | [.broken, .running_previous, (.errors | length >= 3), (.errors | map(.line) | contains([3, 4]))] | map(tostring) | join(" ")' "$T/out")" "true false true true" "--json: broken, not running a previous version, every error with its line"
eq "$(jq -r '.jobs[] | select(.job == "broken") | .error' "$T/out" | grep -c "^$T/jobs/broken.conf:[0-9]*: ")" "1" "--json: the first error, file:line"
eq "$(jq -r '[.jobs[] | select(.broken | not) | .job] | join(" ")' "$T/out")" "alpha beta" "--json: the others are not broken"
run_ctl 0 "meshctl status" status
has "$T/out" "jobs:     2 running, 1 broken: broken (meshctl jobs says why)" "status counts the broken job"
run_ctl 0 "meshctl status --json" status --json
eq "$(jq -r '[.jobs, .broken, .broken_jobs[0].job] | map(tostring) | join(" ")' "$T/out")" "2 1 broken" "status --json counts it"
run_ctl 1 "validate exits 1" validate
has "$T/err" "$T/jobs/broken.conf:3: error: " "validate names file:line"
has "$T/err" "broken job, which meshd refuses while the others run: broken" "validate names the broken job"
run_ctl 0 "other verbs work: trigger" trigger beta --partition 2001-01-03 --rerun
wait_for "and meshd serves it" 15 sh -c "[ \"\$(sqlite3 '$T/state/state.db' \"SELECT r.\\\"trigger\\\" || ' ' || r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'beta' AND r.partition_key = '2001-01-03'\")\" = 'trigger success' ]"
run_ctl 0 "other verbs work: runs" runs alpha

# --- isolation on reload: alpha's file breaks, its last valid version runs
job alpha check test.ok 'catchup = "sometimes";'
hup
alive && ok "a reload with a broken running job keeps meshd up" || fail "meshd died on reload"
hasnt "$T/meshd.log" "reload refused" "the reload is not refused"
has "$T/meshd.log" "alpha.conf:" "the new error is logged"
has "$T/meshd.log" "alpha (running the previous version)" "meshd says it runs the previous version"
run_ctl 0 "jobs after the reload" jobs
has "$T/out" "alpha                broken (running the previous version): $T/jobs/alpha.conf:" "shown as broken, running the previous version"
has "$T/out" "broken               broken: " "the never-valid file stays just broken"
run_ctl 0 "jobs --json after the reload" jobs --json
eq "$(jq -r '.jobs[] | select(.job == "alpha") | [.broken, .running_previous] | map(tostring) | join(" ")' "$T/out")" "true true" "--json: running_previous"
eq "$(jq -r '.jobs[] | select(.job == "beta") | .broken' "$T/out")" "false" "beta, which reads alpha's product, is not refused for alpha's mistake"
hasnt "$T/meshd.log" "job 'beta'" "nor blamed in the log"
run_ctl 0 "status after the reload" status
has "$T/out" "alpha (running the previous version)" "status says so"
echo "2001-01-05T00:00:01Z" >"$CLOCK"
wait_for "the previous version keeps its schedule" 15 runs_are alpha 4
eq "$(tasks_of alpha 2001-01-04)" "check,extract,publish" "and it is the previous version that runs"
wait_for "beta keeps running too" 15 runs_are beta 4

# fixed, and a new version: the check task is now 'verify'
job alpha verify test.ok
hup
run_ctl 0 "jobs after the fix" jobs --json
eq "$(jq -r '.jobs[] | select(.job == "alpha") | .broken' "$T/out")" "false" "fixed: no longer broken"
echo "2001-01-06T00:00:01Z" >"$CLOCK"
wait_for "the fixed job runs" 15 runs_are alpha 5
eq "$(tasks_of alpha 2001-01-05)" "extract,publish,verify" "it is the new version that runs"
stop_meshd
eq "$STOPRC" "0" "meshd stops cleanly"

# --- errors between jobs refuse only the jobs involved
rm -f "$T/jobs/"*.conf
job uni check test.ok
job twin1 check test.c
job twin2 check test.c
job cyca check test.a 'inputs = ( { product = "test.b"; partitions = "latest"; } );'
job cycb check test.b 'inputs = ( { product = "test.a"; partitions = "latest"; } );'
cat >"$T/jobs/orphan.conf" <<'JOB'
name = "orphan"; domain = "test"; owner = "t@example.org";
schedule = "@daily"; start = "2001-01-01";
inputs = ( { product = "test.nobody"; } );
tasks = ( { id = "extract"; plugin = "ok"; stage = "extract"; } );
JOB
run_ctl 1 "validate: errors between jobs" validate --json
eq "$(jq -r '.broken | join(" ")' "$T/out")" "cyca cycb orphan twin1 twin2" "validate names the jobs involved, and only them"
run_ctl 1 "validate (text)" validate
has "$T/err" "twin1.conf:6: error: job 'twin1' task 'publish': product 'test.c' is also built by job 'twin2'" "a product built by two jobs: the first is refused, naming the second"
has "$T/err" "twin2.conf:6: error: job 'twin2' task 'publish': product 'test.c' is also built by job 'twin1'" "and the second, naming the first"
has "$T/err" "orphan.conf:3: error: job 'orphan': input 'test.nobody': no job builds this product" "an input nobody builds: the reader, naming job and product"
has "$T/err" "cyca.conf:3: error: job 'cyca': input 'test.b' makes a cycle between jobs through their products: cyca -> cycb -> cyca" "a cycle: cyca is told the cycle"
has "$T/err" "cycb.conf:3: error: job 'cycb': input 'test.a' makes a cycle between jobs through their products: cyca -> cycb -> cyca" "and so is cycb"
hasnt "$T/err" "uni" "the unrelated job is not blamed"
echo "2001-01-02T12:00:00Z" >"$CLOCK"
fresh_start
wait_for "meshd starts" 10 logged "5 broken jobs refused"
wait_for "the unrelated job runs" 15 runs_are uni 1
has "$T/meshd.log" "cyca -> cycb -> cyca" "meshd logs the cycle"
has "$T/meshd.log" "also built by job 'twin2'" "and the shared product"
run_ctl 0 "jobs with errors between jobs" jobs --json
eq "$(jq -r '[.jobs[] | select(.broken) | .job] | join(" ")' "$T/out")" "cyca cycb orphan twin1 twin2" "jobs lists exactly the jobs involved as broken"
eq "$(jq -r '.jobs[] | select(.job == "orphan") | .error' "$T/out")" "$T/jobs/orphan.conf:3: job 'orphan': input 'test.nobody': no job builds this product" "each with its error"
eq "$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name IN ('twin1', 'twin2', 'cyca', 'cycb', 'orphan')")" "0" "no refused job ran"
# A new job on reload may not take a running job's product from it: both
# are refused, and the running one keeps its previous version.
job thief check test.ok
hup
has "$T/meshd.log" "uni (running the previous version)" "the running producer keeps running its previous version"
run_ctl 0 "jobs after a product is claimed twice" jobs --json
eq "$(jq -r '.jobs[] | select(.job == "thief") | [.broken, .running_previous] | map(tostring) | join(" ")' "$T/out")" "true false" "the newcomer is refused"
echo "2001-01-03T00:00:01Z" >"$CLOCK"
wait_for "and the running producer keeps its schedule" 15 runs_are uni 2
eq "$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'thief'")" "0" "the newcomer never ran"
stop_meshd

# --- all jobs broken: meshd still starts, and says so
rm -f "$T/jobs/"*.conf
broken_file b1
broken_file b2
fresh_start
wait_for "meshd with only broken jobs starts" 10 logged "every job is broken"
alive && ok "and keeps running" || fail "meshd with only broken jobs died"
run_ctl 0 "status with every job broken" status
has "$T/out" "jobs:     0 running, 2 broken: b1, b2" "status counts them"
has "$T/out" "every job is broken" "and says every job is"
# fixing one file brings it in
job b1 check test.ok
hup
wait_for "a fixed job then runs" 15 runs_are b1 2
stop_meshd

# --- meshd.conf errors stay fatal at start, and refuse a reload whole
cp "$T/meshd.conf" "$T/meshd.conf.good"
echo 'workers = "many";' >>"$T/meshd.conf"
"$MESHD" -c "$T/meshd.conf" --clock "$CLOCK" >"$T/bad.log" 2>&1
rc=$?
[ "$rc" -ne 0 ] && ok "an error in meshd.conf stops the start (exit $rc)" || fail "meshd started with a broken meshd.conf"
has "$T/bad.log" "meshd.conf:" "naming meshd.conf:line"
has "$T/bad.log" "refusing to start" "and refusing to start"
cp "$T/meshd.conf.good" "$T/meshd.conf"
fresh_start
wait_for "meshd starts again" 10 logged "1 broken job refused"
echo 'workers = "many";' >>"$T/meshd.conf"
hup
has "$T/meshd.log" "reload refused: " "a meshd.conf error refuses the reload whole"
sed 's|^jobs_dir = "jobs";|jobs_dir = "nojobs";|' "$T/meshd.conf.good" >"$T/meshd.conf"
hup
has "$T/meshd.log" "cannot read jobs directory (jobs_dir in $T/meshd.conf)" "a jobs_dir that cannot be read is the platform's error"
eq "$(grep -c "reload refused: " "$T/meshd.log")" "2" "and refuses the reload whole"
echo "2001-01-04T00:00:01Z" >"$CLOCK"
wait_for "the old config and jobs keep running" 15 runs_are b1 3
alive && ok "meshd is still up" || fail "meshd died"
stop_meshd
"$MESHD" -c "$T/meshd.conf" --clock "$CLOCK" >"$T/bad.log" 2>&1
rc=$?
[ "$rc" -ne 0 ] && ok "a jobs_dir that cannot be read stops the start (exit $rc)" || fail "meshd started without its jobs directory"
has "$T/bad.log" "refusing to start: fix jobs_dir in $T/meshd.conf" "and says so"

# --- a previous version that new policies refuse stops too, but a run it
# has in flight finishes (the job is retired, not freed under it)
cp "$T/meshd.conf.good" "$T/meshd.conf"
rm -f "$T/jobs/"*.conf
job slow check test.ok 'params = { sleep_ms = 1500; };'
echo "2001-01-01T12:00:00Z" >"$CLOCK"
: >"$T/meshd.log"
rm -rf "$T/state"
fresh_start
wait_for "meshd starts with a slow job" 10 logged "started: pid"
echo "2001-01-02T00:00:01Z" >"$CLOCK"
wait_for "its run is in flight" 10 logged "task=extract: attempt 1 started"
broken_file slow
hup
has "$T/meshd.log" "slow (running the previous version)" "broken on reload: the previous version runs"
echo 'policies = { plugin_domains = { test = "/nonexistent"; }; };' >>"$T/meshd.conf"
hup
has "$T/meshd.log" "(policy plugin_domains)" "the new policy refuses the previous version too"
run_ctl 0 "jobs after the policy" jobs --json
eq "$(jq -r '.jobs[] | select(.job == "slow") | [.broken, .running_previous] | map(tostring) | join(" ")' "$T/out")" "true false" "it no longer runs"
wait_for "the run in flight still finishes" 20 runs_are slow 1
alive && ok "meshd is up" || fail "meshd died"
stop_meshd
eq "$STOPRC" "0" "and stops cleanly"

finish
