#!/usr/bin/env python3
"""Run the whole test suite: the C unit test programs, then the
integration tests (Python unittest modules under tests/integration) that
drive the real binaries against local stand-in servers.  Prints one line
per test and ends with 'N passed, N failed'.

Environment: BIN (where the programs are, default bin), BUILD (where the
unit test programs are, default build), VALGRIND=1 to run every C program
under valgrind.  Arguments, if any, are substrings that select tests.
"""
import glob
import os
import re
import subprocess
import sys
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import harness  # noqa: E402


def run_unit(build, selected):
    passed = failed = 0
    for prog in sorted(glob.glob(os.path.join(build, "tests", "test_*"))):
        name = os.path.basename(prog)
        if selected and not any(s in name for s in selected):
            continue
        if not os.access(prog, os.X_OK) or prog.endswith(".d"):
            continue
        cmd = harness.wrap([prog])
        proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=600)
        out = proc.stdout
        for line in out.splitlines():
            if line.startswith("ok ") or line.startswith("FAIL "):
                print("%s: %s" % (name, line))
            elif line.startswith("  "):
                print(line)
        m = re.search(r"^(\d+) passed, (\d+) failed$", out, re.M)
        if m:
            passed += int(m.group(1))
            failed += int(m.group(2))
        if proc.returncode != 0 and (not m or int(m.group(2)) == 0):
            print("FAIL %s: exit status %d" % (name, proc.returncode))
            print(out[-3000:])
            failed += 1
    return passed, failed


class Result(unittest.TextTestResult):
    pass


def run_integration(selected):
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    pattern = os.path.join(ROOT, "tests", "integration", "test_*.py")
    for path in sorted(glob.glob(pattern)):
        mod = os.path.splitext(os.path.basename(path))[0]
        tests = loader.loadTestsFromName(mod)
        for t in iter_tests(tests):
            if selected and not any(s in t.id() for s in selected):
                continue
            suite.addTest(t)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2,
                                     resultclass=Result)
    res = runner.run(suite)
    bad = len(res.failures) + len(res.errors) + \
        len(res.unexpectedSuccesses)
    skipped = len(res.skipped)
    return res.testsRun - bad - skipped, bad, skipped


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


def main():
    selected = sys.argv[1:]
    build = os.environ.get("BUILD", "build")
    start = time.time()
    up, uf = run_unit(build, selected)
    ip, ifail, skipped = run_integration(selected)
    sys.stdout.flush()
    print("\nunit: %d passed, %d failed; integration: %d passed, %d failed,"
          " %d skipped; %.0f s" % (up, uf, ip, ifail, skipped,
                                   time.time() - start))
    print("%d passed, %d failed" % (up + ip, uf + ifail))
    return 1 if uf + ifail else 0


if __name__ == "__main__":
    sys.exit(main())
