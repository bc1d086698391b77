/*
 * http-hooks.c -- TEMPORARY stand-ins for the hooks of http.h that other
 * parts implement (ui_page: core/ui*.c; metrics_*: core/metrics*.c), so
 * that the HTTP child links before they land.  Weak: the real ones win.
 * Delete this file (and its line in Makefile.am) when they are merged.
 */
#include <stdlib.h>

#include "http.h"

struct metrics {
	int	unused;
};

__attribute__((weak)) int
ui_page(struct read_ctx *ctx, const char *path, const struct read_args *q,
    struct http_reply *r)
{
	(void)ctx;
	(void)q;
	(void)r;
	(void)path;
	return -1;
}

__attribute__((weak)) struct metrics *
metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

__attribute__((weak)) void
metrics_free(struct metrics *m)
{
	free(m);
}

__attribute__((weak)) int
metrics_render(struct metrics *m, struct read_ctx *ctx, struct http_reply *r)
{
	(void)m;
	(void)ctx;
	http_reply_error(r, 503, "metrics are not built into this meshd");
	return -1;
}
