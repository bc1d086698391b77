/*
 * limit.h -- limits on input: what meshd.conf and job files may hold.
 *
 * A file is tenant input (design decision 8): nothing in it may make meshd
 * fork without end, allocate without bound or act on a value other than
 * the one written.  libconfig 1.5 does not help: it reads an integer
 * without an L suffix with atoi(), so `workers = 99999999999` arrives as
 * 1215752191 and `timeout = 4294967396` as 100, and it cuts a string at
 * an escaped NUL without a word.  So integers are read again from the
 * text as written (limit_int), names are checked for their length and
 * bytes (limit_name), and a file holding a NUL byte is refused whole
 * (limit_read).
 *
 * Every function here returns -1 with a cause that names no place: the
 * caller adds its file:line.  Since 0.4.0.
 */
#ifndef MESHD_LIMIT_H
#define MESHD_LIMIT_H

#include <stdio.h>

#include <libconfig.h>

#include "errlist.h"
#include "util.h"

/* Job names, task ids, param keys, pool and product names: 1 to this many
 * bytes.  Long enough for any name a person types, short enough for a
 * table column, a log line and a file name (jobs/NAME.conf). */
#define LIMIT_NAME_MAX		128
/* A string parameter value, in a job file or from `meshctl trigger
 * --param`: a path, a query or a small document, never bulk data. */
#define LIMIT_PARAM_MAX		(1024 * 1024)
/* A meshd.conf or job file, read whole before it is parsed. */
#define LIMIT_FILE_MAX		(64 * 1024 * 1024)

/* The text of one file, kept to quote values as written. */
struct limit_src {
	const char	*path;		/* borrowed */
	char		*text;		/* NUL-terminated, no NUL inside */
	size_t		 len;
	size_t		*lines;		/* offset of each line's start: a
					 * lookup costs no scan of the file,
					 * even for a job of 10,000 tasks */
	size_t		 nlines;
};

/*
 * Read the file `f` (named `path`) into src, whole.  A file larger than
 * LIMIT_FILE_MAX, or holding a NUL byte, is refused: -1 with *line set to
 * the line of the first NUL (0 when there is no line to name) and cause.
 * Free with limit_src_free (also after a failure).
 */
int	limit_read(struct limit_src *src, FILE *f, const char *path, int *line,
	    char **cause);
void	limit_src_free(struct limit_src *);

/*
 * The value of setting `s` as written, e.g. "99999999999" or "\"abc\""
 * (quotes kept), or NULL when it cannot be found (an element of an array,
 * a value on another line than its name).  `src` is the main file; a
 * setting from an @include is looked up in its own file.  New string.
 */
char	*limit_raw(const struct limit_src *src, const config_setting_t *s);

/*
 * The integer setting `s` (CONFIG_TYPE_INT or INT64) as written: 0 and
 * *out, or -1 with cause when it does not fit in 64 bits or is outside
 * [min, max].  The cause quotes the value as written:
 *   'workers' must be at most 1024, not 99999999999
 * `what` names the setting in it ("'workers'", "param 'n'").
 */
int	limit_int(const struct limit_src *src, const config_setting_t *s,
	    const char *what, long long min, long long max, long long *out,
	    char **cause);

/* The type of a setting, with its article ("an integer"), for messages. */
const char	*limit_type_name(int type);
/* limit_int() of a setting that must be an integer, named by its key; a
 * setting of another type is refused ("'workers' must be an integer, not
 * a string"). */
int	limit_setting_int(const struct limit_src *, const config_setting_t *,
	    long long min, long long max, long long *out, char **cause);

/*
 * Is `s` a name: 1 to LIMIT_NAME_MAX bytes, each a letter, a digit or one
 * of `extra`?  0, or -1 with cause ("is 1048576 bytes long, at most 128",
 * "has ' ' at byte 3"), which does not quote the name: limit_quote().
 */
int	limit_name(const char *s, const char *extra, char **cause);
/*
 * An error about setting `s`, at its file (that of an @include, or `path`)
 * and line: the one way config.c's helpers, config-http.c, config-exec.c
 * and alert-conf.c report a bad value.
 */
void	limit_error(struct errlist *, const char *path, const config_setting_t *s,
	    const char *fmt, ...) PRINTFLIKE(4, 5);
/*
 * Has the string setting `s` an escape sequence (a backslash) in the text
 * it was read from?  Names never need one, and libconfig drops "\x00"
 * silently, so a name written with one is refused.
 */
int	limit_escaped(const struct limit_src *src, const config_setting_t *s);

/* At most the first 40 bytes of `s`, non-printable bytes as \xNN, "..."
 * when cut: for quoting a hostile value in a message.  New string. */
char	*limit_quote(const char *s);

#endif
