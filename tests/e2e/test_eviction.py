"""maxkeys-policy end to end: a twistd process, redis-py, and what the log says."""

from __future__ import annotations

import time

import pytest
import redis

from tests.support import start_hush


def wait_for_output(proc, text: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = proc.output()
        if text in output:
            return output
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in the log after {timeout}s:\n{proc.output()}")


def test_noeviction_keeps_the_queue_and_refuses_new_keys():
    proc = start_hush("--maxkeys", "3", "--maxkeys-policy", "noeviction")
    try:
        client = redis.Redis(port=proc.port)
        assert client.config_get("maxkeys*") == {"maxkeys": "3", "maxkeys-policy": "noeviction"}
        client.rpush("rq:queue:default", "job-1")
        client.set("a", "1")
        client.set("b", "1")
        with pytest.raises(redis.exceptions.OutOfMemoryError,
                           match="command not allowed when used keys > 'maxkeys'"):
            client.set("c", "1")
        pipe = client.pipeline(transaction=True)
        pipe.set("a", "2").set("c", "1")
        # Refused as it is queued; the transaction is discarded.
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            pipe.execute()
        assert client.get("a") == b"1"
        assert client.rpush("rq:queue:default", "job-2") == 2
        assert client.info("stats")["evicted_keys"] == 0
        # The default policy evicts the least recently used key: the queue.
        client.get("a")
        client.get("b")
        assert client.config_set("maxkeys-policy", "allkeys-lru")
        client.set("c", "1")
        assert client.exists("rq:queue:default") == 0
        assert client.info("stats")["evicted_keys"] == 1
        output = wait_for_output(proc, "reached maxkeys")
        assert "'rq:queue:default' (a list)" in output
        assert "maxkeys-policy noeviction" in output
        client.close()
    finally:
        proc.stop()
