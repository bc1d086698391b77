#!/bin/sh
# End-to-end: the lineage deliverer's position file (STATE_DB.lineage-pos).
# The deliverer only reads the state and keeps how far its sink got in
# that file; meshd folds it into lineage_sinks.  Attacked here: kill -9 of
# the deliverer (several times) and of meshd in the middle of a stream of
# events; the position file cut short, corrupt, ahead of the outbox or
# left by another database (at the deliverer's start and while meshd
# folds it in); a sink file whose last line is another database's; the
# outbox pruned (keep = 0) while the sink is down and the deliverer
# behind.  Each time the file must end up with every event of the outbox
# exactly once, in seq order, and lineage_sinks never ahead of the sink.
. "$(dirname "$0")/e2e-lib.sh"
L="$T/state/lineage.jsonl"
P="$T/state/state.db.lineage-pos"
conf "kill_grace = 1;"
cat >"$T/jobs/many.conf" <<'JOB'
name = "many";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "2001-01-01";
end = "2001-12-31";
catchup = "none";
params = { sleep_ms = 25; };
tasks = ( { id = "t"; plugin = "ok"; stage = "extract"; } );
JOB
cat >"$T/jobs/one.conf" <<'JOB'
name = "one";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "t"; plugin = "ok"; stage = "extract"; } );
JOB
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

maxseq() { sql "SELECT coalesce(max(seq), 0) FROM lineage_outbox"; }
acked() { sql "SELECT coalesce((SELECT acked_seq FROM lineage_sinks WHERE name = 'file:$1'), 0)"; }
fileseqs() { jq -r '.run.facets.meshd.seq' "$1" | tr '\n' ' '; }
outseqs() { sql "SELECT seq FROM lineage_outbox ORDER BY seq" | tr '\n' ' '; }
lastseq() { tail -n 1 "$1" | jq -r '.run.facets.meshd.seq'; }
caught_up() { [ -s "$1" ] && [ "$(lastseq "$1")" = "$(maxseq)" ]; }
deliverer() { pgrep -f -- "--lineage-deliverer file $1" | head -n 1; }
# FNV-1a 64 of "SEQ CREATED NAME", as lineage-pos.c writes it.
posrec() {
	/usr/bin/python3 - "$@" <<'PY'
import sys
seq, created, name = sys.argv[1], sys.argv[2], sys.argv[3]
h = 0xcbf29ce484222325
for b in ("%s %s %s" % (seq, created, name)).encode():
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
print("meshd-lineage-pos 1 %s %s %016x %s" % (seq, created, h, name))
PY
}
posseq() { awk '{ print $3; exit }' "$P"; }
# once DESC: run `one` again and wait for its events in the file $L.
once() {
	n0=$(sql "SELECT count(*) FROM attempts WHERE state <> 'running'")
	run_ctl 0 "trigger one ($1)" trigger one --rerun
	waitsql "one ran ($1)" "$((n0 + 1))" "SELECT count(*) FROM attempts WHERE state <> 'running'"
	wait_for "its events reach the file ($1)" 20 caught_up "$L"
}
same() { # same DESC: the file holds the outbox, once each, in order
	eq "$(fileseqs "$L")" "$(outseqs)" "$1: every event of the outbox in the file, once, in order"
}

# --- a stream of events; the deliverer killed -9 three times in it
run_ctl 0 "backfill many" backfill many --from 2001-01-01 --to 2001-04-30 --max-active-runs 4
start_meshd
wait_for "the deliverer runs" 10 deliverer "$L"
for k in 1 2 3; do
	wait_for "events flow ($k)" 20 sh -c "[ \$(cat '$L' 2>/dev/null | wc -l) -gt $((k * 40)) ]"
	d=$(deliverer "$L")
	kill -9 "$d"
	sleep 0.2
	kill -HUP "$MPID"
	wait_for "a reload starts a new deliverer ($k)" 10 sh -c "pgrep -f -- '--lineage-deliverer file $L' | grep -vx $d"
done
eq "$(sql "SELECT state FROM backfills WHERE id = 1")" "running" "the deliverer was killed while the backfill ran"
waitsql "the backfill ends" "success" "SELECT state FROM backfills WHERE id = 1"
wait_for "the file catches up" 20 caught_up "$L"
same "after three kill -9 of the deliverer"
eq "$(wc -l <"$L")" "$(( 2 * $(sql "SELECT count(*) FROM attempts") ))" "two events per attempt"
eq "$(posseq)" "$(maxseq)" "the position file says the last event"
waitsql "meshd or the idle deliverer folds the position into lineage_sinks" "$(maxseq)" "SELECT acked_seq FROM lineage_sinks WHERE name = 'file:$L'"
hasnt "$T/meshd.log" "ERROR" "no errors logged"

# --- kill -9 of meshd in the middle of a stream (its deliverer dies too)
run_ctl 0 "backfill many again" backfill many --from 2001-05-01 --to 2001-06-30 --max-active-runs 4
n0=$(wc -l <"$L")
wait_for "events flow again" 20 sh -c "[ \$(wc -l <'$L') -gt $((n0 + 30)) ]"
d=$(deliverer "$L")
kill -9 "$MPID"; wait "$MPID" 2>/dev/null
wait_for "the deliverer dies with meshd" 10 sh -c "! kill -0 $d"
start_meshd
waitsql "the second backfill ends after the restart" "1" "SELECT state <> 'running' FROM backfills WHERE id = 2"
wait_for "the file catches up after the restart" 20 caught_up "$L"
same "after kill -9 of meshd"
stop_meshd

# --- the position file cut short, lineage_sinks behind, a torn last line:
# the file's own last line (checked against the outbox) says where it is
truncate -s 11 "$P"
sql "UPDATE lineage_sinks SET acked_seq = acked_seq - 5"
printf '{"eventType":"STA' >>"$L"
start_meshd
once "position cut"
same "position cut short, lineage_sinks 5 behind, a torn line"
has "$T/meshd.log" "no position of file:$L: starting after event" "a cut position is named and ignored"
hasnt "$L" '{"eventType":"STA{' "the torn line is gone"
eq "$(posseq)" "$(maxseq)" "the position file is whole again"
stop_meshd

# --- a corrupt position (its hash no longer matches), lineage_sinks at 0
sed -i "s/^meshd-lineage-pos 1 $(posseq) /meshd-lineage-pos 1 $(( $(posseq) - 4 )) /" "$P"
sql "UPDATE lineage_sinks SET acked_seq = 0"
start_meshd
once "position corrupt"
same "a corrupt position, lineage_sinks at 0"
eq "$(grep -c "no position of file:$L" "$T/meshd.log")" "2" "a corrupt position is ignored"
stop_meshd

# --- a position ahead of the outbox (a database restored from a backup):
# ignored by the deliverer, and never folded in by meshd
m=$(maxseq)
posrec $((m + 100)) 1 "file:$L" >"$P"
start_meshd
once "position ahead"
same "a position ahead of the outbox"
has "$T/meshd.log" "event $((m + 100)) is not in this database's outbox" "the position ahead is named"
eq "$(posseq)" "$(maxseq)" "and replaced"
# Now while meshd runs and folds: the deliverer is killed, the file
# replaced behind its back by a position of another database (an event
# seq that exists, with another created_us) and one ahead.
d=$(deliverer "$L")
kill -9 "$d"
sleep 0.2
m=$(maxseq)
posrec "$m" 12345 "file:$L" >"$P"
a0=$(( $(acked "$L") - 2 ))
sql "UPDATE lineage_sinks SET acked_seq = $a0 WHERE name = 'file:$L'"
n0=$(sql "SELECT count(*) FROM attempts WHERE state <> 'running'")
run_ctl 0 "trigger one with no deliverer" trigger one --rerun
waitsql "one ran with no deliverer" "$((n0 + 1))" "SELECT count(*) FROM attempts WHERE state <> 'running'"
sleep 0.3
eq "$(acked "$L")" "$a0" "meshd does not fold a position of another database"
posrec $((m + 1000)) "$(sql "SELECT created_us FROM lineage_outbox WHERE seq = $m")" "file:$L" >"$P"
run_ctl 0 "trigger one with no deliverer, again" trigger one --rerun
waitsql "one ran again with no deliverer" "$((n0 + 2))" "SELECT count(*) FROM attempts WHERE state <> 'running'"
sleep 0.3
eq "$(acked "$L")" "$a0" "meshd does not fold a position ahead of the outbox"
posrec "$m" "$(sql "SELECT created_us FROM lineage_outbox WHERE seq = $m")" "file:$L" >"$P"
n0=$(sql "SELECT count(*) FROM attempts WHERE state <> 'running'")
run_ctl 0 "trigger one, a good position" trigger one --rerun
waitsql "meshd folds a good position in its own transaction" "$m" "SELECT acked_seq FROM lineage_sinks WHERE name = 'file:$L'"
kill -HUP "$MPID"
wait_for "the file catches up with a new deliverer" 20 caught_up "$L"
same "positions of another database while meshd folds"
stop_meshd

# --- the sink file's last line is another database's event: appended after
m=$(maxseq)
echo "{\"run\":{\"facets\":{\"meshd\":{\"seq\":$((m + 50))}}}}" >>"$L"
rm -f "$P"
start_meshd
n0=$(sql "SELECT count(*) FROM attempts WHERE state <> 'running'")
run_ctl 0 "trigger one after a foreign line" trigger one --rerun
waitsql "one ran after a foreign line" "$((n0 + 1))" "SELECT count(*) FROM attempts WHERE state <> 'running'"
wait_for "the new events follow the foreign line" 20 sh -c "[ \"\$(tail -n 1 '$L' | jq -r .run.facets.meshd.seq)\" = $((m + 2)) ]"
has "$T/meshd.log" "its last event (seq $((m + 50))) is not this database's: appending after it" "the foreign line is named"
eq "$(grep -v "\"seq\":$((m + 50))}" "$L" | jq -r '.run.facets.meshd.seq' | tr '\n' ' ')" "$(outseqs)" "a foreign last line: no event skipped, none twice"
stop_meshd

# --- keep = 0 while the sink is down: retention never passes the sink;
# once it is back it gets everything, and then the outbox empties
B="$T/blocked"
: >"$B"		# a file where the sink's directory should be
conf "kill_grace = 1;" "lineage = { path = \"$B/lineage.jsonl\"; keep = 0; };"
start_meshd
once_b() {
	n0=$(sql "SELECT count(*) FROM attempts WHERE state <> 'running'")
	run_ctl 0 "trigger one, sink down ($1)" trigger one --rerun
	waitsql "one ran, sink down ($1)" "$((n0 + 1))" "SELECT count(*) FROM attempts WHERE state <> 'running'"
}
once_b 1
waitsql "the sink's failure is recorded" "1" "SELECT failures > 0 AND last_error LIKE '%blocked%' FROM lineage_sinks WHERE name = 'file:$B/lineage.jsonl'"
once_b 2
sleep 0.5
total=$(sql "SELECT count(*) FROM lineage_outbox")
eq "$total" "$(maxseq)" "keep = 0 with the sink down: no event leaves the outbox"
rm -f "$B"
sql "UPDATE lineage_sinks SET next_try_us = 0"
wait_for "the sink back, it gets every event" 20 sh -c "[ -s '$B/lineage.jsonl' ] && [ \$(wc -l <'$B/lineage.jsonl') -ge $total ]"
eq "$(fileseqs "$B/lineage.jsonl")" "$(seq 1 "$total" | tr '\n' ' ')" "every event, once, in order, after the outage"
waitsql "then the outbox empties" "0" "SELECT count(*) FROM lineage_outbox"
waitsql "and the failure is cleared" "0 -" "SELECT failures || ' ' || coalesce(last_error, '-') FROM lineage_sinks WHERE name = 'file:$B/lineage.jsonl'"
stop_meshd
hasnt "$T/meshd.log" "ERROR" "no errors logged"
finish
