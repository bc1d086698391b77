#!/bin/sh
# End-to-end: installing to a fresh prefix after a build uses that prefix
# (issue 15, item 2).  On a copy of the build tree (the suite's own tree
# is not reconfigured under the tests running beside this one):
#  - `./configure --prefix=P && make install` after a build recompiles
#    the objects that use the installation paths, and only those; a
#    second `make` recompiles nothing;
#  - P's meshd and meshctl name P/etc/meshd/meshd.conf as their default,
#    read it when given no -c and no MESHD_CONFIG, and find the plugins
#    in P's plugin directory; no /usr/local path is left in the programs;
#  - the sample meshd.conf is installed, puts the state under P/var, and
#    a second `make install` (and `make uninstall`) leaves an edited one
#    alone;
#  - docdir has the SDK guide, the plugin template and the sample;
#  - the template README's steps, run against P alone, publish on the
#    first try: the publish creates its product's location directory
#    (and fails, naming it, when a file stands in the way).
. "$(dirname "$0")/e2e-lib.sh"

P="$T/prefix"
B="$T/build"
unset MAKEFLAGS MFLAGS MAKELEVEL MESHD_CONFIG

# ------------------------------------------------------------ the copy
# The tree as built, timestamps kept: make sees it up to date.  A VPATH
# build (make distcheck) copies the build directory and configures it
# from the (clean) source directory; an in-tree build copies both.
src=$(cd "$top_srcdir" && pwd -P)
bld=$(cd "$top_builddir" && pwd -P)
if [ "$src" = "$bld" ]; then
	(cd "$bld" && tar --exclude=./.git --exclude=./demo -cf - .) |
	    (mkdir -p "$B" && cd "$B" && tar -xpf -)
	configure="$B/configure"
else
	cp -a "$bld" "$B"
	configure="$src/configure"
	# The dependency files name the sources by the build's relative
	# srcdir (make distcheck's ../..), wrong from the copy: make them
	# absolute.
	rel=$(sed -n 's/^srcdir = //p' "$B/Makefile")
	case $rel in
	/*|.|'') ;;
	*)	find "$B" -name '*.P*o' -path '*/.deps/*' -exec \
		    sed -i -e "s| $rel/| $src/|g" -e "s|^$rel/|$src/|" {} + ;;
	esac
fi
test -x "$B/meshctl" && test -f "$B/Makefile" ||
    { fail "no built tree at $top_builddir to copy"; finish; exit 1; }
# The build's own options (compiler, sanitizers), then the new prefix;
# not its --srcdir, relative to where it ran (make distcheck's).
eval "set -- $(cd "$B" && ./config.status --config)"
for a in "$@"; do
	shift
	case $a in --srcdir=*) ;; *) set -- "$@" "$a" ;; esac
done
if (cd "$B" && "$configure" "$@" --prefix="$P") >"$T/configure" 2>&1; then
	ok "configure --prefix=$P over the built tree"
else
	fail "configure --prefix=P"
	tail -n 20 "$T/configure" | sed 's/^/    | /'
fi
if (cd "$B" && make V=1 install) >"$T/install" 2>&1; then
	ok "make install"
else
	fail "make install"
	tail -n 30 "$T/install" | sed 's/^/    | /'
fi
# Which objects were compiled again: libtool's "-c ... -o NAME.o" lines.
sed -n 's/.* -c .*-o \([^ ]*\.o\)\( .*\)\{0,1\}$/\1/p' "$T/install" |
    sed 's|^.*/\.libs/||; s|^.*/||' | sort -u | tr '\n' ' ' >"$T/recompiled"
for o in libmeshcore_la-config.o libmeshcore_la-xremote.o \
    libmeshcore_la-slurm-agent.o; do
	grep -qw "$o" "$T/recompiled" && ok "the new prefix recompiles $o" ||
	    fail "$o not recompiled (recompiled: $(cat "$T/recompiled"))"
done
grep -qw 'libmeshcore_la-util.o' "$T/recompiled" &&
    fail "util.c (no paths) recompiled too: $(cat "$T/recompiled")" ||
    ok "objects without paths are not recompiled"
(cd "$B" && make) >"$T/again" 2>&1
grep -E '^ *(CC|CCLD) ' "$T/again" >"$T/again.cc"
eq "$(wc -l <"$T/again.cc" | tr -d ' ')" "0" "a second make compiles nothing"

# ------------------------------------------------------------ the programs
"$P/sbin/meshd" --help >"$T/help" 2>&1
has "$T/help" "else $P/etc/meshd/meshd.conf)" "meshd --help names P/etc/meshd/meshd.conf"
"$P/bin/meshctl" --help >"$T/help" 2>&1
has "$T/help" "else $P/etc/meshd/meshd.conf)" "meshctl --help names P/etc/meshd/meshd.conf"
for f in "$P/sbin/meshd" "$P/bin/meshctl" "$P/bin/meshd-worker"; do
	if strings "$f" | grep -F /usr/local >"$T/strings"; then
		fail "${f#$P/} still holds $(head -n 1 "$T/strings")"
	else
		ok "no /usr/local path in ${f#$P/}"
	fi
done
strings "$P/bin/meshd-worker" >"$T/strings"
has "$T/strings" "$P/bin/meshd-worker" "meshd-worker's own default path is P's (BINDIR)"

# ------------------------------------------------------------ the sample
C="$P/etc/meshd/meshd.conf"
test -f "$C" && ok "the sample is installed as P/etc/meshd/meshd.conf" ||
    fail "no $C"
has "$C" "state_db    = \"$P/var/lib/meshd/state.db\";" "its state is under P/var/lib/meshd"
has "$C" "log_dir     = \"$P/var/log/meshd\";" "its logs under P/var/log/meshd"
cmp -s "$C" "$P/share/doc/meshd/examples/meshd.conf" &&
    ok "... and a copy is docdir/examples/meshd.conf" ||
    fail "docdir/examples/meshd.conf missing or different"
test -d "$P/etc/meshd/jobs" && ok "... with its empty jobs directory" ||
    fail "no $P/etc/meshd/jobs"
(cd "$T" && "$P/bin/meshctl" validate) >"$T/out" 2>"$T/err"
rc=$?
eq "$rc" "0" "meshctl validate without -c reads P's meshd.conf"
has "$T/out" "$C" "... and says which file it read"
echo "workers = 3;   # the operator's" >>"$C"
cp "$C" "$T/edited"
(cd "$B" && make install) >"$T/install2" 2>&1 || fail "second make install"
cmp -s "$C" "$T/edited" && ok "a second make install keeps the edited meshd.conf" ||
    fail "a second make install overwrote the edited meshd.conf"
has "$T/install2" "keeping $C" "... and says so"

# ------------------------------------------------------------ docdir
D="$P/share/doc/meshd"
cmp -s "$D/sdk/README.md" "$top_srcdir/sdk/README.md" &&
    ok "docdir/sdk/README.md is the SDK guide" || fail "no $D/sdk/README.md"
for f in README Makefile template.c template.conf readings.csv; do
	cmp -s "$D/plugin-template/$f" "$top_srcdir/contrib/plugin-template/$f" ||
	    fail "docdir/plugin-template/$f missing or different"
done
ok "docdir/plugin-template has the template's five files"
test -x "$P/share/meshd/demo/demo.sh" && test -x "$P/share/meshd/demo/meshd-demo" &&
    test -f "$P/share/meshd/demo/contrib/data/flights-20k.json" &&
    test -f "$P/share/meshd/demo/jobs/flights_daily.conf" &&
    ok "the demo, its jobs and data are under P/share/meshd/demo" ||
    fail "the demo is not installed under P/share/meshd/demo"

# ------------------------------------------------------------ the template
# Its README's steps, with P for PREFIX: the installed copy, P's header
# and pkg-config file, P's plugin directory, P's meshd.conf.
cp -r "$D/plugin-template" "$T/my-plugin"
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
if (cd "$T/my-plugin" && make CC="${CC:-cc}" && make install) >"$T/tbuild" 2>&1; then
	ok "the installed template builds and installs against P"
else
	fail "the installed template does not build"
	tail -n 20 "$T/tbuild" | sed 's/^/    | /'
fi
test -f "$P/lib/meshd/plugins/template.so" &&
    ok "... into P's plugin directory" || fail "no $P/lib/meshd/plugins/template.so"
J="$P/etc/meshd/jobs"
cp "$T/my-plugin/template.conf" "$J/template_readings.conf"
cp "$T/my-plugin/readings.csv" "$J/"
MESHCTL="$P/bin/meshctl"
test ! -e "$P/var/lib/meshd/readings" && ok "the location does not exist yet" ||
    fail "the location exists before the first publish"
run_ctl 0 "validate: the job, its plugin found in P" validate
run_ctl 0 "the first publish of the template succeeds" \
    run template_readings --partition 2001-01-01
test -d "$P/var/lib/meshd/readings" && ok "... it created the location directory" ||
    fail "no location directory $P/var/lib/meshd/readings"
eq "$(wc -l <"$P/var/lib/meshd/readings/2001-01-01.csv" 2>/dev/null | tr -d ' ')" \
    "8" "... and published 8 rows there"
run_ctl 0 "meshctl catalog example.readings" catalog example.readings
has "$T/out" "2001-01-01" "the catalog has the published day"

# A file where the location's directory should be: the publish fails,
# and the attempt says why, with the path (meshd's reason, not the
# plugin's "has no location").
: >"$P/var/lib/meshd/blocked"
sed -i 's|location = "${statedir}/readings"|location = "${statedir}/blocked/readings"|' \
    "$J/template_readings.conf"
run_ctl 1 "a publish whose location cannot be created fails" \
    run template_readings --partition 2001-01-02
run_ctl 0 "its log" logs template_readings 2001-01-02 publish --no-pager
has "$T/out" "attempt 1 failed: location of example.readings: $P/var/lib/meshd/blocked/readings: cannot create directory: Not a directory" \
    "the attempt fails with meshd's reason: the product, the path"

# ------------------------------------------------------------ uninstall
(cd "$B" && make uninstall) >"$T/uninstall" 2>&1 || fail "make uninstall"
test -f "$C" && ok "make uninstall keeps the edited meshd.conf" ||
    fail "make uninstall removed the edited meshd.conf"
test ! -e "$P/bin/meshctl" && test ! -e "$D/sdk/README.md" &&
    ok "... and removes the rest" || fail "make uninstall left programs or docs"
finish
