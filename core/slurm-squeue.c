/*
 * slurm-squeue.c -- what squeue says, and what it means for an attempt.
 *
 * Pure text in, text out, so that tests/check_slurm.c can feed it output
 * captured from a real cluster.  Measured on slurm-wlm 22.05 with
 * `squeue -h -t all -r -O SQUEUE_FORMAT`: a pending array element shows
 * the array's id as its JobID and its index as ArrayTaskID; once it runs
 * it has a JobID of its own; a plain job's ArrayTaskID is N/A; exit_code
 * is the raw wait status (768 = exit 3, 11 = SIGSEGV).
 */
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "executor.h"
#include "slurm-int.h"

/* A decimal job id: digits only, no sign, fits. */
static int
sq_is_id(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || n > 19)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
sq_int(const char *s, size_t n, int *out)
{
	long	v = 0;
	size_t	i;

	if (n == 0 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* Trailing blanks, which squeue pads a column with when it has a width. */
static size_t
sq_trim(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r'))
		n--;
	return n;
}

static int
sq_line(const char *s, size_t n, struct sq_row *row, int with_out)
{
	const char	*f[8];
	size_t		 fl[8], k = 0, last = with_out ? 7 : 6;
	const char	*p = s, *e = s + n, *bar;

	/* Six '|' separate the seven columns (seven the eight, with StdOut
	 * before the name); the name, last, may hold '|' itself. */
	while (k < last) {
		if ((bar = memchr(p, '|', (size_t)(e - p))) == NULL)
			return -1;
		f[k] = p;
		fl[k] = sq_trim(p, (size_t)(bar - p));
		while (fl[k] > 0 && *f[k] == ' ') {
			f[k]++;
			fl[k]--;
		}
		k++;
		p = bar + 1;
	}
	f[last] = p;
	fl[last] = sq_trim(p, (size_t)(e - p));
	memset(row, 0, sizeof *row);
	if (!sq_is_id(f[0], fl[0]) || !sq_is_id(f[1], fl[1]) || fl[3] == 0)
		return -1;
	if (fl[2] == 3 && memcmp(f[2], "N/A", 3) == 0)
		row->array_task = -1;
	else if (sq_int(f[2], fl[2], &row->array_task) != 0)
		return -1;
	if (sq_int(f[4], fl[4], &row->exit_raw) != 0)
		return -1;
	for (k = 0; k < fl[3]; k++)
		if (!(f[3][k] >= 'A' && f[3][k] <= 'Z') && f[3][k] != '_')
			return -1;
	row->job_id = xstrndup(f[0], fl[0]);
	row->array_job_id = xstrndup(f[1], fl[1]);
	row->state = xstrndup(f[3], fl[3]);
	row->reason = xstrndup(f[5], fl[5]);
	row->name = xstrndup(f[last], fl[last]);
	if (with_out)
		row->out = xstrndup(f[6], fl[6]);
	return 0;
}

static struct sq_row *
sq_parse_with(const char *text, size_t *n, size_t *bad, int with_out)
{
	struct sq_row	*rows = NULL, row;
	size_t		 cap = 0, nbad = 0;
	const char	*p = text, *nl;
	size_t		 len;

	*n = 0;
	while (*p != '\0') {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (sq_trim(p, len) != 0) {
			if (sq_line(p, len, &row, with_out) == 0) {
				if (*n == cap) {
					cap = cap == 0 ? 16 : cap * 2;
					rows = xreallocarray(rows, cap,
					    sizeof *rows);
				}
				rows[(*n)++] = row;
			} else
				nbad++;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (bad != NULL)
		*bad = nbad;
	return rows;
}

struct sq_row *
sq_parse(const char *text, size_t *n, size_t *bad)
{
	return sq_parse_with(text, n, bad, 0);
}

struct sq_row *
sq_parse_out(const char *text, size_t *n, size_t *bad)
{
	return sq_parse_with(text, n, bad, 1);
}

void
sq_rows_free(struct sq_row *rows, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(rows[i].job_id);
		free(rows[i].array_job_id);
		free(rows[i].state);
		free(rows[i].reason);
		free(rows[i].name);
		free(rows[i].out);
	}
	free(rows);
}

enum sq_class
sq_classify(const char *state)
{
	static const char *const ended[] = {
		"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT",
		"OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL",
		"DEADLINE", "REVOKED", "SPECIAL_EXIT"
	};
	static const char *const queued[] = {
		"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
		"RESV_DEL_HOLD"
	};
	size_t	i;

	for (i = 0; i < nitems(ended); i++)
		if (strcmp(state, ended[i]) == 0)
			return SQ_ENDED;
	for (i = 0; i < nitems(queued); i++)
		if (strcmp(state, queued[i]) == 0)
			return SQ_PENDING;
	/* RUNNING, CONFIGURING, COMPLETING, SUSPENDED, STOPPED,
	 * SIGNALING, STAGE_OUT, RESIZING, and any word a later Slurm adds:
	 * in flight until it says it ended. */
	return SQ_RUNNING;
}

char *
sq_end_reason(const struct sq_end *e, int *retryable, int *infra)
{
	const char	*st = e->state;
	char		*x, *r, *see;

	*retryable = 1;
	*infra = 0;
	if (e->cancel_why != NULL) {
		*retryable = 0;
		return xstrdup(e->cancel_why);
	}
	if (strcmp(st, "TIMEOUT") == 0) {
		if (e->time_arg != NULL)
			return xasprintf("slurm: TIMEOUT: the job ran over its "
			    "time limit (--time=%s)", e->time_arg);
		return xstrdup("slurm: TIMEOUT: the job ran over its time "
		    "limit (the partition's default)");
	}
	if (strcmp(st, "OUT_OF_MEMORY") == 0) {
		if (e->mem_mb > 0)
			return xasprintf("slurm: OUT_OF_MEMORY: over --mem=%dM",
			    e->mem_mb);
		return xstrdup("slurm: OUT_OF_MEMORY: over the partition's "
		    "default memory");
	}
	if (strcmp(st, "NODE_FAIL") == 0) {
		*infra = 1;
		return xasprintf("slurm: NODE_FAIL: node %s failed",
		    e->node != NULL && *e->node != '\0' ? e->node : "(unknown)");
	}
	if (strcmp(st, "PREEMPTED") == 0) {
		*infra = 1;
		return xstrdup("slurm: PREEMPTED: the job was preempted by "
		    "another job");
	}
	if (strcmp(st, "BOOT_FAIL") == 0) {
		*infra = 1;
		return xstrdup("slurm: BOOT_FAIL: the node failed to boot");
	}
	if (strcmp(st, "DEADLINE") == 0) {
		*retryable = 0;
		return xstrdup("slurm: DEADLINE: the job reached its deadline "
		    "before it could run");
	}
	if (strcmp(st, "CANCELLED") == 0) {
		*retryable = 0;
		if (e->cancel_uid >= 0)
			return xasprintf("cancelled outside meshd by uid %d",
			    e->cancel_uid);
		return xstrdup("cancelled outside meshd");
	}
	if (strcmp(st, "COMPLETED") == 0 || strcmp(st, "FAILED") == 0) {
		see = e->out_path != NULL ? xasprintf(" (see %s)",
		    e->out_path) : xstrdup("");
		if (WIFSIGNALED(e->exit_raw)) {
			x = exit_reason(e->exit_raw);
			r = xasprintf("meshd-worker %s before writing a "
			    "result%s", x, see);
			free(x);
		} else
			r = xasprintf("meshd-worker exited with status %d "
			    "before writing a result%s",
			    WEXITSTATUS(e->exit_raw), see);
		free(see);
		return r;
	}
	return xasprintf("slurm: %s: the job ended without a result", st);
}

int
sq_parse_ext_id(const char *ext, char **job, int *index)
{
	const char	*us;

	*job = NULL;
	*index = -1;
	if (ext == NULL)
		return -1;
	us = strchr(ext, '_');
	if (us == NULL) {
		if (!sq_is_id(ext, strlen(ext)))
			return -1;
		*job = xstrdup(ext);
		return 0;
	}
	if (!sq_is_id(ext, (size_t)(us - ext)) ||
	    sq_int(us + 1, strlen(us + 1), index) != 0) {
		*index = -1;
		return -1;
	}
	*job = xstrndup(ext, (size_t)(us - ext));
	return 0;
}
