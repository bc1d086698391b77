/*
 * bench-journal.c -- what meshd's write-behind journal costs.
 *
 *   bench-journal [DIR]        (`make bench-journal`)
 *
 * meshd records every write of a transaction (state_keep_writes()) so
 * that a COMMIT refused by a full disk can be written again later.  This
 * measures the state changes of one task attempt -- as the engine makes
 * them: the attempt started, the task instance running, then finished with
 * a check result and a metric, the task instance ended -- in group-commit
 * transactions of 16 attempts, with the journal off and on, on a state in
 * DIR (default a new directory under /var/tmp: a real disk, not tmpfs).
 * It prints attempts per second for each and their ratio, best of 3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/state.h"
#include "../core/util.h"

#define NRUNS	2000	/* runs of 5 tasks: 10,000 attempts */
#define NTASKS	5
#define BATCH	16

static void
die(char *cause)
{
	fprintf(stderr, "bench-journal: %s\n", cause != NULL ? cause : "?");
	exit(1);
}

/* Attempts per second recording NRUNS * NTASKS attempts. */
static double
measure(const char *dir, int journal)
{
	struct state	*st;
	char		*db = xasprintf("%s/bench-%d.db", dir, journal), *cause = NULL;
	char		 key[32], tid[16];
	int64_t		 job, run, ti, att, t0, now;
	int		 created, r, k, n = 0;
	double		 secs;

	unlink(db);
	if ((st = state_open(db, STATE_RDWR, &cause)) == NULL)
		die(cause);
	if (journal)
		state_keep_writes(st);
	if (state_begin(st, &cause) != 0 || state_job_sync(st, "bench",
	    "bench", "bench@example.org", NULL, "bench.conf", "@daily", &job,
	    &cause) != 0 || state_commit(st, &cause) != 0)
		die(cause);
	t0 = mono_us();
	if (state_begin(st, &cause) != 0)
		die(cause);
	for (r = 0; r < NRUNS; r++) {
		snprintf(key, sizeof key, "r%06d", r);
		now = now_us();
		if (state_run_open(st, job, key, now, now, "backfill", &run,
		    &created, &cause) != 0 ||
		    state_run_set(st, run, "running", now, 0, &cause) != 0)
			die(cause);
		for (k = 0; k < NTASKS; k++) {
			snprintf(tid, sizeof tid, "t%d", k);
			if (state_ti_open(st, run, tid, "extract", 1, &ti, NULL,
			    NULL, &cause) != 0 ||
			    state_attempt_start(st, ti, 1, now, "/x/y.log",
			    &att, &cause) != 0 ||
			    state_ti_set(st, ti, "running", 1, NULL, now, 0,
			    &cause) != 0 ||
			    state_attempt_set_pid(st, att, 1234, &cause) != 0 ||
			    state_check_add(st, att, "rows", 2, 1, 42.0,
			    ">= 1", now, &cause) != 0 ||
			    state_metric_set(st, att, "rows", 42.0,
			    &cause) != 0 ||
			    state_attempt_finish(st, att, "success", now, NULL,
			    NULL, &cause) != 0 ||
			    state_ti_set(st, ti, "success", 1, NULL, 0, now,
			    &cause) != 0)
				die(cause);
			if (++n == BATCH) {
				if (state_commit(st, &cause) != 0)
					die(cause);
				n = 0;
				if (state_begin(st, &cause) != 0)
					die(cause);
			}
		}
		if (state_run_set(st, run, "success", 0, now, &cause) != 0)
			die(cause);
	}
	if (state_commit(st, &cause) != 0)
		die(cause);
	secs = (double)(mono_us() - t0) / 1e6;
	state_close(st);
	free(db);
	return (double)(NRUNS * NTASKS) / secs;
}

int
main(int argc, char **argv)
{
	char	 tmpl[] = "/var/tmp/meshd-bench-journal.XXXXXX", *dir;
	double	 off = 0, on = 0, v;
	int	 i;

	if (argc > 1)
		dir = argv[1];
	else if ((dir = mkdtemp(tmpl)) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	for (i = 0; i < 3; i++) {
		if ((v = measure(dir, 0)) > off)
			off = v;
		if ((v = measure(dir, 1)) > on)
			on = v;
	}
	printf("state changes of one attempt (8 writes), 16 per commit, "
	    "best of 3:\n");
	printf("  journal off  %9.0f attempts/s\n", off);
	printf("  journal on   %9.0f attempts/s\n", on);
	printf("  on / off     %9.2f\n", on / off);
	if (argc <= 1) {
		char *cmd = xasprintf("rm -rf '%s'", dir);

		if (system(cmd) != 0)
			fprintf(stderr, "bench-journal: cannot remove %s\n", dir);
		free(cmd);
	}
	return 0;
}
