/*
 * state-journal.h -- the write-behind journal of the daemon's connection.
 *
 * Internal to state.c.  While a transaction is open, every statement that
 * writes is recorded as SQL text with its bound values expanded
 * (sqlite3_expanded_sql() from an SQLITE_TRACE_STMT callback).  SQLite
 * rolls a transaction back when its COMMIT fails on a full disk or an I/O
 * error; the journal keeps what that transaction said, so that it can be
 * written again, whole, once the disk has room.  Meanwhile the daemon's
 * memory already holds the outcome, and nothing is lost unless the
 * process dies -- exactly as for results not yet committed.
 */
#ifndef MESHD_STATE_JOURNAL_H
#define MESHD_STATE_JOURNAL_H

#include <stddef.h>

struct sqlite3;
struct sjournal;

/* Start recording on `db`.  Never fails (aborts on OOM). */
struct sjournal	*sjournal_new(struct sqlite3 *db);
void		 sjournal_free(struct sjournal *);
/* Forget what the open transaction recorded (it committed or was rolled
 * back on purpose). */
void		 sjournal_clear(struct sjournal *);
/* Keep only the first n statements. */
void		 sjournal_truncate(struct sjournal *, size_t n);
/* Statements recorded since the last clear. */
size_t		 sjournal_count(const struct sjournal *);
/* Could a statement not be recorded (the journal cannot redo it)? */
int		 sjournal_broken(const struct sjournal *);
/* Bytes of SQL held. */
size_t		 sjournal_bytes(const struct sjournal *);
/*
 * Run the recorded statements again on the connection, inside a
 * transaction the caller opened; they are recorded afresh as they run
 * (so a journal survives a second failure).  0, or an SQLite result code
 * with *failed_sql pointing at the statement that failed (owned by the
 * journal, valid until the next call).
 */
int		 sjournal_replay(struct sjournal *, const char **failed_sql);

#endif
