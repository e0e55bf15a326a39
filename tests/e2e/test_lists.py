"""End-to-end list tests: redis-py (sync and asyncio) against a real twistd process."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import redis
import redis.asyncio

from tests.support import other_client, wait_until_blocked

pytestmark = pytest.mark.e2e




def test_push_pop_range(r):
    assert r.rpush("l", "a", "b", "c") == 3
    assert r.lpush("l", "z") == 4
    assert r.lrange("l", 0, -1) == [b"z", b"a", b"b", b"c"]
    assert r.lpop("l") == b"z"
    assert r.rpop("l", 2) == [b"c", b"b"]
    assert r.lpop("l", 5) == [b"a"]
    assert r.llen("l") == 0
    assert r.lpop("l") is None
    assert r.lpop("l", 2) is None


def test_index_set_rem_trim_insert_pos(r):
    r.rpush("l", *"abcabca")
    assert r.lindex("l", -1) == b"a"
    assert r.lpos("l", "a", rank=2) == 3
    assert r.lpos("l", "a", count=0) == [0, 3, 6]
    assert r.lset("l", 1, "B")
    assert r.lrem("l", 0, "a") == 3
    assert r.linsert("l", "BEFORE", "B", "x") == 5
    assert r.ltrim("l", 0, 2)
    assert r.lrange("l", 0, -1) == [b"x", b"B", b"c"]
    with pytest.raises(redis.ResponseError, match="index out of range"):
        r.lset("l", 10, "v")
    with pytest.raises(redis.ResponseError, match="no such key"):
        r.lset("none", 0, "v")


def test_move_and_mpop(r):
    r.rpush("src", "1", "2", "3")
    assert r.lmove("src", "dst", "LEFT", "RIGHT") == b"1"
    assert r.rpoplpush("src", "dst") == b"3"
    assert r.lmpop(2, "none", "dst", direction="RIGHT", count=5) == [b"dst", [b"1", b"3"]]
    assert r.lmpop(1, "none", direction="LEFT") is None


def test_wrongtype(r):
    r.set("s", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.lpush("s", "a")


def test_blpop_times_out(r):
    start = time.monotonic()
    assert r.blpop(["none"], timeout=0.2) is None
    assert time.monotonic() - start >= 0.15
    assert r.blmove("none", "d", 0.1, "LEFT", "RIGHT") is None


def test_blpop_served_by_a_push_from_another_connection(r):
    pusher = other_client(r)
    result: dict[str, object] = {}

    def block() -> None:
        waiter = other_client(r)
        result["reply"] = waiter.blpop(["q1", "q2"], timeout=10)
        waiter.close()

    thread = threading.Thread(target=block)
    thread.start()
    wait_until_blocked(r)
    assert pusher.rpush("q2", "job") == 1
    thread.join(10)
    assert not thread.is_alive()
    assert tuple(result["reply"]) == (b"q2", b"job")
    assert r.llen("q2") == 0
    pusher.close()


def test_brpoplpush_served_by_another_connection(r):
    result: dict[str, object] = {}

    def block() -> None:
        waiter = other_client(r)
        result["reply"] = waiter.brpoplpush("jobs", "working", timeout=10)
        waiter.close()

    thread = threading.Thread(target=block)
    thread.start()
    wait_until_blocked(r)
    r.lpush("jobs", "j1")
    thread.join(10)
    assert result["reply"] == b"j1"
    assert r.lrange("working", 0, -1) == [b"j1"]


def test_asyncio_blpop_served_by_another_client(r):
    port = r.connection_pool.connection_kwargs["port"]
    protocol = r.connection_pool.connection_kwargs.get("protocol", 2)

    async def scenario() -> tuple:
        waiter = redis.asyncio.Redis(port=port, protocol=protocol)
        pusher = redis.asyncio.Redis(port=port, protocol=protocol)
        try:
            task = asyncio.create_task(waiter.blpop(["aq"], timeout=10))
            await asyncio.to_thread(wait_until_blocked, r)
            pushed = await pusher.rpush("aq", "a", "b")
            popped = await asyncio.wait_for(task, 10)
            left = await pusher.lrange("aq", 0, -1)
            timed_out = await waiter.brpop(["none"], timeout=0.1)
            return pushed, popped, left, timed_out
        finally:
            await waiter.aclose()
            await pusher.aclose()

    pushed, popped, left, timed_out = asyncio.run(scenario())
    assert pushed == 2
    assert tuple(popped) == (b"aq", b"a")
    assert left == [b"b"]
    assert timed_out is None


def test_blocked_client_disconnect_loses_nothing(r):
    port = r.connection_pool.connection_kwargs["port"]

    async def scenario() -> None:
        waiter = redis.asyncio.Redis(port=port)
        task = asyncio.create_task(waiter.blpop(["dq"], timeout=0))
        await asyncio.to_thread(wait_until_blocked, r)
        task.cancel()
        await waiter.aclose()

    asyncio.run(scenario())
    deadline = time.monotonic() + 5
    while r.info("clients")["blocked_clients"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert r.info("clients")["blocked_clients"] == 0
    assert r.rpush("dq", "kept") == 1
    assert r.lrange("dq", 0, -1) == [b"kept"]
