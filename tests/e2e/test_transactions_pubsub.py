"""redis-py's transactional pipelines and PubSub against a real twistd process."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis
import redis.asyncio


def test_pipeline_transaction(r):
    pipe = r.pipeline(transaction=True)
    pipe.set("a", "1").incr("a").get("a")
    assert pipe.execute() == [True, 2, b"2"]


def test_pipeline_transaction_runtime_error(r):
    r.set("a", "x")
    pipe = r.pipeline(transaction=True)
    pipe.incr("a").set("b", "1")
    with pytest.raises(redis.ResponseError):
        pipe.execute()
    assert r.get("b") == b"1"


def test_watch_conflict_raises_watch_error(r, hush_process):
    other = redis.Redis(port=hush_process.port)
    r.set("counter", 1)
    with r.pipeline() as pipe:
        pipe.watch("counter")
        other.set("counter", 5)
        pipe.multi()
        pipe.set("counter", 2)
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("counter") == b"5"
    other.close()


def test_transaction_helper_retries(r):
    r.set("n", 0)

    def incr(pipe):
        value = int(pipe.get("n"))
        pipe.multi()
        pipe.set("n", value + 1)

    r.transaction(incr, "n")
    assert r.get("n") == b"1"


def _get_message(pubsub, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message is not None:
            return message
    raise AssertionError("no message")


def test_pubsub_object(r, hush_process):
    pubsub = r.pubsub()
    pubsub.subscribe("news")
    assert _get_message(pubsub)["type"] == "subscribe"
    pubsub.psubscribe("ne*")
    assert _get_message(pubsub)["type"] == "psubscribe"
    assert r.publish("news", "hello") == 2
    messages = [_get_message(pubsub), _get_message(pubsub)]
    kinds = sorted(m["type"] for m in messages)
    assert kinds == ["message", "pmessage"]
    assert all(m["data"] == b"hello" for m in messages)
    assert r.pubsub_numsub("news") == [(b"news", 1)]
    assert r.pubsub_numpat() == 1
    pubsub.close()


def test_asyncio_pubsub_and_transaction(hush_process):
    async def scenario():
        client = redis.asyncio.Redis(port=hush_process.port)
        pubsub = client.pubsub()
        await pubsub.subscribe("chan")
        first = await pubsub.get_message(timeout=2)
        assert first["type"] == "subscribe"
        assert await client.publish("chan", "x") == 1
        message = None
        for _ in range(50):
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if message:
                break
        assert message["data"] == b"x"
        await pubsub.aclose()
        async with client.pipeline(transaction=True) as pipe:
            pipe.set("k", "v").get("k")
            assert await pipe.execute() == [True, b"v"]
        await client.aclose()

    asyncio.run(scenario())
