/* cmd-runs.c -- meshctl runs: the runs of a job, newest partition first. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meshctl.h"
#include "tz.h"

static int	cmd_runs_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_runs_entry = {
	.name = "runs",
	.args = "JOB [--state S] [--since WHEN] [--limit N] [--json]",
	.summary = "list the runs of a job, newest partition first",
	.help =
	"Times are shown in the job's zone (UTC with -u); --json gives them\n"
	"in UTC microseconds, with *_local strings for people.\n"
	"\n"
	"  -s, --state S      only runs in state S (queued, running, success,\n"
	"                     failed, cancelled)\n"
	"  -S, --since WHEN   only runs created at or after WHEN: a duration\n"
	"                     back from now (90m, 2h, 3d, 1w; also s) or a\n"
	"                     date or time in the job's zone (UTC with -u, or\n"
	"                     with a trailing Z): 2026-11-01, 2026-11-01T10:00,\n"
	"                     2026-11-01T10:00:30Z\n"
	"  -n, --limit N      at most N runs (default 50); a last line says\n"
	"                     when there were more\n"
	"      --json         JSON array of runs\n",
	.exec = cmd_runs_exec,
};

static const char *const run_states[] = { "queued", "running", "success",
    "failed", "cancelled" };

int
ctl_state_job(struct ctl *ctl, struct state *st, const char *name,
    int64_t *id)
{
	struct jobset	 js;
	char		*cause = NULL;
	int		 found;

	if (state_job_find(st, name, id, &cause) == 0)
		return 0;
	free(cause);
	ctl_jobs(ctl, &js, 1);
	found = jobset_find(&js, name) != NULL;
	if (!found)
		ctl_find_job(&js, name);
	jobset_free(&js);
	*id = 0;
	return found ? 0 : -1;
}

/* Read exactly `n` digits at *p into *v and advance; -1 if not there. */
static int
runs_digits(const char **p, int n, int *v)
{
	*v = 0;
	while (n-- > 0) {
		if (**p < '0' || **p > '9')
			return -1;
		*v = *v * 10 + (*(*p)++ - '0');
	}
	return 0;
}

/*
 * --since WHEN into microseconds UTC, or print why not and return -1.  A
 * wall-clock time is read in the job's zone: in a spring-forward gap it
 * means the first instant after the gap, in a fall-back overlap the first
 * of the two readings (the earlier instant, so nothing is missed).
 */
static int
runs_since(struct ctl *ctl, const struct job_def *job, const char *arg,
    int64_t *out)
{
	static const struct {
		char	unit;
		int64_t	s;
	} units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 7 * 86400 }
	};
	const char	*p = arg;
	char		*end;
	long long	 n;
	int		 y, mo, d, h = 0, mi = 0, sec = 0, cm, cd;
	int64_t		 days, local, first, cy;
	size_t		 i;

	/* A duration: digits and one unit. */
	if (*p >= '0' && *p <= '9') {
		n = strtoll(p, &end, 10);
		for (i = 0; i < nitems(units); i++) {
			if (end[0] != units[i].unit || end[1] != '\0')
				continue;
			if (n > 100LL * 366 * 86400 / units[i].s)
				break;
			*out = now_us() - (int64_t)n * units[i].s * 1000000;
			return 0;
		}
	}
	/* A date, or a time to the minute or the second, T or space. */
	if (runs_digits(&p, 4, &y) != 0 || *p++ != '-' ||
	    runs_digits(&p, 2, &mo) != 0 || *p++ != '-' ||
	    runs_digits(&p, 2, &d) != 0)
		goto bad;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (runs_digits(&p, 2, &h) != 0 || *p++ != ':' ||
		    runs_digits(&p, 2, &mi) != 0)
			goto bad;
		if (*p == ':' && (p++, runs_digits(&p, 2, &sec) != 0))
			goto bad;
	}
	if (*p != '\0' && strcmp(p, "Z") != 0)
		goto bad;
	/* Round-trip the date so that 2026-02-30 is refused. */
	days = tz_days_from_civil(y, mo, d);
	tz_civil_from_days(days, &cy, &cm, &cd);
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || cy != y || cm != mo ||
	    cd != d || h > 23 || mi > 59 || sec > 59) {
		ctl_error("--since: '%s' is not a valid date or time", arg);
		return -1;
	}
	local = days * 86400 + h * 3600 + mi * 60 + sec;
	if (*p == 'Z' || ctl->utc || job == NULL || job->tz == NULL)
		first = local;
	else if (tz_local_to_utc(job->tz, local, &first, NULL) == 0)
		first = tz_gap_end(job->tz, local);
	*out = first * 1000000;
	return 0;
bad:
	ctl_error("--since: '%s' is neither a duration (90m, 2h, 3d, 1w) nor "
	    "a date or time (2026-11-01, 2026-11-01T10:00; Z for UTC)", arg);
	return -1;
}
static int
cmd_runs_exec(struct ctl *ctl, int argc, char **argv)
{
	struct state	*st;
	struct jobset	 js;
	struct errlist	 errs = ERRLIST_INIT;
	const struct job_def *job;
	sqlite3_stmt	*stmt = NULL;
	const char	*state = NULL, *since_arg = NULL;
	char		 a[64], b[64], d[32];
	int		 c, json = 0, rc = CTL_EXIT_OK, n = 0, more = 0;
	long		 limit = 50;
	int64_t		 job_id, since = 0;
	json_t		*arr = NULL;
	size_t		 i;
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "s:S:n:h", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 's':
			state = optarg;
			break;
		case 'S':
			since_arg = optarg;
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
	if (argc - optind != 1)
		return ctl_usage(ctl);
	if (state != NULL) {
		for (i = 0; i < nitems(run_states); i++)
			if (strcmp(state, run_states[i]) == 0)
				break;
		if (i == nitems(run_states)) {
			ctl_error("--state: unknown run state '%s' (queued, "
			    "running, success, failed, cancelled)", state);
			return CTL_EXIT_USAGE;
		}
	}
	if (ctl_config(ctl) == NULL)
		return CTL_EXIT_USAGE;
	/* The job lends its zone to --since and to the times shown; a job
	 * whose file is broken or gone still has its runs, in UTC.  A bad
	 * --since is a usage error whether or not there is a state yet. */
	memset(&js, 0, sizeof js);
	jobs_load(ctl->cfg, &js, &errs);
	errlist_free(&errs);
	job = jobset_find(&js, argv[optind]);
	if (since_arg != NULL && runs_since(ctl, job, since_arg, &since) != 0) {
		jobset_free(&js);
		return CTL_EXIT_USAGE;
	}
	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL) {
		jobset_free(&js);
		return CTL_EXIT_STATE;
	}
	if (ctl_state_job(ctl, st, argv[optind], &job_id) != 0) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	/*
	 * One more row than asked says whether there are more, without
	 * counting them (a count would read every run of the job).
	 * --since filters on created_us, which runs_job_created serves; the
	 * clause is left out without it, so that an index on (job_id,
	 * interval_start_us) would be chosen to walk the newest first.
	 */
	if (sqlite3_prepare_v2(state_sqlite(st), since_arg != NULL ?
	    "SELECT id, partition_key, state, \"trigger\", interval_start_us, "
	    "interval_end_us, started_us, ended_us, created_us, waiting_for "
	    "FROM runs WHERE job_id = ?1 AND (?2 IS NULL OR state = ?2) AND "
	    "created_us >= ?4 "
	    "ORDER BY interval_start_us DESC, partition_key DESC LIMIT ?3" :
	    "SELECT id, partition_key, state, \"trigger\", interval_start_us, "
	    "interval_end_us, started_us, ended_us, created_us, waiting_for "
	    "FROM runs WHERE job_id = ?1 AND (?2 IS NULL OR state = ?2) "
	    "ORDER BY interval_start_us DESC, partition_key DESC LIMIT ?3",
	    -1, &stmt, NULL) != SQLITE_OK) {
		ctl_error("%s", sqlite3_errmsg(state_sqlite(st)));
		rc = CTL_EXIT_STATE;
		goto out;
	}
	sqlite3_bind_int64(stmt, 1, job_id);
	if (state != NULL)
		sqlite3_bind_text(stmt, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, limit + 1);
	if (since_arg != NULL)
		sqlite3_bind_int64(stmt, 4, since);
	if (json)
		arr = json_array();
	else
		printf("%-6s %-19s %-10s %-8s %-25s %-25s %9s\n", "RUN",
		    "PARTITION", "STATE", "TRIGGER", "CREATED", "STARTED",
		    "DURATION");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		int64_t	is = sqlite3_column_int64(stmt, 4);
		int64_t	ie = sqlite3_column_int64(stmt, 5);
		int64_t	rs = sqlite3_column_int64(stmt, 6);
		int64_t	re = sqlite3_column_int64(stmt, 7);
		int64_t	cr = sqlite3_column_int64(stmt, 8);
		const char *s = ctl_col(stmt, 2);

		if (n == limit) {
			more = 1;
			break;
		}
		n++;
		ctl_time_job(ctl, job, cr, a, sizeof a);
		ctl_time_job(ctl, job, rs, b, sizeof b);
		if (json) {
			json_array_append_new(arr, json_pack("{s:I, s:s, s:s, "
			    "s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s?}",
			    "run_id",
			    (json_int_t)sqlite3_column_int64(stmt, 0),
			    "partition", ctl_col(stmt, 1), "state", s,
			    "trigger", ctl_col(stmt, 3), "interval_start_us",
			    (json_int_t)is, "interval_end_us", (json_int_t)ie,
			    "created_us", (json_int_t)cr, "started_us",
			    (json_int_t)rs, "ended_us", (json_int_t)re,
			    "created_local", a, "started_local", b,
			    "waiting_for", sqlite3_column_type(stmt, 9) ==
			    SQLITE_NULL || strcmp(s, "queued") != 0 ? NULL :
			    ctl_col(stmt, 9)));
			continue;
		}
		printf("%-6lld %-19s %s%-10s%s %-8s %-25s %-25s %9s\n",
		    (long long)sqlite3_column_int64(stmt, 0), ctl_col(stmt, 1),
		    ctl_color_on(ctl, s), s, ctl_color_off(ctl),
		    ctl_col(stmt, 3), a, b, re > 0 && rs > 0 ?
		    fmt_duration(re - rs, d, sizeof d) : "-");
		/* A queued run held back by its inputs says by which. */
		if (strcmp(s, "queued") == 0 &&
		    sqlite3_column_type(stmt, 9) != SQLITE_NULL)
			printf("       waiting for %s\n", ctl_col(stmt, 9));
	}
	if (json)
		ctl_json_out(arr);
	else if (n == 0)
		printf("(no runs)\n");
	/* On stderr with --json, so that stdout stays one JSON value. */
	if (more)
		fprintf(json ? stderr : stdout, "(more runs than the %ld "
		    "shown; use --limit, --since or --state)\n", limit);
out:
	sqlite3_finalize(stmt);
	jobset_free(&js);
	state_close(st);
	return rc;
}
