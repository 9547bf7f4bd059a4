#!/usr/bin/env python3
"""Property tests of the pipeline against an independent model.

Each run draws, from its own seed, a stream of records (a few ids so that
keys repeat, nested objects, a list that becomes a child table, nulls, a
field whose type changes, tombstones, and, under skip or quarantine,
lines that are not JSON) and one option combination: sqlite-load's mode,
-k given to jsonl-normalize and/or sqlite-load, the --on-error policy,
dedup-merge before jsonl-normalize or not, and 1 to 3 loads into the same
database.  The pipeline

    [dedup-merge -k id |] jsonl-normalize -t items [-k id] | schema-infer -q
        | sqlite-load db -t items -m MODE [-k id]

runs each load; the model below computes, from the same records, the exit
status of sqlite-load and the rows the root table must hold (the current
versions in scd2), compared on the user-visible columns, sorted; the list's
child table holds the values of the current root rows' lists and no child
row is left without its root row.  After a load that fails, the database
must be byte for byte what it was.

Usage: prop.py BIN_DIR WORK_DIR SEED RUNS
Prints one line per failing run (with the seed to replay it) and exits 1
if any failed.
"""
import json
import os
import random
import sqlite3
import subprocess
import sys

FIELDS = ("a", "b", "t", "o__x", "o__y")


def gen_record(rng, rid):
    r = {"id": rid}
    if rng.random() < 0.8:
        r["a"] = rng.choice([None, rng.randint(-5, 5)])
    if rng.random() < 0.8:
        r["b"] = rng.choice([None, "s%d" % rng.randint(0, 9), "", "é ☃"])
    if rng.random() < 0.7:
        # The field whose type changes from record to record.
        r["t"] = rng.choice([None, rng.randint(0, 3), rng.randint(0, 3) + 0.5,
                             "t%d" % rng.randint(0, 3), True, False])
    if rng.random() < 0.5:
        r["o"] = rng.choice([None, {"x": rng.randint(0, 9)},
                             {"x": rng.randint(0, 9), "y": "y"}])
    if rng.random() < 0.4:
        r["arr"] = [rng.randint(0, 9) for _ in range(rng.randint(0, 3))]
    return r


def gen_load(rng, bad_lines):
    """The lines of one load: (line text, record or None if bad)."""
    out = []
    for _ in range(rng.randint(1, 12)):
        rid = rng.randint(1, 6)
        if rng.random() < 0.12:
            out.append((json.dumps({"id": rid, "_sluice_deleted": True}),
                        {"id": rid, "_sluice_deleted": True}))
        else:
            rec = gen_record(rng, rid)
            out.append((json.dumps(rec, ensure_ascii=False), rec))
        if bad_lines and rng.random() < 0.1:
            out.append(('{"id": %d, "broken' % rid, None))
    return out


def norm(v):
    """A value as the model compares it: numbers and booleans as floats."""
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    return v


def visible(rec):
    o = rec.get("o") or {}
    vals = {"a": rec.get("a"), "b": rec.get("b"), "t": rec.get("t"),
            "o__x": o.get("x"), "o__y": o.get("y")}
    return (float(rec["id"]),) + tuple(norm(vals[f]) for f in FIELDS)


def dedup_last(recs):
    last = {}
    for r in recs:
        last[r["id"]] = r
    return list(last.values())


def model_load(state, recs, mode, keyed, policy):
    """The new table state, sqlite-load's exit status and the number of
    root records rejected, for one load.

    state: the list of stored rows (records), current versions only.
    The child stream keeps its _sluice_id key also when -k is given to
    sqlite-load alone, and a rejected root takes its child rows with it:
    the child table holds the lists of the stored rows, whatever the
    options."""
    tomb = lambda r: r.get("_sluice_deleted") is True
    if mode == "replace" and not keyed and any(tomb(r) for r in recs):
        return state, 64, 0     # a tombstone needs a key
    if mode in ("merge", "scd2"):
        cur = {r["id"]: r for r in state}
        for r in recs:
            if tomb(r):
                cur.pop(r["id"], None)
            else:
                cur[r["id"]] = r
        return list(cur.values()), 0, 0
    if mode == "replace":
        base, recs = [], [r for r in recs if not tomb(r)]
    else:
        base = list(state)
    rejected = 0
    if keyed:
        seen = {r["id"] for r in base}
        kept = []
        for r in recs:
            if r["id"] in seen:
                if policy == "fail":
                    return state, 65, 0
                rejected += 1
                continue
            seen.add(r["id"])
            kept.append(r)
        recs = kept
    return base + recs, 0, rejected


def table_rows(db):
    if not os.path.exists(db):
        return []
    con = sqlite3.connect(db)
    try:
        cols = [c[1] for c in con.execute("PRAGMA table_info(items)")]
        if not cols:
            return []
        where = ""
        if "_sluice_valid_to" in cols:
            where = " WHERE _sluice_valid_to IS NULL"
        rows = con.execute("SELECT * FROM items" + where).fetchall()
    finally:
        con.close()
    out = []
    for row in rows:
        d = dict(zip(cols, row))
        vals = []
        for f in FIELDS:
            v = d.get(f)
            if v is None:
                for c in cols:
                    if c.startswith(f + "__v_") and d[c] is not None:
                        v = d[c]
                        break
            vals.append(norm(v))
        out.append((float(d["id"]),) + tuple(vals))
    return sorted(out, key=repr)


def child_rows(db):
    """(root id, value) of each row of the list's child table whose root
    row is a current one, sorted."""
    con = sqlite3.connect(db)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'items__arr'").fetchone():
            return []
        cols = [c[1] for c in con.execute("PRAGMA table_info(items)")]
        where = " WHERE i._sluice_valid_to IS NULL" if "_sluice_valid_to" in cols else ""
        rows = con.execute(
            "SELECT i.id, a.value FROM items__arr a JOIN items i "
            "ON a._sluice_root_id = i._sluice_id" + where).fetchall()
    finally:
        con.close()
    return sorted((float(i), norm(v)) for i, v in rows)


def orphans(db):
    """Child rows whose root row is not in the root table."""
    con = sqlite3.connect(db)
    try:
        n = 0
        for (t,) in con.execute("SELECT name FROM sqlite_master WHERE "
                                "type = 'table' AND name LIKE 'items\\_\\_%' ESCAPE '\\'"):
            n += con.execute(
                'SELECT count(*) FROM "%s" WHERE _sluice_root_id NOT IN '
                "(SELECT _sluice_id FROM items)" % t).fetchone()[0]
        return n
    finally:
        con.close()


def dump(db):
    """The database as SQL; one that does not exist dumps as an empty one."""
    return subprocess.run(["sqlite3", "-batch", db, ".dump"], check=True,
                          capture_output=True, text=True).stdout


def one_run(bindir, work, seed):
    rng = random.Random(seed)
    mode = rng.choice(["append", "replace", "merge", "scd2"])
    norm_key = rng.random() < 0.5
    load_key = rng.random() < 0.5
    if mode in ("merge", "scd2") and not (norm_key or load_key):
        load_key = True
    keyed = norm_key or load_key
    policy = rng.choice(["fail", "skip", "quarantine"])
    dedup = rng.random() < 0.5
    nloads = rng.randint(1, 3)
    desc = "seed=%d mode=%s norm-k=%s load-k=%s on-error=%s dedup=%s loads=%d" % (
        seed, mode, norm_key, load_key, policy, dedup, nloads)
    d = os.path.join(work, "run%d" % seed)
    os.makedirs(d, exist_ok=True)
    db = os.path.join(d, "p.db")
    state = []
    for n in range(nloads):
        lines = gen_load(rng, policy != "fail")
        path = os.path.join(d, "in%d.jsonl" % n)
        with open(path, "w", encoding="utf-8") as f:
            f.write("".join(t + "\n" for t, _ in lines))
        recs = [r for _, r in lines if r is not None]
        nbad = len(lines) - len(recs)
        if dedup:
            recs = dedup_last(recs)

        def onerr(stage):
            if policy == "quarantine":
                return "--on-error quarantine=%s/q%d.%s" % (d, n, stage)
            return "--on-error " + policy
        b = bindir
        cmd = "set -o pipefail; "
        if dedup:
            cmd += "%s/dedup-merge -q -k id %s < %s | %s/jsonl-normalize -q -t items %s %s" % (
                b, onerr("dedup"), path, b, "-k id" if norm_key else "", onerr("norm"))
        else:
            cmd += "%s/jsonl-normalize -q -t items %s %s < %s" % (
                b, "-k id" if norm_key else "", onerr("norm"), path)
        cmd += " | %s/schema-infer -q | %s/sqlite-load -q %s -t items -m %s %s %s" % (
            b, b, db, mode, "-k id" if load_key else "", onerr("load"))
        cmd += '; echo "${PIPESTATUS[*]}" > %s/status' % d
        before = dump(db)
        p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True)
        with open(os.path.join(d, "status")) as f:
            statuses = [int(s) for s in f.read().split()]
        new_state, want, rejected = model_load(
            state, recs, mode, keyed, policy)
        got = statuses[-1]
        where = "%s load %d" % (desc, n + 1)
        if got != want:
            return "%s: sqlite-load exit %d, model %d: %s" % (
                where, got, want, p.stderr.strip()[:300])
        if any(s not in (0, 141) for s in statuses[:-1]) or (
                want == 0 and any(statuses[:-1])):
            return "%s: pipeline statuses %s: %s" % (where, statuses, p.stderr.strip()[:300])
        if want != 0:
            if dump(db) != before:
                return "%s: failed load changed the database" % where
            continue
        state = new_state
        got_rows = table_rows(db)
        want_rows = sorted((visible(r) for r in state), key=repr)
        if got_rows != want_rows:
            return "%s: rows differ\n  got:  %s\n  want: %s" % (
                where, got_rows, want_rows)
        if orphans(db):
            return "%s: %d child rows without their root row" % (where, orphans(db))
        want_children = sorted(
            (float(r["id"]), float(v)) for r in state for v in r.get("arr") or [])
        got_children = child_rows(db)
        if got_children != want_children:
            return "%s: child rows differ\n  got:  %s\n  want: %s" % (
                where, got_children, want_children)
        if policy == "quarantine":
            # Lines of the root stream only: the model counts the root
            # records rejected, not the child records that go with them.
            first = "q%d.%s" % (n, "dedup" if dedup else "norm")
            counts = {}
            for stage in ("dedup", "norm", "load"):
                q = os.path.join(d, "q%d.%s" % (n, stage))
                counts[stage] = 0
                if os.path.exists(q):
                    for l in open(q, encoding="utf-8"):
                        m = json.loads(l)
                        if stage != "load" or '"stream":"items"' in m["input"]:
                            counts[stage] += 1
            if counts[first.split(".")[1]] != nbad or counts["load"] != rejected:
                return "%s: quarantined %s, model %d bad lines, %d rejected" % (
                    where, counts, nbad, rejected)
    return None


def main():
    bindir, work, seed, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    failures = 0
    for i in range(runs):
        err = one_run(bindir, work, seed + i)
        if err:
            failures += 1
            print(err)
    print("# %d runs from seed %d, %d failed" % (runs, seed, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
