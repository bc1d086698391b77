/*
 * cmd-db-backup.c -- meshctl db backup FILE and db check [FILE] (the
 * entry and its help are in cmd-db.c).
 *
 * The backup reads one snapshot of the state: a read transaction is held
 * on the source for the whole copy, so the pages copied in batches all
 * come from one committed state, whatever meshd commits meanwhile (in WAL
 * mode a reader never blocks the writer, and SQLite does not restart a
 * backup whose source connection holds its own read transaction).  The
 * copy goes to FILE.tmp, is switched to a single file (journal_mode
 * DELETE: meshd makes it WAL again when it opens it), checked with
 * integrity_check, synced, and only then named FILE -- by link(), which
 * refuses an existing FILE atomically, or by rename() with --force.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "meshctl.h"

int	cmd_db_backup(struct ctl *, int, char **);
int	cmd_db_check(struct ctl *, int, char **);

/* Pages per backup step: a step holds the destination's lock only. */
#define BACKUP_STEP	1024

/* fsync a file or directory by name; 0 or -1 with errno. */
static int
sync_path(const char *path, int dir)
{
	int	fd, rc;

	if ((fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) |
	    O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static void
unlink_tmp(const char *tmp)
{
	static const char *const sfx[] = { "", "-journal", "-wal", "-shm" };
	char	*p;
	size_t	 i;

	for (i = 0; i < 4; i++) {
		p = xasprintf("%s%s", tmp, sfx[i]);
		unlink(p);
		free(p);
	}
}

/* Rows of a PRAGMA check: "ok" alone means none.  Problems appended to
 * `out` as strings (or objects for foreign_key_check). */
static int
pragma_rows(sqlite3 *db, const char *sql, int fk, json_t *out, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		set_cause(cause, "%s: %s", sql, sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (fk)
			json_array_append_new(out, json_pack("{s:s?, s:I, "
			    "s:s?, s:I}", "table", (const char *)
			    sqlite3_column_text(stmt, 0), "rowid",
			    (json_int_t)sqlite3_column_int64(stmt, 1),
			    "parent", (const char *)sqlite3_column_text(stmt,
			    2), "fkid", (json_int_t)sqlite3_column_int64(stmt,
			    3)));
		else if (strcmp(ctl_col(stmt, 0), "ok") != 0)
			json_array_append_new(out,
			    json_string(ctl_col(stmt, 0)));
	}
	if (rc != SQLITE_DONE) {
		set_cause(cause, "%s: %s", sql, sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

/* Copy src's main database into dst, one snapshot, waiting out locks for
 * at most wait_ms in all. */
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
cmd_db_backup(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct state	*st = NULL;
	sqlite3		*dst = NULL;
	struct stat	 sb, ssb;
	const char	*file;
	char		*tmp = NULL, *cause = NULL, *dcopy;
	json_t		*probs = NULL;
	int		 c, json = 0, force = 0, pages = 0, rc = CTL_EXIT_FAILED;

	while ((c = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_usage(ctl);
		}
	}
	if (argc - optind != 1 || *argv[optind] == '\0')
		return ctl_usage(ctl);
	file = argv[optind];
	if (ctl_config(ctl) == NULL)
		return CTL_EXIT_USAGE;
	if (stat(ctl->cfg->state_db, &ssb) != 0) {
		ctl_error("%s: no state database (%s)", ctl->cfg->state_db,
		    strerror(errno));
		return CTL_EXIT_STATE;
	}
	if (lstat(file, &sb) == 0) {
		if (stat(file, &sb) == 0 && sb.st_dev == ssb.st_dev &&
		    sb.st_ino == ssb.st_ino) {
			ctl_error("%s is the state database itself", file);
			return CTL_EXIT_USAGE;
		}
		if (!force) {
			ctl_error("%s exists: refused (--force replaces it)",
			    file);
			return CTL_EXIT_USAGE;
		}
		if (S_ISDIR(sb.st_mode)) {
			ctl_error("%s is a directory", file);
			return CTL_EXIT_USAGE;
		}
	}
	tmp = xasprintf("%s.tmp", file);
	unlink_tmp(tmp);
	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL) {
		rc = CTL_EXIT_STATE;
		goto out;
	}
	state_set_deadline(st, 0);
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		ctl_error("%s: %s", tmp, dst != NULL ? sqlite3_errmsg(dst) :
		    "out of memory");
		goto out;
	}
	if (backup_copy(state_sqlite(st), dst, ctl->timeout_ms, &pages,
	    &cause) != 0) {
		ctl_error("%s: %s", tmp, cause);
		rc = CTL_EXIT_STATE;
		goto out;
	}
	state_close(st);
	st = NULL;
	/* One self-contained file; then is it sound? */
	probs = json_array();
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    pragma_rows(dst, "PRAGMA integrity_check", 0, probs, &cause) != 0) {
		ctl_error("%s: %s", tmp, cause != NULL ? cause :
		    sqlite3_errmsg(dst));
		goto out;
	}
	if (json_array_size(probs) > 0) {
		ctl_error("%s: the copy fails integrity_check: %s (kept "
		    "there; FILE not written)", tmp,
		    json_string_value(json_array_get(probs, 0)));
		sqlite3_close(dst);
		dst = NULL;
		free(tmp);
		tmp = NULL;	/* kept for inspection */
		goto out;
	}
	sqlite3_close(dst);
	dst = NULL;
	if (sync_path(tmp, 0) != 0) {
		ctl_error("%s: fsync: %s", tmp, strerror(errno));
		goto out;
	}
	if (force) {
		if (rename(tmp, file) != 0) {
			ctl_error("%s: %s", file, strerror(errno));
			goto out;
		}
	} else if (link(tmp, file) != 0) {
		/* Someone made FILE meanwhile, or no hard links here. */
		if (errno == EEXIST) {
			ctl_error("%s exists: refused (--force replaces it)",
			    file);
			goto out;
		}
		if (lstat(file, &sb) == 0 || rename(tmp, file) != 0) {
			ctl_error("%s: %s", file, strerror(errno));
			goto out;
		}
	} else
		unlink(tmp);
	dcopy = xstrdup(file);
	if (sync_path(dirname(dcopy), 1) != 0)
		ctl_error("warning: %s: fsync of its directory: %s", file,
		    strerror(errno));
	free(dcopy);
	free(tmp);
	tmp = NULL;
	if (stat(file, &sb) != 0)
		sb.st_size = 0;
	if (json)
		ctl_json_out(json_pack("{s:s, s:s, s:i, s:I, s:s}", "path",
		    file, "state_db", ctl->cfg->state_db, "pages", pages,
		    "bytes", (json_int_t)sb.st_size, "integrity", "ok"));
	else
		printf("backed up %s to %s: %d pages, %lld bytes, "
		    "integrity_check ok\n", ctl->cfg->state_db, file, pages,
		    (long long)sb.st_size);
	rc = CTL_EXIT_OK;
out:
	free(cause);
	json_decref(probs);
	if (dst != NULL)
		sqlite3_close(dst);
	if (st != NULL)
		state_close(st);
	if (tmp != NULL) {
		unlink_tmp(tmp);
		free(tmp);
	}
	return rc;
}

int
cmd_db_check(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct state	*st = NULL;
	sqlite3		*db = NULL;
	const char	*path;
	char		*cause = NULL;
	json_t		*integ = json_array(), *fks = json_array(), *row;
	size_t		 i;
	int		 c, json = 0, rc = CTL_EXIT_STATE, ok;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			json_decref(integ);
			json_decref(fks);
			return ctl_help(ctl);
		default:
			json_decref(integ);
			json_decref(fks);
			return ctl_usage(ctl);
		}
	}
	if (argc - optind > 1) {
		json_decref(integ);
		json_decref(fks);
		return ctl_usage(ctl);
	}
	if (argc - optind == 1) {
		/* A file given (a backup): opened as it is, read only,
		 * never created. */
		path = argv[optind];
		if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
		    SQLITE_OK) {
			ctl_error("%s: %s", path, db != NULL ?
			    sqlite3_errmsg(db) : "out of memory");
			goto out;
		}
		sqlite3_busy_timeout(db, ctl->timeout_ms);
	} else {
		if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
			goto out;
		state_set_deadline(st, 0);
		path = ctl->cfg->state_db;
	}
	if (pragma_rows(st != NULL ? state_sqlite(st) : db,
	    "PRAGMA integrity_check", 0, integ, &cause) != 0 ||
	    pragma_rows(st != NULL ? state_sqlite(st) : db,
	    "PRAGMA foreign_key_check", 1, fks, &cause) != 0) {
		int err = sqlite3_errcode(st != NULL ? state_sqlite(st) : db);

		ctl_error("%s: %s", path, cause);
		free(cause);
		/* Damage that stops the check itself is what it looks for:
		 * the check failed, the state was reachable. */
		if (err == SQLITE_CORRUPT || err == SQLITE_NOTADB) {
			rc = CTL_EXIT_FAILED;
			if (json)
				ctl_json_out(json_pack("{s:s, s:b, s:[s], "
				    "s:O}", "path", path, "ok", 0,
				    "integrity", sqlite3_errstr(err),
				    "foreign_keys", fks));
		}
		goto out;
	}
	ok = json_array_size(integ) == 0 && json_array_size(fks) == 0;
	rc = ok ? CTL_EXIT_OK : CTL_EXIT_FAILED;
	if (json) {
		ctl_json_out(json_pack("{s:s, s:b, s:O, s:O}", "path", path,
		    "ok", ok, "integrity", integ, "foreign_keys", fks));
		goto out;
	}
	json_array_foreach(integ, i, row)
		printf("%s: integrity: %s\n", path, json_string_value(row));
	json_array_foreach(fks, i, row)
		printf("%s: foreign key: %s row %lld names a missing %s row "
		    "(constraint %lld)\n", path, json_string_value(
		    json_object_get(row, "table")), (long long)
		    json_integer_value(json_object_get(row, "rowid")),
		    json_string_value(json_object_get(row, "parent")),
		    (long long)json_integer_value(json_object_get(row,
		    "fkid")));
	if (ok)
		printf("%s: integrity_check ok, foreign_key_check ok\n", path);
	else
		fprintf(stderr, "meshctl: %s: %zu integrity problem%s, %zu "
		    "foreign key violation%s\n", path, json_array_size(integ),
		    json_array_size(integ) == 1 ? "" : "s",
		    json_array_size(fks), json_array_size(fks) == 1 ? "" : "s");
out:
	json_decref(integ);
	json_decref(fks);
	if (db != NULL)
		sqlite3_close(db);
	if (st != NULL)
		state_close(st);
	return rc;
}
