/*
 * The clocks sluice reads, in one place: a monotonic one for durations
 * (--stats seconds, the progress rate), and the wall clock as the
 * strings that are written out (_sluice_loads times, extracted_at, load
 * ids); and the calendar arithmetic that turns dates into days.
 */
#ifndef CLOCKS_H
#define CLOCKS_H

#include <stddef.h>

/* Seconds on the monotonic clock: only differences mean anything. */
double	clocks_monotonic(void);
/*
 * The time as ISO-8601 UTC into buf: with microseconds,
 * 2026-11-22T01:02:03.456789Z, or without, 2026-11-22T01:02:03Z.
 */
void	clocks_utc(char *buf, size_t size, int microseconds);
/* The time as "SECONDS.MICROSECONDS" since the epoch: sorts as it runs. */
void	clocks_epoch(char *buf, size_t size);

/*
 * The calendar, proleptic Gregorian, without the C library's time zones
 * or its range: days since 1970-01-01 of y-m-d (m 1..12), and back.
 */
long long clocks_days_from_civil(long long y, int m, int d);
void	clocks_civil_from_days(long long days, long long *y, int *m, int *d);

#endif
