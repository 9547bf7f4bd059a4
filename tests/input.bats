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

# ---------------------------------------------------------------------------
# One rule for JSON text in every reader of every program (sluice(5)).

PROGRAMS="pgfetch dedup-merge jsonl-normalize schema-infer sqlite-load"

# each PROGRAM FILE: run PROGRAM as a pipeline stage would, on FILE.
each() {
	case $1 in
	pgfetch)	run --separate-stderr pgfetch "$2" ;;
	dedup-merge)	run --separate-stderr dedup-merge -k id "$2" ;;
	jsonl-normalize) run --separate-stderr jsonl-normalize -t t "$2" ;;
	schema-infer)	run --separate-stderr schema-infer -q "$2" ;;
	sqlite-load)	run --separate-stderr sqlite-load -t t "$1.db" "$2" ;;
	esac
}

# bad_line_everywhere WHAT BAD: a file whose line 2 is BAD (printf format)
# is bad data at line 2 for all five programs: exit 65, the line named,
# nothing of line 2 on stdout, nothing loaded.
bad_line_everywhere() {
	local p
	# shellcheck disable=SC2059
	{ printf '{"id":1,"s":"ok"}\n'; printf "$2\n"; printf '{"id":3,"s":"ok"}\n'; } > bad.jsonl
	for p in $PROGRAMS; do
		each "$p" bad.jsonl
		[[ $status -eq 65 ]] || fail "$p, $1: exit $status: $stderr"
		[[ $stderr =~ (^|$'\n')"$p: bad.jsonl:2: " ]] ||
		    fail "$p, $1: the line is not named: $stderr"
		grep -q '"id":2' <<<"$output" && fail "$p, $1: line 2 written: $output"
		grep -q '"id":3' <<<"$output" && fail "$p, $1: line 3 written: $output"
		if [[ $p == sqlite-load ]]; then
			assert_equal "$(user_tables sqlite-load.db)" ""
		fi
	done
}

@test "lone and mis-paired surrogate escapes are bad data in every program" {
	bad_line_everywhere 'lone high' '{"id":2,"s":"\\ud800"}'
	bad_line_everywhere 'two highs' '{"id":2,"s":"\\ud800\\ud800"}'
	bad_line_everywhere 'high, then no low' '{"id":2,"s":"\\ud888\\u1234"}'
	bad_line_everywhere 'lone low' '{"id":2,"s":"\\udc00"}'
	bad_line_everywhere 'high at the end' '{"id":2,"s":"x\\uDBFF"}'
	bad_line_everywhere 'in a name' '{"id":2,"\\ud800":1}'
}

@test "invalid UTF-8 is bad data in every program: overlong, CESU-8, past U+10FFFF" {
	bad_line_everywhere overlong '{"id":2,"s":"\300\257"}'
	bad_line_everywhere CESU-8 '{"id":2,"s":"\355\240\200"}'
	bad_line_everywhere 'past U+10FFFF' '{"id":2,"s":"\364\220\200\200"}'
	bad_line_everywhere 'in a name' '{"id":2,"\355\240\200":1}'
}

@test "form feed and vertical tab are not JSON whitespace, in every program" {
	bad_line_everywhere 'form feed' '{"id":2,"v": [\f]}'
	bad_line_everywhere 'vertical tab' '{"id":2,\v"v":1}'
	bad_line_everywhere 'form feed at the end' '{"id":2}\f'
}

@test "a surrogate pair, an escaped backslash and U+0000 pass every program whole" {
	local p
	printf '%s\n' '{"id":1,"s":"\ud83d\ude00","t":"\\ud800","u":"a\u0000b","k\u0000":2}' > ok.jsonl
	for p in pgfetch dedup-merge schema-infer; do
		each "$p" ok.jsonl
		[[ $status -eq 0 ]] || fail "$p: exit $status: $stderr"
		assert_equal "$(jq -c 'if .type == "RECORD" then .record else . end |
		    select(.id == 1) | [.s, .t, (.u | length), (.u | explode), .["k\u0000"]]' <<<"$output")" \
		    '["😀","\\ud800",3,[97,0,98],2]'
	done
	# A name holding U+0000 is the loader's to quote (sluice(5)): not here.
	printf '%s\n' '{"id":1,"s":"\ud83d\ude00","t":"\\ud800","u":"a\u0000b"}' > ok.jsonl
	each jsonl-normalize ok.jsonl
	assert_equal "$status" 0
	assert_equal "$(jq -c '.record | [.s, .t, (.u | explode)]' <<<"$output")" \
	    '["😀","\\ud800",[97,0,98]]'
	each sqlite-load ok.jsonl
	assert_equal "$status" 0
	assert_equal "$(sql sqlite-load.db "SELECT hex(s), t, length(CAST(u AS BLOB)) FROM t")" \
	    'F09F9880|\ud800|3'
}

@test "a byte-order mark before the first line of each input is dropped, in every program" {
	local p
	printf '\357\273\277{"id":1,"a":"x"}\n' > a.jsonl
	printf '\357\273\277{"id":2,"a":"y"}\n' > b.jsonl
	for p in $PROGRAMS; do
		case $p in
		pgfetch)	run --separate-stderr sh -c 'pgfetch a.jsonl && pgfetch b.jsonl' ;;
		dedup-merge)	run --separate-stderr dedup-merge -k id a.jsonl b.jsonl ;;
		jsonl-normalize) run --separate-stderr jsonl-normalize -t t a.jsonl b.jsonl ;;
		schema-infer)	run --separate-stderr schema-infer -q a.jsonl b.jsonl ;;
		sqlite-load)	run --separate-stderr sqlite-load -t t db a.jsonl b.jsonl ;;
		esac
		[[ $status -eq 0 ]] || fail "$p: exit $status: $stderr"
		if [[ $p == sqlite-load ]]; then
			assert_equal "$(sql db 'SELECT id, a FROM t ORDER BY id')" "$(printf '1|x\n2|y')"
		else
			assert_equal "$(jq -c 'if .type == "RECORD" then .record else . end |
			    select(.id) | [.id, .a]' <<<"$output" | tr -d '\n')" '[1,"x"][2,"y"]'
		fi
		[[ $output != *$'\357\273\277'* ]] || fail "$p: the mark is in the output"
	done
	# Only before the first line: further on it is data (here, no JSON).
	printf '{"id":1}\n\357\273\277{"id":2}\n' > c.jsonl
	run -65 --separate-stderr schema-infer -q c.jsonl
	assert_stderr_regex '^schema-infer: c\.jsonl:2: '
}

@test "a name twice in one object: the last wins in dedup-merge, jsonl-normalize and schema-infer" {
	printf '%s\n' '{"id":1,"id":2,"v":"x"}' '{"id":2,"v":"y"}' '{"id":1,"v":"z"}' > d.jsonl
	run -0 --separate-stderr dedup-merge -k id d.jsonl
	assert_output "$(printf '%s\n' '{"id":2,"v":"y"}' '{"id":1,"v":"z"}')"
	printf '%s\n' '{"a":1,"a":{"b":2}}' '{"a":{"b":2},"a":1}' '{"a":[1],"a":null}' > n.jsonl
	run -0 --separate-stderr jsonl-normalize -t t n.jsonl
	assert_equal "$(jq -c '.record | del(._sluice_load_id, ._sluice_id)' <<<"$output" | tr -d '\n')" \
	    '{"a__b":2}{"a":1}{"a":null}'
	# The first value's type is no part of the schema: no variant column.
	printf '%s\n' '{"a":1,"a":"x"}' > s.jsonl
	run -0 --separate-stderr schema-infer -q s.jsonl
	assert_equal "$(jq -c 'select(.type == "SCHEMA") | .schema.properties' <<<"$output")" \
	    '{"a":{"type":["string"]}}'
	# A wide record (the parser checks those another way), twice.
	jq -nc '[range(40) | {key: "k\(.)", value: .}] | from_entries | .k3 = "x" |
	    to_entries | map("\"\(.key)\":\(.value | tojson)") | "{\(join(",")),\"k3\":7}"' -r > w.jsonl
	cat w.jsonl w.jsonl > ww.jsonl
	run -0 --separate-stderr schema-infer -q ww.jsonl
	assert_equal "$(jq -c 'select(.type == "SCHEMA") | .schema.properties.k3' <<<"$output")" \
	    '{"type":["integer"]}'
	assert_equal "$(jq -c 'select(.type == "SCHEMA") | .schema.properties | keys | length' <<<"$output")" 40
}
