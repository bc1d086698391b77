#!/bin/sh
# End-to-end: the README's demo command (contrib/demo.sh, what `make demo`
# runs) on a fresh directory, with its output asserted: the quarantined
# flights day holds its analytics day back, the widened bound and the
# clear publish it, the analytics day is rebuilt from it, and its lineage,
# the products and the catalog are printed.  A broken job file of a fourth
# team is refused alone, beside the working domains.  The warehouse and the state
# are checked too, not only the text.
. "$(dirname "$0")/e2e-lib.sh"
held=2001-01-12
out="$T/demo.out"
if sh "$top_srcdir/contrib/demo.sh" "$top_srcdir" \
    "$top_builddir" "$T/demo" >"$out" 2>&1; then
	ok "contrib/demo.sh exits 0"
else
	fail "contrib/demo.sh failed"
	sed 's/^/    | /' "$out" | tail -n 40
fi
# The web UI: its address printed, served while meshd ran, and a token
# for its buttons that only its owner can read.
port=$(sed -n 's|^web UI: http://127.0.0.1:\([0-9]*\)/ (while meshd runs)$|\1|p' "$out")
[ -n "$port" ] && ok "the demo prints the web UI's address" || fail "no web UI address in the demo's output"
has "$T/demo/meshd.log" "http: serving http://127.0.0.1:$port/" "meshd's HTTP child served it"
eq "$(stat -c %a "$T/demo/http-token")" "600" "the demo's API token is its owner's alone"
has "$out" "its buttons and the API's writes take the token in" "the demo says where the token is"
has "$out" "waiting for ops.flights $held (quarantined)" \
    "the analytics day waits for its quarantined flights day"
has "$out" "max_delay                error  FAILED" \
    "meshctl checks shows the failed check"
has "$out" "analytics.airport_delays $held v1  published; job analytics_daily" \
    "the analytics day is published after the fix"
has "$out" "<- ops.flights $held v1  published; job flights_daily" \
    "its lineage goes back to the flights day"
has "$out" "<- geo.airports current v1  published; job airports" \
    "and to the airports reference"
has "$out" '"eventType":"COMPLETE","job":"analytics_daily.publish"' \
    "the OpenLineage COMPLETE event is shown"
has "$out" "$T/demo/jobs/campaigns_daily.conf:16: error: plugin 'campaigns' not found" \
    "validate names the broken job file's error, file:line"
has "$out" "$T/demo/jobs/campaigns_daily.conf:16: error: unknown key 'retires' in task 'extract'; did you mean 'retries'?" \
    "and its misspelt key, with the key meant"
has "$out" "broken job, which meshd refuses while the others run: campaigns_daily" \
    "and the broken job"
has "$out" "1 broken job refused (errors above; meshctl jobs and validate show them): campaigns_daily; the other 3 jobs run" \
    "meshd refuses it alone and says so"
has "$out" "campaigns_daily      broken: $T/demo/jobs/campaigns_daily.conf:16: plugin 'campaigns' not found" \
    "meshctl jobs lists it as broken with its first error"
grep -E '^flights_daily +ops +@daily .* success$' "$out" >/dev/null &&
    ok "beside it, meshctl jobs shows flights_daily running" ||
    fail "meshctl jobs does not show flights_daily's last success"
has "$out" "== meshctl products" "the products are printed"
has "$out" "== catalog" "the catalog is printed"

export MESHD_CONFIG="$T/demo/meshd.conf"
st() { sqlite3 "$T/demo/state/state.db" "$1"; }
wh() { sqlite3 "$T/demo/state/warehouse.db" "$1"; }
pstate() {
	st "SELECT pp.state FROM product_partitions pp JOIN products p
	    ON p.id = pp.product_id WHERE p.name = '$1' AND pp.partition_key = '$2'"
}
v=$(st "SELECT count(*) FROM jobs WHERE name = 'campaigns_daily'")
[ "$v" = 0 ] && ok "the broken job never ran" ||
    fail "the broken job has $v rows in jobs"
v=$(pstate ops.flights "$held")
[ "$v" = published ] && ok "ops.flights $held is published in the state" ||
    fail "ops.flights $held is '$v' in the state"
v=$(wh "SELECT count(*) FROM ops_flights WHERE partition_key='$held'")
[ "${v:-0}" -gt 0 ] && ok "its $v rows are in the warehouse" ||
    fail "no ops_flights rows for $held in the warehouse"
v=$(st "SELECT count(*) FROM run_inputs ri JOIN runs r ON r.id = ri.run_id
    JOIN jobs j ON j.id = r.job_id
    WHERE j.name = 'analytics_daily' AND r.partition_key = '$held'
    AND ri.product_id = (SELECT id FROM products WHERE name = 'ops.flights')
    AND ri.partition_key = '$held'")
[ "${v:-0}" -ge 1 ] && ok "the analytics run recorded the flights day it read" ||
    fail "no run_inputs row for analytics_daily $held"
v=$(st "SELECT count(*) FROM product_partitions pp JOIN products p
    ON p.id = pp.product_id WHERE p.name = 'analytics.airport_delays'
    AND pp.state = 'published'")
[ "${v:-0}" -ge 80 ] && ok "$v analytics days published" ||
    fail "only ${v:-0} analytics days published"
finish
