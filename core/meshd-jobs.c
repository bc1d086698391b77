/*
 * meshd-jobs.c -- loading the jobs for the daemon, at start and on each
 * reload (issue 11): a broken job stops only itself.  Each job file is
 * loaded and judged on its own; a refused job is logged as ERROR with
 * file:line and kept in the set's broken list, which the health file
 * shows to meshctl; every other job runs.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "log.h"
#include "meshd.h"
#include "policy.h"
#include "util.h"

/* Log each diagnostic of a job load as ERROR or WARN, with file:line. */
static void
jobs_log(const struct errlist *errs)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		log_msg(errs->v[i].level == DIAG_ERROR ? LOG_LVL_ERROR :
		    LOG_LVL_WARN, "%s:%d: %s", errs->v[i].file != NULL ?
		    errs->v[i].file : "?", errs->v[i].line, errs->v[i].msg);
}

/* See meshd.h. */
int
daemon_jobs_dir(const struct meshd_config *cfg)
{
	DIR	*d;

	if ((d = opendir(cfg->jobs_dir)) == NULL) {
		log_error("%s: cannot read jobs directory (jobs_dir in %s): %s",
		    cfg->jobs_dir, cfg->file != NULL ? cfg->file :
		    "meshd.conf", strerror(errno));
		return -1;
	}
	closedir(d);
	return 0;
}

/* See meshd.h. */
void
daemon_jobs_admit(const struct meshd_config *cfg, struct jobset *js,
    struct jobset *old)
{
	struct errlist	 errs = ERRLIST_INIT;
	size_t		 i, nprev = 0;
	char		*names = NULL, *t;

	memset(js, 0, sizeof *js);
	jobs_load_files(cfg, js, &errs);
	if (old != NULL)
		jobs_keep_previous(js, old);
	jobs_link(js, &errs);
	jobs_log(&errs);
	errlist_free(&errs);
	/* Governance, and the plugins' descriptors: jobs that break one
	 * are refused, the rest run. */
	policy_enforce(cfg, js);
	if (old != NULL && jobs_keep_previous(js, old) > 0) {
		/* Positions changed, and an old version meets new jobs. */
		jobs_link(js, &errs);
		jobs_log(&errs);
		errlist_free(&errs);
		policy_enforce(cfg, js);
	}
	/* Previous versions refused after all go back to the old set, which
	 * is retired: freed once no run uses them. */
	for (i = 0; old != NULL && i < js->nbroken; i++) {
		if (js->broken[i].parked == NULL)
			continue;
		old->v = xreallocarray(old->v, old->n + 1, sizeof *old->v);
		old->v[old->n++] = js->broken[i].parked;
		js->broken[i].parked = NULL;
		jobset_reindex(old);
	}
	if (js->nbroken == 0)
		return;
	for (i = 0; i < js->nbroken; i++) {
		nprev += js->broken[i].previous;
		t = xasprintf("%s%s%s%s", names != NULL ? names : "",
		    names != NULL ? ", " : "", js->broken[i].name,
		    js->broken[i].previous ? " (running the previous version)" :
		    "");
		free(names);
		names = t;
	}
	log_error("%zu broken job%s refused (errors above; meshctl jobs and "
	    "validate show them): %s; the other %zu job%s run%s",
	    js->nbroken, js->nbroken == 1 ? "" : "s", names, js->n - nprev,
	    js->n - nprev == 1 ? "" : "s", js->n - nprev == 1 ? "s" : "");
	if (js->n == 0)
		log_error("every job is broken: meshd runs no job until one "
		    "is fixed and meshd reloaded (SIGHUP)");
	free(names);
}
