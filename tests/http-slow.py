#!/usr/bin/python3
# http-slow.py HOST PORT N SECONDS: open N connections to the HTTP child,
# send half a request on each and hold them open for SECONDS, as a slow
# (or hostile) client would; prints "ready" once all are open, then, after
# SECONDS, "closed K": how many of them the server had closed by then.
# Used by tests/e2e-http.sh: meanwhile other clients must be answered at
# once, and the server must drop idle ones after its timeout.
import socket
import sys
import time

host, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    float(sys.argv[4])
socks = []
for i in range(n):
    s = socket.create_connection((host, port))
    # Headers never finished: no blank line.
    s.sendall(b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    socks.append(s)
print("ready", flush=True)
time.sleep(secs)
closed = 0
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(4096) == b"":
            closed += 1
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
    s.close()
print("closed %d" % closed, flush=True)
