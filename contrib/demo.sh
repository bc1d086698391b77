#!/bin/sh
# meshd demo: two real data domains on public US government data.
#   geo.airports   -- the FAA/Data.gov airports reference (one partition)
#   ops.flights    -- BTS flight records, one partition per day of Q1 2001
# Builds a fresh state directory, runs the airports job with meshctl run,
# then starts meshd and backfills every day of flights_daily through
# extract -> check -> publish, and prints the catalog:
# which partitions were published and which were quarantined, and why.
#
# usage: contrib/demo.sh [SRCDIR [BUILDDIR [DEMODIR]]]
set -eu
src=$(cd "${1:-.}" && pwd)
build=$(cd "${2:-.}" && pwd)
demo=${3:-$build/demo}
meshctl="$build/meshctl"
days=${MESHD_DEMO_DAYS:-90}

rm -rf "$demo"
mkdir -p "$demo"
cat >"$demo/meshd.conf" <<CONF
# written by contrib/demo.sh
state_db    = "state/state.db";
jobs_dir    = "$src/jobs";
plugin_path = [ "$build/plugins/.libs" ];
log_dir     = "state/logs";
staging_dir = "state/staging";
CONF
export MESHD_CONFIG="$demo/meshd.conf"

echo "== meshctl validate"
"$meshctl" validate
echo
echo "== geo: meshctl run airports"
"$meshctl" run airports
echo
# The daemon runs the flights as a backfill: every day of the quarter, a
# few at a time, with progress; meshctl records the request, meshd does it.
last=$(date -u -d "2001-01-01 + $((days - 1)) days" +%Y-%m-%d)
echo "== ops: meshd runs flights_daily as a backfill, 2001-01-01 to $last"
"$build/meshd" -c "$demo/meshd.conf" >"$demo/meshd.log" 2>&1 &
meshd_pid=$!
trap 'kill "$meshd_pid" 2>/dev/null || :' EXIT
rc=0
"$meshctl" backfill flights_daily --from 2001-01-01 --to "$last" \
    --max-active-runs 4 --wait --interval 1 || rc=$?
# 1: some days failed their quality checks and were quarantined, as the
# data has them; anything else is an error.
[ "$rc" -le 1 ] || { cat "$demo/meshd.log"; exit "$rc"; }
kill "$meshd_pid"
wait "$meshd_pid" || :
trap - EXIT
echo
echo "== meshctl backfills 1"
"$meshctl" backfills 1 || :
echo
echo "== meshctl runs flights_daily --state failed"
"$meshctl" runs flights_daily --state failed
echo
echo "== catalog"
"$meshctl" catalog
