#!/usr/bin/env bats
# Input framing across files and across the batches that the parsing
# threads (lib/lines.c) cut: order, line numbers and error placement must
# be exactly those of a single sequential reader.

bats_require_minimum_version 1.5.0
load helper

setup() { sluice_setup schema-infer sqlite-load; }

# seq_records FROM TO: {"i":N,"s":"..."} lines, long enough to span batches.
seq_records() {
	awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i <= b; i++)
	    printf "{\"i\":%d,\"s\":\"%s\"}\n", i, sprintf("%040d", i) }'
}

@test "records of several files come out in input order, across batches" {
	seq_records 1 30000 > a.jsonl
	seq_records 30001 60000 > b.jsonl
	run -0 --separate-stderr schema-infer -q a.jsonl - b.jsonl < /dev/null
	assert_equal "$(jq -r 'select(.type == "RECORD") | .record.i' <<<"$output" | tr '\n' ' ')" \
	    "$(seq 1 60000 | tr '\n' ' ')"
}

@test "a bad line deep in the second file: its own file:line, output up to it" {
	seq_records 1 30000 > a.jsonl
	{ seq_records 1 24999; echo '{"i":'; seq_records 25001 30000; } > b.jsonl
	run -65 --separate-stderr schema-infer -q a.jsonl b.jsonl
	assert_stderr_regex '^schema-infer: b\.jsonl:25000: invalid JSON'
	assert_equal "$(grep -c '"type":"RECORD"' <<<"$output")" 54999
	assert_equal "$(tail -n 1 <<<"$output" | jq -r .type)" SLUICE_ABORT
}

@test "sqlite-load: skip over several files counts every line once" {
	{ seq_records 1 20000; echo 'oops'; seq_records 20001 40000; } > a.jsonl
	{ echo '[1]'; seq_records 40001 50000; } > b.jsonl
	run -0 --separate-stderr sqlite-load -t t --on-error skip --stats st.json db a.jsonl b.jsonl
	assert_stderr_regex '^sqlite-load: a\.jsonl:20001: invalid JSON.*\(skipped\)'
	assert_stderr_regex 'b\.jsonl:1: not a JSON object'
	assert_equal "$(sql db 'SELECT count(*), min(i), max(i), count(DISTINCT i) FROM t')" "50000|1|50000|50000"
	assert_equal "$(jq -c '{lines,records,errors,skipped}' st.json)" \
	    '{"lines":50002,"records":50000,"errors":2,"skipped":2}'
}

@test "sqlite-load: a missing second file exits 66 and loads nothing" {
	seq_records 1 20000 > a.jsonl
	run -66 --separate-stderr sqlite-load -t t db a.jsonl missing.jsonl
	assert_stderr_regex '^sqlite-load: missing\.jsonl: No such file or directory'
	assert_no_user_tables db
}

@test "a line longer than --max-line-bytes in the middle of a big input" {
	{ seq_records 1 20000; awk 'BEGIN { printf "{\"s\":\""; for (i = 0; i < 5000; i++) printf "x"; print "\"}" }'; seq_records 20002 30000; } > a.jsonl
	run -0 --separate-stderr schema-infer -q --max-line-bytes 4K --on-error quarantine=q.jsonl a.jsonl
	assert_equal "$(grep -c '"type":"RECORD"' <<<"$output")" 29999
	assert_equal "$(jq -c '{line, error}' q.jsonl)" '{"line":20001,"error":"line longer than 4096 bytes"}'
}
