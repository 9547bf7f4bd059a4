bats_require_minimum_version 1.5.0
# sqlite-load -m merge with jsonl-normalize's child tables (spec3.md,
# sqlite-load(1) "merge"): a root row that replaces an existing one takes
# its old child rows with it (by _sluice_root_id, in the same transaction),
# so a ride whose passengers changed ends with exactly its new passengers.
#
# merge1.jsonl: ride 1 [Ana (phone 111), Ben] stops A B; ride 2 [Cy] stop C;
#               ride 3 [Di, Ed] no stops, tag late.
# merge2.jsonl: ride 1 [Ana (no phone), Flo, Gus, Ivy] stops A B (amt 11);
#               ride 2 unchanged; ride 3 every list emptied; ride 4 new [Hal] D.

load helper

setup() {
	sluice_setup jsonl-normalize schema-infer sqlite-load
	D="$DATA/jsonl-normalize"
}

# load_rides LOAD_ID FILE [sqlite-load OPTION...]: FILE through
# `jsonl-normalize -t rides -k ride_id | schema-infer | sqlite-load -m merge
# taxi.db`, with SLUICE_LOAD_ID=LOAD_ID for the whole pipeline; every stage
# must exit 0.
load_rides() {
	local id=$1 f=$2
	shift 2
	SLUICE_LOAD_ID=$id jsonl-normalize -q -t rides -k ride_id "$f" |
	    SLUICE_LOAD_ID=$id schema-infer -q |
	    SLUICE_LOAD_ID=$id sqlite-load -q -m merge "$@" taxi.db >/dev/null
	local st=("${PIPESTATUS[@]}")
	[[ "${st[*]}" == "0 0 0" ]] || fail "pipeline statuses: ${st[*]}"
}

# passengers DB: "ride|idx|name" for every passenger, joined on the ids.
passengers() {
	sql "$1" 'SELECT r.ride_id, p._sluice_list_idx, p.name FROM rides r
	    JOIN rides__passengers p ON p._sluice_parent_id = r._sluice_id
	    AND p._sluice_root_id = r._sluice_id
	    ORDER BY r.ride_id, p._sluice_list_idx'
}

# children_of DB RIDE: every child row of that ride, in every child table.
children_of() {
	local t
	for t in rides__passengers rides__passengers__phones rides__stops rides__tags; do
		sql "$1" "SELECT '$t', * FROM \"$t\" WHERE _sluice_root_id =
		    (SELECT _sluice_id FROM rides WHERE ride_id = $2) ORDER BY _sluice_id"
	done
}

@test "first load: every table, row and link" {
	load_rides L1 "$D/merge1.jsonl"
	assert_equal "$(user_tables taxi.db | tr '\n' ' ')" \
	    "rides rides__passengers rides__passengers__phones rides__stops rides__tags "
	assert_equal "$(sql taxi.db "SELECT name FROM pragma_table_info('rides') WHERE pk > 0")" ride_id
	assert_equal "$(sql taxi.db "SELECT name FROM pragma_table_info('rides__passengers') WHERE pk > 0")" _sluice_id
	assert_equal "$(passengers taxi.db)" "$(printf '1|0|Ana\n1|1|Ben\n2|0|Cy\n3|0|Di\n3|1|Ed')"
	assert_equal "$(sql taxi.db 'SELECT r.ride_id, p.name, ph.value FROM rides r
	    JOIN rides__passengers p ON p._sluice_parent_id = r._sluice_id
	    JOIN rides__passengers__phones ph ON ph._sluice_parent_id = p._sluice_id')" "1|Ana|111"
	assert_equal "$(load_counts taxi.db L1 rides)" "3|0|0"
	assert_equal "$(load_counts taxi.db L1 rides__passengers)" "5|0|0"
	assert_equal "$(load_counts taxi.db L1 rides__passengers__phones)" "1|0|0"
	assert_equal "$(load_counts taxi.db L1 rides__stops)" "3|0|0"
	assert_equal "$(load_counts taxi.db L1 rides__tags)" "1|0|0"
	# SLUICE_LOAD_ID names the load in _sluice_loads and in the rows alike.
	assert_equal "$(sql taxi.db 'SELECT DISTINCT r._sluice_load_id FROM rides r JOIN _sluice_loads l ON l.load_id = r._sluice_load_id')" L1
}

@test "merge twice: the changed ride has exactly its new passengers; others unchanged" {
	load_rides L1 "$D/merge1.jsonl"
	children_of taxi.db 2 > ride2.before
	load_rides L2 "$D/merge2.jsonl"
	assert_equal "$(passengers taxi.db)" \
	    "$(printf '1|0|Ana\n1|1|Flo\n1|2|Gus\n1|3|Ivy\n2|0|Cy\n4|0|Hal')"
	# Ride 2 came again unchanged: not written again, it keeps the load
	# that wrote it, and its child rows are the same, ids included.
	assert_equal "$(sql taxi.db 'SELECT ride_id, payment__amt, _sluice_load_id FROM rides ORDER BY ride_id')" \
	    "$(printf '1|11|L2\n2|20|L1\n3|30|L2\n4|40|L2')"
	children_of taxi.db 2 > ride2.after
	assert_file_bytes ride2.after ride2.before
	assert_equal "$(wc -l <ride2.after)" 2
	# Ana lost her phone; stops are as sent.
	assert_equal "$(sql taxi.db 'SELECT count(*) FROM rides__passengers__phones')" 0
	assert_equal "$(sql taxi.db 'SELECT r.ride_id, s._sluice_list_idx, s.value FROM rides r
	    JOIN rides__stops s ON s._sluice_parent_id = r._sluice_id ORDER BY r.ride_id, s._sluice_list_idx')" \
	    "$(printf '1|0|A\n1|1|B\n2|0|C\n4|0|D')"
}

@test "merge twice: an emptied list leaves no child rows, in any child table" {
	load_rides L1 "$D/merge1.jsonl"
	assert_equal "$(children_of taxi.db 3 | wc -l)" 3
	load_rides L2 "$D/merge2.jsonl"
	assert_equal "$(sql taxi.db 'SELECT count(*) FROM rides WHERE ride_id = 3')" 1
	assert_equal "$(children_of taxi.db 3)" ""
	assert_equal "$(sql taxi.db 'SELECT count(*) FROM rides__tags')" 0
	# No orphans anywhere.
	local t
	for t in rides__passengers rides__passengers__phones rides__stops rides__tags; do
		assert_equal "$t $(sql taxi.db "SELECT count(*) FROM \"$t\" WHERE _sluice_root_id NOT IN (SELECT _sluice_id FROM rides)")" "$t 0"
	done
	assert_equal "$(sql taxi.db 'SELECT count(*) FROM rides__passengers__phones WHERE _sluice_parent_id NOT IN (SELECT _sluice_id FROM rides__passengers)')" 0
}

@test "merge twice: _sluice_loads counts the replaced child rows as deleted" {
	load_rides L1 "$D/merge1.jsonl"
	load_rides L2 "$D/merge2.jsonl"
	assert_equal "$(sql taxi.db 'SELECT load_id FROM _sluice_loads ORDER BY load_id' | tr '\n' ' ')" "L1 L2 "
	assert_equal "$(load_counts taxi.db L2 rides)" "1|2|0"
	assert_equal "$(unchanged_count taxi.db L2 rides)" 1
	# Old children of rides 1 and 3 (2 + 2) deleted; new: 4 + 1; ride 2's
	# one passenger and one stop unchanged.
	assert_equal "$(load_counts taxi.db L2 rides__passengers)" "5|0|4"
	assert_equal "$(unchanged_count taxi.db L2 rides__passengers)" 1
	assert_equal "$(load_counts taxi.db L2 rides__stops)" "3|0|2"
	# Tables that get no row in this load still count their deletions.
	assert_equal "$(load_counts taxi.db L2 rides__passengers__phones)" "0|0|1"
	assert_equal "$(load_counts taxi.db L2 rides__tags)" "0|0|1"
}

@test "the same file merged twice leaves the same rows" {
	load_rides L1 "$D/merge1.jsonl"
	for t in rides__passengers rides__passengers__phones rides__stops rides__tags; do
		sql taxi.db "SELECT * FROM \"$t\" ORDER BY _sluice_id"
	done > before
	load_rides L2 "$D/merge1.jsonl"
	for t in rides__passengers rides__passengers__phones rides__stops rides__tags; do
		sql taxi.db "SELECT * FROM \"$t\" ORDER BY _sluice_id"
	done > after
	assert_file_bytes after before
	assert_equal "$(sql taxi.db 'SELECT count(*) FROM rides')" 3
	# Nothing changed: nothing written, every row counted unchanged.
	assert_equal "$(load_counts taxi.db L2 rides)" "0|0|0"
	assert_equal "$(unchanged_count taxi.db L2 rides)" 3
	assert_equal "$(load_counts taxi.db L2 rides__passengers)" "0|0|0"
	assert_equal "$(unchanged_count taxi.db L2 rides__passengers)" 5
	assert_equal "$(sql taxi.db 'SELECT DISTINCT _sluice_load_id FROM rides')" L1
}

@test "a ride twice in one load: the later one's children win" {
	printf '%s\n' '{"ride_id":1,"passengers":[{"name":"A"},{"name":"B"}]}' \
	    '{"ride_id":1,"passengers":[{"name":"C"}]}' > twice.jsonl
	load_rides L1 twice.jsonl
	assert_equal "$(passengers taxi.db)" "1|0|C"
	assert_equal "$(sql taxi.db 'SELECT count(*) FROM rides__passengers')" 1
}

@test "a failed merge (bad line at the end) rolls back the child deletions too" {
	load_rides L1 "$D/merge1.jsonl"
	db_snapshot taxi.db
	{ cat "$D/merge2.jsonl"; echo '{"ride_id":'; } > bad.jsonl
	run bash -c 'jsonl-normalize -q -t rides -k ride_id bad.jsonl | schema-infer -q |
	    sqlite-load -q --load-id L2 -m merge taxi.db; echo "${PIPESTATUS[*]}"'
	assert_line -n -1 "65 65 65"
	db_unchanged taxi.db
}

@test "only T__* tables with _sluice_root_id lose rows, not look-alikes or others" {
	load_rides L1 "$D/merge1.jsonl"
	# rides_old matches LIKE 'rides__%' (_ is a wildcard there) and has the
	# same key values; rides__notes has no _sluice_root_id; cars is unrelated.
	jsonl-normalize -q -t rides_old -k ride_id "$D/merge1.jsonl" | schema-infer -q |
	    sqlite-load -q --load-id O1 taxi.db
	printf '%s\n' '{"ride_id":1,"note":"n1"}' '{"ride_id":3,"note":"n3"}' |
	    sqlite-load -q --load-id N1 -t rides__notes taxi.db
	printf '%s\n' '{"car":1,"p":[{"x":1}]}' | jsonl-normalize -q -t cars -k car |
	    schema-infer -q | sqlite-load -q --load-id C1 taxi.db
	for t in rides_old rides_old__passengers rides_old__stops rides__notes cars cars__p; do
		sql taxi.db "SELECT * FROM \"$t\" ORDER BY 1"
	done > before
	load_rides L2 "$D/merge2.jsonl"
	for t in rides_old rides_old__passengers rides_old__stops rides__notes cars cars__p; do
		sql taxi.db "SELECT * FROM \"$t\" ORDER BY 1"
	done > after
	assert_file_bytes after before
	assert_equal "$(sql taxi.db 'SELECT count(*) FROM rides_old__passengers')" 5
	assert_equal "$(passengers taxi.db | wc -l)" 6
}

@test "append mode is not changed: appending a new ride keeps the old children" {
	load_rides L1 "$D/merge1.jsonl"
	printf '%s\n' '{"ride_id":9,"passengers":[{"name":"Zed"}]}' |
	    jsonl-normalize -q -t rides -k ride_id | schema-infer -q | sqlite-load -q --load-id L2 taxi.db
	assert_equal "$(passengers taxi.db | tr '\n' ' ')" "1|0|Ana 1|1|Ben 2|0|Cy 3|0|Di 3|1|Ed 9|0|Zed "
	assert_equal "$(load_counts taxi.db L2 rides__passengers)" "1|0|0"
}

@test "merge of deep rides: the issue's pipeline, run twice with one changed list" {
	jq -c '.' "$D/rides.jsonl" > r1.jsonl
	jq -c 'if .ride_id == 2 then .passengers = [{"name":"Cy","age":51},{"name":"Dee","age":29}] else . end' "$D/rides.jsonl" > r2.jsonl
	jsonl-normalize -q -t rides -k ride_id r1.jsonl | schema-infer -q | sqlite-load -q --load-id A -m merge taxi.db
	jsonl-normalize -q -t rides -k ride_id r2.jsonl | schema-infer -q | sqlite-load -q --load-id B -m merge taxi.db
	assert_equal "$(sql taxi.db 'SELECT r.ride_id, p._sluice_list_idx, p.name, p.age FROM rides r
	    JOIN rides__passengers p ON p._sluice_parent_id = r._sluice_id ORDER BY r.ride_id, p._sluice_list_idx')" \
	    "$(printf '1|0|Ana|34\n1|1|Ben|\n2|0|Cy|51\n2|1|Dee|29')"
	assert_equal "$(sql taxi.db 'SELECT count(*) FROM rides__passengers__phones')" 2
	assert_equal "$(sql taxi.db 'SELECT count(*) FROM rides__stops')" 4
	# Only ride 2 changed: its passengers (and their phones, stops) are
	# replaced, the other rides' are left alone.
	assert_equal "$(load_counts taxi.db B rides__passengers)" "2|0|1"
	assert_equal "$(load_counts taxi.db B rides)" "0|1|0"
	assert_equal "$(unchanged_count taxi.db B rides)" "$(( $(wc -l < r1.jsonl) - 1 ))"
}
