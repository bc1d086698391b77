#!/usr/bin/python3
"""ui-cdp.py -- drive a page of the web UI in headless chromium through
the DevTools protocol (no library: a minimal WebSocket client), to test
what --dump-dom cannot: the page's own script posting an action with the
token the user typed.

usage: ui-cdp.py CHROMIUM PROFILE_DIR URL STEP...
A STEP is one of
    token=VALUE          type VALUE in the token box and submit it
    store=VALUE          put VALUE in sessionStorage as the token directly
    submit=ACTION        submit the page's form.action[data-action=ACTION]
    fill=ACTION:NAME=V   set field NAME of that form to V
Each submit prints "ACTION: CLASS|TEXT" of the answer box (or timeout);
token prints "token: " and what the page says about it.  Exits 1 if
chromium does not start or the page does not load.
"""
import base64
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.request


class WS:
    def __init__(self, url):
        m = re.match(r'ws://([^:/]+):(\d+)(/.*)', url)
        self.s = socket.create_connection((m.group(1), int(m.group(2))),
                                          timeout=20)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(('GET %s HTTP/1.1\r\nHost: %s:%s\r\n'
                        'Upgrade: websocket\r\nConnection: Upgrade\r\n'
                        'Sec-WebSocket-Key: %s\r\n'
                        'Sec-WebSocket-Version: 13\r\n\r\n' %
                        (m.group(3), m.group(1), m.group(2), key)).encode())
        head = b''
        while b'\r\n\r\n' not in head:
            c = self.s.recv(1)
            if not c:
                raise IOError('websocket handshake: connection closed')
            head += c
        if b' 101 ' not in head.split(b'\r\n')[0]:
            raise IOError('websocket handshake: %r' % head[:80])
        self.n = 0

    def _recvn(self, n):
        b = b''
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise IOError('websocket closed')
            b += c
        return b

    def send(self, text):
        data = text.encode()
        hdr = bytes([0x81])
        if len(data) < 126:
            hdr += bytes([0x80 | len(data)])
        elif len(data) < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack('>H', len(data))
        else:
            hdr += bytes([0x80 | 127]) + struct.pack('>Q', len(data))
        mask = os.urandom(4)
        self.s.sendall(hdr + mask +
                       bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self):
        msg = b''
        while True:
            b0, b1 = self._recvn(2)
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack('>H', self._recvn(2))[0]
            elif n == 127:
                n = struct.unpack('>Q', self._recvn(8))[0]
            payload = self._recvn(n)
            op = b0 & 0x0f
            if op == 8:
                raise IOError('websocket closed by chromium')
            if op in (9, 10):
                continue
            msg += payload
            if b0 & 0x80:
                return msg.decode()

    def call(self, method, **params):
        self.n += 1
        self.send(json.dumps({'id': self.n, 'method': method,
                              'params': params}))
        while True:
            r = json.loads(self.recv())
            if r.get('id') == self.n:
                return r

    def js(self, expr):
        r = self.call('Runtime.evaluate', expression=expr,
                      awaitPromise=True, returnByValue=True)
        return r.get('result', {}).get('result', {}).get('value')


ANSWER = r'''new Promise(function (res) {
  var t0 = Date.now();
  (function poll() {
    var a = document.getElementById('answer');
    if (a && !a.hidden && a.textContent) res(a.className + '|' + a.textContent);
    else if (Date.now() - t0 > 8000) res('timeout');
    else setTimeout(poll, 50);
  })();
})'''


def main():
    chromium, profile, url = sys.argv[1:4]
    p = subprocess.Popen([chromium, '--headless', '--no-sandbox',
                          '--disable-gpu', '--user-data-dir=' + profile,
                          '--remote-debugging-port=0', 'about:blank'],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        port = None
        t0 = time.time()
        while time.time() - t0 < 30:
            line = p.stderr.readline().decode(errors='replace')
            if not line and p.poll() is not None:
                break
            m = re.search(r'DevTools listening on ws://[^:]+:(\d+)/', line)
            if m:
                port = m.group(1)
                break
        if port is None:
            print('chromium did not start')
            return 1
        req = urllib.request.Request(
            'http://127.0.0.1:%s/json/new?%s' % (port, url), method='PUT')
        target = json.load(urllib.request.urlopen(req, timeout=20))
        ws = WS(target['webSocketDebuggerUrl'])
        ws.call('Runtime.enable')
        t0 = time.time()
        while ws.js("document.readyState == 'complete' && "
                    "document.documentElement.getAttribute('data-js')") != '1':
            if time.time() - t0 > 20:
                print('the page did not load: %s' % url)
                return 1
            time.sleep(0.1)
        for step in sys.argv[4:]:
            what, _, arg = step.partition('=')
            if what == 'token':
                ws.js("document.getElementById('token').value = %s;"
                      "document.getElementById('token-form').requestSubmit();"
                      % json.dumps(arg))
                print('token: %s' % ws.js(
                    "document.getElementById('token-state').textContent"))
            elif what == 'store':
                ws.js("sessionStorage.setItem('meshd-token', %s)" %
                      json.dumps(arg))
            elif what == 'fill':
                act, _, kv = arg.partition(':')
                k, _, v = kv.partition('=')
                ws.js("document.querySelector('form.action[data-action=%s] "
                      "[name=%s]').value = %s" % (act, k, json.dumps(v)))
            elif what == 'submit':
                ws.js("var a = document.getElementById('answer');"
                      "a.hidden = true; a.textContent = '';"
                      "document.querySelector('form.action[data-action=%s]')"
                      ".requestSubmit();" % arg)
                print('%s: %s' % (arg, ws.js(ANSWER)))
        return 0
    finally:
        p.kill()
        p.wait()


if __name__ == '__main__':
    sys.exit(main())
