/*
 * cmd-backfills.c -- meshctl backfills: list backfills with their progress,
 * show one, or follow one until it ends (ctl_backfill_wait(), also behind
 * `meshctl backfill --wait`), from the read layer's question `backfills`.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "meshctl.h"
#include "read.h"

static int	cmd_backfills_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_backfills_entry = {
	.name = "backfills",
	.args = "[JOB | ID] [--state S] [--limit N] [--cursor C] [--wait] "
	    "[--json]",
	.summary = "list backfills and their progress, or show or follow one",
	.help =
	"With no argument, or a job, lists backfills newest first: their\n"
	"state, how many partitions have succeeded, failed, been skipped or\n"
	"are running, and the range.  With an ID shows that backfill and its\n"
	"failed partitions (the first 20).\n"
	"\n"
	"  -s, --state S     only backfills in state S (pending, running,\n"
	"                    cancelling, success, failed, cancelled)\n"
	"  -n, --limit N     at most N backfills (default 20, at most 10000);\n"
	"                    a last line gives the --cursor of the next page\n"
	"                    (-l is kept for --limit)\n"
	"      --cursor C    the page after the one that printed C\n"
	"  -w, --wait        with an ID: follow it until it ends, with a live\n"
	"                    bar on a terminal and plain lines otherwise\n"
	"      --interval S  seconds between progress lines when not on a\n"
	"                    terminal (default 10; 0: at every change)\n"
	"      --json        the document of GET /api/v1/backfills:\n"
	"                    {backfills: [{id, job, state, from, to,\n"
	"                    reprocess, max_active_runs, reverse, total, done,\n"
	"                    running, success, failed, skipped, cancelled,\n"
	"                    created_us, started_us, ended_us, *_local,\n"
	"                    created_by, result}], next_cursor}; with an ID\n"
	"                    (id=ID) the one backfill, with failed_partitions\n"
	"\n"
	"Exit status: 0 listed (with --wait: the backfill succeeded); 1 with\n"
	"an ID, the backfill failed or was cancelled; 2 unknown backfill or\n"
	"bad option; 3 the state cannot be read.\n",
	.exec = cmd_backfills_exec,
};

static json_int_t
bf_int(const json_t *b, const char *k)
{
	return json_integer_value(json_object_get(b, k));
}

static const char *
bf_str(const json_t *b, const char *k)
{
	const char	*v = json_string_value(json_object_get(b, k));

	return v != NULL ? v : "";
}

static int
bf_ended(const json_t *b)
{
	const char	*s = bf_str(b, "state");

	return strcmp(s, "success") == 0 || strcmp(s, "failed") == 0 ||
	    strcmp(s, "cancelled") == 0;
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

/*
 * The wait asks the question `backfills` id=ID five times a second on one
 * state connection of its own (ctl_ask would load meshd.conf and every
 * job file each time): the progress is one row, whatever the size.
 */
int
ctl_backfill_wait(struct ctl *ctl, int64_t id, int interval)
{
	struct read_ctx	 rc;
	struct read_args args = { 0 };
	struct read_error err;
	struct timespec	 ts = { 0, 200 * 1000 * 1000 };
	json_t		*doc, *b = NULL;
	char		 id_s[32], eta[32], took[32];
	int64_t		 t0 = mono_us(), last_line = 0, base = -1, seen = -1;
	int64_t		 seen_running = -1, now, done, total, running;
	int		 tty = isatty(STDOUT_FILENO), ret, warned = 0;
	double		 rate, left;

	memset(&rc, 0, sizeof rc);
	if ((rc.st = ctl_state(ctl, STATE_RDONLY)) == NULL)
		return CTL_EXIT_STATE;
	state_set_deadline(rc.st, 0);	/* following: each wait alone bounded */
	rc.cfg = ctl->cfg;
	snprintf(id_s, sizeof id_s, "%lld", (long long)id);
	read_args_add(&args, "id", id_s);
	for (;;) {
		rc.now_us = now_us();
		if ((doc = read_ask(&rc, "backfills", &args, &err)) == NULL) {
			ctl_error("%s", err.message);
			state_close(rc.st);
			return read_exit_code(err.status);
		}
		b = json_array_get(json_object_get(doc, "backfills"), 0);
		done = bf_int(b, "done");
		total = bf_int(b, "total");
		running = bf_int(b, "running");
		now = mono_us();
		if (base < 0)
			base = done;
		/* The rate since we started watching: what is left takes
		 * that long again. */
		rate = now > t0 ? (double)(done - base) /
		    ((double)(now - t0) / 1e6) : 0;
		left = rate > 0 ? (double)(total - done) / rate : -1;
		fmt_eta(left, eta, sizeof eta);
		if (!warned && !bf_ended(b) &&
		    state_lock_holder(ctl->cfg->state_db) == 0) {
			fprintf(stderr, "meshctl: meshd is not running: backfill "
			    "%lld starts when it does\n", (long long)id);
			warned = 1;
		}
		if (tty) {
			int	width = 30, fill;
			char	bar[64];

			fill = total > 0 ? (int)(done * width / total) : width;
			memset(bar, '#', (size_t)fill);
			memset(bar + fill, '.', (size_t)(width - fill));
			bar[width] = '\0';
			printf("\r[%s] %lld/%lld  %s%lld ok%s  %s%lld failed%s  "
			    "%lld skipped  %s%lld running%s  ETA %s\033[K", bar,
			    (long long)done, (long long)total,
			    ctl_color_on(ctl, "success"),
			    (long long)bf_int(b, "success"), ctl_color_off(ctl),
			    ctl_color_on(ctl, bf_int(b, "failed") > 0 ?
			    "failed" : ""), (long long)bf_int(b, "failed"),
			    ctl_color_off(ctl), (long long)bf_int(b, "skipped"),
			    ctl_color_on(ctl, "running"), (long long)running,
			    ctl_color_off(ctl), eta);
			fflush(stdout);
		} else if (bf_ended(b) || ((done != seen ||
		    running != seen_running) && (last_line == 0 ||
		    now - last_line >= (int64_t)interval * 1000000))) {
			printf("backfill %lld: %lld/%lld done: %lld ok, %lld "
			    "failed, %lld skipped, %lld cancelled; %lld running; "
			    "ETA %s\n", (long long)id, (long long)done,
			    (long long)total, (long long)bf_int(b, "success"),
			    (long long)bf_int(b, "failed"),
			    (long long)bf_int(b, "skipped"),
			    (long long)bf_int(b, "cancelled"),
			    (long long)running, bf_ended(b) ? "-" : eta);
			fflush(stdout);
			last_line = now;
			seen = done;
			seen_running = running;
		}
		if (bf_ended(b))
			break;
		json_decref(doc);
		nanosleep(&ts, NULL);
	}
	state_close(rc.st);
	if (tty)
		putchar('\n');
	printf("backfill %lld %s%s%s in %s: %s\n", (long long)id,
	    ctl_color_on(ctl, bf_str(b, "state")), bf_str(b, "state"),
	    ctl_color_off(ctl), fmt_duration(bf_int(b, "ended_us") >
	    bf_int(b, "started_us") && bf_int(b, "started_us") != 0 ?
	    bf_int(b, "ended_us") - bf_int(b, "started_us") : 0, took,
	    sizeof took), bf_str(b, "result"));
	ret = strcmp(bf_str(b, "state"), "success") == 0 ? CTL_EXIT_OK :
	    CTL_EXIT_FAILED;
	json_decref(doc);
	return ret;
}

/* One backfill, with its failed partitions. */
static void
show_one(struct ctl *ctl, const json_t *b)
{
	const json_t	*p;
	const char	*by = json_string_value(json_object_get(b,
			    "created_by"));
	size_t		 i;

	printf("backfill %lld: %s from %s to %s\n", (long long)bf_int(b, "id"),
	    bf_str(b, "job"), bf_str(b, "from"), bf_str(b, "to"));
	printf("  state:      %s%s%s%s%s\n", ctl_color_on(ctl,
	    bf_str(b, "state")), bf_str(b, "state"), ctl_color_off(ctl),
	    json_is_string(json_object_get(b, "result")) ? ": " : "",
	    bf_str(b, "result"));
	printf("  progress:   %lld/%lld done: %lld ok, %lld failed, %lld "
	    "skipped, %lld cancelled; %lld running\n",
	    (long long)bf_int(b, "done"), (long long)bf_int(b, "total"),
	    (long long)bf_int(b, "success"), (long long)bf_int(b, "failed"),
	    (long long)bf_int(b, "skipped"), (long long)bf_int(b, "cancelled"),
	    (long long)bf_int(b, "running"));
	printf("  reprocess:  %s, up to %lld at a time%s\n",
	    bf_str(b, "reprocess"), (long long)bf_int(b, "max_active_runs"),
	    json_is_true(json_object_get(b, "reverse")) ? ", newest first" :
	    "");
	printf("  created:    %s by %s\n", bf_str(b, "created_local"),
	    by != NULL ? by : "?");
	printf("  started:    %s\n", bf_str(b, "started_local"));
	printf("  ended:      %s\n", bf_str(b, "ended_local"));
	json_array_foreach(json_object_get(b, "failed_partitions"), i, p)
		printf("%s%s", i == 0 ? "  failed:     " : " ",
		    json_string_value(p));
	if (json_array_size(json_object_get(b, "failed_partitions")) > 0)
		putchar('\n');
}

static const char *
bf_progress(const json_t *b, char *buf, size_t len)
{
	json_int_t	done = bf_int(b, "done"), total = bf_int(b, "total");

	snprintf(buf, len, "%lld/%lld %3d%%", (long long)done,
	    (long long)total, total > 0 ? (int)(done * 100 / total) : 100);
	return buf;
}

static const char *
bf_range(const json_t *b, char *buf, size_t len)
{
	snprintf(buf, len, "%s..%s", bf_str(b, "from"), bf_str(b, "to"));
	return buf;
}

static const struct ctl_column bf_columns[] = {
	{ "ID", "id", CTL_COL_RIGHT, NULL },
	{ "JOB", "job", 0, NULL },
	{ "STATE", "state", CTL_COL_STATE, NULL },
	{ "PROGRESS", "done", 0, bf_progress },
	{ "OK", "success", CTL_COL_RIGHT, NULL },
	{ "FAILED", "failed", CTL_COL_RIGHT, NULL },
	{ "SKIP", "skipped", CTL_COL_RIGHT, NULL },
	{ "RUNNING", "running", CTL_COL_RIGHT, NULL },
	{ "RANGE", "from", 0, bf_range },
	{ "CREATED", "created_local", 0, NULL },
	{ NULL, NULL, 0, NULL }
};

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
	struct read_args args = { 0 };
	json_t		*doc, *b;
	const char	*s;
	long		 interval = 10, v;
	int		 c, json = 0, wait = 0, rc, one = 0;
	static const struct option longopts[] = {
		CTL_LIST_LONGOPTS,
		{ "wait", no_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, CTL_LIST_SHORTOPTS "l:wh",
	    longopts, NULL)) != -1) {
		if (ctl_list_opt(c == 'l' ? CTL_OPT_LIMIT : c, optarg, &args,
		    &json))
			continue;
		switch (c) {
		case 'w':
			wait = 1;
			break;
		case 'i':
			if (ctl_number("interval", optarg, 0, 86400,
			    &interval) != 0)
				return CTL_EXIT_USAGE;
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
		if (wait) {
			if (ctl_config(ctl) == NULL)
				return CTL_EXIT_USAGE;
			return ctl_backfill_wait(ctl, v, (int)interval);
		}
		read_args_add(&args, "id", argv[optind]);
		one = 1;
	} else if (wait) {
		ctl_error("--wait follows one backfill: give its ID");
		return CTL_EXIT_USAGE;
	} else if (argc - optind == 1)
		read_args_add(&args, "job", argv[optind]);
	if ((rc = ctl_ask(ctl, "backfills", &args, &doc)) != CTL_EXIT_OK)
		return rc;
	b = json_array_get(json_object_get(doc, "backfills"), 0);
	if (json)
		ctl_json_out(json_incref(doc));
	else if (one)
		show_one(ctl, b);
	else if (b == NULL)
		printf("(no backfills)\n");
	else
		ctl_table(ctl, json_object_get(doc, "backfills"), bf_columns);
	ctl_list_more(ctl, doc, json, "backfills");
	rc = CTL_EXIT_OK;
	s = bf_str(b, "state");
	if (one && (strcmp(s, "failed") == 0 || strcmp(s, "cancelled") == 0))
		rc = CTL_EXIT_FAILED;
	json_decref(doc);
	return rc;
}
