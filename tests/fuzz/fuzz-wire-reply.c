/*
 * fuzz-wire-reply.c -- libFuzzer target for the supervisor's decoder of
 * worker messages (wire_decode_reply): a plugin can write anything into
 * its worker's socket, so every byte string must decode or be refused
 * without reading out of bounds or leaking.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../core/wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_reply	w;

	if (wire_decode_reply(data, size, &w) == 0) {
		/* A message believed must be one of the five a worker
		 * sends. */
		if (w.type < WIRE_ACK || w.type > WIRE_RESULT)
			__builtin_trap();
	}
	wire_reply_free(&w);
	return 0;
}
