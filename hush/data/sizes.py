# -*- test-case-name: tests.unit.server.test_memory -*-
"""The dataset's size estimate per key: what maxmemory is measured against.

Kept only while maxmemory is set: :meth:`hush.data.store.Store.track_sizes`
measures every key once and hands a :class:`SizeTracker` to every database,
whose writes then report to it; :meth:`~hush.data.store.Store.untrack_sizes`
drops it. Without one a database's write pays a single test of its
``tracker`` slot.

The estimate is what CPython would need for the keys and values: a key's
size is its bytes object plus a dictionary entry's bookkeeping, a value's is
what its type's record estimates (:func:`hush.data.types.registry.value_size`:
the container plus its length times the average size of a few of its
elements, so updating a large hash after HSET is not a walk over the hash).
"""

from __future__ import annotations

from collections.abc import Iterable
from sys import getsizeof
from typing import Any

from hush.data.types.registry import value_size

#: Per key: its dict entry and share of the hash table (about 42 bytes at a
#: million keys, twice that just after the dict grew).
ENTRY_OVERHEAD = 64

_BYTES_BASE = getsizeof(b"")
#: A key and a string value together, less their lengths (the common case, inlined).
_STRING_ENTRY = ENTRY_OVERHEAD + 2 * _BYTES_BASE


def key_size(key: bytes, value: Any) -> int:
    """Estimated bytes held by one key and its value."""
    if value.__class__ is bytes:
        return _STRING_ENTRY + len(key) + len(value)
    return ENTRY_OVERHEAD + _BYTES_BASE + len(key) + value_size(value)


class SizeTracker:
    """The per-key size estimates of every database, and their sum.

    Databases are named by their index; the tracker never looks at them,
    it is told what changed.

    @ivar used: the sum of the estimates, in bytes.
    @ivar sizes: per database index, key -> its estimate.
    """

    def __init__(self, keyspaces: Iterable[Iterable[tuple[bytes, Any]]]) -> None:
        """Measure every key of ``keyspaces``: each database's (key, value) pairs, in index order."""
        self.used = 0
        self.sizes: list[dict[bytes, int]] = []
        for items in keyspaces:
            sizes: dict[bytes, int] = {}
            self.sizes.append(sizes)
            for key, value in items:
                sizes[key] = size = key_size(key, value)
                self.used += size

    def stored(self, index: int, key: bytes, value: Any) -> None:
        """``value`` was just stored at ``key`` in database ``index``."""
        sizes = self.sizes[index]
        # key_size inlined for strings, the common value of a SET.
        if value.__class__ is bytes:
            new = _STRING_ENTRY + len(key) + len(value)
        else:
            new = key_size(key, value)
        self.used += new - sizes.get(key, 0)
        sizes[key] = new

    def account(self, index: int, key: bytes, value: Any) -> None:
        """Re-measure ``key`` after a write: it holds ``value`` now (None: it is gone)."""
        sizes = self.sizes[index]
        old = sizes.get(key, 0)
        if value is None:
            if key in sizes:
                del sizes[key]
                self.used -= old
            return
        sizes[key] = new = key_size(key, value)
        self.used += new - old

    def forget(self, index: int, key: bytes) -> None:
        """``key`` was removed."""
        size = self.sizes[index].pop(key, None)
        if size is not None:
            self.used -= size

    def clear(self, index: int) -> None:
        """Every key of database ``index`` was removed."""
        sizes = self.sizes[index]
        self.used -= sum(sizes.values())
        sizes.clear()

    def swapped(self, first: int, second: int) -> None:
        """SWAPDB exchanged two databases' contents: their estimates follow."""
        sizes = self.sizes
        sizes[first], sizes[second] = sizes[second], sizes[first]
