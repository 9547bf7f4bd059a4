#!/bin/sh
# Benchmark of dedup-merge --diff, batch change data capture from two full
# snapshots, against dedup-merge -k id of one of them, in the same run.
#
#	sh tests/bench/diff.sh [BIN_DIR]
#
# BIN_DIR holds dedup-merge (default: ../../bin from here).
# Environment: BENCH_DIFF_ROWS (1000000), BENCH_RUNS (3), TMPDIR.
#
# The snapshots are gen's rows (20 columns, about 500 bytes a row); NEW
# changes every 100th row of OLD (1%).  The diff reads twice the bytes of
# the one-snapshot dedup, so 0.5x is the same speed per byte.  Needs about
# 4 times the snapshot's size in $TMPDIR (the two snapshots and the spill).
#
# A missed target prints "BELOW TARGET" but never fails the run.  Exit 1
# only when a tool is missing or a command fails or writes the wrong rows.
#
# Results live in variables named by eval; the do_/prep_ functions are
# called by name:
# shellcheck disable=SC2154,SC2317

set -u
LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
bindir=${1:-$here/../../bin}
rows=${BENCH_DIFF_ROWS:-1000000}
runs=${BENCH_RUNS:-3}

missing=
[ -x /usr/bin/time ] || missing="$missing time"
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
need_tools "$missing"
bindir=$(bin_dir "$bindir") || exit 1
need_programs dedup-merge

bench_begin diffbench

cc -O2 -o "$tmp/gen" "$here/gen.c" 2>>"$log" || fail "cannot build gen.c"

TIMEFMT='%U %S %M'
old=$tmp/old.ndjson
new=$tmp/new.ndjson

do_dedup() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    "$bindir/dedup-merge" -k id --tmpdir "$tmp" "$new" >"$tmp/dm.out" 2>>"$log"
}
prep_dedup() {
	rm -f "$tmp/dm.out"
}
do_diff() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    "$bindir/dedup-merge" -k id --tmpdir "$tmp" --stats "$tmp/diff.json" \
	    --diff "$old" "$new" >"$tmp/diff.out" 2>>"$log"
}
prep_diff() {
	rm -f "$tmp/diff.out"
}
do_diff_32m() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    "$bindir/dedup-merge" -k id --memory 32M --tmpdir "$tmp" \
	    --diff "$old" "$new" >"$tmp/diff32.out" 2>>"$log"
}
prep_diff_32m() {
	rm -f "$tmp/diff32.out"
}

say "generating two snapshots of $rows rows, 1% changed"
"$tmp/gen" "$rows" >"$old" || fail "generator failed"
awk 'NR % 100 == 0 { sub(/"seq":[0-9]+/, "\"seq\":-1") } { print }' "$old" >"$new" ||
    fail "cannot write the new snapshot"
bytes=$(wc -c <"$new")
want=$((rows / 100))
cat "$old" "$new" >/dev/null	# Warm the page cache for everyone alike.

measure dedup "$runs"
measure diff "$runs"
measure diff_32m 1

n=$(wc -l <"$tmp/dm.out")
[ "$n" = "$rows" ] || fail "dedup-merge wrote $n rows, not $rows"
n=$(wc -l <"$tmp/diff.out")
[ "$n" = "$want" ] || fail "dedup-merge --diff wrote $n rows, not $want"
grep -q '"updated":'"$want"',' "$tmp/diff.json" ||
    fail "dedup-merge --diff: $(cat "$tmp/diff.json")"
cmp -s "$tmp/diff.out" "$tmp/diff32.out" ||
    fail "dedup-merge --diff --memory 32M wrote other bytes than the default"
leftover=$(find "$tmp" -name 'sluice-dedup.*' | wc -l)

row() {
	eval "ns=\$$2_ns cpus=\$$2_cpu rss=\$$2_rss"
	printf '  %-46s %8s %8s %8s\n' "$1" \
	    "$(calc '%.2f' "$ns / 1e9")" "$cpus" "$(calc '%.1f' "$rss / 1024")"
}

echo
echo "dedup-merge --diff benchmark: two snapshots of $rows rows, $(calc '%.1f' "$bytes / 1e6") MB each, 1% changed"
echo "machine: $(nproc) CPUs, $(grep -m 1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')"
echo "best of $runs"
echo
printf '  %-46s %8s %8s %8s\n' "" seconds "CPU s" "RSS MB"
row "dedup-merge -k id NEW" dedup
row "dedup-merge -k id --diff OLD NEW" diff
row "dedup-merge -k id --diff OLD NEW --memory 32M" diff_32m
echo "  ($want changes; --memory 32M writes the same bytes; temporary files left: $leftover)"
echo
target "dedup-merge --diff of two snapshots vs dedup-merge -k id of one" \
    "$(calc '%.2f' "$dedup_ns / $diff_ns")" '>=' 0.4 x
target "peak RSS of --diff, --memory 32M" \
    "$(calc '%.1f' "$diff_32m_rss / 1024")" '<' 64 " MB"
exit 0
