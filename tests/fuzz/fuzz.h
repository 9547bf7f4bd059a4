/*
 * Shared helpers of the libFuzzer targets: an invariant that does not hold
 * is a crash (abort), so libFuzzer keeps the input that broke it.
 *
 * A check that fails today because of a defect still open in issue 9 is
 * compiled out by the macro named after the item (FUZZ_KNOWN_D5 ...); the
 * Makefile's FUZZ_KNOWN lists them, so that removing the macro from the list
 * is all it takes to turn the check on once the fix is merged.
 */
#ifndef FUZZ_H
#define FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, what) do {					\
	if (!(cond)) {							\
		(void)fprintf(stderr, "invariant broken: %s (%s:%d)\n", \
		    (what), __FILE__, __LINE__);			\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#endif
