/* cmd-logs.c -- meshctl logs: print the log of one attempt of a task. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <sqlite3.h>

#include "meshctl.h"

static int	cmd_logs_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_logs_entry = {
	.name = "logs",
	.args = "JOB PARTITION TASK [--attempt N]",
	.summary = "print the log of a task's attempt (default: the latest)",
	.help =
	"The log holds the plugin's stdout and stderr and the lines it logged\n"
	"through the host, each with its time, level, plugin and task.\n"
	"\n"
	"  -a, --attempt N  attempt number (1 is the first try)\n",
	.exec = cmd_logs_exec,
};

static int
cmd_logs_exec(struct ctl *ctl, int argc, char **argv)
{
	struct state	*st;
	sqlite3_stmt	*stmt = NULL;
	FILE		*f;
	char		 buf[8192];
	size_t		 n;
	int		 c, rc = CTL_EXIT_OK;
	long		 attempt = 0;
	int64_t		 run_id;
	static const struct option longopts[] = {
		{ "attempt", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "a:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (ctl_number("attempt", optarg, 1, 1000000,
			    &attempt) != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_usage(ctl);
		}
	}
	if (argc - optind != 3)
		return ctl_usage(ctl);
	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
		return CTL_EXIT_STATE;
	if (ctl_state_run(ctl, st, argv[optind], argv[optind + 1],
	    &run_id) != 0) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT a.log_path, "
	    "a.try_number FROM attempts a JOIN task_instances ti ON "
	    "ti.id = a.task_instance_id WHERE ti.run_id = ?1 AND "
	    "ti.task_id = ?2 AND (?3 = 0 OR a.try_number = ?3) "
	    "ORDER BY a.try_number DESC, a.id DESC LIMIT 1", -1, &stmt,
	    NULL) != SQLITE_OK) {
		ctl_error("%s", sqlite3_errmsg(state_sqlite(st)));
		rc = CTL_EXIT_STATE;
		goto out;
	}
	sqlite3_bind_int64(stmt, 1, run_id);
	sqlite3_bind_text(stmt, 2, argv[optind + 2], -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, attempt);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		if (attempt > 0)
			ctl_error("task '%s' of %s %s has no attempt %ld",
			    argv[optind + 2], argv[optind], argv[optind + 1],
			    attempt);
		else
			ctl_error("task '%s' of %s %s has no attempts (no such "
			    "task, or it never ran)", argv[optind + 2],
			    argv[optind], argv[optind + 1]);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if ((f = fopen(ctl_col(stmt, 0), "r")) == NULL) {
		ctl_error("%s: %s", ctl_col(stmt, 0), strerror(errno));
		rc = CTL_EXIT_FAILED;
		goto out;
	}
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
out:
	sqlite3_finalize(stmt);
	state_close(st);
	return rc;
}
