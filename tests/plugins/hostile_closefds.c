/*
 * hostile_closefds.c -- test plugin that closes every descriptor it has,
 * the worker's socket included, then returns MESHD_OK.  The worker cannot
 * report it: the attempt fails with "worker closed its connection".
 */
#include <unistd.h>

#include <meshd/plugin.h>

static meshd_status
closefds_extract(meshd_ctx *ctx)
{
	int	fd;

	(void)ctx;
	for (fd = 0; fd < 1024; fd++)
		close(fd);
	return MESHD_OK;
}

MESHD_PLUGIN(
	.name = "hostile_closefds",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: closes every descriptor",
	.extract = closefds_extract,
);
