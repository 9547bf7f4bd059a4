bats_require_minimum_version 1.5.0
# sqlite-load: tombstones ("_sluice_deleted": true) in merge, replace and
# append mode, and --mode scd2 with --scd2-retire-absent (issue 5).
#
# The batches of the issue's scenario (written by batches()):
#   b1.jsonl  ids 1 2 3
#   b2.jsonl  1 unchanged, 2 changed, 3 a tombstone, 4 new
#   b3.jsonl  only 1 (loaded with --scd2-retire-absent: a full snapshot)
#
# Validity times are the load's start time, so they are checked against
# _sluice_loads.started_at of the load that wrote them (by load id), not
# against the clock: vf()/vt() print the load id a time belongs to.

load helper

setup() {
	sluice_setup jsonl-normalize schema-infer sqlite-load
}

# batches: write b1.jsonl, b2.jsonl and b3.jsonl (see above).
batches() {
	printf '%s\n' '{"id":1,"name":"a","v":1}' '{"id":2,"name":"b","v":2}' \
	    '{"id":3,"name":"c","v":3}' > b1.jsonl
	printf '%s\n' '{"id":1,"name":"a","v":1}' '{"id":2,"name":"B","v":22}' \
	    '{"id":3,"_sluice_deleted":true}' '{"id":4,"name":"d","v":4}' > b2.jsonl
	printf '%s\n' '{"id":1,"name":"a","v":1}' > b3.jsonl
}

# versions DB TABLE KEYS COLS: "KEYS|COLS|from|to" for every row, by key
# then start, where from/to are the load ids whose started_at equals the
# validity times ("-" for a NULL valid_to, "?" for a time that is no load's).
versions() {
	sql "$1" "SELECT $3, $4,
	    coalesce((SELECT load_id FROM _sluice_loads WHERE started_at = x._sluice_valid_from), '?'),
	    CASE WHEN x._sluice_valid_to IS NULL THEN '-' ELSE
	    coalesce((SELECT load_id FROM _sluice_loads WHERE started_at = x._sluice_valid_to), '?') END
	    FROM \"$2\" AS x ORDER BY $3, x._sluice_valid_from, x.rowid"
}

# scd2_load LOAD_ID FILE [OPTION...]: FILE into db table t, key id, scd2.
scd2_load() {
	local id=$1 f=$2
	shift 2
	sqlite-load -q --load-id "$id" -t t -k id -m scd2 "$@" db "$f"
}

# pipe_load LOAD_ID MODE FILE [sqlite-load OPTION...]: FILE through
# `jsonl-normalize -t T -k id | schema-infer | sqlite-load -m MODE p.db`,
# one load id for the whole pipeline; every stage must exit 0.
pipe_load() {
	local id=$1 mode=$2 f=$3
	shift 3
	SLUICE_LOAD_ID=$id jsonl-normalize -q -t T -k id "$f" |
	    SLUICE_LOAD_ID=$id schema-infer -q |
	    SLUICE_LOAD_ID=$id sqlite-load -q -m "$mode" "$@" p.db >/dev/null
	local st=("${PIPESTATUS[@]}")
	[[ "${st[*]}" == "0 0 0" ]] || fail "pipeline statuses: ${st[*]}"
}

# kids DB: "id|table|value" for every child row, joined to its root by
# _sluice_root_id (t__items by n, the others by value), in a fixed order.
kids() {
	sql "$1" "SELECT DISTINCT r.id, 't__labels', c.value FROM t r JOIN t__labels c ON c._sluice_root_id = r._sluice_id
	    UNION ALL SELECT DISTINCT r.id, 't__items', c.n FROM t r JOIN t__items c ON c._sluice_root_id = r._sluice_id
	    UNION ALL SELECT DISTINCT r.id, 't__items__tags', c.value FROM t r JOIN t__items__tags c ON c._sluice_root_id = r._sluice_id
	    ORDER BY 1, 2, 3"
}

# child_counts DB: row counts of t__labels, t__items, t__items__tags.
child_counts() {
	local t
	for t in t__labels t__items t__items__tags; do
		printf '%s ' "$t=$(sql "$1" "SELECT count(*) FROM \"$t\"")"
	done
}

# nested: n1.jsonl (ids 1-3 with lists) and n2.jsonl (1 unchanged, 2 with
# a changed name and one label more, 3 a tombstone).
nested() {
	printf '%s\n' '{"id":1,"name":"a","labels":["x","y"],"items":[{"n":1,"tags":["p","q"]}]}' \
	    '{"id":2,"name":"b","labels":["z"]}' \
	    '{"id":3,"name":"c","labels":["w"],"items":[{"n":3}]}' > n1.jsonl
	printf '%s\n' '{"id":1,"name":"a","labels":["x","y"],"items":[{"n":1,"tags":["p","q"]}]}' \
	    '{"id":2,"name":"B","labels":["z","z2"]}' \
	    '{"id":3,"_sluice_deleted":true}' > n2.jsonl
}

# ---------------------------------------------------------------------------
# --mode scd2: the issue's scenario.

@test "scd2: three overlapping batches: every version, its validity, the counts" {
	batches
	run -0 --separate-stderr sqlite-load --load-id S1 -t t -k id -m scd2 db b1.jsonl
	assert_output ""
	assert_stderr "sqlite-load: load S1: t +3 ~0 =0 -0 committed"
	run -0 --separate-stderr sqlite-load --load-id S2 -t t -k id -m scd2 db b2.jsonl
	assert_stderr "sqlite-load: load S2: t +2 ~1 =0 -1 committed"
	run -0 --separate-stderr sqlite-load --load-id S3 -t t -k id -m scd2 --scd2-retire-absent db b3.jsonl
	assert_stderr "sqlite-load: load S3: t +0 ~0 =0 -2 committed"

	# 1 never changed; 2 changed in S2 and was absent in S3; 3 was
	# deleted in S2; 4 came in S2 and was absent in S3.
	assert_equal "$(versions db t id 'name, v')" "$(printf '%s\n' \
	    '1|a|1|S1|-' \
	    '2|b|2|S1|S2' '2|B|22|S2|S3' \
	    '3|c|3|S1|S2' \
	    '4|d|4|S2|S3')"
	assert_equal "$(load_counts db S1 t)" "3|0|0"
	assert_equal "$(load_counts db S2 t)" "2|1|1"
	assert_equal "$(load_counts db S3 t)" "0|0|2"
	assert_equal "$(sql db 'SELECT load_id, status FROM _sluice_loads ORDER BY started_at' | tr '\n' ' ')" \
	    "S1|completed S2|completed S3|completed "
	# The loads' times are distinct and in order, so the pattern above is
	# a real chain: each version ends where the next one begins.
	assert_equal "$(sql db "SELECT (SELECT started_at FROM _sluice_loads WHERE load_id = 'S1') <
	    (SELECT started_at FROM _sluice_loads WHERE load_id = 'S2') AND
	    (SELECT started_at FROM _sluice_loads WHERE load_id = 'S2') <
	    (SELECT started_at FROM _sluice_loads WHERE load_id = 'S3')")" 1
	assert_equal "$(sql db 'SELECT count(*) FROM t a JOIN t b ON a.id = b.id
	    AND b._sluice_valid_from > a._sluice_valid_from
	    WHERE a._sluice_valid_to IS NULL OR a._sluice_valid_to > b._sluice_valid_from')" 0
	# At most one current version per key.
	assert_equal "$(sql db 'SELECT id FROM t WHERE _sluice_valid_to IS NULL GROUP BY id HAVING count(*) > 1')" ""
	# The tombstone was not stored as a row of its own.
	assert_equal "$(sql db "SELECT count(*) FROM pragma_table_info('t') WHERE name = '_sluice_deleted'")" 0
}

@test "scd2: the table: columns, types, time format, row hash, no PRIMARY KEY, index" {
	batches
	scd2_load S1 b1.jsonl
	scd2_load S2 b2.jsonl
	assert_equal "$(columns db t)" "id,name,v"
	assert_equal "$(coltype db t _sluice_valid_from)" TIMESTAMP
	assert_equal "$(coltype db t _sluice_valid_to)" TIMESTAMP
	assert_equal "$(coltype db t _sluice_row_hash)" TEXT
	assert_equal "$(sql db "SELECT count(*) FROM pragma_table_info('t') WHERE pk > 0")" 0
	assert_equal "$(sql db "SELECT group_concat(name, ',') FROM
	    (SELECT name FROM pragma_index_info('t__sluice_current') ORDER BY seqno)")" \
	    "id,_sluice_valid_to"
	assert_equal "$(sql db "SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = 't__sluice_current'")" t
	# ISO 8601 UTC with microseconds, the load's start time.
	local t
	for t in $(sql db 'SELECT _sluice_valid_from FROM t UNION SELECT _sluice_valid_to FROM t WHERE _sluice_valid_to IS NOT NULL'); do
		[[ "$t" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$ ]] ||
		    fail "bad validity time: $t"
	done
	assert_equal "$(sql db "SELECT count(*) FROM t WHERE _sluice_valid_from NOT IN (SELECT started_at FROM _sluice_loads)")" 0
	assert_equal "$(sql db "SELECT DISTINCT typeof(_sluice_valid_from) FROM t")" text
	# 32 lower-case hex digits; equal data, equal hash; changed data, not.
	assert_equal "$(sql db "SELECT count(*) FROM t WHERE length(_sluice_row_hash) = 32
	    AND _sluice_row_hash NOT GLOB '*[^0-9a-f]*'")" 5
	assert_equal "$(sql db 'SELECT count(DISTINCT _sluice_row_hash) FROM t')" 5
	assert_equal "$(sql db "SELECT count(DISTINCT _sluice_row_hash) FROM t WHERE id = 2")" 2
	# The same record in another table gets the same hash.
	sqlite-load -q -t u -k id -m scd2 db b3.jsonl
	assert_equal "$(sql db 'SELECT (SELECT _sluice_row_hash FROM u) = (SELECT _sluice_row_hash FROM t WHERE id = 1)')" 1
}

@test "scd2: the same batch again creates nothing new (+0 ~0 =0 -0)" {
	batches
	scd2_load S1 b1.jsonl
	scd2_load S2 b2.jsonl
	sql db 'SELECT rowid, * FROM t ORDER BY rowid' > before
	run -0 --separate-stderr sqlite-load --load-id S2b -t t -k id -m scd2 db b2.jsonl
	assert_stderr "sqlite-load: load S2b: t +0 ~0 =0 -0 committed"
	assert_equal "$(load_counts db S2b t)" "0|0|0"
	sql db 'SELECT rowid, * FROM t ORDER BY rowid' > after
	assert_file_bytes after before
	# And the snapshot batch twice: the second retires nothing more.
	scd2_load S3 b3.jsonl --scd2-retire-absent
	sql db 'SELECT rowid, * FROM t ORDER BY rowid' > before
	run -0 --separate-stderr sqlite-load --load-id S3b -t t -k id -m scd2 --scd2-retire-absent db b3.jsonl
	assert_stderr "sqlite-load: load S3b: t +0 ~0 =0 -0 committed"
	sql db 'SELECT rowid, * FROM t ORDER BY rowid' > after
	assert_file_bytes after before
}

@test "scd2: members named _sluice_* are not in the hash; every other member is" {
	printf '%s\n' '{"id":1,"name":"a"}' > one.jsonl
	printf '%s\n' '{"id":1,"name":"a","_sluice_load_id":"X","_sluice_extra":5}' > meta.jsonl
	printf '%s\n' '{"id":1,"name":"a","more":"m"}' > more.jsonl
	scd2_load S1 one.jsonl
	run -0 --separate-stderr sqlite-load --load-id S2 -t t -k id -m scd2 db meta.jsonl
	assert_stderr "sqlite-load: load S2: t +0 ~0 =0 -0 committed"
	run -0 --separate-stderr sqlite-load --load-id S3 -t t -k id -m scd2 db more.jsonl
	assert_stderr "sqlite-load: load S3: t +1 ~1 =0 -0 committed"
	assert_equal "$(versions db t id 'name, more')" "$(printf '1|a||S1|S3\n1|a|m|S3|-')"
	# A type change alone ("1" for 1) is a change too.
	printf '%s\n' '{"id":1,"name":"a","more":"m","n":1}' > n1.jsonl
	printf '%s\n' '{"id":1,"name":"a","more":"m","n":"1"}' > n2.jsonl
	scd2_load S4 n1.jsonl
	run -0 --separate-stderr sqlite-load --load-id S5 -t t -k id -m scd2 db n2.jsonl
	assert_stderr_partial "t +1 ~1 =0 -0"
}

@test "scd2: the same members in another order are the same data (no new version)" {
	printf '%s\n' '{"id":1,"name":"a","v":1}' > one.jsonl
	printf '%s\n' '{"v":1,"name":"a","id":1}' > two.jsonl
	scd2_load S1 one.jsonl
	run -0 --separate-stderr sqlite-load --load-id S2 -t t -k id -m scd2 db two.jsonl
	assert_stderr "sqlite-load: load S2: t +0 ~0 =0 -0 committed"
	assert_equal "$(versions db t id 'name, v')" "1|a|1|S1|-"
}

@test "scd2: a key retired earlier comes back: a new current version, even with its old data" {
	batches
	scd2_load S1 b1.jsonl
	scd2_load S2 b2.jsonl
	printf '%s\n' '{"id":3,"name":"c","v":3}' > back.jsonl
	run -0 --separate-stderr sqlite-load --load-id S3 -t t -k id -m scd2 db back.jsonl
	assert_stderr "sqlite-load: load S3: t +1 ~0 =0 -0 committed"
	assert_equal "$(versions db t id name | grep '^3|')" "$(printf '3|c|S1|S2\n3|c|S3|-')"
	# A tombstone for a key with no current version retires nothing.
	printf '%s\n' '{"id":2,"_sluice_deleted":true}' '{"id":2,"_sluice_deleted":true}' \
	    '{"id":99,"_sluice_deleted":true}' > del.jsonl
	run -0 --separate-stderr sqlite-load --load-id S4 -t t -k id -m scd2 db del.jsonl
	assert_stderr "sqlite-load: load S4: t +0 ~0 =0 -1 committed"
	assert_equal "$(versions db t id name | grep '^2|')" "$(printf '2|b|S1|S2\n2|B|S2|S4')"
}

@test "scd2: a tombstone and the key again in one load: retired, then a new version" {
	batches
	scd2_load S1 b1.jsonl
	printf '%s\n' '{"id":1,"_sluice_deleted":true}' '{"id":1,"name":"a","v":1}' > again.jsonl
	run -0 --separate-stderr sqlite-load --load-id S2 -t t -k id -m scd2 db again.jsonl
	assert_stderr "sqlite-load: load S2: t +1 ~0 =0 -1 committed"
	assert_equal "$(versions db t id name | grep '^1|')" "$(printf '1|a|S1|S2\n1|a|S2|-')"
}

@test "scd2 --scd2-retire-absent: composite key, a column added mid-load, tombstones counted once" {
	printf '%s\n' '{"a":1,"b":"x","v":1}' '{"a":1,"b":"y","v":2}' '{"a":2,"b":"x","v":3}' \
	    '{"a":3,"b":"z","v":4}' > k1.jsonl
	printf '%s\n' '{"a":1,"b":"y","v":20}' '{"a":1,"b":"x","_sluice_deleted":true}' \
	    '{"a":3,"b":"z","v":4,"note":"n"}' '{"a":4,"b":"w","v":5}' > k2.jsonl
	sqlite-load -q --load-id K1 -t t -k a,b -m scd2 db k1.jsonl
	run -0 --separate-stderr sqlite-load --load-id K2 -t t -k a,b -m scd2 --scd2-retire-absent db k2.jsonl
	# (1,y) changed, (1,x) deleted, (2,x) absent, (3,z) changed (new
	# member), (4,w) new.
	assert_stderr "sqlite-load: load K2: t +3 ~2 =0 -2 committed"
	assert_equal "$(versions db t 'a, b' 'v, note')" "$(printf '%s\n' \
	    '1|x|1||K1|K2' '1|y|2||K1|K2' '1|y|20||K2|-' '2|x|3||K1|K2' \
	    '3|z|4||K1|K2' '3|z|4|n|K2|-' '4|w|5||K2|-')"
	assert_equal "$(sql db "SELECT group_concat(name, ',') FROM
	    (SELECT name FROM pragma_index_info('t__sluice_current') ORDER BY seqno)")" \
	    "a,b,_sluice_valid_to"
}

@test "scd2 takes its key from SCHEMA key_properties" {
	printf '%s\n' '{"type":"SCHEMA","stream":"u","schema":{"type":"object","properties":{"uid":{"type":"integer"},"n":{"type":"string"}}},"key_properties":["uid"]}' \
	    '{"type":"RECORD","stream":"u","record":{"uid":1,"n":"a"}}' \
	    '{"type":"RECORD","stream":"u","record":{"uid":2,"n":"b"}}' > s1.singer
	printf '%s\n' "$(head -1 s1.singer)" \
	    '{"type":"RECORD","stream":"u","record":{"uid":1,"n":"A"}}' \
	    '{"type":"RECORD","stream":"u","record":{"uid":2,"_sluice_deleted":true}}' > s2.singer
	sqlite-load -q --load-id U1 -m scd2 db s1.singer
	run -0 --separate-stderr sqlite-load --load-id U2 -m scd2 db s2.singer
	assert_stderr "sqlite-load: load U2: u +1 ~1 =0 -1 committed"
	assert_equal "$(versions db u uid n)" "$(printf '1|a|U1|U2\n1|A|U2|-\n2|b|U1|U2')"
	assert_equal "$(sql db "SELECT group_concat(name, ',') FROM
	    (SELECT name FROM pragma_index_info('u__sluice_current') ORDER BY seqno)")" \
	    "uid,_sluice_valid_to"
}

# ---------------------------------------------------------------------------
# Tombstones in merge, replace and append mode.

@test "merge: the same three batches: final rows, the deleted row, the counts" {
	batches
	run -0 --separate-stderr sqlite-load --load-id M1 -t t -k id -m merge db b1.jsonl
	assert_stderr "sqlite-load: load M1: t +3 ~0 =0 -0 committed"
	run -0 --separate-stderr sqlite-load --load-id M2 -t t -k id -m merge db b2.jsonl
	assert_stderr "sqlite-load: load M2: t +1 ~1 =1 -1 committed"
	assert_equal "$(sql db 'SELECT id, name, v FROM t ORDER BY id')" \
	    "$(printf '1|a|1\n2|B|22\n4|d|4')"
	assert_equal "$(sql db 'SELECT count(*) FROM t WHERE id = 3')" 0
	run -0 --separate-stderr sqlite-load --load-id M3 -t t -k id -m merge db b3.jsonl
	assert_stderr "sqlite-load: load M3: t +0 ~0 =1 -0 committed"
	assert_equal "$(sql db 'SELECT id, name, v FROM t ORDER BY id')" \
	    "$(printf '1|a|1\n2|B|22\n4|d|4')"
	assert_equal "$(load_counts db M1 t)" "3|0|0"
	assert_equal "$(load_counts db M2 t)" "1|1|1"
	assert_equal "$(load_counts db M3 t)" "0|0|0"
	assert_equal "$(unchanged_count db M3 t)" 1
	# The tombstone again: its key is gone, so it deletes nothing.
	run -0 --separate-stderr sqlite-load --load-id M4 -t t -k id -m merge db b2.jsonl
	assert_stderr "sqlite-load: load M4: t +0 ~0 =3 -0 committed"
	assert_equal "$(sql db 'SELECT id FROM t ORDER BY id' | tr '\n' ' ')" "1 2 4 "
}

@test "merge: tombstones with a composite key, and a tombstone then the key again" {
	printf '%s\n' '{"a":1,"b":"x","v":1}' '{"a":1,"b":"y","v":2}' '{"a":2,"b":"x","v":3}' > one.jsonl
	printf '%s\n' '{"a":1,"b":"x","_sluice_deleted":true}' '{"a":2,"b":"y","_sluice_deleted":true}' \
	    '{"a":2,"b":"x","_sluice_deleted":true}' '{"a":2,"b":"x","v":30}' > two.jsonl
	sqlite-load -q -t t -k a,b -m merge db one.jsonl
	run -0 --separate-stderr sqlite-load --load-id M -t t -k a,b -m merge db two.jsonl
	assert_stderr "sqlite-load: load M: t +1 ~0 =0 -2 committed"
	assert_equal "$(sql db 'SELECT a, b, v FROM t ORDER BY a, b')" "$(printf '1|y|2\n2|x|30')"
}

@test "only \"_sluice_deleted\": true is a tombstone (not false, 1 or \"true\")" {
	batches
	sqlite-load -q -t t -k id -m merge db b1.jsonl
	printf '%s\n' '{"id":1,"_sluice_deleted":false}' '{"id":2,"_sluice_deleted":1}' \
	    '{"id":3,"_sluice_deleted":"true"}' > not.jsonl
	run -0 --separate-stderr sqlite-load --load-id M -t t -k id -m merge db not.jsonl
	assert_stderr "sqlite-load: load M: t +0 ~3 =0 -0 committed"
	assert_equal "$(sql db 'SELECT count(*) FROM t')" 3
}

@test "replace: tombstones are left out, not stored" {
	batches
	sqlite-load -q -t t -k id db b1.jsonl
	run -0 --separate-stderr sqlite-load --load-id R -t t -m replace db b2.jsonl
	assert_stderr "sqlite-load: load R: t +3 ~0 =0 -3 committed"
	assert_equal "$(sql db 'SELECT id, name, v FROM t ORDER BY id')" \
	    "$(printf '1|a|1\n2|B|22\n4|d|4')"
	assert_equal "$(columns db t)" "id,name,v"
	assert_equal "$(sql db "SELECT count(*) FROM pragma_table_info('t') WHERE name = '_sluice_deleted'")" 0
	assert_equal "$(load_counts db R t)" "3|0|3"
	# Only tombstones: the table is replaced by nothing.
	printf '%s\n' '{"id":1,"_sluice_deleted":true}' > del.jsonl
	run -0 --separate-stderr sqlite-load -q -t t -m replace db del.jsonl
	assert_equal "$(sql db 'SELECT count(*) FROM t')" 0
}

@test "append: a tombstone is an ordinary row (a log)" {
	batches
	sqlite-load -q -t t db b1.jsonl
	run -0 --separate-stderr sqlite-load --load-id A -t t db b2.jsonl
	assert_stderr "sqlite-load: load A: t +4 ~0 =0 -0 committed"
	assert_equal "$(sql db 'SELECT count(*) FROM t')" 7
	assert_equal "$(coltype db t _sluice_deleted)" BOOLEAN
	assert_equal "$(sql db 'SELECT id, name, _sluice_deleted, typeof(_sluice_deleted) FROM t WHERE _sluice_deleted IS NOT NULL')" \
	    "3||1|integer"
	assert_equal "$(sql db 'SELECT count(*) FROM t WHERE id = 3')" 2
	# Append even with -k on a keyed table: still a row, nothing deleted.
	rm -f db
	sqlite-load -q -t t -k id -m merge db b1.jsonl
	printf '%s\n' '{"id":9,"_sluice_deleted":true}' > del.jsonl
	run -0 --separate-stderr sqlite-load --load-id A2 -t t -m append db del.jsonl
	assert_stderr "sqlite-load: load A2: t +1 ~0 =0 -0 committed"
	assert_equal "$(sql db 'SELECT id FROM t ORDER BY id' | tr '\n' ' ')" "1 2 3 9 "
}

# ---------------------------------------------------------------------------
# Child tables made by jsonl-normalize.

@test "pipeline merge: a tombstone deletes the root row and all its child rows" {
	nested
	pipe_load L1 merge n1.jsonl
	assert_equal "$(child_counts p.db)" "t__labels=4 t__items=2 t__items__tags=2 "
	pipe_load L2 merge n2.jsonl
	assert_equal "$(sql p.db 'SELECT id, name FROM t ORDER BY id')" "$(printf '1|a\n2|B')"
	assert_equal "$(kids p.db)" "$(printf '%s\n' \
	    '1|t__items|1' '1|t__items__tags|p' '1|t__items__tags|q' '1|t__labels|x' '1|t__labels|y' \
	    '2|t__labels|z' '2|t__labels|z2')"
	assert_equal "$(child_counts p.db)" "t__labels=4 t__items=1 t__items__tags=2 "
	# No orphans: ride 3's rows went with it.
	local t
	for t in t__labels t__items t__items__tags; do
		assert_equal "$t $(sql p.db "SELECT count(*) FROM \"$t\" WHERE _sluice_root_id NOT IN (SELECT _sluice_id FROM t)")" "$t 0"
	done
	assert_equal "$(load_counts p.db L2 t)" "0|1|1"
	assert_equal "$(unchanged_count p.db L2 t)" 1
	# 1 came unchanged: its children stay (2 labels, 1 item, 2 tags); 2
	# replaced its label with two; 3 took its label and its item.
	assert_equal "$(load_counts p.db L2 t__labels)" "2|0|2"
	assert_equal "$(unchanged_count p.db L2 t__labels)" 2
	assert_equal "$(load_counts p.db L2 t__items)" "0|0|1"
	assert_equal "$(load_counts p.db L2 t__items__tags)" "0|0|0"
	assert_equal "$(unchanged_count p.db L2 t__items__tags)" 2
}

@test "merge: a hand-made tombstone (no jsonl-normalize) deletes the children too" {
	nested
	pipe_load L1 merge n1.jsonl
	printf '%s\n' '{"id":1,"_sluice_deleted":true}' > del.jsonl
	run -0 --separate-stderr sqlite-load --load-id H -t t -m merge p.db del.jsonl
	assert_stderr "sqlite-load: load H: t +0 ~0 =0 -1, t__labels +0 ~0 =0 -2, t__items +0 ~0 =0 -1, t__items__tags +0 ~0 =0 -2 committed"
	assert_equal "$(child_counts p.db)" "t__labels=2 t__items=1 t__items__tags=0 "
	assert_equal "$(kids p.db)" "$(printf '2|t__labels|z\n3|t__items|3\n3|t__labels|w')"
	assert_equal "$(load_counts p.db H t__items__tags)" "0|0|2"
}

@test "pipeline scd2: a changed version replaces the key's children; an unchanged one keeps them" {
	nested
	pipe_load L1 scd2 n1.jsonl
	sql p.db "SELECT * FROM t__labels WHERE value IN ('x','y') ORDER BY _sluice_id" > one.before
	pipe_load L2 scd2 n2.jsonl
	assert_equal "$(versions p.db t id name)" "$(printf '%s\n' \
	    '1|a|L1|-' '2|b|L1|L2' '2|B|L2|-' '3|c|L1|L2')"
	assert_equal "$(load_counts p.db L2 t)" "1|1|1"
	# Key 2: exactly its new labels.
	assert_equal "$(sql p.db "SELECT value FROM t__labels WHERE _sluice_root_id =
	    (SELECT _sluice_id FROM t WHERE id = 2 AND _sluice_valid_to IS NULL) ORDER BY _sluice_list_idx" | tr '\n' ' ')" "z z2 "
	# Key 1 came unchanged: its child rows are the same, ids included.
	sql p.db "SELECT * FROM t__labels WHERE value IN ('x','y') ORDER BY _sluice_id" > one.after
	assert_file_bytes one.after one.before
	assert_equal "$(sql p.db "SELECT count(*) FROM t__items__tags")" 2
	# Child tables are merged, not versioned.
	assert_equal "$(sql p.db "SELECT count(*) FROM pragma_table_info('t__labels') WHERE name LIKE '\\_sluice\\_valid%' ESCAPE '\\'")" 0
	assert_equal "$(sql p.db "SELECT name FROM pragma_table_info('t__labels') WHERE pk > 0")" _sluice_id
}

@test "pipeline scd2: the same data through jsonl-normalize again makes no new version" {
	nested
	pipe_load L1 scd2 n1.jsonl
	pipe_load L2 scd2 n2.jsonl
	sql p.db 'SELECT rowid, id, name, _sluice_valid_from, _sluice_valid_to, _sluice_row_hash FROM t ORDER BY rowid' > before
	kids p.db > kids.before
	# New _sluice_load_id values, same data.
	pipe_load L3 scd2 n2.jsonl
	sql p.db 'SELECT rowid, id, name, _sluice_valid_from, _sluice_valid_to, _sluice_row_hash FROM t ORDER BY rowid' > after
	kids p.db > kids.after
	assert_file_bytes after before
	assert_file_bytes kids.after kids.before
	assert_equal "$(load_counts p.db L3 t)" "0|0|0"
	assert_equal "$(sql p.db "SELECT DISTINCT _sluice_load_id FROM t WHERE _sluice_valid_to IS NULL ORDER BY 1" | tr '\n' ' ')" "L1 L2 "
}

@test "pipeline scd2: a key without a current version keeps no child rows" {
	nested
	pipe_load L1 scd2 n1.jsonl
	pipe_load L2 scd2 n2.jsonl
	# 3 was deleted (a tombstone): no current version, so no children.
	assert_equal "$(sql p.db "SELECT count(*) FROM t__labels WHERE value = 'w'")" 0
	assert_equal "$(sql p.db "SELECT count(*) FROM t__items WHERE n = 3")" 0
	# 2 is absent from a full snapshot: retired, its children go too.
	printf '%s\n' "$(head -1 n1.jsonl)" > snap.jsonl
	pipe_load L3 scd2 snap.jsonl --scd2-retire-absent
	assert_equal "$(versions p.db t id name | grep -c -- '|-$')" 1
	assert_equal "$(sql p.db "SELECT count(*) FROM t__labels WHERE value IN ('z','z2')")" 0
	assert_equal "$(child_counts p.db)" "t__labels=2 t__items=1 t__items__tags=2 "
}

@test "pipeline scd2: a change only in a nested list leaves the key with exactly its new children" {
	printf '%s\n' '{"id":1,"name":"a","labels":["x","y"]}' > l1.jsonl
	printf '%s\n' '{"id":1,"name":"a","labels":["x"]}' > l2.jsonl
	pipe_load L1 scd2 l1.jsonl
	pipe_load L2 scd2 l2.jsonl
	assert_equal "$(sql p.db 'SELECT value FROM t__labels ORDER BY _sluice_list_idx' | tr '\n' ' ')" "x "
}

# ---------------------------------------------------------------------------
# Errors, exit codes, rollback.

@test "--scd2-retire-absent without --mode scd2 is a usage error (64)" {
	batches
	local m
	for m in append merge replace; do
		run -64 --separate-stderr sqlite-load -t t -k id -m "$m" --scd2-retire-absent db b1.jsonl
		assert_output ""
		assert_stderr_partial "--scd2-retire-absent needs --mode scd2"
		assert_stderr_regex '[Uu]sage'
	done
	run -64 --separate-stderr sqlite-load -t t --scd2-retire-absent db b1.jsonl
	[[ ! -e db ]] || fail "database created on a usage error"
}

@test "scd2 without a key exits 64 and creates no table" {
	batches
	run -64 --separate-stderr sqlite-load -t t -m scd2 db b1.jsonl
	assert_output ""
	assert_stderr_partial "scd2 needs a key"
	assert_no_user_tables db
	# A Singer stream whose SCHEMA has no key_properties: the same.
	printf '%s\n' '{"type":"SCHEMA","stream":"s","schema":{"type":"object","properties":{"a":{"type":"integer"}}},"key_properties":[]}' \
	    '{"type":"RECORD","stream":"s","record":{"a":1}}' > in.singer
	run -64 --separate-stderr sqlite-load -m scd2 db in.singer
	assert_no_user_tables db
}

@test "scd2 into a table whose PRIMARY KEY is the key (merge mode's) exits 65, loads nothing" {
	batches
	sqlite-load -q -t t -k id -m merge db b1.jsonl
	db_snapshot db
	run -65 --separate-stderr sqlite-load -t t -k id -m scd2 db b2.jsonl
	assert_output ""
	assert_stderr_partial "PRIMARY KEY"
	assert_stderr_partial "new table"
	assert_stderr_partial "rolled back"
	db_unchanged db
}

@test "a tombstone without its key value exits 65 naming the key, and rolls back" {
	batches
	sqlite-load -q -t t -k id -m merge db b1.jsonl
	db_snapshot db
	printf '%s\n' '{"id":5,"name":"e"}' '{"_sluice_deleted":true,"name":"a"}' > in.jsonl
	run -65 --separate-stderr sqlite-load -t t -k id -m merge db <in.jsonl
	assert_output ""
	assert_stderr_line 'sqlite-load: stdin:2: stream t: tombstone has no value for key "id"'
	db_unchanged db
	# A null key value is no value either; in scd2 mode the same.
	printf '%s\n' '{"id":null,"_sluice_deleted":true}' > null.jsonl
	run -65 --separate-stderr sqlite-load -t t -k id -m merge db null.jsonl
	assert_stderr_partial 'tombstone has no value for key "id"'
	rm -f db
	scd2_load S1 b1.jsonl
	db_snapshot db
	run -65 --separate-stderr sqlite-load -t t -k id -m scd2 db <in.jsonl
	assert_stderr_partial 'tombstone has no value for key "id"'
	db_unchanged db
}

@test "--on-error skip: a tombstone without its key is skipped, the rest loads" {
	batches
	sqlite-load -q -t t -k id -m merge db b1.jsonl
	printf '%s\n' '{"_sluice_deleted":true}' '{"id":2,"_sluice_deleted":true}' > in.jsonl
	run -0 --separate-stderr sqlite-load --load-id K -t t -k id -m merge --on-error skip db in.jsonl
	assert_stderr_partial 'in.jsonl:1: stream t: tombstone has no value for key "id" (skipped)'
	assert_equal "$(sql db 'SELECT id FROM t ORDER BY id' | tr '\n' ' ')" "1 3 "
	assert_equal "$(load_counts db K t)" "0|0|1"
}

@test "merge tombstones with no key at all (no -k, no key_properties) exit 64" {
	batches
	sqlite-load -q -t t db b1.jsonl
	db_snapshot db
	printf '%s\n' '{"id":1,"_sluice_deleted":true}' > del.jsonl
	run -64 --separate-stderr sqlite-load -t t -m merge db del.jsonl
	assert_output ""
	assert_stderr_partial "needs a key"
	db_unchanged db
	# Also for a table that does not exist yet.
	run -64 --separate-stderr sqlite-load -t nt -m merge db del.jsonl
	assert_equal "$(user_tables db)" t
}

@test "a tombstone for a table that does not exist yet is a no-op (merge and scd2)" {
	printf '%s\n' '{"id":1,"_sluice_deleted":true}' > del.jsonl
	run -0 --separate-stderr sqlite-load --load-id N1 -t nt -k id -m merge db del.jsonl
	assert_stderr "sqlite-load: load N1: nt +0 ~0 =0 -0 committed"
	assert_equal "$(user_tables db)" ""
	run -0 --separate-stderr sqlite-load --load-id N2 -t nt -k id -m scd2 db del.jsonl
	assert_stderr "sqlite-load: load N2: nt +0 ~0 =0 -0 committed"
	assert_equal "$(user_tables db)" ""
	assert_equal "$(sql db "SELECT status FROM _sluice_loads ORDER BY load_id" | tr '\n' ' ')" "completed completed "
}

@test "a failing later line rolls the delete back: the tombstone's row is still there" {
	batches
	sqlite-load -q -t t -k id -m merge db b1.jsonl
	db_snapshot db
	printf '%s\n' '{"id":1,"_sluice_deleted":true}' '{"id":' > bad.jsonl
	run -65 --separate-stderr sqlite-load -t t -k id -m merge db bad.jsonl
	assert_stderr_partial "bad.jsonl:2: invalid JSON"
	assert_stderr_partial "rolled back"
	assert_equal "$(sql db 'SELECT id, name FROM t WHERE id = 1')" "1|a"
	db_unchanged db
	# scd2: neither the retirement nor --scd2-retire-absent survives.
	rm -f db
	scd2_load S1 b1.jsonl
	db_snapshot db
	run -65 --separate-stderr sqlite-load -t t -k id -m scd2 --scd2-retire-absent db bad.jsonl
	assert_equal "$(sql db 'SELECT count(*) FROM t WHERE _sluice_valid_to IS NULL')" 3
	db_unchanged db
}

@test "pipeline merge: a bad last line rolls back the tombstone's child deletions" {
	nested
	pipe_load L1 merge n1.jsonl
	db_snapshot p.db
	{ cat n2.jsonl; echo '{"id":'; } > bad.jsonl
	run bash -c 'jsonl-normalize -q -t T -k id bad.jsonl | schema-infer -q |
	    sqlite-load -q --load-id L2 -m merge p.db; echo "${PIPESTATUS[*]}"'
	assert_line -n -1 "65 65 65"
	db_unchanged p.db
	assert_equal "$(child_counts p.db)" "t__labels=4 t__items=2 t__items__tags=2 "
}

@test "scd2 without stable ids: an unchanged row takes the new _sluice_id, so its new child rows are not orphans" {
	printf '%s\n' '{"id":1,"v":1,"arr":[1,2],"o":[{"x":[5]}]}' '{"id":2,"v":2,"arr":[3]}' >in.jsonl
	local i
	for i in 1 2 3; do
		jsonl-normalize -q -t items in.jsonl | schema-infer -q |
		    sqlite-load -q u.db -t items -k id -m scd2 ||
		    fail "load $i failed"
	done
	run -0 sql u.db "SELECT count(*) FROM items"
	assert_output 2
	run -0 sql u.db "SELECT count(*) FROM items__arr c WHERE NOT EXISTS
	    (SELECT 1 FROM items r WHERE r._sluice_id = c._sluice_root_id
	    AND r._sluice_valid_to IS NULL)"
	assert_output 0
	run -0 sql u.db "SELECT count(*) FROM items__o__x c WHERE NOT EXISTS
	    (SELECT 1 FROM items__o p WHERE p._sluice_id = c._sluice_parent_id)"
	assert_output 0
	run -0 sql u.db "SELECT group_concat(value) FROM (SELECT value FROM items__arr ORDER BY value)"
	assert_output "1,2,3"
}
