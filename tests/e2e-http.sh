#!/bin/sh
# End-to-end: the HTTP child (meshd --http, issue 12).  meshd.conf's http
# group is checked at start; the API serves the documents meshctl --json
# prints, each matching its schema in openapi.json; writes need the token;
# bad paths, methods and bodies are refused; a slow client holds up nobody;
# a killed child comes back and the scheduler never notices; the scheduler
# process keeps one thread.
. "$(dirname "$0")/e2e-lib.sh"
PY=/usr/bin/python3
command -v curl >/dev/null || { echo "FAIL - curl is missing"; exit 1; }

freeport() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=$(freeport)
URL="http://127.0.0.1:$PORT"
TOKEN="t0ken-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$TOKEN" >"$T/token"
chmod 600 "$T/token"
conf "http = { listen = \"127.0.0.1:$PORT\"; token_file = \"token\"; };"
cat >"$T/jobs/ref.conf" <<'JOB'
name = "ref";
domain = "test";
owner = "tests@example.org";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ]; }
);
JOB
cat >"$T/jobs/slow.conf" <<'JOB'
name = "slow";
domain = "test";
owner = "tests@example.org";
params = { sleep_ms = 2000; };
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
cat >"$T/jobs/day.conf" <<'JOB'
name = "day";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "2001-01-01";
end = "2001-02-01";
catchup = "none";
tasks = (
  { id = "a"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "a" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ];
    product = "test.ok"; }
);
JOB

# --- meshd.conf: errors at their line, before anything starts
badconf() {
	sed '/^http = /d' "$T/meshd.conf" >"$T/bad.conf"
	printf '%s\n' "$1" >>"$T/bad.conf"
	timeout 10 "$MESHD" -c "$T/bad.conf" >"$T/bad.out" 2>&1
	echo $?
}
line=$(($(wc -l <"$T/meshd.conf")))
rc=$(badconf 'http = { listen = "localhost:80"; };')
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && ok "a bad listen address refuses the start (exit $rc)" ||
    fail "a bad listen address: exit $rc"
has "$T/bad.out" "bad.conf:$line: error: http.listen must be" "it names the file and line"
run_ctl 1 "meshctl validate reports a bad http group" -c "$T/bad.conf" validate
rc=$(badconf 'http = { listen = "127.0.0.1:99999"; };')
has "$T/bad.out" "port must be 1 to 65535" "a port out of range is refused (exit $rc)"
rc=$(badconf 'http = { listen = "127.0.0.1:1"; tokenfile = "x"; };')
has "$T/bad.out" "bad.conf:$line:" "an unknown key in http is an error at its line (exit $rc)"
has "$T/bad.out" "token_file" "and suggests token_file"
rc=$(badconf 'http = { listen = "127.0.0.1:1"; token_file = "nosuch"; };')
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && ok "an unreadable token file refuses the start (exit $rc)" ||
    fail "an unreadable token file: exit $rc"
has "$T/bad.out" "bad.conf:$line: http.token_file: cannot read" "naming the file and line"
sed '/^http = /d' "$T/meshd.conf" >"$T/bad.conf"
echo 'http = { listen = "[::1]:8642"; };' >>"$T/bad.conf"
run_ctl 0 "[::1]:port is accepted" -c "$T/bad.conf" validate
sed -i 's/^http = .*/http = { listen = "0.0.0.0:8642"; };/' "$T/bad.conf"
run_ctl 0 "0.0.0.0:port is accepted" -c "$T/bad.conf" validate

# --- a port another process listens on: the child says so, meshd runs on
mkdir -p "$T/busy/jobs"
BPORT=$(freeport)
sed -e "s/127.0.0.1:$PORT/127.0.0.1:$BPORT/" -e '/token_file/s/; token_file = "token"//' \
    "$T/meshd.conf" >"$T/busy/meshd.conf"
$PY -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
print("listening", flush=True); time.sleep(8)' "$BPORT" >"$T/busy/holder" &
holder=$!
pids="$pids $holder"
i=0
until grep -q listening "$T/busy/holder" 2>/dev/null || [ "$i" -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
"$MESHD" -c "$T/busy/meshd.conf" >"$T/busy/log" 2>&1 &
bpid=$!
pids="$pids $bpid"
i=0
until grep -q "cannot listen on 127.0.0.1:$BPORT" "$T/busy/log" || [ "$i" -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
has "$T/busy/log" "http: cannot listen on 127.0.0.1:$BPORT" "a port in use: the child says it cannot listen"
code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$BPORT/api/v1/openapi.json")
eq "$code" "000" "and does not share the port with its holder"
sleep 1
kill -0 "$bpid" 2>/dev/null && ok "meshd runs on without its listener" || fail "meshd died"
kill "$bpid" "$holder" 2>/dev/null
wait "$bpid" 2>/dev/null
wait "$holder" 2>/dev/null

# --- start, run something
start_meshd
wait_for "the API answers" 10 curl -sf "$URL/api/v1/openapi.json"
logged "http: serving http://127.0.0.1:$PORT/" && ok "the child says where it serves" ||
    fail "no 'http: serving' in the log"
run_ctl 0 "trigger ref" trigger ref
run_ctl 0 "trigger a day" trigger day --partition 2001-01-05
run_ctl 0 "trigger another day" trigger day --partition 2001-01-06
run_ctl 0 "and a third" trigger day --partition 2001-01-07
waitsql "ref ran" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'ref'"
waitsql "the days ran" "3" "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'day' AND r.state = 'success'"

# --- every question: the same document as meshctl --json, and its schema
$PY "$top_srcdir/tests/http-compare.py" "$URL" "$MESHCTL" \
    '{"job": "ref", "partition": "current", "task": "extract"}' \
    '[["runs?job=day&limit=2", ["runs", "day", "--limit", "2", "--json"]],
      ["runs?job=day&limit=2&cursor={cursor}", ["runs", "day", "--limit", "2", "--cursor", "{cursor}", "--json"]],
      ["runs?job=day&utc=1&state=success", ["-u", "runs", "day", "--state", "success", "--json"]],
      ["tasks?job=ref&partition=current", ["tasks", "ref", "current", "--json"]],
      ["tasks?job=day&partition=2001-01-06&utc=1", ["-u", "tasks", "day", "2001-01-06", "--json"]],
      ["logs?job=ref&partition=current&task=check", ["logs", "ref", "current", "check", "--json"]],
      ["next?job=day&limit=3&from=2001-01-10T00:00:00Z", ["next", "day", "--count", "3", "--from", "2001-01-10T00:00:00Z", "--json"]],
      ["dag?job=ref", ["dag", "ref", "--json"]],
      ["product?product=test.ok", ["product", "test.ok", "--json"]],
      ["checks?product=test.ok&partition=2001-01-06", ["checks", "test.ok", "--partition", "2001-01-06", "--json"]],
      ["lineage?product=test.ok&partition=2001-01-06", ["lineage", "test.ok", "--partition", "2001-01-06", "--json"]],
      ["catalog?limit=1", ["catalog", "--limit", "1", "--json"]]]' \
    >"$T/cmp.out" 2>&1 || echo "FAIL - http-compare.py failed" >>"$T/cmp.out"
while IFS= read -r l; do
	case $l in
	"ok - "*) ok "${l#ok - }" ;;
	"FAIL - "*) fail "${l#FAIL - }" ;;
	*) echo "$l" ;;
	esac
done <"$T/cmp.out"
code=$(curl -s -o "$T/o" -w '%{http_code}' "$URL/api/v1/runs?job=nosuch")
eq "$code" "404" "an unknown job is 404"
eq "$(jq -r .error.status "$T/o")" "404" "with a JSON error body"
code=$(curl -s -o "$T/o" -w '%{http_code}' "$URL/api/v1/runs?job=ref&bogus=1")
eq "$code" "400" "an unknown parameter is 400"
code=$(curl -s -o "$T/o" -w '%{http_code}' "$URL/api/v1/runs?job=ref&limit=0")
eq "$code" "400" "a bad limit is 400"
code=$(curl -s -o "$T/o" -w '%{http_code}' "$URL/api/v1/nosuch")
eq "$code" "404" "an unknown question is 404"
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$URL/api/v1/runs?job=ref")
eq "$code" "200" "HEAD is answered"

# --- a log followed while its task runs: one logs document a line, to the end
if curl -sf "$URL/api/v1/openapi.json" | jq -e '.paths["/api/v1/logs"]' >/dev/null; then
	run_ctl 0 "trigger slow" trigger slow
	waitsql "slow is running" "running" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'slow'"
	t0=$(date +%s%N)
	curl -s -N -m 20 -D "$T/fh" "$URL/api/v1/logs?job=slow&partition=current&task=a&follow=1" >"$T/follow"
	t1=$(date +%s%N)
	has "$T/fh" "application/x-ndjson" "follow=1 is an NDJSON stream"
	has "$T/fh" "chunked" "sent chunked"
	[ $(( (t1 - t0) / 1000000 )) -ge 500 ] && ok "it lasted while the task ran ($(( (t1 - t0) / 1000000 )) ms)" ||
	    fail "it ended at once ($(( (t1 - t0) / 1000000 )) ms)"
	eq "$(tail -n 1 "$T/follow" | jq -r '.done')" "true" "its last document says done"
	eq "$(jq -s 'map(.text) | join("")' "$T/follow")" \
	    "$(curl -s "$URL/api/v1/logs?job=slow&partition=current&task=a" | jq '.text')" \
	    "the followed chunks add up to the whole log"
	code=$(curl -s -o "$T/o" -w '%{http_code}' -m 5 "$URL/api/v1/logs?job=nosuch&partition=current&task=a&follow=1")
	eq "$code" "404" "following an unknown job's log is 404, not a stream"
else
	fail "openapi.json lists no logs question"
fi

# --- methods
code=$(curl -s -o "$T/o" -w '%{http_code}' -X DELETE "$URL/api/v1/runs?job=ref")
eq "$code" "405" "DELETE is 405"
code=$(curl -s -o "$T/o" -w '%{http_code}' -X PUT -d x "$URL/api/v1/trigger")
eq "$code" "405" "PUT is 405"
code=$(curl -s -o "$T/o" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$URL/api/v1/runs?job=ref")
eq "$code" "405" "POST to a question is 405"
code=$(curl -s -o "$T/o" -w '%{http_code}' "$URL/api/v1/trigger?job=ref")
eq "$code" "405" "GET of an action is 405"

# --- writes need the token
nreq=$(sql "SELECT count(*) FROM requests")
code=$(curl -s -o "$T/o" -w '%{http_code}' -X POST -d '{"job":"ref"}' "$URL/api/v1/trigger")
eq "$code" "401" "a write without a token is 401"
eq "$(jq -r .error.status "$T/o")" "401" "with a JSON error body"
code=$(curl -s -o "$T/o" -w '%{http_code}' -X POST -H "Authorization: Basic $TOKEN" -d '{"job":"ref"}' "$URL/api/v1/trigger")
eq "$code" "401" "a write with another scheme is 401"
code=$(curl -s -o "$T/o" -w '%{http_code}' -X POST -H "Authorization: Bearer x$TOKEN" -d '{"job":"ref"}' "$URL/api/v1/trigger")
eq "$code" "403" "a write with a wrong token is 403"
code=$(curl -s -o "$T/o" -w '%{http_code}' -X POST -H "Authorization: Bearer ${TOKEN%?}" -d '{"job":"ref"}' "$URL/api/v1/trigger")
eq "$code" "403" "a token short of its last character is 403"
code=$(curl -s -o "$T/o" -w '%{http_code}' -X POST -H "Authorization: Bearer " -d '{"job":"ref"}' "$URL/api/v1/trigger")
eq "$code" "403" "an empty token is 403"
for a in backfill clear cancel pause unpause; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"job":"ref"}' "$URL/api/v1/$a")
	eq "$code" "401" "POST $a without a token is 401"
done
eq "$(sql "SELECT count(*) FROM requests")" "$nreq" "refused writes wrote nothing"
code=$(curl -s -o "$T/o" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" -d '{"job":"ref"}' "$URL/api/v1/nosuch")
eq "$code" "404" "an unknown action is 404"

# --- writes with the token: the same request rows as meshctl's
if curl -sf "$URL/api/v1/openapi.json" | jq -e '.paths["/api/v1/trigger"].post' >/dev/null; then
	code=$(curl -s -o "$T/w1" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: application/json' -d '{"job": "day", "partition": "2001-01-09"}' "$URL/api/v1/trigger")
	eq "$code" "200" "POST trigger with the token is 200"
	id=$(jq -r .request_id "$T/w1")
	eq "$(sql "SELECT kind || ' ' || job || ' ' || partition_key FROM requests WHERE id = $id")" \
	    "trigger day 2001-01-09" "its request_id names the request row it wrote"
	waitsql "meshd runs the triggered day" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'day' AND r.partition_key = '2001-01-09'"
	code=$(curl -s -o "$T/w2" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	    --data-urlencode 'job=day' "$URL/api/v1/pause")
	eq "$code" "200" "POST pause with form fields is 200"
	eq "$(sql "SELECT kind || ' ' || job FROM requests WHERE id = $(jq -r .request_id "$T/w2")")" "pause day" "a pause request row"
	"$MESHCTL" unpause day --json >"$T/w3" 2>/dev/null
	eq "$(jq -c 'del(.request_id, .meshd_pid, .meshd) | keys' "$T/w2")" \
	    "$(jq -c 'del(.request_id, .meshd_pid, .meshd) | keys' "$T/w3")" \
	    "POST pause and meshctl unpause --json have the same shape"
	code=$(curl -s -o "$T/w4" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	    -d '{"job": "nosuch"}' "$URL/api/v1/trigger")
	eq "$code" "404" "POST trigger of an unknown job is 404, as meshctl's exit 2"
	code=$(curl -s -o "$T/w5" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	    -d '{"job": {"a": 1}}' "$URL/api/v1/trigger")
	eq "$code" "400" "an object as an argument is 400"
	code=$(curl -s -o "$T/w5" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	    -d '[1, 2]' "$URL/api/v1/trigger")
	eq "$code" "400" "a body that is not an object is 400"
	code=$(curl -s -o "$T/w5" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	    -d '{"job": "day", "bogus": 1}' "$URL/api/v1/trigger")
	eq "$code" "400" "an unknown argument is 400"
	curl -s "$URL/api/v1/openapi.json" >"$T/openapi.json"
	$PY - "$T/openapi.json" "$T/w1" "$T/w2" "$T/w4" >"$T/wv.out" 2>&1 <<'PYEOF'
import json, sys
from jsonschema import Draft202012Validator
api = json.load(open(sys.argv[1]))
def check(path, doc, code):
    s = api["paths"][path]["post"]["responses"][code]
    if "$ref" in s:
        s = api["components"]["schemas"]["Error"]
    else:
        s = s["content"]["application/json"]["schema"]
    errs = list(Draft202012Validator(s).iter_errors(doc))
    print(("FAIL - " if errs else "ok - ") + "%s %s document matches its schema%s"
          % (path, code, ": " + errs[0].message[:200] if errs else ""))
check("/api/v1/trigger", json.load(open(sys.argv[2])), "200")
check("/api/v1/pause", json.load(open(sys.argv[3])), "200")
check("/api/v1/trigger", json.load(open(sys.argv[4])), "404")
PYEOF
	while IFS= read -r l; do
		case $l in
		"ok - "*) ok "${l#ok - }" ;;
		*) fail "$l" ;;
		esac
	done <"$T/wv.out"
else
	fail "openapi.json lists no POST /api/v1/trigger"
fi

# --- a body too big: refused, and the server is fine
head -c 100000 /dev/zero | tr '\0' 'a' >"$T/big"
code=$(curl -s -o "$T/o" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    --data-binary @"$T/big" "$URL/api/v1/trigger")
eq "$code" "413" "a 100 KB body is 413"
eq "$(jq -r .error.status "$T/o" 2>/dev/null)" "413" "with a JSON error body"
code=$(curl -s -o "$T/o" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -H "Transfer-Encoding: chunked" --data-binary @"$T/big" "$URL/api/v1/trigger")
eq "$code" "413" "a 100 KB chunked body (no length) is 413"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/openapi.json")
eq "$code" "200" "the server answers after them"

# --- paths that climb out are refused, never served
for p in '/../../etc/passwd' '/%2e%2e/%2e%2e/etc/passwd' '/ui/..%2f..%2fetc/passwd' \
    '/ui/%2e%2e/%2e%2e/etc/passwd' '/api/v1/../../../etc/passwd' '//etc/passwd' \
    '/ui/..%5c..%5cetc/passwd' '/ui/%252e%252e/etc/passwd' '/api/v1/%2e%2e%2fruns'; do
	code=$(curl -s --path-as-is -o "$T/o" -w '%{http_code}' "$URL$p")
	case $code in
	400|404) ok "$p is $code" ;;
	*) fail "$p is $code" ;;
	esac
	hasnt "$T/o" "root:" "$p does not return /etc/passwd"
done

# --- DNS rebinding: a page on another site whose name now points at
# 127.0.0.1 is refused; requests naming loopback are answered
code=$(curl -s -o "$T/o" -w '%{http_code}' -H "Host: evil.example:$PORT" "$URL/api/v1/jobs")
eq "$code" "421" "a request for another host name is refused (421)"
hasnt "$T/o" '"jobs"' "and reads nothing"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: localhost:$PORT" "$URL/api/v1/jobs")
eq "$code" "200" "a request for localhost is answered"

# --- a slow client does not block others
$PY "$top_srcdir/tests/http-slow.py" 127.0.0.1 "$PORT" 20 11 >"$T/slow.out" &
slow=$!
pids="$pids $slow"
i=0
until grep -q ready "$T/slow.out" 2>/dev/null || [ "$i" -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
has "$T/slow.out" "ready" "20 slow clients hold half-sent requests"
for n in 1 2 3; do
	code=$(curl -s -m 1 -o /dev/null -w '%{http_code}' "$URL/api/v1/runs?job=ref")
	eq "$code" "200" "a request during the slow clients is answered within 1 s ($n)"
done
# Concurrent clients all get their answer.
for n in 1 2 3 4 5 6 7 8 9 10; do
	curl -s -m 10 -o "$T/par.$n" -w '%{http_code}\n' "$URL/api/v1/runs?job=day" >"$T/code.$n" &
done
wait_par=0
for n in 1 2 3 4 5 6 7 8 9 10; do
	i=0
	while [ ! -s "$T/code.$n" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(cat "$T/code.$n")" = 200 ] || wait_par=$((wait_par + 1))
done
eq "$wait_par" "0" "10 concurrent requests are all answered"
wait "$slow"
has "$T/slow.out" "closed 20" "the server dropped the 20 idle clients after its 10 s timeout"

# --- the scheduler has one thread; the server's live in the child
eq "$(ps -T -p "$MPID" -o tid= | wc -l)" "1" "the scheduler process has one thread"
hpid=$(pgrep -P "$MPID" -f -- '--http' | head -n 1)
[ -n "$hpid" ] && ok "the HTTP child is meshd's child (pid $hpid)" || fail "no HTTP child"

# --- kill -9 the child: meshd starts it again and goes on scheduling
kill -9 "$hpid"
run_ctl 0 "trigger ref while the child is down" trigger ref --rerun
waitsql "the scheduler runs it meanwhile" "2" "SELECT count(*) FROM requests WHERE state = 'done' AND job = 'ref'"
wait_for "the API answers again" 15 curl -sf "$URL/api/v1/openapi.json"
logged "was killed by signal 9; starting it again" && ok "meshd logs the restart" ||
    fail "no restart in the log"
hpid2=$(pgrep -P "$MPID" -f -- '--http' | head -n 1)
[ -n "$hpid2" ] && [ "$hpid2" != "$hpid" ] && ok "a new child (pid $hpid2)" || fail "no new child: '$hpid2'"
eq "$(ps -T -p "$MPID" -o tid= | wc -l)" "1" "still one thread in the scheduler"

# --- SIGHUP: a new token file takes over (the child is replaced)
TOKEN2="second-$TOKEN"
printf '%s\n' "$TOKEN2" >"$T/token2"
sed -i 's/token_file = "token"/token_file = "token2"/' "$T/meshd.conf"
kill -HUP "$MPID"
i=0
while [ "$i" -lt 100 ]; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" -d '{"job":"nosuch"}' "$URL/api/v1/trigger")
	[ "$code" = 403 ] && break
	sleep 0.1
	i=$((i + 1))
done
eq "$code" "403" "after a reload the old token is refused"

# --- a job file added is seen without a reload, as meshctl sees it
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/runs?job=late")
eq "$code" "404" "no job late yet"
sed 's/name = "ref"/name = "late"/' "$T/jobs/ref.conf" >"$T/jobs/late.conf"
wait_for "the child loads a new job file by itself" 5 \
    sh -c "curl -sf '$URL/api/v1/runs?job=late' | jq -e '.runs == []'"

# --- SIGHUP without http: the child stops, meshd goes on
hpid3=$(pgrep -P "$MPID" -f -- '--http' | head -n 1)
sed -i '/^http = /d' "$T/meshd.conf"
kill -HUP "$MPID"
i=0
while [ "$i" -lt 100 ] && curl -s -o /dev/null "$URL/api/v1/openapi.json"; do sleep 0.1; i=$((i + 1)); done
code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$URL/api/v1/openapi.json")
eq "$code" "000" "a reload without http stops the listener"
# The listener closes first; the process exits after (under the
# sanitizers its leak check at exit takes a while).
i=0
while [ "$i" -lt 100 ] && kill -0 "$hpid3" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -0 "$hpid3" 2>/dev/null && fail "the old child still runs" || ok "the child is gone"
kill -0 "$MPID" && ok "meshd runs on" || fail "meshd died"
run_ctl 0 "trigger ref without http" trigger ref --rerun
waitsql "and schedules" "3" "SELECT count(*) FROM requests WHERE state = 'done' AND job = 'ref'"
echo "http = { listen = \"127.0.0.1:$PORT\"; token_file = \"token2\"; };" >>"$T/meshd.conf"
kill -HUP "$MPID"
wait_for "a reload with http starts it again" 10 curl -sf "$URL/api/v1/openapi.json"
hpid2=$(pgrep -P "$MPID" -f -- '--http' | head -n 1)

# --- stop: the child goes with meshd
stop_meshd
eq "$STOPRC" "0" "meshd stops cleanly"
sleep 0.2
code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$URL/api/v1/openapi.json")
eq "$code" "000" "nothing listens after meshd stopped"
i=0
while [ "$i" -lt 50 ] && kill -0 "$hpid2" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -0 "$hpid2" 2>/dev/null && fail "the child outlived meshd" || ok "the child is gone"
for e in "ERROR: AddressSanitizer" "ERROR: LeakSanitizer" "runtime error:"; do
	hasnt "$T/meshd.log" "$e" "no '$e' from meshd or its children"
done
finish
