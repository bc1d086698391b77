#!/bin/sh
# End-to-end: the Debian packages (issue 15, item 4), as an operator meets
# them on a throwaway machine.
#  - contrib/debian, copied to ./debian of the distributed tree (`make
#    distdir`: what the customer ships), builds meshd, libmeshd-plugin-dev
#    and meshd-demo with `dpkg-buildpackage -us -uc`; lintian finds no
#    error or warning that is not overridden with its reason;
#  - the packages install (dpkg -i) with the right files in each and
#    /etc/meshd/meshd.conf a conffile; the installed meshd and meshctl use
#    /etc/meshd and /var/lib/meshd; the SDK builds the installed template;
#  - the installed demo runs from the installed paths alone (no build
#    tree, the plugin path checks on);
#  - purge removes the programs, the conffile, the state and the logs.
# It installs packages on the machine: root, or sudo without a password;
# otherwise it FAILS (it never skips).  About 2 to 4 minutes, most of it
# the package build (DEB_BUILD_OPTIONS=nocheck: the suite already ran).
. "$(dirname "$0")/e2e-lib.sh"

unset MAKEFLAGS MFLAGS MAKELEVEL MESHD_CONFIG MESHD_INSECURE_PLUGIN_PATHS
pkgs="meshd-demo libmeshd-plugin-dev meshd"
t0=$(date +%s)
phase() { echo "# $1: $(( $(date +%s) - t0 )) s"; }

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	SUDO="sudo -n"
else
	fail "e2e-deb installs packages: run it as root or with passwordless sudo"
	finish; exit 1
fi
missing=""
for c in dpkg-buildpackage dh lintian fakeroot dpkg-query; do
	command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
dpkg-query -W -f='${Status}' dh-sequence-installsysusers 2>/dev/null |
    grep -q 'ok installed' || dpkg --compare-versions \
    "$(dpkg-query -W -f='${Version}' debhelper 2>/dev/null)" ge 13.11 ||
    missing="$missing debhelper>=13.11"
if [ -n "$missing" ]; then
	fail "missing:$missing (contrib/install-deps installs them)"
	finish; exit 1
fi
for p in $pkgs; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$\| config-files$'; then
		fail "$p is already installed here: this test installs and purges it (dpkg --purge $pkgs first)"
		finish; exit 1
	fi
done
# Whatever happens below, the machine is left without the packages.
installed=0
trap 'if [ "$installed" -eq 1 ]; then $SUDO dpkg --purge $pkgs >/dev/null 2>&1; fi
    chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

# ------------------------------------------------------------ build
version=$(sed -n '1s/^meshd (\([^)]*\)).*/\1/p' "$top_srcdir/contrib/debian/changelog")
S="$T/meshd-$version"
if make -s -C "$top_builddir" distdir distdir="$S" >"$T/distdir" 2>&1; then
	ok "make distdir"
else
	fail "make distdir"; tail -n 20 "$T/distdir" | sed 's/^/    | /'
fi
cp -r "$S/contrib/debian" "$S/debian"
if (cd "$S" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
    dpkg-buildpackage -us -uc) >"$T/build" 2>&1; then
	ok "dpkg-buildpackage -us -uc builds the packages"
else
	fail "dpkg-buildpackage -us -uc"
	tail -n 40 "$T/build" | sed 's/^/    | /'
	finish; exit 1
fi
phase "built"
for p in $pkgs; do
	test -f "$T/${p}_${version}_$(dpkg --print-architecture).deb" ||
	    fail "no package $p"
done
deb() { echo "$T/${1}_${version}_$(dpkg --print-architecture).deb"; }
grep -E 'warning: ' "$T/build" | grep -v '^libtool' | sed 's/^/# build warning: /'
changes="$T/meshd_${version}_$(dpkg --print-architecture).changes"
if lintian --fail-on error,warning "$changes" >"$T/lintian" 2>&1; then
	ok "lintian: no error or warning but those overridden with their reason"
else
	fail "lintian"
	sed 's/^/    | /' "$T/lintian"
fi
grep -q unused-override "$T/lintian" && fail "lintian: unused override" ||
    ok "lintian: no override unused"
phase "lintian"

# What goes where.
dpkg -c "$(deb meshd)" | awk '{ print $6 }' | sed 's|^\.||' >"$T/meshd.list"
dpkg -c "$(deb libmeshd-plugin-dev)" | awk '{ print $6 }' | sed 's|^\.||' >"$T/dev.list"
dpkg -c "$(deb meshd-demo)" | awk '{ print $6 }' | sed 's|^\.||' >"$T/demo.list"
for f in /usr/sbin/meshd /usr/bin/meshctl /usr/bin/meshd-worker \
    /etc/meshd/meshd.conf /etc/meshd/jobs/ /lib/systemd/system/meshd.service \
    /usr/lib/sysusers.d/meshd.conf /usr/lib/tmpfiles.d/meshd.conf \
    /usr/share/man/man8/meshd.8.gz /usr/share/man/man1/meshctl.1.gz \
    /usr/share/man/man5/meshd.conf.5.gz /usr/share/man/man5/meshd-job.5.gz \
    /usr/share/man/man8/meshd-worker.8.gz \
    /usr/share/bash-completion/completions/meshctl \
    /usr/share/doc/meshd/examples/meshd.conf \
    /usr/share/meshd/openlineage/MeshdRunFacet.json; do
	grep -qx -- "$f" "$T/meshd.list" || fail "meshd lacks $f"
done
ok "meshd: the daemon, CLI, worker, unit, sysusers/tmpfiles, man pages, completion, sample, facet schemas"
for f in /usr/include/meshd/plugin.h \
    /usr/share/doc/libmeshd-plugin-dev/sdk/README.md \
    /usr/share/doc/libmeshd-plugin-dev/plugin-template/template.c \
    /usr/share/doc/libmeshd-plugin-dev/plugin-template/Makefile; do
	grep -qx -- "$f" "$T/dev.list" || fail "libmeshd-plugin-dev lacks $f"
done
grep -q '/pkgconfig/meshd-plugin.pc$' "$T/dev.list" ||
    fail "libmeshd-plugin-dev lacks meshd-plugin.pc"
ok "libmeshd-plugin-dev: the header, the .pc, the guide and the template"
for f in /usr/share/meshd/demo/meshd-demo /usr/share/meshd/demo/demo.sh \
    /usr/share/meshd/demo/jobs/flights_daily.conf \
    /usr/share/meshd/demo/contrib/data/flights-20k.json; do
	grep -qx -- "$f" "$T/demo.list" || fail "meshd-demo lacks $f"
done
for p in flights airports analytics; do
	grep -q "/meshd/plugins/$p.so$" "$T/demo.list" || fail "meshd-demo lacks $p.so"
	grep -q "/meshd/plugins/$p.so$" "$T/meshd.list" && fail "meshd has $p.so too"
done
ok "meshd-demo: the demo plugins, jobs, data and its runner"
grep -q '\.la$' "$T/meshd.list" "$T/demo.list" && fail "a libtool .la is packaged"

# ------------------------------------------------------------ install
installed=1
if $SUDO dpkg -i "$(deb meshd)" "$(deb libmeshd-plugin-dev)" "$(deb meshd-demo)" \
    >"$T/install" 2>&1; then
	ok "dpkg -i installs the three packages"
else
	fail "dpkg -i"
	tail -n 30 "$T/install" | sed 's/^/    | /'
	finish; exit 1
fi
phase "installed"
dpkg-query -W -f='${Conffiles}\n' meshd >"$T/conffiles"
has "$T/conffiles" "/etc/meshd/meshd.conf" "/etc/meshd/meshd.conf is a conffile"
has /etc/meshd/meshd.conf 'state_db    = "/var/lib/meshd/state.db";' \
    "the installed sample keeps the state in /var/lib/meshd"
/usr/sbin/meshd --help >"$T/help" 2>&1
has "$T/help" "else /etc/meshd/meshd.conf)" "the installed meshd's default is /etc/meshd/meshd.conf"
plugindir=$(pkg-config --variable=plugindir meshd-plugin)
test -f "$plugindir/flights.so" &&
    ok "pkg-config's plugindir is where the demo plugins are ($plugindir)" ||
    fail "no flights.so in pkg-config's plugindir $plugindir"
# meshctl with no -c, as root: the system's meshd.conf, state under /var.
(cd "$T" && /usr/bin/meshctl validate) >"$T/out" 2>"$T/err"
eq "$?" "0" "the installed meshctl validates /etc/meshd/meshd.conf"
has "$T/out" "/etc/meshd/meshd.conf" "... and names it"
# The daemon on the installed configuration: the unit's, if systemd
# started it, else one started here (and stopped by its pid).
if [ -d /run/systemd/system ] && systemctl is-active --quiet meshd; then
	ok "systemd runs the installed meshd.service"
else
	$SUDO /usr/sbin/meshd >"$T/meshd.log" 2>&1 &
	MPID=$!
	wait_for "the installed meshd starts on /etc/meshd/meshd.conf" 20 \
	    sh -c '/usr/bin/meshctl status --json | jq -e .up'
	$SUDO kill -TERM "$MPID" 2>/dev/null
	wait "$MPID"
fi
test -f /var/lib/meshd/state.db && ok "... its state is /var/lib/meshd/state.db" ||
    fail "no /var/lib/meshd/state.db"

# The SDK: the installed template builds against the installed header.
cp -r /usr/share/doc/libmeshd-plugin-dev/plugin-template "$T/my-plugin"
# (Built under /tmp, which the loader's path check refuses, rightly.)
if (cd "$T/my-plugin" && make CC="${CC:-cc}" &&
    MESHD_INSECURE_PLUGIN_PATHS=1 /usr/bin/meshctl plugin info ./template.so) \
    >"$T/tbuild" 2>&1; then
	ok "the installed template builds with the installed SDK and loads"
else
	fail "the installed template"
	tail -n 20 "$T/tbuild" | sed 's/^/    | /'
fi

# ------------------------------------------------------------ the demo
# From the installed paths alone: the runner, the programs, the plugins
# (the loader's path checks on), the jobs and the data.
if MESHD_DEMO_DAYS=14 /usr/share/meshd/demo/meshd-demo "$T/demo" >"$T/demo.out" 2>&1; then
	ok "the installed demo runs (meshd-demo, 14 days)"
else
	fail "the installed demo"
	tail -n 40 "$T/demo.out" | sed 's/^/    | /'
fi
phase "demo"
has "$T/demo/meshd.conf" "plugin_path = [ \"$plugindir\" ];" \
    "the demo's plugins are the installed ones"
grep -F -e "$top_builddir" -e "$top_srcdir" "$T/demo/meshd.conf" "$T/demo/jobs/"*.conf \
    >/dev/null && fail "the demo refers to the build tree" ||
    ok "nothing of the demo refers to the build tree"
has "$T/demo.out" "== catalog" "it reached the catalog"
has "$T/demo.out" "analytics.airport_delays" "... with the analytics product"
test -s "$T/demo/state/warehouse.db" && ok "the demo's warehouse is in its directory" ||
    fail "no warehouse.db in the demo directory"

# ------------------------------------------------------------ purge
if $SUDO dpkg --purge $pkgs >"$T/purge" 2>&1; then
	ok "dpkg --purge $pkgs"
	installed=0
else
	fail "dpkg --purge"
	tail -n 20 "$T/purge" | sed 's/^/    | /'
fi
phase "purged"
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$\| config-files$' &&
	    fail "$p is still known to dpkg: $(dpkg-query -W -f='${Status}' "$p")"
done
left=""
for f in /usr/sbin/meshd /usr/bin/meshctl /usr/bin/meshd-worker /etc/meshd \
    /var/lib/meshd /var/log/meshd /usr/share/meshd /usr/include/meshd \
    "$plugindir" /lib/systemd/system/meshd.service /usr/share/doc/meshd; do
	test -e "$f" && left="$left $f"
done
eq "$left" "" "purge leaves none of the programs, conffile, state, logs, demo, SDK"
finish
