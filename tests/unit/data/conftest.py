"""Fixtures of the data tests: a bare store on a task.Clock, and its first database."""

from __future__ import annotations

import pytest

from hush.data.store import Database, Store
from tests.support import make_store


@pytest.fixture
def databases() -> int:
    """How many databases ``store`` has (a test module may override it)."""
    return 16


@pytest.fixture
def store(databases: int) -> Store:
    """A store with no service around it, maxkeys unlimited."""
    return make_store(databases=databases)


@pytest.fixture
def db(store: Store) -> Database:
    """Database 0 of ``store``."""
    return store.dbs[0]
