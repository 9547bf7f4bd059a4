bats_require_minimum_version 1.5.0
# dedup-merge --diff: batch change data capture from two full snapshots.
# The one property that matters: loading OLD in full and then the diff
# gives the table that loading NEW in full gives.

load helper
load pg

teardown() {
	pg_stop
}

setup() {
	sluice_setup dedup-merge sqlite-load pgfetch jsonl-normalize
}

# rows DB: the user columns of table t, by id.
rows() {
	sql "$1" 'SELECT id, name, v FROM t ORDER BY id'
}

# load_both OLD DIFF NEW [sqlite-load options]: OLD then DIFF into
# via.db, NEW alone into full.db.
load_both() {
	local old=$1 diff=$2 new=$3
	shift 3
	sqlite-load -q via.db "$@" < "$old" || fail "loading $old"
	sqlite-load -q via.db "$@" < "$diff" || fail "loading $diff"
	sqlite-load -q full.db "$@" < "$new" || fail "loading $new"
}

# gen N OLD|NEW: a snapshot of a table of N rows; NEW drops every 50th
# id, changes every 37th row, spells its members in another order and
# adds N/200 rows.
gen() {
	awk -v n="$1" -v new="$([[ $2 == NEW ]] && echo 1 || echo 0)" 'BEGIN {
		for (i = 1; i <= n; i++) {
			if (new && i % 50 == 0)
				continue
			v = i * 3
			if (new && i % 37 == 0)
				v++
			if (new)
				printf "{\"v\":%d,\"name\":\"row %d\",\"id\":%d}\n", v, i, i
			else
				printf "{\"id\":%d,\"name\":\"row %d\",\"v\":%d}\n", i, i, v
		}
		if (new)
			for (i = n + 1; i <= n + n / 200; i++)
				printf "{\"id\":%d,\"name\":\"new\",\"v\":0}\n", i
	}'
}

@test "--diff: inserts, updates and tombstones only; OLD + diff loads the table NEW loads" {
	printf '%s\n' '{"id":1,"name":"a","v":1.5}' '{"id":2,"name":"b","v":2.5}' \
	    '{"id":3,"name":"c","v":3.5}' '{"id":4,"name":"d","v":4.0}' \
	    '{"id":5,"name":"e","v":null}' '{"id":6,"name":"f","v":6.5}' > old.jsonl
	# 1 unchanged but for member order, 2 changed, 3 gone, 4 spelt 4,
	# 5 without its null member, 6 unchanged, 7 new.
	printf '%s\n' '{"v":1.5,"id":1,"name":"a"}' '{"id":2,"name":"B","v":2.5}' \
	    '{"id":7,"name":"g","v":7.5}' '{"id":4,"name":"d","v":4}' \
	    '{"id":5,"name":"e"}' '{"id":6,"name":"f","v":6.5}' > new.jsonl
	run -0 --separate-stderr dedup-merge -k id --diff old.jsonl new.jsonl --stats st.json
	assert_stderr_empty
	# OLD's keys in OLD's order, then the new ones in NEW's; each line as
	# NEW wrote it.
	assert_output "$(printf '%s\n' '{"id":2,"name":"B","v":2.5}' \
	    '{"id":3,"_sluice_deleted":true}' '{"id":4,"name":"d","v":4}' \
	    '{"id":7,"name":"g","v":7.5}')"
	assert_equal "$(jq -c '{inserted, updated, unchanged, deleted, written}' st.json)" \
	    '{"inserted":1,"updated":2,"unchanged":3,"deleted":1,"written":4}'
	printf '%s\n' "$output" > diff.jsonl
	load_both old.jsonl diff.jsonl new.jsonl -t t -k id
	assert_equal "$(rows via.db)" "$(rows full.db)"
	assert_equal "$(sql via.db 'SELECT count(*) FROM t')" 6
	# The same through jsonl-normalize: a tombstone takes its key's child
	# rows along, an update replaces them.
	printf '%s\n' '{"id":1,"tags":["x","y"]}' '{"id":2,"tags":["z"]}' \
	    '{"id":3,"tags":[]}' > oldt.jsonl
	printf '%s\n' '{"id":1,"tags":["x"]}' '{"id":3,"tags":[]}' \
	    '{"id":4,"tags":["w"]}' > newt.jsonl
	dedup-merge -k id --diff oldt.jsonl newt.jsonl > difft.jsonl
	assert_equal "$(wc -l < difft.jsonl)" 3
	for f in oldt difft newt; do
		jsonl-normalize -t t -k id "$f.jsonl" > "$f.singer"
	done
	load_both oldt.singer difft.singer newt.singer
	local q='SELECT t.id, c._sluice_list_idx, c.value FROM t__tags c
	    JOIN t ON c._sluice_root_id = t._sluice_id ORDER BY 1, 2'
	assert_equal "$(sql via.db "$q")" "$(sql full.db "$q")"
	assert_equal "$(sql via.db "$q" | tr '\n' ' ')" '1|0|x 4|0|w '
}

@test "--diff under --memory 1M: 200,000 rows spill, the same bytes, the same table, flat RSS" {
	local n=200000
	gen "$n" OLD > old.jsonl
	gen "$n" NEW > new.jsonl
	mkdir spill
	dedup-merge -k id --diff old.jsonl new.jsonl > mem.out
	run -0 --separate-stderr dedup-merge -k id --memory 1M --tmpdir spill \
	    --stats st.json --diff old.jsonl new.jsonl
	printf '%s\n' "$output" > spill.out
	assert_file_bytes spill.out mem.out
	assert_equal "$(ls -A spill)" ""
	jq -e '.spilled_bytes > 0' st.json >/dev/null || fail "nothing spilled: $(cat st.json)"
	# 4000 gone, 5405 - 108 changed, 1000 new.
	assert_equal "$(jq -c '{inserted, updated, deleted}' st.json)" \
	    '{"inserted":1000,"updated":5297,"deleted":4000}'
	load_both old.jsonl spill.out new.jsonl -t t -k id
	assert_equal "$(sql via.db 'SELECT count(*) FROM t')" $(( n - 4000 + 1000 ))
	assert_equal "$(rows via.db | md5sum)" "$(rows full.db | md5sum)"
	sanitized dedup-merge && return 0
	# Peak RSS does not grow with the snapshots: four times the rows.
	local small big
	gen 50000 OLD > old.small
	gen 50000 NEW > new.small
	small=$( { /usr/bin/time -f %M dedup-merge -k id --memory 1M --tmpdir spill --diff old.small new.small >/dev/null; } 2>&1 )
	big=$( { /usr/bin/time -f %M dedup-merge -k id --memory 1M --tmpdir spill --diff old.jsonl new.jsonl >/dev/null; } 2>&1 )
	[[ $small =~ ^[0-9]+$ && $big =~ ^[0-9]+$ ]] || fail "no RSS: $small, $big"
	(( big < small + 8192 )) || fail "RSS grows: ${small}K for 50,000 rows, ${big}K for 200,000"
	(( big < 65536 )) || fail "RSS ${big}K under --memory 1M"
}

@test "--diff: identical snapshots give nothing; an empty OLD all inserts; an empty NEW all tombstones" {
	gen 1000 OLD > old.jsonl
	gen 1000 NEW > new.jsonl
	: > empty.jsonl
	run -0 --separate-stderr dedup-merge -k id --diff old.jsonl old.jsonl --stats st.json
	assert_output ""
	assert_stderr_empty
	assert_equal "$(jq -c '{unchanged, written}' st.json)" '{"unchanged":1000,"written":0}'
	# An empty OLD: NEW itself, every record an insert.
	dedup-merge -k id --diff empty.jsonl new.jsonl > ins.out
	assert_file_bytes ins.out new.jsonl
	# An empty NEW: a tombstone for each of OLD's keys, in OLD's order.
	dedup-merge -k id --diff old.jsonl empty.jsonl > del.out
	assert_equal "$(wc -l < del.out)" 1000
	assert_equal "$(head -n 2 del.out)" "$(printf '%s\n' '{"id":1,"_sluice_deleted":true}' '{"id":2,"_sluice_deleted":true}')"
	sqlite-load -q e.db -t t -k id < old.jsonl
	sqlite-load -q e.db -t t -k id < del.out
	assert_equal "$(sql e.db 'SELECT count(*) FROM t')" 0
	# NEW from the standard input.
	run -0 --separate-stderr bash -c 'dedup-merge -k id --diff old.jsonl < old.jsonl'
	assert_output ""
}

@test "--diff of CSV snapshots through pgfetch" {
	printf 'id,name,v\n1,apple,1.50\n2,pear,2\n3,"fig, dried",3.25\n' > old.csv
	printf 'id,name,v\n3,"fig, dried",3.25\n1,apple,1.60\n4,kiwi,\n' > new.csv
	pgfetch -q old.csv > old.jsonl
	pgfetch -q new.csv > new.jsonl
	run -0 --separate-stderr bash -c 'pgfetch -q new.csv | dedup-merge -k id --diff old.jsonl'
	assert_output "$(printf '%s\n' '{"id":"1","name":"apple","v":"1.60"}' \
	    '{"id":"2","_sluice_deleted":true}' '{"id":"4","name":"kiwi","v":""}')"
	printf '%s\n' "$output" > diff.jsonl
	load_both old.jsonl diff.jsonl new.jsonl -t t -k id
	assert_equal "$(rows via.db)" "$(rows full.db)"
	assert_equal "$(rows via.db | tr '\n' ' ')" '1|apple|1.60 3|fig, dried|3.25 4|kiwi| '
	# As Singer messages (pgfetch -m): time_extracted differs on every
	# line, the rows compare by their record.
	pgfetch -q -m -s t old.csv > old.singer
	sleep 0.01
	pgfetch -q -m -s t new.csv > new.singer
	run -0 --separate-stderr dedup-merge -k id --diff old.singer new.singer
	assert_equal "$(jq -c .record <<<"$output")" "$(printf '%s\n' '{"id":"1","name":"apple","v":"1.60"}' \
	    '{"id":"2","_sluice_deleted":true}' '{"id":"4","name":"kiwi","v":""}')"
	printf '%s\n' "$output" > diff.singer
	rm -f via.db* full.db*
	load_both old.singer diff.singer new.singer -k id
	assert_equal "$(rows via.db)" "$(rows full.db)"
	assert_equal "$(rows via.db | tr '\n' ' ')" '1|apple|1.60 3|fig, dried|3.25 4|kiwi| '
}

@test "--diff of Singer snapshots: keys from SCHEMA, tombstones as RECORD messages, OLD's STATE and every ACTIVATE_VERSION left out" {
	{
		echo '{"type":"SCHEMA","stream":"t","schema":{"properties":{"id":{"type":"integer"},"name":{"type":"string"},"v":{"type":["integer","null"]}}},"key_properties":["id"]}'
		echo '{"type":"SCHEMA","stream":"gone","schema":{"properties":{"k":{"type":"string"}}},"key_properties":["k"]}'
		echo '{"type":"RECORD","stream":"t","record":{"id":1,"name":"a","v":1},"time_extracted":"2026-12-01T00:00:00Z"}'
		echo '{"type":"RECORD","stream":"t","record":{"id":2,"name":"b","v":2},"time_extracted":"2026-12-01T00:00:00Z"}'
		echo '{"type":"RECORD","stream":"gone","record":{"k":"x"}}'
		echo '{"type":"STATE","value":{"day":1}}'
	} > old.singer
	{
		echo '{"type":"SCHEMA","stream":"t","schema":{"properties":{"id":{"type":"integer"},"name":{"type":"string"},"v":{"type":["integer","null"]}}},"key_properties":["id"]}'
		echo '{"type":"RECORD","stream":"t","record":{"id":1,"name":"a","v":1},"time_extracted":"2026-12-02T00:00:00Z"}'
		echo '{"type":"RECORD","stream":"t","record":{"id":3,"name":"c","v":3},"time_extracted":"2026-12-02T00:00:00Z"}'
		echo '{"type":"ACTIVATE_VERSION","stream":"t","version":2}'
		echo '{"type":"STATE","value":{"day":2}}'
	} > new.singer
	run -0 --separate-stderr dedup-merge --diff old.singer new.singer
	assert_stderr_empty
	# Row 1 differs only in time_extracted: unchanged.
	assert_equal "$(jq -c 'select(.type == "RECORD")' <<<"$output")" "$(printf '%s\n' \
	    '{"type":"RECORD","stream":"t","record":{"id":2,"_sluice_deleted":true},"time_extracted":"2026-12-01T00:00:00Z"}' \
	    '{"type":"RECORD","stream":"gone","record":{"k":"x","_sluice_deleted":true}}' \
	    '{"type":"RECORD","stream":"t","record":{"id":3,"name":"c","v":3},"time_extracted":"2026-12-02T00:00:00Z"}')"
	assert_equal "$(jq -r .type <<<"$output" | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" \
	    '3SCHEMA 3RECORD 1STATE '
	assert_equal "$(tail -n 1 <<<"$output")" '{"type":"STATE","value":{"day":2}}'
	printf '%s\n' "$output" > diff.singer
	load_both old.singer diff.singer new.singer
	assert_equal "$(sql via.db 'SELECT id, name, v FROM t ORDER BY id')" \
	    "$(sql full.db 'SELECT id, name, v FROM t ORDER BY id')"
	assert_equal "$(sql via.db 'SELECT count(*) FROM gone')" 0
	assert_equal "$(sqlite-load via.db --state-get day)" 2
}

@test "--diff: a key twice in one snapshot warns, the last counts, as a merge load of NEW would" {
	printf '%s\n' '{"id":1,"v":1}' '{"id":2,"v":2}' > old.jsonl
	printf '%s\n' '{"id":1,"v":5}' '{"id":2,"v":2}' '{"id":1,"v":1}' '{"id":2,"v":9}' '{"id":2,"v":2}' > new.jsonl
	run -0 --separate-stderr dedup-merge -k id --diff old.jsonl new.jsonl
	assert_output ""
	assert_stderr "dedup-merge: --diff: 3 more versions of a key in one snapshot: the last of each counts"
	run -0 --separate-stderr dedup-merge -k id --first --diff old.jsonl new.jsonl
	assert_output '{"id":1,"v":5}'
	assert_stderr_partial "the first of each counts"
	run -0 --separate-stderr dedup-merge -q -k id --diff old.jsonl new.jsonl
	assert_stderr_empty
	# The same across spilled runs.
	gen 30000 OLD > big.jsonl
	run -0 --separate-stderr dedup-merge -k id --memory 1M --diff big.jsonl big.jsonl big.jsonl
	assert_output ""
	assert_stderr "dedup-merge: --diff: 30000 more versions of a key in one snapshot: the last of each counts"
}

@test "--diff: a record without its key is rejected with its file and line; --on-error as always" {
	printf '%s\n' '{"id":1,"v":1}' '{"v":2}' > old.jsonl
	printf '%s\n' '{"id":1,"v":2}' > new.jsonl
	run -65 --separate-stderr dedup-merge -k id --diff old.jsonl new.jsonl
	assert_stderr_partial "dedup-merge: old.jsonl:2: no key id"
	assert_output --partial '"type":"SLUICE_ABORT"'
	run -0 --separate-stderr dedup-merge -k id --on-error skip --diff old.jsonl new.jsonl
	assert_output '{"id":1,"v":2}'
	run -0 --separate-stderr dedup-merge -k id --on-error quarantine=q.jsonl --diff new.jsonl old.jsonl
	assert_output '{"id":1,"v":1}'
	assert_equal "$(wc -l < q.jsonl)" 1
}

@test "--diff: composite and nested keys; --delete-when turns a soft-deleted NEW row into a tombstone" {
	printf '%s\n' '{"a":{"x":1},"b":"p","v":1}' '{"a":{"x":1},"b":"q","v":2}' > old.jsonl
	printf '%s\n' '{"a":{"x":1},"b":"q","v":2,"del":true}' '{"a":{"x":2},"b":"p","v":3}' > new.jsonl
	run -0 --separate-stderr dedup-merge -k a.x,b --delete-when '.del == true' --diff old.jsonl new.jsonl --stats st.json
	assert_output "$(printf '%s\n' '{"a":{"x":1},"b":"p","_sluice_deleted":true}' \
	    '{"a":{"x":1},"b":"q","_sluice_deleted":true}' '{"a":{"x":2},"b":"p","v":3}')"
	assert_equal "$(jq -c '{inserted, updated, deleted}' st.json)" '{"inserted":1,"updated":1,"deleted":2}'
}

@test "--diff: usage errors and a missing OLD" {
	echo '{"id":1}' > new.jsonl
	run -64 --separate-stderr dedup-merge -k id --diff - new.jsonl
	assert_stderr_partial "--diff: OLD is a file"
	run -64 --separate-stderr dedup-merge -k id --diff new.jsonl --cursor id new.jsonl
	assert_stderr_partial "--diff: not with --cursor"
	run -64 --separate-stderr dedup-merge -k id --diff new.jsonl --delete-when .d --drop-deleted new.jsonl
	assert_stderr_partial "--diff: not with --cursor or --drop-deleted"
	run -64 --separate-stderr dedup-merge -k id --diff '' new.jsonl
	run -66 --separate-stderr dedup-merge -k id --diff no-such.jsonl new.jsonl
	assert_stderr_partial "no-such.jsonl"
	run -0 --separate-stderr dedup-merge -h
	assert_output --partial "--diff OLD"
}

@test "--diff of two psql exports of a PostgreSQL table: the day's changes make the same table" {
	pg_start
	pg_psql "CREATE TABLE orders (id bigint PRIMARY KEY, note text, amount numeric(12,2), tags jsonb, at timestamptz)" \
	    "INSERT INTO orders SELECT g, 'order ' || g, g * 1.25, jsonb_build_array(g % 3), '2026-12-01T00:00:00Z'::timestamptz + g * interval '1 minute' FROM generate_series(1, 2000) g" \
	    "UPDATE orders SET note = E'a \"quoted\" back\\\\slash\\nnewline' WHERE id = 7"
	local export='SELECT row_to_json(t) FROM orders t'
	pg_psql "$export" > day1.jsonl
	pg_psql "DELETE FROM orders WHERE id % 100 = 0" \
	    "UPDATE orders SET amount = 99999999.99, tags = NULL WHERE id % 77 = 0" \
	    "UPDATE orders SET note = E'tab\\there' WHERE id = 7" \
	    "INSERT INTO orders VALUES (5000, 'new', 0.10, '{\"k\":[1,2]}', now())"
	pg_psql "$export" > day2.jsonl
	assert_equal "$(wc -l < day1.jsonl) $(wc -l < day2.jsonl)" "2000 1981"
	run -0 --separate-stderr dedup-merge -t orders -k id --diff day1.jsonl day2.jsonl --stats st.json
	assert_stderr_empty
	# 20 gone; the multiples of 77 left, and id 7, changed; one new.
	assert_equal "$(jq -c '{inserted, updated, deleted}' st.json)" \
	    "$(jq -nc --argjson u "$(seq 1 2000 | awk '$1 % 77 == 0 && $1 % 100 != 0' | wc -l)" \
	    '{inserted: 1, updated: ($u + 1), deleted: 20}')"
	printf '%s\n' "$output" > changes.jsonl
	load_both day1.jsonl changes.jsonl day2.jsonl -t orders -k id
	local q='SELECT id, note, amount, tags, at FROM orders ORDER BY id'
	assert_equal "$(sql via.db "$q" | md5sum)" "$(sql full.db "$q" | md5sum)"
	assert_equal "$(sql via.db 'SELECT amount FROM orders WHERE id = 77')" 99999999.99
	assert_equal "$(sql via.db 'SELECT note FROM orders WHERE id = 7')" "$(printf 'tab\there')"
}
