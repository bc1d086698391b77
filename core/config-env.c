/* config-env.c -- defaults from $STATE_DIRECTORY and $LOGS_DIRECTORY
 * (config-env.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config-env.h"

/* The first entry of a ':'-separated directory list, if absolute. */
static char *
env_dir(const char *name)
{
	const char	*v = getenv(name);
	size_t		 n;

	if (v == NULL || v[0] != '/')
		return NULL;
	n = strcspn(v, ":");
	return xasprintf("%.*s", (int)n, v);
}

static void
env_set(char **field, const char *dir, const char *rel)
{
	free(*field);
	*field = rel != NULL ? path_join(dir, rel) : xstrdup(dir);
}

void
config_env_defaults(struct meshd_config *cfg, const char *basedir)
{
	char	*state, *logs, *old;

	if ((state = env_dir("STATE_DIRECTORY")) != NULL) {
		/* A state left at the old default (beside meshd.conf, as
		 * before issue 15) would look lost: say where it is. */
		old = path_join(basedir, "state/state.db");
		if (access(old, F_OK) == 0)
			fprintf(stderr, "warning: a state exists at %s, but "
			    "$STATE_DIRECTORY puts the default at %s/state.db:"
			    " set state_db, log_dir and staging_dir in "
			    "meshd.conf to keep using the old one\n", old,
			    state);
		free(old);
		env_set(&cfg->state_db, state, "state.db");
		env_set(&cfg->staging_dir, state, "staging");
		env_set(&cfg->log_dir, state, "logs");
		free(state);
	}
	if ((logs = env_dir("LOGS_DIRECTORY")) != NULL) {
		env_set(&cfg->log_dir, logs, NULL);
		free(logs);
	}
}
