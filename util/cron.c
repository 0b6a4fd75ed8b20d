#include "util/cron.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/buf.h"

/* A field found no match within this many years: refused at parse time,
 * so cron_next never searches longer (a Feb 29 Sunday runs 28 years
 * apart; 400 years is the Gregorian calendar's whole cycle). */
#define CRON_YEARS 400

/* ---- the calendar (proleptic Gregorian, days since 1970-01-01) -------- */

static long long floor_div(long long a, long long b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Howard Hinnant's days_from_civil. */
static long long days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, long long *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(long long y, int m)
{
	static const int n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : n[m - 1];
}

/* ---- parsing ---------------------------------------------------------- */

struct field {
	const char *what;
	int lo, hi;
	const char *const *names;	/* names[i] is lo + i */
};

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may",
	"jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const dow_names[] = { "sun", "mon", "tue", "wed", "thu",
	"fri", "sat", NULL };

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day-of-month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	/* 7 is Sunday too; folded onto 0 after parsing. */
	{ "day-of-week", 0, 7, dow_names },
};

static const struct { const char *name, *fields; } macros[] = {
	{ "@hourly", "0 * * * *" },
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@weekly", "0 0 * * 0" },
	{ "@monthly", "0 0 1 * *" },
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
};

/* A number or (where the field has them) a name at *p; advances *p. */
static int get_value(const struct field *f, const char **p, int *out)
{
	const char *s = *p;
	long v = 0;

	if (isdigit((unsigned char)*s)) {
		while (isdigit((unsigned char)*s)) {
			v = v * 10 + (*s++ - '0');
			if (v > 1000)
				return -1;
		}
		*out = (int)v;
		*p = s;
		return 0;
	}
	for (int i = 0; f->names && f->names[i]; i++) {
		if (!strncasecmp(s, f->names[i], 3) &&
		    !isalpha((unsigned char)s[3])) {
			*out = f->lo + i;
			*p = s + 3;
			return 0;
		}
	}
	return -1;
}

static int bad_field(const struct field *f, const char *text, struct buf *why,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int bad_field(const struct field *f, const char *text, struct buf *why,
		     const char *fmt, ...)
{
	va_list ap;

	buf_printf(why, "%s field '%s': ", f->what, text);
	va_start(ap, fmt);
	buf_vprintf(why, fmt, ap);
	va_end(ap);
	return -1;
}

/* One field's text (no blanks) into bits. */
static int parse_field(const struct field *f, const char *text, uint64_t *bits,
		       struct buf *why)
{
	const char *p = text;

	*bits = 0;
	for (;;) {
		int a, b, step = 1;

		if (*p == '*') {
			a = f->lo;
			b = f->hi;
			p++;
		} else {
			if (get_value(f, &p, &a) < 0)
				return bad_field(f, text, why, "expected a number%s, "
						 "'*' or a range", f->names ?
						 " or a name" : "");
			b = a;
			if (*p == '-') {
				const char *end = ++p;

				if (get_value(f, &p, &b) < 0)
					return bad_field(f, text, why, "a range "
							 "needs an end");
				/* "fri-sun": Sunday by name ends a range as 7. */
				if (f->names == dow_names && b == 0 &&
				    isalpha((unsigned char)*end))
					b = 7;
			} else if (*p == '/') {
				b = f->hi;	/* N/step: from N to the end */
			}
		}
		if (*p == '/') {
			const char *s = ++p;

			if (!isdigit((unsigned char)*s))
				return bad_field(f, text, why, "a step needs a "
						 "number");
			step = 0;
			while (isdigit((unsigned char)*p) && step <= 1000)
				step = step * 10 + (*p++ - '0');
			if (step < 1 || step > f->hi - f->lo + 1)
				return bad_field(f, text, why, "step %d is out of "
						 "range 1-%d", step, f->hi - f->lo + 1);
		}
		if (a < f->lo || a > f->hi)
			return bad_field(f, text, why, "%d is out of range %d-%d",
					 a, f->lo, f->hi);
		if (b < f->lo || b > f->hi)
			return bad_field(f, text, why, "%d is out of range %d-%d",
					 b, f->lo, f->hi);
		if (a > b)
			return bad_field(f, text, why, "range %d-%d runs "
					 "backwards", a, b);
		for (int v = a; v <= b; v += step)
			*bits |= 1ULL << v;
		if (*p == '\0')
			return 0;
		if (*p != ',')
			return bad_field(f, text, why, "unexpected '%c'", *p);
		p++;
	}
}

static int zone_exists(const char *zone)
{
	const char *dir = getenv("TZDIR");
	struct stat st;
	char *path;
	int r;

	if (!*zone || zone[0] == '/' || strstr(zone, ".."))
		return 0;
	path = xstrfmt("%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
	r = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	return r;
}

static int first_match(const struct cron *c, long long *y, int *m, int *d,
		       int *h, int *mi, long long ylimit);

static int parse_into(const char *expr, struct cron *c, struct buf *why)
{
	struct strlist words = STRLIST_INIT;
	const char *p = expr;
	uint64_t bits[5];
	int r = -1;

	while (*p) {
		size_t n;

		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (n)
			strlist_add_take(&words, xstrndup(p, n));
		p += n;
	}
	if (words.n && (!strncmp(words.v[0], "CRON_TZ=", 8) ||
			!strncmp(words.v[0], "TZ=", 3))) {
		const char *z = strchr(words.v[0], '=') + 1;

		if (!zone_exists(z)) {
			buf_printf(why, "unknown time zone '%s'", z);
			goto out;
		}
		c->zone = xstrdup(z);
		free(words.v[0]);
		memmove(words.v, words.v + 1, --words.n * sizeof(*words.v));
	}
	if (words.n == 1 && words.v[0][0] == '@') {
		const char *name = words.v[0];

		for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
			if (!strcasecmp(name, macros[i].name))
				r = parse_into(macros[i].fields, c, why);
		if (r < 0 && !why->len)
			buf_printf(why, "unknown '%s' (known: @hourly, @daily, "
				   "@midnight, @weekly, @monthly, @yearly, "
				   "@annually)", name);
		goto out;
	}
	if (words.n != 5) {
		buf_printf(why, "%s: expected 5 fields (minute hour "
			   "day-of-month month day-of-week), found %zu",
			   words.n < 5 ? "too few fields" : "too many fields",
			   words.n);
		goto out;
	}
	for (int i = 0; i < 5; i++)
		if (parse_field(&fields[i], words.v[i], &bits[i], why) < 0)
			goto out;
	c->minute = bits[0];
	c->hour = (uint32_t)bits[1];
	c->dom = (uint32_t)bits[2];
	c->month = (uint32_t)bits[3];
	c->dow = (uint32_t)((bits[4] | bits[4] >> 7) & 0x7f);
	c->dom_star = words.v[2][0] == '*';
	c->dow_star = words.v[4][0] == '*';
	r = 0;
out:
	strlist_release(&words);
	return r;
}

int cron_parse(const char *expr, struct cron *c, struct err *e)
{
	struct buf why = BUF_INIT;
	long long y = 2000;
	int m = 1, d = 1, h = 0, mi = 0, r;

	cron_release(c);
	r = parse_into(expr, c, &why);
	if (r == 0 && first_match(c, &y, &m, &d, &h, &mi, 2000 + CRON_YEARS) < 0) {
		buf_addstr(&why, "never matches a date");
		r = -1;
	}
	if (r < 0) {
		err_set(e, FX_USAGE, "%s", buf_str(&why));
		cron_release(c);
	}
	buf_release(&why);
	return r;
}

void cron_release(struct cron *c)
{
	free(c->zone);
	memset(c, 0, sizeof(*c));
}

/* ---- matching wall times ---------------------------------------------- */

static int day_matches(const struct cron *c, long long y, int m, int d)
{
	long long days = days_from_civil(y, m, d) + 4;	/* 1970-01-01: Thu */
	int wd = (int)(days - floor_div(days, 7) * 7);
	int dom = (c->dom >> d) & 1, dow = (c->dow >> wd) & 1;

	/* Vixie cron: a '*' in either field makes the other one alone decide
	 * (the '*' field matches every day); both restricted: either. */
	if (c->dom_star || c->dow_star)
		return dom && dow;
	return dom || dow;
}

/*
 * The first matching wall-clock minute at or after the one given, by
 * fields: a month that does not match is skipped whole, then days, hours
 * and minutes, so even a schedule years apart takes a few hundred steps.
 * -1 past ylimit.
 */
static int first_match(const struct cron *c, long long *y, int *m, int *d,
		       int *h, int *mi, long long ylimit)
{
	for (;;) {
		if (*y > ylimit)
			return -1;
		if (!((c->month >> *m) & 1) || *d > days_in_month(*y, *m)) {
			*d = 1, *h = 0, *mi = 0;
			if (++*m > 12)
				*m = 1, ++*y;
			continue;
		}
		if (!day_matches(c, *y, *m, *d)) {
			++*d, *h = 0, *mi = 0;
			continue;
		}
		if (*h > 23 || !((c->hour >> *h) & 1)) {
			if (*h >= 23)
				++*d, *h = 0;
			else
				++*h;
			*mi = 0;
			continue;
		}
		if (*mi > 59 || !((c->minute >> *mi) & 1)) {
			if (*mi >= 59)
				++*h, *mi = 0;
			else
				++*mi;
			continue;
		}
		return 0;
	}
}

/* ---- wall times and instants ------------------------------------------ */

static long long gmtoff_at(time_t t)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return 0;
	return tm.tm_gmtoff;
}

/*
 * The instant a wall time fires at.  Every instant t has the wall time
 * t + offset(t); the offsets in force within a day of the wall time are
 * the candidates.  Several instants show the wall time (a repeated hour):
 * the first.  None does (a skipped hour): the jump itself, the first
 * instant whose wall time is later, found by bisection between the
 * offsets before and after it.
 */
static time_t resolve(long long wall)
{
	long long off[3] = { gmtoff_at((time_t)(wall - 86400)),
			     gmtoff_at((time_t)wall),
			     gmtoff_at((time_t)(wall + 86400)) };
	long long lo_off = off[0], hi_off = off[0], lo, hi;
	int found = 0;
	time_t best = 0;

	for (int i = 0; i < 3; i++) {
		time_t t = (time_t)(wall - off[i]);

		if (t + gmtoff_at(t) == wall && (!found || t < best))
			best = t, found = 1;
		if (off[i] < lo_off)
			lo_off = off[i];
		if (off[i] > hi_off)
			hi_off = off[i];
	}
	if (found || lo_off == hi_off)
		return found ? best : (time_t)(wall - lo_off);
	lo = wall - hi_off;	/* still before the jump */
	hi = wall - lo_off;	/* already after it */
	while (hi - lo > 1) {
		long long mid = lo + (hi - lo) / 2;

		if (mid + gmtoff_at((time_t)mid) > wall)
			hi = mid;
		else
			lo = mid;
	}
	return (time_t)hi;
}

/* TZ set to a zone for a while, then put back as it was. */
struct tz_saved {
	char *old;
	int had, changed;
};

static void tz_enter(struct tz_saved *s, const char *zone)
{
	const char *cur = getenv("TZ");

	s->had = cur != NULL;
	s->old = cur ? xstrdup(cur) : NULL;
	s->changed = zone != NULL;
	if (zone)
		setenv("TZ", zone, 1);
	/* localtime_r() need not look at TZ again by itself. */
	tzset();
}

static void tz_leave(struct tz_saved *s)
{
	if (s->changed) {
		if (s->had)
			setenv("TZ", s->old, 1);
		else
			unsetenv("TZ");
		tzset();
	}
	free(s->old);
}

/* cron_next() with TZ already set to the expression's zone. */
static int next_in_zone(const struct cron *c, time_t after, time_t *next)
{
	long long wall, minute, days, y;
	int m, d, h, mi;

	/* Wall times at or before the one shown at `after` fire at or
	 * before it; the search starts at the next minute. */
	wall = (long long)after + gmtoff_at(after);
	minute = floor_div(wall, 60) + 1;
	days = floor_div(minute, 1440);
	civil_from_days(days, &y, &m, &d);
	h = (int)((minute - days * 1440) / 60);
	mi = (int)((minute - days * 1440) % 60);
	for (long long ylimit = y + CRON_YEARS;;) {
		time_t t;

		if (first_match(c, &y, &m, &d, &h, &mi, ylimit) < 0)
			return -1;
		t = resolve(days_from_civil(y, m, d) * 86400 + h * 3600 +
			    mi * 60);
		/* A minute of a repeated hour seen again after `after` fired
		 * on its first showing, before it. */
		if (t > after) {
			*next = t;
			return 0;
		}
		mi++;
	}
	return -1;
}

int cron_next(const struct cron *c, time_t after, time_t *next)
{
	return cron_next_n(c, after, next, 1) == 1 ? 0 : -1;
}

size_t cron_next_n(const struct cron *c, time_t after, time_t *next, size_t n)
{
	struct tz_saved tz;
	size_t i;

	tz_enter(&tz, c->zone);
	for (i = 0; i < n; after = next[i++])
		if (next_in_zone(c, after, &next[i]) < 0)
			break;
	tz_leave(&tz);
	return i;
}

void cron_utc(time_t t, char out[21])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

int cron_parse_utc(const char *s, time_t *t)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end || strlen(s) != 20)
		return -1;
	*t = timegm(&tm);
	return 0;
}
