/*
 * Unit tests of xalloc's one policy: a size past SIZE_MAX or an
 * allocation that fails ends the program with "PROG: out of memory" on
 * standard error and exit status EX_OSERR, never a signal.  Each case
 * runs in a child, whose stderr is read through a pipe.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "exitcodes.h"
#include "jbuf.h"
#include "xalloc.h"

enum { TOO_BIG_MALLOC, TOO_BIG_REALLOC, TOO_BIG_CALLOC, TOO_BIG_JBUF };

static void
fail_in_child(int what)
{
	struct jbuf b = JBUF_INIT;

	switch (what) {
	case TOO_BIG_MALLOC:
		(void)xalloc_malloc(SIZE_MAX / 2 + 1, 2);
		break;
	case TOO_BIG_REALLOC:
		(void)xalloc_realloc(NULL, SIZE_MAX / 8, 16);
		break;
	case TOO_BIG_CALLOC:
		(void)xalloc_calloc(SIZE_MAX / 8, 16);
		break;
	case TOO_BIG_JBUF:
		jbuf_put(&b, "x", 1);
		jbuf_reserve(&b, SIZE_MAX - 4);
		break;
	}
	_exit(0);	/* not reached when xalloc does its job */
}

/* The child's exit status (-1: killed by a signal) and its stderr in out. */
static int
run(int what, const char *prog, char *out, size_t outsize)
{
	int fds[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(fds) == -1 || (pid = fork()) == -1)
		return -2;
	if (pid == 0) {
		(void)dup2(fds[1], STDERR_FILENO);
		(void)close(fds[0]);
		if (prog != NULL)
			xalloc_set_prog(prog);
		fail_in_child(what);
	}
	(void)close(fds[1]);
	while (len + 1 < outsize &&
	    (n = read(fds[0], out + len, outsize - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	(void)close(fds[0]);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int
main(void)
{
	char err[256];
	int what;

	for (what = TOO_BIG_MALLOC; what <= TOO_BIG_JBUF; what++) {
		CHECK(run(what, "dedup-merge", err, sizeof(err)) == EX_OSERR);
		CHECK(strcmp(err, "dedup-merge: out of memory\n") == 0);
	}
	/* Before cli_init names the program. */
	CHECK(run(TOO_BIG_MALLOC, NULL, err, sizeof(err)) == EX_OSERR);
	CHECK(strcmp(err, "sluice: out of memory\n") == 0);
	(void)printf("unit xalloc: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
