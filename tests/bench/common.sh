# tests/bench/common.sh - what the benchmark scripts share: messages,
# arithmetic, the clock, timing a command, and the target lines.  Sourced;
# the functions use the caller's $log (the commands' stderr), $tmp and
# $runs.
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

# need_tools LIST: with packages missing (" name name"), say how to
# install them and exit 1.
need_tools() {
	[ -z "$1" ] && return 0
	say "missing tools; install them with:"
	printf '\tapt-get install -y%s\n' "$1" >&2
	exit 1
}

# bin_dir DIR: the programs' directory as an absolute path; exit 1 when it
# is not there.
bin_dir() {
	[ -d "$1" ] || die "$1: no such directory (run make first)"
	(cd "$1" && pwd)
}

# need_programs PROG...: each built in $bindir, or the bench stops.
need_programs() {
	for p in "$@"; do
		[ -x "$bindir/$p" ] || die "$bindir/$p: not found (run make first)"
	done
}

# bench_begin NAME: a temporary directory, $tmp, removed at the end with
# the server whose pid is in $server_pid (if one was started) stopped
# first; $log collects the commands' stderr.
bench_begin() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-$1.XXXXXX") ||
	    die "cannot create a temporary directory"
	server_pid=
	trap bench_end EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	log=$tmp/stderr.log
	: >"$log"
}

bench_end() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
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

# measure NAME [RUNS]: RUNS times (default $runs), prep_NAME if the script
# has one, then do_NAME timed, then check_NAME if the script has one; keep
# the fastest run's wall time (NAME_ns), CPU seconds (NAME_cpu) and peak
# RSS in KiB (NAME_rss), from the "user sys maxrss" line /usr/bin/time left
# in $tmp/ru.
measure() {
	measure_runs=${2:-$runs}
	say "timing $1 ($measure_runs runs)"
	eval "$1_ns="
	i=0
	while [ "$i" -lt "$measure_runs" ]; do
		measure_once "$1" "$i"
		i=$((i + 1))
	done
}

# measure_alternating NAME...: like measure for each NAME, their runs taken
# in turn (A B A B ...), so that a machine whose speed drifts during the
# bench (a virtual machine's neighbours) weighs on each alike.
measure_alternating() {
	say "timing $* in turn ($runs runs each)"
	for name; do
		eval "${name}_ns="
	done
	i=0
	while [ "$i" -lt "$runs" ]; do
		for name; do
			measure_once "$name" "$i"
		done
		i=$((i + 1))
	done
}

# measure_once NAME I: run I of do_NAME, kept in NAME_ns, NAME_cpu and
# NAME_rss when it is the fastest yet.
measure_once() {
	if command -v "prep_$1" >/dev/null 2>&1; then
		"prep_$1"
	fi
	t0=$(now)
	"do_$1" || fail "$1 failed (run $(($2 + 1)))"
	t1=$(now)
	if command -v "check_$1" >/dev/null 2>&1; then
		"check_$1"
	fi
	ns=$((t1 - t0))
	eval "best=\$$1_ns"
	if [ -z "$best" ] || [ "$ns" -lt "$best" ]; then
		eval "$1_ns=$ns"
		last=$(tail -n 1 "$tmp/ru")
		eval "$1_cpu=$(echo "$last" |
		    awk '{ printf "%.2f", $1 + $2 }')"
		eval "$1_rss=$(echo "$last" | cut -d ' ' -f 3)"
	fi
}
