#!/bin/sh
# e2e-worker.sh -- meshd-worker, the remote side of the Slurm executor
# (issue 13): a request file in, a started marker and a result file out,
# judged by the same worker pool as meshd's own.
#
# Attacks: a crash, exit() and a timeout on the node give the pool's own
# reasons; a plugin the loader refuses stays refused; parameters, checks
# and metrics arrive; the log has the plugin's output and the outcome
# trailer; a cut, altered or missing request is refused with its name and
# no result; an attempt directory where the result cannot go exits 1;
# --array picks its line and refuses a bad index, list or environment;
# SIGTERM (Slurm's scancel and --time) stops the task with the Slurm
# reason and still writes a result, also when the plugin gives up first.
# Then a real single-node Slurm (tests/slurm-local.sh, started and stopped
# here): sbatch --wait of a request, a job array, and a scancel.
. "${top_srcdir:-.}/tests/e2e-lib.sh"

W=${MESHD_WORKER:-$top_builddir/meshd-worker}
SL="$top_srcdir/tests/slurm-local.sh"
SLURM_STATE="$T/slurm"
slurm_started=0
cleanup() {
	if [ "$slurm_started" = 1 ]; then
		bash "$SL" down "$SLURM_STATE" >"$T/slurm-down.log" 2>&1 ||
			cat "$T/slurm-down.log"
	fi
	chmod -R u+w "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

[ -x "$W" ] || { echo "FAIL - $W is not built"; exit 1; }

# req DIR [ARGS...]: a request in DIR for attempt 13 (unless told), its
# log DIR/log.
req() {
	d=$1; shift
	"$W" --write-request "$d/request" --job jw --task tw --attempt-id 13 \
	    --log "$d/log" --staging "$d/staging" --partition 2001-01-02 \
	    --kill-grace 1 "$@" >"$T/out" 2>"$T/err" ||
		{ fail "write-request $*"; cat "$T/err"; }
}
# run DIR WANT_RC DESC: meshd-worker on DIR/request (killed after 30 s:
# a hang is a failure, not a stuck suite).
run() {
	timeout -s KILL 30 "$W" "$1/request" >"$T/out" 2>"$T/err"
	rc=$?
	eq "$rc" "$2" "$3 (exit $rc)"
	[ "$rc" = "$2" ] || sed 's/^/    err: /' "$T/err"
}
# show DIR [ID]: the result as text into DIR/shown.
show() {
	"$W" --show-result "$1/result" "${2:-13}" >"$1/shown" 2>"$T/err" ||
		{ fail "result of $1 is readable"; sed 's/^/    /' "$T/err"; }
}

# ---------------------------------------------------------------- usage
"$W" --help >"$T/out" 2>&1
eq "$?" 0 "--help exits 0"
has "$T/out" "--array LISTFILE" "--help names --array"
has "$T/out" "SIGTERM" "--help says what SIGTERM does"
"$W" --version >"$T/out" 2>&1
has "$T/out" "meshd-worker " "--version"
"$W" >"$T/out" 2>&1
eq "$?" 2 "no argument is a usage error"
"$W" --bogus >"$T/out" 2>&1
eq "$?" 2 "an unknown option is a usage error"
"$W" a b >"$T/out" 2>&1
eq "$?" 2 "two request files are a usage error"
"$W" --agent extra >"$T/out" 2>&1
eq "$?" 2 "--agent takes no argument"
has "$T/out" "usage: meshd-worker --agent" "--agent says how it is used"
timeout 10 "$W" --agent 3</dev/null >"$T/out" 2>&1
rc=$?
[ "$rc" -ne 124 ] && ok "--agent whose meshd is gone (end of file on fd 3) exits (exit $rc)" ||
    fail "--agent with nothing on fd 3 hung"
"$W" --pilot --connect 127.0.0.1:1 >"$T/out" 2>&1
eq "$?" 2 "--pilot without --secret-file is a usage error"
"$W" --write-request "$T/x/request" >"$T/out" 2>&1
eq "$?" 2 "--write-request needs --plugin"
"$W" --write-request "$T/x/request" --plugin p.so --param ':int=1' \
    >"$T/out" 2>&1
eq "$?" 2 "--param without a key is refused"
"$W" --write-request "$T/x/request" --plugin p.so --param 'n:int=x' \
    >"$T/out" 2>&1
eq "$?" 2 "--param n:int=x is refused"
has "$T/out" "is not an int" "--param says what it wanted"

# ---------------------------------------------------------------- success
A="$T/a-ok"
req "$A" --plugin "$TP/ok.so" --param sleep_ms:int=50
run "$A" 0 "ok: a result was written"
has "$T/out" "attempt 13 succeeded" "ok: one line on stdout for Slurm's output file"
has "$A/started" "attempt_id 13" "started marker names the attempt"
has "$A/started" "pid " "started marker has the pid"
has "$A/started" "host $(hostname)" "started marker has the host"
show "$A"
has "$A/shown" "status ok" "ok: status ok"
has "$A/shown" "metric rows 1" "ok: the plugin's metric is in the result"
has "$A/shown" "reason (null)" "ok: no reason"
has "$A/log" "hello from ok plugin stdout" "ok: the plugin's stdout is in the log"
has "$A/log" "extracted 2001-01-02" "ok: the plugin's log line and partition"
has "$A/log" "---- meshd: outcome ----" "ok: the log has the outcome trailer"
has "$A/log" "meshd: attempt 1 succeeded" "ok: the trailer says so"
eq "$(cat "$A/staging/ok.txt" 2>/dev/null)" "2001-01-02" "ok: the stage wrote into its staging directory"
ls "$A" | grep -q '\.tmp\.' && fail "ok: a temporary file was left" ||
	ok "ok: no temporary file is left"
# The bytes themselves: magic, version, the attempt id first in the body.
/usr/bin/python3 - "$A/result" <<'EOF' >"$T/out" 2>&1
import struct, sys
b = open(sys.argv[1], 'rb').read()
m, v, n = struct.unpack('<4sIQ', b[:16])
assert m == b'MSRS' and v == 1 and len(b) == 16 + n + 4, (m, v, n, len(b))
assert b[-4:] == b'MSRS'
assert struct.unpack('<q', b[16:24])[0] == 13
print('format ok')
EOF
has "$T/out" "format ok" "ok: the result file's framing is as taskfile.h says"

# A result is believed only for its own attempt, and only whole.
"$W" --show-result "$A/result" 14 >"$T/out" 2>&1
eq "$?" 1 "a result shown for another attempt is refused"
has "$T/out" "written for attempt 13, not 14" "another attempt's result: says whose it is"
head -c 60 "$A/result" >"$T/cut-result"
"$W" --show-result "$T/cut-result" 13 >"$T/out" 2>&1
eq "$?" 1 "a cut result is refused"
has "$T/out" "truncated (60 of" "a cut result: says so"

A="$T/a-check"
req "$A" --plugin "$TP/ok.so" --stage check --attempt 2
run "$A" 0 "check stage: a result was written"
show "$A"
has "$A/shown" "check rows_min error passed 1 expectation >= 1" "check stage: the check is in the result"
has "$A/log" "meshd: attempt 2 succeeded" "check stage: the trailer has the try number"
has "$A/log" "rows_min" "check stage: the trailer lists the check"

A="$T/a-params"
req "$A" --plugin "$TP/paramecho.so" --param n:int=42 --param ratio:double=0.5 \
    --param flag:bool=true --param 'label=two words'
run "$A" 0 "params: a result was written"
show "$A"
has "$A/shown" "metric n 42" "params: an int parameter reaches the plugin"
has "$A/shown" "metric ratio 0.5" "params: a double parameter reaches the plugin"
has "$A/shown" "metric flag 1" "params: a bool parameter reaches the plugin"
has "$A/log" "label=two words" "params: a string parameter reaches the plugin"

# ---------------------------------------------------------------- faults
A="$T/a-fails"
req "$A" --plugin "$TP/fails.so"
run "$A" 0 "fails: a result was written (the task's outcome is not the exit status)"
show "$A"
has "$A/shown" "status failed" "fails: status failed"
has "$A/shown" "message deliberate failure: fails plugin" "fails: the plugin's message"
has "$A/shown" "retryable 0" "fails: MESHD_FAILED is not retryable"

A="$T/a-segv"
req "$A" --plugin "$TP/segv.so"
run "$A" 0 "segv: a result was written"
show "$A"
has "$A/shown" "reason killed by signal 11 (SIGSEGV)" "segv: the reason is the signal"
has "$A/shown" "retryable 1" "segv: a crash is retryable"
has "$A/log" "meshd: attempt 1 failed: killed by signal 11 (SIGSEGV)" "segv: the log's trailer says so"

A="$T/a-exit"
req "$A" --plugin "$TP/exit3.so"
run "$A" 0 "exit3: a result was written"
show "$A"
has "$A/shown" "reason plugin called exit(3)" "exit3: the reason is the exit"

A="$T/a-timeout"
req "$A" --plugin "$TP/hang.so" --timeout-ms 1500
t0=$(date +%s)
run "$A" 0 "timeout: a result was written"
t1=$(date +%s)
show "$A"
has "$A/shown" "reason timed out after 1.5s" "timeout: the reason is the timeout"
[ $((t1 - t0)) -le 8 ] && ok "timeout: ended within timeout + grace" ||
	fail "timeout: took $((t1 - t0)) s"

A="$T/a-flood"
req "$A" --plugin "$TP/hostile_flood.so" --param mib:int=4 \
    --log-max-bytes 65536 --log-overflow-fails
run "$A" 0 "log cap: a result was written"
show "$A"
has "$A/shown" "status failed" "log cap: log_overflow_fails fails the attempt"
sz=$(stat -c %s "$A/log")
[ "$sz" -lt $((65536 + 16384)) ] && ok "log cap: the log stops at log_max_bytes ($sz bytes)" ||
	fail "log cap: the log is $sz bytes"

# The loader's checks apply in meshd-worker's worker: a plugin in a
# group-writable directory is refused, and the refusal is the result.
mkdir -p "$T/gw" && cp "$TP/ok.so" "$T/gw/ok.so" && chmod 775 "$T/gw"
A="$T/a-unsafe"
req "$A" --plugin "$T/gw/ok.so"
run "$A" 0 "unsafe plugin: a result was written"
show "$A"
has "$A/shown" "status failed" "unsafe plugin: refused"
has "$A/shown" "refusing plugin: directory" "unsafe plugin: the loader's reason"
has "$A/shown" "group-writable" "unsafe plugin: says what is wrong"

# ---------------------------------------------------------------- bad requests
A="$T/a-cut"
req "$A" --plugin "$TP/ok.so"
full=$(stat -c %s "$A/request")
head -c 50 "$A/request" >"$A/r" && mv "$A/r" "$A/request"
run "$A" 1 "truncated request: no result (exit 1)"
has "$T/err" "request file $A/request: truncated (50 of $full bytes)" "truncated request: names the file and the cut"
[ ! -e "$A/result" ] && [ ! -e "$A/started" ] && ok "truncated request: neither started nor result" ||
	fail "truncated request: a file was written"

A="$T/a-flip"
req "$A" --plugin "$TP/ok.so"
printf 'X' | dd of="$A/request" bs=1 seek=0 conv=notrunc 2>/dev/null
run "$A" 1 "altered magic: no result (exit 1)"
has "$T/err" "bad magic" "altered magic: says so"
req "$A" --plugin "$TP/ok.so"
printf '\007' | dd of="$A/request" bs=1 seek=4 conv=notrunc 2>/dev/null
run "$A" 1 "altered version: no result (exit 1)"
has "$T/err" "version 7" "altered version: says which"
req "$A" --plugin "$TP/ok.so"
printf 'x' >>"$A/request"
run "$A" 1 "padded request: no result (exit 1)"
has "$T/err" "trailing bytes" "padded request: says so"

"$W" "$T/nowhere/request" >"$T/out" 2>"$T/err"
eq "$?" 1 "missing request: exit 1"
has "$T/err" "$T/nowhere/request" "missing request: names the file"

# A result file as a request: the magic tells them apart.
cp "$T/a-ok/result" "$T/a-flip/request"
run "$T/a-flip" 1 "a result given as a request: exit 1"
has "$T/err" "a result file, not a request file" "a result given as a request: says so"

# Where the marker or the result cannot be written (a directory in the
# way): exit 1 naming it; for the marker, before the plugin runs.
A="$T/a-nostart"
req "$A" --plugin "$TP/ok.so"
mkdir -p "$A/started"
run "$A" 1 "started marker unwritable: exit 1"
has "$T/err" "started marker $A/started" "started marker unwritable: names it"
[ ! -e "$A/staging/ok.txt" ] && ok "started marker unwritable: the plugin did not run" ||
	fail "started marker unwritable: the plugin ran"
A="$T/a-nores"
req "$A" --plugin "$TP/ok.so"
mkdir -p "$A/result"
run "$A" 1 "result unwritable: exit 1"
has "$T/err" "result file $A/result" "result unwritable: names it"

# ---------------------------------------------------------------- --array
for i in 0 1 2; do
	req "$T/arr/a$i" --plugin "$TP/ok.so" --attempt-id $((100 + i))
done
printf '%s\n' "$T/arr/a0/request" "a1/request" "$T/arr/a2/request" >"$T/arr/list"
SLURM_ARRAY_TASK_ID=1 "$W" --array "$T/arr/list" >"$T/out" 2>"$T/err"
eq "$?" 0 "--array: index 1 ran"
"$W" --show-result "$T/arr/a1/result" 101 >"$T/out" 2>&1
has "$T/out" "status ok" "--array: line 1 (a relative path, from the list's directory) has its result"
[ ! -e "$T/arr/a0/result" ] && [ ! -e "$T/arr/a2/result" ] &&
	ok "--array: the other lines did not run" || fail "--array: another line ran"
SLURM_ARRAY_TASK_ID=3 "$W" --array "$T/arr/list" >"$T/out" 2>"$T/err"
eq "$?" 2 "--array: index 3 of 3 lines is refused"
has "$T/err" "out of range: the list has 3 lines (indices 0 to 2)" "--array: says the range"
(unset SLURM_ARRAY_TASK_ID; "$W" --array "$T/arr/list") >"$T/out" 2>"$T/err"
eq "$?" 2 "--array: without SLURM_ARRAY_TASK_ID refused"
has "$T/err" "SLURM_ARRAY_TASK_ID is not set" "--array: says which variable"
for bad in -1 x 1x '' 99999999999999999999; do
	SLURM_ARRAY_TASK_ID=$bad "$W" --array "$T/arr/list" >"$T/out" 2>"$T/err"
	eq "$?" 2 "--array: SLURM_ARRAY_TASK_ID='$bad' refused"
done
SLURM_ARRAY_TASK_ID=0 "$W" --array "$T/arr/nolist" >"$T/out" 2>"$T/err"
eq "$?" 2 "--array: a missing list is refused"
has "$T/err" "$T/arr/nolist" "--array: names the list"
printf '%s\n\n' "$T/arr/a0/request" >"$T/arr/list2"
SLURM_ARRAY_TASK_ID=1 "$W" --array "$T/arr/list2" >"$T/out" 2>"$T/err"
eq "$?" 2 "--array: an empty line is refused"
has "$T/err" "is empty" "--array: says the line is empty"

# ---------------------------------------------------------------- SIGTERM
# wait_started DIR: until the marker is there and the plugin has had a
# moment to start.
wait_started() {
	i=0
	while [ ! -e "$1/started" ] && [ "$i" -lt 100 ]; do
		sleep 0.05; i=$((i + 1))
	done
	sleep 0.5
}
# reap PID: wait for it, SIGKILL after 20 s (a hang fails, not sticks);
# its exit status in $rc.
reap() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ "$i" -lt 200 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null && fail "pid $1 did not end within 20 s"
	wait "$1"
	rc=$?
}
# A plugin that ignores SIGTERM: the pool kills it after the grace.
A="$T/a-term"
req "$A" --plugin "$TP/hang.so"
"$W" "$A/request" >"$T/out" 2>"$T/err" &
wp=$!
wait_started "$A"
t0=$(date +%s)
kill -TERM "$wp"
reap "$wp"
eq "$rc" 0 "SIGTERM: a result was written (exit 0)"
t1=$(date +%s)
show "$A"
has "$A/shown" "reason stopped by Slurm (SIGTERM)" "SIGTERM: the Slurm reason"
has "$A/shown" "retryable 1" "SIGTERM: retryable"
has "$A/log" "meshd: attempt 1 failed: stopped by Slurm (SIGTERM)" "SIGTERM: the log's trailer says so"
[ $((t1 - t0)) -le 5 ] && ok "SIGTERM: ended within the kill grace" ||
	fail "SIGTERM: took $((t1 - t0)) s"
# Slurm signals every process of the job: a plugin that honours the
# cancel gives up at once, maybe before meshd-worker has stopped it.
A="$T/a-termall"
req "$A" --plugin "$TP/hang.so" --param honour_cancel:bool=true
"$W" "$A/request" >"$T/out" 2>"$T/err" &
wp=$!
wait_started "$A"
kids=$(pgrep -P "$wp")
kill -TERM "$wp" $kids 2>/dev/null
reap "$wp"
eq "$rc" 0 "SIGTERM to every process: a result was written"
show "$A"
has "$A/shown" "reason stopped by Slurm (SIGTERM)" "SIGTERM to every process: still the Slurm reason"
alive=""
for k in $kids; do kill -0 "$k" 2>/dev/null && alive="$alive $k"; done
[ -z "$alive" ] && [ -n "$kids" ] && ok "SIGTERM: no worker outlives meshd-worker" ||
	fail "SIGTERM: workers '$kids', alive after: '$alive'"

# ---------------------------------------------------------------- real Slurm
# A free pair of ports from 17817 (COMMON.md), and a state dir of our own.
port=17817
while [ "$port" -lt 17917 ]; do
	if ! bash -c "echo >/dev/tcp/127.0.0.1/$port" 2>/dev/null &&
	    ! bash -c "echo >/dev/tcp/127.0.0.1/$((port + 1))" 2>/dev/null; then
		break
	fi
	port=$((port + 4))
done
# munged wants every directory above its socket searchable by all.
chmod 711 "$T"
slurm_started=1
if ! SLURM_LOCAL_PORT=$port SLURM_LOCAL_MIN_JOB_AGE=60 \
    bash "$SL" up "$SLURM_STATE" >"$T/slurm.env" 2>"$T/slurm-up.log"; then
	fail "slurm-local.sh up (port $port) failed: a real Slurm is required"
	tail -n 20 "$T/slurm-up.log" | sed 's/^/    /'
	finish
	exit 1
fi
eval "$(cat "$T/slurm.env")"
ok "slurm: a single-node cluster is up on port $port"

A="$T/s-ok"
req "$A" --plugin "$TP/ok.so" --attempt-id 501
timeout 60 sbatch --parsable --wait --time=1 -J meshd-501 -o "$T/s-ok.out" \
    --wrap "exec '$W' '$A/request'" >"$T/out" 2>"$T/err"
eq "$?" 0 "slurm: sbatch --wait of meshd-worker succeeded"
sed 's/^/    sbatch: /' "$T/err"
"$W" --show-result "$A/result" 501 >"$T/shown" 2>&1
has "$T/shown" "status ok" "slurm: the result says ok"
has "$T/shown" "metric rows 1" "slurm: with the plugin's metric"
has "$A/started" "slurm_job_id $(head -n1 "$T/out")" "slurm: the marker has the Slurm job id"
has "$T/s-ok.out" "attempt 501 succeeded" "slurm: meshd-worker's line is in the job's output"

A="$T/s-segv"
req "$A" --plugin "$TP/segv.so" --attempt-id 502
timeout 60 sbatch --parsable --wait --time=1 -J meshd-502 -o /dev/null \
    --wrap "exec '$W' '$A/request'" >"$T/out" 2>"$T/err"
eq "$?" 0 "slurm: a crashing plugin is still a job that wrote its result"
"$W" --show-result "$A/result" 502 >"$T/shown" 2>&1
has "$T/shown" "reason killed by signal 11 (SIGSEGV)" "slurm: the crash's signal is the reason"

for i in 0 1; do
	req "$T/s-arr/a$i" --plugin "$TP/paramecho.so" --attempt-id $((510 + i)) \
	    --param n:int=$((70 + i))
done
printf '%s\n' "a0/request" "a1/request" >"$T/s-arr/list"
timeout 60 sbatch --parsable --wait --array=0-1 --time=1 -J meshd-arr \
    -o /dev/null --wrap "exec '$W' --array '$T/s-arr/list'" >"$T/out" 2>"$T/err"
eq "$?" 0 "slurm: a job array of two ran"
"$W" --show-result "$T/s-arr/a0/result" 510 >"$T/shown" 2>&1
has "$T/shown" "metric n 70" "slurm: array element 0 ran line 0"
"$W" --show-result "$T/s-arr/a1/result" 511 >"$T/shown" 2>&1
has "$T/shown" "metric n 71" "slurm: array element 1 ran line 1"
has "$T/s-arr/a1/started" "slurm_array_task_id 1" "slurm: the marker has the array index"

# scancel: Slurm's SIGTERM to the job, the result still written.
A="$T/s-cancel"
req "$A" --plugin "$TP/hang.so" --attempt-id 520 --param honour_cancel:bool=true
j=$(sbatch --parsable --time=2 -J meshd-520 -o /dev/null \
    --wrap "exec '$W' '$A/request'")
i=0
while [ ! -e "$A/started" ] && [ "$i" -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -e "$A/started" ] && ok "slurm: the hanging task started" ||
	fail "slurm: the hanging task never started"
sleep 0.5
scancel "$j"
i=0
while [ ! -e "$A/result" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
"$W" --show-result "$A/result" 520 >"$T/shown" 2>&1
has "$T/shown" "reason stopped by Slurm (SIGTERM)" "slurm: scancel gives the Slurm reason"

finish
