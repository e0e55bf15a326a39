"""The ``hush`` command and ``python -m hush`` (hush.cli), as real processes.

``hush ARGS`` must run what ``twistd -n --pidfile= hush ARGS`` runs: the
same options, the log on standard output, no pid file; and it stops with
exit status 0 on SIGTERM. The installed console script is checked in
tests/e2e/test_packaging.py; here both entry points run this checkout's code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import redis

from tests.support import checkout_env, free_port, wait_for_port

pytestmark = pytest.mark.e2e

SCRIPT = Path(sys.executable).with_name("hush")


def _command(kind: str) -> list[str]:
    if kind == "module":
        return [sys.executable, "-m", "hush"]
    if not SCRIPT.exists():
        pytest.skip("the hush console script is not installed (pip install .)")
    return [str(SCRIPT)]


@pytest.mark.parametrize("kind", ["script", "module"])
def test_hush_serves_in_the_foreground_and_stops_cleanly(kind, tmp_path):
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [*_command(kind), "--port", f"tcp:{port}:interface=127.0.0.1", "--maxkeys", "7"],
        env=checkout_env(), cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc)
        client = redis.Redis(port=port, socket_timeout=10)
        assert client.ping() is True
        assert client.config_get("maxkeys") == {"maxkeys": "7"}
        client.close()
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        returncode = proc.wait(15)
        log.seek(0)
        output = log.read().decode(errors="replace")
    assert returncode == 0, output
    # twistd -n's log on standard output, Hush's lines in it.
    assert f"Running mode=standalone, port={port}." in output
    assert "Ready to accept connections" in output
    assert "Hush is now ready to exit, bye bye..." in output
    assert list(tmp_path.iterdir()) == []  # no twistd.pid (nor anything else)
    # Its own reactor: Twisted's epoll one without the log context per read.
    assert "reactor class: hush.server.reactor.HushReactor." in output


@pytest.mark.parametrize("kind", ["script", "module"])
def test_hush_version_help_and_usage_errors(kind):
    run = lambda *args: subprocess.run(  # noqa: E731
        [*_command(kind), *args], env=checkout_env(), capture_output=True, text=True, timeout=60)
    from hush import __version__

    version = run("--version")
    assert (version.returncode, version.stdout) == (0, f"hush {__version__}\n")
    usage = run("--help")
    assert usage.returncode == 0
    assert usage.stdout.startswith("Usage: hush [--config FILE] [--port ENDPOINT ...]")
    assert "--requirepass=" in usage.stdout
    wrong = run("--no-such-option")
    assert wrong.returncode == 1
    assert wrong.stdout.startswith("Usage: hush ")
    assert wrong.stdout.endswith("hush: option --no-such-option not recognized\n")


def test_a_failed_start_exits_nonzero(tmp_path):
    (tmp_path / "appendonly.aof").write_bytes(b"not a command\r\n")
    proc = subprocess.run(
        [sys.executable, "-m", "hush", "--port", f"tcp:{free_port()}:interface=127.0.0.1",
         "--appendonly", "--dir", str(tmp_path)],
        env=checkout_env(), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Bad file format reading the append only file at offset 0" in proc.stdout + proc.stderr
