/*
 * lineage.h -- OpenLineage RunEvents through a durable outbox.
 *
 * The engine writes one event when a task attempt starts and one when it
 * ends (COMPLETE, FAIL or ABORT), INSERTed into lineage_outbox in the
 * same transaction as the attempt row it reports: an event exists if and
 * only if its change was committed.  A delivery process started by meshd
 * (lineage_start()) sends the events in seq order to the configured sink.
 * It only reads the state, and keeps how far the sink acknowledged in
 * STATE_DB.lineage-pos, which meshd folds into lineage_sinks.acked_seq in
 * its own transactions (lineage_emit()): delivery never waits for meshd's
 * write lock (lineage-int.h).
 *
 * Delivery is a child process, not a thread: meshd exec'd again with a
 * hidden option (lineage_main()), started through selfexec.h, which says
 * why; a lock file makes sure that only one deliverer per state database
 * ever runs.
 *
 * `meshctl run` writes events to the outbox too; they are delivered by
 * meshd when it runs (at once if it is running).
 */
#ifndef MESHD_LINEAGE_H
#define MESHD_LINEAGE_H

#include <stdint.h>

struct meshd_config;
struct state;

/*
 * The producer and schema URIs written into every event and facet.
 * LINEAGE_HOME is the project's URL, the one configure.ac's AC_INIT gives
 * (its bug-report address is LINEAGE_HOME/issues); the producer names the
 * release that wrote the event, as OpenLineage's own integrations name
 * theirs (a URL with the version).  meshd's own facets have JSON Schemas
 * in doc/openlineage/ (installed in $(pkgdatadir)/openlineage/, served at
 * /api/v1/openlineage/FACET.json); their _schemaURL is the stable
 * LINEAGE_FACETS_URL, versioned per facet like OpenLineage's: a change
 * to a facet's shape gets a new version, never a new meaning at an old
 * URL.
 */
#define LINEAGE_HOME		"https://example.org/meshd"
#define LINEAGE_PRODUCER	LINEAGE_HOME "/releases/" PACKAGE_VERSION
#define LINEAGE_FACETS_URL	LINEAGE_HOME "/spec/facets/1-0-0/"
#define LINEAGE_SCHEMA_URL \
	"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

/*
 * The JSON Schemas of meshd's own facets (doc/openlineage/, one .json a
 * facet, built into lineage-schemas.c), ended by { NULL, NULL }.  Since
 * 0.4.0.
 */
struct lineage_schema {
	const char	*name;		/* "MeshdRunFacet" */
	const char	*text;		/* the file's JSON text */
};
extern const struct lineage_schema lineage_schemas[];
/* The schema named `name` ("MeshdRunFacet.json" or without .json), or
 * NULL. */
const struct lineage_schema *lineage_schema_find(const char *name);

enum lineage_event_type {
	LINEAGE_START,
	LINEAGE_COMPLETE,
	LINEAGE_FAIL,
	LINEAGE_ABORT
};

/* One attempt, as the engine knows it; strings are borrowed. */
struct lineage_attempt {
	enum lineage_event_type	 type;
	int64_t			 attempt_id;
	int64_t			 run_id;	/* meshd's run */
	const char		*job;
	const char		*task_id;
	const char		*stage;
	const char		*partition_key;
	const char		*product;	/* built by the task, or NULL */
	int			 try_number;
	int64_t			 when_us;	/* eventTime */
	const char		*error;		/* FAIL/ABORT: why, or NULL */
	/* The run's inputs do not change while it runs: if not NULL, the
	 * first event of the run reads them into *inputs (the caller's to
	 * free) and the others reuse them. */
	char			**inputs;
};

/*
 * Record the RunEvent of `a` in lineage_outbox (what lineage_render()
 * needs to build it when it is delivered).  Must be
 * called inside the open transaction (state_begin()) that records the
 * attempt change it reports, after the attempt row, its check results and
 * (for a publish) its product partition were written: the event reads
 * them.  Does nothing with lineage.sink = "none".  0, or -1 with cause.
 * It also folds the deliverer's position file into lineage_sinks and
 * prunes, at most every 0.1 s (since 0.3.0).  Since 0.2.0.
 */
int	lineage_emit(struct state *, const struct meshd_config *,
	    const struct lineage_attempt *a, char **cause);
/*
 * The RunEvent (JSON text) of the outbox row `seq` holding `stored`: an
 * event already, or the compact record lineage_emit() writes, rendered
 * from it and from the state.  NULL with cause when the record is not
 * meshd's or its attempt is gone.  Reads only: any connection.
 */
char	*lineage_render(struct state *, const struct meshd_config *,
	    int64_t seq, const char *stored, char **cause);

/*
 * meshd, after a crash, just BEFORE engine_recover(): in a transaction of
 * its own, fold the deliverer's position in, finish each attempt still recorded as running as engine_recover()
 * would (failed, "daemon restarted") and give it its FAIL event, so that
 * every START has its end.  The event repeats the START event's job and
 * datasets.  With lineage.sink = "none" it does nothing (engine_recover()
 * finishes them).  0, or -1 with cause.  Since 0.2.0.
 */
int	lineage_recover(struct state *, const struct meshd_config *,
	    int64_t now_us, char **cause);

/*
 * Tell the deliverer that events were committed (after state_commit()).
 * Cheap, never blocks; does nothing without a deliverer.
 */
void	lineage_kick(void);

/* The hidden first argument that makes meshd a deliverer. */
#define LINEAGE_DELIVERER_ARG	"--lineage-deliverer"

/*
 * meshd, at start (before lineage_start()): how to run meshd again (its
 * argv[0], used if /proc/self/exe cannot be executed) and how the
 * deliverers log (meshd's --syslog and --debug): selfexec_init(), which
 * the alert deliverer uses too.  Since 0.3.0.
 */
void	lineage_init(const char *argv0, int to_syslog, int debug);

/*
 * meshd: start the delivery process for the configured sink (nothing to
 * do with sink = "none").  It forks and execs meshd with
 * LINEAGE_DELIVERER_ARG and the sink's settings: SQLite's per-process
 * table of file locks must never cross a fork into a process that uses
 * SQLite, even for a connection the child opens itself, and after exec
 * nothing of it is left.  So it may be called at any time, with the state
 * open (a reload), once no deliverer runs (lineage_stop()).  The child
 * opens (and if need be creates) the database on its own.  0, or -1 with
 * cause.  Since 0.2.0; any time since 0.3.0.
 */
int	lineage_start(const struct meshd_config *, char **cause);
/*
 * meshd, at exit or before a new lineage_start(): let the deliverer finish
 * what it is sending (a second at most), then stop it and reap it.  Safe
 * to call without lineage_start().
 */
void	lineage_stop(void);
/*
 * Is the deliverer running?  One that died is reaped (by pid) and logged,
 * so that a reload can start another.  Since 0.3.0.
 */
int	lineage_running(void);
/*
 * meshd, on a reload that moves delivery from `from`'s sink to `to`'s:
 * the new destination continues where the old one stopped (its acked_seq
 * becomes at least the old one's, whose position file is folded in
 * first), so that across the two every event is
 * delivered once: what the old sink acknowledged is not sent again, what
 * it had not is sent to the new one.  Nothing to do if both are the same
 * or either sink is "none" (the destination then starts from its own row,
 * as at a start: all events still in the outbox if it is new).  Call
 * between
 * lineage_stop() and lineage_start(), outside a transaction.  0, or -1
 * with cause.  Since 0.3.0.
 */
int	lineage_handoff(struct state *, const struct meshd_config *from,
	    const struct meshd_config *to, char **cause);
/*
 * The deliverer process: meshd's main() calls it when argv[1] is
 * LINEAGE_DELIVERER_ARG, with the arguments after it.  Returns the exit
 * status.  Since 0.3.0.
 */
int	lineage_main(int argc, char **argv);

/*
 * One delivery pass in this process, on `st`: send the events after the
 * sink's position (up to `max`, read without a write transaction) and
 * advance it in the position file.  lineage_sinks (the position, the
 * sink's failures) and retention are written only if the write lock is
 * free at once, else on a later pass or by meshd.  The deliverer's loop.
 * Returns the number of events delivered, or -1 with cause (the sink's
 * failure is not an error: 0 is returned).  The first call in a process
 * reads the position file; state that persists between calls is this
 * process's (one sink; another sink starts afresh).
 */
int	lineage_deliver(struct state *, const struct meshd_config *, int max,
	    char **cause);

#endif
