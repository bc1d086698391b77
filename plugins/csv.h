/*
 * csv.h -- a small RFC 4180 reader for the demo plugins.
 *
 * Fields are separated by commas and records by LF or CRLF.  A field may
 * be quoted with '"'; inside quotes, commas and line breaks are data and
 * '""' is one quote.  A UTF-8 byte order mark at the start is skipped,
 * and empty lines between records are ignored.  Anything else that
 * RFC 4180 does not allow (a quote inside an unquoted field, text after a
 * closing quote, a quoted field that never ends, a NUL byte) is an error
 * that names the file and line, e.g.
 * "airports.csv:1234: unterminated quoted field (opened on this line)".
 */
#ifndef MESHD_PLUGINS_CSV_H
#define MESHD_PLUGINS_CSV_H

#include <stddef.h>
#include <stdio.h>

struct csv {
	FILE		*f;
	const char	*path;		/* for messages; not owned */
	long		 line;		/* line of the next character */
	long		 record_line;	/* line where the last record began */
	char		*buf;		/* field texts, each NUL-terminated */
	size_t		 len, cap;
	size_t		*off;		/* start of each field in buf */
	size_t		 nfields, capfields;
	char		 err[512];	/* the last error */
};

/* Open `path` (kept, not copied).  0, or -1 with c->err set. */
int		 csv_open(struct csv *c, const char *path);
/* Read the next record: 1, 0 at end of file, -1 with c->err set. */
int		 csv_next(struct csv *c);
/* Field i of the current record (i < c->nfields), valid until the next
 * csv_next(). */
const char	*csv_field(const struct csv *c, size_t i);
/* Close and free; safe after a failed open. */
void		 csv_close(struct csv *c);

#endif
