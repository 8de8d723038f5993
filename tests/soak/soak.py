#!/usr/bin/env python3
"""A week of hourly exports, squeezed into a few minutes.

Drives the real run.sh once per simulated hour (RUN_SH_NOW stepping by
one hour from 2023-05-01T01:05:00Z, 168 runs) against in-process
stand-ins of the Taktile decision-history API and the Stitch Import API
on 127.0.0.1.  Both stand-ins answer a seeded, reproducible share of the
requests badly: 503, dropped connections, 429 with Retry-After: 1, and
slow answers; on top of that a few outages (every request of a stand-in
answered 503 for one or more hours) make whole runs fail, so that later
runs have to catch up, once across more than a day.

Checked:
  - every run ends with status 0 or 1, leaves no temporary files and no
    processes behind;
  - after every run, every decision whose end_time is before the
    recorded STATE_DIR/last-window-end has already been accepted by the
    Stitch stand-in, and the recorded time never moves back or past the
    run's hour;
  - by the end (after a few fault-free runs if still behind) the
    recorded time is the end of the week and every decision of the week
    reached Stitch at least once, with nothing else delivered;
  - peak RSS (VmHWM, sampled from /proc every 20 ms and whenever a
    stand-in receives a request) of tap-taktile and target-stitch stays
    under 40 MiB, and the last day's peak is within 20% of the first
    day's.

usage: tests/soak/soak.py [--seed N] [--hours N] [--keep] [--verbose]

Prints a summary ending with 'N passed, N failed'; exit status 0 when
every check passed, 1 otherwise.
"""
import argparse
import collections
import datetime
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from stitch_server import StitchServer  # noqa: E402
from taktile_server import TaktileServer, make_decision  # noqa: E402

RUN_SH = os.path.join(ROOT, "run.sh")
PROGRAMS = ("tap-taktile", "target-stitch")
UTC = datetime.timezone.utc
WEEK_START = datetime.datetime(2023, 5, 1, 0, 0, 0, tzinfo=UTC)
FIRST_RUN = WEEK_START + datetime.timedelta(hours=1, minutes=5)
HOUR = datetime.timedelta(hours=1)
API_KEY = "soak-api-key-4e61b0c2"
TOKEN = "soak-token-9d27f3a8"
TABLE = "decisions"

RSS_LIMIT_KIB = 40 * 1024
RSS_DRIFT = 0.20
TIME_BUDGET = 360.0
RUN_TIMEOUT = 120

# Shares of the requests answered badly, per stand-in.
P_503 = 0.05
P_DROP = 0.01
P_429 = 0.015
P_SLOW = 0.08
SLOW_RANGE = (0.3, 1.0)

SUMMARY = re.compile(r"^run\.sh: window (\S+) to (\S+): (\d+) records in "
                     r"(\d+) window\(s\), (\d+) s, (ok|failed \(exit \d+\))$",
                     re.M)


def iso(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text):
    t = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC)


# --- faults --------------------------------------------------------------

class Faults:
    """Draws one action per request from its own seeded generator, so the
    sequence of actions a stand-in takes depends only on the seed and on
    how many requests it has had."""

    def __init__(self, seed, name):
        self.name = name
        self.rng = random.Random("%s/%s" % (seed, name))
        self.lock = threading.Lock()
        self.enabled = True
        self.outage = False
        self.counts = collections.Counter()

    def next(self):
        with self.lock:
            self.counts["requests"] += 1
            if not self.enabled:
                return None
            if self.outage:
                self.counts["outage 503"] += 1
                return {"status": 503}
            r = self.rng.random()
            if r < P_503:
                self.counts["503"] += 1
                return {"status": 503}
            r -= P_503
            if r < P_DROP:
                self.counts["dropped"] += 1
                return {"drop": True}
            r -= P_DROP
            if r < P_429:
                self.counts["429"] += 1
                return {"status": 429, "retry_after": "1"}
            r -= P_429
            if r < P_SLOW:
                self.counts["slow"] += 1
                return {"delay": round(self.rng.uniform(*SLOW_RANGE), 3)}
            return None


class FaultyTaktile(TaktileServer):
    def __init__(self, faults, sampler, **kw):
        TaktileServer.__init__(self, **kw)
        self.faults = faults
        self.sampler = sampler

    def _next_action(self):
        self.sampler.scan()
        action = TaktileServer._next_action(self)
        if action:
            return action
        return self.faults.next() or {}


class FaultyStitch(StitchServer):
    def __init__(self, faults, sampler, **kw):
        StitchServer.__init__(self, **kw)
        self.faults = faults
        self.sampler = sampler

    def _next_action(self, info):
        self.sampler.scan()
        action = StitchServer._next_action(self, info)
        if action:
            return action
        return self.faults.next()


def outage_plan(seed, hours):
    """{hour index: stand-in name} for the hours in which that stand-in
    answers every request with 503.  One long Taktile outage in the
    middle of the week (31 hours, so the catch-up needs two windows of
    at most a day), two short Stitch outages of equal length early on the
    first and the last day, and a few random short ones in between."""
    rng = random.Random("%s/outages" % seed)
    plan = {}

    def add(first, length, name):
        for h in range(first, min(first + length, hours)):
            plan[h] = name

    if hours >= 120:
        add(hours // 2 - 10, 31, "taktile")
    if hours >= 48:
        add(5, 2, "stitch")
        add(hours - 24 + 5, 2, "stitch")
    h = 24
    while h < hours - 24:
        if h not in plan and rng.random() < 0.03:
            add(h, rng.randint(1, 3), rng.choice(("taktile", "stitch")))
            h += 4
        h += 1
    return plan


# --- peak RSS ------------------------------------------------------------

class RssSampler(threading.Thread):
    """Polls /proc for tap-taktile and target-stitch processes whose
    command line mentions `needle`, and keeps each one's VmHWM (KiB)
    under the run it belongs to.  scan() may also be called from other
    threads, e.g. by a stand-in the moment a request arrives."""

    def __init__(self, needle, interval=0.02):
        threading.Thread.__init__(self, name="rss-sampler", daemon=True)
        self.needle = needle.encode()
        self.interval = interval
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.run_index = None
        # (program, run index) -> max VmHWM in KiB
        self.peak = {}
        # (program, run index) -> set of pids seen
        self.pids = collections.defaultdict(set)
        self.samples = 0

    def run(self):
        while not self.stopping.wait(self.interval):
            self.scan()

    def stop(self):
        self.stopping.set()
        self.join(5)

    def scan(self):
        run_index = self.run_index
        if run_index is None:
            return
        try:
            names = os.listdir("/proc")
        except OSError:
            return
        for pid in names:
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/comm" % pid, "rb") as f:
                    comm = f.read().strip().decode("ascii", "replace")
                if comm not in PROGRAMS:
                    continue
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    if self.needle not in f.read():
                        continue
                with open("/proc/%s/status" % pid, "rb") as f:
                    status = f.read().decode("ascii", "replace")
            except OSError:
                continue
            m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            if not m:
                continue        # a zombie: its memory is gone
            kib = int(m.group(1))
            key = (comm, run_index)
            with self.lock:
                self.samples += 1
                self.pids[key].add(int(pid))
                if kib > self.peak.get(key, 0):
                    self.peak[key] = kib


def processes_mentioning(needle):
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if needle.encode() in cmd:
            found.append((int(name), cmd.replace(b"\0", b" ").decode(
                "utf-8", "replace").strip()))
    return found


# --- the soak ------------------------------------------------------------

class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, name, detail=""):
        if ok:
            self.passed += 1
            print("ok   %s" % name)
        else:
            self.failed += 1
            print("FAIL %s" % name)
            for line in str(detail).rstrip("\n").split("\n"):
                if line:
                    print("       %s" % line)
        sys.stdout.flush()
        return ok


def make_week(seed, hours):
    """20 to 60 decisions per hour, at random instants of the hour (some
    exactly on its first microsecond, some on its last)."""
    rng = random.Random("%s/decisions" % seed)
    out = []
    i = 0
    for h in range(hours):
        base = WEEK_START + h * HOUR
        n = rng.randint(20, 60)
        offsets = [rng.randrange(0, 3600 * 10 ** 6) for _ in range(n)]
        if rng.random() < 0.2:
            offsets[0] = 0
        if rng.random() < 0.2:
            offsets[-1] = 3600 * 10 ** 6 - 1
        for us in offsets:
            out.append(make_decision(
                i, base + datetime.timedelta(microseconds=us)))
            i += 1
    return out


class Soak:
    def __init__(self, args):
        self.args = args
        self.hours = args.hours
        self.checks = Checks()
        self.dir = tempfile.mkdtemp(prefix="soak-")
        self.tmpdir = os.path.join(self.dir, "tmp")
        os.mkdir(self.tmpdir, 0o700)
        self.state = os.path.join(self.dir, "state")
        self.progress = os.path.join(self.state, "last-window-end")
        self.week_end = WEEK_START + self.hours * HOUR

        self.decisions = make_week(args.seed, self.hours)
        self.by_id = {d.id: d for d in self.decisions}
        assert len(self.by_id) == len(self.decisions), "ids not unique"
        self.sorted_ends = sorted((d.end, d.id) for d in self.decisions)

        self.sampler = RssSampler(self.dir)
        self.tk_faults = Faults(args.seed, "taktile")
        self.st_faults = Faults(args.seed, "stitch")
        self.plan = outage_plan(args.seed, self.hours)
        self.taktile = FaultyTaktile(self.tk_faults, self.sampler,
                                     api_key=API_KEY,
                                     decisions=self.decisions)
        self.stitch = FaultyStitch(self.st_faults, self.sampler,
                                   token=TOKEN)

        self.accepted = set()
        self.upserts = 0
        self.foreign = []
        self.batches_seen = 0
        self.requests_seen = 0

        self.runs = []          # dicts, one per run.sh invocation
        self.extra = 0          # fault-free runs after the week
        self.problems = collections.defaultdict(list)

    # --- set-up ---------------------------------------------------------

    def write_configs(self):
        self.tap_config = os.path.join(self.dir, "tap-config.json")
        self.target_config = os.path.join(self.dir, "target-config.json")
        tap = {
            "base_url": self.taktile.base_url,
            "api_key": API_KEY,
            "start_time": "",
            "end_time": "",
            "include_node_results": True,
            "include_external_resources": False,
            "max_attempts": 3,
            "retry_base_seconds": 0.05,
            "connect_timeout": 5,
            "request_timeout": 20,
        }
        target = {
            "token": TOKEN,
            "client_id": 4242,
            "small_batch_url": self.stitch.url(),
            "big_batch_url": self.stitch.url(),
            "batch_size_preferences": {},
            "max_attempts": 3,
            "retry_base_seconds": 0.05,
            "connect_timeout": 5,
            "request_timeout": 20,
        }
        for path, cfg in ((self.tap_config, tap),
                          (self.target_config, target)):
            with open(path, "w") as f:
                json.dump(cfg, f, indent=2)
            os.chmod(path, 0o600)

    def env(self, now):
        drop = {"TAP_START_TIME", "TAP_END_TIME", "RUN_SH_NOW", "TAP_CONFIG",
                "TARGET_CONFIG", "STATE_DIR", "TMPDIR", "http_proxy",
                "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY", "CURL_CA_BUNDLE", "TARGET_STITCH_SSL_VERIFY"}
        env = {k: v for k, v in os.environ.items() if k not in drop}
        env.update({
            "TAP_CONFIG": self.tap_config,
            "TARGET_CONFIG": self.target_config,
            "STATE_DIR": self.state,
            "TMPDIR": self.tmpdir,
            "RUN_SH_NOW": iso(now),
            "no_proxy": "127.0.0.1",
            "NO_PROXY": "127.0.0.1",
        })
        return env

    # --- bookkeeping ----------------------------------------------------

    def collect(self):
        """Take in what Stitch accepted since the last call, then let go
        of the bodies the stand-in keeps."""
        with self.stitch.lock:
            batches = self.stitch.batches[self.batches_seen:]
            self.batches_seen = len(self.stitch.batches)
            requests = self.stitch.requests[self.requests_seen:]
            self.requests_seen = len(self.stitch.requests)
        for b in batches:
            if b["table_name"] != TABLE:
                self.foreign.append("table %r" % b["table_name"])
            for m in b["body"]["messages"]:
                if m.get("action") != "upsert":
                    continue
                self.upserts += 1
                data = m["data"]
                rid = data.get("id")
                d = self.by_id.get(rid)
                if d is None:
                    self.foreign.append("unknown id %r" % (rid,))
                elif parse_iso(data.get("end_time", "")) != d.end:
                    self.foreign.append("id %s with end_time %r" % (
                        rid, data.get("end_time")))
                else:
                    self.accepted.add(rid)
            b["body"] = None
            b["raw"] = None
        for r in requests:
            if r.get("answered") is not None:
                r["body"] = None

    def recorded(self):
        try:
            with open(self.progress) as f:
                text = f.read()
        except FileNotFoundError:
            return None
        return parse_iso(text)

    def undelivered_before(self, when):
        missing = []
        for end, did in self.sorted_ends:
            if end >= when:
                break
            if did not in self.accepted:
                missing.append((end, did))
        return missing

    # --- one run --------------------------------------------------------

    def run_once(self, index, now, label):
        self.sampler.run_index = index
        before = self.recorded()
        started = time.monotonic()
        try:
            proc = subprocess.run([RUN_SH], cwd="/", env=self.env(now),
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  timeout=RUN_TIMEOUT)
            status, stderr = proc.returncode, proc.stderr
        except subprocess.TimeoutExpired as e:
            status = "timeout"
            stderr = (e.stderr or b"").decode("utf-8", "replace") \
                if isinstance(e.stderr, bytes) else (e.stderr or "")
            self.kill_strays()
        took = time.monotonic() - started
        # Children of a finished run.sh are gone; a last look catches any
        # straggler still exiting.
        self.sampler.scan()
        self.collect()
        after = self.recorded()
        hour = now.replace(minute=0, second=0, microsecond=0)
        m = list(SUMMARY.finditer(stderr))
        windows = int(m[-1].group(4)) if m else None
        run = {"index": index, "now": now, "label": label,
               "status": status, "took": took, "before": before,
               "after": after, "windows": windows,
               "span": (parse_iso(m[-1].group(2)) -
                        parse_iso(m[-1].group(1))) if m else None,
               "stderr_tail": stderr[-1500:]}
        self.runs.append(run)

        where = "run %d (RUN_SH_NOW=%s, %s)" % (index, iso(now), label)
        if status not in (0, 1):
            self.problems["status"].append(
                "%s exited %s; stderr ends:\n%s" % (where, status,
                                                    stderr[-800:]))
        if not m:
            self.problems["summary"].append(
                "%s: no summary line; stderr ends:\n%s" % (where,
                                                           stderr[-400:]))
        if after is not None:
            missing = self.undelivered_before(after)
            if missing:
                self.problems["progress"].append(
                    "%s recorded %s but %d decision(s) before it were not "
                    "accepted by Stitch, first %s (end_time %s)" % (
                        where, iso(after), len(missing), missing[0][1],
                        missing[0][0].isoformat()))
            if before is not None and after < before:
                self.problems["monotonic"].append(
                    "%s moved the recorded time back from %s to %s" % (
                        where, iso(before), iso(after)))
            if after > hour:
                self.problems["monotonic"].append(
                    "%s recorded %s, past the start of its hour %s" % (
                        where, iso(after), iso(hour)))
        if status == 0 and after != hour:
            self.problems["caught up"].append(
                "%s exited 0 but recorded %s, not %s" % (
                    where, iso(after) if after else None, iso(hour)))
        left = os.listdir(self.tmpdir)
        if left:
            self.problems["temp"].append("%s left %s in TMPDIR" % (
                where, sorted(left)))
            for name in left:
                shutil.rmtree(os.path.join(self.tmpdir, name), True)
        strays = processes_mentioning(self.dir)
        if strays:
            self.problems["strays"].append("%s left processes: %s" % (
                where, strays))
            self.kill_strays()
        if self.args.verbose:
            print("  run %3d %s %-9s exit %s  %4.1f s  recorded %s  "
                  "windows %s" % (index, iso(now), label, status, took,
                                  iso(after) if after else None, windows))
            sys.stdout.flush()
        return run

    def kill_strays(self):
        for pid, _ in processes_mentioning(self.dir):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    # --- the week -------------------------------------------------------

    def main(self):
        try:
            return self.soak()
        finally:
            if self.args.keep:
                print("soak: kept %s" % self.dir)
            else:
                shutil.rmtree(self.dir, True)

    def soak(self):
        t0 = time.monotonic()
        print("soak: seed %s, %d hourly runs from %s, %d decisions, "
              "work dir %s" % (self.args.seed, self.hours, iso(FIRST_RUN),
                               len(self.decisions), self.dir))
        outage_hours = collections.Counter(self.plan.values())
        print("soak: outages: %s" % (", ".join(
            "%s %d h" % kv for kv in sorted(outage_hours.items())) or
            "none"))
        sys.stdout.flush()
        self.taktile.start()
        self.stitch.start()
        self.write_configs()
        self.sampler.start()
        try:
            for k in range(self.hours):
                now = FIRST_RUN + k * HOUR
                name = self.plan.get(k)
                self.tk_faults.outage = name == "taktile"
                self.st_faults.outage = name == "stitch"
                self.run_once(k, now, "outage:" + name if name else "faults")
                if not self.args.verbose and (k + 1) % 24 == 0:
                    self.day_line(k // 24, t0)
            # Still behind at the end of the week: a few runs without
            # faults, at the same hour, to catch up.
            self.tk_faults.outage = self.st_faults.outage = False
            self.tk_faults.enabled = self.st_faults.enabled = False
            last_now = FIRST_RUN + (self.hours - 1) * HOUR
            while self.recorded() != self.week_end and self.extra < 3:
                self.run_once(self.hours + self.extra, last_now,
                              "fault-free")
                self.extra += 1
        finally:
            self.sampler.stop()
            self.taktile.stop()
            self.stitch.stop()
            self.kill_strays()
        self.elapsed = time.monotonic() - t0
        self.report()
        return 0 if self.checks.failed == 0 else 1

    def day_line(self, day, t0):
        runs = [r for r in self.runs if r["index"] // 24 == day and
                r["index"] < self.hours]
        failed = sum(1 for r in runs if r["status"] != 0)
        rss = []
        for prog in PROGRAMS:
            vals = [v for (p, i), v in self.sampler.peak.items()
                    if p == prog and i // 24 == day and i < self.hours]
            rss.append("%s %s" % (prog, "%.1f MiB" % (max(vals) / 1024.0)
                                   if vals else "-"))
        print("  day %d: %d runs, %d failed, recorded %s, peak RSS %s; "
              "%.0f s so far" % (day + 1, len(runs), failed,
                                 iso(self.recorded()) if self.recorded()
                                 else None, ", ".join(rss),
                                 time.monotonic() - t0))
        sys.stdout.flush()

    # --- the checks -----------------------------------------------------

    def report(self):
        c = self.checks
        runs = self.runs
        week_runs = [r for r in runs if r["index"] < self.hours]
        failed_runs = [r for r in week_runs if r["status"] != 0]
        catchups = [r for r in runs if r["status"] == 0 and r["span"]
                    and r["span"] > HOUR]
        longest = max((r["span"] for r in catchups),
                      default=datetime.timedelta(0))
        multi = [r for r in runs if r["windows"] and r["windows"] > 1]
        print()
        print("soak: %d runs (%d in the week, %d fault-free at the end), "
              "%d failed; %d catch-up runs, longest window %s, %d runs of "
              "more than one window" % (
                  len(runs), len(week_runs), self.extra, len(failed_runs),
                  len(catchups), longest, len(multi)))
        for name, f in (("taktile", self.tk_faults),
                        ("stitch", self.st_faults)):
            print("soak: %s stand-in: %s" % (name, ", ".join(
                "%s %d" % kv for kv in sorted(f.counts.items()))))
        print("soak: Stitch accepted %d upserts of %d distinct decisions "
              "(%d served)" % (self.upserts, len(self.accepted),
                               len(self.decisions)))
        print()

        for key, title in (
                ("status", "every run exited 0 or 1"),
                ("summary", "every run ended with its summary line"),
                ("temp", "no run left files in TMPDIR"),
                ("strays", "no run left processes behind")):
            probs = self.problems[key]
            c.check(not probs, title, "\n".join(probs[:5]))

        c.check(len(failed_runs) > 0 and len(catchups) > 0,
                "faults made some runs fail and later runs caught up",
                "%d failed runs, %d catch-up runs" % (len(failed_runs),
                                                      len(catchups)))
        c.check(any(r["windows"] and r["windows"] >= 2 and r["status"] == 0
                    for r in runs),
                "a gap of more than a day was caught up in several windows",
                "no successful run exported more than one window")
        probs = self.problems["progress"]
        c.check(not probs, "after every run, every decision before the "
                "recorded window end had been accepted by Stitch",
                "\n".join(probs[:5]))
        probs = self.problems["monotonic"] + self.problems["caught up"]
        c.check(not probs, "recorded progress never moved back or past "
                "the run's hour, and a run that exited 0 was caught up",
                "\n".join(probs[:5]))

        final = self.recorded()
        c.check(final == self.week_end, "the last run ended caught up "
                "(recorded %s)" % iso(self.week_end),
                "recorded %s; last run:\n%s" % (
                    iso(final) if final else None,
                    runs[-1]["stderr_tail"] if runs else ""))
        limit = final or WEEK_START
        missing = self.undelivered_before(limit)
        c.check(not missing and final is not None,
                "every decision up to the recorded end (%d) reached Stitch"
                % sum(1 for e, _ in self.sorted_ends if e < limit),
                "%d missing, first: %s" % (len(missing), [
                    "%s at %s" % (i, e.isoformat()) for e, i in
                    missing[:3]]))
        c.check(not self.foreign, "Stitch received only decisions that "
                "were served, with their own end_time",
                "\n".join(self.foreign[:5]))

        self.check_rss()
        c.check(self.elapsed <= TIME_BUDGET, "finished within %d s" %
                TIME_BUDGET, "took %.0f s" % self.elapsed)
        print()
        print("elapsed %.1f s" % self.elapsed)
        print("%d passed, %d failed" % (c.passed, c.failed))

    def check_rss(self):
        c = self.checks
        last_day = (self.hours - 1) // 24
        for prog in PROGRAMS:
            per_run = {i: v for (p, i), v in self.sampler.peak.items()
                       if p == prog}
            if not per_run:
                c.check(False, "%s: peak RSS sampled" % prog,
                        "no %s process was ever seen" % prog)
                continue
            week_max = max(per_run.values())
            first = [v for i, v in per_run.items() if i < 24]
            last = [v for i, v in per_run.items()
                    if i // 24 == last_day or i >= self.hours]
            sampled = len([i for i in per_run if i < self.hours])
            print("soak: %s peak RSS: week %.1f MiB, first day %s, last "
                  "day %s (%d of %d runs sampled)" % (
                      prog, week_max / 1024.0,
                      "%.1f MiB" % (max(first) / 1024.0) if first else "-",
                      "%.1f MiB" % (max(last) / 1024.0) if last else "-",
                      sampled, self.hours))
            c.check(week_max < RSS_LIMIT_KIB, "%s: peak RSS over the week "
                    "under %d MiB" % (prog, RSS_LIMIT_KIB // 1024),
                    "peak %.1f MiB in run %d" % (
                        week_max / 1024.0,
                        max(per_run, key=per_run.get)))
            if not first or not last:
                c.check(False, "%s: peak RSS of the last day within %d%% "
                        "of the first day's" % (prog, RSS_DRIFT * 100),
                        "no samples on the %s day" % (
                            "first" if not first else "last"))
                continue
            a, b = max(first), max(last)
            c.check(abs(b - a) <= RSS_DRIFT * a,
                    "%s: peak RSS of the last day within %d%% of the first "
                    "day's" % (prog, RSS_DRIFT * 100),
                    "first day %.1f MiB, last day %.1f MiB (%+.0f%%)" % (
                        a / 1024.0, b / 1024.0, (b - a) * 100.0 / a))


def main(argv=None):
    p = argparse.ArgumentParser(description="A simulated week of hourly "
                                "run.sh exports with faults.")
    p.add_argument("--seed", default="20230501",
                   help="seed of every random choice (default %(default)s)")
    p.add_argument("--hours", type=int, default=168,
                   help="simulated hours (default %(default)s)")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory")
    p.add_argument("--verbose", action="store_true",
                   help="one line per run")
    args = p.parse_args(argv)
    if args.hours < 1:
        p.error("--hours must be at least 1")
    return Soak(args).main()


if __name__ == "__main__":
    sys.exit(main())
