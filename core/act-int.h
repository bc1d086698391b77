/*
 * act-int.h -- what the action files (core/act-*.c) share: the list of
 * actions and small helpers.  Not for verbs or pages: they use act.h.
 */
#ifndef MESHD_ACT_INT_H
#define MESHD_ACT_INT_H

#include <stdint.h>

#include <jansson.h>

#include "act.h"

struct job_def;

/*
 * Every action: X(name, summary).  Action `name` is defined in its file
 * as act_NAME_params[], act_NAME_schema[] and act_NAME() (see read-int.h
 * for the same pattern).  Keep the list sorted by file, then by name.
 */
#define ACT_LIST							\
	/* act-backfill.c */						\
	X(backfill, "run a range of a job's partitions, a few at a "	\
	    "time")							\
	X(backfill_cancel, "stop a backfill: launch nothing more, "	\
	    "with now=1 stop what runs")				\
	/* act-clear.c */						\
	X(clear, "reset tasks of finished runs so that they run "	\
	    "again")							\
	/* act-request.c */						\
	X(cancel, "cancel a running or queued run")			\
	X(pause, "stop a job's schedule from firing")			\
	X(unpause, "let a paused job's schedule fire again")		\
	/* act-trigger.c */						\
	X(trigger, "run a partition now")

#define X(n, s)								\
	extern const struct read_param act_##n##_params[];		\
	extern const char act_##n##_schema[];				\
	json_t *act_##n(struct read_ctx *, const struct read_args *,	\
	    struct read_error *);
ACT_LIST
#undef X

/* The fields every document of a recorded request has, for a schema's
 * "properties" (then "required": ACT_SCHEMA_REQUIRED). */
#define ACT_SCHEMA_RECORDED						\
	"\"request_id\":{\"type\":\"integer\"},"			\
	"\"kind\":{\"type\":\"string\"},"				\
	"\"job\":{\"type\":\"string\"},"				\
	"\"meshd\":{\"enum\":[\"told\",\"not running\",\"not told\"]},"	\
	"\"meshd_pid\":{\"type\":\"integer\"}"
#define ACT_SCHEMA_REQUIRED						\
	"\"request_id\",\"kind\",\"job\",\"meshd\",\"meshd_pid\""

/*
 * The job called `name` as loaded now (ctx->jobs), or NULL with 404
 * "unknown job 'x' (jobs: a, b)" (or that its file is broken).
 */
const struct job_def *act_job(struct read_ctx *, const char *name,
	    struct read_error *);
/* A boolean argument: 1/true/yes, 0/false/no or "" (0 when absent);
 * -1 with a 400 error naming it as --NAME otherwise. */
int	 act_bool(const struct read_args *, const char *name, int *out,
	    struct read_error *);
/* A whole number in [min, max] (dflt when absent); -1 with 400
 * "--NAME: 'x' is not a number from MIN to MAX". */
int	 act_number(const struct read_args *, const char *name, int64_t min,
	    int64_t max, int64_t dflt, int64_t *out, struct read_error *);
/* The argument name as meshctl's option: "max_active_runs" ->
 * "--max-active-runs" (in buf). */
const char *act_option(const char *name, char *buf, size_t len);
/* ctx->st, or NULL with 503 (ctx->st_error, or "no state database")
 * when there is none. */
struct state *act_state(struct read_ctx *, struct read_error *);
/*
 * Record one request (key and args may be NULL) in its own transaction;
 * returns a new document {request_id, kind, job} to add to, then to pass
 * to act_told(), or NULL with 503.
 */
json_t	*act_record(struct read_ctx *, const char *kind, const char *job,
	    const char *key, const char *args, struct read_error *);
/* Wake meshd and add "meshd" and "meshd_pid" to doc, last; returns
 * doc.  Call it once the rows are committed. */
json_t	*act_told(struct read_ctx *, json_t *doc);
/* A cause from the state module as a 503; frees it; NULL. */
json_t	*act_fail_cause(struct read_error *, char *cause);

#endif
