#!/bin/sh
# demo.sh - sluice's main job, end to end: a paginated API of nested taxi
# rides into SQLite, then the same pipeline again, incrementally, after the
# API changed a few rides and added new ones.
#
# usage: demo.sh [BINDIR [DB]]
#
#   BINDIR  where pgfetch, dedup-merge, jsonl-normalize, schema-infer and
#           sqlite-load are (default: ../bin, relative to this script)
#   DB      the database to write (default: demo.db), created afresh (an
#           existing DB, with its -wal and -shm files, is removed first) so
#           that every run shows the same thing
#
# The API is the project's mock (tests/mockapi.py), started here on
# 127.0.0.1 and stopped at the end: 3,000 rides a page of 100 at a time
# (?page=N, an empty page after the last), as the dlt workshop's API serves
# them.  Each command is printed before it runs, so that it can be copied.
# Needs python3 (the API) and sqlite3 (to show the result).

set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
bin=${1:-$here/../bin}
db=${2:-demo.db}
mockapi=$here/../tests/mockapi.py

for prog in pgfetch dedup-merge jsonl-normalize schema-infer sqlite-load; do
	if [ ! -x "$bin/$prog" ]; then
		echo "demo.sh: $bin/$prog: not found; run make first" >&2
		exit 69
	fi
done
for prog in python3 sqlite3; do
	if ! command -v "$prog" >/dev/null 2>&1; then
		echo "demo.sh: $prog: not found; apt-get install $prog" >&2
		exit 69
	fi
done

rm -f -- "$db" "$db-wal" "$db-shm"
work=$(mktemp -d)
api_pid=
stop_api() {
	if [ -n "$api_pid" ]; then
		kill "$api_pid" 2>/dev/null || :
		wait "$api_pid" 2>/dev/null || :
		api_pid=
	fi
}
trap 'stop_api; rm -rf -- "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the API ---------------------------------------------------------------

python3 "$mockapi" --lifetime 600 > "$work/port" 2> "$work/api.log" &
api_pid=$!
i=0
until port=$(head -n 1 "$work/port" 2>/dev/null) && [ -n "$port" ]; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$api_pid" 2>/dev/null; then
		echo "demo.sh: the mock API did not start: $(cat "$work/api.log")" >&2
		exit 69
	fi
	sleep 0.1
done
api=http://127.0.0.1:$port

# get PATH: GET $api/PATH with python3 (curl is not needed by the demo).
get() {
	python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
	    "$api/$1"
}

echo "== the API: $api/rides?page=N, 3,000 nested taxi rides, 100 a page"
get 'rides?per=1' | python3 -c 'import json, sys
print(json.dumps(json.load(sys.stdin)[0], indent=2))' | sed 's/^/    /'

# --- the pipeline ------------------------------------------------------------

# The bookmark is the greatest updated_at loaded so far: the API is asked
# only for the rides updated since (an empty value on the first run asks
# for all), and dedup-merge drops, by the same cursor, any ride already
# loaded; its STATE commits with the rows.  jsonl-normalize puts the
# passengers and the stops in child tables; schema-infer types the
# columns; sqlite-load merges on ride_id in one transaction.
pipeline() {
	since=$("$bin/sqlite-load" "$db" --state-get \
	    bookmarks.rides.replication_key_value 2>/dev/null || :)
	cat <<EOF
\$ since=\$(sqlite-load $db --state-get bookmarks.rides.replication_key_value)
\$ pgfetch --paginate page --since-param updated_since --since "\$since" \\
      --stats pgfetch.json '$api/rides?per=100' |
    dedup-merge -t rides -k ride_id --cursor updated_at --state-from $db |
    jsonl-normalize -t rides -k ride_id |
    schema-infer -q |
    sqlite-load -m merge $db
EOF
	echo "  (since=\"$since\")"
	"$bin/pgfetch" --paginate page --since-param updated_since \
	    --since "$since" --stats "$work/pgfetch.json" "$api/rides?per=100" |
	    "$bin/dedup-merge" -t rides -k ride_id --cursor updated_at \
		--state-from "$db" |
	    "$bin/jsonl-normalize" -t rides -k ride_id |
	    "$bin/schema-infer" -q |
	    "$bin/sqlite-load" -m merge "$db" > /dev/null
	sed -n 's/.*"requests":\([0-9]*\).*/  pgfetch asked the API \1 times/p' \
	    "$work/pgfetch.json"
}

q() {
	sqlite3 -batch -header -column "$db" "$@"
}

# The loads, from _sluice_loads: what each did to each table.
loads() {
	q "SELECT l.load_id, t.key AS \"table\",
	    json_extract(t.value, '$.inserted') AS inserted,
	    json_extract(t.value, '$.updated') AS updated,
	    json_extract(t.value, '$.deleted') AS deleted, l.status
	FROM _sluice_loads AS l, json_each(l.tables) AS t
	ORDER BY l.load_id, t.key"
}

echo
echo "== run 1: every ride"
pipeline

echo
echo "== the tables in $db"
q "SELECT 'rides' AS \"table\", count(*) AS \"rows\" FROM rides
    UNION ALL SELECT 'rides__passengers', count(*) FROM rides__passengers
    UNION ALL SELECT 'rides__stops', count(*) FROM rides__stops"

echo
echo "== three rides, with their passengers"
q "SELECT r.ride_id, r.vendor_name, r.trip_distance, r.payment__total_amt AS total,
	group_concat(p.name, ', ') AS passengers, r.updated_at
    FROM rides AS r LEFT JOIN rides__passengers AS p
	ON p._sluice_parent_id = r._sluice_id
    GROUP BY r._sluice_id ORDER BY r.ride_id LIMIT 3"

echo
echo "== the load"
loads

echo
echo "== the API changes 5 rides (a new tip) and adds 20"
echo "\$ GET $api/rides/change?changed=5&added=20"
get 'rides/change?changed=5&added=20' | sed 's/^/    /'

echo
echo "== run 2: the same pipeline, only what changed"
pipeline

echo
echo "== the two loads: the second inserted 20 rides and updated 5"
loads

echo
echo "== the rides the second load changed (a new ride_id was inserted)"
q "SELECT ride_id, payment__tip_amt AS tip, payment__total_amt AS total,
	updated_at FROM rides
    WHERE _sluice_load_id = (SELECT max(load_id) FROM _sluice_loads)
	AND ride_id <= 3000
    ORDER BY ride_id"

stop_api
echo
echo "done: $db (sqlite3 $db)"
