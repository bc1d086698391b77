/*
 * meshd-house.c -- the daemon's housekeeping pass: history_retention and
 * log_retention of meshd.conf(5), by the sweep of housekeep.h.
 *
 * A sweep starts when the daemon starts (or a reload changes either
 * retention), then every HOUSE_PERIOD.  Its cutoffs are read from the
 * wall clock when it starts, since that clock recorded the times it
 * compares.  Each loop pass steps one batch (one short transaction of the
 * daemon's own connection, at most HOUSE_BATCH runs) and, while there is
 * more, asks the loop to come back at once: a long history never holds up
 * scheduling for more than a batch.  A run queued or running in this
 * daemon is live and kept even when its row still says it finished (a
 * trigger queues a finished run before its row changes).  While the state
 * cannot be written (state_pending(): a full disk) no batch is started.
 */
#include <stdint.h>
#include <stdlib.h>

#include "engine.h"
#include "housekeep.h"
#include "log.h"
#include "util.h"
#include "meshd.h"

/* Between two sweeps, in wall-clock microseconds. */
#define HOUSE_PERIOD	(3600LL * 1000000)

struct dhouse {
	struct house		*sweep;		/* in progress, or NULL */
	struct house_ops	 ops;
	int64_t			 next_wall;	/* the next sweep */
	int64_t			 hist_s, log_s;	/* it was made with */
};

static int
dh_begin(void *arg, char **cause)
{
	return state_begin(((struct daemon *)arg)->st, cause);
}

static int
dh_commit(void *arg, char **cause)
{
	return state_commit(((struct daemon *)arg)->st, cause);
}

static void
dh_rollback(void *arg)
{
	state_rollback(((struct daemon *)arg)->st);
}

static int
dh_live(void *arg, const char *job, const char *key)
{
	struct daemon	*d = arg;

	return engine_is_active(d->engine, job, key) ||
	    daemon_queued(d, job, key);
}

static int
dh_durable(void *arg)
{
	return !state_pending(((struct daemon *)arg)->st);
}

static void
dh_report(const struct daemon *d, const struct house_counts *c)
{
	if (!house_counts_any(c))
		return;
	log_info("housekeeping: deleted %lld run%s (%lld attempt%s, %lld "
	    "check result%s), %lld backfill%s, %lld request%s and %lld "
	    "alert%s older than history_retention (%llds); removed %lld log "
	    "file%s (%lld bytes, log_retention %llds); kept %lld old run%s "
	    "the catalog names", (long long)c->runs, c->runs == 1 ? "" : "s",
	    (long long)c->attempts, c->attempts == 1 ? "" : "s",
	    (long long)c->check_results, c->check_results == 1 ? "" : "s",
	    (long long)c->backfills, c->backfills == 1 ? "" : "s",
	    (long long)c->requests, c->requests == 1 ? "" : "s",
	    (long long)c->alerts, c->alerts == 1 ? "" : "s",
	    (long long)d->cfg->history_retention_s, (long long)c->log_files,
	    c->log_files == 1 ? "" : "s", (long long)c->log_bytes,
	    (long long)d->cfg->log_retention_s, (long long)c->kept_catalog,
	    c->kept_catalog == 1 ? "" : "s");
}

void
daemon_house(struct daemon *d, int64_t now, int64_t *next_due)
{
	struct dhouse	*h = d->house;
	int64_t		 wall = now_us(), hist_s, log_s;
	char		*cause = NULL;
	int		 rc;

	hist_s = d->cfg->history_retention_s;
	log_s = d->cfg->log_retention_s;
	if (h == NULL) {
		if (hist_s == 0 && log_s == 0)
			return;
		h = d->house = xcalloc(1, sizeof *h);
		h->ops.begin = dh_begin;
		h->ops.commit = dh_commit;
		h->ops.rollback = dh_rollback;
		h->ops.live = dh_live;
		h->ops.durable = dh_durable;
		h->ops.arg = d;
		h->next_wall = INT64_MIN;
	}
	if (hist_s != h->hist_s || log_s != h->log_s) {
		/* A reload changed what is old: sweep again, now. */
		house_free(h->sweep);
		h->sweep = NULL;
		h->hist_s = hist_s;
		h->log_s = log_s;
		h->next_wall = INT64_MIN;
	}
	if (hist_s == 0 && log_s == 0)
		return;
	if (h->sweep == NULL) {
		if (wall < h->next_wall) {
			if (now + (h->next_wall - wall) < *next_due)
				*next_due = now + (h->next_wall - wall);
			return;
		}
		h->sweep = house_new(state_sqlite(d->st), &h->ops,
		    d->cfg->log_dir, hist_s > 0 ? wall - hist_s * 1000000 : 0,
		    log_s > 0 ? wall - log_s * 1000000 : 0, 0);
		h->next_wall = wall + HOUSE_PERIOD;
	}
	if (state_pending(d->st)) {
		/* The disk refuses writes: meshd-health.c says why; try
		 * again in a while. */
		if (now + 10 * 1000000LL < *next_due)
			*next_due = now + 10 * 1000000LL;
		return;
	}
	if ((rc = house_step(h->sweep, &cause)) < 0) {
		log_error("housekeeping: %s (tried again in a minute)", cause);
		free(cause);
		house_free(h->sweep);
		h->sweep = NULL;
		h->next_wall = wall + 60 * 1000000LL;
		if (now + 60 * 1000000LL < *next_due)
			*next_due = now + 60 * 1000000LL;
		return;
	}
	if (rc > 0) {
		*next_due = now;	/* the next batch, at the next pass */
		return;
	}
	dh_report(d, house_counts(h->sweep));
	house_free(h->sweep);
	h->sweep = NULL;
	if (now + (h->next_wall - wall) < *next_due)
		*next_due = now + (h->next_wall - wall);
}

void
daemon_house_free(struct daemon *d)
{
	struct dhouse	*h = d->house;

	if (h == NULL)
		return;
	house_free(h->sweep);
	free(h);
	d->house = NULL;
}
