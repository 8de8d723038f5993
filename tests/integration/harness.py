"""Helpers shared by the integration tests: where the programs are, how
to run them (optionally under valgrind), temporary directories and
config files."""
import json
import os
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIN = os.path.join(ROOT, os.environ.get("BIN", "bin"))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
CONFORMANCE = os.path.join(SHARED, "conformance")

VALGRIND = os.environ.get("VALGRIND") == "1"


def wrap(cmd):
    """Prefix a command with valgrind when VALGRIND=1.  valgrind's exit
    status 99 marks a memory error or a leak."""
    if not VALGRIND:
        return cmd
    return ["valgrind", "--quiet", "--error-exitcode=99",
            "--leak-check=full", "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect",
            "--track-fds=no"] + cmd


def program(name):
    return os.path.join(BIN, name)


def run(name, args, stdin=b"", timeout=120, env=None):
    """Run bin/<name> with args, feeding stdin (bytes).  Returns the
    CompletedProcess with stdout and stderr as bytes."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    proc = subprocess.run(wrap([program(name)] + list(args)),
                          input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout,
                          env=full_env)
    check_sanitizers(proc.stderr)
    return proc


SANITIZER_MARKS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer",
                   b"runtime error:", b"== Invalid ", b"definitely lost")


def check_sanitizers(stderr):
    """Fail loudly when a sanitizer or valgrind reported a problem, even in
    a run whose exit status the test expected to be non-zero."""
    if isinstance(stderr, str):
        stderr = stderr.encode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        if mark in (stderr or b""):
            raise AssertionError("memory or UB error reported:\n" +
                                 stderr.decode("utf-8", "replace")[-4000:])


def write_json(directory, name, obj):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        json.dump(obj, f)
    os.chmod(path, 0o600)
    return path


class TempDir:
    def __init__(self):
        self._t = tempfile.TemporaryDirectory(prefix="stitch-test-")
        self.path = self._t.name

    def cleanup(self):
        self._t.cleanup()
