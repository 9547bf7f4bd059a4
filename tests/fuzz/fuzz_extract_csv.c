/* The CSV extractor (libcsv underneath). */
#define FUZZ_FORMAT	EXTRACT_CSV
#include "extract_target.h"
