/*
 * lineage-facet.c -- the pieces of meshd's OpenLineage events that do not
 * depend on the outbox: run ids, facets and their schema URLs, and the
 * standard facets read from what meshd knows of jobs and products
 * (ownership, documentation, outputStatistics).  lineage.c assembles the
 * events from them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "lineage.h"
#include "lineage-int.h"
#include "state.h"
#include "util.h"

const struct lineage_schema *
lineage_schema_find(const char *name)
{
	const struct lineage_schema	*s;
	size_t				 n = strlen(name);

	if (n > 5 && strcmp(name + n - 5, ".json") == 0)
		n -= 5;
	for (s = lineage_schemas; s->name != NULL; s++)
		if (strlen(s->name) == n && strncmp(s->name, name, n) == 0)
			return s;
	return NULL;
}

static uint64_t
mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * A UUIDv7 (RFC 9562, 5.7): the 48-bit Unix time in milliseconds `ms`,
 * version 7, variant 10, and the 74 bits RFC 9562 leaves random taken
 * from a 128-bit hash of `s` instead.  The same attempt always gets the
 * same runId, so that an event delivered twice is recognisably the same
 * event, recovery finds the START of an attempt by its id, and nothing
 * random has to be stored; the time prefix is the attempt's (or run's)
 * creation, so that ids sort by when their runs began, which is what the
 * spec recommends v7 for.  Not a cryptographic hash: ids only have to be
 * distinct.
 */
void
lineage_uuid(int64_t ms, const char *s, char out[37])
{
	uint64_t	h1 = 0xcbf29ce484222325ULL, h2 = 0x6a09e667f3bcc909ULL;
	uint64_t	t = ms < 0 ? 0 : (uint64_t)ms;
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
	for (i = 0; i < 6; i++)
		b[i] = (unsigned char)(t >> (40 - 8 * i));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x70);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

json_t *
lineage_facet(const char *schema, json_t *fields)
{
	json_t	*f;

	f = json_pack("{s:s, s:s}", "_producer", LINEAGE_PRODUCER,
	    "_schemaURL", schema);

	json_object_update(f, fields);
	json_decref(fields);
	return f;
}

/*
 * An owner as OpenLineage recommends naming one, a URN: meshd's owner
 * (usually the team's address) as "team:OWNER" unless it is a URN already
 * ("user:jdoe").
 */
static json_t *
owner(const char *prefix, const char *who, const char *type)
{
	json_t	*o;
	char	*name;

	name = strchr(who, ':') != NULL ? xstrdup(who) :
	    xasprintf("%s:%s", prefix, who);
	o = json_pack("{s:s, s:s}", "name", name, "type", type);
	free(name);
	return o;
}

static const char *
col_text(sqlite3_stmt *stmt, int i)
{
	const char	*s = (const char *)sqlite3_column_text(stmt, i);

	return s != NULL ? s : "";
}

int
lineage_job_facets(struct state *st, const char *job, const char *product,
    json_t **out, char **cause)
{
	sqlite3_stmt	*stmt;
	json_t		*f, *owners;
	const char	*desc;
	char		*jdesc = NULL;
	int		 rc;

	*out = NULL;
	if ((stmt = state_prepare(st, "SELECT owner, domain, description "
	    "FROM jobs WHERE name = ?")) == NULL)
		return lineage_db_fail(st, cause, "job");
	sqlite3_bind_text(stmt, 1, job, -1, SQLITE_STATIC);
	f = json_object();
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		owners = json_array();
		if (*col_text(stmt, 0) != '\0')
			json_array_append_new(owners, owner("team",
			    col_text(stmt, 0), "MAINTAINER"));
		if (*col_text(stmt, 1) != '\0')
			json_array_append_new(owners, owner("domain",
			    col_text(stmt, 1), "DOMAIN"));
		if (json_array_size(owners) > 0)
			json_object_set_new(f, "ownership", lineage_facet(
			    SCHEMA_OWNERSHIP, json_pack("{s:o}", "owners",
			    owners)));
		else
			json_decref(owners);
		if (*col_text(stmt, 2) != '\0')
			jdesc = xstrdup(col_text(stmt, 2));
	}
	state_stmt_done(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(f);
		return lineage_db_fail(st, cause, "job");
	}
	/* A job without a description of its own is described by the
	 * product its task builds. */
	if (jdesc == NULL && product != NULL) {
		if (lineage_product_doc(st, product, &jdesc, cause) != 0) {
			json_decref(f);
			return -1;
		}
	}
	if ((desc = jdesc) != NULL)
		json_object_set_new(f, "documentation", lineage_facet(
		    SCHEMA_DOC_JOB, json_pack("{s:s, s:s}", "description",
		    desc, "contentType", "text/plain")));
	free(jdesc);
	*out = f;
	return 0;
}

int
lineage_product_doc(struct state *st, const char *product, char **desc,
    char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	*desc = NULL;
	if ((stmt = state_prepare(st, "SELECT description FROM products "
	    "WHERE name = ?")) == NULL)
		return lineage_db_fail(st, cause, "product");
	sqlite3_bind_text(stmt, 1, product, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW &&
	    *col_text(stmt, 0) != '\0')
		*desc = xstrdup(col_text(stmt, 0));
	state_stmt_done(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return lineage_db_fail(st, cause, "product");
	return 0;
}

int
lineage_output_stats(struct state *st, const char *product, const char *key,
    int64_t attempt_id, int64_t version, json_t **out, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	*out = NULL;
	if ((stmt = state_prepare(st, "SELECT pp.\"rows\" FROM "
	    "product_partitions pp JOIN products p ON p.id = pp.product_id "
	    "WHERE p.name = ? AND pp.partition_key = ? AND pp.attempt_id = ? "
	    "AND pp.version = ? AND pp.state = 'published'")) == NULL)
		return lineage_db_fail(st, cause, "output partition");
	sqlite3_bind_text(stmt, 1, product, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, attempt_id);
	sqlite3_bind_int64(stmt, 4, version);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW &&
	    sqlite3_column_type(stmt, 0) != SQLITE_NULL &&
	    sqlite3_column_int64(stmt, 0) >= 0)
		*out = lineage_facet(SCHEMA_OUTPUT_STATS, json_pack("{s:I}",
		    "rowCount", (json_int_t)sqlite3_column_int64(stmt, 0)));
	state_stmt_done(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return lineage_db_fail(st, cause, "output partition");
	return 0;
}
