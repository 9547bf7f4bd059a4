/*
 * genrides: write N nested taxi rides as NDJSON for the jsonl-normalize
 * benchmark.
 *
 *	genrides N [SEED] > rides.jsonl
 *	genrides -c N [SEED]
 *
 * Each ride has a 64-bit ride_id above 2^53, a camelCase vendorId, the
 * objects time{pickup,dropoff}, coordinates{start{lon,lat},end{lon,lat}}
 * and payment{type,amt,tip,status}, a passengers array of 1 to 4 objects
 * and a stops array of 0 to 3 elements: objects {lon,lat,wait_s} in 70%
 * of the rides, place-name strings in the others (one kind per array).
 * tip and rating are sometimes null; ride 0 has no nulls and object stops,
 * so its child tables' first schemas are complete, except the value column
 * of scalar stops, which arrives later.
 *
 * With -c, write nothing but the row counts the file normalizes to, on one
 * line: "RIDES PASSENGERS STOPS".
 *
 * The output depends only on N and SEED (default 42): a fixed PRNG and no
 * locale or time zone.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const first[] = {
	"Anna", "José", "Zoë", "Łukasz", "Mária", "Søren", "Chloé", "Björn",
	"John", "Mei", "陳", "Αλέξανδρος", "Ольга", "François", "Ana", "Li",
};
static const char *const last[] = {
	"Smith", "Müller", "García", "Nguyễn", "O'Brien", "Kowalski", "Dubois",
	"Rossi", "Øster", "Takahashi", "王", "Иванов", "Çelik", "Jones",
};
static const char *const places[] = {
	"Penn Station", "JFK Terminal 4", "LaGuardia \\\"B\\\"", "Café Lalo",
	"Times Sq / 42 St", "Brooklyn Bridge Park", "Flushing–Main St",
	"Yankee Stadium", "Grand Central", "Dumbo\\nWater St",
};
static const char *const vendors[] = {
	"CMT", "VTS", "DDS", "Uber", "Lyft",
};
static const char *const paytypes[] = {
	"card", "cash", "app", "voucher",
};
static const char *const paystatus[] = {
	"paid", "paid", "paid", "pending", "refunded", "disputed",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng;
static unsigned long long npassengers, nstops;

#include "genutil.h"

static void
timestamp(FILE *fp, int64_t t)
{
	int y, m, d;
	int64_t s;

	civil(t / 86400, &y, &m, &d);
	s = t % 86400;
	(void)fprintf(fp, "\"%04d-%02d-%02dT%02d:%02d:%02dZ\"", y, m, d,
	    (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
}

/* A point in and around New York City: {"lon":-73.xxxxxx,"lat":40.xxxxxx. */
static void
point(FILE *fp)
{
	(void)fprintf(fp, "{\"lon\":-7%u.%06u,\"lat\":40.%06u",
	    3 + below(2), below(1000000), 490000 + below(430000));
}

static void
ride(FILE *fp, uint64_t i)
{
	int k, n, nonull, scalars;
	int64_t t;

	nonull = i == 0;
	t = 1672531200 + (int64_t)i * 7 + below(7);	/* 2023-01-01 on */
	(void)fprintf(fp, "{\"ride_id\":%llu,\"vendorId\":\"%s\","
	    "\"time\":{\"pickup\":", (unsigned long long)
	    (6917529027641081856ULL + i * 1000003 + below(1000)),
	    vendors[below(NELEM(vendors))]);
	timestamp(fp, t);
	(void)fputs(",\"dropoff\":", fp);
	timestamp(fp, t + 120 + below(3480));
	(void)fputs("},\"coordinates\":{\"start\":", fp);
	point(fp);
	(void)fputs("},\"end\":", fp);
	point(fp);
	k = (int)below(NELEM(paytypes));
	(void)fprintf(fp, "}},\"payment\":{\"type\":\"%s\",\"amt\":%u.%02u,"
	    "\"tip\":", paytypes[k], 3 + below(120), below(100));
	if (!nonull && k == 1 && below(2) == 0)
		(void)fputs("null", fp);	/* cash: tip unknown */
	else
		(void)fprintf(fp, "%u.%02u", below(25), below(100));
	(void)fprintf(fp, ",\"status\":\"%s\"},\"passengers\":[",
	    paystatus[below(NELEM(paystatus))]);
	n = 1 + (int)below(4);
	npassengers += (unsigned long long)n;
	for (k = 0; k < n; k++) {
		(void)fprintf(fp, "%s{\"name\":\"%s %s\",\"age\":%u,"
		    "\"isMember\":%s,\"rating\":", k ? "," : "",
		    first[below(NELEM(first))], last[below(NELEM(last))],
		    18 + below(70), below(3) ? "false" : "true");
		if (!nonull && below(8) == 0)
			(void)fputs("null}", fp);
		else
			(void)fprintf(fp, "%u.%u}", 1 + below(4), below(10));
	}
	(void)fputs("],\"stops\":[", fp);
	n = nonull ? 2 : (int)below(4);
	nstops += (unsigned long long)n;
	scalars = !nonull && below(10) < 3;
	for (k = 0; k < n; k++) {
		if (k)
			(void)putc(',', fp);
		if (scalars)
			(void)fprintf(fp, "\"%s\"", places[below(NELEM(places))]);
		else {
			point(fp);
			(void)fprintf(fp, ",\"wait_s\":%u}", below(600));
		}
	}
	(void)fputs("]}\n", fp);
}

int
main(int argc, char *argv[])
{
	static char buf[1 << 16];
	unsigned long long n, i, seed;
	char *end;
	FILE *fp;
	int counts;

	counts = argc > 1 && strcmp(argv[1], "-c") == 0;
	argc -= counts;
	argv += counts;
	if (argc < 2 || argc > 3) {
		(void)fputs("usage: genrides [-c] N [SEED]\n", stderr);
		return 64;
	}
	errno = 0;
	n = strtoull(argv[1], &end, 10);
	if (errno || end == argv[1] || *end != '\0') {
		(void)fprintf(stderr, "genrides: %s: bad ride count\n", argv[1]);
		return 64;
	}
	seed = 42;
	if (argc == 3) {
		seed = strtoull(argv[2], &end, 10);
		if (errno || end == argv[2] || *end != '\0') {
			(void)fprintf(stderr, "genrides: %s: bad seed\n",
			    argv[2]);
			return 64;
		}
	}
	rng = seed;
	/* -c runs the same generator, so the counts match the file. */
	fp = counts ? fopen("/dev/null", "w") : stdout;
	if (fp == NULL) {
		perror("genrides: /dev/null");
		return 74;
	}
	if (setvbuf(fp, buf, _IOFBF, sizeof(buf)) != 0)
		return 70;
	for (i = 0; i < n; i++)
		ride(fp, i);
	if (fflush(fp) != 0 || ferror(fp)) {
		perror("genrides: stdout");
		return 74;
	}
	if (counts && printf("%llu %llu %llu\n", n, npassengers, nstops) < 0)
		return 74;
	return 0;
}
