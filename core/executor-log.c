/*
 * executor-log.c -- the outcome trailer at the end of an attempt's log.
 *
 * The log of an attempt is the plugin's output; what ended the attempt
 * (a crash, a timeout, a failed check, the plugin's error message) was
 * known only to the state, so `meshctl logs` alone could not explain a
 * failure.  The supervisor is the one process that knows every outcome:
 * the worker's own report, and the faults it cannot report (it died, was
 * killed, timed out, sent garbage).  So the supervisor appends the
 * trailer when it hands the result to its owner, after the worker has
 * closed the log (or died) and after any cut at log_max_bytes, so the
 * trailer is never cut away: it is bounded instead (EXECUTOR_OUTCOME_MAX).
 *
 * Everything in it that came from a plugin (check names, expectations,
 * its error message) is made printable first: a plugin must not be able
 * to forge a second outcome line in the log.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sdk/meshd/plugin.h"
#include "executor.h"
#include "util.h"

/* Check rows shown before "... and N more". */
#define OUTCOME_MAX_CHECKS	40

struct obuf {
	char	buf[EXECUTOR_OUTCOME_MAX];
	size_t	len;
};

static void PRINTFLIKE(2, 3)
ob_printf(struct obuf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (b->len >= sizeof b->buf - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->len, sizeof b->buf - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof b->buf - b->len) {
		/* Cut: end on a newline all the same. */
		b->len = sizeof b->buf - 1;
		b->buf[b->len - 1] = '\n';
		return;
	}
	b->len += (size_t)n;
}

/* A copy of `s` at most `max` bytes long ("..." marks a cut), with
 * control characters as '?': one line whatever the plugin sent. */
static char *
printable(const char *s, size_t max)
{
	size_t	 n, i;
	char	*out;

	if (s == NULL)
		return xstrdup("");
	n = strlen(s);
	if (n > max)
		out = xasprintf("%.*s...", (int)(max - 3), s);
	else
		out = xstrdup(s);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
	return out;
}

static const char *
outcome_word(int status)
{
	switch (status) {
	case MESHD_OK:
		return "succeeded";
	case MESHD_SKIPPED:
		return "skipped";
	case MESHD_RETRY:
		return "asked for a retry";
	}
	return "failed";
}

static void
outcome_checks(struct obuf *b, const struct task_result *r)
{
	size_t	 i, failed = 0;
	char	*name, *exp, obs[32];

	for (i = 0; i < r->nchecks; i++)
		if (!r->checks[i].passed)
			failed++;
	ob_printf(b, "meshd: checks: %zu recorded, %zu failed\n", r->nchecks,
	    failed);
	ob_printf(b, "  %-32s %-5s %-6s %-14s %s\n", "CHECK", "LEVEL",
	    "PASSED", "OBSERVED", "EXPECTED");
	for (i = 0; i < r->nchecks && i < OUTCOME_MAX_CHECKS; i++) {
		const struct check_rec *c = &r->checks[i];

		name = printable(c->name, 64);
		exp = printable(c->expectation, 64);
		snprintf(obs, sizeof obs, "%g", c->observed);
		ob_printf(b, "  %-32s %-5s %-6s %-14s %s\n", name,
		    c->severity == MESHD_SEV_ERROR ? "error" : "warn",
		    c->passed ? "yes" : "no", obs, exp);
		free(name);
		free(exp);
	}
	if (r->nchecks > OUTCOME_MAX_CHECKS)
		ob_printf(b, "  ... and %zu more (meshctl checks)\n",
		    r->nchecks - OUTCOME_MAX_CHECKS);
}

void
executor_log_outcome(const char *log_path, int attempt,
    const struct task_result *r)
{
	struct obuf	*b;
	struct stat	 sb;
	char		*reason, *msg, *dir, c;
	int		 fd;

	if (log_path == NULL || r == NULL)
		return;
	fd = open(log_path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	/* Silent, fine and with no checks to list: the state says it all,
	 * and no file is made for it (most attempts). */
	if (fd == -1 && errno == ENOENT && r->nchecks == 0 &&
	    (r->status == MESHD_OK || r->status == MESHD_SKIPPED))
		return;
	if (fd == -1 && errno == ENOENT) {
		/* A failure with no output (or refused at submit, before a
		 * worker ran it): the trailer alone then says why. */
		dir = path_dirname(log_path);
		if (mkdir_p(dir, 0750, NULL) == 0)
			fd = open(log_path, O_RDWR | O_APPEND | O_CREAT |
			    O_CLOEXEC | O_NOFOLLOW, 0640);
		free(dir);
	}
	if (fd == -1)
		return;		/* the log is what failed: nowhere to say it */
	b = xcalloc(1, sizeof *b);
	/* The plugin's last line may lack its newline. */
	if (fstat(fd, &sb) == 0 && sb.st_size > 0 &&
	    pread(fd, &c, 1, sb.st_size - 1) == 1 && c != '\n')
		ob_printf(b, "\n");
	ob_printf(b, "%s\n", EXECUTOR_OUTCOME_MARKER);
	reason = printable(r->reason, 1024);
	msg = printable(r->message, 1024);
	if (r->reason != NULL)
		ob_printf(b, "meshd: attempt %d %s: %s\n", attempt,
		    outcome_word(r->status), reason);
	else
		ob_printf(b, "meshd: attempt %d %s\n", attempt,
		    outcome_word(r->status));
	if (r->message != NULL && (r->reason == NULL ||
	    strstr(r->reason, r->message) == NULL))
		ob_printf(b, "meshd: plugin error: %s\n", msg);
	if (r->nchecks > 0)
		outcome_checks(b, r);
	free(reason);
	free(msg);
	if (write(fd, b->buf, b->len) == -1) {
		/* As above: the attempt's outcome is in the state anyway. */
	}
	close(fd);
	free(b);
}
