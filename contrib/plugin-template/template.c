/*
 * template.c -- a complete meshd plugin to copy and adapt.
 *
 * Product "example.readings": a text file of readings, one per line,
 *
 *     2001-01-01T00:15:00Z,12.5
 *
 * is cut into daily partitions.  The three stages are write-audit-publish:
 *
 *   extract  copies the lines of the partition's data interval from the
 *            file named by the parameter `source` into the run's staging
 *            directory;
 *   check    audits the staged rows: at least `min_rows` of them (error),
 *            every value within [`min_value`, `max_value`] (error);
 *   publish  moves them to the product's location as KEY.csv, atomically
 *            (write a temporary file, then rename over the old one), so
 *            a rerun replaces the partition rather than adding to it, and
 *            records the metric `rows`: the "rows" of the publish stage is
 *            the partition's row count in the catalog (meshctl catalog,
 *            products, product).
 *
 * Only libc and <meshd/plugin.h>.  Build it out of tree with
 *
 *     cc -shared -fPIC -fvisibility=hidden $(pkg-config --cflags meshd-plugin) \
 *         -o template.so template.c
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <meshd/plugin.h>

#define STAGED	"readings.csv"

static const struct meshd_product products[] = {
	{
		.name = "example.readings",
		.description = "sensor readings, one file per day",
		.contract_version = "1.0",
		.location = "/var/lib/meshd/example/readings",
		.freshness_seconds = 3600,
	},
	{ .name = NULL }
};

/* "YYYY-MM-DDTHH:MM:SSZ" -> microseconds since the epoch, UTC. */
static int
parse_time(const char *s, int64_t *out)
{
	int	y, mo, d, h, mi, se, n = 0;
	int64_t	days;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &se,
	    &n) != 6 || n != 20 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return (-1);
	/* Days since 1970-01-01 (proleptic Gregorian, March-based year). */
	if (mo <= 2)
		y--;
	days = 365 * (int64_t)y + y / 4 - y / 100 + y / 400 +
	    (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1 - 719468;
	*out = (((days * 24 + h) * 60 + mi) * 60 + se) * INT64_C(1000000);
	return (0);
}

/* A path in one of the host's directories; NULL when it does not fit. */
static char *
path_in(char *buf, size_t len, const char *dir, const char *name)
{
	int	n;

	n = snprintf(buf, len, "%s/%s", dir, name);
	return (n < 0 || (size_t)n >= len ? NULL : buf);
}

static meshd_status
extract(meshd_ctx *ctx)
{
	const char	*source = meshd_param_string(ctx, "source", NULL);
	int64_t		 start = meshd_interval_start(ctx);
	int64_t		 end = meshd_interval_end(ctx), t;
	char		 line[512], path[4096], tmp[4096];
	FILE		*in = NULL, *out = NULL;
	meshd_status	 s = MESHD_FAILED;
	long		 lineno = 0, rows = 0;

	if (source == NULL) {
		meshd_set_error(ctx, "parameter 'source' is not set");
		return (MESHD_FAILED);
	}
	if (path_in(path, sizeof path, meshd_staging_dir(ctx), STAGED) ==
	    NULL || path_in(tmp, sizeof tmp, meshd_staging_dir(ctx),
	    STAGED ".tmp") == NULL) {
		meshd_set_error(ctx, "staging path too long");
		return (MESHD_FAILED);
	}
	if ((in = fopen(source, "r")) == NULL) {
		meshd_set_error(ctx, "%s: %s", source, strerror(errno));
		/* A missing file may still be on its way. */
		return (errno == ENOENT ? MESHD_RETRY : MESHD_FAILED);
	}
	if ((out = fopen(tmp, "w")) == NULL) {
		meshd_set_error(ctx, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	while (fgets(line, sizeof line, in) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(in)) {
			meshd_set_error(ctx, "%s:%ld: line too long", source,
			    lineno);
			goto out;
		}
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (parse_time(line, &t) != 0 || line[20] != ',') {
			meshd_set_error(ctx, "%s:%ld: expected "
			    "YYYY-MM-DDTHH:MM:SSZ,VALUE", source, lineno);
			goto out;
		}
		if (t < start || t >= end)
			continue;
		if (fputs(line, out) == EOF) {
			meshd_set_error(ctx, "%s: %s", tmp, strerror(errno));
			goto out;
		}
		rows++;
		if (meshd_cancelled(ctx)) {
			meshd_set_error(ctx, "cancelled at %s:%ld", source,
			    lineno);
			goto out;
		}
	}
	if (ferror(in)) {
		meshd_set_error(ctx, "%s: read error", source);
		goto out;
	}
	if (fclose(out) != 0) {
		out = NULL;
		meshd_set_error(ctx, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	out = NULL;
	/* The check stage only ever sees a whole extract. */
	if (rename(tmp, path) != 0) {
		meshd_set_error(ctx, "rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	/* An attempt's metric, shown by `meshctl tasks`; the catalog's row
	 * count is the one publish records. */
	meshd_metric(ctx, "staged_rows", (double)rows);
	meshd_log(ctx, MESHD_LOG_INFO, "staged %ld readings of partition %s",
	    rows, meshd_partition_key(ctx));
	s = MESHD_OK;
out:
	if (out != NULL) {
		fclose(out);
		remove(tmp);
	}
	fclose(in);
	return (s);
}

static meshd_status
check(meshd_ctx *ctx)
{
	int64_t		 min_rows = meshd_param_int(ctx, "min_rows", 1);
	double		 lo = meshd_param_double(ctx, "min_value", -1e9);
	double		 hi = meshd_param_double(ctx, "max_value", 1e9);
	char		 line[512], path[4096], expect[128];
	FILE		*f;
	long		 rows = 0, outside = 0;
	double		 v;

	if (path_in(path, sizeof path, meshd_staging_dir(ctx), STAGED) ==
	    NULL) {
		meshd_set_error(ctx, "staging path too long");
		return (MESHD_FAILED);
	}
	if ((f = fopen(path, "r")) == NULL) {
		meshd_set_error(ctx, "%s: %s (has extract run?)", path,
		    strerror(errno));
		return (MESHD_FAILED);
	}
	while (fgets(line, sizeof line, f) != NULL) {
		rows++;
		v = strtod(line + 21, NULL);
		if (v < lo || v > hi)
			outside++;
	}
	fclose(f);

	/* Each result is recorded; a failed error-level one quarantines
	 * the partition whatever this callback returns. */
	snprintf(expect, sizeof expect, ">= %" PRId64, min_rows);
	meshd_check(ctx, "row_count", MESHD_SEV_ERROR, rows >= min_rows,
	    (double)rows, expect);
	snprintf(expect, sizeof expect, "0 values outside [%g, %g]", lo, hi);
	meshd_check(ctx, "value_range", MESHD_SEV_ERROR, outside == 0,
	    (double)outside, expect);
	return (MESHD_OK);
}

static meshd_status
publish(meshd_ctx *ctx)
{
	const char	*dir = meshd_output_location(ctx, NULL);
	const char	*key = meshd_partition_key(ctx);
	char		 from[4096], to[4096], tmp[4096], name[256], buf[8192];
	FILE		*in, *out;
	size_t		 n, i;
	long		 rows = 0;
	int		 bad = 0;

	if (dir == NULL) {
		meshd_set_error(ctx, "example.readings has no location");
		return (MESHD_FAILED);
	}
	snprintf(name, sizeof name, "%s.csv", key);
	if (path_in(from, sizeof from, meshd_staging_dir(ctx), STAGED) ==
	    NULL || path_in(to, sizeof to, dir, name) == NULL ||
	    snprintf(tmp, sizeof tmp, "%s.tmp", to) >= (int)sizeof tmp) {
		meshd_set_error(ctx, "path too long");
		return (MESHD_FAILED);
	}
	if ((in = fopen(from, "r")) == NULL) {
		meshd_set_error(ctx, "%s: %s", from, strerror(errno));
		return (MESHD_FAILED);
	}
	if ((out = fopen(tmp, "w")) == NULL) {
		meshd_set_error(ctx, "%s: %s", tmp, strerror(errno));
		fclose(in);
		return (MESHD_FAILED);
	}
	while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
		for (i = 0; i < n; i++)
			rows += buf[i] == '\n';
		if (fwrite(buf, 1, n, out) != n)
			bad = 1;
	}
	bad |= ferror(in);
	fclose(in);
	if (fclose(out) != 0 || bad || rename(tmp, to) != 0) {
		meshd_set_error(ctx, "cannot write %s: %s", to,
		    strerror(errno));
		remove(tmp);
		return (MESHD_RETRY);	/* a full disk may clear */
	}
	/* The catalog's row count of this partition: only the publish
	 * stage's "rows" metric becomes it. */
	meshd_metric(ctx, "rows", (double)rows);
	meshd_log(ctx, MESHD_LOG_INFO, "published %ld rows to %s", rows, to);
	return (MESHD_OK);
}

MESHD_PLUGIN(
	.name = "template",
	.version = "0.1.0",
	.domain = "example",
	.owner = "example-team@example.org",
	.description = "daily partitions of a readings file",
	.products = products,
	.extract = extract,
	.check = check,
	.publish = publish,
);
