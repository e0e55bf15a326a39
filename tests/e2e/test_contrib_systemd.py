"""contrib/systemd: the units' command line run the way systemd runs it.

systemd opens hush.socket's socket and starts hush.service's ``ExecStart=``
with it as descriptor 3 (``LISTEN_FDS``, ``LISTEN_PID``, ``LISTEN_FDNAMES``),
as an unprivileged user that may write only its state directory. Here the
same command line runs (with ``/opt/hush/bin/hush`` and ``/var/lib/hush``
replaced by this environment's command and a temporary directory) as user
``nobody`` when the tests run as root, with a plugin directory it cannot
write, as ``ProtectSystem=strict`` makes the installation's.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support import REPO, twistd_path

pytestmark = pytest.mark.e2e

UNITS = REPO / "contrib" / "systemd"
NOBODY = 65534
PLUGIN_CACHE_WARNING = "Unable to write to plugin cache"


def unit_value(unit: str, key: str) -> str:
    """The value of the one ``key=`` line of ``unit``."""
    values = [line.split("=", 1)[1] for line in (UNITS / unit).read_text().splitlines()
              if line.startswith(key + "=")]
    assert len(values) == 1, f"{key}= in {unit}: {values}"
    return values[0]


def hush_command() -> list[str]:
    """This environment's ``hush`` command (``python -m hush`` if it is not installed)."""
    script = Path(sys.executable).with_name("hush")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hush"]


def test_the_units_keep_data_and_confine_hush():
    service_argv = shlex.split(unit_value("hush.service", "ExecStart"))
    assert service_argv[0] == "/opt/hush/bin/hush"
    name = unit_value("hush.socket", "FileDescriptorName")
    assert service_argv[service_argv.index("--port") + 1] == f"systemd:domain=INET:name={name}"
    assert unit_value("hush.socket", "ListenStream") == "127.0.0.1:6379"
    # Data across restarts: the AOF, in the state directory systemd keeps.
    assert "--appendonly" in service_argv
    state = "/var/lib/" + unit_value("hush.service", "StateDirectory")
    assert service_argv[service_argv.index("--dir") + 1] == state
    assert unit_value("hush.service", "WorkingDirectory") == state
    assert unit_value("hush.service", "ProtectSystem") == "strict"
    assert unit_value("hush.service", "DynamicUser") == "yes"


def _shared_dir() -> Path:
    # Not under pytest's tmp_path, which other users cannot enter.
    path = Path(tempfile.mkdtemp(prefix="hush-systemd-"))
    path.chmod(0o755)
    return path


@pytest.fixture
def confined() -> Iterator[dict]:
    """How to run a command as the unit would: its user prefix, environment and
    state directory, with a plugin directory on the path that it cannot write."""
    root = _shared_dir()
    plugins = root / "site" / "twisted" / "plugins"
    plugins.mkdir(parents=True)
    # Any plugin module will do: twistd caches what it finds in its directory.
    (plugins / "hush_readonly_probe.py").write_text('"""Found by the plugin scan."""\n')
    state = root / "state"
    state.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root / "site"), str(REPO)]))
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv to become an unprivileged user")
        prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        os.chown(state, NOBODY, NOBODY)
    else:
        prefix = []
    plugins.chmod(0o555)
    probe = subprocess.run([*prefix, sys.executable, "-c", "import hush.cli, twisted"],
                           env=env, cwd=state, capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"this Python cannot run as an unprivileged user: {probe.stderr[-300:]}")
    try:
        yield {"prefix": prefix, "env": env, "state": state}
    finally:
        plugins.chmod(0o755)
        shutil.rmtree(root)


def _run_activated(confined: dict, argv: list[str]) -> tuple[subprocess.Popen, Any, int]:
    """Start ``argv`` on a listening socket passed as systemd passes it.

    Returns the process, its log file and the socket's port.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    env = dict(confined["env"], LISTEN_FDS="1",
               LISTEN_FDNAMES=unit_value("hush.socket", "FileDescriptorName"))
    log = tempfile.TemporaryFile()
    # systemd sets LISTEN_PID to the service's pid: the shell learns its pid
    # and execs (setpriv, which execs) the command under it.
    proc = subprocess.Popen(
        ["sh", "-c", 'LISTEN_PID=$$ exec "$@"', "sh", *confined["prefix"], *argv],
        env=env, cwd=confined["state"], pass_fds=(3,),
        preexec_fn=lambda: os.dup2(listener.fileno(), 3),
        stdout=log, stderr=subprocess.STDOUT)
    listener.close()
    return proc, log, port


def _stop(proc: subprocess.Popen, log: Any) -> tuple[int, str]:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    try:
        status = proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        status = proc.wait(5)
    log.seek(0)
    return status, log.read().decode(errors="replace")


def _unit_argv(command: list[str], state: Path) -> list[str]:
    argv = shlex.split(unit_value("hush.service", "ExecStart"))
    argv[argv.index("--dir") + 1] = str(state)
    return [*command, *argv[1:]]


def test_the_unit_keeps_data_across_restarts_without_plugin_cache_warnings(confined):
    argv = _unit_argv(hush_command(), confined["state"])
    for round_ in ("write", "read after a restart"):
        proc, log, port = _run_activated(confined, argv)
        try:
            client = redis.Redis(port=port, socket_timeout=15)
            if round_ == "write":
                assert client.set("kept", "across restarts")
            else:
                assert client.get("kept") == b"across restarts"
            client.close()
        finally:
            status, output = _stop(proc, log)
        assert status == 0, output
        assert PLUGIN_CACHE_WARNING not in output, output
        assert "Traceback" not in output, output
    assert (confined["state"] / "appendonly.aof").exists()


def test_twistd_in_the_same_place_warns(confined):
    # What the unit avoids: twistd's plugin scan cannot write its cache there.
    argv = _unit_argv([twistd_path(), "--nodaemon", "--pidfile=", "hush"], confined["state"])
    proc, log, port = _run_activated(confined, argv)
    try:
        assert redis.Redis(port=port, socket_timeout=15).ping()
    finally:
        _status, output = _stop(proc, log)
    assert PLUGIN_CACHE_WARNING in output, output


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed")
def test_systemd_analyze_verify(tmp_path):
    # The units as installed: /opt/hush/bin/hush replaced by a command that
    # exists here, which verify checks.
    command = Path(hush_command()[0])
    for unit in ("hush.socket", "hush.service"):
        text = (UNITS / unit).read_text().replace("/opt/hush/bin/hush", str(command))
        (tmp_path / unit).write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", "hush.socket", "hush.service"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout == ""


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_the_cluster_template(tmp_path):
    # An instance of the template, as systemctl enable hush@7000 makes it;
    # tests/e2e/test_cluster.py runs its command line.
    command = Path(hush_command()[0])
    text = (UNITS / "hush@.service").read_text().replace("/opt/hush/bin/hush", str(command))
    (tmp_path / "hush@.service").write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", "./hush@7000.service"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout == ""
    argv = shlex.split(unit_value("hush@.service", "ExecStart"))
    assert argv[argv.index("--dir") + 1] == "/var/lib/" + unit_value("hush@.service",
                                                                      "StateDirectory")
    assert argv[argv.index("--port") + 1] == "tcp:%i:interface=127.0.0.1"
