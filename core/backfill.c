/* backfill.c -- backfills: the rules, their creation and their progress. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "backfill.h"
#include "request.h"
#include "schedule.h"
#include "util.h"

static const char *const reprocess_names[] = { "missing", "failed", "all" };
static const char *const action_names[] = {
	"run", "resume", "rerun", "wait", "skip"
};

int
bf_reprocess_parse(const char *s, enum bf_reprocess *out)
{
	size_t	i;

	for (i = 0; i < nitems(reprocess_names); i++) {
		if (strcmp(s, reprocess_names[i]) == 0) {
			*out = (enum bf_reprocess)i;
			return 0;
		}
	}
	return -1;
}

const char *
bf_reprocess_name(enum bf_reprocess r)
{
	return reprocess_names[r];
}

const char *
bf_action_name(enum bf_action a)
{
	return action_names[a];
}

enum bf_action
bf_decide(const char *run_state, enum bf_reprocess rp, const char **why)
{
	if (run_state == NULL) {
		*why = "no run yet";
		return BF_RUN;
	}
	if (strcmp(run_state, "queued") == 0 ||
	    strcmp(run_state, "running") == 0) {
		*why = "already queued or running: the backfill waits for it";
		return BF_WAIT;
	}
	if (strcmp(run_state, "success") == 0) {
		if (rp == BF_ALL) {
			*why = "succeeded; --reprocess all runs it again";
			return BF_RERUN;
		}
		*why = "already succeeded";
		return BF_SKIP;
	}
	/* failed or cancelled */
	switch (rp) {
	case BF_MISSING:
		*why = "has a failed run (--reprocess failed reruns it)";
		return BF_SKIP;
	case BF_FAILED:
		*why = "failed: its unfinished tasks run again";
		return BF_RESUME;
	case BF_ALL:
		break;
	}
	*why = "failed; --reprocess all runs every task again";
	return BF_RERUN;
}

size_t
bf_enumerate(const struct job_def *job, int64_t first, int64_t last,
    size_t limit, struct bf_key **out)
{
	struct bf_key	*v = NULL;
	size_t		 n = 0, cap = 0;
	int64_t		 s, e;

	for (s = first; s >= 0 && s <= last && n <= limit; s = e) {
		if ((e = job_next_fire(job, s)) < 0 || e <= s)
			e = INT64_MAX;
		if (out != NULL) {
			if (n == cap) {
				cap = cap == 0 ? 64 : cap * 2;
				v = xreallocarray(v, cap, sizeof *v);
			}
			v[n].start = s;
			v[n].end = e;
			v[n].key = job_key(job, s);
		}
		n++;
		if (e == INT64_MAX)
			break;
	}
	if (out != NULL)
		*out = v;
	return n;
}

void
bf_keys_free(struct bf_key *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i].key);
	free(v);
}

static int
bf_fail(struct state *st, sqlite3_stmt *stmt, const char *what, char **cause)
{
	set_cause(cause, "%s: %s: %s", state_path(st), what,
	    sqlite3_errmsg(state_sqlite(st)));
	sqlite3_finalize(stmt);
	return -1;
}

int
bf_create(struct state *st, const struct bf_spec *sp,
    const struct bf_key *keys, size_t n, int64_t *bf_id, int64_t *request_id,
    char **cause)
{
	static const char	*what = "cannot create the backfill";
	sqlite3			*db = state_sqlite(st);
	sqlite3_stmt		*stmt = NULL;
	struct passwd		*pw = getpwuid(geteuid());
	char			*args;
	size_t			 i;

	if (state_begin(st, cause) != 0)
		return -1;
	if (sqlite3_prepare_v2(db, "INSERT INTO backfills (job, from_key, "
	    "to_key, reprocess, max_active_runs, reverse, total, created_us, "
	    "created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id", -1,
	    &stmt, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(stmt, 1, sp->job, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, sp->from_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, sp->to_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, bf_reprocess_name(sp->reprocess), -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(stmt, 5, sp->max_active_runs);
	sqlite3_bind_int(stmt, 6, sp->reverse != 0);
	sqlite3_bind_int64(stmt, 7, (sqlite3_int64)n);
	sqlite3_bind_int64(stmt, 8, now_us());
	if (pw != NULL)
		sqlite3_bind_text(stmt, 9, pw->pw_name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(stmt) != SQLITE_ROW)
		goto fail;
	*bf_id = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);

	/* One prepared insert for every partition: 100,000 take well under
	 * a second. */
	if (sqlite3_prepare_v2(db, "INSERT INTO backfill_partitions "
	    "(backfill_id, seq, partition_key, interval_start_us, "
	    "interval_end_us) VALUES (?, ?, ?, ?, ?)", -1, &stmt, NULL) !=
	    SQLITE_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		const struct bf_key *k = &keys[sp->reverse ? n - 1 - i : i];

		sqlite3_bind_int64(stmt, 1, *bf_id);
		sqlite3_bind_int64(stmt, 2, (sqlite3_int64)i);
		sqlite3_bind_text(stmt, 3, k->key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 4, k->start);
		if (k->end == INT64_MAX)
			sqlite3_bind_null(stmt, 5);
		else
			sqlite3_bind_int64(stmt, 5, k->end);
		if (sqlite3_step(stmt) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	stmt = NULL;

	args = xasprintf("{\"backfill\": %lld}", (long long)*bf_id);
	if (request_insert(st, "backfill", sp->job, NULL, args, request_id,
	    cause) != 0) {
		free(args);
		state_rollback(st);
		return -1;
	}
	free(args);
	if (sqlite3_prepare_v2(db, "UPDATE backfills SET request_id = ? WHERE "
	    "id = ?", -1, &stmt, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(stmt, 1, *request_id);
	sqlite3_bind_int64(stmt, 2, *bf_id);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(stmt);
	return state_commit(st, cause);
fail:
	bf_fail(st, stmt, what, cause);
	state_rollback(st);
	return -1;
}

void
bf_row(sqlite3_stmt *stmt, struct bf_info *b)
{
	memset(b, 0, sizeof *b);
	b->id = sqlite3_column_int64(stmt, 0);
	b->job = xstrdup_null((const char *)sqlite3_column_text(stmt, 1));
	b->from_key = xstrdup_null((const char *)sqlite3_column_text(stmt, 2));
	b->to_key = xstrdup_null((const char *)sqlite3_column_text(stmt, 3));
	b->reprocess = xstrdup_null((const char *)sqlite3_column_text(stmt,
	    4));
	b->state = xstrdup_null((const char *)sqlite3_column_text(stmt, 5));
	b->result = xstrdup_null((const char *)sqlite3_column_text(stmt, 6));
	b->created_by = xstrdup_null((const char *)sqlite3_column_text(stmt,
	    7));
	b->max_active_runs = sqlite3_column_int(stmt, 8);
	b->reverse = sqlite3_column_int(stmt, 9);
	b->total = sqlite3_column_int64(stmt, 10);
	b->running = sqlite3_column_int64(stmt, 11);
	b->success = sqlite3_column_int64(stmt, 12);
	b->failed = sqlite3_column_int64(stmt, 13);
	b->skipped = sqlite3_column_int64(stmt, 14);
	b->cancelled = sqlite3_column_int64(stmt, 15);
	b->created_us = sqlite3_column_int64(stmt, 16);
	b->started_us = sqlite3_column_int64(stmt, 17);
	b->ended_us = sqlite3_column_int64(stmt, 18);
}

int
bf_get(struct state *st, int64_t id, struct bf_info *b, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	memset(b, 0, sizeof *b);
	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT " BF_COLUMNS " FROM "
	    "backfills WHERE id = ?", -1, &stmt, NULL) != SQLITE_OK)
		return bf_fail(st, NULL, "cannot read backfills", cause);
	sqlite3_bind_int64(stmt, 1, id);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		bf_row(stmt, b);
		sqlite3_finalize(stmt);
		return 0;
	}
	if (rc != SQLITE_DONE)
		return bf_fail(st, stmt, "cannot read backfills", cause);
	sqlite3_finalize(stmt);
	return 1;
}

void
bf_info_free(struct bf_info *b)
{
	free(b->job);
	free(b->from_key);
	free(b->to_key);
	free(b->reprocess);
	free(b->state);
	free(b->result);
	free(b->created_by);
	memset(b, 0, sizeof *b);
}

int
bf_finished(const struct bf_info *b)
{
	return b->state != NULL && (strcmp(b->state, "success") == 0 ||
	    strcmp(b->state, "failed") == 0 ||
	    strcmp(b->state, "cancelled") == 0);
}
