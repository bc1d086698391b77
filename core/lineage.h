/*
 * lineage.h -- OpenLineage RunEvents through a durable outbox.
 *
 * The engine writes one event when a task attempt starts and one when it
 * ends (COMPLETE, FAIL or ABORT), INSERTed into lineage_outbox in the
 * same transaction as the attempt row it reports: an event exists if and
 * only if its change was committed.  A delivery process started by meshd
 * (lineage_start()) sends the events in seq order to the configured sink
 * and records how far the sink acknowledged in lineage_sinks.acked_seq.
 *
 * Delivery is a child process, not a thread: the daemon forks workers that
 * run plugin code (which may use SQLite or libcurl themselves), and a
 * fork while another thread holds a library's lock would leave that lock
 * held forever in the worker.  The child has its own state connection and
 * dies with the daemon (PR_SET_PDEATHSIG); a lock file makes sure that only
 * one deliverer per state database ever runs.
 *
 * `meshctl run` writes events to the outbox too; they are delivered by
 * meshd when it runs (at once if it is running).
 */
#ifndef MESHD_LINEAGE_H
#define MESHD_LINEAGE_H

#include <stdint.h>

struct meshd_config;
struct state;

/* The producer and schema URIs written into every event and facet. */
#define LINEAGE_PRODUCER \
	"https://github.com/meshd/meshd/tree/" PACKAGE_VERSION
#define LINEAGE_SCHEMA_URL \
	"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

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
};

/*
 * Build the RunEvent of `a` and INSERT it into lineage_outbox.  Must be
 * called inside the open transaction (state_begin()) that records the
 * attempt change it reports, after the attempt row, its check results and
 * (for a publish) its product partition were written: the event reads
 * them.  Does nothing with lineage.sink = "none".  0, or -1 with cause.
 * Since 0.2.0.
 */
int	lineage_emit(struct state *, const struct meshd_config *,
	    const struct lineage_attempt *a, char **cause);

/*
 * meshd, after a crash, just BEFORE engine_recover(): in a transaction of
 * its own, finish each attempt still recorded as running as engine_recover()
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

/*
 * meshd: start the delivery process for the configured sink (nothing to
 * do with sink = "none").  Call once, BEFORE this process opens the state
 * database (state_open()) or forks a worker: SQLite's per-process table of
 * file locks must not cross a fork, even for a connection the child opens
 * itself.  The child opens (and if need be creates) the database on its
 * own.  0, or -1 with cause.  Since 0.2.0.
 */
int	lineage_start(const struct meshd_config *, char **cause);
/*
 * meshd, at exit: let the deliverer finish what it is sending (a second at
 * most), then stop it.  Safe to call without lineage_start().
 */
void	lineage_stop(void);

/*
 * One delivery pass in this process, on `st`: send the events after the
 * sink's acked_seq (up to `max`) and advance it; apply retention.  The
 * deliverer's loop, exposed for tests.  Returns the number of events
 * delivered, or -1 with cause (the sink's failure is recorded in
 * lineage_sinks and is not an error: 0 is returned).
 */
int	lineage_deliver(struct state *, const struct meshd_config *, int max,
	    char **cause);

#endif
