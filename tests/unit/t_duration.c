/*
 * t_duration.c - durations in, durations out.
 */
#include <errno.h>

#include "alloter.h"
#include "tap.h"

static int64_t parse(const char *s)
{
	int64_t ms = -1;

	return alloter_duration_parse(s, &ms) == 0 ? ms : -1;
}

int main(void)
{
	static const struct {
		const char *in;
		int64_t ms;
	} good[] = {
		{"0", 0}, {"2", 2000}, {"0.5", 500}, {"1.25", 1250},
		{"500ms", 500}, {"30s", 30000}, {"10m", 600000},
		{"2h", 7200000}, {"1m30s", 90000}, {"1h2m3s4ms", 3723004},
		{"1.5s", 1500}, {".5", 500},
	};
	static const char *const bad[] = {
		"", "abc", "5x", "-1", "-0", "1e3", "30s1m", "1s1s", "s",
		"1 s", "1e999s", "99999999999999999999h", "1m 30s",
	};
	char buf[64];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		is_int(parse(good[i].in), good[i].ms, "'%s' parses",
		       good[i].in);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t ms;
		ok(alloter_duration_parse(bad[i], &ms) < 0, "'%s' is refused",
		   bad[i]);
	}
	is_str(alloter_duration_format(90000, buf, sizeof buf), "1m30s",
	       "90 s formats as 1m30s");
	is_str(alloter_duration_format(2000, buf, sizeof buf), "2s", "2s");
	is_str(alloter_duration_format(250, buf, sizeof buf), "250ms",
	       "250ms");
	is_str(alloter_duration_format(1500, buf, sizeof buf), "1.5s", "1.5s");
	is_str(alloter_duration_format(3600050, buf, sizeof buf), "1h0.05s",
	       "1h0.05s");
	return tap_done();
}
