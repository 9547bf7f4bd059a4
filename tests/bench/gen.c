/*
 * gen: write N rows of flat NDJSON for the sluice benchmarks.
 *
 *	gen N [SEED] > file.ndjson
 *
 * Twenty columns (cols.h): ints including 64-bit ids above 2^53, floats
 * with fractions and exponents, strings of varied length with JSON escapes
 * (\" \\ \n \t \uXXXX, a surrogate pair) and raw non-ASCII UTF-8, nulls,
 * booleans, ISO 8601 timestamps and dates.  Every column keeps one JSON
 * type, so a schema inferred from the file has no variant columns and
 * matches the fixed table of cloop.c.  The first row has no nulls, so the
 * whole schema is known from line 1 (no ALTER TABLE mid-load).
 *
 * The output depends only on N and SEED (default 42): a fixed PRNG and no
 * locale or time zone.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cols.h"

enum {
#define COL(name, decl) C_##name,
	BENCH_COLUMNS
#undef COL
	NCOLS
};

static const char *const colnames[NCOLS] = {
#define COL(name, decl) #name,
	BENCH_COLUMNS
#undef COL
};

static const char *const first[] = {
	"Anna", "José", "Zoë", "Łukasz", "Mária", "Søren", "Chloé", "Björn",
	"John", "Mei", "陳", "Αλέξανδρος", "Ольга", "François", "Ana", "Li",
};
static const char *const last[] = {
	"Smith", "Müller", "García", "Nguyễn", "O'Brien", "Kowalski", "Dubois",
	"Rossi", "Øster", "Takahashi", "王", "Иванов", "Çelik", "Jones",
};
static const char *const cities[] = {
	"München", "São Paulo", "Kraków", "東京", "Reykjavík", "Zürich",
	"Москва", "القاهرة", "New York", "Paris", "Athína (Αθήνα)", "Montréal",
	"Berlin", "Lagos", "Seoul 서울", "Málaga",
};
static const char *const statuses[] = {
	"active", "pending", "closed", "suspended",
};
static const char *const countries[] = {
	"DE", "BR", "PL", "JP", "IS", "CH", "RU", "EG", "US", "FR", "GR", "CA",
	"KR", "ES", "NG", "GB",
};
static const char *const domains[] = {
	"example.com", "mail.example.org", "posteo.example.de", "ex.co.jp",
};
/*
 * Comment words, written as they appear inside a JSON string: some carry
 * escapes, some raw UTF-8, so a parser has both kinds of work to do.
 */
static const char *const words[] = {
	"the", "order", "was", "delivered", "late", "and", "customer",
	"asked", "for", "a", "refund", "of", "café", "naïve", "déjà vu",
	"\\\"quoted\\\"", "C:\\\\path\\\\file", "line\\nbreak", "tab\\there",
	"\\u00e9t\\u00e9", "\\ud83d\\ude00", "😀", "→", "日本語", "ok",
	"please", "check", "invoice", "#12345", "100%", "<tag>", "&amp;",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng;

#include "genutil.h"

static void
timestamp(FILE *fp, int64_t t, int frac)
{
	int y, m, d;
	int64_t s;

	civil(t / 86400, &y, &m, &d);
	s = t % 86400;
	(void)fprintf(fp, "\"%04d-%02d-%02dT%02d:%02d:%02d", y, m, d,
	    (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
	if (frac) {
		static const char *const tz[] = {
			"Z", "+02:00", "-05:00", "+05:30", "+00:00",
		};
		(void)fprintf(fp, ".%06u%s\"", below(1000000),
		    tz[below(NELEM(tz))]);
	} else
		(void)fputs("Z\"", fp);
}

static void
row(FILE *fp, uint64_t i)
{
	int c, k, n, y, m, d, nonull;
	int64_t t;

	nonull = i == 0;
	t = 1672531200 + (int64_t)i * 13 + below(13);	/* 2023-01-01 on */
	(void)putc('{', fp);
	for (c = 0; c < NCOLS; c++) {
		(void)fprintf(fp, "%s\"%s\":", c ? "," : "", colnames[c]);
		switch (c) {
		case C_id:
			(void)fprintf(fp, "%llu", (unsigned long long)
			    (4611686018427387904ULL + i * 1000003 + below(1000)));
			break;
		case C_seq:
			(void)fprintf(fp, "%llu", (unsigned long long)i + 1);
			break;
		case C_user_id:
			(void)fprintf(fp, "%u", 1 + below(5000000));
			break;
		case C_score:
			(void)fprintf(fp, "%d", (int)below(2001) - 1000);
			break;
		case C_amount:
			(void)fprintf(fp, "%u.%02u", below(100000), below(100));
			break;
		case C_ratio:
			/* Always a '.' or an exponent: a double, never a bigint. */
			if (below(2))
				(void)fprintf(fp, "0.%09u", below(1000000000));
			else
				(void)fprintf(fp, "%u.%04ue%s%u", 1 + below(9),
				    below(10000), below(2) ? "-" : "+",
				    below(20));
			break;
		case C_lat:
			(void)fprintf(fp, "%s%u.%06u", below(2) ? "-" : "",
			    below(90), below(1000000));
			break;
		case C_balance:
			if (!nonull && below(10) == 0)
				(void)fputs("null", fp);
			else
				(void)fprintf(fp, "%s%u.%02u",
				    below(4) ? "" : "-", below(1000000),
				    below(100));
			break;
		case C_name:
			(void)fprintf(fp, "\"%s %s\"", first[below(NELEM(first))],
			    last[below(NELEM(last))]);
			break;
		case C_email:
			(void)fprintf(fp, "\"user%u.%llu@%s\"", below(1000),
			    (unsigned long long)i, domains[below(NELEM(domains))]);
			break;
		case C_city:
			(void)fprintf(fp, "\"%s\"", cities[below(NELEM(cities))]);
			break;
		case C_comment:
			/* Mostly short, sometimes long: 0 to 63 words. */
			n = below(4) ? (int)below(16) : (int)below(64);
			(void)putc('"', fp);
			for (k = 0; k < n; k++)
				(void)fprintf(fp, "%s%s", k ? " " : "",
				    words[below(NELEM(words))]);
			(void)putc('"', fp);
			break;
		case C_status:
			(void)fprintf(fp, "\"%s\"", statuses[below(NELEM(statuses))]);
			break;
		case C_country:
			(void)fprintf(fp, "\"%s\"", countries[below(NELEM(countries))]);
			break;
		case C_note:
			if (!nonull && below(10) != 0)
				(void)fputs("null", fp);
			else
				(void)fprintf(fp, "\"note %u: see \\\"%s\\\"\"",
				    below(100), words[below(NELEM(words))]);
			break;
		case C_active:
			(void)fputs(below(2) ? "true" : "false", fp);
			break;
		case C_verified:
			k = below(10);
			(void)fputs(k < 3 && !nonull ? "null" :
			    k < 7 ? "true" : "false", fp);
			break;
		case C_created_at:
			timestamp(fp, t, 0);
			break;
		case C_updated_at:
			if (!nonull && below(5) == 0)
				(void)fputs("null", fp);
			else
				timestamp(fp, t + below(86400 * 30), 1);
			break;
		case C_birth_date:
			civil(-3650 + (int64_t)below(365 * 60), &y, &m, &d);
			(void)fprintf(fp, "\"%04d-%02d-%02d\"", y, m, d);
			break;
		}
	}
	(void)fputs("}\n", fp);
}

int
main(int argc, char *argv[])
{
	static char buf[1 << 16];
	unsigned long long n, i, seed;
	char *end;

	if (argc < 2 || argc > 3) {
		(void)fputs("usage: gen N [SEED]\n", stderr);
		return 64;
	}
	errno = 0;
	n = strtoull(argv[1], &end, 10);
	if (errno || end == argv[1] || *end != '\0') {
		(void)fprintf(stderr, "gen: %s: bad row count\n", argv[1]);
		return 64;
	}
	seed = 42;
	if (argc == 3) {
		seed = strtoull(argv[2], &end, 10);
		if (errno || end == argv[2] || *end != '\0') {
			(void)fprintf(stderr, "gen: %s: bad seed\n", argv[2]);
			return 64;
		}
	}
	rng = seed;
	if (setvbuf(stdout, buf, _IOFBF, sizeof(buf)) != 0)
		return 70;
	for (i = 0; i < n; i++)
		row(stdout, i);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("gen: stdout");
		return 74;
	}
	return 0;
}
