/*
 * fuzz-partition.c -- partition keys: parse, format, parse again.
 *
 * The first byte picks a schedule: the partition module's grains in UTC
 * (none, @hourly ... @yearly), or a cron job in a zone with DST, whose keys
 * are local times (schedule.c's job_parse_key).  Its top bit picks the
 * direction:
 *   clear: the rest of the input is a key.  A key that parses gives an
 *     interval [start, end) with start < end, whose canonical key parses to
 *     the same interval and is the key job_key()/partition_key() formats
 *     for start; the interval is on the schedule (floor and next agree).
 *   set: the next 8 bytes are an instant, folded into years 1-9999; its
 *     partition's key must parse back to the same start.
 */
#include "fuzz.h"

#include "cron.h"
#include "job.h"
#include "partition.h"
#include "schedule.h"
#include "tz.h"

#define US	INT64_C(1000000)
/* 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z */
#define T_MIN	(INT64_C(-62135596800) * US)
#define T_MAX	(INT64_C(253402300800) * US)

static const struct {
	const char	*schedule, *zone;
	int		 dst;
} crons[] = {
	{ "0 0 * * *", "Europe/Berlin", CRON_DST_VIXIE },
	{ "30 2 * * *", "America/New_York", CRON_DST_BOTH },
	{ "0 * * * *", "Australia/Lord_Howe", CRON_DST_VIXIE },
	{ "*/15 1-3 * * 0", "Europe/London", CRON_DST_SKIP },
	{ "0 0 1 * *", "Pacific/Apia", CRON_DST_VIXIE },
	{ "45 2 * * *", "Europe/Berlin", CRON_DST_BOTH },
};
#define NCRONS	(sizeof crons / sizeof crons[0])
#define NGRAINS	(SCHED_YEARLY + 1)
static struct job_def	jobs[NGRAINS + NCRONS];

static void
setup(void)
{
	struct job_def	*j;
	char		*cause = NULL;
	size_t		 i;

	for (i = 0; i < NGRAINS; i++) {
		j = &jobs[i];
		j->schedule = (char *)schedule_name((enum sched_grain)i);
	}
	for (i = 0; i < NCRONS; i++) {
		j = &jobs[NGRAINS + i];
		j->schedule = (char *)crons[i].schedule;
		j->dst = crons[i].dst;
		if ((j->cron = cron_parse(crons[i].schedule, &cause)) == NULL ||
		    (j->tz = tz_load(crons[i].zone, &cause)) == NULL) {
			fprintf(stderr, "fuzz-partition: %s\n", cause);
			abort();
		}
		job_schedule_init(j);
	}
}

static void
fail(const struct job_def *j, const char *key, const char *what)
{
	fprintf(stderr, "fuzz-partition: schedule '%s' (%s), key '%s': %s\n",
	    j->schedule, j->tz != NULL ? tz_name(j->tz) : "UTC", key, what);
	abort();
}

/* Parse `key`; if it parses, check the round trip.  0 if it parsed. */
static int
check_key(const struct job_def *j, int grain, const char *key,
    int64_t *startp)
{
	int64_t	 start, end, start2, end2;
	char	*canon, *canon2, *fmt, *cause = NULL;

	if (job_parse_key(j, key, &start, &end, &canon, &cause) != 0) {
		free(cause);
		return -1;
	}
	if (grain == SCHED_NONE) {
		if (start != 0 || end != 0 || strcmp(canon, key) != 0)
			fail(j, key, "a free-form key changed");
		free(canon);
		*startp = 0;
		return 0;
	}
	if (end <= start)
		fail(j, key, "empty interval");
	if (job_parse_key(j, canon, &start2, &end2, &canon2, &cause) != 0)
		fail(j, key, "its canonical key does not parse");
	if (start2 != start || end2 != end || strcmp(canon, canon2) != 0)
		fail(j, key, "its canonical key is another interval");
	fmt = job_key(j, start);
	if (strcmp(fmt, canon) != 0)
		fail(j, key, "the key formatted for its start differs");
	if (grain > 0 && (partition_floor((enum sched_grain)grain, start) !=
	    start || partition_next((enum sched_grain)grain, start) != end ||
	    partition_floor((enum sched_grain)grain, end - 1) != start))
		fail(j, key, "the interval is not on the schedule");
	if (grain < 0 && job_next_fire(j, start) != end)
		fail(j, key, "the interval does not end at the next fire");
	free(fmt);
	free(canon);
	free(canon2);
	*startp = start;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct job_def	*j;
	uint64_t		 u = 0;
	int64_t			 t, start, got;
	size_t			 i;
	int			 grain;
	char			*key;

	if (jobs[0].schedule == NULL)
		setup();
	if (size == 0)
		return 0;
	i = (data[0] & 0x7f) % (NGRAINS + NCRONS);
	j = &jobs[i];
	grain = i < NGRAINS ? (int)i : -1;
	if (!(data[0] & 0x80)) {
		key = fuzz_str(data + 1, size - 1);
		check_key(j, grain, key, &got);
		free(key);
		return 0;
	}
	if (grain == SCHED_NONE)
		return 0;
	for (i = 1; i < size && i < 9; i++)
		u = u << 8 | data[i];
	t = T_MIN + (int64_t)(u % (uint64_t)(T_MAX - T_MIN));
	if (grain > 0)
		start = partition_floor((enum sched_grain)grain, t);
	else if ((start = job_prev_fire(j, t + 1)) < 0)
		return 0;
	if (start > t || start < T_MIN)
		return 0;
	key = job_key(j, start);
	if (check_key(j, grain, key, &got) != 0)
		fail(j, key, "the key of an instant's partition does not parse");
	if (got != start)
		fail(j, key, "the key of an instant's partition is another");
	free(key);
	return 0;
}
