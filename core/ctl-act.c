/*
 * ctl-act.c -- what meshctl's write verbs (trigger, backfill, clear,
 * cancel, pause, unpause) share: they parse their options into name=value
 * arguments, ask the write layer (act.h) and render its document, so that
 * meshctl and the HTTP API check and record exactly the same.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act.h"
#include "meshctl.h"

json_t *
ctl_act(struct ctl *ctl, const struct jobset *js, const char *name,
    const struct read_args *args, int dry, int conflict_rc, int *rc)
{
	static const struct jobset none;
	struct read_ctx		 ctx;
	struct read_error	 err;
	json_t			*doc;
	const char		*p, *nl;

	memset(&ctx, 0, sizeof ctx);
	*rc = CTL_EXIT_OK;
	if (ctl_config(ctl) == NULL) {
		*rc = CTL_EXIT_USAGE;
		return NULL;
	}
	/* A dry run writes nothing and needs no write permission; with no
	 * state yet, no partition has a run. */
	if (!dry || access(ctl->cfg->state_db, F_OK) == 0) {
		if ((ctx.st = ctl_state(ctl, dry ? STATE_RDONLY :
		    STATE_RDWR)) == NULL) {
			*rc = CTL_EXIT_STATE;
			return NULL;
		}
	}
	ctx.cfg = ctl->cfg;
	ctx.jobs = js != NULL ? js : &none;
	ctx.now_us = now_us();
	doc = act_do(&ctx, name, args, &err);
	if (ctx.st != NULL)
		state_close(ctx.st);
	if (doc != NULL)
		return doc;
	/* A message of several lines is several diagnostics. */
	for (p = err.message; p != NULL; p = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		ctl_error("%.*s", nl != NULL ? (int)(nl - p) : (int)strlen(p),
		    p);
	}
	*rc = err.status == 409 ? conflict_rc : read_exit_code(err.status);
	return NULL;
}

const char *
ctl_act_fate(const json_t *doc)
{
	const char	*m = json_string_value(json_object_get(doc, "meshd"));

	if (m != NULL && strcmp(m, "told") == 0)
		return "meshd was told";
	if (m != NULL && strcmp(m, "not running") == 0)
		return "recorded; meshd is not running and will apply it when "
		    "it starts";
	return "recorded; meshd will see it at its next wake-up";
}

int
ctl_act_arg(struct read_args *args, const char *name, const char *value)
{
	if (read_args_add(args, name, value) == 0)
		return 0;
	ctl_error("too many options (at most %d)", READ_MAXARGS);
	return -1;
}
