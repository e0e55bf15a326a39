"""End to end: redis-py (sync and asyncio) against a real ``twistd hush`` process."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis
import redis.asyncio

import hush


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def test_info(r):
    info = r.info()
    assert info["redis_version"] == hush.REDIS_VERSION
    assert info["hush_version"] == hush.__version__
    assert info["redis_mode"] == "standalone"
    assert info["role"] == "master"
    assert info["connected_clients"] >= 1
    assert info["used_memory"] > 0
    assert isinstance(info["uptime_in_seconds"], int)


def test_info_keyspace_and_sections(r):
    r.set("a", "1")
    r.set("b", "2", ex=100)
    keyspace = r.info("keyspace")
    assert keyspace["db0"]["keys"] == 2
    assert keyspace["db0"]["expires"] == 1
    assert 0 < keyspace["db0"]["avg_ttl"] <= 100_000
    assert set(r.info("server", "clients")) >= {"redis_version", "connected_clients"}
    assert r.info("nosuch") == {}


def test_info_counts_commands(r):
    before = r.info("stats")["total_commands_processed"]
    r.ping()
    r.ping()
    assert r.info("stats")["total_commands_processed"] == before + 3


def test_client_info_and_list(r):
    r.client_setname("e2e")
    assert _text(r.client_getname()) == "e2e"
    info = r.client_info()
    assert info["name"] == "e2e"
    assert info["cmd"] == "client|info"
    assert info["db"] == 0
    assert info["laddr"].endswith(f":{r.connection_pool.connection_kwargs['port']}")
    mine = [c for c in r.client_list() if c["id"] == str(r.client_id())]
    assert len(mine) == 1
    assert mine[0]["name"] == "e2e"
    assert r.client_list(_type="normal")
    assert r.client_list(client_id=[r.client_id()])[0]["name"] == "e2e"


def test_client_setinfo_from_redis_py(r):
    # redis-py sends CLIENT SETINFO when it connects.
    info = r.client_info()
    assert info["lib-name"] == "redis-py"
    assert info["lib-ver"]


def test_client_kill_other_connection(r, hush_process):
    other = redis.Redis(port=hush_process.port)
    other_id = other.client_id()
    assert r.client_kill_filter(_id=other_id) == 1
    assert all(c["id"] != str(other_id) for c in r.client_list())
    other.close()


def test_config_get(r, hush_process):
    assert r.config_get("databases") == {"databases": "16"}
    assert r.config_get("port") == {"port": str(hush_process.port)}
    assert r.info("server")["tcp_port"] == hush_process.port
    assert r.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
    assert r.config_get("nomatch") == {}


def test_config_set_maxkeys(r):
    old = r.config_get("maxkeys")["maxkeys"]
    try:
        assert r.config_set("maxkeys", 3)
        for key in "abcde":
            r.set(key, "1")
        assert r.dbsize() == 3
    finally:
        r.config_set("maxkeys", old)


def test_time(r):
    seconds, micros = r.time()
    assert abs(seconds - time.time()) < 5
    assert 0 <= micros < 1_000_000


def test_command_count_and_info(r):
    assert r.command_count() > 10
    # redis-py leaves COMMAND INFO to COMMAND, which it parses into a dict.
    info = r.command()
    assert len(info) == r.command_count()
    get = info["get"]
    assert get["arity"] == 2
    assert get["first_key_pos"] == 1
    assert {_text(flag) for flag in get["flags"]} == {"readonly", "fast"}
    assert info["set"]["arity"] == -3
    assert info["client"]["arity"] == -2


def test_dbsize_flushdb_swapdb(r):
    r.set("a", "1")
    r.set("b", "1")
    assert r.dbsize() == 2
    assert r.swapdb(0, 1)
    assert r.dbsize() == 0
    r.execute_command("SELECT", "1")
    assert r.dbsize() == 2
    assert r.flushdb()
    assert r.dbsize() == 0
    r.execute_command("SELECT", "0")
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        r.swapdb(0, 99)


def test_flushall_async(r):
    r.set("a", "1")
    assert r.flushall(asynchronous=True)
    assert r.dbsize() == 0


def test_asyncio_client_hello3_and_ping(hush_process):
    async def session():
        client = redis.asyncio.Redis(port=hush_process.port, protocol=3)
        try:
            assert await client.ping() is True
            hello = await client.execute_command("HELLO", "3")
            assert hello[b"proto"] == 3
            assert hello[b"version"] == hush.REDIS_VERSION.encode()
            await client.set("async-key", "v")
            assert await client.get("async-key") == b"v"
            assert (await client.client_info())["resp"] == "3"
        finally:
            await client.aclose()

    asyncio.run(session())
