/*
 * Unit tests of the front-end's one exit-status rule (cli_set_status:
 * the first failure decides, 0 sets nothing, a later failure or a signal
 * changes nothing) and of the clocks' written forms.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "clocks.h"
#include "exitcodes.h"

/* cli_error with its "test-cli: ..." line kept out of the log. */
static void
error_quietly(struct cli *c, int code, const char *msg)
{
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);

	CHECK(saved != -1 && null != -1 && dup2(null, STDERR_FILENO) != -1);
	cli_error(c, code, "%s", msg);
	CHECK(dup2(saved, STDERR_FILENO) != -1);
	(void)close(saved);
	(void)close(null);
}

static void
test_status(void)
{
	struct cli c;

	cli_init(&c, "test-cli");
	CHECK(c.status == 0);
	cli_set_status(&c, 0);
	CHECK(c.status == 0);
	cli_set_status(&c, EX_DATAERR);
	CHECK(c.status == EX_DATAERR);
	/* What follows from the first failure does not change it. */
	cli_set_status(&c, EX_IOERR);
	cli_set_status(&c, 128 + SIGTERM);
	CHECK(c.status == EX_DATAERR);
	error_quietly(&c, EX_CANTCREAT, "a later failure");
	CHECK(c.status == EX_DATAERR);
	CHECK(strcmp(c.last_error, "a later failure") == 0);

	cli_init(&c, "test-cli");
	error_quietly(&c, 0, "a remark");
	CHECK(c.status == 0);
	cli_set_status(&c, 128 + SIGINT);
	CHECK(c.status == 128 + SIGINT);
	error_quietly(&c, EX_DATAERR, "after the signal");
	CHECK(c.status == 128 + SIGINT);
}

/* Every byte of s a digit where pattern has '9', else the same byte. */
static int
shaped(const char *s, const char *pattern)
{
	if (strlen(s) != strlen(pattern))
		return 0;
	for (; *s != '\0'; s++, pattern++)
		if (*pattern == '9' ? *s < '0' || *s > '9' : *s != *pattern)
			return 0;
	return 1;
}

static void
test_clocks(void)
{
	char buf[64];
	double a, b;

	clocks_utc(buf, sizeof(buf), 1);
	CHECK(shaped(buf, "9999-99-99T99:99:99.999999Z"));
	clocks_utc(buf, sizeof(buf), 0);
	CHECK(shaped(buf, "9999-99-99T99:99:99Z"));
	clocks_epoch(buf, sizeof(buf));
	CHECK(strlen(buf) > 8 && shaped(buf + strlen(buf) - 7, ".999999"));
	a = clocks_monotonic();
	b = clocks_monotonic();
	CHECK(a > 0 && b >= a);
}

int
main(void)
{
	test_status();
	test_clocks();
	(void)printf("unit cli: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
