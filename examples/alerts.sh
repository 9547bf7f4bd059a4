#!/bin/sh
# examples/alerts.sh - post schema-change events to a chat channel, as
# dlt's "schema evolution alerts" do.
#
#	SLUICE_WEBHOOK_URL=https://hooks.slack.com/services/... \
#	    sh examples/alerts.sh [EVENTS_FILE]
#
# Each line of EVENTS_FILE (default: stdin) is an event that
# `schema-infer --events FILE` wrote (schema-infer(1), "Events"); each
# becomes one message, {"text": "..."}, POSTed with curl(1) to the
# incoming webhook whose URL is in $SLUICE_WEBHOOK_URL (Slack, Mattermost,
# Rocket.Chat and Discord's /slack endpoint take the same body).  Post
# after the load committed, so that a channel hears of what the
# destination holds:
#
#	schema-infer --schema-from shop.db --events ev.jsonl -t orders new.jsonl |
#	    sqlite-load shop.db && sh examples/alerts.sh ev.jsonl
#
# A webhook URL is a secret (whoever has it can post): it is read from the
# environment and handed to curl as a configuration on its standard input,
# never on a command line, which ps(1) would show to every user, and never
# printed.  Every event is checked before the first is posted.
#
# Exit status: 0 all posted (or no event); 1 a post failed (the others are
# still posted; curl retries $SLUICE_WEBHOOK_RETRIES times, default 3,
# what may pass: timeouts, 429, 5xx); 64 no or a bad URL; 65 a line that
# is not an event; 66 EVENTS_FILE missing; 69 jq or curl missing.

set -u
prog=alerts.sh

die() {
	status=$1
	shift
	echo "$prog: $*" >&2
	exit "$status"
}

for tool in jq curl; do
	command -v "$tool" >/dev/null 2>&1 || die 69 "$tool: not found"
done

url=${SLUICE_WEBHOOK_URL:-}
[ -n "$url" ] || die 64 "SLUICE_WEBHOOK_URL is not set: the incoming webhook's URL"
case $url in
http://* | https://*) ;;
*) die 64 "SLUICE_WEBHOOK_URL is not an http(s) URL" ;;
esac
# It goes into curl's configuration between double quotes.
case $url in
*'"'* | *'\'* | *"
"*) die 64 "SLUICE_WEBHOOK_URL holds a quote, a backslash or a newline" ;;
esac
retries=${SLUICE_WEBHOOK_RETRIES:-3}
case $retries in
'' | *[!0-9]*) die 64 "SLUICE_WEBHOOK_RETRIES: not a number: $retries" ;;
esac

events=${1:--}
if [ "$events" = - ]; then
	set --		# jq reads stdin
else
	[ -r "$events" ] || die 66 "$events: cannot read"
	set -- "$events"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-alerts.XXXXXX") ||
    die 73 "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One message a line, every event checked first: a bad line posts nothing.
if ! jq -c '
	def name: "`" + (. // "" | tostring) + "`";
	def text: . // "none" | tostring;
	if type != "object" or (.stream | type) != "string" or
	    (.change | type) != "string" then
		error("not a schema-change event")
	else . end |
	"stream " + (.stream | name) + ": " +
	(if .change == "new_table" then "new table"
	elif .change == "new_column" then
		"new column " + (.column | name) + " (" + (.to | text) + ")"
	elif .change == "widen" then
		"column " + (.column | name) + " widened from " + (.from | text) +
		    " to " + (.to | text)
	elif .change == "nullable" then
		"column " + (.column | name) + " became nullable"
	elif .change == "variant" then
		"variant column " + (.column | name) + " (" + (.to | text) +
		    ") for values that are not " + (.from | text)
	else
		(.change) + ": column " + (.column | name) + " from " +
		    (.from | text) + " to " + (.to | text)
	end) +
	" (input line " + (.line | text) +
	(if .load_id then ", load " + (.load_id | tostring) else "" end) + ")" |
	{text: ("sluice: " + .)}' "$@" > "$tmp/messages" 2> "$tmp/jq.err"
then
	die 65 "$events: not schema-change events: $(head -n 1 "$tmp/jq.err")"
fi

n=0
failed=0
while IFS= read -r message; do
	n=$((n + 1))
	printf '%s' "$message" > "$tmp/body"
	# printf is built in: the URL reaches curl on a pipe, not in an argv.
	if ! printf 'url = "%s"\n' "$url" |
	    curl -K - -s --fail --retry "$retries" --max-time 30 \
		-H 'Content-Type: application/json' \
		--data-binary @"$tmp/body" -o /dev/null; then
		echo "$prog: event $n: the webhook did not take it" >&2
		failed=$((failed + 1))
	fi
done < "$tmp/messages"

if [ "$failed" -gt 0 ]; then
	die 1 "$failed of $n events not posted"
fi
exit 0
