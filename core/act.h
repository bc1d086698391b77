/*
 * act.h -- the write side shared by meshctl and the HTTP API: the
 * operator's actions (trigger, backfill, backfill_cancel, clear, cancel,
 * pause, unpause).  Each action checks its arguments exactly as meshctl
 * always has (the job exists and loads, the partition key parses, the job's
 * start and end, --rerun, ranges, clear's staging), writes its request
 * rows in one transaction and wakes meshd.  meshctl's verbs only parse
 * options and render the document an action returns; the HTTP child
 * serves the same document at POST /api/v1/NAME.  Design decision 2: a
 * request is durable the moment the action returns, daemon up or not.
 *
 * An action takes the read layer's types (read.h): name=value arguments,
 * a read_error with an HTTP status (400 bad argument, 404 no such job,
 * task, run or backfill, 409 conflict with the state: a partition that
 * already succeeded without rerun, a backfill that has ended, nothing
 * failed for clear failed_only; 503 state unwritable or busy) and a
 * message naming the argument as meshctl's option does ("--from: ...",
 * "--param x: ..."), so that both say the same.  A message is one line,
 * except clear's refusal for a staging that is gone: lines separated by
 * '\n' (meshctl prints each as its own diagnostic).  meshctl's exit
 * codes: read_exit_code(), except that trigger and backfill_cancel exit 2
 * on a 409, as they always have.
 *
 * The context: ctx->st is a READ-WRITE state connection (STATE_RDWR)
 * owned by the caller.  A dry run (dry_run=1) only reads: its st may be
 * read-only, or NULL when no state database exists yet (then no partition
 * has a run); any other action with a NULL st fails with 503.  ctx->cfg and
 * ctx->jobs are required: the job must be in ctx->jobs (loaded, not
 * broken).  ctx->health and ctx->now_us are not used, except now_us by
 * trigger to choose the default partition (0: the clock now).
 *
 * Every document that records a request has
 *	"request_id": integer, "kind": string, "job": string,
 *	"meshd": "told" | "not running" | "not told",
 *	"meshd_pid": integer (0 when no meshd runs),
 * plus the action's own fields (see each schema); a dry run has
 * "dry_run": true and no request_id, and writes nothing.
 *
 * The actions and their parameters (booleans take 1/true/yes):
 *   trigger	job, partition, rerun, param=KEY=VALUE (repeatable)
 *   backfill	job, from, to, reprocess (missing|failed|all),
 *		max_active_runs, reverse, yes, dry_run
 *   backfill_cancel id, now
 *   clear	job, partition | from + to, task, downstream, failed_only,
 *		dry_run
 *   cancel	job, partition
 *   pause	job
 *   unpause	job
 *
 * Since 0.6.0.
 */
#ifndef MESHD_ACT_H
#define MESHD_ACT_H

#include <sys/types.h>

#include <jansson.h>

#include "read.h"

struct meshd_config;

struct act_action {
	const char		*name;		/* "trigger": POST /api/v1/trigger */
	const char		*summary;
	const struct read_param	*params;	/* ends with { NULL } */
	/* JSON Schema (2020-12) of the answer, as JSON text. */
	const char		*schema;
	/* The answer (a new reference), or NULL with *err set. */
	json_t			*(*run)(struct read_ctx *,
				    const struct read_args *,
				    struct read_error *);
};

/* Every action, ending with { NULL }. */
extern const struct act_action act_actions[];

/* The action called `name`, or NULL. */
const struct act_action *act_find(const char *name);

/*
 * Do action `name`: checks that every argument is a parameter of the
 * action (400 "unknown parameter 'x' for trigger") and that the required
 * ones are there, as read_ask() does, then acts.  A new reference, or
 * NULL with *err (and nothing written).
 */
json_t	*act_do(struct read_ctx *, const char *name,
	    const struct read_args *, struct read_error *);

/*
 * Wake the meshd that holds the state's lock (cfg->state_db): a byte in
 * its wake-up FIFO "<state_db>.wake" (which works across users), else
 * SIGUSR1.  Returns 0 told (*pid its pid), 1 no meshd runs (*pid 0), -1
 * it could not be told (*pid -1; it sees the request at its next wake-up,
 * within seconds).  Safe in any process; no state connection needed.
 */
int	 act_poke(const struct meshd_config *, pid_t *pid);
/* "told", "not running", "not told": act_poke()'s result as the
 * documents' "meshd" field. */
const char *act_poke_word(int);

#endif
