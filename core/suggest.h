/*
 * suggest.h -- "did you mean ...?" for a word that is not one of a known
 * set: a misspelt key in a job file or meshd.conf, a verb, a stage.
 *
 * A key that meshd does not know is an error (a warning let `afer = [...]`
 * run a check beside the extract it was meant to follow, and `param = {}`
 * drop every parameter without a word), and an error is more useful when
 * it names the key that was meant.  Since 0.5.0.
 */
#ifndef MESHD_SUGGEST_H
#define MESHD_SUGGEST_H

#include <stddef.h>

/*
 * Edit distance between a and b, where inserting, deleting or changing one
 * byte, or swapping two neighbours ("atfer"), costs 1; case is ignored.
 * Stops counting at `cap`: returns cap when the distance is cap or more.
 */
size_t		 suggest_distance(const char *a, const char *b, size_t cap);
/*
 * The word of `known` (NULL-terminated) closest to `word`, or NULL when
 * none is close enough to be a likely typo: at most 1 edit for words of
 * up to 4 bytes, 2 up to 8, then 3.  The first of equally close words
 * wins, so list the common ones first.
 */
const char	*suggest_word(const char *word, const char *const *known);
/*
 * The message for an unknown key, e.g. "unknown key 'afer' in task
 * 'check'; did you mean 'after'?" (where = "in task 'check'", or NULL),
 * with the list of known keys when nothing is close and they are few.
 * New string.
 */
char		*suggest_unknown_key(const char *key, const char *where,
		    const char *const *known);

#endif
