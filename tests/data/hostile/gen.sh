#!/bin/sh
# gen.sh DIR [big]: write the hostile corpus into DIR, one case a file
# (NAME.jsonl), every byte written here so that it is visible.  With "big"
# it also writes the large cases: 2,001 and 5,000 columns, nesting
# 100,000 deep, and a 200 MB line.  Each record has an "id" so that the
# keyed modes apply.  Used by tests/hostile.bats.
set -eu
d=$1
mkdir -p "$d"
c() { printf "$2" > "$d/$1.jsonl"; }

# Numbers
c num_1e400		'{"id":1,"v":1e400}\n{"id":2,"v":-1e400}\n'
c num_1e-400		'{"id":1,"v":1e-400}\n'
c num_minus_zero	'{"id":1,"v":-0}\n{"id":2,"v":-0.0}\n{"id":-0}\n'
c num_2p64_plus_1	'{"id":18446744073709551617}\n{"id":18446744073709551618}\n'
c num_min_int64_minus_1	'{"id":-9223372036854775809}\n{"id":-9223372036854775808}\n'
c num_1000_digits	"{\"id\":1,\"v\":$(printf '1%0999d' 0)}\n"
# NUL
c nul_in_key		'{"id":1,"k\\u0000x":1}\n'
c nul_in_value		'{"id":1,"v":"a\\u0000b"}\n'
c nul_in_key_value	'{"id":"a\\u0000b"}\n{"id":"a\\u0000c"}\n'
# Surrogates
c sur_lone_high		'{"id":1,"s":"\\ud800"}\n'
c sur_lone_low		'{"id":1,"s":"\\udc00"}\n'
c sur_paired		'{"id":1,"s":"\\ud83d\\ude00"}\n'
c sur_high_high		'{"id":1,"s":"\\ud800\\ud800"}\n'
c sur_mispaired		'{"id":1,"s":"\\ud888\\u1234"}\n'
c sur_in_key		'{"id":1,"\\ud800":1}\n'
# Raw bytes that are not UTF-8
c utf8_overlong		'{"id":1,"s":"\300\257"}\n'
c utf8_cesu		'{"id":1,"s":"\355\240\200"}\n'
c utf8_above_10ffff	'{"id":1,"s":"\364\220\200\200"}\n'
c utf8_raw_tab		'{"id":1,"s":"a\tb"}\n'
# Names
c key_empty		'{"id":1,"":2}\n'
c key_empty_nested	'{"id":1,"a":{"":{"":3}}}\n'
c key_case		'{"id":1,"ID":2}\n'
c key_case_three	'{"id":1,"Name":"a","name":"b","NAME":"c"}\n'
c key_duplicate		'{"id":1,"a":1,"a":"two"}\n'
c stream_case		'{"type":"RECORD","stream":"Issues","record":{"id":1}}\n{"type":"RECORD","stream":"issues","record":{"id":2}}\n'
c stream_sluice_state	'{"type":"RECORD","stream":"_sluice_state","record":{"id":1}}\n'
c stream_sqlite_master	'{"type":"RECORD","stream":"sqlite_master","record":{"id":1}}\n'
c key_missing		'{"x":1}\n'
# Lines
c crlf			'{"id":1}\r\n{"id":2}\r\n'
c no_final_newline	'{"id":1}\n{"id":2}'
c bom			'\357\273\277{"id":1}\n'
c formfeed		'{"id":1,"v":[\f]}\n'
c vertical_tab		'{"id":1,\v"a":2}\n'
c half_string_after	'{"id":1}"\n{"id":2}\n'
c half_string_last	'{"id":1}"\n'
c nesting_1000		"{\"id\":1,\"v\":$(printf '%01000d' 0 | tr 0 '[')$(printf '%01000d' 0 | tr 0 ']')}\n"

[ "${2:-}" = big ] || exit 0
awk -v n=2001 'BEGIN { printf "{\"id\":1"; for (i = 1; i < n; i++) printf ",\"c%d\":%d", i, i; print "}" }' > "$d/cols_2001.jsonl"
awk -v n=5000 'BEGIN { printf "{\"id\":1"; for (i = 1; i < n; i++) printf ",\"c%d\":%d", i, i; print "}" }' > "$d/cols_5000.jsonl"
# 2,001 columns arriving one new column a record.
awk -v n=2001 'BEGIN { for (i = 1; i <= n; i++) printf "{\"id\":%d,\"c%d\":%d}\n", i, i, i }' > "$d/cols_2001_across.jsonl"
awk 'BEGIN { printf "{\"id\":1,\"v\":"; for (i = 0; i < 100000; i++) printf "["; for (i = 0; i < 100000; i++) printf "]"; print "}" }' > "$d/nesting_100000.jsonl"
{ printf '{"id":1,"v":"'; head -c 200000000 /dev/zero | tr '\0' a; printf '"}\n{"id":2}\n'; } > "$d/line_200mb.jsonl"
