"""Record validation in bin/target-stitch: --dry-run and the config key
validate_records check every record against its stream's JSON Schema
(draft 4) and stop at the first invalid one, naming it."""
import csv
import json
import os
import sys
import unittest

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests"))
from stitch_server import StitchServer  # noqa: E402

TOKEN = "tok-VALIDATE-5150"
TIMEOUT = 600 if harness.VALGRIND else 120
ENV = {"no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost"}
STREAMS = os.path.join(harness.CONFORMANCE, "meltano-sdk")

DECISION_SCHEMA = {
    "type": "object",
    "required": ["id", "flow"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "flow": {"type": "object", "properties": {
            "version_id": {"type": "string", "format": "uuid"},
            "amount": {"type": "number", "multipleOf": 0.01,
                       "maximum": 100000000000000000000000000000}}},
    },
}
UUID = "3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b"


def lines(*messages):
    return b"".join(json.dumps(m).encode() + b"\n" if isinstance(m, dict)
                    else m.encode() + b"\n" for m in messages)


def decision(i, **flow):
    return {"type": "RECORD", "stream": "decisions",
            "record": {"id": UUID, "flow": dict({"version_id": UUID},
                                                **flow), "n": i}}


def schema(s=DECISION_SCHEMA):
    return {"type": "SCHEMA", "stream": "decisions", "schema": s,
            "key_properties": ["id"]}


def expected_rows():
    with open(os.path.join(harness.CONFORMANCE, "expected.tsv")) as f:
        return list(csv.DictReader(f, delimiter="\t"))


class ValidateTest(unittest.TestCase):
    def setUp(self):
        self.tmp = harness.TempDir()
        self.server = StitchServer(token=TOKEN)
        self.server.start()

    def tearDown(self):
        self.server.stop()
        self.tmp.cleanup()

    def config(self, **extra):
        cfg = {"token": TOKEN, "client_id": 7,
               "small_batch_url": self.server.url(),
               "big_batch_url": self.server.url(),
               "batch_size_preferences": {}, "max_attempts": 2,
               "retry_base_seconds": 0.05}
        cfg.update(extra)
        return harness.write_json(self.tmp.path, "target.json", cfg)

    def run_target(self, args, data):
        res = harness.run("target-stitch", args, stdin=data,
                          timeout=TIMEOUT, env=ENV)
        self.assertNotIn(TOKEN.encode(), res.stdout + res.stderr)
        return res

    def critical(self, res):
        return [x for x in res.stderr.decode().splitlines()
                if x.startswith("CRITICAL")]

    def test_dry_run_rejects_missing_required_property(self):
        path = os.path.join(STREAMS, "record_missing_required_property.singer")
        with open(path, "rb") as f:
            res = self.run_target(["--dry-run"], f.read())
        self.assertEqual(res.returncode, 1)
        crit = self.critical(res)
        self.assertEqual(len(crit), 1, crit)
        self.assertIn("line 2", crit[0])
        self.assertIn("'test_record_missing_required_property'", crit[0])
        self.assertIn("'required'", crit[0])
        self.assertIn("id", crit[0])
        self.assertEqual(res.stdout, b"")

    def test_validate_records_rejects_it_before_sending(self):
        path = os.path.join(STREAMS, "record_missing_required_property.singer")
        with open(path, "rb") as f:
            res = self.run_target(["-c", self.config(validate_records=True)],
                                  f.read())
        self.assertEqual(res.returncode, 1)
        self.assertIn("line 2", self.critical(res)[0])
        self.assertEqual(self.server.requests, [])

    def test_without_validate_records_the_record_is_sent(self):
        path = os.path.join(STREAMS, "record_missing_required_property.singer")
        with open(path, "rb") as f:
            res = self.run_target(["-c", self.config()], f.read())
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(len(self.server.batches), 1)

    def test_ok_streams_pass_both_ways(self):
        for row in expected_rows():
            if row["outcome"] != "ok" or \
                    row["name"] == "record_missing_required_property":
                continue
            with open(os.path.join(STREAMS, row["name"] + ".singer"),
                      "rb") as f:
                data = f.read()
            with self.subTest(stream=row["name"], mode="dry-run"):
                res = self.run_target(["--dry-run"], data)
                self.assertEqual(res.returncode, 0, res.stderr)
            with self.subTest(stream=row["name"], mode="validate_records"):
                before = sum(len([m for m in b["body"]["messages"]
                                  if m["action"] == "upsert"])
                             for b in self.server.batches)
                res = self.run_target(
                    ["-c", self.config(validate_records=True)], data)
                self.assertEqual(res.returncode, 0, res.stderr)
                after = sum(len([m for m in b["body"]["messages"]
                                 if m["action"] == "upsert"])
                            for b in self.server.batches)
                self.assertEqual(after - before, int(row["records"]))

    def test_message_names_line_stream_pointer_and_keyword(self):
        data = lines(schema(), decision(1), decision(2),
                     decision(3, version_id="not-a-uuid"))
        res = self.run_target(["-c", self.config(validate_records=True)],
                              data)
        self.assertEqual(res.returncode, 1)
        self.assertEqual(self.critical(res), [
            "CRITICAL record on line 4 of stream 'decisions' fails schema "
            "at /flow/version_id: format 'uuid' expected (keyword "
            "'format')"])
        # Its batch held two good records; none of it went out.
        self.assertEqual(self.server.requests, [])

    def test_numbers_are_compared_exactly(self):
        good = lines(schema(), decision(1, amount=19.99),
                     '{"type": "RECORD", "stream": "decisions", "record": '
                     '{"id": "%s", "flow": {"amount": '
                     '99999999999999999999999999999.99}}}' % UUID)
        res = self.run_target(["--dry-run"], good)
        self.assertEqual(res.returncode, 0, res.stderr)
        for bad, keyword in (("19.999", "multipleOf"),
                             ("100000000000000000000000000000.01",
                              "maximum")):
            with self.subTest(amount=bad):
                data = lines(schema(), '{"type": "RECORD", "stream": '
                             '"decisions", "record": {"id": "%s", "flow": '
                             '{"amount": %s}}}' % (UUID, bad))
                res = self.run_target(["--dry-run"], data)
                self.assertEqual(res.returncode, 1)
                self.assertIn("'%s'" % keyword, self.critical(res)[0])
                self.assertIn("/flow/amount", self.critical(res)[0])

    def test_schema_that_is_not_draft_4_names_its_line(self):
        data = lines({"type": "STATE", "value": {"a": 1}},
                     schema({"type": "object",
                             "properties": {"id": {"type": 5}}}))
        for args in (["--dry-run"],
                     ["-c", self.config(validate_records=True)]):
            with self.subTest(args=args[0]):
                res = self.run_target(args, data)
                self.assertEqual(res.returncode, 1)
                crit = self.critical(res)
                self.assertIn("line 2", crit[0])
                self.assertIn("'decisions'", crit[0])
                self.assertIn("JSON Schema", crit[0])

    def test_states_before_the_invalid_record_stay_valid(self):
        data = lines(schema(), decision(1),
                     {"type": "STATE", "value": {"done": 1}},
                     schema(), decision(2, version_id="x"))
        res = self.run_target(["-c", self.config(validate_records=True)],
                              data)
        self.assertEqual(res.returncode, 1)
        # The second SCHEMA flushed record 1 with its state.
        self.assertEqual(res.stdout, b'{"done":1}\n')
        self.assertEqual(len(self.server.batches), 1)

    def test_null_key_properties_anywhere_in_the_line_mean_none(self):
        for line in ('{"type":"SCHEMA","stream":"s","key_properties":null,'
                     '"schema":{"type":"object"}}',
                     '{"type":"SCHEMA","stream":"s","schema":{"type":'
                     '"object"},"key_properties":null}'):
            with self.subTest(line=line):
                res = self.run_target(["--dry-run"], lines(
                    line, '{"type":"RECORD","stream":"s","record":{}}'))
                self.assertEqual(res.returncode, 0, res.stderr)
                self.assertIn("WARNING", res.stderr.decode())

    def test_validate_records_must_be_boolean(self):
        res = self.run_target(["-c", self.config(validate_records="yes")],
                              lines(schema()))
        self.assertEqual(res.returncode, 2)
        self.assertIn("validate_records", res.stderr.decode())


if __name__ == "__main__":
    unittest.main()
