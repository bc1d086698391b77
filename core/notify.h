/*
 * notify.h -- tell the service manager how meshd is doing: readiness, a
 * short status line, reloads, stopping, and the watchdog's keep-alive,
 * through systemd's notification protocol (sd_notify(3)).
 *
 * Every function is a no-op unless NOTIFY_SOCKET was set when
 * notify_init() ran: outside systemd (a terminal, the tests, another
 * supervisor) nothing is sent and nothing fails.  With libsystemd (built
 * --with-systemd) messages go through sd_notify(); without it meshd
 * writes the same datagrams itself (a path or an abstract '@' socket).
 * A message that cannot be sent is dropped: the daemon never stops for
 * its supervisor's sake.  Only the main process may call these.
 */
#ifndef MESHD_NOTIFY_H
#define MESHD_NOTIFY_H

#include "util.h"

/* Read NOTIFY_SOCKET, and WATCHDOG_USEC / WATCHDOG_PID (the watchdog is
 * on only when WATCHDOG_PID, if set, is this process).  Call once, in
 * the main process, before the first message.  The variables are left
 * in the environment. */
void	notify_init(void);
/* Was NOTIFY_SOCKET set: is anyone listening? */
int	notify_active(void);
/* Is the watchdog on?  Its interval in microseconds, or 0. */
int64_t	notify_watchdog_usec(void);

/* READY=1 with `status` (may be NULL): start-up or a reload is done. */
void	notify_ready(const char *status);
/* RELOADING=1 (with MONOTONIC_USEC, as Type=notify-reload wants):
 * a SIGHUP reload begins; notify_ready() ends it. */
void	notify_reloading(void);
/* STOPPING=1 with `status`: shutdown has begun. */
void	notify_stopping(const char *status);
/* The status line to show (systemctl status): sent by notify_tick()
 * when it differs from the last one sent, at most once a second. */
void	notify_status(const char *, ...) PRINTFLIKE(1, 2);
/* Send what is due: WATCHDOG=1 once half the watchdog interval has
 * passed since the last one, a changed status line.  Call it from the
 * main loop, so that a hung loop stops the keep-alive. */
void	notify_tick(void);
/* `timeout_ms` (-1 for ever), shortened so that the loop wakes up for
 * notify_tick()'s next due message.  Without a watchdog or a pending
 * status line it is returned unchanged: an idle meshd still sleeps until
 * its next fire. */
int	notify_timeout(int timeout_ms);

#endif
