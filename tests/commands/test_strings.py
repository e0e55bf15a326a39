"""String commands through the protocol (StringTransport + task.Clock)."""

from __future__ import annotations

from collections import deque
from fractions import Fraction

import pytest

from hush.commands import lookup
from hush.commands.strings import format_long_double, parse_long_double
from hush.core.errors import NOT_FLOAT, NOT_INTEGER, SYNTAX, WRONGTYPE, CommandError
from tests.support import FakeServer, now_ms
from tests.support import error_of as error


@pytest.fixture
def stats(server):
    return server.service.store.stats


def make_list(db, key: bytes = b"list") -> None:
    db.set(key, deque([b"a"]))


# -- GET / SET ---------------------------------------------------------------


@pytest.mark.parametrize("value", [b"v" * 100, b"12345", b""])
def test_set_stores_the_parsed_bytes_themselves(server, client, value):
    # No copy between the wire and the keyspace: the value object hiredis
    # made (exact-sized) is the one the database holds and GET replies with.
    parser = client.protocol.parser
    made = []
    feed = parser.feed

    def recording(data):
        commands, error = feed(data)
        made.extend(commands)
        return commands, error

    parser.feed = recording
    client.call("SET", "k", value)
    ((_set, _key, sent),) = made
    stored = server.service.store.dbs[0].data[b"k"]
    assert stored is sent and stored == value


def test_set_and_get(client):
    assert client.call("SET", "k", "v") == b"OK"
    assert client.call("GET", "k") == b"v"
    assert client.call("GET", "missing") is None


def test_values_are_binary_safe(client):
    value = bytes(range(256)) + b"\r\n"
    client.call("SET", b"\x00key", value)
    assert client.call("GET", b"\x00key") == value
    client.call("SET", "empty", "")
    assert client.call("GET", "empty") == b""


def test_set_replaces_any_type_and_drops_the_ttl(client, db, server):
    make_list(db)
    db.set_expire(b"list", now_ms(server) + 5000)
    assert client.call("SET", "list", "v") == b"OK"
    assert db.get_expire(b"list") is None
    assert client.call("GET", "list") == b"v"


def test_get_of_another_type_is_wrongtype(client, db):
    make_list(db)
    assert error(client.call("GET", "list")) == WRONGTYPE


def test_nx_and_xx(client):
    assert client.call("SET", "k", "1", "NX") == b"OK"
    assert client.call("SET", "k", "2", "NX") is None
    assert client.call("SET", "missing", "1", "XX") is None
    assert client.call("GET", "missing") is None
    assert client.call("SET", "k", "3", "xx") == b"OK"
    assert client.call("GET", "k") == b"3"


def test_set_get_returns_the_old_value(client, db):
    assert client.call("SET", "k", "1", "GET") is None
    assert client.call("SET", "k", "2", "GET") == b"1"
    assert client.call("SET", "k", "3", "NX", "GET") == b"2"
    assert client.call("GET", "k") == b"2"
    assert client.call("SET", "other", "x", "XX", "GET") is None
    assert client.call("GET", "other") is None
    make_list(db)
    assert error(client.call("SET", "list", "v", "GET")) == WRONGTYPE
    assert isinstance(db.peek(b"list"), deque)


def test_null_replies_in_resp3(client):
    client.call("HELLO", "3")
    client.raw()
    client.send_raw(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
    assert client.raw() == b"_\r\n"
    client.send_raw(b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nXX\r\n")
    assert client.raw() == b"_\r\n"


@pytest.mark.parametrize("option, amount, factor, relative", [
    ("EX", 100, 1000, True),
    ("PX", 1500, 1, True),
    ("EXAT", 1_800_000_000, 1000, False),
    ("PXAT", 1_800_000_000_123, 1, False),
])
def test_set_expiry_options(client, db, server, option, amount, factor, relative):
    assert client.call("SET", "k", "v", option, amount) == b"OK"
    deadline = amount * factor + (now_ms(server) if relative else 0)
    assert db.get_expire(b"k") == deadline
    server.clock.advance((deadline - now_ms(server)) / 1000 - 0.01)
    assert client.call("GET", "k") == b"v"
    server.clock.advance(0.02)
    assert client.call("GET", "k") is None


def test_keepttl_keeps_the_deadline(client, db, server):
    client.call("SET", "k", "v", "EX", "10")
    deadline = db.get_expire(b"k")
    assert client.call("SET", "k", "w", "KEEPTTL") == b"OK"
    assert db.get_expire(b"k") == deadline
    assert client.call("SET", "k", "x") == b"OK"
    assert db.get_expire(b"k") is None


def test_repeated_expire_option_last_one_wins(client, db, server):
    client.call("SET", "k", "v", "EX", "10", "ex", "20")
    assert db.get_expire(b"k") == now_ms(server) + 20_000


def test_set_with_a_past_deadline_expires_the_key(client, db, stats):
    client.call("SET", "old", "v")
    assert client.call("SET", "old", "new", "PXAT", "1", "GET") == b"v"
    assert client.call("SET", "k", "v", "EXAT", "1") == b"OK"
    assert client.call("GET", "k") is None
    assert client.call("GET", "old") is None
    # As in Redis 7.0 the key is stored and expires on access, not deleted.
    assert stats.expired_keys == 2


@pytest.mark.parametrize("options", [
    ("NX", "XX"), ("XX", "NX"), ("EX", "10", "PX", "10"), ("PX", "10", "EXAT", "10"),
    ("EXAT", "10", "PXAT", "10"), ("KEEPTTL", "EX", "10"), ("PX", "10", "KEEPTTL"),
    ("EX",), ("PERSIST",), ("bogus",), ("EX", "abc", "bogus"), ("GET", "NX", "EX"),
])
def test_set_option_syntax_errors(client, options):
    assert error(client.call("SET", "k", "v", *options)) == SYNTAX
    assert client.call("GET", "k") is None


@pytest.mark.parametrize("options, message", [
    (("EX", "0"), "ERR invalid expire time in 'set' command"),
    (("PX", "-1"), "ERR invalid expire time in 'set' command"),
    (("EXAT", "0"), "ERR invalid expire time in 'set' command"),
    (("EX", "9223372036854775"), "ERR invalid expire time in 'set' command"),
    (("EX", "9223372036854776"), "ERR invalid expire time in 'set' command"),
    (("PX", "9223372036854775807"), "ERR invalid expire time in 'set' command"),
    (("EX", "abc"), NOT_INTEGER),
    (("PX", "1.5"), NOT_INTEGER),
    (("EX", "9223372036854775808"), NOT_INTEGER),
])
def test_set_expire_value_errors(client, options, message):
    assert error(client.call("SET", "k", "v", *options)) == message
    assert client.call("GET", "k") is None


def test_absolute_deadlines_may_reach_the_64_bit_limit(client, db):
    assert client.call("SET", "k", "v", "EXAT", "9223372036854775") == b"OK"
    assert db.get_expire(b"k") == 9223372036854775000
    assert client.call("SET", "k", "v", "PXAT", "9223372036854775807") == b"OK"


def test_expire_errors_come_before_wrongtype(client, db):
    make_list(db)
    assert error(client.call("SET", "list", "v", "EX", "0", "GET")) == (
        "ERR invalid expire time in 'set' command")


# -- SETNX, SETEX, PSETEX, GETSET, GETDEL --------------------------------------


def test_setnx(client, db):
    assert client.call("SETNX", "k", "1") == 1
    assert client.call("SETNX", "k", "2") == 0
    assert client.call("GET", "k") == b"1"
    make_list(db)
    assert client.call("SETNX", "list", "x") == 0


def test_setex_and_psetex(client, db, server):
    assert client.call("SETEX", "a", "10", "v") == b"OK"
    assert db.get_expire(b"a") == now_ms(server) + 10_000
    assert client.call("PSETEX", "b", "250", "w") == b"OK"
    assert db.get_expire(b"b") == now_ms(server) + 250
    server.clock.advance(0.3)
    assert client.call("GET", "b") is None
    assert client.call("GET", "a") == b"v"
    make_list(db)
    assert client.call("SETEX", "list", "5", "s") == b"OK"
    assert client.call("GET", "list") == b"s"


@pytest.mark.parametrize("name, amount, message", [
    ("SETEX", "0", "ERR invalid expire time in 'setex' command"),
    ("SETEX", "-3", "ERR invalid expire time in 'setex' command"),
    ("SETEX", "9223372036854775807", "ERR invalid expire time in 'setex' command"),
    ("PSETEX", "0", "ERR invalid expire time in 'psetex' command"),
    ("PSETEX", "9223372036854775807", "ERR invalid expire time in 'psetex' command"),
    ("SETEX", "ten", NOT_INTEGER),
    ("PSETEX", "1e3", NOT_INTEGER),
])
def test_setex_errors(client, name, amount, message):
    assert error(client.call(name, "k", amount, "v")) == message
    assert client.call("GET", "k") is None


def test_getset(client, db, server):
    assert client.call("GETSET", "k", "1") is None
    client.call("SET", "k", "2", "EX", "100")
    assert client.call("GETSET", "k", "3") == b"2"
    assert db.get_expire(b"k") is None
    assert client.call("GET", "k") == b"3"
    make_list(db)
    assert error(client.call("GETSET", "list", "v")) == WRONGTYPE


def test_getdel(client, db):
    client.call("SET", "k", "v")
    assert client.call("GETDEL", "k") == b"v"
    assert client.call("GETDEL", "k") is None
    assert not db.exists(b"k")
    make_list(db)
    assert error(client.call("GETDEL", "list")) == WRONGTYPE
    assert db.exists(b"list")


# -- GETEX -------------------------------------------------------------------


def test_getex_without_options_is_a_get(client, db):
    client.call("SET", "k", "v", "EX", "100")
    deadline = db.get_expire(b"k")
    assert client.call("GETEX", "k") == b"v"
    assert db.get_expire(b"k") == deadline
    assert client.call("GETEX", "missing") is None


def test_getex_sets_and_removes_ttls(client, db, server):
    client.call("SET", "k", "v")
    assert client.call("GETEX", "k", "EX", "5") == b"v"
    assert db.get_expire(b"k") == now_ms(server) + 5000
    assert client.call("GETEX", "k", "PX", "700") == b"v"
    assert db.get_expire(b"k") == now_ms(server) + 700
    assert client.call("GETEX", "k", "PXAT", now_ms(server) + 900) == b"v"
    assert db.get_expire(b"k") == now_ms(server) + 900
    assert client.call("GETEX", "k", "EXAT", "1900000000") == b"v"
    assert db.get_expire(b"k") == 1_900_000_000_000
    assert client.call("GETEX", "k", "PERSIST") == b"v"
    assert db.get_expire(b"k") is None
    client.call("GETEX", "k", "PX", "100")
    server.clock.advance(0.1)
    assert client.call("GETEX", "k") is None


def test_getex_with_a_past_deadline_deletes_the_key(client, db, server, stats):
    client.call("SET", "k", "v")
    assert client.call("GETEX", "k", "EXAT", "1") == b"v"
    assert not db.exists(b"k")
    client.call("SET", "k", "v")
    assert client.call("GETEX", "k", "PXAT", now_ms(server)) == b"v"
    assert not db.exists(b"k")
    assert stats.expired_keys == 0


@pytest.mark.parametrize("options", [
    ("PERSIST", "EX", "1"), ("EX", "1", "PERSIST"), ("EX", "1", "PX", "1"), ("NX",), ("XX",),
    ("GET",), ("KEEPTTL",), ("EX",), ("bogus",),
])
def test_getex_syntax_errors(client, options):
    client.call("SET", "k", "v")
    assert error(client.call("GETEX", "k", *options)) == SYNTAX
    assert error(client.call("GETEX", "missing", *options)) == SYNTAX


def test_getex_value_errors(client, db):
    client.call("SET", "k", "v")
    assert error(client.call("GETEX", "k", "EX", "0")) == (
        "ERR invalid expire time in 'getex' command")
    assert error(client.call("GETEX", "k", "PX", "x")) == NOT_INTEGER
    # A missing key answers null before the expire value is looked at.
    assert client.call("GETEX", "missing", "EX", "0") is None
    make_list(db)
    assert error(client.call("GETEX", "list", "EX", "0")) == WRONGTYPE


# -- MGET, MSET, MSETNX --------------------------------------------------------


def test_mget(client, db):
    client.call("MSET", "a", "1", "b", "2")
    make_list(db)
    assert client.call("MGET", "a", "missing", "list", "b") == [b"1", None, None, b"2"]


def test_mset_drops_ttls_and_last_duplicate_wins(client, db):
    client.call("SET", "a", "0", "EX", "100")
    assert client.call("MSET", "a", "1", "a", "2") == b"OK"
    assert client.call("GET", "a") == b"2"
    assert db.get_expire(b"a") is None


@pytest.mark.parametrize("name", ["MSET", "MSETNX"])
def test_mset_odd_arguments(client, name):
    assert error(client.call(name, "a", "1", "b")) == (
        f"ERR wrong number of arguments for '{name.lower()}' command")
    assert client.call("GET", "a") is None


def test_msetnx_is_all_or_nothing(client, db):
    assert client.call("MSETNX", "a", "1", "b", "2") == 1
    assert client.call("MSETNX", "b", "x", "c", "3") == 0
    assert client.call("MGET", "a", "b", "c") == [b"1", b"2", None]
    make_list(db)
    assert client.call("MSETNX", "list", "1") == 0


# -- APPEND, STRLEN, GETRANGE, SETRANGE ----------------------------------------


def test_append_and_strlen(client, db, server):
    assert client.call("APPEND", "k", "Hello") == 5
    db.set_expire(b"k", now_ms(server) + 100_000)
    assert client.call("APPEND", "k", " World") == 11
    assert db.get_expire(b"k") == now_ms(server) + 100_000
    assert client.call("GET", "k") == b"Hello World"
    assert client.call("STRLEN", "k") == 11
    assert client.call("STRLEN", "missing") == 0
    assert client.call("APPEND", "empty", "") == 0
    assert client.call("GET", "empty") == b""
    make_list(db)
    assert error(client.call("APPEND", "list", "x")) == WRONGTYPE
    assert error(client.call("STRLEN", "list")) == WRONGTYPE


def test_append_and_setrange_respect_proto_max_bulk_len():
    server = FakeServer(maxkeys=0, proto_max_bulk_len=10)
    client = server.client()
    client.call("SET", "k", "12345")
    too_big = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    assert error(client.call("APPEND", "k", "123456")) == too_big
    assert client.call("APPEND", "k", "12345") == 10
    assert error(client.call("SETRANGE", "k", "10", "x")) == too_big
    assert error(client.call("SETRANGE", "new", "9", "xy")) == too_big
    assert client.call("SETRANGE", "new", "8", "xy") == 10
    assert error(client.call("SETRANGE", "k", "999999999", "x")) == too_big


@pytest.mark.parametrize("start, end, expected", [
    (0, 4, b"Hello"), (-5, -1, b"World"), (0, -1, b"Hello, World"), (-1, -5, b""),
    (5, 3, b""), (-100, 100, b"Hello, World"), (100, 200, b""), (11, 11, b"d"),
    (-100, -50, b"H"), (0, -100, b"H"), (2**63 - 1, -(2**63), b""),
    (-(2**63), 2**63 - 1, b"Hello, World"),
])
def test_getrange(client, start, end, expected):
    client.call("SET", "s", "Hello, World")
    assert client.call("GETRANGE", "s", start, end) == expected
    assert client.call("SUBSTR", "s", start, end) == expected


def test_getrange_edges(client, db):
    assert client.call("GETRANGE", "missing", 0, -1) == b""
    client.call("SET", "e", "")
    assert client.call("GETRANGE", "e", 0, -1) == b""
    assert error(client.call("GETRANGE", "e", "a", 1)) == NOT_INTEGER
    make_list(db)
    assert error(client.call("GETRANGE", "list", 0, 1)) == WRONGTYPE
    # Numbers are parsed before the key is looked at.
    assert error(client.call("GETRANGE", "list", 0, "x")) == NOT_INTEGER


def test_setrange(client, db, server):
    client.call("SET", "s", "Hello World")
    db.set_expire(b"s", now_ms(server) + 5000)
    assert client.call("SETRANGE", "s", 6, "Redis") == 11
    assert client.call("GET", "s") == b"Hello Redis"
    assert client.call("SETRANGE", "s", 13, "!") == 14
    assert client.call("GET", "s") == b"Hello Redis\x00\x00!"
    assert db.get_expire(b"s") == now_ms(server) + 5000
    assert client.call("SETRANGE", "s", 0, "") == 14
    assert client.call("SETRANGE", "pad", 3, "ab") == 5
    assert client.call("GET", "pad") == b"\x00\x00\x00ab"
    assert client.call("SETRANGE", "nothing", 5, "") == 0
    assert not db.exists(b"nothing")


def test_setrange_errors(client, db):
    assert error(client.call("SETRANGE", "s", -1, "x")) == "ERR offset is out of range"
    assert error(client.call("SETRANGE", "s", "x", "x")) == NOT_INTEGER
    make_list(db)
    assert error(client.call("SETRANGE", "list", 0, "x")) == WRONGTYPE
    assert error(client.call("SETRANGE", "list", 0, "")) == WRONGTYPE
    assert error(client.call("SETRANGE", "list", -1, "x")) == "ERR offset is out of range"


# -- counters ------------------------------------------------------------------


def test_incr_family(client):
    assert client.call("INCR", "c") == 1
    assert client.call("INCRBY", "c", 41) == 42
    assert client.call("DECR", "c") == 41
    assert client.call("DECRBY", "c", 50) == -9
    assert client.call("INCRBY", "c", -1) == -10
    assert client.call("GET", "c") == b"-10"


def test_counters_keep_the_ttl(client, db, server):
    client.call("SET", "c", "1", "EX", "100")
    deadline = db.get_expire(b"c")
    client.call("INCR", "c")
    client.call("INCRBYFLOAT", "c", "0.5")
    assert db.get_expire(b"c") == deadline
    assert client.call("GET", "c") == b"2.5"


@pytest.mark.parametrize("value", ["abc", "", " 1", "1 ", "+1", "01", "-0", "1.0", "1e3",
                                   "9223372036854775808", "99999999999999999999"])
def test_incr_of_a_non_integer(client, value):
    client.call("SET", "c", value)
    assert error(client.call("INCR", "c")) == NOT_INTEGER
    assert client.call("GET", "c") == value.encode()


def test_overflow(client):
    overflow = "ERR increment or decrement would overflow"
    client.call("SET", "c", str(2**63 - 1))
    assert error(client.call("INCR", "c")) == overflow
    assert error(client.call("INCRBY", "c", 2**63 - 1)) == overflow
    client.call("SET", "c", str(-(2**63)))
    assert error(client.call("DECR", "c")) == overflow
    assert error(client.call("DECRBY", "c", 1)) == overflow
    assert client.call("INCRBY", "c", 2**63 - 1) == -1
    assert error(client.call("DECRBY", "c", -(2**63))) == "ERR decrement would overflow"
    assert error(client.call("INCRBY", "c", 2**63)) == NOT_INTEGER


def test_counter_wrongtype_and_argument_order(client, db):
    make_list(db)
    assert error(client.call("INCR", "list")) == WRONGTYPE
    assert error(client.call("INCRBY", "list", "x")) == NOT_INTEGER
    assert error(client.call("INCRBYFLOAT", "list", "x")) == WRONGTYPE


@pytest.mark.parametrize("start, increment, expected", [
    (None, "10.5", b"10.5"),
    ("3.0e3", "0", b"3000"),
    ("0.1", "0.2", b"0.3"),
    ("10.50", "0.1", b"10.6"),
    ("5", "-5", b"0"),
    (None, "5.0e3", b"5000"),
    (None, "1e20", b"100000000000000000000"),
    (None, "1e-20", b"0"),
    (None, "-0.000000000000000001", b"0"),
    (None, "0.000003814697265625", b"0.00000381469726562"),
    (None, "1.23456789012345678901234", b"1.23456789012345679"),
    ("1.5", "1e18", b"1000000000000000001.5"),
    (None, "0x10", b"16"),
    (None, ".5", b"0.5"),
    (None, "-.5e1", b"-5"),
    (None, "+5", b"5"),
    ("7", "inf", None),
    ("inf", "1", None),
    ("1.18e4932", "1.18e4932", None),
])
def test_incrbyfloat(client, start, increment, expected):
    if start is not None:
        client.call("SET", "f", start)
    reply = client.call("INCRBYFLOAT", "f", increment)
    if expected is None:
        assert error(reply) == "ERR increment would produce NaN or Infinity"
    else:
        assert reply == expected
        assert client.call("GET", "f") == expected


def test_incrbyfloat_prints_big_values_without_exponent(client):
    client.call("SET", "f", "0.3")
    # Redis 7.0's reply, digit for digit: the long double nearest 1e300 + 0.3.
    assert client.call("INCRBYFLOAT", "f", "1e300") == (
        b"1000000000000000000008997324079559193870523944273290747938260082321265646596"
        b"1809357558491520837504971903503725086142748359035925561846729839130962605207"
        b"4864628732713564184365329408425510760601678972665293237003055138294762099454"
        b"0294772781889620606179267611627097410650567187386105690089424915104006144")


@pytest.mark.parametrize("value", ["abc", "", " 1", "1 ", "nan", "1e", "0x", "1e5000",
                                   "1e-5000", "1" * 6000, "1\x00"])
def test_incrbyfloat_not_a_float(client, value):
    assert error(client.call("INCRBYFLOAT", "f", value)) == NOT_FLOAT
    client.call("SET", "g", value)
    assert error(client.call("INCRBYFLOAT", "g", "1")) == NOT_FLOAT


def test_long_double_rounding_and_limits():
    assert parse_long_double(b"0.5") == Fraction(1, 2)
    # 0.1 rounds to the 64-bit significand, not to a double's 53 bits.
    tenth = parse_long_double(b"0.1")
    assert tenth != Fraction(0.1)
    assert abs(tenth - Fraction(1, 10)) < Fraction(1, 2**67)
    assert parse_long_double(b"-inf") == float("-inf")
    assert parse_long_double(b"4e-4951") == Fraction(1, 2**16445)
    with pytest.raises(CommandError):
        parse_long_double(b"1e-4951")
    assert format_long_double(Fraction(-1, 10**18)) == b"0"
    assert format_long_double(Fraction(25, 10**18)) == b"0.00000000000000002"
    assert format_long_double(Fraction(35, 10**18)) == b"0.00000000000000004"
    assert format_long_double(Fraction(-7, 2)) == b"-3.5"
    assert format_long_double(Fraction(10**4500)) == b"1" + b"0" * 4500


# -- LCS -------------------------------------------------------------------------


def test_lcs(client, db):
    client.call("MSET", "a", "ohmytext", "b", "mynewtext")
    assert client.call("LCS", "a", "b") == b"mytext"
    assert client.call("LCS", "a", "b", "LEN") == 6
    assert client.call("LCS", "a", "b", "IDX") == [
        b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]
    assert client.call("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == [
        b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]
    assert client.call("LCS", "a", "missing") == b""
    assert error(client.call("LCS", "a", "b", "IDX", "LEN")) == (
        "ERR If you want both the length and indexes, please just use IDX.")
    assert error(client.call("LCS", "a", "b", "MINMATCHLEN")) == SYNTAX
    make_list(db)
    assert error(client.call("LCS", "a", "list", "bogus")) == (
        "ERR The specified keys must contain string values")


def test_lcs_idx_is_a_map_in_resp3(client):
    client.call("MSET", "a", "abc", "b", "abc")
    client.call("HELLO", "3")
    client.raw()
    client.send_raw(b"*4\r\n$3\r\nLCS\r\n$1\r\na\r\n$1\r\nb\r\n$3\r\nIDX\r\n")
    assert client.raw().startswith(b"%2\r\n$7\r\nmatches\r\n*1\r\n")


def test_lcs_refuses_tables_bigger_than_proto_max_bulk_len():
    client = FakeServer(maxkeys=0, proto_max_bulk_len=1000).client()
    client.call("MSET", "a", "x" * 20, "b", "y" * 20)
    assert error(client.call("LCS", "a", "b")) == (
        "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")


# -- keyspace statistics -------------------------------------------------------


@pytest.mark.parametrize("args, hits, misses", [
    (("GET", "k"), 1, 0),
    (("GET", "nope"), 0, 1),
    (("GET", "list"), 1, 0),
    (("SET", "k", "v", "GET"), 1, 0),
    (("SET", "k", "v", "NX"), 0, 0),
    (("GETSET", "nope", "v"), 0, 1),
    (("GETDEL", "k"), 1, 0),
    (("GETEX", "nope"), 0, 1),
    (("STRLEN", "k"), 1, 0),
    (("GETRANGE", "nope", 0, 1), 0, 1),
    (("MGET", "k", "nope", "list"), 2, 1),
    (("LCS", "k", "nope"), 1, 1),
    (("APPEND", "k", "x"), 0, 0),
    (("INCR", "i"), 0, 0),
    (("INCRBYFLOAT", "i", "1"), 0, 0),
    (("SETRANGE", "k", 0, "a"), 0, 0),
    (("MSETNX", "k", "1"), 0, 0),
])
def test_keyspace_hits_and_misses(client, db, stats, args, hits, misses):
    client.call("SET", "k", "v")
    make_list(db)
    stats.keyspace_hits = stats.keyspace_misses = 0
    client.call(*args)
    assert (stats.keyspace_hits, stats.keyspace_misses) == (hits, misses)


# -- the table -------------------------------------------------------------------


@pytest.mark.parametrize("name, arity, flags, keys", [
    ("get", 2, ("readonly", "fast"), (1, 1, 1)),
    ("set", -3, ("write", "denyoom"), (1, 1, 1)),
    ("getex", -2, ("write", "fast"), (1, 1, 1)),
    ("mget", -2, ("readonly", "fast"), (1, -1, 1)),
    ("mset", -3, ("write", "denyoom"), (1, -1, 2)),
    ("msetnx", -3, ("write", "denyoom"), (1, -1, 2)),
    ("getrange", 4, ("readonly",), (1, 1, 1)),
    ("lcs", -3, ("readonly",), (1, 2, 1)),
])
def test_command_metadata(name, arity, flags, keys):
    cmd = lookup(name.encode())
    assert (cmd.arity, cmd.flags, (cmd.first_key, cmd.last_key, cmd.key_step)) == (
        arity, flags, keys)
