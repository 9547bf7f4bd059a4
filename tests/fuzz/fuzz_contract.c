/*
 * schema-infer's --contract SPEC parser (contract_parse): any text is a
 * contract or a usage error, never anything else; a contract never puts
 * tables in discard_value, and written back as ENTITY=MODE,... it parses
 * to the same modes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "exitcodes.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct contract c, again;
	struct lib_err e;
	char *spec, back[128];
	int en;

	/* An argument is a C string: it ends at the first NUL. */
	spec = malloc(size + 1);
	FUZZ_CHECK(spec != NULL, "spec allocated");
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (contract_parse(&c, spec, &e) == -1) {
		FUZZ_CHECK(e.code == EX_USAGE, "a bad spec is a usage error");
		FUZZ_CHECK(e.msg[0] != '\0', "it says why");
		free(spec);
		return 0;
	}
	FUZZ_CHECK(c.mode[CONTRACT_TABLES] != CONTRACT_DISCARD_VALUE,
	    "tables are never discard_value");
	(void)snprintf(back, sizeof(back), "tables=%s,columns=%s,data_type=%s",
	    contract_mode_name(c.mode[CONTRACT_TABLES]),
	    contract_mode_name(c.mode[CONTRACT_COLUMNS]),
	    contract_mode_name(c.mode[CONTRACT_DATA_TYPE]));
	FUZZ_CHECK(contract_parse(&again, back, &e) == 0, "written back parses");
	for (en = 0; en < CONTRACT_NENTITIES; en++)
		FUZZ_CHECK(again.mode[en] == c.mode[en], "the same modes");
	free(spec);
	return 0;
}
