#!/usr/bin/env python3
"""What a replica costs a master per command, in instructions counted by valgrind.

The harness of ``benchmarks/instructions.py`` (a FakeServer on a
StringTransport, pipelines of 16 copies of a command, the difference of a run
with ``-n`` pipelines and one with none), run three ways: without replicas
(no backlog: writes pay nothing for replication), with a replica streaming
(every write is encoded, kept in the backlog and sent to it once per
reactor turn), and with the AOF on for comparison (the same propagator).
Each pipeline is followed by one reactor turn (``clock.advance(0)``), when
the stream is sent.

    python benchmarks/replication_cost.py -t GET,SET,INCR,LPUSH

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from instructions import COMMANDS  # noqa: E402

HARNESS = r"""
import sys, tempfile
sys.path.insert(0, sys.argv[1])
from tests.support import FakeServer, encode_command
mode = sys.argv[5]
# Whatever a run writes (the AOF, a snapshot) goes to a directory of its own.
settings = {"maxkeys": 0, "dir": tempfile.mkdtemp()}
if mode == "aof":
    settings.update(appendonly=True)
server = FakeServer(**settings)
if mode == "aof":
    server.service.persistence.start()
client = server.client()
replica = None
if mode == "replica":
    # A replica waiting for its diskless snapshot (no fork: the delay has not
    # passed) starts the backlog; a second one continues and is fed.
    first = server.client(6380)
    first.send_raw(encode_command("REPLCONF", "capa", "eof"))
    first.send_raw(encode_command("PSYNC", "?", "-1"))
    replid = server.service.replication.history.replid
    replica = server.client(6381)
    replica.send_raw(encode_command("REPLCONF", "capa", "psync2"))
    replica.send_raw(encode_command("PSYNC", replid, "1"))
    replica.raw()
client.call("SET", "key:1", "xxx")
for start in range(0, int(sys.argv[4]), 1000):
    client.call("RPUSH", "list", *[b"x%d" % i for i in range(start, start + 1000)])
server.clock.advance(0)
pipeline = encode_command(*sys.argv[2].split()) * 16
for _ in range(int(sys.argv[3])):
    client.send_raw(pipeline)
    client.raw()
    server.clock.advance(0)
    if replica is not None:
        replica.raw()
"""


def collected(command: str, rounds: int, length: int, mode: str) -> int:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(HARNESS)
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, script.name, str(REPO), command, str(rounds), str(length), mode],
        capture_output=True, text=True, check=False, cwd=REPO, env=env)
    Path(script.name).unlink()
    match = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"the harness failed:\n{done.stderr[-3000:]}")
    return int(match.group(1))


def per_command(command: str, rounds: int, mode: str) -> float:
    length = rounds * 16 + 1000
    total = collected(command, rounds, length, mode) - collected(command, 0, length, mode)
    return total / (rounds * 16)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--rounds", type=int, default=600)
    parser.add_argument("-t", "--tests", default="GET,SET,INCR,LPUSH")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    print("| command | no replica | one replica | change | AOF on | change |")
    print("|:--|--:|--:|--:|--:|--:|")
    for name in (name.strip().upper() for name in args.tests.split(",")):
        alone, streamed, logged = (per_command(COMMANDS[name], args.rounds, mode)
                                   for mode in ("alone", "replica", "aof"))
        print(f"| {name} | {alone:,.0f} | {streamed:,.0f} | {(streamed / alone - 1) * 100:+.1f}% "
              f"| {logged:,.0f} | {(logged / alone - 1) * 100:+.1f}% |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
