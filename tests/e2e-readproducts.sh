#!/bin/sh
# End-to-end: the read layer's data-product questions (catalog, products,
# product, checks, lineage) on the state the demo leaves behind (three
# domains, quarantined flights days, a cleared and rebuilt day, lineage
# across domains).  Every `meshctl X --json` validates against question
# X's own JSON Schema (the one the HTTP API publishes); pages walked by
# cursor add up to the whole list, newest first, with no partition twice;
# an unknown product is refused with the list of products; forged
# cursors, bad limits and states are refused; a page is read from an
# index, never by sorting the history.
. "$(dirname "$0")/e2e-lib.sh"
held=2001-01-12
SCHEMA="$top_builddir/tests/read-schema"
VALIDATE="$top_srcdir/tests/read-validate.py"
[ -x "$SCHEMA" ] || { fail "tests/read-schema is not built"; finish; }
/usr/bin/python3 -c 'import jsonschema' ||
    { fail "python3-jsonschema is missing"; finish; }

if sh "$top_srcdir/contrib/demo.sh" "$top_srcdir" \
    "$top_builddir" "$T/demo" >"$T/demo.out" 2>&1; then
	ok "contrib/demo.sh exits 0"
else
	fail "contrib/demo.sh failed"
	tail -n 30 "$T/demo.out" | sed 's/^/    | /'
	finish
fi
export MESHD_CONFIG="$T/demo/meshd.conf"
st() { sqlite3 "$T/demo/state/state.db" "$1"; }

# valid Q FILE DESC: FILE is a valid document of question Q.
valid() {
	"$SCHEMA" "$1" >"$T/schema.json" || { fail "$3: no schema for $1"; return; }
	if /usr/bin/python3 "$VALIDATE" "$T/schema.json" "$2" >"$T/verr" 2>&1; then
		ok "$3"
	else
		fail "$3"
		sed 's/^/    | /' "$T/verr" | head -n 10
	fi
}

# ------------------------------------------------------------ documents
run_ctl 0 "catalog --json" catalog --json
valid catalog "$T/out" "catalog --json validates against the catalog schema"
cp "$T/out" "$T/catalog.json"
eq "$(jq -r '[.products[] | .domain + ":" + .product] | join(" ")' "$T/out")" \
    "analytics:analytics.airport_delays geo:geo.airports ops:ops.flights" \
    "catalog: the products by domain, then name"
q=$(jq -r '[.products[] | select(.product == "ops.flights") | .quarantined_partitions[] | select(.state == "quarantined") | .partition] | first // ""' "$T/out")
[ -n "$q" ] && ok "catalog: ops.flights has a quarantined partition ($q)" ||
    fail "catalog: no quarantined ops.flights partition listed"
eq "$(jq -r '.products[] | select(.product == "ops.flights") | .counts.quarantined' "$T/out")" \
    "$(st "SELECT count(*) FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = 'ops.flights' AND pp.state = 'quarantined'")" \
    "catalog: the quarantined count is the state's"
has "$T/out" '"check": "max_delay"' "catalog: the failed check is named"
run_ctl 0 "catalog --json again" catalog --json
cmp -s "$T/out" "$T/catalog.json" && ok "the same state gives the same document, byte for byte" ||
    fail "catalog --json differs between two asks of the same state"
run_ctl 0 "catalog" catalog
has "$T/out" "quarantined partitions:" "catalog text lists the quarantined partitions"
has "$T/out" "ops.flights $q: max_delay (observed " "with the failed check, observed vs expected"

run_ctl 0 "products --json" products --json
valid products "$T/out" "products --json validates against the products schema"
eq "$(jq -r '[.products[].product] | join(" ")' "$T/out")" \
    "analytics.airport_delays geo.airports ops.flights" "products: by name"
run_ctl 0 "products --domain ops --json" products --domain ops --json
valid products "$T/out" "products --domain validates"
eq "$(jq -r '[.products[].product] | join(" ")' "$T/out")" "ops.flights" "--domain keeps one domain"

for p in analytics.airport_delays geo.airports ops.flights; do
	run_ctl 0 "product $p --json" product "$p" --json
	valid product "$T/out" "product $p --json validates against the product schema"
done
run_ctl 0 "product ops.flights --state quarantined --json" product ops.flights --state quarantined --json
valid product "$T/out" "product --state validates"
eq "$(jq -r '[.partitions[] | select(.state != "quarantined")] | length' "$T/out")" "0" "--state keeps one state"
eq "$(jq -r '[.partitions[] | select((.failed_checks | length) == 0)] | length' "$T/out")" "0" \
    "every quarantined partition says which checks failed"

run_ctl 1 "checks of a quarantined partition: exit 1" checks ops.flights --partition "$q" --json
valid checks "$T/out" "checks --json (quarantined) validates against the checks schema"
eq "$(jq -r '[.state, (.summary.failed_errors > 0 | tostring), (.staging != null | tostring)] | join(" ")' "$T/out")" \
    "quarantined true true" "checks: quarantined, failed errors counted, its staging named"
eq "$(jq -r '[.checks[] | select(.passed == false and .severity == "error") | .check] | sort | join(" ")' "$T/out")" \
    "$(jq -r --arg q "$q" '.products[] | select(.product == "ops.flights") | .quarantined_partitions[] | select(.partition == $q) | [.failed_checks[].check] | sort | join(" ")' "$T/catalog.json")" \
    "the checks that failed are the ones the catalog names"
run_ctl 1 "checks, a page of one" checks ops.flights --partition "$q" --limit 1 --json
cur=$(jq -r '.next_cursor // ""' "$T/out")
[ -n "$cur" ] && ok "a page of one check names the next" || fail "no next_cursor after one check"
run_ctl 1 "checks, the next page" checks ops.flights --partition "$q" --limit 1 --cursor "$cur" --json
valid checks "$T/out" "checks' second page validates"
run_ctl 1 "checks text" checks ops.flights --partition "$q"
has "$T/out" "max_delay                error  FAILED" "checks text: the failed check in its columns"
run_ctl 0 "checks of the rebuilt day: exit 0" checks ops.flights --partition "$held" --json
valid checks "$T/out" "checks --json (published) validates"
eq "$(jq -r '[.state, .summary.failed_errors, .staging] | map(tostring) | join(" ")' "$T/out")" \
    "published 0 null" "the rebuilt day passed, no staging kept"

run_ctl 0 "lineage upstream --json" lineage analytics.airport_delays --partition "$held" --json
valid lineage "$T/out" "lineage --json validates against the lineage schema"
eq "$(jq -r '.nodes as $n | [.edges[] | select(.to == 0) | $n[.from] | .product + " " + .partition] | sort | join(", ")' "$T/out" | grep -o "geo.airports current\|ops.flights $held" | sort -u | tr '\n' ',')" \
    "geo.airports current,ops.flights $held," "lineage: the day was built from its flights day and the airports"
eq "$(jq -r '(.nodes | length) as $k | [.edges[] | select(.from >= $k or .to >= $k)] | length' "$T/out")" "0" \
    "every edge joins two nodes of the graph"
eq "$(jq -r '[.nodes[] | .product + " " + .partition] | (length == (unique | length))' "$T/out")" "true" \
    "each partition is one node"
run_ctl 0 "lineage downstream --json" lineage ops.flights --partition "$held" --downstream --json
valid lineage "$T/out" "lineage --downstream --json validates"
eq "$(jq -r '.nodes as $n | [.edges[] | select(.from == 0) | $n[.to].product] | join(" ")' "$T/out")" \
    "analytics.airport_delays" "downstream: the analytics day was built from it"
run_ctl 0 "lineage --depth 1 --json" lineage analytics.airport_delays --partition "$held" --depth 1 --json
eq "$(jq -r '[.nodes[].depth] | max' "$T/out")" "1" "--depth 1 stops one step away"
run_ctl 0 "lineage text" lineage analytics.airport_delays --partition "$held"
has "$T/out" "analytics.airport_delays $held v1  published; job analytics_daily" "lineage text: the root"
has "$T/out" "<- ops.flights $held v1  published; job flights_daily" "lineage text: its input"
run_ctl 0 "lineage dot" lineage analytics.airport_delays --partition "$held" --format dot
has "$T/out" "\"ops.flights $held\" -> \"analytics.airport_delays $held\"" "dot: edges point downstream"

# ------------------------------------------------------------ paging
P=analytics.airport_delays
run_ctl 0 "all of $P's partitions" product "$P" --limit 10000 --json
jq -r '.partitions[].partition' "$T/out" >"$T/all"
n=$(wc -l <"$T/all" | tr -d ' ')
[ "$n" -ge 20 ] && ok "$P has $n partitions" || fail "$P has only $n partitions"
sort -r "$T/all" | cmp -s - "$T/all" && ok "newest first" || fail "partitions are not newest first"
: >"$T/paged"; cur=""; pages=0
while :; do
	if [ -n "$cur" ]; then
		"$MESHCTL" product "$P" --limit 7 --cursor "$cur" --json >"$T/page" 2>"$T/err"
	else
		"$MESHCTL" product "$P" --limit 7 --json >"$T/page" 2>"$T/err"
	fi || { fail "a page failed: $(cat "$T/err")"; break; }
	pages=$((pages + 1))
	[ "$(jq '.partitions | length' "$T/page")" -le 7 ] || fail "a page holds more than --limit"
	jq -r '.partitions[].partition' "$T/page" >>"$T/paged"
	cur=$(jq -r '.next_cursor // ""' "$T/page")
	[ -n "$cur" ] && [ "$pages" -lt 100 ] || break
done
cmp -s "$T/all" "$T/paged" && ok "the $pages pages of 7 are all the partitions, in order" ||
    { fail "pages differ from the whole list"; diff "$T/all" "$T/paged" | head; }
eq "$(sort "$T/paged" | uniq -d | wc -l | tr -d ' ')" "0" "no partition on two pages"
eq "$pages" "$(( (n + 6) / 7 ))" "as many pages as it takes, no empty last one"
run_ctl 0 "page 1 of published" product "$P" --state published --limit 5 --json
jq -r '.partitions[].partition' "$T/out" >"$T/p1"
cur=$(jq -r '.next_cursor' "$T/out")
run_ctl 0 "page 2 of published" product "$P" --state published --limit 5 --cursor "$cur" --json
jq -r '.partitions[].partition' "$T/out" >"$T/p2"
"$MESHCTL" product "$P" --state published --limit 10 --json | jq -r '.partitions[].partition' >"$T/p12"
cat "$T/p1" "$T/p2" | cmp -s - "$T/p12" && ok "page 1 + page 2 of --state published = the first 10" ||
    fail "published pages do not add up"
run_ctl 0 "a page of one product" product "$P" --limit 1
has "$T/out" "(more partitions: meshctl product ... --cursor " "the text names the next page"
: >"$T/cat"; cur=""
for i in 1 2 3 4; do
	if [ -n "$cur" ]; then set -- --cursor "$cur"; else set --; fi
	"$MESHCTL" catalog --limit 1 --json "$@" >"$T/page" 2>/dev/null
	jq -r '.products[].product' "$T/page" >>"$T/cat"
	cur=$(jq -r '.next_cursor // ""' "$T/page")
	[ -n "$cur" ] || break
done
eq "$(tr '\n' ' ' <"$T/cat")" "analytics.airport_delays geo.airports ops.flights " "catalog pages of one: every product once"
eq "$i" "3" "and no empty fourth page"

# The pages are read from an index from the cursor, not sorted whole.
plan=$(st "EXPLAIN QUERY PLAN SELECT partition_key FROM product_partitions WHERE product_id = 1 AND state = 'published' AND partition_key < '2001-01-20' ORDER BY partition_key DESC LIMIT 8")
case "$plan" in
*"INDEX product_partitions_product_state_key"*) ok "a state's page walks product_partitions_product_state_key" ;;
*) fail "no index for a state's page: $plan" ;;
esac
case "$plan" in
*"TEMP B-TREE"*) fail "a state's page sorts: $plan" ;;
*) ok "a state's page is not sorted" ;;
esac

# ------------------------------------------------------------ refusals
run_ctl 2 "product: an unknown product" product ops.flightz
has "$T/err" "unknown product 'ops.flightz' (products: analytics.airport_delays, geo.airports, ops.flights)" \
    "it names the products there are"
run_ctl 2 "catalog PRODUCT: an unknown product" catalog nope
has "$T/err" "unknown product 'nope' (products: " "catalog PRODUCT too"
run_ctl 2 "checks: an unknown product" checks nope --partition "$held"
has "$T/err" "unknown product 'nope' (products: " "checks too"
run_ctl 2 "lineage: an unknown product" lineage nope --partition "$held"
has "$T/err" "unknown product 'nope' (products: " "lineage too"
run_ctl 2 "checks: an unknown partition" checks ops.flights --partition 1999-01-01
has "$T/err" "product ops.flights has no partition '1999-01-01' (newest: " "it names the newest partitions"
run_ctl 2 "lineage: an unknown partition" lineage ops.flights --partition "'; DROP TABLE products; --"
eq "$(st "SELECT count(*) FROM products")" "3" "a hostile key is only a key"
run_ctl 2 "a forged cursor" product ops.flights --cursor "not-a-cursor"
has "$T/err" "--cursor: 'not-a-cursor' is not a cursor" "says so"
run_ctl 2 "a cursor of the wrong shape" catalog --cursor 6f7073
run_ctl 2 "--limit 0" product ops.flights --limit 0
run_ctl 2 "--limit huge" catalog --limit 99999999999
run_ctl 2 "--state bogus" product ops.flights --state bogus
has "$T/err" "--state: unknown partition state 'bogus'" "names the bad state"
run_ctl 2 "--state is not the catalog's" catalog --state published
has "$T/err" "--state is for the partitions of one PRODUCT" "says what --state is for"
run_ctl 2 "--since is not an option of products" products --since 1d
run_ctl 2 "--depth 0" lineage ops.flights --partition "$held" --depth 0
run_ctl 2 "--depth 65" lineage ops.flights --partition "$held" --depth 65
run_ctl 2 "--domain with PRODUCT" catalog ops.flights --domain ops

# A state that cannot be opened is exit 3, after the usage checks.
mv "$T/demo/state/state.db" "$T/demo/state/state.db.away"
run_ctl 3 "no state: catalog" catalog
run_ctl 2 "no state: a bad --limit is still a usage error" product ops.flights --limit 0
mv "$T/demo/state/state.db.away" "$T/demo/state/state.db"
finish
