/* cmd-runs.c -- meshctl runs: the runs of a job, newest partition first. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meshctl.h"

static int	cmd_runs_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_runs_entry = {
	.name = "runs",
	.args = "JOB [--state S] [--limit N] [--json]",
	.summary = "list the runs of a job, newest partition first",
	.help =
	"  -s, --state S   only runs in state S (queued, running, success,\n"
	"                  failed, cancelled)\n"
	"  -n, --limit N   at most N runs (default 50)\n"
	"      --json      JSON array of runs\n",
	.exec = cmd_runs_exec,
};

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

static int
cmd_runs_exec(struct ctl *ctl, int argc, char **argv)
{
	struct state	*st;
	sqlite3_stmt	*stmt = NULL;
	const char	*state = NULL;
	char		 a[32], b[32], d[32];
	int		 c, json = 0, rc = CTL_EXIT_OK, n = 0;
	long		 limit = 50;
	int64_t		 job_id;
	json_t		*arr = NULL;
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *states[] = { "queued", "running", "success",
	    "failed", "cancelled" };
	size_t		 i;

	while ((c = getopt_long(argc, argv, "s:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			state = optarg;
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
		for (i = 0; i < nitems(states); i++)
			if (strcmp(state, states[i]) == 0)
				break;
		if (i == nitems(states)) {
			ctl_error("--state: unknown run state '%s' (queued, "
			    "running, success, failed, cancelled)", state);
			return CTL_EXIT_USAGE;
		}
	}
	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
		return CTL_EXIT_STATE;
	if (ctl_state_job(ctl, st, argv[optind], &job_id) != 0) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (sqlite3_prepare_v2(state_sqlite(st),
	    "SELECT id, partition_key, state, trigger, interval_start_us, "
	    "interval_end_us, started_us, ended_us FROM runs "
	    "WHERE job_id = ?1 AND (?2 IS NULL OR state = ?2) "
	    "ORDER BY interval_start_us DESC, partition_key DESC LIMIT ?3",
	    -1, &stmt, NULL) != SQLITE_OK) {
		ctl_error("%s", sqlite3_errmsg(state_sqlite(st)));
		rc = CTL_EXIT_STATE;
		goto out;
	}
	sqlite3_bind_int64(stmt, 1, job_id);
	if (state != NULL)
		sqlite3_bind_text(stmt, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, limit);
	if (json)
		arr = json_array();
	else
		printf("%-6s %-14s %-10s %-8s %-20s %-20s %9s\n", "RUN",
		    "PARTITION", "STATE", "TRIGGER", "INTERVAL START",
		    "INTERVAL END", "DURATION");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		int64_t	is = sqlite3_column_int64(stmt, 4);
		int64_t	ie = sqlite3_column_int64(stmt, 5);
		int64_t	rs = sqlite3_column_int64(stmt, 6);
		int64_t	re = sqlite3_column_int64(stmt, 7);
		const char *s = ctl_col(stmt, 2);

		n++;
		if (json) {
			json_array_append_new(arr, json_pack("{s:I, s:s, s:s, "
			    "s:s, s:I, s:I, s:I, s:I}", "run_id",
			    (json_int_t)sqlite3_column_int64(stmt, 0),
			    "partition", ctl_col(stmt, 1), "state", s,
			    "trigger", ctl_col(stmt, 3), "interval_start_us",
			    (json_int_t)is, "interval_end_us", (json_int_t)ie,
			    "started_us", (json_int_t)rs, "ended_us",
			    (json_int_t)re));
			continue;
		}
		printf("%-6lld %-14s %s%-10s%s %-8s %-20s %-20s %9s\n",
		    (long long)sqlite3_column_int64(stmt, 0), ctl_col(stmt, 1),
		    ctl_color_on(ctl, s), s, ctl_color_off(ctl),
		    ctl_col(stmt, 3), is != ie ? ctl_time(is, a, sizeof a) :
		    "-", is != ie ? ctl_time(ie, b, sizeof b) : "-",
		    re > 0 && rs > 0 ? fmt_duration(re - rs, d, sizeof d) : "-");
	}
	if (json)
		ctl_json_out(arr);
	else if (n == 0)
		printf("(no runs)\n");
out:
	sqlite3_finalize(stmt);
	state_close(st);
	return rc;
}
