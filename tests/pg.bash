# tests/pg.bash - a throwaway PostgreSQL 15 cluster for the bats files
# that test change data capture (cdc-decode) against the real server:
#
#	load helper
#	load pg
#	setup_file() { pg_start; }
#	teardown_file() { pg_stop; }
#
# The cluster lives in a directory of its own under $TMPDIR (PostgreSQL
# refuses to run as root: as root, initdb and pg_ctl run as the postgres
# system user, which must be able to reach the directory), listens on
# 127.0.0.1 on a free port and on a unix socket in that directory, with
# wal_level=logical, and is stopped with -m immediate at the end.
# pg_psql runs SQL as the superuser; pg_spool SLOT FILE writes every change
# since the slot's last confirmed position up to now, as wal2json format
# version 2 with the primary keys and positions, to FILE.

PGBINDIR=${PGBINDIR:-/usr/lib/postgresql/15/bin}

# pg_as CMD...: CMD as the cluster's owner (postgres when we are root).
pg_as() {
	if [[ $(id -u) -eq 0 ]]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

pg_start() {
	[[ -x $PGBINDIR/initdb ]] || skip "PostgreSQL 15 is not installed (make deps)"
	[[ -f /usr/lib/postgresql/15/lib/wal2json.so ]] ||
	    skip "wal2json is not installed (make deps)"
	PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/sluice-pg.XXXXXX")
	chmod 755 "$PGDIR"
	[[ $(id -u) -ne 0 ]] || chown postgres "$PGDIR"
	pg_as "$PGBINDIR/initdb" -D "$PGDIR/data" -A trust -U postgres \
	    -E UTF8 --locale=C > "$PGDIR/initdb.log" 2>&1 ||
	    { cat "$PGDIR/initdb.log" >&2; return 1; }
	PGPORT=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	pg_as "$PGBINDIR/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
	    -o "-c wal_level=logical -c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories=$PGDIR -c max_replication_slots=8 -c max_wal_senders=8 -c fsync=off -c TimeZone=UTC" \
	    start > /dev/null || { cat "$PGDIR/server.log" >&2; return 1; }
	PGHOST=$PGDIR PGUSER=postgres PGDATABASE=postgres
	export PGDIR PGPORT PGHOST PGUSER PGDATABASE
}

pg_stop() {
	[[ -n ${PGDIR:-} && -d $PGDIR/data ]] || return 0
	pg_as "$PGBINDIR/pg_ctl" -D "$PGDIR/data" -m immediate -w stop \
	    > /dev/null 2>&1 || true
	rm -rf "$PGDIR"
}

# pg_psql SQL...: each SQL run by psql, quietly, stopping at an error;
# results unaligned, tuples only.
pg_psql() {
	local sql
	for sql in "$@"; do
		psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$sql" || return 1
	done
}

# pg_slot NAME: a logical replication slot with wal2json.
pg_slot() {
	pg_psql "SELECT 'ok' FROM pg_create_logical_replication_slot('$1', 'wal2json')" > /dev/null
}

# pg_spool SLOT FILE: the changes since the slot's confirmed position, up
# to the present, appended to FILE by pg_recvlogical (which confirms them
# to the server once written).
pg_spool() {
	local end
	end=$(pg_psql 'SELECT pg_current_wal_lsn()') || return 1
	"$PGBINDIR/pg_recvlogical" -d postgres --slot "$1" --start \
	    --endpos "$end" -o format-version=2 -o include-pk=1 \
	    -o include-lsn=1 -o include-transaction=1 -f "$2" --no-loop \
	    2> "$PGDIR/recvlogical.log" || { cat "$PGDIR/recvlogical.log" >&2; return 1; }
}
