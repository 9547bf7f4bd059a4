#!/bin/sh
# Benchmarks for sluice: sqlite-load, schema-infer and jsonl-normalize
# against references measured in the same run (see tests/bench/README.md).
#
#	sh tests/bench/run.sh [BIN_DIR]
#
# BIN_DIR holds schema-infer, sqlite-load and jsonl-normalize (default:
# ../../bin from here).
# Environment: BENCH_ROWS (200000), BENCH_BIG_ROWS (2000000), BENCH_RIDES
# (200000), BENCH_BIG_RIDES (1000000), BENCH_RUNS (3), BENCH_RSS_SLACK_MB
# (5), TMPDIR.
#
# Figures are printed as ratios with their targets; a target missed prints
# "BELOW TARGET" but never fails the run.  Exit 1 only when a tool is
# missing or a command fails.
#
# Results live in variables named by eval (sqlite_load_ns, big_sl_rss...),
# and the do_/prep_ functions are called by name:
# shellcheck disable=SC2154,SC2317

set -u
LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
bindir=${1:-$here/../../bin}
rows=${BENCH_ROWS:-200000}
bigrows=${BENCH_BIG_ROWS:-2000000}
rides=${BENCH_RIDES:-200000}
bigrides=${BENCH_BIG_RIDES:-1000000}
runs=${BENCH_RUNS:-3}
slack=${BENCH_RSS_SLACK_MB:-5}

# Dependencies: name the Debian packages, do not install them.
missing=
command -v sqlite-utils >/dev/null 2>&1 || missing="$missing sqlite-utils"
command -v jq >/dev/null 2>&1 || missing="$missing jq"
command -v mlr >/dev/null 2>&1 || missing="$missing miller"
[ -x /usr/bin/time ] || missing="$missing time"
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
if command -v pkg-config >/dev/null 2>&1; then
	pkg-config --exists yajl || missing="$missing libyajl-dev"
	pkg-config --exists sqlite3 || missing="$missing libsqlite3-dev"
else
	missing="$missing pkg-config libyajl-dev libsqlite3-dev"
fi
need_tools "$missing"
bindir=$(bin_dir "$bindir") || exit 1
need_programs schema-infer sqlite-load jsonl-normalize

bench_begin loadbench

cc -O2 -o "$tmp/gen" "$here/gen.c" 2>>"$log" || fail "cannot build gen.c"
cc -O2 -o "$tmp/genrides" "$here/genrides.c" 2>>"$log" ||
    fail "cannot build genrides.c"
# shellcheck disable=SC2046
cc -O2 -o "$tmp/cloop" "$here/cloop.c" \
    $(pkg-config --cflags --libs yajl sqlite3) 2>>"$log" ||
    fail "cannot build cloop.c"
# shellcheck disable=SC2046
cc -O2 -o "$tmp/yparse" "$here/yparse.c" \
    $(pkg-config --cflags --libs yajl) 2>>"$log" ||
    fail "cannot build yparse.c"

# /usr/bin/time writes "user sys maxrss" as its last line into $tmp/ru
# (a line before it says so when the command failed).
TIMEFMT='%U %S %M'

do_sqlite_load() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    "$bindir/sqlite-load" "$tmp/sl.db" -t t <"$data" >/dev/null 2>>"$log"
}
prep_sqlite_load() {
	rmdb "$tmp/sl.db"
}
do_cloop() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    "$tmp/cloop" "$tmp/cl.db" <"$data" >/dev/null 2>>"$log"
}
prep_cloop() {
	rmdb "$tmp/cl.db"
}
do_sqlite_utils() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    sqlite-utils insert "$tmp/su.db" t "$data" --nl >/dev/null 2>>"$log"
}
prep_sqlite_utils() {
	rmdb "$tmp/su.db"
}
do_schema_infer() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    "$bindir/schema-infer" -t t <"$data" >/dev/null 2>>"$log"
}
prep_schema_infer() {
	:
}
do_jq() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    jq -c . <"$data" >/dev/null 2>>"$log"
}
prep_jq() {
	:
}
do_yparse() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    "$tmp/yparse" <"$data" >/dev/null 2>>"$log"
}
prep_yparse() {
	:
}

# The nested rides ($rdata).
do_normalize() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    "$bindir/jsonl-normalize" -t rides <"$rdata" >/dev/null 2>>"$log"
}
prep_normalize() {
	:
}
do_rjq() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    jq -c . <"$rdata" >/dev/null 2>>"$log"
}
prep_rjq() {
	:
}
do_mlr() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    mlr --ijsonl --ojsonl flatten <"$rdata" >/dev/null 2>>"$log"
}
prep_mlr() {
	:
}
do_ryparse() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    "$tmp/yparse" <"$rdata" >/dev/null 2>>"$log"
}
prep_ryparse() {
	:
}
# The whole pipeline under one /usr/bin/time: CPU is the sum of the three
# programs, RSS the largest of them.  A failed stage leaves a mark in
# e2e.fail, as sh has no pipefail.
# shellcheck disable=SC2016
do_e2e() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" sh -c '
	    { "$1/jsonl-normalize" -t rides <"$2" || echo jn >>"$3"; } |
	    { "$1/schema-infer" || echo si >>"$3"; } |
	    "$1/sqlite-load" "$4"' sh "$bindir" "$rdata" "$tmp/e2e.fail" \
	    "$tmp/e2e.db" >/dev/null 2>>"$log" && [ ! -s "$tmp/e2e.fail" ]
}
prep_e2e() {
	rmdb "$tmp/e2e.db"
	rm -f "$tmp/e2e.fail"
}
do_su_flatten() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    sqlite-utils insert "$tmp/suf.db" rides "$rdata" --nl --flatten \
	    >/dev/null 2>>"$log"
}
prep_su_flatten() {
	rmdb "$tmp/suf.db"
}

# query DB SQL: one row of results as CSV.
query() {
	sqlite-utils query "$1" "$2" --csv --no-headers 2>>"$log" | tr -d '\r'
}

# pipe TAG FILE: schema-infer | sqlite-load once, each side under
# /usr/bin/time; sets TAG_si_rss, TAG_sl_rss (KiB) and TAG_pipe_ns.
pipe() {
	say "pipeline schema-infer | sqlite-load on $2"
	rmdb "$tmp/p.db"
	echo 1 >"$tmp/si.rc"
	t0=$(now)
	{
		/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru.si" \
		    "$bindir/schema-infer" -t t <"$2" 2>>"$log"
		echo $? >"$tmp/si.rc"
	} | /usr/bin/time -f "$TIMEFMT" -o "$tmp/ru.sl" \
	    "$bindir/sqlite-load" "$tmp/p.db" >/dev/null 2>>"$log" ||
	    fail "sqlite-load failed in the pipeline"
	t1=$(now)
	[ "$(cat "$tmp/si.rc")" = 0 ] || fail "schema-infer failed in the pipeline"
	eval "$1_pipe_ns=$((t1 - t0))"
	eval "$1_si_rss=$(tail -n 1 "$tmp/ru.si" | cut -d ' ' -f 3)"
	eval "$1_sl_rss=$(tail -n 1 "$tmp/ru.sl" | cut -d ' ' -f 3)"
	n=$(query "$tmp/p.db" 'select count(*) from "t"')
	[ "$n" = "$3" ] || fail "pipeline loaded $n rows, not $3"
	rmdb "$tmp/p.db"
}

# cloop_rss TAG FILE: cloop alone once, the peak RSS of plain SQLite.
cloop_rss() {
	say "cloop on $2"
	rmdb "$tmp/cl.db"
	data=$2
	do_cloop || fail "cloop failed on $2"
	eval "$1_cl_rss=$(tail -n 1 "$tmp/ru" | cut -d ' ' -f 3)"
	rmdb "$tmp/cl.db"
}

# --- the small file: timings -------------------------------------------

data=$tmp/rows.ndjson
say "generating $rows rows"
"$tmp/gen" "$rows" >"$data" || fail "gen failed"
bytes=$(wc -c <"$data")
cat "$data" >/dev/null	# Warm the page cache for everyone alike.

measure sqlite_load
measure cloop
measure sqlite_utils
measure schema_infer
measure jq
measure yparse

# The three loads must agree; cloop and sqlite-load must store the same
# values (64-bit ids exact, booleans 0/1, text byte for byte).
check='select count(*), max("id"), min("id"), sum("seq"), sum("score"),
    printf("%.2f", total("amount")), sum(length("comment")),
    sum(length(cast("comment" as blob))), count("updated_at"),
    count("note"), count("balance"), sum("verified"), sum("active"),
    max("created_at"), max("birth_date") from "t"'
sl_check=$(query "$tmp/sl.db" "$check")
cl_check=$(query "$tmp/cl.db" "$check")
su_count=$(query "$tmp/su.db" 'select count(*) from "t"')
sl_count=${sl_check%%,*}
[ "$sl_count" = "$rows" ] || fail "sqlite-load loaded $sl_count rows, not $rows"
[ "$su_count" = "$rows" ] || fail "sqlite-utils loaded $su_count rows, not $rows"
datacheck="same data as cloop"
if [ "$sl_check" != "$cl_check" ]; then
	datacheck="DIFFERS from cloop"
	say "warning: sqlite-load's table differs from cloop's:"
	say "  sqlite-load: $sl_check"
	say "  cloop:       $cl_check"
fi
rmdb "$tmp/sl.db"
rmdb "$tmp/cl.db"
rmdb "$tmp/su.db"

# --- RSS: the same pipeline at 10x the rows ------------------------------

pipe small "$data" "$rows"
cloop_rss small "$data"
rm -f "$data"
big=$tmp/big.ndjson
say "generating $bigrows rows"
"$tmp/gen" "$bigrows" >"$big" || fail "gen failed"
bigbytes=$(wc -c <"$big")
pipe big "$big" "$bigrows"
cloop_rss big "$big"
rm -f "$big"

# --- nested rides: jsonl-normalize ---------------------------------------

rdata=$tmp/rides.jsonl
say "generating $rides nested rides"
"$tmp/genrides" "$rides" >"$rdata" || fail "genrides failed"
rbytes=$(wc -c <"$rdata")
# The rows the file normalizes to: "RIDES PASSENGERS STOPS".
rcounts=$("$tmp/genrides" -c "$rides") || fail "genrides -c failed"
cat "$rdata" >/dev/null

measure normalize
measure ryparse
measure rjq
measure mlr
measure e2e
measure su_flatten

# Every table must hold the rows genrides counted, and the 64-bit ride ids
# must arrive exact, as in sqlite-utils' table.
e2e_counts=$(for t in rides rides__passengers rides__stops; do
	query "$tmp/e2e.db" "select count(*) from \"$t\""
done | tr '\n' ' ' | sed 's/ $//')
[ "$e2e_counts" = "$rcounts" ] ||
    fail "pipeline loaded $e2e_counts rows (rides passengers stops), not $rcounts"
suf_count=$(query "$tmp/suf.db" 'select count(*) from "rides"')
[ "$suf_count" = "$rides" ] ||
    fail "sqlite-utils loaded $suf_count rides, not $rides"
e2e_max=$(query "$tmp/e2e.db" 'select max("ride_id") from "rides"')
suf_max=$(query "$tmp/suf.db" 'select max("ride_id") from "rides"')
ridecheck="ride ids exact"
if [ "$e2e_max" != "$suf_max" ]; then
	ridecheck="ride ids DIFFER from sqlite-utils'"
	say "warning: max(ride_id) is $e2e_max, sqlite-utils has $suf_max"
fi
rmdb "$tmp/e2e.db"
rmdb "$tmp/suf.db"

# RSS at 5x the rides, one run: the 200k figure is normalize_rss.
say "jsonl-normalize on $bigrides rides"
"$tmp/genrides" "$bigrides" >"$rdata" || fail "genrides failed"
bigrbytes=$(wc -c <"$rdata")
do_normalize || fail "jsonl-normalize failed on $bigrides rides"
big_jn_rss=$(tail -n 1 "$tmp/ru" | cut -d ' ' -f 3)
rm -f "$rdata"

# --- the report --------------------------------------------------------

mb=$(calc '%.1f' "$bytes / 1e6")
bigmb=$(calc '%.1f' "$bigbytes / 1e6")
cpu=$(grep -m 1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')

row() {
	# row LABEL NAME [BYTES]
	eval "ns=\$$2_ns cpus=\$$2_cpu rss=\$$2_rss"
	printf '  %-34s %8s %8s %8s %8s\n' "$1" \
	    "$(calc '%.2f' "$ns / 1e9")" \
	    "$(calc '%.1f' "${3:-$bytes} / 1e6 / ($ns / 1e9)")" \
	    "$cpus" "$(calc '%.1f' "$rss / 1024")"
}

rssrow() {
	# rssrow LABEL VAR
	eval "a=\$small_$2 b=\$big_$2"
	printf '  %-34s %10s %12s %+10.1f\n' "$1" \
	    "$(calc '%.1f' "$a / 1024")" "$(calc '%.1f' "$b / 1024")" \
	    "$(calc '%.1f' "($b - $a) / 1024")"
}

echo
echo "sluice benchmark: $rows rows, $mb MB of NDJSON (20 columns), best of $runs"
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}; sqlite $(pkg-config --modversion sqlite3), yajl $(pkg-config --modversion yajl), $(sqlite-utils --version | sed 's/, version / /'), $(jq --version)"
echo
printf '  %-34s %8s %8s %8s %8s\n' "load into SQLite" seconds MB/s "CPU s" "RSS MB"
row "sqlite-load DB -t t" sqlite_load
row "cloop (yajl + sqlite3, the limit)" cloop
row "sqlite-utils insert --nl" sqlite_utils
echo "  ($datacheck)"
echo
printf '  %-34s %8s %8s %8s %8s\n' "parse and pass through" seconds MB/s "CPU s" "RSS MB"
row "schema-infer -t t" schema_infer
row "yajl parse only (the floor)" yparse
row "jq -c ." jq
echo
printf '  %-34s %10s %12s %10s\n' "peak RSS, MB" "$rows rows" "$bigrows rows" difference
rssrow "schema-infer (| sqlite-load)" si_rss
rssrow "sqlite-load (schema-infer |)" sl_rss
rssrow "cloop alone (SQLite's own)" cl_rss
printf '  %-34s %10s %12s\n' "pipeline wall seconds" \
    "$(calc '%.2f' "$small_pipe_ns / 1e9")" "$(calc '%.2f' "$big_pipe_ns / 1e9")"
printf '  %-34s %10s %12s\n' "pipeline MB/s" \
    "$(calc '%.1f' "$bytes / 1e6 / ($small_pipe_ns / 1e9)")" \
    "$(calc '%.1f' "$bigbytes / 1e6 / ($big_pipe_ns / 1e9)")"
echo "  ($bigmb MB for $bigrows rows)"
echo
echo "nested rides: $rides rides, $(calc '%.1f' "$rbytes / 1e6") MB (objects, passengers and stops arrays), best of $runs"
echo "$(mlr --version), $(jq --version)"
echo
printf '  %-34s %8s %8s %8s %8s\n' "normalize or flatten" seconds MB/s "CPU s" "RSS MB"
row "jsonl-normalize -t rides" normalize "$rbytes"
row "yajl parse only (the floor)" ryparse "$rbytes"
row "jq -c ." rjq "$rbytes"
row "mlr --ijsonl --ojsonl flatten" mlr "$rbytes"
echo
printf '  %-34s %8s %8s %8s %8s\n' "load nested into SQLite" seconds MB/s "CPU s" "RSS MB"
row "normalize | infer | sqlite-load" e2e "$rbytes"
row "sqlite-utils insert --nl --flatten" su_flatten "$rbytes"
# shellcheck disable=SC2086
set -- $rcounts
echo "  (rows: rides $1, passengers $2, stops $3; $ridecheck)"
echo "  (sqlite-utils: $suf_count rows, the arrays kept as JSON text)"
echo "  (pipeline: CPU of the three programs summed, RSS the largest)"
echo
printf '  %-34s %10s %12s %10s\n' "peak RSS, MB" "$rides rides" "$bigrides rides" difference
printf '  %-34s %10s %12s %+10.1f\n' "jsonl-normalize -t rides" \
    "$(calc '%.1f' "$normalize_rss / 1024")" \
    "$(calc '%.1f' "$big_jn_rss / 1024")" \
    "$(calc '%.1f' "($big_jn_rss - $normalize_rss) / 1024")"
echo "  ($(calc '%.1f' "$bigrbytes / 1e6") MB for $bigrides rides)"
echo
echo "references (no target): how far the targets are from the floors"
printf '  %-34s %sx\n' "cloop vs sqlite-utils" \
    "$(calc '%.1f' "$sqlite_utils_ns / $cloop_ns")"
printf '  %-34s %sx\n' "yajl parse vs jq" \
    "$(calc '%.1f' "$jq_ns / $yparse_ns")"
printf '  %-34s %sx\n' "schema-infer vs yajl parse" \
    "$(calc '%.2f' "$yparse_ns / $schema_infer_ns")"
printf '  %-34s %sx\n' "jsonl-normalize vs yajl parse" \
    "$(calc '%.2f' "$ryparse_ns / $normalize_ns")"
printf '  %-34s %sx\n' "jsonl-normalize vs mlr flatten" \
    "$(calc '%.1f' "$mlr_ns / $normalize_ns")"
echo
target "sqlite-load vs sqlite-utils" \
    "$(calc '%.1f' "$sqlite_utils_ns / $sqlite_load_ns")" '>=' 10 x
target "sqlite-load vs cloop" \
    "$(calc '%.2f' "$cloop_ns / $sqlite_load_ns")" '>=' 0.7 x
target "schema-infer vs jq" \
    "$(calc '%.1f' "$jq_ns / $schema_infer_ns")" '>=' 10 x
target "schema-infer throughput" \
    "$(calc '%.0f' "$bytes / 1e6 / ($schema_infer_ns / 1e9)")" '>=' 150 " MB/s"
target "schema-infer RSS growth ${rows}->${bigrows} rows" \
    "$(calc '%.1f' "($big_si_rss - $small_si_rss) / 1024")" '<=' "$slack" " MB"
# SQLite's page cache (cache_size=-65536) is not full at the small size:
# what cloop grows is SQLite's, the rest is sqlite-load's own.
target "sqlite-load RSS growth ${rows}->${bigrows} rows, less cloop's" \
    "$(calc '%.1f' "($big_sl_rss - $small_sl_rss - $big_cl_rss + $small_cl_rss) / 1024")" \
    '<=' "$slack" " MB"
target "jsonl-normalize vs jq" \
    "$(calc '%.1f' "$rjq_ns / $normalize_ns")" '>=' 10 x
target "jsonl-normalize throughput" \
    "$(calc '%.0f' "$rbytes / 1e6 / ($normalize_ns / 1e9)")" '>=' 150 " MB/s"
target "normalize | infer | load vs sqlite-utils --flatten" \
    "$(calc '%.1f' "$su_flatten_ns / $e2e_ns")" '>=' 8 x
target "jsonl-normalize RSS growth ${rides}->${bigrides} rides" \
    "$(calc '%.1f' "($big_jn_rss - $normalize_rss) / 1024")" '<=' "$slack" " MB"
exit 0
