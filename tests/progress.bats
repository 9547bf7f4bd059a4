#!/usr/bin/env bats
# The progress line (issue 13): live on a terminal (script(1) gives the
# program one), from the first second on, cleared at the end, from the
# last program of a pipeline only; plain lines every --progress-interval
# seconds in a log with --progress; none with -q.

bats_require_minimum_version 1.5.0
load helper

setup() {
	sluice_setup pgfetch schema-infer sqlite-load dedup-merge jsonl-normalize
	command -v script >/dev/null || skip "no script(1)"
	for (( i = 1; i <= 3000; i++ )); do
		printf '{"id":%d,"name":"row %d"}\n' "$i" "$i"
	done > rows.jsonl
}

# on_tty CMD: run the shell command CMD with a terminal as its stdin,
# stdout and stderr; what the terminal got in ./tty.
on_tty() {
	TERM=dumb script -qec "$1" /dev/null > tty
}

@test "on a terminal: a live line within a second, before the first record, cleared at the end" {
	on_tty "(sleep 1.5; cat rows.jsonl) | sqlite-load t.db -t rows"
	# A line while no record had come yet: the thread draws it.
	grep -aq $'\rsqlite-load: 0 records, 0.0 MB, 0 records/s, 0.0 MB/s, [01].[0-9] s\e\[K' tty ||
	    fail "no live line in the first second: $(cat -A tty)"
	assert_equal "$(sql t.db 'SELECT count(*) FROM rows')" 3000
	# A trickle: the count moves while the input pauses.
	on_tty "(sleep 0.2; head -n 1000 rows.jsonl; sleep 1.5; tail -n 2000 rows.jsonl) |
	    sqlite-load t2.db -t rows"
	grep -aq $'\rsqlite-load: 1000 records, 0.0 MB, [0-9]* records/s' tty ||
	    fail "no count of the first 1000: $(cat -A tty)"
	# Cleared before the summary, which stands on a line of its own.
	grep -aq $'\r\e\[Ksqlite-load: load [0-9.]*: rows +3000 ~0 =0 -0 committed' tty ||
	    fail "the line was not cleared before the summary: $(cat -A tty)"
}

@test "on a terminal: a run shorter than half a second shows no line" {
	on_tty "sqlite-load t.db -t rows rows.jsonl"
	if grep -aq 'records/s' tty; then
		fail "a short run drew a line: $(cat -A tty)"
	fi
	grep -aq 'rows +3000 ~0 =0 -0 committed' tty || fail "$(cat -A tty)"
}

@test "on a terminal: in a pipeline only the last program draws its line" {
	on_tty "(sleep 1.2; cat rows.jsonl) | pgfetch - | dedup-merge -t rows -k id |
	    jsonl-normalize -t rows -k id | schema-infer -q | sqlite-load t.db"
	grep -aq $'\rsqlite-load: [0-9]* records' tty || fail "no line: $(cat -A tty)"
	local p
	for p in pgfetch dedup-merge jsonl-normalize schema-infer; do
		if grep -aq "$p: [0-9]* records" tty; then
			fail "$p drew a line in the middle of the pipeline: $(cat -A tty)"
		fi
	done
	# --progress asks one of them for it anyway.
	on_tty "(sleep 1.2; cat rows.jsonl) | pgfetch --progress - | schema-infer -q -t rows > /dev/null"
	grep -aq $'\rpgfetch: [0-9]* records' tty || fail "pgfetch --progress: $(cat -A tty)"
}

@test "-q: no line on a terminal, even with --progress" {
	on_tty "(sleep 1.2; cat rows.jsonl) | sqlite-load -q t.db -t rows"
	if grep -aq 'records/s' tty; then fail "$(cat -A tty)"; fi
	on_tty "(sleep 1.2; cat rows.jsonl) | schema-infer -q --progress -t rows > /dev/null"
	if grep -aq 'records/s' tty; then fail "$(cat -A tty)"; fi
}

@test "--progress in a log: plain lines every --progress-interval seconds, no escape codes" {
	(sleep 1.6; cat rows.jsonl) |
	    sqlite-load --progress --progress-interval 0.5 t.db -t rows 2> log
	local n
	n=$(grep -c '^sqlite-load: [0-9]* records, [0-9.]* MB, [0-9]* records/s, [0-9.]* MB/s, [0-9.]* s$' log)
	(( n >= 3 )) || fail "$n progress lines in 1.6 s at 0.5 s: $(cat -A log)"
	if grep -q $'\r\|\e' log; then fail "escape codes in a log: $(cat -A log)"; fi
	grep -q '^sqlite-load: load [0-9.]*: rows +3000 ~0 =0 -0 committed$' log || fail "$(cat log)"
	# The default interval is 10 s: a short run in a log has no line.
	sqlite-load --progress t2.db -t rows rows.jsonl 2> log
	if grep -q 'records/s' log; then fail "$(cat log)"; fi
	# And without --progress, a log gets none.
	(sleep 1.2; cat rows.jsonl) | sqlite-load t3.db -t rows 2> log
	if grep -q 'records/s' log; then fail "$(cat log)"; fi
}

@test "--progress-interval takes seconds: 0, junk and more than a day are usage errors" {
	local v
	for v in 0 -1 x 1e9 ''; do
		run -64 --separate-stderr schema-infer --progress-interval "$v" rows.jsonl
		assert_stderr_partial "--progress-interval: expected a number"
	done
	run -0 --separate-stderr schema-infer --progress-interval 2.5 -t rows rows.jsonl
}

@test "a signal still stops a program whose progress thread runs: SIGTERM gives 143" {
	mkfifo feed
	schema-infer --progress --progress-interval 0.2 -t rows feed > out 2> err &
	local pid=$!
	exec 4> feed
	head -n 5 rows.jsonl >&4
	sleep 1
	kill -TERM "$pid"
	wait_pid_bounded "$pid" 10
	exec 4>&-
	assert_equal "$WAIT_STATUS" 143
	grep -q '^schema-infer: 5 records' err || fail "no progress line: $(cat err)"
	assert_equal "$(tail -n 1 out | jq -c '[.type, .status]')" '["SLUICE_ABORT",75]'
}
