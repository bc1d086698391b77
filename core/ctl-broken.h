/*
 * ctl-broken.h -- meshctl's view of refused jobs (issue 11): thin
 * wrappers over the read layer's read-jobs.h, which the HTTP child uses
 * without a struct ctl.
 */
#ifndef MESHD_CTL_BROKEN_H
#define MESHD_CTL_BROKEN_H

#include <sys/types.h>

#include <jansson.h>

#include "errlist.h"
#include "job.h"

struct ctl;

/*
 * read_jobs_judged() with meshctl's meshd.conf: -1 if it cannot be read
 * (ctl_config has said why; js is empty), else 0.
 */
int		 ctl_jobs_judged(struct ctl *, struct jobset *js,
		    struct errlist *errs, json_t *health);
/* read_health() with meshctl's meshd.conf: NULL and *pid 0 without it. */
json_t		*ctl_health(struct ctl *, pid_t *pid);

#endif
