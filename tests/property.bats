#!/usr/bin/env bats
# Property tests: random record streams through random option combinations
# of the pipeline, checked against an independent model of the root table
# and its child table (tests/property/prop.py says what is drawn and what
# is checked).  The seed is fixed so that `make check` is repeatable; longer
# runs:
#	PROPERTY_SEED=1000 PROPERTY_RUNS=2000 bats tests/property.bats

bats_require_minimum_version 1.5.0
load helper

setup() {
	sluice_setup dedup-merge jsonl-normalize schema-infer sqlite-load
}

@test "property: the pipeline's root and child tables equal the model's, every mode, key, policy and dedup" {
	run python3 "$BATS_TEST_DIRNAME/property/prop.py" "$BIN" "$BATS_TEST_TMPDIR" \
	    "${PROPERTY_SEED:-1}" "${PROPERTY_RUNS:-30}"
	echo "$output" >&3
	assert_success
	assert_line --regexp "^# ${PROPERTY_RUNS:-30} runs from seed ${PROPERTY_SEED:-1}, 0 failed$"
}

@test "property: the model catches a wrong loader (a merge that keeps the first version)" {
	# The check itself is checked: with the model's merge inverted, the
	# same runs must fail.
	sed 's/cur\[r\["id"\]\] = r$/cur.setdefault(r["id"], r)/' \
	    "$BATS_TEST_DIRNAME/property/prop.py" > inverted.py
	run ! grep -q 'cur\[r\["id"\]\] = r$' inverted.py
	run -1 python3 inverted.py "$BIN" "$BATS_TEST_TMPDIR" 1 30
	assert_output --partial "rows differ"
}
