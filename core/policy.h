/*
 * policy.h -- governance policies: rules a small central team sets in
 * meshd.conf, which every domain's jobs and plugins must meet.
 *
 *     policies = {
 *       require_owner       = true;   # every product names its owner
 *       require_error_check = true;   # a check task runs before publish
 *       pii_locations = [ "s3://secure/", "/srv/secure/" ];
 *       plugin_domains = { ops = "/usr/lib/meshd/plugins/ops"; };
 *       contract_version = "^[0-9]+\\.[0-9]+$";
 *       own_domain = true;            # the default
 *       allow_publish_without_check = false;  # the default
 *     };
 *
 * They are enforced where jobs are loaded: `meshctl validate` reports each
 * violation as an error, and meshd refuses the violating jobs (and only
 * them), logging why.  Every message names the job file and task line,
 * the job, the task, the plugin or product and the policy:
 *
 *   jobs/x.conf:12: job 'x' task 'publish': product 'ops.flights' has no
 *   owner (policy require_owner)
 *
 * Two checks hold whatever the policies: a product is declared by one
 * plugin only, and built (`product = ...` in a task) by one job only (every
 * job building it is refused, each naming the others).  A third holds
 * unless allow_publish_without_check: a job with a publish task has a check
 * task (the gate; dag.c puts every check before every publish).
 */
#ifndef MESHD_POLICY_H
#define MESHD_POLICY_H

#include "errlist.h"
#include "policy-conf.h"

struct meshd_config;
struct jobset;

/* policy_check() flags. */
#define POLICY_DROP	0x1	/* take violating jobs out of the set, into
				 * its broken list (job.h) */
#define POLICY_PLUGINS	0x2	/* and refuse a job whose plugin is refused,
				 * lacks the task's stage or does not declare
				 * the task's product (meshd; validate says
				 * so in its own words) */

/*
 * Probe each distinct plugin of the set once (in a child process, see
 * loader_probe), then check the policies of cfg->policies and the
 * one-producer rules for every job, task and product.  Each violation is
 * an error in errs at the job file and the task's line.  Without
 * POLICY_PLUGINS, a plugin that cannot be probed is not reported here
 * (meshctl validate and the worker do that) and its tasks are not judged.
 *
 * With POLICY_DROP, the violating jobs are moved from `js` into its broken
 * list (jobset_refuse()), and so are the jobs left reading a product only
 * a removed job built (each reported too); the input links and the name
 * index are rebuilt.  Returns the number of violating (with POLICY_DROP:
 * removed) jobs.
 */
size_t	policy_check(const struct meshd_config *, struct jobset *js,
	    int flags, struct errlist *errs);
/*
 * Would meshd refuse job `name` of the set (meshctl run, which runs a job
 * without the daemon)?  The whole set is judged, for the one-producer
 * rules, and the diagnostics of the job's file are added to errs.  1 if
 * it is refused, 0 if not (or it is not in the set).
 */
int	policy_refuses(const struct meshd_config *, struct jobset *js,
	    const char *name, struct errlist *errs);
/*
 * meshd: policy_check(POLICY_DROP | POLICY_PLUGINS) on a freshly loaded
 * set, logging each violation ("file:line: message") and how many jobs
 * were refused.  Call it right after jobs_load(), at start and on reload,
 * before the set is used.  Returns the number of jobs refused.
 */
size_t	policy_enforce(const struct meshd_config *, struct jobset *js);

#endif
