/* state-backup.h -- a consistent copy of a state database, and its checks. */
#ifndef MESHD_STATE_BACKUP_H
#define MESHD_STATE_BACKUP_H

#include <jansson.h>

struct sqlite3;

/*
 * Copy `src`'s main database to a new file `tmp` (which must not exist)
 * from one snapshot, waiting out locks for at most wait_ms in all, then
 * make it a single file (journal_mode DELETE) and run integrity_check on
 * it.  0 with *pages set and each problem integrity_check found appended
 * to `probs` (none: the copy is sound); -1 with cause, *src_failed set
 * when it was the source that could not be read (rather than the new
 * file written).  The caller syncs and names the file.
 */
int	state_backup_file(struct sqlite3 *src, const char *tmp, int wait_ms,
	    int *pages, json_t *probs, int *src_failed, char **cause);

/*
 * integrity_check and foreign_key_check of `db`: problems appended to
 * `integ` (strings) and `fks` ({table, rowid, parent, fkid}).  -1 with
 * cause when a check cannot run; *damaged is then set when what stopped it
 * is damage (a corrupt page, not a database), which is what it looks for,
 * and `integ` then holds SQLite's word for it.
 */
int	state_check_db(struct sqlite3 *db, json_t *integ, json_t *fks,
	    int *damaged, char **cause);
/* The same on a file opened as it is (a backup): read only, never
 * created, waiting at most timeout_ms for a lock. */
int	state_check_file(const char *path, int timeout_ms, json_t *integ,
	    json_t *fks, int *damaged, char **cause);

#endif
