#!/usr/bin/env bats
# pg-load against a real PostgreSQL 15 (issue 15): the loads sqlite-load
# makes, the same rows in PostgreSQL; one transaction a load whatever
# fails (bad data, SIGKILL, a server restart); concurrent loaders; the
# password only from the environment.  The cluster is started once for
# the file (tests/pg.bash); each test loads into a dataset of its own.

bats_require_minimum_version 1.5.0
load helper
load pg

setup_file() {
	pg_start
	# A role that must give a password, over TCP; trust stays for the rest.
	pg_psql "CREATE ROLE pw LOGIN PASSWORD 'sesame-7f3a' SUPERUSER"
	{
		echo "host all pw 127.0.0.1/32 scram-sha-256"
		cat "$PGDIR/data/pg_hba.conf"
	} > "$PGDIR/hba.new"
	pg_as cp "$PGDIR/hba.new" "$PGDIR/data/pg_hba.conf"
	pg_psql "SELECT pg_reload_conf()" > /dev/null
}

teardown_file() { pg_stop; }

setup() {
	sluice_setup pg-load sqlite-load jsonl-normalize
	DS=t$BATS_TEST_NUMBER
	export DS
}

# pgload ARGS...: pg-load into this test's dataset.
pgload() {
	pg-load "dbname=postgres" --dataset "$DS" "$@"
}

# q SQL: one query's rows, unaligned, "|" between columns.
q() {
	pg_psql "$1"
}

# pgdump [ARG...]: the dataset's tables and rows, for before/after
# comparisons (ARGs to pg_dump: -T to leave tables out).
pgdump() {
	pg_as "$PGBINDIR/pg_dump" -h "$PGHOST" -p "$PGPORT" -U postgres \
	    --schema="$DS" "$@" postgres | grep -v -e '^--' -e '^$' -e '^\\restrict' -e '^\\unrestrict'
}

# wait_for_lock true|false: until an advisory lock is held (true) or waited
# for (false), at most 20 s.
wait_for_lock() {
	local i
	for (( i = 0; i < 200; i++ )); do
		[[ $(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
		    AND granted = $1") -gt 0 ]] && return 0
		sleep 0.1
	done
	return 1
}

people() {
	local i
	for i in 1 2 3 4 5; do
		printf '{"ID":%d,"Name":"Person_%d","Age":%d,"City":"City_A"}\n' \
		    "$i" "$i" $((25 + i))
	done > people_1.jsonl
	for i in 3 4 5 6 7 8; do
		printf '{"ID":%d,"Name":"Person_%d","Age":%d,"City":"City_B","Occupation":"Job_%d"}\n' \
		    "$i" "$i" $((30 + i)) "$i"
	done > people_2.jsonl
}

@test "the zoomcamp homework: append gives 353, merge gives 266 over 8 rows, as in SQLite" {
	people
	run pgload -t people -m append people_1.jsonl
	assert_success
	run pgload -t people -m append people_2.jsonl
	assert_success
	assert_equal "$(q "SELECT sum(\"Age\"), count(*) FROM $DS.people")" "353|11"

	DS=${DS}m
	run pgload -t people -k ID people_1.jsonl
	assert_success
	run --separate-stderr pgload -t people -k ID people_2.jsonl
	assert_success
	assert_stderr_regex 'people \+3 ~3 =0 -0 committed'
	assert_equal "$(q "SELECT sum(\"Age\"), count(*) FROM $DS.people")" "266|8"
	assert_equal "$(q "SELECT count(*) FROM $DS.people WHERE \"Occupation\" IS NULL")" "2"

	sqlite-load -q -t people -k ID lite.db people_1.jsonl
	sqlite-load -q -t people -k ID lite.db people_2.jsonl
	assert_equal "$(sql lite.db 'SELECT sum(Age), count(*) FROM people')" "266|8"
}

@test "types: bigint and numeric exact, double, boolean, timestamptz, date, jsonb" {
	printf '%s\n' '{"id":9007199254740993,"big":123456789012345678901234567890,"f":0.1,"ok":true,"at":"2024-03-01T10:00:00+02:00","day":"2024-03-01","doc":{"a":[1,"x"]},"s":"tab\there back\\slash \"q\" é"}' > types.jsonl
	run pgload -t ty -k id types.jsonl
	assert_success
	assert_equal "$(q "SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_schema = '$DS' AND table_name = 'ty' AND column_name NOT LIKE '\\_sluice%' ORDER BY ordinal_position")" \
	    "id bigint
big numeric
f double precision
ok boolean
at timestamp with time zone
day date
doc jsonb
s text"
	assert_equal "$(q "SELECT id, big, f, ok, at AT TIME ZONE 'UTC', day, doc FROM $DS.ty")" \
	    "9007199254740993|123456789012345678901234567890|0.1|t|2024-03-01 08:00:00|2024-03-01|{\"a\": [1, \"x\"]}"
	assert_equal "$(q "SELECT s = E'tab\\there back\\\\slash \"q\" \\u00e9' FROM $DS.ty")" "t"
}

@test "nested rides: child tables; a second run leaves every row unchanged; a change replaces the children" {
	jsonl-normalize -t rides -k ride_id "$DATA/jsonl-normalize/rides.jsonl" > rides.singer
	run pgload rides.singer
	assert_success
	assert_equal "$(q "SELECT count(*) FROM $DS.rides")" "3"
	assert_equal "$(q "SELECT count(*) FROM $DS.rides__passengers")" \
	    "$(jq -s 'map(.passengers | length) | add' "$DATA/jsonl-normalize/rides.jsonl")"
	before=$(pgdump -T "$DS._sluice_*")

	run --separate-stderr pgload rides.singer
	assert_success
	assert_stderr_regex 'rides \+0 ~0 =3 -0'
	# Unchanged rows are not written: even their load id stays.
	assert_equal "$(pgdump -T "$DS._sluice_*")" "$before"

	# Ride 1 loses all its passengers but one.
	# (jq writes 23.50 as 23.5: only ride 1 goes through it.)
	{ head -n 1 "$DATA/jsonl-normalize/rides.jsonl" | jq -c '.passengers |= .[:1]'
	  tail -n +2 "$DATA/jsonl-normalize/rides.jsonl"; } |
	    jsonl-normalize -t rides -k ride_id > changed.singer
	run --separate-stderr pgload changed.singer
	assert_success
	assert_stderr_regex 'rides \+0 ~1 =2 -0'
	id1=$(q "SELECT _sluice_id FROM $DS.rides WHERE ride_id = 1")
	assert_equal "$(q "SELECT count(*) FROM $DS.rides__passengers WHERE _sluice_root_id = '$id1'")" "1"

	# The same in SQLite: the same rows.
	sqlite-load -q lite.db rides.singer
	sqlite-load -q lite.db changed.singer
	assert_equal "$(q "SELECT count(*) FROM $DS.rides__passengers")" \
	    "$(sql lite.db 'SELECT count(*) FROM rides__passengers')"
}

@test "a key twice in one load: the last row wins, with its own child rows only" {
	printf '%s\n' '{"id":1,"v":"a","xs":[1,2,3]}' '{"id":2,"v":"b","xs":[4]}' \
	    '{"id":1,"v":"c","xs":[5]}' | jsonl-normalize -t t -k id > s.singer
	run pgload s.singer
	assert_success
	assert_equal "$(q "SELECT id, v FROM $DS.t ORDER BY id")" "1|c
2|b"
	assert_equal "$(q "SELECT value FROM $DS.t__xs ORDER BY value")" "4
5"
}

@test "tombstones delete the row and its child rows; replace empties the family" {
	printf '%s\n' '{"id":1,"xs":[1,2]}' '{"id":2,"xs":[3]}' | jsonl-normalize -t t -k id > a.singer
	run pgload a.singer
	assert_success
	run --separate-stderr pgload -t t -k id <<<'{"id":1,"_sluice_deleted":true}'
	assert_success
	assert_stderr_regex 't \+0 ~0 =0 -1, t__xs \+0 ~0 =0 -2 committed'
	assert_equal "$(q "SELECT id FROM $DS.t")" "2"
	assert_equal "$(q "SELECT value FROM $DS.t__xs")" "3"

	printf '%s\n' '{"id":7,"xs":[]}' | jsonl-normalize -t t -k id > b.singer
	run pgload -m replace b.singer
	assert_success
	assert_equal "$(q "SELECT id FROM $DS.t")" "7"
	assert_equal "$(q "SELECT count(*) FROM $DS.t__xs")" "0"
}

@test "bad data in the middle: 65 with the line, and the dataset exactly as before" {
	printf '%s\n' '{"id":1,"a":"x"}' '{"id":2,"a":"y"}' > good.jsonl
	run pgload -t t -k id good.jsonl
	assert_success
	before=$(pgdump)
	printf '%s\n' '{"id":3,"a":"z"}' '{"id":4,"a":"w"}' '{"id":5' '{"id":6}' > bad.jsonl
	run --separate-stderr pgload -t t -k id bad.jsonl
	assert_failure 65
	assert_stderr_regex 'bad.jsonl:3: '
	assert_stderr_regex 'load rolled back'
	assert_equal "$(pgdump)" "$before"
}

@test "a value PostgreSQL refuses: 65 at the record's line, nothing loaded" {
	printf '%s\n' '{"at":"2024-01-01T00:00:00Z"}' '{"at":"2024-02-30T00:00:00Z"}' > d.jsonl
	run --separate-stderr pgload -t t -m append d.jsonl
	assert_failure 65
	assert_stderr_regex 'd.jsonl:2: '
	assert_equal "$(q "SELECT count(*) FROM information_schema.tables WHERE table_schema = '$DS' AND table_name = 't'")" "0"
	run --separate-stderr pgload -t t -m append <<<'{"s":"nul \u0000 here"}'
	assert_failure 65
	assert_stderr_regex 'U\+0000'
}

@test "a value refused many buffers and a COPY's worth of rows in: still its own line" {
	awk 'BEGIN { for (i = 1; i <= 130000; i++)
	    printf "{\"n\":%d,\"at\":\"%s\",\"pad\":\"xxxxxxxxxxxxxxxxxxxx\"}\n", i,
	    i == 120001 ? "2024-02-30T00:00:00Z" : "2024-01-01T00:00:00Z" }' > big.jsonl
	run --separate-stderr pgload -t t -m append big.jsonl
	assert_failure 65
	assert_stderr_regex 'big.jsonl:120001: '
	assert_equal "$(q "SELECT count(*) FROM information_schema.tables WHERE table_schema = '$DS' AND table_name = 't'")" "0"
}

@test "SLUICE_ABORT from upstream rolls the load back" {
	run pgload -t t -k id <<<'{"id":1}'
	assert_success
	before=$(pgdump)
	run -65 pgload -t t -k id <<<$'{"id":2}\nSLUICE_ABORT pgfetch 75 upstream failed'
	assert_equal "$(pgdump)" "$before"
}

@test "state: merged, committed with the rows, echoed after the commit, read by --state-get" {
	printf '%s\n' '{"type":"RECORD","stream":"s","record":{"id":1}}' \
	    '{"type":"STATE","value":{"bookmarks":{"s":{"since":"a"}},"other":1}}' > 1.singer
	run --separate-stderr pgload -k id 1.singer
	assert_success
	assert_output '{"type":"STATE","value":{"bookmarks":{"s":{"since":"a"}},"other":1}}'
	printf '%s\n' '{"type":"RECORD","stream":"s","record":{"id":2}}' \
	    '{"type":"STATE","value":{"bookmarks":{"s":{"since":"b"}},"other":null}}' > 2.singer
	run pgload -k id 2.singer
	assert_success
	run --separate-stderr pgload --state-get bookmarks.s.since
	assert_success
	assert_output b
	assert_equal "$(q "SELECT value FROM $DS._sluice_state ORDER BY id DESC LIMIT 1")" \
	    '{"bookmarks": {"s": {"since": "b"}}}'
	run --separate-stderr pgload --state-get other
	assert_success
	assert_output ''

	# A load that fails echoes nothing and stores nothing.
	printf '%s\n' '{"type":"STATE","value":{"bookmarks":{"s":{"since":"c"}}}}' \
	    '{"type":"RECORD","stream":"s","record":{"id":"x"}}' > 3.singer
	run --separate-stderr pgload -k id --on-type-conflict fail 3.singer
	assert_failure 65
	assert_output ''
	run --separate-stderr pgload --state-get bookmarks.s.since
	assert_output b
}

@test "the Singer corpus loads, twice, with the same rows after the second run" {
	for f in user_location_data user_location_upsert_data schema_updates \
	    multiple_state_messages test_activate_version_hard; do
		run pgload "$SINGER/$f.singer"
		assert_success
	done
	first=$(pgdump -T "$DS._sluice_*")
	run pgload "$SINGER/user_location_upsert_data.singer"
	assert_success
	assert_equal "$(pgdump -T "$DS._sluice_*")" "$first"
	assert_equal "$(q "SELECT count(*) FROM $DS.test_users")" \
	    "$(sqlite-load -q lite.db "$SINGER/user_location_data.singer" "$SINGER/user_location_upsert_data.singer" > /dev/null &&
	    sql lite.db 'SELECT count(*) FROM test_users')"
}

@test "ACTIVATE_VERSION deletes the older versions' rows" {
	run pgload "$SINGER/test_activate_version_hard.singer"
	assert_success
	sqlite-load -q lite.db "$SINGER/test_activate_version_hard.singer"
	t=$(sql lite.db "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_sluice%' ESCAPE '\\' LIMIT 1")
	assert_equal "$(q "SELECT count(*) FROM $DS.\"$t\"")" "$(sql lite.db "SELECT count(*) FROM \"$t\"")"
}

@test "--activate-version soft marks the older versions' rows, as in SQLite" {
	run pgload --activate-version soft "$SINGER/test_activate_version_hard.singer"
	assert_success
	sqlite-load -q --activate-version soft lite.db "$SINGER/test_activate_version_hard.singer"
	t=$(sql lite.db "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_sluice%' ESCAPE '\\' LIMIT 1")
	marked=$(sql lite.db "SELECT count(*) FROM \"$t\" WHERE _sluice_deleted_at IS NOT NULL")
	[[ $marked -gt 0 ]] || fail "SQLite marked nothing"
	assert_equal "$(q "SELECT count(*) FROM $DS.\"$t\" WHERE _sluice_deleted_at IS NOT NULL")" "$marked"
	assert_equal "$(q "SELECT count(*) FROM $DS.\"$t\"")" "$(sql lite.db "SELECT count(*) FROM \"$t\"")"
}

@test "a dataset named with a quote and a space: tables, state and --state-get in it" {
	printf '%s\n' '{"type":"RECORD","stream":"s","record":{"id":1}}' \
	    '{"type":"STATE","value":{"n":1}}' > q.singer
	run --separate-stderr pg-load "dbname=postgres" --dataset 'my "ds"' -k id q.singer
	assert_success
	assert_equal "$(q 'SELECT count(*) FROM "my ""ds""".s')" "1"
	run --separate-stderr pg-load "dbname=postgres" --dataset 'my "ds"' --state-get n
	assert_success
	assert_output 1
}

@test "--on-error skip: the bad record is left out, the rest load" {
	printf '%s\n' '{"id":1,"n":1}' '{"id":2,"n":"two"}' '{"id":3,"n":3}' > m.jsonl
	run pgload -t t -k id --on-error skip --on-type-conflict fail m.jsonl
	assert_success
	assert_equal "$(q "SELECT id FROM $DS.t ORDER BY id")" "1
3"
}

@test "micro-batches: --commit-every commits at STATE, one load each" {
	for i in 1 2 3; do
		printf '{"type":"RECORD","stream":"s","record":{"id":%d}}\n{"type":"STATE","value":{"n":%d}}\n' "$i" "$i"
	done > b.singer
	run pgload -k id --load-id L --commit-every 1 b.singer
	assert_success
	assert_equal "$(q "SELECT load_id FROM $DS._sluice_loads ORDER BY load_id")" "L
L.2
L.3"
	assert_equal "$(q "SELECT count(*) FROM $DS.s")" "3"
}

@test "--stats: the load's id, status and per-table counts" {
	run pgload -t t -k id --load-id S1 --stats st.json <<<'{"id":1}'
	assert_success
	assert_equal "$(jq -c '[.load_id, .status, .tables.t.inserted]' st.json)" '["S1","committed",1]'
	assert_equal "$(q "SELECT tables->'t'->>'inserted' FROM $DS._sluice_loads WHERE load_id = 'S1'")" "1"
	run pgload -t t -k id --load-id S1 <<<'{"id":2}'
	assert_failure 64
}

@test "names: 63 bytes at most; case is kept, so ID and id are two columns" {
	long=$(printf 'a%.0s' $(seq 64))
	run --separate-stderr pgload -t "$long" <<<'{"x":1}'
	assert_failure 65
	assert_stderr_regex '63 bytes'
	run pgload -t T <<<'{"ID":1,"id":2}'
	assert_success
	assert_equal "$(q "SELECT \"ID\", id FROM $DS.\"T\"")" "1|2"
}

@test "kill -9 mid-load: nothing of it is stored, and the next load goes on" {
	run pgload -t t -m append <<<'{"n":0}'
	assert_success
	before=$(pgdump)
	# More than one COPY buffer, so rows reach the server before the kill.
	seq 1 60000 | sed 's/.*/{"n":&,"pad":"xxxxxxxxxxxxxxxxxxxxxxxx"}/' > big.jsonl
	slow_feed big.jsonl 3>&- | pgload -t t -m append 3>&- &
	wait_for_file fed 20
	sleep 0.5
	pkill -9 -f -- "--dataset $DS -t t -m append"
	: > stop
	wait_pid_bounded $! 20
	assert_equal "$WAIT_STATUS" 137
	assert_equal "$(pgdump)" "$before"
	run pgload -t t -m append <<<'{"n":1}'
	assert_success
	assert_equal "$(q "SELECT count(*) FROM $DS.t")" "2"
}

@test "SIGTERM mid-load: the load rolls back and pg-load dies of the signal" {
	run pgload -t t -m append <<<'{"n":0}'
	assert_success
	before=$(pgdump)
	seq 1 60000 | sed 's/.*/{"n":&,"pad":"xxxxxxxxxxxxxxxxxxxxxxxx"}/' > big.jsonl
	slow_feed big.jsonl 3>&- | pgload -t t -m append --stats st.json 2> err 3>&- &
	pid=$!
	wait_for_file fed 20
	sleep 0.5
	pkill -TERM -f -- "--dataset $DS -t t -m append --stats"
	: > stop
	wait_pid_bounded "$pid" 20
	assert_equal "$WAIT_STATUS" 143
	assert_equal "$(jq -r .status st.json)" rolled_back
	assert_equal "$(pgdump)" "$before"
}

@test "the server restarts mid-load: 75, and the dataset as it was" {
	run pgload -t t -m append <<<'{"n":0}'
	assert_success
	before=$(pgdump)
	seq 1 60000 | sed 's/.*/{"n":&,"pad":"xxxxxxxxxxxxxxxxxxxxxxxx"}/' > big.jsonl
	slow_feed big.jsonl 3>&- | pgload -t t -m append > out 2> err 3>&- &
	pid=$!
	wait_for_file fed 20
	pg_as "$PGBINDIR/pg_ctl" -D "$PGDIR/data" -m fast -w restart > /dev/null
	: > stop
	wait_pid_bounded "$pid" 30
	# The pipeline's status is pg-load's.
	assert_equal "$WAIT_STATUS" 75
	grep -q 'connection' err || fail "$(cat err)"
	assert_equal "$(pgdump)" "$before"
}

@test "two loaders of one table at once: both commit, the merge is right" {
	seq 1 2000 | sed 's/.*/{"id":&,"v":"a"}/' > a.jsonl
	seq 1001 3000 | sed 's/.*/{"id":&,"v":"b"}/' > b.jsonl
	slow_feed a.jsonl 3>&- | pgload -t t -k id > a.out 2>&1 3>&- &
	pa=$!
	# The first holds the table's lock once it has its first record...
	wait_for_lock true
	# ...the second waits for it, then merges over the first's rows.
	pgload -t t -k id b.jsonl > b.out 2>&1 3>&- &
	pb=$!
	wait_for_lock false || fail "the second loader did not wait: $(cat b.out)"
	kill -0 "$pb" || fail "the second loader did not wait: $(cat b.out)"
	: > stop
	wait_pid_bounded "$pa" 30
	assert_equal "$WAIT_STATUS" 0
	wait_pid_bounded "$pb" 30
	assert_equal "$WAIT_STATUS" 0
	assert_equal "$(q "SELECT count(*), count(*) FILTER (WHERE v = 'b') FROM $DS.t")" "3000|2000"
}

@test "the password only from the environment; one in the connection string is hidden" {
	conn="host=127.0.0.1 port=$PGPORT dbname=postgres user=pw"
	run env -u PGPASSWORD pg-load "$conn" --dataset "$DS" -t t <<<'{"a":1}'
	assert_failure 77
	refute_output --partial sesame
	PGPASSWORD=sesame-7f3a run pg-load "$conn" --dataset "$DS" -t t <<<'{"a":1}'
	assert_success

	# Written in the string anyway: blanked out of the process list, never shown.
	slow_feed /dev/null 3>&- | pg-load "$conn password=sesame-7f3a" --dataset "$DS" -t t 2> err 3>&- &
	wait_for_file fed 20
	sleep 0.3
	ps -eo args > ps.txt
	: > stop
	wait
	grep -q 'pg-load' ps.txt || fail "pg-load not seen in ps"
	run grep -c sesame ps.txt
	assert_output 0
	run grep -c sesame err
	assert_output 0
	run env -u PGPASSWORD pg-load "host=127.0.0.1 port=$PGPORT dbname=nosuch user=pw password=wrong-secret" -t t <<<'{"a":1}'
	assert_failure 77
	refute_output --partial wrong-secret
}

@test "a server that cannot be reached: retried, then 75" {
	port=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	run pg-load "host=127.0.0.1 port=$port dbname=postgres connect_timeout=2" -t t <<<'{"a":1}'
	assert_failure 75
	assert_output --partial 'after 4 attempts'
}

@test "scd2: versions kept as sqlite-load keeps them, children follow the current version" {
	printf '%s\n' '{"id":1,"v":"a","xs":[1]}' '{"id":2,"v":"b","xs":[2]}' \
	    '{"id":3,"v":"c"}' | jsonl-normalize -t t -k id > v1.singer
	printf '%s\n' '{"id":1,"v":"a","xs":[1]}' '{"id":2,"v":"B","xs":[5,6]}' \
	    '{"id":4,"v":"d"}' | jsonl-normalize -t t -k id > v2.singer
	printf '%s\n' '{"id":4,"_sluice_deleted":true}' > v3.jsonl
	for f in v1.singer v2.singer; do
		run --separate-stderr pgload -m scd2 --scd2-retire-absent "$f"
		assert_success
		sqlite-load -q -m scd2 --scd2-retire-absent lite.db "$f"
	done
	assert_stderr_regex 't \+2 ~1 =0 -1, t__xs \+3 ~0 =0 -2 committed'
	run pgload -m scd2 -t t -k id v3.jsonl
	assert_success
	sqlite-load -q -m scd2 -t t -k id lite.db v3.jsonl
	assert_equal "$(q "SELECT id, v, _sluice_valid_to IS NULL FROM $DS.t ORDER BY id, v")" \
	    "$(sql lite.db "SELECT id, v, CASE WHEN _sluice_valid_to IS NULL THEN 't' ELSE 'f' END FROM t ORDER BY id, v")"
	assert_equal "$(q "SELECT count(*) FROM $DS.t WHERE _sluice_valid_to IS NULL")" "2"
	# Every child row belongs to a current version.
	assert_equal "$(q "SELECT count(*) FROM $DS.t__xs c JOIN $DS.t r ON c._sluice_root_id = r._sluice_id AND r._sluice_valid_to IS NULL")" "3"
	assert_equal "$(q "SELECT string_agg(value::text, ',' ORDER BY value) FROM $DS.t__xs")" "1,5,6"
}

# load_files: the nightly job over in/*.jsonl into PostgreSQL: the
# bookmark pg-load committed, handed to pgfetch as a state document.
load_files() {
	pgload -q --state-get . > state.json &&
	    pgfetch -m -s orders --state state.json --file-column file \
	    'in/*.jsonl' | pgload -k id
}

@test "incremental file sets into PostgreSQL: pgfetch --state from pg-load --state-get ., each file once" {
	sluice_setup pgfetch pg-load
	mkdir in
	drop_file in/a.jsonl 1700000100 '{"id":1}' '{"id":2}'
	load_files || fail "first run failed"
	assert_equal "$(q "SELECT string_agg(id || ':' || file, ',' ORDER BY id) FROM $DS.orders")" \
	    "1:in/a.jsonl,2:in/a.jsonl"
	# A new file: only it.  Then nothing new: nothing loaded.
	drop_file in/b.jsonl 1700000200 '{"id":3}'
	load_files || fail "second run failed"
	assert_equal "$(jq -cS .bookmarks.orders state.json)" \
	    '{"file_mtime":1700000100,"file_name":"in/a.jsonl"}'
	load_files || fail "third run failed"
	assert_equal "$(jq -r .bookmarks.orders.file_name state.json)" in/b.jsonl
	# Each row came once: inserted by one load, never seen again.
	assert_equal "$(q "SELECT sum((tables->'orders'->>'inserted')::int),
	    sum((tables->'orders'->>'updated')::int +
	    (tables->'orders'->>'unchanged')::int) FROM $DS._sluice_loads")" "3|0"
	assert_equal "$(q "SELECT string_agg(id::text, ',' ORDER BY id) FROM $DS.orders")" "1,2,3"
	assert_equal "$(pgload --state-get bookmarks.orders.file_name)" in/b.jsonl
	# A run that fails on a bad file loads nothing, the bookmark stays;
	# once it is fixed, the next run loads it, once.
	drop_file in/c.jsonl 1700000300 '{"id":4}' '{"id":'
	run load_files
	[ "$status" -eq 65 ]
	assert_equal "$(q "SELECT count(*) FROM $DS.orders")" 3
	assert_equal "$(pgload --state-get bookmarks.orders.file_name)" in/b.jsonl
	drop_file in/c.jsonl 1700000300 '{"id":4}' '{"id":5}'
	load_files || fail "the run after the fix failed"
	assert_equal "$(q "SELECT string_agg(id::text, ',' ORDER BY id) FROM $DS.orders")" "1,2,3,4,5"
	assert_equal "$(pgload --state-get bookmarks.orders.file_mtime)" 1700000300
}
