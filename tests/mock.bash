# tests/mock.bash - the mock API (tests/mockapi.py) for the bats files that
# test pgfetch over HTTP, and the helpers to check what pgfetch fetched:
#
#	load helper
#	load mock
#	setup_file() { mock_start [MOCKAPI-OPTION...]; }
#	teardown_file() { mock_stop; }
#
# The server listens on 127.0.0.1 only, on a port the system picks, for at
# most 20 minutes.  $MOCK is its base URL and $PORT its port.  Its records
# are {"id":i,"name":"r<i>","big":9007199254740993+i} for i in 1..n.
# mock_start_other starts a second one, another origin: $OTHER, $OTHER_PORT.
#
# Each server writes what it was asked to a file under $BATS_FILE_TMPDIR
# (mockapi.py --requests: a JSON line a request, written before the answer),
# which mock_state reads and mock_reset replaces: checking the requests
# starts no HTTP client.  Reset in setup():
#
#	setup() { sluice_setup pgfetch; mock_reset || fail "..."; }

BIG=9007199254740993

# http_get URL: GET URL with Python (curl is not a dependency); the body
# on stdout; an https URL's certificate is not checked.  mock_get PATH:
# GET $MOCK/PATH; other_get PATH: $OTHER/PATH.
http_get() {
	python3 -c '
import ssl, sys, urllib.request
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with urllib.request.urlopen(sys.argv[1], timeout=10, context=ctx) as r:
    sys.stdout.write(r.read().decode())' "$1"
}
mock_get() { http_get "$MOCK$1"; }
other_get() { http_get "$OTHER$1"; }

# mock_launch NAME [OPTION...]: start tests/mockapi.py with these options
# (its port in $BATS_FILE_TMPDIR/NAME.port), and wait (bounded) until it
# answers; its pid in $launched_pid, its port in $launched_port, http or
# https (with --cert) in $launched_scheme, its request file (for mock_state)
# in $launched_requests.
mock_launch() {
	local i port='' dir=$BATS_FILE_TMPDIR name=$1
	shift
	python3 "$BATS_TEST_DIRNAME/mockapi.py" --lifetime 1200 \
	    --requests "$dir/$name.requests" "$@" \
	    > "$dir/$name.port" 2> "$dir/$name.log" 3>&- &
	launched_pid=$!
	launched_requests=$dir/$name.requests
	for (( i = 0; i < 100; i++ )); do
		port=$(head -n 1 "$dir/$name.port" 2>/dev/null)
		[[ $port =~ ^[0-9]+$ ]] && break
		kill -0 "$launched_pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! [[ $port =~ ^[0-9]+$ ]]; then
		echo "tests/mockapi.py did not start: $(cat "$dir/$name.log")" >&2
		return 1
	fi
	launched_port=$port
	launched_scheme=http
	[[ " $* " == *" --cert "* ]] && launched_scheme=https
	for (( i = 0; i < 50; i++ )); do
		http_get "$launched_scheme://127.0.0.1:$port/" >/dev/null 2>&1 &&
		    return 0
		sleep 0.1
	done
	echo "tests/mockapi.py does not answer at $launched_scheme://127.0.0.1:$port" >&2
	return 1
}

# mock_start [OPTION...]: the server, at $MOCK.
mock_start() {
	mock_launch mock "$@" || return 1
	MOCK_PID=$launched_pid PORT=$launched_port
	MOCK="http://127.0.0.1:$PORT"
	MOCK_REQUESTS=$launched_requests
	export MOCK_PID PORT MOCK MOCK_REQUESTS
}

# mock_start_other [OPTION...]: a second server, at $OTHER: the same host,
# another port, so another origin.
mock_start_other() {
	mock_launch other "$@" || return 1
	OTHER_PID=$launched_pid OTHER_PORT=$launched_port
	OTHER="http://127.0.0.1:$OTHER_PORT"
	OTHER_REQUESTS=$launched_requests
	export OTHER_PID OTHER_PORT OTHER OTHER_REQUESTS
}

# mock_kill PID: end a server, by SIGKILL if it does not go within 5 s.
mock_kill() {
	local i
	[[ -n $1 ]] || return 0
	kill "$1" 2>/dev/null || return 0
	for (( i = 0; i < 50; i++ )); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null || true
}

# mock_stop: end the servers.
mock_stop() {
	mock_kill "${MOCK_PID:-}"
	mock_kill "${OTHER_PID:-}"
}

# want_records FIRST LAST: the compact text of records FIRST..LAST, one a
# line, as pgfetch must write them (bash arithmetic: 64 bits, exact).
want_records() {
	local i
	for (( i = $1; i <= $2; i++ )); do
		printf '{"id":%d,"name":"r%d","big":%d}\n' "$i" "$i" $(( BIG + i ))
	done
}

# records_are FIRST LAST [FILE]: FILE (default ./out) holds records
# FIRST..LAST, each exactly once, in order, byte for byte.
records_are() {
	local f=${3:-out}
	assert_equal "$(jq -r .id "$f")" "$(seq "$1" "$2")"
	want_records "$1" "$2" > want
	assert_file_bytes "$f" want
}

# aborted_records STATUS FIRST LAST: as aborted (helper.bash), the records
# before the SLUICE_ABORT line being records FIRST..LAST of the mock (none
# when FIRST > LAST), each once, in order, byte for byte.
aborted_records() {
	local recs=()
	mapfile -t recs < <(want_records "$2" "$3")
	aborted "$1" "${recs[@]}"
}

# The mock's secrets (mockapi.py), and the Basic credentials in base64; a
# suite with secrets of its own sets SECRETS to them.
SECRETS=(s3cret k3y pw dXNlcjpwdw== 'user:pw' tok-zz9)

# no_secrets FILE...: each FILE exists, and none of the SECRETS is anywhere
# in it.  Each FILE is read once (it may be a pipe: <(...)).
no_secrets() {
	local f st
	for f in "$@"; do
		[[ -e $f ]] || fail "no file $f"
		st=0
		grep -F -f <(printf '%s\n' "${SECRETS[@]}") -- "$f" \
		    > no_secrets.hit || st=$?
		case $st in
		1)	;;
		0)	fail "secret $(grep -oF -f <(printf '%s\n' "${SECRETS[@]}") \
			    no_secrets.hit | sort -u | paste -sd ' ') in $f: $(head -c 600 no_secrets.hit)" ;;
		*)	fail "no_secrets: cannot read $f" ;;
		esac
	done
	rm -f no_secrets.hit
}

# What a server was asked since its last reset, read from its request file
# (mockapi.py --requests) by one jq run.  STATE_JQ makes of the file's
# lines the object /state answers: {"PATH?QUERY": {"count": k, "times":
# [...], "headers": [{...}], "gzip": [...]}, ...}, in the order first
# asked.  A last line cut short is a request the server is still writing,
# not yet counted (as /state would not count it yet): it is skipped; any
# other line that is not JSON is an error.
STATE_JQ='[inputs]
    | if length > 0 and (.[-1] | try (fromjson | false) catch true)
      then .[:-1] else . end
    | reduce (.[] | fromjson) as $r ({};
	.[$r.key] |= (.count += 1 | .times += [$r.time]
	    | reduce ($r | del(.key, .time) | to_entries[]) as $e (.;
		.[$e.key] += [$e.value])))'

# requests_jq FILE [JQ-OPTION...] [FILTER]: FILTER (default .) applied to
# that object, compact.
requests_jq() {
	local file=$1 filter=.
	shift
	if [[ $# -gt 0 ]]; then
		filter=${!#}
		set -- "${@:1:$#-1}"
	fi
	[[ -f $file ]] || fail "no request file $file: was the mock started?"
	jq -ncR "$@" "$STATE_JQ | $filter" "$file"
}

# mock_state [JQ-OPTION...] [FILTER]: requests_jq for $MOCK;
# other_state: for $OTHER.
mock_state() { requests_jq "$MOCK_REQUESTS" "$@"; }
other_state() { requests_jq "$OTHER_REQUESTS" "$@"; }

# requests_reset FILE: forget what the server of FILE was asked (as its
# /reset-state): FILE is replaced by an empty one, in one rename(2), and
# the server starts counting again at its next request.
requests_reset() {
	: > "$1.new" && mv -f -- "$1.new" "$1"
}

# mock_reset: forget what $MOCK was asked; other_reset: $OTHER.
mock_reset() { requests_reset "$MOCK_REQUESTS"; }
other_reset() { requests_reset "$OTHER_REQUESTS"; }

# The mock's record of the requests it had since the last reset, for
# WHICH: a path ("/page": every query of /page, not /page-total), a whole
# path+query ("/reset?n=3"), or nothing (all requests).
MATCH='select($w == "" or .key == $w or (.key | sub("[?].*"; "")) == $w)'

# requests [WHICH]: how many requests reached the mock.
requests() {
	mock_state --arg w "${1-}" \
	    "[to_entries[] | $MATCH | .value.count] | add // 0"
}

# attempts [WHICH]: the request count of each distinct path+query, sorted,
# one a line.
attempts() {
	mock_state -r --arg w "${1-}" \
	    "to_entries[] | $MATCH | .value.count" | sort -n
}
