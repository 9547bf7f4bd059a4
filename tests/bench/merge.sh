#!/bin/sh
# Benchmark of sqlite-load's merge of rows that did not change (issue 13):
#
#	sh tests/bench/merge.sh [BIN_DIR]
#
# BIN_DIR holds jsonl-normalize, schema-infer and sqlite-load (default:
# ../../bin from here).  Environment: BENCH_MERGE_RIDES (200000 nested
# rides of genrides.c), BENCH_RUNS (3), TMPDIR.
#
# The same normalized rides (rides, passengers, stops) are loaded:
#   append      -m append into an empty database (the reference);
#   rerun       merged into a database that holds them already: nothing
#               changed, nothing is written (target <= 1.5x append);
#   1% changed  the same with one ride in a hundred changed (its tip):
#               those rides and their child rows are rewritten (target
#               within 10% of rerun).
# Each load's counts are checked: the rerun finds every row unchanged.
# A missed target prints "BELOW TARGET" but never fails the run.  Exit 1
# only when a tool is missing or a command fails or counts wrong.
#
# shellcheck disable=SC2154,SC2317

set -u
LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
bindir=${1:-$here/../../bin}
rides=${BENCH_MERGE_RIDES:-200000}
runs=${BENCH_RUNS:-3}

missing=
[ -x /usr/bin/time ] || missing="$missing time"
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
command -v sqlite3 >/dev/null 2>&1 || missing="$missing sqlite3"
need_tools "$missing"
bindir=$(bin_dir "$bindir") || exit 1
need_programs jsonl-normalize schema-infer sqlite-load

bench_begin mergebench
cc -O2 -o "$tmp/genrides" "$here/genrides.c" 2>>"$log" ||
    fail "cannot build genrides.c"

say "generating $rides nested rides, and a copy with 1% changed"
"$tmp/genrides" "$rides" >"$tmp/rides.jsonl" || fail "genrides failed"
# Every hundredth ride gets another tip: the same keys, other values.
# (A ride without a tip gets none: the rides changed are counted.)
awk -v out="$tmp/nchanged" '
	NR % 100 == 0 && sub(/"tip":[0-9.]+/, "\"tip\":999.99") { n++ }
	{ print }
	END { print n + 0 > out }' "$tmp/rides.jsonl" >"$tmp/rides2.jsonl" ||
    fail "awk failed"
normalize() {
	"$bindir/jsonl-normalize" -q -t rides -k ride_id "$1" |
	    "$bindir/schema-infer" -q >"$2" 2>>"$log"
}
normalize "$tmp/rides.jsonl" "$tmp/norm.singer" || fail "normalize failed"
normalize "$tmp/rides2.jsonl" "$tmp/norm2.singer" || fail "normalize failed"
changed=$(cat "$tmp/nchanged")

# The database that holds the rides, made once; each timed merge gets a
# copy of it.
"$bindir/sqlite-load" -q "$tmp/base.db" <"$tmp/norm.singer" 2>>"$log" ||
    fail "the first load failed"

TIMEFMT='%U %S %M'
prep_append() { rm -f "$tmp/a.db"; }
do_append() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" "$bindir/sqlite-load" -q \
	    -m append --load-id A "$tmp/a.db" <"$tmp/norm.singer" 2>>"$log"
}
prep_rerun() { cp "$tmp/base.db" "$tmp/m.db"; }
do_rerun() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" "$bindir/sqlite-load" -q \
	    --load-id R "$tmp/m.db" <"$tmp/norm.singer" 2>>"$log"
}
prep_changed() { cp "$tmp/base.db" "$tmp/m.db"; }
do_changed() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" "$bindir/sqlite-load" -q \
	    --load-id C "$tmp/m.db" <"$tmp/norm2.singer" 2>>"$log"
}

# counts DB LOAD TABLE: inserted updated unchanged deleted.
counts() {
	sqlite3 -batch "$1" "SELECT json_extract(tables, '\$.$3.inserted') || ' ' ||
	    json_extract(tables, '\$.$3.updated') || ' ' ||
	    json_extract(tables, '\$.$3.unchanged') || ' ' ||
	    json_extract(tables, '\$.$3.deleted') FROM _sluice_loads
	    WHERE load_id = '$2'"
}
check_rerun() {
	got=$(counts "$tmp/m.db" R rides)
	[ "$got" = "0 0 $rides 0" ] ||
	    fail "the rerun counted rides $got, not 0 0 $rides 0"
}
check_changed() {
	got=$(counts "$tmp/m.db" C rides)
	[ "$got" = "0 $changed $((rides - changed)) 0" ] ||
	    fail "the 1% merge counted rides $got, not 0 $changed $((rides - changed)) 0"
}

measure append
measure rerun
measure changed

mb=$(calc '%.1f' "$(wc -c <"$tmp/norm.singer") / 1e6")
row() {
	eval "ns=\$$2_ns cpus=\$$2_cpu rss=\$$2_rss"
	printf '  %-40s %8s %8s %8s\n' "$1" "$(calc '%.2f' "$ns / 1e9")" \
	    "$cpus" "$(calc '%.1f' "$rss / 1024")"
}
echo
echo "sqlite-load merge of unchanged rows: $rides nested rides ($mb MB normalized: rides, passengers, stops), best of $runs"
echo
printf '  %-40s %8s %8s %8s\n' "" seconds "CPU s" "RSS MB"
row "-m append into an empty database" append
row "merge again, nothing changed" rerun
row "merge again, 1% of rides changed" changed
echo
target "merge of unchanged rides vs append (time)" \
    "$(calc '%.2f' "$rerun_ns / $append_ns")" '<=' 1.5 x
target "merge with 1% changed vs unchanged (time)" \
    "$(calc '%.2f' "$changed_ns / $rerun_ns")" '<=' 1.1 x
exit 0
