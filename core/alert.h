/*
 * alert.h -- alerts to the team that owns a job, through a durable outbox.
 *
 * Five events: failure (a run failed), quarantine (an error check
 * quarantined a partition), retry (an attempt failed and will be tried
 * again; opt-in), recovery (a job's first successful run after failed
 * ones) and late (a partition missed its freshness SLO).  Each goes to a
 * hook: an argv run with no shell and the JSON document on its stdin, or
 * a webhook receiving it as a JSON POST.  Hooks are set per job
 * (on_failure = ...; in the job file) with defaults in meshd.conf; late
 * goes to meshd.conf's freshness_alert.
 *
 * The engine INSERTs an alert into alert_outbox in the transaction that
 * records the change it reports, with its document and the hook resolved
 * then: an alert exists if and only if its change was committed, and a
 * reload changes where later alerts go, not those already raised.  A
 * child process of meshd (alert_start(), the same design as the lineage
 * deliverer) delivers them: in seq order per job, with backoff, marking
 * each one delivered in the state after its hook succeeded.  See
 * meshd.conf(5), ALERTS, for the promises.
 */
#ifndef MESHD_ALERT_H
#define MESHD_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "errlist.h"

struct job_def;
struct meshd_config;
struct state;
struct config_setting_t;

enum alert_event {
	ALERT_FAILURE,
	ALERT_QUARANTINE,
	ALERT_RETRY,
	ALERT_RECOVERY,
	ALERT_LATE
};
#define ALERT_NEVENTS	5

/* One hook: an argv (NULL-ended) or a webhook url.  Neither: the hook is
 * switched off (on_failure = [] in a job overrides meshd.conf's). */
struct alert_hook {
	char	**argv;
	size_t	  nargv;
	char	 *url;
	char	 *token_file;	/* bearer token, read at delivery */
};

/* A set of hooks, one per event; NULL: not set here. */
struct alert_hooks {
	struct alert_hook	*h[ALERT_NEVENTS];
};

/* meshd.conf's alert settings. */
struct alert_conf {
	struct alert_hooks	 dflt;		/* late: freshness_alert */
	int			 timeout_s;	/* alert_timeout, default 60 */
	long long		 max_bytes;	/* alert_max_bytes, 64 KiB */
	int			 give_up_s;	/* alert_give_up, 86400 */
};

#define ALERT_TIMEOUT_DEFAULT	60
#define ALERT_MAX_BYTES_DEFAULT	(64LL * 1024)
#define ALERT_GIVE_UP_DEFAULT	86400

/* "failure", ... "late". */
const char	*alert_event_name(enum alert_event);

/* ------------------------------------------------------- configuration */

/*
 * Is `key` one of the hook keys a job file knows (on_failure,
 * on_quarantine, on_retry, on_recovery)?  ALERT_JOB_KEYS lists them for a
 * table of known keys.  Since 0.4.0.
 */
#define ALERT_JOB_KEYS	"on_failure", "on_quarantine", "on_retry", \
			"on_recovery"
int	alert_is_job_key(const char *key);
/* The same for meshd.conf: the four, freshness_alert, alert_timeout,
 * alert_max_bytes and alert_give_up. */
#define ALERT_CONF_KEYS	ALERT_JOB_KEYS, "freshness_alert", \
			"alert_timeout", "alert_max_bytes", "alert_give_up"
int	alert_is_conf_key(const char *key);

/*
 * Parse the setting `s` (one of the keys above) of a job file into
 * *hooks (allocated on first use).  `file` names the file for errors,
 * `dir` is the base of a relative command path or token file.  Errors go
 * to errs as file:line.  Since 0.4.0.
 */
void	alert_job_parse(struct alert_hooks **hooks,
	    const struct config_setting_t *s, const char *file,
	    const char *dir, struct errlist *errs);
/* The same for meshd.conf's keys, into *ac (allocated on first use). */
void	alert_conf_parse(struct alert_conf **ac,
	    const struct config_setting_t *s, const char *file,
	    const char *dir, struct errlist *errs);
void	alert_hooks_free(struct alert_hooks *);
void	alert_conf_free(struct alert_conf *);
/* Do two configurations differ (a reload says "alerts")? */
int	alert_conf_differ(const struct alert_conf *,
	    const struct alert_conf *);

/* ------------------------------------------------------------- raising */

/*
 * The engine, inside the open transaction that records the change: raise
 * `ev` (failure, quarantine or retry) for attempt `attempt_id` of run
 * `run_id` of `job`, after the attempt row and its check results were
 * written (the document reads them).  Does nothing when the job has no
 * hook for the event.  0, or -1 with cause.  Since 0.4.0.
 */
int	alert_task(struct state *, const struct meshd_config *,
	    const struct job_def *, enum alert_event ev, int64_t run_id,
	    int64_t attempt_id, const char *reason, char **cause);
/*
 * The engine, inside run_close()'s transaction, after the run row got its
 * final `state`: a failed run raises failure (for its first failed task)
 * and marks the job failing; a successful run of a failing job raises
 * recovery.  0, or -1 with cause.  Since 0.4.0.
 */
int	alert_run_end(struct state *, const struct meshd_config *,
	    const struct job_def *, int64_t run_id, const char *state,
	    char **cause);
/*
 * Freshness, inside the transaction that records a late partition:
 * raise late for `job` with `fields` (the late document's own fields,
 * taken) added to the common ones.  Goes to freshness_alert; nothing
 * without it.  0, or -1 with cause.  Since 0.4.0.
 */
struct json_t;
int	alert_late(struct state *, const struct meshd_config *,
	    const struct job_def *, const char *partition,
	    struct json_t *fields, char **cause);

/* -------------------------------------------------------------- delivery */

/* The hidden first argument that makes meshd the alert deliverer. */
#define ALERT_DELIVERER_ARG	"--alert-deliverer"

/*
 * meshd: start the deliverer child (a no-op if it runs): meshd exec'd
 * again with ALERT_DELIVERER_ARG and the state database, after
 * lineage_init().  Everything it needs about a hook is in the outbox row,
 * so a reload never restarts it.  0, or -1 with cause.  Since 0.4.0.
 */
int	alert_start(const struct meshd_config *, char **cause);
/* meshd, in its loop: start the deliverer again if it died (at most every
 * few seconds). */
void	alert_watch(const struct meshd_config *);
/* meshd, before it sleeps: the mono_us() at which alert_watch() would
 * start a dead deliverer again, INT64_MAX if none is waiting for that (a
 * death itself wakes meshd: SIGCHLD).  Since 0.5.0. */
int64_t	alert_watch_next(void);
/* Tell the deliverer that alerts were committed (after state_commit()).
 * Cheap, never blocks; without it they wait for its next look (250 ms). */
void	alert_kick(void);
/* meshd, at exit: let the deliverer finish (a second at most), stop it. */
void	alert_stop(void);
/* The deliverer process (argv after ALERT_DELIVERER_ARG).  Exit status. */
int	alert_main(int argc, char **argv);
/*
 * One delivery pass on `st`: for each job, its oldest pending alert, if it
 * is due.  Returns the number delivered, or -1 with cause.  Exposed for
 * tests.
 */
int	alert_deliver(struct state *, char **cause);

#endif
