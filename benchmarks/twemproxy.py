#!/usr/bin/env python3
"""Hush behind twemproxy: redis-benchmark through nutcracker in front of 1 and of 3 Hush processes.

Three setups, one after the other, each on free ports:

- ``direct``: redis-benchmark against one Hush (no proxy), the baseline;
- ``proxy x1``: nutcracker running contrib/twemproxy/nutcracker.yml with one
  Hush backend;
- ``proxy x3``: the same with three Hush backends.

Each runs ``redis-benchmark -c 50 -r 100000 -n N -t set,get -P {1,16}
--csv``. Nothing is pinned to a CPU: the point is how far the processes
spread over the machine's cores. Around each run the script reads the CPU
time (user + system) of every Hush process, of nutcracker and of
redis-benchmark, and reports each as cores busy over the run's wall time.
``--repeat K`` runs every setup K times, alternating, and keeps the round
with the highest requests/s. At the end it prints each backend's share of
the keys of the last ``proxy x3`` run. Every process it starts is stopped by
its PID.

Not part of the test suite: run it by hand from the checkout::

    /tmp/venv/bin/python benchmarks/twemproxy.py -n 200000 --repeat 3 --output /tmp/twemproxy.md
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from run_benchmarks import (
    REPO,
    Server,
    cpu_seconds,
    describe_machine,
    free_port,
    send,
    stop,
    twistd_command,
    wait_ready,
)

CONTRIB = REPO / "contrib" / "twemproxy" / "nutcracker.yml"
SERVER_LINE = re.compile(r"^   - 127\.0\.0\.1:\d+:1 hush-\d+$", re.M)
SETUPS = {"direct": 1, "proxy x1": 1, "proxy x3": 3}


@dataclass
class Round:
    """One redis-benchmark run: requests/s per test and cores busy per process group."""

    rps: dict[str, float]
    cores: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.rps.values())


def nutcracker_path() -> str:
    found = shutil.which("nutcracker") or "/usr/sbin/nutcracker"
    if not os.access(found, os.X_OK):
        raise SystemExit("nutcracker is not installed (apt-get install nutcracker)")
    return found


def proxy_config(listen: int, backends: list[int]) -> str:
    """contrib's nutcracker.yml on these ports."""
    text = CONTRIB.read_text()
    servers = "\n".join(f"   - 127.0.0.1:{port}:1 hush-{index}"
                        for index, port in enumerate(backends, 1))
    text = SERVER_LINE.sub("\0", text, count=1)
    text = SERVER_LINE.sub("", text).replace("\0", servers)
    return re.sub(r"listen: 127\.0\.0\.1:\d+", f"listen: 127.0.0.1:{listen}", text)


def start_hush(workdir: Path, index: int) -> Server:
    """Hush from this checkout, unlimited keyspace."""
    port = free_port()
    log = workdir / f"hush-{index}.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    argv = twistd_command() + ["-n", "--pidfile=", "hush", "--port",
                               f"tcp:{port}:interface=127.0.0.1", "--maxkeys", "0"]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=workdir, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    server = Server(f"hush-{index}", process, port, log)
    wait_ready(server)
    return server


def start_nutcracker(workdir: Path, backends: list[Server]) -> Server:
    port = free_port()
    config = workdir / "nutcracker.yml"
    config.write_text(proxy_config(port, [server.port for server in backends]))
    log = workdir / "nutcracker.log"
    process = subprocess.Popen(
        [nutcracker_path(), "-c", str(config), "-s", str(free_port()), "-a", "127.0.0.1",
         "-o", str(log)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    server = Server("nutcracker", process, port, log)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and process.poll() is None:
        try:
            # The proxy answers PING itself, but not as an inline command.
            if send(port, b"*1\r\n$4\r\nPING\r\n", 0.5).startswith(b"+PONG"):
                return server
        except OSError:
            time.sleep(0.1)
    stop(server)
    raise SystemExit(f"nutcracker did not start; its log:\n{log.read_text()}")


def benchmark(port: int, requests: int, pipeline: int, clients: int,
              watched: dict[str, list[int]]) -> Round:
    """One redis-benchmark run of SET and GET; CPU of the ``watched`` PIDs by group."""
    argv = ["redis-benchmark", "-p", str(port), "-c", str(clients), "-r", "100000",
            "-n", str(requests), "-t", "set,get", "-P", str(pipeline), "--csv"]
    before = {group: [cpu_seconds(pid) for pid in pids] for group, pids in watched.items()}
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    # redis-benchmark's "Could not fetch server CONFIG" on stderr is expected:
    # the proxy does not pass CONFIG on.
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(f"redis-benchmark failed ({done.returncode}):\n{done.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rows = csv.DictReader(io.StringIO(done.stdout))
    result = Round({row["test"]: float(row["rps"]) for row in rows if row.get("rps")})
    for group, pids in watched.items():
        used = [cpu_seconds(pid) - old for pid, old in zip(pids, before[group], strict=True)]
        result.cores[group] = max(used) / wall
    # The servers are not reaped until the end: the children's CPU is redis-benchmark's.
    result.cores["redis-benchmark"] = (after.ru_utime + after.ru_stime
                                       - children.ru_utime - children.ru_stime) / wall
    return result


def run_setup(name: str, args: argparse.Namespace, workdir: Path) -> tuple[dict[int, Round], list[int]]:
    """Start one setup, run each pipeline depth, stop it; the rounds and the keys per backend."""
    backends: list[Server] = []
    proxy = None
    try:
        for index in range(1, SETUPS[name] + 1):
            backends.append(start_hush(workdir, index))
        watched = {"hush": [server.process.pid for server in backends]}
        target = backends[0].port
        if name != "direct":
            proxy = start_nutcracker(workdir, backends)
            watched["nutcracker"] = [proxy.process.pid]
            target = proxy.port
        rounds = {}
        for pipeline in args.pipeline:
            for server in backends:
                send(server.port, b"FLUSHALL\r\n")
            print(f"  {name}: -P {pipeline} ...", file=sys.stderr, flush=True)
            rounds[pipeline] = benchmark(target, args.requests, pipeline, args.clients, watched)
        keys = [int(send(server.port, b"DBSIZE\r\n")[1:]) for server in backends]
        return rounds, keys
    finally:
        if proxy is not None:
            stop(proxy)
        for server in backends:
            stop(server)


def table(best: dict[tuple[str, int], Round], pipelines: list[int]) -> str:
    lines = [
        "| setup | -P | SET req/s | GET req/s | vs direct | vs proxy x1 "
        "| Hush cores (busiest) | nutcracker cores | redis-benchmark cores |",
        "|:------|---:|----------:|----------:|----------:|------------:"
        "|---------------------:|-----------------:|----------------------:|",
    ]
    for pipeline in pipelines:
        for name in SETUPS:
            this = best[(name, pipeline)]
            direct = best[("direct", pipeline)].total
            single = best[("proxy x1", pipeline)].total
            nutcracker = this.cores.get("nutcracker")
            lines.append(
                f"| {name} | {pipeline} | {this.rps.get('SET', 0):,.0f} "
                f"| {this.rps.get('GET', 0):,.0f} | {this.total / direct:.2f} "
                f"| {this.total / single:.2f} | {this.cores['hush']:.2f} "
                f"| {'' if nutcracker is None else f'{nutcracker:.2f}'} "
                f"| {this.cores['redis-benchmark']:.2f} |")
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--requests", type=int, default=100_000, help="requests per test")
    parser.add_argument("-P", "--pipeline", default="1,16", help="pipeline depths (default 1,16)")
    parser.add_argument("-c", "--clients", type=int, default=50, help="parallel connections")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the best is kept")
    parser.add_argument("--output", type=Path, help="also write the markdown here")
    args = parser.parse_args(argv)
    args.pipeline = [int(p) for p in args.pipeline.split(",") if p.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    nutcracker_path()
    if shutil.which("redis-benchmark") is None:
        raise SystemExit("redis-benchmark is not installed (apt-get install redis-tools)")
    best: dict[tuple[str, int], Round] = {}
    spread: list[int] = []
    with tempfile.TemporaryDirectory(prefix="hush-twemproxy-") as tmp:
        for round_number in range(1, args.repeat + 1):
            print(f"round {round_number}/{args.repeat}", file=sys.stderr, flush=True)
            for name in SETUPS:
                rounds, keys = run_setup(name, args, Path(tmp))
                if name == "proxy x3":
                    spread = keys
                for pipeline, result in rounds.items():
                    kept = best.get((name, pipeline))
                    if kept is None or result.total > kept.total:
                        best[(name, pipeline)] = result
    version = subprocess.run([nutcracker_path(), "--version"], capture_output=True,
                             text=True, check=False)
    text = (
        describe_machine()
        + f"- {(version.stdout + version.stderr).splitlines()[0]}\n"
        + f"- `redis-benchmark -c {args.clients} -r 100000 -n {args.requests} -t set,get "
        + f"-P {{{','.join(map(str, args.pipeline))}}} --csv`, best of {args.repeat} round(s)\n\n"
        + table(best, args.pipeline)
        + f"\nKeys per backend after the last proxy x3 run (-P {args.pipeline[-1]}): "
        + ", ".join(f"{count:,}" for count in spread) + "\n"
    )
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
