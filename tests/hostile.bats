#!/usr/bin/env bats
# The hostile corpus (tests/data/hostile/gen.sh writes it, the large cases
# too, into the test's temporary directory) through every program and
# every sqlite-load mode.  The rule for every case: exit 0 or 65, never 70
# and never a signal, within a time limit; after a failed load the
# database is byte for byte what it was (.dump).  Then what issue 9 says
# each case must give.
#
# tests/data/hostile/known-failures lists (case, program) pairs that break
# the rule today because of a defect another branch fixes; the rule's loop
# leaves them out and the test that checks them is skipped until the merge.

bats_require_minimum_version 1.5.0
load helper

GEN="$DATA/hostile/gen.sh"
KNOWN="$DATA/hostile/known-failures"
MODES="append merge replace scd2"

setup_file() {
	local m

	sh "$GEN" "$BATS_FILE_TMPDIR/h" big
	# A database per mode holding one earlier load, and its dump.
	for m in $MODES; do
		printf '{"id":0,"base":"x"}\n' |
		    "$BATS_TEST_DIRNAME/../bin/sqlite-load" -q \
		    "$BATS_FILE_TMPDIR/base-$m.db" -t t -k id -m "$m"
		sqlite3 -batch -bail "$BATS_FILE_TMPDIR/base-$m.db" .dump \
		    > "$BATS_FILE_TMPDIR/base-$m.sql"
	done
	# What a database that does not exist dumps as.
	sqlite3 -batch -bail "$BATS_FILE_TMPDIR/none.db" .dump \
	    > "$BATS_FILE_TMPDIR/base-new.sql"
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

# known CASE PROGRAM: the pair is in known-failures.
known() {
	grep -Eq "^$1 ($2|\\*) " "$KNOWN"
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
		# Their own tests: the 200 MB line, the slow column growth (D15).
		[[ $c == line_200mb || $c == cols_2001_across ]] && continue
		for cfg in "${CONFIGS[@]}"; do
			known "$c" "${cfg%% *}" && continue
			n=$((n + 1))
			s=0
			run_config "$cfg" "$f" || s=$?
			check_rule "$c" "$cfg" "$s"
		done
	done
	(( n > 450 )) || fail "only $n runs"
	(( ${#bad[@]} == 0 )) || fail "$(printf '%s\n' "${#bad[@]} failures:" "${bad[@]}")"
}

@test "hostile: the pairs of known-failures (D1, D5, D6, D9, S4) keep the rule" {
	skip "D1, D6, D9, S4: fixed on branch loader; D5: on branch readers"
	local c prog item cfg s bad=()
	while read -r c prog item; do
		[[ -z $c || $c == \#* ]] && continue
		for cfg in "${CONFIGS[@]}"; do
			[[ $prog == "*" || ${cfg%% *} == "$prog" ]] || continue
			s=0
			run_config "$cfg" "$H/$c.jsonl" || s=$?
			check_rule "$c ($item)" "$cfg" "$s"
		done
	done < "$KNOWN"
	(( ${#bad[@]} == 0 )) || fail "$(printf '%s\n' "${bad[@]}")"
}

# every_config STATUS CASE...: each case gives STATUS in every configuration
# (but the pairs of known-failures, checked by their own skipped tests).
every_config() {
	local want=$1 c cfg s bad=()
	shift
	for c in "$@"; do
		for cfg in "${CONFIGS[@]}"; do
			known "$c" "${cfg%% *}" && continue
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
	skip "D5: fixed on branch readers"
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
	skip "D4: fixed on branch readers"
	every_config 65 sur_lone_high sur_high_high sur_mispaired sur_in_key
}

@test "hostile: a paired surrogate escape is stored as its character" {
	every_config 0 sur_paired
	sqlite-load -q p.db -t t < "$H/sur_paired.jsonl"
	run sql p.db 'SELECT hex(s) FROM t'
	assert_output F09F9880
}

@test "hostile: form feed and vertical tab are not JSON whitespace" {
	skip "D12: fixed on branch readers"
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
	skip "D9: fixed on branch loader"
	local m s
	for m in $MODES; do
		rm -f k.db
		s=0
		sqlite-load -q k.db -t t -k id -m "$m" < "$H/nul_in_key.jsonl" || s=$?
		(( s == 0 || s == 65 )) || fail "mode $m: exit $s"
	done
}

@test "hostile: integers beyond 64 bits are kept exactly and stay distinct keys" {
	skip "D7: fixed on branch loader"
	local m
	for m in append merge; do
		rm -f b.db
		sqlite-load -q b.db -t t -k id -m "$m" < "$H/num_2p64_plus_1.jsonl"
		run sql b.db 'SELECT CAST(id AS TEXT) FROM t ORDER BY 1'
		assert_output "18446744073709551617
18446744073709551618"
	done
	sqlite-load -q c.db -t t < "$H/num_min_int64_minus_1.jsonl"
	run sql c.db 'SELECT CAST(id AS TEXT) FROM t ORDER BY length(id), 1'
	assert_output "-9223372036854775808
-9223372036854775809"
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

@test "hostile: names that differ only in case: no 70, both values kept" {
	skip "D6: fixed on branch loader"
	sqlite-load -q c.db -t t < "$H/key_case.jsonl"
	run sql c.db 'SELECT * FROM t'
	assert_output --regexp '^1\|2'
	sqlite-load -q s.db -t t < "$H/stream_case.jsonl"
	run sql s.db "SELECT (SELECT count(*) FROM Issues) +
	    (SELECT count(*) FROM sqlite_master WHERE name = 'issues_2')"
	refute_output 0
}

@test "hostile: a member that occurs twice: the last wins in sqlite-load" {
	skip "D11: the loader keeps the first (issue 9, not fixed on this branch)"
	sqlite-load -q d.db -t t < "$H/key_duplicate.jsonl"
	run sql d.db 'SELECT a FROM t'
	assert_output two
	run columns d.db t
	assert_output id,a
}

@test "hostile: streams named _sluice_state or sqlite_master are refused as reserved" {
	skip "S4: fixed on branch loader"
	local c
	for c in stream_sluice_state stream_sqlite_master; do
		run -65 --separate-stderr sqlite-load -q r.db -t t < "$H/$c.jsonl"
		assert_stderr_partial reserved
	done
}

@test "hostile: a record without its key value is 65 naming the line, in every mode" {
	skip "D1: fixed on branch loader"
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
	skip "D10: fixed on branch readers"
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

@test "hostile: 1,999 columns added one a record load in linear time" {
	skip "D15: adding columns is super-linear (issue 9, not fixed on this branch)"
	awk 'BEGIN { for (i = 1; i <= 1999; i++) printf "{\"id\":%d,\"c%d\":%d}\n", i, i, i }' > across.jsonl
	run -0 timeout 10 sqlite-load -q a.db -t t < across.jsonl
}

# asan: the programs are built with AddressSanitizer.
asan() {
	ldd "$BIN/sqlite-load" 2>/dev/null | grep -q libasan
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
			asan || (( kb < 190000 )) || fail "$p $lim: max RSS $kb KB"
			[[ -z $lim ]] || (( kb < 64000 )) ||
			    fail "$p $lim: max RSS $kb KB with a 1 MiB limit"
		done
	done
	run sql m.db "SELECT count(*) FROM sqlite_master WHERE name = 't'"
	assert_output 0
}
