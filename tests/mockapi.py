#!/usr/bin/env python3
"""mockapi.py: the mock HTTP API that tests/pgfetch-http.bats talks to.

Python 3 standard library only.  It listens on 127.0.0.1, on a free port
chosen by the system (or --port), prints that port as the first line of its
standard output, and serves until it is killed, or until --lifetime seconds
(default 300) have passed, when it exits by itself so that a crashed test
run never leaves it behind.

Requests are served concurrently, one thread each, and connections are
kept alive (HTTP/1.1), so a client may run many requests at once and reuse
its connections; every response carries a Content-Length (the faults below
say when it lies).

The data is deterministic: record i (1 <= i <= n) is

    {"id": i, "name": "r<i>", "big": 9007199254740993 + i}

written as JSON text by hand, so that "big" stays exact past 2^53.  Every
endpoint takes ?n=TOTAL (default 45).  Pages are pretty-printed (spaces and
newlines), so a client has to re-serialize the records compactly.

Paginated endpoints (per=10 records a page unless ?per= says otherwise):

    /page?page=N           JSON array of page N (from 1); [] after the last.
                           ?latency=MS: sleep MS milliseconds first (also
                           on /offset), as a remote API would take.
                           ?pname=NAME reads the page number from NAME.
                           ?wrap=a.b puts the array at that path of an object.
                           ?fail_page=K&fail_code=C: page K always answers C.
                           ?bad_page=K: page K is its records, then a JSON
                           syntax error.
    /page-total?page=N     {"total":T,"data":[...]}
    /offset?offset=O&limit=L
                           {"results":[...]} (?oname=/?lname= rename them).
    /cursor?cursor=C       {"items":[...],"next_cursor":C'|null}; C is opaque.
    /next?p=N              {"data":[...],"next":"/next?p=N+1&..."|null}
                           ?abs=1: an absolute next URL;
                           ?nest=1: the URL is at links.next, not next;
                           ?rel=path: a path-relative URL ("next?p=2&...").
    /link?page=N           array, and a Link header with rel="next" (absolute
                           URL; also prev, last and first as GitHub does).
    /redirect?hops=K       302 K times, then as /page.

The taxi rides of the demo (make demo, examples/demo.sh), as the dlt
workshop's API serves them: nested objects and lists, a page at a time:

    /rides?page=N          JSON array of page N (from 1; ?per=, default 100)
                           of the rides ordered by (updated_at, ride_id);
                           [] after the last.  ?updated_since=T: only the
                           rides updated after T (an ISO-8601 UTC text).
                           A ride: {"ride_id", "vendor_name", "updated_at",
                           "time": {"pickup", "dropoff"}, "passenger_count",
                           "trip_distance", "coordinates": {"start": {"lat",
                           "lon"}, "end": {...}}, "payment": {"type",
                           "fare_amt", "tip_amt", "total_amt"},
                           "passengers": [{"name", "rating"}, ...],
                           "stops": [{"lat", "lon"}, ...]}.
    /rides/change?changed=K&added=M
                           K rides get a new tip and a later updated_at, M
                           new rides come; answers {"changed": [ids],
                           "added": [ids]}.  Rides are made on first use:
                           ?rides=N on that request (default 3000).
    /rides/reset           the N rides as they were made.

Whole bodies:

    /jsonl                 the n records as JSON Lines, compact (no spaces),
                           one a line; Content-Type application/x-ndjson.
                           The body is built in memory: for big data, serve
                           a file with --root.
    /files/NAME            with --root DIR: the file DIR/NAME, streamed in
                           1 MiB chunks, never read whole.  NAME holding
                           "/" or "..", and files that are not there (or no
                           --root), are 404.  Content-Type by the name's
                           ending: .jsonl and .ndjson application/x-ndjson,
                           .csv text/csv, .tsv text/tab-separated-values,
                           .json application/json, .gz application/gzip,
                           else application/octet-stream.  A Range
                           header is ignored: the answer is 200 and the
                           whole file.
                           ?cut=BYTES: attempt 1 (see below) sends the
                           headers with the file's full Content-Length but
                           only the first BYTES bytes of the body, then
                           closes the connection; later attempts send the
                           whole file.

Faults, each then behaving as /page (per distinct path+query, "attempt" k
counts the requests for that exact path+query since the last reset:
/reset-state, or a --requests FILE replaced, see below):

    /flaky                 attempt 1: 500 (?code=503: 503), then ok.
    /ratelimit             attempt 1: 429 with Retry-After: 1 (?date=1: an
                           HTTP-date at least one second ahead), then ok.
    /retry-after-zero      attempts 1 and 2: 429 with Retry-After: 0, then ok.
    /reset                 attempt 1: the connection is closed, no response.
    /truncated             attempt 1: Content-Length larger than the body
                           sent (which holds whole records), then close.
    /slow?ms=3000          sleep, then ok (?first=1: only attempt 1 sleeps).
    /badjson               200 with a body that is not valid JSON.
    /always500             500, always.
    /notfound              404 with a JSON error body.
    /auth                  needs "Authorization: Bearer s3cret", else 401.
    /basic                 needs Basic auth user:pw, else 401.
    /apikey                needs "X-Api-Key: k3y" or ?api_key=k3y, else 401.
    /gzip                  the body gzip-encoded when the client accepts it.
    /echo                  one record: the request's method, path, query and
                           headers (names lower-cased).
    POST /webhook          an incoming webhook (examples/alerts.sh): the
                           body is noted ("body" in /state), the answer is
                           200 "ok"; ?code=C answers C and "no_service".

Additions for tests/pgfetch-parallel.bats (--parallel, --checkpoint,
--records-jq, streamed files, redirects across hosts):

    ?die_page=K            on /page, /page-total, /offset, /cursor, /next,
                           /link, /apikey and every fault that behaves as
                           /page:
                           page K answers 500 on its first M attempts
                           (&die_times=M, default 1), then it is served as
                           usual; attempts count per path+query as for the
                           faults below, so a second run of the same command
                           gets page K.  The page number is ?page= (or the
                           ?pname= parameter), offset/limit + 1 on /offset,
                           cursor offset/per + 1 on /cursor, ?p= on /next.
                           /next carries die_page on in its next URLs.
    ?junk=K                on /page (and what behaves as /page) and
                           /page-total: record K is the number K instead
                           of an object, when K is on the page asked for.
    /redirect-to?url=U     302 to U, an absolute URL taken as it is (for
                           redirects to another host, e.g. localhost).
    ?next_base=URL         on /next and /link: the next URLs are absolute,
                           on URL (scheme://host:port) instead of this
                           server: a page that sends the client to
                           another origin.

Additions for tests/pgfetch-security.bats:

    --cert PEM --key PEM   HTTPS instead of HTTP, with that certificate.
    /status?code=C         C, always, with a JSON error body.
    /leak?p=N&pages=P&code=C
                           echoes the credentials it got: ECHO is the
                           Authorization header (and, for Basic, its
                           decoded user:password), X-Api-Key,
                           X-Custom-Token, X-Auth-Token and ?api_key=,
                           space-separated.  Pages N < P (default 2) are
                           {"data":[{"id":N},"ECHO"],"next":URL}, URL
                           being /leak?...&p=N+1&echo=ECHO; page P answers
                           C (default 401) with the body
                           {"error":"...","pad":"xxx...","echo":"ECHO"}
                           (?pad=K: K x's before the echo) and the header
                           X-Echo: ECHO; with ?redirect=1, a 302 to
                           /status?code=C&echo=ECHO instead.
    PATH.json              any endpoint but /files/ and the control ones,
                           with ".json" added to its path, is that endpoint
                           (/page-total.json is /page-total), for URLs
                           whose name ends in .json.

Control:

    /                      {"ok":true}
    /state                 {"PATH?QUERY":{"count":k,"times":[...],
                           "gzip":[...],"headers":[{...}]},...}: what was
                           asked, and when (seconds since the epoch, as
                           floats), with each request's headers (names
                           lower-cased).
    /reset-state           forget all of it (and empty the --requests file).

The request file (--requests FILE): the same record, kept where a test
reads it without a client of its own (tests/mock.bash, mock_state).  Every
request that /state counts appends one line of JSON,

    {"key":"PATH?QUERY","time":T,"headers":{...}}   (and "gzip":B on /gzip)

with one write(2), under the lock that counts it, before the response is
sent: once a client has its answer, its request is in the file.  A reader
that races a request still in flight may see that last line cut short, and
skips it (the request has not been counted yet, as /state would say).
Replacing FILE by another (an empty one, by rename(2)) is a reset, as
/reset-state: the server notices the old file is gone at the next request,
forgets what it counted (the attempts of the faults start again from 1)
and appends to the new FILE.
"""

import argparse
import base64
import calendar
import email.utils
import gzip
import json
import math
import os
import socket
import stat
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

BIG = 9007199254740993
TOKEN = "s3cret"
BASIC_USER = "user"
BASIC_PASS = "pw"
API_KEY = "k3y"
CHUNK = 1 << 20          # /files bodies go out in pieces of this size

# Content-Type of /files by the file name's ending (lower-cased).
FILE_TYPES = [
    (".jsonl", "application/x-ndjson"),
    (".ndjson", "application/x-ndjson"),
    (".csv", "text/csv"),
    (".tsv", "text/tab-separated-values"),
    (".json", "application/json"),
    (".gz", "application/gzip"),
]

STATE = {}
STATE_LOCK = threading.Lock()


class RequestFile:
    """--requests FILE: one JSON line a counted request (see the docstring).
    Used under STATE_LOCK only."""

    def __init__(self, path):
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC
                          | os.O_APPEND, 0o644)

    def replaced(self):
        """True, once, when FILE was replaced (renamed over or removed)
        since the last call; then the new FILE is the one appended to."""
        if os.fstat(self.fd).st_nlink > 0:
            return False
        os.close(self.fd)
        # No O_CREAT: a FILE that was removed, not replaced, is an error
        # the test sees, not a new empty record.
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        return True

    def append(self, entry):
        data = (json.dumps(entry) + "\n").encode()
        while data:
            data = data[os.write(self.fd, data):]

    def clear(self):
        os.ftruncate(self.fd, 0)


REQUESTS = None             # the RequestFile of --requests, if given

RIDES = []                  # the demo's rides (under STATE_LOCK)
RIDES_MADE = [0]            # how many /rides/reset makes again
VENDORS = ["Creative Mobile Technologies", "VeriFone Inc", "Curb Mobility"]
NAMES = ["Ana", "Bo", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hiro",
         "Ines", "Jonas", "Kemal", "Lea"]


def iso(minutes):
    """2024-06-01T00:00:00Z plus minutes, as ISO-8601 UTC text."""
    t = time.gmtime(1717200000 + minutes * 60)
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", t)


def make_ride(i, updated_minutes):
    """Ride i, deterministic: every value follows from i."""
    pax = 1 + i % 4
    fare = round(4.5 + (i * 37 % 400) / 10.0, 2)
    tip = round(fare * (i % 5) / 20.0, 2)
    lat, lon = 40.70 + (i * 13 % 100) / 1000.0, -74.00 + (i * 29 % 100) / 1000.0
    return {
        "ride_id": i,
        "vendor_name": VENDORS[i % len(VENDORS)],
        "updated_at": iso(updated_minutes),
        "time": {"pickup": iso(i * 3 - 60), "dropoff": iso(i * 3 - 60 + 5 + i % 40)},
        "passenger_count": pax,
        "trip_distance": round(0.3 + (i * 53 % 250) / 10.0, 2),
        "coordinates": {"start": {"lat": round(lat, 6), "lon": round(lon, 6)},
                        "end": {"lat": round(lat + 0.011, 6),
                                "lon": round(lon + 0.007, 6)}},
        "payment": {"type": "Credit" if i % 3 else "Cash", "fare_amt": fare,
                    "tip_amt": tip, "total_amt": round(fare + tip, 2)},
        "passengers": [{"name": NAMES[(i + k) % len(NAMES)],
                        "rating": round(3.5 + ((i + k) % 16) / 10.0, 1)}
                       for k in range(pax)],
        "stops": [{"lat": round(lat + 0.003 * (k + 1), 6),
                   "lon": round(lon + 0.002 * (k + 1), 6)}
                  for k in range(i % 3)],
    }


def make_rides(n):
    RIDES[:] = [make_ride(i, i) for i in range(1, n + 1)]
    RIDES_MADE[0] = n


def record(i):
    """Record i as pretty JSON text (big stays exact: Python ints)."""
    return '{"id": %d, "name": "r%d", "big": %d}' % (i, i, BIG + i)


def compact_record(i):
    """Record i as compact JSON text, as one line of JSON Lines."""
    return record(i).replace(": ", ":").replace(", ", ",")


def records_text(first, last, junk=0):
    """A JSON array of records first..last (inclusive), pretty-printed;
    record junk (?junk=K), if among them, is the bare number K."""
    if last < first:
        return "[]"
    return ("[\n  " + ",\n  ".join(str(i) if i == junk else record(i)
                                    for i in range(first, last + 1))
            + "\n]")


def intarg(q, name, default):
    try:
        return int(q.get(name, default))
    except ValueError:
        return default


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle's
    # algorithm and the client's delayed ACK cost 40 ms a keep-alive request.
    disable_nagle_algorithm = True
    server_version = "mockapi/1"
    quiet = True
    root = None             # --root: the directory /files/NAME serves

    def log_message(self, fmt, *args):
        if not self.quiet:
            sys.stderr.write("mockapi: %s %s\n" % (self.address_string(),
                                                   fmt % args))

    # -- helpers ----------------------------------------------------------

    def base(self):
        return "%s://127.0.0.1:%d" % (self.server.scheme,
                                      self.server.server_address[1])

    def note(self, key, **extra):
        """Count this request for KEY; return its attempt number (from 1)."""
        with STATE_LOCK:
            if REQUESTS is not None and REQUESTS.replaced():
                STATE.clear()
            now = time.time()
            st = STATE.setdefault(key, {"count": 0, "times": []})
            st["count"] += 1
            st["times"].append(now)
            for k, v in extra.items():
                st.setdefault(k, []).append(v)
            if REQUESTS is not None:
                entry = {"key": key, "time": now}
                entry.update(extra)
                REQUESTS.append(entry)
            return st["count"]

    def send(self, code, body, ctype="application/json", headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def error_json(self, code, message, headers=()):
        self.send(code, '{"error": %d, "message": %s}\n'
                  % (code, json.dumps(message)), headers=headers)

    def hangup(self):
        """Close the connection at once, without a response."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def latency(self, q):
        """Sleep ?latency=MS milliseconds (none by default)."""
        ms = intarg(q, "latency", 0)
        if ms > 0:
            time.sleep(ms / 1000.0)

    def send_file(self, q, attempt, name):
        """/files/NAME: the file under --root, streamed in CHUNK pieces;
        ?cut=BYTES cuts attempt 1 short (see the docstring)."""
        if (self.root is None or name in ("", ".") or "/" in name
                or "\\" in name or ".." in name or "\0" in name):
            return self.error_json(404, "no such file")
        try:
            f = open(os.path.join(self.root, name), "rb")
        except OSError:
            return self.error_json(404, "no such file")
        with f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                return self.error_json(404, "no such file")
            size = st.st_size
            cut = intarg(q, "cut", -1) if attempt == 1 else -1
            left = size if cut < 0 else min(cut, size)
            low = name.lower()
            ctype = next((t for ext, t in FILE_TYPES if low.endswith(ext)),
                         "application/octet-stream")
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            buf = memoryview(bytearray(CHUNK))
            while left > 0:
                k = f.readinto(buf[:min(CHUNK, left)])
                if not k:
                    break       # the file shrank: the body is short
                self.wfile.write(buf[:k])
                left -= k
            if cut >= 0 or left > 0:
                return self.hangup()
        return None

    def page_bounds(self, q, n, param="page"):
        per = max(intarg(q, "per", 10), 1)
        page = intarg(q, param, 1)
        first = (page - 1) * per + 1
        last = min(page * per, n)
        if page < 1:
            first, last = 1, 0
        return page, per, first, last

    def page_body(self, q, n):
        """The /page body: the array of the page, maybe wrapped."""
        pname = q.get("pname", "page")
        _, _, first, last = self.page_bounds(q, n, pname)
        body = records_text(first, last, intarg(q, "junk", 0))
        wrap = q.get("wrap")
        if wrap:
            names = wrap.strip(".").split(".")
            for name in reversed(names[1:]):
                body = '{%s: %s}' % (json.dumps(name), body)
            body = '{"meta": {"n": %d}, %s: %s}' % (n, json.dumps(names[0]),
                                                    body)
        return body + "\n"

    def page_no(self, path, q):
        """The page a request asks for, as ?die_page= counts them."""
        if path == "/offset":
            off = max(intarg(q, q.get("oname", "offset"), 0), 0)
            lim = max(intarg(q, q.get("lname", "limit"), 10), 1)
            return off // lim + 1
        if path == "/cursor":
            cur = q.get("cursor", "")
            off = int(cur[2:]) if cur.startswith("c~") and \
                cur[2:].isdigit() else 0
            return off // max(intarg(q, "per", 10), 1) + 1
        if path == "/next":
            return intarg(q, "p", 1)
        return intarg(q, q.get("pname", "page"), 1)

    def echo_credentials(self, q):
        """/leak's ECHO: every credential the request carried."""
        got = []
        auth = self.headers.get("Authorization")
        if auth:
            got.append(auth)
            if auth.startswith("Basic "):
                try:
                    got.append(base64.b64decode(auth[6:]).decode())
                except ValueError:
                    pass
        for name in ("X-Api-Key", "X-Custom-Token", "X-Auth-Token"):
            if self.headers.get(name):
                got.append(self.headers[name])
        if q.get("api_key"):
            got.append(q["api_key"])
        return " ".join(got)

    def leak(self, q):
        """/leak: a server that echoes credentials (see the docstring)."""
        echo = self.echo_credentials(q)
        p, pages = intarg(q, "p", 1), intarg(q, "pages", 2)
        code = intarg(q, "code", 401)
        if p < pages:
            q2 = dict(q)
            q2["p"] = str(p + 1)
            q2["echo"] = echo
            body = '{"data": [{"id": %d}, %s], "next": %s}\n' % (
                p, json.dumps(echo), json.dumps("/leak?" + urlencode(q2)))
            return self.send(200, body)
        if q.get("redirect") == "1":
            self.send_response(302)
            self.send_header("Location", "/status?" + urlencode(
                {"code": code, "echo": echo}))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        body = json.dumps({"error": "bad credentials",
                           "pad": "x" * intarg(q, "pad", 0), "echo": echo})
        return self.send(code, body + "\n", headers=[("X-Echo", echo)])

    # -- dispatch ---------------------------------------------------------

    def do_GET(self):
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def rides(self, path, q):
        """/rides, /rides/change, /rides/reset (see the docstring)."""
        with STATE_LOCK:
            if not RIDES_MADE[0]:
                make_rides(max(intarg(q, "rides", 3000), 1))
            if path == "/rides/reset":
                make_rides(RIDES_MADE[0])
                return self.send(200, '{"ok": true}\n')
            if path == "/rides/change":
                # Later than every updated_at so far.
                last = max(r["updated_at"] for r in RIDES)
                base = calendar.timegm(time.strptime(
                    last, "%Y-%m-%dT%H:%M:%SZ")) - 1717200000
                minute = base // 60 + 1
                changed, added = [], []
                step = max(len(RIDES) // max(intarg(q, "changed", 5), 1), 1)
                for k in range(intarg(q, "changed", 5)):
                    r = RIDES[(k * step + 7) % len(RIDES)]
                    r["payment"]["tip_amt"] = round(r["payment"]["tip_amt"] + 1.5, 2)
                    r["payment"]["total_amt"] = round(
                        r["payment"]["fare_amt"] + r["payment"]["tip_amt"], 2)
                    r["updated_at"] = iso(minute)
                    minute += 1
                    changed.append(r["ride_id"])
                top = max(r["ride_id"] for r in RIDES)
                for k in range(intarg(q, "added", 20)):
                    RIDES.append(make_ride(top + k + 1, minute))
                    minute += 1
                    added.append(top + k + 1)
                return self.send(200, json.dumps({"changed": changed,
                                                  "added": added}) + "\n")
            if path != "/rides":
                return self.error_json(404, "no route for " + path)
            since = q.get("updated_since", "")
            rows = sorted((r for r in RIDES if r["updated_at"] > since),
                          key=lambda r: (r["updated_at"], r["ride_id"]))
            per = max(intarg(q, "per", 100), 1)
            page = intarg(q, "page", 1)
            chunk = rows[(page - 1) * per:page * per] if page >= 1 else []
            body = json.dumps(chunk)
        return self.send(200, body + "\n")

    def do_POST(self):
        """/webhook: an incoming webhook, as Slack's: the body and headers
        are noted, the answer is 200 "ok" (?code=C: C, Slack's error body)."""
        try:
            parts = urlsplit(self.path)
            q = dict(parse_qsl(parts.query, keep_blank_values=True))
            n = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(n).decode("utf-8", "replace")
            if parts.path != "/webhook":
                return self.error_json(404, "no route for POST " + parts.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            self.note(self.path, body=body, headers=headers)
            code = intarg(q, "code", 200)
            return self.send(code, "ok" if code == 200 else "no_service",
                             ctype="text/plain")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        return None

    def route(self):
        parts = urlsplit(self.path)
        path = parts.path
        q = dict(parse_qsl(parts.query, keep_blank_values=True))
        key = self.path
        n = intarg(q, "n", 45)

        if path == "/":
            return self.send(200, '{"ok": true}\n')
        if path == "/state":
            with STATE_LOCK:
                body = json.dumps(STATE)
            return self.send(200, body + "\n")
        if path == "/reset-state":
            with STATE_LOCK:
                STATE.clear()
                if REQUESTS is not None:
                    REQUESTS.clear()
            return self.send(200, '{"ok": true}\n')

        accepts_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        headers = {k.lower(): v for k, v in self.headers.items()}
        if path == "/gzip":
            attempt = self.note(key, gzip=accepts_gzip, headers=headers)
        else:
            attempt = self.note(key, headers=headers)

        # PATH.json is PATH (not for /files/, which has names of its own).
        if path.endswith(".json") and not path.startswith("/files/"):
            path = path[:-len(".json")]

        if path == "/redirect-to":
            self.send_response(302)
            self.send_header("Location", q.get("url", "/"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None

        dp = intarg(q, "die_page", 0)
        if (dp and not path.startswith("/files/")
                and self.page_no(path, q) == dp
                and attempt <= intarg(q, "die_times", 1)):
            return self.error_json(500, "page %d dies (attempt %d)"
                                   % (dp, attempt))

        if path == "/page":
            self.latency(q)
            fp = intarg(q, "fail_page", 0)
            if fp and intarg(q, q.get("pname", "page"), 1) == fp:
                code = intarg(q, "fail_code", 500)
                return self.error_json(code, "page %d fails" % fp)
            bp = intarg(q, "bad_page", 0)
            if bp and intarg(q, q.get("pname", "page"), 1) == bp:
                body = self.page_body(q, n).rstrip()
                return self.send(200, body[:-1] + ",,]\n")
            return self.send(200, self.page_body(q, n))

        if path == "/page-total":
            _, _, first, last = self.page_bounds(q, n)
            return self.send(200, '{"total": %d, "data": %s}\n'
                             % (n, records_text(first, last,
                                                intarg(q, "junk", 0))))

        if path == "/offset":
            self.latency(q)
            off = max(intarg(q, q.get("oname", "offset"), 0), 0)
            lim = max(intarg(q, q.get("lname", "limit"), 10), 0)
            return self.send(200, '{"results": %s}\n'
                             % records_text(off + 1, min(off + lim, n)))

        if path == "/rides" or path.startswith("/rides/"):
            return self.rides(path, q)

        if path == "/jsonl":
            body = "".join(compact_record(i) + "\n" for i in range(1, n + 1))
            return self.send(200, body, ctype="application/x-ndjson")

        if path.startswith("/files/"):
            return self.send_file(q, attempt, unquote(path[len("/files/"):]))

        if path == "/cursor":
            per = max(intarg(q, "per", 10), 1)
            cur = q.get("cursor", "")
            if cur == "":
                off = 0
            elif cur.startswith("c~") and cur[2:].isdigit():
                off = int(cur[2:])
            else:
                return self.error_json(400, "bad cursor")
            last = min(off + per, n)
            nxt = json.dumps("c~%d" % last) if last < n else "null"
            return self.send(200, '{"items": %s, "next_cursor": %s}\n'
                             % (records_text(off + 1, last), nxt))

        if path == "/next":
            per = max(intarg(q, "per", 10), 1)
            p = intarg(q, "p", 1)
            first, last = (p - 1) * per + 1, min(p * per, n)
            if last < n:
                q2 = dict(q)
                q2["p"] = str(p + 1)
                url = "/next?" + urlencode(q2)
                if q.get("rel") == "path":
                    url = url[1:]
                if q.get("abs") == "1":
                    url = self.base() + url
                if q.get("next_base"):
                    url = q["next_base"] + url
                nxt = json.dumps(url)
            else:
                nxt = "null"
            recs = records_text(first, last)
            if q.get("nest") == "1":
                body = '{"data": %s, "links": {"next": %s}}\n' % (recs, nxt)
            else:
                body = '{"data": %s, "next": %s}\n' % (recs, nxt)
            return self.send(200, body)

        if path == "/link":
            page, per, first, last = self.page_bounds(q, n)
            pages = max((n + per - 1) // per, 1)

            def url(k):
                q2 = dict(q)
                q2["page"] = str(k)
                return "<%s/link?%s>" % (q.get("next_base", self.base()),
                                         urlencode(q2))
            links = []
            if page > 1:
                links.append('%s; rel="prev"' % url(page - 1))
            if page < pages:
                links.append('%s; rel="next"' % url(page + 1))
            links.append('%s; rel="last"' % url(pages))
            links.append('%s; rel="first"' % url(1))
            return self.send(200, records_text(first, last) + "\n",
                             headers=[("Link", ", ".join(links))])

        if path == "/redirect":
            hops = intarg(q, "hops", 1)
            if hops > 0:
                q2 = dict(q)
                q2["hops"] = str(hops - 1)
                loc = "/redirect?" + urlencode(q2)
                self.send_response(302)
                self.send_header("Location", loc)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            return self.send(200, self.page_body(q, n))

        if path == "/flaky":
            if attempt == 1:
                code = intarg(q, "code", 500)
                return self.error_json(code, "try again")
            return self.send(200, self.page_body(q, n))

        if path == "/ratelimit":
            if attempt == 1:
                if q.get("date") == "1":
                    ra = email.utils.formatdate(math.ceil(time.time()) + 1,
                                                usegmt=True)
                else:
                    ra = "1"
                return self.error_json(429, "slow down",
                                       headers=[("Retry-After", ra)])
            return self.send(200, self.page_body(q, n))

        if path == "/retry-after-zero":
            if attempt <= 2:
                return self.error_json(429, "slow down",
                                       headers=[("Retry-After", "0")])
            return self.send(200, self.page_body(q, n))

        if path == "/reset":
            if attempt == 1:
                return self.hangup()
            return self.send(200, self.page_body(q, n))

        if path == "/truncated":
            body = self.page_body(q, n).encode()
            if attempt == 1:
                # Cut after the second record: a streaming client could
                # write two whole records before it sees the body is short.
                cut = body.find(b"},", body.find(b"},") + 2) + 2
                if cut < 2:
                    cut = len(body) // 2
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) + 100))
                self.end_headers()
                self.wfile.write(body[:cut])
                return self.hangup()
            return self.send(200, body)

        if path == "/slow":
            if q.get("first") != "1" or attempt == 1:
                time.sleep(intarg(q, "ms", 3000) / 1000.0)
            return self.send(200, self.page_body(q, n))

        if path == "/badjson":
            return self.send(200, '[{"id": 1, "name": "r1"}, {"id": 2,, }]\n')

        if path == "/status":
            code = intarg(q, "code", 500)
            return self.error_json(code, "status %d, always" % code)

        if path == "/leak":
            return self.leak(q)

        if path == "/always500":
            return self.error_json(500, "internal error, always")

        if path == "/notfound":
            return self.error_json(404, "no such thing here")

        if path == "/auth":
            if self.headers.get("Authorization") != "Bearer " + TOKEN:
                return self.error_json(401, "Bad credentials",
                                       headers=[("WWW-Authenticate",
                                                 'Bearer realm="mock"')])
            return self.send(200, self.page_body(q, n))

        if path == "/basic":
            want = "Basic " + base64.b64encode(
                ("%s:%s" % (BASIC_USER, BASIC_PASS)).encode()).decode()
            if self.headers.get("Authorization") != want:
                return self.error_json(401, "Bad credentials",
                                       headers=[("WWW-Authenticate",
                                                 'Basic realm="mock"')])
            return self.send(200, self.page_body(q, n))

        if path == "/apikey":
            if (self.headers.get("X-Api-Key") != API_KEY
                    and q.get("api_key") != API_KEY):
                return self.error_json(401, "Bad API key")
            return self.send(200, self.page_body(q, n))

        if path == "/gzip":
            body = self.page_body(q, n).encode()
            if accepts_gzip:
                return self.send(200, gzip.compress(body),
                                 headers=[("Content-Encoding", "gzip")])
            return self.send(200, body)

        if path == "/echo":
            headers = {}
            for k, v in self.headers.items():
                k = k.lower()
                headers[k] = headers[k] + ", " + v if k in headers else v
            rec = {
                "method": self.command,
                "path": path,
                "query": q,
                "query_list": parse_qsl(parts.query, keep_blank_values=True),
                "headers": headers,
            }
            return self.send(200, json.dumps(rec) + "\n")

        return self.error_json(404, "no route for " + path)


class Server(ThreadingHTTPServer):
    scheme = "http"         # https with --cert
    daemon_threads = True
    allow_reuse_address = True
    # listen(2)'s backlog: socketserver's default of 5 drops the SYNs of a
    # client opening many connections at once, which then wait a second
    # for a retransmission.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that gave up (timeouts, retries) is not an error here.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description="sluice's mock HTTP API")
    ap.add_argument("--port", type=int, default=0,
                    help="port to listen on (default: a free one)")
    ap.add_argument("--lifetime", type=float, default=300,
                    help="exit after this many seconds (default 300)")
    ap.add_argument("--root", metavar="DIR",
                    help="serve the files of DIR as /files/NAME")
    ap.add_argument("--cert", metavar="PEM",
                    help="serve HTTPS with this certificate (and --key)")
    ap.add_argument("--key", metavar="PEM", help="the certificate's key")
    ap.add_argument("--requests", metavar="FILE",
                    help="append a JSON line to FILE for each request")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="log each request on stderr")
    args = ap.parse_args()

    global REQUESTS
    Handler.quiet = not args.verbose
    if args.requests is not None:
        REQUESTS = RequestFile(args.requests)
    if args.root is not None:
        if not os.path.isdir(args.root):
            ap.error("--root %s: not a directory" % args.root)
        Handler.root = os.path.abspath(args.root)
    srv = Server(("127.0.0.1", args.port), Handler)
    if args.cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        srv.scheme = "https"
    sys.stdout.write("%d\n" % srv.server_address[1])
    sys.stdout.flush()

    def expire():
        time.sleep(args.lifetime)
        os._exit(0)
    threading.Thread(target=expire, daemon=True).start()
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
