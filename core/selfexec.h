/*
 * selfexec.h -- side services as meshd run again: the lineage and alert
 * deliverers (design decision 11).
 *
 * A deliverer is a child process, not a thread: the daemon forks workers
 * that run plugin code (which may use SQLite or libcurl themselves), and a
 * fork while another thread holds a library's lock would leave that lock
 * held forever in the worker.  The child exec()s meshd again with a
 * hidden first argument, so that nothing of the daemon's SQLite crosses
 * the fork, opens its own state connection and dies with the daemon
 * (PR_SET_PDEATHSIG).  The daemon kicks it through a pipe (its read end is
 * fd SELFEXEC_KICK_FD in the child) and stops it by closing that pipe.
 */
#ifndef MESHD_SELFEXEC_H
#define MESHD_SELFEXEC_H

#include <sys/types.h>

/* The kick pipe's read end in the child, across the exec. */
#define SELFEXEC_KICK_FD	3

/*
 * meshd, at start: how to run meshd again (its argv[0], used if
 * /proc/self/exe cannot be executed) and how children log (meshd's
 * --syslog and --debug).  Since 0.4.0 (was lineage_init()).
 */
void		 selfexec_init(const char *argv0, int to_syslog, int debug);
/* The log flags to pass a child: "s" syslog, "d" debug, or "-". */
const char	*selfexec_log_flags(void);
/* In the child: apply those flags. */
void		 selfexec_log_apply(const char *flags);
/*
 * Fork and exec meshd with argv[1..] (argv[0] is replaced by meshd's own
 * name); the child gets the kick pipe's read end as SELFEXEC_KICK_FD and
 * nothing else of the daemon's descriptors.  *kick is the write end
 * (non-blocking).  `what` names the service in errors ("lineage").
 * Returns the pid, or -1 with cause.
 */
pid_t		 selfexec_spawn(char **argv, int *kick, const char *what,
		    char **cause);
/* Let the child finish (a second at most: it sees the pipe close), then
 * kill and reap it; *pid and *kick become -1.  Safe with *pid == -1. */
void		 selfexec_stop(pid_t *pid, int *kick);
/* Is it running?  One that died is reaped (by pid) and logged; *pid and
 * *kick become -1. */
int		 selfexec_running(pid_t *pid, int *kick, const char *what);

#endif
