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

/* The pipe that wakes the deliverer (lineage-deliver.c starts it), here
 * so that the engine's lineage_kick() does not pull the deliverer, and
 * libcurl with it, into meshctl. */
int	lineage_kick_fd = -1;

void
lineage_kick(void)
{
	/* A full pipe already holds a kick. */
	if (lineage_kick_fd != -1 && write(lineage_kick_fd, "", 1) == -1)
		return;
}

/* ------------------------------------------------------------ events */

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

/* A dataset: product `name` at partition `key`; version < 0 if none.
 * Its documentation facet is the product's description, when it has one
 * and `st` is given. */
static json_t *
dataset(struct state *st, const char *ns, const char *name, const char *key,
    int64_t version, const char *pstate)
{
	json_t	*d, *facets, *m;
	char	*v, *desc = NULL, *why = NULL;

	facets = json_object();
	if (st != NULL) {
		/* A description that cannot be read leaves the facet out:
		 * the event is worth more than its documentation. */
		if (lineage_product_doc(st, name, &desc, &why) != 0)
			free(why);
		else if (desc != NULL)
			json_object_set_new(facets, "documentation",
			    lineage_facet(SCHEMA_DOC_DATASET, json_pack(
			    "{s:s, s:s}", "description", desc, "contentType",
			    "text/plain")));
		free(desc);
	}
	m = json_pack("{s:s}", "partition", key);
	if (version >= 0) {
		json_object_set_new(m, "version", json_integer(version));
		v = xasprintf("%s@%lld", key, (long long)version);
		json_object_set_new(facets, "version", lineage_facet(
		    SCHEMA_VERSION, json_pack("{s:s}", "datasetVersion", v)));
		free(v);
	}
	if (pstate != NULL)
		json_object_set_new(m, "state", json_string(pstate));
	json_object_set_new(facets, "meshd_partition",
	    lineage_facet(SCHEMA_MESHD_PARTITION, m));
	d = json_pack("{s:s, s:s, s:o}", "namespace", ns, "name", name,
	    "facets", facets);
	return d;
}

/*
 * What the outbox holds for an attempt's event.  Not the event: a
 * kilobyte of JSON, built in the engine's transaction, written to the WAL,
 * checkpointed and deleted again, halved the engine's throughput.  Only
 * what the event says that may change after it (the output partition's
 * state and version, the run's inputs, the error), in one line:
 *
 *   @1 TAB type TAB attempt id TAB when_us TAB product TAB output state
 *   TAB output version TAB inputs TAB error
 *
 * with the inputs as "product SP key SP version" joined by US (0x1f), an
 * empty product or state for none and the error last (it may hold tabs).
 * lineage_render() builds the event from it and from what never changes
 * (the attempt, its run and job, its check results) when it is delivered.
 * A row that starts with '{' is an event already (written by an older
 * meshd, or by recovery from a START still in the outbox).
 */
#define COMPACT_MAGIC	"@1\t"

/* Append the run's inputs (run_inputs), as the compact form has them;
 * from and into *cache if that is not NULL. */
static int
compact_inputs(struct state *st, int64_t run_id, char **cache,
    struct sbuf *out, char **cause)
{
	sqlite3_stmt	*stmt;
	struct sbuf	 ib, *b = out;
	int		 rc, n = 0;

	if (cache != NULL && *cache != NULL) {
		sbuf_printf(out, "%s", *cache);
		return 0;
	}
	if (cache != NULL) {
		memset(&ib, 0, sizeof ib);
		sbuf_printf(&ib, "%s", "");
		b = &ib;
	}

	if ((stmt = state_prepare(st, "SELECT p.name, ri.partition_key, "
	    "ri.version FROM run_inputs ri JOIN products p ON p.id = "
	    "ri.product_id WHERE ri.run_id = ? ORDER BY p.name, "
	    "ri.partition_key")) == NULL)
		return lineage_db_fail(st, cause, "run inputs");
	sqlite3_bind_int64(stmt, 1, run_id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		sbuf_printf(b, "%s%s %s %lld", n++ > 0 ? "\x1f" : "",
		    (const char *)sqlite3_column_text(stmt, 0),
		    (const char *)sqlite3_column_text(stmt, 1),
		    (long long)sqlite3_column_int64(stmt, 2));
	state_stmt_done(stmt);
	if (rc != SQLITE_DONE) {
		if (b != out)
			free(ib.buf);
		return lineage_db_fail(st, cause, "run inputs");
	}
	if (b != out) {
		sbuf_printf(out, "%s", ib.buf);
		*cache = ib.buf;
	}
	return 0;
}

/* The output partition's state and version now ("" and -1: none). */
static int
compact_output(struct state *st, const char *product, const char *key,
    struct sbuf *b, char **cause)
{
	sqlite3_stmt	*stmt;
	const char	*pstate = "";
	int64_t		 version = -1;
	int		 rc;

	if (product != NULL) {
		if ((stmt = state_prepare(st, "SELECT pp.state, pp.version "
		    "FROM product_partitions pp JOIN products p ON p.id = "
		    "pp.product_id WHERE p.name = ? AND pp.partition_key = "
		    "?")) == NULL)
			return lineage_db_fail(st, cause, "output partition");
		sqlite3_bind_text(stmt, 1, product, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(stmt)) == SQLITE_ROW &&
		    sqlite3_column_text(stmt, 0) != NULL) {
			pstate = (const char *)sqlite3_column_text(stmt, 0);
			if (strcmp(pstate, "published") == 0)
				version = sqlite3_column_int64(stmt, 1);
		}
		sbuf_printf(b, "%s\t%s\t%lld\t", product, pstate,
		    (long long)version);
		state_stmt_done(stmt);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return lineage_db_fail(st, cause, "output partition");
		return 0;
	}
	sbuf_printf(b, "\t\t-1\t");
	return 0;
}

int
lineage_emit(struct state *st, const struct meshd_config *cfg,
    const struct lineage_attempt *a, char **cause)
{
	sqlite3_stmt	*stmt;
	struct sbuf	 b;
	int		 rc;

	if (cfg->lineage_sink == LINEAGE_SINK_NONE)
		return 0;
	memset(&b, 0, sizeof b);
	sbuf_printf(&b, COMPACT_MAGIC "%d\t%lld\t%lld\t", (int)a->type,
	    (long long)a->attempt_id, (long long)a->when_us);
	if (compact_output(st, a->product, a->partition_key, &b, cause) != 0 ||
	    compact_inputs(st, a->run_id, a->inputs, &b, cause) != 0) {
		free(b.buf);
		return -1;
	}
	sbuf_printf(&b, "\t%s", (a->type == LINEAGE_FAIL ||
	    a->type == LINEAGE_ABORT) && a->error != NULL ? a->error : "");
	if ((stmt = state_prepare(st, "INSERT INTO lineage_outbox (event, "
	    "created_us) VALUES (?, ?)")) == NULL) {
		free(b.buf);
		return lineage_db_fail(st, cause, "outbox");
	}
	sqlite3_bind_text(stmt, 1, b.buf, (int)b.len, free);
	sqlite3_bind_int64(stmt, 2, now_us());
	rc = sqlite3_step(stmt);
	state_stmt_done(stmt);
	if (rc != SQLITE_DONE)
		return lineage_db_fail(st, cause, "outbox");
	/* meshd's transaction is open anyway: the deliverer's position
	 * goes into lineage_sinks here, so that it never waits for the
	 * write lock itself (lineage-int.h). */
	return lineage_fold_file(st, cfg, 0, cause);
}

/* The datasets of the compact inputs `in` (modified), appended. */
static void
render_inputs(struct state *st, const char *ns, char *in, json_t *inputs)
{
	char	*p, *next, *key, *ver;

	for (p = in; p != NULL && *p != '\0'; p = next) {
		if ((next = strchr(p, '\x1f')) != NULL)
			*next++ = '\0';
		if ((key = strchr(p, ' ')) == NULL ||
		    (ver = strrchr(key + 1, ' ')) == NULL)
			continue;
		*key++ = '\0';
		*ver++ = '\0';
		json_array_append_new(inputs, dataset(st, ns, p, key,
		    strtoll(ver, NULL, 10), NULL));
	}
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
	d = dataset(NULL, ns, product, key, -1, NULL);
	json_object_set_new(d, "inputFacets", json_pack("{s:o, s:o}",
	    "dataQualityAssertions", lineage_facet(SCHEMA_DQ, json_pack("{s:o}",
	    "assertions", asserts)), "meshd_checks", lineage_facet(
	    SCHEMA_MESHD_CHECKS, json_pack("{s:o}", "checks", checks))));
	json_array_append_new(inputs, d);
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

/* Split the compact row `s` (modified) into its fields; -1 if it is not
 * one. */
static int
compact_split(char *s, char *f[8])
{
	int	i;

	if (strncmp(s, COMPACT_MAGIC, strlen(COMPACT_MAGIC)) != 0)
		return -1;
	s += strlen(COMPACT_MAGIC);
	for (i = 0; i < 7; i++) {
		f[i] = s;
		if ((s = strchr(s, '\t')) == NULL)
			return -1;
		*s++ = '\0';
	}
	f[7] = s;		/* the error: the rest */
	return 0;
}

char *
lineage_render(struct state *st, const struct meshd_config *cfg,
    int64_t seq, const char *stored, char **cause)
{
	sqlite3_stmt	*stmt;
	const char	*ns = cfg->lineage_namespace;
	json_t		*ev = NULL, *rf, *inputs, *outputs, *jf, *d, *os;
	char		 id[37], parent[37], when[64], t0[64], t1[64], *s;
	char		*copy, *f[8], *job = NULL, *task = NULL, *stage = NULL;
	char		*key = NULL, *text = NULL;
	int64_t		 attempt_id, run_id = 0, a_start, r_created;
	int64_t		 istart = 0, iend = 0, version;
	int		 type, try_number = 0, has_interval, rc;

	if (stored[0] != '@')
		return xstrdup(stored);
	copy = xstrdup(stored);
	if (compact_split(copy, f) != 0) {
		set_cause(cause, "lineage: outbox event %lld: not an event "
		    "meshd wrote", (long long)seq);
		free(copy);
		return NULL;
	}
	type = atoi(f[0]);
	attempt_id = strtoll(f[1], NULL, 10);
	if ((stmt = state_prepare(st, "SELECT a.started_us, r.created_us, "
	    "r.interval_start_us, r.interval_end_us, r.id, j.name, "
	    "ti.task_id, ti.stage, r.partition_key, a.try_number FROM "
	    "attempts a JOIN task_instances ti ON ti.id = a.task_instance_id "
	    "JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id "
	    "WHERE a.id = ?")) == NULL) {
		lineage_db_fail(st, cause, "attempt");
		free(copy);
		return NULL;
	}
	sqlite3_bind_int64(stmt, 1, attempt_id);
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) {
		state_stmt_done(stmt);
		if (rc == SQLITE_DONE)
			set_cause(cause, "lineage: outbox event %lld: no "
			    "attempt %lld", (long long)seq,
			    (long long)attempt_id);
		else
			lineage_db_fail(st, cause, "attempt");
		free(copy);
		return NULL;
	}
	a_start = sqlite3_column_int64(stmt, 0);
	r_created = sqlite3_column_int64(stmt, 1);
	istart = sqlite3_column_int64(stmt, 2);
	iend = sqlite3_column_int64(stmt, 3);
	/* An unpartitioned run has no interval (0, 0). */
	has_interval = sqlite3_column_type(stmt, 2) != SQLITE_NULL &&
	    iend > istart;
	run_id = sqlite3_column_int64(stmt, 4);
	job = xstrdup((const char *)sqlite3_column_text(stmt, 5));
	task = xstrdup((const char *)sqlite3_column_text(stmt, 6));
	stage = xstrdup((const char *)sqlite3_column_text(stmt, 7));
	key = xstrdup((const char *)sqlite3_column_text(stmt, 8));
	try_number = sqlite3_column_int(stmt, 9);
	state_stmt_done(stmt);

	/* Ids from what never changes about the attempt and the run, with
	 * the creation times so that a new database reusing row ids does
	 * not reuse run ids; UUIDv7 with the attempt's start and the run's
	 * creation as their times. */
	s = xasprintf("%s\n%lld\n%lld\n%lld", ns, (long long)attempt_id,
	    (long long)a_start, (long long)r_created);
	lineage_uuid(a_start / 1000, s, id);
	free(s);
	s = xasprintf("%s\nrun\n%lld\n%lld", ns, (long long)run_id,
	    (long long)r_created);
	lineage_uuid(r_created / 1000, s, parent);
	free(s);
	lineage_time(strtoll(f[2], NULL, 10), when);

	rf = json_object();
	json_object_set_new(rf, "parent", lineage_facet(SCHEMA_PARENT,
	    json_pack("{s:{s:s}, s:{s:s, s:s}}", "run", "runId", parent, "job",
	    "namespace", ns, "name", job)));
	json_object_set_new(rf, "meshd", lineage_facet(SCHEMA_MESHD_RUN,
	    json_pack("{s:I, s:I, s:s, s:s, s:s, s:i, s:I}", "attempt",
	    (json_int_t)attempt_id, "run", (json_int_t)run_id, "task", task,
	    "stage", stage, "partition", key, "try", try_number, "seq",
	    (json_int_t)seq)));
	if (has_interval) {
		lineage_time(istart, t0);
		lineage_time(iend, t1);
		json_object_set_new(rf, "nominalTime", lineage_facet(
		    SCHEMA_NOMINAL, json_pack("{s:s, s:s}", "nominalStartTime",
		    t0, "nominalEndTime", t1)));
	}
	if ((type == LINEAGE_FAIL || type == LINEAGE_ABORT) && *f[7] != '\0')
		json_object_set_new(rf, "errorMessage", lineage_facet(
		    SCHEMA_ERROR, json_pack("{s:s, s:s}", "message", f[7],
		    "programmingLanguage", "C")));

	if (lineage_job_facets(st, job, *f[3] != '\0' ? f[3] : NULL, &jf,
	    cause) != 0) {
		json_decref(rf);
		goto out;
	}
	inputs = json_array();
	outputs = json_array();
	ev = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:o}, s:{s:s, s:s++, "
	    "s:o}, s:o, s:o}", "eventType", event_type_name(type),
	    "eventTime", when, "producer", LINEAGE_PRODUCER, "schemaURL",
	    LINEAGE_SCHEMA_URL, "run", "runId", id, "facets", rf, "job",
	    "namespace", ns, "name", job, ".", task, "facets", jf, "inputs",
	    inputs, "outputs", outputs);
	if (ev == NULL) {
		set_cause(cause, "lineage: cannot build the event of attempt "
		    "%lld", (long long)attempt_id);
		goto out;
	}
	render_inputs(st, ns, f[6], inputs);
	if (*f[3] != '\0') {
		version = strtoll(f[5], NULL, 10);
		d = dataset(st, ns, f[3], key, version, *f[4] != '\0' ? f[4] :
		    NULL);
		json_array_append_new(outputs, d);
		/* What the publish recorded, on the end of the attempt
		 * that published this version. */
		if (type == LINEAGE_COMPLETE && version >= 0) {
			if (lineage_output_stats(st, f[3], key, attempt_id,
			    version, &os, cause) != 0)
				goto out;
			if (os != NULL)
				json_object_set_new(d, "outputFacets",
				    json_pack("{s:o}", "outputStatistics", os));
		}
	}
	if (type != LINEAGE_START && add_checks(st, ns, *f[3] != '\0' ?
	    f[3] : NULL, key, attempt_id, inputs, cause) != 0)
		goto out;
	text = json_dumps(ev, JSON_COMPACT);
out:
	json_decref(ev);
	free(copy);
	free(job);
	free(task);
	free(stage);
	free(key);
	return text;
}

int
lineage_same_event(const char *stored, const char *line, size_t len)
{
	json_t		*ev, *att;
	const char	*type, *time;
	char		*copy, *f[8], when[64];
	int		 r;

	if (stored[0] != '@')
		return strlen(stored) == len && memcmp(stored, line, len) == 0;
	copy = xstrdup(stored);
	if (compact_split(copy, f) != 0 ||
	    (ev = json_loadb(line, len, 0, NULL)) == NULL) {
		free(copy);
		return 0;
	}
	lineage_time(strtoll(f[2], NULL, 10), when);
	att = json_object_get(json_object_get(json_object_get(
	    json_object_get(ev, "run"), "facets"), "meshd"), "attempt");
	type = json_string_value(json_object_get(ev, "eventType"));
	time = json_string_value(json_object_get(ev, "eventTime"));
	r = json_is_integer(att) &&
	    json_integer_value(att) == strtoll(f[1], NULL, 10) &&
	    type != NULL && strcmp(type, event_type_name(atoi(f[0]))) == 0 &&
	    time != NULL && strcmp(time, when) == 0;
	json_decref(ev);
	free(copy);
	return r;
}

/*
 * INSERT a built event `ev` into the outbox (recovery's FAIL made from a
 * START still there).  Its seq is only known once inserted, and goes into
 * the event itself (run.facets.meshd.seq): the file sink reads it back
 * from its last line to know what the file already holds.
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
	    "created_us) VALUES ('{}', ?)")) == NULL)
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

/* The START event of the attempt with runId `id` still in the outbox, or
 * NULL. */
static json_t *
outbox_start_event(struct state *st, const char *id)
{
	sqlite3_stmt	*stmt;
	json_t		*ev = NULL;

	/* Only rows that are events already: recovery emits a compact FAIL
	 * for the others (lineage_recover()). */
	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT event FROM "
	    "lineage_outbox WHERE CASE WHEN substr(event, 1, 1) = '{' THEN "
	    "json_extract(event, '$.run.runId') = ?1 AND json_extract(event, "
	    "'$.eventType') = 'START' ELSE 0 END ORDER BY seq DESC LIMIT 1",
	    -1, &stmt, NULL) != SQLITE_OK)
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
		/* The id lineage_render() gave the attempt's START. */
		lineage_uuid(sqlite3_column_int64(stmt, 1) / 1000, s, id);
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
				    lineage_facet(SCHEMA_ERROR, json_pack(
				    "{s:s, s:s}", "message", why,
				    "programmingLanguage", "C")));
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
