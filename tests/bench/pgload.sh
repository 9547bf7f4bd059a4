#!/bin/sh
# Benchmark of pg-load (issue 15), against a throwaway PostgreSQL 15 that
# it starts:
#
#	sh tests/bench/pgload.sh [BIN_DIR]
#
# BIN_DIR holds pg-load (default: ../../bin from here).
# Environment: BENCH_PG_ROWS (200000), BENCH_PG_BIG_ROWS (2000000),
# BENCH_RUNS (3), BENCH_RSS_SLACK_MB (5), PGBINDIR
# (/usr/lib/postgresql/15/bin), TMPDIR.
#
# The rows are gen.c's (20 flat columns, 515 bytes a row):
#   append   pg-load -t t -m append of the rows as JSON Lines, against
#            psql's \copy of the same rows as CSV into a table made like
#            pg-load's (the server's own limit): target >= 0.5x its rate;
#   merge    pg-load -k id of the rows with one in ten changed, into the
#            table a keyed load of the rows made: its seconds, and against
#            the append (the counts are checked: 10% updated, the rest
#            unchanged);
#   2M       the append of ten times as many rows, against psql's \copy
#            of them (once each): the same target; and pg-load's peak RSS
#            at both sizes: flat (grows by at most BENCH_RSS_SLACK_MB).
# The server runs on 127.0.0.1 with fsync=off, for both sides alike.  A
# missed target prints "BELOW TARGET" but never fails the run.  Exit 1 only
# when a tool is missing, the server does not start, or a command fails or
# loads other rows.
#
# shellcheck disable=SC2154,SC2317

set -u
LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
bindir=${1:-$here/../../bin}
rows=${BENCH_PG_ROWS:-200000}
bigrows=${BENCH_PG_BIG_ROWS:-2000000}
runs=${BENCH_RUNS:-3}
slack=${BENCH_RSS_SLACK_MB:-5}
pgbin=${PGBINDIR:-/usr/lib/postgresql/15/bin}

missing=
[ -x /usr/bin/time ] || missing="$missing time"
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
[ -x "$pgbin/initdb" ] || missing="$missing postgresql-15"
command -v psql >/dev/null 2>&1 || missing="$missing postgresql-client-15"
need_tools "$missing"
bindir=$(bin_dir "$bindir") || exit 1
need_programs pg-load

bench_begin pgbench
# The cluster is stopped before the directory goes.
trap 'pg_stop; bench_end' EXIT

# pg_as CMD...: CMD as the cluster's owner (postgres when we are root:
# PostgreSQL refuses to run as root), as tests/pg.bash does.
pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

pg_stop() {
	[ -d "$tmp/pg/data" ] || return 0
	pg_as "$pgbin/pg_ctl" -D "$tmp/pg/data" -m immediate -w stop \
	    >/dev/null 2>&1
}

# sql STATEMENT: run it, results unaligned without headers.
sql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 \
	    -c "SET client_min_messages = warning" -c "$1" 2>>"$log"
}

say "starting PostgreSQL 15"
chmod 755 "$tmp"
mkdir "$tmp/pg" || fail "cannot make $tmp/pg"
[ "$(id -u)" -ne 0 ] || chown postgres "$tmp/pg" || fail "no postgres user"
pg_as "$pgbin/initdb" -D "$tmp/pg/data" -A trust -U postgres -E UTF8 \
    --locale=C >"$tmp/pg/initdb.log" 2>&1 || {
	cat "$tmp/pg/initdb.log" >>"$log"
	fail "initdb failed"
}
port=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || fail "no free port"
pg_as "$pgbin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$tmp/pg -c fsync=off -c max_wal_size=4GB -c TimeZone=UTC" \
    start >/dev/null 2>>"$log" || {
	cat "$tmp/pg/server.log" >>"$log"
	fail "the server did not start"
}
# psql and pg-load both go through TCP on 127.0.0.1.
PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres
export PGHOST PGPORT PGUSER PGDATABASE
conn=postgresql://postgres@127.0.0.1:$port/postgres

cc -O2 -o "$tmp/gen" "$here/gen.c" 2>>"$log" || fail "cannot build gen.c"
say "generating $rows rows, and a copy with one in ten changed"
data=$tmp/rows.jsonl
"$tmp/gen" "$rows" >"$data" || fail "gen failed"
bytes=$(wc -c <"$data" | tr -d ' ')
# Every tenth row gets another status: the same keys, other values.
awk 'NR % 10 == 0 { sub(/"status":"/, "\"status\":\"changed-") } { print }' \
    "$data" >"$tmp/changed.jsonl" || fail "awk failed"
nchanged=$((rows / 10))

# The rows as CSV, as PostgreSQL writes them back from pg-load's table,
# and the reference table made like that one.
"$bindir/pg-load" -q -t t -m append "$conn" <"$data" 2>>"$log" ||
    fail "pg-load failed"
sql "\\copy t to '$tmp/rows.csv' csv" || fail "psql \\copy to CSV failed"
sql "CREATE TABLE ref (LIKE t)" || fail "cannot make the reference table"

TIMEFMT='%U %S %M'

# count_is TABLE N: the table holds N rows.
count_is() {
	got=$(sql "SELECT count(*) FROM $1") || fail "cannot count $1"
	[ "$got" = "$2" ] || fail "$1 holds $got rows, not $2"
}

prep_pgload() { sql "DROP TABLE IF EXISTS t" || fail "drop t failed"; }
do_pgload() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" "$bindir/pg-load" -q \
	    -t t -m append "$conn" <"$data" >/dev/null 2>>"$log"
}
check_pgload() { count_is t "$rows"; }

prep_psql() { sql "TRUNCATE ref" || fail "truncate ref failed"; }
do_psql() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" psql -X -q \
	    -v ON_ERROR_STOP=1 -c "\\copy ref from '$tmp/rows.csv' csv" \
	    >/dev/null 2>>"$log"
}
check_psql() { count_is ref "$rows"; }

# The merge's table: the rows as a keyed load leaves them (timed too).
first_ns=
prep_merge() {
	sql "DROP TABLE IF EXISTS m" || fail "drop m failed"
	t0=$(now)
	"$bindir/pg-load" -q -t m -k id "$conn" <"$data" >/dev/null 2>>"$log" ||
	    fail "the first keyed load failed"
	t1=$(now)
	if [ -z "$first_ns" ] || [ $((t1 - t0)) -lt "$first_ns" ]; then
		first_ns=$((t1 - t0))
	fi
}
do_merge() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" "$bindir/pg-load" -q \
	    -t m -k id --stats "$tmp/merge.json" "$conn" \
	    <"$tmp/changed.jsonl" >/dev/null 2>>"$log"
}
check_merge() {
	want="\"m\":{\"inserted\":0,\"updated\":$nchanged,\"unchanged\":$((rows - nchanged)),\"deleted\":0}"
	grep -qF "$want" "$tmp/merge.json" ||
	    fail "merge counts: $(cat "$tmp/merge.json"), not $want"
	count_is m "$rows"
	got=$(sql "SELECT count(*) FROM m WHERE status LIKE 'changed-%'")
	[ "$got" = "$nchanged" ] || fail "$got rows changed, not $nchanged"
}

measure pgload
small_rss=$pgload_rss
measure psql
# pg-load's rows are the ones psql copied.
diff=$(sql "SELECT (SELECT count(*) FROM (TABLE t EXCEPT ALL TABLE ref) a) +
    (SELECT count(*) FROM (TABLE ref EXCEPT ALL TABLE t) b)") ||
    fail "cannot compare t and ref"
[ "$diff" = 0 ] || fail "pg-load's table and psql's differ in $diff rows"
sql "DROP TABLE ref" || fail "drop ref failed"
measure merge

# RSS at ten times the rows, one run: the small figure is the append's.
say "pg-load -m append of $bigrows rows"
rm -f "$tmp/changed.jsonl" "$tmp/rows.csv"
sql "DROP TABLE IF EXISTS t, m" || fail "drop failed"
"$tmp/gen" "$bigrows" >"$data" || fail "gen failed"
bigbytes=$(wc -c <"$data" | tr -d ' ')
t0=$(now)
do_pgload || fail "pg-load failed on $bigrows rows"
t1=$(now)
big_ns=$((t1 - t0))
big_rss=$(tail -n 1 "$tmp/ru" | cut -d ' ' -f 3)
count_is t "$bigrows"
rm -f "$data"
# psql's \copy of the same rows, once: how much of the time is the server's.
say "psql \\copy of $bigrows rows"
sql "\\copy t to '$tmp/rows.csv' csv" || fail "psql \\copy to CSV failed"
sql "CREATE TABLE ref (LIKE t)" || fail "cannot make the reference table"
t0=$(now)
do_psql || fail "psql failed on $bigrows rows"
t1=$(now)
big_psql_ns=$((t1 - t0))
count_is ref "$bigrows"
rm -f "$tmp/rows.csv"

echo
echo "pg-load into PostgreSQL 15 on 127.0.0.1 (fsync=off): $rows flat rows," \
    "20 columns ($(calc '%.1f' "$bytes / 1e6") MB), best of $runs"
echo
printf '  %-50s %8s %8s %8s\n' "" seconds "CPU s" "RSS MB"
row() {
	printf '  %-50s %8s %8s %8s\n' "$1" "$(calc '%.2f' "$2 / 1e9")" "$3" \
	    "$(calc '%.1f' "$4 / 1024")"
}
row "pg-load -t t -m append (JSON Lines)" "$pgload_ns" "$pgload_cpu" \
    "$pgload_rss"
row "psql \\copy t from rows.csv csv (reference)" "$psql_ns" "$psql_cpu" \
    "$psql_rss"
row "pg-load -k id, 10% changed, into the rows" "$merge_ns" "$merge_cpu" \
    "$merge_rss"
printf '  %-50s %8s\n' "pg-load -k id into an empty table (first load)" \
    "$(calc '%.2f' "$first_ns / 1e9")"
echo
printf '  %-34s %10s %12s %10s\n' "" "$rows rows" "$bigrows rows" ratio
printf '  %-34s %10s %12s %10s\n' "pg-load -m append, seconds" \
    "$(calc '%.2f' "$pgload_ns / 1e9")" "$(calc '%.2f' "$big_ns / 1e9")" \
    "$(calc '%.1f' "$big_ns / $pgload_ns")"
printf '  %-34s %10s %12s %10s\n' "psql \\copy (reference), seconds" \
    "$(calc '%.2f' "$psql_ns / 1e9")" "$(calc '%.2f' "$big_psql_ns / 1e9")" \
    "$(calc '%.1f' "$big_psql_ns / $psql_ns")"
printf '  %-34s %10s %12s %10s\n' "pg-load -m append, peak RSS MB" \
    "$(calc '%.1f' "$small_rss / 1024")" "$(calc '%.1f' "$big_rss / 1024")" \
    "$(calc '%.2f' "$big_rss / $small_rss")"
echo "  ($(calc '%.1f' "$bigbytes / 1e6") MB for $bigrows rows)"
echo
printf '  %-50s %sx\n' "merge (10% changed) vs append, time" \
    "$(calc '%.2f' "$merge_ns / $pgload_ns")"
echo
target "pg-load append vs psql \\copy (rate)" \
    "$(calc '%.2f' "$psql_ns / $pgload_ns")" '>=' 0.5 x
target "pg-load append vs psql \\copy at $bigrows rows (rate)" \
    "$(calc '%.2f' "$big_psql_ns / $big_ns")" '>=' 0.5 x
target "pg-load RSS growth ${rows}->${bigrows} rows" \
    "$(calc '%.1f' "($big_rss - $small_rss) / 1024")" '<=' "$slack" " MB"
exit 0
