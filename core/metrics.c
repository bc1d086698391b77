/*
 * metrics.c -- /metrics: running aggregates advanced from watermarks, and
 * the Prometheus text exposition of them (metrics.h).  No SQL here: the
 * queries are read-metrics.c's.
 *
 * What a scrape reads, all inside one read transaction so that the
 * figures agree with each other:
 *  - attempts: those last seen running, again by id, then every attempt
 *    with an id above the watermark (the largest id seen).  An ended one
 *    is counted once, by job, stage and state, into its duration
 *    histogram and, for a successful publish, into its product's
 *    publications and rows; a running one joins the running set.
 *  - runs: those whose ended_us is at or after the newest one seen less
 *    RUN_OVERLAP, minus the (id, ended_us) pairs already counted.  A rerun
 *    ends again with a newer ended_us and counts again.  The overlap
 *    covers runs whose end was committed after a later one's (a wall
 *    clock stepped back by less than that).
 *  - gauges: from index ranges of what is pending (read-metrics.c) and
 *    from meshd's health file.
 * A scrape whose reading fails changes nothing: what it read is applied
 * only once everything was read.
 *
 * The first scrape of a child reads the history instead, once: every
 * attempt streamed in id order and summed here into a new set of
 * aggregates (a million in about a second: no sort), and the runs by job
 * and final state (a GROUP BY over runs_state).  Its time is the one
 * slow scrape of a child; meshd_metrics_render_seconds shows each.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "job.h"
#include "metrics.h"
#include "read.h"
#include "read-metrics.h"
#include "state.h"
#include "util.h"

/* How far back the runs' window reaches behind the newest end seen: the
 * window is read at every scrape, so it costs the runs that ended in it
 * (a busy meshd ends thousands a second).  meshd is the one writer and
 * commits run ends in the order it stamps them, so only a wall clock
 * stepped back by more than this can commit an end before the window. */
#define RUN_OVERLAP_US	(5 * (int64_t)1000000)

/* Histogram buckets of attempt durations: from a quick check to a long
 * extract. */
static const int64_t metrics_bounds_us[] = {
	100000, 500000, 1000000, 5000000, 10000000, 30000000, 60000000,
	300000000, 900000000, 1800000000, 3600000000, 10800000000
};
static const char *const metrics_bounds_s[] = {
	"0.1", "0.5", "1", "5", "10", "30", "60", "300", "900", "1800",
	"3600", "10800"
};
#define NBOUNDS	nitems(metrics_bounds_us)

static const char *const attempt_states[] = { "success", "failed", "retry",
    "skipped" };
#define NASTATES nitems(attempt_states)
static const char *const run_states[] = { "success", "failed", "cancelled" };
#define NRSTATES nitems(run_states)

/* Attempts of one job and stage. */
struct magg {
	char	*job, *stage;
	int64_t	 n[NASTATES];
	int64_t	 bucket[NBOUNDS + 1];	/* not cumulative */
	int64_t	 count, sum_us;
};

struct mrun {
	char	*job;
	int64_t	 n[NRSTATES];
};

struct mprod {
	char	*product;
	int64_t	 publications;
	double	 rows;
};

struct mseen {
	int64_t	id, ended_us;
};

/* What one scrape read, applied once all of it was read. */
struct mrow {
	int	 run;		/* a run, else an attempt */
	int	 group;		/* a run: the history's count of a job */
	int	 running;	/* a run: only remember it as seen */
	char	*job, *task, *stage, *state;
	int64_t	 id, duration_us, count, ended_us;
	double	 rows;
	int	 has_rows;
};

struct mbatch {
	struct mrow	*v;
	size_t		 n, cap;
	int		 seen_only;	/* runs: remember, do not count */
};

struct metrics {
	pthread_mutex_t	 lock;
	int		 ready;		/* the history was read */
	int64_t		 history_reads;
	int64_t		 attempt_wm;	/* largest attempt id seen */
	int64_t		*running;	/* attempts seen running */
	size_t		 nrunning, running_cap;
	int64_t		 run_wm;	/* newest run ended_us seen */
	struct mseen	*seen;		/* runs counted, within the overlap */
	size_t		 nseen, seen_cap;
	struct magg	*agg;		/* sorted by job, stage */
	size_t		 nagg, agg_cap;
	struct mrun	*runs;		/* sorted by job */
	size_t		 nruns, runs_cap;
	struct mprod	*prods;		/* sorted by product */
	size_t		 nprods, prods_cap;
	int64_t		 last_us;	/* the previous scrape took */
};

struct metrics *
metrics_new(void)
{
	struct metrics	*m = xcalloc(1, sizeof *m);

	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void
metrics_free(struct metrics *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nagg; i++) {
		free(m->agg[i].job);
		free(m->agg[i].stage);
	}
	for (i = 0; i < m->nruns; i++)
		free(m->runs[i].job);
	for (i = 0; i < m->nprods; i++)
		free(m->prods[i].product);
	free(m->agg);
	free(m->runs);
	free(m->prods);
	free(m->running);
	free(m->seen);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

int64_t
metrics_history_reads(struct metrics *m)
{
	int64_t	n;

	pthread_mutex_lock(&m->lock);
	n = m->history_reads;
	pthread_mutex_unlock(&m->lock);
	return n;
}

static int
state_index(const char *const *v, size_t n, const char *s)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return (int)i;
	return -1;
}

/* ------------------------------------------------------------ aggregates */

/* The entry for (job, stage), made if new; the array stays sorted so
 * that the exposition comes out in a stable order. */
static struct magg *
agg_get(struct metrics *m, const char *job, const char *stage)
{
	size_t	lo = 0, hi = m->nagg, mid;
	int	c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = strcmp(m->agg[mid].job, job);
		if (c == 0)
			c = strcmp(m->agg[mid].stage, stage);
		if (c == 0)
			return &m->agg[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (m->nagg == m->agg_cap) {
		m->agg_cap = m->agg_cap == 0 ? 16 : m->agg_cap * 2;
		m->agg = xreallocarray(m->agg, m->agg_cap, sizeof *m->agg);
	}
	memmove(&m->agg[lo + 1], &m->agg[lo], (m->nagg - lo) * sizeof *m->agg);
	m->nagg++;
	memset(&m->agg[lo], 0, sizeof *m->agg);
	m->agg[lo].job = xstrdup(job);
	m->agg[lo].stage = xstrdup(stage);
	return &m->agg[lo];
}

static struct mrun *
run_get(struct metrics *m, const char *job)
{
	size_t	lo = 0, hi = m->nruns, mid;
	int	c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(m->runs[mid].job, job)) == 0)
			return &m->runs[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (m->nruns == m->runs_cap) {
		m->runs_cap = m->runs_cap == 0 ? 16 : m->runs_cap * 2;
		m->runs = xreallocarray(m->runs, m->runs_cap, sizeof *m->runs);
	}
	memmove(&m->runs[lo + 1], &m->runs[lo], (m->nruns - lo) *
	    sizeof *m->runs);
	m->nruns++;
	memset(&m->runs[lo], 0, sizeof *m->runs);
	m->runs[lo].job = xstrdup(job);
	return &m->runs[lo];
}

static struct mprod *
prod_get(struct metrics *m, const char *product)
{
	size_t	lo = 0, hi = m->nprods, mid;
	int	c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(m->prods[mid].product, product)) == 0)
			return &m->prods[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (m->nprods == m->prods_cap) {
		m->prods_cap = m->prods_cap == 0 ? 16 : m->prods_cap * 2;
		m->prods = xreallocarray(m->prods, m->prods_cap,
		    sizeof *m->prods);
	}
	memmove(&m->prods[lo + 1], &m->prods[lo], (m->nprods - lo) *
	    sizeof *m->prods);
	m->nprods++;
	memset(&m->prods[lo], 0, sizeof *m->prods);
	m->prods[lo].product = xstrdup(product);
	return &m->prods[lo];
}

/* The product task `task` of `job` builds, or NULL (the job's file is
 * gone or the task builds none). */
static const char *
task_product(const struct read_ctx *ctx, const char *job, const char *task)
{
	const struct job_def	*def;
	size_t			 i;

	if (ctx->jobs == NULL || (def = jobset_find(ctx->jobs, job)) == NULL)
		return NULL;
	for (i = 0; i < def->ntasks; i++)
		if (strcmp(def->tasks[i].id, task) == 0)
			return def->tasks[i].product;
	return NULL;
}

static int
bucket_of(int64_t us)
{
	size_t	i;

	for (i = 0; i < NBOUNDS; i++)
		if (us <= metrics_bounds_us[i])
			break;
	return (int)i;
}

static void
running_add(struct metrics *m, int64_t id)
{
	if (m->nrunning == m->running_cap) {
		m->running_cap = m->running_cap == 0 ? 16 :
		    m->running_cap * 2;
		m->running = xreallocarray(m->running, m->running_cap,
		    sizeof *m->running);
	}
	m->running[m->nrunning++] = id;
}

static int
seen_cmp(const void *a, const void *b)
{
	const struct mseen	*x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	if (x->ended_us != y->ended_us)
		return x->ended_us < y->ended_us ? -1 : 1;
	return 0;
}

static int
seen_has(struct metrics *m, int64_t id, int64_t ended_us)
{
	struct mseen	key = { id, ended_us };

	if (m->nseen == 0)
		return 0;	/* bsearch() wants an array, even empty */
	return bsearch(&key, m->seen, m->nseen, sizeof *m->seen,
	    seen_cmp) != NULL;
}

/* Count one attempt, or add it to the running set. */
static void
apply_attempt(struct metrics *m, const struct read_ctx *ctx,
    const struct read_metrics_attempt *a)
{
	struct magg	*g;
	struct mprod	*p;
	const char	*product;
	int64_t		 us;
	int		 s;

	if (strcmp(a->state, "running") == 0) {
		running_add(m, a->id);
		return;
	}
	if ((s = state_index(attempt_states, NASTATES, a->state)) == -1)
		return;
	/* A wall clock stepped back mid-attempt is no negative time. */
	us = a->duration_us > 0 ? a->duration_us : 0;
	g = agg_get(m, a->job, a->stage);
	g->n[s]++;
	g->bucket[bucket_of(us)]++;
	g->count++;
	g->sum_us += us;
	if (s == 0 && strcmp(a->stage, "publish") == 0 &&
	    (product = task_product(ctx, a->job, a->task)) != NULL) {
		p = prod_get(m, product);
		p->publications++;
		p->rows += a->has_rows ? a->rows : 0;
	}
}

/* Apply one run: counted unless it is the history's or already seen. */
static void
apply_run(struct metrics *m, const struct mrow *r, struct mseen **add,
    size_t *nadd, int seen_only)
{
	int	s;

	if ((s = state_index(run_states, NRSTATES, r->state)) == -1)
		return;
	if (!r->group) {
		if (seen_has(m, r->id, r->ended_us))
			return;
		*add = xreallocarray(*add, *nadd + 1, sizeof **add);
		(*add)[*nadd].id = r->id;
		(*add)[(*nadd)++].ended_us = r->ended_us;
		if (r->ended_us > m->run_wm)
			m->run_wm = r->ended_us;
		if (seen_only)
			return;
	}
	run_get(m, r->job)->n[s] += r->count;
}

/* Forget runs that ended before the window. */
static void
seen_prune(struct metrics *m)
{
	size_t	i, k = 0;

	for (i = 0; i < m->nseen; i++)
		if (m->seen[i].ended_us >= m->run_wm - RUN_OVERLAP_US)
			m->seen[k++] = m->seen[i];
	m->nseen = k;
}

/* ------------------------------------------------------------ reading */

static struct mrow *
batch_push(struct mbatch *b)
{
	if (b->n == b->cap) {
		b->cap = b->cap == 0 ? 64 : b->cap * 2;
		b->v = xreallocarray(b->v, b->cap, sizeof *b->v);
	}
	memset(&b->v[b->n], 0, sizeof *b->v);
	return &b->v[b->n++];
}

static void
batch_free(struct mbatch *b)
{
	size_t	i;

	for (i = 0; i < b->n; i++) {
		free(b->v[i].job);
		free(b->v[i].task);
		free(b->v[i].stage);
		free(b->v[i].state);
	}
	free(b->v);
	memset(b, 0, sizeof *b);
}

static int
on_attempt(void *arg, const struct read_metrics_attempt *a)
{
	struct mrow	*r = batch_push(arg);

	r->job = xstrdup(a->job);
	r->task = xstrdup(a->task);
	r->stage = xstrdup(a->stage);
	r->state = xstrdup(a->state);
	r->id = a->id;
	r->duration_us = a->duration_us;
	r->rows = a->rows;
	r->has_rows = a->has_rows;
	return 0;
}

/* The history: summed straight into a new set of aggregates, without a
 * copy of each of a million rows. */
struct hist {
	struct metrics		*h;
	const struct read_ctx	*ctx;
};

static int
on_history(void *arg, const struct read_metrics_attempt *a)
{
	struct hist	*x = arg;

	apply_attempt(x->h, x->ctx, a);
	return 0;
}

static int
on_run(void *arg, const struct read_metrics_run *x)
{
	struct mbatch	*b = arg;
	struct mrow	*r = batch_push(b);

	r->run = 1;
	r->group = x->id == 0;
	r->running = b->seen_only;	/* a history run only remembered */
	r->job = xstrdup(x->job);
	r->state = xstrdup(x->state);
	r->id = x->id;
	r->ended_us = x->ended_us;
	r->count = x->count;
	return 0;
}

/*
 * Read what changed into b, nothing applied; or, at the first scrape, the
 * history: its attempts summed into *hp, a new set of aggregates, its
 * runs into b.  *wm is the attempts' new watermark.
 */
static int
metrics_read(struct metrics *m, struct read_ctx *ctx, struct mbatch *b,
    struct metrics **hp, int64_t *wm, struct read_error *err)
{
	struct mbatch	 seen = { 0 };
	struct hist	 x;
	size_t		 i;

	*wm = m->attempt_wm;
	*hp = NULL;
	if (!m->ready) {
		x.h = *hp = metrics_new();
		x.ctx = ctx;
		if (read_metrics_attempts_init(ctx->st, wm, on_history, &x,
		    err) != 0 ||
		    read_metrics_runs_init(ctx->st, &x.h->run_wm, on_run, b,
		    err) != 0)
			return -1;
		/* The runs in the window are counted by the history:
		 * remember them so that the next scrape does not count them
		 * again. */
		seen.seen_only = 1;
		if (read_metrics_runs_ended(ctx->st, x.h->run_wm -
		    RUN_OVERLAP_US, on_run, &seen, err) != 0) {
			batch_free(&seen);
			return -1;
		}
		for (i = 0; i < seen.n; i++)
			*batch_push(b) = seen.v[i];
		free(seen.v);
		return 0;
	}
	if (read_metrics_attempts_by_id(ctx->st, m->running, m->nrunning,
	    on_attempt, b, err) != 0 ||
	    read_metrics_attempts_after(ctx->st, m->attempt_wm, wm, on_attempt,
	    b, err) != 0 ||
	    read_metrics_runs_ended(ctx->st, m->run_wm - RUN_OVERLAP_US, on_run,
	    b, err) != 0)
		return -1;
	return 0;
}

#define SWAP(a, b) do {							\
	__typeof__(a) t_ = (a);						\
	(a) = (b);							\
	(b) = t_;							\
} while (0)

static void
metrics_apply(struct metrics *m, const struct read_ctx *ctx,
    struct mbatch *b, struct metrics *h, int64_t wm)
{
	struct read_metrics_attempt	 a;
	struct mseen			*add = NULL;
	size_t				 nadd = 0, i;

	if (h != NULL) {
		/* The history's aggregates become these (empty until now:
		 * nothing is applied before the history). */
		SWAP(m->agg, h->agg);
		SWAP(m->nagg, h->nagg);
		SWAP(m->agg_cap, h->agg_cap);
		SWAP(m->prods, h->prods);
		SWAP(m->nprods, h->nprods);
		SWAP(m->prods_cap, h->prods_cap);
		SWAP(m->running, h->running);
		SWAP(m->nrunning, h->nrunning);
		SWAP(m->running_cap, h->running_cap);
		m->run_wm = h->run_wm;
	} else {
		/* The running set is rebuilt from what was read: those
		 * still running come back with the new ones. */
		m->nrunning = 0;
	}
	for (i = 0; i < b->n; i++) {
		if (b->v[i].run) {
			apply_run(m, &b->v[i], &add, &nadd, b->v[i].running);
			continue;
		}
		memset(&a, 0, sizeof a);
		a.id = b->v[i].id;
		a.job = b->v[i].job;
		a.task = b->v[i].task;
		a.stage = b->v[i].stage;
		a.state = b->v[i].state;
		a.duration_us = b->v[i].duration_us;
		a.rows = b->v[i].rows;
		a.has_rows = b->v[i].has_rows;
		apply_attempt(m, ctx, &a);
	}
	m->attempt_wm = wm;
	if (nadd > 0) {
		m->seen = xreallocarray(m->seen, m->nseen + nadd,
		    sizeof *m->seen);
		memcpy(&m->seen[m->nseen], add, nadd * sizeof *add);
		m->nseen += nadd;
		qsort(m->seen, m->nseen, sizeof *m->seen, seen_cmp);
	}
	free(add);
	seen_prune(m);
	if (!m->ready) {
		m->ready = 1;
		m->history_reads++;
	}
}

/* ------------------------------------------------------------ exposition */

void
metrics_escape_label(struct http_reply *r, const char *s)
{
	const char	*p;

	if (s == NULL)
		return;
	for (p = s; *p != '\0'; p++) {
		if (*p != '\\' && *p != '"' && *p != '\n')
			continue;
		http_reply_add(r, s, (size_t)(p - s));
		http_reply_add(r, *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" :
		    "\\n", 2);
		s = p + 1;
	}
	http_reply_add(r, s, (size_t)(p - s));
}

void
metrics_escape_help(struct http_reply *r, const char *s)
{
	const char	*p;

	if (s == NULL)
		return;
	for (p = s; *p != '\0'; p++) {
		if (*p != '\\' && *p != '\n')
			continue;
		http_reply_add(r, s, (size_t)(p - s));
		http_reply_add(r, *p == '\\' ? "\\\\" : "\\n", 2);
		s = p + 1;
	}
	http_reply_add(r, s, (size_t)(p - s));
}

static void
family(struct http_reply *r, const char *name, const char *type,
    const char *help)
{
	http_reply_printf(r, "# HELP %s ", name);
	metrics_escape_help(r, help);
	http_reply_printf(r, "\n# TYPE %s %s\n", name, type);
}

/* name{k1="v1",...} : labels as NULL-terminated name, value pairs. */
static void
sample_start(struct http_reply *r, const char *name, const char *const *kv)
{
	size_t	i;

	http_reply_printf(r, "%s", name);
	for (i = 0; kv != NULL && kv[i] != NULL; i += 2) {
		http_reply_printf(r, "%s%s=\"", i == 0 ? "{" : ",", kv[i]);
		metrics_escape_label(r, kv[i + 1]);
		http_reply_add(r, "\"", 1);
	}
	if (kv != NULL && kv[0] != NULL)
		http_reply_add(r, "}", 1);
}

static void
sample_int(struct http_reply *r, const char *name, const char *const *kv,
    int64_t v)
{
	sample_start(r, name, kv);
	http_reply_printf(r, " %lld\n", (long long)v);
}

static void
sample_double(struct http_reply *r, const char *name, const char *const *kv,
    double v)
{
	sample_start(r, name, kv);
	http_reply_printf(r, " %.15g\n", v);
}

static void
gauge_int(struct http_reply *r, const char *name, const char *help,
    int64_t v)
{
	family(r, name, "gauge", help);
	sample_int(r, name, NULL, v);
}

static double
age_s(const struct read_ctx *ctx, int64_t since_us)
{
	if (since_us <= 0 || ctx->now_us <= since_us)
		return 0;
	return (double)(ctx->now_us - since_us) / 1e6;
}

static void
render_counts(struct metrics *m, struct http_reply *r)
{
	const char	*kv[9];
	char		 sum[64];
	int64_t		 cum;
	size_t		 i, s;

	family(r, "meshd_runs_total", "counter", "Runs that ended, by job "
	    "and final state (a rerun counts each time it ends).");
	for (i = 0; i < m->nruns; i++)
		for (s = 0; s < NRSTATES; s++) {
			kv[0] = "job"; kv[1] = m->runs[i].job;
			kv[2] = "state"; kv[3] = run_states[s];
			kv[4] = NULL;
			sample_int(r, "meshd_runs_total", kv,
			    m->runs[i].n[s]);
		}
	family(r, "meshd_attempts_total", "counter", "Attempts that ended, "
	    "by job, stage and state (retry: failed, tried again).");
	for (i = 0; i < m->nagg; i++)
		for (s = 0; s < NASTATES; s++) {
			kv[0] = "job"; kv[1] = m->agg[i].job;
			kv[2] = "stage"; kv[3] = m->agg[i].stage;
			kv[4] = "state"; kv[5] = attempt_states[s];
			kv[6] = NULL;
			sample_int(r, "meshd_attempts_total", kv,
			    m->agg[i].n[s]);
		}
	family(r, "meshd_attempt_duration_seconds", "histogram", "How long "
	    "ended attempts took, by job and stage.");
	for (i = 0; i < m->nagg; i++) {
		kv[0] = "job"; kv[1] = m->agg[i].job;
		kv[2] = "stage"; kv[3] = m->agg[i].stage;
		kv[4] = "le";
		kv[6] = NULL;
		cum = 0;
		for (s = 0; s <= NBOUNDS; s++) {
			cum += m->agg[i].bucket[s];
			kv[5] = s < NBOUNDS ? metrics_bounds_s[s] : "+Inf";
			sample_int(r, "meshd_attempt_duration_seconds_bucket",
			    kv, cum);
		}
		kv[4] = NULL;
		snprintf(sum, sizeof sum, "%lld.%06lld",
		    (long long)(m->agg[i].sum_us / 1000000),
		    (long long)(m->agg[i].sum_us % 1000000));
		sample_start(r, "meshd_attempt_duration_seconds_sum", kv);
		http_reply_printf(r, " %s\n", sum);
		sample_int(r, "meshd_attempt_duration_seconds_count", kv,
		    m->agg[i].count);
	}
	family(r, "meshd_attempts_running", "gauge", "Attempts running now.");
	sample_int(r, "meshd_attempts_running", NULL, (int64_t)m->nrunning);
	family(r, "meshd_product_publications_total", "counter",
	    "Partitions published (a republication counts again), by "
	    "product.");
	for (i = 0; i < m->nprods; i++) {
		kv[0] = "product"; kv[1] = m->prods[i].product; kv[2] = NULL;
		sample_int(r, "meshd_product_publications_total", kv,
		    m->prods[i].publications);
	}
	family(r, "meshd_product_published_rows_total", "counter",
	    "Rows published (the publish stage's \"rows\" metric), by "
	    "product.");
	for (i = 0; i < m->nprods; i++) {
		kv[0] = "product"; kv[1] = m->prods[i].product; kv[2] = NULL;
		sample_double(r, "meshd_product_published_rows_total", kv,
		    m->prods[i].rows);
	}
}

/* The products' figures of one scrape, read afresh each time. */
struct mprods {
	struct mprodrow {
		char	*product;
		int64_t	 v[4];	/* as metrics_prod_fam[] */
	}	*v;
	size_t	 n;
};

static const struct {
	const char	*name, *type, *help;
} metrics_prod_fam[] = {
	{ "meshd_product_late_partitions_total", "counter",
	  "Partitions found late against the product's freshness SLO (not "
	  "published by interval end + freshness_seconds)." },
	{ "meshd_product_late_unpublished_partitions", "gauge",
	  "Partitions found late and still not published." },
	{ "meshd_product_quarantined_partitions", "gauge",
	  "Partitions quarantined by failed checks." },
	{ "meshd_product_freshness_slo_seconds", "gauge",
	  "The product's freshness_seconds (0: no SLO)." },
};

static int
on_product(void *arg, const struct read_metrics_product *p)
{
	struct mprods	*ps = arg;
	struct mprodrow	*row;

	ps->v = xreallocarray(ps->v, ps->n + 1, sizeof *ps->v);
	row = &ps->v[ps->n++];
	row->product = xstrdup(p->product);
	row->v[0] = p->late_count;
	row->v[1] = p->late_unpublished;
	row->v[2] = p->quarantined;
	row->v[3] = p->freshness_s;
	return 0;
}

static void
mprods_free(struct mprods *ps)
{
	size_t	i;

	for (i = 0; i < ps->n; i++)
		free(ps->v[i].product);
	free(ps->v);
	memset(ps, 0, sizeof *ps);
}

static void
render_products(struct http_reply *r, const struct mprods *ps)
{
	const char	*kv[3];
	size_t		 f, i;

	for (f = 0; f < nitems(metrics_prod_fam); f++) {
		family(r, metrics_prod_fam[f].name, metrics_prod_fam[f].type,
		    metrics_prod_fam[f].help);
		for (i = 0; i < ps->n; i++) {
			kv[0] = "product";
			kv[1] = ps->v[i].product;
			kv[2] = NULL;
			sample_int(r, metrics_prod_fam[f].name, kv,
			    ps->v[i].v[f]);
		}
	}
}

static void
render_gauges(const struct read_ctx *ctx, struct http_reply *r,
    const struct read_metrics_gauges *g)
{
	const char	*kv[3];

	family(r, "meshd_runs_active", "gauge", "Runs queued or running, "
	    "by state.");
	kv[0] = "state"; kv[1] = "queued"; kv[2] = NULL;
	sample_int(r, "meshd_runs_active", kv, g->runs_queued);
	kv[1] = "running";
	sample_int(r, "meshd_runs_active", kv, g->runs_running);
	gauge_int(r, "meshd_requests_pending", "Operators' requests "
	    "(trigger, backfill, clear, cancel, pause) not yet carried out.",
	    g->requests_pending);
	family(r, "meshd_requests_oldest_age_seconds", "gauge", "Age of the "
	    "oldest pending request (0: none).");
	sample_double(r, "meshd_requests_oldest_age_seconds", NULL,
	    age_s(ctx, g->requests_oldest_us));
	gauge_int(r, "meshd_lineage_outbox_backlog", "Lineage events not "
	    "yet acknowledged by the slowest sink.", g->lineage_backlog);
	family(r, "meshd_lineage_outbox_oldest_age_seconds", "gauge", "Age "
	    "of the oldest unacknowledged lineage event (0: none).");
	sample_double(r, "meshd_lineage_outbox_oldest_age_seconds", NULL,
	    age_s(ctx, g->lineage_oldest_us));
	gauge_int(r, "meshd_alert_outbox_backlog", "Alerts not yet "
	    "delivered.", g->alerts_pending);
	family(r, "meshd_alert_outbox_oldest_age_seconds", "gauge", "Age of "
	    "the oldest undelivered alert (0: none).");
	sample_double(r, "meshd_alert_outbox_oldest_age_seconds", NULL,
	    age_s(ctx, g->alerts_oldest_us));
	gauge_int(r, "meshd_backfills_active", "Backfills pending, running "
	    "or cancelling.", g->backfills_active);
}

/* The daemon's own figures, from its health file (meshd-health.c);
 * absent when no meshd runs. */
static void
render_health(const struct read_ctx *ctx, struct http_reply *r)
{
	json_t		*h = ctx->health, *v;
	const char	*kv[3];

	gauge_int(r, "meshd_up", "1 if meshd (the scheduler) runs and "
	    "writes its health file, else 0.", h != NULL);
	if (h == NULL)
		return;
	family(r, "meshd_launching", "gauge", "1 if meshd launches attempts, "
	    "0 while it is paused by a fault (disk, lock, state).");
	v = json_object_get(h, "launching");
	sample_int(r, "meshd_launching", NULL, json_is_string(v) &&
	    strcmp(json_string_value(v), "on") == 0);
	if (json_is_integer(v = json_object_get(h, "workers_busy"))) {
		family(r, "meshd_workers", "gauge", "Worker processes, busy "
		    "(running an attempt) or idle.");
		kv[0] = "state"; kv[1] = "busy"; kv[2] = NULL;
		sample_int(r, "meshd_workers", kv, json_integer_value(v));
		kv[1] = "idle";
		sample_int(r, "meshd_workers", kv, json_integer_value(
		    json_object_get(h, "workers_idle")));
	}
	if (json_is_integer(v = json_object_get(h, "queued_runs")))
		gauge_int(r, "meshd_scheduler_queued_runs", "Runs waiting in "
		    "meshd's queue for a place (inputs, limits, workers).",
		    json_integer_value(v));
	if (json_is_integer(v = json_object_get(h, "loop_lag_us"))) {
		family(r, "meshd_scheduler_loop_lag_seconds", "gauge",
		    "Longest delay of meshd's scheduler loop in its last "
		    "second: work of one pass, or overrun of a wait.");
		sample_double(r, "meshd_scheduler_loop_lag_seconds", NULL,
		    (double)json_integer_value(v) / 1e6);
	}
	if (json_is_integer(v = json_object_get(h, "held_results")))
		gauge_int(r, "meshd_held_results", "Results held in memory "
		    "while the state cannot be written.",
		    json_integer_value(v));
	if (json_is_array(v = json_object_get(h, "broken_jobs")))
		gauge_int(r, "meshd_broken_jobs", "Jobs refused at the last "
		    "start or reload.", (int64_t)json_array_size(v));
}

int
metrics_render(struct metrics *m, struct read_ctx *ctx,
    struct http_reply *r)
{
	struct read_error		err = { 0, "" };
	struct read_metrics_gauges	g;
	struct mprods			ps = { NULL, 0 };
	struct mbatch			b = { 0 };
	struct metrics			*h = NULL;
	const char			*kv[3];
	int64_t				wm, t0 = mono_us(), last;

	pthread_mutex_lock(&m->lock);
	if (read_metrics_begin(ctx->st, &err) != 0 ||
	    metrics_read(m, ctx, &b, &h, &wm, &err) != 0 ||
	    read_metrics_gauges(ctx->st, &g, &err) != 0 ||
	    read_metrics_products(ctx->st, on_product, &ps, &err) != 0) {
		read_metrics_end(ctx->st);
		pthread_mutex_unlock(&m->lock);
		batch_free(&b);
		mprods_free(&ps);
		metrics_free(h);
		http_reply_error(r, err.status != 0 ? err.status : 503,
		    "metrics: %s", err.message);
		return -1;
	}
	read_metrics_end(ctx->st);
	metrics_apply(m, ctx, &b, h, wm);
	metrics_free(h);
	batch_free(&b);

	http_reply_reset(r);
	r->status = 200;
	r->content_type = METRICS_CONTENT_TYPE;
	family(r, "meshd_build_info", "gauge", "meshd's version; always 1.");
	kv[0] = "version"; kv[1] = PACKAGE_VERSION; kv[2] = NULL;
	sample_int(r, "meshd_build_info", kv, 1);
	render_health(ctx, r);
	render_counts(m, r);
	last = m->last_us;
	pthread_mutex_unlock(&m->lock);
	render_gauges(ctx, r, &g);
	render_products(r, &ps);
	mprods_free(&ps);
	family(r, "meshd_metrics_render_seconds", "gauge", "How long the "
	    "previous /metrics took to read and render in this HTTP child.");
	sample_double(r, "meshd_metrics_render_seconds", NULL,
	    (double)last / 1e6);
	pthread_mutex_lock(&m->lock);
	m->last_us = mono_us() - t0;
	pthread_mutex_unlock(&m->lock);
	return 0;
}
