#!/bin/sh
# End-to-end: history and log retention (housekeep.h).  meshctl db clean
# deletes exactly the finished runs older than --older-than, with their
# attempts, checks and logs, and keeps what is live (queued, running, a
# pending request), what the catalog names (with its lineage), each job's
# scheduler watermark and the runs of a kept backfill; --dry-run deletes
# nothing and counts the same; files in log_dir that no deleted attempt
# names, and files outside it, stay; bad durations are refused, with
# file:line in meshd.conf.  Then meshd does the same on its own with
# history_retention and log_retention, and never deletes a run it is
# about to run again.
. "$(dirname "$0")/e2e-lib.sh"
PY=/usr/bin/python3
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

# --- bad durations: refused with file:line, or the option's name
conf 'history_retention = "-1d";'
run_ctl 1 "history_retention = \"-1d\" is refused" validate
has "$T/err" "meshd.conf:7: error: 'history_retention': '-1d' is not a duration" "it says where and why"
conf 'log_retention = -5;'
run_ctl 1 "log_retention = -5 is refused" validate
has "$T/err" "meshd.conf:7: error: 'log_retention' must be from 0" "it says where and why"
conf 'history_retention = "90x";'
run_ctl 1 "history_retention = \"90x\" is refused" validate
has "$T/err" "meshd.conf:7: error: 'history_retention': '90x': unknown unit 'x'" "it names the unit"
conf 'history_retention = "90dd";'
run_ctl 1 "history_retention = \"90dd\" is refused" validate
conf 'history_retention = true;'
run_ctl 1 "history_retention = true is refused" validate
has "$T/err" "meshd.conf:7: error: 'history_retention' must be a duration" "it says so"
conf 'history_retention = "999999999999d";'
run_ctl 1 "a retention of a billion years is refused" validate
has "$T/err" "is too long" "it says so"
conf 'history_retention = "90d";' 'log_retention = 604800;'
run_ctl 0 "history_retention = \"90d\" and log_retention = 604800 are accepted" validate

conf
for bad in 90x -1d "" 0 1.5d d 12hh 99999999999999999999; do
	run_ctl 2 "db clean --older-than '$bad' is refused" db clean --older-than "$bad"
	has "$T/err" "--older-than" "it names --older-than ('$bad')"
done
run_ctl 2 "db clean without --older-than is refused" db clean
has "$T/err" "--older-than is required" "it says so"
run_ctl 2 "db with an unknown subcommand is refused" db vacuum
has "$T/err" "unknown subcommand 'vacuum'" "it names it"
run_ctl 3 "db clean with no state says so (never creates one)" db clean --older-than 1d
[ ! -e "$T/state/state.db" ] && ok "no state database was created" || fail "db clean created a state database"

# --- the history: runs of three jobs, made by meshctl run
cat >"$T/jobs/pub.conf" <<JOB
name = "pub"; domain = "test"; owner = "tests@example.org";
schedule = "@daily"; start = "2001-01-01"; end = "2001-01-06";
catchup = "none";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ];
    product = "test.ok"; }
);
JOB
cat >"$T/jobs/plain.conf" <<JOB
name = "plain"; domain = "test"; owner = "tests@example.org";
tasks = (
  { id = "a"; plugin = "ok"; stage = "extract"; },
  { id = "b"; plugin = "ok"; stage = "check"; after = [ "a" ];
    params = { fail_if = "$T/fail-{partition}"; }; }
);
JOB
cat >"$T/jobs/sched.conf" <<JOB
name = "sched"; domain = "test"; owner = "tests@example.org";
schedule = "@daily"; start = "2001-01-01"; end = "2001-01-06";
catchup = "none";
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
: >"$T/fail-c"
for k in 2001-01-01 2001-01-02 2001-01-03; do
	"$MESHCTL" run pub --partition "$k" >/dev/null 2>&1
done
for k in a b c d e f g h i j k l m; do
	"$MESHCTL" run plain --partition "$k" >/dev/null 2>&1
done
for k in 2001-01-01 2001-01-02; do
	"$MESHCTL" run sched --partition "$k" >/dev/null 2>&1
done
eq "$(sql "SELECT count(*) FROM runs")" 18 "18 runs made"
eq "$(sql "SELECT state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'plain' AND partition_key = 'c'")" failed "plain c failed"
eq "$(sql "SELECT count(*) FROM product_partitions WHERE state = 'published' AND run_id IS NOT NULL")" 3 "three partitions published in the catalog"
eq "$(sql "SELECT count(*) FROM product_partitions WHERE state = 'building'")" 0 "no ended run leaves a partition building (plain has no publish task)"
nlogs=$(find "$T/state/logs" -name '*.log' | wc -l)
[ "$nlogs" -ge 30 ] && ok "attempt logs written ($nlogs)" || fail "only $nlogs logs"

rid() { sql "SELECT r.id FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' AND r.partition_key = '$2'"; }
DAY=86400000000
# Age them: every run but plain d and l ended 100 days ago.
sql "UPDATE runs SET ended_us = ended_us - 100 * $DAY WHERE NOT (job_id = (SELECT id FROM jobs WHERE name = 'plain') AND partition_key IN ('d', 'l'))"
# Live: e running, f queued (old ends, as a rerun's row keeps).
sql "UPDATE runs SET state = 'running' WHERE id = $(rid plain e)"
sql "UPDATE runs SET state = 'queued' WHERE id = $(rid plain f)"
# A pending request names g.
sql "INSERT INTO requests (kind, job, partition_key, created_us) VALUES ('trigger', 'plain', 'g', 1)"
# The scheduler made sched's two runs: the newer is its watermark.
sql "UPDATE runs SET scheduled = 1, \"trigger\" = 'schedule' WHERE job_id = (SELECT id FROM jobs WHERE name = 'sched')"
# A running backfill names h; an old finished one names i; an old one
# still running (its end is old too) names j.
NOW=$(($(date +%s) * 1000000))
OLD=$((NOW - 100 * DAY))
sql "INSERT INTO backfills (id, job, from_key, to_key, reprocess, max_active_runs, state, total, created_us, ended_us) VALUES (1, 'plain', 'h', 'h', 'all', 1, 'running', 1, $OLD, NULL), (2, 'plain', 'i', 'i', 'all', 1, 'success', 1, $OLD, $OLD), (3, 'plain', 'j', 'j', 'all', 1, 'cancelling', 1, $OLD, $OLD)"
sql "INSERT INTO backfill_partitions (backfill_id, seq, partition_key, state, run_id) VALUES (1, 0, 'h', 'success', $(rid plain h)), (2, 0, 'i', 'success', $(rid plain i)), (3, 0, 'j', 'success', $(rid plain j))"
# Old done requests and alerts go; a pending one stays.
sql "INSERT INTO requests (kind, job, partition_key, state, created_us, done_us) VALUES ('trigger', 'plain', 'zz', 'done', $OLD, $OLD)"
sql "INSERT INTO alert_outbox (event_id, event, job, hook, document, state, created_us, give_up_us) VALUES ('e1', 'failure', 'plain', '{}', '{}', 'delivered', $OLD, $OLD), ('e2', 'failure', 'plain', '{}', '{}', 'pending', $OLD, $NOW)"
# Files the clean must leave alone: a stray file beside a deleted run's
# logs, one at the top of log_dir, and files outside log_dir that
# attempts name (directly, and through a link inside log_dir).
echo keep >"$T/state/logs/plain/a/notes.txt"
echo keep >"$T/state/logs/README"
echo keep >"$T/outside.log"
echo keep >"$T/outside2.log"
ln -s "$T/outside2.log" "$T/state/logs/plain/b/link.log"
sql "UPDATE attempts SET log_path = '$T/outside.log' WHERE id = (SELECT min(a.id) FROM attempts a JOIN task_instances t ON t.id = a.task_instance_id WHERE t.run_id = $(rid plain k))"
sql "UPDATE attempts SET log_path = '$T/state/logs/plain/b/link.log' WHERE id = (SELECT min(a.id) FROM attempts a JOIN task_instances t ON t.id = a.task_instance_id WHERE t.run_id = $(rid plain b))"
# The catalog's partitions, their rows and what named them, before.
cat_before=$(sql "SELECT group_concat(product_id || ':' || partition_key || ':' || state || ':' || run_id || ':' || attempt_id, ' ') FROM product_partitions WHERE state = 'published'")
npp=$(sql "SELECT count(*) FROM product_partitions")
pubruns="$(rid pub 2001-01-01) $(rid pub 2001-01-02) $(rid pub 2001-01-03)"
snapshot() { sql "SELECT (SELECT count(*) FROM runs) || '/' || (SELECT count(*) FROM attempts) || '/' || (SELECT count(*) FROM check_results) || '/' || (SELECT count(*) FROM backfills) || '/' || (SELECT count(*) FROM requests) || '/' || (SELECT count(*) FROM alert_outbox) || '/' || (SELECT count(log_path) FROM attempts)"; }
before=$(snapshot)
files_before=$(cd "$T/state/logs" && find . | sort | md5sum)

# --- dry run: nothing deleted, counts reported
run_ctl 0 "db clean --dry-run" db clean --older-than 30d --dry-run --json
cp "$T/out" "$T/dry.json"
eq "$(snapshot)" "$before" "the dry run deleted no row"
eq "$(cd "$T/state/logs" && find . | sort | md5sum)" "$files_before" "the dry run removed no file"
run_ctl 0 "db clean --dry-run, as text" db clean --older-than 30d --dry-run
has "$T/out" "would delete 7 runs" "the text says what would go"

# --- the clean
run_ctl 0 "db clean --older-than 30d" db clean --older-than 30d --json
cp "$T/out" "$T/real.json"
$PY - "$T/dry.json" "$T/real.json" <<'EOF' >"$T/cmp" 2>&1
import json, sys
d = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))
assert d["dry_run"] is True and r["dry_run"] is False, (d, r)
for k in ("dry_run", "cutoff_us"):
    d.pop(k); r.pop(k)
assert d == r, "dry %s\nreal %s" % (d, r)
print("same", r["runs"], r["attempts"], r["backfills"], r["requests"],
    r["alerts"], r["kept"])
EOF
if grep -q '^same' "$T/cmp"; then ok "the dry run counted what the clean deleted: $(cat "$T/cmp")"; else fail "dry run and clean differ"; cat "$T/cmp"; fi
left=$(sql "SELECT group_concat(j.name || ':' || r.partition_key, ' ') FROM (SELECT * FROM runs ORDER BY id) r JOIN jobs j ON j.id = r.job_id")
eq "$left" "pub:2001-01-01 pub:2001-01-02 pub:2001-01-03 plain:d plain:e plain:f plain:g plain:h plain:j plain:l sched:2001-01-02" \
    "exactly the old runs went: plain a b c i k m and sched's older run"
$PY - "$T/real.json" <<'EOF' >"$T/cmp" 2>&1
import json, sys
r = json.load(open(sys.argv[1]))
want = {"runs": 7, "task_instances": 13, "backfills": 1,
    "backfill_partitions": 1, "requests": 1, "alerts": 1,
    "kept": {"live": 0, "catalog": 3, "watermark": 1, "backfill": 2,
    "request": 1}}
for k, v in want.items():
    assert r[k] == v, "%s: %s, wanted %s" % (k, r[k], v)
assert r["attempts"] >= 12 and r["check_results"] >= 6, r
print("ok")
EOF
if grep -q '^ok' "$T/cmp"; then ok "the counts are right"; else fail "counts"; cat "$T/cmp"; cat "$T/real.json"; fi
eq "$(sql "SELECT count(*) FROM task_instances WHERE run_id NOT IN (SELECT id FROM runs)")" 0 "no task instance outlives its run"
eq "$(sql "SELECT count(*) FROM check_results WHERE attempt_id NOT IN (SELECT id FROM attempts)")" 0 "no check result outlives its attempt"
eq "$(sql "SELECT group_concat(product_id || ':' || partition_key || ':' || state || ':' || run_id || ':' || attempt_id, ' ') FROM product_partitions WHERE state = 'published'")" "$cat_before" "the catalog's published partitions still name the runs and attempts that published them"
n=0; for r in $pubruns; do n=$((n + $(sql "SELECT count(*) FROM check_results c JOIN attempts a ON a.id = c.attempt_id JOIN task_instances t ON t.id = a.task_instance_id WHERE t.run_id = $r"))); done
[ "$n" -ge 3 ] && ok "the published runs keep their checks ($n)" || fail "published runs lost their checks ($n)"
eq "$(sql "SELECT count(*) FROM attempts a JOIN task_instances t ON t.id = a.task_instance_id WHERE t.run_id IN ($(echo $pubruns | tr ' ' ,))")" 9 "and their attempts"
eq "$(sql "SELECT count(*) FROM product_partitions")" "$npp" "no catalog row is deleted"
eq "$(sql "SELECT count(*) FROM product_partitions WHERE state <> 'published' AND run_id IS NOT NULL AND run_id NOT IN (SELECT id FROM runs)")" 0 "no catalog row names a deleted run"
eq "$(sql "SELECT count(*) FROM product_partitions WHERE partition_key IN ('a', 'c') AND run_id IS NULL")" 2 "the building and quarantined rows of deleted runs name none"
eq "$(sql "SELECT id FROM backfills ORDER BY id" | tr '\n' ' ')" "1 3 " "the finished old backfill went, the live ones stay"
eq "$(sql "SELECT count(*) FROM requests WHERE state = 'pending'")" 1 "the pending request stays"
eq "$(sql "SELECT event_id FROM alert_outbox")" e2 "the pending alert stays"
run_ctl 0 "meshctl db check passes after the clean" db check
# Logs: the deleted runs' logs are gone, and their directories; kept
# runs' logs that are as old went too (log cutoff = --older-than), but
# not those of live runs nor of the recent ones.
for k in c i m; do
	[ ! -e "$T/state/logs/plain/$k" ] && ok "plain $k's log directory is gone" || fail "plain $k's logs are still there: $(ls "$T/state/logs/plain/$k")"
done
[ -f "$T/state/logs/plain/a/notes.txt" ] && ok "a stray file beside deleted logs stays" || fail "notes.txt removed"
[ ! -e "$T/state/logs/plain/a/a.1.log" ] && ok "plain a's own logs are gone" || fail "plain a's logs stay"
[ -f "$T/state/logs/README" ] && ok "a file at the top of log_dir stays" || fail "README removed"
[ -f "$T/outside.log" ] && ok "a log path outside log_dir is not removed" || fail "outside.log removed"
[ -f "$T/outside2.log" ] && [ -L "$T/state/logs/plain/b/link.log" ] && ok "a link in log_dir to a file outside is not followed" || fail "link followed"
for k in d l; do
	[ -f "$T/state/logs/plain/$k/a.1.log" ] && ok "recent plain $k keeps its logs" || fail "plain $k lost its logs"
done
[ -f "$T/state/logs/plain/e/a.1.log" ] && ok "running plain e keeps its logs" || fail "plain e lost its logs"
eq "$(sql "SELECT count(log_path) FROM attempts a JOIN task_instances t ON t.id = a.task_instance_id WHERE t.run_id IN ($(echo $pubruns | tr ' ' ,))")" 0 "the old published runs' logs went (log_path cleared)"
eq "$(find "$T/state/logs/pub" -name '*.log' 2>/dev/null | wc -l)" 0 "and their files"
run_ctl 0 "a second clean finds nothing" db clean --older-than 30d --json
$PY -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["runs"]==0 and r["log_files"]==0, r' "$T/out" && ok "nothing left to delete" || fail "second clean deleted more"
run_ctl 1 "meshctl logs of a kept run whose logs went" logs pub 2001-01-01 extract

# --- meshd: history_retention and log_retention on its own
conf 'history_retention = "30d";' 'log_retention = "7d";' 'shutdown_grace = 2;'
for k in n o p q; do
	"$MESHCTL" run plain --partition "$k" >/dev/null 2>&1
done
cat >"$T/jobs/solo.conf" <<JOB
name = "solo"; domain = "test"; owner = "tests@example.org";
max_active_runs = 1;
params = { sleep_ms = 0; };
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
for k in x y; do
	"$MESHCTL" run solo --partition "$k" >/dev/null 2>&1
done
sql "UPDATE runs SET ended_us = ended_us - 40 * $DAY WHERE id = $(rid plain n)"
sql "UPDATE runs SET ended_us = ended_us - 10 * $DAY WHERE id = $(rid plain o)"
# q: old, and meshd will run it again on a trigger: it is live then.
qid=$(rid plain q)
sql "UPDATE runs SET ended_us = ended_us - 40 * $DAY WHERE id = $qid"
run_ctl 0 "a rerun of old plain q is asked for while meshd is down" trigger plain --partition q --rerun --param sleep_ms=1500
start_meshd
waitsql "meshd deletes the run older than history_retention" 0 "SELECT count(*) FROM runs WHERE id = $(rid plain n)"
waitsql "meshd removes the logs of the run older than log_retention" 0 "SELECT count(log_path) FROM attempts a JOIN task_instances t ON t.id = a.task_instance_id JOIN runs r ON r.id = t.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'plain' AND r.partition_key = 'o'"
eq "$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'plain' AND r.partition_key IN ('o', 'p')")" 2 "it keeps the run inside history_retention, and the recent one"
[ ! -e "$T/state/logs/plain/o/a.1.log" ] && ok "o's log file is gone" || fail "o's log stays"
[ -f "$T/state/logs/plain/p/a.1.log" ] && ok "p's log file stays" || fail "p's log removed"
wait_for "meshd logs what it deleted" 10 logged "housekeeping: deleted"
waitsql "the old run meshd was asked to run again is kept, and runs" "$qid|success|1" "SELECT id || '|' || state || '|' || (ended_us > $NOW) FROM runs WHERE id = $qid"
eq "$(sql "SELECT count(*) FROM attempts a JOIN task_instances t ON t.id = a.task_instance_id WHERE t.run_id = $qid")" 4 "with its old attempts and the new ones"
eq "$(sql "SELECT count(*) FROM product_partitions WHERE state = 'published' AND run_id IS NOT NULL")" 3 "the catalog keeps its runs under meshd too"
oid=$(rid plain o)
conf 'history_retention = "5d";' 'log_retention = "7d";' 'shutdown_grace = 2;'
kill -HUP "$MPID"
waitsql "a reload that shortens history_retention sweeps again at once" 0 "SELECT count(*) FROM runs WHERE id = $oid"
eq "$(sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'plain' AND r.partition_key = 'p'")" 1 "the recent run stays"
# A trigger of an old finished run, queued behind a long run of a job
# that runs one at a time: meshd holds it in memory, and its row still
# says it ended long ago.  A clean alongside keeps it, and it runs again
# as itself, with the parameter asked for.
waitsql "solo's runs are there" 2 "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'solo'"
xid=$(rid solo x)
sql "UPDATE runs SET ended_us = ended_us - 40 * $DAY WHERE job_id = (SELECT id FROM jobs WHERE name = 'solo')"
run_ctl 0 "a long run of solo" trigger solo --partition z --param sleep_ms=4000
waitsql "it runs" running "SELECT state FROM runs WHERE id = $(rid solo z)"
run_ctl 0 "a rerun of old solo x, queued behind it" trigger solo --partition x --rerun --param sleep_ms=7
waitsql "meshd took the request" done "SELECT state FROM requests WHERE kind = 'trigger' AND job = 'solo' AND partition_key = 'x'"
eq "$(sql "SELECT state FROM runs WHERE id = $xid")" success "x's row still says it succeeded, long ago"
run_ctl 0 "db clean alongside meshd" db clean --older-than 1d --json
$PY -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["kept"]["request"]>=1, r' "$T/out" && ok "it keeps x, which a trigger asked to run again" || { fail "x not kept"; cat "$T/out"; }
eq "$(rid solo y)" "" "old solo y, which nothing names, went"
waitsql "x runs again as itself, with its parameter" "$xid|success|1" "SELECT r.id || '|' || r.state || '|' || (r.params LIKE '%sleep_ms%7%') FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'solo' AND r.partition_key = 'x' AND r.ended_us > $NOW"
stop_meshd
eq "$STOPRC" 0 "meshd stops cleanly"
finish
