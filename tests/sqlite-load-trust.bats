bats_require_minimum_version 1.5.0
# sqlite-load against hostile and unusual input (issue 9): reserved names,
# keys a record or table lacks, replace of a whole table family, rejected
# records that change nothing, odd identifiers, names that differ only in
# case, duplicate members, integers beyond 64 bits, closed descriptors,
# many columns, load ids and side files.

load helper

setup() {
	sluice_setup sqlite-load
}

# seed DB: a database with one load already committed, and its .dump.
seed() {
	printf '{"type":"RECORD","stream":"t","record":{"id":1,"v":"a"}}\n{"type":"STATE","value":{"bookmark":"real"}}\n' |
	    sqlite-load -q "$1" || fail "seed load failed"
	dump "$1" >"$1.before"
}

# unchanged DB: the database is byte-for-byte what seed left.
unchanged() {
	dump "$1" >"$1.after"
	cmp "$1.before" "$1.after" || fail "the database changed"
}

# ---------------------------------------------------------------------------
# S4: reserved names.

@test "S4: a RECORD for _sluice_state is refused with 65 and forges no bookmark" {
	seed db
	run -65 --separate-stderr sqlite-load db <<'IN'
{"type":"RECORD","stream":"_sluice_state","record":{"load_id":"x","stored_at":"2099","value":"{\"bookmark\":\"forged\"}"}}
IN
	assert_stderr_partial "reserved"
	assert_stderr_partial ":1:"
	unchanged db
	run -0 sqlite-load db --state-get bookmark
	assert_output "real"
}

@test "S4: -t _sluice_state and a case variant of it are refused with 65" {
	seed db
	run -65 --separate-stderr sqlite-load -t _sluice_state db <<<'{"load_id":"x","stored_at":"2099","value":"{\"bookmark\":\"forged\"}"}'
	assert_stderr_partial "reserved"
	run -65 --separate-stderr sqlite-load -t _SLUICE_State db <<<'{"load_id":"x","stored_at":"2099","value":"{\"bookmark\":\"forged\"}"}'
	unchanged db
	run -0 sqlite-load db --state-get bookmark
	assert_output "real"
}

@test "S4: SCHEMA and child streams under _sluice_ are refused with 65" {
	seed db
	run -65 sqlite-load db <<<'{"type":"SCHEMA","stream":"_sluice_loads","schema":{"properties":{"load_id":{"type":"string"}}},"key_properties":[]}'
	run -65 sqlite-load db <<<'{"type":"RECORD","stream":"_sluice_x__items","record":{"v":1}}'
	unchanged db
}

@test "S4: streams named sqlite_* in any case get 65, not 70" {
	seed db
	for s in sqlite_master SQLITE_MASTER sqlite_sequence Sqlite_foo; do
		run -65 --separate-stderr sqlite-load db <<<"{\"type\":\"RECORD\",\"stream\":\"$s\",\"record\":{\"v\":1}}"
		assert_stderr_partial "reserved"
	done
	run -65 sqlite-load -t sqlite_master db <<<'{"v":1}'
	unchanged db
}

@test "S4: a reserved stream is skipped under --on-error skip, the rest loads" {
	seed db
	run -0 sqlite-load --on-error skip db <<'IN'
{"type":"RECORD","stream":"_sluice_state","record":{"load_id":"x","stored_at":"2099","value":"{\"bookmark\":\"forged\"}"}}
{"type":"RECORD","stream":"t","record":{"id":2,"v":"b"}}
IN
	run -0 sql db "SELECT count(*) FROM t"
	assert_output 2
	run -0 sqlite-load db --state-get bookmark
	assert_output "real"
}
