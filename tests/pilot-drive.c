/*
 * pilot-drive.c -- end-to-end driver of pilot mode (tests/e2e-pilot.sh).
 *
 *     pilot-drive PLUGIN WORKDIR SCENARIO
 *
 * Runs a real pilot pool (pilot.c) in a poll loop, as the Slurm agent
 * does, and forks real pilots (pilot_client_main(), as `meshd-worker
 * --pilot` runs it) that run the test plugin PLUGIN (tests/plugins/
 * pilotcount.so: it appends the partition key of each run to a count
 * file, so a task run twice shows).  No Slurm: SLURM_JOB_ID is set by
 * hand for each pilot.  Scenarios:
 *
 *   run        2 pilots x 2 slots run 200 tasks; every result file says
 *              OK, each task ran once; idle pilots are released and exit 0
 *   bench      2 pilots x 2 slots, 3000 no-op tasks: prints tasks/s
 *   badsecret  a pilot with the wrong secret is refused (the pool logs
 *              it, the pilot gives up and exits 1); one whose secret file
 *              is group-readable exits 1 at once
 *   kill9      kill -9 of a pilot fails only its attempt, with the reason;
 *              the other pilot's attempts succeed
 *   restart    the pool's process is killed while a pilot runs two tasks;
 *              a new pool on the same port adopts them: one reported
 *              running, one finished while away; none runs twice; an
 *              adopted attempt nobody claims is lost at its deadline
 *   sigstop    a pilot stopped (SIGSTOP) for over 10 s is dropped and its
 *              attempt fails "stopped answering (no heartbeat for 10s)";
 *              the other pilot's attempt succeeds; the stopped pilot,
 *              continued, reconnects and takes work again
 *   sigterm    SIGTERM to a pilot (Slurm's --time, scancel): its task
 *              ends with "pilot stopped by Slurm (SIGTERM)" in its
 *              result file, and the pilot exits 0
 *   slurm      (needs a Slurm: tests/e2e-pilot-slurm.sh) a pilot submitted
 *              with sbatch connects with its Slurm job id, runs 100
 *              tasks; scancel of the job ends its running task with the
 *              reason
 *
 *     pilot-drive PLUGIN WORKDIR pilot ADDR SECRET_FILE SLOTS
 *
 * is the pilot alone, as `meshd-worker --pilot` runs it (the slurm
 * scenario's job script runs it so).
 *
 * Exit 0 when every check passed; a failed check prints "FAIL: ..." and
 * exits 1.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sdk/meshd/plugin.h"
#include "executor.h"
#include "pilot.h"
#include "taskfile.h"
#include "util.h"

#define MAXT	4096

struct rec {
	int	 started, done, have_file, retryable;
	char	*reason, *ext;
};

static struct rec	 recs[MAXT];
static const char	*plugin, *work;
static int		 ndone;

#define CHECK(c, ...) do {						\
	if (!(c)) {							\
		fprintf(stderr, "FAIL: %s:%d: %s: ", __FILE__, __LINE__, #c); \
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		exit(1);						\
	}								\
} while (0)

static void
cb_done(void *arg, int64_t id, int have_file, const char *reason,
    int retryable)
{
	(void)arg;
	CHECK(id > 0 && id < MAXT, "done for attempt %lld", (long long)id);
	CHECK(!recs[id].done, "attempt %lld ended twice", (long long)id);
	recs[id].done = 1;
	recs[id].have_file = have_file;
	recs[id].retryable = retryable;
	recs[id].reason = xstrdup_null(reason);
	ndone++;
}

static void
cb_started(void *arg, int64_t id, const char *ext)
{
	(void)arg;
	CHECK(id > 0 && id < MAXT, "started for attempt %lld", (long long)id);
	recs[id].started++;
	free(recs[id].ext);
	recs[id].ext = xstrdup(ext);
}

static char *
adir(int64_t id)
{
	return xasprintf("%s/a/%lld", work, (long long)id);
}

/* pilot_pool_submit() of attempt `id` in its directory. */
static int
submit(struct pilot_pool *pp, int64_t id)
{
	char	*d = adir(id);
	int	 rc = pilot_pool_submit(pp, id, d);

	free(d);
	return rc;
}

/* pilot_pool_adopt() of attempt `id`, `secs` from now. */
static void
adopt(struct pilot_pool *pp, int64_t id, double secs)
{
	char	*d = adir(id);

	pilot_pool_adopt(pp, id, d, mono_us() + (int64_t)(secs * 1e6));
	free(d);
}

/* The request of attempt `id`: the test plugin's extract stage. */
static void
request(int64_t id, int sleep_ms, int count)
{
	struct executor_opts	 o;
	struct task_req		 r;
	struct paramset		 ps;
	struct param		 p;
	char			*dir = adir(id), *path, *key, *stage, *log;
	char			*cf = xasprintf("%s/count", work), *cause = NULL;

	memset(&ps, 0, sizeof ps);
	if (count) {
		memset(&p, 0, sizeof p);
		p.key = (char *)"count_file";
		p.type = PARAM_STRING;
		p.s = cf;
		paramset_set(&ps, &p);
	}
	if (sleep_ms > 0) {
		memset(&p, 0, sizeof p);
		p.key = (char *)"sleep_ms";
		p.type = PARAM_INT;
		p.i = sleep_ms;
		paramset_set(&ps, &p);
	}
	memset(&o, 0, sizeof o);
	o.workers = 1;
	o.kill_grace_s = 2;
	o.heartbeat_timeout_s = 10;
	key = xasprintf("k%lld", (long long)id);
	stage = xasprintf("%s/s/%lld", work, (long long)id);
	log = xasprintf("%s/log", dir);
	memset(&r, 0, sizeof r);
	r.attempt_id = id;
	r.job = "pilotjob";
	r.task_id = "t";
	r.plugin_path = plugin;
	r.stage = MESHD_STAGE_EXTRACT;
	r.attempt = 1;
	r.partition_key = key;
	r.staging_dir = stage;
	r.attempt_dir = dir;
	r.log_path = log;
	r.params = &ps;
	path = taskfile_path(dir, TASKFILE_REQUEST);
	CHECK(taskfile_write_request(path, &r, &o, &cause) == 0, "%s", cause);
	paramset_free(&ps);
	free(path);
	free(key);
	free(stage);
	free(log);
	free(dir);
	free(cf);
}

/* The result file of `id`: its status and reason (new string). */
static int
result(int64_t id, char **reason)
{
	struct task_result	*r;
	char			*dir = adir(id), *path, *cause = NULL;
	int			 rc, st;

	path = taskfile_path(dir, TASKFILE_RESULT);
	rc = taskfile_read_result(path, id, &r, &cause);
	CHECK(rc == 1, "result of %lld: %s", (long long)id,
	    rc == 0 ? "missing" : cause);
	st = r->status;
	if (reason != NULL)
		*reason = xstrdup_null(r->reason);
	task_result_free(r);
	free(path);
	free(dir);
	return st;
}

static char *
secret(const char *name, const char *text, int mode)
{
	char	*p = xasprintf("%s/%s", work, name);
	FILE	*f;

	CHECK((f = fopen(p, "w")) != NULL, "%s: %s", p, strerror(errno));
	fputs(text, f);
	fclose(f);
	chmod(p, (mode_t)mode);
	return p;
}

static struct pilot_pool *
pool(const char *listen, const char *sf, int pilots, int slots, int idle)
{
	struct executor_def	 def;
	struct pilot_pool_cb	 cb = { cb_done, cb_started, NULL };
	struct pilot_pool	*pp;
	char			*cause = NULL;

	memset(&def, 0, sizeof def);
	def.name = (char *)"burst";
	def.mode = XMODE_PILOT;
	def.pilots = pilots;
	def.pilot_slots = slots;
	def.pilot_idle_s = idle;
	def.listen = (char *)listen;
	def.secret_file = (char *)sf;
	pp = pilot_pool_new(&def, &cb, &cause);
	CHECK(pp != NULL, "pilot_pool_new: %s", cause);
	return pp;
}

static pid_t
pilot(const char *addr, const char *sf, int slots, const char *job)
{
	pid_t	pid;

	fflush(NULL);
	CHECK((pid = fork()) != -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		/* The pool's sockets are not the pilot's to hold. */
		close_range(3, ~0U, 0);
		setenv("SLURM_JOB_ID", job, 1);
		/* exit(), not _exit(): the sanitizer build checks the
		 * pilot for leaks too. */
		exit(pilot_client_main(addr, sf, slots));
	}
	return pid;
}

/* Drive the pool (at least one round) until cond() or `secs` pass; 1 if
 * cond() held. */
static int
loop(struct pilot_pool *pp, int (*cond)(struct pilot_pool *), double secs)
{
	struct pollfd	pfd[64];
	int64_t		end = mono_us() + (int64_t)(secs * 1e6);
	size_t		n;

	for (;;) {
		n = pilot_pool_pollfds(pp, pfd, 64);
		if (poll(pfd, n, 10) > 0)
			pilot_pool_handle(pp, pfd, n);
		pilot_pool_tick(pp, mono_us());
		if (cond(pp))
			return 1;
		if (mono_us() > end)
			return 0;
	}
}

static int	want_connected, want_done;
static int
c_connected(struct pilot_pool *pp)
{
	return pilot_pool_connected(pp) >= want_connected;
}
static int
c_none(struct pilot_pool *pp)
{
	return pilot_pool_connected(pp) == 0;
}
static int
c_done(struct pilot_pool *pp)
{
	(void)pp;
	return ndone >= want_done;
}

/* Exit status of `pid` within `secs`, or -1. */
static int
reap(pid_t pid, double secs)
{
	int64_t	end = mono_us() + (int64_t)(secs * 1e6);
	int	st;

	while (mono_us() < end) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 +
			    WTERMSIG(st);
		usleep(20000);
	}
	return -1;
}

/* Every key k<id> for id in ids[] appears exactly once in the count
 * file, and nothing else does. */
static void
count_once(const int64_t *ids, size_t n)
{
	char	*cf = xasprintf("%s/count", work), line[64];
	int	 seen[MAXT] = { 0 }, total = 0;
	long	 k;
	size_t	 i;
	FILE	*f;

	CHECK((f = fopen(cf, "r")) != NULL, "%s: %s", cf, strerror(errno));
	while (fgets(line, sizeof line, f) != NULL) {
		CHECK(sscanf(line, "k%ld", &k) == 1 && k > 0 && k < MAXT,
		    "count line %s", line);
		seen[k]++;
		total++;
	}
	fclose(f);
	for (i = 0; i < n; i++)
		CHECK(seen[ids[i]] == 1, "attempt %lld ran %d times",
		    (long long)ids[i], seen[ids[i]]);
	CHECK(total == (int)n, "%d runs counted, %zu expected", total, n);
	free(cf);
}

/* Keep every free slot busy until `total` tasks ran; seconds taken. */
static double
feed(struct pilot_pool *pp, int total)
{
	struct pollfd	pfd[64];
	int64_t		t0 = mono_us(), end = t0 + 120 * 1000000LL;
	int		next = 1;
	size_t		n;

	ndone = 0;
	while (ndone < total) {
		CHECK(mono_us() < end, "%d of %d tasks done in 120s", ndone,
		    total);
		while (next <= total && pilot_pool_free_slots(pp) > 0) {
			CHECK(submit(pp, next) == 0,
			    "submit %d", next);
			next++;
		}
		n = pilot_pool_pollfds(pp, pfd, 64);
		if (poll(pfd, n, 20) > 0)
			pilot_pool_handle(pp, pfd, n);
		pilot_pool_tick(pp, mono_us());
	}
	return (double)(mono_us() - t0) / 1e6;
}

static void
s_run(int bench)
{
	struct pilot_pool	*pp;
	char			*sf = secret("secret", "s3cr3t\n", 0600);
	int64_t			*ids;
	int			 total = bench ? 3000 : 200, i;
	pid_t			 a, b;
	double			 secs;

	for (i = 1; i <= total; i++)
		request(i, 0, !bench);
	pp = pool("127.0.0.1:0", sf, 2, 2, bench ? 60 : 1);
	a = pilot(pilot_pool_address(pp), sf, 2, "4001");
	b = pilot(pilot_pool_address(pp), sf, 2, "4002");
	want_connected = 2;
	CHECK(loop(pp, c_connected, 20), "2 pilots did not connect");
	secs = feed(pp, total);
	ids = xcalloc((size_t)total, sizeof *ids);
	for (i = 1; i <= total; i++) {
		CHECK(recs[i].done && recs[i].have_file, "attempt %d: %s", i,
		    recs[i].reason != NULL ? recs[i].reason : "no result");
		CHECK(recs[i].started == 1, "attempt %d started %d times", i,
		    recs[i].started);
		CHECK(result(i, NULL) == MESHD_OK, "attempt %d not OK", i);
		ids[i - 1] = i;
	}
	if (bench)
		printf("pilot bench: %d no-op tasks through 1 pool, 2 pilots "
		    "x 2 slots in %.2fs: %.0f tasks/s\n", total, secs,
		    total / secs);
	else {
		count_once(ids, (size_t)total);
		/* Idle for pilot_idle_s (1 s): released, they exit 0. */
		CHECK(reap(a, 0) == -1, "pilot exited before release");
		CHECK(loop(pp, c_none, 4), "%d pilots still connected after "
		    "1s idle", pilot_pool_connected(pp));
		CHECK(reap(a, 5) == 0 && reap(b, 5) == 0,
		    "released pilots did not exit 0");
		printf("run: %d tasks, each once, results OK; idle pilots "
		    "released\n", total);
	}
	free(ids);
	if (bench) {
		kill(a, SIGTERM);
		kill(b, SIGTERM);
		reap(a, 5);
		reap(b, 5);
	}
	pilot_pool_free(pp);
	free(sf);
}

static void
s_badsecret(void)
{
	struct pilot_pool	*pp;
	char			*sf = secret("secret", "right", 0600);
	char			*bad = secret("bad", "wrong", 0600);
	char			*open = secret("open", "right", 0644);
	pid_t			 p;
	int			 rc;

	pp = pool("127.0.0.1:0", sf, 2, 1, 60);
	p = pilot(pilot_pool_address(pp), bad, 1, "5001");
	want_connected = 1;
	CHECK(!loop(pp, c_connected, 3), "a pilot with the wrong secret was "
	    "let in");
	CHECK((rc = reap(p, 10)) == 1, "refused pilot exit %d, not 1", rc);
	p = pilot(pilot_pool_address(pp), open, 1, "5002");
	CHECK((rc = reap(p, 5)) == 1, "pilot with an open secret file: exit "
	    "%d, not 1", rc);
	CHECK(pilot_pool_connected(pp) == 0, "connected");
	/* The right secret still gets in. */
	p = pilot(pilot_pool_address(pp), sf, 1, "5003");
	CHECK(loop(pp, c_connected, 10), "the right secret was not let in");
	kill(p, SIGTERM);
	CHECK(reap(p, 5) == 0, "pilot did not exit 0 on SIGTERM");
	printf("badsecret: refused, the pilot exited 1\n");
	pilot_pool_free(pp);
	free(sf);
	free(bad);
	free(open);
}

static void
s_kill9(void)
{
	struct pilot_pool	*pp;
	char			*sf = secret("secret", "k", 0600), *want;
	int64_t			 ids[12];
	pid_t			 a, b, victim;
	int			 i, lost, other;

	request(1, 4000, 1);
	request(2, 1000, 1);
	for (i = 3; i <= 12; i++)
		request(i, 0, 1);
	pp = pool("127.0.0.1:0", sf, 2, 1, 60);
	a = pilot(pilot_pool_address(pp), sf, 1, "6001");
	b = pilot(pilot_pool_address(pp), sf, 1, "6002");
	want_connected = 2;
	CHECK(loop(pp, c_connected, 20), "2 pilots did not connect");
	CHECK(submit(pp, 1) == 0, "submit 1");
	CHECK(submit(pp, 2) == 0, "submit 2");
	want_done = 0;
	for (i = 0; i < 250 && !(recs[1].started && recs[2].started); i++)
		loop(pp, c_done, 0.02);
	CHECK(recs[1].started && recs[2].started, "not started");
	CHECK(strcmp(recs[1].ext, recs[2].ext) != 0, "both on pilot %s",
	    recs[1].ext);
	usleep(300000);	/* the plugin has counted its run */
	victim = strcmp(recs[1].ext, "6001") == 0 ? a : b;
	kill(victim, SIGKILL);
	want_done = 2;
	CHECK(loop(pp, c_done, 10), "%d done", ndone);
	want = xasprintf("pilot %s lost its connection", recs[1].ext);
	CHECK(!recs[1].have_file && recs[1].retryable &&
	    strcmp(recs[1].reason, want) == 0, "attempt 1: have_file %d, "
	    "reason %s", recs[1].have_file, recs[1].reason);
	CHECK(recs[2].have_file && result(2, NULL) == MESHD_OK,
	    "attempt 2 on the other pilot");
	reap(victim, 5);
	/* The survivor takes the rest. */
	for (i = 3; i <= 12; i++) {
		want_connected = 1;
		while (pilot_pool_free_slots(pp) == 0)
			loop(pp, c_done, 0.02);
		CHECK(submit(pp, i) == 0, "submit %d", i);
		want_done = i;
		CHECK(loop(pp, c_done, 10), "attempt %d", i);
		CHECK(recs[i].have_file && result(i, NULL) == MESHD_OK,
		    "attempt %d", i);
	}
	lost = 0;
	other = 0;
	for (i = 1; i <= 12; i++) {
		lost += !recs[i].have_file;
		other += recs[i].have_file;
		ids[i - 1] = i;
	}
	CHECK(lost == 1 && other == 11, "%d lost, %d ok", lost, other);
	count_once(ids, 12);
	printf("kill9: only the killed pilot's attempt failed: %s\n", want);
	kill(victim == a ? b : a, SIGTERM);
	reap(victim == a ? b : a, 5);
	free(want);
	pilot_pool_free(pp);
	free(sf);
}

static void
s_restart(void)
{
	struct pilot_pool	*pp;
	char			*sf = secret("secret", "r", 0600), *addr;
	char			 buf[256];
	int64_t			 ids[] = { 1, 2, 4 };
	int			 fds[2], n;
	pid_t			 p1, pl;

	request(1, 2500, 1);
	request(2, 200, 1);
	request(3, 0, 1);	/* never handed out: "lost with its pilot" */
	request(4, 0, 1);
	CHECK(pipe(fds) == 0, "pipe");
	fflush(stderr);
	if ((p1 = fork()) == 0) {
		/* The first pool: hands out 1 and 2, then is killed. */
		close(fds[0]);
		pp = pool("127.0.0.1:0", sf, 1, 2, 60);
		n = snprintf(buf, sizeof buf, "%s\n", pilot_pool_address(pp));
		CHECK(write(fds[1], buf, (size_t)n) == n, "write");
		want_connected = 1;
		CHECK(loop(pp, c_connected, 20), "no pilot");
		CHECK(submit(pp, 1) == 0, "submit 1");
		CHECK(submit(pp, 2) == 0, "submit 2");
		while (!(recs[1].started && recs[2].started))
			loop(pp, c_done, 0.02);
		CHECK(write(fds[1], "s\n", 2) == 2, "write");
		for (;;)
			loop(pp, c_done, 1);
	}
	close(fds[1]);
	n = (int)read(fds[0], buf, sizeof buf - 1);
	CHECK(n > 0, "first pool did not start");
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	addr = xstrdup(buf);
	pl = pilot(addr, sf, 2, "7001");
	n = (int)read(fds[0], buf, 2);
	CHECK(n == 2, "first pool did not start the tasks");
	close(fds[0]);
	kill(p1, SIGKILL);
	waitpid(p1, NULL, 0);
	usleep(800000);	/* 2 finishes while there is no pool */
	pp = pool(addr, sf, 1, 2, 60);
	adopt(pp, 1, 20);
	adopt(pp, 2, 20);
	adopt(pp, 3, 3);
	want_done = 3;
	CHECK(loop(pp, c_done, 25), "%d of 3 adopted attempts ended", ndone);
	CHECK(recs[1].have_file && result(1, NULL) == MESHD_OK &&
	    recs[1].started == 1 && strcmp(recs[1].ext, "7001") == 0,
	    "attempt 1 (running at reconnect): have_file %d started %d",
	    recs[1].have_file, recs[1].started);
	CHECK(recs[2].have_file && result(2, NULL) == MESHD_OK,
	    "attempt 2 (finished while away)");
	CHECK(!recs[3].have_file && recs[3].retryable &&
	    strcmp(recs[3].reason, "lost with its pilot") == 0,
	    "attempt 3: %s", recs[3].reason);
	want_connected = 1;
	CHECK(loop(pp, c_connected, 5), "pilot not connected");
	CHECK(submit(pp, 4) == 0, "submit 4");
	want_done = 4;
	CHECK(loop(pp, c_done, 10), "attempt 4");
	CHECK(recs[4].have_file && result(4, NULL) == MESHD_OK, "attempt 4");
	count_once(ids, 3);
	printf("restart: adopted 1 running and 1 finished, none ran twice\n");
	kill(pl, SIGTERM);
	CHECK(reap(pl, 5) == 0, "pilot exit");
	free(addr);
	pilot_pool_free(pp);
	free(sf);
}

static void
s_sigstop(void)
{
	struct pilot_pool	*pp;
	char			*sf = secret("secret", "z", 0600), *want;
	pid_t			 a, b, victim;

	request(1, 1000, 1);
	request(2, 1000, 1);
	request(3, 0, 1);
	pp = pool("127.0.0.1:0", sf, 2, 1, 60);
	a = pilot(pilot_pool_address(pp), sf, 1, "9001");
	b = pilot(pilot_pool_address(pp), sf, 1, "9002");
	want_connected = 2;
	CHECK(loop(pp, c_connected, 20), "2 pilots did not connect");
	CHECK(submit(pp, 1) == 0 && submit(pp, 2) == 0, "submit");
	while (!(recs[1].started && recs[2].started))
		loop(pp, c_done, 0.02);
	victim = strcmp(recs[1].ext, "9001") == 0 ? a : b;
	kill(victim, SIGSTOP);
	want_done = 2;
	CHECK(loop(pp, c_done, 15), "%d done", ndone);
	want = xasprintf("pilot %s stopped answering (no heartbeat for 10s)",
	    recs[1].ext);
	CHECK(!recs[1].have_file && recs[1].retryable &&
	    strcmp(recs[1].reason, want) == 0, "attempt 1: %s",
	    recs[1].reason);
	CHECK(recs[2].have_file && result(2, NULL) == MESHD_OK, "attempt 2");
	CHECK(pilot_pool_connected(pp) == 1, "the silent pilot is counted");
	/* Continued, it finds its connection gone and comes back. */
	kill(victim, SIGCONT);
	want_connected = 2;
	CHECK(loop(pp, c_connected, 10), "the continued pilot did not "
	    "reconnect");
	kill(victim == a ? b : a, SIGTERM);
	reap(victim == a ? b : a, 5);
	want_connected = 1;
	while (pilot_pool_free_slots(pp) == 0 || pilot_pool_connected(pp) != 1)
		loop(pp, c_done, 0.02);
	CHECK(submit(pp, 3) == 0, "submit 3");
	want_done = 3;
	CHECK(loop(pp, c_done, 10), "attempt 3");
	CHECK(recs[3].have_file && result(3, NULL) == MESHD_OK &&
	    strcmp(recs[3].ext, recs[1].ext) == 0, "attempt 3 on %s",
	    recs[3].ext);
	printf("sigstop: %s\n", want);
	kill(victim, SIGTERM);
	CHECK(reap(victim, 5) == 0, "pilot exit");
	free(want);
	pilot_pool_free(pp);
	free(sf);
}

static void
s_sigterm(void)
{
	struct pilot_pool	*pp;
	char			*sf = secret("secret", "t", 0600), *why = NULL;
	pid_t			 p;
	int			 rc;

	request(1, 30000, 1);
	pp = pool("127.0.0.1:0", sf, 1, 1, 60);
	p = pilot(pilot_pool_address(pp), sf, 1, "8001");
	want_connected = 1;
	CHECK(loop(pp, c_connected, 20), "no pilot");
	CHECK(submit(pp, 1) == 0, "submit");
	while (!recs[1].started)
		loop(pp, c_done, 0.02);
	usleep(300000);
	kill(p, SIGTERM);
	want_done = 1;
	CHECK(loop(pp, c_done, 10), "attempt 1 did not end");
	CHECK(recs[1].have_file, "no result file: %s", recs[1].reason);
	CHECK(result(1, &why) == MESHD_FAILED && why != NULL &&
	    strcmp(why, "pilot stopped by Slurm (SIGTERM)") == 0,
	    "reason %s", why);
	CHECK((rc = reap(p, 5)) == 0, "pilot exit %d", rc);
	printf("sigterm: the task failed with \"%s\", the pilot exited 0\n",
	    why);
	free(why);
	pilot_pool_free(pp);
	free(sf);
}

static void
s_slurm(const char *self)
{
	struct pilot_pool	*pp;
	char			*sf = secret("secret", "slurm", 0600), *cmd;
	char			 job[64], *why = NULL;
	int64_t			 ids[100];
	FILE			*f;
	int			 i;

	for (i = 1; i <= 100; i++)
		request(i, 0, 1);
	request(101, 60000, 0);
	pp = pool("127.0.0.1:0", sf, 1, 2, 120);
	cmd = xasprintf("sbatch --parsable --job-name=meshd-pilot-test "
	    "--time=3 --output=%s/pilot-%%j.out --wrap 'exec %s %s %s pilot "
	    "%s %s 2'", work, self, plugin, work, pilot_pool_address(pp), sf);
	CHECK((f = popen(cmd, "r")) != NULL, "%s", cmd);
	CHECK(fgets(job, sizeof job, f) != NULL, "sbatch printed nothing");
	CHECK(pclose(f) == 0, "%s failed", cmd);
	job[strcspn(job, ";\n")] = '\0';
	printf("sbatch: pilot job %s\n", job);
	fflush(stdout);
	want_connected = 1;
	CHECK(loop(pp, c_connected, 60), "the pilot job did not connect");
	ndone = 0;
	CHECK(feed(pp, 100) < 60, "slow");
	for (i = 1; i <= 100; i++) {
		CHECK(recs[i].have_file && result(i, NULL) == MESHD_OK &&
		    strcmp(recs[i].ext, job) == 0, "attempt %d on %s", i,
		    recs[i].ext);
		ids[i - 1] = i;
	}
	count_once(ids, 100);
	CHECK(submit(pp, 101) == 0, "submit 101");
	while (!recs[101].started)
		loop(pp, c_done, 0.02);
	free(cmd);
	cmd = xasprintf("scancel %s", job);
	CHECK(system(cmd) == 0, "%s", cmd);
	want_done = 101;
	CHECK(loop(pp, c_done, 40), "attempt 101 did not end after scancel");
	if (recs[101].have_file) {
		result(101, &why);
		CHECK(why != NULL && strstr(why, "SIGTERM") != NULL,
		    "attempt 101: %s", why);
	} else
		why = xstrdup(recs[101].reason);
	printf("slurm: pilot job %s ran 100 tasks; scancel: %s\n", job, why);
	free(why);
	free(cmd);
	pilot_pool_free(pp);
	free(sf);
}

int
main(int argc, char **argv)
{
	if (argc == 7 && strcmp(argv[3], "pilot") == 0)
		return pilot_client_main(argv[4], argv[5], atoi(argv[6]));
	if (argc != 4) {
		fprintf(stderr, "usage: pilot-drive PLUGIN WORKDIR "
		    "run|bench|badsecret|kill9|restart|sigstop|sigterm|slurm\n");
		return 2;
	}
	plugin = argv[1];
	work = argv[2];
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[3], "run") == 0)
		s_run(0);
	else if (strcmp(argv[3], "bench") == 0)
		s_run(1);
	else if (strcmp(argv[3], "badsecret") == 0)
		s_badsecret();
	else if (strcmp(argv[3], "kill9") == 0)
		s_kill9();
	else if (strcmp(argv[3], "restart") == 0)
		s_restart();
	else if (strcmp(argv[3], "sigterm") == 0)
		s_sigterm();
	else if (strcmp(argv[3], "sigstop") == 0)
		s_sigstop();
	else if (strcmp(argv[3], "slurm") == 0)
		s_slurm(argv[0]);
	else {
		fprintf(stderr, "pilot-drive: unknown scenario %s\n", argv[3]);
		return 2;
	}
	return 0;
}
