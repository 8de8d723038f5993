"""Where the Taktile API key and the Stitch token may and may not end up.

Both secrets live in the user's two config files and nowhere else: not in
what tap-taktile and target-stitch print (at any verbosity, whether they
succeed or fail), not in the command line or environment of any process
of a run.sh run, not in any file a run leaves behind, and not in a
request to a host that a redirect points at.  run.sh's temporary files
are private (mode 600 in a mode 700 directory) and gone after every run,
also after a failure or SIGTERM."""
import http.server
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests"))
from stitch_server import StitchServer  # noqa: E402
from taktile_server import TaktileServer, generate, parse_time  # noqa: E402

RUN_SH = os.path.join(harness.ROOT, "run.sh")
# Distinctive, so that a copy of either anywhere is unmistakable.
API_KEY = "tk-LEAKCHECK-9f41c7e2b8d05a36-apikey"
TOKEN = "st-LEAKCHECK-3b7e90d1c4a26f58-token"
SECRETS = (API_KEY, TOKEN)
TIMEOUT = 600 if harness.VALGRIND else 60
SIGTERM_STATUS = 128 + signal.SIGTERM

WINDOW_START = "2023-05-30T14:00:00+00:00"
WINDOW_END = "2023-05-30T15:00:00+00:00"
NOW = "2023-05-30T15:05:00Z"
DECISIONS = generate(12, parse_time(WINDOW_START), 3600.0)

PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "all_proxy", "ALL_PROXY")


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in PROXY_VARS and k not in (
               "TAP_START_TIME", "TAP_END_TIME", "RUN_SH_NOW", "TAP_CONFIG",
               "TARGET_CONFIG", "STATE_DIR", "TARGET_STITCH_SSL_VERIFY")}
    env.update({"no_proxy": "127.0.0.1,127.0.0.2",
                "NO_PROXY": "127.0.0.1,127.0.0.2"})
    env.update(extra)
    return env


def free_port(host="127.0.0.1"):
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_config(path, cfg):
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)
    os.chmod(path, 0o600)
    return path


def target_input(n=5):
    lines = [{"type": "SCHEMA", "stream": "events",
              "schema": {"type": "object",
                         "properties": {"id": {"type": "integer"}}},
              "key_properties": ["id"]}]
    lines += [{"type": "RECORD", "stream": "events",
               "record": {"id": i, "note": "n%d" % i}} for i in range(n)]
    lines.append({"type": "STATE", "value": {"events": n}})
    return "".join(json.dumps(m) + "\n" for m in lines).encode()


def leaks(data):
    """The secrets found in `data` (bytes or str)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    return [s for s in SECRETS if s.encode() in (data or b"")]


def files_holding_secrets(top, allowed=()):
    """(path, [secrets]) for every regular file under `top`, except the
    paths in `allowed`, that holds a secret.  FIFOs and other special
    files are not opened."""
    found = []
    allowed = {os.path.realpath(p) for p in allowed}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.realpath(path) in allowed:
                continue
            try:
                st = os.lstat(path)
                if not stat.S_ISREG(st.st_mode):
                    continue
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            hit = leaks(data)
            if hit:
                found.append((path, hit))
    return found


def processes_mentioning(text):
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


def read_proc(pid, what):
    try:
        with open("/proc/%d/%s" % (pid, what), "rb") as f:
            return f.read()
    except OSError:
        return None


# --- a server that answers everything with a redirect ---------------------

class Recorder:
    """A listener that records each request (method, path, headers, body)
    and answers with `answer(handler)`: a (status, headers, body) triple."""

    def __init__(self, host, answer):
        self.requests = []
        self.lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with owner.lock:
                    owner.requests.append({
                        "method": self.command, "path": self.path,
                        "headers": {k.lower(): v
                                    for k, v in self.headers.items()},
                        "raw_headers": bytes(self.headers),
                        "body": body})
                status, headers, payload = answer(self)
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _any

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.host = host
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.httpd.server_address[1]

    def url(self, path=""):
        return "http://%s:%d%s" % (self.host, self.port, path)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def can_bind(host):
    try:
        s = socket.socket()
        s.bind((host, 0))
        s.close()
        return True
    except OSError:
        return False


# --- the programs' own output -------------------------------------------

class ProgramOutputTest(unittest.TestCase):
    """tap-taktile and target-stitch print neither secret, at -v, by
    default and at -q, in success and in failure."""

    VERBOSITY = (["-v"], [], ["-q"])

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="secrets-test-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def run_prog(self, name, args, stdin=b""):
        proc = subprocess.run(harness.wrap([harness.program(name)] + args),
                              input=stdin, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=TIMEOUT,
                              env=clean_env())
        harness.check_sanitizers(proc.stderr)
        return proc

    def assertNoLeak(self, proc, what):
        self.assertEqual(leaks(proc.stdout), [], "%s: secret on stdout:\n%s"
                         % (what, proc.stdout[-2000:]))
        self.assertEqual(leaks(proc.stderr), [], "%s: secret on stderr:\n%s"
                         % (what, proc.stderr.decode("utf-8", "replace")
                            [-3000:]))

    # tap-taktile

    def tap_config(self, name, base_url, **changes):
        cfg = {"base_url": base_url, "api_key": API_KEY,
               "start_time": WINDOW_START, "end_time": WINDOW_END,
               "max_attempts": 2, "retry_base_seconds": 0.05,
               "connect_timeout": 5, "request_timeout": 20}
        cfg.update(changes)
        return write_config(os.path.join(self.dir, name), cfg)

    def tap_scenarios(self, good, wrong_key):
        closed = "http://127.0.0.1:%d" % free_port()
        broken = os.path.join(self.dir, "tap-broken.json")
        with open(broken, "w") as f:
            # Not JSON: a missing comma right after the key.
            f.write('{"base_url": "%s", "api_key": "%s" "start_time": '
                    '"%s", "end_time": "%s"}\n' % (good.base_url, API_KEY,
                                                   WINDOW_START, WINDOW_END))
        os.chmod(broken, 0o600)
        return [
            ("success", self.tap_config("tap-ok.json", good.base_url), 0),
            ("401", self.tap_config("tap-401.json", wrong_key.base_url), 1),
            ("config error", self.tap_config("tap-bad.json", good.base_url,
                                             end_time="not a time"), 2),
            ("config syntax error", broken, 2),
            ("network error", self.tap_config("tap-closed.json", closed), 1),
        ]

    def test_tap_prints_no_secret(self):
        good = TaktileServer(api_key=API_KEY, decisions=DECISIONS).start()
        self.addCleanup(good.stop)
        wrong = TaktileServer(api_key="another-key",
                              decisions=DECISIONS).start()
        self.addCleanup(wrong.stop)
        for what, config, status in self.tap_scenarios(good, wrong):
            for verbosity in self.VERBOSITY:
                label = "tap %s %s" % (what, " ".join(verbosity) or
                                       "(default)")
                with self.subTest(label):
                    proc = self.run_prog("tap-taktile",
                                         ["-c", config] + verbosity)
                    self.assertEqual(proc.returncode, status, "%s:\n%s" % (
                        label, proc.stderr.decode("utf-8", "replace")))
                    self.assertNoLeak(proc, label)
        # The stand-in did see the key: it was sent, just not printed.
        self.assertTrue(any(r["headers"].get("x-api-key") == API_KEY
                            for r in good.requests))

    # target-stitch

    def target_config(self, name, url, **changes):
        cfg = {"token": TOKEN, "client_id": 77, "small_batch_url": url,
               "big_batch_url": url, "batch_size_preferences": {},
               "max_attempts": 2, "retry_base_seconds": 0.05,
               "connect_timeout": 5, "request_timeout": 20}
        cfg.update(changes)
        return write_config(os.path.join(self.dir, name), cfg)

    def target_scenarios(self, good, wrong_token):
        closed = "http://127.0.0.1:%d/v2/import/batch" % free_port()
        broken = os.path.join(self.dir, "target-broken.json")
        with open(broken, "w") as f:
            f.write('{"token": "%s" "client_id": 77, "small_batch_url": '
                    '"%s", "big_batch_url": "%s", '
                    '"batch_size_preferences": {}}\n' % (
                        TOKEN, good.url(), good.url()))
        os.chmod(broken, 0o600)
        return [
            ("success", self.target_config("t-ok.json", good.url()), 0),
            ("401", self.target_config("t-401.json", wrong_token.url()), 1),
            ("config error", self.target_config(
                "t-bad.json", good.url(), batch_size_preferences="x"), 2),
            ("config syntax error", broken, 2),
            ("network error", self.target_config("t-closed.json", closed),
             1),
        ]

    def test_target_prints_no_secret(self):
        good = StitchServer(token=TOKEN).start()
        self.addCleanup(good.stop)
        wrong = StitchServer(token="another-token").start()
        self.addCleanup(wrong.stop)
        data = target_input()
        n = 0
        for what, config, status in self.target_scenarios(good, wrong):
            for verbosity in self.VERBOSITY:
                label = "target %s %s" % (what, " ".join(verbosity) or
                                          "(default)")
                n += 1
                out = os.path.join(self.dir, "bodies-%d.jsonl" % n)
                with self.subTest(label):
                    proc = self.run_prog("target-stitch", ["-c", config, "-o",
                                                           out] + verbosity,
                                         data)
                    self.assertEqual(proc.returncode, status, "%s:\n%s" % (
                        label, proc.stderr.decode("utf-8", "replace")))
                    self.assertNoLeak(proc, label)
                    if os.path.exists(out):
                        with open(out, "rb") as f:
                            self.assertEqual(leaks(f.read()), [],
                                             "%s: secret in the -o file"
                                             % label)
        self.assertTrue(any(r["headers"].get("authorization") ==
                            "Bearer " + TOKEN for r in good.requests))
        self.assertTrue(good.batches, "nothing reached the stand-in")
        # The -o file of a successful run was written, and holds bodies.
        with open(os.path.join(self.dir, "bodies-1.jsonl"), "rb") as f:
            self.assertIn(b'"table_name"', f.read())


# --- redirects -------------------------------------------------------------

@unittest.skipUnless(can_bind("127.0.0.2"), "cannot listen on 127.0.0.2")
class RedirectTest(unittest.TestCase):
    """A server that redirects every request elsewhere: neither program
    follows it, so the other host never sees the key or the token, and
    the program stops naming the status."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="secrets-test-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.elsewhere = Recorder("127.0.0.2", lambda h: (
            200, [("Content-Type", "application/json")],
            b'{"decisions": [], "pagination": {"has_next": false, '
            b'"next_cursor": null}}'))
        self.addCleanup(self.elsewhere.stop)
        target = self.elsewhere.url()
        self.redirector = Recorder("127.0.0.1", lambda h: (
            302, [("Location", target + h.path),
                  ("Content-Type", "text/plain")], b"moved\n"))
        self.addCleanup(self.redirector.stop)

    def run_prog(self, name, args, stdin=b""):
        proc = subprocess.run(harness.wrap([harness.program(name)] + args),
                              input=stdin, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=TIMEOUT,
                              env=clean_env())
        harness.check_sanitizers(proc.stderr)
        return proc

    def check(self, proc, header, secret):
        err = proc.stderr.decode("utf-8", "replace")
        self.assertTrue(self.redirector.requests, "the redirecting server "
                        "saw no request:\n" + err)
        carrying = [r for r in self.elsewhere.requests
                    if secret.encode() in r["raw_headers"] + r["body"]]
        self.assertEqual(carrying, [], "the redirect target received the "
                         "secret in %s" % header)
        self.assertEqual(self.elsewhere.requests, [], "the program followed "
                         "the redirect")
        self.assertNotEqual(proc.returncode, 0, err)
        critical = [l for l in err.splitlines() if l.startswith("CRITICAL")]
        self.assertTrue(critical, "no CRITICAL line:\n" + err)
        self.assertTrue(any("302" in l for l in critical),
                        "no CRITICAL line names status 302:\n" + err)
        self.assertEqual(leaks(proc.stdout + proc.stderr), [])

    def test_tap_does_not_follow_a_redirect(self):
        config = write_config(os.path.join(self.dir, "tap.json"), {
            "base_url": self.redirector.url(), "api_key": API_KEY,
            "start_time": WINDOW_START, "end_time": WINDOW_END,
            "max_attempts": 2, "retry_base_seconds": 0.05,
            "connect_timeout": 5, "request_timeout": 20})
        proc = self.run_prog("tap-taktile", ["-c", config])
        self.check(proc, "X-Api-Key", API_KEY)
        self.assertEqual(self.redirector.requests[0]["headers"].get(
            "x-api-key"), API_KEY)

    def test_target_does_not_follow_a_redirect(self):
        url = self.redirector.url("/v2/import/batch")
        config = write_config(os.path.join(self.dir, "target.json"), {
            "token": TOKEN, "client_id": 77, "small_batch_url": url,
            "big_batch_url": url, "batch_size_preferences": {},
            "max_attempts": 2, "retry_base_seconds": 0.05,
            "connect_timeout": 5, "request_timeout": 20})
        proc = self.run_prog("target-stitch", ["-c", config], target_input())
        self.check(proc, "Authorization", TOKEN)
        self.assertEqual(self.redirector.requests[0]["headers"].get(
            "authorization"), "Bearer " + TOKEN)


# --- run.sh ----------------------------------------------------------------

class RunShSecretsTest(unittest.TestCase):
    """A whole run.sh run: processes, files and temporary files."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="secrets-run-sh-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.addCleanup(self._stop_strays)
        self.tmpdir = os.path.join(self.dir, "tmp")
        os.mkdir(self.tmpdir, 0o700)
        self.state = os.path.join(self.dir, "state")
        self.taktile = TaktileServer(api_key=API_KEY,
                                     decisions=DECISIONS).start()
        self.addCleanup(self.taktile.stop)
        self.stitch = StitchServer(token=TOKEN).start()
        self.addCleanup(self.stitch.stop)
        self.tap_config = write_config(
            os.path.join(self.dir, "tap-config.json"), {
                "base_url": self.taktile.base_url, "api_key": API_KEY,
                "start_time": "", "end_time": "",
                "max_attempts": 2, "retry_base_seconds": 0.05,
                "connect_timeout": 5, "request_timeout": 30})
        self.target_config = write_config(
            os.path.join(self.dir, "target-config.json"), {
                "token": TOKEN, "client_id": 77,
                "small_batch_url": self.stitch.url(),
                "big_batch_url": self.stitch.url(),
                "batch_size_preferences": {}, "max_attempts": 2,
                "retry_base_seconds": 0.05})

    def _stop_strays(self):
        for pid, _ in processes_mentioning(self.dir):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def env(self):
        return clean_env(TAP_CONFIG=self.tap_config,
                         TARGET_CONFIG=self.target_config,
                         STATE_DIR=self.state, TMPDIR=self.tmpdir,
                         RUN_SH_NOW=NOW)

    def start(self, err_path):
        """Start run.sh with the usual umask of 022, so that a file it
        does not make private itself shows up as readable by others."""
        with open(err_path, "w") as err:
            return subprocess.Popen(
                ["/bin/sh", "-c", 'umask 022 && exec "$0"', RUN_SH],
                cwd="/", env=self.env(), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=err)

    def stderr_of(self, path):
        with open(path) as f:
            return f.read()

    def finish(self, proc, timeout=TIMEOUT):
        try:
            return proc.wait(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def watch(self, proc, seconds):
        """While run.sh runs (at most `seconds`), read the command line
        and environment of every process of the run, again and again.
        Returns {pid: (command line, [secrets found])} and the set of
        program names seen."""
        seen = {}
        names = set()
        deadline = time.monotonic() + seconds
        while proc.poll() is None and time.monotonic() < deadline:
            pids = {pid for pid, _ in processes_mentioning(self.dir)}
            pids.add(proc.pid)
            for pid in pids:
                cmd = read_proc(pid, "cmdline")
                env = read_proc(pid, "environ")
                if cmd is None:
                    continue
                text = cmd.replace(b"\0", b" ").decode("utf-8", "replace")
                for prog in ("tap-taktile", "target-stitch", "tee",
                             "run.sh"):
                    if prog in text:
                        names.add(prog)
                hit = leaks(cmd) + ["%s (environ)" % s for s in
                                    leaks(env or b"")]
                old = seen.get(pid, (text, []))
                seen[pid] = (text, sorted(set(old[1] + hit)))
            time.sleep(0.02)
        return seen, names

    def private_dir(self):
        entries = [e for e in os.listdir(self.tmpdir)
                   if e.startswith("run-sh.")]
        self.assertEqual(len(entries), 1, os.listdir(self.tmpdir))
        return os.path.join(self.tmpdir, entries[0])

    def assertNoSecretFiles(self, what):
        found = files_holding_secrets(self.dir, (self.tap_config,
                                                 self.target_config))
        self.assertEqual(found, [], "%s: files holding a secret" % what)

    def assertTempGone(self, what):
        self.assertEqual(os.listdir(self.tmpdir), [],
                         "%s: run.sh left temporary files" % what)

    # --- processes ------------------------------------------------------

    def test_no_secret_in_command_lines_or_environments(self):
        self.taktile.push({"delay": 2.5})
        err = os.path.join(self.dir, "stderr")
        proc = self.start(err)
        seen, names = self.watch(proc, TIMEOUT)
        status = self.finish(proc)
        self.assertEqual(status, 0, self.stderr_of(err))
        self.assertIn("tap-taktile", names, "never saw the tap running")
        self.assertIn("target-stitch", names, "never saw the target running")
        bad = {pid: v for pid, v in seen.items() if v[1]}
        self.assertEqual(bad, {}, "secrets in /proc/<pid>/cmdline or "
                         "environ of the run's processes")
        self.assertEqual(leaks(self.stderr_of(err)), [])

    # --- files ----------------------------------------------------------

    def test_private_copy_while_it_exists_and_gone_after_success(self):
        self.taktile.push({"delay": 2.0})
        err = os.path.join(self.dir, "stderr")
        proc = self.start(err)
        try:
            self.assertTrue(self.taktile.wait_requests(1, timeout=20),
                            "the tap never asked Taktile")
            private = self.private_dir()
            dmode = stat.S_IMODE(os.stat(private).st_mode)
            config = os.path.join(private, "tap-config.json")
            cmode = stat.S_IMODE(os.stat(config).st_mode)
            with open(config) as f:
                copy = f.read()
            modes = {name: stat.S_IMODE(os.lstat(os.path.join(
                private, name)).st_mode) for name in os.listdir(private)}
        finally:
            status = self.finish(proc)
        self.assertEqual(status, 0, self.stderr_of(err))
        self.assertEqual(dmode, 0o700, "mode of %s" % private)
        self.assertEqual(cmode, 0o600, "mode of the window config copy")
        self.assertIn(API_KEY, copy, "the copy is not the window config")
        self.assertFalse(os.path.exists(config),
                         "the window config copy outlived the run")
        self.assertTempGone("success")
        self.assertNoSecretFiles("success")
        self.assertTrue(self.stitch.batches)
        not_private = {n: "%o" % m for n, m in modes.items() if m != 0o600}
        self.assertEqual(not_private, {}, "temporary files of run.sh not "
                         "created with mode 600 (umask 022): %s" % modes)

    def test_temporary_files_are_mode_600(self):
        # Looked at while the target is sending, so that every file of
        # the run (logs and states included) exists.
        seen = []

        def look(info):
            for name in os.listdir(self.tmpdir):
                path = os.path.join(self.tmpdir, name)
                seen.append((path, stat.S_IMODE(os.lstat(path).st_mode)))
                if os.path.isdir(path):
                    for sub in os.listdir(path):
                        p = os.path.join(path, sub)
                        seen.append((p, stat.S_IMODE(os.lstat(p).st_mode)))
            return {"delay": 0.5}

        self.stitch.hook = look
        err = os.path.join(self.dir, "stderr")
        status = self.finish(self.start(err))
        self.assertEqual(status, 0, self.stderr_of(err))
        self.assertTrue(seen, "Stitch saw no request")
        dirs = [(p, m) for p, m in seen if os.path.basename(p).startswith(
            "run-sh.")]
        self.assertTrue(dirs, seen)
        self.assertTrue(all(m == 0o700 for p, m in dirs), dirs)
        files = {os.path.relpath(p, self.tmpdir): "%o" % m for p, m in seen
                 if (p, m) not in dirs}
        self.assertIn("tap-config.json", " ".join(files))
        self.assertEqual({p: m for p, m in files.items() if m != "600"}, {},
                         "temporary files of run.sh not created with mode "
                         "600 (umask 022): %s" % files)
        self.assertTempGone("success")

    def test_no_secret_left_after_a_failure(self):
        self.stitch.hook = lambda info: {"status": 400}
        err = os.path.join(self.dir, "stderr")
        status = self.finish(self.start(err))
        self.assertEqual(status, 1, self.stderr_of(err))
        self.assertTempGone("failure")
        self.assertNoSecretFiles("failure")
        self.assertEqual(leaks(self.stderr_of(err)), [])

        self.stitch.hook = None
        self.taktile.push({"status": 401})
        status = self.finish(self.start(err))
        self.assertEqual(status, 1, self.stderr_of(err))
        self.assertTempGone("401 from Taktile")
        self.assertNoSecretFiles("401 from Taktile")
        self.assertEqual(leaks(self.stderr_of(err)), [])

    def test_no_secret_left_after_sigterm(self):
        self.taktile.push({"delay": 5.0})
        err = os.path.join(self.dir, "stderr")
        proc = self.start(err)
        try:
            self.assertTrue(self.taktile.wait_requests(1, timeout=20),
                            "the tap never asked Taktile")
            private = self.private_dir()
            self.assertTrue(os.path.exists(os.path.join(
                private, "tap-config.json")))
            proc.send_signal(signal.SIGTERM)
            status = proc.wait(timeout=10)
        finally:
            self.finish(proc)
        self.assertEqual(status, SIGTERM_STATUS, self.stderr_of(err))
        deadline = time.monotonic() + 3
        while processes_mentioning(self.dir) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(processes_mentioning(self.dir), [])
        self.assertFalse(os.path.exists(private),
                         "the private directory outlived SIGTERM")
        self.assertTempGone("SIGTERM")
        self.assertNoSecretFiles("SIGTERM")
        self.assertEqual(leaks(self.stderr_of(err)), [])


if __name__ == "__main__":
    unittest.main()
