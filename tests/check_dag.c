/* check_dag.c -- unit tests for core/dag.c. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dag.h"
#include "job.h"
#include "util.h"
#include "meshd/plugin.h"

/*
 * A job from a compact spec: one string per task, "id" or
 * "id:dep1,dep2".  Task i sits on line 10 * (i + 1); its k-th after entry
 * on the line after that plus k.  job_free() is not used so the test does
 * not depend on job.c.
 */
static struct job_def *
mkjob(const char *const *spec, size_t n, int with_lines)
{
	struct job_def	*job;
	size_t		 i;

	job = xcalloc(1, sizeof *job);
	job->file = xstrdup("jobs/x.conf");
	job->tasks = xcalloc(n == 0 ? 1 : n, sizeof *job->tasks);
	job->ntasks = n;
	for (i = 0; i < n; i++) {
		struct task_def	*t = &job->tasks[i];
		const char	*colon = strchr(spec[i], ':');
		char		*deps, *tok, *save;

		t->line = 10 * ((int)i + 1);
		if (colon == NULL) {
			t->id = xstrdup(spec[i]);
			continue;
		}
		t->id = xstrndup(spec[i], (size_t)(colon - spec[i]));
		deps = xstrdup(colon + 1);
		for (tok = strtok_r(deps, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			t->after = xreallocarray(t->after, t->nafter + 1,
			    sizeof *t->after);
			t->after[t->nafter++] = xstrdup(tok);
		}
		free(deps);
		if (with_lines) {
			size_t	k;

			t->after_lines = xcalloc(t->nafter + 1, sizeof (int));
			for (k = 0; k < t->nafter; k++)
				t->after_lines[k] = t->line + 1 + (int)k;
		}
	}
	return job;
}

static void
freejob(struct job_def *job)
{
	size_t	i, k;

	for (i = 0; i < job->ntasks; i++) {
		for (k = 0; k < job->tasks[i].nafter; k++)
			free(job->tasks[i].after[k]);
		free(job->tasks[i].after);
		free(job->tasks[i].after_lines);
		free(job->tasks[i].id);
	}
	free(job->tasks);
	free(job->file);
	free(job);
}

/* Build a job that must be refused; return the printed diagnostics. */
static char *
refused(const char *const *spec, size_t n, int with_lines, size_t *nerrors)
{
	struct job_def	*job = mkjob(spec, n, with_lines);
	struct errlist	 errs = ERRLIST_INIT;
	struct dag	*d;
	char		*buf = NULL;
	size_t		 len = 0;
	FILE		*f;

	d = dag_build(job, &errs);
	ck_assert_ptr_null(d);
	f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	errlist_print(&errs, f);
	fclose(f);
	*nerrors = errs.nerrors;
	errlist_free(&errs);
	freejob(job);
	return buf;
}

START_TEST(test_unknown)
{
	static const char *const spec[] = {
		"extract", "check:extract", "publish:check,chek"
	};
	size_t	 ne;
	char	*out = refused(spec, nitems(spec), 1, &ne);

	ck_assert_uint_eq(ne, 1);
	ck_assert_str_eq(out, "jobs/x.conf:32: error: "
	    "task 'publish' runs after unknown task 'chek'\n");
	free(out);
}
END_TEST

START_TEST(test_unknown_no_after_lines)
{
	static const char *const spec[] = { "extract", "publish:chek" };
	size_t	 ne;
	char	*out = refused(spec, nitems(spec), 0, &ne);

	ck_assert_str_eq(out, "jobs/x.conf:20: error: "
	    "task 'publish' runs after unknown task 'chek'\n");
	free(out);
}
END_TEST

START_TEST(test_duplicate)
{
	static const char *const spec[] = { "a", "b:a", "a" };
	size_t	 ne;
	char	*out = refused(spec, nitems(spec), 1, &ne);

	ck_assert_str_eq(out, "jobs/x.conf:30: error: "
	    "duplicate task id 'a' (first defined at line 10)\n");
	free(out);
}
END_TEST

START_TEST(test_self_loop)
{
	static const char *const spec[] = { "a", "b:a,b" };
	size_t	 ne;
	char	*out = refused(spec, nitems(spec), 1, &ne);

	ck_assert_str_eq(out, "jobs/x.conf:22: error: "
	    "task 'b' runs after itself\n");
	free(out);
}
END_TEST

START_TEST(test_cycle)
{
	/* x is outside the cycle; a runs after c, b after a, c after b. */
	static const char *const spec[] = { "x", "a:c,x", "b:a", "c:b" };
	size_t	 ne;
	char	*out = refused(spec, nitems(spec), 1, &ne);

	ck_assert_str_eq(out, "jobs/x.conf:20: error: "
	    "cycle: a -> b -> c -> a\n");
	free(out);
}
END_TEST

START_TEST(test_cycle_shortest_and_two)
{
	/*
	 * First component {a, b, c}: a -> b -> a is the shortest way back
	 * even though a -> c -> b -> a exists too.  Second component {p, q},
	 * printed from p (first in the file) although q is met first in the
	 * search.
	 */
	static const char *const spec[] = {
		"q:p", "a:b", "b:a,c", "c:a", "p:q"
	};
	size_t	 ne;
	char	*out = refused(spec, nitems(spec), 1, &ne);

	ck_assert_uint_eq(ne, 2);
	ck_assert_str_eq(out,
	    "jobs/x.conf:10: error: cycle: q -> p -> q\n"
	    "jobs/x.conf:20: error: cycle: a -> b -> a\n");
	free(out);
}
END_TEST

START_TEST(test_all_problems)
{
	static const char *const spec[] = {
		"a:b", "b:a", "c:c", "d:nope", "c"
	};
	size_t	 ne;
	char	*out = refused(spec, nitems(spec), 1, &ne);

	ck_assert_uint_eq(ne, 4);
	ck_assert_str_eq(out,
	    "jobs/x.conf:50: error: duplicate task id 'c' (first defined at line 30)\n"
	    "jobs/x.conf:31: error: task 'c' runs after itself\n"
	    "jobs/x.conf:41: error: task 'd' runs after unknown task 'nope'\n"
	    "jobs/x.conf:10: error: cycle: a -> b -> a\n");
	free(out);
}
END_TEST

START_TEST(test_duplicate_dep_warns)
{
	static const char *const spec[] = { "a", "b:a,a" };
	struct job_def	*job = mkjob(spec, nitems(spec), 1);
	struct errlist	 errs = ERRLIST_INIT;
	struct dag	*d;

	d = dag_build(job, &errs);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(errs.nerrors, 0);
	ck_assert_uint_eq(errs.nwarnings, 1);
	ck_assert_ptr_nonnull(errlist_find(&errs,
	    "jobs/x.conf:22: warning: task 'b' lists 'a' twice in after"));
	ck_assert_uint_eq(dag_npred(d, 1), 1);
	ck_assert_uint_eq(dag_nsucc(d, 0), 1);
	dag_free(d);
	errlist_free(&errs);
	freejob(job);
}
END_TEST

static struct dag *
build_ok(struct job_def *job)
{
	struct errlist	 errs = ERRLIST_INIT;
	struct dag	*d;

	d = dag_build(job, &errs);
	if (d == NULL)
		errlist_print(&errs, stderr);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(errs.n, 0);
	errlist_free(&errs);
	return d;
}

START_TEST(test_edges_topo)
{
	/* Written out of order: topo must still put each after its deps,
	 * lowest index first among the ready ones. */
	static const char *const spec[] = {
		"publish:check", "check:extract,ref", "extract", "ref"
	};
	struct job_def	*job = mkjob(spec, nitems(spec), 1);
	struct dag	*d = build_ok(job);
	const size_t	*t;

	ck_assert_uint_eq(dag_size(d), 4);
	ck_assert_uint_eq(dag_npred(d, 1), 2);
	ck_assert_uint_eq(dag_pred(d, 1)[0], 2);
	ck_assert_uint_eq(dag_pred(d, 1)[1], 3);
	ck_assert_uint_eq(dag_nsucc(d, 2), 1);
	ck_assert_uint_eq(dag_succ(d, 2)[0], 1);
	ck_assert_uint_eq(dag_nsucc(d, 0), 0);
	t = dag_topo(d);
	ck_assert_uint_eq(t[0], 2);
	ck_assert_uint_eq(t[1], 3);
	ck_assert_uint_eq(t[2], 1);
	ck_assert_uint_eq(t[3], 0);
	dag_free(d);
	freejob(job);
}
END_TEST

START_TEST(test_topo_stable)
{
	/* Already in dependency order: topo is file order. */
	static const char *const spec[] = {
		"a", "b", "c:a", "d:b", "e:c,d", "f"
	};
	struct job_def	*job = mkjob(spec, nitems(spec), 1);
	struct dag	*d = build_ok(job);
	size_t		 i;

	for (i = 0; i < nitems(spec); i++)
		ck_assert_uint_eq(dag_topo(d)[i], i);
	dag_free(d);
	freejob(job);
}
END_TEST

START_TEST(test_descendants)
{
	static const char *const spec[] = {
		"a", "b:a", "c:a", "d:b,c", "e"
	};
	struct job_def	*job = mkjob(spec, nitems(spec), 1);
	struct dag	*d = build_ok(job);
	unsigned char	 out[5];

	memset(out, 0, sizeof out);
	dag_descendants(d, 1, out);
	ck_assert_mem_eq(out, "\0\0\0\1\0", 5);
	memset(out, 0, sizeof out);
	dag_descendants(d, 0, out);
	ck_assert_mem_eq(out, "\0\1\1\1\0", 5);
	dag_free(d);
	freejob(job);
}
END_TEST

START_TEST(test_ready_diamond)
{
	static const char *const spec[] = { "a", "b:a", "c:a", "d:b,c" };
	struct job_def		*job = mkjob(spec, nitems(spec), 1);
	struct dag		*d = build_ok(job);
	struct dag_ready	*r = dag_ready_new(d, NULL);
	size_t			 i;

	ck_assert_uint_eq(dag_ready_remaining(r), 4);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 0);
	ck_assert_int_eq(dag_ready_next(r, &i), 0);
	dag_ready_complete(r, 0);
	ck_assert_uint_eq(dag_ready_remaining(r), 3);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 1);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 2);
	ck_assert_int_eq(dag_ready_next(r, &i), 0);
	dag_ready_complete(r, 2);
	/* d still waits for b. */
	ck_assert_int_eq(dag_ready_next(r, &i), 0);
	dag_ready_complete(r, 1);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 3);
	ck_assert_uint_eq(dag_ready_remaining(r), 1);
	dag_ready_complete(r, 3);
	ck_assert_uint_eq(dag_ready_remaining(r), 0);
	ck_assert_int_eq(dag_ready_next(r, &i), 0);
	/* Completing twice changes nothing. */
	dag_ready_complete(r, 3);
	ck_assert_uint_eq(dag_ready_remaining(r), 0);
	dag_ready_free(r);
	dag_free(d);
	freejob(job);
}
END_TEST

START_TEST(test_ready_fifo)
{
	/* Readiness order is the order in which nodes became ready. */
	static const char *const spec[] = { "a", "b", "x:b", "y:a" };
	struct job_def		*job = mkjob(spec, nitems(spec), 1);
	struct dag		*d = build_ok(job);
	struct dag_ready	*r = dag_ready_new(d, NULL);
	size_t			 i;

	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 0);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 1);
	dag_ready_complete(r, 1);
	dag_ready_complete(r, 0);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 2);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 3);
	dag_ready_free(r);
	dag_free(d);
	freejob(job);
}
END_TEST

START_TEST(test_ready_fail)
{
	/*
	 * a -> b -> d -> e, a -> c, c -> d; independent branch f -> g.
	 * b fails: d and e are blocked, c and the f/g branch still run.
	 */
	static const char *const spec[] = {
		"a", "b:a", "c:a", "d:b,c", "e:d", "f", "g:f"
	};
	struct job_def		*job = mkjob(spec, nitems(spec), 1);
	struct dag		*d = build_ok(job);
	struct dag_ready	*r = dag_ready_new(d, NULL);
	size_t			 i, nb, blocked[7];

	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 0);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 5);
	dag_ready_complete(r, 0);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 1);
	nb = dag_ready_fail(r, 1, blocked);
	ck_assert_uint_eq(nb, 2);
	ck_assert_uint_eq(blocked[0], 3);
	ck_assert_uint_eq(blocked[1], 4);
	/* a done, b failed, d e blocked: c f g remain. */
	ck_assert_uint_eq(dag_ready_remaining(r), 3);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 2);
	dag_ready_complete(r, 2);
	dag_ready_complete(r, 5);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 6);
	ck_assert_int_eq(dag_ready_next(r, &i), 0);
	dag_ready_complete(r, 6);
	ck_assert_uint_eq(dag_ready_remaining(r), 0);
	/* Failing again, or failing a blocked node, blocks nothing new. */
	ck_assert_uint_eq(dag_ready_fail(r, 1, blocked), 0);
	ck_assert_uint_eq(dag_ready_fail(r, 3, blocked), 0);
	dag_ready_free(r);
	dag_free(d);
	freejob(job);
}
END_TEST

START_TEST(test_ready_fail_queued)
{
	/* b and c are both queued as ready; c fails before it is handed
	 * out: d (after c) is blocked, b (independent) is still handed out
	 * and c never is. */
	static const char *const spec[] = { "b", "c", "d:c" };
	struct job_def		*job = mkjob(spec, nitems(spec), 1);
	struct dag		*d = build_ok(job);
	struct dag_ready	*r = dag_ready_new(d, NULL);
	size_t			 i, blocked[3];

	ck_assert_uint_eq(dag_ready_fail(r, 1, blocked), 1);
	ck_assert_uint_eq(blocked[0], 2);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 0);
	/* c was queued but has failed: never handed out. */
	ck_assert_int_eq(dag_ready_next(r, &i), 0);
	ck_assert_uint_eq(dag_ready_remaining(r), 1);
	dag_ready_free(r);
	dag_free(d);
	freejob(job);
}
END_TEST

START_TEST(test_ready_retry)
{
	static const char *const spec[] = { "a", "b", "c:a" };
	struct job_def		*job = mkjob(spec, nitems(spec), 1);
	struct dag		*d = build_ok(job);
	struct dag_ready	*r = dag_ready_new(d, NULL);
	size_t			 i, k;

	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 0);
	/* a is retried: it goes behind b, and c still waits for it. */
	dag_ready_retry(r, 0);
	ck_assert_uint_eq(dag_ready_remaining(r), 3);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 1);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 0);
	ck_assert_int_eq(dag_ready_next(r, &i), 0);
	/* Retrying a node that is not running does nothing. */
	dag_ready_retry(r, 2);
	dag_ready_complete(r, 1);
	dag_ready_retry(r, 1);
	ck_assert_int_eq(dag_ready_next(r, &i), 0);
	/* Many retries wrap the ring without losing or doubling a node. */
	for (k = 0; k < 10; k++) {
		dag_ready_retry(r, 0);
		ck_assert_int_eq(dag_ready_next(r, &i), 1);
		ck_assert_uint_eq(i, 0);
		ck_assert_int_eq(dag_ready_next(r, &i), 0);
	}
	dag_ready_complete(r, 0);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 2);
	dag_ready_complete(r, 2);
	ck_assert_uint_eq(dag_ready_remaining(r), 0);
	dag_ready_free(r);
	dag_free(d);
	freejob(job);
}
END_TEST

START_TEST(test_ready_done_mask)
{
	static const char *const spec[] = { "a", "b:a", "c:a", "d:b,c" };
	struct job_def		*job = mkjob(spec, nitems(spec), 1);
	struct dag		*d = build_ok(job);
	unsigned char		 done[4] = { 1, 1, 0, 0 };
	struct dag_ready	*r = dag_ready_new(d, done);
	size_t			 i;

	ck_assert_uint_eq(dag_ready_remaining(r), 2);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 2);
	ck_assert_int_eq(dag_ready_next(r, &i), 0);
	dag_ready_complete(r, 2);
	ck_assert_int_eq(dag_ready_next(r, &i), 1);
	ck_assert_uint_eq(i, 3);
	dag_ready_complete(r, 3);
	ck_assert_uint_eq(dag_ready_remaining(r), 0);
	dag_ready_free(r);

	/* Everything done: nothing to run. */
	memset(done, 1, sizeof done);
	r = dag_ready_new(d, done);
	ck_assert_uint_eq(dag_ready_remaining(r), 0);
	ck_assert_int_eq(dag_ready_next(r, &i), 0);
	dag_ready_free(r);
	dag_free(d);
	freejob(job);
}
END_TEST

START_TEST(test_empty)
{
	struct job_def		*job = mkjob(NULL, 0, 1);
	struct dag		*d = build_ok(job);
	struct dag_ready	*r = dag_ready_new(d, NULL);
	size_t			 i;

	ck_assert_uint_eq(dag_size(d), 0);
	ck_assert_int_eq(dag_ready_next(r, &i), 0);
	ck_assert_uint_eq(dag_ready_remaining(r), 0);
	dag_ready_free(r);
	dag_free(d);
	freejob(job);
}
END_TEST

#define BIG 100000

/*
 * A chain of BIG tasks.  `reverse` makes task i run after task i + 1, so
 * the depth-first search starts at the end of the chain and goes BIG deep
 * -- a recursive search would overflow the stack here.
 */
static struct job_def *
mkchain(int reverse, int close_cycle)
{
	struct job_def	*job;
	size_t		 i;

	job = xcalloc(1, sizeof *job);
	job->file = xstrdup("jobs/big.conf");
	job->tasks = xcalloc(BIG, sizeof *job->tasks);
	job->ntasks = BIG;
	for (i = 0; i < BIG; i++) {
		struct task_def	*t = &job->tasks[i];
		size_t		 dep;

		t->id = xasprintf("t%zu", i);
		t->line = (int)i + 1;
		if (reverse ? i == BIG - 1 : i == 0) {
			if (!close_cycle)
				continue;
			dep = reverse ? 0 : BIG - 1;
		} else
			dep = reverse ? i + 1 : i - 1;
		t->after = xcalloc(1, sizeof *t->after);
		t->after[0] = xasprintf("t%zu", dep);
		t->nafter = 1;
	}
	return job;
}

START_TEST(test_big_chain)
{
	struct job_def		*job = mkchain(_i, 0);
	struct dag		*d = build_ok(job);
	struct dag_ready	*r = dag_ready_new(d, NULL);
	size_t			 i, n = 0, expect;

	while (dag_ready_next(r, &i)) {
		expect = _i ? BIG - 1 - n : n;
		ck_assert_uint_eq(i, expect);
		ck_assert_uint_eq(dag_topo(d)[n], expect);
		dag_ready_complete(r, i);
		n++;
	}
	ck_assert_uint_eq(n, BIG);
	ck_assert_uint_eq(dag_ready_remaining(r), 0);
	dag_ready_free(r);

	/* Failing the head blocks every other task in one walk. */
	{
		size_t	*blocked = xcalloc(BIG, sizeof *blocked);

		r = dag_ready_new(d, NULL);
		ck_assert_int_eq(dag_ready_next(r, &i), 1);
		ck_assert_uint_eq(dag_ready_fail(r, i, blocked), BIG - 1);
		ck_assert_uint_eq(dag_ready_remaining(r), 0);
		dag_ready_free(r);
		free(blocked);
	}
	dag_free(d);
	freejob(job);
}
END_TEST

START_TEST(test_big_cycle)
{
	struct job_def	*job = mkchain(1, 1);
	struct errlist	 errs = ERRLIST_INIT;
	const struct diag *dg;

	ck_assert_ptr_null(dag_build(job, &errs));
	ck_assert_uint_eq(errs.nerrors, 1);
	dg = &errs.v[0];
	ck_assert_int_eq(dg->line, 1);
	/* t0 runs after t99999 which runs after t99998 ... after t0. */
	ck_assert_uint_eq(strncmp(dg->msg, "cycle: t0 -> t99999 -> t99998 -> ",
	    33), 0);
	ck_assert_str_eq(dg->msg + strlen(dg->msg) - 18, " -> t2 -> t1 -> t0");
	errlist_free(&errs);
	freejob(job);
}
END_TEST

START_TEST(test_wide_fanout)
{
	/* One root, BIG children, one sink after all of them. */
	struct job_def		*job;
	struct dag		*d;
	struct dag_ready	*r;
	size_t			 i, k, n = 0;

	job = xcalloc(1, sizeof *job);
	job->file = xstrdup("jobs/wide.conf");
	job->ntasks = BIG + 2;
	job->tasks = xcalloc(job->ntasks, sizeof *job->tasks);
	job->tasks[0].id = xstrdup("root");
	for (i = 1; i <= BIG; i++) {
		job->tasks[i].id = xasprintf("c%zu", i);
		job->tasks[i].after = xcalloc(1, sizeof (char *));
		job->tasks[i].after[0] = xstrdup("root");
		job->tasks[i].nafter = 1;
	}
	job->tasks[BIG + 1].id = xstrdup("sink");
	job->tasks[BIG + 1].after = xcalloc(BIG, sizeof (char *));
	for (k = 0; k < BIG; k++)
		job->tasks[BIG + 1].after[k] = xasprintf("c%zu", k + 1);
	job->tasks[BIG + 1].nafter = BIG;

	d = build_ok(job);
	ck_assert_uint_eq(dag_nsucc(d, 0), BIG);
	ck_assert_uint_eq(dag_npred(d, BIG + 1), BIG);
	r = dag_ready_new(d, NULL);
	while (dag_ready_next(r, &i)) {
		if (i == BIG + 1)
			ck_assert_uint_eq(n, BIG + 1);
		dag_ready_complete(r, i);
		n++;
	}
	ck_assert_uint_eq(n, BIG + 2);
	dag_ready_free(r);
	dag_free(d);
	freejob(job);
}
END_TEST

/* Stages by letter, one per task: e extract, c check, p publish. */
static void
set_stages(struct job_def *job, const char *stages)
{
	size_t	i;

	for (i = 0; i < job->ntasks; i++)
		job->tasks[i].stage = stages[i] == 'c' ? MESHD_STAGE_CHECK :
		    stages[i] == 'p' ? MESHD_STAGE_PUBLISH :
		    MESHD_STAGE_EXTRACT;
}

/* Does node i run after node j, and did the gate add that edge? */
static int
pred_of(const struct dag *d, size_t i, size_t j, int *gate)
{
	size_t	k;

	for (k = 0; k < dag_npred(d, i); k++)
		if (dag_pred(d, i)[k] == j) {
			*gate = dag_pred_gate(d, i, k);
			return 1;
		}
	return 0;
}

/*
 * Every check before every publish: a publish whose after leaves a check
 * out (the badcheck repro of issue 10) gets the edge, marked as the
 * gate's; an edge also written is not doubled and counts as written.
 */
START_TEST(test_gate_edges)
{
	static const char *const spec[] = {
		"extract", "check:extract", "check2", "publish:extract",
		"publish2:check", "other:extract"
	};
	struct job_def	*job = mkjob(spec, nitems(spec), 1);
	struct dag	*d;
	struct dag_ready *r;
	size_t		 i, nb, blocked[6];
	int		 gate;

	set_stages(job, "eccppe");
	d = build_ok(job);
	ck_assert(pred_of(d, 3, 1, &gate) && gate);
	ck_assert(pred_of(d, 3, 2, &gate) && gate);
	ck_assert(pred_of(d, 3, 0, &gate) && !gate);
	ck_assert(pred_of(d, 4, 1, &gate) && !gate);
	ck_assert(pred_of(d, 4, 2, &gate) && gate);
	ck_assert_uint_eq(dag_npred(d, 4), 2);
	/* Not a publish: nothing added. */
	ck_assert_uint_eq(dag_npred(d, 5), 1);
	ck_assert(!pred_of(d, 5, 1, &gate));
	/* A failed check blocks both publishes, the other task runs. */
	r = dag_ready_new(d, NULL);
	while (dag_ready_next(r, &i)) {
		if (i == 2) {
			nb = dag_ready_fail(r, i, blocked);
			ck_assert_uint_eq(nb, 2);
			ck_assert((blocked[0] == 3 && blocked[1] == 4) ||
			    (blocked[0] == 4 && blocked[1] == 3));
		} else {
			ck_assert(i != 3 && i != 4);
			dag_ready_complete(r, i);
		}
	}
	ck_assert_uint_eq(dag_ready_remaining(r), 0);
	dag_ready_free(r);
	dag_free(d);
	freejob(job);
}
END_TEST

/* A check that runs after a publish: the gate closes the cycle, and the
 * message says which edge is the gate's. */
START_TEST(test_gate_cycle)
{
	static const char *const spec[] = {
		"extract", "publish:extract", "audit:publish"
	};
	struct job_def	*job = mkjob(spec, nitems(spec), 1);
	struct errlist	 errs = ERRLIST_INIT;
	char		*buf = NULL;
	size_t		 len = 0;
	FILE		*f;

	set_stages(job, "epc");
	ck_assert_ptr_null(dag_build(job, &errs));
	f = open_memstream(&buf, &len);
	errlist_print(&errs, f);
	fclose(f);
	ck_assert_uint_eq(errs.nerrors, 1);
	ck_assert_str_eq(buf, "jobs/x.conf:20: error: cycle: publish -> "
	    "audit -> publish (audit -> publish added by the gate: a publish "
	    "task runs after every check task of its job, so no check task "
	    "may run after a publish task)\n");
	free(buf);
	errlist_free(&errs);
	freejob(job);
}
END_TEST

static Suite *
dag_suite(void)
{
	Suite	*s = suite_create("dag");
	TCase	*tc;

	tc = tcase_create("refuse");
	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_unknown_no_after_lines);
	tcase_add_test(tc, test_duplicate);
	tcase_add_test(tc, test_self_loop);
	tcase_add_test(tc, test_cycle);
	tcase_add_test(tc, test_cycle_shortest_and_two);
	tcase_add_test(tc, test_all_problems);
	tcase_add_test(tc, test_duplicate_dep_warns);
	tcase_add_test(tc, test_gate_cycle);
	suite_add_tcase(s, tc);

	tc = tcase_create("graph");
	tcase_add_test(tc, test_edges_topo);
	tcase_add_test(tc, test_topo_stable);
	tcase_add_test(tc, test_descendants);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_gate_edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("ready");
	tcase_add_test(tc, test_ready_diamond);
	tcase_add_test(tc, test_ready_fifo);
	tcase_add_test(tc, test_ready_fail);
	tcase_add_test(tc, test_ready_fail_queued);
	tcase_add_test(tc, test_ready_retry);
	tcase_add_test(tc, test_ready_done_mask);
	suite_add_tcase(s, tc);

	/* Generous timeout: valgrind runs these too. */
	tc = tcase_create("big");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_big_chain, 0, 2);
	tcase_add_test(tc, test_big_cycle);
	tcase_add_test(tc, test_wide_fanout);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(dag_suite());
	int	 nfailed;

	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
