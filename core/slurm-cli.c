/*
 * slurm-cli.c -- run one Slurm command, bounded in time.
 *
 * A Slurm controller that is down or hung makes sbatch and squeue block
 * for about 10 s each, sometimes longer: every call is killed after
 * SLURM_CLI_TIMEOUT_MS so that the agent always comes back to meshd's
 * socket, and a timed-out call is reported as "controller not answering".
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

#include "util.h"
#include "slurm-int.h"

#define CLI_OUT_MAX	(4 * 1024 * 1024)

struct cap {
	char	*p;
	size_t	 len, cap;
};

static void
cap_read(int *fd, struct cap *c)
{
	char	buf[8192];
	ssize_t	n;

	n = read(*fd, buf, sizeof buf);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	if (c->len + (size_t)n > CLI_OUT_MAX)
		return;		/* drain, but keep only the first 4 MiB */
	if (c->len + (size_t)n + 1 > c->cap) {
		c->cap = (c->len + (size_t)n + 1) * 2;
		c->p = xrealloc(c->p, c->cap);
	}
	memcpy(c->p + c->len, buf, (size_t)n);
	c->len += (size_t)n;
	c->p[c->len] = '\0';
}

int
cli_timeout_ms(void)
{
	const char	*s = getenv("MESHD_SLURM_CLI_TIMEOUT_MS");
	long		 v;
	char		*end;

	if (s != NULL && *s != '\0') {
		v = strtol(s, &end, 10);
		if (*end == '\0' && v > 0 && v < INT_MAX)
			return (int)v;
	}
	return SLURM_CLI_TIMEOUT_MS;
}

int
cli_run(const char *const argv[], int timeout_ms, struct cli_out *o)
{
	struct pollfd	 pfd[2];
	struct cap	 cout = { NULL, 0, 0 }, cerr = { NULL, 0, 0 };
	int		 po[2] = { -1, -1 }, pe[2] = { -1, -1 }, fds[2];
	int		 killed = 0, st = 0, nfd, i;
	int64_t		 deadline, now;
	pid_t		 pid, r;

	memset(o, 0, sizeof *o);
	o->wstatus = -1;
	if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1) {
		o->exec_failed = 1;
		o->err = xasprintf("pipe: %s", strerror(errno));
		goto fail;
	}
	if ((pid = fork()) == -1) {
		o->exec_failed = 1;
		o->err = xasprintf("fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		int	dn;

		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		if ((dn = open("/dev/null", O_RDONLY)) != -1)
			dup2(dn, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		/* execvp() does not write to its arguments. */
		execvp(argv[0], (char *const *)(uintptr_t)argv);
		dprintf(2, "%s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	fds[0] = po[0];
	fds[1] = pe[0];
	deadline = mono_us() + (int64_t)timeout_ms * 1000;
	while (fds[0] != -1 || fds[1] != -1) {
		now = mono_us();
		if (now >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			killed = 1;
			break;
		}
		nfd = 0;
		for (i = 0; i < 2; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			if (fds[i] != -1)
				nfd++;
		}
		if (poll(pfd, 2, (int)((deadline - now + 999) / 1000)) == -1 &&
		    errno != EINTR)
			break;
		if (fds[0] != -1 && (pfd[0].revents & (POLLIN | POLLHUP)))
			cap_read(&fds[0], &cout);
		if (fds[1] != -1 && (pfd[1].revents & (POLLIN | POLLHUP)))
			cap_read(&fds[1], &cerr);
	}
	for (i = 0; i < 2; i++)
		if (fds[i] != -1)
			close(fds[i]);
	/* Pipes closed early (a command that closed its output and hangs):
	 * the child is still bounded by the deadline. */
	for (;;) {
		r = waitpid(pid, &st, killed ? 0 : WNOHANG);
		if (r == pid)
			break;
		if (r == -1 && errno != EINTR)
			break;
		if (r == 0) {
			if (mono_us() >= deadline) {
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				killed = 1;
			} else
				usleep(10000);
		}
	}
	/* Whatever it left in its process group goes too. */
	kill(-pid, SIGKILL);
	o->wstatus = st;
	o->timed_out = killed;
	o->out = cout.p != NULL ? cout.p : xstrdup("");
	o->err = cerr.p != NULL ? cerr.p : xstrdup("");
	if (!killed && WIFEXITED(st) && WEXITSTATUS(st) == 127 &&
	    strstr(o->err, strerror(ENOENT)) != NULL)
		o->exec_failed = 1;
	if (killed || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return 0;

fail:
	for (i = 0; i < 2; i++) {
		if (po[i] != -1)
			close(po[i]);
		if (pe[i] != -1)
			close(pe[i]);
	}
	free(cout.p);
	free(cerr.p);
	o->out = xstrdup("");
	return -1;
}

void
cli_out_free(struct cli_out *o)
{
	free(o->out);
	free(o->err);
	memset(o, 0, sizeof *o);
}

char *
cli_error(const char *prog, const struct cli_out *o)
{
	char	*s, *p, *q;
	size_t	 len;

	if (o->timed_out)
		return xasprintf("%s: timed out after %ds (controller not "
		    "answering)", prog, (cli_timeout_ms() + 999) / 1000);
	/* Lines joined by "; ", blank ones dropped, at most 2000 bytes. */
	s = xmalloc(strlen(o->err) * 2 + 1);
	q = s;
	for (p = o->err; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r') {
			if (q != s && q[-1] != ' ' && p[1] != '\0' &&
			    p[1] != '\n') {
				*q++ = ';';
				*q++ = ' ';
			}
			continue;
		}
		*q++ = *p;
	}
	*q = '\0';
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == ';'))
		s[--len] = '\0';
	if (len > 2000)
		s[2000] = '\0';
	if (len == 0) {
		free(s);
		if (WIFSIGNALED(o->wstatus))
			return xasprintf("%s: killed by signal %d", prog,
			    WTERMSIG(o->wstatus));
		return xasprintf("%s: exited with status %d", prog,
		    WEXITSTATUS(o->wstatus));
	}
	return s;
}

int
cli_transient(const struct cli_out *o)
{
	static const char *const words[] = {
		"Unable to contact slurm controller",
		"Socket timed out",
		"Connection refused",
		"Connection timed out",
		"Zero Bytes were transmitted",
		"Slurm temporarily unable",
		"Resource temporarily unavailable",
		"Slurmctld is busy",
		"Communication connection failure",
		"Transport endpoint is not connected",
		"Protocol authentication error",
	};
	size_t	i;

	if (o->timed_out)
		return 1;
	for (i = 0; i < nitems(words); i++)
		if (strcasestr(o->err, words[i]) != NULL)
			return 1;
	return 0;
}

char *
cli_which(const char *prog)
{
	const char	*path = getenv("PATH"), *p, *e;
	char		*full;

	if (strchr(prog, '/') != NULL)
		return access(prog, X_OK) == 0 ? xstrdup(prog) : NULL;
	if (path == NULL)
		return NULL;
	for (p = path; ; p = e + 1) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		if (e == p)
			full = xasprintf("./%s", prog);
		else
			full = xasprintf("%.*s/%s", (int)(e - p), p, prog);
		if (access(full, X_OK) == 0)
			return full;
		free(full);
		if (*e == '\0')
			break;
	}
	return NULL;
}

char *
sh_quote(const char *s)
{
	char	*r, *q;
	size_t	 n = 3;
	const char *p;

	for (p = s; *p != '\0'; p++)
		n += *p == '\'' ? 4 : 1;
	r = q = xmalloc(n);
	*q++ = '\'';
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'') {
			memcpy(q, "'\\''", 4);
			q += 4;
		} else
			*q++ = *p;
	}
	*q++ = '\'';
	*q = '\0';
	return r;
}
