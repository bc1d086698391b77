/*
 * check_act.c -- the write layer (act.h): each action writes the request
 * rows meshctl always wrote (the args JSON byte for byte, since meshd
 * parses it), refuses bad arguments with 400/404/409 and a message naming
 * the argument, writes nothing when it refuses or on a dry run, and
 * answers documents that validate against its own schema.
 */
#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "act.h"
#include "job.h"
#include "lock.h"
#include "schedule.h"
#include "state.h"
#include "util.h"

static char		 dir[] = "/tmp/check_act.XXXXXX";
static struct meshd_config *cfg;
static struct jobset	 js;
static struct state	*st;
static struct read_ctx	 ctx;
static struct read_error err;

static void
write_file(const char *name, const char *text)
{
	char	*p = xasprintf("%s/%s", dir, name);
	FILE	*f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

static void
setup(void)
{
	const char	*top = getenv("top_builddir");
	struct errlist	 errs = ERRLIST_INIT;
	char		*p, *cause = NULL;

	/* A fresh template each time: without fork (CK_FORK=no, as under
	 * valgrind) every test's setup runs in one process. */
	snprintf(dir, sizeof dir, "/tmp/check_act.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	p = xasprintf("%s/jobs", dir);
	ck_assert_int_eq(mkdir_p(p, 0755, NULL), 0);
	free(p);
	p = xasprintf("plugin_path = [ \"%s/tests/plugins/.libs\" ];\n",
	    top != NULL ? top : ".");
	write_file("meshd.conf", p);
	free(p);
	write_file("jobs/day.conf",
	    "name = \"day\"; domain = \"t\"; owner = \"t\";\n"
	    "schedule = \"@daily\"; start = \"2001-01-01\";\n"
	    "end = \"2001-02-01\"; max_active_runs = 3;\n"
	    "tasks = (\n"
	    "  { id = \"a\"; plugin = \"ok\"; stage = \"extract\";\n"
	    "    params = { n = 1; }; },\n"
	    "  { id = \"b\"; plugin = \"ok\"; stage = \"check\";\n"
	    "    after = [ \"a\" ]; },\n"
	    "  { id = \"c\"; plugin = \"ok\"; stage = \"check\";\n"
	    "    after = [ \"b\" ]; }\n"
	    ");\n");
	write_file("jobs/adhoc.conf",
	    "name = \"adhoc\"; domain = \"t\"; owner = \"t\";\n"
	    "tasks = ( { id = \"a\"; plugin = \"ok\"; stage = \"extract\"; "
	    "} );\n");
	write_file("jobs/minute.conf",
	    "name = \"minute\"; domain = \"t\"; owner = \"t\";\n"
	    "schedule = \"* * * * *\";\n"
	    "tasks = ( { id = \"a\"; plugin = \"ok\"; stage = \"extract\"; "
	    "} );\n");
	p = xasprintf("%s/meshd.conf", dir);
	cfg = config_load(p, &errs);
	free(p);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(jobs_load(cfg, &js, &errs), 0);
	errlist_free(&errs);
	st = state_open(cfg->state_db, STATE_RDWR, &cause);
	ck_assert_msg(st != NULL, "%s", cause);
	memset(&ctx, 0, sizeof ctx);
	ctx.st = st;
	ctx.cfg = cfg;
	ctx.jobs = &js;
	/* 2001-03-01: every partition of day has ended. */
	ctx.now_us = 983404800LL * 1000000;
}

static void
teardown(void)
{
	char	*cmd;

	state_close(st);
	jobset_free(&js);
	config_free(cfg);
	cmd = xasprintf("rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

/* One integer or text answer of a query ("" for NULL). */
static char *
q(const char *sql)
{
	sqlite3_stmt	*stmt;
	char		*s;

	ck_assert_int_eq(sqlite3_prepare_v2(state_sqlite(st), sql, -1, &stmt,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
	s = xstrdup(sqlite3_column_type(stmt, 0) == SQLITE_NULL ? "NULL" :
	    (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	return s;
}

static void
q_eq(const char *sql, const char *want)
{
	char	*got = q(sql);

	ck_assert_msg(strcmp(got, want) == 0, "%s: got '%s', want '%s'", sql,
	    got, want);
	free(got);
}

/* Every row the write side may write, as one string. */
static char *
rows(void)
{
	return q("SELECT (SELECT count(*) FROM requests) || '/' || (SELECT "
	    "count(*) FROM backfills) || '/' || (SELECT count(*) FROM "
	    "backfill_partitions)");
}

/*
 * Validate `doc` against the action's schema with Python's jsonschema
 * (Draft 2020-12), as the HTTP child's OpenAPI document will carry it.
 */
static void
valid(const char *action, json_t *doc)
{
	const struct act_action *a = act_find(action);
	json_t	*schema;
	char	*dp, *sp, *cmd;

	ck_assert_ptr_nonnull(a);
	schema = json_loads(a->schema, 0, NULL);
	ck_assert_msg(schema != NULL, "%s: the schema is not JSON", action);
	dp = xasprintf("%s/doc.json", dir);
	sp = xasprintf("%s/schema.json", dir);
	ck_assert_int_eq(json_dump_file(doc, dp, 0), 0);
	ck_assert_int_eq(json_dump_file(schema, sp, 0), 0);
	json_decref(schema);
	cmd = xasprintf("/usr/bin/python3 -c 'import json, sys, jsonschema; "
	    "s = json.load(open(sys.argv[1])); "
	    "jsonschema.Draft202012Validator.check_schema(s); "
	    "jsonschema.Draft202012Validator(s).validate("
	    "json.load(open(sys.argv[2])))' %s %s", sp, dp);
	ck_assert_msg(system(cmd) == 0, "%s: the document does not validate "
	    "against its schema", action);
	free(cmd);
	free(dp);
	free(sp);
}

/* Do `action` with "name=value" arguments (NULL-terminated). */
static json_t *
act(const char *action, ...)
{
	static char	 buf[READ_MAXARGS][256];
	struct read_args args;
	va_list		 ap;
	const char	*s;
	char		*eq;
	json_t		*doc;

	memset(&args, 0, sizeof args);
	va_start(ap, action);
	while ((s = va_arg(ap, const char *)) != NULL) {
		ck_assert_int_lt(args.n, READ_MAXARGS);
		snprintf(buf[args.n], sizeof buf[0], "%s", s);
		eq = strchr(buf[args.n], '=');
		ck_assert_ptr_nonnull(eq);
		*eq = '\0';
		ck_assert_int_eq(read_args_add(&args, buf[args.n], eq + 1), 0);
	}
	va_end(ap);
	doc = act_do(&ctx, action, &args, &err);
	if (doc != NULL)
		valid(action, doc);
	return doc;
}

/* The action is refused with status `code` and a message holding `want`, and
 * nothing is written. */
#define REFUSED(code, want, ...) do {					\
	char	*before_ = rows(), *after_;				\
	json_t	*d_ = act(__VA_ARGS__, NULL);				\
									\
	ck_assert_msg(d_ == NULL, "not refused: %s", #__VA_ARGS__);	\
	ck_assert_int_eq(err.status, code);				\
	ck_assert_msg(strstr(err.message, want) != NULL,		\
	    "'%s' not in '%s'", want, err.message);			\
	after_ = rows();						\
	ck_assert_str_eq(before_, after_);				\
	free(before_);							\
	free(after_);							\
} while (0)

/* A run of day at `key` in `state`, with tasks in `ti` ("a:success b:failed"). */
static void
add_run(const char *key, const char *state, const char *ti)
{
	int64_t	 job_id, run_id, ti_id, s, e;
	char	*cause = NULL, *canon = NULL, *list, *tok, *colon, *save;
	int	 created;

	ck_assert_int_eq(state_job_sync(st, "day", "t", "t", NULL, NULL,
	    "@daily", &job_id, &cause), 0);
	ck_assert_int_eq(job_parse_key(jobset_find(&js, "day"), key, &s, &e,
	    &canon, &cause), 0);
	ck_assert_int_eq(state_run_open(st, job_id, canon, s, e, "manual",
	    &run_id, &created, &cause), 0);
	ck_assert_int_eq(state_run_set(st, run_id, state, 1, 2, &cause), 0);
	list = xstrdup(ti);
	for (tok = strtok_r(list, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		colon = strchr(tok, ':');
		*colon = '\0';
		ck_assert_int_eq(state_ti_open(st, run_id, tok, "check", 1,
		    &ti_id, NULL, NULL, &cause), 0);
		ck_assert_int_eq(state_ti_set(st, ti_id, colon + 1, 1, NULL,
		    1, 2, &cause), 0);
	}
	free(list);
	free(canon);
}

START_TEST(test_table)
{
	const struct act_action *a;
	const struct read_param *p;
	json_t	*s;

	for (a = act_actions; a->name != NULL; a++) {
		ck_assert_ptr_eq(act_find(a->name), a);
		ck_assert_msg((s = json_loads(a->schema, 0, NULL)) != NULL,
		    "%s: schema", a->name);
		json_decref(s);
		for (p = a->params; p->name != NULL; p++)
			ck_assert_ptr_nonnull(p->help);
	}
	ck_assert_ptr_null(act_find("drop"));
	REFUSED(404, "no action 'drop'", "drop", "job=day");
	REFUSED(400, "unknown parameter 'force' for pause", "pause",
	    "job=day", "force=1");
	REFUSED(400, "trigger needs parameter 'job'", "trigger",
	    "partition=2001-01-05");
}
END_TEST

START_TEST(test_trigger)
{
	json_t	*d;

	d = act("trigger", "job=day", "partition=2001-01-05", "param=n=7",
	    "param=extra=x", "param=n=8", "rerun=1", NULL);
	ck_assert_ptr_nonnull(d);
	/* Exactly meshctl's row: sorted compact args, the last n winning. */
	q_eq("SELECT id || ' ' || kind || ' ' || job || ' ' || partition_key "
	    "|| ' ' || args || ' ' || state FROM requests",
	    "1 trigger day 2001-01-05 {\"params\":{\"extra\":\"x\",\"n\":\"8\"},"
	    "\"rerun\":true} pending");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "request_id")),
	    1);
	ck_assert_str_eq(json_string_value(json_object_get(d, "partition")),
	    "2001-01-05");
	/* No meshd holds the lock. */
	ck_assert_str_eq(json_string_value(json_object_get(d, "meshd")),
	    "not running");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "meshd_pid")),
	    0);
	/* extra is no task's param: a warning, not a refusal. */
	ck_assert_int_eq(json_array_size(json_object_get(d, "warnings")), 1);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_array_get(
	    json_object_get(d, "warnings"), 0)), "no task of job 'day' has a "
	    "param 'extra'"));
	json_decref(d);

	/* No key: the latest complete interval within the job's end; no
	 * params or rerun: no args at all. */
	d = act("trigger", "job=day", NULL);
	ck_assert_ptr_nonnull(d);
	q_eq("SELECT partition_key || ' ' || coalesce(args, 'NULL') FROM "
	    "requests WHERE id = 2", "2001-01-31 NULL");
	json_decref(d);
	REFUSED(400, "partition key '..' is not allowed", "trigger",
	    "job=adhoc", "partition=..");
	REFUSED(400, "partition key '.' is not allowed", "cancel",
	    "job=adhoc", "partition=.");
	REFUSED(400, "partition key '..' is not allowed", "clear",
	    "job=adhoc", "partition=..");
	REFUSED(400, "contains a character that is not allowed", "trigger",
	    "job=adhoc", "partition=a/b");
	d = act("trigger", "job=adhoc", NULL);
	ck_assert_ptr_nonnull(d);
	q_eq("SELECT partition_key FROM requests WHERE id = 3", "current");
	json_decref(d);
}
END_TEST

START_TEST(test_trigger_refused)
{
	json_t	*d;

	REFUSED(404, "unknown job 'nosuch' (jobs: ", "trigger", "job=nosuch");
	REFUSED(400, "nearest: 2001-01-05, 2001-01-06", "trigger", "job=day",
	    "partition=2001-01-05T10");
	REFUSED(400, "the last valid key is 2001-01-31", "trigger", "job=day",
	    "partition=2001-02-01");
	REFUSED(400, "before the start of job 'day'", "trigger", "job=day",
	    "partition=2000-12-31");
	REFUSED(400, "--param bad: not KEY=VALUE", "trigger", "job=day",
	    "param=bad");
	REFUSED(400, "'1x' is not a param name", "trigger", "job=day",
	    "param=1x=5");
	REFUSED(400, "task 'a' has 'n' as an int, and 'abc' is not one",
	    "trigger", "job=day", "param=n=abc");
	REFUSED(400, "--rerun: 'maybe' is not a boolean", "trigger",
	    "job=day", "rerun=maybe");
	/* A success is not run again by accident: a conflict. */
	add_run("2001-01-06", "success", "a:success");
	REFUSED(409, "partition 2001-01-06 of job day already succeeded",
	    "trigger", "job=day", "partition=2001-01-06");
	REFUSED(409, "use --rerun", "trigger", "job=day",
	    "partition=2001-01-06", "rerun=0");
	d = act("trigger", "job=day", "partition=2001-01-06", "rerun=yes",
	    NULL);
	ck_assert_ptr_nonnull(d);
	q_eq("SELECT args FROM requests", "{\"rerun\":true}");
	json_decref(d);
}
END_TEST

START_TEST(test_backfill)
{
	json_t	*d;
	char	*want;

	d = act("backfill", "job=day", "from=2001-01-01", "to=2001-01-05",
	    "max_active_runs=2", "reverse=1", NULL);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "total")), 5);
	ck_assert_int_eq(json_integer_value(json_object_get(d,
	    "max_active_runs")), 2);
	want = xasprintf("backfill day {\"backfill\": %lld}", (long long)
	    json_integer_value(json_object_get(d, "backfill_id")));
	q_eq("SELECT kind || ' ' || job || ' ' || args FROM requests", want);
	free(want);
	q_eq("SELECT job || ' ' || from_key || ' ' || to_key || ' ' || "
	    "reprocess || ' ' || max_active_runs || ' ' || reverse || ' ' || "
	    "total || ' ' || state FROM backfills",
	    "day 2001-01-01 2001-01-05 missing 2 1 5 pending");
	/* --reverse: the newest partition is launched first. */
	q_eq("SELECT group_concat(partition_key, ',') FROM (SELECT "
	    "partition_key FROM backfill_partitions ORDER BY seq)",
	    "2001-01-05,2001-01-04,2001-01-03,2001-01-02,2001-01-01");
	json_decref(d);
	/* The default max_active_runs is the job's. */
	d = act("backfill", "job=day", "from=2001-01-10", "to=2001-01-10",
	    "reprocess=all", NULL);
	ck_assert_ptr_nonnull(d);
	q_eq("SELECT max_active_runs || ' ' || reprocess FROM backfills "
	    "ORDER BY id DESC LIMIT 1", "3 all");
	json_decref(d);
}
END_TEST

START_TEST(test_backfill_dry_run)
{
	json_t	*d, *p;
	char	*before, *after;

	add_run("2001-01-02", "success", "a:success");
	add_run("2001-01-03", "failed", "a:failed");
	before = rows();
	d = act("backfill", "job=day", "from=2001-01-01", "to=2001-01-04",
	    "reprocess=failed", "dry_run=1", NULL);
	after = rows();
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(before, after);
	ck_assert_str_eq(after, "0/0/0");
	p = json_object_get(d, "partitions");
	ck_assert_int_eq(json_array_size(p), 4);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(p,
	    1), "action")), "skip");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(p,
	    2), "action")), "resume");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    d, "counts"), "run")), 2);
	json_decref(d);
	free(before);
	free(after);
	/* With no state at all (meshctl --dry-run before meshd ever ran). */
	ctx.st = NULL;
	d = act("backfill", "job=day", "from=2001-01-01", "to=2001-01-02",
	    "dry_run=true", NULL);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    d, "counts"), "run")), 2);
	json_decref(d);
	ck_assert_ptr_null(act("backfill", "job=day", "from=2001-01-01",
	    "to=2001-01-02", NULL));
	ck_assert_int_eq(err.status, 503);
	ctx.st = st;
}
END_TEST

START_TEST(test_backfill_refused)
{
	REFUSED(404, "unknown job 'nosuch'", "backfill", "job=nosuch",
	    "from=2001-01-01", "to=2001-01-02");
	REFUSED(400, "backfill needs parameter 'to'", "backfill", "job=day",
	    "from=2001-01-01");
	REFUSED(400, "--from: partition 2000-12-31 is before the start of "
	    "job 'day', 2001-01-01; the first valid key is 2001-01-01; "
	    "nothing was written", "backfill", "job=day", "from=2000-12-31",
	    "to=2001-01-03");
	/* Refused in a dry run too. */
	REFUSED(400, "the last valid key is 2001-01-31", "backfill",
	    "job=day", "from=2001-03-01", "to=2001-03-05", "dry_run=1");
	REFUSED(400, "the range is the wrong way round", "backfill",
	    "job=day", "from=2001-01-05", "to=2001-01-01");
	REFUSED(400, "--from: '2001-01-02T10:17' is not a partition",
	    "backfill", "job=day", "from=2001-01-02T10:17", "to=2001-01-05");
	REFUSED(400, "adhoc has no schedule", "backfill", "job=adhoc",
	    "from=a", "to=b");
	REFUSED(400, "more than 10,000,000 partitions; add --yes", "backfill",
	    "job=minute", "from=2001-01-01T00:00", "to=2030-01-01T00:00");
	REFUSED(400, "--reprocess: 'some' is not one of missing, failed, all",
	    "backfill", "job=day", "from=2001-01-01", "to=2001-01-02",
	    "reprocess=some");
	REFUSED(400, "--max-active-runs: '0' is not a number from 1 to "
	    "100000", "backfill", "job=day", "from=2001-01-01",
	    "to=2001-01-02", "max_active_runs=0");
	REFUSED(400, "--max-active-runs: '2x'", "backfill", "job=day",
	    "from=2001-01-01", "to=2001-01-02", "max_active_runs=2x");
}
END_TEST

START_TEST(test_backfill_cancel)
{
	json_t	*d;
	char	*want;
	int64_t	 id;

	REFUSED(404, "no backfill 42", "backfill_cancel", "id=42");
	REFUSED(400, "--id: 'x' is not a number", "backfill_cancel", "id=x");
	REFUSED(400, "--id: '0'", "backfill_cancel", "id=0");
	d = act("backfill", "job=day", "from=2001-01-01", "to=2001-01-02",
	    NULL);
	id = json_integer_value(json_object_get(d, "backfill_id"));
	json_decref(d);
	d = act("backfill_cancel", "id=1", "now=1", NULL);
	ck_assert_ptr_nonnull(d);
	want = xasprintf("cancel day NULL {\"backfill\": %lld, \"now\": true}",
	    (long long)id);
	q_eq("SELECT kind || ' ' || job || ' ' || coalesce(partition_key, "
	    "'NULL') || ' ' || args FROM requests ORDER BY id DESC LIMIT 1",
	    want);
	free(want);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "backfill_id")),
	    id);
	json_decref(d);
	/* Without now: "now": false, as meshctl wrote it. */
	d = act("backfill_cancel", "id=1", NULL);
	ck_assert_ptr_nonnull(d);
	q_eq("SELECT args FROM requests ORDER BY id DESC LIMIT 1",
	    "{\"backfill\": 1, \"now\": false}");
	json_decref(d);
	free(q("UPDATE backfills SET state = 'success' RETURNING 1"));
	REFUSED(409, "backfill 1 has already ended (success", "backfill_cancel",
	    "id=1");
}
END_TEST

START_TEST(test_clear)
{
	json_t	*d;
	char	*s;

	add_run("2001-01-02", "success", "a:success b:success c:success");
	add_run("2001-01-03", "failed", "a:success b:failed c:upstream_failed");
	d = act("clear", "job=day", "partition=2001-01-03", NULL);
	ck_assert_ptr_nonnull(d);
	/* Exactly meshctl's row: one partition has its key. */
	q_eq("SELECT kind || ' ' || job || ' ' || partition_key || ' ' || args "
	    "FROM requests", "clear day 2001-01-03 {\"from\":\"2001-01-03\","
	    "\"to\":\"2001-01-03\",\"task\":null,\"downstream\":false,"
	    "\"failed_only\":false}");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "runs")), 1);
	ck_assert(json_is_null(json_object_get(d, "task")));
	json_decref(d);
	/* A range has none; task and flags as given. */
	s = xasprintf("%s/state/staging/day/2001-01-03", dir);
	ck_assert_int_eq(mkdir_p(s, 0755, NULL), 0);
	free(s);
	d = act("clear", "job=day", "from=2001-01-01", "to=2001-01-05",
	    "task=b", "downstream=1", "failed_only=1", NULL);
	ck_assert_ptr_nonnull(d);
	q_eq("SELECT coalesce(partition_key, 'NULL') || ' ' || args FROM "
	    "requests ORDER BY id DESC LIMIT 1", "NULL {\"from\":\"2001-01-01\","
	    "\"to\":\"2001-01-05\",\"task\":\"b\",\"downstream\":true,"
	    "\"failed_only\":true}");
	/* --failed-only: only the run that failed. */
	ck_assert_int_eq(json_integer_value(json_object_get(d, "runs")), 1);
	json_decref(d);
	/* A dry run checks and counts, and writes nothing. */
	s = rows();
	d = act("clear", "job=day", "from=2001-01-01", "to=2001-01-05",
	    "dry_run=1", NULL);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "runs")), 2);
	ck_assert(json_is_true(json_object_get(d, "dry_run")));
	ck_assert_ptr_null(json_object_get(d, "request_id"));
	json_decref(d);
	q_eq("SELECT (SELECT count(*) FROM requests) || '/' || (SELECT "
	    "count(*) FROM backfills) || '/' || (SELECT count(*) FROM "
	    "backfill_partitions)", s);
	free(s);
}
END_TEST

START_TEST(test_clear_refused)
{
	REFUSED(404, "job 'day' has no run for partition '2001-01-20'",
	    "clear", "job=day", "partition=2001-01-20");
	add_run("2001-01-02", "success", "a:success b:success c:success");
	add_run("2001-01-03", "failed", "a:success b:failed c:upstream_failed");
	REFUSED(404, "job day has no task 'zz' (tasks: a, b, c)", "clear",
	    "job=day", "partition=2001-01-02", "task=zz");
	REFUSED(404, "has no runs from 2001-01-10 to 2001-01-12", "clear",
	    "job=day", "from=2001-01-10", "to=2001-01-12");
	REFUSED(400, "give either --partition KEY or both --from and --to",
	    "clear", "job=day", "partition=2001-01-02", "from=2001-01-01");
	REFUSED(400, "give either --partition KEY or both --from and --to",
	    "clear", "job=day", "from=2001-01-01");
	REFUSED(400, "--downstream needs --task", "clear", "job=day",
	    "partition=2001-01-02", "downstream=1");
	REFUSED(400, "partition 2000-12-31 is before the start of job 'day'",
	    "clear", "job=day", "partition=2000-12-31");
	REFUSED(400, "--to: partition 2001-02-03 is not before the end",
	    "clear", "job=day", "from=2001-01-05", "to=2001-02-03");
	REFUSED(400, "the range is the wrong way round", "clear", "job=day",
	    "from=2001-01-05", "to=2001-01-01");
	REFUSED(409, "nothing to clear: every run of day from 2001-01-02 to "
	    "2001-01-02 succeeded", "clear", "job=day",
	    "partition=2001-01-02", "failed_only=1");
	/* The staging of 2001-01-03 is gone (never made here): b would run
	 * without a's output.  Three lines, meshctl prints each. */
	REFUSED(400, "job day partition 2001-01-03: its staging ", "clear",
	    "job=day", "partition=2001-01-03", "task=b");
	ck_assert_ptr_nonnull(strstr(err.message, "task b would run again "
	    "without the output of task a"));
	ck_assert_ptr_nonnull(strstr(err.message, "\nnot cleared: run the "
	    "upstream tasks again too"));
	ck_assert_ptr_nonnull(strstr(err.message, "(roots: a)"));
	REFUSED(400, "(without --task and --failed-only)", "clear", "job=day",
	    "partition=2001-01-03", "failed_only=1");
	/* Refused in a dry run too. */
	REFUSED(400, "its staging", "clear", "job=day",
	    "partition=2001-01-03", "task=c", "dry_run=1");
}
END_TEST

START_TEST(test_cancel_pause)
{
	json_t	*d;

	REFUSED(400, "'2001-01-05T10' is not a partition", "cancel", "job=day",
	    "partition=2001-01-05T10");
	REFUSED(400, "cancel needs parameter 'partition'", "cancel", "job=day");
	REFUSED(404, "unknown job 'x'", "pause", "job=x");
	d = act("cancel", "job=day", "partition=2001-01-05", NULL);
	ck_assert_ptr_nonnull(d);
	json_decref(d);
	d = act("pause", "job=day", NULL);
	ck_assert_ptr_nonnull(d);
	json_decref(d);
	d = act("unpause", "job=minute", NULL);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(json_string_value(json_object_get(d, "kind")),
	    "unpause");
	json_decref(d);
	q_eq("SELECT group_concat(kind || ' ' || job || ' ' || "
	    "coalesce(partition_key, 'NULL') || ' ' || coalesce(args, 'NULL'), "
	    "', ') FROM requests", "cancel day 2001-01-05 NULL, pause day NULL "
	    "NULL, unpause minute NULL NULL");
}
END_TEST

START_TEST(test_poke)
{
	pid_t	pid = 123;

	/* No meshd: nobody holds the state's lock. */
	ck_assert_int_eq(act_poke(cfg, &pid), 1);
	ck_assert_int_eq(pid, 0);
	ck_assert_str_eq(act_poke_word(1), "not running");
	ck_assert_str_eq(act_poke_word(0), "told");
	ck_assert_str_eq(act_poke_word(-1), "not told");
}
END_TEST

static volatile sig_atomic_t usr1;

static void
on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

/* A meshd stand-in: this process holds the state's lock and reads the
 * FIFO; act_poke() must reach it, and never write into something put in
 * the FIFO's place. */
START_TEST(test_poke_meshd)
{
	struct sigaction sa;
	char	*wake = xasprintf("%s.wake", cfg->state_db);
	char	*victim = xasprintf("%s/victim", dir), buf[8192], *cause = NULL;
	pid_t	 pid;
	int	 lock, rd, n;
	FILE	*f;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	ck_assert_int_ge(lock = state_lock(cfg->state_db, &pid, &cause), 0);
	ck_assert_int_eq(mkfifo(wake, 0600), 0);
	ck_assert_int_ge(rd = open(wake, O_RDWR | O_NONBLOCK), 0);
	ck_assert_int_eq(act_poke(cfg, &pid), 0);
	ck_assert_int_eq(pid, getpid());
	ck_assert_int_eq(read(rd, buf, sizeof buf), 1);
	ck_assert_int_eq(usr1, 0);
	/* A full FIFO: a wake-up is pending already, which is as good. */
	memset(buf, 'w', sizeof buf);
	while (write(rd, buf, sizeof buf) > 0)
		;
	ck_assert_int_eq(act_poke(cfg, &pid), 0);
	ck_assert_int_eq(usr1, 0);
	while ((n = (int)read(rd, buf, sizeof buf)) > 0)
		;
	close(rd);
	/* A regular file in its place is left alone: the signal instead. */
	unlink(wake);
	f = fopen(wake, "w");
	fputs("data", f);
	fclose(f);
	ck_assert_int_eq(act_poke(cfg, &pid), 0);
	ck_assert_int_eq(usr1, 1);
	f = fopen(wake, "r");
	ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
	fclose(f);
	ck_assert_str_eq(buf, "data");
	/* So is a symlink to someone's file. */
	unlink(wake);
	f = fopen(victim, "w");
	fputs("precious", f);
	fclose(f);
	ck_assert_int_eq(symlink(victim, wake), 0);
	ck_assert_int_eq(act_poke(cfg, &pid), 0);
	ck_assert_int_eq(usr1, 2);
	f = fopen(victim, "r");
	ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
	fclose(f);
	ck_assert_str_eq(buf, "precious");
	/* A lock whose holder cannot be read: recorded, not told. */
	ck_assert_int_eq(ftruncate(lock, 0), 0);
	ck_assert_int_eq(act_poke(cfg, &pid), -1);
	ck_assert_int_eq(pid, -1);
	state_unlock(lock);
	ck_assert_int_eq(act_poke(cfg, &pid), 1);
	free(wake);
	free(victim);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("act");
	TCase	*tc = tcase_create("act");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_trigger);
	tcase_add_test(tc, test_trigger_refused);
	tcase_add_test(tc, test_backfill);
	tcase_add_test(tc, test_backfill_dry_run);
	tcase_add_test(tc, test_backfill_refused);
	tcase_add_test(tc, test_backfill_cancel);
	tcase_add_test(tc, test_clear);
	tcase_add_test(tc, test_clear_refused);
	tcase_add_test(tc, test_cancel_pause);
	tcase_add_test(tc, test_poke);
	tcase_add_test(tc, test_poke_meshd);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
