"""End to end: real ``twistd -n hush`` processes driven by redis-py and asyncio.

The README's and the docs' examples are run in tests/e2e/test_docs_examples.py
(contrib/systemd's units in tests/e2e/test_contrib_systemd.py).
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import redis
import redis.asyncio

from tests.support import start_hush

pytestmark = pytest.mark.e2e


# -- the original README session: cache with TTL, queue, LRU ----------------------


def test_set_get_with_ttl_expiring(r):
    assert r.set("greeting", "hello", px=300) is True
    assert r.get("greeting") == b"hello"
    assert 0 < r.pttl("greeting") <= 300
    started = time.monotonic()
    deadline = started + 5
    while r.get("greeting") is not None:
        assert time.monotonic() < deadline, "the key never expired"
        time.sleep(0.02)
    assert time.monotonic() - started > 0.2
    assert r.ttl("greeting") == -2
    assert r.exists("greeting") == 0


def test_lpush_wakes_blpop_in_another_client(r, hush_process):
    results = []

    def worker():
        other = redis.Redis(port=hush_process.port)
        results.append(other.blpop(["jobs"], timeout=5))
        other.close()

    blocked_before = r.info("clients")["blocked_clients"]
    thread = threading.Thread(target=worker)
    thread.start()
    # Wait until the worker is blocked, so the push is what wakes it.
    deadline = time.monotonic() + 5
    while r.info("clients")["blocked_clients"] <= blocked_before:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert r.lpush("jobs", "job-1") == 1
    thread.join(10)
    assert [list(item) for item in results] == [[b"jobs", b"job-1"]]
    assert r.llen("jobs") == 0


def test_blpop_times_out(r):
    started = time.monotonic()
    assert r.blpop(["nothing"], timeout=0.2) is None
    assert time.monotonic() - started >= 0.15


def test_asyncio_client(hush_process):
    async def main():
        producer = redis.asyncio.Redis(port=hush_process.port)
        consumer = redis.asyncio.Redis(port=hush_process.port)
        await producer.flushall()
        await producer.set("k", "v", ex=30)
        assert await producer.get("k") == b"v"
        waiting = asyncio.ensure_future(consumer.blpop(["queue"], timeout=5))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        assert await producer.rpush("queue", "a", "b") == 2
        assert list(await waiting) == [b"queue", b"a"]
        assert await producer.lrange("queue", 0, -1) == [b"b"]
        async with producer.pipeline(transaction=False) as pipe:
            for _ in range(100):
                pipe.incr("counter")
            replies = await pipe.execute()
        assert replies == list(range(1, 101))
        await producer.aclose()
        await consumer.aclose()

    asyncio.run(main())


def test_binary_values_round_trip(r):
    value = bytes(range(256)) * 10
    r.set(b"bin\x00key", value)
    assert r.get(b"bin\x00key") == value


def test_lru_eviction_with_maxkeys_3():
    proc = start_hush("--maxkeys", "3")
    try:
        client = redis.Redis(port=proc.port)
        for key in ("a", "b", "c"):
            client.set(key, key)
        assert client.get("a") == b"a"  # a is now the most recently used
        client.set("d", "d")
        assert client.exists("b") == 0
        assert sorted(client.keys("*")) == [b"a", b"c", b"d"]
        client.set("e", "e")
        assert sorted(client.keys("*")) == [b"a", b"d", b"e"]
        assert client.dbsize() == 3
        assert client.info("stats")["evicted_keys"] == 2
        client.close()
    finally:
        proc.stop()


def test_pipelined_requests(r):
    pipe = r.pipeline(transaction=False)
    for i in range(1000):
        pipe.set(f"key:{i}", i)
    for i in range(1000):
        pipe.get(f"key:{i}")
    replies = pipe.execute()
    assert replies[:1000] == [True] * 1000
    assert replies[1000:] == [str(i).encode() for i in range(1000)]
