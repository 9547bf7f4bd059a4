/*
 * Data contracts, as dlt defines them: for each entity a schema change can
 * touch (a table, a column, a column's data type), a mode that says what a
 * change of it does.  Parsed from --contract: one mode for every entity
 * ("freeze") or a list of ENTITY=MODE ("tables=evolve,columns=freeze").
 */
#ifndef CONTRACT_H
#define CONTRACT_H

#include "liberr.h"
#include "schema.h"

enum contract_mode {
	CONTRACT_EVOLVE,	/* the change is made */
	CONTRACT_FREEZE,	/* the run fails */
	CONTRACT_DISCARD_ROW,	/* the record is dropped */
	CONTRACT_DISCARD_VALUE	/* the member is dropped (columns, data_type) */
};

enum contract_entity {
	CONTRACT_TABLES, CONTRACT_COLUMNS, CONTRACT_DATA_TYPE, CONTRACT_NENTITIES
};

struct contract {
	enum contract_mode	 mode[CONTRACT_NENTITIES];
};

/*
 * Parse SPEC into c; entities it does not name evolve.  -1 with e set
 * (EX_USAGE) for anything else than the forms above: an unknown entity or
 * mode, an entity named twice, an empty item, discard_value for tables.
 */
int		 contract_parse(struct contract *c, const char *spec,
		    struct lib_err *e);
/* Whether any entity has another mode than evolve. */
int		 contract_binds(const struct contract *c);
/* The entity a change of this kind is a change of. */
enum contract_entity contract_entity_of(enum schema_change_kind kind);
const char	*contract_entity_name(enum contract_entity);
const char	*contract_mode_name(enum contract_mode);

#endif
