/* config-env.h -- defaults from the service manager's environment. */
#ifndef MESHD_CONFIG_ENV_H
#define MESHD_CONFIG_ENV_H

struct meshd_config;

/*
 * Under systemd's StateDirectory= and LogsDirectory= (meshd.service), the
 * directories systemd made for meshd replace the built-in defaults beside
 * meshd.conf: with $STATE_DIRECTORY set, state_db defaults to
 * $STATE_DIRECTORY/state.db, staging_dir to $STATE_DIRECTORY/staging and
 * log_dir to $STATE_DIRECTORY/logs; with $LOGS_DIRECTORY set, log_dir
 * defaults to it.  Only the first of a ':'-separated list counts, and
 * only an absolute path.  Called by config_defaults() on the fresh
 * defaults, before meshd.conf is read: a key meshd.conf sets wins.
 * `basedir` is meshd.conf's directory, for a warning when a state is
 * still at the old default there.  Since 0.1 (issue 15).
 */
void	config_env_defaults(struct meshd_config *, const char *basedir);

#endif
