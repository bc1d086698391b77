/* state-journal.c -- record a transaction's writes so it can be redone. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "state-journal.h"
#include "util.h"

struct sjournal {
	sqlite3	 *db;
	char	**sql;		/* sqlite3_malloc'd, expanded */
	size_t	  n, cap, bytes;
	int	  off;		/* not recording (while replaying old) */
	int	  broken;	/* a statement could not be recorded */
};

static int
sjournal_trace(unsigned type, void *arg, void *p, void *x)
{
	struct sjournal	*j = arg;
	sqlite3_stmt	*st = p;
	const char	*text = x;
	char		*sql;

	if (type != SQLITE_TRACE_STMT || j->off)
		return 0;
	/* Reads, BEGIN/COMMIT/ROLLBACK (read-only to SQLite), statements
	 * outside a transaction (the caller sees their errors at once) and
	 * the statements of triggers (their parent is recorded) are not
	 * kept. */
	if (sqlite3_stmt_readonly(st) || sqlite3_get_autocommit(j->db) ||
	    (text != NULL && strncmp(text, "--", 2) == 0))
		return 0;
	if ((sql = sqlite3_expanded_sql(st)) == NULL) {
		/* Out of memory, or a statement too long to expand: this
		 * transaction cannot be redone, and says so. */
		j->broken = 1;
		return 0;
	}
	if (j->n == j->cap) {
		j->cap = j->cap == 0 ? 64 : j->cap * 2;
		j->sql = xreallocarray(j->sql, j->cap, sizeof *j->sql);
	}
	j->sql[j->n++] = sql;
	j->bytes += strlen(sql);
	return 0;
}

struct sjournal *
sjournal_new(sqlite3 *db)
{
	struct sjournal	*j = xcalloc(1, sizeof *j);

	j->db = db;
	sqlite3_trace_v2(db, SQLITE_TRACE_STMT, sjournal_trace, j);
	return j;
}

void
sjournal_clear(struct sjournal *j)
{
	size_t	i;

	for (i = 0; i < j->n; i++)
		sqlite3_free(j->sql[i]);
	j->n = 0;
	j->bytes = 0;
	j->broken = 0;
}

void
sjournal_truncate(struct sjournal *j, size_t n)
{
	while (j->n > n) {
		j->n--;
		j->bytes -= strlen(j->sql[j->n]);
		sqlite3_free(j->sql[j->n]);
	}
	if (n == 0)
		j->broken = 0;
}

void
sjournal_free(struct sjournal *j)
{
	if (j == NULL)
		return;
	sqlite3_trace_v2(j->db, 0, NULL, NULL);
	sjournal_clear(j);
	free(j->sql);
	free(j);
}

size_t
sjournal_count(const struct sjournal *j)
{
	return j->n;
}

int
sjournal_broken(const struct sjournal *j)
{
	return j->broken;
}

size_t
sjournal_bytes(const struct sjournal *j)
{
	return j->bytes;
}

int
sjournal_replay(struct sjournal *j, const char **failed_sql)
{
	char	**old = j->sql;
	size_t	  n = j->n, i;
	int	  rc = SQLITE_OK;

	/* Take the old list; the statements record themselves into a new
	 * one as they run. */
	j->sql = NULL;
	j->n = j->cap = j->bytes = 0;
	for (i = 0; i < n && rc == SQLITE_OK; i++)
		rc = sqlite3_exec(j->db, old[i], NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		/* Keep the whole old journal: the transaction is rolled back
		 * by the caller, so nothing of it was written. */
		sjournal_clear(j);
		free(j->sql);
		j->sql = old;
		j->n = j->cap = n;
		for (i = 0; i < n; i++)
			j->bytes += strlen(old[i]);
		if (failed_sql != NULL)
			*failed_sql = old[i - 1];
		return rc;
	}
	for (i = 0; i < n; i++)
		sqlite3_free(old[i]);
	free(old);
	return SQLITE_OK;
}
