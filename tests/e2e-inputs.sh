#!/bin/sh
# End-to-end: data-aware scheduling across jobs.  A run waits, visibly,
# until the products it reads are published; it starts when they are, with
# no polling delay; schedule = "on_inputs" jobs get runs from publications;
# a republished input makes what was built from the old version stale, and
# by on_upstream_change it is rerun or only marked (also downstream);
# every consumed (product, partition, version) is recorded; an input nobody
# builds and a cycle between jobs are refused at load, and named.
. "$(dirname "$0")/e2e-lib.sh"
MESHD=${MESHD:-$top_builddir/meshd}
conf
job() { # job NAME SCHEDULE PRODUCT [EXTRA...]: a one-publish job
	name=$1 sched=$2 prod=$3
	shift 3
	{
		echo "name = \"$name\"; domain = \"test\"; owner = \"t@example.org\";"
		echo "schedule = \"$sched\";"
		[ "$sched" = "@daily" ] && echo 'start = "2001-01-01"; end = "2001-02-01"; catchup = "none";'
		for l in "$@"; do echo "$l"; done
		echo 'tasks = ('
		echo '  { id = "extract"; plugin = "ok"; stage = "extract"; },'
		echo "  { id = \"check\"; plugin = \"ok\"; stage = \"check\"; after = [ \"extract\" ];"
		echo "    params = { fail_if = \"$T/fail-$name-{partition}\"; }; },"
		echo "  { id = \"publish\"; plugin = \"ok\"; stage = \"publish\"; after = [ \"check\" ]; product = \"$prod\"; }"
		echo ');'
	} >"$T/jobs/$name.conf"
}
job up "@daily" test.ok
job down "@daily" test.a 'inputs = ( { product = "test.ok"; partitions = "same"; } );' 'on_upstream_change = "rerun";'
job deeper "@daily" test.b 'inputs = ( { product = "test.a"; partitions = "window 2"; } );'
job oi "on_inputs" test.c 'inputs = ( { product = "test.ok"; } );'
pstate() { sql "SELECT pp.state || ' v' || pp.version FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = '$1' AND pp.partition_key = '$2'"; }
rstate() { sql "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' AND r.partition_key = '$2'"; }

run_ctl 0 "jobs with inputs validate" validate

"$MESHD" -c "$T/meshd.conf" >"$T/meshd.log" 2>&1 &
pid=$!

# --- a run waits, visibly, for an input that is not published
run_ctl 0 "trigger down before its input exists" trigger down --partition 2001-01-03
waitsql "it waits, and says for what" "test.ok 2001-01-03 (missing)" "SELECT r.waiting_for FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'down'"
eq "$(rstate down 2001-01-03)" "queued" "it stays queued"
run_ctl 0 "runs shows the wait" runs down
has "$T/out" "waiting for test.ok 2001-01-03 (missing)" "runs says what it waits for"
run_ctl 0 "runs --json shows the wait" runs down --json
eq "$(jq -r '.runs[0].waiting_for' "$T/out")" "test.ok 2001-01-03 (missing)" "runs --json too"

# --- a quarantined input keeps it waiting
touch "$T/fail-up-2001-01-03"
run_ctl 0 "the upstream partition fails its check" trigger up --partition 2001-01-03
waitsql "the input is quarantined" "quarantined v0" "SELECT pp.state || ' v' || pp.version FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = 'test.ok' AND pp.partition_key = '2001-01-03'"
waitsql "the wait says so" "test.ok 2001-01-03 (quarantined)" "SELECT r.waiting_for FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'down'"
eq "$(rstate oi 2001-01-03)" "" "an on_inputs job gets no run from a quarantined partition"

# --- fixed and cleared: it publishes, and what waited starts at once
rm -f "$T/fail-up-2001-01-03"
run_ctl 0 "clear the quarantined partition" clear up --partition 2001-01-03 --failed-only
waitsql "down runs once its input is published" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'down' AND r.partition_key = '2001-01-03'"
eq "$(pstate test.ok 2001-01-03)" "published v1" "the input is published"
eq "$(pstate test.a 2001-01-03)" "published v1" "and down's own product"
eq "$(sql "SELECT r.waiting_for IS NULL FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'down'")" "1" "the wait is cleared"
waitsql "on_inputs: oi got a run from the publication, and ran it" "success inputs" "SELECT r.state || ' ' || r.\"trigger\" FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'oi' AND r.partition_key = '2001-01-03'"
eq "$(sql "SELECT p.name || ' ' || ri.partition_key || ' v' || ri.version FROM run_inputs ri JOIN products p ON p.id = ri.product_id JOIN runs r ON r.id = ri.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'down'")" "test.ok 2001-01-03 v1" "what down read is recorded, with its version"

# --- window: deeper reads test.a for 2001-01-02 and 2001-01-03
run_ctl 0 "trigger deeper" trigger deeper --partition 2001-01-03
waitsql "a window waits for every partition in it" "test.a 2001-01-02 (missing)" "SELECT r.waiting_for FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'deeper'"
run_ctl 0 "publish up 2001-01-02" trigger up --partition 2001-01-02
waitsql "down 2001-01-02 cannot run: nobody asked for it" "" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'down' AND r.partition_key = '2001-01-02'"
run_ctl 0 "trigger down 2001-01-02" trigger down --partition 2001-01-02
waitsql "deeper runs once its whole window is published" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'deeper' AND r.partition_key = '2001-01-03'"
eq "$(sql "SELECT group_concat(ri.partition_key, ' ') FROM (SELECT ri.partition_key FROM run_inputs ri JOIN runs r ON r.id = ri.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'deeper' ORDER BY 1) ri")" "2001-01-02 2001-01-03" "it read both partitions of the window"

# --- republished upstream: rerun (down), marked (oi), and downstream of a mark
run_ctl 0 "republish up 2001-01-03" trigger up --partition 2001-01-03 --rerun
waitsql "the input is at version 2" "published v2" "SELECT pp.state || ' v' || pp.version FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = 'test.ok' AND pp.partition_key = '2001-01-03'"
waitsql "down (on_upstream_change = rerun) reads version 2" "test.ok 2001-01-03 v2" "SELECT p.name || ' ' || ri.partition_key || ' v' || ri.version FROM run_inputs ri JOIN products p ON p.id = ri.product_id JOIN runs r ON r.id = ri.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'down' AND r.partition_key = '2001-01-03'"
waitsql "and republishes its product" "published v2" "SELECT pp.state || ' v' || pp.version FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = 'test.a' AND pp.partition_key = '2001-01-03'"
waitsql "oi (default: mark) is only marked stale" "stale v1" "SELECT pp.state || ' v' || pp.version FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = 'test.c' AND pp.partition_key = '2001-01-03'"
waitsql "deeper read test.a 2001-01-03 v1: stale when down republished it" "stale v1" "SELECT pp.state || ' v' || pp.version FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = 'test.b' AND pp.partition_key = '2001-01-03'"
has "$T/meshd.log" "job=oi" "meshd names the stale job"
has "$T/meshd.log" "stale: input test.ok 2001-01-03 was republished" "and why"

# --- lineage, from the exact record of what each run read
run_ctl 0 "lineage upstream" lineage test.b --partition 2001-01-03
has "$T/out" "test.b 2001-01-03 v1  stale; job deeper run" "the partition, its state and the run that built it"
has "$T/out" "  <- test.a 2001-01-02 v1  published; job down run" "what that run read"
has "$T/out" "  <- test.a 2001-01-03 v1  published; job down run" "each partition of its window, at the version it read"
has "$T/out" "(now v2: stale)" "a partition read at an older version says so"
has "$T/out" "    <- test.ok 2001-01-03 v2" "and on back to the sources"
run_ctl 0 "lineage downstream" lineage test.ok --partition 2001-01-03 --downstream
has "$T/out" "  -> test.a 2001-01-03 v2  published; job down" "downstream: what was built from it"
has "$T/out" "  -> test.c 2001-01-03 v1  stale; job oi" "including what is stale"
has "$T/out" "    -> test.b 2001-01-03 v1  stale" "and onwards"
run_ctl 0 "lineage --json" lineage test.b --partition 2001-01-03 --json
eq "$(jq -r '[.product, (.inputs | length), .inputs[1].inputs[0].product] | map(tostring) | join(" ")' "$T/out")" "test.b 2 test.ok" "lineage --json parses, nested"
run_ctl 0 "lineage --format dot" lineage test.b --partition 2001-01-03 --format dot
has "$T/out" '"test.a 2001-01-03" -> "test.b 2001-01-03"' "dot edges point downstream"
if command -v dot >/dev/null 2>&1; then
	dot -Tsvg "$T/out" >/dev/null && ok "lineage dot renders with Graphviz" || fail "lineage dot does not render"
else
	fail "Graphviz dot is missing (package graphviz)"
fi
run_ctl 2 "lineage of an unknown product" lineage test.nope --partition 2001-01-03
has "$T/err" "unknown product 'test.nope'" "says so"
run_ctl 2 "lineage of a partition that does not exist" lineage test.b --partition 2001-01-20
has "$T/err" "product 'test.b' has no partition '2001-01-20'" "says so"

kill "$pid"
wait "$pid"
eq "$?" "0" "meshd stops cleanly"

# --- refused at load: an input nobody builds, a cycle between jobs
job orphan "@daily" test.c 'inputs = ( { product = "test.nobody"; } );'
run_ctl 1 "an input on a product nobody builds" validate
has "$T/err" "orphan.conf:4: error: job 'orphan': input 'test.nobody': no job builds this product" "names the job, the input and the line"
rm "$T/jobs/orphan.conf"
job cyc1 "@daily" test.b 'inputs = ( { product = "test.c"; } );'
rm "$T/jobs/deeper.conf" "$T/jobs/oi.conf"
job cyc2 "@daily" test.c 'inputs = ( { product = "test.b"; } );'
run_ctl 1 "a cycle between jobs through their products" validate
has "$T/err" "makes a cycle between jobs through their products: cyc" "names the cycle"
hasnt "$T/err" "job 'down'" "the other jobs are fine"
run_ctl 1 "meshd refuses to start with a cycle" -c "$T/meshd.conf" validate
job bad "on_inputs" test.b
rm "$T/jobs/cyc1.conf" "$T/jobs/cyc2.conf"
run_ctl 1 "on_inputs without a same input" validate
has "$T/err" "schedule = \"on_inputs\" needs an input with partitions = \"same\"" "says what it needs"
finish
