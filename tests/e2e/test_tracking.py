"""redis-py's client-side cache against a real twistd process.

redis-py (``Redis(protocol=3, cache_config=CacheConfig())``) turns on CLIENT
TRACKING, answers repeated reads from its own cache, and drops an entry when
Hush's invalidation push for the key arrives. redis-py itself refuses to
cache with a server that announces a version below 7.4, which Hush (as Redis
7.0.15) does; the test lowers that client-side check, which is policy, not
protocol: what it exercises is Hush's tracking as redis-py uses it.
"""

from __future__ import annotations

import time

import pytest
import redis
from redis.cache import CacheConfig
from redis.connection import CacheProxyConnection

pytestmark = pytest.mark.e2e


@pytest.fixture
def cached(hush_process, monkeypatch):
    """A redis-py client with its client-side cache, on a flushed Hush."""
    monkeypatch.setattr(CacheProxyConnection, "MIN_ALLOWED_VERSION", "7.0.0")
    conn = redis.Redis(port=hush_process.port, protocol=3, cache_config=CacheConfig())
    conn.flushall()
    conn.config_resetstat()
    yield conn
    conn.close()


def _gets(conn: redis.Redis) -> int:
    """How many GETs the server ran (what the cache saved it shows here)."""
    return conn.info("commandstats").get("cmdstat_get", {}).get("calls", 0)


def test_cached_read_is_invalidated_by_another_clients_write(cached, hush_process):
    other = redis.Redis(port=hush_process.port)
    try:
        other.set("greeting", "hello")
        assert cached.get("greeting") == b"hello"
        # Served from the client's cache: the server runs no second GET.
        assert cached.get("greeting") == b"hello"
        assert _gets(other) == 1
        assert cached.get_cache().size == 1
        other.set("greeting", "bye")
        # The invalidation push is read by the client before its next
        # command; poll, bounded, for it to have arrived.
        deadline = time.monotonic() + 10
        while cached.get("greeting") != b"bye":
            assert time.monotonic() < deadline, "the cached value was never invalidated"
            time.sleep(0.01)
        assert _gets(other) == 2
        tracking = other.info("clients")["tracking_clients"]
        assert tracking == 1
    finally:
        other.close()


def test_flushall_empties_the_cache(cached, hush_process):
    other = redis.Redis(port=hush_process.port)
    try:
        cached.set("a", "1")
        assert cached.get("a") == b"1"
        assert cached.get_cache().size == 1
        other.flushall()
        deadline = time.monotonic() + 10
        while cached.get("a") is not None:
            assert time.monotonic() < deadline, "FLUSHALL's invalidation never arrived"
            time.sleep(0.01)
    finally:
        other.close()
