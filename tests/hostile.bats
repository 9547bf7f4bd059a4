#!/usr/bin/env bats
# The hostile corpus (tests/data/hostile/gen.sh writes it, the large cases
# too, into the test's temporary directory) through every program and
# every sqlite-load mode.  The rule for every case: exit 0 or 65, never 70
# and never a signal, within a time limit; after a failed load the
# database is byte for byte what it was (.dump).  Then what issue 9 says
# each case must give.

bats_require_minimum_version 1.5.0
load helper

GEN="$DATA/hostile/gen.sh"
MODES="append merge replace scd2"

setup_file() {
	local m

	sh "$GEN" "$BATS_FILE_TMPDIR/h" big
	# A database per mode holding one earlier load, and its dump.
	for m in $MODES; do
		printf '{"id":0,"base":"x"}\n' |
		    "$BATS_TEST_DIRNAME/../bin/sqlite-load" -q \
		    "$BATS_FILE_TMPDIR/base-$m.db" -t t -k id -m "$m"
		dump "$BATS_FILE_TMPDIR/base-$m.db" > "$BATS_FILE_TMPDIR/base-$m.sql"
	done
	# What a database that does not exist dumps as.
	dump "$BATS_FILE_TMPDIR/none.db" > "$BATS_FILE_TMPDIR/base-new.sql"
}

setup() {
	sluice_setup schema-infer jsonl-normalize dedup-merge pgfetch sqlite-load
	H="$BATS_FILE_TMPDIR/h"
}

# The configurations every case goes through: a program and its options.
CONFIGS=(
	"schema-infer"
	"jsonl-normalize"
	"dedup-merge"
	"pgfetch"
	"pgfetch-json"
	"sqlite-load append"
	"sqlite-load append -k"
	"sqlite-load merge -k"
	"sqlite-load replace -k"
	"sqlite-load scd2 -k"
	"sqlite-load append -k new"
	"sqlite-load merge -k new"
	"sqlite-load replace -k new"
	"sqlite-load scd2 -k new"
)

# run_config CONFIG FILE: run one configuration over FILE (stdout in
# ./out, stderr in ./err, the database ./db a copy of the mode's base, or
# none at all for "new"); the exit status is returned.
run_config() {
	local s=0 prog mode key new
	read -r prog mode key new <<<"$1"
	case $prog in
	schema-infer)	 timeout 120 schema-infer -q < "$2" ;;
	jsonl-normalize) timeout 120 jsonl-normalize -t t < "$2" ;;
	dedup-merge)	 timeout 120 dedup-merge -k id < "$2" ;;
	pgfetch)	 timeout 120 pgfetch --format jsonl "$2" ;;
	pgfetch-json)
		# The lines as one JSON document: an array of them.
		{ printf '['; paste -sd, "$2"; printf ']'; } > doc.json
		timeout 120 pgfetch --format json doc.json ;;
	sqlite-load)
		rm -f db
		[[ -n $new ]] || cp "$BATS_FILE_TMPDIR/base-${mode/append/merge}.db" db
		timeout 120 sqlite-load -q db -t t ${key:+-k id} -m "$mode" < "$2" ;;
	esac > out 2> err || s=$?
	return "$s"
}

# check_rule CASE CONFIG STATUS: append to bad[] what breaks the rule.
check_rule() {
	local c=$1 cfg=$2 s=$3 mode
	if (( s != 0 && s != 65 )); then
		bad+=("$c [$cfg]: exit $s: $(head -c 200 err)")
	elif (( s == 65 )) && ! grep -q ':[0-9]*: ' err; then
		bad+=("$c [$cfg]: 65 without file:line: $(head -c 200 err)")
	fi
	if [[ $cfg == sqlite-load* ]] && (( s != 0 )); then
		mode=$(awk '{ print $2 }' <<<"$cfg")
		[[ $cfg == *new ]] && mode=new
		dump db > after.sql
		cmp -s after.sql "$BATS_FILE_TMPDIR/base-${mode/append/merge}.sql" ||
		    bad+=("$c [$cfg]: exit $s but the database changed")
	fi
}

@test "hostile: every case, every program and mode: 0 or 65, never 70 or a signal; a failed load changes nothing" {
	local f c cfg s bad=() n=0
	for f in "$H"/*.jsonl; do
		c=$(basename "$f" .jsonl)
		# The 200 MB line has its own test; 2,001 columns added one a
		# record take 10 s a load (D15, a smaller case has its own test).
		[[ $c == line_200mb || $c == cols_2001_across ]] && continue
		for cfg in "${CONFIGS[@]}"; do
			n=$((n + 1))
			s=0
			run_config "$cfg" "$f" || s=$?
			check_rule "$c" "$cfg" "$s"
		done
	done
	(( n > 450 )) || fail "only $n runs"
	(( ${#bad[@]} == 0 )) || fail "$(printf '%s\n' "${#bad[@]} failures:" "${bad[@]}")"
}

# every_config STATUS CASE...: each case gives STATUS in every configuration.
every_config() {
	local want=$1 c cfg s bad=()
	shift
	for c in "$@"; do
		for cfg in "${CONFIGS[@]}"; do
			s=0
			run_config "$cfg" "$H/$c.jsonl" || s=$?
			(( s == want )) || bad+=("$c [$cfg]: exit $s: $(head -c 200 err)")
		done
	done
	(( ${#bad[@]} == 0 )) || fail "$(printf '%s\n' "${bad[@]}")"
}

@test "hostile: raw bytes that are not UTF-8, a raw tab, nesting 100,000 deep: 65 everywhere" {
	every_config 65 utf8_overlong utf8_cesu utf8_above_10ffff utf8_raw_tab \
	    sur_lone_low nesting_100000
}

@test "hostile: pgfetch's JSON-document reader refuses what is not UTF-8, as its JSON Lines reader does" {
	local c
	for c in utf8_overlong utf8_cesu utf8_above_10ffff sur_lone_low sur_lone_high; do
		{ printf '['; paste -sd, "$H/$c.jsonl"; printf ']'; } > doc.json
		run -65 --separate-stderr pgfetch --format json doc.json
	done
}

@test "hostile: a half string after the value ({\"id\":1}\") is bad data, not a record" {
	# Failed before jval's fix: accepted, written out as invalid JSON,
	# and the next line was read as the rest of the string.
	every_config 65 half_string_after half_string_last
	run -65 --separate-stderr schema-infer -q < "$H/half_string_after.jsonl"
	assert_stderr_partial "stdin:1: invalid JSON"
}

@test "hostile: lone and mis-paired surrogate escapes are bad data everywhere" {
	every_config 65 sur_lone_high sur_high_high sur_mispaired sur_in_key
}

@test "hostile: a paired surrogate escape is stored as its character" {
	every_config 0 sur_paired
	sqlite-load -q p.db -t t < "$H/sur_paired.jsonl"
	run sql p.db 'SELECT hex(s) FROM t'
	assert_output F09F9880
}

@test "hostile: form feed and vertical tab are not JSON whitespace" {
	every_config 65 formfeed vertical_tab
}

@test "hostile: NUL in a value is kept whole" {
	every_config 0 nul_in_value
	sqlite-load -q n.db -t t < "$H/nul_in_value.jsonl"
	run sql n.db 'SELECT hex(v) FROM t'
	assert_output 610062
}

@test "hostile: NUL in a key value is kept whole, two such keys are two rows" {
	sqlite-load -q n.db -t t -k id -m merge < "$H/nul_in_key_value.jsonl"
	run sql n.db 'SELECT hex(id) FROM t ORDER BY 1'
	assert_output "610062
610063"
}

@test "hostile: NUL in a key is quoted whole or refused with 65, never 70" {
	local m s
	for m in $MODES; do
		rm -f k.db
		s=0
		sqlite-load -q k.db -t t -k id -m "$m" < "$H/nul_in_key.jsonl" || s=$?
		(( s == 0 || s == 65 )) || fail "mode $m: exit $s"
	done
}

# They make the field a decimal: a DECIMAL TEXT column holding each
# number as written (sqlite-load(1)).
@test "hostile: integers beyond 64 bits are kept exactly and stay distinct keys" {
	local m
	for m in append merge; do
		rm -f b.db
		sqlite-load -q b.db -t t -k id -m "$m" < "$H/num_2p64_plus_1.jsonl"
		run sql b.db 'SELECT typeof(id), id FROM t ORDER BY 2'
		assert_output "text|18446744073709551617
text|18446744073709551618"
		run coldefs b.db t
		assert_output "id DECIMAL TEXT"
	done
	sqlite-load -q c.db -t t < "$H/num_min_int64_minus_1.jsonl"
	run sql c.db 'SELECT typeof(id), id FROM t ORDER BY length(id), 2'
	assert_output "text|-9223372036854775808
text|-9223372036854775809"
	run coldefs c.db t
	assert_output "id DECIMAL TEXT"
}

@test "hostile: 1e400, 1e-400, -0 and 1,000 digits load in every mode" {
	every_config 0 num_1e400 num_1e-400 num_1000_digits
	sqlite-load -q z.db -t t < "$H/num_minus_zero.jsonl"
	run sql z.db 'SELECT count(*) FROM t'
	assert_output 3
}

@test "hostile: empty keys load" {
	every_config 0 key_empty key_empty_nested
	sqlite-load -q e.db -t t < "$H/key_empty.jsonl"
	run sql e.db 'SELECT count(*) FROM t'
	assert_output 1
}

# SQLite's names ignore case: sqlite-load refuses the second spelling as
# bad data (sqlite-load(1), Tables and columns); the rule's test checks
# the database is left as it was.
@test "hostile: names that differ only in case are 65 in sqlite-load, naming both" {
	run -65 --separate-stderr sqlite-load -q c.db -t t < "$H/key_case.jsonl"
	assert_stderr_partial 'stdin:1: stream t: columns "id" and "ID" differ only in case'
	run -65 --separate-stderr sqlite-load -q c.db -t t < "$H/key_case_three.jsonl"
	assert_stderr_partial 'stdin:1: stream t: columns "Name" and "name" differ only in case'
	run -65 --separate-stderr sqlite-load -q s.db -t t < "$H/stream_case.jsonl"
	assert_stderr_partial 'stdin:2: stream issues: differs only in case from stream Issues'
	run -0 schema-infer -q < "$H/key_case.jsonl"
	run -0 jsonl-normalize -t t < "$H/key_case.jsonl"
}

@test "hostile: a member that occurs twice: the last wins in sqlite-load, schema-infer and jsonl-normalize" {
	sqlite-load -q d.db -t t < "$H/key_duplicate.jsonl"
	run sql d.db 'SELECT typeof(a), a FROM t'
	assert_output text\|two
	run columns d.db t
	assert_output id,a
	schema-infer -q < "$H/key_duplicate.jsonl" > s.out
	run jq -c 'select(.type == "SCHEMA") | .schema.properties.a.type' s.out
	assert_output '["string"]'
	jsonl-normalize -q -t t < "$H/key_duplicate.jsonl" > n.out
	run jq -c 'select(.type == "RECORD") | .record.a' n.out
	assert_output '"two"'
}

@test "hostile: streams named _sluice_state or sqlite_master are refused as reserved" {
	local c
	for c in stream_sluice_state stream_sqlite_master; do
		run -65 --separate-stderr sqlite-load -q r.db -t t < "$H/$c.jsonl"
		assert_stderr_partial reserved
	done
}

@test "hostile: a record without its key value is 65 naming the line, in every mode" {
	local m
	for m in $MODES; do
		rm -f k.db
		run -65 --separate-stderr sqlite-load -q k.db -t t -k id -m "$m" \
		    < "$H/key_missing.jsonl"
		assert_stderr_partial "stdin:1: "
	done
}

@test "hostile: CRLF and a missing final newline: every record loads" {
	local c
	every_config 0 crlf no_final_newline
	for c in crlf no_final_newline; do
		rm -f l.db
		sqlite-load -q l.db -t t < "$H/$c.jsonl"
		run sql l.db 'SELECT group_concat(id) FROM t'
		assert_output 1,2
	done
}

@test "hostile: pgfetch strips the UTF-8 BOM of a JSON Lines file" {
	run -0 pgfetch --format jsonl "$H/bom.jsonl"
	assert_output '{"id":1}'
}

@test "hostile: more than 2,000 columns is 65 in the programs that make columns, not a crash" {
	local c p
	for c in cols_2001 cols_5000; do
		for p in "schema-infer -q" "jsonl-normalize -t t" "sqlite-load -q w.db -t t"; do
			run -65 --separate-stderr timeout 120 $p < "$H/$c.jsonl"
			assert_stderr_partial "more than 2000 columns"
		done
		run -0 dedup-merge -k id "$H/$c.jsonl"
		run -0 pgfetch --format jsonl "$H/$c.jsonl"
	done
}

# Each new column is an ALTER TABLE: 2,000 of them take about 10 s (still
# more than linear, issue 9 D15), 1,000 under a second.
@test "hostile: 1,000 columns added one a record load, each value in its column" {
	awk 'BEGIN { for (i = 1; i <= 1000; i++) printf "{\"id\":%d,\"c%d\":%d}\n", i, i, i }' > across.jsonl
	run -0 timeout 60 sqlite-load -q a.db -t t < across.jsonl
	run sql a.db "SELECT count(*) FROM pragma_table_info('t') WHERE name GLOB 'c[0-9]*'"
	assert_output 1000
	run sql a.db "SELECT count(*), sum(c1 = 1), sum(c500 = 500), sum(c1000 = 1000) FROM t"
	assert_output "1000|1|1|1"
}

# Memory is bounded whatever the line: the default limit (64 MiB) and a
# small one; the 200 MB line is refused with 65 and never held whole.
@test "hostile: a 200 MB line is 65 with bounded memory in every program" {
	local p kb s
	for p in "schema-infer -q" "jsonl-normalize -t t" "dedup-merge -k id" \
	    "sqlite-load -q m.db -t t" "pgfetch --format jsonl -"; do
		for lim in "" "--max-line-bytes 1048576"; do
			s=0
			/usr/bin/time -f %M -o rss timeout 120 $p $lim \
			    < "$H/line_200mb.jsonl" > /dev/null 2> err || s=$?
			(( s == 65 )) || fail "$p $lim: exit $s: $(head -c 200 err)"
			grep -Eq 'stdin:1: line longer than' err ||
			    fail "$p $lim: $(head -c 200 err)"
			kb=$(tail -n 1 rss)
			# ASan keeps freed buffers in quarantine: only the small
			# limit's bound means something there.
			sanitized sqlite-load || (( kb < 190000 )) || fail "$p $lim: max RSS $kb KB"
			[[ -z $lim ]] || (( kb < 64000 )) ||
			    fail "$p $lim: max RSS $kb KB with a 1 MiB limit"
		done
	done
	run sql m.db "SELECT count(*) FROM sqlite_master WHERE name = 't'"
	assert_output 0
}
