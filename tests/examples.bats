#!/usr/bin/env bats
# The runnable examples in examples/ run under make check: a demo or a
# Makefile that no longer works is a failing test, not a stale document.

bats_require_minimum_version 1.5.0
load helper

setup() { sluice_setup jsonl-normalize schema-infer sqlite-load; }

EX="$BATS_TEST_DIRNAME/../examples"

@test "demo.sh loads the 100 issues with their labels and assignees, and shows them" {
	run -0 --separate-stderr sh "$EX/demo.sh" "$BIN" demo.db
	assert_stderr_regex 'issues \+100 ~0 -0, issues__labels \+34 ~0 -0, issues__assignees \+31 ~0 -0 committed'
	assert_output --partial '== five issues'
	assert_output --partial 'Support for FOREIGN KEY'
	assert_equal "$(sql demo.db 'SELECT count(*) FROM issues')" 100
	# Every label row hangs off an issue of the load.
	assert_equal "$(sql demo.db 'SELECT count(*) FROM issues__labels l
	    LEFT JOIN issues i ON i._sluice_id = l._sluice_parent_id WHERE i.id IS NULL')" 0
	assert_equal "$(sql demo.db "SELECT count(*) FROM issues__labels")" \
	    "$(jq -s '[.[].labels | length] | add' "$EX/issues.jsonl")"
}

@test "incremental.sh: the second run loads only the new and edited issues, the third nothing" {
	sluice_setup pgfetch dedup-merge
	run -0 --separate-stderr sh "$EX/incremental.sh" "$BIN" inc.db
	# stdout, in order: day 1 loads 50; day 2 the other 50 and 2 edited
	# ones; day 3 nothing, and the bookmark stays.
	assert_equal "$(grep -E '^sqlite-load: load' <<<"$output" |
	    sed -E 's/^sqlite-load: load [0-9.]+: //; s/, issues__.*committed$//')" \
	    "$(printf '%s\n' 'issues +50 ~0 -0' 'issues +50 ~2 -0' 'no rows, committed')"
	assert_equal "$(grep '^bookmark: ' <<<"$output" | tr '\n' ' ')" \
	    "bookmark: $(jq -r .updated_at "$EX/issues.jsonl" | sort | sed -n 50p) bookmark: 2024-01-01T00:00:00Z bookmark: 2024-01-01T00:00:00Z "
	assert_equal "$(sql inc.db 'SELECT count(*) FROM issues')" 100
	assert_equal "$(sql inc.db "SELECT count(*) FROM issues WHERE title LIKE '(edited) %'")" 2
	assert_equal "$(sql inc.db 'SELECT count(*) FROM _sluice_loads')" 3
	assert_equal "$(sql inc.db 'SELECT count(*) FROM issues__labels')" \
	    "$(jq -s '[.[].labels | length] | add' "$EX/issues.jsonl")"
}

@test "pipeline.mk loads every page once; a re-run loads nothing; a touched page merges again" {
	run -0 --separate-stderr make -s -f "$EX/pipeline.mk" BIN="$BIN"
	assert_equal "$(sql pipeline.db 'SELECT count(*) FROM issues')" 100
	assert_equal "$(sql pipeline.db 'SELECT count(*) FROM _sluice_loads')" 4
	run -0 --separate-stderr make -s -f "$EX/pipeline.mk" BIN="$BIN" state
	assert_output page-003
	run -0 --separate-stderr make -s -f "$EX/pipeline.mk" BIN="$BIN"
	assert_equal "$(sql pipeline.db 'SELECT count(*) FROM _sluice_loads')" 4
	sleep 1
	touch pipeline.d/inbox/page-001.jsonl
	run -0 --separate-stderr make -s -f "$EX/pipeline.mk" BIN="$BIN"
	assert_stderr_regex 'issues \+0 ~25 -0 committed'
	assert_equal "$(sql pipeline.db 'SELECT count(*) FROM issues')" 100
	run -0 make -s -f "$EX/pipeline.mk" BIN="$BIN" clean
	[[ ! -e pipeline.db && ! -e pipeline.d ]]
}

@test "the Airflow DAG is valid Python" {
	command -v python3 >/dev/null || skip "no python3"
	# Parsed, not compiled: nothing is written next to the example.
	run -0 python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' \
	    "$EX/airflow_dag.py"
}
