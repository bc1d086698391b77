/*
 * read.h -- the read layer (design decision 9): every read question of
 * meshctl and of the HTTP API ("runs of job J", "partitions of product
 * P", ...) is answered by one function that returns a JSON document.
 * meshctl renders the document as a table or prints it with --json; the
 * HTTP child serves the very same document at GET /api/v1/NAME.  SQL
 * lives here (core/read*.c) and in the state module, never in a CLI verb
 * or a page.
 *
 * A question takes its arguments as name=value strings (struct
 * read_args), whether they came from meshctl's options and operands or
 * from an HTTP query string, so that the same question asked both ways
 * gets the same document.  The table read_questions[] names every
 * question with its parameters and the JSON Schema of its answer: the
 * HTTP child routes by it and generates /api/v1/openapi.json from it.
 *
 * Documents are deterministic for a given state (no "age" relative to
 * now unless the question is about now, like status), times are integers
 * in microseconds UTC named *_us, with *_local strings for people in the
 * job's zone (UTC when args has utc=1 or the job has none).
 *
 * Lists are paginated by cursor: limit=N (default READ_LIMIT_DEFAULT, at
 * most READ_LIMIT_MAX) and cursor=C, the opaque string the previous page
 * returned as "next_cursor" (null on the last page).  A page costs
 * O(page), never O(history): every list query walks an index from the
 * cursor and reads limit + 1 rows to know whether there is more.
 *
 * Since 0.6.0.
 */
#ifndef MESHD_READ_H
#define MESHD_READ_H

#include <stdint.h>

#include <jansson.h>

struct state;
struct meshd_config;
struct jobset;
struct job_def;
struct read_lazy;

#define READ_LIMIT_DEFAULT	50
#define READ_LIMIT_MAX		10000
#define READ_MAXARGS		24

/*
 * What a question may read.  st is a read-only state connection; cfg and
 * jobs are meshd.conf and the job files as loaded now (jobs may hold
 * broken jobs: jobset's broken[]); health is meshd's health file as JSON,
 * or NULL when no meshd runs.  The caller owns all of them.
 *
 * st is NULL when the state cannot be opened, with st_error saying why: a
 * question checks its arguments first, so that a usage error is reported
 * as one whether or not there is a state, then calls read_need_state().
 */
struct read_ctx {
	struct state			*st;
	const struct meshd_config	*cfg;
	const struct jobset		*jobs;
	json_t				*health;
	int64_t				 now_us;
	int				 utc;	/* set by read_ask() */
	/* jobs were judged as meshd judges them (read_jobs_judged()):
	 * the jobs question need not judge them again. */
	int				 jobs_judged;
	const char			*st_error;
	/* With jobs NULL: the job files are read one at a time, each when
	 * a question first names its job (read_lazy_new()). */
	struct read_lazy		*lazy;
};

/*
 * Job files read on demand, for a process that asks one question and
 * exits (meshctl): loading every file of jobs_dir costs about 50 us a job,
 * half a second with 10,000 jobs, while a question about runs, tasks,
 * backfills or products needs the zone of the few jobs it shows.  A job's
 * file is jobs_dir/NAME.conf (job files are named after their job), read
 * alone: its inputs are not linked to other jobs.  Since 0.5.0.
 */
struct read_lazy *read_lazy_new(void);
void		 read_lazy_free(struct read_lazy *);
/* The definition of job `name` as far as a question needs it (its zone,
 * schedule and tasks): from ctx->jobs, or else from ctx->lazy, loading
 * its file on first use; NULL if there is none or it does not load. */
const struct job_def *read_ctx_job(const struct read_ctx *, const char *name);

/* The arguments of one question: name=value pairs.  Names and values are
 * borrowed; they must outlive the question. */
struct read_args {
	int	n;
	struct {
		const char	*name;
		const char	*value;
	} a[READ_MAXARGS];
};

/*
 * Why a question failed: an HTTP status and a one-line message (meshctl
 * prints "meshctl: MESSAGE" and exits with read_exit_code(status)):
 *   400 bad argument (exit 2)      404 no such job, run, product (exit 2)
 *   409 conflict with the state (exit 1)
 *   503 the state is busy or unreadable (exit 3)
 * 401/403 are the HTTP child's (token), never a question's.
 */
struct read_error {
	int	status;
	char	message[512];
};

/* One parameter of a question, for routing, --help and OpenAPI. */
struct read_param {
	const char	*name;		/* "job", "limit", "cursor", ... */
	const char	*type;		/* JSON Schema type: "string",
					 * "integer", "boolean" */
	int		 required;
	const char	*help;		/* one line */
};

struct read_question {
	const char		*name;	/* "runs": GET /api/v1/runs */
	const char		*summary;
	const struct read_param	*params;	/* ends with { NULL } */
	/* JSON Schema (2020-12) of the answer, as JSON text. */
	const char		*schema;
	/* The answer (a new reference), or NULL with *err set. */
	json_t			*(*answer)(struct read_ctx *,
				    const struct read_args *,
				    struct read_error *);
};

/* Every question, ending with { NULL }. */
extern const struct read_question read_questions[];

/* The question called `name`, or NULL. */
const struct read_question *read_find(const char *name);

/*
 * Ask question `name`: checks that every argument is a parameter of the
 * question (400 "unknown parameter 'x' for runs") and that the required
 * ones are there, then answers.  A new reference, or NULL with *err.
 */
json_t	*read_ask(struct read_ctx *, const char *name,
	    const struct read_args *, struct read_error *);

/* Add name=value (both borrowed); -1 if the list is full. */
int	 read_args_add(struct read_args *, const char *name,
	    const char *value);
/* The value of `name`, or NULL. */
const char *read_arg(const struct read_args *, const char *name);
/* The value of `name` as a whole number in [min, max] (*out = dflt when
 * absent); -1 with a 400 error naming the parameter otherwise. */
int	 read_arg_int(const struct read_args *, const char *name,
	    int64_t min, int64_t max, int64_t dflt, int64_t *out,
	    struct read_error *);
/* limit=N: READ_LIMIT_DEFAULT if absent, 1..READ_LIMIT_MAX. */
int	 read_arg_limit(const struct read_args *, int64_t *out,
	    struct read_error *);
/* Is the boolean argument `name` set ("1", "true", "yes")? */
int	 read_arg_bool(const struct read_args *, const char *name);

/* Set *err and return NULL, for `return read_fail(err, 404, ...)`. */
json_t	*read_fail(struct read_error *, int status, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Prepare the SQL that fmt formats (clauses chosen by the arguments) on
 * ctx's state: 0, or -1 with 503 (read_need_state() first). */
struct sqlite3_stmt;
int	 read_prepare(struct read_ctx *, struct sqlite3_stmt **,
	    struct read_error *, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* 0 if ctx has a state, else -1 with 503 and ctx->st_error. */
int	 read_need_state(const struct read_ctx *, struct read_error *);
/* Turn a state or SQLite failure into 503 with its message; NULL. */
json_t	*read_fail_state(struct read_error *, struct state *);

/* meshctl's exit code for a read_error status (see above). */
int	 read_exit_code(int status);

#endif
