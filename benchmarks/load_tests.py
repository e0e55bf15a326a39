#!/usr/bin/env python3
"""Load and limits, live: many idle, blocked and slow clients, and a soak.

Not part of the test suite (each scenario takes from seconds to minutes).
Starts Hush (this checkout, ``twistd -n hush``) and, for comparison,
Debian's ``redis-server`` on free ports, drives them with asyncio and raw
sockets, prints the figures, and stops every process it started by PID::

    /tmp/venv/bin/python benchmarks/load_tests.py all            # every scenario
    /tmp/venv/bin/python benchmarks/load_tests.py idle --clients 10000
    /tmp/venv/bin/python benchmarks/load_tests.py blocked --clients 10000
    /tmp/venv/bin/python benchmarks/load_tests.py slow --clients 1000 --seconds 20
    /tmp/venv/bin/python benchmarks/load_tests.py soak --duration 180
    ... --server hush|redis|both (default both; the soak runs Hush only)

Scenarios:

idle
    N connections held open (each has answered one PING) while another
    client keeps working; RSS per idle connection and that client's latency.
blocked
    N clients block in ``BLPOP q 0`` one after the other (each confirmed
    blocked through INFO before the next), then elements are pushed one at a
    time: client i must receive element i (arrival order).
slow
    N clients each send a ``SET`` one byte a second; a normal client's GET
    latency (p50/p99) with and without them.
soak
    Mixed traffic (strings, lists, hashes, pub/sub, transactions, blocking
    pops with timeouts) on a bounded keyspace plus a churn of connections
    that disconnect at awkward moments (mid-frame, mid-MULTI, blocked,
    subscribed, during a large reply); RSS sampled, growth after warm-up.

The open-files soft limit is raised to the hard limit first (the servers
inherit it), so 10,000 connections fit on both ends.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


# -- processes ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Server:
    """A server process on a free port; stopped by PID."""

    def __init__(self, kind: str, maxclients: int) -> None:
        self.kind = kind
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix=f"load-{kind}-", suffix=".log",
                                               delete=False)
        if kind == "hush":
            twistd = Path(sys.executable).with_name("twistd")
            argv = [str(twistd) if twistd.exists() else "twistd", "-n", "--pidfile=", "hush",
                    "--port", f"tcp:{self.port}:interface={HOST}:backlog=511", "--maxkeys", "0"]
            if "--maxclients" in subprocess.run(argv[:4] + ["--help"], capture_output=True,
                                                text=True, env=_env()).stdout:
                argv += ["--maxclients", str(maxclients)]
        else:
            argv = [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
                    "--bind", HOST, "--save", "", "--appendonly", "no",
                    "--maxclients", str(maxclients)]
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=_env(), cwd=str(REPO))
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection((HOST, self.port), timeout=0.2).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{kind} did not start; log in {self.log.name}") from None
                time.sleep(0.05)

    def rss(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def servers(choice: str) -> list[str]:
    kinds = ["hush", "redis"] if choice == "both" else [choice]
    if "redis" in kinds and not shutil.which("redis-server"):
        print("redis-server not installed: Hush only")
        kinds.remove("redis")
    return kinds


# -- a tiny blocking client for the measuring side ----------------------------------


def command(*args: bytes | str | int) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(out)


class Probe:
    """A blocking socket with a hiredis reader: one request, one reply."""

    def __init__(self, port: int) -> None:
        import hiredis

        self.sock = socket.create_connection((HOST, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = hiredis.Reader()

    def call(self, *args):
        self.sock.sendall(command(*args))
        while True:
            reply = self.reader.gets()
            if reply is not False:
                return reply
            data = self.sock.recv(1 << 16)
            if not data:
                raise ConnectionError("closed")
            self.reader.feed(data)

    def info(self, section: str) -> dict[str, str]:
        text = self.call("INFO", section).decode()
        return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)

    def close(self) -> None:
        self.sock.close()


def latencies(port: int, seconds: float, stop: threading.Event | None = None) -> list[float]:
    """GET round trips (ms) for ``seconds`` from one blocking client."""
    probe = Probe(port)
    probe.call("SET", "probe", "x" * 64)
    times = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (stop and stop.is_set()):
        start = time.perf_counter()
        probe.call("GET", "probe")
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(0.002)
    probe.close()
    return times


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fmt_lat(values: list[float]) -> str:
    return f"p50 {pct(values, 0.5):.2f} ms, p99 {pct(values, 0.99):.2f} ms, n={len(values)}"


# -- scenarios -----------------------------------------------------------------------


async def _open_many(port: int, count: int, batch: int = 200):
    conns = []
    for start in range(0, count, batch):
        opened = await asyncio.gather(*(asyncio.open_connection(HOST, port)
                                        for _ in range(min(batch, count - start))))
        for _, writer in opened:
            writer.write(b"PING\r\n")
        for reader, _ in opened:
            assert await reader.readexactly(7) == b"+PONG\r\n"
        conns.extend(opened)
    return conns


def scenario_idle(kind: str, clients: int) -> dict:
    server = Server(kind, clients + 100)
    try:
        probe = Probe(server.port)
        probe.call("PING")
        time.sleep(0.5)
        base_lat = latencies(server.port, 3)
        before = server.rss()

        async def run():
            start = time.monotonic()
            conns = await _open_many(server.port, clients)
            opened = time.monotonic() - start
            await asyncio.sleep(1)
            after = server.rss()
            info = await asyncio.to_thread(probe.info, "clients")
            lat = await asyncio.to_thread(latencies, server.port, 5)
            for _, writer in conns:
                writer.close()
            return opened, after, int(info["connected_clients"]), lat

        opened, after, connected, lat = asyncio.run(run())
        deadline = time.monotonic() + 30
        while int(probe.info("clients")["connected_clients"]) > 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        left = int(probe.info("clients")["connected_clients"])
        result = {
            "server": kind, "clients": clients, "connected": connected,
            "open_s": round(opened, 2), "rss_before_mb": round(before / 2**20, 1),
            "rss_after_mb": round(after / 2**20, 1),
            "bytes_per_conn": round((after - before) / clients),
            "latency_alone": fmt_lat(base_lat), "latency_loaded": fmt_lat(lat),
            "connected_after_close": left,
        }
        probe.close()
        return result
    finally:
        server.stop()


def scenario_blocked(kind: str, clients: int) -> dict:
    server = Server(kind, clients + 100)
    try:
        control = Probe(server.port)

        async def run():
            conns = await _open_many(server.port, clients)
            start = time.monotonic()
            for index, (_, writer) in enumerate(conns):
                writer.write(b"BLPOP q 0\r\n")
                await writer.drain()
                # Confirm it is queued before the next one blocks: the
                # server's arrival order is then the order of ``conns``.
                while True:
                    info = await asyncio.to_thread(control.info, "clients")
                    if int(info["blocked_clients"]) == index + 1:
                        break
            blocked_s = time.monotonic() - start
            start = time.monotonic()
            pusher = Probe(server.port)

            def push_all():
                for value in range(clients):
                    pusher.call("RPUSH", "q", value)

            push_task = asyncio.create_task(asyncio.to_thread(push_all))
            wrong = 0
            for expected, (reader, _) in enumerate(conns):
                # *2\r\n$1\r\nq\r\n$<n>\r\n<value>\r\n
                header = await reader.readuntil(b"q\r\n")
                assert header.startswith(b"*2\r\n")
                await reader.readline()
                value = int((await reader.readline()).strip())
                wrong += value != expected
            await push_task
            served_s = time.monotonic() - start
            for _, writer in conns:
                writer.close()
            return blocked_s, served_s, wrong

        blocked_s, served_s, wrong = asyncio.run(run())
        return {"server": kind, "clients": clients, "block_all_s": round(blocked_s, 1),
                "serve_all_s": round(served_s, 2), "out_of_order": wrong,
                "rss_mb": round(server.rss() / 2**20, 1)}
    finally:
        server.stop()


def scenario_slow(kind: str, clients: int, seconds: float) -> dict:
    server = Server(kind, clients + 100)
    try:
        alone = latencies(server.port, min(seconds, 5))

        async def run():
            conns = await _open_many(server.port, clients)
            stop = asyncio.Event()

            async def trickle(index: int, writer):
                request = command("SET", f"slow:{index}", "v")
                await asyncio.sleep(random.random())
                position = 0
                while not stop.is_set():
                    writer.write(request[position : position + 1])
                    position = (position + 1) % len(request)
                    await asyncio.sleep(1)

            tasks = [asyncio.create_task(trickle(i, w)) for i, (_, w) in enumerate(conns)]
            await asyncio.sleep(1.5)
            lat = await asyncio.to_thread(latencies, server.port, seconds)
            stop.set()
            await asyncio.gather(*tasks)
            for _, writer in conns:
                writer.close()
            return lat

        loaded = asyncio.run(run())
        return {"server": kind, "slow_clients": clients, "seconds": seconds,
                "latency_alone": fmt_lat(alone), "latency_with_slow": fmt_lat(loaded)}
    finally:
        server.stop()


async def _soak_worker(port: int, stop: asyncio.Event, rnd: random.Random, counts: dict):
    reader, writer = await asyncio.open_connection(HOST, port)
    import hiredis

    parser = hiredis.Reader()

    async def call(*args):
        writer.write(command(*args))
        return await call_reply(parser, reader)

    while not stop.is_set():
        key = f"k{rnd.randrange(2000)}"
        op = rnd.randrange(10)
        if op < 3:
            await call("SET", key, "v" * rnd.randrange(1, 200), "EX", rnd.randrange(1, 30))
        elif op < 5:
            await call("GET", key)
        elif op == 5:
            await call("LPUSH", f"l{rnd.randrange(100)}", "x" * 20)
            await call("LTRIM", f"l{rnd.randrange(100)}", 0, 50)
        elif op == 6:
            await call("HSET", f"h{rnd.randrange(100)}", f"f{rnd.randrange(50)}", "v")
        elif op == 7:
            await call("PUBLISH", f"ch{rnd.randrange(5)}", "m" * 50)
        elif op == 8:
            writer.write(command("MULTI") + command("INCR", "counter")
                         + command("EXPIRE", "counter", 100) + command("EXEC"))
            for _ in range(4):
                await call_reply(parser, reader)
        else:
            await call("ZADD", f"z{rnd.randrange(50)}", rnd.random(), f"m{rnd.randrange(100)}")
            await call("ZREMRANGEBYRANK", f"z{rnd.randrange(50)}", 0, -60)
        counts["ops"] += 1
    writer.close()


async def call_reply(parser, reader):
    while True:
        reply = parser.gets()
        if reply is not False:
            return reply
        data = await reader.read(1 << 16)
        if not data:
            raise ConnectionError
        parser.feed(data)


_CHURN = [
    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc",                  # mid-frame
    b"MULTI\r\nSET churn v\r\n",                                   # mid-MULTI
    b"WATCH k1 k2\r\n",                                            # watching
    b"BLPOP churnq 0\r\n",                                         # blocked
    b"BLMOVE churnq d LEFT RIGHT 0\r\n",
    b"SUBSCRIBE ch1 ch2\r\n",                                      # subscribed
    b"PSUBSCRIBE ch*\r\n",
    b"GET big\r\nGET big\r\nGET big\r\n",                          # large reply
    b"PING\r\n",
]


async def _soak_churn(port: int, stop: asyncio.Event, rnd: random.Random, counts: dict):
    while not stop.is_set():
        try:
            _, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.write(rnd.choice(_CHURN))
        await asyncio.sleep(rnd.random() * 0.05)
        writer.transport.abort()
        counts["churned"] += 1


def scenario_soak(duration: float, warmup: float) -> dict:
    server = Server("hush", 1000)
    try:
        probe = Probe(server.port)
        probe.call("SET", "big", "b" * (2 * 1024 * 1024))
        samples: list[tuple[float, int]] = []
        counts = {"ops": 0, "churned": 0}

        async def run():
            stop = asyncio.Event()
            tasks = [asyncio.create_task(_soak_worker(server.port, stop, random.Random(i), counts))
                     for i in range(20)]
            tasks += [asyncio.create_task(_soak_churn(server.port, stop, random.Random(100 + i),
                                                      counts)) for i in range(5)]
            start = time.monotonic()
            while time.monotonic() - start < duration:
                await asyncio.sleep(5)
                samples.append((time.monotonic() - start, server.rss()))
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run(run())
        time.sleep(2)
        info = {**probe.info("clients"), **probe.info("stats")}
        after_warmup = [rss for t, rss in samples if t >= warmup]
        first = after_warmup[0] if after_warmup else samples[0][1]
        peak = max(after_warmup or [first])
        last = samples[-1][1]
        return {
            "duration_s": duration, "ops": counts["ops"], "churned_connections": counts["churned"],
            "rss_at_warmup_mb": round(first / 2**20, 1), "rss_peak_after_warmup_mb":
            round(peak / 2**20, 1), "rss_end_mb": round(last / 2**20, 1),
            "growth_after_warmup_mb": round((last - first) / 2**20, 1),
            # Large replies in flight make RSS swing; its floor per minute
            # shows whether anything is left behind.
            "rss_floor_per_minute_mb": [
                round(min(rss for t, rss in samples if m * 60 <= t < (m + 1) * 60) / 2**20, 1)
                for m in range(int(duration // 60)) if any(m * 60 <= t < (m + 1) * 60
                                                           for t, _ in samples)],
            "samples_mb": [round(rss / 2**20, 1) for _, rss in samples],
            "connected_clients_after": int(info["connected_clients"]),
            "blocked_clients_after": int(info["blocked_clients"]),
            "pubsub_channels_after": int(info.get("pubsub_channels", -1)),
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario", choices=["idle", "blocked", "slow", "soak", "all"])
    parser.add_argument("--server", choices=["hush", "redis", "both"], default="both")
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=20.0, help="slow: measuring time")
    parser.add_argument("--duration", type=float, default=180.0, help="soak: seconds")
    parser.add_argument("--warmup", type=float, default=30.0, help="soak: warm-up seconds")
    args = parser.parse_args()
    limit = raise_nofile()
    print(f"open files soft limit: {limit}", flush=True)
    chosen = ["idle", "blocked", "slow", "soak"] if args.scenario == "all" else [args.scenario]
    for scenario in chosen:
        if scenario == "soak":
            print("soak", scenario_soak(args.duration, args.warmup), flush=True)
            continue
        for kind in servers(args.server):
            if scenario == "idle":
                result = scenario_idle(kind, args.clients or 10_000)
            elif scenario == "blocked":
                result = scenario_blocked(kind, args.clients or 10_000)
            else:
                result = scenario_slow(kind, args.clients or 1000, args.seconds)
            print(scenario, result, flush=True)


if __name__ == "__main__":
    main()
