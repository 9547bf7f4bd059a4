#!/usr/bin/env bats
# Every EXAMPLES line of the manuals runs, in order, in a directory holding
# the files they name (as jq turns its manual into tests): a manual whose
# examples no longer work is a failing test.

bats_require_minimum_version 1.5.0
load helper

setup() {
	sluice_setup jsonl-normalize schema-infer sqlite-load
	local ex="$BATS_TEST_DIRNAME/../examples" d="$BATS_TEST_DIRNAME/data"
	cp "$ex/issues.jsonl" issues.jsonl
	jq -s . issues.jsonl > issues.json
	head -n 20 issues.jsonl > new.jsonl
	cp "$d/jsonl-normalize/rides.jsonl" rides.jsonl
	head -n 1 rides.jsonl > ride.jsonl
	jq -c '.[]' "$d/dlt/github.events.load_page_1_duck.json" > events.jsonl
	cp "$d/singer/user_location_data.singer" users.singer
	printf 'not-a-real-salt\n' > salt.txt
	gzip -c events.jsonl > events.jsonl.gz
	cp "$d/pgfetch/items.json" response.json
	cp "$d/pgfetch/trips.csv" trips.csv
}

# run_examples PAGE: each example in turn; the first that fails fails the test.
run_examples() {
	local cmd n=0
	while IFS= read -r cmd; do
		n=$((n + 1))
		run bash -o pipefail -c "$cmd" </dev/null
		# A writer whose reader stops early dies of SIGPIPE, quietly.
		[[ $status -eq 141 && $cmd == *'| head '* ]] && status=0
		[[ $status -eq 0 ]] || fail "$1 example $n exited $status: $cmd
$output"
	done < <(man_examples "$1")
	[[ $n -gt 0 ]] || fail "$1: no examples found"
	echo "$n"
}

@test "schema-infer(1) examples run" {
	run_examples schema-infer.1
	assert_equal "$(sql gh.db 'SELECT count(*) FROM issues')" 100
	[[ -s issues.schema ]] || fail "no schema file"
	jq -e 'select(.change == "variant")' changes.jsonl >/dev/null || fail "$(cat changes.jsonl)"
	# The contracts: new.jsonl fits gh.db, which already holds issues.jsonl.
	assert_equal "$(jq -c '[.discarded_rows, .discarded_values]' contract.json)" '[0,0]'
	[[ -e dev-changes.jsonl && ! -s dev-changes.jsonl ]] || fail "dev-changes: $(cat dev-changes.jsonl)"
}

@test "sqlite-load(1) examples run" {
	sluice_setup dedup-merge
	printf '%s\n' '{"id":1,"name":"Ada"}' '{"id":2,"name":"Bob"}' > customers.jsonl
	run_examples sqlite-load.1
	assert_equal "$(sql crm.db 'SELECT id FROM customers WHERE _sluice_valid_to IS NULL ORDER BY id')" \
	    "$(printf '1\n2')"
	assert_equal "$(sqlite-load gh.db --state-get bookmarks.issues)" 2024-06-01
	assert_equal "$(sql gh.db 'SELECT count(*) FROM test_users')" 5
}

# pg-load(1)'s examples need a server: a throwaway cluster (tests/pg.bash)
# for this test alone, stopped by teardown.
@test "pg-load(1) examples run" {
	load pg
	sluice_setup pg-load dedup-merge
	# Stopped by teardown even if it fails half-way; never a PGDIR of
	# the caller's.
	unset PGDIR
	PG_STARTED=1
	pg_start
	run_examples pg-load.1
	assert_equal "$(pg_psql 'SELECT count(*) FROM issues')" 100
	assert_equal "$(pg_psql 'SELECT count(*) FROM taxi.rides')" "$(wc -l < rides.jsonl)"
	pg_psql 'SELECT count(*) FROM taxi.rides__passengers' | grep -qx '[1-9][0-9]*' ||
	    fail "no passengers"
	# The second run of the rides found every row as it was.
	assert_equal "$(pg_psql "SELECT tables->'rides'->>'unchanged' FROM taxi._sluice_loads
	    ORDER BY started_at DESC LIMIT 1")" "$(wc -l < rides.jsonl)"
	assert_equal "$(pg-load postgresql:///postgres --state-get bookmarks.issues)" 2024-06-01
	assert_equal "$(pg_psql 'SELECT count(*) FROM test_users')" 5
	assert_equal "$(pg_psql "SELECT count(*) FROM _sluice_loads WHERE load_id = 'nightly-1'")" 1
	[[ ! -e rejected.jsonl ]] || fail "rejected: $(cat rejected.jsonl)"
}

teardown() {
	[[ -z ${PG_STARTED:-} ]] || pg_stop
}

@test "jsonl-normalize(1) examples run" {
	run_examples jsonl-normalize.1
	assert_equal "$(sql taxi.db 'SELECT count(*) FROM rides')" "$(wc -l < rides.jsonl)"
	[[ "$(sql gh.db 'SELECT count(*) FROM events')" -eq "$(wc -l < events.jsonl)" ]]
}

@test "sluice(7) examples run" {
	run_examples sluice.7
	jq -e '.program == "sqlite-load" and .records > 0' load.json >/dev/null || fail "$(cat load.json)"
}

@test "pgfetch(1) examples run" {
	sluice_setup pgfetch
	run_examples pgfetch.1
	assert_equal "$(sql gh.db 'SELECT count(*) FROM issues')" 100
	assert_equal "$(sql taxi.db 'SELECT trip_id, passengers, fare, paid FROM trips ORDER BY trip_id')" \
	    "$(printf '%s\n' '1|1|23.5|1' '2|3|41.0|0' '3|2||')"
	assert_equal "$(sql events.db 'SELECT count(*) FROM events')" "$(wc -l < events.jsonl)"
	assert_file_bytes records.jsonl events.jsonl
	[[ ! -e rejected.jsonl ]] || fail "rejected: $(cat rejected.jsonl)"
}

@test "dedup-merge(1) examples run" {
	sluice_setup dedup-merge
	head -n 60 issues.jsonl > snapshot.jsonl
	tail -n 50 issues.jsonl | jq -c '.title += " (edited)"' > delta.jsonl
	run_examples dedup-merge.1
	assert_equal "$(wc -l < today.jsonl)" 100
	assert_equal "$(grep -c '(edited)' today.jsonl)" 50
	assert_equal "$(wc -l < latest.jsonl)" 100
	assert_equal "$(wc -l < open.jsonl)" "$(jq -r .state issues.jsonl | grep -c open)"
	assert_equal "$(sql gh.db 'SELECT count(*) FROM issues')" 100
	assert_equal "$(sql gh.db 'SELECT count(*) FROM _sluice_loads')" 2
	assert_equal "$(sqlite-load gh.db --state-get bookmarks.issues.replication_key_value)" \
	    "$(jq -r .updated_at issues.jsonl | sort | tail -n 1)"
	assert_equal "$(sql users.db 'SELECT count(*) FROM test_users')" \
	    "$(jq -r 'select(.type == "RECORD") | .record.id' users.singer | sort -u | wc -l)"
}
