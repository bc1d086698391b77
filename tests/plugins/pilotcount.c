/*
 * pilotcount.c -- test plugin for pilot mode: counts its runs.
 *
 * Every stage appends "<partition key>\n" to the file in param count_file
 * (if set; O_APPEND, one write, so lines of concurrent runs do not mix),
 * then sleeps param sleep_ms (default 0).  Without params it is a no-op,
 * for throughput.  The pilot tests compare the lines with the attempts
 * they submitted: a task run twice shows up twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <meshd/plugin.h>

static meshd_status
pc_run(meshd_ctx *ctx)
{
	const char	*file = meshd_param_string(ctx, "count_file", NULL);
	const char	*key = meshd_partition_key(ctx);
	int64_t		 ms = meshd_param_int(ctx, "sleep_ms", 0);
	struct timespec	 ts;
	char		 line[512];
	int		 fd, n;

	if (file != NULL) {
		n = snprintf(line, sizeof line, "%s\n", key != NULL ? key :
		    "");
		if ((fd = open(file, O_WRONLY | O_APPEND | O_CREAT, 0644)) ==
		    -1 || write(fd, line, (size_t)n) != n) {
			meshd_set_error(ctx, "%s: %s", file, strerror(errno));
			return MESHD_FAILED;
		}
		close(fd);
	}
	if (ms > 0) {
		ts.tv_sec = (time_t)(ms / 1000);
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	return MESHD_OK;
}

MESHD_PLUGIN(
	.name = "pilotcount",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: counts its runs in a file",
	.extract = pc_run,
	.check = pc_run,
	.publish = pc_run,
);
