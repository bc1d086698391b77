/*
 * cmd-checks.c -- meshctl checks: the quality checks recorded for one
 * product partition's newest build, observed vs expected, and where a
 * quarantined partition's staging output is kept for inspection.  The
 * read layer's question `checks` (read-checks.c) answers; this file only
 * renders.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "read.h"

static int	cmd_checks_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_checks_entry = {
	.name = "checks",
	.args = "PRODUCT --partition KEY [--limit N] [--cursor C] [--json]",
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
	"  -n, --limit N        at most N checks (default 50, at most 10000)\n"
	"      --cursor C       the page after the one that printed C\n"
	"      --json           the document of GET /api/v1/checks?product=P&\n"
	"                       partition=KEY: {product, partition, state,\n"
	"                       summary, checks, next_cursor, staging}\n"
	"\n"
	"Exit status: 0 every error-level check passed; 1 one failed (the\n"
	"partition is quarantined); 2 unknown product or partition; 3 the\n"
	"state cannot be read.\n",
	.exec = cmd_checks_exec,
};

static const char *
checks_str(const json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "-";
}

static void
checks_show(struct ctl *ctl, const json_t *doc)
{
	const json_t	*ck, *st = json_object_get(doc, "staging");
	const char	*state = checks_str(doc, "state");
	char		 obs[32], run[32];
	size_t		 i;
	int		 passed, err;

	if (json_is_integer(json_object_get(doc, "run_id")))
		snprintf(run, sizeof run, "%lld", (long long)
		    json_integer_value(json_object_get(doc, "run_id")));
	else
		snprintf(run, sizeof run, "-");
	printf("%s %s: %s%s%s (run %s)\n", checks_str(doc, "product"),
	    checks_str(doc, "partition"), ctl_color_on(ctl, state), state,
	    ctl_color_off(ctl), run);
	json_array_foreach(json_object_get(doc, "checks"), i, ck) {
		if (i == 0)
			printf("  %-14s %-3s %-24s %-6s %-6s %12s  %s\n", "TASK",
			    "TRY", "CHECK", "LEVEL", "RESULT", "OBSERVED",
			    "EXPECTED");
		passed = json_is_true(json_object_get(ck, "passed"));
		err = strcmp(checks_str(ck, "severity"), "error") == 0;
		if (json_is_number(json_object_get(ck, "observed")))
			snprintf(obs, sizeof obs, "%g", json_number_value(
			    json_object_get(ck, "observed")));
		else
			snprintf(obs, sizeof obs, "-");
		printf("  %-14s %-3lld %-24s %-6s %s%-6s%s %12s  %s\n",
		    checks_str(ck, "task"), (long long)json_integer_value(
		    json_object_get(ck, "attempt")), checks_str(ck, "check"),
		    checks_str(ck, "severity"), ctl_color_on(ctl, passed ?
		    "success" : err ? "failed" : "running"), passed ?
		    "passed" : "FAILED", ctl_color_off(ctl), obs,
		    json_is_string(json_object_get(ck, "expected")) ?
		    checks_str(ck, "expected") : "");
	}
	if (json_array_size(json_object_get(doc, "checks")) == 0)
		printf("  (no check recorded for this build)\n");
	ctl_list_more(ctl, doc, 0, "checks");
	if (!json_is_object(st))
		return;
	if (json_is_true(json_object_get(st, "kept")) &&
	    json_is_integer(json_object_get(st, "removed_after_us")))
		printf("staging output kept for inspection: %s\n"
		    "  (removed after %s: quarantine_retention)\n",
		    checks_str(st, "path"), checks_str(st,
		    "removed_after_local"));
	else if (json_is_true(json_object_get(st, "kept")))
		printf("staging output kept for inspection: %s\n"
		    "  (quarantine_retention = 0: kept until it is "
		    "rebuilt)\n", checks_str(st, "path"));
	else
		printf("staging output %s: no longer there (removed by "
		    "quarantine_retention, or never written)\n",
		    checks_str(st, "path"));
}

static int
cmd_checks_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args = { 0 };
	const char	*key = NULL;
	json_t		*doc;
	int		 c, json = 0, rc, failed;
	static const struct option longopts[] = {
		/* The list options this question takes (no --since). */
		{ "json", no_argument, NULL, CTL_OPT_JSON },
		{ "limit", required_argument, NULL, CTL_OPT_LIMIT },
		{ "cursor", required_argument, NULL, CTL_OPT_CURSOR },
		{ "partition", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "n:p:h", longopts,
	    NULL)) != -1) {
		if (ctl_list_opt(c, optarg, &args, &json))
			continue;
		if (c == 'p')
			key = optarg;
		else if (c == 'h')
			return ctl_help(ctl);
		else
			return ctl_usage(ctl);
	}
	if (argc - optind != 1 || key == NULL)
		return ctl_usage(ctl);
	read_args_add(&args, "product", argv[optind]);
	read_args_add(&args, "partition", key);
	if ((rc = ctl_ask(ctl, "checks", &args, &doc)) != CTL_EXIT_OK)
		return rc;
	if (json) {
		ctl_json_out(json_incref(doc));
		ctl_list_more(ctl, doc, json, "checks");
	} else
		checks_show(ctl, doc);
	/* The verdict is the whole build's, not only this page's. */
	failed = json_integer_value(json_object_get(json_object_get(doc,
	    "summary"), "failed_errors")) > 0;
	json_decref(doc);
	return failed ? CTL_EXIT_FAILED : CTL_EXIT_OK;
}
