"""Protocol tests of the set commands, on a fake server and clock."""

from __future__ import annotations

import random

import pytest

from hush.core.errors import NOT_INTEGER, NOT_POSITIVE, SYNTAX, WRONGTYPE
from hush.data.types.set import encoding as set_encoding
from hush.data.types.set import is_intset, ordered
from tests.support import data, error_of, raw_reply


@pytest.fixture(autouse=True)
def _seeded():
    random.seed(11)


# -- storage, SADD, SREM, membership ---------------------------------------------------


def test_set_is_a_plain_python_set_of_bytes(server, client):
    assert client.call("SADD", "s", "a", "b", "a") == 2
    assert data(server)[b"s"] == {b"a", b"b"}
    assert type(data(server)[b"s"]) is set
    assert client.call("TYPE", "s") == b"set"


def test_sadd_counts_new_members(client):
    client.call("SADD", "s", "a")
    assert client.call("SADD", "s", "a", "b", "c", "c") == 2
    assert client.call("SCARD", "s") == 3


def test_srem_counts_and_deletes_the_emptied_set(server, client):
    client.call("SADD", "s", "a", "b", "c")
    assert client.call("SREM", "s", "a", "zz", "a") == 1
    assert client.call("SREM", "none", "a") == 0
    assert client.call("SREM", "s", "b", "c") == 2
    assert b"s" not in data(server)


def test_membership(client):
    client.call("SADD", "s", "a", "")
    assert client.call("SISMEMBER", "s", "a") == 1
    assert client.call("SISMEMBER", "s", "") == 1
    assert client.call("SISMEMBER", "s", "b") == 0
    assert client.call("SISMEMBER", "none", "a") == 0
    assert client.call("SMISMEMBER", "s", "a", "b", "") == [1, 0, 1]
    assert client.call("SMISMEMBER", "none", "a", "b") == [0, 0]
    assert client.call("SCARD", "none") == 0
    client.call("HELLO", "3")
    assert raw_reply(client, "SMISMEMBER", "s", "a", "b") == b"*2\r\n:1\r\n:0\r\n"


def test_smembers_of_integers_is_ascending_like_an_intset(client):
    client.call("SADD", "s", "10", "-3", "2", "9223372036854775807", "-9223372036854775808")
    assert client.call("SMEMBERS", "s") == \
        [b"-9223372036854775808", b"-3", b"2", b"10", b"9223372036854775807"]


def test_smembers_is_a_set_in_resp3(client):
    client.call("SADD", "s", "2", "1")
    assert raw_reply(client, "SMEMBERS", "s") == b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    client.call("HELLO", "3")
    assert raw_reply(client, "SMEMBERS", "s") == b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    assert raw_reply(client, "SMEMBERS", "none") == b"~0\r\n"
    assert raw_reply(client, "SINTER", "s", "s") == b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"


@pytest.mark.parametrize("args", [
    ("SADD", "k", "a"), ("SREM", "k", "a"), ("SMEMBERS", "k"), ("SISMEMBER", "k", "a"),
    ("SMISMEMBER", "k", "a"), ("SCARD", "k"), ("SPOP", "k"), ("SPOP", "k", "1"),
    ("SRANDMEMBER", "k"), ("SRANDMEMBER", "k", "-2"), ("SMOVE", "k", "s", "a"),
    ("SMOVE", "s", "k", "m"), ("SINTER", "s", "k"), ("SINTER", "none", "k"),
    ("SUNION", "k"), ("SDIFF", "none", "k"), ("SINTERCARD", "2", "none", "k"),
    ("SINTERSTORE", "d", "k"), ("SUNIONSTORE", "d", "s", "k"), ("SDIFFSTORE", "d", "k", "s"),
    ("SSCAN", "k", "0"), ("SSCAN", "k", "0", "COUNT", "0"),
])
def test_wrongtype(server, client, args):
    client.call("SET", "k", "x")
    client.call("SADD", "s", "m")
    assert error_of(client.call(*args)) == WRONGTYPE
    assert data(server)[b"k"] == b"x"
    assert data(server)[b"s"] == {b"m"}
    assert b"d" not in data(server)


# -- SMOVE ------------------------------------------------------------------------------


def test_smove(server, client):
    client.call("SADD", "src", "a", "b")
    assert client.call("SMOVE", "src", "dst", "a") == 1
    assert data(server)[b"dst"] == {b"a"}
    assert client.call("SMOVE", "src", "dst", "zz") == 0
    client.call("SADD", "dst", "b")
    assert client.call("SMOVE", "src", "dst", "b") == 1
    assert b"src" not in data(server)
    assert data(server)[b"dst"] == {b"a", b"b"}


def test_smove_missing_source_ignores_the_destination_type(client):
    client.call("SET", "str", "x")
    assert client.call("SMOVE", "none", "str", "a") == 0


def test_smove_onto_itself_only_reports_membership(server, client):
    client.call("SADD", "s", "a")
    assert client.call("SMOVE", "s", "s", "a") == 1
    assert client.call("SMOVE", "s", "s", "b") == 0
    assert data(server)[b"s"] == {b"a"}


# -- SPOP and SRANDMEMBER -------------------------------------------------------------------


def test_spop_single(server, client):
    client.call("SADD", "s", "a", "b", "c")
    popped = {client.call("SPOP", "s") for _ in range(3)}
    assert popped == {b"a", b"b", b"c"}
    assert b"s" not in data(server)
    assert client.call("SPOP", "s") is None


def test_spop_picks_every_member_sometimes(client):
    seen = set()
    for _ in range(100):
        client.call("SADD", "s", *"abcdef")
        seen.add(client.call("SPOP", "s"))
    assert seen == {c.encode() for c in "abcdef"}


def test_spop_pool_follows_changes_made_by_other_commands(client):
    # SPOP keeps a random-access list of the last set it popped from; every
    # other change to a set must be seen by the next SPOP.
    client.call("SADD", "s", *[f"m{i}" for i in range(50)])
    first = client.call("SPOP", "s")
    client.call("SREM", "s", "m10", "m11")
    client.call("SADD", "s", "new1", "new2")
    client.call("SMOVE", "s", "other", "m20")
    client.call("SADD", "t", "t1")
    client.call("SMOVE", "t", "s", "t1")
    expected = ({f"m{i}".encode() for i in range(50)} - {first, b"m10", b"m11", b"m20"}) | {
        b"new1", b"new2", b"t1"}
    popped = [client.call("SPOP", "s") for _ in range(len(expected))]
    assert sorted(popped) == sorted(expected)
    assert client.call("EXISTS", "s") == 0
    assert client.call("SPOP", "s") is None


def test_spop_pool_is_per_set_and_survives_replacement(client):
    client.call("SADD", "a", "a1", "a2", "a3")
    client.call("SADD", "b", "b1", "b2")
    got_a = client.call("SPOP", "a")
    got_b = client.call("SPOP", "b")
    assert got_a in (b"a1", b"a2", b"a3") and got_b in (b"b1", b"b2")
    # SUNIONSTORE replaces "a" with a new set object: no stale members.
    client.call("SUNIONSTORE", "a", "b")
    assert client.call("SRANDMEMBER", "a") == client.call("SMEMBERS", "b")[0]
    rest = {client.call("SPOP", "a")}
    assert rest == set(client.call("SMEMBERS", "b"))


def test_srandmember_is_uniform_enough(client):
    client.call("SADD", "s", *[str(i) for i in range(10)])
    counts = {}
    for _ in range(2000):
        member = client.call("SRANDMEMBER", "s")
        counts[member] = counts.get(member, 0) + 1
    assert len(counts) == 10
    assert min(counts.values()) > 120


def test_spop_count(server, client):
    client.call("SADD", "s", *[str(i) for i in range(10)])
    got = client.call("SPOP", "s", "4")
    assert len(got) == 4 and len(set(got)) == 4
    assert client.call("SCARD", "s") == 6
    assert not set(got) & data(server)[b"s"]
    rest = client.call("SPOP", "s", "100")
    assert sorted(rest, key=int) == rest  # the whole intset, ascending
    assert set(got) | set(rest) == {str(i).encode() for i in range(10)}
    assert b"s" not in data(server)


def test_spop_count_shapes(client):
    client.call("SADD", "s", "a")
    assert raw_reply(client, "SPOP", "s", "0") == b"*0\r\n"
    assert raw_reply(client, "SPOP", "none", "2") == b"*0\r\n"
    client.call("HELLO", "3")
    assert raw_reply(client, "SPOP", "s", "0") == b"~0\r\n"
    assert raw_reply(client, "SPOP", "s", "5") == b"~1\r\n$1\r\na\r\n"
    assert raw_reply(client, "SPOP", "none") == b"_\r\n"


@pytest.mark.parametrize("count", ["-1", "x", "1.5", "9223372036854775808"])
def test_spop_count_must_be_positive(client, count):
    client.call("SET", "str", "x")
    assert error_of(client.call("SPOP", "none", count)) == NOT_POSITIVE
    assert error_of(client.call("SPOP", "str", count)) == NOT_POSITIVE


def test_spop_too_many_arguments(client):
    assert error_of(client.call("SPOP", "s", "1", "2")) == SYNTAX
    assert error_of(client.call("SRANDMEMBER", "s", "1", "2")) == SYNTAX


def test_srandmember(server, client):
    client.call("SADD", "s", *"abcde")
    assert {client.call("SRANDMEMBER", "s") for _ in range(200)} == {c.encode() for c in "abcde"}
    got = client.call("SRANDMEMBER", "s", "3")
    assert len(got) == 3 and len(set(got)) == 3
    assert sorted(client.call("SRANDMEMBER", "s", "9")) == [c.encode() for c in "abcde"]
    many = client.call("SRANDMEMBER", "s", "-40")
    assert len(many) == 40 and set(many) <= {c.encode() for c in "abcde"}
    assert client.call("SRANDMEMBER", "s", "0") == []
    assert data(server)[b"s"] == {c.encode() for c in "abcde"}


def test_srandmember_missing_key_and_shapes(client):
    assert client.call("SRANDMEMBER", "none") is None
    assert client.call("SRANDMEMBER", "none", "3") == []
    client.call("SADD", "s", "3", "1", "2")
    client.call("HELLO", "3")
    # An array even in RESP3; the whole intset in ascending order.
    assert raw_reply(client, "SRANDMEMBER", "s", "5") == \
        b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    assert raw_reply(client, "SRANDMEMBER", "none", "-2") == b"*0\r\n"


def test_srandmember_count_errors(client):
    assert error_of(client.call("SRANDMEMBER", "s", "x")) == NOT_INTEGER
    assert error_of(client.call("SRANDMEMBER", "s", "-9223372036854775808")) == (
        "ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807")


# -- algebra -----------------------------------------------------------------------------------


@pytest.fixture
def abc(client):
    client.call("SADD", "a", "1", "2", "3", "4")
    client.call("SADD", "b", "3", "4", "5")
    client.call("SADD", "c", "x", "4", "3")


def test_sinter(client, abc):
    assert client.call("SINTER", "a", "b") == [b"3", b"4"]
    assert sorted(client.call("SINTER", "a", "b", "c")) == [b"3", b"4"]
    assert client.call("SINTER", "a", "none") == []
    assert client.call("SINTER", "a") == [b"1", b"2", b"3", b"4"]


def test_sunion_and_sdiff(client, abc):
    assert client.call("SUNION", "a", "b", "none") == [b"1", b"2", b"3", b"4", b"5"]
    assert sorted(client.call("SUNION", "b", "c")) == [b"3", b"4", b"5", b"x"]
    assert client.call("SDIFF", "a", "b") == [b"1", b"2"]
    assert client.call("SDIFF", "a", "b", "none", "c") == [b"1", b"2"]
    assert client.call("SDIFF", "none", "a") == []
    assert client.call("SDIFF", "c", "a") == [b"x"]


def test_store_variants(server, client, abc):
    assert client.call("SINTERSTORE", "d", "a", "b") == 2
    assert data(server)[b"d"] == {b"3", b"4"}
    assert client.call("SUNIONSTORE", "d", "a", "c") == 5
    assert client.call("SDIFFSTORE", "d", "a", "b") == 2
    assert data(server)[b"d"] == {b"1", b"2"}
    # The source may be the destination.
    assert client.call("SUNIONSTORE", "a", "a", "b") == 5
    assert client.call("SINTERSTORE", "b", "b", "c") == 2


def test_store_replaces_any_type_and_drops_the_ttl(server, client, abc):
    client.call("SET", "d", "x")
    client.call("EXPIRE", "d", "100")
    assert client.call("SUNIONSTORE", "d", "a") == 4
    assert client.call("TYPE", "d") == b"set"
    assert client.call("TTL", "d") == -1


def test_store_of_an_empty_result_deletes_the_destination(server, client, abc):
    client.call("SET", "d", "x")
    assert client.call("SINTERSTORE", "d", "a", "none") == 0
    assert b"d" not in data(server)
    assert client.call("SDIFFSTORE", "d", "a", "a") == 0
    assert client.call("SUNIONSTORE", "d", "none") == 0
    assert b"d" not in data(server)


def test_stored_set_is_a_new_object(server, client, abc):
    client.call("SUNIONSTORE", "d", "a")
    client.call("SADD", "d", "99")
    assert b"99" not in data(server)[b"a"]


def test_sintercard(client, abc):
    assert client.call("SINTERCARD", "2", "a", "b") == 2
    assert client.call("SINTERCARD", "3", "a", "b", "c") == 2
    assert client.call("SINTERCARD", "1", "a", "LIMIT", "3") == 3
    assert client.call("SINTERCARD", "1", "a", "limit", "0") == 4
    assert client.call("SINTERCARD", "1", "a", "LIMIT", "1", "LIMIT", "10") == 4
    assert client.call("SINTERCARD", "2", "a", "none") == 0


@pytest.mark.parametrize("args, message", [
    (("0", "a"), "ERR numkeys should be greater than 0"),
    (("x", "a"), "ERR numkeys should be greater than 0"),
    (("-1", "a"), "ERR numkeys should be greater than 0"),
    (("3", "a", "b"), "ERR Number of keys can't be greater than number of args"),
    (("1", "a", "LIMIT", "-1"), "ERR LIMIT can't be negative"),
    (("1", "a", "LIMIT", "x"), "ERR LIMIT can't be negative"),
    (("1", "a", "LIMIT"), SYNTAX),
    (("1", "a", "b"), SYNTAX),
    (("2", "str", "none", "LIMIT", "-1"), "ERR LIMIT can't be negative"),
])
def test_sintercard_errors(client, args, message):
    client.call("SET", "str", "x")
    assert error_of(client.call("SINTERCARD", *args)) == message


def test_sintercard_key_specs(client):
    info = client.call("COMMAND", "INFO", "sintercard")[0]
    assert info[1:6] == [-3, [b"readonly", b"movablekeys"], 0, 0, 0]


# -- SSCAN -------------------------------------------------------------------------------------


def test_sscan_intset_returns_everything_ascending(client):
    client.call("SADD", "s", "5", "3", "100", "-2")
    assert client.call("SSCAN", "s", "0") == [b"0", [b"-2", b"3", b"5", b"100"]]
    assert client.call("SSCAN", "s", "1234", "COUNT", "1", "MATCH", "*0*") == [b"0", [b"100"]]


def test_sscan_options_are_checked_only_for_an_existing_set(client):
    client.call("SADD", "s", "a")
    assert error_of(client.call("SSCAN", "s", "0", "COUNT", "0")) == SYNTAX
    assert error_of(client.call("SSCAN", "s", "0", "TYPE", "set")) == SYNTAX
    assert client.call("SSCAN", "none", "0", "FOO") == [b"0", []]
    assert error_of(client.call("SSCAN", "none", "x")) == "ERR invalid cursor"


def test_sscan_large_set_pages_each_member_once(client):
    members = {f"m{i}".encode() for i in range(700)}
    client.call("SADD", "s", *members)
    cursor, seen, steps = b"0", [], 0
    while True:
        cursor, items = client.call("SSCAN", "s", cursor, "COUNT", "100")
        seen += items
        steps += 1
        if cursor == b"0":
            break
    assert len(seen) == len(members) and set(seen) == members
    assert steps >= 7


def test_sscan_large_intset_beyond_512_pages_too(client):
    client.call("SADD", "s", *[str(i) for i in range(600)])
    assert client.call("OBJECT", "ENCODING", "s") == b"hashtable"
    cursor, items = client.call("SSCAN", "s", "0", "COUNT", "10")
    assert cursor != b"0" and 0 < len(items) <= 10


# -- encodings, order, stats, transactions ----------------------------------------------------------


def test_set_encoding_thresholds():
    assert set_encoding({b"1", b"-2"}) == b"intset"
    assert set_encoding({str(i).encode() for i in range(512)}) == b"intset"
    assert set_encoding({str(i).encode() for i in range(513)}) == b"hashtable"
    for odd in (b"a", b"007", b"-0", b"+1", b"", b"9223372036854775808", b" 1", b"1.0"):
        assert set_encoding({b"1", odd}) == b"hashtable", odd
    assert set_encoding({b"-9223372036854775808", b"9223372036854775807"}) == b"intset"


def test_ordered_sorts_only_intsets():
    assert ordered({b"10", b"9", b"-1"}, 3) == [b"-1", b"9", b"10"]
    assert sorted(ordered({b"10", b"a"}, 2)) == [b"10", b"a"]
    assert is_intset([b"1"], 1) and not is_intset([b"1"], 513)


def test_object_encoding(client):
    client.call("SADD", "s", "1", "2")
    assert client.call("OBJECT", "ENCODING", "s") == b"intset"
    client.call("SADD", "s", "x")
    assert client.call("OBJECT", "ENCODING", "s") == b"hashtable"


def test_reads_count_keyspace_hits_and_misses(server, client):
    stats = server.service.store.stats
    client.call("SADD", "s", "a")
    stats.keyspace_hits = stats.keyspace_misses = 0
    client.call("SISMEMBER", "s", "a")
    client.call("SINTER", "s", "none")
    client.call("SADD", "s", "b")  # writes do not count
    assert (stats.keyspace_hits, stats.keyspace_misses) == (2, 1)


@pytest.mark.parametrize("change", [
    ("SADD", "s", "new"), ("SREM", "s", "b"), ("SPOP", "s"), ("SPOP", "s", "1"),
    ("SMOVE", "s", "t", "a"), ("SMOVE", "t", "s", "t1"), ("SUNIONSTORE", "s", "t"),
    ("SREM", "s", "a", "b"),
])
def test_changes_spoil_a_watch(server, client, change):
    other = server.client(40001)
    client.call("SADD", "s", "a", "b")
    client.call("SADD", "t", "t1")
    client.call("WATCH", "s")
    other.call(*change)
    client.call("MULTI")
    client.call("SCARD", "s")
    assert client.call("EXEC") is None


def test_no_change_keeps_a_watch(server, client):
    other = server.client(40001)
    client.call("SADD", "s", "a")
    client.call("WATCH", "s")
    other.call("SADD", "s", "a")
    other.call("SREM", "s", "zz")
    other.call("SMOVE", "s", "t", "zz")
    client.call("MULTI")
    client.call("SCARD", "s")
    assert client.call("EXEC") == [1]


def test_replies_inside_multi_are_snapshots(client):
    client.call("SADD", "s", "1")
    client.call("MULTI")
    client.call("SMEMBERS", "s")
    client.call("SADD", "s", "2")
    client.call("SUNION", "s")
    client.call("SRANDMEMBER", "s", "5")
    assert client.call("EXEC") == [[b"1"], 1, [b"1", b"2"], [b"1", b"2"]]
