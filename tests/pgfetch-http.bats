bats_require_minimum_version 1.5.0
# pgfetch, HTTP mode (spec4b.md, issue 4): every paginator, --max-pages and
# --max-records, record selection, 64-bit numbers, request parameters and
# headers, auth from the environment, retries (5xx, 429 and Retry-After,
# resets, truncated bodies, timeouts), exit codes, secrets kept out of
# stderr, --stats, -m -s, and a whole pipeline into SQLite.
#
# The server is tests/mockapi.py, on 127.0.0.1 only, started once for the
# file.  Its records are {"id":i,"name":"r<i>","big":9007199254740993+i}
# for i in 1..n (?n=, default 45), ten a page unless ?per= says otherwise;
# it counts every request per path+query (mock_state), forgotten before
# each test (mock_reset).  Every pgfetch run is bounded by `timeout 60`.

load helper
load mock

setup_file() { mock_start -v; }
teardown_file() { mock_stop; }

setup() {
	sluice_setup pgfetch jsonl-normalize schema-infer sqlite-load
	mock_reset || fail "cannot reset the mock API"
}

# min_gap [WHICH]: the shortest time, in seconds, between two successive
# requests for the same path+query ("none" if there are none).
min_gap() {
	mock_state -r --arg w "${1-}" "[to_entries[] | $MATCH
	    | .value.times as \$t | range(1; \$t | length) | \$t[.] - \$t[. - 1]]
	    | min // \"none\""
}

# at_least X MIN: the number X is >= MIN.
at_least() {
	awk -v x="$1" -v m="$2" 'BEGIN { exit !(x != "none" && x + 0 >= m + 0) }' ||
	    fail "$1 is not at least $2"
}

# ---------------------------------------------------------------------------
# Paginators.

@test "page: every record once, in order; stops at the first empty page" {
	fetch_ok --paginate page "$MOCK/page?per=10"
	records_are 1 45
	assert_equal "$(requests /page)" 6
	# A last page that is full: one more request finds it empty.
	mock_reset
	fetch_ok --paginate page "$MOCK/page?n=40"
	records_are 1 40
	assert_equal "$(requests /page)" 5
	# Pages of one record.
	fetch_ok --paginate page "$MOCK/page?n=7&per=1"
	records_are 1 7
}

@test "page: --page-param names the parameter, --start the first page" {
	fetch_ok --paginate page --page-param pg "$MOCK/page?pname=pg"
	records_are 1 45
	fetch_ok --paginate page --start 3 "$MOCK/page"
	records_are 21 45
	fetch_ok --paginate page --page-param pg --start 5 "$MOCK/page?pname=pg"
	records_are 41 45
}

@test "page: --total-path stops when the total is reached, no empty page asked" {
	fetch_ok --paginate page --total-path total "$MOCK/page-total"
	records_are 1 45
	assert_equal "$(requests /page-total)" 5
	mock_reset
	fetch_ok --paginate page --total-path .total "$MOCK/page-total?n=40"
	records_are 1 40
	assert_equal "$(requests /page-total)" 4
}

@test "offset: --limit records a request; stops on a short page" {
	fetch_ok --paginate offset --limit 10 "$MOCK/offset"
	records_are 1 45
	assert_equal "$(requests /offset)" 5
	mock_reset
	fetch_ok --paginate offset --limit 10 "$MOCK/offset?n=40"
	records_are 1 40
	assert_equal "$(requests /offset)" 5
	mock_reset
	fetch_ok --paginate offset --limit 7 "$MOCK/offset"
	records_are 1 45
	assert_equal "$(requests /offset)" 7
	# The default limit, 100: one short page.
	mock_reset
	fetch_ok --paginate offset "$MOCK/offset"
	records_are 1 45
	assert_equal "$(requests /offset)" 1
}

@test "offset: --offset-param and --limit-param name the parameters" {
	fetch_ok --paginate offset --offset-param skip --limit-param take \
	    --limit 10 "$MOCK/offset?oname=skip&lname=take"
	records_are 1 45
	assert_equal "$(requests /offset)" 5
}

@test "cursor: --cursor-path gives the next cursor until it is null" {
	fetch_ok --paginate cursor --cursor-path next_cursor "$MOCK/cursor"
	records_are 1 45
	assert_equal "$(requests /cursor)" 5
	fetch_ok --paginate cursor --cursor-path .next_cursor --cursor-param cursor \
	    "$MOCK/cursor?n=3"
	records_are 1 3
}

@test "cursor: without --cursor-path is a usage error" {
	run -64 --separate-stderr timeout 60 pgfetch --paginate cursor "$MOCK/cursor"
	assert_output ""
	assert_stderr_regex '^(pgfetch: |usage: pgfetch)'
	assert_equal "$(requests)" 0
}

@test "next: the body's next URL, relative or absolute, --next-path" {
	fetch_ok --paginate next "$MOCK/next"
	records_are 1 45
	assert_equal "$(requests /next)" 5
	fetch_ok --paginate next "$MOCK/next?abs=1"
	records_are 1 45
	fetch_ok --paginate next "$MOCK/next?rel=path"
	records_are 1 45
	fetch_ok --paginate next --next-path links.next "$MOCK/next?nest=1"
	records_are 1 45
	fetch_ok --paginate next --next-path .links.next "$MOCK/next?nest=1&n=10"
	records_are 1 10
}

@test "link: the Link header's rel=\"next\" among prev, last and first" {
	fetch_ok --paginate link "$MOCK/link"
	records_are 1 45
	assert_equal "$(requests /link)" 5
	fetch_ok --paginate link "$MOCK/link?n=10"
	records_are 1 10
	assert_equal "$(requests /link)" 6
}

@test "auto (the default): a Link header, said once on stderr" {
	fetch "$MOCK/link"
	records_are 1 45
	assert_equal "$(grep -c 'paginating' err)" 1
	grep -Fxq 'pgfetch: paginating by Link header' err ||
	    fail "stderr: $(cat err)"
	fetch --paginate auto "$MOCK/link?per=20"
	records_are 1 45
}

@test "auto: a body next URL, said once on stderr" {
	fetch "$MOCK/next"
	records_are 1 45
	assert_equal "$(grep -c 'paginating' err)" 1
	fetch "$MOCK/next?abs=1"
	records_are 1 45
}

@test "auto: without Link or next, one page; none: one request" {
	fetch "$MOCK/page"
	records_are 1 10
	assert_equal "$(requests /page)" 1
	fetch "$MOCK/page-total"
	records_are 1 10
	fetch "$MOCK/cursor"
	records_are 1 10
	mock_reset
	fetch_ok --paginate none "$MOCK/link"
	records_are 1 10
	fetch_ok --paginate none "$MOCK/next"
	records_are 1 10
	assert_equal "$(requests)" 2
}

@test "--max-pages N with every paginator" {
	local row args url
	while IFS='|' read -r args url; do
		mock_reset
		# shellcheck disable=SC2086
		fetch --max-pages 2 $args "$MOCK$url" </dev/null
		records_are 1 20
		assert_equal "$(requests)" 2
	done <<-EOF
	--paginate page|/page
	--paginate page --total-path total|/page-total
	--paginate offset --limit 10|/offset
	--paginate cursor --cursor-path next_cursor|/cursor
	--paginate next|/next
	--paginate link|/link
	--paginate auto|/link
	--paginate auto|/next
	EOF
	fetch_ok --paginate page --max-pages 1 "$MOCK/page"
	records_are 1 10
}

@test "--max-records N stops the records and the requests" {
	fetch_ok --paginate page --max-records 15 "$MOCK/page"
	records_are 1 15
	assert_equal "$(requests /page)" 2
	mock_reset
	fetch_ok --paginate page --max-records 10 "$MOCK/page"
	records_are 1 10
	assert_equal "$(requests /page)" 1
	fetch_ok --paginate cursor --cursor-path next_cursor --max-records 1 "$MOCK/cursor"
	records_are 1 1
	fetch --max-records 44 "$MOCK/link"
	records_are 1 44
	# More than there are: all of them, exit 0.
	fetch_ok --paginate page --max-records 1000 "$MOCK/page"
	records_are 1 45
}

@test "empty: a first page without records gives no output and exit 0" {
	local args url
	while IFS='|' read -r args url; do
		# shellcheck disable=SC2086
		fetch $args "$MOCK$url" </dev/null
		[[ ! -s out ]] || fail "$args $url: output: $(head -c 300 out)"
	done <<-EOF
	--paginate page|/page?n=0
	--paginate page --total-path total|/page-total?n=0
	--paginate offset|/offset?n=0
	--paginate cursor --cursor-path next_cursor|/cursor?n=0
	--paginate next|/next?n=0
	--paginate link|/link?n=0
	--paginate none|/page?n=0
	--paginate auto|/page?n=0
	EOF
}

# ---------------------------------------------------------------------------
# Record selection, numbers.

@test "records: the data, results and items envelopes; a plain object is one record" {
	fetch_ok --paginate none "$MOCK/page-total"
	records_are 1 10
	fetch_ok --paginate none "$MOCK/offset"
	records_are 1 10
	fetch_ok --paginate none "$MOCK/cursor"
	records_are 1 10
	fetch_ok --paginate none "$MOCK/page?wrap=records&n=3"
	records_are 1 3
	# No envelope member: the object is the record.
	fetch_ok --paginate none "$MOCK/page?wrap=payload.rows&n=2"
	assert_equal "$(wc -l < out)" 1
	assert_equal "$(jq -c 'keys' out)" '["meta","payload"]'
	fetch_ok --paginate none "$MOCK/echo"
	assert_equal "$(wc -l < out)" 1
	assert_equal "$(jq -r .path out)" /echo
}

@test "records: --records PATH selects the array on every page, in each spelling" {
	local p
	for p in .payload.rows payload.rows; do
		fetch_ok --paginate page --records "$p" "$MOCK/page?wrap=payload.rows"
		records_are 1 45
	done
	fetch_ok --paginate none --records data "$MOCK/page-total"
	records_are 1 10
}

@test "records: --records PATH with no array there exits 65" {
	run -65 --separate-stderr timeout 60 pgfetch --paginate none --records .nope \
	    "$MOCK/page?wrap=payload.rows"
	aborted_records 65 1 0
	run -65 --separate-stderr timeout 60 pgfetch --paginate none --records .meta \
	    "$MOCK/page?wrap=payload.rows"
	aborted_records 65 1 0
}

@test "numbers: 64-bit integers keep their text (jq 1.6 would round them)" {
	fetch_ok --paginate page "$MOCK/page?n=45"
	assert_equal "$(line 1 out)" '{"id":1,"name":"r1","big":9007199254740994}'
	assert_equal "$(line 45 out)" '{"id":45,"name":"r45","big":9007199254741038}'
	# Odd values past 2^53, which a double cannot hold.
	assert_equal "$(line 2 out)" '{"id":2,"name":"r2","big":9007199254740995}'
	records_are 1 45
}

# ---------------------------------------------------------------------------
# The request: parameters, headers, user agent, gzip, redirects.

@test "-p, -H and --header-file reach the server" {
	printf 'X-From-File: one\nX-Other: two words\n' > headers.txt
	fetch_ok --paginate none -p a=1 -p 'b=x y' -p 'c=a&b=c' -p 'd=é' \
	    -H 'X-One: 1' -H 'X-Two:   spaced' --header-file headers.txt "$MOCK/echo?z=9"
	assert_equal "$(jq -cS .query out)" '{"a":"1","b":"x y","c":"a&b=c","d":"é","z":"9"}'
	assert_equal "$(jq -r '.headers["x-one"]' out)" 1
	assert_equal "$(jq -r '.headers["x-two"]' out)" spaced
	assert_equal "$(jq -r '.headers["x-from-file"]' out)" one
	assert_equal "$(jq -r '.headers["x-other"]' out)" 'two words'
	# -p on every page.
	fetch_ok --paginate page -p per=5 -p n=12 "$MOCK/page"
	records_are 1 12
	assert_equal "$(requests /page)" 4
}

@test "the User-Agent is sluice-pgfetch/0.1.0; gzip is accepted and decoded" {
	fetch_ok --paginate none "$MOCK/echo"
	assert_equal "$(jq -r '.headers["user-agent"]' out)" sluice-pgfetch/0.1.0
	assert_equal "$(jq -r '.headers["accept-encoding"] | test("gzip")' out)" true
	fetch_ok --paginate page "$MOCK/gzip?n=25"
	records_are 1 25
	assert_equal "$(mock_state '[.[] | .gzip[]?] | unique')" '[true]'
}

@test "redirects are followed" {
	fetch_ok --paginate none "$MOCK/redirect?hops=3"
	records_are 1 10
	assert_equal "$(requests /redirect)" 4
}

# ---------------------------------------------------------------------------
# Auth from the environment.

@test "auth: --bearer-env sends Authorization: Bearer on every page" {
	export SLUICE_TEST_TOKEN=s3cret
	fetch_ok --paginate page --bearer-env SLUICE_TEST_TOKEN "$MOCK/auth"
	records_are 1 45
	assert_equal "$(requests /auth)" 6
}

@test "auth: --basic-env USERVAR:PASSVAR sends Basic credentials" {
	export SLUICE_TEST_USER=user SLUICE_TEST_PASS=pw
	fetch_ok --paginate page --basic-env SLUICE_TEST_USER:SLUICE_TEST_PASS "$MOCK/basic"
	records_are 1 45
}

@test "auth: --api-key-env with --api-key-header or --api-key-param" {
	export SLUICE_TEST_KEY=k3y
	fetch_ok --paginate page --api-key-env SLUICE_TEST_KEY --api-key-header X-Api-Key \
	    "$MOCK/apikey"
	records_are 1 45
	fetch_ok --paginate page --api-key-env SLUICE_TEST_KEY --api-key-param api_key \
	    "$MOCK/apikey"
	records_are 1 45
	fetch_ok --paginate none --api-key-env SLUICE_TEST_KEY --api-key-param mykey "$MOCK/echo"
	assert_equal "$(jq -r .query.mykey out)" k3y
}

@test "auth: a variable unset or empty exits 64 before any request" {
	unset SLUICE_TEST_UNSET
	export SLUICE_TEST_EMPTY='' SLUICE_TEST_USER=user
	local args
	while read -r args; do
		# shellcheck disable=SC2086
		run -64 --separate-stderr timeout 60 pgfetch $args "$MOCK/auth" </dev/null
		assert_output ""
		assert_stderr_regex '^pgfetch: '
	done <<-EOF
	--bearer-env SLUICE_TEST_UNSET
	--bearer-env SLUICE_TEST_EMPTY
	--basic-env SLUICE_TEST_USER:SLUICE_TEST_UNSET
	--basic-env SLUICE_TEST_UNSET:SLUICE_TEST_USER
	--basic-env SLUICE_TEST_USER:SLUICE_TEST_EMPTY
	--api-key-env SLUICE_TEST_UNSET --api-key-header X-Api-Key
	--api-key-env SLUICE_TEST_EMPTY --api-key-param api_key
	EOF
	assert_equal "$(requests)" 0
}

@test "auth: 401 exits 77 at once, with the start of the body" {
	run -77 --separate-stderr timeout 60 pgfetch --backoff-base 0.05 "$MOCK/auth"
	aborted_records 77 1 0
	assert_stderr_partial 'Bad credentials'
	assert_stderr_partial '401'
	assert_equal "$(requests)" 1
	export SLUICE_TEST_TOKEN=wrong-token
	run -77 --separate-stderr timeout 60 pgfetch --backoff-base 0.05 \
	    --bearer-env SLUICE_TEST_TOKEN "$MOCK/auth?n=5"
	aborted_records 77 1 0
	assert_equal "$(requests /auth?n=5)" 1
	export SLUICE_TEST_USER=user SLUICE_TEST_PASS=nope
	run -77 --separate-stderr timeout 60 pgfetch --backoff-base 0.05 \
	    --basic-env SLUICE_TEST_USER:SLUICE_TEST_PASS "$MOCK/basic"
	aborted_records 77 1 0
	assert_equal "$(requests /basic)" 1
	# 403 too, after the records of the pages before.
	run -77 --separate-stderr timeout 60 pgfetch --backoff-base 0.05 --paginate page \
	    "$MOCK/page?fail_page=2&fail_code=403"
	aborted_records 77 1 10
	assert_stderr_partial 'page 2 fails'
	assert_equal "$(requests /page)" 2
}

# ---------------------------------------------------------------------------
# Retries.

@test "retries: 500 then 200, and 503 then 200, on every page, no record twice" {
	fetch_ok --paginate page --backoff-base 0.05 "$MOCK/flaky?n=25"
	records_are 1 25
	assert_equal "$(attempts /flaky)" "$(printf '2\n2\n2\n2')"
	fetch_ok --paginate page --backoff-base 0.05 "$MOCK/flaky?n=25&code=503"
	records_are 1 25
}

@test "retries: 429 with Retry-After: 1 waits at least 1 s" {
	fetch_ok --paginate none --backoff-base 0.05 "$MOCK/ratelimit?n=5"
	records_are 1 5
	assert_equal "$(attempts /ratelimit)" 2
	at_least "$(min_gap /ratelimit)" 0.99
}

@test "retries: 429 with Retry-After as an HTTP-date waits until then" {
	fetch_ok --paginate none --backoff-base 0.05 "$MOCK/ratelimit?n=5&date=1"
	records_are 1 5
	assert_equal "$(attempts /ratelimit)" 2
	at_least "$(min_gap /ratelimit)" 0.99
}

@test "retries: Retry-After: 0 waits at least --backoff-base, so the retries last" {
	fetch_ok --paginate none --retries 2 --backoff-base 0.3 "$MOCK/retry-after-zero?n=5"
	records_are 1 5
	assert_equal "$(attempts /retry-after-zero)" 3
	at_least "$(min_gap /retry-after-zero)" 0.29
}

@test "retries: a connection reset without a response is retried, no record twice" {
	fetch_ok --paginate page --backoff-base 0.05 "$MOCK/reset?n=25"
	records_are 1 25
	fetch_ok --paginate none --backoff-base 0.05 "$MOCK/reset?n=3"
	records_are 1 3
	assert_equal "$(attempts '/reset?n=3')" 2
}

@test "retries: a truncated body is retried, and none of it written" {
	fetch_ok --paginate page --backoff-base 0.05 "$MOCK/truncated?n=25"
	records_are 1 25
	assert_equal "$(attempts /truncated)" "$(printf '2\n2\n2\n2')"
	fetch_ok --paginate none --backoff-base 0.05 "$MOCK/truncated?n=10"
	records_are 1 10
}

@test "retries: a response slower than --timeout is retried" {
	fetch_ok --paginate none --timeout 1 --backoff-base 0.05 "$MOCK/slow?ms=3000&first=1&n=4"
	records_are 1 4
	assert_equal "$(attempts /slow)" 2
}

@test "retries: always too slow: exit 75 after --retries 1, with the attempts" {
	local t0 t1
	t0=$(date +%s)
	run -75 --separate-stderr timeout 60 pgfetch --paginate none --timeout 1 \
	    --retries 1 --backoff-base 0.05 "$MOCK/slow?ms=4000"
	t1=$(date +%s)
	aborted_records 75 1 0
	assert_stderr_partial 'after 2 attempts'
	assert_equal "$(attempts /slow)" 2
	(( t1 - t0 < 8 )) || fail "took $(( t1 - t0 )) s: --timeout 1 not honoured"
}

@test "retries: always 500: exit 75 after --retries 2, HTTP 500 after 3 attempts" {
	run -75 --separate-stderr timeout 60 pgfetch --retries 2 --backoff-base 0.05 \
	    "$MOCK/always500"
	aborted_records 75 1 0
	grep -Eq '^pgfetch: http://127\.0\.0\.1:[0-9]+/always500: HTTP 500 after 3 attempts(: .*)?$' \
	    <<<"$stderr" || fail "stderr: $stderr"
	assert_equal "$(attempts /always500)" 3
	# --retries 0: one attempt.
	mock_reset
	run -75 --separate-stderr timeout 60 pgfetch --retries 0 "$MOCK/always500"
	assert_stderr_partial 'HTTP 500 after 1 attempt'
	assert_equal "$(attempts /always500)" 1
}

@test "retries: the default is 5 retries" {
	run -75 --separate-stderr timeout 60 pgfetch --backoff-base 0.01 "$MOCK/always500"
	assert_stderr_partial 'HTTP 500 after 6 attempts'
	assert_equal "$(attempts /always500)" 6
}

@test "retries: a refused connection is retried, then exit 75" {
	run -75 --separate-stderr timeout 60 pgfetch --retries 1 --backoff-base 0.05 \
	    http://127.0.0.1:1/x.json
	aborted_records 75 1 0
	assert_stderr_partial 'after 2 attempts'
}

# ---------------------------------------------------------------------------
# Errors that are not retried.

@test "404 exits 69 at once, with the start of the body" {
	run -69 --separate-stderr timeout 60 pgfetch --backoff-base 0.05 "$MOCK/notfound"
	aborted_records 69 1 0
	assert_stderr_partial '404'
	assert_stderr_partial 'no such thing here'
	assert_equal "$(attempts /notfound)" 1
	# Other 4xx too; but 408 is retried, then 75.
	mock_reset
	run -69 --separate-stderr timeout 60 pgfetch --backoff-base 0.05 --retries 1 \
	    "$MOCK/page?fail_page=1&fail_code=400"
	aborted_records 69 1 0
	assert_equal "$(requests /page)" 1
	mock_reset
	run -75 --separate-stderr timeout 60 pgfetch --backoff-base 0.05 --retries 1 \
	    "$MOCK/page?fail_page=1&fail_code=408"
	aborted_records 75 1 0
	assert_stderr_partial 'HTTP 408 after 2 attempts'
	assert_equal "$(requests /page)" 2
	# The body's newline does not become trailing white space.
	assert_equal "$(jq -r .error <<<"$output" | grep -c '[[:space:]]$')" 0
	local s=0
	timeout 60 pgfetch "$MOCK/notfound" 2> err > /dev/null || s=$?
	assert_equal "$s" 69
	[[ -s err ]] || fail "no message for a 404"
	assert_equal "$(grep -c '[[:space:]]$' err)" 0
}

@test "invalid JSON in a page exits 65; none of that page is written" {
	run -65 --separate-stderr timeout 60 pgfetch --backoff-base 0.05 "$MOCK/badjson"
	aborted_records 65 1 0
	# Page 2 has ten good records before its syntax error: none of them.
	run -65 --separate-stderr timeout 60 pgfetch --paginate page "$MOCK/page?bad_page=2"
	aborted_records 65 1 10
}

@test "an error on page 3: the records of pages 1 and 2, then SLUICE_ABORT" {
	run -69 --separate-stderr timeout 60 pgfetch --paginate page \
	    "$MOCK/page?fail_page=3&fail_code=404"
	aborted_records 69 1 20
	assert_equal "$(requests /page)" 3
}

@test "an error on page 3: the pipeline's load rolls back" {
	run --separate-stderr bash -c '
	    timeout 60 pgfetch --paginate page --retries 1 --backoff-base 0.05 \
	        "$1/page?fail_page=3&fail_code=500" |
	    jsonl-normalize -t r | schema-infer -q | sqlite-load db
	    echo "${PIPESTATUS[*]}"' _ "$MOCK"
	assert_output --regexp '^75 [0-9]+ [0-9]+ [1-9][0-9]*$'
	assert_equal "$(sql db "SELECT count(*) FROM sqlite_master WHERE name = 'r'")" 0
}

# ---------------------------------------------------------------------------
# Usage.

@test "bad HTTP option values exit 64, nothing on stdout, no request" {
	local bad
	for bad in '--paginate sideways' '--paginate' '--retries x' '--retries -1' \
	    '--timeout x' '--backoff-base x' '--max-pages 0' '--max-pages x' \
	    '--limit x' '--start x' '-H NoColon' '-p novalue' '--basic-env NOCOLON'; do
		# shellcheck disable=SC2086
		eval "run -64 --separate-stderr timeout 60 pgfetch $bad \"\$MOCK/page\" </dev/null"
		assert_output ""
		assert_stderr_regex '^(pgfetch: |usage: pgfetch)'
	done
	assert_equal "$(requests)" 0
}

# ---------------------------------------------------------------------------
# Secrets, -v.

@test "-v: one line a request, GET URL -> status (N records, T ms)" {
	fetch --paginate page -v "$MOCK/page?per=10"
	records_are 1 45
	assert_equal "$(grep -cE '^pgfetch: GET http://127\.0\.0\.1:[0-9]+/page\?[^ ]* -> 200 \([0-9]+ records, [0-9]+ ms\)$' err)" 6
	assert_equal "$(sed -nE 's/.* -> 200 \(([0-9]+) records.*/\1/p' err | tr '\n' ' ')" \
	    '10 10 10 10 5 0 '
}

@test "secrets: no token, password or key in any byte of stderr, with -v" {
	export SLUICE_TEST_TOKEN=s3cret SLUICE_TEST_USER=user SLUICE_TEST_PASS=pw \
	    SLUICE_TEST_KEY=k3y
	: > all-err
	local args
	while read -r args; do
		mock_reset
		# shellcheck disable=SC2086
		local s=0
		eval "timeout 60 pgfetch -v --backoff-base 0.05 --retries 1 $args" \
		    < /dev/null > out 2> err || s=$?
		# Any refusal, but not a crash, a sanitizer's report or a hang.
		(( s != 70 && s != 86 && s != 87 && s != 124 && s < 128 )) ||
		    fail "exit $s for: $args"
		[[ -s err ]] || fail "no -v output for: $args"
		cat err >> all-err
		no_secrets err
	done <<-EOF
	--paginate page --bearer-env SLUICE_TEST_TOKEN "\$MOCK/auth"
	--paginate page --basic-env SLUICE_TEST_USER:SLUICE_TEST_PASS "\$MOCK/basic"
	--api-key-env SLUICE_TEST_KEY --api-key-header X-Api-Key "\$MOCK/apikey"
	--api-key-env SLUICE_TEST_KEY --api-key-param api_key "\$MOCK/apikey"
	--api-key-env SLUICE_TEST_KEY --api-key-param mykey "\$MOCK/echo"
	"\$MOCK/apikey?api_key=k3y"
	-p api_key=k3y "\$MOCK/apikey"
	-p token=tok-zz9 -p access_token=tok-zz9 "\$MOCK/echo?key=tok-zz9&password=s3cret"
	-H 'Authorization: Bearer s3cret' "\$MOCK/auth"
	"http://user:pw@\${MOCK#http://}/echo"
	--bearer-env SLUICE_TEST_USER "\$MOCK/auth"
	"\$MOCK/always500?api_key=k3y&secret=s3cret"
	--paginate page "\$MOCK/flaky?n=15&signature=tok-zz9&apikey=k3y"
	"\$MOCK/notfound?token=tok-zz9"
	--api-key-env SLUICE_TEST_KEY --api-key-param api_key "\$MOCK/ratelimit?n=2"
	EOF
	# The values are there, redacted.
	grep -Fq 'api_key=***' all-err || fail "no api_key=*** in: $(cat all-err)"
	grep -Fq 'mykey=***' all-err || fail "no mykey=*** in: $(cat all-err)"
	grep -Fq 'token=***' all-err || fail "no token=*** in: $(cat all-err)"
	grep -Fq '***@127.0.0.1' all-err || fail "no ***@ in: $(cat all-err)"
	no_secrets all-err
}

# ---------------------------------------------------------------------------
# --stats, -m -s, pipelines, output errors.

@test "--stats counts records, requests and retries" {
	run -0 --separate-stderr timeout 60 pgfetch --paginate page --backoff-base 0.05 \
	    --stats st.json "$MOCK/flaky?n=25"
	printf '%s\n' "$output" > got
	records_are 1 25 got
	jq -e '.program == "pgfetch" and .records == 25 and .retries == 4' st.json >/dev/null ||
	    fail "stats: $(cat st.json)"
	# Every HTTP request, the retried ones too, as the server counts them.
	assert_equal "$(jq .requests st.json)" "$(requests /flaky)"
	mock_reset
	run -0 --separate-stderr timeout 60 pgfetch --paginate page --stats st.json "$MOCK/page"
	jq -e '.records == 45 and .requests == 6 and .retries == 0' st.json >/dev/null ||
	    fail "stats: $(cat st.json)"
}

@test "-m -s: RECORD messages of the stream, from every page" {
	fetch_ok -m -s r --paginate page "$MOCK/page"
	want_records 1 45 |
	    awk '{ printf "{\"type\":\"RECORD\",\"stream\":\"r\",\"record\":%s}\n", $0 }' > want-m
	sed -E 's/,"time_extracted":"[^"]*"\}$/}/' out > got
	assert_file_bytes got want-m
	assert_equal "$(grep -cE '"time_extracted":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z"\}$' out)" 45
	assert_equal "$(jq -r .time_extracted out | sort -u | wc -l)" 1
}

@test "pgfetch URL | jsonl-normalize | schema-infer | sqlite-load loads every row" {
	run -0 --separate-stderr bash -c 'set -o pipefail
	    timeout 60 pgfetch "$1/page?n=45" --paginate page |
	    jsonl-normalize -t r | schema-infer | sqlite-load db' _ "$MOCK"
	assert_equal "$(sql db 'SELECT count(*), count(DISTINCT id), min(id), max(id) FROM r')" '45|45|1|45'
	assert_equal "$(sql db 'SELECT big FROM r WHERE id = 45')" 9007199254741038
	assert_equal "$(sql db "SELECT typeof(big) FROM r GROUP BY 1")" integer
	# More pages, another paginator, Link by default.
	run -0 --separate-stderr bash -c 'set -o pipefail
	    timeout 60 pgfetch "$1/link?n=1234&per=100" |
	    jsonl-normalize -t r | schema-infer | sqlite-load db2' _ "$MOCK"
	assert_equal "$(sql db2 'SELECT count(*), count(DISTINCT id), sum(big - 9007199254740993) FROM r')" \
	    "1234|1234|$(( 1234 * 1235 / 2 ))"
}

@test "writing to /dev/full exits 75: a full disk is temporary" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	run -75 --separate-stderr bash -c 'timeout 60 pgfetch --paginate page "$1/page" >/dev/full' _ "$MOCK"
	assert_stderr_regex '^pgfetch: '
}

@test "pgfetch URL | head -n1 exits 141 with empty stderr" {
	run -0 --separate-stderr bash -c '
	    timeout 60 pgfetch --paginate page "$1/page?n=20000&per=1000" 2>err |
	    head -n 1 >first
	    echo "${PIPESTATUS[0]}"' _ "$MOCK"
	assert_output 141
	assert_equal "$(cat err)" ""
	assert_equal "$(cat first)" '{"id":1,"name":"r1","big":9007199254740994}'
	# It stopped asking for pages.
	local n
	n=$(requests /page)
	(( n < 20 )) || fail "$n requests after head exited"
}

@test "a page longer than --max-line-bytes stops the transfer: 65, memory bounded" {
	run -65 --separate-stderr timeout 60 pgfetch --max-line-bytes 100 "$MOCK/page?per=10"
	assert_stderr_regex 'page\?per=10: body longer than 100 bytes'
	assert_equal "$(tail -n 1 <<<"$output" | jq -r .type)" SLUICE_ABORT
}

@test "--since adds NAME=VALUE to every request; an empty value (a first run) adds nothing" {
	fetch_ok --paginate none --since 2024-06-01T00:00:00Z --since-param updated_since "$MOCK/echo"
	assert_equal "$(jq -r '.query.updated_since' out)" 2024-06-01T00:00:00Z
	fetch_ok --paginate none --since '' --since-param updated_since "$MOCK/echo"
	assert_equal "$(jq -r '.query | has("updated_since")' out)" false
	run -64 --separate-stderr timeout 60 pgfetch --since x "$MOCK/echo"
}

@test "--rate N spaces the requests at least 1/N s apart" {
	local t0 t1
	t0=$(date +%s%N)
	fetch_ok --paginate page --rate 4 "$MOCK/page?per=10&n=25"
	t1=$(date +%s%N)
	records_are 1 25
	# Four requests (three pages and the empty one): three gaps of 0.25 s.
	(( (t1 - t0) / 1000000 >= 740 )) || fail "4 requests took $(( (t1 - t0) / 1000000 )) ms"
}
