bats_require_minimum_version 1.5.0
# pgfetch's credentials and secrets, and its exit statuses (issue 9: S1,
# S2, S3, D24 and D20).
#
# Two mock APIs (tests/mockapi.py) on 127.0.0.1, on two ports: two origins.
# $MOCK is the one the credentials are given for; $OTHER the one a
# redirect, a next URL, a Link header or a checkpoint sends pgfetch to.
# Each records the headers of every request (mock_state), so a test can look
# for the secrets in what $OTHER received, and check that $MOCK did get
# them (or the test would prove nothing).  /leak echoes the credentials it
# got into its bodies, headers, Location and next URLs.

load helper
load mock

setup_file() {
	mock_start
	mock_start_other
}
teardown_file() { mock_stop; }

# The secrets, one of each kind, and the base64 of the basic ones (SECRETS,
# for no_secrets, is set in setup).
TOKEN=tok-Bq7xW2
KEY=key-Lm4nR8
BUSER=alice
BPASS=pw-Zt5Yc1
HFVAL=hf-Gd3sJ6
HVAL=hdr-Vk9pE4
UUSER=bob
UPASS=upw-Hx2mQ5

setup() {
	sluice_setup pgfetch
	mock_reset || fail "cannot reset $MOCK"
	other_reset || fail "cannot reset $OTHER"
	export SEC_TOKEN=$TOKEN SEC_KEY=$KEY SEC_USER=$BUSER SEC_PASS=$BPASS
	printf 'X-Custom-Token: %s\n' "$HFVAL" > hf
	SECRETS=("$TOKEN" "$KEY" "$BPASS" "$HFVAL" "$HVAL" "$UPASS"
	    "$(printf '%s:%s' "$BUSER" "$BPASS" | base64)"
	    "$(printf '%s:%s' "$UUSER" "$UPASS" | base64)")
}

# The kinds of credentials, and how each is given: creds KIND sets ARGS
# (the options) and URL_OF (a sed expression that puts user information
# into $MOCK's URLs); WANT is what $MOCK must have seen of them.
creds() {
	URL_OF='s/^//'
	case $1 in
	headers)
		ARGS=(--bearer-env SEC_TOKEN --api-key-env SEC_KEY
		    --api-key-header X-Api-Key --header-file hf
		    -H "X-Auth-Token: $HVAL")
		WANT=("Bearer $TOKEN" "$KEY" "$HFVAL" "$HVAL") ;;
	param)
		ARGS=(--api-key-env SEC_KEY --api-key-param api_key)
		WANT=("api_key=$KEY") ;;
	basic)
		ARGS=(--basic-env SEC_USER:SEC_PASS)
		WANT=("Basic $(printf '%s:%s' "$BUSER" "$BPASS" | base64)") ;;
	userinfo)
		ARGS=()
		URL_OF="s|^http://|http://$UUSER:$UPASS@|"
		WANT=("Basic $(printf '%s:%s' "$UUSER" "$UPASS" | base64)") ;;
	*)
		fail "no kind $1" ;;
	esac
}
KINDS=(headers param basic userinfo)

# at_mock PATH: $MOCK/PATH with the user information of the kind.
at_mock() { sed "$URL_OF" <<<"$MOCK$1"; }

# other_got_nothing: $OTHER was asked (else the test tests nothing), and
# no secret reached it, in a header or a URL; $MOCK got what WANT says.
other_got_nothing() {
	local w
	other_state > other.state
	mock_state > mock.state
	[[ $(jq '[.[].count] | add // 0' other.state) -gt 0 ]] ||
	    fail "$OTHER was never asked"
	no_secrets other.state
	for w in "${WANT[@]}"; do
		grep -Fq -- "$w" mock.state ||
		    fail "$MOCK did not get '$w': $(head -c 600 mock.state)"
	done
	other_reset
	mock_reset
}

# ---------------------------------------------------------------------------
# S1: a redirect to another origin.

@test "S1: a redirect to another port of the same host gets no credentials, of any kind" {
	local kind
	for kind in "${KINDS[@]}"; do
		creds "$kind"
		fetch --paginate none -v "${ARGS[@]}" \
		    "$(at_mock "/redirect-to?url=$OTHER/echo")"
		assert_equal "$(jq -r .path out)" /echo
		assert_equal "$(jq -r '.headers.host' out)" "127.0.0.1:$OTHER_PORT"
		assert_equal "$(jq -c '[.headers.authorization, .headers["x-api-key"],
		    .headers["x-custom-token"], .headers["x-auth-token"],
		    .query.api_key]' out)" '[null,null,null,null,null]'
		other_got_nothing
		# -v says so, without a secret.
		grep -Fxq "pgfetch: GET $OTHER/echo -> sent without credentials: its origin http://127.0.0.1:$OTHER_PORT is not http://127.0.0.1:$PORT" err ||
		    fail "$kind: stderr: $(cat err)"
		no_secrets err
	done
}

# echo_got: what $MOCK's /echo received, headers and query, as JSON.
echo_got() {
	mock_state 'to_entries[] | select(.key | startswith("/echo"))'
}

@test "S1: a redirect within the origin keeps the credentials; the host in another case is the origin" {
	local kind w
	for kind in "${KINDS[@]}"; do
		creds "$kind"
		fetch_ok --paginate none "${ARGS[@]}" \
		    "$(at_mock "/redirect-to?url=http://127.0.0.1:$PORT/echo")"
		echo_got > got
		for w in "${WANT[@]}"; do
			grep -Fq -- "$w" got || fail "$kind: /echo did not get '$w': $(cat got)"
		done
		mock_reset
	done
	# localhost and LOCALHOST: one origin.
	creds headers
	fetch_ok --paginate none "${ARGS[@]}" \
	    "http://localhost:$PORT/redirect-to?url=http://LOCALHOST:$PORT/echo"
	assert_equal "$(jq -r .headers.authorization out)" "Bearer $TOKEN"
}

# ---------------------------------------------------------------------------
# S2: URLs that a response names.

@test "S2: --paginate next: a next URL on another origin gets no credentials, of any kind" {
	local kind
	for kind in "${KINDS[@]}"; do
		creds "$kind"
		fetch --paginate next -v "${ARGS[@]}" "$(at_mock "/next?n=25&next_base=$OTHER")"
		records_are 1 25
		other_got_nothing
		grep -Fq "sent without credentials: its origin http://127.0.0.1:$OTHER_PORT" err ||
		    fail "$kind: stderr: $(cat err)"
		no_secrets err
	done
}

@test "S2: --paginate auto: a next URL in the body on another origin gets no credentials" {
	local kind
	for kind in "${KINDS[@]}"; do
		creds "$kind"
		fetch "${ARGS[@]}" "$(at_mock "/next?n=25&next_base=$OTHER&nest=1")"
		records_are 1 25
		other_got_nothing
	done
}

@test "S2: a Link header naming another origin gets no credentials (link and auto)" {
	local kind mode
	for kind in "${KINDS[@]}"; do
		for mode in link auto; do
			creds "$kind"
			fetch --paginate "$mode" "${ARGS[@]}" \
			    "$(at_mock "/link?n=25&next_base=$OTHER")"
			records_are 1 25
			other_got_nothing
		done
	done
}

@test "S2: a next URL that carries the key or the token to another origin goes without them" {
	# $MOCK's next URLs repeat the query they were asked with: the key.
	creds param
	fetch --paginate next "${ARGS[@]}" "$MOCK/next?n=25&next_base=$OTHER"
	records_are 1 25
	other_got_nothing
	# A next URL that names the token in a parameter of its own.
	fetch --paginate next --bearer-env SEC_TOKEN \
	    "$MOCK/next?n=25&next_base=$OTHER&access=$TOKEN"
	records_are 1 25
	WANT=("Bearer $TOKEN")
	other_got_nothing
}

@test "S2: a checkpoint's next URL on another origin gets no credentials" {
	local kind
	for kind in "${KINDS[@]}"; do
		creds "$kind"
		printf '{"source":"%s","paginate":"next","pages":1,"records":10,"page":1,"offset":0,"next":"%s"}\n' \
		    "$MOCK/next?n=25" "$OTHER/next?n=25&p=2" > cp
		fetch --paginate next --checkpoint cp "${ARGS[@]}" "$(at_mock "/next?n=25")"
		records_are 11 25
		[[ ! -e cp ]] || fail "$kind: the checkpoint is still there"
		# $MOCK was not asked at all: nothing it must have seen.
		WANT=()
		other_got_nothing
	done
}

# ---------------------------------------------------------------------------
# S3: secrets a server echoes.

@test "S3: secrets echoed into a 401 body are masked on stderr and in the abort line" {
	local kind
	for kind in "${KINDS[@]}"; do
		creds "$kind"
		run -77 --separate-stderr timeout 60 pgfetch "${ARGS[@]}" \
		    "$(at_mock "/leak?pages=1&code=401")"
		printf '%s\n' "$output" > out
		printf '%s\n' "$stderr" > err
		no_secrets out err
		# The body is there, masked.
		grep -Fq 'bad credentials' err || fail "$kind: stderr: $(cat err)"
		grep -Fq '***' err || fail "$kind: nothing masked: $(cat err)"
		assert_equal "$(tail -n 1 out | jq -c '[.type, .status]')" '["SLUICE_ABORT",77]'
		tail -n 1 out | jq -e '.error | contains("***")' >/dev/null ||
		    fail "$kind: abort line: $(tail -n 1 out)"
	done
}

@test "S3: the first 200 bytes of an error body never hold part of a secret" {
	local pad
	creds headers
	# The echo starts near byte 200, so that the cut falls inside a secret.
	for (( pad = 120; pad <= 175; pad++ )); do
		run -77 --separate-stderr timeout 60 pgfetch "${ARGS[@]}" \
		    "$MOCK/leak?pages=1&code=401&pad=$pad"
		printf '%s\n' "$stderr" > err
		# No 4 bytes of a secret's value are left at the end of the excerpt.
		local s
		for s in "$TOKEN" "$KEY" "$HFVAL" "$HVAL"; do
			! grep -Fq -- "${s:0:4}" err ||
			    fail "pad $pad: a part of '$s' in: $(cat err)"
		done
	done
}

@test "S3: secrets echoed into a next URL, a record, a Location and a 500 body: masked in all output" {
	local kind
	for kind in "${KINDS[@]}"; do
		creds "$kind"
		rm -f q.jsonl st.json cp
		run -75 --separate-stderr timeout 60 pgfetch -v --paginate next \
		    --retries 0 --checkpoint cp --on-error quarantine=q.jsonl \
		    --stats st.json "${ARGS[@]}" "$(at_mock "/leak?pages=2&code=500")"
		printf '%s\n' "$output" > out
		printf '%s\n' "$stderr" > err
		no_secrets out err q.jsonl st.json cp
		# Each file holds what it must: the masks are where the secrets were.
		assert_equal "$(head -n 1 out)" '{"id":1}'
		jq -e '.input | contains("***")' q.jsonl >/dev/null ||
		    fail "$kind: quarantine: $(cat q.jsonl)"
		jq -e '.next | contains("echo=")' cp >/dev/null || fail "$kind: checkpoint: $(cat cp)"
		jq -e '.program == "pgfetch" and .quarantined == 1' st.json >/dev/null ||
		    fail "$kind: stats: $(cat st.json)"
		grep -Fq 'HTTP 500' err || fail "$kind: stderr: $(cat err)"
		# A Location that echoes them, followed with -v.
		run -77 --separate-stderr timeout 60 pgfetch -v "${ARGS[@]}" \
		    "$(at_mock "/leak?pages=1&code=401&redirect=1")"
		printf '%s\n%s\n' "$output" "$stderr" > all
		no_secrets all
		grep -Fq '/status?code=401&echo=' all || fail "$kind: $(cat all)"
	done
}

@test "S3: a secret in the URL and its parameters is masked wherever it is echoed" {
	run -77 --separate-stderr timeout 60 pgfetch -p token=ptok-Ww3e \
	    "http://$UUSER:$UPASS@127.0.0.1:$PORT/leak?pages=1&code=401&access_token=atok-Rr5t"
	printf '%s\n%s\n' "$output" "$stderr" > all
	SECRETS+=(ptok-Ww3e atok-Rr5t)
	no_secrets all
}

# ---------------------------------------------------------------------------
# D24: exit statuses an orchestrator can act on.

# status_is WANT ARG...: pgfetch ARG... exits WANT, and its last line of
# output is the abort line with that status.
status_is() {
	local want=$1
	shift
	run --separate-stderr timeout 60 pgfetch --backoff-base 0 "$@"
	[[ $status -eq $want ]] ||
	    fail "pgfetch $* exited $status, not $want: $stderr"
	assert_equal "$(tail -n 1 <<<"$output" | jq -c '[.type, .status]')" \
	    "[\"SLUICE_ABORT\",$want]"
}

@test "D24: refused, timed out, 5xx, 408 and 429 after the retries: 75" {
	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
	status_is 75 --retries 1 "http://127.0.0.1:$port/page"
	status_is 75 --retries 0 --timeout 1 "$MOCK/slow?ms=3000"
	local code
	for code in 500 502 503 504 408 429; do
		status_is 75 --retries 1 "$MOCK/status?code=$code"
		assert_equal "$(requests "/status?code=$code")" 2
	done
	# A file streamed over HTTP: the same.
	status_is 75 --retries 0 --format jsonl "$MOCK/status?code=503&f=1"
}

@test "D24: 404, 410 and other 4xx: 69 at once; 401 and 403: 77 at once" {
	local code
	for code in 400 404 405 410 422; do
		status_is 69 --retries 3 "$MOCK/status?code=$code"
		assert_equal "$(requests "/status?code=$code")" 1
	done
	for code in 401 403; do
		status_is 77 --retries 3 "$MOCK/status?code=$code"
		assert_equal "$(requests "/status?code=$code")" 1
	done
	# A redirect to a scheme pgfetch does not speak: no retry mends it.
	status_is 69 --retries 3 "$MOCK/redirect-to?url=ftp://127.0.0.1/x"
	assert_equal "$(requests /redirect-to)" 1
}

# ---------------------------------------------------------------------------
# D20: --stats when the run never began.

@test "D20: --stats after a usage error writes no file; after another early error, a sane summary" {
	local args
	while read -r args; do
		rm -f st.json
		# shellcheck disable=SC2086
		run -64 --separate-stderr timeout 60 pgfetch --stats st.json $args "$MOCK/page"
		[[ ! -e st.json ]] || fail "$args: stats written: $(cat st.json)"
	done <<-EOF
	--api-key-env SEC_KEY
	--bearer-env SEC_UNSET_VARIABLE
	--basic-env SEC_USER
	--records-jq .[
	EOF
	run -66 --separate-stderr timeout 60 pgfetch --stats st.json --header-file nosuch "$MOCK/page"
	jq -e '.program == "pgfetch" and .records == 0 and .seconds >= 0 and .seconds < 30' \
	    st.json >/dev/null || fail "stats: $(cat st.json)"
}

# ---------------------------------------------------------------------------
# D24: a TLS certificate refused, like a host key: 77 at once.

teardown() { mock_kill "${TLS_PID:-}"; }

@test "D24: a TLS certificate that does not verify: 77 at once, no retry; --insecure reads it" {
	command -v openssl >/dev/null || skip "no openssl to make a certificate"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem \
	    -days 1 -subj /CN=127.0.0.1 2>/dev/null || fail "openssl req failed"
	mock_launch tls --cert cert.pem --key key.pem
	TLS_PID=$launched_pid
	local tls=https://127.0.0.1:$launched_port
	# One attempt (a TLS failure never reaches /state: -v counts them).
	status_is 77 -v --retries 3 "$tls/page?n=5"
	assert_equal "$(grep -c '^pgfetch: GET ' <<<"$stderr")" 1
	assert_stderr_partial 'SSL certificate'
	fetch --paginate page --insecure "$tls/page?n=5"
	records_are 1 5
}
