/*
 * slurm-proto.c -- the messages between meshd and its Slurm agent
 * (slurm.h): encode, a strict decoder, and the names shared by both ends.
 *
 * The decoder is pure so that it can be fuzzed (tests/fuzz/fuzz-slurm-
 * proto.c).  Both ends are the same build, yet a message is still
 * believed only when it decodes exactly: a desynchronised or hostile peer
 * must be refused, never half-read.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "slurm.h"
#include "sdk/meshd/plugin.h"

/* Most extra sbatch arguments a CONFIG may carry. */
#define SX_MAX_ARGS	256

void
executor_def_free(struct executor_def *d)
{
	size_t	i;

	if (d == NULL)
		return;
	free(d->name);
	free(d->type);
	free(d->partition);
	for (i = 0; i < d->nsbatch_args; i++)
		free(d->sbatch_args[i]);
	free(d->sbatch_args);
	free(d->worker);
	free(d->spool_dir);
	free(d->time_limit);
	free(d->listen);
	free(d->secret_file);
	memset(d, 0, sizeof *d);
}

char *
slurm_job_name(int64_t attempt_id)
{
	return xasprintf("meshd-%lld", (long long)attempt_id);
}

void
sx_encode(struct wbuf *b, const struct sx_msg *m)
{
	const struct executor_def	*d = &m->def;
	size_t				 i;

	wbuf_init(b, (enum wire_type)m->type);
	switch (m->type) {
	case SX_CONFIG:
		wbuf_str(b, d->name, 0);
		wbuf_i32(b, d->mode);
		wbuf_str(b, d->partition, 0);
		wbuf_i32(b, (int32_t)d->nsbatch_args);
		for (i = 0; i < d->nsbatch_args; i++)
			wbuf_str(b, d->sbatch_args[i], 0);
		wbuf_str(b, d->worker, 0);
		wbuf_str(b, d->spool_dir, 0);
		wbuf_str(b, d->time_limit, 0);
		wbuf_i32(b, d->max_jobs);
		wbuf_i32(b, d->poll_ms);
		wbuf_i32(b, d->start_timeout_s);
		wbuf_i32(b, d->pilots);
		wbuf_i32(b, d->pilot_time_s);
		wbuf_i32(b, d->pilot_slots);
		wbuf_i32(b, d->pilot_idle_s);
		wbuf_str(b, d->listen, 0);
		wbuf_str(b, d->secret_file, 0);
		wbuf_i32(b, m->kill_grace_s);
		break;
	case SX_SUBMIT:
		wbuf_i64(b, m->attempt_id);
		wbuf_str(b, m->job_name, 0);
		wbuf_i32(b, m->index);
		wbuf_str(b, m->attempt_dir, 0);
		wbuf_str(b, m->group, 0);
		wbuf_i64(b, m->timeout_us);
		wbuf_i32(b, m->memory_mb);
		break;
	case SX_ADOPT:
		wbuf_i64(b, m->attempt_id);
		wbuf_str(b, m->job_name, 0);
		wbuf_i32(b, m->index);
		wbuf_str(b, m->ext_id, 0);
		wbuf_str(b, m->attempt_dir, 0);
		wbuf_i64(b, m->timeout_us);
		wbuf_i32(b, m->memory_mb);
		break;
	case SX_CANCEL:
		wbuf_i64(b, m->attempt_id);
		wbuf_str(b, m->why, 0);
		break;
	case SX_UPDATE:
		wbuf_i64(b, m->attempt_id);
		wbuf_str(b, m->ext_id, 0);
		wbuf_str(b, m->ext_state, 0);
		break;
	case SX_DONE:
		wbuf_i64(b, m->attempt_id);
		wbuf_i32(b, m->have_file);
		wbuf_i32(b, m->status);
		wbuf_i32(b, m->retryable);
		wbuf_i32(b, m->infra);
		wbuf_str(b, m->reason, WIRE_STR_MAX);
		wbuf_i64(b, m->started_us);
		wbuf_i64(b, m->ended_us);
		break;
	case SX_COUNTS:
		wbuf_i32(b, m->queued);
		wbuf_i32(b, m->running);
		wbuf_i32(b, m->pilots);
		wbuf_i32(b, m->pilots_busy);
		wbuf_str(b, m->error, WIRE_STR_MAX);
		break;
	default:	/* FLUSH, EXIT: no fields */
		break;
	}
}

/*
 * A string of at most `max` bytes, or NULL.  A string holding a NUL byte
 * is refused: C would read it shorter than it was sent (a path cut at the
 * NUL names another file).
 */
static char *
sx_str(struct rbuf *r, size_t max)
{
	uint32_t	 n;
	char		*s;

	if (r->err || r->len - r->off < sizeof n) {
		r->err = 1;
		return NULL;
	}
	memcpy(&n, r->p + r->off, sizeof n);
	r->off += sizeof n;
	if (n == 0xffffffffU)
		return NULL;
	if (n > max || r->len - r->off < n ||
	    memchr(r->p + r->off, '\0', n) != NULL) {
		r->err = 1;
		return NULL;
	}
	s = xstrndup((const char *)r->p + r->off, n);
	r->off += n;
	return s;
}

static int
sx_flag(int32_t v)
{
	return v == 0 || v == 1;
}

static int
sx_decode_config(struct rbuf *r, struct sx_msg *m)
{
	struct executor_def	*d = &m->def;
	int32_t			 n, i;

	d->name = sx_str(r, WIRE_STR_MAX);
	d->mode = rbuf_i32(r);
	d->partition = sx_str(r, WIRE_STR_MAX);
	n = rbuf_i32(r);
	if (r->err || n < 0 || n > SX_MAX_ARGS ||
	    (size_t)n > (r->len - r->off) / 4)
		return -1;
	if (n > 0) {
		d->sbatch_args = xcalloc((size_t)n, sizeof *d->sbatch_args);
		for (i = 0; i < n && !r->err; i++) {
			d->sbatch_args[i] = sx_str(r, PATH_MAX);
			d->nsbatch_args++;
			if (d->sbatch_args[i] == NULL)
				r->err = 1;
		}
	}
	d->worker = sx_str(r, PATH_MAX);
	d->spool_dir = sx_str(r, PATH_MAX);
	d->time_limit = sx_str(r, WIRE_STR_MAX);
	d->max_jobs = rbuf_i32(r);
	d->poll_ms = rbuf_i32(r);
	d->start_timeout_s = rbuf_i32(r);
	d->pilots = rbuf_i32(r);
	d->pilot_time_s = rbuf_i32(r);
	d->pilot_slots = rbuf_i32(r);
	d->pilot_idle_s = rbuf_i32(r);
	d->listen = sx_str(r, WIRE_STR_MAX);
	d->secret_file = sx_str(r, PATH_MAX);
	m->kill_grace_s = rbuf_i32(r);
	if (r->err)
		return -1;
	if (d->mode != XMODE_JOB && d->mode != XMODE_PILOT)
		return -1;
	if (d->max_jobs < 0 || d->poll_ms < 0 || d->start_timeout_s < 0 ||
	    d->pilots < 0 || d->pilot_time_s < 0 || d->pilot_slots < 0 ||
	    d->pilot_idle_s < 0 || m->kill_grace_s < 0)
		return -1;
	d->type = xstrdup("slurm");
	return 0;
}

int
sx_decode(const void *p, size_t n, struct sx_msg *m)
{
	struct rbuf	r;
	uint32_t	type;

	memset(m, 0, sizeof *m);
	rbuf_init(&r, p, n);
	if (n < sizeof type)
		return -1;
	memcpy(&type, p, sizeof type);
	r.off = sizeof type;
	m->type = type;
	switch (type) {
	case SX_CONFIG:
		if (sx_decode_config(&r, m) != 0)
			goto bad;
		break;
	case SX_SUBMIT:
		m->attempt_id = rbuf_i64(&r);
		m->job_name = sx_str(&r, WIRE_STR_MAX);
		m->index = rbuf_i32(&r);
		m->attempt_dir = sx_str(&r, PATH_MAX);
		m->group = sx_str(&r, WIRE_STR_MAX);
		m->timeout_us = rbuf_i64(&r);
		m->memory_mb = rbuf_i32(&r);
		if (!r.err && (m->job_name == NULL || m->attempt_dir == NULL ||
		    m->index < 0 || m->timeout_us < 0 || m->memory_mb < 0))
			goto bad;
		break;
	case SX_ADOPT:
		m->attempt_id = rbuf_i64(&r);
		m->job_name = sx_str(&r, WIRE_STR_MAX);
		m->index = rbuf_i32(&r);
		m->ext_id = sx_str(&r, WIRE_STR_MAX);
		m->attempt_dir = sx_str(&r, PATH_MAX);
		m->timeout_us = rbuf_i64(&r);
		m->memory_mb = rbuf_i32(&r);
		if (!r.err && (m->job_name == NULL || m->attempt_dir == NULL ||
		    m->index < 0 || m->timeout_us < 0 || m->memory_mb < 0))
			goto bad;
		break;
	case SX_CANCEL:
		m->attempt_id = rbuf_i64(&r);
		m->why = sx_str(&r, WIRE_STR_MAX);
		break;
	case SX_UPDATE:
		m->attempt_id = rbuf_i64(&r);
		m->ext_id = sx_str(&r, WIRE_STR_MAX);
		m->ext_state = sx_str(&r, WIRE_STR_MAX);
		break;
	case SX_DONE:
		m->attempt_id = rbuf_i64(&r);
		m->have_file = rbuf_i32(&r);
		m->status = rbuf_i32(&r);
		m->retryable = rbuf_i32(&r);
		m->infra = rbuf_i32(&r);
		m->reason = sx_str(&r, WIRE_STR_MAX);
		m->started_us = rbuf_i64(&r);
		m->ended_us = rbuf_i64(&r);
		if (!r.err && (!sx_flag(m->have_file) ||
		    !sx_flag(m->retryable) || !sx_flag(m->infra) ||
		    (m->status != MESHD_OK && m->status != MESHD_FAILED &&
		    m->status != MESHD_RETRY && m->status != MESHD_SKIPPED)))
			goto bad;
		break;
	case SX_COUNTS:
		m->queued = rbuf_i32(&r);
		m->running = rbuf_i32(&r);
		m->pilots = rbuf_i32(&r);
		m->pilots_busy = rbuf_i32(&r);
		m->error = sx_str(&r, WIRE_STR_MAX);
		if (!r.err && (m->queued < 0 || m->running < 0 ||
		    m->pilots < 0 || m->pilots_busy < 0))
			goto bad;
		break;
	case SX_FLUSH:
	case SX_EXIT:
		break;
	default:
		goto bad;
	}
	if (r.err || r.off != r.len)
		goto bad;
	return 0;
bad:
	sx_msg_free(m);
	m->type = type;
	return -1;
}

void
sx_msg_free(struct sx_msg *m)
{
	executor_def_free(&m->def);
	free(m->job_name);
	free(m->attempt_dir);
	free(m->group);
	free(m->ext_id);
	free(m->ext_state);
	free(m->why);
	free(m->reason);
	free(m->error);
	memset(m, 0, sizeof *m);
}
