/*
 * badcheck.c -- test plugin whose quality checks fail.
 *
 * check records a failed error-level "rows_min", a failed warning
 * "null_ratio" and a passing "schema", then returns MESHD_OK: the host must
 * fail the check stage anyway, and never reach publish.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <meshd/plugin.h>

static meshd_status
badcheck_extract(meshd_ctx *ctx)
{
	const char	*dir = meshd_staging_dir(ctx);
	char		 path[4096];
	FILE		*f;

	if (dir == NULL) {
		meshd_set_error(ctx, "no staging directory");
		return MESHD_FAILED;
	}
	snprintf(path, sizeof path, "%s/badcheck.txt", dir);
	if ((f = fopen(path, "w")) == NULL) {
		meshd_set_error(ctx, "%s: %s", path, strerror(errno));
		return MESHD_FAILED;
	}
	fprintf(f, "5 rows\n");
	fclose(f);
	meshd_metric(ctx, "rows", 5);
	return MESHD_OK;
}

static meshd_status
badcheck_check(meshd_ctx *ctx)
{
	meshd_check(ctx, "rows_min", MESHD_SEV_ERROR, 0, 5, ">= 10");
	meshd_check(ctx, "null_ratio", MESHD_SEV_WARN, 0, 0.2, "<= 0.1");
	meshd_check(ctx, "schema", MESHD_SEV_ERROR, 1, 1, "== 1");
	return MESHD_OK;
}

static meshd_status
badcheck_publish(meshd_ctx *ctx)
{
	meshd_log(ctx, MESHD_LOG_ERROR, "badcheck publish reached");
	return MESHD_OK;
}

static const struct meshd_product products[] = {
	{ .name = "test.badcheck", .description = "quarantined" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "badcheck",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: quality checks fail",
	.products = products,
	.extract = badcheck_extract,
	.check = badcheck_check,
	.publish = badcheck_publish,
);
