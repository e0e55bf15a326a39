#!/usr/bin/env python3
"""Hush in cluster mode: redis-benchmark against one Hush and against a cluster of three.

Three setups, one after the other, each on free ports:

- ``standalone``: one Hush without cluster mode, the baseline;
- ``cluster x1``: one Hush in cluster mode serving all 16384 slots
  (what routing costs a process);
- ``cluster x3``: three Hush processes from contrib/cluster (cluster.conf and
  nodes-700X.conf with the ports made free ones), a third of the slots each.

Each runs ``redis-benchmark -c C -r 100000 -n N -t set,get -P {1,16}
--csv``; ``cluster x3`` adds ``--cluster``, with which redis-benchmark reads
the slot map and sends each request to the node of its key, C connections
per node (redis-benchmark refuses ``--cluster`` for a one-node cluster:
``cluster x1`` gets plain requests, every key of which is its own). The AOF is off (cluster.conf's
``appendonly yes`` is overridden), as for the standalone run. Nothing is
pinned to a CPU. Around each run the script reads the CPU time (user +
system) of every Hush process and of redis-benchmark, and reports the
busiest Hush and redis-benchmark as cores busy over the run's wall time.
``--repeat K`` runs every setup K times, alternating, and keeps the round
with the highest requests/s. Every process it starts is stopped by its PID.

Not part of the test suite: run it by hand from the checkout::

    /tmp/venv/bin/python benchmarks/cluster.py -n 200000 --repeat 3 --output /tmp/cluster.md
"""

from __future__ import annotations

import argparse
import csv
import io
import os
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

CONTRIB = REPO / "contrib" / "cluster"
TEMPLATE_PORTS = (7000, 7001, 7002)
SETUPS = ("standalone", "cluster x1", "cluster x3")
ALL_SLOTS_NODE = b"%040d" % 7000


@dataclass
class Round:
    """One redis-benchmark run: requests/s per test and cores busy per process group."""

    rps: dict[str, float]
    cores: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.rps.values())


def cluster_port() -> int:
    """A free port whose bus port (port + 10000) is a valid port, as nodes.conf shows it."""
    while True:
        port = free_port()
        if port <= 55535:
            return port


def node_files(workdir: Path, ports: list[int]) -> list[Path]:
    """A directory per node holding its nodes.conf: contrib's, on these ports."""
    dirs = []
    if len(ports) == 1:
        text = (f"{ALL_SLOTS_NODE.decode()} 127.0.0.1:{ports[0]}@{ports[0] + 10000} "
                "myself,master - 0 0 1 connected 0-16383\nvars currentEpoch 1 lastVoteEpoch 0\n")
        texts = [text]
    else:
        texts = []
        for template in TEMPLATE_PORTS:
            text = (CONTRIB / f"nodes-{template}.conf").read_text()
            for old, new in zip(TEMPLATE_PORTS, ports, strict=True):
                text = text.replace(f":{old}@{old + 10000}", f":{new}@{new + 10000}")
            texts.append(text)
    for port, text in zip(ports, texts, strict=True):
        directory = workdir / str(port)
        directory.mkdir()
        (directory / "nodes.conf").write_text(text)
        dirs.append(directory)
    return dirs


def start_hush(workdir: Path, port: int, cluster: bool) -> Server:
    """Hush from this checkout: contrib's cluster.conf without the AOF, or a plain one."""
    directory = workdir / str(port)
    directory.mkdir(exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    argv = twistd_command() + ["-n", "--pidfile=", "hush", "--port",
                               f"tcp:{port}:interface=127.0.0.1", "--maxkeys", "0",
                               "--dir", str(directory)]
    if cluster:
        # contrib's cluster.conf, without its AOF: the standalone baseline has none.
        (directory / "hush.conf").write_text(
            f"include {CONTRIB / 'cluster.conf'}\nappendonly no\n")
        argv += ["--config", str(directory / "hush.conf")]
    log = directory / "hush.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=directory, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    server = Server(f"hush-{port}", process, port, log)
    wait_ready(server)
    return server


def benchmark(port: int, spread: bool, requests: int, pipeline: int, clients: int,
              pids: list[int]) -> Round:
    """One redis-benchmark run of SET and GET (``--cluster`` if ``spread``); CPU used."""
    argv = ["redis-benchmark", "-p", str(port), "-c", str(clients), "-r", "100000",
            "-n", str(requests), "-t", "set,get", "-P", str(pipeline), "--csv"]
    if spread:
        argv.insert(1, "--cluster")
    before = [cpu_seconds(pid) for pid in pids]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(f"redis-benchmark failed ({done.returncode}):\n{done.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # With --cluster the CSV follows a description of the nodes.
    table_text = done.stdout[done.stdout.index('"test"'):]
    rows = csv.DictReader(io.StringIO(table_text))
    result = Round({row["test"]: float(row["rps"]) for row in rows if row.get("rps")})
    used = [cpu_seconds(pid) - old for pid, old in zip(pids, before, strict=True)]
    result.cores["hush"] = max(used) / wall
    result.cores["hush total"] = sum(used) / wall
    # The servers are not reaped until the end: the children's CPU is redis-benchmark's.
    result.cores["redis-benchmark"] = (after.ru_utime + after.ru_stime
                                       - children.ru_utime - children.ru_stime) / wall
    return result


def run_setup(name: str, args: argparse.Namespace, workdir: Path) -> tuple[dict[int, Round], list[int]]:
    """Start one setup, run each pipeline depth, stop it; the rounds and the keys per node."""
    count = 3 if name == "cluster x3" else 1
    cluster = name != "standalone"
    ports = [cluster_port() for _ in range(count)]
    servers: list[Server] = []
    setup_dir = Path(tempfile.mkdtemp(prefix=name.replace(" ", "-") + "-", dir=workdir))
    try:
        if cluster:
            node_files(setup_dir, ports)
        for port in ports:
            servers.append(start_hush(setup_dir, port, cluster))
        pids = [server.process.pid for server in servers]
        rounds = {}
        for pipeline in args.pipeline:
            for server in servers:
                send(server.port, b"FLUSHALL\r\n")
            print(f"  {name}: -P {pipeline} ...", file=sys.stderr, flush=True)
            rounds[pipeline] = benchmark(ports[0], count > 1, args.requests, pipeline,
                                         args.clients, pids)
        keys = [int(send(server.port, b"DBSIZE\r\n")[1:]) for server in servers]
        return rounds, keys
    finally:
        for server in servers:
            stop(server)


def table(best: dict[tuple[str, int], Round], pipelines: list[int]) -> str:
    lines = [
        "| setup | -P | SET req/s | GET req/s | vs standalone | Hush cores (busiest) "
        "| Hush cores (all) | redis-benchmark cores |",
        "|:------|---:|----------:|----------:|--------------:|---------------------:"
        "|-----------------:|----------------------:|",
    ]
    for pipeline in pipelines:
        for name in SETUPS:
            this = best[(name, pipeline)]
            alone = best[("standalone", pipeline)].total
            lines.append(
                f"| {name} | {pipeline} | {this.rps.get('SET', 0):,.0f} "
                f"| {this.rps.get('GET', 0):,.0f} | {this.total / alone:.2f} "
                f"| {this.cores['hush']:.2f} | {this.cores['hush total']:.2f} "
                f"| {this.cores['redis-benchmark']:.2f} |")
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--requests", type=int, default=100_000, help="requests per test")
    parser.add_argument("-P", "--pipeline", default="1,16", help="pipeline depths (default 1,16)")
    parser.add_argument("-c", "--clients", type=int, default=50,
                        help="connections (per node with --cluster)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the best is kept")
    parser.add_argument("--output", type=Path, help="also write the markdown here")
    args = parser.parse_args(argv)
    args.pipeline = [int(p) for p in args.pipeline.split(",") if p.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("redis-benchmark") is None:
        raise SystemExit("redis-benchmark is not installed (apt-get install redis-tools)")
    best: dict[tuple[str, int], Round] = {}
    spread: list[int] = []
    with tempfile.TemporaryDirectory(prefix="hush-cluster-bench-") as tmp:
        for round_number in range(1, args.repeat + 1):
            print(f"round {round_number}/{args.repeat}", file=sys.stderr, flush=True)
            for name in SETUPS:
                rounds, keys = run_setup(name, args, Path(tmp))
                if name == "cluster x3":
                    spread = keys
                for pipeline, result in rounds.items():
                    kept = best.get((name, pipeline))
                    if kept is None or result.total > kept.total:
                        best[(name, pipeline)] = result
    text = (
        describe_machine()
        + f"- `redis-benchmark [--cluster] -c {args.clients} -r 100000 -n {args.requests} "
        + f"-t set,get -P {{{','.join(map(str, args.pipeline))}}} --csv`, best of "
        + f"{args.repeat} round(s)\n\n"
        + table(best, args.pipeline)
        + f"\nKeys per node after the last cluster x3 run (-P {args.pipeline[-1]}): "
        + ", ".join(f"{count:,}" for count in spread) + "\n"
    )
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
