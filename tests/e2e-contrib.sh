#!/bin/sh
# End-to-end: what contrib/ ships for operators.  The systemd unit passes
# `systemd-analyze verify` (a broken copy of it does not), its user and state
# directory come from the sysusers.d and tmpfiles.d files, and the bash
# completion, driven as readline would drive it, completes verbs, options,
# option values, job names, partitions and tasks from the real meshctl.
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
	    -e "s|@sysconfdir@|$T/etc|g" "$1"
}
subst "$SD/meshd.service.in" >"$T/unit/meshd.service"
subst "$SD/meshd.tmpfiles.in" >"$T/unit/meshd.conf"
grep -Eq '@[a-z_]+@' "$T/unit/meshd.service" "$T/unit/meshd.conf" &&
    fail "an @variable@ is left in the unit or the tmpfiles file" ||
    ok "every @variable@ is substituted"
has "$T/unit/meshd.service" "ExecStart=$MESHD " "ExecStart runs the built meshd"

# verify checks Documentation=man:... with man(1): give it our pages.
cp "$top_srcdir/doc/meshctl.1" "$T/man/man1/"
cp "$top_srcdir/doc/meshd.conf.5" "$T/man/man5/"
cp "$top_srcdir/doc/meshd.8" "$T/man/man8/"
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
	# The check must be able to fail: a mistyped setting is caught.
	sed 's/^ProtectSystem=strict$/ProtectSystem=strickt/' \
	    "$T/unit/meshd.service" >"$T/unit/meshd-bad.service"
	if verify_unit "$T/unit/meshd-bad.service"; then
		fail "a unit with ProtectSystem=strickt passes verify"
	else
		ok "a broken unit is caught by the same check"
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

	# The state directory, 0750 meshd:meshd (ownership needs root).
	systemd-tmpfiles --root="$T/root" --create "$T/unit/meshd.conf" \
	    >"$T/tmpfiles" 2>&1
	trc=$?
	sdir="$T/root$T/etc/meshd/state"
	eq "$(stat -c %a "$sdir" 2>/dev/null)" "750" \
	    "tmpfiles creates the state directory 0750"
	if [ "$(id -u)" -eq 0 ]; then
		eq "$trc" "0" "systemd-tmpfiles --create succeeds"
		eq "$(stat -c %u:%g "$sdir" 2>/dev/null)" \
		    "$(grep '^meshd:' "$T/root/etc/passwd" | cut -d: -f3,4)" \
		    "the state directory belongs to meshd"
	else
		echo "# not root: the state directory's owner is not checked"
	fi
fi

# What the unit says must match what meshd does.
grep -q '^User=meshd$' "$T/unit/meshd.service" &&
    grep -q '^Group=meshd$' "$T/unit/meshd.service" &&
    grep -q '^u meshd ' "$SD/meshd.sysusers" &&
    ok "the unit runs as the user sysusers creates" ||
    fail "User=/Group= of the unit and meshd.sysusers disagree"
# The default state is "state/state.db" beside meshd.conf (core/config.c);
# the unit may write only there, and tmpfiles creates exactly that.
grep -q 'path_join(basedir, "state/state.db")' "$top_srcdir/core/config.c" &&
    ok "the default state is state/ beside meshd.conf" ||
    fail "core/config.c's default state_db moved: update ReadWritePaths="
has "$T/unit/meshd.service" "ReadWritePaths=$T/etc/meshd/state" \
    "the unit may write the default state directory"
has "$T/unit/meshd.conf" "d $T/etc/meshd/state 0750 meshd meshd" \
    "tmpfiles makes that directory"
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
