/*
 * hostapi.h -- the host side of the plugin SDK: struct meshd_ctx and the
 * struct meshd_api table handed to plugins.
 *
 * Internal to the worker.  A context lives for one callback (init or one
 * stage); the worker fills it, calls the plugin, then reads what the
 * plugin recorded (error message, check results, metrics) and clears it.
 */
#ifndef MESHD_HOSTAPI_H
#define MESHD_HOSTAPI_H

#include <signal.h>

#include "../sdk/meshd/plugin.h"
#include "executor.h"
#include "util.h"
#include "wire.h"

struct meshd_ctx {
	/* Must stay first: plugins reach it through struct meshd_ctx_head. */
	const struct meshd_api		*api;

	const struct meshd_plugin	*desc;
	const struct wire_task		*task;	/* the attempt's request */
	int				 in_init; /* init: no params etc. */
	const volatile sig_atomic_t	*cancel; /* set by SIGTERM */

	char				*error;	/* set_error, last wins */
	struct check_rec		*checks;
	size_t				 nchecks;
	struct metric_rec		*metrics;
	size_t				 nmetrics;
	/* A check_result the host refused (unknown severity): why.  It
	 * fails the attempt, as a failed error-level check does, for a
	 * check that cannot be judged must not let the partition publish. */
	char				*bad_check;
	/* The staging and attempt directories are made when the plugin
	 * first asks for them (most attempts of a no-op or a pure check
	 * never do): made[0] staging, made[1] attempt.  If one cannot be
	 * made, the getter returns NULL and dir_fault says why (errno in
	 * dir_errno): the attempt then fails as a fault of meshd's. */
	int				 made[2];
	char				*dir_fault;
	int				 dir_errno;
};

/* The table every context points to. */
extern const struct meshd_api hostapi_table;

/*
 * Prepare a context for a callback of plugin `desc` on behalf of `task`.
 * `in_init` restricts it to what init may see.  `cancel` points to the
 * worker's SIGTERM flag.  Nothing is copied: all three must outlive ctx.
 */
void	hostapi_ctx_init(struct meshd_ctx *, const struct meshd_plugin *desc,
	    const struct wire_task *task, int in_init,
	    const volatile sig_atomic_t *cancel);
/* Free what the plugin recorded. */
void	hostapi_ctx_clear(struct meshd_ctx *);

/* Write a log line as the host does: "TIME LEVEL [plugin/task] text". */
void	hostapi_log(struct meshd_ctx *, meshd_log_level, const char *, ...)
	    PRINTFLIKE(3, 4);

/*
 * "rows_min (observed 5, expected >= 10), ..." for every failed
 * error-level check, or NULL if there is none; or, if the plugin recorded
 * a check with an unknown severity, "check 'x': unknown severity 7 (0
 * error, 1 warn)".  New string.
 */
char	*hostapi_failed_checks(const struct meshd_ctx *);

#endif
