#!/usr/bin/python3
"""slurm-drive.py -- drive the Slurm agent (tests/slurm-agent-run) as meshd
would, over a socketpair(AF_UNIX, SOCK_SEQPACKET) given as descriptor 3,
against a real Slurm, and check what it answers.

    slurm-drive.py AGENT WORKDIR

Run by tests/e2e-slurm-agent.sh once the cluster is up (SLURM_CONF set).
The scenarios run side by side (job mode costs about a second per job on
Slurm's 1 Hz tick): each is a thread that fails with a message; the script
exits 1 if any failed.  The fake worker (WORKDIR/worker) reads what to do
from <attempt_dir>/mode.
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback

CONFIG, SUBMIT, FLUSH, ADOPT, CANCEL, EXIT = 100, 101, 102, 103, 104, 105
UPDATE, DONE, COUNTS = 120, 121, 122

AGENT = sys.argv[1]
WORK = sys.argv[2]
REAL_PATH = os.environ["PATH"]
failures = []
flock = threading.Lock()


def s_str(s):
    if s is None:
        return struct.pack("<I", 0xFFFFFFFF)
    b = s.encode()
    return struct.pack("<I", len(b)) + b


def r_str(b, off):
    (n,) = struct.unpack_from("<I", b, off)
    off += 4
    if n == 0xFFFFFFFF:
        return None, off
    return b[off:off + n].decode(), off + n


class Agent:
    """One agent process and what it said."""

    def __init__(self, name, path, env_extra=None):
        self.name = name
        self.msgs = []
        self.cv = threading.Condition()
        self.spawn(name, path, env_extra)
        self.t = threading.Thread(target=self.reader, daemon=True)
        self.t.start()

    def spawn(self, name, path, env_extra):
        # The agent serves descriptor 3: sh moves the socket there, so
        # that this (threaded) process never touches its own fd 3.
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(os.environ)
        env["PATH"] = path
        env.update(env_extra or {})
        self.errpath = os.path.join(WORK, "agent-%s.err" % name)
        self.err = open(self.errpath, "ab")
        fd = b.fileno()
        self.proc = subprocess.Popen(
            ["/bin/bash", "-c", 'exec "$0" 3<&%d %d<&-' % (fd, fd), AGENT],
            pass_fds=(fd,), env=env, stdin=subprocess.DEVNULL,
            stderr=self.err)
        b.close()
        self.sock = a

    def reader(self):
        while True:
            try:
                b = self.sock.recv(1 << 20)
            except OSError:
                b = b""
            if not b:
                with self.cv:
                    self.msgs.append(("EOF",))
                    self.cv.notify_all()
                return
            (t,) = struct.unpack_from("<I", b, 0)
            off = 4
            if t == UPDATE:
                (aid,) = struct.unpack_from("<q", b, off)
                off += 8
                ext, off = r_str(b, off)
                st, off = r_str(b, off)
                m = ("UPDATE", aid, ext, st)
            elif t == DONE:
                aid, hf, status, retry, infra = struct.unpack_from("<qiiii", b, off)
                off += 24
                reason, off = r_str(b, off)
                off += 16
                m = ("DONE", aid, hf, status, retry, infra, reason)
            elif t == COUNTS:
                q, r, p, pb = struct.unpack_from("<iiii", b, off)
                off += 16
                err, off = r_str(b, off)
                m = ("COUNTS", q, r, p, pb, err)
            else:
                m = ("?", t)
            if off != len(b):
                m = ("BAD", t, len(b), off)
            with self.cv:
                self.msgs.append(m)
                self.cv.notify_all()

    def send(self, b):
        self.sock.send(b)

    def config(self, partition=None, max_jobs=100, time_limit=None,
               start_timeout=0, spool=None, mode=0, args=(), worker=None,
               pilots=0, pilot_slots=0, listen=None, secret=None):
        b = struct.pack("<I", CONFIG) + s_str(self.name) + struct.pack("<i", mode)
        b += s_str(partition) + struct.pack("<I", len(args))
        for a in args:
            b += s_str(a)
        b += s_str(worker or os.path.join(WORK, "worker"))
        b += s_str(spool or os.path.join(WORK, "spool", self.name))
        b += s_str(time_limit)
        b += struct.pack("<iiiiiii", max_jobs, 200, start_timeout, pilots,
                         600, pilot_slots, 5)
        b += s_str(listen) + s_str(secret) + struct.pack("<i", 5)
        self.send(b)

    def submit(self, aid, job, index, mode, timeout_us=0, memory_mb=0):
        d = attempt_dir(aid, mode)
        self.send(struct.pack("<Iq", SUBMIT, aid) + s_str(job) +
                  struct.pack("<i", index) + s_str(d) + s_str("g") +
                  struct.pack("<qi", timeout_us, memory_mb))

    def adopt(self, aid, job, index, ext=None):
        d = os.path.join(WORK, "att", str(aid))
        self.send(struct.pack("<Iq", ADOPT, aid) + s_str(job) +
                  struct.pack("<i", index) + s_str(ext) + s_str(d) +
                  struct.pack("<qi", 0, 0))

    def flush(self):
        self.send(struct.pack("<I", FLUSH))

    def cancel(self, aid, why):
        self.send(struct.pack("<Iq", CANCEL, aid) + s_str(why))

    def exit(self):
        self.send(struct.pack("<I", EXIT))

    def wait(self, pred, timeout, what):
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                for m in self.msgs:
                    if pred(m):
                        return m
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError("%s: no %s within %ds; got %s" % (
                        self.name, what, timeout, self.msgs[-12:]))
                self.cv.wait(left)

    def done(self, aid, timeout=60):
        return self.wait(lambda m: m[0] == "DONE" and m[1] == aid, timeout,
                         "DONE for %d" % aid)

    def update(self, aid, state, timeout=60):
        return self.wait(lambda m: m[0] == "UPDATE" and m[1] == aid and
                         m[3] == state, timeout, "UPDATE %s for %d" % (state, aid))

    def all(self, kind, aid=None):
        with self.cv:
            return [m for m in self.msgs if m[0] == kind and
                    (aid is None or m[1] == aid)]

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        try:
            self.exit()
        except OSError:
            pass
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("%s: did not exit on EXIT" % self.name)
        # Exit 0, and nothing from the sanitizers in a sanitizer build.
        with open(self.errpath) as f:
            err = f.read()
        if rc != 0 or "Sanitizer" in err or "runtime error" in err:
            raise AssertionError("%s: exit %d on EXIT:\n%s" % (
                self.name, rc, err[-3000:]))


def attempt_dir(aid, mode):
    d = os.path.join(WORK, "att", str(aid))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "request"), "w") as f:
        f.write("request of %d\n" % aid)
    with open(os.path.join(d, "mode"), "w") as f:
        f.write(mode + "\n")
    return d


def sbatch_calls(shimlog, name):
    try:
        with open(shimlog) as f:
            return [l for l in f if ("--job-name=%s " % name) in l]
    except FileNotFoundError:
        return []


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def have_file(m):
    check(m[2] == 1, "attempt %d: DONE without a result file: %r" % (m[1], m))


def failed_with(m, text, retry=None):
    check(m[2] == 0, "attempt %d: DONE with a file, wanted a failure: %r" % (m[1], m))
    check(m[6] is not None and text in m[6],
          "attempt %d: reason %r, wanted %r" % (m[1], m[6], text))
    if retry is not None:
        check(m[4] == retry, "attempt %d: retryable %d, wanted %d" % (m[1], m[4], retry))


def once(ag, aid):
    n = len(ag.all("DONE", aid))
    check(n == 1, "%s: attempt %d ended %d times" % (ag.name, aid, n))


SHIM = os.path.join(WORK, "shim")
SHIMLOG = os.path.join(WORK, "sbatch.log")
SHIM_PATH = SHIM + ":" + REAL_PATH


def scenario_main(with_timeout):
    """Single job, array of 20 (one sbatch), outside scancel, CANCEL,
    signal, exit status, CANCEL before FLUSH, TIMEOUT."""
    ag = Agent("main", SHIM_PATH)
    try:
        ag.config(time_limit="1")
        ag.submit(1, "meshd-1", 0, "ok")
        for i in range(20):
            ag.submit(101 + i, "meshd-101", i, "ok")
        ag.submit(2, "meshd-2", 0, "sleep")
        ag.submit(3, "meshd-3", 0, "sleep")
        ag.submit(4, "meshd-4", 0, "segv")
        ag.submit(5, "meshd-5", 0, "exit 3")
        if with_timeout:
            ag.submit(7, "meshd-7", 0, "sleep")
        ag.flush()
        # Submitted but not flushed: a CANCEL ends it at once, unsent.
        ag.submit(6, "meshd-6", 0, "ok")
        ag.cancel(6, "cancelled before it was sent")
        failed_with(ag.done(6, 10), "cancelled before it was sent", 0)
        have_file(ag.done(1))
        for i in range(20):
            have_file(ag.done(101 + i))
        calls = sbatch_calls(SHIMLOG, "meshd-101")
        check(len(calls) == 1 and "--array=0-19" in calls[0],
              "array of 20: sbatch calls %r" % calls)
        u = ag.update(2, "RUNNING")
        subprocess.run(["scancel", u[2]], check=True)
        failed_with(ag.done(2), "cancelled outside meshd", 0)
        ag.update(3, "RUNNING")
        ag.cancel(3, "cancelled by operator")
        m = ag.done(3)
        failed_with(m, "cancelled by operator", 0)
        check(m[6] == "cancelled by operator", "CANCEL: reason %r" % m[6])
        failed_with(ag.done(4), "meshd-worker killed by signal 11 (SIGSEGV) "
                    "before writing a result (see ", 1)
        failed_with(ag.done(5), "meshd-worker exited with status 3 before "
                    "writing a result (see ", 1)
        check(sbatch_calls(SHIMLOG, "meshd-6") == [], "meshd-6 was submitted")
        if with_timeout:
            failed_with(ag.done(7, 150), "slurm: TIMEOUT: the job ran over its "
                        "time limit (--time=1)", 1)
        for aid in [1, 2, 3, 4, 5, 6] + list(range(101, 121)):
            once(ag, aid)
        # COUNTS follows the DONEs of a step.
        last = max(i for i, m in enumerate(ag.msgs) if m[0] == "DONE")
        end = time.monotonic() + 10
        while not any(m[0] == "COUNTS" and m[1:3] == (0, 0)
                      for m in ag.msgs[last + 1:]):
            check(time.monotonic() < end, "no COUNTS 0 queued, 0 running "
                  "after the last DONE: %r" % ag.msgs[last:])
            time.sleep(0.1)
        check(not ag.all("BAD"), "malformed messages: %r" % ag.all("BAD"))
    finally:
        ag.stop()


def scenario_partition():
    ag = Agent("badpart", SHIM_PATH)
    try:
        ag.config(partition="nosuch")
        ag.submit(301, "meshd-301", 0, "ok")
        ag.submit(302, "meshd-302", 0, "ok")
        ag.submit(303, "meshd-302", 1, "ok")
        ag.flush()
        for aid in (301, 302, 303):
            failed_with(ag.done(aid, 30), "sbatch: error: invalid partition "
                        "specified: nosuch", 0)
    finally:
        ag.stop()


def scenario_no_sbatch():
    empty = os.path.join(WORK, "empty-bin")
    os.makedirs(empty, exist_ok=True)
    ag = Agent("nosbatch", empty)
    try:
        ag.config()
        ag.submit(401, "meshd-401", 0, "ok")
        ag.flush()
        failed_with(ag.done(401, 10), "sbatch: not found in PATH (PATH=%s)" % empty, 0)
    finally:
        ag.stop()
    with open(ag.errpath) as f:
        err = f.read()
    check(err.count("not found in PATH") == 1,
          "nosbatch: stderr should say it once: %r" % err)


def scenario_transient():
    """The controller does not answer the first sbatch: COUNTS carries the
    error, the batch is retried, and the error clears."""
    shim = os.path.join(WORK, "flaky")
    ag = Agent("flaky", shim + ":" + REAL_PATH)
    try:
        ag.config()
        ag.submit(501, "meshd-501", 0, "ok")
        ag.flush()
        ag.wait(lambda m: m[0] == "COUNTS" and m[5] and
                "Unable to contact slurm controller" in m[5], 20,
                "COUNTS with the controller's error")
        have_file(ag.done(501))
        c = ag.all("COUNTS")
        check(c[-1][5] is None, "error not cleared: %r" % (c[-1],))
        with open(os.path.join(WORK, "flaky.count")) as f:
            check(f.read().count("x") == 2, "flaky: sbatch not called twice")
        once(ag, 501)
    finally:
        ag.stop()


def scenario_adopt():
    """kill -9 of the agent mid-run; the next one adopts by name and by id:
    nothing is submitted twice, nothing ends twice."""
    # The same executor restarted: the same spool.  A job found by name
    # is believed only if it writes there (another meshd has its own
    # meshd-201).
    spool = os.path.join(WORK, "spool", "adopt")
    a1 = Agent("adopt1", SHIM_PATH)
    a1.config(spool=spool)
    a1.submit(201, "meshd-201", 0, "sleepok 8")
    a1.submit(202, "meshd-202", 0, "ok")
    a1.submit(205, "meshd-205", 0, "sleepok 8")
    for i in range(3):
        a1.submit(210 + i, "meshd-210", i, "sleepok 8")
    a1.flush()
    u201 = a1.update(201, "RUNNING")
    u205 = a1.update(205, "RUNNING")
    a1.update(212, "RUNNING")
    for aid in (202,):
        # the job of 202 ends on its own; wait for its result file
        end = time.monotonic() + 30
        while not os.path.exists(os.path.join(WORK, "att", str(aid), "result")):
            check(time.monotonic() < end, "202 never wrote its result")
            time.sleep(0.1)
    a1.kill9()
    check(not os.path.exists(os.path.join(WORK, "att", "201", "result")),
          "201 finished before the kill: the test is too slow")
    # 203: recorded but never submitted; 204: started, then its job
    # vanished without a result.
    attempt_dir(203, "ok")
    d = attempt_dir(204, "ok")
    open(os.path.join(d, "started"), "w").close()
    # Another executor's spool first: it must not take 201's job for its
    # own (it finds none, and submits its own attempt, which is what a
    # meshd that never ran 201 would do).
    a3 = Agent("other", SHIM_PATH)
    try:
        a3.config()
        a3.adopt(201, "meshd-201", 0)
        m = a3.wait(lambda m: m[0] in ("UPDATE", "DONE") and m[1] == 201,
                    20, "word of 201 (other spool)")
        if m[0] == "UPDATE":
            check(m[2] != u201[2], "another spool adopted 201's job %r" %
                  m[2])
            a3.cancel(201, "test over")
        else:
            check(m[2] == 0, "another spool read 201's result")
    finally:
        a3.stop()
    n201 = len(sbatch_calls(SHIMLOG, "meshd-201"))
    a2 = Agent("adopt2", SHIM_PATH)
    try:
        a2.config(spool=spool)
        a2.adopt(201, "meshd-201", 0)
        a2.adopt(202, "meshd-202", 0)
        a2.adopt(203, "meshd-203", 0)
        a2.adopt(204, "meshd-204", 0)
        a2.adopt(205, "meshd-205", 0, u205[2])
        for i in range(3):
            a2.adopt(210 + i, "meshd-210", i)
        m = a2.wait(lambda m: m[0] == "UPDATE" and m[1] == 201, 20, "UPDATE of 201")
        check(m[2] == u201[2], "201 adopted as %r, was %r" % (m[2], u201[2]))
        for aid in (201, 202, 203, 205, 210, 211, 212):
            have_file(a2.done(aid))
        failed_with(a2.done(204), "the Slurm job left the queue without a result", 1)
        for i in range(3):
            u = a2.all("UPDATE", 210 + i)
            check(u and u[0][2].endswith("_%d" % i),
                  "array element %d adopted as %r" % (i, u[:1]))
        for name, n in (("meshd-201", n201), ("meshd-202", 1), ("meshd-203", 1),
                        ("meshd-204", 0), ("meshd-205", 1), ("meshd-210", 1)):
            calls = sbatch_calls(SHIMLOG, name)
            check(len(calls) == n, "%s submitted %d times, wanted %d" % (
                name, len(calls), n))
        for aid in (201, 202, 203, 204, 205, 210, 211, 212):
            once(a2, aid)
    finally:
        a2.stop()


def scenario_hung():
    """sbatch hangs past the bound after the controller took the job: the
    agent keeps reading its socket, then finds the job by name instead of
    submitting it again."""
    shim = os.path.join(WORK, "slow")
    ag = Agent("hung", shim + ":" + REAL_PATH,
               {"MESHD_SLURM_CLI_TIMEOUT_MS": "1500"})
    try:
        ag.config()
        ag.submit(601, "meshd-601", 0, "ok")
        ag.flush()
        ag.submit(602, "meshd-602", 0, "ok")
        time.sleep(0.3)         # inside the hung sbatch
        ag.cancel(602, "cancelled while sbatch hung")
        failed_with(ag.done(602, 10), "cancelled while sbatch hung", 0)
        ag.wait(lambda m: m[0] == "COUNTS" and m[5] and "timed out" in m[5],
                20, "COUNTS with the time-out")
        have_file(ag.done(601, 60))
        with open(os.path.join(WORK, "slow.log")) as f:
            n = f.read().count("--job-name=meshd-601 ")
        check(n == 1, "meshd-601 submitted %d times" % n)
        once(ag, 601)
    finally:
        ag.stop()


def scenario_max_jobs():
    """Never more than max_jobs attempts in Slurm at once."""
    ag = Agent("maxjobs", SHIM_PATH)
    try:
        ag.config(max_jobs=2)
        for i in range(5):
            ag.submit(701 + i, "meshd-%d" % (701 + i), 0, "sleepok 2")
        ag.flush()
        for i in range(5):
            have_file(ag.done(701 + i, 90))
        live, peak = set(), 0
        for m in list(ag.msgs):
            if m[0] == "UPDATE" and m[3] == "PENDING":
                live.add(m[1])
            elif m[0] == "DONE":
                live.discard(m[1])
            peak = max(peak, len(live))
        check(peak == 2, "max_jobs=2: %d attempts in Slurm at once" % peak)
    finally:
        ag.stop()


def scenario_start_timeout():
    """A job held in the queue past start_timeout is cancelled: "never
    started"."""
    ag = Agent("held", SHIM_PATH)
    try:
        ag.config(start_timeout=2, args=("--hold",))
        ag.submit(801, "meshd-801", 0, "ok")
        ag.flush()
        m = ag.done(801, 30)
        failed_with(m, "never started: pending for ", None)
        check("(JobHeldUser)" in m[6], "start timeout: reason %r" % m[6])
    finally:
        ag.stop()


def scenario_pilot():
    """Pilot mode: 30 attempts of a real plugin run on at most 2 pilot
    jobs (2 slots each) that the agent submits with sbatch; each ends
    with its result file, once."""
    secret = os.path.join(WORK, "pilot-secret")
    with open(secret, "w") as f:
        f.write("a shared secret for the pilots\n")
    os.chmod(secret, 0o600)
    ag = Agent("pilot", SHIM_PATH)
    try:
        ag.config(mode=1, worker=AGENT, pilots=2, pilot_slots=2,
                  listen="127.0.0.1:0", secret=secret)
        for i in range(30):
            aid = 901 + i
            d = os.path.join(WORK, "att", str(aid))
            os.makedirs(d, exist_ok=True)
            subprocess.run([AGENT, "--request", d, str(aid),
                            os.environ["PLUGIN_OK"]], check=True)
            ag.send(struct.pack("<Iq", SUBMIT, aid) + s_str("meshd-%d" % aid) +
                    struct.pack("<i", 0) + s_str(d) + s_str("g") +
                    struct.pack("<qi", 0, 0))
        ag.flush()
        for i in range(30):
            have_file(ag.done(901 + i, 90))
            once(ag, 901 + i)
        with open(SHIMLOG) as f:
            n = sum(1 for l in f if "--job-name=meshd-pilot-pilot-" in l)
        check(1 <= n <= 2, "%d pilot jobs submitted for pilots=2" % n)
        u = ag.all("UPDATE", 901)
        check(u and u[0][3] == "RUNNING" and u[0][2].isdigit(),
              "pilot attempt UPDATE: %r" % u[:1])
        check(any(m[3] > 0 for m in ag.all("COUNTS")),
              "no COUNTS with pilots > 0")
        # scancel of a pilot's job fails the attempt it runs, with why.
        d = os.path.join(WORK, "att", "950")
        os.makedirs(d, exist_ok=True)
        subprocess.run([AGENT, "--request", d, "950",
                        os.environ["PLUGIN_HANG"]], check=True)
        ag.send(struct.pack("<Iq", SUBMIT, 950) + s_str("meshd-950") +
                struct.pack("<i", 0) + s_str(d) + s_str("g") +
                struct.pack("<qi", 0, 0))
        ag.flush()
        u = ag.update(950, "RUNNING", 60)
        subprocess.run(["scancel", u[2]], check=True)
        m = ag.done(950, 60)
        check(m[2] == 1 or (m[6] and "pilot" in m[6]),
              "attempt on a cancelled pilot: %r" % (m,))
        print("     pilot scancel: have_file=%d reason=%r" % (m[2], m[6]), flush=True)
    finally:
        ag.stop()


def run(fn, *args):
    try:
        fn(*args)
        print("ok   %s" % fn.__name__, flush=True)
    except Exception:
        with flock:
            failures.append(fn.__name__)
        print("FAIL %s\n%s" % (fn.__name__, traceback.format_exc()), flush=True)


def main():
    with_timeout = os.environ.get("SLURM_DRIVE_TIMEOUT", "1") == "1"
    only = os.environ.get("SLURM_DRIVE_ONLY")
    ts = [threading.Thread(target=run, args=a) for a in (
        (scenario_main, with_timeout), (scenario_partition,),
        (scenario_no_sbatch,), (scenario_transient,), (scenario_adopt,),
        (scenario_hung,), (scenario_max_jobs,), (scenario_start_timeout,),
        (scenario_pilot,))]
    if only:
        ts = [t for t in ts if t._args[0].__name__ == "scenario_" + only]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if failures:
        print("failed: %s" % " ".join(failures))
        for n in os.listdir(WORK):
            if n.startswith("agent-") and n.endswith(".err"):
                with open(os.path.join(WORK, n)) as f:
                    print("---- %s\n%s" % (n, f.read()[-3000:]))
        sys.exit(1)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
