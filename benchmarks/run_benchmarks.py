#!/usr/bin/env python3
"""Hush against redis-server under redis-benchmark, one core each.

Starts Hush (this checkout, with ``python -m hush`` -- the ``hush`` command, on its own
reactor -- or with ``--launcher twistd`` through ``twistd -n hush``) and Debian's
``redis-server`` one after the other on free ports, each pinned to
CPU 0, and drives each with ``redis-benchmark`` pinned to CPU 1::

    redis-benchmark -p PORT -c 50 -r 100000 -n N -t TESTS -P PIPELINE --csv

It prints requests per second for both servers, the Hush/Redis ratio of each
test and the geometric mean of the ratios per pipeline depth; ``--output``
also writes the table as markdown. Every process it starts is stopped by PID.

Not part of the test suite: run it by hand from the checkout::

    /tmp/venv/bin/python benchmarks/run_benchmarks.py -n 100000 --output /tmp/bench.md

``--baseline REV`` also runs Hush as of git revision REV (checked out into a
temporary worktree) in the same rounds, and adds a table of the server CPU
per request of this checkout against REV: the before-and-after of a change,
measured side by side on one machine in one run.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

DEFAULT_TESTS = "set,get,incr,lpush,rpush,lpop,rpop,mset,lrange_100"
#: Tests redis-benchmark knows beyond the defaults (other Hush families).
EXTRA_TESTS = "hset,sadd,spop,zadd,zpopmin"

#: The command each redis-benchmark test sends, to probe whether Hush has it.
COMMAND_OF_TEST = {
    "lrange_100": "lrange",
    "lrange_300": "lrange",
    "lrange_500": "lrange",
    "lrange_600": "lrange",
    "ping_inline": "ping",
    "ping_mbulk": "ping",
}


@dataclass
class Server:
    """A started server process and what it is called in the table."""

    label: str
    process: subprocess.Popen
    port: int
    log: Path


@dataclass
class Results:
    """The best of the repeated runs, keyed by server, then (pipeline, test name).

    ``rps`` keeps the highest requests/s seen, ``cpu`` the lowest server CPU
    time (user + system, microseconds) per request: on a shared machine both
    are the least disturbed figures.
    """

    rps: dict[str, dict[tuple[int, str], float]] = field(default_factory=dict)
    cpu: dict[str, dict[tuple[int, str], float]] = field(default_factory=dict)
    skipped: dict[str, list[str]] = field(default_factory=dict)

    def record(self, label: str, key: tuple[int, str], rps: float, cpu: float) -> None:
        best = self.rps.setdefault(label, {})
        best[key] = max(rps, best.get(key, 0.0))
        least = self.cpu.setdefault(label, {})
        least[key] = min(cpu, least.get(key, math.inf))


def free_port() -> int:
    """A TCP port nothing listens on right now (never 6379)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port != 6379:
            return port


def twistd_command() -> list[str]:
    """The twistd of the Python running this script (the venv's, not the system's)."""
    script = Path(sys.executable).parent / "twistd"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]


def pinned(cpu: int, argv: list[str]) -> list[str]:
    # taskset execs the command, so the PID Popen reports is the server's own.
    return ["taskset", "-c", str(cpu), *argv]


def send(port: int, request: bytes, timeout: float = 2.0) -> bytes:
    """Send one inline request and return the first reply line."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data


def wait_ready(server: Server, timeout: float = 15.0) -> None:
    """Wait until the server answers PING, or fail with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            if send(server.port, b"PING\r\n", 0.5).startswith(b"+PONG"):
                return
        except OSError:
            pass
        time.sleep(0.1)
    stop(server)
    raise SystemExit(f"{server.label} did not start; its log:\n{server.log.read_text()}")


#: How Hush is started: "hush" (``python -m hush``, the command the systemd unit
#: runs, on Hush's own reactor) or "twistd" (``twistd -n --pidfile= hush``).
LAUNCHER = "hush"


def hush_command() -> list[str]:
    """The command that starts Hush, by :data:`LAUNCHER`."""
    if LAUNCHER == "twistd":
        return [*twistd_command(), "-n", "--pidfile=", "hush"]
    return [sys.executable, "-m", "hush"]


def start_hush(workdir: Path, cpu: int, repo: Path = REPO, label: str = "Hush") -> Server:
    """Start Hush from ``repo`` (this checkout by default) with an unlimited keyspace."""
    port = free_port()
    log = workdir / f"{label.replace('@', '-')}.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    argv = hush_command() + [
        "--port",
        f"tcp:{port}:interface=127.0.0.1",
        "--maxkeys",
        "0",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            pinned(cpu, argv), cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(label, process, port, log)
    wait_ready(server)
    return server


def start_redis(workdir: Path, cpu: int) -> Server:
    """Start redis-server with persistence off, in the foreground."""
    port = free_port()
    log = workdir / "redis.log"
    argv = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--dir",
        str(workdir),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            pinned(cpu, argv), cwd=workdir, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server("Redis", process, port, log)
    wait_ready(server)
    return server


def stop(server: Server) -> None:
    """Stop the server by its PID: SIGTERM, then SIGKILL if it lingers."""
    process = server.process
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def supported(port: int, test: str) -> bool:
    """True unless the server calls the test's command unknown.

    redis-benchmark counts error replies as answered requests, so a missing
    command would look fast. The command is sent without arguments: a known
    command answers with an arity error and changes nothing.
    """
    name = COMMAND_OF_TEST.get(test, test).upper()
    reply = send(port, name.encode() + b"\r\n")
    return not reply.startswith(b"-ERR unknown command")


def cpu_seconds(pid: int) -> float:
    """CPU time the process (all its threads) has used so far, in seconds.

    From the scheduler's nanosecond counters (/proc/PID/task/*/schedstat), not
    the clock ticks of /proc/PID/stat, whose 10 ms steps are a sizeable part of
    a test's time at a few microseconds per request.
    """
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9


def run_benchmark(
    port: int, test: str, requests: int, pipeline: int, clients: int, cpu: int
) -> dict[str, float]:
    """Run redis-benchmark for one test; return requests/s by the name it prints.

    Some tests print two rows (lrange_100 first fills the list with LPUSH).
    """
    argv = [
        "redis-benchmark",
        "-p",
        str(port),
        "-c",
        str(clients),
        "-r",
        "100000",
        "-n",
        str(requests),
        "-t",
        test,
        "-P",
        str(pipeline),
        "--csv",
    ]
    done = subprocess.run(pinned(cpu, argv), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"redis-benchmark failed ({done.returncode}):\n{done.stderr}")
    rows = csv.DictReader(io.StringIO(done.stdout))
    return {row["test"]: float(row["rps"]) for row in rows if row.get("rps")}


def measure(
    label: str,
    start,
    args: argparse.Namespace,
    workdir: Path,
    results: Results,
) -> None:
    """Start one server, run every pipeline depth and test against it, stop it.

    redis-benchmark runs once per test so that the server's CPU time can be
    read around each; the tests run in the order given, on one keyspace per
    pipeline depth, so LPOP pops what LPUSH pushed as in a single run.
    """
    server = start(workdir, args.server_cpu)
    try:
        tests = [test for test in args.tests if supported(server.port, test)]
        results.skipped[label] = [test for test in args.tests if test not in tests]
        for pipeline in args.pipeline:
            send(server.port, b"FLUSHALL\r\n")
            print(f"  {label}: -P {pipeline} ...", file=sys.stderr, flush=True)
            for test in tests:
                before = cpu_seconds(server.process.pid)
                rps = run_benchmark(
                    server.port, test, args.requests, pipeline, args.clients, args.client_cpu
                )
                used = cpu_seconds(server.process.pid) - before
                per_request = used * 1e6 / (args.requests * len(rps)) if rps else math.nan
                for name, value in rps.items():
                    results.record(label, (pipeline, name), value, per_request)
    finally:
        stop(server)


def geometric_mean(values: list[float]) -> float:
    """The geometric mean of positive values (nan for none)."""
    if not values:
        return math.nan
    return math.exp(sum(math.log(v) for v in values) / len(values))


def table(results: Results, pipelines: list[int]) -> tuple[str, dict[int, float]]:
    """The markdown table and the geometric mean of the Hush/Redis ratios per -P."""
    hush = results.rps.get("Hush", {})
    redis = results.rps.get("Redis", {})
    hush_cpu = results.cpu.get("Hush", {})
    redis_cpu = results.cpu.get("Redis", {})
    lines = [
        "| -P | test | Hush req/s | Redis req/s | Hush/Redis "
        "| Hush CPU us/req | Redis CPU us/req | CPU Redis/Hush |",
        "|---:|:-----|-----------:|------------:|-----------:"
        "|----------------:|-----------------:|---------------:|",
    ]
    means: dict[int, float] = {}
    for pipeline in pipelines:
        ratios = []
        cpu_ratios = []
        names = [name for (p, name) in redis if p == pipeline]
        for name in names:
            key = (pipeline, name)
            theirs = redis[key]
            ours = hush.get(key)
            if ours is None:
                lines.append(f"| {pipeline} | {name} | n/a | {theirs:,.0f} | n/a | | | |")
                continue
            ratio = ours / theirs
            ratios.append(ratio)
            cpu_ratio = redis_cpu[key] / hush_cpu[key] if hush_cpu[key] else math.nan
            if not math.isnan(cpu_ratio) and cpu_ratio > 0:
                cpu_ratios.append(cpu_ratio)
            lines.append(
                f"| {pipeline} | {name} | {ours:,.0f} | {theirs:,.0f} | {ratio:.2f} "
                f"| {hush_cpu[key]:.2f} | {redis_cpu[key]:.2f} | {cpu_ratio:.2f} |"
            )
        means[pipeline] = geometric_mean(ratios)
        lines.append(
            f"| {pipeline} | **geometric mean** | | | **{means[pipeline]:.2f}** "
            f"| | | **{geometric_mean(cpu_ratios):.2f}** |"
        )
    return "\n".join(lines) + "\n", means


def baseline_table(results: Results, baseline: str, pipelines: list[int]) -> str:
    """Server CPU per request of this checkout against the baseline revision's Hush."""
    ours_cpu, theirs_cpu = results.cpu.get("Hush", {}), results.cpu.get(baseline, {})
    ours_rps, theirs_rps = results.rps.get("Hush", {}), results.rps.get(baseline, {})
    lines = [
        f"| -P | test | {baseline} CPU us/req | Hush CPU us/req | CPU change "
        f"| {baseline} req/s | Hush req/s |",
        "|---:|:-----|---:|---:|---:|---:|---:|",
    ]
    for pipeline in pipelines:
        for (p, name), before in theirs_cpu.items():
            if p != pipeline or (p, name) not in ours_cpu:
                continue
            after = ours_cpu[(p, name)]
            change = (after / before - 1) * 100 if before else math.nan
            lines.append(
                f"| {p} | {name} | {before:.2f} | {after:.2f} | {change:+.1f}% "
                f"| {theirs_rps[(p, name)]:,.0f} | {ours_rps[(p, name)]:,.0f} |"
            )
    return "\n".join(lines) + "\n"


def baseline_checkout(rev: str, tmp: Path) -> Path:
    """A detached worktree of ``rev`` under ``tmp`` (removed with it)."""
    path = tmp / "baseline"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(path), rev],
                   check=True)
    return path


def describe_machine() -> str:
    """One paragraph on where the numbers were taken."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    redis_version = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    import twisted

    try:
        import hiredis

        hiredis_version = hiredis.__version__
    except ImportError:
        hiredis_version = "absent"
    return (
        f"- CPU: {cpu} ({os.cpu_count()} CPUs)\n"
        f"- OS: {platform.platform()}\n"
        f"- Python {platform.python_version()} ({sys.executable}), "
        f"Twisted {twisted.__version__}, hiredis {hiredis_version}\n"
        f"- {redis_version}\n"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--requests", type=int, default=100_000, help="requests per test")
    parser.add_argument(
        "-t",
        "--tests",
        default=DEFAULT_TESTS,
        help=f"comma-separated redis-benchmark tests (default {DEFAULT_TESTS}; also {EXTRA_TESTS})",
    )
    parser.add_argument(
        "-P",
        "--pipeline",
        default="1,16",
        help="comma-separated pipeline depths (default 1,16)",
    )
    parser.add_argument("-c", "--clients", type=int, default=50, help="parallel connections")
    parser.add_argument("--server-cpu", type=int, default=0, help="CPU the servers run on")
    parser.add_argument("--client-cpu", type=int, default=1, help="CPU redis-benchmark runs on")
    parser.add_argument(
        "--only", choices=["hush", "redis"], help="benchmark one server (no ratios)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds over both servers; the best is kept"
    )
    parser.add_argument("--launcher", choices=("hush", "twistd"), default="hush",
                        help="start Hush with python -m hush (default; Hush's reactor) "
                             "or twistd -n hush (Twisted's default reactor)")
    parser.add_argument("--output", type=Path, help="also write the markdown table here")
    parser.add_argument(
        "--baseline", metavar="REV", help="also run Hush as of this git revision and compare CPU"
    )
    args = parser.parse_args(argv)
    global LAUNCHER
    LAUNCHER = args.launcher
    args.tests = [t.strip().lower() for t in args.tests.split(",") if t.strip()]
    args.pipeline = [int(p) for p in args.pipeline.split(",") if p.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for tool in ("redis-server", "redis-benchmark", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed")
    results = Results()
    baseline = f"Hush@{args.baseline}" if args.baseline else None
    with tempfile.TemporaryDirectory(prefix="hush-bench-") as tmp:
        workdir = Path(tmp)
        old = baseline_checkout(args.baseline, workdir) if args.baseline else None
        try:
            # Alternating the servers spreads any disturbance from other load
            # over all of them; the best of the repeats is kept.
            for round_ in range(args.repeat):
                print(f"round {round_ + 1} of {args.repeat}", file=sys.stderr, flush=True)
                if old is not None:
                    measure(baseline, lambda w, c: start_hush(w, c, old, baseline), args,
                            workdir, results)
                if args.only != "redis":
                    measure("Hush", start_hush, args, workdir, results)
                if args.only != "hush":
                    measure("Redis", start_redis, args, workdir, results)
        finally:
            if old is not None:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force",
                                str(old)], check=False)
    if args.only:
        label = "Hush" if args.only == "hush" else "Redis"
        for key, value in results.rps[label].items():
            pipeline, name = key
            cpu = results.cpu[label][key]
            print(f"-P {pipeline:<3} {name:<40} {value:>12,.0f} req/s {cpu:8.2f} CPU us/req")
        return 0
    text, means = table(results, args.pipeline)
    command = (
        f"redis-benchmark -p PORT -c {args.clients} -r 100000 -n {args.requests} "
        f"-t {','.join(args.tests)} -P {{{','.join(map(str, args.pipeline))}}} --csv"
    )
    report = (
        f"{describe_machine()}- `{command}`, one test per run, best of {args.repeat} "
        f"round(s)\n\n{text}"
    )
    for label, skipped in results.skipped.items():
        if skipped:
            report += f"\n{label} does not have: {', '.join(skipped)} (not measured)\n"
    if baseline:
        report += (f"\nThis checkout against {args.baseline}, server CPU per request "
                   f"(lowest of the rounds):\n\n{baseline_table(results, baseline, args.pipeline)}")
    print(report)
    if args.output:
        args.output.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
