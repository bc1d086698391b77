/*
 * exports.c -- a working plugin that exports more than its entry: a helper
 * function and a table, left at default visibility and linked without the
 * export list the other test plugins get (Makefile.am).  `meshctl plugin
 * info` and `validate` must warn about both, and still accept it.
 */
#include <meshd/plugin.h>

/* Not static, no -fvisibility=hidden: both end up in .dynsym. */
int	exports_helper(int);
extern const int exports_table[3];

const int exports_table[3] = { 1, 2, 3 };

int
exports_helper(int i)
{
	return exports_table[i % 3];
}

static meshd_status
extract(meshd_ctx *ctx)
{
	meshd_metric(ctx, "rows", exports_helper(1));
	return MESHD_OK;
}

MESHD_PLUGIN(
	.name = "exports",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.extract = extract,
);
