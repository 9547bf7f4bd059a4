#!/usr/bin/env bats
# A stream that pauses (tail -f, a slow API, a change feed): each filter
# passes on the records it has as soon as its input pauses, not when a
# buffer fills or the input ends.  dedup-merge holds its records to the
# end by design (the survivor of a key is known only then).

bats_require_minimum_version 1.5.0
load helper

setup() { sluice_setup pgfetch jsonl-normalize schema-infer; }

# passes_on_while_paused CMD...: CMD reads a pipe that gives one record and
# then waits 4 s; the record must come out within 2 s, while CMD still runs.
passes_on_while_paused() {
	local pid i
	( printf '{"id":1,"name":"first"}\n'; sleep 4; printf '{"id":2,"name":"second"}\n' ) |
	    "$@" > out 2> err &
	pid=$!
	for (( i = 0; i < 20; i++ )); do
		grep -q '"first"' out && break
		sleep 0.1
	done
	grep -q '"first"' out || fail "$*: nothing out after 2 s: $(cat out err)"
	grep -q '"second"' out && fail "$*: the second record came early"
	# Still running: the first record came out during the pause.
	kill -0 "$pid" 2>/dev/null || fail "$*: ended already"
	wait "$pid" || fail "$*: exited $?: $(cat err)"
	grep -q '"second"' out || fail "$*: the second record is missing"
}

@test "pgfetch - passes a record on while its input pauses" {
	passes_on_while_paused pgfetch -
}

@test "jsonl-normalize passes a record on while its input pauses" {
	passes_on_while_paused jsonl-normalize -t t -k id
}

@test "schema-infer passes a record on while its input pauses" {
	passes_on_while_paused schema-infer -q -t t
}

@test "a file is still read in whole batches: the same bytes as one read" {
	for (( i = 1; i <= 20000; i++ )); do printf '{"id":%d,"v":"x%d"}\n' "$i" "$i"; done > big.jsonl
	schema-infer -q -t t big.jsonl > a
	# Through a pipe that pauses now and then: the same output.
	( head -n 7000 big.jsonl; sleep 0.3; sed -n '7001,15000p' big.jsonl; sleep 0.3;
	    tail -n 5000 big.jsonl ) | schema-infer -q -t t > b
	cmp -s a b || fail "a paused pipe gives other bytes"
}
