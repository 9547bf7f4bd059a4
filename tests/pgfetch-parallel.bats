bats_require_minimum_version 1.5.0
# pgfetch's issue 4 features, over HTTP: --parallel N (page and offset),
# --checkpoint FILE (resume after a failure: page, offset, cursor, next),
# --records-jq EXPR, http(s) files streamed (JSON Lines, CSV, gzip, a body
# cut short and resumed, bounded memory), secrets kept off other hosts on
# redirects, and --on-error for the records of a page.
#
# The server is tests/mockapi.py, on 127.0.0.1 only, started once for the
# file with --root "$ROOT" (files a test writes there are served as
# /files/NAME).  Its records are {"id":i,"name":"r<i>","big":
# 9007199254740993+i} for i in 1..n (?n=, default 45), ten a page unless
# ?per= says otherwise; it counts every request per path+query
# (mock_state), forgotten before each test (mock_reset).  Every pgfetch run
# is bounded by `timeout 60`.

load helper
load mock

setup_file() {
	ROOT=$BATS_FILE_TMPDIR/root
	mkdir -p "$ROOT"
	export ROOT
	mock_start --root "$ROOT"
}

teardown_file() { mock_stop; }

setup() {
	sluice_setup pgfetch
	mock_reset || fail "cannot reset the mock API"
}

# snapshot FILE: the mock's state now, kept in FILE for new_requests.  (A
# checkpoint test cannot reset between its runs: ?die_page= counts the
# attempts of a page since the last reset.)
snapshot() {
	mock_state > "$1"
}

# new_requests FILE: the path+query of every request made since `snapshot
# FILE`, one a line, sorted (a path+query asked k times more shows once).
new_requests() {
	mock_state -r --slurpfile old "$1" 'to_entries[]
	    | select(.value.count > ($old[0][.key].count // 0)) | .key' | sort
}

# page_numbers [PARAM]: the numbers in PARAM=N (default page) of the
# path+query lines on stdin, sorted numerically, one a line.
page_numbers() {
	sed -nE "s/.*[?&]${1:-page}=([0-9]+)(&.*)?\$/\\1/p" | sort -n
}

# ms_now: milliseconds since the epoch.
ms_now() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# ===========================================================================
# 1. --parallel N

@test "parallel: page output is byte-identical to the sequential run" {
	fetch_ok --paginate page "$MOCK/page?n=95"
	records_are 1 95
	mv out seq
	fetch_ok --paginate page --parallel 4 "$MOCK/page?n=95"
	assert_file_bytes out seq
	# Pages of one record, more requests in flight than pages.
	fetch_ok --paginate page --parallel 64 "$MOCK/page?n=7&per=1"
	records_are 1 7
	# --start and --page-param hold in parallel too.
	fetch_ok --paginate page --parallel 3 --page-param pg --start 3 \
	    "$MOCK/page?pname=pg"
	records_are 21 45
}

@test "parallel: offset output is byte-identical to the sequential run" {
	fetch_ok --paginate offset --limit 10 "$MOCK/offset?n=45"
	records_are 1 45
	mv out seq
	fetch_ok --paginate offset --limit 10 --parallel 3 "$MOCK/offset?n=45"
	assert_file_bytes out seq
	# A last page that is full: the empty one after it ends the walk.
	fetch_ok --paginate offset --limit 10 --parallel 3 "$MOCK/offset?n=40"
	records_are 1 40
	fetch_ok --paginate offset --limit 7 --parallel 5 --offset-param skip \
	    --limit-param take "$MOCK/offset?n=45&oname=skip&lname=take"
	records_are 1 45
}

@test "parallel: stops at the first empty page; requests bounded by pages + N" {
	fetch_ok --paginate page --parallel 4 "$MOCK/page?n=95"
	records_are 1 95
	# Ten pages of records and the empty page 11: every one asked once,
	# and at most N - 1 beyond the empty one (1..14; never more than
	# written + N pages are asked for).
	assert_equal "$(attempts /page | sort -u)" 1
	local n
	n=$(requests /page)
	(( n >= 11 && n <= 14 )) || fail "$n requests for 11 pages with --parallel 4"
	mock_state -r 'keys[]' | page_numbers > asked
	assert_equal "$(head -n 11 asked)" "$(seq 1 11)"
	(( $(tail -n 1 asked) <= 14 )) || fail "asked up to page $(tail -n 1 asked)"
	# --total-path ends it without an empty page.
	mock_reset
	fetch_ok --paginate page --parallel 4 --total-path total "$MOCK/page-total"
	records_are 1 45
	n=$(requests /page-total)
	(( n >= 5 && n <= 8 )) || fail "$n requests for 5 pages with --parallel 4"
}

@test "parallel: a page past the end that fails (404) is no error" {
	# Page 6 is the empty one; page 7 answers 404.
	fetch_ok --paginate page --parallel 4 "$MOCK/page?n=45&fail_page=7&fail_code=404"
	records_are 1 45
	fetch_ok --paginate page --parallel 8 "$MOCK/page?n=45&fail_page=8&fail_code=500"
	records_are 1 45
	fetch_ok --paginate offset --limit 10 --parallel 4 "$MOCK/offset?n=45"
	records_are 1 45
}

@test "parallel: a page before the end that fails (404) exits 69 naming its URL" {
	run -69 --separate-stderr timeout 60 pgfetch --paginate page --parallel 4 \
	    "$MOCK/page?n=45&fail_page=3&fail_code=404"
	# Pages 1 and 2, none of 4 and 5 although they arrived, then the abort.
	aborted_records 69 1 20
	assert_stderr_regex "^pgfetch: http://127\\.0\\.0\\.1:$PORT/page\\?[^ ]*page=3: HTTP 404: "
	assert_stderr_partial 'page 3 fails'
	assert_equal "$(attempts '/page?n=45&fail_page=3&fail_code=404&page=3')" 1
	# The same on page 1, and with 8 in flight.
	run -69 --separate-stderr timeout 60 pgfetch --paginate page --parallel 8 \
	    "$MOCK/page?n=45&fail_page=1&fail_code=404"
	aborted_records 69 1 0
	assert_stderr_partial 'page=1: HTTP 404'
	# 401 on page 2: 77, page 1 written.
	run -77 --separate-stderr timeout 60 pgfetch --paginate page --parallel 3 \
	    "$MOCK/page?n=45&fail_page=2&fail_code=401"
	aborted_records 77 1 10
}

@test "parallel: retries inside parallel keep every record once, in order" {
	fetch_ok --paginate page --parallel 4 --backoff-base 0.05 "$MOCK/flaky?n=45"
	records_are 1 45
	# Each of pages 1..6 failed once, then came.
	local p
	for p in 1 2 3 4 5 6; do
		assert_equal "$(attempts "/flaky?n=45&page=$p")" 2
	done
	fetch_ok --paginate page --parallel 3 --backoff-base 0.05 "$MOCK/flaky?n=45&code=503"
	records_are 1 45
	fetch_ok --paginate page --parallel 3 --backoff-base 0.05 "$MOCK/truncated?n=45"
	records_are 1 45
	fetch_ok --paginate page --parallel 3 --backoff-base 0.05 "$MOCK/reset?n=45"
	records_are 1 45
	# Retries spent on page 2 of 5: 75 after page 1.
	run -75 --separate-stderr timeout 60 pgfetch --paginate page --parallel 4 \
	    --retries 1 --backoff-base 0.05 "$MOCK/page?n=45&fail_page=2&fail_code=500"
	aborted_records 75 1 10
	assert_stderr_partial 'HTTP 500 after 2 attempts'
}

@test "parallel: 16 pages of 100 ms take less than half the sequential time" {
	local t0 t1 t2 seq par
	t0=$(ms_now)
	fetch_ok --paginate page "$MOCK/page?n=150&latency=100"
	t1=$(ms_now)
	records_are 1 150
	mv out seq-out
	fetch_ok --paginate page --parallel 8 "$MOCK/page?n=150&latency=100&x=par"
	t2=$(ms_now)
	assert_file_bytes out seq-out
	seq=$(( t1 - t0 )) par=$(( t2 - t1 ))
	(( par * 2 < seq )) ||
	    fail "--parallel 8 took $par ms, sequential $seq ms: not under half"
}

@test "parallel: cursor, next, link and auto are usage errors; N is 1..64" {
	local bad
	for bad in '--paginate cursor --cursor-path next_cursor --parallel 2' \
	    '--paginate next --parallel 2' '--paginate link --parallel 2' \
	    '--parallel 2' '--paginate auto --parallel 3' \
	    '--paginate page --parallel 0' '--paginate page --parallel 65' \
	    '--paginate page --parallel -1' '--paginate page --parallel x' \
	    '--paginate page --parallel ""'; do
		eval "run -64 --separate-stderr timeout 60 pgfetch $bad \"\$MOCK/page\" </dev/null"
		assert_output ""
		assert_stderr_regex '^pgfetch: '
	done
	assert_equal "$(requests)" 0
	# 1 and 64 are fine (1 even with cursor: one in flight is sequential).
	fetch_ok --paginate page --parallel 1 "$MOCK/page"
	records_are 1 45
	fetch_ok --paginate page --parallel 64 "$MOCK/page"
	records_are 1 45
	fetch_ok --paginate cursor --cursor-path next_cursor --parallel 1 "$MOCK/cursor"
	records_are 1 45
}

@test "parallel: --max-pages 3 with --parallel 8 asks 3 pages and writes them" {
	fetch_ok --paginate page --parallel 8 --max-pages 3 "$MOCK/page?n=95"
	records_are 1 30
	assert_equal "$(requests /page)" 3
	mock_reset
	fetch_ok --paginate offset --limit 10 --parallel 8 --max-pages 3 "$MOCK/offset?n=95"
	records_are 1 30
	assert_equal "$(requests /offset)" 3
	# --max-records stops the walk too.
	fetch_ok --paginate page --parallel 8 --max-records 25 "$MOCK/page?n=95"
	records_are 1 25
}

@test "parallel: --rate still spaces the request starts 1/rate apart" {
	fetch_ok --paginate page --parallel 4 --rate 5 "$MOCK/page?n=45"
	records_are 1 45
	local n gap
	n=$(requests /page)
	(( n >= 6 )) || fail "$n requests"
	# The times of every request, whichever page: sorted, successive gaps.
	gap=$(mock_state '[.[] | .times[]] | sort
	    | [range(1; length) as $i | .[$i] - .[$i - 1]] | min')
	awk -v g="$gap" 'BEGIN { exit !(g >= 0.2 - 0.05) }' ||
	    fail "requests $gap s apart with --rate 5 (want >= 0.15)"
}

# ===========================================================================
# 2. --checkpoint FILE

@test "checkpoint page: a failed run leaves the next page; the same command resumes" {
	local cmd=(timeout 60 pgfetch --paginate page --retries 0 --checkpoint cp
	    "$MOCK/page?n=45&die_page=3")
	# Run 1: page 3 answers 500 once; --retries 0 gives up there.
	run -75 --separate-stderr "${cmd[@]}"
	aborted_records 75 1 20
	mv got run1
	[[ -f cp ]] || fail "no checkpoint file after the failed run"
	assert_equal "$(jq -c '[.paginate, .page, .pages, .records]' cp)" '["page",3,2,20]'
	assert_equal "$(stat -c %a cp)" 600
	snapshot before
	# Run 2: the same command goes on from page 3.
	run -0 --separate-stderr "${cmd[@]}"
	printf '%s\n' "$output" > run2
	records_are 21 45 run2
	cat run1 run2 > all
	records_are 1 45 all
	# It asked no page before 3: 3, 4, 5 and the empty 6.
	assert_equal "$(new_requests before | page_numbers | tr '\n' ' ')" '3 4 5 6 '
	[[ ! -e cp ]] || fail "the checkpoint is still there after the run: $(cat cp)"
	[[ ! -e cp.tmp ]] || fail "cp.tmp left behind"
	# Run 3, nothing left behind: from the start again.
	fetch --paginate page --retries 0 --checkpoint cp "$MOCK/page?n=45&die_page=3"
	records_are 1 45
}

@test "checkpoint: a successful run from the start leaves no file; mode 0600 whatever umask" {
	fetch_ok --paginate page --checkpoint cp "$MOCK/page?n=25"
	records_are 1 25
	[[ ! -e cp ]] || fail "checkpoint left after a full run"
	umask 000
	run -75 --separate-stderr timeout 60 pgfetch --paginate page --retries 0 \
	    --checkpoint cp2 "$MOCK/page?n=45&die_page=2"
	aborted_records 75 1 10
	assert_equal "$(stat -c %a cp2)" 600
}

@test "checkpoint offset and --parallel: resumes at the page that failed" {
	local cmd=(timeout 60 pgfetch --paginate offset --limit 10 --retries 0
	    --checkpoint cp "$MOCK/offset?n=45&die_page=3")
	run -75 --separate-stderr "${cmd[@]}"
	aborted_records 75 1 20
	mv got run1
	assert_equal "$(jq -c '[.paginate, .offset]' cp)" '["offset",20]'
	snapshot before
	run -0 --separate-stderr "${cmd[@]}"
	printf '%s\n' "$output" > run2
	cat run1 run2 > all
	records_are 1 45 all
	assert_equal "$(new_requests before | page_numbers offset | tr '\n' ' ')" '20 30 40 '
	[[ ! -e cp ]] || fail "checkpoint left: $(cat cp)"

	# --parallel 4: pages 5.. may have arrived, but only 1..3 were written.
	mock_reset
	cmd=(timeout 60 pgfetch --paginate page --parallel 4 --retries 0
	    --checkpoint cp "$MOCK/page?n=95&die_page=4")
	run -75 --separate-stderr "${cmd[@]}"
	aborted_records 75 1 30
	mv got run1
	assert_equal "$(jq .page cp)" 4
	snapshot before
	run -0 --separate-stderr "${cmd[@]}"
	printf '%s\n' "$output" > run2
	cat run1 run2 > all
	records_are 1 95 all
	(( $(new_requests before | page_numbers | head -n 1) == 4 )) ||
	    fail "run 2 asked: $(new_requests before | tr '\n' ' ')"
	[[ ! -e cp ]] || fail "checkpoint left: $(cat cp)"
}

@test "checkpoint cursor: resumes with the saved cursor" {
	local cmd=(timeout 60 pgfetch --paginate cursor --cursor-path next_cursor
	    --retries 0 --checkpoint cp "$MOCK/cursor?n=45&die_page=3")
	run -75 --separate-stderr "${cmd[@]}"
	aborted_records 75 1 20
	mv got run1
	assert_equal "$(jq -c '[.paginate, .cursor]' cp)" '["cursor","c~20"]'
	snapshot before
	run -0 --separate-stderr "${cmd[@]}"
	printf '%s\n' "$output" > run2
	cat run1 run2 > all
	records_are 1 45 all
	# Only c~20 on: not the first page (no cursor), not c~10.
	new_requests before > asked
	assert_equal "$(sed -nE 's/.*[?&]cursor=c~([0-9]+).*/\1/p' asked | sort -n | tr '\n' ' ')" \
	    '20 30 40 '
	assert_equal "$(wc -l < asked)" 3
	[[ ! -e cp ]] || fail "checkpoint left: $(cat cp)"
}

@test "checkpoint next: resumes with the saved next URL" {
	local cmd=(timeout 60 pgfetch --paginate next --retries 0 --checkpoint cp
	    "$MOCK/next?n=45&die_page=3")
	run -75 --separate-stderr "${cmd[@]}"
	aborted_records 75 1 20
	mv got run1
	assert_equal "$(jq -r .paginate cp)" next
	[[ $(jq -r .next cp) == *'p=3'* ]] || fail "checkpoint: $(cat cp)"
	snapshot before
	run -0 --separate-stderr "${cmd[@]}"
	printf '%s\n' "$output" > run2
	cat run1 run2 > all
	records_are 1 45 all
	assert_equal "$(new_requests before | page_numbers p | tr '\n' ' ')" '3 4 5 '
	[[ ! -e cp ]] || fail "checkpoint left: $(cat cp)"
	# The same with --paginate link (the Link header's next URL).
	mock_reset
	cmd=(timeout 60 pgfetch --paginate link --retries 0 --checkpoint cp
	    "$MOCK/link?n=45&die_page=4")
	run -75 --separate-stderr "${cmd[@]}"
	aborted_records 75 1 30
	mv got run1
	snapshot before
	run -0 --separate-stderr "${cmd[@]}"
	printf '%s\n' "$output" > run2
	cat run1 run2 > all
	records_are 1 45 all
	assert_equal "$(new_requests before | page_numbers | tr '\n' ' ')" '4 5 '
}

@test "checkpoint written for another source: 64, remove it, nothing fetched" {
	run -75 --separate-stderr timeout 60 pgfetch --paginate page --retries 0 \
	    --checkpoint cp "$MOCK/page?n=45&die_page=3"
	cp cp saved
	local args
	while read -r args; do
		mock_reset
		eval "run -64 --separate-stderr timeout 60 pgfetch --paginate page \
		    --retries 0 --checkpoint cp $args </dev/null"
		assert_output ""
		assert_stderr_partial 'remove it'
		assert_stderr_partial 'cp'
		assert_equal "$(requests)" 0
		assert_file_bytes cp saved
	done <<-EOF
	"\$MOCK/page?n=46&die_page=3"
	"\$MOCK/page?die_page=3"
	"\$MOCK/page-total?n=45&die_page=3"
	-p per=5 "\$MOCK/page?n=45&die_page=3"
	"http://localhost:\$PORT/page?n=45&die_page=3"
	EOF
}

@test "checkpoint corrupt: 65, nothing fetched" {
	local text
	for text in '{"source": ' 'hello' '' '[]' '{"source":"x"}' \
	    '{"paginate":"page","pages":"2","records":20}'; do
		printf '%s' "$text" > cp
		mock_reset
		run -65 --separate-stderr timeout 60 pgfetch --paginate page \
		    --checkpoint cp "$MOCK/page?n=45"
		aborted_records 65 1 0
		assert_stderr_partial '--checkpoint cp'
		assert_equal "$(requests)" 0
	done
}

@test "checkpoint: an --api-key-param key is not in the file (page)" {
	export SLUICE_TEST_KEY=k3y
	local cmd=(timeout 60 pgfetch --paginate page --retries 0
	    --api-key-env SLUICE_TEST_KEY --api-key-param api_key
	    --checkpoint cp "$MOCK/apikey?n=45&die_page=3")
	run -75 --separate-stderr "${cmd[@]}"
	aborted_records 75 1 20
	mv got run1
	[[ -f cp ]] || fail "no checkpoint"
	no_secrets cp
	no_secrets <(printf '%s\n%s\n' "$output" "$stderr")
	# /apikey answers 401 without the key: run 2 sends it again.
	run -0 --separate-stderr "${cmd[@]}"
	printf '%s\n' "$output" > run2
	cat run1 run2 > all
	records_are 1 45 all
	# A key in a header is not there either.
	mock_reset
	run -75 --separate-stderr timeout 60 pgfetch --paginate page --retries 0 \
	    --api-key-env SLUICE_TEST_KEY --api-key-header X-Api-Key \
	    --checkpoint cp3 "$MOCK/apikey?n=45&die_page=2"
	no_secrets cp3
}

@test "checkpoint: an --api-key-param key is not in the file (next, link)" {
	export SLUICE_TEST_KEY=k3y
	local mode
	for mode in next link; do
		rm -f cp
		run -75 --separate-stderr timeout 60 pgfetch --paginate "$mode" \
		    --retries 0 --api-key-env SLUICE_TEST_KEY --api-key-param api_key \
		    --checkpoint cp "$MOCK/$mode?n=45&die_page=3"
		[[ -f cp ]] || fail "no checkpoint"
		no_secrets cp
	done
}

# ===========================================================================
# 3. --records-jq EXPR

@test "records-jq: .data[] | select(.id > 40) on every page" {
	fetch_ok --paginate page --records-jq '.data[] | select(.id > 40)' "$MOCK/page-total"
	assert_equal "$(jq -c '[.id, .name]' out | tr '\n' ' ')" \
	    '[41,"r41"] [42,"r42"] [43,"r43"] [44,"r44"] [45,"r45"] '
	# Pages 1..4 gave none, yet were not empty: 6 requests.
	assert_equal "$(requests /page-total)" 6
	fetch_ok --paginate page --parallel 3 --records-jq '.data[] | select(.id % 10 == 1)' \
	    "$MOCK/page-total"
	assert_equal "$(jq -r .id out | tr '\n' ' ')" '1 11 21 31 41 '
}

@test "records-jq: numbers go through jq's doubles, as pgfetch(1) CAVEATS says" {
	fetch_ok --paginate page --records-jq '.data[] | select(.id > 40)' "$MOCK/page-total"
	# Small integers are exact; past 2^53 they come out as jq rounds them.
	assert_equal "$(jq -r .id out | tr '\n' ' ')" '41 42 43 44 45 '
	assert_equal "$(jq -c .big out)" \
	    "$(mock_get '/page-total?page=5' | jq -c '.data[] | select(.id > 40) | .big')"
	# Without --records-jq the text stays exact.
	fetch_ok --paginate page "$MOCK/page-total"
	assert_equal "$(grep -F '"id":42,' out)" \
	    '{"id":42,"name":"r42","big":9007199254741035}'
}

@test "records-jq: an output that is an array of objects gives each element" {
	fetch_ok --paginate none --records-jq '[.data[] | select(.id % 3 == 0)], [.data[0]]' \
	    "$MOCK/page-total"
	assert_equal "$(jq -r .id out | tr '\n' ' ')" '3 6 9 1 '
	fetch_ok --paginate page --records-jq '.data' "$MOCK/page-total?n=25"
	assert_equal "$(jq -r .id out)" "$(seq 1 25)"
	# An object built by the program.
	fetch_ok --paginate none --records-jq '.data[] | {id, twice: (.id * 2)}' "$MOCK/page-total?n=3"
	assert_equal "$(cat out)" "$(printf '{"id":1,"twice":2}\n{"id":2,"twice":4}\n{"id":3,"twice":6}')"
}

@test "records-jq: a syntax error exits 64 before any request" {
	local expr
	for expr in '.data[' 'select(' '.data[] |' 'nosuchfunction(1)'; do
		run -64 --separate-stderr timeout 60 pgfetch --paginate page \
		    --records-jq "$expr" "$MOCK/page-total"
		assert_output ""
		assert_stderr_regex '^pgfetch: --records-jq'
	done
	assert_equal "$(requests)" 0
}

@test "records-jq: a non-object output goes through --on-error" {
	run -65 --separate-stderr timeout 60 pgfetch --paginate none \
	    --records-jq '.data[] | .id' "$MOCK/page-total"
	aborted_records 65 1 0
	assert_stderr_partial 'is not an object'
	# skip: a warning a value, exit 0, the objects still written.
	run -0 --separate-stderr timeout 60 pgfetch --paginate none --on-error skip \
	    --records-jq '.data[] | if .id == 2 then .name else . end' "$MOCK/page-total?n=3"
	assert_equal "$(jq -r .id <<<"$output" | tr '\n' ' ')" '1 3 '
	assert_stderr_partial 'is not an object (skipped)'
	# quarantine: the value in the file, with its reason.
	run -0 --separate-stderr timeout 60 pgfetch --paginate none \
	    --on-error quarantine=q.jsonl --records-jq '.data[] | .id' "$MOCK/page-total?n=2"
	assert_output ""
	assert_equal "$(jq -r .input q.jsonl | tr '\n' ' ')" '1 2 '
	assert_equal "$(jq -r '.error | test("is not an object")' q.jsonl | sort -u)" true
}

@test "records-jq: a page filtered to nothing still paginates; the empty page ends it" {
	fetch_ok --paginate page --records-jq '.[] | select(false)' "$MOCK/page?n=25"
	assert_equal "$(wc -c < out)" 0
	assert_equal "$(requests /page)" 4
	# offset: a full page filtered out is still a full page.
	mock_reset
	fetch_ok --paginate offset --limit 10 --records-jq '.results[] | select(.id > 100)' \
	    "$MOCK/offset?n=25"
	assert_equal "$(wc -c < out)" 0
	assert_equal "$(requests /offset)" 3
}

@test "records-jq: on a file, or with --records, is a usage error" {
	printf '{"id":1}\n' > f.jsonl
	run -64 --separate-stderr timeout 60 pgfetch --records-jq '.' f.jsonl
	assert_output ""
	assert_stderr_partial 'records-jq'
	# A file over HTTP (by its name) too.
	printf '{"id":1}\n' > "$ROOT/f.jsonl"
	run -64 --separate-stderr timeout 60 pgfetch --records-jq '.' "$MOCK/files/f.jsonl"
	assert_output ""
	run -64 --separate-stderr timeout 60 pgfetch --records data --records-jq '.data[]' \
	    "$MOCK/page-total"
	assert_output ""
	assert_stderr_partial '--records'
	assert_equal "$(requests)" 0
}

@test "checkpoint: a file is a usage error; a URL found to be a file is read whole, with a notice" {
	printf '{"id":1}\n' > f.jsonl
	run -64 --separate-stderr timeout 60 pgfetch --checkpoint ck f.jsonl
	assert_output ""
	assert_stderr_partial '--checkpoint applies to the pages of an API'
	printf '{"id":1}\n' > "$ROOT/f.jsonl"
	run -64 --separate-stderr timeout 60 pgfetch --checkpoint ck "$MOCK/files/f.jsonl"
	assert_equal "$(requests)" 0
	run -0 --separate-stderr timeout 60 pgfetch --checkpoint ck "$MOCK/jsonl?n=3"
	assert_equal "$(jq -r .id <<<"$output" | tr '\n' ' ')" '1 2 3 '
	assert_stderr_partial '--checkpoint does not apply to a file'
	[[ ! -e ck ]] || fail "a checkpoint was written: $(cat ck)"
}

# ===========================================================================
# 4. HTTP(S) files, streamed

# gen_api_jsonl FIRST LAST FILE: records FIRST..LAST as the mock writes
# them, compact, one a line.
gen_api_jsonl() {
	want_records "$1" "$2" > "$3"
}

@test "stream: a .jsonl URL gives the records of the API pages" {
	mock_get '/jsonl?n=1000' > "$ROOT/api.jsonl"
	fetch_ok "$MOCK/files/api.jsonl"
	records_are 1 1000
	mv out streamed
	fetch_ok --paginate page -p per=100 "$MOCK/page?n=1000"
	assert_file_bytes streamed out
	assert_equal "$(requests /files/api.jsonl)" 1
	# .ndjson too, and with a query string.
	cp "$ROOT/api.jsonl" "$ROOT/api.ndjson"
	fetch_ok "$MOCK/files/api.ndjson?x=1"
	assert_file_bytes out streamed
}

@test "stream: --format jsonl forces streaming of /jsonl (no extension)" {
	# (Exit 139 before ac5d652: --format with a URL dereferenced NULL.)
	fetch_ok --format jsonl "$MOCK/jsonl?n=1000"
	records_are 1 1000
	assert_equal "$(requests /jsonl)" 1
	# The same body as the pages of /page.
	mv out streamed
	fetch_ok --paginate page -p per=100 "$MOCK/page?n=1000"
	assert_file_bytes streamed out
	# Without --format, its Content-Type (application/x-ndjson) says file:
	# the first answer stops at its headers, a second GET streams it.
	mock_reset
	run -0 --separate-stderr timeout 60 pgfetch "$MOCK/jsonl?n=3"
	assert_equal "$(jq -r .id <<<"$output" | tr '\n' ' ')" '1 2 3 '
	assert_stderr_partial 'is a file (Content-Type application/x-ndjson): streaming it'
	assert_equal "$(requests /jsonl)" 2
	# With --paginate page it stays an API: the body is no JSON, 65.
	run -65 --separate-stderr timeout 60 pgfetch --paginate page "$MOCK/jsonl?n=3"
	# --format csv and json on names that say nothing.
	printf 'a,b\n1,2\n' > "$ROOT/t.data"
	fetch_ok --format csv "$MOCK/files/t.data"
	assert_equal "$(cat out)" '{"a":"1","b":"2"}'
	printf '[{"a":1},{"a":2}]' > "$ROOT/j.data"
	fetch_ok --format json "$MOCK/files/j.data"
	assert_equal "$(cat out)" "$(printf '{"a":1}\n{"a":2}')"
}

@test "stream: .jsonl.gz and .csv.gz come out decompressed; .csv with --csv-types" {
	gen_api_jsonl 1 2000 "$ROOT/a.jsonl"
	gzip -c "$ROOT/a.jsonl" > "$ROOT/a.jsonl.gz"
	fetch_ok "$MOCK/files/a.jsonl.gz"
	records_are 1 2000
	printf 'id,name,ok,v\n1,a,true,1.5\n2,"b,c",false,\n3,"say ""hi""",TRUE,9007199254740993\n' \
	    > "$ROOT/t.csv"
	gzip -c "$ROOT/t.csv" > "$ROOT/t.csv.gz"
	fetch_ok "$MOCK/files/t.csv.gz"
	assert_equal "$(cat out)" "$(printf '%s\n' \
	    '{"id":"1","name":"a","ok":"true","v":"1.5"}' \
	    '{"id":"2","name":"b,c","ok":"false","v":""}' \
	    '{"id":"3","name":"say \"hi\"","ok":"TRUE","v":"9007199254740993"}')"
	fetch_ok --csv-types "$MOCK/files/t.csv"
	assert_equal "$(cat out)" "$(printf '%s\n' \
	    '{"id":1,"name":"a","ok":true,"v":1.5}' \
	    '{"id":2,"name":"b,c","ok":false,"v":null}' \
	    '{"id":3,"name":"say \"hi\"","ok":true,"v":9007199254740993}')"
	# A .tsv is split on tabs.
	printf 'a\tb\n1\tx,y\n' > "$ROOT/t.tsv"
	fetch_ok "$MOCK/files/t.tsv"
	assert_equal "$(cat out)" '{"a":"1","b":"x,y"}'
}

@test "stream: a body cut short is resumed: every record once, 2 requests" {
	gen_api_jsonl 1 2000 "$ROOT/a.jsonl"
	gzip -c "$ROOT/a.jsonl" > "$ROOT/a.jsonl.gz"
	local cut
	for cut in 1 5000 50000 97000; do
		fetch --backoff-base 0.05 "$MOCK/files/a.jsonl?cut=$cut"
		assert_file_bytes out "$ROOT/a.jsonl"
		assert_equal "$(attempts "/files/a.jsonl?cut=$cut")" 2
	done
	# Cut inside the compressed stream.
	fetch --backoff-base 0.05 "$MOCK/files/a.jsonl.gz?cut=3000"
	assert_file_bytes out "$ROOT/a.jsonl"
	assert_equal "$(attempts '/files/a.jsonl.gz?cut=3000')" 2
	# --stats counts both requests and the retry.
	fetch --backoff-base 0.05 --stats st.json "$MOCK/files/a.jsonl?cut=7777"
	jq -e '.records == 2000 and .requests == 2 and .retries == 1' st.json >/dev/null ||
	    fail "stats: $(cat st.json)"
}

@test "stream: --max-records 3 stops a large file early, exit 0" {
	awk 'BEGIN { for (i = 1; i <= 300000; i++)
		printf "{\"id\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n", i }' \
	    > "$ROOT/large.jsonl"
	local size
	size=$(stat -c %s "$ROOT/large.jsonl")
	fetch_ok --max-records 3 --stats st.json "$MOCK/files/large.jsonl"
	assert_equal "$(jq -r .id out | tr '\n' ' ')" '1 2 3 '
	# It stopped reading: far less than the file went over the wire.
	local bytes
	bytes=$(jq .bytes st.json)
	(( bytes > 0 && bytes < size / 4 )) || fail "read $bytes of $size bytes"
	assert_equal "$(jq .requests st.json)" 1
	rm -f "$ROOT/large.jsonl"
}

@test "stream: a URL ending in .json is an API page, not a streamed file" {
	# /page-total.json is /page-total: paginated as an API.
	fetch_ok --paginate page "$MOCK/page-total.json"
	records_are 1 45
	assert_equal "$(requests /page-total.json)" 6
	# --records-jq applies (a file would be a usage error).
	fetch_ok --paginate none --records-jq '.data[] | select(.id == 2)' "$MOCK/page-total.json"
	assert_equal "$(jq -c .id out)" 2
	# Auto on a .json file: one page, said on stderr as for an API.
	printf '{"data":[{"id":1},{"id":2}]}' > "$ROOT/p.json"
	fetch "$MOCK/files/p.json"
	assert_equal "$(cat out)" "$(printf '{"id":1}\n{"id":2}')"
	grep -Fq 'paginating by nothing' err || fail "stderr: $(cat err)"
	# .json.gz is a file: streamed, gzip undone.
	gzip -c "$ROOT/p.json" > "$ROOT/p.json.gz"
	fetch_ok "$MOCK/files/p.json.gz"
	assert_equal "$(cat out)" "$(printf '{"id":1}\n{"id":2}')"
}

@test "stream: --stats for a URL reports bytes and requests" {
	gen_api_jsonl 1 500 "$ROOT/s.jsonl"
	fetch_ok --stats st.json "$MOCK/files/s.jsonl"
	jq -e --argjson size "$(stat -c %s "$ROOT/s.jsonl")" \
	    '.records == 500 and .bytes == $size and .requests == 1 and .retries == 0' \
	    st.json >/dev/null || fail "stats: $(cat st.json)"
	# API pages: bytes of the bodies, > 0.
	fetch_ok --paginate page --stats st.json "$MOCK/page"
	jq -e '.records == 45 and .bytes > 0 and .requests == 6' st.json >/dev/null ||
	    fail "stats: $(cat st.json)"
}

@test "stream: a 404 file exits 69; bad data in a streamed file follows --on-error" {
	run -69 --separate-stderr timeout 60 pgfetch "$MOCK/files/nosuch.jsonl"
	aborted_records 69 1 0
	assert_stderr_partial 'HTTP 404'
	printf '{"id":1}\nnot json\n{"id":3}\n' > "$ROOT/bad.jsonl"
	run -65 --separate-stderr timeout 60 pgfetch "$MOCK/files/bad.jsonl"
	assert_equal "$(head -n 1 <<<"$output")" '{"id":1}'
	assert_equal "$(tail -n 1 <<<"$output" | jq -r .type)" SLUICE_ABORT
	assert_stderr_partial 'bad.jsonl:2:'
	fetch --on-error skip "$MOCK/files/bad.jsonl"
	assert_equal "$(cat out)" "$(printf '{"id":1}\n{"id":3}')"
	grep -Fq 'bad.jsonl:2:' err || fail "stderr: $(cat err)"
}

# A file over the network is parsed on a thread of its own while the
# transfer goes on (cmd/pgfetch/relay.c) when the machine has a CPU for it
# (--parse-thread auto): what the reader says, and the signals, must be
# the same on two threads (always) as on one (never).

@test "stream: bad data before a cut with no retry left: 65 for the line, not 75 for the cut" {
	awk 'BEGIN { print "{\"id\":1}"; print "{\"id\":2}"; print "not json";
		for (i = 4; i <= 40000; i++) printf "{\"id\":%d,\"pad\":\"xxxxxxxxxxxxxxxx\"}\n", i }' \
	    > "$ROOT/badcut.jsonl"
	local when
	for when in always never; do
		run -65 --separate-stderr timeout 60 pgfetch --parse-thread "$when" \
		    --retries 0 "$MOCK/files/badcut.jsonl?cut=30"
		aborted 65 '{"id":1}' '{"id":2}'
		assert_stderr_partial 'badcut.jsonl?cut=30:3:'
		[[ $stderr != *"75"* && $stderr != *retr* ]] || fail "$when: $stderr"
	done
	rm -f "$ROOT/badcut.jsonl"
}

@test "stream: a file piped to head -n1 ends by SIGPIPE (141), stderr empty" {
	awk 'BEGIN { for (i = 1; i <= 300000; i++)
		printf "{\"id\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n", i }' \
	    > "$ROOT/pipe.jsonl"
	local st when
	for when in always never; do
		timeout 60 pgfetch --parse-thread "$when" "$MOCK/files/pipe.jsonl" \
		    2> err | head -n 1 > out
		st=${PIPESTATUS[0]}
		assert_equal "$when $st" "$when 141"
		assert_equal "$(cat out)" '{"id":1,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
		[[ ! -s err ]] || fail "$when: stderr: $(cat err)"
	done
	rm -f "$ROOT/pipe.jsonl"
}

@test "stream: SIGTERM while stdout is full ends pgfetch by the signal at once, on two threads or one" {
	awk 'BEGIN { for (i = 1; i <= 300000; i++)
		printf "{\"id\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n", i }' \
	    > "$ROOT/term.jsonl"
	local pid when threads
	mkfifo full
	for when in always never; do
		# Held open for reading and never read: the pipe fills, stays full.
		exec 7<>full
		pgfetch --parse-thread "$when" "$MOCK/files/term.jsonl" > full 2> err &
		pid=$!
		sleep 1
		kill -0 "$pid" || fail "$when: pgfetch ended before the signal: $(cat err)"
		# The parse's own thread, or none (127.0.0.1 needs no resolver's).
		threads=$(find "/proc/$pid/task" -mindepth 1 -maxdepth 1 | wc -l)
		kill -TERM "$pid"
		wait_pid_bounded "$pid" 10
		exec 7<&-
		assert_equal "$when $WAIT_STATUS" "$when 143"
		if [[ $when == always ]]; then
			assert_equal "$when threads: $threads" "$when threads: 2"
		else
			assert_equal "$when threads: $threads" "$when threads: 1"
		fi
	done
	rm -f "$ROOT/term.jsonl"
}

@test "stream: a 50 MB file in bounded memory (< 64 MB peak)" {
	[[ -x /usr/bin/time ]] || skip "no /usr/bin/time"
	awk 'BEGIN { for (i = 1; i <= 600000; i++)
		printf "{\"id\":%d,\"name\":\"row %d\",\"pad\":\"%s\"}\n", i, i,
		    "pppppppppppppppppppppppppppppppppppppppppppppppppppp" }' \
	    > "$ROOT/big.jsonl"
	local size
	size=$(stat -c %s "$ROOT/big.jsonl")
	(( size >= 50000000 )) || fail "the file is only $size bytes"
	local when kb
	for when in always never; do
		/usr/bin/time -f %M -o "mem.$when" timeout 60 pgfetch \
		    --parse-thread "$when" --stats st.json \
		    "$MOCK/files/big.jsonl" > out 2> err ||
		    fail "$when: exit $?: $(cat err)"
		assert_equal "$when $(wc -l < out)" "$when 600000"
		assert_equal "$(tail -n 1 out | jq .id)" 600000
		assert_equal "$(jq .bytes st.json)" "$size"
	done
	rm -f "$ROOT/big.jsonl" out
	sanitized pgfetch && skip "RSS is not measured under ASan"
	for when in always never; do
		kb=$(tail -n 1 "mem.$when")
		(( kb < 65536 )) || fail "$when: peak memory $kb KB"
	done
}

# ===========================================================================
# 5. Redirects and secrets

@test "redirect to another host: no X-Api-Key, no Authorization; same host keeps them" {
	export SLUICE_TEST_KEY=k3y SLUICE_TEST_TOKEN=s3cret
	local auth=(--api-key-env SLUICE_TEST_KEY --api-key-header X-Api-Key
	    --bearer-env SLUICE_TEST_TOKEN)
	fetch_ok --paginate none "${auth[@]}" \
	    "$MOCK/redirect-to?url=http://localhost:$PORT/echo"
	assert_equal "$(jq -r .path out)" /echo
	assert_equal "$(jq -r '.headers.host' out)" "localhost:$PORT"
	assert_equal "$(jq -c '[.headers["x-api-key"], .headers.authorization]' out)" '[null,null]'
	no_secrets out
	# To 127.0.0.1 itself: both kept.
	fetch_ok --paginate none "${auth[@]}" \
	    "$MOCK/redirect-to?url=http://127.0.0.1:$PORT/echo"
	assert_equal "$(jq -c '[.headers["x-api-key"], .headers.authorization]' out)" \
	    '["k3y","Bearer s3cret"]'
	# Two hops, the second back to 127.0.0.1: once off the host, still none.
	fetch_ok --paginate none "${auth[@]}" \
	    "$MOCK/redirect-to?url=http://localhost:$PORT/redirect-to%3Furl%3Dhttp://127.0.0.1:$PORT/echo"
	assert_equal "$(jq -c '[.headers["x-api-key"], .headers.authorization]' out)" '[null,null]'
	assert_equal "$(requests /echo)" 3
}

@test "redirect to another host: the --api-key-param key is not sent there" {
	export SLUICE_TEST_KEY=k3y
	fetch_ok --paginate none --api-key-env SLUICE_TEST_KEY --api-key-param api_key \
	    "$MOCK/redirect-to?url=http://localhost:$PORT/echo%3Fa%3D1"
	assert_equal "$(jq -cS .query out)" '{"a":"1"}'
	no_secrets out
	fetch_ok --paginate none --api-key-env SLUICE_TEST_KEY --api-key-param api_key \
	    "$MOCK/redirect-to?url=http://127.0.0.1:$PORT/echo%3Fa%3D1"
	assert_equal "$(jq -cS .query out)" '{"a":"1","api_key":"k3y"}'
	# Basic credentials from --basic-env stay home too.
	export SLUICE_TEST_USER=user SLUICE_TEST_PASS=pw
	fetch_ok --paginate none --basic-env SLUICE_TEST_USER:SLUICE_TEST_PASS \
	    "$MOCK/redirect-to?url=http://localhost:$PORT/echo"
	assert_equal "$(jq -r .headers.authorization out)" null
	fetch_ok --paginate none --basic-env SLUICE_TEST_USER:SLUICE_TEST_PASS \
	    "$MOCK/redirect-to?url=http://127.0.0.1:$PORT/echo"
	assert_equal "$(jq -r .headers.authorization out)" 'Basic dXNlcjpwdw=='
}

@test "redirect to another host: an Authorization from --header-file or -H is not sent there" {
	printf 'Authorization: Bearer s3cret\n' > hf
	fetch_ok --paginate none --header-file hf \
	    "$MOCK/redirect-to?url=http://localhost:$PORT/echo"
	assert_equal "$(jq -r .headers.authorization out)" null
	fetch_ok --paginate none -H 'Authorization: Bearer s3cret' \
	    "$MOCK/redirect-to?url=http://localhost:$PORT/echo"
	assert_equal "$(jq -r .headers.authorization out)" null
}

# ===========================================================================
# 6. --on-error for the records of an API page

@test "on-error: a page's non-object record is skipped with a warning" {
	fetch --paginate page --on-error skip "$MOCK/page?n=25&junk=13"
	want_records 1 12 > want-skip
	want_records 14 25 >> want-skip
	assert_file_bytes out want-skip
	grep -Eq '^pgfetch: .*page 2: record 3 is not an object \(skipped\)$' err ||
	    fail "stderr: $(cat err)"
	# In parallel, the same.
	fetch --paginate page --parallel 4 --on-error skip "$MOCK/page?n=25&junk=13"
	assert_file_bytes out want-skip
	# quarantine=FILE keeps it.
	fetch --paginate page --on-error quarantine=q.jsonl "$MOCK/page?n=25&junk=13"
	assert_file_bytes out want-skip
	assert_equal "$(jq -r .input q.jsonl)" 13
}

@test "on-error: by default a page's non-object record exits 65" {
	run -65 --separate-stderr timeout 60 pgfetch --paginate page "$MOCK/page?n=25&junk=13"
	assert_stderr_partial 'is not an object'
	assert_equal "$(tail -n 1 <<<"$output" | jq -c '[.type, .status]')" '["SLUICE_ABORT",65]'
	# Page 1 is there; nothing from record 13 on.
	sed '$d' <<<"$output" > got
	assert_equal "$(head -n 10 got | jq -r .id)" "$(seq 1 10)"
	assert_equal "$(jq -r 'select(.id >= 13) | .id' got)" ""
	assert_equal "$(requests /page)" 2
	run -65 --separate-stderr timeout 60 pgfetch --paginate none "$MOCK/page-total?junk=1"
	aborted_records 65 1 0
}

@test "on-error: a page failing on a non-object record is not written at all" {
	run -65 --separate-stderr timeout 60 pgfetch --paginate page "$MOCK/page?n=25&junk=13"
	aborted_records 65 1 10
}

@test "on-error: the messages, the abort line and the quarantine file hide the URL's secrets" {
	fetch --paginate page --on-error skip "$MOCK/page?n=25&junk=13&api_key=k3y"
	no_secrets err
	fetch --paginate page --on-error quarantine=q.jsonl \
	    "$MOCK/page?n=25&junk=13&token=tok-zz9"
	no_secrets err
	no_secrets q.jsonl
	run -65 --separate-stderr timeout 60 pgfetch --paginate page \
	    "$MOCK/page?n=25&junk=13&token=tok-zz9"
	no_secrets <(printf '%s\n%s\n' "$output" "$stderr")
	printf '{"id":1}\nnot json\n' > "$ROOT/bad.jsonl"
	run -65 --separate-stderr timeout 60 pgfetch "$MOCK/files/bad.jsonl?token=tok-zz9"
	no_secrets <(printf '%s\n%s\n' "$output" "$stderr")
}
