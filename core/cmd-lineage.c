/*
 * cmd-lineage.c -- meshctl lineage: where a product partition came from,
 * or what was built from it, from the exact record meshd keeps of every
 * (product, partition, version) each run read (run_inputs).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meshctl.h"

/* Deeper than this is surely a loop in bad data; stop there. */
#define LINEAGE_MAX_DEPTH	64
#define LINEAGE_MAX_NODES	10000

static int	cmd_lineage_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_lineage_entry = {
	.name = "lineage",
	.args = "PRODUCT --partition KEY [--upstream | --downstream] "
	    "[--format text|dot] [--json]",
	.summary = "where a product partition came from, or what it fed",
	.help =
	"Upstream (the default): the partition, the run that built it, and\n"
	"every product partition that run read, with the version it read,\n"
	"back to the sources.  Downstream: every partition built by runs that\n"
	"read it, onwards.  A partition read at an older version than the\n"
	"current one says so (it is stale); beyond it, the lineage shown is\n"
	"that of its current version.\n"
	"\n"
	"  -p, --partition KEY  the partition\n"
	"  -u, --upstream       towards the sources (default)\n"
	"  -d, --downstream     towards the consumers\n"
	"  -f, --format F       text (default) or dot (Graphviz: meshctl\n"
	"                       lineage P -p K --format dot | dot -Tsvg)\n"
	"      --json           the same graph as nested objects\n"
	"\n"
	"Exit status: 0 shown; 2 unknown product or partition; 3 the state\n"
	"cannot be read.\n",
	.exec = cmd_lineage_exec,
};

struct lnode {
	int64_t	 product_id;
	char	*product;
	char	*key;
	char	*state;		/* "missing" if no row */
	int64_t	 version;
	int64_t	 run_id;	/* that built it; 0 */
	char	*job;
};

struct lineage {
	struct ctl	*ctl;
	sqlite3		*db;
	int		 down;
	int		 format;	/* 0 text, 1 dot, 2 json */
	struct lnode	*seen;		/* for dot: each node once */
	size_t		 nseen;
};

static void
lnode_free(struct lnode *n)
{
	free(n->product);
	free(n->key);
	free(n->state);
	free(n->job);
}

/* Fill a node from its product and partition. */
static void
lnode_load(struct lineage *l, struct lnode *n)
{
	sqlite3_stmt	*stmt;

	n->state = NULL;
	n->job = NULL;
	n->version = 0;
	n->run_id = 0;
	if (sqlite3_prepare_v2(l->db, "SELECT pp.state, pp.version, "
	    "pp.run_id, j.name FROM product_partitions pp LEFT JOIN runs r ON "
	    "r.id = pp.run_id LEFT JOIN jobs j ON j.id = r.job_id WHERE "
	    "pp.product_id = ? AND pp.partition_key = ?", -1, &stmt, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(stmt, 1, n->product_id);
		sqlite3_bind_text(stmt, 2, n->key, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) == SQLITE_ROW) {
			n->state = xstrdup(ctl_col(stmt, 0));
			n->version = sqlite3_column_int64(stmt, 1);
			n->run_id = sqlite3_column_int64(stmt, 2);
			if (sqlite3_column_type(stmt, 3) != SQLITE_NULL)
				n->job = xstrdup(ctl_col(stmt, 3));
		}
		sqlite3_finalize(stmt);
	}
	if (n->state == NULL)
		n->state = xstrdup("missing");
}

/*
 * The neighbours of a node.  Upstream: what the run that built it read
 * (*readv: the version read).  Downstream: the partitions built by the
 * runs that read it, at the runs' own keys (*readv: the version they
 * read of this node).
 */
static size_t
neighbours(struct lineage *l, const struct lnode *n, struct lnode **out,
    int64_t **readv)
{
	sqlite3_stmt	*stmt;
	struct lnode	*v = NULL;
	int64_t		*rv = NULL;
	size_t		 k = 0;

	*out = NULL;
	*readv = NULL;
	if (!l->down && n->run_id == 0)
		return 0;
	if (sqlite3_prepare_v2(l->db, !l->down ?
	    "SELECT ri.product_id, p.name, ri.partition_key, ri.version FROM "
	    "run_inputs ri JOIN products p ON p.id = ri.product_id WHERE "
	    "ri.run_id = ?1 ORDER BY p.name, ri.partition_key" :
	    "SELECT DISTINCT pp.product_id, p.name, pp.partition_key, "
	    "ri.version FROM run_inputs ri JOIN runs r ON r.id = ri.run_id "
	    "JOIN product_partitions pp ON pp.run_id = r.id AND "
	    "pp.partition_key = r.partition_key JOIN products p ON p.id = "
	    "pp.product_id WHERE ri.product_id = ?2 AND ri.partition_key = ?3 "
	    "ORDER BY p.name, pp.partition_key", -1, &stmt, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(stmt, 1, n->run_id);
	sqlite3_bind_int64(stmt, 2, n->product_id);
	sqlite3_bind_text(stmt, 3, n->key, -1, SQLITE_STATIC);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		v = xreallocarray(v, k + 1, sizeof *v);
		rv = xreallocarray(rv, k + 1, sizeof *rv);
		memset(&v[k], 0, sizeof *v);
		v[k].product_id = sqlite3_column_int64(stmt, 0);
		v[k].product = xstrdup(ctl_col(stmt, 1));
		v[k].key = xstrdup(ctl_col(stmt, 2));
		rv[k] = sqlite3_column_int64(stmt, 3);
		lnode_load(l, &v[k]);
		k++;
	}
	sqlite3_finalize(stmt);
	*out = v;
	*readv = rv;
	return k;
}

/*
 * One line.  Upstream, `readv` is the version of n that was read; if n
 * has moved on since, the line says so.  Downstream, `readv` is the
 * version of the parent (`pver` now) that n was built from.
 */
static void
text_node(struct lineage *l, const struct lnode *n, int depth, int64_t readv,
    int64_t pver)
{
	char	 run[64] = "";
	int	 stale;

	if (n->run_id != 0)
		snprintf(run, sizeof run, "; job %s run %lld", n->job != NULL ?
		    n->job : "?", (long long)n->run_id);
	stale = depth > 0 && readv > 0 && readv != (l->down ? pver :
	    n->version);
	printf("%*s%s%s %s v%lld  %s%s%s%s", depth * 2, "", depth == 0 ? "" :
	    l->down ? "-> " : "<- ", n->product, n->key,
	    (long long)(stale && !l->down ? readv : n->version),
	    ctl_color_on(l->ctl, n->state), n->state, ctl_color_off(l->ctl),
	    run);
	if (stale && l->down)
		printf("  (built from v%lld of its input, now v%lld)",
		    (long long)readv, (long long)pver);
	else if (stale)
		printf("  (now v%lld: stale)", (long long)n->version);
	putchar('\n');
}

static void
dot_id(const struct lnode *n)
{
	printf("\"%s %s\"", n->product, n->key);
}

static int
seen(struct lineage *l, const struct lnode *n)
{
	size_t	i;

	for (i = 0; i < l->nseen; i++)
		if (l->seen[i].product_id == n->product_id &&
		    strcmp(l->seen[i].key, n->key) == 0)
			return 1;
	if (l->nseen >= LINEAGE_MAX_NODES)
		return 1;
	l->seen = xreallocarray(l->seen, l->nseen + 1, sizeof *l->seen);
	memset(&l->seen[l->nseen], 0, sizeof *l->seen);
	l->seen[l->nseen].product_id = n->product_id;
	l->seen[l->nseen++].key = xstrdup(n->key);
	return 0;
}

/* Walk from n; returns its JSON (format json) or NULL. */
static json_t *
walk(struct lineage *l, const struct lnode *n, int depth, int64_t readv,
    int64_t pver)
{
	struct lnode	*nb;
	int64_t		*rv;
	size_t		 k, i;
	json_t		*obj = NULL, *arr = NULL;

	if (l->format == 0)
		text_node(l, n, depth, readv, pver);
	else if (l->format == 2) {
		obj = json_pack("{s:s, s:s, s:I, s:s}", "product", n->product,
		    "partition", n->key, "version", (json_int_t)n->version,
		    "state", n->state);
		if (n->run_id != 0) {
			json_object_set_new(obj, "run_id",
			    json_integer(n->run_id));
			json_object_set_new(obj, "job", json_string(n->job));
		}
		if (depth > 0)
			json_object_set_new(obj, l->down ? "read_version" :
			    "version_read", json_integer(readv));
	}
	if (depth >= LINEAGE_MAX_DEPTH)
		return obj;
	k = neighbours(l, n, &nb, &rv);
	if (l->format == 2)
		arr = json_array();
	for (i = 0; i < k; i++) {
		if (l->format == 1) {
			printf("\t");
			dot_id(l->down ? n : &nb[i]);
			printf(" -> ");
			dot_id(l->down ? &nb[i] : n);
			printf(" [label=\"v%lld\"];\n", (long long)rv[i]);
			if (!seen(l, &nb[i]))
				walk(l, &nb[i], depth + 1, rv[i],
				    n->version);
		} else if (l->format == 2)
			json_array_append_new(arr, walk(l, &nb[i], depth + 1,
			    rv[i], n->version));
		else
			walk(l, &nb[i], depth + 1, rv[i], n->version);
		lnode_free(&nb[i]);
	}
	free(nb);
	free(rv);
	if (l->format == 2)
		json_object_set_new(obj, l->down ? "consumers" : "inputs", arr);
	return obj;
}

static int
cmd_lineage_exec(struct ctl *ctl, int argc, char **argv)
{
	struct state	*st;
	struct lineage	 l;
	struct lnode	 root;
	sqlite3_stmt	*stmt;
	const char	*key = NULL, *format = "text";
	size_t		 i;
	int		 c, json = 0, rc = CTL_EXIT_OK;
	static const struct option longopts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "upstream", no_argument, NULL, 'u' },
		{ "downstream", no_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&l, 0, sizeof l);
	while ((c = getopt_long(argc, argv, "p:udf:h", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'p':
			key = optarg;
			break;
		case 'u':
			l.down = 0;
			break;
		case 'd':
			l.down = 1;
			break;
		case 'f':
			format = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_usage(ctl);
		}
	}
	if (argc - optind != 1 || key == NULL) {
		if (argc - optind == 1)
			ctl_error("lineage needs --partition KEY");
		return ctl_usage(ctl);
	}
	if (strcmp(format, "text") == 0)
		l.format = json ? 2 : 0;
	else if (strcmp(format, "dot") == 0)
		l.format = 1;
	else {
		ctl_error("--format: '%s' is not text or dot", format);
		return CTL_EXIT_USAGE;
	}
	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
		return CTL_EXIT_STATE;
	l.ctl = ctl;
	l.db = state_sqlite(st);
	memset(&root, 0, sizeof root);
	if (sqlite3_prepare_v2(l.db, "SELECT id FROM products WHERE name = ?",
	    -1, &stmt, NULL) != SQLITE_OK) {
		ctl_error("%s", sqlite3_errmsg(l.db));
		state_close(st);
		return CTL_EXIT_STATE;
	}
	sqlite3_bind_text(stmt, 1, argv[optind], -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		root.product_id = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (root.product_id == 0) {
		ctl_error("unknown product '%s' (see 'meshctl catalog')",
		    argv[optind]);
		state_close(st);
		return CTL_EXIT_USAGE;
	}
	root.product = xstrdup(argv[optind]);
	root.key = xstrdup(key);
	lnode_load(&l, &root);
	if (strcmp(root.state, "missing") == 0) {
		ctl_error("product '%s' has no partition '%s'", root.product,
		    key);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (l.format == 1) {
		printf("digraph lineage {\n\trankdir=LR;\n\tnode "
		    "[shape=box];\n");
		seen(&l, &root);
		walk(&l, &root, 0, 0, 0);
		printf("}\n");
	} else if (l.format == 2)
		ctl_json_out(walk(&l, &root, 0, 0, 0));
	else
		walk(&l, &root, 0, 0, 0);
out:
	lnode_free(&root);
	for (i = 0; i < l.nseen; i++)
		free(l.seen[i].key);
	free(l.seen);
	state_close(st);
	return rc;
}
