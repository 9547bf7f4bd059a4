#!/usr/bin/env bats
# One ruleset for a JSON Lines line (lib/ndjson.h, sluice(5) "Lines"):
# pgfetch reading a .jsonl file (cmd/pgfetch/extract.c, bytes in chunks)
# and the stream readers of the other programs (lib/ndjson.c) give the
# same hostile lines the same fate: the same records, messages, line
# numbers, exit status, and the same quarantined bytes.  One difference
# is intended: an array line is a list of records for pgfetch and
# jsonl-normalize, bad data for the others.

bats_require_minimum_version 1.5.0
load helper

setup() { sluice_setup pgfetch jsonl-normalize schema-infer; }

READERS="pgfetch jsonl-normalize schema-infer"

# read_with PROG POLICY FILE [OPTION...]: PROG reads FILE (- for stdin)
# under --on-error POLICY (quarantine=q.jsonl).  Into PROG.rc its exit
# status, PROG.err its messages without "PROG: " (schema-infer's column
# notes left out), PROG.out its records (compact, sluice's own fields
# dropped), PROG.q the quarantine file, empty when none was kept.
read_with() {
	local p=$1 policy=$2 f=$3 rc=0
	shift 3
	rm -f q.jsonl
	case $p in
	pgfetch)	pgfetch --format jsonl --on-error "$policy" "$@" "$f" ;;
	*)		"$p" --on-error "$policy" "$@" "$f" ;;
	esac > raw 2> err || rc=$?
	echo "$rc" > "$p.rc"
	sed -e "s/^$p: //" -e '/: stream data: /d' err > "$p.err"
	jq -c 'if .type == "RECORD" then .record | del(._sluice_id, ._sluice_load_id)
	    elif .type then empty else . end' raw > "$p.out"
	if [[ -e q.jsonl ]]; then mv q.jsonl "$p.q"; else : > "$p.q"; fi
}

# alike POLICY FILE [OPTION...]: every reader of $READERS reads FILE as
# pgfetch does; pgfetch.* then hold what all of them did.
alike() {
	local p
	for p in $READERS; do
		read_with "$p" "$@"
	done
	for p in $READERS; do
		[[ $p == pgfetch ]] && continue
		assert_equal "$p: $(cat "$p.rc")" "$p: $(cat pgfetch.rc)"
		assert_equal "$p: $(cat "$p.err")" "$p: $(cat pgfetch.err)"
		assert_equal "$p: $(cat "$p.out")" "$p: $(cat pgfetch.out)"
		assert_equal "$p: $(cat "$p.q")" "$p: $(cat pgfetch.q)"
	done
}

@test "blank lines, spaces and tabs, a lone CR: skipped, and counted for line numbers" {
	printf '{"a":1}\n\n \t \n\r\n42\n{"b":2}\n' > in.jsonl
	alike fail in.jsonl
	assert_equal "$(cat pgfetch.rc)" 65
	assert_equal "$(cat pgfetch.err)" "in.jsonl:5: not a JSON object"
	assert_equal "$(cat pgfetch.out)" '{"a":1}'
	alike skip in.jsonl
	assert_equal "$(cat pgfetch.rc)" 0
	assert_equal "$(cat pgfetch.out)" "$(printf '{"a":1}\n{"b":2}')"
}

@test "CRLF endings, a last line without newline, with or without its CR" {
	printf '{"a":1}\r\n{"b":2}\r\n{"c":3}\r' > in.jsonl
	alike fail in.jsonl
	assert_equal "$(cat pgfetch.rc)" 0
	assert_equal "$(cat pgfetch.err)" ""
	assert_equal "$(cat pgfetch.out)" "$(printf '{"a":1}\n{"b":2}\n{"c":3}')"
}

@test "a byte-order mark: dropped before the first line, bad data on another" {
	printf '\xef\xbb\xbf{"a":1}\n\xef\xbb\xbf{"b":2}\n{"c":3}\n' > in.jsonl
	alike quarantine=q.jsonl in.jsonl
	assert_equal "$(cat pgfetch.rc)" 0
	assert_equal "$(cat pgfetch.out)" "$(printf '{"a":1}\n{"c":3}')"
	assert_equal "$(jq -c '{line, error}' pgfetch.q)" \
	    '{"line":2,"error":"invalid JSON at byte 2: lexical error: invalid char in json text"}'
}

@test "NUL bytes, invalid UTF-8, a vertical tab: the same message at the same line" {
	printf '{"a":1}\n{"b":"x\0y"}\n{"c":1}\0\n{"d":"\xff"}\n\v\n{"e":5}\n' > in.jsonl
	alike quarantine=q.jsonl in.jsonl
	assert_equal "$(cat pgfetch.rc)" 0
	assert_equal "$(cat pgfetch.out)" "$(printf '{"a":1}\n{"e":5}')"
	assert_equal "$(jq -r '"\(.line) \(.error)"' pgfetch.q)" "$(printf '%s\n' \
	    '2 invalid JSON at byte 8: lexical error: invalid character inside string' \
	    '3 invalid JSON at byte 9: lexical error: invalid char in json text' \
	    '4 invalid UTF-8 in a string near byte 8' \
	    '5 invalid JSON at byte 1: a vertical tab (JSON has none outside an escape)')"
	# The bytes survive exactly, NUL and all.
	jq -j 'select(.line == 3) | .input' pgfetch.q > kept
	printf '{"c":1}\0' > want
	assert_file_bytes kept want
	alike fail in.jsonl
	assert_equal "$(cat pgfetch.rc)" 65
	assert_equal "$(cat pgfetch.err)" \
	    "in.jsonl:2: invalid JSON at byte 8: lexical error: invalid character inside string"
}

# Before, pgfetch said "line longer than the record limit" and quarantined
# what its buffer held (nothing, or part of the line, by chunk).
@test "a line longer than --max-line-bytes: one message, its first N bytes kept" {
	printf '{"a":1}\n{"b":"%s"}\n{"c":3}\n{"d":"%s"}' \
	    "$(printf 'x%.0s' {1..40})" "$(printf 'y%.0s' {1..40})" > in.jsonl
	alike quarantine=q.jsonl in.jsonl --max-line-bytes 20
	assert_equal "$(cat pgfetch.rc)" 0
	assert_equal "$(cat pgfetch.out)" "$(printf '{"a":1}\n{"c":3}')"
	assert_equal "$(jq -c '[.line, .error, .input]' pgfetch.q)" "$(printf '%s\n' \
	    '[2,"line longer than 20 bytes","{\"b\":\"xxxxxxxxxxxxxx"]' \
	    '[4,"line longer than 20 bytes","{\"d\":\"yyyyyyyyyyyyyy"]')"
	alike fail in.jsonl --max-line-bytes 20
	assert_equal "$(cat pgfetch.rc)" 65
	assert_equal "$(cat pgfetch.err)" "in.jsonl:2: line longer than 20 bytes"
	# From a pipe, the long line arriving in pieces: the same.
	for p in $READERS; do
		{ printf '{"a":1}\n{"b":"xxxxxxxx'; sleep 0.2; printf 'xxxxxxxxxxxxxxxxxxxxx"}\n{"c":3}\n'; } |
		    read_with "$p" quarantine=q.jsonl - --max-line-bytes 20
		assert_equal "$p: $(jq -c '[.line, .error, .input]' "$p.q")" \
		    "$p: "'[2,"line longer than 20 bytes","{\"b\":\"xxxxxxxxxxxxxx"]'
	done
}

# Before, pgfetch counted the CR of a CRLF line against the limit.
@test "a line of exactly --max-line-bytes is read, with its CRLF or a BOM before it" {
	printf '\xef\xbb\xbf{"b":"%s"}\r\n{"c":"%s"}\r\n{"d":"%s"}\n' \
	    xxxxxxxxxxxx yyyyyyyyyyyy zzzzzzzzzzzzz > in.jsonl
	alike quarantine=q.jsonl in.jsonl --max-line-bytes 20
	assert_equal "$(cat pgfetch.rc)" 0
	assert_equal "$(cat pgfetch.out)" \
	    "$(printf '{"b":"xxxxxxxxxxxx"}\n{"c":"yyyyyyyyyyyy"}')"
	assert_equal "$(jq -c '[.line, .error]' pgfetch.q)" '[3,"line longer than 20 bytes"]'
}

# Before, lib/ndjson.c judged a line too long when its CR had come and its
# newline not yet (a pipe), and a first line of N bytes after a BOM.
@test "from a pipe: a line of --max-line-bytes whose newline comes after its CR" {
	for p in $READERS; do
		{ printf '{"b":"xxxxxxxxxxxx"}\r'; sleep 0.3; printf '\n{"c":3}\n'; } |
		    read_with "$p" fail - --max-line-bytes 20
		assert_equal "$p: $(cat "$p.rc") $(cat "$p.err")" "$p: 0 "
		assert_equal "$p: $(cat "$p.out")" "$p: $(printf '{"b":"xxxxxxxxxxxx"}\n{"c":3}')"
	done
}

@test "an array line: a list of records for pgfetch and jsonl-normalize; bad data for the others" {
	printf '{"a":1}\n[{"b":2},{"c":3}]\n[]\n[{"d":4},5]\n"s"\n' > in.jsonl
	READERS="pgfetch jsonl-normalize" alike quarantine=q.jsonl in.jsonl
	assert_equal "$(cat pgfetch.rc)" 0
	assert_equal "$(cat pgfetch.out)" "$(printf '{"a":1}\n{"b":2}\n{"c":3}')"
	assert_equal "$(jq -r '"\(.line) \(.error)"' pgfetch.q)" "$(printf '%s\n' \
	    '4 an element of the list is not an object' '5 not a JSON object')"
	read_with schema-infer quarantine=q.jsonl in.jsonl
	assert_equal "$(cat schema-infer.out)" '{"a":1}'
	assert_equal "$(jq -r '"\(.line) \(.error)"' schema-infer.q)" "$(printf '%s\n' \
	    '2 not a JSON object' '3 not a JSON object' '4 not a JSON object' \
	    '5 not a JSON object')"
}
