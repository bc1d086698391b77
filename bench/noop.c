/*
 * noop.c -- the benchmark's plugin: every stage only touches a marker file,
 * so that what bench-dag measures is meshd's own cost per task (dispatch,
 * isolation, state), compared with make running `touch` for the same DAG.
 *
 * Params: `marker` (string, required) is the file name; `dir` (string)
 * the directory it goes in, by default the run's staging directory (one per
 * partition, which the daily backfill relies on).  The marker is created
 * empty (an existing one is left as it is); nothing else is written and
 * no check, metric or log line is recorded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <meshd/plugin.h>

static meshd_status
noop_touch(meshd_ctx *ctx)
{
	const char	*dir, *name;
	char		 path[4096];
	int		 fd;

	if ((name = meshd_param_string(ctx, "marker", NULL)) == NULL) {
		meshd_set_error(ctx, "no 'marker' param");
		return MESHD_FAILED;
	}
	/* marker = "": a true no-op, for the orchestration's own cost. */
	if (name[0] == '\0')
		return MESHD_OK;
	if ((dir = meshd_param_string(ctx, "dir", NULL)) == NULL &&
	    (dir = meshd_staging_dir(ctx)) == NULL) {
		meshd_set_error(ctx, "no 'dir' param and no staging directory");
		return MESHD_FAILED;
	}
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >=
	    sizeof path) {
		meshd_set_error(ctx, "%s/%s: path too long", dir, name);
		return MESHD_FAILED;
	}
	/* What touch(1) does for a new file: create it, write nothing. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		meshd_set_error(ctx, "%s: %s", path, strerror(errno));
		return MESHD_FAILED;
	}
	close(fd);
	return MESHD_OK;
}

#ifdef NOOP_PRODUCTS
/*
 * noop-product.la: the same plugin declaring data products, for
 * bench-inputs.sh (a task may only name a product its plugin declares).
 * noop itself declares none, so that bench-dag and bench-backfill measure
 * no product bookkeeping.  No freshness SLO: the partitions are years old.
 */
static const struct meshd_product products[] = {
	{ .name = "bench.up", .description = "the upstream benchmark product" },
	{ .name = "bench.down", .description = "read from bench.up" },
	{ .name = NULL }
};
#endif

MESHD_PLUGIN(
#ifdef NOOP_PRODUCTS
	.name = "noop-product",
	.products = products,
#else
	.name = "noop",
#endif
	.version = "1.0.0",
	.domain = "bench",
	.owner = "bench@example.org",
	.description = "benchmark plugin: every stage touches a marker file",
	.extract = noop_touch,
	.check = noop_touch,
	.publish = noop_touch,
);
