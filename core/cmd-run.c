/* cmd-run.c -- meshctl run: one partition of one job, in the foreground. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor.h"
#include "lock.h"
#include "meshctl.h"
#include "policy.h"
#include "request.h"
#include "runner.h"
#include "state-run.h"

static int	cmd_run_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.args = "JOB [--partition KEY] [--rerun] [--workers N] [--json]",
	.summary = "run one partition of a job to completion, in the "
	    "foreground",
	.help =
	"Runs every task of the job for one partition on the same worker pool\n"
	"and state database as the daemon, printing each task's start and end,\n"
	"then a summary table.  Running a partition again runs every task again;\n"
	"attempt numbers continue.  A partition that already succeeded needs\n"
	"--rerun.  The run records trigger 'manual'.\n"
	"\n"
	"  -p, --partition KEY  the partition (default: the latest complete\n"
	"                       interval of a scheduled job, 'current' otherwise)\n"
	"  -r, --rerun          run a partition that already succeeded again\n"
	"  -w, --workers N      worker processes (default: meshd.conf's workers)\n"
	"      --json           print the summary as JSON instead of a table\n"
	"\n"
	"Waits for a busy state database end after the global --timeout each\n"
	"(default 30 s).  A run that fails on the state itself (busy for longer,\n"
	"a statement that fails) is stopped and recorded as failed, with the\n"
	"reason on each task that had not ended, never left 'running'.\n"
	"\n"
	"Exit status: 0 if every task succeeded, 1 if the run failed or was\n"
	"cancelled, 2 for a usage error, unknown job, bad partition or one that\n"
	"already succeeded (without --rerun), 3 if the\n"
	"state database cannot be opened or failed during the run.\n",
	.exec = cmd_run_exec,
};

struct run_print {
	struct ctl_progress pr;		/* first: the progress lines' */
	int64_t		 run_id;	/* once its start is committed */
	char		 key[128];	/* its partition */
};

static void
on_run_start(void *arg, const struct job_def *job, const char *key,
    int64_t istart, int64_t iend, int64_t run_id)
{
	struct run_print	*p = arg;
	char			 a[32], b[32];

	p->run_id = run_id;
	snprintf(p->key, sizeof p->key, "%s", key);
	if (p->pr.quiet)
		return;
	if (istart != iend)
		printf("run %lld: %s %s [%s, %s)\n", (long long)run_id,
		    job->name, key, fmt_utc(istart, a, sizeof a),
		    fmt_utc(iend, b, sizeof b));
	else
		printf("run %lld: %s %s\n", (long long)run_id, job->name, key);
	fflush(stdout);
}

static void
print_table(struct ctl *ctl, const char *job, const struct run_summary *s)
{
	size_t	i;
	char	d[32];

	printf("\n%-16s %-8s %-16s %5s %9s  %s\n", "TASK", "STAGE", "STATE",
	    "TRIES", "DURATION", "REASON");
	for (i = 0; i < s->ntasks; i++) {
		const struct run_task_summary *t = &s->tasks[i];

		printf("%-16s %-8s %s%-16s%s %5d %9s  %s\n", t->task_id,
		    t->stage, ctl_color_on(ctl, t->state), t->state,
		    ctl_color_off(ctl), t->tries,
		    t->tries > 0 ? fmt_duration(t->duration_us, d, sizeof d) :
		    "-", t->reason != NULL ? t->reason : "");
	}
	printf("\nrun %lld: %s %s %s%s%s in %s\n", (long long)s->run_id, job,
	    s->partition_key, ctl_color_on(ctl, s->state), s->state,
	    ctl_color_off(ctl), fmt_duration(s->duration_us, d, sizeof d));
}

static void
print_json(const char *job, const struct run_summary *s)
{
	json_t	*o, *tasks;
	size_t	 i;

	tasks = json_array();
	for (i = 0; i < s->ntasks; i++) {
		const struct run_task_summary *t = &s->tasks[i];

		json_array_append_new(tasks, json_pack("{s:s, s:s, s:s, s:i, "
		    "s:I, s:s?}", "task", t->task_id, "stage", t->stage,
		    "state", t->state, "tries", t->tries, "duration_us",
		    (json_int_t)t->duration_us, "reason", t->reason));
	}
	o = json_pack("{s:I, s:s, s:s, s:s, s:I, s:o}", "run_id",
	    (json_int_t)s->run_id, "job", job, "partition", s->partition_key,
	    "state", s->state, "duration_us", (json_int_t)s->duration_us,
	    "tasks", tasks);
	ctl_json_out(o);
}

/* Whether a task instance state is final. */
static int
run_ti_final(const char *state)
{
	return strcmp(state, "success") == 0 || strcmp(state, "failed") == 0 ||
	    strcmp(state, "skipped") == 0 ||
	    strcmp(state, "upstream_failed") == 0 ||
	    strcmp(state, "cancelled") == 0;
}

/*
 * The run failed on the state (it stayed busy past --timeout, or a
 * statement failed) after its start was committed: without this it would
 * stay 'running' in the state, with running attempts, until a meshd's
 * recovery ran it again.  The workers are gone (the executor was freed):
 * end the run as failed, each task that had not ended as failed with
 * `why`, each attempt still recorded as running likewise, and the
 * partitions it was building missing again, in one transaction that
 * waits for the state as long as --timeout again.
 * 0, or -1 with cause (the run is then left as it was).
 */
static int
run_rollback(struct state *st, const struct job_def *job, int64_t run_id,
    const char *why, char **cause)
{
	const char	*tstate;
	int64_t		 now = now_us(), ti_id;
	size_t		 i;
	int		 tries;

	state_rollback(st);	/* a failed commit leaves its transaction */
	if (state_begin(st, cause) != 0)
		return -1;
	if (state_run_set(st, run_id, "failed", 0, now, cause) != 0)
		goto fail;
	for (i = 0; i < job->ntasks; i++) {
		if (state_ti_open(st, run_id, job->tasks[i].id, NULL, 1, &ti_id,
		    &tstate, &tries, cause) != 0)
			goto fail;
		if (!run_ti_final(tstate) && state_ti_set(st, ti_id, "failed",
		    tries, why, 0, now, cause) != 0)
			goto fail;
	}
	/* The attempts still running and the partitions being built. */
	if (state_run_abandon(st, run_id, why, now, cause) != 0)
		goto fail;
	if (state_commit(st, cause) != 0)
		goto fail;
	return 0;

fail:
	state_rollback(st);
	return -1;
}

static int
cmd_run_exec(struct ctl *ctl, int argc, char **argv)
{
	struct jobset		 js;
	struct job_def		*job;
	struct state		*st = NULL;
	struct executor		*ex = NULL;
	struct executor_opts	 eo;
	struct run_summary	*sum = NULL;
	struct run_observer	 obs;
	struct run_print	 rp;
	struct sigaction	 sa, old_int, old_term;
	struct errlist		 perrs = ERRLIST_INIT;
	const char		*partition = NULL;
	char			*cause = NULL;
	int			 c, json = 0, r, rc, lockfd = -1, rerun = 0;
	char			*canon = NULL, *done = NULL;
	int64_t			 istart, iend;
	long			 workers = 0;
	pid_t			 holder = 0;
	static const struct option longopts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "workers", required_argument, NULL, 'w' },
		{ "rerun", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "p:w:rh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			partition = optarg;
			break;
		case 'r':
			rerun = 1;
			break;
		case 'w':
			if (ctl_number("workers", optarg, 1, 1024,
			    &workers) != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_usage(ctl);
		}
	}
	if (argc - optind != 1)
		return ctl_usage(ctl);

	if ((job = ctl_load_job(ctl, &js, argv[optind])) == NULL) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	/* What meshd would refuse, a run without it refuses too. */
	if (policy_refuses(ctl->cfg, &js, job->name, &perrs)) {
		errlist_print(&perrs, stderr);
		ctl_error("job '%s' is refused (above): meshd would not run it",
		    job->name);
		rc = CTL_EXIT_FAILED;
		goto out;
	}
	/* One writer: the daemon, or this foreground run, never both. */
	if (ctl_config(ctl) != NULL && (lockfd = state_lock(ctl->cfg->state_db,
	    &holder, &cause)) == -1) {
		ctl_error("%s%s", cause, holder > 0 ? "; meshd is running on "
		    "this state: stop it to run a partition in the foreground" :
		    "");
		rc = CTL_EXIT_STATE;
		goto out;
	}
	if ((st = ctl_state(ctl, STATE_RDWR)) == NULL) {
		rc = CTL_EXIT_STATE;
		goto out;
	}
	if (config_apply_sync(ctl->cfg, st, &cause) != 0) {
		ctl_error("%s", cause);
		rc = CTL_EXIT_STATE;
		goto out;
	}
	/* A success is not run again by accident (request.c says how). */
	if (!rerun && runner_resolve_partition(job, partition, now_us(),
	    &canon, &istart, &iend, &cause) == 0) {
		if ((r = request_run_succeeded(st, job->name, canon, &done,
		    &cause)) != 0) {
			ctl_error("%s", r > 0 ? done : cause);
			rc = r > 0 ? CTL_EXIT_USAGE : CTL_EXIT_STATE;
			goto out;
		}
	}
	/* (A bad key is refused by runner_run() below, with its cause.) */
	free(cause);
	cause = NULL;
	/* A run lasts as long as its tasks: from here on, each wait for the
	 * state alone is bounded by --timeout, not the whole command. */
	state_set_deadline(st, 0);

	memset(&eo, 0, sizeof eo);
	eo.workers = workers > 0 ? (int)workers : ctl->cfg->workers;
	if ((size_t)eo.workers > job->ntasks && workers == 0)
		eo.workers = (int)job->ntasks;
	eo.max_tasks = ctl->cfg->worker_max_tasks;
	eo.memory_mb = ctl->cfg->worker_memory_mb;
	eo.kill_grace_s = ctl->cfg->kill_grace_s;
	eo.heartbeat_timeout_s = ctl->cfg->heartbeat_timeout_s;
	eo.log_max_bytes = ctl->cfg->log_max_bytes;
	eo.log_overflow_fails = ctl->cfg->log_overflow_fails;
	eo.task_max_bytes = ctl->cfg->task_max_bytes;
	eo.empty_check_fails = ctl->cfg->empty_check_fails;
	if ((ex = executor_new(&eo, &cause)) == NULL) {
		ctl_error("%s", cause);
		rc = CTL_EXIT_FAILED;
		goto out;
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ctl_progress_signal;	/* no SA_RESTART: poll() wakes up */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	rp.pr.ctl = ctl;
	rp.pr.quiet = json;
	rp.run_id = 0;
	rp.key[0] = '\0';
	memset(&obs, 0, sizeof obs);
	obs.run_start = on_run_start;
	obs.task_start = ctl_progress_task_start;
	obs.task_end = ctl_progress_task_end;
	obs.run_end = NULL;
	obs.arg = &rp;
	r = runner_run(ctl->cfg, st, ex, job, partition, "manual", &obs, &sum,
	    &cause);
	if (r != 0 && rp.run_id != 0) {
		char	*why, *cause2 = NULL;

		/* Started, then failed on the state: stop the workers and
		 * end the run, rather than leave it running. */
		ctl_error("%s", cause);
		executor_free(ex);
		ex = NULL;
		why = xasprintf("meshctl run failed on the state: %s", cause);
		if (run_rollback(st, job, rp.run_id, why, &cause2) != 0) {
			ctl_error("%s", cause2);
			ctl_error("run %lld is left as it was in the state; "
			    "meshd recovers it when it starts",
			    (long long)rp.run_id);
		} else
			ctl_error("run %lld: %s %s recorded as failed",
			    (long long)rp.run_id, job->name, rp.key);
		free(cause2);
		free(why);
		rc = CTL_EXIT_STATE;
	} else if (r != 0) {
		ctl_error("%s", cause);
		rc = CTL_EXIT_USAGE;
	} else {
		if (json)
			print_json(job->name, sum);
		else
			print_table(ctl, job->name, sum);
		rc = strcmp(sum->state, "success") == 0 ? CTL_EXIT_OK :
		    CTL_EXIT_FAILED;
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
out:
	free(canon);
	free(done);
	errlist_free(&perrs);
	run_summary_free(sum);
	free(cause);
	if (ex != NULL)
		executor_free(ex);
	if (st != NULL)
		state_close(st);
	state_unlock(lockfd);
	jobset_free(&js);
	return rc;
}
