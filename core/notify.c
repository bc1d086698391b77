/*
 * notify.c -- systemd's notification protocol (see notify.h).
 *
 * Without libsystemd the protocol is spoken directly, as OpenSSH and
 * others do rather than link libsystemd for it: one datagram per
 * message, "KEY=VALUE" lines, sent to the AF_UNIX socket NOTIFY_SOCKET
 * names (a leading '@' means the abstract namespace).  systemd documents
 * this as a stable interface (sd_notify(3) gives the same few lines).
 * Doing nothing instead would leave Type=notify units hanging in
 * "activating" until their start timeout.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "notify.h"

/* STATUS= lines change with every attempt that starts or ends: send at
 * most one a second, the last one winning. */
#define NOTIFY_STATUS_EVERY_US	1000000
/* The shortest wait between two WATCHDOG=1: a WatchdogSec= of a few
 * microseconds would otherwise make every wait 0 ms, and the loop spin. */
#define NOTIFY_WATCHDOG_MIN_US	10000

static int	 notify_on;		/* NOTIFY_SOCKET is set */
static int64_t	 wd_usec;		/* watchdog interval, 0 if off */
static int64_t	 wd_last;		/* mono_us() of the last WATCHDOG=1 */
static char	*status_want;		/* the line to show */
static char	*status_sent;		/* the line last sent */
static int64_t	 status_at;		/* mono_us() it was sent */

#ifndef HAVE_LIBSYSTEMD
static int
notify_raw(const char *msg)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	size_t			 n;
	ssize_t			 w;
	int			 fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return -1;
	n = strlen(path);
	if (n < 2 || n > sizeof sun.sun_path)
		return -1;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* The address's length, not sizeof: an abstract name is exactly
	 * its bytes, without a terminating NUL. */
	do
		w = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
		    (struct sockaddr *)&sun, offsetof(struct sockaddr_un,
		    sun_path) + n);
	while (w == -1 && errno == EINTR);
	close(fd);
	return w == (ssize_t)strlen(msg) ? 0 : -1;
}

/* WATCHDOG_USEC, when WATCHDOG_PID (if set) is this process: as
 * sd_watchdog_enabled(3). */
static int64_t
notify_watchdog_env(void)
{
	const char		*s = getenv("WATCHDOG_USEC");
	char			*end;
	unsigned long long	 usec, pid;

	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	usec = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || usec == 0 || usec > INT64_MAX / 2)
		return 0;
	if ((s = getenv("WATCHDOG_PID")) != NULL && *s != '\0') {
		pid = strtoull(s, &end, 10);
		if (*end != '\0' || pid != (unsigned long long)getpid())
			return 0;
	}
	return (int64_t)usec;
}
#endif

static void
notify_send(const char *msg)
{
	if (!notify_on)
		return;
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, msg);
#else
	notify_raw(msg);
#endif
}

void
notify_init(void)
{
	const char	*s = getenv("NOTIFY_SOCKET");
#ifdef HAVE_LIBSYSTEMD
	uint64_t	 usec;
#endif

	notify_on = s != NULL && *s != '\0';
	wd_usec = 0;
	if (!notify_on)
		return;
#ifdef HAVE_LIBSYSTEMD
	if (sd_watchdog_enabled(0, &usec) > 0 && usec <= INT64_MAX / 2)
		wd_usec = (int64_t)usec;
#else
	wd_usec = notify_watchdog_env();
#endif
	if (wd_usec > 0 && wd_usec < 2 * NOTIFY_WATCHDOG_MIN_US)
		wd_usec = 2 * NOTIFY_WATCHDOG_MIN_US;
	wd_last = mono_us();
}

int
notify_active(void)
{
	return notify_on;
}

int64_t
notify_watchdog_usec(void)
{
	return wd_usec;
}

/* The status line goes with READY=1 or STOPPING=1 in one datagram, so
 * that systemctl status never shows the state without its line. */
static void
notify_with_status(const char *what, const char *status)
{
	char	*msg;

	if (!notify_on)
		return;
	if (status != NULL) {
		msg = xasprintf("%s\nSTATUS=%s", what, status);
		free(status_want);
		status_want = NULL;
		free(status_sent);
		status_sent = xstrdup(status);
		status_at = mono_us();
	} else
		msg = xstrdup(what);
	notify_send(msg);
	free(msg);
}

void
notify_ready(const char *status)
{
	notify_with_status("READY=1", status);
}

void
notify_reloading(void)
{
	struct timespec	 ts;
	char		*msg;

	if (!notify_on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	msg = xasprintf("RELOADING=1\nMONOTONIC_USEC=%lld\nSTATUS=reloading",
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	notify_send(msg);
	free(msg);
	/* Whatever comes next differs from "reloading". */
	free(status_sent);
	status_sent = xstrdup("reloading");
	status_at = mono_us();
}

void
notify_stopping(const char *status)
{
	notify_with_status("STOPPING=1", status);
}

void
notify_status(const char *fmt, ...)
{
	va_list	 ap;

	if (!notify_on)
		return;
	free(status_want);
	va_start(ap, fmt);
	status_want = xvasprintf(fmt, ap);
	va_end(ap);
}

/* Is a changed status line waiting? */
static int
status_pending(void)
{
	return status_want != NULL && (status_sent == NULL ||
	    strcmp(status_want, status_sent) != 0);
}

void
notify_tick(void)
{
	int64_t	 now;
	char	*msg;

	if (!notify_on)
		return;
	now = mono_us();
	if (wd_usec > 0 && now - wd_last >= wd_usec / 2) {
		notify_send("WATCHDOG=1");
		wd_last = now;
	}
	if (status_pending() && (status_sent == NULL ||
	    now - status_at >= NOTIFY_STATUS_EVERY_US)) {
		msg = xasprintf("STATUS=%s", status_want);
		notify_send(msg);
		free(msg);
		free(status_sent);
		status_sent = status_want;
		status_want = NULL;
		status_at = now;
	}
}

/* Milliseconds from `now` to `due`, rounded up so that the wait ends at
 * or after it, never a millisecond early. */
static int64_t
ms_until(int64_t due, int64_t now)
{
	return due > now ? (due - now + 999) / 1000 : 0;
}

int
notify_timeout(int timeout_ms)
{
	int64_t	now, t = timeout_ms, due;

	if (!notify_on)
		return timeout_ms;
	now = mono_us();
	if (wd_usec > 0) {
		due = ms_until(wd_last + wd_usec / 2, now);
		if (t < 0 || due < t)
			t = due;
	}
	if (status_pending()) {
		due = ms_until(status_at + NOTIFY_STATUS_EVERY_US, now);
		if (t < 0 || due < t)
			t = due;
	}
	return (int)t;
}
