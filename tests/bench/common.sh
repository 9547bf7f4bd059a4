# tests/bench/common.sh - what the benchmark scripts share: messages,
# arithmetic, the clock and the target lines.  Sourced, after $log (the
# file that collects the commands' stderr) is known to the caller.
# shellcheck shell=sh

say() {
	printf 'bench: %s\n' "$*" >&2
}

die() {
	say "$*"
	exit 1
}

fail() {
	say "$*"
	if [ -s "$log" ]; then
		say "last lines of stderr:"
		tail -n 20 "$log" >&2
	fi
	exit 1
}

# Arithmetic in awk: sh has integers only.
calc() {
	awk "BEGIN { printf \"$1\", $2 }"
}

# now: nanoseconds.
now() {
	date +%s%N
}

# target LABEL VALUE OP LIMIT UNIT: one check line.
target() {
	if awk "BEGIN { exit !($2 $3 $4) }"; then
		verdict=OK
	else
		verdict="BELOW TARGET"
	fi
	printf '%s: %s%s (target %s %s%s) %s\n' "$1" "$2" "$5" "$3" "$4" "$5" \
	    "$verdict"
}

# rmdb DB: a database and its WAL, shm and journal files.
rmdb() {
	rm -f "$1" "$1-wal" "$1-shm" "$1-journal"
}
