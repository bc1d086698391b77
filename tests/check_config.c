/*
 * check_config.c -- unit tests for core/config.c and core/job.c.
 *
 * The fixtures live in tests/data/config/ (found through $top_srcdir, which
 * make check exports).  Each test copies the ones it needs into a fresh
 * mkdtemp() tree next to a plugins/ directory holding an empty x.so, so the
 * source tree is only ever read.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "xdef.h"
#include "dag.h"
#include "job.h"
#include "limit.h"
#include "schedule.h"
#include "suggest.h"
#include "meshd/plugin.h"
#include "paths.h"
#include "util.h"

static char		*tmp;		/* the temporary tree */
static char		*fixtures;	/* tests/data/config in the source */
static struct errlist	 errs;

static char *
tpath(const char *rel)
{
	return path_join(tmp, rel);
}

/* Copy fixture `rel` to the same relative path under tmp. */
static void
copy_fixture(const char *rel)
{
	char	*src, *dst, *dir, buf[4096];
	FILE	*in, *out;
	size_t	 n;

	src = path_join(fixtures, rel);
	dst = tpath(rel);
	dir = path_dirname(dst);
	ck_assert_int_eq(mkdir_p(dir, 0755, NULL), 0);
	in = fopen(src, "r");
	ck_assert_msg(in != NULL, "%s: %s", src, strerror(errno));
	out = fopen(dst, "w");
	ck_assert_msg(out != NULL, "%s: %s", dst, strerror(errno));
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	ck_assert_int_eq(fclose(out), 0);
	free(src);
	free(dst);
	free(dir);
}

/* An empty file with mode 0644: enough for the plugin search. */
static void
touch(const char *rel)
{
	char	*p = tpath(rel), *dir = path_dirname(p);
	int	 fd;

	ck_assert_int_eq(mkdir_p(dir, 0755, NULL), 0);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_msg(fd != -1, "%s: %s", p, strerror(errno));
	close(fd);
	free(p);
	free(dir);
}

static void
setup(void)
{
	const char	*top = getenv("top_srcdir");
	char		 tmpl[] = "/tmp/check_config.XXXXXX";

	ck_assert_msg(top != NULL, "top_srcdir is not set (run via make check)");
	fixtures = path_join(top, "tests/data/config");
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	tmp = xstrdup(tmpl);
	memset(&errs, 0, sizeof errs);
	copy_fixture("meshd.conf");
	touch("plugins/x.so");
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
teardown(void)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(tmp);
	free(fixtures);
	errlist_free(&errs);
}

/* The printed diagnostics, for failure messages. */
static char *
dump(void)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&buf, &len);

	errlist_print(&errs, f);
	fclose(f);
	return buf;
}

#define ck_diag(needle) do {						\
	char	*d_ = dump();						\
	ck_assert_msg(errlist_find(&errs, needle) != NULL,		\
	    "no diagnostic \"%s\" in:\n%s", needle, d_);		\
	free(d_);							\
} while (0)

static struct meshd_config *
load_cfg(void)
{
	struct meshd_config	*cfg;
	char			*p = tpath("meshd.conf");

	cfg = config_load(p, &errs);
	free(p);
	ck_assert_ptr_nonnull(cfg);
	return cfg;
}

/* Copy job fixture `rel` and load it with the test tree's meshd.conf. */
static struct job_def *
load_job(struct meshd_config **cfgp, const char *rel)
{
	struct job_def	*job;
	char		*p;

	*cfgp = load_cfg();
	copy_fixture(rel);
	p = tpath(rel);
	job = job_load_file(*cfgp, p, &errs);
	free(p);
	return job;
}

/* ------------------------------------------------------------ meshd.conf */

START_TEST(test_config_full)
{
	struct meshd_config	*cfg;
	char			*p;

	cfg = load_cfg();
	ck_assert_uint_eq(errs.nerrors, 0);
	ck_assert_uint_eq(errs.nwarnings, 0);

	p = tpath("meshd.conf");
	ck_assert_str_eq(cfg->file, p);
	free(p);
	ck_assert_str_eq(cfg->confdir, tmp);
	p = tpath("var/state.db");
	ck_assert_str_eq(cfg->state_db, p);
	free(p);
	p = tpath("jobs");
	ck_assert_str_eq(cfg->jobs_dir, p);
	free(p);
	ck_assert_uint_eq(cfg->nplugin_path, 2);
	p = tpath("plugins");
	ck_assert_str_eq(cfg->plugin_path[0], p);
	free(p);
	ck_assert_str_eq(cfg->plugin_path[1], "/nonexistent/meshd/plugins");
	ck_assert_str_eq(cfg->log_dir, "/var/log/meshd");
	p = tpath("var/staging");
	ck_assert_str_eq(cfg->staging_dir, p);
	free(p);
	ck_assert_int_eq(cfg->workers, 3);
	ck_assert_int_eq(cfg->worker_max_tasks, 50);
	ck_assert_int_eq(cfg->worker_memory_mb, 256);
	ck_assert_int_eq(cfg->kill_grace_s, 7);
	ck_assert_int_eq(cfg->heartbeat_timeout_s, 30);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_empty_defaults)
{
	struct meshd_config	*cfg;
	char			*p;
	long			 ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	copy_fixture("meshd-empty.conf");
	p = tpath("meshd-empty.conf");
	cfg = config_load(p, &errs);
	free(p);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_int_eq(cfg->workers, ncpu < 1 ? 1 : (int)ncpu);
	ck_assert_int_gt(cfg->workers, 0);
	ck_assert_int_eq(cfg->worker_max_tasks, 1000);
	ck_assert_int_eq(cfg->worker_memory_mb, 0);
	ck_assert_int_eq(cfg->kill_grace_s, 5);
	ck_assert_int_eq(cfg->heartbeat_timeout_s, 10);
	p = tpath("state/state.db");
	ck_assert_str_eq(cfg->state_db, p);
	free(p);
	p = tpath("state/logs");
	ck_assert_str_eq(cfg->log_dir, p);
	free(p);
	p = tpath("plugins");
	ck_assert_str_eq(cfg->plugin_path[0], p);
	free(p);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_defaults)
{
	struct meshd_config	*cfg;

	cfg = config_defaults("/srv/mesh");
	ck_assert_ptr_null(cfg->file);
	ck_assert_str_eq(cfg->state_db, "/srv/mesh/state/state.db");
	ck_assert_str_eq(cfg->jobs_dir, "/srv/mesh/jobs");
	ck_assert_str_eq(cfg->log_dir, "/srv/mesh/state/logs");
	ck_assert_str_eq(cfg->staging_dir, "/srv/mesh/state/staging");
	ck_assert_str_eq(cfg->plugin_path[0], "/srv/mesh/plugins");
#ifdef PKGLIBDIR
	ck_assert_uint_eq(cfg->nplugin_path, 2);
	ck_assert_str_eq(cfg->plugin_path[1], PKGLIBDIR "/plugins");
#endif
	ck_assert_int_gt(cfg->workers, 0);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_bad_values)
{
	char	*p;

	copy_fixture("meshd-bad.conf");
	p = tpath("meshd-bad.conf");
	ck_assert_ptr_null(config_load(p, &errs));
	free(p);
	ck_assert_uint_eq(errs.nerrors, 3);
	ck_diag("meshd-bad.conf:2: error: 'state_db' must be a string, "
	    "not an integer");
	ck_diag("meshd-bad.conf:3: error: 'workers' must be at least 0, "
	    "not -1");
	ck_diag("meshd-bad.conf:4: error: 'kill_grace' must be an integer, "
	    "not a string");
}
END_TEST

START_TEST(test_config_syntax)
{
	char	*p;

	copy_fixture("meshd-syntax.conf");
	p = tpath("meshd-syntax.conf");
	ck_assert_ptr_null(config_load(p, &errs));
	free(p);
	ck_assert_uint_eq(errs.nerrors, 1);
	ck_diag("meshd-syntax.conf:3: error: syntax error");
}
END_TEST

START_TEST(test_config_missing)
{
	char	*p, *want;

	p = tpath("nope.conf");
	ck_assert_ptr_null(config_load(p, &errs));
	want = xasprintf("%s:0: error: cannot open: %s", p, strerror(ENOENT));
	ck_diag(want);
	free(want);
	free(p);
}
END_TEST

START_TEST(test_config_default_path)
{
	setenv("MESHD_CONFIG", "/x/y.conf", 1);
	ck_assert_str_eq(config_default_path(), "/x/y.conf");
	unsetenv("MESHD_CONFIG");
	ck_assert_str_eq(config_default_path(), SYSCONFDIR "/meshd/meshd.conf");
}
END_TEST

START_TEST(test_find_plugin)
{
	struct meshd_config	*cfg = load_cfg();
	char			*cause = NULL, *p, *want;

	p = config_find_plugin(cfg, "x", "/elsewhere", &cause);
	want = tpath("plugins/x.so");
	ck_assert_str_eq(p, want);
	free(p);
	/* An explicit suffix is not doubled. */
	p = config_find_plugin(cfg, "x.so", "/elsewhere", &cause);
	ck_assert_str_eq(p, want);
	free(p);
	free(want);

	ck_assert_ptr_null(config_find_plugin(cfg, "y", tmp, &cause));
	want = xasprintf("plugin 'y' not found (searched: %s/plugins, "
	    "/nonexistent/meshd/plugins)", tmp);
	ck_assert_str_eq(cause, want);
	free(want);

	/* With a '/', relative to the job's directory. */
	p = config_find_plugin(cfg, "plugins/x.so", tmp, &cause);
	want = tpath("plugins/x.so");
	ck_assert_str_eq(p, want);
	free(p);
	free(want);
	ck_assert_ptr_null(config_find_plugin(cfg, "plugins/z.so", tmp,
	    &cause));
	want = xasprintf("plugin 'plugins/z.so' not found (searched: "
	    "%s/plugins/z.so)", tmp);
	ck_assert_str_eq(cause, want);
	free(want);
	/* A directory is not a plugin. */
	ck_assert_ptr_null(config_find_plugin(cfg, "plugins", tmp, &cause));
	free(cause);
	config_free(cfg);
}
END_TEST

/* ------------------------------------------------------------ jobs */

START_TEST(test_job_full)
{
	struct meshd_config	*cfg;
	struct job_def		*job;
	const struct task_def	*t;
	const struct param	*p;
	char			*s;

	touch("jobs/lib/y.so");
	job = load_job(&cfg, "jobs/full.conf");
	s = dump();
	ck_assert_msg(job != NULL, "refused:\n%s", s);
	free(s);
	ck_assert_uint_eq(errs.nerrors, 0);

	ck_assert_str_eq(job->name, "full");
	ck_assert_str_eq(job->domain, "ops");
	ck_assert_str_eq(job->owner, "ops-data@example.org");
	ck_assert_str_eq(job->description, "Daily flights");
	ck_assert_str_eq(job->schedule, "@daily");
	ck_assert_str_eq(job->start, "2001-01-01");
	ck_assert_str_eq(job->end, "2001-04-01");
	s = tpath("jobs/full.conf");
	ck_assert_str_eq(job->file, s);
	free(s);

	/* Job params, with ${...} expanded and other '$' left alone. */
	ck_assert_uint_eq(job->params.n, 6);
	p = paramset_get(&job->params, "source");
	ck_assert_int_eq(p->type, PARAM_STRING);
	s = xasprintf("%s/jobs/../data/flights.json", tmp);
	ck_assert_str_eq(p->s, s);
	free(s);
	p = paramset_get(&job->params, "home");
	s = xasprintf("%s|%s/var|$HOME", tmp, tmp);
	ck_assert_str_eq(p->s, s);
	free(s);
	p = paramset_get(&job->params, "big");
	ck_assert_int_eq(p->type, PARAM_INT);
	ck_assert(p->i == 5000000000LL);
	p = paramset_get(&job->params, "ratio");
	ck_assert_int_eq(p->type, PARAM_DOUBLE);
	ck_assert(p->d == 0.25);
	p = paramset_get(&job->params, "strict");
	ck_assert_int_eq(p->type, PARAM_BOOL);
	ck_assert(p->i == 1);
	ck_assert_ptr_null(paramset_get(&job->params, "nope"));

	/* Products. */
	ck_assert_uint_eq(job->nproducts, 2);
	s = xasprintf("%s/var/out/flights", tmp);
	ck_assert_str_eq(job_product_location(job, "ops.flights"), s);
	free(s);
	ck_assert_int_eq(job->products[0].line, 18);
	ck_assert_ptr_null(job_product_location(job, "ops.delays"));
	ck_assert_ptr_null(job_product_location(job, "ops.none"));

	/* Tasks. */
	ck_assert_uint_eq(job->ntasks, 3);
	ck_assert_int_eq(job_task_index(job, "extract"), 0);
	ck_assert_int_eq(job_task_index(job, "publish"), 2);
	ck_assert_int_eq(job_task_index(job, "nope"), -1);

	t = &job->tasks[0];
	ck_assert_str_eq(t->id, "extract");
	ck_assert_int_eq(t->line, 22);
	ck_assert_str_eq(t->plugin, "x");
	s = tpath("plugins/x.so");
	ck_assert_str_eq(t->plugin_path, s);
	free(s);
	ck_assert_int_eq(t->stage, MESHD_STAGE_EXTRACT);
	ck_assert_uint_eq(t->nafter, 0);
	ck_assert_int_eq(t->retries, 2);
	ck_assert(t->retry_delay_us == 2500000);
	ck_assert(t->timeout_us == 300 * (int64_t)1000000);
	ck_assert_ptr_null(t->product);
	/* The task's params win over the job's, the rest is inherited. */
	ck_assert_uint_eq(t->params.n, 7);
	p = paramset_get(&t->params, "limit");
	ck_assert_int_eq(p->type, PARAM_INT);
	ck_assert(p->i == 5);
	ck_assert_str_eq(paramset_get(&t->params, "extra")->s, "e");
	ck_assert(paramset_get(&t->params, "ratio")->d == 0.25);

	t = &job->tasks[1];
	ck_assert_str_eq(t->plugin, "lib/y.so");
	s = tpath("jobs/lib/y.so");
	ck_assert_str_eq(t->plugin_path, s);
	free(s);
	ck_assert_int_eq(t->stage, MESHD_STAGE_CHECK);
	ck_assert(t->timeout_us == 0);
	ck_assert_uint_eq(t->params.n, 6);
	ck_assert(paramset_get(&t->params, "limit")->i == 100);

	t = &job->tasks[2];
	ck_assert_int_eq(t->stage, MESHD_STAGE_PUBLISH);
	ck_assert_str_eq(t->product, "ops.flights");
	ck_assert_uint_eq(t->nafter, 2);
	ck_assert_str_eq(t->after[0], "check");
	ck_assert_str_eq(t->after[1], "extract");
	ck_assert_int_eq(t->after_lines[0], 34);
	ck_assert_int_eq(t->after_lines[1], 35);
	/* Defaults. */
	ck_assert_int_eq(t->retries, 0);
	ck_assert(t->retry_delay_us == 10 * (int64_t)1000000);
	ck_assert(t->timeout_us == 3600 * (int64_t)1000000);

	ck_assert_ptr_nonnull(job->dag);
	ck_assert_uint_eq(dag_size(job->dag), 3);
	job_free(job);
	config_free(cfg);
}
END_TEST

START_TEST(test_job_minimal_defaults)
{
	struct meshd_config	*cfg;
	struct job_def		*job;

	job = load_job(&cfg, "jobs/minimal.conf");
	ck_assert_ptr_nonnull(job);
	ck_assert_str_eq(job->schedule, "none");
	ck_assert_ptr_null(job->description);
	ck_assert_ptr_null(job->start);
	ck_assert_ptr_null(job->end);
	ck_assert_uint_eq(job->params.n, 0);
	ck_assert_uint_eq(job->nproducts, 0);
	ck_assert_uint_eq(job->tasks[0].params.n, 0);
	job_free(job);
	config_free(cfg);
}
END_TEST

START_TEST(test_job_syntax)
{
	struct meshd_config	*cfg;

	ck_assert_ptr_null(load_job(&cfg, "jobs/syntax.conf"));
	ck_assert_uint_eq(errs.nerrors, 1);
	ck_diag("jobs/syntax.conf:3: error: syntax error");
	config_free(cfg);
}
END_TEST

START_TEST(test_job_unknown_key)
{
	struct meshd_config	*cfg;

	/* A misspelt key is an error, not a warning: `afer` would run the
	 * check beside the extract, `param` drop every parameter. */
	ck_assert_ptr_null(load_job(&cfg, "jobs/unknown-key.conf"));
	ck_assert_uint_eq(errs.nerrors, 6);
	ck_assert_uint_eq(errs.nwarnings, 0);
	ck_diag("unknown-key.conf:4: error: unknown key 'colour'");
	ck_diag("unknown-key.conf:5: error: unknown key 'param'; did you "
	    "mean 'params'?");
	ck_diag("unknown-key.conf:8: error: unknown key 'flavour' in "
	    "task 'a'");
	ck_diag("unknown-key.conf:10: error: unknown key 'afer' in task "
	    "'b'; did you mean 'after'?");
	ck_diag("unknown-key.conf:12: error: unknown key 'partition' in "
	    "input; did you mean 'partitions'?");
	ck_diag("unknown-key.conf:13: error: unknown key 'locaton' in "
	    "product 'ops.y'; did you mean 'location'?");
	config_free(cfg);
}
END_TEST

START_TEST(test_config_unknown_key)
{
	char	*p;

	copy_fixture("meshd-typo.conf");
	p = tpath("meshd-typo.conf");
	ck_assert_ptr_null(config_load(p, &errs));
	free(p);
	ck_assert_uint_eq(errs.nerrors, 4);
	ck_diag("meshd-typo.conf:3: error: unknown key 'workres'; did you "
	    "mean 'workers'?");
	ck_diag("meshd-typo.conf:4: error: unknown key 'colour'");
	ck_diag("meshd-typo.conf:5: error: unknown key 'sinc' in "
	    "'lineage'; did you mean 'sink'?");
	ck_diag("meshd-typo.conf:6: error: unknown key 'require_ownr' in "
	    "'policies' (a policy this meshd does not know is not "
	    "enforced); did you mean 'require_owner'?");
}
END_TEST

START_TEST(test_suggest)
{
	static const char *const keys[] = { "after", "params", "retries",
	    "retry_delay", "timeout", NULL };
	static const char *const few[] = { "sink", "path", NULL };
	char	*m;

	ck_assert_uint_eq(suggest_distance("afer", "after", 9), 1);
	ck_assert_uint_eq(suggest_distance("atfer", "after", 9), 1);
	ck_assert_uint_eq(suggest_distance("AFTER", "after", 9), 0);
	ck_assert_uint_eq(suggest_distance("", "after", 9), 5);
	ck_assert_uint_eq(suggest_distance("abcdef", "after", 2), 2);
	ck_assert_str_eq(suggest_word("afer", keys), "after");
	ck_assert_str_eq(suggest_word("param", keys), "params");
	ck_assert_str_eq(suggest_word("retires", keys), "retries");
	ck_assert_str_eq(suggest_word("retry_dealy", keys), "retry_delay");
	ck_assert_str_eq(suggest_word("timout", keys), "timeout");
	/* Too far to be a typo: no guess is better than a wrong one. */
	ck_assert_ptr_null(suggest_word("colour", keys));
	ck_assert_ptr_null(suggest_word("x", keys));
	ck_assert_ptr_null(suggest_word("", keys));
	m = suggest_unknown_key("sank", "in 'lineage'", few);
	ck_assert_str_eq(m, "unknown key 'sank' in 'lineage'; did you mean "
	    "'sink'?");
	free(m);
	m = suggest_unknown_key("colour", NULL, few);
	ck_assert_str_eq(m, "unknown key 'colour' (known keys: sink, path)");
	free(m);
}
END_TEST

START_TEST(test_job_wrong_type)
{
	struct meshd_config	*cfg;

	ck_assert_ptr_null(load_job(&cfg, "jobs/wrong-type.conf"));
	ck_assert_uint_eq(errs.nerrors, 1);
	ck_diag("wrong-type.conf:6: error: 'retries' must be an integer, "
	    "not a string");
	config_free(cfg);
}
END_TEST

START_TEST(test_job_missing_plugin)
{
	struct meshd_config	*cfg;
	char			*want;

	ck_assert_ptr_null(load_job(&cfg, "jobs/missing-plugin.conf"));
	ck_assert_uint_eq(errs.nerrors, 1);
	want = xasprintf("missing-plugin.conf:6: error: plugin 'nosuch' not "
	    "found (searched: %s/plugins, /nonexistent/meshd/plugins)", tmp);
	ck_diag(want);
	free(want);
	config_free(cfg);
}
END_TEST

START_TEST(test_job_missing_keys)
{
	struct meshd_config	*cfg;

	ck_assert_ptr_null(load_job(&cfg, "jobs/missing-keys.conf"));
	ck_diag("missing-keys.conf:1: error: missing required key 'domain'");
	ck_diag("missing-keys.conf:1: error: missing required key 'owner'");
	ck_diag("missing-keys.conf:3: error: task 'a': missing required key "
	    "'plugin'");
	ck_diag("missing-keys.conf:3: error: task 'a': missing required key "
	    "'stage'");
	ck_diag("missing-keys.conf:4: error: task 2: missing required key "
	    "'id'");
	ck_assert_uint_eq(errs.nerrors, 5);
	config_free(cfg);
}
END_TEST

START_TEST(test_job_two_errors)
{
	struct meshd_config	*cfg;

	ck_assert_ptr_null(load_job(&cfg, "jobs/two-errors.conf"));
	ck_assert_uint_eq(errs.nerrors, 2);
	ck_diag("two-errors.conf:6: error: 'timeout' must be at least 0 "
	    "seconds, not -1");
	ck_diag("two-errors.conf:9: error: param 'nested' must be an integer, "
	    "float, boolean or string, not a group");
	config_free(cfg);
}
END_TEST

START_TEST(test_job_bad_stage)
{
	struct meshd_config	*cfg;

	ck_assert_ptr_null(load_job(&cfg, "jobs/bad-stage.conf"));
	ck_assert_uint_eq(errs.nerrors, 1);
	ck_diag("bad-stage.conf:6: error: unknown stage 'transform' in task "
	    "'a' (expected extract, check or publish)");
	config_free(cfg);
}
END_TEST

START_TEST(test_job_unknown_var)
{
	struct meshd_config	*cfg;

	ck_assert_ptr_null(load_job(&cfg, "jobs/unknown-var.conf"));
	ck_assert_uint_eq(errs.nerrors, 1);
	ck_diag("unknown-var.conf:6: error: unknown variable '${outdir}' in "
	    "param 'dest'");
	config_free(cfg);
}
END_TEST

START_TEST(test_job_cycle_and_type)
{
	struct meshd_config	*cfg;

	/* A bad value does not hide the graph's own errors. */
	ck_assert_ptr_null(load_job(&cfg, "jobs/cycle.conf"));
	ck_diag("cycle.conf:7: error: 'retries' must be an integer, "
	    "not a float");
	ck_diag("cycle.conf:5: error: cycle: a -> b -> a");
	ck_assert_uint_eq(errs.nerrors, 2);
	config_free(cfg);
}
END_TEST

/*
 * Two files cannot claim one name: a job's file is jobs/NAME.conf, so the
 * second file's name does not match (the duplicate-name rule of jobs_load
 * is now a second line of defence).
 */
START_TEST(test_jobs_duplicate_name)
{
	struct meshd_config	*cfg = load_cfg();
	struct jobset		 js = { NULL, 0, NULL, 0, NULL, 0 };
	char			*want;

	copy_fixture("dup/a.conf");
	copy_fixture("dup/b.conf");
	free(cfg->jobs_dir);
	cfg->jobs_dir = tpath("dup");
	ck_assert_int_eq(jobs_load(cfg, &js, &errs), -1);
	ck_assert_uint_eq(js.n, 1);
	ck_assert_str_eq(js.v[0]->tasks[0].id, "a");
	ck_assert_ptr_eq(jobset_find(&js, "a"), js.v[0]);
	ck_assert_ptr_null(jobset_find(&js, "other"));
	ck_assert_uint_eq(errs.nerrors, 1);
	want = xasprintf("dup/b.conf:2: error: job name 'a' does not match "
	    "the file's name b.conf (the job file of job 'a' is a.conf)");
	ck_diag(want);
	free(want);
	jobset_free(&js);
	ck_assert_uint_eq(js.n, 0);
	config_free(cfg);
}
END_TEST

START_TEST(test_jobs_errors_in_two_files)
{
	struct meshd_config	*cfg = load_cfg();
	struct jobset		 js = { NULL, 0, NULL, 0, NULL, 0 };

	copy_fixture("multi/a-good.conf");
	copy_fixture("multi/b-bad.conf");
	copy_fixture("multi/c-bad.conf");
	copy_fixture("multi/README");
	free(cfg->jobs_dir);
	cfg->jobs_dir = tpath("multi");
	ck_assert_int_eq(jobs_load(cfg, &js, &errs), -1);
	ck_assert_uint_eq(errs.nerrors, 2);
	ck_diag("multi/b-bad.conf:4: error: 'retries' must be at least 0, "
	    "not -3");
	ck_diag("multi/c-bad.conf:1: error: job name 'bad c' is not valid");
	/* The good job is still loaded. */
	ck_assert_uint_eq(js.n, 1);
	ck_assert_str_eq(js.v[0]->name, "a-good");
	jobset_free(&js);
	config_free(cfg);
}
END_TEST

START_TEST(test_jobs_sorted)
{
	struct meshd_config	*cfg = load_cfg();
	struct jobset		 js = { NULL, 0, NULL, 0, NULL, 0 };

	copy_fixture("jobs/sorted-last.conf");
	copy_fixture("jobs/minimal.conf");
	touch("jobs/lib/y.so");
	copy_fixture("jobs/full.conf");
	ck_assert_int_eq(jobs_load(cfg, &js, &errs), 0);
	ck_assert_uint_eq(js.n, 3);
	ck_assert_str_eq(js.v[0]->name, "full");
	ck_assert_str_eq(js.v[1]->name, "minimal");
	ck_assert_str_eq(js.v[2]->name, "sorted-last");
	jobset_free(&js);
	config_free(cfg);
}
END_TEST

START_TEST(test_jobs_dir_unreadable)
{
	struct meshd_config	*cfg = load_cfg();
	struct jobset		 js = { NULL, 0, NULL, 0, NULL, 0 };
	char			*want;

	/* jobs/ was never created in the test tree. */
	ck_assert_int_eq(jobs_load(cfg, &js, &errs), -1);
	ck_assert_uint_eq(js.n, 0);
	want = xasprintf("%s/jobs:0: error: cannot read jobs directory: %s",
	    tmp, strerror(ENOENT));
	ck_diag(want);
	free(want);
	config_free(cfg);
}
END_TEST

/* ------------------------------------------------------------ helpers */

START_TEST(test_helpers)
{
	struct paramset	ps = { NULL, 0 };
	struct param	p;

	ck_assert_str_eq(stage_name(MESHD_STAGE_EXTRACT), "extract");
	ck_assert_str_eq(stage_name(MESHD_STAGE_CHECK), "check");
	ck_assert_str_eq(stage_name(MESHD_STAGE_PUBLISH), "publish");
	ck_assert_str_eq(stage_name(7), "unknown");
	ck_assert_int_eq(stage_from_name("publish"), MESHD_STAGE_PUBLISH);
	ck_assert_int_eq(stage_from_name("Extract"), -1);
	ck_assert_int_eq(stage_from_name(""), -1);

	ck_assert_str_eq(param_type_name(PARAM_INT), "int");
	ck_assert_str_eq(param_type_name(PARAM_DOUBLE), "double");
	ck_assert_str_eq(param_type_name(PARAM_BOOL), "bool");
	ck_assert_str_eq(param_type_name(PARAM_STRING), "string");

	memset(&p, 0, sizeof p);
	p.key = (char *)(uintptr_t)"k";
	p.type = PARAM_STRING;
	p.s = (char *)(uintptr_t)"one";
	paramset_set(&ps, &p);
	p.s = (char *)(uintptr_t)"two";
	paramset_set(&ps, &p);
	ck_assert_uint_eq(ps.n, 1);
	ck_assert_str_eq(paramset_get(&ps, "k")->s, "two");
	ck_assert_ptr_ne(paramset_get(&ps, "k")->s, p.s);
	p.type = PARAM_INT;
	p.s = NULL;
	p.i = 3;
	paramset_set(&ps, &p);
	ck_assert_int_eq(paramset_get(&ps, "k")->type, PARAM_INT);
	ck_assert_ptr_null(paramset_get(&ps, "k")->s);
	paramset_free(&ps);
	ck_assert_uint_eq(ps.n, 0);
	ck_assert_ptr_null(ps.v);
}
END_TEST

/* Write `text` (len bytes: it may hold a NUL) to rel under tmp. */
static char *
write_text(const char *rel, const char *text, size_t len)
{
	char	*p = tpath(rel), *dir = path_dirname(p);
	FILE	*f;

	ck_assert_int_eq(mkdir_p(dir, 0755, NULL), 0);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(dir);
	return p;
}

/* A minutely job started 250,000 minutes (2.5 x SCHED_MAX_DUE) before
 * now, with catch-up `catchup`. */
static struct job_def *
catchup_job(struct meshd_config *cfg, const char *catchup)
{
	struct job_def	*job;
	char		*p, *text;

	touch("jobs/lib/y.so");
	text = xasprintf("name = \"m\"; domain = \"d\"; owner = \"o\";\n"
	    "schedule = \"* * * * *\"; start = \"2000-01-01T00:00\";\n"
	    "catchup = \"%s\";\n"
	    "tasks = ( { id = \"a\"; plugin = \"lib/y.so\"; stage = "
	    "\"check\"; } );\n", catchup);
	p = write_text("jobs/m.conf", text, strlen(text));
	job = job_load_file(cfg, p, &errs);
	ck_assert_msg(job != NULL, "%s", dump());
	free(text);
	free(p);
	return job;
}

/*
 * An outage longer than SCHED_MAX_DUE intervals: "none", "latest" and
 * "last N" skip it whole at the catch-up pass (the watermark reaches now),
 * and the next, ordinary pass finds nothing; "all" creates them in slices
 * of SCHED_MAX_DUE.  (The daemon used to stop at the cap and run the rest
 * as new intervals at its next pass.)
 */
START_TEST(test_sched_catchup_outage)
{
	struct meshd_config	*cfg = load_cfg();
	struct job_def		*job;
	struct due_interval	*due;
	const int64_t		 start = 946684800LL * 1000000;	/* 2000 */
	const int64_t		 now = start + 250000LL * 60 * 1000000;
	static const char *const modes[] = { "none", "latest", "last 3" };
	static const size_t	 want[] = { 0, 1, 3 };
	int64_t			 wm;
	size_t			 i, n, total;

	for (i = 0; i < 3; i++) {
		job = catchup_job(cfg, modes[i]);
		wm = 0;
		n = sched_due(job, &wm, now, 1, &due);
		ck_assert_msg(n == want[i], "%s: %zu due", modes[i], n);
		ck_assert_int_eq(wm, now);
		if (n > 0) {
			/* the newest, oldest first */
			ck_assert_int_eq(due[n - 1].end, now);
			ck_assert_int_eq(due[0].start, now - (int64_t)n *
			    60 * 1000000);
			ck_assert_str_eq(due[n - 1].key, "2000-06-22T14:39");
		}
		due_free(due, n);
		ck_assert_uint_eq(sched_due(job, &wm, now, 0, &due), 0);
		ck_assert_int_eq(sched_next(job, wm, now), now + 60 * 1000000);
		job_free(job);
	}
	job = catchup_job(cfg, "all");
	wm = 0;
	total = 0;
	n = sched_due(job, &wm, now, 1, &due);
	ck_assert_uint_eq(n, SCHED_MAX_DUE);
	ck_assert_int_eq(due[0].start, start);
	due_free(due, n);
	total += n;
	while ((n = sched_due(job, &wm, now, 0, &due)) > 0) {
		due_free(due, n);
		total += n;
	}
	ck_assert_uint_eq(total, 250000);
	ck_assert_int_eq(wm, now);
	job_free(job);
	config_free(cfg);
}
END_TEST

/*
 * libconfig 1.5 wraps an integer without an L suffix to 32 bits: the value
 * is read again as written, refused out of range, and quoted as written.
 */
START_TEST(test_limits_config_ints)
{
	static const char text[] =
	    "workers = 99999999999;\n"			/* 1215752191 wrapped */
	    "kill_grace = 4294967301;\n"		/* 5 wrapped */
	    "heartbeat_timeout = 0x7fffffffffffffffff;\n"
	    "worker_max_tasks = 1000000;\n"		/* the maximum: fine */
	    "pools = { w = 4294967297; };\n";		/* 1 wrapped */
	char	*p = write_text("limits.conf", text, sizeof text - 1);

	ck_assert_ptr_null(config_load(p, &errs));
	ck_assert_uint_eq(errs.nerrors, 4);
	ck_diag("limits.conf:1: error: 'workers' must be at most 1024, not "
	    "99999999999");
	ck_diag("limits.conf:2: error: 'kill_grace' must be at most 3600, not "
	    "4294967301");
	ck_diag("limits.conf:3: error: 'heartbeat_timeout' must be at most "
	    "3600, not 0x7fffffffffffffffff (which does not even fit in 64 "
	    "bits)");
	ck_diag("limits.conf:5: error: 'w' must be at most 1024, not "
	    "4294967297");
	free(p);
}
END_TEST

/* A NUL byte anywhere refuses the file, at its line and column. */
START_TEST(test_limits_nul)
{
	static const char text[] = "workers = 2;\njobs_dir = \"jo\0bs\";\n";
	char	*p = write_text("nul.conf", text, sizeof text - 1);

	ck_assert_ptr_null(config_load(p, &errs));
	ck_assert_uint_eq(errs.nerrors, 1);
	ck_diag("nul.conf:2: error: NUL byte at column 15");
	free(p);
}
END_TEST

/* Job files: a wrapped timeout, a long name, an escaped NUL, a name that
 * is not its file's; each refused at its line. */
START_TEST(test_limits_job)
{
	struct meshd_config	*cfg = load_cfg();
	char			*p, *text, name[200];

	touch("jobs/lib/y.so");
	text = xstrdup("name = \"t\"; domain = \"d\"; owner = \"o\";\n"
	    "tasks = ( { id = \"a\"; plugin = \"lib/y.so\"; stage = "
	    "\"check\";\n timeout = 4294967396; } );\n");
	p = write_text("jobs/t.conf", text, strlen(text));
	free(text);
	ck_assert_ptr_null(job_load_file(cfg, p, &errs));
	ck_diag("t.conf:3: error: 'timeout' must be between 0 and 1000000000 "
	    "seconds, not 4294967396");
	free(p);

	/* The name twice on one line: a decoy that would pass does not
	 * hide the value libconfig wrapped. */
	text = xstrdup("name = \"u\"; domain = \"d\"; owner = \"o\";\n"
	    "tasks = ( { id = \"a\"; plugin = \"lib/y.so\"; stage = "
	    "\"check\";\n params = { retries = 1; s = \"timeout = 5\"; }; "
	    "retries = 4294967297; timeout = 4294967396; } );\n");
	p = write_text("jobs/u.conf", text, strlen(text));
	free(text);
	ck_assert_ptr_null(job_load_file(cfg, p, &errs));
	ck_diag("u.conf:3: error: 'retries' must be at most 1000, not "
	    "4294967297");
	ck_diag("u.conf:3: error: 'timeout' must be between 0 and 1000000000 "
	    "seconds, not 4294967396");
	free(p);

	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	text = xasprintf("name = \"%s\"; domain = \"d\"; owner = \"o\";\n"
	    "tasks = ( { id = \"a\"; plugin = \"lib/y.so\"; stage = "
	    "\"check\"; } );\n", name);
	p = write_text("jobs/long.conf", text, strlen(text));
	ck_assert_ptr_null(job_load_file(cfg, p, &errs));
	ck_diag("long.conf:1: error: job name 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	    "...' is not valid: it is 199 bytes long, at most 128");
	free(text);
	free(p);

	text = xstrdup("name = \"e\\x00\"; domain = \"d\"; owner = \"o\";\n"
	    "tasks = ( { id = \"a\"; plugin = \"lib/y.so\"; stage = "
	    "\"check\"; } );\n");
	p = write_text("jobs/e.conf", text, strlen(text));
	ck_assert_ptr_null(job_load_file(cfg, p, &errs));
	ck_diag("e.conf:1: error: job name 'e' is not valid: it is written "
	    "with an escape sequence");
	free(text);
	free(p);

	text = xstrdup("name = \"x\"; domain = \"d\"; owner = \"o\";\n"
	    "tasks = ( { id = \"a\"; plugin = \"lib/y.so\"; stage = "
	    "\"check\"; } );\n");
	p = write_text("jobs/y.conf", text, strlen(text));
	ck_assert_ptr_null(job_load_file(cfg, p, &errs));
	ck_diag("y.conf:1: error: job name 'x' does not match the file's name "
	    "y.conf");
	free(text);
	free(p);
	config_free(cfg);
}
END_TEST

START_TEST(test_limits_helpers)
{
	char	*cause = NULL, *q;

	ck_assert_int_eq(limit_name("ops.flights_daily-2", "_.-", NULL), 0);
	ck_assert_int_eq(limit_name("a/b", "_.-", &cause), -1);
	ck_assert_str_eq(cause, "has '/' at byte 2");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(limit_name("a\tb", "_.-", &cause), -1);
	ck_assert_str_eq(cause, "has byte 0x09 at byte 2");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(limit_name("", "", &cause), -1);
	free(cause);
	cause = NULL;
	q = limit_quote("\001abc");
	ck_assert_str_eq(q, "\\x01abc");
	free(q);
}
END_TEST

/* ------------------------------------------------------------ executors */

START_TEST(test_config_executors)
{
	static const char text[] =
	    "staging_dir = \"st\";\n"
	    "executors = {\n"
	    "  hpc = { type = \"slurm\"; partition = \"debug\";\n"
	    "          sbatch_args = [ \"--account=x\", \"--qos=low\" ];\n"
	    "          max_jobs = 50; time_limit = \"90\"; };\n"
	    "  burst = { type = \"slurm\"; mode = \"pilot\"; pilots = 3;\n"
	    "            listen = \"127.0.0.1:0\"; secret_file = \"s\"; };\n"
	    "};\n"
	    "pools = { io = 2; big = { slots = 7; executor = \"hpc\"; }; };\n";
	struct meshd_config	*cfg;
	char			*p = write_text("x.conf", text, sizeof text - 1);
	const struct executor_def *d;

	cfg = config_load(p, &errs);
	ck_assert_msg(cfg != NULL, "%s", dump());
	ck_assert_uint_eq(cfg->nexecutors, 2);
	d = &cfg->executors[0];
	ck_assert_str_eq(d->name, "hpc");
	ck_assert_int_eq(d->mode, XMODE_JOB);
	ck_assert_str_eq(d->partition, "debug");
	ck_assert_uint_eq(d->nsbatch_args, 2);
	ck_assert_str_eq(d->sbatch_args[1], "--qos=low");
	ck_assert_int_eq(d->max_jobs, 50);
	ck_assert_int_eq(d->poll_ms, 1000);
	ck_assert_ptr_nonnull(strstr(d->spool_dir, "st/.slurm/hpc"));
	d = &cfg->executors[1];
	ck_assert_int_eq(d->mode, XMODE_PILOT);
	ck_assert_int_eq(d->pilots, 3);
	ck_assert_int_eq(d->pilot_slots, 1);
	ck_assert_ptr_nonnull(strstr(d->secret_file, "/s"));
	ck_assert_int_eq(config_executor_index(cfg, "local"), 0);
	ck_assert_int_eq(config_executor_index(cfg, NULL), 0);
	ck_assert_int_eq(config_executor_index(cfg, "burst"), 2);
	ck_assert_int_eq(config_executor_index(cfg, "nope"), -1);
	ck_assert_str_eq(config_executor_name(cfg, 1), "hpc");
	ck_assert_str_eq(config_executor_name(cfg, 0), "local");
	ck_assert_ptr_null(cfg->pools[0].executor);
	ck_assert_str_eq(cfg->pools[1].executor, "hpc");
	ck_assert_int_eq(cfg->pools[1].slots, 7);
	config_free(cfg);
	free(p);
}
END_TEST

/* Every mistake at its line, with the closest key or name. */
START_TEST(test_config_executors_bad)
{
	static const char text[] =
	    "executors = {\n"
	    "  hpc = { type = \"slurm\"; partiton = \"debug\"; };\n"	/* 2 */
	    "  k8s = { type = \"kubernetes\"; };\n"			/* 3 */
	    "  p = { type = \"slurm\"; mode = \"pilot\"; };\n"		/* 4 */
	    "  local = { type = \"slurm\"; };\n"			/* 5 */
	    "  m = { type = \"slurm\"; max_jobs = 0; mode = \"jobs\"; };\n"
	    "  o = { type = \"slurm\"; sbatch_args = [ \"--qos=x\",\n"
	    "        \"--output=/tmp/x\", \"-Jname\" ]; };\n"		/* 7, 8 */
	    "};\n"
	    "pools = { big = { slots = 2; executor = \"hcp\"; }; };\n"; /* 10 */
	char	*p = write_text("x.conf", text, sizeof text - 1);

	ck_assert_ptr_null(config_load(p, &errs));
	free(p);
	ck_diag("x.conf:2: error: unknown key 'partiton' in executor 'hpc'; "
	    "did you mean 'partition'?");
	ck_diag("x.conf:3: error: executor 'k8s': unknown type 'kubernetes'");
	ck_diag("x.conf:4: error: executor 'p': pilot mode needs listen");
	ck_diag("x.conf:4: error: executor 'p': pilot mode needs secret_file");
	ck_diag("x.conf:5: error: 'local' is the embedded worker pool");
	ck_diag("x.conf:6: error: max_jobs is 0; it must be between 1");
	ck_diag("x.conf:6: error: executor 'm': mode must be \"job\" or "
	    "\"pilot\", not 'jobs'");
	ck_diag("x.conf:10: error: pool 'big': unknown executor 'hcp'; did "
	    "you mean 'hpc'?");
	ck_diag("x.conf:8: error: sbatch_args: '--output=/tmp/x' is meshd's "
	    "to set (the output path in the spool marks this meshd's jobs)");
	ck_diag("x.conf:8: error: sbatch_args: '-Jname' is meshd's to set");
}
END_TEST

/* A task picks an executor, or inherits its pool's; an unknown one is
 * refused at its line. */
START_TEST(test_job_executor)
{
	static const char conf[] =
	    "jobs_dir = \"j\";\nplugin_path = \"plugins\";\n"
	    "executors = { hpc = { type = \"slurm\"; }; };\n"
	    "pools = { big = { slots = 2; executor = \"hpc\"; }; };\n";
	static const char job[] =
	    "name = \"x\"; domain = \"t\"; owner = \"t@example.org\";\n"
	    "tasks = (\n"
	    "  { id = \"a\"; plugin = \"x\"; stage = \"extract\";\n"
	    "    executor = \"hpc\"; },\n"
	    "  { id = \"b\"; plugin = \"x\"; stage = \"extract\";\n"
	    "    pool = \"big\"; },\n"
	    "  { id = \"c\"; plugin = \"x\"; stage = \"extract\";\n"
	    "    pool = \"big\"; executor = \"local\"; },\n"
	    "  { id = \"d\"; plugin = \"x\"; stage = \"extract\"; }\n"
	    ");\n";
	static const char bad[] =
	    "name = \"y\"; domain = \"t\"; owner = \"t@example.org\";\n"
	    "tasks = (\n"
	    "  { id = \"a\"; plugin = \"x\"; stage = \"extract\";\n"
	    "    executor = \"hcp\"; }\n"
	    ");\n";
	struct meshd_config	*cfg;
	struct job_def		*j;
	char			*p, *jp;

	p = write_text("x.conf", conf, sizeof conf - 1);
	cfg = config_load(p, &errs);
	ck_assert_msg(cfg != NULL, "%s", dump());
	jp = write_text("j/x.conf", job, sizeof job - 1);
	j = job_load_file(cfg, jp, &errs);
	ck_assert_msg(j != NULL, "%s", dump());
	ck_assert_int_eq(j->tasks[0].executor_index, 1);
	ck_assert_int_eq(j->tasks[1].executor_index, 1);
	ck_assert_int_eq(j->tasks[2].executor_index, 0);
	ck_assert_int_eq(j->tasks[3].executor_index, 0);
	job_free(j);
	free(jp);
	jp = write_text("j/y.conf", bad, sizeof bad - 1);
	ck_assert_ptr_null(job_load_file(cfg, jp, &errs));
	ck_diag("y.conf:4: error: task 'a': unknown executor 'hcp'; did you "
	    "mean 'hpc'? (meshd.conf declares: local, hpc)");
	free(jp);
	free(p);
	config_free(cfg);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("meshd.conf");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_config_full);
	tcase_add_test(tc, test_config_unknown_key);
	tcase_add_test(tc, test_suggest);
	tcase_add_test(tc, test_config_empty_defaults);
	tcase_add_test(tc, test_config_defaults);
	tcase_add_test(tc, test_config_bad_values);
	tcase_add_test(tc, test_config_syntax);
	tcase_add_test(tc, test_config_missing);
	tcase_add_test(tc, test_config_default_path);
	tcase_add_test(tc, test_find_plugin);
	tcase_add_test(tc, test_config_executors);
	tcase_add_test(tc, test_config_executors_bad);
	tcase_add_test(tc, test_job_executor);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_limits_config_ints);
	tcase_add_test(tc, test_limits_nul);
	tcase_add_test(tc, test_limits_job);
	tcase_add_test(tc, test_limits_helpers);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("jobs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_job_full);
	tcase_add_test(tc, test_job_minimal_defaults);
	tcase_add_test(tc, test_job_syntax);
	tcase_add_test(tc, test_job_unknown_key);
	tcase_add_test(tc, test_job_wrong_type);
	tcase_add_test(tc, test_job_missing_plugin);
	tcase_add_test(tc, test_job_missing_keys);
	tcase_add_test(tc, test_job_two_errors);
	tcase_add_test(tc, test_job_bad_stage);
	tcase_add_test(tc, test_job_unknown_var);
	tcase_add_test(tc, test_job_cycle_and_type);
	tcase_add_test(tc, test_jobs_duplicate_name);
	tcase_add_test(tc, test_jobs_errors_in_two_files);
	tcase_add_test(tc, test_jobs_sorted);
	tcase_add_test(tc, test_sched_catchup_outage);
	tcase_add_test(tc, test_jobs_dir_unreadable);
	tcase_add_test(tc, test_helpers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(config_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
