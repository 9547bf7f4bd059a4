#!/bin/sh
# demo.sh - load 100 GitHub issues into SQLite and show what was loaded.
#
# usage: demo.sh [BINDIR [DB]]
#
#   BINDIR  where schema-infer and sqlite-load are (default: ../bin,
#           relative to this script)
#   DB      the database to write (default: demo.db).  It is created
#           afresh: an existing DB, with its -wal and -shm files, is
#           removed first, so that every run shows the same thing.
#
# Needs the sqlite3 command-line shell to show the result.

set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
bin=${1:-$here/../bin}
db=${2:-demo.db}

for prog in schema-infer sqlite-load; do
	if [ ! -x "$bin/$prog" ]; then
		echo "demo.sh: $bin/$prog: not found; run make first" >&2
		exit 69
	fi
done
if ! command -v sqlite3 >/dev/null 2>&1; then
	echo "demo.sh: sqlite3: not found; apt-get install sqlite3" >&2
	exit 69
fi

rm -f -- "$db" "$db-wal" "$db-shm"

# The load.  sh has no pipefail: keep schema-infer's status in a file,
# because sqlite-load alone cannot tell that its input was cut short.
status=$(mktemp)
trap 'rm -f -- "$status"' EXIT
echo "\$ schema-infer -t issues -k id < examples/issues.jsonl | sqlite-load $db"
{
	rc=0
	"$bin/schema-infer" -t issues -k id <"$here/issues.jsonl" || rc=$?
	echo "$rc" >"$status"
} | "$bin/sqlite-load" "$db"
rc=$(cat -- "$status")
if [ "$rc" -ne 0 ]; then
	echo "demo.sh: schema-infer failed with status $rc" >&2
	exit "$rc"
fi

q() {
	sqlite3 -batch -header -column "$db" "$@"
}

echo
echo "== tables in $db"
# One count(*) per table, built as a UNION ALL query with quoted names.
q "$(sqlite3 -batch "$db" "
	SELECT group_concat('SELECT ' || quote(name) || ' AS \"table\", ' ||
	    'count(*) AS \"rows\" FROM \"' || replace(name, '\"', '\"\"') || '\"',
	    ' UNION ALL ')
	FROM (SELECT name FROM sqlite_master
	    WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name)")"

echo
echo "== five issues"
q "SELECT id, number, state, json_extract(user, '\$.login') AS author,
	substr(title, 1, 40) AS title
    FROM issues ORDER BY number LIMIT 5"

echo
echo "== the load, in _sluice_loads"
sqlite3 -batch -line "$db" "SELECT * FROM _sluice_loads"
