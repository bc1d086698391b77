# e2e-slurm-lib.sh -- a real single-node Slurm for the end-to-end tests of
# the Slurm executor (sourced after e2e-lib.sh).  slurm_up starts one on
# loopback in $T/slurm (tests/slurm-local.sh, which installs Debian's
# slurm-wlm if missing) and stops it when the test exits; a test that
# cannot start it fails, never skips.  sbatch goes through a shim first in
# PATH that logs each call to $T/sbatch.log.
SL="$T/slurm"
slurm_down() { bash "$top_srcdir/tests/slurm-local.sh" down "$SL" >/dev/null 2>&1; }
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null; done; slurm_down;
    chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
# munged wants every directory above its socket searchable by all.
chmod 755 "$T"

# slurm_up JOBS_PER_CORE
slurm_up() {
	if ! env SLURM_LOCAL_OVERSUBSCRIBE="$1" bash \
	    "$top_srcdir/tests/slurm-local.sh" up "$SL" >"$T/slurm.env" \
	    2>"$T/slurm.log"; then
		fail "a real Slurm could not be started here (tests/slurm-local.sh up)"
		sed 's/^/    slurm: /' "$T/slurm.log" | tail -n 20
		finish
		exit 1
	fi
	. "$T/slurm.env"
	ok "single-node Slurm is up ($(sinfo -h -o '%P %t %c' 2>&1))"
	# Plugins under /tmp are refused unless allowed (the build may be
	# there); the jobs inherit this through sbatch.
	export MESHD_INSECURE_PLUGIN_PATHS=1
	real_sbatch=$(command -v sbatch)
	mkdir -p "$T/bin"
	cat >"$T/bin/sbatch" <<SHIM
#!/bin/sh
echo "sbatch \$*" >>"$T/sbatch.log"
exec "$real_sbatch" "\$@"
SHIM
	chmod +x "$T/bin/sbatch"
	export PATH="$T/bin:$PATH"
	: >"$T/sbatch.log"
}
nsbatch() { wc -l <"$T/sbatch.log" | tr -d ' '; }
# state_of JOB: "state: reason" of the job's latest attempt
state_of() { sql "SELECT a.state || ': ' || coalesce(a.reason, '') FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' ORDER BY a.id DESC LIMIT 1"; }
failed_with() { state_of "$1" | grep -qF -- "$2"; }
