# helper.bash: shared set-up for the sluice bats suites.
#
# Every suite does:
#	bats_require_minimum_version 1.5.0
#	load helper
#	setup() { sluice_setup PROGRAM...; }
#
# Each test runs in its own empty directory ($BATS_TEST_TMPDIR), with the
# freshly built bin/ first in PATH and LC_ALL=C.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

export LC_ALL=C
unset LANG LANGUAGE
PATH="$BATS_TEST_DIRNAME/../bin:$PATH"
export PATH

BIN="$(cd "$BATS_TEST_DIRNAME/../bin" 2>/dev/null && pwd)"
DATA="$BATS_TEST_DIRNAME/data"
SINGER="$DATA/singer"
DLT="$DATA/dlt"

# sluice_setup PROGRAM...: fail early, with a clear message, when a program
# under test has not been built; then move into the per-test directory.
sluice_setup() {
	local p
	for p in "$@"; do
		[[ -x "$BATS_TEST_DIRNAME/../bin/$p" ]] ||
		    fail "bin/$p is not built (run make)"
	done
	unset SLUICE_LOAD_ID
	cd "$BATS_TEST_TMPDIR" || fail "cannot cd to $BATS_TEST_TMPDIR"
}

# sql DB QUERY: run QUERY with the sqlite3 CLI (list mode, "|" separator,
# NULL printed as the empty string).
sql() {
	sqlite3 -batch -bail "$1" "$2"
}

# dump DB: the database as SQL text, for before/after comparisons.
dump() {
	sqlite3 -batch -bail "$1" .dump
}

# user_tables DB: names of the tables that are not sluice bookkeeping.
user_tables() {
	sql "$1" "SELECT name FROM sqlite_master WHERE type = 'table'
	    AND name NOT LIKE '\\_sluice\\_%' ESCAPE '\\' ORDER BY name"
}

# assert_no_user_tables DB: DB holds no user table, and reading it worked
# (a read that fails is a failure, not an empty list).
assert_no_user_tables() {
	local t
	t=$(user_tables "$1") || fail "cannot read $1"
	[[ -z $t ]] || fail "user tables in $1: $t"
}

# coltype DB TABLE COLUMN: the declared SQL type of a column ("" if none).
coltype() {
	sqlite3 -batch "$1" "SELECT type FROM pragma_table_info('$2')
	    WHERE name = '$3'"
}

# columns DB TABLE: the table's column names, comma-separated, in order,
# leaving out sluice's own metadata columns (_sluice_*).
columns() {
	sqlite3 -batch "$1" "SELECT group_concat(name, ',') FROM
	    (SELECT name FROM pragma_table_info('$2')
	    WHERE name NOT LIKE '\_sluice\_%' ESCAPE '\' ORDER BY cid)"
}

# coldefs DB TABLE: "name TYPE, name TYPE, ..." in order, without _sluice_*.
coldefs() {
	sqlite3 -batch "$1" "SELECT group_concat(name || ' ' || type, ', ') FROM
	    (SELECT name, type FROM pragma_table_info('$2')
	    WHERE name NOT LIKE '\_sluice\_%' ESCAPE '\' ORDER BY cid)"
}

# hexstr STRING: STRING's bytes in upper-case hex, like SQLite's hex().
hexstr() {
	printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n' | tr a-f A-F
}

# gen_records N FILE: N bare records with ids 1..N (awk, no shell loop).
gen_records() {
	awk -v n="$1" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "{\"id\":%d,\"name\":\"row %d\",\"v\":%d.5,\"ok\":true}\n", i, i, i
	}' > "$2"
}

# wait_for_file FILE SECONDS: poll until FILE exists, at most SECONDS.
wait_for_file() {
	local i tries=$(( $2 * 10 ))
	for (( i = 0; i < tries; i++ )); do
		[[ -e "$1" ]] && return 0
		sleep 0.1
	done
	return 1
}

# wait_pid_bounded PID SECONDS: wait for a background child, at most
# SECONDS; on timeout kill it (-9) and return 124.  Sets WAIT_STATUS.
wait_pid_bounded() {
	local i tries=$(( $2 * 10 ))
	for (( i = 0; i < tries; i++ )); do
		if ! kill -0 "$1" 2>/dev/null; then
			# Under bats' set -e a non-zero wait must not end the test.
			WAIT_STATUS=0
			wait "$1" || WAIT_STATUS=$?
			return 0
		fi
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null || true
	WAIT_STATUS=124
	return 124
}

# props_nonull: read a SCHEMA message on stdin, print its properties
# compactly with "null" removed from every type list.  For checks where
# only the logical types matter, not nullability.
props_nonull() {
	jq -c '.schema.properties
	    | map_values(.type |= (if type == "array" then map(select(. != "null")) else . end))'
}

# sanitized PROGRAM: bin/PROGRAM is an AddressSanitizer build (make
# check-asan): slower, and its allocator keeps freed memory in quarantine,
# so its peak RSS says nothing about the program's own bound.
sanitized() {
	[[ -n $1 ]] || fail "sanitized: which program?"
	ldd "$BIN/$1" 2>/dev/null | grep -q libasan
}

# db_snapshot DB: keep DB's dump (in DB.before.sql) for db_unchanged.
db_snapshot() {
	dump "$1" > "$1.before.sql"
}

# db_unchanged DB: DB's dump is byte for byte what db_snapshot kept: a
# failed or killed load left the destination exactly as it was.
db_unchanged() {
	[[ -e $1.before.sql ]] || fail "db_unchanged $1: no db_snapshot $1"
	dump "$1" > "$1.after.sql"
	assert_file_bytes "$1.after.sql" "$1.before.sql"
}

# command_line NAME: the command line a test runs program NAME with on
# records of table t (quiet; dedup-merge on key id; sqlite-load into ./db),
# short of its input files.  Unquoted, for word splitting.
command_line() {
	case $1 in
	pgfetch)		echo "pgfetch -q" ;;
	dedup-merge)		echo "dedup-merge -q -k id" ;;
	jsonl-normalize)	echo "jsonl-normalize -q -t t" ;;
	schema-infer)		echo "schema-infer -q -t t" ;;
	sqlite-load)		echo "sqlite-load -q -t t db" ;;
	cdc-decode)		echo "cdc-decode -q" ;;
	*)			fail "command_line: no program $1" ;;
	esac
}

# fetch ARG...: `pgfetch ARG...` must exit 0, within 60 s; its standard
# output is left in ./out and its standard error in ./err.
fetch() {
	local st=0
	timeout 60 pgfetch "$@" > out 2> err || st=$?
	[[ $st -eq 0 ]] || fail "pgfetch $* exited $st: $(head -c 2000 err)"
}

# fetch_ok ARG...: as fetch, and nothing at all on stderr.
fetch_ok() {
	fetch "$@"
	[[ ! -s err ]] || fail "pgfetch $*: unexpected stderr: $(head -c 2000 err)"
}

# aborted STATUS [LINE...]: the output of a failed `run --separate-stderr
# pgfetch ...` is exactly the LINEs (the records written before the error;
# none without LINE), each ending in a newline, then one SLUICE_ABORT line
# (sluice(5)) from pgfetch that carries STATUS and the error that stderr
# has as a line of its own, so a load downstream rolls back.  The lines
# before the SLUICE_ABORT line are left in ./got (./want: the LINEs).
aborted() {
	local st=$1 last err
	shift
	: > want
	[[ $# -eq 0 ]] || printf '%s\n' "$@" > want
	sed '$d' <<<"$output" > got
	assert_file_bytes got want
	last=$(tail -n 1 <<<"$output")
	assert_equal "$(jq -c '[.type, .program, .status]' <<<"$last")" \
	    "[\"SLUICE_ABORT\",\"pgfetch\",$st]"
	err=$(jq -r .error <<<"$last")
	# bats reads $stderr with `read`, which drops the trailing blanks of
	# its last line: only there may the line lack the error's.
	[[ $'\n'$stderr$'\n' == *$'\n'"pgfetch: $err"$'\n'* ]] ||
	    [[ $err != "${err%[[:blank:]]}" &&
	    ${stderr##*$'\n'} == "pgfetch: $(sed 's/[[:blank:]]*$//' <<<"$err")" ]] ||
	    fail "no stderr line"$'\n'"expected: pgfetch: $err"$'\n'"stderr  : $stderr"
}

# line N FILE: line N of FILE, without its newline.
line() {
	sed -n "${1}p" "$2"
}

# bats-assert 2.1.0 (Debian 12) has no stderr assertions: these check
# $stderr as set by `run --separate-stderr`.

# assert_stderr TEXT: stderr is exactly TEXT.
assert_stderr() {
	[[ "$stderr" == "$1" ]] ||
	    fail "stderr differs"$'\n'"expected: $1"$'\n'"actual  : $stderr"
}

# assert_stderr_empty: nothing at all on stderr.
assert_stderr_empty() {
	[[ -z "$stderr" ]] || fail "stderr is not empty: $stderr"
}

# assert_stderr_line LINE: one line of stderr is exactly LINE.
assert_stderr_line() {
	grep -Fxq -- "$1" <<<"$stderr" ||
	    fail "no stderr line"$'\n'"expected: $1"$'\n'"stderr  : $stderr"
}

# assert_stderr_partial TEXT: stderr contains TEXT.
assert_stderr_partial() {
	[[ "$stderr" == *"$1"* ]] ||
	    fail "stderr lacks"$'\n'"expected: $1"$'\n'"stderr  : $stderr"
}

# assert_stderr_regex ERE: stderr matches the extended regex ERE.
assert_stderr_regex() {
	[[ "$stderr" =~ $1 ]] ||
	    fail "stderr does not match"$'\n'"regex : $1"$'\n'"stderr: $stderr"
}

# assert_file_bytes FILE EXPECTED_FILE: byte-for-byte equal files.
assert_file_bytes() {
	cmp -s -- "$1" "$2" || fail "$(printf 'bytes differ: %s vs %s\n' "$1" "$2";
	    diff <(od -c -- "$2") <(od -c -- "$1") | head -20)"
}

# slow_feed FILE...: write the FILEs to stdout, then create ./fed and keep
# the pipe open until ./stop exists (at most 60 s), so that the reader is
# mid-load, inside its transaction, for as long as the test wants.
# Start it as `slow_feed f 3>&- | prog ... 3>&- &` (bats needs fd 3 closed
# in background jobs).
slow_feed() {
	cat -- "$@" || return
	: > fed
	local i
	for (( i = 0; i < 600; i++ )); do
		[[ -e stop ]] && return 0
		sleep 0.1
	done
}

# load_counts DB LOAD_ID TABLE: "inserted|updated|deleted" for TABLE in
# that load's _sluice_loads.tables JSON.
load_counts() {
	sql "$1" "SELECT json_extract(tables, '\$.\"$3\".inserted') || '|' ||
	    json_extract(tables, '\$.\"$3\".updated') || '|' ||
	    json_extract(tables, '\$.\"$3\".deleted')
	    FROM _sluice_loads WHERE load_id = '$2'"
}

# unchanged_count DB LOAD_ID TABLE: the rows of TABLE that load found
# unchanged (a merge leaves them as they are).
unchanged_count() {
	sql "$1" "SELECT json_extract(tables, '\$.\"$3\".unchanged')
	    FROM _sluice_loads WHERE load_id = '$2'"
}

# symids [FILE]: jsonl-normalize output with its row ids made readable and
# comparable: each 22-character id in a _sluice_id, _sluice_parent_id or
# _sluice_root_id member becomes "#1", "#2", ... in order of first
# appearance.  Everything else passes byte for byte; a value that is not a
# well-formed id is left as it is, so a comparison shows it.
symids() {
	awk '{
		s = $0
		out = ""
		while (match(s, /"_sluice_(id|parent_id|root_id)":"[^"]*"/)) {
			tok = substr(s, RSTART, RLENGTH)
			p = index(tok, ":\"")
			id = substr(tok, p + 2, length(tok) - p - 2)
			if (length(id) == 22 && id ~ /^[A-Za-z0-9_-]+$/) {
				if (!(id in sym))
					sym[id] = "#" (++n)
				tok = substr(tok, 1, p) "\"" sym[id] "\""
			}
			out = out substr(s, 1, RSTART - 1) tok
			s = substr(s, RSTART + RLENGTH)
		}
		print out s
	}' "$@"
}

# man_examples PAGE [SUBSECTION]: the .Dl lines of PAGE's EXAMPLES section
# that start with "$ ", as shell commands (roff escapes undone); with
# SUBSECTION, those of that .Ss only.  Without it, not those of a
# subsection "over SSH": they need a server (tests/pgfetch-sftp.bats runs
# them against its own).
man_examples() {
	awk -v want="${2:-}" '
	    /^\.Sh EXAMPLES/ { p = 1; ss = ""; next }
	    /^\.Sh/ { p = 0 }
	    /^\.Ss / { ss = substr($0, 5) }
	    p && /^\.Dl \$ / && (want != "" ? ss == want : ss !~ /over SSH/) {
		sub(/^\.Dl \$ /, ""); print
	    }' "$BATS_TEST_DIRNAME/../man/$1" |
	    sed -e 's/\\(dq/"/g' -e 's/\\e/\\/g' -e 's/\\&//g'
}

# drop_file PATH EPOCH [LINE...]: PATH holds the LINEs and was modified at
# EPOCH seconds (a partner's file landing in a drop directory).
drop_file() {
	local path=$1 epoch=$2
	shift 2
	printf '%s\n' "$@" > "$path"
	touch -d "@$epoch" "$path"
}
