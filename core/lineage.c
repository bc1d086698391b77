/*
 * lineage.c -- OpenLineage RunEvents: built in the engine's transaction,
 * kept in lineage_outbox, delivered in order by a child process to a JSONL
 * file or an HTTP endpoint (lineage-deliver.c).  See lineage.h for why a
 * process, and meshd.conf(5), LINEAGE, for what a user can rely on.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#include "config.h"
#include "lineage.h"
#include "lineage-int.h"
#include "log.h"
#include "selfexec.h"
#include "state.h"
#include "util.h"

#define FACET_1_0_1 "https://openlineage.io/spec/facets/1-0-1/"
#define SCHEMA_PARENT FACET_1_0_1 \
	"ParentRunFacet.json#/$defs/ParentRunFacet"
#define SCHEMA_ERROR FACET_1_0_1 \
	"ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
#define SCHEMA_NOMINAL FACET_1_0_1 \
	"NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet"
#define SCHEMA_DQ FACET_1_0_1 "DataQualityAssertionsDatasetFacet.json" \
	"#/$defs/DataQualityAssertionsDatasetFacet"
#define SCHEMA_VERSION "https://openlineage.io/spec/facets/1-0-0/" \
	"DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet"
/* meshd's own facets, described in meshd.conf(5). */
#define SCHEMA_MESHD LINEAGE_PRODUCER "/doc/meshd.conf.5#LINEAGE"

/* ------------------------------------------------------------ events */

static uint64_t
mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * A UUID (version 8, RFC 9562's custom layout) that is a 128-bit hash of
 * `s`: the same attempt always gets the same runId, so that an event
 * delivered twice is recognisably the same event, and nothing random has
 * to be stored.  Not a cryptographic hash; ids only have to be distinct.
 */
static void
lineage_uuid(const char *s, char out[37])
{
	uint64_t	h1 = 0xcbf29ce484222325ULL, h2 = 0x6a09e667f3bcc909ULL;
	unsigned char	b[16];
	size_t		i;

	for (i = 0; s[i] != '\0'; i++) {
		h1 = (h1 ^ (unsigned char)s[i]) * 0x100000001b3ULL;
		h2 = mix64(h2 ^ (unsigned char)s[i]);
	}
	h1 = mix64(h1 ^ i);
	h2 = mix64(h2 + h1);
	for (i = 0; i < 8; i++) {
		b[i] = (unsigned char)(h1 >> (56 - 8 * i));
		b[8 + i] = (unsigned char)(h2 >> (56 - 8 * i));
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x80);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* ISO 8601 in UTC with microseconds: 2024-01-05T06:00:00.000000Z. */
static void
lineage_time(int64_t us, char out[64])
{
	time_t		t = (time_t)(us / 1000000);
	long		frac = (long)(us % 1000000);
	struct tm	tm;

	if (frac < 0) {
		frac += 1000000;
		t--;
	}
	gmtime_r(&t, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, frac);
}

/* A facet object: the spec's _producer and _schemaURL, then `fields`
 * (taken). */
static json_t *
facet(const char *schema, json_t *fields)
{
	json_t	*f = json_pack("{s:s, s:s}", "_producer", LINEAGE_PRODUCER,
	    "_schemaURL", schema);

	json_object_update(f, fields);
	json_decref(fields);
	return f;
}

/* A dataset: product `name` at partition `key`; version < 0 if none. */
static json_t *
dataset(const char *ns, const char *name, const char *key, int64_t version,
    const char *pstate)
{
	json_t	*d, *facets, *m;
	char	*v;

	facets = json_object();
	m = json_pack("{s:s}", "partition", key);
	if (version >= 0) {
		json_object_set_new(m, "version", json_integer(version));
		v = xasprintf("%s@%lld", key, (long long)version);
		json_object_set_new(facets, "version", facet(SCHEMA_VERSION,
		    json_pack("{s:s}", "datasetVersion", v)));
		free(v);
	}
	if (pstate != NULL)
		json_object_set_new(m, "state", json_string(pstate));
	json_object_set_new(facets, "meshd_partition", facet(SCHEMA_MESHD, m));
	d = json_pack("{s:s, s:s, s:o}", "namespace", ns, "name", name,
	    "facets", facets);
	return d;
}

/* The datasets the run consumed (run_inputs), appended to `inputs`. */
static int
add_inputs(struct state *st, const char *ns, int64_t run_id, json_t *inputs,
    char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if ((stmt = state_prepare(st, "SELECT p.name, "
	    "ri.partition_key, ri.version FROM run_inputs ri JOIN products p "
	    "ON p.id = ri.product_id WHERE ri.run_id = ? ORDER BY p.name, "
	    "ri.partition_key")) == NULL)
		return lineage_db_fail(st, cause, "run inputs");
	sqlite3_bind_int64(stmt, 1, run_id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		json_array_append_new(inputs, dataset(ns,
		    (const char *)sqlite3_column_text(stmt, 0),
		    (const char *)sqlite3_column_text(stmt, 1),
		    sqlite3_column_int64(stmt, 2), NULL));
	state_stmt_done(stmt);
	if (rc != SQLITE_DONE)
		return lineage_db_fail(st, cause, "run inputs");
	return 0;
}

/* The output: the product partition the task builds, with its state and
 * (once published) its version. */
static int
add_output(struct state *st, const char *ns, const char *product,
    const char *key, json_t *outputs, char **cause)
{
	sqlite3_stmt	*stmt;
	int64_t		 version = -1;
	char		*pstate = NULL;
	int		 rc;

	if ((stmt = state_prepare(st, "SELECT pp.state, "
	    "pp.version FROM product_partitions pp JOIN products p ON p.id = "
	    "pp.product_id WHERE p.name = ? AND pp.partition_key = ?")) == NULL)
		return lineage_db_fail(st, cause, "output partition");
	sqlite3_bind_text(stmt, 1, product, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		pstate = xstrdup_null((const char *)
		    sqlite3_column_text(stmt, 0));
		if (pstate != NULL && strcmp(pstate, "published") == 0)
			version = sqlite3_column_int64(stmt, 1);
	}
	state_stmt_done(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		free(pstate);
		return lineage_db_fail(st, cause, "output partition");
	}
	json_array_append_new(outputs, dataset(ns, product, key, version,
	    pstate));
	free(pstate);
	return 0;
}

/*
 * The attempt's check results, as the spec's dataQualityAssertions input
 * facet on the product checked (and meshd's severities, observed values
 * and expectations beside it).  Nothing when the attempt recorded none.
 */
static int
add_checks(struct state *st, const char *ns, const char *product,
    const char *key, int64_t attempt_id, json_t *inputs, char **cause)
{
	sqlite3_stmt	*stmt;
	json_t		*asserts, *checks, *d, *c;
	int		 rc;

	if ((stmt = state_prepare(st, "SELECT name, severity, "
	    "passed, observed, expectation FROM check_results WHERE "
	    "attempt_id = ? ORDER BY id")) == NULL)
		return lineage_db_fail(st, cause, "check results");
	sqlite3_bind_int64(stmt, 1, attempt_id);
	asserts = json_array();
	checks = json_array();
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char	*name = (const char *)
		    sqlite3_column_text(stmt, 0);
		int		 sev = sqlite3_column_int(stmt, 1);
		int		 passed = sqlite3_column_int(stmt, 2);

		json_array_append_new(asserts, json_pack("{s:s, s:b}",
		    "assertion", name, "success", passed));
		c = json_pack("{s:s, s:s, s:b}", "name", name, "severity",
		    sev == 0 ? "error" : sev == 1 ? "warning" : "unknown",
		    "passed", passed);
		if (sqlite3_column_type(stmt, 3) != SQLITE_NULL)
			json_object_set_new(c, "observed", json_real(
			    sqlite3_column_double(stmt, 3)));
		if (sqlite3_column_type(stmt, 4) != SQLITE_NULL)
			json_object_set_new(c, "expected", json_string(
			    (const char *)sqlite3_column_text(stmt, 4)));
		json_array_append_new(checks, c);
	}
	state_stmt_done(stmt);
	if (rc != SQLITE_DONE) {
		json_decref(asserts);
		json_decref(checks);
		return lineage_db_fail(st, cause, "check results");
	}
	if (json_array_size(asserts) == 0 || product == NULL) {
		json_decref(asserts);
		json_decref(checks);
		return 0;
	}
	d = dataset(ns, product, key, -1, NULL);
	json_object_set_new(d, "inputFacets", json_pack("{s:o, s:o}",
	    "dataQualityAssertions", facet(SCHEMA_DQ, json_pack("{s:o}",
	    "assertions", asserts)), "meshd_checks", facet(SCHEMA_MESHD,
	    json_pack("{s:o}", "checks", checks))));
	json_array_append_new(inputs, d);
	return 0;
}

/*
 * INSERT `ev` into the outbox.  Its seq is only known once inserted, and
 * goes into the event itself (run.facets.meshd.seq): the file sink reads
 * it back from its last line to know what the file already holds.
 */
static int
outbox_insert(struct state *st, json_t *ev, int64_t now, char **cause)
{
	sqlite3		*db = state_sqlite(st);
	sqlite3_stmt	*stmt;
	json_t		*m;
	char		*text;
	int64_t		 seq;
	int		 rc;

	if ((stmt = state_prepare(st, "INSERT INTO lineage_outbox (event, "
	    "created_us) VALUES ('', ?)")) == NULL)
		return lineage_db_fail(st, cause, "outbox");
	sqlite3_bind_int64(stmt, 1, now);
	rc = sqlite3_step(stmt);
	state_stmt_done(stmt);
	if (rc != SQLITE_DONE)
		return lineage_db_fail(st, cause, "outbox");
	seq = sqlite3_last_insert_rowid(db);
	m = json_object_get(json_object_get(json_object_get(ev, "run"),
	    "facets"), "meshd");
	if (m != NULL)
		json_object_set_new(m, "seq", json_integer(seq));
	text = json_dumps(ev, JSON_COMPACT);
	if ((stmt = state_prepare(st, "UPDATE lineage_outbox SET event = ? "
	    "WHERE seq = ?")) == NULL) {
		free(text);
		return lineage_db_fail(st, cause, "outbox");
	}
	sqlite3_bind_text(stmt, 1, text, -1, free);
	sqlite3_bind_int64(stmt, 2, seq);
	rc = sqlite3_step(stmt);
	state_stmt_done(stmt);
	if (rc != SQLITE_DONE)
		return lineage_db_fail(st, cause, "outbox");
	return 0;
}

static const char *
event_type_name(enum lineage_event_type t)
{
	switch (t) {
	case LINEAGE_START:
		return "START";
	case LINEAGE_COMPLETE:
		return "COMPLETE";
	case LINEAGE_FAIL:
		return "FAIL";
	case LINEAGE_ABORT:
		return "ABORT";
	}
	return "OTHER";
}

int
lineage_emit(struct state *st, const struct meshd_config *cfg,
    const struct lineage_attempt *a, char **cause)
{
	sqlite3_stmt	*stmt;
	const char	*ns = cfg->lineage_namespace;
	json_t		*ev = NULL, *rf, *inputs, *outputs;
	char		 id[37], parent[37], when[64], t0[64], t1[64], *s;
	int64_t		 a_start, r_created, istart = 0, iend = 0;
	int		 rc = -1, has_interval;

	if (cfg->lineage_sink == LINEAGE_SINK_NONE)
		return 0;
	if ((stmt = state_prepare(st, "SELECT a.started_us, "
	    "r.created_us, r.interval_start_us, r.interval_end_us FROM "
	    "attempts a JOIN task_instances ti ON ti.id = a.task_instance_id "
	    "JOIN runs r ON r.id = ti.run_id WHERE a.id = ?")) == NULL)
		return lineage_db_fail(st, cause, "attempt");
	sqlite3_bind_int64(stmt, 1, a->attempt_id);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		state_stmt_done(stmt);
		set_cause(cause, "lineage: no attempt %lld",
		    (long long)a->attempt_id);
		return -1;
	}
	a_start = sqlite3_column_int64(stmt, 0);
	r_created = sqlite3_column_int64(stmt, 1);
	istart = sqlite3_column_int64(stmt, 2);
	iend = sqlite3_column_int64(stmt, 3);
	/* An unpartitioned run has no interval (0, 0). */
	has_interval = sqlite3_column_type(stmt, 2) != SQLITE_NULL &&
	    iend > istart;
	state_stmt_done(stmt);

	/* Ids from what never changes about the attempt and the run, with
	 * the creation times so that a new database reusing row ids does
	 * not reuse run ids. */
	s = xasprintf("%s\n%lld\n%lld\n%lld", ns, (long long)a->attempt_id,
	    (long long)a_start, (long long)r_created);
	lineage_uuid(s, id);
	free(s);
	s = xasprintf("%s\nrun\n%lld\n%lld", ns, (long long)a->run_id,
	    (long long)r_created);
	lineage_uuid(s, parent);
	free(s);
	lineage_time(a->when_us, when);

	rf = json_object();
	json_object_set_new(rf, "parent", facet(SCHEMA_PARENT, json_pack(
	    "{s:{s:s}, s:{s:s, s:s}}", "run", "runId", parent, "job",
	    "namespace", ns, "name", a->job)));
	json_object_set_new(rf, "meshd", facet(SCHEMA_MESHD, json_pack(
	    "{s:I, s:I, s:s, s:s, s:s, s:i}", "attempt",
	    (json_int_t)a->attempt_id, "run", (json_int_t)a->run_id, "task",
	    a->task_id, "stage", a->stage, "partition", a->partition_key,
	    "try", a->try_number)));
	if (has_interval) {
		lineage_time(istart, t0);
		lineage_time(iend, t1);
		json_object_set_new(rf, "nominalTime", facet(SCHEMA_NOMINAL,
		    json_pack("{s:s, s:s}", "nominalStartTime", t0,
		    "nominalEndTime", t1)));
	}
	if ((a->type == LINEAGE_FAIL || a->type == LINEAGE_ABORT) &&
	    a->error != NULL)
		json_object_set_new(rf, "errorMessage", facet(SCHEMA_ERROR,
		    json_pack("{s:s, s:s}", "message", a->error,
		    "programmingLanguage", "C")));

	inputs = json_array();
	outputs = json_array();
	ev = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:o}, s:{s:s, s:s++}, "
	    "s:o, s:o}", "eventType", event_type_name(a->type), "eventTime",
	    when, "producer", LINEAGE_PRODUCER, "schemaURL",
	    LINEAGE_SCHEMA_URL, "run", "runId", id, "facets", rf, "job",
	    "namespace", ns, "name", a->job, ".", a->task_id, "inputs",
	    inputs, "outputs", outputs);
	if (ev == NULL) {
		set_cause(cause, "lineage: cannot build the event of attempt "
		    "%lld", (long long)a->attempt_id);
		return -1;
	}
	if (add_inputs(st, ns, a->run_id, inputs, cause) != 0)
		goto out;
	if (a->product != NULL && add_output(st, ns, a->product,
	    a->partition_key, outputs, cause) != 0)
		goto out;
	if (a->type != LINEAGE_START && add_checks(st, ns, a->product,
	    a->partition_key, a->attempt_id, inputs, cause) != 0)
		goto out;
	rc = outbox_insert(st, ev, now_us(), cause);
	/* meshd's transaction is open anyway: the deliverer's position
	 * goes into lineage_sinks here, so that it never waits for the
	 * write lock itself (lineage-int.h). */
	if (rc == 0)
		rc = lineage_fold_file(st, cfg, 0, cause);
out:
	json_decref(ev);
	return rc;
}

/* The START event of the attempt with runId `id` still in the outbox, or
 * NULL. */
static json_t *
outbox_start_event(struct state *st, const char *id)
{
	sqlite3_stmt	*stmt;
	json_t		*ev = NULL;

	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT event FROM "
	    "lineage_outbox WHERE json_extract(event, '$.run.runId') = ? AND "
	    "json_extract(event, '$.eventType') = 'START' ORDER BY seq DESC "
	    "LIMIT 1", -1, &stmt, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		ev = json_loads((const char *)sqlite3_column_text(stmt, 0), 0,
		    NULL);
	sqlite3_finalize(stmt);
	return ev;
}

/* Finish an attempt the way engine_recover() does, so that it is not
 * found running (and given a second FAIL) again. */
static int
finish_attempt(struct state *st, int64_t id, int64_t now, const char *why,
    char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (sqlite3_prepare_v2(state_sqlite(st), "UPDATE attempts SET state = "
	    "'failed', ended_us = ?, reason = ? WHERE id = ?", -1, &stmt,
	    NULL) != SQLITE_OK)
		return lineage_db_fail(st, cause, "recover");
	sqlite3_bind_int64(stmt, 1, now);
	sqlite3_bind_text(stmt, 2, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, id);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : lineage_db_fail(st, cause, "recover");
}

int
lineage_recover(struct state *st, const struct meshd_config *cfg,
    int64_t now, char **cause)
{
	sqlite3_stmt		*stmt;
	struct lineage_attempt	 a;
	json_t			*ev, *rf;
	char			 id[37], when[64], *s, *sql, *remote;
	int			 rc;
	static const char	 why[] = "daemon restarted";

	if (cfg->lineage_sink == LINEAGE_SINK_NONE)
		return 0;
	if (state_begin(st, cause) != 0)
		return -1;
	/* Where the deliverer got to before the crash. */
	if (lineage_fold_file(st, cfg, 1, cause) != 0)
		goto fail;
	/* Attempts on a remote executor are adopted, not ended. */
	remote = config_remote_in(cfg);
	sql = xasprintf("SELECT a.id, a.started_us, "
	    "a.try_number, r.created_us, r.id, j.name, ti.task_id, ti.stage, "
	    "r.partition_key FROM attempts a JOIN task_instances ti ON ti.id "
	    "= a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j "
	    "ON j.id = r.job_id WHERE a.state = 'running' AND (a.executor IS "
	    "NULL OR a.executor NOT IN %s) ORDER BY a.id", remote);
	free(remote);
	rc = sqlite3_prepare_v2(state_sqlite(st), sql, -1, &stmt, NULL);
	free(sql);
	if (rc != SQLITE_OK) {
		lineage_db_fail(st, cause, "recover");
		goto fail;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		s = xasprintf("%s\n%lld\n%lld\n%lld", cfg->lineage_namespace,
		    (long long)sqlite3_column_int64(stmt, 0),
		    (long long)sqlite3_column_int64(stmt, 1),
		    (long long)sqlite3_column_int64(stmt, 3));
		lineage_uuid(s, id);
		free(s);
		if ((ev = outbox_start_event(st, id)) != NULL) {
			/* The START still in the outbox knows the datasets;
			 * the end repeats them. */
			lineage_time(now, when);
			json_object_set_new(ev, "eventType",
			    json_string("FAIL"));
			json_object_set_new(ev, "eventTime", json_string(when));
			rf = json_object_get(json_object_get(ev, "run"),
			    "facets");
			if (rf != NULL)
				json_object_set_new(rf, "errorMessage",
				    facet(SCHEMA_ERROR, json_pack("{s:s, s:s}",
				    "message", why, "programmingLanguage",
				    "C")));
			rc = outbox_insert(st, ev, now, cause);
			json_decref(ev);
		} else {
			memset(&a, 0, sizeof a);
			a.type = LINEAGE_FAIL;
			a.attempt_id = sqlite3_column_int64(stmt, 0);
			a.try_number = sqlite3_column_int(stmt, 2);
			a.run_id = sqlite3_column_int64(stmt, 4);
			a.job = (const char *)sqlite3_column_text(stmt, 5);
			a.task_id = (const char *)sqlite3_column_text(stmt, 6);
			a.stage = (const char *)sqlite3_column_text(stmt, 7);
			a.partition_key = (const char *)
			    sqlite3_column_text(stmt, 8);
			a.when_us = now;
			a.error = why;
			rc = lineage_emit(st, cfg, &a, cause);
		}
		if (rc != 0 || finish_attempt(st, sqlite3_column_int64(stmt, 0),
		    now, why, cause) != 0) {
			sqlite3_finalize(stmt);
			goto fail;
		}
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		lineage_db_fail(st, cause, "recover");
		goto fail;
	}
	return state_commit(st, cause);
fail:
	state_rollback(st);
	return -1;
}
