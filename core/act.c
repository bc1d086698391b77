/*
 * act.c -- the write side's frame: the table of actions, their arguments,
 * recording a request and waking meshd.  The actions themselves live in
 * core/act-*.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act-int.h"
#include "config.h"
#include "job.h"
#include "lock.h"
#include "request.h"
#include "state.h"
#include "util.h"

const struct act_action act_actions[] = {
#define X(n, s)	{ #n, s, act_##n##_params, act_##n##_schema, act_##n },
	ACT_LIST
#undef X
	{ NULL, NULL, NULL, NULL, NULL }
};

const struct act_action *
act_find(const char *name)
{
	const struct act_action *a;

	for (a = act_actions; a->name != NULL; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

json_t *
act_do(struct read_ctx *ctx, const char *name, const struct read_args *args,
    struct read_error *err)
{
	const struct act_action *a;
	const struct read_param *p;
	int	i;

	memset(err, 0, sizeof *err);
	if ((a = act_find(name)) == NULL)
		return read_fail(err, 404, "no action '%s'", name);
	for (i = 0; i < args->n; i++) {
		for (p = a->params; p->name != NULL; p++)
			if (strcmp(p->name, args->a[i].name) == 0)
				break;
		if (p->name == NULL)
			return read_fail(err, 400, "unknown parameter '%s' "
			    "for %s", args->a[i].name, name);
	}
	for (p = a->params; p->name != NULL; p++)
		if (p->required && read_arg(args, p->name) == NULL)
			return read_fail(err, 400, "%s needs parameter '%s'",
			    name, p->name);
	if (ctx->cfg == NULL || ctx->jobs == NULL)
		return read_fail(err, 503, "%s: no configuration loaded",
		    name);
	return a->run(ctx, args, err);
}

int
act_poke(const struct meshd_config *cfg, pid_t *pid)
{
	struct stat	 sb;
	char		*path, c = 0;
	int		 fd, ok;

	if ((*pid = state_lock_holder(cfg->state_db)) <= 0) {
		if (*pid == 0)
			return 1;
		*pid = -1;
		return -1;
	}
	/*
	 * The wake-up FIFO first: it needs only write permission on it,
	 * not the daemon's uid, so the HTTP child and an operator in
	 * state_group reach the same daemon the same way.  Full: a wake-up
	 * is already pending, which is as good.
	 */
	path = xasprintf("%s.wake", cfg->state_db);
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd != -1) {
		/* Never a byte into a file someone put in its place. */
		ok = fstat(fd, &sb) == 0 && S_ISFIFO(sb.st_mode) &&
		    (write(fd, &c, 1) == 1 || errno == EAGAIN);
		close(fd);
		if (ok)
			return 0;
	}
	/* A daemon from before the FIFO, or one we may not write to. */
	if (kill(*pid, SIGUSR1) == 0)
		return 0;
	*pid = -1;
	return -1;
}

const char *
act_poke_word(int told)
{
	if (told == 0)
		return "told";
	if (told > 0)
		return "not running";
	return "not told";
}

const struct job_def *
act_job(struct read_ctx *ctx, const char *name, struct read_error *err)
{
	const struct job_broken	*b;
	const struct job_def	*job;
	char			*names;
	size_t			 i, len = 1;

	if ((job = jobset_find(ctx->jobs, name)) != NULL)
		return job;
	if ((b = jobset_broken(ctx->jobs, name)) != NULL) {
		read_fail(err, 404, "unknown job '%s': its file %s is broken, "
		    "and meshd refuses it ('meshctl jobs' says why)", name,
		    b->file);
		return NULL;
	}
	for (i = 0; i < ctx->jobs->n; i++)
		len += strlen(ctx->jobs->v[i]->name) + 2;
	names = xcalloc(1, len);
	for (i = 0; i < ctx->jobs->n; i++) {
		if (i > 0)
			strcat(names, ", ");
		strcat(names, ctx->jobs->v[i]->name);
	}
	read_fail(err, 404, "unknown job '%s' (jobs: %s)", name,
	    ctx->jobs->n > 0 ? names : "none");
	free(names);
	return NULL;
}

const char *
act_option(const char *name, char *buf, size_t len)
{
	size_t	i;

	snprintf(buf, len, "--%s", name);
	for (i = 2; buf[i] != '\0'; i++)
		if (buf[i] == '_')
			buf[i] = '-';
	return buf;
}

int
act_bool(const struct read_args *args, const char *name, int *out,
    struct read_error *err)
{
	const char	*v = read_arg(args, name);
	char		 o[64];

	*out = 0;
	if (v == NULL || *v == '\0' || strcmp(v, "0") == 0 ||
	    strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
		return 0;
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "yes") == 0) {
		*out = 1;
		return 0;
	}
	read_fail(err, 400, "%s: '%s' is not a boolean (1, true, yes; 0, "
	    "false, no)", act_option(name, o, sizeof o), v);
	return -1;
}

int
act_number(const struct read_args *args, const char *name, int64_t min,
    int64_t max, int64_t dflt, int64_t *out, struct read_error *err)
{
	char	o[64];

	if (read_arg_int(args, name, min, max, dflt, out, err) == 0)
		return 0;
	/* The same refusal, naming the argument as meshctl's option. */
	read_fail(err, 400, "%s: '%s' is not a number from %lld to %lld",
	    act_option(name, o, sizeof o), read_arg(args, name),
	    (long long)min, (long long)max);
	return -1;
}

struct state *
act_state(struct read_ctx *ctx, struct read_error *err)
{
	if (ctx->st == NULL && ctx->st_error != NULL)
		read_fail(err, 503, "%s", ctx->st_error);
	else if (ctx->st == NULL)
		read_fail(err, 503, "%s: no state database to write to",
		    ctx->cfg->state_db);
	return ctx->st;
}

json_t *
act_fail_cause(struct read_error *err, char *cause)
{
	read_fail(err, 503, "%s", cause != NULL ? cause : "state error");
	free(cause);
	return NULL;
}

json_t *
act_told(struct read_ctx *ctx, json_t *doc)
{
	pid_t	pid;
	int	told = act_poke(ctx->cfg, &pid);

	json_object_set_new(doc, "meshd", json_string(act_poke_word(told)));
	json_object_set_new(doc, "meshd_pid", json_integer(pid > 0 ? pid :
	    0));
	return doc;
}

json_t *
act_record(struct read_ctx *ctx, const char *kind, const char *job,
    const char *key, const char *args, struct read_error *err)
{
	struct state	*st;
	char		*cause = NULL;
	int64_t		 id;

	if ((st = act_state(ctx, err)) == NULL)
		return NULL;
	if (request_add(st, kind, job, key, args, &id, &cause) != 0)
		return act_fail_cause(err, cause);
	return json_pack("{s:I, s:s, s:s}", "request_id", (json_int_t)id,
	    "kind", kind, "job", job);
}
