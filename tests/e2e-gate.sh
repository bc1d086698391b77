#!/bin/sh
# End-to-end: the write-audit-publish gate is the engine's, not the job
# author's.  A publish task whose `after` leaves the check out still runs
# only after every check task of its run has passed (the badcheck repro of
# issue 10: it used to publish a partition whose error check failed);
# `meshctl dag` shows the edges the gate adds; a job that publishes with
# no check task is refused alone (meshd runs the others) unless the policy
# allow_publish_without_check says otherwise; a check task that runs after
# a publish task closes a cycle through the gate and is refused, naming it.
. "$(dirname "$0")/e2e-lib.sh"
MESHD=${MESHD:-$top_builddir/meshd}
pids=""
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
conf "kill_grace = 1;"

# The repro: publish after extract only; the check fails.
cat >"$T/jobs/badgate.conf" <<'JOB'
name = "badgate";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "extract"; plugin = "badcheck"; stage = "extract"; },
  { id = "check"; plugin = "badcheck"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "badcheck"; stage = "publish"; after = [ "extract" ]; }
);
JOB
# Two checks, the publish names only the one that passes.
cat >"$T/jobs/twocheck.conf" <<'JOB'
name = "twocheck";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "good"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "bad"; plugin = "badcheck"; stage = "check"; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "good" ]; }
);
JOB
# A good job, which must keep running whatever the others do.
cat >"$T/jobs/fine.conf" <<'JOB'
name = "fine";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ]; }
);
JOB

# run_state JOB: "RUN task:state ..." of the job's latest run.
run_state() {
	sql "SELECT r.state || ' ' || (SELECT group_concat(task_id || ':' || state, ' ') FROM (SELECT task_id, state FROM task_instances WHERE run_id = r.id ORDER BY task_id)) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' ORDER BY r.id DESC LIMIT 1"
}

# --- dag shows the edges the gate adds
run_ctl 0 "dag of the repro" dag badgate
has "$T/out" "after extract, check (gate)" "text: the gate's edge is marked"
run_ctl 0 "dag as dot" dag badgate --format dot
has "$T/out" '"check" -> "publish" [style=dashed, label="gate"];' "dot: a dashed edge labelled gate"
has "$T/out" '"extract" -> "publish";' "dot: the written edge stays solid"
run_ctl 0 "dag --json" dag twocheck --json
eq "$(jq -r '[.edges[] | select(.to == "publish") | "\(.from):\(.implicit)"] | join(" ")' "$T/out")" "good:false bad:true" "json: every check before publish, the unwritten one implicit"
eq "$(jq -r '.tasks[] | select(.id == "publish") | .after | join(",")' "$T/out")" "good,bad" "json: after lists the gate's check too"
if command -v dot >/dev/null 2>&1; then
	"$MESHCTL" dag badgate --format dot | dot -Tsvg >/dev/null && ok "the dot renders" || fail "the dot does not render"
fi

# --- meshctl run: the repro publishes nothing and is quarantined
run_ctl 1 "the repro fails" run badgate
eq "$(run_state badgate)" "failed check:failed extract:success publish:upstream_failed" "publish never ran"
eq "$(sql "SELECT pp.state FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = 'test.badcheck'")" "quarantined" "the partition is quarantined"
test -e "$T/state/logs/badgate/current/publish.1.log" && fail "publish left a log: it ran" || ok "publish left no log"
run_ctl 1 "a second failing check gates a publish that does not name it" run twocheck
eq "$(run_state twocheck)" "failed bad:failed extract:success good:success publish:upstream_failed" "publish waited for every check"
eq "$(sql "SELECT count(*) FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = 'test.ok' AND pp.state = 'published'")" "0" "nothing published"

# --- a job that publishes with no check task is refused, alone
cat >"$T/jobs/pubonly.conf" <<'JOB'
name = "pubonly";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "extract" ]; }
);
JOB
PUBMSG="pubonly.conf:6: error: job 'pubonly' task 'publish': publishes with no check task in the job"
run_ctl 1 "validate refuses a publish-only job" validate
has "$T/err" "$PUBMSG" "at the publish task's line, naming job and task"
has "$T/err" "allow_publish_without_check = true" "and says how to allow it"
hasnt "$T/err" "fine.conf" "the good job is not blamed"
run_ctl 1 "meshctl run refuses it too" run pubonly
has "$T/err" "$PUBMSG" "meshctl run says why"
eq "$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'pubonly'")" "0" "nothing ran"

"$MESHD" -c "$T/meshd.conf" >"$T/meshd.log" 2>&1 &
mpid=$!
pids="$pids $mpid"
run_ctl 0 "trigger the good job" trigger fine
run_ctl 0 "trigger the publish-only job" trigger pubonly
run_ctl 0 "trigger the repro" trigger badgate --partition 2001-01-02
waitsql "meshd runs the good job" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'fine'"
waitsql "but not the publish-only job" "failed unknown job 'pubonly'" "SELECT state || ' ' || result FROM requests WHERE job = 'pubonly'"
has "$T/meshd.log" "pubonly.conf:6: job 'pubonly' task 'publish': publishes with no check task in the job" "meshd logs why"
waitsql "meshd gates the repro too" "failed check:failed extract:success publish:upstream_failed" "SELECT r.state || ' ' || (SELECT group_concat(task_id || ':' || state, ' ') FROM (SELECT task_id, state FROM task_instances WHERE run_id = r.id ORDER BY task_id)) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'badgate' AND r.partition_key = '2001-01-02'"
eq "$(sql "SELECT count(*) FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = 'test.badcheck' AND pp.state = 'published'")" "0" "no badcheck partition is published"
kill -TERM "$mpid"
wait "$mpid"

# --- the policy allows it, explicitly
conf "kill_grace = 1;" "policies = { allow_publish_without_check = true; };"
run_ctl 0 "allow_publish_without_check lets it load" validate
run_ctl 0 "and run" run pubonly
eq "$(run_state pubonly)" "success extract:success publish:success" "the publish-only job publishes"
conf "kill_grace = 1;" "policies = { allow_publish_without_check = 1; };"
run_ctl 1 "the policy must be a boolean" validate
has "$T/err" "meshd.conf:8: error: policies: 'allow_publish_without_check' must be true or false" "at its line"
conf "kill_grace = 1;"

# --- a check after a publish closes a cycle through the gate
rm -f "$T/jobs/pubonly.conf"
cat >"$T/jobs/loop.conf" <<'JOB'
name = "loop";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "extract" ]; },
  { id = "audit"; plugin = "ok"; stage = "check"; after = [ "publish" ]; }
);
JOB
run_ctl 1 "validate refuses a cycle through the gate" validate
has "$T/err" "loop.conf:6: error: cycle: publish -> audit -> publish (audit -> publish added by the gate" "the cycle is named, with the gate's edge"
run_ctl 2 "the job cannot run" run loop
has "$T/err" "unknown job 'loop'" "it is not loaded"

finish
