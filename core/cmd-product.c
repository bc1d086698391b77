/*
 * cmd-product.c -- meshctl product: one data product's card (description,
 * owner, contract, tags, location, freshness SLO), its partitions a page
 * at a time, newest first, and the checks of its newest build.  The read
 * layer's question `product` (read-product.c) answers; this file only
 * renders.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "read.h"

static int	cmd_product_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_product_entry = {
	.name = "product",
	.args = "NAME [--state S] [--limit N] [--cursor C] [--json]",
	.summary = "one data product: its card, partitions and checks",
	.help =
	"The product's description, domain, owner, contract version, tags,\n"
	"location, the plugin and job building it, and its freshness SLO with\n"
	"the number of partitions that missed it.  Then its partitions, newest\n"
	"first: state, when published, rows, version, when it was due and\n"
	"whether it was late.  Then the checks recorded by the newest build\n"
	"shown (severity, passed, observed vs expected).  A published partition\n"
	"whose rerun failed its checks stays published (the rerun never\n"
	"published); the rerun is shown beside it as \"rerun quarantined (run\n"
	"N)\".\n"
	"\n"
	"  -s, --state S   only partitions in state S (missing, building,\n"
	"                  published, quarantined, stale)\n"
	"  -n, --limit N   at most N partitions (default 50, at most 10000); a\n"
	"                  last line gives the --cursor of the next page\n"
	"      --cursor C  the page after the one that printed C\n"
	"      --json      the document of GET /api/v1/product?product=NAME:\n"
	"                  the card, {partitions, next_cursor, checks}\n"
	"\n"
	"Exit status: 0 shown; 2 unknown product or bad usage; 3 the state\n"
	"cannot be read.\n",
	.exec = cmd_product_exec,
};

static const char *
product_freshness(const json_t *p, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	if (json_is_true(json_object_get(p, "late")))
		return "LATE";
	if (json_is_integer(json_object_get(p, "due_us")))
		return "on time";
	/* Marked by the verb when the product has an SLO. */
	if (json_object_get(p, "_slo") != NULL)
		return "not yet due";
	return "-";
}

static const char *
product_note(const json_t *p, char *buf, size_t len)
{
	const json_t	*rerun = json_object_get(p, "rerun");

	if (!json_is_object(rerun))
		return "";
	snprintf(buf, len, "rerun quarantined (run %lld)", (long long)
	    json_integer_value(json_object_get(rerun, "run_id")));
	return buf;
}

static const struct ctl_column product_columns[] = {
	{ "PARTITION", "partition", 0, NULL },
	{ "STATE", "state", CTL_COL_STATE, NULL },
	{ "PUBLISHED", "published_local", 0, NULL },
	{ "ROWS", "rows", CTL_COL_RIGHT, NULL },
	{ "VER", "version", CTL_COL_RIGHT, NULL },
	{ "DUE", "due_local", 0, NULL },
	{ "FRESHNESS", "late", 0, product_freshness },
	{ "NOTE", "rerun", 0, product_note },
	{ NULL, NULL, 0, NULL }
};

static const char *
product_str(const json_t *doc, const char *key)
{
	const char	*s = json_string_value(json_object_get(doc, key));

	return s != NULL ? s : "-";
}

static void
product_card(const json_t *doc)
{
	json_int_t	slo = json_integer_value(json_object_get(doc,
			    "freshness_s"));

	printf("product:     %s\n", product_str(doc, "product"));
	if (json_is_string(json_object_get(doc, "description")))
		printf("description: %s\n", product_str(doc, "description"));
	printf("domain:      %s\n", product_str(doc, "domain"));
	printf("owner:       %s\n", product_str(doc, "owner"));
	printf("contract:    %s\n", product_str(doc, "contract_version"));
	printf("tags:        %s\n", product_str(doc, "tags"));
	printf("location:    %s\n", product_str(doc, "location"));
	printf("built by:    plugin %s, job %s\n", product_str(doc, "plugin"),
	    product_str(doc, "job"));
	if (slo > 0)
		printf("freshness:   each partition published within %llds of "
		    "its interval end; %lld late so far\n", (long long)slo,
		    (long long)json_integer_value(json_object_get(doc,
		    "late_count")));
	else
		printf("freshness:   no SLO\n");
}

/* The checks of a build, indented under a heading (also `checks`). */
static void
product_checks(struct ctl *ctl, const json_t *checks)
{
	const json_t	*ck;
	char		 obs[32];
	size_t		 i;
	int		 passed, err;

	if (json_array_size(checks) == 0) {
		printf("  (no check recorded)\n");
		return;
	}
	printf("  %-14s %-24s %-6s %-6s %12s  %s\n", "TASK", "CHECK", "LEVEL",
	    "RESULT", "OBSERVED", "EXPECTED");
	json_array_foreach(checks, i, ck) {
		passed = json_is_true(json_object_get(ck, "passed"));
		err = strcmp(product_str(ck, "severity"), "error") == 0;
		if (json_is_number(json_object_get(ck, "observed")))
			snprintf(obs, sizeof obs, "%g", json_number_value(
			    json_object_get(ck, "observed")));
		else
			snprintf(obs, sizeof obs, "-");
		printf("  %-14s %-24s %-6s %s%-6s%s %12s  %s\n",
		    product_str(ck, "task"), product_str(ck, "check"),
		    product_str(ck, "severity"), ctl_color_on(ctl, passed ?
		    "success" : err ? "failed" : "running"), passed ?
		    "passed" : "FAILED", ctl_color_off(ctl), obs,
		    product_str(ck, "expected"));
	}
}

static int
cmd_product_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args = { 0 };
	const char	*state = NULL;
	json_t		*doc, *parts, *p;
	size_t		 i;
	int		 c, json = 0, rc;
	static const struct option longopts[] = {
		/* The list options this question takes (no --since). */
		{ "json", no_argument, NULL, CTL_OPT_JSON },
		{ "limit", required_argument, NULL, CTL_OPT_LIMIT },
		{ "cursor", required_argument, NULL, CTL_OPT_CURSOR },
		{ "state", required_argument, NULL, CTL_OPT_STATE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "n:s:h", longopts,
	    NULL)) != -1) {
		if (c == CTL_OPT_STATE)
			state = optarg;
		if (ctl_list_opt(c, optarg, &args, &json))
			continue;
		if (c == 'h')
			return ctl_help(ctl);
		return ctl_usage(ctl);
	}
	if (argc - optind != 1)
		return ctl_usage(ctl);
	read_args_add(&args, "product", argv[optind]);
	if ((rc = ctl_ask(ctl, "product", &args, &doc)) != CTL_EXIT_OK)
		return rc;
	if (json) {
		ctl_json_out(json_incref(doc));
		ctl_list_more(ctl, doc, json, "partitions");
		json_decref(doc);
		return CTL_EXIT_OK;
	}
	product_card(doc);
	putchar('\n');
	parts = json_object_get(doc, "partitions");
	if (json_integer_value(json_object_get(doc, "freshness_s")) > 0)
		json_array_foreach(parts, i, p)
			json_object_set_new(p, "_slo", json_true());
	if (json_array_size(parts) == 0)
		printf("(no partitions%s%s)\n", state != NULL ? " in state " :
		    "", state != NULL ? state : "");
	else
		ctl_table(ctl, parts, product_columns);
	ctl_list_more(ctl, doc, json, "partitions");
	if (json_is_string(json_object_get(doc, "checks_partition"))) {
		printf("\nchecks of the newest build shown (%s):\n",
		    product_str(doc, "checks_partition"));
		product_checks(ctl, json_object_get(doc, "checks"));
	}
	json_decref(doc);
	return CTL_EXIT_OK;
}
