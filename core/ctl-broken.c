/*
 * ctl-broken.c -- meshctl's view of refused jobs (ctl-broken.h).
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "ctl-broken.h"
#include "lock.h"
#include "meshctl.h"
#include "policy.h"

int
ctl_jobs_judged(struct ctl *ctl, struct jobset *js, struct errlist *errs,
    json_t *health)
{
	const char	**ext = NULL;
	json_t		 *b, *p;
	size_t		  next = 0, i, k;

	memset(js, 0, sizeof *js);
	if (ctl_config(ctl) == NULL)
		return -1;
	jobs_load_files(ctl->cfg, js, errs);
	/* A broken job meshd still runs the previous version of builds its
	 * products as before: its readers run, as in meshd. */
	json_array_foreach(health != NULL ? json_object_get(health,
	    "broken_jobs") : NULL, i, b) {
		if (!json_is_true(json_object_get(b, "running_previous")))
			continue;
		json_array_foreach(json_object_get(b, "products"), k, p) {
			if (!json_is_string(p))
				continue;
			ext = xreallocarray(ext, next + 1, sizeof *ext);
			ext[next++] = json_string_value(p);
		}
	}
	jobs_link_ext(js, errs, ext, next);
	free(ext);
	policy_check(ctl->cfg, js, POLICY_DROP | POLICY_PLUGINS, errs);
	return 0;
}

json_t *
ctl_health(struct ctl *ctl, pid_t *pidp)
{
	char		*path;
	json_t		*h;
	json_error_t	 err;
	pid_t		 pid;

	*pidp = 0;
	if (ctl_config(ctl) == NULL ||
	    (pid = state_lock_holder(ctl->cfg->state_db)) <= 0)
		return NULL;
	*pidp = pid;
	path = xasprintf("%s.health", ctl->cfg->state_db);
	h = json_load_file(path, 0, &err);
	free(path);
	/* A file left by an earlier meshd says nothing of this one. */
	if (h != NULL && (!json_is_object(h) || json_integer_value(
	    json_object_get(h, "pid")) != (json_int_t)pid)) {
		json_decref(h);
		h = NULL;
	}
	return h;
}

int
ctl_health_previous(json_t *health, const char *name)
{
	json_t	*b;
	size_t	 i;

	if (health == NULL)
		return 0;
	json_array_foreach(json_object_get(health, "broken_jobs"), i, b) {
		const char *job = json_string_value(json_object_get(b, "job"));

		if (job != NULL && strcmp(job, name) == 0)
			return json_is_true(json_object_get(b,
			    "running_previous"));
	}
	return 0;
}

char *
ctl_broken_first(const struct job_broken *b)
{
	const struct diag	*dg = NULL;
	size_t			 i;

	for (i = 0; i < b->errs.n && dg == NULL; i++)
		if (b->errs.v[i].level == DIAG_ERROR)
			dg = &b->errs.v[i];
	if (dg == NULL)
		return xasprintf("%s: refused", b->file);
	return xasprintf("%s:%d: %s", dg->file != NULL ? dg->file : b->file,
	    dg->line, dg->msg);
}

json_t *
ctl_broken_json(const struct job_broken *b)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < b->errs.n; i++)
		json_array_append_new(a, json_pack("{s:s?, s:i, s:s, s:s}",
		    "file", b->errs.v[i].file, "line", b->errs.v[i].line,
		    "level", b->errs.v[i].level == DIAG_ERROR ? "error" :
		    "warning", "message", b->errs.v[i].msg));
	return a;
}
