#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcodes.h"
#include "xalloc.h"

static const char *xalloc_prog = "sluice";

void
xalloc_set_prog(const char *prog)
{
	if (prog != NULL)
		xalloc_prog = prog;
}

/* write(2), not stdio: stdio may itself need memory to format or buffer. */
_Noreturn void
xalloc_die(void)
{
	static const char what[] = ": out of memory\n";

	(void)!write(STDERR_FILENO, xalloc_prog, strlen(xalloc_prog));
	(void)!write(STDERR_FILENO, what, sizeof(what) - 1);
	_exit(EX_OSERR);
}

/* n * size, or the end of the program when that overflows. */
static size_t
checked_size(size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		xalloc_die();
	return n * size != 0 ? n * size : 1;
}

void *
xalloc_malloc(size_t n, size_t size)
{
	void *p;

	if ((p = malloc(checked_size(n, size))) == NULL)
		xalloc_die();
	return p;
}

void *
xalloc_calloc(size_t n, size_t size)
{
	void *p;

	/* Checked here too: a sanitizer's calloc stops at an overflow. */
	if (checked_size(n, size) == 1)
		n = size = 1;
	if ((p = calloc(n, size)) == NULL)
		xalloc_die();
	return p;
}

void *
xalloc_realloc(void *p, size_t n, size_t size)
{
	if ((p = realloc(p, checked_size(n, size))) == NULL)
		xalloc_die();
	return p;
}

char *
xalloc_strdup(const char *s)
{
	return xalloc_memdup(s, strlen(s));
}

char *
xalloc_memdup(const char *s, size_t n)
{
	char *d;

	if (n == SIZE_MAX)
		xalloc_die();
	d = xalloc_malloc(n + 1, 1);
	if (n > 0)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}
