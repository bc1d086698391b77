#!/usr/bin/env python3
"""gen-slurm-proto.py -- write the seed messages of corpus/slurm-proto/:
one of each type of core/slurm.h, in the host's byte order (x86-64).
Run from tests/fuzz/: python3 gen-slurm-proto.py
"""
import os
import struct


def s(v):
    if v is None:
        return struct.pack('<I', 0xffffffff)
    b = v.encode()
    return struct.pack('<I', len(b)) + b


def i32(*v):
    return struct.pack('<%di' % len(v), *v)


def i64(*v):
    return struct.pack('<%dq' % len(v), *v)


def t(n):
    return struct.pack('<I', n)


SEEDS = {
    'config': t(100) + s('hpc') + i32(0) + s('debug') + t(2) + s('--account=x') +
    s('--qos=low') + s('/usr/bin/meshd-worker') + s('/srv/spool/hpc') + s(None) +
    i32(1000, 1000, 0, 0, 3600, 1, 60) + s(None) + s(None) + i32(5),
    'config-pilot': t(100) + s('burst') + i32(1) + s(None) + t(0) + s(None) +
    s('/srv/spool') + s('1:00:00') + i32(10, 250, 30, 4, 3600, 2, 60) +
    s('10.0.0.1:7450') + s('/etc/meshd/pilot-secret') + i32(5),
    'submit': t(101) + i64(42) + s('meshd-42') + i32(0) + s('/st/a/42') + s('flights') +
    i64(30000000) + i32(512),
    'flush': t(102),
    'adopt': t(103) + i64(43) + s('meshd-42') + i32(1) + s('1234_1') + s('/st/a/43') +
    i64(0) + i32(0),
    'adopt-noid': t(103) + i64(44) + s('meshd-44') + i32(0) + s(None) + s('/st/a/44') +
    i64(0) + i32(0),
    'cancel': t(104) + i64(42) + s('cancelled by operator'),
    'exit': t(105),
    'update': t(120) + i64(42) + s('1234_5') + s('RUNNING'),
    'done-file': t(121) + i64(42) + i32(1, 0, 0, 0) + s(None) + i64(0, 0),
    'done-failed': t(121) + i64(42) + i32(0, 1, 1, 1) +
    s('slurm: NODE_FAIL: node n1 failed') + i64(1, 2),
    'counts': t(122) + i32(10, 2, 0, 0) + s('Unable to contact slurm controller'),
    'counts-ok': t(122) + i32(0, 0, 0, 0) + s(None),
}

os.makedirs('corpus/slurm-proto', exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join('corpus/slurm-proto', name), 'wb') as f:
        f.write(data)
