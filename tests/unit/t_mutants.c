/*
 * t_mutants.c - edges of the library that no other test covered until a
 * mutant in tests/mutants/list survived: each test here names the mutant
 * it kills.
 */
#include <stdlib.h>

#include "alloter.h"
#include "tap.h"

/* direct-exec-tab-not-a-separator: a tab that follows a word ends it, as a
 * space does.  (The other tests only had tabs next to spaces.) */
static void test_tab_ends_a_word(void)
{
	char **argv = NULL;
	int r = alloter_command_words("prog\t-a\tb", &argv);
	size_t n = 0;

	ok(r >= 0 && argv, "words separated by tabs alone need no shell");
	if (!argv)
		return;
	/* Only what comes before the NULL is set. */
	while (n < 3 && argv[n])
		n++;
	is_int(n, 3, "they are three words");
	if (n == 3) {
		is_str(argv[0], "prog", "the first ends at a tab");
		is_str(argv[1], "-a", "so does the second");
		is_str(argv[2], "b", "the last is whole");
		ok(!argv[3], "and nothing follows");
	}
	free(argv);
}

int main(void)
{
	test_tab_ends_a_word();
	return tap_done();
}
