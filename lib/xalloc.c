#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void *
xalloc_realloc(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		abort();
	if ((p = realloc(p, n * size != 0 ? n * size : 1)) == NULL) {
		(void)fputs("sluice: out of memory\n", stderr);
		abort();
	}
	return p;
}

char *
xalloc_memdup(const char *s, size_t n)
{
	char *d = xalloc_realloc(NULL, n + 1, 1);

	if (n > 0)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}
