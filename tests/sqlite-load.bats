bats_require_minimum_version 1.5.0
# sqlite-load: tables, modes, types, bookkeeping, state, atomicity, errors
# and exit codes (spec.md).  Singer corpus: sqlite-load-singer.bats;
# signals: sqlite-load-signals.bats; real data: pipeline.bats.

load helper

setup() {
	sluice_setup sqlite-load
	D="$DATA/sqlite-load"
}

# ---------------------------------------------------------------------------
# Options, usage, version.

@test "-h prints usage on stdout and exits 0" {
	run -0 --separate-stderr sqlite-load -h
	assert_output --partial "sqlite-load"
	assert_output --regexp '[Uu]sage'
	assert_output --partial "--state-get"
	assert_stderr_empty
	[[ ! -e -h ]] || fail "created a database named -h"
}

@test "-V prints the version" {
	run -0 --separate-stderr sqlite-load -V
	assert_output "sqlite-load (sluice) 0.1.0"
	assert_stderr_empty
	run -0 --separate-stderr sqlite-load --version
	assert_output "sqlite-load (sluice) 0.1.0"
}

@test "a bad option exits 64 with usage on stderr" {
	run -64 --separate-stderr sqlite-load db --no-such-option </dev/null
	assert_output ""
	assert_stderr_regex '[Uu]sage'
	[[ ! -e db ]] || fail "database created on a usage error"
}

@test "no database argument exits 64" {
	run -64 --separate-stderr sqlite-load </dev/null
	assert_output ""
	assert_stderr_regex '[Uu]sage'
}

@test "a bad --mode exits 64" {
	run -64 --separate-stderr sqlite-load db -m upsert <"$D/batch1.jsonl"
	assert_output ""
	[[ ! -e db ]] || fail "database created on a usage error"
}

@test "bad numbers for --busy-timeout and --max-line-bytes exit 64" {
	run -64 --separate-stderr sqlite-load db --busy-timeout soon </dev/null
	run -64 --separate-stderr sqlite-load db --busy-timeout -5 </dev/null
	run -64 --separate-stderr sqlite-load db --max-line-bytes 1X </dev/null
	run -64 --separate-stderr sqlite-load db --on-error maybe </dev/null
}

@test "merge without a key exits 64 and leaves the database as it was" {
	sqlite-load -q -t t db "$D/batch1.jsonl"
	db_snapshot db
	run -64 --separate-stderr sqlite-load db -t t -m merge <"$D/batch2.jsonl"
	assert_output ""
	assert_stderr_partial "key"
	db_unchanged db
}

@test "merge of a Singer stream whose SCHEMA has no key_properties exits 64" {
	printf '%s\n' '{"type":"SCHEMA","stream":"s","schema":{"type":"object","properties":{"a":{"type":"integer"}}},"key_properties":[]}' \
	    '{"type":"RECORD","stream":"s","record":{"a":1}}' > in.singer
	run -64 --separate-stderr sqlite-load db -m merge in.singer
	assert_output ""
	assert_no_user_tables db
}

@test "a database that cannot be created exits 73" {
	run -73 --separate-stderr sqlite-load no-such-dir/x.db <"$D/batch1.jsonl"
	assert_output ""
	assert_stderr_regex '^sqlite-load: .*no-such-dir/x\.db'
}

@test "a missing input file exits 66 and loads nothing" {
	sqlite-load -q -t t db "$D/batch1.jsonl"
	db_snapshot db
	run -66 --separate-stderr sqlite-load -t t db "$D/batch2.jsonl" no-such.jsonl
	assert_output ""
	assert_stderr_partial "no-such.jsonl"
	db_unchanged db
}

@test "a locked database exits 75 after --busy-timeout" {
	sqlite-load -q -t t db "$D/batch1.jsonl"
	db_snapshot db
	# Hold the write lock from another connection until the test has
	# run (or 60 s at most), however slow the machine is.
	{ echo 'BEGIN IMMEDIATE;'; echo 'DELETE FROM t;'
	  for (( j = 0; j < 600; j++ )); do [[ -e release ]] && break; sleep 0.1; done
	  echo 'ROLLBACK;'; } 3>&- |
	    sqlite3 db >/dev/null 2>&1 3>&- &
	locked=0
	for (( i = 0; i < 300; i++ )); do
		if ! sqlite3 db 'BEGIN IMMEDIATE; ROLLBACK;' 2>/dev/null; then
			locked=1
			break
		fi
		sleep 0.1
	done
	(( locked )) || { touch release; wait; fail "could not take the lock for the test"; }
	run -75 --separate-stderr sqlite-load --busy-timeout 200 -t t db "$D/batch2.jsonl"
	touch release
	wait
	assert_output ""
	db_unchanged db
}

# ---------------------------------------------------------------------------
# Append, types, the summary.

@test "the summary line on stderr: load L: T +N ~U -D committed" {
	run -0 --separate-stderr sqlite-load --load-id L1 -t t db "$D/batch1.jsonl"
	assert_output ""
	assert_stderr "sqlite-load: load L1: t +3 ~0 =0 -0 committed"
}

@test "append bare records: rows, SQL types, nothing on stdout" {
	run -0 --separate-stderr sqlite-load --load-id L1 -t t db "$D/batch1.jsonl"
	assert_output ""
	assert_equal "$(load_counts db L1 t)" "3|0|0"
	assert_equal "$(sql db 'SELECT id, name, score FROM t ORDER BY id')" \
	    "$(printf '1|alice|10\n2|bob|20\n3|carol|30')"
	assert_equal "$(columns db t)" "id,name,score"
	assert_equal "$(coltype db t id)" INTEGER
	assert_equal "$(coltype db t name)" TEXT
	assert_equal "$(coltype db t score)" INTEGER
}

@test "default table is data; - is stdin" {
	run -0 --separate-stderr sqlite-load -q db - <"$D/batch1.jsonl"
	assert_equal "$(sql db 'SELECT count(*) FROM data')" 3
	assert_stderr_empty
}

@test "append twice doubles the rows" {
	sqlite-load -q -t t db "$D/batch1.jsonl"
	sqlite-load -q -t t db "$D/batch1.jsonl"
	assert_equal "$(sql db 'SELECT count(*), sum(score) FROM t')" "6|120"
}

@test "several input files are one load" {
	run -0 --separate-stderr sqlite-load --load-id L -t t db "$D/batch1.jsonl" "$D/batch2.jsonl"
	assert_equal "$(load_counts db L t)" "5|0|0"
	assert_equal "$(sql db 'SELECT count(*) FROM _sluice_loads')" 1
}

@test "logical types map to SQL types; values stored as given" {
	run -0 --separate-stderr sqlite-load -q -t t db "$D/types.jsonl"
	assert_equal "$(coldefs db t)" \
	    "i INTEGER, d REAL, b BOOLEAN, s TEXT, ts TIMESTAMP, dt DATE, j JSON"
	assert_equal "$(sql db 'SELECT i, typeof(i), d, typeof(d), b, typeof(b), s, ts, dt FROM t ORDER BY i')" \
	    "$(printf '%s\n' '1|integer|1.5|real|1|integer|x|2024-01-02T03:04:05.5+01:00|2024-01-02' \
	        '2|integer|2.25|real|0|integer|y|2024-01-03 04:05:06|2024-01-03')"
	assert_equal "$(sql db 'SELECT typeof(j), json_valid(j), json(j) FROM t ORDER BY i')" \
	    "$(printf '%s\n' 'text|1|{"k":[1,2]}' 'text|1|[]')"
}

@test "64-bit integers are exact; beyond int64 is exact decimal text" {
	run -0 --separate-stderr sqlite-load -q -t n db "$D/numbers.jsonl"
	assert_equal "$(sql db 'SELECT id, typeof(id), neg, typeof(neg), max, typeof(max) FROM n')" \
	    "9007199254740993|integer|-9223372036854775808|integer|9223372036854775807|integer"
	assert_equal "$(sql db 'SELECT id = 9007199254740993, id - 9007199254740992 FROM n')" "1|1"
	assert_equal "$(sql db 'SELECT typeof(x), x = 0.1, typeof(huge), huge FROM n')" "real|1|text|9223372036854775808"
	assert_equal "$(coltype db n huge)" "DECIMAL TEXT"
}

@test "the loaded id round-trips to JSON exactly" {
	sqlite-load -q -t n db "$D/numbers.jsonl"
	assert_equal "$(sql db "SELECT json_object('id', id) FROM n")" '{"id":9007199254740993}'
}

@test "text is bound with its length: U+0000 and escapes survive" {
	printf '%s\n' '{"id":1,"s":"a\u0000b"}' '{"id":2,"s":"tab\there \"q\" \\ \/ \u00e9 \ud83d\ude00"}' > in.jsonl
	run -0 --separate-stderr sqlite-load -q -t t db in.jsonl
	assert_equal "$(sql db 'SELECT hex(s), length(CAST(s AS BLOB)) FROM t WHERE id = 1')" "610062|3"
	assert_equal "$(sql db 'SELECT hex(s) FROM t WHERE id = 2')" \
	    "$(hexstr $'tab\there "q" \\ / \xc3\xa9 \xf0\x9f\x98\x80')"
}

@test "a column seen only as null is not created until it gets a value" {
	printf '%s\n' '{"id":1,"n":null}' > a.jsonl
	sqlite-load -q -t t db a.jsonl
	assert_equal "$(columns db t)" "id"
	printf '%s\n' '{"id":2,"n":"x"}' > b.jsonl
	sqlite-load -q -t t db b.jsonl
	assert_equal "$(columns db t)" "id,n"
	assert_equal "$(sql db 'SELECT id, n FROM t ORDER BY id')" "$(printf '1|\n2|x')"
}

@test "a column only in the second load is added with ALTER TABLE" {
	sqlite-load -q -t t db "$D/batch1.jsonl"
	sqlite-load -q -t t db "$D/batch2.jsonl"
	assert_equal "$(columns db t)" "id,name,score,email"
	assert_equal "$(sql db "SELECT count(*) FROM t WHERE email IS NULL")" 3
	assert_equal "$(sql db "SELECT email FROM t WHERE id = 4")" "dave@example.com"
}

@test "integer column widened to double in a later load keeps 2.5" {
	printf '%s\n' '{"id":1,"v":1}' > a.jsonl
	printf '%s\n' '{"id":2,"v":2.5}' > b.jsonl
	sqlite-load -q -t t db a.jsonl
	run -0 --separate-stderr sqlite-load -q -t t db b.jsonl
	assert_equal "$(columns db t)" "id,v"
	assert_equal "$(sql db 'SELECT v, typeof(v) FROM t ORDER BY id')" "$(printf '1|integer\n2.5|real')"
}

# ---------------------------------------------------------------------------
# Type conflicts -> variant columns.

@test "a type conflict makes a variant column in the table" {
	run -0 --separate-stderr sqlite-load -q -t t db "$D/conflict.jsonl"
	assert_equal "$(columns db t)" "id,price,price__v_text"
	assert_equal "$(coltype db t price)" INTEGER
	assert_equal "$(coltype db t price__v_text)" TEXT
	assert_equal "$(sql db 'SELECT id, price, price__v_text FROM t ORDER BY id')" \
	    "$(printf '1|10|\n2||ten')"
	assert_equal "$(sql db 'SELECT typeof(price) FROM t WHERE id = 2')" null
}

@test "a conflict in a later load adds the variant column then" {
	head -n 1 "$D/conflict.jsonl" > a.jsonl
	tail -n 1 "$D/conflict.jsonl" > b.jsonl
	sqlite-load -q -t t db a.jsonl
	sqlite-load -q -t t db b.jsonl
	assert_equal "$(sql db 'SELECT id, price, price__v_text FROM t ORDER BY id')" \
	    "$(printf '1|10|\n2||ten')"
}

@test "a record against its SCHEMA type goes to a variant column" {
	printf '%s\n' '{"type":"SCHEMA","stream":"s","schema":{"type":"object","properties":{"n":{"type":"integer"}}},"key_properties":[]}' \
	    '{"type":"RECORD","stream":"s","record":{"n":1}}' \
	    '{"type":"RECORD","stream":"s","record":{"n":true}}' \
	    '{"type":"RECORD","stream":"s","record":{"n":{"deep":1}}}' > in.singer
	run -0 --separate-stderr sqlite-load -q db in.singer
	assert_equal "$(columns db s)" "n,n__v_bool,n__v_json"
	assert_equal "$(sql db 'SELECT n, n__v_bool, json(n__v_json) FROM s ORDER BY rowid')" \
	    "$(printf '%s\n' '1||' '|1|' '||{"deep":1}')"
}

# ---------------------------------------------------------------------------
# Merge and replace.

@test "append then merge two overlapping batches: counts, values, new column" {
	run -0 --separate-stderr sqlite-load --load-id A -t t -k id db "$D/batch1.jsonl"
	assert_equal "$(load_counts db A t)" "3|0|0"
	run -0 --separate-stderr sqlite-load --load-id M -t t -k id -m merge db "$D/batch2.jsonl"
	assert_stderr_regex 'load M.* t \+1 ~1 =0 -0'
	assert_equal "$(sql db 'SELECT count(*), count(DISTINCT id) FROM t')" "4|4"
	assert_equal "$(sql db 'SELECT id, name, score, email FROM t ORDER BY id')" \
	    "$(printf '%s\n' '1|alice|10|' '2|bob|20|' '3|carol|33|carol@example.com' '4|dave|40|dave@example.com')"
	assert_equal "$(load_counts db M t)" "1|1|0"
}

@test "-k makes the primary key" {
	sqlite-load -q -t t -k id db "$D/batch1.jsonl"
	assert_equal "$(sql db "SELECT name FROM pragma_table_info('t') WHERE pk > 0")" id
}

@test "merge is idempotent" {
	sqlite-load -q -t t -k id -m merge db "$D/batch1.jsonl"
	sqlite-load -q -t t -k id -m merge db "$D/batch2.jsonl"
	once=$(sql db 'SELECT id, name, score, email FROM t ORDER BY id')
	run -0 --separate-stderr sqlite-load --load-id M2 -t t -k id -m merge db "$D/batch2.jsonl"
	# The same rows again: nothing written, both counted unchanged.
	assert_equal "$(load_counts db M2 t)" "0|0|0"
	assert_equal "$(unchanged_count db M2 t)" 2
	assert_equal "$(sql db 'SELECT id, name, score, email FROM t ORDER BY id')" "$once"
	assert_equal "$(sql db 'SELECT count(*) FROM t')" 4
}

@test "merge into a table created without a key still updates by -k" {
	sqlite-load -q -t t db "$D/batch1.jsonl"
	run -0 --separate-stderr sqlite-load -q -t t -k id -m merge db "$D/batch2.jsonl"
	assert_equal "$(sql db 'SELECT id, score FROM t ORDER BY id')" \
	    "$(printf '1|10\n2|20\n3|33\n4|40')"
}

@test "merge with a composite key" {
	printf '%s\n' '{"a":1,"b":"x","v":1}' '{"a":1,"b":"y","v":2}' > one.jsonl
	printf '%s\n' '{"a":1,"b":"y","v":20}' '{"a":2,"b":"x","v":3}' > two.jsonl
	sqlite-load -q -t t -k a,b -m merge db one.jsonl
	sqlite-load -q -t t -k a,b -m merge db two.jsonl
	assert_equal "$(sql db 'SELECT a, b, v FROM t ORDER BY a, b')" \
	    "$(printf '1|x|1\n1|y|20\n2|x|3')"
}

@test "merge: a record without its key exits 65 and rolls back" {
	sqlite-load -q -t t -k id db "$D/batch1.jsonl"
	db_snapshot db
	printf '%s\n' '{"id":5,"name":"eve"}' '{"name":"nokey"}' > in.jsonl
	run -65 --separate-stderr sqlite-load -t t -k id -m merge db <in.jsonl
	assert_output ""
	assert_stderr_regex '^sqlite-load: stdin:2: '
	db_unchanged db
}

@test "replace mode swaps the rows of the tables it loads, only those" {
	sqlite-load -q -t t db "$D/batch1.jsonl"
	sqlite-load -q -t other db "$D/batch1.jsonl"
	run -0 --separate-stderr sqlite-load --load-id R -t t -m replace db "$D/batch2.jsonl"
	assert_stderr_regex 'load R.* t \+2 ~0 =0 -3'
	assert_equal "$(sql db 'SELECT id, name, email FROM t ORDER BY id')" \
	    "$(printf '3|carol|carol@example.com\n4|dave|dave@example.com')"
	assert_equal "$(sql db 'SELECT count(*) FROM other')" 3
	assert_equal "$(load_counts db R t)" "2|0|3"
}

@test "replace mode: a SCHEMA alone empties its table" {
	printf '%s\n' '{"type":"SCHEMA","stream":"t","schema":{"type":"object","properties":{"id":{"type":"integer"}}},"key_properties":[]}' > s.singer
	sqlite-load -q -t t db "$D/batch1.jsonl"
	run -0 --separate-stderr sqlite-load -q -m replace db s.singer
	assert_equal "$(sql db 'SELECT count(*) FROM t')" 0
}

@test "replace mode with a failing load keeps the old rows" {
	sqlite-load -q -t t db "$D/batch1.jsonl"
	db_snapshot db
	run -65 --separate-stderr sqlite-load -t t -m replace db "$D/bad-middle.jsonl"
	db_unchanged db
}

# ---------------------------------------------------------------------------
# Identifiers.

@test "hostile column and table names are quoted, not executed" {
	sqlite-load -q -t t db "$D/batch1.jsonl"
	run -0 --separate-stderr sqlite-load -q -t 'we"ird t' db "$D/hostile.jsonl"
	assert_equal "$(sql db 'SELECT count(*) FROM t')" 3
	assert_equal "$(sql db 'SELECT "x""; DROP TABLE t; --", "a]b", "c`d", "sp ace" FROM "we""ird t"')" "boom|1|2|3"
	assert_equal "$(columns db 'we"ird t')" 'id,x"; DROP TABLE t; --,a]b,c`d,sp ace'
}

@test "hostile stream names and keys in merge mode" {
	printf '%s\n' \
	    '{"type":"SCHEMA","stream":"it'"'"'s \"q\" t","schema":{"type":"object","properties":{"k\"ey":{"type":"integer"},"v":{"type":"string"}}},"key_properties":["k\"ey"]}' \
	    '{"type":"RECORD","stream":"it'"'"'s \"q\" t","record":{"k\"ey":1,"v":"a"}}' \
	    '{"type":"RECORD","stream":"it'"'"'s \"q\" t","record":{"k\"ey":1,"v":"b"}}' > in.singer
	run -0 --separate-stderr sqlite-load -q -m merge db in.singer
	assert_equal "$(sql db "SELECT \"k\"\"ey\", v FROM \"it's \"\"q\"\" t\"")" "1|b"
}

# ---------------------------------------------------------------------------
# Messages.

@test "message type is case-insensitive" {
	printf '%s\n' '{"type":"record","stream":"s","record":{"a":1}}' '{"type":"Record","stream":"s","record":{"a":2}}' > in.singer
	run -0 --separate-stderr sqlite-load -q db in.singer
	assert_equal "$(sql db 'SELECT a FROM s ORDER BY a')" "$(printf '1\n2')"
	assert_equal "$(user_tables db)" s
}

@test "an object with type RECORD but no record key is a bare record" {
	printf '%s\n' '{"type":"RECORD","stream":"s"}' > in.jsonl
	run -0 --separate-stderr sqlite-load -q -t t db in.jsonl
	assert_equal "$(sql db 'SELECT type, stream FROM t')" "RECORD|s"
}

@test "--raw loads message-looking lines as bare records, prints no STATE" {
	printf '%s\n' '{"type":"STATE","value":{"x":1}}' '{"type":"RECORD","stream":"s","record":{"a":1}}' > in.jsonl
	run -0 --separate-stderr sqlite-load -q --raw -t raw db in.jsonl
	assert_output ""
	assert_equal "$(user_tables db)" raw
	assert_equal "$(sql db 'SELECT type, json(value), stream, json(record) FROM raw ORDER BY rowid')" \
	    "$(printf '%s\n' 'STATE|{"x":1}||' 'RECORD||s|{"a":1}')"
}

@test "a SCHEMA message alone creates the table with JSON Schema types" {
	run -0 --separate-stderr sqlite-load -q db "$D/schema-only.singer"
	assert_equal "$(sql db 'SELECT count(*) FROM e')" 0
	assert_equal "$(coldefs db e)" \
	    "id INTEGER, at TIMESTAMP, day DATE, tags JSON, amount REAL, mixed JSON, any JSON, ok BOOLEAN, name TEXT"
}

@test "a SCHEMA's key_properties make the primary key" {
	run -0 --separate-stderr sqlite-load -q db "$D/schema-only.singer"
	assert_equal "$(sql db "SELECT name FROM pragma_table_info('e') WHERE pk > 0")" id
}

# ---------------------------------------------------------------------------
# Bookkeeping.

@test "_sluice_loads, _sluice_schemas record the load" {
	run -0 --separate-stderr sqlite-load -q --load-id L1 -t t db "$D/batch1.jsonl"
	assert_equal "$(sql db "SELECT load_id, status <> '', started_at <= finished_at, json(tables) FROM _sluice_loads")" \
	    'L1|1|1|{"t":{"inserted":3,"updated":0,"unchanged":0,"deleted":0}}'
	assert_equal "$(sql db "SELECT count(*), min(load_id), min(json_valid(schema)) FROM _sluice_schemas WHERE table_name = 't'")" "1|L1|1"
	assert_equal "$(sql db "SELECT json_extract(schema, '\$.properties.id.type[0]') FROM _sluice_schemas")" integer
}

@test "one _sluice_loads row per load; a schema change adds a schema version" {
	sqlite-load -q --load-id L1 -t t db "$D/batch1.jsonl"
	sqlite-load -q --load-id L2 -t t db "$D/batch2.jsonl"
	assert_equal "$(sql db "SELECT load_id FROM _sluice_loads ORDER BY load_id")" "$(printf 'L1\nL2')"
	assert_equal "$(sql db "SELECT load_id FROM _sluice_schemas WHERE table_name = 't' ORDER BY load_id")" "$(printf 'L1\nL2')"
	assert_equal "$(sql db "SELECT json_extract(schema, '\$.properties.email.type') IS NOT NULL FROM _sluice_schemas WHERE load_id = 'L2'")" 1
}

@test "an identical second load adds no schema version" {
	sqlite-load -q --load-id L1 -t t db "$D/batch1.jsonl"
	sqlite-load -q --load-id L2 -t t db "$D/batch1.jsonl"
	assert_equal "$(sql db "SELECT count(*) FROM _sluice_schemas WHERE table_name = 't'")" 1
}

@test "load id from SLUICE_LOAD_ID; generated ids are unique and sortable" {
	SLUICE_LOAD_ID=env-1 sqlite-load -q -t t db "$D/batch1.jsonl"
	assert_equal "$(sql db 'SELECT load_id FROM _sluice_loads')" env-1
	rm -f db db-wal db-shm
	sqlite-load -q -t t db "$D/batch1.jsonl"
	sleep 1
	sqlite-load -q -t t db "$D/batch1.jsonl"
	first=$(sql db 'SELECT load_id FROM _sluice_loads ORDER BY rowid LIMIT 1')
	second=$(sql db 'SELECT load_id FROM _sluice_loads ORDER BY rowid LIMIT 1 OFFSET 1')
	[[ -n "$first" && "$first" < "$second" ]] || fail "ids not sortable: '$first' '$second'"
}

@test "the summary names every table" {
	printf '%s\n' '{"type":"RECORD","stream":"a","record":{"x":1}}' \
	    '{"type":"RECORD","stream":"b","record":{"x":1}}' \
	    '{"type":"RECORD","stream":"b","record":{"x":2}}' > in.singer
	run -0 --separate-stderr sqlite-load --load-id L db in.singer
	assert_equal "${#stderr_lines[@]}" 1
	assert_stderr_regex '(^|[ :,])a \+1 ~0 =0 -0([, ]|$)'
	assert_stderr_regex '(^|[ :,])b \+2 ~0 =0 -0([, ]|$)'
	assert_stderr_regex '^sqlite-load: load L[: ]'
	assert_stderr_partial committed
}

@test "--progress: progress on stderr, never on stdout" {
	run -0 --separate-stderr sqlite-load --progress db "$D/state.singer"
	assert_equal "${#lines[@]}" 1
	assert_equal "$(jq -r .type <<<"$output")" STATE
	assert_equal "$(sql db 'SELECT count(*) FROM rides')" 2
}

@test "-q: no summary" {
	run -0 --separate-stderr sqlite-load -q -t t db "$D/batch1.jsonl"
	assert_stderr_empty
}

# ---------------------------------------------------------------------------
# STATE.

@test "STATE: the last one on stdout after commit, merged value stored" {
	run -0 --separate-stderr sqlite-load -q --load-id S1 db "$D/state.singer"
	assert_output '{"type":"STATE","value":{"bookmarks":{"rides":{"replication_key_value":"2024-01-02T00:00:00Z","seq":9007199254740993}},"ratio":0.1000000000000000055511,"cfg":{"a":1,"b":[true,null]}}}'
	assert_equal "$(sql db 'SELECT count(*) FROM rides')" 2
	assert_equal "$(sql db "SELECT load_id, json_extract(value, '\$.bookmarks.rides.replication_key_value') FROM _sluice_state ORDER BY rowid DESC LIMIT 1")" \
	    "S1|2024-01-02T00:00:00Z"
	sql db "SELECT value FROM _sluice_state ORDER BY rowid DESC LIMIT 1" > stored.json
	grep -q '9007199254740993' stored.json || fail "state lost the 64-bit number: $(cat stored.json)"
	grep -q '0.1000000000000000055511' stored.json || fail "state lost the decimal: $(cat stored.json)"
}

@test "--state-get: dotted paths, bare strings, exact numbers, objects as JSON" {
	sqlite-load -q db "$D/state.singer" >/dev/null
	run -0 --separate-stderr sqlite-load db --state-get bookmarks.rides.replication_key_value
	assert_output "2024-01-02T00:00:00Z"
	assert_stderr_empty
	run -0 --separate-stderr sqlite-load db --state-get bookmarks.rides.seq
	assert_output "9007199254740993"
	run -0 --separate-stderr sqlite-load db --state-get ratio
	assert_output "0.1000000000000000055511"
	run -0 --separate-stderr sqlite-load db --state-get cfg
	assert_equal "$(jq -c . <<<"$output")" '{"a":1,"b":[true,null]}'
	run -0 --separate-stderr sqlite-load db --state-get cfg.a
	assert_output "1"
}

@test "--state-get: a missing path prints nothing, exits 0" {
	sqlite-load -q db "$D/state.singer" >/dev/null
	run -0 --separate-stderr sqlite-load db --state-get bookmarks.nope.deeper
	assert_output ""
	run -0 --separate-stderr sqlite-load db --state-get ratio.x
	assert_output ""
}

@test "--state-get: a missing database prints nothing, exits 0, creates nothing" {
	run -0 --separate-stderr sqlite-load nodb.db --state-get bookmarks.x
	assert_output ""
	[[ ! -e nodb.db ]] || fail "--state-get created the database"
}

@test "--state-get: a database without state prints nothing" {
	sqlite-load -q -t t db "$D/batch1.jsonl"
	run -0 --separate-stderr sqlite-load db --state-get bookmarks
	assert_output ""
}

@test "STATE values merge across loads (RFC 7396)" {
	printf '%s\n' '{"type":"STATE","value":{"bookmarks":{"a":1,"b":2}}}' > 1.singer
	printf '%s\n' '{"type":"STATE","value":{"bookmarks":{"b":3,"c":4}}}' > 2.singer
	printf '%s\n' '{"type":"STATE","value":{"bookmarks":{"a":null},"top":"x"}}' > 3.singer
	run -0 --separate-stderr sqlite-load -q db 1.singer
	assert_output '{"type":"STATE","value":{"bookmarks":{"a":1,"b":2}}}'
	run -0 --separate-stderr sqlite-load -q db 2.singer
	assert_output '{"type":"STATE","value":{"bookmarks":{"b":3,"c":4}}}'
	run -0 --separate-stderr sqlite-load db --state-get bookmarks.a
	assert_output 1
	run -0 --separate-stderr sqlite-load db --state-get bookmarks.b
	assert_output 3
	run -0 --separate-stderr sqlite-load -q db 3.singer
	run -0 --separate-stderr sqlite-load db --state-get bookmarks.a
	assert_output ""
	assert_equal "$(sql db 'SELECT value FROM _sluice_state ORDER BY rowid DESC LIMIT 1' | jq -cS .)" \
	    '{"bookmarks":{"b":3,"c":4},"top":"x"}'
}

@test "several STATE messages in one load merge in order" {
	printf '%s\n' '{"type":"STATE","value":{"a":{"x":1}}}' '{"type":"STATE","value":{"a":{"y":2}}}' '{"type":"STATE","value":{"b":3}}' > in.singer
	run -0 --separate-stderr sqlite-load -q db in.singer
	assert_output '{"type":"STATE","value":{"b":3}}'
	assert_equal "$(sql db 'SELECT value FROM _sluice_state ORDER BY rowid DESC LIMIT 1' | jq -cS .)" \
	    '{"a":{"x":1,"y":2},"b":3}'
}

@test "a failing load prints no STATE and stores none" {
	run -65 --separate-stderr sqlite-load -t t db "$D/bad-middle.jsonl"
	assert_output ""
	run -0 --separate-stderr sqlite-load db --state-get bookmarks.t
	assert_output ""
}

@test "STATE to /dev/full exits 75: a full disk is temporary" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	run -75 --separate-stderr bash -c 'sqlite-load -q db "$1" >/dev/full' _ "$D/state.singer"
	assert_stderr_regex '^sqlite-load: '
}

@test "no STATE, stdout /dev/full: nothing written, exit 0" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	run -0 --separate-stderr bash -c 'sqlite-load -q -t t db "$1" >/dev/full' _ "$D/batch1.jsonl"
	assert_equal "$(sql db 'SELECT count(*) FROM t')" 3
}

# ---------------------------------------------------------------------------
# Atomicity and bad data.

@test "a malformed line mid-load: exit 65, stdin:N, database untouched" {
	sqlite-load -q -t t db "$D/batch1.jsonl"
	db_snapshot db
	run -65 --separate-stderr sqlite-load -t t db <"$D/bad-middle.jsonl"
	assert_output ""
	assert_stderr_regex '^sqlite-load: stdin:3: invalid JSON'
	db_unchanged db
}

@test "a malformed line in a new database leaves no user table" {
	run -65 --separate-stderr sqlite-load -t t db <"$D/bad-middle.jsonl"
	assert_no_user_tables db
	assert_equal "$(sql db "SELECT count(*) FROM sqlite_master WHERE name = '_sluice_loads'")" 0
}

@test "a malformed line in a named file reports FILE:LINE" {
	run -65 --separate-stderr sqlite-load -t t db "$D/bad-middle.jsonl"
	assert_stderr_regex "^sqlite-load: $D/bad-middle\\.jsonl:3: invalid JSON"
}

@test "--on-error skip: warns with stdin:N, loads the rest, exits 0" {
	run -0 --separate-stderr sqlite-load --load-id K -t t --on-error skip --stats st.json db <"$D/bad-middle.jsonl"
	assert_stderr_regex 'sqlite-load: stdin:3: '
	assert_equal "$(load_counts db K t)" "2|0|0"
	assert_equal "$(sql db 'SELECT id FROM t ORDER BY id')" "$(printf '10\n12')"
	assert_equal "$(jq -c '{skipped,quarantined}' st.json)" '{"skipped":1,"quarantined":0}'
	assert_output '{"type":"STATE","value":{"bookmarks":{"t":"early"}}}'
}

@test "--on-error quarantine=FILE keeps the bad line as JSON, loads the rest" {
	run -0 --separate-stderr sqlite-load -q -t t --on-error quarantine=dead.jsonl db <"$D/bad-middle.jsonl"
	assert_equal "$(sql db 'SELECT id FROM t ORDER BY id')" "$(printf '10\n12')"
	assert_equal "$(wc -l <dead.jsonl)" 1
	assert_equal "$(jq -c '[.line, .input]' dead.jsonl)" '[3,"{\"id\":11,\"name\":\"y\","]'
	jq -e '.error | type == "string" and length > 0' dead.jsonl >/dev/null || fail "$(cat dead.jsonl)"
}

@test "quarantine: a line that is not UTF-8 is kept exactly, in base64" {
	printf '{"id":1}\n{"id":2,"s":"\xc3\x28"}\n' > in.jsonl
	run -0 --separate-stderr sqlite-load -q -t t --on-error quarantine=dead.jsonl db <in.jsonl
	assert_equal "$(sql db 'SELECT count(*) FROM t')" 1
	jq -e '.line == 2 and .file == "stdin" and (.error | test("invalid UTF-8"))' dead.jsonl >/dev/null ||
	    fail "dead.jsonl: $(cat dead.jsonl)"
	jq -r .input_base64 dead.jsonl | base64 -d | cmp - <(printf '{"id":2,"s":"\xc3\x28"}')
}

@test "--stats writes the JSON summary" {
	run -0 --separate-stderr sqlite-load -q --on-error skip --stats st.json -t t db "$D/stats.jsonl"
	assert_equal "$(jq -c '{program,lines,records,messages,bytes,errors,skipped,quarantined}' st.json)" \
	    '{"program":"sqlite-load","lines":4,"records":2,"messages":1,"bytes":58,"errors":1,"skipped":1,"quarantined":0}'
	jq -e '.seconds | type == "number"' st.json >/dev/null || fail "$(cat st.json)"
}

@test "invalid UTF-8 exits 65 and rolls back" {
	sqlite-load -q -t t db "$D/batch1.jsonl"
	db_snapshot db
	printf '{"id":7,"name":"ok"}\n{"id":8,"name":"\xff"}\n' > in.jsonl
	run -65 --separate-stderr sqlite-load -t t db <in.jsonl
	assert_output ""
	assert_stderr_regex '^sqlite-load: stdin:2: invalid UTF-8'
	db_unchanged db
}

@test "UTF-8-encoded surrogates (CESU) are invalid UTF-8" {
	printf '{"id":8,"name":"\xed\xa0\x80"}\n' > in.jsonl
	run -65 --separate-stderr sqlite-load -t t db <in.jsonl
	assert_stderr_regex '^sqlite-load: stdin:1: invalid UTF-8'
}

@test "a line longer than --max-line-bytes exits 65" {
	awk 'BEGIN { printf "{\"id\":1}\n{\"id\":2,\"s\":\""; for (i = 0; i < 3000; i++) printf "y"; printf "\"}\n" }' > in.jsonl
	run -65 --separate-stderr sqlite-load -t t --max-line-bytes 1K db <in.jsonl
	assert_stderr_regex '^sqlite-load: stdin:2: line longer than 1024 bytes'
	assert_no_user_tables db
}

@test "non-object lines exit 65" {
	printf '%s\n' '{"id":1}' '[1,2,3]' > in.jsonl
	run -65 --separate-stderr sqlite-load -t t db <in.jsonl
	assert_stderr_regex '^sqlite-load: stdin:2: not a JSON object'
	printf '%s\n' 'null' > in2.jsonl
	run -65 --separate-stderr sqlite-load -t t db <in2.jsonl
	assert_stderr_regex '^sqlite-load: stdin:1: not a JSON object'
}

@test "a RECORD whose record is not an object is bad data" {
	# It has the keys of a RECORD message: a malformed message, not a row.
	printf '%s\n' '{"type":"RECORD","stream":"s","record":[1]}' > in.jsonl
	run -65 --separate-stderr sqlite-load -t t db in.jsonl
	assert_stderr_regex '^sqlite-load: in.jsonl:1: RECORD message: "record" is not an object'
	assert_no_user_tables db
}

# ---------------------------------------------------------------------------
# Input framing.

@test "empty input: exit 0, nothing on stdout, no user table" {
	run -0 --separate-stderr sqlite-load -t t db </dev/null
	assert_output ""
	assert_no_user_tables db
}

@test "CRLF input and CRLF blank lines" {
	printf '{"id":1,"name":"a"}\r\n\r\n{"id":2,"name":"b"}\r\n{"type":"STATE","value":{"v":1}}\r\n' > in.jsonl
	run -0 --separate-stderr sqlite-load -q -t t db <in.jsonl
	assert_equal "$(sql db 'SELECT id, hex(name) FROM t ORDER BY id')" "$(printf '1|61\n2|62')"
	assert_output '{"type":"STATE","value":{"v":1}}'
}

@test "blank lines are skipped and counted in line numbers" {
	printf '\n{"id":1}\n\n{"id":2}\n\n' > ok.jsonl
	run -0 --separate-stderr sqlite-load -q -t t db <ok.jsonl
	assert_equal "$(sql db 'SELECT count(*) FROM t')" 2
	printf '\n{"id":3}\n\nbad\n' > bad.jsonl
	run -65 --separate-stderr sqlite-load -t t db <bad.jsonl
	assert_stderr_regex '^sqlite-load: stdin:4: invalid JSON'
	assert_equal "$(sql db 'SELECT count(*) FROM t')" 2
}

@test "a missing final newline is fine" {
	printf '{"id":1}\n{"id":2}' > in.jsonl
	run -0 --separate-stderr sqlite-load -q -t t db <in.jsonl
	assert_equal "$(sql db 'SELECT group_concat(id) FROM t')" "1,2"
}

@test "a truncated last line without newline is bad data" {
	printf '{"id":1}\n{"id":2' > in.jsonl
	run -65 --separate-stderr sqlite-load -t t db <in.jsonl
	assert_stderr_regex '^sqlite-load: stdin:2: invalid JSON'
}

# ---------------------------------------------------------------------------
# Keys are enforced in every mode.

@test "a null or missing key is bad data even in append mode (no invented rowid)" {
	printf '%s\n' '{"id":1,"a":"x"}' '{"id":null,"a":"y"}' > in.jsonl
	run -65 --separate-stderr sqlite-load -t t -k id db in.jsonl
	assert_stderr_regex '^sqlite-load: in.jsonl:2: stream t: record has no value for key "id"'
	assert_no_user_tables db
	run -0 --separate-stderr sqlite-load -q -t t -k id --on-error skip db in.jsonl
	assert_equal "$(sql db 'SELECT id, a FROM t')" "1|x"
}

@test "a later load without -k keeps the table's primary key" {
	printf '%s\n' '{"id":1,"a":"x"}' > one.jsonl
	printf '%s\n' '{"a":"no id"}' > two.jsonl
	sqlite-load -q -t t -k id db one.jsonl
	run -65 --separate-stderr sqlite-load -t t db two.jsonl
	assert_stderr_regex 'record has no value for key "id"'
	printf '%s\n' '{"id":1,"a":"new"}' > three.jsonl
	run -0 --separate-stderr sqlite-load -q -t t -m merge db three.jsonl
	assert_equal "$(sql db 'SELECT id, a FROM t')" "1|new"
	assert_equal "$(sql db "SELECT count(*) FROM sqlite_master WHERE name = 't__sluice_key'")" 0
}

# ---------------------------------------------------------------------------
# What a load reports (issue 13): --stats, the summary, unchanged rows.

@test "--stats: the load's id, committed, its times and what it did to each table" {
	printf '%s\n' '{"id":1,"n":"a"}' '{"id":2,"n":"b"}' > a.jsonl
	sqlite-load -q --load-id S1 -t t -k id db a.jsonl
	printf '%s\n' '{"id":1,"n":"a"}' '{"id":2,"n":"B"}' '{"id":3,"n":"c"}' > b.jsonl
	run -0 --separate-stderr sqlite-load --load-id S2 --stats st.json -t t -k id db b.jsonl
	assert_stderr "sqlite-load: load S2: t +1 ~1 =1 -0 committed"
	jq -e '.program == "sqlite-load" and .load_id == "S2" and .status == "committed"
	    and .records == 3 and .bytes > 0 and (.error | not)
	    and .tables == {"t":{"inserted":1,"updated":1,"unchanged":1,"deleted":0}}
	    and (.started_at | test("^20[0-9-]+T[0-9:.]+Z$"))
	    and .started_at <= .finished_at' st.json > /dev/null || fail "$(cat st.json)"
	# The same counts in _sluice_loads; the row 1 keeps the load that wrote it.
	assert_equal "$(sql db "SELECT json(tables) FROM _sluice_loads WHERE load_id = 'S2'")" \
	    '{"t":{"inserted":1,"updated":1,"unchanged":1,"deleted":0}}'
	assert_equal "$(sql db 'SELECT id, n FROM t ORDER BY id')" "$(printf '1|a\n2|B\n3|c')"
}

@test "--stats of a load that rolls back: rolled_back, its error, the database as it was" {
	printf '%s\n' '{"id":1}' > a.jsonl
	sqlite-load -q -t t -k id db a.jsonl
	dump db > before
	printf '%s\n' '{"id":2}' 'not json' > b.jsonl
	run -65 --separate-stderr sqlite-load --load-id R1 --stats st.json -t t -k id db b.jsonl
	jq -e '.load_id == "R1" and .status == "rolled_back"
	    and (.error | startswith("b.jsonl:2: invalid JSON"))
	    and (.tables | has("t"))' st.json > /dev/null || fail "$(cat st.json)"
	dump db > after
	cmp -s before after || fail "the database changed"
	# Stopped by a signal: rolled back too, and said so.
	mkfifo feed
	sqlite-load --load-id R2 --stats st2.json -t t -k id db feed 2> err &
	local pid=$!
	exec 4> feed
	printf '{"id":5}\n' >&4
	sleep 0.5
	kill -TERM "$pid"
	wait_pid_bounded "$pid" 10
	exec 4>&-
	assert_equal "$WAIT_STATUS" 143
	jq -e '.status == "rolled_back" and .error == "interrupted by a signal"' st2.json > /dev/null ||
	    fail "$(cat st2.json)"
}

@test "merge: unchanged rows are not written, keep their load id, and count as unchanged" {
	printf '%s\n' '{"id":1,"items":[1,2]}' '{"id":2,"items":[3]}' '{"id":3}' > a.jsonl
	jsonl-normalize -q -t t -k id --load-id L1 a.jsonl | sqlite-load -q --load-id L1 db
	# The file again, then with one list changed and one root changed.
	jsonl-normalize -q -t t -k id --load-id L2 a.jsonl | sqlite-load --load-id L2 db 2> err
	assert_equal "$(cat err)" "sqlite-load: load L2: t +0 ~0 =3 -0, t__items +0 ~0 =3 -0 committed"
	assert_equal "$(sql db 'SELECT DISTINCT _sluice_load_id FROM t')" L1
	printf '%s\n' '{"id":1,"items":[1,9]}' '{"id":2,"items":[3]}' '{"id":3,"x":1}' > b.jsonl
	jsonl-normalize -q -t t -k id --load-id L3 b.jsonl | sqlite-load --load-id L3 db 2> err
	assert_equal "$(cat err)" "sqlite-load: load L3: t +0 ~2 =1 -0, t__items +2 ~0 =1 -2 committed"
	assert_equal "$(sql db 'SELECT id, x, _sluice_load_id FROM t ORDER BY id')" \
	    "$(printf '1||L3\n2||L1\n3|1|L3')"
	assert_equal "$(sql db 'SELECT t.id, i.value FROM t JOIN t__items i ON i._sluice_parent_id = t._sluice_id ORDER BY t.id, i._sluice_list_idx')" \
	    "$(printf '1|1\n1|9\n2|3')"
	# The hash is stored with each root row; with --on-error skip each
	# record is written as it comes, and the result is the same.
	assert_equal "$(sql db 'SELECT count(*) FROM t WHERE length(_sluice_row_hash) = 32')" 3
	cp db db2
	jsonl-normalize -q -t t -k id --load-id L4 a.jsonl | sqlite-load -q --on-error skip --load-id L4 db2
	assert_equal "$(sql db2 'SELECT t.id, i.value FROM t JOIN t__items i ON i._sluice_parent_id = t._sluice_id ORDER BY t.id, i._sluice_list_idx')" \
	    "$(printf '1|1\n1|2\n2|3')"
}
