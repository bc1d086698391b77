/*
 * config-lineage.c -- lineage = { sink = ...; } of meshd.conf (config.h):
 * where OpenLineage events go (lineage.h), and the bearer token an HTTP
 * sink sends.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "limit.h"
#include "suggest.h"
#include "token.h"
#include "util.h"

/* The ranges of lineage.timeout and lineage.keep (meshd.conf(5)). */
#define CFG_MAX_LINEAGE_TIMEOUT	300
#define CFG_MAX_LINEAGE_KEEP	(366 * 86400)
/* The largest token file read: a token is a line, not a document. */

static const char *const lineage_keys[] = {
	"sink", "path", "url", "namespace", "timeout", "keep",
	"bearer_token_file", NULL
};

char *
config_lineage_default(const char *state_db)
{
	char	*dir, *p;

	dir = path_dirname(state_db);
	p = path_join(dir, "lineage.jsonl");
	free(dir);
	return p;
}

/* An integer key in [min, max], read as written (config.c's cload_int). */
static void
lineage_int(const struct limit_src *src, struct errlist *errs,
    const char *path, const config_setting_t *s, int min, int max, int *out)
{
	long long	 v;
	char		*cause = NULL;

	if (limit_setting_int(src, s, min, max, &v, &cause) != 0) {
		limit_error(errs, path, s, "%s", cause);
		free(cause);
		return;
	}
	*out = (int)v;
}

/*
 * The token file, as far as it can be judged without reading it (meshctl
 * may run as a user who cannot, and need not: only the deliverer sends
 * it): one that anyone may read is refused, as is one that is not a file.
 * One that cannot be looked at is judged when meshd starts the deliverer.
 */
static void
lineage_token_stat(struct errlist *errs, const char *path,
    const config_setting_t *s, const char *file)
{
	struct stat	sb;

	if (stat(file, &sb) == -1) {
		if (errno == ENOENT)
			limit_error(errs, path, s, "lineage.bearer_token_file: "
			    "%s: %s", file, strerror(errno));
		return;
	}
	if (!S_ISREG(sb.st_mode))
		limit_error(errs, path, s, "lineage.bearer_token_file: %s is "
		    "not a file", file);
	else if (sb.st_mode & S_IROTH)
		limit_error(errs, path, s, "lineage.bearer_token_file: %s is "
		    "readable by anyone (mode %04o): chmod o-rwx it", file,
		    (unsigned int)(sb.st_mode & 07777));
}

/*
 * lineage = { sink = "file" | "http" | "none"; namespace = "meshd";
 *     path = "..."; url = "http://..."; timeout = 5; keep = 3600;
 *     bearer_token_file = "..."; }
 * The keys of the other sinks are refused, so that a url given with the
 * file sink is not silently ignored.
 */
void
config_lineage_parse(struct meshd_config *cfg, const config_setting_t *g,
    const char *path, const char *dir, const struct limit_src *src,
    struct errlist *errs)
{
	config_setting_t	*e;
	const char		*k, *v;
	char			*msg;
	int			 i, n, sink = LINEAGE_SINK_FILE;
	const config_setting_t	*lpath = NULL, *url = NULL, *token = NULL;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		limit_error(errs, path, g, "'lineage' must be a group, not %s",
		    limit_type_name(config_setting_type(g)));
		return;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(g, (unsigned int)i);
		k = config_setting_name(e);
		v = config_setting_type(e) == CONFIG_TYPE_STRING ?
		    config_setting_get_string(e) : NULL;
		if (strcmp(k, "timeout") == 0) {
			lineage_int(src, errs, path, e, 1,
			    CFG_MAX_LINEAGE_TIMEOUT, &cfg->lineage_timeout_s);
			continue;
		}
		if (strcmp(k, "keep") == 0) {
			lineage_int(src, errs, path, e, 0,
			    CFG_MAX_LINEAGE_KEEP, &cfg->lineage_keep_s);
			continue;
		}
		if (strcmp(k, "sink") != 0 && strcmp(k, "namespace") != 0 &&
		    strcmp(k, "path") != 0 && strcmp(k, "url") != 0 &&
		    strcmp(k, "bearer_token_file") != 0) {
			msg = suggest_unknown_key(k, "in 'lineage'",
			    lineage_keys);
			limit_error(errs, path, e, "%s", msg);
			free(msg);
			continue;
		}
		if (v == NULL || *v == '\0') {
			limit_error(errs, path, e, "'lineage.%s' must be a "
			    "non-empty string", k);
			continue;
		}
		if (strcmp(k, "sink") == 0) {
			if (strcmp(v, "file") == 0)
				sink = LINEAGE_SINK_FILE;
			else if (strcmp(v, "http") == 0)
				sink = LINEAGE_SINK_HTTP;
			else if (strcmp(v, "none") == 0)
				sink = LINEAGE_SINK_NONE;
			else
				limit_error(errs, path, e, "lineage.sink must "
				    "be \"file\", \"http\" or \"none\", not "
				    "\"%s\"", v);
		} else if (strcmp(k, "namespace") == 0) {
			free(cfg->lineage_namespace);
			cfg->lineage_namespace = xstrdup(v);
		} else if (strcmp(k, "path") == 0) {
			lpath = e;
			free(cfg->lineage_path);
			cfg->lineage_path = path_join(dir, v);
			cfg->lineage_path_given = 1;
		} else if (strcmp(k, "bearer_token_file") == 0) {
			token = e;
			free(cfg->lineage_token_file);
			cfg->lineage_token_file = path_join(dir, v);
			free(cfg->lineage_token_where);
			cfg->lineage_token_where = xasprintf("%s:%d",
			    config_setting_source_file(e) != NULL ?
			    config_setting_source_file(e) : path,
			    config_setting_source_line(e));
			lineage_token_stat(errs, path, e,
			    cfg->lineage_token_file);
		} else {
			url = e;
			if (strncmp(v, "http://", 7) != 0 &&
			    strncmp(v, "https://", 8) != 0)
				limit_error(errs, path, e, "lineage.url must "
				    "start with http:// or https://, not "
				    "\"%s\"", v);
			free(cfg->lineage_url);
			cfg->lineage_url = xstrdup(v);
		}
	}
	cfg->lineage_sink = sink;
	if (sink != LINEAGE_SINK_FILE && lpath != NULL)
		limit_error(errs, path, lpath, "lineage.path is for sink = "
		    "\"file\"");
	if (sink != LINEAGE_SINK_HTTP && url != NULL)
		limit_error(errs, path, url, "lineage.url is for sink = "
		    "\"http\"");
	if (sink != LINEAGE_SINK_HTTP && token != NULL)
		limit_error(errs, path, token, "lineage.bearer_token_file is "
		    "for sink = \"http\"");
	if (sink == LINEAGE_SINK_HTTP && url == NULL)
		limit_error(errs, path, g, "lineage.sink = \"http\" needs a "
		    "url");
}

char *
config_lineage_token(const char *path, char **cause)
{
	return token_read("lineage.bearer_token_file", path, TOKEN_PRIVATE,
	    cause);
}

int
config_lineage_check(const struct meshd_config *cfg, char **cause)
{
	char	*tok, *why = NULL;

	if (cfg->lineage_sink != LINEAGE_SINK_HTTP ||
	    cfg->lineage_token_file == NULL)
		return 0;
	if ((tok = config_lineage_token(cfg->lineage_token_file, &why)) ==
	    NULL) {
		set_cause(cause, "%s: %s", cfg->lineage_token_where != NULL ?
		    cfg->lineage_token_where : cfg->file, why);
		free(why);
		return -1;
	}
	explicit_bzero(tok, strlen(tok));
	free(tok);
	return 0;
}
