/*
 * A bounded byte pipe from a transfer to its reader, the reader on a
 * thread of its own.  Over SSH or TLS the transfer spends its CPU
 * decrypting and the reader spends its own parsing: on one thread they
 * take turns, on two they overlap.  The bytes reach the reader in order,
 * each once, and at most RELAY_BYTES of them wait in between, so memory
 * stays bounded whatever the file's size.
 *
 * pgfetch catches no signal: SIGTERM, SIGINT or SIGPIPE (stdout's reader
 * gone, seen by the reader's thread) ends the whole process whichever
 * thread takes it, as when there was one.
 */
#ifndef RELAY_H
#define RELAY_H

#include "http.h"

#define RELAY_BYTES	((size_t)4 * 1024 * 1024)

struct relay;

/*
 * A relay whose thread hands the bytes to sink(arg, ...), or NULL when no
 * thread can be had: the caller then calls sink itself.
 */
struct relay	*relay_start(http_sink_fn sink, void *arg);

/*
 * An http_sink_fn (arg is the relay): the n bytes at p are copied in,
 * waiting while the pipe is full.  0, or -1 once the sink has said -1 (the
 * bytes are not wanted: the transfer stops).
 */
int	relay_put(void *relay, const char *p, size_t n);

/*
 * The end of the bytes: returns when the sink has had every byte put
 * (or said -1), with the thread gone and the relay freed.
 */
void	relay_finish(struct relay *);

#endif
