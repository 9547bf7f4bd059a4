#!/usr/bin/env bats
# cdc-decode --format debezium (issue 14): Debezium's change events from a
# recorded file (no Kafka broker can be installed here), with and without
# Kafka Connect's schema envelope: the same tables in SQLite, exact
# decimals and UTC timestamps from the envelope's logical types, a replay
# that loads nothing twice, and the errors.

bats_require_minimum_version 1.5.0
load helper

setup() {
	sluice_setup cdc-decode sqlite-load
	D=$DATA/debezium
}

# tables DB: the rows of the source's tables in DB, as text.
tables() {
	sql "$1" 'SELECT * FROM orders ORDER BY id'
	sql "$1" 'SELECT * FROM logs ORDER BY id'
}

@test "debezium: envelope events load as the source's tables, typed by the envelope" {
	run -0 --separate-stderr bash -c 'cdc-decode --format debezium -k id "$1" | sqlite-load t.db' _ "$D/shop.envelope.jsonl"
	assert_equal "$(sql t.db 'SELECT id, amount, note, created, day, placed_at, paid, weight, meta FROM orders')" \
	    '1|5.00|upd|2024-05-01T10:00:00.500000Z|2024-02-29|2024-05-01T08:00:00.5Z|1|1.5|{"k":[1,2]}'
	# The delete and the truncate: only the row after the truncate is left.
	assert_equal "$(sql t.db 'SELECT id, msg FROM logs')" '11|eleven'
	assert_equal "$(sqlite-load t.db --state-get bookmarks.cdc.lsn)" 0/19A
	# Exact decimals, negative ones too, from the bytes.
	run -0 --separate-stderr cdc-decode --format debezium -k id "$D/shop.envelope.jsonl"
	assert_equal "$(grep '"id":2,"amount"' <<<"$output" | grep -o '"amount":[^,]*')" '"amount":-1.50'
	assert_equal "$(grep -c '"type":"STATE"' <<<"$output")" 4
}

@test "debezium: a replay with --state-from loads nothing twice" {
	cdc-decode --format debezium -k id "$D/shop.envelope.jsonl" | sqlite-load t.db 2> err
	tables t.db > before
	run -0 --separate-stderr cdc-decode --format debezium -k id --state-from t.db --stats st.json "$D/shop.envelope.jsonl"
	assert_output ''
	jq -e '.transactions == 0 and .skipped == 4' st.json > /dev/null || fail "$(cat st.json)"
	# Half the events already loaded: only the rest comes out.
	head -n 4 "$D/shop.envelope.jsonl" > half.jsonl
	cdc-decode --format debezium -k id half.jsonl | sqlite-load t2.db 2> err
	run -0 --separate-stderr cdc-decode --format debezium -k id --state-from t2.db "$D/shop.envelope.jsonl"
	assert_equal "$(jq -r 'select(.type == "RECORD") | "\(.stream) \(.record.id)"' <<<"$output" | tr '\n' ' ')" \
	    'orders 2 logs 11 '
	cdc-decode --format debezium -k id --state-from t2.db "$D/shop.envelope.jsonl" | sqlite-load t2.db 2> err
	tables t2.db > after
	diff before after || fail "loaded in two runs is not loaded in one"
}

@test "debezium: without the envelope, the same rows; values as Debezium wrote them" {
	run -0 --separate-stderr bash -c 'cdc-decode --format debezium -k id "$1" | sqlite-load t.db' _ "$D/shop.payload.jsonl"
	assert_equal "$(sql t.db 'SELECT id, amount, note FROM orders')" '1|AfQ=|upd'
	assert_equal "$(sql t.db 'SELECT id FROM logs')" 11
}

@test "debezium: errors: no -k for a delete, -k with wal2json, an event that is none" {
	run -65 --separate-stderr cdc-decode --format debezium "$D/shop.envelope.jsonl"
	assert_stderr_partial 'shop.envelope.jsonl:5: a delete: name the key columns with -k'
	run -64 --separate-stderr cdc-decode -k id "$D/shop.envelope.jsonl"
	assert_stderr_partial '-k: the key of Debezium events'
	printf '%s\n' '{"op":"c","after":{"id":1}}' > bad.jsonl
	run -65 --separate-stderr cdc-decode --format debezium -k id bad.jsonl
	assert_stderr_partial 'bad.jsonl:1: not a Debezium change event: no op or source'
	printf '%s\n' '{"op":"x","source":{"table":"t"}}' > bad2.jsonl
	run -65 --separate-stderr cdc-decode --format debezium -k id bad2.jsonl
	assert_stderr_partial 'bad2.jsonl:1: unknown op "x"'
}

@test "debezium: a source.lsn that is no 64-bit integer is no position: no STATE, no made-up bookmark" {
	# It was read as an integer that was never set: a STATE of whatever
	# the stack held, which a later --state-from would skip up to.
	for lsn in 2.5 1e3 99999999999999999999; do
		printf '{"before":null,"after":{"id":1,"msg":"x"},"source":{"table":"logs","txId":7,"lsn":%s},"op":"c","ts_ms":1}\n' "$lsn" > ev.jsonl
		run -0 --separate-stderr cdc-decode --format debezium -k id ev.jsonl
		assert_equal "$(jq -c 'select(.type == "RECORD") | .record' <<<"$output")" '{"id":1,"msg":"x"}'
		assert_equal "$(grep -c '"type":"STATE"' <<<"$output")" 0
	done
	# A whole one still is.
	printf '{"before":null,"after":{"id":1,"msg":"x"},"source":{"table":"logs","txId":7,"lsn":7},"op":"c","ts_ms":1}\n' > ev.jsonl
	run -0 --separate-stderr cdc-decode --format debezium -k id ev.jsonl
	assert_equal "$(grep '"type":"STATE"' <<<"$output")" '{"type":"STATE","value":{"bookmarks":{"cdc":{"lsn":"0/7"}}}}'
}
