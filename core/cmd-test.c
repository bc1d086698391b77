/*
 * cmd-test.c -- meshctl test: try a job's stages on one partition without
 * touching production (the model is `airflow tasks test` and `dbt test`).
 *
 * The tasks run on the same engine and worker pool as a real run
 * (runner.c), so a crash or a timeout is contained as in production, but
 * against a scratch area (runner_scratch_open): a throwaway state
 * database, logs and staging in a new temporary directory, and every
 * output location of the tested tasks' products pointed inside it.  The
 * real state is never opened, so this works beside a running meshd and
 * cannot change what it sees.  A publish task never runs.  What the
 * stages read (the job's params, the published inputs in the warehouse)
 * is the real thing: reading is what a test is for.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dag.h"
#include "executor.h"
#include "loader.h"
#include "meshctl.h"
#include "policy.h"
#include "read.h"
#include "runner.h"

static int	cmd_test_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_test_entry = {
	.name = "test",
	.args = "JOB [--partition KEY] [--task T]... [--param K=V]... "
	    "[--keep] [--json]",
	.summary = "try a job's stages on one partition in a scratch "
	    "directory, never publishing",
	.help =
	"Runs the tasks of the job up to and including T (T and every task it\n"
	"runs after) for one partition, by default every task that is not a\n"
	"publish task nor runs after one: extract and check.  A publish task\n"
	"never runs: naming one, or a task after one, is refused.\n"
	"\n"
	"The tasks run on the same worker pool as a real run, with the job's\n"
	"timeouts and meshd.conf's limits, so a crash or a hang costs an\n"
	"attempt, not meshctl.  Each task runs once (no retries).  They run\n"
	"against a scratch directory (under $TMPDIR, default /tmp): a throwaway\n"
	"state database, the attempt logs, the staging areas, and the output\n"
	"location of every product they build.  The real state database is\n"
	"never opened and no lock is taken: it works while meshd runs, and\n"
	"leaves its state and the products' locations as they were.  The\n"
	"stages read what they would read in production (params, the published\n"
	"inputs in the warehouse).\n"
	"\n"
	"Prints each attempt's log under a header (the last 256 KiB of it),\n"
	"then the table of checks recorded: name, level, passed, observed,\n"
	"expected.\n"
	"\n"
	"  -p, --partition KEY  the partition (default: the latest complete\n"
	"                       interval of a scheduled job, 'current' otherwise)\n"
	"  -t, --task T         run T and the tasks it runs after; repeatable\n"
	"  -P, --param K=V      set param K to V in every task run (read as the\n"
	"                       type the job file gives K, else a string);\n"
	"                       repeatable\n"
	"  -k, --keep           keep the scratch directory and print its path\n"
	"  -w, --workers N      worker processes (default: meshd.conf's, at most\n"
	"                       one per task)\n"
	"      --json           print the result as JSON, logs included\n"
	"\n"
	"Exit status: 0 if every task run succeeded and every error-level check\n"
	"passed, 1 otherwise (or interrupted), 2 for a usage error, unknown job\n"
	"or task, a publish task, a bad partition or param, 3 if the scratch\n"
	"area cannot be made.\n",
	.exec = cmd_test_exec,
};

/* A log is shown from this many bytes before its end. */
#define TEST_LOG_SHOW	(256 * 1024)

/* The job as the test runs it: a copy of the real definition holding only
 * the selected tasks, with the params overridden, no retries, and every
 * product's location in the scratch area.  Shares the rest with the
 * real job. */
struct test_job {
	struct job_def		 job;
	struct task_def		*tasks;
	size_t			 ntasks;
	struct product_override	*products;
	size_t			 nproducts;
};

static void
test_job_free(struct test_job *tj)
{
	size_t	i;

	for (i = 0; i < tj->ntasks; i++)
		paramset_free(&tj->tasks[i].params);
	free(tj->tasks);
	for (i = 0; i < tj->nproducts; i++) {
		free(tj->products[i].name);
		free(tj->products[i].location);
	}
	free(tj->products);
	if (tj->job.dag != NULL)
		dag_free(tj->job.dag);
	memset(tj, 0, sizeof *tj);
}

/* Point product `name` at the scratch output directory (once). */
static void
test_job_product(struct test_job *tj, const char *out, const char *name)
{
	size_t	i;

	for (i = 0; i < tj->nproducts; i++)
		if (strcmp(tj->products[i].name, name) == 0)
			return;
	tj->products = xreallocarray(tj->products, tj->nproducts + 1,
	    sizeof *tj->products);
	tj->products[tj->nproducts].name = xstrdup(name);
	tj->products[tj->nproducts].location = xasprintf("%s/%s", out, name);
	tj->products[tj->nproducts].line = 0;
	tj->nproducts++;
}

/* Mark in `sel` task i and every task it runs after. */
static void
select_with_ancestors(const struct dag *d, size_t i, unsigned char *sel)
{
	const size_t	*pred;
	size_t		 k, np;

	if (sel[i])
		return;
	sel[i] = 1;
	pred = dag_pred(d, i);
	np = dag_npred(d, i);
	for (k = 0; k < np; k++)
		select_with_ancestors(d, pred[k], sel);
}

/* The first publish task among the selected ones, or -1. */
static long
selected_publish(const struct job_def *job, const unsigned char *sel)
{
	size_t	i;

	for (i = 0; i < job->ntasks; i++)
		if (sel[i] && job->tasks[i].stage == MESHD_STAGE_PUBLISH)
			return (long)i;
	return -1;
}

/*
 * Which tasks run: those named and their ancestors, else every task with
 * no publish task among itself and its ancestors.  0, or -1 after saying
 * why (a usage error).
 */
static int
test_select(const struct job_def *job, char **names, size_t nnames,
    unsigned char *sel)
{
	unsigned char	*one;
	size_t		 i, k;
	long		 p;
	int		 idx;

	memset(sel, 0, job->ntasks);
	if (nnames == 0) {
		one = xcalloc(job->ntasks, 1);
		for (i = 0; i < job->ntasks; i++) {
			memset(one, 0, job->ntasks);
			select_with_ancestors(job->dag, i, one);
			if (selected_publish(job, one) != -1)
				continue;
			for (k = 0; k < job->ntasks; k++)
				sel[k] |= one[k];
		}
		free(one);
		if (memchr(sel, 1, job->ntasks) == NULL) {
			ctl_error("job '%s' has no task to test: every task "
			    "is a publish task or runs after one", job->name);
			return -1;
		}
		return 0;
	}
	for (k = 0; k < nnames; k++) {
		if ((idx = job_task_index(job, names[k])) < 0) {
			char *list = NULL, *n;

			for (i = 0; i < job->ntasks; i++) {
				n = xasprintf("%s%s%s", list != NULL ? list :
				    "", list != NULL ? ", " : "",
				    job->tasks[i].id);
				free(list);
				list = n;
			}
			ctl_error("job '%s' has no task '%s' (tasks: %s)",
			    job->name, names[k], list != NULL ? list : "none");
			free(list);
			return -1;
		}
		if (job->tasks[idx].stage == MESHD_STAGE_PUBLISH) {
			ctl_error("task '%s' of job '%s' is a publish task: "
			    "meshctl test never publishes (meshctl run or "
			    "trigger do)", names[k], job->name);
			return -1;
		}
		one = xcalloc(job->ntasks, 1);
		select_with_ancestors(job->dag, (size_t)idx, one);
		p = selected_publish(job, one);
		if (p != -1) {
			ctl_error("task '%s' of job '%s' runs after publish "
			    "task '%s': meshctl test never publishes",
			    names[k], job->name, job->tasks[p].id);
			free(one);
			return -1;
		}
		for (i = 0; i < job->ntasks; i++)
			sel[i] |= one[i];
		free(one);
	}
	return 0;
}

/* Apply one --param K=V to the params of `td`.  0, or -1 after saying
 * why. */
static int
test_param(const struct job_def *job, struct task_def *td, const char *kv)
{
	const struct param	*decl;
	struct param		 p;
	const char		*eq = strchr(kv, '=');
	char			*key, *cause = NULL;
	int			 rc = -1;

	if (eq == NULL || eq == kv) {
		ctl_error("--param %s: not KEY=VALUE", kv);
		return -1;
	}
	key = xstrndup(kv, (size_t)(eq - kv));
	if (param_check_value(key, eq + 1, &cause) != 0) {
		ctl_error("--param %s", cause);
		goto out;
	}
	decl = paramset_get(&td->params, key);
	if (param_from_string(decl != NULL ? decl->type : PARAM_STRING, key,
	    eq + 1, &p) != 0) {
		ctl_error("--param %s=%s: job '%s' (task '%s') makes '%s' %s, "
		    "and '%s' is not one", key, eq + 1, job->name, td->id, key,
		    param_type_phrase(decl != NULL ? decl->type :
		    PARAM_STRING), eq + 1);
		goto out;
	}
	paramset_set(&td->params, &p);
	rc = 0;
out:
	free(cause);
	free(key);
	return rc;
}

/*
 * Build the job the test runs.  The products of every tested task's
 * plugin (described in a child process, as the engine does) and the
 * job file's own overrides get a location in the scratch area: a stage
 * that writes to meshd_output_location() writes there.  0, or -1 after
 * saying why.
 */
static int
test_job_build(const struct job_def *job, const unsigned char *sel,
    char **params, size_t nparams, const char *out, struct test_job *tj)
{
	struct errlist		 errs = ERRLIST_INIT;
	struct plugin_info	*pi;
	char			*why = NULL;
	size_t			 i, k, j;

	memset(tj, 0, sizeof *tj);
	tj->job = *job;
	tj->job.dag = NULL;
	tj->tasks = xcalloc(job->ntasks, sizeof *tj->tasks);
	for (i = 0; i < job->ntasks; i++) {
		struct task_def	*td;

		if (!sel[i])
			continue;
		td = &tj->tasks[tj->ntasks++];
		*td = job->tasks[i];
		memset(&td->params, 0, sizeof td->params);
		for (k = 0; k < job->tasks[i].params.n; k++)
			paramset_set(&td->params, &job->tasks[i].params.v[k]);
		/* Once: a test says what happened, not what a retry hid. */
		td->retries = 0;
		for (k = 0; k < nparams; k++)
			if (test_param(job, td, params[k]) != 0)
				return -1;
		if (td->product != NULL)
			test_job_product(tj, out, td->product);
		for (j = 0; j < i; j++)
			if (sel[j] && strcmp(job->tasks[j].plugin_path,
			    td->plugin_path) == 0)
				break;
		if (j < i)
			continue;	/* this plugin is described already */
		if ((pi = loader_probe(td->plugin_path, &why)) == NULL) {
			/* The worker refuses it again, with the reason. */
			free(why);
			why = NULL;
			continue;
		}
		for (k = 0; k < pi->nproducts; k++)
			test_job_product(tj, out, pi->products[k].name);
		plugin_info_free(pi);
	}
	for (i = 0; i < job->nproducts; i++)
		test_job_product(tj, out, job->products[i].name);
	tj->job.tasks = tj->tasks;
	tj->job.ntasks = tj->ntasks;
	tj->job.products = tj->products;
	tj->job.nproducts = tj->nproducts;
	/* The selection holds every task's ancestors: its edges stay. */
	if ((tj->job.dag = dag_build(&tj->job, &errs)) == NULL) {
		errlist_print(&errs, stderr);
		errlist_free(&errs);
		return -1;
	}
	errlist_free(&errs);
	return 0;
}

/* The last TEST_LOG_SHOW bytes of a log, a new string (NULL if it cannot
 * be read); *skipped is what came before. */
static char *
test_log_read(const char *path, long long *skipped)
{
	struct stat	 sb;
	char		*buf;
	off_t		 off;
	ssize_t		 n;
	size_t		 len, got = 0;
	int		 fd;

	*skipped = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return NULL;
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return NULL;
	}
	off = sb.st_size > TEST_LOG_SHOW ? sb.st_size - TEST_LOG_SHOW : 0;
	len = (size_t)(sb.st_size - off);
	buf = xmalloc(len + 1);
	while (got < len) {
		n = pread(fd, buf + got, len - got, off + (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*skipped = (long long)off;
	return buf;
}

/* Attempts in the order they were made. */
static int
test_attempt_cmp(const void *a, const void *b)
{
	json_int_t	x = json_integer_value(json_object_get(
			    *(json_t *const *)a, "attempt_id"));
	json_int_t	y = json_integer_value(json_object_get(
			    *(json_t *const *)b, "attempt_id"));

	return x < y ? -1 : x > y;
}

/*
 * Ask the read layer for the tasks of run `run_id` of the scratch state
 * (every page): a new array of tasks, each with its attempts and checks,
 * or NULL with cause.
 */
static json_t *
test_tasks(const struct meshd_config *cfg, struct state *st, int64_t run_id,
    char **cause)
{
	struct read_ctx		 rc;
	struct read_args	 args;
	struct read_error	 err;
	char			 id[32], *cur = NULL;
	json_t			*doc, *all = json_array();
	const char		*next;

	memset(&rc, 0, sizeof rc);
	rc.st = st;
	rc.cfg = cfg;
	rc.now_us = now_us();
	snprintf(id, sizeof id, "%lld", (long long)run_id);
	for (;;) {
		memset(&args, 0, sizeof args);
		read_args_add(&args, "run", id);
		read_args_add(&args, "limit", "10000");
		if (cur != NULL)
			read_args_add(&args, "cursor", cur);
		if ((doc = read_ask(&rc, "tasks", &args, &err)) == NULL) {
			set_cause(cause, "scratch state: %s", err.message);
			json_decref(all);
			free(cur);
			return NULL;
		}
		json_array_extend(all, json_object_get(doc, "tasks"));
		free(cur);
		cur = NULL;
		if ((next = json_string_value(json_object_get(doc,
		    "next_cursor"))) != NULL)
			cur = xstrdup(next);
		json_decref(doc);
		if (cur == NULL)
			return all;
	}
}

/*
 * Report what the scratch state recorded for run `run_id`: every attempt
 * with its log, then the checks.  Text to stdout, or added to `o` (JSON).
 * Sets *check_failed when an error-level check failed.  0, or -1 with
 * cause.
 */
static int
test_report(struct ctl *ctl, const struct meshd_config *cfg, struct state *st,
    int64_t run_id, json_t *o, int *check_failed, char **cause)
{
	json_t		*tasks, *arr, *t, *a, *c, **att = NULL;
	const char	*path, *state, *sev, *exp;
	char		*log, obs[32];
	long long	 skipped = 0;
	size_t		 i, j, natt = 0;
	int		 n = 0, passed, err;

	*check_failed = 0;
	if ((tasks = test_tasks(cfg, st, run_id, cause)) == NULL)
		return -1;
	json_array_foreach(tasks, i, t) {
		json_array_foreach(json_object_get(t, "attempts"), j, a) {
			/* The task's name and stage go with each attempt. */
			json_object_set(a, "task", json_object_get(t, "task"));
			json_object_set(a, "stage", json_object_get(t,
			    "stage"));
			att = xreallocarray(att, natt + 1, sizeof *att);
			att[natt++] = a;
		}
	}
	if (natt > 0)
		qsort(att, natt, sizeof *att, test_attempt_cmp);
	arr = json_array();
	for (i = 0; i < natt; i++) {
		a = att[i];
		path = json_string_value(json_object_get(a, "log_path"));
		state = json_string_value(json_object_get(a, "state"));
		skipped = 0;
		log = path != NULL && *path != '\0' ?
		    test_log_read(path, &skipped) : NULL;
		if (o != NULL) {
			json_array_append_new(arr, json_pack("{s:O, s:O, s:O, "
			    "s:s, s:O, s:O, s:s?, s:I}",
			    "task", json_object_get(a, "task"),
			    "stage", json_object_get(a, "stage"),
			    "attempt", json_object_get(a, "attempt"),
			    "state", state,
			    "reason", json_object_get(a, "reason"),
			    "message", json_object_get(a, "message"),
			    "log", log, "log_skipped", (json_int_t)skipped));
			free(log);
			continue;
		}
		printf("\n==== %s (%s), attempt %d: %s%s%s ====\n",
		    json_string_value(json_object_get(a, "task")),
		    json_string_value(json_object_get(a, "stage")),
		    (int)json_integer_value(json_object_get(a, "attempt")),
		    ctl_color_on(ctl, state), state, ctl_color_off(ctl));
		if (skipped > 0)
			printf("[meshctl] the first %lld bytes of the log are "
			    "left out (--keep keeps it whole)\n", skipped);
		if (log == NULL)
			printf("[meshctl] no log (the attempt never reached "
			    "a worker)\n");
		else {
			fputs(log, stdout);
			if (*log != '\0' && log[strlen(log) - 1] != '\n')
				putchar('\n');
		}
		free(log);
	}
	free(att);
	if (o != NULL)
		json_object_set_new(o, "attempts", arr);
	else
		json_decref(arr);

	arr = json_array();
	json_array_foreach(tasks, i, t) {
		json_array_foreach(json_object_get(t, "checks"), j, c) {
			sev = json_string_value(json_object_get(c, "severity"));
			err = strcmp(sev, "error") == 0;
			passed = json_is_true(json_object_get(c, "passed"));
			exp = json_string_value(json_object_get(c,
			    "expectation"));
			if (!passed && err)
				*check_failed = 1;
			snprintf(obs, sizeof obs, "%g", json_number_value(
			    json_object_get(c, "observed")));
			if (o != NULL) {
				json_array_append_new(arr, json_pack("{s:O, "
				    "s:O, s:s, s:b, s:f, s:s?}",
				    "task", json_object_get(t, "task"),
				    "name", json_object_get(c, "check"),
				    "level", sev, "passed", passed,
				    "observed", json_number_value(
				    json_object_get(c, "observed")),
				    "expected", exp));
				continue;
			}
			if (n++ == 0)
				printf("\n%-16s %-24s %-5s %-6s %-14s %s\n",
				    "TASK", "CHECK", "LEVEL", "PASSED",
				    "OBSERVED", "EXPECTED");
			printf("%-16s %-24s %-5s %s%-6s%s %-14s %s\n",
			    json_string_value(json_object_get(t, "task")),
			    json_string_value(json_object_get(c, "check")),
			    sev, ctl_color_on(ctl, passed ? "success" : err ?
			    "failed" : "up_for_retry"), passed ? "yes" : "no",
			    ctl_color_off(ctl), obs, exp != NULL ? exp : "");
		}
	}
	if (o != NULL)
		json_object_set_new(o, "checks", arr);
	else {
		json_decref(arr);
		if (n == 0)
			printf("\n(no checks recorded)\n");
	}
	json_decref(tasks);
	return 0;
}

static int
cmd_test_exec(struct ctl *ctl, int argc, char **argv)
{
	struct jobset		 js;
	struct job_def		*job;
	struct test_job		 tj;
	struct runner_scratch	 sc;
	struct executor		*ex = NULL;
	struct executor_opts	 eo;
	struct run_summary	*sum = NULL;
	struct run_observer	 obs;
	struct ctl_progress	 tp;
	struct sigaction	 sa, old_int, old_term;
	struct errlist		 perrs = ERRLIST_INIT;
	const char		*partition = NULL;
	char			*cause = NULL, **tasks = NULL, **params = NULL;
	unsigned char		*sel = NULL;
	size_t			 ntasks = 0, nparams = 0, i;
	int			 c, json = 0, keep = 0, rc, check_failed = 0;
	int			 have_sc = 0, reported = 0, ok;
	long			 workers = 0;
	json_t			*o = NULL;
	static const struct option longopts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "task", required_argument, NULL, 't' },
		{ "param", required_argument, NULL, 'P' },
		{ "keep", no_argument, NULL, 'k' },
		{ "workers", required_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&js, 0, sizeof js);
	memset(&tj, 0, sizeof tj);
	while ((c = getopt_long(argc, argv, "p:t:P:kw:h", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'p':
			partition = optarg;
			break;
		case 't':
			tasks = xreallocarray(tasks, ntasks + 1,
			    sizeof *tasks);
			tasks[ntasks++] = optarg;
			break;
		case 'P':
			params = xreallocarray(params, nparams + 1,
			    sizeof *params);
			params[nparams++] = optarg;
			break;
		case 'k':
			keep = 1;
			break;
		case 'w':
			if (ctl_number("workers", optarg, 1, 1024,
			    &workers) != 0) {
				rc = CTL_EXIT_USAGE;
				goto out;
			}
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			rc = ctl_help(ctl);
			goto out;
		default:
			rc = ctl_usage(ctl);
			goto out;
		}
	}
	if (argc - optind != 1) {
		rc = ctl_usage(ctl);
		goto out;
	}

	rc = CTL_EXIT_USAGE;
	if ((job = ctl_load_job(ctl, &js, argv[optind])) == NULL)
		goto out;
	/* What meshd would refuse to run, a test refuses too. */
	if (policy_refuses(ctl->cfg, &js, job->name, &perrs)) {
		errlist_print(&perrs, stderr);
		ctl_error("job '%s' is refused (above): meshd would not run it",
		    job->name);
		goto out;
	}
	sel = xcalloc(job->ntasks == 0 ? 1 : job->ntasks, 1);
	if (job->ntasks == 0) {
		ctl_error("job '%s' has no tasks", job->name);
		goto out;
	}
	if (test_select(job, tasks, ntasks, sel) != 0)
		goto out;
	/* Before anything is made: a bad key is a usage error. */
	{
		int64_t	 a, b;
		char	*canon = NULL;

		if (runner_resolve_partition(job, partition, now_us(), &canon,
		    &a, &b, &cause) != 0) {
			ctl_error("%s", cause);
			goto out;
		}
		free(canon);
	}

	if (runner_scratch_open(ctl->cfg, &sc, &cause) != 0) {
		ctl_error("%s", cause);
		rc = CTL_EXIT_STATE;
		goto out;
	}
	have_sc = 1;
	if (test_job_build(job, sel, params, nparams, sc.out_dir, &tj) != 0)
		goto out;

	runner_executor_opts(&sc.cfg, (int)workers, &eo);
	if ((size_t)eo.workers > tj.ntasks && workers == 0)
		eo.workers = (int)tj.ntasks;
	if ((ex = executor_new(&eo, &cause)) == NULL) {
		ctl_error("%s", cause);
		rc = CTL_EXIT_FAILED;
		goto out;
	}

	if (!json) {
		printf("test %s:", job->name);
		for (i = 0; i < tj.ntasks; i++)
			printf("%s %s", i > 0 ? "," : "", tj.tasks[i].id);
		printf(" in %s\n", sc.dir);
		fflush(stdout);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ctl_progress_signal;	/* no SA_RESTART: poll() wakes up */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	tp.ctl = ctl;
	tp.quiet = json;
	memset(&obs, 0, sizeof obs);
	obs.task_start = ctl_progress_task_start;
	obs.task_end = ctl_progress_task_end;
	obs.arg = &tp;
	rc = runner_run(&sc.cfg, sc.st, ex, &tj.job, partition, "test",
	    &obs, &sum, &cause);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	/* The workers are done: nothing writes the scratch area now. */
	executor_free(ex);
	ex = NULL;
	if (rc != 0) {
		ctl_error("%s", cause);
		rc = CTL_EXIT_FAILED;
		goto out;
	}

	if (json) {
		o = json_pack("{s:s, s:s, s:s, s:s?}", "job", job->name,
		    "partition", sum->partition_key, "state", sum->state,
		    "scratch", keep ? sc.dir : NULL);
		json_object_set_new(o, "tasks", json_array());
		for (i = 0; i < sum->ntasks; i++) {
			const struct run_task_summary *t = &sum->tasks[i];

			json_array_append_new(json_object_get(o, "tasks"),
			    json_pack("{s:s, s:s, s:s, s:i, s:I, s:s?}",
			    "task", t->task_id, "stage", t->stage, "state",
			    t->state, "tries", t->tries, "duration_us",
			    (json_int_t)t->duration_us, "reason", t->reason));
		}
	}
	if (test_report(ctl, &sc.cfg, sc.st, sum->run_id, o,
	    &check_failed, &cause) != 0) {
		ctl_error("%s", cause);
		json_decref(o);
		rc = CTL_EXIT_FAILED;
		goto out;
	}
	ok = strcmp(sum->state, "success") == 0 && !check_failed;
	if (json) {
		json_object_set_new(o, "passed", json_boolean(ok));
		ctl_json_out(o);
	} else {
		printf("\n");
		for (i = 0; i < sum->ntasks; i++) {
			const struct run_task_summary *t = &sum->tasks[i];

			printf("%-16s %-8s %s%-16s%s %s\n", t->task_id,
			    t->stage, ctl_color_on(ctl, t->state), t->state,
			    ctl_color_off(ctl), t->reason != NULL ?
			    t->reason : "");
		}
		printf("\ntest %s %s: %s%s%s%s%s\n", job->name,
		    sum->partition_key, ctl_color_on(ctl, ok ? "success" :
		    "failed"), ok ? "passed" : "failed", ctl_color_off(ctl),
		    keep ? "; scratch kept in " : "", keep ? sc.dir : "");
	}
	reported = 1;
	rc = ok ? CTL_EXIT_OK : CTL_EXIT_FAILED;
out:
	if (ex != NULL)
		executor_free(ex);
	if (have_sc) {
		if (keep && !reported)
			fprintf(stderr, "meshctl: scratch kept in %s\n",
			    sc.dir);
		runner_scratch_close(&sc, keep);
	}
	test_job_free(&tj);
	run_summary_free(sum);
	errlist_free(&perrs);
	free(sel);
	free(tasks);
	free(params);
	free(cause);
	jobset_free(&js);
	return rc;
}
