#!/bin/sh
# End-to-end: the SDK as a domain team meets it (sdk/README.md).
#  - `make install` into a scratch root; the header and meshd-plugin.pc
#    land under it, and contrib/plugin-template builds out of tree with
#    its own Makefile against them alone (pkg-config, not the source
#    tree), installs with the permissions the loader's path check wants,
#    and loads with `meshctl plugin info` and `meshctl validate`;
#  - the template's published partition has a row count in the catalog;
#  - a published partition whose rerun fails its checks stays published
#    (the warehouse keeps the old rows; the catalog says both);
#  - plugin info and validate warn about a plugin exporting more than its
#    entry, and about one using SQLite without linking it, and about
#    none of the shipped plugins.
. "$(dirname "$0")/e2e-lib.sh"

# ------------------------------------------------------------ install
# DESTDIR: the configured prefix, under a scratch root.  The .pc file says
# the configured prefix; PKG_CONFIG_SYSROOT_DIR puts the root in front,
# as for any staged install.
D="$T/root"
prefix=$(sed -n 's/^prefix=//p' "$top_builddir/sdk/meshd-plugin.pc")
includedir=$(PKG_CONFIG_PATH="$top_builddir/sdk" pkg-config \
    --variable=includedir meshd-plugin)
libdir=$(PKG_CONFIG_PATH="$top_builddir/sdk" pkg-config \
    --variable=libdir meshd-plugin)
if (unset MAKEFLAGS MFLAGS MAKELEVEL; make -s -C "$top_builddir" install \
    DESTDIR="$D") >"$T/install" 2>&1; then
	ok "make install DESTDIR=... (prefix $prefix)"
else
	fail "make install DESTDIR=$D"
	tail -n 20 "$T/install" | sed 's/^/    | /'
fi
test -f "$D$includedir/meshd/plugin.h" &&
    ok "the header is \$includedir/meshd/plugin.h" ||
    fail "no $D$includedir/meshd/plugin.h"
test -f "$D$libdir/pkgconfig/meshd-plugin.pc" &&
    ok "the .pc file is \$libdir/pkgconfig/meshd-plugin.pc" ||
    fail "no $D$libdir/pkgconfig/meshd-plugin.pc"
test -x "$D$prefix/bin/meshctl" && test -f "$D$libdir/meshd/plugins/flights.so" &&
    ok "meshctl and the shipped plugins are installed" ||
    fail "meshctl or plugins/flights.so not installed"
PKG_CONFIG_PATH="$D$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D"
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
cflags=$(pkg-config --cflags meshd-plugin | sed 's/ *$//')
eq "$cflags" "-I$D$includedir -fPIC" "pkg-config --cflags meshd-plugin"
# (The sysroot is in front of every path pkg-config gives.)
eq "$(pkg-config --variable=plugindir meshd-plugin)" "$D$libdir/meshd/plugins" \
    "pkg-config --variable=plugindir meshd-plugin"
eq "$(pkg-config --variable=abi_major meshd-plugin)" \
    "$(sed -n 's/^#define MESHD_ABI_MAJOR //p' "$top_srcdir/sdk/meshd/plugin.h")" \
    "the .pc file's abi_major is the header's"

# The guide's worked example is the template, verbatim.
awk '/^## A worked example/ { w = 1 } w && /^```c$/ { c = 1; next }
    c && /^```$/ { exit } c' "$top_srcdir/sdk/README.md" >"$T/readme.c"
if cmp -s "$T/readme.c" "$top_srcdir/contrib/plugin-template/template.c"; then
	ok "sdk/README.md's worked example is template.c"
else
	fail "sdk/README.md's worked example differs from template.c"
	diff "$T/readme.c" "$top_srcdir/contrib/plugin-template/template.c" |
	    head -n 20 | sed 's/^/    | /'
fi

# ------------------------------------------------------------ out of tree
# A copy of the template, as the README says; its Makefile, its flags.
# -MD records the headers the compiler read: the installed one, not the
# source tree's.
cp -r "$top_srcdir/contrib/plugin-template" "$T/my-plugin"
chmod -R u+w "$T/my-plugin"
rm -f "$T/my-plugin/template.so"
if (unset MAKEFLAGS MFLAGS MAKELEVEL; cd "$T/my-plugin" &&
    make CFLAGS="-O2 -MD" CC="${CC:-cc}") >"$T/build" 2>&1; then
	ok "the template builds out of tree with its Makefile"
else
	fail "make in a copy of contrib/plugin-template"
	sed 's/^/    | /' "$T/build"
fi
has "$T/my-plugin/template.d" "$D$includedir/meshd/plugin.h" \
    "it includes the installed header"
hasnt "$T/my-plugin/template.d" "$top_srcdir/sdk" \
    "and nothing of the source tree's SDK"

# Installed as the README says: install -m 0755 into a directory only its
# owner can write.  (The scratch directory is under the sticky /tmp, which
# MESHD_INSECURE_PLUGIN_PATHS=1 from Makefile.am lets stand above it.)
if (unset MAKEFLAGS MFLAGS MAKELEVEL; umask 002; make -C "$T/my-plugin" \
    install PLUGINDIR="$T/plugins") >"$T/build" 2>&1; then
	ok "the template's make install PLUGINDIR=..."
else
	fail "make install in the template's copy"
	sed 's/^/    | /' "$T/build"
fi
eq "$(stat -c %a "$T/plugins" "$T/plugins/template.so" | tr '\n' ' ')" \
    "755 755 " "... writes 0755, even under umask 002"
chmod 0775 "$T/plugins"
run_ctl 1 "a group-writable plugin directory is refused" \
    plugin info "$T/plugins/template.so"
has "$T/err" "directory '$T/plugins' is group-writable" \
    "... naming the directory"
chmod 0755 "$T/plugins"
chmod 0664 "$T/plugins/template.so"
run_ctl 1 "a group-writable plugin file is refused" \
    plugin info "$T/plugins/template.so"
chmod 0755 "$T/plugins/template.so"
run_ctl 0 "meshctl plugin info loads it" plugin info "$T/plugins/template.so"
has "$T/out" "name:        template 0.1.0" "... the descriptor"
has "$T/out" "product:     example.readings" "... its product"
eq "$(cat "$T/err")" "" "... with no warning"

# Its job, as the README says.
cat >"$T/meshd.conf" <<CONF
state_db = "state/state.db";
jobs_dir = "jobs";
plugin_path = [ "$T/plugins", "$TP" ];
log_dir = "state/logs";
staging_dir = "state/staging";
workers = 2;
CONF
cp "$top_srcdir/contrib/plugin-template/template.conf" \
    "$T/jobs/template_readings.conf"
cp "$top_srcdir/contrib/plugin-template/readings.csv" "$T/jobs/readings.csv"
mkdir -p "$T/state/readings"
run_ctl 0 "meshctl validate accepts the template's job" validate
hasnt "$T/err" "warning" "... with no warning"

# ------------------------------------------------------------ row counts
run_ctl 0 "run 2001-01-01" run template_readings --partition 2001-01-01
cp "$T/state/readings/2001-01-01.csv" "$T/good.csv"
eq "$(wc -l <"$T/good.csv" | tr -d ' ')" "8" "8 rows published"
run_ctl 0 "catalog --json" catalog --json
eq "$(jq -r '.products[] | select(.product == "example.readings") | .rows' "$T/out")" \
    "8" "catalog: the product's row count is the publish stage's"
run_ctl 0 "catalog example.readings --json" catalog example.readings --json
eq "$(jq -r '.partitions[] | select(.partition == "2001-01-01") | "\(.state) \(.rows) v\(.version)"' "$T/out")" \
    "published 8 v1" "catalog PRODUCT: the partition has its row count"
run_ctl 0 "products --json" products --json
run_ctl 0 "product example.readings" product example.readings
grep -E '^2001-01-01 +published .* 8 +1 ' "$T/out" >/dev/null &&
    ok "product: the partition shows 8 rows" ||
    { fail "product: no row count for 2001-01-01"; sed 's/^/    | /' "$T/out"; }

# ------------------------------------------------------------ rerun
# The source changes under the published day: a value out of range.  The
# rerun's check fails, publish never runs, the warehouse keeps the old
# rows, and the catalog says the published version is still current, with
# the quarantined rerun beside it.
sed 's/^2001-01-01T03:00:00Z,26.7$/2001-01-01T03:00:00Z,99.9/' \
    "$top_srcdir/contrib/plugin-template/readings.csv" >"$T/jobs/readings.csv"
grep -q '99.9' "$T/jobs/readings.csv" || fail "the test's bad reading is not in"
run_ctl 1 "a rerun of 2001-01-01 with a bad reading fails" \
    run template_readings --partition 2001-01-01 --rerun
if cmp -s "$T/good.csv" "$T/state/readings/2001-01-01.csv"; then
	ok "the warehouse still holds the published rows"
else
	fail "the published partition changed after a quarantined rerun"
fi
run_ctl 0 "catalog example.readings --json" catalog example.readings --json
eq "$(jq -r '.partitions[] | select(.partition == "2001-01-01") | "\(.state) \(.rows) v\(.version) \(.rerun.state)"' "$T/out")" \
    "published 8 v1 quarantined" \
    "catalog: still published (v1, 8 rows), the rerun quarantined beside it"
jq -r '.partitions[] | select(.partition == "2001-01-01") | .rerun.failed_checks[] | "\(.check) (observed \(.observed)"' \
    "$T/out" >"$T/why"
has "$T/why" "value_range (observed 1" "... with the rerun's failed check"
run_ctl 0 "catalog example.readings" catalog example.readings
has "$T/out" "rerun quarantined (run " "catalog PRODUCT says so in text"
run_ctl 0 "catalog" catalog
has "$T/out" "example.readings 2001-01-01 (rerun quarantined; the published version stays current): value_range" \
    "catalog lists the quarantined rerun"
run_ctl 0 "product example.readings --json" product example.readings --json
eq "$(jq -r '.partitions[] | select(.partition == "2001-01-01") | "\(.state) \(.rerun.state)"' "$T/out")" \
    "published quarantined" "product --json: the same"
# The rerun beside the published version, in the questions' own schemas.
for q in product catalog; do
	if [ "$q" = product ]; then a="product example.readings"; else a=catalog; fi
	"$MESHCTL" $a --json >"$T/doc.json" 2>/dev/null
	"$top_builddir/tests/read-schema" "$q" >"$T/schema.json"
	/usr/bin/python3 "$top_srcdir/tests/read-validate.py" "$T/schema.json" "$T/doc.json" >"$T/verr" 2>&1 &&
	    ok "$q --json with a quarantined rerun validates against its schema" ||
	    { fail "$q --json with a quarantined rerun does not validate"; head -n 5 "$T/verr"; }
done
eq "$(jq -r '.products[] | select(.product == "example.readings") | .quarantined_partitions[] | "\(.partition) \(.state) \(.rerun) \(.failed_checks[0].check)"' "$T/doc.json")" \
    "2001-01-01 published true value_range" "catalog --json: the rerun with its failed check"
eq "$(sql "SELECT state || ' ' || version || ' ' || \"rows\" FROM product_partitions WHERE partition_key = '2001-01-01'")" \
    "published 1 8" "state: published, version 1, 8 rows"

# A partition never published is quarantined outright.
run_ctl 1 "2001-01-03 (a bad reading) fails" run template_readings --partition 2001-01-03
run_ctl 0 "catalog example.readings --json" catalog example.readings --json
eq "$(jq -r '.partitions[] | select(.partition == "2001-01-03") | "\(.state) \(.rerun)"' "$T/out")" \
    "quarantined null" "a first run that fails its checks is quarantined"
test -e "$T/state/readings/2001-01-03.csv" &&
    fail "a quarantined partition was published" ||
    ok "nothing published for it"

# The source is fixed: the next rerun publishes version 2, and the
# quarantined rerun is gone from the catalog.
cp "$top_srcdir/contrib/plugin-template/readings.csv" "$T/jobs/readings.csv"
run_ctl 0 "rerun 2001-01-01 with good data" run template_readings --partition 2001-01-01
run_ctl 0 "catalog example.readings --json" catalog example.readings --json
eq "$(jq -r '.partitions[] | select(.partition == "2001-01-01") | "\(.state) \(.rows) v\(.version) \(.rerun)"' "$T/out")" \
    "published 8 v2 null" "a later publish replaces the version and clears the rerun"

# ------------------------------------------------------------ warnings
run_ctl 0 "plugin info: a plugin exporting helpers is loadable" \
    plugin info "$TP/exports.so"
has "$T/err" "warning: $TP/exports.so: exports 2 symbols beyond meshd_plugin_descriptor" \
    "... with a warning naming the count"
has "$T/err" "exports_helper" "... and the symbols"
has "$T/err" "-fvisibility=hidden" "... and the fix"
run_ctl 0 "plugin info: a plugin using SQLite unlinked is loadable" \
    plugin info "$TP/nolink.so" --json
has "$T/err" "warning: $TP/nolink.so: uses 1 symbol that no library it links defines: sqlite3_libversion" \
    "... with a warning naming the symbol"
eq "$(jq -r '.warnings | length' "$T/out")" "1" "--json carries the warning"

# In validate: warnings, exit 0, placed at the task.
mkdir -p "$T/jobs2"
cat >"$T/jobs2/lint.conf" <<'JOB'
name = "lint";
domain = "test";
owner = "tests@example.org";
schedule = "none";
tasks = (
  { id = "a"; plugin = "exports"; stage = "extract"; },
  { id = "b"; plugin = "nolink"; stage = "extract"; after = [ "a" ]; }
);
JOB
sed 's|^jobs_dir = .*|jobs_dir = "jobs2";|' "$T/meshd.conf" >"$T/lint.conf"
run_ctl 0 "validate: only warnings, exit 0" -c "$T/lint.conf" validate
has "$T/err" "lint.conf:6: warning: task 'a': $TP/exports.so: exports 2 symbols" \
    "validate warns at the task using the exporting plugin"
has "$T/err" "lint.conf:7: warning: task 'b': $TP/nolink.so: uses 1 symbol" \
    "validate warns at the task using the unlinked one"
has "$T/out" "ok: 1 job, 2 tasks, 2 plugins, 2 warnings" "... ok, with two warnings"

# What meshd ships, and the template however built: no warning at all.
for so in "$top_builddir"/plugins/.libs/*.so \
    "$top_builddir/contrib/plugin-template/.libs/template.so" \
    "$D$libdir/meshd/plugins/"*.so "$T/plugins/template.so"; do
	"$MESHCTL" plugin info "$so" >/dev/null 2>"$T/err"
	rc=$?
	if [ "$rc" -eq 0 ] && [ ! -s "$T/err" ]; then
		ok "no warning for $(basename "$(dirname "$(dirname "$so")")")/$(basename "$so")"
	else
		fail "plugin info $so: exit $rc"
		sed 's/^/    | /' "$T/err"
	fi
done

finish
