/*
 * badseverity.c -- test plugin whose check records a result with a
 * severity that is neither MESHD_SEV_ERROR nor MESHD_SEV_WARN.  The host
 * must fail the attempt, naming the check and the severity, even though
 * the check passed and the stage returns MESHD_OK.
 */
#include <meshd/plugin.h>

static meshd_status
badseverity_stage(meshd_ctx *ctx)
{
	meshd_log(ctx, MESHD_LOG_INFO, "badseverity stage");
	return MESHD_OK;
}

static meshd_status
badseverity_check(meshd_ctx *ctx)
{
	int	rc;

	rc = meshd_check(ctx, "rows_min", (meshd_severity)7, 1, 10, ">= 1");
	meshd_log(ctx, MESHD_LOG_INFO, "check_result returned %d", rc);
	return MESHD_OK;
}

static meshd_status
badseverity_publish(meshd_ctx *ctx)
{
	meshd_log(ctx, MESHD_LOG_ERROR, "badseverity publish reached");
	return MESHD_OK;
}

static const struct meshd_product products[] = {
	{ .name = "test.badseverity", .description = "never published" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "badseverity",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: a check result of unknown severity",
	.products = products,
	.extract = badseverity_stage,
	.check = badseverity_check,
	.publish = badseverity_publish,
);
