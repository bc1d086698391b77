#!/bin/sh
# meshd demo: three data domains on public US government data.
#   geo.airports              -- the FAA/Data.gov airports reference
#   ops.flights               -- BTS flight records, one partition per day
#                                of Q1 2001
#   analytics.airport_delays  -- daily delays per airport and state, built
#                                from the other two domains' products
# Builds a fresh state directory and runs the airports job with meshctl
# run.  A fourth team, marketing, then adds a job file with mistakes
# (contrib/broken-job/): meshd refuses that job alone and runs the others.
# Then it starts meshd, backfills every day of flights_daily through
# extract -> check -> publish, and lets the analytics days follow as their
# inputs are published.  A quarantined flights day holds its analytics day
# back; the demo then widens the delay bound, clears that day, and meshd
# publishes it and builds its analytics day.  Last, the lineage of that
# analytics partition back to its sources, the products and the catalog.
#
# usage: contrib/demo.sh [SRCDIR [BUILDDIR [DEMODIR]]]
# MESHCTL, MESHD and MESHD_DEMO_PLUGINS name the programs and the plugins
# directory when they are not BUILDDIR's (the installed demo, meshd-demo).
set -eu
src=$(cd "${1:-.}" && pwd)
build=$(cd "${2:-.}" && pwd)
demo=${3:-$build/demo}
meshctl=${MESHCTL:-$build/meshctl}
meshd=${MESHD:-$build/meshd}
plugins=${MESHD_DEMO_PLUGINS:-$build/plugins/.libs}
days=${MESHD_DEMO_DAYS:-90}
# A day the delay bound quarantines (contrib/data/README), and a bound
# wide enough to let it through.
held=2001-01-12
wider=600

# The web UI and API (meshd's HTTP child): 127.0.0.1:8642, or a free port
# when that one is taken (another demo, a test running beside it).
port=${MESHD_DEMO_PORT:-$(/usr/bin/python3 -c 'import socket
s = socket.socket()
try:
    s.bind(("127.0.0.1", 8642))
except OSError:
    s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null || echo 8642)}

rm -rf "$demo"
mkdir -p "$demo/jobs"
# The jobs are copied, so that the demo can change one as an operator
# would; their data stays where it is.
for f in "$src"/jobs/*.conf; do
	sed "s|\${jobdir}/\.\./contrib/|$src/contrib/|g" "$f" >"$demo/jobs/${f##*/}"
done
# The token the UI's buttons and the API's writes need (owner-only).
(umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$demo/http-token")
cat >"$demo/meshd.conf" <<CONF
# written by contrib/demo.sh
state_db    = "state/state.db";
jobs_dir    = "jobs";
plugin_path = [ "$plugins" ];
log_dir     = "state/logs";
staging_dir = "state/staging";
http        = { listen = "127.0.0.1:$port"; token_file = "http-token"; };   # web UI, API, /metrics
CONF
export MESHD_CONFIG="$demo/meshd.conf"

echo "== meshctl validate"
"$meshctl" validate
echo
echo "== geo: meshctl run airports"
"$meshctl" run airports
echo
echo "== marketing adds campaigns_daily.conf, with mistakes: validate names them"
cp "$src/contrib/broken-job/campaigns_daily.conf" "$demo/jobs/"
"$meshctl" validate || :   # 1: campaigns_daily is broken
echo
# The daemon runs the flights as a backfill: every day of the quarter, a
# few at a time, with progress; meshctl records the request, meshd does it.
last=$(date -u -d "2001-01-01 + $((days - 1)) days" +%Y-%m-%d)
echo "== ops: meshd runs flights_daily as a backfill, 2001-01-01 to $last"
"$meshd" -c "$demo/meshd.conf" >"$demo/meshd.log" 2>&1 &
meshd_pid=$!
trap 'kill "$meshd_pid" 2>/dev/null || :' EXIT
i=0
until "$meshctl" status --json 2>/dev/null | jq -e .up >/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { cat "$demo/meshd.log"; exit 1; }
	sleep 0.1
done
echo "web UI: http://127.0.0.1:$port/ (while meshd runs)"
rc=0
"$meshctl" backfill flights_daily --from 2001-01-01 --to "$last" \
    --max-active-runs 4 --wait --interval 1 || rc=$?
# 1: some days failed their quality checks and were quarantined, as the
# data has them; anything else is an error.
[ "$rc" -le 1 ] || { cat "$demo/meshd.log"; exit "$rc"; }

# Every analytics day whose flights were published is built; the others
# wait.  (Poll until no analytics run is running or ready to.)
analytics_settled() {
	"$meshctl" runs analytics_daily --limit 1000 --json 2>/dev/null |
	    jq -e '.runs | length > 0 and all(.[]; .state == "success" or
	    .state == "failed" or (.state == "queued" and .waiting_for != null))' \
	    >/dev/null
}
i=0
until analytics_settled; do
	i=$((i + 1))
	[ "$i" -lt 600 ] || { echo "demo: analytics did not settle" >&2; cat "$demo/meshd.log"; exit 1; }
	sleep 0.1
done
echo
echo "== meshctl jobs: campaigns_daily is refused alone, the other domains run"
grep -F "broken job refused" "$demo/meshd.log" | sed 's/^[^ ]* //'
"$meshctl" jobs
echo
echo "== meshctl backfills 1"
"$meshctl" backfills 1 || :
echo
echo "== analytics_daily: the days whose flights were quarantined wait"
"$meshctl" runs analytics_daily --state queued

echo
echo "== meshctl checks ops.flights --partition $held: why it was quarantined"
"$meshctl" checks ops.flights --partition "$held" || :   # 1: it has failed checks

echo
echo "== widen the delay bound to $wider minutes, reload, and clear $held"
sed -i "s/max_delay_minutes = [0-9]*;/max_delay_minutes = $wider;/" \
    "$demo/jobs/flights_daily.conf"
kill -HUP "$meshd_pid"
sleep 1
"$meshctl" clear flights_daily --partition "$held" --failed-only
day_built() {
	"$meshctl" runs analytics_daily --limit 1000 --json 2>/dev/null |
	    jq -e --arg d "$held" 'any(.runs[]; .partition == $d and .state == "success")' \
	    >/dev/null
}
i=0
until day_built; do
	i=$((i + 1))
	[ "$i" -lt 600 ] || { echo "demo: $held was not rebuilt" >&2; cat "$demo/meshd.log"; exit 1; }
	sleep 0.1
done
"$meshctl" runs flights_daily --limit 1000 | sed -n "1p;/ $held /p"
"$meshctl" runs analytics_daily --limit 1000 | sed -n "1p;/ $held /p"
# meshd delivers OpenLineage events from its outbox in the background:
# let it reach the analytics day's before stopping it.
lineage_event() {
	jq -c --arg d "$held" 'select(.eventType == "COMPLETE" and
	    .job.name == "analytics_daily.publish" and
	    .run.facets.meshd.partition == $d) | {eventType, job: .job.name,
	    inputs: [.inputs[].name], outputs: [.outputs[].name]}' \
	    "$demo/state/lineage.jsonl" 2>/dev/null | tail -n 1
}
i=0
while [ -z "$(lineage_event)" ] && [ "$i" -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill "$meshd_pid"
wait "$meshd_pid" || :
trap - EXIT

echo
echo "== meshctl lineage analytics.airport_delays --partition $held"
"$meshctl" lineage analytics.airport_delays --partition "$held"
echo
echo "== OpenLineage: $(wc -l <"$demo/state/lineage.jsonl") events in $demo/state/lineage.jsonl; the analytics day's COMPLETE:"
lineage_event
echo
echo "== meshctl products: owners, last partitions, freshness, failed checks"
"$meshctl" products
echo
echo "== catalog"
"$meshctl" catalog
echo
echo "web UI: http://127.0.0.1:$port/ -- serve it again with: $meshd -c $demo/meshd.conf"
echo "        (its buttons and the API's writes take the token in $demo/http-token)"
