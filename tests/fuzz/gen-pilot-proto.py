#!/usr/bin/env python3
"""gen-pilot-proto.py -- write the seeds of corpus/pilot-proto/.

Each file is a stream of frames as one end of a pilot connection sends it
(core/pilot-proto.h): a big-endian u32 length, then the message: its type
and fields in the host's byte order (little-endian here, x86-64).
Run from tests/fuzz/: python3 gen-pilot-proto.py
"""
import os
import struct

CHALLENGE, TASK, CANCEL, RELEASE, WELCOME = 200, 201, 202, 203, 204
HELLO, STARTED, HEARTBEAT, DONE = 220, 221, 222, 223
MAGIC, VERSION = 0x4d53504c, 1


def s(v):
    if v is None:
        return struct.pack('<I', 0xffffffff)
    b = v.encode()
    return struct.pack('<I', len(b)) + b


def msg(t, body=b''):
    m = struct.pack('<I', t) + body
    return struct.pack('>I', len(m)) + m


def ids(v):
    return struct.pack('<I', len(v)) + b''.join(struct.pack('<q', i) for i in v)


nonce = bytes(range(32))
mac = bytes(range(32, 64))
seeds = {
    'pool-session': msg(CHALLENGE, struct.pack('<ii', MAGIC, VERSION) + nonce)
    + msg(WELCOME)
    + msg(TASK, struct.pack('<q', 17) + s('/var/lib/meshd/staging/j/2001-01-02/a17'))
    + msg(CANCEL, struct.pack('<q', 17) + s('cancelled by alice'))
    + msg(CANCEL, struct.pack('<q', 18) + s(None))
    + msg(RELEASE),
    'pilot-session': msg(HELLO, mac + s('1234') + struct.pack('<i', 4)
                         + ids([5, 6]) + ids([7]))
    + msg(STARTED, struct.pack('<q', 17))
    + msg(HEARTBEAT)
    + msg(DONE, struct.pack('<qi', 17, 1) + s(None))
    + msg(DONE, struct.pack('<qi', 18, 0) + s('pilot 1234: disk full')),
    'hello-empty': msg(HELLO, mac + s('-') + struct.pack('<i', 1) + ids([]) + ids([])),
    'oversize': struct.pack('>I', 0x7fffffff) + b'x' * 8,
    'cut': msg(TASK, struct.pack('<q', 17) + s('/a/b'))[:-2],
}

os.makedirs('corpus/pilot-proto', exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join('corpus/pilot-proto', name), 'wb') as f:
        f.write(data)
