/*
 * cmd-lineage.c -- meshctl lineage: where a product partition came from,
 * or what was built from it.  The read layer's question `lineage`
 * (read-lineage.c) answers with a graph; this file draws it as an
 * indented tree, as Graphviz dot, or prints it with --json.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "read.h"

/* A tree drawn from a graph repeats shared parts; stop a pathological
 * one here rather than print for ever. */
#define LINEAGE_MAX_LINES	10000

static int	cmd_lineage_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_lineage_entry = {
	.name = "lineage",
	.args = "PRODUCT --partition KEY [--upstream | --downstream] "
	    "[--depth N] [--format text|dot] [--json]",
	.summary = "where a product partition came from, or what it fed",
	.help =
	"Upstream (the default): the partition, the run that built it, and\n"
	"every product partition that run read, with the version it read,\n"
	"back to the sources.  Downstream: every partition built by runs that\n"
	"read it, onwards.  A partition read at an older version than the\n"
	"current one says so (it is stale); beyond it, the lineage shown is\n"
	"that of its current version.\n"
	"\n"
	"  -p, --partition KEY  the partition\n"
	"  -u, --upstream       towards the sources (default)\n"
	"  -d, --downstream     towards the consumers\n"
	"      --depth N        at most N steps away (default and at most 64)\n"
	"  -f, --format F       text (default) or dot (Graphviz: meshctl\n"
	"                       lineage P -p K --format dot | dot -Tsvg)\n"
	"      --json           the document of GET /api/v1/lineage?product=P&\n"
	"                       partition=KEY: a graph {nodes, edges}, each\n"
	"                       partition once, each edge with the version read\n"
	"\n"
	"Exit status: 0 shown; 2 unknown product or partition; 3 the state\n"
	"cannot be read.\n",
	.exec = cmd_lineage_exec,
};

struct lineage {
	struct ctl	*ctl;
	const json_t	*nodes;
	const json_t	*edges;
	int		 down;
	long		 lines;
};

static const char *
lineage_str(const json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "?";
}

static json_int_t
lineage_int(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/*
 * One line.  Upstream, `readv` is the version of n that was read; if n
 * has moved on since, the line says so.  Downstream, `readv` is the
 * version of the parent (`pver` now) that n was built from.
 */
static void
lineage_line(struct lineage *l, const json_t *n, int depth, json_int_t readv,
    json_int_t pver)
{
	json_int_t	 version = lineage_int(n, "version");
	const char	*state = lineage_str(n, "state");
	char		 run[300] = "";
	int		 stale;

	if (json_is_integer(json_object_get(n, "run_id")))
		snprintf(run, sizeof run, "; job %s run %lld",
		    lineage_str(n, "job"), (long long)lineage_int(n, "run_id"));
	stale = depth > 0 && readv > 0 && readv != (l->down ? pver : version);
	printf("%*s%s%s %s v%lld  %s%s%s%s", depth * 2, "", depth == 0 ? "" :
	    l->down ? "-> " : "<- ", lineage_str(n, "product"),
	    lineage_str(n, "partition"), (long long)(stale && !l->down ?
	    readv : version), ctl_color_on(l->ctl, state), state,
	    ctl_color_off(l->ctl), run);
	if (stale && l->down)
		printf("  (built from v%lld of its input, now v%lld)",
		    (long long)readv, (long long)pver);
	else if (stale)
		printf("  (now v%lld: stale)", (long long)version);
	putchar('\n');
}

/* Node `id` and, indented under it, what it came from or fed. */
static void
lineage_walk(struct lineage *l, json_int_t id, int depth, json_int_t readv,
    json_int_t pver)
{
	const json_t	*n = json_array_get(l->nodes, (size_t)id), *e;
	size_t		 i;

	/* The graph is at most 64 deep; a loop in bad data is not. */
	if (n == NULL || depth > 64)
		return;
	if (l->lines++ == LINEAGE_MAX_LINES) {
		printf("(more: the tree is cut at %d lines; --depth or "
		    "--format dot)\n", LINEAGE_MAX_LINES);
		return;
	}
	if (l->lines > LINEAGE_MAX_LINES)
		return;
	lineage_line(l, n, depth, readv, pver);
	json_array_foreach(l->edges, i, e) {
		if (lineage_int(e, l->down ? "from" : "to") != id)
			continue;
		lineage_walk(l, lineage_int(e, l->down ? "to" : "from"),
		    depth + 1, lineage_int(e, "version_read"),
		    lineage_int(n, "version"));
	}
}

/* A dot ID: "product key", quotes and backslashes escaped. */
static void
lineage_dot_id(const json_t *n)
{
	const char	*s;
	int		 k;

	putchar('"');
	for (k = 0; k < 2; k++) {
		if (k == 1)
			putchar(' ');
		for (s = lineage_str(n, k == 0 ? "product" : "partition");
		    *s != '\0'; s++) {
			if (*s == '"' || *s == '\\')
				putchar('\\');
			putchar(*s);
		}
	}
	putchar('"');
}

static void
lineage_dot(struct lineage *l)
{
	const json_t	*e;
	size_t		 i;

	printf("digraph lineage {\n\trankdir=LR;\n\tnode [shape=box];\n\t");
	lineage_dot_id(json_array_get(l->nodes, 0));
	printf(";\n");
	/* Edges point downstream, from the input to what was built. */
	json_array_foreach(l->edges, i, e) {
		putchar('\t');
		lineage_dot_id(json_array_get(l->nodes,
		    (size_t)lineage_int(e, "from")));
		printf(" -> ");
		lineage_dot_id(json_array_get(l->nodes,
		    (size_t)lineage_int(e, "to")));
		printf(" [label=\"v%lld\"];\n", (long long)lineage_int(e,
		    "version_read"));
	}
	printf("}\n");
}

static int
cmd_lineage_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args = { 0 };
	struct lineage	 l;
	const char	*key = NULL, *format = "text";
	json_t		*doc;
	int		 c, json = 0, rc;
	enum { OPT_DEPTH = 0x200 };
	static const struct option longopts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "upstream", no_argument, NULL, 'u' },
		{ "downstream", no_argument, NULL, 'd' },
		{ "depth", required_argument, NULL, OPT_DEPTH },
		{ "format", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, CTL_OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&l, 0, sizeof l);
	while ((c = getopt_long(argc, argv, "p:udf:h", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'p':
			key = optarg;
			break;
		case 'u':
			l.down = 0;
			break;
		case 'd':
			l.down = 1;
			break;
		case OPT_DEPTH:
			read_args_add(&args, "depth", optarg);
			break;
		case 'f':
			format = optarg;
			break;
		case CTL_OPT_JSON:
			json = 1;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_usage(ctl);
		}
	}
	if (argc - optind != 1 || key == NULL) {
		if (argc - optind == 1)
			ctl_error("lineage needs --partition KEY");
		return ctl_usage(ctl);
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "dot") != 0) {
		ctl_error("--format: '%s' is not text or dot", format);
		return CTL_EXIT_USAGE;
	}
	read_args_add(&args, "product", argv[optind]);
	read_args_add(&args, "partition", key);
	read_args_add(&args, "direction", l.down ? "downstream" : "upstream");
	if ((rc = ctl_ask(ctl, "lineage", &args, &doc)) != CTL_EXIT_OK)
		return rc;
	l.ctl = ctl;
	l.nodes = json_object_get(doc, "nodes");
	l.edges = json_object_get(doc, "edges");
	if (json)
		ctl_json_out(json_incref(doc));
	else if (strcmp(format, "dot") == 0)
		lineage_dot(&l);
	else
		lineage_walk(&l, 0, 0, 0, 0);
	if (json_is_true(json_object_get(doc, "truncated")))
		fprintf(json || strcmp(format, "dot") == 0 ? stderr : stdout,
		    "(the lineage is cut: more "
		    "partitions than one answer holds; use --depth)\n");
	json_decref(doc);
	return CTL_EXIT_OK;
}
