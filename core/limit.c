/*
 * limit.c -- limits on input (see limit.h): files read whole, integers
 * read again as written, names checked for length and bytes.
 */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "limit.h"
#include "util.h"

int
limit_read(struct limit_src *src, FILE *f, const char *path, int *line,
    char **cause)
{
	size_t	 cap = 65536, n;
	char	*nul, *p;

	memset(src, 0, sizeof *src);
	src->path = path;
	*line = 0;
	src->text = xmalloc(cap);
	while ((n = fread(src->text + src->len, 1, cap - src->len - 1, f)) >
	    0) {
		src->len += n;
		if (src->len > LIMIT_FILE_MAX) {
			set_cause(cause, "file is larger than %d bytes",
			    LIMIT_FILE_MAX);
			return -1;
		}
		if (src->len + 1 == cap) {
			cap *= 2;
			src->text = xrealloc(src->text, cap);
		}
	}
	if (ferror(f)) {
		set_cause(cause, "cannot read: %s", strerror(errno));
		return -1;
	}
	src->text[src->len] = '\0';
	/* libconfig would stop at the NUL, or keep a name cut short: a
	 * config file has no business holding one. */
	if ((nul = memchr(src->text, '\0', src->len)) != NULL) {
		char	*bol = src->text;

		*line = 1;
		for (p = src->text; p < nul; p++)
			if (*p == '\n') {
				(*line)++;
				bol = p + 1;
			}
		set_cause(cause, "NUL byte at column %zu: a config file is "
		    "text, and libconfig would cut what follows",
		    (size_t)(nul - bol) + 1);
		return -1;
	}
	src->nlines = 1;
	for (p = src->text; (p = memchr(p, '\n', src->len -
	    (size_t)(p - src->text))) != NULL; p++)
		src->nlines++;
	src->lines = xcalloc(src->nlines, sizeof *src->lines);
	src->nlines = 1;
	for (p = src->text; (p = memchr(p, '\n', src->len -
	    (size_t)(p - src->text))) != NULL; p++)
		src->lines[src->nlines++] = (size_t)(p + 1 - src->text);
	return 0;
}

void
limit_src_free(struct limit_src *src)
{
	free(src->text);
	free(src->lines);
	src->text = NULL;
	src->lines = NULL;
	src->len = 0;
	src->nlines = 0;
}

static int
name_byte(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*';
}

/* Line `line` (1-based) of the text of `s`'s file: a new string, or NULL. */
static char *
limit_line(const struct limit_src *src, const config_setting_t *s)
{
	const char	*file = config_setting_source_file(s), *p, *e;
	struct limit_src other;
	FILE		*f;
	char		*out = NULL, *cause = NULL;
	int		 line = config_setting_source_line(s), dummy;

	memset(&other, 0, sizeof other);
	if (line < 1)
		return NULL;
	if (file != NULL && (src == NULL || src->path == NULL ||
	    strcmp(file, src->path) != 0)) {
		/* An @include: rare, read it each time. */
		if ((f = fopen(file, "r")) == NULL)
			return NULL;
		if (limit_read(&other, f, file, &dummy, &cause) != 0) {
			free(cause);
			fclose(f);
			limit_src_free(&other);
			return NULL;
		}
		fclose(f);
		src = &other;
	}
	if (src == NULL || src->text == NULL || src->lines == NULL ||
	    (size_t)line > src->nlines)
		return NULL;
	p = src->text + src->lines[line - 1];
	e = strchr(p, '\n');
	out = e == NULL ? xstrdup(p) : xstrndup(p, (size_t)(e - p));
	limit_src_free(&other);
	return out;
}

/*
 * The text after the nth "name =" (or "name :") on the setting's line.  A
 * line may hold that name more than once (a param named like a key, a
 * string holding "name = 1"): limit_int() tries each in turn.
 */
static char *
limit_raw_nth(const struct limit_src *src, const config_setting_t *s,
    int nth)
{
	const char	*name = config_setting_name(s), *p, *v, *e;
	char		*line, *out = NULL;
	size_t		 n;

	if (name == NULL || (line = limit_line(src, s)) == NULL)
		return NULL;
	n = strlen(name);
	for (p = line; (p = strstr(p, name)) != NULL; p++) {
		if ((p > line && name_byte((unsigned char)p[-1])) ||
		    name_byte((unsigned char)p[n]))
			continue;
		for (v = p + n; *v == ' ' || *v == '\t'; v++)
			;
		if (*v != '=' && *v != ':')
			continue;
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		if (*v == '"') {
			/* Strings, with "a" "b" joined as libconfig does. */
			for (e = v; *e == '"'; ) {
				for (e++; *e != '\0' && *e != '"'; e++)
					if (*e == '\\' && e[1] != '\0')
						e++;
				if (*e == '"')
					e++;
				while (*e == ' ' || *e == '\t')
					e++;
			}
			while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
		} else
			for (e = v; *e != '\0' && strchr(";,)]} \t\r#/",
			    *e) == NULL; e++)
				;
		if (nth-- > 0)
			continue;
		if (e > v)
			out = xstrndup(v, (size_t)(e - v));
		break;
	}
	free(line);
	return out;
}

char *
limit_raw(const struct limit_src *src, const config_setting_t *s)
{
	return limit_raw_nth(src, s, 0);
}

/*
 * An integer as libconfig writes one: [-+]digits, or 0x hex, with an
 * optional L or LL.  0 and *v; 1 if it does not fit in 64 bits; -1 if it
 * is not such a number.
 */
static int
limit_parse_int(const char *tok, long long *v)
{
	const char		*p = tok;
	char			*end;
	unsigned long long	 u;
	int			 neg = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		errno = 0;
		u = strtoull(p + 2, &end, 16);
		if (end == p + 2)
			return -1;
		if (errno == ERANGE || u > (unsigned long long)LLONG_MAX)
			goto big;
		*v = neg ? -(long long)u : (long long)u;
	} else {
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		*v = strtoll(tok, &end, 10);
		if (errno == ERANGE)
			goto big;
	}
	if (*end == 'L')
		end += end[1] == 'L' ? 2 : 1;
	return *end == '\0' ? 0 : -1;
big:
	for (end = (char *)(uintptr_t)p; (*end >= '0' && *end <= '9') ||
	    (*end >= 'a' && *end <= 'f') || (*end >= 'A' && *end <= 'F') ||
	    *end == 'x' || *end == 'X'; end++)
		;
	if (*end == 'L')
		end += end[1] == 'L' ? 2 : 1;
	return *end == '\0' ? 1 : -1;
}

/*
 * Could libconfig have read `tok` (parsed as w, rc as limit_parse_int's)
 * as v?  An int is wrapped to 32 bits (atoi, or strtoul for hex), an
 * int64 is exact; a value past 64 bits may have become anything.
 */
static int
limit_consistent(int type, const char *tok, int rc, long long w, long long v)
{
	(void)tok;
	if (rc == 1)
		return 1;
	if (type == CONFIG_TYPE_INT64)
		return w == v;
	return (int32_t)(uint32_t)(unsigned long long)w == (int32_t)v;
}

int
limit_int(const struct limit_src *src, const config_setting_t *s,
    const char *what, long long min, long long max, long long *out,
    char **cause)
{
	char		*raw = NULL, *cand, *q;
	long long	 v, w, best = 0;
	int		 rc, bestrc = -1, i, bad;

	if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else
		v = config_setting_get_int(s);
	/*
	 * Take the text that could have given libconfig's value; of several
	 * (the name twice on the line), one that is refused wins, so that a
	 * decoy cannot make a wrapped value pass.
	 */
	for (i = 0; (cand = limit_raw_nth(src, s, i)) != NULL; i++) {
		w = 0;
		rc = limit_parse_int(cand, &w);
		if (rc < 0 || !limit_consistent(config_setting_type(s), cand,
		    rc, w, v)) {
			free(cand);
			continue;
		}
		bad = rc == 1 || w < min || w > max;
		if (raw == NULL || (bad && !(bestrc == 1 || best < min ||
		    best > max))) {
			free(raw);
			raw = cand;
			best = w;
			bestrc = rc;
		} else
			free(cand);
	}
	if (raw != NULL && bestrc == 1) {
		q = limit_quote(raw);
		set_cause(cause, "%s must be at most %lld, not %s (which does "
		    "not even fit in 64 bits)", what, max, q);
		free(q);
		free(raw);
		return -1;
	}
	if (raw != NULL)
		v = best;
	if (v < min || v > max) {
		q = raw != NULL ? limit_quote(raw) : xasprintf("%lld", v);
		if (v < min)
			set_cause(cause, "%s must be at least %lld, not %s",
			    what, min, q);
		else
			set_cause(cause, "%s must be at most %lld, not %s",
			    what, max, q);
		free(q);
		free(raw);
		return -1;
	}
	free(raw);
	*out = v;
	return 0;
}

int
limit_name(const char *s, const char *extra, char **cause)
{
	size_t	n = strlen(s), i;

	if (n == 0) {
		set_cause(cause, "is empty");
		return -1;
	}
	if (n > LIMIT_NAME_MAX) {
		set_cause(cause, "is %zu bytes long, at most %d", n,
		    LIMIT_NAME_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(extra, c) != NULL)
			continue;
		if (c >= 0x20 && c < 0x7f)
			set_cause(cause, "has '%c' at byte %zu", c, i + 1);
		else
			set_cause(cause, "has byte 0x%02x at byte %zu", c,
			    i + 1);
		return -1;
	}
	return 0;
}

int
limit_escaped(const struct limit_src *src, const config_setting_t *s)
{
	char	*raw = limit_raw(src, s);
	int	 esc;

	esc = raw != NULL && strchr(raw, '\\') != NULL;
	free(raw);
	return esc;
}

char *
limit_quote(const char *s)
{
	char	*out = xmalloc(40 * 4 + 4), *o = out;
	size_t	 i;

	for (i = 0; s[i] != '\0' && i < 40; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f)
			*o++ = (char)c;
		else
			o += snprintf(o, 5, "\\x%02x", c);
	}
	if (s[i] != '\0') {
		memcpy(o, "...", 3);
		o += 3;
	}
	*o = '\0';
	return out;
}

/* The type of a setting, with its article, for messages. */
const char *
limit_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "a value";
}

int
limit_setting_int(const struct limit_src *src, const config_setting_t *s,
    long long min, long long max, long long *out, char **cause)
{
	char	*what;
	int	 rc;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		break;
	default:
		set_cause(cause, "'%s' must be an integer, not %s",
		    config_setting_name(s),
		    limit_type_name(config_setting_type(s)));
		return -1;
	}
	what = xasprintf("'%s'", config_setting_name(s));
	rc = limit_int(src, s, what, min, max, out, cause);
	free(what);
	return rc;
}

void
limit_error(struct errlist *errs, const char *path, const config_setting_t *s,
    const char *fmt, ...)
{
	va_list		 ap;
	char		*msg;
	const char	*f = config_setting_source_file(s);

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	errlist_error(errs, f != NULL ? f : path,
	    config_setting_source_line(s), "%s", msg);
	free(msg);
}
