"""Bit commands through the protocol (StringTransport + task.Clock).

Replies and errors are pinned against redis-server in
tests/differential/test_bitmaps.py; these tests pin what a client cannot see
there: values changed in place, the dirty counter, limits, the AOF client.
"""

from __future__ import annotations

import pytest

from hush.formats.bits import BITFIELD_RO_GET_ONLY, NOT_OFFSET
from tests.support import data, now_ms
from tests.support import error_of as error


def test_setbit_changes_the_key_in_place(client, db, store):
    client.call("SETBIT", "k", "7", "1")
    buf = db.data[b"k"]
    assert buf.__class__ is bytearray
    dirty = store.dirty
    assert client.call("SETBIT", "k", "6", "1") == 0
    assert db.data[b"k"] is buf and buf == b"\x03"
    assert store.dirty == dirty + 1
    # Setting a bit to what it is already is no write.
    assert client.call("SETBIT", "k", "6", "1") == 1
    assert store.dirty == dirty + 1


def test_growing_counts_as_a_write_even_when_the_bit_stays_zero(client, store):
    client.call("SETBIT", "k", "0", "1")
    dirty = store.dirty
    assert client.call("SETBIT", "k", "100", "0") == 0
    assert store.dirty == dirty + 1
    assert client.call("STRLEN", "k") == 13


def test_a_get_in_a_transaction_keeps_the_bytes_it_read(client):
    client.call("SETBIT", "k", "0", "1")
    client.call("MULTI")
    client.call("GET", "k")
    client.call("SETBIT", "k", "7", "1")
    client.call("BITFIELD", "k", "SET", "u8", "8", "255")
    client.call("GET", "k")
    assert client.call("EXEC") == [b"\x80", 0, [0], b"\x81\xff"]


def test_a_script_reads_bytes_of_a_bitmap(client):
    client.call("SETBIT", "k", "1", "1")
    script = ("local a = redis.call('GET', KEYS[1]); redis.call('SETBIT', KEYS[1], 7, 1);"
              " return {a, redis.call('GET', KEYS[1])}")
    assert client.call("EVAL", script, "1", "k") == [b"\x40", b"\x41"]


def test_copy_of_a_bitmap_is_independent(client):
    client.call("SETBIT", "src", "0", "1")
    client.call("COPY", "src", "dst")
    client.call("SETBIT", "src", "1", "1")
    client.call("SETBIT", "dst", "7", "1")
    assert client.call("GET", "src") == b"\xc0"
    assert client.call("GET", "dst") == b"\x81"
    assert client.call("OBJECT", "ENCODING", "dst") == b"raw"


def test_rename_and_move_keep_the_raw_encoding(client):
    client.call("SET", "k", "12")
    client.call("SETBIT", "k", "0", "0")
    client.call("RENAME", "k", "r")
    assert client.call("OBJECT", "ENCODING", "r") == b"raw"
    client.call("MOVE", "r", "1")
    client.call("SELECT", "1")
    assert client.call("OBJECT", "ENCODING", "r") == b"raw"
    assert client.call("TYPE", "r") == b"string"


def test_debug_object_of_a_bitmap(server):
    server.service.settings.enable_debug_command = "yes"
    client = server.client()
    client.call("SETBIT", "k", "15", "1")
    line = client.call("DEBUG", "OBJECT", "k")
    assert b" encoding:raw " in line and b"serializedlength:3 " in line


def test_the_ttl_stays(client, server):
    client.call("SET", "k", "x", "PX", "5000")
    client.call("SETBIT", "k", "20", "1")
    client.call("BITFIELD", "k", "INCRBY", "u4", "0", "1")
    assert client.call("PTTL", "k") == 5000
    server.clock.advance(6)
    assert client.call("GETBIT", "k", "20") == 0
    assert client.call("EXISTS", "k") == 0


def test_offsets_are_limited_by_proto_max_bulk_len(client, server):
    server.service.settings.proto_max_bulk_len = 2
    assert client.call("SETBIT", "k", "15", "1") == 0
    assert error(client.call("SETBIT", "k", "16", "1")) == NOT_OFFSET
    assert error(client.call("GETBIT", "k", "16")) == NOT_OFFSET
    assert error(client.call("BITFIELD", "k", "GET", "u8", "#2")) == NOT_OFFSET
    assert client.call("BITFIELD", "k", "GET", "u8", "#1") == [1]


def test_the_aof_loader_is_not_limited(server, store):
    from hush.commands import bitmaps

    server.service.settings.proto_max_bulk_len = 2

    class Loading:
        store = server.service.store

    Loading.store.loading = True
    try:
        assert bitmaps._offset_limit(Loading) is None
    finally:
        Loading.store.loading = False


def test_bitop_writes_raw_strings_and_drops_the_ttl(client, db):
    client.call("SET", "a", "1")
    client.call("SET", "dest", "x", "EX", "100")
    assert client.call("BITOP", "OR", "dest", "a") == 1
    assert client.call("TTL", "dest") == -1
    assert client.call("OBJECT", "ENCODING", "dest") == b"raw"
    assert client.call("BITOP", "OR", "dest", "missing") == 0
    assert b"dest" not in db.data


def test_bitop_not_of_a_bitmap_leaves_the_source_alone(client):
    client.call("SETBIT", "src", "0", "1")
    client.call("BITOP", "NOT", "dst", "src")
    client.call("SETBIT", "src", "7", "1")
    assert client.call("GET", "dst") == b"\x7f"
    assert client.call("GET", "src") == b"\x81"


def test_bitfield_fail_on_a_new_key_creates_it(client, store):
    dirty = store.dirty
    assert client.call("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300") == [None]
    assert client.call("GET", "k") == b"\x00"
    assert store.dirty == dirty + 1


def test_bitfield_fail_on_an_existing_key_is_no_write(client, store):
    client.call("SET", "k", "\x01")
    dirty = store.dirty
    assert client.call("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300") == [None]
    assert store.dirty == dirty


def test_bitfield_ro_refuses_writes_after_reading_every_argument(client):
    assert error(client.call("BITFIELD_RO", "k", "SET", "u8", "0", "1")) == BITFIELD_RO_GET_ONLY
    assert error(client.call("BITFIELD_RO", "k", "SET", "u8", "0", "x")).startswith(
        "ERR value is not an integer")


@pytest.mark.parametrize("command", [
    ("SETBIT", "k", "8", "1"),
    ("BITFIELD", "k", "SET", "u8", "0", "7"),
    ("BITOP", "NOT", "k", "other"),
])
def test_watch_is_spoiled_by_bit_writes(server, command):
    watcher, writer = server.client(), server.client(40001)
    writer.call("SET", "other", "a")
    writer.call("SET", "k", "b")
    watcher.call("WATCH", "k")
    writer.call(*command)
    watcher.call("MULTI")
    watcher.call("PING")
    assert watcher.call("EXEC") is None


def test_setbit_after_expiry_starts_a_new_string(client, server):
    client.call("SET", "k", "\xff", "PX", "10")
    server.clock.advance(1)
    assert client.call("SETBIT", "k", "7", "1") == 0
    assert client.call("GET", "k") == b"\x01"
    assert now_ms(server) > 0
    assert data(server)[b"k"] == bytearray(b"\x01")
