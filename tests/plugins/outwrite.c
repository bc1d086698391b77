/*
 * outwrite.c -- test plugin of a careless tenant: every stage appends a
 * line to its product's output location (meshd_output_location()), the
 * place only a publish should write.  `meshctl test` must point that
 * location into its scratch directory, so that the real destination is
 * never written by a test.  The check stage also records a passing check
 * "wrote", so that the check stage succeeds.
 */
#include <stdio.h>

#include <meshd/plugin.h>

static meshd_status
outwrite_stage(meshd_ctx *ctx, const char *stage)
{
	const char	*loc = meshd_output_location(ctx, NULL);
	FILE		*f;

	if (loc == NULL) {
		meshd_set_error(ctx, "no output location");
		return MESHD_FAILED;
	}
	if ((f = fopen(loc, "a")) == NULL) {
		meshd_set_error(ctx, "%s: cannot open", loc);
		return MESHD_FAILED;
	}
	fprintf(f, "%s %s\n", stage, meshd_partition_key(ctx));
	fclose(f);
	meshd_log(ctx, MESHD_LOG_INFO, "wrote to %s", loc);
	return MESHD_OK;
}

static meshd_status
outwrite_extract(meshd_ctx *ctx)
{
	return outwrite_stage(ctx, "extract");
}

static meshd_status
outwrite_check(meshd_ctx *ctx)
{
	meshd_check(ctx, "wrote", MESHD_SEV_ERROR, 1, 1, "== 1");
	return outwrite_stage(ctx, "check");
}

static meshd_status
outwrite_publish(meshd_ctx *ctx)
{
	return outwrite_stage(ctx, "publish");
}

static const struct meshd_product products[] = {
	{ .name = "test.outwrite", .description = "written by every stage",
	  .location = "/nonexistent/outwrite.txt" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "outwrite",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: every stage writes its output location",
	.products = products,
	.extract = outwrite_extract,
	.check = outwrite_check,
	.publish = outwrite_publish,
);
