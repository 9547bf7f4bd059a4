#!/bin/sh
# Benchmark: sqlite-load adding columns one record at a time (issue 9,
# D15).  Prints the seconds for 500 and 2,000 new columns and their ratio:
# 4 is linear, 16 quadratic.  Never fails on a figure.
#
#	sh tests/bench/columns.sh [BIN_DIR]

set -u
LC_ALL=C
export LC_ALL
here=$(cd "$(dirname "$0")" && pwd)
bindir=$(cd "${1:-$here/../../bin}" && pwd) || exit 1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-columns.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

seconds() {
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "{\"c%d\":%d}\n", i, i }' \
	    >"$tmp/in.jsonl"
	rm -f "$tmp/db" "$tmp/db-wal" "$tmp/db-shm"
	start=$(date +%s.%N)
	"$bindir/sqlite-load" -q -t t "$tmp/db" "$tmp/in.jsonl" || exit 1
	end=$(date +%s.%N)
	echo "$start $end" | awk '{ printf "%.3f\n", $2 - $1 }'
}

s500=$(seconds 500)
s2000=$(seconds 2000)
echo "sqlite-load new columns: 500: ${s500}s, 2000: ${s2000}s" \
    "ratio $(echo "$s500 $s2000" | awk '{ printf "%.1f", $2 / $1 }')" \
    "(linear 4, quadratic 16)"
