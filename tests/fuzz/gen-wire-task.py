#!/usr/bin/env python3
"""gen-wire-task.py -- write the seed TASK messages of corpus/wire-task/.

Each file is one message as the supervisor sends it (core/wire.h): the type,
then the fields in the host's byte order (little-endian here, x86-64).
Run from tests/fuzz/: python3 gen-wire-task.py
"""
import os
import struct

TASK, EXIT = 1, 2
INT, DOUBLE, BOOL, STRING = 0, 1, 2, 3
NULL = None


def s(v):
    if v is None:
        return struct.pack('<I', 0xffffffff)
    b = v.encode()
    return struct.pack('<I', len(b)) + b


def task(attempt_id=1, job='flights_daily', task_id='extract',
         plugin='/usr/lib/meshd/plugins/flights.so', stage=0, attempt=1,
         key='2001-01-02', start=978393600000000, end=978480000000000,
         staging='/var/lib/meshd/staging/flights_daily/2001-01-02',
         attempt_dir='/var/lib/meshd/staging/flights_daily/2001-01-02/a1',
         log='/var/log/meshd/flights_daily/2001-01-02/extract.1.log',
         product='ops.flights', location=None, timeout=300000000,
         params=()):
    m = struct.pack('<I', TASK) + struct.pack('<q', attempt_id)
    m += s(job) + s(task_id) + s(plugin)
    m += struct.pack('<ii', stage, attempt) + s(key)
    m += struct.pack('<qq', start, end)
    m += s(staging) + s(attempt_dir) + s(log) + s(product) + s(location)
    m += struct.pack('<q', timeout) + struct.pack('<i', len(params))
    for k, t, i, d, sv in params:
        m += s(k) + struct.pack('<iqd', t, i, d) + s(sv)
    return m


seeds = {
    'minimal': task(job=None, task_id=None, key=None, staging=None,
                    attempt_dir=None, log=None, product=None, timeout=0),
    'extract': task(params=[('source', STRING, 0, 0.0, '/data/f.json'),
                            ('min_rows', INT, 150, 0.0, None),
                            ('max_late_share', DOUBLE, 0, 0.35, None),
                            ('strict', BOOL, 1, 0.0, None)]),
    'publish': task(task_id='publish', stage=2, attempt=3,
                    location='/srv/ops/flights', params=[
                        ('warehouse', STRING, 0, 0.0, '/var/lib/w.db')]),
    'unscheduled': task(key='current', start=0, end=0),
    'truncated': task()[:60],
    'bad-param-type': task(params=[('k', 9, 0, 0.0, None)]),
    'exit': struct.pack('<I', EXIT),
}
os.makedirs('corpus/wire-task', exist_ok=True)
for name, msg in seeds.items():
    with open(os.path.join('corpus/wire-task', name), 'wb') as f:
        f.write(msg)
