#!/bin/sh
# End-to-end: a pilot in a real Slurm job (issue 13, item 4).  Starts a
# single-node Slurm on loopback (tests/slurm-local.sh, its own state
# directory; slurmctld on $SLURM_LOCAL_PORT, default 19817), then
# tests/pilot-drive's slurm scenario: a pool in this process, a pilot
# submitted with sbatch that connects back with its Slurm job id, runs 100
# tasks of a plugin that counts its runs (each once), and, on scancel of
# its job, ends its running task with "pilot stopped by Slurm (SIGTERM)".
# A Slurm that cannot be started fails the test.
. "$(dirname "$0")/e2e-lib.sh"
DRIVE="$top_builddir/tests/pilot-drive"
PLUGIN="$TP/pilotcount.so"
SL="$top_srcdir/tests/slurm-local.sh"
SD="$T/slurm"
trap 'bash "$SL" down "$SD" >/dev/null 2>&1; rm -rf "$T"' EXIT

# munged wants every directory above its socket searchable by all.
chmod 755 "$T"
[ -x "$DRIVE" ] || { fail "no $DRIVE (make check builds it)"; finish; exit 1; }
if ! SLURM_LOCAL_PORT=${SLURM_LOCAL_PORT:-19817} bash "$SL" up "$SD" \
    >"$T/slurm.env" 2>"$T/slurm.err"; then
	fail "slurm-local.sh up failed"
	sed 's/^/    | /' "$T/slurm.err" | tail -n 20
	finish
	exit 1
fi
ok "a single-node Slurm is up"
. "$T/slurm.env"
mkdir -p "$T/w"
if timeout 120 "$DRIVE" "$PLUGIN" "$T/w" slurm >"$T/out" 2>"$T/log"; then
	ok "$(tail -n 1 "$T/out")"
else
	fail "the slurm scenario (exit $?)"
	sed 's/^/    out: /' "$T/out" | tail -n 5
	grep -v ' INFO ' "$T/log" | sed 's/^/    log: /' | tail -n 20
	cat "$T"/w/pilot-*.out 2>/dev/null | sed 's/^/    job: /' | tail -n 20
fi
finish
