#!/usr/bin/env python3
"""What ACL checks cost per command: ``Session.execute`` of GET and SET, in process.

redis-benchmark on a shared 2-core machine moves by tens of percent between
runs; this measures the dispatcher alone (no sockets), the best of several
batches, for the default user and for users whose rules make the checks run::

    python benchmarks/acl_dispatch.py                  # this checkout
    python benchmarks/acl_dispatch.py --baseline main  # and Hush as of a git revision

Each checkout runs in a process of its own (its ``hush`` first on the path),
alternately, ``--rounds`` times; the lowest nanoseconds per command are kept.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: The rule sets measured (none: the default user, every permission).
RULES = {
    "default user": "",
    "+@all -debug ~* &*": "+@all -debug ~* &*",
    "+@all ~k* &*": "+@all ~k* &*",
    "-@all +get +set ~k*": "-@all +get +set ~k*",
}

_PROBE = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from twisted.internet.task import Clock
from hush.config.settings import Settings
from hush.server.service import StoreService
from hush.commands.dispatch import Session
clock = Clock()
clock.advance(1_700_000_000)
service = StoreService(Settings(maxkeys=0), clock)
session = Session(service)
rules = sys.argv[2].encode().split()
if rules:
    service.acl.set_user(b"u", [b"on", b"nopass", *rules])
    session.user = service.acl.get(b"u")
    session.update_gate()
execute = session.execute
for name, argv in (("GET", [b"GET", b"k"]), ("SET", [b"SET", b"k", b"v"])):
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(100_000):
            execute(argv)
        best = min(best, (time.perf_counter() - start) / 100_000 * 1e9)
    print(name, round(best))
"""


def measure(checkout: Path, rules: str) -> dict[str, int]:
    """Nanoseconds per GET and SET for ``rules`` in ``checkout``'s Hush."""
    out = subprocess.run([sys.executable, "-c", _PROBE, str(checkout), rules],
                         capture_output=True, text=True, check=True).stdout
    return {name: int(value) for name, value in (line.split() for line in out.splitlines())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", metavar="REV", help="also measure Hush as of REV")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hush-acl-") as tmp:
        checkouts = {"this checkout": REPO}
        if args.baseline:
            base = Path(tmp)
            archive = subprocess.run(["git", "-C", str(REPO), "archive", args.baseline, "hush"],
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
            checkouts[args.baseline] = base
        best: dict[tuple[str, str, str], int] = {}
        for _ in range(args.rounds):
            for label, checkout in checkouts.items():
                for title, rules in RULES.items():
                    if rules and label != "this checkout":
                        continue  # the baseline may have no ACL users
                    for name, nanoseconds in measure(checkout, rules).items():
                        key = (label, title, name)
                        best[key] = min(best.get(key, nanoseconds), nanoseconds)
    print("| checkout | user | GET ns | SET ns |")
    print("|:--|:--|--:|--:|")
    for label in checkouts:
        for title in RULES:
            if (label, title, "GET") in best:
                print(f"| {label} | {title} | {best[(label, title, 'GET')]} "
                      f"| {best[(label, title, 'SET')]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
