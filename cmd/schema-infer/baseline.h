/*
 * The baseline a contract protects: the schema of each table of a sluice
 * SQLite database (--schema-from), read without writing to it.
 */
#ifndef BASELINE_H
#define BASELINE_H

#include "liberr.h"
#include "schema.h"

/*
 * For each user table of the database at path, a table of the same name
 * in set, seeded with the latest schema sqlite-load stored for it in
 * _sluice_schemas, and the columns only the SQL table has (a table with no
 * stored schema: all of them) by their declared types.  The database is
 * opened read-only and closed before returning.  -1 with e set: EX_NOINPUT
 * when it does not exist, cannot be read or is not a sluice database (no
 * _sluice_loads); EX_DATAERR for a stored schema that is not JSON;
 * EX_TEMPFAIL when it stays locked.
 */
int	baseline_read(const char *path, struct schema_set *set,
	    struct lib_err *e);

#endif
