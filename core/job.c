/*
 * job.c -- job files: jobs/NAME.conf, parsed and validated as a whole.
 *
 * Parsing never stops at the first problem: every key of every task is
 * checked and each problem is added to the errlist with file:line, then the
 * job is refused if there was any error.  Nothing is half-loaded.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alert.h"
#include "dag.h"
#include "job.h"
#include "job-int.h"
#include "cron.h"
#include "limit.h"
#include "partition.h"
#include "schedule.h"
#include "suggest.h"
#include "tz.h"
#include "meshd/plugin.h"

/* Durations above this many seconds (about 31 years) are surely typos. */
#define JOB_MAX_SECONDS 1e9
#define JOB_MAX_RETRIES 1000
/* Runs of one job at once: each holds a DAG tracker and rows in flight;
 * more than this is a backfill, which has its own admission. */
#define JOB_MAX_ACTIVE_RUNS 10000
/* Tasks of one job at once, across its runs; more than any pool. */
#define JOB_MAX_ACTIVE_TASKS 100000

/* State of one job file being loaded. */
struct jload {
	const struct meshd_config	*cfg;
	const char			*path;
	struct errlist			*errs;
	char				*jobdir;	/* ${jobdir} */
	char				*confdir;	/* ${confdir} */
	char				*statedir;	/* ${statedir} */
	struct limit_src		 src;		/* the file's text */
};

/* ------------------------------------------------------------ stages */

static const char *const stage_names[] = {
	[MESHD_STAGE_EXTRACT] = "extract",
	[MESHD_STAGE_CHECK] = "check",
	[MESHD_STAGE_PUBLISH] = "publish",
};

const char *
stage_name(int stage)
{
	if (stage < 0 || (size_t)stage >= nitems(stage_names))
		return "unknown";
	return stage_names[stage];
}

int
stage_from_name(const char *name)
{
	size_t	i;

	if (name == NULL)
		return -1;
	for (i = 0; i < nitems(stage_names); i++) {
		if (strcmp(stage_names[i], name) == 0)
			return (int)i;
	}
	return -1;
}

/* ------------------------------------------------------------ messages */


static const char *
jload_file(const struct jload *jl, const config_setting_t *s)
{
	const char	*f = config_setting_source_file(s);

	return f != NULL ? f : jl->path;
}

static void jload_diag(struct jload *, enum diag_level,
    const config_setting_t *, const char *, ...) PRINTFLIKE(4, 5);
static void
jload_diag(struct jload *jl, enum diag_level level, const config_setting_t *s,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	errlist_add(jl->errs, level, jload_file(jl, s),
	    config_setting_source_line(s), "%s", msg);
	free(msg);
}
#define jload_error(jl, s, ...) jload_diag(jl, DIAG_ERROR, s, __VA_ARGS__)
#define jload_warn(jl, s, ...) jload_diag(jl, DIAG_WARNING, s, __VA_ARGS__)

/*
 * A key this file does not know, at `s`: an error, naming the closest
 * known key ("did you mean 'after'?").  A warning let a typo change what
 * a job does without a word: `afer` ran a check beside its extract.
 */
static void
jload_unknown(struct jload *jl, const config_setting_t *s, const char *where,
    const char *const *known)
{
	char	*msg;

	msg = suggest_unknown_key(config_setting_name(s), where, known);
	jload_error(jl, s, "%s", msg);
	free(msg);
}

/* The keys of each part of a job file, for suggestions: meshd-job(5). */
static const char *const job_keys[] = {
	"name", "domain", "owner", "description", "schedule", "timezone",
	"dst", "start", "end", "catchup", "params", "products", "inputs",
	"tasks", "max_active_runs", "max_active_tasks", "run_timeout",
	"jitter", "jitter_random", "on_upstream_change", ALERT_JOB_KEYS, NULL
};
static const char *const task_keys[] = {
	"id", "plugin", "stage", "after", "params", "product", "retries",
	"retry_delay", "retry_backoff", "retry_delay_max", "retry_jitter",
	"timeout", "pool", "executor", NULL
};
static const char *const input_keys[] = { "product", "partitions", NULL };
static const char *const product_keys[] = { "name", "location", NULL };

/* ------------------------------------------------------------ values */

/*
 * A name in string setting `s` (what: "job name", "task id"...): 1 to
 * LIMIT_NAME_MAX bytes of letters, digits and `extra`, written without an
 * escape (libconfig drops "\x00" without a word).  0, or -1 after an
 * error that quotes at most the start of it.
 */
static int
jload_name(struct jload *jl, const config_setting_t *s, const char *what,
    const char *v, const char *extra)
{
	char	*cause = NULL, *allowed, *q;
	const char *p;

	if (limit_name(v, extra, &cause) == 0) {
		if (!limit_escaped(&jl->src, s))
			return 0;
		cause = xstrdup("is written with an escape sequence");
	}
	allowed = xstrdup("letters, digits");
	for (p = extra; *p != '\0'; p++) {
		char *t = xasprintf("%s, '%c'", allowed, *p);

		free(allowed);
		allowed = t;
	}
	q = limit_quote(v);
	jload_error(jl, s, "%s '%s' is not valid: it %s (names are 1 to %d "
	    "bytes of %s)", what, q, cause, LIMIT_NAME_MAX, allowed);
	free(q);
	free(allowed);
	free(cause);
	return -1;
}

static const char *
jload_var(const struct jload *jl, const char *name, size_t len)
{
	if (len == 6 && strncmp(name, "jobdir", len) == 0)
		return jl->jobdir;
	if (len == 7 && strncmp(name, "confdir", len) == 0)
		return jl->confdir;
	if (len == 8 && strncmp(name, "statedir", len) == 0)
		return jl->statedir;
	return NULL;
}

/*
 * Expand ${jobdir}, ${confdir} and ${statedir} in the string value of `s`.
 * Returns a new string, or NULL after reporting every unknown or
 * unterminated reference.  A '$' not followed by '{' is kept as is.
 */
static char *
jload_expand(struct jload *jl, const config_setting_t *s, const char *what)
{
	const char	*in, *p, *end, *val;
	char		*out;
	size_t		 len = 0, cap, n;
	int		 bad = 0;

	in = config_setting_get_string(s);
	cap = strlen(in) + 1;
	out = xmalloc(cap);
	for (p = in; *p != '\0'; p += n) {
		if (p[0] != '$' || p[1] != '{') {
			val = p;
			n = 1;
		} else if ((end = strchr(p + 2, '}')) == NULL) {
			jload_error(jl, s, "unterminated '${' in %s", what);
			bad = 1;
			break;
		} else {
			val = jload_var(jl, p + 2, (size_t)(end - p - 2));
			if (val == NULL) {
				jload_error(jl, s, "unknown variable '%.*s' in "
				    "%s (known: ${jobdir}, ${confdir}, "
				    "${statedir})", (int)(end - p + 1), p, what);
				bad = 1;
				val = "";
			}
			n = (size_t)(end - p + 1);
			if (len + strlen(val) + 1 > cap) {
				cap = len + strlen(val) + strlen(p) + 1;
				out = xrealloc(out, cap);
			}
			memcpy(out + len, val, strlen(val));
			len += strlen(val);
			continue;
		}
		if (len + 2 > cap) {
			cap = cap * 2 + 2;
			out = xrealloc(out, cap);
		}
		out[len++] = *val;
	}
	out[len] = '\0';
	if (bad) {
		free(out);
		return NULL;
	}
	return out;
}

/* 0 if `s` is a string, else -1 after an error. */
static int
jload_want_string(struct jload *jl, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		jload_error(jl, s, "'%s' must be a string, not %s",
		    config_setting_name(s),
		    limit_type_name(config_setting_type(s)));
		return -1;
	}
	return 0;
}

/* A string value: 0 and *out set (replacing it), or -1 after an error. */
static int
jload_string(struct jload *jl, const config_setting_t *s, char **out)
{
	if (jload_want_string(jl, s) != 0)
		return -1;
	free(*out);
	*out = xstrdup(config_setting_get_string(s));
	return 0;
}

/*
 * An integer within [min, max], read as written: libconfig 1.5 wraps an
 * integer without an L suffix to 32 bits, so a wrong value could pass.
 * The error quotes the value as written.
 */
static int
jload_int(struct jload *jl, const config_setting_t *s, int min, int max,
    int *out)
{
	long long	 v;
	char		*cause = NULL;

	if (limit_setting_int(&jl->src, s, min, max, &v, &cause) != 0) {
		jload_error(jl, s, "%s", cause);
		free(cause);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* The integer setting `s` as written, any 64-bit value: 0, or -1 after
 * an error when it does not fit. */
static int
jload_int64(struct jload *jl, const config_setting_t *s, const char *what,
    long long *out)
{
	char	*cause = NULL;

	if (limit_int(&jl->src, s, what, LLONG_MIN, LLONG_MAX, out,
	    &cause) != 0) {
		jload_error(jl, s, "%s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* An int or a float setting as a double; `what` names the expected
 * kind in the error ("a number of seconds"). */
static int
jload_number(struct jload *jl, const config_setting_t *s, const char *what,
    double *v)
{
	long long	i;
	char		*w;
	int		 rc;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		w = xasprintf("'%s'", config_setting_name(s));
		rc = jload_int64(jl, s, w, &i);
		free(w);
		*v = (double)i;
		return rc;
	case CONFIG_TYPE_FLOAT:
		*v = config_setting_get_float(s);
		return 0;
	default:
		jload_error(jl, s, "'%s' must be %s, not %s",
		    config_setting_name(s), what,
		    limit_type_name(config_setting_type(s)));
		return -1;
	}
}

/* Seconds, an integer or a float, into microseconds. */
static int
jload_seconds(struct jload *jl, const config_setting_t *s, int64_t *out)
{
	double	v;

	if (jload_number(jl, s, "a number of seconds", &v) != 0)
		return -1;
	if (!(v >= 0)) {
		jload_error(jl, s, "'%s' must be at least 0 seconds, not %g",
		    config_setting_name(s), v);
		return -1;
	}
	if (v > JOB_MAX_SECONDS) {
		char	*raw = NULL, *q, *end;

		/* As written: an integer was read exactly (jload_int64), a
		 * float is quoted from the line if that is what it says. */
		if (config_setting_type(s) != CONFIG_TYPE_FLOAT)
			q = xasprintf("%.0f", v);
		else if ((raw = limit_raw(&jl->src, s)) != NULL &&
		    (strtod(raw, &end), *end == '\0'))
			q = limit_quote(raw);
		else
			q = xasprintf("%g", v);
		jload_error(jl, s, "'%s' must be between 0 and %.0f seconds, "
		    "not %s", config_setting_name(s), JOB_MAX_SECONDS, q);
		free(q);
		free(raw);
		return -1;
	}
	*out = (int64_t)(v * 1e6 + 0.5);
	return 0;
}

/* A number (int or float) within [lo, hi]. */
static int
jload_fraction(struct jload *jl, const config_setting_t *s, double lo,
    double hi, double *out)
{
	double	v;

	if (jload_number(jl, s, "a number", &v) != 0)
		return -1;
	if (!(v >= lo && v <= hi)) {
		jload_error(jl, s, "'%s' must be between %g and %g, not %g",
		    config_setting_name(s), lo, hi, v);
		return -1;
	}
	*out = v;
	return 0;
}

int64_t
task_retry_delay(const struct task_def *t, int tries, double rnd)
{
	double	d = (double)t->retry_delay_us;
	int	i;

	for (i = 1; i < tries && d < 1e15; i++)
		d *= t->retry_backoff;
	if (t->retry_delay_max_us > 0 && d > (double)t->retry_delay_max_us)
		d = (double)t->retry_delay_max_us;
	d += d * t->retry_jitter * (2.0 * rnd - 1.0);
	return d < 0 ? 0 : (int64_t)d;
}

/* A `params` group into `ps` (entries already there are replaced). */
static void
jload_params(struct jload *jl, const config_setting_t *g, struct paramset *ps)
{
	const config_setting_t	*e;
	struct param		 p;
	char			*what;
	int			 i, n;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		jload_error(jl, g, "'params' must be a group, not %s",
		    limit_type_name(config_setting_type(g)));
		return;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(g, (unsigned int)i);
		memset(&p, 0, sizeof p);
		p.key = (char *)(uintptr_t)config_setting_name(e);
		if (strlen(p.key) > LIMIT_NAME_MAX) {
			char *q = limit_quote(p.key);

			jload_error(jl, e, "param name '%s' is %zu bytes long, "
			    "at most %d", q, strlen(p.key), LIMIT_NAME_MAX);
			free(q);
			continue;
		}
		switch (config_setting_type(e)) {
		case CONFIG_TYPE_INT:
		case CONFIG_TYPE_INT64: {
			long long	 v;

			what = xasprintf("param '%s'", p.key);
			if (jload_int64(jl, e, what, &v) != 0) {
				free(what);
				continue;
			}
			free(what);
			p.type = PARAM_INT;
			p.i = v;
			break;
		}
		case CONFIG_TYPE_FLOAT:
			p.type = PARAM_DOUBLE;
			p.d = config_setting_get_float(e);
			break;
		case CONFIG_TYPE_BOOL:
			p.type = PARAM_BOOL;
			p.i = config_setting_get_bool(e) ? 1 : 0;
			break;
		case CONFIG_TYPE_STRING:
			p.type = PARAM_STRING;
			what = xasprintf("param '%s'", p.key);
			p.s = jload_expand(jl, e, what);
			free(what);
			if (p.s == NULL)
				continue;
			if (strlen(p.s) > LIMIT_PARAM_MAX) {
				jload_error(jl, e, "param '%s' is %zu bytes "
				    "long, at most %d: a parameter carries a "
				    "path or a small value, not the data",
				    p.key, strlen(p.s), LIMIT_PARAM_MAX);
				free(p.s);
				continue;
			}
			break;
		default:
			jload_error(jl, e, "param '%s' must be an integer, "
			    "float, boolean or string, not %s", p.key,
			    limit_type_name(config_setting_type(e)));
			continue;
		}
		paramset_set(ps, &p);
		free(p.s);
	}
}

/* ------------------------------------------------------------ products */

/*
 * inputs = ( { product = "ops.flights"; partitions = "same"; }, ... ):
 * partitions is "same" (the default), "latest" or "window N".
 */
static void
jload_inputs(struct jload *jl, struct job_def *job,
    const config_setting_t *l)
{
	const config_setting_t	*g, *e;
	struct job_input	*in;
	const char		*key;
	char			*v, *end;
	long			 w;
	int			 i, j, n, m;

	if (config_setting_type(l) != CONFIG_TYPE_LIST) {
		jload_error(jl, l, "'inputs' must be a list of groups, not %s",
		    limit_type_name(config_setting_type(l)));
		return;
	}
	n = config_setting_length(l);
	job->inputs = xcalloc((size_t)n + 1, sizeof *job->inputs);
	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(l, (unsigned int)i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			jload_error(jl, g, "input %d must be a group, not %s",
			    i + 1, limit_type_name(config_setting_type(g)));
			continue;
		}
		in = &job->inputs[job->ninputs];
		memset(in, 0, sizeof *in);
		in->line = config_setting_source_line(g);
		in->producer = -1;
		m = config_setting_length(g);
		for (j = 0; j < m; j++) {
			e = config_setting_get_elem(g, (unsigned int)j);
			key = config_setting_name(e);
			if (strcmp(key, "product") == 0) {
				if (jload_string(jl, e, &in->product) == 0 &&
				    jload_name(jl, e, "input product",
				    in->product, "_.-") == 0 &&
				    strchr(in->product, '.') == NULL)
					jload_error(jl, e, "input product '%s' "
					    "is not 'domain.product'",
					    in->product);
			} else if (strcmp(key, "partitions") == 0) {
				v = NULL;
				if (jload_string(jl, e, &v) != 0)
					continue;
				if (strcmp(v, "same") == 0)
					in->map = INPUT_SAME;
				else if (strcmp(v, "latest") == 0)
					in->map = INPUT_LATEST;
				else if (strncmp(v, "window ", 7) == 0 &&
				    (w = strtol(v + 7, &end, 10)) >= 1 &&
				    *end == '\0' && w <= 10000) {
					in->map = INPUT_WINDOW;
					in->window = (int)w;
				} else
					jload_error(jl, e, "input partitions "
					    "'%s' is not valid (same, latest, or "
					    "\"window N\" with N from 1 to "
					    "10000)", v);
				free(v);
			} else
				jload_unknown(jl, e, "in input", input_keys);
		}
		if (in->product == NULL) {
			jload_error(jl, g, "input %d has no 'product'", i + 1);
			continue;
		}
		job->ninputs++;
	}
}

static void
jload_products(struct jload *jl, struct job_def *job,
    const config_setting_t *l)
{
	const config_setting_t	*g, *e;
	struct product_override	*po;
	const char		*key;
	char			*what;
	int			 i, j, n, m;
	size_t			 k;

	if (config_setting_type(l) != CONFIG_TYPE_LIST) {
		jload_error(jl, l, "'products' must be a list of groups, not %s",
		    limit_type_name(config_setting_type(l)));
		return;
	}
	n = config_setting_length(l);
	job->products = xcalloc((size_t)n, sizeof *job->products);
	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(l, (unsigned int)i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			jload_error(jl, g, "product %d must be a group, not %s",
			    i + 1, limit_type_name(config_setting_type(g)));
			continue;
		}
		po = &job->products[job->nproducts];
		memset(po, 0, sizeof *po);
		po->line = config_setting_source_line(g);
		m = config_setting_length(g);
		/* The name first, so that other messages can use it. */
		if ((e = config_setting_get_member(g, "name")) == NULL)
			jload_error(jl, g, "product %d: missing required key "
			    "'name'", i + 1);
		else if (jload_string(jl, e, &po->name) == 0 &&
		    jload_name(jl, e, "product name", po->name, "_.-") != 0) {
			free(po->name);
			po->name = NULL;
		}
		for (j = 0; j < m; j++) {
			e = config_setting_get_elem(g, (unsigned int)j);
			key = config_setting_name(e);
			if (strcmp(key, "name") == 0)
				continue;
			if (strcmp(key, "location") == 0) {
				if (jload_want_string(jl, e) != 0)
					continue;
				what = xasprintf("the location of product "
				    "'%s'", po->name != NULL ? po->name : "?");
				free(po->location);
				po->location = jload_expand(jl, e, what);
				free(what);
				continue;
			}
			what = po->name != NULL ? xasprintf("in product '%s'",
			    po->name) : xasprintf("in product %d", i + 1);
			jload_unknown(jl, e, what, product_keys);
			free(what);
		}
		if (po->name == NULL) {
			free(po->location);
			continue;
		}
		for (k = 0; k < job->nproducts; k++) {
			if (strcmp(job->products[k].name, po->name) == 0) {
				jload_error(jl, g, "product '%s' is listed "
				    "twice (first at line %d)", po->name,
				    job->products[k].line);
				break;
			}
		}
		job->nproducts++;
	}
}

/* ------------------------------------------------------------ tasks */

static void
jload_after(struct jload *jl, struct task_def *t, const config_setting_t *s)
{
	const config_setting_t	*e;
	int			 i, n;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		/* after = "x" is the obvious shorthand for [ "x" ]. */
		t->after = xcalloc(1, sizeof *t->after);
		t->after_lines = xcalloc(1, sizeof *t->after_lines);
		t->after[0] = xstrdup(config_setting_get_string(s));
		t->after_lines[0] = config_setting_source_line(s);
		t->nafter = 1;
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		jload_error(jl, s, "'after' must be an array of task ids, "
		    "not %s", limit_type_name(config_setting_type(s)));
		return;
	}
	n = config_setting_length(s);
	t->after = xcalloc((size_t)n, sizeof *t->after);
	t->after_lines = xcalloc((size_t)n, sizeof *t->after_lines);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned int)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			jload_error(jl, e, "'after' element %d must be a "
			    "string, not %s", i + 1,
			    limit_type_name(config_setting_type(e)));
			continue;
		}
		t->after[t->nafter] = xstrdup(config_setting_get_string(e));
		t->after_lines[t->nafter] = config_setting_source_line(e);
		t->nafter++;
	}
}

/*
 * Parse task number `idx` (0-based) from group `g` into `t`.  Returns 0 if
 * the task has a valid id (its place in the DAG is known), else -1.
 */
static int
jload_task(struct jload *jl, const struct job_def *job,
    const config_setting_t *g, size_t idx, struct task_def *t)
{
	const config_setting_t	*e;
	const char		*key;
	char			*label, *where, *cause = NULL;
	int			 i, n, rc = -1;

	t->line = config_setting_source_line(g);
	t->stage = -1;
	t->retries = 0;
	t->retry_delay_us = 10 * (int64_t)1000000;
	t->timeout_us = 3600 * (int64_t)1000000;
	t->retry_backoff = 1.0;
	t->pool_index = -1;

	/* The id first: every other message names the task by it. */
	if ((e = config_setting_get_member(g, "id")) == NULL)
		jload_error(jl, g, "task %zu: missing required key 'id'",
		    idx + 1);
	else if (jload_string(jl, e, &t->id) == 0) {
		if (jload_name(jl, e, "task id", t->id, "_-") == 0)
			rc = 0;
		else {
			/* Messages name the task by its number instead. */
			free(t->id);
			t->id = NULL;
		}
	}
	if (t->id != NULL)
		label = xasprintf("task '%s'", t->id);
	else
		label = xasprintf("task %zu", idx + 1);

	/* Job params first, the task's own on top: the task wins. */
	for (i = 0; (size_t)i < job->params.n; i++)
		paramset_set(&t->params, &job->params.v[i]);

	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(g, (unsigned int)i);
		key = config_setting_name(e);
		if (strcmp(key, "id") == 0)
			continue;
		else if (strcmp(key, "plugin") == 0) {
			if (jload_string(jl, e, &t->plugin) != 0)
				continue;
			t->plugin_path = config_find_plugin(jl->cfg, t->plugin,
			    jl->jobdir, &cause);
			if (t->plugin_path == NULL) {
				jload_error(jl, e, "%s", cause);
				free(cause);
				cause = NULL;
			}
		} else if (strcmp(key, "stage") == 0) {
			if (jload_want_string(jl, e) != 0)
				continue;
			t->stage = stage_from_name(config_setting_get_string(e));
			if (t->stage == -1) {
				jload_error(jl, e, "unknown stage '%s' in %s "
				    "(expected extract, check or publish)",
				    config_setting_get_string(e), label);
			}
		} else if (strcmp(key, "after") == 0)
			jload_after(jl, t, e);
		else if (strcmp(key, "params") == 0)
			jload_params(jl, e, &t->params);
		else if (strcmp(key, "product") == 0) {
			if (jload_string(jl, e, &t->product) == 0)
				jload_name(jl, e, "product", t->product, "_.-");
		} else if (strcmp(key, "retries") == 0)
			jload_int(jl, e, 0, JOB_MAX_RETRIES, &t->retries);
		else if (strcmp(key, "retry_backoff") == 0)
			jload_fraction(jl, e, 1.0, 100.0, &t->retry_backoff);
		else if (strcmp(key, "retry_delay_max") == 0)
			jload_seconds(jl, e, &t->retry_delay_max_us);
		else if (strcmp(key, "retry_jitter") == 0)
			jload_fraction(jl, e, 0.0, 1.0, &t->retry_jitter);
		else if (strcmp(key, "pool") == 0) {
			if (jload_string(jl, e, &t->pool) == 0 &&
			    (t->pool_index = config_pool_index(jl->cfg,
			    t->pool)) == -1)
				jload_error(jl, e, "%s: pool '%s' does not exist "
				    "(pools are defined in meshd.conf)", label,
				    t->pool);
		}
		else if (strcmp(key, "executor") == 0) {
			if (jload_string(jl, e, &t->executor) == 0 &&
			    (t->executor_index = config_executor_index(jl->cfg,
			    t->executor)) == -1) {
				char *msg = config_executor_unknown(jl->cfg,
				    t->executor);

				jload_error(jl, e, "%s: %s", label, msg);
				free(msg);
			}
		}
		else if (strcmp(key, "retry_delay") == 0)
			jload_seconds(jl, e, &t->retry_delay_us);
		else if (strcmp(key, "timeout") == 0)
			jload_seconds(jl, e, &t->timeout_us);
		else {
			where = xasprintf("in %s", label);
			jload_unknown(jl, e, where, task_keys);
			free(where);
		}
	}
	/* Without its own, a task runs where its pool's tasks run. */
	if (t->executor == NULL && t->pool_index >= 0 && jl->cfg != NULL &&
	    jl->cfg->pools[t->pool_index].executor != NULL) {
		t->executor_index = config_executor_index(jl->cfg,
		    jl->cfg->pools[t->pool_index].executor);
		if (t->executor_index < 0)
			t->executor_index = 0;
	}
	if (t->executor_index < 0)
		t->executor_index = 0;
	if (config_setting_get_member(g, "plugin") == NULL)
		jload_error(jl, g, "%s: missing required key 'plugin'", label);
	if (config_setting_get_member(g, "stage") == NULL)
		jload_error(jl, g, "%s: missing required key 'stage'", label);
	free(label);
	return rc;
}

static void
jload_tasks(struct jload *jl, struct job_def *job, const config_setting_t *l,
    int *ids_ok)
{
	const config_setting_t	*g;
	int			 i, n;

	*ids_ok = 0;
	if (config_setting_type(l) != CONFIG_TYPE_LIST) {
		jload_error(jl, l, "'tasks' must be a list of groups, not %s",
		    limit_type_name(config_setting_type(l)));
		return;
	}
	if ((n = config_setting_length(l)) == 0) {
		jload_error(jl, l, "'tasks' must not be empty");
		return;
	}
	*ids_ok = 1;
	job->tasks = xcalloc((size_t)n, sizeof *job->tasks);
	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(l, (unsigned int)i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			jload_error(jl, g, "task %d must be a group, not %s",
			    i + 1, limit_type_name(config_setting_type(g)));
			*ids_ok = 0;
			continue;
		}
		if (jload_task(jl, job, g, (size_t)i,
		    &job->tasks[job->ntasks]) != 0)
			*ids_ok = 0;
		job->ntasks++;
	}
}

/* ------------------------------------------------------------ jobs */

/* Read the file into cf, and its text into src; on failure the error is
 * in errs.  libconfig's scanner exits the process when fed a directory,
 * so refuse one here. */
static int
jload_read(config_t *cf, const char *path, const char *dir,
    struct limit_src *src, struct errlist *errs)
{
	FILE		*f, *mf;
	struct stat	 st;
	const char	*efile;
	char		*cause = NULL;
	int		 rc = -1, line;

	if ((f = fopen(path, "r")) == NULL) {
		errlist_error(errs, path, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == -1) {
		errlist_error(errs, path, 0, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		errlist_error(errs, path, 0, "cannot open: %s", strerror(EISDIR));
		goto out;
	}
	/* The text is kept to quote values as written (limit.h); libconfig
	 * parses that very text. */
	if (limit_read(src, f, path, &line, &cause) != 0) {
		errlist_error(errs, path, line, "%s", cause);
		free(cause);
		goto out;
	}
	if ((mf = fmemopen(src->text, src->len, "r")) == NULL) {
		errlist_error(errs, path, 0, "cannot read: %s", strerror(errno));
		goto out;
	}
	if (config_check_includes(path, src->text, src->len, dir, 0,
	    errs) != 0) {
		fclose(mf);
		goto out;
	}
	config_set_include_dir(cf, dir);
	if (config_read(cf, mf) != CONFIG_TRUE) {
		if ((efile = config_error_file(cf)) == NULL)
			efile = path;
		errlist_error(errs, efile, config_error_line(cf), "%s",
		    config_error_text(cf));
		fclose(mf);
		goto out;
	}
	fclose(mf);
	rc = 0;
out:
	fclose(f);
	return rc;
}

/*
 * A job's file is jobs/NAME.conf: the name in the file and the file's
 * name agree, so that an operator finds the job by either, and two files
 * cannot fight over one name by accident.
 */
static void
jload_file_name(struct jload *jl, const config_setting_t *s, const char *name)
{
	const char	*base = strrchr(jl->path, '/');
	size_t		 n;

	base = base == NULL ? jl->path : base + 1;
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".conf") == 0)
		n -= 5;
	if (strlen(name) == n && strncmp(base, name, n) == 0)
		return;
	jload_error(jl, s, "job name '%s' does not match the file's name %s "
	    "(the job file of job '%s' is %s.conf)", name, base, name, name);
}

static const char *const schedule_macros[] = {
	"@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly",
	"@annually"
};

static void
jload_schedule(struct jload *jl, struct job_def *job,
    const config_setting_t *s)
{
	size_t	i;

	if (jload_string(jl, s, &job->schedule) != 0)
		return;
	if (*job->schedule == '\0') {
		jload_error(jl, s, "'schedule' must not be empty (use \"none\")");
		return;
	}
	if (strcmp(job->schedule, "on_inputs") == 0) {
		job->on_inputs = 1;
		return;
	}
	/* Cron expressions are checked by the scheduler; a mistyped macro
	 * is caught here, where the line is known. */
	if (*job->schedule != '@')
		return;
	for (i = 0; i < nitems(schedule_macros); i++) {
		if (strcmp(job->schedule, schedule_macros[i]) == 0)
			return;
	}
	jload_error(jl, s, "unknown schedule '%s' (expected none, @hourly, "
	    "@daily, @weekly, @monthly, @yearly or a cron expression)",
	    job->schedule);
}

/* catchup = "none" | "latest" | "all" | "last N" */
static void
jload_catchup(struct jload *jl, struct job_def *job,
    const config_setting_t *s)
{
	char	*v = NULL, *end;
	long	 n;

	if (jload_string(jl, s, &v) != 0)
		return;
	if (strcmp(v, "none") == 0)
		job->catchup = CATCHUP_NONE;
	else if (strcmp(v, "latest") == 0)
		job->catchup = CATCHUP_LATEST;
	else if (strcmp(v, "all") == 0)
		job->catchup = CATCHUP_ALL;
	else if (strncmp(v, "last ", 5) == 0 &&
	    (n = strtol(v + 5, &end, 10)) > 0 && *end == '\0' &&
	    n <= 1000000) {
		job->catchup = CATCHUP_LAST;
		job->catchup_n = (int)n;
	} else
		jload_error(jl, s, "catchup '%s' is not valid (none, latest, "
		    "all, or \"last N\" with N >= 1)", v);
	free(v);
}

/* timezone = "Europe/Berlin": an IANA zone, read from zoneinfo. */
static void
jload_tz(struct jload *jl, struct job_def *job, const config_setting_t *s)
{
	char	*v = NULL, *cause = NULL;

	if (jload_string(jl, s, &v) != 0)
		return;
	if (job->tz != NULL)
		tz_free(job->tz);
	if ((job->tz = tz_load(v, &cause)) == NULL) {
		jload_error(jl, s, "%s", cause);
		free(cause);
	}
	free(v);
}

/*
 * The schedule as a cron expression, for any schedule that is not a
 * macro in UTC; returns -1 after reporting an error.
 */
static int
jload_cron(struct jload *jl, struct job_def *job, const config_setting_t *s)
{
	static const struct {
		const char	*macro, *expr;
	} macros[] = {
		{ "@hourly", "0 * * * *" }, { "@daily", "0 0 * * *" },
		{ "@midnight", "0 0 * * *" }, { "@weekly", "0 0 * * 1" },
		{ "@monthly", "0 0 1 * *" }, { "@yearly", "0 0 1 1 *" },
		{ "@annually", "0 0 1 1 *" },
	};
	const char	*expr = job->schedule;
	char		*cause = NULL;
	size_t		 i;
	int		 utc = job->tz == NULL ||
	    strcmp(tz_name(job->tz), "UTC") == 0;

	if (!job_has_schedule(job))
		return 0;
	if (*expr == '@') {
		if (utc)
			return 0;	/* the partition module's grains */
		for (i = 0; i < nitems(macros); i++)
			if (strcmp(expr, macros[i].macro) == 0)
				expr = macros[i].expr;
		if (*expr == '@')
			return -1;	/* reported by jload_schedule() */
	}
	if ((job->cron = cron_parse(expr, &cause)) == NULL) {
		if (s != NULL)
			jload_error(jl, s, "%s", cause);
		else
			errlist_error(jl->errs, jl->path, 1, "%s", cause);
		free(cause);
		return -1;
	}
	if (job->tz == NULL && (job->tz = tz_load("UTC", &cause)) == NULL) {
		errlist_error(jl->errs, jl->path, 1, "%s", cause);
		free(cause);
		return -1;
	}
	job_schedule_init(job);
	return 0;
}

/* start and end must be partitions of the schedule, start before end. */
static void
jload_bounds(struct jload *jl, struct job_def *job,
    const config_setting_t *root)
{
	const config_setting_t	*ss, *es;
	int64_t			 s0 = 0, e0 = 0, dummy;
	char			*canon, *cause = NULL;

	if (!job_has_schedule(job))
		return;
	ss = config_setting_get_member(root, "start");
	es = config_setting_get_member(root, "end");
	if (ss != NULL && job->start != NULL) {
		if (job_parse_key(job, job->start, &s0, &dummy, &canon,
		    &cause) != 0) {
			jload_error(jl, ss, "start: %s", cause);
			ss = NULL;
		} else
			free(canon);
	}
	free(cause);
	cause = NULL;
	if (es != NULL && job->end != NULL) {
		if (job_parse_key(job, job->end, &e0, &dummy, &canon,
		    &cause) != 0) {
			jload_error(jl, es, "end: %s", cause);
			es = NULL;
		} else
			free(canon);
	}
	free(cause);
	if (ss != NULL && es != NULL && job->start != NULL &&
	    job->end != NULL && e0 <= s0)
		jload_error(jl, es, "end %s is not after start %s", job->end,
		    job->start);
}

static void
jload_required(struct jload *jl, const config_setting_t *root,
    const char *key, char **out)
{
	const config_setting_t	*s;

	if ((s = config_setting_get_member(root, key)) == NULL) {
		/* A missing key has no line of its own; line 1 keeps the
		 * file:line shape editors jump to. */
		errlist_error(jl->errs, jl->path, 1,
		    "missing required key '%s'", key);
		return;
	}
	if (jload_string(jl, s, out) != 0)
		return;
	if (**out == '\0')
		jload_error(jl, s, "'%s' must not be empty", key);
}

/* See job-int.h. */
struct job_def *
job_load(const struct meshd_config *cfg, const char *path,
    struct errlist *errs, int *name_line)
{
	struct jload		 jl;
	struct job_def		*job = NULL;
	config_t		 cf;
	config_setting_t	*root, *s;
	const char		*key;
	size_t			 nerr0 = errs->nerrors;
	int			 i, n, ids_ok = 0;

	*name_line = 1;
	memset(&jl, 0, sizeof jl);
	jl.cfg = cfg;
	jl.path = path;
	jl.errs = errs;
	jl.jobdir = path_dirname(path);
	if (cfg != NULL && cfg->confdir != NULL)
		jl.confdir = xstrdup(cfg->confdir);
	else if (cfg != NULL && cfg->file != NULL)
		jl.confdir = path_dirname(cfg->file);
	else
		jl.confdir = xstrdup(".");
	if (cfg != NULL && cfg->state_db != NULL)
		jl.statedir = path_dirname(cfg->state_db);
	else
		jl.statedir = xstrdup(jl.confdir);

	config_init(&cf);
	if (jload_read(&cf, path, jl.jobdir, &jl.src, errs) != 0)
		goto out;

	job = xcalloc(1, sizeof *job);
	job->file = xstrdup(path);
	job->catchup = CATCHUP_LATEST;
	job->max_active_runs = 16;
	root = config_root_setting(&cf);

	jload_required(&jl, root, "name", &job->name);
	if ((s = config_setting_get_member(root, "name")) != NULL) {
		*name_line = config_setting_source_line(s);
		if (job->name != NULL && *job->name != '\0' &&
		    jload_name(&jl, s, "job name", job->name, "_.-") == 0)
			jload_file_name(&jl, s, job->name);
	}
	jload_required(&jl, root, "domain", &job->domain);
	jload_required(&jl, root, "owner", &job->owner);
	/* Job params before the tasks, which start from a copy of them. */
	if ((s = config_setting_get_member(root, "params")) != NULL)
		jload_params(&jl, s, &job->params);

	n = config_setting_length(root);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(root, (unsigned int)i);
		key = config_setting_name(s);
		if (strcmp(key, "name") == 0 || strcmp(key, "domain") == 0 ||
		    strcmp(key, "owner") == 0 || strcmp(key, "params") == 0)
			continue;
		if (strcmp(key, "description") == 0)
			jload_string(&jl, s, &job->description);
		else if (strcmp(key, "schedule") == 0)
			jload_schedule(&jl, job, s);
		else if (strcmp(key, "start") == 0)
			jload_string(&jl, s, &job->start);
		else if (strcmp(key, "end") == 0)
			jload_string(&jl, s, &job->end);
		else if (strcmp(key, "catchup") == 0)
			jload_catchup(&jl, job, s);
		else if (strcmp(key, "timezone") == 0)
			jload_tz(&jl, job, s);
		else if (strcmp(key, "dst") == 0) {
			char	*v = NULL;
			enum cron_dst d;

			if (jload_string(&jl, s, &v) == 0) {
				if (cron_dst_from_name(v, &d) != 0)
					jload_error(&jl, s, "dst '%s' is not "
					    "valid (vixie, skip or both)", v);
				else
					job->dst = (int)d;
			}
			free(v);
		}
		else if (strcmp(key, "max_active_tasks") == 0)
			jload_int(&jl, s, 0, JOB_MAX_ACTIVE_TASKS,
			    &job->max_active_tasks);
		else if (strcmp(key, "run_timeout") == 0)
			jload_seconds(&jl, s, &job->run_timeout_us);
		else if (strcmp(key, "jitter") == 0)
			jload_seconds(&jl, s, &job->jitter_us);
		else if (strcmp(key, "jitter_random") == 0) {
			if (config_setting_type(s) != CONFIG_TYPE_BOOL)
				jload_error(&jl, s, "'jitter_random' must be "
				    "true or false");
			else
				job->jitter_random = config_setting_get_bool(s);
		}
		else if (strcmp(key, "max_active_runs") == 0)
			jload_int(&jl, s, 1, JOB_MAX_ACTIVE_RUNS,
			    &job->max_active_runs);
		else if (strcmp(key, "products") == 0)
			jload_products(&jl, job, s);
		else if (strcmp(key, "inputs") == 0)
			jload_inputs(&jl, job, s);
		else if (strcmp(key, "on_upstream_change") == 0) {
			char	*v = NULL;

			if (jload_string(&jl, s, &v) == 0) {
				if (strcmp(v, "rerun") == 0)
					job->upstream_rerun = 1;
				else if (strcmp(v, "mark") != 0)
					jload_error(&jl, s, "on_upstream_change "
					    "'%s' is not valid (rerun or mark)",
					    v);
			}
			free(v);
		}
		else if (strcmp(key, "tasks") == 0)
			jload_tasks(&jl, job, s, &ids_ok);
		else if (alert_is_job_key(key))
			alert_job_parse(&job->alerts, s, path, jl.jobdir, errs);
		else
			jload_unknown(&jl, s, NULL, job_keys);
	}
	if (config_setting_get_member(root, "tasks") == NULL)
		errlist_error(errs, path, 1, "missing required key 'tasks'");
	if (job->schedule == NULL)
		job->schedule = xstrdup("none");
	if (job->on_inputs) {
		size_t	k;

		for (k = 0; k < job->ninputs; k++)
			if (job->inputs[k].map == INPUT_SAME)
				break;
		if (k == job->ninputs)
			errlist_error(errs, path, config_setting_source_line(
			    config_setting_get_member(root, "schedule")),
			    "schedule = \"on_inputs\" needs an input with "
			    "partitions = \"same\": its partitions are "
			    "that input's");
	}
	if (jload_cron(&jl, job, config_setting_get_member(root,
	    "schedule")) == 0)
		jload_bounds(&jl, job, root);

	/* The graph needs every task's id; other errors do not stop it, so
	 * that a cycle is reported together with a bad retries value. */
	if (ids_ok) {
		job->dag = dag_build(job, errs);
		if (job->dag == NULL && errs->nerrors == nerr0) {
			errlist_error(errs, path, 1, "job '%s': task graph "
			    "refused", job->name != NULL ? job->name : "?");
		}
	}
	if (errs->nerrors > nerr0) {
		job_free(job);
		job = NULL;
	}
out:
	config_destroy(&cf);
	limit_src_free(&jl.src);
	free(jl.jobdir);
	free(jl.confdir);
	free(jl.statedir);
	return job;
}

struct job_def *
job_load_file(const struct meshd_config *cfg, const char *path,
    struct errlist *errs)
{
	int	line;

	return job_load(cfg, path, errs, &line);
}

void
job_free(struct job_def *job)
{
	struct task_def	*t;
	size_t		 i, j;

	if (job == NULL)
		return;
	if (job->dag != NULL)
		dag_free(job->dag);
	for (i = 0; i < job->ntasks; i++) {
		t = &job->tasks[i];
		free(t->id);
		free(t->plugin);
		free(t->plugin_path);
		for (j = 0; j < t->nafter; j++)
			free(t->after[j]);
		free(t->after);
		free(t->after_lines);
		paramset_free(&t->params);
		free(t->product);
		free(t->pool);
		free(t->executor);
	}
	free(job->tasks);
	for (i = 0; i < job->nproducts; i++) {
		free(job->products[i].name);
		free(job->products[i].location);
	}
	free(job->products);
	for (i = 0; i < job->ninputs; i++)
		free(job->inputs[i].product);
	free(job->inputs);
	paramset_free(&job->params);
	free(job->name);
	free(job->file);
	free(job->domain);
	free(job->owner);
	free(job->description);
	free(job->schedule);
	free(job->start);
	free(job->end);
	if (job->cron != NULL)
		cron_free(job->cron);
	if (job->tz != NULL)
		tz_free(job->tz);
	alert_hooks_free(job->alerts);
	free(job);
}

int
job_has_schedule(const struct job_def *job)
{
	return strcmp(job->schedule, "none") != 0 && !job->on_inputs;
}

int
job_builds(const struct job_def *job, const char *product)
{
	size_t	i;

	for (i = 0; i < job->ntasks; i++)
		if (job->tasks[i].product != NULL &&
		    strcmp(job->tasks[i].product, product) == 0)
			return (int)i;
	return -1;
}

int
job_task_index(const struct job_def *job, const char *id)
{
	size_t	i;

	for (i = 0; i < job->ntasks; i++) {
		if (job->tasks[i].id != NULL &&
		    strcmp(job->tasks[i].id, id) == 0)
			return (int)i;
	}
	return -1;
}

const char *
job_product_location(const struct job_def *job, const char *product)
{
	size_t	i;

	if (product == NULL)
		return NULL;
	for (i = 0; i < job->nproducts; i++) {
		if (strcmp(job->products[i].name, product) == 0)
			return job->products[i].location;
	}
	return NULL;
}
