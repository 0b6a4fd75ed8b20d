#include "util/value.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int value_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (!*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int value_port(const char *s, long long *out)
{
	return value_int(s, 1, 65535, out);
}

int value_bool(const char *s, long long *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static long long unit_ms(const char *u, size_t n)
{
	static const struct { const char *name; long long ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { "w", 604800000 },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == n && !strncmp(u, units[i].name, n))
			return units[i].ms;
	return 0;
}

int value_duration_ms(const char *s, long long *out)
{
	long long total = 0;
	const char *p = s;

	if (!*p)
		return -1;
	if (value_int(s, 0, LLONG_MAX / 1000, &total) == 0) {
		*out = total * 1000;
		return 0;
	}
	total = 0;
	while (*p) {
		const char *u;
		long long n = 0, ms;

		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p)) {
			if (n > (LLONG_MAX - 9) / 10)
				return -1;
			n = n * 10 + (*p++ - '0');
		}
		u = p;
		while (isalpha((unsigned char)*p))
			p++;
		ms = unit_ms(u, (size_t)(p - u));
		if (!ms || n > (LLONG_MAX - total) / ms)
			return -1;
		total += n * ms;
	}
	*out = total;
	return 0;
}
