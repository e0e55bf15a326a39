"""Modules end to end: loaded at start by twistd, their commands in the AOF and back after a restart."""

from __future__ import annotations

import subprocess

import pytest
import redis

from tests.support import REPO, checkout_env, hush_argv, start_hush

pytestmark = pytest.mark.e2e

RATELIMIT = str(REPO / "contrib" / "modules" / "ratelimit.py")
LEADERBOARD = str(REPO / "contrib" / "modules" / "leaderboard.py")


def test_config_and_command_line_modules_the_aof_and_a_restart(tmp_path):
    conf = tmp_path / "hush.conf"
    conf.write_text(f"loadmodule {LEADERBOARD} 2\nenable-module-command local\n")
    args = ("--config", str(conf), "--loadmodule", RATELIMIT, "--appendonly",
            "--dir", str(tmp_path), "--enable-time-control", "yes")
    server = start_hush(*args)
    try:
        r = redis.Redis(port=server.port)
        assert [m[b"name"] for m in r.execute_command("MODULE", "LIST")] == [
            b"leaderboard", b"ratelimit"]
        for member, score in (("ann", 3), ("bob", 5), ("cyd", 4)):
            r.execute_command("LEADERBOARD.ADD", "board", "-", member, score)
        assert r.execute_command("RATELIMIT.TAKE", "bucket", "5", "1", "2") == [1, 3, 0]
        r.execute_command("HUSH.CLOCK", "ADVANCE", "1")
        deadline = r.pexpiretime("bucket")
        assert r.execute_command("MODULE", "UNLOAD", "ratelimit") == b"OK"
        r.close()
    finally:
        server.stop()
    aof = (tmp_path / "appendonly.aof").read_bytes()
    # The leaderboard's call()s are logged as what they ran; the limiter as
    # what it stored, at absolute times.
    assert b"ZADD" in aof and b"ZREMRANGEBYRANK" in aof and b"LEADERBOARD" not in aof
    assert b"HSET" in aof and b"PEXPIREAT" in aof and b"RATELIMIT" not in aof
    again = start_hush(*args)
    try:
        r = redis.Redis(port=again.port)
        assert r.zrange("board", 0, -1) == [b"cyd", b"bob"]
        assert r.hget("bucket", "tokens") == b"3.0"
        assert r.pexpiretime("bucket") == deadline
        r.close()
    finally:
        again.stop()


@pytest.mark.parametrize(("args", "line"), [
    (("--loadmodule", "nowhere.py"), "Module nowhere.py failed to load: nowhere.py: no such file"),
    (("--loadmodule", "json"),
     "Module json failed to load: json must define exactly one hush.module.Module (it defines 0)"),
])
def test_a_module_that_cannot_load_stops_the_start(tmp_path, args, line):
    result = subprocess.run(hush_argv("--port", "tcp:0:interface=127.0.0.1", *args),
                            env=checkout_env(), cwd=str(tmp_path), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert line in result.stderr
    assert "server aborting" in result.stderr
