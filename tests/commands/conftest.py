"""Fixtures of the command tests: more fake clients of the one ``server``, its store."""

from __future__ import annotations

import pytest

from hush.data.store import Database, Store
from tests.support import FakeClient, FakeServer


@pytest.fixture
def a(server: FakeServer) -> FakeClient:
    """A second client (``client`` is the first), for blocking and wake-ups."""
    return server.client(41001)


@pytest.fixture
def b(server: FakeServer) -> FakeClient:
    """A third client."""
    return server.client(41002)


@pytest.fixture
def resp3(server: FakeServer) -> FakeClient:
    """A client that said HELLO 3."""
    c = server.client(41003)
    c.call("HELLO", "3")
    return c


@pytest.fixture
def store(server: FakeServer) -> Store:
    """The server's store, for white-box checks."""
    return server.service.store


@pytest.fixture
def db(store: Store) -> Database:
    """Database 0 of the server's store."""
    return store.dbs[0]
