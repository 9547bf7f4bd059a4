"""Rides from a paginated JSON API into SQLite with sluice, scheduled by Airflow.

Drop this file into your dags/ folder.  It needs Airflow 2.6 or later
(BashOperator's skip_on_exit_code as a list), the sluice programs on the
workers (make install puts them in /usr/local/bin), a directory that every
task of a run can reach (SLUICE_DATA: one worker, or a shared volume) and an
Airflow connection "sluice_api" whose password is the API's bearer token:

    airflow connections add sluice_api --conn-type http \\
        --conn-password "$TOKEN"

Four tasks, one a stage of the pipeline, each a bash script with
`set -euo pipefail` whose files stay in SLUICE_DATA/runs/<ts_nodash>/:

    extract    pgfetch walks the API's pages from the window's start (below),
               with --checkpoint in the run's folder: a retry goes on from the
               page after the last one written instead of starting over.
    normalize  dedup-merge keeps the newest version of each ride and drops
               what an earlier load committed (the bookmark in the database);
               jsonl-normalize flattens fare into fare__* columns and puts the
               stops in the child table rides__stops.
    infer      schema-infer types the columns, holding new data to the schema
               the database has (the data contract, --contract freeze
               --schema-from DB: a new column or a value of another type is
               bad data, 65); schema changes go to schema-events.jsonl.
    load       sqlite-load merges on id in one transaction, the bookmark
               committed with the rows; the task's XCom (the last line) is the
               bookmark.  The run's folder is removed once the load committed.

The window.  pgfetch asks the API for rides updated since the start of the
schedule's interval ({{ data_interval_start }}), or since the bookmark of the
last load when that is older: a run that failed or was skipped leaves no gap.
The rides of the overlap that were loaded already are dropped by dedup-merge.
The API's updated_at must be ISO 8601 in UTC with a Z, as the window's start
is written, so that the two compare as text.

Secrets.  The token goes from the connection to pgfetch in the environment
(env= with append_env=True; pgfetch --bearer-env reads it): never in the
bash_command, so never in a process list, a rendered command or a log.

Retries.  The programs exit with sysexits(3) statuses:

    75  temporary (the API down after pgfetch's own retries, a database
        locked): worth Airflow's retries below; extract resumes from its
        checkpoint;
    65  bad data (a page that is not JSON, a value that breaks the contract),
    64  usage (a bad option, a missing token), 66 no input, 69 unavailable
        for good (404), 70 a bug, 73 cannot create a file, 77 permission
        (401/403): retrying changes nothing, a person must act.

SluiceOperator is a BashOperator that fails at once on those permanent
statuses: it names them in skip_on_exit_code, so BashOperator raises
AirflowSkipException for them, and turns that into AirflowFailException,
which Airflow documents as "failed without retrying".  (skip_on_exit_code
alone would mark the task skipped, a success in disguise; on_retry_callback
runs after the task is already up for retry, too late.)  Every other status,
75 and a killed task among them, takes the retries of default_args.

max_active_runs=1 keeps one writer on the database; a task that must be run
again by hand (Clear) finds its files in the run's folder.

tests/examples.bats renders these tasks with Jinja2 as Airflow does and runs
them against a stub API: rows loaded, a later interval loading only what is
new, a retried 75 resuming, a 65 failing without a retry.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from airflow import DAG
from airflow.exceptions import AirflowFailException, AirflowSkipException
from airflow.operators.bash import BashOperator

SLUICE_BIN = os.environ.get("SLUICE_BIN", "/usr/local/bin")
SLUICE_DATA = os.environ.get("SLUICE_DATA", "/var/lib/sluice")

# The statuses no retry can mend (sysexits.h); 75 is not among them.
PERMANENT_EXIT_CODES = [64, 65, 66, 69, 70, 73, 77]


class SluiceOperator(BashOperator):
    """A BashOperator that fails without retrying on a permanent status."""

    def __init__(self, **kwargs):
        kwargs.setdefault("skip_on_exit_code", PERMANENT_EXIT_CODES)
        super().__init__(**kwargs)

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowSkipException as exc:
            raise AirflowFailException(
                f"{exc} A permanent failure (sysexits): not retried."
            ) from exc


PARAMS = {
    "bin": SLUICE_BIN,
    "data": SLUICE_DATA,
    "db": f"{SLUICE_DATA}/rides.db",
    "url": "https://api.example.com/v1/rides",
    "stream": "rides",
    "key": "id",
    "cursor": "updated_at",
    "since_param": "since",
    "http_retries": 5,
    # freeze in production; evolve while the pipeline is developed.
    "contract": "freeze",
}

# Every task starts so: strict bash, the programs, the run's folder.
PRELUDE = """\
set -euo pipefail
bin="{{ params.bin }}"
db="{{ params.db }}"
run="{{ params.data }}/runs/{{ ts_nodash }}"
"""

EXTRACT = PRELUDE + """\
mkdir -p "$run"
start="{{ data_interval_start.strftime('%Y-%m-%dT%H:%M:%SZ') }}"
bookmark=$("$bin/sqlite-load" -q "$db" \\
    --state-get "bookmarks.{{ params.stream }}.replication_key_value")
since=$start
LC_COLLATE=C  # compare the timestamps byte by byte
if [[ -n $bookmark && $bookmark < $start ]]; then since=$bookmark; fi
echo "extract: rides updated since $since (interval $start, bookmark ${bookmark:-none})"
# No checkpoint: a first try, or the last one finished: start afresh.
[[ -e $run/extract.checkpoint ]] || : > "$run/raw.jsonl"
st=0
"$bin/pgfetch" --paginate page --bearer-env SLUICE_API_TOKEN \\
    --retries "{{ params.http_retries }}" \\
    --since "$since" --since-param "{{ params.since_param }}" \\
    --checkpoint "$run/extract.checkpoint" \\
    "{{ params.url }}" > "$run/try.jsonl" || st=$?
# The pages a failed try wrote are kept (its checkpoint is past them); its
# SLUICE_ABORT line is not.
grep -v '^{"type":"SLUICE_ABORT"' "$run/try.jsonl" >> "$run/raw.jsonl" ||
    [[ $? -eq 1 ]]
rm -f "$run/try.jsonl"
exit "$st"
"""

NORMALIZE = PRELUDE + """\
"$bin/dedup-merge" -t "{{ params.stream }}" -k "{{ params.key }}" \\
    --latest-by "{{ params.cursor }}" --cursor "{{ params.cursor }}" \\
    --state-from "$db" "$run/raw.jsonl" |
"$bin/jsonl-normalize" -t "{{ params.stream }}" -k "{{ params.key }}" \\
    > "$run/normalized.jsonl"
"""

INFER = PRELUDE + """\
# The data contract: the destination's own schema, frozen.  A new table, a
# new column or another type fails the run (65, the loader rolls back); a
# first run, with no database yet, sets the schema.
checks=()
if [[ -e $db ]]; then
    checks=(--contract "{{ params.contract }}" --schema-from "$db")
fi
"$bin/schema-infer" "${checks[@]}" --events "$run/schema-events.jsonl" \\
    "$run/normalized.jsonl" > "$run/typed.jsonl"
"""

LOAD = PRELUDE + """\
"$bin/sqlite-load" -m merge "$db" "$run/typed.jsonl" > "$run/committed.jsonl"
rm -rf -- "$run"
"$bin/sqlite-load" -q "$db" \\
    --state-get "bookmarks.{{ params.stream }}.replication_key_value"
"""

with DAG(
    dag_id="sluice_rides",
    description="Rides from an API into SQLite: pgfetch | dedup-merge | "
                "jsonl-normalize | schema-infer | sqlite-load",
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    schedule="@daily",
    catchup=False,
    max_active_runs=1,
    params=PARAMS,
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
    },
    tags=["sluice"],
) as dag:
    extract = SluiceOperator(
        task_id="extract",
        bash_command=EXTRACT,
        env={"SLUICE_API_TOKEN": "{{ conn.sluice_api.password }}"},
        append_env=True,
    )
    normalize = SluiceOperator(task_id="normalize", bash_command=NORMALIZE)
    infer = SluiceOperator(task_id="infer", bash_command=INFER)
    load = SluiceOperator(task_id="load", bash_command=LOAD)

    extract >> normalize >> infer >> load
