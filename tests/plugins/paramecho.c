/*
 * paramecho.c -- test plugin that reports the parameters it sees, so that
 * tests can check what reached it (job file, task, or run parameters from
 * `meshctl trigger --param`).
 *
 * Every stage records the metrics n (param_int "n", default -1), ratio
 * (param_double "ratio", default -1), flag (param_bool "flag", default
 * -1) and has_extra (param_exists "extra"), logs "label=<param_string
 * label>" ("(none)" by default) and succeeds.
 */
#include <meshd/plugin.h>

static meshd_status
paramecho_stage(meshd_ctx *ctx)
{
	meshd_metric(ctx, "n", (double)meshd_param_int(ctx, "n", -1));
	meshd_metric(ctx, "ratio", meshd_param_double(ctx, "ratio", -1));
	meshd_metric(ctx, "flag", meshd_param_bool(ctx, "flag", -1));
	meshd_metric(ctx, "has_extra", meshd_param_exists(ctx, "extra"));
	meshd_log(ctx, MESHD_LOG_INFO, "label=%s",
	    meshd_param_string(ctx, "label", "(none)"));
	return MESHD_OK;
}

MESHD_PLUGIN(
	.name = "paramecho",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: reports the parameters it sees",
	.extract = paramecho_stage,
	.check = paramecho_stage,
	.publish = paramecho_stage,
);
