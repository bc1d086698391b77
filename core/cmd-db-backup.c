/*
 * cmd-db-backup.c -- meshctl db backup FILE and db check [FILE] (the
 * entry and its help are in cmd-db.c; the SQL in state-backup.c).
 *
 * The copy goes to FILE.tmp, one snapshot, switched to a single file and
 * checked with integrity_check (state_backup_file()), then synced, and
 * only then named FILE -- by link(), which refuses an existing FILE
 * atomically, or by rename() with --force.
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

#include "meshctl.h"
#include "state-backup.h"

int	cmd_db_backup(struct ctl *, int, char **);
int	cmd_db_check(struct ctl *, int, char **);

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
	struct stat	 sb, ssb;
	const char	*file;
	char		*tmp = NULL, *cause = NULL, *dcopy;
	json_t		*probs = NULL;
	int		 c, json = 0, force = 0, pages = 0, src_failed;
	int		 rc = CTL_EXIT_FAILED;

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
	probs = json_array();
	if (state_backup_file(state_sqlite(st), tmp, ctl->timeout_ms, &pages,
	    probs, &src_failed, &cause) != 0) {
		ctl_error("%s: %s", tmp, cause);
		if (src_failed)
			rc = CTL_EXIT_STATE;
		goto out;
	}
	state_close(st);
	st = NULL;
	if (json_array_size(probs) > 0) {
		ctl_error("%s: the copy fails integrity_check: %s (kept "
		    "there; FILE not written)", tmp,
		    json_string_value(json_array_get(probs, 0)));
		free(tmp);
		tmp = NULL;	/* kept for inspection */
		goto out;
	}
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
	const char	*path;
	char		*cause = NULL;
	json_t		*integ = json_array(), *fks = json_array(), *row;
	size_t		 i;
	int		 c, json = 0, rc = CTL_EXIT_STATE, ok, damaged, r;

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
		/* A file given (a backup): opened as it is. */
		path = argv[optind];
		r = state_check_file(path, ctl->timeout_ms, integ, fks,
		    &damaged, &cause);
	} else {
		if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
			goto out;
		state_set_deadline(st, 0);
		path = ctl->cfg->state_db;
		r = state_check_db(state_sqlite(st), integ, fks, &damaged,
		    &cause);
	}
	if (r != 0) {
		ctl_error("%s: %s", path, cause);
		free(cause);
		/* Damage that stops the check itself is what it looks for:
		 * the check failed, the state was reachable. */
		if (damaged) {
			rc = CTL_EXIT_FAILED;
			if (json)
				ctl_json_out(json_pack("{s:s, s:b, s:O, s:O}",
				    "path", path, "ok", 0, "integrity", integ,
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
	if (st != NULL)
		state_close(st);
	return rc;
}
