bats_require_minimum_version 1.5.0
# pgfetch, sets of files (issue 11 §2): several sources read in order as
# one stream; a glob in the last segment of a path, every match in name
# order; --file-column; --max-records across the files; what does not
# mix (an API among several sources) is a usage error.

load helper

setup() {
	sluice_setup pgfetch
	D="$(cd "$DATA/pgfetch" && pwd)"
}

# one ARG...: pgfetch ARG... alone, its records appended to ./want.
one() {
	pgfetch "$@" >> want || fail "pgfetch $* failed"
}

@test "several sources are read in order, as one stream" {
	gzip -c "$D/people.csv" > people.csv.gz
	one "$D/records.jsonl"
	one people.csv.gz
	one "$D/items.json"
	one "$D/records.jsonl"
	fetch_ok "$D/records.jsonl" people.csv.gz "$D/items.json" \
	    "file://$D/records.jsonl"
	assert_file_bytes out want
	[[ $(wc -l < out) -gt 6 ]]
}

@test "a glob names every matching file, in name order; not dot files, not directories" {
	mkdir data data/2024-03.jsonl
	printf '{"m":10}\n' > data/2024-10.jsonl
	printf '{"m":1}\n{"m":1.5}\n' > data/2024-01.jsonl
	printf '{"m":2}\n' > data/2024-02.jsonl
	printf '{"m":-1}\n' > data/.2024-00.jsonl
	printf '{"m":99}\n' > data/2023-12.jsonl
	fetch_ok 'data/2024-*.jsonl'
	printf '%s\n' '{"m":1}' '{"m":1.5}' '{"m":2}' '{"m":10}' > want
	assert_file_bytes out want
	fetch_ok "file://$PWD/data/2024-0[12].jsonl" data/2023-12.jsonl
	printf '%s\n' '{"m":1}' '{"m":1.5}' '{"m":2}' '{"m":99}' > want
	assert_file_bytes out want
}

@test "--file-column: each record says which file it came from, its own member overridden" {
	mkdir d
	printf '{"id":1,"src":"forged"}\n{"id":2}\n' > d/a.jsonl
	printf 'id\n3\n' > d/b.csv
	fetch_ok --file-column src 'd/*'
	printf '%s\n' '{"id":1,"src":"d/a.jsonl"}' '{"id":2,"src":"d/a.jsonl"}' \
	    '{"id":"3","src":"d/b.csv"}' > want
	assert_file_bytes out want
	fetch_ok -m -s s --file-column file_name d/b.csv
	assert_equal "$(jq -c .record out)" '{"id":"3","file_name":"d/b.csv"}'
	run --separate-stderr pgfetch --file-column '' d/b.csv
	[ "$status" -eq 64 ]
}

@test "--max-records counts across the files, and reads no file past the last record" {
	printf '{"n":1}\n{"n":2}\n{"n":3}\n' > a.jsonl
	printf '{"n":4}\n{"n":5}\n' > b.jsonl
	fetch_ok --max-records 4 a.jsonl b.jsonl no-such-file.jsonl
	printf '%s\n' '{"n":1}' '{"n":2}' '{"n":3}' '{"n":4}' > want
	assert_file_bytes out want
}

@test "a source that fails stops the stream: the records before it, then the abort" {
	printf '{"n":1}\n' > a.jsonl
	printf '{"n":3}\n' > c.jsonl
	run --separate-stderr pgfetch a.jsonl no-such.jsonl c.jsonl
	[ "$status" -eq 66 ]
	aborted 66 '{"n":1}'
	assert_stderr_partial "no-such.jsonl"
	run --separate-stderr pgfetch a.jsonl 'nothing-*.jsonl'
	[ "$status" -eq 66 ]
	aborted 66 '{"n":1}'
	assert_stderr_partial "nothing-*.jsonl: no file matches"
}

@test "an API among several sources, or with --file-column, is a usage error before any record" {
	printf '{"n":1}\n' > a.jsonl
	run --separate-stderr pgfetch a.jsonl http://127.0.0.1:9/api
	[ "$status" -eq 64 ]
	[[ -z $output ]]
	assert_stderr_partial "with several sources, each is a file"
	run --separate-stderr pgfetch --file-column f http://127.0.0.1:9/api
	[ "$status" -eq 64 ]
	[[ -z $output ]]
	# A query is no glob: an API URL with ?page=1 is one source.
	run --separate-stderr pgfetch --retries 0 --connect-timeout 1 \
	    'http://127.0.0.1:9/api?page=1'
	[ "$status" -eq 75 ]
}

# load_new: the incremental pipeline of files in in/ into db, as a cron job
# would run it; its exit status.
load_new() {
	pgfetch -m -s orders --state-from db --file-column file 'in/*.jsonl' |
	    sqlite-load db
}

# at FILE EPOCH: FILE's modification time set to EPOCH seconds.
at() {
	touch -d "@$2" "$1"
}

@test "incremental file sets: all, then only the new file, then nothing" {
	sluice_setup pgfetch sqlite-load
	mkdir in
	drop_file in/b.jsonl 1700000100 '{"id":1}' '{"id":2}'
	drop_file in/a.jsonl 1700000200 '{"id":3}'
	load_new || fail "first run failed"
	# Oldest first: b (earlier) before a.
	assert_equal "$(sql db 'SELECT id, file FROM orders ORDER BY rowid' | tr '\n' ' ')" \
	    "1|in/b.jsonl 2|in/b.jsonl 3|in/a.jsonl "
	assert_equal "$(sqlite-load db --state-get bookmarks.orders)" \
	    '{"file_mtime":1700000200,"file_name":"in/a.jsonl"}'
	# A new file: only it.
	printf '{"id":4}\n' > in/c.jsonl
	at in/c.jsonl 1700000300
	load_new || fail "second run failed"
	assert_equal "$(sql db 'SELECT group_concat(id) FROM orders')" "1,2,3,4"
	# Nothing new: no record, exit 0; the rows and the bookmark as they were.
	run --separate-stderr bash -c "pgfetch -m -s orders --state-from db 'in/*.jsonl' > out"
	[ "$status" -eq 0 ]
	[[ ! -s out ]] || fail "wrote: $(cat out)"
	assert_stderr_partial "no new file"
	load_new || fail "third run failed"
	assert_equal "$(sql db 'SELECT group_concat(id) FROM orders')" "1,2,3,4"
	assert_equal "$(sqlite-load db --state-get bookmarks.orders)" \
	    '{"file_mtime":1700000300,"file_name":"in/c.jsonl"}'
	# A file modified after the mark is read again; the bookmark stays
	# one file's, however many were read.
	printf '{"id":30}\n' > in/a.jsonl
	at in/a.jsonl 1700000400
	load_new || fail "fourth run failed"
	assert_equal "$(sql db 'SELECT group_concat(id) FROM orders')" "1,2,3,4,30"
	assert_equal "$(sqlite-load db --state-get bookmarks.orders)" \
	    '{"file_mtime":1700000400,"file_name":"in/a.jsonl"}'
}

@test "incremental file sets: a run that fails between files loads nothing, and the next loads each file once" {
	sluice_setup pgfetch sqlite-load
	mkdir in
	printf '{"id":1}\n' > in/1.jsonl
	at in/1.jsonl 1700000100
	printf '{"id":2}\n{"id":' > in/2.jsonl
	at in/2.jsonl 1700000200
	run load_new
	[ "$status" -eq 65 ]
	assert_no_user_tables db
	[[ -z $(sqlite-load -q db --state-get bookmarks.orders) ]]
	printf '{"id":2}\n{"id":3}\n' > in/2.jsonl
	at in/2.jsonl 1700000200
	load_new || fail "the run after the fix failed"
	assert_equal "$(sql db 'SELECT group_concat(id) FROM orders')" "1,2,3"
	assert_equal "$(sqlite-load db --state-get bookmarks.orders.file_name)" \
	    "in/2.jsonl"
}

# load_new_state: the same pipeline, the bookmark handed over as a state
# document (--state FILE) from the loader's --state-get .
load_new_state() {
	sqlite-load -q db --state-get . > state.json &&
	    pgfetch -m -s orders --state state.json --file-column file \
	    'in/*.jsonl' | sqlite-load db
}

@test "incremental file sets with --state FILE: all, then only the new file, then nothing" {
	sluice_setup pgfetch sqlite-load
	mkdir in
	drop_file in/a.jsonl 1700000100 '{"id":1}'
	drop_file in/b.jsonl 1700000200 '{"id":2}'
	# No database yet: --state-get prints nothing, an empty state is a
	# first run.
	load_new_state || fail "first run failed"
	[[ -s state.json ]] && fail "a state before any load: $(cat state.json)"
	assert_equal "$(sql db 'SELECT group_concat(id) FROM orders')" "1,2"
	drop_file in/c.jsonl 1700000300 '{"id":3}'
	load_new_state || fail "second run failed"
	assert_equal "$(jq -c .bookmarks.orders state.json)" \
	    '{"file_mtime":1700000200,"file_name":"in/b.jsonl"}'
	assert_equal "$(sql db 'SELECT group_concat(id) FROM orders')" "1,2,3"
	load_new_state || fail "third run failed"
	assert_equal "$(sql db 'SELECT group_concat(id) FROM orders')" "1,2,3"
	assert_equal "$(sqlite-load db --state-get bookmarks.orders.file_name)" \
	    "in/c.jsonl"
	# A STATE message does as well as its value (the last line of a run).
	pgfetch -q -m -s orders 'in/a.*' | grep '"STATE"' > msg.json
	run --separate-stderr bash -c "pgfetch -m -s orders --state msg.json 'in/*.jsonl' > out"
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r 'select(.type == "RECORD") | .record.id' out | tr '\n' ' ')" "2 3 "
}

@test "--state FILE: what it refuses, each with its status and nothing written" {
	mkdir in
	printf '{"id":1}\n' > in/x.jsonl
	run --separate-stderr pgfetch -m -s o --state nosuch.json 'in/*.jsonl'
	[ "$status" -eq 66 ]
	assert_stderr_partial "--state: nosuch.json: No such file or directory"
	local doc
	for doc in '[1]' '{"bookmarks":[]}' 'not json' '{"type":"RECORD","value":{}}' \
	    '{"type":"STATE","value":[]}'; do
		printf '%s\n' "$doc" > bad.json
		run --separate-stderr pgfetch -m -s o --state bad.json 'in/*.jsonl'
		[ "$status" -eq 65 ] || fail "$doc: exit $status"
		assert_stderr_partial "--state: bad.json: not a state document"
		[[ $(jq -r .type <<< "$output") == SLUICE_ABORT ]] || fail "$doc: $output"
	done
	printf '{"bookmarks":{"o":{"file_mtime":"soon"}}}' > bad.json
	run --separate-stderr pgfetch -m -s o --state bad.json 'in/*.jsonl'
	[ "$status" -eq 65 ]
	assert_stderr_partial "bookmarks.o: not a file bookmark"
	# Another stream's bookmark, or none: every file.
	printf '{"bookmarks":{"p":{"file_mtime":9999999999,"file_name":"z"}}}' > other.json
	fetch_ok -q -m -s o --state other.json 'in/*.jsonl'
	assert_equal "$(jq -r 'select(.type == "RECORD") | .record.id' out)" 1
	printf '\0' > nul.json
	run --separate-stderr pgfetch -m -s o --state nul.json 'in/*.jsonl'
	[ "$status" -eq 65 ]
	run --separate-stderr pgfetch -m -s o --state other.json --state-from db 'in/*.jsonl'
	[ "$status" -eq 64 ]
	assert_stderr_partial "--state-from and --state: one or the other"
	run --separate-stderr pgfetch --state other.json 'in/*.jsonl'
	[ "$status" -eq 64 ]
	assert_stderr_partial "--state needs -m -s STREAM"
	run --separate-stderr pgfetch -m -s o --state other.json http://127.0.0.1:9/api
	[ "$status" -eq 64 ]
	assert_stderr_partial "--state applies to files"
}

@test "incremental file sets: a first run with no file, a STATE after each file, and what does not go with --state-from" {
	mkdir in
	run --separate-stderr pgfetch -m -s o --state-from none.db 'in/*.jsonl'
	[ "$status" -eq 0 ]
	[[ -z $output ]]
	printf '{"id":1}\n' > in/x.jsonl
	at in/x.jsonl 1700000000
	printf '{"id":2}\n' > in/y.jsonl
	at in/y.jsonl 1700000000
	fetch_ok -q -m -s o 'in/*.jsonl'
	assert_equal "$(jq -c 'if .type == "STATE" then .value.bookmarks.o else .record end' out)" \
	    "$(printf '%s\n' '{"id":1}' '{"file_mtime":1700000000,"file_name":"in/x.jsonl"}' \
	    '{"id":2}' '{"file_mtime":1700000000,"file_name":"in/y.jsonl"}')"
	run --separate-stderr pgfetch --state-from db 'in/*.jsonl'
	[ "$status" -eq 64 ]
	# A bookmark keeps whole files: --max-records cannot go with one.
	run --separate-stderr pgfetch -m -s o --max-records 1 'in/*.jsonl'
	[ "$status" -eq 64 ]
	[[ -z $output ]]
	assert_stderr_partial "--max-records cuts a file short"
	# The standard input has no modification time to keep.
	run --separate-stderr pgfetch -m -s o in/x.jsonl - < in/y.jsonl
	[ "$status" -eq 64 ]
	[[ -z $output ]]
	assert_stderr_partial "stdin has no modification time"
	run --separate-stderr pgfetch -m -s o --state-from db http://127.0.0.1:9/api
	[ "$status" -eq 64 ]
	assert_stderr_partial "--state-from applies to files"
}
