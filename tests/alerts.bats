bats_require_minimum_version 1.5.0
# examples/alerts.sh (issue 12): schema-change events of schema-infer,
# posted to a Slack-compatible incoming webhook: the mock API's POST
# /webhook (tests/mockapi.py), which notes each body.  The webhook's URL
# is a secret: never in an argv, never printed.

load helper
load mock

setup_file() { mock_start; }
teardown_file() { mock_stop; }

setup() {
	sluice_setup schema-infer sqlite-load
	mock_reset || fail "cannot reset the mock API"
	ALERTS="$BATS_TEST_DIRNAME/../examples/alerts.sh"
	HOOK_SECRET=T000-B000-hooksecret
	export SLUICE_WEBHOOK_URL="$MOCK/webhook?token=$HOOK_SECRET"
	# curl's argv, logged by a shim ahead of the real curl on PATH.
	mkdir -p shim
	cat > shim/curl <<EOF
#!/bin/sh
printf '%s\n' "\$*" >> "$BATS_TEST_TMPDIR/curl.argv"
exec $(command -v curl) "\$@"
EOF
	chmod +x shim/curl
	PATH=$BATS_TEST_TMPDIR/shim:$PATH
}

# posted: the bodies the webhook got, one a line, in order.
posted() {
	mock_state -r '[to_entries[] | select(.key | startswith("/webhook"))
	    | .value | [.times, .body] | transpose[]] | sort_by(.[0])[] | .[1]'
}

# events: schema-infer's events over two files (a new table; then a
# widening, a new column, a nullable column and a variant).
events() {
	printf '{"id":1,"price":9}\n' > d1.jsonl
	printf '{"id":2,"price":9.5,"note":"x"}\n{"id":3,"price":"n/a"}\n' > d2.jsonl
	SLUICE_LOAD_ID=L1 schema-infer -q -t orders --events ev.jsonl d1.jsonl d2.jsonl > /dev/null
}

@test "alerts.sh posts each event as {\"text\": ...}, in order, as JSON" {
	events
	run -0 --separate-stderr sh "$ALERTS" ev.jsonl
	assert_stderr_empty
	posted > got
	assert_equal "$(wc -l < got)" "$(wc -l < ev.jsonl)"
	# Every body is an object with one string member, text.
	jq -se 'all(.[]; keys == ["text"] and (.text | type) == "string")' got >/dev/null ||
	    fail "bodies: $(cat got)"
	jq -r .text got > texts
	assert_equal "$(sed -n 1p texts)" 'sluice: stream `orders`: new table (input line 1, load L1)'
	grep -Eq '^sluice: stream `orders`: column `price` widened from bigint to double \(input line 1, load L1\)$' texts ||
	    fail "texts: $(cat texts)"
	grep -Eq '^sluice: stream `orders`: new column `note` \(text\) \(input line 1, load L1\)$' texts ||
	    fail "texts: $(cat texts)"
	grep -Eq '^sluice: stream `orders`: variant column `price__v_text` \(text\) for values that are not double \(input line 2, load L1\)$' texts ||
	    fail "texts: $(cat texts)"
	mock_state -e '[to_entries[] | select(.key | startswith("/webhook"))
	    | .value.headers[]["content-type"]] | all(. == "application/json")' >/dev/null ||
	    fail "content types: $(mock_state)"
	# The secret URL never was in curl's argv.
	[[ -s curl.argv ]] || fail "the curl shim was not used"
	if grep -Fq "$HOOK_SECRET" curl.argv; then
		fail "the webhook URL was in an argv: $(cat curl.argv)"
	fi
}

@test "alerts.sh reads stdin; no event posts nothing and exits 0" {
	events
	run -0 --separate-stderr sh -c 'sh "$1" < ev.jsonl' sh "$ALERTS"
	assert_equal "$(posted | wc -l)" "$(wc -l < ev.jsonl)"
	mock_reset
	run -0 --separate-stderr sh "$ALERTS" /dev/null
	assert_equal "$(posted | wc -l)" 0
}

@test "alerts.sh: a webhook that refuses: exit 1, each event tried, the URL never printed" {
	events
	SLUICE_WEBHOOK_URL="$MOCK/webhook?code=404&token=$HOOK_SECRET" \
	    run -1 --separate-stderr sh "$ALERTS" ev.jsonl
	assert_equal "$(mock_state '[.[] | .count] | add')" "$(wc -l < ev.jsonl)"
	assert_stderr_partial "alerts.sh: event 1: the webhook did not take it"
	assert_stderr_partial "alerts.sh: $(wc -l < ev.jsonl | tr -d ' ') of $(wc -l < ev.jsonl | tr -d ' ') events not posted"
	[[ $stderr != *"$HOOK_SECRET"* && $output != *"$HOOK_SECRET"* ]] ||
	    fail "the URL was printed: $stderr"
	if grep -Fq "$HOOK_SECRET" curl.argv; then
		fail "the webhook URL was in an argv"
	fi
}

@test "alerts.sh: a line that is not an event posts nothing (65); usage errors 64; missing file 66" {
	events
	printf 'not json\n' >> ev.jsonl
	run -65 --separate-stderr sh "$ALERTS" ev.jsonl
	assert_stderr_partial "alerts.sh: ev.jsonl: not schema-change events"
	printf '{"stream":"a","change":"new_table"}\n[1]\n' > ev2.jsonl
	run -65 --separate-stderr sh "$ALERTS" ev2.jsonl
	assert_equal "$(posted | wc -l)" 0
	SLUICE_WEBHOOK_URL= run -64 --separate-stderr sh "$ALERTS" ev2.jsonl
	assert_stderr_partial "SLUICE_WEBHOOK_URL is not set"
	SLUICE_WEBHOOK_URL="ftp://example/x" run -64 --separate-stderr sh "$ALERTS" ev2.jsonl
	SLUICE_WEBHOOK_URL="$MOCK/webhook?\"x" run -64 --separate-stderr sh "$ALERTS" ev2.jsonl
	[[ $stderr != *webhook* ]] || fail "the URL was printed: $stderr"
	run -66 --separate-stderr sh "$ALERTS" no-such-file
	assert_equal "$(posted | wc -l)" 0
}
