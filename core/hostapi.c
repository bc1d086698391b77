/* hostapi.c -- struct meshd_ctx and the host function table for plugins. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostapi.h"
#include "util.h"

static const char *const level_names[] = {
	"ERROR", "WARN ", "INFO ", "DEBUG"
};

/* Names of enum param_type, kept here so that the worker depends on
 * nothing of the job module but its structs. */
static const char *
type_name(enum param_type t)
{
	switch (t) {
	case PARAM_INT:
		return "int";
	case PARAM_DOUBLE:
		return "double";
	case PARAM_BOOL:
		return "bool";
	case PARAM_STRING:
		return "string";
	}
	return "unknown";
}

static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void
host_vlog(meshd_ctx *ctx, meshd_log_level level, const char *fmt, va_list ap)
{
	char		 tbuf[32], *text, *line;
	const char	*plugin = "?", *task = "-";
	size_t		 n;

	if ((unsigned)level >= nitems(level_names))
		level = MESHD_LOG_INFO;
	if (ctx->desc != NULL && ctx->desc->name != NULL)
		plugin = ctx->desc->name;
	if (ctx->task != NULL && ctx->task->task_id != NULL)
		task = ctx->task->task_id;
	text = xvasprintf(fmt, ap);
	n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = '\0';
	line = xasprintf("%s %s [%s/%s] %s\n", fmt_utc(now_us(), tbuf,
	    sizeof tbuf), level_names[level], plugin, task, text);
	/* One write per line: stdout and stderr share the file, and the
	 * plugin may print from other threads. */
	write_all(STDERR_FILENO, line, strlen(line));
	free(line);
	free(text);
}

void
hostapi_log(struct meshd_ctx *ctx, meshd_log_level level, const char *fmt,
    ...)
{
	va_list	ap;

	va_start(ap, fmt);
	host_vlog(ctx, level, fmt, ap);
	va_end(ap);
}

/* The parameter `key` if it exists and has type `want`; else NULL, with a
 * warning if it exists with another type. */
static const struct param *
param_typed(meshd_ctx *ctx, const char *key, enum param_type want)
{
	const struct paramset	*ps;
	const struct param	*p = NULL;
	size_t			 i;

	if (ctx->in_init || ctx->task == NULL || key == NULL)
		return NULL;
	ps = &ctx->task->params;
	for (i = 0; i < ps->n; i++) {
		if (strcmp(ps->v[i].key, key) == 0) {
			p = &ps->v[i];
			break;
		}
	}
	if (p == NULL || p->type == want)
		return p;
	if (want == PARAM_DOUBLE && p->type == PARAM_INT)
		return p;
	hostapi_log(ctx, MESHD_LOG_WARN,
	    "param '%s' is a %s, not a %s: using the default", key,
	    type_name(p->type), type_name(want));
	return NULL;
}

static const char *
host_param_string(meshd_ctx *ctx, const char *key, const char *dflt)
{
	const struct param	*p = param_typed(ctx, key, PARAM_STRING);

	return p == NULL ? dflt : p->s;
}

static int64_t
host_param_int(meshd_ctx *ctx, const char *key, int64_t dflt)
{
	const struct param	*p = param_typed(ctx, key, PARAM_INT);

	return p == NULL ? dflt : p->i;
}

static double
host_param_double(meshd_ctx *ctx, const char *key, double dflt)
{
	const struct param	*p = param_typed(ctx, key, PARAM_DOUBLE);

	if (p == NULL)
		return dflt;
	return p->type == PARAM_INT ? (double)p->i : p->d;
}

static int
host_param_bool(meshd_ctx *ctx, const char *key, int dflt)
{
	const struct param	*p = param_typed(ctx, key, PARAM_BOOL);

	return p == NULL ? dflt : p->i != 0;
}

static int
host_param_exists(meshd_ctx *ctx, const char *key)
{
	size_t	i;

	if (ctx->in_init || ctx->task == NULL || key == NULL)
		return 0;
	for (i = 0; i < ctx->task->params.n; i++) {
		if (strcmp(ctx->task->params.v[i].key, key) == 0)
			return 1;
	}
	return 0;
}

static const char *
host_partition_key(meshd_ctx *ctx)
{
	return ctx->in_init ? NULL : ctx->task->partition_key;
}

static int64_t
host_interval_start(meshd_ctx *ctx)
{
	return ctx->in_init ? 0 : ctx->task->interval_start_us;
}

static int64_t
host_interval_end(meshd_ctx *ctx)
{
	return ctx->in_init ? 0 : ctx->task->interval_end_us;
}

/* `dir` (0 staging, 1 attempt), made on the first call of the attempt. */
static const char *
host_dir(meshd_ctx *ctx, int which)
{
	const char	*dir;
	char		*cause = NULL;

	if (ctx->in_init)
		return NULL;
	dir = which == 0 ? ctx->task->staging_dir : ctx->task->attempt_dir;
	if (dir == NULL || ctx->made[which])
		return dir;
	/* The attempt directory lives under the staging one. */
	if (mkdir_p(dir, 0750, &cause) != 0) {
		if (ctx->dir_fault == NULL) {
			ctx->dir_errno = errno;
			ctx->dir_fault = cause;
		} else
			free(cause);
		return NULL;
	}
	ctx->made[which] = 1;
	return dir;
}

static const char *
host_staging_dir(meshd_ctx *ctx)
{
	return host_dir(ctx, 0);
}

static const char *
host_attempt_dir(meshd_ctx *ctx)
{
	return host_dir(ctx, 1);
}

/* Entry i of the descriptor's products: entries are product_size apart,
 * which may be larger than the struct this host knows. */
static const struct meshd_product *
product_at(const struct meshd_plugin *desc, size_t i)
{
	const char	*base = (const char *)desc->products;

	return (const struct meshd_product *)(const void *)
	    (base + i * desc->product_size);
}

static const char *
host_location(meshd_ctx *ctx, const char *product, const char **name)
{
	const struct meshd_plugin	*desc = ctx->desc;
	const struct meshd_product	*mp;
	const char			*own = NULL;
	size_t				 i;

	if (ctx->task != NULL)
		own = ctx->task->product;
	if (own == NULL && desc->products != NULL &&
	    product_at(desc, 0)->name != NULL)
		own = product_at(desc, 0)->name;
	if (product == NULL)
		product = own;
	if (product == NULL)
		return NULL;
	*name = product;
	/* The job file's override is for the task's own product only. */
	if (ctx->task != NULL && ctx->task->location != NULL &&
	    own != NULL && strcmp(product, own) == 0)
		return ctx->task->location;
	if (desc->products == NULL)
		return NULL;
	for (i = 0; (mp = product_at(desc, i))->name != NULL; i++) {
		if (strcmp(mp->name, product) == 0)
			return mp->location;
	}
	return NULL;
}

/*
 * The publish stage writes the location: a path location that does not
 * exist yet is made there, as staging_dir is, so that a first publish to
 * a new place does not fail on a missing directory (the operator names
 * it in the job file and need not create it).  Other stages only read
 * it, and URIs are the plugin's own business.
 */
static const char *
host_output_location(meshd_ctx *ctx, const char *product)
{
	const char	*loc, *name = NULL;
	char		*cause = NULL;

	loc = host_location(ctx, product, &name);
	if (loc == NULL || loc[0] != '/' || ctx->in_init || ctx->task == NULL ||
	    ctx->task->stage != MESHD_STAGE_PUBLISH)
		return loc;
	if (mkdir_p(loc, 0755, &cause) != 0) {
		int	e = errno;

		if (ctx->dir_fault == NULL) {
			ctx->dir_errno = e;
			ctx->dir_fault = xasprintf("location of %s: %s",
			    name, cause);
		}
		free(cause);
		return NULL;
	}
	return loc;
}

static int
host_check_result(meshd_ctx *ctx, const char *name, meshd_severity severity,
    int passed, double observed, const char *expectation)
{
	struct check_rec	*c = NULL;
	size_t			 i;

	if (ctx->in_init || ctx->task == NULL ||
	    ctx->task->stage != MESHD_STAGE_CHECK)
		return -1;
	if (name == NULL || *name == '\0')
		return -1;
	if (severity != MESHD_SEV_ERROR && severity != MESHD_SEV_WARN) {
		/*
		 * Neither blocking nor not: the gate cannot judge it, so
		 * the attempt fails (see hostapi_failed_checks) rather than
		 * publish on a check nobody can read.  The first one is
		 * named; the plugin is told too.
		 */
		if (ctx->bad_check == NULL)
			ctx->bad_check = xasprintf("check '%s': unknown "
			    "severity %d (%d error, %d warn)", name,
			    (int)severity, MESHD_SEV_ERROR, MESHD_SEV_WARN);
		hostapi_log(ctx, MESHD_LOG_ERROR, "check '%s': unknown "
		    "severity %d (%d error, %d warn): the attempt fails", name,
		    (int)severity, MESHD_SEV_ERROR, MESHD_SEV_WARN);
		return -1;
	}
	/*
	 * A check recorded twice keeps its last result, as metrics do: the
	 * attempt has one outcome per check.  Except a failed error-level
	 * one: it stands, or a plugin could fail a check and then pass it
	 * under the same name to open the gate.  The later result is kept
	 * beside it, for the record, and the attempt fails.
	 */
	for (i = 0; i < ctx->nchecks; i++) {
		if (strcmp(ctx->checks[i].name, name) != 0)
			continue;
		if (ctx->checks[i].severity == MESHD_SEV_ERROR &&
		    !ctx->checks[i].passed)
			continue;
		c = &ctx->checks[i];
		free(c->expectation);
		break;
	}
	if (c == NULL) {
		ctx->checks = xreallocarray(ctx->checks, ctx->nchecks + 1,
		    sizeof *ctx->checks);
		c = &ctx->checks[ctx->nchecks++];
		c->name = xstrdup(name);
	}
	c->severity = severity;
	c->passed = passed != 0;
	c->observed = observed;
	c->expectation = xstrdup_null(expectation);
	c->recorded_us = now_us();
	return 0;
}

static int
host_metric(meshd_ctx *ctx, const char *name, double value)
{
	size_t	i;

	if (name == NULL || *name == '\0')
		return -1;
	for (i = 0; i < ctx->nmetrics; i++) {
		if (strcmp(ctx->metrics[i].name, name) == 0) {
			ctx->metrics[i].value = value;
			return 0;
		}
	}
	ctx->metrics = xreallocarray(ctx->metrics, ctx->nmetrics + 1,
	    sizeof *ctx->metrics);
	ctx->metrics[ctx->nmetrics].name = xstrdup(name);
	ctx->metrics[ctx->nmetrics].value = value;
	ctx->nmetrics++;
	return 0;
}

static void
host_set_error(meshd_ctx *ctx, const char *fmt, va_list ap)
{
	free(ctx->error);
	ctx->error = fmt == NULL ? NULL : xvasprintf(fmt, ap);
}

static int
host_cancelled(meshd_ctx *ctx)
{
	return ctx->cancel != NULL && *ctx->cancel != 0;
}

static const char *
host_job_name(meshd_ctx *ctx)
{
	return ctx->task == NULL ? NULL : ctx->task->job;
}

static const char *
host_task_id(meshd_ctx *ctx)
{
	return ctx->task == NULL ? NULL : ctx->task->task_id;
}

static int
host_attempt(meshd_ctx *ctx)
{
	return ctx->task == NULL ? 0 : ctx->task->attempt;
}

const struct meshd_api hostapi_table = {
	.size = sizeof(struct meshd_api),
	.abi_major = MESHD_ABI_MAJOR,
	.abi_minor = MESHD_ABI_MINOR,
	.vlog = host_vlog,
	.param_string = host_param_string,
	.param_int = host_param_int,
	.param_double = host_param_double,
	.param_bool = host_param_bool,
	.param_exists = host_param_exists,
	.partition_key = host_partition_key,
	.interval_start = host_interval_start,
	.interval_end = host_interval_end,
	.staging_dir = host_staging_dir,
	.attempt_dir = host_attempt_dir,
	.output_location = host_output_location,
	.check_result = host_check_result,
	.metric = host_metric,
	.set_error = host_set_error,
	.cancelled = host_cancelled,
	.job_name = host_job_name,
	.task_id = host_task_id,
	.attempt = host_attempt,
};

void
hostapi_ctx_init(struct meshd_ctx *ctx, const struct meshd_plugin *desc,
    const struct wire_task *task, int in_init,
    const volatile sig_atomic_t *cancel)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->api = &hostapi_table;
	ctx->desc = desc;
	ctx->task = task;
	ctx->in_init = in_init || task == NULL;
	ctx->cancel = cancel;
}

void
hostapi_ctx_clear(struct meshd_ctx *ctx)
{
	size_t	i;

	for (i = 0; i < ctx->nchecks; i++) {
		free(ctx->checks[i].name);
		free(ctx->checks[i].expectation);
	}
	free(ctx->checks);
	for (i = 0; i < ctx->nmetrics; i++)
		free(ctx->metrics[i].name);
	free(ctx->metrics);
	free(ctx->error);
	free(ctx->bad_check);
	free(ctx->dir_fault);
	ctx->dir_fault = NULL;
	ctx->checks = NULL;
	ctx->metrics = NULL;
	ctx->error = NULL;
	ctx->bad_check = NULL;
	ctx->nchecks = ctx->nmetrics = 0;
}

char *
hostapi_failed_checks(const struct meshd_ctx *ctx)
{
	const struct check_rec	*c;
	char			*out = NULL, *item, *tmp;
	size_t			 i;

	if (ctx->bad_check != NULL)
		return xstrdup(ctx->bad_check);
	for (i = 0; i < ctx->nchecks; i++) {
		c = &ctx->checks[i];
		if (c->passed || c->severity != MESHD_SEV_ERROR)
			continue;
		if (c->expectation != NULL)
			item = xasprintf("%s (observed %g, expected %s)",
			    c->name, c->observed, c->expectation);
		else
			item = xasprintf("%s (observed %g)", c->name,
			    c->observed);
		if (out == NULL)
			out = item;
		else {
			tmp = xasprintf("%s, %s", out, item);
			free(out);
			free(item);
			out = tmp;
		}
	}
	return out;
}
