/*
 * A pgfetch run once its options are parsed: each source classified (an
 * API's pages, or files: local, over HTTP, over SSH; a glob's matches),
 * its records written to stdout as bare records or Singer messages, an
 * incremental run over files with its bookmarks, every secret masked in
 * what is said.  main.c holds the options and calls these in turn.
 */
#ifndef FETCH_H
#define FETCH_H

#include <pthread.h>

#include "cli.h"
#include "extract.h"
#include "http.h"
#include "paginate.h"
#include "secrets.h"

struct fetch {
	struct cli	 cli;
	const char	*name;		/* the source, for messages */
	int		 messages;
	const char	*stream;
	char		 extracted[40];
	unsigned long long max_records;
	struct jbuf	 rec;		/* a RECORD message being written */
	char		 statsx[96];	/* --stats members of HTTP */
	/* HTTP */
	struct page_opts page;
	struct http_opts http;
	const char	**params;
	size_t		 nparams;
	const char	**headers;
	size_t		 nheaders;
	const char	**secret_headers;
	size_t		 nsecret_headers;
	const char	*checkpoint;	/* --checkpoint FILE */
	struct jbuf	 source;	/* the API as the checkpoint names it */
	struct jbuf	 shown;		/* the URL as messages name it: redacted */
	struct jbuf	 mark_next;	/* a checkpoint's next URL, key dropped */
	char		*secrets[4];	/* strings that hold a secret, to free */
	const char	*file_column;	/* --file-column NAME */
	struct jbuf	 file_value;	/* "NAME":"file"} for each record */
	size_t		 file_keylen;	/* of its "NAME" */
	struct jbuf	 with_file;	/* a record with it */
	struct jval_parser *parser;	/* for a record that has a member NAME */
	const char	*state_from;	/* --state-from DB: the file bookmark */
	const char	*state_file;	/* --state FILE: the same, in a file */
	int		 parse_thread;	/* --parse-thread: PARSE_THREAD_* */
	int		 ssh_ready;	/* ssh_defaults has run */
	char		*ssh_key;	/* a default key file found, to free */
	char		*known_hosts;	/* the default known_hosts, to free */
	char		**owned;	/* header-file lines, to free */
	size_t		 nowned;
	int		 verbose;
	char		*file_type;	/* an API URL that answered with a file */
	char		*since;		/* NAME=VALUE of --since */
	/* Every secret value known: masked in all that is printed or written. */
	struct secrets	*known;
	struct jbuf	 masked;
	struct jbuf	 masked2;
	struct jbuf	 masked3;
	/*
	 * A file over the network is read on a thread of its own (relay.h)
	 * while the transfer's thread may note a retry: what both may
	 * print is said under this lock.
	 */
	pthread_mutex_t	 say_lock;
};

/* What the options name for the steps after parsing. */
struct args {
	const char	*bearer_env;	/* names of environment variables */
	const char	*basic_env;
	const char	*key_env;
	const char	*key_header;
	const char	*key_param;
	const char	*records_jq;
	char		**sources;	/* the operands */
	int		 nsources;
	const char	*ssh_passphrase_env;
	const char	*ssh_password_env;
};

/* The defaults, before the options; cli_init as "pgfetch". */
void	fetch_init(struct fetch *, struct extract_opts *, struct args *);
void	fetch_free(struct fetch *);

/*
 * Every message of pgfetch goes through here, to stderr and to the abort
 * line: formatted whole, then its secrets masked, then cut to length.
 */
void	fetch_say(struct fetch *, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* a, b and c as one string, allocated. */
char	*fetch_joined(const char *a, const char *b, const char *c);

/*
 * Every source checked before any is read (a usage error stops the run
 * before its first record); -1 after a message.
 */
int	fetch_check_sources(struct fetch *, const struct extract_opts *,
	    struct args *);

/*
 * Every source in order, as one stream: an API's pages, or files; with
 * -m and a set of files or --state-from, an incremental run with file
 * bookmarks.  Failures are said and set the exit status (cli).
 */
void	fetch_sources(struct fetch *, const struct extract_opts *,
	    struct args *);

#endif
