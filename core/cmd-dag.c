/* cmd-dag.c -- meshctl dag: a job's task graph, as text, Graphviz dot or
 * the read layer's document `dag`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "read.h"

static int	cmd_dag_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_dag_entry = {
	.name = "dag",
	.args = "JOB [--format text|dot|json] [--json]",
	.summary = "print a job's task graph (text, or dot for Graphviz)",
	.help =
	"text lists the tasks in the order they can run, each with its stage,\n"
	"plugin and the tasks it runs after.  dot writes a digraph for\n"
	"Graphviz: meshctl dag JOB --format dot | dot -Tsvg > job.svg\n"
	"\n"
	"The gate: every publish task runs after every check task of its job,\n"
	"even when its `after` leaves the check out.  Those edges are added by\n"
	"meshd itself and shown as such: \"(gate)\" after the task in text, a\n"
	"dashed edge labelled gate in dot, \"implicit\": true in json.\n"
	"\n"
	"  -f, --format F  text (default), dot, or json\n"
	"      --json      the same as --format json, the document of\n"
	"                  GET /api/v1/dag: {job, domain, schedule, timezone,\n"
	"                  tasks: [{id, stage, plugin, after}], edges: [{from,\n"
	"                  to, implicit}]}, tasks in run order; after holds\n"
	"                  every task it runs after, the gate's included\n",
	.exec = cmd_dag_exec,
};

/* A string as a dot ID: quoted, with quotes and backslashes escaped. */
static void
dot_id(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static const char *
jstr(const json_t *o, const char *k)
{
	const char	*v = json_string_value(json_object_get(o, k));

	return v != NULL ? v : "?";
}

static void
dag_dot(const json_t *doc)
{
	const json_t	*t, *e;
	size_t		 i;

	printf("digraph ");
	dot_id(jstr(doc, "job"));
	printf(" {\n\trankdir=LR;\n\tnode [shape=box];\n");
	json_array_foreach(json_object_get(doc, "tasks"), i, t) {
		printf("\t");
		dot_id(jstr(t, "id"));
		printf(" [label=\"%s\\n%s: %s\"];\n", jstr(t, "id"),
		    jstr(t, "stage"), jstr(t, "plugin"));
	}
	json_array_foreach(json_object_get(doc, "edges"), i, e) {
		printf("\t");
		dot_id(jstr(e, "from"));
		printf(" -> ");
		dot_id(jstr(e, "to"));
		/* Not in the job file: meshd adds it. */
		if (json_is_true(json_object_get(e, "implicit")))
			printf(" [style=dashed, label=\"gate\"]");
		printf(";\n");
	}
	printf("}\n");
}

/* Is the edge from -> to one the gate adds? */
static int
dag_gate(const json_t *doc, const char *from, const char *to)
{
	const json_t	*e;
	size_t		 i;

	json_array_foreach(json_object_get(doc, "edges"), i, e)
		if (strcmp(jstr(e, "from"), from) == 0 &&
		    strcmp(jstr(e, "to"), to) == 0)
			return json_is_true(json_object_get(e, "implicit"));
	return 0;
}

static void
dag_text(const json_t *doc)
{
	const json_t	*tasks = json_object_get(doc, "tasks"), *t, *a;
	size_t		 i, j, n = json_array_size(tasks);

	printf("%s (%s, %s): %zu task%s\n", jstr(doc, "job"),
	    jstr(doc, "domain"), jstr(doc, "schedule"), n, n == 1 ? "" : "s");
	json_array_foreach(tasks, i, t) {
		printf("  %-16s %-8s %-12s", jstr(t, "id"), jstr(t, "stage"),
		    jstr(t, "plugin"));
		json_array_foreach(json_object_get(t, "after"), j, a)
			printf("%s%s%s", j == 0 ? " after " : ", ",
			    json_string_value(a), dag_gate(doc,
			    json_string_value(a), jstr(t, "id")) ? " (gate)" :
			    "");
		printf("\n");
	}
}

static int
cmd_dag_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args = { 0 };
	const char	*format = "text";
	json_t		*doc;
	int		 c, rc;
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'j':
			format = "json";
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_usage(ctl);
		}
	}
	if (argc - optind != 1)
		return ctl_usage(ctl);
	if (strcmp(format, "text") != 0 && strcmp(format, "dot") != 0 &&
	    strcmp(format, "json") != 0) {
		ctl_error("--format: '%s' is not text, dot or json", format);
		return CTL_EXIT_USAGE;
	}
	read_args_add(&args, "job", argv[optind]);
	if ((rc = ctl_ask(ctl, "dag", &args, &doc)) != CTL_EXIT_OK)
		return rc;
	if (strcmp(format, "json") == 0)
		ctl_json_out(json_incref(doc));
	else if (strcmp(format, "dot") == 0)
		dag_dot(doc);
	else
		dag_text(doc);
	json_decref(doc);
	return CTL_EXIT_OK;
}

