/*
 * meshd-health.c -- the daemon through faults that are nobody's input: a
 * full or failing disk, another process holding the state's write lock, a
 * log or staging directory meshd cannot write (issue 10, decision 8).
 *
 * None of them stops meshd.  It pauses launching, says why (an ERROR in
 * the log every few seconds, and `<state_db>.health`, which `meshctl
 * status` shows), keeps every result it holds, and resumes by itself once
 * the fault is gone:
 *
 *   lock held      the state's busy handler waits, never giving up, and
 *                  names the holder every 5 s (state_set_busy_wait());
 *   commit fails   (full disk, I/O error, read-only file system) the
 *                  transaction is held in memory (state_keep_writes()),
 *                  results are held by the engine, nothing is launched,
 *                  and the held commit is tried again, 1 s doubling to 30 s;
 *   headroom       below min_free_space on the state, log or staging file
 *                  system, launching pauses before the disk is full;
 *   infra results  a worker that cannot create the attempt's log or
 *                  staging reports it; the engine backs off launching
 *                  without costing the task a try (engine_infra_fault()).
 *
 * The health file also carries figures only the daemon knows, for the
 * HTTP child's /metrics (core/metrics.c): workers busy and idle, runs
 * waiting in its queue, runs and attempts in the engine, and the loop
 * lag.  They are taken at most once a second, so that a busy loop does
 * not rewrite the file on every pass; a figure that changed is written
 * within about a second even if the loop then sleeps, so an idle daemon
 * never keeps saying "busy".  The lag is written again only when it is
 * news: from under 10 ms to over, or by more than a tenth.
 *
 * Loop lag: the longest, over the last second, of (a) the work of one
 * pass before it waits again (requests, schedule, backfills, admitting
 * runs: an event that comes meanwhile waits that long) and (b) how late
 * the loop came back from a wait, past that wait's deadline (results
 * committed after the wait, e.g. through a lock held by another process).
 * Every wait has a deadline within a second, so (b) is at most a second
 * short of a stall that followed an early wake-up.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "executor.h"
#include "log.h"
#include "meshd.h"
#include "util.h"
#include "xremote.h"

struct dhealth {
	volatile sig_atomic_t	*stop;
	char			*path;		/* <state_db>.health */
	int			 fd;
	char			*last;		/* what the file says */
	/* headroom */
	int64_t			 space_next;	/* mono_us */
	char			*space_why;
	int64_t			 space_since;	/* now_us */
	int64_t			 space_told;	/* mono_us */
	/* a held commit */
	int64_t			 flush_next, flush_backoff;
	int64_t			 pending_told;
	/* a scheduling pass that failed */
	char			*pass_why;
	int64_t			 pass_since, pass_next, pass_backoff;
	/* the lock */
	char			*busy_why;
	int64_t			 busy_since;
	/* infra */
	int64_t			 infra_since;
	int64_t			 infra_told;
	/* figures for /metrics: the ones written, and when next */
	struct health_stats {
		int64_t		 lag_us;
		int64_t		 busy, idle, queued, active, running;
	}			 stats;
	int64_t			 stats_next;	/* mono_us */
	/* loop lag: the current second's longest, the pass being timed */
	int64_t			 lag_max;
	int64_t			 pass_start;	/* mono_us; 0 once it waits */
	int64_t			 wait_deadline;	/* mono_us; 0 without */
};

/* "pid 1234, sqlite3", from state_wal_writer(). */
static char *
health_who(const char *db)
{
	char	name[64] = "";
	pid_t	pid = state_wal_writer(db, name, sizeof name);

	if (pid <= 0)
		return xstrdup("holder unknown");
	return *name != '\0' ? xasprintf("pid %ld, %s", (long)pid, name) :
	    xasprintf("pid %ld", (long)pid);
}

/* The state's busy handler calls this every 5 s of waiting. */
static int
health_busy(void *arg, int64_t waited_ms)
{
	struct daemon	*d = arg;
	struct dhealth	*h = d->health;
	char		*who = health_who(d->cfg->state_db);

	free(h->busy_why);
	h->busy_why = xasprintf("the state's write lock has been held by "
	    "another process for %llds (%s)", (long long)(waited_ms / 1000),
	    who);
	if (h->busy_since == 0)
		h->busy_since = now_us() - waited_ms * 1000;
	free(who);
	if (*h->stop) {
		log_error("%s; giving up: shutting down", h->busy_why);
		return 0;
	}
	log_error("%s; waiting (nothing is lost)", h->busy_why);
	daemon_health_write(d);
	return 1;
}

void
daemon_health_init(struct daemon *d, volatile sig_atomic_t *stop)
{
	struct dhealth	*h = xcalloc(1, sizeof *h);

	h->stop = stop;
	h->path = xasprintf("%s.health", d->cfg->state_db);
	h->fd = open(h->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (h->fd == -1)
		log_warn("%s: cannot open: %s (meshctl status will not show "
		    "faults)", h->path, strerror(errno));
	d->health = h;
	state_keep_writes(d->st);
	state_set_busy_wait(d->st, health_busy, d);
	/* A transaction that spills out of the page cache writes to the
	 * WAL before COMMIT, where a full disk could fail it half-way: keep
	 * meshd's (small) transactions in memory until they commit. */
	sqlite3_exec(state_sqlite(d->st), "PRAGMA cache_size = -65536", NULL,
	    NULL, NULL);
	daemon_health_write(d);
}

static void
health_problem(json_t *a, const char *what, const char *msg, int64_t since)
{
	json_array_append_new(a, json_pack("{s:s, s:s, s:I}", "what", what,
	    "message", msg, "since_us", (json_int_t)since));
}

/*
 * The jobs meshd refused at its start or last reload (issue 11), for
 * meshctl jobs and status: name, file, whether meshd runs its previous
 * version, and every diagnostic.
 */
static json_t *
health_broken(const struct jobset *js)
{
	const struct job_broken	*b;
	const struct job_def	*run;
	json_t			*a = json_array(), *e, *p;
	size_t			 i, k;

	for (i = 0; i < js->nbroken; i++) {
		b = &js->broken[i];
		e = json_array();
		for (k = 0; k < b->errs.n; k++)
			json_array_append_new(e, json_pack("{s:s?, s:i, s:s, "
			    "s:s}", "file", b->errs.v[k].file, "line",
			    b->errs.v[k].line, "level", b->errs.v[k].level ==
			    DIAG_ERROR ? "error" : "warning", "message",
			    b->errs.v[k].msg));
		/* What the previous version builds, so that meshctl does
		 * not blame the jobs reading it. */
		p = json_array();
		if (b->previous && (run = jobset_find(js, b->name)) != NULL)
			for (k = 0; k < run->ntasks; k++)
				if (run->tasks[k].product != NULL)
					json_array_append_new(p, json_string(
					    run->tasks[k].product));
		json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:o, "
		    "s:o}", "job", b->name, "file", b->file,
		    "running_previous", b->previous, "products", p,
		    "errors", e));
	}
	return a;
}

/* The figures now; the lag is the current second's so far. */
static void
health_stats_now(struct daemon *d, struct health_stats *s)
{
	struct dhealth	*h = d->health;

	memset(s, 0, sizeof *s);
	s->lag_us = h->lag_max;
	if (d->ex != NULL) {
		s->busy = executor_busy(d->ex);
		s->idle = executor_idle(d->ex);
	}
	s->queued = (int64_t)d->nq;
	if (d->engine != NULL) {
		s->active = (int64_t)engine_active_runs(d->engine);
		s->running = (int64_t)engine_running_tasks(d->engine);
	}
}

/* Are two loop lags the same news: both under 10 ms, or within 10% of
 * each other? */
static int
lag_same(int64_t a, int64_t b)
{
	int64_t	d = a > b ? a - b : b - a;

	return (a < 10000 && b < 10000) || d * 10 < (a > b ? a : b);
}

/* Take the figures if a second has passed since the last time. */
static void
health_stats(struct daemon *d, int64_t mono)
{
	struct dhealth	*h = d->health;

	int64_t		 lag = h->stats.lag_us;

	if (mono < h->stats_next)
		return;
	health_stats_now(d, &h->stats);
	/* A lag that moved by microseconds is not news: rewriting the file
	 * for it every second would have its readers (the HTTP child
	 * reloads its snapshot when the file changes) do so too. */
	if (lag_same(lag, h->stats.lag_us))
		h->stats.lag_us = lag;
	h->lag_max = 0;
	h->stats_next = mono + 1000000;
}

static void
health_lag(struct dhealth *h, int64_t lag)
{
	if (lag > h->lag_max)
		h->lag_max = lag;
}

/*
 * Replace the file's contents.  Readers (meshctl status, the HTTP child,
 * polling it) must never see half a document, so it is written whole
 * beside it and renamed over it.  On a full disk that new file cannot be
 * made: then it is written in place, where the blocks it has are kept
 * (a reader may catch that write half done, and reads it again later).
 */
static void
health_put(struct dhealth *h, const char *text, size_t len)
{
	char	*tmp = xasprintf("%s.tmp", h->path);
	int	 fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0640);
	if (fd != -1 && write(fd, text, len) == (ssize_t)len &&
	    rename(tmp, h->path) == 0) {
		close(h->fd);
		h->fd = fd;
		free(tmp);
		return;
	}
	if (fd != -1) {
		close(fd);
		(void)unlink(tmp);
	}
	free(tmp);
	/* A tail left by a failed truncate follows a whole document. */
	if (pwrite(h->fd, text, len, 0) == (ssize_t)len &&
	    ftruncate(h->fd, (off_t)len) == -1)
		log_debug("%s: %s", h->path, strerror(errno));
}

/* The remote executors as meshd sees them now (issue 13): what is in
 * flight, what the agent reports queued and running, the pilots, and
 * the Slurm controller's last error. */
static json_t *
health_executors(struct daemon *d)
{
	json_t		*a = json_array();
	struct xcounts	 c;
	size_t		 i;

	for (i = 0; i < d->nxr; i++) {
		const struct executor_def *def = &d->cfg->executors[i];

		xremote_counts(d->xr[i], &c);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:b, s:i, "
		    "s:i, s:i, s:i, s:i, s:s?}", "name",
		    xremote_name(d->xr[i]), "type", def->type != NULL ?
		    def->type : "slurm", "mode", def->mode == XMODE_PILOT ?
		    "pilot" : "job", "agent", c.agent_up, "in_flight",
		    c.inflight, "queued", c.queued, "running", c.running,
		    "pilots", c.pilots, "pilots_busy", c.pilots_busy, "error",
		    c.error));
	}
	return a;
}

void
daemon_health_write(struct daemon *d)
{
	struct dhealth	*h = d->health;
	json_t		*o, *a, *x;
	const char	*fault, *infra;
	int64_t		 since;
	char		*text;
	size_t		 len;

	if (h == NULL || h->fd == -1)
		return;
	a = json_array();
	if (h->busy_why != NULL)
		health_problem(a, "lock", h->busy_why, h->busy_since);
	if ((fault = state_fault(d->st, &since)) != NULL)
		health_problem(a, "state", fault, since);
	if (h->space_why != NULL)
		health_problem(a, "disk", h->space_why, h->space_since);
	if ((infra = engine_infra_fault(d->engine)) != NULL)
		health_problem(a, "infrastructure", infra, h->infra_since);
	if (h->pass_why != NULL)
		health_problem(a, "scheduling", h->pass_why, h->pass_since);
	health_stats(d, mono_us());
	x = health_executors(d);
	o = json_pack("{s:I, s:s, s:I, s:o, s:I, s:o, s:I, s:I, s:I, s:I, "
	    "s:I, s:I}", "pid",
	    (json_int_t)getpid(), "launching", json_array_size(a) > 0 ?
	    "paused" : "on", "held_results", (json_int_t)(d->engine != NULL ?
	    engine_held(d->engine) : 0), "problems", a, "jobs",
	    (json_int_t)d->jobs.n, "broken_jobs", health_broken(&d->jobs),
	    "loop_lag_us", (json_int_t)h->stats.lag_us,
	    "workers_busy", (json_int_t)h->stats.busy,
	    "workers_idle", (json_int_t)h->stats.idle,
	    "queued_runs", (json_int_t)h->stats.queued,
	    "active_runs", (json_int_t)h->stats.active,
	    "running_attempts", (json_int_t)h->stats.running);
	json_object_set_new(o, "executors", x);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return;
	if (h->last != NULL && strcmp(h->last, text) == 0) {
		free(text);
		return;
	}
	len = strlen(text);
	text[len] = '\n';
	health_put(h, text, len + 1);
	text[len] = '\0';
	free(h->last);
	h->last = text;
}

/* Free bytes for an unprivileged user on the file system of `path`'s
 * nearest existing directory; -1 if unknown. */
static long long
health_free(const char *path)
{
	struct statvfs	 sv;
	char		*p = xstrdup(path), *slash;

	while (statvfs(p, &sv) == -1) {
		if ((slash = strrchr(p, '/')) == NULL || slash == p) {
			free(p);
			return -1;
		}
		*slash = '\0';
	}
	free(p);
	return (long long)sv.f_bavail * (long long)sv.f_frsize;
}

static void
health_space(struct daemon *d, int64_t mono)
{
	struct dhealth	*h = d->health;
	const char	*dirs[3], *names[3] = { "state", "log_dir",
			    "staging_dir" };
	char		*sdir, *why = NULL;
	long long	 avail;
	size_t		 i;

	if (mono < h->space_next)
		return;
	h->space_next = mono + 1000000;
	if (d->cfg->min_free_space <= 0) {
		free(h->space_why);
		h->space_why = NULL;
		return;
	}
	sdir = path_dirname(d->cfg->state_db);
	dirs[0] = sdir;
	dirs[1] = d->cfg->log_dir;
	dirs[2] = d->cfg->staging_dir;
	for (i = 0; i < 3 && why == NULL; i++) {
		if ((avail = health_free(dirs[i])) >= 0 &&
		    avail < d->cfg->min_free_space)
			why = xasprintf("%s %s: %lld bytes free, below "
			    "min_free_space (%lld)", names[i], dirs[i], avail,
			    d->cfg->min_free_space);
	}
	free(sdir);
	if (why != NULL && h->space_why == NULL) {
		h->space_since = now_us();
		log_error("%s: launching paused until there is room",
		    why);
		h->space_told = mono;
	} else if (why != NULL && mono - h->space_told >= 60000000) {
		log_error("%s: launching still paused", why);
		h->space_told = mono;
	} else if (why == NULL && h->space_why != NULL)
		log_info("free space is back above min_free_space: launching "
		    "again");
	free(h->space_why);
	h->space_why = why;
}

static void
health_flush(struct daemon *d, int64_t mono)
{
	struct dhealth	*h = d->health;
	char		*cause = NULL;
	int64_t		 since;
	int		 rc;

	if (!state_pending(d->st)) {
		h->flush_backoff = 0;
		return;
	}
	if (h->flush_backoff == 0) {
		/* Just failed: say so at once. */
		log_error("%s: launching paused; %zu result%s held in memory "
		    "until the state can be written", state_fault(d->st, NULL),
		    engine_held(d->engine), engine_held(d->engine) == 1 ?
		    "" : "s");
		h->pending_told = mono;
		h->flush_backoff = 1000000;
		h->flush_next = mono + h->flush_backoff;
		return;
	}
	if (mono < h->flush_next)
		return;
	rc = state_flush(d->st, &cause);
	if (rc == 0) {
		state_fault(d->st, &since);
		log_info("the state is written again: %zu held result%s "
		    "committed next; launching again", engine_held(d->engine),
		    engine_held(d->engine) == 1 ? "" : "s");
		h->flush_backoff = 0;
	} else {
		if (rc == -1)
			log_error("%s", cause);
		if (mono - h->pending_told >= 5000000) {
			log_error("%s: still held; %zu result%s in memory; "
			    "trying again", state_fault(d->st, NULL) != NULL ?
			    state_fault(d->st, NULL) : cause,
			    engine_held(d->engine), engine_held(d->engine) ==
			    1 ? "" : "s");
			h->pending_told = mono;
		}
		h->flush_backoff = h->flush_backoff * 2 > 30000000 ? 30000000 :
		    h->flush_backoff * 2;
		h->flush_next = mono + h->flush_backoff;
	}
	free(cause);
}

void
daemon_health(struct daemon *d)
{
	struct dhealth	*h = d->health;
	int64_t		 mono = mono_us();
	const char	*infra;

	/* A new pass: how late it came back from a wait with a timeout. */
	if (h->wait_deadline != 0 && mono > h->wait_deadline)
		health_lag(h, mono - h->wait_deadline);
	h->wait_deadline = 0;
	h->pass_start = mono;
	/* The lock was waited for and is free again. */
	if (h->busy_why != NULL) {
		log_info("the state's write lock is free again after %llds",
		    (long long)((now_us() - h->busy_since) / 1000000));
		free(h->busy_why);
		h->busy_why = NULL;
		h->busy_since = 0;
	}
	health_flush(d, mono);
	health_space(d, mono);
	if ((infra = engine_infra_fault(d->engine)) != NULL) {
		if (h->infra_since == 0) {
			h->infra_since = now_us();
			h->infra_told = 0;
		}
		if (h->infra_told == 0 || mono - h->infra_told >= 5000000) {
			log_error("%s: launching backs off; the attempt does "
			    "not count against its retries", infra);
			h->infra_told = mono;
		}
	} else if (h->infra_since != 0) {
		log_info("meshd's directories work again: launching again");
		h->infra_since = 0;
	}
	engine_set_paused(d->engine, h->space_why != NULL);
	daemon_health_write(d);
}

int
daemon_health_may_schedule(struct daemon *d)
{
	struct dhealth	*h = d->health;

	if (state_pending(d->st))
		return 0;
	if (h->pass_why != NULL && mono_us() < h->pass_next)
		return 0;
	return 1;
}

void
daemon_health_pass(struct daemon *d, const char *what, int rc)
{
	struct dhealth	*h = d->health;

	if (rc == 0) {
		if (h->pass_why != NULL) {
			log_info("%s works again", what);
			free(h->pass_why);
			h->pass_why = NULL;
			h->pass_backoff = 0;
			h->pass_since = 0;
		}
		return;
	}
	if (state_pending(d->st))
		return;		/* said by health_flush() */
	h->pass_backoff = h->pass_backoff == 0 ? 1000000 :
	    h->pass_backoff * 2 > 30000000 ? 30000000 : h->pass_backoff * 2;
	h->pass_next = mono_us() + h->pass_backoff;
	if (h->pass_since == 0)
		h->pass_since = now_us();
	free(h->pass_why);
	h->pass_why = xasprintf("%s failed (see the log); trying again in "
	    "%llds", what, (long long)(h->pass_backoff / 1000000));
	log_error("%s", h->pass_why);
	daemon_health_write(d);
}

/*
 * Called just before the loop waits: the pass's work ends here.  A figure
 * that changed since it was last written caps the wait at the moment it
 * may be written (once a second), or the file would keep saying "busy"
 * while an idle daemon sleeps.
 */
int
daemon_health_timeout(struct daemon *d, int t)
{
	struct dhealth		*h = d->health;
	struct health_stats	 now;
	int64_t			 mono, left;

	if (h == NULL)
		return t;
	mono = mono_us();
	if (h->pass_start != 0) {
		health_lag(h, mono - h->pass_start);
		h->pass_start = 0;
	}
	/* A second wait in the same pass (the loop's sleep after the
	 * engine's step): how far the first overran counts too. */
	if (h->wait_deadline != 0 && mono > h->wait_deadline)
		health_lag(h, mono - h->wait_deadline);
	health_stats_now(d, &now);
	/* While anything runs, is queued or is wrong, every wait ends
	 * within a second: a pass that overran its wait's deadline is
	 * measured as loop lag, whatever woke it.  An idle meshd sleeps as
	 * long as its loop asks (an overrun of that long wait still counts
	 * when it wakes). */
	if ((now.busy > 0 || now.queued > 0 || now.active > 0 ||
	    now.running > 0 || state_pending(d->st) || h->space_why != NULL ||
	    h->pass_why != NULL || engine_infra_fault(d->engine) != NULL) &&
	    (t < 0 || t > 1000))
		t = 1000;
	/* The lag only when it is news (the microseconds of every pass
	 * differ, and would wake an idle daemon each second for ever). */
	if (lag_same(h->stats.lag_us, now.lag_us))
		now.lag_us = h->stats.lag_us;
	if (h->fd != -1 && memcmp(&now, &h->stats, sizeof now) != 0) {
		left = (h->stats_next - mono) / 1000 + 1;
		if (left < 1)
			left = 1;
		if (t < 0 || t > left)
			t = (int)left;
	}
	h->wait_deadline = t >= 0 ? mono + (int64_t)t * 1000 : 0;
	return t;
}

void
daemon_health_free(struct daemon *d)
{
	struct dhealth	*h = d->health;

	if (h == NULL)
		return;
	if (h->fd != -1) {
		/* A stopped daemon has no problems to show. */
		(void)unlink(h->path);
		close(h->fd);
	}
	free(h->path);
	free(h->last);
	free(h->space_why);
	free(h->pass_why);
	free(h->busy_why);
	free(h);
	d->health = NULL;
}
