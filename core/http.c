/*
 * http.c -- the HTTP child's server (http.h): libmicrohttpd set up so that
 * no client can hold up another, and the routing of a request to its
 * handler.
 *
 * One thread per connection (MHD_USE_THREAD_PER_CONNECTION): a client that
 * sends half a request, a long question or a followed log occupies its own
 * thread only.  Connections are bounded in number (HTTP_CONN_MAX) and in
 * idle time (HTTP_CONN_TIMEOUT_S: a client that stops sending is dropped),
 * a request's headers by MHD's per-connection memory, its body by
 * HTTP_BODY_MAX (413, read no further).  State connections come from the
 * child's pool (http-child.c), so a thread never shares one with another.
 * All of it lives in the child: the scheduler has no thread of its own
 * (design decision 11).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "config.h"
#include "http-int.h"
#include "log.h"
#include "util.h"

struct http_server {
	struct MHD_Daemon	*mhd;
};

/* A connection's request in progress. */
struct hreq {
	int	 post;
	int	 refused;	/* a reply was queued before the body */
	int	 too_big;
	char	*body;
	size_t	 len;
};

/* Queue `r` on the connection; the body moves to MHD. */
static enum MHD_Result
send_reply(struct MHD_Connection *conn, struct http_reply *r)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;
	int			 i;

	resp = MHD_create_response_from_buffer(r->len, r->len > 0 ? r->body :
	    (void *)"", r->len > 0 ? MHD_RESPMEM_MUST_FREE :
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	if (r->len > 0)
		r->body = NULL;		/* MHD frees it */
	r->len = r->cap = 0;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    r->content_type != NULL ? r->content_type :
	    "text/html; charset=utf-8");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	for (i = 0; i < r->nheaders; i++)
		MHD_add_response_header(resp, r->headers[i].name,
		    r->headers[i].value);
	ret = MHD_queue_response(conn, (unsigned int)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
send_error(struct MHD_Connection *conn, int status, const char *allow,
    const char *fmt, ...) PRINTFLIKE(4, 5);
static enum MHD_Result
send_error(struct MHD_Connection *conn, int status, const char *allow,
    const char *fmt, ...)
{
	struct http_reply	 r;
	enum MHD_Result		 ret;
	va_list			 ap;
	char			*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	http_reply_init(&r);
	http_reply_error(&r, status, "%s", msg);
	if (allow != NULL)
		http_reply_header(&r, MHD_HTTP_HEADER_ALLOW, allow);
	if (status == 401)
		http_reply_header(&r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer realm=\"meshd\"");
	ret = send_reply(conn, &r);
	http_reply_free(&r);
	free(msg);
	return ret;
}

static enum MHD_Result
send_stream(struct MHD_Connection *conn, struct http_stream *s)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;

	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384,
	    s->read, s->cls, s->free);
	if (resp == NULL) {
		s->free(s->cls);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    s->content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct read_args	*args = cls;

	(void)kind;
	/* "?utc" alone means utc=1, as a flag would. */
	if (read_args_add(args, key, value != NULL ? value : "1") != 0) {
		args->n = READ_MAXARGS + 1;	/* too many: refused below */
		return MHD_NO;
	}
	return MHD_YES;
}

/* GET /metrics and the web UI: they need a context, as questions do. */
static void
serve_page(struct http_request *req, struct http_reply *r, int metrics)
{
	struct http_ctx		c;
	struct read_error	err;

	if (req->post) {
		http_reply_error(r, 405, "%s takes GET or HEAD", req->path);
		http_reply_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
		return;
	}
	memset(&err, 0, sizeof err);
	if (http_ctx_get(&c, 0, &err) != 0) {
		http_reply_error(r, err.status, "%s", err.message);
		return;
	}
	c.rc.utc = read_arg_bool(&req->query, "utc");
	if (metrics)
		metrics_render(http_child_metrics(), &c.rc, r);
	else if (ui_page(&c.rc, req->path, &req->query, r) != 0) {
		http_reply_reset(r);
		http_reply_error(r, 404, "no such page: %s", req->path);
	}
	http_ctx_put(&c);
}

/* Listening on loopback: answer only requests that name it (Host). */
static int	http_loopback_only;

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct hreq		*h = *con_cls;
	struct http_request	 req;
	struct http_reply	 r;
	const char		*cl;
	enum MHD_Result		 ret;
	int64_t			 t0;
	char			 timing[64];
	int			 get;

	(void)cls;
	(void)version;
	if (h == NULL) {
		get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
		h = *con_cls = xcalloc(1, sizeof *h);
		h->post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
		if (!get && !h->post) {
			h->refused = 1;
			return send_error(conn, 405, "GET, HEAD, POST",
			    "method %s is not allowed", method);
		}
		if (!http_path_safe(url)) {
			h->refused = 1;
			return send_error(conn, 400, NULL, "bad path");
		}
		if (http_loopback_only && !http_host_loopback(
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_HOST))) {
			h->refused = 1;
			return send_error(conn, 421, NULL, "this server listens "
			    "on loopback and answers only requests for "
			    "localhost, 127.0.0.1 or [::1]");
		}
		/* Refuse what is too big before reading any of it. */
		if (h->post && (cl = MHD_lookup_connection_value(conn,
		    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH)) !=
		    NULL && strtoull(cl, NULL, 10) > HTTP_BODY_MAX) {
			h->refused = 1;
			return send_error(conn, 413, NULL, "request body over "
			    "%d bytes", HTTP_BODY_MAX);
		}
		/* Nor read anything of a client that may not write. */
		if (h->post) {
			http_reply_init(&r);
			if (http_api_check_post(url,
			    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
			    MHD_HTTP_HEADER_AUTHORIZATION), &r) != 0) {
				h->refused = 1;
				ret = send_reply(conn, &r);
				http_reply_free(&r);
				return ret;
			}
			http_reply_free(&r);
		}
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/* A body past the limit (chunked, so not known before) is
		 * read and dropped, then refused. */
		if (!h->refused && !h->too_big) {
			if (h->len + *upload_size > HTTP_BODY_MAX)
				h->too_big = 1;
			else {
				h->body = xrealloc(h->body, h->len +
				    *upload_size + 1);
				memcpy(h->body + h->len, upload, *upload_size);
				h->len += *upload_size;
				h->body[h->len] = '\0';
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (h->refused)
		return MHD_YES;
	if (h->too_big)
		return send_error(conn, 413, NULL, "request body over %d bytes",
		    HTTP_BODY_MAX);

	memset(&req, 0, sizeof req);
	req.method = method;
	req.post = h->post;
	req.path = url;
	req.body = h->body != NULL ? h->body : "";
	req.body_len = h->len;
	req.authorization = MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	req.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg,
	    &req.query);
	if (req.query.n > READ_MAXARGS)
		return send_error(conn, 400, NULL, "more than %d query "
		    "parameters", READ_MAXARGS);

	t0 = mono_us();
	http_reply_init(&r);
	if (strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0)
		http_api(&req, &r);
	else if (strcmp(url, "/metrics") == 0)
		serve_page(&req, &r, 1);
	else
		serve_page(&req, &r, 0);
	if (req.streaming)
		ret = send_stream(conn, &req.stream);
	else {
		/* What the request cost here, for make bench-http and for
		 * browsers' developer tools. */
		snprintf(timing, sizeof timing, "app;dur=%.3f",
		    (double)(mono_us() - t0) / 1000.0);
		http_reply_header(&r, "Server-Timing", timing);
		ret = send_reply(conn, &r);
	}
	log_debug("http: %s %s: %d", method, url, req.streaming ? 200 :
	    r.status);
	http_reply_free(&r);
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct hreq	*h = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (h != NULL) {
		free(h->body);
		free(h);
		*con_cls = NULL;
	}
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	*msg;

	(void)cls;
	msg = xvasprintf(fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("http: %s", msg);
	free(msg);
}

struct http_server *
http_server_start(const char *listen, char **cause)
{
	struct http_server	*s;
	struct sockaddr_storage	 ss;
	unsigned int		 sslen, flags;

	if (config_http_addr(listen, &ss, &sslen, cause) != 0)
		return NULL;
	flags = MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	http_loopback_only = ss.ss_family == AF_INET ?
	    (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) ==
	    127 : IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
	s = xcalloc(1, sizeof *s);
	s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_CONN_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_CONN_MAX,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_END);
	if (s->mhd == NULL) {
		*cause = xasprintf("cannot listen on %s (address in use, or "
		    "not this host's?)", listen);
		free(s);
		return NULL;
	}
	return s;
}

void
http_server_stop(struct http_server *s)
{
	if (s == NULL)
		return;
	MHD_stop_daemon(s->mhd);
	free(s);
}
