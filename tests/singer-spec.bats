bats_require_minimum_version 1.5.0
# The Singer messages sluice writes are valid Singer: each program's
# message output (-m) runs through a validator of the Singer
# specification's message schemas (tests/data/singer-spec/, written from
# SPEC.md of singer-io/getting-started; see tests/data/PROVENANCE.md),
# with python3-jsonschema.

load helper

setup() {
	sluice_setup pgfetch jsonl-normalize schema-infer dedup-merge sqlite-load
	VALIDATE="$DATA/singer-spec/validate.py"
	/usr/bin/python3 -c 'import jsonschema' 2>/dev/null ||
	    fail "python3-jsonschema is not installed (make deps)"
	printf '%s\n' '{"id":1,"name":"Ann","at":"2024-06-01T10:00:00Z","tags":["a","b"],"addr":{"city":"X"}}' \
	    '{"id":2,"name":"Bo","at":"2024-06-02T10:00:00Z","tags":[],"addr":{"city":"Y"},"n":1.5}' > recs.jsonl
}

# valid FILE EXPECTED: FILE validates, with EXPECTED counts per type.
valid() {
	run -0 /usr/bin/python3 "$VALIDATE" < "$1"
	assert_output "$2"
}

@test "the validator: the Singer corpus is valid, and it rejects what is not" {
	cat "$SINGER"/*.singer > corpus.singer
	valid corpus.singer "ACTIVATE_VERSION=2 RECORD=79 SCHEMA=16 STATE=9"
	printf '%s\n' '{"type":"SCHEMA","stream":"a","schema":{"type":"object"}}' \
	    '{"type":"RECORD","stream":"a","record":[1]}' \
	    '{"type":"RECORD","stream":"a","record":{},"time_extracted":"yesterday"}' \
	    '{"type":"STATE"}' \
	    '{"type":"ACTIVATE_VERSION","stream":"a","version":"1"}' \
	    '{"type":"SCHEMA","stream":"a","schema":{"type":7},"key_properties":[]}' \
	    '{"type":"SCHEMA","stream":"a","schema":{"type":"object","properties":{"x":{}}},"key_properties":["id"]}' \
	    '{"id":1}' > bad.singer
	run -1 /usr/bin/python3 "$VALIDATE" < bad.singer
	assert_line -n 0 "stdin:1: SCHEMA: 'key_properties' is a required property"
	assert_line -n 1 "stdin:2: RECORD: [1] is not of type 'object'"
	assert_line -n 2 --partial "stdin:3: RECORD: 'yesterday' does not match"
	assert_line -n 3 "stdin:4: STATE: 'value' is a required property"
	assert_line -n 4 "stdin:5: ACTIVATE_VERSION: '1' is not of type 'integer'"
	assert_line -n 5 --partial "stdin:6: SCHEMA: schema: not a JSON Schema"
	assert_line -n 6 "stdin:7: SCHEMA: key_properties: id is not a property"
	assert_line -n 7 --partial "stdin:8: not a Singer message"
}

@test "pgfetch -m: RECORD with time_extracted, and the STATE of a file set" {
	pgfetch -m -s people recs.jsonl > out.singer
	valid out.singer "RECORD=2"
	mkdir in
	cp recs.jsonl in/a.jsonl
	printf '{"id":3}\n' > in/b.jsonl
	touch -d @1700000100 in/a.jsonl
	touch -d @1700000200 in/b.jsonl
	pgfetch -m -s people --state-from none.db 'in/*.jsonl' > set.singer
	valid set.singer "RECORD=3 STATE=2"
}

@test "jsonl-normalize: bare records with -k, and a Singer stream with its keys, versions and state" {
	jsonl-normalize -t people -k id recs.jsonl > out.singer
	valid out.singer "RECORD=4 SCHEMA=2"
	jsonl-normalize -t people recs.jsonl > nokey.singer
	valid nokey.singer "RECORD=4"
	cat "$SINGER"/*.singer "$DATA/jsonl-normalize/messages.singer" | jsonl-normalize -t bare > tap.singer
	run -0 /usr/bin/python3 "$VALIDATE" < tap.singer
	[[ $output == *ACTIVATE_VERSION=3*RECORD=*SCHEMA=*STATE=12* ]] || fail "counts: $output"
}

@test "schema-infer: SCHEMA before the records, with and without a key, after jsonl-normalize, on a tap's stream" {
	schema-infer -q -t people -k id recs.jsonl > out.singer
	valid out.singer "RECORD=2 SCHEMA=2"
	schema-infer -q -t people recs.jsonl > nokey.singer
	valid nokey.singer "RECORD=2 SCHEMA=2"
	jsonl-normalize -t people -k id recs.jsonl | schema-infer -q > norm.singer
	run -0 /usr/bin/python3 "$VALIDATE" < norm.singer
	[[ $output == "RECORD=4 SCHEMA="* ]] || fail "counts: $output"
	cat "$SINGER"/*.singer | schema-infer -q > tap.singer
	run -0 /usr/bin/python3 "$VALIDATE" < tap.singer
	[[ $output == "ACTIVATE_VERSION=2 RECORD=79 SCHEMA="*" STATE=9" ]] || fail "counts: $output"
}

@test "dedup-merge: RECORDs and the STATE of --cursor" {
	pgfetch -m -s people recs.jsonl | dedup-merge -k id --cursor at > out.singer
	valid out.singer "RECORD=2 STATE=1"
}

@test "sqlite-load: the STATE it echoes after the commit" {
	sqlite-load -q db "$SINGER/multiple_state_messages.singer" > out.singer
	valid out.singer "STATE=1"
}
