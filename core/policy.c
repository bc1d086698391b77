/*
 * policy.c -- governance policies (see policy.h): judging a set of jobs and
 * the plugins they use by the `policies` group of meshd.conf, which
 * policy-conf.c parses.
 *
 * Plugins are judged by their descriptors, so each distinct plugin is
 * probed once, in a child (loader_probe): judging never runs plugin code
 * in the caller, which is meshctl or the daemon.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "dag.h"
#include "job.h"
#include "loader.h"
#include "log.h"
#include "policy.h"
#include "suggest.h"

/* ------------------------------------------------------------ checking */

/* One probed plugin. */
struct pplugin {
	const char		*path;
	struct plugin_info	*info;		/* NULL: refused */
	char			*cause;		/* why, when refused */
	char			*real;		/* realpath, or NULL */
};

struct pcheck {
	const struct meshd_config	*cfg;
	const struct policy_conf	*pc;
	struct jobset			*js;
	struct errlist			*errs;
	struct pplugin			*pl;
	size_t				 npl;
	unsigned char			*bad;	/* per job */
	unsigned char			*seen;	/* per plugin, per job */
};

static size_t
pcheck_plugin(struct pcheck *c, const char *path)
{
	struct pplugin	*p;
	char		*cause = NULL;
	size_t		 i;

	for (i = 0; i < c->npl; i++)
		if (strcmp(c->pl[i].path, path) == 0)
			return i;
	c->pl = xreallocarray(c->pl, c->npl + 1, sizeof *c->pl);
	p = &c->pl[c->npl];
	p->path = path;
	/* A refused plugin is reported by validate and by the worker, with
	 * the loader's own words; policies have nothing to judge. */
	p->info = loader_probe(path, &cause);
	p->cause = cause;
	p->real = realpath(path, NULL);
	return c->npl++;
}

static void pviol(struct pcheck *, size_t, const struct task_def *,
    const char *, ...) PRINTFLIKE(4, 5);
/* A violation by job j at task td: an error, and the job is refused. */
static void
pviol(struct pcheck *c, size_t j, const struct task_def *td,
    const char *fmt, ...)
{
	const struct job_def	*job = c->js->v[j];
	va_list			 ap;
	char			*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	errlist_error(c->errs, job->file, td->line, "job '%s' task '%s': %s",
	    job->name, td->id, msg);
	free(msg);
	c->bad[j] = 1;
}

/* The domain of "domain.product": its length, or 0 without a dot. */
static size_t
product_domain_len(const char *product)
{
	const char	*dot = strchr(product, '.');

	return dot == NULL ? 0 : (size_t)(dot - product);
}

static int
same_domain(const char *product, const char *domain)
{
	size_t	n = product_domain_len(product);

	return n == strlen(domain) && strncmp(product, domain, n) == 0;
}

/* Is `tag` one of the comma-separated tags (spaces around ignored, case
 * ignored: "PII" is pii too)? */
static int
has_tag(const char *tags, const char *tag)
{
	const char	*p = tags, *e;
	size_t		 n = strlen(tag);

	while (tags != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		for (e = p; *e != '\0' && *e != ','; e++)
			;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - p) == n && strncasecmp(p, tag, n) == 0)
			return 1;
		while (*e != '\0' && *e != ',')
			e++;
		p = e;
	}
	return 0;
}

/* Is `path` (resolved) inside directory `dir` (resolved when it
 * exists)? */
static int
path_under(const char *path, const char *dir)
{
	char	*rdir = realpath(dir, NULL);
	size_t	 n;
	int	 in;

	if (path == NULL || rdir == NULL) {
		free(rdir);
		return 0;
	}
	n = strlen(rdir);
	while (n > 1 && rdir[n - 1] == '/')
		n--;
	in = strncmp(path, rdir, n) == 0 && (path[n] == '/' ||
	    (n == 1 && rdir[0] == '/'));
	free(rdir);
	return in;
}

/* Does a task of stage check run before task t (is it an ancestor)? */
static int
has_check_upstream(const struct job_def *job, size_t t)
{
	unsigned char	*seen;
	size_t		*stack, n = 0, i, k, np;
	const size_t	*pred;
	int		 found = 0;

	if (job->dag == NULL)
		return 0;
	seen = xcalloc(job->ntasks + 1, 1);
	stack = xcalloc(job->ntasks + 1, sizeof *stack);
	stack[n++] = t;
	seen[t] = 1;
	while (n > 0 && !found) {
		i = stack[--n];
		pred = dag_pred(job->dag, i);
		np = dag_npred(job->dag, i);
		for (k = 0; k < np; k++) {
			if (seen[pred[k]])
				continue;
			seen[pred[k]] = 1;
			if (job->tasks[pred[k]].stage == MESHD_STAGE_CHECK) {
				found = 1;
				break;
			}
			stack[n++] = pred[k];
		}
	}
	free(seen);
	free(stack);
	return found;
}

/*
 * The gate's other half (dag.c adds its edges: every check task before
 * every publish task): a job that publishes must have a check task, or
 * its publish waits for nothing.  Refused at each publish task, unless
 * the platform allows it (allow_publish_without_check).  Judged here, not
 * in the job loader, so that such a job is refused alone, as any policy
 * violation: meshd runs the others.
 */
static void
check_gate(struct pcheck *c, size_t j)
{
	const struct job_def	*job = c->js->v[j];
	size_t			 t;

	if (c->pc->allow_publish_without_check)
		return;
	for (t = 0; t < job->ntasks; t++)
		if (job->tasks[t].stage == MESHD_STAGE_CHECK)
			return;
	for (t = 0; t < job->ntasks; t++)
		if (job->tasks[t].stage == MESHD_STAGE_PUBLISH)
			pviol(c, j, &job->tasks[t], "publishes with no check "
			    "task in the job: a publish runs only after the "
			    "job's checks pass; add a task with stage = "
			    "\"check\", or allow it with "
			    "allow_publish_without_check = true in the "
			    "policies of meshd.conf");
}

/* Rules about a plugin as a whole, once per job using it (at the first
 * task that does). */
static void
check_plugin(struct pcheck *c, size_t j, const struct task_def *td,
    size_t k)
{
	const struct policy_conf	*pc = c->pc;
	const struct pplugin		*p = &c->pl[k];
	const struct plugin_info	*pi = p->info;
	size_t				 i, m;

	if (pc->own_domain) {
		for (i = 0; i < pi->nproducts; i++)
			if (!same_domain(pi->products[i].name, pi->domain))
				pviol(c, j, td, "plugin '%s' (%s) of domain "
				    "'%s' declares product '%s' of another "
				    "domain (policy own_domain)", pi->name,
				    p->path, pi->domain, pi->products[i].name);
	}
	for (i = 0; i < pc->ndomains; i++) {
		const struct policy_domain *d = &pc->domains[i];
		int under = path_under(p->real, d->dir);

		if (strcmp(d->domain, pi->domain) == 0 && !under)
			pviol(c, j, td, "plugin '%s' (%s) of domain '%s' is "
			    "not in %s (policy plugin_domains)", pi->name,
			    p->path, pi->domain, d->dir);
		else if (strcmp(d->domain, pi->domain) != 0 && under)
			pviol(c, j, td, "plugin '%s' (%s) is in %s, the "
			    "plugins of domain '%s', but is of domain '%s' "
			    "(policy plugin_domains)", pi->name, p->path,
			    d->dir, d->domain, pi->domain);
	}
	/* A product declared by two plugins: the plugin probed later is in
	 * the wrong. */
	for (i = 0; i < pi->nproducts; i++) {
		for (m = 0; m < k; m++) {
			const struct plugin_info *o = c->pl[m].info;
			size_t q;

			if (o == NULL || strcmp(o->name, pi->name) == 0)
				continue;
			for (q = 0; q < o->nproducts; q++)
				if (strcmp(o->products[q].name,
				    pi->products[i].name) == 0)
					break;
			if (q == o->nproducts)
				continue;
			pviol(c, j, td, "plugin '%s' (%s) declares product "
			    "'%s', which plugin '%s' (%s) declares too; a "
			    "product has one producing plugin", pi->name,
			    p->path, pi->products[i].name, o->name,
			    c->pl[m].path);
			break;
		}
	}
}

/*
 * The plugin of task td as the worker will find it (POLICY_PLUGINS): it
 * loads, has the task's stage, and declares the product the task builds.
 * meshd refuses the job at load rather than fail each of its runs.
 */
static void
check_task_plugin(struct pcheck *c, size_t j, const struct task_def *td,
    size_t k)
{
	const struct plugin_info	*pi = c->pl[k].info;
	size_t				 i;

	if (pi == NULL) {
		pviol(c, j, td, "%s", c->pl[k].cause != NULL ? c->pl[k].cause :
		    "plugin refused");
		return;
	}
	if (!pi->has_stage[td->stage])
		pviol(c, j, td, "plugin '%s' (%s) has no %s stage", pi->name,
		    c->pl[k].path, stage_name(td->stage));
	if (td->product == NULL)
		return;
	for (i = 0; i < pi->nproducts; i++)
		if (strcmp(pi->products[i].name, td->product) == 0)
			return;
	pviol(c, j, td, "plugin '%s' (%s) does not build product '%s'",
	    pi->name, c->pl[k].path, td->product);
}

/* Rules about a product built by task t of job j. */
static void
check_product(struct pcheck *c, size_t j, size_t t, size_t k)
{
	const struct policy_conf	*pc = c->pc;
	const struct job_def		*job = c->js->v[j];
	const struct task_def		*td = &job->tasks[t];
	const struct plugin_info	*pi = c->pl[k].info;
	const struct plugin_product_info *pp = NULL;
	const char			*name, *loc;
	size_t				 i;

	if ((name = td->product) == NULL) {
		/* As the engine does: the plugin's first product. */
		if (pi->nproducts == 0)
			return;
		name = pi->products[0].name;
	}
	for (i = 0; i < pi->nproducts; i++)
		if (strcmp(pi->products[i].name, name) == 0)
			pp = &pi->products[i];

	if (pc->own_domain && !same_domain(name, job->domain))
		pviol(c, j, td, "job of domain '%s' builds product '%s' of "
		    "another domain (policy own_domain)", job->domain, name);
	if (pp == NULL)
		return;		/* "does not build product": validate's */
	if (pc->require_owner && (pp->owner == NULL || *pp->owner == '\0'))
		pviol(c, j, td, "product '%s' has no owner: plugin '%s' "
		    "(%s) does not set it (policy require_owner)", name,
		    pi->name, c->pl[k].path);
	if (pc->require_error_check && td->stage == MESHD_STAGE_PUBLISH &&
	    !has_check_upstream(job, t))
		pviol(c, j, td, "product '%s' is published with no check "
		    "task before it (policy require_error_check)", name);
	if (pc->has_pii && has_tag(pp->tags, "pii")) {
		loc = job_product_location(job, name);
		if (loc == NULL)
			loc = pp->location;
		for (i = 0; loc != NULL && i < pc->npii; i++)
			if (strncmp(loc, pc->pii_locations[i],
			    strlen(pc->pii_locations[i])) == 0)
				break;
		if (loc == NULL)
			pviol(c, j, td, "product '%s' is tagged pii and has "
			    "no location (policy pii_locations)", name);
		else if (i == pc->npii)
			pviol(c, j, td, "product '%s' is tagged pii and its "
			    "location %s is not an allowed one (policy "
			    "pii_locations)", name, loc);
	}
	if (pc->contract_re != NULL) {
		if (pp->contract_version == NULL ||
		    *pp->contract_version == '\0')
			pviol(c, j, td, "product '%s' has no contract version "
			    "(policy contract_version: must match %s)", name,
			    pc->contract_re);
		else if (regexec(&pc->contract, pp->contract_version, 0,
		    NULL, 0) != 0)
			pviol(c, j, td, "product '%s' has contract version "
			    "'%s', which does not match %s (policy "
			    "contract_version)", name, pp->contract_version,
			    pc->contract_re);
	}
}

/*
 * What a job file says of products must match what its plugins declare,
 * whatever the policies: a publish task whose plugin declares no product
 * publishes nothing anyone can find, and a `products` entry naming a
 * product no plugin of the job declares (a typo, most often) would leave
 * the real product at its default location without a word.  Judged only
 * when every plugin of the job could be probed: a refused plugin is
 * reported on its own.
 */
static void
check_descriptors(struct pcheck *c, size_t j)
{
	const struct job_def		*job = c->js->v[j];
	const struct plugin_info	*pi;
	const char			**names = NULL, *near;
	size_t				 t, k, i, n = 0, p;
	char				*list = NULL, *tmp;

	for (t = 0; t < job->ntasks; t++) {
		k = pcheck_plugin(c, job->tasks[t].plugin_path);
		if ((pi = c->pl[k].info) == NULL)
			goto out;
		if (job->tasks[t].stage == MESHD_STAGE_PUBLISH &&
		    pi->nproducts == 0)
			pviol(c, j, &job->tasks[t], "publishes, but plugin "
			    "'%s' (%s) declares no product (a publish task "
			    "builds one of its plugin's products)", pi->name,
			    c->pl[k].path);
		for (i = 0; i < pi->nproducts; i++) {
			for (p = 0; p < n; p++)
				if (strcmp(names[p], pi->products[i].name) == 0)
					break;
			if (p < n)
				continue;
			names = xreallocarray(names, n + 2, sizeof *names);
			names[n++] = pi->products[i].name;
			names[n] = NULL;
		}
	}
	for (i = 0; i < job->nproducts; i++) {
		const struct product_override *po = &job->products[i];

		for (p = 0; p < n; p++)
			if (strcmp(names[p], po->name) == 0)
				break;
		if (p < n)
			continue;
		if (list == NULL) {
			list = xstrdup(n == 0 ? "none" : names[0]);
			for (p = 1; p < n; p++) {
				tmp = xasprintf("%s, %s", list, names[p]);
				free(list);
				list = tmp;
			}
		}
		near = n > 0 ? suggest_word(po->name, names) : NULL;
		errlist_error(c->errs, job->file, po->line, "job '%s': "
		    "products: '%s' is not a product of the job's plugins "
		    "(they declare: %s)%s%s%s", job->name, po->name, list,
		    near != NULL ? "; did you mean '" : "",
		    near != NULL ? near : "", near != NULL ? "'?" : "");
		c->bad[j] = 1;
	}
out:
	free(names);
	free(list);
}

/*
 * A product named in a task of two jobs: every job building it is refused,
 * each naming the others.  Refusing only one (by name order, say) would let
 * a new job take a product from the job that has built it for years.  A
 * job refused for another reason does not count, so that it does not take
 * the product from a good job.  Only the `product` key counts: a publish
 * task without one builds its plugin's first product, which many small
 * jobs (tests, first steps) share without meaning to own it.
 */
static void
check_one_producer(struct pcheck *c)
{
	const struct job_def	*job, *o;
	unsigned char		*was;
	size_t			 j, t, i;
	int			 ot;

	/* Refused for other reasons, before this rule flags anyone. */
	was = xcalloc(c->js->n + 1, 1);
	memcpy(was, c->bad, c->js->n);
	for (j = 0; j < c->js->n; j++) {
		if (was[j])
			continue;
		job = c->js->v[j];
		for (t = 0; t < job->ntasks; t++) {
			if (job->tasks[t].product == NULL)
				continue;
			for (i = 0; i < c->js->n; i++) {
				o = c->js->v[i];
				if (i == j || was[i])
					continue;
				if ((ot = job_builds(o, job->tasks[t].product))
				    < 0)
					continue;
				pviol(c, j, &job->tasks[t], "product '%s' is "
				    "also built by job '%s' (%s:%d); a "
				    "product has one producing job: both are "
				    "refused", job->tasks[t].product, o->name,
				    o->file, o->tasks[ot].line);
			}
		}
	}
	free(was);
}

/* Remove the refused jobs, recording them as broken with the errors from
 * `from` on; a job reading a product only a removed job built is refused
 * too, until none is left.  Relinks the inputs. */
static void
drop_jobs(struct pcheck *c, size_t from)
{
	struct jobset	*js = c->js;
	size_t		 i, j, k, n;
	long		 p;
	int		 again = 1;

	while (again) {
		again = 0;
		for (i = 0; i < js->n; i++) {
			const struct job_def *job = js->v[i];

			if (c->bad[i])
				continue;
			for (k = 0; k < job->ninputs; k++) {
				p = job->inputs[k].producer;
				if (p < 0 || (size_t)p >= js->n || !c->bad[p])
					continue;
				/* Another job may build it (the refused one
				 * was its second producer). */
				for (j = 0; j < js->n; j++)
					if (!c->bad[j] && job_builds(js->v[j],
					    job->inputs[k].product) >= 0)
						break;
				if (j < js->n)
					continue;
				errlist_error(c->errs, job->file,
				    job->inputs[k].line, "job '%s': input "
				    "'%s': job '%s', which builds it, is "
				    "refused", job->name,
				    job->inputs[k].product, js->v[p]->name);
				c->bad[i] = 1;
				again = 1;
				break;
			}
		}
	}
	n = js->n;
	jobset_refuse(js, c->bad, c->errs, from);
	if (n == js->n)
		return;
	for (i = 0; i < js->n; i++) {
		struct job_def *job = js->v[i];

		for (k = 0; k < job->ninputs; k++) {
			job->inputs[k].producer = -1;
			for (j = 0; j < js->n; j++)
				if (job_builds(js->v[j],
				    job->inputs[k].product) >= 0) {
					job->inputs[k].producer = (long)j;
					break;
				}
		}
	}
}

/* policy_check(), and with `badp` the refused jobs' flags (by position
 * before any drop; the caller frees them). */
static size_t
policy_judge(const struct meshd_config *cfg, struct jobset *js, int flags,
    struct errlist *errs, unsigned char **badp)
{
	struct pcheck		 c;
	struct policy_conf	*dflt = NULL;
	size_t			 j, t, k, nbad = 0, from = errs->n;

	memset(&c, 0, sizeof c);
	c.cfg = cfg;
	if ((c.pc = cfg->policies) == NULL)
		c.pc = dflt = policy_conf_defaults();
	c.js = js;
	c.errs = errs;
	c.bad = xcalloc(js->n + 1, 1);

	/* Probe in the order of use, so that "declared by two plugins"
	 * blames the same one on every run. */
	for (j = 0; j < js->n; j++)
		for (t = 0; t < js->v[j]->ntasks; t++)
			pcheck_plugin(&c, js->v[j]->tasks[t].plugin_path);
	c.seen = xcalloc(c.npl + 1, 1);

	for (j = 0; j < js->n; j++) {
		const struct job_def *job = js->v[j];

		memset(c.seen, 0, c.npl + 1);
		check_gate(&c, j);
		check_descriptors(&c, j);
		for (t = 0; t < job->ntasks; t++) {
			const struct task_def *td = &job->tasks[t];

			k = pcheck_plugin(&c, td->plugin_path);
			if (flags & POLICY_PLUGINS)
				check_task_plugin(&c, j, td, k);
			if (c.pl[k].info == NULL)
				continue;
			if (!c.seen[k]) {
				c.seen[k] = 1;
				check_plugin(&c, j, td, k);
			}
			if (td->stage == MESHD_STAGE_PUBLISH ||
			    td->product != NULL)
				check_product(&c, j, t, k);
		}
	}
	check_one_producer(&c);

	for (j = 0; j < js->n; j++)
		nbad += c.bad[j];
	if (nbad > 0 && (flags & POLICY_DROP)) {
		k = js->n;
		drop_jobs(&c, from);
		nbad = k - js->n;
	}

	for (k = 0; k < c.npl; k++) {
		if (c.pl[k].info != NULL)
			plugin_info_free(c.pl[k].info);
		free(c.pl[k].real);
		free(c.pl[k].cause);
	}
	free(c.pl);
	free(c.seen);
	if (badp != NULL)
		*badp = c.bad;
	else
		free(c.bad);
	policy_conf_free(dflt);
	return nbad;
}

size_t
policy_check(const struct meshd_config *cfg, struct jobset *js, int flags,
    struct errlist *errs)
{
	return policy_judge(cfg, js, flags, errs, NULL);
}

int
policy_refuses(const struct meshd_config *cfg, struct jobset *js,
    const char *name, struct errlist *errs)
{
	struct errlist	 all = ERRLIST_INIT;
	unsigned char	*bad = NULL;
	long		 pos = jobset_pos(js, name);
	size_t		 i;
	int		 refused;

	if (pos < 0)
		return 0;
	policy_judge(cfg, js, 0, &all, &bad);
	refused = bad[pos] != 0;
	for (i = 0; i < all.n; i++)
		if (all.v[i].file != NULL &&
		    strcmp(all.v[i].file, js->v[pos]->file) == 0)
			errlist_add(errs, all.v[i].level, all.v[i].file,
			    all.v[i].line, "%s", all.v[i].msg);
	free(bad);
	errlist_free(&all);
	return refused;
}

size_t
policy_enforce(const struct meshd_config *cfg, struct jobset *js)
{
	struct errlist	errs = ERRLIST_INIT;
	size_t		i, n;

	n = policy_check(cfg, js, POLICY_DROP | POLICY_PLUGINS, &errs);
	for (i = 0; i < errs.n; i++)
		log_msg(errs.v[i].level == DIAG_ERROR ? LOG_LVL_ERROR :
		    LOG_LVL_WARN, "%s:%d: %s", errs.v[i].file != NULL ?
		    errs.v[i].file : "?", errs.v[i].line, errs.v[i].msg);
	if (n > 0)
		log_error("refused %zu job%s that break%s a policy, use%s a "
		    "plugin wrongly or share%s a product (above; meshctl "
		    "validate shows the same); the other %zu job%s run", n,
		    n == 1 ? "" : "s", n == 1 ? "s" : "", n == 1 ? "s" : "",
		    n == 1 ? "s" : "", js->n, js->n == 1 ? "" : "s");
	errlist_free(&errs);
	return n;
}
