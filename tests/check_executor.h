/*
 * check_executor.h -- the fixture of the worker-pool tests (check_executor,
 * check_containment): a temporary directory per test, requests for the
 * real test plugins of tests/plugins/, a pool and its results.  Included
 * by each test program; what one of them does not use is not a warning.
 */
#ifndef MESHD_CHECK_EXECUTOR_H
#define MESHD_CHECK_EXECUTOR_H

#define FIXTURE static __attribute__((unused))

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static char	tmpdir[256];

FIXTURE void
setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/check_executor.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

FIXTURE int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

FIXTURE void
teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Path of a built test plugin; new string. */
FIXTURE char *
plugin(const char *name)
{
	const char	*top = getenv("top_builddir");

	if (top == NULL || *top == '\0')
		top = ".";
	return xasprintf("%s/tests/plugins/.libs/%s.so", top, name);
}

/* A request with its strings kept here, so a test can change fields. */
struct req {
	struct task_req	 r;
	char		*path, *staging, *attempt, *log;
	struct param	 pv[4];
	struct paramset	 ps;
};

FIXTURE void
req_init(struct req *q, const char *name, int stage, int64_t id)
{
	memset(q, 0, sizeof *q);
	q->path = plugin(name);
	q->staging = xasprintf("%s/staging/%s", tmpdir, name);
	q->attempt = xasprintf("%s/attempts/%lld", tmpdir, (long long)id);
	q->log = xasprintf("%s/logs/%s/%lld.log", tmpdir, name, (long long)id);
	q->r.attempt_id = id;
	q->r.job = "testjob";
	q->r.task_id = stage == MESHD_STAGE_CHECK ? "check" :
	    stage == MESHD_STAGE_PUBLISH ? "publish" : "extract";
	q->r.plugin_path = q->path;
	q->r.stage = stage;
	q->r.attempt = 1;
	q->r.partition_key = "2001-01-02";
	q->r.interval_start_us = 978393600LL * 1000000;
	q->r.interval_end_us = 978480000LL * 1000000;
	q->r.staging_dir = q->staging;
	q->r.attempt_dir = q->attempt;
	q->r.log_path = q->log;
	q->ps.v = q->pv;
	q->r.params = &q->ps;
}

FIXTURE void
req_int(struct req *q, const char *key, int64_t v)
{
	struct param	*p = &q->pv[q->ps.n++];

	p->key = (char *)(uintptr_t)key;
	p->type = PARAM_INT;
	p->i = v;
}

FIXTURE void
req_bool(struct req *q, const char *key, int v)
{
	struct param	*p = &q->pv[q->ps.n++];

	p->key = (char *)(uintptr_t)key;
	p->type = PARAM_BOOL;
	p->i = v;
}

FIXTURE void
req_free(struct req *q)
{
	free(q->path);
	free(q->staging);
	free(q->attempt);
	free(q->log);
}

/* Containment options of the next pool(): a test sets them first. */
static long long	pool_log_max, pool_task_max;
static int		pool_log_fails, pool_empty_check;

FIXTURE struct executor *
pool(int workers, int max_tasks, int grace, int hb)
{
	struct executor_opts	 o;
	struct executor		*ex;
	char			*cause = NULL;

	memset(&o, 0, sizeof o);
	o.workers = workers;
	o.max_tasks = max_tasks;
	o.kill_grace_s = grace;
	o.heartbeat_timeout_s = hb;
	o.log_max_bytes = pool_log_max;
	o.log_overflow_fails = pool_log_fails;
	o.task_max_bytes = pool_task_max;
	o.empty_check_fails = pool_empty_check;
	ex = executor_new(&o, &cause);
	ck_assert_msg(ex != NULL, "executor_new: %s", cause);
	return ex;
}

/* Wait (up to 20 s) for the next result. */
FIXTURE struct task_result *
next_result(struct executor *ex)
{
	struct task_result	*res = NULL;
	char			*cause = NULL;
	int64_t			 end = mono_us() + 20000000;
	int			 rc;

	do {
		rc = executor_wait(ex, 1000, &res, &cause);
		ck_assert_msg(rc >= 0, "executor_wait: %s", cause);
	} while (rc == 0 && mono_us() < end);
	ck_assert_int_eq(rc, 1);
	return res;
}

FIXTURE struct task_result *
run(struct executor *ex, struct req *q)
{
	char	*cause = NULL;
	pid_t	 pid;

	pid = executor_submit(ex, &q->r, &cause);
	ck_assert_msg(pid > 0, "executor_submit: %s", cause);
	return next_result(ex);
}

FIXTURE char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		return xstrdup("");
	buf = xcalloc(1, 65536);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

FIXTURE int
count_fds(void)
{
	DIR		*d = opendir("/proc/self/fd");
	struct dirent	*de;
	int		 n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

FIXTURE double
metric(const struct task_result *r, const char *name)
{
	size_t	i;

	for (i = 0; i < r->nmetrics; i++) {
		if (strcmp(r->metrics[i].name, name) == 0)
			return r->metrics[i].value;
	}
	return -1;
}

#endif
