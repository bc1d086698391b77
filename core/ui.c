/*
 * ui.c -- the web UI's entry: ui_page() (http.h) routes a path to its
 * page or asset.  Paths are matched exactly against a table; nothing is
 * ever read from disk.
 */
#include <string.h>

#include "ui-int.h"
#include "util.h"

/* Inline style attributes draw the progress bars; nothing else inline. */
#define UI_CSP	"default-src 'self'; style-src 'self' 'unsafe-inline'; " \
	"img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; " \
	"base-uri 'none'"

static int
ui_asset(struct http_reply *r, const char *type, const char *body)
{
	http_reply_reset(r);
	r->status = 200;
	r->content_type = type;
	http_reply_add(r, body, strlen(body));
	http_reply_header(r, "Cache-Control", "max-age=300");
	return 0;
}

static const struct {
	const char	*path;
	int		(*page)(struct read_ctx *, const struct read_args *,
			    struct http_reply *);
} ui_pages[] = {
	{ "/", ui_home },
	{ "/ui", ui_home },
	{ "/ui/", ui_home },
	{ "/ui/job", ui_job },
	{ "/ui/run", ui_run },
	{ "/ui/catalog", ui_catalog },
	{ "/ui/product", ui_product },
	{ "/ui/backfills", ui_backfills },
};

int
ui_page(struct read_ctx *ctx, const char *path, const struct read_args *q,
    struct http_reply *r)
{
	size_t	i;

	if (strcmp(path, "/ui/static/app.css") == 0)
		return ui_asset(r, "text/css; charset=utf-8", ui_static_css);
	if (strcmp(path, "/ui/static/app.js") == 0)
		return ui_asset(r, "text/javascript; charset=utf-8",
		    ui_static_js);
	for (i = 0; i < nitems(ui_pages); i++)
		if (strcmp(path, ui_pages[i].path) == 0) {
			/* Pages show the state now: never cached.  They run
			 * only the child's own script (an injected one would
			 * not run) and are never framed (no clickjacking of
			 * the action buttons). */
			http_reply_header(r, "Cache-Control", "no-store");
			http_reply_header(r, "Content-Security-Policy",
			    UI_CSP);
			return ui_pages[i].page(ctx, q, r);
		}
	return -1;
}
