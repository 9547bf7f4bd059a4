#!/usr/bin/env bats
# Incremental loading end to end: dedup-merge's cursor with the bookmark
# sqlite-load commits with the rows.  A run that dies between or inside
# batches must lose no cursor and load nothing twice.

bats_require_minimum_version 1.5.0
load helper

setup() {
	sluice_setup dedup-merge jsonl-normalize schema-infer sqlite-load
	# Three batches of GitHub issues by updated_at: 1-40, 41-70, 71-100,
	# the second overlapping the first by 10 (an API's late pages).
	jq -s -c 'sort_by(.updated_at, .id) | .[]' "$BATS_TEST_DIRNAME/../examples/issues.jsonl" > all.jsonl
	sed -n '1,40p' all.jsonl > b1.jsonl
	sed -n '31,70p' all.jsonl > b2.jsonl
	sed -n '61,100p' all.jsonl > b3.jsonl
}

# load FILE: one incremental run into db.
load_batch() {
	dedup-merge -t issues -k id --latest-by updated_at --cursor updated_at \
	    --state-from db "$1" |
	    jsonl-normalize -t issues -k id | schema-infer -q |
	    sqlite-load -q db -m merge
}

bookmark() {
	sqlite-load db --state-get bookmarks.issues.replication_key_value
}

# The table's rows as "id updated_at", sorted, and a check that no id is
# there twice.
rows() {
	sql db 'SELECT id, updated_at FROM issues ORDER BY id'
}

@test "batches load once each; a re-run of any batch loads nothing" {
	run -0 load_batch b1.jsonl
	assert_equal "$(sql db 'SELECT count(*) FROM issues')" 40
	assert_equal "$(bookmark)" "$(jq -r .updated_at b1.jsonl | tail -n 1)"
	run -0 load_batch b2.jsonl
	assert_equal "$(sql db 'SELECT count(*) FROM issues')" 70
	run -0 load_batch b3.jsonl
	assert_equal "$(sql db 'SELECT count(*) FROM issues')" 100
	assert_equal "$(bookmark)" "$(jq -r .updated_at all.jsonl | tail -n 1)"
	local before loads
	before=$(rows)
	loads=$(sql db 'SELECT count(*) FROM _sluice_loads')
	for b in b1 b2 b3; do
		run -0 --separate-stderr dedup-merge -t issues -k id --cursor updated_at --state-from db $b.jsonl
		refute_output --partial '"id"'
	done
	run -0 load_batch b3.jsonl
	assert_equal "$(rows)" "$before"
	assert_equal "$(sql db 'SELECT count(*) FROM _sluice_loads')" $((loads + 1))
	assert_equal "$(sql db "SELECT coalesce(json_extract(tables, '\$.issues.inserted'), 0) +
	    coalesce(json_extract(tables, '\$.issues.updated'), 0) FROM _sluice_loads
	    ORDER BY rowid DESC LIMIT 1")" 0
}

@test "a batch whose upstream fails halfway loads nothing and keeps the bookmark; the re-run loads it once" {
	run -0 load_batch b1.jsonl
	local mark rows1
	mark=$(bookmark)
	rows1=$(rows)
	# The extraction breaks after 20 records: dedup-merge fails on the
	# bad line, ends its output with SLUICE_ABORT, sqlite-load rolls back.
	{ head -n 20 b2.jsonl; echo '{"id": truncated'; } > broken.jsonl
	run bash -o pipefail -c 'dedup-merge -t issues -k id --cursor updated_at --state-from db broken.jsonl |
	    jsonl-normalize -t issues -k id | schema-infer -q | sqlite-load -q db -m merge'
	[[ $status -eq 65 ]] || fail "status $status: $output"
	assert_equal "$(bookmark)" "$mark"
	assert_equal "$(rows)" "$rows1"
	assert_equal "$(sql db 'SELECT count(*) FROM _sluice_loads')" 1
	# The re-run of the whole batch: each issue once, the bookmark moves.
	run -0 load_batch b2.jsonl
	assert_equal "$(sql db 'SELECT count(*), count(DISTINCT id) FROM issues')" '70|70'
	assert_equal "$(bookmark)" "$(jq -r .updated_at b2.jsonl | tail -n 1)"
	assert_equal "$(sql db 'SELECT count(*) FROM issues__labels')" \
	    "$(head -n 70 all.jsonl | jq -s '[.[].labels | length] | add')"
}

@test "sqlite-load killed with SIGKILL in the middle of a batch: no row, no cursor; the re-run loads it once" {
	run -0 load_batch b1.jsonl
	local mark rows1 pid
	mark=$(bookmark)
	rows1=$(rows)
	dedup-merge -t issues -k id --cursor updated_at --state-from db b2.jsonl |
	    jsonl-normalize -t issues -k id | schema-infer -q > b2.singer
	# Half the batch reaches sqlite-load through a FIFO kept open (on fd 7:
	# bats owns 3), then sqlite-load dies by SIGKILL: no rollback handler
	# runs at all.
	mkfifo fifo
	sqlite-load -q db -m merge < fifo &
	pid=$!
	exec 7> fifo
	head -n "$(( $(wc -l < b2.singer) / 2 ))" b2.singer >&7
	sleep 0.5
	kill -KILL "$pid"
	local s=0
	wait "$pid" || s=$?
	assert_equal "$s" 137
	exec 7>&-
	assert_equal "$(bookmark)" "$mark"
	assert_equal "$(rows)" "$rows1"
	run -0 sql db 'PRAGMA integrity_check'
	assert_output ok
	run -0 load_batch b2.jsonl
	assert_equal "$(sql db 'SELECT count(*), count(DISTINCT id) FROM issues')" '70|70'
	assert_equal "$(bookmark)" "$(jq -r .updated_at b2.jsonl | tail -n 1)"
}

@test "an update that arrives late, with an older cursor, is dropped; --lag lets it in" {
	run -0 load_batch b1.jsonl
	run -0 load_batch b2.jsonl
	# Issue 5 of the first batch, edited, but stamped before the bookmark.
	jq -c 'select(.id == '"$(sed -n 5p b1.jsonl | jq .id)"') | .title = "late edit"' b1.jsonl > late.jsonl
	run -0 load_batch late.jsonl
	assert_equal "$(sql db "SELECT count(*) FROM issues WHERE title = 'late edit'")" 0
	run -0 bash -c 'dedup-merge -t issues -k id --cursor updated_at --state-from db \
	    --lag 315360000 late.jsonl | jsonl-normalize -t issues -k id |
	    schema-infer -q | sqlite-load -q db -m merge'
	assert_equal "$(sql db "SELECT count(*) FROM issues WHERE title = 'late edit'")" 1
	assert_equal "$(sql db 'SELECT count(*), count(DISTINCT id) FROM issues')" '70|70'
}
