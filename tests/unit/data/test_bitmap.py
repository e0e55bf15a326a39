"""Bitmaps: strings the bit commands hold as bytearrays, and every other reader sees as bytes."""

from __future__ import annotations

from collections import deque

import pytest

from hush.core.errors import WrongType
from hush.data.types import bitmap
from hush.data.types.registry import (
    copy_value,
    object_encoding,
    rewrite_commands,
    type_name,
    value_size,
)


def test_buffer_turns_a_string_into_a_bytearray_without_a_write(db):
    db.set(b"k", b"\x01\x02")
    dirty = db.store.dirty
    buf = bitmap.buffer(db, b"k")
    assert buf == bytearray(b"\x01\x02") and buf.__class__ is bytearray
    assert db.data[b"k"] is buf
    assert db.store.dirty == dirty
    assert db.encodings[b"k"] == b"raw"
    # A second call hands out the same buffer.
    assert bitmap.buffer(db, b"k") is buf


def test_buffer_of_a_missing_key_or_another_type(db):
    assert bitmap.buffer(db, b"missing") is None
    db.set(b"l", deque([b"a"]))
    with pytest.raises(WrongType):
        bitmap.buffer(db, b"l")


def test_read_counts_hits_and_misses_and_accepts_both_forms(db):
    stats = db.store.stats
    db.set(b"a", b"x")
    db.set(b"b", bytearray(b"y"))
    assert bitmap.read(db, b"a") == b"x"
    assert bitmap.read(db, b"b") == bytearray(b"y")
    assert bitmap.read(db, b"c") is None
    assert (stats.keyspace_hits, stats.keyspace_misses) == (2, 1)
    db.set(b"l", deque([b"a"]))
    with pytest.raises(WrongType):
        bitmap.read(db, b"l")


def test_other_string_readers_get_bytes_and_the_key_keeps_them(db):
    buf = bytearray(b"abc")
    db.set(b"k", buf)
    value = db.get_string(b"k")
    assert value == b"abc" and value.__class__ is bytes
    assert db.data[b"k"] is value
    # Changing the old buffer now changes nothing the key holds.
    buf[0] = 0
    assert db.get_string(b"k") == b"abc"
    db.set(b"k2", bytearray(b"z"))
    assert db.read_typed(b"k2", bytes).__class__ is bytes
    db.set(b"k3", bytearray(b"z"))
    assert db.get_typed(b"k3", bytes).__class__ is bytes


def test_frozen_string_refuses_other_types(db):
    with pytest.raises(WrongType):
        db.frozen_string(b"k", deque())


def test_store_new_notes_raw(db):
    bitmap.store_new(db, b"k", bytearray(b"1"))
    assert object_encoding(db.data[b"k"], db.encodings.get(b"k")) == b"raw"
    db.set(b"k", b"1")
    assert object_encoding(db.data[b"k"], db.encodings.get(b"k")) == b"int"


def test_the_bytearray_is_a_string_for_the_registry():
    value = bytearray(b"\x00\xff")
    assert type_name(value) == b"string"
    assert object_encoding(value) == b"raw"
    copied = copy_value(value)
    assert copied == value and copied is not value and copied.__class__ is bytearray
    assert list(rewrite_commands(b"k", value)) == [[b"SET", b"k", b"\x00\xff"]]
    assert value_size(value) > 2
