/*
 * policy.c - the run policies as people write them: retry back-off
 * ("1s,2,30s"), halt ("now,fail=20%"), memory sizes ("512M") and load
 * ("4", "150%"), and the arithmetic of the back-off and of the halt.
 * Pure functions, safe from any thread.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloter.h"

/* A decimal number at s, up to end (or the end of s): digits, at most one
 * '.', nothing else (strtod would take blanks, signs, hex and "inf"). */
static int decimal(const char *s, const char *end, double *out)
{
	size_t n = end ? (size_t)(end - s) : strlen(s);
	char buf[32], *stop;
	bool dot = false, digit = false;

	if (n == 0 || n >= sizeof buf)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digit = true;
		else if (s[i] == '.' && !dot)
			dot = true;
		else
			return -EINVAL;
	}
	if (!digit)
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*out = strtod(buf, &stop);
	return *stop || !isfinite(*out) ? -EINVAL : 0;
}

/* A duration of n bytes at s. */
static int duration_part(const char *s, size_t n, int64_t *ms)
{
	char buf[64];

	if (n == 0 || n >= sizeof buf)
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return alloter_duration_parse(buf, ms);
}

int alloter_backoff_parse(const char *s, struct alloter_backoff *b)
{
	const char *c1 = strchr(s, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	struct alloter_backoff v = ALLOTER_BACKOFF_INIT;
	int err;

	if ((err = duration_part(s, c1 ? (size_t)(c1 - s) : strlen(s),
	                         &v.delay_ms)))
		return err;
	if (c1 && (err = decimal(c1 + 1, c2, &v.factor)))
		return err;
	if (c1 && (v.factor < 1 || v.factor > 1000))
		return -ERANGE;
	if (c2 && (err = duration_part(c2 + 1, strlen(c2 + 1), &v.max_ms)))
		return err;
	*b = v;
	return 0;
}

int64_t alloter_backoff_ms(const struct alloter_backoff *b, int n,
                           double jitter)
{
	double ms = (double)b->delay_ms;

	for (int i = 1; i < n && ms < 1e15; i++)
		ms *= b->factor;
	if (b->max_ms > 0 && ms > (double)b->max_ms)
		ms = (double)b->max_ms;
	if (jitter < -1)
		jitter = -1;
	if (jitter > 1)
		jitter = 1;
	ms *= 1 + jitter / 10; /* within 10 % */
	return ms >= 9e15 ? INT64_MAX / 4 : (int64_t)ms;
}

int alloter_halt_parse(const char *s, struct alloter_halt *h)
{
	static const char *const whens[] = {"soon", "now"};
	static const char *const whys[] = {"fail", "success", "done"};
	const char *comma = strchr(s, ','), *eq, *num;
	struct alloter_halt v = {0};
	char *end;
	long n;
	int k;

	if (!comma || !(eq = strchr(comma, '=')))
		return -EINVAL;
	for (k = 0; k < 2; k++)
		if (strlen(whens[k]) == (size_t)(comma - s) &&
		    !strncmp(s, whens[k], (size_t)(comma - s)))
			break;
	if (k == 2)
		return -EINVAL;
	v.when = k == 0 ? ALLOTER_HALT_SOON : ALLOTER_HALT_NOW;
	for (k = 0; k < 3; k++)
		if (strlen(whys[k]) == (size_t)(eq - comma - 1) &&
		    !strncmp(comma + 1, whys[k], (size_t)(eq - comma - 1)))
			break;
	if (k == 3)
		return -EINVAL;
	v.why = (enum alloter_halt_why)k;
	num = eq + 1;
	if (*num < '0' || *num > '9')
		return -EINVAL;
	errno = 0;
	n = strtol(num, &end, 10);
	if (errno || n < 1 || n > 1000000000)
		return -ERANGE;
	if (*end == '%') {
		if (end[1] || n > 100)
			return -ERANGE;
		v.percent = (int)n;
	} else if (*end) {
		return -EINVAL;
	} else {
		v.count = n;
	}
	*h = v;
	return 0;
}

bool alloter_halt_reached(const struct alloter_halt *h, size_t failed,
                          size_t succeeded, size_t total)
{
	size_t n = h->why == ALLOTER_HALT_FAIL      ? failed
	           : h->why == ALLOTER_HALT_SUCCESS ? succeeded
	                                            : failed + succeeded;

	if (h->when == ALLOTER_HALT_NEVER || n == 0)
		return false;
	if (h->percent)
		return total > 0 && n * 100 >= (size_t)h->percent * total;
	return n >= (size_t)h->count;
}

int alloter_size_parse(const char *s, int64_t *bytes)
{
	static const char units[] = "KMGT";
	size_t n = strlen(s), k = 0;
	const char *u;
	double v;
	int err;

	if (n && (s[n - 1] == 'B' || s[n - 1] == 'b'))
		n--; /* "2GB" as "2G" */
	if (n && s[n - 1] >= 'A' && (u = strchr(units, s[n - 1] & ~0x20))) {
		k = (size_t)(u - units) + 1;
		n--;
	}
	if ((err = decimal(s, s + n, &v)))
		return err;
	for (size_t i = 0; i < k; i++)
		v *= 1024;
	if (v >= 9e18)
		return -ERANGE;
	*bytes = (int64_t)v;
	return 0;
}

int alloter_load_parse(const char *s, double *max)
{
	size_t n = strlen(s);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	bool percent = n && s[n - 1] == '%';
	double v;
	int err;

	if ((err = decimal(s, s + n - percent, &v)))
		return err;
	if (v <= 0 || v > 1e6)
		return -ERANGE;
	*max = percent ? v / 100 * (double)(cpus > 0 ? cpus : 1) : v;
	return 0;
}
