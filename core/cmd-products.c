/*
 * cmd-products.c -- meshctl products: every data product with its owner,
 * its newest publication, whether it keeps its freshness SLO, and how many
 * of its partitions are quarantined.  Also ctl_product(), the product
 * lookup shared with `product` and `checks`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meshctl.h"

static int	cmd_products_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_products_entry = {
	.name = "products",
	.args = "[--domain D] [--json]",
	.summary = "data products: owner, last published, freshness, quarantined",
	.help =
	"One line per data product in the catalog (a product enters it when\n"
	"its job first runs): its domain and owner, its newest published\n"
	"partition and when it was published, its freshness (\"no SLO\"; \"on time\"; \"late N\":\n"
	"N partitions missed the SLO, and how many of them are still not\n"
	"published), and how many partitions are quarantined by failed checks\n"
	"('meshctl checks PRODUCT --partition KEY' says which).\n"
	"\n"
	"  -d, --domain D  only the products of domain D\n"
	"      --json      JSON output\n"
	"\n"
	"Exit status: 0 shown; 3 the state cannot be read.\n",
	.exec = cmd_products_exec,
};

int
ctl_product(sqlite3 *db, const char *name, int64_t *id)
{
	sqlite3_stmt	*stmt;
	char		*names = NULL, *n;
	int		 count = 0;

	*id = 0;
	if (sqlite3_prepare_v2(db, "SELECT id FROM products WHERE name = ?",
	    -1, &stmt, NULL) != SQLITE_OK) {
		ctl_error("%s", sqlite3_errmsg(db));
		return CTL_EXIT_STATE;
	}
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		*id = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (*id != 0)
		return CTL_EXIT_OK;
	/* Name the products there are, as an unknown job names the jobs. */
	if (sqlite3_prepare_v2(db, "SELECT name FROM products ORDER BY name "
	    "LIMIT 21", -1, &stmt, NULL) == SQLITE_OK) {
		while (sqlite3_step(stmt) == SQLITE_ROW) {
			if (++count == 21) {
				n = xasprintf("%s, ...", names);
				free(names);
				names = n;
				break;
			}
			n = xasprintf("%s%s%s", names != NULL ? names : "",
			    names != NULL ? ", " : "", ctl_col(stmt, 0));
			free(names);
			names = n;
		}
		sqlite3_finalize(stmt);
	}
	if (names == NULL)
		ctl_error("unknown product '%s' (the catalog is empty: a "
		    "product enters it when its job first runs)", name);
	else
		ctl_error("unknown product '%s' (products: %s)", name, names);
	free(names);
	return CTL_EXIT_USAGE;
}

/* "no SLO", "on time", "late 3 (1 unpublished)". */
static const char *
freshness_word(int64_t slo, int64_t late, int64_t unpub, char *buf,
    size_t len)
{
	if (slo <= 0)
		return "no SLO";
	if (late == 0)
		return "on time";
	if (unpub > 0)
		snprintf(buf, len, "late %lld (%lld unpublished)",
		    (long long)late, (long long)unpub);
	else
		snprintf(buf, len, "late %lld", (long long)late);
	return buf;
}

static int
cmd_products_exec(struct ctl *ctl, int argc, char **argv)
{
	struct state	*st;
	sqlite3		*db;
	sqlite3_stmt	*stmt;
	json_t		*arr = NULL;
	const char	*domain = NULL;
	char		 t[32], fw[64], last[96];
	int		 c, json = 0, n = 0;
	static const struct option longopts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			domain = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_usage(ctl);
		}
	}
	if (argc != optind)
		return ctl_usage(ctl);
	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
		return CTL_EXIT_STATE;
	db = state_sqlite(st);
	/* Per product: index ranges of product_partitions_product_state
	 * and _product_key, not a scan of every partition. */
	if (sqlite3_prepare_v2(db, "SELECT p.name, p.domain, p.owner, "
	    "p.freshness_s, p.late_count, "
	    "(SELECT pp.partition_key FROM product_partitions pp WHERE "
	    "pp.product_id = p.id AND pp.state = 'published' ORDER BY "
	    "pp.partition_key DESC LIMIT 1), "
	    "(SELECT pp.published_us FROM product_partitions pp WHERE "
	    "pp.product_id = p.id AND pp.state = 'published' ORDER BY "
	    "pp.partition_key DESC LIMIT 1), "
	    "(SELECT count(*) FROM product_partitions pp WHERE pp.product_id "
	    "= p.id AND pp.state = 'quarantined'), "
	    "(SELECT count(*) FROM product_partitions pp WHERE pp.product_id "
	    "= p.id AND pp.late_us IS NOT NULL AND pp.state NOT IN "
	    "('published', 'stale')), "
	    "(SELECT count(*) FROM product_partitions pp WHERE pp.product_id "
	    "= p.id AND pp.state = 'published') "
	    "FROM products p WHERE ?1 IS NULL OR p.domain = ?1 ORDER BY "
	    "p.name", -1, &stmt, NULL) != SQLITE_OK) {
		ctl_error("%s", sqlite3_errmsg(db));
		state_close(st);
		return CTL_EXIT_STATE;
	}
	if (domain != NULL)
		sqlite3_bind_text(stmt, 1, domain, -1, SQLITE_STATIC);
	if (json)
		arr = json_array();
	else
		printf("%-24s %-10s %-22s %-34s %-22s %s\n", "PRODUCT",
		    "DOMAIN", "OWNER", "LAST PUBLISHED", "FRESHNESS",
		    "QUARANTINED");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		int64_t	slo = sqlite3_column_int64(stmt, 3);
		int64_t	late = sqlite3_column_int64(stmt, 4);
		int64_t	pub_us = sqlite3_column_int64(stmt, 6);
		int64_t	quar = sqlite3_column_int64(stmt, 7);
		int64_t	unpub = sqlite3_column_int64(stmt, 8);
		int	has_pub = sqlite3_column_type(stmt, 5) != SQLITE_NULL;
		const char *fresh = freshness_word(slo, late, unpub, fw,
		    sizeof fw);

		n++;
		if (json) {
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, "
			    "s:o, s:o, s:I, s:s, s:I, s:I, s:I, s:I}",
			    "product", ctl_col(stmt, 0),
			    "domain", ctl_col(stmt, 1),
			    "owner", ctl_col(stmt, 2),
			    "last_published_partition", has_pub ?
			    json_string(ctl_col(stmt, 5)) : json_null(),
			    "last_published_us", has_pub ?
			    json_integer(pub_us) : json_null(),
			    "freshness_seconds", (json_int_t)slo,
			    "freshness", slo <= 0 ? "no SLO" : late == 0 ?
			    "on time" : "late",
			    "late_count", (json_int_t)late,
			    "late_unpublished", (json_int_t)unpub,
			    "quarantined", (json_int_t)quar,
			    "published", (json_int_t)
			    sqlite3_column_int64(stmt, 9)));
			continue;
		}
		if (has_pub)
			snprintf(last, sizeof last, "%s at %s", ctl_col(stmt, 5),
			    ctl_time(pub_us, t, sizeof t));
		else
			snprintf(last, sizeof last, "-");
		printf("%-24s %-10s %-22s %-34s %s%-22s%s %lld\n",
		    ctl_col(stmt, 0), ctl_col(stmt, 1), ctl_col(stmt, 2), last,
		    late > 0 ? ctl_color_on(ctl, "failed") : "", fresh,
		    late > 0 ? ctl_color_off(ctl) : "", (long long)quar);
	}
	sqlite3_finalize(stmt);
	if (json)
		ctl_json_out(arr);
	else if (n == 0 && domain != NULL)
		printf("(no products of domain '%s')\n", domain);
	else if (n == 0)
		printf("(no products yet: a product enters the catalog when "
		    "its job first runs)\n");
	state_close(st);
	return CTL_EXIT_OK;
}
