/*
 * fuzz-cron.c -- cron expressions: cron_parse() of the input, then for an
 * expression that parses, cron_next() from a few instants (the epoch, DST
 * changes, far past and future, the edge of the searched range) under each
 * DST policy, in a zone picked by the input's bytes, following each fire
 * time to the next a few times.
 *
 * Properties: a fire time is strictly after the instant asked about, and
 * within +-2^40 s of the epoch (35,000 years) every parsed expression
 * fires (cron_parse() refuses those that never do), unless dst = skip
 * drops its fires in a zone with DST.
 */
#include "fuzz.h"

#include "cron.h"
#include "tz.h"

static const char *const zones[] = { "UTC", "Europe/Berlin",
    "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
    "Pacific/Apia", "America/Santiago", "Africa/Casablanca" };
#define NZONES	(sizeof zones / sizeof zones[0])
static struct tz	*tzs[NZONES];

static const int64_t	 instants[] = {
	0,				/* 1970-01-01 */
	978307199,			/* 2000-12-31 23:59:59 */
	1711846799,			/* before Europe's 2024 spring gap */
	1730613599,			/* before New York's 2024 overlap */
	-2208988800,			/* 1900-01-01 */
	4107542400,			/* 2100-03-01 */
	INT64_C(1) << 40,
	-(INT64_C(1) << 40),
	(INT64_C(1) << 50) - 86400,	/* near the searched range's end */
	INT64_MAX,
	INT64_MIN,
};
#define NINSTANTS	(sizeof instants / sizeof instants[0])

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cron	*c;
	const struct tz	*tz;
	char		*expr, *cause = NULL;
	int64_t		 t, next;
	unsigned	 h = 0;
	size_t		 i, k;
	int		 dst, step;

	if (tzs[0] == NULL) {
		for (i = 0; i < NZONES; i++) {
			if ((tzs[i] = tz_load(zones[i], &cause)) == NULL) {
				fprintf(stderr, "fuzz-cron: %s\n", cause);
				abort();
			}
		}
	}
	expr = fuzz_str(data, size);
	if ((c = cron_parse(expr, &cause)) == NULL) {
		free(cause);
		free(expr);
		return 0;
	}
	for (i = 0; i < size; i++)
		h = h * 31 + data[i];
	tz = tzs[h % NZONES];
	(void)cron_hour_is_wildcard(c);
	(void)cron_key_precision(c);
	for (dst = CRON_DST_VIXIE; dst <= CRON_DST_BOTH; dst++) {
		for (k = 0; k < NINSTANTS; k++) {
			t = instants[k];
			for (step = 0; step < 3; step++) {
				next = cron_next(c, tz, t, (enum cron_dst)dst);
				if (next != -1 && next <= t) {
					fprintf(stderr, "'%s' in %s: next fire "
					    "after %lld is %lld\n", expr,
					    tz_name(tz), (long long)t,
					    (long long)next);
					abort();
				}
				/* dst = skip may drop every fire of a day
				 * that always falls in a gap. */
				if (next == -1 && t >= -(INT64_C(1) << 40) &&
				    t <= INT64_C(1) << 40 &&
				    (dst != CRON_DST_SKIP || tz == tzs[0])) {
					fprintf(stderr, "'%s' in %s: no fire "
					    "after %lld\n", expr, tz_name(tz),
					    (long long)t);
					abort();
				}
				if (next == -1)
					break;
				t = next;
			}
		}
	}
	cron_free(c);
	free(expr);
	return 0;
}
