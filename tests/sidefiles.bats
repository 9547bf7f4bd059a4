bats_require_minimum_version 1.5.0
# Side files of the filters (--on-error quarantine=FILE, --stats FILE,
# schema-infer's --events FILE): opened before the first record, written
# with checked errors, made durable before success.  A filter that cannot
# keep one fails, ends its output with SLUICE_ABORT, and the loader
# downstream rolls back: the database is byte-identical to before
# (issue 9, D8).  A full disk is 75 (temporary), another write error 74,
# a file that cannot be created 73 (sluice(7), EXIT STATUS).

load helper

setup() {
	sluice_setup schema-infer dedup-merge jsonl-normalize pgfetch sqlite-load
	# Two good records around one bad line: the bad one is rejected.
	printf '%s\n' '{"id":2,"a":"y"}' '{"id":3,"a":' '{"id":4,"a":"z"}' > in.jsonl
	# The database a load must leave as it was.
	printf '%s\n' '{"id":1,"a":"x"}' | sqlite-load -q -t t db
	db_snapshot db
}

# limited CMD...: run CMD with every write to a regular file failing with
# EFBIG (a file size limit of 0, SIGXFSZ ignored); its stdout and stderr
# pass through pipes, which the limit does not touch.
limited() {
	{ (trap '' XFSZ; ulimit -f 0; exec "$@") 2>&1 1>&3 | cat >&2
	  echo "${PIPESTATUS[0]}" > rc; } 3>&1 | cat
	return "$(cat rc)"
}

# side_fails STATUS NAME ARG...: filter NAME with ARG... on in.jsonl exits
# STATUS, its output ends with a SLUICE_ABORT line that carries STATUS, it
# claims no quarantined line; piped into sqlite-load, the load fails with
# STATUS and the database is unchanged.
side_fails() {
	local want=$1 name=$2
	shift 2
	# shellcheck disable=SC2046
	run --separate-stderr $(command_line "$name") "$@" in.jsonl
	[[ $status -eq $want ]] || fail "$name $*: exit $status, not $want: $stderr"
	assert_stderr_regex "^$name: "
	[[ $stderr != *quarantined* ]] || fail "claims a quarantined line: $stderr"
	[[ -n $output ]] || fail "no output: no SLUICE_ABORT"
	jq -e --argjson s "$want" --arg p "$name" \
	    'select(.type == "SLUICE_ABORT" and .status == $s and .program == $p)' \
	    <<<"${lines[-1]}" >/dev/null ||
	    fail "the last line is no SLUICE_ABORT with status $want: ${lines[-1]}"

	run bash -c "$(command_line "$name")"' "$@" in.jsonl 2>/dev/null |
	    sqlite-load -q -t t db 2>/dev/null
	    echo "${PIPESTATUS[0]} ${PIPESTATUS[1]}"' _ "$@"
	assert_output "$want $want"
	db_unchanged db
}

# side_before_output STATUS NAME ARG...: as side_fails, and nothing but the
# abort was written: the side file failed before the first record.
side_before_output() {
	side_fails "$@"
	run --separate-stderr $(command_line "$2") "${@:3}" in.jsonl
	assert_equal "${#lines[@]}" 1
}

# --on-error quarantine=/dev/full: the rejected line cannot be kept.

@test "schema-infer --on-error quarantine=/dev/full: exit 75, SLUICE_ABORT, nothing loaded" {
	side_fails 75 schema-infer --on-error quarantine=/dev/full
}

@test "dedup-merge --on-error quarantine=/dev/full: exit 75, SLUICE_ABORT, nothing loaded" {
	side_fails 75 dedup-merge --on-error quarantine=/dev/full
}

@test "jsonl-normalize --on-error quarantine=/dev/full: exit 75, SLUICE_ABORT, nothing loaded" {
	side_fails 75 jsonl-normalize --on-error quarantine=/dev/full
}

@test "pgfetch --on-error quarantine=/dev/full: exit 75, SLUICE_ABORT, nothing loaded" {
	side_fails 75 pgfetch --on-error quarantine=/dev/full
}

# --stats /dev/full: the summary cannot be written, at the end.

@test "schema-infer --stats /dev/full: exit 75, SLUICE_ABORT, nothing loaded" {
	side_fails 75 schema-infer --on-error skip --stats /dev/full
}

@test "dedup-merge --stats /dev/full: exit 75, SLUICE_ABORT, nothing loaded" {
	side_fails 75 dedup-merge --on-error skip --stats /dev/full
}

@test "jsonl-normalize --stats /dev/full: exit 75, SLUICE_ABORT, nothing loaded" {
	side_fails 75 jsonl-normalize --on-error skip --stats /dev/full
}

@test "pgfetch --stats /dev/full: exit 75, SLUICE_ABORT, nothing loaded" {
	side_fails 75 pgfetch --on-error skip --stats /dev/full
}

# --stats in a directory that does not exist: fails before any output.

@test "schema-infer --stats /nonexistent/dir/x: exit 73 before any output" {
	side_before_output 73 schema-infer --on-error skip --stats /nonexistent/dir/x
}

@test "dedup-merge --stats /nonexistent/dir/x: exit 73 before any output" {
	side_before_output 73 dedup-merge --on-error skip --stats /nonexistent/dir/x
}

@test "jsonl-normalize --stats /nonexistent/dir/x: exit 73 before any output" {
	side_before_output 73 jsonl-normalize --on-error skip --stats /nonexistent/dir/x
}

@test "pgfetch --stats /nonexistent/dir/x: exit 73 before any output" {
	side_before_output 73 pgfetch --on-error skip --stats /nonexistent/dir/x
}

@test "--on-error quarantine=/nonexistent/dir/q: exit 73 before any output, in each filter" {
	local name
	for name in schema-infer dedup-merge jsonl-normalize pgfetch; do
		side_before_output 73 "$name" --on-error quarantine=/nonexistent/dir/q
	done
}

# schema-infer --events.

@test "schema-infer --events /dev/full: exit 75, SLUICE_ABORT, nothing loaded" {
	side_fails 75 schema-infer --on-error skip --events /dev/full
}

@test "schema-infer --events /nonexistent/dir/x: exit 73 before any output" {
	side_before_output 73 schema-infer --on-error skip --events /nonexistent/dir/x
}

# Write errors other than a full disk: 74.  A file size limit makes every
# write to a regular file fail with EFBIG (SIGXFSZ ignored), while stdout,
# a pipe, is not limited.

@test "a quarantine write error other than a full disk: exit 74, SLUICE_ABORT" {
	local name
	for name in schema-infer dedup-merge jsonl-normalize pgfetch; do
		# shellcheck disable=SC2046
		run --separate-stderr limited $(command_line "$name") --on-error quarantine=q.jsonl in.jsonl
		[[ $status -eq 74 ]] || fail "$name: exit $status, not 74: $stderr"
		assert_stderr_partial "$name: q.jsonl: File too large"
		[[ ${lines[-1]} == '{"type":"SLUICE_ABORT","program":"'"$name"'","status":74,'* ]] ||
		    fail "$name: the last line is not an abort with status 74: ${lines[-1]}"
	done
}

# --stats is written whole or not at all: a failed write leaves the
# previous summary as it was and no temporary file behind.

@test "--stats that cannot be written leaves the previous file intact: exit 74, SLUICE_ABORT" {
	local name
	for name in schema-infer dedup-merge jsonl-normalize pgfetch; do
		echo '{"previous":true}' > st.json
		# shellcheck disable=SC2046
		run --separate-stderr limited $(command_line "$name") --on-error skip --stats st.json in.jsonl
		[[ $status -eq 74 ]] || fail "$name: exit $status, not 74: $stderr"
		assert_stderr "$name: st.json: File too large"
		assert_equal "${lines[-1]}" '{"type":"SLUICE_ABORT","program":"'"$name"'","status":74,"error":"st.json: File too large"}'
		assert_equal "$(cat st.json)" '{"previous":true}'
		assert_equal "$(ls -A | grep -c tmp)" 0
	done
}

@test "--stats replaces the previous file and leaves no temporary file" {
	local name
	for name in schema-infer dedup-merge jsonl-normalize pgfetch; do
		echo '{"previous":true}' > st.json
		# shellcheck disable=SC2046
		run -0 --separate-stderr $(command_line "$name") --on-error skip --stats st.json in.jsonl
		assert_equal "$(jq -r '.program + " " + (.skipped | tostring)' st.json)" "$name 1"
		assert_equal "$(ls -A | grep -c tmp)" 0
	done
}

# The quarantine that works keeps the line, and the run succeeds.

@test "a quarantined line is in the file when the filter reports success" {
	local name
	for name in schema-infer dedup-merge jsonl-normalize pgfetch; do
		rm -f q.jsonl
		run -0 --separate-stderr $(command_line "$name" | sed 's/ -q//') --on-error quarantine=q.jsonl in.jsonl
		assert_stderr_partial "1 bad line quarantined in q.jsonl"
		assert_equal "$(jq -r .input q.jsonl)" '{"id":3,"a":'
	done
}

@test "no rejected line, no quarantine file; an unwritable one still fails first" {
	local name
	printf '%s\n' '{"id":2,"a":"y"}' > ok.jsonl
	for name in schema-infer dedup-merge jsonl-normalize pgfetch; do
		# shellcheck disable=SC2046
		run -0 --separate-stderr $(command_line "$name") --on-error quarantine=q.jsonl ok.jsonl
		[[ ! -e q.jsonl ]] || fail "$name: an empty quarantine file was left"
	done
}

# Signals that a filter catches end its output with SLUICE_ABORT too.

# signalled NAME: start filter NAME reading a FIFO into sqlite-load, feed it
# a record, stop the filter with SIGTERM; it dies by the signal, its output
# ends with SLUICE_ABORT and the load rolls back.
signalled() {
	local name=$1 fpid lpid
	mkfifo feed toload
	# shellcheck disable=SC2046
	$(command_line "$name") feed > toload 2>/dev/null 3>&- &
	fpid=$!
	tee out < toload | sqlite-load -q -t t db 2>/dev/null 3>&- &
	lpid=$!
	exec 4>feed
	printf '%s\n' '{"id":5,"a":"w"}' >&4
	sleep 0.5
	kill -TERM "$fpid"
	wait_pid_bounded "$fpid" 30
	exec 4>&-
	assert_equal "$WAIT_STATUS" 143
	wait_pid_bounded "$lpid" 30
	assert_equal "$WAIT_STATUS" 75
	assert_equal "$(tail -n1 out)" '{"type":"SLUICE_ABORT","program":"'"$name"'","status":75,"error":"interrupted by SIGTERM"}'
	db_unchanged db
}

@test "schema-infer stopped by SIGTERM: exit 143, SLUICE_ABORT, nothing loaded" {
	signalled schema-infer
}

@test "dedup-merge stopped by SIGTERM: exit 143, SLUICE_ABORT, nothing loaded" {
	signalled dedup-merge
}

# A run stopped before it began writes no --stats (issue 9, D20: it wrote
# "program":"(null)" and the system's uptime as seconds).

@test "pgfetch: a usage error after option parsing writes no --stats file" {
	run -64 --separate-stderr env -u SLUICE_NO_SUCH_VAR pgfetch --stats st.json --bearer-env SLUICE_NO_SUCH_VAR http://127.0.0.1:1/x
	assert_stderr_partial "SLUICE_NO_SUCH_VAR is not set"
	[[ ! -e st.json ]] || fail "a --stats file was written: $(cat st.json)"
}
