/*
 * lineage-deliver.c -- the deliverer: a process of its own (lineage.h
 * says why) that sends the outbox's events in seq order to a JSONL file
 * or an HTTP endpoint.
 *
 * It only reads the state database, as a WAL reader, which never waits
 * for meshd's write lock: how far its sink acknowledged goes to the
 * position file (lineage-pos.c), which meshd folds into lineage_sinks in
 * its own transactions.  The deliverer writes to the database only when
 * it can do so at once (the write lock free: meshd idle): to fold its
 * position in and prune when meshd has nothing to commit, and to record
 * a failing sink's errors and backoff.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#include "config.h"
#include "lineage.h"
#include "lineage-int.h"
#include "log.h"
#include "selfexec.h"
#include "state.h"
#include "util.h"

/* Events per delivery pass. */
#define LINEAGE_BATCH		256
/* Backoff of a failing sink: 0.5 s doubling up to a minute. */
#define LINEAGE_BACKOFF_MIN_US	500000LL
#define LINEAGE_BACKOFF_MAX_US	60000000LL
/* An idle deliverer prunes this often. */
#define LINEAGE_IDLE_PRUNE_US	60000000LL
/* The deliverer writes lineage_sinks itself at most this often, and only
 * once the row has trailed its position this long (meshd folds it in
 * every LINEAGE_FOLD_US while it commits). */
#define LINEAGE_SELF_FOLD_US	500000LL
/* The wait for the write lock of the last record, at exit. */
#define LINEAGE_EXIT_WAIT_MS	500
/* The connection's usual wait (state_open()'s). */
#define LINEAGE_WAIT_MS		5000

/*
 * Where the deliverer's sink stands.  The position is the truth; the row
 * in lineage_sinks follows it (folded in by meshd or by record()).  The
 * failure fields are the row's, held here until record() writes them.
 */
static struct {
	char			*name;		/* lineage_sink_name() */
	char			*path;		/* the position file */
	int			 fd;		/* open on it, or -1 */
	int			 started;	/* position read and checked */
	struct lineage_pos	 pos;		/* what the sink acknowledged */
	int64_t			 recorded;	/* lineage_sinks.acked_seq */
	int64_t			 failures;
	int64_t			 next_try;	/* now_us() */
	char			*why;		/* the last failure */
	int			 dirty;		/* failures not yet recorded */
	int64_t			 pruned;	/* mono_us() of the last prune */
	int64_t			 tried;		/* mono_us() of the last record() */
	int64_t			 lag_since;	/* mono_us(): row behind since */
	int			 pos_warned;
	int64_t			 file_warned;	/* seq warned about, or 0 */
} dlv = { .fd = -1 };

static void
dlv_reset(void)
{
	if (dlv.fd != -1)
		close(dlv.fd);
	free(dlv.name);
	free(dlv.path);
	free(dlv.why);
	memset(&dlv, 0, sizeof dlv);
	dlv.fd = -1;
}

/* The created_us of event `seq`, or 0 when the outbox does not hold it. */
static int64_t
outbox_created(struct state *st, int64_t seq)
{
	sqlite3_stmt	*stmt;
	int64_t		 r = 0;

	if ((stmt = state_prepare(st, "SELECT created_us FROM lineage_outbox "
	    "WHERE seq = ?")) == NULL)
		return 0;
	sqlite3_bind_int64(stmt, 1, seq);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		r = sqlite3_column_int64(stmt, 0);
	state_stmt_done(stmt);
	return r;
}

/* Is `line` (len bytes, no newline) the outbox's event `seq`? */
static int
outbox_holds(struct state *st, int64_t seq, const char *line, size_t len)
{
	sqlite3_stmt	*stmt;
	int		 r = 0;

	if ((stmt = state_prepare(st, "SELECT event FROM lineage_outbox "
	    "WHERE seq = ?")) == NULL)
		return 0;
	sqlite3_bind_int64(stmt, 1, seq);
	if (sqlite3_step(stmt) == SQLITE_ROW &&
	    sqlite3_column_text(stmt, 0) != NULL)
		r = lineage_same_event((const char *)
		    sqlite3_column_text(stmt, 0), line, len);
	state_stmt_done(stmt);
	return r;
}

/* ------------------------------------------------------------ file sink */

/* The offset of the last newline before `from` in `fd`, or -1. */
static off_t
file_nl_before(int fd, off_t from)
{
	char	 buf[4096], *nl;
	off_t	 start;
	ssize_t	 n;

	while (from > 0) {
		start = from > (off_t)sizeof buf ? from - (off_t)sizeof buf : 0;
		if ((n = pread(fd, buf, (size_t)(from - start), start)) <= 0)
			return -1;
		if ((nl = memrchr(buf, '\n', (size_t)n)) != NULL)
			return start + (nl - buf);
		from = start;
	}
	return -1;
}

/*
 * The seq of the last complete event in the JSONL file `fd` (0 if none),
 * and that line (*line, *len without its newline; the caller frees it).
 * A last line without its newline was being written when the deliverer
 * died; it is cut off, since it was never acknowledged and is written
 * again whole.
 */
static int64_t
file_last_seq(int fd, char **line, size_t *len)
{
	struct stat	 sb;
	off_t		 end, start;
	char		 c;
	json_t		*ev, *seq;
	int64_t		 r = 0;

	*line = NULL;
	*len = 0;
	if (fstat(fd, &sb) == -1 || sb.st_size == 0)
		return 0;
	end = sb.st_size;
	if (pread(fd, &c, 1, end - 1) != 1)
		return 0;
	if (c != '\n') {
		end = file_nl_before(fd, end) + 1;
		if (ftruncate(fd, end) == -1)
			return 0;
		if (end == 0)
			return 0;
	}
	start = file_nl_before(fd, end - 1) + 1;
	*line = xmalloc((size_t)(end - start));
	if (pread(fd, *line, (size_t)(end - start), start) == end - start) {
		*len = (size_t)(end - start - 1);
		ev = json_loadb(*line, *len, 0, NULL);
		seq = json_object_get(json_object_get(json_object_get(
		    json_object_get(ev, "run"), "facets"), "meshd"), "seq");
		if (json_is_integer(seq))
			r = json_integer_value(seq);
		json_decref(ev);
	}
	return r;
}

/*
 * Append events [0, n) after those already in the file, then fsync.
 * The file's last line counts as delivered only if it is this outbox's
 * event (a crash came between the append and the position): a file of
 * another database, or one restored from elsewhere, must not make this
 * one's events be skipped.  0, or -1 with cause.
 */
static int
file_send(struct state *st, const struct meshd_config *cfg, int64_t *seqs,
    char **events, size_t n, int64_t *acked, char **cause)
{
	int	 fd;
	int64_t	 last;
	size_t	 i, len;
	char	*dir, *line;

	dir = path_dirname(cfg->lineage_path);
	if (mkdir_p(dir, 0750, cause) != 0) {
		free(dir);
		return -1;
	}
	free(dir);
	if ((fd = open(cfg->lineage_path, O_RDWR | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0640)) == -1) {
		set_cause(cause, "%s: %s", cfg->lineage_path, strerror(errno));
		return -1;
	}
	last = file_last_seq(fd, &line, &len);
	if (last > *acked) {
		if (outbox_holds(st, last, line, len))
			*acked = last;	/* written before a crash */
		else {
			if (dlv.file_warned != last)
				log_warn("lineage: %s: its last event (seq "
				    "%lld) is not this database's: appending "
				    "after it", cfg->lineage_path,
				    (long long)last);
			dlv.file_warned = last;
			last = 0;
		}
	}
	free(line);
	for (i = 0; i < n; i++) {
		if (seqs[i] <= last)
			continue;
		len = strlen(events[i]);
		events[i][len] = '\n';	/* the terminator's room */
		if (write(fd, events[i], len + 1) != (ssize_t)(len + 1)) {
			events[i][len] = '\0';
			set_cause(cause, "%s: %s", cfg->lineage_path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		events[i][len] = '\0';
	}
	if (fsync(fd) == -1) {
		set_cause(cause, "%s: fsync: %s", cfg->lineage_path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (n > 0 && seqs[n - 1] > *acked)
		*acked = seqs[n - 1];
	return 0;
}

/* ------------------------------------------------------------ http sink */

static CURL		*http;		/* kept: the connection is reused */

/* The headers of a batch: the content type, and with a token file,
 * "Authorization: Bearer TOKEN" as OpenLineage's clients send their
 * api_key.  The file is read for every batch, so that a token rotated in
 * place is used at once.  NULL with cause when the file cannot be used. */
static struct curl_slist *
http_headers(const struct meshd_config *cfg, char **cause)
{
	struct curl_slist	*h;
	char			*tok, *auth;

	h = curl_slist_append(NULL, "Content-Type: application/json");
	if (cfg->lineage_token_file == NULL)
		return h;
	if ((tok = config_lineage_token(cfg->lineage_token_file,
	    cause)) == NULL) {
		curl_slist_free_all(h);
		return NULL;
	}
	auth = xasprintf("Authorization: Bearer %s", tok);
	h = curl_slist_append(h, auth);
	explicit_bzero(auth, strlen(auth));
	explicit_bzero(tok, strlen(tok));
	free(auth);
	free(tok);
	return h;
}

/* The header list, its token wiped before it is freed. */
static void
http_headers_free(struct curl_slist *h)
{
	struct curl_slist	*p;

	for (p = h; p != NULL; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

/* POST the events in order, advancing *acked past each one the server
 * took (2xx).  0, or -1 with cause at the first that was not taken. */
static int
http_send(const struct meshd_config *cfg, int64_t *seqs, char **events,
    size_t n, int64_t *acked, char **cause)
{
	struct curl_slist	*headers;
	char			 err[CURL_ERROR_SIZE];
	long			 code = 0;
	CURLcode		 cc;
	size_t			 i;
	int			 rc = -1;

	if (http == NULL) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		if ((http = curl_easy_init()) == NULL) {
			set_cause(cause, "cannot initialise libcurl");
			return -1;
		}
	}
	if ((headers = http_headers(cfg, cause)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		curl_easy_reset(http);
		err[0] = '\0';
		curl_easy_setopt(http, CURLOPT_URL, cfg->lineage_url);
		curl_easy_setopt(http, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(http, CURLOPT_POSTFIELDS, events[i]);
		curl_easy_setopt(http, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(events[i]));
		curl_easy_setopt(http, CURLOPT_TIMEOUT,
		    (long)cfg->lineage_timeout_s);
		curl_easy_setopt(http, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(http, CURLOPT_ERRORBUFFER, err);
		curl_easy_setopt(http, CURLOPT_USERAGENT, "meshd/"
		    PACKAGE_VERSION);
		if ((cc = curl_easy_perform(http)) != CURLE_OK) {
			set_cause(cause, "%s: %s", cfg->lineage_url,
			    err[0] != '\0' ? err : curl_easy_strerror(cc));
			goto out;
		}
		curl_easy_getinfo(http, CURLINFO_RESPONSE_CODE, &code);
		if (code < 200 || code > 299) {
			set_cause(cause, "%s: HTTP status %ld",
			    cfg->lineage_url, code);
			goto out;
		}
		*acked = seqs[i];
	}
	rc = 0;
out:
	/* The handle keeps no pointer to the list past the reset. */
	curl_easy_reset(http);
	http_headers_free(headers);
	return rc;
}


/* ------------------------------------------------------------ delivery */

/*
 * Write what lineage_sinks should know: the position, folded in (meshd
 * does it too, in its own transactions), the failures held, and
 * retention.  Only if the write lock can be had within wait_ms (0: at
 * once): busy means meshd is writing, and then it folds the position in
 * itself; what is held is tried again on a later pass.  0 written, 1
 * busy, -1 with cause.
 */
static int
record(struct state *st, const struct meshd_config *cfg, int wait_ms,
    char **cause)
{
	sqlite3_stmt	*stmt;
	char		*busy = NULL;
	int		 rc;

	dlv.tried = mono_us();
	state_set_wait(st, wait_ms);
	rc = state_begin(st, &busy);
	state_set_wait(st, LINEAGE_WAIT_MS);
	if (rc != 0) {
		free(busy);
		return 1;
	}
	if (lineage_fold(st, dlv.name, &dlv.pos, cause) != 0)
		goto rollback;
	if (dlv.dirty) {
		if ((stmt = state_prepare(st, "INSERT INTO lineage_sinks "
		    "(name, failures, next_try_us, last_error) VALUES (?1, ?2, "
		    "?3, ?4) ON CONFLICT (name) DO UPDATE SET failures = ?2, "
		    "next_try_us = ?3, last_error = ?4")) == NULL) {
			lineage_db_fail(st, cause, "sink");
			goto rollback;
		}
		sqlite3_bind_text(stmt, 1, dlv.name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 2, dlv.failures);
		sqlite3_bind_int64(stmt, 3, dlv.next_try);
		if (dlv.why != NULL)
			sqlite3_bind_text(stmt, 4, dlv.why, -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt);
		state_stmt_done(stmt);
		if (rc != SQLITE_DONE) {
			lineage_db_fail(st, cause, "sink");
			goto rollback;
		}
	}
	if (lineage_prune(st, cfg, dlv.name, cause) != 0)
		goto rollback;
	if (state_commit(st, cause) != 0)
		goto rollback;
	dlv.dirty = 0;
	dlv.pruned = mono_us();
	if (dlv.recorded < dlv.pos.seq)
		dlv.recorded = dlv.pos.seq;
	return 0;
rollback:
	state_rollback(st);
	return -1;
}

/*
 * record(), if it is due: not while meshd folds the position in itself
 * (it does while it commits), so that a busy meshd does not meet the
 * deliverer at its write lock after every commit; only for a failure not
 * yet recorded, a row that has trailed the position for a while (meshd is
 * idle), or retention once a minute -- and never more often than every
 * LINEAGE_SELF_FOLD_US.  0, or -1 with cause.
 */
static int
record_due(struct state *st, const struct meshd_config *cfg, char **cause)
{
	int64_t	now = mono_us();
	int	due;

	if (dlv.recorded >= dlv.pos.seq)
		dlv.lag_since = 0;
	else if (dlv.lag_since == 0)
		dlv.lag_since = now;
	if (dlv.tried != 0 && now - dlv.tried < LINEAGE_SELF_FOLD_US)
		return 0;
	if (dlv.dirty)
		due = 1;
	else if (dlv.lag_since != 0)
		due = now - dlv.lag_since >= LINEAGE_SELF_FOLD_US;
	else
		due = dlv.pruned == 0 || now - dlv.pruned >=
		    LINEAGE_IDLE_PRUNE_US;
	return due && record(st, cfg, 0, cause) < 0 ? -1 : 0;
}

/* Remember that the sink acknowledged up to `seq` (created_us `created`,
 * or 0 to look it up), in the position file. */
static void
advance(struct state *st, int64_t seq, int64_t created)
{
	if (seq <= dlv.pos.seq)
		return;
	dlv.pos.seq = seq;
	dlv.pos.created_us = created != 0 ? created :
	    outbox_created(st, seq);
	if (lineage_pos_write(dlv.fd, dlv.name, &dlv.pos) != 0) {
		if (!dlv.pos_warned)
			log_warn("lineage: %s: %s (lineage_sinks keeps the "
			    "position)", dlv.path, strerror(errno));
		dlv.pos_warned = 1;
	} else
		dlv.pos_warned = 0;
}

/*
 * The first pass: where to start.  The position file when it is this
 * sink's and its event is in this outbox; lineage_sinks when it says
 * more, or when the file is missing, torn, corrupt, another sink's, or
 * from another database (it is then replaced at once, so that meshd
 * never folds it in).
 */
static int
dlv_start(struct state *st, const struct meshd_config *cfg, int64_t acked,
    char **cause)
{
	struct lineage_pos	p;
	struct stat		sb;

	dlv.name = lineage_sink_name(cfg);
	dlv.path = lineage_pos_path(cfg->state_db);
	if ((dlv.fd = open(dlv.path, O_RDWR | O_CREAT | O_CLOEXEC,
	    0640)) == -1) {
		set_cause(cause, "lineage: %s: %s", dlv.path, strerror(errno));
		return -1;
	}
	dlv.pos.seq = acked;
	dlv.pos.created_us = acked > 0 ? outbox_created(st, acked) : 0;
	if (lineage_pos_read(dlv.fd, NULL, dlv.name, &p)) {
		if (p.seq > acked) {
			if (outbox_created(st, p.seq) == p.created_us)
				dlv.pos = p;
			else
				log_warn("lineage: %s: event %lld is not in "
				    "this database's outbox (a database "
				    "restored or replaced?): starting after "
				    "event %lld (lineage_sinks)", dlv.path,
				    (long long)p.seq, (long long)acked);
		}
	} else if (fstat(dlv.fd, &sb) == 0 && sb.st_size > 0)
		log_info("lineage: %s: no position of %s: starting after "
		    "event %lld (lineage_sinks)", dlv.path, dlv.name,
		    (long long)acked);
	if (lineage_pos_write(dlv.fd, dlv.name, &dlv.pos) != 0) {
		log_warn("lineage: %s: %s", dlv.path, strerror(errno));
		dlv.pos_warned = 1;
	}
	dlv.recorded = acked;
	dlv.started = 1;
	log_debug("lineage: %s: starting after event %lld", dlv.name,
	    (long long)dlv.pos.seq);
	return 0;
}

/* The sink's row: 0 (and zeros when it has none), or -1 with cause. */
static int
sink_row(struct state *st, const char *name, int64_t *acked,
    int64_t *failures, int64_t *next_try, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	*acked = *failures = *next_try = 0;
	if ((stmt = state_prepare(st, "SELECT acked_seq, failures, "
	    "next_try_us FROM lineage_sinks WHERE name = ?")) == NULL)
		return lineage_db_fail(st, cause, "sink");
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*acked = sqlite3_column_int64(stmt, 0);
		*failures = sqlite3_column_int64(stmt, 1);
		*next_try = sqlite3_column_int64(stmt, 2);
	}
	state_stmt_done(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return lineage_db_fail(st, cause, "sink");
	return 0;
}

int
lineage_deliver(struct state *st, const struct meshd_config *cfg, int max,
    char **cause)
{
	sqlite3_stmt	*stmt;
	char		*name, **events = NULL, *why = NULL;
	int64_t		*seqs = NULL, *created = NULL, acked, acked0;
	int64_t		 failures, next_try, delay, now = now_us();
	size_t		 n = 0, i;
	int		 rc = -1, sent, step = SQLITE_DONE;

	if (cfg->lineage_sink == LINEAGE_SINK_NONE)
		return 0;
	name = lineage_sink_name(cfg);
	if (dlv.name != NULL && strcmp(dlv.name, name) != 0)
		dlv_reset();	/* another sink (tests) */
	if (sink_row(st, name, &acked, &failures, &next_try, cause) != 0) {
		free(name);
		return -1;
	}
	free(name);
	if (!dlv.started && dlv_start(st, cfg, acked, cause) != 0) {
		dlv_reset();
		return -1;
	}
	if (acked > dlv.pos.seq)	/* a handoff, or an operator */
		advance(st, acked, 0);
	dlv.recorded = acked;
	if (!dlv.dirty) {
		/* The row is the truth of the backoff: an operator may cut
		 * it short (next_try_us = 0). */
		dlv.failures = failures;
		dlv.next_try = next_try;
	}
	if (dlv.next_try > now)
		return record_due(st, cfg, cause);	/* backing off */

	if ((stmt = state_prepare(st, "SELECT seq, event, created_us FROM "
	    "lineage_outbox WHERE seq > ? ORDER BY seq LIMIT ?")) == NULL)
		return lineage_db_fail(st, cause, "outbox");
	sqlite3_bind_int64(stmt, 1, dlv.pos.seq);
	sqlite3_bind_int(stmt, 2, max);
	seqs = xcalloc((size_t)max, sizeof *seqs);
	created = xcalloc((size_t)max, sizeof *created);
	events = xcalloc((size_t)max, sizeof *events);
	while (n < (size_t)max && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(stmt, 1);
		char	   *ev, *why2 = NULL;
		size_t	    len;

		seqs[n] = sqlite3_column_int64(stmt, 0);
		created[n] = sqlite3_column_int64(stmt, 2);
		if ((ev = lineage_render(st, cfg, seqs[n], t != NULL ? t : "",
		    &why2)) == NULL) {
			/* Said once, and sent as a bare record of what is
			 * known, rather than stopping every later event. */
			log_warn("%s", why2);
			ev = xasprintf("{\"eventType\":\"OTHER\","
			    "\"run\":{\"facets\":{\"meshd\":{\"seq\":%lld}}}}",
			    (long long)seqs[n]);
			free(why2);
		}
		len = strlen(ev);
		/* Room for the newline the file sink adds. */
		events[n] = xrealloc(ev, len + 2);
		n++;
	}
	state_stmt_done(stmt);
	if (n < (size_t)max && step != SQLITE_DONE) {
		lineage_db_fail(st, cause, "outbox");
		goto out;
	}
	if (n == 0) {
		/* Idle: tell lineage_sinks where the sink is, and let
		 * acknowledged events age out, if meshd does not. */
		rc = record_due(st, cfg, cause);
		goto out;
	}

	acked = acked0 = dlv.pos.seq;
	if (cfg->lineage_sink == LINEAGE_SINK_HTTP)
		sent = http_send(cfg, seqs, events, n, &acked, &why);
	else
		sent = file_send(st, cfg, seqs, events, n, &acked, &why);
	for (i = 0; i < n && seqs[i] < acked; i++)
		;
	advance(st, acked, i < n && seqs[i] == acked ? created[i] : 0);
	if (sent == 0) {
		if (dlv.failures > 0) {
			log_info("lineage: %s: delivering again", dlv.name);
			dlv.failures = 0;
			dlv.next_try = 0;
			free(dlv.why);
			dlv.why = NULL;
			dlv.dirty = 1;
		}
	} else {
		dlv.failures++;
		delay = LINEAGE_BACKOFF_MIN_US << (dlv.failures < 8 ?
		    dlv.failures - 1 : 7);
		if (delay > LINEAGE_BACKOFF_MAX_US)
			delay = LINEAGE_BACKOFF_MAX_US;
		dlv.next_try = now + delay;
		if (dlv.failures == 1)
			log_warn("lineage: %s: %s; events wait in the outbox",
			    dlv.name, why);
		free(dlv.why);
		dlv.why = why;
		why = NULL;
		dlv.dirty = 1;
	}
	/* A failure is recorded when the lock is free; meanwhile the
	 * backoff is kept here. */
	if (record_due(st, cfg, cause) < 0)
		goto out;
	rc = (int)(acked - acked0 > (int64_t)n ? (int64_t)n : acked - acked0);
out:
	for (i = 0; i < n; i++)
		free(events[i]);
	free(events);
	free(created);
	free(seqs);
	free(why);
	return rc;
}

/* ------------------------------------------------------------ the process */

static pid_t	lin_pid = -1;

/* The deliverer: deliver, then wait for a kick (or 200 ms, which also
 * catches what `meshctl run` commits), until the daemon closes the pipe. */
static int
lineage_child(const struct meshd_config *cfg, int rd)
{
	struct state	*st;
	struct pollfd	 pfd;
	char		*lock, *cause = NULL, buf[256];
	int		 lfd, n, closing = 0;
	ssize_t		 r;

	/* One deliverer per database, even if an old one still lingers. */
	lock = xasprintf("%s.lineage-lock", cfg->state_db);
	if ((lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) == -1 ||
	    flock(lfd, LOCK_EX) == -1) {
		log_error("lineage: %s: %s", lock, strerror(errno));
		free(lock);
		return 1;
	}
	free(lock);
	if ((st = state_open(cfg->state_db, STATE_RDWR, &cause)) == NULL) {
		log_error("lineage: %s", cause);
		free(cause);
		return 1;
	}
	for (;;) {
		if ((n = lineage_deliver(st, cfg, LINEAGE_BATCH, &cause)) < 0) {
			log_error("%s", cause);
			free(cause);
			cause = NULL;
		}
		if (closing)
			break;
		if (n == LINEAGE_BATCH)
			continue;
		pfd.fd = rd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, n < 0 ? 1000 : 200) > 0) {
			while ((r = read(rd, buf, sizeof buf)) > 0)
				;
			if (r == 0)
				closing = 1;	/* the daemon is stopping */
		}
	}
	/* What meshd has not folded in yet, while its lock is likely free
	 * (it is stopping or reloading); else the position file keeps it. */
	if (dlv.started && record(st, cfg, LINEAGE_EXIT_WAIT_MS, &cause) < 0) {
		log_error("%s", cause);
		free(cause);
	}
	dlv_reset();
	state_close(st);
	if (http != NULL) {
		curl_easy_cleanup(http);
		curl_global_cleanup();
	}
	return 0;
}

void
lineage_init(const char *argv0, int to_syslog, int debug)
{
	selfexec_init(argv0, to_syslog, debug);
}

/*
 * The deliverer, after the exec: argv is the sink ("file" or "http"), its
 * path or url, the state database, the HTTP timeout, lineage.keep, the
 * log flags ("-", or 's' for syslog and 'd' for debug) and the HTTP
 * sink's bearer_token_file ("" for none: the token never goes on a
 * command line).  The settings come
 * from the daemon, not from meshd.conf read again, so that the child
 * delivers exactly where the daemon said it would even if the file has
 * changed since.
 */
int
lineage_main(int argc, char **argv)
{
	struct meshd_config	*cfg;
	char			*end;
	long			 timeout, keep;
	int			 rc;

	if (argc != 7 || (strcmp(argv[0], "file") != 0 &&
	    strcmp(argv[0], "http") != 0)) {
		fprintf(stderr, "meshd: %s is for meshd's own use\n",
		    LINEAGE_DELIVERER_ARG);
		return 2;
	}
	timeout = strtol(argv[3], &end, 10);
	if (*end != '\0' || timeout < 1 || timeout > 86400)
		timeout = 5;
	keep = strtol(argv[4], &end, 10);
	if (*end != '\0' || keep < 0 || keep > INT_MAX)
		keep = 3600;
	selfexec_log_apply(argv[5]);
	cfg = config_defaults(".");
	free(cfg->state_db);
	cfg->state_db = xstrdup(argv[2]);
	if (strcmp(argv[0], "http") == 0) {
		cfg->lineage_sink = LINEAGE_SINK_HTTP;
		cfg->lineage_url = xstrdup(argv[1]);
		if (argv[6][0] != '\0')
			cfg->lineage_token_file = xstrdup(argv[6]);
	} else {
		cfg->lineage_sink = LINEAGE_SINK_FILE;
		free(cfg->lineage_path);
		cfg->lineage_path = xstrdup(argv[1]);
	}
	cfg->lineage_timeout_s = (int)timeout;
	cfg->lineage_keep_s = (int)keep;
	rc = lineage_child(cfg, SELFEXEC_KICK_FD);
	config_free(cfg);
	return rc;
}

int
lineage_start(const struct meshd_config *cfg, char **cause)
{
	pid_t	 pid;
	char	 timeout[16], keep[16], *argv[10];

	if (cfg->lineage_sink == LINEAGE_SINK_NONE || lin_pid != -1)
		return 0;
	/* A token file that cannot be used stops meshd at start, and is
	 * said at a reload, at its file:line (meshctl validate does not
	 * read it). */
	if (config_lineage_check(cfg, cause) != 0)
		return -1;
	snprintf(timeout, sizeof timeout, "%d", cfg->lineage_timeout_s);
	snprintf(keep, sizeof keep, "%d", cfg->lineage_keep_s);
	argv[0] = NULL;
	argv[1] = (char *)LINEAGE_DELIVERER_ARG;
	argv[2] = (char *)(cfg->lineage_sink == LINEAGE_SINK_HTTP ? "http" :
	    "file");
	argv[3] = cfg->lineage_sink == LINEAGE_SINK_HTTP ? cfg->lineage_url :
	    cfg->lineage_path;
	argv[4] = cfg->state_db;
	argv[5] = timeout;
	argv[6] = keep;
	argv[7] = (char *)selfexec_log_flags();
	argv[8] = cfg->lineage_sink == LINEAGE_SINK_HTTP &&
	    cfg->lineage_token_file != NULL ? cfg->lineage_token_file :
	    (char *)"";
	argv[9] = NULL;
	if ((pid = selfexec_spawn(argv, &lineage_kick_fd, "lineage", cause)) == -1)
		return -1;
	lin_pid = pid;
	log_info("lineage: delivering to %s%s (pid %ld)",
	    cfg->lineage_sink == LINEAGE_SINK_HTTP ? "" : "file ",
	    cfg->lineage_sink == LINEAGE_SINK_HTTP ? cfg->lineage_url :
	    cfg->lineage_path, (long)pid);
	return 0;
}

int
lineage_running(void)
{
	return selfexec_running(&lin_pid, &lineage_kick_fd, "lineage");
}

int
lineage_handoff(struct state *st, const struct meshd_config *from,
    const struct meshd_config *to, char **cause)
{
	sqlite3_stmt		*stmt;
	struct lineage_pos	 pos;
	char			*a = NULL, *b = NULL, *path;
	int64_t			 acked = 0;
	int			 rc = -1, step;

	if (from->lineage_sink == LINEAGE_SINK_NONE ||
	    to->lineage_sink == LINEAGE_SINK_NONE)
		return 0;
	a = lineage_sink_name(from);
	b = lineage_sink_name(to);
	if (strcmp(a, b) == 0) {
		rc = 0;
		goto out;
	}
	if (state_begin(st, cause) != 0)
		goto out;
	/* How far the old sink really is: its deliverer may have stopped
	 * before its position was folded in. */
	path = lineage_pos_path(from->state_db);
	step = lineage_pos_read(-1, path, a, &pos);
	free(path);
	if (step && lineage_fold(st, a, &pos, cause) != 0)
		goto rollback;
	if ((stmt = state_prepare(st, "INSERT INTO lineage_sinks (name, "
	    "acked_seq) VALUES (?1, coalesce((SELECT acked_seq FROM "
	    "lineage_sinks WHERE name = ?2), 0)) ON CONFLICT (name) DO UPDATE "
	    "SET acked_seq = max(acked_seq, excluded.acked_seq) RETURNING "
	    "acked_seq")) == NULL) {
		lineage_db_fail(st, cause, "sink");
		goto rollback;
	}
	sqlite3_bind_text(stmt, 1, b, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, a, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		acked = sqlite3_column_int64(stmt, 0);
		step = sqlite3_step(stmt);
	}
	state_stmt_done(stmt);
	if (step != SQLITE_DONE) {
		lineage_db_fail(st, cause, "sink");
		goto rollback;
	}
	if (state_commit(st, cause) != 0)
		goto rollback;
	log_info("lineage: %s continues after event %lld, where %s stopped",
	    b, (long long)acked, a);
	rc = 0;
	goto out;
rollback:
	state_rollback(st);
out:
	free(a);
	free(b);
	return rc;
}

void
lineage_stop(void)
{
	selfexec_stop(&lin_pid, &lineage_kick_fd);
}
