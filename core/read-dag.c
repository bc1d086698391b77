/*
 * read-dag.c -- dag: a job's task graph, from its job file: the tasks in
 * the order they can run and every edge, the gate's included (every
 * publish task runs after every check task of its job; meshd adds those
 * edges itself, "implicit": true).  The UI draws it as SVG, meshctl as
 * text or Graphviz dot.
 */
#include <stdlib.h>

#include "dag.h"
#include "job.h"
#include "read-int.h"
#include "read-jobs.h"
#include "tz.h"

const struct read_param read_dag_params[] = {
	{ "job", "string", 1, "the job" },
	{ NULL, NULL, 0, NULL }
};

const char read_dag_schema[] =
	"{\"type\":\"object\",\"required\":[\"job\",\"domain\",\"schedule\","
	"\"timezone\",\"tasks\",\"edges\"],\"additionalProperties\":false,"
	"\"properties\":{"
	"\"job\":{\"type\":\"string\"},"
	"\"domain\":{\"type\":\"string\"},"
	"\"schedule\":{\"type\":\"string\"},"
	"\"timezone\":{\"type\":\"string\"},"
	"\"tasks\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"id\",\"stage\",\"plugin\",\"after\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"id\":{\"type\":\"string\"},"
	"\"stage\":{\"enum\":[\"extract\",\"check\",\"publish\"]},"
	"\"plugin\":{\"type\":\"string\"},"
	"\"after\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}},"
	"\"edges\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"from\",\"to\",\"implicit\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"from\":{\"type\":\"string\"},"
	"\"to\":{\"type\":\"string\"},"
	"\"implicit\":{\"type\":\"boolean\"}}}}}}";

json_t *
read_dag(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const struct job_def	*job;
	const size_t		*topo, *pred;
	json_t			*tasks, *after, *edges;
	size_t			 i, j, np;

	if ((job = read_job_def(ctx, read_arg(args, "job"), err)) == NULL)
		return NULL;
	tasks = json_array();
	edges = json_array();
	topo = dag_topo(job->dag);
	for (i = 0; i < job->ntasks; i++) {
		const struct task_def *t = &job->tasks[topo[i]];

		after = json_array();
		pred = dag_pred(job->dag, topo[i]);
		np = dag_npred(job->dag, topo[i]);
		for (j = 0; j < np; j++) {
			json_array_append_new(after, json_string(
			    job->tasks[pred[j]].id));
			json_array_append_new(edges, json_pack("{s:s, s:s, "
			    "s:b}", "from", job->tasks[pred[j]].id, "to", t->id,
			    "implicit", dag_pred_gate(job->dag, topo[i], j)));
		}
		json_array_append_new(tasks, json_pack("{s:s, s:s, s:s, s:o}",
		    "id", t->id, "stage", stage_name(t->stage), "plugin",
		    t->plugin, "after", after));
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "job", job->name,
	    "domain", job->domain, "schedule", job->schedule, "timezone",
	    job->tz != NULL ? tz_name(job->tz) : "UTC", "tasks", tasks,
	    "edges", edges);
}
