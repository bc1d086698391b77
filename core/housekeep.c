/*
 * housekeep.c -- the retention sweep of housekeep.h: what is old goes, in
 * short transactions, and what the catalog, the scheduler, a backfill or
 * a live run still needs stays.
 *
 * The sweep runs in phases, each a walk with its own cursor so that a dry
 * run (which deletes nothing) meets exactly the rows a real one would:
 * the backfills, the requests and the alerts to delete (by id), then the
 * finished runs of each state to delete (by (ended_us, id), the index
 * runs_state_ended), then the same for their logs.  The log walk passes
 * over a run the history walk deletes (in a real sweep it is gone; in a
 * dry one it would be counted twice).  Which runs a catalog partition or
 * a kept backfill names is read once, when the sweep starts: a finished
 * run gains such a name only by running again, which makes it live and
 * then newer than the cutoff, and every DELETE checks both again.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "housekeep.h"
#include "util.h"

static const char *const run_states[] = { "success", "failed", "cancelled" };
#define NSTATES	3

enum phase {
	P_LOAD, P_BACKFILLS, P_REQUESTS, P_ALERTS,
	P_HIST,			/* + state index */
	P_LOGS = P_HIST + NSTATES,	/* + state index */
	P_DONE = P_LOGS + NSTATES
};

/*
 * The partitions whose runs the catalog keeps: published, and stale (it
 * was published; an input changed since).  A partition only building,
 * missing or quarantined is not a publication: when its run goes, its
 * run_id and attempt_id become NULL (ON DELETE SET NULL) and the row
 * stays.  A quarantined rerun beside a published partition
 * (rerun_run_id, which has no foreign key) keeps its run.
 */
#define CATALOG_STATES	"'published', 'stale'"

enum keep {
	K_NONE, K_LIVE, K_CATALOG, K_WATERMARK, K_BACKFILL, K_REQUEST
};

struct idset {
	int64_t	*v;
	size_t	 n, cap;
};

struct house {
	sqlite3			*db;
	const struct house_ops	*ops;
	char			*log_dir;	/* realpath, or NULL */
	int64_t			 hist_cut, log_cut;
	int			 dry;
	int			 phase;
	int64_t			 cend, cid;	/* the walk's cursor */
	struct idset		 cat, bf;	/* runs kept by name */
	/* Requests naming a partition: pending, or triggers carried out
	 * (done_us), read once and then by id as they come. */
	struct hreq {
		char	*jk;		/* "JOB\037KEY" */
		int64_t	 done;		/* done_us; INT64_MAX pending */
	}			*rq;
	size_t			 nrq, caprq;
	int64_t			 rq_max;	/* requests read up to this id */
	char			**files;	/* logs to remove after commit */
	size_t			 nfiles, capfiles;
	struct house_counts	 c;
};

int
house_duration(const char *s, int64_t *secs, char **cause)
{
	const char	*p = s;
	int64_t		 n = 0, mul;

	if (s == NULL || *s == '\0') {
		set_cause(cause, "an empty duration (give one such as \"90d\")");
		return -1;
	}
	if (*p < '0' || *p > '9') {
		set_cause(cause, "'%s' is not a duration: a whole number of "
		    "seconds, or one with a unit s, m, h, d or w, as \"90d\"",
		    s);
		return -1;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > HOUSE_MAX_DURATION) {
			set_cause(cause, "'%s' is too long (at most %lld "
			    "seconds, a hundred years)", s,
			    (long long)HOUSE_MAX_DURATION);
			return -1;
		}
		n = n * 10 + (*p - '0');
	}
	switch (*p) {
	case '\0': case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	case 'w': mul = 7 * 86400; break;
	default:
		set_cause(cause, "'%s': unknown unit '%s' (s, m, h, d or w)",
		    s, p);
		return -1;
	}
	if (*p != '\0' && p[1] != '\0') {
		set_cause(cause, "'%s': unknown unit '%s' (s, m, h, d or w)",
		    s, p);
		return -1;
	}
	if (n > HOUSE_MAX_DURATION / mul) {
		set_cause(cause, "'%s' is too long (at most %lld seconds, a "
		    "hundred years)", s, (long long)HOUSE_MAX_DURATION);
		return -1;
	}
	*secs = n * mul;
	return 0;
}

static void
idset_add(struct idset *s, int64_t id)
{
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 64 : s->cap * 2;
		s->v = xreallocarray(s->v, s->cap, sizeof *s->v);
	}
	s->v[s->n++] = id;
}

static int
id_cmp(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int
idset_has(const struct idset *s, int64_t id)
{
	return s->n > 0 && bsearch(&id, s->v, s->n, sizeof *s->v,
	    id_cmp) != NULL;
}

/* A text column, "" for NULL. */
static const char *
col_text(sqlite3_stmt *stmt, int i)
{
	const char	*v = (const char *)sqlite3_column_text(stmt, i);

	return v != NULL ? v : "";
}

static int
db_fail(struct house *h, const char *what, char **cause)
{
	set_cause(cause, "%s: %s", what, sqlite3_errmsg(h->db));
	return -1;
}

/* Every id the query's first column gives, into s (sorted). */
static int
idset_load(struct house *h, struct idset *s, const char *sql, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (sqlite3_prepare_v2(h->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(h, "retention: cannot read what is kept", cause);
	if (h->hist_cut != 0 && sqlite3_bind_parameter_count(stmt) > 0)
		sqlite3_bind_int64(stmt, 1, h->hist_cut);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		if (sqlite3_column_type(stmt, 0) != SQLITE_NULL)
			idset_add(s, sqlite3_column_int64(stmt, 0));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return db_fail(h, "retention: cannot read what is kept", cause);
	if (s->n > 0)
		qsort(s->v, s->n, sizeof *s->v, id_cmp);
	return 0;
}

struct house *
house_new(sqlite3 *db, const struct house_ops *ops, const char *log_dir,
    int64_t hist_cutoff_us, int64_t log_cutoff_us, int dry_run)
{
	struct house	*h = xcalloc(1, sizeof *h);
	char		 rp[PATH_MAX];

	h->db = db;
	h->ops = ops;
	/* Files are compared by their real directory: a log_dir reached
	 * through a symbolic link is still the log_dir. */
	if (log_dir != NULL && realpath(log_dir, rp) != NULL)
		h->log_dir = xstrdup(rp);
	h->hist_cut = hist_cutoff_us;
	h->log_cut = log_cutoff_us;
	h->dry = dry_run;
	h->phase = P_LOAD;
	return h;
}

void
house_free(struct house *h)
{
	size_t	i;

	if (h == NULL)
		return;
	for (i = 0; i < h->nfiles; i++)
		free(h->files[i]);
	free(h->files);
	free(h->cat.v);
	free(h->bf.v);
	for (i = 0; i < h->nrq; i++)
		free(h->rq[i].jk);
	free(h->rq);
	free(h->log_dir);
	free(h);
}

const struct house_counts *
house_counts(const struct house *h)
{
	return &h->c;
}

/* Is `path` a regular file (not a link) in a directory under log_dir?
 * Its size in *size. */
static int
log_removable(const struct house *h, const char *path, int64_t *size)
{
	struct stat	 sb;
	char		*dir, *slash, rp[PATH_MAX];
	size_t		 n;
	int		 ok;

	if (h->log_dir == NULL || path == NULL || *path != '/' ||
	    lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return 0;
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	ok = realpath(*dir == '\0' ? "/" : dir, rp) != NULL;
	free(dir);
	n = strlen(h->log_dir);
	if (!ok || strncmp(rp, h->log_dir, n) != 0 ||
	    (rp[n] != '/' && rp[n] != '\0'))
		return 0;
	*size = (int64_t)sb.st_size;
	return 1;
}

/* Remember a log file to remove once the rows that name it are gone;
 * a dry run counts it now. */
static void
log_note(struct house *h, const char *path)
{
	int64_t	size;

	if (!log_removable(h, path, &size))
		return;
	if (h->dry) {
		h->c.log_files++;
		h->c.log_bytes += size;
		return;
	}
	if (h->nfiles == h->capfiles) {
		h->capfiles = h->capfiles == 0 ? 64 : h->capfiles * 2;
		h->files = xreallocarray(h->files, h->capfiles,
		    sizeof *h->files);
	}
	h->files[h->nfiles++] = xstrdup(path);
}

/* Remove the noted files, then each directory they leave empty, up to
 * (not including) log_dir. */
static void
logs_remove(struct house *h, int remove)
{
	size_t	 i, n = h->log_dir == NULL ? 0 : strlen(h->log_dir);
	int64_t	 size;
	char	*dir, *slash, rp[PATH_MAX];

	for (i = 0; i < h->nfiles; i++) {
		if (remove && log_removable(h, h->files[i], &size) &&
		    unlink(h->files[i]) == 0) {
			h->c.log_files++;
			h->c.log_bytes += size;
			dir = xstrdup(h->files[i]);
			while ((slash = strrchr(dir, '/')) != NULL &&
			    slash != dir) {
				*slash = '\0';
				if (realpath(dir, rp) == NULL ||
				    strncmp(rp, h->log_dir, n) != 0 ||
				    rp[n] != '/' || rmdir(dir) != 0)
					break;
			}
			free(dir);
		}
		free(h->files[i]);
	}
	h->nfiles = 0;
}

/* A count(*) with ?1 bound to id. */
static int
count_of(struct house *h, const char *sql, int64_t id, int64_t *out,
    char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (sqlite3_prepare_v2(h->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(h, "retention", cause);
	sqlite3_bind_int64(stmt, 1, id);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		*out = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return db_fail(h, "retention", cause);
	return 0;
}

/* The log paths of a run's attempts, noted; with `clear`, the attempts
 * then name none. */
static int
run_logs(struct house *h, int64_t run_id, int clear, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (sqlite3_prepare_v2(h->db, "SELECT a.log_path FROM attempts a "
	    "JOIN task_instances t ON t.id = a.task_instance_id WHERE "
	    "t.run_id = ?1 AND a.log_path IS NOT NULL", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return db_fail(h, "retention: logs", cause);
	sqlite3_bind_int64(stmt, 1, run_id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		log_note(h, (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return db_fail(h, "retention: logs", cause);
	if (!clear || h->dry)
		return 0;
	if (sqlite3_prepare_v2(h->db, "UPDATE attempts SET log_path = NULL "
	    "WHERE task_instance_id IN (SELECT id FROM task_instances WHERE "
	    "run_id = ?1) AND log_path IS NOT NULL", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return db_fail(h, "retention: logs", cause);
	sqlite3_bind_int64(stmt, 1, run_id);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return db_fail(h, "retention: logs", cause);
	return 0;
}

struct rrow {
	int64_t	 id, end, job_id, istart, iend;
	int	 scheduled, istart_null;
	char	*job, *key;
};

/* An EXISTS query on a run's row: 1, 0, or -1. */
static int
exists_of(struct house *h, const char *sql, const struct rrow *r,
    char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc, v = -1;

	if (sqlite3_prepare_v2(h->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(h, "retention", cause);
	sqlite3_bind_int64(stmt, 1, r->job_id);
	sqlite3_bind_text(stmt, 2, r->job, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, r->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, r->istart);
	sqlite3_bind_int64(stmt, 5, r->iend);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		v = sqlite3_column_int(stmt, 0) != 0;
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return db_fail(h, "retention", cause);
	return v;
}

static int
hreq_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hreq *)a)->jk,
	    ((const struct hreq *)b)->jk);
}

/*
 * The requests made since the last look (by id), inside the batch's
 * transaction.  Why: meshd carries out a trigger of a finished run by
 * setting its parameters on the row and queueing it in memory; the row
 * still says it ended, long ago.  Deleting it then would make meshd run
 * the partition again as a new run, without the parameters asked for.
 * So a run that a pending request names, or a trigger carried out after
 * the run ended, is kept (until that request itself is old).
 */
static int
hreq_load(struct house *h, char **cause)
{
	sqlite3_stmt	*stmt;
	size_t		 n0 = h->nrq;
	int		 rc;

	if (sqlite3_prepare_v2(h->db, "SELECT id, job, partition_key, "
	    "state, done_us FROM requests WHERE id > ?1 AND partition_key IS "
	    "NOT NULL AND (state = 'pending' OR kind = 'trigger') ORDER BY id",
	    -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(h, "retention: requests", cause);
	sqlite3_bind_int64(stmt, 1, h->rq_max);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct hreq *q;

		h->rq_max = sqlite3_column_int64(stmt, 0);
		if (h->nrq == h->caprq) {
			h->caprq = h->caprq == 0 ? 64 : h->caprq * 2;
			h->rq = xreallocarray(h->rq, h->caprq, sizeof *h->rq);
		}
		q = &h->rq[h->nrq++];
		q->jk = xasprintf("%s\037%s", col_text(stmt, 1),
		    col_text(stmt, 2));
		q->done = strcmp(col_text(stmt, 3), "pending") == 0 ||
		    sqlite3_column_type(stmt, 4) == SQLITE_NULL ? INT64_MAX :
		    sqlite3_column_int64(stmt, 4);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return db_fail(h, "retention: requests", cause);
	if (h->nrq > n0)
		qsort(h->rq, h->nrq, sizeof *h->rq, hreq_cmp);
	return 0;
}

/* Is there a pending request for the run, or a trigger done after it
 * ended? */
static int
hreq_names(const struct house *h, const struct rrow *r)
{
	struct hreq	 key, *q;
	size_t		 lo = 0, hi = h->nrq, mid;
	int		 hit = 0;

	key.jk = xasprintf("%s\037%s", r->job, r->key);
	/* The first entry not below key. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (hreq_cmp(&h->rq[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (q = h->rq + lo; q < h->rq + h->nrq && strcmp(q->jk, key.jk) == 0;
	    q++)
		/* A done request older than the cutoff is deleted in this
		 * sweep (before the runs): it keeps nothing, dry or not. */
		if (q->done >= r->end && (q->done == INT64_MAX ||
		    h->hist_cut == 0 || q->done >= h->hist_cut))
			hit = 1;
	free(key.jk);
	return hit;
}

/* Why an old finished run is kept (K_NONE: it is not), or -1. */
static int
keep_reason(struct house *h, const struct rrow *r, char **cause)
{
	int	v;

	if (r->job == NULL || (h->ops->live != NULL &&
	    h->ops->live(h->ops->arg, r->job, r->key)))
		return K_LIVE;
	if (idset_has(&h->cat, r->id))
		return K_CATALOG;
	if (r->scheduled) {
		/* Its job's newest scheduled interval: the scheduler's
		 * watermark.  Only later intervals are looked for (the
		 * index's order); in doubt, it is kept. */
		if (r->istart_null)
			return K_WATERMARK;
		v = exists_of(h, "SELECT NOT EXISTS (SELECT 1 FROM runs WHERE "
		    "job_id = ?1 AND interval_start_us >= ?4 AND scheduled = 1 "
		    "AND interval_end_us > ?5)", r, cause);
		if (v != 0)
			return v < 0 ? -1 : K_WATERMARK;
	}
	if (idset_has(&h->bf, r->id))
		return K_BACKFILL;
	if (hreq_names(h, r))
		return K_REQUEST;
	return K_NONE;
}

/* Delete one run and count what goes with it; 0 also when it changed
 * meanwhile (then nothing is counted). */
static int
run_delete(struct house *h, const struct rrow *r, const char *state,
    char **cause)
{
	struct house_counts	 c;
	sqlite3_stmt		*stmt;
	int			 rc;

	memset(&c, 0, sizeof c);
	if (count_of(h, "SELECT count(*) FROM task_instances WHERE run_id = "
	    "?1", r->id, &c.task_instances, cause) != 0 ||
	    count_of(h, "SELECT count(*) FROM attempts a JOIN task_instances "
	    "t ON t.id = a.task_instance_id WHERE t.run_id = ?1", r->id,
	    &c.attempts, cause) != 0 ||
	    count_of(h, "SELECT count(*) FROM check_results c JOIN attempts "
	    "a ON a.id = c.attempt_id JOIN task_instances t ON t.id = "
	    "a.task_instance_id WHERE t.run_id = ?1", r->id,
	    &c.check_results, cause) != 0 ||
	    count_of(h, "SELECT count(*) FROM metrics m JOIN attempts a ON "
	    "a.id = m.attempt_id JOIN task_instances t ON t.id = "
	    "a.task_instance_id WHERE t.run_id = ?1", r->id, &c.metrics,
	    cause) != 0 ||
	    count_of(h, "SELECT count(*) FROM run_inputs WHERE run_id = ?1",
	    r->id, &c.run_inputs, cause) != 0)
		return -1;
	if (!h->dry) {
		size_t nf = h->nfiles;

		if (run_logs(h, r->id, 0, cause) != 0)
			return -1;
		/* Its state and end again: a run that began again since it
		 * was read is no longer this one. */
		if (sqlite3_prepare_v2(h->db, "DELETE FROM runs WHERE id = ?1 "
		    "AND state = ?2 AND ended_us = ?3", -1, &stmt, NULL) !=
		    SQLITE_OK)
			return db_fail(h, "retention: delete run", cause);
		sqlite3_bind_int64(stmt, 1, r->id);
		sqlite3_bind_text(stmt, 2, state, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 3, r->end);
		rc = sqlite3_step(stmt);
		sqlite3_finalize(stmt);
		if (rc != SQLITE_DONE)
			return db_fail(h, "retention: delete run", cause);
		if (sqlite3_changes(h->db) == 0) {
			while (h->nfiles > nf)
				free(h->files[--h->nfiles]);
			return 0;
		}
	} else if (run_logs(h, r->id, 0, cause) != 0)
		return -1;
	h->c.runs++;
	h->c.task_instances += c.task_instances;
	h->c.attempts += c.attempts;
	h->c.check_results += c.check_results;
	h->c.metrics += c.metrics;
	h->c.run_inputs += c.run_inputs;
	return 0;
}

static void
count_kept(struct house *h, int why)
{
	switch (why) {
	case K_LIVE: h->c.kept_live++; break;
	case K_CATALOG: h->c.kept_catalog++; break;
	case K_WATERMARK: h->c.kept_watermark++; break;
	case K_BACKFILL: h->c.kept_backfill++; break;
	case K_REQUEST: h->c.kept_request++; break;
	}
}

/* One batch of the run walk of `state`: deleting (logs 0) or removing
 * logs (logs 1).  1 if the batch was full, 0 at its end. */
static int
walk_runs(struct house *h, const char *state, int logs, char **cause)
{
	sqlite3_stmt	*stmt;
	struct rrow	 rows[HOUSE_BATCH];
	size_t		 n = 0, i;
	int		 rc, why, ret = -1;
	int64_t		 cut = logs ? h->log_cut : h->hist_cut;

	if (hreq_load(h, cause) != 0)
		return -1;
	if (sqlite3_prepare_v2(h->db, "SELECT r.id, r.ended_us, (SELECT "
	    "j.name FROM jobs j WHERE j.id = r.job_id), r.partition_key, "
	    "r.job_id, r.scheduled, r.interval_start_us, r.interval_end_us "
	    "FROM runs r WHERE r.state = ?1 AND r.ended_us < ?2 AND "
	    "(r.ended_us > ?3 OR (r.ended_us = ?3 AND r.id > ?4)) ORDER BY "
	    "r.ended_us, r.id LIMIT ?5", -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(h, "retention: runs", cause);
	sqlite3_bind_text(stmt, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, cut);
	sqlite3_bind_int64(stmt, 3, h->cend);
	sqlite3_bind_int64(stmt, 4, h->cid);
	sqlite3_bind_int(stmt, 5, HOUSE_BATCH);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct rrow *r = &rows[n++];

		r->id = sqlite3_column_int64(stmt, 0);
		r->end = sqlite3_column_int64(stmt, 1);
		r->job = xstrdup_null((const char *)
		    sqlite3_column_text(stmt, 2));
		r->key = xstrdup_null((const char *)
		    sqlite3_column_text(stmt, 3));
		r->job_id = sqlite3_column_int64(stmt, 4);
		r->scheduled = sqlite3_column_int(stmt, 5);
		r->istart_null = sqlite3_column_type(stmt, 6) == SQLITE_NULL;
		r->istart = sqlite3_column_int64(stmt, 6);
		r->iend = sqlite3_column_int64(stmt, 7);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		db_fail(h, "retention: runs", cause);
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct rrow *r = &rows[i];

		if (r->key == NULL)
			continue;
		if ((why = keep_reason(h, r, cause)) < 0)
			goto out;
		if (!logs) {
			if (why != K_NONE)
				count_kept(h, why);
			else if (run_delete(h, r, state, cause) != 0)
				goto out;
			continue;
		}
		/* The log walk: what the history walk deletes (it did, or a
		 * dry one would) is not met twice; a live run keeps its
		 * logs. */
		if (why == K_LIVE || (why == K_NONE && h->hist_cut != 0 &&
		    r->end < h->hist_cut))
			continue;
		if (run_logs(h, r->id, 1, cause) != 0)
			goto out;
	}
	if (n > 0) {
		h->cend = rows[n - 1].end;
		h->cid = rows[n - 1].id;
	}
	ret = n == HOUSE_BATCH;
out:
	for (i = 0; i < n; i++) {
		free(rows[i].job);
		free(rows[i].key);
	}
	return ret;
}

/* One batch of deleting rows of a table by id (backfills, requests,
 * alerts): `sel` gives the ids after ?2, ?1 the cutoff; `del` deletes
 * one (?1) if it still qualifies.  1 if the batch was full. */
static int
walk_ids(struct house *h, const char *sel, const char *del,
    const char *count, int64_t *n_out, int64_t *nsub_out, char **cause)
{
	sqlite3_stmt	*stmt;
	int64_t		 ids[HOUSE_BATCH], sub = 0;
	size_t		 n = 0, i;
	int		 rc;

	if (sqlite3_prepare_v2(h->db, sel, -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(h, "retention", cause);
	sqlite3_bind_int64(stmt, 1, h->hist_cut);
	sqlite3_bind_int64(stmt, 2, h->cid);
	sqlite3_bind_int(stmt, 3, HOUSE_BATCH);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return db_fail(h, "retention", cause);
	for (i = 0; i < n; i++) {
		if (count != NULL && count_of(h, count, ids[i], &sub,
		    cause) != 0)
			return -1;
		if (!h->dry) {
			if (sqlite3_prepare_v2(h->db, del, -1, &stmt, NULL) !=
			    SQLITE_OK)
				return db_fail(h, "retention", cause);
			sqlite3_bind_int64(stmt, 1, ids[i]);
			sqlite3_bind_int64(stmt, 2, h->hist_cut);
			rc = sqlite3_step(stmt);
			sqlite3_finalize(stmt);
			if (rc != SQLITE_DONE)
				return db_fail(h, "retention", cause);
			if (sqlite3_changes(h->db) == 0)
				continue;
		}
		(*n_out)++;
		if (nsub_out != NULL)
			*nsub_out += sub;
	}
	if (n > 0)
		h->cid = ids[n - 1];
	return n == HOUSE_BATCH;
}

static int
phase_batch(struct house *h, char **cause)
{
	switch (h->phase) {
	case P_BACKFILLS:
		return walk_ids(h, "SELECT id FROM backfills WHERE state IN "
		    "('success', 'failed', 'cancelled') AND ended_us < ?1 AND "
		    "id > ?2 ORDER BY id LIMIT ?3",
		    "DELETE FROM backfills WHERE id = ?1 AND state IN "
		    "('success', 'failed', 'cancelled') AND ended_us < ?2",
		    "SELECT count(*) FROM backfill_partitions WHERE "
		    "backfill_id = ?1", &h->c.backfills,
		    &h->c.backfill_partitions, cause);
	case P_REQUESTS:
		return walk_ids(h, "SELECT id FROM requests WHERE state IN "
		    "('done', 'failed') AND done_us < ?1 AND id > ?2 ORDER BY "
		    "id LIMIT ?3",
		    "DELETE FROM requests WHERE id = ?1 AND state IN ('done', "
		    "'failed') AND done_us < ?2", NULL, &h->c.requests, NULL,
		    cause);
	case P_ALERTS:
		return walk_ids(h, "SELECT seq FROM alert_outbox WHERE state "
		    "IN ('delivered', 'failed') AND created_us < ?1 AND seq > "
		    "?2 ORDER BY seq LIMIT ?3",
		    "DELETE FROM alert_outbox WHERE seq = ?1 AND state IN "
		    "('delivered', 'failed') AND created_us < ?2", NULL,
		    &h->c.alerts, NULL, cause);
	default:
		if (h->phase >= P_HIST && h->phase < P_LOGS)
			return walk_runs(h, run_states[h->phase - P_HIST], 0,
			    cause);
		return walk_runs(h, run_states[h->phase - P_LOGS], 1, cause);
	}
}

/* The first phase at or after `p` with work (a cutoff of 0 has none). */
static int
phase_next(const struct house *h, int p)
{
	for (; p < P_DONE; p++) {
		if (p < P_LOGS && h->hist_cut != 0)
			return p;
		if (p >= P_LOGS && h->log_cut != 0)
			return p;
	}
	return P_DONE;
}

int
house_step(struct house *h, char **cause)
{
	int	more;

	if (h->phase == P_LOAD) {
		/* Runs a catalog partition names, and those of the
		 * backfills this sweep keeps (a dry run reads the same). */
		h->cat.n = h->bf.n = 0;
		if (idset_load(h, &h->cat, "SELECT run_id FROM "
		    "product_partitions WHERE run_id IS NOT NULL AND state IN "
		    "(" CATALOG_STATES ") UNION SELECT rerun_run_id FROM "
		    "product_partitions WHERE rerun_run_id IS NOT NULL UNION "
		    "SELECT t.run_id FROM product_partitions p JOIN attempts a "
		    "ON (a.id = p.attempt_id AND p.state IN (" CATALOG_STATES
		    ")) OR a.id = p.rerun_attempt_id JOIN task_instances t ON "
		    "t.id = a.task_instance_id", cause) != 0)
			return -1;
		if (idset_load(h, &h->bf, h->hist_cut != 0 ?
		    "SELECT p.run_id FROM backfill_partitions p JOIN backfills "
		    "b ON b.id = p.backfill_id WHERE p.run_id IS NOT NULL AND "
		    "NOT (b.state IN ('success', 'failed', 'cancelled') AND "
		    "b.ended_us < ?1)" : "SELECT run_id FROM "
		    "backfill_partitions WHERE run_id IS NOT NULL", cause) != 0)
			return -1;
		h->phase = phase_next(h, P_BACKFILLS);
		h->cend = INT64_MIN;
		h->cid = 0;
	}
	if (h->phase == P_DONE)
		return 0;
	if (h->ops->begin(h->ops->arg, cause) != 0)
		return -1;
	if ((more = phase_batch(h, cause)) < 0) {
		h->ops->rollback(h->ops->arg);
		logs_remove(h, 0);
		return -1;
	}
	if (h->ops->commit(h->ops->arg, cause) != 0) {
		h->ops->rollback(h->ops->arg);
		logs_remove(h, 0);
		return -1;
	}
	/* The rows first, then the files: a log is never gone while an
	 * attempt still names it on disk. */
	logs_remove(h, h->ops->durable == NULL ||
	    h->ops->durable(h->ops->arg));
	if (!more) {
		h->phase = phase_next(h, h->phase + 1);
		h->cend = INT64_MIN;
		h->cid = 0;
	}
	return h->phase != P_DONE;
}

json_t *
house_counts_json(const struct house_counts *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I}}",
	    "runs", (json_int_t)c->runs,
	    "task_instances", (json_int_t)c->task_instances,
	    "attempts", (json_int_t)c->attempts,
	    "check_results", (json_int_t)c->check_results,
	    "metrics", (json_int_t)c->metrics,
	    "run_inputs", (json_int_t)c->run_inputs,
	    "backfills", (json_int_t)c->backfills,
	    "backfill_partitions", (json_int_t)c->backfill_partitions,
	    "requests", (json_int_t)c->requests,
	    "alerts", (json_int_t)c->alerts,
	    "log_files", (json_int_t)c->log_files,
	    "log_bytes", (json_int_t)c->log_bytes,
	    "kept", "live", (json_int_t)c->kept_live,
	    "catalog", (json_int_t)c->kept_catalog,
	    "watermark", (json_int_t)c->kept_watermark,
	    "backfill", (json_int_t)c->kept_backfill,
	    "request", (json_int_t)c->kept_request);
}

int
house_counts_any(const struct house_counts *c)
{
	return c->runs + c->backfills + c->requests + c->alerts +
	    c->log_files > 0;
}

static int
plain_exec(sqlite3 *db, const char *sql, char **cause)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		set_cause(cause, "%s: %s", sql, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static int
plain_begin(void *arg, char **cause)
{
	struct house_plain *pl = arg;

	return plain_exec(pl->db, pl->dry ? "BEGIN" : "BEGIN IMMEDIATE",
	    cause);
}

static int
plain_commit(void *arg, char **cause)
{
	return plain_exec(((struct house_plain *)arg)->db, "COMMIT", cause);
}

static void
plain_rollback(void *arg)
{
	struct house_plain *pl = arg;

	if (!sqlite3_get_autocommit(pl->db))
		sqlite3_exec(pl->db, "ROLLBACK", NULL, NULL, NULL);
}

void
house_ops_plain(struct house_ops *ops, struct house_plain *pl, sqlite3 *db,
    int dry_run)
{
	pl->db = db;
	pl->dry = dry_run;
	memset(ops, 0, sizeof *ops);
	ops->begin = plain_begin;
	ops->commit = plain_commit;
	ops->rollback = plain_rollback;
	ops->arg = pl;
}
