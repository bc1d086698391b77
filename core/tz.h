/*
 * tz.h -- IANA time zones read from zoneinfo (TZif) files, without TZ/tzset.
 *
 * The C library's local-time functions read the process-wide TZ variable,
 * which one thread cannot change without racing every other thread (and
 * tzset() itself is not thread-safe).  A daemon that evaluates each job in
 * its own zone therefore loads each zone once into a struct tz and asks it
 * directly.  A loaded struct tz is immutable: any number of threads may
 * query one at the same time.
 *
 * Files are looked up in $TZDIR when set (tests use it), else in
 * /usr/share/zoneinfo.  TZif versions 1 to 4 are read; for version 2 and
 * later the 64-bit data block and the footer's POSIX TZ string are used, the
 * footer deciding every instant after the last transition (slim files stop
 * their tables early and rely on it).  Zones with leap-second records
 * ("right/...") are refused.  "UTC" and "Etc/UTC" are built in and need no
 * files.
 *
 * Times here are seconds since the Unix epoch (UTC instants) or "local
 * seconds": the wall-clock reading of a zone expressed as if it were a UTC
 * time, so civil fields come out of it with plain UTC arithmetic.
 *
 * Appeared in meshd 0.2 (issue 3).
 */
#ifndef MESHD_TZ_H
#define MESHD_TZ_H

#include <stddef.h>
#include <stdint.h>

struct tz;

/*
 * Load zone `name` ("Europe/Berlin").  Returns a new zone, freed with
 * tz_free, or NULL with *cause set, for example:
 *   unknown time zone 'Mars/Base': /usr/share/zoneinfo/Mars/Base: No such
 *     file or directory
 *   invalid time zone name '../etc/passwd' (a zone name is relative, like
 *     Europe/Berlin)
 *   time zone 'X': /usr/share/zoneinfo/X: corrupt TZif file: truncated data
 *     block (need 2298 bytes, have 1000)
 */
struct tz	*tz_load(const char *name, char **cause);
void		 tz_free(struct tz *);
/* The name given to tz_load (owned by the zone). */
const char	*tz_name(const struct tz *);

/*
 * Offset in seconds east of UTC in effect at UTC instant `utc_s`.  *isdst
 * and *abbr ("CEST", "+0545"; owned by the zone) are filled when not NULL.
 */
int		 tz_utc_offset(const struct tz *, int64_t utc_s, int *isdst,
		     const char **abbr);

/*
 * The UTC instants at which the zone's wall clock reads `local_s`.
 * Returns 0 when the wall clock skips that reading (a spring-forward gap),
 * 1 normally (*first set), 2 when it reads it twice (a fall-back overlap;
 * *first < *second).  first or second may be NULL.
 */
int		 tz_local_to_utc(const struct tz *, int64_t local_s,
		     int64_t *first, int64_t *second);
/*
 * For a local time in a gap: the first UTC instant after the gap (the
 * instant of the transition).  For any other local time: the first UTC
 * instant whose wall clock reads local_s, as tz_local_to_utc's *first.
 */
int64_t		 tz_gap_end(const struct tz *, int64_t local_s);

/* The local seconds of UTC instant `utc_s` (utc_s + offset). */
int64_t		 tz_to_local(const struct tz *, int64_t utc_s);

/*
 * The range of offsets the zone ever uses (all of its ttinfos and its
 * footer rule), in seconds east of UTC.  Callers that search local time use
 * it to bound their search.
 */
void		 tz_offset_range(const struct tz *, int *min, int *max);
/*
 * The same, restricted to the offsets in effect at some instant of
 * [from_utc, to_utc] (falls back to the whole zone's range when that span
 * holds an absurd number of transitions).
 */
void		 tz_offset_range_in(const struct tz *, int64_t from_utc,
		     int64_t to_utc, int *min, int *max);

/*
 * Format a UTC time in microseconds as the zone's wall clock, minutes
 * resolution, with the abbreviation: "2001-01-02 03:04 CET" (zones without
 * a letter abbreviation print theirs, "2001-01-02 08:49 +0545").  buf
 * should hold 64 bytes; the result is truncated to len.  Returns buf.
 */
char		*tz_format(const struct tz *, int64_t utc_us, char *buf,
		     size_t len);

/*
 * Proleptic Gregorian calendar helpers, valid for any year that fits:
 * days since 1970-01-01 of y-m-d (month 1-12, day 1-31), and back.
 */
int64_t		 tz_days_from_civil(int64_t y, int m, int d);
void		 tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

#endif
