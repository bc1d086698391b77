/*
 * ui-run.c -- a run's page: its task DAG drawn as SVG with each node in
 * its task's state, then each task with its tries and reason, its
 * attempts and checks (the tasks question) and its log (the logs
 * question), all escaped.  One run: O(tasks x attempts).
 */
#include <stdio.h>
#include <string.h>

#include "ui-int.h"

/* How much of each task's log the page shows. */
#define UI_LOG_LINES	"40"
#define UI_LOG_BYTES	"65536"

/* The log text of a logs document: its "log", "text" or "content"
 * string, or those of each of its attempts, in <pre class="log">. */
static int
ui_run_logtext(struct http_reply *r, json_t *doc)
{
	static const char *const keys[] = { "log", "text", "content" };
	static const char *const lists[] = { "attempts", "logs" };
	json_t		*a;
	size_t		 i, k;
	int		 n = 0;

	for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
		if (json_is_string(json_object_get(doc, keys[k]))) {
			http_reply_printf(r, "<pre class=\"log\">");
			ui_text(r, ui_str(doc, keys[k], ""));
			http_reply_printf(r, "</pre>");
			return 1;
		}
	for (k = 0; k < sizeof lists / sizeof lists[0]; k++)
		json_array_foreach(ui_list(doc, lists[k]), i, a) {
			if (json_object_get(a, "attempt") != NULL) {
				http_reply_printf(r, "<h4>attempt ");
				ui_scalar(r, json_object_get(a, "attempt"));
				http_reply_printf(r, "</h4>");
			}
			n += ui_run_logtext(r, a);
		}
	return n;
}

static void
ui_run_logs(struct read_ctx *ctx, struct http_reply *r, const char *job,
    const char *part, const char *task)
{
	struct read_error err;
	json_t		*doc;

	if (read_find("logs") == NULL)
		return;
	http_reply_printf(r, "<div class=\"logs\" data-task=\"");
	ui_text(r, task);
	http_reply_printf(r, "\"><h4>log</h4>");
	/* The end of the latest attempt's log: a page, not the history. */
	if ((doc = ui_ask(ctx, &err, "logs", "job", job, "partition", part,
	    "task", task, "tail", UI_LOG_LINES, "limit_bytes", UI_LOG_BYTES,
	    (char *)NULL)) == NULL) {
		http_reply_printf(r, "<p class=\"none\">");
		ui_text(r, err.message);
		http_reply_printf(r, "</p>");
	} else {
		if (ui_run_logtext(r, doc) == 0)
			ui_json(r, doc, 0);
		json_decref(doc);
	}
	http_reply_printf(r, "<p class=\"muted\">the last %s lines; the "
	    "whole log: <a href=\"/api/v1/logs?job=", UI_LOG_LINES);
	ui_url(r, job);
	http_reply_printf(r, "&amp;partition=");
	ui_url(r, part);
	http_reply_printf(r, "&amp;task=");
	ui_url(r, task);
	http_reply_printf(r, "\">/api/v1/logs</a> or meshctl logs</p></div>");
}

/* The tasks question's item for `task` (attempts, checks), or NULL. */
static json_t *
ui_run_detail(json_t *tasks, const char *task)
{
	json_t	*t;
	size_t	 i;

	json_array_foreach(ui_list(tasks, "tasks"), i, t)
		if (strcmp(ui_str(t, "task", ""), task) == 0)
			return t;
	return NULL;
}

static void
ui_run_dag(struct http_reply *r, json_t *doc, json_t *run, char hrefs[][80],
    size_t nhrefs)
{
	struct ui_graph	 g = { 0 };
	json_t		*task, *ti, *a;
	size_t		 i, j, k;

	json_array_foreach(json_object_get(doc, "tasks"), i, task) {
		k = ui_graph_node(&g, ui_str(task, "task", ""), NULL);
		g.v[k].state = "none";
		g.v[k].kind = "task";
		json_array_foreach(json_object_get(run, "tasks"), j, ti)
			if (strcmp(ui_str(ti, "task", ""), g.v[k].id) == 0)
				g.v[k].state = ui_str(ti, "state", NULL);
		g.v[k].sub = strcmp(g.v[k].state, "none") != 0 ?
		    g.v[k].state : "not yet";
		if (i < nhrefs) {
			snprintf(hrefs[i], sizeof hrefs[i], "#task-%zu", i);
			g.v[k].href = hrefs[i];
		}
	}
	json_array_foreach(json_object_get(doc, "tasks"), i, task)
		json_array_foreach(json_object_get(task, "after"), j, a)
			ui_graph_edge(&g, json_string_value(a),
			    ui_str(task, "task", ""));
	ui_svg(r, &g, "dag");
	ui_graph_free(&g);
}

int
ui_run(struct read_ctx *ctx, const struct read_args *q,
    struct http_reply *r)
{
	struct read_error err;
	const char	*job = read_arg(q, "job");
	const char	*part = read_arg(q, "partition");
	const char	*tid;
	json_t		*doc, *run, *task, *ti, *tasks = NULL, *d;
	char		 title[256], sb[48], hrefs[64][80];
	size_t		 i, j;
	const char	*rid = read_arg(q, "run");

	if (rid == NULL && (job == NULL || part == NULL)) {
		err.status = 400;
		snprintf(err.message, sizeof err.message, "which run? "
		    "(/ui/run?job=NAME&partition=KEY or /ui/run?run=ID)");
		return ui_fail(r, "run", &err);
	}
	if (rid != NULL) {
		snprintf(title, sizeof title, "run %s", rid);
		doc = ui_ask(ctx, &err, "grid", "run", rid, (char *)NULL);
	} else {
		snprintf(title, sizeof title, "%s %s", job, part);
		doc = ui_ask(ctx, &err, "grid", "job", job, "partition", part,
		    (char *)NULL);
	}
	if (doc == NULL)
		return ui_fail(r, title, &err);
	/* By id: the run says which job and partition it is. */
	job = ui_str(doc, "job", "");
	part = ui_str(json_array_get(json_object_get(doc, "runs"), 0),
	    "partition", "");
	snprintf(title, sizeof title, "%s %s", job, part);
	run = json_array_get(json_object_get(doc, "runs"), 0);
	ui_head(r, title, NULL);
	http_reply_printf(r, "<p class=\"run\" data-run=\"%lld\">run %lld of "
	    "<a href=\"/ui/job?job=", (long long)json_integer_value(
	    json_object_get(run, "run_id")), (long long)json_integer_value(
	    json_object_get(run, "run_id")));
	ui_url(r, job);
	http_reply_printf(r, "\">");
	ui_text(r, job);
	http_reply_printf(r, "</a>, partition ");
	ui_text(r, part);
	http_reply_printf(r, ": <span class=\"badge runstate %s\">",
	    ui_state(ui_str(run, "state", NULL), sb, sizeof sb));
	ui_text(r, ui_str(run, "state", ""));
	http_reply_printf(r, "</span> (");
	ui_text(r, ui_str(run, "trigger", ""));
	http_reply_printf(r, ", created ");
	ui_text(r, ui_str(run, "created_local", ""));
	http_reply_printf(r, ")");
	if (ui_str(run, "waiting_for", NULL) != NULL) {
		http_reply_printf(r, "; <span class=\"waiting\">waiting for ");
		ui_text(r, ui_str(run, "waiting_for", NULL));
		http_reply_printf(r, "</span>");
	}
	http_reply_printf(r, "</p><div class=\"actions\">");
	ui_action(r, "clear", "clear", "<input name=\"task\" "
	    "placeholder=\"task (default: all)\"><label><input "
	    "type=\"checkbox\" name=\"failed_only\" value=\"1\">failed only"
	    "</label>", "job", job, "partition", part, (char *)NULL);
	ui_action(r, "cancel", "cancel", NULL, "job", job, "partition", part,
	    (char *)NULL);
	ui_action(r, "trigger", "rerun", NULL, "job", job, "partition", part,
	    "rerun", "1", (char *)NULL);
	http_reply_printf(r, "</div><h2>tasks</h2>");
	ui_run_dag(r, doc, run, hrefs, sizeof hrefs / sizeof hrefs[0]);

	if (read_find("tasks") != NULL && (tasks = ui_ask(ctx, &err,
	    "tasks", "job", job, "partition", part, "limit", "1000",
	    (char *)NULL)) == NULL) {
		http_reply_printf(r, "<p class=\"error\">");
		ui_text(r, err.message);
		http_reply_printf(r, "</p>");
	}
	json_array_foreach(json_object_get(doc, "tasks"), i, task) {
		tid = ui_str(task, "task", "");
		ti = NULL;
		json_array_foreach(json_object_get(run, "tasks"), j, d)
			if (strcmp(ui_str(d, "task", ""), tid) == 0)
				ti = d;
		http_reply_printf(r, "<section class=\"task\" id=\"task-%zu\" "
		    "data-task=\"", i);
		ui_text(r, tid);
		http_reply_printf(r, "\"><h3>");
		ui_text(r, tid);
		http_reply_printf(r, " <span class=\"badge %s\">",
		    ti != NULL ? ui_state(ui_str(ti, "state", NULL), sb,
		    sizeof sb) : "state-none");
		ui_text(r, ti != NULL ? ui_str(ti, "state", "") : "not yet");
		http_reply_printf(r, "</span></h3>");
		if (ti != NULL) {
			http_reply_printf(r, "<p>tries %lld of %lld",
			    (long long)json_integer_value(json_object_get(ti,
			    "tries")), (long long)json_integer_value(
			    json_object_get(ti, "max_tries")));
			if (ui_str(ti, "reason", NULL) != NULL) {
				http_reply_printf(r, "; <span "
				    "class=\"reason\">");
				ui_text(r, ui_str(ti, "reason", NULL));
				http_reply_printf(r, "</span>");
			}
			http_reply_printf(r, "</p>");
		}
		/* Its attempts and checks, as tables. */
		if (tasks != NULL && (d = ui_run_detail(tasks, tid)) != NULL) {
			if (json_array_size(json_object_get(d,
			    "attempts")) > 0) {
				http_reply_printf(r, "<h4>attempts</h4>"
				    "<div class=\"attempts\">");
				ui_json(r, json_object_get(d, "attempts"), 0);
				http_reply_printf(r, "</div>");
			}
			if (json_array_size(json_object_get(d, "checks")) > 0) {
				http_reply_printf(r, "<h4>checks</h4>"
				    "<div class=\"checks\">");
				ui_json(r, json_object_get(d, "checks"), 0);
				http_reply_printf(r, "</div>");
			}
		}
		/* A task that never started has no log. */
		if (ti != NULL && json_integer_value(json_object_get(ti,
		    "tries")) > 0)
			ui_run_logs(ctx, r, job, part, tid);
		http_reply_printf(r, "</section>");
	}
	json_decref(tasks);
	json_decref(doc);
	ui_foot(r);
	return 0;
}
