/*
 * manychecks.c -- test plugin whose check stage records many failed
 * error-level checks (param n, default 100), each with a long
 * expectation, so that the quarantine alert outgrows alert_max_bytes.
 */
#include <stdio.h>

#include <meshd/plugin.h>

static meshd_status
manychecks_ok(meshd_ctx *ctx)
{
	(void)ctx;
	return MESHD_OK;
}

static meshd_status
manychecks_check(meshd_ctx *ctx)
{
	int64_t	n = meshd_param_int(ctx, "n", 100), i;
	char	name[32], exp[128];

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "check_%03d", (int)i);
		snprintf(exp, sizeof exp, ">= %d rows in the partition, as "
		    "the data contract of test.many says", (int)i + 1);
		meshd_check(ctx, name, MESHD_SEV_ERROR, 0, (double)i, exp);
	}
	return MESHD_OK;
}

static const struct meshd_product products[] = {
	{ .name = "test.many", .description = "quarantined by many checks" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "manychecks",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: check records n failed checks",
	.products = products,
	.extract = manychecks_ok,
	.check = manychecks_check,
	.publish = manychecks_ok,
);
