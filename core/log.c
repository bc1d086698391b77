/* log.c -- the daemon's log, on stderr or syslog. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include "log.h"

static int		log_syslog;
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
	if (log_syslog)
		syslog(level_prio[level], "%s %s", level_names[level], msg);
	else {
		/* One write per line, so lines never interleave. */
		fprintf(stderr, "%s %-5s %s\n", fmt_utc(now_us(), ts, sizeof ts),
		    level_names[level], msg);
		fflush(stderr);
	}
	free(msg);
}
