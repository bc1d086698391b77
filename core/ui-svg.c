/*
 * ui-svg.c -- graphs drawn as inline SVG: a run's task DAG and a
 * product's lineage, laid out in layers by dependency depth (see
 * ui-int.h).  No script and no external library: the server computes
 * every coordinate.
 */
#include <stdlib.h>
#include <string.h>

#include "ui-int.h"
#include "util.h"

size_t
ui_graph_node(struct ui_graph *g, const char *id, const char *label)
{
	struct ui_node	*n;
	size_t		 i;

	for (i = 0; i < g->n; i++)
		if (strcmp(g->v[i].id, id) == 0)
			return i;
	if (g->n == g->cap) {
		g->cap = g->cap != 0 ? g->cap * 2 : 16;
		g->v = xreallocarray(g->v, g->cap, sizeof *g->v);
	}
	n = &g->v[g->n];
	memset(n, 0, sizeof *n);
	n->id = id;
	n->label = label != NULL ? label : id;
	return g->n++;
}

static int
ui_graph_find(const struct ui_graph *g, const char *id, size_t *at)
{
	size_t	i;

	for (i = 0; i < g->n; i++)
		if (strcmp(g->v[i].id, id) == 0) {
			*at = i;
			return 0;
		}
	return -1;
}

void
ui_graph_edge(struct ui_graph *g, const char *from, const char *to)
{
	size_t	a, b, i;

	if (ui_graph_find(g, from, &a) != 0 || ui_graph_find(g, to, &b) != 0)
		return;
	for (i = 0; i < g->ne; i++)
		if (g->e[i][0] == a && g->e[i][1] == b)
			return;
	if (g->ne == g->ecap) {
		g->ecap = g->ecap != 0 ? g->ecap * 2 : 16;
		g->e = xreallocarray(g->e, g->ecap, sizeof *g->e);
	}
	g->e[g->ne][0] = a;
	g->e[g->ne][1] = b;
	g->ne++;
}

void
ui_graph_free(struct ui_graph *g)
{
	free(g->v);
	free(g->e);
	memset(g, 0, sizeof *g);
}

/* Mean order of a node's predecessors in the previous layers; its own
 * order when it has none, so that sources keep their places. */
static double
ui_layout_bary(const struct ui_graph *g, size_t i)
{
	double	sum = 0;
	size_t	k, n = 0;

	for (k = 0; k < g->ne; k++)
		if (g->e[k][1] == i && g->v[g->e[k][0]].layer <
		    g->v[i].layer) {
			sum += g->v[g->e[k][0]].order;
			n++;
		}
	return n != 0 ? sum / (double)n : g->v[i].order;
}

void
ui_layout(struct ui_graph *g)
{
	size_t	*indeg, *queue, *byl, qh = 0, qt = 0, i, k, j, n;
	double	*key, t;
	int	 l, maxrows = 0;

	g->nlayers = 0;
	g->width = g->height = 0;
	if (g->n == 0)
		return;
	indeg = xcalloc(g->n, sizeof *indeg);
	queue = xcalloc(g->n, sizeof *queue);
	byl = xcalloc(g->n, sizeof *byl);
	key = xcalloc(g->n, sizeof *key);
	/* Longest path by Kahn's order: a node's layer is final once its
	 * last predecessor is placed. */
	for (i = 0; i < g->n; i++)
		g->v[i].layer = 0;
	for (k = 0; k < g->ne; k++)
		indeg[g->e[k][1]]++;
	for (i = 0; i < g->n; i++)
		if (indeg[i] == 0)
			queue[qt++] = i;
	while (qh < qt) {
		i = queue[qh++];
		for (k = 0; k < g->ne; k++) {
			if (g->e[k][0] != i)
				continue;
			j = g->e[k][1];
			if (g->v[j].layer < g->v[i].layer + 1)
				g->v[j].layer = g->v[i].layer + 1;
			if (--indeg[j] == 0)
				queue[qt++] = j;
		}
	}
	/* Nodes never dequeued are on a cycle: layer 0, left as they are. */
	for (i = 0; i < g->n; i++) {
		if (indeg[i] != 0)
			g->v[i].layer = 0;
		if (g->v[i].layer + 1 > g->nlayers)
			g->nlayers = g->v[i].layer + 1;
	}
	/* Order each layer: insertion order first, then by barycentre of
	 * the predecessors, layer by layer from the left (stable insertion
	 * sort, so equal keys keep insertion order). */
	for (l = 0; l < g->nlayers; l++) {
		n = 0;
		for (i = 0; i < g->n; i++)
			if (g->v[i].layer == l)
				byl[n++] = i;
		for (k = 0; k < n; k++)
			g->v[byl[k]].order = (int)k;
		for (k = 0; k < n; k++)
			key[k] = ui_layout_bary(g, byl[k]);
		for (k = 1; k < n; k++)
			for (j = k; j > 0 && key[j - 1] > key[j]; j--) {
				t = key[j - 1];
				key[j - 1] = key[j];
				key[j] = t;
				i = byl[j - 1];
				byl[j - 1] = byl[j];
				byl[j] = i;
			}
		for (k = 0; k < n; k++) {
			g->v[byl[k]].order = (int)k;
			g->v[byl[k]].x = UI_MARGIN + l * (UI_NODE_W + UI_GAP_X);
			g->v[byl[k]].y = UI_MARGIN + (double)k *
			    (UI_NODE_H + UI_GAP_Y);
		}
		if ((int)n > maxrows)
			maxrows = (int)n;
	}
	g->width = 2 * UI_MARGIN + g->nlayers * UI_NODE_W +
	    (g->nlayers - 1) * UI_GAP_X;
	g->height = 2 * UI_MARGIN + maxrows * UI_NODE_H +
	    (maxrows - 1) * UI_GAP_Y;
	free(indeg);
	free(queue);
	free(byl);
	free(key);
}

/* A label cut to what fits in a node (about 22 characters; UTF-8
 * sequences are not cut in the middle); the whole is in <title>. */
static void
ui_svg_label(struct http_reply *r, const char *s)
{
	char	buf[64];
	size_t	n = strlen(s);

	if (n <= 22) {
		ui_text(r, s);
		return;
	}
	n = 20;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	memcpy(buf, s, n);
	memcpy(buf + n, "\xe2\x80\xa6", 4);	/* ellipsis */
	ui_text(r, buf);
}

void
ui_svg(struct http_reply *r, struct ui_graph *g, const char *cls)
{
	const struct ui_node *a, *b;
	char	 sb[48];
	double	 x1, y1, x2, y2;
	size_t	 i, k;

	ui_layout(g);
	http_reply_printf(r, "<svg class=\"graph %s\" xmlns=\"http://www.w3."
	    "org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f "
	    "%.0f\" data-nodes=\"%zu\" data-edges=\"%zu\" data-layers=\"%d\">",
	    cls, g->width, g->height, g->width, g->height, g->n, g->ne,
	    g->nlayers);
	http_reply_printf(r, "<defs><marker id=\"arrow-%s\" viewBox=\"0 0 10 "
	    "10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
	    "orient=\"auto\"><path d=\"M0,0L10,5L0,10z\"/></marker></defs>",
	    cls);
	for (k = 0; k < g->ne; k++) {
		a = &g->v[g->e[k][0]];
		b = &g->v[g->e[k][1]];
		x1 = a->x + UI_NODE_W;
		y1 = a->y + UI_NODE_H / 2.0;
		x2 = b->x;
		y2 = b->y + UI_NODE_H / 2.0;
		http_reply_printf(r, "<path class=\"edge\" data-from=\"");
		ui_text(r, a->id);
		http_reply_printf(r, "\" data-to=\"");
		ui_text(r, b->id);
		/* A back edge (only on a cycle) is drawn as it is. */
		http_reply_printf(r, "\" d=\"M%.1f,%.1f C%.1f,%.1f %.1f,%.1f "
		    "%.1f,%.1f\" marker-end=\"url(#arrow-%s)\"/>", x1, y1,
		    x1 + UI_GAP_X / 2.0, y1, x2 - UI_GAP_X / 2.0, y2, x2, y2,
		    cls);
	}
	for (i = 0; i < g->n; i++) {
		a = &g->v[i];
		http_reply_printf(r, "<g class=\"node %s", a->state != NULL ?
		    ui_state(a->state, sb, sizeof sb) : "state-none");
		if (a->kind != NULL) {
			http_reply_printf(r, " ");
			ui_text(r, a->kind);
		}
		http_reply_printf(r, "\" data-node=\"");
		ui_text(r, a->id);
		http_reply_printf(r, "\" data-layer=\"%d\">", a->layer);
		if (a->href != NULL) {
			http_reply_printf(r, "<a href=\"");
			ui_text(r, a->href);
			http_reply_printf(r, "\">");
		}
		http_reply_printf(r, "<title>");
		ui_text(r, a->label);
		if (a->sub != NULL) {
			http_reply_printf(r, " ");
			ui_text(r, a->sub);
		}
		if (a->state != NULL) {
			http_reply_printf(r, ": ");
			ui_text(r, a->state);
		}
		http_reply_printf(r, "</title><rect x=\"%.1f\" y=\"%.1f\" "
		    "width=\"%d\" height=\"%d\" rx=\"5\"/><text x=\"%.1f\" "
		    "y=\"%.1f\">", a->x, a->y, UI_NODE_W, UI_NODE_H,
		    a->x + UI_NODE_W / 2.0, a->y + (a->sub != NULL ? 17.0 :
		    UI_NODE_H / 2.0 + 4));
		ui_svg_label(r, a->label);
		http_reply_printf(r, "</text>");
		if (a->sub != NULL) {
			http_reply_printf(r, "<text class=\"sub\" x=\"%.1f\" "
			    "y=\"%.1f\">", a->x + UI_NODE_W / 2.0, a->y + 32.0);
			ui_svg_label(r, a->sub);
			http_reply_printf(r, "</text>");
		}
		http_reply_printf(r, "%s</g>", a->href != NULL ? "</a>" : "");
	}
	http_reply_printf(r, "</svg>");
}
