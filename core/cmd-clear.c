/*
 * cmd-clear.c -- meshctl clear: reset tasks of finished runs so that they
 * run again (the everyday "rerun from failure").  meshd does the work
 * (meshd-clear.c); this checks everything it can first and records the
 * request.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "meshctl.h"
#include "schedule.h"

static int	cmd_clear_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_clear_entry = {
	.name = "clear",
	.args = "JOB --partition KEY | --from KEY --to KEY [options]",
	.summary = "reset tasks of finished runs so they run again (durable)",
	.help =
	"Each finished run of JOB in the range is queued again and resumed:\n"
	"the cleared tasks run again, and so does every task that did not\n"
	"succeed; tasks that succeeded and were not cleared are kept.  Runs\n"
	"that are queued or running are left alone.  Try numbers go on from\n"
	"the earlier attempts.\n"
	"\n"
	"  -p, --partition KEY  one partition\n"
	"  -f, --from KEY       first partition of a range\n"
	"  -t, --to KEY         last partition, included\n"
	"  -T, --task T         clear only task T (default: every task)\n"
	"  -d, --downstream     with --task: also every task after T\n"
	"  -F, --failed-only    only runs that did not succeed, and in them\n"
	"                       nothing that succeeded: just the failed tasks\n"
	"                       and those they held up run again\n"
	"      --json           {request, job, from, to}\n"
	"\n"
	"Exit status: 0 recorded; 1 nothing failed (--failed-only); 2 unknown\n"
	"job, task or partition, no run in the range, or a bad range; 3 the\n"
	"state cannot be written.\n",
	.exec = cmd_clear_exec,
};

/* Runs of the job in [from, to]: how many, and how many did not
 * succeed. */
static int
count_runs(struct ctl *ctl, const char *job, const char *from,
    const char *to, long *n, long *unfinished)
{
	struct state	*st;
	sqlite3_stmt	*stmt;
	int64_t		 job_id;

	*n = *unfinished = 0;
	if (access(ctl->cfg->state_db, F_OK) != 0)
		return CTL_EXIT_OK;
	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
		return CTL_EXIT_STATE;
	if (ctl_state_job(ctl, st, job, &job_id) != 0) {
		state_close(st);
		return CTL_EXIT_USAGE;
	}
	if (job_id != 0 && sqlite3_prepare_v2(state_sqlite(st), "SELECT "
	    "count(*), count(*) FILTER (WHERE state <> 'success') FROM runs "
	    "WHERE job_id = ? AND partition_key BETWEEN ? AND ?", -1, &stmt,
	    NULL) == SQLITE_OK) {
		sqlite3_bind_int64(stmt, 1, job_id);
		sqlite3_bind_text(stmt, 2, from, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 3, to, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) == SQLITE_ROW) {
			*n = sqlite3_column_int(stmt, 0);
			*unfinished = sqlite3_column_int(stmt, 1);
		}
		sqlite3_finalize(stmt);
	}
	state_close(st);
	return CTL_EXIT_OK;
}

static int
cmd_clear_exec(struct ctl *ctl, int argc, char **argv)
{
	struct jobset	 js;
	struct job_def	*job;
	const char	*part = NULL, *from = NULL, *to = NULL, *task = NULL;
	char		*fkey = NULL, *tkey = NULL, *cause = NULL, *args = NULL;
	int64_t		 fs, fe, ts, te, id;
	long		 nruns, unfinished;
	size_t		 i;
	int		 c, rc = CTL_EXIT_OK, downstream = 0, failed_only = 0;
	int		 json = 0;
	json_t		*a;
	pid_t		 pid;
	static const struct option longopts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "task", required_argument, NULL, 'T' },
		{ "downstream", no_argument, NULL, 'd' },
		{ "failed-only", no_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "p:f:t:T:dFh", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'p':
			part = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'T':
			task = optarg;
			break;
		case 'd':
			downstream = 1;
			break;
		case 'F':
			failed_only = 1;
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
	if ((part != NULL) == (from != NULL || to != NULL) ||
	    (part == NULL && (from == NULL || to == NULL))) {
		ctl_error("give either --partition KEY or both --from and --to");
		return ctl_usage(ctl);
	}
	if (downstream && task == NULL) {
		ctl_error("--downstream needs --task");
		return ctl_usage(ctl);
	}
	if (part != NULL)
		from = to = part;
	memset(&js, 0, sizeof js);
	if ((job = ctl_load_job(ctl, &js, argv[optind])) == NULL) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (task != NULL && job_task_index(job, task) < 0) {
		size_t len = 1;
		char *names;

		for (i = 0; i < job->ntasks; i++)
			len += strlen(job->tasks[i].id) + 2;
		names = xcalloc(1, len);
		for (i = 0; i < job->ntasks; i++) {
			if (i > 0)
				strcat(names, ", ");
			strcat(names, job->tasks[i].id);
		}
		ctl_error("job %s has no task '%s' (tasks: %s)", job->name, task,
		    names);
		free(names);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (job_parse_key(job, from, &fs, &fe, &fkey, &cause) != 0 ||
	    job_parse_key(job, to, &ts, &te, &tkey, &cause) != 0) {
		ctl_error("%s%s", part != NULL ? "" : fkey == NULL ? "--from: " :
		    "--to: ", cause);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (fs > ts || (fs == ts && strcmp(fkey, tkey) > 0)) {
		ctl_error("the range is the wrong way round: --from %s is after "
		    "--to %s", fkey, tkey);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if ((rc = count_runs(ctl, job->name, fkey, tkey, &nruns,
	    &unfinished)) != CTL_EXIT_OK)
		goto out;
	if (nruns == 0) {
		if (part != NULL)
			ctl_error("job '%s' has no run for partition '%s' (see "
			    "'meshctl runs %s')", job->name, fkey, job->name);
		else
			ctl_error("job '%s' has no runs from %s to %s (see "
			    "'meshctl runs %s')", job->name, fkey, tkey,
			    job->name);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (failed_only && unfinished == 0) {
		ctl_error("nothing to clear: every run of %s from %s to %s "
		    "succeeded", job->name, fkey, tkey);
		rc = CTL_EXIT_FAILED;
		goto out;
	}
	a = json_pack("{s:s, s:s, s:s?, s:b, s:b}", "from", fkey, "to", tkey,
	    "task", task, "downstream", downstream, "failed_only",
	    failed_only);
	args = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	if ((rc = ctl_request(ctl, "clear", job->name, strcmp(fkey, tkey) ==
	    0 ? fkey : NULL, args, &id, &pid)) != CTL_EXIT_OK)
		goto out;
	if (json)
		ctl_json_out(json_pack("{s:I, s:s, s:s, s:s, s:I}", "request",
		    (json_int_t)id, "job", job->name, "from", fkey, "to", tkey,
		    "daemon_pid", (json_int_t)pid));
	else
		printf("request %lld: clear %s %s%s%s (%ld run%s%s%s%s): %s\n",
		    (long long)id, job->name, fkey, strcmp(fkey, tkey) != 0 ?
		    ".." : "", strcmp(fkey, tkey) != 0 ? tkey : "",
		    failed_only ? unfinished : nruns, (failed_only ?
		    unfinished : nruns) == 1 ? "" : "s", failed_only ?
		    ", failed tasks only" : "", task != NULL ? ", task " : "",
		    task != NULL ? task : "", ctl_request_fate(pid));
out:
	free(fkey);
	free(tkey);
	free(cause);
	free(args);
	jobset_free(&js);
	return rc;
}
