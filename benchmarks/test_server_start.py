"""How fast a test gets a server: hush_server (subprocess, thread) against redis-server.

    python benchmarks/test_server_start.py [--runs 10]

Each run is a fresh interpreter (so the thread mode pays its imports, as the
first test of a session does) that measures from the fixture's request --
``hush.testing.start_server(mode)`` -- to the first PING answered; the
redis-server figure is from ``Popen`` of ``redis-server --port N --save ''
--appendonly no`` to its first PING, polled the same way. Prints the median,
the fastest and the slowest run of each, and the time of 2,000 SETs over one
connection (the thread mode shares the test process's interpreter). Not part
of the pytest suite: benchmarks/ is outside its testpaths.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_HUSH = """
import json, sys, time
t0 = time.perf_counter()
from hush.testing import start_server
server = start_server(sys.argv[1])
client = server.client()
client.ping()
started = time.perf_counter() - t0
t0 = time.perf_counter()
for _ in range(2000):
    client.set("k", "v")
sets = time.perf_counter() - t0
client.close()
server.stop()
print(json.dumps([started, sets]))
"""

_REDIS = """
import json, socket, subprocess, sys, time
import redis
port = int(sys.argv[2])
t0 = time.perf_counter()
proc = subprocess.Popen([sys.argv[1], "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                         "--appendonly", "no"], stdout=subprocess.DEVNULL)
while True:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        break
    except OSError:
        time.sleep(0.01)
client = redis.Redis(port=port)
client.ping()
started = time.perf_counter() - t0
t0 = time.perf_counter()
for _ in range(2000):
    client.set("k", "v")
sets = time.perf_counter() - t0
client.close()
proc.terminate()
proc.wait()
print(json.dumps([started, sets]))
"""


def run(code: str, *args: str) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, check=True,
                         capture_output=True, text=True, timeout=120).stdout
    started, sets = json.loads(out.strip().splitlines()[-1])
    return started, sets


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    sys.path.insert(0, str(REPO))
    from hush.testing import free_port

    cases = {"hush_server (subprocess)": lambda: run(_HUSH, "process"),
             "hush_server (thread)": lambda: run(_HUSH, "thread")}
    redis_server = shutil.which("redis-server")
    if redis_server:
        cases["redis-server"] = lambda: run(_REDIS, redis_server, str(free_port()))
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(runs):
        # Interleaved, so that the machine's load falls on each alike.
        for name, case in cases.items():
            results[name].append(case())
    print(f"{'server':28} {'start to first PING (ms)':>36} {'2,000 SETs (ms)':>18}")
    for name, figures in results.items():
        starts = sorted(1000 * s for s, _ in figures)
        sets = statistics.median(1000 * s for _, s in figures)
        print(f"{name:28} median {statistics.median(starts):6.0f}  "
              f"(min {starts[0]:5.0f}, max {starts[-1]:5.0f})  {sets:12.0f}")


if __name__ == "__main__":
    main()
