"""SORT and SORT_RO through the protocol (StringTransport + task.Clock).

Replies and errors are pinned against redis-server in
tests/differential/test_sort.py; these pin cluster mode, key extraction,
the stored value and the writes.
"""

from __future__ import annotations

from collections import deque

import pytest

from hush.commands.table import lookup
from hush.data.types.zset import ZSet
from tests.support import FakeServer, data
from tests.support import error_of as error


@pytest.fixture
def cluster_client(tmp_path):
    """A cluster node serving every slot, so only SORT's own refusals show."""
    (tmp_path / "nodes.conf").write_bytes(
        b"%s 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-16383\n" % (b"a" * 40))
    server = FakeServer(cluster_enabled=True, dir=str(tmp_path), port=7000, maxkeys=0)
    yield server.client()
    server.service.cluster.close()


@pytest.mark.parametrize("option", ["BY", "GET"])
def test_patterns_are_refused_in_cluster_mode(cluster_client, option):
    cluster_client.call("RPUSH", "l", "2", "1")
    assert error(cluster_client.call("SORT", "l", option, "w_*")) == (
        f"ERR {option} option of SORT denied in Cluster mode.")
    assert error(cluster_client.call("SORT_RO", "l", option, "w_*")) == (
        f"ERR {option} option of SORT denied in Cluster mode.")


def test_cluster_mode_allows_constant_by_and_plain_sorts(cluster_client):
    cluster_client.call("RPUSH", "l", "2", "1")
    assert cluster_client.call("SORT", "l", "BY", "nosort") == [b"2", b"1"]
    assert cluster_client.call("SORT", "l") == [b"1", b"2"]
    assert error(cluster_client.call("SORT", "l", "GET", "#")) == (
        "ERR GET option of SORT denied in Cluster mode.")


def test_store_makes_a_list_and_drops_the_ttl(client, server):
    client.call("SADD", "s", "3", "1", "2")
    client.call("SET", "dst", "x", "EX", "100")
    assert client.call("SORT", "s", "STORE", "dst") == 3
    assert data(server)[b"dst"] == deque([b"1", b"2", b"3"])
    assert client.call("TTL", "dst") == -1
    assert client.call("OBJECT", "ENCODING", "dst") == b"quicklist"


def test_an_empty_result_deletes_the_destination_as_one_write(client, store):
    client.call("SET", "dst", "x")
    dirty = store.dirty
    assert client.call("SORT", "missing", "STORE", "dst") == 0
    assert client.call("EXISTS", "dst") == 0
    assert store.dirty == dirty + 1
    assert client.call("SORT", "missing", "STORE", "dst") == 0
    assert store.dirty == dirty + 1


def test_sort_leaves_a_sorted_set_in_its_skiplist_encoding(client, server):
    client.call("ZADD", "z", "1", "a", "2", "b")
    assert client.call("OBJECT", "ENCODING", "z") == b"listpack"
    client.call("SORT_RO", "z", "ALPHA")
    assert client.call("OBJECT", "ENCODING", "z") == b"skiplist"
    assert data(server)[b"z"].__class__ is ZSet


def test_an_unsorted_set_is_sorted_for_scripts(client):
    client.call("SADD", "s", "b", "c", "a")
    script = "return redis.call('SORT', KEYS[1], 'BY', 'nosort')"
    assert client.call("EVAL", script, "1", "s") == [b"a", b"b", b"c"]


def test_store_wakes_a_blocked_client(server):
    waiter, writer = server.client(), server.client(40001)
    waiter.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n")
    writer.call("RPUSH", "src", "b", "a")
    assert writer.call("SORT", "src", "ALPHA", "STORE", "q") == 2
    assert waiter.replies()[-1] == [b"q", b"a"]
    assert writer.call("LRANGE", "q", "0", "-1") == [b"b"]


def test_getkeys_follows_redis(client):
    sort, sort_ro = lookup(b"sort"), lookup(b"sort_ro")
    argv = [b"SORT", b"k", b"LIMIT", b"0", b"1", b"STORE", b"d", b"BY", b"store", b"GET", b"x"]
    assert sort.key_positions(argv) == [1, 6]
    assert sort_ro.key_positions(argv) == [1]
    assert client.call("COMMAND", "GETKEYS", "SORT", "k", "STORE", "d") == [b"k", b"d"]


def test_scores_that_are_not_numbers(client):
    client.call("RPUSH", "l", "1", "nan")
    assert error(client.call("SORT", "l")) == "ERR One or more scores can't be converted into double"
    assert client.call("SORT", "l", "ALPHA") == [b"1", b"nan"]
    assert client.call("SORT", "l", "BY", "nosort") == [b"1", b"nan"]
