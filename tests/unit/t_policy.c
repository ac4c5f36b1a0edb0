/*
 * t_policy.c - the run policies: parsing what people write, the back-off's
 * arithmetic and the halt's counts and percentages.
 */
#include <errno.h>
#include <unistd.h>

#include "alloter.h"
#include "tap.h"

static void backoff(void)
{
	struct alloter_backoff b;

	is_int(alloter_backoff_parse("2s", &b), 0, "2s is a fixed delay");
	is_int(b.delay_ms, 2000, "of 2000 ms");
	is_int(alloter_backoff_ms(&b, 1, 0), 2000, "before the first retry");
	is_int(alloter_backoff_ms(&b, 5, 0), 2000, "and the fifth");
	is_int(alloter_backoff_parse("1s,2", &b), 0, "1s,2 doubles");
	is_int(alloter_backoff_ms(&b, 1, 0), 1000, "1 s first");
	is_int(alloter_backoff_ms(&b, 2, 0), 2000, "2 s second");
	is_int(alloter_backoff_ms(&b, 4, 0), 8000, "8 s fourth");
	is_int(alloter_backoff_parse("1s,2,30s", &b), 0, "1s,2,30s is capped");
	is_int(alloter_backoff_ms(&b, 5, 0), 16000, "16 s fifth");
	is_int(alloter_backoff_ms(&b, 6, 0), 30000, "30 s sixth, the cap");
	is_int(alloter_backoff_ms(&b, 1000, 0), 30000, "and the thousandth");
	is_int(alloter_backoff_ms(&b, 1, 1), 1100, "jitter 1 adds 10 %%");
	is_int(alloter_backoff_ms(&b, 1, -1), 900, "jitter -1 takes 10 %% off");
	is_int(alloter_backoff_ms(&b, 1, 7), 1100, "jitter is bounded");
	is_int(alloter_backoff_parse("1s,0.5", &b), -ERANGE, "a factor below 1 is refused");
	is_int(alloter_backoff_parse("1s,x", &b), -EINVAL, "a factor that is not a number is refused");
	is_int(alloter_backoff_parse("1s,2,", &b), -EINVAL, "an empty cap is refused");
	is_int(alloter_backoff_parse("", &b), -EINVAL, "an empty delay is refused");
	is_int(alloter_backoff_parse("-1", &b), -EINVAL, "a negative delay is refused");
	is_int(alloter_backoff_parse("1s,1e3", &b), -EINVAL, "no exponents");
}

static void halt(void)
{
	struct alloter_halt h;

	is_int(alloter_halt_parse("soon,fail=1", &h), 0, "soon,fail=1");
	ok(h.when == ALLOTER_HALT_SOON && h.why == ALLOTER_HALT_FAIL && h.count == 1,
	   "is -x");
	is_int(alloter_halt_parse("now,fail=20%", &h), 0, "now,fail=20%%");
	ok(h.when == ALLOTER_HALT_NOW && h.percent == 20, "a percentage");
	ok(!alloter_halt_reached(&h, 19, 50, 100), "19 of 100 failed: not yet");
	ok(alloter_halt_reached(&h, 20, 50, 100), "20 of 100 failed: halt");
	ok(!alloter_halt_reached(&h, 20, 50, 0), "a percentage of an unknown total never halts");
	ok(alloter_halt_reached(&h, 1, 0, 3), "1 of 3 is over 20 %%");
	is_int(alloter_halt_parse("soon,success=1", &h), 0, "soon,success=1");
	ok(alloter_halt_reached(&h, 5, 1, 10) && !alloter_halt_reached(&h, 5, 0, 10),
	   "counts successes");
	is_int(alloter_halt_parse("now,done=50%", &h), 0, "now,done=50%%");
	ok(alloter_halt_reached(&h, 2, 3, 10) && !alloter_halt_reached(&h, 2, 2, 10),
	   "done counts failures and successes");
	is_int(alloter_halt_parse("sometimes,fail=1", &h), -EINVAL, "an unknown WHEN is refused");
	is_int(alloter_halt_parse("now,fail=0", &h), -ERANGE, "fail=0 is refused");
	is_int(alloter_halt_parse("now,fail=150%", &h), -ERANGE, "150 %% is refused");
	is_int(alloter_halt_parse("now,oops=1", &h), -EINVAL, "an unknown WHY is refused");
	is_int(alloter_halt_parse("now", &h), -EINVAL, "WHY=N is needed");
	is_int(alloter_halt_parse("now,fail=1x", &h), -EINVAL, "trailing garbage is refused");
}

static void sizes_and_loads(void)
{
	int64_t b;
	double l;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	is_int(alloter_size_parse("512M", &b), 0, "512M");
	is_int(b, 512LL << 20, "is 512 MiB");
	is_int(alloter_size_parse("2G", &b), 0, "2G");
	is_int(b, 2LL << 30, "is 2 GiB");
	is_int(alloter_size_parse("1.5k", &b), 0, "1.5k");
	is_int(b, 1536, "is 1536 bytes");
	is_int(alloter_size_parse("2GB", &b), 0, "2GB");
	is_int(alloter_size_parse("100", &b), 0, "a bare number");
	is_int(b, 100, "is bytes");
	is_int(alloter_size_parse("12Q", &b), -EINVAL, "12Q is refused");
	is_int(alloter_size_parse("", &b), -EINVAL, "empty is refused");
	is_int(alloter_size_parse("-1G", &b), -EINVAL, "negative is refused");
	is_int(alloter_load_parse("2.5", &l), 0, "a load of 2.5");
	ok(l == 2.5, "is 2.5");
	is_int(alloter_load_parse("150%", &l), 0, "150%% of the CPUs");
	ok(l == 1.5 * (double)cpus, "is 1.5 per CPU");
	is_int(alloter_load_parse("abc", &l), -EINVAL, "abc is refused");
	is_int(alloter_load_parse("0", &l), -ERANGE, "0 is refused");
}

int main(void)
{
	backoff();
	halt();
	sizes_and_loads();
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
