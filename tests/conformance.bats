#!/usr/bin/env bats
# Conformance: JSONTestSuite's parsing cases through every reader, and
# csv-spectrum through pgfetch's CSV reader (tests/data/conformance, see
# tests/data/PROVENANCE.md).
#
# Each case of test_parsing/ is wrapped on one line as {"k":N,"v": DOC}
# (k, the file's number, gives dedup-merge a key) and read as NDJSON by
# schema-infer, jsonl-normalize, dedup-merge, sqlite-load and pgfetch:
#	y_  accepted (exit 0, one record each);
#	n_  rejected as bad data: exit 65, never 70, a signal or a hang;
#	i_  0 or 65; but invalid UTF-8, UTF-16 and unpaired surrogate escapes
#	    are bad data in sluice (sluice(5)), so those i_string_ and
#	    i_object_key_ cases must give 65.
# A document holding a raw newline other than a final one cannot be
# wrapped on one line: a y_ document's newlines are whitespace and become
# spaces, an n_ or i_ document with one is left out (counted below).
# The documents themselves also go through pgfetch's JSON-document reader.

bats_require_minimum_version 1.5.0
load helper

SUITE="$DATA/conformance/JSONTestSuite/test_parsing"
SPECTRUM="$DATA/conformance/csv-spectrum"
READERS="schema-infer jsonl-normalize dedup-merge sqlite-load pgfetch"

setup_file() {
	local w="$BATS_FILE_TMPDIR/wrapped"

	mkdir -p "$w"
	python3 - "$SUITE" "$w" <<'EOF'
import os, sys
suite, out = sys.argv[1:3]
left_out, n = [], 0
with open(os.path.join(out, 'all-y.jsonl'), 'wb') as y:
    for name in sorted(os.listdir(suite)):
        base = name[:-5]
        doc = open(os.path.join(suite, name), 'rb').read()
        if doc.endswith(b'\n'):
            doc = doc[:-1]
        if b'\n' in doc:
            if not base.startswith('y_'):
                left_out.append(base)
                continue
            doc = doc.replace(b'\n', b' ')
        n += 1
        line = b'{"k":%d,"v": ' % n + doc + b'}\n'
        if base.startswith('y_'):
            y.write(line)
        with open(os.path.join(out, base + '.jsonl'), 'wb') as f:
            f.write(line)
with open(os.path.join(out, 'left-out'), 'w') as f:
    f.write('\n'.join(left_out) + '\n')
EOF
}

setup() {
	sluice_setup $READERS
	W="$BATS_FILE_TMPDIR/wrapped"
}

# read_as READER FILE: run READER over the NDJSON FILE, output in ./out,
# errors in ./err; the exit status is returned.  sqlite-load gets a new
# database each time.
read_as() {
	local s=0

	rm -f c.db
	case $1 in
	schema-infer)	 timeout 20 schema-infer -q < "$2" ;;
	jsonl-normalize) timeout 20 jsonl-normalize -t t < "$2" ;;
	dedup-merge)	 timeout 20 dedup-merge -k k < "$2" ;;
	sqlite-load)	 timeout 20 sqlite-load -q c.db -t t < "$2" ;;
	pgfetch)	 timeout 20 pgfetch --format jsonl "$2" ;;
	esac > out 2> err || s=$?
	return "$s"
}

# The records READER wrote for the input in ./out (sqlite-load: rows).
records_of() {
	case $1 in
	schema-infer|jsonl-normalize)
		jq -c 'select(.type == "RECORD" and .stream == "t" or
		    .type == "RECORD" and .stream == "data")' out | wc -l ;;
	sqlite-load)
		sql c.db 'SELECT count(*) FROM t' ;;
	*)	wc -l < out ;;
	esac
}

# expect_each STATUSES PATTERN...: run every reader over each wrapped file
# matching PATTERN; fail naming every (file, reader, status) whose status
# is not one of STATUSES (space-separated).
expect_each() {
	local want=$1 f r s bad=() n=0
	shift
	for f in "$@"; do
		[[ -e $f ]] || continue
		n=$((n + 1))
		for r in $READERS; do
			s=0
			read_as "$r" "$f" || s=$?
			[[ " $want " == *" $s "* ]] ||
			    bad+=("$(basename "$f" .jsonl) $r: exit $s: $(head -c 200 err)")
		done
	done
	(( n > 0 )) || fail "no case matched"
	(( ${#bad[@]} == 0 )) || fail "$(printf '%s\n' "${#bad[@]} failures:" "${bad[@]}")"
	echo "# $n cases x 5 readers" >&3
}

@test "conformance: every y_ document is accepted by every NDJSON reader, one record each" {
	local r s count want f bad=()

	want=$(wc -l < "$W/all-y.jsonl")
	(( want == 95 )) || fail "$want y_ cases, expected 95"
	for r in $READERS; do
		s=0
		read_as "$r" "$W/all-y.jsonl" || s=$?
		if (( s == 0 )); then
			count=$(records_of "$r")
			(( count == want )) || bad+=("$r: $count records of $want")
			continue
		fi
		bad+=("$r: exit $s: $(head -c 300 err)")
		# Name the documents it fails on.
		for f in "$W"/y_*.jsonl; do
			s=0
			read_as "$r" "$f" || s=$?
			(( s == 0 )) || bad+=("  $(basename "$f" .jsonl): exit $s")
		done
	done
	(( ${#bad[@]} == 0 )) || fail "$(printf '%s\n' "${bad[@]}")"
}

@test "conformance: every n_ document is rejected with 65 by every NDJSON reader" {
	expect_each 65 "$W"/n_*.jsonl
}

@test "conformance: i_ documents give 0 or 65, never 70, a signal or a hang" {
	expect_each "0 65" "$W"/i_*.jsonl
}

@test "conformance: i_ strings in invalid UTF-8, UTF-16 or with unpaired surrogates are bad data (65)" {
	expect_each 65 "$W"/i_string_*.jsonl "$W"/i_object_key_*.jsonl
}

@test "conformance: the n_ and i_ cases left out (raw newline inside) are the expected few" {
	run cat "$W/left-out"
	assert_output "n_array_newlines_unclosed
n_array_unclosed_with_new_lines
n_string_unescaped_newline"
}

# pgfetch --format json on the documents themselves: a y_ document either
# yields records (every line an object) or is refused with 65 because it
# holds no records (a scalar, or an array of non-objects); an n_ document
# is 65; an i_ document 0 or 65, its strings as above.
@test "conformance: pgfetch's JSON-document reader: y_ gives records or 'not records', n_ gives 65" {
	local f b s bad=() n=0

	for f in "$SUITE"/*.json; do
		b=$(basename "$f" .json)
		n=$((n + 1))
		s=0
		timeout 20 pgfetch --format json "$f" > out 2> err || s=$?
		case $b:$s in
		y_*:0)
			jq -e 'type == "object"' out > /dev/null 2>&1 ||
			    bad+=("$b: exit 0 but a line is not an object") ;;
		y_*:65)
			grep -Eq 'is not an object|neither an object nor an array' err ||
			    bad+=("$b: 65 but not about records: $(head -c 200 err)") ;;
		n_*:65|i_*:65) ;;
		i_string_*:0|i_object_key_*:0)
			bad+=("$b: invalid text accepted") ;;
		i_*:0) ;;
		*)	bad+=("$b: exit $s: $(head -c 200 err)") ;;
		esac
	done
	(( n > 300 )) || fail "only $n cases"
	(( ${#bad[@]} == 0 )) || fail "$(printf '%s\n' "${#bad[@]} failures:" "${bad[@]}")"
}

@test "conformance: csv-spectrum: pgfetch's CSV equals the expected JSON for every case" {
	local f b bad=() n=0

	for f in "$SPECTRUM"/csvs/*.csv; do
		b=$(basename "$f" .csv)
		n=$((n + 1))
		timeout 20 pgfetch --format csv "$f" > out 2> err ||
		    { bad+=("$b: exit $?: $(head -c 200 err)"); continue; }
		[[ "$(jq -S -s -c . out)" == "$(jq -S -c . "$SPECTRUM/json/$b.json")" ]] ||
		    bad+=("$b: $(jq -S -s -c . out) != $(jq -S -c . "$SPECTRUM/json/$b.json")")
	done
	(( n == 11 )) || fail "$n csv-spectrum cases, expected 11"
	(( ${#bad[@]} == 0 )) || fail "$(printf '%s\n' "${bad[@]}")"
}
