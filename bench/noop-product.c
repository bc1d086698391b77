/*
 * noop-product.c -- bench/noop.c with data products: bench-inputs.sh needs
 * a job that publishes a product and one that reads it, and a task may
 * only name a product its plugin declares.  noop itself declares none, so
 * that bench-dag and bench-backfill measure no product bookkeeping.
 *
 * Every stage touches the marker file `marker` (param, required) in the
 * run's staging directory, as noop does; nothing else is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <meshd/plugin.h>

static meshd_status
noop_product_touch(meshd_ctx *ctx)
{
	const char	*dir, *name;
	char		 path[4096];
	int		 fd;

	if ((name = meshd_param_string(ctx, "marker", NULL)) == NULL) {
		meshd_set_error(ctx, "no 'marker' param");
		return MESHD_FAILED;
	}
	if ((dir = meshd_staging_dir(ctx)) == NULL) {
		meshd_set_error(ctx, "no staging directory");
		return MESHD_FAILED;
	}
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >=
	    sizeof path) {
		meshd_set_error(ctx, "%s/%s: path too long", dir, name);
		return MESHD_FAILED;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		meshd_set_error(ctx, "%s: %s", path, strerror(errno));
		return MESHD_FAILED;
	}
	close(fd);
	return MESHD_OK;
}

/* No freshness SLO: the benchmark's partitions are years old. */
static const struct meshd_product products[] = {
	{ .name = "bench.up", .description = "the upstream benchmark product" },
	{ .name = "bench.down", .description = "read from bench.up" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "noop-product",
	.version = "1.0.0",
	.domain = "bench",
	.owner = "bench@example.org",
	.description = "benchmark plugin: noop that declares bench.up and "
	    "bench.down",
	.products = products,
	.extract = noop_product_touch,
	.check = noop_product_touch,
	.publish = noop_product_touch,
);
