/*
 * Allocation that does not fail, for the tables of names and columns and
 * the buffers whose growth a caller could not undo.
 *
 * Out of memory, or a size past SIZE_MAX, the program writes
 * "PROG: out of memory" to standard error (PROG as cli_init named it,
 * "sluice" before that) and exits EX_OSERR (71) with _exit: not abort(),
 * since no input may make a program die by a signal, and not exit(),
 * since nothing more should run with the heap exhausted (no atexit
 * handler, no stdio flush of a half-written record).  An output is left
 * as a crash would leave it: the loader's transaction is not committed.
 */
#ifndef XALLOC_H
#define XALLOC_H

#include <stddef.h>

/* The program name for the message; cli_init sets it.  Borrowed. */
void	xalloc_set_prog(const char *prog);
/* Report out of memory and exit EX_OSERR; for sizes past SIZE_MAX too. */
_Noreturn void xalloc_die(void);

/* malloc(n * size), checked for overflow; never NULL. */
void	*xalloc_malloc(size_t n, size_t size);
/* calloc(n, size); never NULL. */
void	*xalloc_calloc(size_t n, size_t size);
/* realloc(p, n * size), checked for overflow; never NULL. */
void	*xalloc_realloc(void *p, size_t n, size_t size);
/* A copy of the string s. */
char	*xalloc_strdup(const char *s);
/* A NUL-terminated copy of the n bytes at s. */
char	*xalloc_memdup(const char *s, size_t n);

#endif
