#!/usr/bin/env bats
# The runnable examples in examples/ run under make check: a demo or a
# Makefile that no longer works is a failing test, not a stale document.

bats_require_minimum_version 1.5.0
load helper

setup() { sluice_setup jsonl-normalize schema-infer sqlite-load; }

EX="$BATS_TEST_DIRNAME/../examples"

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
