bats_require_minimum_version 1.5.0
# sqlite-load: one transaction per load, seen from outside while it runs and
# after it is killed (kill -9, SIGTERM, SIGINT).  Every background job here
# is bounded: the feeder gives up after 60 s, waits time out.

load helper

setup() {
	sluice_setup sqlite-load
	D="$DATA/sqlite-load"
	N=300000
}

teardown() {
	# Release any feeder still waiting, then reap what is left.
	: > "$BATS_TEST_TMPDIR/stop"
	[[ -n "${pid:-}" ]] && kill -9 "$pid" 2>/dev/null || true
	wait 2>/dev/null || true
}

# start_load ARGS...: slow_feed big.jsonl into `sqlite-load ARGS` in the
# background; pid is sqlite-load's; its stdout/stderr go to out/err.
start_load() {
	slow_feed "${FEED[@]}" 3>&- | sqlite-load "$@" >out 2>err 3>&- &
	pid=$!
	wait_for_file fed 60 || fail "sqlite-load did not read its input"
	# Let it insert what is still in the pipe.
	sleep 1
	kill -0 "$pid" 2>/dev/null || fail "sqlite-load ended early: $(cat err)"
}

# kill_load SIG: send SIG to the loader, release the feeder (a pipeline's
# `wait` waits for the whole pipeline), reap; status in WAIT_STATUS.
kill_load() {
	kill -s "$1" "$pid"
	: > stop
	wait_pid_bounded "$pid" 30
}

preload() {
	printf '%s\n' '{"id":0,"name":"before","v":0.5,"ok":false}' > pre.jsonl
	sqlite-load -q -t t db pre.jsonl
	printf '%s\n' '{"type":"STATE","value":{"bookmarks":{"t":"old"}}}' > st.singer
	sqlite-load -q db st.singer >/dev/null
	db_snapshot db
}

@test "inside a load: nothing committed, nothing on stdout; after EOF both" {
	printf '%s\n' '{"type":"STATE","value":{"bookmarks":{"t":"new"}}}' '{"id":1,"name":"a"}' > head.jsonl
	FEED=(head.jsonl)
	start_load -q -t t db
	[[ ! -s out ]] || fail "stdout before commit: $(cat out)"
	# A reader sees no table t yet.
	run -0 sql db "SELECT count(*) FROM sqlite_master WHERE name = 't'"
	assert_output 0
	: > stop
	wait_pid_bounded "$pid" 60
	assert_equal "$WAIT_STATUS" 0
	assert_equal "$(cat out)" '{"type":"STATE","value":{"bookmarks":{"t":"new"}}}'
	assert_equal "$(sql db 'SELECT count(*) FROM t')" 1
	run -0 --separate-stderr sqlite-load db --state-get bookmarks.t
	assert_output new
}

@test "kill -9 during a large load: database as before; a clean re-run loads everything" {
	preload
	gen_records "$N" big.jsonl
	FEED=(st.singer big.jsonl)
	start_load -q -t t db
	kill_load KILL
	assert_equal "$WAIT_STATUS" 137
	pid=
	[[ ! -s out ]] || fail "stdout after kill -9: $(cat out)"
	db_unchanged db
	assert_equal "$(sql db 'PRAGMA integrity_check')" ok
	# Clean re-run.
	run -0 --separate-stderr sqlite-load -q -t t db big.jsonl
	assert_equal "$(sql db 'SELECT count(*), count(DISTINCT id), max(id), sum(ok) FROM t')" \
	    "$(( N + 1 ))|$(( N + 1 ))|$N|$N"
	assert_equal "$(sql db "SELECT name, v FROM t WHERE id = $N")" "row $N|$N.5"
	assert_equal "$(sql db 'PRAGMA integrity_check')" ok
}

@test "kill -9 while inserting from a file (no feeder): database as before or complete" {
	preload
	gen_records "$N" big.jsonl
	sqlite-load -q -t t db big.jsonl >out 2>err 3>&- &
	pid=$!
	sleep 0.3
	kill -9 "$pid" 2>/dev/null || :  # it may have finished: then all rows are there
	wait_pid_bounded "$pid" 30
	pid=
	n=$(sql db 'SELECT count(*) FROM t')
	# Either the kill landed mid-load (nothing) or after commit (all).
	[[ "$n" == 1 || "$n" == $(( N + 1 )) ]] || fail "half a load is visible: $n rows"
	# Nothing loaded only if it died by the signal; all only if it ran out.
	case $WAIT_STATUS:$n in
	137:*|0:$(( N + 1 ))) ;;
	*) fail "exit $WAIT_STATUS with $n rows" ;;
	esac
	if [[ "$n" == 1 ]]; then
		db_unchanged db
	fi
	assert_equal "$(sql db 'PRAGMA integrity_check')" ok
}

@test "SIGTERM during a load rolls back and dies by the signal (143)" {
	preload
	gen_records 50000 big.jsonl
	FEED=(st.singer big.jsonl)
	start_load -t t db
	kill_load TERM
	assert_equal "$WAIT_STATUS" 143
	pid=
	[[ ! -s out ]] || fail "stdout after SIGTERM: $(cat out)"
	db_unchanged db
	run -0 --separate-stderr sqlite-load db --state-get bookmarks.t
	assert_output old
}

@test "SIGINT during a load rolls back and dies by the signal (130)" {
	env --default-signal=INT true 2>/dev/null || skip "env has no --default-signal"
	preload
	gen_records 50000 big.jsonl
	FEED=(big.jsonl)
	# Background jobs start with SIGINT ignored; give it back its default.
	slow_feed "${FEED[@]}" 3>&- | env --default-signal=INT sqlite-load -t t db >out 2>err 3>&- &
	pid=$!
	wait_for_file fed 60 || fail "sqlite-load did not read its input"
	sleep 1
	kill_load INT
	assert_equal "$WAIT_STATUS" 130
	pid=
	[[ ! -s out ]] || fail "stdout after SIGINT: $(cat out)"
	db_unchanged db
}

@test "a second loader waits for the first (busy timeout), then loads" {
	printf '%s\n' '{"id":1}' > head.jsonl
	FEED=(head.jsonl)
	start_load -q -t t db
	# While the first holds the write lock, a second with a long timeout
	# waits; release the first after a moment.
	( sleep 1; : > stop ) 3>&- &
	run -0 --separate-stderr sqlite-load -q --busy-timeout 20000 -t t db "$D/batch1.jsonl"
	wait_pid_bounded "$pid" 60
	assert_equal "$WAIT_STATUS" 0
	pid=
	assert_equal "$(sql db 'SELECT count(*) FROM t')" 4
}
