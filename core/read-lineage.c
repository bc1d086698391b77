/*
 * read-lineage.c -- lineage: where a product partition came from, or
 * what was built from it, from the exact record meshd keeps of every
 * (product, partition, version) each run read (run_inputs).
 *
 * The answer is a graph, not a tree: each partition is one node however
 * many paths reach it, and each edge says which version of its input the
 * consumer read, so that a page can draw it and a reader can see what is
 * stale.  The walk is breadth first and bounded twice, by depth and by
 * the number of nodes and edges, so a wide or looping history (bad data)
 * costs a bounded answer that says it was cut ("truncated").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "read-int.h"
#include "read-product.h"
#include "state.h"
#include "util.h"

#define READ_LINEAGE_DEPTH	64
#define READ_LINEAGE_MAX_NODES	1000
#define READ_LINEAGE_MAX_EDGES	5000

const struct read_param read_lineage_params[] = {
	{ "product", "string", 1, "the data product" },
	{ "partition", "string", 1, "the partition key" },
	{ "direction", "string", 0, "upstream (towards the sources, the "
	    "default) or downstream (towards the consumers)" },
	{ "depth", "integer", 0, "at most N steps from the partition "
	    "(default and at most 64)" },
	{ NULL, NULL, 0, NULL }
};

const char read_lineage_schema[] =
	"{\"type\":\"object\",\"additionalProperties\":false,"
	"\"required\":[\"product\",\"partition\",\"direction\",\"depth\","
	"\"nodes\",\"edges\",\"truncated\"],\"properties\":{"
	"\"product\":{\"type\":\"string\"},"
	"\"partition\":{\"type\":\"string\"},"
	"\"direction\":{\"enum\":[\"upstream\",\"downstream\"]},"
	"\"depth\":{\"type\":\"integer\",\"minimum\":1},"
	"\"nodes\":{\"type\":\"array\",\"minItems\":1,\"items\":{"
	"\"type\":\"object\",\"additionalProperties\":false,"
	"\"required\":[\"id\",\"product\",\"partition\",\"state\","
	"\"version\",\"run_id\",\"job\",\"depth\"],\"properties\":{"
	"\"id\":{\"type\":\"integer\",\"minimum\":0},"
	"\"product\":{\"type\":\"string\"},"
	"\"partition\":{\"type\":\"string\"},"
	"\"state\":" READ_PARTITION_STATE_SCHEMA ","
	"\"version\":{\"type\":\"integer\"},"
	"\"run_id\":{\"type\":[\"integer\",\"null\"]},"
	"\"job\":{\"type\":[\"string\",\"null\"]},"
	"\"depth\":{\"type\":\"integer\",\"minimum\":0}}}},"
	"\"edges\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"additionalProperties\":false,\"required\":[\"from\",\"to\","
	"\"version_read\",\"stale\"],\"properties\":{"
	"\"from\":{\"type\":\"integer\",\"minimum\":0},"
	"\"to\":{\"type\":\"integer\",\"minimum\":0},"
	"\"version_read\":{\"type\":\"integer\"},"
	"\"stale\":{\"type\":\"boolean\"}}}},"
	"\"truncated\":{\"type\":\"boolean\"}}}";

struct read_lnode {
	int64_t	 product_id;
	char	*key;
	int64_t	 version;
	int64_t	 run_id;	/* that built it; 0 */
	int	 depth;
};

struct read_lineage {
	struct read_ctx		*ctx;
	sqlite3_stmt		*load;		/* a node's row */
	sqlite3_stmt		*next;		/* a node's neighbours */
	int			 down;
	struct read_lnode	*v;
	size_t			 n;
	json_t			*nodes;
	json_t			*edges;
	int			 truncated;
};

/* The node of (product, key): its index, adding it (and its JSON) if it
 * is new; -1 when the graph is full, -2 on a state error. */
static long
read_lineage_node(struct read_lineage *l, int64_t product_id,
    const char *product, const char *key, int depth)
{
	struct read_lnode *n;
	size_t		 i;
	int		 rc;

	for (i = 0; i < l->n; i++)
		if (l->v[i].product_id == product_id &&
		    strcmp(l->v[i].key, key) == 0)
			return (long)i;
	if (l->n == READ_LINEAGE_MAX_NODES) {
		l->truncated = 1;
		return -1;
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	n = &l->v[l->n];
	memset(n, 0, sizeof *n);
	n->product_id = product_id;
	n->key = xstrdup(key);
	n->depth = depth;
	sqlite3_reset(l->load);
	sqlite3_bind_int64(l->load, 1, product_id);
	sqlite3_bind_text(l->load, 2, key, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(l->load);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		free(n->key);
		return -2;
	}
	if (rc == SQLITE_ROW) {
		n->version = sqlite3_column_int64(l->load, 1);
		n->run_id = sqlite3_column_int64(l->load, 2);
	}
	/* An input recorded whose partition row is gone reads as missing. */
	json_array_append_new(l->nodes, json_pack("{s:I, s:s, s:s, s:s, s:I, "
	    "s:o, s:o, s:i}", "id", (json_int_t)l->n, "product", product,
	    "partition", key, "state", rc == SQLITE_ROW ?
	    read_col(l->load, 0) : "missing", "version",
	    (json_int_t)n->version, "run_id", n->run_id != 0 ?
	    json_integer(n->run_id) : json_null(), "job", rc == SQLITE_ROW ?
	    read_col_json(l->load, 3) : json_null(), "depth", depth));
	sqlite3_reset(l->load);
	return (long)l->n++;
}

/*
 * Expand node i.  Upstream: what the run that built it read, at the
 * version read.  Downstream: the partitions built by the runs that read
 * it (at the runs' own keys), and the version of it they read.
 */
static int
read_lineage_expand(struct read_lineage *l, size_t i)
{
	int64_t		 run_id = l->v[i].run_id, pid = l->v[i].product_id;
	int		 depth = l->v[i].depth, rc;
	char		*key;
	long		 j;
	int64_t		 readv, fromv;

	if (!l->down && run_id == 0)
		return 0;
	key = xstrdup(l->v[i].key);
	sqlite3_reset(l->next);
	sqlite3_bind_int64(l->next, 1, run_id);
	sqlite3_bind_int64(l->next, 2, pid);
	sqlite3_bind_text(l->next, 3, key, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(l->next)) == SQLITE_ROW) {
		if (json_array_size(l->edges) == READ_LINEAGE_MAX_EDGES) {
			l->truncated = 1;
			break;
		}
		j = read_lineage_node(l, sqlite3_column_int64(l->next, 0),
		    read_col(l->next, 1), read_col(l->next, 2), depth + 1);
		if (j == -2) {
			free(key);
			return -1;
		}
		if (j == -1)
			break;
		readv = sqlite3_column_int64(l->next, 3);
		/* The edge runs from the input to what was built from it;
		 * stale when the input has a newer version than was read. */
		fromv = l->down ? l->v[i].version : l->v[j].version;
		json_array_append_new(l->edges, json_pack("{s:I, s:I, s:I, "
		    "s:b}", "from", (json_int_t)(l->down ? (long)i : j),
		    "to", (json_int_t)(l->down ? j : (long)i),
		    "version_read", (json_int_t)readv,
		    "stale", readv != fromv));
	}
	free(key);
	sqlite3_reset(l->next);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

json_t *
read_lineage(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const char	*product = read_arg(args, "product");
	const char	*key = read_arg(args, "partition");
	const char	*dir = read_arg(args, "direction");
	struct read_lineage l;
	sqlite3		*db;
	json_t		*doc = NULL;
	int64_t		 id, depth;
	size_t		 i;

	memset(&l, 0, sizeof l);
	if (dir != NULL && strcmp(dir, "upstream") != 0 &&
	    strcmp(dir, "downstream") != 0)
		return read_fail(err, 400, "direction: '%s' is not upstream or "
		    "downstream", dir);
	l.down = dir != NULL && strcmp(dir, "downstream") == 0;
	if (read_arg_int(args, "depth", 1, READ_LINEAGE_DEPTH,
	    READ_LINEAGE_DEPTH, &depth, err) != 0)
		return NULL;
	if (read_product_find(ctx, product, &id, err) != 0)
		return NULL;
	db = state_sqlite(ctx->st);
	l.ctx = ctx;
	/*
	 * Downstream goes from run_inputs_product to the runs that read
	 * the partition, then to what each built: the products of the
	 * run's job at the run's key (products by job, then
	 * product_partitions_product_key), never a scan of the partitions
	 * for a run id.  CROSS JOIN fixes that order: without statistics
	 * SQLite would rather scan every partition.
	 */
	if (sqlite3_prepare_v2(db, "SELECT pp.state, pp.version, pp.run_id, "
	    "j.name FROM product_partitions pp LEFT JOIN runs r ON r.id = "
	    "pp.run_id LEFT JOIN jobs j ON j.id = r.job_id WHERE "
	    "pp.product_id = ?1 AND pp.partition_key = ?2", -1, &l.load,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, !l.down ?
	    "SELECT ri.product_id, p.name, ri.partition_key, ri.version FROM "
	    "run_inputs ri JOIN products p ON p.id = ri.product_id WHERE "
	    "ri.run_id = ?1 AND ?2 = ?2 AND ?3 = ?3 ORDER BY p.name, "
	    "ri.partition_key" :
	    "SELECT DISTINCT pp.product_id, p.name, pp.partition_key, "
	    "ri.version FROM run_inputs ri CROSS JOIN runs r CROSS JOIN "
	    "products p CROSS JOIN product_partitions pp WHERE r.id = "
	    "ri.run_id AND p.job_id = r.job_id AND pp.product_id = p.id AND "
	    "pp.partition_key = r.partition_key AND pp.run_id = r.id AND "
	    "?1 = ?1 AND ri.product_id = ?2 AND ri.partition_key = ?3 "
	    "ORDER BY p.name, pp.partition_key", -1, &l.next, NULL) !=
	    SQLITE_OK) {
		read_fail_state(err, ctx->st);
		goto out;
	}
	l.nodes = json_array();
	l.edges = json_array();
	if (read_lineage_node(&l, id, product, key, 0) < 0)
		goto sqlerr;
	if (strcmp(json_string_value(json_object_get(json_array_get(l.nodes,
	    0), "state")), "missing") == 0) {
		read_fail(err, 404, "product '%s' has no partition '%s'",
		    product, key);
		goto out;
	}
	/* Breadth first: l.n grows while we walk, and every node is
	 * expanded once, so an edge is never recorded twice. */
	for (i = 0; i < l.n && !l.truncated; i++) {
		if (l.v[i].depth >= depth)
			continue;
		if (read_lineage_expand(&l, i) != 0)
			goto sqlerr;
	}
	doc = json_pack("{s:s, s:s, s:s, s:I, s:O, s:O, s:b}",
	    "product", product, "partition", key,
	    "direction", l.down ? "downstream" : "upstream",
	    "depth", (json_int_t)depth, "nodes", l.nodes, "edges", l.edges,
	    "truncated", l.truncated);
	goto out;
sqlerr:
	read_fail_state(err, ctx->st);
out:
	sqlite3_finalize(l.load);
	sqlite3_finalize(l.next);
	for (i = 0; i < l.n; i++)
		free(l.v[i].key);
	free(l.v);
	json_decref(l.nodes);
	json_decref(l.edges);
	return doc;
}
