/*
 * state.c -- the SQLite state store.
 *
 * Every statement is prepared once, on first use, and kept in struct state
 * (SQLITE_PREPARE_PERSISTENT); each call binds, steps and resets it.  With
 * group commit this makes thousands of changes per transaction cheap: the
 * cost is the b-tree work, not SQL parsing.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "state.h"
#include "state-journal.h"
#include "util.h"

/* SQLite waits this long for another connection's lock before SQLITE_BUSY
 * (state_open(); state_open_wait() takes its own bound). */
#define STATE_BUSY_TIMEOUT_MS 5000


enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_JOB_SYNC,
	S_JOB_FIND,
	S_PRODUCT_SYNC,
	S_RUN_INSERT,
	S_RUN_FIND,
	S_RUN_SET,
	S_TI_INSERT,
	S_TI_FIND,
	S_TI_SET,
	S_ATTEMPT_START,
	S_ATTEMPT_PID,
	S_ATTEMPT_FINISH,
	S_CHECK_ADD,
	S_METRIC_SET,
	S_PARTITION_SET,
	S_MAX
};

/* S_PARTITION_SET: a published partition's rerun was quarantined. */
#define KEPT "(state = 'published' AND excluded.state = 'quarantined')"

static const char *const stmt_sql[S_MAX] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_JOB_SYNC] =
	    "INSERT INTO jobs (name, domain, owner, description, file,"
	    " schedule, created_us, updated_us)"
	    " VALUES (?1, coalesce(?2, ''), coalesce(?3, ''), ?4, ?5,"
	    " coalesce(?6, 'none'), ?7, ?7)"
	    " ON CONFLICT (name) DO UPDATE SET domain = excluded.domain,"
	    " owner = excluded.owner, description = excluded.description,"
	    " file = excluded.file, schedule = excluded.schedule,"
	    " updated_us = excluded.updated_us"
	    " RETURNING id",
	[S_JOB_FIND] = "SELECT id FROM jobs WHERE name = ?1",
	[S_PRODUCT_SYNC] =
	    "INSERT INTO products (name, domain, owner, description,"
	    " contract_version, tags, location, freshness_s, plugin, job_id)"
	    " VALUES (?1, coalesce(?2, ''), coalesce(?3, ''), ?4, ?5, ?6, ?7,"
	    " ?8, ?9, nullif(?10, 0))"
	    " ON CONFLICT (name) DO UPDATE SET domain = excluded.domain,"
	    " owner = excluded.owner, description = excluded.description,"
	    " contract_version = excluded.contract_version,"
	    " tags = excluded.tags, location = excluded.location,"
	    " freshness_s = excluded.freshness_s, plugin = excluded.plugin,"
	    " job_id = excluded.job_id"
	    " RETURNING id",
	[S_RUN_INSERT] =
	    "INSERT INTO runs (job_id, partition_key, interval_start_us,"
	    " interval_end_us, \"trigger\", state, created_us, scheduled)"
	    " VALUES (?1, ?2, ?3, ?4, coalesce(?5, 'schedule'), 'queued', ?6,"
	    " coalesce(?5, 'schedule') = 'schedule')"
	    " ON CONFLICT (job_id, partition_key) DO NOTHING"
	    " RETURNING id",
	[S_RUN_FIND] =
	    "SELECT id FROM runs WHERE job_id = ?1 AND partition_key = ?2",
	[S_RUN_SET] =
	    "UPDATE runs SET state = ?2,"
	    " started_us = CASE WHEN ?3 <> 0 THEN ?3 ELSE started_us END,"
	    " ended_us = CASE WHEN ?4 <> 0 THEN ?4 ELSE ended_us END"
	    " WHERE id = ?1",
	[S_TI_INSERT] =
	    "INSERT INTO task_instances (run_id, task_id, stage, state,"
	    " try_number, max_tries)"
	    " VALUES (?1, ?2, coalesce(?3, ''), 'queued', 0, ?4)"
	    " ON CONFLICT (run_id, task_id) DO NOTHING"
	    " RETURNING id, state, try_number",
	[S_TI_FIND] =
	    "SELECT id, state, try_number FROM task_instances"
	    " WHERE run_id = ?1 AND task_id = ?2",
	[S_TI_SET] =
	    "UPDATE task_instances SET state = ?2, try_number = ?3,"
	    " reason = ?4,"
	    " started_us = CASE WHEN ?5 <> 0 THEN ?5 ELSE started_us END,"
	    " ended_us = CASE WHEN ?6 <> 0 THEN ?6 ELSE ended_us END"
	    " WHERE id = ?1",
	[S_ATTEMPT_START] =
	    "INSERT INTO attempts (task_instance_id, try_number, state,"
	    " started_us, log_path) VALUES (?1, ?2, 'running', ?3, ?4)",
	[S_ATTEMPT_PID] = "UPDATE attempts SET worker_pid = ?2 WHERE id = ?1",
	[S_ATTEMPT_FINISH] =
	    "UPDATE attempts SET state = ?2, ended_us = ?3, reason = ?4,"
	    " message = ?5,"
	    " worker_pid = CASE WHEN ?6 > 0 THEN ?6 ELSE worker_pid END"
	    " WHERE id = ?1",
	[S_CHECK_ADD] =
	    "INSERT INTO check_results (attempt_id, name, severity, passed,"
	    " observed, expectation, recorded_us)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_METRIC_SET] =
	    "INSERT INTO metrics (attempt_id, name, value) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (attempt_id, name) DO UPDATE SET"
	    " value = excluded.value",
	/*
	 * In the DO UPDATE part a bare column is the existing row's value:
	 * version counts publications, published_us is the last one, and a
	 * NULL (rows < 0, ids 0) keeps what was there.
	 *
	 * A published partition whose rerun is quarantined stays published
	 * with its run and attempt: the rerun's publish never ran, so the
	 * published rows are still the ones consumers read.  The rerun goes
	 * into rerun_*, which the next publish clears (schema version 6).
	 */
	[S_PARTITION_SET] =
	    "INSERT INTO product_partitions (product_id, partition_key, state,"
	    " run_id, attempt_id, published_us, updated_us, \"rows\", version)"
	    " VALUES (?1, ?2, ?3, nullif(?4, 0), nullif(?5, 0),"
	    " CASE WHEN ?3 = 'published' THEN ?6 END, ?6,"
	    " CASE WHEN ?7 >= 0 THEN ?7 END,"
	    " CASE WHEN ?3 = 'published' THEN 1 ELSE 0 END)"
	    " ON CONFLICT (product_id, partition_key) DO UPDATE SET"
	    " state = CASE WHEN " KEPT " THEN state ELSE excluded.state END,"
	    " run_id = CASE WHEN " KEPT " THEN run_id"
	    " ELSE coalesce(excluded.run_id, run_id) END,"
	    " attempt_id = CASE WHEN " KEPT " THEN attempt_id"
	    " ELSE coalesce(excluded.attempt_id, attempt_id) END,"
	    " published_us = coalesce(excluded.published_us, published_us),"
	    " updated_us = CASE WHEN " KEPT " THEN updated_us"
	    " ELSE excluded.updated_us END,"
	    " \"rows\" = coalesce(excluded.\"rows\", \"rows\"),"
	    " version = version + excluded.version,"
	    " rerun_run_id = CASE WHEN " KEPT " THEN excluded.run_id"
	    " WHEN excluded.state = 'published' THEN NULL ELSE rerun_run_id END,"
	    " rerun_attempt_id = CASE WHEN " KEPT " THEN excluded.attempt_id"
	    " WHEN excluded.state = 'published' THEN NULL"
	    " ELSE rerun_attempt_id END,"
	    " rerun_us = CASE WHEN " KEPT " THEN excluded.updated_us"
	    " WHEN excluded.state = 'published' THEN NULL ELSE rerun_us END",
};

struct scache {
	uint64_t	 hash;		/* 0: an empty slot */
	char		*sql;
	sqlite3_stmt	*stmt;
};

struct state {
	sqlite3		*db;
	char		*path;
	enum state_mode	 mode;
	sqlite3_stmt	*stmt[S_MAX];
	/* state_prepare()'s cache: open addressing on the text's hash. */
	struct scache	*cache;
	size_t		 ncache, cache_cap;
	/* meshd's connection (state_keep_writes()): the write-behind
	 * journal, and whether it holds a transaction SQLite refused. */
	struct sjournal	*journal;
	int		 pending;
	char		*fault;		/* why, while pending */
	int64_t		 fault_since;	/* now_us() of the first failure */
	size_t		 replayed;	/* journal entries of the held part */
	size_t		 sp_mark;	/* journal entries at the savepoint */
	int		 (*busy_fn)(void *, int64_t);
	void		*busy_arg;
	int64_t		 busy_start;	/* mono_us, of the current wait */
	int64_t		 busy_told;	/* waited ms at the last call */

	/* Waits for another connection's lock (state_busy()). */
	int		 wait_ms;	/* the longest one wait */
	int64_t		 deadline_us;	/* mono_us() bound on all; 0 none */
	int64_t		 wait_start_us;	/* when the current wait began */
	int64_t		 gave_up_us;	/* the wait given up, how long; or 0 */
};

/* The last wait this thread gave up, for state_busy_report().  Per
 * thread, in a buffer rather than on the heap: the HTTP child's threads
 * give up waits of their own, and a thread that ends leaves nothing to
 * free. */
static _Thread_local char	state_busy_last[512];
static _Thread_local int	state_busy_told;

/* task_instances.state words, so state_ti_open can hand out static strings. */
static const char *const ti_states[] = {
	"pending", "queued", "running", "success", "failed", "skipped",
	"up_for_retry", "upstream_failed", "cancelled"
};

static int	state_busy_cause(struct state *, char **);

/* Set cause from the connection's last error and reset `st`. */
static int
state_fail(struct state *s, sqlite3_stmt *st, const char *what, char **cause)
{
	if (state_busy_cause(s, cause) != 0)
		set_cause(cause, "%s: %s: %s", s->path, what,
		    sqlite3_errmsg(s->db));
	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	return -1;
}

/* Reset after use, so the statement holds no read lock and no pointer into
 * the caller's strings (they are bound SQLITE_STATIC). */
static void
stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static uint64_t
sql_hash(const char *sql)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *sql != '\0'; sql++)
		h = (h ^ (unsigned char)*sql) * 0x100000001b3ULL;
	return h == 0 ? 1 : h;
}

/* Insert without checking for the text (cache_grow(), state_prepare()
 * after a miss). */
static void
cache_put(struct state *s, uint64_t h, char *sql, sqlite3_stmt *st)
{
	size_t	i = (size_t)h & (s->cache_cap - 1);

	while (s->cache[i].hash != 0)
		i = (i + 1) & (s->cache_cap - 1);
	s->cache[i].hash = h;
	s->cache[i].sql = sql;
	s->cache[i].stmt = st;
	s->ncache++;
}

static void
cache_grow(struct state *s)
{
	struct scache	*old = s->cache;
	size_t		 i, n = s->cache_cap;

	s->cache_cap = n == 0 ? 64 : n * 2;
	s->cache = xcalloc(s->cache_cap, sizeof *s->cache);
	s->ncache = 0;
	for (i = 0; i < n; i++)
		if (old[i].hash != 0)
			cache_put(s, old[i].hash, old[i].sql, old[i].stmt);
	free(old);
}

sqlite3_stmt *
state_prepare(struct state *s, const char *sql)
{
	sqlite3_stmt	*st;
	uint64_t	 h = sql_hash(sql);
	size_t		 i;

	if (s->cache_cap > 0)
		for (i = (size_t)h & (s->cache_cap - 1); s->cache[i].hash != 0;
		    i = (i + 1) & (s->cache_cap - 1))
			if (s->cache[i].hash == h &&
			    strcmp(s->cache[i].sql, sql) == 0) {
				st = s->cache[i].stmt;
				/* A caller that forgot state_stmt_done(). */
				if (sqlite3_stmt_busy(st))
					sqlite3_reset(st);
				sqlite3_clear_bindings(st);
				return st;
			}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    NULL) != SQLITE_OK)
		return NULL;
	if ((s->ncache + 1) * 2 > s->cache_cap)
		cache_grow(s);
	cache_put(s, h, xstrdup(sql), st);
	return st;
}

void
state_stmt_done(sqlite3_stmt *st)
{
	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

static sqlite3_stmt *
stmt_get(struct state *s, enum stmt_id id, const char *what, char **cause)
{
	if (s->stmt[id] == NULL &&
	    sqlite3_prepare_v3(s->db, stmt_sql[id], -1,
	    SQLITE_PREPARE_PERSISTENT, &s->stmt[id], NULL) != SQLITE_OK) {
		s->stmt[id] = NULL;
		state_fail(s, NULL, what, cause);
		return NULL;
	}
	return s->stmt[id];
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* Step a statement that returns no row; 0 or -1 with cause. */
static int
stmt_exec(struct state *s, sqlite3_stmt *st, const char *what, char **cause)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		return state_fail(s, st, what, cause);
	stmt_done(st);
	return 0;
}

/* Step an UPDATE of one row by id; an id that matches nothing is an error. */
static int
stmt_update(struct state *s, sqlite3_stmt *st, const char *what,
    const char *table, int64_t id, char **cause)
{
	if (stmt_exec(s, st, what, cause) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 0) {
		set_cause(cause, "%s: %s: no %s with id %lld", s->path, what,
		    table, (long long)id);
		return -1;
	}
	return 0;
}

/*
 * When the connection's last error is SQLITE_BUSY after a wait was given
 * up, set cause to the busy message and return 0; else -1, cause
 * untouched.  The message is also kept for state_gave_up().
 */
static int
state_busy_cause(struct state *s, char **cause)
{
	char	*msg;

	if (s->gave_up_us == 0 || (sqlite3_errcode(s->db) & 0xff) !=
	    SQLITE_BUSY)
		return -1;
	msg = state_busy_message(s->path, s->gave_up_us);
	s->gave_up_us = 0;
	set_cause(cause, "%s", msg);
	snprintf(state_busy_last, sizeof state_busy_last, "%s", msg);
	free(msg);
	state_busy_told = cause != NULL;
	return 0;
}

const char *
state_gave_up(int *told)
{
	if (told != NULL)
		*told = state_busy_told;
	return state_busy_last[0] != '\0' ? state_busy_last : NULL;
}

/*
 * SQLite's busy handler: called while another connection holds a lock we
 * need, `count` the calls so far for this one wait.  Sleep a little longer
 * each time (as SQLite's own handler does) and give up when the wait has
 * lasted wait_ms, or at the deadline, whichever comes first: a caller that
 * must answer is never held longer than it asked for.
 */
static int
state_busy_handler(void *arg, int count)
{
	static const int	 naps_ms[] = { 1, 2, 5, 10, 15, 20, 25, 25, 25,
				    50, 50, 100 };
	struct state		*s = arg;
	struct timespec		 ts;
	int64_t			 now = mono_us(), until, nap;

	if (count == 0) {
		s->wait_start_us = now;
		s->gave_up_us = 0;
	}
	until = s->wait_start_us + (int64_t)s->wait_ms * 1000;
	if (s->deadline_us != 0 && s->deadline_us < until)
		until = s->deadline_us;
	if (now >= until) {
		s->gave_up_us = now - s->wait_start_us;
		if (s->gave_up_us == 0)
			s->gave_up_us = 1;
		return 0;
	}
	nap = (int64_t)naps_ms[count < (int)nitems(naps_ms) ? count :
	    (int)nitems(naps_ms) - 1] * 1000;
	if (nap > until - now)
		nap = until - now;
	ts.tv_sec = (time_t)(nap / 1000000);
	ts.tv_nsec = (long)(nap % 1000000) * 1000;
	nanosleep(&ts, NULL);
	return 1;
}

void
state_set_deadline(struct state *s, int64_t deadline_us)
{
	s->deadline_us = deadline_us;
}

void
state_set_wait(struct state *s, int wait_ms)
{
	s->wait_ms = wait_ms < 0 ? 0 : wait_ms;
}

/* Run one integer-valued PRAGMA or query; an SQLite result code. */
static int
query_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE)
		rc = SQLITE_ERROR;
	else
		rc = sqlite3_reset(st);
	sqlite3_finalize(st);
	return rc;
}

/*
 * STATE_RDWR: make the directory (0750) and an empty file (0640) if they
 * are missing.  The file is created here, not by SQLite, so its mode does
 * not depend on the umask; SQLite then gives -wal and -shm the same mode.
 */
static int
state_create(struct state *s, char **cause)
{
	struct stat	 sb;
	char		*dir;
	int		 fd, rc = -1;

	dir = path_dirname(s->path);
	if (stat(dir, &sb) == -1) {
		if (errno != ENOENT) {
			set_cause(cause, "%s: cannot create state database: %s",
			    dir, strerror(errno));
			goto out;
		}
		if (mkdir_p(dir, 0750, cause) != 0)
			goto out;
		/* mkdir honours the umask; the state directory is 0750. */
		if (chmod(dir, 0750) == -1) {
			set_cause(cause, "%s: chmod: %s", dir, strerror(errno));
			goto out;
		}
	}
	fd = open(s->path, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0640);
	if (fd == -1) {
		if (errno == EEXIST) {
			rc = 0;
			goto out;
		}
		set_cause(cause, "%s: cannot create state database: %s", dir,
		    strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0640) == -1) {
		set_cause(cause, "%s: chmod: %s", s->path, strerror(errno));
		close(fd);
		unlink(s->path);
		goto out;
	}
	close(fd);
	rc = 0;
out:
	free(dir);
	return rc;
}

/*
 * Decide whether the open file is ours, before anything writes to it.
 * *version is its user_version; 0 for an empty database we may adopt.
 */
static int	state_identify_txn(struct state *, int64_t *, int64_t *, int64_t *,
		    char **);

static int
state_identify(struct state *s, int64_t *version, char **cause)
{
	int64_t	appid, ntables;
	int	rc;

	/* One read transaction, so that the three answers come from one
	 * snapshot: read one by one, another process's migration could
	 * commit in between (tables, but application_id read as 0). */
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		if (state_busy_cause(s, cause) != 0)
			set_cause(cause, "%s: cannot read state database: %s",
			    s->path, sqlite3_errmsg(s->db));
		return -1;
	}
	rc = state_identify_txn(s, version, &appid, &ntables, cause);
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc != 0)
		return -1;
	if (appid == STATE_APPLICATION_ID)
		return 0;
	if (appid != 0) {
		set_cause(cause, "%s: not a meshd state database "
		    "(application_id 0x%x, meshd uses 0x%x)", s->path,
		    (unsigned)(uint32_t)appid, (unsigned)STATE_APPLICATION_ID);
		return -1;
	}
	if (*version != 0 || ntables != 0) {
		set_cause(cause, "%s: not a meshd state database "
		    "(application_id 0x0)", s->path);
		return -1;
	}
	return 0;
}

static int
state_identify_txn(struct state *s, int64_t *version, int64_t *appidp,
    int64_t *ntablesp, char **cause)
{
	int64_t	appid, ntables;
	int	rc;

	if ((rc = query_int(s->db, "PRAGMA application_id", &appid)) !=
	    SQLITE_OK) {
		if (rc == SQLITE_NOTADB) {
			set_cause(cause, "%s: not a meshd state database (%s)",
			    s->path, sqlite3_errmsg(s->db));
		} else if (state_busy_cause(s, cause) == 0) {
			/* cause says who holds the lock */
		} else {
			set_cause(cause, "%s: cannot read state database: %s",
			    s->path, sqlite3_errmsg(s->db));
		}
		return -1;
	}
	if (query_int(s->db, "PRAGMA user_version", version) != SQLITE_OK ||
	    query_int(s->db, "SELECT count(*) FROM sqlite_master", &ntables) !=
	    SQLITE_OK) {
		if (state_busy_cause(s, cause) == 0)
			return -1;
		set_cause(cause, "%s: cannot read state database: %s",
		    s->path, sqlite3_errmsg(s->db));
		return -1;
	}
	*appidp = appid;
	*ntablesp = ntables;
	return 0;
}

/* Run one SQL script; on error set cause from its message. */
static int
exec_sql(struct state *s, const char *sql, const char *what, char **cause)
{
	char	*err = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		if (state_busy_cause(s, cause) != 0)
			set_cause(cause, "%s: %s: %s", s->path, what,
			    err != NULL ? err : sqlite3_errmsg(s->db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/*
 * Apply every missing step, each in its own transaction together with its
 * user_version bump.  The version is read again under the write lock: if
 * another process migrated meanwhile, its steps are not applied twice.
 */
static int
state_migrate(struct state *s, int64_t from, char **cause)
{
	int64_t	 v, cur, n = (int64_t)state_schema_nsteps();
	char	*what = NULL, *sql;

	for (v = from; v < n; v++) {
		free(what);
		what = xasprintf("cannot migrate schema to version %lld",
		    (long long)v + 1);
		if (exec_sql(s, "BEGIN IMMEDIATE", what, cause) != 0)
			goto fail;
		if (query_int(s->db, "PRAGMA user_version", &cur) !=
		    SQLITE_OK) {
			state_fail(s, NULL, what, cause);
			goto rollback;
		}
		if (cur != v) {
			exec_sql(s, "ROLLBACK", what, NULL);
			if (cur > n) {
				set_cause(cause, "%s: schema version %lld is "
				    "newer than this meshd (knows %lld)",
				    s->path, (long long)cur, (long long)n);
				goto fail;
			}
			v = cur - 1;
			continue;
		}
		if (exec_sql(s, state_schema_step((size_t)v), what,
		    cause) != 0)
			goto rollback;
		sql = xasprintf("PRAGMA application_id = %d; "
		    "PRAGMA user_version = %lld", STATE_APPLICATION_ID,
		    (long long)v + 1);
		if (exec_sql(s, sql, what, cause) != 0) {
			free(sql);
			goto rollback;
		}
		free(sql);
		if (exec_sql(s, "COMMIT", what, cause) != 0)
			goto rollback;
	}
	free(what);
	return 0;

rollback:
	if (!sqlite3_get_autocommit(s->db))
		exec_sql(s, "ROLLBACK", what, NULL);
fail:
	free(what);
	return -1;
}

struct state *
state_open(const char *path, enum state_mode mode, char **cause)
{
	return state_open_wait(path, mode, STATE_BUSY_TIMEOUT_MS, cause);
}

struct state *
state_open_wait(const char *path, enum state_mode mode, int wait_ms,
    char **cause)
{
	struct state	*s;
	struct stat	 sb;
	int64_t		 version, n = (int64_t)state_schema_nsteps();
	int64_t		 t0 = mono_us();
	int		 flags;

	s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	s->mode = mode;
	/* The whole of the open, retries included, within one wait. */
	s->wait_ms = wait_ms < 0 ? 0 : wait_ms;
	s->deadline_us = t0 + (int64_t)s->wait_ms * 1000;

	if (mode == STATE_RDWR) {
		if (state_create(s, cause) != 0)
			goto fail;
		flags = SQLITE_OPEN_READWRITE;
	} else {
		if (stat(path, &sb) == -1) {
			if (errno == ENOENT) {
				set_cause(cause, "%s: no state database "
				    "(run meshd or meshctl run first)", path);
			} else
				set_cause(cause, "%s: %s", path,
				    strerror(errno));
			goto fail;
		}
		flags = SQLITE_OPEN_READONLY;
	}
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		set_cause(cause, "%s: cannot open state database: %s", path,
		    s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_handler(s->db, state_busy_handler, s);

	if (state_identify(s, &version, cause) != 0)
		goto fail;
	if (version > n) {
		set_cause(cause, "%s: schema version %lld is newer than this "
		    "meshd (knows %lld)", path, (long long)version,
		    (long long)n);
		goto fail;
	}

	if (mode == STATE_RDONLY) {
		if (version == 0) {
			set_cause(cause, "%s: empty state database "
			    "(run meshd or meshctl run first)", path);
			goto fail;
		}
		if (version < n) {
			set_cause(cause, "%s: schema version %lld is older "
			    "than this meshd (knows %lld); meshd must migrate "
			    "it first", path, (long long)version,
			    (long long)n);
			goto fail;
		}
		if (exec_sql(s, "PRAGMA foreign_keys = ON", "cannot set up",
		    cause) != 0)
			goto fail;
		s->deadline_us = 0;
		return s;
	}

	/*
	 * Keep -wal and -shm when the last writer closes.  Readers (meshctl
	 * as a member of the group) cannot create them in the 0750
	 * directory, and SQLite cannot open a WAL database read-only
	 * without them: with them, reading works while the daemon is down.
	 */
	{
		int	persist = 1;

		sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL,
		    &persist);
	}

	/*
	 * Only now, with the file known to be ours (or empty), change it.
	 * Two processes creating the state at once (meshd starting while
	 * meshctl records a request) contend for the switch to WAL, and
	 * SQLite reports that contention at once rather than through the
	 * busy handler: retry it until the open's deadline, which also
	 * bounds each try's own wait in the busy handler (each try waiting
	 * a whole busy timeout made this loop last minutes).
	 */
	for (;;) {
		if (exec_sql(s, "PRAGMA journal_mode = WAL; "
		    "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
		    "cannot set up", cause) == 0)
			break;
		if ((sqlite3_errcode(s->db) & 0xff) != SQLITE_BUSY &&
		    (sqlite3_errcode(s->db) & 0xff) != SQLITE_LOCKED)
			goto fail;
		if (mono_us() >= s->deadline_us) {
			if ((sqlite3_errcode(s->db) & 0xff) == SQLITE_BUSY) {
				s->gave_up_us = mono_us() - t0;
				state_busy_cause(s, cause);
			}
			goto fail;
		}
		if (cause != NULL) {
			free(*cause);
			*cause = NULL;
		}
		usleep(10000);
	}
	{
		sqlite3_stmt	*st;
		int		 wal = 0;

		if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st,
		    NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW) {
				const unsigned char *m =
				    sqlite3_column_text(st, 0);

				wal = m != NULL &&
				    strcmp((const char *)m, "wal") == 0;
			}
			sqlite3_finalize(st);
		}
		if (!wal) {
			set_cause(cause, "%s: cannot switch to WAL mode: %s",
			    path, sqlite3_errmsg(s->db));
			goto fail;
		}
	}
	if (state_migrate(s, version, cause) != 0)
		goto fail;
	s->deadline_us = 0;
	return s;

fail:
	state_close(s);
	return NULL;
}

void
state_close(struct state *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < S_MAX; i++)
		sqlite3_finalize(s->stmt[i]);
	for (i = 0; i < s->cache_cap; i++) {
		sqlite3_finalize(s->cache[i].stmt);
		free(s->cache[i].sql);
	}
	free(s->cache);
	sjournal_free(s->journal);
	free(s->fault);
	if (s->db != NULL) {
		/* Closing rolls back an open transaction. */
		sqlite3_close_v2(s->db);
	}
	free(s->path);
	free(s);
}

struct sqlite3 *
state_sqlite(struct state *s)
{
	return s->db;
}

const char *
state_path(const struct state *s)
{
	return s->path;
}

/* Result codes after which the same transaction may well succeed later:
 * the disk is full or failing, the file system went read-only, another
 * process holds the lock. */
static int
state_transient(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PROTOCOL:
	case SQLITE_NOMEM:
		return 1;
	}
	return 0;
}

static void
state_set_fault(struct state *s, const char *what, int rc)
{
	free(s->fault);
	s->fault = xasprintf("%s: %s: %s", s->path, what, sqlite3_errstr(rc));
	if (s->fault_since == 0)
		s->fault_since = now_us();
}

int
state_begin(struct state *s, char **cause)
{
	sqlite3_stmt	*st;
	const char	*bad = NULL;
	int		 rc;

	if (!sqlite3_get_autocommit(s->db)) {
		set_cause(cause, "%s: transaction already open", s->path);
		return -1;
	}
	if ((st = stmt_get(s, S_BEGIN, "cannot begin", cause)) == NULL)
		return -1;
	if (stmt_exec(s, st, "cannot begin", cause) != 0)
		return -1;
	if (!s->pending)
		return 0;
	/* A transaction SQLite refused earlier comes first: the caller's
	 * changes follow it, and one commit writes both. */
	if ((rc = sjournal_replay(s->journal, &bad)) != SQLITE_OK) {
		set_cause(cause, "%s: cannot write the changes held since "
		    "the last failure: %s%s%.200s", s->path, sqlite3_errstr(rc),
		    bad != NULL ? ": " : "", bad != NULL ? bad : "");
		state_set_fault(s, "cannot write held changes", rc);
		exec_sql(s, "ROLLBACK", "cannot roll back", NULL);
		return -1;
	}
	s->replayed = sjournal_count(s->journal);
	return 0;
}

int
state_commit(struct state *s, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = stmt_get(s, S_COMMIT, "cannot commit", cause)) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		stmt_done(st);
		if (s->journal != NULL)
			sjournal_clear(s->journal);
		if (s->pending) {
			s->pending = 0;
			free(s->fault);
			s->fault = NULL;
			s->fault_since = 0;
		}
		return 0;
	}
	rc = sqlite3_extended_errcode(s->db);
	if (s->journal == NULL || !state_transient(rc) ||
	    sjournal_broken(s->journal))
		return state_fail(s, st, "cannot commit", cause);
	/*
	 * Full disk, I/O error, lock: SQLite may have rolled the
	 * transaction back already.  Make sure it is, keep its journal, and
	 * report success to the caller, whose memory already holds the
	 * outcome: state_pending() tells it that the disk does not yet.
	 */
	sqlite3_reset(st);
	if (!sqlite3_get_autocommit(s->db))
		exec_sql(s, "ROLLBACK", "cannot roll back", NULL);
	state_set_fault(s, "cannot commit", rc);
	s->pending = 1;
	return 0;
}

void
state_rollback(struct state *s)
{
	sqlite3_stmt	*st;

	if (sqlite3_get_autocommit(s->db))
		return;
	if ((st = stmt_get(s, S_ROLLBACK, "cannot roll back", NULL)) != NULL)
		stmt_exec(s, st, "cannot roll back", NULL);
	/* A deliberate rollback drops this transaction's statements; what
	 * an earlier failure held is replayed by the next state_begin(). */
	if (s->journal != NULL) {
		/* The replayed part was recorded first: keep it for the
		 * next state_begin(). */
		sjournal_truncate(s->journal, s->pending ? s->replayed : 0);
	}
}

int
state_savepoint(struct state *s, char **cause)
{
	if (sqlite3_get_autocommit(s->db)) {
		set_cause(cause, "%s: a savepoint needs an open transaction",
		    s->path);
		return -1;
	}
	s->sp_mark = s->journal != NULL ? sjournal_count(s->journal) : 0;
	return exec_sql(s, "SAVEPOINT meshd_sp", "cannot set a savepoint",
	    cause);
}

int
state_release(struct state *s, char **cause)
{
	return exec_sql(s, "RELEASE meshd_sp", "cannot release a savepoint",
	    cause);
}

void
state_savepoint_rollback(struct state *s)
{
	exec_sql(s, "ROLLBACK TO meshd_sp", "cannot roll back", NULL);
	exec_sql(s, "RELEASE meshd_sp", "cannot release a savepoint", NULL);
	/* What the part undone recorded is not to be written again. */
	if (s->journal != NULL)
		sjournal_truncate(s->journal, s->sp_mark);
}

/* The busy handler of a connection given state_set_busy_wait(). */
static int
state_busy(void *arg, int count)
{
	struct state	*s = arg;
	int64_t		 waited;
	int		 us;

	if (count == 0) {
		s->busy_start = mono_us();
		s->busy_told = 0;
	}
	waited = (mono_us() - s->busy_start) / 1000;
	if (waited - s->busy_told >= 5000) {
		s->busy_told = waited;
		if (s->busy_fn != NULL && !s->busy_fn(s->busy_arg, waited))
			return 0;
	}
	/* 1 ms, doubling to 100 ms: a short hold costs little latency, a
	 * long one little CPU. */
	us = count < 7 ? 1000 << count : 100000;
	usleep((useconds_t)us);
	return 1;
}

void
state_set_busy_wait(struct state *s, int (*fn)(void *, int64_t waited_ms),
    void *arg)
{
	s->busy_fn = fn;
	s->busy_arg = arg;
	sqlite3_busy_handler(s->db, state_busy, s);
}

void
state_keep_writes(struct state *s)
{
	if (s->journal == NULL)
		s->journal = sjournal_new(s->db);
}

int
state_pending(const struct state *s)
{
	return s->pending;
}

const char *
state_fault(const struct state *s, int64_t *since_us)
{
	if (since_us != NULL)
		*since_us = s->fault_since;
	return s->pending ? s->fault : NULL;
}

int
state_flush(struct state *s, char **cause)
{
	if (!s->pending)
		return 0;
	if (state_begin(s, cause) != 0)
		return 1;
	if (state_commit(s, cause) != 0)
		return -1;
	return s->pending ? 1 : 0;
}

int
state_job_sync(struct state *s, const char *name, const char *domain,
    const char *owner, const char *description, const char *file,
    const char *schedule, int64_t *job_id, char **cause)
{
	static const char	*what = "cannot record job";
	sqlite3_stmt		*st;

	if ((st = stmt_get(s, S_JOB_SYNC, what, cause)) == NULL)
		return -1;
	bind_text(st, 1, name);
	bind_text(st, 2, domain);
	bind_text(st, 3, owner);
	bind_text(st, 4, description);
	bind_text(st, 5, file);
	bind_text(st, 6, schedule);
	sqlite3_bind_int64(st, 7, now_us());
	if (sqlite3_step(st) != SQLITE_ROW)
		return state_fail(s, st, what, cause);
	*job_id = sqlite3_column_int64(st, 0);
	stmt_done(st);
	return 0;
}

int
state_job_find(struct state *s, const char *name, int64_t *job_id,
    char **cause)
{
	static const char	*what = "cannot find job";
	sqlite3_stmt		*st;

	if ((st = stmt_get(s, S_JOB_FIND, what, cause)) == NULL)
		return -1;
	bind_text(st, 1, name);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*job_id = sqlite3_column_int64(st, 0);
		stmt_done(st);
		return 0;
	case SQLITE_DONE:
		stmt_done(st);
		set_cause(cause, "unknown job '%s'", name);
		return -1;
	default:
		return state_fail(s, st, what, cause);
	}
}

int
state_product_sync(struct state *s, const struct state_product *p,
    int64_t *product_id, char **cause)
{
	static const char	*what = "cannot record product";
	sqlite3_stmt		*st;

	if ((st = stmt_get(s, S_PRODUCT_SYNC, what, cause)) == NULL)
		return -1;
	bind_text(st, 1, p->name);
	bind_text(st, 2, p->domain);
	bind_text(st, 3, p->owner);
	bind_text(st, 4, p->description);
	bind_text(st, 5, p->contract_version);
	bind_text(st, 6, p->tags);
	bind_text(st, 7, p->location);
	sqlite3_bind_int64(st, 8, p->freshness_s);
	bind_text(st, 9, p->plugin);
	sqlite3_bind_int64(st, 10, p->job_id);
	if (sqlite3_step(st) != SQLITE_ROW)
		return state_fail(s, st, what, cause);
	*product_id = sqlite3_column_int64(st, 0);
	stmt_done(st);
	return 0;
}

int
state_run_open(struct state *s, int64_t job_id, const char *key,
    int64_t interval_start_us, int64_t interval_end_us, const char *trigger,
    int64_t *run_id, int *created, char **cause)
{
	static const char	*what = "cannot open run";
	sqlite3_stmt		*st;

	/* Insert first: the unique (job, partition) index decides, so even
	 * two writers could not make two runs. */
	if ((st = stmt_get(s, S_RUN_INSERT, what, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, job_id);
	bind_text(st, 2, key);
	sqlite3_bind_int64(st, 3, interval_start_us);
	sqlite3_bind_int64(st, 4, interval_end_us);
	bind_text(st, 5, trigger);
	sqlite3_bind_int64(st, 6, now_us());
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*run_id = sqlite3_column_int64(st, 0);
		*created = 1;
		stmt_done(st);
		return 0;
	case SQLITE_DONE:
		stmt_done(st);
		break;
	default:
		return state_fail(s, st, what, cause);
	}

	if ((st = stmt_get(s, S_RUN_FIND, what, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, job_id);
	bind_text(st, 2, key);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*run_id = sqlite3_column_int64(st, 0);
		*created = 0;
		stmt_done(st);
		return 0;
	case SQLITE_DONE:
		stmt_done(st);
		set_cause(cause, "%s: %s: run of job %lld for '%s' vanished",
		    s->path, what, (long long)job_id, key);
		return -1;
	default:
		return state_fail(s, st, what, cause);
	}
}

int
state_run_set(struct state *s, int64_t run_id, const char *state,
    int64_t started_us, int64_t ended_us, char **cause)
{
	static const char	*what = "cannot update run";
	sqlite3_stmt		*st;

	if ((st = stmt_get(s, S_RUN_SET, what, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	bind_text(st, 2, state);
	sqlite3_bind_int64(st, 3, started_us);
	sqlite3_bind_int64(st, 4, ended_us);
	return stmt_update(s, st, what, "run", run_id, cause);
}

/* Read (id, state, try_number) from a task_instances row. */
static int
ti_row(struct state *s, sqlite3_stmt *st, int64_t *ti_id,
    const char **state, int *try_number, char **cause)
{
	const char	*text = (const char *)sqlite3_column_text(st, 1);
	size_t		 i;

	*ti_id = sqlite3_column_int64(st, 0);
	if (try_number != NULL)
		*try_number = sqlite3_column_int(st, 2);
	if (state != NULL) {
		for (i = 0; i < nitems(ti_states); i++) {
			if (text != NULL && strcmp(text, ti_states[i]) == 0)
				break;
		}
		if (i == nitems(ti_states)) {
			set_cause(cause, "%s: task instance %lld has unknown "
			    "state '%s'", s->path, (long long)*ti_id,
			    text != NULL ? text : "");
			stmt_done(st);
			return -1;
		}
		*state = ti_states[i];
	}
	stmt_done(st);
	return 0;
}

int
state_ti_open(struct state *s, int64_t run_id, const char *task_id,
    const char *stage, int max_tries, int64_t *ti_id, const char **state,
    int *try_number, char **cause)
{
	return state_ti_open_new(s, run_id, task_id, stage, max_tries, ti_id,
	    state, try_number, NULL, cause);
}

int
state_ti_open_new(struct state *s, int64_t run_id, const char *task_id,
    const char *stage, int max_tries, int64_t *ti_id, const char **state,
    int *try_number, int *created, char **cause)
{
	static const char	*what = "cannot open task instance";
	sqlite3_stmt		*st;

	if (created != NULL)
		*created = 0;

	if ((st = stmt_get(s, S_TI_INSERT, what, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	bind_text(st, 2, task_id);
	bind_text(st, 3, stage);
	sqlite3_bind_int(st, 4, max_tries);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		if (created != NULL)
			*created = 1;
		return ti_row(s, st, ti_id, state, try_number, cause);
	case SQLITE_DONE:
		stmt_done(st);
		break;
	default:
		return state_fail(s, st, what, cause);
	}

	if ((st = stmt_get(s, S_TI_FIND, what, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	bind_text(st, 2, task_id);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		return ti_row(s, st, ti_id, state, try_number, cause);
	case SQLITE_DONE:
		stmt_done(st);
		set_cause(cause, "%s: %s: task '%s' of run %lld vanished",
		    s->path, what, task_id, (long long)run_id);
		return -1;
	default:
		return state_fail(s, st, what, cause);
	}
}

int
state_ti_set(struct state *s, int64_t ti_id, const char *state,
    int try_number, const char *reason, int64_t started_us, int64_t ended_us,
    char **cause)
{
	static const char	*what = "cannot update task instance";
	sqlite3_stmt		*st;

	if ((st = stmt_get(s, S_TI_SET, what, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, ti_id);
	bind_text(st, 2, state);
	sqlite3_bind_int(st, 3, try_number);
	bind_text(st, 4, reason);
	sqlite3_bind_int64(st, 5, started_us);
	sqlite3_bind_int64(st, 6, ended_us);
	return stmt_update(s, st, what, "task instance", ti_id, cause);
}

int
state_attempt_start(struct state *s, int64_t ti_id, int try_number,
    int64_t started_us, const char *log_path, int64_t *attempt_id,
    char **cause)
{
	static const char	*what = "cannot record attempt";
	sqlite3_stmt		*st;

	if ((st = stmt_get(s, S_ATTEMPT_START, what, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, ti_id);
	sqlite3_bind_int(st, 2, try_number);
	sqlite3_bind_int64(st, 3, started_us);
	bind_text(st, 4, log_path);
	if (stmt_exec(s, st, what, cause) != 0)
		return -1;
	*attempt_id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
state_attempt_set_pid(struct state *s, int64_t attempt_id, int pid,
    char **cause)
{
	static const char	*what = "cannot update attempt";
	sqlite3_stmt		*st;

	if ((st = stmt_get(s, S_ATTEMPT_PID, what, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, attempt_id);
	sqlite3_bind_int(st, 2, pid);
	return stmt_update(s, st, what, "attempt", attempt_id, cause);
}

int
state_attempt_finish(struct state *s, int64_t attempt_id, const char *state,
    int64_t ended_us, const char *reason, const char *message, char **cause)
{
	return state_attempt_end(s, attempt_id, state, ended_us, reason,
	    message, 0, cause);
}

int
state_attempt_end(struct state *s, int64_t attempt_id, const char *state,
    int64_t ended_us, const char *reason, const char *message, int pid,
    char **cause)
{
	static const char	*what = "cannot finish attempt";
	sqlite3_stmt		*st;

	if ((st = stmt_get(s, S_ATTEMPT_FINISH, what, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, attempt_id);
	bind_text(st, 2, state);
	sqlite3_bind_int64(st, 3, ended_us);
	bind_text(st, 4, reason);
	bind_text(st, 5, message);
	sqlite3_bind_int(st, 6, pid);
	return stmt_update(s, st, what, "attempt", attempt_id, cause);
}

int
state_check_add(struct state *s, int64_t attempt_id, const char *name,
    int severity, int passed, double observed, const char *expectation,
    int64_t recorded_us, char **cause)
{
	static const char	*what = "cannot record check result";
	sqlite3_stmt		*st;

	if ((st = stmt_get(s, S_CHECK_ADD, what, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, attempt_id);
	bind_text(st, 2, name);
	sqlite3_bind_int(st, 3, severity);
	sqlite3_bind_int(st, 4, passed != 0);
	sqlite3_bind_double(st, 5, observed);
	bind_text(st, 6, expectation);
	sqlite3_bind_int64(st, 7, recorded_us);
	return stmt_exec(s, st, what, cause);
}

int
state_metric_set(struct state *s, int64_t attempt_id, const char *name,
    double value, char **cause)
{
	static const char	*what = "cannot record metric";
	sqlite3_stmt		*st;

	if ((st = stmt_get(s, S_METRIC_SET, what, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, attempt_id);
	bind_text(st, 2, name);
	sqlite3_bind_double(st, 3, value);
	return stmt_exec(s, st, what, cause);
}

int
state_partition_set(struct state *s, int64_t product_id,
    const char *partition_key, const char *state, int64_t run_id,
    int64_t attempt_id, int64_t when_us, int64_t rows, char **cause)
{
	static const char	*what = "cannot record partition";
	sqlite3_stmt		*st;

	if ((st = stmt_get(s, S_PARTITION_SET, what, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, product_id);
	bind_text(st, 2, partition_key);
	bind_text(st, 3, state);
	sqlite3_bind_int64(st, 4, run_id);
	sqlite3_bind_int64(st, 5, attempt_id);
	sqlite3_bind_int64(st, 6, when_us);
	sqlite3_bind_int64(st, 7, rows);
	return stmt_exec(s, st, what, cause);
}
