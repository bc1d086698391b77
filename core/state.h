/*
 * state.h -- the SQLite state store: the source of truth.
 *
 * One database file, WAL mode, foreign keys on, busy_timeout set.  The file
 * is marked with PRAGMA application_id = 0x4d455348 ("MESH") and versioned
 * with PRAGMA user_version; state_open() migrates forward from any older
 * version, one transaction per step, and refuses a file that is not a meshd
 * database or that a newer meshd wrote.
 *
 * One writer: the daemon (or a foreground `meshctl run`) is the only
 * process that changes run and task state.  Writers batch changes between
 * state_begin() and state_commit() (group commit), and tell nobody about a
 * change before it is committed.
 *
 * Times are integers: microseconds since the Unix epoch, UTC.
 *
 * Schema version 1 (see core/schema.c for the DDL):
 *   jobs(id, name UNIQUE, domain, owner, description, file, schedule,
 *        paused, created_us, updated_us)
 *   runs(id, job_id -> jobs, partition_key, interval_start_us,
 *        interval_end_us, trigger, state, created_us, started_us, ended_us,
 *        UNIQUE(job_id, partition_key))
 *   task_instances(id, run_id -> runs, task_id, stage, state, try_number,
 *        max_tries, reason, started_us, ended_us, UNIQUE(run_id, task_id))
 *   attempts(id, task_instance_id -> task_instances, try_number, state,
 *        started_us, ended_us, worker_pid, log_path, reason, message)
 *   check_results(id, attempt_id -> attempts, name, severity, passed,
 *        observed, expectation, recorded_us)
 *   metrics(id, attempt_id -> attempts, name, value, UNIQUE(attempt_id,name))
 *   products(id, name UNIQUE, domain, owner, description, contract_version,
 *        tags, location, freshness_s, plugin, job_id)
 *   product_partitions(id, product_id -> products, partition_key, state,
 *        run_id, attempt_id, published_us, updated_us, rows, version,
 *        UNIQUE(product_id, partition_key))
 *
 * Schema version 2 adds:
 *   requests(id, kind, job, partition_key, args, state, created_us,
 *        created_by, done_us, result): operators' requests (trigger...),
 *        pending until the daemon carries them out.
 *
 * Schema version 6 adds (alert.h):
 *   alert_outbox(seq, event_id UNIQUE, event, job, partition_key, run_id,
 *        hook, document, state, attempts, next_try_us, last_error,
 *        created_us, give_up_us, delivered_us): one row per alert, with
 *        the JSON document sent and the hook (JSON: argv or url and
 *        bearer_token_file, and timeout) it goes to; state pending,
 *        delivered or failed (not delivered by give_up_us).
 *   jobs.failing_since_us: when the job's failing streak began (NULL:
 *        its last finished run succeeded); a success after it alerts
 *        recovery.
 *
 * State words (TEXT columns, checked by CHECK constraints):
 *   runs.state:            queued running success failed cancelled
 *   task_instances.state:  pending queued running success failed skipped
 *                          up_for_retry upstream_failed cancelled
 *   attempts.state:        running success failed retry skipped
 *   product_partitions.state: missing building published quarantined stale
 */
#ifndef MESHD_STATE_H
#define MESHD_STATE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

struct sqlite3;
struct state;

/* Version of the schema this binary writes. */
#define STATE_SCHEMA_VERSION 12
#define STATE_APPLICATION_ID 0x4d455348

/*
 * Forward migration steps (core/schema.c): step i is the SQL that takes
 * user_version i to i + 1, so state_schema_nsteps() is the version this
 * binary writes (STATE_SCHEMA_VERSION unless a test replaced the steps).
 * Since 0.1.0.
 */
size_t		 state_schema_nsteps(void);
const char	*state_schema_step(size_t i);
/* For tests only: migrate with the `n` steps of `v` (v must outlive their
 * use; NULL restores the built-in steps), to exercise a migration to a
 * version that does not exist yet. */
void		 state_schema_set_steps(const char *const *v, size_t n);

enum state_mode {
	STATE_RDONLY,	/* must exist; never written (meshctl read verbs) */
	STATE_RDWR	/* created if missing (directory 0750, file 0640) */
};

/*
 * Open (and in STATE_RDWR create and migrate) the state database.  NULL
 * with cause on failure, e.g.:
 *   "/x/state.db: not a meshd state database (application_id 0x0)"
 *   "/x/state.db: not a meshd state database (application_id 0x12345678,
 *     meshd uses 0x4d455348)"
 *   "/x/state.db: schema version 7 is newer than this meshd (knows 1)"
 *   "/x: cannot create state database: Permission denied"
 *   "/x/state.db: not a meshd state database (file is not a database)"
 *   "/x/state.db: no state database (run meshd or meshctl run first)"
 *     (STATE_RDONLY, missing file)
 *   "/x/state.db: schema version 1 is older than this meshd (knows 2);
 *     meshd must migrate it first"  (STATE_RDONLY)
 * A file that is empty, or a SQLite database with no tables, application_id
 * 0 and user_version 0, is adopted (STATE_RDWR) as a new database.  A
 * missing parent directory is created (mode 0750), the file with mode 0640
 * (SQLite gives its -wal and -shm files the same mode).  -wal and -shm are
 * kept when a writer closes (SQLITE_FCNTL_PERSIST_WAL) so that readers
 * without write access to the directory can still open the database.
 * STATE_RDONLY never creates, writes or migrates anything.
 */
struct state	*state_open(const char *path, enum state_mode, char **cause);
/*
 * state_open() with every wait for another process's lock bounded by
 * wait_ms (state_open() uses 5000): the whole of the open, its retries
 * included, and afterwards each wait of each statement (a busy handler
 * that sleeps with backoff and gives up).  A wait given up fails the
 * statement with SQLITE_BUSY and a cause such as
 *   "/x/state.db: the state is busy: another process has held its write
 *    lock for 2.0 s (pid 1234, python3)"
 * (see state_busy_message()).  wait_ms 0 never waits.  Since 0.2.0.
 */
struct state	*state_open_wait(const char *path, enum state_mode,
		    int wait_ms, char **cause);
/*
 * Bound every later wait of this connection by an absolute time as well
 * (mono_us() microseconds; 0 removes the bound): a client that must answer
 * within N seconds in total sets it once.  A long-lived caller (meshctl
 * run, --follow) clears it and keeps the per-wait bound alone.
 */
void		 state_set_deadline(struct state *, int64_t deadline_us);
/* Change the bound on each later wait (see state_open_wait()). */
void		 state_set_wait(struct state *, int wait_ms);
/*
 * The pid of the process that holds the WAL write lock of the database at
 * `path` (a POSIX lock on byte 120 of its -shm file, found in /proc/locks),
 * with its name (/proc/PID/comm) in `name`; 0 and "" when none holds it or
 * it cannot be told.  Never opens the -shm file.  Since 0.2.0.
 */
pid_t		 state_wal_writer(const char *path, char *name, size_t len);
/* "PATH: the state is busy: another process has held its write lock for
 * W s (pid P, NAME)" for a wait of waited_us, naming the holder if it can
 * (state_wal_writer()).  The caller frees it.  Since 0.2.0. */
char		*state_busy_message(const char *path, int64_t waited_us);
/* The busy message of the last wait this process gave up, or NULL; *told
 * (if not NULL) is 1 when it went out as a cause.  Since 0.2.0. */
const char	*state_gave_up(int *told);
void		 state_close(struct state *);
/* The underlying handle, for read queries (meshctl listings). */
/*
 * Inside a transaction: mark a point to undo back to, without undoing the
 * rest (one run of a batch that cannot open).  One level.  The write-behind
 * journal forgets what an undone part recorded.
 */
int	state_savepoint(struct state *, char **cause);
int	state_release(struct state *, char **cause);
void	state_savepoint_rollback(struct state *);

struct sqlite3	*state_sqlite(struct state *);

/*
 * The connection's prepared statement for `sql`, prepared on first use
 * (SQLITE_PREPARE_PERSISTENT) and kept until state_close(): hot paths
 * (the engine's passes, lineage, the daemon's backfill and inputs passes)
 * pay SQLite's parser once per connection, not once per call.  The
 * statement comes back reset and unbound.  NULL, with sqlite3_errmsg()
 * saying why, when `sql` does not prepare.
 *
 * The caller never finalizes it, and calls state_stmt_done() when it is
 * finished with the rows, so that it holds no read snapshot and no
 * pointer into the caller's (SQLITE_STATIC) strings.  Only for SQL whose
 * text is fixed: each distinct text is one cache entry for the life of the
 * connection.
 */
struct sqlite3_stmt;
struct sqlite3_stmt *state_prepare(struct state *, const char *sql);
void		 state_stmt_done(struct sqlite3_stmt *);
const char	*state_path(const struct state *);

/* Group commit: many changes, one transaction (BEGIN IMMEDIATE).  Not
 * nestable: state_begin() inside a transaction fails.  If state_commit()
 * fails the transaction is still open; call state_rollback(), which does
 * nothing outside a transaction. */
/*
 * The daemon's connection: keep writing through faults (issue 10).
 *
 * state_keep_writes() records every write of a transaction (see
 * state-journal.h).  If its COMMIT then fails with a transient error (full
 * disk, I/O error, read-only file system, lock), SQLite rolls it back, but
 * state_commit() keeps what it said, returns 0 and sets state_pending():
 * the caller's memory holds the outcome, the disk does not yet.  While
 * pending, the caller should make no new changes (meshd stops launching
 * and holds results); state_flush() tries to write the held transaction
 * again: 0 written, 1 still failing (state_fault() says why), -1 on an
 * error that retrying cannot fix.  state_begin() replays a held
 * transaction first, so one commit writes both.
 *
 * state_set_busy_wait() replaces the busy timeout with a wait that never
 * gives up by itself: `fn` is called every 5 s of waiting with the time
 * waited so far and returns 0 to give up (SQLITE_BUSY), 1 to go on.
 */
void		 state_keep_writes(struct state *);
int		 state_pending(const struct state *);
const char	*state_fault(const struct state *, int64_t *since_us);
int		 state_flush(struct state *, char **cause);
void		 state_set_busy_wait(struct state *,
		    int (*fn)(void *, int64_t waited_ms), void *arg);

int	state_begin(struct state *, char **cause);
int	state_commit(struct state *, char **cause);
void	state_rollback(struct state *);

/* Every function below returns 0, or -1 with cause.  Ids are rowids. */

/* Insert or update the jobs row for a loaded job; *job_id set. */
int	state_job_sync(struct state *, const char *name, const char *domain,
	    const char *owner, const char *description, const char *file,
	    const char *schedule, int64_t *job_id, char **cause);
/* Find a job by name: 0 and *job_id, or -1 with cause "unknown job 'x'". */
int	state_job_find(struct state *, const char *name, int64_t *job_id,
	    char **cause);

struct state_product {
	const char	*name, *domain, *owner, *description;
	const char	*contract_version, *tags, *location, *plugin;
	int64_t		 freshness_s;
	int64_t		 job_id;
};
/* Insert or update a product by name; *product_id set. */
int	state_product_sync(struct state *, const struct state_product *,
	    int64_t *product_id, char **cause);

/*
 * Get or create the run (job, partition_key).  A new run is 'queued' and
 * *created is 1; an existing run is returned as it is (*created 0).  The
 * (job, partition) identity is unique: a second call never makes a second
 * run.
 */
int	state_run_open(struct state *, int64_t job_id, const char *key,
	    int64_t interval_start_us, int64_t interval_end_us,
	    const char *trigger, int64_t *run_id, int *created, char **cause);
/* Set a run's state; started_us/ended_us are written when non-zero. */
int	state_run_set(struct state *, int64_t run_id, const char *state,
	    int64_t started_us, int64_t ended_us, char **cause);

/*
 * Get or create the task instance (run, task_id): new ones are 'pending'
 * with try_number 0.  *state (if not NULL) receives a pointer to a static
 * string for the current state, *try_number the tries so far.
 */
int	state_ti_open(struct state *, int64_t run_id, const char *task_id,
	    const char *stage, int max_tries, int64_t *ti_id,
	    const char **state, int *try_number, char **cause);
/* The same; *created is 1 when the row was made now ('queued', try 0, no
 * reason). */
int	state_ti_open_new(struct state *, int64_t run_id, const char *task_id,
	    const char *stage, int max_tries, int64_t *ti_id,
	    const char **state, int *try_number, int *created, char **cause);
/* Set a task instance's state, try number and reason (NULL clears it);
 * started_us/ended_us written when non-zero. */
int	state_ti_set(struct state *, int64_t ti_id, const char *state,
	    int try_number, const char *reason, int64_t started_us,
	    int64_t ended_us, char **cause);

/* Record a new attempt, state 'running'. */
int	state_attempt_start(struct state *, int64_t ti_id, int try_number,
	    int64_t started_us, const char *log_path, int64_t *attempt_id,
	    char **cause);
int	state_attempt_set_pid(struct state *, int64_t attempt_id, int pid,
	    char **cause);
/* Finish an attempt: state is success, failed, retry or skipped; reason is
 * the precise cause ("killed by signal 11 (SIGSEGV)"), message the
 * plugin's own error text; either may be NULL. */
int	state_attempt_finish(struct state *, int64_t attempt_id,
	    const char *state, int64_t ended_us, const char *reason,
	    const char *message, char **cause);
/* The same, recording the worker's pid too (> 0) when it was not yet:
 * one statement for an attempt that ended before its pid was saved. */
int	state_attempt_end(struct state *, int64_t attempt_id, const char *state,
	    int64_t ended_us, const char *reason, const char *message, int pid,
	    char **cause);

int	state_check_add(struct state *, int64_t attempt_id, const char *name,
	    int severity, int passed, double observed, const char *expectation,
	    int64_t recorded_us, char **cause);
/* Insert or replace metric (attempt, name). */
int	state_metric_set(struct state *, int64_t attempt_id, const char *name,
	    double value, char **cause);

/*
 * Record the state of a product partition, keyed by (product, partition):
 * a repeated call replaces the earlier record, never duplicates it.  When
 * state is "published", published_us is set and version incremented.
 * rows < 0 leaves the rows column as it was; run_id or attempt_id 0 leaves
 * the earlier one (NULL on a new record).  updated_us is when_us.
 */
int	state_partition_set(struct state *, int64_t product_id,
	    const char *partition_key, const char *state, int64_t run_id,
	    int64_t attempt_id, int64_t when_us, int64_t rows, char **cause);

#endif
