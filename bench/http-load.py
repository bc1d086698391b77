#!/usr/bin/python3
# http-load.py -- the client side of `make bench-http` (bench-http.sh).
#
#   http-load.py measure HOST PORT N PATH
#	GET PATH N times on one keep-alive connection; prints the p50 and
#	p99 of the server's own time (its Server-Timing header) and of the
#	round trip, in ms.
#   http-load.py hammer MESHD CONF STATE_DB HOST PORT RATE PATH...
#	start the HTTP child (meshd --http) on CONF and STATE_DB by itself,
#	as meshd would, and GET the PATHs in turn at RATE requests a second
#	until SIGTERM; then stop the child and print what was sent.
import http.client
import os
import signal
import subprocess
import sys
import time


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p / 100))] if v else float("nan")


def get(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    t = r.getheader("Server-Timing") or ""
    dur = float(t.split("dur=")[1]) if "dur=" in t else float("nan")
    return r.status, body, dur


def measure(host, port, n, path):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    server, rtt, status = [], [], None
    get(conn, path)		# warm: the pool's connection, the page cache
    for _ in range(n):
        t0 = time.perf_counter()
        status, _, dur = get(conn, path)
        rtt.append((time.perf_counter() - t0) * 1000)
        server.append(dur)
    print("status=%d n=%d server_p50_ms=%.2f server_p99_ms=%.2f "
          "rtt_p50_ms=%.2f rtt_p99_ms=%.2f" % (status, n, pct(server, 50),
          pct(server, 99), pct(rtt, 50), pct(rtt, 99)))


stop = False


def on_term(sig, frm):
    global stop
    stop = True


def hammer(meshd, conf, db, host, port, rate, paths):
    rd, wr = os.pipe()
    while wr == 3 or rd < 3:	# keep fd 3 for the read end
        wr = os.dup(wr)
    if rd != 3:
        os.dup2(rd, 3, inheritable=True)
        os.close(rd)
    os.set_inheritable(3, True)
    child = subprocess.Popen([meshd, "--http", "-", conf, db], pass_fds=(3,),
                             stderr=subprocess.DEVNULL)
    os.close(3)
    signal.signal(signal.SIGTERM, on_term)
    sent = errors = 0
    conn = None
    start = time.monotonic()
    print("ready", flush=True)
    while not stop:
        due = start + sent / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
            continue
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=5)
            status, _, _ = get(conn, paths[sent % len(paths)])
            if status != 200:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn = None
            time.sleep(0.01)
        sent += 1
    os.close(wr)		# the child stops when the pipe closes
    child.wait(timeout=10)
    el = time.monotonic() - start
    print("hammer: %d requests in %.1f s (%.0f/s), %d not 200" %
          (sent, el, sent / el, errors), flush=True)


if sys.argv[1] == "measure":
    measure(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
elif sys.argv[1] == "hammer":
    hammer(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5],
           int(sys.argv[6]), float(sys.argv[7]), sys.argv[8:])
else:
    sys.exit("usage: http-load.py measure|hammer ...")
