/*
 * http-openapi.c -- GET /api/v1/openapi.json: the OpenAPI 3.1 document of
 * the API, generated from the tables that route it (read_questions[] and
 * act_actions[]), so that it cannot drift from what the server answers.
 * Each question's parameters become query parameters, its JSON Schema
 * the schema of its 200 response.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "act.h"
#include "http-int.h"
#include "lineage.h"
#include "read.h"
#include "util.h"

#define ERROR_SCHEMA							\
	"{\"type\":\"object\",\"required\":[\"error\"],"		\
	"\"properties\":{\"error\":{\"type\":\"object\","		\
	"\"required\":[\"status\",\"message\"],\"properties\":{"	\
	"\"status\":{\"type\":\"integer\"},"				\
	"\"message\":{\"type\":\"string\"}}}}}"

/* A schema from its JSON text; an empty schema (anything) if it does not
 * parse, which the tests catch. */
static json_t *
schema_of(const char *text)
{
	json_t	*s;

	if (text == NULL || (s = json_loads(text, 0, NULL)) == NULL)
		return json_object();
	return s;
}

static json_t *
error_refs(const int *codes)
{
	json_t	*o = json_object();
	char	 k[8];

	for (; *codes != 0; codes++) {
		snprintf(k, sizeof k, "%d", *codes);
		json_object_set_new(o, k, json_pack("{s:s}", "$ref",
		    "#/components/responses/Error"));
	}
	return o;
}

static json_t *
ok_response(const char *what, const char *schema)
{
	return json_pack("{s:s, s:{s:{s:o}}}", "description", what, "content",
	    "application/json", "schema", schema_of(schema));
}

static json_t *
query_params(const struct read_param *p)
{
	json_t	*a = json_array();

	for (; p != NULL && p->name != NULL; p++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:s, "
		    "s:{s:s}}", "name", p->name, "in", "query", "required",
		    p->required, "description", p->help != NULL ? p->help : "",
		    "schema", "type", p->type != NULL ? p->type : "string"));
	return a;
}

/* A write's arguments, as a JSON object body (or form fields). */
static json_t *
body_schema(const struct read_param *p)
{
	json_t	*props = json_object(), *req = json_array(), *t;

	for (; p != NULL && p->name != NULL; p++) {
		t = json_pack("{s:s, s:s}", "type", p->type != NULL ?
		    p->type : "string", "description", p->help != NULL ?
		    p->help : "");
		/* A repeatable argument may come as an array. */
		if (strcmp(p->name, "param") == 0)
			t = json_pack("{s:[o, {s:s, s:o}]}", "oneOf", t, "type",
			    "array", "items", json_pack("{s:s}", "type",
			    "string"));
		json_object_set_new(props, p->name, t);
		if (p->required)
			json_array_append_new(req, json_string(p->name));
	}
	return json_pack("{s:s, s:o, s:o}", "type", "object", "properties",
	    props, "required", req);
}

/* The names of meshd's OpenLineage facet schemas. */
static json_t *
lineage_schema_names(void)
{
	const struct lineage_schema	*ls;
	json_t				*a = json_array();

	for (ls = lineage_schemas; ls->name != NULL; ls++)
		json_array_append_new(a, json_string(ls->name));
	return a;
}

json_t *
http_openapi(void)
{
	static const int read_errs[] = { 400, 404, 409, 503, 0 };
	const struct read_question	*q;
	json_t				*paths = json_object(), *doc, *errs;
	char				*path;
	static const int write_errs[] = { 400, 401, 403, 404, 409, 413, 503,
	    0 };
	const struct act_action		*a;
	json_t				*body;

	for (q = read_questions; q->name != NULL; q++) {
		path = xasprintf("/api/v1/%s", q->name);
		json_object_set_new(paths, path, json_pack("{s:{s:s, s:s, "
		    "s:[s], s:o, s:o}}", "get", "operationId", q->name,
		    "summary", q->summary != NULL ? q->summary : "", "tags",
		    "read", "parameters", query_params(q->params),
		    "responses", json_pack("{s:o}", "200", ok_response(
		    q->summary != NULL ? q->summary : q->name, q->schema))));
		errs = error_refs(read_errs);
		json_object_update(json_object_get(json_object_get(
		    json_object_get(paths, path), "get"), "responses"), errs);
		json_decref(errs);
		free(path);
	}
	for (a = act_actions; a->name != NULL; a++) {
		path = xasprintf("/api/v1/%s", a->name);
		body = body_schema(a->params);
		json_object_set_new(paths, path, json_pack("{s:{s:s, s:s, "
		    "s:[s], s:[{s:[]}], s:{s:b, s:{s:{s:O}, s:{s:o}}}, "
		    "s:o}}", "post", "operationId", a->name, "summary",
		    a->summary != NULL ? a->summary : "", "tags", "write",
		    "security", "bearer", "requestBody", "required", 0,
		    "content", "application/json", "schema", body,
		    "application/x-www-form-urlencoded", "schema", body,
		    "responses", json_pack("{s:o}", "200", ok_response(
		    a->summary != NULL ? a->summary : a->name, a->schema))));
		errs = error_refs(write_errs);
		json_object_update(json_object_get(json_object_get(
		    json_object_get(paths, path), "post"), "responses"), errs);
		json_decref(errs);
		free(path);
	}
	/* The JSON Schemas of meshd's OpenLineage facets (lineage.h). */
	json_object_set_new(paths, "/api/v1/openlineage/{facet}.json",
	    json_pack("{s:{s:s, s:s, s:[s], s:[{s:s, s:s, s:b, s:s, s:{s:s, "
	    "s:o}}], s:{s:{s:s, s:{s:{s:{s:s}}}}, s:{s:s}}}}", "get",
	    "operationId", "openlineage", "summary", "the JSON Schema of one "
	    "of meshd's own OpenLineage facets (their _schemaURL names it)",
	    "tags", "read", "parameters", "name", "facet", "in", "path",
	    "required", 1, "description", "the facet's schema name, "
	    "e.g. MeshdRunFacet", "schema", "type", "string", "enum",
	    lineage_schema_names(), "responses", "200", "description",
	    "a JSON Schema (draft 2020-12)", "content",
	    "application/schema+json", "schema", "type", "object", "404",
	    "$ref", "#/components/responses/Error"));
	doc = json_pack("{s:s, s:{s:s, s:s, s:s}, s:o, s:{s:{s:o}, "
	    "s:{s:{s:s, s:{s:{s:{s:s}}}}}, s:{s:{s:s, s:s}}}}",
	    "openapi", "3.1.0",
	    "info", "title", "meshd", "version", PACKAGE_VERSION,
	    "description", "The API of meshd's HTTP child: the read layer's "
	    "questions (the documents of meshctl --json), the operator's "
	    "actions, errors as {\"error\": {\"status\", \"message\"}}.",
	    "paths", paths,
	    "components", "schemas", "Error", schema_of(ERROR_SCHEMA),
	    "responses", "Error", "description", "an error", "content",
	    "application/json", "schema", "$ref", "#/components/schemas/Error",
	    "securitySchemes", "bearer", "type", "http", "scheme", "bearer");
	return doc;
}
