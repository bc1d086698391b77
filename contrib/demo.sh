#!/bin/sh
# meshd demo: two real data domains on public US government data.
#   geo.airports   -- the FAA/Data.gov airports reference (one partition)
#   ops.flights    -- BTS flight records, one partition per day of Q1 2001
# Builds a fresh state directory, runs the airports job, then every day of
# flights_daily through extract -> check -> publish, and prints the catalog:
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
echo "== ops: meshctl run flights_daily, one partition per day ($days days)"
i=0
start=$(date -u -d 2001-01-01 +%s)
while [ "$i" -lt "$days" ]; do
	day=$(date -u -d "@$((start + i * 86400))" +%Y-%m-%d)
	if "$meshctl" run flights_daily --partition "$day" --json >"$demo/run.json"; then
		:
	else
		rc=$?
		[ "$rc" -eq 1 ] || { cat "$demo/run.json"; exit "$rc"; }
	fi
	jq -r '"  \(.partition)  \(.state)" + (if .state != "success" then "  (" + ([.tasks[] | select(.reason) | "\(.task): \(.reason)"] | join("; ")) + ")" else "" end)' "$demo/run.json"
	i=$((i + 1))
done
rm -f "$demo/run.json"
echo
echo "== catalog"
"$meshctl" catalog
