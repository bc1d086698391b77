/* cmd-jobs.c -- meshctl jobs: every job with its schedule, next fire and
 * last run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meshctl.h"
#include "schedule.h"
#include "tz.h"

#define tz_name_of(job) tz_name((job)->tz)

static int	cmd_jobs_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_jobs_entry = {
	.name = "jobs",
	.args = "[--json]",
	.summary = "list the jobs: schedule, next fire, last run",
	.help =
	"Lists every job of the configuration with its domain, schedule and\n"
	"time zone, its next fire (in the job's zone; UTC with -u), whether\n"
	"it is paused, and its last run: partition and state.  Works whether\n"
	"or not meshd is running; a job that never ran shows '-'.  The list\n"
	"is as long as the jobs directory, which meshd loads whole anyway.\n"
	"\n"
	"      --json      JSON array (next_fire_utc, next_fire_local)\n",
	.exec = cmd_jobs_exec,
};

static int
cmd_jobs_exec(struct ctl *ctl, int argc, char **argv)
{
	struct jobset	 js;
	struct state	*st;
	sqlite3_stmt	*stmt = NULL, *ps = NULL;
	json_t		*arr = NULL;
	char		 next[32], local[64];
	const char	*lkey, *lstate;
	size_t		 i;
	int		 c, json = 0, rc, paused;
	int64_t		 f;
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_usage(ctl);
		}
	}
	if (argc != optind)
		return ctl_usage(ctl);
	rc = ctl_jobs(ctl, &js, 1);
	if (rc != 0 && ctl->cfg == NULL)
		return CTL_EXIT_USAGE;
	/* The last runs come from the state, if there is one yet. */
	st = state_open_wait(ctl->cfg->state_db, STATE_RDONLY, ctl->timeout_ms,
	    NULL);
	if (st != NULL && sqlite3_prepare_v2(state_sqlite(st), "SELECT "
	    "r.partition_key, r.state FROM runs r JOIN jobs j ON j.id = "
	    "r.job_id WHERE j.name = ? ORDER BY r.created_us DESC, r.id DESC "
	    "LIMIT 1", -1, &stmt, NULL) != SQLITE_OK)
		stmt = NULL;
	if (st != NULL && sqlite3_prepare_v2(state_sqlite(st), "SELECT paused "
	    "FROM jobs WHERE name = ?", -1, &ps, NULL) != SQLITE_OK)
		ps = NULL;
	if (json)
		arr = json_array();
	else
		printf("%-20s %-8s %-18s %-16s %-25s %-6s %s\n", "JOB",
		    "DOMAIN", "SCHEDULE", "TIMEZONE", "NEXT FIRE", "PAUSED",
		    "LAST RUN");
	for (i = 0; i < js.n; i++) {
		const struct job_def *job = js.v[i];

		lkey = lstate = "-";
		if (stmt != NULL) {
			sqlite3_reset(stmt);
			sqlite3_bind_text(stmt, 1, job->name, -1,
			    SQLITE_STATIC);
			if (sqlite3_step(stmt) == SQLITE_ROW) {
				lkey = ctl_col(stmt, 0);
				lstate = ctl_col(stmt, 1);
			}
		}
		paused = 0;
		if (ps != NULL) {
			sqlite3_bind_text(ps, 1, job->name, -1, SQLITE_STATIC);
			if (sqlite3_step(ps) == SQLITE_ROW)
				paused = sqlite3_column_int(ps, 0);
			sqlite3_reset(ps);
		}
		f = job_next_fire(job, now_us());
		/* A job past its end fires no more. */
		if (f >= 0 && job->end != NULL) {
			int64_t	 hi, dummy;
			char	*canon;

			if (job_parse_key(job, job->end, &hi, &dummy, &canon,
			    NULL) == 0) {
				free(canon);
				if (job_prev_fire(job, f) >= hi)
					f = -1;
			}
		}
		if (f < 0) {
			snprintf(next, sizeof next, "-");
			snprintf(local, sizeof local, "-");
		} else {
			fmt_utc(f, next, sizeof next);
			ctl_time_job(ctl, job, f, local, sizeof local);
		}
		if (json) {
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, "
			    "s:s, s:s?, s:s?, s:b, s:s?, s:s?}", "job",
			    job->name, "domain", job->domain, "schedule",
			    job->schedule, "timezone", job->tz != NULL ?
			    tz_name_of(job) : "UTC",
			    "next_fire_utc", f < 0 ? NULL : next,
			    "next_fire_local", f < 0 ? NULL : local,
			    "paused", paused,
			    "last_partition", *lkey == '-' ? NULL : lkey,
			    "last_state", *lstate == '-' ? NULL : lstate));
			continue;
		}
		printf("%-20s %-8s %-18s %-16s %-25s %-6s %s%s%s%s%s\n",
		    job->name, job->domain, job->schedule, job->tz != NULL ?
		    tz_name_of(job) : "UTC", local, paused ? "yes" : "no",
		    lkey, *lkey == '-' ? "" : " ",
		    ctl_color_on(ctl, lstate), *lkey == '-' ? "" : lstate,
		    ctl_color_off(ctl));
	}
	if (json)
		ctl_json_out(arr);
	else if (js.n == 0)
		printf("(no jobs in %s)\n", ctl->cfg->jobs_dir);
	sqlite3_finalize(stmt);
	sqlite3_finalize(ps);
	if (st != NULL)
		state_close(st);
	jobset_free(&js);
	return rc == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}
