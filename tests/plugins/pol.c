/*
 * pol.c -- test plugin for the governance policies (tests/e2e-policies.sh).
 *
 * Domain "pol".  Each product breaks at most one policy, so that a job
 * naming it with `product = ...` breaks exactly that one:
 *   pol.good      owner, contract 1.0, tagged pii, in /srv/secure/: none
 *   pol.plain     owner, contract 2.1, no tags: none
 *   pol.other     the same as pol.plain: none
 *   pol.noowner   no owner of its own            (require_owner)
 *   pol.badver    contract version "v1"          (contract_version)
 *   pol.piiopen   tagged pii, in /tmp/open/      (pii_locations)
 *   pol.piinoloc  tagged pii, no location        (pii_locations)
 *   pol.pii2      tagged pii, in /srv/secure/: none, unless a job file
 *                 moves it elsewhere              (pii_locations)
 * The stages do nothing and succeed.
 */
#include <meshd/plugin.h>

static meshd_status
pol_stage(meshd_ctx *ctx)
{
	meshd_log(ctx, MESHD_LOG_INFO, "pol stage");
	return MESHD_OK;
}

static meshd_status
pol_check(meshd_ctx *ctx)
{
	meshd_check(ctx, "always", MESHD_SEV_ERROR, 1, 1, "== 1");
	return MESHD_OK;
}

static const struct meshd_product products[] = {
	{ .name = "pol.good", .description = "meets every policy",
	  .owner = "pol-team@example.org", .contract_version = "1.0",
	  .tags = "finance, PII", .location = "/srv/secure/good" },
	{ .name = "pol.plain", .description = "meets every policy",
	  .owner = "pol-team@example.org", .contract_version = "2.1",
	  .location = "/srv/open/plain" },
	{ .name = "pol.other", .description = "meets every policy",
	  .owner = "pol-team@example.org", .contract_version = "2.1",
	  .location = "/srv/open/other" },
	{ .name = "pol.noowner", .description = "no owner of its own",
	  .contract_version = "1.0", .location = "/srv/open/noowner" },
	{ .name = "pol.badver", .description = "a contract version off format",
	  .owner = "pol-team@example.org", .contract_version = "v1",
	  .location = "/srv/open/badver" },
	{ .name = "pol.piiopen", .description = "pii in an open place",
	  .owner = "pol-team@example.org", .contract_version = "1.0",
	  .tags = "pii", .location = "/tmp/open/piiopen" },
	{ .name = "pol.piinoloc", .description = "pii, nowhere said",
	  .owner = "pol-team@example.org", .contract_version = "1.0",
	  .tags = "finance,pii" },
	{ .name = "pol.pii2", .description = "pii, kept safe unless moved",
	  .owner = "pol-team@example.org", .contract_version = "1.0",
	  .tags = "pii", .location = "/srv/secure/pii2" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "pol",
	.version = "1.0.0",
	.domain = "pol",
	.owner = "pol-team@example.org",
	.description = "test plugin: products for the policy tests",
	.products = products,
	.extract = pol_stage,
	.check = pol_check,
	.publish = pol_stage,
);
