/*
 * The relational normalizer of jsonl-normalize: one nested JSON record in,
 * rows of a root table and its child tables out, as dlt's normalizer makes
 * them.  Nested objects flatten into COL__SUB columns; arrays become child
 * tables PARENT__FIELD whose rows link back through _sluice_parent_id,
 * _sluice_list_idx and _sluice_root_id.
 *
 * Names are computed once per (table, place, source key) and remembered,
 * so a record costs no naming work once its shape has been seen; memory
 * grows with the number of distinct columns, never with the input.
 */
#ifndef NORMALIZE_H
#define NORMALIZE_H

#include <stddef.h>

#include "jbuf.h"
#include "jval.h"
#include "liberr.h"

/*
 * A field path given to --drop or --hash: source keys, arrays transparent.
 * A part names a key that it equals or that gives the same name (under
 * --naming): "payment" names "Payment".
 */
struct norm_path {
	char		*dotted;	/* as given */
	char		**keys;
	size_t		 nkeys;
};

struct norm_opts {
	int		 keep_names;	/* --naming keep */
	int		 max_nesting;	/* containers deeper are JSON; -1: no limit */
	char		**keys;		/* -k: root key columns */
	size_t		 nkeys;
	const char	*load_id;
	const char	*extracted_at;	/* NULL: no _sluice_extracted_at */
	struct norm_path *drop;
	size_t		 ndrop;
	struct norm_path *hash;
	size_t		 nhash;
	const char	*salt;		/* the HMAC key of --hash */
	size_t		 saltlen;
};

struct normalizer;

/* NULL with e set (out of memory, no HMAC in libcrypto). */
struct normalizer *norm_new(const struct norm_opts *, struct lib_err *e);
void	norm_free(struct normalizer *);

/* Split "a.b.c" into a path; the path owns copies.  -1 on an empty part. */
int	norm_path_parse(struct norm_path *, const char *dotted);
void	norm_path_free(struct norm_path *);

/*
 * Normalize one record (an object) of the given stream, appending its
 * rows to out as RECORD messages, one a line: the root row first, then the
 * child rows depth first; the root row's RECORD keeps version, a Singer
 * RECORD's (NULL: none).  With keys, a table's first row is preceded by a
 * SCHEMA message announcing its key.  Returns 0, or -1 with e set:
 * EX_DATAERR for a record that cannot be normalized (a missing key value,
 * too many columns or tables), in which case out is left as it was.
 * Warnings (name collisions) are appended to warn, one a line.
 */
int	norm_record(struct normalizer *, const char *stream, size_t len,
	    const struct jval *record, const struct jval *version,
	    struct jbuf *out, struct jbuf *warn, struct lib_err *e);

/*
 * The name of the stream's root table, as its RECORDs give it, for an
 * ACTIVATE_VERSION of the stream: of a stream not seen yet, its name
 * normalized (no table is made for it).  Valid until the next call.
 */
void	norm_root_name(struct normalizer *, const char *stream, size_t len,
	    const char **name, size_t *namelen);

/*
 * An upstream SCHEMA message: its "key_properties", named as the output
 * names them, become the key of the stream's root table, whose rows get
 * their ids from it and whose SCHEMA announces it; with none, -k is the
 * key.  EX_DATAERR for key_properties that are not names.
 */
int	norm_schema(struct normalizer *, const char *stream, size_t len,
	    const struct jval *key_properties, struct jbuf *warn,
	    struct lib_err *e);

/*
 * Append root as JSON to out with --drop and --hash applied to its records:
 * root itself when record is root (an object, or an array of them), else
 * the member record of the message root.  For a rejected line, so that
 * the quarantine keeps no more personal data than the rows would.
 */
int	norm_redact(struct normalizer *, const struct jval *root,
	    const struct jval *record, struct jbuf *out, struct lib_err *e);

/* Whether path i (the --drop paths, then the --hash paths) named a member. */
int	norm_path_matched(const struct normalizer *, size_t i);
/* How many members a later member of the same name in its object hid. */
unsigned long norm_duplicates(const struct normalizer *);

#endif
