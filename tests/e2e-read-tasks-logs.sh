#!/bin/sh
# End-to-end: the read questions `tasks` and `logs` (issue 12) through
# meshctl.  Every --json document validates against the question's own
# JSON Schema (read-schema prints it); tasks pages by cursor with nothing
# lost or repeated; logs reads a log chunk by chunk from next_offset,
# never splits a character that a chunk can hold, and turns bytes that
# are not UTF-8 into U+FFFD so that any log is valid JSON; --follow
# follows a growing log with the same question.
. "$(dirname "$0")/e2e-lib.sh"
conf
SCHEMA="$top_builddir/tests/read-schema"
PY=/usr/bin/python3
VALIDATE="$top_srcdir/tests/read-validate.py"
[ -x "$SCHEMA" ] || { fail "no $SCHEMA (make check builds it)"; finish; }
"$PY" -c 'import jsonschema' || { fail "$PY has no jsonschema"; finish; }
"$SCHEMA" tasks >"$T/tasks.schema" && "$SCHEMA" logs >"$T/logs.schema" ||
	fail "read-schema knows tasks and logs"

# valid NAME DESC: $T/out validates against question NAME's schema.
valid() {
	if "$PY" "$VALIDATE" "$T/$1.schema" "$T/out" >"$T/verr" 2>&1; then
		ok "$2 validates against the $1 schema"
	else
		fail "$2: not valid for the $1 schema"
		sed 's/^/    | /' "$T/verr" | tail -n 10
	fi
}

# rx FILE ERE DESC: a line of FILE matches.
rx() {
	if grep -Eq -- "$2" "$1"; then ok "$3"; else fail "$3: /$2/ not in $(basename "$1")"; sed 's/^/    | /' "$1" | tail -n 20; fi
}

cat >"$T/jobs/wide.conf" <<'JOB'
name = "wide";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "t1"; plugin = "ok"; stage = "extract"; },
  { id = "t2"; plugin = "ok"; stage = "extract"; },
  { id = "t3"; plugin = "ok"; stage = "extract"; },
  { id = "t4"; plugin = "ok"; stage = "extract"; },
  { id = "t5"; plugin = "ok"; stage = "extract"; }
);
JOB
cat >"$T/jobs/gate.conf" <<'JOB'
name = "gate";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "extract"; plugin = "badcheck"; stage = "extract"; },
  { id = "check"; plugin = "badcheck"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "badcheck"; stage = "publish"; after = [ "check" ]; }
);
JOB
cat >"$T/jobs/slow.conf" <<'JOB'
name = "slow";
domain = "test";
owner = "tests@example.org";
params = { lines = 6; interval_ms = 250; };
tasks = ( { id = "extract"; plugin = "slowlog"; stage = "extract"; } );
JOB

run_ctl 0 "run wide" run wide
run_ctl 1 "run gate (its check fails)" run gate

# --- tasks: the document, its schema, the table
run_ctl 0 "tasks --json" tasks wide current --json
valid tasks "tasks --json"
eq "$(jq -r '[.tasks[].task] | join(",")' "$T/out")" "t1,t2,t3,t4,t5" "the tasks in the job's order"
eq "$(jq -r '[.tasks[] | .attempts | length] | join(",")' "$T/out")" "1,1,1,1,1" "each with its attempt"
eq "$(jq -r '.next_cursor' "$T/out")" "null" "one page: no next cursor"
run_id=$(jq -r .run_id "$T/out")
run_ctl 0 "tasks as a table" tasks wide current
rx "$T/out" '^TASK +STAGE +STATE +TRIES +STARTED +DURATION +REASON$' "the table's header as before"
eq "$(grep -c '^t[1-5] ' "$T/out")" "5" "a line per task"
run_ctl 0 "tasks of gate --json" tasks gate current --json
valid tasks "tasks of a failed run"
eq "$(jq -r '.tasks[] | select(.task == "check") | .checks[] | select(.check == "rows_min") | "\(.severity) \(.passed) \(.observed) \(.expectation)"' "$T/out")" "error false 5 >= 10" "the failed check is in its task"
eq "$(jq -r '.run_state + " " + (.tasks[] | select(.task == "publish") | .state)' "$T/out")" "failed upstream_failed" "run and publish states"
run_ctl 0 "tasks of gate as a table" tasks gate current
rx "$T/out" '^TASK +CHECK +LEVEL +RESULT +OBSERVED +EXPECTED$' "a checks table follows"
rx "$T/out" '^check +rows_min +error +FAIL +5 +>= 10$' "the failed check's line"

# --- tasks: paging by cursor, nothing lost or repeated
run_ctl 0 "tasks --limit 2" tasks wide current --limit 2 --json
valid tasks "a page of tasks"
pages=1; names=$(jq -r '[.tasks[].task] | join(",")' "$T/out")
cur=$(jq -r .next_cursor "$T/out")
has "$T/err" "(more tasks: meshctl tasks ... --cursor $cur)" "the next page is said on stderr with --json"
while [ "$cur" != "null" ] && [ "$pages" -lt 10 ]; do
	"$MESHCTL" tasks wide current --limit 2 --cursor "$cur" --json >"$T/out" 2>"$T/err" || fail "page $pages"
	names="$names,$(jq -r '[.tasks[].task] | join(",")' "$T/out")"
	cur=$(jq -r .next_cursor "$T/out")
	pages=$((pages + 1))
done
eq "$pages:$names" "3:t1,t2,t3,t4,t5" "three pages of 2, 2 and 1, in order"
run_ctl 0 "tasks --limit 4 as a table" tasks wide current --limit 4
rx "$T/out" '^\(more tasks: meshctl tasks \.\.\. --cursor [0-9a-f]+\)$' "the table says how to get the next page"
run_ctl 2 "a cursor that is not one" tasks wide current --cursor zz
has "$T/err" "--cursor: 'zz' is not a cursor this question returned" "and says so"
run_ctl 2 "--limit 0" tasks wide current --limit 0
run_ctl 2 "--state is not a tasks option" tasks wide current --state success
has "$T/err" "tasks takes no --state or --since" "says so"
run_ctl 2 "a partition without a run" tasks wide 1999-01-01
has "$T/err" "job 'wide' has no run for partition '1999-01-01'" "says which"
run_ctl 2 "an unknown job" tasks nosuch current
has "$T/err" "unknown job 'nosuch'" "names it"

# --- logs: a log with bytes that are not UTF-8 still makes JSON
run_ctl 0 "logs --json" logs wide current t1 --json
valid logs "logs --json"
eq "$(jq -r '"\(.attempt) \(.state) \(.eof) \(.done) \(.offset) \(.next_offset == .size)"' "$T/out")" "1 success true true 0 true" "a whole small log, done"
lp=$(jq -r .path "$T/out")
printf 'caf\303\251 ok\nbad \377\376 byte\nhalf \342\202' >>"$lp"
size=$(stat -c %s "$lp")
run_ctl 0 "logs --json of a log with bad bytes" logs wide current t1 --json
valid logs "a log with bad bytes"
"$PY" - "$T/out" <<'PY' && ok "bad bytes are U+FFFD, good ones kept, a cut character at the end too" || fail "the text of bad bytes"
import json, sys
t = json.load(open(sys.argv[1]))["text"]
assert "caf\u00e9 ok\n" in t, t[-60:]
assert "bad \ufffd\ufffd byte\n" in t, t[-60:]
assert t.endswith("half \ufffd\ufffd"), t[-60:]
PY
run_ctl 0 "logs --all of it" logs wide current t1 --all --no-pager
"$PY" -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$T/out" && ok "the printed log is UTF-8" || fail "the printed log is not UTF-8"
has "$T/out" "café ok" "with its good characters"

# --- logs: chunks from next_offset put the log back together
"$MESHCTL" logs wide current t1 --offset 0 --all --json >"$T/whole" 2>"$T/err"
for lim in 4 7 64; do
	off=0; n=0; : >"$T/chunks"; okc=1
	while [ "$n" -lt 1000 ]; do
		"$MESHCTL" logs wide current t1 --offset "$off" --limit-bytes "$lim" --json >"$T/out" 2>"$T/err" || { okc=0; break; }
		[ "$(jq -r .offset "$T/out")" = "$off" ] || okc=0
		jq -j .text "$T/out" >>"$T/chunks"
		nx=$(jq -r .next_offset "$T/out")
		[ "$nx" -gt "$off" ] && [ "$((nx - off))" -le "$lim" ] || okc=0
		off=$nx; n=$((n + 1))
		[ "$(jq -r .eof "$T/out")" = "true" ] && break
	done
	eq "$okc:$off" "1:$size" "chunks of $lim bytes: each from the last next_offset, at most $lim bytes, to the end"
	jq -j .text "$T/whole" | cmp -s - "$T/chunks" && ok "chunks of $lim bytes make the whole text, no character split" || fail "chunks of $lim bytes differ from the whole"
done
valid logs "the last chunk"
# The 2-byte é: a chunk of 1 byte cannot hold it and moves on anyway.
pos=$(grep -bo "caf" "$lp" | tail -n 1 | cut -d: -f1); pos=$((pos + 3))
run_ctl 0 "one byte of a 2-byte character" logs wide current t1 --offset "$pos" --limit-bytes 1 --json
eq "$(jq -r '"\(.next_offset - .offset) \(.text == "\ufffd")"' "$T/out")" "1 true" "is U+FFFD, one byte on (a reader never stalls)"
run_ctl 0 "two bytes at it" logs wide current t1 --offset "$pos" --limit-bytes 2 --json
eq "$(jq -r .text "$T/out")" "é" "hold the character"
run_ctl 0 "three bytes at its second byte" logs wide current t1 --offset "$((pos + 1))" --limit-bytes 3 --json
eq "$(jq -r .text "$T/out")" "$(printf '\357\277\275 o')" "start with U+FFFD for the stray byte"
run_ctl 0 "an offset past the end" logs wide current t1 --offset 999999999 --json
eq "$(jq -r '"\(.offset == .size) \(.next_offset == .size) \(.text) \(.eof)"' "$T/out")" "true true  true" "is an empty chunk at the end"
run_ctl 0 "--tail 2 --json" logs wide current t1 --tail 2 --json
eq "$(jq -r .text "$T/out" | head -n 1)" "bad $(printf '\357\277\275\357\277\275') byte" "--tail counts lines back from the end"
run_ctl 2 "an attempt that does not exist" logs wide current t1 --attempt 9
has "$T/err" "task 't1' of wide current has no attempt 9" "says which"
run_ctl 2 "a task the job does not have" logs wide current t9
has "$T/err" "job 'wide' has no task 't9'" "says so"
run_ctl 2 "a partition without a run" logs wide 1999-01-01 t1
has "$T/err" "job 'wide' has no run for partition '1999-01-01'" "says which"

# --- the questions asked directly (as the HTTP API asks them)
# askq DESC WANT_RC NAME K=V...: read-schema ask; document in $T/out.
askq() {
	d=$1; want=$2; shift 2
	"$SCHEMA" ask "$T/meshd.conf" "$@" >"$T/out" 2>"$T/err"
	r=$?
	if [ "$r" -eq "$want" ]; then ok "$d (exit $r)"; else fail "$d: exit $r, wanted $want"; sed 's/^/    err: /' "$T/err"; fi
}
run_ctl 0 "tasks --json for the comparison" tasks wide current --json
cp "$T/out" "$T/ctl.json"
askq "ask tasks job=wide partition=current" 0 tasks job=wide partition=current
eq "$(jq -S . "$T/out" | md5sum)" "$(jq -S . "$T/ctl.json" | md5sum)" "meshctl tasks --json is the question's document"
askq "ask tasks run=ID" 0 tasks run="$run_id"
eq "$(jq -S . "$T/out" | md5sum)" "$(jq -S . "$T/ctl.json" | md5sum)" "by run id, the same document"
run_ctl 0 "logs --json for the comparison" logs wide current t1 --json
cp "$T/out" "$T/ctl.json"
askq "ask logs" 0 logs job=wide partition=current task=t1
eq "$(jq -S . "$T/out" | md5sum)" "$(jq -S . "$T/ctl.json" | md5sum)" "meshctl logs --json is the question's document"
askq "tasks without a partition" 1 tasks job=wide
has "$T/err" "400 tasks needs job and partition, or run" "is a 400"
askq "tasks by run and job" 1 tasks run=1 job=wide
has "$T/err" "400 run: give either run or job and partition" "is a 400"
askq "tasks of a run that is not there" 1 tasks run=99999
has "$T/err" "404 no run 99999" "is a 404"
askq "tasks with an unknown parameter" 1 tasks run=1 state=failed
has "$T/err" "400 unknown parameter 'state' for tasks" "is a 400"
askq "logs with tail and offset" 1 logs job=wide partition=current task=t1 tail=2 offset=0
has "$T/err" "400 tail: tail and offset do not go together" "is a 400"
askq "logs with limit_bytes too big" 1 logs job=wide partition=current task=t1 limit_bytes=16777217
has "$T/err" "400 limit_bytes: '16777217' is not a number from 1 to 16777216" "is a 400"
askq "logs with a negative offset" 1 logs job=wide partition=current task=t1 offset=-1
askq "logs without a task" 1 logs job=wide partition=current
has "$T/err" "400 logs needs parameter 'task'" "is a 400"

# --- what a follower waits for: documents, not errors
cat >"$T/jobs/later.conf" <<'JOB'
name = "later";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "extract"; plugin = "ok"; stage = "extract"; } );
JOB
run_ctl 0 "trigger later with meshd down" trigger later
askq "logs of a run a pending request will create" 0 logs job=later partition=current task=extract
valid logs "the waiting-for-the-run document"
eq "$(jq -r '"\(.waiting) \(.done) \(.attempt)"' "$T/out")" "run false null" "says it waits for the run"
run_ctl 2 "meshctl logs without --follow says there is no run" logs later current extract
has "$T/err" "job 'later' has no run for partition 'current'" "as before"
wid=$(sql "SELECT id FROM jobs WHERE name = 'wide'")
sql "INSERT INTO runs (job_id, partition_key, state, created_us) VALUES ($wid, 'q', 'queued', 1)"
askq "logs of a queued run's task" 0 logs job=wide partition=q task=t1
valid logs "the waiting-for-the-task document"
eq "$(jq -r '"\(.waiting) \(.run_state) \(.done)"' "$T/out")" "task queued false" "says it waits for the task"
askq "tasks of a queued run" 0 tasks job=wide partition=q
valid tasks "a run without tasks yet"
eq "$(jq -r '.tasks | length' "$T/out")" "0" "has none"
qid=$(sql "SELECT id FROM runs WHERE job_id = $wid AND partition_key = 'q'")
sql "INSERT INTO task_instances (run_id, task_id, stage, state) VALUES ($qid, 't1', 'extract', 'queued'), ($qid, 't2', 'extract', 'upstream_failed')"
askq "logs of a queued task" 0 logs job=wide partition=q task=t1
valid logs "the waiting-for-the-attempt document"
eq "$(jq -r '"\(.waiting) \(.task_state) \(.task_done) \(.done)"' "$T/out")" "attempt queued false false" "says it waits for the attempt"
askq "logs of a task that ended without an attempt" 0 logs job=wide partition=q task=t2
valid logs "the no-attempt document"
eq "$(jq -r '"\(.waiting) \(.task_state) \(.task_done) \(.done) \(.attempt)"' "$T/out")" "null upstream_failed true true null" "is done, with no attempt"
run_ctl 1 "--follow of it exits 1" logs wide q t2 --follow
has "$T/err" "== task t2 is upstream_failed without an attempt ==" "and says why"
askq "logs of a task never scheduled in an ended run" 1 logs job=gate partition=current task=nosuch
has "$T/err" "404 job 'gate' has no task 'nosuch'" "is a 404"

# --- logs --follow: the same question, asked from next_offset
"$MESHCTL" run slow >"$T/run.out" 2>&1 &
rpid=$!
i=0
while [ "$i" -lt 100 ] && ! "$MESHCTL" logs slow current extract --json >"$T/out" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
eq "$(jq -r '"\(.state) \(.done)"' "$T/out")" "running false" "a running attempt's chunk is not done"
valid logs "a running attempt's chunk"
"$MESHCTL" logs slow current extract --follow >"$T/f.out" 2>"$T/f.err"
eq "$?" "0" "--follow exits 0 when the attempt succeeds"
wait "$rpid"
eq "$?" "0" "the run succeeded"
has "$T/f.out" "slowlog attempt 1 line 6 of 6" "--follow printed the end of the log"
run_ctl 0 "logs after the end" logs slow current extract --no-pager
cmp -s "$T/out" "$T/f.out" && ok "the followed log is the log, byte for byte" || fail "the followed log differs"
has "$T/f.err" "== attempt 1 success ==" "the end is said"
# A log longer than one question holds (16 MiB): --all reads it whole,
# with --follow too, in chunks.
awk 'BEGIN { for (i = 0; i < 300000; i++) printf "big line %07d xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", i }' >>"$lp"
size=$(stat -c %s "$lp")
run_ctl 0 "--follow --all of a $size-byte log" logs wide current t1 --follow --all
eq "$(stat -c %s "$T/out")" "$(($(jq -j .text "$T/whole" | wc -c) + size - $(jq -r .size "$T/whole")))" "is the whole log"
tail -n 1 "$T/out" | grep -q "big line 0299999" && ok "to its last line" || fail "--follow --all ends with '$(tail -n 1 "$T/out")'"
run_ctl 0 "--json --all of it" logs wide current t1 --json --all
eq "$(jq -r '"\(.offset) \(.next_offset) \(.eof)"' "$T/out")" "0 16777216 false" "is its first 16 MiB, and says where the rest starts"

# --- run and test no longer speak SQL (the sources say so)
for f in cmd-tasks.c cmd-logs.c cmd-run.c cmd-test.c; do
	if grep -q sqlite3 "$top_srcdir/core/$f"; then fail "core/$f speaks SQL"; else ok "core/$f has no sqlite3"; fi
done

finish
