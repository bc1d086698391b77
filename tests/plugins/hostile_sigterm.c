/*
 * hostile_sigterm.c -- test plugin that leaves its signal state behind.
 *
 * extract blocks SIGTERM and SIGUSR1, installs handlers of its own for
 * SIGTERM and SIGUSR1 and ignores SIGCHLD, then returns MESHD_OK.  check
 * (run next by the same worker) records the check "signals_reset",
 * passed only if none of that was carried over: SIGTERM and SIGUSR1
 * unblocked, neither handler is this plugin's, SIGCHLD not ignored.  With
 * param hang (bool) check then waits for cancellation (meshd_cancelled)
 * and returns MESHD_FAILED "cancelled", which it can only do if SIGTERM
 * reaches the worker.  extract also handles SIGRTMIN+2, and check records
 * the warning "rt_reset", passed if that handler is gone (real-time
 * signals are checked every 16 tasks only).
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <meshd/plugin.h>

static void
sigterm_handler(int sig)
{
	(void)sig;
}

static meshd_status
sigterm_extract(meshd_ctx *ctx)
{
	struct sigaction	sa;
	sigset_t		set;

	(void)ctx;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sigterm_handler;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGRTMIN + 2, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return MESHD_OK;
}

static meshd_status
sigterm_check(meshd_ctx *ctx)
{
	struct sigaction	term, usr1, chld, rt;
	sigset_t		set;
	int			ok;

	sigprocmask(SIG_BLOCK, NULL, &set);
	sigaction(SIGTERM, NULL, &term);
	sigaction(SIGUSR1, NULL, &usr1);
	sigaction(SIGCHLD, NULL, &chld);
	sigaction(SIGRTMIN + 2, NULL, &rt);
	meshd_check(ctx, "rt_reset", MESHD_SEV_WARN,
	    rt.sa_handler == SIG_DFL, rt.sa_handler == SIG_DFL, "1");
	ok = !sigismember(&set, SIGTERM) && !sigismember(&set, SIGUSR1) &&
	    term.sa_handler != sigterm_handler &&
	    usr1.sa_handler == SIG_DFL && chld.sa_handler != SIG_IGN;
	meshd_check(ctx, "signals_reset", MESHD_SEV_ERROR, ok, ok,
	    "1");
	if (meshd_param_bool(ctx, "hang", 0)) {
		while (!meshd_cancelled(ctx))
			usleep(10000);
		meshd_set_error(ctx, "cancelled");
		return MESHD_FAILED;
	}
	return MESHD_OK;
}

MESHD_PLUGIN(
	.name = "hostile_sigterm",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: blocks SIGTERM for the next task",
	.extract = sigterm_extract,
	.check = sigterm_check,
);
