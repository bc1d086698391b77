/*
 * policy-conf.h -- the `policies` group of meshd.conf, parsed (the rules
 * themselves are in policy.h).  Its own module so that config.c, which
 * parses it, does not depend on policy.c, which depends on the jobs.
 */
#ifndef MESHD_POLICY_CONF_H
#define MESHD_POLICY_CONF_H

#include <libconfig.h>
#include <regex.h>

#include "errlist.h"

/* The `policies` group, parsed.  Absent keys are off, except own_domain. */
struct policy_conf {
	int	  require_owner;	/* product's own `owner` is set */
	int	  require_error_check;	/* publish has a check task upstream */
	char	**pii_locations;	/* prefixes; NULL: no rule (npii 0) */
	size_t	  npii;
	int	  has_pii;		/* pii_locations given (may be empty:
					 * pii products are then refused) */
	struct policy_domain {
		char	*domain;
		char	*dir;		/* absolute or relative to confdir */
	}	 *domains;		/* plugin_domains */
	size_t	  ndomains;
	char	 *contract_re;		/* as written, for messages */
	regex_t	  contract;		/* compiled if contract_re != NULL */
	int	  own_domain;		/* default 1: products, plugin and job
					 * of one domain */
	int	  allow_publish_without_check; /* default 0: a job with a
					 * publish task and no check task is
					 * refused at load (job.c; the gate) */
	char	 *file;			/* where the group is, for messages */
	int	  line;
};

/* The defaults, as if the group were absent.  Free with policy_conf_free. */
struct policy_conf	*policy_conf_defaults(void);
/*
 * Parse the `policies` group `g` of a config whose relative paths are
 * taken from `confdir`.  Wrong types, bad values and unknown keys (with
 * the closest known one) are errors, at file:line, added to errs.  Returns a new policy_conf
 * (with what could be read) even on errors: config_load refuses the file
 * by its error count.
 */
struct policy_conf	*policy_conf_parse(const config_setting_t *g,
			    const char *path, const char *confdir,
			    struct errlist *errs);
void			 policy_conf_free(struct policy_conf *);

#endif
