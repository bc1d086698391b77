/*
 * slurm-agent-job.c -- job mode: one sbatch per batch of attempts (a job
 * array for a name shared by several), one squeue per poll for all of
 * them, scancel for what meshd gives up on, and adoption by name after a
 * restart.
 *
 * Never two jobs for one attempt: an attempt whose sbatch may have
 * reached the controller (it timed out, or printed no id) and one adopted
 * without a job id are looked up by name before anything is submitted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "slurm.h"
#include "slurm-int.h"
#include "slurm-agent.h"
#include "taskfile.h"

#define LEFT_QUEUE	"the Slurm job left the queue without a result"

static int
att_live(const struct att *t)
{
	return !t->done;
}

static void
att_set(char **dst, const char *src)
{
	if (*dst != NULL && src != NULL && strcmp(*dst, src) == 0)
		return;
	free(*dst);
	*dst = xstrdup_null(src);
}

/* Give the attempt its Slurm job: "1234" or element 5 of "1234". */
static void
att_track(struct agent *ag, struct att *t, const char *job_id, int aidx,
    const char *state)
{
	att_set(&t->job_id, job_id);
	t->aidx = aidx;
	free(t->ext_id);
	t->ext_id = aidx >= 0 ? xasprintf("%s_%d", job_id, aidx) :
	    xstrdup(job_id);
	t->st = AT_SUBMITTED;
	t->verify = 0;
	t->missing = 0;
	att_set(&t->state, state);
	agent_update(ag, t);
}

/* ---------------------------------------------------------------- scancel */

void
job_cancels(struct agent *ag)
{
	const char	**av;
	struct cli_out	  o;
	char		 *e;
	size_t		  i, k = 0, n = 0;

	for (i = 0; i < ag->n; i++)
		if (att_live(ag->a[i]) && ag->a[i]->cancel_why != NULL &&
		    !ag->a[i]->cancel_sent && ag->a[i]->st == AT_SUBMITTED)
			n++;
	if (n == 0)
		return;
	av = xcalloc(n + 3, sizeof *av);
	av[k++] = "scancel";
	for (i = 0; i < ag->n; i++) {
		struct att *t = ag->a[i];
		if (att_live(t) && t->cancel_why != NULL && !t->cancel_sent &&
		    t->st == AT_SUBMITTED) {
			av[k++] = t->ext_id;
			t->cancel_sent = 1;
		}
	}
	av[k] = NULL;
	if (cli_run(av, cli_timeout_ms(), &o) != 0) {
		e = cli_error("scancel", &o);
		if (cli_transient(&o)) {
			/* Ask again next turn. */
			agent_error(ag, e);
			for (i = 0; i < ag->n; i++)
				if (ag->a[i]->cancel_why != NULL &&
				    ag->a[i]->st == AT_SUBMITTED)
					ag->a[i]->cancel_sent = 0;
		} else	/* ended already: the poll says how */
			fprintf(stderr, "slurm agent: %s\n", e);
		free(e);
	}
	cli_out_free(&o);
	free(av);
	agent_drain(ag);
}

/* ---------------------------------------------------------------- squeue */

/*
 * squeue over `args` (-j IDS or --name=NAMES).  0 with the rows, or -1
 * if the controller did not answer (the error is recorded).  "Invalid job
 * id specified" (every id has left the queue) is an empty answer.
 */
static int
job_squeue(struct agent *ag, const char *sel, const char *list,
    struct sq_row **rows, size_t *n)
{
	const char	*av[10];
	char		*e;
	struct cli_out	 o;
	size_t		 bad = 0;
	int		 r;

	av[0] = "squeue";
	av[1] = "-h";
	av[2] = "-t";
	av[3] = "all";
	av[4] = "-r";
	av[5] = sel;
	av[6] = list;
	av[7] = "-O";
	av[8] = SQUEUE_FORMAT;
	av[9] = NULL;
	if (list == NULL) {	/* --name=A,B: one word */
		av[6] = "-O";
		av[7] = SQUEUE_FORMAT_OUT;
		av[8] = NULL;
	}
	r = cli_run(av, cli_timeout_ms(), &o);
	*rows = NULL;
	*n = 0;
	if (r != 0 && !(o.exec_failed == 0 && !o.timed_out &&
	    strstr(o.err, "Invalid job id specified") != NULL)) {
		e = cli_error("squeue", &o);
		agent_error(ag, e);
		free(e);
		cli_out_free(&o);
		agent_backoff(ag);
		return -1;
	}
	agent_error(ag, NULL);
	*rows = list == NULL ? sq_parse_out(o.out, n, &bad) :
	    sq_parse(o.out, n, &bad);
	if (bad > 0)
		fprintf(stderr, "slurm agent: %zu line(s) of squeue output "
		    "not understood\n", bad);
	cli_out_free(&o);
	return 0;
}

/* The row of squeue's answer that is the attempt's job, by name. */
/* Does the job write into this executor's spool?  Names are per state
 * database: another meshd on the cluster, or this one before its state
 * was made anew, has its own meshd-1. */
static int
job_ours(const struct agent *ag, const struct sq_row *r)
{
	size_t	len = strlen(ag->def.spool_dir);

	return r->out != NULL && strncmp(r->out, ag->def.spool_dir, len) ==
	    0 && r->out[len] == '/';
}

static const struct sq_row *
job_by_name(const struct agent *ag, const struct att *t,
    const struct sq_row *rows, size_t n)
{
	const struct sq_row	*best = NULL, *plain = NULL;
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (strcmp(rows[i].name, t->job_name) != 0 ||
		    !job_ours(ag, &rows[i]))
			continue;
		if (rows[i].array_task == t->index) {
			/* A live job wins over an ended one. */
			if (best == NULL || sq_classify(rows[i].state) !=
			    SQ_ENDED)
				best = &rows[i];
		} else if (rows[i].array_task == -1) {
			if (plain == NULL || sq_classify(rows[i].state) !=
			    SQ_ENDED)
				plain = &rows[i];
		}
	}
	/* A plain job's name is its attempt's alone. */
	return best != NULL ? best : plain;
}

static char *
job_name_list(struct agent *ag, int want_lookup)
{
	char	*s = NULL, *x;
	size_t	 i;

	for (i = 0; i < ag->n; i++) {
		struct att *t = ag->a[i];
		if (!att_live(t) || !(want_lookup ? t->st == AT_LOOKUP :
		    (t->st == AT_QUEUED && t->verify)))
			continue;
		if (s != NULL && strstr(s, t->job_name) != NULL) {
			/* names are "meshd-N": a match on a whole item */
			char *w = xasprintf(",%s,", t->job_name);
			char *c = xasprintf(",%s,", s);
			int dup = strstr(c, w) != NULL;
			free(w);
			free(c);
			if (dup)
				continue;
		}
		x = s == NULL ? xstrdup(t->job_name) : xasprintf("%s,%s", s,
		    t->job_name);
		free(s);
		s = x;
	}
	return s;
}

/*
 * Attempts adopted without a job id, and attempts whose sbatch may have
 * worked: one squeue by name for all of them.
 */
void
job_lookups(struct agent *ag)
{
	struct sq_row		*rows;
	const struct sq_row	*row;
	char			*names, *sel;
	size_t			 n, i;
	int			 pass;

	for (pass = 0; pass < 2; pass++) {
		if ((names = job_name_list(ag, pass == 0)) == NULL)
			continue;
		if (ag->missing != NULL) {
			for (i = 0; i < ag->n; i++) {
				struct att *t = ag->a[i];
				if (!att_live(t) || t->st != AT_LOOKUP)
					continue;
				if (agent_has_file(t, TASKFILE_RESULT))
					agent_done(ag, t, 1, NULL, 0, 0);
				else
					agent_done(ag, t, 0, ag->missing, 0,
					    0);
			}
			free(names);
			continue;
		}
		sel = xasprintf("--name=%s", names);
		free(names);
		if (job_squeue(ag, sel, NULL, &rows, &n) != 0) {
			free(sel);
			return;
		}
		free(sel);
		for (i = 0; i < ag->n; i++) {
			struct att *t = ag->a[i];
			if (!att_live(t) || !(pass == 0 ? t->st == AT_LOOKUP :
			    (t->st == AT_QUEUED && t->verify)))
				continue;
			if ((row = job_by_name(ag, t, rows, n)) != NULL) {
				att_track(ag, t, row->array_task >= 0 ?
				    row->array_job_id : row->job_id,
				    row->array_task, row->state);
				continue;
			}
			if (pass == 1) {	/* it never reached Slurm */
				t->verify = 0;
				if (t->cancel_why != NULL)
					agent_done(ag, t, 0, t->cancel_why, 0,
					    0);
				continue;
			}
			if (agent_has_file(t, TASKFILE_RESULT))
				agent_done(ag, t, 1, NULL, 0, 0);
			else if (t->cancel_why != NULL)
				agent_done(ag, t, 0, t->cancel_why, 0, 0);
			else if (agent_has_file(t, TASKFILE_STARTED))
				agent_done(ag, t, 0, LEFT_QUEUE, 1, 0);
			else {
				/* Never submitted, or never started and
				 * gone: submit it now, alone. */
				t->st = AT_QUEUED;
				t->flushed = 1;
			}
		}
		sq_rows_free(rows, n);
		agent_drain(ag);
	}
}

/* ---------------------------------------------------------------- sbatch */

static int
cmp_index(const void *a, const void *b)
{
	const struct att *x = *(struct att *const *)a;
	const struct att *y = *(struct att *const *)b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static void
group_fail(struct agent *ag, struct att **g, size_t n, const char *why,
    int retryable, int infra)
{
	size_t	i;

	for (i = 0; i < n; i++)
		agent_done(ag, g[i], 0, why, retryable, infra);
}

/* Submit one group: a plain job (n == 1) or an array.  0, or -1 when the
 * controller did not answer (the group stays queued). */
static int
job_sbatch(struct agent *ag, struct att **g, size_t n)
{
	struct sb_task	*tk;
	struct cli_out	 o;
	char		*script = NULL, *list = NULL, *text, *cause = NULL;
	char		**av, *time_arg, *job_id, *e, *lines, *x;
	const char	*spool = ag->def.spool_dir;
	size_t		 i;
	int		 mem_mb, one = -1, r = 0, renumber = 0;

	if (mkdir_p(spool, 0755, &cause) != 0) {
		e = xasprintf("slurm spool %s: %s", spool, cause);
		group_fail(ag, g, n, e, 1, 1);
		free(e);
		free(cause);
		return 0;
	}
	if (n > 1) {
		qsort(g, n, sizeof *g, cmp_index);
		for (i = 0; i < n; i++)
			if (g[i]->index != (int)i)
				renumber = 1;
		if (renumber)
			fprintf(stderr, "slurm agent: array %s: indexes are "
			    "not 0..%zu; numbered in order\n", g[0]->job_name,
			    n - 1);
		lines = xstrdup("");
		for (i = 0; i < n; i++) {
			x = xasprintf("%s%s/%s\n", lines, g[i]->attempt_dir,
			    TASKFILE_REQUEST);
			free(lines);
			lines = x;
		}
		list = xasprintf("%s/%s.list", spool, g[0]->job_name);
		script = xasprintf("%s/%s.sh", spool, g[0]->job_name);
		text = sb_script(ag->def.worker, NULL, list);
		if (sb_write_file(list, lines, 0644, &cause) != 0 ||
		    sb_write_file(script, text, 0755, &cause) != 0) {
			free(text);
			free(lines);
			goto write_failed;
		}
		free(text);
		free(lines);
	} else {
		/* A lone element of an array, resubmitted after an
		 * adoption, keeps its index so a later adoption finds it. */
		if (g[0]->adopted && g[0]->index > 0)
			one = g[0]->index;
		script = one >= 0 ? xasprintf("%s/%s-%d.sh", spool,
		    g[0]->job_name, one) : xasprintf("%s/%s.sh", spool,
		    g[0]->job_name);
		text = sb_script(ag->def.worker, g[0]->attempt_dir, NULL);
		if (sb_write_file(script, text, 0755, &cause) != 0) {
			free(text);
			goto write_failed;
		}
		free(text);
	}
	tk = xcalloc(n, sizeof *tk);
	for (i = 0; i < n; i++) {
		tk[i].attempt_dir = g[i]->attempt_dir;
		tk[i].timeout_us = g[i]->timeout_us;
		tk[i].memory_mb = g[i]->memory_mb;
	}
	av = sb_argv(&ag->def, ag->kill_grace_s, g[0]->job_name, tk, n, one,
	    script, &time_arg, &mem_mb);
	free(tk);
	cli_run((const char *const *)av, cli_timeout_ms(), &o);
	sb_argv_free(av);
	job_id = NULL;
	if (!o.timed_out && WIFEXITED(o.wstatus) &&
	    WEXITSTATUS(o.wstatus) == 0)
		job_id = sb_parse_job_id(o.out);
	if (job_id != NULL) {
		agent_error(ag, NULL);
		for (i = 0; i < n; i++) {
			att_set(&g[i]->time_arg, time_arg);
			g[i]->mem_mb = mem_mb;
			att_track(ag, g[i], job_id, n > 1 ? (int)i : one,
			    "PENDING");
		}
		free(job_id);
	} else if (o.exec_failed || (!cli_transient(&o) &&
	    !(WIFEXITED(o.wstatus) && WEXITSTATUS(o.wstatus) == 0))) {
		/* The request itself is refused: sbatch's words. */
		e = cli_error("sbatch", &o);
		group_fail(ag, g, n, e, 0, 0);
		free(e);
	} else {
		/* Down, hung, or an answer without an id: the job may
		 * exist, so look it up by name before trying again. */
		if (o.timed_out || !WIFEXITED(o.wstatus) ||
		    WEXITSTATUS(o.wstatus) != 0)
			e = cli_error("sbatch", &o);
		else
			e = xasprintf("sbatch printed no job id: \"%.200s\"",
			    o.out);
		agent_error(ag, e);
		free(e);
		for (i = 0; i < n; i++)
			g[i]->verify = 1;
		agent_backoff(ag);
		r = -1;
	}
	free(time_arg);
	cli_out_free(&o);
	free(script);
	free(list);
	return r;

write_failed:
	e = xasprintf("cannot write the job script: %s", cause);
	group_fail(ag, g, n, e, 1, 1);
	free(e);
	free(cause);
	free(script);
	free(list);
	return 0;
}

void
job_submit(struct agent *ag)
{
	struct att	**g;
	struct att	 *first;
	size_t		  i, n, inflight;
	int		  max = agent_max_jobs(ag);

	ag->blocked = 0;
	for (;;) {
		if (ag->exiting)
			return;
		first = NULL;
		inflight = 0;
		for (i = 0; i < ag->n; i++) {
			struct att *t = ag->a[i];
			if (!att_live(t))
				continue;
			if (t->st == AT_SUBMITTED)
				inflight++;
			else if (first == NULL && t->st == AT_QUEUED &&
			    t->flushed && !t->verify)
				first = t;
		}
		if (first == NULL)
			return;
		if (first->cancel_why != NULL) {
			agent_done(ag, first, 0, first->cancel_why, 0, 0);
			continue;
		}
		if (ag->missing != NULL) {
			agent_done(ag, first, 0, ag->missing, 0, 0);
			continue;
		}
		if (ag->def.mode == XMODE_PILOT) {
			agent_done(ag, first, 0, "slurm agent: pilot mode is "
			    "not built into this meshd-worker", 0, 0);
			continue;
		}
		/* An adopted attempt goes alone; others by name. */
		g = xcalloc(ag->n, sizeof *g);
		n = 0;
		for (i = 0; i < ag->n; i++) {
			struct att *t = ag->a[i];
			if (!att_live(t) || t->st != AT_QUEUED ||
			    !t->flushed || t->verify ||
			    strcmp(t->job_name, first->job_name) != 0)
				continue;
			if (n > 0 && (t->adopted || first->adopted))
				continue;
			g[n++] = t;
		}
		/* At most max_jobs attempts in Slurm at once; an array
		 * larger than that goes alone, throttled to max_jobs. */
		if (inflight + n > (size_t)max &&
		    !(n > (size_t)max && inflight == 0)) {
			ag->blocked = 1;
			free(g);
			return;
		}
		if (job_sbatch(ag, g, n) != 0) {
			free(g);
			return;
		}
		free(g);
		agent_drain(ag);
	}
}

/* ---------------------------------------------------------------- poll */

/* scontrol show job: the state, exit code and node of a job squeue no
 * longer lists (or a NODE_FAIL's node).  0 if it knows the job. */
static int
job_scontrol(const char *ext, char **state, int *exit_raw, char **node)
{
	struct cli_out	 o;
	const char	*av[5];
	char		*p;
	int		 ex = 0, sig = 0;
	size_t		 len;

	*state = *node = NULL;
	*exit_raw = 0;
	av[0] = "scontrol";
	av[1] = "show";
	av[2] = "job";
	av[3] = ext;
	av[4] = NULL;
	if (cli_run(av, cli_timeout_ms(), &o) != 0) {
		cli_out_free(&o);
		return -1;
	}
	if ((p = strstr(o.out, "JobState=")) != NULL) {
		p += 9;
		len = strcspn(p, " \n");
		*state = xstrndup(p, len);
	}
	if ((p = strstr(o.out, "ExitCode=")) != NULL &&
	    sscanf(p, "ExitCode=%d:%d", &ex, &sig) == 2)
		*exit_raw = sig != 0 ? (sig & 0x7f) : (ex & 0xff) << 8;
	if ((p = strstr(o.out, " NodeList=")) != NULL) {
		p += 10;
		len = strcspn(p, " \n");
		*node = xstrndup(p, len);
	}
	cli_out_free(&o);
	return *state != NULL ? 0 : -1;
}

/* The attempt's job ended (Slurm says `state`): DONE, from the result
 * file if the worker wrote one, else with the reason. */
static void
job_ended(struct agent *ag, struct att *t, const char *state, int exit_raw)
{
	struct sq_end	 e;
	char		*reason, *out, *st = NULL, *node = NULL;
	int		 retryable, infra, x;

	/* The worker writes the file just before it exits: look again
	 * now that Slurm says it ended.  A task the worker stopped because
	 * Slurm told it to takes Slurm's reason (CANCELLED, TIMEOUT...)
	 * unless the job ended as if nothing had happened. */
	if (agent_result_ready(t) || (t->slurm_stop &&
	    (strcmp(state, "COMPLETED") == 0 || strcmp(state, "FAILED") == 0))) {
		agent_done(ag, t, 1, NULL, 0, 0);
		return;
	}
	memset(&e, 0, sizeof e);
	e.state = state;
	e.exit_raw = exit_raw;
	e.time_arg = t->time_arg;
	e.mem_mb = t->mem_mb;
	e.cancel_why = t->cancel_why;
	e.cancel_uid = -1;
	if (strcmp(state, "NODE_FAIL") == 0 &&
	    job_scontrol(t->ext_id, &st, &x, &node) == 0)
		e.node = node;
	out = sb_out_path(ag->def.spool_dir, t->job_name, t->job_id, t->aidx);
	e.out_path = out;
	reason = sq_end_reason(&e, &retryable, &infra);
	agent_done(ag, t, 0, reason, retryable, infra);
	free(reason);
	free(out);
	free(st);
	free(node);
}

static const struct sq_row *
job_row(const struct att *t, const struct sq_row *rows, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (t->aidx >= 0) {
			if (rows[i].array_task == t->aidx &&
			    strcmp(rows[i].array_job_id, t->job_id) == 0)
				return &rows[i];
		} else if (rows[i].array_task == -1 &&
		    strcmp(rows[i].job_id, t->job_id) == 0)
			return &rows[i];
	}
	return NULL;
}

static void
job_seen(struct agent *ag, struct att *t, const struct sq_row *row)
{
	int64_t	 now = mono_us(), s;
	char	*why;

	t->missing = 0;
	if (t->state == NULL || strcmp(t->state, row->state) != 0) {
		att_set(&t->state, row->state);
		agent_update(ag, t);
	}
	att_set(&t->sreason, row->reason);
	switch (sq_classify(row->state)) {
	case SQ_ENDED:
		job_ended(ag, t, row->state, row->exit_raw);
		break;
	case SQ_PENDING:
		if (t->pending_since == 0)
			t->pending_since = now;
		s = (now - t->pending_since) / 1000000;
		if (ag->def.start_timeout_s > 0 && t->cancel_why == NULL &&
		    s >= ag->def.start_timeout_s) {
			why = xasprintf("never started: pending for %llds "
			    "(%s)", (long long)s, row->reason);
			t->cancel_why = why;
			/* Cancelled as meshd would: "never started" is
			 * then the reason when squeue says CANCELLED. */
		}
		break;
	default:
		t->pending_since = 0;
		break;
	}
}

/* Every in-flight attempt's job: its result file, then one squeue. */
void
job_poll(struct agent *ag)
{
	struct sq_row		*rows;
	const struct sq_row	*row;
	char			*ids = NULL, *x, *st, *node;
	size_t			 i, j, n;
	int			 dup, raw;

	for (i = 0; i < ag->n; i++) {
		struct att *t = ag->a[i];
		if (att_live(t) && t->st == AT_SUBMITTED &&
		    agent_result_ready(t))
			agent_done(ag, t, 1, NULL, 0, 0);
	}
	for (i = 0; i < ag->n; i++) {
		struct att *t = ag->a[i];
		if (!att_live(t) || t->st != AT_SUBMITTED)
			continue;
		dup = 0;
		for (j = 0; j < i; j++)
			if (att_live(ag->a[j]) && ag->a[j]->st ==
			    AT_SUBMITTED && strcmp(ag->a[j]->job_id,
			    t->job_id) == 0)
				dup = 1;
		if (dup)
			continue;
		x = ids == NULL ? xstrdup(t->job_id) : xasprintf("%s,%s", ids,
		    t->job_id);
		free(ids);
		ids = x;
	}
	ids = pilot_poll_ids(ag, ids);
	if (ids == NULL)
		return;
	if (job_squeue(ag, "-j", ids, &rows, &n) != 0) {
		free(ids);
		return;
	}
	free(ids);
	for (i = 0; i < ag->n; i++) {
		struct att *t = ag->a[i];
		if (!att_live(t) || t->st != AT_SUBMITTED)
			continue;
		if ((row = job_row(t, rows, n)) != NULL) {
			job_seen(ag, t, row);
			continue;
		}
		if (agent_result_ready(t)) {
			agent_done(ag, t, 1, NULL, 0, 0);
			continue;
		}
		/* Twice unseen (not a race with the controller): past
		 * MinJobAge.  scontrol may still know how it ended. */
		if (++t->missing < 2)
			continue;
		if (job_scontrol(t->ext_id, &st, &raw, &node) == 0 &&
		    sq_classify(st) == SQ_ENDED)
			job_ended(ag, t, st, raw);
		else
			agent_done(ag, t, 0, LEFT_QUEUE, 1, 0);
		free(st);
		free(node);
	}
	pilot_rows(ag, rows, n);
	sq_rows_free(rows, n);
	agent_drain(ag);
}
