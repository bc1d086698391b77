/*
 * ui-home.c -- the home page: every job by domain, with its schedule,
 * next fire, last runs as coloured squares, paused and broken jobs
 * marked.  The jobs come from the jobs question; while a build has none,
 * from the job files the read context holds (names, domains and
 * schedules only).  Each job's squares are one page of the runs
 * question (UI_HOME_RUNS runs), so the page costs O(jobs), not O(history).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "ui-int.h"
#include "util.h"

/* A link to a run's page: job and partition percent-encoded. */
static void
ui_home_runlink(struct http_reply *r, const char *job, const char *part)
{
	http_reply_printf(r, "/ui/run?job=");
	ui_url(r, job);
	http_reply_printf(r, "&amp;partition=");
	ui_url(r, part);
}

/* The last runs of one job as squares, newest first: the jobs
 * document's last_runs, or a page of the runs question. */
static void
ui_home_squares(struct read_ctx *ctx, struct http_reply *r,
    const char *job, json_t *last)
{
	struct read_error err;
	json_t		*doc, *run;
	size_t		 i;
	char		 lim[16], sb[48];

	snprintf(lim, sizeof lim, "%d", UI_HOME_RUNS);
	if (json_is_array(last))
		doc = json_pack("{s:O}", "runs", last);
	else if ((doc = ui_ask(ctx, &err, "runs", "job", job, "limit", lim,
	    (char *)NULL)) == NULL) {
		/* A job that never ran is no error here. */
		if (err.status != 404) {
			http_reply_printf(r, "<span class=\"error\">");
			ui_text(r, err.message);
			http_reply_printf(r, "</span>");
		}
		return;
	}
	json_array_foreach(ui_list(doc, "runs"), i, run) {
		http_reply_printf(r, "<a class=\"sq run %s\" data-run=\"%lld\" "
		    "href=\"", ui_state(ui_str(run, "state", NULL), sb,
		    sizeof sb), (long long)json_integer_value(
		    json_object_get(run, "run_id")));
		ui_home_runlink(r, job, ui_str(run, "partition", ""));
		http_reply_printf(r, "\" title=\"");
		ui_text(r, ui_str(run, "partition", ""));
		http_reply_printf(r, ": ");
		ui_text(r, ui_str(run, "state", ""));
		http_reply_printf(r, "\"></a>");
	}
	if (json_array_size(ui_list(doc, "runs")) == 0)
		http_reply_printf(r, "<span class=\"none\">no runs</span>");
	json_decref(doc);
}

/* Is a member true: true, non-zero, or a non-empty string but "no". */
static int
ui_home_flag(const json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	if (json_is_string(v))
		return *json_string_value(v) != '\0' &&
		    strcmp(json_string_value(v), "no") != 0;
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	return json_is_true(v);
}

/* The jobs as the jobs question would list them, from the job files
 * when the build has no such question yet. */
static json_t *
ui_home_fromfiles(const struct read_ctx *ctx)
{
	json_t	*arr = json_array();
	size_t	 i;

	if (ctx->jobs == NULL)
		return arr;
	for (i = 0; i < ctx->jobs->n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}",
		    "job", ctx->jobs->v[i]->name,
		    "domain", ctx->jobs->v[i]->domain,
		    "schedule", ctx->jobs->v[i]->schedule));
	for (i = 0; i < ctx->jobs->nbroken; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:s}",
		    "job", ctx->jobs->broken[i].name, "domain", "",
		    "broken", 1, "error",
		    ctx->jobs->broken[i].errs.n > 0 ?
		    ctx->jobs->broken[i].errs.v[0].msg : "refused"));
	return arr;
}

static int
ui_home_cmp(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int	c;

	c = strcmp(ui_str(x, "domain", ""), ui_str(y, "domain", ""));
	if (c == 0)
		c = strcmp(ui_str(x, "job", ui_str(x, "name", "")),
		    ui_str(y, "job", ui_str(y, "name", "")));
	return c;
}

int
ui_home(struct read_ctx *ctx, const struct read_args *q,
    struct http_reply *r)
{
	struct read_error err;
	json_t		*doc = NULL, *list, **v, *job;
	const char	*dom = NULL, *name, *err1;
	const char	*cursor = read_arg(q, "cursor");
	size_t		 i, n;

	if (read_find("jobs") != NULL) {
		if ((doc = ui_ask(ctx, &err, "jobs", "cursor", cursor,
		    (char *)NULL)) == NULL)
			return ui_fail(r, "jobs", &err);
		list = ui_list(doc, "jobs");
	} else
		list = doc = ui_home_fromfiles(ctx);
	n = list != NULL ? json_array_size(list) : 0;
	v = xcalloc(n + 1, sizeof *v);
	for (i = 0; i < n; i++)
		v[i] = json_array_get(list, i);
	qsort(v, n, sizeof *v, ui_home_cmp);

	ui_head(r, "jobs", "home");
	if (n == 0)
		http_reply_printf(r, "<p class=\"none\">no jobs: add a job "
		    "file to jobs_dir</p>");
	for (i = 0; i < n; i++) {
		job = v[i];
		name = ui_str(job, "job", ui_str(job, "name", "?"));
		if (dom == NULL || strcmp(dom, ui_str(job, "domain", "")) !=
		    0) {
			if (dom != NULL)
				http_reply_printf(r, "</tbody></table>"
				    "</section>");
			dom = ui_str(job, "domain", "");
			http_reply_printf(r, "<section class=\"domain\" "
			    "data-domain=\"");
			ui_text(r, dom);
			http_reply_printf(r, "\"><h2>");
			/* A broken job file gave no domain meshd could
			 * read: its jobs gather under their own heading. */
			ui_text(r, *dom != '\0' ? dom : "broken jobs");
			http_reply_printf(r, "</h2><table class=\"jobs\">"
			    "<thead><tr><th>job</th><th>schedule</th>"
			    "<th>next fire</th><th>last runs (newest first)"
			    "</th></tr></thead><tbody>");
		}
		http_reply_printf(r, "<tr class=\"job%s%s\" data-job=\"",
		    ui_home_flag(job, "paused") ? " paused" : "",
		    ui_home_flag(job, "broken") ? " broken" : "");
		ui_text(r, name);
		http_reply_printf(r, "\"><td class=\"name\"><a href=\"/ui/job?"
		    "job=");
		ui_url(r, name);
		http_reply_printf(r, "\">");
		ui_text(r, name);
		http_reply_printf(r, "</a></td><td>");
		ui_text(r, ui_str(job, "schedule", "-"));
		http_reply_printf(r, "</td><td>");
		ui_text(r, ui_str(job, "next_fire_local", ui_str(job,
		    "next_fire", "-")));
		http_reply_printf(r, "</td><td class=\"runs\">");
		if (ui_home_flag(job, "broken")) {
			err1 = ui_str(job, "error", NULL);
			if (err1 == NULL && json_is_string(json_object_get(job,
			    "broken")))
				err1 = ui_str(job, "broken", NULL);
			if (err1 == NULL)
				err1 = json_string_value(json_array_get(
				    json_object_get(job, "errors"), 0));
			http_reply_printf(r, "<span class=\"error broken\">"
			    "broken: ");
			ui_text(r, err1 != NULL ? err1 : "refused");
			http_reply_printf(r, "</span>");
		} else
			ui_home_squares(ctx, r, name, json_object_get(job,
			    "last_runs"));
		http_reply_printf(r, "</td></tr>");
	}
	if (dom != NULL)
		http_reply_printf(r, "</tbody></table></section>");
	/* The jobs question pages by name: more jobs after these. */
	if (ui_str(doc, "next_cursor", NULL) != NULL) {
		http_reply_printf(r, "<p class=\"pager\"><a class=\"older\" "
		    "href=\"/?cursor=");
		ui_url(r, ui_str(doc, "next_cursor", ""));
		http_reply_printf(r, "\">more jobs</a></p>");
	}
	free(v);
	json_decref(doc);
	ui_foot(r);
	return 0;
}
