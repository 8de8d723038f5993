#!/usr/bin/env python3
"""Benchmark tap-taktile paging through a local decision-history API.

A stand-in of the API (tests/taktile_server.py, with its pages rendered
once up front) serves N decisions of about 2 KB each in pages of 1,000,
over one kept-alive HTTP/1.1 connection, each answer in a single write.
For each N (100,000 and 400,000 by default; BENCH_TAP_RECORDS=20000,80000
picks others) bin/tap-taktile exports the whole window with its stdout on
/dev/null, best of BENCH_RUNS runs (default 3).  The figures are the wall
time, the tap's own CPU time (user + system) and its peak RSS
(ru_maxrss), both from the rusage wait4 returns; then PASS or FAIL
against the goals below.

On Linux a child's ru_maxrss also counts the memory of the process it
was forked from, as it stood when the child called exec: started straight
from this script, the tap would be charged with the stand-in's pages and
the interpreter.  So the tap is started by a launcher of a few lines of C,
built here with $CC (default cc), that forks, execs the tap, and reports
the wait4 rusage.  Without a compiler the tap is started directly and the
RSS figure is marked as an upper bound.

The exit status is 0 whatever the figures are; it is 1 when the tap
fails or does not report every record.

Environment: BIN (where tap-taktile is, default bin), BENCH_TAP_RECORDS,
BENCH_RUNS.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import taktile_server  # noqa: E402

PAGE = 1000
VARIANTS = 4            # distinct pages of decisions served in turn
GOAL_CPU = 1.0          # CPU seconds per 100,000 records, at most
GOAL_RSS_MIB = 16.0     # peak RSS, below
GOAL_FLAT_MIB = 2.0     # growth of peak RSS from smallest to largest
API_KEY = "bench-api-key"
START = "2023-05-30T14:00:00+00:00"
END = "2023-05-30T15:00:00+00:00"


class BenchError(Exception):
    pass


def build_launcher(directory):
    """The rusage launcher that `make bench` builds, or None."""
    exe = os.path.join(ROOT, os.environ.get("BUILD", "build"), "bench",
                       "rusage")
    return exe if os.access(exe, os.X_OK) else None


def record_counts():
    text = os.environ.get("BENCH_TAP_RECORDS", "100000,400000")
    try:
        counts = [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        counts = []
    if not counts or min(counts) <= 0:
        raise BenchError("BENCH_TAP_RECORDS must be a comma-separated list "
                         "of positive numbers, not '%s'" % text)
    return sorted(set(counts))


class FastServer(taktile_server.TaktileServer):
    """The stand-in with every page body rendered once: each page is one
    of a few pre-built runs of 1,000 compact decisions, followed by its
    pagination.  Queries, the key and cursors are still checked."""

    def __init__(self, **kw):
        taktile_server.TaktileServer.__init__(self, api_key=API_KEY, **kw)
        start = taktile_server.parse_time(START)
        self.arrays = []
        for v in range(VARIANTS):
            texts = [d.compact_text(True, True) for d in
                     taktile_server.generate(PAGE, start, 3600.0,
                                             first=v * PAGE)]
            self.arrays.append(texts)
        self.joined = [",".join(t).encode("utf-8") for t in self.arrays]
        self.record_bytes = sum(len(x) for x in self.joined) / \
            float(VARIANTS * PAGE)
        self.total = 0

    def serve_count(self, total):
        self.total = total
        with self.lock:
            self._cursors.clear()
            del self.requests[:]

    def _page(self, entry, pairs, limit, nr, er, start, end, after,
              cursor_text=None):
        index = 0
        if after is not None:
            with self.lock:
                known = self._cursors.get(after)
            if known is None:
                raise taktile_server.QueryError(
                    "after", "invalid or expired cursor",
                    "value_error.cursor")
            index = known[0]
        n = max(0, min(limit, self.total - index))
        page = index // PAGE
        if n == PAGE:
            body = self.joined[page % VARIANTS]
        else:
            body = ",".join(self.arrays[page % VARIANTS][:n]).encode(
                "utf-8")
        has_next = index + n < self.total
        cursor = self._new_cursor(index + n, (start, end)) if has_next \
            else None
        entry["count"] = n
        entry["cursor"] = cursor
        tail = ('],"pagination":{"has_next":%s,"next_cursor":%s}}' % (
            "true" if has_next else "false",
            '"%s"' % cursor if cursor else "null")).encode("ascii")
        return b'{"decisions":[' + body + tail


def write_config(directory, url):
    path = os.path.join(directory, "tap-config.json")
    with open(path, "w") as f:
        f.write('{"base_url": "%s", "api_key": "%s", "start_time": "%s", '
                '"end_time": "%s", "include_node_results": true, '
                '"include_external_resources": true}\n'
                % (url, API_KEY, START, END))
    os.chmod(path, 0o600)
    return path


def run_tap(tap, config, errfile, launcher, tmp):
    """One run; returns (wall s, user s, system s, peak RSS KiB, stderr
    text)."""
    env = dict(os.environ, no_proxy="127.0.0.1,localhost",
               NO_PROXY="127.0.0.1,localhost")
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(name, None)
    result = os.path.join(tmp, "rusage")
    argv = [tap, "-c", config]
    if launcher:
        argv = [launcher, result] + argv
    errfile.seek(0)
    errfile.truncate()
    with open(os.devnull, "wb") as null:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=null, stderr=errfile, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    errfile.seek(0)
    err = errfile.read().decode("utf-8", "replace")
    if launcher:
        if proc.returncode != 0:
            raise BenchError("the launcher failed (exit status %d)"
                             % proc.returncode)
        with open(result) as f:
            fields = f.read().split()
        status = int(fields[0])
        user, system, maxrss = float(fields[1]), float(fields[2]), \
            int(fields[3])
    else:
        user, system, maxrss = usage.ru_utime, usage.ru_stime, \
            usage.ru_maxrss
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise BenchError("tap-taktile exited with status %d:\n%s" % (
            code, err[-3000:]))
    return wall, user, system, maxrss, err


def measure(n, tap, config, server, runs, launcher, tmp):
    print("%s records (%.0f MB served): tap" % (
        format(n, ","), n * server.record_bytes / 1e6), end="", flush=True)
    walls, cpus, rss = [], [], []
    with tempfile.TemporaryFile() as errfile:
        for _ in range(runs):
            server.serve_count(n)
            wall, user, system, maxrss, err = run_tap(tap, config, errfile,
                                                      launcher, tmp)
            m = re.search(r"Loaded (\d+) records", err)
            if not m or int(m.group(1)) != n:
                raise BenchError("tap-taktile did not report %d records:"
                                 "\n%s" % (n, err[-3000:]))
            pages = len(server.page_requests())
            if pages != (n + PAGE - 1) // PAGE:
                raise BenchError("%d requests for %d records" % (pages, n))
            walls.append(wall)
            cpus.append((user + system, user, system))
            rss.append(maxrss)
            print(" %.2f s" % wall, end="", flush=True)
    print(flush=True)
    best = min(range(runs), key=lambda i: walls[i])
    cpu, user, system = min(cpus)
    return {"records": n, "bytes": n * server.record_bytes,
            "wall": walls[best], "cpu": cpu, "user": user,
            "system": system, "rss_mib": max(rss) / 1024.0, "pages": pages}


def table(results):
    rows = [
        ("MB served", lambda r: "%.0f" % (r["bytes"] / 1e6), ""),
        ("pages", lambda r: format(r["pages"], ","), ""),
        ("wall s", lambda r: "%.3f" % r["wall"], ""),
        ("tap CPU s", lambda r: "%.3f" % r["cpu"], ""),
        ("  user s", lambda r: "%.3f" % r["user"], ""),
        ("  system s", lambda r: "%.3f" % r["system"], ""),
        ("CPU s / 100k", lambda r: "%.3f" % per_100k(r),
         "<= %.1f" % GOAL_CPU),
        ("records/s", lambda r: format(int(r["records"] / r["wall"]), ","),
         ""),
        ("MB/s", lambda r: "%.1f" % (r["bytes"] / 1e6 / r["wall"]), ""),
        ("peak RSS MiB", lambda r: "%.1f" % r["rss_mib"],
         "< %.0f, flat" % GOAL_RSS_MIB),
    ]
    width = max(14, max(len(format(r["records"], ",")) for r in results))
    print()
    print("%-16s" % "tap-taktile" + "".join("%*s" % (width + 2, format(
        r["records"], ",")) for r in results) + "   goal")
    for name, cell, goal in rows:
        line = "%-16s" % name + "".join("%*s" % (width + 2, cell(r))
                                        for r in results)
        print(line + ("   " + goal if goal else ""))
    print()


def per_100k(r):
    return r["cpu"] * 100000.0 / r["records"]


def verdicts(results, exact_rss):
    def show(values):
        return ", ".join(values)

    out = [
        (all(per_100k(r) <= GOAL_CPU for r in results),
         "tap CPU: <= %.1f s per 100,000 records (%s)" % (
             GOAL_CPU, show("%.3f" % per_100k(r) for r in results))),
        (all(r["rss_mib"] < GOAL_RSS_MIB for r in results),
         "tap memory: peak RSS < %.0f MiB (%s)" % (
             GOAL_RSS_MIB, show("%.1f" % r["rss_mib"] for r in results))),
    ]
    if len(results) > 1:
        lo, hi = results[0], results[-1]
        growth = hi["rss_mib"] - lo["rss_mib"]
        out.append((growth <= GOAL_FLAT_MIB,
                    "tap flat memory: %s to %s records grows peak RSS by "
                    "%.1f MiB (allowed %.1f)" % (
                        format(lo["records"], ","),
                        format(hi["records"], ","), growth,
                        GOAL_FLAT_MIB)))
    for ok, text in out:
        print("%s %s" % ("PASS" if ok else "FAIL", text))
    if not exact_rss:
        print("note: no C compiler, so the tap was started from this "
              "script and its peak RSS includes the script's own memory "
              "at the time (an upper bound)")


def main():
    bin_dir = os.path.join(ROOT, os.environ.get("BIN", "bin"))
    tap = os.path.join(bin_dir, "tap-taktile")
    runs = max(1, int(os.environ.get("BENCH_RUNS", "3")))
    if not os.access(tap, os.X_OK):
        raise BenchError("cannot run '%s'; build it with 'make'" % tap)
    counts = record_counts()

    print("tap-taktile: rendering %d pages of %d decisions ..." % (
        VARIANTS, PAGE), flush=True)
    server = FastServer().start()
    try:
        print("  about %.0f bytes per decision" % server.record_bytes)
        with tempfile.TemporaryDirectory(prefix="bench-tap-") as tmp:
            launcher = build_launcher(tmp)
            config = write_config(tmp, server.base_url)
            results = [measure(n, tap, config, server, runs, launcher, tmp)
                       for n in counts]
    finally:
        server.stop()
    table(results)
    verdicts(results, launcher is not None)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print("\nbench_tap: %s" % e, file=sys.stderr)
        sys.exit(1)
