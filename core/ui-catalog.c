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

int
ui_catalog(struct read_ctx *ctx, const struct read_args *q,
    struct http_reply *r)
{
	static const char *const counts[] = { "published", "quarantined",
	    "building", "missing", "stale" };
	struct read_error err;
	json_t		*doc, *list, **v, *p, *qp, *c;
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
				http_reply_printf(r, "</tbody></table></section>");
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
		if ((c = json_object_get(p, "freshness_seconds")) == NULL)
			c = json_object_get(p, "freshness");
		if (json_is_integer(c) && json_integer_value(c) > 0)
			http_reply_printf(r, "%llds", (long long)
			    json_integer_value(c));
		else
			ui_scalar(r, c);
		http_reply_printf(r, "</td><td>");
		ui_text(r, ui_str(p, "contract_version", ui_str(p, "contract",
		    "-")));
		http_reply_printf(r, "</td><td>");
		for (k = 0; k < nitems(counts); k++)
			if (json_integer_value(json_object_get(p, counts[k])) >
			    0) {
				char	sb[48];

				http_reply_printf(r, "<span class=\"badge %s\">"
				    "%lld %s</span> ", ui_state(counts[k], sb,
				    sizeof sb), (long long)json_integer_value(
				    json_object_get(p, counts[k])), counts[k]);
			}
		http_reply_printf(r, "</td><td>");
		ui_text(r, ui_str(p, "last_published_local", ui_str(p,
		    "last_published_partition", ui_str(p, "last_published",
		    "-"))));
		http_reply_printf(r, "</td></tr>");
	}
	if (dom != NULL)
		http_reply_printf(r, "</tbody></table></section>");
	free(v);
	http_reply_printf(r, "<h2>quarantined partitions</h2><ul "
	    "class=\"quarantined\">");
	json_array_foreach(ui_list(doc, "quarantined"), i, qp) {
		http_reply_printf(r, "<li class=\"quarantined\" "
		    "data-product=\"");
		ui_text(r, ui_str(qp, "product", ""));
		http_reply_printf(r, "\" data-partition=\"");
		ui_text(r, ui_str(qp, "partition", ""));
		http_reply_printf(r, "\">");
		ui_cat_productlink(r, ui_str(qp, "product", ""));
		http_reply_printf(r, " <b>");
		ui_text(r, ui_str(qp, "partition", ""));
		http_reply_printf(r, "</b>: <span class=\"failed-checks\">");
		c = json_object_get(qp, "failed_checks");
		if (json_is_string(c))
			ui_text(r, json_string_value(c));
		else if (c != NULL)
			ui_json(r, c, 1);
		else
			http_reply_printf(r, "(no failed check recorded)");
		http_reply_printf(r, "</span></li>");
	}
	if (json_array_size(ui_list(doc, "quarantined")) == 0)
		http_reply_printf(r, "<li class=\"none\">none</li>");
	http_reply_printf(r, "</ul>");
	json_decref(doc);
	ui_foot(r);
	return 0;
}

/* The failed checks of one quarantined partition. */
static void
ui_cat_checks(struct read_ctx *ctx, struct http_reply *r, const char *prod,
    const char *part)
{
	struct read_error err;
	json_t		*doc, *c, *pass;
	size_t		 i;
	int		 n = 0;

	if (read_find("checks") == NULL)
		return;
	if ((doc = ui_ask(ctx, &err, "checks", "product", prod, "partition",
	    part, (char *)NULL)) == NULL) {
		http_reply_printf(r, "<span class=\"error\">");
		ui_text(r, err.message);
		http_reply_printf(r, "</span>");
		return;
	}
	http_reply_printf(r, "<ul class=\"checks\">");
	json_array_foreach(ui_list(doc, "checks"), i, c) {
		pass = json_object_get(c, "passed");
		if (json_is_true(pass) || (json_is_integer(pass) &&
		    json_integer_value(pass) != 0) || strcmp(ui_str(c,
		    "state", ""), "passed") == 0)
			continue;
		n++;
		http_reply_printf(r, "<li class=\"failed-check\" "
		    "data-check=\"");
		ui_text(r, ui_str(c, "check", ui_str(c, "name", "")));
		http_reply_printf(r, "\"><b>");
		ui_text(r, ui_str(c, "check", ui_str(c, "name", "")));
		http_reply_printf(r, "</b> ");
		ui_scalar(r, json_object_get(c, "severity"));
		http_reply_printf(r, ": observed ");
		ui_scalar(r, json_object_get(c, "observed"));
		http_reply_printf(r, ", expected ");
		ui_scalar(r, json_object_get(c, "expected") != NULL ?
		    json_object_get(c, "expected") : json_object_get(c,
		    "expectation"));
		http_reply_printf(r, "</li>");
	}
	if (n == 0)
		http_reply_printf(r, "<li class=\"none\">no failed check "
		    "recorded</li>");
	http_reply_printf(r, "</ul>");
	json_decref(doc);
}

/*
 * The lineage document as a graph: every object with a "product" is a
 * node "PRODUCT PARTITION"; its "inputs"/"upstream" lead into it, its
 * "consumers"/"downstream" out of it.  The strings the nodes borrow are
 * kept in `keep`.
 */
static const char *
ui_cat_walk(struct ui_graph *g, json_t *keep, json_t *o, int depth)
{
	static const char *const up[] = { "inputs", "upstream" };
	static const char *const down[] = { "consumers", "downstream" };
	const char	*id = NULL, *cid;
	json_t		*s, *c, *kids;
	size_t		 i, k, n, at;
	char		*t;

	if (depth > 32 || !json_is_object(o))
		return NULL;
	if (ui_str(o, "product", NULL) != NULL) {
		t = xasprintf("%s %s", ui_str(o, "product", ""),
		    ui_str(o, "partition", ""));
		json_array_append_new(keep, s = json_string(t));
		free(t);
		id = json_string_value(s);
		at = ui_graph_node(g, id, NULL);
		if (g->v[at].href == NULL) {
			t = xasprintf("/ui/product?product=%s",
			    ui_str(o, "product", ""));
			json_array_append_new(keep, s = json_string(t));
			free(t);
			/* Escaped when drawn; product names are [a-z0-9._]
			 * in practice, and anything else is still safe
			 * in the attribute, if not a working link. */
			g->v[at].href = json_string_value(s);
			g->v[at].state = ui_str(o, "state", NULL);
			g->v[at].kind = "product";
		}
	}
	/* Children in a list, or one child as an object. */
	for (k = 0; k < 4; k++) {
		kids = json_object_get(o, k < 2 ? up[k] : down[k - 2]);
		n = json_is_array(kids) ? json_array_size(kids) :
		    json_is_object(kids) ? 1 : 0;
		for (i = 0; i < n; i++) {
			c = json_is_array(kids) ? json_array_get(kids, i) :
			    kids;
			if ((cid = ui_cat_walk(g, keep, c, depth + 1)) ==
			    NULL || id == NULL)
				continue;
			if (k < 2)
				ui_graph_edge(g, cid, id);
			else
				ui_graph_edge(g, id, cid);
		}
	}
	return id;
}

static void
ui_cat_lineage(struct read_ctx *ctx, struct http_reply *r, const char *prod,
    const char *part)
{
	struct read_error err;
	struct ui_graph	 g = { 0 };
	json_t		*doc, *keep;

	http_reply_printf(r, "<h2>lineage of ");
	ui_text(r, part);
	http_reply_printf(r, "</h2>");
	if (read_find("lineage") == NULL) {
		http_reply_printf(r, "<p class=\"none\">this build has no "
		    "lineage question</p>");
		return;
	}
	if ((doc = ui_ask(ctx, &err, "lineage", "product", prod, "partition",
	    part, (char *)NULL)) == NULL) {
		http_reply_printf(r, "<p class=\"error\">");
		ui_text(r, err.message);
		http_reply_printf(r, "</p>");
		return;
	}
	keep = json_array();
	ui_cat_walk(&g, keep, doc, 0);
	ui_svg(r, &g, "lineage");
	ui_graph_free(&g);
	json_decref(keep);
	json_decref(doc);
}

int
ui_product(struct read_ctx *ctx, const struct read_args *q,
    struct http_reply *r)
{
	struct read_error err;
	const char	*prod = read_arg(q, "product");
	const char	*part = read_arg(q, "partition");
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
	if ((doc = ui_ask(ctx, &err, "product", "product", prod,
	    (char *)NULL)) == NULL)
		return ui_fail(r, prod, &err);
	ui_head(r, prod, "catalog");
	card = json_deep_copy(doc);
	json_object_del(card, "partitions");
	json_object_del(card, "next_cursor");
	ui_json(r, card, 0);
	json_decref(card);
	http_reply_printf(r, "<h2>partitions</h2><table class=\"partitions\">"
	    "<thead><tr><th>partition</th><th>state</th><th>version</th>"
	    "<th>rows</th><th>failed checks</th></tr></thead><tbody>");
	json_array_foreach(ui_list(doc, "partitions"), i, pp) {
		key = ui_str(pp, "partition", "");
		st = ui_str(pp, "state", "");
		/* A published partition whose rerun was quarantined. */
		if (strcmp(ui_str(json_object_get(pp, "rerun"), "state", ""),
		    "quarantined") == 0)
			st = "quarantined";
		if (part == NULL && strcmp(st, "published") == 0)
			part = key;
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
		if (strcmp(st, "quarantined") == 0 && nq++ < UI_CHECKS_MAX)
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
		http_reply_printf(r, "<tr class=\"backfill\" data-backfill=\"%s\""
		    " data-done=\"%lld\" data-total=\"%.0f\"><td>%s</td><td>",
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
			http_reply_printf(r, "<span class=\"ok\" style=\"width:"
			    "%.1f%%\"></span><span class=\"bad\" style=\"width:"
			    "%.1f%%\"></span><span class=\"skip\" style=\"width:"
			    "%.1f%%\"></span><span class=\"run\" style=\"width:"
			    "%.1f%%\"></span>", 100 * w[0] / tot,
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
