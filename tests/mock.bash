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
# https (with --cert) in $launched_scheme.
mock_launch() {
	local i port='' dir=$BATS_FILE_TMPDIR name=$1
	shift
	python3 "$BATS_TEST_DIRNAME/mockapi.py" --lifetime 1200 "$@" \
	    > "$dir/$name.port" 2> "$dir/$name.log" 3>&- &
	launched_pid=$!
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
	export MOCK_PID PORT MOCK
}

# mock_start_other [OPTION...]: a second server, at $OTHER: the same host,
# another port, so another origin.
mock_start_other() {
	mock_launch other "$@" || return 1
	OTHER_PID=$launched_pid OTHER_PORT=$launched_port
	OTHER="http://127.0.0.1:$OTHER_PORT"
	export OTHER_PID OTHER_PORT OTHER
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

# fetch ARG...: `pgfetch ARG...` must exit 0; its standard output is left in
# ./out and its standard error in ./err.
fetch() {
	local st=0
	timeout 60 pgfetch "$@" > out 2> err || st=$?
	[[ $st -eq 0 ]] || fail "pgfetch $* exited $st: $(head -c 2000 err)"
}

# fetch_ok ARG...: as fetch, and nothing at all on stderr.
fetch_ok() {
	fetch "$@"
	[[ ! -s err ]] || fail "pgfetch $*: unexpected stderr: $(head -c 2000 err)"
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

# The mock's record of the requests it had since the last /reset-state, for
# WHICH: a path ("/page": every query of /page, not /page-total), a whole
# path+query ("/reset?n=3"), or nothing (all requests).
MATCH='select($w == "" or .key == $w or (.key | sub("[?].*"; "")) == $w)'

# requests [WHICH]: how many requests reached the mock.
requests() {
	mock_get /state | jq --arg w "${1-}" \
	    "[to_entries[] | $MATCH | .value.count] | add // 0"
}

# attempts [WHICH]: the request count of each distinct path+query, sorted,
# one a line.
attempts() {
	mock_get /state | jq -r --arg w "${1-}" \
	    "to_entries[] | $MATCH | .value.count" | sort -n
}
