#!/bin/sh
# Benchmarks for pgfetch over HTTP, against tests/mockapi.py on 127.0.0.1
# and against curl(1) measured in the same run (see tests/bench/README.md).
#
#	sh tests/bench/pgfetch.sh [BIN_DIR]
#
# BIN_DIR holds pgfetch (default: ../../bin from here); it must know
# --parallel.
# Environment: BENCH_RUNS (3), BENCH_HTTP_ROWS (390000 rows of gen.c, about
# 200 MB), TMPDIR.
#
# a) 200 pages of 100 records, 20 ms of latency a page: pgfetch
#    sequential vs --parallel 8 (target >= 6x);
# b) the same sequential pgfetch vs a shell loop of `curl -s` over the
#    same pages (target >= 1x);
# c) a large JSON Lines file from the mock's --root: pgfetch --format jsonl
#    vs `curl -s URL > /dev/null` (target >= 0.5x curl's rate), and
#    pgfetch's peak RSS (target <= 64 MB).
#
# Figures are printed as ratios with their targets; a target missed prints
# "BELOW TARGET" but never fails the run.  Exit 1 only when a tool is
# missing or a command fails (or gives the wrong records).
#
# Results live in variables named by eval (seq_ns, pgfile_rss...), and the
# do_/prep_ functions are called by name:
# shellcheck disable=SC2154,SC2317

set -u
LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
bindir=${1:-$here/../../bin}
runs=${BENCH_RUNS:-3}
httprows=${BENCH_HTTP_ROWS:-390000}

# The paginated API: $pages pages of $per records, $latency ms each.
pages=200
per=100
latency=20
par=8
nrec=$((pages * per))

# Dependencies: name the Debian packages, do not install them.
missing=
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
[ -x /usr/bin/time ] || missing="$missing time"
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
need_tools "$missing"
bindir=$(bin_dir "$bindir") || exit 1
pgfetch=$bindir/pgfetch
[ -x "$pgfetch" ] || die "$pgfetch: not found (run make first)"
"$pgfetch" --help 2>/dev/null | grep -q -e '--parallel' ||
    die "$pgfetch has no --parallel: build a newer pgfetch"

bench_begin pgbench

cc -O2 -o "$tmp/gen" "$here/gen.c" 2>>"$log" || fail "cannot build gen.c"

# --- the mock API ------------------------------------------------------

# On a free port of 127.0.0.1, which it prints first; --lifetime bounds it
# even if this script is killed with SIGKILL, the trap kills it otherwise.
mkdir "$tmp/root" || fail "cannot create $tmp/root"
python3 "$here/../mockapi.py" --root "$tmp/root" \
    --lifetime $((600 + 120 * runs)) >"$tmp/mock.port" 2>"$tmp/mock.log" &
server_pid=$!
port=
i=0
while [ "$i" -lt 100 ]; do
	port=$(head -n 1 "$tmp/mock.port" 2>/dev/null)
	case $port in
	'' | *[!0-9]*) port= ;;
	*) break ;;
	esac
	kill -0 "$server_pid" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
[ -n "$port" ] || fail "tests/mockapi.py did not start: $(cat "$tmp/mock.log")"
url=http://127.0.0.1:$port
i=0
until curl -sf -o /dev/null "$url/"; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || fail "tests/mockapi.py does not answer at $url"
	sleep 0.1
done
pageurl="$url/page?n=$nrec&per=$per&latency=$latency"

# /usr/bin/time writes "user sys maxrss" as its last line into $tmp/ru
# (a line before it says so when the command failed).
TIMEFMT='%U %S %M'

# lines FILE: its number of lines, digits only.
lines() {
	wc -l <"$1" | tr -d ' '
}

# a) and b): the paginated API.
do_seq() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    "$pgfetch" --paginate page "$pageurl" >"$tmp/seq.out" 2>>"$log"
}
prep_seq() {
	rm -f "$tmp/seq.out"
}
check_seq() {
	n=$(lines "$tmp/seq.out")
	[ "$n" = "$nrec" ] || fail "pgfetch wrote $n records, not $nrec"
}
do_par() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    "$pgfetch" --paginate page --parallel "$par" "$pageurl" \
	    >"$tmp/par.out" 2>>"$log"
}
prep_par() {
	rm -f "$tmp/par.out"
}
check_par() {
	n=$(lines "$tmp/par.out")
	[ "$n" = "$nrec" ] ||
	    fail "pgfetch --parallel $par wrote $n records, not $nrec"
	cmp -s "$tmp/seq.out" "$tmp/par.out" ||
	    fail "pgfetch --parallel $par wrote other bytes than sequential"
}
# shellcheck disable=SC2016
do_curlloop() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" sh -c '
	    for i in $(seq 1 "$2"); do
		curl -s "$1&page=$i" || exit 1
	    done >/dev/null' sh "$pageurl" "$pages" 2>>"$log"
}
prep_curlloop() {
	:
}
check_curlloop() {
	:
}

# c): the big file.
do_pgfile() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    "$pgfetch" --format jsonl "$url/files/big.jsonl" >/dev/null 2>>"$log"
}
prep_pgfile() {
	:
}
check_pgfile() {
	:
}
do_curlfile() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    curl -s "$url/files/big.jsonl" >/dev/null 2>>"$log"
}
prep_curlfile() {
	:
}
check_curlfile() {
	:
}
do_pglocal() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" \
	    "$pgfetch" --format jsonl "$big" >/dev/null 2>>"$log"
}
prep_pglocal() {
	:
}
check_pglocal() {
	:
}

# --- a) and b): pages ----------------------------------------------------

measure seq
measure par
measure curlloop
rm -f "$tmp/seq.out" "$tmp/par.out"

# --- c): one big JSON Lines file ----------------------------------------

big=$tmp/root/big.jsonl
say "generating $httprows rows"
"$tmp/gen" "$httprows" >"$big" || fail "gen failed"
bytes=$(wc -c <"$big" | tr -d ' ')
biglines=$(lines "$big")
cat "$big" >/dev/null	# Warm the page cache for everyone alike.

measure pgfile
measure curlfile

measure pglocal

# Not timed: the records must all arrive, and as pgfetch writes them from
# the local file.  (sh has no pipefail: the exit status goes by a file.)
say "checking pgfetch's records from $url/files/big.jsonl"
"$pgfetch" --format jsonl "$url/files/big.jsonl" >"$tmp/pg.out" 2>>"$log" ||
    fail "pgfetch failed on $url/files/big.jsonl"
n=$(lines "$tmp/pg.out")
[ "$n" = "$biglines" ] ||
    fail "pgfetch wrote $n records from $url/files/big.jsonl, not $biglines"
sum_http=$(cksum <"$tmp/pg.out")
rm -f "$tmp/pg.out"
echo 1 >"$tmp/pg.rc"
sum_file=$({
	"$pgfetch" --format jsonl "$big" 2>>"$log"
	echo $? >"$tmp/pg.rc"
} | cksum)
[ "$(cat "$tmp/pg.rc")" = 0 ] || fail "pgfetch failed on $big"
filecheck="same bytes as pgfetch on the local file"
if [ "$sum_http" != "$sum_file" ]; then
	filecheck="DIFFERS from pgfetch on the local file"
	say "warning: pgfetch's output over HTTP differs from the local file's"
fi
rm -f "$big"

# --- the report --------------------------------------------------------

mb=$(calc '%.1f' "$bytes / 1e6")
cpu=$(grep -m 1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')

# row LABEL NAME UNITS: seconds, UNITS a second, CPU seconds, RSS MB.
row() {
	eval "ns=\$$2_ns cpus=\$$2_cpu rss=\$$2_rss"
	printf '  %-38s %8s %8s %8s %8s\n' "$1" \
	    "$(calc '%.2f' "$ns / 1e9")" \
	    "$(calc '%.1f' "$3 / ($ns / 1e9)")" \
	    "$cpus" "$(calc '%.1f' "$rss / 1024")"
}

echo
echo "pgfetch benchmark: tests/mockapi.py on 127.0.0.1, best of $runs"
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}; $(curl --version | head -n 1 | cut -d ' ' -f 1-2), $(python3 --version)"
echo
echo "paginated API: $pages pages of $per records, $latency ms a page"
echo
printf '  %-38s %8s %8s %8s %8s\n' "paginate" seconds pages/s "CPU s" "RSS MB"
row "pgfetch --paginate page" seq "$pages"
row "pgfetch --paginate page --parallel $par" par "$pages"
row "for i in ...; do curl -s URL&page=\$i" curlloop "$pages"
echo "  ($nrec records, the same bytes sequential and parallel)"
echo "  (latency alone: $(calc '%.2f' "$pages * $latency / 1e3") s one page at a time, $(calc '%.2f' "int(($pages + $par - 1) / $par) * $latency / 1e3") s $par at a time)"
echo "  (curl loop: CPU of the shell and its $pages curl processes)"
echo
echo "streaming: $mb MB of JSON Lines (gen.c, $biglines rows), one GET"
echo
printf '  %-38s %8s %8s %8s %8s\n' "GET /files/big.jsonl" seconds MB/s "CPU s" "RSS MB"
row "pgfetch --format jsonl URL" pgfile "$bytes / 1e6"
row "curl -s URL > /dev/null" curlfile "$bytes / 1e6"
row "pgfetch --format jsonl FILE (no HTTP)" pglocal "$bytes / 1e6"
echo "  ($biglines records, $filecheck)"
echo
echo "references (no target): where the time goes"
printf '  %-44s %sx\n' "latency floor vs pgfetch, sequential" \
    "$(calc '%.2f' "$pages * $latency * 1e6 / $seq_ns")"
printf '  %-44s %sx\n' "latency floor vs pgfetch --parallel $par" \
    "$(calc '%.2f' "int(($pages + $par - 1) / $par) * $latency * 1e6 / $par_ns")"
printf '  %-44s %sx\n' "pgfetch over HTTP vs pgfetch on the file" \
    "$(calc '%.2f' "$pglocal_ns / $pgfile_ns")"
echo
target "pgfetch --parallel $par vs sequential" \
    "$(calc '%.1f' "$seq_ns / $par_ns")" '>=' 6 x
target "pgfetch vs a curl -s loop, sequential pages" \
    "$(calc '%.2f' "$curlloop_ns / $seq_ns")" '>=' 1 x
target "pgfetch vs curl -s, streaming MB/s" \
    "$(calc '%.2f' "$curlfile_ns / $pgfile_ns")" '>=' 0.5 x
target "pgfetch peak RSS, streaming $mb MB" \
    "$(calc '%.1f' "$pgfile_rss / 1024")" '<=' 64 " MB"
exit 0
