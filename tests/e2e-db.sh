#!/bin/sh
# End-to-end: meshctl db backup and db check, and the restore of
# meshd(8).  A backup taken while meshd runs a backfill is one consistent
# snapshot that passes integrity_check; it never replaces a file without
# --force, nor the state itself; restored over state_db (meshd stopped,
# -wal and -shm removed), meshd starts on it, fails the attempts that were
# running at backup time, and the backfill resumes and completes, each
# partition with one run.  db check finds a broken foreign key and a
# damaged file, and says what is wrong.
. "$(dirname "$0")/e2e-lib.sh"
PY=/usr/bin/python3
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
conf "shutdown_grace = 2;" "kill_grace = 1;"
cat >"$T/jobs/day.conf" <<JOB
name = "day"; domain = "test"; owner = "tests@example.org";
schedule = "@daily"; start = "2001-01-01"; end = "2001-02-01";
catchup = "none";
max_active_runs = 2;
params = { sleep_ms = 250; };
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ];
    product = "test.ok"; }
);
JOB
B="$T/backup.db"

run_ctl 3 "db backup with no state database says so" db backup "$B"
[ ! -e "$B" ] && [ ! -e "$B.tmp" ] && ok "and writes nothing" || fail "a backup file was written"
run_ctl 2 "db backup without FILE is a usage error" db backup
run_ctl 3 "db check of a file that is not there" db check "$T/nosuch.db"
[ ! -e "$T/nosuch.db" ] && ok "db check creates no file" || fail "db check created a file"

start_meshd
run_ctl 0 "a backfill of 20 days" backfill day --from 2001-01-01 --to 2001-01-20
bf=$(sql "SELECT max(id) FROM backfills")
waitsql "the backfill is under way" 1 "SELECT n_success >= 3 FROM backfills WHERE id = $bf"

# --- back up while it runs
run_ctl 0 "db backup while meshd runs the backfill" db backup "$B" --json
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["integrity"]=="ok" and d["pages"]>0 and d["path"]==sys.argv[2], d' "$T/out" "$B" && ok "it reports the copy" || { fail "backup json"; cat "$T/out"; }
eq "$(sqlite3 "$B" "PRAGMA integrity_check")" ok "the backup passes integrity_check"
eq "$(sqlite3 "$B" "PRAGMA foreign_key_check" | wc -l)" 0 "and foreign_key_check"
eq "$(sqlite3 "$B" "PRAGMA journal_mode")" delete "the backup is one file (no -wal needed)"
[ ! -e "$B.tmp" ] && [ ! -e "$B-wal" ] && ok "no FILE.tmp or -wal is left beside it" || fail "leftovers: $(ls "$T")"
done_b=$(sqlite3 "$B" "SELECT n_success FROM backfills WHERE id = $bf")
[ "$done_b" -ge 3 ] && [ "$done_b" -lt 20 ] && ok "the backup caught the backfill part way ($done_b of 20)" || fail "backfill in backup: $done_b"
eq "$(sqlite3 "$B" "SELECT n_success = (SELECT count(*) FROM backfill_partitions WHERE backfill_id = $bf AND state = 'success') FROM backfills WHERE id = $bf")" 1 "its counters agree with its partitions (one snapshot)"
running_b=$(sqlite3 "$B" "SELECT count(*) FROM attempts WHERE state = 'running'")
run_ctl 0 "db check of the backup" db check "$B"
has "$T/out" "integrity_check ok, foreign_key_check ok" "it says so"

# --- never over a file, nor over the state
echo precious >"$T/precious"
run_ctl 2 "db backup over an existing file is refused" db backup "$T/precious"
has "$T/err" "exists: refused (--force replaces it)" "it says how to replace it"
eq "$(cat "$T/precious")" precious "the file is untouched"
run_ctl 2 "db backup over the state database is refused, even with --force" db backup "$T/state/state.db" --force
has "$T/err" "is the state database itself" "it says so"
ln -s "$T/state/state.db" "$T/alias.db"
run_ctl 2 "db backup over a link to the state database is refused" db backup "$T/alias.db" --force
run_ctl 0 "db backup --force replaces a file" db backup "$T/precious" --force
eq "$(sqlite3 "$T/precious" "PRAGMA integrity_check")" ok "the replaced file is a sound database"
run_ctl 1 "db backup into a directory that is not there fails" db backup "$T/nosuch/b.db"
run_ctl 0 "db check of the live state while meshd runs" db check --json
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] is True and d["integrity"]==[] and d["foreign_keys"]==[], d' "$T/out" && ok "--json says ok" || fail "check json"

# --- restore: stop meshd, copy the backup over state_db, remove -wal
# and -shm, start
stop_meshd
eq "$STOPRC" 0 "meshd stops"
cp "$B" "$T/state/state.db"
rm -f "$T/state/state.db-wal" "$T/state/state.db-shm"
: >"$T/meshd.log"
start_meshd
# Meanwhile, clean everything older than a second, again and again:
# meshd's writes and the clean's batches share the lock, and nothing the
# backfill needs (its runs, what they published) goes.
cleans=0; cfail=0; i=0
while [ $i -lt 15 ]; do
	"$MESHCTL" db clean --older-than 1s >>"$T/clean.out" 2>&1 || cfail=$((cfail + 1))
	cleans=$((cleans + 1)); i=$((i + 1)); sleep 0.2
done
eq "$cfail" 0 "$cleans cleans --older-than 1s alongside the running backfill all succeed"
grep -q "kept .* of a backfill\|in the catalog" "$T/clean.out" && ok "they kept the backfill's runs" || { fail "clean output"; tail -5 "$T/clean.out"; }
waitsql "the backfill resumes from the backup and completes" "success|20" "SELECT state || '|' || n_success FROM backfills WHERE id = $bf"
i=0; while [ $i -lt 100 ] && [ "$(sql "SELECT count(*) FROM runs WHERE state IN ('queued', 'running')")" != 0 ]; do sleep 0.1; i=$((i + 1)); done
eq "$(sql "SELECT count(*) || '|' || count(DISTINCT partition_key) FROM runs WHERE state = 'success'")" "20|20" "each partition has one run, succeeded"
eq "$(sql "SELECT count(*) FROM product_partitions WHERE state = 'published'")" 20 "and is published"
eq "$(sql "SELECT count(*) FROM attempts WHERE reason = 'daemon restarted'")" "$running_b" "the attempts running at backup time failed as 'daemon restarted' ($running_b), and their tasks ran again"
eq "$(sql "SELECT count(*) FROM attempts WHERE state = 'running'")" 0 "no attempt is left running"
run_ctl 0 "db check after the restore" db check
stop_meshd

# --- db check finds what is wrong
cp "$B" "$T/fk.db"
sqlite3 "$T/fk.db" "PRAGMA foreign_keys = OFF; INSERT INTO task_instances (run_id, task_id, stage) VALUES (999999, 'ghost', 'extract');"
run_ctl 1 "db check of a file with a broken foreign key fails" db check "$T/fk.db"
has "$T/out" "foreign key: task_instances row" "it names the table"
has "$T/out" "names a missing runs row" "and the missing parent"
run_ctl 1 "the same with --json" db check "$T/fk.db" --json
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] is False and d["foreign_keys"][0]["table"]=="task_instances" and d["foreign_keys"][0]["parent"]=="runs", d' "$T/out" && ok "--json lists the violation" || fail "fk json"
# Damage an index page in a copy: integrity_check finds it.
cp "$B" "$T/bad.db"
pg=$(sqlite3 "$T/bad.db" "PRAGMA page_size")
root=$(sqlite3 "$T/bad.db" "SELECT rootpage FROM sqlite_master WHERE name = 'runs_state'")
$PY - "$T/bad.db" "$pg" "$root" <<'EOF'
import sys
path, pg, root = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "r+b") as f:
    f.seek((root - 1) * pg + 8)
    f.write(b"\xff" * 64)
EOF
run_ctl 1 "db check of a damaged file fails" db check "$T/bad.db"
cat "$T/out" "$T/err" >"$T/both"
if grep -q "integrity: \|malformed" "$T/both"; then ok "it says what integrity_check found: $(head -n 1 "$T/both")"; else fail "no reason given"; cat "$T/both"; fi
echo "not a database" >"$T/junk.db"
"$MESHCTL" db check "$T/junk.db" >"$T/out" 2>"$T/err"; rc=$?
[ $rc -ne 0 ] && ok "db check of a file that is no database fails (exit $rc)" || fail "junk passed"
finish
