/*
 * suggest.c -- "did you mean ...?": the closest known word to a typo.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "suggest.h"
#include "util.h"

/* Longer words are not typos of a key: no key is this long, and the
 * table below stays on the stack. */
#define SUGGEST_MAX	64

size_t
suggest_distance(const char *a, const char *b, size_t cap)
{
	/* Three rows of the optimal-string-alignment table: the one before
	 * the previous is needed for a swap. */
	size_t	r0[SUGGEST_MAX + 1], r1[SUGGEST_MAX + 1], r2[SUGGEST_MAX + 1];
	size_t	*pp = r0, *p = r1, *c = r2, *t;
	size_t	 la = strlen(a), lb = strlen(b), i, j, v, best;
	int	 ca, cb;

	if (la > SUGGEST_MAX || lb > SUGGEST_MAX)
		return cap;
	if ((la > lb ? la - lb : lb - la) >= cap)
		return cap;
	for (j = 0; j <= lb; j++)
		p[j] = j;
	for (i = 1; i <= la; i++) {
		ca = tolower((unsigned char)a[i - 1]);
		c[0] = i;
		best = c[0];
		for (j = 1; j <= lb; j++) {
			cb = tolower((unsigned char)b[j - 1]);
			v = p[j - 1] + (ca != cb);
			if (p[j] + 1 < v)
				v = p[j] + 1;
			if (c[j - 1] + 1 < v)
				v = c[j - 1] + 1;
			if (i > 1 && j > 1 &&
			    ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb &&
			    pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			c[j] = v;
			if (v < best)
				best = v;
		}
		/* No cell of this row is under the cap: neither is the end. */
		if (best >= cap)
			return cap;
		t = pp;
		pp = p;
		p = c;
		c = t;
	}
	return p[lb] < cap ? p[lb] : cap;
}

const char *
suggest_word(const char *word, const char *const *known)
{
	const char	*best = NULL;
	size_t		 len = strlen(word), max, d, bestd;

	max = len <= 4 ? 1 : len <= 8 ? 2 : 3;
	bestd = max + 1;
	for (; *known != NULL; known++) {
		d = suggest_distance(word, *known, bestd);
		if (d < bestd) {
			bestd = d;
			best = *known;
		}
	}
	return best;
}

char *
suggest_unknown_key(const char *key, const char *where,
    const char *const *known)
{
	const char	*near = suggest_word(key, known);
	const char	*sp = where != NULL ? " " : "";
	char		*list, *tmp;
	size_t		 i, n;

	if (where == NULL)
		where = "";
	if (near != NULL)
		return xasprintf("unknown key '%s'%s%s; did you mean '%s'?",
		    key, sp, where, near);
	for (n = 0; known[n] != NULL; n++)
		continue;
	if (n == 0 || n > 8)
		return xasprintf("unknown key '%s'%s%s", key, sp, where);
	list = xstrdup(known[0]);
	for (i = 1; i < n; i++) {
		tmp = xasprintf("%s, %s", list, known[i]);
		free(list);
		list = tmp;
	}
	tmp = xasprintf("unknown key '%s'%s%s (known keys: %s)", key, sp,
	    where, list);
	free(list);
	return tmp;
}
