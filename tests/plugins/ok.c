/*
 * ok.c -- the well-behaved test plugin: every stage succeeds and leaves a
 * trace the tests can check.
 *
 * extract writes "<partition key>\n" to <staging_dir>/ok.txt and an empty
 * <attempt_dir>/scratch, records the
 * metric rows=1, logs "extracted <key>" and prints a line on stdout (which
 * the host must route to the attempt log); check records a passing
 * "rows_min"; publish reads ok.txt back.  Param sleep_ms (int, default 0)
 * makes every stage sleep first, for concurrency tests.  Param fail_if
 * (a path; "{partition}" in it is replaced by the partition key) makes
 * every stage fail while that file exists, for rerun tests (the check
 * stage by recording a failed error-level check, so the partition is
 * quarantined).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <meshd/plugin.h>

static void
nap(meshd_ctx *ctx)
{
	struct timespec	ts;
	int64_t		ms = meshd_param_int(ctx, "sleep_ms", 0);

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Has the test asked this partition to fail (param fail_if)? */
static int
told_to_fail(meshd_ctx *ctx)
{
	const char	*pat = meshd_param_string(ctx, "fail_if", NULL);
	const char	*key = meshd_partition_key(ctx), *p;
	char		 path[4096];
	size_t		 n = 0;
	FILE		*f;

	if (pat == NULL)
		return 0;
	if (key == NULL)
		key = "";
	for (; *pat != '\0' && n + 1 < sizeof path; pat++) {
		if (strncmp(pat, "{partition}", 11) == 0) {
			for (p = key; *p != '\0' && n + 1 < sizeof path; p++)
				path[n++] = *p;
			pat += 10;
		} else
			path[n++] = *pat;
	}
	path[n] = '\0';
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	fclose(f);
	meshd_set_error(ctx, "told to fail: %s exists", path);
	return 1;
}

/* <staging_dir>/ok.txt into buf; NULL if there is no staging dir. */
static const char *
ok_path(meshd_ctx *ctx, char *buf, size_t len)
{
	const char	*dir = meshd_staging_dir(ctx);

	if (dir == NULL)
		return NULL;
	snprintf(buf, len, "%s/ok.txt", dir);
	return buf;
}

static meshd_status
ok_init(meshd_ctx *ctx)
{
	meshd_log(ctx, MESHD_LOG_INFO, "ok init");
	return MESHD_OK;
}

static meshd_status
ok_extract(meshd_ctx *ctx)
{
	const char	*key, *path;
	char		 buf[4096];
	FILE		*f;

	nap(ctx);
	if (told_to_fail(ctx))
		return MESHD_FAILED;
	key = meshd_partition_key(ctx);
	if (key == NULL)
		key = "";
	if ((path = ok_path(ctx, buf, sizeof buf)) == NULL) {
		meshd_set_error(ctx, "no staging directory");
		return MESHD_FAILED;
	}
	/* A full disk passes: ask for a retry, as the SDK advises. */
	if ((f = fopen(path, "w")) == NULL) {
		meshd_set_error(ctx, "%s: %s", path, strerror(errno));
		return errno == ENOSPC ? MESHD_RETRY : MESHD_FAILED;
	}
	fprintf(f, "%s\n", key);
	if (fclose(f) != 0) {
		meshd_set_error(ctx, "%s: %s", path, strerror(errno));
		return errno == ENOSPC ? MESHD_RETRY : MESHD_FAILED;
	}
	/* Scratch space, as a real extract might use: the host makes the
	 * attempt's directory when asked for it. */
	if ((path = meshd_attempt_dir(ctx)) == NULL ||
	    (size_t)snprintf(buf, sizeof buf, "%s/scratch", path) >=
	    sizeof buf || (f = fopen(buf, "w")) == NULL || fclose(f) != 0) {
		meshd_set_error(ctx, "no attempt directory");
		return MESHD_FAILED;
	}
	meshd_metric(ctx, "rows", 1);
	meshd_log(ctx, MESHD_LOG_INFO, "extracted %s", key);
	printf("hello from ok plugin stdout\n");
	fflush(stdout);
	return MESHD_OK;
}

static meshd_status
ok_check(meshd_ctx *ctx)
{
	nap(ctx);
	/* In the check stage, a failed error-level check: the gate then
	 * quarantines the partition, as a real failed check would. */
	if (told_to_fail(ctx)) {
		meshd_check(ctx, "told_to_fail", MESHD_SEV_ERROR, 0, 1,
		    "no fail_if file");
		return MESHD_OK;
	}
	meshd_check(ctx, "rows_min", MESHD_SEV_ERROR, 1, 1, ">= 1");
	return MESHD_OK;
}

static meshd_status
ok_publish(meshd_ctx *ctx)
{
	const char	*path;
	char		 buf[4096], line[1024];
	FILE		*f;

	nap(ctx);
	if (told_to_fail(ctx))
		return MESHD_FAILED;
	if ((path = ok_path(ctx, buf, sizeof buf)) == NULL) {
		meshd_set_error(ctx, "no staging directory");
		return MESHD_FAILED;
	}
	if ((f = fopen(path, "r")) == NULL) {
		meshd_set_error(ctx, "%s: %s", path, strerror(errno));
		return MESHD_FAILED;
	}
	if (fgets(line, sizeof line, f) == NULL) {
		fclose(f);
		meshd_set_error(ctx, "%s: empty", path);
		return MESHD_FAILED;
	}
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	meshd_log(ctx, MESHD_LOG_INFO, "published %s", line);
	return MESHD_OK;
}

static const struct meshd_product products[] = {
	{ .name = "test.ok", .description = "the ok test product",
	  .contract_version = "1.0", .tags = "test",
	  .freshness_seconds = 3600 },
	/* For cross-domain input tests: products built from test.ok. */
	{ .name = "test.a", .description = "read from test.ok" },
	{ .name = "test.b", .description = "read from test.a" },
	{ .name = "test.c", .description = "read from test.ok" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "ok",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: every stage succeeds",
	.products = products,
	.init = ok_init,
	.extract = ok_extract,
	.check = ok_check,
	.publish = ok_publish,
);
