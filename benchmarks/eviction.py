#!/usr/bin/env python3
"""Instructions per write at maxkeys: a full database evicting, counted by valgrind.

A store (tests/support.py's make_store, no protocol) holds ``--maxkeys`` keys
under allkeys-lru; each operation SETs a new key, which evicts the least
recently used one, and every third one also GETs a key from the middle of
the LRU order (a use that moves it). Run under ``valgrind --tool=callgrind``
twice, with no operations and with ``-n`` of them; the difference per
operation is what a write at the limit costs in the store (the protocol and
the dispatcher are not in it: benchmarks/instructions.py counts those).

    python benchmarks/eviction.py --maxkeys 1000 --baseline main

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

HARNESS = r"""
import sys
sys.path.insert(0, sys.argv[1])
from tests.support import make_store
maxkeys, operations = int(sys.argv[2]), int(sys.argv[3])
store = make_store(maxkeys=maxkeys)
store.evictions.evicted = lambda *args: None   # no log lines
db = store.dbs[0]
for i in range(maxkeys):
    db.set(b"key:%012d" % i, b"v")
for i in range(maxkeys, maxkeys + operations):
    db.set(b"key:%012d" % i, b"v")
    if i % 3 == 0:
        db.get(b"key:%012d" % (i - maxkeys // 2))
"""


def collected(tree: Path, maxkeys: int, operations: int) -> int:
    """Total instructions callgrind counts for one harness run."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(HARNESS)
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         script.name, str(tree), str(maxkeys), str(operations)],
        capture_output=True, text=True, check=False, cwd=tree, env=env)
    Path(script.name).unlink()
    match = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"the harness failed in {tree}:\n{done.stderr[-3000:]}")
    return int(match.group(1))


def per_operation(tree: Path, maxkeys: int, operations: int) -> float:
    """Instructions per operation at the limit."""
    return (collected(tree, maxkeys, operations) - collected(tree, maxkeys, 0)) / operations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--maxkeys", default="1000,200000",
                        help="comma-separated capacities (default 1000,200000)")
    parser.add_argument("-n", "--operations", type=int, default=30_000)
    parser.add_argument("--baseline", metavar="REV", help="also count git revision REV")
    args = parser.parse_args(argv)
    capacities = [int(value) for value in args.maxkeys.split(",") if value.strip()]
    with tempfile.TemporaryDirectory(prefix="hush-eviction-") as tmp:
        old = None
        if args.baseline:
            old = Path(tmp) / "baseline"
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q",
                            str(old), args.baseline], check=True)
        try:
            if old is None:
                print("| maxkeys | instructions per write |\n|--:|--:|")
            else:
                print(f"| maxkeys | {args.baseline} | this checkout | change |\n|--:|--:|--:|--:|")
            for maxkeys in capacities:
                now = per_operation(REPO, maxkeys, args.operations)
                if old is None:
                    print(f"| {maxkeys:,} | {now:,.0f} |", flush=True)
                    continue
                before = per_operation(old, maxkeys, args.operations)
                print(f"| {maxkeys:,} | {before:,.0f} | {now:,.0f} | "
                      f"{(now / before - 1) * 100:+.1f}% |", flush=True)
        finally:
            if old is not None:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force",
                                str(old)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
