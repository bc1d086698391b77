#!/bin/sh
# End-to-end: freshness SLOs under the test clock (a late partition is
# logged, recorded, counted once, shown by meshctl products and passed to
# the alert hook as JSON on its stdin, never through a shell), quarantine
# retention (the staging of a quarantined partition is kept, shown by
# meshctl checks, and removed after quarantine_retention), and the
# products, product and checks verbs in text and JSON.
. "$(dirname "$0")/e2e-lib.sh"
MESHD=${MESHD:-$top_builddir/meshd}
CLOCK="$T/clock"
pids=""
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

# The hook: its arguments and its stdin, one file per call.  The words
# with spaces and a ';' show no shell ever splits or runs them.
cat >"$T/hook.sh" <<HOOK
#!/bin/sh
printf '%s\n' "\$@" >"$T/alert.\$\$.args"
cat >"$T/alert.\$\$.tmp"
mv "$T/alert.\$\$.tmp" "$T/alert.\$\$.json"
HOOK
chmod +x "$T/hook.sh"

# --- bad settings are refused, with file:line
conf 'freshness_alert = "/bin/page-me --team ops";'
run_ctl 1 "freshness_alert as a shell string is refused" validate
has "$T/err" "meshd.conf:7: error: freshness_alert must be an array of strings (a command and its arguments, not run through a shell), not a string" "it says why, and where"
conf 'freshness_alert = [ "hooks/nope.sh", "x" ];'
run_ctl 1 "a freshness_alert that is not there is refused" validate
has "$T/err" "meshd.conf:7: error: freshness_alert: $T/hooks/nope.sh: No such file or directory" "it names the path, relative to meshd.conf"
conf 'freshness_alert = [ ];'
run_ctl 1 "an empty freshness_alert is refused" validate
has "$T/err" "freshness_alert must name a command" "it says so"
conf 'quarantine_retention = -1;'
run_ctl 1 "a negative quarantine_retention is refused" validate
has "$T/err" "meshd.conf:7: error: 'quarantine_retention' must be at least 0, not -1" "it says so"

conf "freshness_alert = [ \"$T/hook.sh\", \"--team\", \"ops; rm -rf /\" ];" \
    "shutdown_grace = 1;"

cat >"$T/jobs/fresh.conf" <<JOB
name = "fresh"; domain = "test"; owner = "tests@example.org";
schedule = "@daily";
start = "2001-01-10"; end = "2001-01-14";
catchup = "all";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ];
    params = { fail_if = "$T/fail-{partition}"; }; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ];
    product = "test.ok"; }
);
JOB

start_meshd() {
	"$MESHD" -c "$T/meshd.conf" --clock "$CLOCK" >>"$T/meshd.log" 2>&1 &
	MPID=$!
	pids="$pids $MPID"
}
stop_meshd() { kill -TERM "$MPID" 2>/dev/null; wait "$MPID"; }
late_of() { sql "SELECT CASE WHEN late_us IS NULL THEN 'on time' ELSE 'late' END FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = 'test.ok' AND pp.partition_key = '$1'"; }
pq="SELECT pp.state FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = 'test.ok' AND pp.partition_key"

# 2001-01-10 and -11 have ended: both are built at once.  2001-01-12
# will fail its check and be quarantined.
touch "$T/fail-2001-01-12"
echo "2001-01-12T00:00:30Z" >"$CLOCK"
start_meshd
waitsql "2001-01-11 published" "published" "$pq = '2001-01-11'"
waitsql "2001-01-10 published" "published" "$pq = '2001-01-10'"
# alert PARTITION: the document the hook got for it.
alert() { cat "$T"/alert.*.json 2>/dev/null | jq -c "select(.partition == \"$1\")"; }
waitalert() {
	i=0; while [ $i -lt 300 ] && [ -z "$(alert "$1")" ]; do sleep 0.1; i=$((i + 1)); done
}

# --- 2001-01-10 was due at 2001-01-11T01:00, before meshd started, and
# was published after that: late, found at start-up.
waitsql "2001-01-10, due while meshd was down, is late" "late" "SELECT CASE WHEN late_us IS NULL THEN 'on time' ELSE 'late' END FROM product_partitions WHERE partition_key = '2001-01-10'"
has "$T/meshd.log" "product=test.ok partition=2001-01-10: late: published after its due time 2001-01-11T01:00:00Z (1h after its interval ended)" "published late is logged"
waitalert 2001-01-10
eq "$(alert 2001-01-10 | jq -r '.state + " " + (.published_utc | type)')" "published string" "its alert says it was published, and when"
eq "$(sql "SELECT count(*) FROM product_partitions WHERE due_us IS NOT NULL AND partition_key <> '2001-01-10'")" "0" "nothing judged before its due time"

# --- due: 2001-01-11 was due at 2001-01-12T01:00 (SLO 1 h) and is on time
echo "2001-01-12T01:00:30Z" >"$CLOCK"
waitsql "2001-01-11 judged at its due time" "1" "SELECT count(*) FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = 'test.ok' AND pp.partition_key = '2001-01-11' AND pp.due_us IS NOT NULL"
eq "$(late_of 2001-01-11)" "on time" "a partition published before its due time is on time"
eq "$(sql "SELECT due_us FROM product_partitions WHERE partition_key = '2001-01-11'")" "$(( $(date -u -d 2001-01-12T01:00:00Z +%s) * 1000000 ))" "due_us is the interval end plus the SLO"
eq "$(sql "SELECT late_count FROM products WHERE name = 'test.ok'")" "1" "late_count: one so far"

# --- 2001-01-12 is quarantined: at 2001-01-13T01:00 it is late
echo "2001-01-13T00:00:30Z" >"$CLOCK"
waitsql "2001-01-12 quarantined" "quarantined" "$pq = '2001-01-12'"
test -d "$T/state/staging/fresh/2001-01-12" && ok "the quarantined staging is kept" || fail "the quarantined staging is kept"
echo "2001-01-13T01:00:30Z" >"$CLOCK"
waitsql "2001-01-12 is found late" "late" "SELECT CASE WHEN late_us IS NULL THEN 'on time' ELSE 'late' END FROM product_partitions WHERE partition_key = '2001-01-12'"
eq "$(sql "SELECT late_count FROM products WHERE name = 'test.ok'")" "2" "late_count counts it"
eq "$(sql "SELECT late_us FROM product_partitions WHERE partition_key = '2001-01-12'")" "$(( $(date -u -d 2001-01-13T01:00:30Z +%s) * 1000000 ))" "late_us is when it was found late (daemon clock)"
waitalert 2001-01-12
has "$T/meshd.log" "product=test.ok partition=2001-01-12: late: not published 1h after its interval ended (quarantined)" "the late partition is logged"
if [ -n "$(alert 2001-01-12)" ]; then ok "the hook got JSON on its stdin"; else fail "the hook got JSON on its stdin"; cat "$T"/alert.*; fi
eq "$(alert 2001-01-12 | jq -r '[.product, .partition, .state, .due_utc, .interval_end_utc, .owner, .job, .freshness_seconds] | join(" ")')" \
    "test.ok 2001-01-12 quarantined 2001-01-13T01:00:00Z 2001-01-13T00:00:00Z tests@example.org fresh 3600" "the document names product, partition, state, times, owner"
eq "$(cat "$T"/alert.*.args | sort -u | tr '\n' '|')" "--team|ops; rm -rf /|" "the hook's argv is as configured, never split by a shell"
eq "$(ls "$T"/alert.*.json | wc -l | tr -d ' ')" "2" "one alert per late partition"


# --- meshctl products
run_ctl 0 "products" products
has "$T/out" "test.ok" "products lists test.ok"
has "$T/out" "tests@example.org" "with its owner"
has "$T/out" "late 2 (1 unpublished)" "its freshness: 2 late, 1 still not published"
has "$T/out" "2001-01-11 at " "its last published partition"
run_ctl 0 "products --json" products --json
eq "$(jq -r '.products[] | select(.product == "test.ok") | [.domain, .owner, .last_published_partition, .freshness, .late_count, .late_unpublished, .counts.quarantined, .freshness_s] | join(" ")' "$T/out")" \
    "test tests@example.org 2001-01-11 late 2 1 1 3600" "products --json: domain, owner, last published, freshness, quarantined"
run_ctl 0 "products --domain test" products --domain test --json
eq "$(jq -r '.products | length' "$T/out")" "1" "--domain keeps the domain's products"
run_ctl 0 "products --domain nope" products --domain nope
has "$T/out" "no products of domain 'nope'" "an empty domain says so"

# --- meshctl product
run_ctl 0 "product test.ok" product test.ok
has "$T/out" "description: the ok test product" "the card has the description"
has "$T/out" "contract:    1.0" "the contract version"
has "$T/out" "freshness:   each partition published within 3600s of its interval end; 2 late so far" "the SLO and the late count"
has "$T/out" "told_to_fail" "the checks of the newest build"
run_ctl 0 "product --json" product test.ok --json
eq "$(jq -r '[.partitions[].partition] | join(" ")' "$T/out")" "2001-01-12 2001-01-11 2001-01-10" "partitions newest first"
eq "$(jq -r '[.partitions[] | (.late_us != null)] | map(tostring) | join(" ")' "$T/out")" "true false true" "each says whether it was late"
eq "$(jq -r '[.checks[] | .check + ":" + (.passed | tostring)] | join(" ")' "$T/out")" "told_to_fail:false" "the newest build's checks"
run_ctl 0 "product, a page of one" product test.ok --limit 1
has "$T/out" "(more partitions: meshctl product ... --cursor " "a page names the next"
run_ctl 0 "product, a page of one --json" product test.ok --limit 1 --json
cur=$(jq -r '.next_cursor' "$T/out")
run_ctl 0 "product, the next page" product test.ok --limit 1 --cursor "$cur" --json
eq "$(jq -r '([.partitions[].partition] | join(" ")) + " " + (.next_cursor != null | tostring)' "$T/out")" "2001-01-11 true" "--cursor gives the next page"
run_ctl 2 "product, a forged cursor" product test.ok --cursor 'zz..'
has "$T/err" "--cursor: 'zz..' is not a cursor" "a bad cursor is refused"
run_ctl 0 "product --state" product test.ok --state quarantined --json
eq "$(jq -r '[.partitions[].partition] | join(" ")' "$T/out")" "2001-01-12" "--state filters"
run_ctl 2 "product: an unknown product" product test.nope
has "$T/err" "unknown product 'test.nope' (products: test.ok)" "it names the products there are"
run_ctl 2 "product --state: an unknown state" product test.ok --state nope

# --- meshctl checks
run_ctl 1 "checks of a quarantined partition" checks test.ok --partition 2001-01-12
has "$T/out" "told_to_fail" "the failed check"
has "$T/out" "FAILED" "says it failed"
has "$T/out" "no fail_if file" "with what was expected"
has "$T/out" "staging output kept for inspection: $T/state/staging/fresh/2001-01-12" "where the staging is kept"
run_ctl 1 "checks --json" checks test.ok --partition 2001-01-12 --json
eq "$(jq -r '[.state, .checks[0].check, .checks[0].severity, (.checks[0].passed | tostring), (.checks[0].observed | tostring), .checks[0].expected, (.staging.kept | tostring)] | join(" ")' "$T/out")" \
    "quarantined told_to_fail error false 1 no fail_if file true" "checks --json: observed vs expected, and the staging"
eq "$(jq -r '.staging.path' "$T/out")" "$T/state/staging/fresh/2001-01-12" "checks --json names the staging path"
run_ctl 0 "checks of a published partition" checks test.ok --partition 2001-01-11
has "$T/out" "rows_min" "its passed check"
run_ctl 2 "checks: an unknown partition" checks test.ok --partition 1999-01-01
has "$T/err" "product test.ok has no partition '1999-01-01' (newest: 2001-01-12, 2001-01-11, 2001-01-10)" "it names the newest partitions"
run_ctl 2 "checks: an unknown product" checks nope.x --partition 2001-01-12
run_ctl 2 "checks without --partition" checks test.ok
stop_meshd

# --- a restart judges nothing twice; quarantine_retention removes the
# kept staging once the partition has been quarantined that long (the
# wall clock: the quarantine was recorded by it).
conf "freshness_alert = [ \"$T/hook.sh\", \"--team\", \"ops; rm -rf /\" ];" \
    "shutdown_grace = 1;" "quarantine_retention = 2;"
start_meshd
i=0; while [ $i -lt 100 ] && [ -d "$T/state/staging/fresh/2001-01-12" ]; do sleep 0.1; i=$((i + 1)); done
test -d "$T/state/staging/fresh/2001-01-12" && fail "the quarantined staging is removed after the retention" || ok "the quarantined staging is removed after the retention"
test -d "$T/state/staging/fresh/2001-01-11" && ok "a published partition's staging is not touched" || fail "a published partition's staging is not touched"
# The line follows the removal: wait for it rather than race it.
wait_for "the removal is logged" 20 logged "job=fresh partition=2001-01-12: quarantined staging $T/state/staging/fresh/2001-01-12 removed after 2s (quarantine_retention)"
eq "$(sql "SELECT late_count FROM products WHERE name = 'test.ok'")" "2" "a restart counts no partition twice"
eq "$(ls "$T"/alert.*.json | wc -l | tr -d ' ')" "2" "and alerts none twice"
stop_meshd
finish
