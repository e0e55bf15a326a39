"""HyperLogLog commands through the protocol (StringTransport + task.Clock).

Replies, bytes and errors are pinned against redis-server in
tests/differential/test_hyperloglog.py; these pin the writes behind them.
"""

from __future__ import annotations

from hush.formats import hyperloglog as hll
from tests.support import data
from tests.support import error_of as error


def test_pfadd_creates_a_sparse_hll_even_without_elements(client, store):
    dirty = store.dirty
    assert client.call("PFADD", "h") == 1
    created = bytearray(hll.new())
    created[15] |= 0x80  # the cached cardinality is stale, as Redis leaves it
    assert data_of(client, "h") == created
    assert store.dirty == dirty + 1
    assert client.call("PFADD", "h") == 0
    assert store.dirty == dirty + 1


def data_of(client, key):
    return client.call("GET", key)


def test_pfcount_caches_the_cardinality_as_a_write(client, store):
    client.call("PFADD", "h", "a", "b", "c")
    dirty = store.dirty
    assert client.call("PFCOUNT", "h") == 3
    assert store.dirty == dirty + 1
    assert hll.cached_cardinality(data_of(client, "h")) == 3
    # The cache is valid now: no write.
    assert client.call("PFCOUNT", "h") == 3
    assert store.dirty == dirty + 1


def test_pfcount_of_several_keys_caches_nothing(client, store):
    client.call("PFADD", "a", "x")
    client.call("PFADD", "b", "y")
    dirty = store.dirty
    assert client.call("PFCOUNT", "a", "b", "missing") == 2
    assert store.dirty == dirty
    assert hll.cached_cardinality(data_of(client, "a")) is None


def test_the_ttl_stays_and_the_value_is_raw(client):
    client.call("SET", "h", hll.new(), "EX", "100")
    assert client.call("OBJECT", "ENCODING", "h") == b"embstr"
    client.call("PFCOUNT", "h")
    assert client.call("OBJECT", "ENCODING", "h") == b"raw"
    client.call("PFADD", "h", "x")
    client.call("PFMERGE", "h", "other")
    assert client.call("TTL", "h") == 100


def test_an_hll_written_by_setbit_still_counts(client, server):
    client.call("PFADD", "h", "a", "b")
    # The bytes are unchanged by a SETBIT to the same value, but held as a bytearray.
    bit = client.call("GETBIT", "h", "0")
    client.call("SETBIT", "h", "0", str(bit))
    assert data(server)[b"h"].__class__ is bytearray
    assert client.call("PFADD", "h", "c") == 1
    assert client.call("PFCOUNT", "h") == 3


def test_the_sparse_limit_is_the_setting(client, server):
    server.service.settings.accepted["hll-sparse-max-bytes"] = 30
    client.call("PFADD", "h", *[str(i) for i in range(10)])
    assert client.call("PFDEBUG", "ENCODING", "h") == b"dense"


def test_corrupt_values_answer_invalidobj(client):
    corrupt = bytearray(hll.new() + b"\x00")  # one register too many
    corrupt[15] |= 0x80  # no valid cached cardinality to answer with
    client.call("SET", "h", bytes(corrupt))
    assert error(client.call("PFCOUNT", "h")) == hll.CORRUPT
    assert error(client.call("PFCOUNT", "h", "other")) == hll.CORRUPT
    assert error(client.call("PFMERGE", "dest", "h")) == hll.CORRUPT
    assert client.call("EXISTS", "dest") == 0


def test_pfdebug_todense_and_getreg_store_the_dense_value(client, store):
    client.call("PFADD", "h", "a")
    dirty = store.dirty
    registers = client.call("PFDEBUG", "GETREG", "h")
    assert len(registers) == hll.REGISTERS and sum(1 for r in registers if r) == 1
    assert store.dirty == dirty + 1
    assert client.call("PFDEBUG", "ENCODING", "h") == b"dense"
    assert client.call("PFDEBUG", "TODENSE", "h") == 0
    assert store.dirty == dirty + 1


def test_pfselftest_passes(client):
    assert client.call("PFSELFTEST") == b"OK"


def test_watch_is_spoiled_by_a_pfcount_that_caches(server):
    watcher, writer = server.client(), server.client(40001)
    writer.call("PFADD", "h", "a")
    watcher.call("WATCH", "h")
    writer.call("PFCOUNT", "h")
    watcher.call("MULTI")
    watcher.call("PING")
    assert watcher.call("EXEC") is None
