/*
 * The SQLite dialect of the loader core (lib/load.h): tables created and
 * evolved in a database file, rows written in one transaction per load,
 * with WAL so that readers go on.
 */
#ifndef SQLOUT_H
#define SQLOUT_H

#include "load.h"

extern const struct load_dialect sqlout_dialect;

#endif
