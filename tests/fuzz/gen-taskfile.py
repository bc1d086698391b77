#!/usr/bin/env python3
"""gen-taskfile.py -- write the seed files of corpus/taskfile/.

Each seed is a request or result file of a remote attempt (core/taskfile.h),
in the host's byte order (little-endian here, x86-64): magic, version,
body length, body, magic.  The target tries every input as a request file,
a result file and a result body, so the bodies are seeds too.
Run from tests/fuzz/: python3 gen-taskfile.py
"""
import os
import struct

TASK = 1
INT, DOUBLE, BOOL, STRING = 0, 1, 2, 3
OK, FAILED, RETRY, SKIPPED = 0, 1, 2, 3
ERROR, WARN = 0, 1


def s(v):
    if v is None:
        return struct.pack('<I', 0xffffffff)
    b = v.encode()
    return struct.pack('<I', len(b)) + b


def frame(magic, body):
    return magic + struct.pack('<IQ', 1, len(body)) + body + magic


def opts(workers=1, max_tasks=0, memory_mb=0, grace=5, hb=10,
         log_max=32 << 20, log_fails=0, task_max=16 << 20, empty_fails=0):
    return (struct.pack('<iiiii', workers, max_tasks, memory_mb, grace, hb)
            + struct.pack('<q', log_max) + struct.pack('<i', log_fails)
            + struct.pack('<q', task_max) + struct.pack('<i', empty_fails))


def task(attempt_id=13, job='flights_daily', task_id='extract',
         plugin='/usr/lib/meshd/plugins/flights.so', stage=0, attempt=1,
         key='2001-01-02', start=978393600000000, end=978480000000000,
         staging='/srv/staging/flights_daily/2001-01-02',
         attempt_dir='/srv/staging/flights_daily/2001-01-02/a13',
         log='/srv/logs/flights_daily/2001-01-02/extract.1.log',
         product=None, location=None, timeout=300000000, params=()):
    m = struct.pack('<I', TASK) + struct.pack('<q', attempt_id)
    m += s(job) + s(task_id) + s(plugin)
    m += struct.pack('<ii', stage, attempt) + s(key)
    m += struct.pack('<qq', start, end)
    m += s(staging) + s(attempt_dir) + s(log) + s(product) + s(location)
    m += struct.pack('<q', timeout) + struct.pack('<i', len(params))
    for k, t, i, d, sv in params:
        m += s(k) + struct.pack('<iqd', t, i, d) + s(sv)
    return m


def result(attempt_id=13, status=OK, retryable=0, infra=0, reason=None,
           message=None, started=1700000000000000, ended=1700000001000000,
           checks=(), metrics=()):
    b = struct.pack('<qiii', attempt_id, status, retryable, infra)
    b += s(reason) + s(message) + struct.pack('<qq', started, ended)
    b += struct.pack('<I', len(checks))
    for name, sev, passed, obs, exp, rec in checks:
        b += s(name) + struct.pack('<iid', sev, passed, obs) + s(exp)
        b += struct.pack('<q', rec)
    b += struct.pack('<I', len(metrics))
    for name, v in metrics:
        b += s(name) + struct.pack('<d', v)
    return b


RQ, RS = b'MSRQ', b'MSRS'
full = result(status=FAILED, retryable=1, reason='killed by signal 11 '
              '(SIGSEGV)', message='bad row 7',
              checks=[('rows_min', ERROR, 1, 150.0, '>= 100', 17),
                      ('late', WARN, 0, 0.4, None, 18)],
              metrics=[('rows', 150.0), ('bytes', 4096.0)])
seeds = {
    'request-minimal': frame(RQ, opts() + task(
        job=None, task_id=None, key=None, staging=None, attempt_dir=None,
        log=None, timeout=0)),
    'request-params': frame(RQ, opts(memory_mb=512, log_fails=1) + task(
        stage=1, attempt=3, params=[
            ('source', STRING, 0, 0.0, '/data/f.json'),
            ('min_rows', INT, 150, 0.0, None),
            ('ratio', DOUBLE, 0, 0.35, None),
            ('strict', BOOL, 1, 0.0, None)])),
    'request-truncated': frame(RQ, opts() + task())[:90],
    'result-ok': frame(RS, result(metrics=[('rows', 1.0)])),
    'result-failed-checks': frame(RS, full),
    'result-body': full,
    'result-truncated': frame(RS, full)[:70],
    'result-bad-trailer': frame(RS, full)[:-1] + b'T',
    'result-bad-status': frame(RS, result(status=9)),
    'result-huge-count': frame(RS, result()[:-8] + struct.pack(
        '<II', 0xffffffff, 0)),
}
os.makedirs('corpus/taskfile', exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join('corpus/taskfile', name), 'wb') as f:
        f.write(data)
