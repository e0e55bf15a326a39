"""Differential tests: INFO replication and ROLE of Hush and of redis-server in the same
roles -- the same fields, in the same order, with values of the same shapes.

Each role is set up twice with real processes, once with a redis-server in
it and once with a Hush: a master without replicas, a master with one
redis-server replica online, a replica whose link is up, and a replica whose
master is not there.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.differential.harness import RawConnection, parse_reply
from tests.support import REDIS_SERVER, ServerProcess, free_port, start_hush

pytestmark = [pytest.mark.differential,
              pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")]

DEADLINE = 30.0


def wait_for(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + DEADLINE
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {DEADLINE}s")
        time.sleep(0.05)
    return result


def redis_in(directory: Path, *extra: str) -> ServerProcess:
    directory.mkdir()
    port = free_port()
    return ServerProcess([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--dir", str(directory), "--repl-diskless-sync-delay", "0", *extra],
                         port, cwd=str(directory))


def hush_in(directory: Path) -> ServerProcess:
    directory.mkdir()
    server = start_hush("--maxkeys", "0", "--dir", str(directory))
    redis.Redis(port=server.port).config_set("repl-diskless-sync-delay", 0)
    return server


def raw_info(port: int) -> list[tuple[str, str]]:
    """INFO replication's lines as (name, value), in order."""
    connection = RawConnection(port)
    try:
        connection.send("INFO", "replication")
        text = parse_reply(connection.read_reply()).decode()
    finally:
        connection.close()
    return [tuple(line.split(":", 1)) for line in text.splitlines() if ":" in line]


def shape(name: str, value: str) -> str:
    """What may be compared of a value whose figures differ: its kind."""
    if re.fullmatch(r"slave\d+", name):
        # ip=..,port=..,state=..,offset=..,lag=..: the keys and the state.
        fields = dict(part.split("=", 1) for part in value.split(","))
        return ",".join(f"{key}={fields[key] if key == 'state' else ''}" for key in fields)
    if re.fullmatch(r"[0-9a-f]{40}", value):
        return "id"
    if re.fullmatch(r"-?\d+", value):
        return "number"
    return value


def shapes(port: int) -> list[tuple[str, str]]:
    return [(name, shape(name, value)) for name, value in raw_info(port)]


def role_shape(port: int) -> bytes:
    """ROLE's raw reply with its figures and ports blanked (the RESP types stay)."""
    connection = RawConnection(port)
    try:
        connection.send("ROLE")
        raw = connection.read_reply()
    finally:
        connection.close()
    raw = re.sub(rb":-?\d+\r\n", b":N\r\n", raw)
    return re.sub(rb"\$\d+\r\n\d+\r\n", b"$N\r\nN\r\n", raw)


def link_up(port: int) -> bool:
    return dict(raw_info(port)).get("master_link_status") == "up"


def test_a_master_without_replicas(tmp_path):
    real, mine = redis_in(tmp_path / "redis"), hush_in(tmp_path / "hush")
    try:
        assert shapes(mine.port) == shapes(real.port)
        assert dict(raw_info(mine.port))["master_repl_offset"] == "0"
        assert role_shape(mine.port) == role_shape(real.port)
    finally:
        mine.stop()
        real.stop()


def test_a_master_with_a_replica_online(tmp_path):
    masters = {"redis": redis_in(tmp_path / "redis"), "hush": hush_in(tmp_path / "hush")}
    replicas = []
    try:
        for name, master in masters.items():
            replica = redis_in(tmp_path / f"replica-of-{name}", "--replicaof", "127.0.0.1",
                               str(master.port))
            replicas.append(replica)
            wait_for(lambda replica=replica: link_up(replica.port), f"{name}'s replica")
            redis.Redis(port=master.port).set("k", "v")
            wait_for(lambda master=master: shape("slave0", dict(raw_info(master.port)).get(
                "slave0", "state=none")).find("state=online") >= 0, f"{name}'s replica online")
        assert shapes(masters["hush"].port) == shapes(masters["redis"].port)
        assert role_shape(masters["hush"].port) == role_shape(masters["redis"].port)
    finally:
        for server in [*replicas, *masters.values()]:
            server.stop()


def test_a_replica_with_its_link_up_and_down(tmp_path):
    source = redis_in(tmp_path / "source")
    real = mine = None
    try:
        real = redis_in(tmp_path / "redis", "--replicaof", "127.0.0.1", str(source.port))
        mine = hush_in(tmp_path / "hush")
        redis.Redis(port=mine.port).replicaof("127.0.0.1", source.port)
        for server in (real, mine):
            wait_for(lambda server=server: link_up(server.port), "the replicas' links")
        redis.Redis(port=source.port).set("k", "v")
        time.sleep(0.2)
        assert shapes(mine.port) == shapes(real.port)
        assert role_shape(mine.port) == role_shape(real.port)
        source.stop()
        for server in (real, mine):
            wait_for(lambda server=server: not link_up(server.port), "the links going down")
        assert shapes(mine.port) == shapes(real.port)
    finally:
        for server in (mine, real):
            if server is not None:
                server.stop()
        source.stop()
