#!/bin/sh
# postgres-cdc.sh - change data capture from PostgreSQL into SQLite, a spool
# file per run, exactly once.
#
# usage: postgres-cdc.sh [BINDIR [DB]]
#
#   BINDIR  where cdc-decode and sqlite-load are (default: ../bin)
#   DB      the SQLite database to write (default: cdc.db), made afresh
#
# It starts a throwaway PostgreSQL 15 cluster (Debian's postgresql-15 and
# postgresql-15-wal2json) in a temporary directory, on a unix socket and a
# free port of 127.0.0.1 (as the postgres user when run as root: the
# server refuses root), makes a table and a logical replication slot, then
# runs three rounds of changes, each followed by the batch step a cron job
# or an Airflow task would run:
#
#   pg_recvlogical --start --endpos NOW ... -f spool.json   (the changes)
#   cdc-decode --state-from DB spool.json | sqlite-load DB  (applied once)
#
# pg_recvlogical confirms a position to the server once it has written and
# fsynced the spool; sqlite-load commits the position with the data.  The
# third round replays the second round's spool too: nothing is applied
# twice.  Each command is printed before it runs.  The cluster is stopped
# and removed at the end.

set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
bin=${1:-$here/../bin}
db=${2:-cdc.db}
pgbin=${PGBINDIR:-/usr/lib/postgresql/15/bin}

for prog in cdc-decode sqlite-load; do
	if [ ! -x "$bin/$prog" ]; then
		echo "postgres-cdc.sh: $bin/$prog: not found; run make first" >&2
		exit 69
	fi
done
if [ ! -x "$pgbin/initdb" ] ||
    [ ! -f /usr/lib/postgresql/15/lib/wal2json.so ]; then
	echo "postgres-cdc.sh: PostgreSQL 15 with wal2json is needed:" \
	    "apt-get install postgresql-15 postgresql-15-wal2json" >&2
	exit 69
fi
for prog in python3 sqlite3 psql; do
	if ! command -v "$prog" >/dev/null 2>&1; then
		echo "postgres-cdc.sh: $prog: not found" >&2
		exit 69
	fi
done

# as_owner CMD...: CMD as the cluster's owner (postgres when we are root),
# from a directory it may enter.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

rm -f -- "$db" "$db-wal" "$db-shm"
dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-cdc.XXXXXX")
chmod 755 "$dir"
[ "$(id -u)" -ne 0 ] || chown postgres "$dir"
cleanup() {
	as_owner "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w stop \
	    >/dev/null 2>&1 || :
	rm -rf -- "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_owner "$pgbin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 \
    --locale=C >"$dir/initdb.log" 2>&1
as_owner "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
    "-c wal_level=logical -c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_replication_slots=4 -c max_wal_senders=4 -c TimeZone=UTC" \
    start >/dev/null
PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
export PGHOST PGPORT PGUSER PGDATABASE

# show CMD: print it, then run it with sh.
show() {
	printf '$ %s\n' "$1"
	sh -c "$1"
}
sql() {
	psql -X -q -v ON_ERROR_STOP=1 -c "$1"
}

echo "== PostgreSQL 15 on 127.0.0.1:$port; a table and a slot with wal2json"
sql "CREATE TABLE orders (id serial PRIMARY KEY, amount numeric(12,2),
    note text, placed_at timestamptz DEFAULT now())"
show "pg_recvlogical -d postgres --slot sluice --create-slot -P wal2json"

# One batch: the changes up to now into a spool, then applied once.
batch() {
	end=$(psql -X -A -t -c 'SELECT pg_current_wal_lsn()')
	show "pg_recvlogical -d postgres --slot sluice --start --no-loop --endpos $end -o format-version=2 -o include-pk=1 -o include-lsn=1 -f $dir/spool-$1.json"
	show "$bin/cdc-decode --state-from $db $2 | $bin/sqlite-load $db"
	printf 'bookmark: %s\n' "$("$bin/sqlite-load" "$db" --state-get bookmarks.cdc.lsn)"
}

echo
echo "== round 1: three orders"
sql "INSERT INTO orders (amount, note) VALUES (99999999.99, 'big'), (1.50, 'small'), (20, 'gone soon')"
batch 1 "$dir/spool-1.json"

echo
echo "== round 2: an update, a delete, a new column"
sql "BEGIN; UPDATE orders SET amount = 2.25, note = 'small, corrected' WHERE id = 2;
    DELETE FROM orders WHERE id = 3; COMMIT"
sql "ALTER TABLE orders ADD COLUMN channel text"
sql "INSERT INTO orders (amount, note, channel) VALUES (7, 'new', 'web')"
batch 2 "$dir/spool-2.json"

echo
echo "== round 3: one more order; the spool of round 2 is replayed with it"
sql "INSERT INTO orders (amount, note, channel) VALUES (8, 'later', 'app')"
end=$(psql -X -A -t -c 'SELECT pg_current_wal_lsn()')
show "pg_recvlogical -d postgres --slot sluice --start --no-loop --endpos $end -o format-version=2 -o include-pk=1 -o include-lsn=1 -f $dir/spool-3.json"
show "cat $dir/spool-2.json $dir/spool-3.json | $bin/cdc-decode --state-from $db | $bin/sqlite-load $db"

echo
echo "== PostgreSQL"
psql -X -c "SELECT id, amount, note, channel FROM orders ORDER BY id"
echo "== SQLite ($db)"
sqlite3 -batch -header -column "$db" \
    "SELECT id, amount, note, channel FROM orders ORDER BY id"
echo
sqlite3 -batch -header -column "$db" \
    "SELECT load_id, json_extract(tables, '$.orders.inserted') AS inserted,
	json_extract(tables, '$.orders.updated') AS updated,
	json_extract(tables, '$.orders.deleted') AS deleted
    FROM _sluice_loads ORDER BY rowid"
