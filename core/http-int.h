/*
 * http-int.h -- what the HTTP child's files share (core/http*.c): the
 * request as the server parsed it, the context a handler answers in, and
 * streamed replies.  Not for the ui or metrics: they use http.h.
 */
#ifndef MESHD_HTTP_INT_H
#define MESHD_HTTP_INT_H

#include <sys/types.h>

#include <stdint.h>

#include "http.h"
#include "read.h"

/* Limits: a request body (writes are a few arguments), and time. */
#define HTTP_BODY_MAX		(64 * 1024)
#define HTTP_CONN_TIMEOUT_S	10
#define HTTP_CONN_MAX		256
/* How long a question waits for meshd's write lock before 503. */
#define HTTP_STATE_WAIT_MS	2000

/*
 * A reply produced piece by piece (logs?follow=1): the server calls
 * `read` from the connection's own thread until it returns -1 (end) or
 * -2 (error), then `free`.  read may block for a while (the server runs
 * a thread per connection) but must return within a few seconds so that
 * a client that went away is noticed.
 */
struct http_stream {
	ssize_t		(*read)(void *cls, uint64_t pos, char *buf,
			    size_t max);
	void		(*free)(void *cls);
	void		 *cls;
	const char	 *content_type;
};

/* One request, as the server parsed it; every string is borrowed for the
 * request's life. */
struct http_request {
	const char		*method;
	int			 post;		/* POST (else GET or HEAD) */
	const char		*path;		/* decoded, checked */
	struct read_args	 query;
	const char		*authorization;	/* header or NULL */
	const char		*content_type;	/* header or NULL */
	const char		*body;		/* POST: NUL-terminated */
	size_t			 body_len;
	int			 streaming;	/* `stream` filled: send it */
	struct http_stream	 stream;
};

/*
 * The context of one request: a read_ctx whose cfg, jobs and health are a
 * snapshot of the child's (kept alive until http_ctx_put, even across a
 * reload) and whose state connection is borrowed from the child's pool.
 * rdwr asks for a read-write connection (writes).  0, or -1 with err set
 * (503: the state cannot be opened yet).
 */
struct http_snap;
struct http_ctx {
	struct read_ctx		 rc;
	struct http_snap	*snap;
	int			 rdwr;
};
int	 http_ctx_get(struct http_ctx *, int rdwr, struct read_error *);
void	 http_ctx_put(struct http_ctx *);
/* The child's metrics (metrics_new at start), for /metrics. */
struct metrics *http_child_metrics(void);

/* http-api.c: everything under /api/.  Fills reply, or req->stream. */
void	 http_api(struct http_request *, struct http_reply *);
/*
 * A POST, before its body is read: is `path` a write action and may this
 * client write (Authorization: Bearer with http.token_file's token)?  0,
 * or -1 with the error reply filled (404, 405, 401, 403).
 */
int	 http_api_check_post(const char *path, const char *authorization,
	    struct http_reply *);
/* The token file of the config now served, a new string, or NULL. */
char	*http_child_token_file(void);
/* Is the child stopping (a followed log ends)? */
int	 http_child_stopping(void);
/* http-openapi.c: the OpenAPI 3.1 document of the API, new reference. */
json_t	*http_openapi(void);

/*
 * http.c: serve until *stop becomes non-zero; the caller polls it.  Start
 * listening on `listen` (config_http_addr); -1 with cause if it cannot.
 */
struct http_server;
struct http_server *http_server_start(const char *listen, char **cause);
void	 http_server_stop(struct http_server *);

/* Does the path stay inside the tree: no "." or ".." segment, no "//",
 * backslash or control character?  1 if safe. */
int	 http_path_safe(const char *path);
/*
 * May a request with this Host header be answered by a server listening
 * on a loopback address?  Only if it names loopback ("localhost",
 * "127.0.0.1", "[::1]", with or without a port) or is absent (HTTP/1.0):
 * a web page on another site that had its name re-pointed at 127.0.0.1
 * (DNS rebinding) would otherwise read the API from the victim's browser.
 * 1 if allowed.
 */
int	 http_host_loopback(const char *host);

#endif
