#!/usr/bin/env bats
# make demo (examples/demo.sh): the mock API's nested taxi rides, paginated,
# through the whole pipeline into SQLite; then the API changes 5 rides and
# adds 20, and the incremental run loads only those (issue 13).

bats_require_minimum_version 1.5.0
load helper

setup() { sluice_setup pgfetch dedup-merge jsonl-normalize schema-infer sqlite-load; }

EX="$BATS_TEST_DIRNAME/../examples"

@test "demo.sh: 3,000 rides with their children, then only the 5 changed and 20 new" {
	run -0 --separate-stderr sh "$EX/demo.sh" "$BIN" demo.db
	# Each command is printed, so that it can be copied.
	assert_output --partial '$ pgfetch --paginate page --since-param updated_since --since "$since"'
	assert_output --partial '    dedup-merge -t rides -k ride_id --cursor updated_at --state-from demo.db |'
	assert_output --partial '    sqlite-load -m merge demo.db'
	# The first run walks every page and the empty one; the second asks
	# only for what changed since the committed bookmark.
	assert_equal "$(grep -o 'pgfetch asked the API [0-9]* times' <<<"$output" | tr '\n' ' ')" \
	    'pgfetch asked the API 31 times pgfetch asked the API 2 times '
	assert_output --partial '(since="")'
	assert_output --regexp '\(since="2024-06-0[0-9]T[0-9:]+Z"\)'
	# The loads, as sqlite-load said them.
	assert_equal "$(grep -c 'committed' <<<"$stderr")" 2
	assert_stderr_regex 'rides \+3000 ~0 =0 -0, rides__passengers \+7500 ~0 =0 -0, rides__stops \+3000 ~0 =0 -0 committed'
	assert_stderr_regex 'rides \+20 ~5 =0 -0,'
	# The database: every ride once, its children hanging off it.
	assert_equal "$(sql demo.db 'SELECT count(*), count(DISTINCT ride_id) FROM rides')" '3020|3020'
	assert_equal "$(sql demo.db 'SELECT count(*) FROM rides__passengers')" \
	    "$(sql demo.db 'SELECT sum(passenger_count) FROM rides')"
	assert_equal "$(sql demo.db 'SELECT count(*) FROM rides__stops')" \
	    "$(sql demo.db 'SELECT sum(ride_id % 3) FROM rides')"
	assert_equal "$(sql demo.db 'SELECT count(*) FROM rides__passengers p
	    LEFT JOIN rides r ON r._sluice_id = p._sluice_parent_id WHERE r.ride_id IS NULL')" 0
	# The changed rides carry their new tip (1.5 more) and the second load.
	assert_equal "$(sql demo.db "SELECT group_concat(ride_id, ' ') FROM (SELECT ride_id
	    FROM rides WHERE _sluice_load_id = (SELECT max(load_id) FROM _sluice_loads)
	    AND ride_id <= 3000 ORDER BY ride_id)")" '8 608 1208 1808 2408'
	assert_equal "$(sql demo.db "SELECT round(payment__total_amt - payment__fare_amt - payment__tip_amt, 6)
	    FROM rides WHERE ride_id = 8")" '0.0'
	assert_equal "$(sql demo.db "SELECT json_extract(tables, '\$.rides.inserted') || ' ' ||
	    json_extract(tables, '\$.rides.updated') FROM _sluice_loads ORDER BY load_id")" \
	    "$(printf '3000 0\n20 5')"
	# The server was stopped: its port answers no more.
	local port
	port=$(sed -n 's|^== the API: http://127.0.0.1:\([0-9]*\)/.*|\1|p' <<<"$output")
	[[ $port =~ ^[0-9]+$ ]] || fail "no port in the output"
	if python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null; then
		fail "the mock API still listens on $port"
	fi
}

@test "demo.sh runs again from scratch: the same database" {
	run -0 --separate-stderr sh "$EX/demo.sh" "$BIN" demo.db
	sql demo.db 'SELECT ride_id, payment__tip_amt, updated_at FROM rides ORDER BY ride_id' > first
	run -0 --separate-stderr sh "$EX/demo.sh" "$BIN" demo.db
	sql demo.db 'SELECT ride_id, payment__tip_amt, updated_at FROM rides ORDER BY ride_id' > second
	assert_equal "$(wc -l < first)" 3020
	cmp -s first second || fail "a second demo gives another database"
}
