bats_require_minimum_version 1.5.0
# schema-infer: type inference, SCHEMA messages, evolution, variants,
# pass-through of messages, errors and exit codes (spec.md, sluice(5)).

load helper

setup() {
	sluice_setup schema-infer
	D="$DATA/schema-infer"
}

# check_infer EXPECTED_PROPS LINE...: feed the LINEs to `schema-infer
# --final -t t` and compare the logical types (nullability ignored).
check_infer() {
	local expected=$1
	shift
	printf '%s\n' "$@" > in.jsonl
	run -0 --separate-stderr schema-infer -q --final -t t in.jsonl
	assert_stderr_empty
	assert_equal "${#lines[@]}" 1
	assert_equal "$(props_nonull <<<"$output")" "$expected"
}

# ---------------------------------------------------------------------------
# Options, usage, version.

@test "-h prints usage on stdout and exits 0" {
	run -0 --separate-stderr schema-infer -h
	assert_output --partial "schema-infer"
	assert_output --regexp '[Uu]sage'
	assert_output --partial "--on-type-conflict"
	assert_stderr_empty
}

@test "--help is -h" {
	run -0 --separate-stderr schema-infer --help
	assert_output --regexp '[Uu]sage'
	assert_stderr_empty
}

@test "-V and --version print the version" {
	run -0 --separate-stderr schema-infer -V
	assert_output "schema-infer (sluice) 0.1.0"
	assert_stderr_empty
	run -0 --separate-stderr schema-infer --version
	assert_output "schema-infer (sluice) 0.1.0"
}

@test "a bad option exits 64 with usage on stderr, nothing on stdout" {
	run -64 --separate-stderr schema-infer --no-such-option </dev/null
	assert_output ""
	assert_stderr_regex '[Uu]sage'
}

@test "bad option values exit 64" {
	run -64 --separate-stderr schema-infer --on-type-conflict maybe </dev/null
	assert_output ""
	run -64 --separate-stderr schema-infer --on-error sometimes </dev/null
	assert_output ""
	run -64 --separate-stderr schema-infer --max-line-bytes lots </dev/null
	assert_output ""
	run -64 --separate-stderr schema-infer --max-line-bytes 12Q </dev/null
	assert_output ""
	run -64 --separate-stderr schema-infer --schema </dev/null
	assert_output ""
}

@test "a missing input file exits 66 and names it" {
	run -66 --separate-stderr schema-infer no-such-file.jsonl
	refute_output --partial '"RECORD"'
	refute_output --partial '"SCHEMA"'
	assert_stderr_regex '^schema-infer: .*no-such-file\.jsonl'
}

@test "a missing --schema file exits 66" {
	run -66 --separate-stderr schema-infer --schema no-such.schema </dev/null
	refute_output --partial '"SCHEMA"'
	assert_stderr_partial "no-such.schema"
}

# ---------------------------------------------------------------------------
# Output format.

@test "bare records: one SCHEMA, then RECORDs with the input bytes unchanged" {
	run -0 --separate-stderr schema-infer -q -t users -k id "$D/basic.jsonl"
	assert_output "$(cat "$D/basic.expected")"
	assert_stderr_empty
}

@test "output is exactly the expected bytes (final newline included)" {
	schema-infer -q -t users -k id <"$D/basic.jsonl" >out
	assert_file_bytes out "$D/basic.expected"
}

@test "default stream is data and default key_properties is []" {
	printf '{"a":1}\n' > in.jsonl
	run -0 --separate-stderr schema-infer -q in.jsonl
	assert_line -n 0 '{"type":"SCHEMA","stream":"data","schema":{"type":"object","properties":{"a":{"type":["integer"]}}},"key_properties":[]}'
	assert_line -n 1 '{"type":"RECORD","stream":"data","record":{"a":1}}'
	assert_equal "${#lines[@]}" 2
}

@test "--key with two columns" {
	printf '{"a":1,"b":"x"}\n' > in.jsonl
	run -0 --separate-stderr schema-infer -q --table t --key a,b in.jsonl
	assert_line -n 0 '{"type":"SCHEMA","stream":"t","schema":{"type":"object","properties":{"a":{"type":["integer"]},"b":{"type":["string"]}}},"key_properties":["a","b"]}'
}

@test "nullability: null-only column is absent until typed; new SCHEMA only on change" {
	run -0 --separate-stderr schema-infer -q -t t "$D/nullable.jsonl"
	assert_output "$(cat "$D/nullable.expected")"
}

@test "a column that appears only in the second record gets a new SCHEMA" {
	printf '%s\n' '{"id":1,"name":"a"}' '{"id":2,"name":"b","n":1.5}' '{"id":3,"name":"c","n":2}' > in.jsonl
	run -0 --separate-stderr schema-infer -q -t t in.jsonl
	assert_equal "${#lines[@]}" 5
	assert_equal "$(jq -r .type <<<"$output" | tr '\n' ' ')" "SCHEMA RECORD SCHEMA RECORD RECORD "
	assert_line -n 1 '{"type":"RECORD","stream":"t","record":{"id":1,"name":"a"}}'
	assert_line -n 3 '{"type":"RECORD","stream":"t","record":{"id":2,"name":"b","n":1.5}}'
	assert_line -n 4 '{"type":"RECORD","stream":"t","record":{"id":3,"name":"c","n":2}}'
	# First-seen column order; n keeps double (an integer 2 does not narrow it).
	assert_equal "$(props_nonull <<<"${lines[2]}")" \
	    '{"id":{"type":["integer"]},"name":{"type":["string"]},"n":{"type":["number"]}}'
}

@test "columns appear in first-seen order, not sorted" {
	printf '%s\n' '{"zeta":1,"alpha":2,"mid":3}' '{"beta":4,"zeta":5}' > in.jsonl
	run -0 --separate-stderr schema-infer -q --final -t t in.jsonl
	assert_equal "$(jq -c '.schema.properties | keys_unsorted' <<<"$output")" \
	    '["zeta","alpha","mid","beta"]'
}

# ---------------------------------------------------------------------------
# Type inference, one row per case (nullability ignored here).

@test "infer: integer literal -> integer" {
	check_infer '{"a":{"type":["integer"]}}' '{"a":1}' '{"a":-42}' '{"a":0}'
}

@test "infer: int64 bounds stay integer" {
	check_infer '{"a":{"type":["integer"]}}' \
	    '{"a":9223372036854775807}' '{"a":-9223372036854775808}'
}

@test "infer: integer beyond int64 -> exact decimal" {
	check_infer '{"a":{"type":["number"],"format":"decimal"}}' '{"a":9223372036854775808}'
}

@test "infer: fractions and exponents -> number" {
	check_infer '{"a":{"type":["number"]}}' '{"a":1.5}' '{"a":1e3}' '{"a":-2.5E-7}'
}

@test "infer: true/false -> boolean" {
	check_infer '{"a":{"type":["boolean"]}}' '{"a":true}' '{"a":false}'
}

@test "infer: plain string -> string" {
	check_infer '{"a":{"type":["string"]}}' '{"a":"hello"}' '{"a":""}'
}

@test "infer: ISO timestamps (T or space, fraction, zone) -> date-time" {
	check_infer '{"a":{"type":["string"],"format":"date-time"}}' \
	    '{"a":"2024-01-02T03:04:05Z"}' \
	    '{"a":"2024-01-02 03:04:05"}' \
	    '{"a":"2024-01-02T03:04:05.123456+01:00"}' \
	    '{"a":"2024-01-02T03:04:05-05:30"}'
}

@test "infer: YYYY-MM-DD -> date" {
	check_infer '{"a":{"type":["string"],"format":"date"}}' '{"a":"2024-01-02"}'
}

@test "infer: near-miss dates are strings" {
	check_infer '{"a":{"type":["string"]},"b":{"type":["string"]},"c":{"type":["string"]}}' \
	    '{"a":"2024-1-2","b":"2024-01-02T03:04","c":"x2024-01-02"}'
}

@test "infer: object and array -> object/array" {
	check_infer '{"o":{"type":["object","array"]},"l":{"type":["object","array"]}}' \
	    '{"o":{"k":1},"l":[1,2]}'
}

@test "infer: --no-detect keeps timestamps and dates as strings" {
	printf '{"t":"2024-01-02T03:04:05Z","d":"2024-01-02"}\n' > in.jsonl
	run -0 --separate-stderr schema-infer -q --no-detect --final -t t in.jsonl
	assert_output '{"type":"SCHEMA","stream":"t","schema":{"type":"object","properties":{"t":{"type":["string"]},"d":{"type":["string"]}}},"key_properties":[]}'
}

@test "widen: integer then number -> number, no variant" {
	check_infer '{"a":{"type":["number"]}}' '{"a":1}' '{"a":2.5}'
}

@test "widen: number then integer stays number" {
	check_infer '{"a":{"type":["number"]}}' '{"a":2.5}' '{"a":1}'
}

@test "widen: date then timestamp -> date-time, no variant" {
	check_infer '{"a":{"type":["string"],"format":"date-time"}}' \
	    '{"a":"2024-01-02"}' '{"a":"2024-01-02T03:04:05Z"}'
}

@test "widen: timestamp then date stays date-time" {
	check_infer '{"a":{"type":["string"],"format":"date-time"}}' \
	    '{"a":"2024-01-02T03:04:05Z"}' '{"a":"2024-01-02"}'
}

@test "variant: integer then string -> a__v_text" {
	check_infer '{"a":{"type":["integer"]},"a__v_text":{"type":["string"]}}' \
	    '{"a":1}' '{"a":"x"}'
}

@test "variant: boolean then integer -> a__v_bigint" {
	check_infer '{"a":{"type":["boolean"]},"a__v_bigint":{"type":["integer"]}}' \
	    '{"a":true}' '{"a":1}'
}

@test "variant: string then number -> a__v_double" {
	check_infer '{"a":{"type":["string"]},"a__v_double":{"type":["number"]}}' \
	    '{"a":"x"}' '{"a":1.5}'
}

@test "variant: integer then object -> a__v_json" {
	check_infer '{"a":{"type":["integer"]},"a__v_json":{"type":["object","array"]}}' \
	    '{"a":1}' '{"a":{"k":1}}'
}

@test "variant: string then boolean -> a__v_bool" {
	check_infer '{"a":{"type":["string"]},"a__v_bool":{"type":["boolean"]}}' \
	    '{"a":"x"}' '{"a":false}'
}

@test "variant: integer then timestamp -> a__v_timestamp" {
	check_infer '{"a":{"type":["integer"]},"a__v_timestamp":{"type":["string"],"format":"date-time"}}' \
	    '{"a":1}' '{"a":"2024-01-02T03:04:05Z"}'
}

@test "variant: the same variant column is reused, not duplicated" {
	check_infer '{"a":{"type":["integer"]},"a__v_text":{"type":["string"]}}' \
	    '{"a":1}' '{"a":"x"}' '{"a":2}' '{"a":"y"}'
}

@test "null never fixes a type: a column seen only as null is not in the SCHEMA" {
	printf '%s\n' '{"id":1,"n":null}' '{"id":2,"n":null}' > in.jsonl
	run -0 --separate-stderr schema-infer -q --final -t t in.jsonl
	assert_output '{"type":"SCHEMA","stream":"t","schema":{"type":"object","properties":{"id":{"type":["integer"]}}},"key_properties":[]}'
}

@test "--final: one exact SCHEMA, nullable columns get null first, no records" {
	printf '%s\n' '{"id":1,"name":"a","t":"2024-01-02"}' '{"id":2,"name":null}' > in.jsonl
	run -0 --separate-stderr schema-infer -q --final -t t -k id in.jsonl
	assert_output '{"type":"SCHEMA","stream":"t","schema":{"type":"object","properties":{"id":{"type":["integer"]},"name":{"type":["null","string"]},"t":{"type":["null","string"],"format":"date"}}},"key_properties":["id"]}'
}

@test "--final writes one SCHEMA per stream and drops every other message" {
	run -0 --separate-stderr schema-infer -q --final "$D/messages.singer"
	assert_equal "${#lines[@]}" 2
	assert_equal "$(jq -r '.type + " " + .stream' <<<"$output" | sort | tr '\n' ' ')" \
	    "SCHEMA data SCHEMA s "
}

# ---------------------------------------------------------------------------
# Type conflicts.

@test "type conflict makes a variant column; the record passes unchanged" {
	run -0 --separate-stderr schema-infer -q -t t "$D/conflict.jsonl"
	assert_equal "${#lines[@]}" 4
	assert_line -n 0 '{"type":"SCHEMA","stream":"t","schema":{"type":"object","properties":{"id":{"type":["integer"]},"price":{"type":["integer"]}}},"key_properties":[]}'
	assert_line -n 1 '{"type":"RECORD","stream":"t","record":{"id":1,"price":10}}'
	assert_equal "$(jq -r .type <<<"${lines[2]}")" SCHEMA
	assert_equal "$(props_nonull <<<"${lines[2]}")" \
	    '{"id":{"type":["integer"]},"price":{"type":["integer"]},"price__v_text":{"type":["string"]}}'
	assert_line -n 3 '{"type":"RECORD","stream":"t","record":{"id":2,"price":"ten"}}'
}

@test "--on-type-conflict variant is the default" {
	run -0 --separate-stderr schema-infer -q --on-type-conflict variant --final -t t "$D/conflict.jsonl"
	assert_equal "$(props_nonull <<<"$output")" \
	    '{"id":{"type":["integer"]},"price":{"type":["integer"]},"price__v_text":{"type":["string"]}}'
}

@test "--on-type-conflict fail exits 65 with stdin:LINE" {
	run -65 --separate-stderr schema-infer --on-type-conflict fail -t t <"$D/conflict.jsonl"
	assert_stderr_regex '^schema-infer: stdin:2: '
	assert_stderr_partial "price"
	assert_equal "${#stderr_lines[@]}" 1
}

@test "--on-type-conflict fail names the file and line for a file argument" {
	printf '%s\n' '{"a":1}' '{"a":2}' '{"a":3}' '{"a":[4]}' > in.jsonl
	run -65 --separate-stderr schema-infer --on-type-conflict fail in.jsonl
	assert_stderr_regex '^schema-infer: in\.jsonl:4: '
}

@test "--on-type-conflict fail still allows widening" {
	printf '%s\n' '{"a":1}' '{"a":2.5}' '{"d":"2024-01-01"}' '{"d":"2024-01-01 10:00:00"}' > in.jsonl
	run -0 --separate-stderr schema-infer -q --on-type-conflict fail --final in.jsonl
	assert_equal "$(props_nonull <<<"$output")" \
	    '{"a":{"type":["number"]},"d":{"type":["string"],"format":"date-time"}}'
}

# ---------------------------------------------------------------------------
# Numbers travel as text.

@test "64-bit id and long decimal pass byte for byte" {
	run -0 --separate-stderr schema-infer -q -t n "$D/numbers.jsonl"
	assert_line -n 1 '{"type":"RECORD","stream":"n","record":{"id":9007199254740993,"x":0.1000000000000000055511,"big":-9223372036854775808,"e":1.5E+300}}'
	assert_equal "$(props_nonull <<<"${lines[0]}")" \
	    '{"id":{"type":["integer"]},"x":{"type":["number"]},"big":{"type":["integer"]},"e":{"type":["number"]}}'
}

@test "Singer RECORD with a 64-bit id passes byte for byte" {
	printf '%s\n' '{"type":"RECORD","stream":"s","record":{"id":9007199254740993,"x":0.1000000000000000055511}}' > in.singer
	run -0 --separate-stderr schema-infer -q in.singer
	assert_line -n 1 '{"type":"RECORD","stream":"s","record":{"id":9007199254740993,"x":0.1000000000000000055511}}'
}

# ---------------------------------------------------------------------------
# Identifiers are data, escaped as JSON.

@test "hostile column names and stream names are escaped, not mangled" {
	run -0 --separate-stderr schema-infer -q -t 'my "table" x' "$D/hostile.jsonl"
	assert_line -n 1 '{"type":"RECORD","stream":"my \"table\" x","record":{"id":1,"x\"; DROP TABLE t; --":"boom","sp ace":2}}'
	assert_equal "$(jq -r .stream <<<"${lines[0]}")" 'my "table" x'
	assert_equal "$(jq -c '.schema.properties | keys_unsorted' <<<"${lines[0]}")" \
	    '["id","x\"; DROP TABLE t; --","sp ace"]'
}

# ---------------------------------------------------------------------------
# Messages.

@test "messages pass through byte for byte; type is case-insensitive" {
	run -0 --separate-stderr schema-infer -q "$D/messages.singer"
	assert_output "$(cat "$D/messages.expected")"
}

@test "--raw: message-looking lines are bare records" {
	head -n 1 "$D/messages.singer" > in.jsonl
	run -0 --separate-stderr schema-infer -q --raw -t raw in.jsonl
	assert_output "$(cat "$D/raw.expected")"
}

@test "upstream SCHEMA passes through, seeds the schema and its key_properties" {
	run -0 --separate-stderr schema-infer -q "$D/upstream.singer"
	assert_line -n 0 "$(line 1 "$D/upstream.singer")"
	# The records, in order and unchanged.
	assert_equal "$(grep -c '"RECORD"' <<<"$output")" 2
	assert_equal "$(grep '"RECORD"' <<<"$output")" "$(grep '"RECORD"' "$D/upstream.singer")"
	# The last SCHEMA (before record 2) adds "extra" and keeps the key.
	last=$(grep '"SCHEMA"' <<<"$output" | tail -n 1)
	assert_equal "$(jq -c .key_properties <<<"$last")" '["id"]'
	assert_equal "$(props_nonull <<<"$last")" \
	    '{"id":{"type":["integer"]},"name":{"type":["string"]},"extra":{"type":["boolean"]}}'
	assert_equal "$(jq -c .schema.properties.name.type <<<"$last")" '["null","string"]'
	# The record that changed the schema comes right after that SCHEMA.
	assert_equal "$(grep -A1 -F "$last" <<<"$output" | tail -n 1)" "$(line 3 "$D/upstream.singer")"
}

@test "-k overrides upstream key_properties" {
	run -0 --separate-stderr schema-infer -q -k name "$D/upstream.singer"
	last=$(grep '"SCHEMA"' <<<"$output" | tail -n 1)
	assert_equal "$(jq -c .key_properties <<<"$last")" '["name"]'
}

@test "--schema FILE seeds types, nullability and columns" {
	run -0 --separate-stderr schema-infer -q --schema "$D/seed.schema" -t t "$D/seeded.jsonl"
	assert_equal "${#lines[@]}" 3
	# score stays number (seeded), name stays nullable, born is kept.
	assert_line -n 0 "$(cat "$D/seed.schema")"
	assert_line -n 1 '{"type":"RECORD","stream":"t","record":{"id":1,"score":5,"name":"a"}}'
	assert_line -n 2 '{"type":"RECORD","stream":"t","record":{"id":2,"score":7,"name":"b"}}'
}

@test "--schema FILE with --final round-trips" {
	schema-infer -q --final -t t -k id "$D/seeded.jsonl" > first.schema
	printf '%s\n' '{"id":3,"score":1.5,"name":null}' > more.jsonl
	run -0 --separate-stderr schema-infer -q --final --schema first.schema -t t more.jsonl
	assert_output '{"type":"SCHEMA","stream":"t","schema":{"type":"object","properties":{"id":{"type":["integer"]},"score":{"type":["number"]},"name":{"type":["null","string"]}}},"key_properties":["id"]}'
}

# ---------------------------------------------------------------------------
# Events and notices.

@test "--events writes schema-change events; notices on stderr" {
	run -0 --separate-stderr schema-infer --load-id L1 --events ev.jsonl -t t <"$D/events.jsonl"
	[[ -s ev.jsonl ]] || fail "no events file"
	# The first event is new_table and nothing else is reported for line 1.
	assert_equal "$(line 1 ev.jsonl)" "$(line 1 "$D/events.expected")"
	assert_equal "$(jq -c 'select(.line == 1)' ev.jsonl | wc -l)" 1
	while IFS= read -r ev; do
		grep -Fxq -- "$ev" ev.jsonl || fail "missing event: $ev"$'\n'"$(cat ev.jsonl)"
	done <"$D/events.expected"
	assert_equal "$(jq -r .change ev.jsonl | grep -c new_column)" 1
	assert_equal "$(jq -r .change ev.jsonl | grep -c widen)" 1
	assert_equal "$(jq -r .change ev.jsonl | grep -c variant)" 1
	assert_equal "$(jq -r .change ev.jsonl | grep -c new_table)" 1
	# Every event line is one compact JSON object with the seven keys.
	assert_equal "$(jq -c 'keys_unsorted' ev.jsonl | sort -u)" \
	    '["stream","column","change","from","to","line","load_id"]'
	assert_stderr_line 'schema-infer: stdin:4: stream t: new column "c" (text)'
	# One notice per column-level event; new_table has none.
	assert_equal "${#stderr_lines[@]}" "$(( $(wc -l <ev.jsonl) - 1 ))"
	# stdout is unaffected by --events.
	assert_equal "$(grep -c '"RECORD"' <<<"$output")" 5
}

@test "--events appends; -q silences the notices but not the events" {
	run -0 --separate-stderr schema-infer -q --events ev.jsonl -t t "$D/events.jsonl"
	assert_stderr_empty
	n=$(wc -l <ev.jsonl)
	run -0 --separate-stderr schema-infer -q --events ev.jsonl -t t "$D/events.jsonl"
	assert_equal "$(wc -l <ev.jsonl)" "$(( n * 2 ))"
}

@test "--events with a file argument: notices name the file" {
	run -0 --separate-stderr schema-infer --events ev.jsonl -t t "$D/events.jsonl"
	assert_stderr_line "schema-infer: $D/events.jsonl:4: stream t: new column \"c\" (text)"
}

# ---------------------------------------------------------------------------
# --stats.

@test "--stats writes the JSON summary" {
	run -0 --separate-stderr schema-infer -q --on-error skip --stats st.json "$D/stats.jsonl"
	jq -e . st.json >/dev/null || fail "stats is not JSON: $(cat st.json)"
	assert_equal "$(jq -c '{program,lines,records,messages,bytes,errors,skipped,quarantined}' st.json)" \
	    '{"program":"schema-infer","lines":4,"records":2,"messages":1,"bytes":58,"errors":1,"skipped":1,"quarantined":0}'
	jq -e '.seconds | type == "number" and . >= 0' st.json >/dev/null ||
	    fail "bad seconds: $(cat st.json)"
}

@test "--stats is written on failure too" {
	run -65 --separate-stderr schema-infer -q --stats st.json "$D/stats.jsonl"
	jq -e '.program == "schema-infer" and .errors == 1' st.json >/dev/null ||
	    fail "stats: $(cat st.json 2>&1)"
}

# ---------------------------------------------------------------------------
# Bad data and --on-error.

@test "invalid JSON exits 65 with stdin:LINE" {
	printf '%s\n' '{"a":1}' '{"a":2}' '{"a":' '{"a":4}' > in.jsonl
	run -65 --separate-stderr schema-infer <in.jsonl
	assert_stderr_regex '^schema-infer: stdin:3: invalid JSON'
	assert_equal "${#stderr_lines[@]}" 1
	refute_output --partial '"a":4'
}

@test "invalid JSON in the second file names that file and its own line" {
	printf '%s\n' '{"a":1}' '{"a":2}' > a.jsonl
	printf '%s\n' '{"a":3}' 'nope' > b.jsonl
	run -65 --separate-stderr schema-infer a.jsonl b.jsonl
	assert_stderr_regex '^schema-infer: b\.jsonl:2: invalid JSON'
}

@test "invalid UTF-8 exits 65" {
	printf '{"a":"ok"}\n{"a":"\xff\xfe"}\n' > in.jsonl
	run -65 --separate-stderr schema-infer <in.jsonl
	assert_stderr_regex '^schema-infer: stdin:2: invalid UTF-8'
}

@test "overlong UTF-8 encoding is invalid" {
	printf '{"a":"\xc0\xaf"}\n' > in.jsonl
	run -65 --separate-stderr schema-infer <in.jsonl
	assert_stderr_regex '^schema-infer: stdin:1: invalid UTF-8'
}

@test "non-object lines exit 65: array" {
	printf '%s\n' '{"a":1}' '[1,2]' > in.jsonl
	run -65 --separate-stderr schema-infer <in.jsonl
	assert_stderr_regex '^schema-infer: stdin:2: not a JSON object'
}

@test "non-object lines exit 65: scalar" {
	printf '%s\n' '42' > in.jsonl
	run -65 --separate-stderr schema-infer <in.jsonl
	assert_stderr_regex '^schema-infer: stdin:1: not a JSON object'
}

@test "non-object lines exit 65: string" {
	printf '%s\n' '"text"' > in.jsonl
	run -65 --separate-stderr schema-infer <in.jsonl
	assert_stderr_regex '^schema-infer: stdin:1: not a JSON object'
}

@test "two JSON values on one line are invalid" {
	printf '%s\n' '{"a":1} {"a":2}' > in.jsonl
	run -65 --separate-stderr schema-infer <in.jsonl
	assert_stderr_regex '^schema-infer: stdin:1: '
}

@test "a line longer than --max-line-bytes exits 65" {
	awk 'BEGIN { printf "{\"a\":1}\n{\"a\":\""; for (i = 0; i < 2000; i++) printf "x"; printf "\"}\n" }' > in.jsonl
	run -65 --separate-stderr schema-infer --max-line-bytes 1K <in.jsonl
	assert_stderr_regex '^schema-infer: stdin:2: line longer than 1024 bytes'
}

@test "a line within --max-line-bytes is accepted" {
	awk 'BEGIN { printf "{\"a\":\""; for (i = 0; i < 900; i++) printf "x"; printf "\"}\n" }' > in.jsonl
	run -0 --separate-stderr schema-infer -q --max-line-bytes 1K <in.jsonl
	assert_equal "${#lines[@]}" 2
}

@test "--on-error skip warns with FILE:LINE, counts, goes on, exits 0" {
	printf '%s\n' '{"a":1}' 'garbage' '[3]' '{"a":4}' > in.jsonl
	run -0 --separate-stderr schema-infer --on-error skip -t t <in.jsonl
	assert_equal "${#lines[@]}" 3
	assert_line -n 1 '{"type":"RECORD","stream":"t","record":{"a":1}}'
	assert_line -n 2 '{"type":"RECORD","stream":"t","record":{"a":4}}'
	assert_stderr_regex 'schema-infer: stdin:2: '
	assert_stderr_regex 'schema-infer: stdin:3: '
}

@test "--on-error quarantine=FILE keeps each bad line with its reason" {
	printf '%s\n' '{"a":1}' '{"a":"unterminated' '{"a":3}' '[4]' > in.jsonl
	run -0 --separate-stderr schema-infer -q --on-error quarantine=q.jsonl -t t <in.jsonl
	assert_equal "${#lines[@]}" 3
	assert_equal "$(wc -l <q.jsonl)" 2
	jq -e -s 'length == 2' q.jsonl >/dev/null || fail "q.jsonl: $(cat q.jsonl)"
	assert_equal "$(jq -c '[.line, .input]' q.jsonl)" \
	    "$(printf '%s\n' '[2,"{\"a\":\"unterminated"]' '[4,"[4]"]')"
	jq -e 'all(.error | type == "string" and length > 0)' -s q.jsonl >/dev/null ||
	    fail "error field: $(cat q.jsonl)"
	# line, error and input are required (other keys, e.g. file, may follow).
	jq -e -s 'all(has("line") and has("error") and has("input"))' q.jsonl >/dev/null ||
	    fail "missing keys: $(cat q.jsonl)"
}

@test "quarantine: a line that is not UTF-8 is kept exactly, in base64" {
	printf '{"a":"\xff"}\n' > in.jsonl
	run -0 --separate-stderr schema-infer -q --on-error quarantine=q.jsonl <in.jsonl
	assert_output ""
	jq -e '.line == 1 and (has("input") | not)' q.jsonl >/dev/null ||
	    fail "q.jsonl: $(cat q.jsonl)"
	# The bytes come back exactly: nothing is lost.
	jq -r .input_base64 q.jsonl | base64 -d | cmp - <(printf '{"a":"\xff"}')
}

@test "quarantine appends to an existing file" {
	printf 'old\n' > q.jsonl
	printf 'bad\n' > in.jsonl
	run -0 --separate-stderr schema-infer -q --on-error quarantine=q.jsonl <in.jsonl
	assert_equal "$(line 1 q.jsonl)" old
	assert_equal "$(wc -l <q.jsonl)" 2
}

# ---------------------------------------------------------------------------
# Input framing.

@test "empty input: no output, exit 0" {
	run -0 --separate-stderr schema-infer </dev/null
	assert_output ""
	assert_stderr_empty
}

@test "empty input with --final: no output" {
	run -0 --separate-stderr schema-infer --final </dev/null
	assert_output ""
}

@test "blank lines are skipped but still counted for line numbers" {
	printf '\n{"a":1}\n\n\n{"a":2}\n\n' > in.jsonl
	run -0 --separate-stderr schema-infer -q -t t <in.jsonl
	assert_equal "${#lines[@]}" 3
	printf '\n{"a":1}\n\nbad\n' > bad.jsonl
	run -65 --separate-stderr schema-infer -t t <bad.jsonl
	assert_stderr_regex '^schema-infer: stdin:4: invalid JSON'
}

@test "CRLF input: records and messages lose the \\r" {
	printf '{"a":1}\r\n{"type":"STATE","value":1}\r\n\r\n{"a":2}\r\n' > in.jsonl
	schema-infer -q -t t <in.jsonl >out
	printf '%s\n' \
	    '{"type":"SCHEMA","stream":"t","schema":{"type":"object","properties":{"a":{"type":["integer"]}}},"key_properties":[]}' \
	    '{"type":"RECORD","stream":"t","record":{"a":1}}' \
	    '{"type":"STATE","value":1}' \
	    '{"type":"RECORD","stream":"t","record":{"a":2}}' > expected
	assert_file_bytes out expected
}

@test "a missing final newline is fine; output lines all end in newline" {
	printf '{"a":1}\n{"a":2}' > in.jsonl
	schema-infer -q -t t <in.jsonl >out
	printf '%s\n' \
	    '{"type":"SCHEMA","stream":"t","schema":{"type":"object","properties":{"a":{"type":["integer"]}}},"key_properties":[]}' \
	    '{"type":"RECORD","stream":"t","record":{"a":1}}' \
	    '{"type":"RECORD","stream":"t","record":{"a":2}}' > expected
	assert_file_bytes out expected
}

@test "a missing final newline after a message" {
	printf '{"a":1}\n{"type":"STATE","value":{"x":1}}' > in.jsonl
	schema-infer -q -t t <in.jsonl >out
	assert_equal "$(tail -n 1 out)" '{"type":"STATE","value":{"x":1}}'
	assert_equal "$(tail -c 1 out | od -An -c | tr -d ' ')" '\n'
}

@test "- means stdin, between files" {
	printf '{"a":1}\n' > a.jsonl
	printf '{"a":3}\n' > c.jsonl
	run -0 --separate-stderr schema-infer -q -t t a.jsonl - c.jsonl <<<'{"a":2}'
	assert_equal "$(grep RECORD <<<"$output" | jq -c .record | tr '\n' ' ')" \
	    '{"a":1} {"a":2} {"a":3} '
}

@test "U+0000 escapes in strings pass through unchanged" {
	printf '%s\n' '{"s":"a\u0000b","t":"\ud83d\ude00"}' > in.jsonl
	run -0 --separate-stderr schema-infer -q -t t in.jsonl
	assert_line -n 1 '{"type":"RECORD","stream":"t","record":{"s":"a\u0000b","t":"\ud83d\ude00"}}'
}

@test "--progress goes to stderr only: stdout bytes unchanged" {
	schema-infer -q -t users -k id "$D/basic.jsonl" > quiet.out
	schema-infer --progress -t users -k id "$D/basic.jsonl" > progress.out 2>progress.err
	assert_file_bytes progress.out quiet.out
}

# ---------------------------------------------------------------------------
# Output errors and SIGPIPE.

@test "writing to /dev/full exits 75: a full disk is temporary" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	run -75 --separate-stderr bash -c 'schema-infer -t t "$1" >/dev/full' _ "$D/basic.jsonl"
	assert_stderr_regex '^schema-infer: '
}

@test "schema-infer big | head -n1 exits 141 with empty stderr" {
	gen_records 300000 big.jsonl
	run -0 --separate-stderr bash -c '
	    schema-infer -t t big.jsonl 2>err | head -n 1 >first
	    echo "${PIPESTATUS[0]}"'
	assert_output 141
	assert_equal "$(cat err)" ""
	assert_equal "$(jq -r .type first)" SCHEMA
}

@test "the same with pipefail from stdin" {
	gen_records 300000 big.jsonl
	run -141 --separate-stderr bash -c '
	    set -o pipefail
	    schema-infer -t t <big.jsonl | head -n 1 >/dev/null'
	assert_stderr_empty
}

# ---------------------------------------------------------------------------
# Keys and bookmarks of upstream streams.

@test "SCHEMA: an upstream stream's key_properties and bookmark_properties are in ours" {
	printf '%s\n' '{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"],"bookmark_properties":["updated_at"]}' \
	    '{"type":"RECORD","stream":"s","record":{"id":1,"updated_at":"2024-01-01T00:00:00Z"}}' > in.singer
	run -0 --separate-stderr schema-infer -q in.singer
	assert_equal "$(sed -n 2p <<<"$output")" \
	    '{"type":"SCHEMA","stream":"s","schema":{"type":"object","properties":{"id":{"type":["integer"]},"updated_at":{"type":["null","string"],"format":"date-time"}}},"key_properties":["id"],"bookmark_properties":["updated_at"]}'
	# -k names the key instead; the bookmarks stay.
	run -0 --separate-stderr schema-infer -q -k updated_at --final in.singer
	assert_output --partial '"key_properties":["updated_at"],"bookmark_properties":["updated_at"]}'
	# A stream that declares none has none.
	printf '%s\n' '{"id":1}' > bare.jsonl
	run -0 --separate-stderr schema-infer -q -k id --final bare.jsonl
	assert_output '{"type":"SCHEMA","stream":"data","schema":{"type":"object","properties":{"id":{"type":["integer"]}}},"key_properties":["id"]}'
}
