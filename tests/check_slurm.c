/*
 * check_slurm.c -- the Slurm agent's pure parts: the protocol with meshd
 * (round trip, and refusal of every truncation and of values out of
 * range), squeue output captured from a real slurm-wlm 22.05, the state ->
 * reason table, and what sbatch is given.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "wire.h"
#include "slurm.h"
#include "slurm-int.h"
#include "meshd/plugin.h"

/* The fixtures point char * fields at string literals; nothing writes
 * through them. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"

/* ---------------------------------------------------------------- protocol */

static char	*args2[] = { "--account=x", "--qos=low" };

static void
fill(struct sx_msg *m, uint32_t type)
{
	memset(m, 0, sizeof *m);
	m->type = type;
	switch (type) {
	case SX_CONFIG:
		m->def.name = "hpc";
		m->def.mode = XMODE_PILOT;
		m->def.partition = "debug";
		m->def.sbatch_args = args2;
		m->def.nsbatch_args = 2;
		m->def.worker = "/usr/bin/meshd-worker";
		m->def.spool_dir = "/srv/spool";
		m->def.time_limit = NULL;
		m->def.max_jobs = 7;
		m->def.poll_ms = 250;
		m->def.start_timeout_s = 9;
		m->def.pilots = 3;
		m->def.pilot_time_s = 3600;
		m->def.pilot_slots = 2;
		m->def.pilot_idle_s = 60;
		m->def.listen = "127.0.0.1:0";
		m->def.secret_file = "/etc/s";
		m->kill_grace_s = 5;
		break;
	case SX_SUBMIT:
		m->attempt_id = 1LL << 40;
		m->job_name = "meshd-42";
		m->index = 3;
		m->attempt_dir = "/staging/a/42";
		m->group = "flights";
		m->timeout_us = 30000000;
		m->memory_mb = 512;
		break;
	case SX_ADOPT:
		m->attempt_id = 43;
		m->job_name = "meshd-42";
		m->index = 1;
		m->ext_id = "1234_1";
		m->attempt_dir = "/staging/a/43";
		m->timeout_us = 0;
		m->memory_mb = 0;
		break;
	case SX_CANCEL:
		m->attempt_id = 44;
		m->why = "cancelled by operator";
		break;
	case SX_UPDATE:
		m->attempt_id = 45;
		m->ext_id = "99";
		m->ext_state = "RUNNING";
		break;
	case SX_DONE:
		m->attempt_id = 46;
		m->status = MESHD_FAILED;
		m->retryable = 1;
		m->infra = 1;
		m->reason = "slurm: NODE_FAIL: node n1 failed";
		m->started_us = 5;
		m->ended_us = 6;
		break;
	case SX_COUNTS:
		m->queued = 10;
		m->running = 2;
		m->pilots = 1;
		m->pilots_busy = 1;
		m->error = "Unable to contact slurm controller";
		break;
	}
}

static int
streq_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static const uint32_t types[] = { SX_CONFIG, SX_SUBMIT, SX_FLUSH, SX_ADOPT,
    SX_CANCEL, SX_EXIT, SX_UPDATE, SX_DONE, SX_COUNTS };

START_TEST(proto_roundtrip)
{
	struct sx_msg	m, d;
	struct wbuf	b;
	size_t		i;

	for (i = 0; i < nitems(types); i++) {
		fill(&m, types[i]);
		sx_encode(&b, &m);
		ck_assert_int_eq(sx_decode(b.p, b.len, &d), 0);
		ck_assert_uint_eq(d.type, m.type);
		ck_assert_int_eq(d.attempt_id, m.attempt_id);
		ck_assert(streq_null(d.job_name, m.job_name));
		ck_assert_int_eq(d.index, m.index);
		ck_assert(streq_null(d.attempt_dir, m.attempt_dir));
		ck_assert(streq_null(d.group, m.group));
		ck_assert_int_eq(d.timeout_us, m.timeout_us);
		ck_assert_int_eq(d.memory_mb, m.memory_mb);
		ck_assert(streq_null(d.ext_id, m.ext_id));
		ck_assert(streq_null(d.ext_state, m.ext_state));
		ck_assert(streq_null(d.why, m.why));
		ck_assert(streq_null(d.reason, m.reason));
		ck_assert(streq_null(d.error, m.error));
		ck_assert_int_eq(d.retryable, m.retryable);
		ck_assert_int_eq(d.infra, m.infra);
		ck_assert_int_eq(d.ended_us, m.ended_us);
		ck_assert_int_eq(d.queued, m.queued);
		ck_assert_int_eq(d.pilots_busy, m.pilots_busy);
		if (m.type == SX_CONFIG) {
			ck_assert_str_eq(d.def.name, "hpc");
			ck_assert_int_eq(d.def.mode, XMODE_PILOT);
			ck_assert_uint_eq(d.def.nsbatch_args, 2);
			ck_assert_str_eq(d.def.sbatch_args[1], "--qos=low");
			ck_assert_ptr_null(d.def.time_limit);
			ck_assert_int_eq(d.def.max_jobs, 7);
			ck_assert_int_eq(d.def.poll_ms, 250);
			ck_assert_int_eq(d.def.pilot_idle_s, 60);
			ck_assert_str_eq(d.def.secret_file, "/etc/s");
			ck_assert_int_eq(d.kill_grace_s, 5);
		}
		sx_msg_free(&d);
		wbuf_free(&b);
	}
}
END_TEST

/* Every prefix of every message, and every message with a byte more, is
 * refused. */
START_TEST(proto_truncations)
{
	struct sx_msg	m, d;
	struct wbuf	b;
	unsigned char	*p;
	size_t		i, k;

	for (i = 0; i < nitems(types); i++) {
		fill(&m, types[i]);
		sx_encode(&b, &m);
		for (k = 0; k < b.len; k++) {
			ck_assert_msg(sx_decode(b.p, k, &d) == -1,
			    "type %u cut at %zu of %zu accepted", m.type, k,
			    b.len);
			sx_msg_free(&d);
		}
		p = xmalloc(b.len + 1);
		memcpy(p, b.p, b.len);
		p[b.len] = 0;
		ck_assert_int_eq(sx_decode(p, b.len + 1, &d), -1);
		sx_msg_free(&d);
		free(p);
		wbuf_free(&b);
	}
}
END_TEST

static int
decode_after(struct sx_msg *m)
{
	struct sx_msg	d;
	struct wbuf	b;
	int		r;

	sx_encode(&b, m);
	r = sx_decode(b.p, b.len, &d);
	sx_msg_free(&d);
	wbuf_free(&b);
	return r;
}

START_TEST(proto_refusals)
{
	struct sx_msg	m, d;
	struct wbuf	b;
	char		*big, *args[1];
	uint32_t	t = 99;

	ck_assert_int_eq(sx_decode(&t, sizeof t, &d), -1);
	sx_msg_free(&d);
	ck_assert_int_eq(sx_decode("", 0, &d), -1);
	sx_msg_free(&d);
	fill(&m, SX_CONFIG);
	m.def.mode = 2;
	ck_assert_int_eq(decode_after(&m), -1);
	fill(&m, SX_CONFIG);
	m.def.max_jobs = -1;
	ck_assert_int_eq(decode_after(&m), -1);
	fill(&m, SX_DONE);
	m.status = 9;
	ck_assert_int_eq(decode_after(&m), -1);
	fill(&m, SX_DONE);
	m.have_file = 2;
	ck_assert_int_eq(decode_after(&m), -1);
	fill(&m, SX_SUBMIT);
	m.attempt_dir = NULL;
	ck_assert_int_eq(decode_after(&m), -1);
	fill(&m, SX_SUBMIT);
	m.index = -1;
	ck_assert_int_eq(decode_after(&m), -1);
	fill(&m, SX_COUNTS);
	m.running = -3;
	ck_assert_int_eq(decode_after(&m), -1);
	/* A path over PATH_MAX, an argument over PATH_MAX. */
	big = xmalloc(PATH_MAX + 2);
	memset(big, 'a', PATH_MAX + 1);
	big[PATH_MAX + 1] = '\0';
	fill(&m, SX_SUBMIT);
	m.attempt_dir = big;
	ck_assert_int_eq(decode_after(&m), -1);
	fill(&m, SX_CONFIG);
	args[0] = big;
	m.def.sbatch_args = args;
	m.def.nsbatch_args = 1;
	ck_assert_int_eq(decode_after(&m), -1);
	free(big);
	/* A NUL inside a path: C would read another path. */
	fill(&m, SX_SUBMIT);
	m.attempt_dir = "/a/b";
	sx_encode(&b, &m);
	{
		unsigned char *p = memmem(b.p, b.len, "/a/b", 4);
		ck_assert_ptr_nonnull(p);
		p[2] = '\0';
	}
	ck_assert_int_eq(sx_decode(b.p, b.len, &d), -1);
	sx_msg_free(&d);
	wbuf_free(&b);
	/* A huge argument count. */
	fill(&m, SX_CONFIG);
	m.def.nsbatch_args = 0;
	sx_encode(&b, &m);
	{
		/* name(4+3) mode(4) partition(4+5): the count follows */
		int32_t n = 1 << 30;
		memcpy(b.p + 4 + 7 + 4 + 9, &n, 4);
	}
	ck_assert_int_eq(sx_decode(b.p, b.len, &d), -1);
	sx_msg_free(&d);
	wbuf_free(&b);
}
END_TEST

START_TEST(proto_job_name)
{
	char	*s = slurm_job_name(1234);

	ck_assert_str_eq(s, "meshd-1234");
	free(s);
}
END_TEST

/* ---------------------------------------------------------------- squeue */

/* Captured from slurm-wlm 22.05: an array 0-3%2 of `exit 3` while
 * pending, then with two elements run, a SIGSEGV job and a held one. */
static const char squeue_pending[] =
    "3|3|0|PENDING|0|None|probe-arr\n"
    "3|3|1|PENDING|0|None|probe-arr\n"
    "3|3|2|PENDING|0|None|probe-arr\n"
    "3|3|3|PENDING|0|None|probe-arr\n"
    "4|4|N/A|PENDING|0|Priority|probe-plain\n"
    "5|5|N/A|PENDING|0|JobHeldUser|probe-hold\n";
static const char squeue_later[] =
    "6|3|0|FAILED|768|NonZeroExitCode|probe-arr\n"
    "7|3|1|FAILED|768|NonZeroExitCode|probe-arr\n"
    "4|4|N/A|FAILED|11|JobLaunchFailure|probe-plain\n"
    "5|5|N/A|PENDING|0|JobHeldUser|probe-hold\n"
    "8|3|2|RUNNING|0|None|probe-arr\n"
    "3|3|3|RUNNING|0|None|probe-arr\n";

START_TEST(squeue_parse_real)
{
	struct sq_row	*r;
	size_t		 n, bad;

	r = sq_parse(squeue_pending, &n, &bad);
	ck_assert_uint_eq(n, 6);
	ck_assert_uint_eq(bad, 0);
	ck_assert_str_eq(r[2].job_id, "3");
	ck_assert_str_eq(r[2].array_job_id, "3");
	ck_assert_int_eq(r[2].array_task, 2);
	ck_assert_str_eq(r[2].state, "PENDING");
	ck_assert_int_eq(r[4].array_task, -1);
	ck_assert_str_eq(r[4].reason, "Priority");
	ck_assert_str_eq(r[5].name, "probe-hold");
	sq_rows_free(r, n);
	r = sq_parse(squeue_later, &n, &bad);
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(r[0].job_id, "6");
	ck_assert_str_eq(r[0].array_job_id, "3");
	ck_assert_int_eq(r[0].array_task, 0);
	ck_assert_int_eq(r[0].exit_raw, 768);
	ck_assert_int_eq(WEXITSTATUS(r[0].exit_raw), 3);
	ck_assert_int_eq(r[2].exit_raw, 11);
	ck_assert(WIFSIGNALED(r[2].exit_raw));
	ck_assert_str_eq(r[4].job_id, "8");
	ck_assert_int_eq(r[4].array_task, 2);
	sq_rows_free(r, n);
}
END_TEST

START_TEST(squeue_parse_hostile)
{
	struct sq_row	*r;
	size_t		 n, bad;

	/* A name with '|' in it; padding; blank lines; then lines that are
	 * not squeue's: too few columns, a non-numeric id, a negative or
	 * huge exit code, a lower-case state. */
	r = sq_parse("12|12|N/A|RUNNING|0|None|a|b|c\n"
	    "13  |13 |7|PENDING|0|Resources|x   \n\n   \n"
	    "14|14|N/A|RUNNING|0|None\n"
	    "x|14|N/A|RUNNING|0|None|n\n"
	    "15|15|N/A|RUNNING|-1|None|n\n"
	    "16|16|N/A|RUNNING|99999999999|None|n\n"
	    "17|17|N/A|running|0|None|n\n"
	    "18|18|1a|RUNNING|0|None|n\n"
	    "|19|N/A|RUNNING|0|None|n", &n, &bad);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(bad, 7);
	ck_assert_str_eq(r[0].name, "a|b|c");
	ck_assert_str_eq(r[1].job_id, "13");
	ck_assert_int_eq(r[1].array_task, 7);
	ck_assert_str_eq(r[1].name, "x");
	sq_rows_free(r, n);
	r = sq_parse("", &n, &bad);
	ck_assert_uint_eq(n, 0);
	free(r);
	/* With StdOut before the name (finding jobs by name): the path is
	 * kept, the name still last; a line short of a column is refused. */
	r = sq_parse_out("69|69|1|PENDING|0|None|/s/hpc/%x-%A_%a.out|meshd-7\n"
	    "70|70|N/A|RUNNING|0|None|meshd-8\n", &n, &bad);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(bad, 1);
	ck_assert_str_eq(r[0].out, "/s/hpc/%x-%A_%a.out");
	ck_assert_str_eq(r[0].name, "meshd-7");
	ck_assert_int_eq(r[0].array_task, 1);
	sq_rows_free(r, n);
}
END_TEST

START_TEST(squeue_classify)
{
	ck_assert_int_eq(sq_classify("PENDING"), SQ_PENDING);
	ck_assert_int_eq(sq_classify("REQUEUED"), SQ_PENDING);
	ck_assert_int_eq(sq_classify("RUNNING"), SQ_RUNNING);
	ck_assert_int_eq(sq_classify("COMPLETING"), SQ_RUNNING);
	ck_assert_int_eq(sq_classify("SUSPENDED"), SQ_RUNNING);
	ck_assert_int_eq(sq_classify("SOMETHING_NEW"), SQ_RUNNING);
	ck_assert_int_eq(sq_classify("COMPLETED"), SQ_ENDED);
	ck_assert_int_eq(sq_classify("TIMEOUT"), SQ_ENDED);
	ck_assert_int_eq(sq_classify("OUT_OF_MEMORY"), SQ_ENDED);
	ck_assert_int_eq(sq_classify("NODE_FAIL"), SQ_ENDED);
	ck_assert_int_eq(sq_classify("CANCELLED"), SQ_ENDED);
	ck_assert_int_eq(sq_classify("DEADLINE"), SQ_ENDED);
}
END_TEST

static void
reason_is(const char *state, int raw, const char *cancel_why,
    const char *want, int want_retry, int want_infra)
{
	struct sq_end	 e;
	char		*r;
	int		 retry, infra;

	memset(&e, 0, sizeof e);
	e.state = state;
	e.exit_raw = raw;
	e.time_arg = "3";
	e.mem_mb = 576;
	e.node = "n1";
	e.cancel_why = cancel_why;
	e.cancel_uid = -1;
	e.out_path = "/spool/meshd-5-77_4294967294.out";
	r = sq_end_reason(&e, &retry, &infra);
	ck_assert_str_eq(r, want);
	ck_assert_msg(retry == want_retry, "%s: retryable %d", state, retry);
	ck_assert_msg(infra == want_infra, "%s: infra %d", state, infra);
	free(r);
}

START_TEST(reasons)
{
	reason_is("TIMEOUT", 0, NULL, "slurm: TIMEOUT: the job ran over "
	    "its time limit (--time=3)", 1, 0);
	reason_is("OUT_OF_MEMORY", 0, NULL, "slurm: OUT_OF_MEMORY: over "
	    "--mem=576M", 1, 0);
	reason_is("NODE_FAIL", 0, NULL, "slurm: NODE_FAIL: node n1 failed",
	    1, 1);
	reason_is("PREEMPTED", 0, NULL, "slurm: PREEMPTED: the job was "
	    "preempted by another job", 1, 1);
	reason_is("BOOT_FAIL", 0, NULL, "slurm: BOOT_FAIL: the node failed "
	    "to boot", 1, 1);
	reason_is("DEADLINE", 0, NULL, "slurm: DEADLINE: the job reached "
	    "its deadline before it could run", 0, 0);
	reason_is("CANCELLED", 0, NULL, "cancelled outside meshd", 0, 0);
	reason_is("CANCELLED", 0, "cancelled by operator",
	    "cancelled by operator", 0, 0);
	/* The agent's cancel wins whatever state Slurm ends in. */
	reason_is("COMPLETED", 0, "never started: pending for 9s (Resources)",
	    "never started: pending for 9s (Resources)", 0, 0);
	reason_is("FAILED", 768, NULL, "meshd-worker exited with status 3 "
	    "before writing a result (see /spool/meshd-5-77_4294967294.out)",
	    1, 0);
	reason_is("FAILED", 11, NULL, "meshd-worker killed by signal 11 "
	    "(SIGSEGV) before writing a result (see "
	    "/spool/meshd-5-77_4294967294.out)", 1, 0);
	reason_is("COMPLETED", 0, NULL, "meshd-worker exited with status 0 "
	    "before writing a result (see /spool/meshd-5-77_4294967294.out)",
	    1, 0);
	reason_is("REVOKED", 0, NULL, "slurm: REVOKED: the job ended "
	    "without a result", 1, 0);
}
END_TEST

START_TEST(ext_ids)
{
	char	*j;
	int	 i;

	ck_assert_int_eq(sq_parse_ext_id("1234", &j, &i), 0);
	ck_assert_str_eq(j, "1234");
	ck_assert_int_eq(i, -1);
	free(j);
	ck_assert_int_eq(sq_parse_ext_id("1234_5", &j, &i), 0);
	ck_assert_str_eq(j, "1234");
	ck_assert_int_eq(i, 5);
	free(j);
	ck_assert_int_eq(sq_parse_ext_id("1234_", &j, &i), -1);
	ck_assert_int_eq(sq_parse_ext_id("_5", &j, &i), -1);
	ck_assert_int_eq(sq_parse_ext_id("12a", &j, &i), -1);
	ck_assert_int_eq(sq_parse_ext_id("1234_[5]", &j, &i), -1);
	ck_assert_int_eq(sq_parse_ext_id("", &j, &i), -1);
	ck_assert_int_eq(sq_parse_ext_id(NULL, &j, &i), -1);
}
END_TEST

/* ---------------------------------------------------------------- sbatch */

static struct executor_def
def_of(char **args, size_t nargs)
{
	struct executor_def	d;

	memset(&d, 0, sizeof d);
	d.name = "hpc";
	d.partition = "debug";
	d.sbatch_args = args;
	d.nsbatch_args = nargs;
	d.worker = "/opt/meshd worker";
	d.spool_dir = "/spool";
	d.max_jobs = 4;
	return d;
}

static char *
joined(char **av)
{
	char	*s = xstrdup(""), *x;
	size_t	 i;

	for (i = 0; av[i] != NULL; i++) {
		x = xasprintf("%s%s%s", s, i ? " " : "", av[i]);
		free(s);
		s = x;
	}
	return s;
}

START_TEST(sbatch_argv)
{
	char			*a1[] = { "--account=x" }, **av, *t, *s;
	struct executor_def	 d = def_of(a1, 1);
	struct sb_task		 tk[6];
	int			 mem, i;

	memset(tk, 0, sizeof tk);
	/* 30 s timeout + 5 s grace + 60 s = 95 s: 2 minutes. */
	tk[0].timeout_us = 30000000;
	tk[0].memory_mb = 512;
	av = sb_argv(&d, 5, "meshd-7", tk, 1, -1, "/spool/meshd-7.sh", &t,
	    &mem);
	s = joined(av);
	ck_assert_str_eq(s, "sbatch --parsable --job-name=meshd-7 "
	    "--partition=debug --time=2 --mem=576 -o /spool/%x-%A_%a.out "
	    "--account=x /spool/meshd-7.sh");
	ck_assert_str_eq(t, "2");
	ck_assert_int_eq(mem, 576);
	free(s);
	free(t);
	sb_argv_free(av);
	/* An array of 3: --array=0-2, the longest timeout. */
	tk[1].timeout_us = 3600000000LL;
	tk[2].timeout_us = 1;
	av = sb_argv(&d, 5, "meshd-7", tk, 3, -1, "/s.sh", &t, &mem);
	s = joined(av);
	ck_assert_str_eq(s, "sbatch --parsable --job-name=meshd-7 "
	    "--partition=debug --time=62 --mem=576 -o /spool/%x-%A_%a.out "
	    "--array=0-2 --account=x /s.sh");
	free(s);
	free(t);
	sb_argv_free(av);
	/* An array larger than max_jobs is throttled; a task without a
	 * timeout takes time_limit; no memory, no partition. */
	for (i = 0; i < 6; i++)
		tk[i].memory_mb = 0;
	tk[3].timeout_us = 0;
	d.time_limit = "1:00:00";
	d.partition = NULL;
	av = sb_argv(&d, 5, "meshd-7", tk, 6, -1, "/s.sh", &t, &mem);
	s = joined(av);
	ck_assert_str_eq(s, "sbatch --parsable --job-name=meshd-7 "
	    "--time=1:00:00 -o /spool/%x-%A_%a.out --array=0-5%4 "
	    "--account=x /s.sh");
	ck_assert_int_eq(mem, 0);
	free(s);
	free(t);
	sb_argv_free(av);
	/* No timeout, no time_limit: no --time; one element re-sent. */
	d.time_limit = NULL;
	av = sb_argv(&d, 5, "meshd-7", tk + 3, 1, 4, "/s.sh", &t, &mem);
	s = joined(av);
	ck_assert_str_eq(s, "sbatch --parsable --job-name=meshd-7 "
	    "-o /spool/%x-%A_%a.out --array=4 --account=x /s.sh");
	ck_assert_ptr_null(t);
	free(s);
	sb_argv_free(av);
}
END_TEST

START_TEST(sbatch_script)
{
	char	*s;

	s = sb_script("/opt/meshd worker", "/st/a'b", NULL);
	ck_assert_ptr_nonnull(strstr(s, "exec '/opt/meshd worker' "
	    "'/st/a'\\''b/request'\n"));
	ck_assert(strncmp(s, "#!/bin/sh\n", 10) == 0);
	free(s);
	s = sb_script("/w", NULL, "/spool/meshd-7.list");
	ck_assert_ptr_nonnull(strstr(s, "exec '/w' --array "
	    "'/spool/meshd-7.list'\n"));
	free(s);
	s = sb_out_path("/sp", "meshd-7", "77", -1);
	ck_assert_str_eq(s, "/sp/meshd-7-77_4294967294.out");
	free(s);
	s = sb_out_path("/sp", "meshd-7", "77", 3);
	ck_assert_str_eq(s, "/sp/meshd-7-77_3.out");
	free(s);
}
END_TEST

START_TEST(sbatch_job_id)
{
	char	*s;

	s = sb_parse_job_id("1234\n");
	ck_assert_str_eq(s, "1234");
	free(s);
	s = sb_parse_job_id("1234;cluster\n");
	ck_assert_str_eq(s, "1234");
	free(s);
	ck_assert_ptr_null(sb_parse_job_id(""));
	ck_assert_ptr_null(sb_parse_job_id("Submitted batch job 12\n"));
	ck_assert_ptr_null(sb_parse_job_id("12x"));
}
END_TEST

/* ---------------------------------------------------------------- cli */

START_TEST(cli_bounds)
{
	struct cli_out	 o;
	const char	*av[] = { "sh", "-c", "echo out; echo err >&2; exit 3",
	    NULL };
	const char	*hang[] = { "sh", "-c", "sleep 30 & sleep 30", NULL };
	const char	*none[] = { "no-such-program-xyz", NULL };
	char		*e;
	int64_t		 t0;

	ck_assert_int_eq(cli_run(av, 5000, &o), -1);
	ck_assert_str_eq(o.out, "out\n");
	ck_assert_str_eq(o.err, "err\n");
	ck_assert_int_eq(WEXITSTATUS(o.wstatus), 3);
	e = cli_error("sh", &o);
	ck_assert_str_eq(e, "err");
	free(e);
	ck_assert_int_eq(cli_transient(&o), 0);
	cli_out_free(&o);
	/* A hung command (and its children) is killed at the bound. */
	t0 = mono_us();
	ck_assert_int_eq(cli_run(hang, 300, &o), -1);
	ck_assert_int_eq(o.timed_out, 1);
	ck_assert(mono_us() - t0 < 5000000);
	ck_assert_int_eq(cli_transient(&o), 1);
	cli_out_free(&o);
	ck_assert_int_eq(cli_run(none, 1000, &o), -1);
	ck_assert_int_eq(o.exec_failed, 1);
	cli_out_free(&o);
	o.timed_out = 0;
	o.err = "sbatch: error: Batch job submission failed: Unable to "
	    "contact slurm controller (connect failure)\n";
	ck_assert_int_eq(cli_transient(&o), 1);
	o.err = "sbatch: error: invalid partition specified: nosuch\n"
	    "sbatch: error: Batch job submission failed: Invalid partition "
	    "name specified\n";
	ck_assert_int_eq(cli_transient(&o), 0);
	e = cli_error("sbatch", &o);
	ck_assert_str_eq(e, "sbatch: error: invalid partition specified: "
	    "nosuch; sbatch: error: Batch job submission failed: Invalid "
	    "partition name specified");
	free(e);
	e = sh_quote("a'b");
	ck_assert_str_eq(e, "'a'\\''b'");
	free(e);
}
END_TEST

static Suite *
slurm_suite(void)
{
	Suite	*s = suite_create("slurm");
	TCase	*tc = tcase_create("agent");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, proto_roundtrip);
	tcase_add_test(tc, proto_truncations);
	tcase_add_test(tc, proto_refusals);
	tcase_add_test(tc, proto_job_name);
	tcase_add_test(tc, squeue_parse_real);
	tcase_add_test(tc, squeue_parse_hostile);
	tcase_add_test(tc, squeue_classify);
	tcase_add_test(tc, reasons);
	tcase_add_test(tc, ext_ids);
	tcase_add_test(tc, sbatch_argv);
	tcase_add_test(tc, sbatch_script);
	tcase_add_test(tc, sbatch_job_id);
	tcase_add_test(tc, cli_bounds);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(slurm_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
