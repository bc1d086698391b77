/*
 * job-int.h -- between job.c (one job file) and job-link.c (the set of
 * them); not for other modules, which use job_load_file().
 */
#ifndef MESHD_JOB_INT_H
#define MESHD_JOB_INT_H

#include "job.h"

/*
 * Load one job file; *name_line is set to the line of its `name` (for the
 * duplicate-name message of jobs_load).
 */
struct job_def	*job_load(const struct meshd_config *, const char *path,
		    struct errlist *errs, int *name_line);

#endif
