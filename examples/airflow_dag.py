"""Load GitHub issues into SQLite with sluice, scheduled by Airflow.

Every task is a BashOperator running sluice programs, so the Airflow worker
needs nothing but the built binaries (make; make install) and a writable
directory for the database:

    check_contract  new data must fit the stored schema (exit 65 if not);
                    schema changes are logged to events/<date>.jsonl
    load            make -f examples/pipeline.mk: load the pages not loaded
                    yet, in merge mode, with the cursor in the same commit
    report          print the stored cursor (pushed to XCom) and the last load

Exit statuses follow sysexits(3): 75 (database locked, timeout) is worth the
retries configured below; 65 (bad data) and 64 (usage) fail again until the
data or the DAG is fixed.  max_active_runs=1 keeps a single writer on the
database.

Set SLUICE_HOME to the sluice checkout and SLUICE_DATA to the directory
that holds the database.  This file is an example: tests/examples.bats
renders each task's bash_command and runs them in order.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

SLUICE_HOME = os.environ.get("SLUICE_HOME", "/opt/sluice")
SLUICE_DATA = os.environ.get("SLUICE_DATA", "/var/lib/sluice")

PARAMS = {
    "bin": f"{SLUICE_HOME}/bin",
    "pipeline": f"{SLUICE_HOME}/examples/pipeline.mk",
    "src": f"{SLUICE_HOME}/examples/issues.jsonl",
    "data": SLUICE_DATA,
    "db": "gh.db",
}

with DAG(
    dag_id="sluice_github_issues",
    description="GitHub issues into SQLite with schema-infer and sqlite-load",
    start_date=datetime(2024, 1, 1),
    schedule="@hourly",
    catchup=False,
    max_active_runs=1,
    params=PARAMS,
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
    },
    tags=["sluice"],
) as dag:
    # The first run writes the schema file; later runs hold new data to it.
    check_contract = BashOperator(
        task_id="check_contract",
        bash_command=(
            "set -eu; cd {{ params.data }}; mkdir -p events; "
            "if [ ! -f issues.schema ]; then "
            "{{ params.bin }}/schema-infer -q --final -t issues -k id "
            "{{ params.src }} > issues.schema; fi; "
            "{{ params.bin }}/schema-infer -q --schema issues.schema "
            "--on-type-conflict fail --events events/{{ ds }}.jsonl "
            "-t issues {{ params.src }} > /dev/null"
        ),
    )

    load = BashOperator(
        task_id="load",
        bash_command=(
            "cd {{ params.data }} && "
            "make -f {{ params.pipeline }} BIN={{ params.bin }} "
            "SRC={{ params.src }} DB={{ params.db }}"
        ),
    )

    # The last line of output, the cursor, becomes the task's XCom value.
    report = BashOperator(
        task_id="report",
        bash_command=(
            "cd {{ params.data }} && "
            "sqlite3 -batch -line {{ params.db }} "
            "'SELECT * FROM _sluice_loads ORDER BY finished_at DESC LIMIT 1' && "
            "{{ params.bin }}/sqlite-load {{ params.db }} "
            "--state-get bookmarks.issues.page"
        ),
    )

    check_contract >> load >> report
