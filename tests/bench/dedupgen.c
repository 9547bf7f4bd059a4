/*
 * dedupgen: inputs for the dedup-merge benchmark (tests/bench/dedup.sh).
 *
 *	gen N | dedupgen dup N > file.ndjson
 *	dedupgen small N > file.ndjson
 *
 * "dup" rewrites the leading "id" of gen's N rows so that each of N/2 ids
 * comes twice, the two versions spread far apart (row i gets id number
 * i * 7919 mod N/2, a permutation when N/2 is not a multiple of 7919).
 * "small" writes N short rows with distinct 64-bit ids and a timestamp:
 * many keys for little input, to measure memory with a cap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE	4611686018427387904ULL

static int
dup(unsigned long long n)
{
	static char line[1 << 16];
	unsigned long long i, half = n / 2 ? n / 2 : 1;
	char *p;

	for (i = 0; fgets(line, sizeof(line), stdin) != NULL; i++) {
		if (strncmp(line, "{\"id\":", 6) != 0 ||
		    (p = strchr(line + 6, ',')) == NULL) {
			(void)fprintf(stderr, "dedupgen: line %llu: no leading id\n",
			    i + 1);
			return 1;
		}
		if (printf("{\"id\":%llu%s", BASE + (i * 7919 % half) * 1000003,
		    p) < 0)
			return 1;
	}
	return 0;
}

static int
small(unsigned long long n)
{
	unsigned long long i;
	long long t;

	for (i = 0; i < n; i++) {
		t = i % 86400;
		if (printf("{\"id\":%llu,\"updated_at\":\"2024-05-%02lluT%02lld:%02lld:%02lldZ\","
		    "\"name\":\"row %llu\",\"v\":%llu}\n", BASE + i * 1000003,
		    1 + i / 86400 % 28, t / 3600, t / 60 % 60, t % 60, i, i) < 0)
			return 1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	unsigned long long n;
	char *end;

	if (argc != 3 || (n = strtoull(argv[2], &end, 10)) == 0 || *end != '\0') {
		(void)fputs("usage: dedupgen dup|small N\n", stderr);
		return 2;
	}
	if (strcmp(argv[1], "dup") == 0)
		return dup(n) || fflush(stdout) != 0;
	if (strcmp(argv[1], "small") == 0)
		return small(n) || fflush(stdout) != 0;
	(void)fputs("usage: dedupgen dup|small N\n", stderr);
	return 2;
}
