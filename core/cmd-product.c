/*
 * cmd-product.c -- meshctl product: one data product's card (description,
 * owner, contract, tags, location, freshness SLO), its partitions a page
 * at a time, newest first, and the checks of its newest build.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meshctl.h"

static int	cmd_product_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_product_entry = {
	.name = "product",
	.args = "NAME [--state S] [--limit N] [--before KEY] [--json]",
	.summary = "one data product: its card, partitions and checks",
	.help =
	"The product's description, domain, owner, contract version, tags,\n"
	"location, the plugin and job building it, and its freshness SLO with\n"
	"the number of partitions that missed it.  Then its partitions, newest\n"
	"first: state, when published, rows, version, when it was due and\n"
	"whether it was late.  Then the checks recorded by the newest build\n"
	"(severity, passed, observed vs expected).  A published partition whose\n"
	"rerun failed its checks stays published (the rerun never published);\n"
	"the rerun is shown after it as \"rerun quarantined (run N)\".\n"
	"\n"
	"  -s, --state S     only partitions in state S (missing, building,\n"
	"                    published, quarantined, stale)\n"
	"  -n, --limit N     at most N partitions (default 20)\n"
	"  -b, --before KEY  the page of partitions before KEY (the next page\n"
	"                    is named at the end of each one)\n"
	"      --json        JSON output\n"
	"\n"
	"Exit status: 0 shown; 2 unknown product; 3 the state cannot be read.\n",
	.exec = cmd_product_exec,
};

/* The checks of the newest attempt of each task of run `run_id` that
 * recorded any, as JSON (json) or printed. */
static json_t *
product_checks(struct ctl *ctl, sqlite3 *db, int64_t run_id, int json)
{
	sqlite3_stmt	*stmt;
	json_t		*arr = json ? json_array() : NULL;
	int		 n = 0;

	if (sqlite3_prepare_v2(db, "SELECT ti.task_id, a.try_number, cr.name, "
	    "cr.severity, cr.passed, cr.observed, cr.expectation FROM "
	    "task_instances ti JOIN attempts a ON a.task_instance_id = ti.id "
	    "JOIN check_results cr ON cr.attempt_id = a.id WHERE ti.run_id = ? "
	    "AND a.id = (SELECT max(a2.attempt_id) FROM check_results a2 JOIN "
	    "attempts a3 ON a3.id = a2.attempt_id WHERE a3.task_instance_id = "
	    "ti.id) ORDER BY cr.id", -1, &stmt, NULL) != SQLITE_OK)
		return arr;
	sqlite3_bind_int64(stmt, 1, run_id);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		int	sev = sqlite3_column_int(stmt, 3);
		int	passed = sqlite3_column_int(stmt, 4);

		if (json) {
			json_array_append_new(arr, json_pack("{s:s, s:i, s:s, "
			    "s:s, s:b, s:o, s:s?}", "task", ctl_col(stmt, 0),
			    "attempt", sqlite3_column_int(stmt, 1), "check",
			    ctl_col(stmt, 2), "severity", sev == 0 ? "error" :
			    "warn", "passed", passed, "observed",
			    sqlite3_column_type(stmt, 5) == SQLITE_NULL ?
			    json_null() : json_real(sqlite3_column_double(
			    stmt, 5)), "expected",
			    sqlite3_column_type(stmt, 6) == SQLITE_NULL ? NULL :
			    ctl_col(stmt, 6)));
			continue;
		}
		if (n++ == 0)
			printf("  %-14s %-24s %-6s %-6s %12s  %s\n", "TASK",
			    "CHECK", "LEVEL", "RESULT", "OBSERVED", "EXPECTED");
		printf("  %-14s %-24s %-6s %s%-6s%s %12s  %s\n",
		    ctl_col(stmt, 0), ctl_col(stmt, 2), sev == 0 ? "error" :
		    "warn", ctl_color_on(ctl, passed ? "success" : sev == 0 ?
		    "failed" : "running"), passed ? "passed" : "FAILED",
		    ctl_color_off(ctl), ctl_col(stmt, 5), ctl_col(stmt, 6));
	}
	sqlite3_finalize(stmt);
	if (!json && n == 0)
		printf("  (no check recorded)\n");
	return arr;
}

static int
product_show(struct ctl *ctl, sqlite3 *db, const char *name, int64_t id,
    const char *state, const char *before, long limit, int json)
{
	sqlite3_stmt	*stmt = NULL;
	json_t		*card = NULL, *parts = NULL, *checks;
	char		 t[32], d[32], *more = NULL, *last = NULL;
	int64_t		 slo, newest_run = 0;
	int		 n = 0;

	if (sqlite3_prepare_v2(db, "SELECT p.name, p.domain, p.owner, "
	    "p.description, p.contract_version, p.tags, p.location, p.plugin, "
	    "j.name, p.freshness_s, p.late_count FROM products p LEFT JOIN "
	    "jobs j ON j.id = p.job_id WHERE p.id = ?", -1, &stmt, NULL) !=
	    SQLITE_OK)
		goto sqlerr;
	sqlite3_bind_int64(stmt, 1, id);
	if (sqlite3_step(stmt) != SQLITE_ROW)
		goto sqlerr;
	slo = sqlite3_column_int64(stmt, 9);
	if (json) {
		card = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, "
		    "s:s?, s:I, s:I}", "product", ctl_col(stmt, 0), "domain",
		    ctl_col(stmt, 1), "owner", ctl_col(stmt, 2), "description",
		    sqlite3_column_text(stmt, 3), "contract_version",
		    sqlite3_column_text(stmt, 4), "tags",
		    sqlite3_column_text(stmt, 5), "location",
		    sqlite3_column_text(stmt, 6), "plugin",
		    sqlite3_column_text(stmt, 7), "job",
		    sqlite3_column_text(stmt, 8), "freshness_seconds",
		    (json_int_t)slo, "late_count",
		    (json_int_t)sqlite3_column_int64(stmt, 10));
	} else {
		printf("product:     %s\n", ctl_col(stmt, 0));
		if (sqlite3_column_type(stmt, 3) != SQLITE_NULL)
			printf("description: %s\n", ctl_col(stmt, 3));
		printf("domain:      %s\n", ctl_col(stmt, 1));
		printf("owner:       %s\n", ctl_col(stmt, 2));
		printf("contract:    %s\n", sqlite3_column_type(stmt, 4) ==
		    SQLITE_NULL ? "-" : ctl_col(stmt, 4));
		printf("tags:        %s\n", sqlite3_column_type(stmt, 5) ==
		    SQLITE_NULL ? "-" : ctl_col(stmt, 5));
		printf("location:    %s\n", sqlite3_column_type(stmt, 6) ==
		    SQLITE_NULL ? "-" : ctl_col(stmt, 6));
		printf("built by:    plugin %s, job %s\n", ctl_col(stmt, 7),
		    sqlite3_column_type(stmt, 8) == SQLITE_NULL ? "-" :
		    ctl_col(stmt, 8));
		if (slo > 0)
			printf("freshness:   each partition published within "
			    "%llds of its interval end; %lld late so far\n",
			    (long long)slo,
			    (long long)sqlite3_column_int64(stmt, 10));
		else
			printf("freshness:   no SLO\n");
	}
	sqlite3_finalize(stmt);

	/* Newest first, by the (product_id, partition_key) index; a page
	 * ends where the next begins (--before). */
	if (sqlite3_prepare_v2(db, "SELECT partition_key, state, published_us, "
	    "\"rows\", version, due_us, late_us, run_id, CASE WHEN state = "
	    "'published' THEN rerun_run_id END, rerun_us FROM product_partitions "
	    "WHERE product_id = ?1 AND (?2 IS NULL OR state = ?2) AND (?3 IS "
	    "NULL OR partition_key < ?3) ORDER BY partition_key DESC LIMIT ?4",
	    -1, &stmt, NULL) != SQLITE_OK)
		goto sqlerr;
	sqlite3_bind_int64(stmt, 1, id);
	if (state != NULL)
		sqlite3_bind_text(stmt, 2, state, -1, SQLITE_STATIC);
	if (before != NULL)
		sqlite3_bind_text(stmt, 3, before, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, limit + 1);
	if (json)
		parts = json_array();
	else
		printf("\n%-16s %-12s %-20s %8s %4s %-20s %s\n", "PARTITION",
		    "STATE", "PUBLISHED", "ROWS", "VER", "DUE", "FRESHNESS");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		const char	*s = ctl_col(stmt, 1);
		int		 late = sqlite3_column_type(stmt, 6) !=
				    SQLITE_NULL;
		int		 due = sqlite3_column_type(stmt, 5) !=
				    SQLITE_NULL;
		int		 rerun = sqlite3_column_type(stmt, 8) !=
				    SQLITE_NULL;

		if (n++ == limit) {
			more = last;	/* the next page is before it */
			last = NULL;
			break;
		}
		free(last);
		last = xstrdup(ctl_col(stmt, 0));
		if (newest_run == 0)
			newest_run = sqlite3_column_int64(stmt, 7);
		if (json) {
			json_array_append_new(parts, json_pack("{s:s, s:s, s:o, "
			    "s:o, s:I, s:o, s:o, s:I}", "partition",
			    ctl_col(stmt, 0), "state", s, "published_us",
			    sqlite3_column_type(stmt, 2) == SQLITE_NULL ?
			    json_null() : json_integer(sqlite3_column_int64(
			    stmt, 2)), "rows", sqlite3_column_type(stmt, 3) ==
			    SQLITE_NULL ? json_null() : json_integer(
			    sqlite3_column_int64(stmt, 3)), "version",
			    (json_int_t)sqlite3_column_int64(stmt, 4), "due_us",
			    due ? json_integer(sqlite3_column_int64(stmt, 5)) :
			    json_null(), "late_us", late ? json_integer(
			    sqlite3_column_int64(stmt, 6)) : json_null(),
			    "run_id", (json_int_t)sqlite3_column_int64(stmt,
			    7)));
			json_object_set_new(json_array_get(parts,
			    json_array_size(parts) - 1), "rerun", rerun ?
			    json_pack("{s:s, s:I, s:I}", "state", "quarantined",
			    "run_id", (json_int_t)sqlite3_column_int64(stmt, 8),
			    "at_us", (json_int_t)sqlite3_column_int64(stmt,
			    9)) : json_null());
			continue;
		}
		printf("%-16s %s%-12s%s %-20s %8s %4lld %-20s %s%s%s%s\n",
		    ctl_col(stmt, 0), ctl_color_on(ctl, s), s,
		    ctl_color_off(ctl), ctl_time(sqlite3_column_int64(stmt, 2),
		    t, sizeof t), sqlite3_column_type(stmt, 3) == SQLITE_NULL ?
		    "-" : ctl_col(stmt, 3),
		    (long long)sqlite3_column_int64(stmt, 4),
		    due ? ctl_time(sqlite3_column_int64(stmt, 5), d, sizeof d) :
		    "-", late ? "LATE" : due ? "on time" : slo > 0 ?
		    "not yet due" : "-", rerun ? "  rerun quarantined (run " :
		    "", rerun ? ctl_col(stmt, 8) : "", rerun ? ")" : "");
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (!json && n == 0)
		printf("(no partitions%s%s)\n", state != NULL ? " in state " :
		    "", state != NULL ? state : "");
	if (!json && more != NULL)
		printf("(more: meshctl product %s --before %s%s%s)\n",
		    name, more, state != NULL ? " --state " : "",
		    state != NULL ? state : "");

	if (!json)
		printf("\nchecks of the newest build shown:\n");
	checks = product_checks(ctl, db, newest_run, json);
	if (json) {
		json_object_set_new(card, "partitions", parts);
		json_object_set_new(card, "next_before", more != NULL ?
		    json_string(more) : json_null());
		json_object_set_new(card, "checks", checks);
		ctl_json_out(card);
	}
	free(more);
	free(last);
	return CTL_EXIT_OK;
sqlerr:
	ctl_error("%s", sqlite3_errmsg(db));
	sqlite3_finalize(stmt);
	json_decref(card);
	return CTL_EXIT_STATE;
}

static int
cmd_product_exec(struct ctl *ctl, int argc, char **argv)
{
	struct state	*st;
	const char	*state = NULL, *before = NULL;
	int64_t		 id;
	int		 c, json = 0, rc;
	long		 limit = 20;
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "before", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "s:n:b:h", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 's':
			state = optarg;
			break;
		case 'n':
			if (ctl_number("limit", optarg, 1, 1000000,
			    &limit) != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'b':
			before = optarg;
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
	if (argc - optind != 1)
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
	if ((rc = ctl_product(state_sqlite(st), argv[optind], &id)) ==
	    CTL_EXIT_OK)
		rc = product_show(ctl, state_sqlite(st), argv[optind], id,
		    state, before, limit, json);
	state_close(st);
	return rc;
}
