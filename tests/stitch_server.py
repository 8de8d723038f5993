#!/usr/bin/env python3
"""A local stand-in for the Stitch Import API batch endpoint.

It answers POSTs the way the Import API documents them: bearer-token
authentication, a JSON content type, an optional gzip body, a size limit,
and the shape of a batch body (table_name, schema, messages, key_names,
table_version, bookmark_names).  Accepted bodies are kept, in the order
they were accepted, for tests to inspect.

Faults are injected through `script`, a queue of actions taken one per
incoming request, in arrival order (an empty queue means normal
handling):

    {"status": 503}                       answer 503 (a JSON body)
    {"status": 429, "retry_after": "1"}   answer 429 with Retry-After: 1
    {"status": 400, "body": {...}}        answer 400 with that JSON body
    {"status": 500, "text": "oops"}       answer 500 with a text/plain body
    {"drop": True}                        close without any answer
    {"delay": 2.0}                        wait, then handle normally
    {"hold": threading.Event()}           wait until the event is set,
                                          then handle normally

Actions can also be tied to a request's content: on_body(text, action)
takes `action` for the next request whose body contains `text`.
`delay_all` delays every request, and `hook(info)` (called for each
request that neither the script nor a body rule handles; `info` is the
request's entry as described for `requests` below) may return one of the
actions above.

When a delayed or held request finds its client gone once the wait is
over, it is recorded with status None and not accepted: the client never
learnt the outcome and is expected to send the body again.

Run as a program it serves until SIGTERM:

    python3 tests/stitch_server.py --token T [--port-file F] [--log F]

writing its port to F and one JSON line per accepted batch to the log.
"""
import argparse
import decimal
import gzip
import http.server
import json
import os
import queue
import select
import signal
import socket
import sys
import threading
import time
import zlib

MAX_BODY = 20000000
MAX_MESSAGES = 20000
MAX_SEQUENCE = 9223372036854775807
TOP_KEYS = ("table_name", "schema", "messages", "key_names",
            "table_version", "bookmark_names")
UPSERT_KEYS = ("action", "data", "sequence", "time_extracted")
ACTIVATE_KEYS = ("action", "sequence")

DEFAULT_BODIES = {
    400: {"error": "Bad Request"},
    401: {"message": "Not Authorized"},
    403: {"error": "Forbidden"},
    404: {"error": "Not Found"},
    408: {"error": "Request Timeout"},
    413: None,          # filled in with the request's size
    415: None,          # plain text, like the real service
    422: {"error": "Unprocessable Entity"},
    429: {"message": "Too Many Requests"},
    500: {"error": "Internal Server Error"},
    502: {"error": "Bad Gateway"},
    503: {"error": "Service Unavailable"},
    504: {"error": "Gateway Timeout"},
}

_recursion_lock = threading.Lock()


def _allow_depth(depth):
    """Let the json module (and comparisons) go `depth` levels deep."""
    with _recursion_lock:
        if sys.getrecursionlimit() < depth + 1000:
            sys.setrecursionlimit(depth + 1000)


def nesting_depth(text):
    """Deepest nesting of [ and { in JSON text, strings skipped."""
    depth = best = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c in "[{":
            depth += 1
            if depth > best:
                best = depth
        elif c in "]}":
            depth -= 1
        i += 1
    return best


def _no_constant(name):
    raise ValueError("%s is not valid JSON" % name)


def parse_json(text):
    """Parse JSON text as the stand-in does: exact decimals for numbers
    with a fraction or exponent, plain ints otherwise, no NaN or
    Infinity, any nesting depth."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")
    _allow_depth(nesting_depth(text))
    return json.loads(text, parse_float=decimal.Decimal,
                      parse_constant=_no_constant)


def json_type(v):
    if isinstance(v, dict):
        return "JSONObject"
    if isinstance(v, list):
        return "JSONArray"
    if isinstance(v, str):
        return "String"
    if isinstance(v, bool):
        return "Boolean"
    if isinstance(v, int):
        return "Integer"
    if isinstance(v, decimal.Decimal):
        return "BigDecimal"
    return "Null"


class Rejected(Exception):
    """A request the API refuses: HTTP status and response body."""

    def __init__(self, status, body, text=None):
        Exception.__init__(self, "%d %r" % (status, body or text))
        self.status = status
        self.body = body
        self.text = text


def _bad(message):
    return Rejected(400, {"error": message})


def _expect(value, kind, where):
    ok = {
        "JSONObject": isinstance(value, dict),
        "JSONArray": isinstance(value, list),
        "String": isinstance(value, str),
        "Integer": isinstance(value, int) and not isinstance(value, bool),
    }[kind]
    if not ok:
        raise _bad("Request failed validation:#%s: expected type: %s, "
                   "found: %s" % (where, kind, json_type(value)))


def validate_batch(body):
    """Check a parsed batch body; raise Rejected if the API would."""
    if not isinstance(body, dict):
        raise _bad("Request failed validation:#: expected type: "
                   "JSONObject, found: %s" % json_type(body))
    for key in body:
        if key not in TOP_KEYS:
            raise _bad("Request failed validation:#: extraneous key [%s] "
                       "is not permitted" % key)
    for key in ("table_name", "schema", "messages"):
        if key not in body:
            raise _bad("Request failed validation:#: required key [%s] "
                       "not found" % key)
    _expect(body["table_name"], "String", "/table_name")
    _expect(body["schema"], "JSONObject", "/schema")
    _expect(body["messages"], "JSONArray", "/messages")
    for key in ("key_names", "bookmark_names"):
        if key in body:
            _expect(body[key], "JSONArray", "/" + key)
            for i, name in enumerate(body[key]):
                _expect(name, "String", "/%s/%d" % (key, i))
    if "table_version" in body:
        _expect(body["table_version"], "Integer", "/table_version")
    messages = body["messages"]
    if len(messages) < 1:
        raise _bad("Request failed validation:#/messages: expected minimum "
                   "item count: 1, found: 0")
    if len(messages) > MAX_MESSAGES:
        raise _bad("Request failed validation:#/messages: expected maximum "
                   "item count: %d, found: %d" % (MAX_MESSAGES,
                                                  len(messages)))
    keys = body.get("key_names", [])
    for i, item in enumerate(messages):
        where = "/messages/%d" % i
        _expect(item, "JSONObject", where)
        action = item.get("action")
        if action == "upsert":
            allowed, required = UPSERT_KEYS, ("data", "sequence")
        elif action == "activate_version":
            allowed, required = ACTIVATE_KEYS, ("sequence",)
        else:
            raise _bad("Request failed validation:#%s/action: %r is not a "
                       "valid enum value" % (where, action))
        for key in item:
            if key not in allowed:
                raise _bad("Request failed validation:#%s: extraneous key "
                           "[%s] is not permitted" % (where, key))
        for key in required:
            if key not in item:
                raise _bad("Request failed validation:#%s: required key "
                           "[%s] not found" % (where, key))
        _expect(item["sequence"], "Integer", where + "/sequence")
        if item["sequence"] > MAX_SEQUENCE:
            raise _bad("Request failed validation:#: sequence can not be "
                       "above %d" % MAX_SEQUENCE)
        if action == "upsert":
            _expect(item["data"], "JSONObject", where + "/data")
            if "time_extracted" in item:
                _expect(item["time_extracted"], "String",
                        where + "/time_extracted")
            for key in keys:
                if key not in item["data"]:
                    raise _bad("Record is missing key property %s" % key)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "StitchStandIn/1.0"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        if self.path.split("?")[0] == "/v2/import/status":
            self._reply(200, {"name": "stitch-stand-in", "version": "1",
                              "revision": "0", "status": "OK",
                              "reason": None})
        else:
            self._reply(404, {"error": "Not Found"})

    def do_POST(self):
        self.owner._handle(self)

    def _read_body(self):
        length = self.headers.get("Content-Length")
        if length is not None:
            return self.rfile.read(int(length))
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n",
                                                        b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return None

    def _client_gone(self):
        """Has the client closed its end while we were waiting?"""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _reply(self, status, body=None, text=None, headers=()):
        if text is not None:
            payload = text.encode("utf-8")
            ctype = "text/plain; charset=utf-8"
        else:
            payload = json.dumps(body).encode("utf-8")
            ctype = "application/json"
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
            return True
        except OSError:
            self.close_connection = True
            return False


class StitchServer:
    """The stand-in.

    `requests` lists every attempt, accepted or not, in the order they
    were finished, as dicts: index (arrival order), path, headers
    (lower-case names), wire_bytes, body (as sent before compression, or
    None), action, status (None when no answer was given), received,
    replied and answered (time.monotonic() when the request arrived, when
    its answer started, when the handler was done), delivered, dropped
    and client_gone.

    `batches` lists the accepted bodies in acceptance order, as dicts:
    path, table_name, body (parsed), raw (the JSON text as bytes),
    wire_bytes, decompressed_bytes, content_encoding and user_agent.

    Both lists are only appended to, under `lock`.
    """

    def __init__(self, token="test-token", max_bytes=MAX_BODY,
                 refuse_gzip=False, delay_all=0.0, hook=None,
                 on_batch=None, host="127.0.0.1", port=0):
        self.token = token
        self.max_bytes = max_bytes
        self.refuse_gzip = refuse_gzip
        self.delay_all = delay_all
        self.hook = hook
        self.on_batch = on_batch
        self.script = queue.Queue()
        self.requests = []
        self.batches = []
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.in_flight = 0
        self.max_in_flight = 0
        self._received = 0
        self._rules = []
        self._address = (host, port)
        self._httpd = None
        self._thread = None

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
                                        name="stitch-stand-in",
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

    def url(self, path="/v2/import/batch"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    # --- fault injection and waiting ----------------------------------

    def push(self, *actions):
        """Queue actions for the next requests, in order."""
        for action in actions:
            self.script.put(action)

    def wait_for(self, predicate, timeout=30.0):
        """Wait until predicate(server) is true; returns whether it is."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
            return True

    def wait_requests(self, n, timeout=30.0, received=True):
        """Wait until n requests have arrived (or, with received=False,
        have been answered)."""
        if received:
            return self.wait_for(lambda s: s._received >= n, timeout)
        return self.wait_for(lambda s: len(s.requests) >= n, timeout)

    # --- views --------------------------------------------------------

    def upserts(self, table=None):
        """Every accepted upsert item, in acceptance order."""
        with self.lock:
            batches = list(self.batches)
        return [m for b in batches
                if table is None or b["table_name"] == table
                for m in b["body"]["messages"] if m["action"] == "upsert"]

    def records(self, table=None):
        return [m["data"] for m in self.upserts(table)]

    # --- request handling ---------------------------------------------

    def on_body(self, text, action, times=1):
        """Take `action` for the next `times` requests whose body (as sent
        before compression) contains `text` (bytes or str)."""
        if isinstance(text, str):
            text = text.encode("utf-8")
        with self.lock:
            self._rules.append([text, action, times])

    def _next_action(self, info):
        try:
            return self.script.get_nowait()
        except queue.Empty:
            pass
        body = info.get("body") or b""
        with self.lock:
            for rule in self._rules:
                if rule[2] > 0 and rule[0] in body:
                    rule[2] -= 1
                    return rule[1]
        if self.hook is not None:
            return self.hook(info)
        return None

    def _handle(self, h):
        started = time.monotonic()
        headers = {k.lower(): v for k, v in h.headers.items()}
        with self.changed:
            self._received += 1
            index = self._received - 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.changed.notify_all()
        entry = {"index": index, "path": h.path, "headers": headers,
                 "wire_bytes": None, "body": None, "action": None,
                 "status": None, "received": started, "replied": None,
                 "answered": None, "delivered": False, "dropped": False,
                 "client_gone": False}
        # Listed at once: the client may see the answer and exit before
        # this thread gets to run again, and a test then reads the list.
        with self.changed:
            self.requests.append(entry)
        try:
            self._serve(h, entry, headers)
        except (OSError, ValueError) as e:
            # The client went away or sent something unreadable.
            h.close_connection = True
            entry["error"] = str(e)
        finally:
            entry["answered"] = time.monotonic()
            with self.changed:
                self.in_flight -= 1
                self.changed.notify_all()

    def _answer(self, h, entry, status, body=None, text=None, headers=()):
        entry["status"] = status
        entry["replied"] = time.monotonic()
        entry["delivered"] = True
        entry["delivered"] = h._reply(status, body, text, headers)

    def _serve(self, h, entry, headers):
        wire = h._read_body()
        if wire is None:
            self._answer(h, entry, 411, {"error": "Length Required"})
            return
        entry["wire_bytes"] = len(wire)
        entry["body"] = self._plain(wire, headers)
        action = self._next_action(dict(entry)) or {}
        entry["action"] = action

        if action.get("drop"):
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            entry["dropped"] = True
            return
        waited = False
        if self.delay_all:
            time.sleep(self.delay_all)
            waited = True
        if action.get("delay"):
            time.sleep(action["delay"])
            waited = True
        if action.get("hold") is not None:
            action["hold"].wait(120)
            waited = True
        if waited and h._client_gone():
            h.close_connection = True
            entry["client_gone"] = True
            return
        if action.get("status"):
            status = action["status"]
            extra = []
            if "retry_after" in action:
                extra.append(("Retry-After", str(action["retry_after"])))
            text = action.get("text")
            body = action.get("body", DEFAULT_BODIES.get(status))
            if status == 413 and body is None and text is None:
                size = len(entry["body"] if entry["body"] is not None
                           else wire)
                body = {"status": "ERROR", "message": "Request rejected: "
                        "request size (%d bytes) exceeds the maximum"
                        % size}
            if status == 415 and body is None and text is None:
                text = "Content-Type must be application/json"
            if body is None and text is None:
                body = {"error": "HTTP %d" % status}
            self._answer(h, entry, status, body, text, extra)
            return

        try:
            batch = self._check(wire, headers)
        except Rejected as r:
            self._answer(h, entry, r.status, r.body, r.text)
            return
        batch["path"] = entry["path"]
        with self.changed:
            self.batches.append(batch)
            self.changed.notify_all()
        if self.on_batch is not None:
            self.on_batch(batch)
        self._answer(h, entry, 201, {"status": "OK",
                                     "message": "Batch Accepted!"})

    @staticmethod
    def _plain(wire, headers):
        """The body as sent before compression, or None if it cannot be
        decompressed."""
        if headers.get("content-encoding", "").strip().lower() != "gzip":
            return wire
        try:
            return gzip.decompress(wire)
        except (OSError, EOFError, zlib.error):
            return None

    def _check(self, wire, headers):
        if headers.get("authorization") != "Bearer %s" % self.token:
            raise Rejected(401, {"message": "Not Authorized"})
        ctype = headers.get("content-type", "")
        if ctype.split(";")[0].strip().lower() != "application/json":
            raise Rejected(415, None,
                           "Content-Type must be application/json")
        encoding = headers.get("content-encoding", "").strip().lower()
        raw = wire
        if encoding == "gzip":
            if self.refuse_gzip:
                raise Rejected(415, None,
                               "Content-Type must be application/json")
            try:
                raw = gzip.decompress(wire)
            except (OSError, EOFError, zlib.error) as e:
                raise _bad("cannot decompress the gzip body: %s" % e)
        elif encoding not in ("", "identity"):
            raise Rejected(415, None,
                           "Content-Type must be application/json")
        if len(raw) > self.max_bytes:
            raise Rejected(413, {"status": "ERROR", "message":
                                 "Request rejected: request size (%d "
                                 "bytes) exceeds the maximum" % len(raw)})
        try:
            body = parse_json(raw)
        except (ValueError, RecursionError) as e:
            raise _bad("Unable to parse JSON: %s" % e)
        validate_batch(body)
        return {"table_name": body["table_name"], "body": body,
                "raw": raw, "wire_bytes": len(wire),
                "decompressed_bytes": len(raw),
                "content_encoding": headers.get("content-encoding"),
                "user_agent": headers.get("user-agent")}


def main(argv=None):
    p = argparse.ArgumentParser(description="Serve a local stand-in for "
                                "the Stitch Import API until SIGTERM.")
    p.add_argument("--token", required=True,
                   help="the bearer token to accept")
    p.add_argument("--port", type=int, default=0,
                   help="port to listen on (default: any free port)")
    p.add_argument("--port-file", help="write the port number here")
    p.add_argument("--log", help="append one JSON line per accepted batch")
    p.add_argument("--max-bytes", type=int, default=MAX_BODY,
                   help="largest body accepted, uncompressed")
    p.add_argument("--refuse-gzip", action="store_true",
                   help="answer 415 to every gzip body")
    p.add_argument("--delay", type=float, default=0.0,
                   help="seconds to wait before answering each request")
    args = p.parse_args(argv)

    log_lock = threading.Lock()

    def log_batch(batch):
        if not args.log:
            return
        line = json.dumps({
            "path": batch["path"],
            "table_name": batch["table_name"],
            "upserts": sum(1 for m in batch["body"]["messages"]
                           if m["action"] == "upsert"),
            "wire_bytes": batch["wire_bytes"],
            "decompressed_bytes": batch["decompressed_bytes"],
        })
        with log_lock, open(args.log, "a") as f:
            f.write(line + "\n")

    server = StitchServer(token=args.token, max_bytes=args.max_bytes,
                          refuse_gzip=args.refuse_gzip,
                          delay_all=args.delay, on_batch=log_batch,
                          port=args.port)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    server.start()
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % server.port)
        os.replace(tmp, args.port_file)
    sys.stderr.write("stitch stand-in listening on %s\n" % server.url(""))
    sys.stderr.flush()
    while not done.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
