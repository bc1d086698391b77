#!/bin/sh
# End-to-end: the web UI in Debian's headless chromium.  meshd (with its
# HTTP child on a free loopback port) runs the demo's domains over two
# weeks of flights, one day of which the delay bound quarantines; then
# chromium loads the home, job grid, run, catalog, product and backfills
# pages, runs their script, and the test asserts on the DOM it prints:
# grid cells in the states `meshctl runs/tasks --json` give, an SVG node
# per task, the quarantined day with its failed check, the lineage, the
# paging, and hostile partition keys rendered as text.  If chromium
# cannot start, the test fails.  UI_SCREENSHOT=FILE also saves a
# screenshot of the job grid (doc/ui.png is one).
. "$(dirname "$0")/e2e-lib.sh"
PY=/usr/bin/python3
CHROMIUM=${CHROMIUM:-chromium}
held=2001-01-12
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

# The demo's job files, their data where it is, and the broken job.
for f in "$top_srcdir"/jobs/*.conf; do
	sed "s|\${jobdir}/\.\./contrib/|$top_srcdir/contrib/|g" "$f" \
	    >"$T/jobs/${f##*/}"
done
cp "$top_srcdir/contrib/broken-job/campaigns_daily.conf" "$T/jobs/"
port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
echo "s3cret-token" >"$T/token"
chmod 600 "$T/token"
conf "http = { listen = \"127.0.0.1:$port\"; token_file = \"$T/token\"; };"
sed -i "s|plugin_path = .*|plugin_path = [ \"$top_builddir/plugins/.libs\" ];|" \
    "$T/meshd.conf"

"$MESHCTL" run airports >"$T/out" 2>&1 || { fail "meshctl run airports"; cat "$T/out"; }
# Partition keys a careless or hostile operator may type: text, always.
"$MESHCTL" trigger airports --partition '<img src=x onerror=alert(1)>' \
    >/dev/null 2>&1
"$MESHCTL" trigger airports --partition 'a"b<i>&amp;' >/dev/null 2>&1
start_meshd
wait_for "meshd is up" 10 sh -c "'$MESHCTL' status --json | jq -e .up"
"$MESHCTL" backfill flights_daily --from 2001-01-01 --to 2001-01-14 \
    --max-active-runs 4 --wait --interval 1 >"$T/bf.out" 2>&1
eq "$?" 1 "the backfill ends with a failed day (the quarantined one)"

runs_json() {
	"$MESHCTL" runs "$1" --limit 1000 --json 2>/dev/null |
	    jq -c 'if type == "array" then . else .runs end'
}
settled() {
	runs_json analytics_daily | jq -e 'length > 0 and all(.[];
	    .state == "success" or .state == "failed" or
	    (.state == "queued" and .waiting_for != null))' &&
	runs_json airports | jq -e 'length == 3 and all(.[];
	    .state == "success" or .state == "failed")'
}
wait_for "the analytics days and the triggers settle" 30 settled
wait_for "the HTTP child answers on $port" 10 curl -sf "$base/"

# dump PATH NAME: the DOM of the page after its script ran.
dump() {
	if timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
	    --user-data-dir="$T/chrome" --virtual-time-budget=2000 \
	    --dump-dom "$base$1" >"$T/$2.html" 2>"$T/chrome.err" &&
	    [ -s "$T/$2.html" ]; then
		return 0
	fi
	fail "chromium could not load $1"
	tail -n 5 "$T/chrome.err" | sed 's/^/    chromium: /'
	return 1
}
# q NAME SELECTOR [attr]: count the elements matching a simple selector
# (tag.class.class[attr=value]...) in the dumped DOM; with attr, print
# that attribute of each instead.
cat >"$T/q.py" <<'PY'
import re, sys
from html.parser import HTMLParser
path, sel = sys.argv[1], sys.argv[2]
want = sys.argv[3] if len(sys.argv) > 3 else None
m = re.match(r'^([a-zA-Z0-9]*)((?:\.[-\w]+)*)((?:\[[-\w]+=[^\]]*\])*)$', sel)
tag = m.group(1).lower()
classes = [c for c in m.group(2).split('.') if c]
attrs = re.findall(r'\[([-\w]+)=([^\]]*)\]', m.group(3))
hits = []
class P(HTMLParser):
    def handle_starttag(self, t, a):
        d = dict((k, v or '') for k, v in a)
        if tag and t != tag: return
        cl = d.get('class', '').split()
        if any(c not in cl for c in classes): return
        if any(d.get(k) != v for k, v in attrs): return
        hits.append(d)
    handle_startendtag = handle_starttag
P().feed(open(path, encoding='utf-8').read())
if want:
    for h in hits: print(h.get(want, ''))
else:
    print(len(hits))
PY
q() { f=$1; shift; $PY "$T/q.py" "$T/$f.html" "$@"; }
# A question or action a page needs that the build does not have fails.
missing() {
	fail "$1"
}

# ---- home
if dump / home; then
	eq "$(q home 'html[data-js=1]')" 1 \
	    "the page's own script ran (no external asset needed)"
	eq "$(q home tr.job)" 4 "home lists the 4 jobs"
	eq "$(q home 'tr.job.broken[data-job=campaigns_daily]')" 1 \
	    "the broken job is marked broken"
	eq "$(q home 'section.domain' data-domain | sort | tr '\n' ' ')" \
	    " analytics geo ops " "jobs are grouped by domain"
	got=$($PY - "$T/home.html" <<'PY'
import sys
from html.parser import HTMLParser
out, inrow = [], False
class P(HTMLParser):
    def handle_starttag(self, t, a):
        global inrow
        d = dict(a)
        if t == 'tr': inrow = d.get('data-job') == 'flights_daily'
        if inrow and t == 'a' and 'sq' in d.get('class', '').split():
            st = [c for c in d['class'].split() if c.startswith('state-')]
            out.append('%s %s' % (d.get('data-run'), st[0]))
P().feed(open(sys.argv[1]).read())
print('\n'.join(out))
PY
)
	# The jobs question's last runs (10), or a page of runs (14).
	nsq=$(echo "$got" | grep -c .)
	want=$(runs_json flights_daily | jq -r --argjson n "$nsq" \
	    '.[:$n][] | "\(.run_id) state-\(.state)"')
	[ "$nsq" -ge 10 ] && ok "flights_daily has $nsq squares" ||
	    fail "flights_daily has $nsq squares, not 10 or more"
	eq "$got" "$want" "they are its last $nsq runs, newest first, in their states"
	eq "$(q home 'a.sq.state-failed')" 1 "one failed run on the home page"
	eq "$(q home img)" 0 "a hostile partition key injects no element"
	grep -qF '&lt;img src=x onerror=alert(1)&gt;' "$T/home.html" &&
	    ok "it is shown as text" || fail "the hostile key is not in the page as text"
	eq "$(q home 'link' href; q home script src)" "$(printf '/ui/static/app.css\n/ui/static/app.js')" \
	    "the only assets are the child's own"
fi

# ---- job grid: every run x every task, in the state meshctl gives
if dump "/ui/job?job=flights_daily" job; then
	nruns=$(runs_json flights_daily | jq length)
	eq "$(q job 'td.runcell')" "$nruns" "the grid has a column per run ($nruns)"
	eq "$(q job 'td.cell')" "$((nruns * 4))" "and a cell per run and task, and the run's"
	want=""
	for part in $(runs_json flights_daily | jq -r '.[].partition'); do
		want="$want$("$MESHCTL" tasks flights_daily "$part" --json |
		    jq -r '(.tasks // .)[] | "\(.task) state-\(.state)"' | sort)
"
	done
	got=""
	for part in $(runs_json flights_daily | jq -r '.[].partition'); do
		got="$got$($PY - "$T/job.html" "$part" <<'PY' | sort
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def handle_starttag(self, t, a):
        d = dict(a)
        cl = d.get('class', '').split()
        if t == 'td' and 'cell' in cl and 'runcell' not in cl and \
                d.get('data-partition') == sys.argv[2]:
            print(d['data-task'], [c for c in cl if c.startswith('state-')][0])
P().feed(open(sys.argv[1]).read())
PY
)
"
	done
	eq "$got" "$want" "each cell's state is its task's in meshctl tasks --json"
	eq "$(q job "td.cell.state-failed[data-task=check][data-partition=$held]")" 1 \
	    "the quarantined day's check is failed"
	eq "$(q job "td.cell.state-upstream_failed[data-task=publish]")" 1 \
	    "and its publish upstream_failed"
	eq "$(q job 'form.action' data-action | tr '\n' ' ')" \
	    "trigger clear cancel backfill pause unpause " "the job's actions are there"
	[ -n "${UI_SCREENSHOT:-}" ] && timeout 60 "$CHROMIUM" --headless \
	    --no-sandbox --disable-gpu --user-data-dir="$T/chrome" \
	    --hide-scrollbars --window-size=1100,560 \
	    --screenshot="$UI_SCREENSHOT" "$base/ui/job?job=flights_daily" \
	    2>/dev/null &&
	    echo "# screenshot: $UI_SCREENSHOT"
fi

# ---- paging: pages of 4 back through history cover every run once
all=$(runs_json flights_daily | jq -r '.[].partition' | tr '\n' ' ')
seen=""
path="/ui/job?job=flights_daily&limit=4"
i=0
while [ -n "$path" ] && [ "$i" -lt 10 ]; do
	dump "$path" page || break
	seen="$seen$(q page th.run data-partition | tr '\n' ' ')"
	path=$(q page a.older href | sed 's/&amp;/\&/g')
	i=$((i + 1))
done
eq "$seen" "$all" "the older links page through all runs, newest first, once each"
eq "$i" "$(( ($(echo $all | wc -w) + 3) / 4 ))" "in pages of 4"

# ---- run page: the DAG as SVG, the tasks with their reasons
if dump "/ui/run?job=flights_daily&partition=$held" run; then
	ntasks=$("$MESHCTL" dag flights_daily --json | jq '.tasks | length')
	eq "$(q run 'svg.dag')" 1 "the run page draws its DAG"
	eq "$(q run 'g.node')" "$ntasks" "an SVG node per task ($ntasks)"
	eq "$(q run 'path.edge')" 2 "and an edge per dependency"
	eq "$(q run 'g.node.state-failed[data-node=check]')" 1 "check is drawn failed"
	eq "$(q run 'g.node.state-upstream_failed[data-node=publish]')" 1 \
	    "publish upstream_failed"
	eq "$(q run 'g.node' data-layer | tr '\n' ' ')" "0 1 2 " \
	    "extract, check, publish in layers by depth"
	eq "$(q run 'section.task')" "$ntasks" "a section per task"
	grep -qF 'quality check failed: max_delay' "$T/run.html" &&
	    ok "the failed check's reason is shown" || fail "no reason on the run page"
	if curl -sf "$base/api/v1/tasks?job=flights_daily&partition=$held" >"$T/tasks.json"; then
		eq "$(q run 'div.attempts')" "$(jq '[.tasks[] | select(.attempts | length > 0)] | length' "$T/tasks.json")" \
		    "each task that ran shows its attempts"
		eq "$(q run 'div.checks')" 1 "the check task shows its checks"
		eq "$(q run 'span.check-failed')" \
		    "$(jq '[.tasks[].checks[] | select(.passed == false)] | length' "$T/tasks.json")" \
		    "its failed check stands out"
		eq "$(q run 'span.check-passed')" \
		    "$(jq '[.tasks[].checks[] | select(.passed)] | length' "$T/tasks.json")" \
		    "beside the ones that passed"
	else
		missing "GET /api/v1/tasks: this build has no tasks question"
	fi
	if curl -sf "$base/api/v1/logs?job=flights_daily&partition=$held&task=check" >"$T/log.json"; then
		eq "$(q run 'pre.log')" 2 "the two tasks that ran show their logs"
		grep -qF 'meshd: attempt 1 failed: quality check failed: max_delay' "$T/run.html" &&
		    ok "the check's log says why it failed" || fail "the log is not on the run page"
	else
		missing "GET /api/v1/logs: this build has no logs question"
	fi
fi
rid=$(runs_json flights_daily | jq -r --arg p "$held" '.[] | select(.partition == $p) | .run_id')
if dump "/ui/run?run=$rid" byid; then
	eq "$(q byid 'g.node' class | tr '\n' ' ')" "$(q run 'g.node' class | tr '\n' ' ')" \
	    "run=$rid is the same run page"
	grep -qF "<h1>flights_daily $held</h1>" "$T/byid.html" &&
	    ok "and names its job and partition" || fail "run=$rid: no title"
fi
eq "$(curl -s -o /dev/null -w '%{http_code}' "$base/ui/run?run=99999999")" 404 \
    "an unknown run id is 404"
eq "$(curl -s -o /dev/null -w '%{http_code}' "$base/ui/run?run=x%3Cb%3E")" 400 \
    "a run id that is no number is 400"
if dump "/ui/run?job=analytics_daily&partition=$held" waiting; then
	grep -qF "waiting for ops.flights $held (quarantined)" "$T/waiting.html" &&
	    ok "the analytics day says it waits for the quarantined day" ||
	    fail "the analytics day's page does not say what it waits for"
	eq "$(q waiting 'g.node.state-none')" 3 "its tasks are drawn not yet run"
fi
if dump "/ui/run?job=airports&partition=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E" hostile; then
	eq "$(q hostile img)" 0 "a hostile partition's run page injects nothing"
	eq "$(q hostile 'g.node')" "$("$MESHCTL" dag airports --json | jq '.tasks | length')" \
	    "and draws its tasks"
fi
dump "/ui/run?job=nosuch&partition=x" nojob &&
    eq "$(q nojob 'p.error[data-status=404]')" 1 "an unknown job is a 404 page"
eq "$(curl -s -o /dev/null -w '%{http_code}' "$base/ui/run?job=nosuch&partition=x")" 404 \
    "with status 404"
eq "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$base/ui/static/app.css")" \
    "200 text/css; charset=utf-8" "the stylesheet is served from memory"
eq "$(curl -s -o /dev/null -w '%{http_code}' "$base/ui/static/../../../etc/passwd")" 404 \
    "nothing is served from disk"
eq "$(curl -s -o /dev/null -w '%{http_code}' "$base/ui/nope")" 404 "an unknown page is 404"
curl -s -D "$T/headers" -o /dev/null "$base/ui/job?job=flights_daily"
grep -qiF "content-security-policy: default-src 'self';" "$T/headers" &&
    grep -qiF "frame-ancestors 'none'" "$T/headers" &&
    ok "pages run only their own script and are never framed" ||
    fail "no Content-Security-Policy: $(cat "$T/headers")"

# ---- the data side
if curl -sf "$base/api/v1/catalog" >/dev/null; then
	if dump /ui/catalog catalog; then
		eq "$(q catalog "li.quarantined[data-product=ops.flights][data-partition=$held]")" 1 \
		    "the catalog lists the quarantined day"
		grep -qF max_delay "$T/catalog.html" &&
		    ok "with its failed check" || fail "the catalog does not name max_delay"
		eq "$(q catalog 'tr.product' data-product | sort | tr '\n' ' ')" \
		    "analytics.airport_delays geo.airports ops.flights " "the catalog lists the products"
	fi
else
	missing "GET /api/v1/catalog: this build has no catalog question"
fi
if curl -sf "$base/api/v1/product?product=ops.flights" >/dev/null; then
	if dump "/ui/product?product=ops.flights" product; then
		eq "$(q product "tr.partition.state-quarantined[data-partition=$held]")" 1 \
		    "the product page shows the quarantined day"
		eq "$(q product 'li.failed-check[data-check=max_delay]')" 1 \
		    "with its failed check"
		eq "$(q product 'svg.lineage')" 1 "the product page draws the lineage"
		q product 'g.node' data-node >"$T/nodes"
		grep -q '^ops.flights ' "$T/nodes" && grep -q '^analytics.airport_delays ' "$T/nodes" &&
		    ok "from ops.flights down to analytics" ||
		    { fail "lineage nodes: $(tr '\n' ',' <"$T/nodes")"; }
	fi
else
	missing "GET /api/v1/product: this build has no product question"
fi
if curl -sf "$base/api/v1/backfills" >/dev/null; then
	dump /ui/backfills backfills &&
	eq "$(q backfills 'tr.backfill[data-backfill=1][data-done=14][data-total=14]')" 1 \
	    "the backfill shows 14 of 14 done"
else
	missing "GET /api/v1/backfills: this build has no backfills question"
fi

# ---- actions: the page's own script, driven in chromium (tests/ui-cdp.py
# over the DevTools protocol), with the token typed in the page
timeout 90 $PY "$top_srcdir/tests/ui-cdp.py" "$CHROMIUM" "$T/cdp" \
    "$base/ui/job?job=flights_daily" submit=pause token=s3cret-token \
    submit=pause submit=unpause fill=trigger:partition=2001-01-03 \
    submit=trigger store=wrong submit=pause >"$T/cdp.out" 2>&1 ||
    fail "chromium could not drive the job page: $(tail -n 3 "$T/cdp.out")"
has "$T/cdp.out" "pause: answer err|enter the API token first" \
    "an action without a token asks for it, sending nothing"
has "$T/cdp.out" "token: token set" "the token typed in the page is kept"
if grep -qF 'not built into this meshd' "$T/cdp.out"; then
	missing "POST /api/v1/pause: this build has no write actions"
else
	grep -qE '^pause: answer\|pause: request [0-9]+ recorded' "$T/cdp.out" &&
	    ok "the pause form posts with the token and shows the request id" ||
	    fail "pause from the page: $(grep '^pause' "$T/cdp.out" | sed -n 2p)"
	grep -qE '^unpause: answer\|unpause: request [0-9]+ recorded' "$T/cdp.out" &&
	    ok "so does unpause" || fail "unpause from the page: $(grep '^unpause' "$T/cdp.out")"
	eq "$(sql "SELECT count(*) FROM requests WHERE kind IN ('pause', 'unpause')")" 2 \
	    "and meshctl's request rows are written"
	has "$T/cdp.out" "trigger: answer err|trigger: 409 partition 2001-01-03 of job flights_daily already succeeded" \
	    "a refused trigger shows the error"
	grep -qE '^pause: answer err\|pause: 40[13] ' "$T/cdp.out" &&
	    ok "a wrong token is refused, and the page says so" ||
	    fail "wrong token: $(grep '^pause' "$T/cdp.out" | tail -n 1)"
fi

stop_meshd
finish
