#!/usr/bin/env bats
# The runnable examples in examples/ run under make check: a demo or a
# Makefile that no longer works is a failing test, not a stale document.

bats_require_minimum_version 1.5.0
load helper

setup() { sluice_setup jsonl-normalize schema-infer sqlite-load; }
teardown() {
	if [[ -n ${RIDES_PID:-} ]]; then
		kill "$RIDES_PID" 2>/dev/null
		wait_pid_bounded "$RIDES_PID" 10
	fi
}

EX="$BATS_TEST_DIRNAME/../examples"

@test "incremental.sh: the second run loads only the new and edited issues, the third nothing" {
	sluice_setup pgfetch dedup-merge
	run -0 --separate-stderr sh "$EX/incremental.sh" "$BIN" inc.db
	# stdout, in order: day 1 loads 50; day 2 the other 50 and 2 edited
	# ones; day 3 nothing, and the bookmark stays.
	assert_equal "$(grep -E '^sqlite-load: load' <<<"$output" |
	    sed -E 's/^sqlite-load: load [0-9.]+: //; s/, issues__.*committed$//')" \
	    "$(printf '%s\n' 'issues +50 ~0 =0 -0' 'issues +50 ~2 =0 -0' 'no rows, committed')"
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
	# The same rows again: merged, each found unchanged.
	assert_stderr_regex 'issues \+0 ~0 =25 -0 committed'
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

# Airflow is not a Debian package: the DAG runs on a stand-in of the parts of
# Airflow 2.x it uses.  The DAG collects its operators; BashOperator runs
# bash_command with env (appended to the environment with append_env) and
# ends as Airflow's does: an exit code of skip_on_exit_code raises
# AirflowSkipException, another non-zero one AirflowException.
# airflow_run.py runs one DAG run as the scheduler would: each task's
# template fields rendered by Jinja2 (python3-jinja2, what Airflow renders
# with; an undefined name is an error) with params (and a run's conf over
# them), data_interval_start/end, ts_nodash and conn.ID read from an
# AIRFLOW_CONN_ID variable in JSON; then the tasks in the order of >>, a task
# retried up to default_args' retries after AirflowException, never after
# AirflowFailException (Airflow: "failed without retrying").  It notes
# "TASK TRY STATE" in tries.log and each rendered bash_command in
# rendered/TASK, and exits 1 when the run failed.
airflow_stub() {
	mkdir -p stub/airflow/operators rendered
	cat > stub/airflow/__init__.py <<-'PY'
	DAGS = []
	class DAG:
	    def __init__(self, dag_id, params=None, default_args=None, **kw):
	        self.dag_id, self.params = dag_id, dict(params or {})
	        self.default_args, self.tasks = dict(default_args or {}), []
	        DAGS.append(self)
	    def __enter__(self):
	        return self
	    def __exit__(self, *a):
	        return False
	PY
	cat > stub/airflow/exceptions.py <<-'PY'
	class AirflowException(Exception):
	    pass
	class AirflowSkipException(AirflowException):
	    pass
	class AirflowFailException(AirflowException):
	    pass
	PY
	: > stub/airflow/operators/__init__.py
	cat > stub/airflow/operators/bash.py <<-'PY'
	import os, subprocess, tempfile
	import airflow
	from airflow.exceptions import AirflowException, AirflowSkipException
	class BashOperator:
	    template_fields = ("bash_command", "env", "cwd")
	    def __init__(self, *, task_id, bash_command, env=None, append_env=False,
	                 skip_on_exit_code=99, cwd=None, retries=None, **kw):
	        self.task_id, self.bash_command, self.env = task_id, bash_command, env
	        self.append_env, self.cwd, self.downstream = append_env, cwd, []
	        self.skip_on_exit_code = (skip_on_exit_code
	            if isinstance(skip_on_exit_code, (list, tuple, set))
	            else [skip_on_exit_code])
	        self.dag = airflow.DAGS[-1]
	        self.retries = self.dag.default_args.get("retries", 0) if retries is None else retries
	        self.dag.tasks.append(self)
	    def __rshift__(self, other):
	        self.downstream.append(other)
	        return other
	    def execute(self, context):
	        env = self.env
	        if env is None:
	            env = dict(os.environ)
	        elif self.append_env:
	            env = {**os.environ, **env}
	        with tempfile.TemporaryDirectory() as tmp:
	            p = subprocess.run(["bash", "-c", self.bash_command], env=env,
	                               cwd=self.cwd or tmp, stdout=subprocess.PIPE,
	                               text=True)
	        print(p.stdout, end="")
	        if p.returncode in self.skip_on_exit_code:
	            raise AirflowSkipException(
	                f"Bash command returned exit code {p.returncode}. Skipping.")
	        if p.returncode != 0:
	            raise AirflowException("Bash command failed. The command "
	                f"returned a non-zero exit code {p.returncode}.")
	        lines = p.stdout.splitlines()
	        return lines[-1] if lines else None
	PY
	cat > airflow_run.py <<-'PY'
	import json, os, runpy, sys
	from datetime import datetime, timezone
	import jinja2
	import airflow
	from airflow.exceptions import (AirflowException, AirflowFailException,
	                                AirflowSkipException)
	dag_file, start, end = sys.argv[1:4]
	conf = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
	runpy.run_path(dag_file)
	(dag,) = airflow.DAGS
	class Conns:
	    def __getattr__(self, conn_id):
	        raw = os.environ["AIRFLOW_CONN_" + conn_id.upper()]
	        return type("Connection", (), json.loads(raw))
	utc = lambda s: datetime.fromisoformat(s).replace(tzinfo=timezone.utc)
	ctx = {
	    "params": {**dag.params, **conf},
	    "data_interval_start": utc(start), "data_interval_end": utc(end),
	    "ts_nodash": utc(start).strftime("%Y%m%dT%H%M%S"),
	    "ds": start[:10], "conn": Conns(),
	}
	jinja = jinja2.Environment(undefined=jinja2.StrictUndefined)
	def render(v):
	    if isinstance(v, str):
	        return jinja.from_string(v).render(ctx)
	    if isinstance(v, dict):
	        return {k: render(x) for k, x in v.items()}
	    return v
	# The tasks in the order of >>, from the one nothing points at.
	roots = [t for t in dag.tasks if not any(t in u.downstream for u in dag.tasks)]
	assert len(roots) == 1, roots
	order = [roots[0]]
	while order[-1].downstream:
	    (nxt,) = order[-1].downstream
	    order.append(nxt)
	assert len(order) == len(dag.tasks)
	log = open("tries.log", "a")
	for task in order:
	    for field in task.template_fields:
	        setattr(task, field, render(getattr(task, field)))
	    with open("rendered/" + task.task_id, "w") as f:
	        f.write(task.bash_command)
	    for attempt in range(1, task.retries + 2):
	        sys.stdout.flush()
	        try:
	            xcom = task.execute(ctx)
	            state = "success"
	        except AirflowFailException as e:
	            state = "failed"
	        except AirflowSkipException:
	            state = "skipped"
	        except AirflowException as e:
	            state = "up_for_retry" if attempt <= task.retries else "failed"
	        print(task.task_id, attempt, state, file=log, flush=True)
	        if state != "up_for_retry":
	            break
	    if state != "success":
	        sys.exit(1)
	print("xcom:", xcom)
	PY
}

# The API for the DAG: GET /rides?page=N&since=T, pages of ?per= (5) rides
# of rides.jsonl as it is at the time (the test changes it between runs),
# those whose updated_at is at or after T, ordered by updated_at and id;
# an empty page after the last.  It wants "Authorization: Bearer
# $RIDES_TOKEN" (else 401).  Each request is a JSON line in requests.log;
# fault.json, when there, {"page": K, "times": M}: page K answers 503 M
# times.  Its port is the first line of its stdout.
rides_api_start() {
	cat > rides_api.py <<-'PY'
	import json, os, sys, threading, time
	from http.server import BaseHTTPRequestHandler, HTTPServer
	from urllib.parse import parse_qsl, urlsplit
	lock = threading.Lock()
	class Handler(BaseHTTPRequestHandler):
	    def log_message(self, *a):
	        pass
	    def answer(self, code, body):
	        data = body.encode()
	        self.send_response(code)
	        self.send_header("Content-Type", "application/json")
	        self.send_header("Content-Length", str(len(data)))
	        self.end_headers()
	        self.wfile.write(data)
	    def do_GET(self):
	        url = urlsplit(self.path)
	        q = dict(parse_qsl(url.query))
	        authorized = (self.headers.get("Authorization")
	                      == "Bearer " + os.environ["RIDES_TOKEN"])
	        with lock:
	            with open("requests.log", "a") as f:
	                f.write(json.dumps({"path": url.path, "query": q,
	                                    "authorized": authorized}) + "\n")
	            fault = None
	            if os.path.exists("fault.json"):
	                with open("fault.json") as f:
	                    fault = json.load(f)
	                if fault["times"] > 0 and str(fault["page"]) == q.get("page"):
	                    fault["times"] -= 1
	                    with open("fault.json", "w") as f:
	                        json.dump(fault, f)
	                    return self.answer(503, '{"error": "try later"}')
	        if url.path != "/rides":
	            return self.answer(404, '{"error": "no such path"}')
	        if not authorized:
	            return self.answer(401, '{"error": "bad token"}')
	        with open("rides.jsonl") as f:
	            rides = [json.loads(line) for line in f if line.strip()]
	        since = q.get("since", "")
	        rides = sorted((r for r in rides if r["updated_at"] >= since),
	                       key=lambda r: (r["updated_at"], r["id"]))
	        page, per = int(q.get("page", "1")), int(q.get("per", "5"))
	        return self.answer(200, json.dumps(rides[(page - 1) * per:page * per]))
	srv = HTTPServer(("127.0.0.1", 0), Handler)
	print(srv.server_address[1], flush=True)
	threading.Thread(target=lambda: (time.sleep(600), os._exit(0)), daemon=True).start()
	srv.serve_forever()
	PY
	RIDES_TOKEN=$1 python3 rides_api.py > rides_api.port 2> rides_api.log 3>&- &
	RIDES_PID=$!
	local i
	for (( i = 0; i < 100; i++ )); do
		RIDES_PORT=$(head -n 1 rides_api.port)
		[[ $RIDES_PORT =~ ^[0-9]+$ ]] && return 0
		sleep 0.1
	done
	fail "rides_api.py did not start: $(cat rides_api.log)"
}

# ride ID UPDATED_AT [AMOUNT]: one ride of the API, nested: a fare object and
# a list of stops.
ride() {
	jq -nc --argjson id "$1" --arg at "$2" --argjson amount "${3:-$(( 10 + $1 ))}" \
	    '{id: $id, updated_at: $at, fare: {amount: $amount, currency: "EUR"},
	      stops: [{seq: 1, place: "A\($id)"}, {seq: 2, place: "B\($id)"}]}'
}

# dag_run START END [CONF]: one run of the DAG for that interval.
dag_run() {
	local c=${conf:-}
	[[ -n $c ]] || c="{\"url\": \"http://127.0.0.1:$RIDES_PORT/rides\"}"
	PYTHONPATH="$PWD/stub" AIRFLOW_CONN_SLUICE_API='{"conn_type": "http", "password": "tok-zz9"}' \
	    SLUICE_BIN="$BIN" SLUICE_DATA="$PWD/data" \
	    /usr/bin/python3 airflow_run.py "$EX/airflow_dag.py" "$@" "$c"
}

# last_load: the last load's counts for rides, as inserted/updated.
last_load() {
	sql data/rides.db "SELECT json_extract(tables, '\$.rides.inserted') || '/' ||
	    json_extract(tables, '\$.rides.updated') FROM _sluice_loads
	    ORDER BY finished_at DESC LIMIT 1"
}

# since_asked: the since= of the requests since requests.log was emptied.
since_asked() {
	jq -r '.query.since' requests.log | sort -u
}

@test "the Airflow DAG: each interval loads what is new, a 75 is retried from the checkpoint, a 65 is not retried" {
	sluice_setup pgfetch dedup-merge jsonl-normalize schema-infer sqlite-load
	/usr/bin/python3 -c 'import jinja2' 2>/dev/null ||
	    fail "python3-jinja2 is not installed (make deps)"
	airflow_stub
	mkdir data
	{ for i in 1 2 3; do ride $i "2023-12-31T2$i:00:00Z"; done
	  for i in $(seq 4 20); do ride $i "$(printf '2024-01-01T%02d:00:00Z' $(( i - 1 )))"; done
	  ride 21 2024-01-02T00:01:00Z; } > rides.jsonl
	rides_api_start tok-zz9

	# Run 1, interval 2024-01-01: the rides updated since its start, 4 to
	# 21 (21 arrived after the interval, before the run); the token was
	# sent; the bookmark is the XCom.
	run -0 --separate-stderr dag_run 2024-01-01T00:00:00 2024-01-02T00:00:00
	assert_equal "$(cat tries.log)" "$(printf '%s 1 success\n' extract normalize infer load)"
	assert_line 'xcom: 2024-01-02T00:01:00Z'
	assert_equal "$(since_asked)" 2024-01-01T00:00:00Z
	assert_equal "$(jq -s 'all(.authorized)' requests.log)" true
	assert_equal "$(sql data/rides.db 'SELECT min(id), max(id), count(*), sum(fare__amount) FROM rides')" \
	    "4|21|18|$(( (14 + 31) * 18 / 2 ))"
	assert_equal "$(sql data/rides.db 'SELECT count(*) FROM rides__stops')" 36
	[[ ! -e data/runs/20240101T000000 ]] || fail "the run's folder is left"

	# Run 2, interval 2024-01-02: four new rides and ride 7 changed.  The
	# bookmark (00:01) is past the interval's start, so the start is asked;
	# ride 21 comes again and is dropped: 4 inserted, 1 updated.
	: > tries.log; : > requests.log
	for i in 22 23 24 25; do ride $i "2024-01-02T0$(( i - 17 )):00:00Z"; done >> rides.jsonl
	ride 7 2024-01-02T09:00:00Z 99 >> rides.jsonl
	jq -c 'select(.id != 7 or .fare.amount == 99)' rides.jsonl > r && mv r rides.jsonl
	run -0 --separate-stderr dag_run 2024-01-02T00:00:00 2024-01-03T00:00:00
	assert_equal "$(since_asked)" 2024-01-02T00:00:00Z
	assert_equal "$(last_load)" 4/1
	assert_line 'xcom: 2024-01-02T09:00:00Z'
	assert_equal "$(sql data/rides.db 'SELECT count(*), count(DISTINCT id) FROM rides')" 22\|22
	assert_equal "$(sql data/rides.db 'SELECT fare__amount FROM rides WHERE id = 7')" 99

	# Run 3, interval 2024-01-04: the run of 2024-01-03 never happened.
	# The bookmark is older than the interval, so it is asked from: ride 26
	# of 2024-01-03 is not lost.
	: > tries.log; : > requests.log
	{ ride 26 2024-01-03T12:00:00Z; ride 27 2024-01-04T01:00:00Z; } >> rides.jsonl
	run -0 --separate-stderr dag_run 2024-01-04T00:00:00 2024-01-05T00:00:00
	assert_equal "$(since_asked)" 2024-01-02T09:00:00Z
	assert_equal "$(last_load)" 2/0
	assert_equal "$(sql data/rides.db 'SELECT count(*) FROM rides')" 24

	# The same run cleared and run again: its interval's start is asked
	# again, ride 27 comes again and is dropped; nothing is loaded twice.
	: > tries.log; : > requests.log
	run -0 --separate-stderr dag_run 2024-01-04T00:00:00 2024-01-05T00:00:00
	assert_equal "$(since_asked)" 2024-01-04T00:00:00Z
	assert_line 'xcom: 2024-01-04T01:00:00Z'
	assert_equal "$(sql data/rides.db 'SELECT count(*), count(DISTINCT id) FROM rides')" 24\|24

	# Run 4: page 2 answers 503, and pgfetch (no retries of its own here,
	# the run's conf) gives up with 75: Airflow retries the task, which
	# goes on from page 2 (page 1 is asked once) and loads every ride once.
	: > tries.log; : > requests.log
	for i in $(seq 28 40); do ride $i "$(printf '2024-01-05T%02d:00:00Z' $(( i - 27 )))"; done >> rides.jsonl
	echo '{"page": 2, "times": 1}' > fault.json
	conf="{\"url\": \"http://127.0.0.1:$RIDES_PORT/rides\", \"http_retries\": 0}" \
	    run -0 --separate-stderr dag_run 2024-01-05T00:00:00 2024-01-06T00:00:00
	assert_equal "$(cat tries.log)" "$(printf '%s\n' 'extract 1 up_for_retry' \
	    'extract 2 success' 'normalize 1 success' 'infer 1 success' 'load 1 success')"
	assert_equal "$(jq -r .query.page requests.log | paste -sd ' ')" '1 2 2 3 4'
	assert_equal "$(last_load)" 13/0
	assert_equal "$(sql data/rides.db 'SELECT count(*), count(DISTINCT id) FROM rides')" 37\|37
	assert_equal "$(sql data/rides.db 'SELECT count(*) FROM rides__stops')" 74

	# Run 5: a ride whose fare is text breaks the contract: infer exits 65,
	# fails at once though retries are left, load never runs, and the
	# database is as it was.
	: > tries.log; : > requests.log
	ride 41 2024-01-06T01:00:00Z '"twelve"' >> rides.jsonl
	dump data/rides.db > before.sql
	run -1 --separate-stderr dag_run 2024-01-06T00:00:00 2024-01-07T00:00:00
	assert_equal "$(cat tries.log)" "$(printf '%s\n' 'extract 1 success' \
	    'normalize 1 success' 'infer 1 failed')"
	# The contract is the database's own schema, frozen.
	assert_stderr_partial 'schema-infer: '
	assert_stderr_partial 'contract'
	dump data/rides.db > after.sql
	assert_file_bytes after.sql before.sql

	# The token was in no rendered command and in no file of the runs.
	run -1 grep -rlF tok-zz9 rendered data
}

# README.md, "Reading a sluice database": the Python block, run as it is
# printed, on rides loaded by sluice (the messages of tests/data/kafka).
@test "README: the Python block reads a sluice database, child rows joined to their parent" {
	sed -n '/^<!-- tests\/examples.bats runs this block -->$/,/^[^ ]/p' \
	    "$BATS_TEST_DIRNAME/../README.md" | sed -n 's/^    //p' > readme.py
	grep -q 'sqlite3.connect' readme.py || fail "no Python block after the marker in README.md"
	cut -d' ' -f3- "$DATA/kafka/rides-1.kcat" | grep -v '^$' |
	    jsonl-normalize -t rides -k id | schema-infer -q | sqlite-load -q -m merge rides.db
	run -0 --separate-stderr python3 readme.py
	assert_output "$(printf '%s\n' '1 14.0 2' '2 7.25 1' '3 30.0 0' '4 18.4 3' '5 9.9 1' '6 22.0 1')"
}

@test "postgres-cdc.sh: three rounds of changes through spools, the same table in SQLite, the replay applied once" {
	[[ -x /usr/lib/postgresql/15/bin/initdb && -f /usr/lib/postgresql/15/lib/wal2json.so ]] ||
	    skip "PostgreSQL 15 with wal2json is not installed (make deps)"
	sluice_setup cdc-decode sqlite-load
	run -0 --separate-stderr sh "$EX/postgres-cdc.sh" "$BIN" cdc.db
	# Each command printed; three loads, the replay adding only round 3's.
	assert_output --partial '$ pg_recvlogical -d postgres --slot sluice --create-slot -P wal2json'
	assert_equal "$(grep -c 'committed' <<<"$stderr")" 3
	grep -Eq '^sqlite-load: load [0-9.]+: orders \+1 ~1 =0 -1 committed$' <<<"$stderr" ||
	    fail "stderr: $stderr"
	assert_equal "$(sql cdc.db 'SELECT id, amount, note, channel FROM orders ORDER BY id')" \
	    "$(printf '%s\n' '1|99999999.99|big|' '2|2.25|small, corrected|' '4|7.00|new|web' '5|8.00|later|app')"
	assert_equal "$(sql cdc.db "SELECT group_concat(json_extract(tables, '\$.orders.inserted'), ' ') FROM _sluice_loads")" '3 1 1'
	# The output shows PostgreSQL's table: the same rows.
	assert_output --regexp '5 \| +8\.00 \| later +\| app'
}
