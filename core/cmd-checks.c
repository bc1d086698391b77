/*
 * cmd-checks.c -- meshctl checks: the quality checks recorded for one
 * product partition's newest build, observed vs expected, and where a
 * quarantined partition's staging output is kept for inspection.
 */
#include <sys/stat.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meshctl.h"

static int	cmd_checks_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_checks_entry = {
	.name = "checks",
	.args = "PRODUCT --partition KEY [--json]",
	.summary = "the quality checks of a product partition",
	.help =
	"Every check result recorded by the newest build of the partition\n"
	"(the newest attempt of each task that recorded checks): the task,\n"
	"the check, its level (error checks gate the publish stage, warnings\n"
	"are only recorded), whether it passed, and observed vs expected.\n"
	"For a quarantined partition, where its staging output is kept for\n"
	"inspection and until when (quarantine_retention in meshd.conf(5)).\n"
	"\n"
	"  -p, --partition KEY  the partition\n"
	"      --json           JSON output\n"
	"\n"
	"Exit status: 0 every error-level check passed; 1 one failed (the\n"
	"partition is quarantined); 2 unknown product or partition; 3 the\n"
	"state cannot be read.\n",
	.exec = cmd_checks_exec,
};

/* "product x has no partition 'k' (newest: a, b, c)". */
static void
no_partition(sqlite3 *db, const char *product, int64_t id, const char *key)
{
	sqlite3_stmt	*stmt;
	char		*names = NULL, *n;

	if (sqlite3_prepare_v2(db, "SELECT partition_key FROM "
	    "product_partitions WHERE product_id = ? ORDER BY partition_key "
	    "DESC LIMIT 5", -1, &stmt, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(stmt, 1, id);
		while (sqlite3_step(stmt) == SQLITE_ROW) {
			n = xasprintf("%s%s%s", names != NULL ? names : "",
			    names != NULL ? ", " : "", ctl_col(stmt, 0));
			free(names);
			names = n;
		}
		sqlite3_finalize(stmt);
	}
	ctl_error("product %s has no partition '%s'%s%s%s", product, key,
	    names != NULL ? " (newest: " : " (it has no partition yet)",
	    names != NULL ? names : "", names != NULL ? ")" : "");
	free(names);
}

static int
checks_show(struct ctl *ctl, sqlite3 *db, const char *product, int64_t id,
    const char *key, int json)
{
	sqlite3_stmt	*stmt = NULL;
	json_t		*out = NULL, *arr = NULL, *staging = NULL;
	char		 t[32], *path = NULL;
	const char	*state;
	char		 state_buf[16], job[256] = "";
	int64_t		 run_id = 0, updated = 0;
	int		 n = 0, failed = 0, have_job = 0;
	struct stat	 sb;

	if (sqlite3_prepare_v2(db, "SELECT pp.state, pp.run_id, "
	    "pp.updated_us, j.name FROM product_partitions pp LEFT JOIN runs r "
	    "ON r.id = pp.run_id LEFT JOIN jobs j ON j.id = r.job_id WHERE "
	    "pp.product_id = ? AND pp.partition_key = ?", -1, &stmt, NULL) !=
	    SQLITE_OK)
		goto sqlerr;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		sqlite3_finalize(stmt);
		no_partition(db, product, id, key);
		return CTL_EXIT_USAGE;
	}
	snprintf(state_buf, sizeof state_buf, "%s", ctl_col(stmt, 0));
	state = state_buf;
	run_id = sqlite3_column_int64(stmt, 1);
	updated = sqlite3_column_int64(stmt, 2);
	if (sqlite3_column_type(stmt, 3) != SQLITE_NULL) {
		snprintf(job, sizeof job, "%s", ctl_col(stmt, 3));
		have_job = 1;
	}
	sqlite3_finalize(stmt);
	stmt = NULL;

	/* The newest attempt of each task of the run that recorded checks:
	 * a rerun's results replace the earlier ones. */
	if (sqlite3_prepare_v2(db, "SELECT ti.task_id, a.try_number, cr.name, "
	    "cr.severity, cr.passed, cr.observed, cr.expectation, "
	    "cr.recorded_us FROM task_instances ti JOIN attempts a ON "
	    "a.task_instance_id = ti.id JOIN check_results cr ON cr.attempt_id "
	    "= a.id WHERE ti.run_id = ? AND a.id = (SELECT max(c2.attempt_id) "
	    "FROM check_results c2 JOIN attempts a2 ON a2.id = c2.attempt_id "
	    "WHERE a2.task_instance_id = ti.id) ORDER BY cr.id", -1, &stmt,
	    NULL) != SQLITE_OK)
		goto sqlerr;
	sqlite3_bind_int64(stmt, 1, run_id);
	if (json)
		arr = json_array();
	else
		printf("%s %s: %s%s%s (run %lld)\n", product, key,
		    ctl_color_on(ctl, state), state, ctl_color_off(ctl),
		    (long long)run_id);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		int	sev = sqlite3_column_int(stmt, 3);
		int	passed = sqlite3_column_int(stmt, 4);
		int	has_obs = sqlite3_column_type(stmt, 5) != SQLITE_NULL;
		char	obs[32];

		if (!passed && sev == 0)
			failed++;
		if (json) {
			json_array_append_new(arr, json_pack("{s:s, s:i, s:s, "
			    "s:s, s:b, s:o, s:s?, s:I}", "task",
			    ctl_col(stmt, 0), "attempt",
			    sqlite3_column_int(stmt, 1), "check",
			    ctl_col(stmt, 2), "severity", sev == 0 ? "error" :
			    "warn", "passed", passed, "observed", has_obs ?
			    json_real(sqlite3_column_double(stmt, 5)) :
			    json_null(), "expected",
			    sqlite3_column_type(stmt, 6) == SQLITE_NULL ? NULL :
			    ctl_col(stmt, 6), "recorded_us",
			    (json_int_t)sqlite3_column_int64(stmt, 7)));
			continue;
		}
		if (n++ == 0)
			printf("  %-14s %-3s %-24s %-6s %-6s %12s  %s\n", "TASK",
			    "TRY", "CHECK", "LEVEL", "RESULT", "OBSERVED",
			    "EXPECTED");
		if (has_obs)
			snprintf(obs, sizeof obs, "%g",
			    sqlite3_column_double(stmt, 5));
		printf("  %-14s %-3d %-24s %-6s %s%-6s%s %12s  %s\n",
		    ctl_col(stmt, 0), sqlite3_column_int(stmt, 1),
		    ctl_col(stmt, 2), sev == 0 ? "error" : "warn",
		    ctl_color_on(ctl, passed ? "success" : sev == 0 ? "failed" :
		    "running"), passed ? "passed" : "FAILED",
		    ctl_color_off(ctl), has_obs ? obs : "-",
		    ctl_col(stmt, 6));
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (!json && n == 0)
		printf("  (no check recorded for this build)\n");

	/* Where the quarantined output waits (the engine's staging_dir/
	 * JOB/KEY), and until when meshd keeps it. */
	if (strcmp(state, "quarantined") == 0 && have_job &&
	    ctl_config(ctl) != NULL) {
		int	kept, keep_s = ctl->cfg->quarantine_retention_s;
		int64_t	until = updated + (int64_t)keep_s * 1000000;

		path = xasprintf("%s/%s/%s", ctl->cfg->staging_dir, job, key);
		kept = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
		if (json)
			staging = json_pack("{s:s, s:b, s:o}", "path", path,
			    "kept", kept, "removed_after_us", keep_s > 0 ?
			    json_integer(until) : json_null());
		else if (kept && keep_s > 0)
			printf("staging output kept for inspection: %s\n"
			    "  (removed after %s: quarantine_retention)\n", path,
			    ctl_time(until, t, sizeof t));
		else if (kept)
			printf("staging output kept for inspection: %s\n"
			    "  (quarantine_retention = 0: kept until it is "
			    "rebuilt)\n", path);
		else
			printf("staging output %s: no longer there (removed "
			    "by quarantine_retention, or never written)\n",
			    path);
	}
	if (json) {
		out = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o}", "product",
		    product, "partition", key, "state", state, "run_id",
		    (json_int_t)run_id, "checks", arr, "staging",
		    staging != NULL ? staging : json_null());
		ctl_json_out(out);
	}
	free(path);
	return failed > 0 ? CTL_EXIT_FAILED : CTL_EXIT_OK;
sqlerr:
	ctl_error("%s", sqlite3_errmsg(db));
	sqlite3_finalize(stmt);
	json_decref(arr);
	return CTL_EXIT_STATE;
}

static int
cmd_checks_exec(struct ctl *ctl, int argc, char **argv)
{
	struct state	*st;
	const char	*key = NULL;
	int64_t		 id;
	int		 c, json = 0, rc;
	static const struct option longopts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			key = optarg;
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
	if (argc - optind != 1 || key == NULL)
		return ctl_usage(ctl);
	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
		return CTL_EXIT_STATE;
	if ((rc = ctl_product(state_sqlite(st), argv[optind], &id)) ==
	    CTL_EXIT_OK)
		rc = checks_show(ctl, state_sqlite(st), argv[optind], id, key,
		    json);
	state_close(st);
	return rc;
}
