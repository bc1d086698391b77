#!/usr/bin/python3
"""notify-listen.py MODE SOCKET OUT: stand in for systemd's end of a socket.

MODE notify: the sd_notify(3) protocol; SOCKET is a path or "@name" (the
abstract namespace), as NOTIFY_SOCKET gives it.  Each datagram becomes one
line of OUT: "<monotonic seconds> <sender pid> <message, lines joined by
|>".  The sender's pid comes from SCM_CREDENTIALS, as systemd takes it.

MODE journal: the journal's native protocol (/run/systemd/journal/socket):
each datagram becomes one JSON object of its fields on a line of OUT.

OUT.ready is created once the socket is bound.  Runs until killed.
"""
import json
import socket
import struct
import sys
import time


def journal_fields(data):
    """KEY=VALUE lines, or KEY\\n<le64 length><bytes>\\n for binary values."""
    fields = {}
    i = 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            v = data[nl + 9:nl + 9 + n]
            i = nl + 9 + n + 1
        fields[k.decode()] = v.decode(errors="replace")
    return fields


def main():
    mode, path, out = sys.argv[1:4]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + path[1:] if path.startswith("@") else path)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    open(out + ".ready", "w").close()
    with open(out, "a", buffering=1) as f:
        while True:
            msg, anc, _, _ = s.recvmsg(1 << 16, socket.CMSG_SPACE(12))
            pid = 0
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and \
                        kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", data[:12])[0]
            if mode == "journal":
                f.write(json.dumps(journal_fields(msg)) + "\n")
            else:
                f.write("%.3f %d %s\n" % (time.monotonic(), pid,
                        msg.decode(errors="replace").replace("\n", "|")))


main()
