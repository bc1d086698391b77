/*
 * alert.c -- raising alerts: the document, built in the engine's (or
 * freshness's) transaction from what that transaction wrote, INSERTed
 * into alert_outbox with the hook it goes to; and reading them back for
 * `meshctl alerts`.  Delivery is alert-deliver.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "alert.h"
#include "config.h"
#include "job.h"
#include "state.h"
#include "util.h"

static int
db_fail(struct state *st, char **cause, const char *what)
{
	set_cause(cause, "alerts: %s: %s", what,
	    sqlite3_errmsg(state_sqlite(st)));
	return -1;
}

/* This host's name, for the document and the event id. */
static const char *
alert_host(void)
{
	static char	host[256];

	if (host[0] == '\0' && (gethostname(host, sizeof host - 1) != 0 ||
	    host[0] == '\0'))
		snprintf(host, sizeof host, "localhost");
	return host;
}

/* The hook `ev` of `job` goes to: the job's own setting, else meshd.conf's
 * default; NULL when there is none or it is switched off. */
static const struct alert_hook *
hook_for(const struct meshd_config *cfg, const struct job_def *job,
    enum alert_event ev)
{
	const struct alert_hook	*h = NULL;

	if (job != NULL && job->alerts != NULL && ev != ALERT_LATE)
		h = job->alerts->h[ev];
	if (h == NULL && cfg != NULL && cfg->alerts != NULL)
		h = cfg->alerts->dflt.h[ev];
	if (h == NULL || (h->argv == NULL && h->url == NULL))
		return NULL;
	return h;
}

/* The hook as the outbox row keeps it: the deliverer needs nothing else. */
static char *
hook_json(const struct meshd_config *cfg, const struct alert_hook *h)
{
	json_t	*o, *a;
	char	*s;
	size_t	 i;

	o = json_object();
	if (h->url != NULL) {
		json_object_set_new(o, "url", json_string(h->url));
		if (h->token_file != NULL)
			json_object_set_new(o, "bearer_token_file",
			    json_string(h->token_file));
	} else {
		a = json_array();
		for (i = 0; i < h->nargv; i++)
			json_array_append_new(a, json_string(h->argv[i]));
		json_object_set_new(o, "argv", a);
	}
	json_object_set_new(o, "timeout", json_integer(cfg->alerts != NULL ?
	    cfg->alerts->timeout_s : ALERT_TIMEOUT_DEFAULT));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static json_t *
jstr(const unsigned char *s)
{
	return s != NULL ? json_string((const char *)s) : json_null();
}

/*
 * The fields every document has, from the job and (when attempt_id is
 * not 0) the attempt's row and its failed checks.
 */
static json_t *
doc_common(struct state *st, enum alert_event ev, const struct job_def *job,
    const char *partition, int64_t run_id, int64_t attempt_id,
    const char *reason, int64_t now, char **cause)
{
	sqlite3_stmt	*stmt;
	json_t		*d, *checks, *c;
	char		 t[32];
	int		 rc;

	d = json_pack("{s:s, s:n, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "event", alert_event_name(ev), "event_id", "time",
	    fmt_utc(now, t, sizeof t), "host", alert_host(), "job", job->name,
	    "domain", job->domain != NULL ? job->domain : "", "owner",
	    job->owner != NULL ? job->owner : "", "partition",
	    partition != NULL ? partition : "");
	json_object_set_new(d, "run_id", run_id > 0 ?
	    json_integer(run_id) : json_null());
	json_object_set_new(d, "task", json_null());
	json_object_set_new(d, "stage", json_null());
	json_object_set_new(d, "attempt", json_null());
	json_object_set_new(d, "attempt_id", json_null());
	json_object_set_new(d, "log", json_null());
	json_object_set_new(d, "reason", reason != NULL ?
	    json_string(reason) : json_null());
	checks = json_array();
	json_object_set_new(d, "checks", checks);
	json_object_set_new(d, "truncated", json_false());
	if (attempt_id <= 0)
		return d;

	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT ti.task_id, "
	    "ti.stage, a.try_number, ti.max_tries, a.log_path, a.reason, "
	    "a.message FROM attempts a JOIN task_instances ti ON ti.id = "
	    "a.task_instance_id WHERE a.id = ?", -1, &stmt, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(stmt, 1, attempt_id);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		json_object_set_new(d, "task", jstr(sqlite3_column_text(stmt,
		    0)));
		json_object_set_new(d, "stage", jstr(sqlite3_column_text(stmt,
		    1)));
		json_object_set_new(d, "attempt", json_integer(
		    sqlite3_column_int(stmt, 2)));
		json_object_set_new(d, "max_attempts", json_integer(
		    sqlite3_column_int(stmt, 3)));
		json_object_set_new(d, "attempt_id", json_integer(attempt_id));
		json_object_set_new(d, "log", jstr(sqlite3_column_text(stmt,
		    4)));
		if (reason == NULL && sqlite3_column_type(stmt, 5) !=
		    SQLITE_NULL)
			json_object_set_new(d, "reason",
			    jstr(sqlite3_column_text(stmt, 5)));
		if (sqlite3_column_type(stmt, 6) != SQLITE_NULL)
			json_object_set_new(d, "message",
			    jstr(sqlite3_column_text(stmt, 6)));
	}
	sqlite3_finalize(stmt);

	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT name, severity, "
	    "observed, expectation FROM check_results WHERE attempt_id = ? "
	    "AND passed = 0 ORDER BY id", -1, &stmt, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(stmt, 1, attempt_id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int sev = sqlite3_column_int(stmt, 1);

		c = json_pack("{s:s, s:s, s:b}", "name",
		    (const char *)sqlite3_column_text(stmt, 0), "severity",
		    sev == 0 ? "error" : sev == 1 ? "warning" : "unknown",
		    "passed", 0);
		json_object_set_new(c, "observed", sqlite3_column_type(stmt,
		    2) == SQLITE_NULL ? json_null() :
		    json_real(sqlite3_column_double(stmt, 2)));
		json_object_set_new(c, "expected",
		    jstr(sqlite3_column_text(stmt, 3)));
		json_array_append_new(checks, c);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		goto fail;
	return d;
fail:
	json_decref(d);
	db_fail(st, cause, "document");
	return NULL;
}

/* Shorten d's string `field` to at most `keep` bytes, ending in "...". */
static void
doc_shorten(json_t *d, const char *field, size_t keep)
{
	const char	*v = json_string_value(json_object_get(d, field));
	char		*r;

	if (v == NULL || strlen(v) <= keep)
		return;
	/* Never in the middle of a UTF-8 sequence: jansson refuses that. */
	while (keep > 0 && ((unsigned char)v[keep] & 0xc0) == 0x80)
		keep--;
	r = xasprintf("%.*s...", (int)keep, v);
	json_object_set_new(d, field, json_string(r));
	free(r);
}

/*
 * Cut a document over alert_max_bytes, and say so ("truncated": true,
 * "checks_total", "checks_omitted"): the reason and the plugin's message
 * are shortened to a quarter of the limit each (a gate's reason repeats
 * the failed checks, which the structured rows say better), then failed
 * checks go from the end, then the texts are shortened further.  Returns
 * the text.
 */
static char *
doc_dump(json_t *d, long long max)
{
	json_t	*checks = json_object_get(d, "checks");
	char	*s;
	size_t	 len, omitted = 0, total = json_array_size(checks), over, rl;
	int	 k;

	s = json_dumps(d, JSON_COMPACT);
	if (s == NULL || (long long)(len = strlen(s)) <= max)
		return s;
	json_object_set_new(d, "truncated", json_true());
	json_object_set_new(d, "checks_total", json_integer((json_int_t)total));
	json_object_set_new(d, "checks_omitted", json_integer(0));
	doc_shorten(d, "reason", (size_t)max / 4);
	doc_shorten(d, "message", (size_t)max / 4);
	free(s);
	s = json_dumps(d, JSON_COMPACT);
	len = strlen(s);
	while (json_array_size(checks) > 0 && (long long)len > max) {
		json_array_remove(checks, json_array_size(checks) - 1);
		omitted++;
		json_object_set_new(d, "checks_omitted",
		    json_integer((json_int_t)omitted));
		free(s);
		s = json_dumps(d, JSON_COMPACT);
		len = strlen(s);
	}
	/* Then the texts, by what is over each time. */
	for (k = 0; k < 40 && (long long)len > max; k++) {
		const char *field = k % 2 == 0 ? "reason" : "message";
		const char *v = json_string_value(json_object_get(d, field));

		if (v == NULL || (rl = strlen(v)) == 0)
			continue;
		over = len - (size_t)max + 8;
		doc_shorten(d, field, over >= rl ? 0 : rl - over);
		free(s);
		s = json_dumps(d, JSON_COMPACT);
		len = strlen(s);
	}
	return s;
}

/* INSERT the alert; its event_id is made here, once, and kept. */
static int
outbox_insert(struct state *st, const struct meshd_config *cfg,
    const struct alert_hook *h, enum alert_event ev, const char *job,
    const char *partition, int64_t run_id, int64_t attempt_id, json_t *d,
    int64_t now, char **cause)
{
	static unsigned	 n;
	sqlite3_stmt	*stmt;
	char		*id, *text, *hook;
	int		 rc;

	/* Unique across databases (the time), stable across redeliveries
	 * (stored with the document). */
	id = xasprintf("%s:%s:%lld:%lld:%lld.%u", alert_host(),
	    alert_event_name(ev), (long long)run_id, (long long)attempt_id,
	    (long long)now, n++ % 1000);
	json_object_set_new(d, "event_id", json_string(id));
	text = doc_dump(d, cfg->alerts != NULL ? cfg->alerts->max_bytes :
	    ALERT_MAX_BYTES_DEFAULT);
	hook = hook_json(cfg, h);
	if (sqlite3_prepare_v2(state_sqlite(st), "INSERT INTO alert_outbox "
	    "(event_id, event, job, partition_key, run_id, hook, document, "
	    "created_us, give_up_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", -1,
	    &stmt, NULL) != SQLITE_OK) {
		free(id);
		free(text);
		free(hook);
		return db_fail(st, cause, "outbox");
	}
	sqlite3_bind_text(stmt, 1, id, -1, free);
	sqlite3_bind_text(stmt, 2, alert_event_name(ev), -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, job, -1, SQLITE_STATIC);
	if (partition != NULL)
		sqlite3_bind_text(stmt, 4, partition, -1, SQLITE_STATIC);
	if (run_id > 0)
		sqlite3_bind_int64(stmt, 5, run_id);
	sqlite3_bind_text(stmt, 6, hook, -1, free);
	sqlite3_bind_text(stmt, 7, text != NULL ? text : "{}", -1,
	    SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 8, now);
	sqlite3_bind_int64(stmt, 9, now + (int64_t)(cfg->alerts != NULL ?
	    cfg->alerts->give_up_s : ALERT_GIVE_UP_DEFAULT) * 1000000);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	free(text);
	if (rc != SQLITE_DONE)
		return db_fail(st, cause, "outbox");
	return 0;
}

/* The run's partition key. */
static char *
run_partition(struct state *st, int64_t run_id)
{
	sqlite3_stmt	*stmt;
	char		*key = NULL;

	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT partition_key FROM "
	    "runs WHERE id = ?", -1, &stmt, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(stmt, 1, run_id);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		key = xstrdup_null((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	return key;
}

int
alert_task(struct state *st, const struct meshd_config *cfg,
    const struct job_def *job, enum alert_event ev, int64_t run_id,
    int64_t attempt_id, const char *reason, char **cause)
{
	const struct alert_hook	*h;
	json_t			*d;
	char			*key;
	int64_t			 now = now_us();
	int			 rc;

	if ((h = hook_for(cfg, job, ev)) == NULL)
		return 0;
	key = run_partition(st, run_id);
	if ((d = doc_common(st, ev, job, key, run_id, attempt_id, reason, now,
	    cause)) == NULL) {
		free(key);
		return -1;
	}
	rc = outbox_insert(st, cfg, h, ev, job->name, key, run_id, attempt_id,
	    d, now, cause);
	json_decref(d);
	free(key);
	return rc;
}

/* The attempt and reason of the run's first failed task (0 and the run's
 * own reason if none failed: it timed out). */
static int
run_failed_task(struct state *st, int64_t run_id, int64_t *attempt_id,
    char **reason, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	*attempt_id = 0;
	*reason = NULL;
	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT (SELECT max(a.id) "
	    "FROM attempts a WHERE a.task_instance_id = ti.id), ti.reason "
	    "FROM task_instances ti WHERE ti.run_id = ? AND ti.state NOT IN "
	    "('success', 'skipped', 'upstream_failed') ORDER BY ti.state != "
	    "'failed', ti.ended_us, ti.id LIMIT 1", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return db_fail(st, cause, "failed task");
	sqlite3_bind_int64(stmt, 1, run_id);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*attempt_id = sqlite3_column_int64(stmt, 0);
		*reason = xstrdup_null((const char *)
		    sqlite3_column_text(stmt, 1));
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(st, cause, "failed task");
	return 0;
}

int
alert_run_end(struct state *st, const struct meshd_config *cfg,
    const struct job_def *job, int64_t run_id, const char *state,
    char **cause)
{
	sqlite3_stmt		*stmt;
	const struct alert_hook	*h;
	json_t			*d;
	char			*key = NULL, *why = NULL, t[32];
	int64_t			 now = now_us(), attempt_id = 0, since = 0;
	int			 failed, rc = -1, was_failing = 0;

	failed = strcmp(state, "failed") == 0;
	if (!failed && strcmp(state, "success") != 0)
		return 0;	/* cancelled: nobody's failure */
	/* Whether the job is failing is kept whatever the hooks: a hook
	 * added later still hears of the recovery. */
	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT failing_since_us "
	    "FROM jobs WHERE name = ?", -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st, cause, "failing");
	sqlite3_bind_text(stmt, 1, job->name, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW &&
	    sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
		was_failing = 1;
		since = sqlite3_column_int64(stmt, 0);
	}
	sqlite3_finalize(stmt);
	if (failed != was_failing) {
		if (sqlite3_prepare_v2(state_sqlite(st), "UPDATE jobs SET "
		    "failing_since_us = ?2 WHERE name = ?1", -1, &stmt,
		    NULL) != SQLITE_OK)
			return db_fail(st, cause, "failing");
		sqlite3_bind_text(stmt, 1, job->name, -1, SQLITE_STATIC);
		if (failed)
			sqlite3_bind_int64(stmt, 2, now);
		rc = sqlite3_step(stmt);
		sqlite3_finalize(stmt);
		if (rc != SQLITE_DONE)
			return db_fail(st, cause, "failing");
	}
	rc = -1;

	if (failed) {
		if ((h = hook_for(cfg, job, ALERT_FAILURE)) == NULL)
			return 0;
		if (run_failed_task(st, run_id, &attempt_id, &why, cause) != 0)
			return -1;
		key = run_partition(st, run_id);
		if ((d = doc_common(st, ALERT_FAILURE, job, key, run_id,
		    attempt_id, why != NULL ? why : "run failed", now,
		    cause)) == NULL)
			goto out;
		rc = outbox_insert(st, cfg, h, ALERT_FAILURE, job->name, key,
		    run_id, attempt_id, d, now, cause);
		json_decref(d);
		goto out;
	}
	if (!was_failing || (h = hook_for(cfg, job, ALERT_RECOVERY)) == NULL)
		return 0;
	key = run_partition(st, run_id);
	why = xasprintf("run succeeded; the job had been failing since %s",
	    since > 0 ? fmt_utc(since, t, sizeof t) : "?");
	if ((d = doc_common(st, ALERT_RECOVERY, job, key, run_id, 0, why, now,
	    cause)) == NULL)
		goto out;
	if (since > 0)
		json_object_set_new(d, "failing_since", json_string(t));
	rc = outbox_insert(st, cfg, h, ALERT_RECOVERY, job->name, key, run_id,
	    0, d, now, cause);
	json_decref(d);
out:
	free(key);
	free(why);
	return rc;
}

int
alert_late(struct state *st, const struct meshd_config *cfg,
    const struct job_def *job, const char *partition, json_t *fields,
    char **cause)
{
	const struct alert_hook	*h;
	json_t			*d;
	int64_t			 now = now_us();
	int			 rc;

	if ((h = hook_for(cfg, job, ALERT_LATE)) == NULL) {
		json_decref(fields);
		return 0;
	}
	d = doc_common(st, ALERT_LATE, job, partition, 0, 0, NULL, now, cause);
	if (d == NULL) {
		json_decref(fields);
		return -1;
	}
	/* The late document's own fields win (its owner is the product's). */
	json_object_update(d, fields);
	json_decref(fields);
	rc = outbox_insert(st, cfg, h, ALERT_LATE, job->name, partition, 0, 0,
	    d, now, cause);
	json_decref(d);
	return rc;
}

