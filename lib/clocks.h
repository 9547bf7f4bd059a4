/*
 * The clocks sluice reads, in one place: a monotonic one for durations
 * (--stats seconds, the progress rate), and the wall clock as the
 * strings that are written out (_sluice_loads times, extracted_at, load
 * ids).
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

#endif
