/*
 * Allocation that does not fail: out of memory, the program aborts.  For
 * the tables of names and columns, whose growth a caller could not undo.
 */
#ifndef XALLOC_H
#define XALLOC_H

#include <stddef.h>

/* realloc(p, n * size), checked for overflow; never NULL. */
void	*xalloc_realloc(void *p, size_t n, size_t size);
/* A NUL-terminated copy of the n bytes at s. */
char	*xalloc_memdup(const char *s, size_t n);

#endif
