"""Protocol tests of the list commands, on a fake server and clock."""

from __future__ import annotations

from collections import deque

import pytest

from hush.commands import COMMANDS
from hush.core.errors import NOT_INTEGER, SYNTAX, WRONGTYPE
from hush.wire.resp import NULL_ARRAY
from tests.support import data, error_of, raw_reply

# MULTI/EXEC belong to the transactions family; these tests run once it is registered.
needs_multi = pytest.mark.skipif(b"multi" not in COMMANDS, reason="MULTI is not registered")





@pytest.fixture
def string_key(client):
    client.call("SET", "s", "x")
    return "s"


# -- push and pop -------------------------------------------------------------


def test_lpush_prepends_each_value_in_turn(server, client):
    assert client.call("LPUSH", "l", "a", "b", "c") == 3
    assert client.call("LPUSH", "l", "d") == 4
    assert client.call("LRANGE", "l", "0", "-1") == [b"d", b"c", b"b", b"a"]
    assert type(data(server)[b"l"]) is deque


def test_rpush_appends(client):
    assert client.call("RPUSH", "l", "a", "b") == 2
    assert client.call("RPUSH", "l", "c") == 3
    assert client.call("LRANGE", "l", "0", "-1") == [b"a", b"b", b"c"]


def test_pushx_only_on_existing_lists(server, client):
    assert client.call("LPUSHX", "l", "a", "b") == 0
    assert client.call("RPUSHX", "l", "a") == 0
    assert b"l" not in data(server)
    client.call("RPUSH", "l", "m")
    assert client.call("LPUSHX", "l", "x", "y") == 3
    assert client.call("RPUSHX", "l", "z", "w") == 5
    assert client.call("LRANGE", "l", "0", "-1") == [b"y", b"x", b"m", b"z", b"w"]


def test_pop_single_and_deletes_empty_list(server, client):
    client.call("RPUSH", "l", "a", "b")
    assert client.call("LPOP", "l") == b"a"
    assert client.call("RPOP", "l") == b"b"
    assert b"l" not in data(server)
    assert client.call("LPOP", "l") is None
    assert client.call("RPOP", "l") is None


def test_pop_with_count(server, client):
    client.call("RPUSH", "l", "a", "b", "c", "d")
    assert client.call("LPOP", "l", "2") == [b"a", b"b"]
    assert client.call("RPOP", "l", "5") == [b"d", b"c"]
    assert b"l" not in data(server)


def test_pop_count_reply_shapes_resp2(client):
    assert raw_reply(client, "LPOP", "none") == b"$-1\r\n"
    assert raw_reply(client, "LPOP", "none", "0") == b"*-1\r\n"
    assert raw_reply(client, "RPOP", "none", "3") == b"*-1\r\n"
    client.call("RPUSH", "l", "a")
    assert raw_reply(client, "LPOP", "l", "0") == b"*0\r\n"
    assert raw_reply(client, "LPOP", "l", "1") == b"*1\r\n$1\r\na\r\n"


def test_pop_count_reply_shapes_resp3(client):
    client.call("HELLO", "3")
    assert raw_reply(client, "LPOP", "none") == b"_\r\n"
    assert raw_reply(client, "LPOP", "none", "2") == b"_\r\n"
    client.call("RPUSH", "l", "a")
    assert raw_reply(client, "RPOP", "l", "0") == b"*0\r\n"


@pytest.mark.parametrize("count", ["-1", "abc", "9223372036854775808", "1.5"])
def test_pop_count_must_be_positive(client, count):
    client.call("RPUSH", "l", "a")
    assert error_of(client.call("LPOP", "l", count)) == "ERR value is out of range, must be positive"
    assert error_of(client.call("RPOP", "none", count)) == "ERR value is out of range, must be positive"
    assert client.call("LLEN", "l") == 1


def test_pop_count_is_parsed_before_the_type_check(client, string_key):
    assert error_of(client.call("LPOP", string_key, "-1")).startswith("ERR value is out of range")
    assert error_of(client.call("LPOP", string_key, "0")) == WRONGTYPE


def test_pop_too_many_arguments(client):
    assert error_of(client.call("LPOP", "l", "1", "2")) == (
        "ERR wrong number of arguments for 'lpop' command")
    assert error_of(client.call("RPOP", "l", "1", "2")) == (
        "ERR wrong number of arguments for 'rpop' command")


@pytest.mark.parametrize("args", [
    ("LPUSH", "s", "a"), ("RPUSH", "s", "a"), ("LPUSHX", "s", "a"), ("RPUSHX", "s", "a"),
    ("LPOP", "s"), ("RPOP", "s"), ("LLEN", "s"), ("LRANGE", "s", "0", "1"),
    ("LINDEX", "s", "0"), ("LINDEX", "s", "x"), ("LSET", "s", "x", "v"),
    ("LREM", "s", "0", "v"), ("LTRIM", "s", "0", "1"), ("LINSERT", "s", "BEFORE", "a", "b"),
    ("LPOS", "s", "a"), ("LMOVE", "s", "d", "LEFT", "LEFT"), ("RPOPLPUSH", "s", "d"),
    ("LMPOP", "1", "s", "LEFT"), ("BLPOP", "s", "0"), ("BRPOP", "s", "0"),
    ("BLMPOP", "0", "1", "s", "LEFT"), ("BLMOVE", "s", "d", "LEFT", "LEFT", "0"),
    ("BRPOPLPUSH", "s", "d", "0"),
])
def test_wrongtype(server, client, string_key, args):
    assert error_of(client.call(*args)) == WRONGTYPE
    assert data(server)[b"s"] == b"x"


# -- reading ----------------------------------------------------------------------


def test_llen(client):
    assert client.call("LLEN", "l") == 0
    client.call("RPUSH", "l", "a", "b")
    assert client.call("LLEN", "l") == 2


@pytest.mark.parametrize("start,stop,expected", [
    ("0", "-1", "abcde"), ("-100", "100", "abcde"), ("1", "3", "bcd"), ("3", "1", ""),
    ("5", "10", ""), ("-1", "-2", ""), ("-2", "-1", "de"), ("4", "4", "e"), ("0", "0", "a"),
    ("3", "100", "de"), ("-9223372036854775808", "9223372036854775807", "abcde"),
])
def test_lrange(client, start, stop, expected):
    client.call("RPUSH", "l", *"abcde")
    assert client.call("LRANGE", "l", start, stop) == [c.encode() for c in expected]


def test_lrange_parses_indexes_before_the_key(client, string_key):
    assert client.call("LRANGE", "none", "0", "-1") == []
    assert error_of(client.call("LRANGE", "none", "x", "1")) == NOT_INTEGER
    assert error_of(client.call("LRANGE", string_key, "0", "y")) == NOT_INTEGER


def test_lrange_long_list_both_halves(client):
    client.call("RPUSH", "l", *[str(i) for i in range(1000)])
    assert client.call("LRANGE", "l", "10", "12") == [b"10", b"11", b"12"]
    assert client.call("LRANGE", "l", "-3", "-2") == [b"997", b"998"]
    assert client.call("LRANGE", "l", "900", "2000") == [str(i).encode() for i in range(900, 1000)]


def test_lindex(client):
    client.call("RPUSH", "l", "a", "b", "c")
    assert client.call("LINDEX", "l", "0") == b"a"
    assert client.call("LINDEX", "l", "-1") == b"c"
    assert client.call("LINDEX", "l", "3") is None
    assert client.call("LINDEX", "l", "-4") is None
    assert error_of(client.call("LINDEX", "l", "x")) == NOT_INTEGER
    # The key is looked up first: a missing key never parses the index.
    assert client.call("LINDEX", "none", "x") is None


def test_lpos_basics(client):
    client.call("RPUSH", "l", *"abcabca")
    assert client.call("LPOS", "l", "a") == 0
    assert client.call("LPOS", "l", "a", "RANK", "2") == 3
    assert client.call("LPOS", "l", "a", "RANK", "-1") == 6
    assert client.call("LPOS", "l", "a", "COUNT", "0") == [0, 3, 6]
    assert client.call("LPOS", "l", "a", "COUNT", "2") == [0, 3]
    assert client.call("LPOS", "l", "a", "rank", "-1", "count", "2") == [6, 3]
    assert client.call("LPOS", "l", "a", "MAXLEN", "3", "COUNT", "0") == [0]
    assert client.call("LPOS", "l", "a", "RANK", "-2", "COUNT", "2", "MAXLEN", "3") == []
    assert client.call("LPOS", "l", "a", "RANK", "1", "RANK", "3") == 6
    assert client.call("LPOS", "l", "z") is None
    assert client.call("LPOS", "l", "z", "COUNT", "0") == []
    assert client.call("LPOS", "none", "a") is None
    assert client.call("LPOS", "none", "a", "COUNT", "1") == []


def test_lpos_rank_of_int64_min_counts_from_the_tail(client):
    client.call("RPUSH", "l", *"abcabca")
    assert client.call("LPOS", "l", "a", "RANK", "-9223372036854775808") == 6
    assert client.call("LPOS", "l", "a", "RANK", "-9223372036854775808", "COUNT", "1") == [6, 3, 0]
    assert client.call("LPOS", "l", "a", "RANK", "-9223372036854775807") is None


@pytest.mark.parametrize("options,message", [
    (("RANK", "0"), "ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                    "second ... or use negative to start from the end of the list"),
    (("RANK", "x"), NOT_INTEGER),
    (("COUNT", "-1"), "ERR COUNT can't be negative"),
    (("COUNT", "x"), "ERR COUNT can't be negative"),
    (("MAXLEN", "-1"), "ERR MAXLEN can't be negative"),
    (("MAXLEN", "x"), "ERR MAXLEN can't be negative"),
    (("RANK",), SYNTAX),
    (("FOO", "1"), SYNTAX),
    (("COUNT", "1", "RANK"), SYNTAX),
])
def test_lpos_errors_come_before_the_key(client, string_key, options, message):
    assert error_of(client.call("LPOS", string_key, "a", *options)) == message
    assert error_of(client.call("LPOS", "none", "a", *options)) == message


# -- changing in place ---------------------------------------------------------------


def test_lset(client):
    client.call("RPUSH", "l", "a", "b", "c")
    assert client.call("LSET", "l", "1", "B") == b"OK"
    assert client.call("LSET", "l", "-1", "C") == b"OK"
    assert client.call("LRANGE", "l", "0", "-1") == [b"a", b"B", b"C"]


def test_lset_errors(client):
    assert error_of(client.call("LSET", "none", "0", "x")) == "ERR no such key"
    assert error_of(client.call("LSET", "none", "x", "x")) == "ERR no such key"
    client.call("RPUSH", "l", "a")
    assert error_of(client.call("LSET", "l", "1", "x")) == "ERR index out of range"
    assert error_of(client.call("LSET", "l", "-2", "x")) == "ERR index out of range"
    assert error_of(client.call("LSET", "l", "x", "x")) == NOT_INTEGER


def test_lrem(server, client):
    client.call("RPUSH", "l", *"abacaba")
    assert client.call("LREM", "l", "2", "a") == 2
    assert client.call("LRANGE", "l", "0", "-1") == [b"b", b"c", b"a", b"b", b"a"]
    assert client.call("LREM", "l", "-1", "a") == 1
    assert client.call("LRANGE", "l", "0", "-1") == [b"b", b"c", b"a", b"b"]
    assert client.call("LREM", "l", "0", "b") == 2
    assert client.call("LREM", "l", "0", "zz") == 0
    assert client.call("LREM", "l", "0", "a") == 1
    assert client.call("LREM", "l", "0", "c") == 1
    assert b"l" not in data(server)
    assert client.call("LREM", "l", "0", "c") == 0
    assert error_of(client.call("LREM", "none", "x", "a")) == NOT_INTEGER


@pytest.mark.parametrize("start,stop,expected", [
    ("1", "-2", "bcd"), ("0", "-1", "abcde"), ("-100", "100", "abcde"), ("2", "2", "c"),
    ("3", "100", "de"), ("5", "10", ""), ("3", "1", ""), ("-1", "-2", ""),
])
def test_ltrim(server, client, start, stop, expected):
    client.call("RPUSH", "l", *"abcde")
    assert client.call("LTRIM", "l", start, stop) == b"OK"
    assert client.call("LRANGE", "l", "0", "-1") == [c.encode() for c in expected]
    assert (b"l" in data(server)) == bool(expected)


def test_ltrim_missing_key_and_errors(client):
    assert client.call("LTRIM", "none", "0", "1") == b"OK"
    assert error_of(client.call("LTRIM", "none", "x", "1")) == NOT_INTEGER


def test_linsert(client, string_key):
    assert client.call("LINSERT", "none", "BEFORE", "a", "b") == 0
    client.call("RPUSH", "l", "a", "b", "c")
    assert client.call("LINSERT", "l", "BEFORE", "b", "X") == 4
    assert client.call("LINSERT", "l", "after", "c", "Y") == 5
    assert client.call("LINSERT", "l", "AFTER", "zz", "Y") == -1
    assert client.call("LRANGE", "l", "0", "-1") == [b"a", b"X", b"b", b"c", b"Y"]
    assert error_of(client.call("LINSERT", "l", "MIDDLE", "b", "X")) == SYNTAX
    assert error_of(client.call("LINSERT", string_key, "MIDDLE", "b", "X")) == SYNTAX


# -- moving ----------------------------------------------------------------------------


def test_lmove_directions(server, client):
    client.call("RPUSH", "src", "a", "b", "c")
    assert client.call("LMOVE", "src", "dst", "LEFT", "RIGHT") == b"a"
    assert client.call("LMOVE", "src", "dst", "right", "left") == b"c"
    assert client.call("LRANGE", "dst", "0", "-1") == [b"c", b"a"]
    assert client.call("RPOPLPUSH", "src", "dst") == b"b"
    assert b"src" not in data(server)
    assert client.call("LRANGE", "dst", "0", "-1") == [b"b", b"c", b"a"]
    assert client.call("LMOVE", "src", "dst", "LEFT", "LEFT") is None
    assert client.call("RPOPLPUSH", "src", "dst") is None


def test_lmove_onto_itself_rotates(server, client):
    client.call("RPUSH", "l", "a", "b", "c")
    assert client.call("LMOVE", "l", "l", "LEFT", "RIGHT") == b"a"
    assert client.call("RPOPLPUSH", "l", "l") == b"a"
    assert client.call("LRANGE", "l", "0", "-1") == [b"a", b"b", b"c"]
    client.call("RPUSH", "one", "x")
    assert client.call("LMOVE", "one", "one", "LEFT", "LEFT") == b"x"
    assert data(server)[b"one"] == deque([b"x"])


def test_lmove_errors(server, client, string_key):
    client.call("RPUSH", "l", "a")
    assert error_of(client.call("LMOVE", "l", "d", "MIDDLE", "LEFT")) == SYNTAX
    assert error_of(client.call("LMOVE", "none", "d", "LEFT", "MIDDLE")) == SYNTAX
    # A wrong-typed destination is checked before anything is popped.
    assert error_of(client.call("LMOVE", "l", string_key, "LEFT", "LEFT")) == WRONGTYPE
    assert error_of(client.call("RPOPLPUSH", "l", string_key)) == WRONGTYPE
    assert client.call("LLEN", "l") == 1
    # A missing source wins over a wrong-typed destination.
    assert client.call("LMOVE", "none", string_key, "LEFT", "LEFT") is None


# -- LMPOP ----------------------------------------------------------------------------


def test_lmpop(server, client):
    client.call("RPUSH", "b", "1", "2", "3")
    assert client.call("LMPOP", "2", "a", "b", "LEFT") == [b"b", [b"1"]]
    assert client.call("LMPOP", "2", "a", "b", "RIGHT", "COUNT", "5") == [b"b", [b"3", b"2"]]
    assert b"b" not in data(server)
    assert raw_reply(client, "LMPOP", "2", "a", "b", "LEFT") == b"*-1\r\n"
    client.call("HELLO", "3")
    assert raw_reply(client, "LMPOP", "1", "a", "LEFT") == b"_\r\n"


def test_lmpop_first_nonempty_key_wins_but_type_errors_stop_it(client, string_key):
    client.call("RPUSH", "l", "a")
    assert error_of(client.call("LMPOP", "2", string_key, "l", "LEFT")) == WRONGTYPE
    assert client.call("LMPOP", "2", "l", string_key, "LEFT") == [b"l", [b"a"]]


@pytest.mark.parametrize("args,message", [
    (("0", "l", "LEFT"), "ERR numkeys should be greater than 0"),
    (("-1", "l", "LEFT"), "ERR numkeys should be greater than 0"),
    (("x", "l", "LEFT"), "ERR numkeys should be greater than 0"),
    (("3", "l", "LEFT"), SYNTAX),
    (("2", "l", "LEFT"), SYNTAX),
    (("9223372036854775807", "l", "LEFT"), SYNTAX),
    (("1", "l", "MIDDLE"), SYNTAX),
    (("1", "l", "LEFT", "COUNT", "0"), "ERR count should be greater than 0"),
    (("1", "l", "LEFT", "COUNT", "x"), "ERR count should be greater than 0"),
    (("1", "l", "LEFT", "COUNT"), SYNTAX),
    (("1", "l", "LEFT", "COUNT", "1", "COUNT", "1"), SYNTAX),
    (("1", "l", "LEFT", "FOO"), SYNTAX),
])
def test_lmpop_errors(client, args, message):
    client.call("RPUSH", "l", "a")
    assert error_of(client.call("LMPOP", *args)) == message
    assert error_of(client.call("BLMPOP", "0", *args)) == message
    assert client.call("LLEN", "l") == 1


# -- blocking commands that need not block ----------------------------------------------


def test_blocking_pops_serve_immediately(server, client):
    client.call("RPUSH", "a", "1", "2")
    client.call("RPUSH", "b", "3")
    assert client.call("BLPOP", "none", "b", "a", "0") == [b"b", b"3"]
    assert client.call("BRPOP", "a", "b", "0") == [b"a", b"2"]
    assert client.call("BLMPOP", "0", "1", "a", "LEFT", "COUNT", "9") == [b"a", [b"1"]]
    assert data(server) == {}
    client.call("RPUSH", "a", "x")
    assert client.call("BLMOVE", "a", "d", "RIGHT", "LEFT", "0") == b"x"
    assert client.call("BRPOPLPUSH", "d", "e", "0") == b"x"
    assert list(data(server)) == [b"e"]


def test_blpop_type_check_follows_key_order(client, string_key):
    client.call("RPUSH", "l", "a")
    assert error_of(client.call("BLPOP", string_key, "l", "0")) == WRONGTYPE
    assert client.call("BLPOP", "l", string_key, "0") == [b"l", b"a"]


@pytest.mark.parametrize("timeout,message", [
    ("-1", "ERR timeout is negative"),
    ("inf", "ERR timeout is negative"),
    ("1e20", "ERR timeout is negative"),
    ("abc", "ERR timeout is not a float or out of range"),
    ("nan", "ERR timeout is not a float or out of range"),
    (" 1", "ERR timeout is not a float or out of range"),
    ("1_0", "ERR timeout is not a float or out of range"),
    ("", "ERR timeout is not a float or out of range"),
])
def test_timeout_errors(client, timeout, message):
    client.call("RPUSH", "l", "a")
    assert error_of(client.call("BLPOP", "l", timeout)) == message
    assert error_of(client.call("BRPOP", "l", timeout)) == message
    assert error_of(client.call("BRPOPLPUSH", "l", "d", timeout)) == message
    assert error_of(client.call("BLMOVE", "l", "d", "LEFT", "LEFT", timeout)) == message
    assert error_of(client.call("BLMPOP", timeout, "1", "l", "LEFT")) == message
    assert client.call("LLEN", "l") == 1


def test_blmove_checks_directions_before_the_timeout(client):
    assert error_of(client.call("BLMOVE", "a", "b", "MIDDLE", "LEFT", "-1")) == SYNTAX
    assert error_of(client.call("BLMOVE", "a", "b", "LEFT", "LEFT", "-1")) == (
        "ERR timeout is negative")


@pytest.mark.parametrize("args,reply", [
    (("BLPOP", "none", "0"), NULL_ARRAY),
    (("BRPOP", "none", "0"), NULL_ARRAY),
    (("BLMPOP", "0", "1", "none", "LEFT"), NULL_ARRAY),
    (("BLMOVE", "none", "d", "LEFT", "LEFT", "0"), None),
    (("BRPOPLPUSH", "none", "d", "0"), None),
])
def test_blocking_commands_inside_a_transaction_never_block(client, args, reply):
    # EXEC runs its queue with in_multi set; the handler must answer as a timeout.
    client.protocol.session.in_multi = True
    argv = [arg.encode() for arg in args]
    assert client.protocol.session.execute(argv) is reply
    client.call("RPUSH", "none", "a")
    client.protocol.session.in_multi = True
    assert client.protocol.session.execute(argv) is not reply
    assert client.protocol.session.execute(argv) is reply


@needs_multi
def test_blocking_commands_in_multi_exec(client):
    client.call("RPUSH", "l", "a")
    assert client.call("MULTI") == b"OK"
    for args in (("BLPOP", "l", "0"), ("BLPOP", "l", "0"), ("BRPOPLPUSH", "l", "d", "0"),
                 ("BLMPOP", "0", "1", "l", "LEFT")):
        assert client.call(*args) == b"QUEUED"
    assert raw_reply(client, "EXEC") == b"*4\r\n*2\r\n$1\r\nl\r\n$1\r\na\r\n*-1\r\n$-1\r\n*-1\r\n"
    assert client.call("PING") == b"PONG"
