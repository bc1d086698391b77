/*
 * http-reply.c -- the reply buffer a handler fills (http.h), the token
 * comparison of write requests and the path check: the parts of the
 * server that need no socket (tests/check_http.c tests them alone).
 */
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "http-int.h"
#include "util.h"

void
http_reply_init(struct http_reply *r)
{
	memset(r, 0, sizeof *r);
	r->status = 200;
}

void
http_reply_free(struct http_reply *r)
{
	int	i;

	free(r->body);
	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	memset(r, 0, sizeof *r);
}

void
http_reply_reset(struct http_reply *r)
{
	r->len = 0;
}

/* Room for n more bytes and a NUL (the body is always a C string too). */
static void
reply_grow(struct http_reply *r, size_t n)
{
	size_t	cap;

	if (r->len + n + 1 <= r->cap)
		return;
	cap = r->cap == 0 ? 4096 : r->cap;
	while (cap < r->len + n + 1)
		cap *= 2;
	r->body = xrealloc(r->body, cap);
	r->cap = cap;
}

void
http_reply_add(struct http_reply *r, const void *data, size_t len)
{
	reply_grow(r, len);
	if (len > 0)
		memcpy(r->body + r->len, data, len);
	r->len += len;
	r->body[r->len] = '\0';
}

void
http_reply_vprintf(struct http_reply *r, const char *fmt, va_list ap)
{
	va_list	ap2;
	int	n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n <= 0)
		return;
	reply_grow(r, (size_t)n);
	vsnprintf(r->body + r->len, (size_t)n + 1, fmt, ap);
	r->len += (size_t)n;
}

void
http_reply_printf(struct http_reply *r, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	http_reply_vprintf(r, fmt, ap);
	va_end(ap);
}

void
http_reply_html(struct http_reply *r, const char *text)
{
	const char	*p, *run;

	if (text == NULL)
		return;
	for (run = p = text; *p != '\0'; p++) {
		const char *esc;

		switch (*p) {
		case '&':
			esc = "&amp;";
			break;
		case '<':
			esc = "&lt;";
			break;
		case '>':
			esc = "&gt;";
			break;
		case '"':
			esc = "&quot;";
			break;
		case '\'':
			esc = "&#39;";
			break;
		default:
			continue;
		}
		http_reply_add(r, run, (size_t)(p - run));
		http_reply_add(r, esc, strlen(esc));
		run = p + 1;
	}
	http_reply_add(r, run, (size_t)(p - run));
}

static int
reply_json_cb(const char *buf, size_t len, void *arg)
{
	http_reply_add(arg, buf, len);
	return 0;
}

void
http_reply_json(struct http_reply *r, const json_t *doc)
{
	r->len = 0;
	json_dump_callback(doc, reply_json_cb, r, JSON_COMPACT |
	    JSON_ENCODE_ANY);
	http_reply_add(r, "\n", 1);
	r->content_type = "application/json";
}

void
http_reply_error(struct http_reply *r, int status, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;
	json_t	*doc;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	doc = json_pack("{s:{s:i, s:s}}", "error", "status", status,
	    "message", msg);
	r->status = status;
	http_reply_json(r, doc);
	json_decref(doc);
	free(msg);
}

void
http_reply_header(struct http_reply *r, const char *name, const char *value)
{
	if (r->nheaders >= HTTP_REPLY_MAXHEADERS)
		return;
	r->headers[r->nheaders].name = xstrdup(name);
	r->headers[r->nheaders].value = xstrdup(value);
	r->nheaders++;
}

/*
 * Constant time: every byte of `given` is looked at, whatever matched so
 * far, and the differences are OR-ed together rather than tested; the
 * length is compared the same way, and `want` is read cyclically so that
 * a short or long guess costs the same per byte.  (Its time still grows
 * with the length of what the client sent, which the client knows.)
 */
int
http_token_equal(const char *want, size_t wantlen, const char *given,
    size_t givenlen)
{
	volatile unsigned char	diff;
	size_t			i;

	if (wantlen == 0)
		return 0;
	diff = (unsigned char)(wantlen != givenlen);
	for (i = 0; i < givenlen; i++)
		diff |= (unsigned char)(want[i % wantlen] ^ given[i]);
	return diff == 0;
}

int
http_path_safe(const char *path)
{
	const char	*seg, *p;
	size_t		 n;

	if (path[0] != '/')
		return 0;
	for (p = path; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\' ||
		    *p == '%')
			return 0;
	/* Every segment after a '/': none is "." or "..", none is empty
	 * except the last ("/ui/" is fine, "/ui//x" is not). */
	for (seg = path + 1;; seg += n + 1) {
		n = strcspn(seg, "/");
		if ((n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return 0;
		if (seg[n] == '\0')
			return 1;
		if (n == 0)
			return 0;
	}
}

int
http_host_loopback(const char *host)
{
	char		 name[256];
	const char	*end;
	size_t		 len;
	struct in_addr	 a4;

	if (host == NULL)
		return 1;
	if (host[0] == '[') {
		if ((end = strchr(host, ']')) == NULL)
			return 0;
		len = (size_t)(end - host - 1);
		host++;
		end++;
	} else {
		len = strcspn(host, ":");
		end = host + len;
	}
	if (len == 0 || len >= sizeof name)
		return 0;
	/* Nothing but a port may follow the name. */
	if (*end == ':')
		end += 1 + strspn(end + 1, "0123456789");
	if (*end != '\0')
		return 0;
	memcpy(name, host, len);
	name[len] = '\0';
	if (strcasecmp(name, "localhost") == 0 || strcmp(name, "::1") == 0)
		return 1;
	return inet_pton(AF_INET, name, &a4) == 1 &&
	    (ntohl(a4.s_addr) >> 24) == 127;
}
