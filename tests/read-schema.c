/*
 * read-schema.c -- the read layer from a test's shell, without meshctl:
 *	read-schema			every question's name, one a line
 *	read-schema NAME		the JSON Schema of question NAME
 *	read-schema ask CONF NAME [K=V]...
 *					ask NAME with meshd.conf CONF (its
 *					jobs and state, read-only) and print
 *					the document, or the error and its
 *					HTTP status on stderr (exit 1)
 * so that the end-to-end tests can validate documents against their
 * own schema, including those meshctl does not print (a follower's
 * "waiting" documents).  Exit 2 for a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errlist.h"
#include "job.h"
#include "read.h"
#include "state.h"
#include "util.h"

static int
ask(int argc, char **argv)
{
	struct errlist		 errs = ERRLIST_INIT;
	struct meshd_config	*cfg;
	struct jobset		 js;
	struct read_ctx		 rc;
	struct read_args	 args = { 0 };
	struct read_error	 err;
	char			*cause = NULL, *eq, *text;
	json_t			*doc;
	int			 i;

	if ((cfg = config_load(argv[0], &errs)) == NULL) {
		errlist_print(&errs, stderr);
		errlist_free(&errs);
		return 2;
	}
	errlist_free(&errs);
	memset(&js, 0, sizeof js);
	jobs_load(cfg, &js, &errs);
	errlist_free(&errs);
	for (i = 2; i < argc; i++) {
		if ((eq = strchr(argv[i], '=')) == NULL) {
			fprintf(stderr, "read-schema: '%s' is not K=V\n",
			    argv[i]);
			return 2;
		}
		*eq = '\0';
		read_args_add(&args, argv[i], eq + 1);
	}
	memset(&rc, 0, sizeof rc);
	rc.cfg = cfg;
	rc.jobs = &js;
	rc.now_us = now_us();
	rc.st = state_open(cfg->state_db, STATE_RDONLY, &cause);
	rc.st_error = cause;
	doc = read_ask(&rc, argv[1], &args, &err);
	if (rc.st != NULL)
		state_close(rc.st);
	free(cause);
	jobset_free(&js);
	config_free(cfg);
	if (doc == NULL) {
		fprintf(stderr, "%d %s\n", err.status, err.message);
		return 1;
	}
	text = json_dumps(doc, JSON_INDENT(2));
	printf("%s\n", text);
	free(text);
	json_decref(doc);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct read_question *q;

	if (argc < 2) {
		for (q = read_questions; q->name != NULL; q++)
			printf("%s\n", q->name);
		return 0;
	}
	if (strcmp(argv[1], "ask") == 0) {
		if (argc < 4) {
			fprintf(stderr, "usage: read-schema ask CONF NAME "
			    "[K=V]...\n");
			return 2;
		}
		return ask(argc - 2, argv + 2);
	}
	if ((q = read_find(argv[1])) == NULL) {
		fprintf(stderr, "read-schema: no question '%s'\n", argv[1]);
		return 2;
	}
	printf("%s\n", q->schema);
	return 0;
}
