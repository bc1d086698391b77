#!/bin/sh
# End-to-end: concurrency limits (pools, max_active_tasks), retry backoff,
# run timeouts, and the bad input the daemon's settings must refuse.
. "$(dirname "$0")/e2e-lib.sh"
conf "workers = 3;" "pools = { warehouse = 1; };" "kill_grace = 1;"
sed -i '/^workers = 2;$/d' "$T/meshd.conf"

# par NAME EXTRA-JOB-KEYS TASK-EXTRA: three independent 300 ms tasks.
par() {
	cat >"$T/jobs/$1.conf" <<JOB
name = "$1";
domain = "test";
owner = "tests@example.org";
$2
params = { sleep_ms = 300; };
tasks = (
  { id = "a"; plugin = "ok"; stage = "check"; $3 },
  { id = "b"; plugin = "ok"; stage = "check"; $3 },
  { id = "c"; plugin = "ok"; stage = "check"; $3 }
);
JOB
}
# overlaps JOB: how many pairs of its attempts ran at the same time.
overlaps() {
	sql "SELECT count(*) FROM attempts x JOIN attempts y ON x.id < y.id
	    JOIN task_instances tx ON tx.id = x.task_instance_id
	    JOIN task_instances ty ON ty.id = y.task_instance_id
	    JOIN runs r ON r.id = tx.run_id AND r.id = ty.run_id
	    JOIN jobs j ON j.id = r.job_id
	    WHERE j.name = '$1' AND x.started_us < y.ended_us AND y.started_us < x.ended_us"
}

par free "" ""
par pooled "" 'pool = "warehouse";'
par capped "max_active_tasks = 1;" ""
run_ctl 0 "three free tasks" run free
[ "$(overlaps free)" -gt 0 ] && ok "free tasks run at the same time" || fail "free tasks never overlapped"
run_ctl 0 "three tasks in a 1-slot pool" run pooled
eq "$(overlaps pooled)" "0" "a 1-slot pool runs its tasks one at a time"
run_ctl 0 "three tasks with max_active_tasks = 1" run capped
eq "$(overlaps capped)" "0" "max_active_tasks = 1 runs them one at a time"

# --- retries with exponential backoff: delays 0.3 s, 0.6 s, 1.2 s
cat >"$T/jobs/backoff.conf" <<'JOB'
name = "backoff";
domain = "test";
owner = "tests@example.org";
tasks = ( { id = "a"; plugin = "retry"; stage = "extract"; retries = 3;
  retry_delay = 0.3; retry_backoff = 2.0; retry_delay_max = 10;
  params = { fail_times = 3; }; } );
JOB
run_ctl 0 "retry with backoff succeeds on attempt 4" run backoff
gaps=$(sql "SELECT group_concat((b.started_us - a.ended_us) / 100000, ',') FROM attempts a JOIN attempts b ON b.task_instance_id = a.task_instance_id AND b.try_number = a.try_number + 1 ORDER BY a.try_number")
case "$gaps" in
3,6,12|3,6,13|3,7,12|3,7,13|4,6,12|4,7,12|4,7,13|3,6,14|4,6,13) ok "backoff gaps double (tenths of s: $gaps)" ;;
*) fail "backoff gaps are $gaps tenths of a second, wanted about 3,6,12" ;;
esac
eq "$(sql "SELECT group_concat(state, ',') FROM (SELECT state FROM attempts ORDER BY id DESC LIMIT 4)")" "success,retry,retry,retry" "each retry is its own attempt"

# --- a run timeout stops the run
cat >"$T/jobs/slowrun.conf" <<'JOB'
name = "slowrun";
domain = "test";
owner = "tests@example.org";
run_timeout = 1;
tasks = (
  { id = "a"; plugin = "hang"; stage = "extract"; params = { honour_cancel = true; }; },
  { id = "b"; plugin = "ok"; stage = "check"; after = [ "a" ]; }
);
JOB
run_ctl 1 "run_timeout fails the run" run slowrun
has "$T/out" "run timed out after" "the reason says the run timed out"
eq "$(sql "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slowrun'")" "failed" "the run is failed"
eq "$(sql "SELECT ti.state FROM task_instances ti JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slowrun' AND ti.task_id = 'b'")" "upstream_failed" "its successor never ran"

# --- bad settings are refused with file:line
mkdir "$T/bad"
sed -i "s|jobs_dir = \"jobs\";|jobs_dir = \"bad\";|" "$T/meshd.conf"
cat >"$T/bad/b.conf" <<'JOB'
name = "b";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "2001-02-01";
end = "2001-01-01";
catchup = "sometimes";
tasks = (
  { id = "a"; plugin = "ok"; stage = "check"; pool = "nosuch"; },
  { id = "c"; plugin = "ok"; stage = "check"; retries = 5000; },
  { id = "d"; plugin = "ok"; stage = "check"; timeout = -3; },
  { id = "e"; plugin = "ok"; stage = "check"; retry_backoff = 0.5; }
);
JOB
run_ctl 1 "bad settings are refused" validate
has "$T/err" "b.conf:6: error: end 2001-01-01 is not after start 2001-02-01" "end before start"
has "$T/err" "b.conf:7: error: catchup 'sometimes' is not valid" "bad catchup"
has "$T/err" "b.conf:9: error: task 'a': pool 'nosuch' does not exist" "unknown pool"
has "$T/err" "b.conf:10: error: 'retries' must be at most 1000, not 5000" "absurd retries"
has "$T/err" "b.conf:11: error: 'timeout' must be at least 0 seconds" "negative timeout"
has "$T/err" "b.conf:12: error: 'retry_backoff' must be between 1 and 100" "bad backoff"

# --- limits on input: every numeric key has a range; a value out of it,
# or one that libconfig 1.5 would wrap to 32 bits, is refused at its line,
# quoting the value as written (not what it wrapped to)
rm -f "$T/bad/b.conf"
# cfgval KEY VALUE WANT-IN-MESSAGE: meshd.conf with KEY = VALUE on line 7
cfgval() {
	conf "$1 = $2;"
	# conf's own line for the key (workers) becomes a comment: same lines
	sed -i "1,6s/^$1 = /# $1 = /" "$T/meshd.conf"
	sed -i "s|jobs_dir = \"jobs\";|jobs_dir = \"bad\";|" "$T/meshd.conf"
	run_ctl 1 "meshd.conf $1 = $2 is refused" validate
	has "$T/err" "meshd.conf:7: error: '$1' $3, not $2" "$1 = $2: at its line, quoting it as written"
}
cfgval workers 99999999999 "must be at most 1024"
cfgval workers 100000 "must be at most 1024"
cfgval workers 4294967298 "must be at most 1024"
cfgval workers -1 "must be at least 0"
cfgval workers 99999999999999999999999 "must be at most 1024"
cfgval worker_max_tasks 0 "must be at least 1"
cfgval worker_max_tasks 4294968296 "must be at most 1000000"
cfgval worker_memory_mb 99999999999 "must be at most 16777216"
cfgval kill_grace 4294967301 "must be at most 3600"
cfgval shutdown_grace 86401 "must be at most 86400"
cfgval heartbeat_timeout 0 "must be at least 1"
cfgval heartbeat_timeout 4294967306 "must be at most 3600"
cfgval quarantine_retention 99999999999 "must be at most 316224000"
cfgval staging_retention -1 "must be at least 0"
cfgval log_max_bytes 99999999999999 "must be at most 1099511627776"
conf 'pools = { warehouse = 4294967297; };'
run_ctl 1 "a pool of 4294967297 slots (1 when wrapped) is refused" validate
has "$T/err" "meshd.conf:7: error: 'warehouse' must be at most 1024, not 4294967297" "pool slots quoted as written"
conf 'lineage = { timeout = 4294967297; keep = -5; };'
run_ctl 1 "lineage timeout and keep out of range" validate
has "$T/err" "meshd.conf:7: error: 'timeout' must be at most 300, not 4294967297" "lineage.timeout"
has "$T/err" "meshd.conf:7: error: 'keep' must be at least 0, not -5" "lineage.keep"
conf "pools = { $(head -c 200 /dev/zero | tr '\0' p) = 1; };"
run_ctl 1 "a 200-byte pool name is refused" validate
has "$T/err" "meshd.conf:7: error: pool name 'pppppppppppppppppppppppppppppppppppppppp...' is 200 bytes long, at most 128" "pool name length, quoted short"
conf "workers = 2;"
conf 'plugin_path = 5;'
sed -i "1,6s/^plugin_path = /# plugin_path = /" "$T/meshd.conf"
run_ctl 1 "plugin_path of the wrong type" validate
has "$T/err" "meshd.conf:7: error: 'plugin_path' must be an array of strings, not an integer" "an int, located"
conf 'plugin_path = ( 1, 2 );'
sed -i "1,6s/^plugin_path = /# plugin_path = /" "$T/meshd.conf"
run_ctl 1 "plugin_path a list of ints" validate
has "$T/err" "meshd.conf:7: error: 'plugin_path' element 1 must be a non-empty string" "a list of ints, located"

# meshd itself: workers = 100000 must not start a fork bomb
conf "workers = 100000;"
sed -i -e "1,6s/^workers = /# workers = /" \
    -e "s|state/state.db|fresh/state.db|" "$T/meshd.conf"
MESHD=${MESHD:-$top_builddir/meshd}
timeout 20 "$MESHD" -c "$T/meshd.conf" >"$T/meshd.out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && ok "meshd refuses workers = 100000 (exit $rc)" || fail "meshd with workers = 100000 exited $rc"
has "$T/meshd.out" "meshd.conf:7: error: 'workers' must be at most 1024, not 100000" "and says why"
test -e "$T/fresh" && fail "meshd made state before refusing" || ok "meshd made no state"

# job files: each numeric key, quoted as written.  timeout = 4294967396
# wrapped to 100 seconds and was silently accepted.
conf
sed -i "s|jobs_dir = \"jobs\";|jobs_dir = \"bad\";|" "$T/meshd.conf"
jobval() {
	cat >"$T/bad/v.conf" <<JOB
name = "v";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
$1
tasks = ( { id = "a"; plugin = "ok"; stage = "check";
  $2 } );
JOB
}
jobval "" "timeout = 4294967396;"
run_ctl 1 "timeout = 4294967396 (100 when wrapped) is refused" validate
has "$T/err" "v.conf:7: error: 'timeout' must be between 0 and 1000000000 seconds, not 4294967396" "timeout quoted as written"
jobval "" "retries = 4294967297; retry_delay = 99999999999; retry_delay_max = 4294967396;"
run_ctl 1 "retries and delays that wrap are refused" validate
has "$T/err" "v.conf:7: error: 'retries' must be at most 1000, not 4294967297" "retries"
has "$T/err" "v.conf:7: error: 'retry_delay' must be between 0 and 1000000000 seconds, not 99999999999" "retry_delay"
has "$T/err" "v.conf:7: error: 'retry_delay_max' must be between 0 and 1000000000 seconds, not 4294967396" "retry_delay_max"
jobval "max_active_runs = 4294967297; max_active_tasks = 100001;" ""
run_ctl 1 "max_active_runs and max_active_tasks out of range" validate
has "$T/err" "v.conf:5: error: 'max_active_runs' must be at most 10000, not 4294967297" "max_active_runs"
has "$T/err" "v.conf:5: error: 'max_active_tasks' must be at most 100000, not 100001" "max_active_tasks"
jobval "run_timeout = 4294967396; jitter = 1e400;" ""
run_ctl 1 "run_timeout and jitter out of range" validate
has "$T/err" "v.conf:5: error: 'run_timeout' must be between 0 and 1000000000 seconds, not 4294967396" "run_timeout"
has "$T/err" "'jitter' must be between 0 and 1000000000 seconds" "jitter = 1e400 (inf)"
jobval "params = { n = 99999999999999999999999; };" ""
run_ctl 1 "an int param that does not fit in 64 bits" validate
has "$T/err" "v.conf:5: error: param 'n' must be at most 9223372036854775807, not 99999999999999999999999 (which does not even fit in 64 bits)" "param int quoted as written"
jobval "params = { n = 99999999999; };" ""
run_ctl 0 "a 64-bit int param is fine" validate

# names: length, bytes, escapes, and the job file's own name
big=$(head -c 1048576 /dev/zero | tr '\0' a)
printf 'name = "%s";\ndomain = "test";\nowner = "o";\ntasks = ( { id = "a"; plugin = "ok"; stage = "check"; } );\n' "$big" >"$T/bad/v.conf"
run_ctl 1 "a 1 MiB job name is refused" validate
has "$T/err" "v.conf:1: error: job name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not valid: it is 1048576 bytes long, at most 128" "at its line, quoted short"
[ "$(wc -c <"$T/err")" -lt 4096 ] && ok "the message does not repeat the 1 MiB" || fail "the error output is $(wc -c <"$T/err") bytes"
printf 'name = "v\0evil";\ndomain = "test";\nowner = "o";\ntasks = ( { id = "a"; plugin = "ok"; stage = "check"; } );\n' >"$T/bad/v.conf"
run_ctl 1 "a NUL byte in a job file is refused" validate
has "$T/err" "v.conf:1: error: NUL byte at column 10" "at its line and column"
printf 'name = "v\\x00";\ndomain = "test";\nowner = "o";\ntasks = ( { id = "a"; plugin = "ok"; stage = "check"; } );\n' >"$T/bad/v.conf"
run_ctl 1 "a name with an escaped NUL (which libconfig drops) is refused" validate
has "$T/err" "v.conf:1: error: job name 'v' is not valid: it is written with an escape sequence" "the escape is named"
printf 'name = "v";\ndomain = "test";\nowner = "o";\ntasks = ( { id = "a"; plugin = "ok"; stage = "check"; } );\n' >"$T/bad/v.conf"
run_ctl 0 "the same job with a plain name is fine" validate
printf 'name = "w";\ndomain = "test";\nowner = "o";\ntasks = ( { id = "a"; plugin = "ok"; stage = "check"; } );\n' >"$T/bad/v.conf"
run_ctl 1 "a job whose name is not its file's" validate
has "$T/err" "v.conf:1: error: job name 'w' does not match the file's name v.conf" "at the name's line"
tid=$(head -c 129 /dev/zero | tr '\0' t)
printf 'name = "v";\ndomain = "test";\nowner = "o";\ntasks = ( { id = "%s"; plugin = "ok"; stage = "check"; product = "test.o k"; params = { %s = 1; }; } );\n' "$tid" "$tid" >"$T/bad/v.conf"
run_ctl 1 "a long task id, a bad product name and a long param key" validate
has "$T/err" "v.conf:4: error: task id 'tttttttttttttttttttttttttttttttttttttttt...' is not valid: it is 129 bytes long, at most 128" "task id length"
has "$T/err" "v.conf:4: error: product 'test.o k' is not valid: it has ' ' at byte 7" "product name bytes"
has "$T/err" "v.conf:4: error: param name 'tttttttttttttttttttttttttttttttttttttttt...' is 129 bytes long, at most 128" "param key length"
printf 'name = "v";\ndomain = "test";\nowner = "o";\nparams = { s = "%s%s"; };\ntasks = ( { id = "a"; plugin = "ok"; stage = "check"; } );\n' "$big" "$big" >"$T/bad/v.conf"
run_ctl 1 "a 2 MiB string param is refused" validate
has "$T/err" "v.conf:4: error: param 's' is 2097152 bytes long, at most 1048576" "param value length"

finish
