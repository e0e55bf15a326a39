"""Persistence commands and their INFO counters, Hush vs a real redis-server.

Each test gets its own pair of servers writing into temporary directories
(the shared ones of the other differential tests must not write files).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.differential.harness import Pair
from tests.support import REDIS_SERVER, ServerProcess, free_port, start_hush

pytestmark = pytest.mark.differential

COUNTERS = ("rdb_saves", "aof_rewrites", "rdb_bgsave_in_progress", "aof_rewrite_in_progress",
            "aof_rewrite_scheduled", "aof_enabled", "aof_rewrites_consecutive_failures",
            "rdb_last_bgsave_status", "aof_last_bgrewrite_status")


@pytest.fixture
def servers(tmp_path: Path):
    """A Hush and a redis-server, each persisting into its own directory."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    (tmp_path / "hush").mkdir()
    (tmp_path / "redis").mkdir()
    hush = start_hush("--dir", str(tmp_path / "hush"))
    port = free_port()
    try:
        redis = ServerProcess(
            [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(tmp_path / "redis"), "--daemonize", "no"],
            port, cwd=str(tmp_path / "redis"))
    except Exception:
        hush.stop()
        raise
    pair = Pair(hush.port, redis.port)
    yield pair
    pair.close()
    hush.stop()
    redis.stop()


def _counters(raw: bytes) -> dict[str, str]:
    text = raw.split(b"\r\n", 1)[1].decode()
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {name: fields[name] for name in COUNTERS}


def _settled(pair: Pair) -> tuple[dict[str, str], dict[str, str]]:
    """INFO persistence counters of both, once neither has a child running or waiting."""
    deadline = time.monotonic() + 30
    while True:
        ours, theirs = (_counters(raw) for raw in pair.both("INFO", "persistence"))
        busy = [info for info in (ours, theirs)
                if "1" in (info["rdb_bgsave_in_progress"], info["aof_rewrite_in_progress"],
                           info["aof_rewrite_scheduled"])]
        if not busy:
            return ours, theirs
        assert time.monotonic() < deadline, f"still busy: {busy}"
        time.sleep(0.05)


def test_background_work_asked_for_in_a_transaction_is_scheduled(servers):
    """Inside EXEC, BGREWRITEAOF and BGSAVE are scheduled, then both run."""
    pair = servers
    pair.check("SET", "a", "1")
    pair.check("MULTI")
    for command in (("BGREWRITEAOF",), ("BGSAVE",), ("BGSAVE", "SCHEDULE"), ("BGREWRITEAOF",)):
        pair.check(*command)
    pair.check("EXEC")
    ours, theirs = _settled(pair)
    assert ours == theirs
    assert (ours["aof_rewrites"], ours["rdb_saves"]) == ("1", "1")


def test_counters_of_save_and_of_turning_the_aof_on(servers):
    """SAVE counts in rdb_saves; CONFIG SET appendonly yes rewrites (aof_rewrites)."""
    pair = servers
    pair.check("SET", "a", "1")
    pair.check("SAVE")
    pair.check("SAVE")
    pair.check("CONFIG", "SET", "appendonly", "yes")
    ours, theirs = _settled(pair)
    assert ours == theirs
    assert (ours["rdb_saves"], ours["aof_rewrites"], ours["aof_enabled"]) == ("2", "1", "1")
    pair.check("CONFIG", "RESETSTAT")
    ours, theirs = _settled(pair)
    assert ours == theirs
    assert (ours["rdb_saves"], ours["aof_rewrites"]) == ("0", "0")
