/*
 * alloc.c -- test plugin whose extract allocates without end, to test the
 * worker's memory limit.
 *
 * It allocates 16 MiB blocks and touches every page, never freeing, until
 * malloc fails (set_error "out of memory after N MiB", MESHD_FAILED) or
 * param max_mb (default 4096) MiB are held (MESHD_OK), so that a run
 * without a memory limit does not eat the machine.  The blocks stay
 * chained from a static pointer, so leak checkers see them as reachable.
 */
#include <stdlib.h>
#include <string.h>

#include <meshd/plugin.h>

#define BLOCK_MB 16

static void	*held;	/* the last block; each block starts with the
			 * address of the one before */

static meshd_status
alloc_extract(meshd_ctx *ctx)
{
	int64_t	 max_mb = meshd_param_int(ctx, "max_mb", 4096);
	int	 mb = 0;
	void	*p;

	while (mb + BLOCK_MB <= max_mb) {
		if ((p = malloc((size_t)BLOCK_MB << 20)) == NULL) {
			meshd_set_error(ctx, "out of memory after %d MiB", mb);
			return MESHD_FAILED;
		}
		memset(p, 0xa5, (size_t)BLOCK_MB << 20);
		memcpy(p, &held, sizeof held);
		held = p;
		mb += BLOCK_MB;
	}
	meshd_log(ctx, MESHD_LOG_INFO, "holding %d MiB", mb);
	return MESHD_OK;
}

static const struct meshd_product products[] = {
	{ .name = "test.alloc", .description = "eats memory" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "alloc",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: extract allocates until refused",
	.products = products,
	.extract = alloc_extract,
);
