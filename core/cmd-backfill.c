/*
 * cmd-backfill.c -- meshctl backfill: run a range of a job's partitions,
 * a few at a time; and `meshctl backfill cancel ID`.
 *
 * The write layer (act-backfill.c) checks everything before anything is
 * written and creates the backfill whole, in one transaction, exactly as
 * POST /api/v1/backfill does; this parses the options, renders its
 * document and, with --wait, follows the backfill.
 */
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "backfill.h"
#include "meshctl.h"

static int	cmd_backfill_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_backfill_entry = {
	.name = "backfill",
	.args = "JOB --from KEY --to KEY [options] | cancel ID [--now] "
	    "[--json]",
	.summary = "run a range of partitions, a few at a time (durable)",
	.help =
	"Creates a backfill of every partition of JOB from --from to --to,\n"
	"both included, in one transaction, and tells meshd; it is kept if\n"
	"meshd is down and starts when meshd does.  meshd keeps up to\n"
	"--max-active-runs partitions running and starts the next as soon as\n"
	"one ends.  A partition that already has a run queued or running is\n"
	"never given a second: the backfill waits for that run.  A range\n"
	"reaching outside the job's start or end is refused whole (also with\n"
	"--dry-run), naming the bound and the nearest valid key; nothing is\n"
	"written.\n"
	"\n"
	"  -f, --from KEY           first partition (a key of the job's\n"
	"                           schedule, e.g. 2024-01-01 for @daily; not\n"
	"                           before 1970 or the job's start)\n"
	"  -t, --to KEY             last partition, included (before the\n"
	"                           job's end)\n"
	"  -r, --reprocess WHAT     missing: only partitions with no run\n"
	"                           (default); failed: also those whose run\n"
	"                           failed or was cancelled (their failed\n"
	"                           tasks run again); all: every partition,\n"
	"                           every task\n"
	"  -m, --max-active-runs N  partitions running at once (default: the\n"
	"                           job's max_active_runs)\n"
	"      --reverse            newest partition first\n"
	"  -n, --dry-run            list the partitions and what would happen\n"
	"                           to each; write nothing\n"
	"  -w, --wait               then follow its progress until it ends: a\n"
	"                           live bar on a terminal, a line every\n"
	"                           --interval seconds otherwise\n"
	"      --interval SECS      seconds between progress lines (default 10;\n"
	"                           0: at every change)\n"
	"  -y, --yes                allow more than 10,000,000 partitions\n"
	"      --json               {request_id, kind, job, backfill_id, from,\n"
	"                           to, total, reprocess, max_active_runs,\n"
	"                           reverse, meshd, meshd_pid}; with --dry-run\n"
	"                           {dry_run, kind, job, from, to, total,\n"
	"                           reprocess, reverse, counts, partitions:\n"
	"                           [{partition, action, reason}]}\n"
	"\n"
	"meshctl backfill cancel ID [--now] [--json]: launch nothing more;\n"
	"partitions running may finish, or with --now are stopped.\n"
	"\n"
	"See progress with 'meshctl backfills'.  Exit status: 0 created (with\n"
	"--wait: every partition succeeded or was skipped); 1 with --wait, a\n"
	"partition failed or the backfill was cancelled; 2 bad job, key,\n"
	"range, option, or a backfill that has ended; 3 the state cannot be\n"
	"read or written.\n",
	.exec = cmd_backfill_exec,
};

/* Print a dry run's document: a line per partition, then the sums. */
static void
backfill_dry_print(const json_t *doc)
{
	const json_t	*c = json_object_get(doc, "counts"), *p;
	json_int_t	 n = json_integer_value(json_object_get(doc, "total"));
	size_t		 i;

	printf("%-24s %-7s %s\n", "PARTITION", "ACTION", "WHY");
	json_array_foreach(json_object_get(doc, "partitions"), i, p)
		printf("%-24s %-7s %s\n",
		    json_string_value(json_object_get(p, "partition")),
		    json_string_value(json_object_get(p, "action")),
		    json_string_value(json_object_get(p, "reason")));
	printf("dry run: %lld partition%s: %lld run, %lld resume, %lld rerun, "
	    "%lld wait, %lld skip; nothing written\n", (long long)n,
	    n == 1 ? "" : "s",
	    (long long)json_integer_value(json_object_get(c, "run")),
	    (long long)json_integer_value(json_object_get(c, "resume")),
	    (long long)json_integer_value(json_object_get(c, "rerun")),
	    (long long)json_integer_value(json_object_get(c, "wait")),
	    (long long)json_integer_value(json_object_get(c, "skip")));
}

static int
backfill_cancel(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args;
	json_t		*doc;
	long		 v;
	int		 c, json = 0, rc;
	static const struct option longopts[] = {
		{ "now", no_argument, NULL, 'N' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&args, 0, sizeof args);
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'N':
			if (ctl_act_arg(&args, "now", "1") != 0)
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
	if (argc - optind != 1)
		return ctl_usage(ctl);
	if (ctl_number("ID", argv[optind], 1, LONG_MAX, &v) != 0)
		return CTL_EXIT_USAGE;
	if (ctl_act_arg(&args, "id", argv[optind]) != 0)
		return CTL_EXIT_USAGE;
	/* A backfill that has ended (409) is an input error here: exit 2. */
	if ((doc = ctl_act(ctl, NULL, "backfill_cancel", &args, 0,
	    CTL_EXIT_USAGE, &rc)) == NULL)
		return rc;
	if (json) {
		ctl_json_out(doc);
		return CTL_EXIT_OK;
	}
	printf("request %lld: cancel backfill %lld of %s%s: %s\n",
	    (long long)json_integer_value(json_object_get(doc, "request_id")),
	    (long long)json_integer_value(json_object_get(doc,
	    "backfill_id")), json_string_value(json_object_get(doc, "job")),
	    json_is_true(json_object_get(doc, "now")) ? " now" : "",
	    ctl_act_fate(doc));
	json_decref(doc);
	return CTL_EXIT_OK;
}

static int
cmd_backfill_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args;
	struct jobset	 js;
	json_t		*doc = NULL;
	const char	*from = NULL, *to = NULL;
	long		 interval = 10, v;
	int64_t		 id, n;
	int		 c, rc = CTL_EXIT_OK, dry = 0, wait = 0, json = 0;
	enum bf_reprocess rp;
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "reprocess", required_argument, NULL, 'r' },
		{ "max-active-runs", required_argument, NULL, 'm' },
		{ "reverse", no_argument, NULL, 'R' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "wait", no_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "yes", no_argument, NULL, 'y' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	if (argc >= 2 && strcmp(argv[1], "cancel") == 0)
		return backfill_cancel(ctl, argc - 1, argv + 1);
	memset(&args, 0, sizeof args);
	while ((c = getopt_long(argc, argv, "f:t:r:m:nwyh", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'r':
			/* Refused before the jobs load, as always. */
			if (bf_reprocess_parse(optarg, &rp) != 0) {
				ctl_error("--reprocess: '%s' is not one of "
				    "missing, failed, all", optarg);
				return CTL_EXIT_USAGE;
			}
			if (ctl_act_arg(&args, "reprocess", optarg) != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'm':
			if (ctl_number("max-active-runs", optarg, 1, 100000,
			    &v) != 0)
				return CTL_EXIT_USAGE;
			if (ctl_act_arg(&args, "max_active_runs", optarg) != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'R':
			if (ctl_act_arg(&args, "reverse", "1") != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'n':
			dry = 1;
			if (ctl_act_arg(&args, "dry_run", "1") != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'w':
			wait = 1;
			break;
		case 'i':
			if (ctl_number("interval", optarg, 0, 86400,
			    &interval) != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'y':
			if (ctl_act_arg(&args, "yes", "1") != 0)
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
	if (argc - optind != 1 || from == NULL || to == NULL) {
		if (argc - optind == 1)
			ctl_error("a backfill needs both --from and --to");
		return ctl_usage(ctl);
	}
	if (ctl_act_arg(&args, "from", from) != 0 ||
	    ctl_act_arg(&args, "to", to) != 0 ||
	    ctl_act_arg(&args, "job", argv[optind]) != 0)
		return CTL_EXIT_USAGE;
	memset(&js, 0, sizeof js);
	if (ctl_load_job(ctl, &js, argv[optind]) == NULL) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if ((doc = ctl_act(ctl, &js, "backfill", &args, dry, CTL_EXIT_USAGE,
	    &rc)) == NULL)
		goto out;
	if (dry) {
		if (json)
			ctl_json_out(json_incref(doc));
		else
			backfill_dry_print(doc);
		goto out;
	}
	id = json_integer_value(json_object_get(doc, "backfill_id"));
	n = json_integer_value(json_object_get(doc, "total"));
	if (json)
		ctl_json_out(json_incref(doc));
	else
		printf("backfill %lld: %s from %s to %s, %lld partition%s, "
		    "reprocess %s, up to %lld at a time%s: %s\n",
		    (long long)id, json_string_value(json_object_get(doc,
		    "job")), json_string_value(json_object_get(doc, "from")),
		    json_string_value(json_object_get(doc, "to")),
		    (long long)n, n == 1 ? "" : "s",
		    json_string_value(json_object_get(doc, "reprocess")),
		    (long long)json_integer_value(json_object_get(doc,
		    "max_active_runs")),
		    json_is_true(json_object_get(doc, "reverse")) ?
		    ", newest first" : "", ctl_act_fate(doc));
	fflush(stdout);
	if (wait)
		rc = ctl_backfill_wait(ctl, id, (int)interval);
out:
	json_decref(doc);
	jobset_free(&js);
	return rc;
}
