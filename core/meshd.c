/*
 * meshd.c -- the scheduler daemon.
 *
 * One loop: create the runs of scheduled intervals that have ended, admit
 * queued runs to the engine within the limits, and let the engine launch,
 * collect and commit.  It sleeps until the next interval ends, the next
 * retry is due or a result arrives.  SIGTERM/SIGINT drain and stop,
 * SIGHUP reloads meshd.conf (validated whole first) and the jobs (each on
 * its own: a broken job is refused alone), and a restart after a crash
 * resumes every run the state says was unfinished.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "meshd/plugin.h"
#include "config.h"
#include "engine.h"
#include "errlist.h"
#include "executor.h"
#include "job.h"
#include "alert.h"
#include "http.h"
#include "lineage.h"
#include "lock.h"
#include "log.h"
#include "notify.h"
#include "partition.h"
#include "policy.h"
#include "request.h"
#include "schedule.h"
#include "state.h"
#include "xremote.h"
#include "util.h"
#include "xremote.h"
#include "meshd.h"

static volatile sig_atomic_t	sig_stop, sig_hup;
/* Self-pipe: a signal handler writes a byte, so that any wait (idle, or
 * in the executor) ends at once instead of at its timeout. */
static int			wake_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	int	saved = errno;
	char	c = 0;

	if (sig == SIGHUP)
		sig_hup = 1;
	else if (sig != SIGUSR1 && sig != SIGCHLD)
		sig_stop = sig;
	if (wake_pipe[1] != -1 && write(wake_pipe[1], &c, 1) == -1) {
		/* Full pipe: a wake-up is already pending. */
	}
	errno = saved;
}

static void
wake_drain(void)
{
	char	buf[64];

	while (read(wake_pipe[0], buf, sizeof buf) > 0)
		;
}

/*
 * The wake-up FIFO, "<state_db>.wake": meshctl pokes the daemon with
 * SIGUSR1, which only the daemon's user (and root) may send; an operator
 * in state_group writes a byte here instead.  It becomes the self-pipe
 * (both ends: opened O_RDWR so that it never reads as hung up), so one fd
 * wakes every wait for signals and operators alike.
 */
static int
wake_fifo_open(const char *state_db, char **cause)
{
	struct stat	 sb;
	char		*path = xasprintf("%s.wake", state_db);
	int		 fd;

	if (lstat(path, &sb) == 0 && !S_ISFIFO(sb.st_mode))
		unlink(path);
	if (mkfifo(path, 0640) == -1 && errno != EEXIST) {
		set_cause(cause, "%s: mkfifo: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	if (dup3(fd, wake_pipe[0], O_CLOEXEC) == -1 ||
	    dup3(fd, wake_pipe[1], O_CLOEXEC) == -1) {
		set_cause(cause, "wake-up fifo: %s", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: meshd [-c FILE] [--foreground | --daemon] "
	    "[--syslog] [--debug]\n\n"
	    "The meshd scheduler: runs the jobs of meshd.conf's jobs_dir on\n"
	    "their schedules, on isolated worker processes, with all state in\n"
	    "SQLite.\n\n"
	    "  -c, --config FILE  meshd.conf (default: $MESHD_CONFIG, else %s)\n"
	    "  -f, --foreground   stay in the foreground (the default)\n"
	    "  -d, --daemon       detach from the terminal\n"
	    "  -s, --syslog       log to syslog instead of stderr\n"
	    "      --debug        log debug lines too\n"
	    "      --clock FILE   take the current time from FILE (seconds\n"
	    "                     since the epoch, or 2001-01-02T03:04:05Z),\n"
	    "                     re-read continually: a clock tests control\n"
	    "  -V, --version      print the version\n\n"
	    "Signals: TERM or INT drain (running attempts may finish within\n"
	    "shutdown_grace, then are stopped and resumed at the next start);\n"
	    "HUP reloads meshd.conf and the jobs, keeping the old ones if any\n"
	    "file is invalid (some keys wait for a restart: the log names "
	    "them).\n", config_default_path());
}

/* The daemon's clock: real time, or the test clock file. */
int64_t
daemon_now(struct daemon *d)
{
	static int64_t	 last;	/* the test clock as last read */
	FILE		*f;
	char		 buf[64], *end;
	struct tm	 tm;
	long long	 secs;

	if (d->clock_file == NULL)
		return now_us();
	if ((f = fopen(d->clock_file, "r")) == NULL)
		return last != 0 ? last : now_us();
	if (fgets(buf, sizeof buf, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, " \r\n")] = '\0';
	/* A test rewriting the file (truncate, then write) can be caught
	 * in between: an empty file keeps the time as it was, rather than
	 * jumping to the wall clock and firing decades of intervals. */
	if (*buf == '\0' && last != 0)
		return last;
	secs = strtoll(buf, &end, 10);
	if (*buf != '\0' && *end == '\0')
		return last = (int64_t)secs * 1000000;
	memset(&tm, 0, sizeof tm);
	end = strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end != NULL && (*end == '\0' || strcmp(end, "Z") == 0))
		return last = (int64_t)timegm(&tm) * 1000000;
	log_warn("clock file %s: cannot read a time from '%s'",
	    d->clock_file, buf);
	return last != 0 ? last : now_us();
}

/* Observer: every line about a run names job, run and partition. */
static void
obs_run_start(void *arg, const struct job_def *job, const char *key,
    int64_t istart, int64_t iend, int64_t run_id)
{
	(void)arg;
	(void)istart;
	(void)iend;
	log_info("job=%s run=%lld partition=%s: run started", job->name,
	    (long long)run_id, key);
}

static void
obs_task_start(void *arg, const struct job_def *job, const char *key,
    int64_t run_id, const char *task, int attempt, pid_t pid)
{
	(void)arg;
	log_info("job=%s run=%lld partition=%s task=%s: attempt %d started "
	    "on worker %ld", job->name, (long long)run_id, key, task, attempt,
	    (long)pid);
}

static void
obs_task_end(void *arg, const struct job_def *job, const char *key,
    int64_t run_id, const char *task, int attempt, const char *state,
    const char *reason, int64_t dur)
{
	char	d[32];

	(void)arg;
	log_msg(strcmp(state, "success") == 0 ? LOG_LVL_INFO : LOG_LVL_WARN,
	    "job=%s run=%lld partition=%s task=%s: attempt %d %s in %s%s%s",
	    job->name, (long long)run_id, key, task, attempt, state,
	    fmt_duration(dur, d, sizeof d), reason != NULL ? ": " : "",
	    reason != NULL ? reason : "");
}

static void
obs_run_end(void *arg, const struct job_def *job, const char *key,
    int64_t run_id, const char *state, int64_t dur)
{
	struct daemon	*dm = arg;
	char		 d[32];

	/* A backfill may have a place free now (daemon_bf_pass() says
	 * when it is worth a pass). */
	if (dm->nbf > 0) {
		dm->bf_due = 1;
		dm->bf_ended++;
	}
	/* What it published may be what other runs wait for. */
	daemon_inputs_ended(dm, job, key);
	log_msg(strcmp(state, "success") == 0 ? LOG_LVL_INFO : LOG_LVL_WARN,
	    "job=%s run=%lld partition=%s: run %s in %s", job->name,
	    (long long)run_id, key, state, fmt_duration(dur, d, sizeof d));
}


/* When a scheduled run of `job` closing at `iend` may start. */
static int64_t
jitter_start(const struct job_def *job, int64_t iend)
{
	uint64_t	h = 1469598103934665603ULL;
	const char	*c;

	if (job->jitter_us <= 0)
		return 0;
	if (job->jitter_random)
		return iend + (int64_t)((uint64_t)random() *
		    (uint64_t)random() % (uint64_t)job->jitter_us);
	/* FNV-1a of the name: the same offset every time, per job. */
	for (c = job->name; *c != '\0'; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	return iend + (int64_t)(h % (uint64_t)job->jitter_us);
}

/* When each job's next interval ends (INT64_MAX: never, or paused; at
 * INT64_MIN: not known yet), by position in d->jobs: a fire looks at the
 * jobs that are due, not at every job's schedule. */
static int64_t	*sched_at;
static size_t	 sched_atn;

/*
 * Create the runs of every interval that has ended, in one transaction,
 * and queue them.  A (job, partition) that already has a run is left as
 * it is: a tick processed twice never makes a second run.
 *
 * A catch-up pass (`missed`: start-up, reload, unpause) looks at every
 * job; an ordinary one only at the jobs whose interval has ended by
 * sched_at[] (10,000 jobs: a few integer compares each, instead of
 * evaluating each schedule twice at every fire of any job).
 */
static int
daemon_schedule(struct daemon *d, int64_t now, int missed)
{
	struct due_interval	*due;
	size_t			 i, j, n;
	int64_t			 job_id, run_id;
	int			 created, began = 0, all;
	char			*cause = NULL;

	if (!missed && now < d->next_sched)
		return 0;
	all = missed || sched_atn != d->jobs.n;
	if (all) {
		sched_at = xreallocarray(sched_at, d->jobs.n + 1,
		    sizeof *sched_at);
		sched_atn = d->jobs.n;
		for (i = 0; i < sched_atn; i++)
			sched_at[i] = INT64_MIN;
	}
	d->next_sched = INT64_MAX;
	for (i = 0; i < d->jobs.n; i++) {
		struct job_def	*job = d->jobs.v[i];
		int64_t		 next;

		if (!all && sched_at[i] > now) {
			if (sched_at[i] < d->next_sched)
				d->next_sched = sched_at[i];
			continue;
		}
		sched_at[i] = INT64_MAX;
		if (d->paused != NULL && d->paused[i])
			continue;	/* its schedule does not fire */
		n = sched_due(job, &d->watermark[i], now, missed, &due);
		if ((next = sched_next(job, d->watermark[i], now)) >= 0) {
			sched_at[i] = next;
			if (next < d->next_sched)
				d->next_sched = next;
		}
		if (n == 0)
			continue;
		if (!began) {
			if (state_begin(d->st, &cause) != 0)
				goto fail;
			began = 1;
		}
		if (state_job_sync(d->st, job->name, job->domain, job->owner,
		    job->description, job->file, job->schedule, &job_id,
		    &cause) != 0) {
			due_free(due, n);
			goto fail;
		}
		for (j = 0; j < n; j++) {
			if (state_run_open(d->st, job_id, due[j].key,
			    due[j].start, due[j].end, "schedule", &run_id,
			    &created, &cause) != 0) {
				due_free(due, n);
				goto fail;
			}
			if (!created)
				continue;
			daemon_queue_push(d, job->name, due[j].key, due[j].start,
			    due[j].end, "schedule", jitter_start(job,
			    due[j].end));
			log_info("job=%s run=%lld partition=%s: scheduled",
			    job->name, (long long)run_id, due[j].key);
		}
		due_free(due, n);
	}
	if (began && state_commit(d->st, &cause) != 0)
		goto fail;
	return 0;
fail:
	if (began)
		state_rollback(d->st);
	log_error("scheduling: %s", cause);
	free(cause);
	return -1;
}

/* A trigger's --param values: the request's args {"params": {...}} become
 * the run's params (NULL when there are none), which the engine lays over
 * the job's and tasks' params. */
static int
run_params_set(struct daemon *d, int64_t run_id, const char *args,
    char **cause)
{
	sqlite3_stmt	*stmt;
	json_t		*root = NULL, *params;
	char		*text = NULL;
	int		 rc = 0;

	if (args != NULL && (root = json_loads(args, 0, NULL)) != NULL &&
	    json_is_object(params = json_object_get(root, "params")) &&
	    json_object_size(params) > 0)
		text = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	if ((stmt = state_prepare(d->st, "UPDATE runs SET params = ? WHERE "
	    "id = ?")) == NULL) {
		set_cause(cause, "run params: %s", sqlite3_errmsg(
		    state_sqlite(d->st)));
		free(text);
		return -1;
	}
	if (text != NULL)
		sqlite3_bind_text(stmt, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, run_id);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		set_cause(cause, "run params: %s", sqlite3_errmsg(
		    state_sqlite(d->st)));
		rc = -1;
	}
	state_stmt_done(stmt);
	free(text);
	return rc;
}

/* Carry out one trigger inside the open transaction; *ok and *result
 * say how it went. */
static int
daemon_trigger(struct daemon *d, const struct request *rq, int *ok,
    char **result, char **cause)
{
	struct job_def	*job;
	int64_t		 istart, iend, job_id, run_id;
	int		 created;
	char		*key = NULL, *why = NULL;

	*ok = 0;
	if ((job = jobset_find(&d->jobs, rq->job)) == NULL) {
		*result = xasprintf("unknown job '%s'", rq->job);
		return 0;
	}
	if (job_parse_key(job, rq->partition_key != NULL ? rq->partition_key :
	    PARTITION_DEFAULT_KEY, &istart, &iend, &key, &why) != 0) {
		*result = why;
		return 0;
	}
	/* Bounds, and no silent rerun of a success (request.c). */
	switch (request_check_trigger(d->st, job, rq, istart, key, result,
	    cause)) {
	case 0:
		break;
	case 1:
		free(key);
		return 0;
	default:
		free(key);
		return -1;
	}
	*ok = 1;
	if (engine_is_active(d->engine, job->name, key) ||
	    daemon_queued(d, job->name, key)) {
		*result = xasprintf("%s %s is already running or queued",
		    job->name, key);
		free(key);
		return 0;
	}
	if (state_job_sync(d->st, job->name, job->domain, job->owner,
	    job->description, job->file, job->schedule, &job_id, cause) != 0 ||
	    state_run_open(d->st, job_id, key, istart, iend, "trigger",
	    &run_id, &created, cause) != 0) {
		free(key);
		return -1;
	}
	if (run_params_set(d, run_id, rq->args, cause) != 0) {
		free(key);
		return -1;
	}
	daemon_queue_push(d, job->name, key, istart, iend, "trigger",
	    0)->rerun = !created;
	*result = xasprintf("run %lld %s", (long long)run_id, created ?
	    "created" : "run again");
	log_info("job=%s run=%lld partition=%s: triggered (request %lld)",
	    job->name, (long long)run_id, key, (long long)rq->id);
	free(key);
	return 0;
}

/* Cancel a run that is running or queued, inside the open transaction. */
static int
daemon_cancel(struct daemon *d, const struct request *rq, int *ok,
    char **result, char **cause)
{
	char	*why;
	int	 active, rc;

	*ok = 1;
	if (rq->partition_key == NULL) {
		*ok = 0;
		*result = xstrdup("no partition given");
		return 0;
	}
	why = xasprintf("cancelled by operator (request %lld)",
	    (long long)rq->id);
	active = engine_is_active(d->engine, rq->job, rq->partition_key);
	rc = daemon_cancel_run(d, rq->job, rq->partition_key, why, cause);
	if (rc == 1)
		log_info("job=%s partition=%s: %s", rq->job, rq->partition_key,
		    why);
	free(why);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		*ok = 0;
		*result = xasprintf("no run of %s %s is running or queued",
		    rq->job, rq->partition_key);
	} else if (active)
		*result = xasprintf("%s %s: cancelling its running attempts",
		    rq->job, rq->partition_key);
	else
		*result = xasprintf("%s %s: cancelled before it started",
		    rq->job, rq->partition_key);
	return 0;
}

/* Read which jobs are paused from the state (start-up, reload). */
static unsigned char *
paused_for(struct daemon *d, const struct jobset *js)
{
	unsigned char	*p = xcalloc(js->n == 0 ? 1 : js->n, 1);
	sqlite3_stmt	*stmt;
	long		 k;

	if (sqlite3_prepare_v2(state_sqlite(d->st), "SELECT name FROM jobs "
	    "WHERE paused = 1", -1, &stmt, NULL) != SQLITE_OK)
		return p;
	while (sqlite3_step(stmt) == SQLITE_ROW)
		if ((k = jobset_pos(js, (const char *)
		    sqlite3_column_text(stmt, 0))) >= 0)
			p[k] = 1;
	sqlite3_finalize(stmt);
	return p;
}

/* Pause or unpause a job inside the open transaction. */
static int
daemon_pause(struct daemon *d, const struct request *rq, int *ok,
    char **result, char **cause)
{
	struct job_def	*job;
	sqlite3_stmt	*stmt;
	int64_t		 job_id;
	long		 k;
	int		 pause = strcmp(rq->kind, "pause") == 0;

	*ok = 0;
	if ((k = jobset_pos(&d->jobs, rq->job)) < 0) {
		*result = xasprintf("unknown job '%s'", rq->job);
		return 0;
	}
	job = d->jobs.v[k];
	if (state_job_sync(d->st, job->name, job->domain, job->owner,
	    job->description, job->file, job->schedule, &job_id, cause) != 0)
		return -1;
	if ((stmt = state_prepare(d->st, "UPDATE jobs SET paused = ? WHERE "
	    "id = ?")) == NULL) {
		set_cause(cause, "pause: %s", sqlite3_errmsg(
		    state_sqlite(d->st)));
		return -1;
	}
	sqlite3_bind_int(stmt, 1, pause);
	sqlite3_bind_int64(stmt, 2, job_id);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		set_cause(cause, "pause: %s", sqlite3_errmsg(
		    state_sqlite(d->st)));
		state_stmt_done(stmt);
		return -1;
	}
	state_stmt_done(stmt);
	*ok = 1;
	if (d->paused[k] == pause) {
		*result = xasprintf("%s was already %s", job->name,
		    pause ? "paused" : "running");
		return 0;
	}
	d->paused[k] = (unsigned char)pause;
	/* Missed intervals: the catchup policy decides, next pass. */
	if (!pause)
		d->catchup_due = 1;
	*result = xasprintf("%s %s", job->name, pause ? "paused" :
	    "unpaused");
	log_info("job=%s: %s (request %lld)", job->name, pause ? "paused" :
	    "unpaused", (long long)rq->id);
	return 0;
}

/* Carry out the requests other processes committed since we last looked
 * (PRAGMA data_version says whether there are any: no I/O). */
static int
daemon_requests(struct daemon *d)
{
	struct request	*rq;
	char		*cause = NULL, *result;
	int		 n, i, ok;

	if (!state_changed(d->st, &d->data_version))
		return 0;
	if ((n = requests_pending(d->st, 1000, &rq, &cause)) <= 0)
		goto out;
	if (state_begin(d->st, &cause) != 0)
		goto out_free;
	for (i = 0; i < n; i++) {
		result = NULL;
		if (strcmp(rq[i].kind, "pause") == 0 ||
		    strcmp(rq[i].kind, "unpause") == 0) {
			if (daemon_pause(d, &rq[i], &ok, &result,
			    &cause) != 0) {
				state_rollback(d->st);
				goto out_free;
			}
		} else if (strcmp(rq[i].kind, "cancel") == 0) {
			if ((rq[i].args != NULL && strstr(rq[i].args,
			    "\"backfill\"") != NULL ? daemon_bf_cancel(d,
			    &rq[i], &ok, &result, &cause) : daemon_cancel(d,
			    &rq[i], &ok, &result, &cause)) != 0) {
				state_rollback(d->st);
				goto out_free;
			}
		} else if (strcmp(rq[i].kind, "backfill") == 0) {
			if (daemon_bf_request(d, &rq[i], &ok, &result,
			    &cause) != 0) {
				state_rollback(d->st);
				goto out_free;
			}
		} else if (strcmp(rq[i].kind, "clear") == 0) {
			if (daemon_clear(d, &rq[i], &ok, &result,
			    &cause) != 0) {
				state_rollback(d->st);
				goto out_free;
			}
		} else if (strcmp(rq[i].kind, "trigger") != 0) {
			ok = 0;
			result = xasprintf("'%s' requests are not supported "
			    "by this meshd", rq[i].kind);
		} else if (daemon_trigger(d, &rq[i], &ok, &result,
		    &cause) != 0) {
			state_rollback(d->st);
			goto out_free;
		}
		if (request_finish(d->st, rq[i].id, ok, result,
		    &cause) != 0) {
			free(result);
			state_rollback(d->st);
			goto out_free;
		}
		free(result);
	}
	if (state_commit(d->st, &cause) != 0)
		goto out_free;
	requests_free(rq, (size_t)n);
	return 0;
out_free:
	requests_free(rq, (size_t)n);
out:
	if (cause != NULL) {
		log_error("requests: %s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* Free retired job sets no active run uses any more. */
static void
daemon_gc(struct daemon *d)
{
	size_t	i, j;
	int	used;

	for (i = 0; i < d->nretired; ) {
		used = 0;
		for (j = 0; j < d->retired[i].n && !used; j++)
			used = engine_uses_job(d->engine, d->retired[i].v[j]);
		if (used) {
			i++;
			continue;
		}
		jobset_free(&d->retired[i]);
		d->retired[i] = d->retired[--d->nretired];
	}
}

/* Watermarks for the current job set: kept across a reload by name. */
static int64_t *
watermarks_for(struct daemon *d, const struct jobset *js,
    const struct jobset *old, const int64_t *oldw)
{
	int64_t	*w;
	size_t	 i;

	sqlite3_stmt	*stmt;
	long		 k;

	w = xcalloc(js->n == 0 ? 1 : js->n, sizeof *w);
	/* One query for every job's last scheduled interval: runs.scheduled,
	 * since a rerun records its own trigger. */
	if (sqlite3_prepare_v2(state_sqlite(d->st), "SELECT j.name, "
	    "max(r.interval_end_us) FROM runs r JOIN jobs j ON j.id = r.job_id "
	    "WHERE r.scheduled = 1 GROUP BY j.name", -1, &stmt,
	    NULL) == SQLITE_OK) {
		while (sqlite3_step(stmt) == SQLITE_ROW) {
			const char *name = (const char *)
			    sqlite3_column_text(stmt, 0);

			if ((k = jobset_pos(js, name)) >= 0)
				w[k] = sqlite3_column_int64(stmt, 1);
		}
		sqlite3_finalize(stmt);
	}
	/* A job kept across a reload with the same schedule keeps its
	 * watermark: intervals it skipped stay skipped. */
	for (i = 0; old != NULL && i < js->n; i++) {
		if ((k = jobset_pos(old, js->v[i]->name)) < 0 ||
		    strcmp(old->v[k]->schedule, js->v[i]->schedule) != 0)
			continue;
		w[i] = oldw[k];
	}
	return w;
}

/* A reload that found errors: log each with its file and line, change
 * nothing. */
static void
reload_refused(struct daemon *d, struct errlist *errs)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		log_msg(errs->v[i].level == DIAG_ERROR ? LOG_LVL_ERROR :
		    LOG_LVL_WARN, "%s:%d: %s", errs->v[i].file != NULL ?
		    errs->v[i].file : "?", errs->v[i].line, errs->v[i].msg);
	log_error("reload refused: %zu error%s; the previous configuration "
	    "and the %zu job%s keep running", errs->nerrors,
	    errs->nerrors == 1 ? "" : "s", d->jobs.n,
	    d->jobs.n == 1 ? "" : "s");
}

/* "a, b, c" of the names. */
static char *
names_join(const char *const *v, size_t n)
{
	char	*s = xstrdup(""), *t;
	size_t	 i;

	for (i = 0; i < n; i++) {
		t = xasprintf("%s%s%s", s, i == 0 ? "" : ", ", v[i]);
		free(s);
		s = t;
	}
	return s;
}

/*
 * The lineage part of a reload, once d->cfg holds the new settings and
 * `old` the previous ones: a deliverer whose settings changed is replaced,
 * the new destination taking over where the old one stopped; one that died
 * is started again.  Failures are logged: the events wait in the outbox
 * for the next reload or start, and scheduling goes on.
 */
static void
reload_lineage(struct daemon *d, const struct meshd_config *old,
    int changed)
{
	char	*cause = NULL;

	if (changed) {
		lineage_stop();
		if (lineage_handoff(d->st, old, d->cfg, &cause) != 0) {
			log_error("%s", cause);
			free(cause);
			cause = NULL;
		}
	} else if (d->cfg->lineage_sink == LINEAGE_SINK_NONE ||
	    lineage_running())
		return;
	if (d->cfg->lineage_sink == LINEAGE_SINK_NONE) {
		log_info("lineage: sink = \"none\": no events are recorded");
		return;
	}
	if (lineage_start(d->cfg, &cause) != 0) {
		log_error("%s; the events wait in the outbox", cause);
		free(cause);
	}
}

/*
 * SIGHUP: read meshd.conf again and load the jobs against it.  An error in
 * meshd.conf refuses the whole reload: the old config and the old jobs
 * stay, entirely (so does a jobs directory that cannot be read).  Jobs
 * are judged one by one (daemon_jobs_admit()): a broken job file refuses
 * only its job, which keeps running its last valid version if it had one.
 * Running attempts are never touched.
 *
 * The engine, the jobs' loader and the freshness passes hold d->cfg, not
 * copies of its fields, and read it when they use it: the new config is
 * swapped INTO the same struct, so that they see it at once and nothing
 * is left pointing at freed memory.  Keys that cannot change while meshd
 * runs were given their old values first (config_reload_merge()), so the
 * struct is always one consistent config.  Nothing keeps a pointer to a
 * field across a loop pass: retired jobs and running attempts have their
 * own copies of what they took from it (plugin paths, staging and log
 * paths, pool indexes, which stay valid since pools' names do not change).
 */
static void
daemon_reload(struct daemon *d)
{
	struct errlist		 errs = ERRLIST_INIT;
	struct meshd_config	*next, swap;
	struct config_changes	 ch;
	struct jobset		 js, oldview;
	int64_t			*w;
	size_t			 i;
	char			*now, *later, *cause = NULL;

	log_info("reloading %s and the jobs", d->config_path);
	memset(&js, 0, sizeof js);
	if ((next = config_load(d->config_path, &errs)) == NULL) {
		reload_refused(d, &errs);
		errlist_free(&errs);
		return;
	}
	config_reload_merge(d->cfg, next, &ch);
	for (i = 0; i < errs.n; i++)
		log_warn("%s:%d: %s", errs.v[i].file != NULL ? errs.v[i].file :
		    "?", errs.v[i].line, errs.v[i].msg);
	errlist_free(&errs);
	for (i = 0; i < ch.nrestart; i++)
		log_warn("%s: %s changed; it takes effect at the next restart",
		    d->config_path, ch.restart[i]);
	if (daemon_jobs_dir(next) != 0) {
		log_error("reload refused: the previous configuration and the "
		    "%zu job%s keep running", d->jobs.n, d->jobs.n == 1 ? "" :
		    "s");
		config_free(next);
		return;
	}
	/* The watermarks are the old set's by position: look them up in a
	 * view of it taken before previous versions move out of it. */
	memset(&oldview, 0, sizeof oldview);
	oldview.n = d->jobs.n;
	oldview.v = xcalloc(d->jobs.n + 1, sizeof *oldview.v);
	if (d->jobs.n > 0)
		memcpy(oldview.v, d->jobs.v, d->jobs.n * sizeof *oldview.v);
	jobset_reindex(&oldview);
	/* By the new policies, against the new config. */
	daemon_jobs_admit(next, &js, &d->jobs);

	/* Valid: apply.  `next` ends up holding the previous settings. */
	swap = *d->cfg;
	*d->cfg = *next;
	*next = swap;
	executor_set_limits(d->ex, d->cfg->kill_grace_s,
	    d->cfg->heartbeat_timeout_s);
	if (ch.sync && config_apply_sync(d->cfg, d->st, &cause) != 0) {
		log_error("%s", cause);
		free(cause);
		cause = NULL;
	}
	reload_lineage(d, next, ch.deliverer);
	daemon_http_reload(d, next);
	config_free(next);

	w = watermarks_for(d, &js, &oldview, d->watermark);
	free(oldview.v);
	free(oldview.hidx);
	d->retired = xreallocarray(d->retired, d->nretired + 1,
	    sizeof *d->retired);
	d->retired[d->nretired++] = d->jobs;
	d->jobs = js;
	free(d->watermark);
	d->watermark = w;
	free(d->paused);
	d->paused = paused_for(d, &d->jobs);
	daemon_gc(d);
	/* Runs waiting for inputs look again, by their jobs' new inputs. */
	daemon_queue_reloaded(d);
	now = names_join(ch.now, ch.nnow);
	later = names_join(ch.restart, ch.nrestart);
	if (ch.nnow == 0 && ch.nrestart == 0)
		log_info("reloaded: %zu job%s; meshd.conf unchanged",
		    d->jobs.n, d->jobs.n == 1 ? "" : "s");
	else
		log_info("reloaded: %zu job%s; meshd.conf: %s%s%s%s%s",
		    d->jobs.n, d->jobs.n == 1 ? "" : "s", now,
		    ch.nnow > 0 ? " changed" : "",
		    ch.nnow > 0 && ch.nrestart > 0 ? "; " : "", later,
		    ch.nrestart > 0 ? " changed, at the next restart" : "");
	free(now);
	free(later);
	/* New jobs catch up by their policy. */
	daemon_schedule(d, daemon_now(d), 1);
}

/*
 * Milliseconds to sleep: until the next interval ends, a retry or a
 * freshness or retention deadline is due, or a side service is to be
 * started again; -1 (for ever) with none of them.  There is no periodic
 * wake-up (an idle meshd with 10,000 jobs wakes once per due fire): every
 * other event wakes the wait itself.  A request is announced by its maker
 * through the wake-up FIFO or SIGUSR1 (act_poke(): meshctl and the HTTP
 * child, for every kind), a result by its worker's pipe, a dead child by
 * SIGCHLD, a reload or stop by its signal.
 */
static int
daemon_timeout(struct daemon *d, int64_t now)
{
	int64_t	t = -1, due, mono, next, nb;

	if (d->next_sched != INT64_MAX)
		t = d->next_sched > now ? d->next_sched - now : 0;
	if ((nb = daemon_queue_next_start(d, now)) != INT64_MAX &&
	    (t < 0 || nb - now < t))
		t = nb - now;
	if (d->fresh != NULL && d->fresh_due != INT64_MAX &&
	    (t < 0 || d->fresh_due - now < t))
		t = d->fresh_due > now ? d->fresh_due - now : 0;
	t = t < 0 ? -1 : t / 1000 + 1;
	if ((due = engine_next_due(d->engine)) >= 0 && (t < 0 || due < t))
		t = due;
	/* The HTTP child and the alert deliverer are started again after
	 * a backoff (their death woke the loop, which saw it). */
	mono = mono_us();
	next = daemon_http_next();
	if ((due = alert_watch_next()) < next)
		next = due;
	if (next != INT64_MAX) {
		due = next > mono ? (next - mono) / 1000 + 1 : 0;
		if (t < 0 || due < t)
			t = due;
	}
	/* Signals wake the wait through the self-pipe; a test clock is
	 * re-read ten times a second.  Otherwise an idle daemon sleeps
	 * until its next fire. */
	if (d->clock_file != NULL && (t < 0 || t > 100))
		t = 100;
	if (t > INT_MAX)
		t = INT_MAX;
	return notify_timeout((int)t);	/* the watchdog's, if it is on */
}

/* SIGTERM/SIGINT: let running attempts finish within shutdown_grace,
 * then stop them; unfinished runs stay running for the next start. */
static void
daemon_shutdown(struct daemon *d)
{
	int64_t	 deadline;
	char	*cause = NULL;

	log_info("shutting down (signal %d): %zu attempt%s running",
	    (int)sig_stop, engine_running_tasks(d->engine),
	    engine_running_tasks(d->engine) == 1 ? "" : "s");
	engine_drain(d->engine);
	deadline = mono_us() + (int64_t)d->cfg->shutdown_grace_s * 1000000;
	while (engine_running_tasks(d->engine) > 0 && mono_us() < deadline) {
		daemon_health(d);
		notify_tick();
		if (engine_step(d->engine, 100, &cause) != 0)
			goto fail;
	}
	if (engine_running_tasks(d->engine) > 0 &&
	    !state_pending(d->st)) {
		log_warn("shutdown grace of %ds is over: stopping %zu "
		    "attempt%s", d->cfg->shutdown_grace_s,
		    engine_running_tasks(d->engine),
		    engine_running_tasks(d->engine) == 1 ? "" : "s");
		engine_stop(d->engine, "daemon shutting down");
		/* The results of stopped attempts come after the kill
		 * grace; a state that cannot be written holds them. */
		deadline = mono_us() + ((int64_t)d->cfg->kill_grace_s + 5) *
		    1000000;
		while (engine_running_tasks(d->engine) > 0 &&
		    (!state_pending(d->st) || mono_us() < deadline)) {
			daemon_health(d);
			notify_tick();
			if (engine_step(d->engine, 100, &cause) != 0)
				goto fail;
		}
	}
	if (state_pending(d->st) || engine_held(d->engine) > 0)
		log_error("shutdown: the state cannot be written (%s): %zu "
		    "result%s not recorded; their tasks run again at the next "
		    "start", state_fault(d->st, NULL) != NULL ?
		    state_fault(d->st, NULL) : "held", engine_held(d->engine),
		    engine_held(d->engine) == 1 ? " is" : "s are");
	return;
fail:
	log_error("shutdown: %s", cause);
	free(cause);
}

static int
daemon_start(struct daemon *d, int *lockfd)
{
	struct errlist		 errs = ERRLIST_INIT;
	struct executor_opts	 eo;
	struct recovered_run	*rec;
	struct lost_attempt	*lost;
	size_t			 nrec, nlost, i;
	char			*cause = NULL;
	pid_t			 holder;

	/* Only meshd.conf (and its jobs_dir) stops the start: a broken job
	 * is refused alone (daemon_jobs_admit()), even if that leaves none
	 * to run. */
	if ((d->cfg = config_load(d->config_path, &errs)) == NULL) {
		errlist_print(&errs, stderr);
		errlist_free(&errs);
		fprintf(stderr, "meshd: refusing to start: fix the errors "
		    "above in %s (meshctl validate shows them too)\n",
		    d->config_path);
		return -1;
	}
	errlist_print(&errs, stderr);
	errlist_free(&errs);
	if (daemon_jobs_dir(d->cfg) != 0) {
		fprintf(stderr, "meshd: refusing to start: fix jobs_dir in "
		    "%s\n", d->config_path);
		return -1;
	}
	daemon_jobs_admit(d->cfg, &d->jobs, NULL);
	/* The lineage deliverer is a child with its own connection.  It
	 * execs meshd again, so it could start at any time (a reload does),
	 * but at start it is simply first. */
	if ((*lockfd = state_lock(d->cfg->state_db, &holder, &cause)) == -1 ||
	    lineage_start(d->cfg, &cause) != 0 ||
	    alert_start(d->cfg, &cause) != 0 ||
	    daemon_http_start(d, &cause) != 0)
		goto fail;
	if ((d->st = state_open(d->cfg->state_db, STATE_RDWR, &cause)) ==
	    NULL || config_apply_sync(d->cfg, d->st, &cause) != 0 ||
	    wake_fifo_open(d->cfg->state_db, &cause) != 0 ||
	    config_apply_access(d->cfg, &cause) != 0)
		goto fail;
	memset(&eo, 0, sizeof eo);
	eo.workers = d->cfg->workers;
	eo.max_tasks = d->cfg->worker_max_tasks;
	eo.memory_mb = d->cfg->worker_memory_mb;
	eo.kill_grace_s = d->cfg->kill_grace_s;
	eo.heartbeat_timeout_s = d->cfg->heartbeat_timeout_s;
	eo.log_max_bytes = d->cfg->log_max_bytes;
	eo.log_overflow_fails = d->cfg->log_overflow_fails;
	eo.task_max_bytes = d->cfg->task_max_bytes;
	eo.empty_check_fails = d->cfg->empty_check_fails;
	if ((d->ex = executor_new(&eo, &cause)) == NULL)
		goto fail;
	executor_set_wakeup(d->ex, wake_pipe[0]);
	log_info("containment: %s (what a stage starts is killed with its "
	    "attempt)", executor_containment(d->ex));
	d->obs.run_start = obs_run_start;
	d->obs.task_start = obs_task_start;
	d->obs.task_end = obs_task_end;
	d->obs.run_end = obs_run_end;
	d->obs.arg = d;
	d->engine = engine_new(d->cfg, d->st, d->ex, &d->obs);
	daemon_health_init(d, &sig_stop);
	d->max_active = 4 * d->cfg->workers < 16 ? 16 : 4 * d->cfg->workers;
	/* The remote executors, before the runs that may adopt attempts on
	 * them are resumed; each counts its max_jobs among the runs the
	 * engine may hold. */
	if (d->cfg->nexecutors > 0) {
		d->xr = xcalloc(d->cfg->nexecutors, sizeof *d->xr);
		for (i = 0; i < d->cfg->nexecutors; i++) {
			d->xr[i] = xremote_new(&d->cfg->executors[i],
			    (int)i + 1, &eo, d->cfg->kill_grace_s, d->ex);
			d->max_active += d->cfg->executors[i].max_jobs;
		}
		d->nxr = d->cfg->nexecutors;
		engine_set_remotes(d->engine, d->xr, d->nxr);
	}

	/* Resume what a crash or stop left unfinished, before anything
	 * new. */
	lost = engine_lost_attempts(d->st, d->cfg, &nlost);
	if (lineage_recover(d->st, d->cfg, now_us(), &cause) != 0 ||
	    engine_recover(d->st, d->cfg, &d->jobs, &rec, &nrec, &cause) != 0) {
		engine_lost_close(lost, nlost, 0);
		goto fail;
	}
	engine_lost_close(lost, nlost, 1);
	for (i = 0; i < nrec; i++) {
		log_info("job=%s partition=%s: resuming unfinished run",
		    rec[i].job->name, rec[i].key);
		daemon_queue_push(d, rec[i].job->name, rec[i].key, rec[i].istart,
		    rec[i].iend, rec[i].trigger, 0);
	}
	recovered_runs_free(rec, nrec);
	if (daemon_bf_load(d, &cause) != 0)
		goto fail;
	d->watermark = watermarks_for(d, &d->jobs, NULL, NULL);
	d->paused = paused_for(d, &d->jobs);
	log_info("meshd %s started: pid %ld, %zu job%s (%zu broken), %d "
	    "worker%s, state %s%s", PACKAGE_VERSION, (long)getpid(), d->jobs.n,
	    d->jobs.n == 1 ? "" : "s", d->jobs.nbroken, d->cfg->workers,
	    d->cfg->workers == 1 ? "" : "s", d->cfg->state_db,
	    d->clock_file != NULL ? " (test clock)" : "");
	return 0;
fail:
	fprintf(stderr, "meshd: %s\n", cause);
	free(cause);
	return -1;
}

static int
daemon_loop(struct daemon *d)
{
	char	*cause = NULL;
	int64_t	 now;

	/* Requests made while it was down first (a pause must hold before
	 * anything is scheduled); then the intervals that ended while it
	 * was down, by each job's catch-up policy. */
	if (daemon_requests(d) != 0 ||
	    daemon_schedule(d, daemon_now(d), 1) != 0)
		return -1;
	daemon_notify_ready(d);
	while (!sig_stop) {
		if (sig_hup) {
			sig_hup = 0;
			notify_reloading();
			daemon_reload(d);
			daemon_notify_ready(d);
		}
		daemon_notify(d);
		now = daemon_now(d);
		/* A full disk, a foreign lock, a failing pass: meshd pauses,
		 * says why, and goes on (meshd-health.c). */
		daemon_health(d);
		if (daemon_health_may_schedule(d)) {
			int rc = daemon_requests(d);

			if (rc == 0)
				rc = daemon_schedule(d, now, d->catchup_due);
			if (rc == 0)
				d->catchup_due = 0;
			if (rc == 0 && d->bf_due)
				rc = daemon_bf_pass(d);
			if (rc == 0 && d->npub > 0)
				rc = daemon_inputs_pass(d);
			daemon_health_pass(d, "scheduling", rc);
		}
		if (daemon_health_may_schedule(d)) {
			/* Freshness and retention: failures are logged and
			 * tried again; they never stop the daemon. */
			daemon_freshness(d, now, &d->fresh_due);
			daemon_house(d, now, &d->fresh_due);
			daemon_admit(d, now);
		}
		if (engine_step(d->engine, daemon_health_timeout(d,
		    daemon_timeout(d, now)), &cause) != 0) {
			log_error("%s", cause);
			free(cause);
			return -1;
		}
		daemon_gc(d);
		daemon_http_watch(d);
		/* With nothing running, engine_step() returns at once:
		 * sleep until something is due or a signal comes. */
		if (engine_running_tasks(d->engine) == 0 &&
		    engine_active_runs(d->engine) == 0 && !d->bf_due &&
		    d->npub == 0 &&
		    !sig_stop && !sig_hup) {
			struct pollfd pfd = { wake_pipe[0], POLLIN, 0 };

			poll(&pfd, 1, daemon_health_timeout(d,
			    daemon_timeout(d, daemon_now(d))));
		}
		wake_drain();
	}
	daemon_notify_stopping(d);
	daemon_shutdown(d);
	free(sched_at);
	sched_at = NULL;
	sched_atn = 0;
	return 0;
}

static void
daemon_free(struct daemon *d)
{
	size_t	i;

	lineage_stop();
	alert_stop();
	daemon_http_stop();
	daemon_health_free(d);
	engine_free(d->engine);
	for (i = 0; i < d->nxr; i++)
		xremote_free(d->xr[i]);
	free(d->xr);
	if (d->ex != NULL)
		executor_free(d->ex);
	if (d->st != NULL)
		state_close(d->st);
	daemon_queue_free(d);
	daemon_bf_free(d);
	daemon_inputs_free(d);
	daemon_freshness_free(d);
	daemon_house_free(d);
	for (i = 0; i < d->nretired; i++)
		jobset_free(&d->retired[i]);
	free(d->retired);
	jobset_free(&d->jobs);
	free(d->watermark);
	free(d->paused);
	if (d->cfg != NULL)
		config_free(d->cfg);
}

int
main(int argc, char **argv)
{
	struct daemon		 d;
	struct sigaction	 sa;
	int			 c, detach = 0, lockfd = -1, rc = 1, devnull;
	int			 to_syslog = 0, debug = 0;
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "daemon", no_argument, NULL, 'd' },
		{ "syslog", no_argument, NULL, 's' },
		{ "debug", no_argument, NULL, 'D' },
		{ "clock", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};

	/* The lineage deliverer is meshd run again (lineage_start()). */
	if (argc > 1 && strcmp(argv[1], LINEAGE_DELIVERER_ARG) == 0)
		return lineage_main(argc - 2, argv + 2);
	if (argc > 1 && strcmp(argv[1], ALERT_DELIVERER_ARG) == 0)
		return alert_main(argc - 2, argv + 2);
	if (argc > 1 && strcmp(argv[1], HTTP_CHILD_ARG) == 0)
		return http_main(argc - 2, argv + 2);
	memset(&d, 0, sizeof d);
	d.config_path = config_default_path();
	while ((c = getopt_long(argc, argv, "c:fdshV", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'f':
			detach = 0;
			break;
		case 'd':
			detach = 1;
			break;
		case 's':
			log_open_syslog();
			to_syslog = 1;
			break;
		case 'D':
			log_set_level(LOG_LVL_DEBUG);
			debug = 1;
			break;
		case 'k':
			d.clock_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("meshd %s (plugin ABI %d.%d, state schema %d)\n",
			    PACKAGE_VERSION, MESHD_ABI_MAJOR, MESHD_ABI_MINOR,
			    STATE_SCHEMA_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	lineage_init(argv[0], to_syslog, debug);
	if (detach) {
		if (daemon(1, 1) == -1) {
			fprintf(stderr, "meshd: daemon: %s\n", strerror(errno));
			return 1;
		}
		if ((devnull = open("/dev/null", O_RDWR)) != -1) {
			dup2(devnull, STDIN_FILENO);
			close(devnull);
		}
	}

	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		fprintf(stderr, "meshd: pipe: %s\n", strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;	/* no SA_RESTART: waits wake up */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);	/* a request is waiting */
	/* A side service (HTTP child, alert deliverer) died: an idle loop
	 * has no periodic wake-up to notice it by (daemon_timeout()).  Only
	 * the wake-up matters, so other calls are restarted. */
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_flags = 0;
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	notify_init();
	if (daemon_start(&d, &lockfd) == 0 && daemon_loop(&d) == 0)
		rc = 0;
	daemon_free(&d);
	state_unlock(lockfd);
	if (rc == 0)
		log_info("stopped");
	return rc;
}
