"""The speed-oriented paths give the same bytes as the plain ones.

Covers the hiredis fast path of :class:`hush.wire.parser.FastParser` (it must
accept exactly what the exact parser accepts, whatever the read boundaries),
the bulk-array encoder of :mod:`hush.wire.resp`, and the direct socket send of
:meth:`hush.server.protocol.RedisProtocol._send` (replies held to the end of
the reactor's pass, partial sends, EAGAIN, a non-empty Twisted buffer).
"""

from __future__ import annotations

import random

import pytest
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from hush.wire.parser import FastParser, RequestParser
from hush.wire.resp import OK, RespSet, SimpleString, Verbatim, encode

# -- parser ----------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        # RESP types hiredis reads but Redis refuses inside a request.
        b"*2\r\n$3\r\nGET\r\n+key\r\n",
        b"*2\r\n$3\r\nGET\r\n=7\r\ntxt:key\r\n",
        b"*2\r\n$3\r\nGET\r\n(123\r\n",
        b"*2\r\n$3\r\nGET\r\n:1\r\n",
        # A RESP3 set where the next request should start: Redis reads it inline.
        b"*1\r\n$4\r\nPING\r\n~1\r\n$4\r\nPING\r\n",
        # Inline after multibulk, empty multibulk, a frame cut short.
        b"*1\r\n$4\r\nPING\r\nPING\r\n",
        b"*0\r\n*1\r\n$4\r\nPING\r\n",
        b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI",
        b"*1\r\n$4\r\nPING\r\n*1\r\n",
        # Like Redis, the two bytes after a bulk are not checked.
        b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n",
    ],
)
def test_fast_parser_agrees_with_exact_parser(data):
    assert FastParser().feed(data) == RequestParser().feed(data)


def test_fast_parser_refuses_a_set_frame_as_a_command():
    commands, error = FastParser().feed(b"*1\r\n$4\r\nPING\r\n~1\r\n$4\r\nPING\r\n")
    assert error is None
    assert commands == [[b"PING"], [b"~1"], [b"$4"], [b"PING"]]


def test_fast_parser_applies_limits():
    parser = FastParser(max_bulk_len=4, max_multibulk_len=2)
    commands, error = parser.feed(b"*1\r\n$5\r\nHELLO\r\n")
    assert commands == [] and error == "ERR Protocol error: invalid bulk length"
    parser = FastParser(max_bulk_len=4, max_multibulk_len=2)
    commands, error = parser.feed(b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n")
    assert commands == [] and error == "ERR Protocol error: invalid multibulk length"


def test_fast_parser_handles_long_arguments_and_big_reads():
    # Lengths past the framing table, and a read past one hiredis slice.
    big = b"x" * 70_000
    request = b"*2\r\n$3\r\nSET\r\n$70000\r\n" + big + b"\r\n"
    many = b"*1\r\n$4\r\nPING\r\n" * 10_000
    assert FastParser().feed(request) == ([[b"SET", big]], None)
    assert FastParser().feed(many) == ([[b"PING"]] * 10_000, None)


def _random_command(rnd: random.Random) -> bytes:
    args = [
        bytes(rnd.choice(b"ab$*\r\n+:~") for _ in range(rnd.choice([0, 1, 3, 12, 200])))
        for _ in range(rnd.randint(1, 4))
    ]
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def test_fast_parser_matches_exact_parser_on_random_streams():
    rnd = random.Random(20261127)
    for _ in range(1500):
        stream = b"".join(_random_command(rnd) for _ in range(rnd.randint(1, 20)))
        if rnd.random() < 0.3:
            # Corrupt one byte with something protocol-significant.
            at = rnd.randrange(len(stream))
            stream = stream[:at] + bytes([rnd.choice(b"+~=($*:\r\n0-")]) + stream[at + 1 :]
        cuts = sorted(rnd.sample(range(1, len(stream)), min(3, len(stream) - 1)))
        bounds = list(zip([0, *cuts], [*cuts, len(stream)], strict=True))
        fast, exact = FastParser(), RequestParser()
        got_fast: list[list[bytes]] = []
        got_exact: list[list[bytes]] = []
        for start, end in bounds:
            commands_fast, error_fast = fast.feed(stream[start:end])
            commands_exact, error_exact = exact.feed(stream[start:end])
            got_fast += commands_fast
            got_exact += commands_exact
            assert error_fast == error_exact, stream
            if error_fast:
                break
        assert got_fast == got_exact, stream


# -- reply encoding ----------------------------------------------------------


def _slow_array(items: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(items) + b"".join(b"$%d\r\n%s\r\n" % (len(i), i) for i in items)


def test_bulk_arrays_encode_as_bulk_strings():
    items = [b"", b"a", b"x" * 4095, b"y" * 4096, b"z" * 100_000] + [b"%d" % i for i in range(20)]
    assert encode(items) == _slow_array(items)
    assert encode(tuple(items[:10])) == _slow_array(items[:10])
    assert encode(RespSet(items), True).startswith(b"~25\r\n$0\r\n\r\n$1\r\na\r\n")


def test_arrays_keep_the_encoding_of_each_element_type():
    mixed = [b"a"] * 8 + [OK, 1, None, SimpleString(b"QUEUED"), Verbatim(b"hi")]
    assert encode(mixed) == (
        b"*13\r\n" + b"$1\r\na\r\n" * 8 + b"+OK\r\n:1\r\n$-1\r\n+QUEUED\r\n$2\r\nhi\r\n"
    )
    assert encode([OK] * 9) == b"*9\r\n" + b"+OK\r\n" * 9


# -- direct socket writes -------------------------------------------------------


class _BufferedTransport(StringTransport):
    """A StringTransport with the buffer attributes of a Twisted TCP connection."""

    def __init__(self) -> None:
        # A loopback peer: StringTransport's default (192.168.1.1) is a remote
        # host, which protected mode turns away.
        from twisted.internet.address import IPv4Address

        super().__init__(peerAddress=IPv4Address("TCP", "127.0.0.1", 40000))
        self._tempDataLen = 0
        self.dataBuffer = b""
        self.offset = 0
        self.connected = True
        self.disconnecting = False
        self._writeDisconnected = False
        #: The reactor the held replies are scheduled on: advance(0) ends its pass.
        self.reactor = Clock()


class _Socket:
    """Takes at most ``room`` bytes per send, or raises ``error``."""

    def __init__(self, room: int = 1 << 20, error: OSError | None = None) -> None:
        self.room = room
        self.error = error
        self.sent = b""

    def send(self, data: bytes) -> int:
        if self.error is not None:
            raise self.error
        taken = bytes(data[: self.room])
        self.sent += taken
        return len(taken)


def _connected(server, sock: _Socket) -> tuple:
    transport = _BufferedTransport()
    protocol = server.factory.buildProtocol(None)
    protocol.makeConnection(transport)
    protocol._socket = sock
    return protocol, transport


def _read(protocol, transport, data: bytes) -> None:
    """One read, then the end of the reactor's pass (when held replies go)."""
    protocol.dataReceived(data)
    transport.reactor.advance(0)


def test_direct_write_sends_straight_to_the_socket(server):
    sock = _Socket()
    protocol, transport = _connected(server, sock)
    _read(protocol, transport, b"*1\r\n$4\r\nPING\r\n")
    assert sock.sent == b"+PONG\r\n"
    assert transport.value() == b""


def test_replies_wait_for_the_end_of_the_reactors_pass(server):
    first, second = _Socket(), _Socket()
    one, transport = _connected(server, first)
    two, _ = _connected(server, second)
    one.dataReceived(b"*1\r\n$4\r\nPING\r\n")
    two.dataReceived(b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n")
    one.dataReceived(b"*2\r\n$4\r\nECHO\r\n$3\r\nbye\r\n")
    # Nothing is sent while the pass reads; then each connection's replies
    # leave in one send, in order.
    assert first.sent == second.sent == b""
    assert one.pending_output() == len(b"+PONG\r\n$3\r\nbye\r\n")
    transport.reactor.advance(0)
    assert first.sent == b"+PONG\r\n$3\r\nbye\r\n"
    assert second.sent == b"$2\r\nhi\r\n"
    assert one.pending_output() == 0


def test_a_closing_client_gets_its_held_replies_before_the_close(server):
    sock = _Socket()
    protocol, transport = _connected(server, sock)
    protocol.dataReceived(b"*1\r\n$4\r\nPING\r\n")
    protocol.dataReceived(b"*1\r\n$4\r\nQUIT\r\n")
    assert sock.sent == b"+PONG\r\n+OK\r\n"
    assert transport.disconnecting


def test_raw_sends_keep_their_place_after_held_replies(server):
    # A replica's stream is written at once (its transfer needs the transport's
    # back-pressure), after what the connection holds.
    sock = _Socket()
    protocol, transport = _connected(server, sock)
    protocol.dataReceived(b"*1\r\n$4\r\nPING\r\n")
    protocol.send_raw(b"+RAW\r\n")
    assert sock.sent == b"+PONG\r\n+RAW\r\n"


def test_partial_send_queues_the_rest_in_order(server):
    sock = _Socket(room=3)
    protocol, transport = _connected(server, sock)
    _read(protocol, transport, b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n")
    assert sock.sent == b"$5\r"
    assert transport.value() == b"\nhello\r\n"


def test_eagain_falls_back_to_the_transport(server):
    sock = _Socket(error=BlockingIOError())
    protocol, transport = _connected(server, sock)
    _read(protocol, transport, b"*1\r\n$4\r\nPING\r\n")
    assert transport.value() == b"+PONG\r\n"


def test_nothing_overtakes_bytes_already_buffered(server):
    sock = _Socket()
    protocol, transport = _connected(server, sock)
    transport._tempDataLen = 5  # Twisted still holds earlier bytes.
    _read(protocol, transport, b"*1\r\n$4\r\nPING\r\n")
    assert sock.sent == b""
    assert transport.value() == b"+PONG\r\n"


def test_test_transports_have_no_direct_socket(server):
    client = server.client()
    assert client.protocol._socket is None
    assert client.call("PING") == b"PONG"
