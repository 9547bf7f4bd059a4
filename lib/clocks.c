#include <stdio.h>
#include <time.h>

#include "clocks.h"

double
clocks_monotonic(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
clocks_utc(char *buf, size_t size, int microseconds)
{
	struct timespec ts;
	struct tm tm;
	size_t len;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)gmtime_r(&ts.tv_sec, &tm);
	len = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (microseconds)
		(void)snprintf(buf + len, size - len, ".%06ldZ",
		    ts.tv_nsec / 1000);
	else
		(void)snprintf(buf + len, size - len, "Z");
}

void
clocks_epoch(char *buf, size_t size)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)snprintf(buf, size, "%lld.%06ld", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000);
}
