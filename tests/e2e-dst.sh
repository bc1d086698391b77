#!/bin/sh
# End-to-end: cron schedules in time zones, across DST, through meshctl next
# (with a fixed --from), meshctl run, and the daemon under a test clock.
# Expected instants are facts about the zones (checked against the IANA
# database when the test was written), not outputs of meshd.
. "$(dirname "$0")/e2e-lib.sh"
conf
MESHD=${MESHD:-$top_builddir/meshd}
job() { # job NAME SCHEDULE ZONE [EXTRA]
	cat >"$T/jobs/$1.conf" <<JOB
name = "$1";
domain = "test";
owner = "tests@example.org";
schedule = "$2";
timezone = "$3";
${4:-}
tasks = ( { id = "a"; plugin = "ok"; stage = "check"; } );
JOB
}
job berlin "30 2 * * *" "Europe/Berlin"
job berlin_skip "30 2 * * *" "Europe/Berlin" 'dst = "skip";'
job nyc "0 2 * * *" "America/New_York"
job howe "0 2 * * *" "Australia/Lord_Howe"
job ktm "0 0 * * *" "Asia/Kathmandu"
job hourly "@hourly" "Europe/Berlin" 'start = "2024-10-27T00"; catchup = "all";'
job leap "0 12 29 2 *" "UTC"

utc_fires() { jq -r '[.fires[].fire_us / 1000000 | floor | todate] | join(" ")' "$T/out"; }
run_ctl 0 "next: Berlin spring forward" next berlin --from 2024-03-30T00:00:00Z -n 3 --json
eq "$(utc_fires)" "2024-03-30T01:30:00Z 2024-03-31T01:00:00Z 2024-04-01T00:30:00Z" "02:30 in the gap runs at 03:00 CEST, the first instant after it"
run_ctl 0 "next: Berlin fall back" next berlin --from 2024-10-26T00:00:00Z -n 3 --json
eq "$(utc_fires)" "2024-10-26T00:30:00Z 2024-10-27T00:30:00Z 2024-10-28T01:30:00Z" "02:30 in the overlap runs once, at the first"
run_ctl 0 "next: dst = skip" next berlin_skip --from 2024-03-30T00:00:00Z -n 2 --json
eq "$(utc_fires)" "2024-03-30T01:30:00Z 2024-04-01T00:30:00Z" "dst = skip skips the day of the gap"
run_ctl 0 "next: New York spring forward" next nyc --from 2024-03-09T12:00:00Z -n 2 --json
eq "$(utc_fires)" "2024-03-10T07:00:00Z 2024-03-11T06:00:00Z" "New York 02:00 in the gap runs at 03:00 EDT"
run_ctl 0 "next: New York fall back" next nyc --from 2024-11-02T12:00:00Z -n 2 --json
eq "$(utc_fires)" "2024-11-03T07:00:00Z 2024-11-04T07:00:00Z" "New York 02:00 after fall back is 02:00 EST"
run_ctl 0 "next: Lord Howe 30-minute DST" next howe --from 2024-10-05T00:00:00Z -n 2 --json
eq "$(utc_fires)" "2024-10-05T15:30:00Z 2024-10-06T15:00:00Z" "Lord Howe: 02:00 in its 30-minute gap runs at 02:30 (+11)"
run_ctl 0 "next: Kathmandu +05:45" next ktm --from 2024-06-01T00:00:00Z -n 1 --json
eq "$(utc_fires)" "2024-06-01T18:15:00Z" "Kathmandu midnight is 18:15 UTC"
run_ctl 0 "next: 29 February" next leap --from 2001-01-01T00:00:00Z -n 2 --json
eq "$(utc_fires)" "2004-02-29T12:00:00Z 2008-02-29T12:00:00Z" "29 February fires only in leap years"
run_ctl 0 "next: hourly over fall back" next hourly --from 2024-10-26T23:30:00Z -n 4 --json
eq "$(jq -r '[.fires[].partition] | join(" ")' "$T/out")" "2024-10-27T01 2024-10-27T02 2024-10-27T02+01:00 2024-10-27T03" "the repeated hour has two partitions with distinct keys"

run_ctl 0 "a run in the repeated hour" run hourly --partition "2024-10-27T02+01:00"
eq "$(sql "SELECT (interval_start_us / 1000000) || '-' || (interval_end_us / 1000000) FROM runs")" "1729990800-1729994400" "its interval is 01:00-02:00 UTC"
run_ctl 2 "a key off the schedule" run berlin --partition 2024-03-30T02:31
has "$T/err" "nearest: 2024-03-30T02:30, 2024-03-31T03:00" "nearest keys in local time"

# --- the daemon across the fall-back night, on a test clock
rm -f "$T/state/state.db"*
echo "2024-10-27T04:00:00Z" >"$T/clock"
"$MESHD" -c "$T/meshd.conf" --clock "$T/clock" >"$T/meshd.log" 2>&1 &
pid=$!
i=0
while [ "$i" -lt 100 ] && [ "$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'hourly' AND r.state = 'success'" 2>/dev/null)" != "6" ]; do
	sleep 0.1; i=$((i + 1))
done
kill -TERM "$pid"; wait "$pid"
eq "$(sql "SELECT group_concat(partition_key, ' ') FROM (SELECT r.partition_key FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'hourly' ORDER BY r.interval_start_us)")" "2024-10-27T00 2024-10-27T01 2024-10-27T02 2024-10-27T02+01:00 2024-10-27T03 2024-10-27T04" "six hours to 04:00Z, the repeated one twice, none doubled"

# --- bad schedules are refused with file:line
mkdir "$T/bad"
sed -i 's|jobs_dir = "jobs";|jobs_dir = "bad";|' "$T/meshd.conf"
job() { # job NAME SCHEDULE ZONE
	cat >"$T/bad/$1.conf" <<JOB
name = "$1";
domain = "test";
owner = "tests@example.org";
schedule = "$2";
timezone = "$3";
tasks = ( { id = "a"; plugin = "ok"; stage = "check"; } );
JOB
}
job never "0 0 31 2 *" "UTC"
job badfield "61 * * * *" "UTC"
job badname "0 0 * * fun" "UTC"
job nozone "0 0 * * *" "Mars/Base"
job escape "0 0 * * *" "../../etc/passwd"
run_ctl 1 "bad schedules are refused" validate
has "$T/err" "never.conf:4: error:" "never-firing cron has file:line"
has "$T/err" "never fires" "never-firing cron is named"
has "$T/err" "badfield.conf:4: error:" "bad field has file:line"
has "$T/err" "minute" "bad field names the field"
has "$T/err" "column 1" "bad field names the column"
has "$T/err" "unknown name 'fun'" "bad day name"
has "$T/err" "nozone.conf:5: error:" "unknown zone has file:line"
has "$T/err" "Mars/Base" "unknown zone is named"
has "$T/err" "escape.conf:5: error:" "a zone name escaping zoneinfo is refused"

finish
