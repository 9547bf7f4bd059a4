#!/bin/sh
# Benchmark of change data capture (issue 14):
#
#	sh tests/bench/cdc.sh [BIN_DIR]
#
# BIN_DIR holds cdc-decode and sqlite-load (default: ../../bin from here).
# Environment: BENCH_CDC_EVENTS (1000000), BENCH_RUNS (3), TMPDIR.
#
# wal2json change events (format version 2: inserts, then updates of one
# in four rows, on a 10-column table, a transaction of 1,000 changes at a
# time) through `cdc-decode | sqlite-load -m merge`, against loading the
# same rows as plain records with `sqlite-load -m merge` (target >= 0.7x
# its rate), and cdc-decode's peak RSS and CPU seconds.  Both tables are
# compared.  A missed target prints "BELOW TARGET" but never fails the
# run.  Exit 1 only when a tool is missing or a command fails or loads
# other rows.
#
# shellcheck disable=SC2154,SC2317

set -u
LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
bindir=${1:-$here/../../bin}
events=${BENCH_CDC_EVENTS:-1000000}
runs=${BENCH_RUNS:-3}

missing=
[ -x /usr/bin/time ] || missing="$missing time"
command -v sqlite3 >/dev/null 2>&1 || missing="$missing sqlite3"
need_tools "$missing"
bindir=$(bin_dir "$bindir") || exit 1
need_programs cdc-decode sqlite-load

bench_begin cdcbench

# The events and the same rows as plain records: 4/5 inserts, 1/5 updates.
say "generating $events change events"
awk -v n="$events" -v wal="$tmp/wal.json" -v plain="$tmp/plain.jsonl" '
function cols(id, v) {
	return sprintf("[{\"name\":\"id\",\"type\":\"bigint\",\"value\":%d}," \
	    "{\"name\":\"amount\",\"type\":\"numeric(12,2)\",\"value\":%d.%02d}," \
	    "{\"name\":\"qty\",\"type\":\"integer\",\"value\":%d}," \
	    "{\"name\":\"price\",\"type\":\"double precision\",\"value\":%d.5}," \
	    "{\"name\":\"note\",\"type\":\"text\",\"value\":\"note %d of row %d\"}," \
	    "{\"name\":\"paid\",\"type\":\"boolean\",\"value\":%s}," \
	    "{\"name\":\"day\",\"type\":\"date\",\"value\":\"2024-%02d-%02d\"}," \
	    "{\"name\":\"at\",\"type\":\"timestamp with time zone\",\"value\":\"2024-05-01 10:%02d:%02d.5+02\"}," \
	    "{\"name\":\"city\",\"type\":\"character varying(40)\",\"value\":\"city %d\"}," \
	    "{\"name\":\"score\",\"type\":\"smallint\",\"value\":%d}]",
	    id, v, v % 100, v % 50, v, v, id, v % 2 ? "true" : "false",
	    v % 12 + 1, v % 28 + 1, v % 60, id % 60, v % 97, v % 1000)
}
function rec(id, v) {
	return sprintf("{\"type\":\"RECORD\",\"stream\":\"t\",\"record\":" \
	    "{\"id\":%d,\"amount\":%d.%02d,\"qty\":%d,\"price\":%d.5," \
	    "\"note\":\"note %d of row %d\",\"paid\":%s,\"day\":\"2024-%02d-%02d\"," \
	    "\"at\":\"2024-05-01T08:%02d:%02d.5Z\",\"city\":\"city %d\",\"score\":%d}}",
	    id, v, v % 100, v % 50, v, v, id, v % 2 ? "true" : "false",
	    v % 12 + 1, v % 28 + 1, v % 60, id % 60, v % 97, v % 1000)
}
BEGIN {
	print "{\"type\":\"SCHEMA\",\"stream\":\"t\",\"schema\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":[\"integer\",\"null\"]},\"amount\":{\"type\":[\"number\",\"null\"],\"format\":\"decimal\"},\"qty\":{\"type\":[\"integer\",\"null\"]},\"price\":{\"type\":[\"number\",\"null\"]},\"note\":{\"type\":[\"string\",\"null\"]},\"paid\":{\"type\":[\"boolean\",\"null\"]},\"day\":{\"type\":[\"string\",\"null\"],\"format\":\"date\"},\"at\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"},\"city\":{\"type\":[\"string\",\"null\"]},\"score\":{\"type\":[\"integer\",\"null\"]}}},\"key_properties\":[\"id\"]}" > plain
	lsn = 16777216
	rows = 0
	for (i = 0; i < n; i++) {
		if (i % 1000 == 0) {
			txn = lsn + 1000 * 64
			printf "{\"action\":\"B\",\"lsn\":\"0/%X\",\"nextlsn\":\"0/%X\"}\n", txn, txn + 48 > wal
		}
		lsn += 64
		if (i % 5 == 4 && rows > 0) {
			id = (i * 7) % rows + 1; v = i
			act = "U"
		} else {
			id = ++rows; v = id
			act = "I"
		}
		printf "{\"action\":\"%s\",\"lsn\":\"0/%X\",\"schema\":\"public\",\"table\":\"t\",\"columns\":%s,\"pk\":[{\"name\":\"id\",\"type\":\"bigint\"}]}\n", act, lsn, cols(id, v) > wal
		print rec(id, v) > plain
		if (i % 1000 == 999 || i == n - 1) {
			printf "{\"action\":\"C\",\"lsn\":\"0/%X\",\"nextlsn\":\"0/%X\"}\n", txn, txn + 48 > wal
			lsn = txn + 48
		}
	}
}' || fail "awk failed"
bytes=$(wc -c <"$tmp/wal.json" | tr -d ' ')

TIMEFMT='%U %S %M'
prep_cdc() { rm -f "$tmp/c.db"; }
do_cdc() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru.cdc" "$bindir/cdc-decode" -q \
	    "$tmp/wal.json" 2>>"$log" |
	    "$bindir/sqlite-load" -q -m merge "$tmp/c.db" >/dev/null 2>>"$log" &&
	    cp "$tmp/ru.cdc" "$tmp/ru"
}
prep_plain() { rm -f "$tmp/p.db"; }
do_plain() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" "$bindir/sqlite-load" -q \
	    -m merge "$tmp/p.db" <"$tmp/plain.jsonl" >/dev/null 2>>"$log"
}
measure cdc
measure plain

# The same table both ways.
cols="id, amount, qty, price, note, paid, day, at, city, score"
a=$(sqlite3 -batch "$tmp/c.db" "SELECT count(*), total(amount), total(qty), max(note) FROM t")
b=$(sqlite3 -batch "$tmp/p.db" "SELECT count(*), total(amount), total(qty), max(note) FROM t")
[ "$a" = "$b" ] || fail "cdc-decode loaded $a, plain records $b"
sqlite3 -batch "$tmp/c.db" "SELECT $cols FROM t ORDER BY id" >"$tmp/c.txt"
sqlite3 -batch "$tmp/p.db" "SELECT $cols FROM t ORDER BY id" >"$tmp/p.txt"
cmp -s "$tmp/c.txt" "$tmp/p.txt" || fail "the two tables differ"

echo
echo "change data capture: $events wal2json events ($(calc '%.1f' "$bytes / 1e6") MB, 10 columns, 1,000 a transaction), best of $runs"
echo
printf '  %-46s %8s\n' "" seconds
printf '  %-46s %8s\n' "cdc-decode | sqlite-load -m merge" "$(calc '%.2f' "$cdc_ns / 1e9")"
printf '  %-46s %8s\n' "sqlite-load -m merge, the rows as records" "$(calc '%.2f' "$plain_ns / 1e9")"
echo
# CPU seconds say what the wall clock of a shared machine may not.
echo "  cdc-decode: $cdc_cpu CPU seconds (user+sys), $(calc '%.0f' "$bytes / 1e6 / $cdc_cpu") MB of events a CPU second; plain sqlite-load: $plain_cpu"
echo
target "cdc-decode | sqlite-load vs plain records (rate)" \
    "$(calc '%.2f' "$plain_ns / $cdc_ns")" '>=' 0.7 x
target "cdc-decode peak RSS" "$(calc '%.1f' "$cdc_rss / 1024")" '<=' 64 " MB"
exit 0
