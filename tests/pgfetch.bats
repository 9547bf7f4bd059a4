bats_require_minimum_version 1.5.0
# pgfetch, file mode (spec4.md, issue 4, pgfetch(1)): JSON Lines, JSON
# documents streamed, CSV, gzip; stdin and file://; Singer messages;
# --max-records; --on-error; exit codes; the GitHub issues through
# jsonl-normalize | schema-infer | sqlite-load.  HTTP(S) sources are not
# implemented yet: they must exit 69 and say so.

load helper

setup() {
	sluice_setup pgfetch jsonl-normalize schema-infer sqlite-load
	D="$(cd "$DATA/pgfetch" && pwd)"
	ISSUES="$(cd "$DLT" && pwd)/github.issues.load_page_5_duck.json"
	EVENTS="$(cd "$DLT" && pwd)/github.events.load_page_1_duck.json"
	TS_RE='"time_extracted":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"'
}

# out_is LINE...: ./out is exactly the LINEs, each ending in a newline.
out_is() {
	printf '%s\n' "$@" > want
	assert_file_bytes out want
}

# out_empty: ./out holds no bytes at all.
out_empty() {
	[[ ! -s out ]] || fail "output is not empty: $(head -c 300 out)"
}

# peak_rss ARG...: run ARG... under GNU time, which writes the peak RSS in
# KB to ./rss; without /usr/bin/time (Debian package "time"), just run it.
peak_rss() {
	rm -f rss
	if [[ -x /usr/bin/time ]]; then
		/usr/bin/time -f %M -o rss "$@"
	else
		"$@"
	fi
}

# check_rss MAX_KB: the peak RSS in ./rss is below MAX_KB; skipped when it
# was not measured, or under ASan.
check_rss() {
	sanitized pgfetch && skip "RSS is not measured under ASan"
	[[ -s rss ]] || skip "no /usr/bin/time to measure RSS"
	local kb
	kb=$(tail -n 1 rss)
	[[ $kb -lt $1 ]] || fail "peak RSS ${kb} KB, over ${1} KB"
}

# big_array N FILE: a JSON array of N records of ~150 bytes, all on one
# line (no newline at all: a line-based reader cannot cope).
big_array() {
	awk -v n="$1" 'BEGIN {
		pad = sprintf("%100s", ""); gsub(/ /, "x", pad)
		printf "["
		for (i = 1; i <= n; i++)
			printf "%s{\"id\":%d,\"name\":\"row %d\",\"pad\":\"%s\",\"v\":%d.25}",
			    (i > 1 ? "," : ""), i, i, pad, i
		printf "]"
	}' > "$2"
}

# ---------------------------------------------------------------------------
# Options, usage, version.

@test "-h prints usage on stdout and exits 0" {
	run -0 --separate-stderr pgfetch -h
	assert_output --partial "pgfetch"
	assert_output --regexp '[Uu]sage'
	assert_output --partial "--records"
	assert_output --partial "--csv-types"
	assert_output --partial "--on-error"
	assert_stderr_empty
	run -0 --separate-stderr pgfetch --help
	assert_output --regexp '[Uu]sage'
}

@test "-V and --version print the version" {
	run -0 --separate-stderr pgfetch -V
	assert_output "pgfetch (sluice) 0.1.0"
	assert_stderr_empty
	run -0 --separate-stderr pgfetch --version
	assert_output "pgfetch (sluice) 0.1.0"
}

@test "a bad option exits 64 with usage on stderr, nothing on stdout" {
	run -64 --separate-stderr pgfetch --no-such-option "$D/records.jsonl"
	assert_output ""
	assert_stderr_regex '[Uu]sage'
}

@test "bad option values and a missing source exit 64, nothing on stdout" {
	local bad
	# Several sources are one stream (issue 11): tests/pgfetch-files.bats.
	for bad in '--format xml' '--format' '--on-error sometimes' \
	    '--max-records x' '--max-records -1' '--max-records 3x' \
	    '--max-line-bytes lots' '--delimiter ab' '--delimiter ""' \
	    '-s' ''; do
		# shellcheck disable=SC2086
		eval "run -64 --separate-stderr pgfetch $bad </dev/null"
		assert_output ""
		assert_stderr_regex '^(pgfetch: |usage: pgfetch)'
	done
}

@test "-m without -s exits 64" {
	run -64 --separate-stderr pgfetch -m "$D/records.jsonl"
	assert_output ""
	run -64 --separate-stderr pgfetch --messages "$D/records.jsonl"
	assert_output ""
}

# ---------------------------------------------------------------------------
# JSON Lines.

@test "jsonl: objects come out as they are, one a line, in order" {
	fetch_ok "$D/records.jsonl"
	assert_file_bytes out "$D/records.jsonl"
	cp "$D/records.jsonl" r.ndjson
	fetch_ok r.ndjson
	assert_file_bytes out "$D/records.jsonl"
}

@test "jsonl: records come out compact, strings re-escaped minimally" {
	printf '%s\n' '{ "a" : 1 , "b" : [ 1 , { "c" : null } ] , "t" : true }' \
	    '{"url":"https:\/\/x.test\/a","e":"\u00e9\u4e2d","raw":"é中","nul":"a\u0000b","ctl":"\u001f\b\f\n\r\t","q":"\"\\","smile":"\ud83d\ude00"}' \
	    > in.jsonl
	fetch_ok in.jsonl
	out_is '{"a":1,"b":[1,{"c":null}],"t":true}' \
	    '{"url":"https://x.test/a","e":"é中","raw":"é中","nul":"a\u0000b","ctl":"\u001f\b\f\n\r\t","q":"\"\\","smile":"😀"}'
}

@test "jsonl: numbers keep their text" {
	printf '%s\n' '{"id":9007199254740993,"x":0.1000000000000000055511,"l":[18446744073709551616,1E+300,-0.0,1.50]}' > in.jsonl
	fetch_ok in.jsonl
	assert_file_bytes out in.jsonl
}

@test "jsonl: an array line gives one record per element" {
	printf '%s\n' '{"a":0}' '[{"a":1},{"a":2}]' '[]' ' [ {"a":3} ] ' '{"a":4}' > in.jsonl
	fetch_ok in.jsonl
	out_is '{"a":0}' '{"a":1}' '{"a":2}' '{"a":3}' '{"a":4}'
}

@test "jsonl: a line that is not an object exits 65 with file:line" {
	local bad
	for bad in '42' '"text"' 'null' 'true' '[1]' '[[{"a":1}]]'; do
		printf '%s\n' '{"a":1}' '' "$bad" '{"a":3}' > in.jsonl
		run -65 --separate-stderr pgfetch in.jsonl
		aborted 65 '{"a":1}'
		assert_stderr_regex '^pgfetch: in\.jsonl:3: .*not .*object'
	done
}

@test "jsonl: invalid JSON exits 65 with file:line" {
	local bad
	for bad in '{"a":' '{"a":1}}' '{"a":1} {"b":2}' 'nope' '{"a":01}' "{'a':1}"; do
		printf '%s\n' '{"a":1}' '{"a":2}' '' "$bad" '{"a":3}' > in.jsonl
		run -65 --separate-stderr pgfetch in.jsonl
		aborted 65 '{"a":1}' '{"a":2}'
		assert_stderr_regex '^pgfetch: in\.jsonl:4: '
	done
}

@test "jsonl: blank lines are skipped, and still counted" {
	printf '\n{"a":1}\n\n   \n\t\n{"a":2}\n\n42\n' > in.jsonl
	run -65 --separate-stderr pgfetch in.jsonl
	aborted 65 '{"a":1}' '{"a":2}'
	assert_stderr_regex '^pgfetch: in\.jsonl:8: '
	printf '\n\n  \n' > blank.jsonl
	fetch_ok blank.jsonl
	out_empty
}

@test "jsonl: CRLF line ends" {
	printf '{"a":1}\r\n{"b":"x"}\r\n\r\n{"c":[1]}\r\n' > in.jsonl
	fetch_ok in.jsonl
	out_is '{"a":1}' '{"b":"x"}' '{"c":[1]}'
	printf '{"a":1}\r\n\r\n7\r\n' > bad.jsonl
	run -65 --separate-stderr pgfetch bad.jsonl
	assert_stderr_regex '^pgfetch: bad\.jsonl:3: '
}

@test "jsonl: a missing final newline loses nothing" {
	printf '{"a":1}\n{"a":2}' > in.jsonl
	fetch_ok in.jsonl
	out_is '{"a":1}' '{"a":2}'
	printf '{"a":1}\r\n{"a":2}' > crlf.jsonl
	fetch_ok crlf.jsonl
	out_is '{"a":1}' '{"a":2}'
	printf '{"a":1}\n{"a":' > cut.jsonl
	run -65 --separate-stderr pgfetch cut.jsonl
	aborted 65 '{"a":1}'
	assert_stderr_regex '^pgfetch: cut\.jsonl:2: '
}

@test "jsonl: empty input gives no output and exit 0" {
	: > empty.jsonl
	fetch_ok empty.jsonl
	out_empty
	fetch_ok - </dev/null
	out_empty
}

@test "jsonl: a line longer than --max-line-bytes is bad data" {
	{ echo '{"a":1}'; awk 'BEGIN { printf "{\"s\":\""; for (i = 0; i < 5000; i++) printf "x"; print "\"}" }'; echo '{"a":3}'; } > in.jsonl
	run -65 --separate-stderr pgfetch --max-line-bytes 4K in.jsonl
	aborted 65 '{"a":1}'
	assert_stderr_regex '^pgfetch: in\.jsonl:2: '
	fetch_ok --max-line-bytes 8K in.jsonl
	assert_file_bytes out in.jsonl
}

# ---------------------------------------------------------------------------
# JSON documents.

@test "json: the GitHub issues (a pretty-printed array) are jq -c '.[]' byte for byte" {
	fetch_ok "$ISSUES"
	jq -c '.[]' "$ISSUES" > want
	assert_equal "$(wc -l < out)" 100
	assert_file_bytes out want
	fetch_ok "$EVENTS"
	jq -c '.[]' "$EVENTS" > want
	assert_equal "$(wc -l < out)" 100
	assert_file_bytes out want
}

@test "json: numbers are the text of the source, where jq 1.6 rounds them" {
	fetch_ok "$D/numbers.json"
	assert_file_bytes out "$D/numbers.expected"
	# As many records as jq finds ...
	assert_equal "$(wc -l < out)" "$(jq -c '.[]' "$D/numbers.json" | wc -l)"
	# ... and every number token exactly as the source has it, in order.
	assert_equal "$(grep -oE -- '-?[0-9][0-9.eE+-]*' out)" \
	    "$(grep -oE -- '-?[0-9][0-9.eE+-]*' "$D/numbers.json")"
	grep -Fq '"id":9007199254740993,' out || fail "$(cat out)"
	grep -Fq '"x":0.1000000000000000055511,' out || fail "$(cat out)"
}

@test "json: strings are re-escaped minimally" {
	printf '[\n  {\n    "url": "https:\\/\\/x.test\\/a",\n    "e": "\\u00e9\\u4e2d",\n    "nul": "a\\u0000b",\n    "ctl": "\\u001F\\b\\f\\n\\r\\t",\n    "q": "\\"\\\\",\n    "smile": "\\ud83d\\ude00"\n  }\n]\n' > s.json
	fetch_ok s.json
	out_is '{"url":"https://x.test/a","e":"é中","nul":"a\u0000b","ctl":"\u001f\b\f\n\r\t","q":"\"\\","smile":"😀"}'
}

@test "json: a plain object is one record" {
	fetch_ok "$D/object.json"
	out_is '{"name":"sluice","version":"0.1.0","tags":["etl","unix"],"owner":{"login":"someone","id":9007199254740993}}'
	# "data" that is not an array does not make an envelope.
	fetch_ok "$D/items.json"
	out_is '{"status":"ok","data":{"total":3,"items":[{"id":1,"tags":["x"]},{"id":2,"tags":[]},{"id":3,"tags":null}]}}'
	printf '{"id":1,"results":{"n":2},"items":3,"data":null}\n' > o.json
	fetch_ok o.json
	out_is '{"id":1,"results":{"n":2},"items":3,"data":null}'
}

@test "json: an object with a data, items, results or records array streams that array" {
	local k
	fetch_ok "$D/results.json"
	out_is '{"id":1,"name":"Ana"}' '{"id":2,"name":"Ben"}'
	for k in data items records; do
		printf '{"meta":{"page":1,"of":[1,2]},\n "%s": [\n  {"n":1},\n  {"n":2}\n ],\n "next": "?page=2"}\n' "$k" > env.json
		fetch_ok env.json
		out_is '{"n":1}' '{"n":2}'
	done
	printf '{"data":[]}' > none.json
	fetch_ok none.json
	out_empty
}

@test "json: --records PATH streams the array at PATH, in each spelling" {
	local p
	for p in .data.items data.items; do
		fetch_ok --records "$p" "$D/items.json"
		out_is '{"id":1,"tags":["x"]}' '{"id":2,"tags":[]}' '{"id":3,"tags":null}'
	done
	fetch_ok --records results "$D/results.json"
	out_is '{"id":1,"name":"Ana"}' '{"id":2,"name":"Ben"}'
	# The path is followed even past arrays of the same name elsewhere.
	printf '{"items":[{"no":1}],"page":{"items":[{"yes":1},{"yes":2}]}}\n' > deep.json
	fetch_ok --records .page.items deep.json
	out_is '{"yes":1}' '{"yes":2}'
}

@test "json: a top-level array streams its elements; [] gives nothing" {
	printf '[]\n' > empty.json
	fetch_ok empty.json
	out_empty
	printf ' \n [ {"a":1} ,\n{"b":[{"c":2}]} ] \n' > a.json
	fetch_ok a.json
	out_is '{"a":1}' '{"b":[{"c":2}]}'
}

@test "json: malformed JSON exits 65 with the line of the bad token" {
	cp "$D/bad.json" bad.json
	run -65 --separate-stderr pgfetch bad.json
	aborted 65 '{"a":1}'
	assert_stderr_regex '^pgfetch: bad\.json:4: '
	# A document cut short.
	printf '[\n{"a":1},\n{"a":2,\n"b":3' > cut.json
	run -65 --separate-stderr pgfetch cut.json
	aborted 65 '{"a":1}'
	assert_stderr_regex '^pgfetch: cut\.json:4: '
	printf '[{"a":1},\n\n{"a":2} {"a":3}]\n' > comma.json
	run -65 --separate-stderr pgfetch comma.json
	assert_stderr_regex '^pgfetch: comma\.json:3: '
}

@test "json: a top-level value that is no object or array: its own line" {
	local doc
	for doc in '42' '"text"' 'null' '\n\n  true  \n'; do
		# shellcheck disable=SC2059
		printf "$doc\n" > s.json
		run -65 --separate-stderr pgfetch --format json s.json
		aborted 65
		assert_stderr_regex '^pgfetch: s\.json:[0-9]+: the document is neither'
		assert_equal "$(sed -n 's/^pgfetch: s\.json:\([0-9]*\):.*/\1/p' <<<"$stderr")" \
		    "$(grep -n '[a-z0-9"]' s.json | cut -d: -f1)"
	done
	# Without a final newline, and at the end of a truncated document.
	printf '42' > n.json
	run -65 --separate-stderr pgfetch --format json n.json
	assert_stderr_regex '^pgfetch: n\.json:1: '
	printf '[{"a":1},\n{"a":\n' > cut.json
	run -65 --separate-stderr pgfetch cut.json
	assert_stderr_regex '^pgfetch: cut\.json:2: '
}

@test "json: strings follow the JSON Lines rules: UTF-8, surrogate escapes, whitespace" {
	local bad form
	for bad in '"\\udc00"' '"\\ud800"' '"\\ud800\\ud800"' '"\\ud888\\u1234"' \
	    '"\300\257"' '"\355\240\200"' '"\364\220\200\200"' '[\f]' '\v1'; do
		for form in '[{"a":1},\n{"s":%s}]\n' '{"data":[{"a":1},\n{"s":%s}]}\n' \
		    '[{"a":1},\n{%s:1}]\n'; do
			[[ $form == *'{%s:1}'* && $bad != '"'* ]] && continue
			# shellcheck disable=SC2059
			printf "$(printf "$form" "$bad")" > doc.json
			run --separate-stderr pgfetch --format json doc.json
			[[ $status -eq 65 ]] || fail "$(cat doc.json): exit $status: $output"
			aborted 65 '{"a":1}'
			assert_stderr_regex '^pgfetch: doc\.json:2: '
			# The same bytes as JSON Lines: the same verdict.
			tr -d '\n' < doc.json | sed 's/^\[\(.*\)\]$/\1/; s/},{/}\n{/' > doc.jsonl
			run --separate-stderr pgfetch --format jsonl doc.jsonl
			[[ $status -eq 65 ]] || fail "$(cat doc.jsonl): exit $status: $output"
		done
	done
	# A pair is one character, four bytes of UTF-8.
	printf '[{"s":"\\ud83d\\ude00"}]' > ok.json
	fetch_ok ok.json
	out_is '{"s":"😀"}'
}

@test "json: --records PATH that holds no array exits 65" {
	local p
	for p in .nope .data .data.total .status; do
		run -65 --separate-stderr pgfetch --records "$p" "$D/items.json"
		aborted 65
		assert_stderr_regex "^pgfetch: .*items\.json(:[0-9]+)?: .*--records"
	done
}

@test "json: --on-error skips elements that are not objects, not syntax errors" {
	printf '[{"a":1},\n 2,\n {"a":3}]\n' > ne.json
	run -65 --separate-stderr pgfetch ne.json
	aborted 65 '{"a":1}'
	assert_stderr_regex '^pgfetch: ne\.json:2: '
	run -0 --separate-stderr pgfetch --on-error skip ne.json
	assert_output "$(printf '%s\n' '{"a":1}' '{"a":3}')"
	assert_stderr_regex '^pgfetch: ne\.json:2: '
	# After a syntax error the document cannot be read on: 65 whatever the policy.
	printf '[{"a":1},\n{"a":2,"b":},\n{"a":3}]' > bad.json
	run -65 --separate-stderr pgfetch --on-error skip bad.json
	aborted 65 '{"a":1}'
	assert_stderr_regex '^pgfetch: bad\.json:2: '
}

@test "json: --max-line-bytes caps one record" {
	awk 'BEGIN { printf "[\n{\"a\":1},\n{\"s\":\""; for (i = 0; i < 5000; i++) printf "x"; printf "\"},\n{\"a\":3}\n]\n" }' > big.json
	run -65 --separate-stderr pgfetch --max-line-bytes 4K big.json
	aborted 65 '{"a":1}'
	assert_stderr_regex '^pgfetch: big\.json:3: '
	run -0 --separate-stderr pgfetch --max-line-bytes 4K --on-error skip big.json
	assert_output "$(printf '%s\n' '{"a":1}' '{"a":3}')"
	assert_stderr_regex '^pgfetch: big\.json:3: '
}

@test "json: a 200 MB array on one line streams with bounded memory" {
	local st
	big_array 1300000 big.json
	[[ $(stat -c %s big.json) -gt 200000000 ]] || fail "big.json is too small"
	timeout 300 bash -c "$(declare -f peak_rss); peak_rss pgfetch big.json" 2> err |
	    awk 'NR == 1 { f = $0 } { l = $0 } END { print NR; print f; print l }' > summary
	st=${PIPESTATUS[0]}
	rm -f big.json
	[[ $st -eq 0 ]] || fail "pgfetch exited $st: $(cat err)"
	assert_equal "$(cat err)" ""
	assert_equal "$(sed -n 1p summary)" 1300000
	assert_equal "$(sed -n 2p summary)" "{\"id\":1,\"name\":\"row 1\",\"pad\":\"$(printf '%100s' '' | tr ' ' x)\",\"v\":1.25}"
	assert_equal "$(sed -n 3p summary)" "{\"id\":1300000,\"name\":\"row 1300000\",\"pad\":\"$(printf '%100s' '' | tr ' ' x)\",\"v\":1300000.25}"
	check_rss 65536
}

@test "json: --records deep inside a big document streams with bounded memory" {
	awk 'BEGIN {
		printf "{\"meta\":{\"n\":400000},\"data\":{\"items\":["
		for (i = 1; i <= 400000; i++)
			printf "%s{\"id\":%d,\"s\":\"%060d\"}", (i > 1 ? ",\n" : ""), i, i
		print "]}}"
	}' > page.json
	peak_rss timeout 120 pgfetch --records .data.items page.json > out 2> err ||
	    fail "pgfetch failed: $(cat err)"
	assert_equal "$(wc -l < out)" 400000
	assert_equal "$(tail -n 1 out)" "{\"id\":400000,\"s\":\"$(printf '%060d' 400000)\"}"
	check_rss 32768
}

# ---------------------------------------------------------------------------
# CSV.

@test "csv: the header gives the keys; quoted commas, quotes and newlines" {
	fetch_ok "$D/people.csv"
	assert_file_bytes out "$D/people.expected"
}

@test "csv: CRLF line ends and a missing final newline" {
	printf 'id,name\r\n1,Ana\r\n2,"B, b"\r\n' > crlf.csv
	fetch_ok crlf.csv
	out_is '{"id":"1","name":"Ana"}' '{"id":"2","name":"B, b"}'
	printf 'id,name\n1,Ana\n2,Ben' > nonl.csv
	fetch_ok nonl.csv
	out_is '{"id":"1","name":"Ana"}' '{"id":"2","name":"Ben"}'
	printf 'id,name\r\n1,Ana\r\n2,"Ben"' > both.csv
	fetch_ok both.csv
	out_is '{"id":"1","name":"Ana"}' '{"id":"2","name":"Ben"}'
}

@test "csv: --delimiter" {
	printf 'id;name;price\n1;Ana;"1,50"\n2;"B;b";2\n' > semi.csv
	fetch_ok --delimiter ';' semi.csv
	out_is '{"id":"1","name":"Ana","price":"1,50"}' '{"id":"2","name":"B;b","price":"2"}'
	cp "$D/people.tsv" people.txt
	fetch_ok --format csv --delimiter "$(printf '\t')" people.txt
	out_is '{"id":"1","name":"Ana","note":"Smith, Jr.","city":"Lisbon"}' \
	    '{"id":"2","name":"Ben","note":"says hi","city":"Porto"}'
}

@test "csv: .tsv files are tab-separated" {
	fetch_ok "$D/people.tsv"
	out_is '{"id":"1","name":"Ana","note":"Smith, Jr.","city":"Lisbon"}' \
	    '{"id":"2","name":"Ben","note":"says hi","city":"Porto"}'
}

@test "csv: --no-header names the keys col_1, col_2, ..." {
	printf 'a,b\n1,2\n3,4,5\n' > nh.csv
	fetch_ok --no-header nh.csv
	out_is '{"col_1":"a","col_2":"b"}' '{"col_1":"1","col_2":"2"}' \
	    '{"col_1":"3","col_2":"4","col_3":"5"}'
}

@test "csv: values are strings without --csv-types" {
	fetch_ok "$D/types.csv"
	out_is '{"s":"a","int":"42","neg":"-7","dec":"1.50","zero":"0","big":"9007199254740993","zip":"007","plus":"+1","dot":".5","trail":"1.","yes":"true","no":"false","empty":"","word":"null"}'
}

@test "csv: --csv-types: integers and decimals keep their text, true/false, empty is null" {
	fetch_ok --csv-types "$D/types.csv"
	out_is '{"s":"a","int":42,"neg":-7,"dec":1.50,"zero":0,"big":9007199254740993,"zip":"007","plus":"+1","dot":".5","trail":"1.","yes":true,"no":false,"empty":null,"word":"null"}'
	# Every line is valid JSON.
	jq -e . out >/dev/null || fail "not JSON: $(cat out)"
}

@test "csv: ragged rows: extra fields are col_N, missing ones absent" {
	printf 'a,b,c\n1,2,3\n4,5,6,7,8\n9\n10,11\n' > r.csv
	fetch_ok r.csv
	out_is '{"a":"1","b":"2","c":"3"}' '{"a":"4","b":"5","c":"6","col_4":"7","col_5":"8"}' \
	    '{"a":"9"}' '{"a":"10","b":"11"}'
	fetch_ok --csv-types r.csv
	out_is '{"a":1,"b":2,"c":3}' '{"a":4,"b":5,"c":6,"col_4":7,"col_5":8}' \
	    '{"a":9}' '{"a":10,"b":11}'
}

@test "csv: duplicate header names get _2, _3; empty ones col_N" {
	printf 'id,name,,name,id,,name\n1,Ana,x,Ann,2,y,An\n' > d.csv
	fetch_ok d.csv
	out_is '{"id":"1","name":"Ana","col_3":"x","name_2":"Ann","id_2":"2","col_6":"y","name_3":"An"}'
}

@test "csv: a NUL byte or invalid UTF-8 in a header name is bad data, not a hang" {
	printf 'a\0x,a\0y\n1,2\n' > nul.csv
	run -65 --separate-stderr timeout 10 pgfetch nul.csv
	aborted 65
	assert_stderr_regex '^pgfetch: nul\.csv:1: CSV: a NUL byte in a header name'
	printf 'a,\300\257\n1,2\n' > bad.csv
	run -65 --separate-stderr timeout 10 pgfetch bad.csv
	aborted 65
	assert_stderr_regex '^pgfetch: bad\.csv:1: CSV: invalid UTF-8 in a header name'
	# NUL in a value is data: escaped, kept whole.
	printf 'a,b\n1\0002,x\n' > v.csv
	fetch_ok v.csv
	out_is '{"a":"1\u00002","b":"x"}'
}

@test "csv: 20,000 equal header names are renamed in time linear in their number" {
	local t1 t2
	awk 'BEGIN { for (i = 1; i <= 2000; i++) printf "%sa", (i > 1 ? "," : ""); print ""
	    for (i = 1; i <= 2000; i++) printf "%s%d", (i > 1 ? "," : ""), i; print "" }' > s.csv
	awk 'BEGIN { for (i = 1; i <= 20000; i++) printf "%sa", (i > 1 ? "," : ""); print ",a_3"
	    for (i = 1; i <= 20001; i++) printf "%s%d", (i > 1 ? "," : ""), i; print "" }' > b.csv
	t1=$(date +%s%N)
	fetch_ok s.csv
	t2=$(date +%s%N)
	t1=$((t2 - t1))
	timeout 120 pgfetch b.csv > out || fail "20,000 names: exit $?"
	t2=$(($(date +%s%N) - t2))
	assert_equal "$(jq -c '[.a, .a_2, .a_3, .a_20000, .a_3_2, (keys | length)]' out)" \
	    '["1","2","3","20000","20001",20001]'
	# Ten times the names: within fifty times the time (it was cubic).
	[[ $t2 -lt $((t1 * 50 + 500000000)) ]] || fail "2,000 names: $t1 ns, 20,000: $t2 ns"
}

@test "a UTF-8 byte-order mark is dropped for CSV, JSON and JSON Lines, however it comes" {
	printf '\357\273\277id,x\n1,2\n' > b.csv
	fetch_ok b.csv
	out_is '{"id":"1","x":"2"}'
	gzip -c b.csv > b.csv.gz
	fetch_ok b.csv.gz
	out_is '{"id":"1","x":"2"}'
	printf '\357\273\277[{"a":1}]\n' > b.json
	fetch_ok b.json
	out_is '{"a":1}'
	gzip -c b.json | fetch_ok -
	out_is '{"a":1}'
	printf '\357\273\277{"a":1}\n' > b.jsonl
	gzip -c b.jsonl > b.jsonl.gz
	fetch_ok b.jsonl.gz
	out_is '{"a":1}'
	# Through a pipe, a byte at a time: the first read is short.
	(printf '\357'; sleep 0.2; printf '\273'; sleep 0.2; printf '\277{"a":1}\n') | fetch_ok -
	out_is '{"a":1}'
	(printf '\357'; sleep 0.2; printf '\273\277[{"a":1}]\n') | fetch_ok -
	out_is '{"a":1}'
	(printf '\357\273'; sleep 0.2; printf '\277id\n1\n') | fetch_ok --format csv -
	out_is '{"id":"1"}'
	# Bytes that only begin like a mark are data (and no JSON).
	printf '\357\273{"a":1}\n' > half.jsonl
	run -65 --separate-stderr pgfetch half.jsonl
	assert_stderr_regex '^pgfetch: half\.jsonl:1: '
}

@test "csv: keys and values are JSON-escaped" {
	printf '"a ""q""",b\\c,"tab\there"\n"x\\y","1\n2",\n' > e.csv
	fetch_ok e.csv
	out_is '{"a \"q\"":"x\\y","b\\c":"1\n2","tab\there":""}'
}

@test "csv: spaces around unquoted values are part of them (RFC 4180)" {
	printf 'a,b,c\n lead,trail ,"  q  "\n' > sp.csv
	fetch_ok sp.csv
	out_is '{"a":" lead","b":"trail ","c":"  q  "}'
	printf 'a\tb\tc\n x\t\ty \n' > sp.tsv
	fetch_ok sp.tsv
	out_is '{"a":" x","b":"","c":"y "}'
}

@test "csv: 60,000 rows with quotes, commas, newlines and UTF-8, as Python's csv reads them" {
	command -v python3 >/dev/null || skip "no python3"
	python3 - <<'PY'
import csv, json
words = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'caf\u00e9 \u4e2d', '',
         'tab\there', 'x' * 300, '"', ',', '1.50']
with open('big.csv', 'w', newline='', encoding='utf-8') as f:
    w = csv.writer(f)          # CRLF line ends, minimal quoting
    w.writerow(['id', 'text', 'more'])
    for i in range(60000):
        w.writerow([i, words[i % len(words)], words[(i * 7) % len(words)]])
with open('big.csv', newline='', encoding='utf-8') as f, \
        open('want', 'w', encoding='utf-8', newline='\n') as o:
    for row in csv.DictReader(f):
        o.write(json.dumps(row, ensure_ascii=False, separators=(',', ':')) + '\n')
PY
	fetch_ok big.csv
	assert_file_bytes out want
	gzip -c big.csv > big.csv.gz
	fetch_ok big.csv.gz
	assert_file_bytes out want
}

@test "csv: an unterminated quote is bad data, not the rest of the file in one value" {
	printf 'a,b\n1,2\n3,"open\n4,5\n' > u.csv
	run -65 --separate-stderr pgfetch u.csv
	aborted 65 '{"a":"1","b":"2"}'
	assert_stderr_regex '^pgfetch: u\.csv:3: '
}

@test "csv: a value that is not UTF-8 is bad data" {
	printf 'a,b\n1,2\n\377,3\n4,5\n' > u8.csv
	run -65 --separate-stderr pgfetch u8.csv
	aborted 65 '{"a":"1","b":"2"}'
	assert_stderr_regex '^pgfetch: u8\.csv:3: '
	run -0 --separate-stderr pgfetch --on-error skip u8.csv
	assert_output "$(printf '%s\n' '{"a":"1","b":"2"}' '{"a":"4","b":"5"}')"
}

@test "csv: errors name the line where the record starts, past embedded newlines" {
	printf 'a,b\n1,"x\ny\nz"\n2,%s\n3,4\n' "$(printf '%060d' 0)" > ln.csv
	run -65 --separate-stderr pgfetch --max-line-bytes 50 ln.csv
	aborted 65 '{"a":"1","b":"x\ny\nz"}'
	assert_stderr_regex '^pgfetch: ln\.csv:5: '
}

@test "csv: a quarantined record too long is its own text, nothing after it" {
	printf 'a,b\n1,%s\n2,3\n' "$(printf '%060d' 0)" > long.csv
	run -0 --separate-stderr pgfetch --max-line-bytes 50 --on-error quarantine=q.jsonl long.csv
	assert_output '{"a":"2","b":"3"}'
	assert_equal "$(jq -c '{line, file}' q.jsonl)" '{"line":2,"file":"long.csv"}'
	# (jq 1.6's contains() finds "\u0000" in any string: look at code points.)
	assert_equal "$(jq -r '.input | explode | any(. == 0)' q.jsonl)" false
	assert_equal "$(jq -r '.input | length <= 80' q.jsonl)" true
}

@test "csv: an empty file or a header alone gives no records" {
	: > empty.csv
	fetch_ok empty.csv
	out_empty
	printf 'a,b\n' > header.csv
	fetch_ok header.csv
	out_empty
}

# ---------------------------------------------------------------------------
# gzip.

@test ".gz: every format is decompressed and read by the name under .gz" {
	gzip -c "$D/records.jsonl" > r.jsonl.gz
	fetch_ok r.jsonl.gz
	assert_file_bytes out "$D/records.jsonl"
	gzip -c "$D/records.jsonl" > r.ndjson.gz
	fetch_ok r.ndjson.gz
	assert_file_bytes out "$D/records.jsonl"
	gzip -c "$D/numbers.json" > n.json.gz
	fetch_ok n.json.gz
	assert_file_bytes out "$D/numbers.expected"
	gzip -c "$D/people.csv" > p.csv.gz
	fetch_ok p.csv.gz
	assert_file_bytes out "$D/people.expected"
	gzip -c "$D/people.tsv" > p.tsv.gz
	fetch_ok p.tsv.gz
	out_is '{"id":"1","name":"Ana","note":"Smith, Jr.","city":"Lisbon"}' \
	    '{"id":"2","name":"Ben","note":"says hi","city":"Porto"}'
	gzip -c "$ISSUES" > issues.json.gz
	fetch_ok issues.json.gz
	jq -c '.[]' "$ISSUES" > want
	assert_file_bytes out want
}

@test ".gz: gzip content on stdin is decompressed" {
	gzip -c "$D/records.jsonl" | fetch_ok -
	assert_file_bytes out "$D/records.jsonl"
	gzip -c "$D/numbers.json" | fetch_ok -
	assert_file_bytes out "$D/numbers.expected"
	gzip -c "$D/people.csv" | fetch_ok --format csv -
	assert_file_bytes out "$D/people.expected"
}

@test ".gz: a truncated or corrupt file is an error, not a short read" {
	gen_records 50000 big.jsonl
	gzip -c big.jsonl | head -c 100000 > cut.jsonl.gz
	run --separate-stderr pgfetch cut.jsonl.gz
	[[ $status -eq 65 || $status -eq 74 ]] || fail "exit $status: $stderr"
	assert_stderr_regex '^pgfetch: cut\.jsonl\.gz'
	assert_equal "$(tail -n 1 <<<"$output" | jq -r .type)" SLUICE_ABORT
	printf '\037\213garbage, not deflate\n' > bad.jsonl.gz
	run --separate-stderr pgfetch bad.jsonl.gz
	[[ $status -eq 65 || $status -eq 74 ]] || fail "exit $status: $stderr"
	aborted "$status"
	assert_stderr_regex '^pgfetch: bad\.jsonl\.gz'
}

@test ".gz: zero padding after the last member is ignored, as zcat does" {
	printf '{"a":1}\n{"a":2}\n' | gzip -c > p.jsonl.gz
	head -c 1024 /dev/zero >> p.jsonl.gz
	zcat p.jsonl.gz > /dev/null
	fetch_ok p.jsonl.gz
	out_is '{"a":1}' '{"a":2}'
	gzip -c p.jsonl.gz | zcat | fetch_ok -
	out_is '{"a":1}' '{"a":2}'
	# A member cut short is still an error, its message "name: gzip: ...".
	printf '{"a":1}\n' | gzip -c > two.jsonl.gz
	printf '{"a":2}\n' | gzip -c | head -c 12 >> two.jsonl.gz
	run -65 --separate-stderr pgfetch two.jsonl.gz
	aborted 65 '{"a":1}'
	assert_stderr_regex '^pgfetch: two\.jsonl\.gz: gzip: '
	printf '\037\213garbage' > bad.jsonl.gz
	run -65 --separate-stderr pgfetch bad.jsonl.gz
	assert_stderr_regex '^pgfetch: bad\.jsonl\.gz: gzip: '
}

# ---------------------------------------------------------------------------
# Sources and formats.

@test "stdin '-': the format is told by the first byte, or by --format" {
	fetch_ok - < "$D/records.jsonl"
	assert_file_bytes out "$D/records.jsonl"
	fetch_ok - < "$D/numbers.json"
	assert_file_bytes out "$D/numbers.expected"
	printf '\n \t\n  [{"a":1}]\n' | fetch_ok -
	out_is '{"a":1}'
	fetch_ok --format csv - < "$D/people.csv"
	assert_file_bytes out "$D/people.expected"
	# A pretty-printed object starts like JSON Lines: --format json says.
	fetch_ok --format json - < "$D/object.json"
	out_is '{"name":"sluice","version":"0.1.0","tags":["etl","unix"],"owner":{"login":"someone","id":9007199254740993}}'
}

@test "stdin '-': --records reads a JSON document, whatever its first byte" {
	fetch_ok --format json --records .data.items - < "$D/items.json"
	out_is '{"id":1,"tags":["x"]}' '{"id":2,"tags":[]}' '{"id":3,"tags":null}'
	# --records only means something for JSON: it implies --format json.
	fetch_ok --records .data.items - < "$D/items.json"
	out_is '{"id":1,"tags":["x"]}' '{"id":2,"tags":[]}' '{"id":3,"tags":null}'
}

@test "file:// URLs name local files; the extension still tells the format" {
	fetch_ok "file://$D/records.jsonl"
	assert_file_bytes out "$D/records.jsonl"
	fetch_ok "file://$D/people.csv"
	assert_file_bytes out "$D/people.expected"
	fetch_ok "file://$D/numbers.json"
	assert_file_bytes out "$D/numbers.expected"
	run -66 --separate-stderr pgfetch "file://$PWD/no-such.jsonl"
	aborted 66
	assert_stderr_regex '^pgfetch: .*no-such\.jsonl'
}

@test "--format wins over the extension; an unknown extension goes by content" {
	cp "$D/records.jsonl" lines.json
	fetch_ok --format jsonl lines.json
	assert_file_bytes out "$D/records.jsonl"
	cp "$D/records.jsonl" r.txt
	fetch_ok r.txt
	assert_file_bytes out "$D/records.jsonl"
	cp "$D/numbers.json" n.dat
	fetch_ok n.dat
	assert_file_bytes out "$D/numbers.expected"
	cp "$D/people.csv" p.dat
	fetch_ok --format csv p.dat
	assert_file_bytes out "$D/people.expected"
	fetch_ok --format auto "$D/people.csv"
	assert_file_bytes out "$D/people.expected"
}

@test "a missing file exits 66 and names it" {
	run -66 --separate-stderr pgfetch no-such-file.jsonl
	aborted 66
	assert_stderr_regex '^pgfetch: no-such-file\.jsonl: '
}

@test "http(s): a server that cannot be reached: exit 75 after the retries" {
	local u
	for u in http://127.0.0.1:1/ https://127.0.0.1:1/issues.json; do
		run -75 --separate-stderr timeout 60 pgfetch --retries 1 --backoff-base 0.1 "$u"
		aborted 75
		assert_stderr_regex '^pgfetch: .*127\.0\.0\.1:1/.*after 2 attempts'
	done
}

@test "http(s): credentials in the URL never reach stderr" {
	run -75 --separate-stderr timeout 60 pgfetch -v --retries 1 --backoff-base 0.1 \
	    'https://user:s3cret@127.0.0.1:1/x.json?page=1&token=t0ken'
	aborted 75
	[[ $stderr != *s3cret* && $stderr != *t0ken* ]] ||
	    fail "a secret is on stderr: $stderr"
	assert_stderr_regex 'https://\*\*\*@127\.0\.0\.1:1/x\.json\?page=1&token=\*\*\*'
}

# ---------------------------------------------------------------------------
# Singer messages.

@test "-m -s: RECORD messages with the record and time_extracted" {
	fetch_ok -m -s people "$D/records.jsonl"
	awk '{ printf "{\"type\":\"RECORD\",\"stream\":\"people\",\"record\":%s}\n", $0 }' \
	    "$D/records.jsonl" > want
	sed -E 's/,"time_extracted":"[^"]*"\}$/}/' out > got
	assert_file_bytes got want
	assert_equal "$(grep -cEv ",$TS_RE\}\$" out)" 0
	# time_extracted is now, in UTC.
	local t
	t=$(jq -r .time_extracted <(head -n 1 out))
	(( $(date +%s) - $(date -u -d "$t" +%s) < 300 )) || fail "time_extracted $t"
	(( $(date -u -d "$t" +%s) - $(date +%s) < 5 )) || fail "time_extracted $t"
	# Long options, CSV, and a stream name that needs escaping.
	fetch_ok --messages --stream 'a"b\c' "$D/people.csv"
	awk '{ printf "{\"type\":\"RECORD\",\"stream\":\"a\\\"b\\\\c\",\"record\":%s}\n", $0 }' \
	    "$D/people.expected" > want
	sed -E 's/,"time_extracted":"[^"]*"\}$/}/' out > got
	assert_file_bytes got want
	assert_equal "$(grep -cEv ",$TS_RE\}\$" out)" 0
	assert_equal "$(jq -r .stream out | sort -u)" 'a"b\c'
}

@test "-m -s: the messages load into sqlite-load" {
	run -0 --separate-stderr bash -c 'set -o pipefail
	    pgfetch -m -s issues "$1" | sqlite-load db' _ "$ISSUES"
	assert_equal "$(sql db 'SELECT count(*) FROM issues')" 100
	assert_equal "$(sql db 'SELECT count(DISTINCT id) FROM issues')" 100
}

# ---------------------------------------------------------------------------
# --max-records, --on-error, --stats.

@test "--max-records N stops after N records, exit 0" {
	fetch_ok --max-records 3 "$ISSUES"
	jq -c '.[]' "$ISSUES" | head -n 3 > want
	assert_file_bytes out want
	fetch_ok --max-records 1 "$D/people.csv"
	assert_file_bytes out <(head -n 1 "$D/people.expected")
	# What lies beyond the Nth record is not read.
	printf '%s\n' '{"a":1}' '{"a":2}' 'garbage' > in.jsonl
	fetch_ok --max-records 2 in.jsonl
	out_is '{"a":1}' '{"a":2}'
	run -65 --separate-stderr pgfetch --max-records 3 in.jsonl
	aborted 65 '{"a":1}' '{"a":2}'
	assert_stderr_regex '^pgfetch: in\.jsonl:3: '
}

@test "--max-records N ends an endless input" {
	run -0 --separate-stderr bash -c '
	    yes "{\"a\":1}" | timeout 20 pgfetch --max-records 5 -
	    echo "status ${PIPESTATUS[1]}"'
	assert_output "$(printf '%s\n' '{"a":1}' '{"a":1}' '{"a":1}' '{"a":1}' '{"a":1}' 'status 0')"
	assert_stderr_empty
}

@test "--on-error skip: warns with file:line and goes on; --stats counts" {
	printf '%s\n' '{"a":1}' 'oops' '{"a":3}' '42' '{"a":5}' > in.jsonl
	run -0 --separate-stderr pgfetch --on-error skip --stats st.json in.jsonl
	assert_output "$(printf '%s\n' '{"a":1}' '{"a":3}' '{"a":5}')"
	assert_stderr_regex '^pgfetch: in\.jsonl:2: '
	[[ $stderr == *'in.jsonl:4: '* ]] || fail "no warning for line 4: $stderr"
	jq -e '.program == "pgfetch" and .records == 3 and .errors == 2' st.json >/dev/null ||
	    fail "stats: $(cat st.json)"
}

@test "--on-error quarantine=FILE keeps each rejected line with its reason" {
	printf '%s\n' '{"a":1}' 'oops' '{"a":3}' '42' '{"a":5}' > in.jsonl
	run -0 --separate-stderr pgfetch --on-error quarantine=q.jsonl in.jsonl
	assert_output "$(printf '%s\n' '{"a":1}' '{"a":3}' '{"a":5}')"
	assert_equal "$(jq -c '{line, file, input}' q.jsonl)" \
	    "$(printf '%s\n' '{"line":2,"file":"in.jsonl","input":"oops"}' '{"line":4,"file":"in.jsonl","input":"42"}')"
	assert_equal "$(jq -r '.error | length > 0' q.jsonl | sort -u)" true
}

@test "a quarantine or --stats file that cannot be created exits 73" {
	printf '%s\n' '{"a":1}' 'oops' > in.jsonl
	run -73 --separate-stderr pgfetch --on-error quarantine=no/such/dir/q.jsonl in.jsonl
	assert_stderr_regex '^pgfetch: no/such/dir/q\.jsonl: '
	run -73 --separate-stderr pgfetch --stats no/such/dir/st.json "$D/records.jsonl"
	assert_stderr_regex '^pgfetch: no/such/dir/st\.json: '
}

@test "bad data halfway through: the pipeline's load rolls back" {
	cp "$D/bad.json" bad.json
	run --separate-stderr bash -c '
	    pgfetch bad.json | jsonl-normalize -t t | schema-infer -q | sqlite-load db
	    echo "${PIPESTATUS[*]}"'
	# pgfetch fails; sqlite-load must not commit the records before the error.
	assert_output --regexp '^65 [0-9]+ [0-9]+ [1-9][0-9]*$'
	assert_equal "$(sql db "SELECT count(*) FROM sqlite_master WHERE name = 't'")" 0
}

# ---------------------------------------------------------------------------
# Output errors and SIGPIPE.

@test "writing to /dev/full exits 75: a full disk is temporary" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	run -75 --separate-stderr bash -c 'pgfetch "$1" >/dev/full' _ "$ISSUES"
	assert_stderr_regex '^pgfetch: '
	# Output small enough to sit in the buffer until exit.
	run -75 --separate-stderr bash -c 'pgfetch "$1" >/dev/full' _ "$D/records.jsonl"
	assert_stderr_regex '^pgfetch: '
}

@test "pgfetch big.jsonl | head -n1 exits 141 with empty stderr" {
	gen_records 300000 big.jsonl
	run -0 --separate-stderr bash -c '
	    pgfetch big.jsonl 2>err | head -n 1 >first
	    echo "${PIPESTATUS[0]}"'
	assert_output 141
	assert_equal "$(cat err)" ""
	assert_equal "$(cat first)" "$(head -n 1 big.jsonl)"
}

@test "the same for a JSON array and for CSV, with pipefail" {
	big_array 300000 big.json
	run -141 --separate-stderr bash -c 'set -o pipefail
	    pgfetch big.json | head -n 1 >/dev/null'
	assert_stderr_empty
	awk 'BEGIN { print "id,name"; for (i = 1; i <= 300000; i++) printf "%d,row %d\n", i, i }' > big.csv
	run -141 --separate-stderr bash -c 'set -o pipefail
	    pgfetch big.csv | head -n 1 >/dev/null'
	assert_stderr_empty
}

# ---------------------------------------------------------------------------
# The pipeline.

@test "pgfetch issues.json | jsonl-normalize | schema-infer | sqlite-load: 100 issues, as from jq" {
	cp "$ISSUES" issues.json
	run -0 --separate-stderr bash -c 'set -o pipefail
	    pgfetch issues.json | jsonl-normalize -t issues -k id |
	    schema-infer | sqlite-load db'
	assert_equal "$(sql db 'SELECT count(*) FROM issues')" 100
	assert_equal "$(user_tables db)" "$(printf '%s\n' issues issues__assignees issues__labels)"
	# The same rows as from jq's records (no number in this file is past 2^53).
	bash -c 'set -o pipefail
	    pgfetch issues.json | jsonl-normalize -t issues -k id --load-id L |
	    schema-infer -q | sqlite-load -q --load-id L a.db' 2>/dev/null || fail "pgfetch pipeline"
	bash -c 'set -o pipefail
	    jq -c ".[]" issues.json | jsonl-normalize -t issues -k id --load-id L |
	    schema-infer -q | sqlite-load -q --load-id L b.db' 2>/dev/null || fail "jq pipeline"
	local t
	for t in issues issues__assignees issues__labels; do
		assert_equal "$(sql a.db "SELECT * FROM $t ORDER BY _sluice_id")" \
		    "$(sql b.db "SELECT * FROM $t ORDER BY _sluice_id")"
	done
}
