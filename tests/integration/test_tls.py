"""HTTPS: tap-taktile and target-stitch against stand-ins that serve TLS
with a self-signed certificate made for the test by openssl(1).

By default the certificate is not trusted, so both programs stop with a
CRITICAL line about it.  Given the certificate as a CA bundle through
the config key `ca_file`, both succeed.  TARGET_STITCH_SSL_VERIFY=false
makes the target succeed without checking, with a WARNING."""
import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests"))
import stitch_server  # noqa: E402
import taktile_server  # noqa: E402
from taktile_server import generate, parse_time  # noqa: E402

API_KEY = "tk-tls-api-key-51c0"
TOKEN = "st-tls-token-8e2d"
TIMEOUT = 600 if harness.VALGRIND else 60
START = "2023-05-30T14:00:00+00:00"
END = "2023-05-30T15:00:00+00:00"
DECISIONS = generate(12, parse_time(START), 3600.0)

# Anything that would point libcurl or OpenSSL at another trust store.
TRUST_VARS = ("SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE",
              "TARGET_STITCH_SSL_VERIFY")
PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "all_proxy", "ALL_PROXY")


def env(**extra):
    out = {k: v for k, v in os.environ.items()
           if k not in TRUST_VARS and k not in PROXY_VARS}
    out.update({"no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"})
    out.update(extra)
    return out


# --- the certificate -------------------------------------------------------

_cert = {}


def certificate():
    """(directory, cert path, key path) of a self-signed certificate for
    IP 127.0.0.1, made once per test run; raises unittest.SkipTest when
    openssl is missing or cannot make one."""
    if "error" in _cert:
        raise unittest.SkipTest(_cert["error"])
    if "paths" in _cert:
        return _cert["paths"]
    openssl = shutil.which("openssl")
    if openssl is None:
        _cert["error"] = ("the openssl command is not installed; it is "
                          "needed to make a test certificate")
        raise unittest.SkipTest(_cert["error"])
    d = tempfile.mkdtemp(prefix="tls-test-cert-")
    key = os.path.join(d, "key.pem")
    cert = os.path.join(d, "cert.pem")
    proc = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-days", "1", "-keyout", key, "-out", cert],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, timeout=60)
    if proc.returncode != 0 or not os.path.exists(cert):
        shutil.rmtree(d, True)
        _cert["error"] = ("openssl could not make a self-signed "
                          "certificate: %s" % proc.stderr.strip()[-500:])
        raise unittest.SkipTest(_cert["error"])
    _cert["paths"] = (d, cert, key)
    return _cert["paths"]


def tearDownModule():
    if "paths" in _cert:
        shutil.rmtree(_cert["paths"][0], True)


# --- HTTPS stand-ins ---------------------------------------------------------

class TLSServer(http.server.ThreadingHTTPServer):
    """Serves HTTPS: each accepted connection is wrapped, and its
    handshake done in the connection's own thread.  Failed handshakes are
    kept in `tls_errors`."""

    daemon_threads = True

    def __init__(self, address, handler, context):
        self.context = context
        self.tls_errors = []
        self.handshakes = 0
        http.server.ThreadingHTTPServer.__init__(self, address, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        request.settimeout(30)
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError) as e:
            self.tls_errors.append(str(e))
            return
        self.handshakes += 1
        request.settimeout(None)
        http.server.ThreadingHTTPServer.finish_request(self, request,
                                                       client_address)


def server_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def start_tls(stand_in, handler_base, context, name):
    """Start `stand_in` (a TaktileServer or StitchServer not yet started)
    on HTTPS instead of HTTP."""
    owner = stand_in

    class Handler(handler_base):
        pass

    Handler.owner = owner
    stand_in._httpd = TLSServer(stand_in._address, Handler, context)
    stand_in._thread = threading.Thread(
        target=stand_in._httpd.serve_forever,
        kwargs={"poll_interval": 0.05}, name=name, daemon=True)
    stand_in._thread.start()
    return stand_in


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout.decode("utf-8", "replace")
        self.err = proc.stderr.decode("utf-8", "replace")

    def lines(self, level):
        return [l for l in self.err.splitlines() if l.startswith(level)]

    def __repr__(self):
        return "exit %s\n--- stdout\n%s\n--- stderr\n%s" % (
            self.rc, self.out[-2000:], self.err[-4000:])


class TLSCase(unittest.TestCase):

    def setUp(self):
        _, self.cert, self.key = certificate()
        self.dir = tempfile.mkdtemp(prefix="tls-test-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.context = server_context(self.cert, self.key)

    def write(self, name, cfg):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            json.dump(cfg, f)
        os.chmod(path, 0o600)
        return path

    def run_prog(self, name, args, stdin=b"", **extra_env):
        proc = subprocess.run(harness.wrap([harness.program(name)] + args),
                              input=stdin, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=TIMEOUT,
                              env=env(**extra_env))
        harness.check_sanitizers(proc.stderr)
        return Result(proc)

    def assertCertificateFailure(self, res, server):
        self.assertNotEqual(res.rc, 0, res)
        critical = res.lines("CRITICAL")
        self.assertTrue(critical, "no CRITICAL line: %r" % res)
        self.assertTrue(any("certificate" in l.lower() for l in critical),
                        "no CRITICAL line mentions the certificate: %r"
                        % res)
        self.assertEqual(server.handshakes, 0, "a handshake succeeded")
        # The server's side of the failed handshake may be noted a moment
        # after the client has already given up and exited.
        deadline = time.monotonic() + 5
        while not server.tls_errors and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(server.tls_errors, "the server saw no failed "
                        "handshake: %r" % res)


class TapTLSTest(TLSCase):

    def setUp(self):
        TLSCase.setUp(self)
        self.taktile = taktile_server.TaktileServer(api_key=API_KEY,
                                                    decisions=DECISIONS)
        start_tls(self.taktile, taktile_server._Handler, self.context,
                  "taktile-tls")
        self.addCleanup(self.taktile.stop)
        self.base_url = "https://127.0.0.1:%d" % self.taktile.port

    def config(self, **changes):
        cfg = {"base_url": self.base_url, "api_key": API_KEY,
               "start_time": START, "end_time": END, "max_attempts": 2,
               "retry_base_seconds": 0.05, "connect_timeout": 5,
               "request_timeout": 20}
        cfg.update(changes)
        return self.write("tap.json", cfg)

    def test_untrusted_certificate_is_refused_by_default(self):
        res = self.run_prog("tap-taktile", ["-c", self.config()])
        self.assertCertificateFailure(res, self.taktile._httpd)
        self.assertEqual(self.taktile.requests, [])
        self.assertNotIn('"type":"STATE"', res.out.replace(" ", ""))
        self.assertNotIn('"type":"RECORD"', res.out.replace(" ", ""))

    def test_ca_file_trusts_the_certificate(self):
        res = self.run_prog("tap-taktile",
                            ["-c", self.config(ca_file=self.cert)])
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(res.lines("CRITICAL"), [], res)
        self.assertEqual([l for l in res.lines("WARNING")
                          if "ca_file" in l], [], res)
        messages = [json.loads(l) for l in res.out.splitlines()]
        records = [m for m in messages if m.get("type") == "RECORD"]
        self.assertEqual(sorted(m["record"]["id"] for m in records),
                         sorted(d.id for d in DECISIONS))
        self.assertEqual(messages[-1].get("type"), "STATE", res)
        self.assertEqual(self.taktile.requests[0]["headers"].get(
            "x-api-key"), API_KEY)


class TargetTLSTest(TLSCase):

    def setUp(self):
        TLSCase.setUp(self)
        self.stitch = stitch_server.StitchServer(token=TOKEN)
        start_tls(self.stitch, stitch_server._Handler, self.context,
                  "stitch-tls")
        self.addCleanup(self.stitch.stop)
        self.url = "https://127.0.0.1:%d/v2/import/batch" % self.stitch.port
        lines = [{"type": "SCHEMA", "stream": "events",
                  "schema": {"type": "object", "properties": {
                      "id": {"type": "integer"}}},
                  "key_properties": ["id"]}]
        lines += [{"type": "RECORD", "stream": "events",
                   "record": {"id": i}} for i in range(7)]
        lines.append({"type": "STATE", "value": {"events": 7}})
        self.input = "".join(json.dumps(m) + "\n"
                             for m in lines).encode()

    def config(self, **changes):
        cfg = {"token": TOKEN, "client_id": 9, "small_batch_url": self.url,
               "big_batch_url": self.url, "batch_size_preferences": {},
               "max_attempts": 2, "retry_base_seconds": 0.05,
               "connect_timeout": 5, "request_timeout": 20}
        cfg.update(changes)
        return self.write("target.json", cfg)

    def assertDelivered(self, res):
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(res.lines("CRITICAL"), [], res)
        self.assertEqual(sorted(r["id"] for r in
                                self.stitch.records("events")),
                         list(range(7)))
        self.assertEqual([json.loads(l) for l in res.out.splitlines()],
                         [{"events": 7}], res)

    def test_untrusted_certificate_is_refused_by_default(self):
        res = self.run_prog("target-stitch", ["-c", self.config()],
                            self.input)
        self.assertCertificateFailure(res, self.stitch._httpd)
        self.assertEqual(self.stitch.batches, [])
        self.assertEqual(res.out, "", res)

    def test_ca_file_trusts_the_certificate(self):
        res = self.run_prog("target-stitch",
                            ["-c", self.config(ca_file=self.cert)],
                            self.input)
        self.assertDelivered(res)
        self.assertEqual([l for l in res.lines("WARNING")
                          if "ca_file" in l], [], res)

    def test_ssl_verify_false_succeeds_with_a_warning(self):
        res = self.run_prog("target-stitch", ["-c", self.config()],
                            self.input, TARGET_STITCH_SSL_VERIFY="false")
        self.assertDelivered(res)
        self.assertTrue(res.lines("WARNING"), "no WARNING: %r" % res)


if __name__ == "__main__":
    unittest.main()
