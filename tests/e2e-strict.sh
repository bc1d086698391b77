#!/bin/sh
# End-to-end: a job file says what it means or is refused.  A misspelt key
# (`afer`, `param`, `retires`) used to be a warning, so the job ran another
# way than its author wrote: now it is an error at file:line that names the
# key meant, in validate, in `meshctl run` and in meshd.conf.  A products
# entry naming a product none of the job's plugins declares (which left the
# real product at its default location) and a publish task whose plugin
# declares no product are refused too, and meshd runs the other jobs.
. "$(dirname "$0")/e2e-lib.sh"
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
conf "kill_grace = 1;"

good() {
	cat >"$T/jobs/good.conf" <<'JOB'
name = "good";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ]; }
);
JOB
}
good

# --- misspelt keys, one per part of a job file
cat >"$T/jobs/typos.conf" <<'JOB'
name = "typos";
domain = "test";
owner = "tests@example.org";
param = { rows = 3; };
schedul = "@daily";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; retires = 2; },
  { id = "check"; plugin = "ok"; stage = "check"; afer = [ "extract" ]; }
);
inputs = ( { product = "test.ok"; partitons = "latest"; } );
JOB
run_ctl 1 "validate refuses misspelt keys" validate
has "$T/err" "$T/jobs/typos.conf:4: error: unknown key 'param'; did you mean 'params'?" "param: error at its line, suggests params"
has "$T/err" "$T/jobs/typos.conf:5: error: unknown key 'schedul'; did you mean 'schedule'?" "schedul: suggests schedule"
has "$T/err" "$T/jobs/typos.conf:7: error: unknown key 'retires' in task 'extract'; did you mean 'retries'?" "a swap of two letters is found"
has "$T/err" "$T/jobs/typos.conf:8: error: unknown key 'afer' in task 'check'; did you mean 'after'?" "afer: suggests after"
has "$T/err" "$T/jobs/typos.conf:10: error: unknown key 'partitons' in input; did you mean 'partitions'?" "input keys too"
hasnt "$T/err" "good.conf" "the good job has no complaint"
run_ctl 2 "a job with a misspelt key cannot be run" run typos --partition 2024-01-01
has "$T/err" "did you mean 'after'?" "run says why"
test -e "$T/state/state.db" && fail "a refused run created state" || ok "a refused run leaves no state"
rm "$T/jobs/typos.conf"

# --- meshd.conf: the daemon does not start on a misspelt key
conf "kill_grace = 1;" "worker_max_task = 10;"
run_ctl 1 "validate refuses a misspelt meshd.conf key" validate
has "$T/err" "meshd.conf:8: error: unknown key 'worker_max_task'; did you mean 'worker_max_tasks'?" "meshd.conf key error names the key meant"
"$MESHD" -c "$T/meshd.conf" --foreground >"$T/meshd.out" 2>&1 &
mp=$!
pids="$pids $mp"
i=0
while kill -0 "$mp" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$mp" 2>/dev/null; then
	fail "meshd started on a misspelt meshd.conf key"
else
	wait "$mp"
	rc=$?
	[ "$rc" -ne 0 ] && ok "meshd refuses to start on it (exit $rc)" || fail "meshd exited 0"
fi
has "$T/meshd.out" "unknown key 'worker_max_task'; did you mean 'worker_max_tasks'?" "meshd says which key"
conf "kill_grace = 1;"

# --- products entries must name a product of the job's plugins
cat >"$T/jobs/moved.conf" <<'JOB'
name = "moved";
domain = "test";
owner = "tests@example.org";
products = ( { name = "test.okk"; location = "/nonexistent/elsewhere"; } );
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ]; product = "test.ok"; }
);
JOB
# A publish task whose plugin declares no product.
cat >"$T/jobs/noproduct.conf" <<'JOB'
name = "noproduct";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "extract"; plugin = "paramecho"; stage = "extract"; },
  { id = "check"; plugin = "paramecho"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "paramecho"; stage = "publish"; after = [ "check" ]; }
);
JOB
rm "$T/jobs/good.conf"
run_ctl 1 "validate refuses a products entry no plugin declares" validate
has "$T/err" "$T/jobs/moved.conf:4: error: job 'moved': products: 'test.okk' is not a product of the job's plugins (they declare: test.ok" "the entry is refused at its line, with the products declared"
has "$T/err" "did you mean 'test.ok'?" "and the product meant"
has "$T/err" "$T/jobs/noproduct.conf:7: error: job 'noproduct' task 'publish': publishes, but plugin 'paramecho'" "a publish task whose plugin declares no product is refused at its line"
run_ctl 1 "meshctl run refuses the moved job" run moved --partition 2024-01-01
has "$T/err" "is not a product of the job's plugins" "run says why"
good
# A misspelt key refuses its job alone too: meshd runs the others.
cat >"$T/jobs/typo.conf" <<'JOB'
name = "typo";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; afer = [ "extract" ]; }
);
JOB
# meshd runs the good job and refuses the three, alone.
start_meshd
wait_for "meshd is up" 10 test -S "$T/state/state.db.wake" -o -p "$T/state/state.db.wake"
run_ctl 0 "trigger the good job" trigger good --partition 2024-01-01
wait_for "the good job publishes beside the refused ones" 20 sh -c "[ \"\$(sqlite3 '$T/state/state.db' \"SELECT state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'good'\")\" = success ]"
wait_for "meshd logs the refused products entry" 5 logged "products: 'test.okk' is not a product of the job's plugins"
wait_for "meshd logs the misspelt key with the key meant" 5 logged "typo.conf:6: unknown key 'afer' in task 'check'; did you mean 'after'?"
run_ctl 0 "meshctl jobs" jobs
has "$T/out" "typo" "the misspelt job is listed"
has "$T/out" "did you mean 'after'?" "with its error"
test -e /nonexistent/elsewhere && fail "the misspelt location was written" || ok "nothing was written to the misspelt entry's location"
stop_meshd
eq "$STOPRC" 0 "meshd stops cleanly"
finish
