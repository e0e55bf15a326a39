"""Fixtures of several test directories: fake servers, real Hush and redis-server processes.

A fixture of one directory lives in that directory's conftest.py. Hush's own
pytest plugin (hush.testing) provides the real server processes, as it does
for any project that tests against Hush.
"""

from __future__ import annotations

import pytest
from twisted.logger import globalLogPublisher

from tests.differential.harness import Pair
from tests.support import REDIS_SERVER, FakeServer, start_redis

pytest_plugins = ["hush.testing"]


@pytest.fixture
def server() -> FakeServer:
    """A store service on a task.Clock, maxkeys unlimited."""
    return FakeServer(maxkeys=0)


@pytest.fixture
def client(server: FakeServer):
    """One fake client connection to ``server``."""
    return server.client()


@pytest.fixture(scope="session")
def hush_process(hush_server):
    """The session's real Hush server (hush.testing's ``hush_server``: this checkout)."""
    return hush_server


@pytest.fixture(scope="session")
def redis_process():
    """A real redis-server process; the test is skipped when it is not installed."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    proc = start_redis()
    yield proc
    proc.stop()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(request, hush_process, redis_process):
    """A Hush/redis-server connection pair, both flushed, in RESP2 and RESP3."""
    p = Pair(hush_process.port, redis_process.port)
    p.both("FLUSHALL")
    if request.param == 3:
        p.hush.call("HELLO", "3")
        p.redis.call("HELLO", "3")
    yield p
    p.close()


@pytest.fixture
def logged():
    """The twisted.logger events emitted during the test."""
    events: list[dict] = []
    globalLogPublisher.addObserver(events.append)
    yield events
    globalLogPublisher.removeObserver(events.append)
