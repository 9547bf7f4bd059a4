bats_require_minimum_version 1.5.0
# sqlite-load as a Singer target: the Singer target test streams in
# tests/data/singer/ (see tests/data/PROVENANCE.md) load as a target would.

load helper

setup() {
	sluice_setup sqlite-load
}

@test "user_location_data: three streams, rows, keys, nested info as JSON" {
	run -0 --separate-stderr sqlite-load -q db "$SINGER/user_location_data.singer"
	assert_equal "$(jq -c . <<<"$output")" \
	    '{"type":"STATE","value":{"test_users":5,"test_locations":3,"test_user_in_location":3}}'
	assert_equal "${#lines[@]}" 1
	assert_equal "$(user_tables db)" "$(printf 'test_locations\ntest_user_in_location\ntest_users')"
	assert_equal "$(sql db 'SELECT id, name FROM test_users ORDER BY id')" \
	    "$(printf '1|Yannis\n2|Micael\n3|Jacob\n4|Josh\n5|Thomas')"
	assert_equal "$(sql db 'SELECT id, name FROM test_locations ORDER BY id')" \
	    "$(printf '1|Philadelphia\n2|NY\n3|SF')"
	assert_equal "$(coldefs db test_user_in_location)" \
	    "id INTEGER, user_id INTEGER, location_id INTEGER, info JSON"
	assert_equal "$(sql db "SELECT id, user_id, location_id, json_extract(info, '\$.weather'), json_extract(info, '\$.mood') FROM test_user_in_location ORDER BY id")" \
	    "$(printf '1|1|1|rainy|sad\n2|1|2|sunny|satisfied\n3|1|3|sunny|happy')"
}

@test "key_properties make the primary key" {
	sqlite-load -q db "$SINGER/user_location_data.singer" >/dev/null
	assert_equal "$(sql db "SELECT name FROM pragma_table_info('test_users') WHERE pk > 0")" id
}

@test "user_location_upsert_data after user_location_data, merge mode: merged rows" {
	sqlite-load -q db "$SINGER/user_location_data.singer" >/dev/null
	run -0 --separate-stderr sqlite-load -q --load-id UP -m merge db "$SINGER/user_location_upsert_data.singer"
	assert_equal "$(jq -c . <<<"$output")" \
	    '{"type":"STATE","value":{"test_users":13,"test_locations":8,"test_user_in_location":14}}'
	assert_equal "$(sql db 'SELECT id, name FROM test_users ORDER BY id')" \
	    "$(printf '%s\n' 1\|Johny 2\|George 3\|Jacob 4\|Josh 5\|Jim 8\|Thomas 12\|Paul 13\|Mary)"
	assert_equal "$(sql db 'SELECT id, name FROM test_locations ORDER BY id')" \
	    "$(printf '%s\n' 1\|Philly 2\|NY '3|San Francisco' 6\|Colorado 8\|Boston)"
	assert_equal "$(sql db "SELECT id, user_id, location_id, json_extract(info, '\$.weather'), json_extract(info, '\$.mood') FROM test_user_in_location ORDER BY id")" \
	    "$(printf '%s\n' '1|1|4|rainy|sad' '2|2|3|sunny|satisfied' '3|1|3|sunny|happy' '6|3|2|sunny|happy' '14|4|1|cloudy|ok')"
	assert_equal "$(sql db "SELECT json(tables) FROM _sluice_loads WHERE load_id = 'UP'" | jq -cS .)" \
	    '{"test_locations":{"deleted":0,"inserted":2,"unchanged":0,"updated":2},"test_user_in_location":{"deleted":0,"inserted":2,"unchanged":0,"updated":2},"test_users":{"deleted":0,"inserted":3,"unchanged":0,"updated":3}}'
	run -0 --separate-stderr sqlite-load db --state-get test_user_in_location
	assert_output 14
}

@test "default mode: a keyed tap's second run merges instead of failing on UNIQUE" {
	sqlite-load -q --load-id R1 db "$SINGER/user_location_data.singer" >/dev/null
	run -0 --separate-stderr sqlite-load --load-id R2 db "$SINGER/user_location_data.singer"
	assert_stderr "sqlite-load: load R2: test_users +0 ~0 =5 -0, test_locations +0 ~0 =3 -0, test_user_in_location +0 ~0 =3 -0 committed"
	assert_equal "$(sql db 'SELECT (SELECT count(*) FROM test_users) || (SELECT count(*) FROM test_locations) || (SELECT count(*) FROM test_user_in_location)')" 533
	assert_equal "$(sql db 'SELECT id, name FROM test_users ORDER BY id')" \
	    "$(printf '1|Yannis\n2|Micael\n3|Jacob\n4|Josh\n5|Thomas')"
	# The upsert stream, in the default mode too: the same rows as -m merge.
	run -0 --separate-stderr sqlite-load -q --load-id UP db "$SINGER/user_location_upsert_data.singer"
	assert_equal "$(sql db 'SELECT id, name FROM test_users ORDER BY id')" \
	    "$(printf '%s\n' 1\|Johny 2\|George 3\|Jacob 4\|Josh 5\|Jim 8\|Thomas 12\|Paul 13\|Mary)"
	assert_equal "$(sql db 'SELECT id, name FROM test_locations ORDER BY id')" \
	    "$(printf '%s\n' 1\|Philly 2\|NY '3|San Francisco' 6\|Colorado 8\|Boston)"
	assert_equal "$(load_counts db UP test_users)" "3|3|0"
}

@test "default mode: a key merges (-k, key_properties), no key appends, -m append refuses a known key" {
	# Bare records with -k: the second run updates.
	sqlite-load -q -t t -k id db <<<'{"id":1,"v":"a"}'
	run -0 --separate-stderr sqlite-load --load-id K2 -t t -k id db <<<$'{"id":1,"v":"b"}\n{"id":2,"v":"c"}'
	assert_stderr "sqlite-load: load K2: t +1 ~1 =0 -0 committed"
	assert_equal "$(sql db 'SELECT id, v FROM t ORDER BY id')" "$(printf '1|b\n2|c')"
	# A key the input repeats: the last record wins.
	sqlite-load -q -t t -k id db <<<$'{"id":3,"v":"x"}\n{"id":3,"v":"y"}'
	assert_equal "$(sql db 'SELECT v FROM t WHERE id = 3')" y
	# A stream whose SCHEMA names no key appends.
	printf '%s\n' '{"type":"SCHEMA","stream":"log","schema":{"type":"object","properties":{"id":{"type":"integer"}}},"key_properties":[]}' \
	    '{"type":"RECORD","stream":"log","record":{"id":1}}' > log.singer
	sqlite-load -q db log.singer
	sqlite-load -q db log.singer
	assert_equal "$(sql db 'SELECT count(*) FROM log')" 2
	# So do bare records without -k.
	sqlite-load -q -t bare db <<<'{"id":1}'
	sqlite-load -q -t bare db <<<'{"id":1}'
	assert_equal "$(sql db 'SELECT count(*) FROM bare')" 2
	# -m append with a key keeps refusing a key the table holds.
	db_snapshot db
	run -65 --separate-stderr sqlite-load -t t -k id -m append db <<<'{"id":1,"v":"z"}'
	assert_stderr_partial "stdin:1: insert: UNIQUE constraint failed: t.id"
	db_unchanged db
	sqlite-load -q u.db "$SINGER/user_location_data.singer" >/dev/null
	run -65 --separate-stderr sqlite-load -m append u.db "$SINGER/user_location_data.singer"
	assert_stderr_partial "UNIQUE constraint failed: test_users.id"
	# A table that holds duplicates already cannot be merged into: the
	# message says how to append instead.
	sqlite-load -q -t dup d.db <<<$'{"id":1}\n{"id":1}'
	run -65 --separate-stderr sqlite-load -t dup -k id d.db <<<'{"id":2}'
	assert_stderr_partial "table dup holds duplicate keys: cannot merge on them (a stream with a key merges by default: -m append appends)"
	run -0 --separate-stderr sqlite-load -q -t dup -k id -m append d.db <<<'{"id":2}'
	assert_equal "$(sql d.db 'SELECT count(*) FROM dup')" 3
}

@test "schema_updates: four SCHEMAs give columns id, a1..a6 with their types" {
	run -0 --separate-stderr sqlite-load -q db "$SINGER/schema_updates.singer"
	assert_equal "$(jq -c . <<<"$output")" '{"type":"STATE","value":{"test_schema_updates":6}}'
	assert_equal "$(columns db test_schema_updates)" "id,a1,a2,a3,a4,a5,a6"
	assert_equal "$(coldefs db test_schema_updates)" \
	    "id INTEGER, a1 REAL, a2 TEXT, a3 BOOLEAN, a4 JSON, a5 JSON, a6 INTEGER"
	assert_equal "$(sql db 'SELECT count(*) FROM test_schema_updates')" 6
	assert_equal "$(sql db 'SELECT id, a1, typeof(a1), a2, a3, a6 FROM test_schema_updates ORDER BY id')" \
	    "$(printf '%s\n' '1|101.0|real|string1||' '2|102.0|real|string2|1|' '3|103.0|real|string3|0|' \
	        '4|104.0|real|string4|1|' '5|105.0|real|string5|0|985' '6|106.0|real|string6|1|341')"
	assert_equal "$(sql db "SELECT id, json(a5), json_extract(a4, '\$.value') FROM test_schema_updates WHERE id >= 3 ORDER BY id")" \
	    "$(printf '%s\n' '3|["banana","apple"]|1' '4|["orange","pear"]|22' '5|["apple"]|33' '6|["banana","orange"]|444')"
}

@test "encoded_string_data: strings arrive byte for byte, U+0000 included" {
	run -0 --separate-stderr sqlite-load -q db "$SINGER/encoded_string_data.singer"
	assert_equal "$(jq -c . <<<"$output")" \
	    '{"type":"STATE","value":{"test_strings":11,"test_strings_in_objects":11,"test_strings_in_arrays":6}}'
	assert_equal "$(sql db 'SELECT count(*) FROM test_strings')" 11
	assert_equal "$(sql db 'SELECT count(*) FROM test_strings_in_objects')" 11
	assert_equal "$(sql db 'SELECT count(*) FROM test_strings_in_arrays')" 6
	# Expected bytes computed from the file with a JSON parser.
	assert_equal "$(sql db 'SELECT id || " " || hex(info) FROM test_strings ORDER BY id')" "$(cat <<'EOF'
1 73696D706C6520737472696E672032383337
2 CEB1CF80CEBBCEAE20CF83CF85CEBCCEB2CEBFCEBBCEBFCF83CEB5CEB9CF81CEAC
3 E7AE80E58D95E79A84E5AD97E4B8B2
4 636861C3AE6E652073696D706C65
5 71756F7465642022737472696E6722
6 766172696F75732022205C202F200A206573636170652073657175656E636573
7 6D
8 C481
9 C699
10 446F75626C652071756F74696E673A205C7530303030205C7530303431205C7530303031
11 436F6E74726F6C204368617261637465727320696E20737472696E673A200020412001
EOF
)"
	assert_equal "$(sql db 'SELECT typeof(info), length(CAST(info AS BLOB)) FROM test_strings WHERE id = 11')" "text|35"
}

@test "encoded_string_data: strings inside objects and arrays stay valid JSON" {
	sqlite-load -q db "$SINGER/encoded_string_data.singer" >/dev/null
	assert_equal "$(sql db 'SELECT min(json_valid(info)) FROM test_strings_in_objects')" 1
	assert_equal "$(sql db 'SELECT min(json_valid(strings)) FROM test_strings_in_arrays')" 1
	assert_equal "$(sql db "SELECT json_extract(info, '\$.name') FROM test_strings_in_objects WHERE id = 11")" \
	    "Control Characters in string"
	assert_equal "$(sql db "SELECT hex(json_extract(info, '\$.value')) FROM test_strings_in_objects WHERE id = 2")" \
	    CEB1CF80CEBBCEAE20CF83CF85CEBCCEB2CEBFCEBBCEBFCF83CEB5CEB9CF81CEAC
	assert_equal "$(sql db "SELECT instr(info, '\\u0000') > 0 FROM test_strings_in_objects WHERE id = 11")" 1
	assert_equal "$(sql db "SELECT json_array_length(strings), hex(json_extract(strings, '\$[0]')), hex(json_extract(strings, '\$[1]')), hex(json_extract(strings, '\$[2]')) FROM test_strings_in_arrays WHERE id = 4")" \
	    "3|6D|C481|C699"
	assert_equal "$(sql db "SELECT instr(strings, '\\u0000') > 0 FROM test_strings_in_arrays WHERE id = 6")" 1
}

@test "test_activate_version_hard: the stale XX row is gone" {
	run -0 --separate-stderr sqlite-load -q db "$SINGER/test_activate_version_hard.singer"
	assert_output ""
	assert_equal "$(sql db 'SELECT code, name FROM test_activate_version_hard ORDER BY code')" \
	    "$(printf '%s\n' AF\|Africa AN\|Antarctica AS\|Asia EU\|Europe 'NA|North America' OC\|Oceania 'SA|South America')"
	assert_equal "$(sql db "SELECT count(*) FROM test_activate_version_hard WHERE code = 'XX'")" 0
	assert_equal "$(sql db 'SELECT DISTINCT _sluice_version FROM test_activate_version_hard')" 1674486431563
}

# version V [FILE]: test_activate_version_hard.singer with its current
# version 1674486431563 made V (the stale XX row keeps its older one).
version() {
	sed "s/1674486431563/$1/g" "$SINGER/test_activate_version_hard.singer"
}

CODES="AF,AN,AS,EU,NA,OC,SA"
codes() {
	sql "${1:-db}" "SELECT group_concat(code) FROM (SELECT code FROM test_activate_version_hard ${2:-} ORDER BY code)"
}

@test "ACTIVATE_VERSION: test_activate_version_hard twice in the default mode leaves its 7 rows" {
	run -0 --separate-stderr sqlite-load --load-id R1 db "$SINGER/test_activate_version_hard.singer"
	assert_stderr "sqlite-load: load R1: test_activate_version_hard +8 ~0 =0 -1 committed"
	run -0 --separate-stderr sqlite-load --load-id R2 db "$SINGER/test_activate_version_hard.singer"
	# The seven are merged, the stale XX comes and goes again.
	assert_stderr "sqlite-load: load R2: test_activate_version_hard +1 ~0 =7 -1 committed"
	assert_equal "$(sql db 'SELECT count(*) FROM test_activate_version_hard')" 7
	assert_equal "$(codes)" "$CODES"
	# A newer full refresh that lacks four codes leaves the other three.
	version 1674486431999 | grep -v -e '"EU"' -e '"NA"' -e '"OC"' -e '"SA"' > v2.singer
	run -0 --separate-stderr sqlite-load --load-id R3 db v2.singer
	# Its first ACTIVATE_VERSION clears the older rows, in the same
	# transaction: three come back, and XX comes and goes again.
	assert_stderr "sqlite-load: load R3: test_activate_version_hard +4 ~0 =0 -8 committed"
	assert_equal "$(sql db 'SELECT code, _sluice_version FROM test_activate_version_hard ORDER BY code')" \
	    "$(printf '%s\n' AF\|1674486431999 AN\|1674486431999 AS\|1674486431999)"
}

@test "ACTIVATE_VERSION: rows a hand put in without a version go with the next full refresh (as target-postgres)" {
	sqlite-load -q db "$SINGER/test_activate_version_hard.singer"
	sql db "INSERT INTO test_activate_version_hard (code, name) VALUES ('M1', 'Manual'), ('M2', 'Manual')"
	assert_equal "$(sql db 'SELECT count(*) FROM test_activate_version_hard')" 9
	run -0 --separate-stderr sqlite-load -q db "$SINGER/test_activate_version_hard.singer"
	assert_stderr_empty
	assert_equal "$(codes)" "$CODES"
}

@test "ACTIVATE_VERSION --activate-version soft: older rows are marked _sluice_deleted_at, not deleted" {
	run -0 --separate-stderr sqlite-load --load-id S1 --activate-version soft db "$SINGER/test_activate_version_hard.singer"
	assert_stderr "sqlite-load: load S1: test_activate_version_hard +8 ~0 =0 -1 committed"
	assert_equal "$(sql db 'SELECT count(*) FROM test_activate_version_hard')" 8
	assert_equal "$(coltype db test_activate_version_hard _sluice_deleted_at)" TIMESTAMP
	assert_equal "$(codes db 'WHERE _sluice_deleted_at IS NULL')" "$CODES"
	# The mark is the load's time, as _sluice_loads has it.
	assert_equal "$(sql db "SELECT code FROM test_activate_version_hard WHERE _sluice_deleted_at = (SELECT started_at FROM _sluice_loads WHERE load_id = 'S1')")" XX
	t1=$(sql db "SELECT _sluice_deleted_at FROM test_activate_version_hard WHERE code = 'XX'")
	[[ $t1 =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$ ]] || fail "not an ISO time: $t1"
	# A newer version without EU..SA (and without XX): they are marked,
	# XX keeps its time; its first ACTIVATE_VERSION marks the seven, and
	# the three it sends are live again.
	version 1674486431999 | grep -v -e '"EU"' -e '"NA"' -e '"OC"' -e '"SA"' -e '"XX"' > v2.singer
	sleep 1
	run -0 --separate-stderr sqlite-load --load-id S2 --activate-version soft db v2.singer
	assert_stderr "sqlite-load: load S2: test_activate_version_hard +0 ~3 =0 -7 committed"
	assert_equal "$(sql db 'SELECT count(*) FROM test_activate_version_hard')" 8
	assert_equal "$(codes db 'WHERE _sluice_deleted_at IS NULL')" "AF,AN,AS"
	assert_equal "$(sql db "SELECT _sluice_deleted_at FROM test_activate_version_hard WHERE code = 'XX'")" "$t1"
	assert_equal "$(codes db "WHERE _sluice_deleted_at = (SELECT started_at FROM _sluice_loads WHERE load_id = 'S2')")" "EU,NA,OC,SA"
	# EU back in a newest version: live again; the others stay marked.
	version 1674486432000 | grep -v -e '"NA"' -e '"OC"' -e '"SA"' > v3.singer
	sqlite-load -q --activate-version soft db v3.singer
	assert_equal "$(codes db 'WHERE _sluice_deleted_at IS NULL')" "AF,AN,AS,EU"
	run -64 --separate-stderr sqlite-load --activate-version sometimes db v3.singer
}

@test "ACTIVATE_VERSION in each mode: merge, replace, append with and without a key" {
	local m
	version 1674486431999 > v2.singer
	for m in merge replace append; do
		rm -f db db-wal db-shm
		sqlite-load -q -m "$m" db "$SINGER/test_activate_version_hard.singer"
		assert_equal "$(codes)" "$CODES"
		# A newer full refresh: its first ACTIVATE_VERSION already clears
		# the older rows, so even append with the key takes it.
		run -0 --separate-stderr sqlite-load -q -m "$m" db v2.singer
		assert_equal "$(codes)" "$CODES"
		assert_equal "$(sql db 'SELECT DISTINCT _sluice_version FROM test_activate_version_hard')" 1674486431999
	done
	# The same version again in append mode: the keys are taken.
	run -65 --separate-stderr sqlite-load -q -m append db v2.singer
	assert_stderr_partial "UNIQUE constraint failed"
	# A stream without a key appends by default: 7 rows after each refresh.
	rm -f db db-wal db-shm
	sed 's/"key_properties": \["code"\]/"key_properties": []/' "$SINGER/test_activate_version_hard.singer" > nokey1.singer
	sed 's/"key_properties": \["code"\]/"key_properties": []/' v2.singer > nokey2.singer
	sqlite-load -q db nokey1.singer
	sqlite-load -q db nokey2.singer
	assert_equal "$(codes)" "$CODES"
	assert_equal "$(sql db "SELECT name FROM pragma_table_info('test_activate_version_hard') WHERE pk > 0")" ""
}

@test "ACTIVATE_VERSION: a stream whose records carry no version keeps its rows, with a warning naming it" {
	printf '%s\n' '{"type":"SCHEMA","stream":"plain","schema":{"type":"object","properties":{"id":{"type":"integer"}}},"key_properties":["id"]}' \
	    '{"type":"RECORD","stream":"plain","record":{"id":1}}' \
	    '{"type":"RECORD","stream":"plain","record":{"id":2}}' \
	    '{"type":"ACTIVATE_VERSION","stream":"plain","version":5}' > plain.singer
	run -0 --separate-stderr sqlite-load -q db plain.singer
	assert_stderr "sqlite-load: plain.singer:4: stream plain: ACTIVATE_VERSION 5: 2 rows without a version kept: its records carry no version"
	assert_equal "$(sql db 'SELECT count(*) FROM plain')" 2
	# Rows loaded before without versions, and an ACTIVATE_VERSION alone.
	run -0 --separate-stderr sqlite-load -q db <<<'{"type":"ACTIVATE_VERSION","stream":"plain","version":6}'
	assert_stderr "sqlite-load: stdin:1: stream plain: ACTIVATE_VERSION 6: 2 rows without a version kept: its records carry no version"
	assert_equal "$(sql db 'SELECT count(*) FROM plain')" 2
	# Soft: kept and not marked either.
	run -0 --separate-stderr sqlite-load -q --activate-version soft db <<<'{"type":"ACTIVATE_VERSION","stream":"plain","version":7}'
	assert_stderr_partial "2 rows without a version kept"
	assert_equal "$(sql db "SELECT count(*) FROM pragma_table_info('plain') WHERE name = '_sluice_deleted_at'")" 0
	# Versioned rows with one unversioned record in the same load: the
	# older versions go, the unversioned row stays, with the warning.
	version 1674486431563 > v.singer
	sqlite-load -q db v.singer
	{ head -n 2 v.singer
	  echo '{"type":"RECORD","stream":"test_activate_version_hard","record":{"code":"ZZ","name":"no version"}}'
	  sed 's/1674486431563/1674486431999/g' v.singer | sed -n '3,5p;11p'; } > mixed.singer
	run -0 --separate-stderr sqlite-load -q db mixed.singer
	assert_stderr "sqlite-load: mixed.singer:7: stream test_activate_version_hard: ACTIVATE_VERSION 1674486431999: 1 row without a version kept: its records carry no version"
	assert_equal "$(codes)" "AF,AN,AS,ZZ"
}

@test "ACTIVATE_VERSION through jsonl-normalize: a retired root row takes its child rows with it" {
	sluice_setup jsonl-normalize schema-infer sqlite-load
	# refresh V ID...: a full refresh of version V with those rides.
	refresh() {
		local v=$1 id
		shift
		echo "{\"type\":\"SCHEMA\",\"stream\":\"Rides\",\"schema\":{},\"key_properties\":[\"id\"]}"
		echo "{\"type\":\"ACTIVATE_VERSION\",\"stream\":\"Rides\",\"version\":$v}"
		for id in "$@"; do
			echo "{\"type\":\"RECORD\",\"stream\":\"Rides\",\"record\":{\"id\":$id,\"stops\":[\"s$id\",\"t$id\"]},\"version\":$v}"
		done
		echo "{\"type\":\"ACTIVATE_VERSION\",\"stream\":\"Rides\",\"version\":$v}"
	}
	refresh 1 1 2 3 | jsonl-normalize -q | schema-infer -q | sqlite-load -q db
	assert_equal "$(sql db 'SELECT count(*) FROM rides__stops')" 6
	run -0 --separate-stderr sh -c "$(declare -f refresh); refresh 2 2 | jsonl-normalize -q | schema-infer -q | sqlite-load --load-id R2 db"
	assert_stderr "sqlite-load: load R2: rides +1 ~0 =0 -3, rides__stops +2 ~0 =0 -6 committed"
	assert_equal "$(sql db 'SELECT id, _sluice_version FROM rides')" "2|2"
	assert_equal "$(sql db 'SELECT group_concat(value) FROM (SELECT value FROM rides__stops ORDER BY value)')" "s2,t2"
}

@test "ACTIVATE_VERSION for a stream with no records makes no table" {
	run -0 --separate-stderr sqlite-load -q db <<<'{"type":"ACTIVATE_VERSION","stream":"ghost","version":1}'
	assert_stderr_empty
	assert_equal "$(sql db "SELECT count(*) FROM sqlite_master WHERE name = 'ghost'")" 0
	run -0 --separate-stderr sqlite-load -q --activate-version soft -m replace db <<<'{"type":"ACTIVATE_VERSION","stream":"ghost","version":1}'
	assert_equal "$(sql db "SELECT count(*) FROM sqlite_master WHERE name = 'ghost'")" 0
	# A reserved name is still bad data.
	run -65 --separate-stderr sqlite-load -q db <<<'{"type":"ACTIVATE_VERSION","stream":"_sluice_loads","version":1}'
	assert_stderr_partial "reserved"
}

@test "multiple_state_messages: both streams, the last STATE, stored state" {
	run -0 --separate-stderr sqlite-load -q db "$SINGER/multiple_state_messages.singer"
	assert_equal "${#lines[@]}" 1
	assert_equal "$(jq -c . <<<"$output")" \
	    '{"type":"STATE","value":{"test_multiple_state_messages_a":5,"test_multiple_state_messages_b":6}}'
	assert_equal "$(sql db 'SELECT count(*), sum(metric) FROM test_multiple_state_messages_a')" "6|2100"
	assert_equal "$(sql db 'SELECT count(*), sum(metric) FROM test_multiple_state_messages_b')" "6|2310"
	assert_equal "$(sql db 'SELECT value FROM _sluice_state ORDER BY rowid DESC LIMIT 1' | jq -cS .)" \
	    '{"test_multiple_state_messages_a":5,"test_multiple_state_messages_b":6}'
	run -0 --separate-stderr sqlite-load db --state-get test_multiple_state_messages_b
	assert_output 6
}

@test "every Singer file loads with exit 0 and nothing but STATE on stdout" {
	for f in "$SINGER"/*.singer; do
		rm -f db db-wal db-shm
		run -0 --separate-stderr sqlite-load -q db "$f"
		if [[ -n "$output" ]]; then
			assert_equal "$(jq -r .type <<<"$output" | sort -u)" STATE
		fi
		assert_stderr_empty
	done
}

# counts DB: "table rows" for each user table, one a line.
counts() {
	local t
	for t in $(user_tables "$1"); do
		echo "$t $(sql "$1" "SELECT count(*) FROM \"$t\"")"
	done
}

@test "the Singer corpus loads twice in the default mode as a Singer target would: the same rows" {
	local f n=0
	for f in "$SINGER"/*.singer; do
		rm -f db db-wal db-shm
		run -0 --separate-stderr sqlite-load -q db "$f"
		local state1=$output
		counts db > first
		[[ -s first ]] || fail "$f: no table"
		run -0 --separate-stderr sqlite-load -q db "$f"
		assert_stderr_empty
		assert_equal "$output" "$state1"
		counts db > second
		# Every stream of the corpus has key_properties: merged, not doubled.
		cmp first second || fail "$f: $(diff first second)"
		# Each table kept its key as its primary key.
		for t in $(user_tables db); do
			[[ -n $(sql db "SELECT name FROM pragma_table_info('$t') WHERE pk > 0") ]] ||
			    fail "$f: $t has no primary key"
		done
		n=$((n + 1))
	done
	assert_equal "$n" 6
}

@test "the Singer corpus through jsonl-normalize | schema-infer | sqlite-load, twice: the same rows, child tables included" {
	sluice_setup jsonl-normalize schema-infer sqlite-load
	local f
	for f in "$SINGER"/*.singer; do
		rm -f db db-wal db-shm
		jsonl-normalize -q "$f" | schema-infer -q | sqlite-load -q db >/dev/null 2>err ||
		    fail "$f: first load failed: $(cat err)"
		[[ ! -s err ]] || fail "$f: $(cat err)"
		counts db > first
		jsonl-normalize -q "$f" | schema-infer -q | sqlite-load -q db >/dev/null 2>err ||
		    fail "$f: second load failed: $(cat err)"
		[[ ! -s err ]] || fail "$f: $(cat err)"
		counts db > second
		cmp first second || fail "$f: $(diff first second)"
		cat second >> all
	done
	# The full refresh keeps its 7 rows, its versions carried through.
	grep -q '^test_activate_version_hard 7$' all || fail "$(cat all)"
	# The arrays of encoded_string_data became child tables, merged too.
	grep -q '^test_strings_in_arrays__strings ' all ||
	    fail "no child table: $(cat all)"
}
