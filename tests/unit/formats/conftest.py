"""Fixtures of the formats tests: a real redis-server to compare the models with."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.differential.harness import ParsedConnection


@pytest.fixture
def real(redis_process) -> Iterator[ParsedConnection]:
    """A parsed connection to the session's redis-server, flushed."""
    conn = ParsedConnection(redis_process.port)
    conn.run("FLUSHALL")
    yield conn
    conn.close()
