"""Black-box tests of bin/target-stitch against a local stand-in for the
Stitch Import API (tests/stitch_server.py)."""
import decimal
import json
import os
import subprocess
import sys
import threading
import time
import unittest

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests"))
import stitch_server  # noqa: E402
from stitch_server import StitchServer, parse_json  # noqa: E402

TOKEN = "tok-SECRET-1234"
PROGRAM = "target-stitch"
SMALL_PATH = "/v2/import/batch"
BIG_PATH = "/big/v2/import/batch"
# valgrind makes every run many times slower.
TIMEOUT = 600 if harness.VALGRIND else 120
# How long to watch for something that must not happen.
QUIET_SPELL = 1.5 if harness.VALGRIND else 0.4
# Keep any proxy settings of the caller away from the local server.
ENV = {"no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost"}


# --- building input ------------------------------------------------------

def schema_msg(stream, keys=("id",), schema=None, **extra):
    m = {"type": "SCHEMA", "stream": stream,
         "schema": schema or {"type": "object",
                              "properties": {"id": {"type": "integer"}}}}
    if keys is not None:
        m["key_properties"] = list(keys)
    m.update(extra)
    return m


def record_msg(stream, data, **extra):
    m = {"type": "RECORD", "stream": stream, "record": data}
    m.update(extra)
    return m


def state_msg(value):
    return {"type": "STATE", "value": value}


def activate_msg(stream, version):
    return {"type": "ACTIVATE_VERSION", "stream": stream, "version": version}


def encode(messages, newline=b"\n"):
    """Input bytes: dicts become JSON lines, str and bytes are taken as
    the exact text of a line."""
    out = []
    for m in messages:
        if isinstance(m, dict):
            m = json.dumps(m, ensure_ascii=False)
        if isinstance(m, str):
            m = m.encode("utf-8")
        out.append(m + newline)
    return b"".join(out)


def input_records(data, stream=None):
    """The records of input bytes, per the stand-in's own parser, as
    {stream: [data, ...]} (or one stream's list)."""
    out = {}
    for line in data.splitlines():
        if not line.strip():
            continue
        m = parse_json(line)
        if m.get("type") == "RECORD":
            out.setdefault(m["stream"], []).append(m["record"])
    return out.get(stream, []) if stream is not None else out


# --- running the target --------------------------------------------------

class Result:
    def __init__(self, rc, out, err):
        self.rc = rc
        self.out = out
        self.err = err.decode("utf-8", "replace")
        self.lines = out.decode("utf-8").splitlines()

    @property
    def states(self):
        """stdout lines parsed as JSON."""
        return [parse_json(x) for x in self.lines]

    def critical(self):
        return [x for x in self.err.splitlines()
                if x.startswith("CRITICAL")]

    def warnings(self):
        return [x for x in self.err.splitlines()
                if x.startswith("WARNING")]

    def __repr__(self):
        return "exit %s\n--- stdout\n%s--- stderr\n%s" % (
            self.rc, self.out.decode("utf-8", "replace"), self.err[-4000:])


class Live:
    """A target started in the background; stdout lines are collected
    with the time.monotonic() at which each arrived."""

    def __init__(self, args, stdin, stdin_open=False):
        self.proc = subprocess.Popen(
            harness.wrap([harness.program(PROGRAM)] + list(args)),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=dict(os.environ, **ENV))
        self.lines = []
        self.err = []
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._read_out, daemon=True),
            threading.Thread(target=self._read_err, daemon=True),
        ]
        if not stdin_open:
            self.threads.append(threading.Thread(
                target=self._feed, args=(stdin,), daemon=True))
        for t in self.threads:
            t.start()

    def _feed(self, data):
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.close()
        except OSError:
            pass

    def _read_out(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append((time.monotonic(), line.rstrip(b"\n")))

    def _read_err(self):
        self.err.append(self.proc.stderr.read())

    def stdout_lines(self):
        with self.lock:
            return list(self.lines)

    def wait(self, timeout=TIMEOUT):
        try:
            rc = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        for t in self.threads:
            t.join(10)
        out = b"".join(x[1] + b"\n" for x in self.lines)
        return Result(rc, out, b"".join(self.err))

    def kill(self):
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class TargetCase(unittest.TestCase):
    """One stand-in server and one temporary directory per test."""

    server_options = {}

    def setUp(self):
        self.tmp = harness.TempDir()
        self.addCleanup(self.tmp.cleanup)
        self.server = self.new_server(**self.server_options)

    def new_server(self, **options):
        options.setdefault("token", TOKEN)
        server = StitchServer(**options).start()
        self.addCleanup(server.stop)
        return server

    def config(self, name="config.json", server=None, **changes):
        """Write a config for `server`; a change to None drops the key."""
        server = server or self.server
        cfg = {
            "token": TOKEN,
            "client_id": "client-1",
            "small_batch_url": server.url(SMALL_PATH),
            "big_batch_url": server.url(BIG_PATH),
            "batch_size_preferences": {},
            "retry_base_seconds": 0.05,
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
        self.assertNotIn(TOKEN.encode(), out, "token on stdout")
        self.assertNotIn(TOKEN, err, "token on stderr")

    def run_raw(self, args, stdin=b""):
        proc = harness.run(PROGRAM, args, stdin=stdin, timeout=TIMEOUT,
                           env=ENV)
        res = Result(proc.returncode, proc.stdout, proc.stderr)
        self.check_secret(proc.stdout, res.err)
        return res

    def run_target(self, messages, args=(), config=None, **changes):
        """Run against the stand-in; `messages` as for encode(), or
        bytes."""
        if config is None:
            config = self.config(**changes)
        data = messages if isinstance(messages, bytes) else \
            encode(messages)
        return self.run_raw(["-c", config] + list(args), data)

    def live(self, messages, args=(), config=None, stdin_open=False,
             **changes):
        if config is None:
            config = self.config(**changes)
        data = messages if isinstance(messages, bytes) else \
            encode(messages)
        lv = Live(["-c", config] + list(args), data, stdin_open)
        self.addCleanup(lv.kill)
        return lv

    def finish(self, lv):
        res = lv.wait()
        self.check_secret(res.out, res.err)
        return res

    # --- assertions -----------------------------------------------------

    def assertExit(self, res, code):
        self.assertEqual(res.rc, code, res)

    def assertOk(self, res):
        self.assertExit(res, 0)
        self.assertEqual(res.critical(), [], res)

    def assertCritical(self, res, *needles):
        """Exactly one CRITICAL line holding every needle."""
        lines = res.critical()
        self.assertEqual(len(lines), 1, res)
        for n in needles:
            self.assertIn(n, lines[0], res)
        return lines[0]

    def assertDelivered(self, data, server=None):
        """Every record of the input reached the stand-in exactly once,
        in its own table and in input order."""
        server = server or self.server
        expected = input_records(data)
        tables = {b["table_name"] for b in server.batches}
        self.assertLessEqual(tables, set(expected))
        for stream, records in expected.items():
            self.assertEqual(server.records(stream), records, stream)

    def no_request_holds(self, text):
        """No request body (accepted or not) contains `text`."""
        for r in self.server.requests:
            body = r["body"] or b""
            self.assertNotIn(text.encode("utf-8"), body)


def ids(n, start=0, stream="s"):
    return [record_msg(stream, {"id": i, "name": "n%d" % i})
            for i in range(start, start + n)]


# --- delivery and body ---------------------------------------------------

class DeliveryTest(TargetCase):

    def test_every_record_delivered_exactly_once_in_one_batch(self):
        msgs = [schema_msg("s")] + ids(10) + [state_msg({"s": 10})]
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertEqual(len(self.server.batches), 1)
        self.assertDelivered(encode(msgs))
        self.assertEqual(res.states, [{"s": 10}])

    def test_every_record_delivered_exactly_once_across_many_batches(self):
        msgs = [schema_msg("a"), schema_msg("b")]
        for i in range(25):
            msgs.append(record_msg("a", {"id": i, "v": "a%d" % i}))
            if i % 3 == 0:
                msgs.append(record_msg("b", {"id": i, "v": "b%d" % i}))
            if i % 4 == 0:
                msgs.append(state_msg({"i": i}))
        res = self.run_target(msgs, ["--max-batch-records", "3"])
        self.assertOk(res)
        self.assertGreaterEqual(len(self.server.batches), 11)
        for b in self.server.batches:
            self.assertLessEqual(len(b["body"]["messages"]), 3)
        self.assertDelivered(encode(msgs))
        self.assertEqual(len(self.server.upserts()), 25 + 9)

    def test_body_has_the_batch_shape_in_order(self):
        schema = {"type": "object", "properties": {
            "id": {"type": "integer"}, "at": {"type": "string"}}}
        msgs = [schema_msg("orders", schema=schema,
                           bookmark_properties="at"),
                record_msg("orders", {"id": 7, "at": "x"})]
        res = self.run_target(msgs)
        self.assertOk(res)
        [b] = self.server.batches
        raw = b["raw"].decode("utf-8")
        body = json.loads(raw, object_pairs_hook=lambda p: p)
        self.assertEqual([k for k, _ in body],
                         ["table_name", "schema", "key_names", "messages",
                          "bookmark_names"])
        self.assertEqual(b["body"]["table_name"], "orders")
        self.assertEqual(b["body"]["schema"], schema)
        self.assertEqual(b["body"]["key_names"], ["id"])
        self.assertEqual(b["body"]["bookmark_names"], ["at"])
        [item] = b["body"]["messages"]
        self.assertEqual(list(item), ["action", "data", "sequence"])
        self.assertEqual(item["action"], "upsert")
        self.assertEqual(item["data"], {"id": 7, "at": "x"})
        self.assertNotIn("table_version", b["body"])
        # Compact: no whitespace outside strings, no trailing newline.
        self.assertNotIn(": ", raw)
        self.assertNotIn(", ", raw)
        self.assertFalse(raw.endswith("\n"))

    def test_headers_carry_bearer_token_json_type_and_user_agent(self):
        res = self.run_target([schema_msg("s")] + ids(1))
        self.assertOk(res)
        [r] = self.server.requests
        self.assertEqual(r["headers"]["authorization"], "Bearer " + TOKEN)
        self.assertEqual(r["headers"]["content-type"], "application/json")
        self.assertIn("target-stitch", self.server.batches[0]["user_agent"])

    def test_bodies_are_gzip_compressed_by_default(self):
        msgs = [schema_msg("s")] + ids(200)
        res = self.run_target(msgs)
        self.assertOk(res)
        [b] = self.server.batches
        self.assertEqual(b["content_encoding"], "gzip")
        self.assertLess(b["wire_bytes"], b["decompressed_bytes"] // 3)
        self.assertDelivered(encode(msgs))

    def test_compression_none_sends_plain_json(self):
        msgs = [schema_msg("s")] + ids(200)
        res = self.run_target(msgs, compression="none")
        self.assertOk(res)
        [b] = self.server.batches
        self.assertIsNone(b["content_encoding"])
        self.assertEqual(b["wire_bytes"], b["decompressed_bytes"])
        self.assertDelivered(encode(msgs))

    def test_unknown_compression_is_a_config_error(self):
        res = self.run_target([schema_msg("s")] + ids(1),
                              compression="brotli")
        self.assertExit(res, 2)
        self.assertIn("compression", res.err)
        self.assertEqual(self.server.requests, [])


class GzipRefusedTest(TargetCase):
    server_options = {"refuse_gzip": True}

    def test_415_on_gzip_falls_back_to_plain_bodies_for_the_run(self):
        msgs = [schema_msg("s")]
        for i in range(9):
            msgs += [record_msg("s", {"id": i}), state_msg({"n": i})]
        res = self.run_target(msgs, ["--max-batch-records", "2"])
        self.assertOk(res)
        warn = [w for w in res.warnings() if "415" in w]
        self.assertEqual(len(warn), 1, res)
        self.assertDelivered(encode(msgs))
        self.assertEqual(len(self.server.batches), 5)
        for b in self.server.batches:
            self.assertIsNone(b["content_encoding"])
        gz = [r for r in self.server.requests
              if r["headers"].get("content-encoding") == "gzip"]
        self.assertEqual([r["status"] for r in gz], [415])
        # R0 S0 R1 flushes with S0, and so on; R8 and S8 go at the end.
        self.assertEqual(res.states, [{"n": 0}, {"n": 2}, {"n": 4},
                                      {"n": 6}, {"n": 8}])


# --- states ---------------------------------------------------------------

class StateTest(TargetCase):

    def test_state_printed_only_after_batch_accepted(self):
        hold = threading.Event()
        self.server.push({"hold": hold})
        lv = self.live([schema_msg("s")] + ids(3) + [state_msg({"n": 3})])
        self.assertTrue(self.server.wait_requests(1, TIMEOUT))
        time.sleep(QUIET_SPELL)
        self.assertEqual(lv.stdout_lines(), [])
        released = time.monotonic()
        hold.set()
        res = self.finish(lv)
        self.assertOk(res)
        [(when, line)] = lv.stdout_lines()
        self.assertEqual(parse_json(line), {"n": 3})
        self.assertGreater(when, released)
        self.assertGreaterEqual(when, self.server.requests[0]["replied"])

    def test_output_file_does_not_print_state_before_acceptance(self):
        hold = threading.Event()
        self.addCleanup(hold.set)
        self.server.push({"hold": hold})
        out = self.path("bodies.jsonl")
        lv = self.live([schema_msg("s")] + ids(2) + [state_msg("S")],
                       ["-o", out])
        self.assertTrue(self.server.wait_requests(1, TIMEOUT))
        time.sleep(QUIET_SPELL)
        self.assertEqual(lv.stdout_lines(), [])
        hold.set()
        res = self.finish(lv)
        self.assertOk(res)
        self.assertEqual(res.states, ["S"])
        with open(out, "rb") as f:
            self.assertEqual(len(f.read().splitlines()), 1)

    def test_state_waits_for_the_batch_that_carries_it(self):
        self.server.push({}, {"delay": 1.0})
        msgs = [schema_msg("s"), record_msg("s", {"id": 1}),
                state_msg("S1"), record_msg("s", {"id": 2}),
                state_msg("S2")]
        lv = self.live(msgs, ["--max-batch-records", "1"])
        res = self.finish(lv)
        self.assertOk(res)
        (t1, s1), (t2, s2) = lv.stdout_lines()
        self.assertEqual([s1, s2], [b'"S1"', b'"S2"'])
        first, second = sorted(self.server.requests,
                               key=lambda r: r["index"])
        # S1 rides on the second batch (it was pending when record 2
        # filled it), so it waits for the delayed answer; nothing is
        # printed before that answer.
        self.assertGreaterEqual(t1, second["replied"])
        self.assertGreaterEqual(t2, second["replied"])
        self.assertGreaterEqual(second["replied"] - second["received"], 1.0)

    def test_state_of_first_batch_printed_before_second_is_answered(self):
        hold = threading.Event()
        self.server.push({}, {"hold": hold})
        msgs = [schema_msg("s"), record_msg("s", {"id": 1}),
                state_msg("S1"), record_msg("s", {"id": 2}),
                record_msg("s", {"id": 3}), state_msg("S3")]
        lv = self.live(msgs, ["--max-batch-records", "2"])
        self.assertTrue(self.server.wait_requests(2, TIMEOUT))
        deadline = time.monotonic() + TIMEOUT
        while not lv.stdout_lines() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(QUIET_SPELL)
        self.assertEqual([x[1] for x in lv.stdout_lines()], [b'"S1"'])
        hold.set()
        res = self.finish(lv)
        self.assertOk(res)
        self.assertEqual(res.states, ["S1", "S3"])

    def test_states_printed_in_input_order(self):
        msgs = [schema_msg("s")]
        for i in range(12):
            msgs += [record_msg("s", {"id": i}), state_msg({"pos": i})]
        res = self.run_target(msgs, ["--max-batch-records", "1"])
        self.assertOk(res)
        # A state is carried by the next flush; the last one by the end.
        self.assertEqual(res.states, [{"pos": i} for i in range(12)])
        self.assertDelivered(encode(msgs))

    def test_final_state_printed_before_exit(self):
        msgs = [schema_msg("s")] + ids(5) + [state_msg({"done": True})]
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertEqual(res.lines[-1], '{"done":true}')
        self.assertTrue(res.out.endswith(b"\n"))

    def test_falsy_states_never_printed(self):
        for falsy in ("null", "{}", "[]", "0", '""', "false", "0.0"):
            with self.subTest(state=falsy):
                msgs = [schema_msg("s"), record_msg("s", {"id": 1}),
                        '{"type":"STATE","value":%s}' % falsy,
                        record_msg("s", {"id": 2}),
                        '{"type":"STATE","value":%s}' % falsy]
                res = self.run_target(msgs, ["--max-batch-records", "1"])
                self.assertOk(res)
                self.assertEqual(res.out, b"")

    def test_falsy_state_discards_earlier_pending_state(self):
        msgs = [schema_msg("s"), record_msg("s", {"id": 1}),
                state_msg({"a": 1}), state_msg(None)]
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertEqual(res.out, b"")
        self.assertEqual(len(self.server.batches), 1)

    def test_truthy_lookalikes_are_printed(self):
        for value in ('"0"', '"false"', "0.5", "-1", "[0]", '{"":0}',
                      "true"):
            with self.subTest(state=value):
                res = self.run_target(['{"type":"STATE","value":%s}'
                                       % value])
                self.assertOk(res)
                self.assertEqual(res.lines, [value])

    def test_state_only_input_prints_the_state(self):
        res = self.run_target([state_msg({"bookmark": "2024-01-01"})])
        self.assertOk(res)
        self.assertEqual(res.states, [{"bookmark": "2024-01-01"}])
        self.assertEqual(self.server.requests, [])

    def test_only_newest_pending_state_is_printed(self):
        msgs = [state_msg({"n": 1}), state_msg({"n": 2}),
                state_msg({"n": 3})]
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertEqual(res.states, [{"n": 3}])

    def test_state_after_last_record_is_printed(self):
        msgs = [schema_msg("s")] + ids(3) + [state_msg({"after": "last"})]
        res = self.run_target(msgs, ["--max-batch-records", "3"])
        self.assertOk(res)
        self.assertEqual(res.states, [{"after": "last"}])
        self.assertEqual(len(self.server.batches), 1)

    def test_worked_example_prints_s1_s4_s9(self):
        msgs = [schema_msg("s")]
        for tok in ("R0 S0 R1 S1 R2 S2 R3 S3 R4 S4 R5 R6 R7 R8 S8 R9 S9 "
                    "R10").split():
            if tok[0] == "R":
                msgs.append(record_msg("s", {"id": int(tok[1:])}))
            else:
                msgs.append(state_msg(tok))
        res = self.run_target(msgs, ["--max-batch-records", "3"])
        self.assertOk(res)
        self.assertEqual(res.states, ["S1", "S4", "S9"])
        self.assertEqual([[m["data"]["id"] for m in b["body"]["messages"]]
                          for b in self.server.batches],
                         [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10]])

    def test_state_rides_on_last_stream_flushed(self):
        msgs = [schema_msg("a"), schema_msg("b"),
                record_msg("a", {"id": 1}), record_msg("b", {"id": 2}),
                state_msg("S")]
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertEqual([b["table_name"] for b in self.server.batches],
                         ["a", "b"])
        self.assertEqual(res.states, ["S"])


# --- retries ----------------------------------------------------------------

class RetryTest(TargetCase):

    def test_retries_after_503_then_succeeds(self):
        self.server.push({"status": 503}, {"status": 503})
        msgs = [schema_msg("s")] + ids(4) + [state_msg("S")]
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertEqual([r["status"] for r in self.server.requests],
                         [503, 503, 201])
        bodies = {r["body"] for r in self.server.requests}
        self.assertEqual(len(bodies), 1, "a retry resends the same body")
        self.assertDelivered(encode(msgs))
        self.assertEqual(res.states, ["S"])

    def test_429_waits_as_retry_after_asks(self):
        self.server.push({"status": 429, "retry_after": "1"})
        res = self.run_target([schema_msg("s")] + ids(2) + [state_msg(1)])
        self.assertOk(res)
        first, second = sorted(self.server.requests,
                               key=lambda r: r["index"])
        self.assertEqual([first["status"], second["status"]], [429, 201])
        self.assertGreaterEqual(second["received"] - first["replied"], 0.95)
        self.assertEqual(res.states, [1])

    def test_dropped_connection_is_retried(self):
        self.server.push({"drop": True})
        msgs = [schema_msg("s")] + ids(3) + [state_msg("S")]
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertEqual(len(self.server.requests), 2)
        self.assertTrue(sorted(self.server.requests,
                               key=lambda r: r["index"])[0]["dropped"])
        self.assertDelivered(encode(msgs))
        self.assertEqual(res.states, ["S"])

    def test_slow_answer_times_out_and_is_retried(self):
        timeout, delay = (2, 6.0) if harness.VALGRIND else (1, 3.0)
        self.server.push({"delay": delay})
        msgs = [schema_msg("s")] + ids(3) + [state_msg("S")]
        start = time.monotonic()
        res = self.run_target(msgs, request_timeout=timeout)
        elapsed = time.monotonic() - start
        self.assertOk(res)
        self.assertEqual(res.states, ["S"])
        self.assertGreaterEqual(elapsed, timeout * 0.9)
        if not harness.VALGRIND:
            self.assertLess(elapsed, delay)
        self.assertDelivered(encode(msgs))

    def test_500_with_text_body_is_retried(self):
        self.server.push({"status": 500, "text": "oops"})
        msgs = [schema_msg("s")] + ids(2)
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertDelivered(encode(msgs))

    def test_gives_up_after_max_attempts(self):
        self.server.push({"status": 503}, {"status": 502},
                         {"status": 500, "text": "oops"})
        msgs = [schema_msg("s")] + ids(3) + [state_msg("S")]
        res = self.run_target(msgs, max_attempts=3)
        self.assertExit(res, 1)
        line = self.assertCritical(res, "500", "oops")
        self.assertIn("3", line)
        self.assertEqual(len(self.server.requests), 3)
        self.assertEqual(self.server.batches, [])
        self.assertEqual(res.out, b"")

    def test_unreachable_server_fails_after_retries(self):
        dead = self.new_server()
        url = dead.url(SMALL_PATH)
        dead.stop()
        res = self.run_target([schema_msg("s")] + ids(1) + [state_msg(1)],
                              small_batch_url=url, max_attempts=2)
        self.assertExit(res, 1)
        self.assertEqual(len(res.critical()), 1, res)
        self.assertEqual(res.out, b"")


# --- permanent failures -----------------------------------------------------

class FailureTest(TargetCase):

    def three_batches(self):
        """With --max-batch-records 2: batches [0, 1], [2, 3], [4, 5]
        carrying states S1, S2, S3."""
        msgs = [schema_msg("s")]
        for i in range(6):
            if i % 2 == 1:
                msgs.append(state_msg("S%d" % (i // 2 + 1)))
            msgs.append(record_msg("s", {"id": i}))
        return msgs

    def check_permanent(self, action, status, message):
        self.server.push({}, action)
        res = self.run_target(self.three_batches(),
                              ["--max-batch-records", "2"])
        self.assertExit(res, 1)
        self.assertCritical(res, str(status), message)
        # The first batch was accepted and keeps its state; nothing
        # after the failure is printed or sent.
        self.assertEqual(res.states, ["S1"])
        self.assertEqual(len(self.server.requests), 2, res)
        self.assertEqual([[m["data"]["id"] for m in b["body"]["messages"]]
                          for b in self.server.batches], [[0, 1]])
        self.no_request_holds('"data":{"id":4}')

    def test_400_is_fatal_and_names_stitch_message(self):
        self.check_permanent({"status": 400, "body": {"error": "bad value"}},
                             400, "bad value")

    def test_401_is_fatal_and_names_stitch_message(self):
        self.check_permanent({"status": 401,
                              "body": {"message": "Not Authorized"}},
                             401, "Not Authorized")

    def test_413_is_fatal_and_names_stitch_message(self):
        self.check_permanent({"status": 413}, 413,
                             "exceeds the maximum")

    def test_failure_of_first_batch_prints_nothing(self):
        self.server.push({"status": 400, "body": {"error": "bad value"}})
        res = self.run_target(self.three_batches(),
                              ["--max-batch-records", "2"])
        self.assertExit(res, 1)
        self.assertCritical(res, "400", "bad value")
        self.assertEqual(res.out, b"")
        self.assertEqual(len(self.server.requests), 1)

    def test_wrong_token_is_refused_with_401(self):
        other = self.new_server(token="some-other-token")
        res = self.run_target([schema_msg("s")] + ids(2) + [state_msg(1)],
                              config=self.config(server=other))
        self.assertExit(res, 1)
        self.assertCritical(res, "401", "Not Authorized")
        self.assertEqual(res.out, b"")
        self.assertEqual(len(other.requests), 1)

    def test_record_stitch_finds_invalid_is_fatal(self):
        # Records are not checked against their schema before sending;
        # Stitch's refusal of one that does not conform ends the run.
        self.server.push({"status": 400, "body": {
            "error": "Record 0 did not conform to schema: #/id: expected: "
                     "integer, found: String"}})
        res = self.run_target([schema_msg("s"),
                               record_msg("s", {"id": "x"}),
                               state_msg(1)])
        self.assertExit(res, 1)
        self.assertCritical(res, "400", "did not conform to schema")
        self.assertEqual(res.out, b"")


# --- concurrency --------------------------------------------------------------

class TurboTest(TargetCase):

    def workload(self):
        msgs = [schema_msg("s")]
        for i in range(24):
            msgs.append(record_msg("s", {"id": i, "v": "x" * (i % 5)}))
            if i % 3 == 2:
                msgs.append(state_msg({"upto": i}))
        return msgs

    def run_turbo(self, turbo):
        server = self.new_server(delay_all=0.2)
        res = self.run_target(self.workload(), ["--max-batch-records", "3"],
                              config=self.config(
                                  name="turbo%d.json" % turbo,
                                  server=server, turbo_boost_factor=turbo))
        self.assertOk(res)
        return res, server

    def test_turbo_boost_delivers_same_data_and_states_as_sequential(self):
        res1, one = self.run_turbo(1)
        res4, four = self.run_turbo(4)
        self.assertEqual(one.max_in_flight, 1)
        self.assertGreaterEqual(four.max_in_flight, 2)
        self.assertLessEqual(four.max_in_flight, 4)
        self.assertEqual(res4.states, res1.states)
        self.assertEqual(res1.states, [{"upto": i} for i in range(2, 24, 3)])
        key = lambda d: d["id"]  # noqa: E731
        self.assertEqual(sorted(four.records("s"), key=key),
                         sorted(one.records("s"), key=key))
        self.assertEqual(one.records("s"), input_records(
            encode(self.workload()), "s"))

    def test_turbo_state_waits_for_slower_earlier_request(self):
        hold = threading.Event()
        self.addCleanup(hold.set)
        # Requests may arrive in any order: hold the one of batch [0, 1].
        self.server.on_body('"data":{"id":0}', {"hold": hold})
        msgs = [schema_msg("s")]
        for i in range(8):
            msgs += [record_msg("s", {"id": i}), state_msg("S%d" % i)]
        lv = self.live(msgs, ["--max-batch-records", "2"],
                       turbo_boost_factor=4)
        # Batches [0, 1] .. [6, 7] carry S0, S2, S4, S6; S7 goes alone.
        # Requests 2 to 4 are answered while the first is held.
        self.assertTrue(self.server.wait_requests(3, TIMEOUT,
                                                  received=False))
        time.sleep(QUIET_SPELL)
        self.assertEqual(lv.stdout_lines(), [])
        hold.set()
        res = self.finish(lv)
        self.assertOk(res)
        self.assertEqual(res.states, ["S0", "S2", "S4", "S6", "S7"])
        first = [r for r in self.server.requests
                 if r["action"].get("hold")][0]
        for when, _ in lv.stdout_lines():
            self.assertGreaterEqual(when, first["replied"])

    def test_turbo_failure_while_earlier_request_in_flight_prints_nothing(self):
        hold = threading.Event()
        self.addCleanup(hold.set)
        self.server.on_body('"data":{"id":0}', {"hold": hold})
        self.server.on_body('"data":{"id":2}',
                            {"status": 400, "body": {"error": "bad value"}})
        msgs = [schema_msg("s")]
        for i in range(8):
            msgs += [state_msg("S%d" % i), record_msg("s", {"id": i})]
        lv = self.live(msgs, ["--max-batch-records", "2"],
                       turbo_boost_factor=4)
        res = self.finish(lv)
        hold.set()
        self.assertExit(res, 1)
        self.assertCritical(res, "400", "bad value")
        self.assertEqual(res.out, b"")

    def test_activate_version_waits_for_pending_requests(self):
        server = self.new_server(delay_all=0.3)
        msgs = [schema_msg("s")]
        msgs += [record_msg("s", {"id": i}, version=5) for i in range(6)]
        msgs += [activate_msg("s", 5), state_msg("done")]
        res = self.run_target(msgs, ["--max-batch-records", "2"],
                              config=self.config(server=server,
                                                 turbo_boost_factor=4))
        self.assertOk(res)
        self.assertGreaterEqual(server.max_in_flight, 2)
        reqs = sorted(server.requests, key=lambda r: r["index"])
        act = [r for r in reqs if b"activate_version" in r["body"]]
        self.assertEqual(len(act), 1)
        others = [r for r in reqs if r is not act[0]]
        self.assertEqual(len(others), 3)
        for r in others:
            self.assertGreaterEqual(act[0]["received"], r["replied"])
        self.assertEqual(res.states, ["done"])


# --- ACTIVATE_VERSION and versions ------------------------------------------

class VersionTest(TargetCase):

    def test_activate_version_sends_table_version_and_item(self):
        msgs = [schema_msg("s"),
                record_msg("s", {"id": 1}, version=1700000000001),
                record_msg("s", {"id": 2}, version=1700000000001),
                activate_msg("s", 1700000000001)]
        res = self.run_target(msgs)
        self.assertOk(res)
        [b] = self.server.batches
        self.assertEqual(b["body"]["table_version"], 1700000000001)
        self.assertEqual([m["action"] for m in b["body"]["messages"]],
                         ["upsert", "upsert", "activate_version"])
        self.assertEqual(list(b["body"]["messages"][2]),
                         ["action", "sequence"])
        raw = json.loads(b["raw"], object_pairs_hook=lambda p: p)
        self.assertEqual([k for k, _ in raw][-1], "table_version")

    def test_version_change_splits_batches(self):
        msgs = [schema_msg("s"),
                record_msg("s", {"id": 1}, version=1),
                record_msg("s", {"id": 2}, version=1),
                activate_msg("s", 1),
                record_msg("s", {"id": 3}, version=2),
                activate_msg("s", 2),
                record_msg("s", {"id": 4})]
        res = self.run_target(msgs)
        self.assertOk(res)
        got = [(b["body"].get("table_version"),
                [m["action"][0] for m in b["body"]["messages"]])
               for b in self.server.batches]
        self.assertEqual(got, [(1, ["u", "u", "a"]), (2, ["u", "a"]),
                               (None, ["u"])])
        self.assertDelivered(encode(msgs))

    def test_activate_version_before_schema_is_skipped_with_warning(self):
        msgs = [activate_msg("early", 3), schema_msg("s")] + ids(1)
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertTrue(any("early" in w for w in res.warnings()), res)
        self.assertEqual([b["table_name"] for b in self.server.batches],
                         ["s"])

    def test_schema_change_splits_batches(self):
        s2 = {"type": "object", "properties": {"id": {"type": "integer"},
                                               "x": {"type": "string"}}}
        msgs = [schema_msg("s")] + ids(2) + [schema_msg("s", schema=s2)] + \
            [record_msg("s", {"id": 9, "x": "y"})]
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertEqual(len(self.server.batches), 2)
        self.assertNotIn("x", self.server.batches[0]["body"]["schema"]
                         ["properties"])
        self.assertEqual(self.server.batches[1]["body"]["schema"], s2)


# --- routing and sizes ----------------------------------------------------------

class RoutingTest(TargetCase):

    def paths(self):
        return [(b["path"], [m["data"]["id"] for m in b["body"]["messages"]])
                for b in self.server.batches]

    def test_big_body_goes_to_big_batch_url(self):
        big = record_msg("s", {"id": 3, "blob": "x" * 4100000})
        msgs = [schema_msg("s")] + ids(2, 1) + [big] + ids(1, 4) + \
            [state_msg("S")]
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertEqual(self.paths(), [(SMALL_PATH, [1]), (SMALL_PATH, [2]),
                                        (BIG_PATH, [3]), (SMALL_PATH, [4])])
        big_batch = self.server.batches[2]
        self.assertGreater(big_batch["decompressed_bytes"], 4000000)
        for b in self.server.batches:
            if b["path"] == SMALL_PATH:
                self.assertLessEqual(b["decompressed_bytes"], 4000000)
        self.assertDelivered(encode(msgs))
        self.assertEqual(res.states, ["S"])

    def test_full_table_streams_go_to_big_batch_url(self):
        msgs = [schema_msg("full"), schema_msg("inc"),
                record_msg("full", {"id": 1}), record_msg("inc", {"id": 2})]
        res = self.run_target(msgs, batch_size_preferences={
            "full_table_streams": ["full"]})
        self.assertOk(res)
        self.assertEqual(sorted((b["table_name"], b["path"])
                                for b in self.server.batches),
                         [("full", BIG_PATH), ("inc", SMALL_PATH)])

    def test_bigbatch_preference_goes_to_big_batch_url(self):
        msgs = [schema_msg("a"), schema_msg("b"),
                record_msg("a", {"id": 1}), record_msg("b", {"id": 2})]
        for key in ("batch_size_preference", "user_batch_size_preference"):
            with self.subTest(key=key):
                start = len(self.server.batches)
                res = self.run_target(msgs, batch_size_preferences={
                    key: "bigbatch"})
                self.assertOk(res)
                self.assertEqual([b["path"] for b in
                                  self.server.batches[start:]],
                                 [BIG_PATH, BIG_PATH])

    def test_smallbatch_preference_goes_to_small_batch_url(self):
        res = self.run_target([schema_msg("a")] + ids(1, stream="a"),
                              batch_size_preferences={
                                  "batch_size_preference": "smallbatch"})
        self.assertOk(res)
        self.assertEqual([b["path"] for b in self.server.batches],
                         [SMALL_PATH])

    def test_max_batch_bytes_splits_bodies_without_loss_or_reordering(self):
        schema = {"type": "object", "description": "d" * 900,
                  "properties": {"id": {"type": "integer"},
                                 "v": {"type": "string"}}}
        msgs = [schema_msg("s", schema=schema)]
        for i in range(40):
            msgs.append(record_msg("s", {"id": i, "v": "value-%03d" % i}))
        msgs.append(state_msg("end"))
        res = self.run_target(msgs, ["--max-batch-bytes", "2000", "-v"])
        self.assertOk(res)
        flushes = res.err.count("Serializing batch")
        self.assertGreater(len(self.server.batches), flushes)
        for b in self.server.batches:
            if len(b["body"]["messages"]) > 1:
                self.assertLess(b["decompressed_bytes"], 2000)
        got = [m["data"]["id"] for b in self.server.batches
               for m in b["body"]["messages"]]
        self.assertEqual(got, list(range(40)))
        self.assertDelivered(encode(msgs))
        self.assertEqual(res.states, ["end"])

    def test_record_over_20mb_fails_naming_the_line(self):
        huge = record_msg("s", {"id": 9, "blob": "y" * 20000000})
        msgs = [schema_msg("s"), record_msg("s", {"id": 1}), state_msg("S1"),
                record_msg("s", {"id": 2}), state_msg("S2"), huge,
                record_msg("s", {"id": 3})]
        res = self.run_target(msgs, ["--max-batch-records", "1"])
        self.assertExit(res, 1)
        self.assertCritical(res, "line 6", "20")
        self.assertEqual(res.states, ["S1"])
        self.assertEqual(len(self.server.requests), 2)
        for r in self.server.requests:
            self.assertLess(r["wire_bytes"], 100000)
        self.assertEqual(self.server.records("s"), [{"id": 1}, {"id": 2}])

    def test_line_over_64mib_fails_naming_the_line(self):
        huge = (b'{"type":"RECORD","stream":"s","record":{"id":9,"blob":"' +
                b"w" * (70 << 20) + b'"}}')
        msgs = [schema_msg("s"), record_msg("s", {"id": 1}), state_msg("S1"),
                record_msg("s", {"id": 2}), huge, record_msg("s", {"id": 3})]
        res = self.run_target(msgs, ["--max-batch-records", "1"])
        self.assertExit(res, 1)
        self.assertCritical(res, "line 5")
        self.assertEqual(res.states, ["S1"])
        self.assertEqual(self.server.records("s"), [{"id": 1}, {"id": 2}])

    def test_record_just_under_20mb_is_sent(self):
        # Body overhead around the record is well under 1,000 bytes.
        big = record_msg("s", {"id": 1, "blob": "z" * 19998000})
        res = self.run_target([schema_msg("s"), big, state_msg("S")])
        self.assertOk(res)
        [b] = self.server.batches
        self.assertEqual(b["path"], BIG_PATH)
        self.assertLess(b["decompressed_bytes"], 20000000)
        self.assertEqual(res.states, ["S"])


# --- sequences ------------------------------------------------------------------

class SequenceTest(TargetCase):

    def test_sequences_have_19_digits_and_strictly_increase(self):
        msgs = [schema_msg("a"), schema_msg("b")]
        for i in range(60):
            msgs.append(record_msg("a" if i % 3 else "b", {"id": i}))
        before = time.time()
        res = self.run_target(msgs, ["--max-batch-records", "7"])
        after = time.time()
        self.assertOk(res)
        self.assertGreater(len(self.server.batches), 8)
        seqs = [m["sequence"] for b in self.server.batches
                for m in b["body"]["messages"]]
        self.assertEqual(len(seqs), 60)
        for s in seqs:
            self.assertIsInstance(s, int)
            self.assertEqual(len(str(s)), 19)
            self.assertLessEqual(s, 9223372036854775807)
            # 100-ns ticks of the wall clock, then two more digits.
            self.assertGreaterEqual(s // 100 / 1e7, before - 5)
            self.assertLessEqual(s // 100 / 1e7, after + 5)
        for x, y in zip(seqs, seqs[1:]):
            self.assertLess(x, y)


# --- exact data ---------------------------------------------------------------

class ExactnessTest(TargetCase):

    def send_raw_record(self, record_text, stream="n"):
        msgs = [schema_msg(stream),
                '{"type":"RECORD","stream":"%s","record":%s}'
                % (stream, record_text)]
        res = self.run_target(msgs, compression="gzip")
        self.assertOk(res)
        [b] = self.server.batches
        return b

    def test_huge_integers_kept_exactly(self):
        text = ('{"id":1,"big":123456789012345678901234567890,'
                '"neg":-9223372036854775809,"u64":18446744073709551616}')
        b = self.send_raw_record(text)
        self.assertIn(text.encode(), b["raw"])
        data = b["body"]["messages"][0]["data"]
        self.assertEqual(data["big"], 123456789012345678901234567890)
        self.assertEqual(data["neg"], -9223372036854775809)
        self.assertEqual(data["u64"], 2 ** 64)

    def test_long_decimals_kept_exactly(self):
        frac = "1234567890" * 4
        text = ('{"id":1,"d":0.%s,"n":-98765.%s,"z":1.10}' % (frac, frac))
        b = self.send_raw_record(text)
        self.assertIn(text.encode(), b["raw"])
        data = b["body"]["messages"][0]["data"]
        self.assertEqual(data["d"], decimal.Decimal("0." + frac))
        self.assertEqual(str(data["z"]), "1.10")

    def test_exponents_kept_as_written(self):
        text = ('{"id":1,"a":1e5,"b":12.5e1,"c":-1E-7,"d":2.5E-3,'
                '"e":1E400,"f":100e-2,"g":0e+0}')
        b = self.send_raw_record(text)
        self.assertIn(text.encode(), b["raw"])

    def test_deep_nesting_accepted(self):
        for depth in (1000, 5000):
            with self.subTest(depth=depth):
                nested = '{"k":' * (depth // 2) + '[' * (depth // 2) + \
                    '"core"' + ']' * (depth // 2) + '}' * (depth // 2)
                text = '{"id":%d,"deep":%s}' % (depth, nested)
                start = len(self.server.batches)
                msgs = [schema_msg("n"),
                        '{"type":"RECORD","stream":"n","record":%s}' % text,
                        state_msg(depth)]
                res = self.run_target(msgs)
                self.assertOk(res)
                self.assertEqual(len(self.server.batches), start + 1)
                self.assertIn(text.encode(),
                              self.server.batches[start]["raw"])
                self.assertEqual(res.states, [depth])

    def test_string_escapes_preserved_in_meaning(self):
        text = (r'{"id":1,"q":"say \"hi\"","b":"back\\slash",'
                r'"s":"a\/b","nl":"line1\nline2\ttab\r\b\f",'
                r'"nul":"x\u0000y","pair":"\ud83d\ude00",'
                r'"esc":"\u00e9\u4e2d","ctl":"\u001f"}')
        b = self.send_raw_record(text)
        data = b["body"]["messages"][0]["data"]
        self.assertEqual(data, json.loads(text))
        self.assertEqual(data["pair"], "\U0001F600")
        self.assertEqual(data["nul"], "x\x00y")
        self.assertEqual(data["s"], "a/b")

    def test_escaped_key_names_found_as_key_properties(self):
        msgs = [schema_msg("s", keys=["id"]),
                r'{"type":"RECORD","stream":"s","record":{"\u0069d":5}}']
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertEqual(self.server.records("s"), [{"id": 5}])

    def test_non_ascii_sent_as_utf8(self):
        data = {"id": 1, "greek": "απλή συμβολοσειρά", "cjk": "简单的字串",
                "emoji": "🚀😀", "accent": "chaîne"}
        stream = "ταμείο"
        msgs = [schema_msg(stream), record_msg(stream, data)]
        res = self.run_target(msgs)
        self.assertOk(res)
        [b] = self.server.batches
        self.assertEqual(b["table_name"], stream)
        self.assertEqual(b["body"]["messages"][0]["data"], data)
        for value in list(data.values())[1:] + [stream]:
            self.assertIn(value.encode("utf-8"), b["raw"])
        self.assertNotIn(b"\\u", b["raw"])

    def test_escaped_non_ascii_sent_as_utf8(self):
        # The body is UTF-8 text in which characters outside ASCII are
        # written as themselves, however the input spelled them.
        text = r'{"id":1,"g":"\u03b1\u03b2","c":"\u4e2d","e":"\ud83d\ude80"}'
        b = self.send_raw_record(text)
        data = b["body"]["messages"][0]["data"]
        self.assertEqual(data, {"id": 1, "g": "\u03b1\u03b2", "c": "\u4e2d",
                                "e": "\U0001F680"})
        for ch in ("\u03b1\u03b2", "\u4e2d", "\U0001F680"):
            self.assertIn(ch.encode("utf-8"), b["raw"])
        self.assertNotIn(b"\\u", b["raw"])

    def test_lone_surrogates_and_controls_stay_escaped(self):
        # These have no UTF-8 form of their own: they must stay escapes
        # for the body to be valid UTF-8 JSON with the same meaning.
        text = (r'{"id":1,"a":"\ud800x","b":"\udc00","c":"\u0000\u001f",'
                r'"d":"\ud83d\ude80\ud83d","e":"\uDBFF\uDFFF"}')
        b = self.send_raw_record(text)
        self.assertEqual(b["body"]["messages"][0]["data"], json.loads(text))
        for esc in (rb"\ud800", rb"\udc00", rb"\u0000", rb"\u001f"):
            self.assertIn(esc, b["raw"].lower())
        self.assertIn("\U0001F680".encode("utf-8"), b["raw"])
        self.assertIn("\U0010FFFF".encode("utf-8"), b["raw"])

    def test_key_order_preserved(self):
        text = '{"zeta":1,"alpha":2,"id":3,"mid":{"y":1,"b":2,"a":[{"q":1,"c":2}]}}'
        b = self.send_raw_record(text)
        self.assertIn(text.encode(), b["raw"])
        pairs = json.loads(b["raw"], object_pairs_hook=lambda p: p)
        msg = dict(pairs)["messages"][0]
        data = dict(msg)["data"]
        self.assertEqual([k for k, _ in data], ["zeta", "alpha", "id", "mid"])

    def test_whitespace_inside_record_compacted_not_changed(self):
        msgs = [schema_msg("n"),
                '{"type": "RECORD", "stream": "n", "record": '
                '{ "id" : 1 , "s" : " a  b " , "l" : [ 1 , 2 ] } }']
        res = self.run_target(msgs)
        self.assertOk(res)
        [b] = self.server.batches
        self.assertIn(b'"data":{"id":1,"s":" a  b ","l":[1,2]}', b["raw"])

    def test_invalid_utf8_fails_naming_the_line(self):
        msgs = [schema_msg("s"), record_msg("s", {"id": 1}),
                state_msg("S"),
                b'{"type":"RECORD","stream":"s","record":{"id":2,'
                b'"v":"bad \xff\xfe here"}}',
                record_msg("s", {"id": 3})]
        res = self.run_target(msgs)
        self.assertExit(res, 1)
        self.assertCritical(res, "line 4")
        self.assertEqual(self.server.requests, [])
        self.assertEqual(res.out, b"")

    def test_invalid_utf8_after_accepted_batch(self):
        msgs = [schema_msg("s"), record_msg("s", {"id": 1}),
                record_msg("s", {"id": 2}), state_msg("S"),
                b'{"type":"RECORD","stream":"s","record":{"id":3,'
                b'"v":"\xc3\x28"}}']
        res = self.run_target(msgs, ["--max-batch-records", "2"])
        self.assertExit(res, 1)
        self.assertCritical(res, "line 5")
        self.assertEqual(self.server.records("s"), [{"id": 1}, {"id": 2}])
        self.assertEqual(res.out, b"")
        self.no_request_holds('"id":3')


# --- input errors -------------------------------------------------------------

class InputTest(TargetCase):

    def check_bad_line(self, bad, line_no, *needles):
        """Two records and a state are accepted before the bad line; the
        record after it is never sent and no later state is printed."""
        msgs = [schema_msg("s"), record_msg("s", {"id": 1}),
                state_msg("S1"), record_msg("s", {"id": 2}),
                state_msg("S2"), bad, record_msg("s", {"id": 3}),
                state_msg("S3")]
        res = self.run_target(msgs, ["--max-batch-records", "1"])
        self.assertExit(res, 1)
        self.assertCritical(res, "line %d" % line_no, *needles)
        self.assertEqual(res.states, ["S1"])
        self.assertEqual(self.server.records("s"), [{"id": 1}, {"id": 2}])
        self.no_request_holds('"id":3')
        return res

    def test_non_json_line_fails_naming_the_line(self):
        self.check_bad_line("this is not json", 6)

    def test_truncated_json_fails_naming_the_line(self):
        self.check_bad_line('{"type":"RECORD","stream":"s","record":{"id":', 6)

    def test_message_without_type_fails_naming_the_line(self):
        self.check_bad_line('{"stream":"s","record":{"id":9}}', 6, "type")

    def test_record_before_schema_fails_naming_the_line(self):
        self.check_bad_line(record_msg("nowhere", {"id": 9}), 6, "nowhere")

    def test_record_missing_key_property_fails_naming_the_line(self):
        self.check_bad_line(record_msg("s", {"name": "no id"}), 6, "id")

    def test_record_without_record_key_fails_naming_the_line(self):
        self.check_bad_line('{"type":"RECORD","stream":"s"}', 6, "record")

    def test_state_without_value_fails_naming_the_line(self):
        self.check_bad_line('{"type":"STATE"}', 6, "value")

    def test_schema_without_schema_fails_naming_the_line(self):
        self.check_bad_line('{"type":"SCHEMA","stream":"t",'
                            '"key_properties":[]}', 6, "schema")

    def test_blank_and_whitespace_lines_skipped(self):
        msgs = ["", schema_msg("s"), "   ", record_msg("s", {"id": 1}),
                "\t \t", "", record_msg("s", {"id": 2}), " ",
                state_msg("S")]
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertEqual(self.server.records("s"), [{"id": 1}, {"id": 2}])
        self.assertEqual(res.states, ["S"])

    def test_unknown_message_type_skipped(self):
        msgs = [schema_msg("s"), {"type": "BATCH", "stream": "s"},
                {"type": "record", "stream": "s", "record": {"id": 5}},
                record_msg("s", {"id": 1}), {"type": 7}, state_msg("S")]
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertEqual(self.server.records("s"), [{"id": 1}])
        self.assertEqual(res.states, ["S"])

    def test_crlf_line_endings(self):
        msgs = [schema_msg("s"), record_msg("s", {"id": 1}),
                record_msg("s", {"id": 2, "t": "a\r\nb"}), state_msg("S")]
        res = self.run_target(encode(msgs, newline=b"\r\n"))
        self.assertOk(res)
        self.assertEqual(self.server.records("s"),
                         [{"id": 1}, {"id": 2, "t": "a\r\nb"}])
        self.assertEqual(res.states, ["S"])

    def test_crlf_error_line_number(self):
        msgs = [schema_msg("s"), record_msg("s", {"id": 1}), "oops"]
        res = self.run_target(encode(msgs, newline=b"\r\n"))
        self.assertExit(res, 1)
        self.assertCritical(res, "line 3")

    def test_last_line_without_newline(self):
        data = encode([schema_msg("s"), record_msg("s", {"id": 1})]) + \
            json.dumps(state_msg("S")).encode()
        res = self.run_target(data)
        self.assertOk(res)
        self.assertEqual(res.states, ["S"])

    def test_schema_without_key_properties_warns_and_sends_empty_key_names(self):
        msgs = [schema_msg("s", keys=None), record_msg("s", {"v": 1})]
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertTrue(any("key_properties" in w for w in res.warnings()),
                        res)
        [b] = self.server.batches
        self.assertEqual(b["body"]["key_names"], [])

    def test_empty_key_properties_sends_empty_key_names(self):
        res = self.run_target([schema_msg("s", keys=[]),
                               record_msg("s", {"v": 1})])
        self.assertOk(res)
        self.assertEqual(res.warnings(), [])
        self.assertEqual(self.server.batches[0]["body"]["key_names"], [])

    def test_composite_key_properties_forwarded(self):
        msgs = [schema_msg("s", keys=["a", "b"]),
                record_msg("s", {"a": 1, "b": 2, "c": 3})]
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertEqual(self.server.batches[0]["body"]["key_names"],
                         ["a", "b"])


# --- time_extracted -----------------------------------------------------------

class TimeExtractedTest(TargetCase):

    def times(self):
        return [m.get("time_extracted") for m in self.server.upserts()]

    def test_time_extracted_converted_to_utc(self):
        cases = [("2020-03-01T11:15:00.25+02:00", "2020-03-01T09:15:00.250000Z"),
                 ("2019-06-18T17:10:05Z", "2019-06-18T17:10:05.000000Z"),
                 ("2020-01-01T01:30:00-05:30", "2020-01-01T07:00:00.000000Z"),
                 ("2020-03-01T00:15:00+01:00", "2020-02-29T23:15:00.000000Z"),
                 ("2018-11-02T22:57:04.8410209Z",
                  "2018-11-02T22:57:04.841020Z")]
        msgs = [schema_msg("s")]
        for i, (given, _) in enumerate(cases):
            msgs.append(record_msg("s", {"id": i}, time_extracted=given))
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertEqual(self.times(), [want for _, want in cases])

    def test_unparseable_time_extracted_dropped_with_warning(self):
        msgs = [schema_msg("s"),
                record_msg("s", {"id": 1}, time_extracted="yesterday"),
                record_msg("s", {"id": 2}, time_extracted="2020-13-45T99:00Z"),
                record_msg("s", {"id": 3}, time_extracted=12345),
                record_msg("s", {"id": 4}, time_extracted=""),
                record_msg("s", {"id": 5}, time_extracted=None),
                record_msg("s", {"id": 6},
                           time_extracted="2020-03-01T09:15:00Z")]
        res = self.run_target(msgs)
        self.assertOk(res)
        self.assertTrue(any("time_extracted" in w for w in res.warnings()),
                        res)
        self.assertEqual(self.times(), [None] * 5 +
                         ["2020-03-01T09:15:00.000000Z"])
        self.assertEqual(len(self.server.upserts()), 6)


# --- command line and config --------------------------------------------------

class CommandLineTest(TargetCase):

    def test_no_config_and_no_dry_run_exits_2(self):
        res = self.run_raw([], encode([state_msg(1)]))
        self.assertExit(res, 2)
        self.assertIn("usage", res.err)
        self.assertEqual(res.out, b"")

    def test_missing_config_file_exits_2_naming_it(self):
        missing = self.path("nope.json")
        res = self.run_raw(["-c", missing], encode([state_msg(1)]))
        self.assertExit(res, 2)
        self.assertIn(missing, res.err)
        self.assertEqual(res.out, b"")

    def test_config_that_is_not_json_exits_2(self):
        path = self.path("broken.json")
        with open(path, "w") as f:
            f.write('{"token": "%s", ' % TOKEN)
        os.chmod(path, 0o600)
        res = self.run_raw(["-c", path], encode([state_msg(1)]))
        self.assertExit(res, 2)
        self.assertIn(path, res.err)

    def check_config_error(self, key, **changes):
        cfg = self.config(**changes)
        res = self.run_raw(["-c", cfg], encode([schema_msg("s")] + ids(1) +
                                               [state_msg(1)]))
        self.assertExit(res, 2)
        lines = res.err.strip().splitlines()
        self.assertEqual(len(lines), 1, res)
        self.assertIn(key, lines[0])
        self.assertIn(cfg, lines[0])
        self.assertEqual(res.out, b"")
        self.assertEqual(self.server.requests, [])

    def test_missing_token_exits_2_naming_key(self):
        self.check_config_error("token", token=None)

    def test_empty_token_exits_2_naming_key(self):
        self.check_config_error("token", token="")

    def test_missing_small_batch_url_exits_2_naming_key(self):
        self.check_config_error("small_batch_url", small_batch_url=None)

    def test_missing_big_batch_url_exits_2_naming_key(self):
        self.check_config_error("big_batch_url", big_batch_url=None)

    def test_missing_batch_size_preferences_exits_2_naming_key(self):
        self.check_config_error("batch_size_preferences",
                                batch_size_preferences=None)

    def test_string_turbo_boost_factor_exits_2_naming_key(self):
        self.check_config_error("turbo_boost_factor", turbo_boost_factor="4")

    def test_zero_request_timeout_exits_2_naming_key(self):
        self.check_config_error("request_timeout", request_timeout=0)

    def test_help_exits_0(self):
        res = self.run_raw(["--help"])
        self.assertExit(res, 0)
        self.assertIn(b"usage", res.out)
        self.assertIn(b"--max-batch-records", res.out)

    def test_version_exits_0(self):
        res = self.run_raw(["--version"])
        self.assertExit(res, 0)
        self.assertRegex(res.out.decode(), r"^target-stitch \d+\.\d+")

    def test_bad_max_batch_records_exits_2(self):
        res = self.run_raw(["-n", "--max-batch-records", "zero"])
        self.assertExit(res, 2)

    def test_dry_run_sends_nothing_and_prints_states(self):
        msgs = [schema_msg("s")]
        for i in range(6):
            msgs += [record_msg("s", {"id": i}), state_msg("S%d" % i)]
        res = self.run_raw(["-n", "-c", self.config(),
                            "--max-batch-records", "2"], encode(msgs))
        self.assertOk(res)
        self.assertEqual(res.states, ["S0", "S2", "S4", "S5"])
        self.assertEqual(self.server.requests, [])

    def test_dry_run_still_checks_key_properties(self):
        msgs = [schema_msg("s"), record_msg("s", {"x": 1})]
        res = self.run_raw(["-n"], encode(msgs))
        self.assertExit(res, 1)
        self.assertCritical(res, "line 2")

    def test_output_file_has_one_body_per_line(self):
        out = self.path("bodies.jsonl")
        msgs = [schema_msg("s")]
        for i in range(7):
            msgs += [record_msg("s", {"id": i}), state_msg("S%d" % i)]
        res = self.run_raw(["-n", "-o", out, "--max-batch-records", "3"],
                           encode(msgs))
        self.assertOk(res)
        self.assertEqual(res.states, ["S1", "S4", "S6"])
        with open(out, "rb") as f:
            lines = f.read().split(b"\n")
        self.assertEqual(lines[-1], b"")
        bodies = [parse_json(x) for x in lines[:-1]]
        self.assertEqual(len(bodies), 3)
        for body in bodies:
            stitch_server.validate_batch(body)
        self.assertEqual([m["data"]["id"] for b in bodies
                          for m in b["messages"]], list(range(7)))

    def test_output_file_with_real_config_prints_each_state_once(self):
        out = self.path("bodies.jsonl")
        msgs = [schema_msg("s")]
        for i in range(7):
            msgs += [record_msg("s", {"id": i}), state_msg("S%d" % i)]
        res = self.run_target(msgs, ["-o", out, "--max-batch-records", "3"])
        self.assertOk(res)
        self.assertEqual(res.states, ["S1", "S4", "S6"])
        with open(out, "rb") as f:
            bodies = [parse_json(x) for x in f.read().splitlines()]
        self.assertEqual(len(bodies), len(self.server.batches))
        strip = lambda b: [m["data"] for m in b["messages"]]  # noqa: E731
        self.assertEqual([strip(b) for b in bodies],
                         [strip(b["body"]) for b in self.server.batches])
        self.assertDelivered(encode(msgs))

    def test_batch_delay_seconds_zero_flushes_every_record(self):
        msgs = [schema_msg("s")] + ids(4) + [state_msg("S")]
        res = self.run_target(msgs, ["--batch-delay-seconds", "0"])
        self.assertOk(res)
        self.assertEqual(len(self.server.batches), 4)
        self.assertEqual(res.states, ["S"])

    def test_quiet_input_flushes_after_batch_delay(self):
        data = encode([schema_msg("s")] + ids(3) + [state_msg("S")])
        lv = self.live(b"", ["--batch-delay-seconds", "1"], stdin_open=True)
        lv.proc.stdin.write(data)
        lv.proc.stdin.flush()
        # No more input comes, and stdin stays open.
        self.assertTrue(self.server.wait_for(
            lambda srv: len(srv.batches) >= 1, TIMEOUT))
        deadline = time.monotonic() + TIMEOUT
        while not lv.stdout_lines() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual([x[1] for x in lv.stdout_lines()], [b'"S"'])
        self.assertIsNone(lv.proc.poll())
        lv.proc.stdin.close()
        res = self.finish(lv)
        self.assertOk(res)
        self.assertEqual(self.server.records("s"),
                         [{"id": i, "name": "n%d" % i} for i in range(3)])

    def test_disable_collection_accepted_and_ignored(self):
        for value in (True, False, "true", 1):
            with self.subTest(value=value):
                start = len(self.server.batches)
                res = self.run_target([schema_msg("s")] + ids(1) +
                                      [state_msg("S")],
                                      disable_collection=value)
                self.assertOk(res)
                self.assertEqual(len(self.server.batches), start + 1)
                self.assertEqual(res.states, ["S"])

    def test_quiet_logs_no_info(self):
        res = self.run_target([schema_msg("s")] + ids(2), ["-q"])
        self.assertOk(res)
        self.assertNotIn("INFO", res.err)


if __name__ == "__main__":
    unittest.main()
