/*
 * fuzz-slurm-proto.c -- the decoder of the messages between meshd and its
 * Slurm agent (slurm.h, sx_decode).  Both ends decode what the other
 * sends; neither may read out of bounds, leak, or believe a message that
 * is not whole.  Properties checked beyond "no crash": a message that
 * decodes is of a known type, encodes again to exactly the same bytes
 * (the decoder is strict: there is one encoding of each message), and
 * each of its strict prefixes is refused.
 */
#include "fuzz.h"

#include "slurm.h"
#include "wire.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sx_msg	m, p;
	struct wbuf	b;
	size_t		cut;

	if (sx_decode(data, size, &m) != 0) {
		sx_msg_free(&m);
		return 0;
	}
	if (m.type < SX_CONFIG || m.type > SX_COUNTS ||
	    (m.type > SX_EXIT && m.type < SX_UPDATE))
		__builtin_trap();
	sx_encode(&b, &m);
	/* DONE and COUNTS cut strings at WIRE_STR_MAX when encoding, and
	 * the decoder refuses longer ones: so the bytes must match. */
	if (b.len != size || memcmp(b.p, data, size) != 0) {
		fprintf(stderr, "fuzz-slurm-proto: type %u re-encodes to %zu "
		    "bytes, not %zu\n", m.type, b.len, size);
		abort();
	}
	/* A few prefixes, not all: each decode is linear. */
	for (cut = 0; cut < size; cut += 1 + size / 16) {
		if (sx_decode(data, cut, &p) == 0)
			abort();
		sx_msg_free(&p);
	}
	wbuf_free(&b);
	sx_msg_free(&m);
	return 0;
}
