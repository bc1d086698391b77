#!/usr/bin/python3
# http-slow.py HOST PORT N SECONDS: open N connections to the HTTP child,
# send half a request on each and hold them open for SECONDS, as a slow
# (or hostile) client would; prints "ready" once all are open.  Used by
# tests/e2e-http.sh: meanwhile other clients must be answered at once.
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
for s in socks:
    s.close()
