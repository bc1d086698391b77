#!/usr/bin/env bash
# e2e-slurm-agent.sh -- the Slurm agent (job mode) against a real
# single-node Slurm, driven over its socket as meshd drives it
# (tests/slurm-drive.py): a job ends with its result file; an array of 20
# is ONE sbatch call; an outside scancel, a CANCEL, a signal, an exit
# status, a TIMEOUT, an invalid partition, sbatch missing from PATH and a
# controller that does not answer each end with their precise reason; after
# kill -9 of the agent, the next one adopts running and finished jobs by
# name and by id, and submits nothing twice.
#
# The cluster is started here, in the test's directory, on free ports
# (tests/slurm-local.sh); if it cannot start, the test FAILS.
# meshd-worker is replaced by a shell script that does what
# <attempt_dir>/mode says.
. "$(dirname "$0")/e2e-lib.sh"

AGENT=$top_builddir/tests/slurm-agent-run
SLURM_DIR=$T/slurm
trap 'SLURM_LOCAL_TIMEOUT=30 bash "$top_srcdir/tests/slurm-local.sh" down "$SLURM_DIR" >/dev/null 2>&1; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

[ -x "$AGENT" ] || { echo "FAIL - $AGENT not built (make check builds it)"; exit 1; }
unset SLURM_LOCAL_PORT
# munged wants every directory above its socket searchable by all.
chmod 755 "$T"
if ! env_out=$(SLURM_LOCAL_OVERSUBSCRIBE=8 SLURM_LOCAL_MIN_JOB_AGE=600 \
    bash "$top_srcdir/tests/slurm-local.sh" up "$SLURM_DIR" 2>"$T/slurm-up.err"); then
	echo "FAIL - the Slurm cluster did not start:"
	tail -n 20 "$T/slurm-up.err" | sed 's/^/    /'
	exit 1
fi
eval "$env_out"
ok "single-node Slurm up ($SLURM_CONF)"

W=$T/work
mkdir -p "$W/shim" "$W/flaky" "$W/att"
cat >"$W/worker" <<'EOW'
#!/bin/sh
# A fake meshd-worker: REQUEST, or --array LIST (line $SLURM_ARRAY_TASK_ID).
if [ "$1" = --array ]; then
	req=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$2")
else
	req=$1
fi
d=$(dirname "$req")
[ -f "$req" ] || { echo "no request: $req" >&2; exit 2; }
: >"$d/started"
result() { echo result >"$d/result.tmp" && mv "$d/result.tmp" "$d/result"; }
read -r mode arg <"$d/mode"
case $mode in
ok) result ;;
sleepok) sleep "$arg"; result ;;
sleep) sleep 300 ;;
segv) kill -SEGV $$ ;;
exit) exit "$arg" ;;
esac
EOW
SBATCH=$(command -v sbatch)
cat >"$W/shim/sbatch" <<EOS
#!/bin/sh
echo "\$*" >>"$W/sbatch.log"
exec "$SBATCH" "\$@"
EOS
cat >"$W/flaky/sbatch" <<EOS
#!/bin/sh
echo x >>"$W/flaky.count"
if [ ! -e "$W/flaky.done" ]; then
	: >"$W/flaky.done"
	echo "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)" >&2
	exit 1
fi
exec "$SBATCH" "\$@"
EOS
# The controller takes the job, then sbatch hangs (a reply lost).
mkdir -p "$W/slow"
cat >"$W/slow/sbatch" <<EOS
#!/bin/sh
echo "\$*" >>"$W/slow.log"
"$SBATCH" "\$@"
sleep 30
EOS
chmod +x "$W/worker" "$W/shim/sbatch" "$W/flaky/sbatch" "$W/slow/sbatch"

export PLUGIN_OK=$top_builddir/tests/plugins/.libs/ok.so
export PLUGIN_HANG=$top_builddir/tests/plugins/.libs/hang.so
[ -f "$PLUGIN_OK" ] && [ -f "$PLUGIN_HANG" ] || { echo "FAIL - $PLUGIN_OK not built (make check builds it)"; exit 1; }
t0=$(date +%s)
if /usr/bin/python3 "$top_srcdir/tests/slurm-drive.py" "$AGENT" "$W"; then
	ok "agent scenarios ($(($(date +%s) - t0)) s)"
else
	fail "agent scenarios"
	tail -n 30 "$SLURM_DIR/log/slurmctld.log" | sed 's/^/    ctld: /'
fi
echo "# $passes passed, $fails failed"
[ "$fails" -eq 0 ]
