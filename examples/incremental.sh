#!/bin/sh
# incremental.sh - the same extraction run three times, loading only what
# is new each time: dlt's incremental loading, as a pipeline.
#
# usage: incremental.sh [BINDIR [DB]]
#
#   BINDIR  where pgfetch, dedup-merge, jsonl-normalize, schema-infer and
#           sqlite-load are (default: ../bin, relative to this script)
#   DB      the database to write (default: incremental.db), created
#           afresh so that every run shows the same thing
#
# The source is examples/issues.jsonl, as an API would serve it on three
# days:
#   day 1   the 50 issues updated first (an extraction that stopped there)
#   day 2   all 100, the 50 old ones again among them, 2 of them edited
#           since (a later updated_at)
#   day 3   the same as day 2: nothing new
# The bookmark (the greatest updated_at loaded, and the ids loaded at that
# very value) lives in the database, in _sluice_state, committed with the
# rows; dedup-merge reads it back with --state-from and drops what was
# loaded already.

set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
bin=${1:-$here/../bin}
db=${2:-incremental.db}

for prog in pgfetch dedup-merge jsonl-normalize schema-infer sqlite-load; do
	if [ ! -x "$bin/$prog" ]; then
		echo "incremental.sh: $bin/$prog: not found; run make first" >&2
		exit 69
	fi
done
for prog in jq sqlite3; do
	if ! command -v "$prog" >/dev/null 2>&1; then
		echo "incremental.sh: $prog: not found; apt-get install $prog" >&2
		exit 69
	fi
done

rm -f -- "$db" "$db-wal" "$db-shm"
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The three days' extractions.
src=$here/issues.jsonl
mid=$(jq -r .updated_at "$src" | sort | sed -n 50p)
jq -c --arg mid "$mid" 'select(.updated_at <= $mid)' "$src" > "$work/day1.jsonl"
edited=$(jq -r .number "$work/day1.jsonl" | head -n 2 | paste -sd, -)
jq -c --argjson e "[$edited]" 'if (.number | IN($e[])) then
	.updated_at = "2024-01-01T00:00:00Z" | .title = "(edited) " + .title
    else . end' "$src" > "$work/day2.jsonl"
cp "$work/day2.jsonl" "$work/day3.jsonl"

# One run: extract, keep the new versions, normalize, type, merge.  The
# STATE message dedup-merge writes last is committed with the rows, and
# sqlite-load echoes it once committed.
run() {
	echo
	echo "== $1: pgfetch $1.jsonl | dedup-merge --cursor updated_at --state-from $db | ... | sqlite-load -m merge"
	"$bin/pgfetch" "$work/$1.jsonl" |
	    "$bin/dedup-merge" -t issues -k id --latest-by updated_at \
		--cursor updated_at --state-from "$db" |
	    "$bin/jsonl-normalize" -t issues -k id |
	    "$bin/schema-infer" -q |
	    "$bin/sqlite-load" -m merge "$db" 2>&1 > /dev/null
	printf 'bookmark: %s\n' \
	    "$("$bin/sqlite-load" "$db" --state-get bookmarks.issues.replication_key_value)"
	printf 'issues in %s: %s\n' "$db" \
	    "$(sqlite3 -batch "$db" 'SELECT count(*) FROM issues')"
}

run day1
run day2
run day3

echo
echo "== the three loads, in _sluice_loads"
sqlite3 -batch -header -column "$db" \
    "SELECT load_id, coalesce(json_extract(tables, '$.issues.inserted'), 0) AS inserted,
	coalesce(json_extract(tables, '$.issues.updated'), 0) AS updated
    FROM _sluice_loads ORDER BY load_id"
