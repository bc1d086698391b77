/*
 * cmd-backfills.c -- meshctl backfills: list backfills with their progress,
 * show one, or follow one until it ends (ctl_backfill_wait(), also behind
 * `meshctl backfill --wait`).
 *
 * Progress is one row: meshd keeps the counters in the backfills row, so
 * this reads no partitions, however many there are.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "backfill.h"
#include "lock.h"
#include "meshctl.h"

static int	cmd_backfills_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_backfills_entry = {
	.name = "backfills",
	.args = "[JOB | ID] [--state S] [--limit N] [--wait] [--json]",
	.summary = "list backfills and their progress, or show or follow one",
	.help =
	"With no argument, or a job, lists backfills newest first: their\n"
	"state, how many partitions have succeeded, failed, been skipped or\n"
	"are running, and the range.  With an ID shows that backfill and its\n"
	"failed partitions.\n"
	"\n"
	"  -s, --state S     only backfills in state S (pending, running,\n"
	"                    cancelling, success, failed, cancelled)\n"
	"  -l, --limit N     at most N backfills (default 20)\n"
	"  -w, --wait        with an ID: follow it until it ends, with a live\n"
	"                    bar on a terminal and plain lines otherwise\n"
	"      --interval S  seconds between progress lines when not on a\n"
	"                    terminal (default 10; 0: at every change)\n"
	"      --json        JSON: an array of backfills, or one object\n"
	"\n"
	"Exit status: 0 listed (with --wait: the backfill succeeded); 1 with\n"
	"an ID, the backfill failed or was cancelled; 2 unknown backfill or\n"
	"bad option; 3 the state cannot be read.\n",
	.exec = cmd_backfills_exec,
};

static const char *const bf_states[] = {
	"pending", "running", "cancelling", "success", "failed", "cancelled"
};

static json_t *
bf_json(const struct bf_info *b)
{
	char	c[32], s[32], e[32];

	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:s, s:s?, s:s?, s:s?, s:s?}",
	    "id", (json_int_t)b->id, "job", b->job, "state", b->state,
	    "from", b->from_key, "to", b->to_key, "reprocess", b->reprocess,
	    "max_active_runs", b->max_active_runs, "reverse", b->reverse,
	    "total", (json_int_t)b->total, "done", (json_int_t)(b->success +
	    b->failed + b->skipped + b->cancelled), "running",
	    (json_int_t)b->running, "success", (json_int_t)b->success,
	    "failed", (json_int_t)b->failed, "skipped",
	    (json_int_t)b->skipped, "cancelled", (json_int_t)b->cancelled,
	    "created_utc", fmt_utc(b->created_us, c, sizeof c),
	    "started_utc", b->started_us != 0 ? fmt_utc(b->started_us, s,
	    sizeof s) : NULL,
	    "ended_utc", b->ended_us != 0 ? fmt_utc(b->ended_us, e, sizeof e) :
	    NULL, "created_by", b->created_by, "result", b->result);
}

/* "1h02m", "45s", "-". */
static const char *
fmt_eta(double s, char *buf, size_t len)
{
	long	v;

	if (s < 0 || s > 1e9) {
		snprintf(buf, len, "-");
		return buf;
	}
	v = (long)(s + 0.5);
	if (v >= 3600)
		snprintf(buf, len, "%ldh%02ldm", v / 3600, v / 60 % 60);
	else if (v >= 60)
		snprintf(buf, len, "%ldm%02lds", v / 60, v % 60);
	else
		snprintf(buf, len, "%lds", v);
	return buf;
}

static int64_t
bf_done(const struct bf_info *b)
{
	return b->success + b->failed + b->skipped + b->cancelled;
}

int
ctl_backfill_wait(struct ctl *ctl, int64_t id, int interval)
{
	struct state	*st;
	struct bf_info	 b;
	struct timespec	 ts = { 0, 200 * 1000 * 1000 };
	char		*cause = NULL, eta[32], took[32];
	int64_t		 t0 = mono_us(), last_line = 0, base = -1, seen = -1;
	int64_t		 seen_running = -1, now;
	int		 tty = isatty(STDOUT_FILENO), rc, warned = 0;
	double		 rate, left;

	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
		return CTL_EXIT_STATE;
	state_set_deadline(st, 0);	/* following: each wait alone bounded */
	for (;;) {
		if ((rc = bf_get(st, id, &b, &cause)) != 0) {
			if (rc < 0) {
				ctl_error("%s", cause);
				free(cause);
			} else
				ctl_error("no backfill %lld", (long long)id);
			state_close(st);
			return rc < 0 ? CTL_EXIT_STATE : CTL_EXIT_USAGE;
		}
		now = mono_us();
		if (base < 0)
			base = bf_done(&b);
		/* The rate since we started watching: what is left takes
		 * that long again. */
		rate = now > t0 ? (double)(bf_done(&b) - base) /
		    ((double)(now - t0) / 1e6) : 0;
		left = rate > 0 ? (double)(b.total - bf_done(&b)) / rate : -1;
		fmt_eta(left, eta, sizeof eta);
		if (!warned && !bf_finished(&b) &&
		    state_lock_holder(ctl->cfg->state_db) == 0) {
			fprintf(stderr, "meshctl: meshd is not running: backfill "
			    "%lld starts when it does\n", (long long)id);
			warned = 1;
		}
		if (tty) {
			int	width = 30, fill;
			char	bar[64];

			fill = b.total > 0 ? (int)(bf_done(&b) * width /
			    b.total) : width;
			memset(bar, '#', (size_t)fill);
			memset(bar + fill, '.', (size_t)(width - fill));
			bar[width] = '\0';
			printf("\r[%s] %lld/%lld  %s%lld ok%s  %s%lld failed%s  "
			    "%lld skipped  %s%lld running%s  ETA %s\033[K", bar,
			    (long long)bf_done(&b), (long long)b.total,
			    ctl_color_on(ctl, "success"), (long long)b.success,
			    ctl_color_off(ctl), ctl_color_on(ctl, b.failed > 0 ?
			    "failed" : ""), (long long)b.failed,
			    ctl_color_off(ctl), (long long)b.skipped,
			    ctl_color_on(ctl, "running"), (long long)b.running,
			    ctl_color_off(ctl), eta);
			fflush(stdout);
		} else if (bf_finished(&b) || ((bf_done(&b) != seen ||
		    b.running != seen_running) && (last_line == 0 ||
		    now - last_line >= (int64_t)interval * 1000000))) {
			printf("backfill %lld: %lld/%lld done: %lld ok, %lld "
			    "failed, %lld skipped, %lld cancelled; %lld running; "
			    "ETA %s\n", (long long)id, (long long)bf_done(&b),
			    (long long)b.total, (long long)b.success,
			    (long long)b.failed, (long long)b.skipped,
			    (long long)b.cancelled, (long long)b.running,
			    bf_finished(&b) ? "-" : eta);
			fflush(stdout);
			last_line = now;
			seen = bf_done(&b);
			seen_running = b.running;
		}
		if (bf_finished(&b))
			break;
		bf_info_free(&b);
		nanosleep(&ts, NULL);
	}
	state_close(st);
	if (tty)
		putchar('\n');
	printf("backfill %lld %s%s%s in %s: %s\n", (long long)id,
	    ctl_color_on(ctl, b.state), b.state, ctl_color_off(ctl),
	    fmt_duration(b.ended_us > b.started_us && b.started_us != 0 ?
	    b.ended_us - b.started_us : 0, took, sizeof took),
	    b.result != NULL ? b.result : "");
	rc = strcmp(b.state, "success") == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILED;
	bf_info_free(&b);
	return rc;
}

/* One backfill, with its failed partitions. */
static int
show_one(struct ctl *ctl, struct state *st, int64_t id, int json)
{
	struct bf_info	 b;
	sqlite3_stmt	*stmt;
	json_t		*obj, *arr;
	char		*cause = NULL, t[32];
	int		 rc, n = 0;

	if ((rc = bf_get(st, id, &b, &cause)) != 0) {
		if (rc < 0) {
			ctl_error("%s", cause);
			free(cause);
			return CTL_EXIT_STATE;
		}
		ctl_error("no backfill %lld (see 'meshctl backfills')",
		    (long long)id);
		return CTL_EXIT_USAGE;
	}
	arr = json_array();
	if (!json) {
		printf("backfill %lld: %s from %s to %s\n", (long long)b.id,
		    b.job, b.from_key, b.to_key);
		printf("  state:      %s%s%s%s%s\n", ctl_color_on(ctl, b.state),
		    b.state, ctl_color_off(ctl), b.result != NULL ? ": " : "",
		    b.result != NULL ? b.result : "");
		printf("  progress:   %lld/%lld done: %lld ok, %lld failed, "
		    "%lld skipped, %lld cancelled; %lld running\n",
		    (long long)bf_done(&b), (long long)b.total,
		    (long long)b.success, (long long)b.failed,
		    (long long)b.skipped, (long long)b.cancelled,
		    (long long)b.running);
		printf("  reprocess:  %s, up to %d at a time%s\n", b.reprocess,
		    b.max_active_runs, b.reverse ? ", newest first" : "");
		printf("  created:    %s by %s\n", ctl_time(b.created_us, t,
		    sizeof t), b.created_by != NULL ? b.created_by : "?");
		printf("  started:    %s\n", ctl_time(b.started_us, t,
		    sizeof t));
		printf("  ended:      %s\n", ctl_time(b.ended_us, t, sizeof t));
	}
	/* The failed ones are what an operator acts on; at most 20. */
	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT partition_key, "
	    "run_id FROM backfill_partitions INDEXED BY "
	    "backfill_partitions_state WHERE backfill_id = ? AND state = "
	    "'failed' ORDER BY seq LIMIT 20", -1, &stmt, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(stmt, 1, id);
		while (sqlite3_step(stmt) == SQLITE_ROW) {
			if (json)
				json_array_append_new(arr, json_string(
				    ctl_col(stmt, 0)));
			else
				printf("%s%s", n++ == 0 ? "  failed:     " :
				    " ", ctl_col(stmt, 0));
		}
		if (n > 0)
			putchar('\n');
		sqlite3_finalize(stmt);
	}
	if (json) {
		obj = bf_json(&b);
		json_object_set_new(obj, "failed_partitions", arr);
		ctl_json_out(obj);
	} else
		json_decref(arr);
	rc = strcmp(b.state, "failed") == 0 ||
	    strcmp(b.state, "cancelled") == 0 ? CTL_EXIT_FAILED : CTL_EXIT_OK;
	bf_info_free(&b);
	return rc;
}

static int
is_id(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int
cmd_backfills_exec(struct ctl *ctl, int argc, char **argv)
{
	struct state	*st;
	sqlite3_stmt	*stmt = NULL;
	struct bf_info	 b;
	const char	*state = NULL, *job = NULL;
	json_t		*arr = NULL;
	char		 t[32], prog[48], range[80];
	long		 limit = 20, interval = 10, v;
	size_t		 i;
	int		 c, json = 0, wait = 0, rc = CTL_EXIT_OK, n = 0;
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'l' },
		{ "wait", no_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "s:l:wh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			state = optarg;
			for (i = 0; i < nitems(bf_states); i++)
				if (strcmp(state, bf_states[i]) == 0)
					break;
			if (i == nitems(bf_states)) {
				ctl_error("--state: '%s' is not one of pending, "
				    "running, cancelling, success, failed, "
				    "cancelled", state);
				return CTL_EXIT_USAGE;
			}
			break;
		case 'l':
			if (ctl_number("limit", optarg, 1, 1000000, &limit) != 0)
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
	if (argc - optind == 1 && is_id(argv[optind])) {
		if (ctl_number("ID", argv[optind], 1, LONG_MAX, &v) != 0)
			return CTL_EXIT_USAGE;
		if (wait)
			return ctl_backfill_wait(ctl, v, (int)interval);
		if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
			return CTL_EXIT_STATE;
		rc = show_one(ctl, st, v, json);
		state_close(st);
		return rc;
	}
	if (wait) {
		ctl_error("--wait follows one backfill: give its ID");
		return CTL_EXIT_USAGE;
	}
	if (argc - optind == 1)
		job = argv[optind];
	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
		return CTL_EXIT_STATE;
	if (job != NULL) {
		int64_t	id;

		/* An unknown job is an error, not an empty list. */
		if (ctl_state_job(ctl, st, job, &id) != 0) {
			state_close(st);
			return CTL_EXIT_USAGE;
		}
	}
	/* Newest first through backfills_job or backfills_state (or the
	 * primary key): no scan, however many there are. */
	if (sqlite3_prepare_v2(state_sqlite(st), job != NULL ?
	    "SELECT " BF_COLUMNS " FROM backfills WHERE job = ?1 AND (?2 IS "
	    "NULL OR state = ?2) ORDER BY id DESC LIMIT ?3" : state != NULL ?
	    "SELECT " BF_COLUMNS " FROM backfills WHERE state = ?2 AND ?1 IS "
	    "NULL ORDER BY id DESC LIMIT ?3" :
	    "SELECT " BF_COLUMNS " FROM backfills WHERE ?1 IS NULL AND ?2 IS "
	    "NULL ORDER BY id DESC LIMIT ?3", -1, &stmt, NULL) != SQLITE_OK) {
		ctl_error("%s", sqlite3_errmsg(state_sqlite(st)));
		state_close(st);
		return CTL_EXIT_STATE;
	}
	if (job != NULL)
		sqlite3_bind_text(stmt, 1, job, -1, SQLITE_STATIC);
	if (state != NULL)
		sqlite3_bind_text(stmt, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, limit + 1);
	if (json)
		arr = json_array();
	else
		printf("%-5s %-20s %-10s %-15s %6s %6s %6s %7s  %-25s %s\n", "ID",
		    "JOB", "STATE", "PROGRESS", "OK", "FAILED", "SKIP",
		    "RUNNING", "RANGE", "CREATED");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		if (n++ == limit) {
			if (!json)
				printf("(more; use --limit)\n");
			break;
		}
		bf_row(stmt, &b);
		if (json)
			json_array_append_new(arr, bf_json(&b));
		else {
			snprintf(prog, sizeof prog, "%lld/%lld %3d%%",
			    (long long)bf_done(&b), (long long)b.total,
			    b.total > 0 ? (int)(bf_done(&b) * 100 / b.total) :
			    100);
			snprintf(range, sizeof range, "%s..%s", b.from_key,
			    b.to_key);
			printf("%-5lld %-20s %s%-10s%s %-15s %6lld %6lld %6lld "
			    "%7lld  %-25s %s\n", (long long)b.id, b.job,
			    ctl_color_on(ctl, b.state), b.state,
			    ctl_color_off(ctl), prog, (long long)b.success,
			    (long long)b.failed, (long long)b.skipped,
			    (long long)b.running, range, ctl_time(b.created_us, t,
			    sizeof t));
		}
		bf_info_free(&b);
	}
	sqlite3_finalize(stmt);
	state_close(st);
	if (json)
		ctl_json_out(arr);
	return rc;
}
