#!/bin/sh
# End-to-end: the loader checks a plugin's whole real path, from / down, as
# sshd's StrictModes does, in meshctl plugin info (the probe child) and in
# the worker that runs a task.  Layout under the test's 0700 directory:
#   good/ok.so            a plugin in a 0755 directory: accepted
#   open/ (0777)          ok.so, and sub/ (0755) with ok.so
#   good/link.so       -> open/ok.so  (a link in a good directory)
#   open/back.so       -> good/ok.so  (a link in a 0777 directory)
#   gw/ok.so              a group-writable file
. "$(dirname "$0")/e2e-lib.sh"
conf
chmod 0700 "$T"
mkdir -p "$T/good" "$T/open/sub" "$T/gw"
chmod 0755 "$T/good" "$T/open" "$T/open/sub" "$T/gw"
for d in good open open/sub gw; do
	cp "$TP/ok.so" "$T/$d/ok.so" && chmod 0755 "$T/$d/ok.so"
done
chmod 0775 "$T/gw/ok.so"
ln -s "$T/open/ok.so" "$T/good/link.so"
ln -s "$T/good/ok.so" "$T/open/back.so"
chmod 0777 "$T/open"

run_ctl 0 "a plugin whose path is good" plugin info "$T/good/ok.so"
has "$T/out" "name:        ok 1.0.0" "it is described"

run_ctl 1 "a 0755 directory under a 0777 one" plugin info "$T/open/sub/ok.so"
has "$T/err" "$T/open/sub/ok.so: refusing plugin: directory '$T/open' is world-writable (mode 0777, owner " "the 0777 parent is named with its mode and owner"
has "$T/err" "hint: chmod go-w '$T/open'" "with a hint"

run_ctl 1 "a link in a good directory to a plugin in a 0777 one" plugin info "$T/good/link.so"
has "$T/err" "$T/good/link.so ($T/open/ok.so): refusing plugin: directory '$T/open' is world-writable" "the real path and its 0777 directory are named"

run_ctl 1 "a link in a 0777 directory to a good plugin" plugin info "$T/open/back.so"
has "$T/err" "$T/open/back.so: refusing plugin: directory '$T/open' is world-writable" "the link's own directory counts"

run_ctl 1 "a group-writable plugin" plugin info "$T/gw/ok.so"
has "$T/err" "$T/gw/ok.so: refusing plugin: file is group-writable (mode 0775, owner " "the group-writable file is named"

chmod 0775 "$T/gw/ok.so"
chmod 0775 "$T/gw"
chmod 0755 "$T/gw/ok.so"
run_ctl 1 "a group-writable directory" plugin info "$T/gw/ok.so"
has "$T/err" "directory '$T/gw' is group-writable (mode 0775" "the group-writable directory is named"
chmod 0755 "$T/gw"

# --- the worker refuses too: a task whose plugin lies under the 0777 one
cat >"$T/jobs/bad.conf" <<JOB
name = "bad";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "extract"; plugin = "$T/good/link.so"; stage = "extract"; } );
JOB
cat >"$T/jobs/good.conf" <<JOB
name = "good";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "extract"; plugin = "$T/good/ok.so"; stage = "extract"; } );
JOB
"$MESHCTL" run bad >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -ne 0 ]; then ok "a run of the bad plugin fails or is refused (exit $rc)"; else fail "a run of the bad plugin succeeded"; fi
if grep -qF "directory '$T/open' is world-writable" "$T/out" "$T/err"; then ok "the refusal names the 0777 directory"; else fail "no refusal naming $T/open"; sed 's/^/    | /' "$T/out" "$T/err" | tail -n 20; fi
eq "$(sql "SELECT count(*) FROM attempts WHERE state = 'success'")" "0" "nothing of the bad plugin ran"
run_ctl 0 "a run of the good plugin" run good

# --- without the tests' hatch, /tmp (sticky, world-writable) above a
# plugin is refused as well; with it, only such a directory is spared
if [ "$(stat -c %a /tmp)" = "1777" ] && case "$T" in /tmp/*) true ;; *) false ;; esac; then
	(unset MESHD_INSECURE_PLUGIN_PATHS; "$MESHCTL" plugin info "$T/good/ok.so") >"$T/out" 2>"$T/err"
	eq "$?" "1" "without MESHD_INSECURE_PLUGIN_PATHS a plugin under /tmp is refused"
	has "$T/err" "directory '/tmp' is world-writable (mode 01777, owner " "naming /tmp"
	mkdir -m 1777 "$T/sticky"
	cp "$TP/ok.so" "$T/sticky/ok.so" && chmod 0755 "$T/sticky/ok.so"
	run_ctl 1 "the hatch never spares the plugin's own sticky directory" plugin info "$T/sticky/ok.so"
	has "$T/err" "directory '$T/sticky' is world-writable (mode 01777" "it is named"
else
	ok "not under a 1777 /tmp: the hatch is not exercised"
fi

finish
