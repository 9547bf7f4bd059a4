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

/* H. Hinnant's algorithms: eras of 400 years, March-based years. */
long long
clocks_days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
clocks_civil_from_days(long long z, long long *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}
