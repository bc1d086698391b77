#!/bin/sh
# End-to-end: SIGHUP reloads meshd.conf, not only the jobs.  A new policy
# refuses a job that now breaks it, and the log says so; an invalid
# meshd.conf is refused whole (the old config and the old jobs keep
# running); a new lineage path gets the new events, and across the old
# file and the new one every event of the outbox is there exactly once; a
# key that needs a restart (state_db) is named in a warning and nothing
# else changes.
. "$(dirname "$0")/e2e-lib.sh"
MESHD=${MESHD:-$top_builddir/meshd}
pid=
trap 'test -n "$pid" && kill -9 $pid 2>/dev/null; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

# Two jobs on the same plugin: "keep" takes it from $T/secure, "victim"
# from plugin_path.  Under plugin_domains = { test = "secure"; } only
# "keep" may run.
mkdir -p "$T/secure"
cp "$TP/ok.so" "$T/secure/ok.so"
cat >"$T/jobs/keep.conf" <<JOB
name = "keep";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "x"; plugin = "$T/secure/ok.so"; stage = "extract"; } );
JOB
cat >"$T/jobs/victim.conf" <<'JOB'
name = "victim";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "x"; plugin = "ok"; stage = "extract"; } );
JOB
POLICY='policies = { plugin_domains = { test = "secure"; }; };'
conf "kill_grace = 1;" 'lineage = { path = "state/a.jsonl"; };'
# meshctl reads a copy: it must keep finding the state while meshd's own
# file is broken or names another state_db.
cp "$T/meshd.conf" "$T/ctl.conf"
export MESHD_CONFIG="$T/ctl.conf"
A="$T/state/a.jsonl"
B="$T/state/b.jsonl"
LOG="$T/meshd.log"

runstate() { sql "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1'"; }
nattempts() { sql "SELECT count(*) FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' AND a.state = 'success'"; }
maxseq() { sql "SELECT coalesce(max(seq), 0) FROM lineage_outbox"; }
acked() { sql "SELECT coalesce((SELECT acked_seq FROM lineage_sinks WHERE name = 'file:$1'), 0)"; }
nreloads() { grep -c "INFO  reloaded: " "$LOG"; }
nrefused() { grep -c "reload refused" "$LOG"; }
# hup WHAT: send SIGHUP and wait for the reload (or its refusal) to be
# logged.
hup() {
	r0=$(( $(nreloads) + $(nrefused) ))
	kill -HUP "$pid"
	i=0
	while [ "$i" -lt 100 ] && [ "$(( $(nreloads) + $(nrefused) ))" -le "$r0" ]; do
		sleep 0.1; i=$((i + 1))
	done
	eq "$(( $(nreloads) + $(nrefused) ))" "$((r0 + 1))" "$1: the reload is logged"
}
# again JOB DESC: trigger JOB and wait for one more successful attempt.
again() {
	n0=$(nattempts "$1")
	run_ctl 0 "trigger $1" trigger "$1" --rerun
	waitsql "$2" "$((n0 + 1))" "SELECT count(*) FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' AND a.state = 'success'"
}
# refused JOB DESC: a trigger of JOB is answered "unknown job".
refused() {
	n0=$(sql "SELECT count(*) FROM requests WHERE job = '$1' AND result = 'unknown job ''$1'''" 2>/dev/null || echo 0)
	run_ctl 0 "trigger $1" trigger "$1" --rerun
	waitsql "$2" "$((n0 + 1))" "SELECT count(*) FROM requests WHERE job = '$1' AND result = 'unknown job ''$1'''"
}

"$MESHD" -c "$T/meshd.conf" >>"$LOG" 2>&1 &
pid=$!
i=0
while [ "$i" -lt 100 ] && ! grep -q "INFO  meshd .* started" "$LOG"; do
	sleep 0.1; i=$((i + 1))
done
has "$LOG" "started: pid $pid, 2 jobs" "meshd starts with both jobs"
again keep "keep runs"
again victim "victim runs before any policy"
waitsql "the first file gets every event" "$(maxseq)" "SELECT acked_seq FROM lineage_sinks WHERE name = 'file:$A'"

# --- nothing changed: said so
hup "an unchanged meshd.conf"
has "$LOG" "reloaded: 2 jobs; meshd.conf unchanged" "a reload of the same files says that nothing changed"

# --- a new policy refuses the job that now breaks it
echo "$POLICY" >>"$T/meshd.conf"
hup "a new policy"
has "$LOG" "victim.conf:4: job 'victim' task 'x': plugin 'ok' ($TP/ok.so) of domain 'test' is not in $T/secure (policy plugin_domains)" "the log says why victim is refused, at its line"
has "$LOG" "reloaded: 1 job; meshd.conf: policies changed" "the reload names what changed in meshd.conf"
refused victim "victim is refused after the reload"
again keep "keep still runs"

# --- an invalid meshd.conf is refused whole: the old policy and the old
# jobs stay, even though the broken file drops the policy
cp "$T/meshd.conf" "$T/meshd.conf.good"
sed -i '/^policies/d' "$T/meshd.conf"
echo 'worker_max_tasks = "many";' >>"$T/meshd.conf"
echo 'heartbeat_timeout = 0;' >>"$T/meshd.conf"
hup "an invalid meshd.conf"
has "$LOG" "$T/meshd.conf:9: 'worker_max_tasks' must be an integer, not a string" "each error is logged with file and line"
has "$LOG" "$T/meshd.conf:10: 'heartbeat_timeout' must be at least 1, not 0" "every error, not only the first"
has "$LOG" "reload refused: 2 errors; the previous configuration and the 1 job keep running" "the reload is refused"
again keep "the old jobs keep running"
refused victim "the old policy still holds"

# --- a syntax error too
printf 'worker_max_tasks = ;\n' >"$T/meshd.conf"
cat "$T/meshd.conf.good" >>"$T/meshd.conf"
hup "a meshd.conf that does not parse"
has "$LOG" "$T/meshd.conf:1: syntax error" "a syntax error is logged at its line"
eq "$(nrefused)" "2" "refused again"
cp "$T/meshd.conf.good" "$T/meshd.conf"

# --- a new lineage path: the new events go to the new file, none lost or
# twice across both
waitsql "the old file is up to date" "$(maxseq)" "SELECT acked_seq FROM lineage_sinks WHERE name = 'file:$A'"
sed -i 's|^lineage = .*|lineage = { path = "state/b.jsonl"; };|' "$T/meshd.conf"
# A run in flight while the deliverer is replaced.
run_ctl 0 "trigger keep just before the reload" trigger keep --rerun
hup "a new lineage path"
has "$LOG" "reloaded: 1 job; meshd.conf: lineage changed" "the reload says lineage changed"
has "$LOG" "lineage: delivering to file $B" "a deliverer for the new file is started"
has "$LOG" "lineage: file:$B continues after event" "the new file continues where the old one stopped"
again keep "keep runs after the lineage change"
again keep "and again"
waitsql "the new file gets the new events" "$(maxseq)" "SELECT acked_seq FROM lineage_sinks WHERE name = 'file:$B'"
[ -s "$B" ] && ok "the new file has events" || fail "the new file has no events"
eq "$(cat "$A" "$B" | jq -r '.run.facets.meshd.seq' | sort -n | tr '\n' ' ')" "$(sql "SELECT seq FROM lineage_outbox ORDER BY seq" | tr '\n' ' ')" "across both files: every event of the outbox, each once"
eq "$(cat "$A" "$B" 2>/dev/null | wc -l)" "$(maxseq)" "as many lines as events"
lastA=$(tail -n 1 "$A" | jq -r '.run.facets.meshd.seq')
firstB=$(head -n 1 "$B" | jq -r '.run.facets.meshd.seq')
eq "$firstB" "$((lastA + 1))" "the new file starts right after the old one"
eq "$(pgrep -f -- "--lineage-deliverer file $A" | wc -l)" "0" "the old deliverer is gone"
eq "$(pgrep -f -- "--lineage-deliverer file $B" | wc -l)" "1" "one deliverer, for the new file"

# --- a key that needs a restart: named, kept, nothing else changes
sed -i 's|^state_db = .*|state_db = "state2/state.db";|' "$T/meshd.conf"
hup "a new state_db"
has "$LOG" "$T/meshd.conf: state_db changed; it takes effect at the next restart" "a warning names the key and says when"
has "$LOG" "reloaded: 1 job; meshd.conf: state_db changed, at the next restart" "the reload line says so too"
again keep "keep runs, in the old state"
[ ! -e "$T/state2" ] && ok "the new state_db is not touched" || fail "the new state_db was created"
waitsql "lineage still goes to the same file" "$(maxseq)" "SELECT acked_seq FROM lineage_sinks WHERE name = 'file:$B'"
eq "$(pgrep -f -- "--lineage-deliverer file $B" | wc -l)" "1" "the deliverer was not replaced"
refused victim "the policy still holds"

# --- several at once: live ones apply, restart ones wait
sed -i '/^policies/d; /^kill_grace/d; /^workers/d' "$T/meshd.conf"
echo 'kill_grace = 2;' >>"$T/meshd.conf"
echo 'shutdown_grace = 3;' >>"$T/meshd.conf"
echo 'workers = 3;' >>"$T/meshd.conf"
hup "several keys"
has "$LOG" "reloaded: 2 jobs; meshd.conf: policies, shutdown_grace, kill_grace changed; state_db, workers changed, at the next restart" "live and restart keys are told apart"
has "$LOG" "$T/meshd.conf: workers changed; it takes effect at the next restart" "each restart key has its warning"
hasnt "$LOG" "kill_grace changed; it takes effect" "kill_grace applies at once"
again victim "without the policy, victim runs again"

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
eq "$rc" "0" "meshd stops cleanly"
has "$LOG" "stopped" "and says so"
hasnt "$LOG" "ERROR lineage" "no lineage errors"
finish
