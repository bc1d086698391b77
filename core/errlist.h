/*
 * errlist.h -- gathered configuration diagnostics.
 *
 * Config loading never stops at the first problem: every error and warning
 * of every file is added here, and printed together as
 * "file:line: error: message" (tmux and compilers do the same), so that one
 * run of `meshctl validate` shows everything that is wrong.
 */
#ifndef MESHD_ERRLIST_H
#define MESHD_ERRLIST_H

#include <stdio.h>

#include "util.h"

enum diag_level { DIAG_ERROR, DIAG_WARNING };

struct diag {
	enum diag_level	 level;
	char		*file;		/* may be NULL */
	int		 line;		/* 0: no line */
	char		*msg;
};

struct errlist {
	struct diag	*v;
	size_t		 n, cap;
	size_t		 nerrors, nwarnings;
};

#define ERRLIST_INIT { NULL, 0, 0, 0, 0 }

void	errlist_add(struct errlist *, enum diag_level, const char *file,
	    int line, const char *fmt, ...) PRINTFLIKE(5, 6);
#define errlist_error(el, f, l, ...) errlist_add(el, DIAG_ERROR, f, l, __VA_ARGS__)
#define errlist_warn(el, f, l, ...) errlist_add(el, DIAG_WARNING, f, l, __VA_ARGS__)
/* Print each diagnostic as "file:line: error: msg" (or "warning:"). */
void	errlist_print(const struct errlist *, FILE *);
/* Find a diagnostic whose text (as printed) contains `needle`; for tests. */
const struct diag *errlist_find(const struct errlist *, const char *needle);
void	errlist_free(struct errlist *);

#endif
