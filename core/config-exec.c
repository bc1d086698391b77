/*
 * config-exec.c -- executors = { NAME = { type = "slurm"; ... }; } of
 * meshd.conf (xdef.h, issue 13): where tasks run besides the embedded
 * pool, and the executor a pool's tasks go to.
 */
#include <sys/stat.h>

#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "limit.h"
#include "suggest.h"
#include "util.h"
#include "xdef.h"

/* The keys of one executor, for suggestions: meshd.conf(5). */
static const char *const exec_keys[] = {
	"type", "mode", "partition", "sbatch_args", "worker", "spool_dir",
	"time_limit", "max_jobs", "poll_interval_ms", "start_timeout",
	"pilots", "pilot_time", "pilot_slots", "pilot_idle", "listen",
	"secret_file", NULL
};

/* limit_error(), under the short name this file's lines are wrapped for. */
#define xerr(...) limit_error(__VA_ARGS__)

static int
xstring(struct errlist *errs, const char *path, const config_setting_t *s,
    const char *what, char **out)
{
	const char	*v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING ||
	    *(v = config_setting_get_string(s)) == '\0') {
		xerr(errs, path, s, "%s must be a non-empty string", what);
		return -1;
	}
	free(*out);
	*out = xstrdup(v);
	return 0;
}

static int
xint(struct errlist *errs, const char *path, const config_setting_t *s,
    const char *what, long long min, long long max, int *out)
{
	long long	v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		xerr(errs, path, s, "%s must be an integer", what);
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		xerr(errs, path, s, "%s is %lld; it must be between %lld "
		    "and %lld", what, v, min, max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/*
 * The sbatch options the agent sets itself: a job's name is how a
 * restarted meshd finds it, its output path (in the spool) tells this
 * meshd's jobs from another's, and the array and script are the
 * agent's.  NULL, or why the option is refused.
 */
static const char *
xreserved_arg(const char *a)
{
	static const struct {
		const char	*opt;
		const char	*why;
	} reserved[] = {
		{ "-J", "the job name finds the job after a restart" },
		{ "--job-name", "the job name finds the job after a restart" },
		{ "-o", "the output path in the spool marks this meshd's jobs" },
		{ "--output", "the output path in the spool marks this meshd's "
		    "jobs" },
		{ "-a", "job arrays are the agent's" },
		{ "--array", "job arrays are the agent's" },
		{ "--wrap", "the job script is the agent's" },
		{ "--parsable", "the agent reads sbatch's answer" },
	};
	size_t	i, n;

	for (i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
		n = strlen(reserved[i].opt);
		if (strncmp(a, reserved[i].opt, n) == 0 && (a[n] == '\0' ||
		    a[n] == '=' || (reserved[i].opt[1] != '-' && a[n] != '\0')))
			return reserved[i].why;
	}
	return NULL;
}

/* One executor's group into d; errors at their lines. */
static void
xparse_one(const config_setting_t *g, const char *path, const char *dir,
    struct executor_def *d,
    struct errlist *errs)
{
	const config_setting_t	*s;
	const char		*k;
	char			*where, *mode = NULL, *tmp = NULL;
	int			 i, n;

	d->name = xstrdup(config_setting_name(g));
	d->max_jobs = 1000;
	d->poll_ms = 1000;
	d->pilot_time_s = 3600;
	d->pilot_slots = 1;
	d->pilot_idle_s = 60;
	where = xasprintf("in executor '%s'", d->name);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		xerr(errs, path, g, "executor '%s' must be a group: %s = "
		    "{ type = \"slurm\"; ... };", d->name, d->name);
		goto out;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned int)i);
		k = config_setting_name(s);
		if (strcmp(k, "type") == 0)
			xstring(errs, path, s, "type", &d->type);
		else if (strcmp(k, "mode") == 0)
			xstring(errs, path, s, "mode", &mode);
		else if (strcmp(k, "partition") == 0)
			xstring(errs, path, s, "partition", &d->partition);
		else if (strcmp(k, "worker") == 0)
			xstring(errs, path, s, "worker", &d->worker);
		else if (strcmp(k, "spool_dir") == 0) {
			if (xstring(errs, path, s, "spool_dir", &tmp) == 0) {
				free(d->spool_dir);
				d->spool_dir = path_join(dir, tmp);
			}
		} else if (strcmp(k, "secret_file") == 0) {
			if (xstring(errs, path, s, "secret_file", &tmp) == 0) {
				free(d->secret_file);
				d->secret_file = path_join(dir, tmp);
			}
		} else if (strcmp(k, "time_limit") == 0)
			xstring(errs, path, s, "time_limit", &d->time_limit);
		else if (strcmp(k, "listen") == 0)
			xstring(errs, path, s, "listen", &d->listen);
		else if (strcmp(k, "max_jobs") == 0)
			xint(errs, path, s, "max_jobs", 1, 100000,
			    &d->max_jobs);
		else if (strcmp(k, "poll_interval_ms") == 0)
			xint(errs, path, s, "poll_interval_ms", 100, 600000,
			    &d->poll_ms);
		else if (strcmp(k, "start_timeout") == 0)
			xint(errs, path, s, "start_timeout", 0, 86400 * 30,
			    &d->start_timeout_s);
		else if (strcmp(k, "pilots") == 0)
			xint(errs, path, s, "pilots", 1, 10000, &d->pilots);
		else if (strcmp(k, "pilot_time") == 0)
			xint(errs, path, s, "pilot_time", 60, 86400 * 30,
			    &d->pilot_time_s);
		else if (strcmp(k, "pilot_slots") == 0)
			xint(errs, path, s, "pilot_slots", 1, 1024,
			    &d->pilot_slots);
		else if (strcmp(k, "pilot_idle") == 0)
			xint(errs, path, s, "pilot_idle", 1, 86400,
			    &d->pilot_idle_s);
		else if (strcmp(k, "sbatch_args") == 0) {
			int j, m;

			if (!config_setting_is_aggregate(s)) {
				xerr(errs, path, s, "sbatch_args must be a "
				    "list of strings: [ \"--account=x\" ]");
				continue;
			}
			m = config_setting_length(s);
			for (j = 0; j < m; j++) {
				const config_setting_t *e =
				    config_setting_get_elem(s, (unsigned)j);

				if (config_setting_type(e) != CONFIG_TYPE_STRING) {
					xerr(errs, path, e, "sbatch_args must "
					    "be a list of strings");
					continue;
				}
				if (xreserved_arg(config_setting_get_string(
				    e)) != NULL) {
					xerr(errs, path, e, "sbatch_args: '%s' "
					    "is meshd's to set (%s)",
					    config_setting_get_string(e),
					    xreserved_arg(
					    config_setting_get_string(e)));
					continue;
				}
				d->sbatch_args = xreallocarray(d->sbatch_args,
				    d->nsbatch_args + 1, sizeof *d->sbatch_args);
				d->sbatch_args[d->nsbatch_args++] =
				    xstrdup(config_setting_get_string(e));
			}
		} else {
			char *msg = suggest_unknown_key(k, where, exec_keys);

			xerr(errs, path, s, "%s", msg);
			free(msg);
		}
	}
	if (d->type == NULL)
		xerr(errs, path, g, "executor '%s' has no type; the one remote "
		    "type is \"slurm\"", d->name);
	else if (strcmp(d->type, "slurm") != 0)
		xerr(errs, path, g, "executor '%s': unknown type '%s'; the one "
		    "remote type is \"slurm\" (\"local\", the embedded pool, "
		    "needs no declaration)", d->name, d->type);
	if (mode == NULL || strcmp(mode, "job") == 0)
		d->mode = XMODE_JOB;
	else if (strcmp(mode, "pilot") == 0)
		d->mode = XMODE_PILOT;
	else
		xerr(errs, path, g, "executor '%s': mode must be \"job\" or "
		    "\"pilot\", not '%s'", d->name, mode);
	if (d->mode == XMODE_PILOT) {
		if (d->pilots == 0)
			d->pilots = 1;
		if (d->listen == NULL)
			xerr(errs, path, g, "executor '%s': pilot mode needs "
			    "listen = \"host:port\", the address pilots "
			    "connect to", d->name);
		if (d->secret_file == NULL)
			xerr(errs, path, g, "executor '%s': pilot mode needs "
			    "secret_file, the secret pilots prove they know",
			    d->name);
	}
out:
	free(tmp);
	free(mode);
	free(where);
}

void
config_executors_parse(struct meshd_config *cfg,
    const struct config_setting_t *g, const char *path, const char *dir,
    struct errlist *errs)
{
	const config_setting_t	*e;
	int			 i, n;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		xerr(errs, path, g, "'executors' must be a group: executors = "
		    "{ hpc = { type = \"slurm\"; }; };");
		return;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		struct executor_def	*d;

		e = config_setting_get_elem(g, (unsigned int)i);
		char *why = NULL;

		if (limit_name(config_setting_name(e), "_-", &why) != 0) {
			xerr(errs, path, e, "executor name %s", why);
			free(why);
			continue;
		}
		if (strcmp(config_setting_name(e), "local") == 0) {
			xerr(errs, path, e, "'local' is the embedded worker "
			    "pool and cannot be declared");
			continue;
		}
		cfg->executors = xreallocarray(cfg->executors,
		    cfg->nexecutors + 1, sizeof *cfg->executors);
		d = &cfg->executors[cfg->nexecutors++];
		memset(d, 0, sizeof *d);
		xparse_one(e, path, dir, d, errs);
	}
}

int
config_executor_index(const struct meshd_config *cfg, const char *name)
{
	size_t	i;

	if (name == NULL || strcmp(name, "local") == 0)
		return 0;
	for (i = 0; cfg != NULL && i < cfg->nexecutors; i++)
		if (strcmp(cfg->executors[i].name, name) == 0)
			return (int)i + 1;
	return -1;
}

char *
config_executor_unknown(const struct meshd_config *cfg, const char *name)
{
	const char	**known;
	const char	 *near;
	char		 *msg, *list = xstrdup("local");
	size_t		  i;

	known = xcalloc(cfg->nexecutors + 2, sizeof *known);
	known[0] = "local";
	for (i = 0; i < cfg->nexecutors; i++) {
		char *t = xasprintf("%s, %s", list, cfg->executors[i].name);

		free(list);
		list = t;
		known[i + 1] = cfg->executors[i].name;
	}
	near = suggest_word(name, (const char *const *)known);
	if (near != NULL)
		msg = xasprintf("unknown executor '%s'; did you mean '%s'? "
		    "(meshd.conf declares: %s)", name, near, list);
	else
		msg = xasprintf("unknown executor '%s' (meshd.conf declares: "
		    "%s)", name, list);
	free(known);
	free(list);
	return msg;
}

const char *
config_executor_name(const struct meshd_config *cfg, int index)
{
	if (index <= 0 || cfg == NULL || (size_t)index > cfg->nexecutors)
		return "local";
	return cfg->executors[index - 1].name;
}

void
executor_def_copy(struct executor_def *b, const struct executor_def *a)
{
	size_t	i;

	*b = *a;
	b->name = xstrdup(a->name);
	b->type = xstrdup_null(a->type);
	b->partition = xstrdup_null(a->partition);
	b->sbatch_args = xcalloc(a->nsbatch_args + 1, sizeof *b->sbatch_args);
	for (i = 0; i < a->nsbatch_args; i++)
		b->sbatch_args[i] = xstrdup(a->sbatch_args[i]);
	b->worker = xstrdup_null(a->worker);
	b->spool_dir = xstrdup_null(a->spool_dir);
	b->time_limit = xstrdup_null(a->time_limit);
	b->listen = xstrdup_null(a->listen);
	b->secret_file = xstrdup_null(a->secret_file);
}

void
config_executors_copy(const struct meshd_config *cur,
    struct meshd_config *next)
{
	size_t	i;

	for (i = 0; i < next->nexecutors; i++)
		executor_def_free(&next->executors[i]);
	free(next->executors);
	next->executors = xcalloc(cur->nexecutors == 0 ? 1 : cur->nexecutors,
	    sizeof *next->executors);
	for (i = 0; i < cur->nexecutors; i++)
		executor_def_copy(&next->executors[i], &cur->executors[i]);
	next->nexecutors = cur->nexecutors;
	free(next->executors_text);
	next->executors_text = xstrdup_null(cur->executors_text);
}

char *
config_remote_in(const struct meshd_config *cfg)
{
	char	*list = xstrdup("("), *t;
	size_t	 i;

	/* Names are letters, digits, '_' and '-' (limit_name()): nothing
	 * in them needs quoting but the quotes. */
	for (i = 0; cfg != NULL && i < cfg->nexecutors; i++) {
		t = xasprintf("%s%s'%s'", list, i > 0 ? ", " : "",
		    cfg->executors[i].name);
		free(list);
		list = t;
	}
	t = xasprintf("%s)", list);
	free(list);
	return t;
}
