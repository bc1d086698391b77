/*
 * meshd-inputs.c -- data-aware scheduling: runs wait for the products
 * they read, start when those are published, and go stale when an input
 * they read is republished.
 *
 * A queued run of a job with inputs is admitted only once every input
 * partition it needs is published; until then it stays queued and
 * runs.waiting_for says what it waits for ("ops.flights 2001-01-12
 * (quarantined)").  What it read, with each partition's version, goes to
 * run_inputs as it starts: lineage is exact, and a later republish
 * (a higher version) finds the runs that read the old one.
 *
 * Nothing polls.  A run that built products ends -> the engine's observer
 * notes it (daemon_inputs_ended) -> the next pass of the loop looks at
 * what it published (daemon_inputs_pass): waiting runs look again, jobs
 * with schedule = "on_inputs" get runs, and stale consumers are marked or
 * rerun.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "meshd.h"
#include "schedule.h"
#include "util.h"

/* A cap on how far staleness is followed downstream in one pass. */
#define STALE_MAX	10000

static int
sql_fail(struct daemon *d, sqlite3_stmt *stmt, char **cause)
{
	set_cause(cause, "inputs: %s", sqlite3_errmsg(state_sqlite(d->st)));
	state_stmt_done(stmt);
	return -1;
}

static int
product_id(struct daemon *d, const char *name, int64_t *id, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	*id = 0;
	if ((stmt = state_prepare(d->st, "SELECT id FROM products "
	    "WHERE name = ?")) == NULL)
		return sql_fail(d, NULL, cause);
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		*id = sqlite3_column_int64(stmt, 0);
	else if (rc != SQLITE_DONE)
		return sql_fail(d, stmt, cause);
	state_stmt_done(stmt);
	return 0;
}

/* A partition's state and version; *state "missing" when it has no row. */
static int
partition_of(struct daemon *d, int64_t pid, const char *key, char *state,
    size_t len, int64_t *version, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	snprintf(state, len, "missing");
	*version = 0;
	if ((stmt = state_prepare(d->st, "SELECT state, version "
	    "FROM product_partitions WHERE product_id = ? AND partition_key = "
	    "?")) == NULL)
		return sql_fail(d, NULL, cause);
	sqlite3_bind_int64(stmt, 1, pid);
	sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		snprintf(state, len, "%s", (const char *)
		    sqlite3_column_text(stmt, 0));
		*version = sqlite3_column_int64(stmt, 1);
	} else if (rc != SQLITE_DONE)
		return sql_fail(d, stmt, cause);
	state_stmt_done(stmt);
	return 0;
}

/* The newest published partition of a product: *key NULL if none. */
static int
latest_of(struct daemon *d, int64_t pid, char **key, int64_t *version,
    char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	*key = NULL;
	*version = 0;
	if ((stmt = state_prepare(d->st, "SELECT partition_key, "
	    "version FROM product_partitions WHERE product_id = ? AND state = "
	    "'published' ORDER BY partition_key DESC LIMIT 1")) == NULL)
		return sql_fail(d, NULL, cause);
	sqlite3_bind_int64(stmt, 1, pid);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*key = xstrdup((const char *)sqlite3_column_text(stmt, 0));
		*version = sqlite3_column_int64(stmt, 1);
	} else if (rc != SQLITE_DONE)
		return sql_fail(d, stmt, cause);
	state_stmt_done(stmt);
	return 0;
}

struct need {
	int64_t	 product_id;
	char	*key;
	int64_t	 version;
};

/* Append `part` (taken) to the comma-separated *text. */
static void
text_add(char **text, char *part)
{
	char	*t;

	if (*text == NULL)
		*text = part;
	else {
		t = xasprintf("%s, %s", *text, part);
		free(*text);
		free(part);
		*text = t;
	}
}

/* The keys of an input for run key `key`: one, or a window on the
 * producing job's schedule ending with it. */
static char **
input_keys(struct daemon *d, const struct job_input *in, const char *key,
    size_t *n)
{
	const struct job_def	*prod = NULL;
	char			**v, *canon = NULL, *cause = NULL;
	int64_t			  s, e;
	int			  i;

	if (in->producer >= 0 && (size_t)in->producer < d->jobs.n)
		prod = d->jobs.v[in->producer];
	if (in->map != INPUT_WINDOW || prod == NULL ||
	    !job_has_schedule(prod) ||
	    job_parse_key(prod, key, &s, &e, &canon, &cause) != 0) {
		free(cause);
		v = xcalloc(1, sizeof *v);
		v[0] = xstrdup(key);
		*n = 1;
		return v;
	}
	free(canon);
	v = xcalloc((size_t)in->window, sizeof *v);
	*n = 0;
	for (i = 0; i < in->window && s >= 0; i++) {
		v[(*n)++] = job_key(prod, s);
		s = job_prev_fire(prod, s);
	}
	return v;
}

int
daemon_inputs_ready(struct daemon *d, struct pending *p,
    const struct job_def *job, char **cause)
{
	struct need	*needs = NULL;
	sqlite3_stmt	*stmt;
	char		*waiting = NULL, state[32], **keys, *lkey;
	size_t		 nneeds = 0, nk, i, k;
	int64_t		 pid, version, job_id, run_id = 0, now;
	int		 rc = -1;

	p->inputs_checked = 1;
	for (i = 0; i < job->ninputs; i++) {
		const struct job_input *in = &job->inputs[i];

		if (product_id(d, in->product, &pid, cause) != 0)
			goto out;
		if (pid == 0 && in->map == INPUT_LATEST) {
			text_add(&waiting, xasprintf("%s (nothing published)",
			    in->product));
			continue;
		}
		if (in->map == INPUT_LATEST) {
			if (latest_of(d, pid, &lkey, &version, cause) != 0)
				goto out;
			if (lkey == NULL) {
				text_add(&waiting, xasprintf("%s (nothing "
				    "published)", in->product));
				continue;
			}
			needs = xreallocarray(needs, nneeds + 1, sizeof *needs);
			needs[nneeds].product_id = pid;
			needs[nneeds].key = lkey;
			needs[nneeds++].version = version;
			continue;
		}
		keys = input_keys(d, in, p->key, &nk);
		for (k = 0; k < nk; k++) {
			/* Never built at all: every partition is missing. */
			if (pid == 0) {
				snprintf(state, sizeof state, "missing");
				version = 0;
			} else if (partition_of(d, pid, keys[k], state,
			    sizeof state, &version, cause) != 0) {
				for (; k < nk; k++)
					free(keys[k]);
				free(keys);
				goto out;
			}
			if (strcmp(state, "published") != 0) {
				text_add(&waiting, xasprintf("%s %s (%s)",
				    in->product, keys[k], state));
				free(keys[k]);
				continue;
			}
			needs = xreallocarray(needs, nneeds + 1, sizeof *needs);
			needs[nneeds].product_id = pid;
			needs[nneeds].key = keys[k];
			needs[nneeds++].version = version;
		}
		free(keys);
	}

	if (state_job_find(d->st, job->name, &job_id, cause) != 0)
		goto out;
	if (job_id != 0) {
		if ((stmt = state_prepare(d->st, "SELECT id FROM "
		    "runs WHERE job_id = ? AND partition_key = ?")) == NULL) {
			sql_fail(d, NULL, cause);
			goto out;
		}
		sqlite3_bind_int64(stmt, 1, job_id);
		sqlite3_bind_text(stmt, 2, p->key, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) == SQLITE_ROW)
			run_id = sqlite3_column_int64(stmt, 0);
		state_stmt_done(stmt);
	}
	if (waiting != NULL) {
		rc = 0;
		if (p->waiting != NULL && strcmp(p->waiting, waiting) == 0)
			goto out;
		log_info("job=%s partition=%s: waiting for %s", job->name,
		    p->key, waiting);
		free(p->waiting);
		p->waiting = xstrdup(waiting);
		if (run_id == 0)
			goto out;
		if ((stmt = state_prepare(d->st, "UPDATE runs SET "
		    "waiting_for = ? WHERE id = ?")) == NULL) {
			rc = sql_fail(d, NULL, cause);
			goto out;
		}
		sqlite3_bind_text(stmt, 1, waiting, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 2, run_id);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			rc = sql_fail(d, stmt, cause);
			goto out;
		}
		state_stmt_done(stmt);
		goto out;
	}

	/* Ready: record exactly what it reads, in one transaction. */
	if (p->waiting != NULL)
		log_info("job=%s partition=%s: inputs published", job->name,
		    p->key);
	free(p->waiting);
	p->waiting = NULL;
	p->inputs_ok = 1;
	rc = 1;
	if (run_id == 0)
		goto out;
	now = now_us();
	if (state_begin(d->st, cause) != 0) {
		rc = -1;
		goto out;
	}
	if ((stmt = state_prepare(d->st, "DELETE FROM run_inputs "
	    "WHERE run_id = ?")) == NULL)
		goto fail;
	sqlite3_bind_int64(stmt, 1, run_id);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		goto fail;
	state_stmt_done(stmt);
	if ((stmt = state_prepare(d->st, "INSERT OR REPLACE INTO "
	    "run_inputs (run_id, product_id, partition_key, version, "
	    "recorded_us) VALUES (?, ?, ?, ?, ?)")) == NULL)
		goto fail;
	for (i = 0; i < nneeds; i++) {
		sqlite3_bind_int64(stmt, 1, run_id);
		sqlite3_bind_int64(stmt, 2, needs[i].product_id);
		sqlite3_bind_text(stmt, 3, needs[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 4, needs[i].version);
		sqlite3_bind_int64(stmt, 5, now);
		if (sqlite3_step(stmt) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(stmt);
	}
	state_stmt_done(stmt);
	if ((stmt = state_prepare(d->st, "UPDATE runs SET "
	    "waiting_for = NULL WHERE id = ?")) == NULL)
		goto fail;
	sqlite3_bind_int64(stmt, 1, run_id);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		goto fail;
	state_stmt_done(stmt);
	if (state_commit(d->st, cause) != 0)
		rc = -1;
	goto out;
fail:
	sql_fail(d, stmt, cause);
	state_rollback(d->st);
	rc = -1;
out:
	for (i = 0; i < nneeds; i++)
		free(needs[i].key);
	free(needs);
	free(waiting);
	return rc;
}

void
daemon_inputs_ended(struct daemon *d, const struct job_def *job,
    const char *key)
{
	size_t	i;

	for (i = 0; i < job->ntasks; i++)
		if (job->tasks[i].product != NULL)
			break;
	if (i == job->ntasks)
		return;
	d->pub = xreallocarray(d->pub, d->npub + 1, sizeof *d->pub);
	d->pub[d->npub].job = xstrdup(job->name);
	d->pub[d->npub++].key = xstrdup(key);
}

void
daemon_inputs_free(struct daemon *d)
{
	size_t	i;

	for (i = 0; i < d->npub; i++) {
		free(d->pub[i].job);
		free(d->pub[i].key);
	}
	free(d->pub);
	d->pub = NULL;
	d->npub = 0;
}

/* A job with schedule = "on_inputs" reading `product` partition-for-
 * partition: give it a run of `key` if it has none. */
static int
on_inputs_run(struct daemon *d, const struct job_def *job,
    const char *product, const char *key, char **cause)
{
	const struct job_def	*prod = NULL;
	int64_t			 job_id, run_id, s = 0, e = 0;
	char			*canon = NULL, *why = NULL;
	size_t			 i;
	int			 created;

	for (i = 0; i < job->ninputs; i++)
		if (job->inputs[i].map == INPUT_SAME &&
		    strcmp(job->inputs[i].product, product) == 0)
			break;
	if (i == job->ninputs)
		return 0;
	/* Its interval is the input partition's. */
	if (job->inputs[i].producer >= 0 &&
	    (size_t)job->inputs[i].producer < d->jobs.n)
		prod = d->jobs.v[job->inputs[i].producer];
	if (prod != NULL && job_parse_key(prod, key, &s, &e, &canon,
	    &why) != 0) {
		s = e = 0;
		free(why);
	}
	free(canon);
	if (state_job_sync(d->st, job->name, job->domain, job->owner,
	    job->description, job->file, job->schedule, &job_id, cause) != 0 ||
	    state_run_open(d->st, job_id, key, s, e, "inputs", &run_id,
	    &created, cause) != 0)
		return -1;
	if (!created)
		return 0;	/* a republish: staleness decides */
	daemon_queue_push(d, job->name, key, s, e, "inputs", 0);
	log_info("job=%s run=%lld partition=%s: created: input %s %s was "
	    "published", job->name, (long long)run_id, key, product, key);
	return 0;
}

struct stale {
	int64_t	 run_id;
	char	*job;
	char	*key;
	int	 depth;
};

/*
 * Runs that read (product, key) at a version older than `version` (all
 * versions when version is 0): their outputs are stale.  Each is marked;
 * a job with on_upstream_change = "rerun" runs it again, and its republish
 * carries staleness on; otherwise staleness is followed downstream here.
 */
static int
stale_from(struct daemon *d, int64_t pid, const char *product,
    const char *key, int64_t version, char **cause)
{
	struct stale	*q = NULL;
	sqlite3_stmt	*stmt = NULL, *up = NULL;
	size_t		 nq = 0, head = 0, t;
	int64_t		 qpid;
	int		 rc = 0;

	/* Seed: the direct readers of the republished partition. */
	if ((stmt = state_prepare(d->st, "SELECT r.id, j.name, "
	    "r.partition_key FROM run_inputs ri JOIN runs r ON r.id = "
	    "ri.run_id JOIN jobs j ON j.id = r.job_id WHERE ri.product_id = ? "
	    "AND ri.partition_key = ? AND (? = 0 OR ri.version < ?) AND "
	    "r.state NOT IN ('queued', 'running')")) == NULL)
		return sql_fail(d, NULL, cause);
	sqlite3_bind_int64(stmt, 1, pid);
	sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, version);
	sqlite3_bind_int64(stmt, 4, version);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		q = xreallocarray(q, nq + 1, sizeof *q);
		q[nq].run_id = sqlite3_column_int64(stmt, 0);
		q[nq].job = xstrdup((const char *)sqlite3_column_text(stmt, 1));
		q[nq].key = xstrdup((const char *)sqlite3_column_text(stmt, 2));
		q[nq++].depth = 0;
	}
	state_stmt_done(stmt);
	stmt = NULL;
	if ((up = state_prepare(d->st, "UPDATE product_partitions "
	    "SET state = 'stale', updated_us = ? WHERE product_id = ? AND "
	    "partition_key = ? AND state = 'published'")) == NULL) {
		rc = sql_fail(d, NULL, cause);
		goto out;
	}
	for (head = 0; head < nq && head < STALE_MAX && rc == 0; head++) {
		struct stale		*s = &q[head];
		const struct job_def	*job = jobset_find(&d->jobs, s->job);

		if (engine_is_active(d->engine, s->job, s->key) ||
		    daemon_queued(d, s->job, s->key))
			continue;	/* it reads afresh when it starts */
		log_warn("job=%s run=%lld partition=%s: stale: input %s %s "
		    "was republished%s", s->job, (long long)s->run_id, s->key,
		    product, key, job != NULL && job->upstream_rerun ?
		    "; running it again" : "");
		for (t = 0; job != NULL && t < job->ntasks && rc == 0; t++) {
			if (job->tasks[t].product == NULL)
				continue;
			if (product_id(d, job->tasks[t].product, &qpid,
			    cause) != 0) {
				rc = -1;
				break;
			}
			sqlite3_bind_int64(up, 1, now_us());
			sqlite3_bind_int64(up, 2, qpid);
			sqlite3_bind_text(up, 3, s->key, -1, SQLITE_STATIC);
			if (sqlite3_step(up) != SQLITE_DONE) {
				rc = sql_fail(d, NULL, cause);
				break;
			}
			sqlite3_reset(up);
			if (job->upstream_rerun)
				continue;
			/* Marked only: what read it is stale too. */
			if ((stmt = state_prepare(d->st, "SELECT "
			    "r.id, j.name, r.partition_key FROM run_inputs ri "
			    "JOIN runs r ON r.id = ri.run_id JOIN jobs j ON "
			    "j.id = r.job_id WHERE ri.product_id = ? AND "
			    "ri.partition_key = ? AND r.state NOT IN "
			    "('queued', 'running')")) == NULL) {
				rc = sql_fail(d, NULL, cause);
				break;
			}
			sqlite3_bind_int64(stmt, 1, qpid);
			sqlite3_bind_text(stmt, 2, s->key, -1, SQLITE_STATIC);
			while (sqlite3_step(stmt) == SQLITE_ROW &&
			    nq < STALE_MAX) {
				int64_t rid = sqlite3_column_int64(stmt, 0);
				size_t	x;

				for (x = 0; x < nq && q[x].run_id != rid; x++)
					;
				if (x < nq)
					continue;
				q = xreallocarray(q, nq + 1, sizeof *q);
				s = &q[head];
				q[nq].run_id = rid;
				q[nq].job = xstrdup((const char *)
				    sqlite3_column_text(stmt, 1));
				q[nq].key = xstrdup((const char *)
				    sqlite3_column_text(stmt, 2));
				q[nq++].depth = s->depth + 1;
			}
			state_stmt_done(stmt);
			stmt = NULL;
		}
		if (rc != 0 || job == NULL || !job->upstream_rerun)
			continue;
		/* Run it again, from the start: it reads the new version. */
		if ((stmt = state_prepare(d->st, "UPDATE runs SET "
		    "state = 'queued', ended_us = NULL WHERE id = ?")) == NULL) {
			rc = sql_fail(d, NULL, cause);
			break;
		}
		sqlite3_bind_int64(stmt, 1, s->run_id);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			rc = sql_fail(d, stmt, cause);
			stmt = NULL;
			break;
		}
		state_stmt_done(stmt);
		stmt = NULL;
		{
			sqlite3_stmt	*iv;
			int64_t		 is = 0, ie = 0;

			if ((iv = state_prepare(d->st, "SELECT "
			    "interval_start_us, interval_end_us FROM runs "
			    "WHERE id = ?")) != NULL) {
				sqlite3_bind_int64(iv, 1, s->run_id);
				if (sqlite3_step(iv) == SQLITE_ROW) {
					is = sqlite3_column_int64(iv, 0);
					ie = sqlite3_column_int64(iv, 1);
				}
				state_stmt_done(iv);
			}
			daemon_queue_push(d, s->job, s->key, is, ie,
			    "upstream", 0)->rerun = 1;
		}
	}
out:
	state_stmt_done(up);
	for (t = 0; t < nq; t++) {
		free(q[t].job);
		free(q[t].key);
	}
	free(q);
	return rc;
}

/* A partition a pass looked at: (product, key). */
struct touched {
	const char	*product;
	const char	*key;
};

/*
 * After a pass: the queued runs that read a partition just published (or
 * quarantined) look at their inputs again, and only those.  Looking again
 * costs a few queries per run, so making every waiting run look at every
 * publication made a backfill of a downstream job, all of its runs
 * waiting, quadratic (1,000 partitions: 3x slower than without inputs).
 * A "same" input reads only its own key; a window or "latest" may read
 * any key, so those look again at every publication of the product
 * (daemon_queue_inputs_changed() finds them without a scan of the queue).
 */
static void
inputs_recheck(struct daemon *d, const struct touched *touched, size_t n)
{
	size_t	t;

	for (t = 0; t < n; t++)
		daemon_queue_inputs_changed(d, touched[t].product,
		    touched[t].key);
}

int
daemon_inputs_pass(struct daemon *d)
{
	struct touched	*touched = NULL;
	char		 state[32], *cause = NULL;
	size_t		 i, t, j, k, ntouched = 0;
	int64_t		 pid, version;

	if (d->npub == 0)
		return 0;
	if (state_begin(d->st, &cause) != 0)
		goto fail;
	for (i = 0; i < d->npub; i++) {
		const struct job_def *job = jobset_find(&d->jobs, d->pub[i].job);

		for (t = 0; job != NULL && t < job->ntasks; t++) {
			const char *prod = job->tasks[t].product;

			if (prod == NULL)
				continue;
			if (product_id(d, prod, &pid, &cause) != 0 ||
			    (pid != 0 && partition_of(d, pid, d->pub[i].key,
			    state, sizeof state, &version, &cause) != 0))
				goto rollback;
			if (pid == 0)
				continue;
			/* Published or not (quarantined, say), what waits
			 * on it looks again: to start, or to say why not. */
			touched = xreallocarray(touched, ntouched + 1,
			    sizeof *touched);
			touched[ntouched].product = prod;
			touched[ntouched++].key = d->pub[i].key;
			if (strcmp(state, "published") != 0)
				continue;
			/* Jobs reading it partition for partition, created
			 * by its publication. */
			for (j = 0; j < d->jobs.n; j++) {
				const struct job_def *c = d->jobs.v[j];

				if (!c->on_inputs)
					continue;
				for (k = 0; k < c->ninputs; k++)
					if (strcmp(c->inputs[k].product,
					    prod) == 0)
						break;
				if (k < c->ninputs && on_inputs_run(d, c, prod,
				    d->pub[i].key, &cause) != 0)
					goto rollback;
			}
			if (version > 1 && stale_from(d, pid, prod,
			    d->pub[i].key, version, &cause) != 0)
				goto rollback;
		}
	}
	if (state_commit(d->st, &cause) != 0)
		goto fail;
	inputs_recheck(d, touched, ntouched);
	free(touched);
	daemon_inputs_free(d);
	return 0;
rollback:
	state_rollback(d->st);
fail:
	log_error("inputs: %s", cause);
	free(cause);
	free(touched);
	daemon_inputs_free(d);
	return -1;
}
