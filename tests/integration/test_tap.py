"""Black-box tests of bin/tap-taktile against a local stand-in for
Taktile's decision-history API (tests/taktile_server.py)."""
import collections
import datetime
import decimal
import email.utils
import functools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests"))
from taktile_server import (  # noqa: E402
    API_PATH, Decision, TaktileServer, form_encode, generate, make_decision,
    number_texts, parse_time, skeleton)

PROGRAM = "tap-taktile"
# Distinctive, so that any leak of it into the output is unmistakable.
API_KEY = "tk-SECRET-api-key-7f3a9c51e0d2"
TIMEOUT = 600 if harness.VALGRIND else 60
ENV = {"no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost"}

START = "2023-05-30T14:00:00+00:00"
END = "2023-05-30T15:00:00+00:00"
START_Q = "2023-05-30T14%3A00%3A00%2B00%3A00"
END_Q = "2023-05-30T15%3A00%3A00%2B00%3A00"
T0 = parse_time(START)
T1 = parse_time(END)
RECORD_HEAD = '{"type":"RECORD","stream":"decisions","record":'
STATE_VALUE = {"bookmarks": {"decisions": {"end_time": END}}}

# The fields of a decision in the order the API documents them, with the
# JSON Schema type the SCHEMA message must declare for each.
FIELDS = [
    ("id", ["null", "string"]),
    ("flow", "object"),
    ("entity_id", ["null", "string"]),
    ("is_error", "boolean"),
    ("error", ["null", "object"]),
    ("is_sandbox", "boolean"),
    ("duration_in_milliseconds", ["null", "integer"]),
    ("start_time", ["null", "string"]),
    ("end_time", "string"),
    ("masked_fields", "array"),
    ("request", "object"),
    ("response", None),
    ("node_results", ["null", "object"]),
    ("external_resources", ["null", "array"]),
]

# A decision the way a server might also write one: odd white space
# between tokens, extra and duplicate members, numbers no double can
# hold, escapes of every kind and raw non-ASCII text.
ODD_TEXT = (
    '{ "id" :"odd-0001" ,\r\n\t"flow":{"id":"9c1b7a90-0000-4000-8000-0000000'
    '00001","slug":"edge-cases","version_id":"9c1b7a90-0000-4000-8000-00000'
    '0000002","version_name":"v0"},"entity_id":null,"is_error":false,'
    '"error":null,"is_sandbox":true,"duration_in_milliseconds":0,'
    '"start_time":null,"end_time":"2023-05-30T14:30:00Z",'
    '"masked_fields":[],"request":{"data":{},"metadata":{"version":null,'
    '"entity_id":null}},"response":{"data":{"big":1E400,"small":-2.5e-400,'
    '"hundred":10e1,"plus":1e+2,"zero":0,"ints":[0,-0,18446744073709551616]},'
    '"metadata":{}},\n  "archived_at" : "2023-05-30T14:31:00Z",'
    '"dup":1,"dup":"second","lone":"\\ud800x\\udc00",'
    '"escapes":"\\u0000\\u001F\\b\\f\\r\\n\\t\\"\\\\\\/\\uD834\\uDD1E",'
    '"raw":"\u2028\u2029 \u00a0 \u0416 \u20ac \U0001F680 \uFEFF",'
    '"deep":[[[[[[[[[[{"a":[{"b":[]}]}]]]]]]]]]],'
    '"node_results":null,"external_resources":null }')


_made = {}


def window_decisions(count):
    """`count` decisions spread over the test window, plus four just
    outside or on its edges: one a microsecond before the start, one at
    the end (both must be left out), one a microsecond before the end and
    one far later.  A new list each call; the decisions themselves are
    made once per count."""
    if count not in _made:
        _made[count] = _make_window(count)
    return list(_made[count])


def _make_window(count, first=0):
    us = datetime.timedelta(microseconds=1)
    out = generate(count, T0, 3600.0, first=first)
    out.append(make_decision(10 ** 6 + 1, T0 - us))
    out.append(make_decision(10 ** 6 + 2, T1))
    out.append(make_decision(10 ** 6 + 3, T1 - us))
    out.append(make_decision(10 ** 6 + 4, T1 + datetime.timedelta(days=1)))
    return out


def first_query(nr="False", er="False", start=START_Q, end=END_Q):
    return (API_PATH + "?limit=1000&include_external_resources=%s"
            "&include_node_results=%s&order=asc&start_time=%s&end_time=%s"
            % (er, nr, start, end))


def free_port():
    """A local port with nothing listening on it."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def parse_line(line):
    return json.loads(line, parse_float=decimal.Decimal)


def faithful_form(text):
    """What a faithful copy of a JSON text keeps: its text outside
    strings byte for byte once white space is gone (so every number's
    text), and its value with exact decimals, key order and duplicate
    keys (objects as lists of pairs)."""
    return (skeleton(text),
            json.loads(text, parse_float=decimal.Decimal,
                       object_pairs_hook=list))


expected_form = functools.lru_cache(maxsize=None)(faithful_form)


class Result:
    def __init__(self, rc, out, err):
        self.rc = rc
        self.out = out
        self.err = err.decode("utf-8", "replace")
        # Lines end at "\n" only; str.splitlines would also cut at
        # U+2028 and friends, which may appear raw inside a string.
        self.lines = out.decode("utf-8").split("\n")
        if self.lines[-1] == "":
            self.lines.pop()
        # Every line must be one JSON object (checked by assertSinger).
        self.messages = []
        self.bad_lines = []
        for i, line in enumerate(self.lines):
            try:
                self.messages.append(parse_line(line))
            except ValueError as e:
                self.bad_lines.append((i, str(e), line[:200]))

    def of_type(self, kind):
        return [m for m in self.messages if m.get("type") == kind]

    def record_lines(self):
        return [x for x in self.lines if x.startswith(RECORD_HEAD)]

    def critical(self):
        return [x for x in self.err.splitlines() if x.startswith("CRITICAL")]

    def warnings(self):
        return [x for x in self.err.splitlines() if x.startswith("WARNING")]

    def __repr__(self):
        out = self.out.decode("utf-8", "replace")
        if len(out) > 3000:
            out = out[:1500] + "\n...\n" + out[-1500:]
        return "exit %s\n--- stdout\n%s\n--- stderr\n%s" % (
            self.rc, out, self.err[-4000:])


class TapCase(unittest.TestCase):
    """One stand-in server and one temporary directory per test."""

    decisions = 30

    def setUp(self):
        self.tmp = harness.TempDir()
        self.addCleanup(self.tmp.cleanup)
        self.server = self.new_server(window_decisions(self.decisions))

    def new_server(self, decisions, **options):
        options.setdefault("api_key", API_KEY)
        server = TaktileServer(decisions=decisions, **options).start()
        self.addCleanup(server.stop)
        return server

    def config(self, name="tap.json", server=None, **changes):
        """Write a tap config for `server`; a change to None drops the
        key."""
        server = server or self.server
        cfg = {
            "base_url": server.base_url,
            "api_key": API_KEY,
            "start_time": START,
            "end_time": END,
            "include_node_results": False,
            "include_external_resources": False,
            "retry_base_seconds": 0.05,
            "connect_timeout": 10,
            "request_timeout": 120 if harness.VALGRIND else 30,
        }
        for key, value in changes.items():
            if value is None:
                cfg.pop(key, None)
            else:
                cfg[key] = value
        return harness.write_json(self.tmp.path, name, cfg)

    def path(self, name):
        return os.path.join(self.tmp.path, name)

    def check_secret(self, out, err):
        self.assertNotIn(API_KEY.encode(), out, "API key on stdout")
        self.assertNotIn(API_KEY, err, "API key on stderr")

    def run_raw(self, args):
        proc = harness.run(PROGRAM, args, timeout=TIMEOUT, env=ENV)
        res = Result(proc.returncode, proc.stdout, proc.stderr)
        self.check_secret(proc.stdout, res.err)
        if harness.VALGRIND:
            self.assertNotEqual(res.rc, 99, "valgrind found an error:\n%r"
                                % res)
        return res

    def run_tap(self, args=(), config=None, **changes):
        if config is None:
            config = self.config(**changes)
        return self.run_raw(["-c", config] + list(args))

    # --- assertions ---------------------------------------------------

    def assertExit(self, res, status):
        self.assertEqual(res.rc, status, res)

    def assertSinger(self, res):
        """Every line of stdout is a Singer message: one JSON object with
        a known type; the SCHEMA, if any, comes before every RECORD."""
        self.assertEqual(res.bad_lines, [], res)
        self.assertTrue(res.out == b"" or res.out.endswith(b"\n"), res)
        seen_schema = False
        for m in res.messages:
            self.assertIsInstance(m, dict)
            self.assertIn(m.get("type"), ("SCHEMA", "RECORD", "STATE"))
            if m["type"] == "SCHEMA":
                seen_schema = True
            if m["type"] == "RECORD":
                self.assertTrue(seen_schema, "RECORD before SCHEMA")
                self.assertEqual(m["stream"], "decisions")

    def assertComplete(self, res, server=None, start=START, end=END,
                       nr=False, er=False):
        """A successful run: SCHEMA first, then every decision of the
        window once, in the order served, each byte for byte the API's
        text without its white space, then one STATE, last."""
        server = server or self.server
        self.assertExit(res, 0)
        self.assertSinger(res)
        self.assertEqual(res.critical(), [], res)
        self.assertEqual(res.messages[0]["type"], "SCHEMA", res)
        self.assertEqual(res.messages[-1], {
            "type": "STATE", "value": {"bookmarks": {"decisions": {
                "end_time": end}}}}, res)
        self.assertEqual(len(res.of_type("SCHEMA")), 1)
        self.assertEqual(len(res.of_type("STATE")), 1)
        expected = [d.compact_text(nr, er)
                    for d in server.window(start, end)]
        records = res.record_lines()
        self.assertEqual(len(res.lines), len(expected) + 2, res)
        self.assertEqual(len(records), len(expected))
        for i, (line, text) in enumerate(zip(records, expected)):
            if line == RECORD_HEAD + text + "}":
                continue
            # Escapes may be written differently (say \u00e9 as UTF-8);
            # nothing else may change.
            self.assertTrue(line.startswith(RECORD_HEAD) and
                            line.endswith("}"), line[:200])
            got = line[len(RECORD_HEAD):-1]
            want_skel, want_value = expected_form(text)
            got_skel, got_value = faithful_form(got)
            self.assertEqual(number_texts(got), number_texts(text),
                             "record %d: number text changed" % i)
            self.assertEqual(got_skel, want_skel, "record %d: text outside "
                             "strings changed" % i)
            self.assertEqual(got_value, want_value, "record %d differs in "
                             "meaning or key order" % i)
        ids = collections.Counter(m["record"]["id"]
                                  for m in res.of_type("RECORD"))
        self.assertEqual([k for k, n in ids.items() if n > 1], [],
                         "decisions emitted twice")

    def assertFatal(self, res, *words):
        """Exit 1 with a CRITICAL line holding every one of `words`, no
        STATE, and whatever was written valid Singer."""
        self.assertExit(res, 1)
        self.assertSinger(res)
        self.assertEqual(res.of_type("STATE"), [], res)
        crit = res.critical()
        self.assertTrue(crit, res)
        for w in words:
            self.assertTrue(any(w in line for line in crit),
                            "%r not in CRITICAL lines %r" % (w, crit))

    def page_paths(self, server=None):
        server = server or self.server
        with server.lock:
            return [r["path"] for r in server.requests]


class QueryTest(TapCase):

    def test_first_page_query_is_exact(self):
        res = self.run_tap()
        self.assertComplete(res)
        self.assertEqual(self.page_paths(), [first_query()])
        req = self.server.requests[0]
        self.assertEqual(req["method"], "GET")
        self.assertEqual(req["headers"].get("x-api-key"), API_KEY)
        self.assertEqual(req["status"], 200)

    def test_later_pages_repeat_the_query_and_add_the_cursor(self):
        server = self.new_server(window_decisions(2100))
        res = self.run_tap(config=self.config(server=server))
        self.assertComplete(res, server)
        reqs = server.page_requests()
        self.assertEqual([r["count"] for r in reqs], [1000, 1000, 101])
        self.assertEqual(len(server.requests), 3)
        base = first_query()
        self.assertEqual(reqs[0]["path"], base)
        for prev, req in zip(reqs, reqs[1:]):
            # The cursors hold '+', '/' and '=', so each must be escaped.
            self.assertRegex(prev["cursor"], r"[+/=]")
            self.assertEqual(req["path"], base + "&after=" +
                             form_encode(prev["cursor"]))
        for req in reqs:
            self.assertEqual(req["headers"].get("x-api-key"), API_KEY)

    def test_cursor_is_decoded_and_form_encoded(self):
        server = self.new_server(window_decisions(1500))
        # Sent as JSON with escapes; must go back decoded, then encoded
        # with nothing safe, a space as '+' and UTF-8 bytes as %XX.
        server.push({"cursor": "a b&c=d%e/\u00e9+~?#"})
        res = self.run_tap(config=self.config(server=server))
        self.assertComplete(res, server)
        paths = self.page_paths(server)
        self.assertEqual(len(paths), 2)
        self.assertEqual(paths[1], first_query() +
                         "&after=a+b%26c%3Dd%25e%2F%C3%A9%2B~%3F%23")

    def test_one_connection_serves_every_page(self):
        server = self.new_server(window_decisions(2100))
        res = self.run_tap(config=self.config(server=server))
        self.assertComplete(res, server)
        clients = {r["client"] for r in server.requests}
        self.assertEqual(len(clients), 1, clients)

    def test_base_url_with_trailing_slash(self):
        for url in (self.server.base_url + "/", self.server.base_url + "//",
                    self.server.base_url):
            with self.subTest(base_url=url):
                before = len(self.server.requests)
                res = self.run_tap(base_url=url)
                self.assertComplete(res)
                self.assertEqual(self.page_paths()[before:], [first_query()])

    def test_include_flags_forwarded(self):
        cases = [(True, True, "True", "True"),
                 (True, False, "True", "False"),
                 (False, True, "False", "True"),
                 (False, False, "False", "False")]
        for nr, er, nr_q, er_q in cases:
            with self.subTest(include_node_results=nr,
                              include_external_resources=er):
                before = len(self.server.requests)
                res = self.run_tap(include_node_results=nr,
                                   include_external_resources=er)
                self.assertComplete(res, nr=nr, er=er)
                self.assertEqual(self.page_paths()[before:],
                                 [first_query(nr_q, er_q)])
                rec = res.of_type("RECORD")[0]["record"]
                self.assertEqual(rec["node_results"] is not None, nr)
                self.assertEqual(rec["external_resources"] is not None, er)

    def test_flags_default_to_false(self):
        res = self.run_tap(include_node_results=None,
                           include_external_resources=None)
        self.assertComplete(res)
        self.assertEqual(self.page_paths(), [first_query()])

    def test_offsets_are_converted_to_utc(self):
        res = self.run_tap(start_time="2023-05-30T16:00:00+02:00",
                           end_time="2023-05-30T10:00:00-05:00")
        self.assertComplete(res)
        self.assertEqual(self.page_paths(), [first_query()])

    def test_z_and_half_hour_offsets(self):
        res = self.run_tap(start_time="2023-05-30T19:30:00+05:30",
                           end_time="2023-05-30T15:00:00Z")
        self.assertComplete(res)
        self.assertEqual(self.page_paths(), [first_query()])

    def test_naive_times_are_read_as_utc(self):
        res = self.run_tap(start_time="2023-05-30T14:00:00",
                           end_time="2023-05-30T15:00:00")
        self.assertComplete(res)
        self.assertEqual(self.page_paths(), [first_query()])

    def test_offset_crossing_midnight(self):
        res = self.run_tap(start_time="2023-05-31T00:00:00+10:00",
                           end_time="2023-05-30T11:00:00-04:00")
        self.assertComplete(res)
        self.assertEqual(self.page_paths(), [first_query()])

    def test_fractional_seconds_sent_with_six_digits(self):
        start = "2023-05-30T14:10:00.25+00:00"
        end = "2023-05-30T14:20:00.000001Z"
        res = self.run_tap(start_time=start, end_time=end)
        start_utc = "2023-05-30T14:10:00.250000+00:00"
        end_utc = "2023-05-30T14:20:00.000001+00:00"
        self.assertComplete(res, start=start_utc, end=end_utc)
        self.assertEqual(self.page_paths(), [first_query(
            start=form_encode(start_utc), end=form_encode(end_utc))])
        self.assertGreater(len(res.record_lines()), 0)


class RecordsTest(TapCase):

    def test_many_pages_every_decision_once_and_unchanged(self):
        decisions = window_decisions(2500)
        decisions.append(Decision.fixed(ODD_TEXT,
                                        parse_time("2023-05-30T14:30:00Z")))
        server = self.new_server(decisions)
        res = self.run_tap(config=self.config(server=server,
                                              include_node_results=True,
                                              include_external_resources=True))
        self.assertComplete(res, server, nr=True, er=True)
        # 2,500 spread over the window, one just before its end, one odd.
        self.assertEqual(len(res.record_lines()), 2502)
        self.assertEqual([r["count"] for r in server.page_requests()],
                         [1000, 1000, 502])
        # The window's edges: start included, end excluded.
        ids = {m["record"]["id"] for m in res.of_type("RECORD")}
        by_end = {d.end: d.id for d in decisions if d.id}
        self.assertIn(by_end[T0], ids)
        self.assertNotIn(by_end[T1], ids)
        self.assertIn(by_end[T1 - datetime.timedelta(microseconds=1)], ids)
        self.assertNotIn(by_end[T0 - datetime.timedelta(microseconds=1)], ids)
        self.assertIn("odd-0001", ids)

    def test_number_text_and_strings_kept(self):
        self.server.decisions.append(Decision.fixed(
            ODD_TEXT, parse_time("2023-05-30T14:30:00Z")))
        res = self.run_tap(include_node_results=True,
                           include_external_resources=True)
        self.assertComplete(res, nr=True, er=True)
        text = res.out.decode("utf-8")
        for literal in ("0.1000000000000000055511151231257827", "1e-7",
                        ":1.50,", "123456789012345678901234567890",
                        "-9223372036854775809", "6.02214076E+23", "-0.0",
                        "1.0E-3", "1.50e3", "1E400", "-2.5e-400", "10e1",
                        "1e+2", "-0,", "18446744073709551616",
                        '"dup":1,"dup":"second"',
                        "\\u0000\\u001F\\b\\f\\r\\n\\t\\\"\\\\\\/",
                        "Zo\u00eb \u00dcnal-\u5c71\u7530 \U0001F600",
                        "\u2028\u2029 \u00a0 \u0416 \u20ac \U0001F680 \uFEFF",
                        "  two  spaces\\tand a tab  ",
                        '"archived_at":"2023-05-30T14:31:00Z"',
                        '[[[[[[[[[[{"a":[{"b":[]}]}]]]]]]]]]]'):
            self.assertIn(literal, text)
        odd = [m["record"] for m in res.of_type("RECORD")
               if m["record"]["id"] == "odd-0001"]
        self.assertEqual(len(odd), 1)
        self.assertEqual(odd[0]["escapes"],
                         "\x00\x1f\b\f\r\n\t\"\\/\U0001D11E")
        self.assertEqual(odd[0]["lone"], "\ud800x\udc00")

    def test_schema_first_with_keys_and_fields(self):
        res = self.run_tap()
        self.assertComplete(res)
        schema = res.messages[0]
        self.assertEqual(list(schema)[:3], ["type", "stream", "schema"])
        self.assertEqual(schema["stream"], "decisions")
        self.assertEqual(schema["key_properties"], ["id"])
        self.assertEqual(schema["bookmark_properties"], ["end_time"])
        props = schema["schema"]["properties"]
        self.assertEqual(list(props), [f for f, _ in FIELDS])
        for field, kind in FIELDS:
            if kind is not None:
                self.assertEqual(props[field]["type"], kind, field)
        self.assertEqual(len(props["response"]["anyOf"]), 2)
        self.assertEqual(list(props["flow"]["properties"]),
                         ["id", "slug", "version_id", "version_name"])
        self.assertEqual(list(props["node_results"]["properties"]),
                         ["time_ordered", "nodes"])
        self.assertEqual(props["masked_fields"]["items"]["type"], "string")
        self.assertEqual(props["end_time"].get("format"), "date-time")
        self.assertEqual(props["id"].get("format"), "uuid")
        self.assertEqual(props["start_time"].get("format"), "date-time")
        flow = props["flow"]["properties"]
        for name, kind, fmt in (("id", "string", "uuid"),
                                ("slug", "string", None),
                                ("version_id", "string", "uuid"),
                                ("version_name", "string", None)):
            self.assertEqual(flow[name]["type"], kind, name)
            self.assertEqual(flow[name].get("format"), fmt, name)
        req = props["request"]["properties"]
        self.assertEqual(req["data"]["type"], "object")
        self.assertEqual(req["metadata"]["type"], "object")
        self.assertEqual({k: v["type"] for k, v in
                          req["metadata"]["properties"].items()},
                         {"version": ["null", "string"],
                          "entity_id": ["null", "string"]})
        branches = props["response"]["anyOf"]
        self.assertEqual([b.get("required") for b in branches],
                         [["detail"], ["data", "metadata"]])
        for b in branches:
            meta = b["properties"]["metadata"]["properties"]
            self.assertEqual(list(meta), ["version", "entity_id",
                                          "timestamp", "decision_id"])
            self.assertEqual(meta["timestamp"].get("format"), "date-time")
            self.assertEqual(meta["decision_id"].get("format"), "uuid")
        nodes = props["node_results"]["properties"]
        items = nodes["time_ordered"]["items"]
        self.assertEqual((items["type"], items.get("format")),
                         ("string", "uuid"))
        node = nodes["nodes"]["additionalProperties"]
        self.assertEqual(node.get("required"), ["id", "data", "tracing"])
        self.assertEqual(list(node["properties"]),
                         ["id", "title", "data", "tracing"])
        self.assertEqual(node["properties"]["tracing"]["properties"]
                         ["error"]["type"], "boolean")
        ext = props["external_resources"]["items"]["properties"]
        self.assertEqual({k: v["type"] for k, v in ext.items()}, {
            "id": ["null", "string"], "provider": "string",
            "resource": "string", "node_id": "string",
            "response": "object", "created_at": ["null", "string"],
            "from_cache": ["null", "boolean"]})
        self.assertEqual(list(ext), ["id", "provider", "resource",
                                     "node_id", "response", "created_at",
                                     "from_cache"])

    def test_empty_window_gives_schema_and_state(self):
        res = self.run_tap(start_time="2023-05-29T00:00:00Z",
                           end_time="2023-05-29T01:00:00Z")
        self.assertComplete(res, start="2023-05-29T00:00:00+00:00",
                            end="2023-05-29T01:00:00+00:00")
        self.assertEqual(len(res.lines), 2)
        self.assertEqual(len(self.server.requests), 1)

    def test_start_equal_to_end_is_an_empty_window(self):
        res = self.run_tap(start_time=END, end_time=END)
        self.assertComplete(res, start=END, end=END)
        self.assertEqual(res.record_lines(), [])

    def test_exactly_two_full_pages(self):
        server = self.new_server(generate(2000, T0))
        res = self.run_tap(config=self.config(server=server))
        self.assertComplete(res, server)
        self.assertEqual([r["count"] for r in server.page_requests()],
                         [1000, 1000])

    def test_gzip_compressed_pages(self):
        server = self.new_server(window_decisions(1200), gzip_pages=True)
        res = self.run_tap(config=self.config(server=server))
        self.assertComplete(res, server)
        self.assertIn("gzip", server.requests[0]["headers"].get(
            "accept-encoding", ""))

    def test_messages_are_one_line_each(self):
        res = self.run_tap(include_node_results=True)
        self.assertComplete(res, nr=True)
        self.assertNotIn(b"\r", res.out)
        for line in res.lines:
            self.assertFalse(line.startswith(" ") or line.endswith(" "))


class StateTest(TapCase):

    def write_state(self, value, name="state.json"):
        return harness.write_json(self.tmp.path, name, value)

    def test_resume_from_state_bookmark(self):
        state = self.write_state({"bookmarks": {"decisions": {
            "end_time": "2023-05-30T14:00:00+00:00"}}})
        res = self.run_tap(["--state", state], start_time=None)
        self.assertComplete(res)
        self.assertEqual(self.page_paths(), [first_query()])

    def test_resume_from_state_with_offset_and_short_option(self):
        state = self.write_state({"bookmarks": {"decisions": {
            "end_time": "2023-05-30T16:00:00+02:00"}}})
        res = self.run_tap(["-s", state], start_time=None)
        self.assertComplete(res)
        self.assertEqual(self.page_paths(), [first_query()])

    def test_state_of_one_run_starts_the_next(self):
        first = self.run_tap(end_time="2023-05-30T14:30:00+00:00")
        self.assertComplete(first, end="2023-05-30T14:30:00+00:00")
        state = harness.write_json(self.tmp.path, "state.json",
                                   first.messages[-1]["value"])
        second = self.run_tap(["--state", state], start_time=None)
        self.assertComplete(second, start="2023-05-30T14:30:00+00:00")
        ids1 = [m["record"]["id"] for m in first.of_type("RECORD")]
        ids2 = [m["record"]["id"] for m in second.of_type("RECORD")]
        self.assertEqual(set(ids1) & set(ids2), set())
        self.assertEqual(ids1 + ids2, [
            json.loads(t)["id"] for t in
            self.server.expected_texts(START, END)])

    def test_config_start_time_wins_over_state(self):
        state = self.write_state({"bookmarks": {"decisions": {
            "end_time": "2023-05-30T14:45:00+00:00"}}})
        res = self.run_tap(["--state", state])
        self.assertComplete(res)
        self.assertEqual(self.page_paths(), [first_query()])

    def test_no_start_time_and_no_state_is_a_config_error(self):
        cfg = self.config(start_time=None)
        res = self.run_raw(["-c", cfg])
        self.check_config_line(res, "start_time", cfg)

    def test_state_without_bookmark_is_a_config_error(self):
        state = self.write_state({"bookmarks": {}})
        cfg = self.config(start_time=None)
        res = self.run_raw(["-c", cfg, "--state", state])
        self.assertExit(res, 2)
        self.assertIn("start_time", res.err)
        self.assertEqual(res.out, b"")
        self.assertEqual(self.server.requests, [])

    def test_state_with_bad_bookmark_fails_without_requests(self):
        state = self.write_state({"bookmarks": {"decisions": {
            "end_time": "yesterday"}}})
        res = self.run_tap(["--state", state], start_time=None)
        self.assertExit(res, 2)
        self.assertIn(state, res.err)
        self.assertEqual(res.out, b"")
        self.assertEqual(self.server.requests, [])

    def check_config_line(self, res, key, cfg):
        self.assertExit(res, 2)
        lines = res.err.strip().splitlines()
        self.assertEqual(len(lines), 1, res)
        self.assertIn(key, lines[0])
        self.assertIn(cfg, lines[0])
        self.assertEqual(res.out, b"")
        self.assertEqual(self.server.requests, [])


class CatalogTest(TapCase):

    def discover(self):
        res = self.run_raw(["--discover"])
        self.assertExit(res, 0)
        self.assertEqual(len(res.lines), 1)
        return res.messages[0]

    def write_catalog(self, selected, name="catalog.json"):
        catalog = self.discover()
        stream = catalog["streams"][0]
        for m in stream["metadata"]:
            if m["breadcrumb"] == []:
                m["metadata"]["selected"] = selected
        return harness.write_json(self.tmp.path, name, catalog)

    def test_discover_prints_one_stream(self):
        catalog = self.discover()
        self.assertEqual(len(catalog["streams"]), 1)
        stream = catalog["streams"][0]
        self.assertEqual(stream["tap_stream_id"], "decisions")
        self.assertEqual(stream["stream"], "decisions")
        self.assertEqual(stream["key_properties"], ["id"])
        self.assertEqual(list(stream["schema"]["properties"]),
                         [f for f, _ in FIELDS])
        crumbs = [m for m in stream["metadata"] if m["breadcrumb"] == []]
        self.assertEqual(len(crumbs), 1)
        self.assertEqual(self.server.requests, [])

    def test_discover_with_config_makes_no_request(self):
        res = self.run_tap(["--discover"])
        self.assertExit(res, 0)
        self.assertEqual(res.messages[0]["streams"][0]["tap_stream_id"],
                         "decisions")
        self.assertEqual(self.server.requests, [])

    def test_deselected_stream_writes_only_the_state(self):
        res = self.run_tap(["--catalog", self.write_catalog(False)])
        self.assertExit(res, 0)
        self.assertSinger(res)
        self.assertEqual(res.messages, [{"type": "STATE",
                                         "value": STATE_VALUE}], res)

    def test_selected_stream_in_catalog(self):
        res = self.run_tap(["--catalog", self.write_catalog(True)])
        self.assertComplete(res)

    def test_selected_stream_in_properties(self):
        for opt in ("-p", "--properties"):
            with self.subTest(option=opt):
                res = self.run_tap([opt, self.write_catalog(True)])
                self.assertComplete(res)

    def test_deselected_stream_in_properties(self):
        res = self.run_tap(["-p", self.write_catalog(False)])
        self.assertExit(res, 0)
        self.assertEqual(res.messages, [{"type": "STATE",
                                         "value": STATE_VALUE}], res)


class RetryTest(TapCase):

    decisions = 1000     # two pages: 1,000 and the one just before the end

    def check_recovers(self, *actions, requests=None, **changes):
        self.server.push(*actions)
        res = self.run_tap(**changes)
        self.assertComplete(res)
        self.assertTrue(res.warnings(), res)
        if requests is not None:
            self.assertEqual(len(self.server.requests), requests)
        return res

    def test_500_then_success(self):
        self.check_recovers({"status": 500}, requests=3)
        paths = self.page_paths()
        self.assertEqual(paths[0], paths[1])

    def test_503_twice_on_second_page(self):
        self.check_recovers({}, {"status": 503}, {"status": 503},
                            requests=4)
        paths = self.page_paths()
        self.assertIn("&after=", paths[1])
        self.assertEqual(paths[1], paths[2])
        self.assertEqual(paths[2], paths[3])

    def test_429_honours_retry_after(self):
        res = self.check_recovers({"status": 429, "retry_after": "1"},
                                  requests=3)
        reqs = self.server.requests
        self.assertGreaterEqual(reqs[1]["received"] - reqs[0]["received"],
                                0.9)
        self.assertTrue(any("429" in w for w in res.warnings()), res)

    def test_503_with_retry_after_date(self):
        # The date is made when the answer is, two seconds ahead.
        def when():
            return email.utils.formatdate(time.time() + 2, usegmt=True)
        self.check_recovers({"status": 503, "retry_after": when},
                            requests=3)
        reqs = self.server.requests
        self.assertGreaterEqual(reqs[1]["received"] - reqs[0]["received"],
                                0.9)

    def test_dropped_connection(self):
        self.check_recovers({"drop": True})

    def test_dropped_connection_on_second_page(self):
        self.check_recovers({}, {"drop": True}, {"drop": True})

    def test_truncated_body(self):
        self.check_recovers({"truncated": True}, requests=3)

    def test_truncated_body_on_second_page(self):
        self.check_recovers({}, {"truncated": True})

    def test_garbled_body(self):
        res = self.check_recovers({"garbled": True}, requests=3)
        self.assertTrue(any("not JSON" in w for w in res.warnings()), res)

    def test_cut_json_with_right_length(self):
        self.check_recovers({"body": '{"decisions": [{"id": "x"'},
                            requests=3)

    def test_empty_200_body(self):
        self.check_recovers({"body": ""}, requests=3)

    def test_mixed_faults_within_max_attempts(self):
        self.check_recovers({"status": 500}, {"drop": True},
                            {"garbled": True}, {"status": 502})

    def test_slow_answer_times_out_and_is_retried(self):
        self.check_recovers({"delay": 3.0}, request_timeout=1)

    def test_gives_up_after_max_attempts(self):
        self.server.push(*[{"status": 503}] * 3)
        res = self.run_tap(max_attempts=3)
        self.assertFatal(res, "503", "Service Unavailable")
        self.assertEqual(len(self.server.requests), 3)
        self.assertEqual(res.messages[0]["type"], "SCHEMA")
        self.assertEqual(len(res.messages), 1)

    def test_gives_up_on_second_page_keeping_first_page(self):
        self.server.push({}, *[{"status": 500}] * 2)
        res = self.run_tap(max_attempts=2)
        self.assertFatal(res, "500")
        self.assertEqual(len(res.record_lines()), 1000)
        self.assertEqual(len(self.server.requests), 3)

    def test_default_is_five_attempts(self):
        self.server.push(*[{"status": 500}] * 5)
        res = self.run_tap(max_attempts=None)
        self.assertFatal(res, "500")
        self.assertEqual(len(self.server.requests), 5)


class FatalTest(TapCase):

    def test_client_errors_fail_at_once(self):
        cases = [
            (401, {"detail": "Invalid API key"}, "Invalid API key"),
            (403, {"detail": "Key lacks history:read"},
             "Key lacks history:read"),
            (404, {"detail": "Workspace not found"}, "Workspace not found"),
            (422, {"detail": [{"loc": ["query", "start_time"],
                               "msg": "invalid datetime format",
                               "type": "value_error.datetime"}]},
             "invalid datetime format"),
        ]
        for status, body, detail in cases:
            with self.subTest(status=status):
                before = len(self.server.requests)
                self.server.push({"status": status,
                                  "body": json.dumps(body)})
                res = self.run_tap()
                self.assertFatal(res, str(status), detail)
                self.assertEqual(len(self.server.requests) - before, 1)
                self.assertEqual(res.record_lines(), [])

    def test_default_bodies_name_the_detail(self):
        for status in (401, 403, 404, 422):
            with self.subTest(status=status):
                before = len(self.server.requests)
                self.server.push({"status": status})
                res = self.run_tap()
                self.assertFatal(res, str(status))
                self.assertEqual(len(self.server.requests) - before, 1)

    def test_wrong_api_key_is_refused_once(self):
        server = self.new_server(window_decisions(5),
                                 api_key="another-key")
        res = self.run_tap(config=self.config(server=server))
        self.assertFatal(res, "401", "Invalid API key")
        self.assertEqual(len(server.requests), 1)
        self.assertEqual(server.requests[0]["headers"]["x-api-key"],
                         API_KEY)

    def test_wrong_path_is_a_404(self):
        res = self.run_tap(base_url=self.server.base_url + "/v0")
        self.assertFatal(res, "404", "Not Found")
        self.assertEqual(len(self.server.requests), 1)

    def test_client_error_on_second_page_keeps_output_valid(self):
        server = self.new_server(window_decisions(1500))
        server.push({}, {"status": 403})
        res = self.run_tap(config=self.config(server=server))
        self.assertFatal(res, "403")
        self.assertEqual(len(res.record_lines()), 1000)
        self.assertEqual(len(server.requests), 2)

    def test_page_without_decisions(self):
        self.server.push({"body": '{"pagination": {"has_next": false, '
                                  '"next_cursor": null}}'})
        res = self.run_tap()
        self.assertFatal(res, "decisions")
        self.assertEqual(len(self.server.requests), 1)

    def test_page_without_pagination(self):
        self.server.push({"body": '{"decisions": []}'})
        res = self.run_tap()
        self.assertFatal(res, "pagination")
        self.assertEqual(len(self.server.requests), 1)

    def test_json_that_is_not_an_object(self):
        for body in ('[]', '"decisions"', 'null', '{"decisions": {}, '
                     '"pagination": {"has_next": false}}'):
            with self.subTest(body=body):
                before = len(self.server.requests)
                self.server.push({"body": body})
                res = self.run_tap()
                self.assertFatal(res)
                self.assertEqual(len(self.server.requests) - before, 1)

    def test_has_next_without_cursor(self):
        for cursor in ("null", '""', "42"):
            with self.subTest(next_cursor=cursor):
                before = len(self.server.requests)
                self.server.push({"body": '{"decisions": [], "pagination": '
                                  '{"has_next": true, "next_cursor": %s}}'
                                  % cursor})
                res = self.run_tap()
                self.assertFatal(res, "next_cursor")
                self.assertEqual(len(self.server.requests) - before, 1)

    def test_cursor_that_does_not_move_is_fatal(self):
        page = ('{"decisions": [], "pagination": {"has_next": true, '
                '"next_cursor": "same"}}')
        self.server.push({"body": page}, {"body": page})
        res = self.run_tap()
        self.assertFatal(res, "cursor")
        self.assertEqual(len(self.server.requests), 2)
        self.assertNotIn("STATE", [m["type"] for m in res.messages])

    def test_has_next_missing(self):
        self.server.push({"body": '{"decisions": [], "pagination": {}}'})
        res = self.run_tap()
        self.assertFatal(res, "has_next")

    def test_bad_second_page_keeps_first_page_output_valid(self):
        server = self.new_server(window_decisions(1500))
        server.push({}, {"body": '{"decisions": [], "pagination": '
                         '{"has_next": true, "next_cursor": null}}'})
        res = self.run_tap(config=self.config(server=server))
        self.assertFatal(res, "next_cursor")
        self.assertEqual(len(res.record_lines()), 1000)
        self.assertEqual(res.messages[0]["type"], "SCHEMA")
        self.assertEqual(len(server.requests), 2)

    def test_stdout_write_failure_is_fatal(self):
        with open("/dev/full", "wb") as full:
            proc = subprocess.run(
                harness.wrap([harness.program(PROGRAM), "-c",
                              self.config()]),
                stdout=full, stderr=subprocess.PIPE, timeout=TIMEOUT,
                env=dict(os.environ, **ENV))
        err = proc.stderr.decode("utf-8", "replace")
        self.check_secret(b"", err)
        self.assertEqual(proc.returncode, 1, err)
        self.assertTrue(any(x.startswith("CRITICAL") and "stdout" in x
                            for x in err.splitlines()), err)

    def test_refused_connection_is_retried_then_fails(self):
        res = self.run_tap(base_url="http://127.0.0.1:%d" % free_port(),
                           max_attempts=2)
        self.assertFatal(res, "2 attempts")


class ConfigTest(TapCase):

    def check_config_error(self, key, **changes):
        cfg = self.config(**changes)
        res = self.run_raw(["-c", cfg])
        self.assertExit(res, 2)
        lines = res.err.strip().splitlines()
        self.assertEqual(len(lines), 1, res)
        self.assertIn(key, lines[0])
        self.assertIn(cfg, lines[0])
        self.assertEqual(res.out, b"")
        self.assertEqual(self.server.requests, [])

    def test_missing_api_key(self):
        self.check_config_error("api_key", api_key=None)

    def test_empty_api_key(self):
        self.check_config_error("api_key", api_key="")

    def test_missing_base_url(self):
        self.check_config_error("base_url", base_url=None)

    def test_base_url_not_http(self):
        self.check_config_error("base_url", base_url="ftp://example.com")

    def test_missing_end_time(self):
        self.check_config_error("end_time", end_time=None)

    def test_start_time_not_iso(self):
        for value in ("yesterday", "2023-05-30 14h", "2023-13-01T00:00:00",
                      "2023-02-30T00:00:00Z", "2023-05-30T25:00:00Z",
                      "2023-05-30T14:00:00+0x:00"):
            with self.subTest(start_time=value):
                self.check_config_error("start_time", start_time=value)

    def test_end_time_not_iso(self):
        self.check_config_error("end_time", end_time="<end_time>")

    def test_start_time_not_a_string(self):
        self.check_config_error("start_time", start_time=1685455200)

    def test_start_after_end(self):
        self.check_config_error("start_time",
                                start_time="2023-05-30T15:00:00.000001Z")

    def test_start_after_end_once_offsets_applied(self):
        self.check_config_error("start_time",
                                start_time="2023-05-30T14:30:00-01:00")

    def test_include_node_results_as_string(self):
        self.check_config_error("include_node_results",
                                include_node_results="yes")

    def test_include_external_resources_as_number(self):
        self.check_config_error("include_external_resources",
                                include_external_resources=1)

    def test_bad_max_attempts(self):
        self.check_config_error("max_attempts", max_attempts=0)

    def test_config_not_json(self):
        path = self.path("broken.json")
        with open(path, "w") as f:
            f.write('{"base_url": ')
        os.chmod(path, 0o600)
        res = self.run_raw(["-c", path])
        self.assertExit(res, 2)
        self.assertIn(path, res.err)
        self.assertEqual(res.out, b"")

    def test_missing_config_file(self):
        path = self.path("absent.json")
        res = self.run_raw(["-c", path])
        self.assertExit(res, 2)
        self.assertIn(path, res.err)

    def test_no_config_option(self):
        res = self.run_raw([])
        self.assertExit(res, 2)
        self.assertIn("usage", res.err)

    def test_unknown_option(self):
        res = self.run_raw(["-c", self.config(), "--bogus"])
        self.assertExit(res, 2)
        self.assertEqual(self.server.requests, [])

    def test_help_and_version(self):
        for opt in ("-h", "--help"):
            res = self.run_raw([opt])
            self.assertExit(res, 0)
            self.assertIn("usage: tap-taktile", res.out.decode())
            self.assertIn("include_node_results", res.out.decode())
        for opt in ("-V", "--version"):
            res = self.run_raw([opt])
            self.assertExit(res, 0)
            self.assertTrue(res.out.decode().startswith("tap-taktile "))

    def test_unknown_config_key_warns_but_runs(self):
        res = self.run_tap(colour="blue")
        self.assertComplete(res)
        self.assertTrue(any("colour" in w for w in res.warnings()), res)


class SecretTest(TapCase):
    """The key must stay out of every output, whatever happens (each
    run_raw checks both streams); here with verbose logs and failures."""

    def test_verbose_run_keeps_key_out(self):
        res = self.run_tap(["-v"])
        self.assertComplete(res)

    def test_verbose_failures_keep_key_out(self):
        self.server.push({"status": 500}, {"status": 401,
                                           "body": json.dumps({
                                               "detail": "bad key"})})
        res = self.run_tap(["-v"])
        self.assertFatal(res, "401", "bad key")


class PipeTest(TapCase):
    """The tap's output piped into bin/target-stitch, pointed at the
    Stitch stand-in, delivers every decision of the window."""

    TOKEN = "stitch-SECRET-token-99"

    def test_pipe_into_target_delivers_the_window(self):
        from stitch_server import StitchServer, parse_json
        stitch = StitchServer(token=self.TOKEN).start()
        self.addCleanup(stitch.stop)
        server = self.new_server(window_decisions(2500))
        tap_cfg = self.config(server=server, include_node_results=True)
        target_cfg = harness.write_json(self.tmp.path, "target.json", {
            "token": self.TOKEN,
            "client_id": 4242,
            "small_batch_url": stitch.url("/v2/import/batch"),
            "big_batch_url": stitch.url("/v2/import/batch"),
            "batch_size_preferences": {},
            "retry_base_seconds": 0.05,
        })
        env = dict(os.environ, **ENV)
        with tempfile.TemporaryFile() as tap_err, \
                tempfile.TemporaryFile() as target_err:
            tap = subprocess.Popen(
                harness.wrap([harness.program("tap-taktile"), "-c",
                              tap_cfg]),
                stdout=subprocess.PIPE, stderr=tap_err, env=env)
            target = subprocess.Popen(
                harness.wrap([harness.program("target-stitch"), "-c",
                              target_cfg]),
                stdin=tap.stdout, stdout=subprocess.PIPE,
                stderr=target_err, env=env)
            tap.stdout.close()
            try:
                out, _ = target.communicate(timeout=TIMEOUT)
                tap_rc = tap.wait(timeout=TIMEOUT)
            finally:
                for p in (tap, target):
                    if p.poll() is None:
                        p.kill()
                        p.wait()
            tap_err.seek(0)
            target_err.seek(0)
            errs = (tap_err.read().decode("utf-8", "replace"),
                    target_err.read().decode("utf-8", "replace"))
        for err in errs:
            self.assertNotIn(API_KEY, err)
            self.assertNotIn(self.TOKEN, err)
        self.assertNotIn(API_KEY.encode(), out)
        self.assertEqual(tap_rc, 0, errs[0][-3000:])
        self.assertEqual(target.returncode, 0, errs[1][-3000:])
        # The target prints the state once Stitch has everything.
        self.assertEqual([parse_json(x) for x in out.splitlines()],
                         [STATE_VALUE])

        expected = [parse_json(t) for t in server.expected_texts(
            START, END, include_node_results=True)]
        self.assertEqual(len(expected), 2501)
        records = stitch.records("decisions")
        self.assertEqual(len(records), len(expected))
        got = {r["id"]: r for r in records}
        self.assertEqual(len(got), len(records), "a decision came twice")
        for want in expected:
            self.assertEqual(got.get(want["id"]), want)
        raw = b"".join(b["raw"] for b in stitch.batches)
        for literal in (b"0.1000000000000000055511151231257827",
                        b"123456789012345678901234567890"):
            self.assertIn(literal, raw)
        for b in stitch.batches:
            self.assertEqual(b["body"]["key_names"], ["id"])


if __name__ == "__main__":
    unittest.main()
