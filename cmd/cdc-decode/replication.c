#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "exitcodes.h"
#include "jbuf.h"
#include "replication.h"
#include "xalloc.h"

/* Microseconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch. */
#define PG_EPOCH_USEC	((int64_t)946684800 * 1000000)

struct repl {
	PGconn		*conn;
	char		*copy;		/* the last CopyData, PQfreemem'd */
};

char *
repl_redact(const char *conninfo)
{
	PQconninfoOption *opts, *o;
	struct jbuf b = JBUF_INIT;
	char *msg = NULL, *out;

	/* A URI or key=value string, parsed as libpq does; else as it is. */
	if ((opts = PQconninfoParse(conninfo, &msg)) == NULL) {
		PQfreemem(msg);
		return xalloc_strdup("(a connection string libpq does not take)");
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || *o->val == '\0')
			continue;
		if (b.len > 0)
			jbuf_putc(&b, ' ');
		jbuf_puts(&b, o->keyword);
		jbuf_putc(&b, '=');
		jbuf_puts(&b, strcmp(o->keyword, "password") == 0 ? "***" :
		    o->val);
	}
	PQconninfoFree(opts);
	out = xalloc_strdup(jbuf_cstr(&b));
	jbuf_free(&b);
	return out;
}

/* The server's message, on one line, without libpq's "ERROR:  ". */
static int
server_error(struct repl *r, const PGresult *res, int code, const char *what,
    struct lib_err *e)
{
	const char *msg = res != NULL ? PQresultErrorField(res,
	    PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char one[400];
	size_t i;

	(void)snprintf(one, sizeof(one), "%s", msg != NULL ? msg :
	    PQerrorMessage(r->conn));
	for (i = 0; one[i] != '\0'; i++)
		if (one[i] == '\n')
			one[i] = ' ';
	return liberr_set(e, code, "%s: %s", what, one);
}

struct repl *
repl_open(const char *conninfo, const char *slot, int create,
    struct lib_err *e)
{
	const char *keys[] = { "dbname", "replication", "application_name",
	    NULL };
	const char *vals[] = { conninfo, "database", "cdc-decode", NULL };
	struct repl *r = xalloc_calloc(1, sizeof(*r));
	struct jbuf sql = JBUF_INIT;
	PGresult *res;
	char *quoted;
	int code;

	/* dbname expands the whole string: a URI or key=value pairs. */
	r->conn = PQconnectdbParams(keys, vals, 1);
	if (r->conn == NULL || PQstatus(r->conn) != CONNECTION_OK) {
		const char *msg = r->conn != NULL ? PQerrorMessage(r->conn) :
		    "out of memory";

		code = strstr(msg, "password") != NULL ||
		    strstr(msg, "authentication") != NULL ||
		    strstr(msg, "permission") != NULL ||
		    strstr(msg, "no pg_hba.conf entry") != NULL ?
		    EX_NOPERM : EX_TEMPFAIL;
		(void)server_error(r, NULL, code, "connect", e);
		repl_close(r);
		return NULL;
	}
	if ((quoted = PQescapeIdentifier(r->conn, slot, strlen(slot))) ==
	    NULL) {
		(void)server_error(r, NULL, EX_USAGE, "--slot", e);
		repl_close(r);
		return NULL;
	}
	if (create) {
		jbuf_puts(&sql, "CREATE_REPLICATION_SLOT ");
		jbuf_puts(&sql, quoted);
		jbuf_puts(&sql, " LOGICAL wal2json");
		res = PQexec(r->conn, jbuf_cstr(&sql));
		/* 42710: it exists already, which is what was wanted. */
		if (PQresultStatus(res) != PGRES_TUPLES_OK &&
		    PQresultStatus(res) != PGRES_COMMAND_OK &&
		    (PQresultErrorField(res, PG_DIAG_SQLSTATE) == NULL ||
		    strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE),
		    "42710") != 0)) {
			(void)server_error(r, res, EX_DATAERR, "create the slot",
			    e);
			PQclear(res);
			goto fail;
		}
		PQclear(res);
	}
	jbuf_reset(&sql);
	jbuf_puts(&sql, "START_REPLICATION SLOT ");
	jbuf_puts(&sql, quoted);
	jbuf_puts(&sql, " LOGICAL 0/0 (\"format-version\" '2', "
	    "\"include-pk\" '1', \"include-lsn\" '1', "
	    "\"include-transaction\" '1')");
	res = PQexec(r->conn, jbuf_cstr(&sql));
	if (PQresultStatus(res) != PGRES_COPY_BOTH) {
		(void)server_error(r, res, EX_DATAERR, "start replication", e);
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	PQfreemem(quoted);
	jbuf_free(&sql);
	return r;
fail:
	PQfreemem(quoted);
	jbuf_free(&sql);
	repl_close(r);
	return NULL;
}

void
repl_close(struct repl *r)
{
	if (r == NULL)
		return;
	if (r->copy != NULL)
		PQfreemem(r->copy);
	if (r->conn != NULL)
		PQfinish(r->conn);
	free(r);
}

static void
put64(char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (char)(v & 0xff);
		v >>= 8;
	}
}

static int
lost(struct repl *r, struct lib_err *e)
{
	return server_error(r, NULL, EX_TEMPFAIL, "replication", e);
}

int
repl_next(struct repl *r, const char **data, size_t *len, int *reply,
    int timeout_ms, struct lib_err *e)
{
	struct pollfd pfd;
	char *buf;
	int n;

	*reply = 0;
	if (r->copy != NULL) {
		PQfreemem(r->copy);
		r->copy = NULL;
	}
	for (;;) {
		n = PQgetCopyData(r->conn, &buf, 1);
		if (n == 0) {
			pfd.fd = PQsocket(r->conn);
			pfd.events = POLLIN;
			pfd.revents = 0;
			if (poll(&pfd, 1, timeout_ms) <= 0)
				return 0;	/* a timeout, or a signal */
			if (PQconsumeInput(r->conn) == 0)
				return lost(r, e);
			timeout_ms = 0;
			continue;
		}
		if (n < 0)
			return lost(r, e);
		r->copy = buf;
		if (buf[0] == 'k' && n >= 18) {
			/* A keepalive: the server may want a reply now. */
			*reply = buf[17] != 0;
			return 0;
		}
		if (buf[0] == 'w' && n >= 25) {
			*data = buf + 25;
			*len = (size_t)n - 25;
			return 1;
		}
		PQfreemem(buf);
		r->copy = NULL;
	}
}

int
repl_confirm(struct repl *r, uint64_t lsn, struct lib_err *e)
{
	char msg[34];
	struct timespec ts;
	int64_t now;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - PG_EPOCH_USEC;
	msg[0] = 'r';
	put64(msg + 1, lsn);	/* written */
	put64(msg + 9, lsn);	/* flushed: the server may forget before */
	put64(msg + 17, lsn);	/* applied */
	put64(msg + 25, (uint64_t)now);
	msg[33] = 0;
	if (PQputCopyData(r->conn, msg, (int)sizeof(msg)) != 1 ||
	    PQflush(r->conn) != 0)
		return lost(r, e);
	return 0;
}
