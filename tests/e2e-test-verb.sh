#!/bin/sh
# End-to-end: `meshctl test` tries a job's stages beside a running meshd
# without touching production, and attempt logs say why they ended
# (issue 11, items 5 and 6).
#
# Logs: on the demo domains and test plugins run for real (meshctl run),
# the log of a quarantined day ends with the failed checks, a crashed
# attempt's with the signal, a timed-out one's with the timeout, a failing
# plugin's with its error message; --tail still gives the last lines.
#
# Test verb: while meshd runs on the same state, `meshctl test` of the
# demo flights job, of a careless plugin that writes its output location
# in every stage, of a crashing plugin and with param overrides leaves the
# state database byte-identical (sqlite3 .dump) and the warehouse and the
# products' locations as they were; a failed check gives exit 1 and the
# check table; a crash gives exit 1 with its reason and meshd is unhurt;
# a publish task, or a task after one, is refused; the scratch directory
# is removed unless --keep.
. "$(dirname "$0")/e2e-lib.sh"
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

data="$top_srcdir/contrib/data"
cp "$top_srcdir"/jobs/*.conf "$T/jobs/"
ln -s "$top_srcdir/contrib" "$T/contrib"	# ${jobdir}/../contrib/data
mkdir -p "$T/dest" "$T/tmp"
cat >"$T/meshd.conf" <<CONF
state_db = "state/state.db";
jobs_dir = "jobs";
plugin_path = [ "$top_builddir/plugins/.libs", "$TP" ];
log_dir = "state/logs";
staging_dir = "state/staging";
workers = 2;
kill_grace = 1;
CONF
job() {
	name=$1; shift
	{
		echo "name = \"$name\"; domain = \"test\"; owner = \"tests@example.org\";"
		for l in "$@"; do echo "$l"; done
	} >"$T/jobs/$name.conf"
}
job crash 'tasks = ( { id = "extract"; plugin = "segv"; stage = "extract"; } );'
job slow 'tasks = ( { id = "extract"; plugin = "hang"; stage = "extract"; timeout = 1; } );'
job failer 'tasks = ( { id = "extract"; plugin = "fails"; stage = "extract"; } );'
job echo 'params = { label = "from the file"; n = 3; };' \
    'tasks = ( { id = "extract"; plugin = "paramecho"; stage = "extract"; } );'
# A careless tenant: every stage writes the product's location, and a
# task runs after the publish.
job careless "products = ( { name = \"test.outwrite\"; location = \"$T/dest/out.txt\"; } );" \
    'tasks = (' \
    '  { id = "extract"; plugin = "outwrite"; stage = "extract"; },' \
    '  { id = "check"; plugin = "outwrite"; stage = "check"; after = [ "extract" ]; },' \
    '  { id = "publish"; plugin = "outwrite"; stage = "publish"; after = [ "check" ]; },' \
    '  { id = "again"; plugin = "paramecho"; stage = "extract"; after = [ "publish" ]; }' \
    ');'
run_ctl 0 "every job validates" validate

# --- item 6: attempt logs say why (real runs, no daemon yet)
run_ctl 0 "airports publishes" run airports
run_ctl 0 "a clean flights day publishes" run flights_daily --partition 2001-01-05
bound=$(sed -n 's/.*max_delay_minutes *= *\([0-9]*\).*/\1/p' "$T/jobs/flights_daily.conf" | head -n 1)
day=$(jq -r 'max_by(.delay) | .date[0:10] | gsub("/"; "-")' "$data/flights-20k.json")
max=$(jq "[.[] | select(.date | startswith(\"$(echo "$day" | tr - /)\")) | .delay] | max" "$data/flights-20k.json")
run_ctl 1 "a day beyond the delay bound is quarantined" run flights_daily --partition "$day"
run_ctl 0 "the quarantined day's check log" logs flights_daily "$day" check --no-pager
has "$T/out" "---- meshd: outcome ----" "the check log has the outcome marker"
has "$T/out" "meshd: attempt 1 failed: quality check failed: max_delay (observed $max, expected <= $bound" "it says why the attempt failed"
grep -Eq "^  max_delay +error +no +$max +<= $bound" "$T/out" && ok "the failed check is in its table: level, passed, observed, expected" ||
    { fail "no failed max_delay row in the check log"; tail -n 12 "$T/out" | sed 's/^/    | /'; }
grep -Eq "^  [a-z_]+ +(error|warn) +yes " "$T/out" && ok "passing checks are listed too" || fail "no passing check row"

run_ctl 1 "a crashing plugin" run crash
run_ctl 0 "its log" logs crash current extract --no-pager
eq "$(tail -n 1 "$T/out")" "meshd: attempt 1 failed: killed by signal 11 (SIGSEGV)" "the crashed attempt's log ends with the signal"
run_ctl 0 "--tail 2 of it" logs crash current extract --tail 2 --no-pager
eq "$(cat "$T/out")" "---- meshd: outcome ----
meshd: attempt 1 failed: killed by signal 11 (SIGSEGV)" "--tail gives the trailer's lines"

run_ctl 1 "a plugin that hangs past its timeout" run slow
run_ctl 0 "its log" logs slow current extract --no-pager
eq "$(tail -n 1 "$T/out")" "meshd: attempt 1 failed: timed out after 1s" "the timed-out attempt's log says so"

run_ctl 1 "a plugin that fails with a message" run failer
run_ctl 0 "its log" logs failer current extract --no-pager
has "$T/out" "meshd: attempt 1 failed: deliberate failure: fails plugin" "the plugin's error message is in its log"

run_ctl 0 "a clean day's check log" logs flights_daily 2001-01-05 check --no-pager
has "$T/out" "meshd: attempt 1 succeeded" "a success says so too"
hasnt "$T/out" " no  " "and no check failed"

# --- item 5: meshctl test beside a running meshd
echo "2000-06-01T00:00:00Z" >"$T/clock"	# before every job's start: idle
start_meshd --clock "$T/clock"
wait_for "meshd is up" 10 test -S "$T/state/state.db.wake" -o -p "$T/state/state.db.wake"
sleep 1
dump() { sqlite3 "$T/state/state.db" .dump; }
sums() {
	(cd "$T" && find state/warehouse.db* dest -type f 2>/dev/null | sort | xargs -r sha256sum)
	ls -la "$T/dest" "$T/state" | grep -v ' \.\.\?$' | awk '{print $1, $NF}'
}
dump >"$T/dump.before"
sums >"$T/sums.before"
export TMPDIR="$T/tmp"

run_ctl 0 "test of an unpublished flights day passes" test flights_daily --partition 2001-01-06
has "$T/out" "==== extract (extract), attempt 1: success ====" "each stage's log has a header"
has "$T/out" "==== check (check), attempt 1: success ====" "the check stage's too"
has "$T/out" "---- meshd: outcome ----" "the logs are shown whole, trailer included"
grep -Eq "^TASK +CHECK +LEVEL +PASSED +OBSERVED +EXPECTED" "$T/out" && ok "the check table has its header" || fail "no check table"
grep -Eq "^check +max_delay +error +yes " "$T/out" && ok "the check table lists max_delay, passed" || fail "max_delay not passed in the table"
has "$T/out" "test flights_daily 2001-01-06: passed" "it says it passed"
hasnt "$T/out" "==== publish" "publish never ran"
eq "$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'flights_daily' AND r.partition_key = '2001-01-06'")" "0" "no run of that day in the real state"

run_ctl 1 "test of the quarantined day fails" test flights_daily --partition "$day"
grep -Eq "^check +max_delay +error +no +$max +<= $bound" "$T/out" && ok "the check table shows the failed check, observed and expected" ||
    fail "the failed check is not in the table"
has "$T/out" "test flights_daily $day: failed" "it says it failed"

run_ctl 0 "test --json" test flights_daily --partition 2001-01-06 --json
eq "$(jq -r '[.passed, .state, (.attempts | length), (.checks | map(select(.name == "max_delay")) | .[0].passed), (.attempts[0].log | contains("---- meshd: outcome ----"))] | map(tostring) | join(" ")' "$T/out")" \
    "true success 2 true true" "--json: passed, state, attempts with logs, checks"

run_ctl 0 "test of a plugin that writes its output location in every stage" test careless --keep
scratch=$(sed -n 's/.*scratch kept in //p' "$T/out")
test -d "$scratch" && ok "--keep keeps the scratch directory ($scratch)" || fail "--keep: no directory '$scratch'"
eq "$(cat "$scratch/out/test.outwrite" 2>/dev/null)" "extract current
check current" "the stages wrote into the scratch area, extract and check only"
test -e "$T/dest/out.txt" && fail "the real destination was written" || ok "the real destination was not written"
test -s "$scratch/state.db" && ok "the throwaway state is in the scratch directory" || fail "no scratch state"
rm -rf "$scratch"
run_ctl 2 "--task publish is refused" test careless --task publish
has "$T/err" "task 'publish' of job 'careless' is a publish task: meshctl test never publishes" "it says why"
run_ctl 2 "a task after a publish is refused" test careless --task again
has "$T/err" "task 'again' of job 'careless' runs after publish task 'publish'" "it names the publish task"
run_ctl 2 "an unknown task" test careless --task nosuch
has "$T/err" "job 'careless' has no task 'nosuch' (tasks: extract, check, publish, again)" "it lists the tasks"
run_ctl 0 "--task check runs check and what it needs" test careless --task check
has "$T/out" "test careless: extract, check in " "the tasks chosen are named"

run_ctl 1 "test of a crashing plugin" test crash
has "$T/out" "killed by signal 11 (SIGSEGV)" "the crash's reason is shown"
kill -0 "$MPID" 2>/dev/null && ok "meshd is unhurt" || fail "meshd died"
run_ctl 0 "meshd still answers" status

run_ctl 0 "a param override reaches the plugin" test echo --param label=overridden --param n=7
has "$T/out" "label=overridden" "the plugin saw the overridden string"
run_ctl 2 "a param of the wrong type is refused" test echo --param n=seven
has "$T/err" "makes 'n' an int, and 'seven' is not one" "it says which type"
run_ctl 2 "a bad partition is refused" test flights_daily --partition 1999-01-01
run_ctl 2 "an unknown job" test nosuch

eq "$(ls -A "$T/tmp")" "" "every scratch directory without --keep is removed"
dump >"$T/dump.after"
sums >"$T/sums.after"
cmp -s "$T/dump.before" "$T/dump.after" && ok "the real state is byte-identical (sqlite3 .dump)" ||
    { fail "the real state changed"; diff "$T/dump.before" "$T/dump.after" | head -n 10 | sed 's/^/    | /'; }
cmp -s "$T/sums.before" "$T/sums.after" && ok "the warehouse and the destination are untouched" ||
    { fail "the warehouse or destination changed"; diff "$T/sums.before" "$T/sums.after" | sed 's/^/    | /'; }
test -s "$T/sums.before" && grep -q "warehouse.db" "$T/sums.before" && ok "(the warehouse was there to compare)" || fail "no warehouse to compare"

stop_meshd
eq "$STOPRC" "0" "meshd stops cleanly"
finish
