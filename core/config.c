/*
 * config.c -- meshd.conf: defaults, loading and validation, plugin search.
 *
 * Every key is checked for its type and range and every problem is added
 * to the errlist with file:line, so that one `meshctl validate` shows all of
 * them; the config is only handed out when there was none.
 */
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "alert.h"
#include "config.h"
#include "config-env.h"
#include "xdef.h"
#include "limit.h"
#include "policy-conf.h"
#include "state.h"
#include "suggest.h"
#include "paths.h"		/* generated: SYSCONFDIR, PKGLIBDIR */

/* State of one config_load(), for messages. */
struct cload {
	const char	*path;
	struct errlist	*errs;
	struct limit_src src;		/* the file's text: values as written */
};

/*
 * The ranges of the integer keys (doc/meshd.conf.5 gives each its reason).
 * workers: a worker is a process with a plugin loaded, and fork() without
 * bound is how `workers = 100000` took a host down; 1024 is more than any
 * machine meshd runs on has cores to keep busy.
 */
#define CFG_MAX_WORKERS		1024
#define CFG_MAX_WORKER_TASKS	1000000
#define CFG_MAX_MEMORY_MB	(16 * 1024 * 1024)	/* 16 TiB */
#define CFG_MAX_GRACE		3600			/* kill_grace */
#define CFG_MAX_SHUTDOWN	86400
#define CFG_MAX_HEARTBEAT	3600
#define CFG_MAX_POOL_SLOTS	CFG_MAX_WORKERS
#define CFG_MAX_RETENTION	(3660 * 86400)		/* ten years */

const char *
config_default_path(void)
{
	const char	*s;

	if ((s = getenv("MESHD_CONFIG")) != NULL && *s != '\0')
		return s;
	return SYSCONFDIR "/meshd/meshd.conf";
}

static int
config_ncpus(void)
{
	long	n;

	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	if (n > INT_MAX)
		return INT_MAX;
	return (int)n;
}

static void
config_set_plugin_path_default(struct meshd_config *cfg)
{
	size_t	n = 0;

	cfg->plugin_path = xcalloc(2, sizeof *cfg->plugin_path);
	cfg->plugin_path[n++] = path_join(cfg->confdir, "plugins");
#ifdef PKGLIBDIR
	cfg->plugin_path[n++] = xstrdup(PKGLIBDIR "/plugins");
#endif
	cfg->nplugin_path = n;
}

struct meshd_config *
config_defaults(const char *basedir)
{
	struct meshd_config	*cfg;

	if (basedir == NULL || *basedir == '\0')
		basedir = ".";
	cfg = xcalloc(1, sizeof *cfg);
	cfg->confdir = xstrdup(basedir);
	cfg->state_db = path_join(basedir, "state/state.db");
	cfg->jobs_dir = path_join(basedir, "jobs");
	config_set_plugin_path_default(cfg);
	cfg->log_dir = path_join(basedir, "state/logs");
	cfg->staging_dir = path_join(basedir, "state/staging");
	config_env_defaults(cfg, basedir);	/* systemd's directories */
	cfg->workers = config_ncpus();
	cfg->worker_max_tasks = 1000;
	cfg->worker_memory_mb = 0;
	cfg->kill_grace_s = 5;
	cfg->shutdown_grace_s = 30;
	cfg->heartbeat_timeout_s = 10;
	/* lineage: a file beside the state database */
	cfg->lineage_sink = LINEAGE_SINK_FILE;
	cfg->lineage_namespace = xstrdup("meshd");
	cfg->lineage_path = config_lineage_default(cfg->state_db);
	cfg->lineage_timeout_s = 5;
	cfg->lineage_keep_s = 3600;
	/* freshness and retention: no alert hook; a week */
	cfg->quarantine_retention_s = 604800;
	cfg->staging_retention_s = 604800;
	/* containment */
	cfg->log_max_bytes = 32LL * 1024 * 1024;
	cfg->log_overflow_fails = 0;
	cfg->task_max_bytes = 16LL * 1024 * 1024;
	cfg->min_free_space = 100LL * 1024 * 1024;
	cfg->empty_check_fails = 1;
	return cfg;
}

static void
config_free_plugin_path(struct meshd_config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->nplugin_path; i++)
		free(cfg->plugin_path[i]);
	free(cfg->plugin_path);
	cfg->plugin_path = NULL;
	cfg->nplugin_path = 0;
}

void
config_free(struct meshd_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->file);
	free(cfg->confdir);
	free(cfg->state_db);
	free(cfg->jobs_dir);
	config_free_plugin_path(cfg);
	free(cfg->log_dir);
	free(cfg->staging_dir);
	free(cfg->state_group);
	for (size_t i = 0; i < cfg->npools; i++) {
		free(cfg->pools[i].name);
		free(cfg->pools[i].executor);
	}
	free(cfg->pools);
	/* executors */
	for (size_t i = 0; i < cfg->nexecutors; i++)
		executor_def_free(&cfg->executors[i]);
	free(cfg->executors);
	free(cfg->executors_text);
	/* policies */
	policy_conf_free(cfg->policies);
	free(cfg->policies_text);
	/* lineage */
	free(cfg->lineage_namespace);
	free(cfg->lineage_path);
	free(cfg->lineage_url);
	free(cfg->lineage_token_file);
	free(cfg->lineage_token_where);
	/* freshness and retention */
	alert_conf_free(cfg->alerts);
	/* http */
	free(cfg->http_listen);
	free(cfg->http_token_file);
	free(cfg->http_where);
	free(cfg);
}

int
config_apply_sync(const struct meshd_config *cfg, struct state *st,
    char **cause)
{
	const char	*v = cfg->sync_full ? "FULL" : "NORMAL";
	char		*sql;
	int		 rc;

	/* WAL with synchronous = NORMAL (state.c's default) survives kill -9
	 * of any process; FULL also survives losing power, at a price.  Set
	 * either way: after a reload, NORMAL may replace FULL. */
	sql = xasprintf("PRAGMA synchronous = %s", v);
	rc = sqlite3_exec(state_sqlite(st), sql, NULL, NULL, NULL);
	free(sql);
	if (rc != SQLITE_OK) {
		set_cause(cause, "%s: cannot set synchronous = %s: %s",
		    state_path(st), v, sqlite3_errmsg(state_sqlite(st)));
		return -1;
	}
	return 0;
}

int
config_pool_index(const struct meshd_config *cfg, const char *name)
{
	size_t	i;

	for (i = 0; cfg != NULL && i < cfg->npools; i++)
		if (strcmp(cfg->pools[i].name, name) == 0)
			return (int)i;
	return -1;
}


/* An error about setting `s`, at its file and line. */
static void cload_error(struct cload *, const config_setting_t *,
    const char *, ...) PRINTFLIKE(3, 4);
static void
cload_error(struct cload *cl, const config_setting_t *s, const char *fmt, ...)
{
	va_list		 ap;
	char		*msg;
	const char	*file;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if ((file = config_setting_source_file(s)) == NULL)
		file = cl->path;
	errlist_error(cl->errs, file, config_setting_source_line(s), "%s", msg);
	free(msg);
}

/*
 * A key meshd.conf does not know: an error naming the closest known one.
 * A misspelt setting left at its default without a word is worse than a
 * daemon that will not start until it is fixed.
 */
static void
cload_unknown(struct cload *cl, const config_setting_t *s, const char *where,
    const char *const *known)
{
	char	*msg;

	msg = suggest_unknown_key(config_setting_name(s), where, known);
	cload_error(cl, s, "%s", msg);
	free(msg);
}

/* The keys of meshd.conf, for suggestions: meshd.conf(5). */
static const char *const config_keys[] = {
	"state_db", "jobs_dir", "plugin_path", "log_dir", "staging_dir",
	"workers", "worker_max_tasks", "worker_memory_mb", "kill_grace",
	"shutdown_grace", "heartbeat_timeout", "pools", "state_group",
	"state_group_write", "synchronous", "lineage", "policies",
	ALERT_CONF_KEYS, "quarantine_retention", "staging_retention",
	"history_retention", "log_retention",
	"log_max_bytes", "task_max_bytes", "min_free_space", "log_overflow",
	"empty_check", "http", "executors", NULL
};

/* A string path value, made relative to the config's directory. */
static int
cload_path(struct cload *cl, const config_setting_t *s, const char *dir,
    char **out)
{
	const char	*v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		cload_error(cl, s, "'%s' must be a string, not %s",
		    config_setting_name(s),
		    limit_type_name(config_setting_type(s)));
		return -1;
	}
	v = config_setting_get_string(s);
	if (*v == '\0') {
		cload_error(cl, s, "'%s' must not be empty",
		    config_setting_name(s));
		return -1;
	}
	free(*out);
	*out = path_join(dir, v);
	return 0;
}

/* plugin_path: one string, or an array or list of strings. */
static int
cload_path_list(struct cload *cl, const config_setting_t *s, const char *dir,
    struct meshd_config *cfg)
{
	const config_setting_t	*e;
	const char		*v;
	int			 i, n, bad = 0;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		config_free_plugin_path(cfg);
		cfg->plugin_path = xcalloc(1, sizeof *cfg->plugin_path);
		cfg->nplugin_path = 0;
		if (cload_path(cl, s, dir, &cfg->plugin_path[0]) != 0)
			return -1;
		cfg->nplugin_path = 1;
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		cload_error(cl, s, "'%s' must be an array of strings, not %s",
		    config_setting_name(s),
		    limit_type_name(config_setting_type(s)));
		return -1;
	}
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned int)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    *config_setting_get_string(e) == '\0') {
			cload_error(cl, e, "'%s' element %d must be a "
			    "non-empty string", config_setting_name(s), i + 1);
			bad = 1;
		}
	}
	if (bad)
		return -1;
	config_free_plugin_path(cfg);
	cfg->plugin_path = xcalloc((size_t)n + 1, sizeof *cfg->plugin_path);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned int)i);
		v = config_setting_get_string(e);
		cfg->plugin_path[i] = path_join(dir, v);
	}
	cfg->nplugin_path = (size_t)n;
	return 0;
}

/*
 * An integer in [min, max], read as written: libconfig 1.5 wraps an
 * integer without an L suffix to 32 bits (`workers = 99999999999` arrives
 * as 1215752191).  The error quotes the value as written.
 */
static int
cload_int(struct cload *cl, const config_setting_t *s, int min, int max,
    int *out)
{
	long long	 v;
	char		*cause = NULL;

	if (limit_setting_int(&cl->src, s, min, max, &v, &cause) != 0) {
		cload_error(cl, s, "%s", cause);
		free(cause);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/*
 * A size in bytes: an integer, or a string with a suffix K, M, G or T
 * (powers of 1024), as "32M".  Refused outside [min, max], quoting the
 * value as written.
 */
static int
cload_size(struct cload *cl, const config_setting_t *s, long long min,
    long long max, long long *out)
{
	const char	*v = "", *name = config_setting_name(s);
	char		*end;
	long long	 n, mul = 1;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: {
		char	*what = xasprintf("'%s'", name), *cause = NULL;

		/* As written: libconfig wraps 99999999999 to 32 bits. */
		if (limit_int(&cl->src, s, what, min, max, &n, &cause) != 0) {
			cload_error(cl, s, "%s bytes", cause);
			free(cause);
			free(what);
			return -1;
		}
		free(what);
		break;
	}
	case CONFIG_TYPE_STRING:
		v = config_setting_get_string(s);
		errno = 0;
		n = strtoll(v, &end, 10);
		if (end == v || errno != 0 || n < 0)
			goto bad;
		switch (*end) {
		case 'T': case 't': mul <<= 10; /* FALLTHROUGH */
		case 'G': case 'g': mul <<= 10; /* FALLTHROUGH */
		case 'M': case 'm': mul <<= 10; /* FALLTHROUGH */
		case 'K': case 'k': mul <<= 10; end++; break;
		case '\0': break;
		default: goto bad;
		}
		if (*end == 'B' || *end == 'b' || *end == 'i')
			end += (*end == 'i' && (end[1] == 'B' || end[1] == 'b'))
			    ? 2 : 1;
		if (*end != '\0' || n > max / mul) {
			if (*end == '\0') {
				cload_error(cl, s, "'%s' must be at most %lld "
				    "bytes, not \"%s\"", name, max, v);
				return -1;
			}
			goto bad;
		}
		n *= mul;
		break;
	default:
		cload_error(cl, s, "'%s' must be a size (bytes, or a string "
		    "such as \"32M\"), not %s", name,
		    limit_type_name(config_setting_type(s)));
		return -1;
	}
	if (n < min || n > max) {
		cload_error(cl, s, "'%s' must be between %lld and %lld bytes, "
		    "not %lld", name, min, max, n);
		return -1;
	}
	*out = n;
	return 0;
bad:
	cload_error(cl, s, "'%s' must be a size such as \"512K\", \"32M\" or "
	    "\"2G\", not \"%s\"", name, v);
	return -1;
}

/* One of two words: *out = 0 for `no`, 1 for `yes`. */
static int
cload_choice(struct cload *cl, const config_setting_t *s, const char *no,
    const char *yes, int *out)
{
	const char	*v = config_setting_get_string(s);

	if (v != NULL && strcmp(v, no) == 0)
		*out = 0;
	else if (v != NULL && strcmp(v, yes) == 0)
		*out = 1;
	else {
		cload_error(cl, s, "'%s' must be \"%s\" or \"%s\"",
		    config_setting_name(s), no, yes);
		return -1;
	}
	return 0;
}

/* Read the file into cf; on failure the error is in errs.  libconfig's
 * scanner exits the process when fed a directory, so refuse one here. */
static int
cload_read(config_t *cf, const char *path, const char *dir,
    struct limit_src *src, struct errlist *errs)
{
	FILE		*f, *mf;
	struct stat	 st;
	const char	*efile;
	char		*cause = NULL;
	int		 rc = -1, line;

	if ((f = fopen(path, "r")) == NULL) {
		errlist_error(errs, path, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == -1) {
		errlist_error(errs, path, 0, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		errlist_error(errs, path, 0, "cannot open: %s", strerror(EISDIR));
		goto out;
	}
	/* The text is kept to quote values as written (limit.h); libconfig
	 * parses that very text. */
	if (limit_read(src, f, path, &line, &cause) != 0) {
		errlist_error(errs, path, line, "%s", cause);
		free(cause);
		goto out;
	}
	if ((mf = fmemopen(src->text, src->len, "r")) == NULL) {
		errlist_error(errs, path, 0, "cannot read: %s", strerror(errno));
		goto out;
	}
	if (config_check_includes(path, src->text, src->len, dir, 1,
	    errs) != 0) {
		fclose(mf);
		goto out;
	}
	config_set_include_dir(cf, dir);
	if (config_read(cf, mf) != CONFIG_TRUE) {
		if ((efile = config_error_file(cf)) == NULL)
			efile = path;
		errlist_error(errs, efile, config_error_line(cf), "%s",
		    config_error_text(cf));
		fclose(mf);
		goto out;
	}
	fclose(mf);
	rc = 0;
out:
	fclose(f);
	return rc;
}

/* pools = { warehouse = 2; api = 8; }: slot counts, each at least 1. */
static void
cload_pools(struct cload *cl, const config_setting_t *g,
    struct meshd_config *cfg)
{
	static const char *const pool_keys[] = { "slots", "executor", NULL };
	config_setting_t	*e;
	char			*executor;
	int			 i, n, slots;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		cload_error(cl, g, "'pools' must be a group of name = slots, "
		    "not %s", limit_type_name(config_setting_type(g)));
		return;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(g, (unsigned int)i);
		if (strlen(config_setting_name(e)) > LIMIT_NAME_MAX) {
			char *q = limit_quote(config_setting_name(e));

			cload_error(cl, e, "pool name '%s' is %zu bytes long, "
			    "at most %d", q, strlen(config_setting_name(e)),
			    LIMIT_NAME_MAX);
			free(q);
			continue;
		}
		executor = NULL;
		if (config_setting_type(e) == CONFIG_TYPE_GROUP) {
			/* warehouse = { slots = 2; executor = "hpc"; } */
			config_setting_t *k;
			int j, m = config_setting_length(e);

			slots = -1;
			for (j = 0; j < m; j++) {
				k = config_setting_get_elem(e, (unsigned int)j);
				if (strcmp(config_setting_name(k), "slots") == 0)
					cload_int(cl, k, 1, CFG_MAX_POOL_SLOTS,
					    &slots);
				else if (strcmp(config_setting_name(k),
				    "executor") == 0 && config_setting_type(k) ==
				    CONFIG_TYPE_STRING) {
					free(executor);
					executor = xstrdup(
					    config_setting_get_string(k));
				} else
					cload_unknown(cl, k, "pool",
					    pool_keys);
			}
			if (slots == -1) {
				cload_error(cl, e, "pool '%s' has no slots",
				    config_setting_name(e));
				free(executor);
				continue;
			}
		} else if (cload_int(cl, e, 1, CFG_MAX_POOL_SLOTS, &slots) != 0)
			continue;
		cfg->pools = xreallocarray(cfg->pools, cfg->npools + 1,
		    sizeof *cfg->pools);
		cfg->pools[cfg->npools].name = xstrdup(config_setting_name(e));
		cfg->pools[cfg->npools].slots = slots;
		cfg->pools[cfg->npools].executor = executor;
		cfg->npools++;
	}
}

/*
 * A setting as one canonical string: names, types and values, without the
 * file's layout or comments.  A reload compares groups parsed by other
 * files (policies) this way, with no knowledge of what they hold.
 */
static void
canon_add(char **out, const config_setting_t *s)
{
	const char	*name = config_setting_name(s), *v;
	char		*t;
	int		 i, n;

	if (name != NULL) {
		t = xasprintf("%s%s=", *out, name);
		free(*out);
		*out = t;
	}
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		t = xasprintf("%s%c", *out, config_setting_type(s) ==
		    CONFIG_TYPE_GROUP ? '{' : '[');
		free(*out);
		*out = t;
		n = config_setting_length(s);
		for (i = 0; i < n; i++) {
			canon_add(out, config_setting_get_elem(s,
			    (unsigned int)i));
			t = xasprintf("%s;", *out);
			free(*out);
			*out = t;
		}
		t = xasprintf("%s%c", *out, config_setting_type(s) ==
		    CONFIG_TYPE_GROUP ? '}' : ']');
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		t = xasprintf("%si%lld", *out, config_setting_get_int64(s));
		break;
	case CONFIG_TYPE_FLOAT:
		t = xasprintf("%sf%.17g", *out, config_setting_get_float(s));
		break;
	case CONFIG_TYPE_BOOL:
		t = xasprintf("%sb%d", *out, config_setting_get_bool(s));
		break;
	case CONFIG_TYPE_STRING:
		/* Length first: no value can imitate the punctuation. */
		v = config_setting_get_string(s);
		t = xasprintf("%ss%zu:%s", *out, strlen(v), v);
		break;
	default:
		t = xasprintf("%s?", *out);
		break;
	}
	free(*out);
	*out = t;
}

static char *
cload_canon(const config_setting_t *s)
{
	char	*out = xstrdup("");

	canon_add(&out, s);
	return out;
}

struct meshd_config *
config_load(const char *path, struct errlist *errs)
{
	struct meshd_config	*cfg = NULL;
	struct cload		 cl = { path, errs, { NULL, NULL, 0, NULL, 0 } };
	config_t		 cf;
	config_setting_t	*root, *s;
	const char		*name;
	char			*dir;
	size_t			 nerr0 = errs->nerrors;
	int			 i, n, workers = 0;

	dir = path_dirname(path);
	config_init(&cf);
	if (cload_read(&cf, path, dir, &cl.src, errs) != 0)
		goto out;

	cfg = config_defaults(dir);
	cfg->file = xstrdup(path);
	/* lineage: set after the loop, beside the state_db it names */
	free(cfg->lineage_path);
	cfg->lineage_path = NULL;
	root = config_root_setting(&cf);
	n = config_setting_length(root);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(root, (unsigned int)i);
		name = config_setting_name(s);
		if (strcmp(name, "state_db") == 0)
			cload_path(&cl, s, dir, &cfg->state_db);
		else if (strcmp(name, "jobs_dir") == 0)
			cload_path(&cl, s, dir, &cfg->jobs_dir);
		else if (strcmp(name, "plugin_path") == 0)
			cload_path_list(&cl, s, dir, cfg);
		else if (strcmp(name, "log_dir") == 0)
			cload_path(&cl, s, dir, &cfg->log_dir);
		else if (strcmp(name, "staging_dir") == 0)
			cload_path(&cl, s, dir, &cfg->staging_dir);
		else if (strcmp(name, "workers") == 0)
			cload_int(&cl, s, 0, CFG_MAX_WORKERS, &workers);
		else if (strcmp(name, "worker_max_tasks") == 0)
			cload_int(&cl, s, 1, CFG_MAX_WORKER_TASKS,
			    &cfg->worker_max_tasks);
		else if (strcmp(name, "worker_memory_mb") == 0)
			cload_int(&cl, s, 0, CFG_MAX_MEMORY_MB,
			    &cfg->worker_memory_mb);
		else if (strcmp(name, "kill_grace") == 0)
			cload_int(&cl, s, 0, CFG_MAX_GRACE, &cfg->kill_grace_s);
		else if (strcmp(name, "shutdown_grace") == 0)
			cload_int(&cl, s, 0, CFG_MAX_SHUTDOWN,
			    &cfg->shutdown_grace_s);
		else if (strcmp(name, "heartbeat_timeout") == 0)
			cload_int(&cl, s, 1, CFG_MAX_HEARTBEAT,
			    &cfg->heartbeat_timeout_s);
		else if (strcmp(name, "pools") == 0)
			cload_pools(&cl, s, cfg);
		else if (strcmp(name, "state_group") == 0) {
			const char *v = config_setting_get_string(s);

			if (v == NULL || *v == '\0')
				cload_error(&cl, s, "state_group must be a "
				    "group name");
			else if (getgrnam(v) == NULL)
				cload_error(&cl, s, "state_group: there is no "
				    "group '%s' on this system", v);
			else {
				free(cfg->state_group);
				cfg->state_group = xstrdup(v);
			}
		} else if (strcmp(name, "state_group_write") == 0) {
			if (config_setting_type(s) != CONFIG_TYPE_BOOL)
				cload_error(&cl, s, "state_group_write must be "
				    "true or false");
			else
				cfg->state_group_write =
				    config_setting_get_bool(s);
		}
		else if (strcmp(name, "synchronous") == 0) {
			const char *v = config_setting_get_string(s);

			if (v != NULL && strcmp(v, "full") == 0)
				cfg->sync_full = 1;
			else if (v == NULL || strcmp(v, "normal") != 0)
				cload_error(&cl, s, "synchronous must be "
				    "\"normal\" or \"full\"");
		}
		else if (strcmp(name, "lineage") == 0)	/* config-lineage.c */
			config_lineage_parse(cfg, s, path, dir, &cl.src, errs);
		else if (strcmp(name, "http") == 0)	/* config-http.c */
			config_http_parse(cfg, s, path, dir, errs);
		else if (strcmp(name, "executors") == 0) { /* config-exec.c */
			config_executors_parse(cfg, s, path, dir, errs);
			free(cfg->executors_text);
			cfg->executors_text = cload_canon(s);
		}
		else if (strcmp(name, "policies") == 0) {
			/* policies: parsed by policy-conf.c; policy.c judges
			 * by them */
			policy_conf_free(cfg->policies);
			cfg->policies = policy_conf_parse(s, path, dir, errs);
			free(cfg->policies_text);
			cfg->policies_text = cload_canon(s);
		}
		/* freshness and retention (meshd-freshness.c) */
		else if (alert_is_conf_key(name))
			alert_conf_parse(&cfg->alerts, s, path, dir, errs);
		else if (strcmp(name, "quarantine_retention") == 0)
			cload_int(&cl, s, 0, CFG_MAX_RETENTION,
			    &cfg->quarantine_retention_s);
		else if (strcmp(name, "staging_retention") == 0)
			cload_int(&cl, s, 0, CFG_MAX_RETENTION,
			    &cfg->staging_retention_s);
		else if (config_house_is_key(name))	/* config-house.c */
			config_house_parse(cfg, s, path, errs);
		/* containment */
		else if (strcmp(name, "log_max_bytes") == 0)
			cload_size(&cl, s, 0, 1LL << 40, &cfg->log_max_bytes);
		else if (strcmp(name, "task_max_bytes") == 0)
			cload_size(&cl, s, 64LL * 1024, 1LL << 30,
			    &cfg->task_max_bytes);
		else if (strcmp(name, "min_free_space") == 0)
			cload_size(&cl, s, 0, 1LL << 50, &cfg->min_free_space);
		else if (strcmp(name, "log_overflow") == 0)
			cload_choice(&cl, s, "truncate", "fail",
			    &cfg->log_overflow_fails);
		else if (strcmp(name, "empty_check") == 0)
			cload_choice(&cl, s, "pass", "fail",
			    &cfg->empty_check_fails);
		else
			cload_unknown(&cl, s, NULL, config_keys);
	}
	/* 0 means "as many as there are CPUs", already the default. */
	if (workers > 0)
		cfg->workers = workers;
	if (cfg->lineage_path == NULL)
		cfg->lineage_path = config_lineage_default(cfg->state_db);
	/* An executor's spool defaults to beside the staging areas,
	 * wherever staging_dir was set. */
	for (size_t k = 0; k < cfg->nexecutors; k++)
		if (cfg->executors[k].spool_dir == NULL)
			cfg->executors[k].spool_dir = xasprintf("%s/.slurm/%s",
			    cfg->staging_dir, cfg->executors[k].name);
	/* A pool's executor, once every executor is known. */
	if ((s = config_lookup(&cf, "pools")) != NULL &&
	    config_setting_type(s) == CONFIG_TYPE_GROUP) {
		for (i = 0; i < config_setting_length(s); i++) {
			config_setting_t *e = config_setting_get_elem(s,
			    (unsigned int)i), *x;
			const char *v;
			char *msg;

			if ((x = config_setting_get_member(e, "executor")) ==
			    NULL || (v = config_setting_get_string(x)) == NULL ||
			    config_executor_index(cfg, v) >= 0)
				continue;
			msg = config_executor_unknown(cfg, v);
			cload_error(&cl, x, "pool '%s': %s",
			    config_setting_name(e), msg);
			free(msg);
		}
	}

	if (errs->nerrors > nerr0) {
		config_free(cfg);
		cfg = NULL;
	}
out:
	config_destroy(&cf);
	limit_src_free(&cl.src);
	free(dir);
	return cfg;
}

static int
config_is_file(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

static int
config_has_suffix(const char *s, const char *suffix)
{
	size_t	n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

char *
config_find_plugin(const struct meshd_config *cfg, const char *name,
    const char *relto, char **cause)
{
	char	*file, *p, *searched = NULL, *tmp;
	size_t	 i;

	if (name == NULL || *name == '\0') {
		set_cause(cause, "plugin name is empty");
		return NULL;
	}
	if (strchr(name, '/') != NULL) {
		p = path_join(relto, name);
		if (config_is_file(p))
			return p;
		set_cause(cause, "plugin '%s' not found (searched: %s)", name, p);
		free(p);
		return NULL;
	}

	/* "flights.so" is taken as meant, not as "flights.so.so". */
	if (config_has_suffix(name, ".so"))
		file = xstrdup(name);
	else
		file = xasprintf("%s.so", name);
	for (i = 0; cfg != NULL && i < cfg->nplugin_path; i++) {
		p = path_join(cfg->plugin_path[i], file);
		if (config_is_file(p)) {
			free(file);
			free(searched);
			return p;
		}
		free(p);
		if (searched == NULL)
			searched = xstrdup(cfg->plugin_path[i]);
		else {
			tmp = xasprintf("%s, %s", searched, cfg->plugin_path[i]);
			free(searched);
			searched = tmp;
		}
	}
	if (searched == NULL)
		set_cause(cause, "plugin '%s' not found (plugin_path is empty)",
		    name);
	else
		set_cause(cause, "plugin '%s' not found (searched: %s)", name,
		    searched);
	free(file);
	free(searched);
	return NULL;
}

/* chown to the group and chmod one path; a missing one is fine. */
static int
access_one(const char *path, gid_t gid, mode_t mode, char **cause)
{
	struct stat	sb;

	if (stat(path, &sb) == -1)
		return errno == ENOENT ? 0 : (set_cause(cause, "%s: %s", path,
		    strerror(errno)), -1);
	if (sb.st_gid != gid && chown(path, (uid_t)-1, gid) == -1) {
		set_cause(cause, "%s: cannot give it to the state_group: %s",
		    path, strerror(errno));
		return -1;
	}
	if ((sb.st_mode & 07777) != mode && chmod(path, mode) == -1) {
		set_cause(cause, "%s: chmod: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
config_apply_access(const struct meshd_config *cfg, char **cause)
{
	static const char *const suffix[] = {
		"", "-wal", "-shm", ".lock", ".wake"
	};
	struct group	*gr;
	mode_t		 dmode, fmode;
	char		*dir, *p;
	size_t		 i;
	int		 rc = 0;

	if (cfg->state_group == NULL)
		return 0;
	if ((gr = getgrnam(cfg->state_group)) == NULL) {
		set_cause(cause, "state_group: there is no group '%s'",
		    cfg->state_group);
		return -1;
	}
	dmode = cfg->state_group_write ? 02770 : 02750;
	fmode = cfg->state_group_write ? 0660 : 0640;
	dir = path_dirname(cfg->state_db);
	rc = access_one(dir, gr->gr_gid, dmode, cause);
	free(dir);
	for (i = 0; rc == 0 && i < nitems(suffix); i++) {
		p = xasprintf("%s%s", cfg->state_db, suffix[i]);
		rc = access_one(p, gr->gr_gid, fmode, cause);
		free(p);
	}
	if (rc == 0)
		rc = access_one(cfg->log_dir, gr->gr_gid, dmode, cause);
	if (rc == 0)
		rc = access_one(cfg->staging_dir, gr->gr_gid, dmode, cause);
	return rc;
}

int
config_check_write(const struct meshd_config *cfg, char **cause)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	struct passwd	*pw = getpwuid(geteuid());
	char		*p, *dir;
	size_t		 i;
	int		 rc = 0;

	for (i = 0; rc == 0 && i < nitems(suffix); i++) {
		p = xasprintf("%s%s", cfg->state_db, suffix[i]);
		if (access(p, F_OK) == 0 && access(p, W_OK) != 0) {
			set_cause(cause, "permission denied: %s is read-only "
			    "for user %s, and this verb writes to it (%s)", p,
			    pw != NULL ? pw->pw_name : "?",
			    cfg->state_group != NULL ? (cfg->state_group_write ?
			    "members of state_group may write it: is the user "
			    "one?" : "state_group_write = true in meshd.conf "
			    "lets members of state_group write it") :
			    "run it as the user meshd runs as, or set "
			    "state_group and state_group_write in meshd.conf");
			rc = -1;
		}
		free(p);
	}
	if (rc == 0 && access(cfg->state_db, F_OK) != 0) {
		/* To be created: the directory must take it. */
		dir = path_dirname(cfg->state_db);
		if (access(dir, F_OK) == 0 && access(dir, W_OK) != 0) {
			set_cause(cause, "permission denied: user %s cannot "
			    "create the state database in %s",
			    pw != NULL ? pw->pw_name : "?", dir);
			rc = -1;
		}
		free(dir);
	}
	return rc;
}

/* ------------------------------------------------------------ reload */

static int
str_differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

static int
strv_differ(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t	i;

	if (na != nb)
		return 1;
	for (i = 0; i < na; i++)
		if (str_differ(a[i], b[i]))
			return 1;
	return 0;
}

static void
reload_note(struct config_changes *ch, int now, const char *key)
{
	if (now && ch->nnow < CONFIG_RELOAD_MAX)
		ch->now[ch->nnow++] = key;
	else if (!now && ch->nrestart < CONFIG_RELOAD_MAX)
		ch->restart[ch->nrestart++] = key;
}

/*
 * pools: the engine counts the slots in use in an array indexed like
 * cfg->pools, sized when it starts, and a job's task keeps the index of
 * its pool.  So slot counts may change at once; the set of names may not.
 * 1 if they changed now, 0 if not, -1 if they wait for a restart (next
 * then has cur's pools again).
 */
static int
reload_pools(const struct meshd_config *cur, struct meshd_config *next)
{
	struct pool_def	*v;
	size_t		 i;
	int		 k, changed = 0;

	if (cur->npools == next->npools) {
		for (i = 0; i < cur->npools; i++)
			if (config_pool_index(next, cur->pools[i].name) < 0)
				break;
		if (i == cur->npools) {
			/* The same names: put them in cur's order. */
			v = xcalloc(cur->npools == 0 ? 1 : cur->npools,
			    sizeof *v);
			for (i = 0; i < cur->npools; i++) {
				k = config_pool_index(next, cur->pools[i].name);
				v[i] = next->pools[k];
				if (v[i].slots != cur->pools[i].slots ||
				    str_differ(v[i].executor,
				    cur->pools[i].executor))
					changed = 1;
			}
			free(next->pools);
			next->pools = v;
			return changed;
		}
	}
	for (i = 0; i < next->npools; i++) {
		free(next->pools[i].name);
		free(next->pools[i].executor);
	}
	free(next->pools);
	next->pools = xcalloc(cur->npools == 0 ? 1 : cur->npools,
	    sizeof *next->pools);
	for (i = 0; i < cur->npools; i++) {
		next->pools[i].name = xstrdup(cur->pools[i].name);
		next->pools[i].slots = cur->pools[i].slots;
	}
	next->npools = cur->npools;
	for (i = 0; i < cur->npools; i++)
		next->pools[i].executor = xstrdup_null(cur->pools[i].executor);
	return -1;
}

void
config_reload_merge(const struct meshd_config *cur, struct meshd_config *next,
    struct config_changes *ch)
{
	int	pools;

	memset(ch, 0, sizeof *ch);
	/* Kept until the next start, each for its reason.  The state is open
	 * and locked, its wake-up FIFO and group applied (state_db,
	 * state_group, state_group_write); running and finished attempts
	 * have their logs and staging where they are, and meshctl and the
	 * retention passes look for them there (log_dir, staging_dir); the
	 * executor's workers are forked with their limits (workers,
	 * worker_max_tasks, worker_memory_mb), and it keeps its own copy of
	 * kill_grace and heartbeat_timeout, which it has no way to change
	 * yet. */
#define KEEP_STR(key, f) do {						\
	if (str_differ(cur->f, next->f)) {				\
		reload_note(ch, 0, key);				\
		free(next->f);						\
		next->f = xstrdup_null(cur->f);				\
	}								\
} while (0)
#define KEEP_INT(key, f) do {						\
	if (cur->f != next->f) {					\
		reload_note(ch, 0, key);				\
		next->f = cur->f;					\
	}								\
} while (0)
#define LIVE_INT(key, f) do {						\
	if (cur->f != next->f)						\
		reload_note(ch, 1, key);				\
} while (0)
	KEEP_STR("state_db", state_db);
	KEEP_STR("log_dir", log_dir);
	KEEP_STR("staging_dir", staging_dir);
	KEEP_INT("workers", workers);
	KEEP_INT("worker_max_tasks", worker_max_tasks);
	KEEP_INT("worker_memory_mb", worker_memory_mb);
	KEEP_STR("state_group", state_group);
	KEEP_INT("state_group_write", state_group_write);
	if ((pools = reload_pools(cur, next)) != 0)
		reload_note(ch, pools > 0, "pools");
	/* The agents run with the executors they were started with, and
	 * the engine counts by their index. */
	if (str_differ(cur->executors_text, next->executors_text)) {
		reload_note(ch, 0, "executors");
		config_executors_copy(cur, next);
	}

	/* At once: the job load that follows reads these. */
	if (str_differ(cur->jobs_dir, next->jobs_dir))
		reload_note(ch, 1, "jobs_dir");
	if (strv_differ(cur->plugin_path, cur->nplugin_path, next->plugin_path,
	    next->nplugin_path))
		reload_note(ch, 1, "plugin_path");
	if (str_differ(cur->policies_text, next->policies_text))
		reload_note(ch, 1, "policies");
	/* At once: read where they are used. */
	LIVE_INT("shutdown_grace", shutdown_grace_s);
	LIVE_INT("kill_grace", kill_grace_s);
	LIVE_INT("heartbeat_timeout", heartbeat_timeout_s);
	/* Alerts raised from now on use them; those already raised keep
	 * the hook they were raised with. */
	if (alert_conf_differ(cur->alerts, next->alerts))
		reload_note(ch, 1, "alerts");
	LIVE_INT("quarantine_retention", quarantine_retention_s);
	LIVE_INT("staging_retention", staging_retention_s);
	if (cur->sync_full != next->sync_full) {
		reload_note(ch, 1, "synchronous");
		ch->sync = 1;
	}
	/* lineage: the default file is beside the state_db kept above. */
	if (!next->lineage_path_given) {
		free(next->lineage_path);
		next->lineage_path = config_lineage_default(next->state_db);
	}
	/* What the deliverer was started with: only its own sink's keys. */
	if (cur->lineage_sink != next->lineage_sink ||
	    (next->lineage_sink == LINEAGE_SINK_FILE &&
	    str_differ(cur->lineage_path, next->lineage_path)) ||
	    (next->lineage_sink == LINEAGE_SINK_HTTP &&
	    (str_differ(cur->lineage_url, next->lineage_url) ||
	    str_differ(cur->lineage_token_file, next->lineage_token_file) ||
	    cur->lineage_timeout_s != next->lineage_timeout_s)) ||
	    (next->lineage_sink != LINEAGE_SINK_NONE &&
	    cur->lineage_keep_s != next->lineage_keep_s))
		ch->deliverer = 1;
	/* The HTTP child is started again with them (meshd-http.c). */
	if (config_http_differ(cur, next))
		reload_note(ch, 1, "http");
	/* The namespace is read by each event as it is made. */
	if (ch->deliverer || str_differ(cur->lineage_namespace,
	    next->lineage_namespace))
		reload_note(ch, 1, "lineage");
#undef KEEP_STR
#undef KEEP_INT
#undef LIVE_INT
}

/* Nested includes beyond this are refused (libconfig stops at 10). */
#define INCLUDE_DEPTH	10

/*
 * The name of the @include whose opening quote is at `p`, as libconfig
 * reads it: up to the next quote, across newlines, cut at its first NUL.
 * NULL with *bad set if it holds an escape (not supported here), or NULL
 * alone if it has no closing quote (libconfig's syntax error).
 */
static char *
include_name(const char *p, const char *end, int *bad)
{
	const char	*q;

	*bad = 0;
	for (q = p + 1; q < end && *q != '"'; q++) {
		if (*q == '\\') {
			*bad = 1;
			return NULL;
		}
	}
	if (q == end)
		return NULL;
	return xstrndup(p + 1, (size_t)(q - p - 1));
}

static int	check_file(const char *, const char *, int, int,
		    struct errlist *);

/* Check the @include lines of `len` bytes of `buf`, the text of `path`. */
static int
check_text(const char *path, const char *buf, size_t len, const char *dir,
    int allow, int depth, struct errlist *errs)
{
	struct stat	 st;
	char		*name, *file;
	const char	*p, *end = buf + len, *bol;
	int		 lineno = 0, rc = 0, bad;

	/* libconfig's rule: ^[ \t]*@include[ \t]+" at any line start.  One
	 * inside a comment or a string is checked too, which can only
	 * refuse what libconfig would take. */
	for (bol = buf; bol < end; bol = p + 1) {
		lineno++;
		for (p = bol; p < end && (*p == ' ' || *p == '\t'); p++)
			;
		if ((size_t)(end - p) < 9 || memcmp(p, "@include", 8) != 0 ||
		    (p[8] != ' ' && p[8] != '\t'))
			goto next;
		if (!allow) {
			errlist_error(errs, path, lineno, "@include is not "
			    "allowed in a job file (it must be self-contained)");
			rc = -1;
			goto next;
		}
		for (p += 8; p < end && (*p == ' ' || *p == '\t'); p++)
			;
		if (p == end || *p != '"')
			goto next;	/* libconfig's syntax error */
		if ((name = include_name(p, end, &bad)) == NULL) {
			if (bad) {
				errlist_error(errs, path, lineno, "@include: "
				    "escapes are not supported in its name");
				rc = -1;
			}
			goto next;
		}
		file = *name == '/' ? xstrdup(name) : path_join(dir, name);
		if (stat(file, &st) == -1)
			;	/* libconfig says it cannot open it */
		else if (!S_ISREG(st.st_mode)) {
			errlist_error(errs, path, lineno, "@include \"%s\": "
			    "not a regular file", name);
			rc = -1;
		} else if (depth >= INCLUDE_DEPTH) {
			errlist_error(errs, path, lineno, "@include \"%s\": "
			    "includes nested more than %d deep", name,
			    INCLUDE_DEPTH);
			rc = -1;
		} else if (check_file(file, dir, allow, depth + 1, errs) != 0)
			rc = -1;
		free(file);
		free(name);
next:
		if ((p = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
	}
	return rc;
}

/* The same for an included file, read from disk as libconfig will. */
static int
check_file(const char *path, const char *dir, int allow, int depth,
    struct errlist *errs)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0, cap = 0, n;
	int	 rc;

	if ((f = fopen(path, "r")) == NULL)
		return 0;	/* libconfig says why */
	do {
		if (len == cap)
			buf = xrealloc(buf, cap = cap == 0 ? 4096 : cap * 2);
		len += n = fread(buf + len, 1, cap - len, f);
	} while (n > 0);
	fclose(f);
	rc = check_text(path, buf, len, dir, allow, depth, errs);
	free(buf);
	return rc;
}

int
config_check_includes(const char *path, const char *text, size_t len,
    const char *dir, int allow, struct errlist *errs)
{
	return check_text(path, text, len, dir, allow, 0, errs);
}
