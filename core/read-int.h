/*
 * read-int.h -- what the question files (core/read-*.c) share: the list
 * of questions and small helpers.  Not for verbs or pages: they use
 * read.h.
 */
#ifndef MESHD_READ_INT_H
#define MESHD_READ_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "read.h"

struct job_def;
struct sqlite3_stmt;

/*
 * Every question: X(name, summary).  Question `name` is defined in its
 * file as
 *	const struct read_param read_NAME_params[] = { ..., { NULL } };
 *	const char read_NAME_schema[] = "{...JSON Schema...}";
 *	json_t *read_NAME(struct read_ctx *, const struct read_args *,
 *	    struct read_error *);
 * Keep the list sorted by file, then by name.
 */
#define READ_QUESTION_LIST \
	/* read-alerts.c */ \
	X(alerts, "alerts to the owning teams and their delivery, newest "\
	    "first") \
	/* read-backfills.c */ \
	X(backfills, "backfills and their progress, newest first, or one") \
	/* read-catalog.c */ \
	X(catalog, "the data products by domain, with their quarantined "\
	    "partitions and why") \
	/* read-checks.c */ \
	X(checks, "the quality checks of a product partition's build") \
	/* read-dag.c */ \
	X(dag, "the task graph of a job: tasks in run order and edges") \
	/* read-grid.c */ \
	X(grid, "a page of a job's runs with the state of their tasks") \
	/* read-jobs.c */ \
	X(jobs, "every job: schedule, next fire, last runs, paused, "\
	    "broken") \
	/* read-lineage.c */ \
	X(lineage, "where a product partition came from, or what it "\
	    "fed: a graph") \
	/* read-logs.c */ \
	X(logs, "a chunk of the log of a task's attempt, to read or follow") \
	/* read-next.c */ \
	X(next, "a job's next fire times and the partitions they close") \
	/* read-product.c */ \
	X(product, "one data product: its card and partitions, newest "\
	    "first")	\
	X(products, "every data product: owner, freshness, counts") \
	/* read-runs.c */ \
	X(runs, "the runs of a job, newest partition first") \
	/* read-status.c */ \
	X(status, "meshd up or down, its health, the queue, running "\
	    "attempts, broken jobs") \
	/* read-tasks.c */ \
	X(tasks, "the tasks of a run with their attempts and checks")

#define X(n, s)								\
	extern const struct read_param read_##n##_params[];		\
	extern const char read_##n##_schema[];				\
	json_t *read_##n(struct read_ctx *, const struct read_args *,	\
	    struct read_error *);
READ_QUESTION_LIST
#undef X

/* The parameters every list takes, for a params table:
 * { "limit", ... }, { "cursor", ... }. */
#define READ_PARAMS_PAGE						\
	{ "limit", "integer", 0, "at most N items (default 50, at most "\
	    "10000)" },							\
	{ "cursor", "string", 0, "next_cursor of the previous page" }
/* The parameter every question takes: times in UTC. */
#define READ_PARAM_UTC							\
	{ "utc", "boolean", 0, "*_local times in UTC, not the job's zone" }

/* JSON Schema fragments for the schemas. */
#define READ_SCHEMA_CURSOR \
	"\"next_cursor\":{\"type\":[\"string\",\"null\"]}"

/*
 * A time for people: `us` on the wall clock of the job's zone,
 * "2026-11-28 13:05:00 CET", or UTC ("... UTC") when utc is set or job is
 * NULL or has no zone; "-" for 0.
 */
const char *read_time_local(int utc, const struct job_def *job, int64_t us,
	    char *buf, size_t len);
/*
 * since=WHEN into microseconds UTC: a duration back from now (90m, 2h,
 * 3d, 1w; also s) or a date or time in the job's zone (UTC with utc or a
 * trailing Z): 2026-11-01, 2026-11-01T10:00, 2026-11-01T10:00:30Z.  0, or
 * -1 with a 400 error.
 */
int	 read_since(const struct read_ctx *, const struct job_def *job,
	    const char *arg, int64_t *out, struct read_error *);
/* The job called `name`: its id in the state (0 if it never ran) and
 * its definition (NULL if its file is gone or broken); -1 with 404
 * "unknown job 'x'" if it is in neither. */
int	 read_job(struct read_ctx *, const char *name, int64_t *id,
	    const struct job_def **def, struct read_error *);
/* The data product called `name`: its id; -1 with 404 "unknown product
 * 'x' (products: a, b, ...)" naming the first twenty there are, or with
 * 503.  Calls read_need_state().  In read-product.c. */
int	 read_product_find(struct read_ctx *, const char *name, int64_t *id,
	    struct read_error *);
/* Is `utc` set in args? */
int	 read_utc(const struct read_args *);

/* A TEXT column as a string ("" for NULL); a JSON string or null. */
const char *read_col(struct sqlite3_stmt *, int);
json_t	*read_col_json(struct sqlite3_stmt *, int);

/*
 * Cursors: "v1.v2" of up to four integers or strings, base-16 encoded so
 * that any partition key survives a URL.  read_cursor_make() returns a
 * new JSON string; read_cursor_parse() fills `n` parts (strings are new,
 * free them) or returns -1 with a 400 error.
 */
struct read_cursor {
	int	 n;
	char	*s[4];
	int64_t	 i[4];
};
json_t	*read_cursor_make(int n, const char *const *s);
/* The cursor of one integer (an id, a time): read_cursor_parse(arg, 1)
 * gives it back in i[0]. */
json_t	*read_cursor_int(int64_t);
int	 read_cursor_parse(const char *arg, int n, struct read_cursor *,
	    struct read_error *);
void	 read_cursor_free(struct read_cursor *);

#endif
