/*
 * ctl-broken.c -- meshctl's view of refused jobs (ctl-broken.h): the
 * judging itself is the read layer's (read-jobs.c).
 */
#include <sys/types.h>

#include <string.h>

#include "ctl-broken.h"
#include "meshctl.h"
#include "read-jobs.h"

int
ctl_jobs_judged(struct ctl *ctl, struct jobset *js, struct errlist *errs,
    json_t *health)
{
	memset(js, 0, sizeof *js);
	if (ctl_config(ctl) == NULL)
		return -1;
	read_jobs_judged(ctl->cfg, js, errs, health);
	return 0;
}

json_t *
ctl_health(struct ctl *ctl, pid_t *pidp)
{
	*pidp = 0;
	if (ctl_config(ctl) == NULL)
		return NULL;
	return read_health(ctl->cfg, pidp);
}
