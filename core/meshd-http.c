/*
 * meshd-http.c -- the daemon's side of the HTTP child (http.h): started at
 * start when meshd.conf has http = { listen = ...; }, started again when
 * it dies (with a backoff, so that one that cannot listen does not spin),
 * replaced when a reload changes http, kicked to reload on every other
 * reload, stopped at exit.  The child is meshd run again
 * (selfexec_spawn()), so the scheduler process gains no thread and shares
 * nothing with it but the state file (design decision 11).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "meshd.h"
#include "selfexec.h"
#include "util.h"

/* First restart after a second, doubling to a minute; a child that ran a
 * minute is healthy again. */
#define HTTP_BACKOFF_MIN	1000000
#define HTTP_BACKOFF_MAX	60000000

static pid_t	hd_pid = -1;
static int	hd_kick = -1;
static int64_t	hd_started;		/* mono_us() of the last start */
static int64_t	hd_retry_at;		/* mono_us(): not before then */
static int64_t	hd_backoff = HTTP_BACKOFF_MIN;

static int
http_spawn(struct daemon *d, char **cause)
{
	char	*argv[6];
	pid_t	 pid;

	argv[0] = NULL;
	argv[1] = (char *)HTTP_CHILD_ARG;
	argv[2] = (char *)selfexec_log_flags();
	argv[3] = (char *)d->config_path;
	argv[4] = d->cfg->state_db;
	argv[5] = NULL;
	if ((pid = selfexec_spawn(argv, &hd_kick, "http", cause)) == -1)
		return -1;
	hd_pid = pid;
	hd_started = mono_us();
	log_debug("http: started the HTTP child for %s (pid %ld)",
	    d->cfg->http_listen, (long)pid);
	return 0;
}

int
daemon_http_start(struct daemon *d, char **cause)
{
	if (d->cfg->http_listen == NULL || hd_pid != -1)
		return 0;
	/* meshctl does not read the token, so meshd.conf loaded; meshd
	 * must. */
	if (config_http_check(d->cfg, cause) != 0)
		return -1;
	hd_backoff = HTTP_BACKOFF_MIN;
	hd_retry_at = 0;
	return http_spawn(d, cause);
}

void
daemon_http_watch(struct daemon *d)
{
	int64_t	 now;
	char	*cause = NULL;
	int	 status;

	if (hd_pid != -1) {
		if (waitpid(hd_pid, &status, WNOHANG) != hd_pid) {
			if (hd_backoff > HTTP_BACKOFF_MIN &&
			    mono_us() - hd_started > HTTP_BACKOFF_MAX)
				hd_backoff = HTTP_BACKOFF_MIN;
			return;
		}
		now = mono_us();
		if (now - hd_started > HTTP_BACKOFF_MAX)
			hd_backoff = HTTP_BACKOFF_MIN;
		log_error("http: the HTTP child (pid %ld) %s %d; starting it "
		    "again in %lld s", (long)hd_pid, WIFSIGNALED(status) ?
		    "was killed by signal" : "exited with", WIFSIGNALED(status) ?
		    WTERMSIG(status) : WEXITSTATUS(status),
		    (long long)(hd_backoff / 1000000));
		close(hd_kick);
		hd_kick = -1;
		hd_pid = -1;
		hd_retry_at = now + hd_backoff;
		hd_backoff = hd_backoff * 2 > HTTP_BACKOFF_MAX ?
		    HTTP_BACKOFF_MAX : hd_backoff * 2;
		return;
	}
	if (d->cfg->http_listen == NULL || hd_retry_at == 0 ||
	    mono_us() < hd_retry_at)
		return;
	if (http_spawn(d, &cause) != 0) {
		log_error("%s", cause);
		free(cause);
		hd_retry_at = mono_us() + hd_backoff;
	}
}

int64_t
daemon_http_next(void)
{
	return hd_pid == -1 && hd_retry_at != 0 ? hd_retry_at : INT64_MAX;
}

void
daemon_http_reload(struct daemon *d, const struct meshd_config *old)
{
	char	*cause = NULL;

	if (!config_http_differ(old, d->cfg)) {
		/* Same listener: it reloads the config and the jobs. */
		if (hd_kick != -1 && write(hd_kick, "", 1) == -1)
			(void)0;	/* a full pipe holds a kick already */
		return;
	}
	daemon_http_stop();
	if (d->cfg->http_listen == NULL) {
		log_info("http: no http.listen any more: not serving");
		return;
	}
	if (config_http_check(d->cfg, &cause) != 0) {
		/* Served anyway: the child refuses writes it cannot check. */
		log_error("%s; writes are refused", cause);
		free(cause);
	}
	hd_backoff = HTTP_BACKOFF_MIN;
	if (http_spawn(d, &cause) != 0) {
		log_error("%s", cause);
		free(cause);
		hd_retry_at = mono_us() + hd_backoff;
	}
}

void
daemon_http_stop(void)
{
	selfexec_stop(&hd_pid, &hd_kick);
	hd_retry_at = 0;
}
