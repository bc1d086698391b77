/*
 * cron.c -- vixie-style cron expressions and DST-aware next fire times.
 *
 * Each field becomes a bitmask.  cron_next() searches wall-clock ("local")
 * times that match the fields, skipping whole months, days and hours that
 * cannot match, and maps each one to UTC through the zone: a fixed-hour job
 * by its wall clock (gap and overlap per enum cron_dst), a '*'-hour job at
 * every UTC instant whose wall clock matches.  The earliest UTC candidate
 * wins; local order and UTC order differ inside an overlap, so the search
 * continues until no later local time can produce an earlier instant.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cron.h"
#include "tz.h"
#include "util.h"

/*
 * How far ahead cron_next looks.  29 February after a skipped leap year
 * (2096 -> 2104) waits 8 years, but the AND rule can wait longer: minute
 * 0, hour 0, day-of-month '*' stepped by 21 (days 1 and 22), month 5,
 * day-of-week fri fires only when 1 or 22 May is a Friday, so not from
 * 2027 to 2036, and a date waits up to 12 years for its weekday across
 * 2100.  A day-of-month that starts with '*' holds day 1, and the weekdays
 * of the calendar repeat every 28 years between century years: 28 years
 * bounds every honest wait, with room for a fire that dst = skip drops.
 */
#define SEARCH_SPAN	(INT64_C(28) * 366 * 86400)
/* Wall clocks are within about a day of UTC (RFC 8536 bounds). */
/* Instants beyond this (about 35 million years) are not searched. */
#define CRON_TIME_LIMIT	(INT64_C(1) << 50)
#define OFF_SPAN	(INT64_C(26) * 3600)

struct cron {
	uint64_t	 minute;	/* bits 0-59 */
	uint32_t	 hour;		/* bits 0-23 */
	uint32_t	 dom;		/* bits 1-31 */
	uint32_t	 month;		/* bits 1-12 */
	uint32_t	 dow;		/* bits 0-6, Sunday 0 */
	int		 dom_star;
	int		 dow_star;
	int		 hour_star;
};

static const char *const month_names[] = { "jan", "feb", "mar", "apr",
    "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu",
    "fri", "sat" };

static const struct field {
	const char		*name;
	int			 lo, hi;
	const char *const	*names;	/* names[i] is value lo + i */
	int			 nnames;
} fields[5] = {
	{ "minute", 0, 59, NULL, 0 },
	{ "hour", 0, 23, NULL, 0 },
	{ "day-of-month", 1, 31, NULL, 0 },
	{ "month", 1, 12, month_names, 12 },
	{ "day-of-week", 0, 7, day_names, 7 },
};

static const struct {
	const char	*name;
	const char	*expr;
} macros[] = {
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 1" },	/* Monday, as meshd's weeks */
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

static const char *const dst_names[] = { "vixie", "skip", "both" };

static int64_t
fdiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* ------------------------------------------------------------ parsing */

struct lexer {
	const char		*expr;	/* whole expression, for columns */
	const struct field	*f;
	char			**cause;
};

static int
col(const struct lexer *lx, const char *p)
{
	return (int)(p - lx->expr) + 1;
}

static int
lex_error(const struct lexer *lx, const char *at, const char *fmt, ...)
    PRINTFLIKE(3, 4);

static int
lex_error(const struct lexer *lx, const char *at, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	set_cause(lx->cause, "cron: %s field: %s (column %d)", lx->f->name,
	    msg, col(lx, at));
	free(msg);
	return -1;
}

static int
is_end(const char *p, const char *end)
{
	return p == end || *p == ',';
}

/* One value (number or name) at *pp; advances *pp. */
static int
parse_value(const struct lexer *lx, const char **pp, const char *end, int *v)
{
	const char	*p = *pp, *s = p;
	int		 i, n = 0;

	if (p < end && isdigit((unsigned char)*p)) {
		for (; p < end && isdigit((unsigned char)*p); p++) {
			if (n < 1000000)
				n = n * 10 + (*p - '0');
		}
		if (n < lx->f->lo || n > lx->f->hi)
			return lex_error(lx, s, "'%.*s' is out of range %d-%d",
			    (int)(p - s), s, lx->f->lo, lx->f->hi);
		*v = n;
		*pp = p;
		return 0;
	}
	if (p < end && isalpha((unsigned char)*p)) {
		while (p < end && isalpha((unsigned char)*p))
			p++;
		for (i = 0; i < lx->f->nnames; i++) {
			if ((size_t)(p - s) == strlen(lx->f->names[i]) &&
			    strncasecmp(s, lx->f->names[i], (size_t)(p - s))
			    == 0) {
				*v = lx->f->lo + i;
				*pp = p;
				return 0;
			}
		}
		if (lx->f->nnames == 0)
			return lex_error(lx, s, "names are not allowed here: "
			    "'%.*s'", (int)(p - s), s);
		return lex_error(lx, s, "unknown name '%.*s'", (int)(p - s), s);
	}
	if (is_end(p, end))
		return lex_error(lx, s, "missing value");
	return lex_error(lx, s, "unexpected '%c'", *p);
}

/* One list item [p, end) into *bits. */
static int
parse_item(const struct lexer *lx, const char *p, const char *end,
    uint64_t *bits)
{
	const char	*s = p, *ss;
	int		 a, b, step = 1, star = 0, v, n;

	if (*p == '*') {
		star = 1;
		a = lx->f->lo;
		b = lx->f->hi;
		p++;
	} else {
		if (parse_value(lx, &p, end, &a) != 0)
			return -1;
		b = a;
		if (p < end && *p == '-') {
			p++;
			if (parse_value(lx, &p, end, &b) != 0)
				return -1;
			if (b < a)
				return lex_error(lx, s, "range '%.*s' is "
				    "reversed", (int)(p - s), s);
		}
	}
	if (p < end && *p == '/') {
		if (!star && a == b)
			return lex_error(lx, s, "'%.*s' steps from a single "
			    "value (use '*/N' or 'A-B/N')", (int)(end - s), s);
		ss = ++p;
		for (n = 0; p < end && isdigit((unsigned char)*p); p++)
			if (n < 1000000)
				n = n * 10 + (*p - '0');
		if (p == ss)
			return lex_error(lx, ss, "missing step after '/'");
		if (n < 1 || n > lx->f->hi)
			return lex_error(lx, ss, "step '%.*s' is out of range "
			    "1-%d", (int)(p - ss), ss, lx->f->hi);
		step = n;
	}
	if (!is_end(p, end))
		return lex_error(lx, p, "unexpected '%c'", *p);
	for (v = a; v <= b; v += step)
		*bits |= UINT64_C(1) << v;
	return 0;
}

static int
parse_field(const struct lexer *lx, const char *p, const char *end,
    uint64_t *bits)
{
	const char	*item;

	*bits = 0;
	for (;;) {
		item = p;
		while (p < end && *p != ',')
			p++;
		if (p == item)
			return lex_error(lx, item, "empty list item");
		if (parse_item(lx, item, p, bits) != 0)
			return -1;
		if (p == end)
			return 0;
		p++;
		if (p == end)
			return lex_error(lx, p, "empty list item");
	}
}

/* "1-3,5" style text for a bitmask, into a new string. */
static char *
bits_text(uint64_t bits, int lo, int hi)
{
	char	*s = xstrdup(""), *t;
	int	 v, w;

	for (v = lo; v <= hi; v++) {
		if (!(bits & (UINT64_C(1) << v)))
			continue;
		for (w = v; w + 1 <= hi && (bits & (UINT64_C(1) << (w + 1)));)
			w++;
		if (w > v)
			t = xasprintf("%s%s%d-%d", s, *s ? "," : "", v, w);
		else
			t = xasprintf("%s%s%d", s, *s ? "," : "", v);
		free(s);
		s = t;
		v = w;
	}
	return s;
}

/* Refuse day-of-month days that no chosen month has, when they decide. */
static int
check_fires(const struct cron *c, char **cause)
{
	static const int	 maxdays[] = { 31, 29, 31, 30, 31, 30, 31, 31,
				    30, 31, 30, 31 };
	uint32_t		 ok = 0;
	int			 m, nm = 0;
	char			*days, *months;

	if (c->dom_star || !c->dow_star)
		return 0;	/* "*..." has day 1; OR-rule fires by weekday */
	for (m = 1; m <= 12; m++) {
		if (!(c->month & (1U << m)))
			continue;
		nm++;
		ok |= c->dom &
		    (uint32_t)((UINT64_C(1) << (maxdays[m - 1] + 1)) - 1);
	}
	if (ok != 0)
		return 0;
	days = bits_text(c->dom, 1, 31);
	months = bits_text(c->month, 1, 12);
	set_cause(cause, "cron: never fires: day-of-month %s does not occur "
	    "in month%s %s", days, nm > 1 ? "s" : "", months);
	free(days);
	free(months);
	return -1;
}

struct cron *
cron_parse(const char *expr, char **cause)
{
	struct cron	*c;
	struct lexer	 lx;
	const char	*p, *start[6], *end[6], *e;
	uint64_t	 bits[5];
	size_t		 i;
	int		 n = 0;

	/*
	 * Surrounding blanks are refused, not skipped: " @weekly" used to
	 * slip past the job layer's macro table (which keys weeks from
	 * Monday) into this one, and fired on Sunday.  A schedule is spelt
	 * one way.
	 */
	if (*expr != '\0' && (isspace((unsigned char)*expr) ||
	    isspace((unsigned char)expr[strlen(expr) - 1]))) {
		set_cause(cause, "cron: '%s' has a %s blank (column %d); "
		    "write the schedule without surrounding blanks", expr,
		    isspace((unsigned char)*expr) ? "leading" : "trailing",
		    isspace((unsigned char)*expr) ? 1 : (int)strlen(expr));
		return NULL;
	}
	p = expr;
	if (*p == '@') {
		for (e = p; *e != '\0' && !isspace((unsigned char)*e); e++)
			;
		for (i = 0; i < nitems(macros); i++) {
			if ((size_t)(e - p) == strlen(macros[i].name) &&
			    strncmp(p, macros[i].name, (size_t)(e - p)) == 0)
				break;
		}
		while (isspace((unsigned char)*e))
			e++;
		if (i == nitems(macros) || *e != '\0') {
			set_cause(cause, "cron: unknown macro '%s' (column %d; "
			    "known: @yearly @annually @monthly @weekly @daily "
			    "@midnight @hourly)", p, (int)(p - expr) + 1);
			return NULL;
		}
		return cron_parse(macros[i].expr, cause);
	}
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		if (n < 6)
			start[n] = p;
		while (*p != '\0' && !isspace((unsigned char)*p))
			p++;
		if (n < 6)
			end[n] = p;
		n++;
	}
	if (n != 5) {
		set_cause(cause, "cron: expected 5 fields (minute hour "
		    "day-of-month month day-of-week), got %d", n);
		return NULL;
	}
	lx.expr = expr;
	lx.cause = cause;
	for (i = 0; i < 5; i++) {
		lx.f = &fields[i];
		if (parse_field(&lx, start[i], end[i], &bits[i]) != 0)
			return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->minute = bits[0];
	c->hour = (uint32_t)bits[1];
	c->dom = (uint32_t)bits[2];
	c->month = (uint32_t)bits[3];
	c->dow = (uint32_t)(bits[4] & 0x7f);
	if (bits[4] & (1U << 7))
		c->dow |= 1;		/* 7 is Sunday too */
	c->hour_star = *start[1] == '*';
	c->dom_star = *start[2] == '*';
	c->dow_star = *start[4] == '*';
	if (check_fires(c, cause) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

void
cron_free(struct cron *c)
{
	free(c);
}

int
cron_hour_is_wildcard(const struct cron *c)
{
	return c->hour_star;
}

int
cron_dst_from_name(const char *name, enum cron_dst *out)
{
	size_t	i;

	for (i = 0; i < nitems(dst_names); i++) {
		if (strcmp(name, dst_names[i]) == 0) {
			*out = (enum cron_dst)i;
			return 0;
		}
	}
	return -1;
}

const char *
cron_dst_name(enum cron_dst d)
{
	if ((size_t)d < nitems(dst_names))
		return dst_names[d];
	return "?";
}

/* ------------------------------------------------------------ matching */

/* Lowest set bit of `bits` at or above v, or -1. */
static int
next_bit(uint64_t bits, int v)
{
	if (v > 63)
		return -1;
	bits &= ~UINT64_C(0) << v;
	return bits == 0 ? -1 : __builtin_ctzll(bits);
}

static int
day_matches(const struct cron *c, int64_t days, int d)
{
	int	wday = (int)(days - fdiv(days + 4, 7) * 7 + 4) % 7;
	int	dom = (c->dom >> d) & 1, dow = (c->dow >> wday) & 1;

	if (c->dom_star || c->dow_star)
		return dom && dow;
	return dom || dow;
}

/*
 * The first local time (whole minute) at or after `from` that matches, or
 * INT64_MAX if it would be after `limit`.
 */
static int64_t
next_local(const struct cron *c, int64_t from, int64_t limit)
{
	int64_t	days, y, sec;
	int	m, d, h, mi, v;

	days = fdiv(from, 86400);
	sec = from - days * 86400;
	sec = (sec + 59) / 60 * 60;		/* round up to a minute */
	h = (int)(sec / 3600);			/* may be 24: next day */
	mi = (int)(sec / 60 % 60);
	tz_civil_from_days(days, &y, &m, &d);
	for (;;) {
		if (days * 86400 > limit)
			return INT64_MAX;
		if (!(c->month & (1U << m))) {
			if (++m > 12) {
				m = 1;
				y++;
			}
			days = tz_days_from_civil(y, m, 1);
			d = 1;
			h = mi = 0;
			continue;
		}
		if (h > 23 || !day_matches(c, days, d) ||
		    (v = next_bit(c->hour, h)) == -1) {
			tz_civil_from_days(++days, &y, &m, &d);
			h = mi = 0;
			continue;
		}
		if (v != h) {
			h = v;
			mi = 0;
		}
		if ((v = next_bit(c->minute, mi)) == -1) {
			h++;
			mi = 0;
			continue;
		}
		return days * 86400 + h * 3600 + v * 60;
	}
}

int64_t
cron_next(const struct cron *c, const struct tz *tz, int64_t after,
    enum cron_dst dst)
{
	int64_t	limit, local, best = INT64_MAX, u[2];
	int	wall = !c->hour_star, omin, omax, n, k;

	if (after > CRON_TIME_LIMIT || after < -CRON_TIME_LIMIT)
		return -1;
	/*
	 * An instant u > after has wall clock u + off(u).  Instants beyond
	 * the next three days have wall clocks later than any offset near
	 * `after` allows, so the offsets of those days bound where to start.
	 */
	tz_offset_range_in(tz, after, after + 3 * 86400, &omin, &omax);
	local = after + 1 + omin;
	limit = after + OFF_SPAN + SEARCH_SPAN;
	for (;;) {
		if ((local = next_local(c, local, limit)) == INT64_MAX)
			break;
		/*
		 * Candidates of `local` are at least local - (an offset in
		 * effect before best): once that cannot beat best, stop.
		 */
		if (best != INT64_MAX && local - omax >= best)
			break;
		n = tz_local_to_utc(tz, local, &u[0], &u[1]);
		if (n == 0) {
			if (wall && dst != CRON_DST_SKIP) {
				u[0] = tz_gap_end(tz, local);
				n = 1;
			}
		} else if (n == 2 && wall && dst != CRON_DST_BOTH)
			n = 1;
		for (k = 0; k < n; k++) {
			if (u[k] > after && u[k] < best) {
				best = u[k];
				tz_offset_range_in(tz, after, best, &omin,
				    &omax);
			}
		}
		local += 60;
	}
	return best == INT64_MAX ? -1 : best;
}

int
cron_key_precision(const struct cron *c)
{
	if (c->minute != 1)
		return 2;
	return c->hour == 1 ? 0 : 1;
}
