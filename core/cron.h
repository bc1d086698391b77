/*
 * cron.h -- 5-field cron expressions and their fire times in a time zone.
 *
 * Syntax is vixie/cronie's: "minute hour day-of-month month day-of-week",
 * each field a comma list of `*`, N, A-B, `*`/S or A-B/S.  Months and
 * weekdays take names (jan-dec, sun-sat, any case, also in ranges:
 * "mon-fri"); 0 and 7 are both Sunday.  The macros @yearly @annually
 * @monthly @weekly @daily @midnight @hourly stand for their expressions
 * (@weekly is Monday 00:00, meshd's week, not vixie's Sunday).
 * ("none", an unscheduled job, is the job layer's business.)
 *
 * Day rule (vixie): when day-of-month and day-of-week are both restricted
 * (neither field starts with '*'), a day matches if either matches;
 * otherwise both must.  So "0 0 13 * fri" fires on every 13th and every
 * Friday, and "*" followed by a step ("*" "/2") still counts as unrestricted.
 *
 * Errors name the field and the 1-based column of the offending text:
 *   cron: minute field: '61' is out of range 0-59 (column 1)
 *   cron: day-of-week field: unknown name 'fun' (column 11)
 *   cron: expected 5 fields (minute hour day-of-month month day-of-week),
 *     got 4
 *   cron: never fires: day-of-month 30-31 does not occur in month 2
 *
 * DST (see enum cron_dst): a job whose hour field is a fixed list is a
 * wall-clock job; one whose hour field starts with '*' follows elapsed time
 * and fires at every instant whose local time matches.
 *
 * A struct cron is immutable after parsing and may be shared by threads.
 * Appeared in meshd 0.2 (issue 3).
 */
#ifndef MESHD_CRON_H
#define MESHD_CRON_H

#include <stdint.h>

struct cron;
struct tz;

/*
 * What a wall-clock job (fixed hour field) does when its local time is
 * skipped or repeated by a DST change.  Jobs with '*' in the hour field
 * always follow elapsed time, whatever the policy.
 */
enum cron_dst {
	/* Default.  In a spring-forward gap: fire once at the first instant
	 * after the gap.  In a fall-back overlap: fire once, at the first
	 * occurrence. */
	CRON_DST_VIXIE,
	/* Gap: skip that day's fire.  Overlap: first occurrence only. */
	CRON_DST_SKIP,
	/* Gap: as vixie.  Overlap: fire at both occurrences. */
	CRON_DST_BOTH
};

/*
 * Parse `expr` (fields separated by blanks; a leading or trailing blank
 * is an error).  Returns a new cron freed with cron_free, or NULL with *cause
 * set.  Expressions that can never fire (day-of-month days that no chosen
 * month has, with day-of-week unrestricted) are refused.
 */
struct cron	*cron_parse(const char *expr, char **cause);
void		 cron_free(struct cron *);

/*
 * The next fire time strictly after `after_utc_s` (UTC seconds), with the
 * expression evaluated on the wall clock of `tz` under policy `dst`.
 * Returns -1 if there is none within 28 years (which a parsed expression
 * only hits at the extremes of time, or when dst = skip drops every fire).  Cost is a few field skips
 * per call: days, hours and minutes that cannot match are jumped over.
 */
int64_t		 cron_next(const struct cron *, const struct tz *,
		     int64_t after_utc_s, enum cron_dst dst);

/* 1 if the hour field starts with '*' (the job follows elapsed time across
 * DST changes), else 0. */
int		 cron_hour_is_wildcard(const struct cron *);
/* How precise partition keys of this schedule must be: 0 when it fires
 * only at minute 0 of hour 0 (a date is enough), 1 when only at minute 0
 * (date and hour), 2 otherwise (date, hour and minute). */
int		 cron_key_precision(const struct cron *);

/* "vixie", "skip", "both" -> policy: 0, or -1 for any other name. */
int		 cron_dst_from_name(const char *, enum cron_dst *);
/* The name of a policy ("vixie", ...). */
const char	*cron_dst_name(enum cron_dst);

#endif
