/*
 * job-param.c -- parameters: the typed values of a job file's `params`
 * groups, of a task's overlay on them and of `meshctl trigger --param`.
 * Split from job.c, which reads the files: these are values, used by the
 * engine, the verbs and the wire format alike.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "job.h"
#include "limit.h"
#include "util.h"

const char *
param_type_name(enum param_type t)
{
	switch (t) {
	case PARAM_INT:
		return "int";
	case PARAM_DOUBLE:
		return "double";
	case PARAM_BOOL:
		return "bool";
	case PARAM_STRING:
		return "string";
	}
	return "unknown";
}

const char *
param_type_phrase(enum param_type t)
{
	switch (t) {
	case PARAM_INT:
		return "an int";
	case PARAM_DOUBLE:
		return "a double";
	case PARAM_BOOL:
		return "a bool (true or false)";
	case PARAM_STRING:
		break;
	}
	return "a string";
}

int
param_from_string(enum param_type t, const char *key, const char *value,
    struct param *out)
{
	char		*end = NULL;
	const char	*c = value;

	memset(out, 0, sizeof *out);
	out->key = (char *)(uintptr_t)key;
	out->type = t;
	/* The same cap as a job file's values: no run parameter makes a
	 * giant task message. */
	if (strnlen(value, LIMIT_PARAM_MAX + 1) > LIMIT_PARAM_MAX)
		return -1;
	errno = 0;
	switch (t) {
	case PARAM_STRING:
		out->s = (char *)(uintptr_t)value;
		return 0;
	case PARAM_INT:
		if (*c == '-' || *c == '+')
			c++;
		if (*c >= '0' && *c <= '9')
			out->i = strtoll(value, &end, c[0] == '0' &&
			    (c[1] == 'x' || c[1] == 'X') && c == value ? 16 :
			    10);
		break;
	case PARAM_DOUBLE:
		if (*c == '-' || *c == '+')
			c++;
		if ((*c >= '0' && *c <= '9') || *c == '.') {
			out->d = strtod(value, &end);
			if (!isfinite(out->d))
				end = NULL;
		}
		break;
	case PARAM_BOOL:
		if (strcasecmp(value, "true") == 0 ||
		    strcasecmp(value, "false") == 0) {
			out->i = (value[0] == 't' || value[0] == 'T');
			return 0;
		}
		return -1;
	}
	return end != NULL && end != value && *end == '\0' && errno == 0 ?
	    0 : -1;
}

int
param_check_value(const char *key, const char *value, char **cause)
{
	size_t	n = strnlen(value, LIMIT_PARAM_MAX + 1);

	if (n > LIMIT_PARAM_MAX) {
		set_cause(cause, "param '%s': the value is longer than %d "
		    "bytes (LIMIT_PARAM_MAX): pass a path to the data instead",
		    key, LIMIT_PARAM_MAX);
		return -1;
	}
	return 0;
}

const struct param *
paramset_get(const struct paramset *ps, const char *key)
{
	size_t	i;

	for (i = 0; i < ps->n; i++) {
		if (strcmp(ps->v[i].key, key) == 0)
			return &ps->v[i];
	}
	return NULL;
}

void
paramset_set(struct paramset *ps, const struct param *p)
{
	struct param	*dst = NULL;
	size_t		 i;

	for (i = 0; i < ps->n; i++) {
		if (strcmp(ps->v[i].key, p->key) == 0) {
			dst = &ps->v[i];
			free(dst->s);
			break;
		}
	}
	if (dst == NULL) {
		ps->v = xreallocarray(ps->v, ps->n + 1, sizeof *ps->v);
		dst = &ps->v[ps->n++];
		dst->key = xstrdup(p->key);
	}
	dst->type = p->type;
	dst->i = p->i;
	dst->d = p->d;
	dst->s = xstrdup_null(p->s);
}

void
paramset_free(struct paramset *ps)
{
	size_t	i;

	for (i = 0; i < ps->n; i++) {
		free(ps->v[i].key);
		free(ps->v[i].s);
	}
	free(ps->v);
	ps->v = NULL;
	ps->n = 0;
}

