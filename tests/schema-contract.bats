bats_require_minimum_version 1.5.0
# schema-infer against the destination: data contracts (--contract) with
# the destination's schema as the baseline (--schema-from DB), events
# relative to it, and no column in the database that no row uses.

load helper

setup() {
	sluice_setup schema-infer sqlite-load
}

# load_db DB TABLE LINE...: load the LINEs, bare records of TABLE, into DB
# through schema-infer (no baseline) and sqlite-load; both must exit 0.
load_db() {
	local db=$1 table=$2
	shift 2
	printf '%s\n' "$@" > load.jsonl
	run -0 --separate-stderr bash -o pipefail -c \
	    "schema-infer -q -t $table load.jsonl | sqlite-load -q $db"
}

# ---------------------------------------------------------------------------
# No column that no row uses.

@test "variants: a variant schema-infer saw as a conflict but the table takes is not created" {
	# The table holds trip_distance as double; schema-infer, without the
	# destination's schema, meets "n/a" first and then 2: it declares
	# trip_distance__v_bigint, which the double column takes.
	load_db t.db trips '{"id":1,"trip_distance":1.5}'
	load_db t.db trips '{"id":2,"trip_distance":"n/a"}' '{"id":3,"trip_distance":2}'
	assert_equal "$(columns t.db trips)" "id,trip_distance,trip_distance__v_text"
	assert_equal "$(sql t.db 'SELECT id, trip_distance, trip_distance__v_text FROM trips ORDER BY id')" \
	    "$(printf '%s\n' '1|1.5|' '2||n/a' '3|2.0|')"
	# Every column of the table holds a value in some row.
	local c
	for c in $(sql t.db "SELECT name FROM pragma_table_info('trips')"); do
		[[ $(sql t.db "SELECT count(*) FROM trips WHERE \"$c\" IS NOT NULL") -gt 0 ]] ||
		    fail "column $c is empty"
	done
}

@test "variants: a declared variant whose base conflicts is still created" {
	printf '%s\n' '{"type":"SCHEMA","stream":"t","schema":{"properties":{"a":{"type":["integer"]},"a__v_text":{"type":["null","string"]}}},"key_properties":[]}' \
	    '{"type":"RECORD","stream":"t","record":{"a":"x"}}' > in.singer
	run -0 --separate-stderr sqlite-load -q t.db in.singer
	assert_equal "$(columns t.db t)" "a,a__v_text"
	assert_equal "$(sql t.db 'SELECT a__v_text FROM t')" "x"
}

@test "rejected records: a skipped record adds no column to the schema" {
	printf '%s\n' '{"a":1}' '{"new":1,"a":"x"}' '{"a":2}' > in.jsonl
	run -0 --separate-stderr schema-infer -q --on-type-conflict fail \
	    --on-error skip -t t in.jsonl
	run -0 jq -sc '[.[] | select(.type == "SCHEMA") | .schema.properties | keys]' <<<"$output"
	assert_output '[["a"]]'
}

# ---------------------------------------------------------------------------
# Contracts against a destination built by sqlite-load.

# base_db: p.db holds trips (id bigint, fare bigint, note text, all
# required) with two rows; its dump is kept for db_unchanged.
base_db() {
	load_db p.db trips '{"id":1,"fare":10,"note":"a"}' '{"id":2,"fare":12,"note":"b"}'
	db_snapshot p.db
	cp p.db p.db.orig
}

# contract_load SPEC LINE...: the LINEs, bare records of trips, through
# schema-infer --schema-from p.db --contract SPEC (quarantine q.jsonl,
# stats st.json) into sqlite-load p.db; $status is the pipe's.
contract_load() {
	local spec=$1
	shift
	printf '%s\n' "$@" > new.jsonl
	run --separate-stderr bash -o pipefail -c "schema-infer -t trips \
	    --schema-from p.db --contract $spec --on-error quarantine=q.jsonl \
	    --stats st.json new.jsonl | sqlite-load -q p.db"
}

# frozen SPEC WHAT LINE...: the contract fails the run (65) at the last
# LINE, naming WHAT, and the database is byte for byte as it was.
frozen() {
	local spec=$1 what=$2
	shift 2
	contract_load "$spec" "$@"
	assert_equal "$status" 65
	assert_stderr_partial "schema-infer: new.jsonl:$#: contract: stream trips: $what"
	assert_stderr_partial "load rolled back"
	db_unchanged p.db
	cmp p.db p.db.orig || fail "p.db changed"
}

@test "freeze: a new table fails the run; the database is unchanged" {
	base_db
	printf '%s\n' '{"id":1}' > other.jsonl
	run --separate-stderr bash -o pipefail -c "schema-infer -t other \
	    --schema-from p.db --contract tables=freeze other.jsonl | sqlite-load -q p.db"
	assert_equal "$status" 65
	assert_stderr_line 'schema-infer: other.jsonl:1: contract: stream other: new table (tables=freeze)'
	db_unchanged p.db
	cmp p.db p.db.orig || fail "p.db changed"
}

@test "freeze: a new column fails the run at its line; the database is unchanged" {
	base_db
	frozen columns=freeze 'column "tip": new column, none -> bigint (columns=freeze)' \
	    '{"id":3,"fare":11,"note":"c"}' '{"id":4,"fare":11,"note":"d","tip":2}'
}

@test "freeze: a null in a required column is a columns change" {
	base_db
	frozen columns=freeze 'column "note": a null in a required column: text -> nullable text (columns=freeze)' \
	    '{"id":3,"fare":11,"note":null}'
	frozen columns=freeze 'column "note": missing from the record: text -> nullable text (columns=freeze)' \
	    '{"id":3,"fare":11,"note":"c"}' '{"id":4,"fare":11}'
	# Nullability is no data type: data_type=freeze lets it pass.
	contract_load data_type=freeze '{"id":3,"fare":11,"note":null}'
	assert_equal "$status" 0
	assert_equal "$(sql p.db 'SELECT count(*) FROM trips WHERE note IS NULL')" 1
}

@test "freeze: widening bigint to double is a data_type change" {
	base_db
	frozen data_type=freeze 'column "fare": type bigint -> double (data_type=freeze)' \
	    '{"id":3,"fare":11.5,"note":"c"}'
	frozen freeze 'column "fare": type bigint -> text (a conflict: variant column "fare__v_text") (data_type=freeze)' \
	    '{"id":3,"fare":"n/a","note":"c"}'
	# columns=freeze alone lets the type widen.
	contract_load columns=freeze '{"id":3,"fare":11.5,"note":"c"}'
	assert_equal "$status" 0
	assert_equal "$(coltype p.db trips fare)" INTEGER
	assert_equal "$(sql p.db 'SELECT fare FROM trips WHERE id = 3')" 11.5
}

@test "freeze: records that fit the destination load, with no SCHEMA change" {
	base_db
	contract_load freeze '{"id":3,"fare":11,"note":"c"}' '{"note":"d","id":4,"fare":0}'
	assert_equal "$status" 0
	assert_equal "$(sql p.db 'SELECT count(*) FROM trips')" 4
	assert_equal "$(columns p.db trips)" "id,fare,note"
	[[ ! -e q.jsonl ]] || fail "quarantine: $(cat q.jsonl)"
	assert_equal "$(jq -c '[.discarded_rows, .discarded_values]' st.json)" '[0,0]'
}

@test "freeze: the SLUICE_ABORT line names the change" {
	base_db
	printf '%s\n' '{"id":3,"fare":11,"note":"c","tip":1}' > new.jsonl
	run -65 --separate-stderr schema-infer -t trips --schema-from p.db --contract freeze new.jsonl
	assert_equal "$(tail -n 1 <<<"$output" | jq -c '[.type, .status, .error]')" \
	    '["SLUICE_ABORT",65,"new.jsonl:1: contract: stream trips: column \"tip\": new column, none -> bigint (columns=freeze)"]'
}

@test "discard_row: tables: every record of a new table is dropped, counted and quarantined" {
	base_db
	printf '%s\n' '{"id":1}' '{"id":2}' > other.jsonl
	run -0 --separate-stderr bash -o pipefail -c "schema-infer -t other \
	    --schema-from p.db --contract tables=discard_row --on-error quarantine=q.jsonl \
	    --stats st.json other.jsonl | sqlite-load -q p.db"
	assert_no_other() { [[ -z $(sql p.db "SELECT name FROM sqlite_master WHERE name = 'other'") ]]; }
	assert_no_other || fail "table other created"
	assert_equal "$(jq -c '[.discarded_rows, .discarded_values, .quarantined]' st.json)" '[2,0,2]'
	assert_equal "$(jq -c '[.line, .error, .input]' q.jsonl)" \
	    "$(printf '%s\n' '[1,"contract: stream other: new table (tables=discard_row): record dropped","{\"id\":1}"]' \
	    '[2,"contract: stream other: new table (tables=discard_row): record dropped","{\"id\":2}"]')"
}

@test "discard_row: columns: the record with a new column or a null goes; the rest loads" {
	base_db
	contract_load columns=discard_row '{"id":3,"fare":11,"note":"c"}' \
	    '{"id":4,"fare":11,"note":"d","tip":2}' '{"id":5,"fare":11,"note":null}' \
	    '{"id":6,"fare":11.5,"note":"f"}'
	assert_equal "$status" 0
	assert_equal "$(sql p.db 'SELECT id FROM trips ORDER BY id')" "$(printf '%s\n' 1 2 3 6)"
	assert_equal "$(columns p.db trips)" "id,fare,note"
	assert_equal "$(jq -c '[.discarded_rows, .discarded_values, .quarantined]' st.json)" '[2,0,2]'
	assert_equal "$(jq -r '.line' q.jsonl)" "$(printf '%s\n' 2 3)"
	assert_equal "$(jq -r '.input' q.jsonl)" "$(sed -n '2,3p' new.jsonl)"
	jq -e 'select(.error | startswith("contract: ") | not)' q.jsonl >/dev/null &&
	    fail "reason: $(cat q.jsonl)"
	return 0
}

@test "discard_row: data_type: the record that would widen or conflict goes" {
	base_db
	contract_load data_type=discard_row '{"id":3,"fare":11.5,"note":"c"}' \
	    '{"id":4,"fare":"x","note":"d"}' '{"id":5,"fare":5,"note":"e","tip":1}'
	assert_equal "$status" 0
	assert_equal "$(sql p.db 'SELECT id, tip FROM trips WHERE id > 2 ORDER BY id')" "5|1"
	assert_equal "$(columns p.db trips)" "id,fare,note,tip"
	assert_equal "$(jq -c '[.discarded_rows, .discarded_values]' st.json)" '[2,0]'
	assert_equal "$(jq -r '.error' q.jsonl)" \
	    "$(printf '%s\n' 'contract: stream trips: column "fare": type bigint -> double (data_type=discard_row): record dropped' \
	    'contract: stream trips: column "fare": type bigint -> text (a conflict: variant column "fare__v_text") (data_type=discard_row): record dropped')"
}

@test "discard_value: columns: new members are dropped, the rest of the record loads" {
	base_db
	contract_load columns=discard_value '{"id":3,"fare":11,"note":"c","tip":2,"extra":"z"}' \
	    '{"id":4,"fare":12,"note":"d"}'
	assert_equal "$status" 0
	assert_equal "$(columns p.db trips)" "id,fare,note"
	assert_equal "$(sql p.db 'SELECT id, fare, note FROM trips WHERE id > 2 ORDER BY id')" \
	    "$(printf '%s\n' '3|11|c' '4|12|d')"
	assert_equal "$(jq -c '[.discarded_rows, .discarded_values, .quarantined]' st.json)" '[0,2,2]'
	assert_equal "$(jq -r '.error' q.jsonl)" \
	    "$(printf '%s\n' 'contract: stream trips: column "tip": new column, none -> bigint (columns=discard_value): value dropped' \
	    'contract: stream trips: column "extra": new column, none -> text (columns=discard_value): value dropped')"
	assert_equal "$(jq -r '.input' q.jsonl | sort -u)" "$(head -n 1 new.jsonl)"
}

@test "discard_value: columns: a null in a required column drops the record (no member to drop)" {
	base_db
	contract_load columns=discard_value '{"id":3,"fare":11,"note":null}' '{"id":4,"fare":11,"note":"d"}'
	assert_equal "$status" 0
	assert_equal "$(sql p.db 'SELECT id FROM trips WHERE id > 2')" 4
	assert_equal "$(jq -c '[.discarded_rows, .discarded_values]' st.json)" '[1,0]'
	assert_equal "$(coldefs p.db trips)" "id INTEGER, fare INTEGER, note TEXT"
}

@test "discard_value: data_type: the odd value is dropped, its column stays as it was" {
	base_db
	contract_load data_type=discard_value '{"id":3,"fare":11.5,"note":"c"}' \
	    '{"id":4,"fare":"x","note":"d"}' '{"id":5,"fare":5,"note":"e"}'
	assert_equal "$status" 0
	assert_equal "$(columns p.db trips)" "id,fare,note"
	assert_equal "$(sql p.db 'SELECT id, fare, note FROM trips WHERE id > 2 ORDER BY id')" \
	    "$(printf '%s\n' '3||c' '4||d' '5|5|e')"
	assert_equal "$(jq -c '[.discarded_rows, .discarded_values, .quarantined]' st.json)" '[0,2,2]'
	assert_equal "$(jq -r '.line' q.jsonl)" "$(printf '%s\n' 1 2)"
}

@test "discard_value: a dropped value that leaves a required column empty drops the record under columns=discard_row" {
	base_db
	contract_load columns=discard_row,data_type=discard_value '{"id":3,"fare":"x","note":"c"}' \
	    '{"id":4,"fare":4,"note":"d"}'
	assert_equal "$status" 0
	assert_equal "$(sql p.db 'SELECT id FROM trips WHERE id > 2')" 4
	assert_equal "$(jq -c '[.discarded_rows, .discarded_values]' st.json)" '[1,0]'
	assert_equal "$(jq -r .error q.jsonl)" \
	    'contract: stream trips: column "fare": type bigint -> text (a conflict: variant column "fare__v_text") (data_type=discard_value), and without that value: column "fare": missing from the record: bigint -> nullable bigint (columns=discard_row): record dropped'
}

@test "discard_value: a RECORD message keeps its other members" {
	base_db
	printf '%s\n' '{"type":"RECORD","stream":"trips","record":{"id":3,"fare":3,"note":"c","tip":1},"version":7,"time_extracted":"2024-01-01T00:00:00Z"}' > new.singer
	run -0 --separate-stderr schema-infer -q --schema-from p.db --contract columns=discard_value new.singer
	assert_equal "$(tail -n 1 <<<"$output")" \
	    '{"type":"RECORD","stream":"trips","version":7,"time_extracted":"2024-01-01T00:00:00Z","record":{"id":3,"fare":3,"note":"c"}}'
}

@test "contracts: without --on-error quarantine each dropped record is a notice" {
	base_db
	printf '%s\n' '{"id":3,"fare":3,"note":"c","tip":1}' > new.jsonl
	run -0 --separate-stderr schema-infer -t trips --schema-from p.db --contract discard_row new.jsonl
	assert_stderr_line 'schema-infer: new.jsonl:1: contract: stream trips: column "tip": new column, none -> bigint (columns=discard_row): record dropped'
	assert_stderr_line 'schema-infer: contract: 1 record and 0 values discarded'
	refute_output --partial '"RECORD"'
}

@test "contracts: an upstream SCHEMA that adds a column is frozen, or dropped with its changes" {
	base_db
	printf '%s\n' '{"type":"SCHEMA","stream":"trips","schema":{"properties":{"id":{"type":"integer"},"tip":{"type":["null","number"]}}},"key_properties":["id"],"bookmark_properties":["id"]}' \
	    '{"type":"RECORD","stream":"trips","record":{"id":3,"fare":3,"note":"c"}}' > new.singer
	run -65 --separate-stderr schema-infer --schema-from p.db --contract columns=freeze new.singer
	assert_stderr_line 'schema-infer: new.singer:1: contract: stream trips: column "tip": new column, none -> double (columns=freeze)'
	run -0 --separate-stderr schema-infer -q --schema-from p.db --contract columns=discard_row new.singer
	# Ours replaces it: the destination's columns, the upstream key and bookmarks.
	assert_equal "$(head -n 1 <<<"$output")" \
	    '{"type":"SCHEMA","stream":"trips","schema":{"type":"object","properties":{"id":{"type":["integer"]},"fare":{"type":["integer"]},"note":{"type":["string"]}}},"key_properties":["id"],"bookmark_properties":["id"]}'
	assert_equal "${#lines[@]}" 2
}

# ---------------------------------------------------------------------------
# Baselines and usage errors.

@test "usage: a contract without a baseline exits 64" {
	run -64 --separate-stderr schema-infer --contract freeze </dev/null
	assert_output ""
	assert_stderr_partial "--contract: needs a baseline"
	# evolve everywhere is no contract: it needs none.
	run -0 --separate-stderr schema-infer --contract evolve </dev/null
}

@test "usage: bad contract specs exit 64, never 70" {
	local spec
	for spec in '' ' ' ',' '=' 'frozen' 'FREEZE' 'freeze,' ',freeze' 'tables=' '=freeze' \
	    'tables=freeze,' 'tables=freeze,,columns=evolve' 'tables=freeze,tables=evolve' \
	    'tables=discard_value' 'discard_value' 'rows=freeze' 'tables==freeze' \
	    'tables=freeze=evolve' 'columns=freeze;data_type=evolve' $'tables=\xff' \
	    "$(head -c 5000 /dev/zero | tr '\0' a)" "tables=$(head -c 5000 /dev/zero | tr '\0' ,)"; do
		run --separate-stderr schema-infer --schema /dev/null --contract "$spec" </dev/null
		[[ $status -eq 64 ]] || fail "--contract '$spec' exited $status: $stderr"
		assert_output ""
		assert_stderr_partial "schema-infer: --contract: "
	done
}

@test "usage: random contract specs exit 0 or 64, never 70 or a signal" {
	local round spec words=(tables columns data_type evolve freeze discard_row discard_value = , x '')
	for (( round = 0; round < 300; round++ )); do
		spec=${words[RANDOM % 11]}${words[RANDOM % 11]}${words[RANDOM % 11]}${words[RANDOM % 11]}${words[RANDOM % 11]}
		run --separate-stderr schema-infer --schema /dev/null --contract "$spec" </dev/null
		[[ $status -eq 0 || $status -eq 64 ]] || fail "--contract '$spec' exited $status: $stderr"
	done
}

@test "usage: each spec form sets the modes it names" {
	base_db
	printf '%s\n' '{"id":3,"fare":3.5,"note":"c","tip":1}' > new.jsonl
	run -0 --separate-stderr schema-infer -q -t trips --schema-from p.db \
	    --contract 'data_type=discard_value,columns=evolve,tables=freeze' new.jsonl
	assert_equal "$(tail -n 1 <<<"$output")" '{"type":"RECORD","stream":"trips","record":{"id":3,"note":"c","tip":1}}'
}

@test "--schema-from: a missing database exits 66; nothing is created" {
	run -66 --separate-stderr schema-infer --schema-from nope.db </dev/null
	assert_stderr_partial "schema-infer: --schema-from: nope.db: No such file or directory"
	[[ ! -e nope.db ]] || fail "nope.db created"
	# A loader downstream rolls back.
	assert_equal "$(jq -c '[.type, .status]' <<<"$output")" '["SLUICE_ABORT",66]'
}

@test "--schema-from: a file that is not a sluice database exits 66" {
	printf 'hello\n' > text.db
	run -66 --separate-stderr schema-infer --schema-from text.db </dev/null
	assert_stderr_partial "schema-infer: --schema-from: text.db: not a sluice database"
	sqlite3 plain.db 'CREATE TABLE t (a INTEGER)'
	run -66 --separate-stderr schema-infer --schema-from plain.db </dev/null
	assert_stderr_partial "not a sluice database (no _sluice_loads table)"
	run -66 --separate-stderr schema-infer --schema-from . </dev/null
	: > empty.db
	run -66 --separate-stderr schema-infer --schema-from empty.db </dev/null
}

@test "--schema-from: the database is read, never written" {
	base_db
	chmod a-w p.db
	printf '%s\n' '{"id":3,"fare":11,"note":"c"}' > new.jsonl
	run -0 --separate-stderr schema-infer -q -t trips --schema-from p.db --contract freeze new.jsonl
	chmod u+w p.db
	cmp p.db p.db.orig || fail "p.db changed"
	db_unchanged p.db
}

@test "--schema-from: the stored schema is the baseline, a table without one its definition" {
	base_db
	sql p.db 'CREATE TABLE manual (a INTEGER NOT NULL, b TEXT)'
	run -0 --separate-stderr schema-infer -q --schema-from p.db --final </dev/null
	assert_line '{"type":"SCHEMA","stream":"trips","schema":{"type":"object","properties":{"id":{"type":["integer"]},"fare":{"type":["integer"]},"note":{"type":["string"]}}},"key_properties":[]}'
	assert_line '{"type":"SCHEMA","stream":"manual","schema":{"type":"object","properties":{"a":{"type":["integer"]},"b":{"type":["null","string"]}}},"key_properties":[]}'
	assert_equal "${#lines[@]}" 2
}

# ---------------------------------------------------------------------------
# Events relative to the destination.

# event_load ID LINE...: the LINEs, bare records of trips, through
# schema-infer (--schema-from p.db when p.db exists) with --events
# ev.ID.jsonl into sqlite-load p.db, both under SLUICE_LOAD_ID=ID.
event_load() {
	local id=$1 from=
	shift
	printf '%s\n' "$@" > "in.$id.jsonl"
	[[ -e p.db ]] && from="--schema-from p.db"
	: > "ev.$id.jsonl"
	run -0 --separate-stderr env SLUICE_LOAD_ID="$id" bash -o pipefail -c \
	    "schema-infer -q -t trips $from --events ev.$id.jsonl in.$id.jsonl | sqlite-load -q p.db"
}

@test "events: exact across loads into the same database" {
	event_load L1 '{"id":1,"fare":10}' '{"id":2,"fare":12}'
	assert_equal "$(cat ev.L1.jsonl)" \
	    '{"stream":"trips","column":null,"change":"new_table","from":null,"to":null,"line":1,"load_id":"L1"}'
	# The same shape again: nothing changed in the destination.
	event_load L2 '{"id":3,"fare":13}' '{"fare":14,"id":4}'
	[[ ! -s ev.L2.jsonl ]] || fail "events: $(cat ev.L2.jsonl)"
	# One new column: exactly that one event, with the load's id.
	event_load L3 '{"id":5,"fare":15}' '{"id":6,"fare":16,"tip":1.5}' '{"id":7,"fare":17,"tip":2.5}'
	assert_equal "$(cat ev.L3.jsonl)" \
	    '{"stream":"trips","column":"tip","change":"new_column","from":null,"to":"double","line":2,"load_id":"L3"}'
	assert_equal "$(sql p.db "SELECT count(*) FROM _sluice_loads WHERE load_id = 'L3' AND status = 'completed'")" 1
	# A type change and a nullability change, each once.
	event_load L4 '{"id":8,"fare":18.5}' '{"id":9,"fare":null}' '{"id":10,"fare":null}'
	assert_equal "$(cat ev.L4.jsonl)" "$(printf '%s\n' \
	    '{"stream":"trips","column":"fare","change":"widen","from":"bigint","to":"double","line":1,"load_id":"L4"}' \
	    '{"stream":"trips","column":"fare","change":"nullable","from":"required","to":"nullable","line":2,"load_id":"L4"}')"
	event_load L5 '{"id":11,"fare":null}' '{"id":12,"fare":2,"tip":null}'
	[[ ! -s ev.L5.jsonl ]] || fail "events: $(cat ev.L5.jsonl)"
}

@test "events: a table that exists is not new; one that does not is" {
	load_db p.db trips '{"id":1}'
	printf '%s\n' '{"type":"SCHEMA","stream":"trips","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":[]}' \
	    '{"type":"RECORD","stream":"trips","record":{"id":2}}' \
	    '{"type":"SCHEMA","stream":"other","schema":{"properties":{"a":{"type":"integer"}}},"key_properties":[]}' \
	    '{"type":"RECORD","stream":"other","record":{"a":1}}' \
	    '{"type":"RECORD","stream":"third","record":{"b":1}}' > in.singer
	run -0 --separate-stderr schema-infer -q --schema-from p.db --load-id X --events ev.jsonl in.singer
	assert_equal "$(cat ev.jsonl)" "$(printf '%s\n' \
	    '{"stream":"other","column":null,"change":"new_table","from":null,"to":null,"line":3,"load_id":"X"}' \
	    '{"stream":"third","column":null,"change":"new_table","from":null,"to":null,"line":5,"load_id":"X"}')"
}

@test "events: the load id is --load-id, else SLUICE_LOAD_ID" {
	printf '%s\n' '{"a":1}' > in.jsonl
	run -0 --separate-stderr env SLUICE_LOAD_ID=ENV schema-infer -q --load-id OPT --events ev.jsonl in.jsonl
	run -0 --separate-stderr env SLUICE_LOAD_ID=ENV schema-infer -q --events ev.jsonl in.jsonl
	assert_equal "$(jq -r .load_id ev.jsonl)" "$(printf '%s\n' OPT ENV)"
}

@test "--schema-from: a stored schema that is not JSON is bad data (65)" {
	load_db p.db trips '{"id":1}'
	sql p.db "UPDATE _sluice_schemas SET schema = '{\"properties\":'"
	run -65 --separate-stderr schema-infer --schema-from p.db </dev/null
	assert_stderr_partial "schema-infer: --schema-from: p.db: _sluice_schemas: table trips: "
	sql p.db "UPDATE _sluice_schemas SET schema = '[1]'"
	run -65 --separate-stderr schema-infer --schema-from p.db </dev/null
	sql p.db "UPDATE _sluice_schemas SET schema = '{\"properties\":3}'"
	run -65 --separate-stderr schema-infer --schema-from p.db </dev/null
}
