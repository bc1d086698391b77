/*
 * job-link.c -- job sets: every job file of the jobs directory, loaded one
 * by one by job.c, then linked across jobs: each input to the job that
 * builds its product, and no cycle between jobs through their products.
 * Also the set's name index.
 */
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "job-int.h"
#include "util.h"

/* ------------------------------------------------------------ job sets */

static void	jobset_index(struct jobset *, size_t);
static void	jobs_link(struct jobset *, struct errlist *);

static int
jobs_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
jobs_load(const struct meshd_config *cfg, struct jobset *out,
    struct errlist *errs)
{
	DIR		 *d;
	struct dirent	 *de;
	struct job_def	 *job, *prev;
	char		**names = NULL, *path;
	size_t		  nnames = 0, i, len, nerr0 = errs->nerrors;
	int		  line;

	if ((d = opendir(cfg->jobs_dir)) == NULL) {
		errlist_error(errs, cfg->jobs_dir, 0,
		    "cannot read jobs directory: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		/* Dot files are editor and sync leftovers, not jobs. */
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= 5 ||
		    strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		names = xreallocarray(names, nnames + 1, sizeof *names);
		names[nnames++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (nnames > 0)
		qsort(names, nnames, sizeof *names, jobs_cmp);

	for (i = 0; i < nnames; i++) {
		path = path_join(cfg->jobs_dir, names[i]);
		job = job_load(cfg, path, errs, &line);
		if (job != NULL &&
		    (prev = jobset_find(out, job->name)) != NULL) {
			errlist_error(errs, path, line, "job name '%s' is "
			    "already used by %s", job->name, prev->file);
			job_free(job);
			job = NULL;
		}
		if (job != NULL) {
			out->v = xreallocarray(out->v, out->n + 1,
			    sizeof *out->v);
			out->v[out->n++] = job;
			jobset_index(out, out->n - 1);
		}
		free(path);
		free(names[i]);
	}
	free(names);
	jobs_link(out, errs);
	return errs->nerrors > nerr0 ? -1 : 0;
}

struct product_job {
	const char	*product;
	size_t		 job;
};

static int
product_job_cmp(const void *a, const void *b)
{
	return strcmp(((const struct product_job *)a)->product,
	    ((const struct product_job *)b)->product);
}

/*
 * Depth-first search for a cycle through job i's inputs; color 0 unseen,
 * 1 on the path, 2 done.  On a cycle, marks its jobs bad and reports it
 * once, at the input that closes it.
 */
static int
jobs_cycle(struct jobset *js, size_t i, unsigned char *color, size_t *path,
    size_t depth, unsigned char *bad, struct errlist *errs)
{
	struct job_def	*job = js->v[i];
	size_t		 k, p, d, len;
	char		*msg;

	color[i] = 1;
	path[depth] = i;
	for (k = 0; k < job->ninputs; k++) {
		if (job->inputs[k].producer < 0)
			continue;
		p = (size_t)job->inputs[k].producer;
		if (color[p] == 1) {
			/* The path from p back to p. */
			for (d = 0; d <= depth && path[d] != p; d++)
				;
			len = 1;
			for (size_t e = d; e <= depth; e++)
				len += strlen(js->v[path[e]]->name) + 4;
			msg = xcalloc(1, len + strlen(js->v[p]->name));
			for (size_t e = d; e <= depth; e++) {
				bad[path[e]] = 1;
				strcat(msg, js->v[path[e]]->name);
				strcat(msg, " -> ");
			}
			strcat(msg, js->v[p]->name);
			errlist_error(errs, job->file, job->inputs[k].line,
			    "job '%s': input '%s' makes a cycle between jobs "
			    "through their products: %s", job->name,
			    job->inputs[k].product, msg);
			free(msg);
			continue;
		}
		if (color[p] == 0 &&
		    jobs_cycle(js, p, color, path, depth + 1, bad, errs) != 0)
			bad[i] = 1;
	}
	color[i] = 2;
	return bad[i] ? 1 : 0;
}

/*
 * Across jobs: find the job that builds each input's product (an input
 * nobody builds is an error), and refuse cycles between jobs through
 * their products.  Jobs with such an error are taken out of the set.
 */
static void
jobs_link(struct jobset *js, struct errlist *errs)
{
	struct product_job	*pj = NULL, key, *hit;
	unsigned char		*bad, *color;
	size_t			*path, n = 0, i, k, t, j;

	for (i = 0; i < js->n; i++)
		for (t = 0; t < js->v[i]->ntasks; t++)
			if (js->v[i]->tasks[t].product != NULL) {
				pj = xreallocarray(pj, n + 1, sizeof *pj);
				pj[n].product = js->v[i]->tasks[t].product;
				pj[n++].job = i;
			}
	if (n > 0)
		qsort(pj, n, sizeof *pj, product_job_cmp);
	bad = xcalloc(js->n + 1, 1);
	for (i = 0; i < js->n; i++) {
		struct job_def *job = js->v[i];

		for (k = 0; k < job->ninputs; k++) {
			key.product = job->inputs[k].product;
			hit = n > 0 ? bsearch(&key, pj, n, sizeof *pj,
			    product_job_cmp) : NULL;
			if (hit == NULL) {
				errlist_error(errs, job->file,
				    job->inputs[k].line, "job '%s': input "
				    "'%s': no job builds this product",
				    job->name, job->inputs[k].product);
				bad[i] = 1;
				continue;
			}
			job->inputs[k].producer = (long)hit->job;
		}
	}
	color = xcalloc(js->n + 1, 1);
	path = xcalloc(js->n + 1, sizeof *path);
	for (i = 0; i < js->n; i++)
		if (color[i] == 0 && js->v[i]->ninputs > 0)
			jobs_cycle(js, i, color, path, 0, bad, errs);
	free(color);
	free(path);
	free(pj);
	for (i = 0; i < js->n && !bad[i]; i++)
		;
	if (i < js->n) {
		/* Take the refused jobs out; indexes change, so link the
		 * rest again. */
		for (i = j = 0; i < js->n; i++) {
			if (bad[i])
				job_free(js->v[i]);
			else
				js->v[j++] = js->v[i];
		}
		js->n = j;
		jobset_reindex(js);
		free(bad);
		jobs_link(js, errs);
		return;
	}
	free(bad);
}

static size_t
name_hash(const char *s)
{
	size_t	h = 5381;

	while (*s != '\0')
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/* Add job v[i] to the name index, growing it to keep it half empty. */
static void
jobset_index(struct jobset *js, size_t i)
{
	size_t	j, h;

	if (js->n * 2 > js->hcap) {
		free(js->hidx);
		js->hcap = js->hcap == 0 ? 64 : js->hcap * 2;
		while (js->hcap < js->n * 2)
			js->hcap *= 2;
		js->hidx = xcalloc(js->hcap, sizeof *js->hidx);
		for (j = 0; j < js->n; j++) {
			if (j == i)
				continue;
			h = name_hash(js->v[j]->name) & (js->hcap - 1);
			while (js->hidx[h] != 0)
				h = (h + 1) & (js->hcap - 1);
			js->hidx[h] = j + 1;
		}
	}
	h = name_hash(js->v[i]->name) & (js->hcap - 1);
	while (js->hidx[h] != 0)
		h = (h + 1) & (js->hcap - 1);
	js->hidx[h] = i + 1;
}

void
jobset_reindex(struct jobset *js)
{
	size_t	i;

	free(js->hidx);
	js->hidx = NULL;
	js->hcap = 0;
	for (i = 0; i < js->n; i++)
		jobset_index(js, i);
}

long
jobset_pos(const struct jobset *js, const char *name)
{
	size_t	i, h;

	if (js->hcap == 0) {
		/* A set built by hand, without jobs_load(). */
		for (i = 0; i < js->n; i++)
			if (strcmp(js->v[i]->name, name) == 0)
				return (long)i;
		return -1;
	}
	h = name_hash(name) & (js->hcap - 1);
	for (; js->hidx[h] != 0; h = (h + 1) & (js->hcap - 1)) {
		i = js->hidx[h] - 1;
		if (strcmp(js->v[i]->name, name) == 0)
			return (long)i;
	}
	return -1;
}

struct job_def *
jobset_find(const struct jobset *js, const char *name)
{
	long	i = jobset_pos(js, name);

	return i < 0 ? NULL : js->v[i];
}

void
jobset_free(struct jobset *js)
{
	size_t	i;

	for (i = 0; i < js->n; i++)
		job_free(js->v[i]);
	free(js->v);
	free(js->hidx);
	js->v = NULL;
	js->n = 0;
	js->hidx = NULL;
	js->hcap = 0;
}
