"""Full-sync time of a 1M-key dataset: Hush -> redis-server, redis-server -> Hush, and
redis-server -> redis-server side by side.

    python benchmarks/replication_sync.py                 # 1,000,000 keys
    python benchmarks/replication_sync.py --keys 100000   # a smaller run

Steps:

1. A redis-server fills itself with ``DEBUG POPULATE <keys>`` (plain strings,
   ``key:N`` -> ``value:N``) and SAVEs; every master below starts on a copy of
   that dump.rdb.
2. For each pair (master -> replica) and each sync mode (diskless, the 7.0
   default with repl-diskless-sync-delay 0, and from disk): start the master
   on the file and wait until it serves; then make the replica follow it
   (``REPLICAOF``) and time from that command until the replica's INFO shows
   ``master_link_status:up`` and its DBSIZE is the dataset's: the fork, the
   snapshot written, sent, read and loaded.
3. Print a Markdown table (seconds, and each time against redis-server ->
   redis-server in the same run).

Hush runs as twistd from this checkout with ``--maxkeys 0``. Every process is
stopped by its PID. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REDIS = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(port: int, *args: str, timeout: float = 600) -> bytes:
    """One command through redis-cli; its raw output."""
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True,
                          timeout=timeout, check=True).stdout


def _wait_serving(port: int, proc: subprocess.Popen, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {proc.returncode}")
        try:
            if _call(port, "PING", timeout=5).strip() == b"PONG":
                return
        except (subprocess.SubprocessError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on {port} not serving after {timeout}s")


class Server:
    """A redis-server or a Hush in its own directory, stopped by PID."""

    def __init__(self, kind: str, directory: Path, dump: Path | None, diskless: bool) -> None:
        directory.mkdir()
        if dump is not None:
            shutil.copy(dump, directory / "dump.rdb")
        self.port = _free_port()
        self.kind = kind
        log = open(directory / "log", "wb")
        if kind == "redis":
            argv = [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                    "--dir", str(directory), "--repl-diskless-sync",
                    "yes" if diskless else "no", "--repl-diskless-sync-delay", "0",
                    "--enable-debug-command", "yes"]
            env = None
        else:
            argv = [str(Path(sys.executable).with_name("twistd")), "-n", "--pidfile=", "hush",
                    "--port", f"tcp:{self.port}:interface=127.0.0.1", "--maxkeys", "0",
                    "--dir", str(directory)]
            env = dict(os.environ, PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                     cwd=str(directory))
        _wait_serving(self.port, self.proc)
        if kind == "hush":
            _call(self.port, "CONFIG", "SET", "repl-diskless-sync", "yes" if diskless else "no")
            _call(self.port, "CONFIG", "SET", "repl-diskless-sync-delay", "0")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)


def _info(port: int) -> dict[str, str]:
    text = _call(port, "INFO", "replication", timeout=30).decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def sync_time(root: Path, master_kind: str, replica_kind: str, dump: Path, keys: int,
              diskless: bool) -> float:
    """Seconds from REPLICAOF to a replica with the whole dataset and its link up."""
    name = f"{master_kind}-{replica_kind}-{'diskless' if diskless else 'disk'}"
    master = Server(master_kind, root / f"{name}-master", dump, diskless)
    replica = None
    try:
        replica = Server(replica_kind, root / f"{name}-replica", None, diskless)
        started = time.monotonic()
        _call(replica.port, "REPLICAOF", "127.0.0.1", str(master.port))
        while True:
            time.sleep(0.1)
            try:
                if (_info(replica.port).get("master_link_status") == "up"
                        and int(_call(replica.port, "DBSIZE", timeout=30)) == keys):
                    return time.monotonic() - started
            except (subprocess.SubprocessError, ValueError):
                pass
            if time.monotonic() - started > 1800:
                raise RuntimeError(f"{name}: no sync after 1800 s")
    finally:
        if replica is not None:
            replica.stop()
        master.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hush-repl-bench-"))
    try:
        source = Server("redis", root / "source", None, True)
        try:
            _call(source.port, "DEBUG", "POPULATE", str(options.keys))
            _call(source.port, "SAVE")
        finally:
            source.stop()
        dump = root / "source" / "dump.rdb"
        rows = []
        for diskless in (True, False):
            base = sync_time(root, "redis", "redis", dump, options.keys, diskless)
            for master, replica in (("redis", "redis"), ("hush", "redis"), ("redis", "hush")):
                seconds = base if master == replica else sync_time(
                    root, master, replica, dump, options.keys, diskless)
                rows.append((master, replica, diskless, seconds, seconds / base))
        print(f"| master -> replica | sync | seconds ({options.keys:,} keys) | x redis -> redis |")
        print("|:--|:--|--:|--:|")
        for master, replica, diskless, seconds, ratio in rows:
            mode = "diskless" if diskless else "disk"
            print(f"| {master} -> {replica} | {mode} | {seconds:.2f} | {ratio:.1f} |")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
