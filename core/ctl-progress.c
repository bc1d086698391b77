/*
 * ctl-progress.c -- the progress lines of the verbs that run a job in
 * meshctl's own process (run, test): one line as a task starts and one as
 * it ends, and the signal handler that stops the run at the next poll.
 */
#include <signal.h>
#include <stdio.h>

#include "meshctl.h"
#include "runner.h"
#include "util.h"

void
ctl_progress_task_start(void *arg, const struct job_def *job, const char *key,
    int64_t run_id, const char *task, int attempt, pid_t pid)
{
	struct ctl_progress	*p = arg;

	(void)job;
	(void)key;
	(void)run_id;
	if (p->quiet)
		return;
	printf("  start  %-16s attempt %d, worker %ld\n", task, attempt,
	    (long)pid);
	fflush(stdout);
}

void
ctl_progress_task_end(void *arg, const struct job_def *job, const char *key,
    int64_t run_id, const char *task, int attempt, const char *state,
    const char *reason, int64_t dur)
{
	struct ctl_progress	*p = arg;
	char			 d[32];

	(void)job;
	(void)key;
	(void)run_id;
	if (p->quiet)
		return;
	printf("  end    %-16s attempt %d, %s%s%s in %s%s%s\n", task, attempt,
	    ctl_color_on(p->ctl, state), state, ctl_color_off(p->ctl),
	    fmt_duration(dur, d, sizeof d), reason != NULL ? ": " : "",
	    reason != NULL ? reason : "");
	fflush(stdout);
}

void
ctl_progress_signal(int sig)
{
	(void)sig;
	runner_interrupted = 1;
}
