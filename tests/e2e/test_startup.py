"""twistd -n hush as an operator runs it: a stock redis.conf, the log, the pid file, failures.

Each test runs a real ``twistd -n hush`` process (this checkout's code) and
looks at what it serves, prints, writes and leaves behind.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

from tests.support import REPO, ServerProcess, checkout_env, free_port, hush_argv, twistd_path

DEBIAN_CONF = Path("/etc/redis/redis.conf")


def _run(*extra: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(hush_argv(*extra), env=checkout_env(), cwd=str(cwd), capture_output=True,
                          text=True, timeout=60)


def _wait_for(predicate, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} after {timeout}s")


# -- a stock redis.conf ---------------------------------------------------------------------


def _readable_debian_conf() -> Path:
    if not DEBIAN_CONF.exists():
        pytest.skip(f"{DEBIAN_CONF} is absent (Debian's redis-server package installs it)")
    if not os.access(DEBIAN_CONF, os.R_OK):
        pytest.skip(f"{DEBIAN_CONF} is not readable by this user (it is redis:redis 640)")
    return DEBIAN_CONF


def test_debians_redis_conf_starts_serves_and_notes_what_hush_does_instead(tmp_path):
    conf = _readable_debian_conf()
    port = free_port()
    # The real file, then what must not touch the system's own Redis: its pid
    # file and log file. --port and --dir replace the file's port, bind and dir.
    wrapper = tmp_path / "test.conf"
    wrapper.write_text(f"include {conf}\npidfile {tmp_path}/hush.pid\n"
                       f"logfile {tmp_path}/hush.log\n")
    proc = ServerProcess(hush_argv("--config", str(wrapper), "--port",
                               f"tcp:{port}:interface=127.0.0.1", "--dir", str(tmp_path)),
                         port, env=checkout_env(), cwd=str(tmp_path))
    try:
        conn = redis.Redis(port=port, decode_responses=True)
        assert conn.set("k", "v") and conn.get("k") == "v"
        shown = conn.config_get("*")
        assert shown["daemonize"] == "yes" and shown["tcp-keepalive"] == "300"
        assert shown["appenddirname"] == "appendonlydir"
        assert shown["oom-score-adj-values"] == "0 200 800"
        assert shown["client-output-buffer-limit"] == (
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60")
        assert shown["dir"] == str(tmp_path)
        if shutil.which("ss"):
            # tcp-keepalive 300 from the file: the server's end of our connection
            # runs a keepalive timer (once the last reply is acknowledged).
            def keepalive_timer() -> bool:
                server_ends = subprocess.run(
                    ["ss", "-Htno", "state", "established", f"( sport = :{port} )"],
                    capture_output=True, text=True, check=True).stdout
                return "timer:(keepalive," in server_ends

            _wait_for(keepalive_timer, "no keepalive timer on the server's sockets")
        assert (tmp_path / "hush.pid").read_text() == f"{proc.pid}\n"
        _wait_for(lambda: "Ready to accept connections" in (tmp_path / "hush.log").read_text(),
                  "no 'Ready to accept connections' in the logfile")
        log = (tmp_path / "hush.log").read_text()
        assert re.search(r"\] daemonize: Hush does not fork itself", log)
        assert re.search(r"\] stop-writes-on-bgsave-error, rdbcompression, rdbchecksum, "
                         r"dbfilename, .*: Hush acts on these as Redis does", log)
        assert re.search(r"\] rdb-del-sync-files, rdb-save-incremental-fsync: Hush does not "
                         r"act on these", log)
        assert "Hush does not act on these: its replication links keep" in log
        # The logfile is the log: nothing goes to standard output.
        assert proc.output() == ""
        conn.close()
    finally:
        proc.stop()
    assert not (tmp_path / "hush.pid").exists()
    assert "bye bye" in (tmp_path / "hush.log").read_text()


# -- logfile and loglevel ---------------------------------------------------------------------


def test_logfile_and_loglevel_filter_hush_s_log(tmp_path):
    port = free_port()
    log = tmp_path / "hush.log"
    (tmp_path / "hush.conf").write_text(f"logfile {log}\nloglevel warning\nport {port}\n")
    proc = ServerProcess(hush_argv("--config", str(tmp_path / "hush.conf")), port, env=checkout_env(),
                         cwd=str(tmp_path))
    try:
        conn = redis.Redis(port=port, decode_responses=True)
        assert conn.ping()
        # Notice lines (twistd's and Hush's banner) are below warning.
        assert "Ready to accept connections" not in log.read_text()
        assert "starting up" not in log.read_text()
        conn.config_set("loglevel", "verbose")
        script = "redis.log(redis.LOG_VERBOSE, 'a-verbose-line') " \
                 "redis.log(redis.LOG_DEBUG, 'a-debug-line')"
        conn.eval(script, 0)
        conn.config_set("loglevel", "debug")
        conn.eval(script.replace("a-", "then-"), 0)
        conn.config_set("loglevel", "notice")
        conn.close()
    finally:
        proc.stop()
    text = log.read_text()
    assert "a-verbose-line" in text and "a-debug-line" not in text
    assert "then-verbose-line" in text and "then-debug-line" in text
    assert "Hush is now ready to exit, bye bye..." in text
    assert "Ready to accept connections" not in text
    assert proc.output() == ""


# -- one-line failures ---------------------------------------------------------------------


@pytest.fixture
def taken_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def test_a_port_in_use_fails_with_redis_s_line(tmp_path, taken_port):
    done = _run("--port", f"tcp:{taken_port}:interface=127.0.0.1", cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"Failed listening on port {taken_port} (TCP), aborting." in output
    assert "Address already in use" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(("args", "line"), [
    (["--port", "tcp:abc"], "Invalid --port 'tcp:abc': 'abc' is not a number"),
    (["--port", "foo:bar"], "Invalid --port 'foo:bar': Unknown endpoint type: 'foo'"),
    (["--port", "ssl:7000:privateKey={tmp}/key.pem:certKey={tmp}/cert.pem"],
     "Invalid --port 'ssl:7000:privateKey={tmp}/key.pem:certKey={tmp}/cert.pem': "
     "No such file or directory: '{tmp}/cert.pem'"),
    (["--maxkeys", "abc"], "Invalid --maxkeys 'abc': argument couldn't be parsed into an integer"),
    (["--dir", "{tmp}/missing", "--appendonly"],
     "Invalid --dir '{tmp}/missing': No such file or directory"),
    (["--dir", "{tmp}/afile/sub"], "Invalid --dir '{tmp}/afile/sub': Not a directory"),
])
def test_bad_starts_say_one_line_and_exit_non_zero(tmp_path, args, line):
    (tmp_path / "afile").write_text("")
    args = [arg.format(tmp=tmp_path) for arg in args]
    done = _run(*args, "--port", f"tcp:{free_port()}:interface=127.0.0.1"
                if args[0] != "--port" else "unix:" + str(tmp_path / "unused.sock"),
                cwd=tmp_path)
    assert done.returncode != 0
    assert done.stderr == line.format(tmp=tmp_path) + "\n"
    assert done.stdout == ""
    assert not (tmp_path / "missing").exists()


# -- the README's set-up command ------------------------------------------------------------


def _readme_run_command() -> list[str]:
    text = (REPO / "README.rst").read_text()
    line = next(line for line in text.splitlines() if ".venv/bin/twistd" in line)
    return line.split("&& ")[-1].split()


def test_readme_command_listens_with_backlog_511_and_leaves_no_twistd_pid(tmp_path):
    argv = _readme_run_command()
    assert argv[0] == ".venv/bin/twistd" and "tcp:6379:interface=127.0.0.1" in argv
    port = free_port()
    argv = [twistd_path()] + [arg.replace("6379", str(port)) for arg in argv[1:]]
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    proc = ServerProcess(argv, port, env=checkout_env(), cwd=str(checkout))
    try:
        assert redis.Redis(port=port).ping()
        assert list(checkout.iterdir()) == []
        if shutil.which("ss"):
            listening = subprocess.run(["ss", "-Hltn", f"sport = :{port}"],
                                       capture_output=True, text=True, check=True).stdout
            # ss shows a listening socket's backlog as its Send-Q (capped by somaxconn).
            somaxconn = int(Path("/proc/sys/net/core/somaxconn").read_text())
            assert listening.split()[2] == str(min(511, somaxconn)), listening
    finally:
        proc.stop()
    assert proc.proc.returncode == 0 or proc.proc.returncode == -signal.SIGTERM
    assert list(checkout.iterdir()) == []
