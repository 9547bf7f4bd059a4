#!/usr/bin/env bats
# sqlite-load's micro-batches (issue 14): a stream that never ends commits
# as it goes, at a STATE, after --commit-every records or --commit-interval
# seconds or where the input pauses; each commit a load of its own with
# its state, the STATE echoed once committed.

bats_require_minimum_version 1.5.0
load helper

setup() { sluice_setup sqlite-load; }

# rec ID / state N: a RECORD of stream t, a STATE.
rec() { printf '{"type":"RECORD","stream":"t","record":{"id":%d,"v":"x%d"}}\n' "$1" "$1"; }
state() { printf '{"type":"STATE","value":{"bookmarks":{"t":%d}}}\n' "$1"; }

@test "--commit-every 2: a load at the first STATE after each 2 records; the rest a load of its own" {
	for i in 1 2 3 4 5; do rec "$i"; state "$i"; done > in.singer
	run -0 --separate-stderr sqlite-load -k id --commit-every 2 --load-id B db in.singer
	# Each STATE that ended a load, echoed after its commit, in order.
	assert_equal "$output" "$(state 2; state 4; state 5)"
	assert_equal "$(sql db 'SELECT load_id, json_extract(tables, "$.t.inserted") FROM _sluice_loads ORDER BY rowid')" \
	    "$(printf 'B|2\nB.2|2\nB.3|1')"
	assert_equal "$(sql db 'SELECT count(*) FROM t')" 5
	assert_equal "$(sqlite-load db --state-get bookmarks.t)" 5
	assert_equal "$(grep -c committed <<<"$stderr")" 3
	# Nothing after the last STATE: no empty load.
	for i in 6 7; do rec "$i"; state "$i"; done > in2.singer
	run -0 --separate-stderr sqlite-load -k id --commit-every 2 --load-id C db in2.singer
	assert_equal "$(sql db "SELECT count(*) FROM _sluice_loads WHERE load_id LIKE 'C%'")" 1
}

@test "--commit-interval: where the input pauses after a STATE, what came is committed at once" {
	mkfifo feed
	sqlite-load -k id --commit-interval 30 --load-id L db feed > out 2> err &
	local pid=$! i
	exec 4> feed
	{ rec 1; rec 2; state 1; } >&4
	# Committed within a second, while the writer still runs.
	for (( i = 0; i < 20; i++ )); do
		[[ $(sql db 'SELECT count(*) FROM t' 2>/dev/null) == 2 ]] && break
		sleep 0.1
	done
	assert_equal "$(sql db 'SELECT count(*) FROM t')" 2
	assert_equal "$(cat out)" "$(state 1)"
	kill -0 "$pid" || fail "the loader ended"
	{ rec 3; state 2; } >&4
	for (( i = 0; i < 20; i++ )); do
		[[ $(sql db 'SELECT count(*) FROM t') == 3 ]] && break
		sleep 0.1
	done
	assert_equal "$(sql db 'SELECT count(*) FROM t')" 3
	exec 4>&-
	wait_pid_bounded "$pid" 10
	assert_equal "$WAIT_STATUS" 0
	assert_equal "$(sql db 'SELECT load_id FROM _sluice_loads ORDER BY rowid' | tr '\n' ' ')" "L L.2 "
}

@test "kill -9 in the middle of a batch: the committed loads stay, the open one is gone" {
	mkfifo feed
	sqlite-load -k id --commit-interval 30 db feed > out 2> err &
	local pid=$! i
	exec 4> feed
	{ rec 1; state 1; } >&4
	for (( i = 0; i < 20; i++ )); do
		[[ -s out ]] && break
		sleep 0.1
	done
	assert_equal "$(cat out)" "$(state 1)"
	{ rec 2; rec 3; } >&4
	sleep 0.5
	kill -9 "$pid"
	wait_pid_bounded "$pid" 10
	exec 4>&-
	assert_equal "$WAIT_STATUS" 137
	assert_equal "$(sql db 'PRAGMA integrity_check')" ok
	assert_equal "$(sql db 'SELECT id FROM t')" 1
	assert_equal "$(sqlite-load db --state-get bookmarks.t)" 1
}

@test "a bad record in the third batch: the first two committed, the third rolled back (65)" {
	{ rec 1; state 1; rec 2; state 2; rec 3; echo 'not json'; state 3; } > in.singer
	run -65 --separate-stderr sqlite-load -k id --commit-every 1 --stats st.json --load-id E db in.singer
	assert_equal "$output" "$(state 1; state 2)"
	assert_equal "$(sql db 'SELECT id FROM t ORDER BY id' | tr '\n' ' ')" "1 2 "
	assert_equal "$(sqlite-load db --state-get bookmarks.t)" 2
	jq -e '.load_id == "E.3" and .status == "rolled_back" and (.error | test("in.singer:6"))' st.json > /dev/null ||
	    fail "$(cat st.json)"
}

@test "micro-batches: usage errors" {
	run -64 --separate-stderr sqlite-load -k id --commit-every 0 db /dev/null
	run -64 --separate-stderr sqlite-load -k id --commit-interval 0 db /dev/null
	run -64 --separate-stderr sqlite-load -k id --commit-every 5 -m replace db /dev/null
	assert_stderr_partial 'not with --mode replace'
	run -64 --separate-stderr sqlite-load -k id --commit-interval 1 -m scd2 --scd2-retire-absent db /dev/null
}
