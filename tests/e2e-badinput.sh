#!/bin/sh
# End-to-end: bad input gets a clear error naming the place, the documented
# exit code, and no partial state.
. "$(dirname "$0")/e2e-lib.sh"
conf

cat >"$T/jobs/good.conf" <<'JOB'
name = "good";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "2001-01-01";
end = "2001-02-01";
tasks = ( { id = "extract"; plugin = "ok"; stage = "extract"; } );
JOB

run_ctl 0 "a valid configuration validates" validate
has "$T/out" "ok: 1 job, 1 task, 1 plugin" "validate summary"

# --- config errors, every one reported with file:line
cat >"$T/jobs/syntax.conf" <<'JOB'
name = "syntax";
domain = "test";
owner = ;
JOB
cat >"$T/jobs/types.conf" <<'JOB'
name = "types";
domain = "test";
owner = "tests@example.org";
colour = "blue";
tasks = (
  { id = "a"; plugin = "ok"; stage = "extract";
    retries = "three"; afer = [ "b" ]; }
);
JOB
cat >"$T/jobs/noplugin.conf" <<'JOB'
name = "noplugin";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "a"; plugin = "nosuch"; stage = "extract"; } );
JOB
cat >"$T/jobs/cycle.conf" <<'JOB'
name = "cycle";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "a"; plugin = "ok"; stage = "extract"; after = [ "c" ]; },
  { id = "b"; plugin = "ok"; stage = "check"; after = [ "a" ]; },
  { id = "c"; plugin = "ok"; stage = "publish"; after = [ "b" ]; }
);
JOB
cat >"$T/jobs/dup.conf" <<'JOB'
name = "dup";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "a"; plugin = "ok"; stage = "extract"; },
  { id = "a"; plugin = "ok"; stage = "check"; }
);
JOB
cat >"$T/jobs/abi.conf" <<'JOB'
name = "abi";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "a"; plugin = "badabi"; stage = "extract"; } );
JOB

run_ctl 1 "validate reports every error" validate
has "$T/err" "$T/jobs/syntax.conf:3: error:" "syntax error has file:line"
has "$T/err" "$T/jobs/types.conf:4: error: unknown key 'colour'" "unknown key is an error with file:line"
has "$T/err" "$T/jobs/types.conf:7: error: unknown key 'afer' in task 'a'; did you mean 'after'?" "a misspelt key is an error that suggests the key meant"
has "$T/err" "$T/jobs/types.conf:7: error:" "wrong type has file:line"
has "$T/err" "'retries' must be an integer" "wrong type is named"
has "$T/err" "$T/jobs/noplugin.conf:4: error: plugin 'nosuch' not found" "missing plugin names the place"
has "$T/err" "cycle: " "cycle refused"
has "$T/err" "a -> b -> c -> a" "cycle printed"
has "$T/err" "duplicate task id 'a'" "duplicate id refused"
has "$T/err" "$T/jobs/abi.conf:4: error: task 'a':" "bad ABI refused with file:line"
has "$T/err" "ABI major 99 is not supported (this meshd: 1)" "bad ABI names both versions"
hasnt "$T/err" "good.conf" "the good job has no complaint"
test -e "$T/state/state.db" && fail "validate created state" || ok "validate changed nothing"
run_ctl 1 "validate --json" validate --json
eq "$(jq -r '[.ok, (.diagnostics[] | select(.message | startswith("unknown key")) | "\(.level):\(.line):\(.message)")] | map(tostring) | join(" ")' "$T/out")" "false error:4:unknown key 'colour' error:7:unknown key 'afer' in task 'a'; did you mean 'after'?" "validate --json parses, with file lines"
eq "$(jq -r '.errors == ([.diagnostics[] | select(.level == "error")] | length)' "$T/out")" "true" "and counts its errors"

run_ctl 2 "a refused job cannot run" run cycle
has "$T/err" "unknown job 'cycle'" "refused job is not loaded"
test -e "$T/state/state.db" && fail "a refused run created state" || ok "a refused run leaves no state"
rm -f "$T/jobs/syntax.conf" "$T/jobs/types.conf" "$T/jobs/noplugin.conf" \
    "$T/jobs/cycle.conf" "$T/jobs/dup.conf" "$T/jobs/abi.conf"

# --- unknown things passed to meshctl
run_ctl 2 "unknown job" run nosuchjob
has "$T/err" "unknown job 'nosuchjob' (jobs: good)" "unknown job lists the jobs"
run_ctl 2 "partition off the schedule" run good --partition 2001-01-02T10
has "$T/err" "'2001-01-02T10' is not a partition of @daily (nearest: 2001-01-02, 2001-01-03)" "nearest keys shown"
run_ctl 2 "partition outside the job" run good --partition 2002-01-01
has "$T/err" "outside job 'good'" "range error"
run_ctl 2 "not a date" run good --partition yesterday
run_ctl 0 "good run" run good --partition 2001-01-05
run_ctl 2 "unknown partition" tasks good 2001-01-06
has "$T/err" "job 'good' has no run for partition '2001-01-06'" "unknown partition named"
run_ctl 2 "unknown task" logs good 2001-01-05 nosuchtask
has "$T/err" "task 'nosuchtask'" "unknown task named"
# --- backfill ranges the job has no partitions in are errors, not "0
# partitions" with exit 0
run_ctl 2 "backfill from before 1970" backfill good --from 1969-12-31 --to 2001-01-03
has "$T/err" "--from 1969-12-31 is before 1970-01-01" "before the epoch: says so"
run_ctl 2 "backfill from before the job's start" backfill good --from 2000-12-30 --to 2001-01-03
has "$T/err" "--from 2000-12-30 is before the start of good, 2001-01-01" "before the start: names it"
run_ctl 2 "backfill from year 1" backfill good --from 0001-01-01 --to 2001-01-03 --dry-run
run_ctl 2 "backfill to year 99999" backfill good --from 2001-01-01 --to 99999-01-02
has "$T/err" "--to: '99999-01-02' is not a partition key" "an absurd year is not a key"
run_ctl 2 "backfill from year 99999" backfill good --from 99999-01-01 --to 99999-01-02 --dry-run
eq "$(sql "SELECT count(*) FROM backfills")" "0" "no backfill was created"
run_ctl 0 "a backfill inside the job" backfill good --from 2001-01-01 --to 2001-01-02 --dry-run
run_ctl 2 "unknown verb" frobnicate
run_ctl 2 "bad option" runs good --bogus

# --- state databases meshd must refuse, without touching them
cp "$T/state/state.db" "$T/good.db"
printf 'this is not a database, just text\n%.0s' 1 2 3 4 5 6 7 8 >"$T/state/state.db"
rm -f "$T/state/state.db-wal" "$T/state/state.db-shm"
sum=$(cksum <"$T/state/state.db")
run_ctl 3 "garbage state database" runs good
has "$T/err" "not a meshd state database" "garbage refused"
run_ctl 3 "garbage state database, run" run good --partition 2001-01-05
eq "$(cksum <"$T/state/state.db")" "$sum" "garbage file left untouched"
sqlite3 "$T/state/state.db.other" "CREATE TABLE t(x); INSERT INTO t VALUES (1);"
mv "$T/state/state.db.other" "$T/state/state.db"
run_ctl 3 "another application's database" run good --partition 2001-01-05
has "$T/err" "not a meshd state database" "foreign database refused"
eq "$(sqlite3 "$T/state/state.db" "SELECT count(*) FROM sqlite_master")" "1" "foreign database untouched"
cp "$T/good.db" "$T/state/state.db"
sqlite3 "$T/state/state.db" "PRAGMA user_version = 99;"
run_ctl 3 "newer schema" run good --partition 2001-01-05
has "$T/err" "schema version 99 is newer than this meshd" "newer schema refused with versions"
run_ctl 3 "newer schema, read verb" runs good
eq "$(sqlite3 "$T/state/state.db" "PRAGMA user_version")" "99" "newer database untouched"
cp "$T/good.db" "$T/state/state.db"

# --- a read-only state directory: as root, drop to nobody to test it
rm -rf "$T/state"
mkdir -p "$T/ro"
chmod 0555 "$T/ro"
conf
sed -i "s|state/state.db|$T/ro/state/state.db|" "$T/meshd.conf"
chmod 0755 "$T" "$T/jobs"
chmod 0644 "$T/meshd.conf" "$T/jobs/good.conf"
if [ "$(id -u)" -eq 0 ]; then
	asuser="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
else
	asuser=""
fi
$asuser "$MESHCTL" run good --partition 2001-01-05 >"$T/out" 2>"$T/err"
eq "$?" "3" "read-only state directory: exit 3"
has "$T/err" "Permission denied" "read-only state directory: says why"
has "$T/err" "$T/ro/state" "read-only state directory: names the path"

finish
