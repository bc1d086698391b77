/*
 * http.h -- the HTTP child (`meshd --http CONFIG`, design decision 11):
 * the JSON API at /api/v1/..., the web UI and /metrics, served with
 * libmicrohttpd from a process of its own so that a slow client, a load
 * spike or a crash here never stalls or kills the scheduler.
 *
 * The server (core/http.c) parses the request, refuses what is too big
 * or malformed, and hands every GET to one of three kinds of handler:
 *
 *	/api/v1/...	core/http-api.c (read questions, write actions,
 *			openapi.json)
 *	/metrics	metrics_render() (core/metrics*.c)
 *	anything else	ui_page() (core/ui*.c): "/", "/ui/...", assets
 *
 * A handler fills a struct http_reply; the server sends it.  Handlers run
 * on one of the server's threads with a read_ctx of their own (its state
 * connection belongs to that thread), so they need no locking for the
 * state; anything else they share across requests (like struct metrics)
 * must be safe to use from several threads at once, or say otherwise.
 *
 * Since 0.6.0.
 */
#ifndef MESHD_HTTP_H
#define MESHD_HTTP_H

#include <stdarg.h>
#include <stddef.h>

#include <jansson.h>

struct read_ctx;
struct read_args;
struct meshd_config;

/*
 * The answer to one request, built by a handler.  status defaults to 200
 * and content_type to NULL, which the server sends as
 * "text/html; charset=utf-8"; set both for anything else (the http_reply_json
 * helper does).  body grows as needed (the server owns and frees it);
 * len bytes of it are sent.  Extra headers (Location, Cache-Control)
 * go through http_reply_header().
 */
#define HTTP_REPLY_MAXHEADERS	8
struct http_reply {
	int		 status;
	const char	*content_type;	/* borrowed: a string literal */
	char		*body;
	size_t		 len, cap;
	int		 nheaders;	/* extra headers, name/value owned */
	struct {
		char	*name;
		char	*value;
	} headers[HTTP_REPLY_MAXHEADERS];
};

/* A reply with status 200, no type, an empty body. */
void	 http_reply_init(struct http_reply *);
/* Free its body and headers (the struct itself is the caller's). */
void	 http_reply_free(struct http_reply *);
/* Forget the body (keeps the buffer), for a handler that starts over. */
void	 http_reply_reset(struct http_reply *);
/* Append len bytes. */
void	 http_reply_add(struct http_reply *, const void *data, size_t len);
/* Append formatted text (not escaped: for markup you write yourself). */
void	 http_reply_printf(struct http_reply *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 http_reply_vprintf(struct http_reply *, const char *fmt, va_list);
/* Append text HTML-escaped (& < > " '), for anything that came from the
 * state, a job file or the request. NULL appends nothing. */
void	 http_reply_html(struct http_reply *, const char *text);
/* Replace the body with the JSON text of doc (borrowed, not stolen) and
 * set content_type to application/json; status is kept. */
void	 http_reply_json(struct http_reply *, const json_t *doc);
/* Replace the body with {"error": {"status": N, "message": "..."}},
 * status N, application/json. */
void	 http_reply_error(struct http_reply *, int status, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
/* Add a response header (both copied), e.g. "Cache-Control", or
 * "Location" with status 303.  Ignored past HTTP_REPLY_MAXHEADERS. */
void	 http_reply_header(struct http_reply *, const char *name,
	    const char *value);

/*
 * The web UI (helper "ui", core/ui*.c).  Called for every GET or HEAD
 * whose path is neither under /api/ nor /metrics.  path is the decoded
 * URL path without the query ("/", "/ui/job/flights_daily", ...); the
 * server has already refused paths with "..", "//", NUL or backslash
 * segments and encoded slashes, so ui_page never needs to check for
 * traversal, but it must never map a path to a file name anyway (serve
 * assets from memory).  query holds the query string's parameters.
 * Returns 0 if it filled `reply` (any status), -1 if the path is not its
 * (the server answers 404).
 */
int	 ui_page(struct read_ctx *, const char *path,
	    const struct read_args *query, struct http_reply *reply);

/*
 * /metrics (helper "metrics", core/metrics*.c).  The HTTP child makes one
 * struct metrics at start (metrics_new) and frees it at exit; it calls
 * metrics_render() for every GET /metrics, possibly from several threads
 * at once (guard any state kept between scrapes with a mutex).
 * metrics_render fills reply with the Prometheus text exposition (it sets
 * content_type "text/plain; version=0.0.4; charset=utf-8") and returns 0,
 * or returns -1 after setting an error reply (e.g. 503 when the state is
 * unreadable).
 */
struct metrics;
struct metrics	*metrics_new(void);
void		 metrics_free(struct metrics *);
int		 metrics_render(struct metrics *, struct read_ctx *,
		    struct http_reply *);

/*
 * The write token: is `given` (len bytes, from "Authorization: Bearer
 * ...") equal to `want`?  Takes the same time for every `given` of the
 * same length whatever its content, and its time does not depend on
 * where the first difference lies.  1 if equal, 0 if not.
 */
int	 http_token_equal(const char *want, size_t wantlen, const char *given,
	    size_t givenlen);

/* meshd's hidden first argument for the child (meshd-http.c). */
#define HTTP_CHILD_ARG	"--http"

/*
 * The HTTP child's main: `meshd --http LOGFLAGS CONFIG STATE_DB`, argv
 * after "--http".  Never returns
 * normally; exits 0 when the daemon closes the kick pipe, non-zero on a
 * failure to start (the daemon logs it and retries with backoff).
 */
int	 http_main(int argc, char **argv);

#endif
