#!/bin/sh
# End-to-end: what contrib/ ships for operators.  The systemd unit passes
# `systemd-analyze verify` (a broken copy of it does not), is Type=notify
# with a watchdog and systemd's state, logs and runtime directories, names
# every man page, its user and the sample meshd.conf's directories come
# from the sysusers.d and tmpfiles.d files, meshd run with the unit's
# environment puts its state where the unit lets it write.  (The bash
# completion is tested in e2e-completion.sh.)
. "$(dirname "$0")/e2e-lib.sh"
MESHD=${MESHD:-$top_builddir/meshd}
SD="$top_srcdir/contrib/systemd"

# ------------------------------------------------------------ systemd unit
# The same substitution as the Makefile's rule, with ExecStart pointing at
# the meshd just built so that verify finds the executable.
mkdir -p "$T/unit" "$T/etc/meshd" "$T/root/etc" "$T/man/man1" "$T/man/man5" \
    "$T/man/man8"
subst() {
	sed -e "s|@sbindir@/meshd|$MESHD|g" \
	    -e "s|@sbindir@|$(dirname "$MESHD")|g" \
	    -e "s|@sysconfdir@|$T/etc|g" -e "s|@localstatedir@|$T/var|g" "$1"
}
subst "$SD/meshd.service.in" >"$T/unit/meshd.service"
subst "$SD/meshd.tmpfiles.in" >"$T/unit/meshd.conf"
grep -Eq '@[a-z_]+@' "$T/unit/meshd.service" "$T/unit/meshd.conf" &&
    fail "an @variable@ is left in the unit or the tmpfiles file" ||
    ok "every @variable@ is substituted"
has "$T/unit/meshd.service" "ExecStart=$MESHD " "ExecStart runs the built meshd"

# verify checks Documentation=man:... with man(1): give it our pages.
for page in "$top_srcdir"/doc/*.[158]; do
	cp "$page" "$T/man/man${page##*.}/"
done
if command -v man >/dev/null 2>&1; then
	manopt="--man=yes"
else
	echo "# man(1) is not installed: Documentation= links not checked"
	manopt="--man=no"
fi

# verify_unit FILE: systemd-analyze verify; every line it prints about a
# meshd unit is a failure.  Output about other units (targets of the host)
# is shown, not counted.
verify_unit() {
	MANPATH="$T/man" systemd-analyze verify "$manopt" "$1" \
	    >"$T/verify" 2>&1
	vrc=$?
	grep -i "meshd" "$T/verify" >"$T/verify.ours"
	grep -iv "meshd" "$T/verify" | sed 's/^/# (not meshd) /'
	[ "$vrc" -eq 0 ] && [ ! -s "$T/verify.ours" ]
}

if ! command -v systemd-analyze >/dev/null 2>&1; then
	fail "systemd-analyze not found: install the package 'systemd'" \
	    "(contrib/install-deps installs it)"
else
	if verify_unit "$T/unit/meshd.service"; then
		ok "systemd-analyze verify: no warnings"
	else
		fail "systemd-analyze verify meshd.service (exit $vrc)"
		sed 's/^/    | /' "$T/verify"
	fi
	# The check must be able to fail: a mistyped setting is caught,
	# and so is a type this systemd does not know.
	sed 's/^ProtectSystem=strict$/ProtectSystem=strickt/' \
	    "$T/unit/meshd.service" >"$T/unit/meshd-bad.service"
	if verify_unit "$T/unit/meshd-bad.service"; then
		fail "a unit with ProtectSystem=strickt passes verify"
	else
		ok "a broken unit is caught by the same check"
	fi
	sed 's/^Type=notify$/Type=notifyy/' \
	    "$T/unit/meshd.service" >"$T/unit/meshd-bad.service"
	if verify_unit "$T/unit/meshd-bad.service"; then
		fail "a unit with Type=notifyy passes verify"
	else
		ok "a mistyped Type= is caught"
	fi

	# The user and group meshd, in a scratch root.
	if command -v systemd-sysusers >/dev/null 2>&1 &&
	    systemd-sysusers --root="$T/root" "$SD/meshd.sysusers" \
	    >"$T/sysusers" 2>&1; then
		ok "systemd-sysusers accepts meshd.sysusers"
	else
		fail "systemd-sysusers meshd.sysusers"
		sed 's/^/    | /' "$T/sysusers" 2>/dev/null
	fi
	eq "$(cut -d: -f1 "$T/root/etc/passwd" 2>/dev/null)" "meshd" \
	    "sysusers creates the user meshd"
	eq "$(cut -d: -f1 "$T/root/etc/group" 2>/dev/null)" "meshd" \
	    "sysusers creates the group meshd"

	# The sample meshd.conf's directories under localstatedir, 0750
	# meshd:meshd (ownership needs root).
	systemd-tmpfiles --root="$T/root" --create "$T/unit/meshd.conf" \
	    >"$T/tmpfiles" 2>&1
	trc=$?
	for sdir in "$T/root$T/var/lib/meshd" "$T/root$T/var/log/meshd"; do
		eq "$(stat -c %a "$sdir" 2>/dev/null)" "750" \
		    "tmpfiles creates ${sdir#"$T/root$T"} 0750"
		if [ "$(id -u)" -eq 0 ]; then
			eq "$(stat -c %u:%g "$sdir" 2>/dev/null)" \
			    "$(grep '^meshd:' "$T/root/etc/passwd" | cut -d: -f3,4)" \
			    "${sdir#"$T/root$T"} belongs to meshd"
		fi
	done
	if [ "$(id -u)" -eq 0 ]; then
		eq "$trc" "0" "systemd-tmpfiles --create succeeds"
	else
		echo "# not root: the directories' owner is not checked"
	fi
fi

# What the unit says must match what meshd does.
grep -q '^User=meshd$' "$T/unit/meshd.service" &&
    grep -q '^Group=meshd$' "$T/unit/meshd.service" &&
    grep -q '^u meshd ' "$SD/meshd.sysusers" &&
    ok "the unit runs as the user sysusers creates" ||
    fail "User=/Group= of the unit and meshd.sysusers disagree"
# Where meshd writes: systemd's directories, and the sample meshd.conf's.
has "$T/unit/meshd.service" "StateDirectory=meshd" \
    "the unit has systemd make /var/lib/meshd (\$STATE_DIRECTORY)"
has "$T/unit/meshd.service" "LogsDirectory=meshd" \
    "and /var/log/meshd (\$LOGS_DIRECTORY)"
has "$T/unit/meshd.service" "RuntimeDirectory=meshd" "and /run/meshd"
has "$T/unit/meshd.service" "ReadWritePaths=-$T/var/lib/meshd -$T/var/log/meshd" \
    "the unit may write the sample meshd.conf's directories"
has "$T/unit/meshd.conf" "d $T/var/lib/meshd 0750 meshd meshd" \
    "tmpfiles makes the sample's state directory"
grep -q "/etc/meshd/state" "$T/unit/meshd.service" "$T/unit/meshd.conf" &&
    fail "the unit or tmpfiles still name the old state under sysconfdir" ||
    ok "no state under sysconfdir any more"
grep -qE '^Type=notify$' "$T/unit/meshd.service" &&
    ok "Type=notify: meshd says when it is ready" ||
    fail "the unit is not Type=notify"
ws=$(sed -n 's/^WatchdogSec=\([0-9]*\)$/\1/p' "$T/unit/meshd.service")
[ -n "$ws" ] && [ "$ws" -ge 10 ] &&
    ok "WatchdogSec=$ws (meshd pings at half of it)" ||
    fail "no WatchdogSec= of 10 s or more: '$ws'"
# Documentation= names every manual page doc/ has, and nothing else.
want=$(for page in "$top_srcdir"/doc/*.[158]; do
	b=${page##*/}
	echo "man:${b%.*}(${b##*.})"
done | sort | tr '\n' ' ')
got=$(sed -n 's/^Documentation=//p' "$T/unit/meshd.service" | tr ' ' '\n' |
    grep . | sort | tr '\n' ' ')
eq "$got" "$want" "Documentation= lists every man page in doc/"

# meshd with the unit's environment and a meshd.conf that names no
# directory: the state, staging and logs go to $STATE_DIRECTORY and
# $LOGS_DIRECTORY, not beside meshd.conf (read-only under the unit), and
# meshctl given the same environment finds that state.
# sdrun DIR ENV...: meshd on DIR/etc/meshd.conf with ENV until meshctl
# (same ENV) sees it up and, if DIR/etc/jobs has adhoc, its run succeeded.
sdrun() {
	d=$1
	shift
	env "$@" "$MESHD" -c "$d/etc/meshd.conf" >"$d/meshd.log" 2>&1 &
	sdpid=$!
	i=0
	while [ "$i" -lt 200 ]; do
		env "$@" "$top_builddir/meshctl" -c "$d/etc/meshd.conf" \
		    status >"$d/status" 2>&1 && break
		sleep 0.1
		i=$((i + 1))
	done
	if [ -e "$d/etc/jobs/adhoc.conf" ]; then
		env "$@" "$top_builddir/meshctl" -c "$d/etc/meshd.conf" \
		    trigger adhoc >"$d/trigger" 2>&1
		i=0
		while [ "$i" -lt 200 ] && ! env "$@" "$top_builddir/meshctl" \
		    -c "$d/etc/meshd.conf" runs adhoc 2>/dev/null |
		    grep -q success; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	kill -TERM "$sdpid"
	wait "$sdpid"
}
TPL="$top_builddir/tests/plugins/.libs"
for d in sd1 sd2 sd3; do
	mkdir -p "$T/$d/etc/jobs"
	printf 'jobs_dir = "jobs";\nworkers = 1;\nplugin_path = [ "%s" ];\n' \
	    "$TPL" >"$T/$d/etc/meshd.conf"
done
cat >"$T/sd1/etc/jobs/adhoc.conf" <<'JOB'
name = "adhoc";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
sdrun "$T/sd1" STATE_DIRECTORY="$T/sd1/lib" LOGS_DIRECTORY="$T/sd1/log"
has "$T/sd1/status" "meshd:    up" "meshctl with the unit's environment finds meshd"
[ -s "$T/sd1/lib/state.db" ] && ok "state_db defaults to \$STATE_DIRECTORY/state.db" ||
    { fail "no state in \$STATE_DIRECTORY"; sed 's/^/    | /' "$T/sd1/meshd.log"; }
[ -n "$(find "$T/sd1/log" -type f 2>/dev/null)" ] &&
    ok "the attempt's log is under \$LOGS_DIRECTORY" ||
    fail "no attempt log under \$LOGS_DIRECTORY"
[ -d "$T/sd1/lib/staging" ] && ok "staging_dir defaults to \$STATE_DIRECTORY/staging" ||
    fail "no staging directory in \$STATE_DIRECTORY"
[ ! -e "$T/sd1/etc/state" ] && ok "nothing written beside meshd.conf" ||
    fail "meshd wrote beside meshd.conf: $(ls "$T/sd1/etc/state")"
# Several directories: the first; logs under it without $LOGS_DIRECTORY.
sdrun "$T/sd2" STATE_DIRECTORY="$T/sd2/lib:$T/sd2/other"
[ -s "$T/sd2/lib/state.db" ] && [ ! -e "$T/sd2/other" ] &&
    ok "of several directories in \$STATE_DIRECTORY, the first" ||
    fail "\$STATE_DIRECTORY=a:b did not put the state in a"
# A key meshd.conf sets wins; a relative directory is not used.
echo "state_db = \"$T/sd3/mine/state.db\";" >>"$T/sd3/etc/meshd.conf"
sdrun "$T/sd3" STATE_DIRECTORY="$T/sd3/lib" LOGS_DIRECTORY="relative"
[ -s "$T/sd3/mine/state.db" ] && [ ! -e "$T/sd3/lib/state.db" ] &&
    ok "state_db in meshd.conf wins over \$STATE_DIRECTORY" ||
    fail "\$STATE_DIRECTORY overrode meshd.conf's state_db"
[ ! -e "$T/sd3/relative" ] && [ ! -e "relative" ] &&
    ok "a relative \$LOGS_DIRECTORY is ignored" ||
    fail "a relative \$LOGS_DIRECTORY was used"
has "$T/unit/meshd.service" "ExecStart=$MESHD --foreground -c $T/etc/meshd/meshd.conf" \
    "meshd reads SYSCONFDIR/meshd/meshd.conf, its default"
# systemd must wait longer than meshd's own drain before it kills.
sg=$(sed -n 's/.*shutdown_grace_s = \([0-9]*\);.*/\1/p' "$top_srcdir/core/config.c")
kg=$(sed -n 's/.*kill_grace_s = \([0-9]*\);.*/\1/p' "$top_srcdir/core/config.c")
ts=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$T/unit/meshd.service")
if [ -n "$sg" ] && [ -n "$kg" ] && [ -n "$ts" ] && [ "$ts" -gt $((sg + kg)) ]; then
	ok "TimeoutStopSec=$ts outlasts shutdown_grace $sg + kill_grace $kg"
else
	fail "TimeoutStopSec='$ts' is not above shutdown_grace '$sg' + kill_grace '$kg'"
fi
has "$T/unit/meshd.service" "KillMode=mixed" \
    "TERM goes to meshd alone, which drains its workers"
grep -q '^MemoryDenyWriteExecute=' "$T/unit/meshd.service" &&
    fail "MemoryDenyWriteExecute= is set: plugins may need W+X memory" ||
    ok "no MemoryDenyWriteExecute= (plugins may need W+X memory)"

finish
