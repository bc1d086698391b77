/*
 * hostile_forge.c -- test plugin that forges messages: into every socket
 * among its descriptors it writes, by param mode, "garbage" (4 bytes that
 * read as a RESULT type), "result" (well-formed RESULT frames, status OK,
 * for attempt ids 1 to 64 and sequence numbers 0 to 7, in the layout of
 * wire.h but without the worker's nonce), "old" (the RESULT layout of
 * meshd before issue 10) or "big" (one datagram of 150 KiB, more than the
 * supervisor reads).  Then it returns MESHD_FAILED: the attempt must
 * never be recorded as a success.
 */
#include <sys/socket.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <meshd/plugin.h>

#define FORGE_RESULT	7	/* WIRE_RESULT */

static size_t
put(unsigned char *p, size_t off, const void *v, size_t n)
{
	memcpy(p + off, v, n);
	return off + n;
}

static void
forge(int fd, const char *mode)
{
	static unsigned char	big[150 * 1024];
	unsigned char		msg[128];
	uint32_t		type = FORGE_RESULT, seq, nul = 0xffffffffu;
	uint64_t		nonce = 0;
	int64_t			id, t = 0;
	int32_t			zero = 0;
	size_t			n;

	if (strcmp(mode, "garbage") == 0) {
		send(fd, &type, 4, MSG_NOSIGNAL | MSG_DONTWAIT);
		return;
	}
	if (strcmp(mode, "big") == 0) {
		memcpy(big, &type, 4);
		send(fd, big, sizeof big, MSG_NOSIGNAL | MSG_DONTWAIT);
		return;
	}
	for (id = 1; id <= 64; id++) {
		for (seq = 0; seq < 8; seq++) {
			n = put(msg, 0, &type, 4);
			if (strcmp(mode, "old") == 0)
				n = put(msg, n, &id, 8);
			else {
				n = put(msg, n, &nonce, 8);
				n = put(msg, n, &id, 8);
				n = put(msg, n, &seq, 4);
			}
			n = put(msg, n, &zero, 4);	/* MESHD_OK */
			n = put(msg, n, &zero, 4);	/* retryable */
			if (strcmp(mode, "old") != 0)
				n = put(msg, n, &zero, 4);	/* infra */
			n = put(msg, n, &nul, 4);	/* reason */
			n = put(msg, n, &nul, 4);	/* message */
			n = put(msg, n, &t, 8);
			n = put(msg, n, &t, 8);
			send(fd, msg, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (strcmp(mode, "old") == 0)
				break;
		}
	}
}

static meshd_status
forge_extract(meshd_ctx *ctx)
{
	const char	*mode = meshd_param_string(ctx, "mode", "garbage");
	DIR		*d;
	struct dirent	*de;
	char		 path[300], target[300];
	ssize_t		 n;

	if ((d = opendir("/proc/self/fd")) == NULL) {
		meshd_set_error(ctx, "no /proc/self/fd");
		return MESHD_FAILED;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
		n = readlink(path, target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, "socket:", 7) == 0)
			forge(atoi(de->d_name), mode);
	}
	closedir(d);
	meshd_set_error(ctx, "the stage really failed");
	return MESHD_FAILED;
}

MESHD_PLUGIN(
	.name = "hostile_forge",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: writes forged messages into its socket",
	.extract = forge_extract,
);
