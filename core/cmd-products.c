/*
 * cmd-products.c -- meshctl products: every data product with its owner,
 * its newest publication, whether it keeps its freshness SLO, and how many
 * of its partitions are quarantined.  The read layer's question
 * `products` (read-product.c) answers; this file only renders.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "read.h"

static int	cmd_products_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_products_entry = {
	.name = "products",
	.args = "[--domain D] [--limit N] [--cursor C] [--json]",
	.summary = "data products: owner, last published, freshness, quarantined",
	.help =
	"One line per data product in the catalog (a product enters it when\n"
	"its job first runs), by name: its domain and owner, its newest\n"
	"published partition and when it was published, its freshness (\"no\n"
	"SLO\"; \"on time\"; \"late N\": N partitions missed the SLO, and how\n"
	"many of them are still not published), and how many partitions are\n"
	"quarantined by failed checks ('meshctl checks PRODUCT --partition\n"
	"KEY' says which).\n"
	"\n"
	"  -d, --domain D  only the products of domain D\n"
	"  -n, --limit N   at most N products (default 50, at most 10000)\n"
	"      --cursor C  the page after the one that printed C\n"
	"      --json      the document of GET /api/v1/products: {products,\n"
	"                  next_cursor}\n"
	"\n"
	"Exit status: 0 shown; 2 bad usage; 3 the state cannot be read.\n",
	.exec = cmd_products_exec,
};

/* "2001-01-11 at 2001-01-12 01:00:00 UTC", or "-". */
static const char *
products_last(const json_t *p, char *buf, size_t len)
{
	const char	*key = json_string_value(json_object_get(p,
			    "last_published_partition"));

	if (key == NULL)
		return "-";
	snprintf(buf, len, "%s at %s", key, json_string_value(
	    json_object_get(p, "last_published_local")));
	return buf;
}

/* "no SLO", "on time", "late 3 (1 unpublished)". */
static const char *
products_freshness(const json_t *p, char *buf, size_t len)
{
	json_int_t	late = json_integer_value(json_object_get(p,
			    "late_count"));
	json_int_t	unpub = json_integer_value(json_object_get(p,
			    "late_unpublished"));

	if (!json_is_true(json_object_get(p, "late")))
		return json_string_value(json_object_get(p, "freshness"));
	if (unpub > 0)
		snprintf(buf, len, "late %lld (%lld unpublished)",
		    (long long)late, (long long)unpub);
	else
		snprintf(buf, len, "late %lld", (long long)late);
	return buf;
}

static const char *
products_quarantined(const json_t *p, char *buf, size_t len)
{
	snprintf(buf, len, "%lld", (long long)json_integer_value(
	    json_object_get(json_object_get(p, "counts"), "quarantined")));
	return buf;
}

static const struct ctl_column products_columns[] = {
	{ "PRODUCT", "product", 0, NULL },
	{ "DOMAIN", "domain", 0, NULL },
	{ "OWNER", "owner", 0, NULL },
	{ "LAST PUBLISHED", "last_published_partition", 0, products_last },
	{ "FRESHNESS", "freshness", 0, products_freshness },
	{ "QUARANTINED", "counts", CTL_COL_RIGHT, products_quarantined },
	{ NULL, NULL, 0, NULL }
};

static int
cmd_products_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args = { 0 };
	const char	*domain = NULL;
	json_t		*doc, *arr;
	int		 c, json = 0, rc;
	static const struct option longopts[] = {
		/* The list options this question takes (no --since). */
		{ "json", no_argument, NULL, CTL_OPT_JSON },
		{ "limit", required_argument, NULL, CTL_OPT_LIMIT },
		{ "cursor", required_argument, NULL, CTL_OPT_CURSOR },
		{ "domain", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "n:d:h", longopts,
	    NULL)) != -1) {
		if (ctl_list_opt(c, optarg, &args, &json))
			continue;
		if (c == 'd') {
			domain = optarg;
			read_args_add(&args, "domain", optarg);
		} else if (c == 'h')
			return ctl_help(ctl);
		else
			return ctl_usage(ctl);
	}
	if (argc != optind)
		return ctl_usage(ctl);
	if ((rc = ctl_ask(ctl, "products", &args, &doc)) != CTL_EXIT_OK)
		return rc;
	arr = json_object_get(doc, "products");
	if (json)
		ctl_json_out(json_incref(doc));
	else if (json_array_size(arr) == 0 && domain != NULL)
		printf("(no products of domain '%s')\n", domain);
	else if (json_array_size(arr) == 0)
		printf("(no products yet: a product enters the catalog when "
		    "its job first runs)\n");
	else
		ctl_table(ctl, arr, products_columns);
	ctl_list_more(ctl, doc, json, "products");
	json_decref(doc);
	return CTL_EXIT_OK;
}
