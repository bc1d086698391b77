/*
 * meshd-freshness.c -- freshness SLOs, their alerts, and the retention
 * of quarantined partitions' staging.
 *
 * A product with freshness_seconds > 0, built by a job with a time
 * schedule, promises each partition by its interval end plus that long
 * (its due time, in the daemon's clock).  When a partition comes due it
 * is judged once:
 *  - published (or stale: it was published) by then: on time;
 *  - otherwise late: product_partitions.late_us is set to when it was
 *    found late, products.late_count goes up by one, a warning is logged
 *    and, with a freshness_alert hook, a `late` alert goes into the
 *    alert outbox in the same transaction (alert.h: delivered by the
 *    alert deliverer, at least once, never again after a restart).  A
 *    row is created ('missing') if the job never ran it.
 * A partition is late at most once: a later publication leaves late_us
 * as it is, so published_us after due_us with late_us set reads
 * "published late".  due_us is set on every judged row: the newest one
 * is where judging resumes after a restart, so nothing is judged (or
 * counted, or alerted) twice.
 *
 * "By then" is read in the daemon's clock while the daemon is up: a
 * partition is judged in the first pass at or after its due time, on the
 * state it has then.  For a partition that came due while the daemon was
 * down, its published_us (the wall clock of the engine) is compared with
 * the due time instead.
 *
 * Which partitions: the intervals of the product's job, from the first
 * interval the job ever ran (or after the newest judged one), but never
 * more than FRESH_LOOKBACK before now (a product first seen with years
 * of history is not flooded with alerts), up to the job's end.  Products
 * enter the catalog when their job first runs; unscheduled and
 * on_inputs jobs have no interval to promise, so no SLO is judged.
 *
 * Retention: a run's staging (staging_dir/JOB/KEY, and its attempts'
 * directories beside it in KEY.attempts) is removed once nothing needs
 * it, going by the wall clock that recorded the times (runs.ended_us,
 * product_partitions.updated_us), never by the daemon's:
 *  - a quarantined partition's, kept for inspection, quarantine_retention
 *    seconds after it was quarantined;
 *  - a failed or cancelled run's, quarantine_retention seconds after the
 *    run ended: like a quarantined one, it is what an operator inspects
 *    before clearing the run, and a quarantined partition's run is itself
 *    a failed one;
 *  - a succeeded run's, staging_retention seconds after the run ended:
 *    what it published is elsewhere, and a backfill of years would leave
 *    a directory of extracted data per day for ever.
 * Never while the run is queued or running again (by its row, or in this
 * daemon's queue or engine: a trigger queues a finished run before its row
 * changes), and never outside the job's staging (no symbolic link is
 * followed).  Finished runs are walked in (ended_us, id) order from where
 * the last pass stopped, RET_BATCH per class per pass: each pass is cheap
 * and a run is looked at once, unless it ends again (a rerun) with a newer
 * ended_us.  The walk starts again from the beginning when the daemon
 * starts, finding mostly nothing left to remove.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "alert.h"
#include "log.h"
#include "schedule.h"
#include "util.h"
#include "meshd.h"

/* Judge no partition that ended more than this before now. */
#define FRESH_LOOKBACK		(7LL * 86400 * 1000000)
/* At most this many partitions per product per pass; the rest next. */
#define FRESH_MAX_PASS		1000
/* Read the product list again at most this often when the state changed
 * (meshd's own writes, or another process's commits: PRAGMA data_version),
 * and at least this often when meshd is awake anyway (monotonic
 * microseconds).  An idle meshd is not woken to look: products appear when
 * a job runs, which this daemon does (its own writes bring a look
 * FRESH_SCAN_MIN later) or `meshctl run` does (seen at meshd's next
 * wake-up: a request or a fire of any job, and a scheduled job's own fire
 * comes before any of its partitions can be judged late). */
#define FRESH_SCAN_MIN		(1LL * 1000000)
#define FRESH_SCAN_MAX		(60LL * 1000000)
/* Finished runs looked at per class per pass, so that 100,000 expired
 * runs (a long backfill) never hold up the loop: the rest at the next
 * passes, which come at once. */
#define RET_BATCH		100
/* Classes of finished runs whose staging is removed (rclasses[]). */
#define RET_NCLASS		3

struct fprod {
	int64_t	 id;
	char	*name;
	char	*owner;
	char	*job;
	int64_t	 fresh_us;
	int	 ready;		/* cursor set */
	int64_t	 cursor;	/* start of the next interval to judge */
	int64_t	 due;		/* its due time; INT64_MAX none */
};

struct dfresh {
	struct fprod	*v;
	size_t		 n;
	int64_t		 next;		/* min due: daemon clock */
	int64_t		 scan_mono;	/* products last read (mono) */
	int		 scanned;
	int64_t		 changes;	/* sqlite3_total_changes64 then */
	int64_t		 dv;		/* PRAGMA data_version then */
	struct job_def	**jobs_v;	/* d->jobs.v then: a reload rescans */
	int64_t		 started;	/* daemon clock, first pass */
	int64_t		 ret_next;	/* wall clock */
	int64_t		 ret_done;	/* quarantined before this: done */
	/* Finished runs' staging: where each class's pass goes on from
	 * (runs before (end, id) in (ended_us, id) order are done), the
	 * retentions it was computed with (a reload may change them) and
	 * when the next pass is due (wall clock). */
	struct rwater {
		int64_t	 end, id;
	}		 rw[RET_NCLASS];
	int		 rw_keep[RET_NCLASS];
	int64_t		 stg_next;
};

/* "6h", "1h30m", "2d", "45s": for log lines. */
static char *
fresh_dur(int64_t us, char *buf, size_t len)
{
	int64_t	s = us / 1000000;

	if (s < 0)
		s = 0;
	if (s % 86400 == 0 && s > 0)
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
	else if (s % 3600 == 0 && s > 0)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else if (s >= 3600)
		snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, len, "%llds", (long long)s);
	return buf;
}

static void
fprod_clear(struct fprod *p)
{
	free(p->name);
	free(p->owner);
	free(p->job);
}

/* The job's end bound (start of its `end` key), 0 if open. */
static int64_t
job_hi(const struct job_def *job)
{
	int64_t	 s, e;
	char	*canon;

	if (job->end == NULL || job_parse_key(job, job->end, &s, &e, &canon,
	    NULL) != 0)
		return 0;
	free(canon);
	return s;
}

/* The current job of a product with an SLO, or NULL (none: not judged). */
static const struct job_def *
fprod_job(struct daemon *d, const struct fprod *p)
{
	const struct job_def	*job;

	if ((job = jobset_find(&d->jobs, p->job)) == NULL ||
	    !job_has_schedule(job))
		return NULL;
	return job;
}

/* Where judging of `p` starts: after the newest judged partition, else
 * at the first interval its job ran; not before the lookback. */
static void
fprod_init(struct daemon *d, struct fprod *p, const struct job_def *job,
    int64_t now)
{
	sqlite3		*db = state_sqlite(d->st);
	sqlite3_stmt	*stmt;
	int64_t		 s, e, floor, c = -1;
	char		*canon;

	if (sqlite3_prepare_v2(db, "SELECT partition_key FROM "
	    "product_partitions WHERE product_id = ? AND due_us IS NOT NULL "
	    "ORDER BY due_us DESC LIMIT 1", -1, &stmt, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(stmt, 1, p->id);
	if (sqlite3_step(stmt) == SQLITE_ROW && job_parse_key(job,
	    (const char *)sqlite3_column_text(stmt, 0), &s, &e, &canon,
	    NULL) == 0) {
		free(canon);
		c = e;
	}
	sqlite3_finalize(stmt);
	if (c < 0) {
		if (sqlite3_prepare_v2(db, "SELECT min(r.interval_start_us) "
		    "FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = "
		    "? AND r.interval_end_us > r.interval_start_us", -1, &stmt,
		    NULL) != SQLITE_OK)
			return;
		sqlite3_bind_text(stmt, 1, p->job, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) == SQLITE_ROW &&
		    sqlite3_column_type(stmt, 0) != SQLITE_NULL)
			c = sqlite3_column_int64(stmt, 0);
		sqlite3_finalize(stmt);
	}
	if (c < 0)
		return;		/* the job has not run: look again later */
	floor = now - FRESH_LOOKBACK;
	if ((e = job_next_fire(job, c)) >= 0 && e < floor &&
	    (s = job_prev_fire(job, floor)) > c)
		c = s;
	p->cursor = c;
	p->ready = 1;
}

/* Read the products with an SLO, keeping the cursors of known ones. */
static int
fresh_scan(struct daemon *d, struct dfresh *f)
{
	sqlite3		*db = state_sqlite(d->st);
	sqlite3_stmt	*stmt;
	struct fprod	*v = NULL, *old;
	size_t		 n = 0, i;

	if (sqlite3_prepare_v2(db, "SELECT p.id, p.name, p.owner, j.name, "
	    "p.freshness_s FROM products p JOIN jobs j ON j.id = p.job_id "
	    "WHERE p.freshness_s > 0 ORDER BY p.id", -1, &stmt, NULL) !=
	    SQLITE_OK) {
		log_error("freshness: %s", sqlite3_errmsg(db));
		return -1;
	}
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		struct fprod	*p;

		v = xreallocarray(v, n + 1, sizeof *v);
		p = &v[n++];
		memset(p, 0, sizeof *p);
		p->id = sqlite3_column_int64(stmt, 0);
		p->name = xstrdup((const char *)sqlite3_column_text(stmt, 1));
		p->owner = xstrdup((const char *)sqlite3_column_text(stmt, 2));
		p->job = xstrdup((const char *)sqlite3_column_text(stmt, 3));
		p->fresh_us = sqlite3_column_int64(stmt, 4) * 1000000;
		p->due = INT64_MAX;
		for (i = 0; i < f->n; i++) {
			old = &f->v[i];
			if (old->id == p->id && old->ready &&
			    old->fresh_us == p->fresh_us &&
			    strcmp(old->job, p->job) == 0) {
				p->ready = 1;
				p->cursor = old->cursor;
				break;
			}
		}
	}
	sqlite3_finalize(stmt);
	for (i = 0; i < f->n; i++)
		fprod_clear(&f->v[i]);
	free(f->v);
	f->v = v;
	f->n = n;
	return 0;
}

/* The late alert's own fields (alert.h adds the common ones). */
static json_t *
late_fields(const struct fprod *p, const struct job_def *job, const char *key,
    int64_t istart, int64_t iend, int64_t due, int64_t now,
    const char *state, int64_t published_us, int64_t late_count)
{
	char	 a[32], b[32], c[32], e[32], g[32];
	json_t	*o;

	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, "
	    "s:s, s:o, s:I}",
	    "event", "late",
	    "product", p->name,
	    "partition", key,
	    "state", state,
	    "owner", p->owner,
	    "job", job->name,
	    "interval_start_utc", fmt_utc(istart, a, sizeof a),
	    "interval_end_utc", fmt_utc(iend, b, sizeof b),
	    "due_utc", fmt_utc(due, c, sizeof c),
	    "freshness_seconds", (json_int_t)(p->fresh_us / 1000000),
	    "found_late_utc", fmt_utc(now, e, sizeof e),
	    "published_utc", published_us > 0 ?
	    json_string(fmt_utc(published_us, g, sizeof g)) : json_null(),
	    "late_count", (json_int_t)late_count);
	return o;
}

/*
 * Judge one partition that came due, inside the open transaction.
 * Returns 1 if it is late (and its alert is in the outbox when
 * freshness_alert is set), 0 if not, -1 with cause.
 */
static int
judge(struct daemon *d, struct dfresh *f, struct fprod *p,
    const struct job_def *job, int64_t istart, int64_t iend, int64_t now,
    char **cause)
{
	sqlite3		*db = state_sqlite(d->st);
	sqlite3_stmt	*stmt = NULL;
	char		*key, dd[32], slo[32], st_buf[16];
	const char	*state = "missing";
	int64_t		 due = iend + p->fresh_us, pub = 0, count = 0;
	int		 found = 0, late = 0, judged = 0;

	key = job_key(job, istart);
	if (sqlite3_prepare_v2(db, "SELECT state, published_us, late_us FROM "
	    "product_partitions WHERE product_id = ? AND partition_key = ?",
	    -1, &stmt, NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_int64(stmt, 1, p->id);
	sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		found = 1;
		snprintf(st_buf, sizeof st_buf, "%s",
		    (const char *)sqlite3_column_text(stmt, 0));
		state = st_buf;
		pub = sqlite3_column_int64(stmt, 1);
		judged = sqlite3_column_type(stmt, 2) != SQLITE_NULL;
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (!judged) {
		int published = pub > 0 && (strcmp(state, "published") == 0 ||
		    strcmp(state, "stale") == 0);

		/* Up at its due time: the state now is the state then.
		 * Down: the recorded publication time says. */
		if (due > f->started)
			late = !published;
		else
			late = !published || pub > due;
	}
	if (sqlite3_prepare_v2(db, found ?
	    "UPDATE product_partitions SET due_us = ?3, late_us = CASE WHEN "
	    "?4 THEN ?5 ELSE late_us END WHERE product_id = ?1 AND "
	    "partition_key = ?2" :
	    "INSERT INTO product_partitions (product_id, partition_key, "
	    "state, updated_us, due_us, late_us) VALUES (?1, ?2, 'missing', "
	    "?6, ?3, CASE WHEN ?4 THEN ?5 END)", -1, &stmt, NULL) !=
	    SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_int64(stmt, 1, p->id);
	sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, due);
	sqlite3_bind_int(stmt, 4, late);
	sqlite3_bind_int64(stmt, 5, now);
	sqlite3_bind_int64(stmt, 6, now_us());
	if (sqlite3_step(stmt) != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (!late) {
		free(key);
		return 0;
	}
	if (sqlite3_prepare_v2(db, "UPDATE products SET late_count = "
	    "late_count + 1 WHERE id = ? RETURNING late_count", -1, &stmt,
	    NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_int64(stmt, 1, p->id);
	if (sqlite3_step(stmt) != SQLITE_ROW)
		goto sqlfail;
	count = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (pub > 0 && strcmp(state, "missing") != 0 &&
	    strcmp(state, "building") != 0 &&
	    strcmp(state, "quarantined") != 0)
		log_warn("product=%s partition=%s: late: published after its "
		    "due time %s (%s after its interval ended)", p->name, key,
		    fmt_utc(due, dd, sizeof dd),
		    fresh_dur(p->fresh_us, slo, sizeof slo));
	else
		log_warn("product=%s partition=%s: late: not published %s "
		    "after its interval ended (%s)", p->name, key,
		    fresh_dur(p->fresh_us, dd, sizeof dd), state);
	/* In this transaction: alerted if and only if recorded late. */
	if (alert_late(d->st, d->cfg, job, key, late_fields(p, job, key,
	    istart, iend, due, now, state, pub, count), cause) != 0) {
		free(key);
		return -1;
	}
	free(key);
	return 1;
sqlfail:
	set_cause(cause, "product %s partition %s: %s", p->name, key,
	    sqlite3_errmsg(db));
	sqlite3_finalize(stmt);
	free(key);
	return -1;
}

/* Judge every partition of every product that came due by `now`. */
static int
fresh_judge(struct daemon *d, struct dfresh *f, int64_t now)
{
	char		 *cause = NULL;
	size_t		  i, k;
	int		  began = 0, r;
	int64_t		  e, hi;

	f->next = INT64_MAX;
	for (i = 0; i < f->n; i++) {
		struct fprod		*p = &f->v[i];
		const struct job_def	*job;

		if ((job = fprod_job(d, p)) == NULL)
			continue;
		if (!p->ready)
			fprod_init(d, p, job, now);
		if (!p->ready)
			continue;
		hi = job_hi(job);
		p->due = INT64_MAX;
		for (k = 0; ; k++) {
			if ((e = job_next_fire(job, p->cursor)) < 0 ||
			    (hi != 0 && p->cursor >= hi))
				break;
			if (e + p->fresh_us > now) {
				p->due = e + p->fresh_us;
				break;
			}
			if (k == FRESH_MAX_PASS) {
				p->due = now;	/* the rest at the next pass */
				break;
			}
			if (!began) {
				if (state_begin(d->st, &cause) != 0)
					goto fail;
				began = 1;
			}
			if ((r = judge(d, f, p, job, p->cursor, e, now,
			    &cause)) < 0)
				goto fail;
			p->cursor = e;
		}
		if (p->due < f->next)
			f->next = p->due;
	}
	if (began && state_commit(d->st, &cause) != 0)
		goto fail;
	alert_kick();
	return 0;
fail:
	if (began)
		state_rollback(d->st);
	log_error("freshness: %s", cause);
	free(cause);
	/* Judge again from the state: the cursors ran ahead of it. */
	for (i = 0; i < f->n; i++)
		f->v[i].ready = 0;
	f->next = now + 60 * 1000000LL;
	return -1;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0 && errno != ENOENT) {
		log_warn("retention: %s: %s", path, strerror(errno));
		return 0;	/* remove what can be */
	}
	return 0;
}

/* Is the run (job, key) queued or running in this daemon?  A trigger of a
 * finished partition queues it before its row says so. */
static int
run_live(struct daemon *d, const char *job, const char *key)
{
	return engine_is_active(d->engine, job, key) ||
	    daemon_queued(d, job, key);
}

/* Remove the directory `path` and everything in it, if it is one (not a
 * symbolic link); 1 if it was there. */
static int
rm_tree(const char *path)
{
	struct stat	sb;

	if (lstat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return 0;
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	return 1;
}

/* Is KEY.attempts itself the key of a run of the job?  Then that
 * directory is its staging, not KEY's attempts. */
static int
attempts_is_run(struct daemon *d, const char *job, const char *key)
{
	sqlite3_stmt	*stmt;
	int		 r = 1;		/* in doubt, it is */

	if (sqlite3_prepare_v2(state_sqlite(d->st), "SELECT count(*) FROM "
	    "runs WHERE job_id = (SELECT id FROM jobs WHERE name = ?1) AND "
	    "partition_key = ?2 || '.attempts'", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return r;
	sqlite3_bind_text(stmt, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		r = sqlite3_column_int(stmt, 0) != 0;
	sqlite3_finalize(stmt);
	return r;
}

/*
 * Remove a run's staging, staging_dir/JOB/KEY, and its attempts'
 * directories, which the engine keeps beside it in KEY.attempts.  Keys
 * of unscheduled jobs are free text: one never names a path outside the
 * job's staging, and no symbolic link is followed, neither the job's
 * directory, nor the run's, nor one inside it (nftw FTW_PHYS), nor onto
 * another file system (FTW_MOUNT).  1 if there was something to remove
 * (*path is then the staging's path, to free), 0 if not.
 */
static int
staging_remove(struct daemon *d, const char *job, const char *key,
    char **path)
{
	struct stat	 sb;
	char		*jdir, *adir;
	int		 ok;

	*path = NULL;
	if (*key == '\0' || strchr(key, '/') != NULL ||
	    strcmp(key, ".") == 0 || strcmp(key, "..") == 0 ||
	    *job == '\0' || strchr(job, '/') != NULL ||
	    strcmp(job, ".") == 0 || strcmp(job, "..") == 0)
		return 0;
	jdir = xasprintf("%s/%s", d->cfg->staging_dir, job);
	ok = lstat(jdir, &sb) == 0 && S_ISDIR(sb.st_mode);
	free(jdir);
	if (!ok)
		return 0;
	*path = xasprintf("%s/%s/%s", d->cfg->staging_dir, job, key);
	adir = xasprintf("%s.attempts", *path);
	ok = rm_tree(*path);
	if (lstat(adir, &sb) == 0 && !attempts_is_run(d, job, key))
		ok |= rm_tree(adir);
	free(adir);
	if (!ok) {
		free(*path);
		*path = NULL;
	}
	return ok;
}

/* Remove the staging of quarantined partitions past the retention. */
static int
fresh_retention(struct daemon *d, struct dfresh *f)
{
	sqlite3		*db = state_sqlite(d->st);
	sqlite3_stmt	*stmt;
	int64_t		 keep = (int64_t)d->cfg->quarantine_retention_s *
			    1000000, wall = now_us(), cutoff = wall - keep, t;
	char		*path;

	f->ret_next = wall + keep;
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT j.name, pp.partition_key "
	    "FROM product_partitions pp JOIN products p ON p.id = "
	    "pp.product_id JOIN jobs j ON j.id = p.job_id WHERE pp.state = "
	    "'quarantined' AND pp.updated_us >= ?1 AND pp.updated_us <= ?2 "
	    "AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.job_id = j.id AND "
	    "r.partition_key = pp.partition_key AND r.state IN ('queued', "
	    "'running'))", -1, &stmt, NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_int64(stmt, 1, f->ret_done);
	sqlite3_bind_int64(stmt, 2, cutoff);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *job = (const char *)sqlite3_column_text(stmt, 0);
		const char *key = (const char *)sqlite3_column_text(stmt, 1);

		if (run_live(d, job, key))
			continue;	/* quarantined again or not, later */
		if (staging_remove(d, job, key, &path)) {
			log_info("job=%s partition=%s: quarantined staging %s "
			    "removed after %ds (quarantine_retention)", job,
			    key, path, d->cfg->quarantine_retention_s);
			free(path);
		}
	}
	sqlite3_finalize(stmt);
	f->ret_done = cutoff + 1;
	/* The next one to expire (new ones expire at wall + keep, later). */
	if (sqlite3_prepare_v2(db, "SELECT min(updated_us) FROM "
	    "product_partitions WHERE state = 'quarantined' AND updated_us "
	    ">= ?", -1, &stmt, NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_int64(stmt, 1, f->ret_done);
	if (sqlite3_step(stmt) == SQLITE_ROW &&
	    sqlite3_column_type(stmt, 0) != SQLITE_NULL &&
	    (t = sqlite3_column_int64(stmt, 0) + keep) < f->ret_next)
		f->ret_next = t;
	sqlite3_finalize(stmt);
	return 0;
sqlfail:
	log_error("quarantine retention: %s", sqlite3_errmsg(db));
	f->ret_next = wall + 60 * 1000000LL;
	return -1;
}

/* Finished runs whose staging goes after a retention, by their end. */
static const struct rclass {
	const char	*state;		/* runs.state */
	const char	*what;		/* for the log */
	int		 quarantine;	/* quarantine_retention, else
					 * staging_retention */
} rclasses[RET_NCLASS] = {
	{ "success", "succeeded", 0 },
	{ "failed", "failed", 1 },
	{ "cancelled", "cancelled", 1 },
};

static int
rclass_keep_s(const struct daemon *d, const struct rclass *c)
{
	return c->quarantine ? d->cfg->quarantine_retention_s :
	    d->cfg->staging_retention_s;
}

/*
 * Remove the staging of the runs of class `ci` that ended more than its
 * retention ago, at most RET_BATCH of them, from where the last pass
 * stopped ((ended_us, id) order: runs_state_ended serves it).  A run
 * queued or running again is passed over: it ends again later, with a
 * newer ended_us, and is met again then.  *next (wall clock) is lowered
 * to when the next one expires, or to now if the batch was full.
 */
static int
run_retention(struct daemon *d, struct dfresh *f, size_t ci, int64_t wall,
    int64_t *next)
{
	const struct rclass	*c = &rclasses[ci];
	struct rwater		*w = &f->rw[ci];
	sqlite3			*db = state_sqlite(d->st);
	sqlite3_stmt		*stmt;
	int64_t			 keep, cutoff, end, id;
	char			*path;
	int			 n = 0, rc;

	keep = (int64_t)rclass_keep_s(d, c) * 1000000;
	cutoff = wall - keep;
	/* The job's name by a subquery, not a join: the planner may then
	 * only walk runs in the index's order. */
	if (sqlite3_prepare_v2(db, "SELECT r.id, r.ended_us, (SELECT j.name "
	    "FROM jobs j WHERE j.id = r.job_id), r.partition_key FROM runs r "
	    "WHERE r.state = ?1 AND r.ended_us >= ?2 AND (r.ended_us > ?2 OR "
	    "r.id > ?3) ORDER BY r.ended_us, r.id LIMIT ?4", -1, &stmt,
	    NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_text(stmt, 1, c->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, w->end);
	sqlite3_bind_int64(stmt, 3, w->id);
	sqlite3_bind_int(stmt, 4, RET_BATCH);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *job = (const char *)sqlite3_column_text(stmt, 2);
		const char *key = (const char *)sqlite3_column_text(stmt, 3);

		id = sqlite3_column_int64(stmt, 0);
		end = sqlite3_column_int64(stmt, 1);
		if (end > cutoff) {
			/* Ordered by end: the rest expire later. */
			if (end + keep < *next)
				*next = end + keep;
			n = 0;
			rc = SQLITE_DONE;
			break;
		}
		n++;
		w->end = end;
		w->id = id;
		if (job == NULL || key == NULL || run_live(d, job, key))
			continue;
		if (staging_remove(d, job, key, &path)) {
			log_info("job=%s partition=%s: staging %s of the %s "
			    "run removed %ds after it ended (%s)", job, key,
			    path, c->what, rclass_keep_s(d, c), c->quarantine ?
			    "quarantine_retention" : "staging_retention");
			free(path);
		}
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(stmt);
	if (n == RET_BATCH)
		*next = wall;	/* more may be due: at the next pass */
	return 0;
sqlfail:
	log_error("retention of %s runs' staging: %s", c->what,
	    sqlite3_errmsg(db));
	sqlite3_finalize(stmt);
	if (wall + 60 * 1000000LL < *next)
		*next = wall + 60 * 1000000LL;
	return -1;
}

/* Quarantined partitions, then finished runs (a quarantined partition's
 * run failed: it is met again there, with nothing left to remove). */
static int
retention(struct daemon *d, struct dfresh *f, int64_t wall)
{
	size_t	i;
	int	rc = 0, keep_s;

	for (i = 0; i < RET_NCLASS; i++) {
		if (f->rw_keep[i] != rclass_keep_s(d, &rclasses[i])) {
			/* A reload changed it: what is due when has changed;
			 * what was removed stays removed. */
			f->rw_keep[i] = rclass_keep_s(d, &rclasses[i]);
			f->stg_next = INT64_MIN;
			if (rclasses[i].quarantine)
				f->ret_next = INT64_MIN;
		}
	}
	if (d->cfg->quarantine_retention_s > 0 && wall >= f->ret_next &&
	    fresh_retention(d, f) != 0)
		rc = -1;
	if (wall < f->stg_next)
		return rc;
	f->stg_next = INT64_MAX;
	for (i = 0; i < RET_NCLASS; i++) {
		if ((keep_s = rclass_keep_s(d, &rclasses[i])) <= 0)
			continue;
		/* Runs ending from now on expire after now + keep: look
		 * again then at the latest. */
		if (wall + (int64_t)keep_s * 1000000 < f->stg_next)
			f->stg_next = wall + (int64_t)keep_s * 1000000;
		if (run_retention(d, f, i, wall, &f->stg_next) != 0)
			rc = -1;
	}
	return rc;
}

int
daemon_freshness(struct daemon *d, int64_t now, int64_t *next_due)
{
	struct dfresh	*f;
	int64_t		 mono = mono_us(), changes, wall, rn, dv = -1;
	sqlite3_stmt	*stmt;
	int		 rc = 0, dirty;

	if ((f = d->fresh) == NULL) {
		f = d->fresh = xcalloc(1, sizeof *f);
		f->started = now;
		f->next = INT64_MIN;
		f->stg_next = INT64_MIN;
	}
	/* The alert deliverer, started again if it died. */
	alert_watch(d->cfg);
	/* New products appear when their job first runs; a reload may
	 * change jobs.  Look at the (small) product table only then. */
	changes = sqlite3_total_changes64(state_sqlite(d->st));
	if ((stmt = state_prepare(d->st, "PRAGMA data_version")) != NULL) {
		if (sqlite3_step(stmt) == SQLITE_ROW)
			dv = sqlite3_column_int64(stmt, 0);
		state_stmt_done(stmt);
	}
	dirty = changes != f->changes || dv != f->dv;
	if (!f->scanned || f->jobs_v != d->jobs.v ||
	    mono - f->scan_mono >= FRESH_SCAN_MAX ||
	    (dirty && mono - f->scan_mono >= FRESH_SCAN_MIN)) {
		if (fresh_scan(d, f) != 0)
			rc = -1;
		f->scanned = 1;
		f->scan_mono = mono;
		f->jobs_v = d->jobs.v;
		f->dv = dv;
		f->next = INT64_MIN;	/* judge the list as it is now */
		dirty = 0;
	}
	if (now >= f->next && fresh_judge(d, f, now) != 0)
		rc = -1;
	wall = now_us();
	if (retention(d, f, wall) != 0)
		rc = -1;
	*next_due = f->next;
	/* Retention goes by the wall clock; the loop's by the daemon's:
	 * translate. */
	rn = INT64_MAX;
	if (d->cfg->quarantine_retention_s > 0)
		rn = f->ret_next;
	if (f->stg_next < rn)
		rn = f->stg_next;
	if (rn != INT64_MAX) {
		rn = rn > wall ? rn - wall : 0;
		if (rn < INT64_MAX - now && now + rn < *next_due)
			*next_due = now + rn;
	}
	/* A change not looked at yet (too soon after the last look): look
	 * once it may be.  Judging and retention above are this pass's own
	 * writes, not news. */
	if (dirty) {
		rn = f->scan_mono + FRESH_SCAN_MIN - mono;
		if (now + rn < *next_due)
			*next_due = now + rn;
	} else
		f->changes = sqlite3_total_changes64(state_sqlite(d->st));
	return rc;
}

void
daemon_freshness_free(struct daemon *d)
{
	struct dfresh	*f = d->fresh;
	size_t		 i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++)
		fprod_clear(&f->v[i]);
	free(f->v);
	free(f);
	d->fresh = NULL;
}
