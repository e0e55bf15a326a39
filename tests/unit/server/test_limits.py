"""Request limits, back-pressure and output-buffer limits (issue 6).

Boundaries were measured against Redis 7.0.15: a ``*N`` count up to INT_MAX
is accepted, a bulk of exactly proto-max-bulk-len is accepted and one byte
more refused, an unterminated inline request of exactly 64 KiB is kept and
one byte more refused; client-query-buffer-limit closes without a reply.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
import redis
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport

from hush.data.store import Stats
from hush.ops.info import render
from hush.server.protocol import RedisProtocol
from tests.support import FakeServer, encode_command, start_hush

MB = 1024 * 1024



def _texts(events: list[dict[str, Any]]) -> str:
    from twisted.logger import formatEvent

    return "\n".join(formatEvent(event) for event in events)


# -- request limits -----------------------------------------------------------


@pytest.mark.parametrize("length, refused", [
    (512 * MB, False),
    (512 * MB + 1, True),
])
def test_proto_max_bulk_len_default_boundary(length, refused):
    client = FakeServer().client()
    client.send_raw(b"*1\r\n$%d\r\n" % length)
    if refused:
        assert client.raw() == b"-ERR Protocol error: invalid bulk length\r\n"
        assert client.closed
    else:
        assert client.raw() == b"" and not client.closed
        # Only the header is held, not 512 MiB.
        assert client.protocol.parser.buffered == 0


def test_proto_max_bulk_len_is_configurable():
    client = FakeServer(proto_max_bulk_len=10).client()
    assert client.call("SET", "k", "x" * 10) == b"OK"
    client.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$11\r\n")
    assert client.raw() == b"-ERR Protocol error: invalid bulk length\r\n"
    assert client.closed


@pytest.mark.parametrize("count, refused", [
    (1024 * 1024, False),
    (1024 * 1024 + 1, False),
    (2**31 - 1, False),
    (2**31, True),
])
def test_multibulk_count_boundary(count, refused):
    client = FakeServer().client()
    client.send_raw(b"*%d\r\n" % count)
    if refused:
        assert client.raw() == b"-ERR Protocol error: invalid multibulk length\r\n"
        assert client.closed
    else:
        assert client.raw() == b"" and not client.closed


def test_inline_request_boundary():
    client = FakeServer().client()
    client.send_raw(b"a" * (64 * 1024))
    assert client.raw() == b"" and not client.closed
    client.send_raw(b"a")
    assert client.raw() == b"-ERR Protocol error: too big inline request\r\n"
    assert client.closed


def test_a_long_inline_line_with_its_newline_is_a_command():
    client = FakeServer().client()
    client.send_raw(b"a" * (64 * 1024 + 10) + b"\r\n")
    assert client.raw().startswith(b"-ERR unknown command 'aaaa")
    assert not client.closed


def test_query_buffer_limit_closes_without_a_reply(logged):
    server = FakeServer(client_query_buffer_limit=1000)
    client, other = server.client(1), server.client(2)
    client.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5000\r\n")
    client.send_raw(b"x" * 900)
    assert not client.closed
    client.send_raw(b"x" * 200)
    assert client.raw() == b""
    assert client.closed
    assert client.protocol.parser.buffered == 0
    assert server.service.store.stats.client_query_buffer_limit_disconnections == 1
    assert "Closing client that reached max query buffer length: id=1 " in _texts(logged)
    assert other.call("PING") == b"PONG"


def test_query_buffer_counts_arguments_already_parsed():
    server = FakeServer(client_query_buffer_limit=1000)
    client = server.client()
    client.send_raw(b"*3\r\n$3\r\nSET\r\n$600\r\n" + b"k" * 600 + b"\r\n$600\r\n")
    assert not client.closed
    client.send_raw(b"v" * 450)
    assert client.closed


def test_complete_requests_before_the_overflow_are_answered():
    server = FakeServer(client_query_buffer_limit=100)
    client = server.client()
    client.send_raw(b"PING\r\n*2\r\n$4\r\nECHO\r\n$500\r\n" + b"x" * 200)
    assert client.raw() == b"+PONG\r\n"
    assert client.closed


def test_an_inline_request_counts_too():
    server = FakeServer(client_query_buffer_limit=100)
    client = server.client()
    client.send_raw(b"PING " + b"x" * 50)
    assert not client.closed
    client.send_raw(b"x" * 50)
    assert client.closed and client.raw() == b""


def test_requests_pipelined_while_blocked_count_towards_the_limit():
    server = FakeServer(client_query_buffer_limit=1000)
    client, other = server.client(1), server.client(2)
    client.send_raw(encode_command("BLPOP", "q", "0"))
    client.send_raw(encode_command("ECHO", "x" * 400))
    client.send_raw(encode_command("ECHO", "x" * 400))
    assert not client.closed
    client.send_raw(encode_command("ECHO", "x" * 400))
    assert client.closed
    assert server.service.blocking.blocked_clients == 0
    assert other.call("LPUSH", "q", "a") == 1
    assert other.call("LLEN", "q") == 1


def test_pipelined_requests_run_after_a_wake_up_reset_the_count():
    server = FakeServer(client_query_buffer_limit=1000)
    client, other = server.client(1), server.client(2)
    client.send_raw(encode_command("BLPOP", "q", "0"))
    client.send_raw(encode_command("ECHO", "x" * 600))
    other.call("LPUSH", "q", "a")
    assert len(client.replies()) == 2
    client.send_raw(encode_command("BLPOP", "q", "0"))
    client.send_raw(encode_command("ECHO", "x" * 600))
    assert not client.closed


# -- a transport whose buffer fills and drains as Twisted's does ---------------


class SlowTransport(StringTransport):
    """StringTransport that keeps what is written until drain(), like a full socket.

    It mimics twisted.internet.abstract.FileDescriptor: pending_output() reads
    ``_tempDataLen``, and a registered streaming producer is paused when the
    buffer passes ``bufferSize`` and resumed when it drains.
    """

    bufferSize = 64 * 1024

    def __init__(self) -> None:
        # A loopback peer: StringTransport's default (192.168.1.1) is a remote
        # host, which protected mode turns away.
        super().__init__(peerAddress=IPv4Address("TCP", "127.0.0.1", 40000))
        self.paused_by_buffer = False

    @property
    def _tempDataLen(self) -> int:
        return len(self.io.getvalue())

    def write(self, data: bytes) -> None:
        super().write(data)
        if (self.producer is not None and self.streaming and not self.paused_by_buffer
                and self._tempDataLen > self.bufferSize):
            self.paused_by_buffer = True
            self.producer.pauseProducing()

    def drain(self) -> bytes:
        data = self.value()
        self.clear()
        if self.producer is not None and self.paused_by_buffer:
            self.paused_by_buffer = False
            self.producer.resumeProducing()
        return data


def _slow_client(server: FakeServer) -> tuple[RedisProtocol, SlowTransport]:
    protocol = server.factory.buildProtocol(None)
    transport = SlowTransport()
    protocol.makeConnection(transport)
    return protocol, transport


def test_the_protocol_is_its_transports_streaming_producer():
    protocol, transport = _slow_client(FakeServer())
    assert transport.producer is protocol and transport.streaming


def test_unsent_replies_pause_reading_until_drained():
    server = FakeServer()
    protocol, transport = _slow_client(server)
    protocol.dataReceived(encode_command("SET", "big", "x" * 40_000))
    protocol.dataReceived(encode_command("GET", "big"))
    assert transport.producerState == "producing"
    protocol.dataReceived(encode_command("GET", "big"))
    assert transport.producerState == "paused"
    assert protocol.pending_output() > 64 * 1024
    transport.drain()
    assert transport.producerState == "producing"


def test_a_close_is_not_held_back_by_a_paused_producer():
    protocol, transport = _slow_client(FakeServer())
    protocol.dataReceived(encode_command("SET", "big", "x" * 70_000))
    protocol.dataReceived(encode_command("GET", "big"))
    assert transport.producerState == "paused"
    protocol.dataReceived(b"QUIT\r\n")
    assert transport.disconnecting
    assert transport.producer is None


def test_normal_clients_have_no_output_limit_by_default():
    server = FakeServer()
    protocol, transport = _slow_client(server)
    protocol.dataReceived(encode_command("SET", "big", "x" * (2 * MB)))
    for _ in range(20):
        protocol.dataReceived(encode_command("GET", "big"))
    assert not transport.disconnecting
    assert protocol.pending_output() > 40 * MB


def test_normal_client_over_the_hard_limit_is_disconnected(logged):
    server = FakeServer(client_output_buffer_limit="normal 1000 0 0 pubsub 32mb 8mb 60")
    protocol, transport = _slow_client(server)
    protocol.dataReceived(encode_command("SET", "v", "x" * 900))
    protocol.dataReceived(encode_command("GET", "v"))
    assert not transport.disconnecting
    protocol.dataReceived(encode_command("GET", "v"))
    assert transport.disconnecting
    assert server.service.store.stats.client_output_buffer_limit_disconnections == 1
    assert "scheduled to be closed ASAP for overcoming of output buffer limits" in _texts(logged)
    # Nothing more is read from it.
    protocol.dataReceived(encode_command("SET", "after", "1"))
    assert server.service.store.dbs[0].get(b"after") is None


def test_normal_client_over_the_soft_limit_for_too_long():
    server = FakeServer(client_output_buffer_limit="normal 0 500 10 pubsub 32mb 8mb 60")
    protocol, transport = _slow_client(server)
    protocol.dataReceived(encode_command("SET", "v", "x" * 600))
    protocol.dataReceived(encode_command("GET", "v"))
    server.clock.advance(9)
    protocol.dataReceived(encode_command("GET", "v"))
    assert not transport.disconnecting
    server.clock.advance(1)
    protocol.dataReceived(encode_command("GET", "v"))
    assert transport.disconnecting


def test_draining_below_the_soft_limit_restarts_its_clock():
    server = FakeServer(client_output_buffer_limit="normal 0 500 10")
    protocol, transport = _slow_client(server)
    protocol.dataReceived(encode_command("SET", "v", "x" * 600))
    protocol.dataReceived(encode_command("GET", "v"))
    server.clock.advance(9)
    transport.drain()
    protocol.dataReceived(encode_command("SET", "small", "1"))
    server.clock.advance(5)
    protocol.dataReceived(encode_command("GET", "v"))
    server.clock.advance(5)
    protocol.dataReceived(encode_command("GET", "v"))
    assert not transport.disconnecting


def test_output_limit_sizes_accept_units():
    server = FakeServer(client_output_buffer_limit="normal 1mb 64kb 60 pubsub 32mb 8mb 60")
    assert server.settings.output_limit("normal") == (MB, 64 * 1024, 60)
    assert server.settings.output_limit("pubsub") == (32 * MB, 8 * MB, 60)
    assert FakeServer().settings.output_limit("normal") == (0, 0, 0)


def test_subscribers_use_the_pubsub_class():
    server = FakeServer(client_output_buffer_limit="normal 0 0 0 pubsub 1000 0 0")
    protocol, transport = _slow_client(server)
    publisher = server.client(2)
    protocol.dataReceived(encode_command("SUBSCRIBE", "c"))
    publisher.call("PUBLISH", "c", "x" * 500)
    assert not transport.disconnecting
    publisher.call("PUBLISH", "c", "x" * 500)
    assert transport.disconnecting
    assert server.service.store.stats.client_output_buffer_limit_disconnections == 1
    protocol.connectionLost(None)
    assert server.service.pubsub.channels == {}


def test_info_stats_counts_limit_disconnections():
    server = FakeServer(client_query_buffer_limit=10)
    server.client().send_raw(b"*1\r\n$100\r\n" + b"x" * 20)
    text = render(server.service, [b"stats"], 6379).decode()
    assert "client_query_buffer_limit_disconnections:1\r\n" in text
    assert "client_output_buffer_limit_disconnections:0\r\n" in text
    assert "client_query_buffer_limit_disconnections" in Stats.__slots__


# -- end to end ----------------------------------------------------------------


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_e2e_limits_and_back_pressure():
    server = start_hush()
    try:
        r = redis.Redis(port=server.port)
        # A declared bulk over proto-max-bulk-len is refused on its header.
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"*1\r\n$%d\r\n" % (512 * MB + 1))
            assert sock.recv(100) == b"-ERR Protocol error: invalid bulk length\r\n"
            assert sock.recv(100) == b""
        # A client that pipelines GETs without reading: the server stops
        # reading from it instead of buffering every reply.
        value = b"v" * 300
        r.set("k", value)
        before = _rss(server.pid)
        request = b"GET k\r\n" * 10_000
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.setblocking(False)
        sent = 0
        deadline = time.monotonic() + 3
        progress = time.monotonic()
        # Until the server stops taking requests for half a second.
        while time.monotonic() < deadline and sent < 400 * len(request):
            try:
                sent += sock.send(request[sent % len(request):])
                progress = time.monotonic()
            except BlockingIOError:
                if time.monotonic() - progress > 0.5:
                    break
                time.sleep(0.01)
        # 4 million requests would be 1.2 GiB of replies: the sender was
        # stopped once the kernel's socket buffers filled.
        assert sent < 400 * len(request)
        assert r.ping()
        grown = _rss(server.pid) - before
        assert grown < 100 * MB, grown
        # Reading resumes it: every request sent gets its reply.
        sock.setblocking(True)
        sock.settimeout(20)
        expected = (sent // 7) * len(b"$300\r\n%s\r\n" % value)
        received = 0
        while received < expected:
            chunk = sock.recv(1 << 20)
            assert chunk
            received += len(chunk)
        assert received == expected
        sock.close()
        assert r.info("stats")["client_query_buffer_limit_disconnections"] == 0
    finally:
        server.stop()


def test_changed_limits_apply_to_connected_clients():
    server = FakeServer()
    client = server.client()
    server.settings.proto_max_bulk_len = 5
    server.settings.client_query_buffer_limit = 50
    for session in server.service.clients.values():
        session.connection.apply_limits()
    client.send_raw(b"*1\r\n$6\r\n")
    assert client.raw() == b"-ERR Protocol error: invalid bulk length\r\n"
    other = server.client(2)
    other.send_raw(b"PING " + b"x" * 60)
    assert other.closed and other.raw() == b""


def test_reading_is_paused_beneath_a_tls_wrapper():
    from hush.server.protocol import _read_control

    class Wrapper:  # like TLSMemoryBIOProtocol: a transport without pauseProducing
        def __init__(self, inner):
            self.transport = inner

    inner = StringTransport()
    assert _read_control(inner) is inner
    assert _read_control(Wrapper(inner)) is inner
    assert _read_control(Wrapper(None)) is None
