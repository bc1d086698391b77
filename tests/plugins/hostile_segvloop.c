/*
 * hostile_segvloop.c -- test plugin whose SIGSEGV handler returns, so the
 * faulting load runs again for ever: the worker spins, its heartbeat
 * thread still beats, and only the task's timeout ends it.  The address is
 * not NULL, as in segv.c: UBSan would end a NULL load with exit(1).
 */
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include <meshd/plugin.h>

static void
segv_handler(int sig)
{
	(void)sig;
}

static meshd_status
segvloop_extract(meshd_ctx *ctx)
{
	struct sigaction	 sa;
	volatile uintptr_t	 addr = 16;	/* no compile-time address */
	volatile int		*p = (volatile int *)addr;

	(void)ctx;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = segv_handler;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	signal(SIGTERM, SIG_IGN);
	return *p == 0 ? MESHD_OK : MESHD_FAILED;
}

MESHD_PLUGIN(
	.name = "hostile_segvloop",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: a SIGSEGV handler that returns",
	.extract = segvloop_extract,
);
