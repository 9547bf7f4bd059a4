bats_require_minimum_version 1.5.0
# The exit statuses of sluice(7)'s table, row by row, for each program that
# can give them (issue 9, D18 and D24); and the table against the code and
# the tests: every status it lists is exercised by some test, every status
# constant the code uses is listed.  The HTTP rows of pgfetch (69, 75, 77)
# are tested in pgfetch-http.bats; the side files in sidefiles.bats.

load helper

PROGRAMS="pgfetch dedup-merge jsonl-normalize schema-infer sqlite-load cdc-decode"

setup() {
	# shellcheck disable=SC2086
	sluice_setup $PROGRAMS
	printf '%s\n' '{"id":1,"a":"x"}' '{"id":2,"a":"y"}' > good.jsonl
	printf '%s\n' '{"id":1,"a":"x"}' '{"id":2,"a":' > bad.jsonl
	printf '%s\n' '{"type":"STATE","value":{"n":1}}' > state.singer
	printf '%s\n' '{"action":"B","lsn":"0/16","nextlsn":"0/17"}' \
	    '{"action":"I","lsn":"0/15","schema":"public","table":"t","columns":[{"name":"id","type":"integer","value":1}],"pk":[{"name":"id","type":"integer"}]}' \
	    '{"action":"C","lsn":"0/16","nextlsn":"0/17"}' > wal2json.json
}

# data NAME: an input whose processing writes to stdout.
data() {
	case $1 in
	sqlite-load)	echo state.singer ;;
	cdc-decode)	echo wal2json.json ;;
	*)		echo good.jsonl ;;
	esac
}

# expect STATUS NAME ARG...: NAME's command with ARG... exits STATUS and
# says why on stderr as "NAME: ...".
expect() {
	local want=$1 name=$2
	shift 2
	# shellcheck disable=SC2046
	run --separate-stderr $(command_line "$name") "$@"
	[[ $status -eq $want ]] || fail "$name $*: exit $status, not $want: $stderr"
	assert_stderr_regex "^$name: "
}

# ---------------------------------------------------------------------------
# The table against the code and the tests.

# table_statuses: the statuses of sluice(7)'s EXIT STATUS table.
table_statuses() {
	sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$BATS_TEST_DIRNAME/../man/sluice.7" |
	    sed -n 's/^\.It \([0-9][0-9]*\) Ta .*/\1/p'
}

@test "sluice(7)'s exit table lists every status constant that cmd/ and lib/ use" {
	local statuses names name value
	statuses=$(table_statuses)
	[[ -n $statuses ]] || fail "no table found in sluice(7)"
	names=$(grep -ohE '\bEX(IT)?_[A-Z]+\b' "$BATS_TEST_DIRNAME"/../cmd/*/*.[ch] \
	    "$BATS_TEST_DIRNAME"/../lib/*.[ch] | sort -u)
	[[ -n $names ]] || fail "no status constant found in the code"
	for name in $names; do
		[[ $name == EX__* ]] && continue
		value=$(printf '#include <sysexits.h>\n#include "exitcodes.h"\n%s\n' "$name" |
		    cpp -P -I "$BATS_TEST_DIRNAME/../lib" - | tr -d ' \n')
		[[ $value =~ ^[0-9]+$ ]] || fail "$name: not a number: $value"
		grep -qx "$value" <<<"$statuses" ||
		    fail "$name ($value) is used in the code but not in sluice(7)'s table"
	done
	# And the loader's and filters' shared ones, at least.
	for value in 0 64 65 66 69 70 71 73 74 75 77 129 130 141 143; do
		grep -qx "$value" <<<"$statuses" || fail "$value is not in the table"
	done
}

@test "every status of sluice(7)'s exit table is exercised by a test" {
	local s
	for s in $(table_statuses); do
		case $s in
		# A bug, and running out of memory or threads: no input can
		# give them, so no test can ask for them.
		70|71) continue ;;
		esac
		grep -qE "run -$s( |$)|-eq $s( |\\]|$)|WAIT_STATUS\"? \"?$s\"?( |$)|(expect|side_fails|side_before_output|signalled_with) $s " \
		    "$BATS_TEST_DIRNAME"/*.bats || fail "no test gives exit status $s"
	done
	# The rows that only HTTP gives are tested against the mock API.
	for s in 69 77; do
		grep -qE "run -$s " "$BATS_TEST_DIRNAME/pgfetch-http.bats" ||
		    fail "no test of pgfetch-http.bats gives $s"
	done
}

# ---------------------------------------------------------------------------
# 64: usage.

@test "64: a bad option, in every program" {
	local p
	for p in $PROGRAMS; do
		expect 64 "$p" --no-such-option
		assert_output ""
	done
}

# 65: bad data, named by file and line.

@test "65: a bad line under --on-error fail, in every program" {
	local p
	# cdc-decode's events: a good one, then one cut short.
	{ sed -n 1p wal2json.json; echo '{"action":"I","lsn":'; } > bad-events.jsonl
	for p in $PROGRAMS; do
		if [[ $p == cdc-decode ]]; then
			expect 65 "$p" bad-events.jsonl
			assert_stderr_partial "bad-events.jsonl:2: "
		else
			expect 65 "$p" bad.jsonl
			assert_stderr_partial "bad.jsonl:2: "
		fi
		[[ $p == sqlite-load ]] && continue
		assert_equal "$(jq -c '[.type, .status]' <<<"${lines[-1]}")" '["SLUICE_ABORT",65]'
	done
}

# 66: an input that cannot be opened.

@test "66: an input file that does not exist, in every program" {
	local p
	for p in $PROGRAMS; do
		expect 66 "$p" no-such-file.jsonl
		assert_stderr_partial "no-such-file.jsonl"
	done
}

# 73: an output that cannot be created, before any output.

@test "73: --stats in a directory that does not exist, in every program" {
	local p
	for p in $PROGRAMS; do
		expect 73 "$p" --stats /nonexistent/dir/st.json "$(data "$p")"
		assert_stderr_partial "$p: /nonexistent/dir/st.json: No such file or directory"
	done
}

@test "73: sqlite-load's database in a directory that does not exist" {
	run -73 --separate-stderr sqlite-load -q -t t /nonexistent/dir/db good.jsonl
}

# 74: a read or write error other than a full disk.

@test "74: an input that cannot be read (a directory), in each program that reads NDJSON" {
	local p
	mkdir indir
	for p in dedup-merge jsonl-normalize schema-infer sqlite-load; do
		expect 74 "$p" indir
		assert_stderr_partial "indir: read error: Is a directory"
	done
}

@test "74: a filter whose input cannot be read ends its output with SLUICE_ABORT" {
	local p
	mkdir indir
	for p in dedup-merge jsonl-normalize schema-infer; do
		expect 74 "$p" indir
		assert_equal "$(jq -c '[.type, .status]' <<<"${lines[-1]}")" '["SLUICE_ABORT",74]'
	done
}

@test "74: data to a closed standard output, in every program" {
	local p
	for p in $PROGRAMS; do
		# shellcheck disable=SC2046
		run --separate-stderr bash -c '"$@" >&-' _ $(command_line "$p") "$(data "$p")"
		[[ $status -eq 74 ]] || fail "$p: exit $status, not 74: $stderr"
		assert_stderr_partial "$p: stdout: Bad file descriptor"
	done
}

@test "74: --help and --version to a closed standard output, in every program" {
	local p opt
	for p in $PROGRAMS; do
		for opt in --help --version; do
			run --separate-stderr bash -c '"$@" >&-' _ "$p" "$opt"
			[[ $status -eq 74 ]] || fail "$p $opt: exit $status, not 74: $stderr"
			assert_stderr "$p: stdout: Bad file descriptor"
		done
	done
}

@test "74: a closed standard output is not taken by a file the program opens" {
	# With fd 1 closed, the quarantine file, opened at the bad line, would
	# take fd 1 and receive the records as well.
	run --separate-stderr bash -c 'schema-infer -q -t t --on-error quarantine=q.jsonl < bad.jsonl >&-'
	[[ $status -eq 74 ]] || fail "exit $status, not 74: $stderr"
	assert_equal "$(jq -c '[.line, .input]' q.jsonl)" '[2,"{\"id\":2,\"a\":"]'
}

@test "74: a closed standard input, in every program that reads it" {
	local p i
	printf '%s\n' '{"id":1,"a":"x"}' | sqlite-load -q -t t db
	db_snapshot db
	for p in dedup-merge jsonl-normalize schema-infer sqlite-load; do
		# sqlite-load's 0 or 74 was a race (issue 9, D13): try a few times.
		for i in 1 2 3 4 5; do
			# shellcheck disable=SC2046
			run --separate-stderr bash -c '"$@" <&-' _ $(command_line "$p")
			[[ $status -eq 74 ]] || fail "$p, try $i: exit $status, not 74: $stderr"
			assert_stderr_partial "$p: stdin: read error: Bad file descriptor"
		done
	done
	db_unchanged db
}

# 75: a full disk is temporary.

@test "75: data to a full device, in every program" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	local p
	for p in $PROGRAMS; do
		# shellcheck disable=SC2046
		run --separate-stderr bash -c '"$@" >/dev/full' _ $(command_line "$p") "$(data "$p")"
		[[ $status -eq 75 ]] || fail "$p: exit $status, not 75: $stderr"
		assert_stderr_partial "$p: stdout: No space left on device"
	done
}

@test "75: --help and --version to a full device, in every program" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	local p opt
	for p in $PROGRAMS; do
		for opt in --help --version -V -h; do
			run --separate-stderr bash -c '"$@" >/dev/full' _ "$p" "$opt"
			[[ $status -eq 75 ]] || fail "$p $opt: exit $status, not 75: $stderr"
			assert_stderr "$p: stdout: No space left on device"
		done
	done
}

@test "0: --help and --version to a working output, in every program" {
	local p
	for p in $PROGRAMS; do
		run -0 --separate-stderr "$p" --help
		assert_output --partial "usage: $p"
		run -0 --separate-stderr "$p" --version
		assert_output --regexp "^$p \\(sluice\\) "
	done
}

# 129, 130, 143: stopped by a signal a program catches.

# signalled_with STATUS SIGNAL NAME: NAME reads a FIFO, gets a record, is
# sent SIGNAL; it dies by it (STATUS = 128 + its number) and, a filter,
# ends its output with SLUICE_ABORT of status 75.
signalled_with() {
	local want=$1 sig=$2 name=$3 pid
	mkfifo feed
	# shellcheck disable=SC2046
	$(command_line "$name") feed > out 2>/dev/null 3>&- &
	pid=$!
	exec 4>feed
	printf '%s\n' '{"id":5,"a":"w"}' >&4
	sleep 0.5
	kill -"$sig" "$pid"
	wait_pid_bounded "$pid" 30
	exec 4>&-
	assert_equal "$WAIT_STATUS" "$want"
	if [[ $name != sqlite-load ]]; then
		assert_equal "$(tail -n1 out | jq -c '[.type, .status, .error]')" \
		    '["SLUICE_ABORT",75,"interrupted by SIG'"$sig"'"]'
	fi
}

@test "129: SIGHUP, in the programs that catch it" {
	signalled_with 129 HUP schema-infer
	rm -f feed
	signalled_with 129 HUP dedup-merge
	rm -f feed
	signalled_with 129 HUP sqlite-load
}

@test "130: SIGINT, in the programs that catch it" {
	signalled_with 130 INT schema-infer
	rm -f feed
	signalled_with 130 INT dedup-merge
}

@test "143: SIGTERM, in the programs that catch it" {
	signalled_with 143 TERM schema-infer
	rm -f feed
	signalled_with 143 TERM dedup-merge
}

# An upstream abort: the reader takes its status.

@test "an upstream SLUICE_ABORT's status is passed on by every filter and the loader" {
	local p s
	for s in 69 75 77; do
		printf '{"type":"SLUICE_ABORT","program":"pgfetch","status":%d,"error":"x"}\n' "$s" > abort.singer
		for p in dedup-merge jsonl-normalize schema-infer sqlite-load; do
			expect "$s" "$p" abort.singer
		done
	done
}
