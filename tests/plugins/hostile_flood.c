/*
 * hostile_flood.c -- test plugin that floods stdout: it writes param
 * "mib" MiB (default 2048) of text, or for ever with param forever
 * (bool), then returns MESHD_OK.  The attempt's log must stop at
 * log_max_bytes.
 */
#include <string.h>
#include <unistd.h>

#include <meshd/plugin.h>

static meshd_status
flood_extract(meshd_ctx *ctx)
{
	static char	 buf[65536];
	long long	 left = meshd_param_int(ctx, "mib", 2048) * 1048576LL;
	int		 forever = meshd_param_bool(ctx, "forever", 0);
	ssize_t		 n;
	size_t		 i;

	for (i = 0; i < sizeof buf; i++)
		buf[i] = (i % 64) == 63 ? '\n' : 'x';
	while (forever || left > 0) {
		n = write(STDOUT_FILENO, buf, !forever && left < (long long)
		    sizeof buf ? (size_t)left : sizeof buf);
		if (n <= 0)
			break;
		left -= n;
	}
	return MESHD_OK;
}

MESHD_PLUGIN(
	.name = "hostile_flood",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: floods its stdout",
	.extract = flood_extract,
);
