bats_require_minimum_version 1.5.0
# sqlite-load into a database that does not exist yet: a load that does
# not commit leaves no file behind (the destination is as it was), and a
# load that waited for the lock of one that removed the file does not
# write into the removed file.

load helper

setup() {
	sluice_setup sqlite-load
}

teardown() {
	[[ -n "${apid:-}" ]] && kill -9 "$apid" 2>/dev/null || true
	[[ -n "${bpid:-}" ]] && kill -9 "$bpid" 2>/dev/null || true
	exec 7>&- 2>/dev/null || true
	wait 2>/dev/null || true
}

# no_database NAME: neither the file nor its companions exist.
no_database() {
	local f
	for f in "$1" "$1-wal" "$1-shm" "$1-journal"; do
		[[ ! -e $f ]] || fail "$f exists: $(ls -l "$f")"
	done
}

# hold_load DB ARGS...: start `sqlite-load ARGS DB` reading the fifo "in"
# (fd 7 writes it); return once it holds DB's write lock.  apid is its pid.
hold_load() {
	local db=$1 i
	shift
	mkfifo in
	sqlite-load "$@" "$db" <in >a.out 2>a.err &
	apid=$!
	exec 7>in
	for (( i = 0; i < 300; i++ )); do
		if [[ -e $db ]] &&
		    ! sqlite3 -cmd '.timeout 0' "$db" 'BEGIN IMMEDIATE; ROLLBACK' \
		    >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	fail "sqlite-load never took the lock: $(cat a.err)"
}

@test "a load that fails leaves no database where there was none" {
	run -65 --separate-stderr sqlite-load -k id -m append new.db <<<$'{"id":1}\n{"id":1}'
	assert_stderr_partial "stdin:2: insert: UNIQUE constraint failed"
	no_database new.db
	# Bad JSON, a key missing, an upstream abort, a reused load id: the same.
	run -65 sqlite-load -t t new.db <<<'{"a":'
	no_database new.db
	run -65 sqlite-load -k id -m merge new.db <<<'{"v":1}'
	no_database new.db
	run -65 sqlite-load -t t new.db <<<$'{"a":1}\nSLUICE_ABORT pgfetch 75 upstream failed'
	no_database new.db
	# One that commits keeps it, and a later failure leaves it as it was.
	run -0 sqlite-load -q -k id new.db <<<'{"id":1}'
	dump new.db >before.sql
	run -65 sqlite-load -k id -m append new.db <<<$'{"id":2}\n{"id":2}'
	dump new.db >after.sql
	cmp before.sql after.sql
	# An empty input is still a load: it commits, and the file stays.
	run -0 sqlite-load -q -t t empty.db </dev/null
	run -0 sql empty.db "SELECT count(*) FROM _sluice_loads"
	assert_output 1
}

@test "a load killed by SIGTERM leaves no database where there was none" {
	hold_load new.db -t t
	printf '%s\n' '{"a":1}' >&7
	kill -TERM "$apid"
	wait_pid_bounded "$apid" 30
	assert_equal "$WAIT_STATUS" 143
	no_database new.db
}

@test "a load waiting for the lock does not write into a database removed under it" {
	hold_load new.db -k id -m append
	# B waits for A's lock (its file exists already: A created it).
	sqlite-load --busy-timeout 30000 -k id new.db <<<'{"id":5}' >b.out 2>b.err 7>&- &
	bpid=$!
	sleep 1
	kill -0 "$bpid" || fail "the second load did not wait: $(cat b.err)"
	# A fails: it removes the file it created, holding the lock.
	printf '%s\n' '{"id":1}' '{"id":1}' >&7
	exec 7>&-
	wait_pid_bounded "$apid" 30
	assert_equal "$WAIT_STATUS" 65
	wait_pid_bounded "$bpid" 30
	# B was waiting (alive after a second with its input given): it
	# opened the file A created and removed, so it must not commit.
	assert_equal "$WAIT_STATUS" 75
	grep -q "new.db: the database was removed while this load waited for it: try again" b.err ||
		fail "$(cat b.err)"
	[[ ! -s b.out ]] || fail "stdout: $(cat b.out)"
	no_database new.db
	# Tried again, it loads.
	run -0 sqlite-load -q -k id new.db <<<'{"id":5}'
	run -0 sql new.db "SELECT id FROM data"
	assert_output 5
}
