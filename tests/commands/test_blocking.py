"""Blocking list commands on a fake server: waiters, timeouts, wake-ups, disconnects.

Time only moves when a test advances ``server.clock``; nothing sleeps.
"""

from __future__ import annotations

import hiredis
import pytest

from hush.core.errors import WRONGTYPE
from tests.support import encode_command, send, waiting


def pipeline(client, *commands) -> None:
    client.send_raw(b"".join(encode_command(*args) for args in commands))


def keys(server, db: int = 0) -> list[bytes]:
    return server.service.store.dbs[db].key_list()


@pytest.fixture
def c(server):
    return server.client(41003)


# -- timeouts -------------------------------------------------------------------------


@pytest.mark.parametrize("command", [
    ("BLPOP", "k", "2"), ("BRPOP", "x", "k", "2"), ("BLMPOP", "2", "1", "k", "LEFT"),
])
def test_timeout_replies_null_array(server, a, command):
    send(a, *command)
    assert a.raw() == b""
    server.clock.advance(1.999)
    assert a.raw() == b""
    assert waiting(server) == 1
    server.clock.advance(0.001)
    assert a.raw() == b"*-1\r\n"
    assert waiting(server) == 0
    assert server.service.store.blocking_keys == {}


@pytest.mark.parametrize("command", [
    ("BLMOVE", "k", "d", "LEFT", "RIGHT", "2"), ("BRPOPLPUSH", "k", "d", "2"),
])
def test_move_timeout_replies_null_array_too(server, a, command):
    # Redis 7.0 answers every timed-out list waiter with *-1, BLMOVE included
    # (only the non-blocking answer inside MULTI is a null bulk).
    send(a, *command)
    server.clock.advance(2)
    assert a.raw() == b"*-1\r\n"


def test_timeout_reply_in_resp3_is_null(server, a):
    a.call("HELLO", "3")
    send(a, "BLPOP", "k", "1")
    server.clock.advance(1)
    assert a.raw() == b"_\r\n"
    send(a, "BLMOVE", "k", "d", "LEFT", "RIGHT", "1")
    server.clock.advance(1)
    assert a.raw() == b"_\r\n"


def test_fractional_timeout(server, a):
    send(a, "BLPOP", "k", "0.25")
    server.clock.advance(0.249)
    assert a.replies() == []
    server.clock.advance(0.001)
    assert a.replies() == [None]


def test_timeout_below_a_millisecond_blocks_forever(server, a, b):
    # Redis keeps whole milliseconds: 0.0001 truncates to 0, which means forever.
    send(a, "BLPOP", "k", "0.0001")
    server.clock.advance(3600)
    assert a.replies() == []
    b.call("RPUSH", "k", "v")
    assert a.replies() == [[b"k", b"v"]]


def test_timeout_zero_waits_forever(server, a, b):
    send(a, "BLPOP", "k", "0")
    server.clock.advance(10 * 365 * 86400)
    assert a.replies() == []
    assert b.call("RPUSH", "k", "v") == 1
    assert a.replies() == [[b"k", b"v"]]


def test_push_after_timeout_is_kept(server, a, b):
    send(a, "BLPOP", "k", "1")
    server.clock.advance(1)
    assert a.replies() == [None]
    b.call("RPUSH", "k", "v")
    assert b.call("LLEN", "k") == 1


# -- serving -------------------------------------------------------------------------


def test_push_reply_counts_elements_before_the_blocked_client_pops(server, a, b):
    send(a, "BLPOP", "k", "0")
    assert b.call("LPUSH", "k", "x", "y") == 2
    assert a.replies() == [[b"k", b"y"]]
    assert b.call("LLEN", "k") == 1
    assert waiting(server) == 0


def test_waiters_are_served_first_come_first_served(server, a, b, c):
    d = server.client(41004)
    send(a, "BLPOP", "k", "0")
    send(b, "BRPOP", "k", "0")
    send(c, "BLPOP", "k", "0")
    assert d.call("RPUSH", "k", "1", "2") == 2
    assert a.replies() == [[b"k", b"1"]]
    assert b.replies() == [[b"k", b"2"]]
    assert c.replies() == []
    assert keys(server) == []
    assert d.call("RPUSH", "k", "3") == 1
    assert c.replies() == [[b"k", b"3"]]


def test_multi_key_blpop_takes_the_first_ready_key_in_argument_order(a):
    a.call("RPUSH", "k2", "two")
    a.call("RPUSH", "k3", "three")
    assert a.call("BLPOP", "k1", "k3", "k2", "0") == [b"k3", b"three"]
    assert a.call("BRPOP", "k1", "k2", "k3", "0") == [b"k2", b"two"]


def test_multi_key_blpop_blocked_is_served_by_whichever_key_is_pushed(server, a, b):
    send(a, "BLPOP", "k1", "k2", "k1", "0")
    b.call("RPUSH", "k2", "v")
    assert a.replies() == [[b"k2", b"v"]]
    assert server.service.store.blocking_keys == {}
    b.call("RPUSH", "k1", "w")
    assert b.call("LLEN", "k1") == 1


def test_pipelined_commands_after_a_blocking_one_wait_and_run_in_order(server, a, b):
    pipeline(a, ("BLPOP", "k", "0"), ("SET", "after", "1"), ("PING",))
    send(a, "GET", "after")
    assert a.raw() == b""
    assert b.call("GET", "after") is None
    b.call("RPUSH", "k", "v")
    assert a.replies() == [[b"k", b"v"], b"OK", b"PONG", b"1"]


def test_pipeline_before_the_blocking_command_is_answered_at_once(a):
    pipeline(a, ("PING",), ("BLPOP", "k", "0"), ("PING",))
    assert a.replies() == [b"PONG"]


def test_pending_commands_may_block_again(server, a, b):
    pipeline(a, ("BLPOP", "k", "0"), ("BRPOP", "k", "5"), ("PING",))
    b.call("RPUSH", "k", "1")
    assert a.replies() == [[b"k", b"1"]]
    assert waiting(server) == 1
    server.clock.advance(5)
    assert a.replies() == [None, b"PONG"]


def test_pending_commands_run_after_a_timeout(server, a):
    pipeline(a, ("BLPOP", "k", "1"), ("RPUSH", "k", "v"), ("LLEN", "k"))
    server.clock.advance(1)
    assert a.replies() == [None, 1, 1]


def test_a_push_then_pop_pipeline_serves_the_waiter_between_commands(a, b):
    send(a, "BLPOP", "k", "0")
    pipeline(b, ("RPUSH", "k", "x"), ("LPOP", "k"))
    assert b.replies() == [1, None]
    assert a.replies() == [[b"k", b"x"]]


def test_disconnect_while_blocked_cancels_the_waiter_and_loses_nothing(server, a, b):
    send(a, "BLPOP", "k", "0")
    send(b, "BLPOP", "k", "10")
    a.disconnect()
    assert waiting(server) == 1
    c = server.client(41009)
    assert c.call("RPUSH", "k", "1", "2") == 2
    assert b.replies() == [[b"k", b"1"]]
    assert c.call("LRANGE", "k", "0", "-1") == [b"2"]
    assert server.service.store.blocking_keys == {}
    b.disconnect()
    server.clock.advance(20)
    assert waiting(server) == 0


def test_disconnect_cancels_the_timeout(server, a):
    send(a, "BLPOP", "k", "1")
    a.disconnect()
    server.clock.advance(2)
    assert a.transport.value() == b""
    timers = [call for call in server.clock.getDelayedCalls() if call.func.__name__ == "_time_out"]
    assert timers == []


def test_waiters_are_per_database(server, a, b):
    send(a, "BLPOP", "k", "0")
    b.call("SELECT", "1")
    b.call("RPUSH", "k", "other-db")
    assert a.replies() == []
    b.call("SELECT", "0")
    b.call("RPUSH", "k", "v")
    assert a.replies() == [[b"k", b"v"]]
    b.call("SELECT", "1")
    assert b.call("LLEN", "k") == 1


def test_waiter_in_another_database_pops_from_its_own(server, a, b):
    a.call("SELECT", "2")
    send(a, "BRPOP", "q", "0")
    b.call("SELECT", "2")
    b.call("LPUSH", "q", "v")
    assert a.replies() == [[b"q", b"v"]]


def test_key_of_another_type_leaves_list_waiters_blocked(server, a, b):
    send(a, "BLPOP", "k", "1")
    b.call("SET", "k", "string")
    assert a.replies() == []
    server.clock.advance(1)
    assert a.replies() == [None]


def test_blmpop_served_with_count(server, a, b):
    send(a, "BLMPOP", "0", "2", "x", "k", "RIGHT", "COUNT", "2")
    b.call("RPUSH", "k", "1", "2", "3")
    assert a.replies() == [[b"k", [b"3", b"2"]]]
    assert b.call("LRANGE", "k", "0", "-1") == [b"1"]


def test_blmpop_served_empties_the_list(server, a, b):
    send(a, "BLMPOP", "0", "1", "k", "LEFT", "COUNT", "10")
    b.call("RPUSH", "k", "1", "2")
    assert a.replies() == [[b"k", [b"1", b"2"]]]
    assert keys(server) == []


def test_served_by_pushx_linsert_and_lmove(server, a, b):
    b.call("RPUSH", "src", "m")
    send(a, "BLPOP", "k", "0")
    assert b.call("LMOVE", "src", "k", "LEFT", "LEFT") == b"m"
    assert a.replies() == [[b"k", b"m"]]


# -- BLMOVE ------------------------------------------------------------------------------


def test_blmove_served(server, a, b):
    send(a, "BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
    b.call("RPUSH", "src", "1", "2")
    assert a.replies() == [b"2"]
    assert b.call("LRANGE", "dst", "0", "-1") == [b"2"]
    assert b.call("LRANGE", "src", "0", "-1") == [b"1"]


def test_blmove_chain_wakes_the_destination_waiters(server, a, b, c):
    d = server.client(41004)
    send(a, "BLMOVE", "k1", "k2", "LEFT", "RIGHT", "0")
    send(b, "BRPOPLPUSH", "k2", "k3", "0")
    send(c, "BLPOP", "k3", "0")
    assert d.call("RPUSH", "k1", "x") == 1
    assert a.replies() == [b"x"]
    assert b.replies() == [b"x"]
    assert c.replies() == [[b"k3", b"x"]]
    assert keys(server) == []
    assert waiting(server) == 0


def test_blmove_onto_its_own_source(server, a, b, c):
    send(a, "BLMOVE", "k", "k", "LEFT", "RIGHT", "0")
    send(b, "BLPOP", "k", "0")
    c.call("RPUSH", "k", "x")
    assert a.replies() == [b"x"]
    assert b.replies() == [[b"k", b"x"]]
    assert keys(server) == []


def test_blmove_to_a_wrong_type_destination_errors_and_keeps_the_element(server, a, b, c):
    send(a, "BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
    send(b, "BLPOP", "src", "0")
    c.call("SET", "dst", "string")
    assert c.call("RPUSH", "src", "e") == 1
    [reply] = a.replies()
    assert isinstance(reply, hiredis.ReplyError) and str(reply) == WRONGTYPE
    assert b.replies() == [[b"src", b"e"]]
    assert waiting(server) == 0


# -- the blocking core ----------------------------------------------------------------------


def test_quit_pipelined_behind_a_block_closes_after_serving(server, a, b):
    pipeline(a, ("BLPOP", "k", "0"), ("QUIT",), ("PING",))
    b.call("RPUSH", "k", "v")
    assert a.replies() == [[b"k", b"v"], b"OK"]
    assert a.closed


def test_protocol_error_behind_a_block_is_reported_after_serving(server, a, b):
    a.send_raw(encode_command("BLPOP", "k", "0") + b"*1\r\n$x\r\n")
    assert a.raw() == b""
    assert not a.closed
    b.call("RPUSH", "k", "v")
    replies = a.replies()
    assert replies[0] == [b"k", b"v"]
    assert isinstance(replies[1], hiredis.ReplyError)
    assert str(replies[1]).startswith("ERR Protocol error")
    assert a.closed


def test_a_served_clients_pipeline_does_not_jump_ahead_of_other_waiters(server, a, b, c):
    # Redis runs a served client's pipelined commands only after every waiter
    # on the ready keys was served: C, blocked before A's second BLPOP, goes first.
    pipeline(a, ("BLPOP", "k", "0"), ("BLPOP", "k", "0"))
    send(c, "BLPOP", "k", "0")
    assert b.call("RPUSH", "k", "1", "2", "3") == 3
    assert a.replies() == [[b"k", b"1"], [b"k", b"3"]]
    assert c.replies() == [[b"k", b"2"]]
    assert keys(server) == []
