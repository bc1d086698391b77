/*
 * hostile_setsid.c -- test plugin that escapes: its extract double-forks,
 * the grandchild calls setsid(), writes a pidfile into the "piddir"
 * parameter and sleeps for ever.  The stage waits for the middle child,
 * so the grandchild is an orphan, then returns MESHD_OK, or with param
 * crash (bool) dies of SIGSEGV, leaving the grandchild to meshd.  Nothing
 * of it may outlive the attempt.
 */
#include <sys/wait.h>

#include <signal.h>
#include <unistd.h>

#include <meshd/plugin.h>

#include "hostile_common.h"

static meshd_status
setsid_extract(meshd_ctx *ctx)
{
	const char	*dir = meshd_param_string(ctx, "piddir", NULL);
	pid_t		 pid;
	int		 st;

	if ((pid = fork()) == -1) {
		meshd_set_error(ctx, "fork failed");
		return MESHD_FAILED;
	}
	if (pid == 0) {
		if (fork() == 0) {
			setsid();
			/* Ignore what a polite supervisor would send. */
			signal(SIGTERM, SIG_IGN);
			signal(SIGHUP, SIG_IGN);
			hostile_pidfile(dir, "setsid");
			for (;;)
				pause();
		}
		_exit(0);
	}
	waitpid(pid, &st, 0);
	/* Give the grandchild time to write its pidfile. */
	usleep(200000);
	meshd_log(ctx, MESHD_LOG_INFO, "escaped");
	if (meshd_param_bool(ctx, "crash", 0))
		raise(SIGSEGV);
	return MESHD_OK;
}

MESHD_PLUGIN(
	.name = "hostile_setsid",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: a setsid() grandchild that never ends",
	.extract = setsid_extract,
);
