/*
 * cmd-catalog.c -- meshctl catalog: the data products by domain and the
 * state of their partitions, with the failed checks of quarantined ones;
 * or the partitions of one product.  The read layer's questions `catalog`
 * (read-catalog.c) and `product` (read-product.c) answer; this file only
 * renders.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "read.h"

static int	cmd_catalog_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_catalog_entry = {
	.name = "catalog",
	.args = "[PRODUCT] [--domain D] [--state S] [--limit N] [--cursor C] "
	    "[--json]",
	.summary = "list data products, or the partitions of one product",
	.help =
	"Without PRODUCT: every product, by domain, with its owner, contract\n"
	"and freshness and how many partitions are published, quarantined or\n"
	"otherwise, followed by the quarantined partitions and the checks that\n"
	"failed (observed vs expected).\n"
	"With PRODUCT: its partitions, newest first, with their state, when\n"
	"they were published, rows, and why a partition is not published.\n"
	"\n"
	"A published partition whose rerun failed its checks stays published:\n"
	"the rerun never reached publish, so its published version is still\n"
	"what consumers read.  The quarantined rerun is shown beside it\n"
	"(\"rerun quarantined\", with its failed checks; \"rerun\" in --json)\n"
	"until a later run publishes.\n"
	"\n"
	"  -d, --domain D  only the products of domain D (without PRODUCT)\n"
	"  -s, --state S   only partitions in state S (missing, building,\n"
	"                  published, quarantined, stale; with PRODUCT)\n"
	"  -n, --limit N   at most N products or partitions (default 50)\n"
	"      --cursor C  the page after the one that printed C\n"
	"      --json      the document of GET /api/v1/catalog ({products,\n"
	"                  next_cursor}), or with PRODUCT of GET\n"
	"                  /api/v1/product?product=PRODUCT\n",
	.exec = cmd_catalog_exec,
};

static const char *
catalog_str(const json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "-";
}

/* "max_delay (observed 509, expected <= 480); ..." of failed_checks;
 * a new string. */
static char *
catalog_why(const json_t *checks)
{
	const json_t	*ck;
	char		*out = NULL, *n, obs[32];
	size_t		 i;

	json_array_foreach(checks, i, ck) {
		if (json_is_number(json_object_get(ck, "observed")))
			snprintf(obs, sizeof obs, "%g", json_number_value(
			    json_object_get(ck, "observed")));
		else
			snprintf(obs, sizeof obs, "-");
		n = xasprintf("%s%s%s (observed %s, expected %s)",
		    out != NULL ? out : "", out != NULL ? "; " : "",
		    catalog_str(ck, "check"), obs, catalog_str(ck, "expected"));
		free(out);
		out = n;
	}
	return out != NULL ? out : xstrdup("(no failed check recorded)");
}

#define CATALOG_COUNT_FMT(name, expr)					\
static const char *							\
name(const json_t *p, char *buf, size_t len)				\
{									\
	const json_t *c = json_object_get(p, "counts");			\
									\
	snprintf(buf, len, "%lld", (long long)(expr));			\
	return buf;							\
}
#define CATALOG_N(s)	json_integer_value(json_object_get(c, s))
CATALOG_COUNT_FMT(catalog_published, CATALOG_N("published"))
CATALOG_COUNT_FMT(catalog_quarantined, CATALOG_N("quarantined"))
CATALOG_COUNT_FMT(catalog_other, CATALOG_N("missing") + CATALOG_N("building") +
    CATALOG_N("stale"))

static const char *
catalog_fresh(const json_t *p, char *buf, size_t len)
{
	if (!json_is_true(json_object_get(p, "late")))
		return catalog_str(p, "freshness");
	snprintf(buf, len, "late %lld", (long long)json_integer_value(
	    json_object_get(p, "late_count")));
	return buf;
}

static const struct ctl_column catalog_columns[] = {
	/* PRODUCT first: bash completion takes products from column 1. */
	{ "PRODUCT", "product", 0, NULL },
	{ "DOMAIN", "domain", 0, NULL },
	{ "OWNER", "owner", 0, NULL },
	{ "CONTRACT", "contract_version", 0, NULL },
	{ "PUBLISHED", "counts", CTL_COL_RIGHT, catalog_published },
	{ "QUARANTINED", "counts", CTL_COL_RIGHT, catalog_quarantined },
	{ "OTHER", "counts", CTL_COL_RIGHT, catalog_other },
	{ "ROWS", "rows", CTL_COL_RIGHT, NULL },
	{ "LAST PUBLISHED", "last_published_local", 0, NULL },
	{ "FRESHNESS", "freshness", 0, catalog_fresh },
	{ NULL, NULL, 0, NULL }
};

static void
catalog_products(struct ctl *ctl, const json_t *doc)
{
	const json_t	*arr = json_object_get(doc, "products"), *p, *q;
	size_t		 i, j;
	int		 nq = 0, rerun;
	char		*why;

	if (json_array_size(arr) == 0) {
		printf("(no products yet: run a job first)\n");
		return;
	}
	ctl_table(ctl, arr, catalog_columns);
	json_array_foreach(arr, i, p) {
		json_array_foreach(json_object_get(p, "quarantined_partitions"),
		    j, q) {
			if (nq++ == 0)
				printf("\nquarantined partitions:\n");
			rerun = json_is_true(json_object_get(q, "rerun"));
			why = catalog_why(json_object_get(q, "failed_checks"));
			printf("  %s %s%s%s%s: %s\n", catalog_str(p, "product"),
			    ctl_color_on(ctl, "quarantined"),
			    catalog_str(q, "partition"), ctl_color_off(ctl),
			    rerun ? " (rerun quarantined; the published "
			    "version stays current)" : "", why);
			free(why);
		}
		if (json_is_true(json_object_get(p, "quarantined_more")))
			printf("  %s: more (meshctl product %s --state "
			    "quarantined)\n", catalog_str(p, "product"),
			    catalog_str(p, "product"));
	}
}

/* Why a partition is not published, or its rerun is not. */
static const char *
catalog_part_why(const json_t *pt, char *buf, size_t len)
{
	const json_t	*rerun = json_object_get(pt, "rerun");
	char		*why;

	if (json_is_object(rerun)) {
		why = catalog_why(json_object_get(rerun, "failed_checks"));
		snprintf(buf, len, "rerun quarantined (run %lld, %s): %s",
		    (long long)json_integer_value(json_object_get(rerun,
		    "run_id")), catalog_str(rerun, "at_local"), why);
	} else if (strcmp(catalog_str(pt, "state"), "quarantined") == 0) {
		why = catalog_why(json_object_get(pt, "failed_checks"));
		snprintf(buf, len, "%s", why);
	} else
		return "";
	free(why);
	return buf;
}

static const struct ctl_column catalog_part_columns[] = {
	{ "PARTITION", "partition", 0, NULL },
	{ "STATE", "state", CTL_COL_STATE, NULL },
	{ "PUBLISHED", "published_local", 0, NULL },
	{ "ROWS", "rows", CTL_COL_RIGHT, NULL },
	{ "RUN", "run_id", CTL_COL_RIGHT, NULL },
	{ "VER", "version", CTL_COL_RIGHT, NULL },
	{ "WHY", "failed_checks", 0, catalog_part_why },
	{ NULL, NULL, 0, NULL }
};

static int
cmd_catalog_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args = { 0 };
	const char	*domain = NULL, *state = NULL, *q;
	json_t		*doc, *parts;
	int		 c, json = 0, rc;
	static const struct option longopts[] = {
		/* The list options this question takes (no --since). */
		{ "json", no_argument, NULL, CTL_OPT_JSON },
		{ "limit", required_argument, NULL, CTL_OPT_LIMIT },
		{ "cursor", required_argument, NULL, CTL_OPT_CURSOR },
		{ "state", required_argument, NULL, CTL_OPT_STATE },
		{ "domain", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "n:s:d:h", longopts,
	    NULL)) != -1) {
		if (c == CTL_OPT_STATE)
			state = optarg;
		if (ctl_list_opt(c, optarg, &args, &json))
			continue;
		if (c == 'd')
			domain = optarg;
		else if (c == 'h')
			return ctl_help(ctl);
		else
			return ctl_usage(ctl);
	}
	if (argc - optind > 1)
		return ctl_usage(ctl);
	if (argc - optind == 1) {
		if (domain != NULL) {
			ctl_error("--domain is for the list of products, not "
			    "with PRODUCT");
			return CTL_EXIT_USAGE;
		}
		q = "product";
		read_args_add(&args, "product", argv[optind]);
	} else {
		if (state != NULL) {
			ctl_error("--state is for the partitions of one "
			    "PRODUCT");
			return CTL_EXIT_USAGE;
		}
		q = "catalog";
		if (domain != NULL)
			read_args_add(&args, "domain", domain);
	}
	if ((rc = ctl_ask(ctl, q, &args, &doc)) != CTL_EXIT_OK)
		return rc;
	if (json)
		ctl_json_out(json_incref(doc));
	else if (argc - optind == 0)
		catalog_products(ctl, doc);
	else if (json_array_size(parts = json_object_get(doc,
	    "partitions")) == 0)
		printf("(no partitions)\n");
	else
		ctl_table(ctl, parts, catalog_part_columns);
	ctl_list_more(ctl, doc, json, argc - optind == 0 ? "products" :
	    "partitions");
	json_decref(doc);
	return CTL_EXIT_OK;
}
