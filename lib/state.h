/*
 * The stored state of a sluice database, read without the SQLite writer:
 * sqlite-load --get-state and dedup-merge --state-from read the last
 * Singer STATE value that sqlite-load kept in _sluice_state; and a state
 * document in a file, whatever loader printed it.
 */
#ifndef STATE_H
#define STATE_H

#include "jbuf.h"
#include "liberr.h"

/*
 * Look up the stored state at a dotted path (a.b.0.c) of a database.
 * *found is 0 when the database, the state or the path does not exist;
 * otherwise the value is in out: a string as its bytes, anything else as
 * JSON.
 */
int	state_get(const char *path, const char *dotted, struct jbuf *out,
	    int *found, struct lib_err *);

/*
 * The same lookup in a state document in a file, as Singer taps take one
 * (--state FILE): {"bookmarks":{...}}, or a STATE message whose value
 * that is, as a loader's --state-get . prints it.  An empty file (a
 * loader with no state yet printed nothing) has no state.  -1 with e set:
 * no file (EX_NOINPUT), unreadable (EX_IOERR), or not a state document
 * (EX_DATAERR), the message naming path.
 */
int	state_file_get(const char *path, const char *dotted, struct jbuf *out,
	    int *found, struct lib_err *);

/*
 * The same lookup in a stored state's JSON text (a database of another
 * kind read it): -1 with e set when the text is not JSON.
 */
int	state_lookup(const char *json, size_t len, const char *dotted,
	    struct jbuf *out, int *found, struct lib_err *);

/*
 * The exit status an SQLite result code maps to: one mapping for the
 * state reader and sqlite-load's writer.
 */
int	state_exit_status(int sqlite_rc);

#endif
