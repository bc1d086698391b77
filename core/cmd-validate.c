/* cmd-validate.c -- meshctl validate: check meshd.conf, every job file and
 * every plugin they use, reporting every problem at once. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "meshctl.h"
#include "policy.h"

static int	cmd_validate_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_validate_entry = {
	.name = "validate",
	.args = "[--config FILE] [--json]",
	.summary = "check meshd.conf, the job files and their plugins",
	.help =
	"Loads meshd.conf and every job file, builds each job's DAG, and loads\n"
	"each plugin in a child process to check its descriptor and that it\n"
	"provides the stages its tasks ask for.  Then checks the governance\n"
	"policies of meshd.conf (see meshd.conf(5), POLICIES), and that each\n"
	"product has one producing plugin and one producing job: a job that\n"
	"breaks one is an error here, and meshd refuses that job; so is a job\n"
	"with a publish task and no check task (unless the policy\n"
	"allow_publish_without_check allows it: every check runs before every\n"
	"publish, see meshctl dag).  Every error of every file is reported as\n"
	"file:line: message, and the jobs meshd would refuse are named (a\n"
	"broken job stops only itself: meshd runs the others).  Nothing is\n"
	"changed.\n"
	"\n"
	"  -c, --config FILE  meshd.conf to check (same as the global option)\n"
	"      --json         {ok, jobs, tasks, plugins, errors, warnings,\n"
	"                     diagnostics: [{file, line, level, message}],\n"
	"                     broken: [job names]}\n"
	"\n"
	"Exit status: 0 if everything is valid (warnings allowed), 1 if any\n"
	"error was found, 2 for a usage error.\n",
	.exec = cmd_validate_exec,
};

/* Load each distinct plugin once and check the stages asked of it. */
static void
validate_plugins(const struct jobset *js, struct errlist *errs,
    size_t *nplugins)
{
	struct plugin_info	**infos = NULL;
	char			**paths = NULL, *cause = NULL;
	size_t			  n = 0, i, j, k, w;

	for (i = 0; i < js->n; i++) {
		const struct job_def *job = js->v[i];

		for (j = 0; j < job->ntasks; j++) {
			const struct task_def	*td = &job->tasks[j];
			struct plugin_info	*pi;

			for (k = 0; k < n; k++)
				if (strcmp(paths[k], td->plugin_path) == 0)
					break;
			if (k == n) {
				paths = xreallocarray(paths, n + 1,
				    sizeof *paths);
				infos = xreallocarray(infos, n + 1,
				    sizeof *infos);
				paths[n] = td->plugin_path;
				infos[n] = loader_probe_warn(td->plugin_path,
				    &cause);
				for (w = 0; infos[n] != NULL &&
				    w < infos[n]->nwarnings; w++)
					errlist_warn(errs, job->file, td->line,
					    "task '%s': %s", td->id,
					    infos[n]->warnings[w]);
				if (infos[n] == NULL) {
					errlist_error(errs, job->file, td->line,
					    "task '%s': %s", td->id, cause);
					free(cause);
					cause = NULL;
				}
				n++;
			} else if (infos[k] == NULL) {
				errlist_error(errs, job->file, td->line,
				    "task '%s': plugin %s is refused (see "
				    "above)", td->id, td->plugin_path);
			}
			if ((pi = infos[k]) == NULL)
				continue;
			if (!pi->has_stage[td->stage])
				errlist_error(errs, job->file, td->line,
				    "task '%s': plugin '%s' (%s) has no %s "
				    "stage", td->id, pi->name, td->plugin_path,
				    stage_name(td->stage));
			if (td->product != NULL) {
				for (k = 0; k < pi->nproducts; k++)
					if (strcmp(pi->products[k].name,
					    td->product) == 0)
						break;
				if (k == pi->nproducts)
					errlist_error(errs, job->file, td->line,
					    "task '%s': plugin '%s' does not "
					    "build product '%s'", td->id,
					    pi->name, td->product);
			}
		}
	}
	for (i = 0; i < n; i++)
		if (infos[i] != NULL)
			plugin_info_free(infos[i]);
	free(infos);
	free(paths);
	*nplugins = n;
}

/*
 * The names of the jobs meshd would refuse, in name order: those the load
 * and the policies took out of the set, and those whose plugins are wrong
 * (an error at their file).
 */
static json_t *
validate_broken(const struct jobset *js, const struct errlist *errs)
{
	json_t	*a = json_array();
	size_t	 i, b, k;

	for (i = 0, b = 0; i < js->n || b < js->nbroken; ) {
		if (b < js->nbroken && (i >= js->n || strcmp(
		    js->broken[b].name, js->v[i]->name) < 0)) {
			json_array_append_new(a, json_string(
			    js->broken[b++].name));
			continue;
		}
		for (k = 0; k < errs->n; k++)
			if (errs->v[k].level == DIAG_ERROR &&
			    errs->v[k].file != NULL &&
			    strcmp(errs->v[k].file, js->v[i]->file) == 0)
				break;
		if (k < errs->n)
			json_array_append_new(a, json_string(js->v[i]->name));
		i++;
	}
	return a;
}

static int
cmd_validate_exec(struct ctl *ctl, int argc, char **argv)
{
	struct errlist	 errs = ERRLIST_INIT;
	struct jobset	 js;
	size_t		 i, ntasks = 0, nplugins = 0;
	int		 c, rc, json = 0;
	json_t		*diags, *broken, *b;
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctl->config_path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_usage(ctl);
		}
	}
	if (argc != optind)
		return ctl_usage(ctl);

	memset(&js, 0, sizeof js);
	ctl->cfg = config_load(ctl->config_path, &errs);
	if (ctl->cfg != NULL) {
		jobs_load(ctl->cfg, &js, &errs);
		validate_plugins(&js, &errs, &nplugins);
		/* As meshd does: a job that breaks a rule is refused. */
		policy_check(ctl->cfg, &js, POLICY_DROP, &errs);
	}
	broken = validate_broken(&js, &errs);
	for (i = 0; i < js.n; i++)
		ntasks += js.v[i]->ntasks;
	if (json) {
		diags = json_array();
		for (i = 0; i < errs.n; i++)
			json_array_append_new(diags, json_pack("{s:s?, s:i, "
			    "s:s, s:s}", "file", errs.v[i].file, "line",
			    errs.v[i].line, "level", errs.v[i].level ==
			    DIAG_ERROR ? "error" : "warning", "message",
			    errs.v[i].msg));
		ctl_json_out(json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:o, "
		    "s:O}", "ok", errs.nerrors == 0, "jobs", (json_int_t)js.n,
		    "tasks", (json_int_t)ntasks, "plugins",
		    (json_int_t)nplugins, "errors", (json_int_t)errs.nerrors,
		    "warnings", (json_int_t)errs.nwarnings, "diagnostics",
		    diags, "broken", broken));
		rc = errs.nerrors == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILED;
		goto out;
	}
	errlist_print(&errs, stderr);
	if (errs.nerrors == 0) {
		printf("%s: ok: %zu job%s, %zu task%s, %zu plugin%s, %zu "
		    "warning%s\n", ctl->config_path, js.n, js.n == 1 ? "" : "s",
		    ntasks, ntasks == 1 ? "" : "s", nplugins,
		    nplugins == 1 ? "" : "s", errs.nwarnings,
		    errs.nwarnings == 1 ? "" : "s");
		rc = CTL_EXIT_OK;
	} else {
		fprintf(stderr, "%s: %zu error%s, %zu warning%s\n",
		    ctl->config_path, errs.nerrors, errs.nerrors == 1 ? "" : "s",
		    errs.nwarnings, errs.nwarnings == 1 ? "" : "s");
		if (json_array_size(broken) > 0) {
			fprintf(stderr, "broken job%s, which meshd refuses "
			    "while the others run:", json_array_size(broken) ==
			    1 ? "" : "s");
			json_array_foreach(broken, i, b)
				fprintf(stderr, "%s %s", i == 0 ? "" : ",",
				    json_string_value(b));
			fprintf(stderr, "\n");
		}
		rc = CTL_EXIT_FAILED;
	}
out:
	json_decref(broken);
	jobset_free(&js);
	errlist_free(&errs);
	return rc;
}
