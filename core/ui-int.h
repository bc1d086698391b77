/*
 * ui-int.h -- what the web UI's files (core/ui*.c) share.  The UI is
 * server-rendered HTML built from read-layer documents only (design
 * decision 9): a page asks questions with ui_ask() and renders the
 * answers; no file here speaks SQL.  Everything that came from the
 * state, a job file or the request goes out through ui_text() (HTML
 * escaped) or ui_url() (percent-encoded).  Elements carry stable classes
 * and data- attributes (class="cell state-success" data-task="extract")
 * for the tests and the stylesheet.
 *
 * Since 0.6.0.
 */
#ifndef MESHD_UI_INT_H
#define MESHD_UI_INT_H

#include <stddef.h>

#include <jansson.h>

#include "http.h"
#include "read.h"

/* How many runs the home page shows per job, and a grid page by default. */
#define UI_HOME_RUNS	14
#define UI_GRID_RUNS	25

/* Append text HTML-escaped (& < > " '); NULL appends nothing. */
void	 ui_text(struct http_reply *, const char *);
/* Append text percent-encoded for a URL query value (RFC 3986
 * unreserved characters pass as they are). */
void	 ui_url(struct http_reply *, const char *);
/*
 * A class name for a state: "state-" and the state itself when it is
 * made of [a-z_] only (every state of the state module is), else
 * "state-unknown", so that nothing from a document can break out of the
 * attribute or inject a class.  Returns a static or borrowed string.
 */
const char *ui_state(const char *state, char *buf, size_t len);

/* The page's head (title escaped) with the navigation; `nav` names the
 * current section ("home", "catalog", "backfills") or is NULL. */
void	 ui_head(struct http_reply *, const char *title, const char *nav);
/* The page's end. */
void	 ui_foot(struct http_reply *);
/* A page for a failed question: its status and message. */
int	 ui_fail(struct http_reply *, const char *title,
	    const struct read_error *);

/*
 * Ask question `name` with NULL-terminated name, value pairs (values
 * NULL are left out).  The answer (a new reference) or NULL with *err;
 * a question this build does not have yet is 404 "no question".
 */
json_t	*ui_ask(struct read_ctx *, struct read_error *, const char *name,
	    ...) __attribute__((sentinel));

/* A string member, or dflt when absent or not a string. */
const char *ui_str(const json_t *, const char *key, const char *dflt);
/* The array of items of a list document: doc[key] if it is an array,
 * doc itself if it is one, else NULL (borrowed). */
json_t	*ui_list(json_t *doc, const char *key);
/* Append a scalar as text (strings escaped, numbers, true/false, "-" for
 * null). */
void	 ui_scalar(struct http_reply *, const json_t *);
/* Render any document: objects as definition lists, arrays of objects
 * as tables, "state" values as state badges.  For the parts of a page
 * whose document has no drawing of its own. */
void	 ui_json(struct http_reply *, const json_t *, int depth);

/*
 * A graph to draw, laid out in layers by dependency depth: a node's
 * layer is the length of the longest path to it from a node with no
 * predecessor, so every edge goes left to right; within a layer nodes
 * keep their order of insertion, then are sorted by the mean position of
 * their predecessors, which keeps edges short without a search.  Nodes
 * in a cycle (which a DAG never has, but lineage read from a state
 * could) are put in layer 0 rather than loop.
 */
struct ui_node {
	const char	*id;		/* borrowed; unique in the graph */
	const char	*label;		/* borrowed; shown, escaped */
	const char	*sub;		/* borrowed; second line or NULL */
	const char	*state;		/* borrowed; colour class or NULL */
	const char	*href;		/* borrowed; link or NULL */
	const char	*kind;		/* borrowed; extra class or NULL */
	int		 layer, order;	/* set by ui_layout() */
	double		 x, y;		/* top left, set by ui_layout() */
};
struct ui_graph {
	struct ui_node	*v;
	size_t		 n, cap;
	size_t		(*e)[2];	/* from, to: node indexes */
	size_t		 ne, ecap;
	int		 nlayers;	/* set by ui_layout() */
	double		 width, height;
};
#define UI_NODE_W	170
#define UI_NODE_H	40
#define UI_GAP_X	70
#define UI_GAP_Y	18
#define UI_MARGIN	10

/* Add a node (its index; an id already there returns that node's). */
size_t	 ui_graph_node(struct ui_graph *, const char *id, const char *label);
/* Add an edge from -> to (by id; ignored if either is unknown or it is
 * there already). */
void	 ui_graph_edge(struct ui_graph *, const char *from, const char *to);
void	 ui_graph_free(struct ui_graph *);
/* Assign layers, orders and coordinates. */
void	 ui_layout(struct ui_graph *);
/* Draw it as inline SVG: <svg class="CLS"> with a <g class="node
 * state-S" data-node="ID"> per node and a <path class="edge"
 * data-from=... data-to=...> per edge.  Calls ui_layout(). */
void	 ui_svg(struct http_reply *, struct ui_graph *, const char *cls);

/* The pages (ui-home.c, ui-job.c, ui-run.c, ui-catalog.c). */
int	 ui_home(struct read_ctx *, const struct read_args *,
	    struct http_reply *);
int	 ui_job(struct read_ctx *, const struct read_args *,
	    struct http_reply *);
int	 ui_run(struct read_ctx *, const struct read_args *,
	    struct http_reply *);
int	 ui_catalog(struct read_ctx *, const struct read_args *,
	    struct http_reply *);
int	 ui_product(struct read_ctx *, const struct read_args *,
	    struct http_reply *);
int	 ui_backfills(struct read_ctx *, const struct read_args *,
	    struct http_reply *);

/* The stylesheet and the script (ui-static.c). */
extern const char ui_static_css[];
extern const char ui_static_js[];

/* An action form posting to /api/v1/ACTION through the script: hidden
 * fields are name, value pairs (NULL-terminated); `fields` is markup for
 * the visible inputs (may be NULL). */
void	 ui_action(struct http_reply *, const char *action,
	    const char *label, const char *fields, ...)
	    __attribute__((sentinel));

#endif
