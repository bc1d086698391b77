#!/bin/sh
# End-to-end: /metrics of the HTTP child, read by the real Prometheus.
# meshd runs jobs that fail, retry and publish; the exposition passes
# `promtool check metrics`; Debian's prometheus scrapes it every second
# and PromQL through its HTTP API gives the counts the state holds; the
# HTTP child is killed and restarted by meshd without a counter going
# down (Prometheus's own resets() says so); a product name with a quote,
# a backslash and a line feed comes through escaped and intact; meshd's
# health file carries the figures only meshd knows (workers, loop lag,
# which shows a stall on a lock another process holds).
. "$(dirname "$0")/e2e-lib.sh"
PPID_=
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(freeport)
pport=$(freeport)
URL="http://127.0.0.1:$port/metrics"
PROM="http://127.0.0.1:$pport"
conf "shutdown_grace = 1;" "kill_grace = 1;" \
    "http = { listen = \"127.0.0.1:$port\"; };"
cat >"$T/jobs/flaky.conf" <<'JOB'
name = "flaky"; domain = "test"; owner = "tests@example.org";
tasks = ( { id = "boom"; plugin = "fails"; stage = "extract"; } );
JOB
cat >"$T/jobs/retrying.conf" <<'JOB'
name = "retrying"; domain = "test"; owner = "tests@example.org";
tasks = ( { id = "r"; plugin = "retry"; stage = "extract"; retries = 3;
    retry_delay = 0; params = { fail_times = 2; }; } );
JOB
cat >"$T/jobs/good.conf" <<'JOB'
name = "good"; domain = "test"; owner = "tests@example.org";
tasks = (
  { id = "e"; plugin = "ok"; stage = "extract"; },
  { id = "c"; plugin = "ok"; stage = "check"; after = [ "e" ]; },
  { id = "p"; plugin = "ok"; stage = "publish"; after = [ "c" ];
    product = "test.ok"; }
);
JOB
cat >"$T/jobs/slow.conf" <<'JOB'
name = "slow"; domain = "test"; owner = "tests@example.org";
params = { sleep_ms = 1000; };
tasks = ( { id = "e"; plugin = "ok"; stage = "extract"; } );
JOB

# The value of the sample `series` (name and labels exactly) in file $1.
sample() { awk -v s="$2" 'index($0, s " ") == 1 { print $2 }' "$1"; }
# The HTTP child: meshd's child whose arguments say --http.
http_pid() {
	for p in $(pgrep -P "$MPID"); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
		    grep -q -- ' --http' && echo "$p"
	done
}
# promql QUERY: the first result's value, or "" (none yet).
promql() {
	curl -sf --get --data-urlencode "query=$1" "$PROM/api/v1/query" |
	    jq -r '.data.result[0].value[1] // empty'
}
promql_is() { [ "$(promql "$1")" = "$2" ]; }
state_count() { sql "SELECT count(*) FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' AND a.state = '$2'"; }

start_meshd
wait_for "meshd's HTTP child serves /metrics" 20 curl -sf -o /dev/null "$URL"
for j in flaky retrying good; do
	run_ctl 0 "trigger $j" trigger "$j"
done
waitsql "every run ended" "0" "SELECT count(*) FROM runs WHERE state IN ('queued', 'running')"
waitsql "three runs" "3" "SELECT count(*) FROM runs"
# The child reads meshd's health file when it changes, polling each
# second: at start it may not have seen the first one yet.
up() { curl -sf "$URL" | grep -qx 'meshd_up 1'; }
wait_for "the HTTP child sees meshd's health" 10 up
# The figures in it are taken at most once a second, and an idle meshd
# still writes the last change: both workers idle, none busy.
idle() {
	jq -e '.workers_idle == 2 and .workers_busy == 0 and .queued_runs == 0' \
	    "$T/state/state.db.health" &&
	    curl -sf "$URL" | grep -qx 'meshd_workers{state="idle"} 2'
}
wait_for "meshd's health file and /metrics say both workers are idle" 10 idle

# --- the exposition, as curl and promtool see it
curl -sf -D "$T/headers" -o "$T/m1" "$URL"
eq "$?" "0" "GET /metrics answers 200"
has "$T/headers" "text/plain; version=0.0.4" "served as the text exposition format"
if promtool check metrics <"$T/m1" >"$T/promtool" 2>&1; then
	ok "promtool check metrics: no problem"
else
	fail "promtool check metrics"; sed 's/^/    | /' "$T/promtool"
fi
eq "$(sample "$T/m1" 'meshd_attempts_total{job="flaky",stage="extract",state="failed"}')" \
    "$(state_count flaky failed)" "failed attempts of flaky are the state's"
eq "$(sample "$T/m1" 'meshd_attempts_total{job="retrying",stage="extract",state="retry"}')" \
    "$(state_count retrying retry)" "retried attempts are the state's"
eq "$(state_count retrying retry)" "2" "(the retry plugin asked twice)"
eq "$(sample "$T/m1" 'meshd_runs_total{job="good",state="success"}')" "1" "runs by job and state"
eq "$(sample "$T/m1" 'meshd_attempt_duration_seconds_count{job="retrying",stage="extract"}')" "3" "the histogram counts every ended attempt"
eq "$(sample "$T/m1" 'meshd_attempt_duration_seconds_bucket{job="retrying",stage="extract",le="+Inf"}')" "3" "+Inf bucket is the count"
eq "$(sample "$T/m1" 'meshd_product_publications_total{product="test.ok"}')" \
    "$(sql "SELECT count(*) FROM product_partitions pp JOIN products p ON p.id = pp.product_id WHERE p.name = 'test.ok' AND pp.state = 'published'")" \
    "publications of test.ok are the state's"
eq "$(sample "$T/m1" 'meshd_build_info{version="'"$(sed -n 's/^PACKAGE_VERSION = //p' "$top_builddir/Makefile")"'"}')" "1" "meshd_build_info names the version"
eq "$(sample "$T/m1" 'meshd_up')" "1" "meshd_up is 1 while meshd runs"
eq "$(sample "$T/m1" 'meshd_workers{state="idle"}')" "2" "both workers idle once the runs ended"
eq "$(sample "$T/m1" 'meshd_attempts_running')" "0" "no attempt running"
has "$T/m1" "meshd_scheduler_loop_lag_seconds " "the loop lag is there"
jq -e '(.loop_lag_us | type) == "number" and (.active_runs | type) == "number" and (.running_attempts | type) == "number"' \
    "$T/state/state.db.health" >/dev/null
eq "$?" "0" "meshd's health file carries the loop lag and the engine's figures"
hasnt "$T/m1" "# TYPE meshd_attempts_total gauge" "counters are typed counter"

# --- loop lag: another process holds the state's write lock for 3.5 s
# while an attempt ends; meshd's loop stalls on it (and says so), and
# /metrics, on its own read-only connection, still answers meanwhile.
run_ctl 0 "trigger slow" trigger slow
waitsql "slow's attempt runs" "1" "SELECT count(*) FROM attempts WHERE state = 'running'"
/usr/bin/python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN IMMEDIATE")
time.sleep(3.5)
c.execute("COMMIT")' "$T/state/state.db" &
lockpid=$!
pids="$pids $lockpid"
sleep 0.5
curl -sf -m 1 -o "$T/m-locked" "$URL"
eq "$?" "0" "/metrics answers within 1 s while the write lock is held"
stalled() { jq -e '.loop_lag_us >= 1000000' "$T/state/state.db.health"; }
wait_for "meshd's health file shows a loop lag of a second or more" 8 stalled
wait "$lockpid"
waitsql "slow's run ended" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slow'"
calm() { jq -e '.loop_lag_us < 1000000' "$T/state/state.db.health"; }
wait_for "and a normal one once the lock is free" 8 calm

# --- a product name a job file could not write, written into the state
# behind meshd's back: its label must be escaped, and survive Prometheus.
sql "INSERT INTO products (name, freshness_s) VALUES ('we\"ird\\x' || char(10) || 'y', 77)"
curl -sf -o "$T/m2" "$URL"
has "$T/m2" 'meshd_product_freshness_slo_seconds{product="we\"ird\\x\ny"} 77' "quote, backslash and line feed escaped in the label"
promtool check metrics <"$T/m2" >/dev/null 2>&1
eq "$?" "0" "promtool accepts the escaped label"

# --- Debian's prometheus, scraping every second
# The example that meshd ships, pointed at this meshd, every second.
{
	printf 'global:\n  evaluation_interval: 1s\n'
	sed -e "s/127\.0\.0\.1:8642/127.0.0.1:$port/" \
	    -e 's/scrape_interval: 15s/scrape_interval: 1s/' \
	    "$top_srcdir/contrib/prometheus/meshd.yml"
} >"$T/prom.yml"
if promtool check config "$T/prom.yml" >"$T/promtool" 2>&1; then
	ok "promtool check config: contrib/prometheus/meshd.yml is valid"
else
	fail "promtool check config"; sed 's/^/    | /' "$T/promtool"
fi
has "$T/prom.yml" "127.0.0.1:$port" "the scrape config points at this meshd"
prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$pport" --log.level=warn \
    >"$T/prom.log" 2>&1 &
PPID_=$!
pids="$pids $PPID_"
if ! wait_for "prometheus is ready" 30 curl -sf "$PROM/-/ready"; then
	sed 's/^/    prom: /' "$T/prom.log" | tail -n 10
fi
Q='sum(meshd_attempts_total{job="flaky",state="failed"})'
wait_for "prometheus scraped meshd" 20 promql_is "$Q" "$(state_count flaky failed)"
eq "$(promql "$Q")" "$(state_count flaky failed)" "PromQL $Q is the state's count"
eq "$(promql 'sum(meshd_attempts_total{job="retrying"})')" \
    "$(sql "SELECT count(*) FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'retrying' AND a.state != 'running'")" \
    "every attempt of retrying, in PromQL"
eq "$(promql 'up{job="meshd"}')" "1" "prometheus sees the target up"
curl -sf --get --data-urlencode 'query=meshd_product_freshness_slo_seconds{product="we\"ird\\x\ny"}' \
    "$PROM/api/v1/query" >"$T/weird.json"
jq -e '.data.result[0].metric.product == "we\"ird\\x\ny" and .data.result[0].value[1] == "77"' \
    "$T/weird.json" >/dev/null
eq "$?" "0" "the escaped label reaches Prometheus as the product's very name"

# --- the HTTP child dies; meshd starts another, which reads the history
# once: no counter goes down, as Prometheus sees it.
hp=$(http_pid)
if [ -n "$hp" ]; then ok "the HTTP child is pid $hp"; else fail "no HTTP child of meshd $MPID"; fi
kill -9 $hp
sleep 0.5
new_child() { n=$(http_pid); [ -n "$n" ] && [ "$n" != "$hp" ] && curl -sf -o /dev/null "$URL"; }
wait_for "meshd restarts its HTTP child" 30 new_child
run_ctl 0 "trigger flaky again" trigger flaky --rerun
waitsql "the rerun failed again" "2" "SELECT count(*) FROM attempts a JOIN task_instances ti ON ti.id = a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'flaky' AND a.state = 'failed'"
wait_for "prometheus sees the new failure" 20 promql_is "$Q" "2"
curl -sf -o "$T/m3" "$URL"
for s in 'meshd_attempts_total{job="retrying",stage="extract",state="retry"}' \
    'meshd_attempts_total{job="good",stage="publish",state="success"}' \
    'meshd_runs_total{job="good",state="success"}'; do
	eq "$(sample "$T/m3" "$s")" "$(sample "$T/m1" "$s")" "after the restart: $s unchanged"
done
eq "$(promql 'sum(resets(meshd_attempts_total[5m]))')" "0" "no attempt counter went down across the restart (resets() = 0)"
eq "$(promql 'sum(resets(meshd_attempt_duration_seconds_count[5m]))')" "0" "nor a histogram count"

kill -TERM "$PPID_"
wait "$PPID_" 2>/dev/null
stop_meshd
eq "$STOPRC" "0" "meshd stops cleanly"
# Under --enable-sanitizers, what meshd and its HTTP child said.
hasnt "$T/meshd.log" "runtime error" "no undefined behaviour reported"
hasnt "$T/meshd.log" "ERROR: AddressSanitizer" "no memory error reported"
hasnt "$T/meshd.log" "ERROR: LeakSanitizer" "no leak reported"
finish
