#!/bin/sh
# Benchmark of dedup-merge against mlr and sqlite-utils (see
# tests/bench/README.md, "dedup-merge").
#
#	sh tests/bench/dedup.sh [BIN_DIR]
#
# BIN_DIR holds dedup-merge (default: ../../bin from here).
# Environment: BENCH_DEDUP_ROWS (1000000), BENCH_DEDUP_KEYS (5000000),
# BENCH_RUNS (3, for dedup-merge), BENCH_REF_RUNS (1, for mlr and
# sqlite-utils, which take minutes), TMPDIR.
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
rows=${BENCH_DEDUP_ROWS:-1000000}
keys=${BENCH_DEDUP_KEYS:-5000000}
runs=${BENCH_RUNS:-3}
refruns=${BENCH_REF_RUNS:-1}

missing=
command -v sqlite-utils >/dev/null 2>&1 || missing="$missing sqlite-utils"
command -v mlr >/dev/null 2>&1 || missing="$missing miller"
[ -x /usr/bin/time ] || missing="$missing time"
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
need_tools "$missing"
bindir=$(bin_dir "$bindir") || exit 1
need_programs dedup-merge

bench_begin dedupbench

cc -O2 -o "$tmp/gen" "$here/gen.c" 2>>"$log" || fail "cannot build gen.c"
cc -O2 -o "$tmp/dedupgen" "$here/dedupgen.c" 2>>"$log" ||
    fail "cannot build dedupgen.c"

TIMEFMT='%U %S %M'

do_dedup() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    "$bindir/dedup-merge" -k id --tmpdir "$tmp" <"$data" >"$tmp/dm.out" 2>>"$log"
}
prep_dedup() {
	rm -f "$tmp/dm.out"
}
do_dedup_first() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    "$bindir/dedup-merge" -k id --first --tmpdir "$tmp" <"$data" >"$tmp/dmf.out" 2>>"$log"
}
prep_dedup_first() {
	rm -f "$tmp/dmf.out"
}
do_dedup_32m() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    "$bindir/dedup-merge" -k id --memory 32M --tmpdir "$tmp" <"$data" >"$tmp/dm32.out" 2>>"$log"
}
prep_dedup_32m() {
	rm -f "$tmp/dm32.out"
}
do_mlr() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    mlr --ijsonl --ojsonl head -n 1 -g id <"$data" >"$tmp/mlr.out" 2>>"$log"
}
prep_mlr() {
	rm -f "$tmp/mlr.out"
}
do_sqlite_utils() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    sqlite-utils upsert "$tmp/su.db" t "$data" --nl --pk id >/dev/null 2>>"$log"
}
prep_sqlite_utils() {
	rmdb "$tmp/su.db"
}

# --- 1M records, 50% duplicate keys --------------------------------------

data=$tmp/dup.ndjson
say "generating $rows rows, each id twice"
"$tmp/gen" "$rows" | "$tmp/dedupgen" dup "$rows" >"$data" || fail "generator failed"
bytes=$(wc -c <"$data")
want=$((rows / 2))
cat "$data" >/dev/null	# Warm the page cache for everyone alike.

measure dedup "$runs"
measure dedup_first "$runs"
measure dedup_32m "$runs"
measure mlr "$refruns"
measure sqlite_utils "$refruns"

n=$(wc -l <"$tmp/dm.out")
[ "$n" = "$want" ] || fail "dedup-merge wrote $n rows, not $want"
n=$(wc -l <"$tmp/dmf.out")
[ "$n" = "$want" ] || fail "dedup-merge --first wrote $n rows, not $want"
cmp -s "$tmp/dm.out" "$tmp/dm32.out" ||
    fail "dedup-merge --memory 32M wrote other bytes than the default"
n=$(wc -l <"$tmp/mlr.out")
[ "$n" = "$want" ] || fail "mlr wrote $n rows, not $want"
n=$(sqlite-utils query "$tmp/su.db" 'select count(*) from t' --csv --no-headers 2>>"$log" | tr -d '\r')
[ "$n" = "$want" ] || fail "sqlite-utils upsert left $n rows, not $want"
# The same survivors in the same order: mlr keeps the first version of
# each id, as it first appears, like --first.
sed 's/^{"id":\([0-9]*\),"seq":\([0-9]*\),.*/\1 \2/' "$tmp/dmf.out" >"$tmp/a"
sed 's/^{"id": *\([0-9]*\), *"seq": *\([0-9]*\),.*/\1 \2/' "$tmp/mlr.out" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "dedup-merge --first and mlr keep other records"
rm -f "$tmp/mlr.out" "$tmp/dmf.out" "$tmp/dm32.out" "$tmp/dm.out" "$tmp/a" "$tmp/b" "$data"
rmdb "$tmp/su.db"

# --- 5M distinct keys under --memory 32M ------------------------------------

small=$tmp/keys.ndjson
say "generating $keys distinct keys"
"$tmp/dedupgen" small "$keys" >"$small" || fail "generator failed"
smallbytes=$(wc -c <"$small")
say "dedup-merge --memory 32M on $keys keys"
t0=$(now)
/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
    "$bindir/dedup-merge" -k id --memory 32M --tmpdir "$tmp" <"$small" \
    >"$tmp/keys.out" 2>>"$log" || fail "dedup-merge failed on $keys keys"
t1=$(now)
cap_ns=$((t1 - t0))
cap_rss=$(tail -n 1 "$tmp/ru" | cut -d ' ' -f 3)
cmp -s "$small" "$tmp/keys.out" || fail "dedup-merge changed distinct records"
rm -f "$small" "$tmp/keys.out"
leftover=$(find "$tmp" -name 'sluice-dedup.*' | wc -l)

# --- the report --------------------------------------------------------

mb=$(calc '%.1f' "$bytes / 1e6")
cpu=$(grep -m 1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')

row() {
	eval "ns=\$$2_ns cpus=\$$2_cpu rss=\$$2_rss"
	printf '  %-40s %8s %8s %8s %8s\n' "$1" \
	    "$(calc '%.2f' "$ns / 1e9")" \
	    "$(calc '%.1f' "$bytes / 1e6 / ($ns / 1e9)")" \
	    "$cpus" "$(calc '%.1f' "$rss / 1024")"
}

echo
echo "dedup-merge benchmark: $rows records, $mb MB of NDJSON (20 columns), $want distinct ids (each twice)"
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}; $(mlr --version), $(sqlite-utils --version | sed 's/, version / /')"
echo "dedup-merge best of $runs, the references best of $refruns"
echo
printf '  %-40s %8s %8s %8s %8s\n' "one row per id" seconds MB/s "CPU s" "RSS MB"
row "dedup-merge -k id (last wins)" dedup
row "dedup-merge -k id --first" dedup_first
row "dedup-merge -k id --memory 32M" dedup_32m
row "mlr --ijsonl --ojsonl head -n 1 -g id" mlr
row "sqlite-utils upsert --nl --pk id" sqlite_utils
echo "  (all $want rows; --first keeps the same records as mlr, in the same"
echo "  order; --memory 32M writes the same bytes as the default)"
echo
printf '  %-40s %8s %8s %8s\n' "$keys distinct keys, $(calc '%.1f' "$smallbytes / 1e6") MB" seconds MB/s "RSS MB"
printf '  %-40s %8s %8s %8s\n' "dedup-merge -k id --memory 32M" \
    "$(calc '%.2f' "$cap_ns / 1e9")" \
    "$(calc '%.1f' "$smallbytes / 1e6 / ($cap_ns / 1e9)")" \
    "$(calc '%.1f' "$cap_rss / 1024")"
echo "  (temporary files left: $leftover)"
echo
target "dedup-merge vs mlr head -g" \
    "$(calc '%.1f' "$mlr_ns / $dedup_ns")" '>=' 10 x
target "dedup-merge vs sqlite-utils upsert" \
    "$(calc '%.1f' "$sqlite_utils_ns / $dedup_ns")" '>=' 10 x
target "dedup-merge throughput" \
    "$(calc '%.0f' "$bytes / 1e6 / ($dedup_ns / 1e9)")" '>=' 100 " MB/s"
target "peak RSS, --memory 32M, $keys keys" \
    "$(calc '%.1f' "$cap_rss / 1024")" '<' 64 " MB"
exit 0
