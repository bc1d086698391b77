/*
 * fuzz-read-args.c -- what any HTTP client can send the read layer: a
 * question's name and name=value arguments (GET /api/v1/NAME?...).
 *
 * The input is lines: the first names the question (its first byte, modulo
 * the table, when it is not a name), each next line is NAME=VALUE.  Every
 * question is asked without a state or a configuration (st is NULL, as
 * when meshctl finds no database): it must check its arguments and refuse
 * with a status of the contract (400/404/409/503) and a message, never
 * crash or touch the state.  Cursors also round-trip: a cursor made of the
 * values parses back to them.
 */
#include "fuzz.h"

#include "read.h"
#include "read-int.h"

#define MAXLINE	4096

static size_t
nquestions(void)
{
	size_t	n = 0;

	while (read_questions[n].name != NULL)
		n++;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		 buf[READ_MAXARGS + 1][MAXLINE];
	struct read_ctx		 ctx;
	struct read_args	 args = { 0 };
	struct read_error	 err;
	struct read_cursor	 cur;
	const char		*parts[4], *name;
	char			*eq;
	json_t			*doc, *c;
	size_t			 i, n = 0, len, start = 0;

	if (size == 0)
		return 0;
	/* Split into lines, at most READ_MAXARGS + 1 of MAXLINE - 1. */
	for (i = 0; i <= size && n <= READ_MAXARGS; i++) {
		if (i < size && data[i] != '\n')
			continue;
		len = i - start;
		if (len >= MAXLINE)
			len = MAXLINE - 1;
		memcpy(buf[n], data + start, len);
		buf[n][len] = '\0';
		n++;
		start = i + 1;
	}
	name = buf[0];
	if (read_find(name) == NULL)
		name = read_questions[data[0] % nquestions()].name;
	for (i = 1; i < n; i++) {
		if ((eq = strchr(buf[i], '=')) == NULL)
			continue;
		*eq = '\0';
		read_args_add(&args, buf[i], eq + 1);
	}

	memset(&ctx, 0, sizeof ctx);
	ctx.st_error = "no state (fuzzing)";
	ctx.now_us = INT64_C(1700000000000000);
	memset(&err, 0, sizeof err);
	doc = read_ask(&ctx, name, &args, &err);
	/* A refusal has a status of the contract and a message. */
	if (doc == NULL && ((err.status != 400 && err.status != 404 &&
	    err.status != 409 && err.status != 503) ||
	    memchr(err.message, '\0', sizeof err.message) == NULL ||
	    err.message[0] == '\0'))
		abort();
	json_decref(doc);

	/* Cursors of up to four of the values round-trip (NUL-free by
	 * construction, as strings from a query string are). */
	for (i = 0; i < (size_t)args.n && i < 4; i++)
		parts[i] = args.a[i].value;
	if (i > 0 && parts[0][0] != '\0') {
		c = read_cursor_make((int)i, parts);
		if (read_cursor_parse(json_string_value(c), (int)i, &cur,
		    &err) == 0) {
			for (n = 0; n < i; n++)
				if (strcmp(cur.s[n], parts[n]) != 0)
					abort();
			read_cursor_free(&cur);
		} else {
			/* Only an empty part may be refused. */
			for (n = 0; n < i; n++)
				if (parts[n][0] == '\0')
					break;
			if (n == i)
				abort();
		}
		json_decref(c);
	}
	/* Any text as a cursor: parsed or refused, never more. */
	if (args.n > 0 && read_cursor_parse(args.a[0].value, 2, &cur,
	    &err) == 0)
		read_cursor_free(&cur);
	return 0;
}
