/*
 * lineage.c -- OpenLineage RunEvents: built in the engine's transaction,
 * kept in lineage_outbox, delivered in order by a child process to a JSONL
 * file or an HTTP endpoint.  See lineage.h for why a process, and
 * meshd.conf(5), LINEAGE, for what a user can rely on.
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

/* Events per delivery pass, and retention's batch. */
#define LINEAGE_BATCH		256
#define LINEAGE_PRUNE_BATCH	1000
/* Backoff of a failing sink: 0.5 s doubling up to a minute. */
#define LINEAGE_BACKOFF_MIN_US	500000LL
#define LINEAGE_BACKOFF_MAX_US	60000000LL

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

static int
db_fail(struct state *st, char **cause, const char *what)
{
	set_cause(cause, "lineage: %s: %s", what,
	    sqlite3_errmsg(state_sqlite(st)));
	return -1;
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
		return db_fail(st, cause, "run inputs");
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
		return db_fail(st, cause, "run inputs");
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
			return db_fail(st, cause, "output partition");
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
			return db_fail(st, cause, "output partition");
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
		return db_fail(st, cause, "outbox");
	}
	sqlite3_bind_text(stmt, 1, b.buf, (int)b.len, free);
	sqlite3_bind_int64(stmt, 2, now_us());
	rc = sqlite3_step(stmt);
	state_stmt_done(stmt);
	return rc == SQLITE_DONE ? 0 : db_fail(st, cause, "outbox");
}

/* The datasets of the compact inputs `in` (modified), appended. */
static void
render_inputs(const char *ns, char *in, json_t *inputs)
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
		json_array_append_new(inputs, dataset(ns, p, key,
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
		return db_fail(st, cause, "check results");
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
		return db_fail(st, cause, "check results");
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
	json_t		*ev = NULL, *rf, *inputs, *outputs;
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
		db_fail(st, cause, "attempt");
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
			db_fail(st, cause, "attempt");
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
	 * not reuse run ids. */
	s = xasprintf("%s\n%lld\n%lld\n%lld", ns, (long long)attempt_id,
	    (long long)a_start, (long long)r_created);
	lineage_uuid(s, id);
	free(s);
	s = xasprintf("%s\nrun\n%lld\n%lld", ns, (long long)run_id,
	    (long long)r_created);
	lineage_uuid(s, parent);
	free(s);
	lineage_time(strtoll(f[2], NULL, 10), when);

	rf = json_object();
	json_object_set_new(rf, "parent", facet(SCHEMA_PARENT, json_pack(
	    "{s:{s:s}, s:{s:s, s:s}}", "run", "runId", parent, "job",
	    "namespace", ns, "name", job)));
	json_object_set_new(rf, "meshd", facet(SCHEMA_MESHD, json_pack(
	    "{s:I, s:I, s:s, s:s, s:s, s:i, s:I}", "attempt",
	    (json_int_t)attempt_id, "run", (json_int_t)run_id, "task", task,
	    "stage", stage, "partition", key, "try", try_number, "seq",
	    (json_int_t)seq)));
	if (has_interval) {
		lineage_time(istart, t0);
		lineage_time(iend, t1);
		json_object_set_new(rf, "nominalTime", facet(SCHEMA_NOMINAL,
		    json_pack("{s:s, s:s}", "nominalStartTime", t0,
		    "nominalEndTime", t1)));
	}
	if ((type == LINEAGE_FAIL || type == LINEAGE_ABORT) && *f[7] != '\0')
		json_object_set_new(rf, "errorMessage", facet(SCHEMA_ERROR,
		    json_pack("{s:s, s:s}", "message", f[7],
		    "programmingLanguage", "C")));

	inputs = json_array();
	outputs = json_array();
	ev = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:o}, s:{s:s, s:s++}, "
	    "s:o, s:o}", "eventType", event_type_name(type), "eventTime",
	    when, "producer", LINEAGE_PRODUCER, "schemaURL",
	    LINEAGE_SCHEMA_URL, "run", "runId", id, "facets", rf, "job",
	    "namespace", ns, "name", job, ".", task, "inputs", inputs,
	    "outputs", outputs);
	if (ev == NULL) {
		set_cause(cause, "lineage: cannot build the event of attempt "
		    "%lld", (long long)attempt_id);
		goto out;
	}
	render_inputs(ns, f[6], inputs);
	if (*f[3] != '\0') {
		version = strtoll(f[5], NULL, 10);
		json_array_append_new(outputs, dataset(ns, f[3], key, version,
		    *f[4] != '\0' ? f[4] : NULL));
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
		return db_fail(st, cause, "outbox");
	sqlite3_bind_int64(stmt, 1, now);
	rc = sqlite3_step(stmt);
	state_stmt_done(stmt);
	if (rc != SQLITE_DONE)
		return db_fail(st, cause, "outbox");
	seq = sqlite3_last_insert_rowid(db);
	m = json_object_get(json_object_get(json_object_get(ev, "run"),
	    "facets"), "meshd");
	if (m != NULL)
		json_object_set_new(m, "seq", json_integer(seq));
	text = json_dumps(ev, JSON_COMPACT);
	if ((stmt = state_prepare(st, "UPDATE lineage_outbox SET event = ? "
	    "WHERE seq = ?")) == NULL) {
		free(text);
		return db_fail(st, cause, "outbox");
	}
	sqlite3_bind_text(stmt, 1, text, -1, free);
	sqlite3_bind_int64(stmt, 2, seq);
	rc = sqlite3_step(stmt);
	state_stmt_done(stmt);
	if (rc != SQLITE_DONE)
		return db_fail(st, cause, "outbox");
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
		return db_fail(st, cause, "recover");
	sqlite3_bind_int64(stmt, 1, now);
	sqlite3_bind_text(stmt, 2, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, id);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : db_fail(st, cause, "recover");
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
		db_fail(st, cause, "recover");
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
		db_fail(st, cause, "recover");
		goto fail;
	}
	return state_commit(st, cause);
fail:
	state_rollback(st);
	return -1;
}

/* ------------------------------------------------------------ delivery */

/* The sink's row name: one acked position per destination, so that a
 * new file or URL starts from the events still in the outbox. */
static char *
sink_name(const struct meshd_config *cfg)
{
	if (cfg->lineage_sink == LINEAGE_SINK_HTTP)
		return xstrdup(cfg->lineage_url);
	return xasprintf("file:%s", cfg->lineage_path);
}

static int
sink_exec(struct state *st, const char *sql, const char *name, int64_t a,
    int64_t b, const char *text, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (sqlite3_prepare_v2(state_sqlite(st), sql, -1, &stmt, NULL) !=
	    SQLITE_OK)
		return db_fail(st, cause, "sink");
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(stmt) >= 2)
		sqlite3_bind_int64(stmt, 2, a);
	if (sqlite3_bind_parameter_count(stmt) >= 3)
		sqlite3_bind_int64(stmt, 3, b);
	if (sqlite3_bind_parameter_count(stmt) >= 4)
		sqlite3_bind_text(stmt, 4, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return db_fail(st, cause, "sink");
	return 0;
}

/* The offset of the last newline before `from` in `fd`, or -1. */
static off_t
file_nl_before(int fd, off_t from)
{
	char	 buf[4096], *nl;
	off_t	 start;
	ssize_t	 n;

	while (from > 0) {
		start = from > (off_t)sizeof buf ? from - (off_t)sizeof buf : 0;
		if ((n = pread(fd, buf, (size_t)(from - start), start)) <= 0)
			return -1;
		if ((nl = memrchr(buf, '\n', (size_t)n)) != NULL)
			return start + (nl - buf);
		from = start;
	}
	return -1;
}

/*
 * The seq of the last complete event in the JSONL file `fd` (0 if none).
 * A last line without its newline was being written when the deliverer
 * died; it is cut off, since it was never acknowledged and is written
 * again whole.
 */
static int64_t
file_last_seq(int fd)
{
	struct stat	 sb;
	off_t		 end, start;
	char		 c, *line;
	json_t		*ev, *seq;
	int64_t		 r = 0;

	if (fstat(fd, &sb) == -1 || sb.st_size == 0)
		return 0;
	end = sb.st_size;
	if (pread(fd, &c, 1, end - 1) != 1)
		return 0;
	if (c != '\n') {
		end = file_nl_before(fd, end) + 1;
		if (ftruncate(fd, end) == -1)
			return 0;
		if (end == 0)
			return 0;
	}
	start = file_nl_before(fd, end - 1) + 1;
	line = xmalloc((size_t)(end - start));
	if (pread(fd, line, (size_t)(end - start), start) == end - start) {
		ev = json_loadb(line, (size_t)(end - start - 1), 0, NULL);
		seq = json_object_get(json_object_get(json_object_get(
		    json_object_get(ev, "run"), "facets"), "meshd"), "seq");
		if (json_is_integer(seq))
			r = json_integer_value(seq);
		json_decref(ev);
	}
	free(line);
	return r;
}

/* Append events [0, n) after those already in the file, then fsync.
 * 0, or -1 with cause. */
static int
file_send(const struct meshd_config *cfg, int64_t *seqs, char **events,
    size_t n, int64_t *acked, char **cause)
{
	int	 fd;
	int64_t	 last;
	size_t	 i, len;
	char	*dir;

	dir = path_dirname(cfg->lineage_path);
	if (mkdir_p(dir, 0750, cause) != 0) {
		free(dir);
		return -1;
	}
	free(dir);
	if ((fd = open(cfg->lineage_path, O_RDWR | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0640)) == -1) {
		set_cause(cause, "%s: %s", cfg->lineage_path, strerror(errno));
		return -1;
	}
	last = file_last_seq(fd);
	if (last > *acked)
		*acked = last;	/* written before a crash, never acked */
	for (i = 0; i < n; i++) {
		if (seqs[i] <= last)
			continue;
		len = strlen(events[i]);
		events[i][len] = '\n';	/* the terminator's room */
		if (write(fd, events[i], len + 1) != (ssize_t)(len + 1)) {
			events[i][len] = '\0';
			set_cause(cause, "%s: %s", cfg->lineage_path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		events[i][len] = '\0';
	}
	if (fsync(fd) == -1) {
		set_cause(cause, "%s: fsync: %s", cfg->lineage_path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (n > 0 && seqs[n - 1] > *acked)
		*acked = seqs[n - 1];
	return 0;
}

static CURL		*http;		/* kept: the connection is reused */
static struct curl_slist *http_headers;

/* POST the events in order, advancing *acked past each one the server
 * took (2xx).  0, or -1 with cause at the first that was not taken. */
static int
http_send(const struct meshd_config *cfg, int64_t *seqs, char **events,
    size_t n, int64_t *acked, char **cause)
{
	char		 err[CURL_ERROR_SIZE];
	long		 code = 0;
	CURLcode	 cc;
	size_t		 i;

	if (http == NULL) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		if ((http = curl_easy_init()) == NULL) {
			set_cause(cause, "cannot initialise libcurl");
			return -1;
		}
		http_headers = curl_slist_append(NULL,
		    "Content-Type: application/json");
	}
	for (i = 0; i < n; i++) {
		curl_easy_reset(http);
		err[0] = '\0';
		curl_easy_setopt(http, CURLOPT_URL, cfg->lineage_url);
		curl_easy_setopt(http, CURLOPT_HTTPHEADER, http_headers);
		curl_easy_setopt(http, CURLOPT_POSTFIELDS, events[i]);
		curl_easy_setopt(http, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(events[i]));
		curl_easy_setopt(http, CURLOPT_TIMEOUT,
		    (long)cfg->lineage_timeout_s);
		curl_easy_setopt(http, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(http, CURLOPT_ERRORBUFFER, err);
		curl_easy_setopt(http, CURLOPT_USERAGENT, "meshd/"
		    PACKAGE_VERSION);
		if ((cc = curl_easy_perform(http)) != CURLE_OK) {
			set_cause(cause, "%s: %s", cfg->lineage_url,
			    err[0] != '\0' ? err : curl_easy_strerror(cc));
			return -1;
		}
		curl_easy_getinfo(http, CURLINFO_RESPONSE_CODE, &code);
		if (code < 200 || code > 299) {
			set_cause(cause, "%s: HTTP status %ld",
			    cfg->lineage_url, code);
			return -1;
		}
		*acked = seqs[i];
	}
	return 0;
}

/* Acknowledged events older than lineage.keep go, a batch at a time. */
static int
outbox_prune(struct state *st, const struct meshd_config *cfg,
    int64_t acked, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (sqlite3_prepare_v2(state_sqlite(st), "DELETE FROM lineage_outbox "
	    "WHERE seq IN (SELECT seq FROM lineage_outbox WHERE seq <= ? AND "
	    "created_us < ? ORDER BY seq LIMIT ?)", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return db_fail(st, cause, "retention");
	sqlite3_bind_int64(stmt, 1, acked);
	sqlite3_bind_int64(stmt, 2, now_us() -
	    (int64_t)cfg->lineage_keep_s * 1000000);
	sqlite3_bind_int(stmt, 3, LINEAGE_PRUNE_BATCH);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return db_fail(st, cause, "retention");
	return 0;
}

int
lineage_deliver(struct state *st, const struct meshd_config *cfg, int max,
    char **cause)
{
	sqlite3_stmt	*stmt = NULL;
	char		*name, **events = NULL, *why = NULL;
	int64_t		*seqs = NULL, acked = 0, acked0, next_try = 0;
	int64_t		 failures = 0, delay, now = now_us();
	size_t		 n = 0, i;
	int		 rc = -1, sent;
	static int64_t	 last_prune;

	if (cfg->lineage_sink == LINEAGE_SINK_NONE)
		return 0;
	name = sink_name(cfg);
	if (sink_exec(st, "INSERT OR IGNORE INTO lineage_sinks (name) "
	    "VALUES (?)", name, 0, 0, NULL, cause) != 0)
		goto out;
	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT acked_seq, "
	    "failures, next_try_us FROM lineage_sinks WHERE name = ?", -1,
	    &stmt, NULL) != SQLITE_OK) {
		db_fail(st, cause, "sink");
		goto out;
	}
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		acked = sqlite3_column_int64(stmt, 0);
		failures = sqlite3_column_int64(stmt, 1);
		next_try = sqlite3_column_int64(stmt, 2);
	}
	sqlite3_finalize(stmt);
	if (next_try > now) {
		rc = 0;		/* backing off */
		goto out;
	}
	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT seq, event FROM "
	    "lineage_outbox WHERE seq > ? ORDER BY seq LIMIT ?", -1, &stmt,
	    NULL) != SQLITE_OK) {
		db_fail(st, cause, "outbox");
		goto out;
	}
	sqlite3_bind_int64(stmt, 1, acked);
	sqlite3_bind_int(stmt, 2, max);
	seqs = xcalloc((size_t)max, sizeof *seqs);
	events = xcalloc((size_t)max, sizeof *events);
	while (n < (size_t)max && sqlite3_step(stmt) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(stmt, 1);
		char	   *ev, *why2 = NULL;
		size_t	    len;

		seqs[n] = sqlite3_column_int64(stmt, 0);
		if ((ev = lineage_render(st, cfg, seqs[n], t != NULL ? t : "",
		    &why2)) == NULL) {
			/* Said once, and sent as a bare record of what is
			 * known, rather than stopping every later event. */
			log_warn("%s", why2);
			ev = xasprintf("{\"eventType\":\"OTHER\","
			    "\"run\":{\"facets\":{\"meshd\":{\"seq\":%lld}}}}",
			    (long long)seqs[n]);
			free(why2);
		}
		len = strlen(ev);
		/* Room for the newline the file sink adds. */
		events[n] = xrealloc(ev, len + 2);
		n++;
	}
	sqlite3_finalize(stmt);
	if (n == 0 && failures == 0) {
		/* Idle: acknowledged events still age out, once a minute. */
		if (now - last_prune >= 60000000LL) {
			last_prune = now;
			if (outbox_prune(st, cfg, acked, cause) != 0)
				goto out;
		}
		rc = 0;
		goto out;
	}

	acked0 = acked;
	if (cfg->lineage_sink == LINEAGE_SINK_HTTP)
		sent = http_send(cfg, seqs, events, n, &acked, &why);
	else
		sent = file_send(cfg, seqs, events, n, &acked, &why);
	if (state_begin(st, cause) != 0)
		goto out;
	if (sent == 0) {
		if (sink_exec(st, "UPDATE lineage_sinks SET acked_seq = ?2, "
		    "failures = 0, next_try_us = 0, last_error = NULL WHERE "
		    "name = ?1", name, acked, 0, NULL, cause) != 0)
			goto rollback;
		if (failures > 0)
			log_info("lineage: %s: delivering again", name);
	} else {
		failures++;
		delay = LINEAGE_BACKOFF_MIN_US << (failures < 8 ? failures - 1 :
		    7);
		if (delay > LINEAGE_BACKOFF_MAX_US)
			delay = LINEAGE_BACKOFF_MAX_US;
		if (sink_exec(st, "UPDATE lineage_sinks SET acked_seq = ?2, "
		    "failures = failures + 1, next_try_us = ?3, last_error = ?4 "
		    "WHERE name = ?1", name, acked, now + delay, why, cause) != 0)
			goto rollback;
		if (failures == 1)
			log_warn("lineage: %s: %s; events wait in the outbox",
			    name, why);
	}
	if (outbox_prune(st, cfg, acked, cause) != 0)
		goto rollback;
	if (state_commit(st, cause) != 0)
		goto rollback;
	rc = (int)(acked - acked0 > (int64_t)n ? (int64_t)n : acked - acked0);
	goto out;
rollback:
	state_rollback(st);
out:
	for (i = 0; i < n; i++)
		free(events[i]);
	free(events);
	free(seqs);
	free(why);
	free(name);
	return rc;
}

/* ------------------------------------------------------------ the process */

static pid_t	lin_pid = -1;
static int	lin_kick = -1;

void
lineage_kick(void)
{
	/* A full pipe already holds a kick. */
	if (lin_kick != -1 && write(lin_kick, "", 1) == -1)
		return;
}

/* The deliverer: deliver, then wait for a kick (or 200 ms, which also
 * catches what `meshctl run` commits), until the daemon closes the pipe. */
static int
lineage_child(const struct meshd_config *cfg, int rd)
{
	struct state	*st;
	struct pollfd	 pfd;
	char		*lock, *cause = NULL, buf[256];
	int		 lfd, n, closing = 0;
	ssize_t		 r;

	/* One deliverer per database, even if an old one still lingers. */
	lock = xasprintf("%s.lineage-lock", cfg->state_db);
	if ((lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) == -1 ||
	    flock(lfd, LOCK_EX) == -1) {
		log_error("lineage: %s: %s", lock, strerror(errno));
		free(lock);
		return 1;
	}
	free(lock);
	if ((st = state_open(cfg->state_db, STATE_RDWR, &cause)) == NULL) {
		log_error("lineage: %s", cause);
		free(cause);
		return 1;
	}
	for (;;) {
		if ((n = lineage_deliver(st, cfg, LINEAGE_BATCH, &cause)) < 0) {
			log_error("%s", cause);
			free(cause);
			cause = NULL;
		}
		if (closing)
			break;
		if (n == LINEAGE_BATCH)
			continue;
		pfd.fd = rd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, n < 0 ? 1000 : 200) > 0) {
			while ((r = read(rd, buf, sizeof buf)) > 0)
				;
			if (r == 0)
				closing = 1;	/* the daemon is stopping */
		}
	}
	state_close(st);
	if (http != NULL) {
		curl_easy_cleanup(http);
		curl_slist_free_all(http_headers);
		curl_global_cleanup();
	}
	return 0;
}

void
lineage_init(const char *argv0, int to_syslog, int debug)
{
	selfexec_init(argv0, to_syslog, debug);
}

/*
 * The deliverer, after the exec: argv is the sink ("file" or "http"), its
 * path or url, the state database, the HTTP timeout, lineage.keep, and the
 * log flags ("-", or 's' for syslog and 'd' for debug).  The settings come
 * from the daemon, not from meshd.conf read again, so that the child
 * delivers exactly where the daemon said it would even if the file has
 * changed since.
 */
int
lineage_main(int argc, char **argv)
{
	struct meshd_config	*cfg;
	char			*end;
	long			 timeout, keep;
	int			 rc;

	if (argc != 6 || (strcmp(argv[0], "file") != 0 &&
	    strcmp(argv[0], "http") != 0)) {
		fprintf(stderr, "meshd: %s is for meshd's own use\n",
		    LINEAGE_DELIVERER_ARG);
		return 2;
	}
	timeout = strtol(argv[3], &end, 10);
	if (*end != '\0' || timeout < 1 || timeout > 86400)
		timeout = 5;
	keep = strtol(argv[4], &end, 10);
	if (*end != '\0' || keep < 0 || keep > INT_MAX)
		keep = 3600;
	selfexec_log_apply(argv[5]);
	cfg = config_defaults(".");
	free(cfg->state_db);
	cfg->state_db = xstrdup(argv[2]);
	if (strcmp(argv[0], "http") == 0) {
		cfg->lineage_sink = LINEAGE_SINK_HTTP;
		cfg->lineage_url = xstrdup(argv[1]);
	} else {
		cfg->lineage_sink = LINEAGE_SINK_FILE;
		free(cfg->lineage_path);
		cfg->lineage_path = xstrdup(argv[1]);
	}
	cfg->lineage_timeout_s = (int)timeout;
	cfg->lineage_keep_s = (int)keep;
	rc = lineage_child(cfg, SELFEXEC_KICK_FD);
	config_free(cfg);
	return rc;
}

int
lineage_start(const struct meshd_config *cfg, char **cause)
{
	pid_t	 pid;
	char	 timeout[16], keep[16], *argv[9];

	if (cfg->lineage_sink == LINEAGE_SINK_NONE || lin_pid != -1)
		return 0;
	snprintf(timeout, sizeof timeout, "%d", cfg->lineage_timeout_s);
	snprintf(keep, sizeof keep, "%d", cfg->lineage_keep_s);
	argv[0] = NULL;
	argv[1] = (char *)LINEAGE_DELIVERER_ARG;
	argv[2] = (char *)(cfg->lineage_sink == LINEAGE_SINK_HTTP ? "http" :
	    "file");
	argv[3] = cfg->lineage_sink == LINEAGE_SINK_HTTP ? cfg->lineage_url :
	    cfg->lineage_path;
	argv[4] = cfg->state_db;
	argv[5] = timeout;
	argv[6] = keep;
	argv[7] = (char *)selfexec_log_flags();
	argv[8] = NULL;
	if ((pid = selfexec_spawn(argv, &lin_kick, "lineage", cause)) == -1)
		return -1;
	lin_pid = pid;
	log_info("lineage: delivering to %s%s (pid %ld)",
	    cfg->lineage_sink == LINEAGE_SINK_HTTP ? "" : "file ",
	    cfg->lineage_sink == LINEAGE_SINK_HTTP ? cfg->lineage_url :
	    cfg->lineage_path, (long)pid);
	return 0;
}

int
lineage_running(void)
{
	return selfexec_running(&lin_pid, &lin_kick, "lineage");
}

int
lineage_handoff(struct state *st, const struct meshd_config *from,
    const struct meshd_config *to, char **cause)
{
	sqlite3_stmt	*stmt = NULL;
	char		*a = NULL, *b = NULL;
	int64_t		 acked = 0;
	int		 rc = -1;

	if (from->lineage_sink == LINEAGE_SINK_NONE ||
	    to->lineage_sink == LINEAGE_SINK_NONE)
		return 0;
	a = sink_name(from);
	b = sink_name(to);
	if (strcmp(a, b) == 0) {
		rc = 0;
		goto out;
	}
	if (state_begin(st, cause) != 0)
		goto out;
	if (sink_exec(st, "INSERT OR IGNORE INTO lineage_sinks (name) "
	    "VALUES (?)", b, 0, 0, NULL, cause) != 0)
		goto rollback;
	if (sqlite3_prepare_v2(state_sqlite(st), "UPDATE lineage_sinks SET "
	    "acked_seq = max(acked_seq, coalesce((SELECT acked_seq FROM "
	    "lineage_sinks WHERE name = ?2), 0)) WHERE name = ?1", -1, &stmt,
	    NULL) != SQLITE_OK) {
		db_fail(st, cause, "sink");
		goto rollback;
	}
	sqlite3_bind_text(stmt, 1, b, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, a, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		db_fail(st, cause, "sink");
		goto rollback;
	}
	sqlite3_finalize(stmt);
	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT acked_seq FROM "
	    "lineage_sinks WHERE name = ?", -1, &stmt, NULL) != SQLITE_OK) {
		db_fail(st, cause, "sink");
		stmt = NULL;
		goto rollback;
	}
	sqlite3_bind_text(stmt, 1, b, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		acked = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (state_commit(st, cause) != 0)
		goto rollback;
	log_info("lineage: %s continues after event %lld, where %s stopped",
	    b, (long long)acked, a);
	rc = 0;
	goto out;
rollback:
	sqlite3_finalize(stmt);
	state_rollback(st);
out:
	free(a);
	free(b);
	return rc;
}

void
lineage_stop(void)
{
	selfexec_stop(&lin_pid, &lin_kick);
}
