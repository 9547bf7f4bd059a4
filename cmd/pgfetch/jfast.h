/*
 * The fast path of "parse a line, write it back": for a line that is one
 * JSON object, the bytes jval_write would write for jval_parse's tree of
 * it, found without building the tree: one pass checks the line's UTF-8,
 * one its JSON.
 *
 * Most lines of a stream are already in the form jval_write writes
 * (compact, the escapes jbuf_str makes): then they pass through as they
 * are.  Others differ only in whitespace between tokens or in escapes
 * jval_write does not keep ("\/", "\u00e9", a surrogate pair, upper-case
 * hex): those are rewritten, piece by piece, into out.  Whatever jfast is
 * not sure of (not an object, invalid JSON, invalid UTF-8, a lone
 * surrogate escape, nesting as deep as JVAL_MAX_DEPTH) it declines, and
 * the caller takes the slow path (jval_parse, jval_write), which gives
 * the same bytes for what jfast accepts and the messages for the rest.
 * tests/fuzz/fuzz_fastline.c holds the two paths to that.
 */
#ifndef JFAST_H
#define JFAST_H

#include <stddef.h>

struct jbuf;

struct jfast {
	const char	*text;		/* the line itself, or out's bytes */
	size_t		 len;
	/*
	 * The values of the object, itself included: what jval_parse would
	 * make nodes of, for a caller that bounds its arena.
	 */
	size_t		 values;
};

/*
 * The n bytes at s (one line, no newline): 1 when they are one JSON object
 * that jval_parse accepts, with r->text what jval_write writes for it;
 * 0 when the slow path must judge them.  out is reset and used only when
 * the text must change; r->text is valid while s and out are.
 */
int	jfast_object(const char *s, size_t n, struct jbuf *out, struct jfast *r);

#endif
