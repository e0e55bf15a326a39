#!/usr/bin/env python3
"""Bytes per key: Hush and redis-server side by side, loaded with the same keys.

Each scenario starts a fresh server (pinned to one CPU, as run_benchmarks.py
does), reads its resident set size (VmRSS of /proc/PID/status) once it
answers PING, loads ``--keys`` keys of ``--value-size`` bytes with pipelined
``SET key:%012d <value>`` (the key names redis-benchmark's ``-r`` gives:
16 bytes), reads the RSS again and reports ``(after - empty) / keys``. RSS
is a steady figure on a shared machine: other load moves CPU time, not
memory.

Scenarios (``--scenarios``, comma-separated):

- ``plain``: no eviction (Hush with ``--maxkeys 0``);
- ``maxkeys``: Hush with ``--maxkeys N`` (N = the keys loaded: LRU order is
  kept, nothing is evicted); Redis has no such setting and runs plain;
- ``evict``: Hush with ``--maxkeys N`` loaded with 1.25 N keys, so that the
  last quarter each evicts one (bytes per key held); Redis loads N keys;
- ``ttl``: every other key set with ``EX 100000`` (Hush with ``--maxkeys 0``);
- ``read``: ``plain``, then every key read once with GET (a read moves a
  key in the LRU order), and the RSS read again: the size after use, not
  only after load.

``--baseline REV`` also runs Hush as of git revision REV (a temporary
worktree) in the same run. ``--breakdown`` instead loads keys into an
in-process store through the real protocol (tests/support.py's FakeServer:
the values are the bytes the parser produced) and prints what each
structure of a database costs per key (sys.getsizeof of the containers and
of the key and value objects, and tracemalloc's total)::

    /work/venvs/memory/bin/python benchmarks/memory.py --keys 1000000
    /work/venvs/memory/bin/python benchmarks/memory.py --breakdown --keys 200000

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_benchmarks import (  # noqa: E402
    REPO,
    Server,
    baseline_checkout,
    describe_machine,
    free_port,
    pinned,
    start_redis,
    stop,
    twistd_command,
    wait_ready,
)

SCENARIOS = ("plain", "maxkeys", "evict", "ttl", "read")

#: Commands per write to the socket: large enough that the loader is not the
#: bottleneck, small enough that the server's input buffer stays small.
BATCH = 1000


def start_hush(workdir: Path, cpu: int, repo: Path, label: str, extra: list[str]) -> Server:
    """Hush from ``repo`` on a free port with ``extra`` options."""
    port = free_port()
    log = workdir / f"{label.replace('@', '-')}.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    argv = twistd_command() + ["-n", "--pidfile=", "hush", "--port",
                               f"tcp:{port}:interface=127.0.0.1", *extra]
    with log.open("wb") as out:
        process = subprocess.Popen(pinned(cpu, argv), cwd=workdir, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    server = Server(label, process, port, log)
    wait_ready(server)
    return server


def rss(pid: int) -> int:
    """The resident set size of ``pid`` in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def command(*args: bytes) -> bytes:
    """One command in RESP."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


def load_commands(keys: int, value_size: int, ttl_every: int) -> Iterator[tuple[bytes, int]]:
    """Batches of SET commands (and how many each holds)."""
    value = b"v" * value_size
    for start in range(0, keys, BATCH):
        parts = []
        for i in range(start, min(keys, start + BATCH)):
            key = b"key:%012d" % i
            if ttl_every and i % ttl_every == 0:
                parts.append(command(b"SET", key, value, b"EX", b"100000"))
            else:
                parts.append(command(b"SET", key, value))
        yield b"".join(parts), min(keys, start + BATCH) - start


def read_commands(keys: int) -> Iterator[tuple[bytes, int]]:
    """Batches of GET commands over every loaded key."""
    for start in range(0, keys, BATCH):
        stop_at = min(keys, start + BATCH)
        yield b"".join(command(b"GET", b"key:%012d" % i) for i in range(start, stop_at)), \
            stop_at - start


def drive(port: int, batches: Iterator[tuple[bytes, int]]) -> None:
    """Send every batch, reading its replies before the next (one connection)."""
    import hiredis

    with socket.create_connection(("127.0.0.1", port)) as sock:
        reader = hiredis.Reader()
        for payload, count in batches:
            sock.sendall(payload)
            got = 0
            while got < count:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    raise RuntimeError("the server closed the connection")
                reader.feed(chunk)
                while True:
                    reply = reader.gets()
                    if reply is False:
                        break
                    if isinstance(reply, hiredis.ReplyError):
                        raise RuntimeError(f"error reply: {reply}")
                    got += 1


def settled_rss(pid: int) -> int:
    """The RSS once it stops moving (a server may still be freeing buffers)."""
    last = rss(pid)
    for _ in range(20):
        time.sleep(0.25)
        now = rss(pid)
        if now == last:
            return now
        last = now
    return last


def run_scenario(server: Server, scenario: str, keys: int, value_size: int,
                 sent: int | None = None) -> dict[str, float]:
    """Load ``server`` for ``scenario``; bytes per key after load (and after reads).

    ``sent`` keys are written (default ``keys``), ``keys`` are held after.
    """
    pid = server.process.pid
    empty = settled_rss(pid)
    drive(server.port, load_commands(sent or keys, value_size, 2 if scenario == "ttl" else 0))
    loaded = settled_rss(pid)
    result = {"empty_mb": empty / 1e6, "per_key": (loaded - empty) / keys}
    if scenario == "read":
        drive(server.port, read_commands(keys))
        result["per_key_after_reads"] = (settled_rss(pid) - empty) / keys
    return result


def hush_options(scenario: str, keys: int) -> list[str]:
    """The options Hush runs with in ``scenario``."""
    if scenario in ("maxkeys", "evict"):
        return ["--maxkeys", str(keys)]
    return ["--maxkeys", "0"]


def side_by_side(args: argparse.Namespace) -> str:
    """Run every scenario on each server; the markdown table."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="hush-memory-") as tmp:
        workdir = Path(tmp)
        old = baseline_checkout(args.baseline, workdir) if args.baseline else None
        hushes: list[tuple[str, Path]] = [("Hush", REPO)]
        if old is not None:
            hushes.insert(0, (f"Hush@{args.baseline}", old))
        try:
            for scenario in args.scenarios:
                figures = {}
                for label, repo in hushes:
                    server = start_hush(workdir, args.server_cpu, repo, label,
                                        hush_options(scenario, args.keys))
                    sent = args.keys * 5 // 4 if scenario == "evict" else None
                    try:
                        figures[label] = run_scenario(server, scenario, args.keys,
                                                      args.value_size, sent)
                    finally:
                        stop(server)
                    print(f"{scenario} {label}: {figures[label]}", file=sys.stderr, flush=True)
                redis = start_redis(workdir, args.server_cpu)
                try:
                    figures["Redis"] = run_scenario(redis, scenario, args.keys, args.value_size)
                finally:
                    stop(redis)
                print(f"{scenario} Redis: {figures['Redis']}", file=sys.stderr, flush=True)
                rows.append((scenario, figures))
        finally:
            if old is not None:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force",
                                str(old)], check=False)
    labels = [label for label, _ in hushes] + ["Redis"]
    head = "| scenario | " + " | ".join(f"{label} B/key" for label in labels) + \
        " | Hush/Redis |"
    lines = [head, "|:--" + "|--:" * (len(labels) + 1) + "|"]
    for scenario, figures in rows:
        for column, name in (("per_key", scenario), ("per_key_after_reads",
                                                      f"{scenario}, after a GET of each key")):
            if column not in figures["Hush"]:
                continue
            cells = " | ".join(f"{figures[label][column]:.0f}" for label in labels)
            ratio = figures["Hush"][column] / figures["Redis"][column]
            lines.append(f"| {name} | {cells} | {ratio:.2f} |")
    return "\n".join(lines) + "\n"


def breakdown(keys: int, value_size: int) -> str:
    """What each part of a database costs per key, measured in process."""
    import tracemalloc

    sys.path.insert(0, str(REPO))
    from tests.support import FakeServer

    server = FakeServer(maxkeys=0)
    client = server.client()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for payload, _count in load_commands(keys, value_size, 0):
        client.send_raw(payload)
        client.raw()
    gc.collect()
    total = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    db = server.service.store.dbs[0]
    lines = [f"{keys} keys of {value_size}-byte values, one database:",
             f"  tracemalloc, everything the load allocated: {total / keys:7.1f} B/key"]
    keys_seen = [key for key in db.data if key.__class__ is bytes]
    key_bytes = sum(sys.getsizeof(key) for key in keys_seen)
    value_bytes = sum(sys.getsizeof(db.data[key]) for key in keys_seen)
    lines.append(f"  key objects (sys.getsizeof):               {key_bytes / keys:7.1f} B/key")
    lines.append(f"  value objects (sys.getsizeof):             {value_bytes / keys:7.1f} B/key")
    # Whatever the Database of the checkout holds (this runs on older ones too).
    parts = [(name, getattr(db, name, None)) for name in sorted(getattr(type(db), "__slots__", ()))]
    recency = getattr(db, "recency", None)
    if recency is not None:
        parts += [(f"recency.{name}", getattr(recency, name)) for name in type(recency).__slots__]
    for name, container in parts:
        if isinstance(container, (dict, list, set, deque)):
            lines.append(f"  db.{name:<16} {type(container).__name__:<12} {len(container):>9} "
                         f"entries {sys.getsizeof(container) / keys:7.1f} B/key")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--value-size", type=int, default=100)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated, of {', '.join(SCENARIOS)}")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--baseline", metavar="REV", help="also run Hush as of this revision")
    parser.add_argument("--breakdown", action="store_true",
                        help="measure the structures in process instead")
    parser.add_argument("--output", type=Path, help="also write the markdown here")
    args = parser.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for scenario in args.scenarios:
        if scenario not in SCENARIOS:
            parser.error(f"unknown scenario {scenario!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.breakdown:
        print(breakdown(args.keys, args.value_size))
        return 0
    report = (f"{describe_machine()}- {args.keys:,} keys `key:%012d` of {args.value_size}-byte "
              f"values, pipelined SETs of {BATCH}; (RSS after - RSS empty) / keys\n\n"
              f"{side_by_side(args)}")
    print(report)
    if args.output:
        args.output.write_text(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
