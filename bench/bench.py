#!/usr/bin/env python3
"""Benchmark target-stitch against json-c's bare parsing speed.

For each corpus of Taktile decision records (100,000 and 400,000 by
default; BENCH_RECORDS=20000,80000 picks others) it times json-c parsing
every line (build/bench/jsonc-parse) and target-stitch loading the
corpus into a local stand-in for Stitch with its default settings, best
of three runs each, and records the target's peak RSS and the bytes it
put on the wire; then it times the target once more with
validate_records on, every record checked against its stream's schema.  It then prints the figures and PASS or FAIL against
the goals below.

The exit status is 0 whatever the figures are; it is 1 when a program
fails, or when the target does not print the corpus's last state.

Environment: BIN and BUILD (where the programs are, default bin and
build), BENCH_RECORDS, BENCH_RUNS (default 3).
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
sys.path.insert(0, HERE)

import sink as sinkmod  # noqa: E402

GOAL_RATIO = 1.6        # target time / json-c parse time, at most
GOAL_RSS_MIB = 32.0     # peak RSS, at most
GOAL_FLAT_MIB = 2.0     # growth of peak RSS from smallest to largest
GOAL_FLAT_SHARE = 0.10  # ... or this share of the smallest, if larger
GOAL_WIRE = 6.0         # JSON bytes / wire bytes, at least
GOAL_VALIDATE = 0.5     # speed with validate_records / speed without


class BenchError(Exception):
    pass


def record_counts():
    text = os.environ.get("BENCH_RECORDS", "100000,400000")
    try:
        counts = [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        counts = []
    if not counts or min(counts) <= 0:
        raise BenchError("BENCH_RECORDS must be a comma-separated list of "
                         "positive numbers, not '%s'" % text)
    return sorted(set(counts))


def generator_digest():
    with open(os.path.join(HERE, "gen_corpus.py"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            n += block.count(b"\n")
    return n


def last_state(path):
    """The value of the last STATE message in the file."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - (1 << 20)))
        tail = f.read()
    for line in reversed(tail.splitlines()):
        if line.startswith(b'{"type":"STATE"'):
            return json.loads(line)["value"]
    raise BenchError("no STATE near the end of '%s'" % path)


def corpus(n, digest):
    """Path and description of the corpus of n records, made if needed."""
    path = os.path.join(OUT, "corpus-%d.jsonl" % n)
    meta_path = os.path.join(OUT, "corpus-%d.json" % n)
    try:
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get("records") == n and \
                meta.get("generator") == digest and \
                meta.get("bytes") == os.path.getsize(path):
            return path, meta
    except (OSError, ValueError):
        pass

    print("generating %s records into %s ..." % (
        format(n, ","), os.path.relpath(path, ROOT)), flush=True)
    start = time.perf_counter()
    tmp = path + ".tmp"
    subprocess.run([sys.executable, os.path.join(HERE, "gen_corpus.py"),
                    str(n), "-o", tmp], check=True)
    os.replace(tmp, path)
    meta = {"records": n, "generator": digest,
            "bytes": os.path.getsize(path), "lines": count_lines(path),
            "last_state": last_state(path)}
    with open(meta_path, "w") as f:
        json.dump(meta, f)
    print("  %.1f s, %.1f MB" % (time.perf_counter() - start,
                                 meta["bytes"] / 1e6), flush=True)
    return path, meta


def write_config(url, validate=False):
    name = "target-config-validate.json" if validate else \
        "target-config.json"
    path = os.path.join(OUT, name)
    config = {"token": "bench-token", "client_id": 4242,
              "small_batch_url": url, "big_batch_url": url,
              "batch_size_preferences": {}}
    if validate:
        config["validate_records"] = True
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(config, f)
    return path


def child_env():
    env = dict(os.environ)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                 "all_proxy", "ALL_PROXY"):
        env.pop(name, None)
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    return env


def run_parser(parser, path, lines):
    """Wall seconds of one jsonc-parse run over the file."""
    with open(path, "rb") as stdin:
        start = time.perf_counter()
        proc = subprocess.run([parser], stdin=stdin, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise BenchError("jsonc-parse failed (exit status %d): %s" % (
            proc.returncode, proc.stderr.decode(errors="replace").strip()))
    got = proc.stdout.decode().strip()
    if got != str(lines):
        raise BenchError("jsonc-parse counted %s lines, not %d" % (
            got, lines))
    return wall


# Started through this launcher, the target's peak RSS is its own and not
# inflated by the Python process that forked it.
LAUNCHER = os.path.join(ROOT, os.environ.get("BUILD", "build"), "bench",
                        "rusage")
if not os.access(LAUNCHER, os.X_OK):
    LAUNCHER = None


def run_target(target, config, path, env):
    """One target run: wall seconds, CPU seconds, peak RSS in KiB and the
    state lines it printed."""
    with open(path, "rb") as stdin, \
            tempfile.TemporaryFile() as out, \
            tempfile.TemporaryFile() as err:
        argv = [target, "-c", config]
        if LAUNCHER:
            result = config + ".rusage"
            argv = [LAUNCHER, result] + argv
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=stdin, stdout=out, stderr=err,
                                env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        cpu, maxrss = usage.ru_utime + usage.ru_stime, usage.ru_maxrss
        if LAUNCHER and proc.returncode == 0:
            # The launcher reports the target's own figures.
            with open(result) as f:
                fields = f.read().split()
            proc.returncode = os.waitstatus_to_exitcode(int(fields[0]))
            cpu = float(fields[1]) + float(fields[2])
            maxrss = int(fields[3])
        out.seek(0)
        states = out.read().decode("utf-8", errors="replace")
        err.seek(0)
        log = err.read().decode("utf-8", errors="replace")
    if proc.returncode != 0:
        tail = "\n".join(log.splitlines()[-20:])
        raise BenchError("target-stitch failed (exit status %d); the end "
                         "of its log:\n%s" % (proc.returncode, tail))
    return wall, cpu, maxrss, states


def check_final_state(states, want):
    lines = [x for x in states.splitlines() if x.strip()]
    if not lines:
        raise BenchError("target-stitch printed no state")
    try:
        got = json.loads(lines[-1])
    except ValueError:
        raise BenchError("the last line target-stitch printed is not JSON: "
                         "%r" % lines[-1][:200])
    if got != want:
        raise BenchError("target-stitch's last state is %s, not the "
                         "corpus's last state %s" % (
                             json.dumps(got)[:300], json.dumps(want)[:300]))
    return len(lines)


def measure(n, path, meta, tools, sink, runs):
    parser, target, config, validating, env = tools
    print("%s records (%.1f MB): json-c" % (format(n, ","),
                                            meta["bytes"] / 1e6),
          end="", flush=True)
    parse = []
    for _ in range(runs):
        parse.append(run_parser(parser, path, meta["lines"]))
        print(" %.2f s" % parse[-1], end="", flush=True)
    print("; target", end="", flush=True)
    walls, cpus, rss, wire = [], [], [], set()
    for _ in range(runs):
        sink.reset()
        wall, cpu, maxrss, states = run_target(target, config, path, env)
        nstates = check_final_state(states, meta["last_state"])
        walls.append(wall)
        cpus.append(cpu)
        rss.append(maxrss)
        wire.add(sink.totals())
        print(" %.2f s" % wall, end="", flush=True)
    print("; with validate_records", end="", flush=True)
    checked = []
    for _ in range(runs):
        sink.reset()
        wall, _, _, states = run_target(target, validating, path, env)
        check_final_state(states, meta["last_state"])
        checked.append(wall)
        print(" %.2f s" % wall, end="", flush=True)
    print(flush=True)
    requests, wire_bytes, plain = max(wire, key=lambda t: t[1])
    spread = wire_bytes - min(t[1] for t in wire)
    best = min(range(runs), key=lambda i: walls[i])
    return {
        "records": n, "bytes": meta["bytes"], "parse": min(parse),
        "target": walls[best], "cpu": cpus[best],
        "rss_mib": max(rss) / 1024.0, "wire": wire_bytes,
        "requests": requests, "plain": plain, "states": nstates,
        "wire_spread": spread, "validated": min(checked),
    }


def table(results):
    rows = [
        ("records", lambda r: format(r["records"], ","), ""),
        ("JSON MB", lambda r: "%.1f" % (r["bytes"] / 1e6), ""),
        ("json-c parse s", lambda r: "%.3f" % r["parse"], ""),
        ("target s", lambda r: "%.3f" % r["target"], ""),
        ("target CPU s", lambda r: "%.3f" % r["cpu"], ""),
        ("target / parse", lambda r: "%.2f" % (r["target"] / r["parse"]),
         "<= %.1f" % GOAL_RATIO),
        ("records/s", lambda r: format(int(r["records"] / r["target"]),
                                       ","), ""),
        ("MB/s", lambda r: "%.1f" % (r["bytes"] / 1e6 / r["target"]), ""),
        ("validating s", lambda r: "%.3f" % r["validated"], ""),
        ("validated rec/s", lambda r: format(
            int(r["records"] / r["validated"]), ","), ""),
        ("validated speed", lambda r: "%.2f" % (r["target"] /
                                                r["validated"]),
         ">= %.1f" % GOAL_VALIDATE),
        ("peak RSS MiB", lambda r: "%.1f" % r["rss_mib"],
         "<= %.0f, flat" % GOAL_RSS_MIB),
        ("wire bytes", lambda r: format(r["wire"], ","), ""),
        ("JSON / wire", lambda r: "%.2f" % (r["bytes"] / r["wire"]),
         ">= %.0f" % GOAL_WIRE),
        ("requests", lambda r: format(r["requests"], ","), ""),
        ("states printed", lambda r: format(r["states"], ","), ""),
    ]
    width = max(14, max(len(format(r["records"], ",")) for r in results))
    print()
    print("%-16s" % "" + "".join("%*s" % (width + 2, format(
        r["records"], ",")) for r in results) + "   goal")
    for name, cell, goal in rows[1:]:
        line = "%-16s" % name + "".join("%*s" % (width + 2, cell(r))
                                        for r in results)
        print(line + ("   " + goal if goal else ""))
    print()


def verdicts(results):
    def each(test):
        return all(test(r) for r in results)

    def show(values):
        return ", ".join(values)

    out = []
    out.append((each(lambda r: r["target"] / r["parse"] <= GOAL_RATIO),
                "speed: target / json-c parse <= %.1f (%s)" % (
                    GOAL_RATIO, show("%.2f" % (r["target"] / r["parse"])
                                     for r in results))))
    out.append((each(lambda r: r["rss_mib"] <= GOAL_RSS_MIB),
                "memory: peak RSS <= %.0f MiB (%s)" % (
                    GOAL_RSS_MIB, show("%.1f" % r["rss_mib"]
                                       for r in results))))
    if len(results) > 1:
        lo, hi = results[0], results[-1]
        allowed = max(GOAL_FLAT_MIB, GOAL_FLAT_SHARE * lo["rss_mib"])
        growth = hi["rss_mib"] - lo["rss_mib"]
        out.append((growth <= allowed,
                    "flat memory: %s to %s records grows peak RSS by "
                    "%.1f MiB (allowed %.1f)" % (
                        format(lo["records"], ","),
                        format(hi["records"], ","), growth, allowed)))
    out.append((each(lambda r: r["bytes"] / r["wire"] >= GOAL_WIRE),
                "compression: JSON / wire bytes >= %.0f (%s)" % (
                    GOAL_WIRE, show("%.2f" % (r["bytes"] / r["wire"])
                                    for r in results))))
    out.append((each(lambda r: r["target"] / r["validated"] >=
                     GOAL_VALIDATE),
                "validation: speed with validate_records / without >= "
                "%.1f (%s)" % (GOAL_VALIDATE, show(
                    "%.2f" % (r["target"] / r["validated"])
                    for r in results))))
    for ok, text in out:
        print("%s %s" % ("PASS" if ok else "FAIL", text))
    for r in results:
        if r["plain"]:
            print("note: %d of %d requests for %s records were not gzip" % (
                r["plain"], r["requests"], format(r["records"], ",")))
        if r["wire_spread"]:
            # The items' sequence numbers come from the clock.
            print("note: wire bytes for %s records varied by %s between "
                  "runs; the largest is shown" % (
                      format(r["records"], ","),
                      format(r["wire_spread"], ",")))


def main():
    bin_dir = os.path.join(ROOT, os.environ.get("BIN", "bin"))
    build_dir = os.path.join(ROOT, os.environ.get("BUILD", "build"))
    target = os.path.join(bin_dir, "target-stitch")
    parser = os.path.join(build_dir, "bench", "jsonc-parse")
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    for prog in (target, parser):
        if not os.access(prog, os.X_OK):
            raise BenchError("cannot run '%s'; build it with 'make bench'"
                             % prog)

    counts = record_counts()
    os.makedirs(OUT, exist_ok=True)
    digest = generator_digest()
    corpora = [(n,) + corpus(n, digest) for n in counts]

    sink = sinkmod.Sink()
    url = sink.start()
    try:
        tools = (parser, target, write_config(url),
                 write_config(url, validate=True), child_env())
        results = [measure(n, path, meta, tools, sink, max(1, runs))
                   for n, path, meta in corpora]
    finally:
        sink.stop()

    table(results)
    verdicts(results)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print("\nbench: %s" % e, file=sys.stderr)
        sys.exit(1)
    except subprocess.CalledProcessError as e:
        print("\nbench: %s" % e, file=sys.stderr)
        sys.exit(1)
