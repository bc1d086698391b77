/*
 * ui-catalog.c -- the data side: the catalog (products by domain, with
 * owner, freshness, contract and the quarantined partitions with their
 * failed checks), a product's page (its partitions, the failed checks of
 * its quarantined ones and its lineage up and down as SVG) and the
 * backfills with live progress.  Built from the catalog, product,
 * checks, lineage and backfills questions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui-int.h"
#include "util.h"

/* How many quarantined partitions of a product page get their checks
 * asked for: the page stays O(page). */
#define UI_CHECKS_MAX	20

static void
ui_cat_productlink(struct http_reply *r, const char *p)
{
	http_reply_printf(r, "<a class=\"product\" href=\"/ui/product?"
	    "product=");
	ui_url(r, p);
	http_reply_printf(r, "\">");
	ui_text(r, p);
	http_reply_printf(r, "</a>");
}

static int
ui_cat_cmp(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int	c;

	c = strcmp(ui_str(x, "domain", ""), ui_str(y, "domain", ""));
	return c != 0 ? c : strcmp(ui_str(x, "product", ""),
	    ui_str(y, "product", ""));
}

static int
ui_missing(struct http_reply *r, const char *title, const char *q)
{
	ui_head(r, title, NULL);
	http_reply_printf(r, "<p class=\"none\">this build has no %s "
	    "question</p>", q);
	ui_foot(r);
	return 0;
}

/* A partition's failed checks: a list of {check, observed, expected},
 * or a sentence. */
static void
ui_cat_failed(struct http_reply *r, json_t *fc)
{
	json_t	*c;
	size_t	 i;

	if (json_is_string(fc)) {
		http_reply_printf(r, "<span class=\"failed-checks\">");
		ui_text(r, json_string_value(fc));
		http_reply_printf(r, "</span>");
		return;
	}
	if (json_array_size(fc) == 0) {
		http_reply_printf(r, "<span class=\"none\">no failed check "
		    "recorded</span>");
		return;
	}
	http_reply_printf(r, "<ul class=\"checks\">");
	json_array_foreach(fc, i, c) {
		http_reply_printf(r, "<li class=\"failed-check\" "
		    "data-check=\"");
		ui_text(r, ui_str(c, "check", ui_str(c, "name", "")));
		http_reply_printf(r, "\"><b>");
		ui_text(r, ui_str(c, "check", ui_str(c, "name", "")));
		http_reply_printf(r, "</b>");
		if (json_is_string(json_object_get(c, "severity"))) {
			http_reply_printf(r, " (");
			ui_text(r, ui_str(c, "severity", ""));
			http_reply_printf(r, ")");
		}
		http_reply_printf(r, ": observed ");
		ui_scalar(r, json_object_get(c, "observed"));
		http_reply_printf(r, ", expected ");
		ui_scalar(r, json_object_get(c, "expected") != NULL ?
		    json_object_get(c, "expected") : json_object_get(c,
		    "expectation"));
		http_reply_printf(r, "</li>");
	}
	http_reply_printf(r, "</ul>");
}

int
ui_catalog(struct read_ctx *ctx, const struct read_args *q,
    struct http_reply *r)
{
	static const char *const counts[] = { "published", "quarantined",
	    "building", "missing", "stale" };
	struct read_error err;
	json_t		*doc, *list, **v, *p, *qp, *c, *cnt, *all;
	const char	*dom = NULL;
	size_t		 i, k, n;

	(void)q;
	if (read_find("catalog") == NULL)
		return ui_missing(r, "catalog", "catalog");
	if ((doc = ui_ask(ctx, &err, "catalog", (char *)NULL)) == NULL)
		return ui_fail(r, "catalog", &err);
	list = ui_list(doc, "products");
	n = json_array_size(list);
	v = xcalloc(n + 1, sizeof *v);
	for (i = 0; i < n; i++)
		v[i] = json_array_get(list, i);
	qsort(v, n, sizeof *v, ui_cat_cmp);
	ui_head(r, "catalog", "catalog");
	if (n == 0)
		http_reply_printf(r, "<p class=\"none\">no products yet: run "
		    "a job first</p>");
	for (i = 0; i < n; i++) {
		p = v[i];
		if (dom == NULL || strcmp(dom, ui_str(p, "domain", "")) != 0) {
			if (dom != NULL)
				http_reply_printf(r, "</tbody></table>"
				    "</section>");
			dom = ui_str(p, "domain", "");
			http_reply_printf(r, "<section class=\"domain\" "
			    "data-domain=\"");
			ui_text(r, dom);
			http_reply_printf(r, "\"><h2>");
			ui_text(r, *dom != '\0' ? dom : "(no domain)");
			http_reply_printf(r, "</h2><table class=\"products\">"
			    "<thead><tr><th>product</th><th>owner</th>"
			    "<th>freshness</th><th>contract</th>"
			    "<th>partitions</th><th>last published</th></tr>"
			    "</thead><tbody>");
		}
		http_reply_printf(r, "<tr class=\"product\" data-product=\"");
		ui_text(r, ui_str(p, "product", ""));
		http_reply_printf(r, "\"><td>");
		ui_cat_productlink(r, ui_str(p, "product", ""));
		http_reply_printf(r, "</td><td>");
		ui_text(r, ui_str(p, "owner", "-"));
		http_reply_printf(r, "</td><td>");
		if ((c = json_object_get(p, "freshness_s")) == NULL)
			c = json_object_get(p, "freshness_seconds");
		if (json_is_integer(c) && json_integer_value(c) > 0)
			http_reply_printf(r, "%llds ", (long long)
			    json_integer_value(c));
		if (json_is_string(json_object_get(p, "freshness"))) {
			http_reply_printf(r, "<span class=\"freshness%s\">",
			    json_is_true(json_object_get(p, "late")) ?
			    " late" : "");
			ui_text(r, ui_str(p, "freshness", ""));
			http_reply_printf(r, "</span>");
		}
		http_reply_printf(r, "</td><td>");
		ui_text(r, ui_str(p, "contract_version", ui_str(p, "contract",
		    "-")));
		http_reply_printf(r, "</td><td>");
		/* The counts by state, in an object or beside the rest. */
		if ((cnt = json_object_get(p, "counts")) == NULL)
			cnt = p;
		for (k = 0; k < nitems(counts); k++)
			if (json_integer_value(json_object_get(cnt,
			    counts[k])) > 0) {
				char	sb[48];

				http_reply_printf(r, "<span class=\"badge %s\">"
				    "%lld %s</span> ", ui_state(counts[k], sb,
				    sizeof sb), (long long)json_integer_value(
				    json_object_get(cnt, counts[k])),
				    counts[k]);
			}
		http_reply_printf(r, "</td><td>");
		ui_text(r, ui_str(p, "last_published_local", ui_str(p,
		    "last_published_partition", ui_str(p, "last_published",
		    "-"))));
		http_reply_printf(r, "</td></tr>");
	}
	if (dom != NULL)
		http_reply_printf(r, "</tbody></table></section>");
	http_reply_printf(r, "<h2>quarantined partitions</h2><ul "
	    "class=\"quarantined\">");
	/* Each product's quarantined partitions, or one list of all. */
	all = json_array();
	json_array_foreach(ui_list(doc, "quarantined"), i, qp)
		json_array_append(all, qp);
	for (i = 0; i < n; i++)
		json_array_foreach(ui_list(v[i], "quarantined_partitions"), k,
		    qp) {
			qp = json_deep_copy(qp);
			json_object_set_new(qp, "product", json_string(
			    ui_str(v[i], "product", "")));
			json_array_append_new(all, qp);
		}
	json_array_foreach(all, i, qp) {
		http_reply_printf(r, "<li class=\"quarantined\" "
		    "data-product=\"");
		ui_text(r, ui_str(qp, "product", ""));
		http_reply_printf(r, "\" data-partition=\"");
		ui_text(r, ui_str(qp, "partition", ""));
		http_reply_printf(r, "\">");
		ui_cat_productlink(r, ui_str(qp, "product", ""));
		http_reply_printf(r, " <b>");
		ui_text(r, ui_str(qp, "partition", ""));
		http_reply_printf(r, "</b>%s: ", json_is_true(
		    json_object_get(qp, "rerun")) ? " (rerun quarantined; the "
		    "published version stays current)" : "");
		ui_cat_failed(r, json_object_get(qp, "failed_checks"));
		http_reply_printf(r, "</li>");
	}
	if (json_array_size(all) == 0)
		http_reply_printf(r, "<li class=\"none\">none</li>");
	http_reply_printf(r, "</ul>");
	json_decref(all);
	free(v);
	json_decref(doc);
	ui_foot(r);
	return 0;
}

/* The failed checks of one quarantined partition, from the checks
 * question (for a product document without them). */
static void
ui_cat_checks(struct read_ctx *ctx, struct http_reply *r, const char *prod,
    const char *part)
{
	struct read_error err;
	json_t		*doc, *c, *pass, *failed;
	size_t		 i;

	if (read_find("checks") == NULL)
		return;
	if ((doc = ui_ask(ctx, &err, "checks", "product", prod, "partition",
	    part, (char *)NULL)) == NULL) {
		http_reply_printf(r, "<span class=\"error\">");
		ui_text(r, err.message);
		http_reply_printf(r, "</span>");
		return;
	}
	failed = json_array();
	json_array_foreach(ui_list(doc, "checks"), i, c) {
		pass = json_object_get(c, "passed");
		if (!json_is_true(pass) && !(json_is_integer(pass) &&
		    json_integer_value(pass) != 0))
			json_array_append(failed, c);
	}
	ui_cat_failed(r, failed);
	json_decref(failed);
	json_decref(doc);
}

/*
 * Add a lineage document ({nodes: [{id, product, partition, state}],
 * edges: [{from, to}]}, edges from an input to what was built from it)
 * to the graph.  A node is "PRODUCT PARTITION"; the strings the graph
 * borrows are kept in `keep`.
 */
static void
ui_cat_graph(struct ui_graph *g, json_t *keep, json_t *doc,
    const char *prod, const char *part)
{
	json_t		*n, *e, *ids = json_object(), *s;
	const char	*a, *b;
	char		*t, key[32];
	size_t		 i, at;

	json_array_foreach(ui_list(doc, "nodes"), i, n) {
		t = xasprintf("%s %s", ui_str(n, "product", ""),
		    ui_str(n, "partition", ""));
		json_array_append_new(keep, s = json_string(t));
		free(t);
		snprintf(key, sizeof key, "%lld", (long long)
		    json_integer_value(json_object_get(n, "id")));
		json_object_set(ids, key, s);
		at = ui_graph_node(g, json_string_value(s), NULL);
		if (g->v[at].href != NULL)
			continue;
		/* The document goes before the drawing: keep what the node
		 * shows. */
		json_array_append(keep, json_object_get(n, "product"));
		json_array_append(keep, json_object_get(n, "partition"));
		json_array_append(keep, json_object_get(n, "state"));
		g->v[at].label = ui_str(n, "product", "");
		g->v[at].sub = ui_str(n, "partition", "");
		t = xasprintf("/ui/product?product=%s", ui_str(n, "product",
		    ""));
		json_array_append_new(keep, s = json_string(t));
		free(t);
		/* Escaped when drawn, like every attribute. */
		g->v[at].href = json_string_value(s);
		g->v[at].state = json_string_value(json_object_get(n, "state"));
		g->v[at].kind = strcmp(ui_str(n, "product", ""), prod) == 0 &&
		    strcmp(ui_str(n, "partition", ""), part) == 0 ?
		    "product focus" : "product";
	}
	json_array_foreach(ui_list(doc, "edges"), i, e) {
		snprintf(key, sizeof key, "%lld", (long long)
		    json_integer_value(json_object_get(e, "from")));
		a = json_string_value(json_object_get(ids, key));
		snprintf(key, sizeof key, "%lld", (long long)
		    json_integer_value(json_object_get(e, "to")));
		b = json_string_value(json_object_get(ids, key));
		if (a != NULL && b != NULL)
			ui_graph_edge(g, a, b);
	}
	json_decref(ids);
}

/* The lineage of one partition, up to its sources and down to what was
 * built from it, as one graph. */
static void
ui_cat_lineage(struct read_ctx *ctx, struct http_reply *r, const char *prod,
    const char *part)
{
	static const char *const dirs[] = { "upstream", "downstream" };
	struct read_error err;
	struct ui_graph	 g = { 0 };
	json_t		*doc, *keep;
	size_t		 i;

	http_reply_printf(r, "<h2>lineage of ");
	ui_text(r, part);
	http_reply_printf(r, ", up and down</h2>");
	if (read_find("lineage") == NULL) {
		http_reply_printf(r, "<p class=\"none\">this build has no "
		    "lineage question</p>");
		return;
	}
	keep = json_array();
	for (i = 0; i < nitems(dirs); i++) {
		if ((doc = ui_ask(ctx, &err, "lineage", "product", prod,
		    "partition", part, "direction", dirs[i],
		    (char *)NULL)) == NULL) {
			http_reply_printf(r, "<p class=\"error\">");
			ui_text(r, err.message);
			http_reply_printf(r, "</p>");
			continue;
		}
		ui_cat_graph(&g, keep, doc, prod, part);
		if (json_is_true(json_object_get(doc, "truncated")))
			http_reply_printf(r, "<p class=\"muted\">%s: truncated"
			    "</p>", dirs[i]);
		json_decref(doc);
	}
	ui_svg(r, &g, "lineage");
	ui_graph_free(&g);
	json_decref(keep);
}

int
ui_product(struct read_ctx *ctx, const struct read_args *q,
    struct http_reply *r)
{
	struct read_error err;
	const char	*prod = read_arg(q, "product");
	const char	*part = read_arg(q, "partition");
	const char	*cursor = read_arg(q, "cursor");
	const char	*st, *key;
	json_t		*doc, *card, *pp;
	char		 sb[48];
	size_t		 i;
	int		 nq = 0;

	if (prod == NULL) {
		err.status = 400;
		snprintf(err.message, sizeof err.message, "which product? "
		    "(/ui/product?product=NAME)");
		return ui_fail(r, "product", &err);
	}
	if (read_find("product") == NULL)
		return ui_missing(r, prod, "product");
	if ((doc = ui_ask(ctx, &err, "product", "product", prod, "cursor",
	    cursor, (char *)NULL)) == NULL)
		return ui_fail(r, prod, &err);
	ui_head(r, prod, "catalog");
	card = json_deep_copy(doc);
	json_object_del(card, "partitions");
	json_object_del(card, "next_cursor");
	json_object_del(card, "checks");
	json_object_del(card, "checks_more");
	json_object_del(card, "checks_partition");
	ui_json(r, card, 0);
	json_decref(card);
	http_reply_printf(r, "<h2>partitions</h2><table class=\"partitions\">"
	    "<thead><tr><th>partition</th><th>state</th><th>version</th>"
	    "<th>rows</th><th>failed checks</th></tr></thead><tbody>");
	json_array_foreach(ui_list(doc, "partitions"), i, pp) {
		key = ui_str(pp, "partition", "");
		st = ui_str(pp, "state", "");
		if (part == NULL && strcmp(st, "published") == 0)
			part = ui_str(doc, "last_published_partition", key);
		/* A published partition whose rerun was quarantined. */
		if (strcmp(ui_str(json_object_get(pp, "rerun"), "state", ""),
		    "quarantined") == 0)
			st = "quarantined";
		http_reply_printf(r, "<tr class=\"partition %s\" "
		    "data-partition=\"", ui_state(st, sb, sizeof sb));
		ui_text(r, key);
		http_reply_printf(r, "\"><td>");
		ui_text(r, key);
		http_reply_printf(r, "</td><td><span class=\"badge %s\">",
		    ui_state(st, sb, sizeof sb));
		ui_text(r, st);
		http_reply_printf(r, "</span></td><td>");
		ui_scalar(r, json_object_get(pp, "version"));
		http_reply_printf(r, "</td><td>");
		ui_scalar(r, json_object_get(pp, "rows"));
		http_reply_printf(r, "</td><td>");
		if (json_is_array(json_object_get(pp, "failed_checks"))) {
			if (json_array_size(json_object_get(pp,
			    "failed_checks")) > 0)
				ui_cat_failed(r, json_object_get(pp,
				    "failed_checks"));
		} else if (strcmp(st, "quarantined") == 0 &&
		    nq++ < UI_CHECKS_MAX)
			ui_cat_checks(ctx, r, prod, key);
		http_reply_printf(r, "</td></tr>");
	}
	http_reply_printf(r, "</tbody></table>");
	if (ui_str(doc, "next_cursor", NULL) != NULL) {
		http_reply_printf(r, "<p class=\"pager\"><a class=\"older\" "
		    "href=\"/ui/product?product=");
		ui_url(r, prod);
		http_reply_printf(r, "&amp;cursor=");
		ui_url(r, ui_str(doc, "next_cursor", ""));
		http_reply_printf(r, "\">older</a></p>");
	}
	if (part != NULL)
		ui_cat_lineage(ctx, r, prod, part);
	json_decref(doc);
	ui_foot(r);
	return 0;
}

int
ui_backfills(struct read_ctx *ctx, const struct read_args *q,
    struct http_reply *r)
{
	struct read_error err;
	json_t		*doc, *b;
	const char	*st;
	char		 sb[48], id[32];
	size_t		 i;
	int		 live = 0;
	double		 tot, w[4];

	(void)q;
	if (read_find("backfills") == NULL)
		return ui_missing(r, "backfills", "backfills");
	if ((doc = ui_ask(ctx, &err, "backfills", (char *)NULL)) == NULL)
		return ui_fail(r, "backfills", &err);
	json_array_foreach(ui_list(doc, "backfills"), i, b) {
		st = ui_str(b, "state", "");
		if (strcmp(st, "running") == 0 || strcmp(st, "pending") == 0 ||
		    strcmp(st, "cancelling") == 0)
			live = 1;
	}
	ui_head(r, "backfills", "backfills");
	/* Live while anything runs: app.js reloads the page. */
	if (live)
		http_reply_printf(r, "<p class=\"muted\" data-refresh=\"3\">"
		    "refreshing every 3 s while a backfill runs</p>");
	http_reply_printf(r, "<table class=\"backfills\"><thead><tr><th>id"
	    "</th><th>job</th><th>partitions</th><th>state</th><th>progress"
	    "</th><th></th></tr></thead><tbody>");
	json_array_foreach(ui_list(doc, "backfills"), i, b) {
		st = ui_str(b, "state", "");
		tot = (double)json_integer_value(json_object_get(b, "total"));
		w[0] = (double)json_integer_value(json_object_get(b,
		    "success"));
		w[1] = (double)json_integer_value(json_object_get(b,
		    "failed"));
		w[2] = (double)(json_integer_value(json_object_get(b,
		    "skipped")) + json_integer_value(json_object_get(b,
		    "cancelled")));
		w[3] = (double)json_integer_value(json_object_get(b,
		    "running"));
		snprintf(id, sizeof id, "%lld", (long long)json_integer_value(
		    json_object_get(b, "id")));
		http_reply_printf(r, "<tr class=\"backfill\" "
		    "data-backfill=\"%s\" data-done=\"%lld\" "
		    "data-total=\"%.0f\"><td>%s</td><td>",
		    id, (long long)json_integer_value(json_object_get(b,
		    "done")), tot, id);
		http_reply_printf(r, "<a href=\"/ui/job?job=");
		ui_url(r, ui_str(b, "job", ""));
		http_reply_printf(r, "\">");
		ui_text(r, ui_str(b, "job", ""));
		http_reply_printf(r, "</a></td><td>");
		ui_text(r, ui_str(b, "from", ""));
		http_reply_printf(r, " &ndash; ");
		ui_text(r, ui_str(b, "to", ""));
		http_reply_printf(r, "</td><td><span class=\"badge %s\">",
		    ui_state(st, sb, sizeof sb));
		ui_text(r, st);
		http_reply_printf(r, "</span></td><td><span class=\"bar\">");
		if (tot > 0)
			http_reply_printf(r, "<span class=\"ok\" "
			    "style=\"width:%.1f%%\"></span><span class=\"bad\" "
			    "style=\"width:%.1f%%\"></span>"
			    "<span class=\"skip\" "
			    "style=\"width:%.1f%%\"></span><span class=\"run\" "
			    "style=\"width:%.1f%%\"></span>", 100 * w[0] / tot,
			    100 * w[1] / tot, 100 * w[2] / tot,
			    100 * w[3] / tot);
		http_reply_printf(r, "</span> %lld/%.0f</td><td>",
		    (long long)json_integer_value(json_object_get(b, "done")),
		    tot);
		if (strcmp(st, "running") == 0 || strcmp(st, "pending") == 0)
			ui_action(r, "backfill_cancel", "cancel", NULL, "id",
			    id, (char *)NULL);
		http_reply_printf(r, "</td></tr>");
	}
	http_reply_printf(r, "</tbody></table>");
	json_decref(doc);
	ui_foot(r);
	return 0;
}
