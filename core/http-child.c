/*
 * http-child.c -- `meshd --http LOGFLAGS CONFIG STATE_DB`: the HTTP child's
 * main (http.h).  It holds what requests read: meshd.conf and the jobs as
 * meshd judges them, meshd's health record, and a pool of state
 * connections, and keeps them current while the server's threads answer.
 *
 * What requests read is a snapshot (config, jobs, health) with a count of
 * the requests using it: a reload builds a new one and swaps it in, and the
 * old one is freed by the last request that held it, so no request sees a
 * config freed under it and none waits for a reload.
 *
 * The child reloads when the daemon kicks it (a SIGHUP reload) and when
 * meshd.conf, the jobs directory or meshd's health record change (polled
 * once a second: cheap, and a child that misses a kick still catches up).
 * It exits when the daemon closes the kick pipe, and dies with the daemon
 * anyway (PR_SET_PDEATHSIG, selfexec.c).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "http-int.h"
#include "job.h"
#include "log.h"
#include "read-jobs.h"
#include "selfexec.h"
#include "state.h"
#include "util.h"

struct http_snap {
	struct meshd_config	*cfg;
	struct jobset		 jobs;
	json_t			*health;
	int			 refs;
};

/* The state connections, idle ones kept for the next request. */
#define HTTP_POOL_MAX	16

static struct {
	const char		*config_path;
	const char		*state_db;
	pthread_mutex_t		 lock;
	struct http_snap	*snap;
	struct state		*idle[2][HTTP_POOL_MAX];
	int			 nidle[2];
	struct metrics		*metrics;
	/* What the last load saw: reload when it changes. */
	char			*sig_conf, *sig_jobs;
	struct timespec		 health_mtime;
} hc = { .lock = PTHREAD_MUTEX_INITIALIZER };

static volatile sig_atomic_t hc_stop;

static void
snap_free(struct http_snap *s)
{
	if (s == NULL)
		return;
	jobset_free(&s->jobs);
	config_free(s->cfg);
	json_decref(s->health);
	free(s);
}

struct metrics *
http_child_metrics(void)
{
	return hc.metrics;
}

char *
http_child_token_file(void)
{
	char	*path;

	pthread_mutex_lock(&hc.lock);
	path = xstrdup_null(hc.snap->cfg->http_token_file);
	pthread_mutex_unlock(&hc.lock);
	return path;
}

int
http_child_stopping(void)
{
	return hc_stop;
}

int
http_ctx_get(struct http_ctx *c, int rdwr, struct read_error *err)
{
	struct state	*st = NULL;
	char		*cause = NULL;

	memset(c, 0, sizeof *c);
	c->rdwr = rdwr = !!rdwr;
	pthread_mutex_lock(&hc.lock);
	c->snap = hc.snap;
	c->snap->refs++;
	if (hc.nidle[rdwr] > 0)
		st = hc.idle[rdwr][--hc.nidle[rdwr]];
	pthread_mutex_unlock(&hc.lock);
	/* Opened outside the lock: it may wait for meshd's lock. */
	if (st == NULL && (st = state_open_wait(hc.state_db, rdwr ?
	    STATE_RDWR : STATE_RDONLY, HTTP_STATE_WAIT_MS, &cause)) == NULL) {
		read_fail(err, 503, "%s", cause);
		free(cause);
		http_ctx_put(c);
		return -1;
	}
	c->rc.st = st;
	c->rc.cfg = c->snap->cfg;
	c->rc.jobs = &c->snap->jobs;
	c->rc.jobs_judged = 1;
	c->rc.now_us = now_us();
	/* The health record is swapped under the lock without a new
	 * snapshot (it changes every second on a busy meshd); a request
	 * holds its own reference. */
	pthread_mutex_lock(&hc.lock);
	c->rc.health = json_incref(c->snap->health);
	pthread_mutex_unlock(&hc.lock);
	return 0;
}

void
http_ctx_put(struct http_ctx *c)
{
	struct http_snap	*old = NULL;

	json_decref(c->rc.health);
	pthread_mutex_lock(&hc.lock);
	if (c->rc.st != NULL) {
		if (hc.nidle[c->rdwr] < HTTP_POOL_MAX) {
			hc.idle[c->rdwr][hc.nidle[c->rdwr]++] = c->rc.st;
			c->rc.st = NULL;
		}
	}
	if (c->snap != NULL && --c->snap->refs == 0 && c->snap != hc.snap)
		old = c->snap;
	pthread_mutex_unlock(&hc.lock);
	if (c->rc.st != NULL)
		state_close(c->rc.st);
	snap_free(old);
	memset(c, 0, sizeof *c);
}

/* The read layer's: the same judging and health record as meshctl's. */
static json_t *
child_health(const struct meshd_config *cfg)
{
	pid_t	pid;

	return read_health(cfg, &pid);
}

static void
child_jobs(const struct meshd_config *cfg, struct jobset *js, json_t *health)
{
	struct errlist	errs = ERRLIST_INIT;

	read_jobs_judged(cfg, js, &errs, health);
	errlist_free(&errs);
}

/* A signature of a file or directory's identity and time: changes when it
 * is written or replaced. */
static void
sig_add(char **sig, const char *path)
{
	struct stat	 sb;
	char		*n;

	if (stat(path, &sb) == -1)
		memset(&sb, 0, sizeof sb);
	n = xasprintf("%s%s:%llu:%lld.%09ld:%lld;", *sig != NULL ? *sig : "",
	    path, (unsigned long long)sb.st_ino, (long long)sb.st_mtim.tv_sec,
	    sb.st_mtim.tv_nsec, (long long)sb.st_size);
	free(*sig);
	*sig = n;
}

/* meshd.conf (and what it includes, roughly: its directory). */
static char *
sig_conf(void)
{
	char	*sig = NULL;

	sig_add(&sig, hc.config_path);
	return sig;
}

/* The jobs directory and every *.conf in it, and which of them meshd
 * runs a previous version of. */
static char *
sig_jobs(const struct meshd_config *cfg, json_t *health)
{
	DIR		*dir;
	struct dirent	*de;
	char		*sig = NULL, *p, *b;
	size_t		 n;

	sig_add(&sig, cfg->jobs_dir);
	if ((dir = opendir(cfg->jobs_dir)) != NULL) {
		while ((de = readdir(dir)) != NULL) {
			n = strlen(de->d_name);
			if (n < 6 || strcmp(de->d_name + n - 5, ".conf") != 0)
				continue;
			p = path_join(cfg->jobs_dir, de->d_name);
			sig_add(&sig, p);
			free(p);
		}
		closedir(dir);
	}
	if (health != NULL && (b = json_dumps(json_object_get(health,
	    "broken_jobs"), JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY)) != NULL) {
		p = xasprintf("%s%s", sig, b);
		free(sig);
		free(b);
		sig = p;
	}
	return sig;
}

/*
 * Load (again): meshd.conf, the health record and, when they or the job
 * files changed or `force`, the jobs.  A meshd.conf that no longer loads
 * keeps the previous snapshot (meshd keeps its previous config too).
 */
static int
child_load(int force)
{
	struct errlist		 errs = ERRLIST_INIT;
	struct meshd_config	*cfg;
	struct http_snap	*s, *cur, *old = NULL;
	struct stat		 sb;
	char			*hpath, *sc, *sj;
	json_t			*health;
	size_t			 i;

	hpath = xasprintf("%s.health", hc.state_db);
	if (stat(hpath, &sb) == -1)
		memset(&sb, 0, sizeof sb);
	free(hpath);
	sc = sig_conf();
	cur = hc.snap;
	if (!force && cur != NULL && strcmp(sc, hc.sig_conf) == 0) {
		/* The health record may be written within one mtime tick;
		 * jobs files are checked below only when something moved. */
		if (sb.st_mtim.tv_sec == hc.health_mtime.tv_sec &&
		    sb.st_mtim.tv_nsec == hc.health_mtime.tv_nsec)
			health = json_incref(cur->health);
		else
			health = child_health(cur->cfg);
		hc.health_mtime = sb.st_mtim;
		sj = sig_jobs(cur->cfg, health);
		if (strcmp(sj, hc.sig_jobs) == 0) {
			/* Only meshd's figures moved: swap the record,
			 * keep the judged jobs (judging probes plugins). */
			pthread_mutex_lock(&hc.lock);
			json_decref(cur->health);
			cur->health = health;
			pthread_mutex_unlock(&hc.lock);
			free(sc);
			free(sj);
			return 0;
		}
		json_decref(health);
		free(sj);
	}
	hc.health_mtime = sb.st_mtim;
	if ((cfg = config_load(hc.config_path, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			log_error("http: %s:%d: %s", errs.v[i].file != NULL ?
			    errs.v[i].file : hc.config_path, errs.v[i].line,
			    errs.v[i].msg);
		errlist_free(&errs);
		free(sc);
		if (cur == NULL)
			return -1;
		free(hc.sig_conf);
		hc.sig_conf = sig_conf();
		return 0;
	}
	errlist_free(&errs);
	/* The state meshd runs with, even if meshd.conf names another
	 * now (that takes a restart of meshd). */
	free(cfg->state_db);
	cfg->state_db = xstrdup(hc.state_db);
	health = child_health(cfg);
	sj = sig_jobs(cfg, health);
	s = xcalloc(1, sizeof *s);
	s->cfg = cfg;
	s->health = health;
	s->refs = 1;		/* the child's own */
	child_jobs(cfg, &s->jobs, health);
	free(hc.sig_conf);
	free(hc.sig_jobs);
	hc.sig_conf = sc;
	hc.sig_jobs = sj;
	pthread_mutex_lock(&hc.lock);
	if (cur != NULL && --cur->refs == 0)
		old = cur;
	hc.snap = s;
	pthread_mutex_unlock(&hc.lock);
	snap_free(old);
	log_debug("http: loaded %s: %zu job%s (%zu broken)", hc.config_path,
	    s->jobs.n, s->jobs.n == 1 ? "" : "s", s->jobs.nbroken);
	return 0;
}

static void
child_on_signal(int sig)
{
	(void)sig;
	hc_stop = 1;
}

int
http_main(int argc, char **argv)
{
	struct http_server	*srv;
	struct pollfd		 pfd;
	struct sigaction	 sa;
	char			 buf[64], *cause = NULL;
	ssize_t			 r;
	int			 i, rc = 0, kicked;

	if (argc != 3) {
		fprintf(stderr, "meshd: --http is for meshd's own use\n");
		return 2;
	}
	selfexec_log_apply(argv[0]);
	hc.config_path = argv[1];
	hc.state_db = argv[2];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = child_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (child_load(1) != 0) {
		log_error("http: %s does not load; not serving",
		    hc.config_path);
		return 1;
	}
	if (hc.snap->cfg->http_listen == NULL) {
		log_error("http: %s has no http.listen", hc.config_path);
		rc = 1;
		goto out;
	}
	hc.metrics = metrics_new();
	if ((srv = http_server_start(hc.snap->cfg->http_listen, &cause)) ==
	    NULL) {
		log_error("http: %s", cause);
		free(cause);
		rc = 1;
		goto out;
	}
	log_info("http: serving http://%s/ (pid %ld)",
	    hc.snap->cfg->http_listen, (long)getpid());
	while (!hc_stop) {
		pfd.fd = SELFEXEC_KICK_FD;
		pfd.events = POLLIN;
		kicked = 0;
		if (poll(&pfd, 1, 1000) > 0) {
			while ((r = read(SELFEXEC_KICK_FD, buf, sizeof buf)) >
			    0)
				kicked = 1;
			if (r == 0) {
				hc_stop = 1;	/* the daemon is stopping */
				break;
			}
		}
		child_load(kicked);
	}
	http_server_stop(srv);
out:
	metrics_free(hc.metrics);
	for (i = 0; i < 2; i++)
		while (hc.nidle[i] > 0)
			state_close(hc.idle[i][--hc.nidle[i]]);
	snap_free(hc.snap);
	free(hc.sig_conf);
	free(hc.sig_jobs);
	return rc;
}
