/* cmd-jobs.c -- meshctl jobs: every job with its schedule, next fire and
 * last run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ctl-broken.h"
#include "meshctl.h"
#include "schedule.h"
#include "tz.h"

#define tz_name_of(job) tz_name((job)->tz)

static int	cmd_jobs_exec(struct ctl *, int, char **);
static void	jobs_broken_row(struct ctl *, const struct job_broken *,
		    json_t *health, json_t *arr);

const struct cmd_entry cmd_jobs_entry = {
	.name = "jobs",
	.args = "[--json]",
	.summary = "list the jobs: schedule, next fire, last run",
	.help =
	"Lists every job of the configuration with its domain, schedule and\n"
	"time zone, its next fire (in the job's zone; UTC with -u), whether\n"
	"it is paused, and its last run: partition and state.  Works whether\n"
	"or not meshd is running; a job that never ran shows '-'.  The list\n"
	"is as long as the jobs directory, which meshd loads anyway.\n"
	"\n"
	"A job file meshd refuses (its own errors, a policy, its plugins, or\n"
	"errors shared with other jobs: a product built by two jobs, an input\n"
	"nobody builds, a cycle through products) is listed as 'broken' with\n"
	"its first error; when the running meshd still runs the job's last\n"
	"valid version it says 'broken (running the previous version)'.  The\n"
	"other jobs run.  meshctl validate shows every error.\n"
	"\n"
	"      --json      JSON array (next_fire_utc, next_fire_local; broken,\n"
	"                  running_previous, file, error, errors[] of a broken\n"
	"                  job)\n",
	.exec = cmd_jobs_exec,
};

static int
cmd_jobs_exec(struct ctl *ctl, int argc, char **argv)
{
	struct jobset	 js;
	struct errlist	 errs = ERRLIST_INIT;
	struct state	*st;
	sqlite3_stmt	*stmt = NULL, *ps = NULL;
	json_t		*arr = NULL, *health;
	char		 next[32], local[64];
	const char	*lkey, *lstate;
	size_t		 i, b;
	pid_t		 pid;
	int		 c, json = 0, paused;
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
	if (ctl_config(ctl) == NULL)
		return CTL_EXIT_USAGE;
	health = ctl_health(ctl, &pid);
	ctl_jobs_judged(ctl, &js, &errs, health);
	/* Every error is in the rows (and in meshctl validate). */
	errlist_free(&errs);
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
	for (i = 0, b = 0; i < js.n || b < js.nbroken; ) {
		const struct job_def *job;

		/* Both lists are in name order: merge them. */
		if (b < js.nbroken && (i >= js.n || strcmp(js.broken[b].name,
		    js.v[i]->name) < 0)) {
			jobs_broken_row(ctl, &js.broken[b++], health, arr);
			continue;
		}
		job = js.v[i++];

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
			    "s:s, s:s?, s:s?, s:b, s:s?, s:s?, s:b}", "job",
			    job->name, "domain", job->domain, "schedule",
			    job->schedule, "timezone", job->tz != NULL ?
			    tz_name_of(job) : "UTC",
			    "next_fire_utc", f < 0 ? NULL : next,
			    "next_fire_local", f < 0 ? NULL : local,
			    "paused", paused,
			    "last_partition", *lkey == '-' ? NULL : lkey,
			    "last_state", *lstate == '-' ? NULL : lstate,
			    "broken", 0));
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
	else if (js.n == 0 && js.nbroken == 0)
		printf("(no jobs in %s)\n", ctl->cfg->jobs_dir);
	if (!json && js.nbroken > 0)
		fprintf(stderr, "meshctl: %zu broken job%s refused, the other "
		    "%zu run%s (meshctl validate shows every error)\n",
		    js.nbroken, js.nbroken == 1 ? "" : "s", js.n,
		    js.n == 1 ? "s" : "");
	json_decref(health);
	sqlite3_finalize(stmt);
	sqlite3_finalize(ps);
	if (st != NULL)
		state_close(st);
	jobset_free(&js);
	return CTL_EXIT_OK;
}

/* A broken job: its first error in text, all of them in JSON. */
static void
jobs_broken_row(struct ctl *ctl, const struct job_broken *b, json_t *health,
    json_t *arr)
{
	char	*first = ctl_broken_first(b);
	int	 prev = ctl_health_previous(health, b->name);

	if (arr != NULL)
		json_array_append_new(arr, json_pack("{s:s, s:b, s:b, s:s, "
		    "s:s, s:o}", "job", b->name, "broken", 1,
		    "running_previous", prev, "file", b->file, "error", first,
		    "errors", ctl_broken_json(b)));
	else
		printf("%-20s %sbroken%s%s: %s\n", b->name,
		    ctl_color_on(ctl, "failed"), prev ? " (running the "
		    "previous version)" : "", ctl_color_off(ctl), first);
	free(first);
}
