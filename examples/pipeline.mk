# pipeline.mk - an incremental load driven by make(1).
#
#	make -f examples/pipeline.mk		load every page not loaded yet
#	make -f examples/pipeline.mk state	print the stored cursor
#	make -f examples/pipeline.mk show	count the rows
#	make -f examples/pipeline.mk clean	remove the work directory and the database
#	sh examples/run-pipeline.sh [VAR=value...] [target...]
#						the same, exiting with the status of
#						the program that failed (see below)
#
# Pages of records arrive in $(INBOX).  Here they are examples/issues.jsonl
# cut into pages of $(PAGE) records; in real life they are whatever a fetcher,
# a Singer tap or scp drops there.  make loads each page that is new, or newer
# than its last load, into $(DB):
#
#   - in merge mode, keyed on id, so a page that arrives again updates its
#     rows instead of duplicating them (touch a page and run make again);
#   - with a STATE message naming the page, so the rows and the cursor commit
#     in the same transaction;
#   - keeping the STATE that sqlite-load echoes after its commit as the
#     page's stamp, so a failed load leaves no stamp and the next make
#     retries it.
#
# Variables: BIN (where the programs are, default ../bin next to this file),
# SRC, DB (default pipeline.db), WORK (default pipeline.d), PAGE,
# BUSY_TIMEOUT (how long a load waits for another writer, in ms, before it
# gives up with 75), STATUS (see below).  DB and WORK are relative to the
# directory make runs in.
#
# The exit status.  make exits 2 whenever a recipe fails, whatever the
# program said: 65 (bad data: fix the page), 75 (the database was busy: run
# again) and 74 (a full disk) all become 2.  So a failed load writes its
# pipeline's status (the last program that failed, as bash's pipefail gives
# it) to the file named by STATUS, if that file is still empty: the first
# failure is the one that counts.  examples/run-pipeline.sh runs make with a
# fresh STATUS file and exits with the status in it (or make's own, when no
# load failed), so a scheduler or a shell sees 65 or 75, not 2:
#
#	sh examples/run-pipeline.sh BIN=bin; echo $?	# 65: a page is bad

THIS := $(lastword $(MAKEFILE_LIST))
HERE := $(dir $(THIS))

BIN	= $(HERE)../bin
SRC	= $(HERE)issues.jsonl
DB	= pipeline.db
WORK	= pipeline.d
INBOX	= $(WORK)/inbox
DONE	= $(WORK)/done
PAGE	= 25
BUSY_TIMEOUT = 5000
STATUS	= /dev/null

# bash, for pipefail: if schema-infer fails, the recipe fails and leaves no
# stamp.  (sqlite-load has rolled back: schema-infer's SLUICE_ABORT line
# told it the stream was cut short.)
SHELL		= /bin/bash
.SHELLFLAGS	= -o pipefail -ec

PAGES	= $(sort $(wildcard $(INBOX)/*.jsonl))
STAMPS	= $(PAGES:$(INBOX)/%.jsonl=$(DONE)/%.state)

# The pages are known only once they have arrived, so a second make, started
# after the arrival, finds them.
all: $(WORK)/arrived
	@$(MAKE) --no-print-directory -f $(THIS) load

# One writer per database: load the pages in order.
.NOTPARALLEL:

# A failed load must leave no stamp behind.
.DELETE_ON_ERROR:

load: $(STAMPS)

$(WORK)/arrived: $(SRC)
	mkdir -p $(INBOX)
	split -l $(PAGE) -d -a 3 --additional-suffix=.jsonl $(SRC) $(INBOX)/page-
	touch $@

# The echo ends a page that lacks its final newline; the blank line it makes
# otherwise is skipped.
$(DONE)/%.state: $(INBOX)/%.jsonl
	@mkdir -p $(DONE)
	{ cat $<; echo; \
	  printf '{"type":"STATE","value":{"bookmarks":{"issues":{"page":"%s"}}}}\n' '$*'; } \
	| $(BIN)/schema-infer -q -t issues -k id \
	| $(BIN)/sqlite-load $(DB) -m merge --busy-timeout $(BUSY_TIMEOUT) >$@ \
	|| { st=$$?; [ -s '$(STATUS)' ] || echo $$st > '$(STATUS)'; exit $$st; }

state:
	@$(BIN)/sqlite-load $(DB) --state-get bookmarks.issues.page

show:
	@sqlite3 -batch $(DB) 'SELECT count(*) AS issues FROM issues'

clean:
	rm -rf $(WORK) $(DB) $(DB)-wal $(DB)-shm

.PHONY: all load state show clean
