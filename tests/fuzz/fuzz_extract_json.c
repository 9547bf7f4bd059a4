/* The JSON-document streamer. */
#define FUZZ_FORMAT	EXTRACT_JSON
#include "extract_target.h"
