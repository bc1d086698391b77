/*
 * read.c -- the read layer's frame: arguments, errors and the table of
 * questions.  The questions themselves live in core/read-*.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "config.h"
#include "errlist.h"
#include "job.h"
#include "read.h"
#include "read-int.h"
#include "state.h"
#include "util.h"

const struct read_question read_questions[] = {
#define X(n, s)	{ #n, s, read_##n##_params, read_##n##_schema, read_##n },
	READ_QUESTION_LIST
#undef X
	{ NULL, NULL, NULL, NULL, NULL }
};

const struct read_question *
read_find(const char *name)
{
	const struct read_question *q;

	for (q = read_questions; q->name != NULL; q++)
		if (strcmp(q->name, name) == 0)
			return q;
	return NULL;
}

json_t *
read_fail(struct read_error *err, int status, const char *fmt, ...)
{
	va_list	ap;

	err->status = status;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return NULL;
}

json_t *
read_fail_state(struct read_error *err, struct state *st)
{
	return read_fail(err, 503, "%s: %s", state_path(st),
	    sqlite3_errmsg(state_sqlite(st)));
}

int
read_prepare(struct read_ctx *ctx, sqlite3_stmt **stmt,
    struct read_error *err, const char *fmt, ...)
{
	va_list	 ap;
	char	*sql;
	int	 rc;

	va_start(ap, fmt);
	sql = xvasprintf(fmt, ap);
	va_end(ap);
	rc = sqlite3_prepare_v2(state_sqlite(ctx->st), sql, -1, stmt, NULL);
	free(sql);
	if (rc != SQLITE_OK) {
		read_fail_state(err, ctx->st);
		return -1;
	}
	return 0;
}

int
read_need_state(const struct read_ctx *ctx, struct read_error *err)
{
	if (ctx->st != NULL)
		return 0;
	read_fail(err, 503, "%s", ctx->st_error != NULL ? ctx->st_error :
	    "the state is not open");
	return -1;
}

int
read_exit_code(int status)
{
	switch (status) {
	case 400:
	case 404:
		return 2;
	case 409:
		return 1;
	default:
		return 3;
	}
}

int
read_args_add(struct read_args *args, const char *name, const char *value)
{
	if (args->n >= READ_MAXARGS)
		return -1;
	args->a[args->n].name = name;
	args->a[args->n].value = value;
	args->n++;
	return 0;
}

const char *
read_arg(const struct read_args *args, const char *name)
{
	int	i;

	/* The last one wins, as with repeated options. */
	for (i = args->n - 1; i >= 0; i--)
		if (strcmp(args->a[i].name, name) == 0)
			return args->a[i].value;
	return NULL;
}

int
read_arg_int(const struct read_args *args, const char *name, int64_t min,
    int64_t max, int64_t dflt, int64_t *out, struct read_error *err)
{
	const char	*v = read_arg(args, name);
	char		*end;
	long long	 n;

	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < min || n > max) {
		read_fail(err, 400, "%s: '%s' is not a number from %lld to "
		    "%lld", name, v, (long long)min, (long long)max);
		return -1;
	}
	*out = n;
	return 0;
}

int
read_arg_limit(const struct read_args *args, int64_t *out,
    struct read_error *err)
{
	return read_arg_int(args, "limit", 1, READ_LIMIT_MAX,
	    READ_LIMIT_DEFAULT, out, err);
}

int
read_arg_bool(const struct read_args *args, const char *name)
{
	const char	*v = read_arg(args, name);

	return v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "yes") == 0);
}

json_t *
read_ask(struct read_ctx *ctx, const char *name, const struct read_args *args,
    struct read_error *err)
{
	const struct read_question *q;
	const struct read_param *p;
	int	i;

	memset(err, 0, sizeof *err);
	if ((q = read_find(name)) == NULL)
		return read_fail(err, 404, "no question '%s'", name);
	/* utc=1 is every question's. */
	for (i = 0; i < args->n; i++) {
		if (strcmp(args->a[i].name, "utc") == 0)
			continue;
		for (p = q->params; p->name != NULL; p++)
			if (strcmp(p->name, args->a[i].name) == 0)
				break;
		if (p->name == NULL)
			return read_fail(err, 400, "unknown parameter '%s' "
			    "for %s", args->a[i].name, name);
	}
	for (p = q->params; p->name != NULL; p++)
		if (p->required && read_arg(args, p->name) == NULL)
			return read_fail(err, 400, "%s needs parameter '%s'",
			    name, p->name);
	ctx->utc = read_utc(args);
	return q->answer(ctx, args, err);
}

int
read_utc(const struct read_args *args)
{
	return read_arg_bool(args, "utc");
}

const char *
read_col(sqlite3_stmt *stmt, int i)
{
	const unsigned char	*s = sqlite3_column_text(stmt, i);

	return s != NULL ? (const char *)s : "";
}

json_t *
read_col_json(sqlite3_stmt *stmt, int i)
{
	if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
		return json_null();
	return json_string(read_col(stmt, i));
}

json_t *
read_cursor_make(int n, const char *const *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t		 len = 0, o = 0;
	const unsigned char *p;
	char		*out;
	json_t		*v;
	int		 i;

	for (i = 0; i < n; i++)
		len += 2 * strlen(s[i]) + 1;
	out = xmalloc(len + 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			out[o++] = '.';
		for (p = (const unsigned char *)s[i]; *p != '\0'; p++) {
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	v = json_string(out);
	free(out);
	return v;
}

json_t *
read_cursor_int(int64_t v)
{
	char		 buf[32];
	const char	*part = buf;

	snprintf(buf, sizeof buf, "%lld", (long long)v);
	return read_cursor_make(1, &part);
}

static int
read_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
read_cursor_parse(const char *arg, int n, struct read_cursor *cur,
    struct read_error *err)
{
	const char	*p = arg, *end;
	size_t		 len, j;
	int		 hi, lo;

	memset(cur, 0, sizeof *cur);
	if (n < 1 || n > 4)
		goto bad;
	while (cur->n < n) {
		end = strchr(p, '.');
		if (end == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (len % 2 != 0)
			goto bad;
		cur->s[cur->n] = xmalloc(len / 2 + 1);
		for (j = 0; j < len / 2; j++) {
			hi = read_hexval(p[2 * j]);
			lo = read_hexval(p[2 * j + 1]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				cur->n++;
				goto bad;
			}
			cur->s[cur->n][j] = (char)(hi << 4 | lo);
		}
		cur->s[cur->n][len / 2] = '\0';
		cur->i[cur->n] = strtoll(cur->s[cur->n], NULL, 10);
		cur->n++;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	if (cur->n != n || (*end != '\0'))
		goto bad;
	return 0;
bad:
	read_cursor_free(cur);
	read_fail(err, 400, "cursor: '%s' is not a cursor this question "
	    "returned", arg);
	return -1;
}

void
read_cursor_free(struct read_cursor *cur)
{
	int	i;

	for (i = 0; i < cur->n; i++)
		free(cur->s[i]);
	memset(cur, 0, sizeof *cur);
}

/* ------------------------------------------------------------ lazy jobs */

struct read_lazy {
	struct jobset	  js;
	char		**miss;		/* names with no loadable file */
	size_t		  nmiss;
};

struct read_lazy *
read_lazy_new(void)
{
	return xcalloc(1, sizeof (struct read_lazy));
}

void
read_lazy_free(struct read_lazy *lz)
{
	size_t	i;

	if (lz == NULL)
		return;
	jobset_free(&lz->js);
	for (i = 0; i < lz->nmiss; i++)
		free(lz->miss[i]);
	free(lz->miss);
	free(lz);
}

const struct job_def *
read_ctx_job(const struct read_ctx *ctx, const char *name)
{
	struct read_lazy *lz = ctx->lazy;
	struct errlist	 errs = ERRLIST_INIT;
	struct job_def	*job;
	char		*path;
	size_t		 i;

	if (name == NULL)
		return NULL;
	if (ctx->jobs != NULL)
		return jobset_find(ctx->jobs, name);
	if (lz == NULL || ctx->cfg == NULL || ctx->cfg->jobs_dir == NULL)
		return NULL;
	if ((job = jobset_find(&lz->js, name)) != NULL)
		return job;
	for (i = 0; i < lz->nmiss; i++)
		if (strcmp(lz->miss[i], name) == 0)
			return NULL;
	/* A name from the state or the command line is never a path. */
	job = NULL;
	if (*name != '\0' && *name != '.' && strchr(name, '/') == NULL) {
		path = xasprintf("%s/%s.conf", ctx->cfg->jobs_dir, name);
		job = job_load_file(ctx->cfg, path, &errs);
		errlist_free(&errs);
		free(path);
	}
	if (job == NULL || strcmp(job->name, name) != 0) {
		if (job != NULL)
			job_free(job);
		lz->miss = xreallocarray(lz->miss, lz->nmiss + 1,
		    sizeof *lz->miss);
		lz->miss[lz->nmiss++] = xstrdup(name);
		return NULL;
	}
	lz->js.v = xreallocarray(lz->js.v, lz->js.n + 1, sizeof *lz->js.v);
	lz->js.v[lz->js.n++] = job;
	jobset_reindex(&lz->js);
	return job;
}
