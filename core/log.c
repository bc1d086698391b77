/*
 * log.c -- the daemon's log, on stderr, syslog or the journal.
 *
 * When stderr is the journal (systemd connects it and says so in
 * JOURNAL_STREAM, "device:inode" of the stream), each line carries its
 * priority: with libsystemd through sd_journal_send(3), which also turns
 * the line's leading "job=J run=N partition=K task=T" into the fields
 * MESHD_JOB=, MESHD_RUN=, MESHD_PARTITION=, MESHD_TASK= (journalctl
 * MESHD_JOB=fresh follows one job); without it, or when the journal's
 * socket refuses, as a "<N>" prefix that journald reads as the priority
 * (SyslogLevelPrefix=, on by default).  The journal stamps the time
 * itself, so those lines have none.
 */
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-journal.h>
#endif

#include "log.h"

static int		log_syslog;
static int		log_journal = -1;	/* -1: not looked yet */
#ifdef HAVE_LIBSYSTEMD
static int		log_native;		/* sd_journal_send() */
#endif
static enum log_level	log_level = LOG_LVL_INFO;

static const char *const level_names[] = { "ERROR", "WARN", "INFO",
    "DEBUG" };
static const int level_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
    LOG_DEBUG };

void
log_open_syslog(void)
{
	openlog("meshd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = 1;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

int
log_stderr_is_journal(void)
{
	const char		*v = getenv("JOURNAL_STREAM");
	unsigned long long	 dev, ino;
	struct stat		 sb;
	char			 tail;

	/* Any other stderr (a terminal, a file, a pipe to a test) keeps
	 * the plain lines, even with the variable inherited. */
	if (v == NULL || sscanf(v, "%llu:%llu%c", &dev, &ino, &tail) != 2 ||
	    fstat(STDERR_FILENO, &sb) != 0)
		return 0;
	return (unsigned long long)sb.st_dev == dev &&
	    (unsigned long long)sb.st_ino == ino;
}

#ifdef HAVE_LIBSYSTEMD
/* The keys of a line's leading "key=value" words that become fields. */
static const char *const log_fields[] = { "job", "run", "partition", "task",
    "attempt", "product", "backfill", NULL };

/* sd_journal_sendv(): MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and a
 * MESHD_<KEY>= field for each known key=value word the message starts
 * with ("job=fresh partition=2001-01-12: ...").  0, or -1 if the journal
 * would not take it. */
static int
log_journal_send(enum log_level level, const char *msg)
{
	struct iovec	 iov[3 + 8];
	char		*s[3 + 8];
	const char	*p = msg, *eq, *end;
	size_t		 n = 0, i, k, klen, vlen;
	int		 rc;

	s[n++] = xasprintf("MESSAGE=%s %s", level_names[level], msg);
	s[n++] = xasprintf("PRIORITY=%d", level_prio[level]);
	s[n++] = xasprintf("SYSLOG_IDENTIFIER=%s",
	    program_invocation_short_name);
	while (n < sizeof s / sizeof s[0]) {
		end = p + strcspn(p, " ");
		if ((eq = memchr(p, '=', (size_t)(end - p))) == NULL)
			break;
		klen = (size_t)(eq - p);
		for (k = 0; log_fields[k] != NULL; k++)
			if (strlen(log_fields[k]) == klen &&
			    strncmp(log_fields[k], p, klen) == 0)
				break;
		if (log_fields[k] == NULL)
			break;
		/* "partition=K:" ends the prefix; its ':' is not the
		 * value's. */
		vlen = (size_t)(end - eq - 1);
		if (vlen > 0 && eq[vlen] == ':')
			vlen--;
		s[n] = xasprintf("MESHD_%s=%.*s", log_fields[k], (int)vlen,
		    eq + 1);
		for (i = 6; s[n][i] != '='; i++)
			s[n][i] = (char)(s[n][i] - 'a' + 'A');
		n++;
		if (end[0] != ' ' || end[-1] == ':')
			break;
		p = end + 1;
	}
	for (i = 0; i < n; i++) {
		iov[i].iov_base = s[i];
		iov[i].iov_len = strlen(s[i]);
	}
	rc = sd_journal_sendv(iov, (int)n);
	for (i = 0; i < n; i++)
		free(s[i]);
	return rc < 0 ? -1 : 0;
}
#endif

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, ts[32];

	if (level > log_level)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (!log_syslog && log_journal == -1) {
		log_journal = log_stderr_is_journal();
#ifdef HAVE_LIBSYSTEMD
		/* sd_journal_send() drops a message, and says it is sent,
		 * when journald's socket is missing: then stderr it is. */
		log_native = log_journal &&
		    access("/run/systemd/journal/socket", F_OK) == 0;
#endif
	}
	if (log_syslog)
		syslog(level_prio[level], "%s %s", level_names[level], msg);
#ifdef HAVE_LIBSYSTEMD
	else if (log_native && log_journal_send(level, msg) == 0)
		;
#endif
	else if (log_journal) {
		fprintf(stderr, "<%d>%s %s\n", level_prio[level],
		    level_names[level], msg);
		fflush(stderr);
	} else {
		/* One write per line, so lines never interleave. */
		fprintf(stderr, "%s %-5s %s\n", fmt_utc(now_us(), ts, sizeof ts),
		    level_names[level], msg);
		fflush(stderr);
	}
	free(msg);
}
