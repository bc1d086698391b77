/*
 * selfexec.c -- start, kick and stop a side service that is meshd run
 * again (selfexec.h); shared by the lineage and alert deliverers.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "selfexec.h"
#include "util.h"

extern char	**environ;

/* The running binary, opened at start: executed again even if an upgrade
 * has replaced the file since (a deliverer of another version must never
 * open this daemon's state), and found under valgrind too. */
#define SELFEXEC_EXE_FD	4

static const char	*se_argv0 = "meshd";
static int		 se_exe = -1;
static int		 se_syslog, se_debug;
static char		 se_flags[4] = "-";

void
selfexec_init(const char *argv0, int to_syslog, int debug)
{
	if (argv0 != NULL)
		se_argv0 = argv0;
	se_syslog = to_syslog;
	se_debug = debug;
	snprintf(se_flags, sizeof se_flags, "%s%s%s", se_syslog ? "s" : "",
	    se_debug ? "d" : "", !se_syslog && !se_debug ? "-" : "");
	if (se_exe == -1)
		se_exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
}

const char *
selfexec_log_flags(void)
{
	return se_flags;
}

void
selfexec_log_apply(const char *flags)
{
	if (strchr(flags, 's') != NULL)
		log_open_syslog();
	if (strchr(flags, 'd') != NULL)
		log_set_level(LOG_LVL_DEBUG);
}

pid_t
selfexec_spawn(char **argv, int *kick, const char *what, char **cause)
{
	int		 p[2];
	pid_t		 parent = getpid(), pid;
	struct sigaction sa;
	sigset_t	 all;
	int		 exe;

	argv[0] = (char *)se_argv0;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1) {
		set_cause(cause, "%s: pipe: %s", what, strerror(errno));
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		set_cause(cause, "%s: fork: %s", what, strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		/* Dies with the daemon, even by kill -9 (kept across exec). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		/*
		 * The read end becomes fd 3 (dup2 clears close-on-exec) and
		 * every other descriptor of the daemon's is closed: its lock
		 * (a flock held by a child outlives the daemon), its state
		 * connection and its pipes.  Closing the state's descriptors
		 * here does not release the daemon's POSIX locks: those
		 * belong to the process that took them.  No SQLite call is
		 * made before the exec, which leaves nothing of the daemon's
		 * SQLite in this process.
		 */
		exe = se_exe;
		if (exe != -1 && exe <= SELFEXEC_EXE_FD)
			exe = fcntl(exe, F_DUPFD_CLOEXEC, SELFEXEC_EXE_FD + 1);
		if (p[0] == SELFEXEC_KICK_FD)
			fcntl(p[0], F_SETFD, 0);
		else if (dup2(p[0], SELFEXEC_KICK_FD) == -1)
			_exit(127);
		if (exe != -1)
			exe = dup3(exe, SELFEXEC_EXE_FD, O_CLOEXEC);
		close_range(SELFEXEC_EXE_FD + 1, ~0U, 0);
		if (exe == -1)
			close(SELFEXEC_EXE_FD);
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGUSR1, &sa, NULL);
		sigaction(SIGCHLD, &sa, NULL);
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		/* The running binary itself; its path only without /proc. */
		if (exe != -1)
			fexecve(exe, argv, environ);
		execv("/proc/self/exe", argv);
		if (strchr(se_argv0, '/') != NULL)
			execv(se_argv0, argv);
		else
			execvp(se_argv0, argv);
		log_error("%s: cannot run %s again: %s", what, se_argv0,
		    strerror(errno));
		_exit(127);
	}
	close(p[0]);
	*kick = p[1];
	return pid;
}

void
selfexec_stop(pid_t *pid, int *kick)
{
	int	i, status;

	if (*pid == -1)
		return;
	close(*kick);
	*kick = -1;
	/* A second to finish what it sends; what it does not send stays in
	 * its outbox for the next start. */
	for (i = 0; i < 100; i++) {
		if (waitpid(*pid, &status, WNOHANG) == *pid) {
			*pid = -1;
			return;
		}
		usleep(10000);
	}
	kill(*pid, SIGKILL);
	waitpid(*pid, &status, 0);
	*pid = -1;
}

int
selfexec_running(pid_t *pid, int *kick, const char *what)
{
	int	status;

	if (*pid == -1)
		return 0;
	if (waitpid(*pid, &status, WNOHANG) != *pid)
		return 1;
	log_warn("%s: the deliverer (pid %ld) %s %d", what, (long)*pid,
	    WIFSIGNALED(status) ? "was killed by signal" : "exited",
	    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	close(*kick);
	*kick = -1;
	*pid = -1;
	return 0;
}
