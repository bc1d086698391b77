#!/usr/bin/env python3
# alert-receiver.py PORT OUT TOKEN_FILE: a webhook receiver for
# e2e-alerts.sh on 127.0.0.1.  A POST whose "Authorization: Bearer ..."
# matches TOKEN_FILE's first line gets 200 and its body appended to OUT as
# one line; any other gets 401 and goes to OUT.rejected.
import http.server
import sys

port, out, token_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(token_file) as f:
            want = "Bearer " + f.readline().strip()
        good = self.headers.get("Authorization") == want and \
            self.headers.get("Content-Type") == "application/json"
        with open(out if good else out + ".rejected", "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200 if good else 401)
        self.end_headers()

    def log_message(self, *a):
        pass


http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
