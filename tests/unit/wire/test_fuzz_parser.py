"""Fuzzing the request parser and the connection (issue 6).

Random bytes, and valid pipelines mutated and split at every offset: the
fast parser (hiredis in front) must agree with the exact one, the result must
not depend on how the stream is cut into reads, and a connection fed any of
it must answer or close -- never raise into the reactor, never hang with a
complete request unanswered, never disturb another client.

Deterministic (``derandomize=True``) and bounded (``max_examples``) so the
file runs in a few seconds in CI. (No ``parametrize`` with ``@given``:
pytest-twisted breaks that combination.)
"""

from __future__ import annotations

import hiredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hush.commands.dispatch import Session
from hush.wire.parser import FastParser, RequestParser
from hush.wire.resp import NO_REPLY, error_bytes
from tests.support import FakeServer, encode_command
from tests.unit.wire.feeding import damage, feed_chunks

FUZZ = settings(max_examples=150, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

_WORDS = [b"SET", b"GET", b"DEL", b"LPUSH", b"RPOP", b"LRANGE", b"HSET", b"HGETALL",
          b"ZADD", b"ZRANGE", b"INCR", b"EXPIRE", b"PING", b"ECHO", b"MULTI", b"EXEC",
          b"DISCARD", b"SUBSCRIBE", b"UNSUBSCRIBE", b"EXISTS", b"TYPE", b"k1", b"k2",
          b"0", b"1", b"-1", b"10", b"a b", b'"q"', b"", b"\r\n", b"*1", b"$3"]

_arg = st.one_of(st.sampled_from(_WORDS), st.binary(max_size=12))
_command = st.lists(_arg, min_size=1, max_size=5)


def _encode(command: list[bytes], inline: bool) -> bytes:
    if inline:
        return b" ".join(command) + b"\r\n"
    return b"*%d\r\n" % len(command) + b"".join(
        b"$%d\r\n%s\r\n" % (len(arg), arg) for arg in command)


@st.composite
def pipelines(draw) -> bytes:
    """A few commands, mostly multibulk, sometimes inline."""
    commands = draw(st.lists(_command, min_size=1, max_size=4))
    return b"".join(_encode(c, draw(st.booleans())) for c in commands)


@st.composite
def mutated(draw) -> bytes:
    """A valid pipeline with a few bytes flipped, inserted or removed."""
    return damage(draw(pipelines()), draw, least=0)


streams = st.one_of(st.binary(max_size=80), pipelines(), mutated())


@FUZZ
@given(streams)
def test_fast_and_exact_parsers_agree_in_one_read(data):
    assert feed_chunks(FastParser(), [data]) == feed_chunks(RequestParser(), [data])


@FUZZ
@given(streams)
def test_splitting_at_any_offset_changes_nothing(data):
    whole = feed_chunks(RequestParser(), [data])
    for offset in range(1, len(data)):
        chunks = [data[:offset], data[offset:]]
        assert feed_chunks(RequestParser(), chunks) == whole, offset
        assert feed_chunks(FastParser(), chunks) == whole, offset


@FUZZ
@given(streams)
def test_byte_by_byte_feeding_agrees(data):
    chunks = [data[i : i + 1] for i in range(len(data))]
    whole = feed_chunks(RequestParser(), [data])
    assert feed_chunks(FastParser(), chunks) == whole


@FUZZ
@given(streams, st.integers(0, 80))
def test_small_query_buffer_limits_agree(data, limit):
    fast = FastParser(max_query_buffer=limit)
    exact = RequestParser(max_query_buffer=limit)
    half = len(data) // 2
    assert feed_chunks(fast, [data[:half], data[half:]]) == feed_chunks(
        exact, [data[:half], data[half:]])


class _Recorder(Session):
    """A session that records its commands instead of running them."""

    __slots__ = ("ran",)

    def execute(self, argv: list[bytes]) -> object:
        self.ran.append(argv)
        return NO_REPLY

    def update_gate(self) -> None:
        # Off the connection's lean lane, which runs handlers itself.
        super().update_gate()
        self.plain = False


def _connection_parse(chunks: list[bytes]) -> tuple[list[list[bytes]], bytes]:
    """The commands a connection runs for these reads, and what it answers besides."""
    server = FakeServer()
    client = server.client()
    recorder = client.protocol.session = _Recorder(server.service, client.protocol)
    recorder.ran = []
    for chunk in chunks:
        client.send_raw(chunk)
    return recorder.ran, client.raw()


@FUZZ
@given(streams, st.integers(1, 80))
def test_a_connection_reads_requests_as_the_exact_parser(data, cut):
    # The line mode (inline requests) and the fast parser (frames) together
    # read what the exact parser alone reads, wherever the reads are cut.
    commands, error = RequestParser().feed(data)
    expected = error_bytes(error) if error is not None else b""
    assert _connection_parse([data]) == (commands, expected)
    assert _connection_parse([data[:cut], data[cut:]]) == (commands, expected)
    assert _connection_parse([data[i:i + 1] for i in range(len(data))]) == (commands, expected)


def _replies(raw: bytes) -> list:
    """Every reply in ``raw``; fails if the server wrote invalid RESP."""
    reader = hiredis.Reader()
    reader.feed(raw)
    out = []
    while (reply := reader.gets()) is not False:
        out.append(reply)
    return out


@FUZZ
@given(st.lists(streams, min_size=1, max_size=3), st.booleans())
def test_a_connection_fed_garbage_answers_or_closes(chunks, resp3):
    server = FakeServer()
    bystander = server.client(1)
    bystander.call("SET", "bystander", "safe")
    victim = server.client(2)
    if resp3:
        victim.call("HELLO", "3")
    for chunk in chunks:
        # dataReceived must never raise: Twisted would drop the connection
        # and log an unhandled error.
        victim.send_raw(chunk)
    raw = victim.raw()
    _replies(raw)
    protocol = victim.protocol
    if not victim.closed and protocol.parser.buffered == 0 and not protocol.blocked:
        # Nothing half-read and nothing blocking: a request gets an answer.
        victim.send_raw(b"PING\r\n")
        assert _replies(victim.raw()), "a complete request went unanswered"
    if victim.closed:
        # A protocol error is answered before the close.
        assert raw == b"" or raw.endswith(b"\r\n")
    victim.disconnect()
    assert bystander.call("GET", "bystander") == b"safe"
    assert bystander.call("PING") == b"PONG"
    assert server.service.blocking.blocked_clients == 0
    assert list(server.service.clients) == [bystander.protocol.session.client_id]
    assert server.service.pubsub.channels == {}


@FUZZ
@given(pipelines())
def test_valid_pipelines_get_one_reply_per_command(data):
    expected, error = RequestParser().feed(data)
    if error is not None:
        return
    server = FakeServer()
    client = server.client()
    client.send_raw(encode_command("SELECT", "1"))
    client.raw()
    for command in expected:
        # Blocking or subscribing commands change what follows, and the
        # (un)subscribing ones answer once per channel: not here.
        if command and command[0].upper() in (b"SUBSCRIBE", b"MULTI", b"UNSUBSCRIBE",
                                              b"PSUBSCRIBE", b"PUNSUBSCRIBE", b"SSUBSCRIBE",
                                              b"SUNSUBSCRIBE"):
            return
    client.send_raw(data)
    replies = _replies(client.raw())
    assert len(replies) == len(expected) or client.closed
