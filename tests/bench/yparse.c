/*
 * yparse: the parse floor for the schema-infer benchmark.
 *
 *	yparse < file.ndjson
 *
 * A yajl SAX parse of stdin in 64 KiB chunks with callbacks that do
 * nothing, so yajl still validates UTF-8 and decodes every string and key
 * (with NULL callbacks it would skip that work).  Numbers are left as raw
 * text.  Any filter built on yajl reads its input at best this fast, so
 * schema-infer's time over yparse's is the cost of its own work.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

static int
on_event(void *ctx)
{
	(void)ctx;
	return 1;
}

static int
on_boolean(void *ctx, int b)
{
	(void)ctx;
	(void)b;
	return 1;
}

static int
on_number(void *ctx, const char *s, size_t len)
{
	(void)ctx;
	(void)s;
	(void)len;
	return 1;
}

static int
on_string(void *ctx, const unsigned char *s, size_t len)
{
	(void)ctx;
	(void)s;
	(void)len;
	return 1;
}

static const yajl_callbacks callbacks = {
	on_event, on_boolean, NULL, NULL, on_number, on_string,
	on_event, on_string, on_event, on_event, on_event,
};

int
main(void)
{
	static unsigned char buf[1 << 16];
	yajl_handle h;
	yajl_status st;
	unsigned char *msg;
	ssize_t n;
	int rc = 1;

	if ((h = yajl_alloc(&callbacks, NULL, NULL)) == NULL ||
	    !yajl_config(h, yajl_allow_multiple_values, 1))
		return 1;
	for (;;) {
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("yparse: stdin");
			goto out;
		}
		st = n ? yajl_parse(h, buf, (size_t)n) : yajl_complete_parse(h);
		if (st != yajl_status_ok) {
			msg = yajl_get_error(h, 0, NULL, 0);
			(void)fprintf(stderr, "yparse: %s\n", (char *)msg);
			yajl_free_error(h, msg);
			goto out;
		}
		if (n == 0)
			break;
	}
	rc = 0;
out:
	yajl_free(h);
	return rc;
}
