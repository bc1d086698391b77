/*
 * lineage-pos.c -- the deliverer's position outside the state database,
 * and meshd folding it into lineage_sinks (lineage-int.h says why).
 *
 * The position file is never fsync'ed, and need not be: it only ever
 * says less than the sink has.  The file sink is fsync'ed before the
 * position is written, and on a restart the file's own last line (checked
 * against the outbox) says how far it really is; an HTTP sink is
 * at-least-once.  A position lost to a power cut is therefore behind,
 * never ahead; one torn or corrupt fails its hash and is ignored, and the
 * deliverer starts from lineage_sinks (and the file's last line).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "config.h"
#include "lineage-int.h"
#include "state.h"
#include "util.h"

#define POS_MAGIC	"meshd-lineage-pos 1 "
/* A record longer than this (a very long URL) is not kept: the
 * deliverer then starts from lineage_sinks, as without a file. */
#define POS_MAX		8192

int
lineage_db_fail(struct state *st, char **cause, const char *what)
{
	set_cause(cause, "lineage: %s: %s", what,
	    sqlite3_errmsg(state_sqlite(st)));
	return -1;
}

char *
lineage_pos_path(const char *state_db)
{
	return xasprintf("%s.lineage-pos", state_db);
}

char *
lineage_sink_name(const struct meshd_config *cfg)
{
	if (cfg->lineage_sink == LINEAGE_SINK_HTTP)
		return xstrdup(cfg->lineage_url);
	return xasprintf("file:%s", cfg->lineage_path);
}

static uint64_t
pos_hash(int64_t seq, int64_t created, const char *name)
{
	char		 buf[64];
	uint64_t	 h = 0xcbf29ce484222325ULL;
	const char	*s;
	int		 i;

	snprintf(buf, sizeof buf, "%" PRId64 " %" PRId64 " ", seq, created);
	for (i = 0; i < 2; i++)
		for (s = i == 0 ? buf : name; *s != '\0'; s++)
			h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

int
lineage_pos_read(int fd, const char *path, const char *name,
    struct lineage_pos *pos)
{
	char		*buf, *nl, *p, *end;
	ssize_t		 n;
	int64_t		 seq, created;
	uint64_t	 h;
	int		 own = 0, ok = 0;

	if (fd == -1) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			return 0;
		own = 1;
	}
	buf = xmalloc(POS_MAX + 1);
	n = pread(fd, buf, POS_MAX, 0);
	if (own)
		close(fd);
	if (n <= 0)
		goto out;
	buf[n] = '\0';
	if ((nl = memchr(buf, '\n', (size_t)n)) == NULL ||
	    strncmp(buf, POS_MAGIC, strlen(POS_MAGIC)) != 0)
		goto out;
	*nl = '\0';
	p = buf + strlen(POS_MAGIC);
	errno = 0;
	seq = strtoll(p, &end, 10);
	if (end == p || *end != ' ' || errno != 0 || seq < 0)
		goto out;
	p = end + 1;
	created = strtoll(p, &end, 10);
	if (end == p || *end != ' ' || errno != 0)
		goto out;
	p = end + 1;
	h = strtoull(p, &end, 16);
	if (end == p || *end != ' ' || errno != 0)
		goto out;
	p = end + 1;
	if (strcmp(p, name) != 0 || h != pos_hash(seq, created, p))
		goto out;
	pos->seq = seq;
	pos->created_us = created;
	ok = 1;
out:
	free(buf);
	return ok;
}

int
lineage_pos_write(int fd, const char *name, const struct lineage_pos *pos)
{
	char	*rec;
	size_t	 len;
	ssize_t	 n;

	rec = xasprintf(POS_MAGIC "%" PRId64 " %" PRId64 " %016" PRIx64
	    " %s\n", pos->seq, pos->created_us, pos_hash(pos->seq,
	    pos->created_us, name), name);
	len = strlen(rec);
	if (len > POS_MAX) {
		free(rec);
		errno = ENAMETOOLONG;
		return -1;
	}
	/* One pwrite of one record: a reader sees the old or the new one
	 * (or, on a torn read, a bad hash and tries again later). */
	n = pwrite(fd, rec, len, 0);
	free(rec);
	if (n != (ssize_t)len) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

int
lineage_fold(struct state *st, const char *name,
    const struct lineage_pos *pos, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	/* The event must be this outbox's, as the deliverer saw it: a
	 * position from an older database at the same path, or one ahead
	 * of the outbox, would skip events never delivered. */
	if ((stmt = state_prepare(st, "INSERT INTO lineage_sinks (name, "
	    "acked_seq) SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM "
	    "lineage_outbox WHERE seq = ?2 AND created_us = ?3) ON CONFLICT "
	    "(name) DO UPDATE SET acked_seq = excluded.acked_seq WHERE "
	    "acked_seq < excluded.acked_seq")) == NULL)
		return lineage_db_fail(st, cause, "sink");
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, pos->seq);
	sqlite3_bind_int64(stmt, 3, pos->created_us);
	rc = sqlite3_step(stmt);
	state_stmt_done(stmt);
	if (rc != SQLITE_DONE)
		return lineage_db_fail(st, cause, "sink");
	return 0;
}

int
lineage_prune(struct state *st, const struct meshd_config *cfg,
    const char *name, char **cause)
{
	sqlite3_stmt	*stmt;
	int64_t		 cutoff = now_us() - (int64_t)cfg->lineage_keep_s *
			    1000000;
	int		 rc;

	/* Usually nothing is old enough: one look at the oldest row says
	 * so (meshd asks ten times a second). */
	if ((stmt = state_prepare(st, "SELECT created_us FROM lineage_outbox "
	    "ORDER BY seq LIMIT 1")) == NULL)
		return lineage_db_fail(st, cause, "retention");
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && sqlite3_column_int64(stmt, 0) >= cutoff)
		rc = SQLITE_DONE;
	state_stmt_done(stmt);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 :
		    lineage_db_fail(st, cause, "retention");

	/* The oldest acknowledged rows, of which those past keep go: the
	 * scan is bounded by the batch, not by the rows kept (seq follows
	 * created_us, so when the oldest are too young, all are). */
	if ((stmt = state_prepare(st, "DELETE FROM lineage_outbox WHERE seq "
	    "IN (SELECT seq FROM lineage_outbox WHERE seq <= coalesce(("
	    "SELECT acked_seq FROM lineage_sinks WHERE name = ?1), 0) ORDER "
	    "BY seq LIMIT ?3) AND created_us < ?2")) == NULL)
		return lineage_db_fail(st, cause, "retention");
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, cutoff);
	sqlite3_bind_int(stmt, 3, LINEAGE_PRUNE_BATCH);
	rc = sqlite3_step(stmt);
	state_stmt_done(stmt);
	if (rc != SQLITE_DONE)
		return lineage_db_fail(st, cause, "retention");
	return 0;
}

int
lineage_fold_file(struct state *st, const struct meshd_config *cfg,
    int force, char **cause)
{
	static int64_t		 last;
	struct lineage_pos	 pos;
	char			*name, *path;
	int64_t			 now = mono_us();
	int			 rc = 0;

	if (cfg->lineage_sink == LINEAGE_SINK_NONE)
		return 0;
	if (!force && last != 0 && now - last < LINEAGE_FOLD_US)
		return 0;
	last = now;
	name = lineage_sink_name(cfg);
	path = lineage_pos_path(cfg->state_db);
	if (lineage_pos_read(-1, path, name, &pos))
		rc = lineage_fold(st, name, &pos, cause);
	if (rc == 0)
		rc = lineage_prune(st, cfg, name, cause);
	free(path);
	free(name);
	return rc;
}
