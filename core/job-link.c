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

static int
jobs_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
jobs_load_files(const struct meshd_config *cfg, struct jobset *out,
    struct errlist *errs)
{
	DIR		 *d;
	struct dirent	 *de;
	struct job_def	 *job, *prev;
	char		**names = NULL, *path;
	size_t		  nnames = 0, i, len, from, nerr0 = errs->nerrors;
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
		from = errs->n;
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
		} else
			jobset_add_broken(out, path, errs, from);
		free(path);
		free(names[i]);
	}
	free(names);
	return errs->nerrors > nerr0 ? -1 : 0;
}

int
jobs_load(const struct meshd_config *cfg, struct jobset *out,
    struct errlist *errs)
{
	size_t	nerr0 = errs->nerrors;

	jobs_load_files(cfg, out, errs);
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

/* The input of job i that reads a product of job p; -1 if none. */
static long
jobs_input_from(const struct job_def *job, long p)
{
	size_t	k;

	for (k = 0; k < job->ninputs; k++)
		if (job->inputs[k].producer == p)
			return (long)k;
	return -1;
}

/*
 * Depth-first search for a cycle through job i's inputs; color 0 unseen,
 * 1 on the path, 2 done.  Every job on a cycle is marked bad and told the
 * whole cycle at its own input on it, so that each team sees why its job
 * is refused.
 */
static void
jobs_cycle(struct jobset *js, size_t i, unsigned char *color, size_t *path,
    size_t depth, unsigned char *bad, struct errlist *errs)
{
	struct job_def	*job = js->v[i], *on;
	size_t		 k, p, d, e, len;
	long		 in;
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
			len = 1 + strlen(js->v[p]->name);
			for (e = d; e <= depth; e++)
				len += strlen(js->v[path[e]]->name) + 4;
			msg = xcalloc(1, len);
			for (e = d; e <= depth; e++) {
				strcat(msg, js->v[path[e]]->name);
				strcat(msg, " -> ");
			}
			strcat(msg, js->v[p]->name);
			for (e = d; e <= depth; e++) {
				on = js->v[path[e]];
				in = e < depth ? jobs_input_from(on,
				    (long)path[e + 1]) : (long)k;
				bad[path[e]] = 1;
				errlist_error(errs, on->file, in < 0 ? 0 :
				    on->inputs[in].line, "job '%s': input '%s' "
				    "makes a cycle between jobs through their "
				    "products: %s", on->name, in < 0 ? "?" :
				    on->inputs[in].product, msg);
			}
			free(msg);
			continue;
		}
		if (color[p] == 0)
			jobs_cycle(js, p, color, path, depth + 1, bad, errs);
	}
	color[i] = 2;
}

/* A product whose producing job was refused by jobs_link(). */
struct link_lost {
	char	*product;
	char	*job;
};

size_t
jobs_link(struct jobset *js, struct errlist *errs)
{
	return jobs_link_ext(js, errs, NULL, 0);
}

size_t
jobs_link_ext(struct jobset *js, struct errlist *errs,
    const char *const *ext, size_t next)
{
	struct product_job	*pj, key, *hit;
	struct link_lost	*lost = NULL;
	unsigned char		*bad, *color;
	size_t			*path, n, i, k, t, l, from, nbad, total = 0;
	size_t			 nlost = 0;

	for (;;) {
		from = errs->n;
		pj = NULL;
		n = 0;
		for (i = 0; i < js->n; i++)
			for (t = 0; t < js->v[i]->ntasks; t++)
				if (js->v[i]->tasks[t].product != NULL) {
					pj = xreallocarray(pj, n + 1,
					    sizeof *pj);
					pj[n].product =
					    js->v[i]->tasks[t].product;
					pj[n++].job = i;
				}
		if (n > 0)
			qsort(pj, n, sizeof *pj, product_job_cmp);
		bad = xcalloc(js->n + 1, 1);
		for (i = 0; i < js->n; i++) {
			struct job_def *job = js->v[i];

			for (k = 0; k < job->ninputs; k++) {
				job->inputs[k].producer = -1;
				key.product = job->inputs[k].product;
				hit = n > 0 ? bsearch(&key, pj, n, sizeof *pj,
				    product_job_cmp) : NULL;
				if (hit != NULL) {
					job->inputs[k].producer =
					    (long)hit->job;
					continue;
				}
				for (l = 0; l < next; l++)
					if (strcmp(ext[l], key.product) == 0)
						break;
				if (l < next)
					continue;
				for (l = 0; l < nlost; l++)
					if (strcmp(lost[l].product,
					    key.product) == 0)
						break;
				if (l < nlost)
					errlist_error(errs, job->file,
					    job->inputs[k].line, "job '%s': "
					    "input '%s': job '%s', which builds "
					    "it, is refused", job->name,
					    key.product, lost[l].job);
				else
					errlist_error(errs, job->file,
					    job->inputs[k].line, "job '%s': "
					    "input '%s': no job builds this "
					    "product", job->name, key.product);
				bad[i] = 1;
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
		for (i = nbad = 0; i < js->n; i++) {
			if (!bad[i])
				continue;
			nbad++;
			/* Its readers are told who built what they read. */
			for (t = 0; t < js->v[i]->ntasks; t++) {
				if (js->v[i]->tasks[t].product == NULL)
					continue;
				lost = xreallocarray(lost, nlost + 1,
				    sizeof *lost);
				lost[nlost].product = xstrdup(
				    js->v[i]->tasks[t].product);
				lost[nlost++].job = xstrdup(js->v[i]->name);
			}
		}
		if (nbad > 0)
			jobset_refuse(js, bad, errs, from);
		free(bad);
		total += nbad;
		/* Positions changed: link the rest again, which may refuse
		 * the readers of what the refused jobs built. */
		if (nbad == 0)
			break;
	}
	for (l = 0; l < nlost; l++) {
		free(lost[l].product);
		free(lost[l].job);
	}
	free(lost);
	return total;
}

/* "jobs/x.conf" -> "x". */
static char *
jobs_file_job(const char *file)
{
	const char	*base = strrchr(file, '/');
	size_t		 n;

	base = base == NULL ? file : base + 1;
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".conf") == 0)
		n -= 5;
	return xstrndup(base, n);
}

struct job_broken *
jobset_add_broken(struct jobset *js, const char *file,
    const struct errlist *errs, size_t from)
{
	struct job_broken	*b = NULL;
	const struct diag	*dg;
	char			*name;
	size_t			 i, at;

	for (i = 0; i < js->nbroken; i++)
		if (strcmp(js->broken[i].file, file) == 0) {
			b = &js->broken[i];
			break;
		}
	if (b == NULL) {
		/* In name order, as the files are loaded. */
		name = jobs_file_job(file);
		for (at = 0; at < js->nbroken &&
		    strcmp(js->broken[at].name, name) <= 0; at++)
			;
		js->broken = xreallocarray(js->broken, js->nbroken + 1,
		    sizeof *js->broken);
		memmove(&js->broken[at + 1], &js->broken[at],
		    (js->nbroken - at) * sizeof *js->broken);
		js->nbroken++;
		b = &js->broken[at];
		memset(b, 0, sizeof *b);
		b->name = name;
		b->file = xstrdup(file);
	}
	for (i = from; i < errs->n; i++) {
		dg = &errs->v[i];
		/* Diagnostics without a file (a jobs directory that cannot
		 * be read) are nobody's in particular. */
		if (dg->file == NULL || strcmp(dg->file, file) != 0)
			continue;
		errlist_add(&b->errs, dg->level, dg->file, dg->line, "%s",
		    dg->msg);
	}
	return b;
}

struct job_broken *
jobset_broken(const struct jobset *js, const char *name)
{
	size_t	i;

	for (i = 0; i < js->nbroken; i++)
		if (strcmp(js->broken[i].name, name) == 0)
			return &js->broken[i];
	return NULL;
}

void
jobset_refuse(struct jobset *js, const unsigned char *bad,
    const struct errlist *errs, size_t from)
{
	size_t			 i, j;

	struct job_broken	*b;

	for (i = j = 0; i < js->n; i++) {
		if (!bad[i]) {
			js->v[j++] = js->v[i];
			continue;
		}
		/* A previous version refused again (under new policies, or
		 * beside a new job) does not run either, but its runs may:
		 * it is parked, not freed. */
		b = jobset_broken(js, js->v[i]->name);
		if (b != NULL && b->previous && b->parked == NULL) {
			b->parked = js->v[i];
			b->previous = 0;
			jobset_add_broken(js, js->v[i]->file, errs, from);
			continue;
		}
		jobset_add_broken(js, js->v[i]->file, errs, from)->previous =
		    0;
		job_free(js->v[i]);
	}
	if (j == js->n)
		return;
	js->n = j;
	jobset_reindex(js);
}

static int
job_ptr_cmp(const void *a, const void *b)
{
	return strcmp((*(struct job_def *const *)a)->name,
	    (*(struct job_def *const *)b)->name);
}

size_t
jobs_keep_previous(struct jobset *js, struct jobset *old)
{
	struct job_broken	*b;
	size_t			 i, moved = 0;
	long			 pos;

	for (i = 0; i < js->nbroken; i++) {
		b = &js->broken[i];
		if (b->previous || (pos = jobset_pos(old, b->name)) < 0)
			continue;
		js->v = xreallocarray(js->v, js->n + 1, sizeof *js->v);
		js->v[js->n++] = old->v[pos];
		memmove(&old->v[pos], &old->v[pos + 1],
		    (old->n - (size_t)pos - 1) * sizeof *old->v);
		old->n--;
		jobset_reindex(old);
		b->previous = 1;
		moved++;
	}
	if (moved > 0) {
		/* Name order, as loaded. */
		qsort(js->v, js->n, sizeof *js->v, job_ptr_cmp);
		jobset_reindex(js);
	}
	return moved;
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
	for (i = 0; i < js->nbroken; i++) {
		if (js->broken[i].parked != NULL)
			job_free(js->broken[i].parked);
		free(js->broken[i].name);
		free(js->broken[i].file);
		errlist_free(&js->broken[i].errs);
	}
	free(js->broken);
	memset(js, 0, sizeof *js);
}
