/* errlist.c -- gathered diagnostics, printed as file:line: level: message. */
#include <stdlib.h>
#include <string.h>

#include "errlist.h"

void
errlist_add(struct errlist *el, enum diag_level level, const char *file,
    int line, const char *fmt, ...)
{
	struct diag	*d;
	va_list		 ap;

	if (el->n == el->cap) {
		el->cap = el->cap == 0 ? 8 : el->cap * 2;
		el->v = xreallocarray(el->v, el->cap, sizeof *el->v);
	}
	d = &el->v[el->n++];
	d->level = level;
	d->file = xstrdup_null(file);
	d->line = line;
	va_start(ap, fmt);
	d->msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (level == DIAG_ERROR)
		el->nerrors++;
	else
		el->nwarnings++;
}

static void
diag_print(const struct diag *d, FILE *f)
{
	const char	*lvl = d->level == DIAG_ERROR ? "error" : "warning";

	if (d->file != NULL && d->line > 0)
		fprintf(f, "%s:%d: %s: %s\n", d->file, d->line, lvl, d->msg);
	else if (d->file != NULL)
		fprintf(f, "%s: %s: %s\n", d->file, lvl, d->msg);
	else
		fprintf(f, "%s: %s\n", lvl, d->msg);
}

void
errlist_print(const struct errlist *el, FILE *f)
{
	size_t	i;

	for (i = 0; i < el->n; i++)
		diag_print(&el->v[i], f);
}

const struct diag *
errlist_find(const struct errlist *el, const char *needle)
{
	size_t	 i;
	char	*text;
	int	 found;

	for (i = 0; i < el->n; i++) {
		text = xasprintf("%s:%d: %s: %s",
		    el->v[i].file != NULL ? el->v[i].file : "", el->v[i].line,
		    el->v[i].level == DIAG_ERROR ? "error" : "warning",
		    el->v[i].msg);
		found = strstr(text, needle) != NULL;
		free(text);
		if (found)
			return &el->v[i];
	}
	return NULL;
}

void
errlist_free(struct errlist *el)
{
	size_t	i;

	for (i = 0; i < el->n; i++) {
		free(el->v[i].file);
		free(el->v[i].msg);
	}
	free(el->v);
	memset(el, 0, sizeof *el);
}
