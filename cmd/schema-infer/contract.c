#include <string.h>

#include "contract.h"
#include "exitcodes.h"

static const char *const entity_names[CONTRACT_NENTITIES] = {
	"tables", "columns", "data_type"
};

static const char *const mode_names[] = {
	"evolve", "freeze", "discard_row", "discard_value"
};

#define NMODES	(sizeof(mode_names) / sizeof(mode_names[0]))

const char *
contract_entity_name(enum contract_entity en)
{
	return entity_names[en];
}

const char *
contract_mode_name(enum contract_mode m)
{
	return mode_names[m];
}

/* The index of the n bytes at s in names, or -1. */
static int
lookup(const char *const *names, size_t count, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
			return (int)i;
	return -1;
}

int
contract_parse(struct contract *c, const char *spec, struct lib_err *e)
{
	const char *item, *end, *eq;
	int en, m, named[CONTRACT_NENTITIES] = { 0, 0, 0 };

	memset(c, 0, sizeof(*c));
	if ((m = lookup(mode_names, NMODES, spec, strlen(spec))) >= 0) {
		if (m == CONTRACT_DISCARD_VALUE)
			return liberr_set(e, EX_USAGE, "'%s': discard_value "
			    "applies to columns and data_type, not to tables: "
			    "name them (columns=discard_value)", spec);
		for (en = 0; en < CONTRACT_NENTITIES; en++)
			c->mode[en] = (enum contract_mode)m;
		return 0;
	}
	for (item = spec;; item = end + 1) {
		end = item + strcspn(item, ",");
		eq = memchr(item, '=', (size_t)(end - item));
		if (eq == NULL)
			return liberr_set(e, EX_USAGE, "'%s': expected a mode "
			    "(evolve, freeze, discard_row) or ENTITY=MODE,... "
			    "with tables, columns, data_type", spec);
		en = lookup(entity_names, CONTRACT_NENTITIES, item,
		    (size_t)(eq - item));
		m = lookup(mode_names, NMODES, eq + 1, (size_t)(end - eq - 1));
		if (en < 0)
			return liberr_set(e, EX_USAGE, "'%s': '%.*s' is no "
			    "entity: expected tables, columns or data_type", spec,
			    (int)(eq - item), item);
		if (m < 0)
			return liberr_set(e, EX_USAGE, "'%s': '%.*s' is no mode: "
			    "expected evolve, freeze, discard_row or "
			    "discard_value", spec, (int)(end - eq - 1), eq + 1);
		if (named[en]++)
			return liberr_set(e, EX_USAGE, "'%s': %s named twice",
			    spec, entity_names[en]);
		if (en == CONTRACT_TABLES && m == CONTRACT_DISCARD_VALUE)
			return liberr_set(e, EX_USAGE, "'%s': tables=discard_value:"
			    " a new table has no value to drop (use discard_row)",
			    spec);
		c->mode[en] = (enum contract_mode)m;
		if (*end == '\0')
			return 0;
	}
}

int
contract_binds(const struct contract *c)
{
	int en;

	for (en = 0; en < CONTRACT_NENTITIES; en++)
		if (c->mode[en] != CONTRACT_EVOLVE)
			return 1;
	return 0;
}

enum contract_entity
contract_entity_of(enum schema_change_kind kind)
{
	switch (kind) {
	case SC_NEW_TABLE:
		return CONTRACT_TABLES;
	case SC_NEW_COLUMN:
	case SC_NULLABLE:
		return CONTRACT_COLUMNS;
	default:
		return CONTRACT_DATA_TYPE;
	}
}
