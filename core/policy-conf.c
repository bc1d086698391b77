/*
 * policy-conf.c -- the `policies` group of meshd.conf (policy-conf.h),
 * parsed.  Apart from policy.c, which judges jobs by it, so that config.c
 * does not depend on the jobs (job.h includes config.h).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy-conf.h"
#include "suggest.h"

/* ------------------------------------------------------------ config */

struct policy_conf *
policy_conf_defaults(void)
{
	struct policy_conf	*pc = xcalloc(1, sizeof *pc);

	/*
	 * The one rule on by default: a domain builds its own products.  It
	 * is what a data mesh is made of, and a deployment that needs a
	 * plugin to build for another domain says so (own_domain = false).
	 */
	pc->own_domain = 1;
	return pc;
}

void
policy_conf_free(struct policy_conf *pc)
{
	size_t	i;

	if (pc == NULL)
		return;
	for (i = 0; i < pc->npii; i++)
		free(pc->pii_locations[i]);
	free(pc->pii_locations);
	for (i = 0; i < pc->ndomains; i++) {
		free(pc->domains[i].domain);
		free(pc->domains[i].dir);
	}
	free(pc->domains);
	if (pc->contract_re != NULL) {
		regfree(&pc->contract);
		free(pc->contract_re);
	}
	free(pc->file);
	free(pc);
}

static void pol_diag(struct errlist *, enum diag_level, const char *,
    const config_setting_t *, const char *, ...) PRINTFLIKE(5, 6);
static void
pol_diag(struct errlist *errs, enum diag_level level, const char *path,
    const config_setting_t *s, const char *fmt, ...)
{
	va_list		 ap;
	char		*msg;
	const char	*file;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if ((file = config_setting_source_file(s)) == NULL)
		file = path;
	errlist_add(errs, level, file, config_setting_source_line(s), "%s",
	    msg);
	free(msg);
}

static int
pol_bool(struct errlist *errs, const char *path, const config_setting_t *s,
    int *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		pol_diag(errs, DIAG_ERROR, path, s, "policies: '%s' must be "
		    "true or false", config_setting_name(s));
		return -1;
	}
	*out = config_setting_get_bool(s);
	return 0;
}

/* pii_locations: a string, or an array or list of non-empty strings. */
static void
pol_pii(struct policy_conf *pc, struct errlist *errs, const char *path,
    const config_setting_t *s)
{
	const config_setting_t	*e;
	int			 i, n;

	for (i = 0; (size_t)i < pc->npii; i++)
		free(pc->pii_locations[i]);
	free(pc->pii_locations);
	pc->pii_locations = NULL;
	pc->npii = 0;
	pc->has_pii = 1;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (*config_setting_get_string(s) == '\0') {
			pol_diag(errs, DIAG_ERROR, path, s, "policies: "
			    "'pii_locations' must not be empty");
			return;
		}
		pc->pii_locations = xcalloc(1, sizeof *pc->pii_locations);
		pc->pii_locations[pc->npii++] =
		    xstrdup(config_setting_get_string(s));
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		pol_diag(errs, DIAG_ERROR, path, s, "policies: "
		    "'pii_locations' must be an array of location prefixes");
		return;
	}
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned int)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    *config_setting_get_string(e) == '\0') {
			pol_diag(errs, DIAG_ERROR, path, e, "policies: "
			    "'pii_locations' element %d must be a non-empty "
			    "string", i + 1);
			continue;
		}
		pc->pii_locations = xreallocarray(pc->pii_locations,
		    pc->npii + 1, sizeof *pc->pii_locations);
		pc->pii_locations[pc->npii++] =
		    xstrdup(config_setting_get_string(e));
	}
}

/* plugin_domains = { ops = "/usr/lib/meshd/plugins/ops"; ... } */
static void
pol_domains(struct policy_conf *pc, struct errlist *errs, const char *path,
    const char *confdir, const config_setting_t *g)
{
	const config_setting_t	*e;
	const char		*v;
	int			 i, n;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		pol_diag(errs, DIAG_ERROR, path, g, "policies: "
		    "'plugin_domains' must be a group of domain = "
		    "\"directory\"");
		return;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(g, (unsigned int)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    *(v = config_setting_get_string(e)) == '\0') {
			pol_diag(errs, DIAG_ERROR, path, e, "policies: "
			    "plugin_domains: '%s' must be a directory (a "
			    "non-empty string)", config_setting_name(e));
			continue;
		}
		pc->domains = xreallocarray(pc->domains, pc->ndomains + 1,
		    sizeof *pc->domains);
		pc->domains[pc->ndomains].domain =
		    xstrdup(config_setting_name(e));
		pc->domains[pc->ndomains].dir = path_join(confdir, v);
		pc->ndomains++;
	}
}

/*
 * glibc's regcomp() builds an automaton whose size can grow exponentially
 * with stacked quantifiers ("a++++..."), deeply nested repeated groups or
 * large counted repetitions: twenty characters can take gigabytes (found
 * by fuzzing meshd.conf).  A contract pattern needs none of that: refuse
 * it before compiling.  NULL, or what is wrong (static).
 */
static const char *
pol_contract_shape(const char *v)
{
	int	depth = 0, counted = 0, prev_quant = 0, in_class = 0;
	long	n;
	char	*end;

	if (strlen(v) > 256)
		return "longer than 256 bytes";
	for (; *v != '\0'; v++) {
		if (in_class) {
			if (*v == ']')
				in_class = 0;
			continue;
		}
		switch (*v) {
		case '\\':
			if (v[1] != '\0')
				v++;
			prev_quant = 0;
			continue;
		case '[':
			in_class = 1;
			if (v[1] == ']')
				v++;
			prev_quant = 0;
			continue;
		case '(':
			if (++depth > 3)
				return "groups nested more than 3 deep";
			prev_quant = 0;
			continue;
		case ')':
			depth--;
			prev_quant = 0;
			continue;
		case '*':
		case '+':
		case '?':
		case '{':
			if (prev_quant)
				return "a repetition of a repetition";
			prev_quant = 1;
			if (*v != '{')
				continue;
			if (++counted > 4)
				return "more than 4 counted repetitions {m,n}";
			do {
				n = strtol(v + 1, &end, 10);
				if (end == v + 1 && *end != ',')
					return "a malformed {m,n}";
				if (n > 100)
					return "a counted repetition over 100";
				v = end;
			} while (*v == ',');
			if (*v != '}')
				return "a malformed {m,n}";
			continue;
		default:
			prev_quant = 0;
			continue;
		}
	}
	return NULL;
}

static void
pol_contract(struct policy_conf *pc, struct errlist *errs, const char *path,
    const config_setting_t *s)
{
	const char	*why;
	const char	*v;
	char		 buf[256];
	int		 rc;

	if (config_setting_type(s) != CONFIG_TYPE_STRING ||
	    *(v = config_setting_get_string(s)) == '\0') {
		pol_diag(errs, DIAG_ERROR, path, s, "policies: "
		    "'contract_version' must be a regular expression (POSIX "
		    "extended) in a string");
		return;
	}
	if (pc->contract_re != NULL) {
		regfree(&pc->contract);
		free(pc->contract_re);
		pc->contract_re = NULL;
	}
	if ((why = pol_contract_shape(v)) != NULL) {
		pol_diag(errs, DIAG_ERROR, path, s, "policies: "
		    "'contract_version' \"%.60s%s\" is refused: %s (a pattern "
		    "with at most 3 nested groups, 4 counted repetitions of at "
		    "most 100, and no repetition of a repetition, in 256 "
		    "bytes)", v, strlen(v) > 60 ? "..." : "", why);
		return;
	}
	if ((rc = regcomp(&pc->contract, v, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &pc->contract, buf, sizeof buf);
		pol_diag(errs, DIAG_ERROR, path, s, "policies: "
		    "'contract_version' \"%s\" is not a valid regular "
		    "expression: %s", v, buf);
		return;
	}
	pc->contract_re = xstrdup(v);
}

struct policy_conf *
policy_conf_parse(const config_setting_t *g, const char *path,
    const char *confdir, struct errlist *errs)
{
	struct policy_conf	*pc = policy_conf_defaults();
	const config_setting_t	*s;
	const char		*name, *file;
	char			*msg;
	int			 i, n;
	static const char *const policy_keys[] = {
		"require_owner", "require_error_check", "pii_locations",
		"plugin_domains", "contract_version", "own_domain",
		"allow_publish_without_check", NULL
	};

	file = config_setting_source_file(g);
	pc->file = xstrdup(file != NULL ? file : path);
	pc->line = config_setting_source_line(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		pol_diag(errs, DIAG_ERROR, path, g, "'policies' must be a "
		    "group: policies = { require_owner = true; ... };");
		return pc;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned int)i);
		name = config_setting_name(s);
		if (strcmp(name, "require_owner") == 0)
			pol_bool(errs, path, s, &pc->require_owner);
		else if (strcmp(name, "require_error_check") == 0)
			pol_bool(errs, path, s, &pc->require_error_check);
		else if (strcmp(name, "own_domain") == 0)
			pol_bool(errs, path, s, &pc->own_domain);
		else if (strcmp(name, "allow_publish_without_check") == 0)
			pol_bool(errs, path, s,
			    &pc->allow_publish_without_check);
		else if (strcmp(name, "pii_locations") == 0)
			pol_pii(pc, errs, path, s);
		else if (strcmp(name, "plugin_domains") == 0)
			pol_domains(pc, errs, path, confdir, s);
		else if (strcmp(name, "contract_version") == 0)
			pol_contract(pc, errs, path, s);
		else {
			/* A policy this meshd does not know would not be
			 * enforced while its authors think it is. */
			msg = suggest_unknown_key(name, "in 'policies' (a "
			    "policy this meshd does not know is not enforced)",
			    policy_keys);
			pol_diag(errs, DIAG_ERROR, path, s, "%s", msg);
			free(msg);
		}
	}
	return pc;
}
