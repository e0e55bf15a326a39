"""Fixtures of the end-to-end tests."""

from __future__ import annotations

import pytest
import redis


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def r(request, hush_process):
    """A redis-py client to the Hush process, flushed, in RESP2 and RESP3."""
    conn = redis.Redis(port=hush_process.port, protocol=request.param)
    conn.flushall()
    yield conn
    conn.close()
