/*
 * slurm-sbatch.c -- the arguments and the script of one sbatch call.
 *
 * A job runs `meshd-worker REQUEST`; an array runs `meshd-worker --array
 * LIST`, which takes line $SLURM_ARRAY_TASK_ID of the list: one sbatch for
 * a whole backfill instead of one per partition.  The script is a file in
 * the spool (not --wrap) so that an operator can read what ran.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "slurm-int.h"

char *
sb_time_arg(const struct executor_def *def, int kill_grace_s,
    const struct sb_task *t, size_t n)
{
	int64_t	max = 0, s;
	size_t	i;

	for (i = 0; i < n; i++) {
		if (t[i].timeout_us <= 0)
			return xstrdup_null(def->time_limit);
		s = (t[i].timeout_us + 999999) / 1000000 + kill_grace_s + 60;
		if (s > max)
			max = s;
	}
	if (n == 0)
		return xstrdup_null(def->time_limit);
	return xasprintf("%lld", (long long)((max + 59) / 60));
}

int
sb_mem_mb(const struct sb_task *t, size_t n)
{
	int	max = 0;
	size_t	i;

	for (i = 0; i < n; i++)
		if (t[i].memory_mb > max)
			max = t[i].memory_mb;
	return max > 0 ? max + 64 : 0;
}

char **
sb_argv(const struct executor_def *def, int kill_grace_s,
    const char *job_name, const struct sb_task *t, size_t n,
    int array_index, const char *script, char **time_arg, int *mem_mb)
{
	char	**av;
	size_t	  k = 0, i;
	int	  throttle;

	av = xcalloc(def->nsbatch_args + 12, sizeof *av);
	av[k++] = xstrdup("sbatch");
	av[k++] = xstrdup("--parsable");
	av[k++] = xasprintf("--job-name=%s", job_name);
	if (def->partition != NULL && *def->partition != '\0')
		av[k++] = xasprintf("--partition=%s", def->partition);
	*time_arg = sb_time_arg(def, kill_grace_s, t, n);
	if (*time_arg != NULL)
		av[k++] = xasprintf("--time=%s", *time_arg);
	*mem_mb = sb_mem_mb(t, n);
	if (*mem_mb > 0)
		av[k++] = xasprintf("--mem=%d", *mem_mb);
	av[k++] = xstrdup("-o");
	av[k++] = xasprintf("%s/%%x-%%A_%%a.out", def->spool_dir);
	if (array_index >= 0)
		av[k++] = xasprintf("--array=%d", array_index);
	else if (n > 1) {
		throttle = def->max_jobs > 0 ? def->max_jobs : 1000;
		if (n > (size_t)throttle)
			av[k++] = xasprintf("--array=0-%zu%%%d", n - 1,
			    throttle);
		else
			av[k++] = xasprintf("--array=0-%zu", n - 1);
	}
	for (i = 0; i < def->nsbatch_args; i++)
		av[k++] = xstrdup(def->sbatch_args[i]);
	av[k++] = xstrdup(script);
	av[k] = NULL;
	return av;
}

void
sb_argv_free(char **av)
{
	size_t	i;

	if (av == NULL)
		return;
	for (i = 0; av[i] != NULL; i++)
		free(av[i]);
	free(av);
}

char *
sb_script(const char *worker, const char *attempt_dir, const char *list)
{
	char	*w, *a, *s, *req;

	w = sh_quote(worker);
	if (list != NULL) {
		a = sh_quote(list);
		s = xasprintf("#!/bin/sh\n# meshd: an array of attempts, one "
		    "request per line of the list\nexec %s --array %s\n", w, a);
	} else {
		req = xasprintf("%s/request", attempt_dir);
		a = sh_quote(req);
		free(req);
		s = xasprintf("#!/bin/sh\n# meshd: one attempt\nexec %s %s\n",
		    w, a);
	}
	free(w);
	free(a);
	return s;
}

char *
sb_out_path(const char *spool, const char *name, const char *job_id,
    int index)
{
	if (index < 0)
		return xasprintf("%s/%s-%s_4294967294.out", spool, name,
		    job_id);
	return xasprintf("%s/%s-%s_%d.out", spool, name, job_id, index);
}

int
sb_write_file(const char *path, const char *text, int mode, char **cause)
{
	char	*tmp;
	size_t	 len = strlen(text), off = 0;
	ssize_t	 w;
	int	 fd;

	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode)) == -1) {
		set_cause(cause, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	while (off < len) {
		if ((w = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			set_cause(cause, "%s: %s", tmp, strerror(errno));
			goto fail;
		}
		off += (size_t)w;
	}
	/* The node reads it over shared storage: on disk before sbatch. */
	if (fsync(fd) == -1 || fchmod(fd, (mode_t)mode) == -1) {
		set_cause(cause, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		set_cause(cause, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

char *
sb_parse_job_id(const char *out)
{
	size_t	n = 0;

	while (*out == ' ' || *out == '\n')
		out++;
	while (out[n] >= '0' && out[n] <= '9')
		n++;
	if (n == 0 || n > 19 || (out[n] != '\0' && out[n] != ';' &&
	    out[n] != '\n' && out[n] != ' ' && out[n] != '\r'))
		return NULL;
	return xstrndup(out, n);
}
