/*
 * hostile_fini.c -- test plugin whose fini never returns: a worker retired
 * after its task (worker_max_tasks) must still be killed after
 * kill_grace.  Its extract succeeds.
 */
#include <signal.h>
#include <unistd.h>

#include <meshd/plugin.h>

static meshd_status
fini_extract(meshd_ctx *ctx)
{
	(void)ctx;
	return MESHD_OK;
}

static void
fini_hang(void)
{
	signal(SIGTERM, SIG_IGN);
	for (;;)
		pause();
}

MESHD_PLUGIN(
	.name = "hostile_fini",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: fini hangs",
	.extract = fini_extract,
	.fini = fini_hang,
);
