#!/bin/sh
# End-to-end: the read questions jobs, status, next, dag, backfills and
# alerts (read-*.c) through meshctl.  Each --json document validates
# against its own question's JSON Schema (the one the HTTP API
# publishes) on real data made by a real meshd; pages of backfills,
# alerts, jobs and next add up to the whole list with no overlap; a
# usage error is one whether or not there is a state; hostile cursors
# and limits are refused with exit 2.
. "$(dirname "$0")/e2e-lib.sh"
PY=/usr/bin/python3
SCHEMA="$top_builddir/tests/read-schema"
VALIDATE="$top_srcdir/tests/read-validate.py"
stop_meshd() { kill -TERM "$MPID" 2>/dev/null; wait "$MPID" 2>/dev/null; MPID=; }
MPID=
trap 'test -n "$MPID" && kill -9 $MPID 2>/dev/null; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

$PY -c 'import jsonschema' || { fail "$PY has no jsonschema"; finish; exit 1; }
[ -x "$SCHEMA" ] || { fail "tests/read-schema is not built"; finish; exit 1; }

cat >"$T/hook.sh" <<HOOK
#!/bin/sh
cat >/dev/null
HOOK
chmod +x "$T/hook.sh"
conf "kill_grace = 1;" "on_failure = [ \"$T/hook.sh\" ];"
cat >"$T/jobs/day.conf" <<JOB
name = "day";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
timezone = "Europe/Berlin";
start = "2001-01-01";
end = "2031-01-01";
catchup = "none";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ];
    params = { fail_if = "$T/fail-{partition}"; }; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "extract" ]; }
);
JOB
cat >"$T/jobs/adhoc.conf" <<'JOB'
name = "adhoc";
domain = "ops";
owner = "tests@example.org";
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
cat >"$T/jobs/broke.conf" <<'JOB'
name = "broke";
domain = "ops";
owner = "tests@example.org";
tasks = ( { id = "a"; plugin = "nosuchplugin"; stage = "extract"; } );
JOB

# valid Q DESC: $T/out is a document of question Q that its schema takes.
valid() {
	"$SCHEMA" "$1" >"$T/schema.json" || { fail "$2: no schema for $1"; return; }
	if $PY "$VALIDATE" "$T/schema.json" "$T/out" >"$T/verr" 2>&1; then
		ok "$2: the document validates against the schema of $1"
	else
		fail "$2: the document does not validate against the schema of $1"
		sed 's/^/    | /' "$T/verr" | head -n 20
	fi
}

# --- no state yet: usage errors first (2), then the state's (3)
run_ctl 2 "alerts --state bogus, no state" alerts --state bogus
has "$T/err" "--state: unknown alert state 'bogus'" "the usage error, not the missing state"
run_ctl 2 "backfills --limit 0, no state" backfills --limit 0
has "$T/err" "--limit: '0' is not a number from 1 to 10000" "names the option and its range"
run_ctl 2 "status --cursor of garbage, no state" status --cursor 'zz'
has "$T/err" "--cursor: 'zz' is not a cursor this question returned" "a forged cursor is a usage error"
run_ctl 2 "backfills --state bogus, no state" backfills --state bogus
run_ctl 2 "jobs --since: not a parameter of jobs" jobs --since 1h
has "$T/err" "--since is not an option of jobs" "says so in the command line's words"
run_ctl 2 "next --from garbage" next day --from yesterday
has "$T/err" "--from: 'yesterday' is not a UTC time" "names the option"
run_ctl 3 "alerts without a state" alerts
run_ctl 3 "status without a state" status
run_ctl 0 "jobs without a state: the job files are the list" jobs --json
valid jobs "jobs without a state"
eq "$(jq -r '[.jobs[] | .job + ":" + (.broken | tostring)] | join(" ")' "$T/out")" "adhoc:false broke:true day:false" "every job, broken ones too, in name order"
eq "$(jq -r '.jobs[] | select(.job == "day") | (.last_runs | length | tostring) + " " + (.paused | tostring)' "$T/out")" "0 false" "no runs yet, not paused"
run_ctl 0 "jobs (text)" jobs
has "$T/out" "broke                broken: $T/jobs/broke.conf:" "a broken job: its first error, file:line"
grep -Eq '^day +test +@daily +Europe/Berlin +[0-9-]+ 00:00:00 CES?T +no +-$' "$T/out" && ok "a valid job's row: schedule, zone, next fire in its zone" || { fail "day's row"; cat "$T/out"; }
has "$T/err" "1 broken job refused, the other 2 run" "and the count on stderr"

# --- questions of the job files alone: dag, next
run_ctl 0 "dag --json" dag day --json
valid dag "dag"
eq "$(jq -r '[.edges[] | "\(.from)>\(.to):\(.implicit)"] | join(" ")' "$T/out")" "extract>check:false extract>publish:false check>publish:true" "edges with the gate's implicit one"
run_ctl 0 "dag (text)" dag day
has "$T/out" "day (test, @daily): 3 tasks" "the header"
has "$T/out" "after extract, check (gate)" "the gate's edge says so"
run_ctl 2 "dag of a broken job" dag broke
has "$T/err" "job 'broke' is broken: $T/jobs/broke.conf:" "says why, with the first error"
run_ctl 2 "dag of no job" dag nosuch
has "$T/err" "unknown job 'nosuch'" "says so"
run_ctl 0 "next -n 4" next day --from 2024-03-29T00:00:00Z -n 4 --json
valid next "next"
cp "$T/out" "$T/next4"
eq "$(jq -r '[.fires[] | .partition + "@" + .fire_local] | join(" ")' "$T/out")" "2024-03-29@2024-03-30 00:00:00 CET 2024-03-30@2024-03-31 00:00:00 CET 2024-03-31@2024-04-01 00:00:00 CEST 2024-04-01@2024-04-02 00:00:00 CEST" "fires in the job's zone, across the change to summer time"
run_ctl 0 "next -n 2" next day --from 2024-03-29T00:00:00Z -n 2 --json
c=$(jq -r .next_cursor "$T/out")
cp "$T/out" "$T/p1"
run_ctl 0 "next, the page after" next day -n 2 --cursor "$c" --json
eq "$(jq -c '.fires' "$T/p1" "$T/out" | jq -sc 'add')" "$(jq -c .fires "$T/next4")" "next: page 1 + page 2 = the 4 fires"
run_ctl 0 "next of an unscheduled job" next adhoc --json
valid next "next of an unscheduled job"
eq "$(jq -r '"\(.scheduled) \(.fires | length) \(.next_cursor)"' "$T/out")" "false 0 null" "not scheduled, no fires"
run_ctl 0 "next -u" -u next day --from 2024-03-29T00:00:00Z -n 1 --json
eq "$(jq -r '.fires[0].fire_local' "$T/out")" "2024-03-29 23:00:00 UTC" "-u: local times in UTC"

# --- real data: three backfills with failed partitions, failure alerts
touch "$T/fail-2001-01-02" "$T/fail-2001-01-04" "$T/fail-2001-01-11"
run_ctl 0 "backfill 1" backfill day --from 2001-01-01 --to 2001-01-05 --max-active-runs 3
run_ctl 0 "backfill 2" backfill day --from 2001-01-06 --to 2001-01-08
run_ctl 0 "backfill 3" backfill day --from 2001-01-09 --to 2001-01-12
start_meshd
MPID=$!
for b in 1 2 3; do
	"$MESHCTL" backfills $b --wait --interval 0 >"$T/wait" 2>&1
	done_rc=$?
	has "$T/wait" "backfill $b: " "backfills $b --wait follows on the question (exit $done_rc)"
done
eq "$(sql "SELECT group_concat(state, ' ') FROM (SELECT state FROM backfills ORDER BY id)")" "failed success failed" "the backfills ended as set up"
wait_for "the three failure alerts are delivered" 20 sh -c "[ \"\$(sqlite3 '$T/state/state.db' \"SELECT count(*) FROM alert_outbox WHERE state = 'delivered'\")\" = 3 ]"

run_ctl 0 "backfills --json" backfills --json
valid backfills "backfills"
cp "$T/out" "$T/bf-all"
eq "$(jq -r '[.backfills[] | "\(.id):\(.state):\(.done)/\(.total):\(.failed)"] | join(" ")' "$T/out")" "3:failed:4/4:1 2:success:3/3:0 1:failed:5/5:2" "newest first, with progress"
ids=""; cur=""; pages=0
while :; do
	if [ -n "$cur" ]; then run_ctl 0 "backfills page" backfills --limit 1 --cursor "$cur" --json
	else run_ctl 0 "backfills page 1" backfills --limit 1 --json; fi
	valid backfills "a page of backfills"
	ids="$ids $(jq -r '[.backfills[].id] | join(" ")' "$T/out")"
	cur=$(jq -r '.next_cursor // empty' "$T/out")
	pages=$((pages + 1))
	[ -z "$cur" ] || [ $pages -ge 5 ] && break
done
eq "$(echo $ids)" "3 2 1" "backfills: the pages add up to the list, no overlap"
eq "$pages" "3" "and the last page says it is the last"
run_ctl 1 "backfills 1: a failed backfill" backfills 1 --json
valid backfills "backfills 1"
eq "$(jq -r '.backfills[0].failed_partitions | join(" ")' "$T/out")" "2001-01-02 2001-01-04" "its failed partitions"
run_ctl 1 "backfills 1 (text)" backfills 1
has "$T/out" "failed:     2001-01-02 2001-01-04" "lists its failed partitions"
has "$T/out" "progress:   5/5 done: 3 ok, 2 failed" "and its progress"
run_ctl 0 "backfills 2" backfills 2
run_ctl 2 "backfills 99" backfills 99
has "$T/err" "no backfill 99" "an unknown backfill"
run_ctl 2 "backfills 1 --state failed: one backfill is not filtered" backfills 1 --state failed
run_ctl 2 "backfills of no job" backfills nosuch
run_ctl 0 "backfills of day, failed" backfills day --state failed --json
eq "$(jq -r '[.backfills[].id] | join(" ")' "$T/out")" "3 1" "--state and a job together"
run_ctl 0 "backfills (table)" backfills
grep -Eq '^ *1 +day +failed +5/5 +100% ' "$T/out" && ok "backfills table: id, job, state, progress" || { fail "backfills table"; cat "$T/out"; }
run_ctl 2 "backfills --cursor of another question's shape" backfills --cursor "$(printf 3132.3334)"

run_ctl 0 "alerts --json" alerts --json
valid alerts "alerts"
cp "$T/out" "$T/al-all"
eq "$(jq -r '"\(.alerts | length) \(.counts.delivered) \(.counts.pending)"' "$T/out")" "3 3 0" "three failure alerts, delivered"
seqs=""; cur=""; pages=0
while :; do
	if [ -n "$cur" ]; then run_ctl 0 "alerts page" alerts --limit 2 --cursor "$cur" --json
	else run_ctl 0 "alerts page 1" alerts --limit 2 --json; fi
	valid alerts "a page of alerts"
	seqs="$seqs $(jq -r '[.alerts[].seq] | join(" ")' "$T/out")"
	cur=$(jq -r '.next_cursor // empty' "$T/out")
	pages=$((pages + 1))
	[ -z "$cur" ] || [ $pages -ge 5 ] && break
done
eq "$(echo $seqs)" "$(jq -r '[.alerts[].seq] | join(" ")' "$T/al-all")" "alerts: page 1 + page 2 = all, no overlap"
eq "$pages" "2" "in two pages of 2"
run_ctl 0 "alerts --job day --state delivered --limit 1" alerts --job day --state delivered --limit 1
has "$T/out" "(more alerts: meshctl alerts ... --cursor " "the table says there is more"
has "$T/out" "0 pending, 3 delivered, 0 failed (this job)" "and the counts"
rx_ok=$(grep -c "failure" "$T/out")
eq "$rx_ok" "1" "one row of the page"

run_ctl 0 "jobs --json with runs" jobs --json
valid jobs "jobs with runs"
eq "$(jq -r '.jobs[] | select(.job == "day") | [.last_runs[] | .partition + ":" + .state] | join(" ")' "$T/out")" "2001-01-12:success 2001-01-11:failed 2001-01-10:success 2001-01-09:success 2001-01-08:success 2001-01-07:success 2001-01-06:success 2001-01-05:success 2001-01-04:failed 2001-01-03:success" "the last 10 runs, newest partition first"
run_ctl 0 "jobs --limit 1" jobs --limit 1 --json
n1=$(jq -r '[.jobs[].job] | join(" ")' "$T/out")
cur=$(jq -r .next_cursor "$T/out")
run_ctl 0 "jobs, page 2" jobs --limit 2 --cursor "$cur" --json
eq "$n1 $(jq -r '[.jobs[].job] | join(" ")' "$T/out")" "adhoc broke day" "jobs: the pages add up, no overlap"
eq "$(jq -r .next_cursor "$T/out")" "null" "the last page has no cursor"
run_ctl 0 "jobs --domain ops" jobs --domain ops --json
eq "$(jq -r '[.jobs[].job] | join(" ")' "$T/out")" "adhoc" "--domain keeps the domain's valid jobs"

run_ctl 0 "status --json, meshd up" status --json
valid status "status, meshd up"
eq "$(jq -r '"\(.up) \(.pid) \(.broken) \(.broken_jobs[0].job)"' "$T/out")" "true $MPID 1 broke" "up, its pid, the broken job"
run_ctl 0 "status (text)" status
has "$T/out" "meshd:    up, pid $MPID" "names the daemon"
has "$T/out" "jobs:     2 running, 1 broken: broke (meshctl jobs says why)" "counts the jobs"
stop_meshd
run_ctl 3 "status --json, meshd down (3: not running)" status --json
valid status "status, meshd down"
eq "$(jq -r '"\(.up) \(.pid) \(.uptime_s) \(.health)"' "$T/out")" "false 0 null null" "down"

# Deterministic: asked twice, the same document (status aside).
"$MESHCTL" backfills --json >"$T/a1"; "$MESHCTL" backfills --json >"$T/a2"
cmp -s "$T/a1" "$T/a2" && ok "backfills: the same document twice" || fail "backfills differs between two askings"
finish
