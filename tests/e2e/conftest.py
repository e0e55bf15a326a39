"""Fixtures of the end-to-end tests."""

from __future__ import annotations

import pytest


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def r(request, hush_client, hush_server):
    """A redis-py client to the emptied Hush server (hush_client's), in RESP2 and RESP3."""
    conn = hush_server.client(protocol=request.param)
    yield conn
    conn.close()
