/*
 * ui-job.c -- a job's page: the grid of its runs (columns, newest first)
 * by its tasks (rows), each cell coloured by the task's state, paged back
 * through history with the grid question's cursor; and the job's
 * actions.  One page of runs and their task instances only: O(page).
 */
#include <stdio.h>
#include <string.h>

#include "ui-int.h"

static void
ui_job_runlink(struct http_reply *r, const char *job, const char *part)
{
	http_reply_printf(r, "/ui/run?job=");
	ui_url(r, job);
	http_reply_printf(r, "&amp;partition=");
	ui_url(r, part);
}

/* The task instance of `task` in a run of the grid, or NULL. */
static json_t *
ui_job_instance(json_t *run, const char *task)
{
	json_t	*t;
	size_t	 i;

	json_array_foreach(json_object_get(run, "tasks"), i, t)
		if (strcmp(ui_str(t, "task", ""), task) == 0)
			return t;
	return NULL;
}

static void
ui_job_grid(struct http_reply *r, const char *job, json_t *doc)
{
	json_t		*runs = json_object_get(doc, "runs"), *run, *task, *ti;
	const char	*tid, *st;
	char		 sb[48];
	size_t		 i, j;

	if (json_array_size(runs) == 0) {
		http_reply_printf(r, "<p class=\"none\">no runs yet</p>");
		return;
	}
	http_reply_printf(r, "<table class=\"grid\" data-runs=\"%zu\" "
	    "data-tasks=\"%zu\"><thead><tr><th>partition</th>",
	    json_array_size(runs), json_array_size(json_object_get(doc,
	    "tasks")));
	json_array_foreach(runs, j, run) {
		http_reply_printf(r, "<th class=\"run\" data-partition=\"");
		ui_text(r, ui_str(run, "partition", ""));
		http_reply_printf(r, "\"><a href=\"");
		ui_job_runlink(r, job, ui_str(run, "partition", ""));
		http_reply_printf(r, "\">");
		ui_text(r, ui_str(run, "partition", ""));
		http_reply_printf(r, "</a></th>");
	}
	http_reply_printf(r, "</tr><tr class=\"runstate\"><th>run</th>");
	json_array_foreach(runs, j, run) {
		st = ui_str(run, "state", "");
		http_reply_printf(r, "<td class=\"cell runcell %s\" "
		    "data-run=\"%lld\" data-partition=\"", ui_state(st, sb,
		    sizeof sb), (long long)json_integer_value(
		    json_object_get(run, "run_id")));
		ui_text(r, ui_str(run, "partition", ""));
		http_reply_printf(r, "\" title=\"run ");
		ui_text(r, st);
		http_reply_printf(r, "\"><a href=\"");
		ui_job_runlink(r, job, ui_str(run, "partition", ""));
		http_reply_printf(r, "\"></a></td>");
	}
	http_reply_printf(r, "</tr></thead><tbody>");
	json_array_foreach(json_object_get(doc, "tasks"), i, task) {
		tid = ui_str(task, "task", "");
		http_reply_printf(r, "<tr data-task=\"");
		ui_text(r, tid);
		http_reply_printf(r, "\"><th class=\"task\">");
		ui_text(r, tid);
		http_reply_printf(r, "</th>");
		json_array_foreach(runs, j, run) {
			ti = ui_job_instance(run, tid);
			st = ti != NULL ? ui_str(ti, "state", "") : "none";
			http_reply_printf(r, "<td class=\"cell %s\" "
			    "data-task=\"", ti != NULL ? ui_state(st, sb,
			    sizeof sb) : "state-none");
			ui_text(r, tid);
			http_reply_printf(r, "\" data-partition=\"");
			ui_text(r, ui_str(run, "partition", ""));
			http_reply_printf(r, "\" title=\"");
			ui_text(r, tid);
			http_reply_printf(r, " ");
			ui_text(r, ui_str(run, "partition", ""));
			http_reply_printf(r, ": ");
			ui_text(r, st);
			if (ti != NULL && json_integer_value(json_object_get(ti,
			    "tries")) > 1)
				http_reply_printf(r, " (%lld tries)",
				    (long long)json_integer_value(
				    json_object_get(ti, "tries")));
			if (ti != NULL && ui_str(ti, "reason", NULL) != NULL) {
				http_reply_printf(r, " - ");
				ui_text(r, ui_str(ti, "reason", NULL));
			}
			http_reply_printf(r, "\"><a href=\"");
			ui_job_runlink(r, job, ui_str(run, "partition", ""));
			http_reply_printf(r, "\"></a></td>");
		}
		http_reply_printf(r, "</tr>");
	}
	http_reply_printf(r, "</tbody></table>");
}

/* What the colours mean. */
static void
ui_job_legend(struct http_reply *r)
{
	static const char *const states[] = { "success", "running",
	    "queued", "up_for_retry", "failed", "upstream_failed",
	    "skipped", "cancelled" };
	size_t	i;

	http_reply_printf(r, "<p class=\"legend\">");
	for (i = 0; i < sizeof states / sizeof states[0]; i++)
		http_reply_printf(r, "<span class=\"sq state-%s\"></span>%s ",
		    states[i], states[i]);
	http_reply_printf(r, "</p>");
}

/* The job's actions: forms the script posts to /api/v1/ACTION. */
static void
ui_job_actions(struct http_reply *r, const char *job)
{
	http_reply_printf(r, "<div class=\"actions\">");
	ui_action(r, "trigger", "trigger", "<input name=\"partition\" "
	    "placeholder=\"partition (default: latest)\">", "job", job,
	    (char *)NULL);
	ui_action(r, "clear", "clear", "<input name=\"partition\" "
	    "placeholder=\"partition\" required><label><input type=\"checkbox\""
	    " name=\"failed_only\" value=\"1\">failed only</label>", "job",
	    job, (char *)NULL);
	ui_action(r, "cancel", "cancel", "<input name=\"partition\" "
	    "placeholder=\"partition\" required>", "job", job, (char *)NULL);
	ui_action(r, "backfill", "backfill", "<input name=\"from\" "
	    "placeholder=\"from\" required><input name=\"to\" "
	    "placeholder=\"to\" required>", "job", job, "yes", "1",
	    (char *)NULL);
	ui_action(r, "pause", "pause", NULL, "job", job, (char *)NULL);
	ui_action(r, "unpause", "unpause", NULL, "job", job, (char *)NULL);
	http_reply_printf(r, "</div>");
}

int
ui_job(struct read_ctx *ctx, const struct read_args *q,
    struct http_reply *r)
{
	struct read_error err;
	const char	*job = read_arg(q, "job");
	const char	*cursor = read_arg(q, "cursor");
	const char	*limit = read_arg(q, "limit");
	const char	*next;
	json_t		*doc;
	char		 lim[16];

	if (job == NULL) {
		err.status = 400;
		snprintf(err.message, sizeof err.message, "which job? "
		    "(/ui/job?job=NAME)");
		return ui_fail(r, "job", &err);
	}
	snprintf(lim, sizeof lim, "%d", UI_GRID_RUNS);
	if ((doc = ui_ask(ctx, &err, "grid", "job", job, "limit",
	    limit != NULL ? limit : lim, "cursor", cursor,
	    (char *)NULL)) == NULL)
		return ui_fail(r, job, &err);
	ui_head(r, job, NULL);
	http_reply_printf(r, "<p class=\"muted\">runs (columns, newest "
	    "first) by task (rows); a cell links to its run</p>");
	ui_job_actions(r, job);
	ui_job_grid(r, job, doc);
	ui_job_legend(r);
	http_reply_printf(r, "<p class=\"pager\">");
	if (cursor != NULL) {
		http_reply_printf(r, "<a class=\"newest\" href=\"/ui/job?job=");
		ui_url(r, job);
		http_reply_printf(r, "\">newest</a>");
	}
	if ((next = ui_str(doc, "next_cursor", NULL)) != NULL) {
		http_reply_printf(r, "<a class=\"older\" href=\"/ui/job?job=");
		ui_url(r, job);
		if (limit != NULL) {
			http_reply_printf(r, "&amp;limit=");
			ui_url(r, limit);
		}
		http_reply_printf(r, "&amp;cursor=");
		ui_url(r, next);
		http_reply_printf(r, "\">older</a>");
	}
	http_reply_printf(r, "</p>");
	json_decref(doc);
	ui_foot(r);
	return 0;
}
