/*
 * lineage-int.h -- what lineage.c (events, in meshd's transactions),
 * lineage-pos.c (the deliverer's position, folded into the state) and
 * lineage-deliver.c (the deliverer) share.  Internal to those files.
 *
 * Why a position file: the deliverer used to record each acknowledgement
 * in lineage_sinks, a write transaction that waited for meshd's write
 * lock while meshd held it for its group commits, so an event reached
 * its sink 80 ms to 1.5 s after it was committed.  Now the deliverer only
 * reads the state (a WAL reader never waits for the writer) and writes
 * how far its sink acknowledged to a small file beside the database,
 * STATE_DB.lineage-pos; meshd copies that position into lineage_sinks
 * inside the transactions it commits anyway (lineage_emit(), at most
 * every LINEAGE_FOLD_US) and prunes what it acknowledges.  When meshd
 * writes nothing, the deliverer folds it in itself, but only when it can
 * take the write lock at once.
 */
#ifndef MESHD_LINEAGE_INT_H
#define MESHD_LINEAGE_INT_H

#include <stddef.h>
#include <stdint.h>

struct meshd_config;
struct state;

/* How often meshd folds the position in (and prunes), at most. */
#define LINEAGE_FOLD_US		100000LL
/* Outbox rows looked at per prune. */
#define LINEAGE_PRUNE_BATCH	1000

/*
 * The position file: one line,
 *   meshd-lineage-pos 1 SEQ CREATED_US HASH NAME\n
 * where SEQ is the last event the sink NAME (sink_name()) acknowledged,
 * CREATED_US that event's lineage_outbox.created_us (so that a position
 * left by another database at the same path is not taken for this one's)
 * and HASH a 64-bit FNV-1a of the rest, in hex, so that a torn or
 * corrupt record is recognised and ignored.  Rewritten in place; bytes
 * after the first newline are left-overs of a longer record.
 */
struct lineage_pos {
	int64_t	seq;
	int64_t	created_us;
};

/* STATE_DB.lineage-pos; the caller frees it. */
char	*lineage_pos_path(const char *state_db);
/* The sink's row name in lineage_sinks (one position per destination). */
char	*lineage_sink_name(const struct meshd_config *);
/*
 * Read the record of `fd` (or of the file at `path` when fd is -1): 1 and
 * *pos when it is whole and names `name`, 0 when it is missing, torn,
 * corrupt or another sink's.
 */
int	 lineage_pos_read(int fd, const char *path, const char *name,
	    struct lineage_pos *pos);
/* Write the record (no fsync: see lineage-pos.c).  0, or -1 with errno. */
int	 lineage_pos_write(int fd, const char *name,
	    const struct lineage_pos *pos);

/*
 * Inside an open transaction: raise lineage_sinks.acked_seq of `name` to
 * pos->seq if the outbox holds that event with that created_us (a
 * position from another database, or ahead of this one's outbox, is
 * ignored), creating the row if need be.  0, or -1 with cause.
 */
int	 lineage_fold(struct state *, const char *name,
	    const struct lineage_pos *pos, char **cause);
/*
 * Inside an open transaction: delete up to LINEAGE_PRUNE_BATCH of the
 * oldest events that `name` acknowledged and that are older than
 * lineage.keep.  0, or -1 with cause.
 */
int	 lineage_prune(struct state *, const struct meshd_config *,
	    const char *name, char **cause);
/*
 * Inside an open transaction of meshd's: fold the position file of cfg's
 * sink in and prune; `force` 0 does it at most every LINEAGE_FOLD_US.
 * A missing or bad position file is not an error.  0, or -1 with cause.
 */
int	 lineage_fold_file(struct state *, const struct meshd_config *,
	    int force, char **cause);

/*
 * Is the JSONL line `line` (len bytes, no newline) the event of the outbox
 * row holding `stored`?  An event row must be the same bytes; a compact
 * one (lineage_emit()) the same attempt, eventType and eventTime -- what
 * tells this database's event from another's at the same seq, without
 * rendering it again.
 */
int	 lineage_same_event(const char *stored, const char *line, size_t len);

int	 lineage_db_fail(struct state *, char **cause, const char *what);

/*
 * The facets' _schemaURLs (lineage-facet.c).  The standard facets name
 * the versions tests/data/openlineage/ vendors, whose base is the 2-0-2
 * spec the events name; meshd's own facets name theirs (lineage.h).
 */
#define SCHEMA_OL_FACET(v, f) "https://openlineage.io/spec/facets/" v "/" \
	f ".json#/$defs/" f
#define SCHEMA_PARENT	SCHEMA_OL_FACET("1-0-1", "ParentRunFacet")
#define SCHEMA_ERROR	SCHEMA_OL_FACET("1-0-1", "ErrorMessageRunFacet")
#define SCHEMA_NOMINAL	SCHEMA_OL_FACET("1-0-1", "NominalTimeRunFacet")
#define SCHEMA_DQ	SCHEMA_OL_FACET("1-0-1", \
	"DataQualityAssertionsDatasetFacet")
#define SCHEMA_VERSION	SCHEMA_OL_FACET("1-0-1", \
	"DatasetVersionDatasetFacet")
#define SCHEMA_OWNERSHIP SCHEMA_OL_FACET("1-0-1", "OwnershipJobFacet")
#define SCHEMA_DOC_JOB	SCHEMA_OL_FACET("1-1-0", "DocumentationJobFacet")
#define SCHEMA_DOC_DATASET SCHEMA_OL_FACET("1-1-0", \
	"DocumentationDatasetFacet")
#define SCHEMA_OUTPUT_STATS SCHEMA_OL_FACET("1-0-2", \
	"OutputStatisticsOutputDatasetFacet")
#define SCHEMA_MESHD_FACET(f) LINEAGE_FACETS_URL f ".json#/$defs/" f
#define SCHEMA_MESHD_RUN SCHEMA_MESHD_FACET("MeshdRunFacet")
#define SCHEMA_MESHD_PARTITION SCHEMA_MESHD_FACET("MeshdPartitionDatasetFacet")
#define SCHEMA_MESHD_CHECKS SCHEMA_MESHD_FACET("MeshdChecksInputDatasetFacet")

struct json_t;
/* A UUIDv7 of time `ms` whose other bits hash `s` (lineage-facet.c). */
void	 lineage_uuid(int64_t ms, const char *s, char out[37]);
/* A facet: _producer and _schemaURL, then `fields` (taken). */
struct json_t *lineage_facet(const char *schema, struct json_t *fields);
/*
 * The job facets of an event of `job` whose task builds `product` (or
 * NULL): ownership (its owner and domain) and documentation (its
 * description, else the product's), a new object in *out.  0, or -1 with
 * cause.
 */
int	 lineage_job_facets(struct state *, const char *job,
	    const char *product, struct json_t **out, char **cause);
/* The product's description, a new string in *desc, or NULL if it has
 * none.  0, or -1 with cause. */
int	 lineage_product_doc(struct state *, const char *product,
	    char **desc, char **cause);
/*
 * The outputStatistics facet (its rowCount, what the publish recorded) of
 * the partition if attempt `attempt_id` published it as `version`; *out
 * NULL otherwise.  0, or -1 with cause.
 */
int	 lineage_output_stats(struct state *, const char *product,
	    const char *key, int64_t attempt_id, int64_t version,
	    struct json_t **out, char **cause);

/* The write end of the deliverer's wake-up pipe, or -1 (lineage.c). */
extern int	lineage_kick_fd;

#endif
