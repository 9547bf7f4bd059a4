/*
 * Singer message detection (sluice(5)).  A line is a message when it is an
 * object whose "type" is RECORD, SCHEMA, STATE or ACTIVATE_VERSION (in any
 * case, as the Singer spec allows) and that has the keys that type needs;
 * any other object is a bare record of the default stream.
 *
 * A sluice filter that fails mid-stream ends its output with
 * {"type":"SLUICE_ABORT","program":P,"status":N,"error":E}, so that the
 * loader at the end of the pipe rolls back instead of committing the half
 * it was sent.
 */
#ifndef MESSAGE_H
#define MESSAGE_H

#include "jbuf.h"
#include "jval.h"

enum message_kind {
	MSG_BARE, MSG_RECORD, MSG_SCHEMA, MSG_STATE, MSG_ACTIVATE_VERSION,
	MSG_ABORT	/* sluice's own: the writer failed mid-stream */
};

struct message {
	enum message_kind	 kind;
	const struct jval	*root;
	const struct jval	*record;	/* MSG_BARE: the root itself */
	const char		*stream;	/* NULL for MSG_BARE and MSG_STATE */
	size_t			 streamlen;
	const struct jval	*schema;
	const struct jval	*key_properties;	/* may be NULL */
	const struct jval	*value;		/* STATE */
	const struct jval	*version;	/* ACTIVATE_VERSION, RECORD (may be NULL) */
	const struct jval	*status;	/* ABORT (may be NULL) */
	const struct jval	*error;		/* ABORT (may be NULL) */
};

/*
 * Classify root.  With raw set every object is a bare record.  Returns 0,
 * or -1 with e set (EX_DATAERR) when root is not an object or a message's
 * keys have the wrong types (a RECORD whose record is not an object).
 */
int	message_classify(const struct jval *root, int raw, struct message *m,
	    struct lib_err *e);

/* "RECORD", "SCHEMA", ... for messages. */
const char *message_kind_name(enum message_kind);

/* The abort message a failing filter writes last, with its newline. */
void	message_write_abort(struct jbuf *, const char *program, int status,
	    const char *error);

#endif
