"""Client-side caching (CLIENT TRACKING) compared byte for byte with redis-server.

Each test drives a tracking client and a writer on both servers. After every
step the tracking client sends PING and everything it received up to the
PONG -- replies and invalidation messages -- must be the same bytes on both.
Client ids differ between the servers, so REDIRECT is sent with each
server's own id and replies naming ids are compared with the ids swapped.
"""

from __future__ import annotations

import random
import time

import pytest

from tests.differential.harness import Pair, RawConnection, parse_reply

pytestmark = pytest.mark.differential


def _is_pong(reply: bytes) -> bool:
    return reply in (b"+PONG\r\n", b"*2\r\n$4\r\npong\r\n$0\r\n\r\n")


def received(conn: RawConnection) -> list[bytes]:
    """Everything ``conn`` was sent up to the reply to a PING sent now."""
    conn.send("PING")
    frames = []
    while True:
        reply = conn.read_reply()
        if _is_pong(reply):
            return frames
        frames.append(reply)


def same_received(pair: Pair, what: object = "") -> list[bytes]:
    ours, theirs = received(pair.hush), received(pair.redis)
    assert ours == theirs, f"after {what!r}: hush {ours!r} != redis {theirs!r}"
    return ours


class Steps:
    """Runs (connection, command) steps, comparing what the tracking client got.

    A step of the tracking client reads its reply and the invalidations
    before it (pushes: RESP3 only); a step of another client is followed by
    a PING of the tracking client, unless it is in MULTI (where the PING
    would be queued: the invalidations then come with its next reply).
    """

    def __init__(self, reader: Pair) -> None:
        self.reader = reader
        self.in_multi = False

    def run(self, target: Pair, args: tuple) -> None:
        if target is not self.reader:
            target.check(*args)
            if not self.in_multi:
                same_received(self.reader, args)
            return
        ours, theirs = (_reply_and_pushes(conn, args) for conn in (target.hush, target.redis))
        assert ours == theirs, f"{args!r}: hush {ours!r} != redis {theirs!r}"
        name = args[0].upper()
        if name == "MULTI":
            self.in_multi = True
        elif name in ("EXEC", "DISCARD", "RESET"):
            self.in_multi = False


def _reply_and_pushes(conn: RawConnection, args: tuple) -> list[bytes]:
    conn.send(*args)
    frames = [conn.read_reply()]
    while frames[-1].startswith(b">"):
        frames.append(conn.read_reply())
    return frames


@pytest.fixture
def writer(hush_process, redis_process):
    """A second connection to each server (RESP2), which changes keys."""
    p = Pair(hush_process.port, redis_process.port)
    yield p
    p.close()


def ids(pair: Pair) -> tuple[int, int]:
    """The CLIENT ID of each side of ``pair``."""
    return parse_reply(pair.hush.call("CLIENT", "ID")), parse_reply(pair.redis.call("CLIENT", "ID"))


def test_errors_and_trackinginfo(pair):
    script = [
        ("CLIENT", "TRACKING"), ("CLIENT", "TRACKING", "maybe"), ("CLIENT", "TRACKING", "ON", "FOO"),
        ("CLIENT", "TRACKING", "ON", "PREFIX", "a"), ("CLIENT", "TRACKING", "ON", "REDIRECT", "x"),
        ("CLIENT", "TRACKING", "ON", "REDIRECT", "999999"),
        ("CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"),
        ("CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"), ("CLIENT", "TRACKING", "ON", "REDIRECT"),
        ("CLIENT", "CACHING", "YES"), ("CLIENT", "CACHING"), ("CLIENT", "GETREDIR"),
        ("CLIENT", "GETREDIR", "x"), ("CLIENT", "TRACKINGINFO"), ("CLIENT", "TRACKINGINFO", "x"),
        ("CLIENT", "TRACKING", "ON", "OPTIN"), ("CLIENT", "CACHING", "NO"),
        ("CLIENT", "CACHING", "maybe"), ("CLIENT", "CACHING", "YES"), ("CLIENT", "TRACKINGINFO"),
        ("CLIENT", "TRACKING", "ON", "OPTOUT"), ("CLIENT", "TRACKING", "ON", "BCAST"),
        ("CLIENT", "TRACKING", "ON", "NOLOOP"), ("CLIENT", "TRACKINGINFO"),
        ("CLIENT", "CACHING", "YES"), ("CLIENT", "GETREDIR"), ("CLIENT", "TRACKING", "OFF"),
        ("CLIENT", "TRACKINGINFO"), ("CLIENT", "TRACKING", "OFF"),
        ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "b", "PREFIX", "bc"),
        ("CLIENT", "TRACKINGINFO"), ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab"),
        ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "c"), ("CLIENT", "TRACKINGINFO"),
        ("CLIENT", "TRACKING", "ON"), ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "d", "OPTIN"),
        ("CLIENT", "TRACKING", "OFF"),
        ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "x", "PREFIX", "xy"),
        ("CLIENT", "TRACKINGINFO"), ("RESET",), ("CLIENT", "TRACKINGINFO"),
    ]
    for args in script:
        pair.check(*args)
        # An overlap after the first given prefix is an error and then OK in Redis.
        same_received(pair, args)


def test_invalidation_of_keys_read(pair, writer):
    if not pair.hush.call("HELLO").startswith(b"%"):
        pytest.skip("RESP2 clients get invalidations only through a redirect")
    pair.check("CLIENT", "TRACKING", "ON")
    steps = [
        (pair, ("GET", "a")), (pair, ("MGET", "b", "c")), (writer, ("SET", "a", "1")),
        (writer, ("MSET", "b", "1", "c", "2", "d", "3")), (writer, ("SET", "a", "2")),
        (pair, ("HGET", "h", "f")), (writer, ("HSET", "h", "f", "v")), (pair, ("EXISTS", "h")),
        (writer, ("DEL", "h")), (pair, ("GET", "a")), (pair, ("SET", "a", "mine")),
        (pair, ("GET", "a")), (pair, ("INCR", "a")), (pair, ("OBJECT", "ENCODING", "a")),
        (writer, ("EXPIRE", "a", "100")), (pair, ("GET", "a")), (writer, ("SELECT", "1")),
        (writer, ("SET", "a", "other-db")), (writer, ("SELECT", "0")), (pair, ("GET", "a")),
        (pair, ("MULTI",)), (pair, ("GET", "a")), (pair, ("SET", "a", "x")), (pair, ("EXEC",)),
        (pair, ("GET", "z")), (pair, ("FLUSHDB",)), (pair, ("GET", "z")), (writer, ("FLUSHALL",)),
        (pair, ("EVAL", "return redis.call('get', KEYS[1])", "1", "s")),
        (writer, ("SET", "s", "1")), (pair, ("EVAL_RO", "return redis.call('get', 'r')", "0")),
        (writer, ("SET", "r", "1")), (pair, ("GET", "w")), (writer, ("RPUSH", "w", "x")),
        (writer, ("SET", "w", "y")),
    ]
    runner = Steps(pair)
    for target, args in steps:
        runner.run(target, args)
    pair.check("INFO", "stats", mask=_tracking_lines)


_LIBRARY = ("#!lua name=tracked\n"
            "redis.register_function{function_name='rd', callback=function(keys) "
            "return redis.call('get', keys[1]) end, flags={'no-writes'}}\n"
            "redis.register_function('wr', function(keys) "
            "return redis.call('set', keys[1], 'f') end)")


def test_invalidation_by_bitmap_hll_geo_sort_dump_and_functions(pair, writer):
    """The families that came after tracking: their reads are remembered and
    their writes (in place, PFCOUNT's cache, STORE, RESTORE, FCALL) invalidate."""
    if not pair.hush.call("HELLO").startswith(b"%"):
        pytest.skip("RESP2 clients get invalidations only through a redirect")
    writer.run_script([("SETBIT", "b", "3", "1"), ("PFADD", "p", "x", "y"),
                       ("GEOADD", "g", "13.361389", "38.115556", "m", "15.087269", "37.502669", "n"),
                       ("RPUSH", "src", "3", "1", "2"), ("SET", "d", "v"),
                       ("FUNCTION", "LOAD", "REPLACE", _LIBRARY)])
    payload = parse_reply(writer.redis.call("DUMP", "d"))
    pair.check("CLIENT", "TRACKING", "ON")
    steps = [
        (pair, ("GETBIT", "b", "3")), (writer, ("SETBIT", "b", "4", "1")),
        (pair, ("BITCOUNT", "b")), (writer, ("BITFIELD", "b", "SET", "u8", "0", "7")),
        (pair, ("BITFIELD_RO", "b", "GET", "u8", "0")), (writer, ("BITOP", "NOT", "b", "b")),
        (pair, ("BITPOS", "b", "1")), (writer, ("SETBIT", "b", "4", "1")),
        (pair, ("PFCOUNT", "p")), (pair, ("PFCOUNT", "p")), (writer, ("PFADD", "p", "z")),
        (pair, ("PFCOUNT", "p")), (writer, ("PFMERGE", "p", "p")),
        (pair, ("GEOPOS", "g", "m")), (writer, ("GEOADD", "g", "1", "1", "o")),
        (pair, ("GEOSEARCH", "g", "FROMMEMBER", "m", "BYRADIUS", "500", "km", "ASC")),
        (writer, ("GEOSEARCHSTORE", "g", "g", "FROMMEMBER", "m", "BYRADIUS", "200", "km")),
        (pair, ("GEODIST", "g", "m", "n")), (writer, ("ZREM", "g", "n")),
        (pair, ("SORT_RO", "src")), (pair, ("LRANGE", "dst", "0", "-1")),
        (writer, ("SORT", "src", "STORE", "dst")), (writer, ("RPUSH", "src", "0")),
        (pair, ("DUMP", "d")), (writer, ("RESTORE", "d", "0", payload, "REPLACE")),
        (pair, ("FCALL_RO", "rd", "1", "f")), (writer, ("SET", "f", "1")),
        (pair, ("FCALL", "rd", "1", "f")), (writer, ("FCALL", "wr", "1", "f")),
        (pair, ("GET", "f")), (pair, ("FCALL", "wr", "1", "f")),
    ]
    runner = Steps(pair)
    for target, args in steps:
        runner.run(target, args)
    pair.check("INFO", "stats", mask=_tracking_lines)
    writer.check("FUNCTION", "DELETE", "tracked")


def _tracking_lines(_args: tuple, raw: bytes) -> bytes:
    return b"\n".join(line for line in raw.split(b"\r\n") if line.startswith(b"tracking_"))


def test_noloop_optin_optout(pair, writer):
    if not pair.hush.call("HELLO").startswith(b"%"):
        pytest.skip("RESP3 only")
    steps = [
        ("CLIENT", "TRACKING", "ON", "NOLOOP"), ("GET", "a"), ("SET", "a", "1"), ("GET", "a"),
        ("CLIENT", "TRACKING", "OFF"), ("CLIENT", "TRACKING", "ON", "OPTIN"), ("GET", "b"),
        ("CLIENT", "CACHING", "YES"), ("GET", "c"), ("GET", "d"), ("CLIENT", "CACHING", "YES"),
        ("CLIENT", "ID"), ("GET", "e"), ("CLIENT", "CACHING", "YES"), ("NOSUCHCOMMAND",),
        ("GET", "f"), ("CLIENT", "CACHING", "YES"), ("MULTI",), ("GET", "g"), ("GET", "h"),
        ("EXEC",), ("GET", "i"), ("CLIENT", "TRACKING", "OFF"),
        ("CLIENT", "TRACKING", "ON", "OPTOUT"), ("GET", "j"), ("CLIENT", "CACHING", "NO"),
        ("GET", "k"), ("GET", "l"),
    ]
    runner = Steps(pair)
    for args in steps:
        if args[0] == "CLIENT" and args[1] == "ID":
            pair.both(*args)
        else:
            runner.run(pair, args)
    for key in "abcdefghijkl":
        writer.check("SET", key, "x")
        same_received(pair, ("SET", key))


def test_redirect_to_a_resp2_subscriber(pair, writer, hush_process, redis_process):
    listener = Pair(hush_process.port, redis_process.port)
    try:
        hush_id, redis_id = ids(listener)
        listener.check("SUBSCRIBE", "__redis__:invalidate")
        assert pair.hush.call("CLIENT", "TRACKING", "ON", "REDIRECT", str(hush_id)) == b"+OK\r\n"
        assert pair.redis.call("CLIENT", "TRACKING", "ON", "REDIRECT", str(redis_id)) == b"+OK\r\n"
        assert parse_reply(pair.hush.call("CLIENT", "GETREDIR")) == hush_id
        assert parse_reply(pair.redis.call("CLIENT", "GETREDIR")) == redis_id
        for target, args in [
            (pair, ("GET", "a")), (writer, ("SET", "a", "1")), (pair, ("MGET", "a", "b")),
            (pair, ("DEL", "a", "b")), (pair, ("GET", "c")), (writer, ("FLUSHALL",)),
        ]:
            target.check(*args)
            same_received(pair, args)
            same_received(listener, args)
        # The redirect client goes away: RESP3 clients are told, once per invalidation.
        pair.check("GET", "x")
        listener.close()
        # A PING on the writer gives each server the time to see the close.
        writer.check("PING")
        writer.check("SET", "x", "1")
        ours, theirs = received(pair.hush), received(pair.redis)
        assert [frame.replace(b":%d\r\n" % hush_id, b":ID\r\n") for frame in ours] == [
            frame.replace(b":%d\r\n" % redis_id, b":ID\r\n") for frame in theirs]
        ours, theirs = (_info(raw) for raw in pair.both("CLIENT", "TRACKINGINFO"))
        assert ours[b"flags"] == theirs[b"flags"] == [b"on", b"broken_redirect"]
        assert (ours[b"redirect"], theirs[b"redirect"]) == (hush_id, redis_id)
        ours, theirs = (_flags(raw) for raw in pair.both("CLIENT", "INFO"))
        assert ours == theirs == b"flags=tR"
    finally:
        listener.close()


def _info(raw: bytes) -> dict:
    reply = parse_reply(raw)
    if isinstance(reply, list):
        reply = dict(zip(reply[::2], reply[1::2], strict=True))
    return reply


def _flags(raw: bytes) -> bytes:
    return next(field for field in parse_reply(raw).split() if field.startswith(b"flags="))


def test_broadcast_mode(pair, writer):
    if not pair.hush.call("HELLO").startswith(b"%"):
        pytest.skip("RESP3 only")
    pair.check("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "job:")
    for target, args in [
        (writer, ("SET", "user:1", "a")), (writer, ("MSET", "user:3", "x", "user:2", "y", "job:1", "z",
                                                  "other", "w")),
        (pair, ("GET", "user:1")), (writer, ("DEL", "user:1", "user:2", "job:1")),
        (pair, ("SET", "user:9", "mine")), (writer, ("FLUSHDB",)), (writer, ("SET", "nope", "1")),
        (writer, ("EXPIRE", "job:7", "1")), (writer, ("SET", "job:7", "1")),
        (writer, ("PEXPIRE", "job:7", "300")),
    ]:
        target.check(*args)
        same_received(pair, args)
    # An expiry is a change too (whether the server noticed it by itself or
    # on the GET): one invalidation either way.
    time.sleep(0.6)
    writer.check("GET", "job:7")
    same_received(pair, "expired")
    pair.check("CLIENT", "TRACKING", "OFF")
    pair.check("CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP")
    for target, args in [(pair, ("SET", "a", "1")), (writer, ("SET", "b", "1")),
                         (pair, ("MSET", "c", "1", "d", "2"))]:
        target.check(*args)
        same_received(pair, args)
    pair.check("INFO", "stats", mask=_tracking_lines)
    pair.check("INFO", "clients", mask=_tracking_lines)


def test_table_limit_counts(pair, writer):
    if not pair.hush.call("HELLO").startswith(b"%"):
        pytest.skip("RESP3 only")
    writer.check("CONFIG", "SET", "tracking-table-max-keys", "5")
    try:
        pair.check("CLIENT", "TRACKING", "ON")
        # Which keys go is random (in both): their number is not.
        for index in range(12):
            pair.check("GET", f"k{index}")
            ours, theirs = received(pair.hush), received(pair.redis)
            assert len(ours) == len(theirs) == (1 if index >= 5 else 0)
            assert ours[0].startswith(b">2\r\n$10\r\ninvalidate\r\n*1\r\n") if ours else True
            writer.check("INFO", "stats", mask=_tracking_lines)
    finally:
        writer.check("CONFIG", "SET", "tracking-table-max-keys", "1000000")


def _random_step(rng: random.Random) -> tuple[str, tuple]:
    key = rng.choice(["a", "b", "c", "h"])
    return rng.choice([
        ("reader", ("GET", key)), ("reader", ("MGET", key, rng.choice("abc"))),
        ("reader", ("EXISTS", key)), ("reader", ("STRLEN", key)), ("reader", ("TYPE", key)),
        ("reader", ("HGET", "h", "f")), ("reader", ("SET", key, "r")),
        ("reader", ("CLIENT", "CACHING", "YES")), ("reader", ("MULTI",)), ("reader", ("EXEC",)),
        ("reader", ("DEL", key)),
        ("writer", ("SET", key, str(rng.randint(0, 9)))), ("writer", ("DEL", key)),
        ("writer", ("APPEND", key, "x")), ("writer", ("HSET", "h", "f", "1")),
        ("writer", ("EXPIRE", key, "100")), ("writer", ("PERSIST", key)),
        ("writer", ("RENAME", key, rng.choice("abc"))), ("writer", ("FLUSHDB",)),
        ("writer", ("INCR", key)), ("writer", ("LPUSH", key, "x")),
    ])


@pytest.mark.parametrize("mode", [(), ("NOLOOP",), ("OPTIN",), ("OPTOUT",), ("BCAST",),
                                  ("BCAST", "PREFIX", "a", "PREFIX", "h")])
def test_random_sequences(pair, writer, mode):
    """Seeded random reads and writes of a tracking client and another client."""
    if not pair.hush.call("HELLO").startswith(b"%"):
        pytest.skip("RESP3 only")
    rng = random.Random(2024)
    pair.check("CLIENT", "TRACKING", "ON", *mode)
    runner = Steps(pair)
    for _ in range(150):
        who, args = _random_step(rng)
        runner.run(pair if who == "reader" else writer, args)
    runner.run(pair, ("EXEC",))
    pair.check("INFO", "stats", mask=_tracking_lines)
