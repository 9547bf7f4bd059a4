/*
 * Table and column names the way dlt's snake_case naming convention makes
 * them, so that a dlt pipeline's SQL keeps working on sluice's tables.
 */
#ifndef NAMING_H
#define NAMING_H

#include <stddef.h>

#include "jbuf.h"

/*
 * Append the normalized form of the n bytes at s to out:
 *   '+' and '*' become 'x', '-' '_', '@' 'a', '|' 'l';
 *   any other run of bytes outside [A-Za-z0-9_] becomes one '_';
 *   camelCase is split (fooBar -> foo_bar, getHTTPResponse ->
 *   get_http_response) and everything is lower-cased;
 *   a leading digit gets a '_' before it; each trailing '_' becomes 'x';
 *   runs of '_' collapse to one.
 * Leading and trailing white space is ignored; an empty name becomes "x".
 */
void	naming_snake(const char *s, size_t n, struct jbuf *out);

#endif
