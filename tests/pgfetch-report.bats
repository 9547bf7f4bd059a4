#!/usr/bin/env bats
# pgfetch says each failure exactly once (lib/README, "Errors"): a
# callback of the extractor or the paginator that fails fills a lib_err,
# the module returns it, and main.c reports it through cli; a stop that is
# no failure (--max-records) says nothing.  Library messages name no
# option: the caller adds "--records: " and "--on-error: ".

bats_require_minimum_version 1.5.0
load helper
load mock

setup_file() { mock_start; }
teardown_file() { mock_stop; }

setup() {
	sluice_setup pgfetch schema-infer
	mock_reset || fail "cannot reset the mock API"
	printf '{"a":1}\n42\n{"b":2}\n' > in.jsonl
}

@test "a file: --on-error fail on a line that is no object, said once" {
	run -65 --separate-stderr pgfetch in.jsonl
	assert_stderr "pgfetch: in.jsonl:2: not a JSON object"
	aborted 65 '{"a":1}'
	run -0 --separate-stderr pgfetch --on-error skip in.jsonl
	assert_stderr "$(printf '%s\n' 'pgfetch: in.jsonl:2: not a JSON object (skipped)' \
	    'pgfetch: 1 bad line skipped')"
	assert_output "$(printf '{"a":1}\n{"b":2}')"
}

@test "a file: a write error on stdout, said once" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	gen_records 50000 big.jsonl
	run -75 --separate-stderr bash -c 'pgfetch big.jsonl > /dev/full'
	assert_stderr "pgfetch: stdout: No space left on device"
	gzip -c big.jsonl > big.jsonl.gz
	run -75 --separate-stderr bash -c 'pgfetch big.jsonl.gz > /dev/full'
	assert_stderr "pgfetch: stdout: No space left on device"
	run -74 --separate-stderr bash -c 'pgfetch big.jsonl >&-'
	assert_stderr "pgfetch: stdout: Bad file descriptor"
}

@test "a file: --max-records stops it without a word" {
	run -0 --separate-stderr pgfetch --max-records 1 in.jsonl
	assert_stderr_empty
	assert_output '{"a":1}'
}

@test "an API page: a record that is no object under --on-error fail, said once" {
	run -65 --separate-stderr timeout 60 pgfetch --paginate page "$MOCK/page?n=30&junk=13"
	assert_stderr "pgfetch: $MOCK/page?n=30&junk=13:3: page 2: record 3 is not an object"
	aborted_records 65 1 10
}

@test "an API: a write error on stdout, said once, and no checkpoint written" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	run -75 --separate-stderr bash -c \
	    'timeout 60 pgfetch --paginate page "$1/page?n=30" > /dev/full' _ "$MOCK"
	assert_stderr "pgfetch: stdout: No space left on device"
	# With --checkpoint, each page is flushed before the checkpoint says
	# it was written: the flush fails, the checkpoint is not written.
	run -75 --separate-stderr bash -c 'timeout 60 pgfetch --paginate page \
	    --checkpoint cp "$1/page?n=30" > /dev/full' _ "$MOCK"
	assert_stderr "pgfetch: stdout: No space left on device"
	[[ ! -e cp ]] || fail "a checkpoint was written: $(cat cp)"
}

@test "an API: --max-records stops the walk without a word" {
	run -0 --separate-stderr timeout 60 pgfetch --paginate page --max-records 12 "$MOCK/page?n=30"
	assert_stderr_empty
	printf '%s\n' "$output" > got
	records_are 1 12 got
}

@test "option names come from the caller, the message as before" {
	echo '{"a":{"b":[{"x":1}]}}' > d.json
	run -64 --separate-stderr pgfetch --records 'a..b' d.json
	assert_stderr "pgfetch: --records: 'a..b': not a path"
	run -64 --separate-stderr pgfetch --on-error bogus in.jsonl
	assert_output ""
	[[ ${stderr%%$'\n'*} == "pgfetch: --on-error: 'bogus': expected fail, skip or quarantine=FILE" ]] ||
	    fail "stderr: $stderr"
	run -64 --separate-stderr schema-infer --on-error bogus in.jsonl
	[[ ${stderr%%$'\n'*} == "schema-infer: --on-error: 'bogus': expected fail, skip or quarantine=FILE" ]] ||
	    fail "stderr: $stderr"
}
