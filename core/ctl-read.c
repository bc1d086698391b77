/*
 * ctl-read.c -- what meshctl's read verbs share: asking the read layer
 * (read.h) a question, the list options, and rendering a document as a
 * table (libsmartcols) or as JSON.
 *
 * A verb parses its options into read_args, asks with ctl_ask() and
 * renders the answer: the same document the HTTP API serves, so that
 * `meshctl runs J --json` and GET /api/v1/runs?job=J agree by
 * construction.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libsmartcols.h>

#include "ctl-broken.h"
#include "meshctl.h"
#include "read.h"

/* The questions that need only the jobs they show (read_ctx_job()); the
 * others (jobs, dag, next, lineage) walk the whole set. */
static int
ctl_ask_lazy(const char *question)
{
	static const char *const lazy[] = { "runs", "tasks", "backfills",
	    "backfill", "products", "product", "catalog", "checks", "alerts",
	    "status" };
	size_t	i;

	for (i = 0; i < nitems(lazy); i++)
		if (strcmp(question, lazy[i]) == 0)
			return 1;
	return 0;
}

int
ctl_ask(struct ctl *ctl, const char *question, struct read_args *args,
    json_t **doc)
{
	const struct read_question *q = read_find(question);
	const struct read_param *p;
	struct read_ctx	 rc;
	struct read_error err;
	struct jobset	 js;
	struct errlist	 errs = ERRLIST_INIT;
	pid_t		 pid;
	size_t		 len;
	char		*cause = NULL;

	*doc = NULL;
	if (ctl_config(ctl) == NULL)
		return CTL_EXIT_USAGE;
	if (ctl->utc)
		read_args_add(args, "utc", "1");
	memset(&rc, 0, sizeof rc);
	/* The jobs lend their zones to times; another team's broken job
	 * file is not this question's business, so its diagnostics are
	 * dropped (meshctl jobs and validate say them).  The questions
	 * that show a few jobs read just their files, when they first
	 * name them (read_lazy_new()): one meshctl call must not cost a
	 * parse of every job file (half a second with 10,000 jobs). */
	memset(&js, 0, sizeof js);
	rc.cfg = ctl->cfg;
	if (ctl_ask_lazy(question))
		rc.lazy = read_lazy_new();
	else {
		jobs_load(ctl->cfg, &js, &errs);
		errlist_free(&errs);
		rc.jobs = &js;
	}
	rc.health = ctl_health(ctl, &pid);
	rc.now_us = now_us();
	rc.st = ctl_state_cause(ctl, STATE_RDONLY, &cause);
	rc.st_error = cause;
	*doc = read_ask(&rc, question, args, &err);
	if (rc.st != NULL)
		state_close(rc.st);
	free(cause);
	jobset_free(&js);
	read_lazy_free(rc.lazy);
	json_decref(rc.health);
	if (*doc != NULL)
		return CTL_EXIT_OK;
	/* A parameter the verb passed but the question does not take is
	 * an option the verb should not have accepted: say so in the
	 * command line's words. */
	if (strncmp(err.message, "unknown parameter '", 19) == 0) {
		len = strcspn(err.message + 19, "'");
		ctl_error("--%.*s is not an option of %s", (int)len,
		    err.message + 19, ctl->entry->name);
		return CTL_EXIT_USAGE;
	}
	/* "limit: ..." is "--limit: ..." on the command line. */
	for (p = q != NULL ? q->params : NULL; p != NULL && p->name != NULL;
	    p++) {
		len = strlen(p->name);
		if (strncmp(err.message, p->name, len) == 0 &&
		    err.message[len] == ':' && strcmp(p->name, "job") != 0) {
			ctl_error("--%s", err.message);
			return read_exit_code(err.status);
		}
	}
	ctl_error("%s", err.message);
	return read_exit_code(err.status);
}

/* Kept for the verbs not yet converted: the state's id of a job, 0 if it
 * never ran but is configured; -1 after printing "unknown job". */
int
ctl_state_job(struct ctl *ctl, struct state *st, const char *name,
    int64_t *id)
{
	struct jobset	 js;
	char		*cause = NULL;
	int		 found;

	if (state_job_find(st, name, id, &cause) == 0)
		return 0;
	free(cause);
	ctl_jobs(ctl, &js, 1);
	found = jobset_find(&js, name) != NULL;
	if (!found)
		ctl_find_job(&js, name);
	jobset_free(&js);
	*id = 0;
	return found ? 0 : -1;
}

int
ctl_list_opt(int c, const char *arg, struct read_args *args, int *json)
{
	switch (c) {
	case CTL_OPT_JSON:
		*json = 1;
		return 1;
	case CTL_OPT_LIMIT:
		read_args_add(args, "limit", arg);
		return 1;
	case CTL_OPT_STATE:
		read_args_add(args, "state", arg);
		return 1;
	case CTL_OPT_SINCE:
		read_args_add(args, "since", arg);
		return 1;
	case CTL_OPT_CURSOR:
		read_args_add(args, "cursor", arg);
		return 1;
	}
	return 0;
}

void
ctl_list_more(struct ctl *ctl, const json_t *doc, int json,
    const char *what)
{
	const char	*cur;

	cur = json_string_value(json_object_get(doc, "next_cursor"));
	if (cur == NULL)
		return;
	/* On stderr with --json, so that stdout stays one JSON value. */
	fprintf(json ? stderr : stdout, "(more %s: meshctl %s ... --cursor "
	    "%s)\n", what, ctl->entry->name, cur);
}

const char *
ctl_state_color(const char *state)
{
	if (strcmp(state, "success") == 0 || strcmp(state, "published") == 0)
		return "green";
	if (strcmp(state, "failed") == 0 ||
	    strcmp(state, "upstream_failed") == 0 ||
	    strcmp(state, "quarantined") == 0)
		return "red";
	if (strcmp(state, "running") == 0 ||
	    strcmp(state, "up_for_retry") == 0)
		return "yellow";
	return NULL;
}

/* A member of a row as text: strings as they are, numbers in decimal,
 * null and absent as "-". */
static const char *
ctl_cell_text(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, len, "%g", json_real_value(v));
		return buf;
	}
	if (json_is_true(v))
		return "yes";
	if (json_is_false(v))
		return "no";
	return "-";
}

int
ctl_table(struct ctl *ctl, const json_t *rows, const struct ctl_column *cols)
{
	struct libscols_table	*tb;
	struct libscols_line	*ln;
	struct libscols_column	*cl;
	const struct ctl_column	*c;
	const json_t		*row;
	const char		*text, *color;
	char			 buf[256];
	size_t			 i, j, ncols = 0;
	int			 used;

	if ((tb = scols_new_table()) == NULL) {
		ctl_error("out of memory");
		return CTL_EXIT_STATE;
	}
	scols_table_enable_colors(tb, ctl->color);
	/* Never truncate to the terminal: a listing is read and grepped
	 * whole, as ps(1) -ww would. */
	scols_table_enable_nowrap(tb, 1);
	for (c = cols; c->header != NULL; c++) {
		/* An optional column shows only when some row has it. */
		used = !(c->flags & CTL_COL_OPTIONAL);
		for (i = 0; !used && i < json_array_size(rows); i++) {
			row = json_array_get(rows, i);
			used = json_object_get(row, c->key) != NULL;
		}
		cl = scols_table_new_column(tb, c->header, 0,
		    (c->flags & CTL_COL_RIGHT) ? SCOLS_FL_RIGHT : 0);
		if (cl == NULL) {
			scols_unref_table(tb);
			ctl_error("out of memory");
			return CTL_EXIT_STATE;
		}
		scols_column_set_flags(cl, scols_column_get_flags(cl) |
		    (used ? 0 : SCOLS_FL_HIDDEN));
		ncols++;
	}
	for (i = 0; i < json_array_size(rows); i++) {
		row = json_array_get(rows, i);
		ln = scols_table_new_line(tb, NULL);
		for (c = cols, j = 0; c->header != NULL; c++, j++) {
			if (c->fmt != NULL)
				text = c->fmt(row, buf, sizeof buf);
			else
				text = ctl_cell_text(json_object_get(row,
				    c->key), buf, sizeof buf);
			if ((c->flags & CTL_COL_OPTIONAL) &&
			    json_object_get(row, c->key) == NULL)
				text = "";
			scols_line_set_data(ln, j, text);
			if ((c->flags & CTL_COL_STATE) &&
			    (color = ctl_state_color(text)) != NULL)
				scols_cell_set_color(scols_line_get_cell(ln, j),
				    color);
		}
	}
	(void)ncols;
	scols_print_table(tb);
	scols_unref_table(tb);
	return CTL_EXIT_OK;
}
