#!/bin/sh
# End-to-end: the demo domains on their real data, through the real meshctl.
# Warehouse rows are compared with counts taken from the source files
# independently (jq, awk), and a day with a delay beyond the job's bound
# must be quarantined, unpublished, with the reason in the catalog.
. "$(dirname "$0")/e2e-lib.sh"
data="$top_srcdir/contrib/data"
cat >"$T/meshd.conf" <<CONF
state_db = "state/state.db";
jobs_dir = "$top_srcdir/jobs";
plugin_path = [ "$top_builddir/plugins/.libs" ];
log_dir = "state/logs";
staging_dir = "state/staging";
workers = 2;
CONF
wh() { sqlite3 "$T/state/warehouse.db" "$1"; }

run_ctl 0 "demo jobs validate" validate
run_ctl 1 "flights before airports: referential check fails" run flights_daily --partition 2001-01-05
has "$T/out" "geo.airports must be published first" "missing upstream product is named"
run_ctl 0 "airports publishes" run airports
# airports.csv has quoted fields with commas: count records, not lines.
want=$(python3 -c "import csv,sys; print(sum(1 for _ in csv.DictReader(open(sys.argv[1]))))" "$data/airports.csv" 2>/dev/null ||
    echo 3376)
eq "$(wh "SELECT count(*) FROM geo_airports WHERE partition_key = 'current'")" "$want" "every airport is in the warehouse"
eq "$(wh "SELECT count(DISTINCT iata) FROM geo_airports")" "$want" "iata codes are unique"

run_ctl 0 "a clean day publishes" run flights_daily --partition 2001-01-05
want=$(jq '[.[] | select(.date | startswith("2001/01/05"))] | length' "$data/flights-20k.json")
eq "$(wh "SELECT count(*) FROM ops_flights WHERE partition_key = '2001-01-05'")" "$want" "warehouse rows match the source for 2001-01-05"
eq "$(sql "SELECT pp.rows || ' ' || pp.state FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = 'ops.flights' AND pp.partition_key = '2001-01-05'")" "$want published" "catalog has the partition's rows"
wantmax=$(jq '[.[] | select(.date | startswith("2001/01/05")) | .delay] | max' "$data/flights-20k.json")
eq "$(wh "SELECT max(delay) FROM ops_flights WHERE partition_key = '2001-01-05'")" "$wantmax" "values survive the trip"

# The job's bound on delays, read from its file; the day with the largest
# delay in the data must exceed it and be quarantined.
bound=$(sed -n 's/.*max_delay_minutes *= *\([0-9]*\).*/\1/p' "$top_srcdir/jobs/flights_daily.conf" | head -n 1)
day=$(jq -r 'max_by(.delay) | .date[0:10] | gsub("/"; "-")' "$data/flights-20k.json")
max=$(jq "[.[] | select(.date | startswith(\"$(echo "$day" | tr - /)\")) | .delay] | max" "$data/flights-20k.json")
[ "$max" -gt "$bound" ] && ok "the data has a day ($day, $max min) beyond the bound ($bound)" ||
    fail "no day beyond the bound $bound"
run_ctl 1 "a day beyond the bound is quarantined" run flights_daily --partition "$day"
has "$T/out" "max_delay (observed $max, expected <= $bound" "the reason says observed vs expected"
eq "$(wh "SELECT count(*) FROM ops_flights WHERE partition_key = '$day'")" "0" "nothing of it reached the warehouse"
eq "$(sql "SELECT ti.state FROM task_instances ti JOIN runs r ON r.id = ti.run_id WHERE r.partition_key = '$day' AND ti.task_id = 'publish'")" "upstream_failed" "its publish never ran"
run_ctl 0 "catalog" catalog
has "$T/out" "ops.flights $day: max_delay (observed $max, expected <= $bound" "catalog says why"
run_ctl 0 "catalog of one product" catalog ops.flights --json
eq "$(jq -r ".partitions | map(select(.partition == \"$day\")) | .[0].state" "$T/out")" "quarantined" "catalog --json parses"
test -n "$(ls "$T/state/staging/flights_daily/$day" 2>/dev/null)" && ok "quarantined staging kept for inspection" ||
    fail "staging of the quarantined partition is gone"

run_ctl 0 "a clean day again replaces its partition" run flights_daily --partition 2001-01-05 --rerun
eq "$(wh "SELECT count(*) FROM ops_flights WHERE partition_key = '2001-01-05'")" "$(jq '[.[] | select(.date | startswith("2001/01/05"))] | length' "$data/flights-20k.json")" "republish does not duplicate rows"

# --- the daemon runs the demo jobs on their schedule, under a test clock
MESHD=${MESHD:-$top_builddir/meshd}
echo "2001-01-03T00:00:01Z" >"$T/clock"
"$MESHD" -c "$T/meshd.conf" --clock "$T/clock" >"$T/meshd.log" 2>&1 &
mpid=$!
day_state() { sql "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'flights_daily' AND r.partition_key = '$1' AND r.\"trigger\" = 'schedule'" 2>/dev/null; }
waitday() {
	i=0
	while [ "$i" -lt 150 ] && [ "$(day_state "$1")" != "success" ]; do
		sleep 0.1; i=$((i + 1))
	done
	eq "$(day_state "$1")" "success" "meshd ran flights_daily $1 on its schedule"
}
waitday 2001-01-02
eq "$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'flights_daily' AND r.partition_key = '2001-01-01'")" "0" "catchup latest skipped the older missed day"
echo "2001-01-04T00:00:01Z" >"$T/clock"
waitday 2001-01-03
eq "$(wh "SELECT count(*) FROM ops_flights WHERE partition_key = '2001-01-03'")" "$(jq '[.[] | select(.date | startswith("2001/01/03"))] | length' "$data/flights-20k.json")" "the scheduled day reached the warehouse"
kill -TERM "$mpid"; wait "$mpid"
eq "$?" "0" "meshd stops cleanly"

finish
