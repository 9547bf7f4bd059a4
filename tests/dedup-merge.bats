bats_require_minimum_version 1.5.0
# dedup-merge: one row per key, survivor rules, tombstones, the
# incremental cursor and its STATE, spill to disk, errors and exit codes.

load helper

setup() {
	sluice_setup dedup-merge
	D="$DATA/dedup-merge"
	ISSUES="$BATS_TEST_DIRNAME/../examples/issues.jsonl"
}

# gen_dups N FILE: N bare records, ids 1..N/2 each twice (the second
# version later), with a cursor "u" and a payload.
gen_dups() {
	awk -v n="$1" 'BEGIN {
		h = int(n / 2)
		for (i = 1; i <= n; i++) {
			k = (i * 7919) % h + 1
			printf "{\"id\":%d,\"u\":%d,\"name\":\"row %d\",\"x\":[%d,\"y\"]}\n", k, i % 1000, i, i
		}
	}' > "$2"
}

# ---------------------------------------------------------------------------
# Options, usage, version.

@test "-h prints usage on stdout and exits 0" {
	run -0 --separate-stderr dedup-merge -h
	assert_output --regexp '^usage: dedup-merge'
	assert_output --partial "--latest-by"
	assert_output --partial "--memory SIZE"
	assert_stderr_empty
	run -0 --separate-stderr dedup-merge --help
	assert_output --regexp '^usage: dedup-merge'
}

@test "-V and --version print the version" {
	run -0 --separate-stderr dedup-merge -V
	assert_output "dedup-merge (sluice) 0.1.0"
	run -0 --separate-stderr dedup-merge --version
	assert_output "dedup-merge (sluice) 0.1.0"
	assert_stderr_empty
}

@test "a bad option exits 64 with usage on stderr, nothing on stdout" {
	run -64 --separate-stderr dedup-merge --no-such-option </dev/null
	assert_output ""
	assert_stderr_regex 'usage: dedup-merge'
}

@test "bad option values and combinations exit 64 with the reason" {
	check64() {
		local want=$1
		shift
		run -64 --separate-stderr dedup-merge "$@" </dev/null
		assert_output ""
		assert_stderr_partial "$want"
	}
	check64 "--memory: '512K': out of range" -k id --memory 512K
	check64 "--memory: 'lots': not a size" -k id --memory lots
	check64 "--first: not with --latest-by" -k id --first --latest-by u
	check64 "--since: not with --state-from" -k id --cursor u --since 1 --state-from x.db
	check64 "need --cursor" -k id --since 1
	check64 "need --cursor" -k id --lag 5
	check64 "need --cursor" -k id --on-missing-cursor include
	check64 "--drop-deleted: needs --delete-when" -k id --drop-deleted
	check64 "--delete-when: " -k id --delete-when '.a =='
	check64 "--on-missing-cursor: 'maybe': expected fail, include or exclude" -k id --cursor u --on-missing-cursor maybe
	check64 "--lag: expected a number" -k id --cursor u --lag -1
	check64 "--lag: expected a number" -k id --cursor u --lag soon
	check64 "--boundary-max: " -k id --cursor u --boundary-max -3
	check64 "-k: an empty path" -k 'id,,x'
	check64 "--on-error" -k id --on-error sometimes
}

@test "--memory 1M is the smallest cap and works" {
	printf '{"id":1}\n{"id":1,"v":2}\n' > in.jsonl
	run -0 --separate-stderr dedup-merge -k id --memory 1M in.jsonl
	assert_output '{"id":1,"v":2}'
	run -0 --separate-stderr dedup-merge -k id --memory 1048576 in.jsonl
	assert_output '{"id":1,"v":2}'
}

@test "a missing input file exits 66 and names it" {
	run -66 --separate-stderr dedup-merge -k id no-such-file.jsonl
	assert_stderr_regex '^dedup-merge: .*no-such-file\.jsonl'
	refute_output --partial '"id"'
}

@test "no key at all is a usage error (64), with the stream named" {
	printf '{"id":1}\n' > in.jsonl
	run -64 --separate-stderr dedup-merge -t things in.jsonl
	assert_stderr "dedup-merge: stream things: no key: give -k, or a SCHEMA message with key_properties"
	# Downstream sees an abort, not an empty success.
	assert_equal "$(jq -r '.type + " " + (.status|tostring)' <<<"$output")" "SLUICE_ABORT 64"
}

@test "a SCHEMA without key_properties is no key either" {
	printf '%s\n' '{"type":"SCHEMA","stream":"s","schema":{"type":"object"},"key_properties":[]}' \
	    '{"type":"RECORD","stream":"s","record":{"id":1}}' > in.singer
	run -64 --separate-stderr dedup-merge in.singer
	assert_stderr_partial "stream s: no key"
}

# ---------------------------------------------------------------------------
# One row per key.

@test "snapshot + delta: one row per key, last version wins, first-appearance order" {
	run -0 --separate-stderr dedup-merge -k id "$D/snapshot.jsonl" "$D/delta.jsonl"
	assert_stderr_empty
	assert_output "$(printf '%s\n' \
	    '{"id":1,"name":"alpha","updated_at":"2024-05-01T10:00:00Z"}' \
	    '{"id":2,"name":"beta v2","updated_at":"2024-05-03T08:00:00Z"}' \
	    '{"id":3,"name":"gamma","updated_at":"2024-05-02T09:00:00Z"}' \
	    '{"id":4, "name": "delta v2",  "updated_at":"2024-05-03T10:00:00Z", "status":"removed"}' \
	    '{"id":5,"name":"epsilon","updated_at":"2024-05-03T09:00:00Z"}')"
}

@test "the merged snapshot is a new snapshot: merging it again with the delta changes nothing" {
	dedup-merge -k id "$D/snapshot.jsonl" "$D/delta.jsonl" > new.jsonl
	run -0 --separate-stderr dedup-merge -k id new.jsonl "$D/delta.jsonl"
	assert_output "$(cat new.jsonl)"
}

@test "'-' reads stdin in its place among the files" {
	run -0 --separate-stderr bash -c 'dedup-merge -k id "$1" - < "$2"' _ \
	    "$D/delta.jsonl" "$D/snapshot.jsonl"
	# The snapshot came second: its versions win, the delta's keys come first.
	assert_equal "$(jq -c '[.id, .name]' <<<"$output" | tr -d '\n')" \
	    '[2,"beta"][5,"epsilon"][4,"delta"][1,"alpha"][3,"gamma"]'
}

@test "--first keeps the first version" {
	run -0 --separate-stderr dedup-merge -k id --first "$D/snapshot.jsonl" "$D/delta.jsonl"
	assert_output "$(cat "$D/snapshot.jsonl"; sed -n 2p "$D/delta.jsonl")"
}

@test "lines come out byte for byte: spacing, escapes, number text, CRLF dropped" {
	printf '{"id":"a",  "v":1.50, "s":"\\u00e9\\n"}\r\n{"id":"b","big":12345678901234567890123}\n' > in.jsonl
	run -0 --separate-stderr dedup-merge -k id in.jsonl
	assert_equal "$output" "$(printf '%s\n' '{"id":"a",  "v":1.50, "s":"\u00e9\n"}' '{"id":"b","big":12345678901234567890123}')"
}

@test "empty input: empty output, exit 0" {
	run -0 --separate-stderr dedup-merge -k id </dev/null
	assert_output ""
	assert_stderr_empty
	printf '\n\n' > blank.jsonl
	run -0 --separate-stderr dedup-merge -k id blank.jsonl
	assert_output ""
}

@test "a missing final newline is fine" {
	printf '{"id":1,"v":1}\n{"id":1,"v":2}' > in.jsonl
	run -0 --separate-stderr dedup-merge -k id in.jsonl
	assert_output '{"id":1,"v":2}'
}

@test "key identity is the JSON text: 1, \"1\" and 1.0 are three keys; escapes do not matter" {
	printf '%s\n' '{"id":1,"n":1}' '{"id":"1","n":2}' '{"id":1.0,"n":3}' \
	    '{"id":"\u0041","n":4}' '{"id":"A","n":5}' '{"id":1,"n":6}' > in.jsonl
	run -0 --separate-stderr dedup-merge -k id in.jsonl
	assert_equal "$(jq -c .n <<<"$output" | tr -d '\n')" "6235"
}

@test "composite and dotted keys" {
	printf '%s\n' '{"a":{"b":1},"c":"x","n":1}' '{"a":{"b":1},"c":"y","n":2}' \
	    '{"a":{"b":2},"c":"x","n":3}' '{"a":{"b":1},"c":"x","n":4}' \
	    '{"a":{"b":1,"z":0},"c":"y","n":5}' > in.jsonl
	run -0 --separate-stderr dedup-merge -k a.b,c in.jsonl
	assert_equal "$(jq -c .n <<<"$output" | tr -d '\n')" "453"
	# A leading dot, as in jq, is the same path.
	run -0 --separate-stderr dedup-merge -k .a.b,.c in.jsonl
	assert_equal "$(jq -c .n <<<"$output" | tr -d '\n')" "453"
}

@test "64-bit ids stay distinct and exact" {
	printf '%s\n' '{"id":9007199254740993,"n":1}' '{"id":9007199254740992,"n":2}' \
	    '{"id":9007199254740993,"n":3}' > in.jsonl
	run -0 --separate-stderr dedup-merge -k id in.jsonl
	assert_output "$(printf '%s\n' '{"id":9007199254740993,"n":3}' '{"id":9007199254740992,"n":2}')"
}

@test "a record without its key: exit 65 with file:line, and an abort downstream" {
	printf '%s\n' '{"id":1}' '{"name":"no id"}' '{"id":2}' > in.jsonl
	run -65 --separate-stderr dedup-merge -k id in.jsonl
	assert_stderr "dedup-merge: in.jsonl:2: no key id"
	assert_equal "$(tail -n 1 <<<"$output" | jq -r .type)" SLUICE_ABORT
	refute_output --partial '"id":1'
}

@test "a null key, an object key, an array key are rejected too" {
	printf '%s\n' '{"id":null}' > a.jsonl
	run -65 --separate-stderr dedup-merge -k id a.jsonl
	assert_stderr "dedup-merge: a.jsonl:1: key id is null"
	printf '%s\n' '{"id":1}' '{"id":{"x":1}}' > b.jsonl
	run -65 --separate-stderr dedup-merge -k id b.jsonl
	assert_stderr "dedup-merge: b.jsonl:2: key id is an object"
	printf '%s\n' '{"k":{"id":[1]}}' > c.jsonl
	run -65 --separate-stderr dedup-merge -k k.id c.jsonl
	assert_stderr "dedup-merge: c.jsonl:1: key k.id is an array"
}

@test "--on-error skip and quarantine go on without the keyless record" {
	printf '%s\n' '{"id":1}' '{"name":"no id"}' 'not json' '{"id":1,"v":2}' > in.jsonl
	run -0 --separate-stderr dedup-merge -k id --on-error skip in.jsonl
	assert_output '{"id":1,"v":2}'
	assert_stderr_line "dedup-merge: in.jsonl:2: no key id (skipped)"
	run -0 --separate-stderr dedup-merge -k id --on-error quarantine=bad.jsonl in.jsonl
	assert_output '{"id":1,"v":2}'
	assert_equal "$(jq -c '[.line, .error]' bad.jsonl | head -n 1)" '[2,"no key id"]'
	assert_equal "$(wc -l < bad.jsonl)" 2
}

# ---------------------------------------------------------------------------
# --latest-by.

@test "--latest-by numbers: out-of-order input, greatest wins, ties go to the later" {
	printf '%s\n' '{"id":1,"v":5,"n":"a"}' '{"id":1,"v":7,"n":"b"}' \
	    '{"id":1,"v":6,"n":"c"}' '{"id":2,"v":1e1,"n":"d"}' \
	    '{"id":2,"v":9.5,"n":"e"}' '{"id":1,"v":7.0,"n":"f"}' \
	    '{"id":3,"v":9223372036854775807,"n":"g"}' \
	    '{"id":3,"v":9223372036854775806,"n":"h"}' \
	    '{"id":4,"v":-2,"n":"i"}' '{"id":4,"n":"j"}' '{"id":4,"v":null,"n":"k"}' > in.jsonl
	run -0 --separate-stderr dedup-merge -k id --latest-by v in.jsonl
	assert_equal "$(jq -r .n <<<"$output" | tr -d '\n')" "fdgi"
}

@test "--latest-by timestamps compare as instants, with offsets and dates" {
	printf '%s\n' \
	    '{"id":1,"t":"2024-05-01T12:00:00+02:00","n":"a"}' \
	    '{"id":1,"t":"2024-05-01T11:00:00Z","n":"b"}' \
	    '{"id":1,"t":"2024-05-01T10:30:00Z","n":"c"}' \
	    '{"id":2,"t":"2024-05-02","n":"d"}' \
	    '{"id":2,"t":"2024-05-01T23:59:59.999Z","n":"e"}' \
	    '{"id":3,"t":"2024-05-01T00:00:00.5Z","n":"f"}' \
	    '{"id":3,"t":"2024-05-01T00:00:00.25Z","n":"g"}' > in.jsonl
	run -0 --separate-stderr dedup-merge -k id --latest-by t in.jsonl
	assert_equal "$(jq -r .n <<<"$output" | tr -d '\n')" "bdf"
}

@test "--latest-by with a dotted path on GitHub issues" {
	# Each issue twice: the copy has an older updated_at and must lose.
	jq -c '.updated_at = "2000-01-01T00:00:00Z" | .title = "stale"' "$ISSUES" > old.jsonl
	jq -c '{meta: {updated: .updated_at}, id, title}' "$ISSUES" > a.jsonl
	jq -c '{meta: {updated: .updated_at}, id, title}' old.jsonl > b.jsonl
	run -0 --separate-stderr dedup-merge -k id --latest-by meta.updated b.jsonl a.jsonl
	assert_equal "$(wc -l <<<"$output")" 100
	refute_output --partial stale
	assert_equal "$(jq -r .id <<<"$output")" "$(jq -r .id "$ISSUES")"
}

# ---------------------------------------------------------------------------
# Singer messages and streams.

@test "Singer: SCHEMA first, records per stream by key_properties, other messages after" {
	run -0 --separate-stderr dedup-merge "$D/streams.singer"
	assert_stderr_empty
	assert_output "$(printf '%s\n' \
	    "$(sed -n 1p "$D/streams.singer")" \
	    "$(sed -n 4p "$D/streams.singer")" \
	    "$(sed -n 7p "$D/streams.singer")" \
	    "$(sed -n 9p "$D/streams.singer")" \
	    "$(sed -n 6p "$D/streams.singer")" \
	    "$(sed -n 3p "$D/streams.singer")" \
	    "$(sed -n 8p "$D/streams.singer")")"
}

@test "the same key in two streams is two rows; bare records are the -t stream" {
	printf '%s\n' '{"id":1,"n":"bare"}' \
	    '{"type":"RECORD","stream":"s","record":{"id":1,"n":"s1"}}' \
	    '{"type":"RECORD","stream":"s","record":{"id":1,"n":"s2"}}' \
	    '{"id":1,"n":"bare2"}' > in.jsonl
	run -0 --separate-stderr dedup-merge -k id -t t in.jsonl
	assert_output "$(printf '%s\n' '{"id":1,"n":"bare2"}' \
	    '{"type":"RECORD","stream":"s","record":{"id":1,"n":"s2"}}')"
}

@test "-k overrides key_properties" {
	printf '%s\n' '{"type":"SCHEMA","stream":"s","schema":{},"key_properties":["id"]}' \
	    '{"type":"RECORD","stream":"s","record":{"id":1,"n":1}}' \
	    '{"type":"RECORD","stream":"s","record":{"id":2,"n":1}}' > in.singer
	run -0 --separate-stderr dedup-merge -k n in.singer
	assert_equal "$(sed -n 2p <<<"$output")" '{"type":"RECORD","stream":"s","record":{"id":2,"n":1}}'
	assert_equal "$(wc -l <<<"$output")" 2
	run -0 --separate-stderr dedup-merge in.singer
	assert_equal "$(wc -l <<<"$output")" 3
}

@test "a later SCHEMA's key_properties apply to the records after it" {
	printf '%s\n' '{"type":"SCHEMA","stream":"s","schema":{},"key_properties":["id"]}' \
	    '{"type":"RECORD","stream":"s","record":{"id":1,"k":"a"}}' \
	    '{"type":"SCHEMA","stream":"s","schema":{},"key_properties":["k"]}' \
	    '{"type":"RECORD","stream":"s","record":{"id":2,"k":"a"}}' \
	    '{"type":"RECORD","stream":"s","record":{"id":3,"k":"a"}}' > in.singer
	run -0 --separate-stderr dedup-merge in.singer
	assert_equal "$(grep -c RECORD <<<"$output")" 2
	assert_equal "$(tail -n 1 <<<"$output")" '{"type":"RECORD","stream":"s","record":{"id":3,"k":"a"}}'
}

@test "--raw: a record shaped like a message is a record" {
	printf '%s\n' '{"type":"STATE","value":1,"id":1}' '{"type":"STATE","value":2,"id":1}' > in.jsonl
	run -0 --separate-stderr dedup-merge --raw -k id in.jsonl
	assert_output '{"type":"STATE","value":2,"id":1}'
}

@test "an upstream SLUICE_ABORT is passed on and its status taken" {
	printf '%s\n' '{"id":1}' '{"type":"SLUICE_ABORT","program":"pgfetch","status":69,"error":"HTTP 404"}' > in.jsonl
	run -69 --separate-stderr dedup-merge -k id in.jsonl
	assert_output '{"type":"SLUICE_ABORT","program":"pgfetch","status":69,"error":"HTTP 404"}'
	assert_stderr "dedup-merge: in.jsonl:2: upstream failed: HTTP 404"
}

# ---------------------------------------------------------------------------
# Deletes.

@test "--delete-when turns the survivor into a tombstone with its key" {
	run -0 --separate-stderr dedup-merge -k id --delete-when '.status == "removed"' \
	    "$D/snapshot.jsonl" "$D/delta.jsonl"
	assert_equal "$(sed -n 4p <<<"$output")" '{"id":4,"_sluice_deleted":true}'
	assert_equal "$(wc -l <<<"$output")" 5
	# Only the survivor counts: an older deleted version does not delete.
	printf '%s\n' '{"id":1,"deleted":true}' '{"id":1,"deleted":false}' > in.jsonl
	run -0 --separate-stderr dedup-merge -k id --delete-when '.deleted' in.jsonl
	assert_output '{"id":1,"deleted":false}'
}

@test "--drop-deleted leaves them out" {
	run -0 --separate-stderr dedup-merge -k id --delete-when '.status == "removed"' \
	    --drop-deleted "$D/snapshot.jsonl" "$D/delta.jsonl"
	assert_equal "$(jq -c .id <<<"$output" | tr -d '\n')" "1235"
}

@test "tombstones of dotted composite keys nest; Singer tombstones are RECORD messages" {
	printf '%s\n' '{"k":{"a":1,"b":"x"},"z":2,"gone":true,"v":9}' > in.jsonl
	run -0 --separate-stderr dedup-merge -k k.a,z,k.b --delete-when .gone in.jsonl
	assert_output '{"k":{"a":1,"b":"x"},"z":2,"_sluice_deleted":true}'
	run -0 --separate-stderr dedup-merge --delete-when '.deleted == true' "$D/streams.singer"
	assert_equal "$(sed -n 3p <<<"$output")" \
	    '{"type":"RECORD","stream":"users","record":{"id":1,"_sluice_deleted":true},"time_extracted":"2024-05-03T00:00:00Z"}'
}

@test "a --delete-when that fails on a record exits 65" {
	printf '%s\n' '{"id":1,"v":"x"}' > in.jsonl
	run -65 --separate-stderr dedup-merge -k id --delete-when '.v + 1 > 0' in.jsonl
	assert_stderr_partial 'dedup-merge: stream data: key 1: --delete-when: jq: '
}

# ---------------------------------------------------------------------------
# The incremental cursor.

@test "--cursor alone: a first run keeps everything and writes the STATE last" {
	run -0 --separate-stderr dedup-merge -k id --cursor updated_at "$D/snapshot.jsonl"
	assert_equal "$(wc -l <<<"$output")" 5
	assert_equal "$(tail -n 1 <<<"$output")" \
	    '{"type":"STATE","value":{"bookmarks":{"data":{"replication_key":"updated_at","replication_key_value":"2024-05-02T12:00:00Z","sluice_boundary_keys":[4]}}}}'
}

@test "--since drops what is below; equal values are kept without boundary keys" {
	run -0 --separate-stderr dedup-merge -k id --cursor updated_at \
	    --since 2024-05-02T09:00:00Z "$D/snapshot.jsonl"
	assert_equal "$(jq -c 'select(.id) | .id' <<<"$output" | tr -d '\n')" "34"
	run -0 --separate-stderr dedup-merge -k id --cursor updated_at --since '' "$D/snapshot.jsonl"
	assert_equal "$(grep -c '"id"' <<<"$output")" 4
}

@test "--since a number compares numbers; the STATE keeps the text of the number" {
	printf '%s\n' '{"id":1,"seq":9}' '{"id":2,"seq":10}' '{"id":3,"seq":100}' '{"id":4,"seq":1.0e2}' > in.jsonl
	run -0 --separate-stderr dedup-merge -k id --cursor seq --since 10 in.jsonl
	assert_equal "$(sed -n 1,3p <<<"$output" | jq -c .id | tr -d '\n')" "234"
	assert_equal "$(tail -n 1 <<<"$output" | jq -c .value.bookmarks.data)" \
	    '{"replication_key":"seq","replication_key_value":100,"sluice_boundary_keys":[3,4]}'
}

@test "--lag widens the window below the last value, boundary keys or not" {
	printf '%s\n' '{"id":1,"seq":7}' '{"id":2,"seq":8}' '{"id":3,"seq":10}' > in.jsonl
	run -0 --separate-stderr dedup-merge -k id --cursor seq --since 10 --lag 2 in.jsonl
	assert_equal "$(jq -c 'select(.id) | .id' <<<"$output" | tr -d '\n')" "23"
	printf '%s\n' '{"id":1,"t":"2024-05-01T23:58:59Z"}' '{"id":2,"t":"2024-05-01T23:59:00Z"}' > t.jsonl
	run -0 --separate-stderr dedup-merge -k id --cursor t --since 2024-05-02 --lag 60 t.jsonl
	assert_equal "$(jq -c 'select(.id) | .id' <<<"$output" | tr -d '\n')" "2"
	# Nothing newer than the bookmark: it stays where it was.
	assert_equal "$(tail -n 1 <<<"$output" | jq -c .value.bookmarks.data.replication_key_value)" '"2024-05-02"'
}

@test "--on-missing-cursor: fail (65 with the line), include, exclude" {
	printf '%s\n' '{"id":1,"u":1}' '{"id":2}' '{"id":3,"u":null}' > in.jsonl
	run -65 --separate-stderr dedup-merge -k id --cursor u in.jsonl
	assert_stderr "dedup-merge: in.jsonl:2: no cursor value"
	run -0 --separate-stderr dedup-merge -k id --cursor u --on-missing-cursor include in.jsonl
	assert_equal "$(jq -c 'select(.id) | .id' <<<"$output" | tr -d '\n')" "123"
	run -0 --separate-stderr dedup-merge -k id --cursor u --on-missing-cursor exclude in.jsonl
	assert_equal "$(jq -c 'select(.id) | .id' <<<"$output" | tr -d '\n')" "1"
}

@test "--boundary-max: past it, a warning and no boundary keys" {
	printf '%s\n' '{"id":1,"u":5}' '{"id":2,"u":5}' '{"id":3,"u":5}' > in.jsonl
	run -0 --separate-stderr dedup-merge -k id --cursor u --boundary-max 2 in.jsonl
	assert_equal "$(tail -n 1 <<<"$output" | jq -c .value.bookmarks.data.sluice_boundary_keys)" '[]'
	assert_stderr_partial "stream data: more records than --boundary-max"
	run -0 --separate-stderr dedup-merge -k id --cursor u --boundary-max 3 in.jsonl
	assert_equal "$(tail -n 1 <<<"$output" | jq -c .value.bookmarks.data.sluice_boundary_keys)" '[1,2,3]'
	assert_stderr_empty
}

@test "composite keys are arrays in the boundary keys and match on the next run" {
	printf '%s\n' '{"a":1,"b":"x","u":5}' '{"a":1,"b":"y","u":5}' > in.jsonl
	dedup-merge -k a,b --cursor u in.jsonl | tail -n 1 > st.json
	assert_equal "$(jq -c .value.bookmarks.data.sluice_boundary_keys st.json)" '[[1,"x"],[1,"y"]]'
}

@test "Singer streams each get their own bookmark" {
	printf '%s\n' \
	    '{"type":"RECORD","stream":"a","record":{"id":1,"u":3}}' \
	    '{"type":"RECORD","stream":"b","record":{"id":1,"u":"2024-01-01T00:00:00Z"}}' > in.singer
	run -0 --separate-stderr dedup-merge -k id --cursor u in.singer
	assert_equal "$(tail -n 1 <<<"$output")" \
	    '{"type":"STATE","value":{"bookmarks":{"a":{"replication_key":"u","replication_key_value":3,"sluice_boundary_keys":[1]},"b":{"replication_key":"u","replication_key_value":"2024-01-01T00:00:00Z","sluice_boundary_keys":[1]}}}}'
}

# ---------------------------------------------------------------------------
# Pipelines into sqlite-load.

@test "pipeline: dedup-merge | sqlite-load -m merge stores the rows and the state" {
	sluice_setup dedup-merge sqlite-load
	run -0 --separate-stderr bash -c 'set -o pipefail
	    dedup-merge -k id --cursor updated_at --state-from db "$1" "$2" |
	    sqlite-load -q db -m merge -k id' _ "$D/snapshot.jsonl" "$D/delta.jsonl"
	assert_equal "$(sql db 'SELECT id, name FROM data ORDER BY id' | tr '\n' ' ')" \
	    "1|alpha 2|beta v2 3|gamma 4|delta v2 5|epsilon "
	run -0 --separate-stderr sqlite-load db --state-get bookmarks.data.replication_key_value
	assert_output 2024-05-03T10:00:00Z
	run -0 --separate-stderr sqlite-load db --state-get bookmarks.data.sluice_boundary_keys
	assert_output '[4]'
}

@test "the boundary: a re-run loads nothing new; a new record at the same cursor value is loaded" {
	sluice_setup dedup-merge sqlite-load
	jq -c '{id, number, state, updated_at}' "$ISSUES" > issues.jsonl
	load() {
		dedup-merge -t issues -k id --cursor updated_at --state-from db "$@" |
		    sqlite-load -q db -m merge -k id -t issues
	}
	load issues.jsonl
	assert_equal "$(sql db 'SELECT count(*) FROM issues')" 100
	max=$(jq -r .updated_at issues.jsonl | sort | tail -n 1)
	assert_equal "$(sqlite-load db --state-get bookmarks.issues.replication_key_value)" "$max"

	# The same extraction again: every record is dropped, the bookmark stays.
	run -0 --separate-stderr dedup-merge -t issues -k id --cursor updated_at --state-from db issues.jsonl
	assert_equal "$(wc -l <<<"$output")" 1
	assert_equal "$(jq -r .value.bookmarks.issues.replication_key_value <<<"$output")" "$max"
	load issues.jsonl
	assert_equal "$(sql db 'SELECT count(*) FROM issues')" 100
	assert_equal "$(sql db "SELECT count(*) FROM _sluice_loads")" 2

	# A new issue at exactly the last value, and an old one re-sent: only
	# the new one comes through.
	{ cat issues.jsonl; printf '{"id":1,"number":99999,"state":"open","updated_at":"%s"}\n' "$max"; } > again.jsonl
	run -0 --separate-stderr dedup-merge -t issues -k id --cursor updated_at --state-from db again.jsonl
	assert_equal "$(wc -l <<<"$output")" 2
	assert_equal "$(head -n 1 <<<"$output" | jq -c .number)" 99999
	load again.jsonl
	assert_equal "$(sql db 'SELECT count(*) FROM issues')" 101
	assert_equal "$(sqlite-load db --state-get bookmarks.issues.sluice_boundary_keys | jq -c 'length')" 2
	# And that one is not loaded twice either.
	run -0 --separate-stderr dedup-merge -t issues -k id --cursor updated_at --state-from db again.jsonl
	assert_equal "$(wc -l <<<"$output")" 1
}

@test "--state-from a database that does not exist is a first run" {
	run -0 --separate-stderr dedup-merge -k id --cursor updated_at --state-from nowhere.db "$D/snapshot.jsonl"
	assert_equal "$(grep -c '"id"' <<<"$output")" 4
	[[ ! -e nowhere.db ]] || fail "nowhere.db was created"
}

@test "--state-from a file that is not a database exits with the error" {
	echo "not sqlite" > bad.db
	run --separate-stderr dedup-merge -k id --cursor updated_at --state-from bad.db "$D/snapshot.jsonl"
	[[ $status -ne 0 ]] || fail "exit 0"
	assert_stderr_partial "bad.db"
}

# ---------------------------------------------------------------------------
# Memory and spill.

@test "spill: a tiny --memory gives byte-identical output, and no temp file remains" {
	local n=1000000
	sanitized dedup-merge && n=200000
	gen_dups "$n" big.jsonl
	mkdir spill
	dedup-merge -k id big.jsonl > mem.out
	run -0 --separate-stderr dedup-merge -k id --memory 1M --tmpdir spill --stats st.json big.jsonl
	[[ "$output" == "$(cat mem.out)" ]] || fail "spilled output differs"
	assert_equal "$(wc -l < mem.out)" $(( n / 2 ))
	assert_equal "$(ls -A spill)" ""
	jq -e '.spilled_bytes > 0' st.json >/dev/null || fail "nothing spilled: $(cat st.json)"
	# The survivor rules survive the spill too.
	dedup-merge -k id --latest-by u big.jsonl > mem2.out
	dedup-merge -k id --latest-by u --memory 1M --tmpdir spill big.jsonl > spill2.out
	assert_file_bytes spill2.out mem2.out
	dedup-merge -k id --first --memory 1M --tmpdir spill big.jsonl > spill3.out
	dedup-merge -k id --first big.jsonl > mem3.out
	assert_file_bytes spill3.out mem3.out
	assert_equal "$(ls -A spill)" ""
}

@test "spill with Singer streams, tombstones and messages keeps the same bytes" {
	awk 'BEGIN {
		for (i = 1; i <= 30000; i++) {
			s = (i % 3 == 0) ? "a" : "b"
			printf "{\"type\":\"RECORD\",\"stream\":\"%s\",\"record\":{\"id\":%d,\"d\":%s}}\n", s, i % 7000, (i % 11 == 0) ? "true" : "false"
			if (i % 5000 == 0)
				printf "{\"type\":\"STATE\",\"value\":{\"n\":%d}}\n", i
		}
	}' > in.singer
	mkdir spill
	dedup-merge -k id --delete-when .d in.singer > mem.out
	dedup-merge -k id --delete-when .d --memory 1M --tmpdir spill in.singer > spill.out
	assert_file_bytes spill.out mem.out
	assert_equal "$(grep -c '"RECORD"' mem.out)" 14000
	assert_equal "$(grep -c _sluice_deleted mem.out)" \
	    "$(dedup-merge -k id in.singer | jq -c 'select(.record.d) | .record.id' | wc -l)"
	assert_equal "$(tail -n 6 mem.out | jq -r .type | sort -u)" STATE
}

@test "the temporary directory must be writable: exit 73 when spilling" {
	gen_dups 100000 big.jsonl
	run --separate-stderr dedup-merge -k id --memory 1M --tmpdir no/such/dir big.jsonl
	assert_equal "$status" 73
	assert_stderr_partial "no/such/dir"
}

@test "SIGTERM while spilling: exit 143, no temporary file left, the output ends with SLUICE_ABORT" {
	local n=1000000
	sanitized dedup-merge && n=300000
	gen_dups "$n" big.jsonl
	mkdir spill
	dedup-merge -k id --memory 1M --tmpdir spill big.jsonl big.jsonl big.jsonl big.jsonl >out 2>err 3>&- &
	local pid=$!
	# Wait until it has spilled: its descriptors point at deleted files.
	local i spilled=0
	for (( i = 0; i < 200; i++ )); do
		ls -l "/proc/$pid/fd" 2>/dev/null | grep -q 'sluice-dedup.*deleted' &&
		    { spilled=1; break; }
		sleep 0.05
	done
	(( spilled )) || fail "dedup-merge never spilled: the test tests nothing"
	kill -TERM "$pid"
	wait_pid_bounded "$pid" 30
	assert_equal "$WAIT_STATUS" 143
	assert_equal "$(ls -A spill)" ""
	# Nothing was written before the end but the abort, which a loader
	# downstream reads as "roll back".
	assert_equal "$(cat out)" '{"type":"SLUICE_ABORT","program":"dedup-merge","status":75,"error":"interrupted by SIGTERM"}'
}

@test "--stats writes the counts" {
	run -0 --separate-stderr dedup-merge -q -k id --stats st.json "$D/snapshot.jsonl" "$D/delta.jsonl"
	assert_equal "$(jq -c '{program, records, keyed, duplicates, written}' st.json)" \
	    '{"program":"dedup-merge","records":7,"keyed":7,"duplicates":2,"written":5}'
}

# ---------------------------------------------------------------------------
# Output errors and SIGPIPE.

@test "writing to /dev/full exits 75: a full disk is temporary" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	run -75 --separate-stderr bash -c 'dedup-merge -k id "$1" >/dev/full' _ "$D/snapshot.jsonl"
	assert_stderr_regex '^dedup-merge: '
}

@test "dedup-merge big | head -n1 exits 141 with empty stderr" {
	gen_records 300000 big.jsonl
	run -0 --separate-stderr bash -c '
	    dedup-merge -k id big.jsonl 2>err | head -n 1 >first
	    echo "${PIPESTATUS[0]}"'
	assert_output 141
	assert_equal "$(cat err)" ""
	assert_equal "$(cat first)" "$(head -n 1 big.jsonl)"
}

# ---------------------------------------------------------------------------
# Its place in the pipeline: before jsonl-normalize (issue 12).

@test "child rows from jsonl-normalize: one warning per child stream; before it, no warning" {
	printf '%s\n' '{"id":1,"items":[{"a":1},{"a":2}],"tags":["x"]}' \
	    '{"id":1,"items":[{"a":3}],"tags":["y"]}' > nested.jsonl
	jsonl-normalize -t rides -k id --load-id L nested.jsonl > norm.singer
	run -0 --separate-stderr dedup-merge -k _sluice_id norm.singer
	# Each child stream named once, however many of its rows came.
	assert_equal "$(grep -c 'child rows' <<<"$stderr")" 2
	assert_stderr_partial "dedup-merge: stream rides__items: child rows (_sluice_root_id): each is deduplicated on its own; place dedup-merge before jsonl-normalize"
	assert_stderr_partial "dedup-merge: stream rides__tags: child rows"
	[[ $stderr != *"stream rides:"* ]] || fail "the root stream was named: $stderr"
	# What the warning is about: a superseded version's child row survives.
	assert_equal "$(jq -c 'select(.type == "RECORD" and .stream == "rides__items") | .record.a' <<<"$output" | sort | tr '\n' ' ')" '2 3 '
	# -q silences it; the records are the same.
	run -0 --separate-stderr dedup-merge -q -k _sluice_id norm.singer
	assert_stderr_empty
	# In its place, before jsonl-normalize: no warning, only the last
	# version's items.
	run -0 --separate-stderr bash -c 'dedup-merge -t rides -k id nested.jsonl |
	    jsonl-normalize -t rides -k id --load-id L'
	assert_stderr_empty
	assert_equal "$(jq -c 'select(.type == "RECORD" and .stream == "rides__items") | .record.a' <<<"$output" | tr '\n' ' ')" '3 '
}

@test "--stats duplicates counts the versions merged from spilled runs too" {
	gen_dups 100000 big.jsonl
	dedup-merge -k id --stats mem.json big.jsonl > /dev/null
	dedup-merge -k id --memory 1M --stats spill.json big.jsonl > /dev/null
	jq -e '.spilled_bytes > 0' spill.json >/dev/null || fail "nothing spilled: $(cat spill.json)"
	assert_equal "$(jq .duplicates mem.json)" 50000
	assert_equal "$(jq .duplicates spill.json)" 50000
}
