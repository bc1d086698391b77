/*
 * state-backup.c -- the SQL of meshctl db backup and db check (the verbs,
 * their options and output are in cmd-db-backup.c).
 *
 * The backup reads one snapshot of the state: a read transaction is held
 * on the source for the whole copy, so the pages copied in batches all
 * come from one committed state, whatever meshd commits meanwhile (in WAL
 * mode a reader never blocks the writer, and SQLite does not restart a
 * backup whose source connection holds its own read transaction).
 */
#include <string.h>

#include <sqlite3.h>

#include "state-backup.h"
#include "util.h"

/* Pages per backup step: a step holds the destination's lock only. */
#define BACKUP_STEP	1024

/* Rows of a PRAGMA check: "ok" alone means none.  Problems appended to
 * `out` as strings (or objects for foreign_key_check). */
static int
pragma_rows(sqlite3 *db, const char *sql, int fk, json_t *out, char **cause)
{
	sqlite3_stmt	*stmt;
	const char	*v;
	int		 rc;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		set_cause(cause, "%s: %s", sql, sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (fk) {
			json_array_append_new(out, json_pack("{s:s?, s:I, "
			    "s:s?, s:I}", "table", (const char *)
			    sqlite3_column_text(stmt, 0), "rowid",
			    (json_int_t)sqlite3_column_int64(stmt, 1),
			    "parent", (const char *)sqlite3_column_text(stmt,
			    2), "fkid", (json_int_t)sqlite3_column_int64(stmt,
			    3)));
			continue;
		}
		v = (const char *)sqlite3_column_text(stmt, 0);
		if (v == NULL)
			v = "";
		if (strcmp(v, "ok") != 0)
			json_array_append_new(out, json_string(v));
	}
	if (rc != SQLITE_DONE) {
		set_cause(cause, "%s: %s", sql, sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

/* Copy src's main database into dst, one snapshot. */
static int
backup_copy(sqlite3 *src, sqlite3 *dst, int wait_ms, int *pages,
    char **cause)
{
	sqlite3_backup	*b;
	int		 rc, waited = 0;

	if (sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_master",
	    NULL, NULL, NULL) != SQLITE_OK) {
		set_cause(cause, "cannot read the state: %s",
		    sqlite3_errmsg(src));
		sqlite3_exec(src, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if ((b = sqlite3_backup_init(dst, "main", src, "main")) == NULL) {
		set_cause(cause, "cannot start the backup: %s",
		    sqlite3_errmsg(dst));
		sqlite3_exec(src, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	for (;;) {
		rc = sqlite3_backup_step(b, BACKUP_STEP);
		if (rc == SQLITE_DONE)
			break;
		if (rc == SQLITE_OK)
			continue;
		if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) &&
		    waited < wait_ms) {
			sqlite3_sleep(50);
			waited += 50;
			continue;
		}
		break;
	}
	*pages = sqlite3_backup_pagecount(b);
	sqlite3_backup_finish(b);
	sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_DONE) {
		set_cause(cause, "backup failed: %s%s", sqlite3_errstr(rc),
		    rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? " (gave up "
		    "after --timeout)" : "");
		return -1;
	}
	return 0;
}

int
state_backup_file(sqlite3 *src, const char *tmp, int wait_ms, int *pages,
    json_t *probs, int *src_failed, char **cause)
{
	sqlite3	*dst = NULL;
	int	 rc = -1;

	*src_failed = 0;
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		set_cause(cause, "%s", dst != NULL ? sqlite3_errmsg(dst) :
		    "out of memory");
		goto out;
	}
	if (backup_copy(src, dst, wait_ms, pages, cause) != 0) {
		*src_failed = 1;
		goto out;
	}
	/* One self-contained file (meshd makes it WAL again when it opens
	 * it); then is it sound? */
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL,
	    NULL) != SQLITE_OK) {
		set_cause(cause, "%s", sqlite3_errmsg(dst));
		goto out;
	}
	rc = pragma_rows(dst, "PRAGMA integrity_check", 0, probs, cause);
out:
	sqlite3_close(dst);
	return rc;
}

int
state_check_db(sqlite3 *db, json_t *integ, json_t *fks, int *damaged,
    char **cause)
{
	int	err;

	*damaged = 0;
	if (pragma_rows(db, "PRAGMA integrity_check", 0, integ, cause) == 0 &&
	    pragma_rows(db, "PRAGMA foreign_key_check", 1, fks, cause) == 0)
		return 0;
	err = sqlite3_errcode(db);
	if ((*damaged = err == SQLITE_CORRUPT || err == SQLITE_NOTADB)) {
		/* What stopped the check is its finding. */
		json_array_clear(integ);
		json_array_append_new(integ, json_string(sqlite3_errstr(err)));
	}
	return -1;
}

int
state_check_file(const char *path, int timeout_ms, json_t *integ,
    json_t *fks, int *damaged, char **cause)
{
	sqlite3	*db = NULL;
	int	 rc;

	*damaged = 0;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		set_cause(cause, "%s", db != NULL ? sqlite3_errmsg(db) :
		    "out of memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, timeout_ms);
	rc = state_check_db(db, integ, fks, damaged, cause);
	sqlite3_close(db);
	return rc;
}
