"""Tests of run.sh, the hourly export: the real script, running the real
bin/tap-taktile piped into bin/target-stitch, against local stand-ins of
Taktile's decision-history API and the Stitch Import API.

The Taktile stand-in serves a decision every five minutes over four days,
so which window a run exported shows both in the query the tap sent and
in the set of decision ids that reached Stitch.  Every run fixes the
clock with RUN_SH_NOW, except the demo's, which uses the real one."""
import datetime
import errno
import fcntl
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests"))
from stitch_server import StitchServer  # noqa: E402
from taktile_server import TaktileServer, generate, parse_time  # noqa: E402

RUN_SH = os.path.join(harness.ROOT, "run.sh")
API_KEY = "tk-run-sh-api-key-5d0c71"
TOKEN = "st-run-sh-token-a93e24"
TABLE = "decisions"
TIMEOUT = 600 if harness.VALGRIND else 60

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 75
SIGTERM_STATUS = 128 + signal.SIGTERM

UTC = datetime.timezone.utc
FIRST = datetime.datetime(2023, 5, 27, 0, 0, 0, tzinfo=UTC)
STEP_SECONDS = 300
DAYS = 4
COUNT = DAYS * 86400 // STEP_SECONDS
NOW = "2023-05-30T15:05:00Z"

# Left in the user's tap config on purpose: a run that queried these
# would not have written its own window over them.
STALE_START = "2020-01-01T00:00:00Z"
STALE_END = "2020-01-01T01:00:00Z"

SUMMARY = re.compile(r"^run\.sh: window (\S+) to (\S+): (\d+) records in "
                     r"(\d+) window\(s\), (\d+) s, (ok|failed \(exit (\d+)\))$")

_decisions = None


def decisions():
    """The decisions served: one every five minutes from FIRST, for DAYS
    days, so that every hour starts with one exactly on the hour."""
    global _decisions
    if _decisions is None:
        _decisions = generate(COUNT, FIRST, float(DAYS * 86400))
    return _decisions


def T(text):
    """An ISO 8601 text as an aware UTC datetime (naive means UTC)."""
    t = parse_time(text)
    assert t is not None, text
    return t


def ids_between(start, end):
    """The ids of the decisions with start <= end_time < end."""
    start, end = T(start), T(end)
    return {d.id for d in decisions() if start <= d.end < end}


def first_id_at(when):
    """The id of the decision whose end_time is exactly `when`."""
    when = T(when)
    for d in decisions():
        if d.end == when:
            return d.id
    raise AssertionError("no decision at %s" % when)


def query_window(request):
    """(start, end) a request to the Taktile stand-in asked for, read
    from its raw query (also for requests answered with a fault)."""
    params = dict(urllib.parse.parse_qsl(request["query"]))
    return T(params["start_time"]), T(params["end_time"])


def processes_mentioning(text):
    """(pid, command line) of every live process whose command line
    contains `text`; zombies have an empty command line and so never
    match."""
    needle = text.encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if needle in cmd:
            found.append((int(name), cmd.replace(b"\0", b" ").decode(
                "utf-8", "replace").strip()))
    return found


class RunShTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="run-sh-test-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.addCleanup(self._stop_strays)
        self.tmpdir = os.path.join(self.dir, "tmp")
        os.mkdir(self.tmpdir, 0o700)
        self.state = os.path.join(self.dir, "state")
        self.progress = os.path.join(self.state, "last-window-end")

        self.taktile = TaktileServer(api_key=API_KEY,
                                     decisions=decisions()).start()
        self.addCleanup(self.taktile.stop)
        self.stitch = StitchServer(token=TOKEN).start()
        self.addCleanup(self.stitch.stop)

        # Written the way a person might: indented, no final newline.
        self.tap_config = os.path.join(self.dir, "tap-config.json")
        self._write(self.tap_config, json.dumps({
            "base_url": self.taktile.base_url,
            "api_key": API_KEY,
            "start_time": STALE_START,
            "end_time": STALE_END,
            "include_node_results": True,
            "include_external_resources": False,
            "max_attempts": 2,
            "retry_base_seconds": 0.05,
            "request_timeout": 30,
        }, indent=4))
        self.target_config = os.path.join(self.dir, "target-config.json")
        self._write(self.target_config, json.dumps({
            "token": TOKEN,
            "client_id": 4242,
            "small_batch_url": self.stitch.url(),
            "big_batch_url": self.stitch.url(),
            "batch_size_preferences": {},
            "max_attempts": 2,
            "retry_base_seconds": 0.05,
        }) + "\n")

    @staticmethod
    def _write(path, text, mode=0o600):
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)

    def _stop_strays(self):
        # A safety net only: the tests themselves assert that nothing is
        # left running.
        for pid, _ in processes_mentioning(self.dir):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    # --- running run.sh -------------------------------------------------

    def env(self, now=NOW, **extra):
        env = {k: v for k, v in os.environ.items()
               if k not in ("TAP_START_TIME", "TAP_END_TIME", "RUN_SH_NOW",
                            "TAP_CONFIG", "TARGET_CONFIG", "STATE_DIR")}
        env.update({
            "TAP_CONFIG": self.tap_config,
            "TARGET_CONFIG": self.target_config,
            "STATE_DIR": self.state,
            "TMPDIR": self.tmpdir,
            "no_proxy": "127.0.0.1",
            "NO_PROXY": "127.0.0.1",
        })
        if now is not None:
            env["RUN_SH_NOW"] = now
        env.update(extra)
        return env

    def run_sh(self, *args, now=NOW, timeout=TIMEOUT, **extra):
        """Run run.sh from / and return the CompletedProcess (text)."""
        started = time.monotonic()
        proc = subprocess.run([RUN_SH] + list(args), cwd="/",
                              env=self.env(now, **extra),
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              timeout=timeout)
        proc.elapsed = time.monotonic() - started
        return proc

    def assertStatus(self, proc, status):
        self.assertEqual(proc.returncode, status,
                         "run.sh exited %d, expected %d; stderr:\n%s" % (
                             proc.returncode, status, proc.stderr[-4000:]))

    # --- what happened --------------------------------------------------

    def windows(self):
        """(start, end) of every window the tap asked Taktile for, as
        aware datetimes, in order: the first page of each query."""
        out = []
        for r in self.taktile.page_requests():
            params = dict(r["params"])
            if "after" not in params:
                out.append((T(params["start_time"]), T(params["end_time"])))
        return out

    def raw_windows(self):
        """The same, as the texts the tap sent."""
        return [(dict(r["params"])["start_time"],
                 dict(r["params"])["end_time"])
                for r in self.taktile.page_requests()
                if "after" not in dict(r["params"])]

    def delivered(self):
        """The ids of every record Stitch accepted, in order."""
        return [rec["id"] for rec in self.stitch.records(TABLE)]

    def recorded(self):
        """The text of STATE_DIR/last-window-end, or None."""
        try:
            with open(self.progress) as f:
                return f.read()
        except FileNotFoundError:
            return None

    def set_recorded(self, when):
        os.makedirs(self.state, exist_ok=True)
        with open(self.progress, "w") as f:
            f.write(when + "\n")

    def summary(self, proc):
        lines = proc.stderr.rstrip("\n").split("\n")
        m = SUMMARY.match(lines[-1])
        self.assertIsNotNone(m, "the last line of stderr is not the "
                             "summary: %r\nstderr:\n%s" % (
                                 lines[-1], proc.stderr[-4000:]))
        return m

    def temp_entries(self):
        return sorted(os.listdir(self.tmpdir))

    def assertNoTempLeft(self):
        self.assertEqual(self.temp_entries(), [],
                         "run.sh left files in TMPDIR")

    def assertNothingRequested(self):
        self.assertEqual(self.taktile.requests, [],
                         "the tap asked Taktile for something")
        self.assertEqual(self.stitch.requests, [],
                         "the target sent something to Stitch")

    def assertNoChildren(self, grace=2.0):
        deadline = time.monotonic() + grace
        while True:
            left = processes_mentioning(self.dir)
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(left, [], "processes of the run still alive")

    def snapshot_configs(self):
        out = {}
        for path in (self.tap_config, self.target_config):
            with open(path, "rb") as f:
                out[path] = (f.read(), stat.S_IMODE(os.stat(path).st_mode))
        return out

    # --- the default window ---------------------------------------------

    def test_default_window_is_the_previous_full_hour(self):
        seen = []

        def look(info):
            # Taken while the target is sending: the private copy exists.
            entries = []
            for name in os.listdir(self.tmpdir):
                path = os.path.join(self.tmpdir, name)
                config = os.path.join(path, "tap-config.json")
                item = {"name": name,
                        "mode": stat.S_IMODE(os.lstat(path).st_mode)}
                if os.path.exists(config):
                    item["config_mode"] = stat.S_IMODE(
                        os.stat(config).st_mode)
                    with open(config) as f:
                        item["config"] = json.load(f)
                entries.append(item)
            seen.append(entries)
            return None

        self.stitch.hook = look
        proc = self.run_sh()
        self.assertStatus(proc, EXIT_OK)

        self.assertEqual(self.windows(), [(T("2023-05-30T14:00:00Z"),
                                           T("2023-05-30T15:00:00Z"))])
        expected = ids_between("2023-05-30T14:00:00Z",
                               "2023-05-30T15:00:00Z")
        self.assertEqual(len(expected), 12)
        got = self.delivered()
        self.assertEqual(sorted(got), sorted(expected),
                         "not exactly the decisions of 14:00 to 15:00")
        self.assertEqual(self.recorded(), "2023-05-30T15:00:00Z\n")

        m = self.summary(proc)
        self.assertEqual(m.group(1), "2023-05-30T14:00:00Z")
        self.assertEqual(m.group(2), "2023-05-30T15:00:00Z")
        self.assertEqual(m.group(3), "12")
        self.assertEqual(m.group(4), "1")
        self.assertEqual(m.group(6), "ok")
        self.assertNotIn("WARNING", proc.stderr)

        # The window went into a private copy, which is gone now.
        self.assertTrue(seen, "Stitch saw no request")
        entries = seen[0]
        self.assertEqual(len(entries), 1, entries)
        self.assertRegex(entries[0]["name"], r"^run-sh\.[A-Za-z0-9]{6}$")
        self.assertEqual(entries[0]["mode"], 0o700)
        self.assertEqual(entries[0].get("config_mode"), 0o600)
        config = entries[0]["config"]
        self.assertEqual(parse_time(config["start_time"]),
                         T("2023-05-30T14:00:00Z"))
        self.assertEqual(parse_time(config["end_time"]),
                         T("2023-05-30T15:00:00Z"))
        self.assertEqual(config["api_key"], API_KEY)
        self.assertEqual(config["base_url"], self.taktile.base_url)
        self.assertNoTempLeft()
        self.assertNoChildren()

    def test_first_run_at_the_top_of_the_hour(self):
        proc = self.run_sh(now="2023-05-30T15:00:00Z")
        self.assertStatus(proc, EXIT_OK)
        self.assertEqual(self.windows(), [(T("2023-05-30T14:00:00Z"),
                                           T("2023-05-30T15:00:00Z"))])
        self.assertEqual(self.recorded(), "2023-05-30T15:00:00Z\n")

    # --- overrides ------------------------------------------------------

    def test_start_and_end_override(self):
        proc = self.run_sh(TAP_START_TIME="2023-05-29T03:00:00Z",
                           TAP_END_TIME="2023-05-29T05:30:00Z")
        self.assertStatus(proc, EXIT_OK)
        self.assertEqual(self.windows(), [(T("2023-05-29T03:00:00Z"),
                                           T("2023-05-29T05:30:00Z"))])
        expected = ids_between("2023-05-29T03:00:00Z",
                               "2023-05-29T05:30:00Z")
        self.assertEqual(len(expected), 30)
        self.assertEqual(sorted(self.delivered()), sorted(expected))
        m = self.summary(proc)
        self.assertEqual(m.group(1, 2, 3, 6), ("2023-05-29T03:00:00Z",
                                               "2023-05-29T05:30:00Z",
                                               "30", "ok"))
        self.assertIsNone(self.recorded(), "an override run recorded "
                          "progress")
        self.assertNoTempLeft()

    def test_override_leaves_recorded_progress_alone(self):
        self.set_recorded("2023-05-30T12:00:00Z")
        proc = self.run_sh(TAP_START_TIME="2023-05-28T00:00:00Z",
                           TAP_END_TIME="2023-05-28T02:00:00Z")
        self.assertStatus(proc, EXIT_OK)
        self.assertEqual(self.windows(), [(T("2023-05-28T00:00:00Z"),
                                           T("2023-05-28T02:00:00Z"))])
        self.assertEqual(self.recorded(), "2023-05-30T12:00:00Z\n")
        self.assertFalse(os.path.exists(self.progress + ".tmp"))

    def test_naive_times_are_utc(self):
        # A local time zone far from UTC: a naive time must not be read
        # in it.
        proc = self.run_sh(TAP_START_TIME="2023-05-29T03:00:00",
                           TAP_END_TIME="2023-05-29T04:00:00",
                           TZ="America/New_York")
        self.assertStatus(proc, EXIT_OK)
        self.assertEqual(self.windows(), [(T("2023-05-29T03:00:00Z"),
                                           T("2023-05-29T04:00:00Z"))])
        self.assertEqual(sorted(self.delivered()),
                         sorted(ids_between("2023-05-29T03:00:00Z",
                                            "2023-05-29T04:00:00Z")))

    def test_offsets_are_converted_to_utc(self):
        proc = self.run_sh(TAP_START_TIME="2023-05-29T05:00:00+02:00",
                           TAP_END_TIME="2023-05-28T23:00:00-05:00")
        self.assertStatus(proc, EXIT_OK)
        self.assertEqual(self.windows(), [(T("2023-05-29T03:00:00Z"),
                                           T("2023-05-29T04:00:00Z"))])
        for text in self.raw_windows()[0]:
            self.assertTrue(text.endswith("Z") or text.endswith("+00:00"),
                            "not sent in UTC: %r" % text)
        self.assertEqual(sorted(self.delivered()),
                         sorted(ids_between("2023-05-29T03:00:00Z",
                                            "2023-05-29T04:00:00Z")))
        m = self.summary(proc)
        self.assertEqual(m.group(1, 2), ("2023-05-29T03:00:00Z",
                                         "2023-05-29T04:00:00Z"))

    def test_end_now_is_the_current_instant(self):
        proc = self.run_sh(TAP_END_TIME="now")
        self.assertStatus(proc, EXIT_OK)
        self.assertEqual(self.windows(), [(T("2023-05-30T14:05:00Z"),
                                           T("2023-05-30T15:05:00Z"))])
        got = set(self.delivered())
        self.assertEqual(got, ids_between("2023-05-30T14:05:00Z",
                                          "2023-05-30T15:05:00Z"))
        self.assertIn(first_id_at("2023-05-30T15:00:00Z"), got)
        self.assertNotIn(first_id_at("2023-05-30T14:00:00Z"), got)
        self.assertNotIn(first_id_at("2023-05-30T15:05:00Z"), got)
        self.assertIsNone(self.recorded())

    def test_start_alone_ends_at_the_current_hour(self):
        proc = self.run_sh(TAP_START_TIME="2023-05-30T11:30:00Z")
        self.assertStatus(proc, EXIT_OK)
        self.assertEqual(self.windows(), [(T("2023-05-30T11:30:00Z"),
                                           T("2023-05-30T15:00:00Z"))])
        self.assertIsNone(self.recorded())

    def test_end_alone_starts_an_hour_before(self):
        proc = self.run_sh(TAP_END_TIME="2023-05-28T07:00:00")
        self.assertStatus(proc, EXIT_OK)
        self.assertEqual(self.windows(), [(T("2023-05-28T06:00:00Z"),
                                           T("2023-05-28T07:00:00Z"))])
        self.assertIsNone(self.recorded())

    def test_start_after_end_is_a_usage_error(self):
        proc = self.run_sh(TAP_START_TIME="2023-05-29T05:00:00Z",
                           TAP_END_TIME="2023-05-29T04:00:00Z")
        self.assertStatus(proc, EXIT_USAGE)
        self.assertRegex(proc.stderr, r"TAP_START_TIME .*2023-05-29T05:00:00Z"
                         r".* after TAP_END_TIME .*2023-05-29T04:00:00Z")
        self.assertNothingRequested()
        self.assertFalse(os.path.exists(self.state))
        self.assertNoTempLeft()

    def test_bad_start_time_is_a_usage_error(self):
        proc = self.run_sh(TAP_START_TIME="2023-05-29T25:61:00")
        self.assertStatus(proc, EXIT_USAGE)
        self.assertIn("TAP_START_TIME", proc.stderr)
        self.assertIn("2023-05-29T25:61:00", proc.stderr)
        self.assertNothingRequested()
        self.assertFalse(os.path.exists(self.state))
        self.assertNoTempLeft()

    def test_a_time_that_is_not_iso_8601_is_a_usage_error(self):
        # Free-form dates must not slip through: "yesterday" and "5" (five
        # o'clock today) would be taken from the machine's clock, not from
        # RUN_SH_NOW, and "...Z+1 hour" is a mistyped time read as 04:00.
        for name, value, other in (
                ("TAP_END_TIME", "yesterday", {}),
                ("TAP_END_TIME", "5", {}),
                ("TAP_START_TIME", "2023-05-29T03:00:00Z+1 hour",
                 {"TAP_END_TIME": "2023-05-29T05:00:00Z"})):
            with self.subTest(**{name: value}):
                asked = len(self.taktile.requests)
                windows = len(self.raw_windows())
                proc = self.run_sh(**dict(other, **{name: value}))
                self.assertEqual(
                    proc.returncode, EXIT_USAGE,
                    "%s=%r was accepted: exit %d, the tap asked for %s" % (
                        name, value, proc.returncode,
                        self.raw_windows()[windows:]))
                self.assertIn(name, proc.stderr)
                self.assertEqual(len(self.taktile.requests), asked)
                self.assertNoTempLeft()

    def test_unreadable_last_window_end_is_a_usage_error(self):
        self.set_recorded("not a time")
        proc = self.run_sh()
        self.assertStatus(proc, EXIT_USAGE)
        self.assertIn(self.progress, proc.stderr)
        self.assertNothingRequested()
        self.assertEqual(self.recorded(), "not a time\n")
        self.assertNoTempLeft()

    def test_missing_config_is_a_usage_error(self):
        missing = os.path.join(self.dir, "no-such-config.json")
        for name in ("TAP_CONFIG", "TARGET_CONFIG"):
            with self.subTest(name):
                proc = self.run_sh(**{name: missing})
                self.assertStatus(proc, EXIT_USAGE)
                self.assertIn(missing, proc.stderr)
                self.assertNothingRequested()
                self.assertFalse(os.path.exists(self.state))
                self.assertNoTempLeft()

    def test_unknown_argument_is_a_usage_error(self):
        proc = self.run_sh("--frobnicate")
        self.assertStatus(proc, EXIT_USAGE)
        self.assertIn("usage:", proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertNothingRequested()
        self.assertFalse(os.path.exists(self.state))
        self.assertNoTempLeft()

    def test_help(self):
        proc = self.run_sh("--help")
        self.assertStatus(proc, EXIT_OK)
        self.assertIn("usage:", proc.stdout)
        self.assertIn("TAP_START_TIME", proc.stdout)
        self.assertIn("exit status", proc.stdout)
        self.assertNothingRequested()
        self.assertFalse(os.path.exists(self.state))
        self.assertNoTempLeft()

    # --- the config files -----------------------------------------------

    def test_configs_unchanged_by_runs(self):
        before = self.snapshot_configs()
        proc = self.run_sh()
        self.assertStatus(proc, EXIT_OK)
        self.assertEqual(self.snapshot_configs(), before)

        proc = self.run_sh(TAP_START_TIME="2023-05-28T00:00:00",
                           TAP_END_TIME="2023-05-28T01:00:00")
        self.assertStatus(proc, EXIT_OK)
        self.assertEqual(self.snapshot_configs(), before)

        self.stitch.hook = lambda info: {"status": 400}
        proc = self.run_sh(now="2023-05-30T16:05:00Z")
        self.assertStatus(proc, EXIT_FAILED)
        self.assertEqual(self.snapshot_configs(), before)
        self.assertNoTempLeft()

    def test_config_readable_by_others_draws_a_warning(self):
        os.chmod(self.tap_config, 0o644)
        os.chmod(self.target_config, 0o640)
        proc = self.run_sh()
        self.assertStatus(proc, EXIT_OK)
        warnings = [l for l in proc.stderr.splitlines() if "WARNING" in l]
        self.assertTrue(any(self.tap_config in l and "644" in l
                            for l in warnings), proc.stderr)
        self.assertTrue(any(self.target_config in l and "640" in l
                            for l in warnings), proc.stderr)
        # Only a warning: the export still ran, and nothing was chmod-ed.
        self.assertEqual(len(self.delivered()), 12)
        self.assertEqual(stat.S_IMODE(os.stat(self.tap_config).st_mode),
                         0o644)
        self.assertEqual(stat.S_IMODE(os.stat(self.target_config).st_mode),
                         0o640)

    # --- failures and the temporary copy --------------------------------

    def test_stitch_failure_exits_1_and_cleans_up(self):
        self.stitch.hook = lambda info: {"status": 400}
        proc = self.run_sh()
        self.assertStatus(proc, EXIT_FAILED)
        self.assertTrue(self.stitch.requests, "nothing reached Stitch")
        self.assertEqual(self.stitch.batches, [])
        self.assertIsNone(self.recorded())
        m = self.summary(proc)
        self.assertEqual(m.group(6), "failed (exit 1)")
        self.assertNoTempLeft()
        self.assertNoChildren()

    def test_taktile_401_exits_1_and_cleans_up(self):
        self.taktile.push({"status": 401})
        proc = self.run_sh()
        self.assertStatus(proc, EXIT_FAILED)
        self.assertEqual(len(self.taktile.requests), 1)
        self.assertEqual(self.stitch.batches, [])
        self.assertIsNone(self.recorded())
        self.assertIn("401", proc.stderr)
        self.assertNotIn(API_KEY, proc.stderr)
        m = self.summary(proc)
        self.assertEqual(m.group(6), "failed (exit 1)")
        self.assertNoTempLeft()
        self.assertNoChildren()

    def test_sigterm_stops_the_run_and_its_children(self):
        self.set_recorded("2023-05-30T13:00:00Z")
        self.taktile.push({"delay": 5.0})
        err_path = os.path.join(self.dir, "stderr")
        with open(err_path, "w") as err:
            proc = subprocess.Popen([RUN_SH], cwd="/", env=self.env(),
                                    stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err)
        try:
            self.taktile.wait_requests(1, timeout=20)
            self.assertIsNone(proc.poll(), "run.sh ended before the "
                              "delayed request")
            self.assertEqual(len(self.taktile.requests), 1)

            # In progress: the private copy exists, and both programs run.
            entries = self.temp_entries()
            self.assertEqual(len(entries), 1, entries)
            private = os.path.join(self.tmpdir, entries[0])
            self.assertTrue(entries[0].startswith("run-sh."), entries)
            self.assertEqual(stat.S_IMODE(os.stat(private).st_mode), 0o700)
            config = os.path.join(private, "tap-config.json")
            self.assertEqual(stat.S_IMODE(os.stat(config).st_mode), 0o600)
            running = " | ".join(c for _, c in
                                 processes_mentioning(self.dir))
            self.assertIn("tap-taktile --config %s" % config, running)
            self.assertIn("target-stitch --config %s" % self.target_config,
                          running)

            sent = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            status = proc.wait(timeout=10)
            took = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        with open(err_path) as f:
            stderr = f.read()
        self.assertEqual(status, SIGTERM_STATUS, stderr)
        self.assertLess(took, 2.0, "run.sh took %.1f s to stop" % took)
        self.assertIn("SIGTERM", stderr)
        self.assertNoChildren()
        self.assertNoTempLeft()
        self.assertEqual(self.recorded(), "2023-05-30T13:00:00Z\n")
        self.assertEqual(self.stitch.batches, [])

    # --- recorded progress ----------------------------------------------

    def test_failed_hours_are_caught_up_later(self):
        proc = self.run_sh(now="2023-05-30T15:05:00Z")
        self.assertStatus(proc, EXIT_OK)
        self.assertEqual(self.recorded(), "2023-05-30T15:00:00Z\n")

        # 16:05: Stitch refuses the batch.  17:05: Taktile answers 500
        # to every attempt.  17:00-18:00 never had a run of its own.
        self.stitch.hook = lambda info: {"status": 400}
        for now, end in (("2023-05-30T16:05:00Z", "2023-05-30T16:00:00Z"),
                         ("2023-05-30T17:05:00Z", "2023-05-30T17:00:00Z")):
            if now.startswith("2023-05-30T17"):
                self.stitch.hook = None
                self.taktile.push({"status": 500}, {"status": 500})
            proc = self.run_sh(now=now)
            self.assertStatus(proc, EXIT_FAILED)
            self.assertEqual(query_window(self.taktile.requests[-1]),
                             (T("2023-05-30T15:00:00Z"), T(end)))
            self.assertEqual(self.recorded(), "2023-05-30T15:00:00Z\n",
                             "a failed run recorded progress")
            self.assertFalse(os.path.exists(self.progress + ".tmp"))
            self.assertNoTempLeft()
        # The run at 18:05 exports the three hours at once.
        requests_before = len(self.windows())
        proc = self.run_sh(now="2023-05-30T18:05:00Z")
        self.assertStatus(proc, EXIT_OK)
        self.assertEqual(self.windows()[requests_before:],
                         [(T("2023-05-30T15:00:00Z"),
                           T("2023-05-30T18:00:00Z"))])
        self.assertEqual(self.recorded(), "2023-05-30T18:00:00Z\n")
        m = self.summary(proc)
        self.assertEqual(m.group(1, 2, 3, 4, 6),
                         ("2023-05-30T15:00:00Z", "2023-05-30T18:00:00Z",
                          "36", "1", "ok"))

        got = self.delivered()
        expected = ids_between("2023-05-30T14:00:00Z",
                               "2023-05-30T18:00:00Z")
        self.assertEqual(len(expected), 48)
        self.assertEqual(expected - set(got), set(), "decisions missing")
        self.assertEqual(set(got) - expected, set(),
                         "decisions from outside the windows")

    def test_long_gap_is_exported_in_windows_of_at_most_a_day(self):
        self.set_recorded("2023-05-27T18:00:00Z")
        proc = self.run_sh()
        self.assertStatus(proc, EXIT_OK)
        self.assertEqual(self.windows(), [
            (T("2023-05-27T18:00:00Z"), T("2023-05-28T18:00:00Z")),
            (T("2023-05-28T18:00:00Z"), T("2023-05-29T18:00:00Z")),
            (T("2023-05-29T18:00:00Z"), T("2023-05-30T15:00:00Z")),
        ])
        got = self.delivered()
        expected = ids_between("2023-05-27T18:00:00Z",
                               "2023-05-30T15:00:00Z")
        self.assertEqual(len(got), len(expected))
        self.assertEqual(set(got), expected)
        self.assertEqual(self.recorded(), "2023-05-30T15:00:00Z\n")
        m = self.summary(proc)
        self.assertEqual(m.group(1, 2, 3, 4, 6),
                         ("2023-05-27T18:00:00Z", "2023-05-30T15:00:00Z",
                          str(len(expected)), "3", "ok"))
        self.assertNoTempLeft()

    def test_each_window_is_recorded_as_it_completes(self):
        self.set_recorded("2023-05-27T15:00:00Z")
        # Stitch refuses every batch holding a decision of the second day.
        second_day = first_id_at("2023-05-28T15:00:00Z").encode()
        refusing = [True]
        self.stitch.hook = lambda info: {"status": 400} if refusing[0] and \
            second_day in (info["body"] or b"") else None
        proc = self.run_sh()
        self.assertStatus(proc, EXIT_FAILED)
        self.assertEqual(self.windows(), [
            (T("2023-05-27T15:00:00Z"), T("2023-05-28T15:00:00Z")),
            (T("2023-05-28T15:00:00Z"), T("2023-05-29T15:00:00Z")),
        ], "the run went on after a failed window")
        self.assertEqual(self.recorded(), "2023-05-28T15:00:00Z\n")
        self.assertEqual(set(self.delivered()),
                         ids_between("2023-05-27T15:00:00Z",
                                     "2023-05-28T15:00:00Z"))
        m = self.summary(proc)
        self.assertEqual(m.group(4, 6), ("2", "failed (exit 1)"))
        self.assertNoTempLeft()

        # The next run starts where the first window ended.
        refusing[0] = False
        proc = self.run_sh()
        self.assertStatus(proc, EXIT_OK)
        self.assertEqual(self.windows()[2:], [
            (T("2023-05-28T15:00:00Z"), T("2023-05-29T15:00:00Z")),
            (T("2023-05-29T15:00:00Z"), T("2023-05-30T15:00:00Z")),
        ])
        self.assertEqual(self.recorded(), "2023-05-30T15:00:00Z\n")
        self.assertEqual(set(self.delivered()),
                         ids_between("2023-05-27T15:00:00Z",
                                     "2023-05-30T15:00:00Z"))

    def test_nothing_to_export_when_up_to_date(self):
        self.set_recorded("2023-05-30T15:00:00Z")
        mtime = os.stat(self.progress).st_mtime_ns
        proc = self.run_sh()
        self.assertStatus(proc, EXIT_OK)
        self.assertIn("nothing to export", proc.stderr)
        self.assertNothingRequested()
        self.assertEqual(self.recorded(), "2023-05-30T15:00:00Z\n")
        self.assertEqual(os.stat(self.progress).st_mtime_ns, mtime)
        self.assertNoTempLeft()

    # --- the lock -------------------------------------------------------

    def test_a_held_lock_exits_75_and_touches_nothing(self):
        self.set_recorded("2023-05-30T13:00:00Z")
        lock = os.path.join(self.state, "run.lock")
        holder = subprocess.Popen(["flock", lock, "sleep", "5"],
                                  start_new_session=True,
                                  stdin=subprocess.DEVNULL)
        try:
            self._wait_locked(lock, holder)
            listing = sorted(os.listdir(self.state))
            mtime = os.stat(self.progress).st_mtime_ns

            proc = self.run_sh()
            self.assertStatus(proc, EXIT_LOCKED)
            self.assertLess(proc.elapsed, 3.0, "run.sh waited for the lock")
            self.assertIn("another run", proc.stderr)
            self.assertIn(lock, proc.stderr)
            self.assertNothingRequested()
            self.assertEqual(sorted(os.listdir(self.state)), listing)
            self.assertEqual(self.recorded(), "2023-05-30T13:00:00Z\n")
            self.assertEqual(os.stat(self.progress).st_mtime_ns, mtime)
            self.assertNoTempLeft()
            self.assertIsNone(holder.poll(), "the lock was let go early")
        finally:
            try:
                os.killpg(holder.pid, signal.SIGTERM)
            except OSError:
                pass
            holder.wait()

        # Once the lock is free the same run goes ahead.
        proc = self.run_sh()
        self.assertStatus(proc, EXIT_OK)
        self.assertEqual(self.windows(), [(T("2023-05-30T13:00:00Z"),
                                           T("2023-05-30T15:00:00Z"))])
        self.assertEqual(self.recorded(), "2023-05-30T15:00:00Z\n")

    def _wait_locked(self, path, holder):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            self.assertIsNone(holder.poll(), "flock ended early")
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                time.sleep(0.02)
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    return
                raise
            else:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
            time.sleep(0.02)
        self.fail("flock never took the lock")

    # --- the demo -------------------------------------------------------

    def test_demo(self):
        # The demo builds its own configs and stand-ins; it runs on the
        # real clock.
        env = self.env(now=None)
        for name in ("TAP_CONFIG", "TARGET_CONFIG", "STATE_DIR"):
            env.pop(name)
        proc = subprocess.run([RUN_SH, "--demo"], cwd="/", env=env,
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr[-4000:])
        self.assertRegex(proc.stdout, r"(?m)^\s*decisions\s+2500\s+\d+\s+"
                         r"\d+\s+\d+\s*$")
        self.assertNoTempLeft()
        self.assertNoChildren()


if __name__ == "__main__":
    unittest.main()
