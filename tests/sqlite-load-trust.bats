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
	db_snapshot "$1"
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
	db_unchanged db
	run -0 sqlite-load db --state-get bookmark
	assert_output "real"
}

@test "S4: -t _sluice_state and a case variant of it are refused with 65" {
	seed db
	run -65 --separate-stderr sqlite-load -t _sluice_state db <<<'{"load_id":"x","stored_at":"2099","value":"{\"bookmark\":\"forged\"}"}'
	assert_stderr_partial "reserved"
	run -65 --separate-stderr sqlite-load -t _SLUICE_State db <<<'{"load_id":"x","stored_at":"2099","value":"{\"bookmark\":\"forged\"}"}'
	db_unchanged db
	run -0 sqlite-load db --state-get bookmark
	assert_output "real"
}

@test "S4: SCHEMA and child streams under _sluice_ are refused with 65" {
	seed db
	run -65 sqlite-load db <<<'{"type":"SCHEMA","stream":"_sluice_loads","schema":{"properties":{"load_id":{"type":"string"}}},"key_properties":[]}'
	run -65 sqlite-load db <<<'{"type":"RECORD","stream":"_sluice_x__items","record":{"v":1}}'
	db_unchanged db
}

@test "S4: streams named sqlite_* in any case get 65, not 70" {
	seed db
	for s in sqlite_master SQLITE_MASTER sqlite_sequence Sqlite_foo; do
		run -65 --separate-stderr sqlite-load db <<<"{\"type\":\"RECORD\",\"stream\":\"$s\",\"record\":{\"v\":1}}"
		assert_stderr_partial "reserved"
	done
	run -65 sqlite-load -t sqlite_master db <<<'{"v":1}'
	db_unchanged db
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

# ---------------------------------------------------------------------------
# D1: a key the record or the table lacks.

@test "D1: a record without its key value exits 65 naming the line, in every mode" {
	local m
	for m in append replace merge scd2; do
		rm -f db
		seed db
		# missing
		run -65 --separate-stderr sqlite-load -t t -k id -m "$m" db <<<$'{"id":2,"v":"b"}\n{"v":"c"}'
		assert_stderr_partial 'stdin:2: stream t: record has no value for key "id"'
		# null
		run -65 --separate-stderr sqlite-load -t t -k id -m "$m" db <<<'{"id":null,"v":"c"}'
		assert_stderr_partial 'stdin:1: stream t: record has no value for key "id"'
		db_unchanged db
	done
}

@test "D1: a key the new table lacks exits 65 in every mode, never 70 or a signal" {
	local m
	for m in append replace merge scd2; do
		rm -f k.db
		run -65 --separate-stderr sqlite-load -t t -k id -m "$m" k.db <<<'{"x":1}'
		assert_stderr_partial 'stdin:1: stream t: record has no value for key "id"'
		run -65 --separate-stderr sqlite-load -t t -k id,missing -m "$m" k.db <<<'{"id":1,"x":1}'
		assert_stderr_partial 'stdin:1: stream t: record has no value for key "missing"'
		run -65 --separate-stderr sqlite-load -t t -k id,missing -m "$m" k.db <<<'{"id":1,"x":1,"missing":null}'
		assert_stderr_partial 'no value for key "missing"'
		run -0 sqlite-load -q -t t -k id,k2 -m "$m" k.db <<<'{"id":1,"k2":2,"x":1}'
		run -0 sql k.db "SELECT id, k2, x FROM t"
		assert_output "1|2|1"
	done
}

@test "D1: a SCHEMA without the key column, then records without it: 65, not 70" {
	run -65 --separate-stderr sqlite-load -m merge -k id db <<'IN'
{"type":"SCHEMA","stream":"s","schema":{"properties":{"x":{"type":"integer"}}},"key_properties":[]}
{"type":"RECORD","stream":"s","record":{"x":1}}
IN
	assert_stderr_partial 'stdin:2: stream s: record has no value for key "id"'
	run -0 sqlite-load -q -m merge -k id db <<'IN'
{"type":"SCHEMA","stream":"s","schema":{"properties":{"x":{"type":"integer"}}},"key_properties":[]}
{"type":"RECORD","stream":"s","record":{"id":1,"x":1}}
{"type":"RECORD","stream":"s","record":{"id":1,"x":2}}
IN
	run -0 sql db "SELECT id, x FROM s"
	assert_output "1|2"
}

@test "D1: -k names the default stream's key; child streams keep their _sluice_id key" {
	sluice_setup sqlite-load jsonl-normalize schema-infer
	printf '%s\n' '{"record_hash":"h1","v":1,"stops":[{"n":1},{"n":2}]}' \
	    '{"record_hash":"h2","v":2,"stops":[{"n":3}]}' >rides.jsonl
	jsonl-normalize -t rides -k record_hash rides.jsonl | schema-infer -q >in.jsonl
	run -0 sqlite-load -q db -m merge -k record_hash in.jsonl
	run -0 sqlite-load -q db -m merge -k record_hash in.jsonl
	run -0 sql db "SELECT count(*) FROM rides"
	assert_output 2
	run -0 sql db "SELECT group_concat(n) FROM (SELECT n FROM rides__stops ORDER BY n)"
	assert_output "1,2,3"
	run -0 sql db "SELECT name FROM pragma_table_info('rides__stops') WHERE pk > 0"
	assert_output "_sluice_id"
}

@test "D1: without SCHEMA messages too, -k leaves child rows their _sluice_id key" {
	sluice_setup sqlite-load jsonl-normalize
	printf '%s\n' '{"id":1,"stops":[{"n":1},{"n":2}]}' '{"id":2,"stops":[{"n":3}]}' >rides.jsonl
	local m
	for m in append merge replace scd2; do
		rm -f "db.$m"
		jsonl-normalize -t rides -k id rides.jsonl >in.jsonl
		run -0 sqlite-load -q "db.$m" -t rides -m "$m" -k id in.jsonl
		run -0 sql "db.$m" "SELECT group_concat(n) FROM (SELECT n FROM rides__stops ORDER BY n)"
		assert_output "1,2,3"
		run -0 sql "db.$m" "SELECT name FROM pragma_table_info('rides__stops') WHERE pk > 0"
		assert_output "_sluice_id"
	done
}

@test "D1: a SCHEMA's key_properties win over -k for its stream" {
	run -0 sqlite-load -q -m merge -k other db <<'IN'
{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{"type":"integer"},"x":{"type":"integer"}}},"key_properties":["id"]}
{"type":"RECORD","stream":"s","record":{"id":1,"x":1}}
{"type":"RECORD","stream":"s","record":{"id":1,"x":2}}
IN
	run -0 sql db "SELECT id, x FROM s"
	assert_output "1|2"
}

# ---------------------------------------------------------------------------
# D16: a tombstone without its key value.

@test "D16: a tombstone without its key value exits 65 in merge, scd2 and replace" {
	local m
	for m in merge scd2 replace; do
		rm -f db
		printf '{"id":1,"v":"a"}\n' | sqlite-load -q -t t -k id -m "$m" db
		db_snapshot db
		run -65 --separate-stderr sqlite-load -t t -k id -m "$m" db <<<'{"_sluice_deleted":true}'
		assert_stderr_partial 'stdin:1: stream t: tombstone has no value for key "id"'
		run -65 --separate-stderr sqlite-load -t t -k id -m "$m" db <<<'{"id":null,"_sluice_deleted":true}'
		assert_stderr_partial 'stdin:1: stream t: tombstone has no value for key "id"'
		db_unchanged db
	done
}

@test "D16: a tombstone without its key into a new table is bad data too" {
	run -65 --separate-stderr sqlite-load -t t -k id -m merge db <<<'{"_sluice_deleted":true}'
	assert_stderr_partial 'tombstone has no value for key "id"'
}

# ---------------------------------------------------------------------------
# D2: replace swaps a root stream's whole family of tables.

@test "D2: replace empties a child table the new load gives no rows" {
	sluice_setup sqlite-load jsonl-normalize
	printf '%s\n' '{"id":1,"tags":["a","b"],"stops":[{"n":1,"legs":[{"k":1}]}]}' >old.jsonl
	printf '%s\n' '{"id":2,"stops":[]}' >new.jsonl
	jsonl-normalize -t r old.jsonl | sqlite-load -q -m replace db
	run -0 sql db "SELECT (SELECT count(*) FROM r__tags), (SELECT count(*) FROM r__stops), (SELECT count(*) FROM r__stops__legs)"
	assert_output "2|1|1"
	run -0 --separate-stderr sh -c 'jsonl-normalize -t r new.jsonl | sqlite-load -m replace db'
	run -0 sql db "SELECT (SELECT group_concat(id) FROM r), (SELECT count(*) FROM r__tags), (SELECT count(*) FROM r__stops), (SELECT count(*) FROM r__stops__legs)"
	assert_output "2|0|0|0"
}

@test "D2: replace keeps child rows the load writes before its root's, and other streams' tables" {
	sqlite-load -q -m replace db <<'IN'
{"type":"RECORD","stream":"r","record":{"id":1,"_sluice_id":"a"}}
{"type":"RECORD","stream":"r__c","record":{"v":1,"_sluice_id":"c1","_sluice_parent_id":"a","_sluice_root_id":"a"}}
{"type":"RECORD","stream":"other","record":{"v":1}}
{"type":"RECORD","stream":"r__plain","record":{"v":1}}
IN
	sqlite-load -q -m replace db <<'IN'
{"type":"RECORD","stream":"r__c","record":{"v":2,"_sluice_id":"c2","_sluice_parent_id":"b","_sluice_root_id":"b"}}
{"type":"RECORD","stream":"r","record":{"id":2,"_sluice_id":"b"}}
IN
	run -0 sql db "SELECT (SELECT group_concat(id) FROM r), (SELECT group_concat(v) FROM r__c), (SELECT count(*) FROM other), (SELECT count(*) FROM r__plain)"
	assert_output "2|2|1|1"
}

@test "D2: a failed replace keeps the old child rows" {
	sluice_setup sqlite-load jsonl-normalize
	printf '%s\n' '{"id":1,"tags":["a","b"]}' | jsonl-normalize -t r | sqlite-load -q -m replace db
	db_snapshot db
	run -65 sh -c 'printf "%s\n" "{\"id\":2}" "{bad" | jsonl-normalize -t r --on-error skip | { cat; echo "{bad"; } | sqlite-load -m replace db'
	db_unchanged db
}

# ---------------------------------------------------------------------------
# D3: a rejected record changes nothing.

@test "D3: a record skipped for a constraint adds no column (append, skip and quarantine)" {
	local p
	for p in skip quarantine=q.jsonl; do
		rm -f db q.jsonl
		printf '{"id":1,"v":"a"}\n' | sqlite-load -q -t t -k id db
		db_snapshot db
		run -0 --separate-stderr sqlite-load --on-error "$p" -t t -k id -m append db <<<'{"id":1,"v":"b","leak":1}'
		run -0 sql db "SELECT count(*) FROM pragma_table_info('t') WHERE name = 'leak'"
		assert_output 0
		run -0 sql db "SELECT id, v FROM t"
		assert_output "1|a"
	done
	run -0 grep -c leak q.jsonl
	assert_output 1
}

@test "D3: a record rejected in merge mode keeps the stored child rows" {
	sluice_setup sqlite-load jsonl-normalize
	printf '%s\n' '{"id":1,"email":"a@x","tags":["t1","t2"]}' '{"id":2,"email":"b@x","tags":["t3"]}' |
	    jsonl-normalize -t u -k id | sqlite-load -q -m merge db
	sql db 'CREATE UNIQUE INDEX u_email ON u(email)'
	db_snapshot db
	# id 1 takes id 2's email and has no tags any more: the UNIQUE index
	# rejects it after its children were replaced; it also brings a new
	# column.
	printf '%s\n' '{"id":1,"email":"b@x","leak":1}' |
	    jsonl-normalize -t u -k id >in.jsonl
	run -0 --separate-stderr sqlite-load --on-error skip -m merge db in.jsonl
	assert_stderr_partial "UNIQUE"
	dump db >db.after
	# The load itself is recorded; the tables are as they were.
	run -0 sql db "SELECT group_concat(value) FROM (SELECT value FROM u__tags ORDER BY value)"
	assert_output "t1,t2,t3"
	run -0 sql db "SELECT count(*) FROM pragma_table_info('u') WHERE name = 'leak'"
	assert_output 0
	run -0 sql db "SELECT id, email FROM u ORDER BY id"
	assert_output $'1|a@x\n2|b@x'
}

@test "D3: the child rows of a rejected root are rejected with it, and quarantined" {
	sluice_setup sqlite-load jsonl-normalize
	printf '%s\n' '{"id":1,"arr":[{"x":1}]}' '{"id":1,"arr":[{"x":2},{"x":3,"deep":[7]}]}' >in.jsonl
	local m pol
	for m in append replace; do
		for pol in skip quarantine=q.jsonl; do
			rm -f db q.jsonl
			jsonl-normalize -t items in.jsonl >msgs.jsonl
			run -0 --separate-stderr sqlite-load -q db -t items -k id -m "$m" --on-error "$pol" msgs.jsonl
			run -0 sql db "SELECT count(*) FROM items"
			assert_output 1
			run -0 sql db "SELECT group_concat(x) FROM items__arr"
			assert_output 1
			# The grandchild came only with the rejected root: no table.
			run -0 sql db "SELECT count(*) FROM sqlite_master WHERE name = 'items__arr__deep'"
			assert_output 0
		done
	done
	# Every rejected line is kept, the children with their reason.
	run -0 jq -r .error q.jsonl
	assert_line --index 0 --partial "UNIQUE constraint failed"
	assert_line --index 1 --partial "its parent record"
	assert_line --index 2 --partial "its parent record"
	assert_line --index 3 --partial "its parent record"
	[[ ${#lines[@]} -eq 4 ]] || fail "expected 4 quarantined lines, got ${#lines[@]}"
}

@test "D3: after a rejected record, the next records load into the restored schema" {
	printf '{"id":1,"v":"a"}\n' | sqlite-load -q -t t -k id db
	run -0 --separate-stderr sqlite-load --on-error skip -t t -k id -m append db <<'IN'
{"id":1,"v":"dup","leak":1}
{"id":2,"v":"b","leak":2}
{"id":2,"v":"dup again","other":3}
{"id":3,"v":"c"}
IN
	run -0 sql db "SELECT group_concat(id || ':' || v || ':' || coalesce(leak, '-'), ' ') FROM (SELECT * FROM t ORDER BY id)"
	assert_output "1:a:- 2:b:2 3:c:-"
	run -0 sql db "SELECT count(*) FROM pragma_table_info('t') WHERE name = 'other'"
	assert_output 0
	# The stored schema has no trace of the rejected columns either.
	run -0 sql db "SELECT count(*) FROM _sluice_schemas WHERE schema LIKE '%other%'"
	assert_output 0
}

# ---------------------------------------------------------------------------
# D9: U+0000 in names and values.

@test "D9: a member name holding U+0000 is bad data (65), not 70" {
	run -65 --separate-stderr sqlite-load -t t db <<<'{"k\u0000x":1}'
	assert_stderr_partial 'stdin:1: stream t: column name contains U+0000'
	run -65 --separate-stderr sqlite-load db <<<'{"type":"SCHEMA","stream":"s","schema":{"properties":{"a\u0000b":{"type":"integer"}}},"key_properties":[]}'
	assert_stderr_partial 'stdin:1: stream s: column name contains U+0000'
	run -65 --separate-stderr sqlite-load db <<<'{"type":"SCHEMA","stream":"s","schema":{"properties":{"a":{"type":"integer"}}},"key_properties":["a\u0000b"]}'
	assert_stderr_partial 'U+0000'
	run -65 --separate-stderr sqlite-load db <<<'{"type":"RECORD","stream":"s\u0000t","record":{"a":1}}'
	assert_stderr_partial 'stream name contains U+0000'
}

@test "D9: skipped records and schemas with U+0000 names leave the rest loadable" {
	run -0 --separate-stderr sqlite-load --on-error skip db <<'IN'
{"type":"SCHEMA","stream":"s","schema":{"properties":{"a\u0000b":{"type":"integer"}}},"key_properties":[]}
{"type":"RECORD","stream":"s","record":{"a":1,"k\u0000x":2}}
{"type":"RECORD","stream":"s","record":{"a":2}}
IN
	run -0 sql db "SELECT group_concat(name) FROM pragma_table_info('s')"
	assert_output "a"
	run -0 sql db "SELECT a FROM s"
	assert_output 2
}

@test "D9: a value holding U+0000 is stored whole as TEXT" {
	run -0 sqlite-load -q -t t db <<<'{"v":"a\u0000b"}'
	run -0 sql db "SELECT hex(v), typeof(v), length(CAST(v AS BLOB)) FROM t"
	assert_output "610062|text|3"
}

# ---------------------------------------------------------------------------
# D6: names that differ only in case.

@test "D6: members that differ only in case are bad data (65), not 70" {
	run -65 --separate-stderr sqlite-load -t t db <<<'{"id":1,"ID":2}'
	assert_stderr_partial 'stdin:1: stream t: columns "id" and "ID" differ only in case'
	run -0 --separate-stderr sqlite-load --on-error skip -t t db <<<$'{"id":1}\n{"Id":2}\n{"id":3}'
	assert_stderr_partial 'stdin:2: stream t: columns "id" and "Id" differ only in case'
	run -0 sql db "SELECT group_concat(id) FROM t"
	assert_output "1,3"
	db_snapshot db
	# A later load meets the stored column.
	run -65 --separate-stderr sqlite-load -t t db <<<'{"ID":4}'
	assert_stderr_partial 'columns "id" and "ID" differ only in case'
	db_unchanged db
	run -65 sqlite-load db <<<'{"type":"SCHEMA","stream":"s","schema":{"properties":{"a":{"type":"integer"},"A":{"type":"string"}}},"key_properties":[]}'
}

@test "D6: streams that differ only in case are bad data and never delete each other's rows" {
	sqlite-load -q db <<<'{"type":"RECORD","stream":"issues","record":{"id":1}}'
	db_snapshot db
	run -65 --separate-stderr sqlite-load -m replace db <<<'{"type":"RECORD","stream":"Issues","record":{"id":2}}'
	assert_stderr_partial 'stream Issues: differs only in case from table issues'
	db_unchanged db
	run -65 --separate-stderr sqlite-load -m replace db2 <<'IN'
{"type":"RECORD","stream":"Issues","record":{"id":1}}
{"type":"RECORD","stream":"issues","record":{"id":2}}
IN
	assert_stderr_partial 'stdin:2: stream issues: differs only in case from stream Issues'
	run -0 sqlite-load -q --on-error skip db3 <<'IN'
{"type":"RECORD","stream":"Issues","record":{"id":1}}
{"type":"RECORD","stream":"issues","record":{"id":2}}
IN
	run -0 sql db3 "SELECT id FROM Issues"
	assert_output 1
}

# ---------------------------------------------------------------------------
# D11: a member that occurs twice: the last wins, counted and reported.

@test "D11: the last of repeated members is stored, no variant column, and it is reported" {
	run -0 --separate-stderr sqlite-load --stats st.json -t t db <<<'{"a":1,"a":"x","b":2}'
	assert_stderr_partial "1 repeated member left out"
	run -0 sql db "SELECT a, b, typeof(a) FROM t"
	assert_output "x|2|text"
	run -0 columns db t
	assert_output "a,b"
	run -0 grep -c '"duplicate_members":1' st.json
}

@test "D11: the last repeated key is the merge key, also in a wide record" {
	local wide
	wide=$(awk 'BEGIN { for (i = 0; i < 20; i++) printf "\"c%d\":%d,", i, i }')
	run -0 sqlite-load -q -t t -k id -m merge db <<<"{${wide}\"id\":\"one\",\"v\":\"first\",\"id\":2}"
	run -0 sqlite-load -q -t t -k id -m merge db <<<'{"id":2,"v":"second"}'
	run -0 sql db "SELECT id, v, c19 FROM t"
	assert_output "2|second|"
	run -0 sql db "SELECT typeof(id) FROM t"
	assert_output integer
}

# ---------------------------------------------------------------------------
# D7: integers beyond 64 bits stay exact.

@test "D7: a number beyond a double's range (1e400) is an exact decimal, never infinity" {
	printf '%s\n' '{"v":1e400}' '{"v":-2.5E+999}' '{"v":1.5}' >in.jsonl
	run -0 sqlite-load -q db -t t in.jsonl
	run -0 sql db "SELECT v, typeof(v) FROM t ORDER BY rowid"
	assert_output $'1e400|text\n-2.5E+999|text\n1.5|text'
	run -0 coltype db t v
	assert_output "DECIMAL TEXT"
}

@test "D7: a wide integer or 1e400 into a double column goes to an exact variant column, not rounded" {
	printf '%s\n' '{"w":1.5}' '{"w":18446744073709551617}' '{"w":1e400}' >in.jsonl
	run -0 sqlite-load -q db -t t in.jsonl
	run -0 sql db "SELECT quote(w), quote(w__v_decimal) FROM t ORDER BY rowid"
	assert_output $'1.5|NULL\nNULL|\'18446744073709551617\'\nNULL|\'1e400\''
}

@test "D7: integers beyond 64 bits are two keys in merge, exact digits as values" {
	printf '%s\n' '{"id":18446744073709551617,"v":1}' '{"id":18446744073709551618,"v":2}' \
	    '{"id":18446744073709551617,"v":3}' >big.jsonl
	run -0 sqlite-load -q -t t -k id -m merge db big.jsonl
	run -0 sql db "SELECT id || ':' || typeof(id) || ':' || v FROM t ORDER BY id"
	assert_output $'18446744073709551617:text:3\n18446744073709551618:text:2'
}

@test "D7: integers beyond 64 bits do not collide in append" {
	printf '%s\n' '{"id":18446744073709551617}' '{"id":18446744073709551618}' >big.jsonl
	run -0 sqlite-load -q -t t -k id db big.jsonl
	run -0 sql db "SELECT group_concat(id, ',') FROM (SELECT id FROM t ORDER BY id)"
	assert_output "18446744073709551617,18446744073709551618"
	run -0 coltype db t id
	assert_output "DECIMAL TEXT"
}

@test "D7: a wide integer after small ones goes to an exact variant column" {
	printf '%s\n' '{"n":1}' '{"n":-99999999999999999999999}' >big.jsonl
	run -0 sqlite-load -q -t t db big.jsonl
	run -0 sql db "SELECT coalesce(n, '-') || '|' || coalesce(n__v_decimal, '-') FROM t ORDER BY rowid"
	assert_output $'1|-\n-|-99999999999999999999999'
}

@test "D7: schema-infer types a wide integer as decimal and sqlite-load keeps it" {
	sluice_setup sqlite-load schema-infer
	printf '%s\n' '{"id":18446744073709551617,"x":1.5}' '{"id":3,"x":2}' >big.jsonl
	run -0 schema-infer -q -t t -k id big.jsonl
	assert_line --index 0 '{"type":"SCHEMA","stream":"t","schema":{"type":"object","properties":{"id":{"type":["number"],"format":"decimal"},"x":{"type":["number"]}}},"key_properties":["id"]}'
	schema-infer -q -t t -k id big.jsonl | sqlite-load -q -m merge db
	run -0 sql db "SELECT id || ':' || typeof(id) FROM t ORDER BY rowid"
	assert_output $'18446744073709551617:text\n3:text'
}

# ---------------------------------------------------------------------------
# D13: closed standard descriptors.

@test "D13: stdin closed exits 74 every time and commits nothing" {
	local i
	for i in 1 2 3 4 5 6 7 8; do
		run -74 --separate-stderr sh -c 'exec sqlite-load -t t db <&-'
		assert_stderr_partial "stdin: read error: Bad file descriptor"
	done
	[[ ! -e db ]] || fail "a database was created"
	seed db2
	run -74 sh -c 'exec sqlite-load -t t db2 - <&-'
	db_unchanged db2
}

@test "D13: stdin closed does not matter when the input is a file" {
	printf '{"a":1}\n' >one.jsonl
	run -0 sh -c 'exec sqlite-load -q -t t db one.jsonl <&-'
	run -0 sql db "SELECT a FROM t"
	assert_output 1
}

@test "D13: stdout closed: the load commits, the lost STATE is an error" {
	run -74 --separate-stderr sh -c 'exec sqlite-load db >&-' <<<'{"type":"STATE","value":{"b":1}}'
	assert_stderr_partial "stdout: Bad file descriptor"
	run -0 sqlite-load db --state-get b
	assert_output 1
}

# ---------------------------------------------------------------------------
# D15: many columns, added one record at a time.

@test "D15: 2,000 columns, one more each record, load correctly" {
	awk 'BEGIN { for (i = 0; i < 2000; i++) printf "{\"c%d\":%d}\n", i, i }' >cols.jsonl
	run -0 sqlite-load -q -t t db cols.jsonl
	run -0 sql db "SELECT count(*) FROM pragma_table_info('t')"
	assert_output 2000
	run -0 sql db "SELECT count(*), sum(c0 IS NOT NULL), sum(c1999 IS NOT NULL), max(c1999) FROM t"
	assert_output "2000|1|1|1999"
	# One column more is bad data, not 70.
	run -65 --separate-stderr sqlite-load -t t db <<<'{"c2000":1}'
	assert_stderr_partial "more than 2000 columns"
}

@test "D15: 2,000 columns added one a record cost no more than declaring them" {
	# The held-back records create the table once: no ALTER TABLE at all.
	awk 'BEGIN { for (i = 0; i < 2000; i++) printf "{\"c%d\":%d}\n", i, i }' >cols.jsonl
	run -0 sqlite-load -q -t t db cols.jsonl
	run -0 sql db "SELECT sql FROM sqlite_master WHERE name = 't'"
	# ALTER TABLE would have written ', "c1" INTEGER' into the text.
	[[ $output == 'CREATE TABLE "t" ("c0" INTEGER,"c1" INTEGER,'*',"c1999" INTEGER)' ]]
	[[ $output != *', "'* ]]
}

@test "D15: a held-back record that fails is named by its own line" {
	# A duplicate key is found when the new table's rows are written:
	# at the end of the input, or at the STATE that follows.
	run -65 --separate-stderr sqlite-load -k id -m append db <<<$'{"id":1}\n{"id":1}\n{"id":2}'
	assert_stderr_partial "stdin:2: insert: UNIQUE constraint failed"
	run -0 sql db "SELECT count(*) FROM sqlite_master WHERE name = 'data'"
	assert_output 0
	run -65 --separate-stderr sqlite-load -k id -m append db <<<$'{"id":1}\n{"id":1}\n{"type":"STATE","value":{"b":1}}\n{"id":3}'
	assert_output ""
	assert_stderr_partial "stdin:2: insert: UNIQUE constraint failed"
	run -0 sql db "SELECT count(*) FROM sqlite_master WHERE name IN ('data', '_sluice_state')"
	assert_output 0
	# A name that clashes is named where it first appears.
	run -65 --separate-stderr sqlite-load -t t db <<<$'{"a":1}\n{"b":2}\n{"A":3}\n{"c":4}'
	assert_stderr_partial 'stdin:3: stream t: columns "a" and "A" differ only in case'
}

@test "D15: held-back records keep their order with merges, tombstones and other streams" {
	# The same key twice in a new table, a child stream in between, a
	# tombstone of another key, and a STATE: as if written one by one.
	cat >in.jsonl <<-'EOF'
	{"type":"RECORD","stream":"r","record":{"id":1,"v":"a"}}
	{"type":"RECORD","stream":"r","record":{"id":2,"v":"b"}}
	{"type":"RECORD","stream":"r","record":{"id":1,"v":"a2","w":5}}
	{"type":"RECORD","stream":"o","record":{"id":9,"n":1}}
	{"type":"RECORD","stream":"r","record":{"id":3,"v":"c"}}
	{"type":"RECORD","stream":"r","record":{"id":2,"_sluice_deleted":true}}
	{"type":"STATE","value":{"at":3}}
	{"type":"RECORD","stream":"r","record":{"id":4,"v":"d","x":true}}
	EOF
	run -0 --separate-stderr sqlite-load -k id -m merge db in.jsonl
	assert_output '{"type":"STATE","value":{"at":3}}'
	assert_stderr_partial "r +4 ~1 =0 -1, o +1 ~0 =0 -0"
	run -0 sql db "SELECT id, v, coalesce(w, '-'), coalesce(x, '-') FROM r ORDER BY id"
	assert_output $'1|a2|5|-\n3|c|-|-\n4|d|-|1'
	run -0 sql db "SELECT count(*) FROM o"
	assert_output 1
}

@test "D15: a new table past the records held back gets every row and column" {
	# More records than are held back at once (10,000): the table exists
	# after the first batch, and a column that comes later is added to it.
	awk 'BEGIN { for (i = 0; i < 25000; i++)
		if (i == 20000) printf "{\"id\":%d,\"late\":\"x\"}\n", i
		else printf "{\"id\":%d,\"s\":\"r%d\"}\n", i, i }' >many.jsonl
	run -0 sqlite-load -q -t t db many.jsonl
	run -0 sql db "SELECT count(*), count(DISTINCT id), sum(late IS NOT NULL), max(s) FROM t"
	assert_output "25000|25000|1|r9999"
	run -0 sql db "SELECT id FROM t WHERE late = 'x'"
	assert_output 20000
}

@test "D15: merge into a table whose columns are not in the schema's order" {
	sql db 'CREATE TABLE t (b TEXT, id INTEGER PRIMARY KEY, a TEXT)'
	run -0 sqlite-load -q -t t -k id -m merge db <<<$'{"id":1,"a":"x","b":"y"}\n{"id":1,"a":"x2","b":"y2","c":3}\n{"id":2,"c":4,"a":"z"}'
	run -0 sql db "SELECT id, a, coalesce(b, '-'), c FROM t ORDER BY id"
	assert_output $'1|x2|y2|3\n2|z|-|4'
}

# ---------------------------------------------------------------------------
# D25: the rows' load id is the load's.

@test "D25: _sluice_load_id in the rows equals the load's id in _sluice_loads" {
	sluice_setup sqlite-load jsonl-normalize
	printf '%s\n' '{"id":1,"tags":["a"]}' '{"id":2,"tags":[]}' >in.jsonl
	jsonl-normalize -t r -k id in.jsonl | sqlite-load -q -m merge db
	run -0 sql db "SELECT count(DISTINCT load_id) FROM _sluice_loads"
	assert_output 1
	run -0 sql db "SELECT count(*) FROM r WHERE _sluice_load_id = (SELECT load_id FROM _sluice_loads)"
	assert_output 2
	# A second load updates id 2: its row now names the second load.
	printf '%s\n' '{"id":2,"tags":["b"]}' | jsonl-normalize -t r -k id | sqlite-load -q -m merge db
	run -0 sql db "SELECT id FROM r WHERE _sluice_load_id = (SELECT load_id FROM _sluice_loads ORDER BY rowid DESC LIMIT 1)"
	assert_output 2
	run -0 sql db "SELECT count(*) FROM r WHERE _sluice_load_id NOT IN (SELECT load_id FROM _sluice_loads)"
	assert_output 0
}

@test "D25: a reused load id is refused before anything is written" {
	SLUICE_LOAD_ID=nightly-1 sqlite-load -q -t t db <<<'{"a":1}'
	db_snapshot db
	run -64 --separate-stderr env SLUICE_LOAD_ID=nightly-1 sqlite-load -t t db <<<'{"a":2}'
	assert_stderr_partial "load id nightly-1: already in _sluice_loads"
	run -64 --separate-stderr sqlite-load --load-id nightly-1 -t t db <<<'{"a":2}'
	db_unchanged db
}

# ---------------------------------------------------------------------------
# D8: side files that cannot be written fail the load before the commit.

@test "D8: a quarantine that loses the rejected line fails the load (75: a full disk), nothing committed" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	seed db
	run -75 --separate-stderr sqlite-load --on-error quarantine=/dev/full -t t db <<<$'{"id":5}\nnot json\n{"id":6}'
	assert_stderr_partial "/dev/full: No space left on device"
	assert_stderr_partial "load rolled back"
	db_unchanged db
}

@test "D8: --stats to a full device fails the load before the commit (75: a full disk)" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	seed db
	run -75 --separate-stderr sqlite-load --stats /dev/full -t t db <<<'{"id":5}'
	assert_stderr_partial "/dev/full"
	db_unchanged db
}

@test "D8: side files that cannot be created stop the load before any work" {
	seed db
	run -73 --separate-stderr sqlite-load --stats nodir/st.json -t t db <<<'{"id":5}'
	assert_stderr_partial "nodir/st.json"
	run -73 --separate-stderr sqlite-load --on-error quarantine=nodir/q.jsonl -t t db <<<'{"id":5}'
	assert_stderr_partial "nodir/q.jsonl"
	db_unchanged db
}

@test "D8: a quarantined line is on disk when the load commits" {
	run -0 --separate-stderr sqlite-load --on-error quarantine=q.jsonl --stats st.json -t t db <<<$'{"a":1}\nnot json'
	run -0 grep -c '"input":"not json"' q.jsonl
	assert_output 1
	run -0 grep -c '"quarantined":1' st.json
}

@test "D25: an existing table's _sluice_load_id column gets the load id, the others their values" {
	sql db 'CREATE TABLE t (a TEXT, b INTEGER, _sluice_load_id TEXT)'
	run -0 sqlite-load -q --load-id L1 -t t db <<<'{"a":"x","b":2,"_sluice_load_id":"upstream"}'
	run -0 sqlite-load -q --load-id L2 -t t db <<<'{"b":3}'
	run -0 sql db "SELECT coalesce(a, '-'), b, _sluice_load_id FROM t ORDER BY b"
	assert_output $'x|2|L1\n-|3|L2'
}

@test "D1: a key value whose type conflicts with the key column is bad data, named as such" {
	run -65 --separate-stderr sqlite-load -t t -k id -m merge db <<<$'{"id":1}\n{"id":"x"}'
	assert_stderr_partial 'stdin:2: stream t: key "id": the value'"'"'s type conflicts with the column'"'"'s (bigint)'
}
