/*
 * config.h -- meshd.conf, the daemon-wide configuration (libconfig syntax).
 *
 *     state_db    = "state/state.db";   # the SQLite state store
 *     jobs_dir    = "jobs";             # one *.conf per job
 *     plugin_path = [ "plugins", "/usr/lib/meshd/plugins" ];
 *     log_dir     = "state/logs";       # attempt logs
 *     staging_dir = "state/staging";    # write-audit-publish staging areas
 *     workers     = 4;                  # 0 or absent: number of CPUs
 *     worker_max_tasks = 1000;          # recycle a worker after this many tasks
 *     worker_memory_mb = 0;             # RLIMIT per worker, 0 = unlimited
 *     kill_grace  = 5;                  # seconds between SIGTERM and SIGKILL
 *     shutdown_grace = 30;              # meshd: let attempts finish this long
 *     heartbeat_timeout = 10;           # seconds of silence => worker lost
 *     pools = { warehouse = 2; };       # named slots tasks draw from
 *     synchronous = "normal";           # or "full": survive power loss too
 *     state_group = "meshops";          # operators: may read the state
 *     state_group_write = false;        # true: and use meshctl's write verbs
 *     lineage = { sink = "file"; path = "state/lineage.jsonl";
 *         namespace = "meshd"; };       # or sink = "http"; url = "..."
 *     policies = { require_owner = true; };  # governance: policy-conf.h
 *     freshness_alert = [ "/usr/local/bin/page-me", "--team", "ops" ];
 *                                       # run for a late partition, JSON
 *                                       # on stdin (meshd-freshness.c)
 *     on_failure = { url = "https://alerts.example/hook";
 *         bearer_token_file = "/etc/meshd/token"; };  # alert.h: also
 *                                       # on_quarantine, on_retry,
 *                                       # on_recovery, alert_timeout,
 *                                       # alert_max_bytes, alert_give_up
 *     quarantine_retention = 604800;    # seconds; 0 = keep forever
 *     staging_retention = 604800;       # a succeeded run's staging, the
 *                                       # same; 0 = keep forever
 *     http = { listen = "127.0.0.1:8642";  # the API, web UI and /metrics
 *         token_file = "/etc/meshd/http-token"; };  # (core/http.h);
 *                                       # absent: no listener
 *
 * Relative paths are taken relative to the directory holding meshd.conf, so
 * a checkout runs in place.
 *
 * meshd reads the file again on SIGHUP (config_reload_merge()): most keys
 * take effect at once, the others (state_db, the worker pool, log_dir,
 * staging_dir, state_group...) at the next start.
 */
#ifndef MESHD_CONFIG_H
#define MESHD_CONFIG_H

#include "errlist.h"

struct policy_conf;		/* policies: core/policy-conf.h */
struct alert_conf;		/* alerts: core/alert.h */

struct meshd_config {
	char	 *file;			/* path of meshd.conf as given */
	char	 *confdir;		/* its directory (or config_defaults'
					 * basedir): base of relative paths
					 * and ${confdir} in job files */
	char	 *state_db;		/* absolute or relative to cwd, resolved */
	char	 *jobs_dir;
	char	**plugin_path;		/* search path for plugin = "name" */
	size_t	  nplugin_path;
	char	 *log_dir;
	char	 *staging_dir;
	int	  workers;		/* resolved: never 0 */
	int	  worker_max_tasks;	/* default 1000 */
	int	  worker_memory_mb;	/* default 0 = unlimited */
	int	  kill_grace_s;		/* default 5 */
	int	  shutdown_grace_s;	/* default 30 */
	int	  heartbeat_timeout_s;	/* default 10 */
	int	  sync_full;		/* synchronous = "full": power-loss safe */
	char	 *state_group;		/* group given the state, or NULL */
	int	  state_group_write;	/* it may write too */
	struct pool_def {
		char	*name;
		int	 slots;
		char	*executor;	/* executor = "hpc"; NULL: local */
	}	 *pools;		/* named pools: pool = "x" in a task */
	size_t	  npools;
	/* lineage = { ... }: OpenLineage events (core/lineage.c).  The
	 * path defaults to lineage.jsonl beside the state database. */
	int	  lineage_sink;		/* LINEAGE_SINK_* */
	char	 *lineage_namespace;	/* job namespace, default "meshd" */
	char	 *lineage_path;		/* sink = "file" */
	int	  lineage_path_given;	/* path set, not beside state_db */
	char	 *lineage_url;		/* sink = "http" */
	int	  lineage_timeout_s;	/* sink = "http": per POST, default 5 */
	int	  lineage_keep_s;	/* acked events kept, default 3600 */
	/* end of lineage */
	/* http = { listen; token_file; } (core/config-http.c): served by
	 * the HTTP child (core/http.h).  http_listen NULL: no listener. */
	char	 *http_listen;		/* "127.0.0.1:8642", "[::1]:8642" */
	char	 *http_token_file;	/* NULL: writes are refused */
	char	 *http_where;		/* "file:line" of token_file, for
					 * the daemon's start-time check */
	/* end of http */
	/* executors = { NAME = { type = "slurm"; ... }; } (config-exec.c,
	 * xdef.h): where tasks run besides the embedded pool.  A task's
	 * executor index is 0 for local, k + 1 for executors[k]. */
	struct executor_def *executors;
	size_t		  nexecutors;
	char		 *executors_text;	/* canonical, for reload */
	/* policies = { ... }: governance (core/policy-conf.h).  NULL when the
	 * group is absent: the defaults then apply. */
	struct policy_conf *policies;
	char	 *policies_text;	/* the group as read, canonical: a
					 * reload compares it (NULL: absent) */
	/* end of policies */
	/* freshness and retention (core/meshd-freshness.c) */
	/* alerts (alert.h): on_failure, on_quarantine, on_retry,
	 * on_recovery, freshness_alert, alert_timeout, alert_max_bytes,
	 * alert_give_up.  NULL: none given, every default. */
	struct alert_conf *alerts;
	int	  quarantine_retention_s; /* keep a quarantined partition's
					 * staging this long; 0 = forever;
					 * default 604800 (7 days) */
	int	  staging_retention_s;	/* keep a succeeded run's staging
					 * this long after it ended; 0 =
					 * forever; default 604800 */
	/* end of freshness and retention */
	/* housekeeping (core/config-house.c, core/housekeep.h) */
	int64_t	  history_retention_s;	/* delete finished runs this long
					 * after they ended; 0 (default) =
					 * keep forever */
	int64_t	  log_retention_s;	/* remove attempt logs this long
					 * after their run ended; 0 = forever */
	/* containment (issue 10) */
	long long log_max_bytes;	/* an attempt's log is cut here;
					 * default 32 MiB, 0 = no cap */
	int	  log_overflow_fails;	/* log_overflow = "fail": an attempt
					 * over the cap fails; default
					 * "truncate": it is only cut */
	long long task_max_bytes;	/* largest task message (parameters
					 * included); default 16 MiB */
	long long min_free_space;	/* launching pauses below this many
					 * free bytes on the state, log or
					 * staging filesystem; default
					 * 100 MiB, 0 = off */
	int	  empty_check_fails;	/* empty_check = "fail" (default): a
					 * check stage that records no check
					 * fails; "pass" lets it succeed */
	/* end of containment */
};

/* Where OpenLineage events go (lineage = { sink = ...; }). */
#define LINEAGE_SINK_FILE	0	/* the default */
#define LINEAGE_SINK_HTTP	1
#define LINEAGE_SINK_NONE	2	/* no events are recorded at all */

/* Apply the configured durability to an open state (PRAGMA synchronous
 * FULL or NORMAL: meshd applies it again after a reload).  0, or -1 with
 * cause. */
struct state;
int	config_apply_sync(const struct meshd_config *, struct state *,
	    char **cause);

/*
 * Give the state directory, the database and its -wal, -shm and lock
 * files, and the log and staging directories, to state_group: directories
 * 2750 (set-group-id, so that new files inherit the group), files 0640;
 * 2770 and 0660 with state_group_write.  Nothing to do without a
 * state_group.  meshd calls it at start.  0, or -1 with cause.
 */
int	config_apply_access(const struct meshd_config *, char **cause);
/*
 * May this user write the state (meshctl's write verbs)?  0, or -1 with a
 * "permission denied: ..." cause naming the file and what to do.
 */
int	config_check_write(const struct meshd_config *, char **cause);

/*
 * http.listen as a socket address: "IPv4:port", "[IPv6]:port" or a port
 * alone (loopback).  0, or -1 with a cause naming what is wrong.  For the
 * config check and the HTTP child.
 */
struct sockaddr_storage;
int	config_http_addr(const char *listen, struct sockaddr_storage *,
	    unsigned int *len, char **cause);
/*
 * Can http.token_file be read, and does it hold a token?  meshd checks at
 * start and on reload, not config_load(): meshctl's users read meshd.conf
 * but need not read the token.  0, or -1 with "file:line: ..." cause.
 */
int	config_http_check(const struct meshd_config *, char **cause);
/*
 * Read the token of http.token_file: its first line without surrounding
 * white space, a new string; NULL with cause if it cannot be read or is
 * empty.
 */
char	*config_http_token(const char *path, char **cause);

/* http = { ... } of meshd.conf into cfg (config_load calls it); errors
 * at the file and line.  Since 0.6.0. */
struct config_setting_t;
void	config_http_parse(struct meshd_config *, const struct config_setting_t *,
	    const char *path, const char *dir, struct errlist *);
/* Do two configs serve HTTP differently (listen, token_file)?  The
 * child is started again when they do. */
int	config_http_differ(const struct meshd_config *,
	    const struct meshd_config *);

/* history_retention and log_retention of meshd.conf into cfg (config_load
 * calls it for a name config_house_is_key() accepts): seconds, or a
 * string such as "90d"; errors at the file and line.  config-house.c. */
int	config_house_is_key(const char *name);
void	config_house_parse(struct meshd_config *, const struct config_setting_t *,
	    const char *path, struct errlist *);

/* executors = { ... } of meshd.conf into cfg (config_load calls it). */
void	config_executors_parse(struct meshd_config *,
	    const struct config_setting_t *, const char *path,
	    const char *dir, struct errlist *);
/* Give `next` a copy of cur's executors (a reload keeps them). */
void	config_executors_copy(const struct meshd_config *cur,
	    struct meshd_config *next);
/* An executor's index by name: 0 for "local" or NULL, k + 1 for
 * cfg->executors[k], -1 if there is none. */
int	config_executor_index(const struct meshd_config *, const char *name);
/* Its name by index ("local" for 0).  Static or the config's string. */
const char *config_executor_name(const struct meshd_config *, int index);
/* "unknown executor 'hcp'; did you mean 'hpc'? (meshd.conf declares:
 * local, hpc)", a new string. */
char	*config_executor_unknown(const struct meshd_config *,
	    const char *name);

/* The remote executors' names as an SQL list, "('hpc', 'burst')" or
 * "()": attempts in flight on them are adopted after a restart, not
 * failed (recover.c, lineage.c).  New string. */
char	*config_remote_in(const struct meshd_config *);

/* Index of a pool by name, or -1. */
int	config_pool_index(const struct meshd_config *, const char *name);

/*
 * The config file used when none is given: $MESHD_CONFIG if set, else
 * SYSCONFDIR/meshd/meshd.conf.  Static string.
 */
const char	*config_default_path(void);

/*
 * Load and validate meshd.conf.  Every problem is added to `errs` with the
 * file and line (syntax errors, wrong types, bad values; unknown keys are
 * warnings).  Returns the config, or NULL if there was any error.  The
 * caller frees it with config_free().
 */
struct meshd_config	*config_load(const char *path, struct errlist *errs);
/* A config with every default, relative to `basedir`; for tests and for
 * running without a file. */
struct meshd_config	*config_defaults(const char *basedir);
void			 config_free(struct meshd_config *);

/*
 * What a reload changes: the keys that differ between the running config
 * and the new one, as named in meshd.conf (static strings), split into
 * those that take effect now and those that wait for the next start.
 */
#define CONFIG_RELOAD_MAX	32
struct config_changes {
	const char	*now[CONFIG_RELOAD_MAX];
	size_t		 nnow;
	const char	*restart[CONFIG_RELOAD_MAX];
	size_t		 nrestart;
	int		 deliverer;	/* the lineage deliverer's settings
					 * (sink, path, url, timeout, keep):
					 * it must be started again */
	int		 sync;		/* synchronous: apply it again */
};

/*
 * SIGHUP: compare the running config `cur` with `next`, just loaded and
 * valid, and fill `ch`.  Every key that cannot change while meshd runs
 * gets cur's value back in `next`, so that `next` is exactly what meshd
 * runs with from now on and the jobs are loaded against it; pools whose
 * names are the same (in any order) keep cur's order, so a job's
 * pool_index means the same pool to the engine.  Since 0.3.0.
 */
void	config_reload_merge(const struct meshd_config *cur,
	    struct meshd_config *next, struct config_changes *ch);

/*
 * Check the @include lines of `len` bytes of `text`, the libconfig file
 * `path` as read for parsing, before libconfig reads it: its scanner exits
 * the process when it cannot read an included file (a directory), so one
 * line could stop meshd.  With allow 0 (a job file, a tenant's: it may
 * not read other files) any @include is an error; otherwise each must name
 * a regular file, relative to `dir` (libconfig's include directory), whose
 * own @include lines are checked in turn, at most 10 deep.  Errors go to
 * errs as file:line; returns 0 or -1.  Since 0.3.0.
 */
int	config_check_includes(const char *path, const char *text, size_t len,
	    const char *dir, int allow, struct errlist *errs);

/*
 * Find a plugin: a name containing '/' is a path (relative to `relto`, the
 * job file's directory); a bare name "flights" is searched as
 * "flights.so" along plugin_path.  Returns a new absolute-or-relative path
 * that exists, or NULL with cause
 * ("plugin 'x' not found (searched: /a/plugins, /usr/lib/meshd/plugins)").
 */
char	*config_find_plugin(const struct meshd_config *, const char *name,
	    const char *relto, char **cause);

#endif
