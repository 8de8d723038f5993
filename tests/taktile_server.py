#!/usr/bin/env python3
"""A local stand-in for Taktile's decision-history API.

    GET /history/api/v1/decisions?limit=1000
        &include_external_resources=False&include_node_results=False
        &order=asc&start_time=...&end_time=...[&after=CURSOR]

with the X-Api-Key header.  The query is checked the way the real client
sends it: the parameters in exactly that order, booleans spelt True or
False, every value form-encoded with no safe characters (so ':' arrives
as %3A and '+' as %2B), nothing unknown and nothing missing.  A bad key
gets 401 {"detail": "Invalid API key"}; a bad query 422 {"detail":
[...]} in FastAPI's shape; any other path 404.

The server holds a list of decisions (see Decision and make_decision).
Each is kept as the exact JSON text it is served as, so number text such
as 1.50, 1e-7 or a 30-digit integer reaches the client exactly as
written.  A request selects the decisions whose end_time t satisfies
start_time <= t < end_time, in end_time order, and pages through them
with opaque cursors (random, unguessable tokens that hold no index) and
`limit` decisions per page; the last page has has_next false and
next_cursor null.

Every response is written with one write call, headers and body
together, over HTTP/1.1 with a Content-Length, so a client that keeps
its connection alive never waits on delayed ACKs.

Faults are injected through `script`, a queue of actions taken one per
incoming request, in arrival order (an empty queue means normal
handling):

    {"status": 500}                       answer 500 (JSON detail body)
    {"status": 429, "retry_after": "1"}   answer 429 with Retry-After: 1
                                          (a callable is called when the
                                          answer is made, for a date)
    {"status": 422, "body": "..."}        answer 422 with that raw body
    {"truncated": True}                   200 with a Content-Length for
                                          the whole page, half of it
                                          sent, then the connection closed
    {"garbled": True}                     200 with a body that is not JSON
    {"body": "<raw text>"}                200 with exactly that body
    {"drop": True}                        close without any answer
    {"delay": 2.0}                        wait, then handle normally
    {"cursor": "text"}                    a normal page, but if it has a
                                          next page, `text` is the cursor
                                          given out for it

Every request is recorded in `requests` (see TaktileServer).

Run as a program it serves generated decisions until SIGTERM:

    python3 tests/taktile_server.py --api-key K --decisions N \\
        --port-file F [--start 2023-05-30T14:00:00+00:00] [--span 3600]
"""
import argparse
import base64
import datetime
import gzip
import http.server
import json
import os
import queue
import re
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid

API_PATH = "/history/api/v1/decisions"
# Query parameters in the order the client must send them.
PARAMS = ("limit", "include_external_resources", "include_node_results",
          "order", "start_time", "end_time")
MAX_LIMIT = 1000
UTC = datetime.timezone.utc

DEFAULT_BODIES = {
    401: {"detail": "Invalid API key"},
    403: {"detail": "The API key may not read the decision history"},
    404: {"detail": "Not Found"},
    422: {"detail": [{"loc": ["query", "start_time"],
                      "msg": "invalid datetime format",
                      "type": "value_error.datetime"}]},
    429: {"detail": "Too Many Requests"},
    500: {"detail": "Internal Server Error"},
    502: {"detail": "Bad Gateway"},
    503: {"detail": "Service Unavailable"},
}

REASONS = {200: "OK", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed",
           422: "Unprocessable Entity", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable"}


# --- JSON text helpers ---------------------------------------------------

# A string literal, kept whole when text is split on it.
_STRING = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")')
_NO_WS = {ord(c): None for c in " \t\r\n"}


def compact(text):
    """JSON text without the white space outside strings; everything
    else (number text, escapes, key order) byte for byte."""
    parts = _STRING.split(text)
    parts[0::2] = [p.translate(_NO_WS) for p in parts[0::2]]
    return "".join(parts)


def skeleton(text):
    """compact(text) with every string literal written as "": the part
    of a JSON text that no faithful copy may change by a byte (numbers,
    literals, punctuation, structure)."""
    parts = _STRING.split(text)
    parts[0::2] = [p.translate(_NO_WS) for p in parts[0::2]]
    parts[1::2] = ['""'] * (len(parts) // 2)
    return "".join(parts)


_NUMBER = re.compile(r'-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?')


def number_texts(text):
    """Every number of a JSON text, as written, in order."""
    found = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif c == "-" or c.isdigit():
            m = _NUMBER.match(text, i)
            found.append(m.group(0))
            i = m.end()
        else:
            i += 1
    return found


def parse_time(text):
    """An ISO-8601 time as an aware UTC datetime (naive means UTC), or
    None if it does not parse."""
    try:
        t = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC)


def iso(t):
    """A UTC datetime in the API's own form, microseconds always shown."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def form_encode(value):
    """How the client must encode a query value: nothing is safe, a space
    is '+'."""
    return urllib.parse.quote_plus(value, safe="")


# --- decisions -----------------------------------------------------------

class Decision:
    """One decision: its end_time (aware datetime) and its JSON text.

    A decision built from parts serves `node_results` and
    `external_resources` (JSON texts) only when the request asks for
    them, `null` otherwise; `head` is the object's text up to, not
    including, those two members (no trailing comma or brace).  One built
    with Decision.fixed(text, end) is always served as `text`.
    """

    __slots__ = ("end", "head", "node_results", "external_resources",
                 "_fixed", "id", "_compact")

    def __init__(self, end, head, node_results="null",
                 external_resources="null", id=None):
        self.end = end
        self.head = head
        self.node_results = node_results
        self.external_resources = external_resources
        self._fixed = None
        self.id = id
        self._compact = {}

    @classmethod
    def fixed(cls, text, end, id=None):
        d = cls(end, None, id=id)
        d._fixed = text
        return d

    def compact_text(self, include_node_results=False,
                     include_external_resources=False):
        """text() without white space outside strings (kept once made)."""
        key = (include_node_results, include_external_resources)
        if key not in self._compact:
            self._compact[key] = compact(self.text(*key))
        return self._compact[key]

    def text(self, include_node_results=False,
             include_external_resources=False):
        if self._fixed is not None:
            return self._fixed
        return '%s,\n  "node_results": %s,\n  "external_resources": %s\n}' % (
            self.head,
            self.node_results if include_node_results else "null",
            self.external_resources if include_external_resources
            else "null")


_NS = uuid.UUID("6f1d3c4e-2b7a-4c0e-9a55-1d2e3f405162")


def _uuid(*parts):
    return str(uuid.uuid5(_NS, "/".join(str(p) for p in parts)))


def make_decision(i, end, start=None):
    """A decision shaped like the API's HistoricalDecision, with number
    text no float can round-trip, non-ASCII text and escapes.  `i`
    makes it unique; `end` is its end_time (aware datetime)."""
    if start is None:
        start = end - datetime.timedelta(milliseconds=37 + i % 900)
    did = _uuid("decision", i)
    flow_id = _uuid("flow", i % 3)
    version_id = _uuid("version", i % 3, i % 2)
    slug = ("credit-check", "fraud-screen", "kyc-onboarding")[i % 3]
    version = "v%d.%d" % (1 + i % 3, i % 2)
    entity = "null" if i % 5 == 4 else '"customer-%06d"' % i
    is_error = i % 7 == 6
    is_sandbox = i % 3 == 1
    duration = "null" if i % 11 == 10 else str(
        int((end - start).total_seconds() * 1000))
    node_a = _uuid("node", i, "a")
    node_b = _uuid("node", i, "b")
    stamp = iso(end)
    meta = ('{"version": "%s", "entity_id": %s, "timestamp": "%s", '
            '"decision_id": "%s"}' % (version, entity, stamp, did))
    if is_error:
        error = ('{\n    "code": "FLOW_ERROR", "message": "division by zero '
                 'in node \\"score\\"",\n    "node_id": "%s"\n  }' % node_b)
        response = ('{\n    "detail": {"msg": "Flow failed", "status": 500, '
                    '"trace": ["score", "rules"]},\n    "metadata": %s\n  }'
                    % meta)
    else:
        error = "null"
        response = ('{\n    "data": {\n      "decision": "%s",\n'
                    '      "score": 0.%04d, "limit": 1.50e3,\n'
                    '      "reasons": ["income \\u2265 threshold", '
                    '"Z\u00fcrich branch"],\n'
                    '      "rate": 0.1000000000000000055511151231257827\n'
                    '    },\n    "metadata": %s\n  }'
                    % (("approve", "review", "decline")[i % 3], i % 10000,
                       meta))
    head = (
        '{\n'
        '  "id": "%(did)s",\n'
        '  "flow": {\n'
        '    "id": "%(flow_id)s",\n'
        '    "slug": "%(slug)s",\n'
        '    "version_id": "%(version_id)s",\n'
        '    "version_name": "%(version)s"\n'
        '  },\n'
        '  "entity_id": %(entity)s,\n'
        '  "is_error": %(is_error)s,\n'
        '  "error": %(error)s,\n'
        '  "is_sandbox": %(is_sandbox)s,\n'
        '  "duration_in_milliseconds": %(duration)s,\n'
        '  "start_time": "%(start)s",\n'
        '  "end_time": "%(end)s",\n'
        '  "masked_fields": ["applicant.ssn", "applicant.iban"],\n'
        '  "request": {\n'
        '    "data": {\n'
        '      "applicant": {"name": "Zo\u00eb \u00dcnal-\u5c71\u7530 '
        '\U0001F600", "ssn": "***", "iban": "***",\n'
        '                    "note": "tab\\there \\"quoted\\" '
        'back\\\\slash \\/ \\u00e9 \\ud83d\\ude00 line\\nbreak",\n'
        '                    "spaced": "  two  spaces\\tand a tab  "},\n'
        '      "amount": 1.50,\n'
        '      "income": 123456789012345678901234567890,\n'
        '      "negative": -9223372036854775809,\n'
        '      "tiny": 1e-7,\n'
        '      "avogadro": 6.02214076E+23,\n'
        '      "minus_zero": -0.0,\n'
        '      "precise": 0.1000000000000000055511151231257827,\n'
        '      "sequence": %(i)d,\n'
        '      "empty_object": {}, "empty_list": [ ],\n'
        '      "nested": [[1, 2.0], {"k": [true, false, null]}]\n'
        '    },\n'
        '    "metadata": {"version": "%(version)s", '
        '"entity_id": %(entity)s}\n'
        '  },\n'
        '  "response": %(response)s'
    ) % {"did": did, "flow_id": flow_id, "slug": slug,
         "version_id": version_id, "version": version, "entity": entity,
         "is_error": "true" if is_error else "false", "error": error,
         "is_sandbox": "true" if is_sandbox else "false",
         "duration": duration, "start": iso(start), "end": stamp,
         "i": i, "response": response}
    node_results = (
        '{\n    "time_ordered": ["%(a)s", "%(b)s"],\n'
        '    "nodes": {\n'
        '      "%(a)s": {"id": "%(a)s", "title": "Fetch bureau data",\n'
        '        "data": {"bureau_score": 712, "utilisation": 0.305},\n'
        '        "tracing": {"start_time": "%(s)s", "end_time": "%(e)s", '
        '"error": false}},\n'
        '      "%(b)s": {"id": "%(b)s", "title": null,\n'
        '        "data": {"score": 1.0E-3, "bands": [0.25, 0.5, 0.75]},\n'
        '        "tracing": {"start_time": null, "end_time": null, '
        '"error": %(err)s}}\n'
        '    }\n  }'
    ) % {"a": node_a, "b": node_b, "s": iso(start), "e": stamp,
         "err": "true" if is_error else "false"}
    external = (
        '[\n    {"id": "ext-%(i)d", "provider": "experian", '
        '"resource": "credit_report", "node_id": "%(a)s",\n'
        '     "response": {"score": 712, "fee_eur": 0.35, '
        '"raw": "<xml a=\\"1\\"/>"},\n'
        '     "created_at": "%(s)s", "from_cache": %(cache)s}\n  ]'
    ) % {"i": i, "a": node_a, "s": iso(start),
         "cache": "true" if i % 2 else "false"}
    return Decision(end, head, node_results, external, id=did)


def generate(count, start, span_seconds=3600.0, first=0):
    """`count` decisions with end_times spread evenly over
    [start, start + span_seconds)."""
    step = span_seconds / max(count, 1)
    return [make_decision(first + k, start + datetime.timedelta(
        seconds=k * step)) for k in range(count)]


# --- the server ----------------------------------------------------------

class QueryError(Exception):
    """A request the API refuses with 422."""

    def __init__(self, loc, msg, kind):
        Exception.__init__(self, msg)
        self.detail = [{"loc": ["query", loc], "msg": msg, "type": kind}]


def _missing(name):
    return QueryError(name, "field required", "value_error.missing")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TaktileStandIn/1.0"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.owner._handle(self)

    def _not_allowed(self):
        self.owner._handle(self, method_ok=False)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _not_allowed

    def send_raw(self, status, body, headers=(), declared_length=None,
                 close=False):
        """Write status line, headers and body with one write."""
        length = len(body) if declared_length is None else declared_length
        lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Status")),
                 "Server: %s" % self.server_version,
                 "Date: %s" % self.date_time_string(),
                 "Content-Type: application/json",
                 "Content-Length: %d" % length]
        lines.extend("%s: %s" % h for h in headers)
        if close:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body)
        if close:
            self.close_connection = True


class TaktileServer:
    """The stand-in.

    `decisions` is the list served (Decision objects); it may be replaced
    or extended before requests arrive.  `requests` lists every request
    in arrival order, as dicts: index, method, path (the raw request
    target, query included), route (the path without the query), query
    (the raw query string), params (decoded (name, value) pairs in the
    order sent), headers (lower-case names), client (the peer's address
    and port, so reuse of a connection shows), action, status (None when
    no answer was given), received (time.monotonic()) and, for pages,
    count (decisions served) and cursor (the next_cursor given out).
    """

    def __init__(self, api_key="test-api-key", decisions=None,
                 gzip_pages=False, host="127.0.0.1", port=0):
        self.api_key = api_key
        self.decisions = list(decisions or [])
        self.gzip_pages = gzip_pages
        self.script = queue.Queue()
        self.requests = []
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self._cursors = {}
        self._address = (host, port)
        self._httpd = None
        self._thread = None
        self._sorted = None
        self._sorted_src = None

    # --- life cycle ---------------------------------------------------

    def start(self):
        owner = self

        class Handler(_Handler):
            pass

        Handler.owner = owner
        self._httpd = http.server.ThreadingHTTPServer(self._address,
                                                      Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="taktile-stand-in",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(10)
        self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._httpd.server_address[1]

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    # --- test helpers -------------------------------------------------

    def push(self, *actions):
        """Queue actions for the next requests, in order."""
        for action in actions:
            self.script.put(action)

    def wait_requests(self, n, timeout=30.0):
        """Wait until n requests have arrived; returns whether they
        have."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
            return True

    def window(self, start, end):
        """The decisions a request for [start, end) selects, in the
        order they are served."""
        start, end = _as_time(start), _as_time(end)
        return [d for d in self._ordered() if start <= d.end < end]

    def expected_texts(self, start, end, include_node_results=False,
                       include_external_resources=False):
        """The exact JSON texts served for a window, in order."""
        return [d.text(include_node_results, include_external_resources)
                for d in self.window(start, end)]

    def page_requests(self):
        """The requests that were answered with a page of decisions."""
        with self.lock:
            return [r for r in self.requests if r.get("count") is not None]

    # --- request handling ---------------------------------------------

    def _ordered(self):
        with self.lock:
            if self._sorted_src is not self.decisions or \
                    len(self._sorted) != len(self.decisions):
                self._sorted = sorted(self.decisions, key=lambda d: d.end)
                self._sorted_src = self.decisions
            return self._sorted

    def _next_action(self):
        try:
            return self.script.get_nowait()
        except queue.Empty:
            return {}

    def _handle(self, h, method_ok=True):
        route, _, query = h.path.partition("?")
        headers = {k.lower(): v for k, v in h.headers.items()}
        entry = {"method": h.command, "path": h.path, "route": route,
                 "client": h.client_address,
                 "query": query, "params": None, "headers": headers,
                 "action": None, "status": None,
                 "received": time.monotonic(), "count": None,
                 "cursor": None}
        with self.changed:
            entry["index"] = len(self.requests)
            self.requests.append(entry)
            self.changed.notify_all()
        action = self._next_action()
        entry["action"] = action
        try:
            self._serve(h, entry, action, route, query, headers, method_ok)
        except OSError as e:
            h.close_connection = True
            entry["error"] = str(e)

    def _answer(self, h, entry, status, body, headers=(), **kw):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        entry["status"] = status
        h.send_raw(status, body, headers, **kw)

    def _serve(self, h, entry, action, route, query, headers, method_ok):
        if action.get("drop"):
            entry["dropped"] = True
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if action.get("delay"):
            time.sleep(action["delay"])
        if action.get("status"):
            status = action["status"]
            extra = []
            if "retry_after" in action:
                value = action["retry_after"]
                if callable(value):
                    value = value()
                extra.append(("Retry-After", str(value)))
            body = action.get("body", DEFAULT_BODIES.get(status))
            if body is None:
                body = {"detail": "HTTP %d" % status}
            self._answer(h, entry, status, body, extra)
            return
        if action.get("garbled"):
            self._answer(h, entry, 200, b"<html><body><h1>502 Bad Gateway"
                         b"</h1>\x00\xff</body></html>")
            return
        if "body" in action:
            self._answer(h, entry, 200, action["body"])
            return

        status, body, extra = self._respond(entry, route, query, headers,
                                            method_ok)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
        if status == 200 and self.gzip_pages and "gzip" in \
                headers.get("accept-encoding", ""):
            body = gzip.compress(body, 1)
            extra = list(extra) + [("Content-Encoding", "gzip")]
        if action.get("truncated"):
            entry["status"] = status
            entry["truncated"] = True
            h.send_raw(status, body[:len(body) // 2], extra,
                       declared_length=len(body), close=True)
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._answer(h, entry, status, body, extra)

    def _respond(self, entry, route, query, headers, method_ok):
        """Normal handling: (status, body, extra headers)."""
        if route != API_PATH:
            return 404, {"detail": "Not Found"}, ()
        if not method_ok:
            return 405, {"detail": "Method Not Allowed"}, ()
        if headers.get("x-api-key") != self.api_key:
            return 401, DEFAULT_BODIES[401], ()
        try:
            params = self._check_query(query)
            entry["params"] = params[0]
            cursor = entry["action"].get("cursor")
            return 200, self._page(entry, *params, cursor_text=cursor), ()
        except QueryError as e:
            return 422, {"detail": e.detail}, ()

    def _check_query(self, query):
        pairs = []
        for item in query.split("&") if query else []:
            name, eq, raw = item.partition("=")
            if not eq:
                raise QueryError(name, "expected name=value",
                                 "value_error.query")
            try:
                value = urllib.parse.unquote_plus(raw, errors="strict")
            except UnicodeDecodeError:
                raise QueryError(name, "value is not UTF-8 once decoded",
                                 "value_error.encoding")
            if form_encode(value) != raw:
                raise QueryError(name, "value %r is not form-encoded as "
                                 "expected (%s)" % (raw, form_encode(value)),
                                 "value_error.encoding")
            pairs.append((name, value))
        names = [p[0] for p in pairs]
        for name in names:
            if name not in PARAMS and name != "after":
                raise QueryError(name, "extra fields not permitted",
                                 "value_error.extra")
        for name in PARAMS:
            if name not in names:
                raise _missing(name)
        expected = list(PARAMS) + (["after"] if "after" in names else [])
        if names != expected:
            raise QueryError(names[0], "parameters out of order or "
                             "repeated: %s" % ",".join(names),
                             "value_error.order")
        v = dict(pairs)
        if not re.fullmatch(r"[1-9][0-9]*", v["limit"]) or \
                int(v["limit"]) > MAX_LIMIT:
            raise QueryError("limit", "ensure this value is between 1 and "
                             "%d" % MAX_LIMIT, "value_error.number")
        for name in ("include_external_resources", "include_node_results"):
            if v[name] not in ("True", "False"):
                raise QueryError(name, "value could not be parsed to a "
                                 "boolean", "type_error.bool")
        if v["order"] != "asc":
            raise QueryError("order", "value is not a valid enumeration "
                             "member; permitted: 'asc'",
                             "type_error.enum")
        times = {}
        for name in ("start_time", "end_time"):
            t = parse_time(v[name])
            if t is None:
                raise QueryError(name, "invalid datetime format",
                                 "value_error.datetime")
            times[name] = t
        return (pairs, int(v["limit"]),
                v["include_node_results"] == "True",
                v["include_external_resources"] == "True",
                times["start_time"], times["end_time"], v.get("after"))

    def _page(self, entry, pairs, limit, nr, er, start, end, after,
              cursor_text=None):
        window = (start, end)
        index = 0
        if after is not None:
            with self.lock:
                known = self._cursors.get(after)
            if known is None or known[1] != window:
                raise QueryError("after", "invalid or expired cursor",
                                 "value_error.cursor")
            index = known[0]
        selected = [d for d in self._ordered() if start <= d.end < end]
        page = selected[index:index + limit]
        has_next = index + limit < len(selected)
        cursor = self._new_cursor(index + limit, window, cursor_text) \
            if has_next else None
        entry["count"] = len(page)
        entry["cursor"] = cursor
        texts = ",\n    ".join(d.text(nr, er).replace("\n", "\n    ")
                               for d in page)
        return ('{\n  "decisions": [\n    %s\n  ],\n  "pagination": '
                '{"has_next": %s, "next_cursor": %s}\n}\n' % (
                    texts, "true" if has_next else "false",
                    json.dumps(cursor))).encode("utf-8")

    def _new_cursor(self, index, window, text=None):
        """A fresh random cursor (or `text`); a random one uses '+', '/'
        and '=' so that a client that does not encode it is caught."""
        while text is None:
            c = base64.b64encode(secrets.token_bytes(16)).decode("ascii")
            if "+" in c and "/" in c:
                text = c
        with self.lock:
            self._cursors[text] = (index, window)
        return text


def _as_time(t):
    if isinstance(t, str):
        return parse_time(t)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t


def main(argv=None):
    p = argparse.ArgumentParser(description="Serve a local stand-in for "
                                "Taktile's decision-history API until "
                                "SIGTERM.")
    p.add_argument("--api-key", required=True, help="the key to accept")
    p.add_argument("--decisions", type=int, default=100,
                   help="how many decisions to serve")
    p.add_argument("--start", default="2023-05-30T14:00:00+00:00",
                   help="end_time of the first decision")
    p.add_argument("--span", type=float, default=3600.0,
                   help="seconds over which the decisions are spread")
    p.add_argument("--port", type=int, default=0,
                   help="port to listen on (default: any free port)")
    p.add_argument("--port-file", help="write the port number here")
    p.add_argument("--log", help="append one JSON line per request")
    args = p.parse_args(argv)

    start = parse_time(args.start)
    if start is None:
        p.error("--start is not an ISO 8601 time")
    server = TaktileServer(api_key=args.api_key, port=args.port,
                           decisions=generate(args.decisions, start,
                                              args.span))
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    server.start()
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % server.port)
        os.replace(tmp, args.port_file)
    sys.stderr.write("taktile stand-in listening on %s with %d decisions "
                     "from %s over %g s\n" % (server.base_url,
                                              args.decisions, iso(start),
                                              args.span))
    sys.stderr.flush()
    logged = 0
    while not done.wait(0.2):
        logged = _write_log(args.log, server, logged)
    server.stop()
    _write_log(args.log, server, logged)
    return 0


def _write_log(path, server, logged):
    """Append the requests answered since the last call, in order."""
    if not path:
        return logged
    with server.lock:
        new = server.requests[logged:]
    k = 0
    while k < len(new) and (new[k]["status"] is not None or
                            new[k].get("dropped")):
        k += 1
    if k:
        with open(path, "a") as f:
            for r in new[:k]:
                f.write(json.dumps({"path": r["path"], "status": r["status"],
                                    "count": r["count"]}) + "\n")
    return logged + k


if __name__ == "__main__":
    sys.exit(main())
