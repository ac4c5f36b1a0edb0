/*
 * duration.c - durations as people write them ("1m30s", "500ms", "0.5") to
 * milliseconds and back.  A bare number is seconds and may be fractional;
 * units may be combined, largest first, each at most once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloter.h"

static const struct unit {
	const char *name;
	int64_t ms;
} units[] = {
	/* "ms" before "m" so that the longer name wins. */
	{"ms", 1}, {"h", 3600000}, {"m", 60000}, {"s", 1000},
};

/* Parses "digits[.digits]" at *p into a value scaled by 1000 (so 1.5 is
 * 1500), rounding sub-millisecond digits down. */
static int number(const char **p, int64_t *milli)
{
	const char *s = *p;
	int64_t whole = 0, frac = 0, scale = 1000;
	int digits = 0;

	while (*s >= '0' && *s <= '9') {
		if (whole > (INT64_MAX / 1000 - 9) / 10)
			return -ERANGE;
		whole = whole * 10 + (*s++ - '0');
		digits++;
	}
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			if (scale > 1) {
				scale /= 10;
				frac += (*s - '0') * scale;
			}
			s++;
			digits++;
		}
	}
	if (digits == 0)
		return -EINVAL;
	*milli = whole * 1000 + frac;
	*p = s;
	return 0;
}

int alloter_duration_parse(const char *s, int64_t *ms)
{
	int64_t total = 0;
	size_t last = sizeof units / sizeof units[0];
	int terms = 0;

	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		int64_t milli;
		int r = number(&s, &milli);
		size_t u;

		if (r)
			return r;
		if (!*s) { /* a bare number: seconds, and only on its own */
			if (terms)
				return -EINVAL;
			*ms = milli;
			return 0;
		}
		for (u = 0; u < sizeof units / sizeof units[0]; u++)
			if (strncmp(s, units[u].name, strlen(units[u].name)) == 0)
				break;
		if (u == sizeof units / sizeof units[0])
			return -EINVAL;
		/* Largest unit first, each once: "1m30s" yes, "30s1m" no. */
		if (terms && (units[u].ms >= units[last].ms))
			return -EINVAL;
		s += strlen(units[u].name);
		/* milli is value*1000; convert to ms of this unit. */
		if (milli > INT64_MAX / units[u].ms)
			return -ERANGE;
		milli = milli * units[u].ms / 1000;
		if (total > INT64_MAX - milli)
			return -ERANGE;
		total += milli;
		last = u;
		terms++;
	}
	*ms = total;
	return 0;
}

char *alloter_duration_format(int64_t ms, char *buf, size_t len)
{
	int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60;
	int64_t rest = ms % 1000;
	char frac[8] = "";
	size_t n = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (ms < 1000) {
		snprintf(buf, len, ms ? "%lldms" : "0s", (long long)ms);
		return buf;
	}
	if (rest) { /* ".5" for 500, ".05" for 50: the digits that matter */
		int d = snprintf(frac, sizeof frac, ".%03lld", (long long)rest);
		while (d > 1 && frac[d - 1] == '0')
			frac[--d] = '\0';
	}
	if (h)
		n += snprintf(buf + n, len - n, "%lldh", (long long)h);
	if (m && n < len)
		n += snprintf(buf + n, len - n, "%lldm", (long long)m);
	if ((s || rest) && n < len)
		snprintf(buf + n, len - n, "%lld%ss", (long long)s, frac);
	return buf;
}
