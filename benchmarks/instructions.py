#!/usr/bin/env python3
"""Instructions per command, counted by valgrind, in process: a deterministic
before-and-after of a change to the per-command path.

Wall time and CPU time on a shared machine move by tens of percent between
runs; instruction counts do not. For each command this runs, under
``valgrind --tool=callgrind``, a FakeServer (tests/support.py: the real
protocol, session and store on a StringTransport, no sockets) that is sent
pipelines of 16 copies of the command, twice: once with no pipelines and once
with ``-n`` of them. The difference of the two totals divided by the commands
sent is the instructions one command costs, from the read to the reply bytes
(Twisted's reactor and the kernel are not in it: run_benchmarks.py measures
those, with the noise).

    python benchmarks/instructions.py --baseline f42b74c

``--baseline REV`` counts the same for git revision REV (checked out into a
temporary worktree) and prints the change. Not part of the test suite.
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

#: name -> the command sent (keys exist where the command reads them). ``{i}``
#: becomes each copy's place in its pipeline of 16, as redis-benchmark's ``-r``
#: gives each command of a pipeline a key of its own (one key ``{i}`` in eight
#: exists: GET finds some and misses the others).
COMMANDS = {
    "GET": "GET key:{i}",
    "SET": "SET key:{i} xxx",
    "INCR": "INCR counter:{i}",
    "LPUSH": "LPUSH list xxx",
    "RPUSH": "RPUSH list xxx",
    "LPOP": "LPOP list",
    "RPOP": "RPOP list",
    "MSET": " ".join(["MSET"] + [f"key:{{i}}:{k} xxx" for k in range(10)]),
    "LRANGE_100": "LRANGE list 0 99",
    "HSET": "HSET hash field xxx",
    "SADD": "SADD set member",
    "ZADD": "ZADD zset 1 member",
    # A TTL on every write: the expires map and the expiry heap's work.
    "SET_EX": "SET key:{i} xxx EX 100",
}

#: What the harness runs in the tree given as argv[1]: argv[2] is the command,
#: argv[3] the pipelines to send, argv[4] the list's length before them (the
#: same for the run with no pipelines, so that setting up costs the same).
HARNESS = r"""
import sys
sys.path.insert(0, sys.argv[1])
from tests.support import FakeServer, encode_command
server = FakeServer(maxkeys=0)
client = server.client()
for i in range(0, 16, 2):
    client.call("SET", f"key:{i}", "xxx")
for start in range(0, int(sys.argv[4]), 1000):
    client.call("RPUSH", "list", *[b"x%d" % i for i in range(start, start + 1000)])
pipeline = b"".join(
    encode_command(*[arg.replace("{i}", str(i)) for arg in sys.argv[2].split()])
    for i in range(16))
for _ in range(int(sys.argv[3])):
    client.send_raw(pipeline)
    client.raw()
"""


def collected(tree: Path, command: str, rounds: int, length: int) -> int:
    """Total instructions callgrind counts for one harness run."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(HARNESS)
    # A fixed hash seed: str and bytes hashes, and so dict probing, are the
    # same in every run (with random seeds the totals moved by 10%).
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, script.name, str(tree), command, str(rounds), str(length)],
        capture_output=True, text=True, check=False, cwd=tree, env=env)
    Path(script.name).unlink()
    match = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"the harness failed in {tree}:\n{done.stderr[-3000:]}")
    return int(match.group(1))


def per_command(tree: Path, command: str, rounds: int) -> float:
    """Instructions per command: ``rounds`` pipelines of 16 less none, per command."""
    # Long enough that LPOP and RPOP never empty it.
    length = rounds * 16 + 1000
    total = collected(tree, command, rounds, length) - collected(tree, command, 0, length)
    return total / (rounds * 16)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--rounds", type=int, default=600,
                        help="pipelines of 16 per command (default 600)")
    parser.add_argument("-t", "--tests", default=",".join(COMMANDS),
                        help="comma-separated names of COMMANDS")
    parser.add_argument("--baseline", metavar="REV", help="also count git revision REV")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    names = [name.strip().upper() for name in args.tests.split(",") if name.strip()]
    with tempfile.TemporaryDirectory(prefix="hush-instructions-") as tmp:
        old = None
        if args.baseline:
            old = Path(tmp) / "baseline"
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q",
                            str(old), args.baseline], check=True)
        try:
            if old is None:
                print("| command | instructions |\n|:--|--:|")
            else:
                print(f"| command | {args.baseline} | this checkout | change |\n|:--|--:|--:|--:|")
            for name in names:
                now = per_command(REPO, COMMANDS[name], args.rounds)
                if old is None:
                    print(f"| {name} | {now:,.0f} |", flush=True)
                    continue
                before = per_command(old, COMMANDS[name], args.rounds)
                print(f"| {name} | {before:,.0f} | {now:,.0f} | "
                      f"{(now / before - 1) * 100:+.1f}% |", flush=True)
        finally:
            if old is not None:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force",
                                str(old)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
