#!/usr/bin/env bats
# cdc-decode against a real PostgreSQL 15 with wal2json (issue 14): what
# happens in PostgreSQL ends up as the same table in SQLite; transactions
# stay whole; a replayed spool changes nothing; bad events follow
# --on-error.  The cluster is started once for the file (tests/pg.bash).

bats_require_minimum_version 1.5.0
load helper
load pg

setup_file() {
	pg_start
	pg_psql "CREATE TABLE orders (id serial PRIMARY KEY, amount numeric(12,2),
	    big numeric(40,10), note text, placed_at timestamptz, local_at timestamp,
	    tags text[], ids integer[], meta jsonb, flag boolean, qty integer,
	    price double precision, day date)"
}

teardown_file() { pg_stop; }

setup() {
	sluice_setup cdc-decode sqlite-load
	SLOT=s$BATS_TEST_NUMBER
	pg_psql "TRUNCATE orders" "SELECT setval('orders_id_seq', 1, false)" > /dev/null
	pg_slot "$SLOT"
}

teardown() {
	pg_psql "SELECT pg_drop_replication_slot('$SLOT')" > /dev/null 2>&1 || true
}

# same_table DB: the orders table of PostgreSQL and of SQLite DB, row by
# row, as text that both print alike.
same_table() {
	local cols="id, amount, big, note, flag, qty, price, day"
	pg_psql "COPY (SELECT $cols FROM orders ORDER BY id) TO STDOUT WITH (FORMAT csv)" > pg.csv
	sqlite3 -batch -csv "$1" "SELECT id, amount, big, note,
	    CASE flag WHEN 1 THEN 't' WHEN 0 THEN 'f' END, qty, price, day
	    FROM orders ORDER BY id" > lite.csv
	diff pg.csv lite.csv || fail "PostgreSQL and SQLite differ"
}

@test "inserts, updates, deletes, a new column and a TRUNCATE: the same table in SQLite" {
	pg_psql "INSERT INTO orders (amount, big, note, placed_at, local_at, tags, ids, meta, flag, qty, price, day)
	    VALUES (99999999.99, 123456789012345678901234567890.0123456789, 'a \"q\" é',
	    '2024-05-01 10:00:00.5+02', '2024-05-01 10:00:00', '{x,\"y z\",NULL}', '{1,2}',
	    '{\"k\": [1, 2]}', true, 3, 1.5, '2024-02-29'),
	    (0.01, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, NULL, NULL, NULL)"
	pg_psql "BEGIN; UPDATE orders SET amount = 1.10, note = 'upd' WHERE id = 1;
	    DELETE FROM orders WHERE id = 2; INSERT INTO orders (amount) VALUES (7); COMMIT"
	pg_spool "$SLOT" spool.json
	run -0 --separate-stderr bash -c 'cdc-decode spool.json | sqlite-load t.db'
	same_table t.db
	# Exact numbers; timestamps in UTC; arrays and json as JSON.
	assert_equal "$(sql t.db "SELECT amount, big FROM orders WHERE id = 1")" \
	    '1.10|123456789012345678901234567890.0123456789'
	assert_equal "$(sql t.db "SELECT placed_at, local_at, tags, ids, meta FROM orders WHERE id = 1")" \
	    '2024-05-01T08:00:00.5Z|2024-05-01T10:00:00Z|["x","y z",null]|[1,2]|{"k":[1,2]}'
	# A column added in PostgreSQL, then a TRUNCATE and a row after it.
	pg_psql "ALTER TABLE orders ADD COLUMN extra text" \
	    "INSERT INTO orders (amount, extra) VALUES (5, 'new col')"
	pg_psql "BEGIN; INSERT INTO orders (amount) VALUES (8); TRUNCATE orders;
	    INSERT INTO orders (amount, extra) VALUES (9, 'after'); COMMIT"
	: > spool.json
	pg_spool "$SLOT" spool.json
	run -0 --separate-stderr bash -c 'cdc-decode --state-from t.db spool.json | sqlite-load t.db'
	same_table t.db
	assert_equal "$(sql t.db "SELECT id, amount, extra FROM orders")" '6|9.00|after'
	pg_psql "ALTER TABLE orders DROP COLUMN extra"
}

@test "a replayed spool loads nothing twice; the bookmark is the last commit" {
	pg_psql "INSERT INTO orders (amount) VALUES (1), (2)" \
	    "UPDATE orders SET amount = 3 WHERE id = 1"
	pg_spool "$SLOT" spool.json
	cdc-decode spool.json | sqlite-load t.db 2> err
	dump t.db > before
	local last
	last=$(jq -r 'select(.action == "C") | .lsn' spool.json | tail -n 1)
	assert_equal "$(sqlite-load t.db --state-get bookmarks.cdc.lsn)" "$last"
	# The same spool again: every transaction is dropped, nothing written.
	run -0 --separate-stderr cdc-decode --state-from t.db --stats st.json spool.json
	assert_output ''
	jq -e '.transactions == 0 and .skipped == 2' st.json > /dev/null || fail "$(cat st.json)"
	cdc-decode --state-from t.db spool.json | sqlite-load t.db 2> err
	dump t.db > after
	# One load more in _sluice_loads, and no row changed.
	diff <(grep -v _sluice_loads before) <(grep -v _sluice_loads after) ||
	    fail "the replay changed the tables"
	same_table t.db
}

@test "--state FILE: the bookmark pg-load committed, handed back as a state document; a replay loads nothing twice" {
	sluice_setup cdc-decode pg-load
	pg_psql "INSERT INTO orders (amount) VALUES (1), (2)" \
	    "UPDATE orders SET amount = 3 WHERE id = 1"
	pg_spool "$SLOT" spool.json
	local ds=cdc_$SLOT last
	last=$(jq -r 'select(.action == "C") | .lsn' spool.json | tail -n 1)
	# Into PostgreSQL, a dataset of its own; no state yet: all of it.
	pg-load -q "dbname=postgres" --dataset "$ds" --state-get . > state.json
	[[ ! -s state.json ]] || fail "a state before any load: $(cat state.json)"
	cdc-decode --state state.json spool.json |
	    pg-load "dbname=postgres" --dataset "$ds" 2> err || fail "$(cat err)"
	assert_equal "$(pg-load "dbname=postgres" --dataset "$ds" --state-get bookmarks.cdc.lsn)" "$last"
	assert_equal "$(pg_psql "SELECT string_agg(id || ':' || amount, ',' ORDER BY id) FROM $ds.orders")" \
	    "$(pg_psql "SELECT string_agg(id || ':' || amount, ',' ORDER BY id) FROM orders")"
	# The same spool again, with the state that load committed: nothing.
	pg-load -q "dbname=postgres" --dataset "$ds" --state-get . > state.json
	run -0 --separate-stderr cdc-decode --state state.json --stats st.json spool.json
	assert_output ''
	jq -e '.transactions == 0 and .skipped == 2' st.json > /dev/null || fail "$(cat st.json)"
	# What does not go: both sources of the bookmark; a file for --slot,
	# which reads the destination's position again each second.
	run -64 --separate-stderr cdc-decode --state state.json --state-from t.db spool.json
	assert_stderr_partial "--state-from and --state: one or the other"
	run -64 --separate-stderr cdc-decode --slot s --state state.json "host=$PGHOST"
	assert_stderr_partial "--state FILE is read once"
	printf '{"bookmarks":{"cdc":{"lsn":"not/an/lsn"}}}' > bad.json
	run -65 --separate-stderr cdc-decode --state bad.json spool.json
	assert_stderr_partial "bad.json: the bookmark bookmarks.cdc.lsn is no LSN"
	run -66 --separate-stderr cdc-decode --state nosuch.json spool.json
	assert_stderr_partial "--state: nosuch.json: No such file or directory"
	pg_psql "DROP SCHEMA $ds CASCADE" > /dev/null
}

@test "a spool cut inside a transaction loads none of it; the whole spool later loads it once" {
	pg_psql "INSERT INTO orders (amount) VALUES (1)"
	pg_psql "BEGIN; INSERT INTO orders (amount) SELECT g FROM generate_series(2, 50) g;
	    UPDATE orders SET note = 'x' WHERE id = 1; COMMIT"
	pg_spool "$SLOT" spool.json
	# Cut after the second transaction's tenth change.
	local begin2
	begin2=$(grep -n '"action":"B"' spool.json | sed -n 2p | cut -d: -f1)
	head -n $(( begin2 + 10 )) spool.json > cut.json
	run -0 --separate-stderr bash -c 'cdc-decode cut.json | sqlite-load t.db'
	assert_stderr_partial "cdc-decode: the input ended inside the transaction begun at line $begin2: none of it written (10 changes)"
	assert_equal "$(sql t.db 'SELECT count(*), max(note) FROM orders')" '1|'
	run -0 --separate-stderr bash -c 'cdc-decode --state-from t.db spool.json | sqlite-load t.db'
	same_table t.db
	assert_equal "$(sql t.db 'SELECT count(*) FROM orders')" 50
}

@test "a large transaction spills past --memory and loads whole" {
	pg_psql "INSERT INTO orders (amount, note) SELECT g, repeat('n', 100) FROM generate_series(1, 20000) g"
	pg_spool "$SLOT" spool.json
	run -0 --separate-stderr bash -c 'TMPDIR=$PWD cdc-decode --memory 256K --stats st.json spool.json | sqlite-load t.db'
	assert_equal "$(sql t.db 'SELECT count(*), CAST(sum(amount) AS INTEGER) FROM orders')" '20000|200010000'
	jq -e '.transactions == 1 and .changes == 20000' st.json > /dev/null || fail "$(cat st.json)"
	# The spill file was removed.
	[[ -z $(ls cdc-decode.* 2>/dev/null) ]] || fail "a spill file was left"
}

@test "bad events: the line and 65 by default; --on-error skip goes on" {
	pg_psql "INSERT INTO orders (amount) VALUES (1)"
	pg_spool "$SLOT" spool.json
	{ head -n 1 spool.json; echo 'not json'; tail -n +2 spool.json; } > bad.json
	run -65 --separate-stderr cdc-decode bad.json
	assert_stderr_partial 'cdc-decode: bad.json:2:'
	assert_equal "$(tail -n 1 <<<"$output" | jq -r .type)" SLUICE_ABORT
	{ head -n 1 spool.json; echo '{"action":"Q","table":"orders"}';
	    echo '{"action":"D","schema":"public","table":"orders","lsn":"0/1"}';
	    tail -n +2 spool.json; } > bad2.json
	run -0 --separate-stderr cdc-decode --on-error skip bad2.json
	assert_stderr_partial 'bad2.json:2: unknown action "Q"'
	assert_stderr_partial 'bad2.json:3: a delete without identity'
	# The record, its number's text as PostgreSQL wrote it.
	assert_equal "$(grep '"type":"RECORD"' <<<"$output" | grep -o '"amount":[^,]*')" '"amount":1.00'
}

@test "options: --qualify names streams schema__table; --bookmark; usage errors" {
	pg_psql "INSERT INTO orders (amount) VALUES (1)"
	pg_spool "$SLOT" spool.json
	run -0 --separate-stderr cdc-decode --qualify --bookmark pg1 spool.json
	assert_equal "$(jq -r 'select(.type == "RECORD") | .stream' <<<"$output")" public__orders
	assert_equal "$(tail -n 1 <<<"$output" | jq -r '.value.bookmarks | keys[0]')" pg1
	run -64 --separate-stderr cdc-decode --bookmark a.b spool.json
	run -64 --separate-stderr cdc-decode --format avro spool.json
	run -64 --separate-stderr cdc-decode --memory 1 spool.json
}

@test "cdc-decode(1) examples run against a spool of the server" {
	pg_psql "INSERT INTO orders (amount) VALUES (1), (2)" "DELETE FROM orders WHERE id = 1"
	pg_spool "$SLOT" spool.json
	local cmd n=0
	while IFS= read -r cmd; do
		n=$((n + 1))
		run -0 --separate-stderr bash -c "$cmd"
	done < <(man_examples cdc-decode.1)
	assert_equal "$n" 2
	# The last example printed the bookmark: the spool's last commit.
	assert_equal "$output" "$(jq -r 'select(.action == "C") | .lsn' spool.json | tail -n 1)"
	same_table dw.db
}

@test "live: pg_recvlogical | cdc-decode | sqlite-load --commit-interval 1: a commit in PostgreSQL is in SQLite within about two seconds" {
	local pid i t0 t1
	# The pipeline, live; it is stopped at the end of the test.
	bash -c 'exec "$0" -d postgres --slot "$1" --start -o format-version=2 \
	    -o include-pk=1 -o include-lsn=1 -f - 2>>live.err |
	    cdc-decode --state-from live.db 2>>live.err |
	    sqlite-load --commit-interval 1 live.db > live.out 2>>live.err' \
	    "$PGBINDIR/pg_recvlogical" "$SLOT" &
	pid=$!
	sleep 1
	for i in 1 2 3; do
		t0=$(date +%s%N)
		pg_psql "INSERT INTO orders (amount, note) VALUES ($i, 'live-$i')"
		until [[ $(sql live.db "SELECT count(*) FROM orders WHERE note = 'live-$i'" 2>/dev/null) == 1 ]]; do
			(( $(date +%s%N) - t0 < 10000000000 )) || break
			sleep 0.05
		done
		t1=$(date +%s%N)
		assert_equal "$(sql live.db "SELECT count(*) FROM orders WHERE note = 'live-$i'")" 1
		(( (t1 - t0) / 1000000 < 3000 )) || fail "change $i took $(( (t1 - t0) / 1000000 )) ms to reach SQLite"
	done
	# Each commit echoed its STATE at once: the last is the last commit's.
	assert_equal "$(tail -n 1 live.out | jq -r .value.bookmarks.cdc.lsn)" \
	    "$(sqlite-load live.db --state-get bookmarks.cdc.lsn)"
	pkill -TERM -P "$pid" 2>/dev/null || true
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	same_table live.db
}

@test "a 1,000,000-row transaction under --memory 16M: loaded whole, cdc-decode's memory flat" {
	[[ -x /usr/bin/time ]] || skip "no /usr/bin/time"
	pg_psql "INSERT INTO orders (amount) SELECT g % 1000 FROM generate_series(1, 1000000) g"
	pg_spool "$SLOT" spool.json
	/usr/bin/time -f %M -o rss cdc-decode --memory 16M --stats st.json spool.json 2> err |
	    sqlite-load -q t.db || fail "the load failed: $(cat err)"
	jq -e '.transactions == 1 and .changes == 1000000' st.json > /dev/null || fail "$(cat st.json)"
	assert_equal "$(sql t.db 'SELECT count(*), CAST(sum(amount) AS INTEGER) FROM orders')" '1000000|499500000'
	[[ -z $(ls "${TMPDIR:-/tmp}"/cdc-decode.* 2>/dev/null) ]] || fail "a spill file was left"
	sanitized cdc-decode && skip "RSS is not measured under ASan"
	local kb
	kb=$(tail -n 1 rss)
	(( kb < 48 * 1024 )) || fail "cdc-decode's peak RSS was $kb KB"
}

# live_pipeline: cdc-decode streaming the slot $SLOT (made if missing) into
# sqlite-load --commit-interval 1 live.db, in the background; its pid in
# $LIVE_PID, cdc-decode's in $DECODE_PID.
live_pipeline() {
	# Not the pid of a pipeline before: it may be read before it is written.
	rm -f decode.pid
	(
		cdc-decode --slot "$SLOT" --create-slot --state-from live.db \
		    "host=$PGHOST port=$PGPORT user=postgres dbname=postgres" 2>>live.err &
		echo $! > decode.pid
		wait
	) | sqlite-load --commit-interval 1 live.db >> live.out 2>>live.err &
	LIVE_PID=$!
	local i
	for (( i = 0; i < 50; i++ )); do
		[[ -s decode.pid ]] && break
		sleep 0.1
	done
	DECODE_PID=$(cat decode.pid)
}

# rows_in DB N: wait (10 s at most) until DB's orders has N rows.
rows_in() {
	local i
	for (( i = 0; i < 100; i++ )); do
		[[ $(sql "$1" 'SELECT count(*) FROM orders' 2>/dev/null) == "$2" ]] && return 0
		sleep 0.1
	done
	fail "$1 has $(sql "$1" 'SELECT count(*) FROM orders' 2>/dev/null) rows, not $2: $(cat live.err)"
}

@test "live mode: cdc-decode --slot confirms only what SQLite committed; kill -9 and a restart miss and double nothing" {
	pg_psql "SELECT pg_drop_replication_slot('$SLOT')" > /dev/null
	live_pipeline
	pg_psql "INSERT INTO orders (amount) VALUES (1), (2)" "INSERT INTO orders (amount) VALUES (3)"
	rows_in live.db 3
	# The server was told what SQLite holds, no more.
	local i bookmark confirmed
	for (( i = 0; i < 30; i++ )); do
		bookmark=$(sqlite-load live.db --state-get bookmarks.cdc.lsn)
		confirmed=$(pg_psql "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '$SLOT'")
		[[ $confirmed == "$bookmark" ]] && break
		sleep 0.1
	done
	assert_equal "$confirmed" "$bookmark"
	# cdc-decode dies by SIGKILL; changes go on meanwhile.
	kill -9 "$DECODE_PID"
	wait_pid_bounded "$LIVE_PID" 10
	pg_psql "UPDATE orders SET amount = 20 WHERE id = 2" "DELETE FROM orders WHERE id = 1" \
	    "INSERT INTO orders (amount) SELECT g FROM generate_series(4, 10) g"
	# Restarted: the server sends what was not confirmed, once.
	live_pipeline
	rows_in live.db 9
	sleep 1
	kill "$DECODE_PID"
	wait_pid_bounded "$LIVE_PID" 10
	same_table live.db
	assert_equal "$(sql live.db 'SELECT count(*), count(DISTINCT id) FROM orders')" '9|9'
	# The connection string names no password in any message.
	[[ $(cat live.err) != *password* ]] || fail "$(cat live.err)"
}

@test "live mode: usage errors, and a server that cannot be reached (75)" {
	run -64 --separate-stderr cdc-decode --slot s "host=$PGHOST"
	assert_stderr_partial '--state-from DB'
	run -64 --separate-stderr cdc-decode --create-slot --state-from x.db spool.json
	run -75 --separate-stderr cdc-decode --slot s --state-from x.db \
	    "postgresql://nobody:s3cret-pw@127.0.0.1:1/db?connect_timeout=2"
	assert_stderr_partial 'password=***'
	[[ $stderr != *s3cret-pw* ]] || fail "the password was printed: $stderr"
}
