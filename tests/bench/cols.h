/*
 * The columns of the benchmark file, shared by gen.c (which writes them)
 * and cloop.c (which loads them).  COL(name, SQL declared type) in file
 * order.  The declared types are the ones sqlite-load gives the logical
 * types of spec.md (bigint INTEGER, double REAL, bool BOOLEAN, text TEXT,
 * timestamp TIMESTAMP, date DATE), so the reference table has the same
 * column affinities as the one sqlite-load creates.
 */
#define BENCH_COLUMNS \
	COL(id, INTEGER)		/* 64-bit id above 2^53 */ \
	COL(seq, INTEGER)		/* row number */ \
	COL(user_id, INTEGER) \
	COL(score, INTEGER)		/* signed */ \
	COL(amount, REAL)		/* 2 decimals */ \
	COL(ratio, REAL)		/* fractions and exponents */ \
	COL(lat, REAL)			/* signed, 6 decimals */ \
	COL(balance, REAL)		/* nullable */ \
	COL(name, TEXT)			/* non-ASCII */ \
	COL(email, TEXT) \
	COL(city, TEXT)			/* non-ASCII, several scripts */ \
	COL(comment, TEXT)		/* 0 to ~400 bytes, escapes */ \
	COL(status, TEXT)		/* enum */ \
	COL(country, TEXT)		/* 2 letters */ \
	COL(note, TEXT)			/* mostly null */ \
	COL(active, BOOLEAN) \
	COL(verified, BOOLEAN)		/* nullable */ \
	COL(created_at, TIMESTAMP)	/* 2023-05-17T13:45:12Z */ \
	COL(updated_at, TIMESTAMP)	/* fraction and offset, nullable */ \
	COL(birth_date, DATE)
