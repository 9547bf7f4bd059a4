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

# make exits 2 for any failed recipe; run-pipeline.sh exits with the status
# of the program that failed: 65 for a bad page, 75 for a busy database.
@test "run-pipeline.sh: the failing program's status reaches the caller (65 bad data, 75 busy), not make's 2" {
	# make alone: 2, whatever failed.
	mkdir -p pipeline.d/inbox
	head -n 10 "$EX/issues.jsonl" > pipeline.d/inbox/page-000.jsonl
	printf '{"id": 1, "title": \n' > pipeline.d/inbox/page-001.jsonl
	touch pipeline.d/arrived
	run -2 --separate-stderr make -s -f "$EX/pipeline.mk" BIN="$BIN"
	# The wrapper: 65, with schema-infer's message; the good page loaded,
	# the bad one left no stamp and no row.
	run -65 --separate-stderr sh "$EX/run-pipeline.sh" -s BIN="$BIN"
	assert_stderr_line 'schema-infer: stdin:1: invalid JSON: incomplete value (truncated line?)'
	assert_equal "$(sql pipeline.db 'SELECT count(*) FROM issues')" 10
	[[ -e pipeline.d/done/page-000.state && ! -e pipeline.d/done/page-001.state ]] ||
	    fail "stamps: $(ls pipeline.d/done)"
	# A database another process is writing to: sqlite-load gives up with
	# 75 after BUSY_TIMEOUT, and so does the wrapper.
	sed -n 11,20p "$EX/issues.jsonl" > pipeline.d/inbox/page-001.jsonl
	python3 -c '
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
open("locked", "w").close()
time.sleep(30)' pipeline.db 3>&- &
	local holder=$!
	wait_for_file locked 10 || fail "the lock holder did not start"
	run -75 --separate-stderr sh "$EX/run-pipeline.sh" -s BIN="$BIN" BUSY_TIMEOUT=200
	kill "$holder"
	wait_pid_bounded "$holder" 10
	assert_equal "$WAIT_STATUS" 143
	assert_stderr_partial 'sqlite-load: '
	[[ ! -e pipeline.d/done/page-001.state ]] || fail "a stamp for a load that failed"
	# The lock gone, the same command loads the page and exits 0.
	run -0 --separate-stderr sh "$EX/run-pipeline.sh" -s BIN="$BIN"
	assert_equal "$(sql pipeline.db 'SELECT count(*) FROM issues')" 20
	# make's own failure (no such target) stays make's 2.
	run -2 --separate-stderr sh "$EX/run-pipeline.sh" -s BIN="$BIN" no-such-target
}

# Airflow is not a Debian package: the DAG runs against a stand-in of the
# two classes it uses, which records each BashOperator and the order of the
# tasks.  Each bash_command is rendered as Airflow would ({{ params.X }},
# {{ ds }}; any other template is a failure) and run in that order, twice.
@test "the Airflow DAG's tasks, rendered and run in order, load the issues and report the cursor" {
	sluice_setup sqlite-load schema-infer jsonl-normalize
	mkdir -p stub/airflow/operators data
	cat > stub/airflow/__init__.py <<-'PY'
	TASKS = []
	class DAG:
	    def __init__(self, dag_id, params=None, **kw):
	        self.dag_id, self.params = dag_id, params or {}
	    def __enter__(self):
	        return self
	    def __exit__(self, *a):
	        return False
	PY
	: > stub/airflow/operators/__init__.py
	cat > stub/airflow/operators/bash.py <<-'PY'
	import airflow
	class BashOperator:
	    def __init__(self, task_id, bash_command, **kw):
	        self.task_id, self.bash_command, self.downstream = task_id, bash_command, []
	        airflow.TASKS.append(self)
	    def __rshift__(self, other):
	        self.downstream.append(other)
	        return other
	PY
	cat > render.py <<-'PY'
	import re, runpy, sys
	import airflow
	g = runpy.run_path(sys.argv[1])
	dag, tasks = g["dag"], airflow.TASKS
	order = [t.task_id for t in tasks]
	assert order == ["check_contract", "load", "report"], order
	assert [d.task_id for d in tasks[0].downstream] == ["load"]
	assert [d.task_id for d in tasks[1].downstream] == ["report"]
	for t in tasks:
	    cmd = re.sub(r"\{\{ params\.(\w+) \}\}", lambda m: dag.params[m.group(1)], t.bash_command)
	    cmd = cmd.replace("{{ ds }}", "2024-01-02")
	    assert "{{" not in cmd and "{%" not in cmd, cmd
	    with open(t.task_id + ".sh", "w") as f:
	        f.write(cmd + "\n")
	PY
	SLUICE_HOME="$BATS_TEST_DIRNAME/.." SLUICE_DATA="$PWD/data" \
	    PYTHONPATH="$PWD/stub" run -0 python3 render.py "$EX/airflow_dag.py"
	local round task
	for round in 1 2; do
		for task in check_contract load report; do
			run -0 --separate-stderr bash "$task.sh"
		done
		# report: the last load, then the cursor as the last line (XCom).
		assert_line --regexp '^ *status = completed$'
		assert_equal "${lines[-1]}" page-003
	done
	assert_equal "$(sql data/gh.db 'SELECT count(*) FROM issues')" 100
	# The second round found every page loaded: no new load.
	assert_equal "$(sql data/gh.db 'SELECT count(*) FROM _sluice_loads')" 4
	[[ -s data/issues.schema && -e data/events/2024-01-02.jsonl ]] ||
	    fail "check_contract left no schema or no events file"
	# The contract task fails on data that breaks the stored schema.
	jq -c 'if .number == 71 then .number = "seventy-one" else . end' \
	    "$EX/issues.jsonl" > bad.jsonl
	grep -q '"number":"seventy-one"' bad.jsonl || fail "no record changed"
	sed "s|$EX/issues.jsonl|$PWD/bad.jsonl|; s|$BATS_TEST_DIRNAME/../examples/issues.jsonl|$PWD/bad.jsonl|" \
	    check_contract.sh > bad_contract.sh
	grep -q bad.jsonl bad_contract.sh || fail "the contract task does not read params.src"
	run -65 --separate-stderr bash bad_contract.sh
}
