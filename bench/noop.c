/*
 * noop.c -- the benchmark's plugin: every stage only touches a marker file,
 * so that what bench-dag measures is meshd's own cost per task (dispatch,
 * isolation, state), compared with make running `touch` for the same DAG.
 *
 * Params: `marker` (string, required) is the file name; `dir` (string)
 * the directory it goes in, by default the run's staging directory (one per
 * partition, which the daily backfill relies on).  The marker is created
 * empty (an existing one is left as it is); nothing else is written and
 * no check, metric or log line is recorded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <meshd/plugin.h>

static meshd_status
noop_touch(meshd_ctx *ctx)
{
	const char	*dir, *name;
	char		 path[4096];
	int		 fd;

	if ((name = meshd_param_string(ctx, "marker", NULL)) == NULL) {
		meshd_set_error(ctx, "no 'marker' param");
		return MESHD_FAILED;
	}
	if ((dir = meshd_param_string(ctx, "dir", NULL)) == NULL &&
	    (dir = meshd_staging_dir(ctx)) == NULL) {
		meshd_set_error(ctx, "no 'dir' param and no staging directory");
		return MESHD_FAILED;
	}
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >=
	    sizeof path) {
		meshd_set_error(ctx, "%s/%s: path too long", dir, name);
		return MESHD_FAILED;
	}
	/* What touch(1) does for a new file: create it, write nothing. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		meshd_set_error(ctx, "%s: %s", path, strerror(errno));
		return MESHD_FAILED;
	}
	close(fd);
	return MESHD_OK;
}

MESHD_PLUGIN(
	.name = "noop",
	.version = "1.0.0",
	.domain = "bench",
	.owner = "bench@example.org",
	.description = "benchmark plugin: every stage touches a marker file",
	.extract = noop_touch,
	.check = noop_touch,
	.publish = noop_touch,
);
