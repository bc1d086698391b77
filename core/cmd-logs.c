/*
 * cmd-logs.c -- meshctl logs: print the log of one attempt of a task, or
 * follow it as it is written.
 *
 * The verb asks the read layer's question `logs` (read-logs.c) for
 * chunks of the log: one for the part shown, more for --all, and, with
 * --follow, again and again from where the last one stopped until the
 * document says "done" -- the same protocol as the HTTP API's follow
 * stream.  Following reads the state read-only and polls; meshd is never
 * asked anything, so it works the same for a daemon's run and for
 * `meshctl run` in another terminal, and costs the daemon nothing.
 */
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "meshctl.h"
#include "read.h"

/* How often --follow looks at the state and the file. */
#define LOGS_POLL_MS	150

/* What is shown of a log by default: its last MiB.  A plugin can write
 * gigabytes; a terminal (or a script's memory) should not get them all
 * unless asked for with --all. */
#define LOGS_LIMIT_BYTES	(1024 * 1024)

/* The most one question returns (read-logs.c), and the chunks --all and
 * --follow read the rest in. */
#define LOGS_ASK_MAX		(16 * 1024 * 1024)
#define LOGS_CHUNK		(1024 * 1024)

/* The pager when $MESHCTL_PAGER and $PAGER are unset. */
#define LOGS_PAGER		"less -FRX"

static int	cmd_logs_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_logs_entry = {
	.name = "logs",
	.args = "JOB PARTITION TASK [--attempt N] [--tail N | --offset N] "
	    "[--limit-bytes N | --all] [--follow | --json] [--no-pager]",
	.summary = "print the log of a task's attempt (default: the latest)",
	.help =
	"The log holds the plugin's stdout and stderr and the lines it logged\n"
	"through the host, each with its time, level, plugin and task.  A line\n"
	"naming the attempt and its times (in the job's zone; UTC with -u) goes\n"
	"to stderr, so that stdout is the log alone.  Bytes that are not UTF-8\n"
	"are shown as U+FFFD.\n"
	"\n"
	"A log can be large: by default only its last MiB is printed, from the\n"
	"start of a line, and a line on stderr says what was left out and how\n"
	"to see it.  On a terminal the log goes through $MESHCTL_PAGER, else\n"
	"$PAGER, else 'less -FRX' (an empty value, or 'cat', means none).\n"
	"\n"
	"  -a, --attempt N  attempt number (1 is the first try)\n"
	"  -n, --tail N     only the last N lines (within the byte limit; with\n"
	"                   --all, within the last 16 MiB)\n"
	"      --offset N   from byte N on (to read a large log part by part;\n"
	"                   the line on stderr gives the next offset)\n"
	"      --limit-bytes N\n"
	"                   print at most N bytes (default 1048576)\n"
	"      --all        no byte limit: the whole log (or all of --tail N)\n"
	"  -f, --follow     print the log so far (within the limits above),\n"
	"                   then all that is appended, until the attempt ends;\n"
	"                   waits for a task that has not started.  Without\n"
	"                   --attempt, follows the latest attempt and moves on\n"
	"                   to each retry (\"== attempt N ==\" on stderr) until\n"
	"                   the task is done.\n"
	"      --json       the document of GET /api/v1/logs: {job, partition,\n"
	"                   task, attempt, attempt_id, state, path, size,\n"
	"                   offset, next_offset, text, eof, done, ...}: text\n"
	"                   is the part shown (at most 16 MiB), from byte\n"
	"                   offset to next_offset of size\n"
	"      --no-pager   never use a pager\n"
	"\n"
	"Exit status with --follow: 0 if the attempt (or, without --attempt, the\n"
	"task) succeeded or was skipped, 1 if it failed or was cancelled.\n",
	.exec = cmd_logs_exec,
};

static volatile sig_atomic_t logs_signal;

static void
logs_on_signal(int sig)
{
	logs_signal = sig;
}

/* Which part of a log to show (see the help). */
struct logs_window {
	long long	 limit;		/* most bytes; -1: --all */
	long		 tail;		/* last lines; 0: not asked */
	long long	 offset;	/* from this byte; -1: not asked */
};

/* The questions' context, made once for all the chunks. */
struct logs {
	struct ctl		*ctl;
	struct read_ctx		 rc;
	struct jobset		 js;
	char			*st_cause;
	const char		*name, *key, *task;
	FILE			*out;	/* stdout, or the pager */
};

static int
logs_open(struct logs *l, int follow)
{
	struct errlist	errs = ERRLIST_INIT;

	if (ctl_config(l->ctl) == NULL)
		return CTL_EXIT_USAGE;
	/* The jobs only lend their zones to the times shown: a job whose
	 * file is now broken or gone still has its logs, shown in UTC. */
	jobs_load(l->ctl->cfg, &l->js, &errs);
	errlist_free(&errs);
	l->rc.cfg = l->ctl->cfg;
	l->rc.jobs = &l->js;
	l->rc.now_us = now_us();
	l->rc.st = ctl_state_cause(l->ctl, STATE_RDONLY, &l->st_cause);
	l->rc.st_error = l->st_cause;
	/* Following goes on for long: each wait alone is bounded. */
	if (follow && l->rc.st != NULL)
		state_set_deadline(l->rc.st, 0);
	return CTL_EXIT_OK;
}

static void
logs_close(struct logs *l)
{
	if (l->rc.st != NULL)
		state_close(l->rc.st);
	free(l->st_cause);
	jobset_free(&l->js);
}

/*
 * Ask for a chunk: of attempt `attempt` (0: the latest), from `offset`
 * (-1: the end's window, or the last `tail` lines), at most `limit`
 * bytes.  CTL_EXIT_OK with *doc, or the error printed and its exit code.
 */
static int
logs_ask(struct logs *l, long attempt, long long offset, long tail,
    long long limit, json_t **doc)
{
	struct read_args	 args = { 0 };
	struct read_error	 err;
	char			 a[32], o[32], t[32], b[32];

	read_args_add(&args, "job", l->name);
	read_args_add(&args, "partition", l->key);
	read_args_add(&args, "task", l->task);
	if (l->ctl->utc)
		read_args_add(&args, "utc", "1");
	if (attempt > 0) {
		snprintf(a, sizeof a, "%ld", attempt);
		read_args_add(&args, "attempt", a);
	}
	if (offset >= 0) {
		snprintf(o, sizeof o, "%lld", offset);
		read_args_add(&args, "offset", o);
	}
	if (tail > 0) {
		snprintf(t, sizeof t, "%ld", tail);
		read_args_add(&args, "tail", t);
	}
	snprintf(b, sizeof b, "%lld", limit < LOGS_ASK_MAX ? limit :
	    LOGS_ASK_MAX);
	read_args_add(&args, "limit_bytes", b);
	if ((*doc = read_ask(&l->rc, "logs", &args, &err)) != NULL)
		return CTL_EXIT_OK;
	ctl_error("%s", err.message);
	return read_exit_code(err.status);
}

static const char *
logs_str(const json_t *doc, const char *key)
{
	const char	*s = json_string_value(json_object_get(doc, key));

	return s != NULL ? s : "";
}

static long long
logs_int(const json_t *doc, const char *key)
{
	return (long long)json_integer_value(json_object_get(doc, key));
}

/* "== attempt 2 == started 2026-11-28 13:05:00 CET" on stderr, with how
 * it ended when it has. */
static void
logs_header(const json_t *doc)
{
	if (strcmp(logs_str(doc, "state"), "running") == 0)
		fprintf(stderr, "== attempt %lld == started %s, running\n",
		    logs_int(doc, "attempt"), logs_str(doc, "started_local"));
	else
		fprintf(stderr, "== attempt %lld == started %s, %s at %s\n",
		    logs_int(doc, "attempt"), logs_str(doc, "started_local"),
		    logs_str(doc, "state"), logs_str(doc, "ended_local"));
}

/* Write the chunk's text; -1 when the output is gone (the pager quit). */
static int
logs_write(struct logs *l, const json_t *doc)
{
	const json_t	*t = json_object_get(doc, "text");
	size_t		 len = json_string_length(t);

	if (len > 0 && fwrite(json_string_value(t), 1, len, l->out) != len)
		return -1;
	fflush(l->out);
	return 0;
}

/* A pager for a terminal, or NULL for none. */
static FILE *
logs_pager(void)
{
	const char	*p;

	if ((p = getenv("MESHCTL_PAGER")) == NULL &&
	    (p = getenv("PAGER")) == NULL)
		p = LOGS_PAGER;
	if (*p == '\0' || strcmp(p, "cat") == 0)
		return NULL;
	fflush(stdout);
	/* Quitting the pager early must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return popen(p, "w");
}

static void
logs_nap(void)
{
	struct timespec	ts = { 0, LOGS_POLL_MS * 1000000L };

	/* A signal ends the nap early; the caller checks logs_signal. */
	nanosleep(&ts, NULL);
}

static int
logs_good(const char *state)
{
	return strcmp(state, "success") == 0 || strcmp(state, "skipped") == 0;
}

/* Say on stderr that the bytes before `start` of a log of `size` bytes
 * are left out, and how to see them. */
static void
logs_skipped(long long size, long long start, long long end, int follow)
{
	if (start > 0)
		fprintf(stderr, "== %lld of %lld bytes skipped: showing bytes "
		    "%lld-%lld%s; --all shows the whole log, --offset N from "
		    "byte N ==\n", start, size, start, end > 0 ? end - 1 : 0,
		    follow ? " and what follows" : "");
}

/* The first chunk's window: where the user's options put it. */
static long long
logs_first_limit(const struct logs_window *w)
{
	return w->limit < 0 ? LOGS_ASK_MAX : w->limit;
}

/* Say once what a follower waits for: the run a pending request will
 * create, or the task's (first) attempt. */
static void
logs_waiting(struct logs *l, const json_t *doc, const char *waiting)
{
	const char	*down;

	down = state_lock_holder(l->ctl->cfg->state_db) == 0 ?
	    "; meshd is not running" : "";
	if (strcmp(waiting, "run") == 0)
		fprintf(stderr, "== waiting for meshd to create the run (a "
		    "request for %s is pending%s) ==\n", l->name, down);
	else if (strcmp(waiting, "task") == 0)
		fprintf(stderr, "== waiting for task %s to start (run %s%s) "
		    "==\n", l->task, logs_str(doc, "run_state"), down);
	else
		fprintf(stderr, "== waiting for task %s to start (%s%s) ==\n",
		    l->task, logs_str(doc, "task_state"), down);
}

/*
 * Follow: chunk after chunk of the attempt until it is done, then (with
 * no --attempt) each retry until the task is.  The exit code, or -1 when
 * interrupted.
 */
static int
logs_follow(struct logs *l, const struct logs_window *w, long want)
{
	json_t		*doc = NULL;
	long		 pinned = want;
	long long	 next = -1, last_try = 0;
	int64_t		 shown = 0;
	int		 rc = -1, said_wait = 0, r;
	char		 last_state[16] = "";
	const char	*waiting;

	while (rc == -1 && !logs_signal) {
		json_decref(doc);
		if ((r = logs_ask(l, pinned, next >= 0 ? next : w->offset,
		    next >= 0 ? 0 : w->tail, next >= 0 ? LOGS_CHUNK :
		    logs_first_limit(w), &doc)) != CTL_EXIT_OK) {
			doc = NULL;
			rc = r;
			break;
		}
		waiting = json_string_value(json_object_get(doc, "waiting"));
		if (waiting != NULL) {
			if (!said_wait && shown == 0)
				logs_waiting(l, doc, waiting);
			said_wait = 1;
			logs_nap();
			continue;
		}
		if (json_is_null(json_object_get(doc, "attempt_id"))) {
			/* The task is done and has no (further) attempt. */
			if (want != 0) {
				ctl_error("task '%s' of %s %s has no attempt "
				    "%ld", l->task, l->name, l->key, want);
				rc = CTL_EXIT_USAGE;
				break;
			}
			if (shown == 0)
				fprintf(stderr, "== task %s is %s without an "
				    "attempt ==\n", l->task,
				    logs_str(doc, "task_state"));
			else
				fprintf(stderr, "== attempt %lld %s ==\n",
				    last_try, last_state);
			rc = logs_good(logs_str(doc, "task_state")) ?
			    CTL_EXIT_OK : CTL_EXIT_FAILED;
			break;
		}
		if (logs_int(doc, "attempt_id") != shown) {
			logs_header(doc);
			if (shown == 0)
				logs_skipped(logs_int(doc, "size"),
				    logs_int(doc, "offset"),
				    logs_int(doc, "next_offset"), 1);
			shown = logs_int(doc, "attempt_id");
			pinned = (long)logs_int(doc, "attempt");
		}
		logs_write(l, doc);
		next = logs_int(doc, "next_offset");
		if (!json_is_true(json_object_get(doc, "done"))) {
			if (json_is_true(json_object_get(doc, "eof")))
				logs_nap();
			continue;
		}
		/* The worker closed the log before it reported the end, so
		 * what the file holds now is all of it: it was read. */
		last_try = logs_int(doc, "attempt");
		snprintf(last_state, sizeof last_state, "%s",
		    logs_str(doc, "state"));
		if (want != 0) {
			fprintf(stderr, "== attempt %lld %s ==\n", last_try,
			    last_state);
			rc = logs_good(last_state) ? CTL_EXIT_OK :
			    CTL_EXIT_FAILED;
			break;
		}
		/* Is there a retry, or will there be?  The next attempt's
		 * document says (waiting, or done without one). */
		pinned++;
		next = 0;
	}
	json_decref(doc);
	fflush(stdout);
	if (rc == -1 && logs_signal)
		rc = 128 + logs_signal;
	return rc;
}

/* Without --follow: the window, in chunks, then what is left out. */
static int
logs_show(struct logs *l, struct logs_window *w, long want, int json,
    int pager)
{
	json_t		*doc = NULL;
	const char	*waiting;
	long long	 left, size, start, first_limit;
	FILE		*pf = NULL;
	int		 rc;

	/* A default window wider than one question: from the byte that
	 * many before the end (not from a line's start). */
	if (w->offset < 0 && w->tail == 0 && w->limit > LOGS_ASK_MAX) {
		if ((rc = logs_ask(l, want, 0, 0, 1, &doc)) != CTL_EXIT_OK)
			return rc;
		size = logs_int(doc, "size");
		w->offset = size > w->limit ? size - w->limit : 0;
		json_decref(doc);
	}
	first_limit = logs_first_limit(w);
	if (w->limit < 0 && w->tail == 0 && !json)
		first_limit = LOGS_CHUNK;
	if ((rc = logs_ask(l, want, w->offset, w->tail, first_limit,
	    &doc)) != CTL_EXIT_OK)
		return rc;
	waiting = json_string_value(json_object_get(doc, "waiting"));
	rc = CTL_EXIT_USAGE;
	if (waiting != NULL && strcmp(waiting, "run") == 0) {
		ctl_error("job '%s' has no run for partition '%s' (see "
		    "'meshctl runs %s')", l->name, l->key, l->name);
		goto out;
	}
	if (json_is_null(json_object_get(doc, "attempt_id"))) {
		if (want > 0)
			ctl_error("task '%s' of %s %s has no attempt %ld",
			    l->task, l->name, l->key, want);
		else
			ctl_error("task '%s' of %s %s has no attempts (no such "
			    "task, or it never ran)", l->task, l->name, l->key);
		goto out;
	}
	if (json) {
		ctl_json_out(json_incref(doc));
		rc = CTL_EXIT_OK;
		goto out;
	}
	logs_header(doc);
	if (!json_is_null(json_object_get(doc, "log_error"))) {
		ctl_error("%s: %s", !json_is_null(json_object_get(doc,
		    "path")) ? logs_str(doc, "path") : "(no log)",
		    logs_str(doc, "log_error"));
		rc = CTL_EXIT_FAILED;
		goto out;
	}
	size = logs_int(doc, "size");
	start = logs_int(doc, "offset");
	if (size == 0 && strcmp(logs_str(doc, "state"), "running") != 0)
		fprintf(stderr, "(no output)\n");
	logs_skipped(size, start, w->limit < 0 || size - start <= w->limit ?
	    size : start + w->limit, 0);
	if (pager && isatty(STDOUT_FILENO) && (pf = logs_pager()) != NULL)
		l->out = pf;
	want = (long)logs_int(doc, "attempt");
	left = w->limit < 0 ? -1 : w->limit;
	for (;;) {
		if (logs_write(l, doc) != 0)
			break;	/* the pager quit */
		if (left > 0)
			left -= logs_int(doc, "next_offset") -
			    logs_int(doc, "offset");
		if (json_is_true(json_object_get(doc, "eof")) || left == 0 ||
		    logs_int(doc, "next_offset") == logs_int(doc, "offset"))
			break;
		start = logs_int(doc, "next_offset");
		json_decref(doc);
		if ((rc = logs_ask(l, want, start, 0, left > 0 &&
		    left < LOGS_CHUNK ? left : LOGS_CHUNK, &doc)) !=
		    CTL_EXIT_OK) {
			doc = NULL;
			goto out;
		}
	}
	if (pf != NULL)
		pclose(pf);
	l->out = stdout;
	size = logs_int(doc, "size");
	start = logs_int(doc, "next_offset");
	if (start < size && left == 0)
		fprintf(stderr, "== %lld more bytes after byte %lld: --offset "
		    "%lld for the next part ==\n", size - start, start - 1,
		    start);
	rc = CTL_EXIT_OK;
out:
	json_decref(doc);
	return rc;
}

static int
cmd_logs_exec(struct ctl *ctl, int argc, char **argv)
{
	struct logs		 l;
	struct sigaction	 sa;
	struct logs_window	 w = { LOGS_LIMIT_BYTES, 0, -1 };
	int			 c, follow = 0, json = 0;
	int			 rc, pager = 1, all = 0;
	long			 attempt = 0, v;
	static const struct option longopts[] = {
		{ "attempt", required_argument, NULL, 'a' },
		{ "tail", required_argument, NULL, 'n' },
		{ "offset", required_argument, NULL, 'O' },
		{ "limit-bytes", required_argument, NULL, 'L' },
		{ "all", no_argument, NULL, 'A' },
		{ "follow", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "no-pager", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "a:fhn:", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'a':
			if (ctl_number("attempt", optarg, 1, 1000000,
			    &attempt) != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'n':
			if (ctl_number("tail", optarg, 1, 100000000, &v) != 0)
				return CTL_EXIT_USAGE;
			w.tail = v;
			break;
		case 'O':
			if (ctl_number("offset", optarg, 0, LONG_MAX, &v) != 0)
				return CTL_EXIT_USAGE;
			w.offset = v;
			break;
		case 'L':
			if (ctl_number("limit-bytes", optarg, 1, LONG_MAX,
			    &v) != 0)
				return CTL_EXIT_USAGE;
			w.limit = v;
			break;
		case 'A':
			all = 1;
			break;
		case 'P':
			pager = 0;
			break;
		case 'f':
			follow = 1;
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
	if (argc - optind != 3)
		return ctl_usage(ctl);
	if (follow && json) {
		ctl_error("--follow and --json do not go together");
		return CTL_EXIT_USAGE;
	}
	if (w.tail > 0 && w.offset >= 0) {
		ctl_error("--tail and --offset do not go together");
		return CTL_EXIT_USAGE;
	}
	if (all)
		w.limit = -1;
	/* The whole log is read from its start, chunk by chunk. */
	if (w.limit < 0 && w.tail == 0 && w.offset < 0)
		w.offset = 0;
	memset(&l, 0, sizeof l);
	l.ctl = ctl;
	l.out = stdout;
	l.name = argv[optind];
	l.key = argv[optind + 1];
	l.task = argv[optind + 2];
	if ((rc = logs_open(&l, follow)) != CTL_EXIT_OK)
		goto out;
	if (follow) {
		/* Interrupted, --follow ends cleanly: see the end. */
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = logs_on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		rc = logs_follow(&l, &w, attempt);
	} else
		rc = logs_show(&l, &w, attempt, json, pager);
out:
	logs_close(&l);
	if (rc > 128 && rc < 128 + 65) {
		/* Interrupted while following: die of the same signal, as a
		 * filter should, so that a calling shell sees why. */
		signal(rc - 128, SIG_DFL);
		raise(rc - 128);
	}
	return rc;
}
