/*
 * hostile_fork.c -- test plugin whose extract forks children that sleep
 * for ever, holding every descriptor the worker has (its socket too), and
 * one that execs /bin/sh to list its own descriptors into
 * "piddir"/fds.txt (the worker's socket must not be there: it is
 * close-on-exec).  Each child writes a pidfile into "piddir".  With param
 * crash (bool) the stage then dies of SIGSEGV, else it returns MESHD_OK.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <meshd/plugin.h>

#include "hostile_common.h"

static meshd_status
fork_extract(meshd_ctx *ctx)
{
	const char	*dir = meshd_param_string(ctx, "piddir", NULL);
	char		 cmd[4200];
	int		 i;

	for (i = 0; i < 3; i++) {
		if (fork() == 0) {
			signal(SIGTERM, SIG_IGN);
			hostile_pidfile(dir, "child");
			for (;;)
				pause();
		}
	}
	if (dir != NULL && fork() == 0) {
		hostile_pidfile(dir, "exec");
		snprintf(cmd, sizeof cmd, "ls -l /proc/$$/fd > '%s/fds.txt'; "
		    "exec sleep 1000", dir);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	usleep(300000);
	if (meshd_param_bool(ctx, "crash", 0))
		raise(SIGSEGV);
	return MESHD_OK;
}

MESHD_PLUGIN(
	.name = "hostile_fork",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: children that hold the worker's socket",
	.extract = fork_extract,
);
