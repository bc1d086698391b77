/*
 * ctl-broken.h -- meshctl's view of refused jobs (issue 11): what meshd
 * would refuse, judged from the files as meshd judges them, and what a
 * running meshd says it refused (its health file).  For meshctl jobs and
 * status.
 */
#ifndef MESHD_CTL_BROKEN_H
#define MESHD_CTL_BROKEN_H

#include <sys/types.h>

#include <jansson.h>

#include "errlist.h"
#include "job.h"

struct ctl;

/*
 * Load the jobs and judge them as meshd does (jobs_load, then the policies
 * and the plugins' descriptors, POLICY_DROP | POLICY_PLUGINS): the jobs
 * meshd would run are in js->v, the others in js->broken.  With `health`
 * (ctl_health()), the products of the previous versions the running meshd
 * keeps count as built, as they do in meshd.  Every diagnostic is in errs.
 * -1 if meshd.conf cannot be read (ctl_config has said why), else 0.
 */
int		 ctl_jobs_judged(struct ctl *, struct jobset *js,
		    struct errlist *errs, json_t *health);
/*
 * The running meshd's health record (<state_db>.health, meshd-health.c),
 * or NULL when meshd is down or the file is not its own; *pid is meshd's
 * pid (0: down).
 */
json_t		*ctl_health(struct ctl *, pid_t *pid);
/* In a health record: is job `name` running its previous version? */
int		 ctl_health_previous(json_t *health, const char *name);
/* The first error of a broken job, "file:line: message". */
char		*ctl_broken_first(const struct job_broken *);
/* A broken job's diagnostics as a JSON array of {file, line, level,
 * message}. */
json_t		*ctl_broken_json(const struct job_broken *);

#endif
