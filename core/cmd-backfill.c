/*
 * cmd-backfill.c -- meshctl backfill: run a range of a job's partitions,
 * a few at a time; and `meshctl backfill cancel ID`.
 *
 * Everything is checked here, where the operator sees it, before anything
 * is written: the job, both keys (a key off the schedule gets the nearest
 * valid ones), the order of the range and its size.  The backfill is then
 * created whole in one transaction, request included (bf_create()).
 */
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "backfill.h"
#include "meshctl.h"
#include "request.h"
#include "schedule.h"

static int	cmd_backfill_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_backfill_entry = {
	.name = "backfill",
	.args = "JOB --from KEY --to KEY [options] | cancel ID [--now]",
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
	"      --json               {backfill, request, job, partitions}, or\n"
	"                           with --dry-run an array of {partition,\n"
	"                           action, reason}\n"
	"\n"
	"meshctl backfill cancel ID [--now]: launch nothing more; partitions\n"
	"running may finish, or with --now are stopped.\n"
	"\n"
	"See progress with 'meshctl backfills'.  Exit status: 0 created (with\n"
	"--wait: every partition succeeded or was skipped); 1 with --wait, a\n"
	"partition failed or the backfill was cancelled; 2 bad job, key,\n"
	"range, option, or a backfill that has ended; 3 the state cannot be\n"
	"read or written.\n",
	.exec = cmd_backfill_exec,
};

/* The state of each partition's run, for --dry-run. */
static int
dry_run(struct ctl *ctl, const struct job_def *job, enum bf_reprocess rp,
    const struct bf_key *keys, size_t n, int reverse, int json)
{
	struct state	*st = NULL;
	sqlite3_stmt	*stmt = NULL;
	json_t		*arr = json ? json_array() : NULL;
	size_t		 i, count[BF_SKIP + 1];
	int64_t		 job_id = 0;
	char		*cause = NULL;

	memset(count, 0, sizeof count);
	/* No state yet: no partition has a run. */
	if (access(ctl->cfg->state_db, F_OK) == 0) {
		if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL) {
			json_decref(arr);
			return CTL_EXIT_STATE;
		}
		if (state_job_find(st, job->name, &job_id, &cause) != 0) {
			free(cause);
			job_id = 0;
		}
		if (job_id != 0 && sqlite3_prepare_v2(state_sqlite(st),
		    "SELECT state FROM runs WHERE job_id = ? AND "
		    "partition_key = ?", -1, &stmt, NULL) != SQLITE_OK) {
			ctl_error("%s", sqlite3_errmsg(state_sqlite(st)));
			state_close(st);
			json_decref(arr);
			return CTL_EXIT_STATE;
		}
	}
	if (!json)
		printf("%-24s %-7s %s\n", "PARTITION", "ACTION", "WHY");
	for (i = 0; i < n; i++) {
		const struct bf_key *k = &keys[reverse ? n - 1 - i : i];
		const char	*rs = NULL, *why;
		char		*s = NULL;
		enum bf_action	 a;

		if (stmt != NULL) {
			sqlite3_bind_int64(stmt, 1, job_id);
			sqlite3_bind_text(stmt, 2, k->key, -1, SQLITE_STATIC);
			if (sqlite3_step(stmt) == SQLITE_ROW)
				s = xstrdup((const char *)sqlite3_column_text(
				    stmt, 0));
			sqlite3_reset(stmt);
			rs = s;
		}
		a = bf_decide(rs, rp, &why);
		count[a]++;
		if (json)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s}",
			    "partition", k->key, "action", bf_action_name(a),
			    "reason", why));
		else
			printf("%-24s %-7s %s\n", k->key, bf_action_name(a),
			    why);
		free(s);
	}
	sqlite3_finalize(stmt);
	if (st != NULL)
		state_close(st);
	if (json)
		ctl_json_out(arr);
	else
		printf("dry run: %zu partition%s: %zu run, %zu resume, %zu "
		    "rerun, %zu wait, %zu skip; nothing written\n", n,
		    n == 1 ? "" : "s", count[BF_RUN], count[BF_RESUME],
		    count[BF_RERUN], count[BF_WAIT], count[BF_SKIP]);
	return CTL_EXIT_OK;
}

static int
backfill_cancel(struct ctl *ctl, int argc, char **argv)
{
	struct state	*st;
	struct bf_info	 b;
	char		*cause = NULL, *args;
	int64_t		 id, rid;
	long		 v;
	int		 c, now = 0, rc;
	pid_t		 pid;
	static const struct option longopts[] = {
		{ "now", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'N':
			now = 1;
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
	id = v;
	if ((st = ctl_state(ctl, STATE_RDWR)) == NULL)
		return CTL_EXIT_STATE;
	if ((rc = bf_get(st, id, &b, &cause)) != 0) {
		if (rc < 0) {
			ctl_error("%s", cause);
			free(cause);
		} else
			ctl_error("no backfill %lld (see 'meshctl backfills')",
			    (long long)id);
		state_close(st);
		return rc < 0 ? CTL_EXIT_STATE : CTL_EXIT_USAGE;
	}
	if (bf_finished(&b)) {
		ctl_error("backfill %lld has already ended (%s%s%s): nothing "
		    "to cancel", (long long)id, b.state, b.result != NULL ?
		    ": " : "", b.result != NULL ? b.result : "");
		bf_info_free(&b);
		state_close(st);
		return CTL_EXIT_USAGE;
	}
	args = xasprintf("{\"backfill\": %lld, \"now\": %s}", (long long)id,
	    now ? "true" : "false");
	rc = request_add(st, "cancel", b.job, NULL, args, &rid, &cause);
	free(args);
	state_close(st);
	if (rc != 0) {
		ctl_error("%s", cause);
		free(cause);
		bf_info_free(&b);
		return CTL_EXIT_STATE;
	}
	pid = request_poke(ctl->cfg->state_db);
	printf("request %lld: cancel backfill %lld of %s%s: %s\n",
	    (long long)rid, (long long)id, b.job, now ? " now" : "",
	    ctl_request_fate(pid));
	bf_info_free(&b);
	return CTL_EXIT_OK;
}

static int
cmd_backfill_exec(struct ctl *ctl, int argc, char **argv)
{
	struct jobset	 js;
	struct job_def	*job;
	struct state	*st;
	struct bf_spec	 sp;
	struct bf_key	*keys = NULL;
	const char	*from = NULL, *to = NULL;
	char		*fkey = NULL, *tkey = NULL, *cause = NULL;
	const char	*which = NULL;
	int64_t		 fs, fe, ts, te, id, rid;
	size_t		 n = 0;
	long		 max_active = 0, interval = 10;
	int		 c, rc = CTL_EXIT_OK, dry = 0, wait = 0, yes = 0;
	int		 json = 0, reverse = 0;
	enum bf_reprocess rp = BF_MISSING;
	pid_t		 pid;
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
			if (bf_reprocess_parse(optarg, &rp) != 0) {
				ctl_error("--reprocess: '%s' is not one of "
				    "missing, failed, all", optarg);
				return CTL_EXIT_USAGE;
			}
			break;
		case 'm':
			if (ctl_number("max-active-runs", optarg, 1, 100000,
			    &max_active) != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'R':
			reverse = 1;
			break;
		case 'n':
			dry = 1;
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
			yes = 1;
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
	memset(&js, 0, sizeof js);
	if ((job = ctl_load_job(ctl, &js, argv[optind])) == NULL) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (!job_has_schedule(job)) {
		ctl_error("%s has no schedule, so no range of partitions to "
		    "backfill; run one with 'meshctl trigger %s --partition "
		    "KEY'", job->name, job->name);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (job_parse_key(job, from, &fs, &fe, &fkey, &cause) != 0 ||
	    job_parse_key(job, to, &ts, &te, &tkey, &cause) != 0) {
		ctl_error("--%s: %s", fkey == NULL ? "from" : "to", cause);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	/* A range outside the job's partitions is a mistake to name, not
	 * an empty backfill: "0 partitions" with exit 0 hid a typo. */
	if (fs < 0 || ts < 0) {
		ctl_error("--%s %s is before 1970-01-01: partitions start at "
		    "the Unix epoch", fs < 0 ? "from" : "to", fs < 0 ? fkey :
		    tkey);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	/* The job's start and end hold for a backfill as for a trigger (the
	 * same check); a range partly outside is refused, not clipped, so
	 * that what runs is what was typed.  meshd checks again. */
	if (job_check_bounds(job, fs, fkey, &cause) != 0)
		which = "from";
	else if (job_check_bounds(job, ts, tkey, &cause) != 0)
		which = "to";
	if (which != NULL) {
		ctl_error("--%s: %s; nothing was written", which, cause);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (fs > ts) {
		ctl_error("the range is the wrong way round: --from %s is after "
		    "--to %s (swap them; --reverse runs the newest first)",
		    fkey, tkey);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	/* Count first, cheaply: a typo in a year must not allocate ten
	 * million keys before it is refused. */
	if (!yes && bf_enumerate(job, fs, ts, BF_CONFIRM_OVER, NULL) >
	    (size_t)BF_CONFIRM_OVER) {
		ctl_error("%s from %s to %s is more than 10,000,000 partitions; "
		    "add --yes if you mean it", job->name, fkey, tkey);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	n = bf_enumerate(job, fs, ts, SIZE_MAX - 1, &keys);
	if (dry) {
		rc = dry_run(ctl, job, rp, keys, n, reverse, json);
		goto out;
	}

	memset(&sp, 0, sizeof sp);
	sp.job = job->name;
	sp.from_key = fkey;
	sp.to_key = tkey;
	sp.reprocess = rp;
	sp.max_active_runs = max_active > 0 ? (int)max_active :
	    job->max_active_runs;
	sp.reverse = reverse;
	if ((st = ctl_state(ctl, STATE_RDWR)) == NULL) {
		rc = CTL_EXIT_STATE;
		goto out;
	}
	if (bf_create(st, &sp, keys, n, &id, &rid, &cause) != 0) {
		ctl_error("%s", cause);
		state_close(st);
		rc = CTL_EXIT_STATE;
		goto out;
	}
	state_close(st);
	pid = request_poke(ctl->cfg->state_db);
	if (json)
		ctl_json_out(json_pack("{s:I, s:I, s:s, s:s, s:s, s:I, s:s, "
		    "s:i, s:I}", "backfill", (json_int_t)id, "request",
		    (json_int_t)rid, "job", job->name, "from", fkey, "to", tkey,
		    "partitions", (json_int_t)n, "reprocess",
		    bf_reprocess_name(rp), "max_active_runs",
		    sp.max_active_runs, "daemon_pid", (json_int_t)pid));
	else
		printf("backfill %lld: %s from %s to %s, %zu partition%s, "
		    "reprocess %s, up to %d at a time%s: %s\n", (long long)id,
		    job->name, fkey, tkey, n, n == 1 ? "" : "s",
		    bf_reprocess_name(rp), sp.max_active_runs,
		    reverse ? ", newest first" : "", ctl_request_fate(pid));
	fflush(stdout);
	if (wait)
		rc = ctl_backfill_wait(ctl, id, (int)interval);
out:
	bf_keys_free(keys, n);
	free(fkey);
	free(tkey);
	free(cause);
	jobset_free(&js);
	return rc;
}
