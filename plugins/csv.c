/*
 * csv.c -- RFC 4180 reader.  See csv.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

static int	csv_error(struct csv *, long, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
csv_error(struct csv *c, long line, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	n = snprintf(c->err, sizeof c->err, "%s:%ld: ", c->path, line);
	if (n < 0 || (size_t)n >= sizeof c->err)
		return (-1);
	va_start(ap, fmt);
	vsnprintf(c->err + n, sizeof c->err - (size_t)n, fmt, ap);
	va_end(ap);
	return (-1);
}

static int
csv_putc(struct csv *c, int ch)
{
	char	*nb;
	size_t	 ncap;

	if (c->len == c->cap) {
		ncap = c->cap == 0 ? 256 : c->cap * 2;
		if ((nb = realloc(c->buf, ncap)) == NULL)
			return (csv_error(c, c->line, "out of memory"));
		c->buf = nb;
		c->cap = ncap;
	}
	c->buf[c->len++] = (char)ch;
	return (0);
}

static int
csv_start_field(struct csv *c)
{
	size_t	*no, ncap;

	if (c->nfields == c->capfields) {
		ncap = c->capfields == 0 ? 16 : c->capfields * 2;
		if ((no = realloc(c->off, ncap * sizeof *no)) == NULL)
			return (csv_error(c, c->line, "out of memory"));
		c->off = no;
		c->capfields = ncap;
	}
	c->off[c->nfields++] = c->len;
	return (0);
}

int
csv_open(struct csv *c, const char *path)
{
	int	ch;

	memset(c, 0, sizeof *c);
	c->path = path;
	c->line = 1;
	if ((c->f = fopen(path, "r")) == NULL) {
		snprintf(c->err, sizeof c->err, "%s: %s", path,
		    strerror(errno));
		return (-1);
	}
	/* Skip a UTF-8 byte order mark. */
	if ((ch = getc(c->f)) == 0xef) {
		if (getc(c->f) != 0xbb || getc(c->f) != 0xbf)
			return (csv_error(c, 1, "invalid byte order mark"));
	} else if (ch != EOF)
		ungetc(ch, c->f);
	return (0);
}

/* After a CR: a record ends at CRLF; a lone CR is data we do not accept. */
static int
csv_crlf(struct csv *c)
{
	int	ch;

	if ((ch = getc(c->f)) == '\n')
		return (0);
	if (ch != EOF)
		ungetc(ch, c->f);
	return (csv_error(c, c->line, "carriage return not followed by a "
	    "line feed"));
}

int
csv_next(struct csv *c)
{
	int	ch, quoted;
	long	qline;

	c->len = 0;
	c->nfields = 0;

	/* Skip empty lines; stop at the end of the file. */
	for (;;) {
		ch = getc(c->f);
		if (ch == EOF)
			goto eof;
		if (ch == '\r') {
			if (csv_crlf(c) != 0)
				return (-1);
			c->line++;
			continue;
		}
		if (ch == '\n') {
			c->line++;
			continue;
		}
		break;
	}
	c->record_line = c->line;

	for (;;) {			/* one field per turn */
		if (csv_start_field(c) != 0)
			return (-1);
		quoted = (ch == '"');
		if (quoted) {
			qline = c->line;
			for (;;) {
				ch = getc(c->f);
				if (ch == EOF) {
					if (ferror(c->f))
						goto eof;
					return (csv_error(c, qline,
					    "unterminated quoted field"));
				}
				if (ch == '"') {
					ch = getc(c->f);
					if (ch != '"')
						break;	/* closing quote */
				} else if (ch == '\n')
					c->line++;
				else if (ch == '\0')
					return (csv_error(c, c->line,
					    "NUL byte in field"));
				if (csv_putc(c, ch) != 0)
					return (-1);
			}
			/* ch is the character after the closing quote. */
			if (ch != ',' && ch != '\n' && ch != '\r' && ch != EOF)
				return (csv_error(c, c->line, "unexpected "
				    "'%c' after a closing quote (field %zu)",
				    ch, c->nfields));
		} else {
			while (ch != ',' && ch != '\n' && ch != '\r' &&
			    ch != EOF) {
				if (ch == '"')
					return (csv_error(c, c->line, "quote "
					    "inside an unquoted field (field "
					    "%zu)", c->nfields));
				if (ch == '\0')
					return (csv_error(c, c->line,
					    "NUL byte in field"));
				if (csv_putc(c, ch) != 0)
					return (-1);
				ch = getc(c->f);
			}
		}
		if (csv_putc(c, '\0') != 0)
			return (-1);
		if (ch == ',') {
			ch = getc(c->f);
			continue;
		}
		if (ch == '\r' && csv_crlf(c) != 0)
			return (-1);
		if (ch == EOF && ferror(c->f))
			goto eof;
		if (ch != EOF)
			c->line++;
		return (1);
	}

eof:
	if (ferror(c->f))
		return (csv_error(c, c->line, "read error: %s",
		    strerror(errno)));
	return (0);
}

const char *
csv_field(const struct csv *c, size_t i)
{
	return (c->buf + c->off[i]);
}

void
csv_close(struct csv *c)
{
	if (c->f != NULL)
		fclose(c->f);
	free(c->buf);
	free(c->off);
	c->f = NULL;
	c->buf = NULL;
	c->off = NULL;
}
