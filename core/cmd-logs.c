/*
 * cmd-logs.c -- meshctl logs: print the log of one attempt of a task, or
 * follow it as it is written.
 *
 * --follow reads the state read-only and polls: the attempts table says
 * which attempt is the latest and whether it has ended, and the log file is
 * read from where the last read stopped.  meshd is never asked anything, so
 * following works the same for a daemon's run and for `meshctl run` in
 * another terminal, and costs the daemon nothing.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lock.h"
#include "meshctl.h"

/* How often --follow looks at the state and the file. */
#define LOGS_POLL_MS	150

/* What is shown of a log by default: its last MiB.  A plugin can write
 * gigabytes; a terminal (or a script's memory) should not get them all
 * unless asked for with --all. */
#define LOGS_LIMIT_BYTES	(1024 * 1024)

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
	"to stderr, so that stdout is the log alone.\n"
	"\n"
	"A log can be large: by default only its last MiB is printed, from the\n"
	"start of a line, and a line on stderr says what was left out and how\n"
	"to see it.  On a terminal the log goes through $MESHCTL_PAGER, else\n"
	"$PAGER, else 'less -FRX' (an empty value, or 'cat', means none).\n"
	"\n"
	"  -a, --attempt N  attempt number (1 is the first try)\n"
	"  -n, --tail N     only the last N lines\n"
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
	"      --json       {job, partition, task, attempt, state, started_utc,\n"
	"                   ended_utc, log_path, size, offset, length,\n"
	"                   truncated, log}: log is the part shown (bytes\n"
	"                   offset to offset + length of size), null if the\n"
	"                   file is gone or is not UTF-8 text\n"
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

/* What the state says about the attempt being shown. */
struct logs_attempt {
	int64_t	 id;
	int	 try_number;
	char	 state[16];
	char	*log_path;
	int64_t	 started_us;
	int64_t	 ended_us;
};

/* Which part of a log to show (see the help). */
struct logs_window {
	long long	 limit;		/* most bytes; -1: --all */
	long		 tail;		/* last lines; 0: not asked */
	long long	 offset;	/* from this byte; -1: not asked */
};

struct logs {
	struct ctl		*ctl;
	struct logs_window	 w;
	FILE			*out;	/* stdout, or the pager */
	long long		 left;	/* bytes the window still has; -1 all */
	struct jobset		 js;
	const struct job_def	*job;	/* for its zone; may be NULL */
	const char		*name, *key, *task;
	sqlite3_stmt		*ti;	/* the task instance */
	sqlite3_stmt		*att;	/* its latest (or Nth) attempt */
	sqlite3_stmt		*run;	/* the run's state */
	int			 fd;	/* the log being read, or -1 */
	int64_t			 fd_attempt; /* whose log fd is */
};

static void
logs_attempt_clear(struct logs_attempt *a)
{
	free(a->log_path);
	memset(a, 0, sizeof *a);
}

/*
 * The task instance's state into ti_state (sized 32), and its attempt
 * `want` (0: the latest) into *a.  Returns 1 with both, 0 when the attempt
 * does not exist (yet), -1 when there is no task instance.  Statements are
 * reset at once so that no read transaction is left open between polls:
 * an open one would both hide new commits and hold back checkpoints.
 */
static int
logs_lookup(struct logs *l, int64_t run_id, long want, char *ti_state,
    int *ti_try, struct logs_attempt *a)
{
	int64_t	ti_id;
	int	rc = 0;

	logs_attempt_clear(a);
	sqlite3_bind_int64(l->ti, 1, run_id);
	sqlite3_bind_text(l->ti, 2, l->task, -1, SQLITE_STATIC);
	if (sqlite3_step(l->ti) != SQLITE_ROW) {
		sqlite3_reset(l->ti);
		return -1;
	}
	ti_id = sqlite3_column_int64(l->ti, 0);
	snprintf(ti_state, 32, "%s", ctl_col(l->ti, 1));
	*ti_try = sqlite3_column_int(l->ti, 2);
	sqlite3_reset(l->ti);

	sqlite3_bind_int64(l->att, 1, ti_id);
	sqlite3_bind_int64(l->att, 2, want);
	if (sqlite3_step(l->att) == SQLITE_ROW) {
		a->id = sqlite3_column_int64(l->att, 0);
		a->try_number = sqlite3_column_int(l->att, 1);
		snprintf(a->state, sizeof a->state, "%s", ctl_col(l->att, 2));
		if (sqlite3_column_type(l->att, 3) != SQLITE_NULL)
			a->log_path = xstrdup(ctl_col(l->att, 3));
		a->started_us = sqlite3_column_int64(l->att, 4);
		a->ended_us = sqlite3_column_int64(l->att, 5);
		rc = 1;
	}
	sqlite3_reset(l->att);
	return rc;
}

/* "== attempt 2 == started 2026-11-28 13:05:00 CET" on stderr, with how
 * it ended when it has. */
static void
logs_header(struct logs *l, const struct logs_attempt *a)
{
	char	s[64], e[64];

	ctl_time_job(l->ctl, l->job, a->started_us, s, sizeof s);
	if (strcmp(a->state, "running") == 0)
		fprintf(stderr, "== attempt %d == started %s, running\n",
		    a->try_number, s);
	else
		fprintf(stderr, "== attempt %d == started %s, %s at %s\n",
		    a->try_number, s, a->state, ctl_time_job(l->ctl, l->job,
		    a->ended_us, e, sizeof e));
}

/*
 * The part of a log of `size` bytes (fd open on it) that w asks for:
 * [*start, *end).  Without --offset the part ends at the end of the log
 * and starts at a line's start: the last --tail lines, or the last
 * --limit-bytes bytes less the line they cut (unless one line fills
 * them).  --offset starts exactly at its byte.
 */
static void
logs_window_find(const struct logs_window *w, int fd, long long size,
    long long *start, long long *end)
{
	char		buf[65536];
	long long	floor, pos, lines = 0;
	ssize_t		n, i;
	size_t		len;

	if (w->offset >= 0) {
		*start = w->offset < size ? w->offset : size;
		*end = w->limit < 0 || size - *start <= w->limit ? size :
		    *start + w->limit;
		return;
	}
	*end = size;
	floor = w->limit < 0 || size <= w->limit ? 0 : size - w->limit;
	*start = floor;
	if (w->tail > 0) {
		/* Count line ends back from the end; the one that ends the
		 * file ends the last line, it does not start one. */
		pos = size;
		while (pos > floor) {
			len = (size_t)(pos - floor < (long long)sizeof buf ?
			    pos - floor : (long long)sizeof buf);
			pos -= (long long)len;
			if ((n = pread(fd, buf, len, (off_t)pos)) != (ssize_t)len)
				break;
			for (i = n - 1; i >= 0; i--) {
				if (buf[i] != '\n' || pos + i == size - 1)
					continue;
				if (++lines == w->tail) {
					*start = pos + i + 1;
					return;
				}
			}
		}
	}
	if (floor == 0)
		return;
	/* Cut by bytes: start with the first whole line. */
	pos = floor - 1;
	while (pos < size - 1) {
		len = sizeof buf;
		if ((n = pread(fd, buf, len, (off_t)pos)) <= 0)
			return;
		for (i = 0; i < n && pos + i < size - 1; i++) {
			if (buf[i] == '\n') {
				*start = pos + i + 1;
				return;
			}
		}
		pos += n;
	}
}

/* Say on stderr what of a log of `size` bytes is left out, and how to see
 * it.  Nothing when the whole log is shown. */
static void
logs_notice(long long size, long long start, long long end, int follow)
{
	if (start > 0)
		fprintf(stderr, "== %lld of %lld bytes skipped: showing bytes "
		    "%lld-%lld%s; --all shows the whole log, --offset N from "
		    "byte N ==\n", start, size, start, end > 0 ? end - 1 : 0,
		    follow ? " and what follows" : "");
	if (end < size && !follow)
		fprintf(stderr, "== %lld more bytes after byte %lld: --offset "
		    "%lld for the next part ==\n", size - end, end - 1, end);
}

/*
 * Open the log of attempt a and place it at the start of its window,
 * saying what is left out (unless quiet).  -1 with errno set when the
 * file cannot be opened.
 */
static int
logs_open(struct logs *l, const struct logs_attempt *a, int follow,
    int quiet, long long *size, long long *start)
{
	struct stat	sb;
	long long	end;

	if ((l->fd = open(a->log_path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	l->fd_attempt = a->id;
	if (fstat(l->fd, &sb) == -1) {
		close(l->fd);
		l->fd = -1;
		return -1;
	}
	*size = (long long)sb.st_size;
	logs_window_find(&l->w, l->fd, *size, start, &end);
	if (lseek(l->fd, (off_t)*start, SEEK_SET) == -1) {
		close(l->fd);
		l->fd = -1;
		return -1;
	}
	/* Following, everything appended after the window is shown too. */
	l->left = follow ? -1 : end - *start;
	if (!quiet)
		logs_notice(*size, *start, end, follow);
	return 0;
}

/* The length of s[0..len) without an incomplete UTF-8 sequence at its
 * end. */
static size_t
logs_utf8_whole(const char *s, size_t len)
{
	size_t		i, need;
	unsigned char	c;

	for (i = len; i > 0 && len - i < 4; i--) {
		c = (unsigned char)s[i - 1];
		if ((c & 0xc0) == 0x80)
			continue;	/* a continuation byte: look further */
		if (c < 0x80)
			return len;
		need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		return len - (i - 1) >= need ? len : i - 1;
	}
	return len;
}

/* The attempt and the window of its log as one JSON object. */
static void
logs_json(struct logs *l, const struct logs_attempt *a)
{
	char		 s[32], e[32], *text = NULL, buf[65536];
	size_t		 len = 0, want, skip;
	ssize_t		 n;
	long long	 size = 0, start = 0;
	json_t		*log = NULL;

	if (a->log_path != NULL &&
	    logs_open(l, a, 0, 1, &size, &start) == 0) {
		while (l->left != 0) {
			want = l->left > 0 && l->left < (long long)sizeof buf ?
			    (size_t)l->left : sizeof buf;
			if ((n = read(l->fd, buf, want)) <= 0)
				break;
			text = xrealloc(text, len + (size_t)n);
			memcpy(text + len, buf, (size_t)n);
			len += (size_t)n;
			if (l->left > 0)
				l->left -= n;
		}
		/* A window cut by bytes may split a UTF-8 character at
		 * either end: leave the pieces out rather than lose the
		 * whole text to null. */
		skip = 0;
		if (text != NULL) {
			while (skip < len && skip < 3 &&
			    ((unsigned char)text[skip] & 0xc0) == 0x80)
				skip++;
			len = logs_utf8_whole(text + skip, len - skip);
			start += (long long)skip;
		}
		log = json_stringn(text != NULL ? text + skip : "", len);
		free(text);
	}
	ctl_json_out(json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s?, s:s?, "
	    "s:I, s:I, s:I, s:b, s:o}", "job", l->name, "partition", l->key,
	    "task", l->task, "attempt", a->try_number, "state", a->state,
	    "started_utc", fmt_utc(a->started_us, s, sizeof s), "ended_utc",
	    a->ended_us != 0 ? fmt_utc(a->ended_us, e, sizeof e) : NULL,
	    "log_path", a->log_path, "size", (json_int_t)size, "offset",
	    (json_int_t)start, "length", (json_int_t)len, "truncated",
	    start > 0 || start + (long long)len < size,
	    "log", log != NULL ? log : json_null()));
}

/* Copy what the log holds past the last read (within the window) to the
 * output.  A log that does not exist yet is not an error: the worker
 * creates it when it starts. */
static void
logs_pump(struct logs *l, const struct logs_attempt *a, int follow)
{
	char		buf[65536];
	ssize_t		n;
	size_t		want;
	long long	size, start;

	if (a->log_path == NULL)
		return;
	if (l->fd != -1 && l->fd_attempt != a->id) {
		close(l->fd);
		l->fd = -1;
	}
	if (l->fd == -1 && logs_open(l, a, follow, 0, &size, &start) == -1)
		return;
	while (l->left != 0) {
		want = l->left > 0 && l->left < (long long)sizeof buf ?
		    (size_t)l->left : sizeof buf;
		if ((n = read(l->fd, buf, want)) <= 0)
			break;
		if (fwrite(buf, 1, (size_t)n, l->out) != (size_t)n)
			break;	/* the pager quit */
		if (l->left > 0)
			l->left -= n;
	}
	fflush(l->out);
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

/* Whether a task instance state is final, and if so whether it is good. */
static int
logs_ti_final(const char *state, int *good)
{
	*good = strcmp(state, "success") == 0 || strcmp(state, "skipped") == 0;
	return *good || strcmp(state, "failed") == 0 ||
	    strcmp(state, "upstream_failed") == 0 ||
	    strcmp(state, "cancelled") == 0;
}

/*
 * Wait, with --follow, for the run of a partition that a pending request
 * (a trigger made while meshd is down, say) is about to create.  Returns
 * 0 with *run_id, 1 when there is no run and nothing pending (the caller
 * says why), or -1 when interrupted.
 */
static int
logs_wait_run(struct logs *l, struct state *st, int64_t *run_id)
{
	sqlite3		*db = state_sqlite(st);
	sqlite3_stmt	*run = NULL, *req = NULL;
	int		 rc = 1, said = 0, pending;

	if (sqlite3_prepare_v2(db, "SELECT r.id FROM runs r JOIN jobs j ON "
	    "j.id = r.job_id WHERE j.name = ?1 AND r.partition_key = ?2", -1,
	    &run, NULL) != SQLITE_OK || sqlite3_prepare_v2(db, "SELECT 1 FROM "
	    "requests WHERE state = 'pending' AND job = ?1 LIMIT 1", -1, &req,
	    NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(run, 1, l->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(run, 2, l->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(req, 1, l->name, -1, SQLITE_STATIC);
	while (!logs_signal) {
		if (sqlite3_step(run) == SQLITE_ROW) {
			*run_id = sqlite3_column_int64(run, 0);
			rc = 0;
			break;
		}
		sqlite3_reset(run);
		pending = sqlite3_step(req) == SQLITE_ROW;
		sqlite3_reset(req);
		if (!pending)
			break;
		if (!said) {
			fprintf(stderr, "== waiting for meshd to create the "
			    "run (a request for %s is pending%s) ==\n", l->name,
			    state_lock_holder(l->ctl->cfg->state_db) == 0 ?
			    "; meshd is not running" : "");
			said = 1;
		}
		logs_nap();
	}
	if (logs_signal)
		rc = -1;
out:
	sqlite3_finalize(run);
	sqlite3_finalize(req);
	return rc;
}

static int
logs_follow(struct logs *l, int64_t run_id, long want)
{
	struct logs_attempt	 a;
	char			 ti_state[32];
	int			 ti_try, r, good, rc = -1, said_wait = 0;
	int64_t			 shown = 0; /* attempt whose header is out */

	memset(&a, 0, sizeof a);
	while (rc == -1 && !logs_signal) {
		r = logs_lookup(l, run_id, want, ti_state, &ti_try, &a);
		if (r == -1) {
			/* meshd creates a run's task instances when it starts
			 * the run: wait for them while the run is not done. */
			sqlite3_bind_int64(l->run, 1, run_id);
			if (sqlite3_step(l->run) == SQLITE_ROW &&
			    (strcmp(ctl_col(l->run, 0), "queued") == 0 ||
			    strcmp(ctl_col(l->run, 0), "running") == 0)) {
				snprintf(ti_state, sizeof ti_state, "run %s",
				    ctl_col(l->run, 0));
				r = 0;
			}
			sqlite3_reset(l->run);
		}
		if (r == -1) {
			ctl_error("task '%s' of %s %s was never scheduled in "
			    "this run", l->task, l->name, l->key);
			rc = CTL_EXIT_USAGE;
			break;
		}
		if (r == 0) {
			if (logs_ti_final(ti_state, &good)) {
				if (want != 0)
					ctl_error("task '%s' of %s %s has no "
					    "attempt %ld", l->task, l->name,
					    l->key, want);
				else if (shown == 0)
					fprintf(stderr, "== task %s is %s "
					    "without an attempt ==\n", l->task,
					    ti_state);
				rc = want != 0 ? CTL_EXIT_USAGE : good ?
				    CTL_EXIT_OK : CTL_EXIT_FAILED;
				break;
			}
			if (!said_wait && shown == 0) {
				fprintf(stderr, "== waiting for task %s to "
				    "start (%s%s) ==\n", l->task, ti_state,
				    state_lock_holder(l->ctl->cfg->state_db) ==
				    0 ? "; meshd is not running" : "");
				said_wait = 1;
			}
			logs_nap();
			continue;
		}
		if (a.id != shown) {
			logs_header(l, &a);
			shown = a.id;
		}
		logs_pump(l, &a, 1);
		if (strcmp(a.state, "running") == 0) {
			logs_nap();
			continue;
		}
		/* The worker closed the log before it reported the end, so
		 * what the file holds now is all of it: logs_pump read it. */
		if (want != 0) {
			good = strcmp(a.state, "success") == 0 ||
			    strcmp(a.state, "skipped") == 0;
			rc = good ? CTL_EXIT_OK : CTL_EXIT_FAILED;
		} else if (logs_ti_final(ti_state, &good) &&
		    ti_try <= a.try_number)
			rc = good ? CTL_EXIT_OK : CTL_EXIT_FAILED;
		else {
			/* Up for retry (or cleared): wait for the next one. */
			logs_nap();
			continue;
		}
		fprintf(stderr, "== attempt %d %s ==\n", a.try_number,
		    a.state);
	}
	logs_attempt_clear(&a);
	fflush(stdout);
	if (rc == -1 && logs_signal)
		rc = 128 + logs_signal;
	return rc;
}

static int
cmd_logs_exec(struct ctl *ctl, int argc, char **argv)
{
	struct state		*st;
	struct logs		 l;
	struct logs_attempt	 a;
	struct errlist		 errs = ERRLIST_INIT;
	struct sigaction	 sa;
	struct logs_window	 w = { LOGS_LIMIT_BYTES, 0, -1 };
	char			 ti_state[32];
	int			 c, r, ti_try, follow = 0, json = 0;
	int			 rc = CTL_EXIT_OK, pager = 1, all = 0;
	long			 attempt = 0, v;
	int64_t			 run_id;
	long long		 size, start;
	sqlite3			*db;
	FILE			*pf = NULL;
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
	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
		return CTL_EXIT_STATE;
	memset(&l, 0, sizeof l);
	memset(&a, 0, sizeof a);
	l.ctl = ctl;
	l.w = w;
	l.out = stdout;
	l.fd = -1;
	l.name = argv[optind];
	l.key = argv[optind + 1];
	l.task = argv[optind + 2];
	if (follow) {
		/* Interrupted, --follow ends cleanly: see the end. */
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = logs_on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		/* Following goes on for long: each wait alone is bounded. */
		state_set_deadline(st, 0);
		if ((r = logs_wait_run(&l, st, &run_id)) == -1) {
			rc = 128 + logs_signal;
			goto out;
		}
	} else
		r = 1;
	if (r != 0 && ctl_state_run(ctl, st, l.name, l.key, &run_id) != 0) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	/* The job only lends its zone to the times shown: a job whose file
	 * is now broken or gone still has its logs, shown in UTC. */
	jobs_load(ctl->cfg, &l.js, &errs);
	errlist_free(&errs);
	l.job = jobset_find(&l.js, l.name);

	db = state_sqlite(st);
	if (sqlite3_prepare_v2(db, "SELECT id, state, try_number FROM "
	    "task_instances WHERE run_id = ?1 AND task_id = ?2", -1, &l.ti,
	    NULL) != SQLITE_OK || sqlite3_prepare_v2(db, "SELECT id, "
	    "try_number, state, log_path, started_us, ended_us FROM attempts "
	    "WHERE task_instance_id = ?1 AND (?2 = 0 OR try_number = ?2) "
	    "ORDER BY try_number DESC, id DESC LIMIT 1", -1, &l.att, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(db, "SELECT state FROM runs WHERE "
	    "id = ?1", -1, &l.run, NULL) != SQLITE_OK) {
		ctl_error("%s", sqlite3_errmsg(db));
		rc = CTL_EXIT_STATE;
		goto out;
	}
	r = logs_lookup(&l, run_id, attempt, ti_state, &ti_try, &a);
	if (r == -1 && l.job != NULL &&
	    job_task_index(l.job, l.task) == -1) {
		ctl_error("job '%s' has no task '%s'", l.name, l.task);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (follow) {
		rc = logs_follow(&l, run_id, attempt);
		goto out;
	}
	if (r != 1) {
		if (attempt > 0)
			ctl_error("task '%s' of %s %s has no attempt %ld",
			    l.task, l.name, l.key, attempt);
		else
			ctl_error("task '%s' of %s %s has no attempts (no such "
			    "task, or it never ran)", l.task, l.name, l.key);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (json) {
		logs_json(&l, &a);
		goto out;
	}
	logs_header(&l, &a);
	if (a.log_path == NULL ||
	    logs_open(&l, &a, 0, 0, &size, &start) == -1) {
		ctl_error("%s: %s", a.log_path != NULL ? a.log_path :
		    "(no log)", a.log_path != NULL ? strerror(errno) :
		    "the attempt kept no log");
		rc = CTL_EXIT_FAILED;
		goto out;
	}
	if (pager && isatty(STDOUT_FILENO) && (pf = logs_pager()) != NULL)
		l.out = pf;
	logs_pump(&l, &a, 0);
	if (pf != NULL)
		pclose(pf);
out:
	logs_attempt_clear(&a);
	if (l.fd != -1)
		close(l.fd);
	sqlite3_finalize(l.ti);
	sqlite3_finalize(l.att);
	sqlite3_finalize(l.run);
	jobset_free(&l.js);
	state_close(st);
	if (rc > 128 && rc < 128 + 65) {
		/* Interrupted while following: die of the same signal, as a
		 * filter should, so that a calling shell sees why. */
		signal(rc - 128, SIG_DFL);
		raise(rc - 128);
	}
	return rc;
}
