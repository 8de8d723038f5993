"""The Singer conformance streams (harness.CONFORMANCE/meltano-sdk), each
sent in normal mode to the Stitch stand-in and checked against
expected.tsv: one test method per stream file."""
import csv
import os
import sys
import unittest

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests"))
from stitch_server import StitchServer, parse_json  # noqa: E402

TOKEN = "tok-SECRET-1234"
TIMEOUT = 600 if harness.VALGRIND else 120
ENV = {"no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost"}
STREAMS = os.path.join(harness.CONFORMANCE, "meltano-sdk")
EXPECTED = os.path.join(harness.CONFORMANCE, "expected.tsv")


def load_expected():
    if not os.path.exists(EXPECTED):
        return []
    with open(EXPECTED, newline="", encoding="utf-8") as f:
        return [row for row in csv.DictReader(f, delimiter="\t")
                if row.get("name")]


def is_truthy(value):
    """Whether a state value counts as non-empty (Python truthiness, as
    the reference target judges it)."""
    return bool(value)


class Stream:
    """What a stream file holds, read the way a Singer target must read
    it: records per stream in order, the states, and the first line that
    a target has to refuse (a RECORD before its SCHEMA, or one lacking a
    key property)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        self.records = {}
        self.states = []        # (line number, value)
        self.bad_line = None
        self.bad_record = None
        keys = {}
        for n, line in enumerate(self.data.splitlines(), 1):
            if not line.strip():
                continue
            m = parse_json(line)
            kind = m.get("type")
            if kind == "SCHEMA":
                keys[m["stream"]] = m.get("key_properties") or []
            elif kind == "RECORD":
                stream, rec = m["stream"], m["record"]
                missing = stream not in keys or any(
                    k not in rec for k in keys[stream])
                if missing and self.bad_line is None:
                    self.bad_line, self.bad_record = n, rec
                if self.bad_line is None:
                    self.records.setdefault(stream, []).append(rec)
            elif kind == "STATE" and self.bad_line is None:
                self.states.append((n, m["value"]))

    def record_count(self):
        return sum(len(v) for v in self.records.values())


class ConformanceTest(unittest.TestCase):

    def setUp(self):
        self.tmp = harness.TempDir()
        self.addCleanup(self.tmp.cleanup)
        self.server = StitchServer(token=TOKEN).start()
        self.addCleanup(self.server.stop)

    def run_stream(self, stream):
        cfg = harness.write_json(self.tmp.path, "config.json", {
            "token": TOKEN,
            "client_id": "client-1",
            "small_batch_url": self.server.url("/v2/import/batch"),
            "big_batch_url": self.server.url("/big/v2/import/batch"),
            "batch_size_preferences": {},
            "retry_base_seconds": 0.05,
        })
        proc = harness.run("target-stitch", ["-c", cfg], stdin=stream.data,
                           timeout=TIMEOUT, env=ENV)
        err = proc.stderr.decode("utf-8", "replace")
        self.assertNotIn(TOKEN.encode(), proc.stdout)
        self.assertNotIn(TOKEN, err)
        return proc, err

    def check_ok(self, name, stream, records):
        proc, err = self.run_stream(stream)
        self.assertEqual(proc.returncode, 0, err)
        self.assertNotIn("CRITICAL", err)
        self.assertEqual(stream.record_count(), records)
        self.assertEqual(len(self.server.upserts()), records, err)
        tables = {b["table_name"] for b in self.server.batches}
        self.assertLessEqual(tables, set(stream.records))
        for table, recs in stream.records.items():
            self.assertEqual(self.server.records(table), recs, table)
        lines = proc.stdout.decode("utf-8").splitlines()
        printed = [parse_json(x) for x in lines]
        for value in printed:
            self.assertTrue(is_truthy(value), "empty state printed")
        truthy = [v for _, v in stream.states if is_truthy(v)]
        if truthy:
            self.assertTrue(printed, err)
            self.assertEqual(printed[-1], truthy[-1])
        else:
            self.assertEqual(printed, [])
        # States come out in input order, each one at most once.
        order = [v for _, v in stream.states]
        pos = -1
        for value in printed:
            self.assertIn(value, order[pos + 1:])
            pos = order.index(value, pos + 1)

    def check_fail(self, name, stream):
        self.assertIsNotNone(stream.bad_line,
                             "%s has no line a target must refuse" % name)
        proc, err = self.run_stream(stream)
        self.assertEqual(proc.returncode, 1, err)
        critical = [x for x in err.splitlines() if x.startswith("CRITICAL")]
        self.assertEqual(len(critical), 1, err)
        self.assertIn("line %d" % stream.bad_line, critical[0])
        for r in self.server.requests:
            body = parse_json(r["body"])
            for m in body.get("messages", []):
                self.assertNotEqual(m.get("data"), stream.bad_record,
                                    "the refused record was sent")
        # Only states read before the failure may appear, in order.
        before = [v for n, v in stream.states if n < stream.bad_line]
        printed = [parse_json(x)
                   for x in proc.stdout.decode("utf-8").splitlines()]
        pos = -1
        for value in printed:
            self.assertIn(value, before[pos + 1:])
            pos = before.index(value, pos + 1)


def _make_test(row):
    name, outcome = row["name"], row["outcome"].strip()
    records = int(row["records"])

    def test(self):
        path = os.path.join(STREAMS, name + ".singer")
        self.assertTrue(os.path.exists(path), path)
        stream = Stream(path)
        if outcome == "ok":
            self.check_ok(name, stream, records)
        elif outcome == "fail":
            self.check_fail(name, stream)
        else:
            self.fail("unknown outcome %r for %s" % (outcome, name))

    test.__name__ = "test_%s_%s" % (outcome, name)
    test.__doc__ = "%s: %s%s" % (name, outcome,
                                 " (%s)" % row["note"] if row.get("note")
                                 else "")
    return test


_ROWS = load_expected()
for _row in _ROWS:
    _t = _make_test(_row)
    setattr(ConformanceTest, _t.__name__, _t)

if not _ROWS:
    def test_conformance_streams_present(self):
        self.fail("no rows in %s" % EXPECTED)
    ConformanceTest.test_conformance_streams_present = \
        test_conformance_streams_present

if __name__ == "__main__":
    unittest.main()
