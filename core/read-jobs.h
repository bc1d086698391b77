/*
 * read-jobs.h -- the jobs as meshd judges them and meshd's health file,
 * for whoever needs them without meshctl's struct ctl: the questions
 * jobs and status (read-jobs.c, read-status.c), meshctl's wrappers
 * (ctl-broken.c) and the HTTP child.  Since 0.6.0.
 */
#ifndef MESHD_READ_JOBS_H
#define MESHD_READ_JOBS_H

#include <sys/types.h>

#include <jansson.h>

#include "errlist.h"
#include "job.h"
#include "read.h"

struct meshd_config;

/*
 * Load the jobs and judge them as meshd does (jobs_load_files, the links,
 * then the policies and the plugins' descriptors, POLICY_DROP |
 * POLICY_PLUGINS): the jobs meshd would run are in js->v, the others in
 * js->broken.  With `health` (read_health()), the products of the
 * previous versions the running meshd keeps count as built, as they do in
 * meshd.  Every diagnostic is in errs.  js is always safe to
 * jobset_free().  Probing the plugins forks a child per distinct plugin
 * (loader_probe): no plugin code runs in the caller.
 */
void	 read_jobs_judged(const struct meshd_config *, struct jobset *js,
	    struct errlist *errs, json_t *health);
/*
 * The running meshd's health record (<state_db>.health, meshd-health.c),
 * a new reference, or NULL when meshd is down or the file is not its own;
 * *pid is meshd's pid (0: down).
 */
json_t	*read_health(const struct meshd_config *, pid_t *pid);
/* In a health record: is job `name` running its previous version? */
int	 read_health_previous(const json_t *health, const char *name);
/* The first error of a broken job, "file:line: message" (new string). */
char	*read_broken_first(const struct job_broken *);
/* A broken job's diagnostics as a new JSON array of {file, line, level,
 * message}. */
json_t	*read_broken_json(const struct job_broken *);
/*
 * The valid job `name` of ctx->jobs, for the questions about a job's
 * definition (dag, next): NULL with 404 "job 'x' is broken: first error"
 * when its file is refused, 404 "unknown job 'x'" when there is none.
 */
const struct job_def *read_job_def(const struct read_ctx *, const char *name,
	    struct read_error *);

#endif
