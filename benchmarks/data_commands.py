#!/usr/bin/env python3
"""Bitmaps, HyperLogLog, geo and SORT: Hush against redis-server under redis-benchmark.

redis-benchmark has no built-in tests for these commands, so each test is a
custom command line (``redis-benchmark ... SETBIT bits __rand_int__ 1``) run
against a dataset the script loads first, the same on both servers:

==================  ================================================  =====================
test                command                                           data
==================  ================================================  =====================
SETBIT              ``SETBIT bits 4194303 1``                         a 1 MB bitmap
BITFIELD INCRBY     ``BITFIELD bits INCRBY u8 #262143 1``             the same bitmap
BITCOUNT 1MB        ``BITCOUNT mb``                                   1 MB of random bytes
PFADD               ``PFADD hll __rand_int__`` (-r 1000000)           an HLL, dense by then
PFCOUNT 1 key       ``PFCOUNT h1``                                    5,000 elements
PFCOUNT 3 keys      ``PFCOUNT h1 h2 h3``                              5,000 elements each
GEOADD              ``GEOADD g 2.35 48.85 __rand_int__``              (grows)
GEOSEARCH 10k       ``GEOSEARCH paris FROMLONLAT 2.35 48.85 BYRADIUS  10,000 points within
                    1 km ASC``                                        ~15 km of Paris
SORT 1000           ``SORT nums``                                     1,000 random integers
==================  ================================================  =====================

redis-benchmark writes ``__rand_int__`` as 12 zero-padded digits, which no
bit offset may have (Redis's string2ll refuses leading zeros), so SETBIT
sets one bit in the middle of the bitmap (after the first request it is set
already: a lookup and a compare), and BITFIELD INCRBY changes a byte there
on every request (a write into the 1 MB value).

Like ``run_benchmarks.py`` (whose helpers it uses) it starts Hush (this
checkout, the running Python's twistd, ``--maxkeys 0``) and Debian's
redis-server one after the other on free ports, pinned to CPU 0, with
redis-benchmark pinned to CPU 1, and reports requests/s and the server's CPU
microseconds per request (the steadier figure on a shared machine), best of
``--repeat`` rounds. Every process it starts is stopped by its PID. Not part of
the test suite: run it by hand from the checkout::

    /work/venvs/data-commands/bin/python benchmarks/data_commands.py --output /tmp/data.md
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import random
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from run_benchmarks import (
    Results,
    cpu_seconds,
    describe_machine,
    geometric_mean,
    pinned,
    start_hush,
    start_redis,
    stop,
)


@dataclass(frozen=True)
class Test:
    """One benchmarked command: its label, argv, -r range and request count."""

    label: str
    argv: tuple[str, ...]
    keyspace: int = 0
    requests: int = 20000


TESTS = (
    Test("SETBIT", ("SETBIT", "bits", "4194303", "1")),
    Test("BITFIELD INCRBY", ("BITFIELD", "bits", "INCRBY", "u8", "#262143", "1")),
    Test("BITCOUNT 1MB", ("BITCOUNT", "mb"), requests=5000),
    Test("PFADD", ("PFADD", "hll", "__rand_int__"), keyspace=1000000),
    Test("PFCOUNT 1 key", ("PFCOUNT", "h1")),
    Test("PFCOUNT 3 keys", ("PFCOUNT", "h1", "h2", "h3"), requests=5000),
    Test("GEOADD", ("GEOADD", "g", "2.35", "48.85", "__rand_int__"), keyspace=1000000),
    Test("GEOSEARCH 10k", ("GEOSEARCH", "paris", "FROMLONLAT", "2.35", "48.85", "BYRADIUS", "1",
                           "km", "ASC"), requests=5000),
    Test("SORT 1000", ("SORT", "nums"), requests=2000),
)


def encode(*args: bytes | str) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode() if isinstance(arg, str) else arg
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def load(port: int, seed: int = 2026) -> None:
    """The dataset every test reads, the same bytes on each server."""
    rng = random.Random(seed)
    commands = [
        ("FLUSHALL",),
        ("SETBIT", "bits", str(8 * 1024 * 1024 - 1), "0"),
        ("SET", "mb", rng.randbytes(1024 * 1024)),
    ]
    for key in ("h1", "h2", "h3"):
        commands.append(("PFADD", key, *(str(rng.getrandbits(40)) for _ in range(5000))))
    points: list[str] = []
    for index in range(10000):
        points += [repr(2.35 + rng.uniform(-0.2, 0.2)), repr(48.85 + rng.uniform(-0.13, 0.13)),
                   "p%d" % index]
    commands.append(("GEOADD", "paris", *points))
    commands.append(("RPUSH", "nums", *(str(rng.randrange(-10**9, 10**9)) for _ in range(1000))))
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        reader = sock.makefile("rb")
        for command in commands:
            sock.sendall(encode(*command))
            line = reader.readline()
            if line.startswith(b"-"):
                raise SystemExit(f"loading failed at {command[0]}: {line!r}")


def run_one(port: int, test: Test, pipeline: int, clients: int, cpu: int) -> float:
    """Requests/s redis-benchmark reports for one custom command."""
    argv = ["redis-benchmark", "-p", str(port), "-c", str(clients), "-n", str(test.requests),
            "-P", str(pipeline), "--csv"]
    if test.keyspace:
        argv += ["-r", str(test.keyspace)]
    done = subprocess.run(pinned(cpu, argv + list(test.argv)), capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"redis-benchmark failed ({done.returncode}):\n{done.stderr}")
    rows = [row for row in csv.DictReader(io.StringIO(done.stdout)) if row.get("rps")]
    return float(rows[0]["rps"])


def measure(label: str, start, args: argparse.Namespace, workdir: Path, results: Results) -> None:
    server = start(workdir, args.server_cpu)
    try:
        for pipeline in args.pipeline:
            load(server.port)
            print(f"  {label}: -P {pipeline} ...", file=sys.stderr, flush=True)
            for test in TESTS:
                before = cpu_seconds(server.process.pid)
                rps = run_one(server.port, test, pipeline, args.clients, args.client_cpu)
                used = cpu_seconds(server.process.pid) - before
                results.record(label, (pipeline, test.label), rps, used * 1e6 / test.requests)
    finally:
        stop(server)


def render(results: Results, pipelines: list[int]) -> str:
    lines = ["| -P | test | Hush req/s | Redis req/s | Hush/Redis | Hush CPU us/req "
             "| Redis CPU us/req |",
             "|---:|:-----|-----------:|------------:|-----------:|----------------:"
             "|-----------------:|"]
    for pipeline in pipelines:
        ratios = []
        for test in TESTS:
            key = (pipeline, test.label)
            ours, theirs = results.rps["Hush"][key], results.rps["Redis"][key]
            ratio = ours / theirs
            ratios.append(ratio)
            lines.append(
                f"| {pipeline} | {test.label} | {ours:,.0f} | {theirs:,.0f} | {ratio:.2f} "
                f"| {results.cpu['Hush'][key]:.1f} | {results.cpu['Redis'][key]:.1f} |")
        lines.append(f"| {pipeline} | **geometric mean** | | | "
                     f"**{geometric_mean(ratios):.2f}** | | |")
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--clients", type=int, default=50)
    parser.add_argument("-P", "--pipeline", type=int, action="append")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the best figure is kept")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument("--output", type=Path, help="also write the table (markdown) here")
    args = parser.parse_args(argv)
    args.pipeline = args.pipeline or [1]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = Results()
    with tempfile.TemporaryDirectory(prefix="hush-data-bench-") as tmp:
        workdir = Path(tmp)
        for round_number in range(args.repeat):
            print(f"round {round_number + 1} of {args.repeat}", file=sys.stderr)
            measure("Hush", start_hush, args, workdir, results)
            measure("Redis", start_redis, args, workdir, results)
    text = describe_machine() + "\n" + render(results, args.pipeline)
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0 if all(not math.isnan(v) for v in results.rps["Hush"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
