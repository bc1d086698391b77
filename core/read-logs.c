/*
 * read-logs.c -- logs: a chunk of the log of one attempt of a task.
 *
 * A log can be gigabytes and can still be growing, so the question
 * returns one chunk: at most limit_bytes bytes from offset= (or, without
 * it, the end of the log: its last tail= lines, or its last limit_bytes
 * bytes from the start of a line), and next_offset, where the next chunk
 * starts.  Reading a chunk costs the chunk: a few indexed lookups, one
 * fstat and reads of that part of the file.
 *
 * Following a log is asking again with offset=next_offset until "done":
 * the attempt has ended and the chunk reached the end of its log.
 * Without attempt= the question is about the latest attempt, so a
 * follower pins attempt= to the document's "attempt" once it has one;
 * when that attempt is done and "task_done" is false (a retry will
 * come), it asks for attempt + 1 from offset 0, which is "waiting":
 * "attempt" until the retry starts.  A document for something that is
 * not there yet (a run a pending request will create, a task the run
 * has not reached, an attempt not started) says so in "waiting" instead
 * of failing, so that a follower can wait for it.
 *
 * The text is UTF-8: a byte that is not part of a valid sequence becomes
 * U+FFFD, so that any log makes valid JSON; a sequence cut by the end
 * of a chunk is left for the next one (next_offset counts bytes of the
 * file, not of the text).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "job.h"
#include "read-int.h"
#include "state.h"
#include "util.h"

/* What one question returns at most, and by default. */
#define READ_LOGS_LIMIT_DEFAULT	(1024 * 1024)
#define READ_LOGS_LIMIT_MAX	(16 * 1024 * 1024)

const struct read_param read_logs_params[] = {
	{ "job", "string", 1, "the job" },
	{ "partition", "string", 1, "the run's partition key" },
	{ "task", "string", 1, "the task" },
	{ "attempt", "integer", 0, "the try number (1 is the first; default "
	    "the latest)" },
	{ "offset", "integer", 0, "from this byte of the log on (a "
	    "follower passes the last next_offset)" },
	{ "tail", "integer", 0, "without offset: the last N lines (within "
	    "limit_bytes of the end)" },
	{ "limit_bytes", "integer", 0, "at most N bytes of the log (default "
	    "1048576, at most 16777216)" },
	{ NULL, NULL, 0, NULL }
};

#define READ_LOGS_NSTR	"{\"type\":[\"string\",\"null\"]}"
#define READ_LOGS_NINT	"{\"type\":[\"integer\",\"null\"]}"

const char read_logs_schema[] =
	"{\"type\":\"object\",\"required\":[\"job\",\"partition\",\"task\","
	"\"run_id\",\"run_state\",\"task_state\",\"task_done\",\"waiting\","
	"\"attempt\",\"attempt_id\",\"state\",\"started_us\",\"ended_us\","
	"\"started_local\",\"ended_local\",\"path\",\"log_error\",\"size\","
	"\"offset\",\"next_offset\",\"text\",\"eof\",\"done\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"job\":{\"type\":\"string\"},"
	"\"partition\":{\"type\":\"string\"},"
	"\"task\":{\"type\":\"string\"},"
	"\"run_id\":" READ_LOGS_NINT ","
	"\"run_state\":" READ_LOGS_NSTR ","
	"\"task_state\":" READ_LOGS_NSTR ","
	"\"task_done\":{\"type\":\"boolean\"},"
	"\"waiting\":{\"enum\":[null,\"run\",\"task\",\"attempt\"]},"
	"\"attempt\":" READ_LOGS_NINT ","
	"\"attempt_id\":" READ_LOGS_NINT ","
	"\"state\":{\"enum\":[null,\"running\",\"success\",\"failed\","
	"\"retry\",\"skipped\"]},"
	"\"started_us\":{\"type\":\"integer\"},"
	"\"ended_us\":{\"type\":\"integer\"},"
	"\"started_local\":{\"type\":\"string\"},"
	"\"ended_local\":{\"type\":\"string\"},"
	"\"path\":" READ_LOGS_NSTR ","
	"\"log_error\":" READ_LOGS_NSTR ","
	"\"size\":{\"type\":\"integer\",\"minimum\":0},"
	"\"offset\":{\"type\":\"integer\",\"minimum\":0},"
	"\"next_offset\":{\"type\":\"integer\",\"minimum\":0},"
	"\"text\":{\"type\":\"string\"},"
	"\"eof\":{\"type\":\"boolean\"},"
	"\"done\":{\"type\":\"boolean\"}}}";

/* Which part of the log is asked for. */
struct read_logs_window {
	int64_t	offset;		/* -1: the end of the log */
	int64_t	tail;		/* 0: not asked */
	int64_t	limit;
};

/* Whether a task instance state is final: no attempt will come. */
static int
read_logs_ti_final(const char *state)
{
	return strcmp(state, "success") == 0 || strcmp(state, "skipped") == 0 ||
	    strcmp(state, "failed") == 0 ||
	    strcmp(state, "upstream_failed") == 0 ||
	    strcmp(state, "cancelled") == 0;
}

/*
 * Where the window starts in a log of `size` bytes open on fd.  Without
 * an offset it ends at the end of the log and starts at a line's start:
 * the last `tail` lines, or the last `limit` bytes less the line they
 * cut (unless one line fills them).  Reads at most `limit` bytes.
 */
static int64_t
read_logs_start(const struct read_logs_window *w, int fd, int64_t size)
{
	char	buf[65536];
	int64_t	floor, pos, lines = 0;
	ssize_t	n, i;
	size_t	len;

	if (w->offset >= 0)
		return w->offset < size ? w->offset : size;
	floor = size <= w->limit ? 0 : size - w->limit;
	if (w->tail > 0) {
		/* Count line ends back from the end; the one that ends the
		 * file ends the last line, it does not start one. */
		pos = size;
		while (pos > floor) {
			len = (size_t)(pos - floor < (int64_t)sizeof buf ?
			    pos - floor : (int64_t)sizeof buf);
			pos -= (int64_t)len;
			n = pread(fd, buf, len, (off_t)pos);
			if (n != (ssize_t)len)
				break;
			for (i = n - 1; i >= 0; i--) {
				if (buf[i] != '\n' || pos + i == size - 1)
					continue;
				if (++lines == w->tail)
					return pos + i + 1;
			}
		}
	}
	if (floor == 0)
		return 0;
	/* Cut by bytes: start with the first whole line. */
	pos = floor - 1;
	while (pos < size - 1) {
		if ((n = pread(fd, buf, sizeof buf, (off_t)pos)) <= 0)
			break;
		for (i = 0; i < n && pos + i < size - 1; i++)
			if (buf[i] == '\n')
				return pos + i + 1;
		pos += n;
	}
	return floor;
}

/*
 * The length of the valid UTF-8 sequence at s[0..len), 0 if s[0] does
 * not start one, or -1 if s is a valid but incomplete start of one.
 */
static int
read_logs_utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		need, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* no overlong forms */
		else if (s[0] == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* nothing past U+10FFFF */
	} else
		return 0;
	for (i = 1; i < need; i++) {
		if (i >= len)
			return -1;
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
			return 0;
	}
	return (int)need;
}

/*
 * s[0..*len) as valid UTF-8, a new string: each byte that starts no
 * valid sequence becomes U+FFFD.  Unless `whole`, an incomplete sequence
 * at the end is left out (*len is shortened), so that the next chunk
 * reads it whole; but never all of a chunk, which would stop a reader.
 */
static char *
read_logs_utf8(const char *s, size_t *len, int whole, size_t *outlen)
{
	const unsigned char *u = (const unsigned char *)s;
	char		*out;
	size_t		 i = 0, o = 0;
	int		 n;

	out = xmalloc(*len * 3 + 1);
	while (i < *len) {
		n = read_logs_utf8_seq(u + i, *len - i);
		if (n == -1 && !whole && i > 0) {
			*len = i;
			break;
		}
		if (n <= 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, (size_t)n);
		o += (size_t)n;
		i += (size_t)n;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/*
 * Read the window w of the log at `path` into doc (size, offset,
 * next_offset, text, eof).  `ended`: the attempt has ended, so the log
 * will not grow and a cut sequence at its end is invalid, not early.
 */
static void
read_logs_chunk(json_t *doc, const char *path, const struct read_logs_window *w,
    int ended)
{
	struct stat	 sb;
	char		*buf = NULL, *text;
	size_t		 want, got = 0, tlen;
	int64_t		 size, start, end;
	ssize_t		 n;
	int		 fd, eof;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT) {
		/* The worker names the log at the first byte of output:
		 * none (yet) reads as empty. */
		json_object_set_new(doc, "size", json_integer(0));
		json_object_set_new(doc, "offset", json_integer(0));
		json_object_set_new(doc, "next_offset", json_integer(0));
		json_object_set_new(doc, "text", json_string(""));
		json_object_set_new(doc, "eof", json_true());
		return;
	}
	if (fd == -1 || fstat(fd, &sb) == -1) {
		json_object_set_new(doc, "log_error",
		    json_string(strerror(errno)));
		if (fd != -1)
			close(fd);
		/* A follower asks again from where it was. */
		json_object_set_new(doc, "offset",
		    json_integer(w->offset > 0 ? w->offset : 0));
		json_object_set_new(doc, "next_offset",
		    json_integer(w->offset > 0 ? w->offset : 0));
		return;
	}
	size = (int64_t)sb.st_size;
	start = read_logs_start(w, fd, size);
	end = size - start <= w->limit ? size : start + w->limit;
	want = (size_t)(end - start);
	buf = xmalloc(want + 1);
	while (got < want) {
		n = pread(fd, buf + got, want - got, (off_t)(start +
		    (int64_t)got));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	/* A file cut short under us ends where the read ended. */
	eof = start + (int64_t)got >= size;
	text = read_logs_utf8(buf, &got, ended && eof, &tlen);
	free(buf);
	json_object_set_new(doc, "size", json_integer(size));
	json_object_set_new(doc, "offset", json_integer(start));
	json_object_set_new(doc, "next_offset",
	    json_integer(start + (int64_t)got));
	json_object_set_new(doc, "text", json_stringn(text, tlen));
	json_object_set_new(doc, "eof", json_boolean(eof));
	free(text);
}

/* The arguments, checked before anything is read. */
static int
read_logs_args(const struct read_args *args, int64_t *attempt,
    struct read_logs_window *w, struct read_error *err)
{
	if (read_arg_int(args, "attempt", 1, 1000000, 0, attempt, err) != 0 ||
	    read_arg_int(args, "offset", 0, INT64_MAX, -1, &w->offset,
	    err) != 0 ||
	    read_arg_int(args, "tail", 1, 100000000, 0, &w->tail, err) != 0 ||
	    read_arg_int(args, "limit_bytes", 1, READ_LOGS_LIMIT_MAX,
	    READ_LOGS_LIMIT_DEFAULT, &w->limit, err) != 0)
		return -1;
	if (w->tail > 0 && w->offset >= 0) {
		read_fail(err, 400, "tail: tail and offset do not go "
		    "together");
		return -1;
	}
	return 0;
}

/*
 * Step `stmt` for one row: 1 with it, 0 for none (the statement is then
 * reset), -1 with a 503 error.
 */
static int
read_logs_row(struct read_ctx *ctx, sqlite3_stmt *stmt, struct read_error *err)
{
	int	rc = sqlite3_step(stmt);

	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(stmt);
	if (rc == SQLITE_DONE)
		return 0;
	read_fail_state(err, ctx->st);
	return -1;
}

/*
 * Find run, task instance and attempt into doc.  Returns 1 with the
 * attempt's log path in *path (borrowed from doc) when there is an
 * attempt, 0 when the document is complete without one, -1 on error.
 */
static int
read_logs_find(struct read_ctx *ctx, const struct read_args *args,
    int64_t want, json_t *doc, const char **path, struct read_error *err)
{
	const char	*name = read_arg(args, "job");
	const char	*key = read_arg(args, "partition");
	const char	*task = read_arg(args, "task");
	const struct job_def *def;
	sqlite3		*db;
	sqlite3_stmt	*stmt = NULL;
	int64_t		 job_id, run_id, ti_id;
	char		 a[64], b[64], *sql, run_state[16], ti_state[32];
	int		 r, rc = -1;

	if (read_job(ctx, name, &job_id, &def, err) != 0)
		return -1;
	db = state_sqlite(ctx->st);
	r = 0;
	if (job_id != 0) {
		if (sqlite3_prepare_v2(db, "SELECT id, state FROM runs WHERE "
		    "job_id = ?1 AND partition_key = ?2", -1, &stmt,
		    NULL) != SQLITE_OK)
			goto sqlfail;
		sqlite3_bind_int64(stmt, 1, job_id);
		sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
		if ((r = read_logs_row(ctx, stmt, err)) == -1)
			goto out;
	}
	if (r == 0) {
		/* A trigger made while meshd is down is a run to come. */
		sqlite3_finalize(stmt);
		if (sqlite3_prepare_v2(db, "SELECT 1 FROM requests WHERE "
		    "state = 'pending' AND job = ?1 LIMIT 1", -1, &stmt,
		    NULL) != SQLITE_OK)
			goto sqlfail;
		sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
		if ((r = read_logs_row(ctx, stmt, err)) == -1)
			goto out;
		if (r == 0) {
			read_fail(err, 404, "job '%s' has no run for partition "
			    "'%s' (see 'meshctl runs %s')", name, key, name);
			goto out;
		}
		json_object_set_new(doc, "waiting", json_string("run"));
		rc = 0;
		goto out;
	}
	run_id = sqlite3_column_int64(stmt, 0);
	snprintf(run_state, sizeof run_state, "%s", read_col(stmt, 1));
	json_object_set_new(doc, "run_id", json_integer(run_id));
	json_object_set_new(doc, "run_state", json_string(run_state));
	sqlite3_finalize(stmt);
	if (sqlite3_prepare_v2(db, "SELECT id, state FROM task_instances "
	    "WHERE run_id = ?1 AND task_id = ?2", -1, &stmt, NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_int64(stmt, 1, run_id);
	sqlite3_bind_text(stmt, 2, task, -1, SQLITE_STATIC);
	if ((r = read_logs_row(ctx, stmt, err)) == -1)
		goto out;
	if (r == 0) {
		if (def != NULL && job_task_index(def, task) == -1)
			read_fail(err, 404, "job '%s' has no task '%s'", name,
			    task);
		else if (strcmp(run_state, "queued") != 0 &&
		    strcmp(run_state, "running") != 0)
			read_fail(err, 404, "task '%s' of %s %s was never "
			    "scheduled in this run", task, name, key);
		else {
			/* meshd creates a run's task instances when it
			 * starts the run. */
			json_object_set_new(doc, "waiting",
			    json_string("task"));
			rc = 0;
		}
		goto out;
	}
	ti_id = sqlite3_column_int64(stmt, 0);
	snprintf(ti_state, sizeof ti_state, "%s", read_col(stmt, 1));
	json_object_set_new(doc, "task_state", json_string(ti_state));
	json_object_set_new(doc, "task_done",
	    json_boolean(read_logs_ti_final(ti_state)));
	sqlite3_finalize(stmt);
	sql = xasprintf("SELECT id, try_number, state, log_path, started_us, "
	    "ended_us FROM attempts WHERE task_instance_id = ?1%s "
	    "ORDER BY try_number DESC, id DESC LIMIT 1",
	    want != 0 ? " AND try_number = ?2" : "");
	r = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
	free(sql);
	if (r != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_int64(stmt, 1, ti_id);
	if (want != 0)
		sqlite3_bind_int64(stmt, 2, want);
	if ((r = read_logs_row(ctx, stmt, err)) == -1)
		goto out;
	if (r == 0) {
		/* Not started yet, or never will be: done says which. */
		if (!read_logs_ti_final(ti_state))
			json_object_set_new(doc, "waiting",
			    json_string("attempt"));
		else
			json_object_set_new(doc, "done", json_true());
		rc = 0;
		goto out;
	}
	json_object_set_new(doc, "attempt_id",
	    json_integer(sqlite3_column_int64(stmt, 0)));
	json_object_set_new(doc, "attempt",
	    json_integer(sqlite3_column_int(stmt, 1)));
	json_object_set_new(doc, "state", json_string(read_col(stmt, 2)));
	json_object_set_new(doc, "path", read_col_json(stmt, 3));
	json_object_set_new(doc, "started_us",
	    json_integer(sqlite3_column_int64(stmt, 4)));
	json_object_set_new(doc, "ended_us",
	    json_integer(sqlite3_column_int64(stmt, 5)));
	json_object_set_new(doc, "started_local", json_string(read_time_local(
	    ctx->utc, def, sqlite3_column_int64(stmt, 4), a, sizeof a)));
	json_object_set_new(doc, "ended_local", json_string(read_time_local(
	    ctx->utc, def, sqlite3_column_int64(stmt, 5), b, sizeof b)));
	*path = json_string_value(json_object_get(doc, "path"));
	rc = 1;
	goto out;
sqlfail:
	read_fail_state(err, ctx->st);
out:
	sqlite3_finalize(stmt);
	return rc;
}

json_t *
read_logs(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	struct read_logs_window w;
	const char	*path = NULL;
	int64_t		 want;
	json_t		*doc;
	int		 ended, r;

	if (read_logs_args(args, &want, &w, err) != 0)
		return NULL;
	if (read_need_state(ctx, err) != 0)
		return NULL;
	/* Every member, so that the document always has one shape. */
	doc = json_pack("{s:s, s:s, s:s, s:n, s:n, s:n, s:b, s:n, s:n, s:n, "
	    "s:n, s:i, s:i, s:s, s:s, s:n, s:n, s:i, s:i, s:i, s:s, s:b, s:b}",
	    "job", read_arg(args, "job"), "partition",
	    read_arg(args, "partition"), "task", read_arg(args, "task"),
	    "run_id", "run_state", "task_state", "task_done", 0, "waiting",
	    "attempt", "attempt_id", "state", "started_us", 0, "ended_us", 0,
	    "started_local", "-", "ended_local", "-", "path", "log_error",
	    "size", 0, "offset", 0, "next_offset", 0, "text", "", "eof", 1,
	    "done", 0);
	if ((r = read_logs_find(ctx, args, want, doc, &path, err)) == -1) {
		json_decref(doc);
		return NULL;
	}
	if (r == 0)
		return doc;
	ended = strcmp(json_string_value(json_object_get(doc, "state")),
	    "running") != 0;
	/* A log that does not exist (the attempt has written nothing, so
	 * the worker never named it) reads as empty. */
	if (path != NULL)
		read_logs_chunk(doc, path, &w, ended);
	else
		json_object_set_new(doc, "log_error",
		    json_string("the attempt kept no log"));
	json_object_set_new(doc, "done", json_boolean(ended &&
	    json_is_true(json_object_get(doc, "eof"))));
	return doc;
}
