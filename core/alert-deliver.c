/*
 * alert-deliver.c -- the alert deliverer: a child of meshd (selfexec.h)
 * with its own state connection, sending each job's alerts in seq order
 * to their hooks and recording every try in alert_outbox.
 *
 * One alert per job is in flight: the oldest pending one.  It is due at
 * next_try_us; a failed try (a hook that exits non-zero, is killed after
 * its timeout, or a webhook that is down or answers other than 2xx) is
 * tried again after 1 s, 2 s, 4 s ... up to 5 min.  An alert still not
 * delivered at give_up_us (alert_give_up after it was raised, default
 * 24 h) after at least one try becomes `failed` and is not tried again,
 * so that the job's later alerts go on.  Delivered and failed rows are
 * kept ALERT_KEEP for `meshctl alerts`, then removed.
 *
 * At least once: a row is marked delivered in its own transaction after
 * its hook succeeded.  A crash between the two sends it again, with the
 * same event_id, which is how a receiver recognises it.
 */
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#include "alert.h"
#include "config.h"
#include "log.h"
#include "selfexec.h"
#include "state.h"
#include "token.h"
#include "util.h"

#define ALERT_BACKOFF_MIN_US	1000000LL
#define ALERT_BACKOFF_MAX_US	300000000LL
/* Delivered and failed alerts are kept this long (30 days). */
#define ALERT_KEEP_US		(30LL * 86400 * 1000000)
/* Bytes of a hook's output kept as its error. */
#define ALERT_OUTPUT_MAX	1024

/* Alerts to try in one pass (heads of their jobs). */
#define ALERT_BATCH		64

struct due {
	int64_t	 seq;
	char	*job;
	char	*hook;
	char	*doc;
	int	 attempts;
	int64_t	 give_up;
};

static int
db_fail(struct state *st, char **cause, const char *what)
{
	set_cause(cause, "alerts: %s: %s", what,
	    sqlite3_errmsg(state_sqlite(st)));
	return -1;
}

/* ------------------------------------------------------------- hooks */

/* Keep the hook's output (stdout and stderr) up to `cap`, for its error. */
static void
out_add(char *out, size_t *len, const char *b, size_t n)
{
	size_t	room = ALERT_OUTPUT_MAX - 1 - *len;

	if (n > room)
		n = room;
	memcpy(out + *len, b, n);
	*len += n;
	out[*len] = '\0';
}

/*
 * Run argv with `doc` on its stdin, no shell, in a process group of its
 * own (killed whole after `timeout` seconds).  0 when it exits 0, else -1
 * with cause.
 */
static int
run_hook(char **argv, const char *doc, int timeout, char **cause)
{
	int		 in[2], out[2], st, rc;
	pid_t		 pid;
	size_t		 len = strlen(doc), off = 0, olen = 0;
	int64_t		 deadline = mono_us() + (int64_t)timeout * 1000000;
	char		 buf[4096], output[ALERT_OUTPUT_MAX], *nl;
	struct pollfd	 pfd[2];
	ssize_t		 n;
	nfds_t		 np;

	output[0] = '\0';
	if (pipe2(in, O_CLOEXEC) == -1)
		goto syserr;
	if (pipe2(out, O_CLOEXEC) == -1) {
		close(in[0]);
		close(in[1]);
		goto syserr;
	}
	if ((pid = fork()) == -1) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		goto syserr;
	}
	if (pid == 0) {
		struct sigaction sa;

		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(out[1], STDERR_FILENO);
		/* The deliverer ignores SIGPIPE; the hook gets it back. */
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGPIPE, &sa, NULL);
		if (strchr(argv[0], '/') != NULL)
			execv(argv[0], argv);
		else
			execvp(argv[0], argv);
		dprintf(STDERR_FILENO, "cannot run %s: %s", argv[0],
		    strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(in[0]);
	close(out[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);

	/* Feed it and read it until it ends (a child it left behind may
	 * hold its output open) or time is up. */
	rc = 0;
	for (;;) {
		int64_t left = deadline - mono_us();

		if (left <= 0)
			break;
		np = 0;
		pfd[np].fd = out[0];
		pfd[np++].events = out[0] != -1 ? POLLIN : 0;
		if (in[1] != -1) {
			pfd[np].fd = in[1];
			pfd[np++].events = POLLOUT;
		}
		if (poll(pfd, np, left > 100000 ? 100 : (int)(left / 1000) + 1) <
		    0 && errno != EINTR)
			break;
		if (in[1] != -1 && np > 1 && pfd[1].revents != 0) {
			n = write(in[1], doc + off, len - off);
			if (n > 0)
				off += (size_t)n;
			if ((n < 0 && errno != EAGAIN) || off == len) {
				close(in[1]);	/* all of it, or it stopped
						 * reading: its affair */
				in[1] = -1;
			}
		}
		if (out[0] != -1 && pfd[0].revents != 0) {
			n = read(out[0], buf, sizeof buf);
			if (n == 0) {
				close(out[0]);	/* closed: it is ending */
				out[0] = -1;
			} else if (n > 0)
				out_add(output, &olen, buf, (size_t)n);
		}
		if ((rc = waitpid(pid, &st, WNOHANG)) == pid)
			break;
	}
	if (rc == pid && out[0] != -1) {
		/* What it wrote before it ended. */
		while ((n = read(out[0], buf, sizeof buf)) > 0)
			out_add(output, &olen, buf, (size_t)n);
	}
	if (in[1] != -1)
		close(in[1]);
	if (out[0] != -1)
		close(out[0]);
	if (rc != pid) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		set_cause(cause, "%s: still running after %ds: killed",
		    argv[0], timeout);
		return -1;
	}
	/* What is left of its process group goes with it. */
	kill(-pid, SIGKILL);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	while ((nl = strrchr(output, '\n')) != NULL && nl[1] == '\0')
		*nl = '\0';
	if (WIFSIGNALED(st))
		set_cause(cause, "%s: killed by signal %d%s%s", argv[0],
		    WTERMSIG(st), output[0] != '\0' ? ": " : "", output);
	else
		set_cause(cause, "%s: exit status %d%s%s", argv[0],
		    WEXITSTATUS(st), output[0] != '\0' ? ": " : "", output);
	return -1;
syserr:
	set_cause(cause, "%s: %s", argv[0], strerror(errno));
	return -1;
}

static CURL	*http;		/* kept: connections are reused */

/* Discard the body of the answer. */
static size_t
http_sink(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* POST `doc` to url; 0 on a 2xx answer, else -1 with cause. */
static int
post_hook(const char *url, const char *token_file, const char *doc,
    int timeout, char **cause)
{
	struct curl_slist	*hdr = NULL;
	char			 err[CURL_ERROR_SIZE], *token, *auth;
	long			 code = 0;
	CURLcode		 cc;
	int			 rc = -1;

	if (http == NULL) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		if ((http = curl_easy_init()) == NULL) {
			set_cause(cause, "cannot initialise libcurl");
			return -1;
		}
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	if (token_file != NULL) {
		if ((token = token_read("bearer_token_file",
		    token_file, 0, cause)) == NULL) {
			curl_slist_free_all(hdr);
			return -1;
		}
		auth = xasprintf("Authorization: Bearer %s", token);
		hdr = curl_slist_append(hdr, auth);
		explicit_bzero(auth, strlen(auth));
		explicit_bzero(token, strlen(token));
		free(auth);
		free(token);
	}
	curl_easy_reset(http);
	err[0] = '\0';
	curl_easy_setopt(http, CURLOPT_URL, url);
	curl_easy_setopt(http, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(http, CURLOPT_POSTFIELDS, doc);
	curl_easy_setopt(http, CURLOPT_POSTFIELDSIZE, (long)strlen(doc));
	curl_easy_setopt(http, CURLOPT_TIMEOUT, (long)timeout);
	curl_easy_setopt(http, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(http, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(http, CURLOPT_WRITEFUNCTION, http_sink);
	curl_easy_setopt(http, CURLOPT_USERAGENT, "meshd/" PACKAGE_VERSION);
	if ((cc = curl_easy_perform(http)) != CURLE_OK)
		set_cause(cause, "%s: %s", url, err[0] != '\0' ? err :
		    curl_easy_strerror(cc));
	else {
		curl_easy_getinfo(http, CURLINFO_RESPONSE_CODE, &code);
		if (code < 200 || code > 299)
			set_cause(cause, "%s: HTTP status %ld", url, code);
		else
			rc = 0;
	}
	/* The header list held the token: wipe it before it is freed. */
	for (struct curl_slist *h = hdr; h != NULL; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(hdr);
	curl_easy_setopt(http, CURLOPT_HTTPHEADER, NULL);
	return rc;
}

/* Send one alert to its hook (the outbox row's JSON). */
static int
send_alert(const char *hook, const char *doc, char **cause)
{
	json_t		*h, *a, *v;
	char		**argv;
	size_t		 i, n;
	int		 rc, timeout;

	if ((h = json_loads(hook, 0, NULL)) == NULL) {
		set_cause(cause, "the hook recorded is not JSON");
		return -1;
	}
	timeout = (int)json_integer_value(json_object_get(h, "timeout"));
	if (timeout <= 0)
		timeout = ALERT_TIMEOUT_DEFAULT;
	if ((v = json_object_get(h, "url")) != NULL) {
		rc = post_hook(json_string_value(v), json_string_value(
		    json_object_get(h, "bearer_token_file")), doc, timeout,
		    cause);
		json_decref(h);
		return rc;
	}
	a = json_object_get(h, "argv");
	if ((n = json_array_size(a)) == 0) {
		json_decref(h);
		set_cause(cause, "the hook recorded has no command");
		return -1;
	}
	argv = xcalloc(n + 1, sizeof *argv);
	for (i = 0; i < n; i++)
		argv[i] = xstrdup(json_string_value(json_array_get(a, i)) !=
		    NULL ? json_string_value(json_array_get(a, i)) : "");
	rc = run_hook(argv, doc, timeout, cause);
	for (i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
	json_decref(h);
	return rc;
}

/* ------------------------------------------------------------ the pass */

static int
record(struct state *st, const char *sql, int64_t seq, int64_t a,
    const char *text, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (state_begin(st, cause) != 0)
		return -1;
	if (sqlite3_prepare_v2(state_sqlite(st), sql, -1, &stmt, NULL) !=
	    SQLITE_OK) {
		db_fail(st, cause, "record");
		state_rollback(st);
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, seq);
	sqlite3_bind_int64(stmt, 2, a);
	if (text != NULL)
		sqlite3_bind_text(stmt, 3, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		db_fail(st, cause, "record");
		state_rollback(st);
		return -1;
	}
	if (state_commit(st, cause) != 0) {
		state_rollback(st);
		return -1;
	}
	return 0;
}

static void
due_free(struct due *d, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(d[i].job);
		free(d[i].hook);
		free(d[i].doc);
	}
}

/* The oldest pending alert of each job that is due now. */
static int
due_load(struct state *st, int64_t now, struct due *d, size_t *n,
    char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	*n = 0;
	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT seq, job, hook, "
	    "document, attempts, give_up_us FROM alert_outbox o WHERE state "
	    "= 'pending' AND next_try_us <= ?1 AND seq = (SELECT min(seq) "
	    "FROM alert_outbox p WHERE p.state = 'pending' AND p.job = "
	    "o.job) ORDER BY seq LIMIT ?2", -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st, cause, "outbox");
	sqlite3_bind_int64(stmt, 1, now);
	sqlite3_bind_int(stmt, 2, ALERT_BATCH);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && *n < ALERT_BATCH) {
		d[*n].seq = sqlite3_column_int64(stmt, 0);
		d[*n].job = xstrdup((const char *)sqlite3_column_text(stmt, 1));
		d[*n].hook = xstrdup((const char *)sqlite3_column_text(stmt,
		    2));
		d[*n].doc = xstrdup((const char *)sqlite3_column_text(stmt,
		    3));
		d[*n].attempts = sqlite3_column_int(stmt, 4);
		d[*n].give_up = sqlite3_column_int64(stmt, 5);
		(*n)++;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(st, cause, "outbox");
	return 0;
}

int
alert_deliver(struct state *st, char **cause)
{
	struct due	 d[ALERT_BATCH];
	size_t		 n, i;
	int64_t		 now = now_us(), delay;
	char		*why;
	int		 delivered = 0, rc = 0;
	static int64_t	 last_prune;

	if (due_load(st, now, d, &n, cause) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		why = NULL;
		if (send_alert(d[i].hook, d[i].doc, &why) == 0) {
			if (record(st, "UPDATE alert_outbox SET state = "
			    "'delivered', attempts = attempts + 1, "
			    "delivered_us = ?2 WHERE seq "
			    "= ?1", d[i].seq, now_us(), NULL, cause) != 0) {
				rc = -1;
				break;
			}
			if (d[i].attempts > 0)
				log_info("alerts: job=%s: alert %lld delivered "
				    "after %d failed tries", d[i].job,
				    (long long)d[i].seq, d[i].attempts);
			delivered++;
			continue;
		}
		now = now_us();
		if (now >= d[i].give_up) {
			log_error("alerts: job=%s: alert %lld not delivered "
			    "after %d tries, given up: %s", d[i].job,
			    (long long)d[i].seq, d[i].attempts + 1, why);
			rc = record(st, "UPDATE alert_outbox SET state = "
			    "'failed', attempts = attempts + 1, next_try_us = "
			    "?2, last_error = ?3 WHERE seq = ?1", d[i].seq, 0,
			    why, cause);
		} else {
			delay = ALERT_BACKOFF_MIN_US << (d[i].attempts < 10 ?
			    d[i].attempts : 10);
			if (delay > ALERT_BACKOFF_MAX_US)
				delay = ALERT_BACKOFF_MAX_US;
			log_warn("alerts: job=%s: alert %lld: %s; trying again "
			    "in %llds", d[i].job, (long long)d[i].seq, why,
			    (long long)(delay / 1000000));
			rc = record(st, "UPDATE alert_outbox SET attempts = "
			    "attempts + 1, next_try_us = ?2, last_error = ?3 "
			    "WHERE seq = ?1", d[i].seq, now + delay, why,
			    cause);
		}
		free(why);
		if (rc != 0)
			break;
	}
	due_free(d, n);
	if (rc != 0)
		return -1;
	if (now - last_prune >= 3600LL * 1000000) {
		last_prune = now;
		if (record(st, "DELETE FROM alert_outbox WHERE state != "
		    "'pending' AND created_us < ?2 AND ?1 = ?1", 0,
		    now - ALERT_KEEP_US, NULL, cause) != 0)
			return -1;
	}
	return delivered;
}

/* ------------------------------------------------------------ the process */

static pid_t	al_pid = -1;
static int	al_kick = -1;
static int64_t	al_started;	/* mono_us of the last start */

/* The deliverer: a pass, then a kick or 250 ms (an alert that becomes due
 * after a backoff, one `meshctl run` committed), until the daemon closes
 * the pipe. */
static int
alert_child(const char *db, int rd)
{
	struct state	*st;
	struct pollfd	 pfd;
	char		*lock, *cause = NULL, buf[256];
	int		 lfd, n, closing = 0;
	ssize_t		 r;

	/* One deliverer per database, even if an old one still lingers. */
	lock = xasprintf("%s.alert-lock", db);
	if ((lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) == -1 ||
	    flock(lfd, LOCK_EX) == -1) {
		log_error("alerts: %s: %s", lock, strerror(errno));
		free(lock);
		return 1;
	}
	free(lock);
	if ((st = state_open(db, STATE_RDWR, &cause)) == NULL) {
		log_error("alerts: %s", cause);
		free(cause);
		return 1;
	}
	for (;;) {
		if ((n = alert_deliver(st, &cause)) < 0) {
			log_error("%s", cause);
			free(cause);
			cause = NULL;
		}
		if (closing)
			break;
		if (n > 0)
			continue;
		pfd.fd = rd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, n < 0 ? 1000 : 250) > 0) {
			while ((r = read(rd, buf, sizeof buf)) > 0)
				;
			if (r == 0)
				closing = 1;	/* the daemon is stopping */
		}
	}
	state_close(st);
	if (http != NULL) {
		curl_easy_cleanup(http);
		curl_global_cleanup();
	}
	return 0;
}

int
alert_main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "meshd: %s is for meshd's own use\n",
		    ALERT_DELIVERER_ARG);
		return 2;
	}
	selfexec_log_apply(argv[1]);
	return alert_child(argv[0], SELFEXEC_KICK_FD);
}

int
alert_start(const struct meshd_config *cfg, char **cause)
{
	char	*argv[5];
	pid_t	 pid;

	if (al_pid != -1)
		return 0;
	argv[0] = NULL;
	argv[1] = (char *)ALERT_DELIVERER_ARG;
	argv[2] = cfg->state_db;
	argv[3] = (char *)selfexec_log_flags();
	argv[4] = NULL;
	al_started = mono_us();
	if ((pid = selfexec_spawn(argv, &al_kick, "alerts", cause)) == -1)
		return -1;
	al_pid = pid;
	log_debug("alerts: deliverer started (pid %ld)", (long)pid);
	return 0;
}

void
alert_watch(const struct meshd_config *cfg)
{
	char	*cause = NULL;

	if (al_pid == -1 && al_started == 0)
		return;		/* never started: not a daemon */
	if (selfexec_running(&al_pid, &al_kick, "alerts") ||
	    mono_us() - al_started < 5000000)
		return;
	if (alert_start(cfg, &cause) != 0) {
		log_error("%s", cause);
		free(cause);
	}
}

int64_t
alert_watch_next(void)
{
	if (al_pid != -1 || al_started == 0)
		return INT64_MAX;
	return al_started + 5000000;
}

void
alert_kick(void)
{
	/* A full pipe already holds a kick. */
	if (al_kick != -1 && write(al_kick, "", 1) == -1)
		return;
}

void
alert_stop(void)
{
	selfexec_stop(&al_pid, &al_kick);
}
