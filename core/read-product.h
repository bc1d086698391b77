/*
 * read-product.h -- what the data-product questions (read-catalog.c,
 * read-product.c, read-checks.c, read-lineage.c) share: one product's
 * summary, the failed checks of an attempt, the checks of a build and
 * the JSON Schema fragments of those.  read_product_find(), the lookup
 * by name, is in read-int.h for every question.
 */
#ifndef MESHD_READ_PRODUCT_H
#define MESHD_READ_PRODUCT_H

#include <stdint.h>

#include <jansson.h>

#include "read-int.h"

struct job_def;
struct sqlite3_stmt;

/* At most this many failed checks per attempt, and quarantined
 * partitions per product in the catalog: a plugin that records ten
 * thousand failures must not make a catalog page huge. */
#define READ_FAILED_CHECKS_MAX		20
#define READ_CATALOG_QUARANTINED_MAX	10
/* At most this many checks of the newest build in `product`. */
#define READ_PRODUCT_CHECKS_MAX		100

/*
 * The columns of a product's summary, for "SELECT " READ_PRODUCT_COLS
 * " FROM products p LEFT JOIN jobs j ON j.id = p.job_id WHERE ...".
 * Every count is a row of product_counts (schema version 12), kept by
 * triggers: never a walk of the product's partitions, which a count over
 * an index still is (250 ms for 20 products of 50,000 partitions).
 */
#define READ_PRODUCT_COLS						\
	"p.id, p.name, p.domain, p.owner, p.description, "		\
	"p.contract_version, p.freshness_s, p.late_count, j.name, "	\
	"(SELECT pp.partition_key FROM product_partitions pp WHERE "	\
	"pp.product_id = p.id AND pp.state = 'published' ORDER BY "	\
	"pp.partition_key DESC LIMIT 1), "				\
	"(SELECT pp.published_us FROM product_partitions pp WHERE "	\
	"pp.product_id = p.id AND pp.state = 'published' ORDER BY "	\
	"pp.partition_key DESC LIMIT 1), "				\
	READ_PRODUCT_COUNT("missing") ", "				\
	READ_PRODUCT_COUNT("building") ", "				\
	READ_PRODUCT_COUNT("published") ", "				\
	READ_PRODUCT_COUNT("quarantined") ", "				\
	READ_PRODUCT_COUNT("stale") ", "				\
	"(SELECT coalesce(sum(pc.late), 0) FROM product_counts pc "	\
	"WHERE pc.product_id = p.id AND pc.state IN ('missing', "	\
	"'building', 'quarantined')), "					\
	"(SELECT pc.\"rows\" FROM product_counts pc WHERE "		\
	"pc.product_id = p.id AND pc.state = 'published'), "		\
	"p.tags, p.location, p.plugin"
#define READ_PRODUCT_COUNT(s)						\
	"(SELECT pc.n FROM product_counts pc WHERE "			\
	"pc.product_id = p.id AND pc.state = '" s "')"
#define READ_PRODUCT_NCOLS	21

/*
 * The summary of the product on the current row of `stmt` (selected with
 * READ_PRODUCT_COLS from column 0): {product, domain, owner, description,
 * contract_version, job, freshness_s, freshness, late, late_count,
 * late_unpublished, counts {missing, building, published, quarantined,
 * stale}, rows, last_published_partition, last_published_us,
 * last_published_local}; with `card` also tags, location and plugin.
 * *job is the job's definition (zone for times), or NULL.
 */
json_t	*read_product_row(struct read_ctx *, struct sqlite3_stmt *, int card,
	    const struct job_def **job);
/* Its JSON Schema properties (without braces), and the required list. */
#define READ_PRODUCT_SCHEMA_PROPS					\
	"\"product\":{\"type\":\"string\"},"				\
	"\"domain\":{\"type\":\"string\"},"				\
	"\"owner\":{\"type\":\"string\"},"				\
	"\"description\":{\"type\":[\"string\",\"null\"]},"		\
	"\"contract_version\":{\"type\":[\"string\",\"null\"]},"	\
	"\"job\":{\"type\":[\"string\",\"null\"]},"			\
	"\"freshness_s\":{\"type\":\"integer\",\"minimum\":0},"		\
	"\"freshness\":{\"enum\":[\"no SLO\",\"on time\",\"late\"]},"	\
	"\"late\":{\"type\":\"boolean\"},"				\
	"\"late_count\":{\"type\":\"integer\",\"minimum\":0},"		\
	"\"late_unpublished\":{\"type\":\"integer\",\"minimum\":0},"	\
	"\"counts\":{\"type\":\"object\",\"additionalProperties\":false,"\
	"\"required\":[\"missing\",\"building\",\"published\","		\
	"\"quarantined\",\"stale\"],\"properties\":{"			\
	"\"missing\":{\"type\":\"integer\"},"				\
	"\"building\":{\"type\":\"integer\"},"				\
	"\"published\":{\"type\":\"integer\"},"				\
	"\"quarantined\":{\"type\":\"integer\"},"			\
	"\"stale\":{\"type\":\"integer\"}}},"				\
	"\"rows\":{\"type\":\"integer\"},"				\
	"\"last_published_partition\":{\"type\":[\"string\",\"null\"]},"\
	"\"last_published_us\":{\"type\":[\"integer\",\"null\"]},"	\
	"\"last_published_local\":{\"type\":\"string\"}"
#define READ_PRODUCT_SCHEMA_CARD_PROPS					\
	"\"tags\":{\"type\":[\"string\",\"null\"]},"			\
	"\"location\":{\"type\":[\"string\",\"null\"]},"		\
	"\"plugin\":{\"type\":[\"string\",\"null\"]}"
#define READ_PRODUCT_SCHEMA_REQUIRED					\
	"\"product\",\"domain\",\"owner\",\"description\","		\
	"\"contract_version\",\"job\",\"freshness_s\",\"freshness\","	\
	"\"late\",\"late_count\",\"late_unpublished\",\"counts\","	\
	"\"rows\",\"last_published_partition\",\"last_published_us\","	\
	"\"last_published_local\""

/*
 * The failed error-level checks of attempt `attempt_id` (the reason a
 * partition is quarantined): [{check, observed, expected}], at most
 * READ_FAILED_CHECKS_MAX.  NULL with a 503 in *err.
 */
json_t	*read_failed_checks(struct read_ctx *, int64_t attempt_id,
	    struct read_error *);
#define READ_FAILED_CHECKS_SCHEMA					\
	"{\"type\":\"array\",\"items\":{\"type\":\"object\","		\
	"\"additionalProperties\":false,"				\
	"\"required\":[\"check\",\"observed\",\"expected\"],"		\
	"\"properties\":{\"check\":{\"type\":\"string\"},"		\
	"\"observed\":{\"type\":[\"number\",\"null\"]},"		\
	"\"expected\":{\"type\":[\"string\",\"null\"]}}}}"

/*
 * The checks of run `run_id`'s build (the newest attempt of each task
 * that recorded checks: a rerun's results replace the earlier ones), in
 * the order recorded, after check id `after` (0: from the first), at
 * most `limit`: appended to `arr` as {id, task, attempt, check,
 * severity, passed, observed, expected, recorded_us}.  1 if there are
 * more, 0 if not, -1 with a 503 in *err.
 */
int	 read_build_checks(struct read_ctx *, int64_t run_id, int64_t after,
	    int64_t limit, json_t *arr, struct read_error *);
#define READ_CHECK_SCHEMA						\
	"{\"type\":\"object\",\"additionalProperties\":false,"		\
	"\"required\":[\"id\",\"task\",\"attempt\",\"check\","		\
	"\"severity\",\"passed\",\"observed\",\"expected\","		\
	"\"recorded_us\"],\"properties\":{"				\
	"\"id\":{\"type\":\"integer\"},"				\
	"\"task\":{\"type\":\"string\"},"				\
	"\"attempt\":{\"type\":\"integer\"},"				\
	"\"check\":{\"type\":\"string\"},"				\
	"\"severity\":{\"enum\":[\"error\",\"warn\"]},"			\
	"\"passed\":{\"type\":\"boolean\"},"				\
	"\"observed\":{\"type\":[\"number\",\"null\"]},"		\
	"\"expected\":{\"type\":[\"string\",\"null\"]},"		\
	"\"recorded_us\":{\"type\":\"integer\"}}}"

/* state=S of a partition: 0 if absent or one of missing, building,
 * published, quarantined, stale; -1 with a 400 naming them. */
int	 read_partition_state(const char *, struct read_error *);

/* The JSON Schema of a partition state. */
#define READ_PARTITION_STATE_SCHEMA					\
	"{\"enum\":[\"missing\",\"building\",\"published\","		\
	"\"quarantined\",\"stale\"]}"

#endif
