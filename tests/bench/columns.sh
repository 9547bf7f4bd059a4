#!/bin/sh
# Benchmark: sqlite-load adding columns one record at a time (issue 9,
# D15), against the same rows whose columns a SCHEMA declares up front,
# measured in the same run.  Prints the seconds of each and the ratios:
# 2,000 columns against 500 (4 is linear, 16 quadratic) and one a record
# against declared (1 is the floor).  Never fails on a figure.
#
#	sh tests/bench/columns.sh [BIN_DIR]

set -u
LC_ALL=C
export LC_ALL
here=$(cd "$(dirname "$0")" && pwd)
bindir=$(cd "${1:-$here/../../bin}" && pwd) || exit 1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-columns.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# n records, the i-th with column ci only; declared: a SCHEMA first.
input() {
	awk -v n="$1" -v declared="$2" 'BEGIN {
		if (declared) {
			printf "{\"type\":\"SCHEMA\",\"stream\":\"t\",\"key_properties\":[],\"schema\":{\"properties\":{"
			for (i = 0; i < n; i++)
				printf "%s\"c%d\":{\"type\":[\"null\",\"integer\"]}", i ? "," : "", i
			printf "}}}\n"
		}
		for (i = 0; i < n; i++)
			printf "{\"type\":\"RECORD\",\"stream\":\"t\",\"record\":{\"c%d\":%d}}\n", i, i
	}' >"$tmp/in.jsonl"
}

# Best of three, in seconds.
seconds() {
	input "$1" "$2"
	best=
	for run in 1 2 3; do
		rm -f "$tmp/db" "$tmp/db-wal" "$tmp/db-shm"
		start=$(date +%s.%N)
		"$bindir/sqlite-load" -q "$tmp/db" "$tmp/in.jsonl" || exit 1
		end=$(date +%s.%N)
		best=$(echo "$start $end ${best:-1e9}" |
		    awk '{ s = $2 - $1; printf "%.3f\n", s < $3 ? s : $3 }')
	done
	echo "$best"
}

s500=$(seconds 500 0)
s2000=$(seconds 2000 0)
d2000=$(seconds 2000 1)
echo "sqlite-load new columns: 500: ${s500}s, 2000: ${s2000}s" \
    "ratio $(echo "$s500 $s2000" | awk '{ printf "%.1f", $2 / ($1 > 0 ? $1 : 0.001) }')" \
    "(linear 4, quadratic 16); 2000 declared up front: ${d2000}s," \
    "one a record / declared $(echo "$d2000 $s2000" | awk '{ printf "%.2f", $2 / ($1 > 0 ? $1 : 0.001) }')"
