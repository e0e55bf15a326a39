"""Protocol tests of the sorted-set commands, on a fake server and clock."""

from __future__ import annotations

import pytest

from hush.commands import COMMANDS
from hush.core.errors import SYNTAX, WRONGTYPE
from hush.data.types.zset import ZSet
from hush.wire.resp import NULL_ARRAY
from tests.support import data, encode_command, error_of, raw_reply

needs_multi = pytest.mark.skipif(b"multi" not in COMMANDS, reason="MULTI is not registered")





# -- replies in both protocols ----------------------------------------------------


def test_scores_are_bulk_in_resp2_and_doubles_in_resp3(client, resp3):
    client.call("ZADD", "z", "1.5", "a", "inf", "b")
    assert raw_reply(client, "ZSCORE", "z", "a") == b"$3\r\n1.5\r\n"
    assert raw_reply(resp3, "ZSCORE", "z", "a") == b",1.5\r\n"
    assert raw_reply(resp3, "ZSCORE", "z", "b") == b",inf\r\n"
    assert raw_reply(client, "ZSCORE", "z", "nope") == b"$-1\r\n"
    assert raw_reply(resp3, "ZSCORE", "z", "nope") == b"_\r\n"


def test_withscores_is_flat_in_resp2_and_pairs_in_resp3(client, resp3):
    client.call("ZADD", "z", "1", "a", "2", "b")
    assert raw_reply(client, "ZRANGE", "z", "0", "-1", "WITHSCORES") == (
        b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n")
    assert raw_reply(resp3, "ZRANGE", "z", "0", "-1", "WITHSCORES") == (
        b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n")


def test_zpop_shapes(server, client, resp3):
    client.call("ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert raw_reply(resp3, "ZPOPMIN", "z") == b"*2\r\n$1\r\na\r\n,1\r\n"
    assert raw_reply(resp3, "ZPOPMIN", "z", "1") == b"*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    assert client.call("ZPOPMAX", "z", "5") == [b"c", b"3"]
    assert data(server) == {}


def test_zmpop_is_nested_in_both_protocols(client, resp3):
    client.call("ZADD", "z", "1", "a", "2", "b")
    assert client.call("ZMPOP", "2", "none", "z", "MAX", "COUNT", "5") == [
        b"z", [[b"b", b"2"], [b"a", b"1"]]]
    assert raw_reply(resp3, "ZMPOP", "1", "z", "MIN") == b"_\r\n"
    assert raw_reply(client, "ZMPOP", "1", "z", "MIN") == b"*-1\r\n"


# -- ZADD ------------------------------------------------------------------------------


def test_zadd_flags(client):
    assert client.call("ZADD", "z", "1", "a", "2", "b") == 2
    assert client.call("ZADD", "z", "CH", "1", "a", "3", "b", "4", "c") == 2
    assert client.call("ZADD", "z", "NX", "9", "a", "5", "d") == 1
    assert client.call("ZADD", "z", "XX", "9", "a", "5", "e") == 0
    assert client.call("ZSCORE", "z", "a") == b"9"
    assert client.call("ZADD", "z", "GT", "CH", "1", "a", "10", "b") == 1
    assert client.call("ZADD", "z", "LT", "CH", "1", "a", "10", "b") == 1
    assert client.call("ZRANGE", "z", "0", "-1", "WITHSCORES") == [
        b"a", b"1", b"c", b"4", b"d", b"5", b"b", b"10"]


def test_zadd_incr(client):
    assert client.call("ZADD", "z", "INCR", "2", "a") == b"2"
    assert client.call("ZADD", "z", "INCR", "0.5", "a") == b"2.5"
    assert client.call("ZADD", "z", "NX", "INCR", "1", "a") is None
    assert client.call("ZADD", "z", "GT", "INCR", "-1", "a") is None
    assert client.call("ZADD", "missing", "XX", "INCR", "1", "a") is None
    assert client.call("EXISTS", "missing") == 0


@pytest.mark.parametrize("args, message", [
    (("NX", "XX", "1", "a"), "ERR XX and NX options at the same time are not compatible"),
    (("GT", "LT", "1", "a"), "ERR GT, LT, and/or NX options at the same time are not compatible"),
    (("NX", "GT", "1", "a"), "ERR GT, LT, and/or NX options at the same time are not compatible"),
    (("INCR", "1", "a", "2", "b"), "ERR INCR option supports a single increment-element pair"),
    (("1", "a", "2"), SYNTAX),
    (("NX", "1"), SYNTAX),
    (("x", "a"), "ERR value is not a valid float"),
    (("nan", "a"), "ERR value is not a valid float"),
])
def test_zadd_errors(client, args, message):
    assert error_of(client.call("ZADD", "z", *args)) == message


def test_zadd_parses_scores_before_the_type_check(client):
    client.call("SET", "s", "v")
    assert error_of(client.call("ZADD", "s", "x", "a")) == "ERR value is not a valid float"
    assert error_of(client.call("ZADD", "s", "1", "a")) == WRONGTYPE


def test_nan_results_are_refused_and_change_nothing(client):
    client.call("ZADD", "z", "inf", "a")
    assert error_of(client.call("ZINCRBY", "z", "-inf", "a")) == (
        "ERR resulting score is not a number (NaN)")
    assert client.call("ZSCORE", "z", "a") == b"inf"


# -- removal deletes the key -----------------------------------------------------------


def test_emptying_deletes_the_key(server, client):
    client.call("ZADD", "z", "1", "a", "2", "b")
    assert client.call("ZREM", "z", "a", "b", "c") == 2
    assert data(server) == {}
    client.call("ZADD", "z", "1", "a")
    assert client.call("ZREMRANGEBYSCORE", "z", "-inf", "inf") == 1
    client.call("ZADD", "z", "0", "a")
    assert client.call("ZREMRANGEBYLEX", "z", "-", "+") == 1
    client.call("ZADD", "z", "0", "a")
    assert client.call("ZREMRANGEBYRANK", "z", "0", "-1") == 1
    client.call("ZADD", "z", "0", "a")
    assert client.call("ZMPOP", "1", "z", "MIN") == [b"z", [[b"a", b"0"]]]
    assert data(server) == {}


def test_stores_of_empty_results_delete_the_destination(server, client):
    client.call("ZADD", "d", "1", "x")
    assert client.call("ZUNIONSTORE", "d", "1", "none") == 0
    assert data(server) == {}
    client.call("ZADD", "d", "1", "x")
    assert client.call("ZRANGESTORE", "d", "none", "0", "-1") == 0
    assert data(server) == {}


def test_stores_overwrite_other_types_and_drop_the_ttl(server, client):
    client.call("SET", "d", "string", "EX", "100")
    client.call("ZADD", "z", "1", "a")
    assert client.call("ZINTERSTORE", "d", "1", "z") == 1
    assert client.call("TYPE", "d") == b"zset"
    assert client.call("TTL", "d") == -1


def test_zadd_keeps_the_ttl_of_an_existing_set(server, client):
    client.call("ZADD", "z", "1", "a")
    client.call("EXPIRE", "z", "100")
    client.call("ZADD", "z", "2", "b")
    assert client.call("TTL", "z") == 100
    server.clock.advance(101)
    assert client.call("ZCARD", "z") == 0


# -- plain sets as inputs -------------------------------------------------------------


def test_plain_python_sets_count_as_sets(server, client):
    from hush.data.types.registry import BY_CLASS

    if set not in BY_CLASS or BY_CLASS[set].name != b"set":
        pytest.skip("the sets family does not store sets as Python sets")
    data(server)[b"s"] = {b"a", b"q"}
    client.call("ZADD", "z", "5", "a", "6", "b")
    assert client.call("ZUNION", "2", "z", "s", "WITHSCORES") == [
        b"q", b"1", b"a", b"6", b"b", b"6"]
    assert client.call("ZDIFF", "2", "s", "z") == [b"q"]


# -- large sets --------------------------------------------------------------------------


def test_zscan_pages_a_large_set_and_returns_all_of_a_small_one(client):
    client.call("ZADD", "small", "1", "a", "2", "b")
    assert client.call("ZSCAN", "small", "0", "COUNT", "1") == [b"0", [b"a", b"1", b"b", b"2"]]
    args = []
    for i in range(200):
        args += [str(i), "m%d" % i]
    client.call("ZADD", "big", *args)
    cursor, seen, calls = b"0", {}, 0
    while True:
        cursor, items = client.call("ZSCAN", "big", cursor, "COUNT", "20", "MATCH", "m1*")
        calls += 1
        seen.update(zip(items[::2], items[1::2], strict=True))
        if cursor == b"0":
            break
    assert calls > 5
    assert seen == {b"m%d" % i: b"%d" % i for i in range(200) if str(i).startswith("1")}


def test_object_encoding_and_copy(server, client):
    client.call("ZADD", "z", "1", "a")
    assert client.call("OBJECT", "ENCODING", "z") == b"listpack"
    client.call("ZADD", "z", "2", "b" * 65)
    assert client.call("OBJECT", "ENCODING", "z") == b"skiplist"
    assert client.call("COPY", "z", "c") == 1
    client.call("ZADD", "c", "3", "only-in-copy")
    assert client.call("ZCARD", "z") == 2 and client.call("ZCARD", "c") == 3
    assert client.call("OBJECT", "ENCODING", "c") == b"skiplist"


# -- blocking ---------------------------------------------------------------------------


def test_bzpopmin_serves_at_once_when_a_set_has_members(client):
    client.call("ZADD", "z", "1", "a", "2", "b")
    assert client.call("BZPOPMIN", "none", "z", "0") == [b"z", b"a", b"1"]
    assert client.call("BZPOPMAX", "z", "0") == [b"z", b"b", b"2"]
    assert client.call("EXISTS", "z") == 0


def test_bzpopmin_times_out_on_the_clock(server, client):
    assert client.call("BZPOPMIN", "z", "1.5") is None
    assert client.protocol.blocked
    server.clock.advance(1.4)
    assert client.replies() == []
    server.clock.advance(0.2)
    assert client.raw() == b"*-1\r\n"
    assert not client.protocol.blocked


def test_bzpopmin_timeout_reply_is_a_null_array(server, client, resp3):
    client.send_raw(encode_command("BZPOPMIN", "z", "1"))
    resp3.send_raw(encode_command("BZPOPMIN", "z", "1"))
    server.clock.advance(1)
    assert client.raw() == b"*-1\r\n"
    assert resp3.raw() == b"_\r\n"


def test_zadd_wakes_a_blocked_client_after_replying(server, client):
    writer = server.client(port=40002)
    assert client.call("BZPOPMIN", "a", "z", "0") is None
    assert writer.call("ZADD", "z", "2", "x", "1", "y") == 2
    assert client.replies() == [[b"z", b"y", b"1"]]
    assert not client.protocol.blocked
    assert writer.call("ZRANGE", "z", "0", "-1") == [b"x"]


def test_waiters_are_served_in_arrival_order(server):
    first, second, writer = server.client(1), server.client(2), server.client(3)
    first.send_raw(encode_command("BZPOPMAX", "z", "0"))
    second.send_raw(encode_command("BZPOPMAX", "z", "0"))
    writer.call("ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert first.replies() == [[b"z", b"c", b"3"]]
    assert second.replies() == [[b"z", b"b", b"2"]]
    assert writer.call("ZCARD", "z") == 1


def test_bzmpop_wakes_with_a_count(server, client, resp3):
    resp3.send_raw(encode_command("BZMPOP", "0", "2", "x", "z", "MIN", "COUNT", "2"))
    client.call("ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert resp3.raw() == b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n"


def test_a_store_creating_the_key_wakes_the_waiter(server, client):
    writer = server.client(port=40002)
    writer.call("ZADD", "src", "4", "m")
    client.send_raw(encode_command("BZPOPMIN", "dst", "0"))
    assert writer.call("ZUNIONSTORE", "dst", "1", "src") == 1
    assert client.replies() == [[b"dst", b"m", b"4"]]
    assert writer.call("EXISTS", "dst") == 0


def test_a_list_at_the_key_does_not_serve_a_zset_waiter(server, client):
    writer = server.client(port=40002)
    client.send_raw(encode_command("BZPOPMIN", "k", "5"))
    writer.call("RPUSH", "k", "x")
    assert client.replies() == []
    assert client.protocol.blocked
    writer.call("DEL", "k")
    writer.call("ZADD", "k", "1", "m")
    assert client.replies() == [[b"k", b"m", b"1"]]


def test_disconnected_waiter_takes_nothing(server, client):
    writer = server.client(port=40002)
    client.send_raw(encode_command("BZPOPMIN", "z", "0"))
    client.disconnect()
    writer.call("ZADD", "z", "1", "a")
    assert writer.call("ZCARD", "z") == 1


def test_blocking_pops_inside_a_transaction_answer_as_a_timeout(client):
    client.protocol.session.in_multi = True
    for args in ((b"BZPOPMIN", b"z", b"0"), (b"BZMPOP", b"0", b"1", b"z", b"MAX")):
        assert client.protocol.session.execute(list(args)) is NULL_ARRAY
    client.protocol.session.in_multi = False


@needs_multi
def test_bzpopmin_in_multi_exec(client):
    client.call("ZADD", "z", "1", "a")
    assert client.call("MULTI") == b"OK"
    assert client.call("BZPOPMIN", "z", "0") == b"QUEUED"
    assert client.call("BZPOPMIN", "z", "0") == b"QUEUED"
    assert client.call("EXEC") == [[b"z", b"a", b"1"], None]


@needs_multi
def test_zadd_invalidates_a_watch(server, client):
    other = server.client(port=40002)
    client.call("ZADD", "z", "1", "a")
    client.call("WATCH", "z")
    other.call("ZINCRBY", "z", "1", "a")
    client.call("MULTI")
    client.call("ZCARD", "z")
    assert client.call("EXEC") is None


def test_stored_values_are_zsets(server, client):
    client.call("ZADD", "z", "1", "a")
    value = data(server)[b"z"]
    assert isinstance(value, ZSet) and value.scores == {b"a": 1.0}
