/*
 * http-api.c -- the JSON API under /api/v1/ (http.h):
 *
 *	GET  /api/v1/NAME?ARG=VALUE...	read question NAME (read.h): the very
 *					document `meshctl NAME --json` prints
 *	GET  /api/v1/logs?follow=1&...	the logs question again and again, one
 *					document a line, until the log ends
 *	POST /api/v1/ACTION		a write action (act.h): trigger,
 *					backfill, clear, cancel, pause, ...;
 *					Authorization: Bearer TOKEN
 *	GET  /api/v1/openapi.json	the OpenAPI 3.1 document of all this
 *	GET  /api/v1/openlineage/FACET.json
 *					the JSON Schema of one of meshd's
 *					OpenLineage facets (lineage.h)
 *
 * Errors are {"error": {"status": N, "message": "..."}} with the read
 * layer's statuses (400, 404, 409, 503) and the API's own: 401 no token,
 * 403 wrong token or writes disabled, 405 wrong method, 413 body too big.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "act.h"
#include "config.h"
#include "http-int.h"
#include "lineage.h"
#include "read.h"
#include "util.h"


#define API_PREFIX	"/api/v1/"

/* The write actions, by name. */
static int
api_is_action(const char *name)
{
	return act_find(name) != NULL;
}

int
http_api_check_post(const char *path, const char *authorization,
    struct http_reply *r)
{
	const char	*name, *given;
	char		*file, *want, *cause = NULL;
	int		 ok;

	if (strncmp(path, API_PREFIX, strlen(API_PREFIX)) != 0) {
		http_reply_error(r, 405, "%s takes GET or HEAD", path);
		http_reply_header(r, "Allow", "GET, HEAD");
		return -1;
	}
	name = path + strlen(API_PREFIX);
	if (!api_is_action(name)) {
		if (read_find(name) != NULL || strcmp(name, "openapi.json") ==
		    0) {
			http_reply_error(r, 405, "%s is a question: GET it",
			    name);
			http_reply_header(r, "Allow", "GET, HEAD");
		} else
			http_reply_error(r, 404, "no such action '%s'", name);
		return -1;
	}
	if ((file = http_child_token_file()) == NULL) {
		http_reply_error(r, 403, "writes are disabled: no "
		    "http.token_file");
		return -1;
	}
	if (authorization == NULL || strncasecmp(authorization, "Bearer ",
	    7) != 0) {
		free(file);
		http_reply_error(r, 401, "%s needs Authorization: Bearer "
		    "TOKEN (the token of http.token_file)", name);
		http_reply_header(r, "WWW-Authenticate",
		    "Bearer realm=\"meshd\"");
		return -1;
	}
	/* Read at each write: a new token takes effect at once. */
	if ((want = config_http_token(file, &cause)) == NULL) {
		free(file);
		http_reply_error(r, 503, "%s", cause);
		free(cause);
		return -1;
	}
	free(file);
	given = authorization + 7;
	while (*given == ' ')
		given++;
	ok = http_token_equal(want, strlen(want), given, strlen(given));
	explicit_bzero(want, strlen(want));
	free(want);
	if (!ok) {
		http_reply_error(r, 403, "wrong token for %s", name);
		return -1;
	}
	return 0;
}

/* Strings made for a request's arguments, freed with it. */
struct api_strs {
	char	**v;
	size_t	  n;
};

static const char *
strs_keep(struct api_strs *s, char *str)
{
	s->v = xreallocarray(s->v, s->n + 1, sizeof *s->v);
	s->v[s->n++] = str;
	return str;
}

static void
strs_free(struct api_strs *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

/* A JSON scalar as an argument's text; NULL if it is not one. */
static char *
json_arg(const json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return xasprintf("%.17g", json_real_value(v));
	if (json_is_true(v))
		return xstrdup("1");
	if (json_is_false(v))
		return xstrdup("0");
	return NULL;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* application/x-www-form-urlencoded text, decoded in place. */
static char *
form_decode(char *s)
{
	char	*in, *out;

	for (in = out = s; *in != '\0'; in++) {
		if (*in == '+')
			*out++ = ' ';
		else if (*in == '%' && hexval(in[1]) >= 0 &&
		    hexval(in[2]) >= 0) {
			*out++ = (char)(hexval(in[1]) * 16 + hexval(in[2]));
			in += 2;
		} else
			*out++ = *in;
	}
	*out = '\0';
	return s;
}

/*
 * A write's body into arguments: a JSON object of strings, numbers,
 * booleans or arrays of them (a repeated argument: param), or form fields.
 * 0, or -1 with a 400 error.
 */
static int
api_body_args(const struct http_request *req, struct read_args *args,
    struct api_strs *strs, struct read_error *err)
{
	json_t		*doc = NULL, *v, *e;
	json_error_t	 jerr;
	const char	*k = "", *p;
	char		*copy, *field, *save = NULL, *eq, *text;
	size_t		 i;
	int		 json;

	for (p = req->body; *p == ' ' || *p == '\t' || *p == '\r' ||
	    *p == '\n'; p++)
		;
	if (*p == '\0')
		return 0;
	if (memchr(req->body, '\0', req->body_len) != NULL) {
		read_fail(err, 400, "the body holds a NUL byte");
		return -1;
	}
	json = *p == '{' || (req->content_type != NULL && strncasecmp(
	    req->content_type, "application/json", 16) == 0);
	if (!json) {
		copy = (char *)strs_keep(strs, xstrdup(req->body));
		for (field = strtok_r(copy, "&", &save); field != NULL;
		    field = strtok_r(NULL, "&", &save)) {
			if ((eq = strchr(field, '=')) != NULL)
				*eq++ = '\0';
			if (read_args_add(args, form_decode(field), eq != NULL ?
			    form_decode(eq) : "1") != 0)
				goto full;
		}
		return 0;
	}
	if ((doc = json_loadb(req->body, req->body_len, 0, &jerr)) == NULL ||
	    !json_is_object(doc)) {
		read_fail(err, 400, "the body must be a JSON object of "
		    "arguments%s%s", doc == NULL ? ": " : "", doc == NULL ?
		    jerr.text : "");
		json_decref(doc);
		return -1;
	}
	json_object_foreach(doc, k, v) {
		if (json_is_array(v)) {
			json_array_foreach(v, i, e) {
				if ((text = json_arg(e)) == NULL)
					goto bad;
				if (read_args_add(args, strs_keep(strs,
				    xstrdup(k)), strs_keep(strs, text)) != 0)
					goto full;
			}
			continue;
		}
		if ((text = json_arg(v)) == NULL)
			goto bad;
		if (read_args_add(args, strs_keep(strs, xstrdup(k)),
		    strs_keep(strs, text)) != 0)
			goto full;
	}
	json_decref(doc);
	return 0;
bad:
	read_fail(err, 400, "argument '%s' must be a string, number, boolean "
	    "or an array of them", k);
	json_decref(doc);
	return -1;
full:
	json_decref(doc);
	read_fail(err, 400, "more than %d arguments", READ_MAXARGS);
	return -1;
}

static void
api_fail(struct http_reply *r, const struct read_error *err)
{
	http_reply_error(r, err->status != 0 ? err->status : 500, "%s",
	    err->message[0] != '\0' ? err->message : "failed");
}

static void
api_write(struct http_request *req, const char *name, struct http_reply *r)
{
	struct read_args	 args = req->query;
	struct read_error	 err;
	struct api_strs		 strs = { NULL, 0 };
	struct http_ctx		 c;
	json_t			*doc;

	memset(&err, 0, sizeof err);
	if (api_body_args(req, &args, &strs, &err) != 0) {
		api_fail(r, &err);
		strs_free(&strs);
		return;
	}
	if (http_ctx_get(&c, 1, &err) != 0) {
		api_fail(r, &err);
		strs_free(&strs);
		return;
	}
	if ((doc = act_do(&c.rc, name, &args, &err)) == NULL)
		api_fail(r, &err);
	else {
		http_reply_json(r, doc);
		json_decref(doc);
	}
	http_ctx_put(&c);
	strs_free(&strs);
}

/* A followed log: the logs question asked again from the offset it last
 * reached, one document a line. */
struct follow {
	struct read_args	 args;
	struct api_strs		 strs;
	char			*offset;
	char			*pending;
	size_t			 plen, ppos;
	int			 ended;
};

static void
follow_free(void *cls)
{
	struct follow	*f = cls;

	strs_free(&f->strs);
	free(f->offset);
	free(f->pending);
	free(f);
}

/* Ask once; a line to send if there is news (or `anyway`), else NULL. */
static char *
follow_ask(struct follow *f, int anyway)
{
	struct http_ctx		 c;
	struct read_error	 err;
	struct read_args	 args = f->args;
	json_t			*doc, *e;
	const char		*text;
	char			*line;
	int			 done;

	memset(&err, 0, sizeof err);
	if (f->offset != NULL)
		read_args_add(&args, "offset", f->offset);
	if (http_ctx_get(&c, 0, &err) != 0)
		doc = NULL;
	else {
		doc = read_ask(&c.rc, "logs", &args, &err);
		http_ctx_put(&c);
	}
	if (doc == NULL) {
		e = json_pack("{s:{s:i, s:s}}", "error", "status", err.status,
		    "message", err.message);
		line = json_dumps(e, JSON_COMPACT);
		json_decref(e);
		f->ended = 1;
		return line;
	}
	text = json_string_value(json_object_get(doc, "text"));
	done = json_is_true(json_object_get(doc, "done"));
	if (json_is_integer(json_object_get(doc, "next_offset"))) {
		free(f->offset);
		f->offset = xasprintf("%lld", (long long)json_integer_value(
		    json_object_get(doc, "next_offset")));
	}
	line = NULL;
	if (anyway || done || (text != NULL && *text != '\0'))
		line = json_dumps(doc, JSON_COMPACT);
	if (done)
		f->ended = 1;
	json_decref(doc);
	return line;
}

/* The stream's reader: blocks (its connection's own thread) until there
 * is news, or sends the unchanged document every 5 s so that a client
 * that went away is noticed. */
static ssize_t
follow_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct follow	*f = cls;
	struct timespec	 ts = { 0, 250 * 1000 * 1000 };
	char		*line;
	size_t		 n;
	int		 i;

	(void)pos;
	while (f->ppos >= f->plen) {
		if (f->ended || http_child_stopping())
			return -1;	/* MHD_CONTENT_READER_END_OF_STREAM */
		for (i = 0, line = NULL; line == NULL && !f->ended; i++) {
			if (http_child_stopping())
				return -1;
			if ((line = follow_ask(f, i >= 20)) == NULL)
				nanosleep(&ts, NULL);
		}
		free(f->pending);
		f->pending = xasprintf("%s\n", line != NULL ? line : "");
		free(line);
		f->plen = strlen(f->pending);
		f->ppos = 0;
	}
	n = f->plen - f->ppos < max ? f->plen - f->ppos : max;
	memcpy(buf, f->pending + f->ppos, n);
	f->ppos += n;
	return (ssize_t)n;
}

static void
api_follow(struct http_request *req, struct http_reply *r)
{
	struct follow	*f;
	int		 i;

	f = xcalloc(1, sizeof *f);
	for (i = 0; i < req->query.n; i++) {
		const char *k = req->query.a[i].name;

		if (strcmp(k, "follow") == 0)
			continue;
		if (strcmp(k, "offset") == 0) {
			free(f->offset);
			f->offset = xstrdup(req->query.a[i].value);
			continue;
		}
		/* Copies: the stream outlives the request's strings. */
		read_args_add(&f->args, strs_keep(&f->strs, xstrdup(k)),
		    strs_keep(&f->strs, xstrdup(req->query.a[i].value)));
	}
	/* The first document now, so that errors (no such job) come back
	 * with their status rather than inside a 200 stream. */
	{
		struct http_ctx		 c;
		struct read_error	 err;
		struct read_args	 args = f->args;
		json_t			*doc;

		memset(&err, 0, sizeof err);
		if (f->offset != NULL)
			read_args_add(&args, "offset", f->offset);
		if (http_ctx_get(&c, 0, &err) != 0) {
			api_fail(r, &err);
			follow_free(f);
			return;
		}
		doc = read_ask(&c.rc, "logs", &args, &err);
		http_ctx_put(&c);
		if (doc == NULL) {
			api_fail(r, &err);
			follow_free(f);
			return;
		}
		json_decref(doc);
	}
	req->streaming = 1;
	req->stream.read = follow_read;
	req->stream.free = follow_free;
	req->stream.cls = f;
	req->stream.content_type = "application/x-ndjson";
}

static void
api_read(struct http_request *req, const char *name, struct http_reply *r)
{
	struct http_ctx		 c;
	struct read_error	 err;
	json_t			*doc;

	memset(&err, 0, sizeof err);
	if (strcmp(name, "logs") == 0 && read_arg_bool(&req->query,
	    "follow")) {
		api_follow(req, r);
		return;
	}
	if (http_ctx_get(&c, 0, &err) != 0) {
		api_fail(r, &err);
		return;
	}
	if ((doc = read_ask(&c.rc, name, &req->query, &err)) == NULL)
		api_fail(r, &err);
	else {
		http_reply_json(r, doc);
		json_decref(doc);
	}
	http_ctx_put(&c);
	http_reply_header(r, "Cache-Control", "no-store");
}

void
http_api(struct http_request *req, struct http_reply *r)
{
	const char	*name;
	json_t		*doc;

	if (strncmp(req->path, API_PREFIX, strlen(API_PREFIX)) != 0 ||
	    req->path[strlen(API_PREFIX)] == '\0') {
		http_reply_error(r, 404, "no such API: %s (the API is at "
		    API_PREFIX ", described by " API_PREFIX "openapi.json)",
		    req->path);
		return;
	}
	name = req->path + strlen(API_PREFIX);
	if (req->post) {
		/* http_api_check_post() has let it through: an action. */
		api_write(req, name, r);
		return;
	}
	if (strcmp(name, "openapi.json") == 0) {
		doc = http_openapi();
		http_reply_json(r, doc);
		json_decref(doc);
		return;
	}
	if (strncmp(name, "openlineage/", 12) == 0) {
		const struct lineage_schema *ls;

		if ((ls = lineage_schema_find(name + 12)) == NULL ||
		    strchr(name + 12, '/') != NULL) {
			http_reply_error(r, 404, "no such OpenLineage facet "
			    "schema: %s", name + 12);
			return;
		}
		http_reply_add(r, ls->text, strlen(ls->text));
		r->content_type = "application/schema+json";
		return;
	}
	if (read_find(name) != NULL) {
		api_read(req, name, r);
		return;
	}
	if (api_is_action(name)) {
		http_reply_error(r, 405, "%s is an action: POST it", name);
		http_reply_header(r, "Allow", "POST");
		return;
	}
	http_reply_error(r, 404, "no such question '%s' (see " API_PREFIX
	    "openapi.json)", name);
}
