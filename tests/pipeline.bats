bats_require_minimum_version 1.5.0
# schema-infer | sqlite-load together, on real data (100 GitHub issues from
# dlt's test cases) and on the Singer corpus.

load helper

setup() {
	sluice_setup schema-infer sqlite-load
	ISSUES="$DLT/github.issues.load_page_5_duck.json"
}

load_issues() {
	jq -c '.[]' "$ISSUES" | schema-infer -q -t issues -k id | sqlite-load -q "$@" gh.db
	local st=("${PIPESTATUS[@]}")
	[[ "${st[*]}" == "0 0 0" ]] || fail "pipeline statuses: ${st[*]}"
}

@test "GitHub issues: jq | schema-infer -t issues -k id | sqlite-load: 100 typed rows" {
	load_issues
	assert_equal "$(sql gh.db 'SELECT count(*), count(DISTINCT id), sum(id) FROM issues')" "100|100|116516363305"
	assert_equal "$(sql gh.db "SELECT count(*) FROM issues WHERE typeof(id) = 'integer'")" 100
	assert_equal "$(coltype gh.db issues id)" INTEGER
	assert_equal "$(coltype gh.db issues number)" INTEGER
	assert_equal "$(coltype gh.db issues title)" TEXT
	assert_equal "$(coltype gh.db issues created_at)" TIMESTAMP
	assert_equal "$(coltype gh.db issues updated_at)" TIMESTAMP
	assert_equal "$(coltype gh.db issues closed_at)" TIMESTAMP
	assert_equal "$(coltype gh.db issues user)" JSON
	assert_equal "$(coltype gh.db issues labels)" JSON
	assert_equal "$(coltype gh.db issues reactions)" JSON
	assert_equal "$(coltype gh.db issues locked)" BOOLEAN
	assert_equal "$(coltype gh.db issues draft)" BOOLEAN
	# Columns that only ever held null have no type, hence no column.
	assert_equal "$(coltype gh.db issues milestone)" ""
	assert_equal "$(coltype gh.db issues active_lock_reason)" ""
	assert_equal "$(coltype gh.db issues performed_via_github_app)" ""
}

@test "GitHub issues: -k id is the primary key" {
	load_issues
	assert_equal "$(sql gh.db "SELECT name FROM pragma_table_info('issues') WHERE pk > 0")" id
}

@test "GitHub issues: values" {
	load_issues
	assert_equal "$(sql gh.db "SELECT number, title, created_at, closed_at, json_extract(user, '\$.login'), json_extract(assignee, '\$.login'), locked FROM issues WHERE id = 388089021")" \
	    "71|Timestamp type + functions|2018-12-06T07:29:53Z|2019-10-23T13:05:30Z|Mytherin|diegomestre2|0"
	assert_equal "$(sql gh.db "SELECT json_extract(labels, '\$[0].name') FROM issues WHERE id = 388089021")" "good first issue"
	assert_equal "$(sql gh.db "SELECT sum(json_extract(reactions, '\$.\"+1\"')), sum(comments), sum(number) FROM issues")" "44|703|350263"
	assert_equal "$(sql gh.db "SELECT count(*) FROM issues WHERE closed_at IS NULL")" 15
	assert_equal "$(sql gh.db "SELECT count(*) FROM issues WHERE body IS NULL")" 1
	assert_equal "$(sql gh.db "SELECT count(draft), sum(draft) FROM issues")" "25|1"
	assert_equal "$(sql gh.db "SELECT sum(json_array_length(labels)) FROM issues")" 34
	assert_equal "$(sql gh.db "SELECT state, count(*) FROM issues GROUP BY state ORDER BY state")" \
	    "$(printf 'closed|85\nopen|15')"
}

@test "GitHub issues: merging the same page again changes nothing" {
	load_issues
	before=$(sql gh.db 'SELECT * FROM issues ORDER BY id' | md5sum)
	jq -c '.[]' "$ISSUES" | schema-infer -q -t issues -k id | sqlite-load --load-id again -m merge gh.db 2>err
	# Nothing written: all 100 found unchanged.
	assert_equal "$(load_counts gh.db again issues)" "0|0|0"
	assert_equal "$(unchanged_count gh.db again issues)" 100
	assert_equal "$(sql gh.db 'SELECT * FROM issues ORDER BY id' | md5sum)" "$before"
}

@test "GitHub issues: schema-infer --final describes the page" {
	run -0 --separate-stderr bash -c 'jq -c ".[]" "$1" | schema-infer -q --final -t issues -k id' _ "$ISSUES"
	assert_equal "${#lines[@]}" 1
	jq -e '.type == "SCHEMA" and .stream == "issues" and .key_properties == ["id"]' <<<"$output" >/dev/null ||
	    fail "$output"
	assert_equal "$(jq -c '.schema.properties | {id, created_at, closed_at, user, draft, body}' <<<"$output")" \
	    '{"id":{"type":["integer"]},"created_at":{"type":["string"],"format":"date-time"},"closed_at":{"type":["null","string"],"format":"date-time"},"user":{"type":["object","array"]},"draft":{"type":["null","boolean"]},"body":{"type":["null","string"]}}'
	assert_equal "$(jq -c '.schema.properties | has("milestone")' <<<"$output")" false
	assert_equal "$(jq -c '.schema.properties | keys_unsorted | .[0:3]' <<<"$output")" '["url","repository_url","labels_url"]'
}

@test "type conflict through the pipeline: variant column in schema-infer and in the table" {
	printf '%s\n' '{"id":1,"price":10}' '{"id":2,"price":"ten"}' '{"id":3,"price":30}' > in.jsonl
	schema-infer -q -t t in.jsonl > msgs
	assert_equal "$(grep -c '"SCHEMA"' msgs)" 2
	run -0 --separate-stderr sqlite-load -q db msgs
	assert_equal "$(columns db t)" "id,price,price__v_text"
	assert_equal "$(sql db 'SELECT id, price, price__v_text FROM t ORDER BY id')" \
	    "$(printf '1|10|\n2||ten\n3|30|')"
}

@test "schema-infer failing mid-stream: sqlite-load commits nothing" {
	printf '%s\n' '{"id":0}' > pre.jsonl
	sqlite-load -q -t t db pre.jsonl
	db_snapshot db
	printf '%s\n' '{"id":1}' '{"id":2}' 'bad' '{"id":4}' > in.jsonl
	run bash -c 'schema-infer -q -t t in.jsonl | sqlite-load -q db; echo "${PIPESTATUS[*]}"'
	assert_line -n -1 --regexp '^65 [1-9][0-9]*$'
	db_unchanged db
}

@test "64-bit id and long decimal through both programs" {
	printf '%s\n' '{"id":9007199254740993,"x":0.1000000000000000055511}' > in.jsonl
	schema-infer -q -t n in.jsonl > msgs
	grep -Fq '{"id":9007199254740993,"x":0.1000000000000000055511}' msgs || fail "$(cat msgs)"
	sqlite-load -q db msgs
	assert_equal "$(sql db 'SELECT id, typeof(id), typeof(x) FROM n')" "9007199254740993|integer|real"
}

@test "a column only in the second batch, through the pipeline with merge" {
	printf '%s\n' '{"id":1,"a":"x"}' '{"id":2,"a":"y"}' > one.jsonl
	printf '%s\n' '{"id":2,"a":"Y","b":true}' '{"id":3,"a":"z","b":false}' > two.jsonl
	schema-infer -q -t t -k id one.jsonl | sqlite-load -q db
	schema-infer -q -t t -k id two.jsonl | sqlite-load -q -m merge db
	assert_equal "$(sql db 'SELECT id, a, b FROM t ORDER BY id')" "$(printf '1|x|\n2|Y|1\n3|z|0')"
	assert_equal "$(coltype db t b)" BOOLEAN
}

@test "every Singer file gives the same rows directly and through schema-infer" {
	for f in "$SINGER"/*.singer; do
		rm -f a.db* b.db*
		sqlite-load -q a.db "$f" > a.out
		schema-infer -q "$f" | sqlite-load -q b.db > b.out
		assert_equal "$(cat b.out)" "$(cat a.out)"
		for t in $(user_tables a.db); do
			assert_equal "$(sql b.db "SELECT * FROM \"$t\" ORDER BY 1")" \
			    "$(sql a.db "SELECT * FROM \"$t\" ORDER BY 1")"
		done
		assert_equal "$(user_tables b.db)" "$(user_tables a.db)"
	done
}

@test "schema-infer --stats and --events in a pipeline do not disturb stdout" {
	jq -c '.[]' "$ISSUES" |
	    schema-infer -q -t issues -k id --stats st.json --events ev.jsonl --load-id L1 |
	    sqlite-load -q gh.db
	assert_equal "$(sql gh.db 'SELECT count(*) FROM issues')" 100
	assert_equal "$(jq -c '{program, lines, records, errors}' st.json)" \
	    '{"program":"schema-infer","lines":100,"records":100,"errors":0}'
	assert_equal "$(line 1 ev.jsonl)" '{"stream":"issues","column":null,"change":"new_table","from":null,"to":null,"line":1,"load_id":"L1"}'
}
