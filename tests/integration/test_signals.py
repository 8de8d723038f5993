"""Signals, closed pipes and kills: SIGTERM and SIGINT stop both programs
cleanly with 128 plus the signal, a reader that goes away is an error and
not a silent death, and a kill -9 at any point loses nothing once the
window is run again."""
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests"))
from stitch_server import StitchServer  # noqa: E402
from taktile_server import TaktileServer, generate  # noqa: E402

TOKEN = "tok-SIGNALS-7781"
API_KEY = "key-SIGNALS-4410"
SLOW = 3 if harness.VALGRIND else 1
TIMEOUT = 600 if harness.VALGRIND else 60
ENV = dict(os.environ, no_proxy="127.0.0.1", NO_PROXY="127.0.0.1")
RUN_SH = os.path.join(harness.ROOT, "run.sh")
UTC = datetime.timezone.utc
WINDOW_START = datetime.datetime(2023, 5, 30, 14, 0, tzinfo=UTC)


def msg(**m):
    return (json.dumps(m) + "\n").encode()


SCHEMA = msg(type="SCHEMA", stream="s", key_properties=["id"],
             schema={"type": "object",
                     "properties": {"id": {"type": "integer"}}})


def record(i):
    return msg(type="RECORD", stream="s", record={"id": i})


def lines_of(data):
    return [json.loads(x) for x in data.decode().splitlines() if x.strip()]


class Base(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="signals-test-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.stitch = StitchServer(token=TOKEN).start()
        self.addCleanup(self.stitch.stop)

    def write(self, name, obj):
        return harness.write_json(self.dir, name, obj)

    def target_config(self, **extra):
        cfg = {"token": TOKEN, "client_id": 1,
               "small_batch_url": self.stitch.url(),
               "big_batch_url": self.stitch.url(),
               "batch_size_preferences": {}, "max_attempts": 2,
               "retry_base_seconds": 0.05}
        cfg.update(extra)
        return self.write("target.json", cfg)

    def start(self, name, args, stdout=subprocess.PIPE):
        proc = subprocess.Popen(harness.wrap([harness.program(name)] + args),
                                stdin=subprocess.PIPE, stdout=stdout,
                                stderr=subprocess.PIPE, env=ENV)
        self.addCleanup(self.reap, proc)
        return proc

    @staticmethod
    def reap(proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for f in (proc.stdin, proc.stdout, proc.stderr):
            if f:
                f.close()

    def finish(self, proc, stdin=None):
        out, err = proc.communicate(input=stdin, timeout=TIMEOUT)
        out = out or b""
        harness.check_sanitizers(err)
        text = err.decode("utf-8", "replace")
        self.assertNotIn(TOKEN, text + out.decode("utf-8", "replace"))
        self.assertNotIn(API_KEY, text + out.decode("utf-8", "replace"))
        return out, text


class TargetSignalTest(Base):
    def test_sigterm_prints_only_confirmed_states(self):
        hold = threading.Event()
        self.stitch.push({"hold": hold})
        proc = self.start("target-stitch", ["-c", self.target_config(),
                                            "--max-batch-records", "2"])
        proc.stdin.write(SCHEMA + msg(type="STATE", value={"a": 1}) +
                         record(1) + record(2) + record(3) +
                         msg(type="STATE", value={"a": 3}))
        proc.stdin.flush()
        self.assertTrue(self.stitch.wait_requests(1, TIMEOUT))
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3 * SLOW)
        hold.set()
        started = time.monotonic()
        out, err = self.finish(proc)
        self.assertEqual(proc.returncode, 128 + signal.SIGTERM, err)
        self.assertLess(time.monotonic() - started, 12 * SLOW)
        # The batch in flight was accepted within the grace period, so
        # its state is printed; record 3 was never sent.
        self.assertEqual(out, b'{"a":1}\n')
        self.assertEqual([m["data"]["id"] for b in self.stitch.batches
                          for m in b["body"]["messages"]], [1, 2])
        self.assertIn("WARNING stopping on", err)

    def test_sigint_while_waiting_for_input(self):
        proc = self.start("target-stitch", ["-c", self.target_config()])
        proc.stdin.write(SCHEMA + record(1))
        proc.stdin.flush()
        time.sleep(0.5 * SLOW)
        proc.send_signal(signal.SIGINT)
        out, err = self.finish(proc)
        self.assertEqual(proc.returncode, 128 + signal.SIGINT, err)
        self.assertEqual(out, b"")
        self.assertEqual(self.stitch.requests, [])

    def test_closed_stdout_is_an_error(self):
        r, w = os.pipe()
        os.close(r)
        try:
            proc = self.start("target-stitch", ["-c", self.target_config()],
                              stdout=w)
        finally:
            os.close(w)
        out, err = self.finish(proc, SCHEMA + record(1) +
                               msg(type="STATE", value={"a": 1}))
        self.assertEqual(proc.returncode, 1, err)
        self.assertTrue(any(x.startswith("CRITICAL") and "stdout" in x
                            for x in err.splitlines()), err)


class TapSignalTest(Base):
    def setUp(self):
        Base.setUp(self)
        self.taktile = TaktileServer(
            api_key=API_KEY,
            decisions=generate(1500, WINDOW_START, 3000.0)).start()
        self.addCleanup(self.taktile.stop)

    def tap_config(self):
        return self.write("tap.json", {
            "base_url": self.taktile.base_url, "api_key": API_KEY,
            "start_time": "2023-05-30T14:00:00Z",
            "end_time": "2023-05-30T15:00:00Z",
            "retry_base_seconds": 0.05})

    def test_sigterm_stops_after_the_page_in_hand(self):
        self.taktile.push({}, {"delay": 30})
        with open(os.path.join(self.dir, "out"), "w+b") as f:
            proc = self.start("tap-taktile", ["-c", self.tap_config()],
                              stdout=f)
            self.assertTrue(self.taktile.wait_requests(2, TIMEOUT))
            time.sleep(0.2 * SLOW)
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            _, err = self.finish(proc)
            f.seek(0)
            out = f.read()
        self.assertEqual(proc.returncode, 128 + signal.SIGTERM, err)
        self.assertLess(time.monotonic() - started, 5 * SLOW)
        messages = lines_of(out)
        self.assertEqual(messages[0]["type"], "SCHEMA")
        self.assertEqual(sum(m["type"] == "RECORD" for m in messages), 1000)
        self.assertNotIn("STATE", [m["type"] for m in messages])

    def test_closed_stdout_is_an_error(self):
        r, w = os.pipe()
        os.close(r)
        try:
            proc = self.start("tap-taktile", ["-c", self.tap_config()],
                              stdout=w)
        finally:
            os.close(w)
        out, err = self.finish(proc)
        self.assertEqual(proc.returncode, 1, err)
        self.assertTrue(any(x.startswith("CRITICAL") and "stdout" in x
                            for x in err.splitlines()), err)


class KillTest(Base):
    """kill -9 of either program in the middle of run.sh, then a rerun:
    every decision of the window reaches Stitch."""

    def setUp(self):
        Base.setUp(self)
        self.taktile = TaktileServer(
            api_key=API_KEY,
            decisions=generate(2500, WINDOW_START, 3000.0)).start()
        self.addCleanup(self.taktile.stop)
        self.wanted = {d.id for d in self.taktile.decisions} \
            if hasattr(self.taktile, "decisions") else None
        self.tmp = os.path.join(self.dir, "tmp")
        os.mkdir(self.tmp, 0o700)
        self.tap = self.write("tap.json", {
            "base_url": self.taktile.base_url, "api_key": API_KEY,
            "retry_base_seconds": 0.05, "max_attempts": 2})

    def run_sh(self, wait=True):
        env = dict(ENV, TAP_CONFIG=self.tap, STATE_DIR=os.path.join(
            self.dir, "state"), TARGET_CONFIG=self.target_config(),
            TMPDIR=self.tmp, RUN_SH_NOW="2023-05-30T15:05:00Z")
        for k in ("TAP_START_TIME", "TAP_END_TIME"):
            env.pop(k, None)
        proc = subprocess.Popen([RUN_SH], cwd="/", env=env,
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self.addCleanup(self.reap, proc)
        if wait:
            proc.out, proc.err = proc.communicate(timeout=TIMEOUT)
        return proc

    def pid_of(self, name):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if name.encode() in cmd and self.dir.encode() in cmd:
                return int(entry)
        return None

    def kill_mid_run(self, name, server, action):
        server.push({}, action) if server is self.taktile else \
            server.push(action)
        proc = self.run_sh(wait=False)
        deadline = time.monotonic() + TIMEOUT
        pid = None
        while pid is None and time.monotonic() < deadline:
            if server.requests:
                pid = self.pid_of(name)
            time.sleep(0.05)
        self.assertIsNotNone(pid, "%s never ran" % name)
        os.kill(pid, signal.SIGKILL)
        proc.communicate(timeout=TIMEOUT)
        self.assertEqual(proc.returncode, 1)
        self.assertFalse(os.path.exists(os.path.join(
            self.dir, "state", "last-window-end")))
        again = self.run_sh()
        self.assertEqual(again.returncode, 0, again.err[-3000:].decode())
        got = {r["id"] for r in self.stitch.records("decisions")}
        self.assertEqual(len(got), 2500)

    def test_kill_9_of_the_target_then_rerun(self):
        self.kill_mid_run("target-stitch", self.stitch, {"delay": 30})

    def test_kill_9_of_the_tap_then_rerun(self):
        self.kill_mid_run("tap-taktile", self.taktile, {"delay": 30})


if __name__ == "__main__":
    unittest.main()
