bats_require_minimum_version 1.5.0
# pgfetch's JSON Lines records at the edges of its fast path (lib/jfast):
# a line already in the form the parse writes passes as it is, others are
# rewritten to exactly the bytes the parse writes, and what the fast path
# is not sure of goes to the parse, with its records and its messages.
# The expected bytes here are those pgfetch wrote before the fast path.

load helper

setup() {
	sluice_setup pgfetch
}

@test "records come out as the parse writes them: escapes, whitespace, numbers, repeated names" {
	{
		printf '%s\n' '{"a":1,"b":"x","c":null,"d":true,"e":false}'
		printf '%s\n' '{"e":"\u00e9","f":"é","g":"\/","h":"\ud83d\ude00","i":"\uD83D\uDE00"}'
		printf '%s\n' '{"j":"\u001F\u0008\u0009\u000a\u000C\u000d\u0022\u005c\u0041"}'
		printf '%s\n' '{"k":"\"\\\b\f\n\r\t\u0001\u0000","l\u0000":"x\u0000y","\u00e9":1}'
		printf '%s\n' '{"a":1,"a":2,"a":{"a":3,"a":4}}'
		printf ' { "m" : [ 1 , { "n" :\tnull } ] ,\r"o":2 }\t\r\n'
		printf '%s\n' '{"p":1E5,"q":-0,"r":1.0,"s":1e-7,"t":-1.5E+300,"u":18446744073709551616123}'
		printf '%s\n' '{"v":{},"w":[],"x":[{}],"y":"日本語 😀","z":"a b"}'
		printf '%s\n' '[{"a":"\u00e9"},{"b":[1, 2]}]'
		printf '{"del":"\x7f","s":"\\u007f"}\n'
	} > in.jsonl
	fetch_ok in.jsonl
	{
		printf '%s\n' '{"a":1,"b":"x","c":null,"d":true,"e":false}'
		printf '%s\n' '{"e":"é","f":"é","g":"/","h":"😀","i":"😀"}'
		printf '%s\n' '{"j":"\u001f\b\t\n\f\r\"\\A"}'
		printf '%s\n' '{"k":"\"\\\b\f\n\r\t\u0001\u0000","l\u0000":"x\u0000y","é":1}'
		printf '%s\n' '{"a":1,"a":2,"a":{"a":3,"a":4}}'
		printf '%s\n' '{"m":[1,{"n":null}],"o":2}'
		printf '%s\n' '{"p":1E5,"q":-0,"r":1.0,"s":1e-7,"t":-1.5E+300,"u":18446744073709551616123}'
		printf '%s\n' '{"v":{},"w":[],"x":[{}],"y":"日本語 😀","z":"a b"}'
		printf '%s\n' '{"a":"é"}' '{"b":[1,2]}'
		printf '{"del":"\x7f","s":"\x7f"}\n'
	} > want
	assert_file_bytes out want
}

@test "the same records with --file-column and as Singer messages (-m)" {
	printf '%s\n' '{"a":"\u00e9"}' '{"a":"é","src":"x"}' '{"b":2}' > in.jsonl
	fetch_ok --file-column src in.jsonl
	printf '%s\n' '{"a":"é","src":"in.jsonl"}' '{"a":"é","src":"in.jsonl"}' \
	    '{"b":2,"src":"in.jsonl"}' > want
	assert_file_bytes out want
	fetch_ok -m --stream s in.jsonl
	jq -c 'select(.type == "RECORD") | .record' out > got
	printf '%s\n' '{"a":"é"}' '{"a":"é","src":"x"}' '{"b":2}' > want
	assert_file_bytes got want
	grep -Fq '"record":{"a":"é"},' out
}

@test "nesting: JVAL_MAX_DEPTH containers are a record, one more is bad data" {
	python3 -c 'print("{\"a\":" + "[" * 1023 + "]" * 1023 + "}")' > ok.jsonl
	fetch_ok ok.jsonl
	assert_file_bytes out ok.jsonl
	python3 -c 'print("{\"a\":" + "[" * 1024 + "]" * 1024 + "}")' > deep.jsonl
	run --separate-stderr pgfetch deep.jsonl
	assert_equal "$status" 65
	aborted 65
	assert_stderr_line "pgfetch: deep.jsonl:1: nesting deeper than 1024 levels"
}

@test "a line whose tree would not fit the parser's memory is still bad data" {
	python3 -c 'print("{\"a\":[" + ",".join(["1"] * 100000) + "]}")' > wide.jsonl
	run --separate-stderr pgfetch --max-line-bytes 300000 wide.jsonl
	assert_equal "$status" 65
	aborted 65
	assert_stderr_line "pgfetch: wide.jsonl:1: record needs more than 3448576 bytes of memory to parse"
	python3 -c 'print("{\"a\":[" + ",".join(["1"] * 20000) + "]}")' > fits.jsonl
	fetch_ok --max-line-bytes 300000 fits.jsonl
	assert_file_bytes out fits.jsonl
}

# bad LINE MESSAGE: a file of a good line then LINE fails with MESSAGE
# (on line 2), after the good record.
bad() {
	{ printf '%s\n' '{"ok":1}'; printf '%s\n' "$1"; } > bad.jsonl
	run --separate-stderr pgfetch bad.jsonl
	assert_equal "$status" 65
	aborted 65 '{"ok":1}'
	assert_stderr_line "pgfetch: bad.jsonl:2: $2"
}

@test "bad lines keep the parse's messages" {
	bad '{"a":"\ud83d"}' "invalid JSON at byte 7: a high surrogate escape without a low one after it"
	bad '{"a":"\ude00"}' "invalid JSON at byte 7: a low surrogate escape without a high one before it"
	bad "$(printf '{"a":"\303"}')" "invalid UTF-8 in a string near byte 9"
	bad "$(printf '{"a":"\300\257"}')" "invalid UTF-8 in a string near byte 9"
	bad "$(printf '{"a":"\355\240\200"}')" "invalid UTF-8 in a string near byte 10"
	bad "$(printf '{"a":"x\ty"}')" "invalid JSON at byte 8: lexical error: invalid character inside string"
	bad '{"a":01}' "invalid JSON at byte 7: parse error: after key and value, inside map, I expect ',' or '}'"
	bad '{"a":1}x' "invalid JSON at byte 9: lexical error: invalid char in json text"
	bad '{"a":1} {"b":2}' "more than one JSON value on the line"
	bad '{"a":1,}' "invalid JSON at byte 9: parse error: invalid object key (must be a string)"
	bad '[1]' "an element of the list is not an object"
	bad '"a"' "not a JSON object"
	printf '{"ok":1}\n{"a":"x\0y"}\n' > nul.jsonl
	run --separate-stderr pgfetch nul.jsonl
	assert_equal "$status" 65
	aborted 65 '{"ok":1}'
	assert_stderr_line "pgfetch: nul.jsonl:2: invalid JSON at byte 8: lexical error: invalid character inside string"
}
