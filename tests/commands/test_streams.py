"""Stream commands on a fake server and clock: replies, consumer groups, blocking reads.

Time only moves when a test advances ``server.clock``; nothing sleeps.
"""

from __future__ import annotations

import pytest

from hush.core.errors import WRONGTYPE
from hush.data.types.stream import Stream
from tests.support import encode_command, error_of, now_ms, raw_reply, send, waiting

# -- XADD, XRANGE, basics -------------------------------------------------------------------


def test_auto_ids_come_from_the_injected_clock(server, client):
    ms = now_ms(server)
    assert client.call("XADD", "s", "*", "a", "1") == b"%d-0" % ms
    assert client.call("XADD", "s", "*", "a", "2") == b"%d-1" % ms
    server.clock.advance(0.005)
    assert client.call("XADD", "s", "*", "a", "3") == b"%d-0" % (ms + 5)


def test_auto_id_after_an_id_from_the_future_increments_the_sequence(server, client):
    future = now_ms(server) + 10_000
    client.call("XADD", "s", f"{future}-5", "a", "1")
    assert client.call("XADD", "s", "*", "a", "1") == b"%d-6" % future
    assert client.call("XADD", "s", f"{future}-*", "a", "1") == b"%d-7" % future


def test_exhausted_stream(client):
    client.call("XADD", "s", "18446744073709551615-18446744073709551615", "a", "1")
    assert error_of(client.call("XADD", "s", "*", "a", "1")) == (
        "ERR The stream has exhausted the last possible ID, unable to add more items")


def test_type_encoding_and_wrongtype(client):
    client.call("XADD", "s", "1-1", "a", "1")
    assert client.call("TYPE", "s") == b"stream"
    assert client.call("OBJECT", "ENCODING", "s") == b"stream"
    client.call("SET", "str", "x")
    assert error_of(client.call("XADD", "str", "1-1", "a", "1")) == WRONGTYPE
    assert error_of(client.call("XRANGE", "str", "-", "+")) == WRONGTYPE
    assert error_of(client.call("XREAD", "STREAMS", "str", "0")) == WRONGTYPE


def test_stream_stays_when_emptied(server, client):
    client.call("XADD", "s", "1-1", "a", "1")
    assert client.call("XDEL", "s", "1-1") == 1
    assert client.call("EXISTS", "s") == 1
    assert client.call("XLEN", "s") == 0
    assert error_of(client.call("XADD", "s", "1-1", "a", "1")).startswith("ERR The ID specified")


def test_range_shapes(client, resp3):
    for i in range(1, 4):
        client.call("XADD", "s", f"{i}-0", "f", f"v{i}")
    assert client.call("XRANGE", "s", "(1", "+") == [
        [b"2-0", [b"f", b"v2"]], [b"3-0", [b"f", b"v3"]]]
    assert client.call("XREVRANGE", "s", "+", "-", "COUNT", "1") == [[b"3-0", [b"f", b"v3"]]]
    assert raw_reply(client, "XRANGE", "s", "-", "+", "COUNT", "0") == b"*-1\r\n"
    assert raw_reply(resp3, "XRANGE", "s", "-", "+", "COUNT", "0") == b"_\r\n"


def test_nomkstream_replies_null(client, resp3):
    assert raw_reply(client, "XADD", "s", "NOMKSTREAM", "*", "a", "1") == b"$-1\r\n"
    assert raw_reply(resp3, "XADD", "s", "NOMKSTREAM", "*", "a", "1") == b"_\r\n"


def test_copy_is_deep(server, client):
    client.call("XADD", "s", "1-1", "a", "1")
    client.call("XGROUP", "CREATE", "s", "g", "0")
    client.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    assert client.call("COPY", "s", "t") == 1
    client.call("XACK", "s", "g", "1-1")
    client.call("XADD", "s", "2-1", "a", "2")
    assert client.call("XPENDING", "t", "g")[0] == 1
    assert client.call("XLEN", "t") == 1
    copied = server.service.store.dbs[0].data[b"t"]
    assert isinstance(copied, Stream)
    assert copied.groups[b"g"].pel[(1, 1)].consumer is copied.groups[b"g"].consumers[b"c"]


# -- consumer groups ---------------------------------------------------------------------------


def test_pending_idle_and_delivery_counts_use_the_clock(server, client):
    client.call("XADD", "s", "1-1", "a", "1")
    client.call("XGROUP", "CREATE", "s", "g", "0")
    client.call("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    server.clock.advance(1.5)
    assert client.call("XPENDING", "s", "g", "-", "+", "10") == [[b"1-1", b"alice", 1500, 1]]
    assert client.call("XPENDING", "s", "g", "IDLE", "2000", "-", "+", "10") == []
    assert client.call("XINFO", "CONSUMERS", "s", "g") == [
        [b"name", b"alice", b"pending", 1, b"idle", 1500]]
    # History reads count as deliveries.
    client.call("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0")
    assert client.call("XPENDING", "s", "g", "-", "+", "10") == [[b"1-1", b"alice", 0, 2]]
    server.clock.advance(3)
    assert client.call("XCLAIM", "s", "g", "bob", "2000", "1-1", "JUSTID") == [b"1-1"]
    assert client.call("XPENDING", "s", "g", "-", "+", "10") == [[b"1-1", b"bob", 0, 2]]
    assert client.call("XCLAIM", "s", "g", "carol", "0", "1-1", "IDLE", "500",
                       "RETRYCOUNT", "9") == [[b"1-1", [b"a", b"1"]]]
    assert client.call("XPENDING", "s", "g", "-", "+", "10") == [[b"1-1", b"carol", 500, 9]]
    ms = now_ms(server)
    client.call("XCLAIM", "s", "g", "carol", "0", "1-1", "TIME", str(ms - 250), "JUSTID")
    assert client.call("XPENDING", "s", "g", "-", "+", "10")[0][2] == 250


def test_autoclaim_cursor_and_deleted_ids(server, client):
    for i in range(1, 6):
        client.call("XADD", "s", f"{i}-0", "f", "v")
    client.call("XGROUP", "CREATE", "s", "g", "0")
    client.call("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    client.call("XDEL", "s", "2-0")
    server.clock.advance(1)
    assert client.call("XAUTOCLAIM", "s", "g", "bob", "500", "0", "COUNT", "2") == [
        b"3-0", [[b"1-0", [b"f", b"v"]]], [b"2-0"]]
    assert client.call("XAUTOCLAIM", "s", "g", "bob", "500", "3-0", "JUSTID") == [
        b"0-0", [b"3-0", b"4-0", b"5-0"], []]
    assert client.call("XPENDING", "s", "g") == [4, b"1-0", b"5-0", [[b"bob", b"4"]]]


def test_xinfo_in_resp3_is_maps(server, resp3):
    resp3.call("XADD", "s", "1-1", "a", "1")
    resp3.call("XGROUP", "CREATE", "s", "g", "0")
    info = resp3.call("XINFO", "STREAM", "s")
    assert isinstance(info, dict)
    assert info[b"first-entry"] == [b"1-1", [b"a", b"1"]]
    assert info[b"groups"] == 1
    [group] = resp3.call("XINFO", "GROUPS", "s")
    assert group == {b"name": b"g", b"consumers": 0, b"pending": 0,
                     b"last-delivered-id": b"0-0", b"entries-read": None, b"lag": 1}
    full = resp3.call("XINFO", "STREAM", "s", "FULL")
    assert full[b"entries"] == [[b"1-1", [b"a", b"1"]]]
    assert full[b"groups"][0][b"pending"] == []


def test_xinfo_full_shows_delivery_times(server, client):
    client.call("XADD", "s", "1-1", "a", "1")
    client.call("XGROUP", "CREATE", "s", "g", "0")
    client.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    ms = now_ms(server)
    full = client.call("XINFO", "STREAM", "s", "FULL")
    group = dict(zip(full[17][0][::2], full[17][0][1::2], strict=True))
    assert group[b"pending"] == [[b"1-1", b"c", ms, 1]]
    consumer = dict(zip(group[b"consumers"][0][::2], group[b"consumers"][0][1::2], strict=True))
    assert consumer[b"seen-time"] == ms
    assert consumer[b"pending"] == [[b"1-1", ms, 1]]


# -- blocking XREAD ------------------------------------------------------------------------------


def test_xread_block_times_out_with_the_clock(server, a, resp3):
    a.call("XADD", "s", "1-1", "a", "1")
    send(a, "XREAD", "BLOCK", "1500", "STREAMS", "s", "$")
    assert a.raw() == b""
    server.clock.advance(1.499)
    assert a.raw() == b""
    server.clock.advance(0.001)
    assert a.raw() == b"*-1\r\n"
    send(resp3, "XREAD", "BLOCK", "10", "STREAMS", "s", "$")
    server.clock.advance(0.01)
    assert resp3.raw() == b"_\r\n"
    assert waiting(server) == 0


def test_xadd_serves_blocked_readers_after_its_reply(server, a, b):
    send(a, "XREAD", "COUNT", "5", "BLOCK", "0", "STREAMS", "x", "s", "$", "$")
    assert waiting(server) == 1
    # XADD replies first, then the waiter gets only the stream that got data.
    send(b, "XADD", "s", "5-1", "f", "v")
    assert b.raw() == b"$3\r\n5-1\r\n"
    assert a.replies() == [[[b"s", [[b"5-1", [b"f", b"v"]]]]]]
    assert waiting(server) == 0


def test_xread_waiters_each_wait_for_their_own_id(server, a, b):
    a.call("XADD", "s", "5-1", "f", "v")
    send(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "9-0")
    send(b, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    c = server.client(41009)
    c.call("XADD", "s", "6-1", "f", "v")
    # The first waiter wants IDs above 9-0; the second is served past it.
    assert a.raw() == b""
    assert b.replies() == [[[b"s", [[b"6-1", [b"f", b"v"]]]]]]
    c.call("XADD", "s", "9-1", "f", "w")
    assert a.replies() == [[[b"s", [[b"9-1", [b"f", b"w"]]]]]]


def test_xread_in_resp3_replies_with_a_map(server, a, resp3):
    send(resp3, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    a.call("XADD", "s", "1-1", "f", "v")
    assert resp3.raw() == (b"%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n"
                           b"$1\r\nv\r\n")


def test_xread_stays_blocked_when_the_key_is_deleted(server, a, b):
    b.call("XADD", "s", "1-1", "f", "v")
    send(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    b.call("DEL", "s")
    b.call("SET", "s", "str")
    assert a.raw() == b""
    b.call("DEL", "s")
    b.call("XADD", "s", "2-1", "f", "v")
    assert a.replies() == [[[b"s", [[b"2-1", [b"f", b"v"]]]]]]


def test_blocked_xread_in_multi_replies_null(client):
    client.call("MULTI")
    client.call("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    assert client.call("EXEC") == [None]


def test_disconnect_while_blocked_cancels_the_waiter(server, a, b):
    send(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    assert waiting(server) == 1
    a.disconnect()
    assert waiting(server) == 0
    assert server.service.store.blocking_keys == {}
    b.call("XADD", "s", "1-1", "f", "v")
    assert b.call("XLEN", "s") == 1


def test_pipelined_commands_wait_for_the_blocked_read(server, a, b):
    a.send_raw(encode_command("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
               + encode_command("PING"))
    assert a.raw() == b""
    b.call("XADD", "s", "1-1", "f", "v")
    replies = a.replies()
    assert replies[1] == b"PONG"


# -- blocking XREADGROUP ----------------------------------------------------------------------------


@pytest.fixture
def group(b):
    b.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")


def test_xreadgroup_woken_by_xadd_records_pending(server, a, b, group):
    send(a, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
    assert a.raw() == b""
    # The consumer is only created when it is served, as in Redis.
    assert b.call("XINFO", "CONSUMERS", "s", "g") == []
    b.call("XADD", "s", "1-1", "f", "v")
    assert a.replies() == [[[b"s", [[b"1-1", [b"f", b"v"]]]]]]
    assert b.call("XPENDING", "s", "g") == [1, b"1-1", b"1-1", [[b"alice", b"1"]]]


def test_two_group_readers_share_new_entries_in_arrival_order(server, a, b, group):
    c = server.client(41010)
    send(a, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">")
    send(c, "XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "STREAMS", "s", ">")
    b.call("XADD", "s", "1-1", "f", "v")
    assert a.replies() == [[[b"s", [[b"1-1", [b"f", b"v"]]]]]]
    assert c.raw() == b""
    b.call("XADD", "s", "2-1", "f", "w")
    assert c.replies() == [[[b"s", [[b"2-1", [b"f", b"w"]]]]]]


def test_group_destroy_wakes_readers_with_nogroup(server, a, b, group):
    send(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    assert b.call("XGROUP", "DESTROY", "s", "g") == 1
    assert error_of(a.replies()[0]) == (
        "NOGROUP the consumer group this client was blocked on no longer exists")
    assert waiting(server) == 0


@pytest.mark.parametrize("remove", [
    ("DEL", "s"), ("SET", "s", "x"), ("RENAME", "s", "t"), ("FLUSHDB",), ("FLUSHALL",),
])
def test_key_removal_wakes_readers_with_unblocked(server, a, b, group, remove):
    send(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    b.call(*remove)
    assert error_of(a.replies()[0]) == "UNBLOCKED the stream key no longer exists"


def test_expiry_wakes_readers_with_unblocked(server, a, b, group):
    b.call("PEXPIRE", "s", "100")
    send(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    # The active-expiry timer alone wakes the reader: no other command runs.
    server.clock.advance(0.2)
    assert error_of(a.replies()[0]) == "UNBLOCKED the stream key no longer exists"
    assert waiting(server) == 0


def test_xreadgroup_block_timeout(server, a, group):
    send(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "250", "STREAMS", "s", ">")
    server.clock.advance(0.25)
    assert a.raw() == b"*-1\r\n"


def test_xreadgroup_served_empty_when_the_new_entry_was_trimmed(server, a, b, group):
    send(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    b.call("XADD", "s", "MAXLEN", "0", "1-1", "f", "v")
    assert a.replies() == [[[b"s", []]]]


def test_noack_reads_leave_nothing_pending(server, a, b, group):
    send(a, "XREADGROUP", "GROUP", "g", "c", "NOACK", "BLOCK", "0", "STREAMS", "s", ">")
    b.call("XADD", "s", "1-1", "f", "v")
    assert a.replies() == [[[b"s", [[b"1-1", [b"f", b"v"]]]]]]
    assert b.call("XPENDING", "s", "g")[0] == 0


def test_history_reads_never_block(server, a, group):
    assert a.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", "0") == [
        [b"s", []]]


def test_list_waiters_are_unaffected_by_stream_wakeups(server, a, b):
    send(a, "BLPOP", "l", "0")
    b.call("SET", "l", "x")
    b.call("DEL", "l")
    assert a.raw() == b""
    b.call("RPUSH", "l", "v")
    assert a.replies() == [[b"l", b"v"]]
