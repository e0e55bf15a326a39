"""The connection protocol on a StringTransport: framing, dispatch, errors, writes."""

from __future__ import annotations

import pytest
from twisted.protocols.basic import LineReceiver

from hush.commands import COMMANDS, command
from hush.wire.resp import OK
from tests.support import FakeClient, FakeServer, encode_command


class CountingClient(FakeClient):
    """A fake client that counts the protocol's transport.write calls."""

    def __init__(self, factory) -> None:
        super().__init__(factory)
        self.writes = 0
        write = self.transport.write

        def counting_write(data: bytes) -> None:
            self.writes += 1
            write(data)

        self.transport.write = counting_write


@pytest.fixture
def counting(server: FakeServer) -> CountingClient:
    return CountingClient(server.factory)


def test_pipelined_replies_come_in_one_write(counting):
    pipeline = b"".join(
        encode_command(*argv)
        for argv in [("SET", "a", "1"), ("GET", "a"), ("PING",), ("GET", "missing"), ("ECHO", "x")]
    )
    counting.send_raw(pipeline)
    assert counting.writes == 1
    assert counting.raw() == b"+OK\r\n$1\r\n1\r\n+PONG\r\n$-1\r\n$1\r\nx\r\n"


def test_inline_pipeline_in_one_write(counting):
    counting.send_raw(b"PING\r\nSET k 'a b'\r\nGET k\nECHO \"\\x41\"\r\n")
    assert counting.writes == 1
    assert counting.raw() == b"+PONG\r\n+OK\r\n$3\r\na b\r\n$1\r\nA\r\n"


# -- inline requests: LineReceiver's line mode, mixed with multibulk frames ------------


def test_inline_requests_go_through_line_mode(client, monkeypatch):
    from hush.server.protocol import RedisProtocol

    assert isinstance(client.protocol, LineReceiver)
    assert RedisProtocol.MAX_LENGTH == 64 * 1024 and RedisProtocol.delimiter == b"\n"
    lines: list[bytes] = []
    original = RedisProtocol.lineReceived

    def spy(self, line):
        lines.append(line)
        return original(self, line)

    monkeypatch.setattr(RedisProtocol, "lineReceived", spy)
    client.send_raw(b"PING\r\n" + encode_command("ECHO", "frame") + b"ECHO line\n")
    assert client.raw() == b"+PONG\r\n$5\r\nframe\r\n$4\r\nline\r\n"
    # Only the inline requests are lines; the frame went to the parser.
    assert lines == [b"PING\r", b"ECHO line"]


@pytest.mark.parametrize(
    "reads",
    [
        # One read: frame, line, frame, line.
        [encode_command("SET", "k", "v") + b"GET k\r\n" + encode_command("ECHO", "*")
         + b"ECHO '*'\r\n"],
        # The same, cut inside the line, inside the frame after it, and before a '*'.
        [encode_command("SET", "k", "v") + b"GE", b"T k\r\n*2\r\n$4\r\nEC",
         b"HO\r\n$1\r\n*\r\n", b"ECHO '*'\r\n"],
        # Byte by byte.
        [bytes([byte]) for byte in encode_command("SET", "k", "v") + b"GET k\r\n"
         + encode_command("ECHO", "*") + b"ECHO '*'\r\n"],
    ],
)
def test_reads_mixing_frames_and_inline_requests(counting, reads):
    for data in reads:
        counting.send_raw(data)
    assert counting.raw() == b"+OK\r\n$1\r\nv\r\n$1\r\n*\r\n$1\r\n*\r\n"
    assert not counting.closed
    assert counting.protocol.buffered_input == 0


def test_a_mixed_read_is_answered_in_one_write(counting):
    counting.send_raw(b"PING\r\n" + encode_command("PING") + b"PING\r\n" + encode_command("PING"))
    assert counting.writes == 1
    assert counting.raw() == b"+PONG\r\n" * 4


def test_a_partial_inline_request_counts_as_query_buffer(client):
    client.send_raw(b"ECHO hel")
    assert client.protocol.buffered_input == 8
    assert b"qbuf=8 " in client.protocol.session.execute([b"CLIENT", b"INFO"])
    client.send_raw(b"lo\r\n")
    assert client.raw() == b"$5\r\nhello\r\n"
    assert client.protocol.buffered_input == 0


def test_an_inline_request_too_long_without_newline_is_refused_across_reads(counting):
    counting.send_raw(b"ECHO " + b"x" * 40_000)
    assert counting.raw() == b"" and not counting.closed
    counting.send_raw(b"x" * 30_000)
    assert counting.raw() == b"-ERR Protocol error: too big inline request\r\n"
    assert counting.closed


def test_an_inline_request_of_exactly_the_limit_waits_for_its_newline(counting):
    counting.send_raw(b"ECHO " + b"x" * (64 * 1024 - 5))
    assert counting.raw() == b"" and not counting.closed
    counting.send_raw(b"\n")
    assert counting.raw() == b"$65531\r\n" + b"x" * (64 * 1024 - 5) + b"\r\n"


def test_a_whole_line_longer_than_the_limit_is_read(counting):
    # Redis's limit is on waiting for a newline: a line that arrives whole is
    # read whatever its length, and the requests after it too.
    long = b"x" * 70_000
    counting.send_raw(b"ECHO " + long + b"\r\nPING\r\n" + encode_command("ECHO", "y")
                      + b"ECHO " + long + b"\n" + encode_command("PING"))
    assert counting.raw() == (b"$70000\r\n" + long + b"\r\n+PONG\r\n$1\r\ny\r\n"
                              + b"$70000\r\n" + long + b"\r\n+PONG\r\n")
    assert not counting.closed


def test_errors_in_either_mode_stop_the_read(counting):
    counting.send_raw(encode_command("PING") + b"ECHO 'x\r\n" + encode_command("PING"))
    assert counting.raw() == b"+PONG\r\n-ERR Protocol error: unbalanced quotes in request\r\n"
    assert counting.closed


def test_a_frame_error_after_a_line(client):
    client.send_raw(b"PING\r\n*1\r\n$x\r\nPING\r\n")
    assert client.raw() == b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"
    assert client.closed


def test_each_read_gets_its_own_write(counting):
    counting.send_raw(encode_command("PING"))
    counting.send_raw(encode_command("PING"))
    assert counting.writes == 2


def test_partial_command_writes_nothing(counting):
    data = encode_command("ECHO", "hello")
    counting.send_raw(data[:-3])
    assert counting.writes == 0
    counting.send_raw(data[-3:])
    assert counting.raw() == b"$5\r\nhello\r\n"


@pytest.mark.parametrize(
    ("stream", "error"),
    [
        (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\n$-5\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$536870913\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\nfoo\r\n", b"-ERR Protocol error: expected '$', got 'f'\r\n"),
        (b'ECHO "abc\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
        (b"x" * (64 * 1024 + 1), b"-ERR Protocol error: too big inline request\r\n"),
    ],
)
def test_protocol_error_replies_then_closes(counting, stream, error):
    counting.send_raw(encode_command("PING") + stream)
    assert counting.writes == 1
    assert counting.raw() == b"+PONG\r\n" + error
    assert counting.closed
    # Bytes after the error are never parsed or answered.
    counting.send_raw(encode_command("PING"))
    assert counting.raw() == b""


def test_protocol_error_does_not_touch_other_clients(server):
    good, bad = server.client(1), server.client(2)
    good.call("SET", "k", "v")
    bad.send_raw(b"*1\r\n$x\r\n")
    assert bad.closed
    assert not good.closed
    assert good.call("GET", "k") == b"v"


@pytest.mark.parametrize(
    ("argv", "reply"),
    [
        ((b"foo", b"a", b"b"), b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"),
        ((b"foo",), b"-ERR unknown command 'foo', with args beginning with: \r\n"),
        ((b"foo", b""), b"-ERR unknown command 'foo', with args beginning with: '' \r\n"),
        ((b"FOO", b"x" * 200),
         b"-ERR unknown command 'FOO', with args beginning with: '" + b"x" * 128 + b"' \r\n"),
        ((b"foo", b"a" * 100, b"b" * 100, b"c"),
         b"-ERR unknown command 'foo', with args beginning with: '" + b"a" * 100 + b"' '"
         + b"b" * 25 + b"' \r\n"),
        ((b"x" * 200,),
         b"-ERR unknown command '" + b"x" * 128 + b"', with args beginning with: \r\n"),
        ((b"foo", b"a\r\nb"), b"-ERR unknown command 'foo', with args beginning with: 'a  b' \r\n"),
        ((b"get",), b"-ERR wrong number of arguments for 'get' command\r\n"),
        ((b"GET", b"a", b"b"), b"-ERR wrong number of arguments for 'get' command\r\n"),
        ((b"client",), b"-ERR wrong number of arguments for 'client' command\r\n"),
        ((b"CLIENT", b"SETNAME"), b"-ERR wrong number of arguments for 'client|setname' command\r\n"),
        ((b"client", b"foo"), b"-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n"),
    ],
)
def test_error_texts_are_byte_exact(client, argv, reply):
    client.send_raw(encode_command(*argv))
    assert client.raw() == reply
    assert not client.closed


def test_unknown_inline_command(client):
    client.send_raw(b"foo bar\r\n")
    assert client.raw() == b"-ERR unknown command 'foo', with args beginning with: 'bar' \r\n"


def test_command_names_ignore_case(client):
    for name in ("ping", "PING", "PiNg"):
        assert client.call(name) == b"PONG"


def test_errors_do_not_break_the_connection(client):
    client.send_raw(encode_command("nosuchcommand") + encode_command("GET") + encode_command("PING"))
    replies = client.replies()
    assert [type(r).__name__ for r in replies[:2]] == ["ReplyError", "ReplyError"]
    assert replies[2] == b"PONG"
    assert not client.closed


@pytest.fixture
def boom_command():
    """A test-only command whose handler fails unexpectedly; removed afterwards."""

    def boom(ctx, *args):
        raise ZeroDivisionError("unexpected")

    command("hushtestboom", arity=-1, flags=("fast",), summary="test only")(boom)
    yield
    del COMMANDS[b"hushtestboom"]
    del COMMANDS[b"HUSHTESTBOOM"]


def test_unexpected_exception_gives_an_error_and_the_connection_works(client, boom_command):
    client.send_raw(encode_command("hushtestboom", "x") + encode_command("PING"))
    raw = client.raw()
    assert raw.startswith(b"-ERR ")
    assert raw.endswith(b"\r\n+PONG\r\n")
    assert raw.count(b"\r\n") == 2
    assert not client.closed
    assert client.call("SET", "k", "v") == b"OK"
    assert client.call("GET", "k") == b"v"


def test_boom_command_is_gone_after_the_test(client):
    assert b"hushtestboom" not in COMMANDS
    assert client.call("hushtestboom").args[0].startswith("ERR unknown command")


def test_binary_safe_keys_and_values(client):
    key = b"k\x00\r\n\xff"
    value = bytes(range(256)) + b"\r\n*1\r\n$4\r\nPING\r\n"
    assert client.call(b"SET", key, value) == b"OK"
    assert client.call(b"GET", key) == value
    client.send_raw(encode_command(b"GET", key))
    assert client.raw() == b"$%d\r\n%s\r\n" % (len(value), value)


def test_empty_key_and_value(client):
    assert client.call("SET", "", "") == b"OK"
    assert client.call("GET", "") == b""


def test_resp3_after_hello(client):
    client.send_raw(encode_command("GET", "missing"))
    assert client.raw() == b"$-1\r\n"
    client.call("HELLO", "3")
    client.send_raw(encode_command("GET", "missing"))
    assert client.raw() == b"_\r\n"


def test_quit_replies_then_closes(counting):
    counting.send_raw(encode_command("PING") + encode_command("QUIT") + encode_command("PING"))
    assert counting.raw() == b"+PONG\r\n+OK\r\n"
    assert counting.closed


def test_connection_lost_unregisters_the_client(server):
    first = server.client(1)
    second = server.client(2)
    assert len(server.service.clients) == 2
    first.disconnect()
    assert list(server.service.clients) == [second.protocol.session.client_id]


def test_ok_reply_constant(client):
    # Handlers return the shared OK constant; the wire form is +OK.
    client.send_raw(encode_command("SET", "a", "b"))
    assert client.raw() == b"+OK\r\n"
    assert OK == b"OK"


def test_large_value_across_many_reads(client):
    value = b"v" * (3 * 1024 * 1024)
    data = encode_command("SET", "big", value)
    for start in range(0, len(data), 65536):
        client.send_raw(data[start : start + 65536])
    assert client.raw() == b"+OK\r\n"
    assert client.call("STRLEN", "big") == len(value)
