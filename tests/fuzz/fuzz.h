/*
 * Shared helpers of the libFuzzer targets: an invariant that does not hold
 * is a crash (abort), so libFuzzer keeps the input that broke it.
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
