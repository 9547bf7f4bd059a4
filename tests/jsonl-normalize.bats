bats_require_minimum_version 1.5.0
# jsonl-normalize: nested records into a root table and child tables
# (spec3.md, issue 3, jsonl-normalize(1)): rows and links, names, nesting,
# keys and ids, metadata, --jq, --drop and --hash, messages, bad data and
# exit codes; then the rides, GitHub issues and GitHub events through
# schema-infer | sqlite-load.  Merging child rows: sqlite-load-children.bats.

load helper

setup() {
	sluice_setup jsonl-normalize schema-infer sqlite-load
	D="$DATA/jsonl-normalize"
	ISSUES="$DLT/github.issues.load_page_5_duck.json"
	EVENTS="$DLT/github.events.load_page_1_duck.json"
	ID_RE='^[A-Za-z0-9_-]{22}$'
}

# jn OPTION... -- LINE...: the LINEs through `jsonl-normalize --load-id L
# OPTION... in.jsonl`, which must exit 0 with nothing on stderr; then
# $output and $lines are its stdout with symbolic ids (symids).
jn() {
	local opts=() st=0
	while [[ $# -gt 0 && $1 != -- ]]; do
		opts+=("$1")
		shift
	done
	shift
	printf '%s\n' "$@" > in.jsonl
	jsonl-normalize --load-id L "${opts[@]}" in.jsonl > out 2> err || st=$?
	[[ $st -eq 0 ]] || fail "jsonl-normalize exited $st: $(cat err)"
	[[ ! -s err ]] || fail "unexpected stderr: $(cat err)"
	run -0 symids out
}

# check_name SOURCE_KEY COLUMN: {"SOURCE_KEY":1} gives the column COLUMN.
check_name() {
	local got
	jq -nc --arg k "$1" '{($k): 1}' > name.jsonl
	got=$(jsonl-normalize -q -t t --load-id L name.jsonl |
	    jq -r '.record | keys_unsorted[0]') || fail "jsonl-normalize failed on \"$1\""
	[[ $got == "$2" ]] || fail "\"$1\" gives \"$got\", expected \"$2\""
}

# check_table STREAM TABLE: -t STREAM gives the root table TABLE.
check_table() {
	local got
	got=$(printf '{"a":1}\n' | jsonl-normalize -q -t "$1" --load-id L |
	    jq -r .stream) || fail "jsonl-normalize failed on -t \"$1\""
	[[ $got == "$2" ]] || fail "-t \"$1\" gives \"$got\", expected \"$2\""
}

# ---------------------------------------------------------------------------
# Options, usage, version.

@test "-h prints usage on stdout and exits 0" {
	run -0 --separate-stderr jsonl-normalize -h
	assert_output --partial "jsonl-normalize"
	assert_output --regexp '[Uu]sage'
	assert_output --partial "--max-nesting"
	assert_output --partial "--salt-env"
	assert_stderr_empty
	run -0 --separate-stderr jsonl-normalize --help
	assert_output --regexp '[Uu]sage'
}

@test "-V and --version print the version" {
	run -0 --separate-stderr jsonl-normalize -V
	assert_output "jsonl-normalize (sluice) 0.1.0"
	assert_stderr_empty
	run -0 --separate-stderr jsonl-normalize --version
	assert_output "jsonl-normalize (sluice) 0.1.0"
}

@test "a bad option exits 64 with usage on stderr, nothing on stdout" {
	run -64 --separate-stderr jsonl-normalize --no-such-option </dev/null
	assert_output ""
	assert_stderr_regex '[Uu]sage'
}

@test "bad option values exit 64, nothing on stdout" {
	local bad
	for bad in '--max-nesting -1' '--max-nesting deep' '--max-nesting 2x' \
	    '--naming camel' '--on-error sometimes' '--max-line-bytes lots' \
	    '--max-record-bytes 12Q' '-k' '--jq'; do
		# shellcheck disable=SC2086
		run -64 --separate-stderr jsonl-normalize $bad <<<'{"a":1}'
		assert_output ""
	done
}

@test "a --jq program that does not compile exits 64" {
	run -64 --separate-stderr jsonl-normalize --jq '.[' <<<'{"a":1}'
	assert_output ""
	assert_stderr_regex '^jsonl-normalize: '
}

@test "a missing input file exits 66 and names it" {
	run -66 --separate-stderr jsonl-normalize no-such-file.jsonl
	refute_output --partial '"RECORD"'
	assert_stderr_regex '^jsonl-normalize: .*no-such-file\.jsonl'
}

# ---------------------------------------------------------------------------
# The nested taxi ride: rows, columns, links.

@test "rides: exact rows of rides, rides__passengers(__phones), rides__stops" {
	run -0 --separate-stderr jsonl-normalize -t rides --load-id L1 "$D/rides.jsonl"
	assert_stderr_empty
	symids <<<"$output" > got
	assert_file_bytes got "$D/rides.expected"
}

@test "rides: numbers keep the text they arrived as" {
	jsonl-normalize -t rides --load-id L1 "$D/rides.jsonl" > out
	grep -Fq '"payment__amt":23.50,"payment__tip":4.70,' out || fail "$(head -n 1 out)"
	grep -Fq '"lon":-73.9790,' out || fail "stops: $(grep stops out)"
	printf '%s\n' '{"id":9007199254740993,"x":0.1000000000000000055511,"l":[18446744073709551616,1E+300]}' > in.jsonl
	run -0 --separate-stderr jsonl-normalize -t n --load-id L in.jsonl
	assert_line -n 0 --regexp '^\{"type":"RECORD","stream":"n","record":\{"id":9007199254740993,"x":0\.1000000000000000055511,"_sluice_load_id":"L","_sluice_id":"'
	assert_line -n 1 --regexp '"record":\{"value":18446744073709551616,'
	assert_line -n 2 --regexp '"record":\{"value":1E\+300,'
}

@test "rides: every child links to its parent and its root; list indexes count from 0" {
	jsonl-normalize -t rides "$D/rides.jsonl" > out
	# Every id is 22 base64url characters and unique.
	assert_equal "$(jq -r '.record._sluice_id' out | grep -cEv "$ID_RE")" 0
	assert_equal "$(jq -r '.record._sluice_id' out | sort -u | wc -l)" 12
	# Each child's parent is the row of its parent table, and its root the
	# ride: checked by joining on the ids in jq.
	run -0 jq -sr '
	    (map({key: .record._sluice_id, value: .}) | from_entries) as $by
	    | .[] | select(.record._sluice_parent_id)
	    | [.stream, $by[.record._sluice_parent_id].stream,
	       ($by[.record._sluice_root_id].record.ride_id | tostring),
	       (.record._sluice_list_idx | tostring),
	       (.record.name // .record.value // .record.lon | tostring)] | join(" ")' out
	assert_output "$(printf '%s\n' \
	    'rides__passengers rides 1 0 Ana' \
	    'rides__passengers__phones rides__passengers 1 0 +1-212-555-0100' \
	    'rides__passengers__phones rides__passengers 1 1 +1-212-555-0101' \
	    'rides__passengers rides 1 1 Ben' \
	    'rides__stops rides 1 0 -73.9819' \
	    'rides__stops rides 1 1 -73.979' \
	    'rides__passengers rides 2 0 Cy' \
	    'rides__stops rides 2 0 Penn Station' \
	    'rides__stops rides 2 1 Hudson Yards')"
	# Root rows carry no link columns; child rows no load id.
	assert_equal "$(jq -c 'select(.stream == "rides") | .record | [has("_sluice_parent_id"), has("_sluice_root_id"), has("_sluice_list_idx")]' out | sort -u)" '[false,false,false]'
	assert_equal "$(jq -c 'select(.stream != "rides") | .record | has("_sluice_load_id")' out | sort -u)" false
}

@test "rides through schema-infer | sqlite-load: tables, columns, types" {
	jsonl-normalize -q -t rides "$D/rides.jsonl" | schema-infer -q | sqlite-load -q taxi.db
	assert_equal "$(user_tables taxi.db | tr '\n' ' ')" \
	    "rides rides__passengers rides__passengers__phones rides__stops "
	# coordinates__end was null in ride 3 only, hence a column without a
	# type: schema-infer leaves it out.
	assert_equal "$(columns taxi.db rides)" \
	    "ride_id,vendor_id,pu_location_id,time__pickup,time__dropoff,coordinates__start__lon,coordinates__start__lat,coordinates__end__lon,coordinates__end__lat,payment__type,payment__amt,payment__tip,payment__status"
	assert_equal "$(columns taxi.db rides__passengers)" "name,age"
	assert_equal "$(columns taxi.db rides__passengers__phones)" "value"
	assert_equal "$(columns taxi.db rides__stops)" "lon,lat,wait__seconds,value"
	assert_equal "$(coltype taxi.db rides ride_id)" INTEGER
	assert_equal "$(coltype taxi.db rides coordinates__start__lon)" REAL
	assert_equal "$(coltype taxi.db rides payment__amt)" REAL
	assert_equal "$(coltype taxi.db rides payment__status)" TEXT
	assert_equal "$(coltype taxi.db rides time__pickup)" TIMESTAMP
	assert_equal "$(coltype taxi.db rides__passengers__phones value)" TEXT
	assert_equal "$(sql taxi.db 'SELECT count(*) FROM rides')" 3
	assert_equal "$(sql taxi.db 'SELECT count(*) FROM rides__passengers')" 3
	assert_equal "$(sql taxi.db 'SELECT count(*) FROM rides__stops')" 4
}

@test "rides in SQLite: joins on the ids give each ride its own children" {
	jsonl-normalize -q -t rides "$D/rides.jsonl" | schema-infer -q | sqlite-load -q taxi.db
	assert_equal "$(sql taxi.db 'SELECT r.ride_id, p._sluice_list_idx, p.name, p.age
	    FROM rides r JOIN rides__passengers p ON p._sluice_parent_id = r._sluice_id
	    ORDER BY r.ride_id, p._sluice_list_idx')" \
	    "$(printf '1|0|Ana|34\n1|1|Ben|\n2|0|Cy|51')"
	assert_equal "$(sql taxi.db 'SELECT r.ride_id, p.name, ph.value
	    FROM rides r JOIN rides__passengers p ON p._sluice_parent_id = r._sluice_id
	    JOIN rides__passengers__phones ph ON ph._sluice_parent_id = p._sluice_id
	    AND ph._sluice_root_id = r._sluice_id ORDER BY ph._sluice_list_idx')" \
	    "$(printf '1|Ana|+1-212-555-0100\n1|Ana|+1-212-555-0101')"
	assert_equal "$(sql taxi.db 'SELECT r.ride_id, s._sluice_list_idx, s.lon, s.lat, s.wait__seconds, s.value
	    FROM rides r JOIN rides__stops s ON s._sluice_root_id = r._sluice_id
	    ORDER BY r.ride_id, s._sluice_list_idx')" \
	    "$(printf '1|0|-73.9819|40.7516|90|\n1|1|-73.979|40.7522|0|\n2|0||||Penn Station\n2|1||||Hudson Yards')"
	assert_equal "$(sql taxi.db 'SELECT ride_id, vendor_id, pu_location_id, payment__amt, payment__tip, payment__status, time__dropoff IS NULL FROM rides ORDER BY ride_id')" \
	    "$(printf '1|CMT|161|23.5|4.7|paid|0\n2|VTS|186|9.0|0.0|pending|0\n3|CMT|237|0.0||voided|1')"
	# No orphans anywhere.
	for t in rides__passengers rides__passengers__phones rides__stops; do
		assert_equal "$(sql taxi.db "SELECT count(*) FROM \"$t\" WHERE _sluice_root_id NOT IN (SELECT _sluice_id FROM rides)")" 0
	done
	assert_equal "$(sql taxi.db 'SELECT count(*) FROM rides__passengers__phones WHERE _sluice_parent_id NOT IN (SELECT _sluice_id FROM rides__passengers)')" 0
}

# ---------------------------------------------------------------------------
# Arrays.

@test "an array of scalars gives rows with a value column; null elements stay" {
	jn -t t -- '{"id":1,"tags":["a","b",null,7]}'
	assert_output "$(printf '%s\n' \
	    '{"type":"RECORD","stream":"t","record":{"id":1,"_sluice_load_id":"L","_sluice_id":"#1"}}' \
	    '{"type":"RECORD","stream":"t__tags","record":{"value":"a","_sluice_parent_id":"#1","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#2"}}' \
	    '{"type":"RECORD","stream":"t__tags","record":{"value":"b","_sluice_parent_id":"#1","_sluice_list_idx":1,"_sluice_root_id":"#1","_sluice_id":"#3"}}' \
	    '{"type":"RECORD","stream":"t__tags","record":{"value":null,"_sluice_parent_id":"#1","_sluice_list_idx":2,"_sluice_root_id":"#1","_sluice_id":"#4"}}' \
	    '{"type":"RECORD","stream":"t__tags","record":{"value":7,"_sluice_parent_id":"#1","_sluice_list_idx":3,"_sluice_root_id":"#1","_sluice_id":"#5"}}')"
}

@test "an array of arrays goes through the intermediate __list table, as in dlt" {
	jn -t t -- '{"id":1,"m":[[1,2],[3]]}'
	assert_output "$(printf '%s\n' \
	    '{"type":"RECORD","stream":"t","record":{"id":1,"_sluice_load_id":"L","_sluice_id":"#1"}}' \
	    '{"type":"RECORD","stream":"t__m","record":{"_sluice_parent_id":"#1","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#2"}}' \
	    '{"type":"RECORD","stream":"t__m__list","record":{"value":1,"_sluice_parent_id":"#2","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#3"}}' \
	    '{"type":"RECORD","stream":"t__m__list","record":{"value":2,"_sluice_parent_id":"#2","_sluice_list_idx":1,"_sluice_root_id":"#1","_sluice_id":"#4"}}' \
	    '{"type":"RECORD","stream":"t__m","record":{"_sluice_parent_id":"#1","_sluice_list_idx":1,"_sluice_root_id":"#1","_sluice_id":"#5"}}' \
	    '{"type":"RECORD","stream":"t__m__list","record":{"value":3,"_sluice_parent_id":"#5","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#6"}}')"
}

@test "arrays of arrays of objects, and three levels of lists" {
	jn -t t -- '{"g":[[{"a":1}]],"c":[[[9]]]}'
	assert_output "$(printf '%s\n' \
	    '{"type":"RECORD","stream":"t","record":{"_sluice_load_id":"L","_sluice_id":"#1"}}' \
	    '{"type":"RECORD","stream":"t__g","record":{"_sluice_parent_id":"#1","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#2"}}' \
	    '{"type":"RECORD","stream":"t__g__list","record":{"a":1,"_sluice_parent_id":"#2","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#3"}}' \
	    '{"type":"RECORD","stream":"t__c","record":{"_sluice_parent_id":"#1","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#4"}}' \
	    '{"type":"RECORD","stream":"t__c__list","record":{"_sluice_parent_id":"#4","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#5"}}' \
	    '{"type":"RECORD","stream":"t__c__list__list","record":{"value":9,"_sluice_parent_id":"#5","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#6"}}')"
}

@test "empty arrays give no rows; an element with only an empty array is a bare row" {
	jn -t t -- '{"id":1,"tags":[],"p":[{"q":[]}],"m":[[]]}'
	assert_output "$(printf '%s\n' \
	    '{"type":"RECORD","stream":"t","record":{"id":1,"_sluice_load_id":"L","_sluice_id":"#1"}}' \
	    '{"type":"RECORD","stream":"t__p","record":{"_sluice_parent_id":"#1","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#2"}}' \
	    '{"type":"RECORD","stream":"t__m","record":{"_sluice_parent_id":"#1","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#3"}}')"
}

@test "an array mixing scalars and objects: value rows and column rows in one table" {
	jn -t t -- '{"s":["Penn Station",{"lon":-73.98,"lat":40.75}]}'
	assert_line -n 1 '{"type":"RECORD","stream":"t__s","record":{"value":"Penn Station","_sluice_parent_id":"#1","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#2"}}'
	assert_line -n 2 '{"type":"RECORD","stream":"t__s","record":{"lon":-73.98,"lat":40.75,"_sluice_parent_id":"#1","_sluice_list_idx":1,"_sluice_root_id":"#1","_sluice_id":"#3"}}'
	assert_equal "${#lines[@]}" 3
}

@test "nulls are kept as null columns; an array inside an object is a child table" {
	jn -t t -- '{"a":null,"o":{"b":null,"l":[true]},"e":{}}'
	assert_line -n 0 '{"type":"RECORD","stream":"t","record":{"a":null,"o__b":null,"_sluice_load_id":"L","_sluice_id":"#1"}}'
	assert_line -n 1 '{"type":"RECORD","stream":"t__o__l","record":{"value":true,"_sluice_parent_id":"#1","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#2"}}'
	assert_equal "${#lines[@]}" 2
}

@test "a line holding a top-level array is a list of records" {
	jn -t t -- '[{"id":1,"l":[5]},{"id":2}]' '[]' '{"id":3}'
	assert_output "$(printf '%s\n' \
	    '{"type":"RECORD","stream":"t","record":{"id":1,"_sluice_load_id":"L","_sluice_id":"#1"}}' \
	    '{"type":"RECORD","stream":"t__l","record":{"value":5,"_sluice_parent_id":"#1","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#2"}}' \
	    '{"type":"RECORD","stream":"t","record":{"id":2,"_sluice_load_id":"L","_sluice_id":"#3"}}' \
	    '{"type":"RECORD","stream":"t","record":{"id":3,"_sluice_load_id":"L","_sluice_id":"#4"}}')"
}

@test "a top-level array with a non-object element is bad data for the whole line" {
	printf '%s\n' '{"id":1}' '[{"id":2},3]' '[[{"id":4}]]' '{"id":5}' > in.jsonl
	run -65 --separate-stderr jsonl-normalize -t t in.jsonl
	assert_stderr_regex '^jsonl-normalize: in\.jsonl:2: '
	assert_equal "$(grep -c '"RECORD"' <<<"$output")" 1
	refute_output --partial '"id":2'
	run -0 --separate-stderr jsonl-normalize -t t --on-error skip in.jsonl
	assert_stderr_regex 'in\.jsonl:2: '
	assert_stderr_regex 'in\.jsonl:3: '
	assert_equal "$(jq -c '.record.id' <<<"$output" | tr '\n' ' ')" "1 5 "
}

# ---------------------------------------------------------------------------
# Names.

@test "snake_case names, dlt's rules, one row per case" {
	local -a cases=(
		'fooBar'		foo_bar
		'getHTTPResponse'	get_http_response
		'vendorID'		vendor_id
		'PULocationID'		pu_location_id
		'ABCDef'		abc_def
		'iOS'			i_os
		'utf8Encoding'		utf8_encoding
		'Payment'		payment
		'snake_case'		snake_case
		'+1'			x1
		'-1'			_1
		'a*b'			axb
		'user@host'		userahost
		'a|b'			alb
		'type_'			typex
		'type__'		typexx
		'a--b'			a_b
		'a__b'			a_b
		'__private'		_private
		'$ref'			_ref
		'a.b'			a_b
		'first name'		first_name
		'unit (m/s)'		unit_m_sx
		'x-ratelimit-limit'	x_ratelimit_limit
		'1st'			_1st
		'2ndPlace'		_2nd_place
		'007'			_007
		'café'			cafx
		'naïve'			na_ve
		'größe'			gr_e
		'日本'			x
		'Ünïcödé'		_n_c_dx
	)
	local i
	for (( i = 0; i < ${#cases[@]}; i += 2 )); do
		check_name "${cases[i]}" "${cases[i + 1]}"
	done
}

@test "leading and trailing white space of a key is ignored, as in dlt" {
	check_name '  padded key  ' padded_key
}

@test "nested names: each key normalized, then joined with __ (reactions___1)" {
	jn -t t -- '{"Reactions":{"+1":3,"-1":0,"totalCount":3},"_links":{"html":{"href":"h"}}}'
	assert_line -n 0 '{"type":"RECORD","stream":"t","record":{"reactions__x1":3,"reactions___1":0,"reactions__total_count":3,"_links__html__href":"h","_sluice_load_id":"L","_sluice_id":"#1"}}'
}

@test "table names are normalized too: the stream and each child table" {
	check_table rides rides
	check_table MyRides my_rides
	check_table 'Ride Events' ride_events
	check_table 'taxi-rides.2024' taxi_rides_2024
	check_table 'events_' eventsx
	jn -t 'GitHub Issues' -- '{"labelList":[{"Name":"bug"}],"Stops":[[1]]}'
	assert_equal "$(jq -r .stream <<<"$output" | tr '\n' ' ')" \
	    "git_hub_issues git_hub_issues__label_list git_hub_issues__stops git_hub_issues__stops__list "
	assert_line -n 1 --partial '"record":{"name":"bug",'
}

@test "--naming keep leaves names alone; the parts are still joined with __" {
	jn -t MyRides --naming keep -- '{"fooBar":{"X-Y":1,"+1":2},"Stops":[{"Lon":1}],"first name":"a"}'
	assert_output "$(printf '%s\n' \
	    '{"type":"RECORD","stream":"MyRides","record":{"fooBar__X-Y":1,"fooBar__+1":2,"first name":"a","_sluice_load_id":"L","_sluice_id":"#1"}}' \
	    '{"type":"RECORD","stream":"MyRides__Stops","record":{"Lon":1,"_sluice_parent_id":"#1","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#2"}}')"
}

@test "collision: the later key gets _2, one warning with file:line, stable for the run" {
	printf '%s\n' '{"id":1,"fooBar":"a","foo_bar":"b"}' '{"id":2,"foo_bar":"c"}' \
	    '{"id":3,"fooBar":"d"}' '{"id":4,"foo_bar":"e","fooBar":"f"}' > in.jsonl
	run -0 --separate-stderr jsonl-normalize -t t --load-id L in.jsonl
	assert_stderr 'jsonl-normalize: in.jsonl:1: table t: "fooBar" and "foo_bar" both normalize to foo_bar; "foo_bar" becomes foo_bar_2'
	assert_equal "$(jq -c '.record | del(._sluice_id)' <<<"$output")" "$(printf '%s\n' \
	    '{"id":1,"foo_bar":"a","foo_bar_2":"b","_sluice_load_id":"L"}' \
	    '{"id":2,"foo_bar_2":"c","_sluice_load_id":"L"}' \
	    '{"id":3,"foo_bar":"d","_sluice_load_id":"L"}' \
	    '{"id":4,"foo_bar_2":"e","foo_bar":"f","_sluice_load_id":"L"}')"
}

@test "collision: first seen keeps the name even when it comes on a later line; _3 next" {
	printf '%s\n' '{"foo_bar":1}' '{"fooBar":2}' '{"FooBar":3,"foo_bar":4}' > in.jsonl
	run -0 --separate-stderr jsonl-normalize -t t --load-id L in.jsonl
	assert_equal "${#stderr_lines[@]}" 2
	assert_stderr_line 'jsonl-normalize: in.jsonl:2: table t: "foo_bar" and "fooBar" both normalize to foo_bar; "fooBar" becomes foo_bar_2'
	assert_stderr_line 'jsonl-normalize: in.jsonl:3: table t: "foo_bar" and "FooBar" both normalize to foo_bar; "FooBar" becomes foo_bar_3'
	assert_equal "$(jq -c '.record | del(._sluice_id, ._sluice_load_id)' <<<"$output")" "$(printf '%s\n' \
	    '{"foo_bar":1}' '{"foo_bar_2":2}' '{"foo_bar_3":3,"foo_bar":4}')"
}

@test "collisions in nested objects, between non-ASCII keys, and per table" {
	run -0 --separate-stderr jsonl-normalize -t t --load-id L <<<'{"a":{"fooBar":1,"foo_bar":2},"日本":3,"中国":4,"p":[{"fooBar":5}]}'
	assert_equal "$(jq -c '.record | del(._sluice_id, ._sluice_load_id, ._sluice_parent_id, ._sluice_root_id, ._sluice_list_idx)' <<<"$output")" \
	    "$(printf '%s\n' '{"a__foo_bar":1,"a__foo_bar_2":2,"x":3,"x_2":4}' '{"foo_bar":5}')"
	assert_equal "${#stderr_lines[@]}" 2
	assert_stderr_regex 'stdin:1: table t: .*a__foo_bar_2'
	assert_stderr_regex 'stdin:1: table t: .*becomes x_2'
}

@test "collision with a key that looks like a generated name: nothing is overwritten" {
	run -0 --separate-stderr jsonl-normalize -t t --load-id L <<<'{"fooBar":1,"foo_bar":2,"foo_bar_2":3}'
	assert_equal "$(jq -c '.record | del(._sluice_id, ._sluice_load_id) | [length, ([.[]] | sort)]' <<<"$output")" '[3,[1,2,3]]'
	jq -e '.record | keys | length == (unique | length)' <<<"$output" >/dev/null || fail "$output"
}

@test "duplicate keys inside one object: the last value wins, one column" {
	jn -q -t t -- '{"id":1,"a":1,"a":2,"o":{"x":"old","x":"new"}}'
	assert_output '{"type":"RECORD","stream":"t","record":{"id":1,"a":2,"o__x":"new","_sluice_load_id":"L","_sluice_id":"#1"}}'
}

@test "duplicate keys: an earlier array or object value does not survive either" {
	jn -q -t t -- '{"id":1,"p":[1,2],"p":[3],"a":{"b":1},"a":2}'
	assert_output "$(printf '%s\n' \
	    '{"type":"RECORD","stream":"t","record":{"id":1,"a":2,"_sluice_load_id":"L","_sluice_id":"#1"}}' \
	    '{"type":"RECORD","stream":"t__p","record":{"value":3,"_sluice_parent_id":"#1","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#2"}}')"
}

@test "duplicate array keys under -k do not give two rows with one id" {
	printf '%s\n' '{"id":1,"p":[1,2],"p":[3]}' > in.jsonl
	jsonl-normalize -q -t t -k id in.jsonl > out
	assert_equal "$(jq -r 'select(.type == "RECORD") | .record._sluice_id' out | sort | uniq -d)" ""
	run -0 --separate-stderr bash -c 'schema-infer -q <out | sqlite-load -q db'
	assert_equal "$(sql db 'SELECT value FROM t__p')" 3
}

@test "duplicate members are counted: a notice at the end and duplicate_members in --stats" {
	printf '%s\n' '{"id":1,"a":1,"a":2,"o":{"x":"old","x":"new"}}' '{"id":2,"a":3}' > in.jsonl
	run -0 --separate-stderr jsonl-normalize -t t --load-id L --stats st.json in.jsonl
	assert_stderr 'jsonl-normalize: 2 duplicate members: the last of each name in its object was kept'
	assert_equal "$(jq -c .record.a <<<"$output" | tr '\n' ' ')" '2 3 '
	assert_equal "$(jq .duplicate_members st.json)" 2
	run -0 --separate-stderr jsonl-normalize -q -t t --load-id L --stats st.json in.jsonl
	assert_stderr_empty
}

@test "names that differ only in case are one name to SQL: the second spelling gets _2, for columns, objects and child tables" {
	printf '%s\n' '{"id":1,"ID":2,"O":{"x":3},"o":{"x":4},"Tags":["a"],"tags":["b"]}' > in.jsonl
	run -0 --separate-stderr jsonl-normalize -t t --load-id L --naming keep in.jsonl
	assert_equal "$(jq -c '.record | del(._sluice_id, ._sluice_parent_id, ._sluice_root_id, ._sluice_list_idx, ._sluice_load_id)' <<<"$output" | tr '\n' ' ')" \
	    '{"id":1,"ID_2":2,"O__x":3,"o_2__x":4} {"value":"a"} {"value":"b"} '
	assert_equal "$(jq -r .stream <<<"$output" | tr '\n' ' ')" 't t__Tags t__tags_2 '
	assert_stderr_line 'jsonl-normalize: in.jsonl:1: table t: "id" and "ID" normalize to id and ID, one name to SQL, which ignores case; "ID" becomes ID_2'
	assert_stderr_line 'jsonl-normalize: in.jsonl:1: table t: "Tags" and "tags" normalize to t__Tags and t__tags, one name to SQL, which ignores case; "tags" becomes t__tags_2'
	run -0 --separate-stderr bash -c 'jsonl-normalize -q -t t --naming keep in.jsonl | schema-infer -q | sqlite-load -q db'
	assert_equal "$(sql db 'SELECT id, ID_2, O__x, o_2__x FROM t')" '1|2|3|4'
	assert_equal "$(sql db 'SELECT value FROM t__tags_2')" b
	# snake_case lower-cases: the same rule, the warning as before.
	run -0 --separate-stderr jsonl-normalize -t t --load-id L in.jsonl
	assert_equal "$(jq -r .stream <<<"$output" | tr '\n' ' ')" 't t__tags t__tags_2 '
	assert_stderr_line 'jsonl-normalize: in.jsonl:1: table t: "id" and "ID" both normalize to id; "ID" becomes id_2'
}

@test "source keys named like the metadata columns do not give duplicate keys" {
	run -0 --separate-stderr jsonl-normalize -t t --load-id L <<<'{"_sluice_id":"mine","_sluice_load_id":"old","a":1}'
	assert_equal "$(grep -o '"_sluice_id":' <<<"$output" | wc -l)" 1
	assert_equal "$(grep -o '"_sluice_load_id":' <<<"$output" | wc -l)" 1
	assert_equal "$(jq -r '.record._sluice_load_id' <<<"$output")" L
	[[ $(jq -r '.record._sluice_id' <<<"$output") =~ $ID_RE ]] || fail "$output"
	# The source values are kept, under other names.
	assert_output --partial '"mine"'
	assert_output --partial '"old"'
}

# ---------------------------------------------------------------------------
# --max-nesting.

@test "--max-nesting 0 keeps every nested object and array as JSON in the root table" {
	jn -t t --max-nesting 0 -- '{"id":1,"a":{"b":{"c":{"d":1}}},"l":[1,2],"p":[{"x":1,"q":{"r":2},"z":[3]}]}'
	assert_output '{"type":"RECORD","stream":"t","record":{"id":1,"a":{"b":{"c":{"d":1}}},"l":[1,2],"p":[{"x":1,"q":{"r":2},"z":[3]}],"_sluice_load_id":"L","_sluice_id":"#1"}}'
}

@test "--max-nesting 1: one level of columns and child tables, deeper stays JSON" {
	jn -t t --max-nesting 1 -- '{"id":1,"a":{"b":{"c":{"d":1}},"e":2},"l":[1,2],"p":[{"x":1,"q":{"r":2},"z":[3]}]}'
	assert_output "$(printf '%s\n' \
	    '{"type":"RECORD","stream":"t","record":{"id":1,"a__b":{"c":{"d":1}},"a__e":2,"_sluice_load_id":"L","_sluice_id":"#1"}}' \
	    '{"type":"RECORD","stream":"t__l","record":{"value":1,"_sluice_parent_id":"#1","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#2"}}' \
	    '{"type":"RECORD","stream":"t__l","record":{"value":2,"_sluice_parent_id":"#1","_sluice_list_idx":1,"_sluice_root_id":"#1","_sluice_id":"#3"}}' \
	    '{"type":"RECORD","stream":"t__p","record":{"x":1,"q":{"r":2},"z":[3],"_sluice_parent_id":"#1","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#4"}}')"
}

@test "--max-nesting 2: two levels" {
	jn -t t --max-nesting 2 -- '{"id":1,"a":{"b":{"c":{"d":1}}},"p":[{"x":1,"q":{"r":2},"z":[3]}]}'
	assert_output "$(printf '%s\n' \
	    '{"type":"RECORD","stream":"t","record":{"id":1,"a__b__c":{"d":1},"_sluice_load_id":"L","_sluice_id":"#1"}}' \
	    '{"type":"RECORD","stream":"t__p","record":{"x":1,"q__r":2,"_sluice_parent_id":"#1","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#2"}}' \
	    '{"type":"RECORD","stream":"t__p__z","record":{"value":3,"_sluice_parent_id":"#2","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#3"}}')"
}

@test "--max-nesting 1 with the coordinates of the man page" {
	jn -t rides --max-nesting 1 -- '{"coordinates":{"start":{"lon":1}}}'
	assert_output '{"type":"RECORD","stream":"rides","record":{"coordinates__start":{"lon":1},"_sluice_load_id":"L","_sluice_id":"#1"}}'
}

@test "--max-nesting 0 through schema-infer | sqlite-load: JSON columns" {
	jsonl-normalize -q -t rides --max-nesting 0 "$D/rides.jsonl" | schema-infer -q | sqlite-load -q taxi.db
	assert_equal "$(user_tables taxi.db)" rides
	assert_equal "$(coltype taxi.db rides time)" JSON
	assert_equal "$(coltype taxi.db rides passengers)" JSON
	assert_equal "$(sql taxi.db "SELECT ride_id, json_extract(coordinates, '\$.start.lon'), json_array_length(passengers), json_extract(stops, '\$[1]') FROM rides ORDER BY ride_id")" \
	    "$(printf '1|-73.9857|2|{"lon":-73.9790,"lat":40.7522,"wait":{"seconds":0}}\n2|-73.994|1|Hudson Yards\n3|-73.9712|0|')"
}

@test "no limit by default: 500 levels of objects flatten into one column" {
	awk 'BEGIN { for (i = 0; i < 500; i++) printf "{\"a\":"; printf "1"; for (i = 0; i < 500; i++) printf "}"; printf "\n" }' > in.jsonl
	run -0 --separate-stderr jsonl-normalize -t t --load-id L in.jsonl
	expected=$(awk 'BEGIN { printf "a"; for (i = 1; i < 500; i++) printf "__a" }')
	assert_equal "$(jq -r '.record | keys_unsorted[0]' <<<"$output")" "$expected"
	assert_equal "$(jq -r '.record | .[keys_unsorted[0]]' <<<"$output")" 1
}

@test "a 100,000-deep object: exit 65, a clear message, no crash; the rows before it stay" {
	awk 'BEGIN { print "{\"id\":1}"; for (i = 0; i < 100000; i++) printf "{\"a\":"; printf "1"; for (i = 0; i < 100000; i++) printf "}"; printf "\n{\"id\":3}\n" }' > in.jsonl
	run -65 --separate-stderr jsonl-normalize -t t --load-id L in.jsonl
	assert_stderr_regex '^jsonl-normalize: in\.jsonl:2: .*(nest|deep|depth)'
	assert_equal "${#stderr_lines[@]}" 1
	assert_equal "${#lines[@]}" 2
	assert_line -n 0 --regexp '^\{"type":"RECORD","stream":"t","record":\{"id":1,'
	assert_equal "$(jq -r .type <<<"${lines[1]}")" SLUICE_ABORT
}

@test "a 100,000-deep array bomb: exit 65; with --on-error skip the rest loads" {
	awk 'BEGIN { print "{\"id\":1}"; for (i = 0; i < 100000; i++) printf "["; for (i = 0; i < 100000; i++) printf "]"; printf "\n{\"id\":3,\"l\":[1]}\n" }' > in.jsonl
	run -65 --separate-stderr jsonl-normalize -t t in.jsonl
	assert_stderr_regex '^jsonl-normalize: in\.jsonl:2: .*(nest|deep|depth)'
	run -0 --separate-stderr bash -c 'jsonl-normalize -t t --on-error skip "$1" | schema-infer -q | sqlite-load -q db' _ in.jsonl
	assert_stderr_regex '^jsonl-normalize: in\.jsonl:2: .*(nest|deep|depth).*skipped'
	assert_equal "$(sql db 'SELECT id FROM t ORDER BY id' | tr '\n' ' ')" "1 3 "
	assert_equal "$(sql db 'SELECT value FROM t__l')" 1
}

@test "a nested bomb inside a child array, and --on-error quarantine keeps the line" {
	awk 'BEGIN { printf "{\"id\":2,\"p\":[{\"q\":"; for (i = 0; i < 100000; i++) printf "{\"a\":"; printf "1"; for (i = 0; i < 100001; i++) printf "}"; printf "]}\n{\"id\":3}\n" }' > in.jsonl
	run -0 --separate-stderr jsonl-normalize -q -t t --load-id L --on-error quarantine=q.jsonl in.jsonl
	assert_equal "${#lines[@]}" 1
	assert_line -n 0 --regexp '"record":\{"id":3,'
	assert_equal "$(jq -c '.line' q.jsonl)" 1
	assert_equal "$(jq -r '.input' q.jsonl | cmp - <(head -n 1 in.jsonl) && echo same)" same
}

# ---------------------------------------------------------------------------
# Keys and ids.

@test "-k: the exact rows, with a SCHEMA before the first row of each table" {
	run -0 --separate-stderr jsonl-normalize -t rides -k ride_id --load-id L1 "$D/rides.jsonl"
	assert_stderr_empty
	symids <<<"$output" > got
	assert_file_bytes got "$D/rides-k.expected"
}

@test "-k: the same input twice gives byte-identical output" {
	jsonl-normalize -t rides -k ride_id --load-id L1 "$D/rides.jsonl" > a
	jsonl-normalize -t rides -k ride_id --load-id L1 "$D/rides.jsonl" > b
	assert_file_bytes b a
	# Another load id changes only _sluice_load_id.
	jsonl-normalize -t rides -k ride_id --load-id L2 "$D/rides.jsonl" | sed 's/"_sluice_load_id":"L2"/"_sluice_load_id":"L1"/' > c
	assert_file_bytes c a
	assert_equal "$(jq -r 'select(.type == "RECORD") | .record._sluice_id' a | grep -cEv "$ID_RE")" 0
	assert_equal "$(jq -r 'select(.type == "RECORD") | .record._sluice_id' a | sort -u | wc -l)" 12
}

@test "-k: ids depend on the key and the position, not on the other values" {
	printf '%s\n' '{"id":7,"name":"a","p":[{"n":"x"},{"n":"y"}]}' > a.jsonl
	printf '%s\n' '{"id":7,"name":"b","extra":true,"p":[{"n":"changed"}]}' > b.jsonl
	printf '%s\n' '{"id":8,"name":"a","p":[{"n":"x"},{"n":"y"}]}' > c.jsonl
	jsonl-normalize -t t -k id a.jsonl | jq -r 'select(.type == "RECORD") | .record._sluice_id' > a.ids
	jsonl-normalize -t t -k id b.jsonl | jq -r 'select(.type == "RECORD") | .record._sluice_id' > b.ids
	jsonl-normalize -t t -k id c.jsonl | jq -r 'select(.type == "RECORD") | .record._sluice_id' > c.ids
	assert_equal "$(wc -l <a.ids)" 3
	# Same key: same root id, same id for the child at index 0.
	assert_equal "$(head -n 2 b.ids)" "$(head -n 2 a.ids)"
	# Another key: no id in common.
	assert_equal "$(sort a.ids c.ids | uniq -d)" ""
}

@test "-k: the same key values in another table give other child ids" {
	printf '%s\n' '{"id":7,"p":[1]}' > in.jsonl
	jsonl-normalize -t one -k id in.jsonl | jq -r 'select(.stream == "one__p") | .record._sluice_id' > one
	jsonl-normalize -t two -k id in.jsonl | jq -r 'select(.stream == "two__p") | .record._sluice_id' > two
	[[ -s one && $(cat one) != "$(cat two)" ]] || fail "child ids: $(cat one) $(cat two)"
}

@test "-k with two columns, a nested key column and a normalized key name" {
	run -0 --separate-stderr jsonl-normalize -t t -k a,b__c --load-id L <<<'{"a":1,"b":{"c":"x"},"l":[1]}'
	assert_line -n 0 '{"type":"SCHEMA","stream":"t","schema":{"type":"object","properties":{}},"key_properties":["a","b__c"]}'
	assert_line -n 2 '{"type":"SCHEMA","stream":"t__l","schema":{"type":"object","properties":{}},"key_properties":["_sluice_id"]}'
	a=$(jq -r 'select(.type == "RECORD") | .record._sluice_id' <<<"${lines[1]}")
	run -0 --separate-stderr jsonl-normalize -t t -k a,b__c --load-id L <<<'{"a":1,"b":{"c":"y"}}'
	b=$(jq -r 'select(.type == "RECORD") | .record._sluice_id' <<<"${lines[1]}")
	[[ $a =~ $ID_RE && $b =~ $ID_RE && $a != "$b" ]] || fail "ids: $a $b"
	# -k names the output column: RideID is ride_id.
	run -0 --separate-stderr jsonl-normalize -t t -k ride_id <<<'{"RideID":5}'
	assert_line -n 0 --partial '"key_properties":["ride_id"]'
	assert_line -n 1 --partial '"record":{"ride_id":5,'
}

@test "-k with two columns: key values are not simply concatenated" {
	printf '%s\n' '{"a":"ab","b":"c"}' '{"a":"a","b":"bc"}' '{"a":"a\u0000","b":"c"}' \
	    '{"a":"a","b":"\u0000c"}' > in.jsonl
	jsonl-normalize -q -t t -k a,b in.jsonl | jq -r 'select(.type == "RECORD") | .record._sluice_id' > ids
	assert_equal "$(sort -u ids | wc -l)" 4
}

@test "-k: one SCHEMA per table for the whole run, none without -k" {
	run -0 --separate-stderr jsonl-normalize -t rides -k ride_id "$D/rides.jsonl" "$D/rides.jsonl"
	assert_equal "$(jq -r 'select(.type == "SCHEMA") | .stream' <<<"$output" | tr '\n' ' ')" \
	    "rides rides__passengers rides__passengers__phones rides__stops "
	run -0 --separate-stderr jsonl-normalize -t rides "$D/rides.jsonl"
	refute_output --partial '"SCHEMA"'
}

@test "-k: a record without its key value is bad data (65, file:line, no row of it)" {
	printf '%s\n' '{"ride_id":1,"p":[1]}' '{"other":2,"p":[2]}' '{"ride_id":3}' > in.jsonl
	run -65 --separate-stderr jsonl-normalize -t rides -k ride_id in.jsonl
	assert_stderr_regex '^jsonl-normalize: in\.jsonl:2: .*ride_id'
	assert_equal "$(grep -c '"RECORD"' <<<"$output")" 2
	assert_equal "$(jq -r .type <<<"${lines[-1]}")" SLUICE_ABORT
	refute_output --partial '"value":2'
	run -0 --separate-stderr jsonl-normalize -t rides -k ride_id --on-error skip in.jsonl
	assert_stderr_regex 'in\.jsonl:2: '
	assert_equal "$(jq -c 'select(.type == "RECORD" and .stream == "rides") | .record.ride_id' <<<"$output" | tr '\n' ' ')" "1 3 "
	refute_output --partial '"value":2'
}

@test "-k: a null key value is bad data too" {
	printf '%s\n' '{"ride_id":null}' > in.jsonl
	run -65 --separate-stderr jsonl-normalize -t rides -k ride_id in.jsonl
	assert_stderr_regex '^jsonl-normalize: in\.jsonl:1: .*ride_id'
}

@test "-k names output columns: a source name that normalizes away is missing" {
	printf '%s\n' '{"RideID":5}' > in.jsonl
	run -65 --separate-stderr jsonl-normalize -t rides -k RideID in.jsonl
	assert_stderr_regex '^jsonl-normalize: in\.jsonl:1: .*RideID'
}

@test "without -k: ids are random, unique, and differ between runs" {
	jsonl-normalize -t rides --load-id L "$D/rides.jsonl" > a
	jsonl-normalize -t rides --load-id L "$D/rides.jsonl" > b
	jq -r '.record._sluice_id' a > a.ids
	jq -r '.record._sluice_id' b > b.ids
	assert_equal "$(grep -cEv "$ID_RE" a.ids b.ids | tr '\n' ' ')" "a.ids:0 b.ids:0 "
	assert_equal "$(sort -u a.ids | wc -l)" 12
	assert_equal "$(sort a.ids b.ids | uniq -d)" ""
	# The same record twice in one run gets two ids.
	run -0 --separate-stderr jsonl-normalize -t t <<<$'{"a":1}\n{"a":1}'
	assert_equal "$(jq -r .record._sluice_id <<<"$output" | sort -u | wc -l)" 2
}

@test "ids are spread: 20,000 keyed records give 20,000 distinct ids" {
	gen_records 20000 big.jsonl
	jsonl-normalize -t t -k id big.jsonl | jq -r 'select(.type == "RECORD") | .record._sluice_id' > ids
	assert_equal "$(sort -u ids | wc -l)" 20000
	assert_equal "$(grep -cEv "$ID_RE" ids)" 0
}

# ---------------------------------------------------------------------------
# Metadata: load id, extracted-at.

@test "--load-id, else SLUICE_LOAD_ID; only root rows carry it" {
	run -0 --separate-stderr jsonl-normalize -t rides --load-id run-42 "$D/rides.jsonl"
	assert_equal "$(jq -c 'select(.stream == "rides") | .record._sluice_load_id' <<<"$output" | sort -u)" '"run-42"'
	assert_equal "$(jq -c 'select(.stream != "rides") | .record | has("_sluice_load_id")' <<<"$output" | sort -u)" false
	SLUICE_LOAD_ID=from-env run -0 --separate-stderr jsonl-normalize -t rides "$D/rides.jsonl"
	assert_equal "$(jq -c 'select(.stream == "rides") | .record._sluice_load_id' <<<"$output" | sort -u)" '"from-env"'
	SLUICE_LOAD_ID=from-env run -0 --separate-stderr jsonl-normalize -t rides --load-id opt "$D/rides.jsonl"
	assert_equal "$(jq -c 'select(.stream == "rides") | .record._sluice_load_id' <<<"$output" | sort -u)" '"opt"'
}

@test "a generated load id: SECONDS.MICROSECONDS, now, one per run, sortable" {
	t0=$(date +%s)
	jsonl-normalize -t rides "$D/rides.jsonl" > a
	jsonl-normalize -t rides "$D/rides.jsonl" > b
	t1=$(date +%s)
	a=$(jq -r 'select(.stream == "rides") | .record._sluice_load_id' a | sort -u)
	b=$(jq -r 'select(.stream == "rides") | .record._sluice_load_id' b | sort -u)
	[[ $a =~ ^[0-9]{10}\.[0-9]{6}$ ]] || fail "load id: $a"
	[[ $b =~ ^[0-9]{10}\.[0-9]{6}$ ]] || fail "load id: $b"
	(( ${a%.*} >= t0 - 1 && ${b%.*} <= t1 + 1 )) || fail "not now: $a $b ($t0..$t1)"
	[[ $b > $a ]] || fail "not increasing: $a then $b"
	assert_equal "$(jq -r 'select(.stream == "rides") | .record._sluice_load_id | type' a | sort -u)" string
}

@test "--extracted-at: one ISO-8601 UTC time of the run, on root rows only, before _sluice_id" {
	t0=$(date +%s)
	run -0 --separate-stderr jsonl-normalize -t rides --load-id L --extracted-at "$D/rides.jsonl"
	t1=$(date +%s)
	ts=$(jq -r 'select(.stream == "rides") | .record._sluice_extracted_at' <<<"$output" | sort -u)
	[[ $ts =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$ ]] || fail "timestamp: $ts"
	s=$(date -u -d "$ts" +%s)
	(( s >= t0 - 1 && s <= t1 + 1 )) || fail "not now: $ts"
	assert_equal "$(jq -c 'select(.stream == "rides") | .record | keys_unsorted[-3:]' <<<"$output" | sort -u)" \
	    '["_sluice_load_id","_sluice_extracted_at","_sluice_id"]'
	assert_equal "$(jq -c 'select(.stream != "rides") | .record | has("_sluice_extracted_at")' <<<"$output" | sort -u)" false
	run -0 --separate-stderr jsonl-normalize -t rides "$D/rides.jsonl"
	refute_output --partial _sluice_extracted_at
}

# ---------------------------------------------------------------------------
# --jq.

@test "--jq renames and derives before normalizing" {
	jn -t rides --jq '{id: .ride_id, riders: (.passengers | length), who: [.passengers[].name], status: .Payment.status}' -- \
	    "$(line 2 "$D/rides.jsonl")"
	assert_output "$(printf '%s\n' \
	    '{"type":"RECORD","stream":"rides","record":{"id":2,"riders":1,"status":"pending","_sluice_load_id":"L","_sluice_id":"#1"}}' \
	    '{"type":"RECORD","stream":"rides__who","record":{"value":"Cy","_sluice_parent_id":"#1","_sluice_list_idx":0,"_sluice_root_id":"#1","_sluice_id":"#2"}}')"
}

@test "--jq: a field added with =, then normalized like any other" {
	run -0 --separate-stderr jsonl-normalize -t rides --jq '.n = (.passengers | length) | del(.passengers, .Stops, .coordinates, .time)' "$D/rides.jsonl"
	assert_equal "$(jq -c '.record | [.ride_id, .n, .payment__status]' <<<"$output")" \
	    "$(printf '%s\n' '[1,2,"paid"]' '[2,1,"pending"]' '[3,0,"voided"]')"
}

@test "--jq select(...) drops records, and their children" {
	run -0 --separate-stderr jsonl-normalize -t rides --jq 'select(.Payment.status != "paid")' "$D/rides.jsonl"
	assert_equal "$(jq -r '.stream' <<<"$output" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
	    "rides=2 rides__passengers=1 rides__stops=2 "
	refute_output --partial '"Ana"'
	run -0 --separate-stderr jsonl-normalize -t rides --jq 'empty' "$D/rides.jsonl"
	assert_output ""
}

@test "--jq with several outputs gives several records; an array output is a list" {
	run -0 --separate-stderr jsonl-normalize -t passengers --load-id L --jq '.passengers[]' "$D/rides.jsonl"
	assert_equal "$(jq -r '[.stream, (.record.name // .record.value)] | join(" ")' <<<"$output")" \
	    "$(printf '%s\n' 'passengers Ana' 'passengers__phones +1-212-555-0100' 'passengers__phones +1-212-555-0101' 'passengers Ben' 'passengers Cy')"
	run -0 --separate-stderr jsonl-normalize -t passengers --load-id L --jq '[.passengers[]]' "$D/rides.jsonl"
	assert_equal "$(jq -r 'select(.stream == "passengers") | .record.name' <<<"$output" | tr '\n' ' ')" "Ana Ben Cy "
}

@test "--jq output that is not an object is bad data (65, file:line)" {
	run -65 --separate-stderr jsonl-normalize -t rides --jq '.ride_id' "$D/rides.jsonl"
	assert_stderr_regex "^jsonl-normalize: .*rides\.jsonl:1: "
	refute_output --partial '"RECORD"'
	run -65 --separate-stderr jsonl-normalize -t rides --jq '[1]' "$D/rides.jsonl"
	assert_stderr_regex "^jsonl-normalize: .*rides\.jsonl:1: "
	run -0 --separate-stderr jsonl-normalize -t rides --on-error skip --jq 'if .ride_id == 2 then "x" else {id: .ride_id} end' "$D/rides.jsonl"
	assert_stderr_regex 'rides\.jsonl:2: '
	assert_equal "$(jq -c .record.id <<<"$output" | tr '\n' ' ')" "1 3 "
}

@test "--jq runtime error is bad data (65, file:line)" {
	run -65 --separate-stderr jsonl-normalize -t rides --jq '.Payment.type + 1' "$D/rides.jsonl"
	assert_stderr_regex "^jsonl-normalize: .*rides\.jsonl:1: "
	refute_output --partial '"RECORD"'
}

# ---------------------------------------------------------------------------
# --drop and --hash.

@test "--drop removes fields by source path, arrays transparent" {
	run -0 --separate-stderr jsonl-normalize -t rides --load-id L1 --drop passengers.phones --drop Payment.tip --drop coordinates.end "$D/rides.jsonl"
	refute_output --partial 'rides__passengers__phones'
	refute_output --partial '555-01'
	refute_output --partial 'payment__tip'
	refute_output --partial 'coordinates__end'
	# Everything else is as without --drop.
	jsonl-normalize -t rides --load-id L1 "$D/rides.jsonl" | symids |
	    grep -v '"rides__passengers__phones"' |
	    sed -E 's/,"payment__tip":[^,]*//; s/,"coordinates__end(__lon|__lat)?":[^,]*//g' > expected
	symids <<<"$output" | sed -E 's/"#([0-9]+)"/"ID"/g' > got
	sed -E 's/"#([0-9]+)"/"ID"/g' expected > expected.noids
	assert_file_bytes got expected.noids
}

@test "--drop a whole array or object; a path that is not there changes nothing" {
	run -0 --separate-stderr jsonl-normalize -t rides --drop Stops --drop time "$D/rides.jsonl"
	refute_output --partial '"rides__stops"'
	refute_output --partial 'time__'
	assert_equal "$(grep -c '"rides__passengers"' <<<"$output")" 3
	run -0 --separate-stderr jsonl-normalize -t rides --drop no.such.path --load-id L "$D/rides.jsonl"
	assert_equal "$(symids <<<"$output")" "$(jsonl-normalize -t rides --load-id L "$D/rides.jsonl" | symids)"
}

@test "--drop: a path part names a source key or its normalized name: payment.tip drops Payment.tip" {
	run -0 --separate-stderr jsonl-normalize -t rides --drop payment.tip "$D/rides.jsonl"
	assert_stderr_empty
	refute_output --partial 'payment__tip'
	refute_output --partial '4.70'
	# The source spelling works as well; under --naming keep only it does.
	run -0 --separate-stderr jsonl-normalize -t rides --drop Payment.tip "$D/rides.jsonl"
	refute_output --partial 'payment__tip'
	run -0 --separate-stderr jsonl-normalize -t rides --naming keep --drop Payment.tip "$D/rides.jsonl"
	refute_output --partial 'Payment__tip'
	assert_stderr_empty
}

@test "--drop and --hash: a path that named no member is reported on stderr (also with -q) and in --stats" {
	export SALT=s
	run -0 --separate-stderr jsonl-normalize -q -t rides --drop paymnt.tip --drop Payment.tip \
	    --hash passengers.mail --hash passengers.name --salt-env SALT --stats st.json "$D/rides.jsonl"
	assert_equal "${#stderr_lines[@]}" 2
	assert_stderr_line 'jsonl-normalize: --drop paymnt.tip matched no member'
	assert_stderr_line 'jsonl-normalize: --hash passengers.mail matched no member'
	assert_equal "$(jq -c .unmatched_paths st.json)" \
	    '[{"option":"--drop","path":"paymnt.tip"},{"option":"--hash","path":"passengers.mail"}]'
	# A path that some record has is not reported, however few have it.
	printf '%s\n' '{"a":1}' '{"a":2,"b":{"c":3}}' > in.jsonl
	run -0 --separate-stderr jsonl-normalize -t t --drop b.c --stats st.json in.jsonl
	assert_stderr_empty
	assert_equal "$(jq -c .unmatched_paths st.json)" '[]'
	refute_output --partial '"b__c"'
}

# tok TAG VALUE: the token of --hash computed apart from sluice, with
# python3's hmac module: HMAC-SHA256 keyed by $SALT of TAG then VALUE.
tok() {
	python3 -c 'import hmac, hashlib, sys; print(hmac.new(sys.argv[1].encode(), (sys.argv[2] + sys.argv[3]).encode(), hashlib.sha256).hexdigest())' "$SALT" "$1" "$2"
}

@test "--hash: HMAC-SHA256 keyed by the salt of a type byte and the value, pinned" {
	export SALT='pepper:Zx9'
	run -0 --separate-stderr jsonl-normalize -t rides --hash passengers.name --hash ride_id --hash Payment.amt --salt-env SALT "$D/rides.jsonl"
	assert_stderr_empty
	refute_output --partial '"Ana"'
	refute_output --partial pepper
	assert_equal "$(jq -r 'select(.stream == "rides__passengers") | .record.name' <<<"$output" | tr '\n' ' ')" \
	    "$(tok s Ana) $(tok s Ben) $(tok s Cy) "
	# Numbers hash their text, as it arrived.
	assert_equal "$(jq -r 'select(.stream == "rides") | [.record.ride_id, .record.payment__amt] | join(" ")' <<<"$output")" \
	    "$(printf '%s\n' "$(tok n 1) $(tok n 23.50)" "$(tok n 2) $(tok n 9)" "$(tok n 3) $(tok n 0)")"
	# The format is persisted: these tokens never change (computed once with
	# `printf 'sAna' | openssl dgst -sha256 -mac HMAC -macopt key:pepper:Zx9`).
	assert_equal "$(tok s Ana)" 30decd4722c83bc00830c24553d4ca86d3599b6b34edf36214eb7b5699702a4f
	assert_equal "$(jq -r 'select(.stream == "rides__passengers") | .record.name' <<<"${lines[1]}")" \
	    30decd4722c83bc00830c24553d4ca86d3599b6b34edf36214eb7b5699702a4f
}

@test "--hash: the string \"1\" and the number 1 get different tokens; each type has its tag" {
	export SALT=s
	run -0 --separate-stderr jsonl-normalize -t t --load-id L --hash v --salt-env SALT <<<'[{"v":"1"},{"v":1},{"v":true},{"v":false},{"v":null},{"v":{"a":1,"b":[2]}},{"v":[1,"x"]},{"v":"caf\u00e9 \"q\""}]'
	assert_equal "$(jq -c .record.v <<<"$output" | tr '\n' ' ')" \
	    "\"$(tok s 1)\" \"$(tok n 1)\" \"$(tok b true)\" \"$(tok b false)\" null \"$(tok o '{"a":1,"b":[2]}')\" \"$(tok a '[1,"x"]')\" \"$(tok s 'café "q"')\" "
	[[ $(tok s 1) != "$(tok n 1)" ]] || fail "string and number tokens are equal"
}

@test "--hash: equal values give equal tokens, so the column still joins" {
	export SALT=s
	printf '%s\n' '{"user":{"email":"a@x.org"}}' '{"user":{"email":"b@x.org"}}' '{"user":{"email":"a@x.org"}}' > in.jsonl
	run -0 --separate-stderr jsonl-normalize -t t --hash user.email --salt-env SALT in.jsonl
	assert_equal "$(jq -r .record.user__email <<<"$output" | sort | uniq -c | awk '{print $1}' | sort | tr '\n' ' ')" "1 2 "
	assert_equal "$(jq -r .record.user__email <<<"${lines[0]}")" "$(tok s a@x.org)"
}

@test "--hash of an object hashes its JSON text and gives one column" {
	export SALT=s
	run -0 --separate-stderr jsonl-normalize -t t --load-id L --hash o --salt-env SALT <<<'{"o":{"a":1,"b":[2]},"k":1}'
	assert_line -n 0 "{\"type\":\"RECORD\",\"stream\":\"t\",\"record\":{\"o\":\"$(tok o '{"a":1,"b":[2]}')\",\"k\":1,\"_sluice_load_id\":\"L\",\"_sluice_id\":\"$(jq -r .record._sluice_id <<<"${lines[0]}")\"}}"
	assert_equal "${#lines[@]}" 1
}

@test "--hash of the key: -k email --hash email; ids and merges follow the token, the email is stored nowhere" {
	export SALT=s
	printf '%s\n' '{"email":"ann@x.org","n":1}' '{"email":"bo@x.org","n":2}' > a.jsonl
	printf '%s\n' '{"email":"ann@x.org","n":3}' > b.jsonl
	for f in a.jsonl a.jsonl b.jsonl; do
		run -0 --separate-stderr bash -c "jsonl-normalize -t users -k email --hash email --salt-env SALT $f | schema-infer -q | sqlite-load -q db -m merge"
	done
	assert_equal "$(sql db 'SELECT email, n FROM users ORDER BY n')" \
	    "$(printf '%s\n' "$(tok s bo@x.org)|2" "$(tok s ann@x.org)|3")"
	run -0 sqlite3 db .dump
	refute_output --partial 'ann@x.org'
	refute_output --partial 'bo@x.org'
	run -0 --separate-stderr jsonl-normalize -t users -k email --hash email --salt-env SALT a.jsonl
	refute_output --partial '@x.org'
}

@test "--on-error quarantine keeps a rejected record with --drop and --hash applied, not its personal data" {
	export SALT=s
	printf '%s\n' '{"id":1,"user":{"email":"ok@x.org"}}' \
	    '{"user":{"email":"ann@x.org","phone":"555-0100","Name":"Ann"},"p":[{"phone":"555-0101"}]}' \
	    '{"type":"RECORD","stream":"t","record":{"id":9,"user":{"email":"dup@x.org"}},"record":{"user":{"email":"bo@x.org","phone":"555-0102"}}}' \
	    '[{"id":4,"user":{"email":"cy@x.org"}},7]' > in.jsonl
	run -0 --separate-stderr jsonl-normalize -q -t t -k id --drop user.phone --drop p.phone \
	    --hash user.email --hash user.name --salt-env SALT --on-error quarantine=q.jsonl in.jsonl
	assert_equal "$(jq -c .line q.jsonl | tr '\n' ' ')" '2 3 4 '
	run -0 cat q.jsonl
	refute_output --partial '@x.org'
	refute_output --partial '555-01'
	refute_output --partial 'Ann'
	assert_equal "$(jq -r .input q.jsonl)" "$(printf '%s\n' \
	    "{\"user\":{\"email\":\"$(tok s ann@x.org)\",\"Name\":\"$(tok s Ann)\"},\"p\":[{}]}" \
	    "{\"type\":\"RECORD\",\"stream\":\"t\",\"record\":{\"id\":9,\"user\":{\"email\":\"$(tok s dup@x.org)\"}},\"record\":{\"user\":{\"email\":\"$(tok s bo@x.org)\"}}}" \
	    "[{\"id\":4,\"user\":{\"email\":\"$(tok s cy@x.org)\"}},7]")"
}

@test "--on-error quarantine applies --drop and --hash to a malformed Singer message too" {
	export SALT=s
	printf '%s\n' '{"type":"RECORD","stream":"","record":{"id":1,"user":{"email":"ann@x.org","phone":"555-0100"}}}' \
	    '{"type":"RECORD","stream":"t","record":[{"user":{"phone":"555-0101"}}]}' > in.jsonl
	run -0 --separate-stderr jsonl-normalize -q -t t --drop user.phone --hash user.email \
	    --salt-env SALT --on-error quarantine=q.jsonl in.jsonl
	assert_output ""
	assert_equal "$(jq -c .line q.jsonl | tr '\n' ' ')" '1 2 '
	run -0 cat q.jsonl
	refute_output --partial '@x.org'
	refute_output --partial '555-01'
	assert_equal "$(jq -r .input q.jsonl | head -n 1)" \
	    "{\"type\":\"RECORD\",\"stream\":\"\",\"record\":{\"id\":1,\"user\":{\"email\":\"$(tok s ann@x.org)\"}}}"
}

@test "--drop and --hash reach into objects and arrays kept as JSON by --max-nesting" {
	export SALT=s
	run -0 --separate-stderr jsonl-normalize -t t --load-id L --max-nesting 0 --drop user.phone \
	    --hash user.emails --salt-env SALT <<<'{"user":{"phone":"555-0100","emails":["a@x.org"],"id":1},"l":[[{"user":2}]]}'
	assert_stderr_empty
	assert_equal "$(jq -c '.record | del(._sluice_id)' <<<"$output")" \
	    "{\"user\":{\"emails\":\"$(tok a '["a@x.org"]')\",\"id\":1},\"l\":[[{\"user\":2}]],\"_sluice_load_id\":\"L\"}"
	run -0 --separate-stderr jsonl-normalize -t t --load-id L --max-nesting 1 --drop p.phone --drop p.q.phone <<<'{"p":[{"q":{"phone":1,"x":2}},[{"phone":3,"y":4}]]}'
	assert_stderr_empty
	refute_output --partial phone
	assert_output --partial '"q":{"x":2}'
	assert_output --partial '"list":[{"y":4}]'
}

@test "--hash without a usable salt is a usage error (64), nothing written" {
	run -64 --separate-stderr jsonl-normalize -t rides --hash passengers.name "$D/rides.jsonl"
	assert_output ""
	assert_stderr_regex 'salt'
	unset NO_SUCH_SALT_VAR
	run -64 --separate-stderr jsonl-normalize -t rides --hash passengers.name --salt-env NO_SUCH_SALT_VAR "$D/rides.jsonl"
	assert_output ""
	assert_stderr_regex 'salt'
	export EMPTY_SALT=
	run -64 --separate-stderr jsonl-normalize -t rides --hash passengers.name --salt-env EMPTY_SALT "$D/rides.jsonl"
	assert_output ""
}

@test "the salt never shows in a message" {
	export SALT='very-secret-salt'
	run -65 --separate-stderr jsonl-normalize -t t --hash a --salt-env SALT <<<'{"a":"x"'
	[[ $stderr != *very-secret-salt* && $output != *very-secret-salt* ]] || fail "salt leaked"
}

# ---------------------------------------------------------------------------
# Messages.

@test "messages: STATE and ACTIVATE_VERSION pass byte for byte, in order; SCHEMA dropped, its key kept; RECORD uses its stream" {
	run -0 --separate-stderr jsonl-normalize -t bare --load-id L "$D/messages.singer"
	assert_stderr_empty
	symids <<<"$output" > got
	assert_file_bytes got "$D/messages.expected"
}

@test "messages through schema-infer | sqlite-load: tables and state" {
	# (ACTIVATE_VERSION left out: it would retire the rows of rides.)
	grep -v ACTIVATE_VERSION "$D/messages.singer" |
	    jsonl-normalize -q -t bare | schema-infer -q | sqlite-load -q db > state.out
	assert_equal "$(user_tables db | tr '\n' ' ')" "bare bare__passengers drivers rides rides__stops "
	assert_equal "$(tail -n 1 state.out)" '{"type":"STATE","value":{"bookmarks":{"rides":{"cursor":2}}}}'
	assert_equal "$(sql db 'SELECT r.ride_id, s.value FROM rides r JOIN rides__stops s ON s._sluice_parent_id = r._sluice_id')" "1|A"
}

# A tap with two keyed streams, orders on oid and products on sku; its
# second run changes one order (fewer items) and one product.
tap_run() {
	printf '%s\n' \
	    '{"type":"SCHEMA","stream":"orders","schema":{"type":"object","properties":{"oid":{"type":"integer"}}},"key_properties":["oid"]}' \
	    '{"type":"SCHEMA","stream":"products","schema":{"type":"object","properties":{"sku":{"type":"string"}}},"key_properties":["sku"]}'
	if [[ $1 == 1 ]]; then
		printf '%s\n' \
		    '{"type":"RECORD","stream":"orders","record":{"oid":1,"total":10,"items":[{"sku":"a","qty":1},{"sku":"b","qty":2}]}}' \
		    '{"type":"RECORD","stream":"orders","record":{"oid":2,"total":5,"items":[{"sku":"a","qty":5}]}}' \
		    '{"type":"RECORD","stream":"products","record":{"sku":"a","price":1}}' \
		    '{"type":"RECORD","stream":"products","record":{"sku":"b","price":2}}'
	else
		printf '%s\n' \
		    '{"type":"RECORD","stream":"orders","record":{"oid":1,"total":3,"items":[{"sku":"b","qty":3}]}}' \
		    '{"type":"RECORD","stream":"products","record":{"sku":"b","price":4}}'
	fi
	printf '%s\n' "{\"type\":\"STATE\",\"value\":{\"run\":$1}}"
}

@test "upstream key_properties: each stream keeps its own key, announced, ids from it" {
	tap_run 1 > run1.singer
	run -0 --separate-stderr jsonl-normalize --load-id L run1.singer
	assert_equal "$(jq -c 'select(.type == "SCHEMA") | [.stream, .key_properties]' <<<"$output")" "$(printf '%s\n' \
	    '["orders",["oid"]]' '["orders__items",["_sluice_id"]]' '["products",["sku"]]')"
	# Ids from the key: the same on every run.
	first=$(jq -r 'select(.stream == "products") | .record._sluice_id' <<<"$output")
	run -0 --separate-stderr jsonl-normalize --load-id L2 run1.singer
	assert_equal "$(jq -r 'select(.stream == "products") | .record._sluice_id' <<<"$output")" "$first"
	# The key is named as the output names its column.
	run -0 --separate-stderr jsonl-normalize <<<$'{"type":"SCHEMA","stream":"O","schema":{},"key_properties":["OrderId"]}\n{"type":"RECORD","stream":"O","record":{"OrderId":7}}'
	assert_line -n 0 '{"type":"SCHEMA","stream":"o","schema":{"type":"object","properties":{}},"key_properties":["order_id"]}'
	assert_line -n 1 --regexp '^\{"type":"RECORD","stream":"o","record":\{"order_id":7,'
	run -0 --separate-stderr jsonl-normalize --naming keep <<<$'{"type":"SCHEMA","stream":"O","schema":{},"key_properties":["OrderId"]}\n{"type":"RECORD","stream":"O","record":{"OrderId":7}}'
	assert_line -n 0 '{"type":"SCHEMA","stream":"O","schema":{"type":"object","properties":{}},"key_properties":["OrderId"]}'
	# A record without its stream's key value is bad data.
	run -65 --separate-stderr jsonl-normalize <<<$'{"type":"SCHEMA","stream":"o","schema":{},"key_properties":["oid"]}\n{"type":"RECORD","stream":"o","record":{"x":1}}'
	assert_stderr_partial 'stdin:2: table o: record has no value for key "oid"'
	# key_properties that are not names are bad data too.
	run -65 --separate-stderr jsonl-normalize <<<'{"type":"SCHEMA","stream":"o","schema":{},"key_properties":[1]}'
	assert_stderr_partial 'stdin:1: SCHEMA message: "key_properties" is not a list of names'
}

@test "upstream key_properties: a two-stream tap normalizes and merges in one pipe, twice" {
	sluice_setup jsonl-normalize schema-infer sqlite-load
	tap_run 1 | jsonl-normalize -q | schema-infer -q | sqlite-load -q db > state1
	assert_equal "$(cat state1)" '{"type":"STATE","value":{"run":1}}'
	assert_equal "$(sql db "SELECT name FROM pragma_table_info('orders') WHERE pk > 0")" oid
	assert_equal "$(sql db "SELECT name FROM pragma_table_info('products') WHERE pk > 0")" sku
	tap_run 2 | jsonl-normalize -q | schema-infer -q | sqlite-load -q db > state2
	assert_equal "$(cat state2)" '{"type":"STATE","value":{"run":2}}'
	assert_equal "$(sql db 'SELECT oid, total FROM orders ORDER BY oid')" "$(printf '1|3\n2|5')"
	assert_equal "$(sql db 'SELECT sku, price FROM products ORDER BY sku')" "$(printf 'a|1\nb|4')"
	# Order 1's items are replaced with its root row, order 2's kept.
	assert_equal "$(sql db 'SELECT o.oid, i.sku, i.qty FROM orders o JOIN orders__items i ON i._sluice_root_id = o._sluice_id ORDER BY o.oid, i._sluice_list_idx')" \
	    "$(printf '1|b|3\n2|a|5')"
	assert_equal "$(sql db 'SELECT count(*) FROM orders__items')" 2
}

@test "-k: the key of bare records and of streams that declare none, not of those that do" {
	printf '%s\n' \
	    '{"type":"SCHEMA","stream":"keyed","schema":{},"key_properties":["sku"]}' \
	    '{"type":"SCHEMA","stream":"unkeyed","schema":{},"key_properties":[]}' \
	    '{"type":"RECORD","stream":"keyed","record":{"sku":"a","id":1}}' \
	    '{"type":"RECORD","stream":"unkeyed","record":{"id":2}}' \
	    '{"type":"RECORD","stream":"schemaless","record":{"id":3}}' \
	    '{"id":4}' > in.singer
	run -0 --separate-stderr jsonl-normalize -t bare -k id in.singer
	assert_equal "$(jq -c 'select(.type == "SCHEMA") | [.stream, .key_properties]' <<<"$output")" "$(printf '%s\n' \
	    '["keyed",["sku"]]' '["unkeyed",["id"]]' '["schemaless",["id"]]' '["bare",["id"]]')"
	# A later SCHEMA that changes the key is announced again.
	printf '%s\n' '{"type":"SCHEMA","stream":"s","schema":{},"key_properties":["a"]}' \
	    '{"type":"RECORD","stream":"s","record":{"a":1,"b":2}}' \
	    '{"type":"SCHEMA","stream":"s","schema":{},"key_properties":["b"]}' \
	    '{"type":"RECORD","stream":"s","record":{"a":1,"b":2}}' > change.singer
	run -0 --separate-stderr jsonl-normalize change.singer
	assert_equal "$(jq -c 'select(.type == "SCHEMA") | .key_properties' <<<"$output")" "$(printf '%s\n' '["a"]' '["b"]')"
}

@test "Singer versions: a root row keeps its RECORD's version, ACTIVATE_VERSION names the root table" {
	printf '%s\n' '{"type":"ACTIVATE_VERSION","stream":"Big Rides","version":3}' \
	    '{"type":"RECORD","stream":"Big Rides","record":{"id":1,"stops":["A"]},"version":3}' \
	    '{"type":"ACTIVATE_VERSION","stream":"Big Rides","version":3}' \
	    '{"type":"ACTIVATE_VERSION", "stream":"plain", "version":4}' > v.singer
	run -0 --separate-stderr jsonl-normalize --load-id L v.singer
	assert_stderr_empty
	assert_line -n 0 '{"type":"ACTIVATE_VERSION","stream":"big_rides","version":3}'
	assert_line -n 1 --regexp '^\{"type":"RECORD","stream":"big_rides","record":\{"id":1,"_sluice_load_id":"L","_sluice_id":"[^"]+"\},"version":3\}$'
	assert_line -n 2 --regexp '^\{"type":"RECORD","stream":"big_rides__stops","record":\{[^}]*\}\}$'
	assert_line -n 3 '{"type":"ACTIVATE_VERSION","stream":"big_rides","version":3}'
	# A name that normalizes to itself passes byte for byte.
	assert_line -n 4 '{"type":"ACTIVATE_VERSION", "stream":"plain", "version":4}'
}

@test "--jq applies to the records of RECORD messages, not to other messages" {
	printf '%s\n' '{"type":"RECORD","stream":"S","record":{"a":1}}' '{"type":"STATE","value":{"a":1}}' > in.singer
	run -0 --separate-stderr jsonl-normalize --load-id L --jq '.b = 2' in.singer
	assert_line -n 0 --regexp '^\{"type":"RECORD","stream":"s","record":\{"a":1,"b":2,"_sluice_load_id":"L","_sluice_id":"'
	assert_line -n 1 '{"type":"STATE","value":{"a":1}}'
}

@test "a Singer tap's stream: upstream SCHEMAs dropped, -k announces each stream's key" {
	run -0 --separate-stderr jsonl-normalize -k id --load-id L "$SINGER/user_location_data.singer"
	assert_equal "$(jq -c 'select(.type == "SCHEMA") | [.stream, .key_properties, .schema]' <<<"$output")" "$(printf '%s\n' \
	    '["test_users",["id"],{"type":"object","properties":{}}]' \
	    '["test_locations",["id"],{"type":"object","properties":{}}]' \
	    '["test_user_in_location",["id"],{"type":"object","properties":{}}]')"
	assert_line -n -1 "$(tail -n 1 "$SINGER/user_location_data.singer")"
	jsonl-normalize -q -k id "$SINGER/user_location_data.singer" | schema-infer -q | sqlite-load -q db >/dev/null
	assert_equal "$(user_tables db | tr '\n' ' ')" "test_locations test_user_in_location test_users "
	assert_equal "$(sql db 'SELECT id, info__weather, info__mood FROM test_user_in_location ORDER BY id')" \
	    "$(printf '1|rainy|sad\n2|sunny|satisfied\n3|sunny|happy')"
	assert_equal "$(sql db "SELECT name FROM pragma_table_info('test_users') WHERE pk > 0")" id
}

@test "--raw: message-looking lines are bare records" {
	jn -t t --raw -- '{"type":"STATE","value":{"x":1}}'
	assert_output '{"type":"RECORD","stream":"t","record":{"type":"STATE","value__x":1,"_sluice_load_id":"L","_sluice_id":"#1"}}'
}

@test "an upstream SLUICE_ABORT passes through and sets the exit status" {
	abort='{"type":"SLUICE_ABORT","program":"pgfetch","status":69,"error":"http 404"}'
	printf '%s\n' '{"a":1}' "$abort" > in.jsonl
	run -69 --separate-stderr jsonl-normalize -t t in.jsonl
	assert_equal "${#lines[@]}" 2
	assert_line -n 1 "$abort"
}

@test "a malformed message is bad data" {
	printf '%s\n' '{"type":"RECORD","stream":"s","record":5}' > in.jsonl
	run -65 --separate-stderr jsonl-normalize in.jsonl
	assert_stderr_regex '^jsonl-normalize: in\.jsonl:1: '
}

# ---------------------------------------------------------------------------
# Bad input, framing, exit codes.

@test "invalid JSON exits 65 with file:line; nothing of that line or after" {
	printf '%s\n' '{"a":1}' '{"a":2}' '{"a":' '{"a":4}' > in.jsonl
	run -65 --separate-stderr jsonl-normalize -t t in.jsonl
	assert_stderr_regex '^jsonl-normalize: in\.jsonl:3: invalid JSON'
	assert_equal "${#stderr_lines[@]}" 1
	assert_equal "$(grep -c '"RECORD"' <<<"$output")" 2
	refute_output --partial '"a":4'
	assert_equal "$(jq -c '[.type, .program, .status]' <<<"${lines[-1]}")" '["SLUICE_ABORT","jsonl-normalize",65]'
}

@test "invalid JSON in the second file names that file and its own line" {
	printf '%s\n' '{"a":1}' > a.jsonl
	printf '%s\n' '{"a":3}' 'nope' > b.jsonl
	run -65 --separate-stderr jsonl-normalize a.jsonl b.jsonl
	assert_stderr_regex '^jsonl-normalize: b\.jsonl:2: invalid JSON'
	run -65 --separate-stderr jsonl-normalize <<<'x'
	assert_stderr_regex '^jsonl-normalize: stdin:1: invalid JSON'
}

@test "invalid UTF-8 exits 65" {
	printf '{"a":"ok"}\n{"a":"\xff\xfe"}\n' > in.jsonl
	run -65 --separate-stderr jsonl-normalize <in.jsonl
	assert_stderr_regex '^jsonl-normalize: stdin:2: invalid UTF-8'
	printf '{"caf\xe9":1}\n' > key.jsonl
	run -65 --separate-stderr jsonl-normalize <key.jsonl
	assert_stderr_regex '^jsonl-normalize: stdin:1: invalid UTF-8'
}

@test "a scalar line is bad data" {
	printf '%s\n' '{"a":1}' '42' '"s"' > in.jsonl
	run -65 --separate-stderr jsonl-normalize in.jsonl
	assert_stderr_regex '^jsonl-normalize: in\.jsonl:2: '
	run -0 --separate-stderr jsonl-normalize --on-error skip in.jsonl
	assert_stderr_line 'jsonl-normalize: in.jsonl:2: not a JSON object (skipped)'
	assert_stderr_line 'jsonl-normalize: in.jsonl:3: not a JSON object (skipped)'
	assert_equal "$(grep -c '"RECORD"' <<<"$output")" 1
}

@test "a line longer than --max-line-bytes / --max-record-bytes exits 65" {
	awk 'BEGIN { printf "{\"a\":1}\n{\"a\":\""; for (i = 0; i < 2000; i++) printf "x"; printf "\"}\n" }' > in.jsonl
	run -65 --separate-stderr jsonl-normalize --max-line-bytes 1K <in.jsonl
	assert_stderr_regex '^jsonl-normalize: stdin:2: line longer than 1024 bytes'
	run -65 --separate-stderr jsonl-normalize --max-record-bytes 1K <in.jsonl
	assert_stderr_regex '^jsonl-normalize: stdin:2: line longer than 1024 bytes'
	run -0 --separate-stderr jsonl-normalize --max-record-bytes 4K <in.jsonl
	assert_equal "${#lines[@]}" 2
}

@test "empty input: no output, exit 0" {
	run -0 --separate-stderr jsonl-normalize </dev/null
	assert_output ""
	assert_stderr_empty
	printf '\n\n' > blank.jsonl
	run -0 --separate-stderr jsonl-normalize -k id blank.jsonl
	assert_output ""
}

@test "a missing final newline; blank lines and CRLF" {
	printf '{"a":1}\r\n\r\n\n{"a":2}' > in.jsonl
	jsonl-normalize -t t --load-id L in.jsonl > out
	symids out > got
	printf '%s\n' \
	    '{"type":"RECORD","stream":"t","record":{"a":1,"_sluice_load_id":"L","_sluice_id":"#1"}}' \
	    '{"type":"RECORD","stream":"t","record":{"a":2,"_sluice_load_id":"L","_sluice_id":"#2"}}' > expected
	assert_file_bytes got expected
	printf '\nbad' > bad.jsonl
	run -65 --separate-stderr jsonl-normalize bad.jsonl
	assert_stderr_regex '^jsonl-normalize: bad\.jsonl:2: invalid JSON'
}

@test "--stats writes the JSON summary" {
	printf '%s\n' '{"a":[1,2]}' 'bad' '{"type":"STATE","value":1}' '{"a":[]}' > in.jsonl
	run -0 --separate-stderr jsonl-normalize -q --on-error skip --stats st.json in.jsonl
	assert_equal "$(jq -c '{program, lines, errors, skipped}' st.json)" \
	    '{"program":"jsonl-normalize","lines":4,"errors":1,"skipped":1}'
}

@test "a --stats or quarantine file that cannot be created exits 73" {
	printf '%s\n' '{"a":1}' > good.jsonl
	run -73 --separate-stderr jsonl-normalize --stats no-such-dir/st.json good.jsonl
	assert_stderr_partial "no-such-dir/st.json"
	printf '%s\n' '{"a":1}' 'bad' > bad.jsonl
	run -73 --separate-stderr jsonl-normalize --on-error quarantine=no-such-dir/q.jsonl bad.jsonl
	assert_stderr_partial "no-such-dir/q.jsonl"
}

@test "writing to /dev/full exits 75: a full disk is temporary" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	run -75 --separate-stderr bash -c 'jsonl-normalize -t rides "$1" >/dev/full' _ "$D/rides.jsonl"
	assert_stderr_regex '^jsonl-normalize: '
}

@test "jsonl-normalize big | head -n1 exits 141 with empty stderr" {
	gen_records 300000 big.jsonl
	run -0 --separate-stderr bash -c '
	    jsonl-normalize -t t big.jsonl 2>err | head -n 1 >first
	    echo "${PIPESTATUS[0]}"'
	assert_output 141
	assert_equal "$(cat err)" ""
	assert_equal "$(jq -r .record.id first)" 1
}

# ---------------------------------------------------------------------------
# GitHub issues (dlt's test case): labels, assignees, user, reactions.

@test "GitHub issues: tables, columns and row counts equal jq's" {
	jq -c '.[]' "$ISSUES" > issues.jsonl
	jsonl-normalize -q -t issues -k id issues.jsonl > out
	assert_equal "$(jq -r 'select(.type == "RECORD") | .stream' out | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
	    "issues=100 issues__assignees=$(jq '[.[].assignees | length] | add' "$ISSUES") issues__labels=$(jq '[.[].labels | length] | add' "$ISSUES") "
	assert_equal "$(jq -r 'select(.type == "RECORD") | .stream' out | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
	    "issues=100 issues__assignees=31 issues__labels=34 "
	assert_equal "$(jq -c 'select(.type == "SCHEMA") | [.stream, .key_properties]' out | tr '\n' ' ')" \
	    '["issues",["id"]] ["issues__labels",["_sluice_id"]] ["issues__assignees",["_sluice_id"]] '
	row=$(jq -c 'select(.stream == "issues" and .record.id == 388089021) | .record' out)
	assert_equal "$(jq -c '[.number, .user__login, .user__id, .reactions__x1, .reactions___1, .reactions__total_count, .assignee__login, has("user"), has("labels"), has("reactions")]' <<<"$row")" \
	    "$(jq -c '.[] | select(.id == 388089021) | [.number, .user.login, .user.id, .reactions["+1"], .reactions["-1"], .reactions.total_count, .assignee.login, false, false, false]' "$ISSUES")"
}

@test "GitHub issues through schema-infer | sqlite-load: labels and assignees join back" {
	jq -c '.[]' "$ISSUES" | jsonl-normalize -q -t issues -k id | schema-infer -q | sqlite-load -q gh.db
	assert_equal "$(user_tables gh.db | tr '\n' ' ')" "issues issues__assignees issues__labels "
	assert_equal "$(sql gh.db "SELECT name FROM pragma_table_info('issues') WHERE pk > 0")" id
	assert_equal "$(sql gh.db "SELECT name FROM pragma_table_info('issues__labels') WHERE pk > 0")" _sluice_id
	assert_equal "$(coltype gh.db issues user__login)" TEXT
	assert_equal "$(coltype gh.db issues reactions__x1)" INTEGER
	assert_equal "$(coltype gh.db issues reactions___1)" INTEGER
	assert_equal "$(coltype gh.db issues user)" ""
	assert_equal "$(sql gh.db 'SELECT sum(reactions__x1), sum(reactions___1), count(*) FROM issues')" "44|0|100"
	assert_equal "$(sql gh.db "SELECT user__login FROM issues WHERE id = 388089021")" Mytherin
	sql gh.db 'SELECT i.id, l._sluice_list_idx, l.name FROM issues i
	    JOIN issues__labels l ON l._sluice_parent_id = i._sluice_id AND l._sluice_root_id = i._sluice_id
	    ORDER BY i.id, l._sluice_list_idx' > labels.sql
	jq -r '.[] | .id as $id | .labels | to_entries[] | "\($id)|\(.key)|\(.value.name)"' "$ISSUES" | sort -t'|' -k1,1n -k2,2n > labels.jq
	assert_file_bytes labels.sql labels.jq
	sql gh.db 'SELECT i.id, a._sluice_list_idx, a.login, a.id FROM issues i
	    JOIN issues__assignees a ON a._sluice_parent_id = i._sluice_id
	    ORDER BY i.id, a._sluice_list_idx' > assignees.sql
	jq -r '.[] | .id as $id | .assignees | to_entries[] | "\($id)|\(.key)|\(.value.login)|\(.value.id)"' "$ISSUES" | sort -t'|' -k1,1n -k2,2n > assignees.jq
	assert_file_bytes assignees.sql assignees.jq
	assert_equal "$(sql gh.db 'SELECT count(*) FROM issues__labels')" 34
	assert_equal "$(sql gh.db 'SELECT count(*) FROM issues__assignees')" 31
}

@test "GitHub issues: the page as one top-level array line gives the same rows" {
	jq -c '.[]' "$ISSUES" | jsonl-normalize -q -t issues -k id --load-id L > a
	jq -c . "$ISSUES" > page.jsonl
	assert_equal "$(wc -l <page.jsonl)" 1
	jsonl-normalize -q -t issues -k id --load-id L page.jsonl > b
	assert_file_bytes b a
}

# ---------------------------------------------------------------------------
# GitHub events (dlt's test case): deep payloads.

@test "GitHub events: child tables of nested objects' arrays; counts equal jq's" {
	jq -c '.[]' "$EVENTS" | jsonl-normalize -q -t events -k id | schema-infer -q | sqlite-load -q gh.db
	assert_equal "$(user_tables gh.db | tr '\n' ' ')" \
	    "events events__payload__commits events__payload__issue__assignees events__payload__issue__labels events__payload__pull_request__base__repo__topics events__payload__pull_request__labels events__payload__pull_request__requested_reviewers "
	assert_equal "$(sql gh.db 'SELECT count(*) FROM events')" 100
	local t path
	for t in payload__commits payload__issue__labels payload__issue__assignees \
	    payload__pull_request__labels payload__pull_request__requested_reviewers \
	    payload__pull_request__base__repo__topics; do
		path=".${t//__/.}"
		assert_equal "$t=$(sql gh.db "SELECT count(*) FROM events__$t")" \
		    "$t=$(jq "[.[] | $path // [] | length] | add" "$EVENTS")"
	done
	assert_equal "$(sql gh.db 'SELECT count(*) FROM events__payload__commits')" 77
}

@test "GitHub events: commits join back to their push, in order" {
	jq -c '.[]' "$EVENTS" | jsonl-normalize -q -t events -k id | schema-infer -q | sqlite-load -q gh.db
	assert_equal "$(columns gh.db events__payload__commits)" "sha,author__email,author__name,message,distinct,url"
	sql gh.db 'SELECT e.id, e.payload__push_id, c._sluice_list_idx, c.sha, c.author__name
	    FROM events e JOIN events__payload__commits c ON c._sluice_parent_id = e._sluice_id
	    ORDER BY e.id, c._sluice_list_idx' > commits.sql
	jq -r '.[] | select(.payload.commits) | . as $e | .payload.commits | to_entries[] |
	    "\($e.id)|\($e.payload.push_id)|\(.key)|\(.value.sha)|\(.value.author.name)"' "$EVENTS" |
	    sort -t'|' -k1,1 -k3,3n > commits.jq
	assert_file_bytes commits.sql commits.jq
	assert_equal "$(coltype gh.db events id)" TEXT
	assert_equal "$(sql gh.db "SELECT count(*) FROM events WHERE type = 'PushEvent'")" 8
}

@test "GitHub events: reactions and _links columns of comments, dlt's names" {
	jq -c '.[]' "$EVENTS" | jsonl-normalize -q -t events -k id > out
	cols=$(jq -r 'select(.stream == "events") | .record | keys_unsorted[]' out | sort -u)
	for c in payload__comment__reactions__x1 payload__comment__reactions___1 \
	    payload__comment___links__html__href actor__display_login repo__name \
	    payload__pull_request__base__repo__owner__login; do
		grep -Fxq "$c" <<<"$cols" || fail "no column $c"
	done
	assert_equal "$(jq -r 'select(.stream == "events") | .record.payload__comment__reactions__x1 // empty' out | awk '{s += $1} END {print s + 0}')" \
	    "$(jq '[.[].payload.comment.reactions["+1"] // 0] | add' "$EVENTS")"
	# No column of any table holds the __ separator inside a source key.
	assert_equal "$(jq -r 'select(.type == "RECORD") | .record | keys_unsorted[]' out | grep -c '[A-Z]')" 0
}
