/*
 * alert-conf.c -- the alert settings of meshd.conf and of job files: one
 * parser for a hook (argv array or webhook group), used by both.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "alert.h"
#include "limit.h"
#include "util.h"

static const char *const event_names[ALERT_NEVENTS] = {
	"failure", "quarantine", "retry", "recovery", "late"
};
static const char *const event_keys[ALERT_NEVENTS] = {
	"on_failure", "on_quarantine", "on_retry", "on_recovery",
	"freshness_alert"
};

const char *
alert_event_name(enum alert_event ev)
{
	return (unsigned)ev < ALERT_NEVENTS ? event_names[ev] : "unknown";
}

static int
key_event(const char *key)
{
	int	i;

	for (i = 0; i < ALERT_NEVENTS; i++)
		if (strcmp(key, event_keys[i]) == 0)
			return i;
	return -1;
}

int
alert_is_job_key(const char *key)
{
	int	i = key_event(key);

	return i >= 0 && i != ALERT_LATE;
}

int
alert_is_conf_key(const char *key)
{
	return key_event(key) >= 0 || strcmp(key, "alert_timeout") == 0 ||
	    strcmp(key, "alert_max_bytes") == 0 ||
	    strcmp(key, "alert_give_up") == 0;
}

/* limit_error(), under the short name this file's lines are wrapped for. */
#define aerr(...) limit_error(__VA_ARGS__)

static void
hook_free(struct alert_hook *h)
{
	size_t	i;

	if (h == NULL)
		return;
	for (i = 0; i < h->nargv; i++)
		free(h->argv[i]);
	free(h->argv);
	free(h->url);
	free(h->token_file);
	free(h);
}

static const char *
type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		return "a list";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	default:
		return "a number";
	}
}

/*
 * A hook: [ "cmd", "arg", ... ] (empty: switched off), or { url =
 * "https://..."; bearer_token_file = "..."; }.  A command with a '/' is a
 * path relative to `dir` and must be executable now; a bare name is
 * looked up along PATH when the hook runs.  NULL after an error.
 */
static struct alert_hook *
hook_parse(const config_setting_t *s, const char *file, const char *dir,
    int allow_empty, struct errlist *errs)
{
	const char		*key = config_setting_name(s), *v;
	const config_setting_t	*e;
	struct alert_hook	*h;
	int			 i, n, bad = 0, t = config_setting_type(s);

	if (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST) {
		n = config_setting_length(s);
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(s, (unsigned int)i);
			if (config_setting_type(e) != CONFIG_TYPE_STRING ||
			    (i == 0 && *config_setting_get_string(e) == '\0')) {
				aerr(errs, file, e, "%s element %d must be a%s "
				    "string", key, i + 1, i == 0 ?
				    " non-empty" : "");
				bad = 1;
			}
		}
		if (bad)
			return NULL;
		if (n == 0 && !allow_empty) {
			aerr(errs, file, s, "%s must name a command", key);
			return NULL;
		}
		h = xcalloc(1, sizeof *h);
		if (n == 0)
			return h;	/* switched off */
		h->argv = xcalloc((size_t)n + 1, sizeof *h->argv);
		for (i = 0; i < n; i++)
			h->argv[i] = xstrdup(config_setting_get_string(
			    config_setting_get_elem(s, (unsigned int)i)));
		h->nargv = (size_t)n;
		if (strchr(h->argv[0], '/') != NULL) {
			char *p = path_join(dir, h->argv[0]);

			free(h->argv[0]);
			h->argv[0] = p;
			if (access(p, X_OK) != 0) {
				aerr(errs, file, config_setting_get_elem(s, 0),
				    "%s: %s: %s", key, p, strerror(errno));
				hook_free(h);
				return NULL;
			}
		}
		return h;
	}
	if (t != CONFIG_TYPE_GROUP) {
		aerr(errs, file, s, "%s must be an array of strings (a "
		    "command and its arguments, not run through a shell), not "
		    "%s; or a webhook group { url = \"https://...\"; }", key,
		    type_name(t));
		return NULL;
	}
	h = xcalloc(1, sizeof *h);
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		const char *k;

		e = config_setting_get_elem(s, (unsigned int)i);
		k = config_setting_name(e);
		if (strcmp(k, "url") != 0 && strcmp(k, "bearer_token_file") !=
		    0) {
			aerr(errs, file, e, "unknown key '%s' in %s (known: "
			    "url, bearer_token_file)", k, key);
			bad = 1;
			continue;
		}
		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    *(v = config_setting_get_string(e)) == '\0') {
			aerr(errs, file, e, "%s.%s must be a non-empty string",
			    key, k);
			bad = 1;
			continue;
		}
		if (strcmp(k, "url") == 0) {
			if (strncmp(v, "http://", 7) != 0 &&
			    strncmp(v, "https://", 8) != 0) {
				aerr(errs, file, e, "%s.url '%s' must start "
				    "with http:// or https://", key, v);
				bad = 1;
			}
			free(h->url);
			h->url = xstrdup(v);
		} else {
			free(h->token_file);
			h->token_file = path_join(dir, v);
		}
	}
	if (!bad && h->url == NULL) {
		aerr(errs, file, s, "%s needs a url (or a list: a command)",
		    key);
		bad = 1;
	}
	if (bad) {
		hook_free(h);
		return NULL;
	}
	return h;
}

void
alert_job_parse(struct alert_hooks **hooks, const config_setting_t *s,
    const char *file, const char *dir, struct errlist *errs)
{
	struct alert_hook	*h;
	int			 ev = key_event(config_setting_name(s));

	if (ev < 0 || ev == ALERT_LATE)
		return;
	if ((h = hook_parse(s, file, dir, 1, errs)) == NULL)
		return;
	if (*hooks == NULL)
		*hooks = xcalloc(1, sizeof **hooks);
	hook_free((*hooks)->h[ev]);
	(*hooks)->h[ev] = h;
}

static struct alert_conf *
conf_new(void)
{
	struct alert_conf	*ac = xcalloc(1, sizeof *ac);

	ac->timeout_s = ALERT_TIMEOUT_DEFAULT;
	ac->max_bytes = ALERT_MAX_BYTES_DEFAULT;
	ac->give_up_s = ALERT_GIVE_UP_DEFAULT;
	return ac;
}

static void
conf_int(const config_setting_t *s, const char *file, long long lo,
    long long hi, long long *out, struct errlist *errs)
{
	const char	*key = config_setting_name(s);
	long long	 v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		aerr(errs, file, s, "%s must be an integer, not %s", key,
		    type_name(config_setting_type(s)));
		return;
	}
	v = config_setting_get_int64(s);
	if (v < lo || v > hi) {
		aerr(errs, file, s, "%s = %lld is out of range (%lld..%lld)",
		    key, v, lo, hi);
		return;
	}
	*out = v;
}

void
alert_conf_parse(struct alert_conf **acp, const config_setting_t *s,
    const char *file, const char *dir, struct errlist *errs)
{
	const char		*key = config_setting_name(s);
	struct alert_conf	*ac;
	struct alert_hook	*h;
	long long		 v;
	int			 ev;

	if (*acp == NULL)
		*acp = conf_new();
	ac = *acp;
	if ((ev = key_event(key)) >= 0) {
		if ((h = hook_parse(s, file, dir, ev != ALERT_LATE, errs)) !=
		    NULL) {
			hook_free(ac->dflt.h[ev]);
			ac->dflt.h[ev] = h;
		}
		return;
	}
	if (strcmp(key, "alert_timeout") == 0) {
		v = ac->timeout_s;
		conf_int(s, file, 1, 3600, &v, errs);
		ac->timeout_s = (int)v;
	} else if (strcmp(key, "alert_max_bytes") == 0)
		conf_int(s, file, 1024, 16LL * 1024 * 1024, &ac->max_bytes,
		    errs);
	else if (strcmp(key, "alert_give_up") == 0) {
		v = ac->give_up_s;
		conf_int(s, file, 1, 30LL * 86400, &v, errs);
		ac->give_up_s = (int)v;
	}
}

void
alert_hooks_free(struct alert_hooks *hs)
{
	int	i;

	if (hs == NULL)
		return;
	for (i = 0; i < ALERT_NEVENTS; i++)
		hook_free(hs->h[i]);
	free(hs);
}

void
alert_conf_free(struct alert_conf *ac)
{
	int	i;

	if (ac == NULL)
		return;
	for (i = 0; i < ALERT_NEVENTS; i++)
		hook_free(ac->dflt.h[i]);
	free(ac);
}

static int
str_ne(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

static int
hook_differ(const struct alert_hook *a, const struct alert_hook *b)
{
	size_t	i;

	if (a == NULL || b == NULL)
		return a != b;
	if (a->nargv != b->nargv || str_ne(a->url, b->url) ||
	    str_ne(a->token_file, b->token_file))
		return 1;
	for (i = 0; i < a->nargv; i++)
		if (strcmp(a->argv[i], b->argv[i]) != 0)
			return 1;
	return 0;
}

int
alert_conf_differ(const struct alert_conf *a, const struct alert_conf *b)
{
	int	i;

	if (a == NULL || b == NULL)
		return a != b;
	if (a->timeout_s != b->timeout_s || a->max_bytes != b->max_bytes ||
	    a->give_up_s != b->give_up_s)
		return 1;
	for (i = 0; i < ALERT_NEVENTS; i++)
		if (hook_differ(a->dflt.h[i], b->dflt.h[i]))
			return 1;
	return 0;
}
