/*
 * A user's jq program (libjq) applied to records: jsonl-normalize --jq.
 * Not on the hot path unless asked for.  jq 1.6 holds numbers as doubles,
 * so integers beyond 2^53 in a transformed record lose precision.
 */
#ifndef TRANSFORM_H
#define TRANSFORM_H

#include <stddef.h>

#include "jbuf.h"
#include "liberr.h"

struct transform;

/*
 * Compile expr; NULL with e set (EX_USAGE, jq's first message, such as
 * "jq: error: syntax error, ...") if it does not.
 */
struct transform *transform_new(const char *expr, struct lib_err *e);
void	transform_free(struct transform *);

/*
 * Run the program on one JSON text.  Every output is appended to outs as
 * compact JSON followed by "\n" (none for `empty`).  -1 with e set
 * (EX_DATAERR) when jq stops with an error; outs then holds nothing new.
 */
int	transform_run(struct transform *, const char *json, size_t len,
	    struct jbuf *outs, struct lib_err *e);

#endif
