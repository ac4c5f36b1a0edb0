/*
 * taskfile_fuzz.c - libFuzzer target for the task-file loader: any bytes
 * must give either tasks or a diagnostic that names a place, never a crash,
 * a leak or a long stall (libFuzzer's -timeout catches those).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "alloter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alloter_taskfile *tf = NULL;
	struct alloter_diag diag = {0};
	int err = alloter_taskfile_parse((const char *)data, size, "fuzz.yaml",
	                                 NULL, &tf, &diag);

	if (err == 0) {
		/* Loaded: the tasks must be whole. */
		if (!tf || tf->n_tasks == 0)
			abort();
		for (size_t i = 0; i < tf->n_tasks; i++)
			if (!tf->tasks[i].name || !tf->tasks[i].run)
				abort();
		alloter_taskfile_free(tf);
	} else if (err == -EINVAL && (diag.line < 1 || diag.col < 1 ||
	                              !diag.msg[0])) {
		/* Bad content must be placed for the user. */
		abort();
	}
	return 0;
}
