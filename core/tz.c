/*
 * tz.c -- IANA time zones read from TZif files (RFC 8536), never via TZ.
 *
 * A zone is its transition table plus, for TZif 2 and later, the footer's
 * POSIX TZ string that rules every instant after the last transition.
 * Every query is a pure function of the loaded zone, so zones can be shared
 * between threads without locks.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tz.h"
#include "util.h"

#define TZ_DEFAULT_DIR	"/usr/share/zoneinfo"
#define TZ_MAX_FILE	(1024 * 1024)
#define TZIF_HEADER	44
/* RFC 8536 bounds UT offsets to (-25h, +26h); searches use these margins. */
#define OFF_MIN		(-89999)
#define OFF_MAX		93599
/* Local seconds beyond this (about 30 million years) are not searched. */
#define LOCAL_LIMIT	(INT64_C(1) << 50)
/* The footer's rule is evaluated within this of the epoch (about 35
 * million years), where its arithmetic cannot overflow. */
#define RULE_LIMIT	(INT64_C(1) << 50)

struct ttype {
	int32_t		 utoff;
	int		 isdst;
	unsigned	 abbr;		/* index into chars */
};

/* One date of a POSIX rule: Jn, n or Mm.w.d, and the local time of day. */
struct rdate {
	char		 kind;		/* 'J', 'N' or 'M' */
	int		 n, m, w, d;
	int32_t		 time;		/* seconds, may be negative or > 24h */
};

struct prule {
	int		 valid;
	int		 has_dst;
	int32_t		 std_off;	/* east of UTC */
	int32_t		 dst_off;
	char		 std_abbr[32];
	char		 dst_abbr[32];
	struct rdate	 start;		/* DST starts, in standard local time */
	struct rdate	 end;		/* DST ends, in daylight local time */
};

struct tz {
	char		*name;
	int64_t		*trans;
	unsigned char	*tidx;
	size_t		 ntrans;
	struct ttype	*types;
	size_t		 ntypes;
	char		*chars;		/* charcnt + 1 bytes, NUL-terminated */
	size_t		 nchars;
	struct prule	 rule;
	int		 omin, omax;
	/* Shared: one object per zone file, however many jobs use it. */
	char		*key;		/* the path it was read from */
	int		 refs;
	struct tz	*next;		/* in tz_cache */
};

/* Zones are immutable once loaded, so jobs share them: 10,000 jobs in
 * Europe/Berlin read the file once.  The lock makes tz_load() and
 * tz_free() safe from any thread. */
static struct tz	*tz_cache;
static pthread_mutex_t	 tz_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t
fdiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t
fmod64(int64_t a, int64_t b)
{
	return a - fdiv(a, b) * b;
}

/* Howard Hinnant's days_from_civil construction: 400-year eras, March-based
 * years so that the leap day is the last day of the year. */
int64_t
tz_days_from_civil(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = fdiv(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t	z, era, doe, yoe, doy, mp;

	z = days + 719468;
	era = fdiv(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int64_t y, int m)
{
	static const int	days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
				    31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* ------------------------------------------------------------ POSIX rule */

/* The day (days since the epoch) of rule date `r` in year y. */
static int64_t
rdate_day(const struct rdate *r, int64_t y)
{
	int64_t	jan1 = tz_days_from_civil(y, 1, 1), first, day;
	int	wday;

	switch (r->kind) {
	case 'J':
		/* Jn counts 1-365 and never names 29 February. */
		return jan1 + r->n - 1 + (is_leap(y) && r->n >= 60);
	case 'N':
		return jan1 + r->n;
	default:
		first = tz_days_from_civil(y, r->m, 1);
		wday = (int)fmod64(first + 4, 7);	/* 1970-01-01: Thursday */
		day = first + (r->d - wday + 7) % 7 + 7 * (r->w - 1);
		while (day >= first + month_days(y, r->m))
			day -= 7;
		return day;
	}
}

/* UTC instants at which DST starts and ends in year y. */
static void
rule_year(const struct prule *p, int64_t y, int64_t *start, int64_t *end)
{
	*start = rdate_day(&p->start, y) * 86400 + p->start.time - p->std_off;
	*end = rdate_day(&p->end, y) * 86400 + p->end.time - p->dst_off;
}

static int
rule_isdst(const struct prule *p, int64_t t)
{
	int64_t	y, s, e;
	int	m, d;

	if (!p->has_dst)
		return 0;
	/* Years past the limit would overflow rdate_day() * 86400; DST
	 * there is as at the limit (a zone file can ask about any instant
	 * by its transitions). */
	if (t > RULE_LIMIT)
		t = RULE_LIMIT;
	else if (t < -RULE_LIMIT)
		t = -RULE_LIMIT;
	tz_civil_from_days(fdiv(t + p->std_off, 86400), &y, &m, &d);
	rule_year(p, y, &s, &e);
	if (s < e)
		return t >= s && t < e;
	/* Southern hemisphere: DST spans the new year. */
	return !(t >= e && t < s);
}

/* The first rule transition strictly after t, or INT64_MAX. */
static int64_t
rule_next(const struct prule *p, int64_t t)
{
	int64_t	y, s, e, best = INT64_MAX, k;
	int	m, d;

	if (!p->has_dst || t >= RULE_LIMIT)
		return INT64_MAX;
	if (t < -RULE_LIMIT)
		t = -RULE_LIMIT;
	tz_civil_from_days(fdiv(t + p->std_off, 86400), &y, &m, &d);
	for (k = y - 1; k <= y + 1; k++) {
		rule_year(p, k, &s, &e);
		if (s > t && s < best)
			best = s;
		if (e > t && e < best)
			best = e;
	}
	return best;
}

static const char *
parse_abbr(const char *s, char *out, size_t len)
{
	size_t	n = 0;

	if (*s == '<') {
		for (s++; *s != '>'; s++) {
			if (*s == '\0' || n + 1 >= len ||
			    !(isalnum((unsigned char)*s) || *s == '+' ||
			    *s == '-'))
				return NULL;
			out[n++] = *s;
		}
		s++;
	} else {
		for (; isalpha((unsigned char)*s); s++) {
			if (n + 1 >= len)
				return NULL;
			out[n++] = *s;
		}
	}
	out[n] = '\0';
	return n >= 3 ? s : NULL;
}

/* [+-]hh[:mm[:ss]] with hh <= maxh, into seconds (sign applied). */
static const char *
parse_hms(const char *s, int maxh, int32_t *out)
{
	int	sign = 1, part[3] = { 0, 0, 0 }, i, digits;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	for (i = 0; i < 3; i++) {
		if (i > 0) {
			if (*s != ':')
				break;
			s++;
		}
		for (digits = 0; isdigit((unsigned char)*s); s++, digits++) {
			if (digits == 3)
				return NULL;
			part[i] = part[i] * 10 + (*s - '0');
		}
		if (digits == 0)
			return NULL;
	}
	if (part[0] > maxh || part[1] > 59 || part[2] > 59)
		return NULL;
	*out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	return s;
}

static const char *
parse_num(const char *s, int lo, int hi, int *out)
{
	int	v = 0, digits = 0;

	for (; isdigit((unsigned char)*s); s++) {
		if (++digits > 3)
			return NULL;
		v = v * 10 + (*s - '0');
	}
	if (digits == 0 || v < lo || v > hi)
		return NULL;
	*out = v;
	return s;
}

static const char *
parse_rdate(const char *s, struct rdate *r)
{
	memset(r, 0, sizeof *r);
	if (*s == 'J') {
		r->kind = 'J';
		s = parse_num(s + 1, 1, 365, &r->n);
	} else if (*s == 'M') {
		r->kind = 'M';
		if ((s = parse_num(s + 1, 1, 12, &r->m)) == NULL || *s != '.')
			return NULL;
		if ((s = parse_num(s + 1, 1, 5, &r->w)) == NULL || *s != '.')
			return NULL;
		s = parse_num(s + 1, 0, 6, &r->d);
	} else {
		r->kind = 'N';
		s = parse_num(s, 0, 365, &r->n);
	}
	if (s == NULL)
		return NULL;
	r->time = 7200;
	if (*s == '/')
		s = parse_hms(s + 1, 167, &r->time);	/* RFC 8536 extension */
	return s;
}

/* Parse a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3". */
static int
parse_posix(const char *s, struct prule *p)
{
	int32_t	off;

	memset(p, 0, sizeof *p);
	if ((s = parse_abbr(s, p->std_abbr, sizeof p->std_abbr)) == NULL ||
	    (s = parse_hms(s, 24, &off)) == NULL)
		return -1;
	p->std_off = p->dst_off = -off;		/* POSIX counts west */
	p->valid = 1;
	if (*s == '\0')
		return 0;
	if ((s = parse_abbr(s, p->dst_abbr, sizeof p->dst_abbr)) == NULL)
		return -1;
	p->has_dst = 1;
	p->dst_off = p->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if ((s = parse_hms(s, 24, &off)) == NULL)
			return -1;
		p->dst_off = -off;
	}
	if (*s == '\0') {
		/* POSIX leaves the default rule to the implementation; the
		 * US rule is what glibc and the tz code use. */
		p->start = (struct rdate){ 'M', 0, 3, 2, 0, 7200 };
		p->end = (struct rdate){ 'M', 0, 11, 1, 0, 7200 };
		return 0;
	}
	if (*s != ',' || (s = parse_rdate(s + 1, &p->start)) == NULL ||
	    *s != ',' || (s = parse_rdate(s + 1, &p->end)) == NULL)
		return -1;
	return *s == '\0' ? 0 : -1;
}

/* ------------------------------------------------------------ lookups */

struct info {
	int32_t		 off;
	int		 isdst;
	const char	*abbr;
};

static void
lookup(const struct tz *tz, int64_t t, struct info *out)
{
	const struct ttype	*tt;
	size_t			 lo, hi, mid;

	if (tz->rule.valid &&
	    (tz->ntrans == 0 || t >= tz->trans[tz->ntrans - 1])) {
		out->isdst = rule_isdst(&tz->rule, t);
		out->off = out->isdst ? tz->rule.dst_off : tz->rule.std_off;
		out->abbr = out->isdst ? tz->rule.dst_abbr : tz->rule.std_abbr;
		return;
	}
	if (tz->ntrans == 0 || t < tz->trans[0])
		tt = &tz->types[0];
	else {
		/* Last transition at or before t. */
		lo = 0;
		hi = tz->ntrans;
		while (hi - lo > 1) {
			mid = lo + (hi - lo) / 2;
			if (tz->trans[mid] <= t)
				lo = mid;
			else
				hi = mid;
		}
		tt = &tz->types[tz->tidx[lo]];
	}
	out->off = tt->utoff;
	out->isdst = tt->isdst;
	out->abbr = tz->chars + tt->abbr;
}

/* The first instant after t at which the zone's offset may change, or
 * INT64_MAX. */
static int64_t
next_change(const struct tz *tz, int64_t t)
{
	size_t	lo, hi, mid;

	if (tz->ntrans > 0 && t < tz->trans[tz->ntrans - 1]) {
		lo = 0;
		hi = tz->ntrans - 1;	/* trans[hi] > t */
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (tz->trans[mid] > t)
				hi = mid;
			else
				lo = mid + 1;
		}
		return tz->trans[lo];
	}
	if (tz->rule.valid)
		return rule_next(&tz->rule, t);
	return INT64_MAX;
}

int
tz_utc_offset(const struct tz *tz, int64_t utc_s, int *isdst,
    const char **abbr)
{
	struct info	i;

	lookup(tz, utc_s, &i);
	if (isdst != NULL)
		*isdst = i.isdst;
	if (abbr != NULL)
		*abbr = i.abbr;
	return i.off;
}

int64_t
tz_to_local(const struct tz *tz, int64_t utc_s)
{
	return utc_s + tz_utc_offset(tz, utc_s, NULL, NULL);
}

/*
 * Walk the zone's constant-offset segments that could hold an instant whose
 * wall clock reads `local`: every such instant lies within the RFC 8536
 * offset bounds of it.  Fills up to two solutions in increasing order and
 * the transition instant of a gap containing `local`.
 */
static int
walk(const struct tz *tz, int64_t local, int64_t sol[2], int64_t *gap)
{
	struct info	i;
	int64_t		s, e, c, stop;
	int32_t		prev = 0;
	int		n = 0, first = 1;

	*gap = INT64_MIN;
	if (local > LOCAL_LIMIT || local < -LOCAL_LIMIT) {
		lookup(tz, local, &i);
		sol[0] = local - i.off;
		return 1;
	}
	s = local - OFF_MAX - 1;
	stop = local - OFF_MIN + 1;
	while (s <= stop) {
		lookup(tz, s, &i);
		e = next_change(tz, s);
		if (!first && prev < i.off && local >= s + prev &&
		    local < s + i.off && *gap == INT64_MIN)
			*gap = s;
		c = local - i.off;
		if (c >= s && c < e) {
			if (n < 2)
				sol[n] = c;
			n++;
		}
		if (e == INT64_MAX)
			break;
		prev = i.off;
		first = 0;
		s = e;
	}
	return n > 2 ? 2 : n;
}

int
tz_local_to_utc(const struct tz *tz, int64_t local_s, int64_t *first,
    int64_t *second)
{
	int64_t	sol[2], gap;
	int	n;

	n = walk(tz, local_s, sol, &gap);
	if (n >= 1 && first != NULL)
		*first = sol[0];
	if (n == 2 && second != NULL)
		*second = sol[1];
	return n;
}

int64_t
tz_gap_end(const struct tz *tz, int64_t local_s)
{
	int64_t	sol[2], gap;

	if (walk(tz, local_s, sol, &gap) > 0)
		return sol[0];
	if (gap != INT64_MIN)
		return gap;
	/* Unreachable for sane zones; keep the answer monotonic-ish. */
	return local_s - tz_utc_offset(tz, local_s, NULL, NULL);
}

void
tz_offset_range(const struct tz *tz, int *min, int *max)
{
	*min = tz->omin;
	*max = tz->omax;
}

void
tz_offset_range_in(const struct tz *tz, int64_t from, int64_t to, int *min,
    int *max)
{
	struct info	i;
	int64_t		s = from;
	int		n;

	*min = INT_MAX;
	*max = INT_MIN;
	for (n = 0; n < 10000; n++) {
		lookup(tz, s, &i);
		*min = i.off < *min ? i.off : *min;
		*max = i.off > *max ? i.off : *max;
		/* INT64_MAX: no change ever after s. */
		if ((s = next_change(tz, s)) > to || s == INT64_MAX)
			return;
	}
	tz_offset_range(tz, min, max);
}

char *
tz_format(const struct tz *tz, int64_t utc_us, char *buf, size_t len)
{
	struct info	i;
	int64_t		t = fdiv(utc_us, 1000000), local, y, days;
	int		m, d, sec;

	lookup(tz, t, &i);
	local = t + i.off;
	days = fdiv(local, 86400);
	sec = (int)(local - days * 86400);
	tz_civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%04lld-%02d-%02d %02d:%02d %s", (long long)y, m,
	    d, sec / 3600, sec / 60 % 60, i.abbr);
	return buf;
}

const char *
tz_name(const struct tz *tz)
{
	return tz->name;
}

static void	tz_destroy(struct tz *);

void
tz_free(struct tz *tz)
{
	struct tz	**pp;

	if (tz == NULL)
		return;
	pthread_mutex_lock(&tz_cache_lock);
	if (--tz->refs > 0) {
		pthread_mutex_unlock(&tz_cache_lock);
		return;
	}
	for (pp = &tz_cache; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == tz) {
			*pp = tz->next;
			break;
		}
	}
	pthread_mutex_unlock(&tz_cache_lock);
	tz_destroy(tz);
}

static void
tz_destroy(struct tz *tz)
{
	if (tz == NULL)
		return;
	free(tz->name);
	free(tz->key);
	free(tz->trans);
	free(tz->tidx);
	free(tz->types);
	free(tz->chars);
	free(tz);
}

/* ------------------------------------------------------------ loading */

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct counts {
	uint32_t	isut, isstd, leap, time, type, chars;
};

static int
read_header(const unsigned char *p, size_t size, struct counts *c,
    int *version, char **why)
{
	if (size < TZIF_HEADER) {
		*why = xasprintf("truncated header (%zu bytes)", size);
		return -1;
	}
	if (memcmp(p, "TZif", 4) != 0) {
		*why = xstrdup("bad magic (not a TZif file)");
		return -1;
	}
	*version = p[4] == 0 ? 1 : p[4] - '0';
	if (*version < 1 || *version > 9) {
		*why = xasprintf("unknown version byte 0x%02x", p[4]);
		return -1;
	}
	c->isut = be32(p + 20);
	c->isstd = be32(p + 24);
	c->leap = be32(p + 28);
	c->time = be32(p + 32);
	c->type = be32(p + 36);
	c->chars = be32(p + 40);
	if (c->type == 0 || c->type > 256 || c->chars == 0 ||
	    (c->isut != 0 && c->isut != c->type) ||
	    (c->isstd != 0 && c->isstd != c->type) ||
	    c->time > 1000000 || c->chars > 65536 || c->leap > 100000) {
		*why = xasprintf("impossible counts (types %u, chars %u, "
		    "transitions %u)", c->type, c->chars, c->time);
		return -1;
	}
	return 0;
}

static size_t
block_size(const struct counts *c, size_t tsize)
{
	return (size_t)c->time * tsize + c->time + (size_t)c->type * 6 +
	    c->chars + (size_t)c->leap * (tsize + 4) + c->isstd + c->isut;
}

/* Parse the whole file image into tz; on error *why says what is wrong. */
static int
parse_tzif(struct tz *tz, const unsigned char *p, size_t size, char **why)
{
	struct counts	 c;
	size_t		 off = 0, need, tsize = 4, i;
	const unsigned char *q;
	const char	*nl;
	char		*footer;
	int		 version;

	if (read_header(p, size, &c, &version, why) != 0)
		return -1;
	if (version >= 2) {
		/* Skip the 32-bit block: the 64-bit one follows it. */
		off = TZIF_HEADER + block_size(&c, 4);
		if (off > size) {
			*why = xasprintf("truncated data block (need %zu "
			    "bytes, have %zu)", off, size);
			return -1;
		}
		if (read_header(p + off, size - off, &c, &version, why) != 0)
			return -1;
		tsize = 8;
	}
	off += TZIF_HEADER;
	need = off + block_size(&c, tsize);
	if (need > size) {
		*why = xasprintf("truncated data block (need %zu bytes, have "
		    "%zu)", need, size);
		return -1;
	}
	if (c.leap != 0) {
		*why = xstrdup("leap-second zones (right/...) are not "
		    "supported");
		return -1;
	}
	q = p + off;
	tz->ntrans = c.time;
	tz->trans = xcalloc(c.time, sizeof *tz->trans);
	tz->tidx = xcalloc(c.time, 1);
	for (i = 0; i < c.time; i++) {
		tz->trans[i] = tsize == 8 ? be64(q) : (int32_t)be32(q);
		q += tsize;
		if (i > 0 && tz->trans[i] <= tz->trans[i - 1]) {
			*why = xasprintf("transition %zu is not after the one "
			    "before it", i);
			return -1;
		}
	}
	for (i = 0; i < c.time; i++) {
		if ((tz->tidx[i] = *q++) >= c.type) {
			*why = xasprintf("transition %zu uses type %u of %u",
			    i, tz->tidx[i], c.type);
			return -1;
		}
	}
	tz->ntypes = c.type;
	tz->types = xcalloc(c.type, sizeof *tz->types);
	for (i = 0; i < c.type; i++, q += 6) {
		tz->types[i].utoff = (int32_t)be32(q);
		tz->types[i].isdst = q[4];
		tz->types[i].abbr = q[5];
		if (tz->types[i].utoff < OFF_MIN ||
		    tz->types[i].utoff > OFF_MAX || q[4] > 1 ||
		    q[5] >= c.chars) {
			*why = xasprintf("bad local time type %zu", i);
			return -1;
		}
	}
	tz->nchars = c.chars;
	tz->chars = xmalloc(c.chars + 1);
	memcpy(tz->chars, q, c.chars);
	tz->chars[c.chars] = '\0';

	if (version >= 2) {
		q = p + need;
		if (need >= size || *q != '\n' ||
		    (nl = memchr(q + 1, '\n', size - need - 1)) == NULL) {
			*why = xstrdup("missing footer");
			return -1;
		}
		footer = xstrndup((const char *)q + 1,
		    (size_t)(nl - (const char *)q - 1));
		if (*footer != '\0' && parse_posix(footer, &tz->rule) != 0) {
			*why = xasprintf("unsupported TZ string '%s' in "
			    "footer", footer);
			free(footer);
			return -1;
		}
		free(footer);
	}
	return 0;
}

static void
set_range(struct tz *tz)
{
	size_t	i;
	int	o;

	tz->omin = INT_MAX;
	tz->omax = INT_MIN;
	for (i = 0; i < tz->ntypes; i++) {
		o = tz->types[i].utoff;
		tz->omin = o < tz->omin ? o : tz->omin;
		tz->omax = o > tz->omax ? o : tz->omax;
	}
	if (tz->rule.valid) {
		o = tz->rule.std_off < tz->rule.dst_off ? tz->rule.std_off :
		    tz->rule.dst_off;
		tz->omin = o < tz->omin ? o : tz->omin;
		o = tz->rule.std_off > tz->rule.dst_off ? tz->rule.std_off :
		    tz->rule.dst_off;
		tz->omax = o > tz->omax ? o : tz->omax;
	}
}

static struct tz *
tz_utc(const char *name)
{
	struct tz	*tz;

	tz = xcalloc(1, sizeof *tz);
	tz->name = xstrdup(name);
	tz->ntypes = 1;
	tz->types = xcalloc(1, sizeof *tz->types);
	tz->chars = xstrdup("UTC");
	tz->nchars = 4;
	set_range(tz);
	return tz;
}

static int
name_ok(const char *name)
{
	const char	*s;

	if (*name == '\0' || *name == '/' || strstr(name, "..") != NULL)
		return 0;
	for (s = name; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && strchr("/_+-.", *s) == NULL)
			return 0;
	}
	return 1;
}

static struct tz	*tz_read(const char *, char **);

struct tz *
tz_load(const char *name, char **cause)
{
	struct tz	*tz;
	const char	*dir;
	char		*key;

	if ((dir = getenv("TZDIR")) == NULL || *dir == '\0')
		dir = TZ_DEFAULT_DIR;
	key = xasprintf("%s/%s", dir, name);
	pthread_mutex_lock(&tz_cache_lock);
	for (tz = tz_cache; tz != NULL; tz = tz->next)
		if (strcmp(tz->key, key) == 0)
			break;
	if (tz != NULL) {
		tz->refs++;
		pthread_mutex_unlock(&tz_cache_lock);
		free(key);
		return tz;
	}
	pthread_mutex_unlock(&tz_cache_lock);
	if ((tz = tz_read(name, cause)) == NULL) {
		free(key);
		return NULL;
	}
	tz->key = key;
	tz->refs = 1;
	pthread_mutex_lock(&tz_cache_lock);
	tz->next = tz_cache;
	tz_cache = tz;
	pthread_mutex_unlock(&tz_cache_lock);
	return tz;
}

static struct tz *
tz_read(const char *name, char **cause)
{
	struct tz	*tz = NULL;
	struct stat	 sb;
	const char	*dir;
	char		*path = NULL, *why = NULL;
	unsigned char	*data = NULL;
	size_t		 got = 0;
	ssize_t		 n;
	int		 fd = -1;

	if (!name_ok(name)) {
		set_cause(cause, "invalid time zone name '%s' (a zone name "
		    "is relative, like Europe/Berlin)", name);
		return NULL;
	}
	if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)
		return tz_utc(name);

	if ((dir = getenv("TZDIR")) == NULL || *dir == '\0')
		dir = TZ_DEFAULT_DIR;
	path = xasprintf("%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		set_cause(cause, "unknown time zone '%s': %s: %s", name, path,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		set_cause(cause, "unknown time zone '%s': %s: not a zone "
		    "file", name, path);
		goto fail;
	}
	if (sb.st_size > TZ_MAX_FILE) {
		set_cause(cause, "time zone '%s': %s: too large for a TZif "
		    "file", name, path);
		goto fail;
	}
	data = xmalloc((size_t)sb.st_size + 1);
	while (got < (size_t)sb.st_size) {
		n = read(fd, data + got, (size_t)sb.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			set_cause(cause, "time zone '%s': %s: %s", name, path,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}

	tz = xcalloc(1, sizeof *tz);
	tz->name = xstrdup(name);
	if (parse_tzif(tz, data, got, &why) != 0) {
		set_cause(cause, "time zone '%s': %s: corrupt TZif file: %s",
		    name, path, why);
		goto fail;
	}
	set_range(tz);
	close(fd);
	free(data);
	free(path);
	return tz;

fail:
	if (fd != -1)
		close(fd);
	free(why);
	free(data);
	free(path);
	if (tz != NULL)
		tz_destroy(tz);
	return NULL;
}
