/* segv.c -- test plugin whose extract writes to an unmapped address
 * (SIGSEGV).  Not NULL itself: UBSan would catch a NULL store first and
 * end the process with exit(1), hiding the crash under test. */
#include <stdint.h>

#include <meshd/plugin.h>

static meshd_status
segv_extract(meshd_ctx *ctx)
{
	volatile uintptr_t	 addr = 16;	/* volatile: no compile-time address */
	volatile int		*p;

	(void)ctx;
	p = (volatile int *)addr;
	*p = 42;
	return MESHD_OK;
}

static const struct meshd_product products[] = {
	{ .name = "test.segv", .description = "crashes the worker" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "segv",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: extract segfaults",
	.products = products,
	.extract = segv_extract,
);
