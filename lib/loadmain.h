/*
 * The front-end the loaders share (sqlite-load, pg-load): the options, the
 * input loop, micro-batches, --stats, the commit and the STATE echoed
 * after it.  A program names its dialect and what differs.
 */
#ifndef LOADMAIN_H
#define LOADMAIN_H

#include "cli.h"
#include "jbuf.h"
#include "liberr.h"

struct load_dialect;

/* The options only one loader has: list them in loadmain_program.opts. */
enum {
	LOADMAIN_OPT_BUSY_TIMEOUT = CLI_OPT_PRIVATE + 32,	/* SQLite */
	LOADMAIN_OPT_DATASET					/* PostgreSQL */
};

struct loadmain_program {
	const char	*name;		/* "sqlite-load" */
	const struct load_dialect *dialect;
	const char	*target;	/* the operand: "db", "conninfo" */
	const char	*about;		/* --help's paragraph */
	const struct cli_opt *opts;	/* its own options, NULL-name ended */
	/* --state-get: the stored state at a dotted path; *found. */
	int	(*state_get)(const char *target, const char *dataset,
		    const char *path, struct jbuf *out, int *found,
		    struct lib_err *);
	/* The target as messages may show it (a password taken out). */
	void	(*redact)(const char *target, struct jbuf *out);
	/*
	 * Blank a secret out of the target where argv holds it (the
	 * process list shows argv); the load works on a copy.  May be NULL.
	 */
	void	(*scrub)(char *target);
};

/* main() of a loader: its exit status. */
int	loadmain_run(const struct loadmain_program *, int argc, char *argv[]);

#endif
