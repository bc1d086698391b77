/* cmd-catalog.c -- meshctl catalog: the data products and the state of
 * their partitions, with the failed checks of quarantined ones. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meshctl.h"

static int	cmd_catalog_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_catalog_entry = {
	.name = "catalog",
	.args = "[PRODUCT] [--state S] [--limit N] [--json]",
	.summary = "list data products, or the partitions of one product",
	.help =
	"Without PRODUCT: every product with its owner and how many partitions\n"
	"are published, quarantined or missing, followed by the quarantined\n"
	"partitions and the checks that failed (observed vs expected).\n"
	"With PRODUCT: its partitions, newest first, with their state, when\n"
	"they were published, rows, and why a partition is not published.\n"
	"\n"
	"A published partition whose rerun failed its checks stays published:\n"
	"the rerun never reached publish, so its published version is still\n"
	"what consumers read.  The quarantined rerun is shown beside it\n"
	"(\"rerun quarantined\", with its failed checks; \"rerun\" in --json)\n"
	"until a later run publishes.\n"
	"\n"
	"  -s, --state S   only partitions in state S (missing, building,\n"
	"                  published, quarantined, stale)\n"
	"  -n, --limit N   at most N partitions (default 100)\n"
	"      --json      JSON output\n",
	.exec = cmd_catalog_exec,
};

/* "max_delay_minutes (observed 509, expected <= 480); ..." for the failed
 * error-level checks of an attempt; new string, or NULL if none. */
static char *
failed_checks(sqlite3 *db, int64_t attempt_id)
{
	sqlite3_stmt	*stmt;
	char		*out = NULL, *n;

	if (sqlite3_prepare_v2(db, "SELECT name, observed, expectation FROM "
	    "check_results WHERE attempt_id = ? AND passed = 0 AND "
	    "severity = 0 ORDER BY id", -1, &stmt, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(stmt, 1, attempt_id);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		n = xasprintf("%s%s%s (observed %g, expected %s)",
		    out != NULL ? out : "", out != NULL ? "; " : "",
		    ctl_col(stmt, 0), sqlite3_column_double(stmt, 1),
		    ctl_col(stmt, 2));
		free(out);
		out = n;
	}
	sqlite3_finalize(stmt);
	return out;
}

static int
catalog_products(struct ctl *ctl, sqlite3 *db, int json)
{
	sqlite3_stmt	*stmt = NULL, *q = NULL;
	json_t		*arr = NULL, *quar = NULL;
	char		 t[32], *why;
	int		 n = 0, nq = 0;

	/* The counts go by product and state (product_partitions_product_
	 * state, schema version 4): an index range per product and state. */
	if (sqlite3_prepare_v2(db, "SELECT p.name, p.owner, "
	    "(SELECT count(*) FROM product_partitions pp WHERE pp.product_id = "
	    "p.id AND pp.state = 'published'), "
	    "(SELECT count(*) FROM product_partitions pp WHERE pp.product_id = "
	    "p.id AND pp.state = 'quarantined'), "
	    "(SELECT count(*) FROM product_partitions pp WHERE pp.product_id = "
	    "p.id AND pp.state NOT IN ('published', 'quarantined')), "
	    "(SELECT max(published_us) FROM product_partitions pp WHERE "
	    "pp.product_id = p.id), "
	    "(SELECT sum(rows) FROM product_partitions pp WHERE pp.product_id = "
	    "p.id AND pp.state = 'published') "
	    "FROM products p ORDER BY p.name", -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT p.name, pp.partition_key, "
	    "CASE WHEN pp.state = 'quarantined' THEN pp.attempt_id ELSE "
	    "pp.rerun_attempt_id END, pp.state, pp.version FROM "
	    "product_partitions pp JOIN products p ON p.id = pp.product_id "
	    "WHERE pp.state = 'quarantined' OR (pp.state = 'published' AND "
	    "pp.rerun_run_id IS NOT NULL) ORDER BY p.name, pp.partition_key "
	    "LIMIT 1001", -1, &q, NULL) != SQLITE_OK) {
		ctl_error("%s", sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		return CTL_EXIT_STATE;
	}
	if (json) {
		arr = json_array();
		quar = json_array();
	} else
		printf("%-26s %-24s %9s %11s %7s %10s  %s\n", "PRODUCT",
		    "OWNER", "PUBLISHED", "QUARANTINED", "OTHER", "ROWS",
		    "LAST PUBLISHED");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		n++;
		if (json) {
			json_array_append_new(arr, json_pack("{s:s, s:s, s:i, "
			    "s:i, s:i, s:I, s:I}", "product", ctl_col(stmt, 0),
			    "owner", ctl_col(stmt, 1), "published",
			    sqlite3_column_int(stmt, 2), "quarantined",
			    sqlite3_column_int(stmt, 3), "other",
			    sqlite3_column_int(stmt, 4), "last_published_us",
			    (json_int_t)sqlite3_column_int64(stmt, 5), "rows",
			    (json_int_t)sqlite3_column_int64(stmt, 6)));
			continue;
		}
		printf("%-26s %-24s %9d %11d %7d %10lld  %s\n",
		    ctl_col(stmt, 0), ctl_col(stmt, 1),
		    sqlite3_column_int(stmt, 2), sqlite3_column_int(stmt, 3),
		    sqlite3_column_int(stmt, 4),
		    (long long)sqlite3_column_int64(stmt, 6),
		    ctl_time(sqlite3_column_int64(stmt, 5), t, sizeof t));
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		/* A published partition whose rerun was quarantined. */
		int	 rerun = strcmp(ctl_col(q, 3), "published") == 0;

		if (nq == 1000) {
			fprintf(json ? stderr : stdout, "(more quarantined "
			    "partitions than the 1000 shown; see 'meshctl "
			    "catalog PRODUCT --state quarantined')\n");
			break;
		}
		why = failed_checks(db, sqlite3_column_int64(q, 2));
		if (json) {
			json_array_append_new(quar, json_pack("{s:s, s:s, s:s?, "
			    "s:s, s:o}", "product", ctl_col(q, 0), "partition",
			    ctl_col(q, 1), "failed_checks", why, "state",
			    ctl_col(q, 3), "published_version", rerun ?
			    json_integer(sqlite3_column_int64(q, 4)) :
			    json_null()));
		} else {
			if (nq == 0)
				printf("\nquarantined partitions:\n");
			printf("  %s %s%s%s%s: %s\n", ctl_col(q, 0),
			    ctl_color_on(ctl, "quarantined"), ctl_col(q, 1),
			    ctl_color_off(ctl), rerun ? " (rerun quarantined; "
			    "the published version stays current)" : "",
			    why != NULL ? why : "(no failed check recorded)");
		}
		nq++;
		free(why);
	}
	if (json)
		ctl_json_out(json_pack("{s:o, s:o}", "products", arr,
		    "quarantined", quar));
	else if (n == 0)
		printf("(no products yet: run a job first)\n");
	sqlite3_finalize(stmt);
	sqlite3_finalize(q);
	return CTL_EXIT_OK;
}

static int
catalog_partitions(struct ctl *ctl, sqlite3 *db, const char *product,
    const char *state, long limit, int json)
{
	sqlite3_stmt	*stmt = NULL;
	json_t		*arr = NULL;
	char		 t[32], *why;
	int		 rc = CTL_EXIT_OK, found = 0, n = 0;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM products WHERE "
	    "name = ?", -1, &stmt, NULL) != SQLITE_OK)
		goto sqlerr;
	sqlite3_bind_text(stmt, 1, product, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		found = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (!found) {
		ctl_error("unknown product '%s' (see 'meshctl catalog')",
		    product);
		return CTL_EXIT_USAGE;
	}
	if (sqlite3_prepare_v2(db, "SELECT pp.partition_key, pp.state, "
	    "pp.published_us, pp.rows, pp.run_id, pp.attempt_id, pp.version, "
	    "pp.rerun_run_id, pp.rerun_attempt_id, pp.rerun_us "
	    "FROM product_partitions pp JOIN products p ON p.id = "
	    "pp.product_id WHERE p.name = ?1 AND (?2 IS NULL OR pp.state = ?2) "
	    "ORDER BY pp.partition_key DESC LIMIT ?3", -1, &stmt, NULL) !=
	    SQLITE_OK)
		goto sqlerr;
	sqlite3_bind_text(stmt, 1, product, -1, SQLITE_STATIC);
	if (state != NULL)
		sqlite3_bind_text(stmt, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, limit + 1);
	if (json)
		arr = json_array();
	else
		printf("%-14s %-12s %-20s %8s %6s %4s  %s\n", "PARTITION",
		    "STATE", "PUBLISHED", "ROWS", "RUN", "VER", "WHY");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *s = ctl_col(stmt, 1);

		if (n++ == limit) {
			fprintf(json ? stderr : stdout, "(more partitions than "
			    "the %ld shown; use --limit or --state)\n", limit);
			break;
		}
		int rerun = sqlite3_column_type(stmt, 7) != SQLITE_NULL &&
		    strcmp(s, "published") == 0;

		why = strcmp(s, "quarantined") == 0 ? failed_checks(db,
		    sqlite3_column_int64(stmt, 5)) : rerun ? failed_checks(db,
		    sqlite3_column_int64(stmt, 8)) : NULL;
		if (rerun && !json) {
			char *w = xasprintf("rerun quarantined (run %lld, %s): "
			    "%s", (long long)sqlite3_column_int64(stmt, 7),
			    ctl_time(sqlite3_column_int64(stmt, 9), t,
			    sizeof t), why != NULL ? why :
			    "(no failed check recorded)");

			free(why);
			why = w;
		}
		if (json) {
			json_array_append_new(arr, json_pack("{s:s, s:s, s:I, "
			    "s:o, s:I, s:i, s:s?}", "partition",
			    ctl_col(stmt, 0), "state", s, "published_us",
			    (json_int_t)sqlite3_column_int64(stmt, 2), "rows",
			    sqlite3_column_type(stmt, 3) == SQLITE_NULL ?
			    json_null() : json_integer(
			    sqlite3_column_int64(stmt, 3)), "run_id",
			    (json_int_t)sqlite3_column_int64(stmt, 4),
			    "version", sqlite3_column_int(stmt, 6),
			    "failed_checks", rerun ? NULL : why));
			/* The quarantined rerun beside the published version:
			 * {run_id, at_us}, or null. */
			json_object_set_new(json_array_get(arr,
			    json_array_size(arr) - 1), "rerun", rerun ?
			    json_pack("{s:s, s:I, s:I, s:s?}", "state",
			    "quarantined",
			    "run_id", (json_int_t)sqlite3_column_int64(stmt, 7),
			    "at_us", (json_int_t)sqlite3_column_int64(stmt,
			    9), "failed_checks", why) : json_null());
		} else {
			printf("%-14s %s%-12s%s %-20s %8s %6lld %4d  %s\n",
			    ctl_col(stmt, 0), ctl_color_on(ctl, s), s,
			    ctl_color_off(ctl), ctl_time(sqlite3_column_int64(
			    stmt, 2), t, sizeof t), ctl_col(stmt, 3),
			    (long long)sqlite3_column_int64(stmt, 4),
			    sqlite3_column_int(stmt, 6), why != NULL ? why : "");
		}
		free(why);
	}
	if (json)
		ctl_json_out(arr);
	sqlite3_finalize(stmt);
	return rc;
sqlerr:
	ctl_error("%s", sqlite3_errmsg(db));
	sqlite3_finalize(stmt);
	return CTL_EXIT_STATE;
}

static int
cmd_catalog_exec(struct ctl *ctl, int argc, char **argv)
{
	struct state	*st;
	const char	*state = NULL;
	int		 c, json = 0, rc;
	long		 limit = 100;
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "s:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			state = optarg;
			break;
		case 'n':
			if (ctl_number("limit", optarg, 1, 1000000,
			    &limit) != 0)
				return CTL_EXIT_USAGE;
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
	if (argc - optind > 1)
		return ctl_usage(ctl);
	if (state != NULL && strcmp(state, "missing") != 0 &&
	    strcmp(state, "building") != 0 && strcmp(state, "published") != 0 &&
	    strcmp(state, "quarantined") != 0 && strcmp(state, "stale") != 0) {
		ctl_error("--state: unknown partition state '%s' (missing, "
		    "building, published, quarantined, stale)", state);
		return CTL_EXIT_USAGE;
	}
	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
		return CTL_EXIT_STATE;
	if (argc - optind == 1)
		rc = catalog_partitions(ctl, state_sqlite(st), argv[optind],
		    state, limit, json);
	else
		rc = catalog_products(ctl, state_sqlite(st), json);
	state_close(st);
	return rc;
}
