/*
 * fuzz-tzif.c -- the TZif reader: the input is written as the zone file
 * Fuzz/Zone of a private $TZDIR and loaded with tz_load(), the way a job's
 * `timezone` is.  A zone that loads is asked what the scheduler asks: the
 * offset at instants across time, the UTC instants of local times (gaps and
 * overlaps), offset ranges, formatting, and the next fires of a wall-clock
 * and an elapsed-time cron expression under each DST policy.
 *
 * Properties: an instant found for a local time reads that local time,
 * two instants are in increasing order, and a fire time is after the
 * instant asked about.
 */
#include "fuzz.h"

#include "cron.h"
#include "tz.h"

static char		*zonefile;
static struct cron	*wall, *elapsed;

static const int64_t	 instants[] = {
	INT64_MIN, -(INT64_C(1) << 50) - 1, -(INT64_C(1) << 40),
	-2208988800, -1, 0, 978307200, 1711846800, 1730613600, 2147483647,
	4107542400, INT64_C(1) << 40, (INT64_C(1) << 50) + 1, INT64_MAX,
};
#define NINSTANTS	(sizeof instants / sizeof instants[0])

static void
setup(void)
{
	char	*dir, *cause = NULL;

	dir = fuzz_tmpdir();
	if (setenv("TZDIR", dir, 1) == -1)
		fuzz_die("setenv");
	zonefile = fuzz_file(fuzz_mkdir(dir, "Fuzz"), "Zone", "");
	if ((wall = cron_parse("30 2 * * *", &cause)) == NULL ||
	    (elapsed = cron_parse("*/20 * * * *", &cause)) == NULL) {
		fprintf(stderr, "fuzz-tzif: %s\n", cause);
		abort();
	}
}

static void
fail(int64_t t, const char *what)
{
	fprintf(stderr, "fuzz-tzif: at %lld: %s\n", (long long)t, what);
	abort();
}

static void
query(const struct tz *tz, int64_t t)
{
	const char	*abbr;
	char		 buf[64];
	int64_t		 local, first, second, g, next;
	int		 isdst, n, lo, hi, dst;

	tz_utc_offset(tz, t, &isdst, &abbr);
	if (strlen(abbr) > 255)
		fail(t, "abbreviation runs past its table");
	tz_offset_range_in(tz, t, t > INT64_MAX - 86400 ? t : t + 86400,
	    &lo, &hi);
	if (t >= INT64_MIN / 1000000 && t <= INT64_MAX / 1000000)
		tz_format(tz, t * 1000000, buf, sizeof buf);
	if (t < -(INT64_C(1) << 52) || t > INT64_C(1) << 52)
		return;
	local = tz_to_local(tz, t);
	n = tz_local_to_utc(tz, local, &first, &second);
	/* tz.c searches local times within 2^50 s of the epoch (35 million
	 * years); beyond, an instant is only estimated. */
	if (local < -(INT64_C(1) << 50) + 2 * 86400 ||
	    local > (INT64_C(1) << 50) - 2 * 86400)
		n = 0;
	if (n >= 1 && tz_to_local(tz, first) != local)
		fail(t, "the first instant of a local time reads another");
	if (n == 2 && (second <= first || tz_to_local(tz, second) != local))
		fail(t, "the second instant of a local time is wrong");
	g = tz_gap_end(tz, local + 1800);
	(void)g;
	for (dst = CRON_DST_VIXIE; dst <= CRON_DST_BOTH; dst++) {
		next = cron_next(wall, tz, t, (enum cron_dst)dst);
		if (next != -1 && next <= t)
			fail(t, "a wall-clock fire is not after the instant");
		next = cron_next(elapsed, tz, t, (enum cron_dst)dst);
		if (next != -1 && next <= t)
			fail(t, "an elapsed-time fire is not after the instant");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tz	*tz;
	char		*cause = NULL;
	size_t		 i;
	int		 lo, hi;

	if (zonefile == NULL)
		setup();
	fuzz_write(zonefile, data, size);
	if ((tz = tz_load("Fuzz/Zone", &cause)) == NULL) {
		free(cause);
		return 0;
	}
	tz_offset_range(tz, &lo, &hi);
	for (i = 0; i < NINSTANTS; i++)
		query(tz, instants[i]);
	tz_free(tz);
	return 0;
}
