/*
 * fuzz-pilot-proto.c -- libFuzzer target for the pilot protocol
 * (core/pilot-proto.h): what a pilot pool reads from anyone who can reach
 * its port before the handshake, and what a pilot reads from its pool.
 *
 * The input is cut into frames as a connection's bytes are
 * (pilot_frame_parse), and each frame's body decoded (pilot_decode); the
 * whole input is also decoded as one body, so the decoder is fuzzed
 * without the framing in the way.  Properties beyond "no crash, no leak":
 * a frame's length is within 1..PILOT_FRAME_MAX and within the input; a
 * message believed is of a known type with attempt ids > 0, and encodes
 * back to exactly the bytes it was decoded from (one encoding per
 * message, so nothing is read that the sender did not mean).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/pilot-proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
reencode(const struct pilot_msg *m, struct wbuf *b)
{
	switch (m->type) {
	case PX_CHALLENGE:
		pilot_enc_challenge(b, m->nonce);
		break;
	case PX_TASK:
		pilot_enc_task(b, m->attempt_id, m->attempt_dir);
		break;
	case PX_CANCEL:
		pilot_enc_cancel(b, m->attempt_id, m->why);
		break;
	case PX_RELEASE:
		pilot_enc_release(b);
		break;
	case PX_WELCOME:
		pilot_enc_welcome(b);
		break;
	case PX_HELLO:
		pilot_enc_hello(b, m->mac, m->job_id, m->slots, m->running,
		    m->nrunning, m->finished, m->nfinished);
		break;
	case PX_STARTED:
		pilot_enc_started(b, m->attempt_id);
		break;
	case PX_HEARTBEAT:
		pilot_enc_heartbeat(b);
		break;
	case PX_DONE:
		pilot_enc_done(b, m->attempt_id, m->have_file, m->why);
		break;
	default:
		__builtin_trap();
	}
}

static void
one(const uint8_t *p, size_t n)
{
	struct pilot_msg	 m;
	struct wbuf		 b;
	char			*cause = NULL;

	if (pilot_decode(p, n, &m, &cause) != 0) {
		if (cause == NULL)
			__builtin_trap();	/* a refusal says why */
		free(cause);
		pilot_msg_free(&m);
		return;
	}
	if (cause != NULL || (m.attempt_id < 0))
		__builtin_trap();
	reencode(&m, &b);
	if (b.len != n || memcmp(b.p, p, n) != 0)
		__builtin_trap();
	wbuf_free(&b);
	pilot_msg_free(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	off = 0, body, len;
	char	*cause = NULL;
	int	 rc;

	one(data, size);
	while ((rc = pilot_frame_parse(data + off, size - off, &body, &len,
	    &cause)) == 1) {
		if (len == 0 || len > PILOT_FRAME_MAX || body != 4 ||
		    len > size - off - 4)
			__builtin_trap();
		one(data + off + body, len);
		off += body + len;
	}
	if (rc == -1) {
		if (cause == NULL)
			__builtin_trap();
		free(cause);
	}
	return 0;
}
