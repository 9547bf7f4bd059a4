#!/usr/bin/env bats
# cdc-decode's reading of wal2json events, without a server: the plain
# JSON wal2json writes goes through a fast reader of cdc-decode's own
# (scan.c), every other line through the JSON parser of all programs.
# Either way the same messages, the same errors, the same --stats.

bats_require_minimum_version 1.5.0
load helper

setup() {
	sluice_setup cdc-decode
}

# events WRAP: a transaction of one insert; WRAP 1 writes it with spaces,
# escapes and a tab, as no wal2json does.  A repeated "table": the last.
events() {
	if [[ $1 == 0 ]]; then
		printf '%s\n' '{"action":"B","lsn":"0/10","nextlsn":"0/11"}' \
		    '{"action":"I","lsn":"0/20","schema":"public","table":"x","table":"t","columns":[{"name":"id","type":"bigint","value":1},{"name":"n","type":"text","value":"café"},{"name":"at","type":"timestamp with time zone","value":"0999-12-31 23:00:00.25-05:30"},{"name":"a","type":"integer[]","value":"{1,NULL}"}],"pk":[{"name":"id","type":"bigint"}]}' \
		    '{"action":"C","lsn":"0/10","nextlsn":"0/11"}'
	else
		printf '%s\n' ' {"action": "B", "lsn":"0/10","nextlsn":"0/11"}' \
		    $'{"action":"I","lsn":"0/20","schema":"public","table":"x","table":"t","columns":[{"name":"\\u0069d","type":"bigint","value":1},{"name":"n","type":"text","value":"caf\\u00e9"},{"name":"at","type":"timestamp with time zone","value":"0999-12-31 23:00:00.25-05:30"},{"name":"a","type":"integer[]","value":"{1,NULL}"}],"pk":[{"name":"id","type":"bigint"}]}\t' \
		    '{"action":"C","lsn":"0/10","nextlsn":"0/11"}'
	fi
}

@test "wal2json: plain events and the same written otherwise give the same messages" {
	events 0 > plain.json
	events 1 > other.json
	run -0 --separate-stderr cdc-decode plain.json
	plain=$output
	# A year under 1000 as strftime's %Y writes it, without zeros.
	assert_equal "$plain" '{"type":"SCHEMA","stream":"t","schema":{"type":"object","properties":{"id":{"type":["integer","null"]},"n":{"type":["string","null"]},"at":{"type":["string","null"],"format":"date-time"},"a":{"type":["object","array","string","number","boolean","null"]}}},"key_properties":["id"]}
{"type":"RECORD","stream":"t","record":{"id":1,"n":"café","at":"1000-01-01T04:30:00.25Z","a":[1,null]},"version":32}
{"type":"STATE","value":{"bookmarks":{"cdc":{"lsn":"0/10"}}}}'
	run -0 --separate-stderr cdc-decode other.json
	assert_equal "$output" "$plain"
}

@test "wal2json: a line that is no JSON: the parser's message, --on-error, and --stats as for any program" {
	printf '%s\n' '{"action":"B","lsn":"0/10"}' \
	    '{"action":"I","lsn":"0/20","table":"t","columns":[{"name":"id","type":"bigint","value":01}]}' \
	    '{"action":"I","lsn":"0/21","table":"t","columns":[{"name":"id","type":"bigint","value":2}]} x' \
	    '{"action":"I","lsn":"0/22","table":"t","columns":[{"name":"id","type":"bigint","value":"a\u0001"}]}' \
	    '{"action":"I","lsn":"0/23","table":"t","columns":[{"name":"id","type":"bigint","value":3}]}' \
	    '{"action":"C","lsn":"0/10"}' > bad.json
	run -65 --separate-stderr cdc-decode bad.json
	assert_stderr_partial "bad.json:2: invalid JSON at byte 89: parse error: after key and value, inside map, I expect ',' or '}'"
	run -0 --separate-stderr cdc-decode --on-error skip --stats st.json bad.json
	assert_equal "$(grep -c . <<<"$stderr")" 4
	assert_stderr_partial "bad.json:3: invalid JSON at byte 94: lexical error: invalid char in json text (skipped)"
	assert_stderr_partial "bad.json:4: column id (bigint): not a integer value (skipped)"
	assert_equal "$(jq -r 'select(.type == "RECORD") | .record.id' <<<"$output")" 3
	jq -e '.lines == 6 and .records == 4 and .errors == 3 and .changes == 2' st.json > /dev/null ||
	    fail "$(cat st.json)"
}
