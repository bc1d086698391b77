/*
 * check_ui.c -- unit tests for the web UI's pieces that need no state:
 * HTML escaping and URL encoding, state classes, the layered layout of
 * graphs and their SVG, the generic document renderer, and the routing
 * of ui_page() (assets from memory, nothing else).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "read.h"
#include "ui-int.h"

static struct http_reply R;

static void
setup(void)
{
	http_reply_init(&R);
}

static void
teardown(void)
{
	http_reply_free(&R);
}

/* The body so far, NUL-terminated. */
static const char *
body(void)
{
	http_reply_add(&R, "", 1);
	R.len--;
	return R.body;
}

/* How many times `needle` occurs in the body. */
static int
count(const char *needle)
{
	const char	*p = body();
	int		 n = 0;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

START_TEST(test_text_escapes)
{
	ui_text(&R, "a&b<c>d\"e'f");
	ck_assert_str_eq(body(), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
	http_reply_reset(&R);
	ui_text(&R, NULL);
	ui_text(&R, "");
	ck_assert_uint_eq(R.len, 0);
	/* Hostile markup never survives, UTF-8 passes untouched. */
	ui_text(&R, "<script>alert(1)</script>\xc3\xa9\"><img src=x "
	    "onerror=alert(1)>");
	ck_assert_ptr_null(strchr(body(), '<'));
	ck_assert_ptr_null(strchr(body(), '>'));
	ck_assert_ptr_null(strchr(body(), '"'));
	ck_assert_ptr_nonnull(strstr(body(), "\xc3\xa9"));
	http_reply_reset(&R);
	/* Only the five characters change: a long run copies as it is. */
	{
		char	buf[5000];

		memset(buf, 'x', sizeof buf - 1);
		buf[sizeof buf - 1] = '\0';
		buf[2500] = '&';
		ui_text(&R, buf);
		ck_assert_uint_eq(R.len, sizeof buf - 1 + 4);
	}
}
END_TEST

START_TEST(test_url_encodes)
{
	ui_url(&R, "2001-01-12");
	ck_assert_str_eq(body(), "2001-01-12");
	http_reply_reset(&R);
	ui_url(&R, "a b&c=d#e/f?g\"<>'%\xc3\xa9~._");
	ck_assert_str_eq(body(),
	    "a%20b%26c%3Dd%23e%2Ff%3Fg%22%3C%3E%27%25%C3%A9~._");
}
END_TEST

START_TEST(test_state_class)
{
	char	b[48];

	ck_assert_str_eq(ui_state("success", b, sizeof b), "state-success");
	ck_assert_str_eq(ui_state("upstream_failed", b, sizeof b),
	    "state-upstream_failed");
	ck_assert_str_eq(ui_state("x\" onclick=\"y", b, sizeof b),
	    "state-unknown");
	ck_assert_str_eq(ui_state("Failed", b, sizeof b), "state-unknown");
	ck_assert_str_eq(ui_state("a b", b, sizeof b), "state-unknown");
	ck_assert_str_eq(ui_state("", b, sizeof b), "state-unknown");
	ck_assert_str_eq(ui_state(NULL, b, sizeof b), "state-unknown");
	ck_assert_str_eq(ui_state("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    b, sizeof b), "state-unknown");
}
END_TEST

static struct ui_graph *
mkgraph(const char *nodes, const char *const *edges)
{
	static struct ui_graph	g;
	static char		ids[32][2];
	size_t			i;

	memset(&g, 0, sizeof g);
	for (i = 0; nodes[i] != '\0'; i++) {
		ids[i][0] = nodes[i];
		ids[i][1] = '\0';
		ui_graph_node(&g, ids[i], NULL);
	}
	for (i = 0; edges[i] != NULL; i++) {
		char	a[2] = { edges[i][0], 0 }, b[2] = { edges[i][1], 0 };

		ui_graph_edge(&g, a, b);
	}
	return &g;
}

static int
layer(struct ui_graph *g, char id)
{
	size_t	i;

	for (i = 0; i < g->n; i++)
		if (g->v[i].id[0] == id)
			return g->v[i].layer;
	return -99;
}

/* Every edge points right and no two nodes overlap. */
static void
check_drawable(struct ui_graph *g)
{
	size_t	i, j;

	for (i = 0; i < g->ne; i++)
		ck_assert_int_lt(g->v[g->e[i][0]].layer,
		    g->v[g->e[i][1]].layer);
	for (i = 0; i < g->n; i++) {
		ck_assert(g->v[i].x + UI_NODE_W <= g->width);
		ck_assert(g->v[i].y + UI_NODE_H <= g->height);
		for (j = i + 1; j < g->n; j++)
			ck_assert(g->v[i].x != g->v[j].x ||
			    g->v[i].y + UI_NODE_H <= g->v[j].y ||
			    g->v[j].y + UI_NODE_H <= g->v[i].y);
	}
}

START_TEST(test_layout_layers)
{
	static const char *const chain[] = { "ab", "bc", NULL };
	/* a before d directly and through b, c: d is at depth 3. */
	static const char *const longest[] = { "ad", "ab", "bc", "cd", NULL };
	/* extract -> check -> publish, and a task beside them. */
	static const char *const fan[] = { "ab", "ac", "ad", "be", "ce",
	    "de", "ex", "ex", "zz", "aq", NULL };
	struct ui_graph *g;

	g = mkgraph("abc", chain);
	ui_layout(g);
	ck_assert_int_eq(g->nlayers, 3);
	ck_assert_int_eq(layer(g, 'a'), 0);
	ck_assert_int_eq(layer(g, 'c'), 2);
	check_drawable(g);
	ui_graph_free(g);

	g = mkgraph("dcba", longest);
	ui_layout(g);
	ck_assert_int_eq(layer(g, 'a'), 0);
	ck_assert_int_eq(layer(g, 'b'), 1);
	ck_assert_int_eq(layer(g, 'c'), 2);
	ck_assert_int_eq(layer(g, 'd'), 3);
	check_drawable(g);
	ui_graph_free(g);

	/* Unknown ids and a repeated edge are ignored. */
	g = mkgraph("abcdex", fan);
	ck_assert_uint_eq(g->ne, 7);
	ui_layout(g);
	ck_assert_int_eq(layer(g, 'e'), 2);
	ck_assert_int_eq(layer(g, 'x'), 3);
	ck_assert_int_eq(g->nlayers, 4);
	/* b, c and d share layer 1 in their order, under each other. */
	ck_assert_int_eq(g->v[1].order, 0);
	ck_assert_int_eq(g->v[3].order, 2);
	check_drawable(g);
	ui_graph_free(g);
}
END_TEST

START_TEST(test_layout_cycle_and_empty)
{
	static const char *const cyc[] = { "ab", "bc", "ca", "cd", NULL };
	static const char *const none[] = { NULL };
	struct ui_graph *g;

	/* A cycle (lineage read from a damaged state) terminates. */
	g = mkgraph("abcd", cyc);
	ui_layout(g);
	ck_assert_int_eq(layer(g, 'a'), 0);
	ck_assert_int_eq(layer(g, 'b'), 0);
	ck_assert_int_ge(g->nlayers, 1);
	ui_graph_free(g);

	g = mkgraph("", none);
	ui_layout(g);
	ck_assert_int_eq(g->nlayers, 0);
	ui_svg(&R, g, "dag");
	ck_assert_int_eq(count("<g class=\"node"), 0);
	ui_graph_free(g);
}
END_TEST

START_TEST(test_svg)
{
	struct ui_graph	g = { 0 };
	size_t		i;

	i = ui_graph_node(&g, "extract", NULL);
	g.v[i].state = "success";
	i = ui_graph_node(&g, "<check>", "a label much longer than a node");
	g.v[i].state = "fail\"ed";
	g.v[i].href = "/ui/run?a=1&b=\"2\"";
	ui_graph_node(&g, "publish", NULL);
	ck_assert_uint_eq(ui_graph_node(&g, "publish", NULL), 2);
	ui_graph_edge(&g, "extract", "<check>");
	ui_graph_edge(&g, "<check>", "publish");
	ui_svg(&R, &g, "dag");
	ck_assert_int_eq(count("<g class=\"node "), 3);
	ck_assert_int_eq(count("<path class=\"edge\""), 2);
	ck_assert_int_eq(count("class=\"node state-success\""), 1);
	ck_assert_int_eq(count("class=\"node state-unknown\""), 1);
	ck_assert_int_eq(count("data-node=\"&lt;check&gt;\""), 1);
	ck_assert_int_eq(count("data-from=\"&lt;check&gt;\" "
	    "data-to=\"publish\""), 1);
	ck_assert_int_eq(count("href=\"/ui/run?a=1&amp;b=&quot;2&quot;\""),
	    1);
	ck_assert_int_eq(count("<check>"), 0);
	/* Cut in the node, whole in its title. */
	ck_assert_int_eq(count("<title>a label much longer than a node"), 1);
	ck_assert_int_eq(count(">a label much longer \xe2\x80\xa6</text>"), 1);
	ck_assert_int_eq(count("data-layers=\"3\""), 1);
	ui_graph_free(&g);
}
END_TEST

START_TEST(test_json_render)
{
	json_t	*doc;

	doc = json_pack("{s:[{s:s, s:s, s:I}, {s:s, s:s}], s:s}",
	    "items", "name", "<b>x</b>", "state", "failed", "created_us",
	    (json_int_t)5, "name", "y", "state", "bad\"state",
	    "note", "a & b");
	ui_json(&R, doc, 0);
	ck_assert_int_eq(count("<b>"), 0);
	ck_assert_int_eq(count("&lt;b&gt;x&lt;/b&gt;"), 1);
	ck_assert_int_eq(count("badge state-failed"), 1);
	ck_assert_int_eq(count("badge state-unknown"), 1);
	ck_assert_int_eq(count("a &amp; b"), 1);
	/* Microsecond times are for programs: not shown. */
	ck_assert_int_eq(count("created_us"), 0);
	ck_assert_int_eq(count("<tr>"), 3);
	json_decref(doc);
}
END_TEST

START_TEST(test_routes)
{
	struct read_ctx	 ctx;
	struct read_args q = { 0 };

	memset(&ctx, 0, sizeof ctx);
	ck_assert_int_eq(ui_page(&ctx, "/ui/static/app.css", &q, &R), 0);
	ck_assert_str_eq(R.content_type, "text/css; charset=utf-8");
	ck_assert_uint_eq(R.len, strlen(ui_static_css));
	http_reply_free(&R);
	http_reply_init(&R);
	ck_assert_int_eq(ui_page(&ctx, "/ui/static/app.js", &q, &R), 0);
	ck_assert_str_eq(R.content_type, "text/javascript; charset=utf-8");
	/* Nothing else is the UI's, whatever it looks like. */
	ck_assert_int_eq(ui_page(&ctx, "/ui/static/app.cs", &q, &R), -1);
	ck_assert_int_eq(ui_page(&ctx, "/ui/static/", &q, &R), -1);
	ck_assert_int_eq(ui_page(&ctx, "/etc/passwd", &q, &R), -1);
	ck_assert_int_eq(ui_page(&ctx, "/ui/job/x", &q, &R), -1);
	ck_assert_int_eq(ui_page(&ctx, "/api/v1/runs", &q, &R), -1);
	/* A page without its argument says so, escaped. */
	http_reply_free(&R);
	http_reply_init(&R);
	ck_assert_int_eq(ui_page(&ctx, "/ui/job", &q, &R), 0);
	ck_assert_int_eq(R.status, 400);
	ck_assert_int_eq(count("class=\"error\" data-status=\"400\""), 1);
	http_reply_free(&R);
	http_reply_init(&R);
	ck_assert_int_eq(ui_page(&ctx, "/ui/run", &q, &R), 0);
	ck_assert_int_eq(R.status, 400);
	/* No jobs and no state: a whole page all the same (the jobs
	 * question answers 503 without a state; job files, none). */
	http_reply_free(&R);
	http_reply_init(&R);
	ck_assert_int_eq(ui_page(&ctx, "/", &q, &R), 0);
	ck_assert(R.status == 200 || R.status == 503);
	ck_assert_int_eq(count("<!DOCTYPE html>"), 1);
	ck_assert_int_eq(count("</html>"), 1);
	/* No external asset: every src and href is local. */
	ck_assert_int_eq(count("http://"), 0);
	ck_assert_int_eq(count("https://"), 0);
	ck_assert_int_eq(count("//"), 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("ui");
	TCase	*tc = tcase_create("ui");
	SRunner	*sr;
	int	 nfail;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_text_escapes);
	tcase_add_test(tc, test_url_encodes);
	tcase_add_test(tc, test_state_class);
	tcase_add_test(tc, test_layout_layers);
	tcase_add_test(tc, test_layout_cycle_and_empty);
	tcase_add_test(tc, test_svg);
	tcase_add_test(tc, test_json_render);
	tcase_add_test(tc, test_routes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? 0 : 1;
}
