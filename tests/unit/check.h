/*
 * The unit tests' one assertion: CHECK(cond) counts a pass or prints the
 * failed condition with its place, and the test goes on.
 */
#ifndef UNIT_CHECK_H
#define UNIT_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond) do {						\
	if (cond)							\
		passed++;						\
	else {								\
		failed++;						\
		(void)fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
	}								\
} while (0)

#endif
