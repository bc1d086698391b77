/* cmd-dag.c -- meshctl dag: a job's task graph, as text or Graphviz dot. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dag.h"
#include "meshctl.h"

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
	"      --json      the same as --format json: {job, domain, schedule,\n"
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

static int
cmd_dag_exec(struct ctl *ctl, int argc, char **argv)
{
	struct jobset	 js;
	struct job_def	*job;
	const size_t	*topo, *pred;
	const char	*format = "text";
	size_t		 i, j, k, np;
	int		 c, rc = CTL_EXIT_OK;
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
	if ((job = ctl_load_job(ctl, &js, argv[optind])) == NULL) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	topo = dag_topo(job->dag);
	if (strcmp(format, "json") == 0) {
		json_t	*tasks = json_array(), *after, *edges = json_array();

		for (i = 0; i < job->ntasks; i++) {
			const struct task_def *t = &job->tasks[topo[i]];

			after = json_array();
			pred = dag_pred(job->dag, topo[i]);
			np = dag_npred(job->dag, topo[i]);
			for (j = 0; j < np; j++) {
				json_array_append_new(after, json_string(
				    job->tasks[pred[j]].id));
				json_array_append_new(edges, json_pack("{s:s, "
				    "s:s, s:b}", "from", job->tasks[pred[j]].id,
				    "to", t->id, "implicit",
				    dag_pred_gate(job->dag, topo[i], j)));
			}
			json_array_append_new(tasks, json_pack("{s:s, s:s, "
			    "s:s, s:o}", "id", t->id, "stage",
			    stage_name(t->stage), "plugin", t->plugin, "after",
			    after));
		}
		ctl_json_out(json_pack("{s:s, s:s, s:s, s:o, s:o}", "job",
		    job->name, "domain", job->domain, "schedule", job->schedule,
		    "tasks", tasks, "edges", edges));
		goto out;
	}
	if (strcmp(format, "dot") == 0) {
		printf("digraph ");
		dot_id(job->name);
		printf(" {\n\trankdir=LR;\n\tnode [shape=box];\n");
		for (i = 0; i < job->ntasks; i++) {
			const struct task_def *t = &job->tasks[topo[i]];

			printf("\t");
			dot_id(t->id);
			printf(" [label=\"%s\\n%s: %s\"];\n", t->id,
			    stage_name(t->stage), t->plugin);
		}
		for (i = 0; i < job->ntasks; i++) {
			pred = dag_pred(job->dag, topo[i]);
			np = dag_npred(job->dag, topo[i]);
			for (k = 0; k < np; k++) {
				printf("\t");
				dot_id(job->tasks[pred[k]].id);
				printf(" -> ");
				dot_id(job->tasks[topo[i]].id);
				/* Not in the job file: meshd adds it. */
				if (dag_pred_gate(job->dag, topo[i], k))
					printf(" [style=dashed, label=\"gate\"]");
				printf(";\n");
			}
		}
		printf("}\n");
		goto out;
	}
	printf("%s (%s, %s): %zu task%s\n", job->name, job->domain,
	    job->schedule, job->ntasks, job->ntasks == 1 ? "" : "s");
	for (i = 0; i < job->ntasks; i++) {
		const struct task_def *t = &job->tasks[topo[i]];

		printf("  %-16s %-8s %-12s", t->id, stage_name(t->stage),
		    t->plugin);
		pred = dag_pred(job->dag, topo[i]);
		np = dag_npred(job->dag, topo[i]);
		for (j = 0; j < np; j++)
			printf("%s%s%s", j == 0 ? " after " : ", ",
			    job->tasks[pred[j]].id,
			    dag_pred_gate(job->dag, topo[i], j) ? " (gate)" :
			    "");
		printf("\n");
	}
out:
	jobset_free(&js);
	return rc;
}
