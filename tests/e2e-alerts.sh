#!/bin/sh
# End-to-end: alerts to the owning team.  A failed run, a quarantined
# partition, a retry, a recovery and a late partition each reach their
# hook (an argv hook with the JSON document on stdin, or a webhook with a
# bearer token) through alert_outbox: once per event_id, across a kill -9
# of meshd before delivery and a restart after it; a webhook that is down
# and a hook that hangs are retried, the hung one killed after
# alert_timeout while other jobs run; an oversized document is cut and
# says so; `meshctl alerts` filters by job and state.
. "$(dirname "$0")/e2e-lib.sh"
CLOCK="$T/clock"
echo "2001-01-12T00:00:30Z" >"$CLOCK"
start_meshd() {
	"$MESHD" -c "$T/meshd.conf" --clock "$CLOCK" >>"$T/meshd.log" 2>&1 &
	MPID=$!
	pids="$pids $MPID"
}
stop_meshd() { kill -TERM "$MPID" 2>/dev/null; wait "$MPID" 2>/dev/null; MPID=; }
MPID=
spid=
trap 'test -n "$MPID" && kill -9 $MPID 2>/dev/null; test -n "$spid" && kill $spid 2>/dev/null; test -s "$T/hang.pid" && kill -9 $(cat "$T/hang.pid") 2>/dev/null; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TOKEN="tok-$$-secret"
echo "$TOKEN" >"$T/jobs/webhook.token"
mkdir -p "$T/hooks"
# hook.sh LABEL: its stdin into hooks/LABEL.PID.json.
cat >"$T/hook.sh" <<HOOK
#!/bin/sh
cat >"$T/hooks/\$1.\$\$.tmp" && mv "$T/hooks/\$1.\$\$.tmp" "$T/hooks/\$1.\$\$.json"
HOOK
# hang.sh: the first call hangs (its pid in hang.pid), later ones deliver.
cat >"$T/hang.sh" <<HOOK
#!/bin/sh
if [ ! -e "$T/hang.pid" ]; then echo \$\$ >"$T/hang.pid"; exec sleep 600; fi
cat >"$T/hooks/hang.\$\$.json"
HOOK
chmod +x "$T/hook.sh" "$T/hang.sh"

# --- bad settings are located errors
conf "on_failure = \"$T/hook.sh failure\";"
run_ctl 1 "a hook given as a shell string is refused" validate
has "$T/err" "meshd.conf:7: error: on_failure must be an array of strings (a command and its arguments, not run through a shell), not a string" "it says why, and where"
conf 'on_quarantine = { url = "ftp://example.org/x"; };'
run_ctl 1 "a webhook that is not http(s) is refused" validate
has "$T/err" "meshd.conf:7: error: on_quarantine.url 'ftp://example.org/x' must start with http:// or https://" "it names the url"
conf 'on_retry = { url = "http://127.0.0.1:1/"; token = "x"; };'
run_ctl 1 "an unknown key in a webhook group is refused" validate
has "$T/err" "unknown key 'token' in on_retry (known: url, bearer_token_file)" "it lists the known keys"
conf 'alert_timeout = 0;'
run_ctl 1 "alert_timeout = 0 is refused" validate
conf
cat >"$T/jobs/x.conf" <<'JOB'
name = "x"; domain = "test"; owner = "tests@example.org";
on_failure = [ "hooks/nope.sh" ];
tasks = ( { id = "e"; plugin = "ok"; stage = "extract"; } );
JOB
run_ctl 1 "a job's hook that is not there is refused" validate
has "$T/err" "jobs/x.conf:2: error: on_failure: $T/jobs/hooks/nope.sh: No such file or directory" "it names the job file, the line and the path"
rm "$T/jobs/x.conf"

conf "kill_grace = 1;" "shutdown_grace = 1;" "alert_timeout = 3;" \
    "on_failure = [ \"$T/hook.sh\", \"failure\" ];" \
    "freshness_alert = [ \"$T/hook.sh\", \"late\" ];"
cat >"$T/jobs/bad.conf" <<'JOB'
name = "bad"; domain = "test"; owner = "tests@example.org";
tasks = ( { id = "boom"; plugin = "fails"; stage = "extract"; } );
JOB
cat >"$T/jobs/quar.conf" <<JOB
name = "quar"; domain = "test"; owner = "dq@example.org";
on_failure = [];
on_quarantine = [ "$T/hook.sh", "quarantine" ];
on_recovery = [ "$T/hook.sh", "recovery" ];
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ];
    params = { fail_if = "$T/fail-quar"; }; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ];
    product = "test.a"; }
);
JOB
cat >"$T/jobs/flaky.conf" <<JOB
name = "flaky"; domain = "test"; owner = "tests@example.org";
on_retry = [ "$T/hook.sh", "retry" ];
tasks = ( { id = "x"; plugin = "retry"; stage = "extract"; retries = 1;
            retry_delay = 0; } );
JOB
cat >"$T/jobs/web.conf" <<JOB
name = "web"; domain = "test"; owner = "tests@example.org";
on_failure = { url = "http://127.0.0.1:$port/alerts";
               bearer_token_file = "webhook.token"; };
tasks = ( { id = "boom"; plugin = "fails"; stage = "extract"; } );
JOB
cat >"$T/jobs/fresh.conf" <<JOB
name = "fresh"; domain = "test"; owner = "tests@example.org";
on_failure = [];
schedule = "@daily"; start = "2001-01-10"; end = "2001-01-11";
catchup = "all";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ];
    params = { fail_if = "$T/fail-fresh"; }; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ];
    product = "test.ok"; }
);
JOB
touch "$T/fail-quar" "$T/fail-fresh"
run_ctl 0 "validate accepts argv hooks, [] and a webhook group" validate

doc() { cat "$T"/hooks/"$1".*.json 2>/dev/null | jq -c "select(.job == \"$2\")"; }
waitdoc() {
	i=0; while [ $i -lt 150 ] && [ -z "$(doc "$1" "$2")" ]; do sleep 0.1; i=$((i + 1)); done
	if [ -n "$(doc "$1" "$2")" ]; then ok "$3"; else fail "$3"; tail -n 20 "$T/meshd.log"; fi
}
# reload WHAT: SIGHUP, and wait for the reload to be done.
reload() {
	nr=$(grep -c "reloaded:" "$T/meshd.log")
	kill -HUP "$MPID"
	wait_for "the reload loads $1" 10 reloaded_since
}
reloaded_since() { test "$(grep -c "reloaded:" "$T/meshd.log")" -gt "$nr"; }
ostate() { sql "SELECT group_concat(state, ' ') FROM (SELECT state FROM alert_outbox WHERE job = '$1' ORDER BY seq)"; }

run_ctl 0 "trigger bad" trigger bad
run_ctl 0 "trigger quar" trigger quar
run_ctl 0 "trigger flaky" trigger flaky
run_ctl 0 "trigger web" trigger web
start_meshd

# --- failure, to meshd.conf's default argv hook
waitdoc failure bad "a failed run's alert reaches the argv hook"
d=$(doc failure bad)
eq "$(echo "$d" | jq -r '[.event, .job, .domain, .owner, .task, .stage, .attempt, .max_attempts] | map(tostring) | join(" ")')" \
    "failure bad test tests@example.org boom extract 1 1" "event, job, domain, owner, task, attempt"
eq "$(echo "$d" | jq -r .partition)" "$(sql "SELECT r.partition_key FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'bad'")" "the run's partition"
eq "$(echo "$d" | jq -r .run_id)" "$(sql "SELECT r.id FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'bad'")" "the run id"
case "$(echo "$d" | jq -r .reason)" in
*"deliberate failure: fails plugin"*) ok "the reason is the plugin's error" ;;
*) fail "the reason is the plugin's error: $(echo "$d" | jq -r .reason)" ;;
esac
eq "$(echo "$d" | jq -r .event_id)" "$(sql "SELECT event_id FROM alert_outbox WHERE job = 'bad'")" "the event_id is the outbox's"
eq "$(echo "$d" | jq -r .host)" "$(hostname)" "the host"
test -f "$(echo "$d" | jq -r .log)" && ok "the log path names the attempt's log" || fail "the log path names the attempt's log: $(echo "$d" | jq -r .log)"
eq "$(echo "$d" | jq -r '.truncated')" "false" "not truncated"
waitsql "delivered, and recorded so" "delivered 1" "SELECT state || ' ' || attempts FROM alert_outbox WHERE job = 'bad'"

# --- quarantine, with the failed checks; the job switched failure off
waitdoc quarantine quar "a quarantine alert reaches the job's own hook"
d=$(doc quarantine quar)
eq "$(echo "$d" | jq -c '[.event, .domain, .owner, .task, (.checks | length)]')" '["quarantine","test","dq@example.org","check",1]' "event, the job's domain and owner, the check task"
eq "$(echo "$d" | jq -c '.checks[0] | [.name, .severity, .passed, .observed, .expected]')" '["told_to_fail","error",false,1,"no fail_if file"]' "the failed check with observed and expected values"
waitsql "quar's run fails" "failed" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'quar'"
eq "$(sql "SELECT count(*) FROM alert_outbox WHERE job = 'quar' AND event = 'failure'")" "0" "on_failure = [] in the job turns meshd.conf's default off"

# --- retry (opt-in); flaky then succeeds: no failure
waitdoc retry flaky "a retry alert reaches on_retry"
eq "$(doc retry flaky | jq -r '[.event, .attempt, .reason] | map(tostring) | join(" ")')" "retry 1 transient: attempt 1" "it names the attempt that failed and why"
waitsql "flaky succeeds" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'flaky'"
eq "$(sql "SELECT group_concat(event) FROM alert_outbox WHERE job = 'flaky'")" "retry" "a retried success alerts only the retry"

# --- late: freshness_alert through the outbox
waitdoc late fresh "a late partition's alert reaches freshness_alert"
eq "$(doc late fresh | jq -r '[.event, .product, .partition, .state, .job] | join(" ")')" "late test.ok 2001-01-10 quarantined fresh" "the late document, as before"
eq "$(sql "SELECT count(*) FROM alert_outbox WHERE event = 'late'")" "1" "one late alert in the outbox"

# --- a webhook that is down: retried, nothing lost, across kill -9
waitsql "the webhook's failure is recorded, with a next try" "1" "SELECT attempts >= 1 AND last_error LIKE '%127.0.0.1%' AND next_try_us > 0 AND state = 'pending' FROM alert_outbox WHERE job = 'web'"
run_ctl 0 "trigger web again" trigger web --partition second
waitsql "web's second failure waits behind the first" "pending pending" "SELECT group_concat(state, ' ') FROM alert_outbox WHERE job = 'web'"
kill -9 "$MPID"; wait "$MPID" 2>/dev/null; MPID=
python3 "$top_srcdir/tests/alert-receiver.py" "$port" "$T/recv" "$T/jobs/webhook.token" &
spid=$!
wait_for "the receiver is up" 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))"
sql "UPDATE alert_outbox SET next_try_us = 0 WHERE job = 'web'"
start_meshd
waitsql "after kill -9 and a restart, the webhook gets them" "delivered delivered" "$(echo "SELECT group_concat(state, ' ') FROM (SELECT state FROM alert_outbox WHERE job = 'web' ORDER BY seq)")"
eq "$(jq -r .event_id "$T/recv" | tr '\n' ' ')" "$(sql "SELECT event_id FROM alert_outbox WHERE job = 'web' ORDER BY seq" | tr '\n' ' ')" "each once, in order"
eq "$(jq -r '[.event, .job, .task] | join(" ")' "$T/recv" | sort -u)" "failure web boom" "the POSTed documents"
test -e "$T/recv.rejected" && fail "no POST without the bearer token" || ok "no POST without the bearer token"
grep -q "$TOKEN" "$T/meshd.log" "$T/state/state.db" && fail "the token is never logged nor stored" || ok "the token is never logged nor stored"

# --- a hook that hangs is killed after alert_timeout and retried; other
# jobs run meanwhile
cat >"$T/jobs/hung.conf" <<JOB
name = "hung"; domain = "test"; owner = "tests@example.org";
on_failure = [ "$T/hang.sh" ];
tasks = ( { id = "boom"; plugin = "fails"; stage = "extract"; } );
JOB
cat >"$T/jobs/lin.conf" <<'JOB'
name = "lin"; domain = "test"; owner = "tests@example.org";
tasks = ( { id = "e"; plugin = "ok"; stage = "extract"; } );
JOB
reload "hung"
run_ctl 0 "trigger hung" trigger hung
wait_for "the hook hangs" 15 test -s "$T/hang.pid"
hp=$(cat "$T/hang.pid")
run_ctl 0 "trigger lin while the hook hangs" trigger lin
waitsql "lin runs meanwhile" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'lin'"
kill -0 "$hp" 2>/dev/null && ok "... while the hook still hangs" || fail "... while the hook still hangs"
waitsql "the hung hook is killed and the alert delivered on a retry" "delivered 2" "SELECT state || ' ' || attempts FROM alert_outbox WHERE job = 'hung'"
case "$(sql "SELECT last_error FROM alert_outbox WHERE job = 'hung'")" in
*"still running after 3s: killed"*) ok "the try that hung is recorded as killed" ;;
*) fail "the try that hung is recorded as killed: $(sql "SELECT last_error FROM alert_outbox WHERE job = 'hung'")" ;;
esac
kill -0 "$hp" 2>/dev/null && fail "the hung hook is gone" || ok "the hung hook is gone"
test -n "$(cat "$T"/hooks/hang.*.json 2>/dev/null)" && ok "the retry delivered it" || fail "the retry delivered it"

# --- recovery: quar succeeds again
rm -f "$T/fail-quar"
run_ctl 0 "trigger quar again" trigger quar --partition again
waitdoc recovery quar "the first success after failures alerts recovery"
eq "$(doc recovery quar | jq -r '[.event, .job, .partition] | join(" ")')" "recovery quar again" "it names the job and the run that succeeded"

# --- a restart after delivery sends nothing again
nfiles=$(ls "$T"/hooks/*.json | wc -l)
nrecv=$(wc -l <"$T/recv")
stop_meshd
start_meshd
sleep 2
eq "$(ls "$T"/hooks/*.json | wc -l)" "$nfiles" "after a restart no hook is run again"
eq "$(wc -l <"$T/recv")" "$nrecv" "... and the webhook gets nothing again"
eq "$(sql "SELECT count(*) FROM alert_outbox WHERE event = 'late'")" "1" "the late partition is not alerted twice across restarts"

# --- meshctl alerts
cat >"$T/jobs/nowhere.conf" <<'JOB'
name = "nowhere"; domain = "test"; owner = "tests@example.org";
on_failure = [ "/bin/false" ];
tasks = ( { id = "boom"; plugin = "fails"; stage = "extract"; } );
JOB
reload "nowhere"
run_ctl 0 "trigger nowhere" trigger nowhere
waitsql "a hook that exits 1 is a failed try" "1" "SELECT attempts >= 1 AND last_error LIKE '%exit status 1%' FROM alert_outbox WHERE job = 'nowhere'"
# alert_give_up (24 h) passed: it is given up at its next try.
sql "UPDATE alert_outbox SET give_up_us = 0, next_try_us = 0 WHERE job = 'nowhere'"
waitsql "an alert past alert_give_up is failed" "failed" "SELECT state FROM alert_outbox WHERE job = 'nowhere'"
run_ctl 0 "alerts --job web --json" alerts --job web --json
eq "$(jq -r '[.alerts[] | .job + ":" + .state] | join(" ")' "$T/out")" "web:delivered web:delivered" "--job keeps the job's alerts"
eq "$(jq -r '.counts.delivered' "$T/out")" "2" "with the counts"
eq "$(jq -r '.alerts[0].hook.url' "$T/out")" "http://127.0.0.1:$port/alerts" "and where each went"
run_ctl 0 "alerts --state failed --json" alerts --state failed --json
eq "$(jq -r '[.alerts[] | .job + ":" + .event] | join(" ")' "$T/out")" "nowhere:failure" "--state failed keeps the failed one"
run_ctl 0 "alerts --state pending --json" alerts --state pending --json
eq "$(jq -r '.alerts | length' "$T/out")" "0" "nothing pending"
run_ctl 0 "alerts --state delivered --limit 2 --json" alerts --state delivered --limit 2 --json
eq "$(jq -r '[.alerts[].state] | join(" ")' "$T/out")" "delivered delivered" "--limit"
run_ctl 0 "alerts (table)" alerts --job nowhere
has "$T/out" "exit status 1" "the table shows the last error"
run_ctl 2 "alerts --state bogus" alerts --state bogus
has "$T/err" "unknown alert state 'bogus' (pending, delivered, failed)" "it names the states"

# --- an oversized document is cut and says so
stop_meshd
sed -i 's/^alert_timeout.*/alert_timeout = 3; alert_max_bytes = 1024;/' "$T/meshd.conf"
long="$T/$(printf 'a%.0s' $(seq 200))/$(printf 'b%.0s' $(seq 200))/$(printf 'c%.0s' $(seq 200))"
mkdir -p "$long"
touch "$long/fail"
cat >"$T/jobs/big.conf" <<JOB
name = "big"; domain = "test"; owner = "tests@example.org";
tasks = ( { id = "e"; plugin = "ok"; stage = "extract";
            params = { fail_if = "$long/fail"; }; } );
JOB
cat >"$T/jobs/many.conf" <<JOB
name = "many"; domain = "test"; owner = "tests@example.org";
on_failure = [];
on_quarantine = [ "$T/hook.sh", "quarantine" ];
tasks = (
  { id = "extract"; plugin = "manychecks"; stage = "extract"; },
  { id = "check"; plugin = "manychecks"; stage = "check";
    after = [ "extract" ]; },
  { id = "publish"; plugin = "manychecks"; stage = "publish";
    after = [ "check" ]; }
);
JOB
run_ctl 0 "trigger big" trigger big
run_ctl 0 "trigger many" trigger many
start_meshd
waitdoc failure big "the oversized alert is delivered"
d=$(doc failure big)
eq "$(echo "$d" | jq -r .truncated)" "true" "it says it was cut"
n=$(wc -c <"$(grep -l '"job":"big"' "$T"/hooks/failure.*.json)")
test "$n" -le 1024 && ok "it fits alert_max_bytes ($n bytes)" || fail "it fits alert_max_bytes: $n bytes"
case "$(echo "$d" | jq -r .reason)" in
*...) ok "the reason is shortened" ;;
*) fail "the reason is shortened" ;;
esac
eq "$(echo "$d" | jq -r '[.event, .job, .task] | join(" ")')" "failure big e" "what identifies it is kept"
waitdoc quarantine many "a quarantine with 100 failed checks is delivered"
d=$(doc quarantine many)
eq "$(echo "$d" | jq -c '[.truncated, .checks_total, (.checks | length) + .checks_omitted, .checks_omitted > 0]')" "[true,100,100,true]" "failed checks are dropped from the end, and it says how many"
eq "$(echo "$d" | jq -r '.checks[0].name')" "check_000" "the first checks are kept"
n=$(wc -c <"$(grep -l '"job":"many"' "$T"/hooks/quarantine.*.json)")
test "$n" -le 1024 && ok "it fits alert_max_bytes ($n bytes)" || fail "it fits alert_max_bytes: $n bytes"
stop_meshd
kill "$spid"; wait "$spid" 2>/dev/null; spid=
finish
