#!/bin/sh
# demo.sh - load 100 GitHub issues into SQLite and show what was loaded.
#
# usage: demo.sh [BINDIR [DB]]
#
#   BINDIR  where jsonl-normalize, schema-infer and sqlite-load are
#           (default: ../bin, relative to this script)
#   DB      the database to write (default: demo.db).  It is created
#           afresh: an existing DB, with its -wal and -shm files, is
#           removed first, so that every run shows the same thing.
#
# Needs the sqlite3 command-line shell to show the result.

set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
bin=${1:-$here/../bin}
db=${2:-demo.db}

for prog in jsonl-normalize schema-infer sqlite-load; do
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

# The load: nested issues into tables, typed, merged on the issue id.  A
# stage that fails ends its output with a SLUICE_ABORT line, so sqlite-load
# rolls back instead of committing half the stream, and exits non-zero.
echo "\$ jsonl-normalize -t issues -k id examples/issues.jsonl | schema-infer -q | sqlite-load -m merge $db"
"$bin/jsonl-normalize" -t issues -k id "$here/issues.jsonl" |
    "$bin/schema-infer" -q | "$bin/sqlite-load" -m merge "$db"

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
q "SELECT i.number, i.state, i.user__login AS author,
	group_concat(l.name, ', ') AS labels, substr(i.title, 1, 36) AS title
    FROM issues AS i LEFT JOIN issues__labels AS l
	ON l._sluice_parent_id = i._sluice_id
    GROUP BY i._sluice_id ORDER BY i.number LIMIT 5"

echo
echo "== the load, in _sluice_loads"
sqlite3 -batch -line "$db" "SELECT * FROM _sluice_loads"
